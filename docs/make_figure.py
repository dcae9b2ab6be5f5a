"""Draw the README's picture with the package itself: ``python docs/make_figure.py`` writes docs/two_rates.png.

A 4-spoke wheel turns 3.5 degrees per frame, counter-clockwise. SlowFast 4x16 samples a 64-frame window: the Fast
pathway takes every 2nd frame and sees the wheel turn 7 degrees a step; the Slow pathway takes 4 of those frames,
20 or so apart, where the wheel has turned 70-80 degrees, which on a 4-spoke wheel looks like 10-20 degrees back.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from slowfast_lite import sampling, viz  # noqa: E402
from slowfast_lite.data.synthetic import wheel_frame, wrap_turn  # noqa: E402

OUT = Path(__file__).resolve().parent / "two_rates.png"


def main() -> Path:
    viz.use_style()
    num_frames, fps, size, speed, spokes = 64, 30, 64, 3.5, 4
    fast = sampling.clip_indices(num_frames, fps, clip_index=0, num_clips=1)  # 32 frames, one in 2
    slow = fast[sampling.slow_indices(len(fast), alpha=8)]  # 4 of them: fast[[0, 10, 20, 31]]
    seen_fast = wrap_turn(np.diff(fast.numpy()) * speed, spokes)
    seen_slow = wrap_turn(np.diff(slow.numpy()) * speed, spokes)
    assert (seen_fast > 0).all() and (seen_slow < 0).all(), "the caption below would not be true"
    frame = {t: (np.clip(wheel_frame(t, size=size, spokes=spokes, degrees_per_frame=speed), 0, 1) * 255)
             .astype(np.uint8) for t in fast.tolist()}

    fig = plt.figure(figsize=(8.0, 4.6))
    grid = fig.add_gridspec(3, 1, height_ratios=[1.0, 1.0, 1.1], hspace=0.45)
    rows = [(f"Slow pathway: T = 4 frames ({', '.join(map(str, slow.tolist()))}): "
             "the wheel seems to turn backwards", slow),
            ("Fast pathway: alpha T = 32 frames, one every 2 (first 8 shown): it turns forwards", fast[:8])]
    for row, (title, indices) in enumerate(rows):
        ax = fig.add_subplot(grid[row])
        color = viz.PATHWAY_COLORS["slow" if row == 0 else "fast"]
        ax.imshow(viz.montage(np.stack([frame[t] for t in indices.tolist()]), columns=8, pad=2))
        ax.set_title(title, loc="left", color=color)
        ax.axis("off")
    viz.plot_sampling_timeline(fig.add_subplot(grid[2]), num_frames, slow.tolist(), fast.tolist(), fps=fps)
    fig.savefig(OUT, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return OUT


if __name__ == "__main__":
    print(main())
