"""roi_align against a brute-force loop of detectron2's rules (bins, samples, borders, aligned offsets).

No comparison with torchvision's roi_align: torchvision is no dependency, and the only builds PyPI serves are
CUDA ones that do not load with the CPU build of torch this course installs ("operator torchvision::nms does
not exist"), so such a test would be skipped everywhere it runs.
"""

import math

import pytest
import torch

from slowfast_lite.models.roi_align import roi_align


def bilinear(feature, y, x):
    """One bilinear sample of a (C, H, W) map, written the slow obvious way (detectron2's rules)."""
    _, height, width = feature.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return torch.zeros(feature.shape[0], dtype=feature.dtype)
    y, x = max(y, 0.0), max(x, 0.0)
    y_low, x_low = int(y), int(x)
    if y_low >= height - 1:
        y_low = y_high = height - 1
        y = float(y_low)
    else:
        y_high = y_low + 1
    if x_low >= width - 1:
        x_low = x_high = width - 1
        x = float(x_low)
    else:
        x_high = x_low + 1
    ly, lx = y - y_low, x - x_low
    hy, hx = 1 - ly, 1 - lx
    return (hy * hx * feature[:, y_low, x_low] + hy * lx * feature[:, y_low, x_high]
            + ly * hx * feature[:, y_high, x_low] + ly * lx * feature[:, y_high, x_high])


def brute_force_roi_align(features, boxes, output_size, spatial_scale, sampling_ratio, aligned):
    """Loop over boxes, bins and samples."""
    oh, ow = output_size
    out = torch.zeros(boxes.shape[0], features.shape[1], oh, ow, dtype=features.dtype)
    offset = 0.5 if aligned else 0.0
    for k, (b, *coords) in enumerate(boxes.tolist()):
        x1, y1, x2, y2 = (v * spatial_scale - offset for v in coords)
        box_w, box_h = x2 - x1, y2 - y1
        if not aligned:
            box_w, box_h = max(box_w, 1.0), max(box_h, 1.0)
        bin_h, bin_w = box_h / oh, box_w / ow
        grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(box_h / oh)
        grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(box_w / ow)
        for i in range(oh):
            for j in range(ow):
                total = torch.zeros(features.shape[1], dtype=features.dtype)
                for iy in range(grid_h):
                    y = y1 + i * bin_h + (iy + 0.5) * bin_h / grid_h
                    for ix in range(grid_w):
                        x = x1 + j * bin_w + (ix + 0.5) * bin_w / grid_w
                        total += bilinear(features[int(b)], y, x)
                out[k, :, i, j] = total / max(grid_h * grid_w, 1)
    return out


@pytest.fixture
def features():
    return torch.randn(2, 3, 9, 11, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


# inside, partly outside, the whole map, tiny, fully outside, degenerate (zero size)
BOXES = torch.tensor([
    [0, 1.0, 2.0, 30.0, 20.0],
    [1, -5.0, -3.0, 10.0, 40.0],
    [0, 0.0, 0.0, 44.0, 36.0],
    [1, 20.0, 10.0, 21.0, 10.5],
    [0, 50.0, 45.0, 70.0, 60.0],
    [1, 5.0, 5.0, 5.0, 5.0],
], dtype=torch.float64)


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [0, 1, 2, 3])
@pytest.mark.parametrize("output_size, spatial_scale", [((2, 3), 0.25), ((7, 7), 0.25), ((3, 3), 0.5)])
def test_matches_brute_force(features, aligned, sampling_ratio, output_size, spatial_scale):
    fast = roi_align(features, BOXES, output_size, spatial_scale, sampling_ratio, aligned)
    slow = brute_force_roi_align(features, BOXES, output_size, spatial_scale, sampling_ratio, aligned)
    assert fast.shape == (len(BOXES), 3, *output_size)
    torch.testing.assert_close(fast, slow)


def test_aligned_changes_the_result(features):
    a = roi_align(features, BOXES[:1], 2, 0.25, 2, aligned=True)
    b = roi_align(features, BOXES[:1], 2, 0.25, 2, aligned=False)
    assert not torch.allclose(a, b)


