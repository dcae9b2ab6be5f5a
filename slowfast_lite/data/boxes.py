"""Box geometry, one home for the data sets and the AVA metric: boxes are (x1, y1, x2, y2), no +1 pixel rule."""

import numpy as np


def box_iou(boxes_a, boxes_b):
    """IoU matrix (A, B) of boxes (A, 4) and (B, 4) given as (x1, y1, x2, y2); no +1 pixel convention."""
    a, b = np.asarray(boxes_a, dtype=float).reshape(-1, 4), np.asarray(boxes_b, dtype=float).reshape(-1, 4)
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)
