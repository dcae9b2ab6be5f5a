"""Small anti-aliased raster primitives on float canvases, for the synthetic video generators.

A canvas is a float32 array (H, W, 3) with values in [0, 1]. Pixel (row i, column j) covers the square
[j, j+1) x [i, i+1), so its centre is (x, y) = (j + 0.5, i + 0.5); all coordinates are in pixels, x to the
right and y down, angles in radians (counter-clockwise on screen).

Shapes are drawn in two steps: a shape function returns a coverage mask (H, W) in [0, 1] (anti-aliased: a
pixel half covered by the shape gets 0.5), and ``paint`` blends a colour into the canvas through a mask.
Coverage comes from a signed distance to the shape's outline (negative inside), ramped over one pixel,
which is exact for straight edges and very close for curves, and costs a few array operations per shape.
Everything is vectorised numpy and deterministic; randomness only enters through a ``numpy.random.Generator``.
"""

import numpy as np

Shape = tuple[int, int]  # (height, width)


# ---------------------------------------------------------------------------------------------- canvas
def canvas(shape: Shape, color=(0.0, 0.0, 0.0)) -> np.ndarray:
    """A new canvas (H, W, 3) filled with ``color``."""
    out = np.empty((*shape, 3), dtype=np.float32)
    out[...] = np.asarray(color, dtype=np.float32)
    return out


