import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from slowfast_lite import transforms as T


def clip_with_patch(height, width, box, frames=3):
    """A dark float clip (3, frames, H, W) with a bright patch exactly filling ``box`` (x1, y1, x2, y2)."""
    clip = torch.zeros(3, frames, height, width)
    x1, y1, x2, y2 = box
    clip[..., y1:y2, x1:x2] = 1.0
    return clip


def patch_box(clip, threshold=0.5):
    """The box (x1, y1, x2, y2) around the bright pixels of frame 0, channel 0."""
    ys, xs = torch.nonzero(clip[0, 0] > threshold, as_tuple=True)
    return [xs.min().item(), ys.min().item(), xs.max().item() + 1, ys.max().item() + 1]


def test_to_clip_and_back(clip_frames):
    clip = T.to_clip(clip_frames)
    assert clip.shape == (3, *clip_frames.shape[:3]) and clip.dtype == torch.float32
    assert 0 <= clip.min() and clip.max() <= 1
    assert clip[1, 4, 2, 3] == clip_frames[4, 2, 3, 1] / 255
    np.testing.assert_array_equal(T.to_frames(clip), clip_frames)
    np.testing.assert_array_equal(T.to_clip(torch.from_numpy(clip_frames)), clip)


def test_to_clip_rejects_channels_first():
    with pytest.raises(ValueError, match=r"\(T, H, W, 3\)"):
        T.to_clip(np.zeros((3, 2, 8, 8), np.uint8))


def test_normalize_uses_kinetics_statistics_and_is_undone(clip_frames):
    clip = T.to_clip(clip_frames)
    assert torch.allclose(T.normalize(torch.full((3, 1, 2, 2), 0.45)), torch.zeros(1))
    assert torch.allclose(T.normalize(torch.full((3, 1, 2, 2), 0.675)), torch.ones(1))
    np.testing.assert_array_equal(T.to_frames(T.normalize(clip), T.MEAN, T.STD), clip_frames)
    per_channel = T.normalize(clip, mean=[0.1, 0.2, 0.3], std=[1, 2, 4])
    assert torch.allclose(per_channel[2], (clip[2] - 0.3) / 4)


@pytest.mark.parametrize("height, width, size, expected", [
    (240, 320, 256, (256, 341)),  # floor(320 / 240 * 256) = 341
    (320, 240, 256, (341, 256)),  # portrait
    (240, 320, 120, (120, 160)),
    (256, 256, 128, (128, 128)),
])
def test_short_side_scale_sizes(height, width, size, expected):
    assert T.short_side_scale(torch.rand(3, 2, height, width), size).shape[-2:] == expected


def test_short_side_scale_is_bilinear_per_frame():
    clip = torch.rand(3, 4, 30, 40)
    expected = torch.stack([F.interpolate(clip[:, t][None], size=(15, 20), mode="bilinear",
                                          align_corners=False)[0] for t in range(4)], dim=1)
    assert torch.allclose(T.short_side_scale(clip, 15), expected)


def test_short_side_scale_keeps_a_clip_already_at_size():
    clip = torch.rand(3, 2, 20, 30)
    assert T.short_side_scale(clip, 20) is clip


def test_short_side_scale_moves_boxes_with_the_image():
    clip = clip_with_patch(60, 80, (20, 10, 40, 30))
    scaled, boxes = T.short_side_scale(clip, 30, boxes=[[20, 10, 40, 30]])
    assert boxes.tolist() == [[10, 5, 20, 15]]
    assert patch_box(scaled) == [10, 5, 20, 15]


def test_short_side_scale_needs_floats():
    with pytest.raises(ValueError, match="to_clip"):
        T.short_side_scale(torch.zeros(3, 1, 8, 8, dtype=torch.uint8), 4)


def test_random_short_side_scale_draws_in_range():
    rng = random.Random(0)
    sizes = {T.random_short_side_scale(torch.rand(3, 1, 30, 40), 8, 12, rng=rng).shape[-2] for _ in range(60)}
    assert sizes == set(range(8, 13))


