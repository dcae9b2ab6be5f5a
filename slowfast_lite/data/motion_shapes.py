"""MotionShapes: a small video classification benchmark where motion matters, written as real H.264 files.

Classes come in groups, each making one claim of the paper testable (see ``data/README.md``). The default set
is the eight classes of the first two groups; ``groups=`` selects others (the ablation set adds ``binding``):

* **appearance** (``red``, ``green``, ``blue``, ``purple``): one flat shape (disk, square, triangle or cross,
  random) of that hue, drifting and turning slowly. Every hue is drawn at a random luminance that does not
  depend on the class, so the classes differ in colour only: a grey-scale view cannot tell them apart.
* **motion** (``drift_up``, ``drift_down``, ``flicker``, ``steady``): a striped disk whose stripes move up,
  move down, pulse in brightness, or stay. Every change repeats exactly every ``PERIOD`` = 5 frames, so
  frames 5 apart are identical (up to pixel noise) and one frame alone carries no class information.
* **binding** (``red_up``, ``red_down``): a red and a green vertical band, striped in the same two luminances;
  the red band's stripes drift up (or down) and the green band's the other way, repeating every ``PERIOD``
  frames like the motion group. A grey-scale Fast pathway sees one drift up and one down but not which band is
  red; the Slow pathway sees the colours but, as for the motion group, one still image. Only joining the two at
  the same place (a lateral connection) tells the classes apart.

The videos are written at ``FPS`` = 15, so a tiny SlowFast (T=4, tau=8, alpha=4: Fast stride 2 frames at 30
fps) decodes 16 consecutive frames per clip for Fast, and Slow takes Fast frames [0, 5, 10, 15] (PySlowFast's
``linspace`` rule): exactly one period apart. The motion classes alias to a still image at the Slow rate by
construction; the Fast rate resolves them. Position, size, colours, stripe period, phases, background and
noise are random, so no single pixel or frame gives a motion class away.

Output folder: ``videos/<split>/<id>.mp4``, ``train.csv`` / ``val.csv`` / ``test.csv`` in PySlowFast's
``path label`` format (paths relative to the folder), ``classnames.json`` (``{"name": index}``) and
``manifest.json`` (written last: its presence marks a complete, cached set).
"""

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from slowfast_lite import transforms, usage, utils
from slowfast_lite.data import draw
from slowfast_lite.data.synthetic import write_clip
from slowfast_lite.errors import UsageError

PERIOD = 5  # frames: every motion class repeats exactly after this many frames (the Slow stride in Fast frames)
FPS = 15  # 30 fps target with a Fast stride of 2 frames -> Fast sees every frame of these videos
APPEARANCE_CLASSES = ("red", "green", "blue", "purple")
MOTION_CLASSES = ("drift_up", "drift_down", "flicker", "steady")
BINDING_CLASSES = ("red_up", "red_down")
GROUPS = {"appearance": APPEARANCE_CLASSES, "motion": MOTION_CLASSES, "binding": BINDING_CLASSES}
DEFAULT_GROUPS = ("appearance", "motion")  # notebook 06's eight classes
CLASSES = APPEARANCE_CLASSES + MOTION_CLASSES
SPLITS = ("train", "val", "test")
VERSION = 2  # of the rendering, in the manifest: a cached set drawn by an earlier version regenerates

# angle (degrees) of each hue in the chroma plane orthogonal to luminance (red at 45 means [1, .33, .04] at 0.5)
_HUE_ANGLE = {"red": 45.0, "green": 135.0, "blue": 225.0, "purple": 315.0}
_LUMA = np.array(transforms.LUMA)  # the weights of the grey-scale conversion
_SHAPES = ("disk", "square", "triangle", "cross")


@dataclass(frozen=True)
class Profile:
    """How big a generated set is: clips per class in each split, frame size (square) and frames per video."""

    train: int
    val: int
    test: int
    size: int = 40
    frames: int = 24


PROFILES = {
    "quick": Profile(train=40, val=8, test=80, size=40, frames=20),  # 640 test clips: a top-1 within 2 points (1 s.e.)
    "full": Profile(train=400, val=50, test=50, size=64, frames=40),
}


def _chroma_basis():
    """Two orthonormal RGB directions with zero luminance: moving along them changes hue, not brightness."""
    e1 = np.array([1.0, -1.0, 0.0])
    e1 -= _LUMA * (e1 @ _LUMA) / (_LUMA @ _LUMA)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(_LUMA, e1)
    return e1, e2 / np.linalg.norm(e2)


