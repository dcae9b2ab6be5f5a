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