def pixel_centres(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """x (1, W) and y (H, 1) coordinates of the pixel centres, ready to broadcast to (H, W)."""
    h, w = shape
    x = np.arange(w, dtype=np.float32)[None, :] + 0.5
    y = np.arange(h, dtype=np.float32)[:, None] + 0.5
    return x, y


def coverage(signed_distance: np.ndarray) -> np.ndarray:
    """Coverage in [0, 1] from a signed distance (pixels, negative inside): a one-pixel ramp across the edge."""
    return np.clip(0.5 - signed_distance, 0.0, 1.0).astype(np.float32)


def paint(image: np.ndarray, mask: np.ndarray, color, opacity: float = 1.0) -> np.ndarray:
    """Blend ``color`` into ``image`` (H, W, 3) through ``mask`` (H, W) in place; returns ``image``.

    ``color`` is an RGB triple or an array (H, W, 3) (a texture).
    """
    alpha = (mask * opacity)[..., None]
    image *= 1.0 - alpha
    image += alpha * np.asarray(color, dtype=np.float32)
    return image


def composite(below: np.ndarray, above: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``above`` over ``below`` through ``mask`` (H, W): a new image (H, W, 3)."""
    alpha = mask[..., None].astype(np.float32)
    return (below * (1.0 - alpha) + above * alpha).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float canvas in [0, 1] -> uint8 (H, W, 3), rounded (values outside [0, 1] are clipped)."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


# ---------------------------------------------------------------------------------------------- geometry
def rotate(points, angle: float, center=(0.0, 0.0)) -> np.ndarray:
    """Rotate points (N, 2) by ``angle`` (counter-clockwise on screen, where y points down) about ``center``."""
    points = np.asarray(points, dtype=np.float64) - center
    c, s = np.cos(angle), np.sin(angle)
    # y grows downwards, so a counter-clockwise turn on screen is a clockwise turn in (x, y) maths coordinates
    rotated = np.stack([c * points[:, 0] + s * points[:, 1], -s * points[:, 0] + c * points[:, 1]], axis=1)
    return rotated + center


def _segment_distance(x, y, p0, p1) -> np.ndarray:
    """Distance (H, W) from each pixel centre to the segment p0-p1."""
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else np.clip(((x - x0) * dx + (y - y0) * dy) / length2, 0.0, 1.0)
    return np.hypot(x - (x0 + t * dx), y - (y0 + t * dy))


# ---------------------------------------------------------------------------------------------- shapes
def disk(shape: Shape, center, radius: float) -> np.ndarray:
    """Coverage (H, W) of a filled disk."""
    x, y = pixel_centres(shape)
    return coverage(np.hypot(x - center[0], y - center[1]) - radius)


def ring(shape: Shape, center, radius: float, width: float) -> np.ndarray:
    """Coverage (H, W) of an annulus of mean radius ``radius`` and thickness ``width``."""
    x, y = pixel_centres(shape)
    return coverage(np.abs(np.hypot(x - center[0], y - center[1]) - radius) - width / 2)


def rectangle(shape: Shape, box) -> np.ndarray:
    """Coverage (H, W) of an axis-aligned rectangle ``box = (x1, y1, x2, y2)`` (pixel edges, x2 > x1)."""
    x1, y1, x2, y2 = box
    # the two 1-D coverages multiply exactly for an axis-aligned box
    wx = np.clip(np.minimum(x2, np.arange(1, shape[1] + 1)) - np.maximum(x1, np.arange(shape[1])), 0, 1)
    wy = np.clip(np.minimum(y2, np.arange(1, shape[0] + 1)) - np.maximum(y1, np.arange(shape[0])), 0, 1)
    return (wy[:, None] * wx[None, :]).astype(np.float32)


def segment(shape: Shape, p0, p1, width: float) -> np.ndarray:
    """Coverage (H, W) of a thick line from p0 to p1 with round ends (a capsule)."""
    x, y = pixel_centres(shape)
    return coverage(_segment_distance(x, y, p0, p1) - width / 2)


def polygon(shape: Shape, vertices) -> np.ndarray:
    """Coverage (H, W) of a filled simple polygon given by its vertices (N, 2), in either winding order."""
    vertices = np.asarray(vertices, dtype=np.float64)
    if vertices.ndim != 2 or vertices.shape[0] < 3 or vertices.shape[1] != 2:
        raise ValueError(f"polygon vertices must be (N >= 3, 2), got shape {vertices.shape}")
    x, y = pixel_centres(shape)
    distance = np.full(shape, np.inf, dtype=np.float64)
    inside = np.zeros(shape, dtype=bool)
    for p0, p1 in zip(vertices, np.roll(vertices, -1, axis=0), strict=True):
        distance = np.minimum(distance, _segment_distance(x, y, p0, p1))
        # even-odd rule: count edges crossed by a ray from the pixel towards +x
        straddles = (p0[1] > y) != (p1[1] > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = p0[0] + (y - p0[1]) * (p1[0] - p0[0]) / (p1[1] - p0[1])
        inside ^= straddles & (x < x_cross)
    return coverage(np.where(inside, -distance, distance))


def wheel(shape: Shape, center, radius: float, angle: float, spokes: int = 4, rim_width: float = 2.0,
          spoke_width: float = 2.0, hub_radius: float = 0.0) -> np.ndarray:
    """Coverage (H, W) of a spoked wheel: a rim, ``spokes`` evenly spaced spokes turned by ``angle``, a hub.

    Spoke 0 points right at ``angle = 0``; the wheel looks the same after a turn of ``2 pi / spokes``.
    """
    mask = ring(shape, center, radius, rim_width)
    turns = angle + 2 * np.pi * np.arange(spokes) / max(spokes, 1)
    for c, s in zip(np.cos(turns), np.sin(turns), strict=True):
        tip = (center[0] + radius * c, center[1] - radius * s)  # minus: y points down
        mask = np.maximum(mask, segment(shape, center, tip, spoke_width))
    if hub_radius > 0:
        mask = np.maximum(mask, disk(shape, center, hub_radius))
    return mask


# ---------------------------------------------------------------------------------------------- backgrounds
def smooth_noise(shape: Shape, rng: np.random.Generator, cell: float = 8.0) -> np.ndarray:
    """Value noise (H, W) in [0, 1]: random values on a grid of ``cell`` pixels, smoothly interpolated."""
    h, w = shape
    grid = rng.random((int(np.ceil(h / cell)) + 2, int(np.ceil(w / cell)) + 2))
    x, y = pixel_centres(shape)
    gx, gy = np.broadcast_to(x / cell, shape), np.broadcast_to(y / cell, shape)
    ix, iy = gx.astype(int), gy.astype(int)
    # smoothstep weights: continuous slope across grid cells, so no visible grid lines
    fx, fy = gx - ix, gy - iy
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    top = grid[iy, ix] * (1 - fx) + grid[iy, ix + 1] * fx
    bottom = grid[iy + 1, ix] * (1 - fx) + grid[iy + 1, ix + 1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def mix(weights: np.ndarray, color_a, color_b) -> np.ndarray:
    """Image (H, W, 3) that blends ``color_a`` (weight 0) into ``color_b`` (weight 1)."""
    a, b = np.asarray(color_a, dtype=np.float32), np.asarray(color_b, dtype=np.float32)
    return (a + weights[..., None] * (b - a)).astype(np.float32)


def noise_background(shape: Shape, rng: np.random.Generator, color_a=(0.2, 0.2, 0.2), color_b=(0.5, 0.5, 0.5),
                     cell: float = 8.0) -> np.ndarray:
    """A smooth, blotchy background (H, W, 3) between two colours."""
    return mix(smooth_noise(shape, rng, cell), color_a, color_b)


def checkerboard(shape: Shape, cell: float, color_a=(0.2, 0.2, 0.2), color_b=(0.5, 0.5, 0.5),
                 offset=(0.0, 0.0)) -> np.ndarray:
    """An anti-aliased checkerboard (H, W, 3) of square cells; ``offset`` (x, y) shifts it (camera motion)."""
    x, y = pixel_centres(shape)
    # product of two square waves (+1 / -1 on alternate cells, edges at offset + k * cell), ramped over one pixel
    sx = np.clip(np.abs(np.mod(x - offset[0] - cell / 2, 2 * cell) - cell) - cell / 2 + 0.5, 0, 1) * 2 - 1
    sy = np.clip(np.abs(np.mod(y - offset[1] - cell / 2, 2 * cell) - cell) - cell / 2 + 0.5, 0, 1) * 2 - 1
    return mix((1 - sx * sy) / 2, color_a, color_b)


def stripes(shape: Shape, period: float, angle: float = 0.0, phase: float = 0.0, color_a=(0.2, 0.2, 0.2),
            color_b=(0.5, 0.5, 0.5)) -> np.ndarray:
    """Anti-aliased stripes (H, W, 3) of ``period`` pixels; ``angle`` 0 gives vertical stripes; ``phase`` in pixels."""
    x, y = pixel_centres(shape)
    u = x * np.cos(angle) - y * np.sin(angle) - phase
    # distance (pixels) to the nearest colour change, signed: a triangle wave ramped over one pixel
    d = np.abs(np.mod(u, period) - period / 2) - period / 4
    return mix(np.clip(d + 0.5, 0, 1), color_a, color_b)


def add_noise(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """A copy of ``image`` with Gaussian pixel noise of standard deviation ``sigma``, clipped to [0, 1]."""
    return np.clip(image + rng.normal(0.0, sigma, image.shape), 0.0, 1.0).astype(np.float32)