def hue_color(angle_deg: float, luminance: float, saturation: float) -> np.ndarray:
    """RGB colour of a hue angle (chroma plane), an exact ``luminance`` (BT.601) and ``saturation`` in [0, 1]
    of the largest chroma that stays inside the RGB cube."""
    e1, e2 = _chroma_basis()
    d = np.cos(np.deg2rad(angle_deg)) * e1 + np.sin(np.deg2rad(angle_deg)) * e2
    grey = np.full(3, luminance)
    reach = min((1 - grey[i]) / d[i] if d[i] > 0 else -grey[i] / d[i] for i in range(3) if abs(d[i]) > 1e-9)
    return (grey + saturation * reach * d).astype(np.float32)


def _shape_distance(kind, x, y, radius, angle):
    """Signed distance (pixels, negative inside) to a shape centred at the origin, turned by ``angle``;
    x, y, angle broadcast (e.g. (T, 1, 1) angles against (1, H, W) coordinates: every frame at once)."""
    u = np.cos(angle) * x + np.sin(angle) * y
    v = -np.sin(angle) * x + np.cos(angle) * y
    if kind == "disk":
        return np.hypot(u, v) - radius
    if kind == "cross":  # union of two bars, each a box distance
        half = radius * 0.3
        return np.minimum(np.maximum(abs(u) - radius, abs(v) - half), np.maximum(abs(v) - radius, abs(u) - half))
    sides = 4 if kind == "square" else 3
    apothem = radius * np.cos(np.pi / sides) * (1.0 if sides == 4 else 1.15)
    # a convex regular polygon: the largest of its edges' half-plane distances
    normals = 2 * np.pi * np.arange(sides) / sides
    return np.max([np.cos(a) * u + np.sin(a) * v for a in normals], axis=0) - apothem


def _stripes(y, period, phase, shift, color_a, color_b):
    """Horizontal stripes of ``period`` pixels blending ``color_a`` into ``color_b``: (T, H, W, 3) for pixel rows
    ``y`` (H, W) and a phase ``shift`` per frame (T, 1, 1, 1); a growing shift moves them up."""
    weight = 0.5 + 0.5 * np.cos(2 * np.pi * y[..., None] / period + phase + shift)
    return color_a * weight + color_b * (1 - weight)


def _binding_clip(name, rng, size, frames):
    """Float frames (frames, size, size, 3) of a binding class: a red and a green vertical band on a noisy
    background, both striped in the same two luminances, the red band's stripes drifting up for ``red_up``
    (down for ``red_down``) and the green band's the other way.

    It joins the other two groups at one place: each band's colour is an appearance cue (seen by Slow), its
    stripes' drift a motion cue that repeats every ``PERIOD`` frames (seen by Fast only)."""
    bg_a = rng.uniform(0.25, 0.6) + rng.uniform(-0.04, 0.04, 3)
    video = np.repeat(draw.noise_background((size, size), rng, bg_a, bg_a + rng.uniform(0.1, 0.3),
                                            cell=size / 5)[None], frames, axis=0)
    # one luminance pair for both bands: in grey-scale the two bands are drawn from one distribution
    luma_a = rng.uniform(0.1, 0.3)
    luma_b = luma_a + rng.uniform(0.25, 0.35)
    half = rng.uniform(0.09, 0.12) * size
    # one band in each half of the frame, apart, in random order
    columns = rng.uniform(half + 1, size / 2 - half - 1), rng.uniform(size / 2 + half + 1, size - half - 1)
    red_column, green_column = columns if rng.random() < 0.5 else columns[::-1]
    turn = 2 * np.pi * np.arange(frames, dtype=np.float32)[:, None, None, None] / PERIOD  # a cycle per PERIOD
    red_sign = 1.0 if name == "red_up" else -1.0  # a growing phase moves the stripes up (y grows downwards)
    x, y = draw.pixel_centres((size, size))
    for hue, column, sign in ((45.0, red_column, red_sign), (135.0, green_column, -red_sign)):
        saturation = rng.uniform(0.7, 0.95)
        color_a, color_b = (hue_color(hue + rng.uniform(-10, 10), luma, saturation) for luma in (luma_a, luma_b))
        period = rng.uniform(6.0, 10.0)
        texture = _stripes(y, period, rng.uniform(0, 2 * np.pi), sign * turn, color_a, color_b)
        mask = draw.coverage(np.abs(x - column) - half)[..., None]  # (H, W, 1)
        video = video * (1 - mask) + texture * mask
    return video


