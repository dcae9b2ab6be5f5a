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


def test_labelled_rows_stacks_images_under_a_line_of_text():
    red = np.zeros((10, 30, 3), dtype=np.uint8)
    red[..., 0] = 200
    wide = np.full((5, 80, 3), 40, dtype=np.uint8)
    image = viz.labelled_rows([("red", red, viz.PATHWAY_COLORS["fast"]), ("a wide one", wide)], font_size=12)
    assert image.dtype == np.uint8 and image.shape[1] == 80 and image.shape[0] > 15 + 2 * 12
    top = next(r for r in range(image.shape[0]) if np.array_equal(image[r, :30], red[0]))
    assert top > 0 and np.array_equal(image[top:top + 10, :30], red)  # the text sits above its image
    assert (image[:top] < 255).any()  # something was written there


def test_time_mixing_draws_one_column_per_stage_and_arrows_where_frames_mix(ax):
    stages = [("input", (3, 4, 224, 224), 1, 1), ("res3", (512, 4, 28, 28), 1, 4), ("res4", (1024, 4, 14, 14), 3, 6)]
    drawn = viz.plot_time_mixing(ax, stages, changed=[{0}, {0}, {0, 1, 2, 3}])
    assert drawn["mixing"] == ["res4"] and drawn["labels"][2] == "4x14^2\n1024 ch"
    squares = [p for p in ax.patches if type(p).__name__ == "Rectangle"]
    assert len(squares) == 3 * 4
    assert sum(abs(s.get_alpha() - 0.9) < 1e-9 for s in squares) == 1 + 1 + 4  # the frames that changed
    arrows = [p for p in ax.patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(arrows) == 4 + (4 + 2 * 3)  # res3: frame to frame; res4: also to each neighbour
    sides = sorted({round(s.get_width(), 6) for s in squares})
    assert len(sides) == 3  # the squares shrink with the frame size


def test_pathway_tensors_draws_both_pathways_to_one_scale_per_panel():
    fig, axes = plt.subplots(1, 2)
    rows = [("res2", {"slow": (256, 4, 56, 56), "fast": (32, 32, 56, 56)}),
            ("res5", {"slow": (2048, 4, 7, 7), "fast": (256, 32, 7, 7)})]
    titles = viz.plot_pathway_tensors(axes, rows, costs={"res2": 0.16, "res5": 0.12})
    assert titles == ["res2, 56x56 pixels\nFast/Slow cost 0.16", "res5, 7x7 pixels\nFast/Slow cost 0.12"]
    boxes = [(p.get_width(), p.get_height()) for p in axes[1].patches]
    assert boxes == [(4, 2048), (32, 256)]  # T frames wide, C channels high
    plt.close(fig)


def test_lateral_shapes_share_one_scale():
    from matplotlib.figure import Figure

    tconv = {"slow": (64, 4, 56, 56), "fast": (8, 32, 56, 56), "lateral": (16, 4, 56, 56), "fused": (80, 4, 56, 56)}
    concat = {"slow": (64, 4, 56, 56), "fast": (8, 32, 56, 56), "lateral": (64, 4, 56, 56), "fused": (128, 4, 56, 56)}
    scale = viz.lateral_shapes_scale(tconv, concat)
    assert scale == (32, 128)
    heights = []
    for shapes in (tconv, concat):
        ax = Figure().add_subplot()
        viz.plot_lateral_shapes(ax, shapes, "tconv", scale=scale)
        heights.append(ax.patches[1].get_height())  # the Slow box: 64 channels in both
    assert heights[0] == heights[1] == 2.4 * 64 / 128


def test_annotate_points_keeps_labels_apart_and_inside(ax):
    points = [("alpha", 1.0, 1.0, "C0"), ("beta", 1.02, 1.01, "C1"), ("gamma", 1.02, 0.99, "C2"),
              ("a long label at the edge", 3.0, 3.0, "C3")]
    ax.scatter([p[1] for p in points], [p[2] for p in points], label="points")
    ax.set_xlim(0.5, 3.05)
    ax.set_ylim(0.5, 3.1)
    ax.legend(loc="lower right")
    notes = viz.annotate_points(ax, points, avoid=[ax.get_legend()])
    assert [n.get_text() for n in notes] == [p[0] for p in points]
    assert viz.labels_overlap(ax, notes, [(p[1], p[2]) for p in points], avoid=[ax.get_legend()]) == []
    first = notes[0]
    clash = ax.annotate("alpha again", (1.0, 1.0), xytext=first.xyann, textcoords="offset points", fontsize=7.5,
                        ha=first.get_ha(), va=first.get_va())
    assert viz.labels_overlap(ax, [notes[0], clash])  # a label put on top of another is reported


def _cross(a, b, c, d):
    """Whether segments ab and cd meet (touching counts), by the signs of cross products."""
    def turn(p, q, r):
        return np.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]))

    return turn(a, b, c) != turn(a, b, d) and turn(c, d, a) != turn(c, d, b)