@pytest.mark.parametrize("height, width, lefts, tops", [
    (256, 340, [0, 42, 84], [0, 0, 0]),  # landscape: left / centre / right
    (340, 256, [0, 0, 0], [0, 42, 84]),  # portrait: top / centre / bottom
    (256, 341, [0, 43, 85], [0, 0, 0]),  # odd slack: the centre rounds up (ceil)
])
def test_uniform_crops_follow_pyslowfast(height, width, lefts, tops):
    clip = torch.rand(3, 2, height, width)
    for index, (left, top) in enumerate(zip(lefts, tops, strict=True)):
        assert torch.equal(T.uniform_crop(clip, 256, index), clip[..., top:top + 256, left:left + 256])
    views = T.three_crops(clip, 256)
    assert len(views) == 3 and torch.equal(views[1], T.center_crop(clip, 256))


def test_crops_shift_and_clip_boxes():
    clip = clip_with_patch(50, 80, (30, 10, 50, 40))
    cropped, boxes = T.uniform_crop(clip, 50, 2, boxes=[[30, 10, 50, 40], [0, 0, 10, 10]])  # left = 30
    assert boxes.tolist() == [[0, 10, 20, 40], [0, 0, 0, 10]]  # second box falls outside: zero width
    assert patch_box(cropped) == [0, 10, 20, 40]


def test_random_crop_reaches_every_position_and_follows_boxes():
    clip = clip_with_patch(12, 12, (4, 4, 8, 8))
    rng = random.Random(0)
    seen = set()
    for _ in range(200):
        cropped, boxes = T.random_crop(clip, 10, boxes=[[4, 4, 8, 8]], rng=rng)
        assert cropped.shape[-2:] == (10, 10)
        assert patch_box(cropped) == boxes[0].tolist()
        seen.add(tuple(boxes[0, :2].tolist()))
    assert seen == {(x, y) for x in (2, 3, 4) for y in (2, 3, 4)}  # offsets 0..2 both ways, ends included


@pytest.mark.parametrize("crop", [T.random_crop, T.center_crop])
def test_a_crop_larger_than_the_clip_raises(crop):
    with pytest.raises(ValueError, match="larger than the clip"):
        crop(torch.zeros(3, 1, 10, 20), 16)


def test_horizontal_flip_mirrors_pixels_and_boxes():
    clip = clip_with_patch(20, 30, (2, 5, 10, 15))
    flipped, boxes = T.horizontal_flip(clip, boxes=[[2, 5, 10, 15]])
    assert torch.equal(flipped[..., 29 - 3], clip[..., 3])
    assert boxes.tolist() == [[20, 5, 28, 15]] and patch_box(flipped) == [20, 5, 28, 15]
    twice, back = T.horizontal_flip(flipped, boxes=boxes)
    assert torch.equal(twice, clip) and back.tolist() == [[2, 5, 10, 15]]


def test_random_horizontal_flip_probability():
    clip = torch.rand(3, 1, 4, 6)
    rng = random.Random(0)
    flips = sum(torch.equal(T.random_horizontal_flip(clip, rng=rng), clip.flip(-1)) for _ in range(400))
    assert 160 < flips < 240
    assert torch.equal(T.random_horizontal_flip(clip, p=0.0), clip)
    assert torch.equal(T.random_horizontal_flip(clip, p=1.0), clip.flip(-1))


def test_bad_boxes_raise():
    with pytest.raises(ValueError, match=r"\(K, 4\)"):
        T.horizontal_flip(torch.zeros(3, 1, 4, 4), boxes=[1, 2, 3, 4])


