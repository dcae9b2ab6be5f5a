"""The course's plotting helpers and its one matplotlib style."""

import matplotlib as mpl

PATHWAY_COLORS = {"slow": "#1f77b4", "fast": "#d62728", "fusion": "#2ca02c"}

STYLE = {
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.figsize": (7.0, 3.2),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "image.interpolation": "nearest",
}


def use_style() -> None:
    """Apply the course style (modest dpi keeps committed notebooks small)."""
    mpl.rcParams.update(STYLE)


def montage(frames, columns: int | None = None, pad: int = 2, pad_value: int = 255, borders=None):
    """Tile frames (N, H, W, 3) uint8 into one image, ``columns`` per row (default: all in one row).

    ``borders`` (optional, one RGB triple or None per frame) paints a ``pad``-wide frame around a tile.
    """
    import numpy as np

    frames = np.asarray(frames)
    n, h, w = frames.shape[:3]
    columns = n if columns is None else max(1, min(columns, n))
    rows = -(-n // columns)
    out = np.full((rows * (h + 2 * pad), columns * (w + 2 * pad), 3), pad_value, dtype=np.uint8)
    for i, frame in enumerate(frames):
        top, left = (i // columns) * (h + 2 * pad), (i % columns) * (w + 2 * pad)
        if borders is not None and borders[i] is not None:
            out[top:top + h + 2 * pad, left:left + w + 2 * pad] = np.asarray(borders[i], dtype=np.uint8)
        out[top + pad:top + pad + h, left + pad:left + pad + w] = frame
    return out


def plot_sampling_timeline(ax, num_frames: int, slow, fast, window=None, current=None, fps=None):
    """Draw which frames each pathway takes: Fast ticks above, Slow ticks below, the clip window shaded.

    ``window`` is (first, last) frame of the clip; ``current`` marks one frame; ``fps`` adds a seconds axis.
    """
    if window is not None:
        ax.axvspan(window[0] - 0.5, window[1] + 0.5, color="0.85", zorder=0, label="clip window")
    ax.vlines(fast, 1.05, 1.95, color=PATHWAY_COLORS["fast"], lw=1.5, label=f"Fast: {len(fast)} frames")
    ax.vlines(slow, 0.05, 0.95, color=PATHWAY_COLORS["slow"], lw=3, label=f"Slow: {len(slow)} frames")
    if current is not None:
        ax.axvline(current, color="0.2", lw=1, ls="--")
    ax.set_xlim(-0.5, num_frames - 0.5)
    ax.set_ylim(0, 2)
    ax.set_yticks([0.5, 1.5], ["Slow", "Fast"])
    ax.set_xlabel("frame index")
    ax.grid(False)
    if fps:
        seconds = ax.secondary_xaxis("top", functions=(lambda f: f / fps, lambda s: s * fps))
        seconds.set_xlabel("seconds")
    return ax