def test_constant_map_pools_to_the_constant_inside_the_map():
    features = torch.full((1, 2, 8, 8), 3.0)
    boxes = torch.tensor([[0, 4.0, 4.0, 20.0, 28.0]])
    out = roi_align(features, boxes, 7, spatial_scale=0.25)
    torch.testing.assert_close(out, torch.full((1, 2, 7, 7), 3.0))


def test_box_on_pixel_centres_reads_the_pixels_when_aligned():
    # aligned: pixel i covers [i, i+1), its centre i+0.5; a 1x1 box on pixel (2, 3) with one sample reads it
    features = torch.arange(36.0).reshape(1, 1, 6, 6)
    out = roi_align(features, torch.tensor([[0, 3.0, 2.0, 4.0, 3.0]]), 1, sampling_ratio=1, aligned=True)
    assert out.item() == features[0, 0, 2, 3].item()


def test_batch_index_picks_the_image(features):
    box = BOXES[0].clone()
    out = roi_align(features, torch.stack([box, torch.cat([box.new_ones(1), box[1:]])]), 3, 0.25)
    alone = roi_align(features[1:], torch.cat([box.new_zeros(1), box[1:]])[None], 3, 0.25)
    torch.testing.assert_close(out[1:], alone)
    assert not torch.allclose(out[0], out[1])


def test_gradient_matches_numerical(features):
    boxes = BOXES[:4]
    assert torch.autograd.gradcheck(lambda f: roi_align(f, boxes, (2, 3), 0.25, 0, True), (features.requires_grad_(),))


def test_gradient_is_reproducible_with_many_boxes_per_image():
    """Training twice gives the same weights: the backward pass sums the boxes of an image in a fixed order.

    Advanced indexing (``features[batch_index]``) accumulates its gradient with atomic adds on CPU threads, so
    the sum's order, and its last bits, followed thread timing; ``index_select`` adds one box after another.
    """
    features = torch.randn(4, 256, 8, 8, generator=torch.Generator().manual_seed(0), requires_grad=True)
    boxes = torch.tensor([[i % 4, 2.0 + i, 3.0, 60.0, 50.0 + i] for i in range(48)])

    def gradient():
        features.grad = None
        roi_align(features, boxes, 7, spatial_scale=1 / 8).square().sum().backward()
        return features.grad.clone()

    graph, stack = set(), [roi_align(features, boxes, 7, spatial_scale=1 / 8).grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and type(node).__name__ not in graph:
            graph.add(type(node).__name__)
            stack.extend(parent for parent, _ in node.next_functions)
    assert "IndexBackward0" not in graph, sorted(graph)
    first = gradient()
    for _ in range(5):
        assert torch.equal(gradient(), first)


def test_float32_matches_float64(features):
    boxes = torch.cat([BOXES[:, :1], BOXES[:, 1:] * 4], dim=1)  # same boxes at 4x the input size
    out = roi_align(features.float(), boxes.float(), (7, 7), spatial_scale=1 / 16)
    assert out.dtype == torch.float32 and out.shape == (len(BOXES), 3, 7, 7)
    torch.testing.assert_close(out.double(), roi_align(features, boxes, 7, 1 / 16), rtol=1e-5, atol=1e-5)


def test_no_boxes_gives_empty_output(features):
    assert roi_align(features, torch.zeros(0, 5, dtype=features.dtype), (7, 7)).shape == (0, 3, 7, 7)


@pytest.mark.parametrize("bad_features, bad_boxes, message", [
    (torch.zeros(3, 4, 4), torch.zeros(1, 5), "features"),
    (torch.zeros(1, 3, 4, 4), torch.zeros(1, 4), "boxes"),
    (torch.zeros(1, 3, 4, 4), [[0, 0, 0, 1, 1]], r"\(K, 5\) tensor.*got list"),
    (torch.zeros(1, 3, 4, 4), torch.tensor([[1.0, 0, 0, 1, 1]]), "batch_index"),
])
def test_bad_input_is_named(bad_features, bad_boxes, message):
    with pytest.raises(ValueError, match=message):
        roi_align(bad_features, bad_boxes, 2)