def test_batches_go_through_the_same_calls():
    batch = torch.rand(2, 3, 4, 30, 40)
    assert T.short_side_scale(batch, 15).shape == (2, 3, 4, 15, 20)
    assert torch.equal(T.center_crop(batch, 30)[1], T.center_crop(batch[1], 30))
    assert torch.equal(T.normalize(batch)[0], T.normalize(batch[0]))


def test_train_augment_is_seeded_and_keeps_boxes_on_the_patch():
    clip = clip_with_patch(120, 160, (60, 40, 100, 80))
    for seed in range(5):
        out, boxes = T.train_augment(clip, 64, (72, 90), boxes=[[60, 40, 100, 80]], rng=random.Random(seed))
        again = T.train_augment(clip, 64, (72, 90), rng=random.Random(seed))
        assert out.shape == (3, 3, 64, 64) and torch.equal(out, again)
        # bilinear edges are soft: the bright region and the box agree to a pixel
        assert np.allclose(patch_box(out), boxes[0].tolist(), atol=1)


def test_time_difference_keeps_only_what_changes():
    still = torch.rand(3, 1, 8, 8).expand(3, 5, 8, 8)
    assert torch.equal(T.time_difference(still), torch.zeros(3, 5, 8, 8))  # nothing moves: nothing left
    clip = torch.rand(3, 5, 8, 8)
    diff = T.time_difference(clip)
    assert diff.shape == clip.shape and torch.equal(diff[:, 0], torch.zeros(3, 8, 8))
    assert torch.allclose(diff[:, 1:].cumsum(1) + clip[:, :1], clip[:, 1:], atol=1e-6)  # frames come back


def test_grayscale_uses_luma_weights_on_clips_and_batches():
    clip = torch.zeros(3, 1, 1, 1)
    clip[1] = 1.0
    assert torch.allclose(T.grayscale(clip), torch.full((3, 1, 1, 1), 0.587))
    batch = torch.rand(2, 3, 4, 5, 5)
    assert torch.equal(T.grayscale(batch)[1], T.grayscale(batch[1]))


def test_to_pathways_splits_a_clip_like_pack_pathways():
    clip = torch.rand(3, 8, 6, 6)
    slow, fast = T.to_pathways(clip, "slowfast", alpha=4)
    assert torch.equal(fast, clip) and torch.equal(slow, clip[:, [0, 7]])  # PySlowFast: linspace(0, 7, 2)
    slow, fast = T.to_pathways(clip, "slowfast", alpha=4, fast_grayscale=True)
    assert torch.equal(fast, T.grayscale(clip)) and torch.equal(slow, clip[:, [0, 7]])  # Slow keeps colour
    assert torch.equal(T.to_pathways(clip, "slow", fast_grayscale=True)[0], clip)
    assert torch.equal(T.to_pathways(clip, "fast", fast_grayscale=True)[0], T.grayscale(clip))
    slow, fast = T.to_pathways(clip, "slowfast", alpha=4, fast_grayscale=True, fast_time_difference=True)
    assert torch.equal(fast, T.time_difference(T.grayscale(clip))) and torch.equal(slow, clip[:, [0, 7]])
    with pytest.raises(ValueError, match="pathways must be"):
        T.to_pathways(clip, "slow_fast")


def test_view_scales_crops_normalises_and_splits_as_its_steps_do():
    clip = torch.rand(3, 8, 30, 40)
    view = T.View(crop_size=24, short_side=28, mean=0.5, std=0.25, fast_grayscale=True)
    expected = T.to_pathways(
        T.normalize(T.uniform_crop(T.short_side_scale(clip, 28), 24, 2), 0.5, 0.25),
        "slowfast", 4, fast_grayscale=True)
    for got, want in zip(view(clip, "slowfast", 4, crop_index=2), expected, strict=True):
        assert torch.equal(got, want)
    left_to_model = T.View()
    assert [p.shape for p in left_to_model(clip, "slow", 1, default_crop=16)] == [(3, 8, 16, 16)]
    with pytest.raises(ValueError, match="no crop size"):
        left_to_model(clip)