def render_clip(label, rng: np.random.Generator, size: int = 40, frames: int = 24,
                noise: float = 0.03) -> np.ndarray:
    """One clip of class ``label`` (a class name, or an index into the default ``CLASSES``): uint8 frames
    (frames, size, size, 3), all randomness from ``rng``."""
    name = label if isinstance(label, str) else CLASSES[label]
    if name in BINDING_CLASSES:
        video = _binding_clip(name, rng, size, frames)
        video = video + noise * rng.standard_normal((frames, size, size, 3), dtype=np.float32)
        return draw.to_uint8(video)
    bg_a = rng.uniform(0.25, 0.6) + rng.uniform(-0.04, 0.04, 3)  # near-grey, random brightness and tint
    background = draw.noise_background((size, size), rng, bg_a, bg_a + rng.uniform(0.1, 0.3), cell=size / 5)
    radius = rng.uniform(0.22, 0.3) * size
    center = rng.uniform(radius + 1, size - radius - 1, 2)
    t = np.arange(frames, dtype=np.float32)[:, None, None, None]  # (T, 1, 1, 1) against (H, W, 3) images
    x, y = draw.pixel_centres((size, size))
    if name in APPEARANCE_CLASSES:
        color = hue_color(_HUE_ANGLE[name] + rng.uniform(-15, 15), rng.uniform(0.35, 0.65), rng.uniform(0.6, 0.95))
        kind = _SHAPES[rng.integers(len(_SHAPES))]
        velocity, angle, spin = rng.uniform(-0.25, 0.25, 2), rng.uniform(0, 2 * np.pi), rng.uniform(-0.03, 0.03)
        tt = t[..., 0]  # (T, 1, 1)
        distance = _shape_distance(kind, x - center[0] - velocity[0] * tt, y - center[1] - velocity[1] * tt,
                                   radius, angle + spin * tt)
        texture = color
    else:
        # two random hues whose luminances differ by 0.25-0.35: the stripes stay visible in grey-scale
        luma_a = rng.uniform(0.1, 0.3)
        luma_b = luma_a + rng.uniform(0.25, 0.35)
        if rng.random() < 0.5:
            luma_a, luma_b = luma_b, luma_a
        color_a, color_b = (hue_color(rng.uniform(0, 360), luma, rng.uniform(0, 0.9)) for luma in (luma_a, luma_b))
        period = rng.uniform(6.0, 10.0)  # stripe period in pixels: the drift speed is period / PERIOD pixels a frame
        phase, pulse_phase = rng.uniform(0, 2 * np.pi, 2)
        turn = 2 * np.pi * t / PERIOD  # one full cycle every PERIOD frames
        shift = {"drift_up": turn, "drift_down": -turn}.get(name, 0.0 * turn)
        gain = 1.0 + 0.5 * np.cos(pulse_phase + (turn if name == "flicker" else 0.0 * turn))
        texture = np.clip(_stripes(y, period, phase, shift, color_a, color_b) * gain, 0, 1)
        distance = np.hypot(x - center[0], y - center[1])[None] - radius
    mask = draw.coverage(distance)[..., None]  # (T or 1, H, W, 1)
    video = background * (1 - mask) + texture * mask
    video = video + noise * rng.standard_normal((frames, size, size, 3), dtype=np.float32)
    return draw.to_uint8(video)


