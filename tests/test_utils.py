import pytest

from slowfast_lite import utils


def test_atomic_write_replaces_the_file_in_one_step(tmp_path):
    path = tmp_path / "sub" / "log.csv"
    with utils.atomic_write(path) as partial:
        assert partial.parent == path.parent and partial.suffix == ".csv" and partial != path
        partial.write_text("new")
        assert not path.exists()  # nothing visible before the block ends
    assert path.read_text() == "new"
    assert [p.name for p in path.parent.iterdir()] == ["log.csv"]


@pytest.mark.parametrize("fsync", [False, True])
def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, fsync):
    path = tmp_path / "history.json"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"), utils.atomic_write(path, fsync=fsync) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]