def _leader_crossings_and_label_overlaps(fig):
    """After a draw, in display coordinates: the pairs of labels whose leader lines meet, and those whose text
    boxes overlap (or leave the figure)."""
    import itertools

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(fig)  # a bare Figure has no renderer of its own
    canvas.draw()
    renderer = canvas.get_renderer()
    notes = fig.axes[0].texts
    leaders = []
    for note in notes:
        arrow = note.arrow_patch
        vertices = arrow.get_transform().transform_path(arrow.get_path()).vertices
        leaders.append(list(zip(vertices[:-1], vertices[1:], strict=True)))
    boxes = [Text.get_window_extent(note, renderer) for note in notes]  # the text alone, not its arrow
    crossings = [(notes[i].get_text(), notes[j].get_text())
                 for i, j in itertools.combinations(range(len(notes)), 2)
                 if any(_cross(*s, *t) for s in leaders[i] for t in leaders[j])]
    overlaps = [(notes[i].get_text(), notes[j].get_text())
                for i, j in itertools.combinations(range(len(notes)), 2) if boxes[i].overlaps(boxes[j])]
    overlaps += [(note.get_text(), "outside the figure") for note, box in zip(notes, boxes, strict=True)
                 if not fig.bbox.contains(box.x0, box.y0) or not fig.bbox.contains(box.x1, box.y1)]
    return crossings, overlaps


def test_accuracy_against_cost_leaders_never_cross_and_labels_keep_apart():
    from pathlib import Path

    from slowfast_lite.course import ablate

    committed = Path(__file__).resolve().parents[1] / "results" / "table2_quick" / "results.jsonl"
    swept = ablate.figure(ablate.read_results(committed))
    # adversarial: a cluster at one accuracy whose cost falls as accuracy rises, one whose cost rises with it,
    # and a few points far off, so the labels are pushed well away from their points both up and down
    falling = [(5 * 1.25 ** i, 70 - 0.05 * i, 1.0, f"falling {i}", "a") for i in range(10)]
    rising = [(5 * 1.25 ** i, 95 + 0.03 * i, 0.5, f"rising {i}", "b") for i in range(8)]
    apart = [(3, 40, 2.0, "cheap", "c"), (60, 99.5, 0.1, "dear", "c"), (20, 70.02, 0.0, "in the cluster", "c")]
    synthetic = viz.accuracy_against_cost(falling + rising + apart, {"a": "falling", "b": "rising", "c": "apart"},
                                          "synthetic", "groups")
    for fig, count in ((swept, len(ablate.aggregate(ablate.read_results(committed)))), (synthetic, 21)):
        assert len(fig.axes[0].texts) == count
        assert _leader_crossings_and_label_overlaps(fig) == ([], [])
        assert fig.axes[0].get_legend() is not None