class MotionShapes:
    """The generator: ``MotionShapes("quick", seed=0).generate()`` writes (or finds cached) a whole set.

    ``groups``: the class groups it holds, in order (default ``("appearance", "motion")``: notebook 06's eight
    classes; ``("appearance", "motion", "binding")`` is the ablation set). ``root``: output folder (default
    ``data_root()/motion_shapes/<profile>_seed<seed>``, plus ``_<group>-<group>...`` for other groups). Keyword
    overrides of the profile (``train``, ``val``, ``test``, ``size``, ``frames``) make a custom size; the cache
    key is the whole setting, so a changed setting regenerates.
    """

    appearance_classes = APPEARANCE_CLASSES
    motion_classes = MOTION_CLASSES
    binding_classes = BINDING_CLASSES

    def __init__(self, profile: str = "quick", seed: int = 0, root=None, groups=DEFAULT_GROUPS, **overrides):
        if profile not in PROFILES:
            raise ValueError(f"unknown MotionShapes profile {profile!r}; choose one of {sorted(PROFILES)}")
        unknown = sorted(set(overrides) - set(asdict(PROFILES[profile])))
        if unknown:
            raise ValueError(f"unknown MotionShapes setting(s) {unknown}; valid: {sorted(asdict(PROFILES[profile]))}")
        groups = (groups,) if isinstance(groups, str) else tuple(groups)
        bad = [g for g in groups if g not in GROUPS]
        if bad or not groups or len(set(groups)) != len(groups):
            raise ValueError(f"MotionShapes groups {groups!r}: give distinct names from {tuple(GROUPS)}")
        self.profile, self.seed, self.groups = profile, seed, groups
        self.classes = tuple(name for g in groups for name in GROUPS[g])
        self.settings = Profile(**{**asdict(PROFILES[profile]), **overrides})
        suffix = "" if groups == DEFAULT_GROUPS else "_" + "-".join(groups)
        self.root = Path(root) if root else utils.data_root() / "motion_shapes" / f"{profile}_seed{seed}{suffix}"

    @property
    def group_classes(self) -> dict:
        """{group: its class names} for the groups this set holds."""
        return {g: list(GROUPS[g]) for g in self.groups}

    def __repr__(self):
        return (f"MotionShapes(profile={self.profile!r}, seed={self.seed}, groups={self.groups}, root='{self.root}', "
                f"{self.settings})")

    def csv(self, split: str) -> Path:
        """The ``path label`` csv of a split (``train``, ``val`` or ``test``)."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
        return self.root / f"{split}.csv"

    @property
    def classnames(self) -> Path:
        return self.root / "classnames.json"

    def _manifest(self) -> dict:
        return {"dataset": "MotionShapes", "version": VERSION, "profile": self.profile, "seed": self.seed, "fps": FPS,
                "period": PERIOD, "classes": list(self.classes), **asdict(self.settings)}

    def is_cached(self) -> bool:
        path = self.root / "manifest.json"
        return path.exists() and json.loads(path.read_text()) == self._manifest()

    def generate(self, progress: bool = True, force: bool = False) -> Path:
        """Write every split (skipped when a complete set with the same settings exists); returns ``root``.

        The set is written beside ``root`` and moved into place at the end, so concurrent callers never see half
        a set. A ``root`` that holds other files (no MotionShapes manifest) is refused, never replaced.
        """
        if self.is_cached() and not force:
            return self.root
        from tqdm.auto import tqdm

        if self.root.is_dir() and any(self.root.iterdir()) and not (self.root / "manifest.json").exists():
            raise FileExistsError(f"{self.root} holds other files, not a MotionShapes set: it is never replaced; "
                                  "choose an empty or new folder")
        tmp = self.root.with_name(f".{self.root.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        s = self.settings
        jobs = [(split, i) for split in SPLITS for i in range(getattr(s, split) * len(self.classes))]
        rows = {split: [] for split in SPLITS}
        try:
            for split, i in tqdm(jobs, desc=f"MotionShapes {self.profile}", disable=not progress):
                label = i % len(self.classes)
                # one generator per clip, keyed by (seed, split, index): any clip can be re-rendered alone
                rng = np.random.default_rng([self.seed, SPLITS.index(split), i])
                relative = f"videos/{split}/{i:05d}.mp4"
                frames = render_clip(self.classes[label], rng, s.size, s.frames)
                write_clip(tmp / relative, frames, FPS, gop=PERIOD * 3)
                rows[split].append(f"{relative} {label}")
            for split in SPLITS:
                (tmp / f"{split}.csv").write_text("\n".join(rows[split]) + "\n")
            (tmp / "classnames.json").write_text(json.dumps({name: i for i, name in enumerate(self.classes)},
                                                            indent=1))
            (tmp / "manifest.json").write_text(json.dumps(self._manifest(), indent=1))
            if self.is_cached():  # another caller finished the same set meanwhile
                return self.root
            shutil.rmtree(self.root, ignore_errors=True)  # an empty folder, or a MotionShapes set of other settings
            try:
                os.replace(tmp, self.root)
            except OSError:  # someone else finished first: theirs is the same set
                if not self.is_cached():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return self.root


def cli(argv) -> int:
    """``python -m slowfast_lite make-data motion --profile quick|full --out DIR [--seed N]``"""
    parser = usage.ArgumentParser(prog="python -m slowfast_lite make-data motion",
                                  description="Write the MotionShapes benchmark (mp4 clips + path/label csv).")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--seed", type=usage.integer(minimum=0), default=0)
    parser.add_argument("--out", type=Path, help="output folder (default: cached under the data folder)")
    parser.add_argument("--force", action="store_true", help="regenerate even if a complete set exists")
    for name in ("train", "val", "test"):
        parser.add_argument(f"--{name}", type=usage.integer(minimum=1, maximum=10_000),
                            help=f"clips per class in {name} (default: the profile's)")
    parser.add_argument("--size", type=usage.integer(minimum=16, maximum=512),
                        help="frame size in pixels, even (default: the profile's)")
    parser.add_argument("--frames", type=usage.integer(minimum=2, maximum=1000),
                        help="frames per video (default: the profile's)")
    parser.add_argument("--groups", default=",".join(DEFAULT_GROUPS),
                        help=f"comma-separated class groups out of {','.join(GROUPS)} (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.size is not None and args.size % 2:
        raise UsageError(f"--size {args.size}: must be even (H.264 4:2:0)")
    if args.out is not None:
        usage.check_output_dir(args.out, "--out")
    overrides = {k: getattr(args, k) for k in ("train", "val", "test", "size", "frames") if getattr(args, k)}
    groups = tuple(g.strip() for g in args.groups.split(",") if g.strip())
    try:
        data = MotionShapes(args.profile, args.seed, args.out, groups=groups, **overrides)
    except ValueError as error:
        parser.error(str(error))
    root = data.generate(force=args.force)
    print(root)
    return 0
