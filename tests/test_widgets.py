import io

import numpy as np
import pytest
from matplotlib.image import imread

from slowfast_lite import sampling
from slowfast_lite.course.widgets import FrameRateExplorer, shrink
from slowfast_lite.data import synthetic


def numbered_frames(n=90, height=24, width=32):
    """Frames whose pixels encode their index, so an image tells which frame it shows."""
    frames = np.zeros((n, height, width, 3), dtype=np.uint8)
    frames[..., 0] = np.arange(n, dtype=np.uint8)[:, None, None]
    frames[..., 1] = 255 - np.arange(n, dtype=np.uint8)[:, None, None]
    return frames


def decode_png(data: bytes) -> np.ndarray:
    return np.round(imread(io.BytesIO(data))[..., :3] * 255).astype(np.uint8)


@pytest.fixture
def explorer():
    return FrameRateExplorer(numbered_frames(), fps=30)


def test_initial_clip_follows_pyslowfast(explorer):
    assert explorer.window == (0, 63)
    assert len(explorer.fast_indices) == 32 and len(explorer.slow_indices) == 4
    expected = sampling.fast_indices(0.0, 63.0, 32, 90).numpy()
    assert np.array_equal(explorer.fast_indices, expected)
    assert np.array_equal(explorer.slow_indices, expected[[0, 10, 20, 31]])


def test_moving_the_frame_slider_changes_the_image_timeline_and_window(explorer):
    before = (explorer.frame_image.value, explorer.timeline_image.value, explorer.slow_indices.copy())
    explorer.frame_slider.value = 80
    assert explorer.frame_image.value != before[0]
    assert explorer.timeline_image.value != before[1]
    assert not np.array_equal(explorer.slow_indices, before[2])
    # the window is clamped to the video's end and still contains the current frame
    assert explorer.window[1] == 89 and explorer.window[0] <= 80
    assert explorer.fast_indices.max() == 89


def test_the_frame_image_is_the_current_frame(explorer):
    explorer.frame_slider.value = 37
    assert np.array_equal(decode_png(explorer.frame_image.value), numbered_frames()[37])


def test_play_drives_the_frame_slider(explorer):
    explorer.play.value = 12
    assert explorer.frame_slider.value == 12 and explorer.current == 12


def test_alpha_sets_the_number_of_fast_frames(explorer):
    strip = explorer.fast_strip.value
    explorer.alpha_slider.value = 4
    assert len(explorer.fast_indices) == 16 and len(explorer.slow_indices) == 4
    assert explorer.fast_strip.value != strip
    assert np.array_equal(explorer.slow_indices, explorer.fast_indices[sampling.slow_indices(16, 4).numpy()])


def test_tau_sets_the_window_length(explorer):
    explorer.tau_slider.value = 8
    assert explorer.window == (0, 31)
    assert np.diff(explorer.slow_indices).mean() == pytest.approx(31 / 3, abs=1)


def test_strips_show_the_sampled_frames(explorer):
    explorer.frame_slider.value = 40
    strip = decode_png(explorer.slow_strip.value)
    tile_width = explorer.thumbs.shape[2] + 4  # pad 2 on each side
    centres = strip[strip.shape[0] // 2, tile_width // 2::tile_width, 0]
    assert centres.tolist() == explorer.slow_indices.tolist()


def test_a_video_shorter_than_the_window_repeats_its_last_frame():
    short = FrameRateExplorer(numbered_frames(n=20), fps=30)
    assert short.window == (0, 19)
    assert short.fast_indices.max() == 19 and (short.fast_indices == 19).sum() > 1


def test_widgets_carry_stable_css_classes(explorer):
    for widget, name in [(explorer.frame_image, "sf-frame"), (explorer.timeline_image, "sf-timeline"),
                         (explorer.alpha_slider, "sf-alpha"), (explorer.frame_slider, "sf-frame-slider"),
                         (explorer.play, "sf-play")]:
        assert name in widget._dom_classes


def test_explorer_reads_a_video_file(tmp_path):
    path = synthetic.write_wheel_clip(tmp_path / "wheel.mp4", num_frames=40, size=32)
    from_file = FrameRateExplorer(path)
    assert from_file.frames.shape == (40, 32, 32, 3) and from_file.fps == 30.0
    assert from_file.window == (0, 39)


def test_rejects_frames_that_are_not_uint8_rgb():
    with pytest.raises(ValueError, match="uint8"):
        FrameRateExplorer(np.zeros((10, 8, 8, 3), dtype=np.float32))


def test_shrink_averages_blocks():
    frames = np.zeros((1, 4, 4, 3), dtype=np.uint8)
    frames[0, :2, :2] = 200
    assert shrink(frames, 2)[0, :, :, 0].tolist() == [[200, 0], [0, 0]]


def test_display_gives_the_live_widget_and_a_short_text(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "FrameRateExplorer(90 frames at 30 fps, tau=16, alpha=8, frame 0)"


def test_rates_and_caption_come_from_the_indices(explorer):
    slow_rate, fast_rate = explorer.rates()  # Slow frames [0, 20, 40, 63] of a 30-fps video
    assert slow_rate == pytest.approx(3 / 63 * 30) and fast_rate == pytest.approx(31 / 63 * 30)
    assert "1.43 per second" in explorer.caption.value and "1.88" not in explorer.caption.value


def test_snapshots_equal_what_the_sliders_would_show(explorer):
    explorer.frame_slider.value = 45
    shots = explorer.snapshots(taus=(8, 16), alphas=(4, 8))
    assert (explorer.tau, explorer.alpha) == (16, 8)  # the sliders did not move
    explorer.tau_slider.value, explorer.alpha_slider.value = 8, 4
    assert np.array_equal(shots[8, 4]["fast"], explorer.fast_indices) and shots[8, 4]["window"] == explorer.window
    assert shots[8, 4]["rates"] == explorer.rates()


def test_strips_image_shows_both_strips_under_their_labels(explorer):
    explorer.frame_slider.value = 40
    image = explorer.strips_image()
    slow, fast = (decode_png(strip.value) for strip in (explorer.slow_strip, explorer.fast_strip))
    assert image.dtype == np.uint8 and image.shape[1] >= fast.shape[1]
    assert image.shape[0] > slow.shape[0] + fast.shape[0] + 20  # a band of text above each strip
    # the strips sit in the picture as the widget draws them, the Fast one below the Slow one
    rows = [r for r in range(image.shape[0] - fast.shape[0] + 1)
            if np.array_equal(image[r:r + fast.shape[0], :fast.shape[1]], fast)]
    assert len(rows) == 1 and rows[0] > slow.shape[0]


def test_small_multiples_draw_every_tau_and_alpha(explorer):
    fig = explorer.small_multiples(taus=(8, 16, 32), alphas=(4, 8))
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 6 and titles[0].startswith("tau=8, alpha=4") and titles[-1].startswith("tau=32, alpha=8")
    assert "Fast 16 at" in titles[0] and "Slow 4 at" in titles[0]
