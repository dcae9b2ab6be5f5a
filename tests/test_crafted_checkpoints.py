"""Crafted and damaged checkpoints are refused from what little they declare, before anything large is read or
built: a zip bomb from its directory, a tensor larger than its storage, a recorded configuration larger than
``CONFIG_LIMITS`` or not fitting the stored tensors. Every refusal is one CheckpointError naming the file."""

import struct
import time
import zipfile
import zlib

import pytest
import torch

from slowfast_lite import checkpoints, models
from slowfast_lite.checkpoints import CheckpointError
from slowfast_lite.models import build_model

CENTRAL, LOCAL = b"PK\x01\x02", b"PK\x03\x04"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A checkpoint as ``train.fit`` writes it: the model's configuration beside its weights."""
    import dataclasses

    model = build_model("slowfast_tiny", num_classes=3)
    path = tmp_path_factory.mktemp("tiny") / "tiny.pt"
    checkpoints.atomic_save({"model_state": model.state_dict(), "model": dataclasses.asdict(model.config),
                             "data": {}}, path)
    return path


@pytest.fixture
def nothing_read(monkeypatch):
    """Call it to fail the test if, from then on, a zip member is opened or torch.load runs: a refusal from the
    directory alone."""
    def refuse(*args, **kwargs):
        raise AssertionError("a member was read")

    def arm():
        monkeypatch.setattr(zipfile.ZipFile, "open", refuse)
        monkeypatch.setattr(torch, "load", refuse)
    return arm


@pytest.fixture
def builds(monkeypatch):
    """The devices ``build_model`` ran on (``meta``: a skeleton without memory)."""
    devices = []
    real = models.build_model

    def spy(*args, **kwargs):
        devices.append(torch.empty(0).device.type)
        return real(*args, **kwargs)
    monkeypatch.setattr(models, "build_model", spy)
    return devices


def rewrite(source, target, member_data=None, compression=zipfile.ZIP_STORED):
    """Copy a torch zip, with some members' bytes replaced ({name suffix: bytes}) and compressed as given."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", compression) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            for suffix, replacement in (member_data or {}).items():
                if info.filename.endswith(suffix):
                    data = replacement
            dst.writestr(info.filename, data)
    return target


def patch_headers(path, member, **fields):
    """Overwrite fields (``method``, ``csize``, ``usize``) of ``member``'s local and central headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, offsets in ((LOCAL, {"method": 8, "csize": 18, "usize": 22}),
                               (CENTRAL, {"method": 10, "csize": 20, "usize": 24})):
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_at = at + (30 if signature == LOCAL else 46)
            if data[name_at:name_at + len(name)] == name:
                for key, value in fields.items():
                    fmt = "<H" if key == "method" else "<I"
                    data[at + offsets[key]:at + offsets[key] + struct.calcsize(fmt)] = struct.pack(fmt, value)
            at += 4
    path.write_bytes(bytes(data))
    return path


def storage_member(path):
    with zipfile.ZipFile(path) as archive:
        return next(name for name in archive.namelist() if "/data/" in name)


def test_a_zip_bomb_is_refused_from_its_directory(tmp_path, nothing_read):
    # 64 MiB of zeros behind a storage: deflated, the file is a few hundred kB
    plain = tmp_path / "plain.pt"
    torch.save({"model_state": {"w": torch.zeros(16 << 20)}}, plain)
    bomb = rewrite(plain, tmp_path / "bomb.pt", compression=zipfile.ZIP_DEFLATED)
    plain.unlink()
    assert bomb.stat().st_size < 1 << 20
    nothing_read()
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"bomb.pt: its \d+ bytes would inflate to \d+ .*data/0"):
        checkpoints.read_file(bomb)
    assert time.perf_counter() - started < 10  # loose: the directory alone is read


def test_a_directory_that_declares_what_the_file_cannot_hold_is_refused(tiny, tmp_path, nothing_read):
    path = tmp_path / "lies.pt"
    path.write_bytes(tiny.read_bytes())
    member = storage_member(path)
    patch_headers(path, member, usize=3 << 30)  # 3 GiB from a stored member of a few bytes
    nothing_read()
    with pytest.raises(CheckpointError, match=r"lies.pt: damaged zip archive \(member .* is stored, yet"):
        checkpoints.read_file(path)


@pytest.mark.parametrize("method, words", [(99, "compressed with method 99"), (12, "compressed with method 12")])
def test_an_unknown_compression_method_is_one_line(tiny, tmp_path, method, words):
    path = tmp_path / "method.pt"
    path.write_bytes(tiny.read_bytes())
    patch_headers(path, storage_member(path), method=method)
    with pytest.raises(CheckpointError, match=words) as caught:
        checkpoints.read_file(path)
    assert "\n" not in str(caught.value)


def test_a_member_listed_twice_is_refused(tiny, tmp_path):
    path = tmp_path / "twice.pt"
    with zipfile.ZipFile(tiny) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        member = storage_member(tiny)
        with pytest.warns(UserWarning, match="Duplicate name"):
            dst.writestr(member, bytes(len(src.read(member))))
    with pytest.raises(CheckpointError, match="listed twice"):
        checkpoints.read_file(path)


