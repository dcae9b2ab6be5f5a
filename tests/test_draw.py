import numpy as np
import pytest

from slowfast_lite.data import draw

SHAPE = (64, 80)


def test_canvas_is_float_rgb_filled_with_the_colour():
    image = draw.canvas(SHAPE, (0.1, 0.2, 0.3))
    assert image.shape == (64, 80, 3) and image.dtype == np.float32
    assert np.allclose(image[5, 7], (0.1, 0.2, 0.3))


def test_disk_area_and_anti_aliased_edge():
    mask = draw.disk(SHAPE, (40.0, 30.0), 10.0)
    assert mask.sum() == pytest.approx(np.pi * 100, rel=0.01)
    assert mask[30, 40] == 1.0 and mask[0, 0] == 0.0
    partial = (mask > 0) & (mask < 1)
    assert partial.sum() > 20, "the edge should have partly covered pixels"


def test_ring_area():
    mask = draw.ring(SHAPE, (40.0, 32.0), 20.0, 4.0)
    assert mask.sum() == pytest.approx(2 * np.pi * 20 * 4, rel=0.01)
    assert mask[32, 40] == 0.0


def test_rectangle_covers_fractional_pixels_exactly():
    mask = draw.rectangle(SHAPE, (10.25, 5.5, 20.75, 9.0))
    assert mask.sum() == pytest.approx(10.5 * 3.5, abs=1e-4)
    assert mask[6, 10] == pytest.approx(0.75)
    assert mask[5, 15] == pytest.approx(0.5)


def test_polygon_matches_rectangle_and_ignores_winding():
    box = (10.3, 10.2, 30.7, 40.1)
    corners = [(box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])]
    clockwise = draw.polygon(SHAPE, corners)
    counter = draw.polygon(SHAPE, corners[::-1])
    assert np.array_equal(clockwise, counter)
    assert np.abs(clockwise - draw.rectangle(SHAPE, box)).max() < 0.2
    assert clockwise.sum() == pytest.approx(20.4 * 29.9, rel=0.01)


def test_triangle_area():
    turns = 0.3 + 2 * np.pi * np.arange(3) / 3  # an equilateral triangle with circumradius 20 around (40, 32)
    vertices = np.stack([40 + 20 * np.cos(turns), 32 - 20 * np.sin(turns)], axis=1)
    assert draw.polygon(SHAPE, vertices).sum() == pytest.approx(3 * np.sqrt(3) / 4 * 400, rel=0.01)


def test_polygon_rejects_bad_vertices():
    with pytest.raises(ValueError, match="vertices"):
        draw.polygon(SHAPE, [(0, 0), (1, 1)])


def test_rotate_is_counter_clockwise_on_screen():
    # y points down: a quarter turn counter-clockwise takes "right" to "up" (smaller y)
    turned = draw.rotate([[11.0, 5.0]], np.pi / 2, center=(10.0, 5.0))
    assert np.allclose(turned, [[10.0, 4.0]])


def test_wheel_has_the_symmetry_of_its_spokes():
    center, radius = (40.0, 32.0), 25.0
    base = draw.wheel(SHAPE, center, radius, 0.2, spokes=4)
    # a turn by 2 pi / spokes maps the wheel onto itself; half of that turn does not
    assert np.abs(draw.wheel(SHAPE, center, radius, 0.2 + np.pi / 2, spokes=4) - base).max() < 1e-3
    assert np.abs(draw.wheel(SHAPE, center, radius, 0.2 + np.pi / 4, spokes=4) - base).max() > 0.5


def test_wheel_spoke_points_where_the_angle_says():
    center = (40.0, 32.0)
    up = draw.wheel(SHAPE, center, 25.0, np.pi / 2, spokes=1, rim_width=1.0)
    assert up[32 - 15, 40] > 0.9 and up[32 + 15, 40] == 0.0


def test_paint_blends_through_the_mask():
    image = draw.canvas((2, 2), (0.0, 0.0, 0.0))
    mask = np.array([[0.0, 1.0], [0.5, 0.25]], dtype=np.float32)
    out = draw.paint(image, mask, (1.0, 0.5, 0.0), opacity=0.8)
    assert out is image
    assert np.allclose(image[0, 0], 0) and np.allclose(image[0, 1], (0.8, 0.4, 0.0))
    assert np.allclose(image[1, 0], (0.4, 0.2, 0.0))


def test_composite_takes_above_where_mask_is_one():
    below, above = draw.canvas((3, 3), (0, 0, 0)), draw.canvas((3, 3), (1, 1, 1))
    mask = np.zeros((3, 3), dtype=np.float32)
    mask[1, 1] = 1.0
    out = draw.composite(below, above, mask)
    assert out[1, 1].tolist() == [1, 1, 1] and out.sum() == 3
    assert below.sum() == 0, "composite returns a new image"


def test_to_uint8_rounds_and_clips():
    image = np.array([[[-0.1, 0.5, 1.2]]], dtype=np.float32)
    assert draw.to_uint8(image).tolist() == [[[0, 128, 255]]]


def test_noise_is_deterministic_from_the_generator_and_in_range():
    a = draw.noise_background(SHAPE, np.random.default_rng(3), (0.1, 0.1, 0.1), (0.9, 0.9, 0.9))
    b = draw.noise_background(SHAPE, np.random.default_rng(3), (0.1, 0.1, 0.1), (0.9, 0.9, 0.9))
    c = draw.noise_background(SHAPE, np.random.default_rng(4), (0.1, 0.1, 0.1), (0.9, 0.9, 0.9))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= 0.1 - 1e-6 and a.max() <= 0.9 + 1e-6
    # smooth: neighbouring pixels differ far less than the colour range
    assert np.abs(np.diff(a, axis=1)).max() < 0.3


def test_checkerboard_shifts_by_whole_periods_and_inverts_by_one_cell():
    base = draw.checkerboard(SHAPE, 8)
    assert np.allclose(draw.checkerboard(SHAPE, 8, offset=(16, 0)), base, atol=1e-5)
    inverted = draw.checkerboard(SHAPE, 8, offset=(8, 0))
    assert np.allclose(inverted + base, 0.2 + 0.5, atol=1e-5)


def test_stripes_repeat_with_their_period():
    a = draw.stripes(SHAPE, 10.0, phase=0.0)
    assert np.allclose(a, draw.stripes(SHAPE, 10.0, phase=10.0), atol=1e-5)
    assert not np.allclose(a, draw.stripes(SHAPE, 10.0, phase=5.0))
    assert np.allclose(a[:, :, 0], a[:1, :, 0]), "angle 0 gives vertical stripes"


def test_add_noise_keeps_range_and_is_seeded():
    image = draw.canvas(SHAPE, (0.5, 0.5, 0.5))
    noisy = draw.add_noise(image, np.random.default_rng(0), 0.1)
    assert 0.0 <= noisy.min() and noisy.max() <= 1.0
    assert noisy.std() == pytest.approx(0.1, rel=0.1)
    assert np.array_equal(noisy, draw.add_noise(image, np.random.default_rng(0), 0.1))
