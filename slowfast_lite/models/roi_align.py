"""RoIAlign in plain torch, with the semantics of detectron2 / torchvision ``roi_align``.

Each box is cut into ``oh x ow`` bins; each bin averages ``gh x gw`` bilinear samples placed at the
centres of a regular grid inside it (``gh = ceil(box_h / oh)`` when ``sampling_ratio`` is 0). With
``aligned=True`` box coordinates are shifted by half a pixel so that a continuous coordinate ``x``
sits between pixel centres ``floor(x - 0.5)`` and ``floor(x - 0.5) + 1``, as in detectron2.

Bilinear sampling is separable: the value of a bin is ``sum_h sum_w Ay[h] F[h, w] Ax[w]`` with one
weight vector per row bin and one per column bin. So every box becomes two small interpolation
matrices, and all boxes are pooled by one einsum: vectorised over boxes, differentiable in the
features (and in the box coordinates)."""

import torch


def _axis_weights(start, size, bins, sampling_ratio, length):
    """Interpolation matrix (K, bins, length) of one axis, bin b's average of its bilinear samples,
    for boxes starting at ``start`` (K,) with extent ``size`` (K,) on this axis, in feature-map
    coordinates."""
    bin_size = size / bins
    if sampling_ratio > 0:
        grid = torch.full_like(size, sampling_ratio, dtype=torch.long)
    else:
        grid = torch.ceil(size / bins).long()  # adaptive: about one sample per feature-map cell
    max_grid = max(int(grid.max()) if grid.numel() else 1, 1)

    step = torch.arange(max_grid, device=size.device, dtype=size.dtype)
    bin_index = torch.arange(bins, device=size.device, dtype=size.dtype)
    grid_f = grid.clamp(min=1).to(size.dtype)
    # (K, bins, max_grid) sample positions; samples beyond a box's own grid size are
    # masked out below
    pos = (start[:, None, None] + bin_index[None, :, None] * bin_size[:, None, None]
           + (step[None, None, :] + 0.5) * (bin_size / grid_f)[:, None, None])
    used = step[None, None, :] < grid[:, None, None]
    inside = (pos >= -1.0) & (pos <= length)  # samples further out than one pixel read zero

    pos = pos.clamp(min=0)
    low = pos.floor().long()
    at_edge = low >= length - 1  # the last row/column interpolates with itself
    low = torch.where(at_edge, torch.full_like(low, length - 1), low)
    high = torch.where(at_edge, low, low + 1)
    frac = torch.where(at_edge, torch.zeros_like(pos), pos - low.to(pos.dtype))

    keep = (used & inside).to(pos.dtype) / grid_f[:, None, None]
    weights = torch.zeros(size.shape[0], bins, length, device=size.device, dtype=size.dtype)
    weights.scatter_add_(2, low, (1 - frac) * keep)
    weights.scatter_add_(2, high, frac * keep)
    return weights


def roi_align(features, boxes, output_size, spatial_scale=1.0, sampling_ratio=0, aligned=True):
    """Pool one fixed-size feature map per box.

    features: (N, C, H, W). boxes: (K, 5) rows ``[batch_index, x1, y1, x2, y2]`` in input
    coordinates (multiplied by ``spatial_scale`` to reach feature-map coordinates). output_size:
    int or (oh, ow). Returns (K, C, oh, ow)."""
    if not isinstance(features, torch.Tensor) or features.dim() != 4:
        got = (tuple(features.shape) if isinstance(features, torch.Tensor)
               else type(features).__name__)
        raise ValueError(f"roi_align: features must be (N, C, H, W), got {got}")
    if not features.is_floating_point():
        raise TypeError(f"roi_align: features must be floating point, got {features.dtype}")
    if not isinstance(boxes, torch.Tensor) or boxes.dim() != 2 or boxes.shape[1] != 5:
        got = tuple(boxes.shape) if isinstance(boxes, torch.Tensor) else type(boxes).__name__
        raise ValueError("roi_align: boxes must be a (K, 5) tensor [batch_index, x1, y1, x2, y2], "
                         f"got {got}")
    if boxes.dtype == torch.bool or boxes.is_complex():
        raise TypeError(f"roi_align: boxes must be real numbers, got {boxes.dtype}")
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    n, c, h, w = features.shape
    if boxes.shape[0] == 0:
        return features.new_zeros(0, c, oh, ow)

    coords = boxes.to(torch.float64 if features.dtype == torch.float64 else torch.float32)
    # on the CPU only, as below: a NaN would index far outside the feature map
    if coords.device.type == "cpu" and not torch.isfinite(coords).all():
        row = int((~torch.isfinite(coords)).any(1).nonzero()[0])
        raise ValueError(f"roi_align: boxes must be finite, row {row} is {coords[row].tolist()}")
    batch_index = coords[:, 0].long()
    # Checked on the CPU only: on a GPU the comparison would wait for the device at every forward;
    # there an index out of range stops index_select below with a device-side assertion instead.
    if batch_index.device.type == "cpu" and ((batch_index < 0) | (batch_index >= n)).any():
        raise ValueError(f"roi_align: batch_index must be in [0, {n - 1}], "
                         f"got {batch_index.tolist()}")
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (coords[:, i] * spatial_scale - offset for i in range(1, 5))
    box_w, box_h = x2 - x1, y2 - y1
    if not aligned:  # the legacy behaviour: boxes are at least one cell wide
        box_w, box_h = box_w.clamp(min=1.0), box_h.clamp(min=1.0)

    weights_y = _axis_weights(y1, box_h, oh, sampling_ratio, h).to(features.dtype)
    weights_x = _axis_weights(x1, box_w, ow, sampling_ratio, w).to(features.dtype)
    # index_select, not features[batch_index]: its gradient sums the boxes of one image in a
    # fixed order, where advanced indexing's accumulates with atomic adds on CPU and changes with
    # thread timing
    per_box = features.index_select(0, batch_index)
    return torch.einsum("kih,kchw,kjw->kcij", weights_y, per_box, weights_x)

