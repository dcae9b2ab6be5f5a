import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from slowfast_lite import models, viz  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_network_diagram_reads_the_model(ax):
    drawn = viz.plot_network(ax, "slowfast_r50_4x16", 224, highlight=(2,))
    assert drawn["slow"][0] == "input: 4x224^2, 3" and drawn["fast"][0] == "input: 32x224^2, 3"
    assert drawn["slow"][-1] == "res5: 4x7^2, 2048" and drawn["fast"][-1] == "res5: 32x7^2, 256"
    assert drawn["laterals"] == {1: "T-conv: +16 channels", 2: "T-conv: +64 channels", 3: "T-conv: +128 channels",
                                 4: "T-conv: +256 channels"}
    assert "2304 features" in drawn["head"] and "400" in drawn["head"]
    bold = [t for t in ax.texts if t.get_fontweight() == "bold" and "T-conv" in t.get_text()]
    assert len(bold) == 1 and "+64" in bold[0].get_text()


def test_network_diagram_follows_the_config(ax):
    drawn = viz.plot_network(ax, models.CONFIGS["slowfast_r50_8x8"].replace(fusion="tsample"), 256)
    assert drawn["slow"][2] == "res2: 8x64^2, 256" and drawn["fast"][2] == "res2: 32x64^2, 32"
    assert drawn["laterals"][1] == "T-sample: +8 channels"
    plt.cla()
    drawn = viz.plot_network(ax, "slow_r50_4x16")
    assert "fast" not in drawn and drawn["laterals"] == {} and "2048 features" in drawn["head"]
    assert not any("non-local" in t.get_text() for t in ax.texts)
    plt.cla()
    viz.plot_network(ax, "slowfast_r50_4x16_nl")
    texts = [t.get_text() for t in ax.texts]
    assert "res3\n+2 non-local" in texts and "res4\n+3 non-local" in texts


def test_pathway_cams_figure_puts_each_frame_in_the_column_of_its_moment():
    slow, fast = np.full((4, 8, 8, 3), 200, np.uint8), np.full((16, 8, 8, 3), 100, np.uint8)
    cams = [np.ones((4, 8, 8)), np.zeros((16, 8, 8))]
    fig = viz.plot_pathway_cams([slow, fast], cams, times=[[0, 5, 10, 15], list(range(16))])
    slow_row, fast_row = np.array(fig.axes).reshape(2, 16)
    assert [ax.get_title() for ax in slow_row] == [f"t={t}" for t in range(16)]
    assert [t for t, ax in enumerate(slow_row) if ax.images] == [0, 5, 10, 15]
    assert all(ax.images for ax in fast_row)
    thinned = viz.plot_pathway_cams([slow, fast], cams, times=[[0, 5, 10, 15], list(range(16))], max_columns=8)
    titles = [ax.get_title() for ax in np.array(thinned.axes).reshape(2, 8)[0]]
    assert len(titles) == 8 and {"t=0", "t=5", "t=10", "t=15"} <= set(titles)


def test_frames_read_shades_the_unread_frames(ax):
    reads = [[0, 1, 2], [6, 7, 8, 9, 10]]
    viz.plot_frames_read(ax, reads, 12, slow_positions=[0, 11], centres=[0, 8])
    assert "4 of 12" in ax.get_xlabel()  # frames 3, 4, 5 and 11
    assert len(ax.patches) == 4 + 2  # one grey span per unread frame, one bar per output frame
    assert [t.get_text() for t in ax.get_yticklabels()] == ["t=0", "t=1"]
    assert [line.get_xdata()[0] for line in ax.lines[:2]] == [0, 8]  # the kernels' centres


def test_notebooks_draw_inline_whatever_mplbackend_says(monkeypatch):
    """A kernel started with MPLBACKEND=Agg (headless servers, CI) still shows figures after use_style()."""
    nbformat = pytest.importorskip("nbformat")  # the course extra: Jupyter
    NotebookClient = pytest.importorskip("nbclient").NotebookClient

    source = ("from slowfast_lite import viz\nviz.use_style()\nimport matplotlib.pyplot as plt\n"
              "plt.plot([0, 1])\nplt.show()")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits it
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert any("image/png" in out.get("data", {}) for out in outputs), outputs