def test_every_damaged_byte_of_the_central_directory_is_one_checkpoint_error(tmp_path):
    path = checkpoints.atomic_save({"model_state": {"a.weight": torch.randn(3, 4), "b.bias": torch.arange(5.0)}},
                                   tmp_path / "small.pt")
    data = path.read_bytes()
    start = data.find(CENTRAL)
    damaged_path = tmp_path / "damaged.pt"
    for at in range(start, len(data), 2):
        for value in (0x00, data[at] ^ 0x01):
            if value == data[at]:
                continue
            damaged = bytearray(data)
            damaged[at] = value
            damaged_path.write_bytes(bytes(damaged))
            try:
                state = checkpoints.read_file(damaged_path)
            except CheckpointError as err:
                assert "\n" not in str(err) and str(damaged_path) in str(err), (at, err)
                continue
            # read: the bytes changed nothing that matters, the weights are the written ones (their sha256)
            assert checkpoints.state_digest(state["model_state"]) == state[checkpoints.DIGEST_KEY], at


def test_a_tensor_larger_than_its_storage_is_refused(tmp_path, builds):
    model = build_model("slowfast_tiny", num_classes=3)
    state = dict(model.state_dict())
    # a (400000000, 128) head seen through zero strides on one float: sizing a model from it would need 200 GB
    state["head.projection.weight"] = torch.zeros(1).expand(400_000_000, 128)
    path = tmp_path / "strided.pyth"
    torch.save({"model_state": state}, path)
    with pytest.raises(CheckpointError, match=r"strided.pyth: a tensor of shape \(400000000, 128\) views only 4 bytes"):
        checkpoints.load_model(path, "slowfast_tiny")
    # the same through the sha256 this package records (computing it would copy the tensor)
    torch.save({"model_state": state, checkpoints.DIGEST_KEY: "0" * 64}, path)
    with pytest.raises(CheckpointError, match="views only 4 bytes"):
        checkpoints.read_file(path)
    assert builds == []


def recorded(tiny, tmp_path, **config):
    obj = torch.load(tiny, weights_only=True)
    obj["model"] = {**obj["model"], **config}
    path = tmp_path / "recorded.pt"
    checkpoints.atomic_save(obj, path)
    return path


def test_a_recorded_configuration_too_large_is_refused_before_building(tiny, tmp_path, builds):
    path = recorded(tiny, tmp_path, width=4096, stage_blocks=[50, 50, 50, 50])
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match=r"too large: width 4096 \(at most 1024\)"):
        checkpoints.load_model(path)
    assert time.perf_counter() - started < 10  # loose: nothing is built
    assert builds == []
    path = recorded(tiny, tmp_path, num_classes=400_000_000)
    with pytest.raises(CheckpointError, match="num_classes 400000000"):
        checkpoints.load_model(path)
    assert builds == []


def test_a_recorded_configuration_is_checked_against_the_tensors_on_the_meta_device(tiny, tmp_path, builds):
    path = recorded(tiny, tmp_path, width=64, stage_blocks=[3, 4, 6, 3])  # within bounds, not these weights
    with pytest.raises(CheckpointError, match="recorded.pt does not fit the model: its weights have 1-1-1-1 blocks "
                                              "per stage, the model 3-4-6-3"):
        checkpoints.load_model(path)
    assert builds == []  # told by the names alone
    path = recorded(tiny, tmp_path, width=64)  # the blocks fit, the widths do not
    with pytest.raises(CheckpointError, match="recorded.pt does not fit the model"):
        checkpoints.load_model(path)
    assert builds == ["meta"]  # a skeleton only: the model itself was never built
    builds.clear()
    model, _ = checkpoints.load_model(tiny)
    assert builds == ["meta", "cpu"] and model.config.num_classes == 3


@pytest.mark.parametrize("config, words", [
    ({"stage_blocks": "1111"}, "does not build here"),
    ({"nonlocal_blocks": 5}, "does not build here"),
    ({"width": "wide"}, "does not build here"),
    ({"depth": 7}, "does not build here"),
    ({"beta": [1]}, "does not build here"),
])
def test_a_malformed_recorded_configuration_is_one_line(tiny, tmp_path, builds, config, words):
    with pytest.raises(CheckpointError, match=words) as caught:
        checkpoints.load_model(recorded(tiny, tmp_path, **config))
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 400 and builds == []


def test_a_caffe2_pickle_of_object_arrays_is_refused(tmp_path):
    import pickle

    import numpy as np

    path = tmp_path / "objects.pkl"
    path.write_bytes(pickle.dumps({"blobs": {"conv1_w": np.array([{"a": 1}], dtype=object)}}, protocol=2))
    with pytest.raises(CheckpointError):
        checkpoints.read(path)


def test_zlib_is_what_deflated_members_use():  # the error type _check_archive catches for a bad stream
    with pytest.raises(zlib.error):
        zlib.decompress(b"not deflate")


def test_crafted_checkpoints_cost_little_memory(tiny, tmp_path):
    """In a fresh process: refusing a configuration that would build 9 GB of model and a head that would size
    200 GB raises the peak memory by far less than 500 MB."""
    import subprocess
    import sys

    too_large = recorded(tiny, tmp_path, width=4096, stage_blocks=[50, 50, 50, 50])
    state = dict(build_model("slowfast_tiny", num_classes=3).state_dict())
    state["head.projection.weight"] = torch.zeros(1).expand(400_000_000, 128)
    strided = tmp_path / "strided.pyth"
    torch.save({"model_state": state}, strided)
    script = f"""
import resource, sys
from slowfast_lite import checkpoints
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for path, name in (({str(too_large)!r}, None), ({str(strided)!r}, "slowfast_tiny")):
    try:
        checkpoints.load_model(path, name)
    except checkpoints.CheckpointError as error:
        print("refused:", error)
    else:
        sys.exit("loaded " + path)
print("grew_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("refused:") == 2, result.stdout
    grew_mb = int(result.stdout.split("grew_kb")[1]) / 1024
    assert grew_mb < 500, result.stdout
