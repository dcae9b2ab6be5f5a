"""The lateral-shapes explorer (widgets.LateralShapesExplorer) and its drawing (viz.plot_lateral_shapes)."""

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from slowfast_lite import viz
from slowfast_lite.course.widgets import LateralShapesExplorer, lateral_shapes


@pytest.fixture(scope="module")
def explorer():
    return LateralShapesExplorer()


@pytest.mark.parametrize("fusion, extra", [("tconv", 16), ("tsample", 8), ("ttoc_concat", 64), ("ttoc_sum", 0),
                                           ("none", 0)])
def test_lateral_shapes_after_pool1_follow_the_paper(fusion, extra):
    s = lateral_shapes("slowfast_r50_4x16", 1, 224, fusion=fusion)
    assert s["slow"] == (64, 4, 56, 56) and s["fast"] == (8, 32, 56, 56)
    assert s["fused"] == (64 + extra, 4, 56, 56)
    assert (s["lateral"] is None) == (fusion == "none")
    if s["lateral"] is not None:
        assert s["lateral"][1:] == (4, 56, 56)


def test_lateral_shapes_deeper_points_and_costs():
    s = lateral_shapes("slowfast_r50_4x16", 4, 224)
    assert s["slow"] == (1024, 4, 14, 14) and s["fused"] == (1280, 4, 14, 14)
    assert s["params"] == 128 * 256 * 5 + 2 * 256  # conv 5x1^2 128 -> 256, BN weight and bias
    assert s["gmacs"] == pytest.approx(128 * 256 * 5 * 4 * 14 * 14 / 1e9)
    with pytest.raises(ValueError, match="fusion point"):
        lateral_shapes("slowfast_r50_4x16", 5)


def test_controls_change_the_state_and_the_image(explorer):
    before = explorer.figure.value
    explorer.fusion_menu.value = "tsample"
    explorer.point_slider.value = 2
    assert explorer.shapes["fused"] == (256 + 32, 4, 56, 56)
    assert explorer.figure.value != before and "res2" in explorer.caption.value
    explorer.alpha_menu.value = 4
    assert explorer.shapes["fast"][1] == 16  # alpha * T frames
    explorer.alpha_menu.value, explorer.fusion_menu.value, explorer.point_slider.value = 8, "tconv", 1


def test_an_impossible_combination_shows_the_package_error(explorer):
    explorer.fusion_menu.value = "ttoc_sum"
    explorer.beta_menu.value = 1 / 4
    assert explorer.shapes is None and "alpha * beta = 1" in explorer.error
    assert "not possible" in repr(explorer) and "not possible" in explorer.caption.value
    explorer.beta_menu.value = 1 / 8
    assert explorer.shapes["fused"] == (64, 4, 56, 56) and explorer.error is None
    explorer.fusion_menu.value = "tconv"


def test_text_form_is_one_line(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "\n" not in bundle["text/plain"] and "tconv after pool1" in bundle["text/plain"]
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_plot_draws_concatenated_channels_on_top_of_slow():
    shapes = {"slow": (64, 4, 56, 56), "fast": (8, 32, 56, 56), "lateral": (16, 4, 56, 56), "fused": (80, 4, 56, 56)}
    ax = Figure().add_subplot()
    viz.plot_lateral_shapes(ax, shapes, "tconv")
    boxes = [p for p in ax.patches if isinstance(p, Rectangle)]
    heights = sorted(round(b.get_height(), 6) for b in boxes)
    assert len(boxes) == 5  # fast, slow, lateral, and the fused box in two parts
    unit = 2.4 / 80  # the tallest tensor (80 channels) is 2.4 units high
    assert heights == sorted(round(max(c * unit, 0.06), 6) for c in (8, 64, 64, 16, 16))
    assert ax.get_title() == "T-conv"
