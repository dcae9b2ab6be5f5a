"""Synthetic AVA: stick-figure actors doing atomic actions, written as mp4 plus AVA's official files.

Each video holds 2-3 actors on a textured backdrop. At every keyframe (1 Hz, as in AVA) each actor does a
set of actions (multi-label: one for the arms, one for the legs), kept for the second around that keyframe:

- pose or appearance, visible in any single frame: ``raise arms``, ``carry object`` (an orange box), the rare
  ``crouch``;
- slow motion, visible at any frame rate: ``walk`` (the actor travels, legs swing every 8 frames);
- fast motion that aliases at the Slow rate: ``clap`` (hands meet and part) and ``jog`` (running on the spot),
  both repeating exactly every ``PERIOD`` = 5 frames. An idle actor holds its hands and feet still at a random
  point of the same cycles, so any frames 5 apart look alike for a clapping and an idle actor: a pathway that
  looks every 5 frames (Slow) cannot tell them apart, one that looks at every frame (Fast) sees the motion.

Videos run at ``FPS`` = 15, as MotionShapes: a tiny SlowFast (T=4, tau=8, alpha=4, a Fast stride of 2 frames
at 30 fps) decodes 16 consecutive frames around a keyframe for Fast, and Slow takes Fast frames [0, 5, 10, 15],
exactly one period apart. Like AVA the files count time in seconds from the start of a 15-minute cut at
second 900: timestamp 902 is the keyframe at frame (902 - 900) * FPS. Written under
``data_root()/ava/<parameters>/``::

    videos/<video_id>.mp4
    annotations/ava_{train,val}_v2.2.csv                       ground truth, one row per (box, action)
    annotations/ava_action_list_v2.2.pbtxt                     all classes
    annotations/ava_action_list_v2.2_for_activitynet_2019.pbtxt  the evaluated classes (all but the rare one)
    annotations/ava_{train,val}_excluded_timestamps_v2.2.csv   keyframes hit by a camera glitch
    annotations/ava_{train,val}_predicted_boxes.csv            person proposals with scores (the "detector")

Each person's box covers every pose of its arm and leg cycles (``person_box``), so the box does not say
where the hands and feet are at the keyframe. The proposals play the person detector: ground-truth boxes
jittered (most scored >= 0.8, a few missed below it) plus false positives on the background.
"""

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slowfast_lite import usage, utils, video
from slowfast_lite.data import draw
from slowfast_lite.data.ava_files import AVARow, write_ava_csv, write_exclusions, write_label_map
from slowfast_lite.errors import UsageError

ACTIONS = {1: "raise arms", 2: "carry object", 3: "walk", 4: "clap", 5: "jog", 6: "crouch"}
EVALUATED = (1, 2, 3, 4, 5)  # like AVA's 60 of 80, the rare class is annotated but not evaluated
FAST_ACTIONS = (4, 5)  # exactly periodic with PERIOD: frozen at the Slow rate
PERIOD = 5  # frames of one clap or jog cycle (the Slow stride of a tiny SlowFast at FPS)
WALK_PERIOD = 8  # frames of one walking step: not a multiple of the Slow stride, so Slow sees legs move
FPS = 15
START_SECOND = 900
ARM_CHOICES = {1: 0.2, 2: 0.2, 4: 0.3, None: 0.3}  # one arm action (or none) per actor and keyframe
LEG_CHOICES = {3: 0.3, 5: 0.35, None: 0.35}
CROUCH_PROBABILITY = 0.06
BOX_PHASES = np.arange(8) / 8  # the arm and leg cycle points a person box covers (see person_box)
VERSION = 2  # part of the cache folder's name: bump when the same parameters draw different files
OBJECT_COLOR = (0.95, 0.55, 0.1)
GLOVE_COLOR = (0.97, 0.97, 0.92)


@dataclass(frozen=True)
class SyntheticAVA:
    """Paths of a written synthetic AVA data set (the official file names, under ``root``)."""

    root: Path

    @property
    def video_dir(self):
        return self.root / "videos"

    @property
    def label_map(self):
        """pbtxt of all classes."""
        return self.root / "annotations" / "ava_action_list_v2.2.pbtxt"

    @property
    def evaluated_label_map(self):
        """pbtxt of the evaluated classes."""
        return self.root / "annotations" / "ava_action_list_v2.2_for_activitynet_2019.pbtxt"

    def annotations(self, split):
        return self.root / "annotations" / f"ava_{split}_v2.2.csv"

    def exclusions(self, split):
        return self.root / "annotations" / f"ava_{split}_excluded_timestamps_v2.2.csv"

    def proposals(self, split):
        return self.root / "annotations" / f"ava_{split}_predicted_boxes.csv"

    def video_ids(self, split):
        return sorted(p.stem for p in self.video_dir.glob(f"{split}_*.mp4"))


# ---------------------------------------------------------------------------------------------- actors
@dataclass
class Second:
    """What one actor does during the second around one keyframe."""

    actions: set
    arm_phase: float  # where in the clap cycle the hands are (held still unless clapping)
    leg_phase: float  # where in the step cycle the feet are (held still unless walking or jogging)
    speed: float  # pixels per frame, 0 unless walking


@dataclass
class Actor:
    """One actor of a video: where it stands and how it looks (fixed), and what it does each second."""

    lane: tuple  # (x_min, x_max) of its feet
    x: float  # feet position at frame 0
    ground: float  # y of the feet
    size: float  # standing height in pixels
    shirt: tuple
    trousers: tuple
    skin: tuple
    seconds: list  # one Second per keyframe


def _draw_second(rng):
    while True:
        arm = rng.choice(len(ARM_CHOICES), p=list(ARM_CHOICES.values()))
        legs = rng.choice(len(LEG_CHOICES), p=list(LEG_CHOICES.values()))
        actions = {list(ARM_CHOICES)[arm], list(LEG_CHOICES)[legs]} - {None}
        if rng.random() < CROUCH_PROBABILITY:
            actions = (actions - {1, 3, 5}) | {6}  # crouching: no raised arms, no walking or jogging
        if actions:  # everyone on screen does something, so every person is annotated
            speed = float(rng.uniform(0.7, 1.1)) if 3 in actions else 0.0
            return Second(actions, float(rng.random()), float(rng.random()), speed)


def _segment_of(frame, fps, keyframes):
    """Index of the keyframe whose second (centred on it) holds ``frame``."""
    k = int(np.floor(frame / fps + 0.5)) - 1  # keyframe k sits at frame (k + 1) * fps, k = 0, 1, ...
    return min(max(k, 0), keyframes - 1)


def _positions(actor, num_frames, fps, keyframes):
    """Feet x of the actor at every frame: walking seconds move it, bouncing inside its lane."""
    xs = np.empty(num_frames)
    x, direction = actor.x, 1.0
    for t in range(num_frames):
        xs[t] = x
        step = actor.seconds[_segment_of(t, fps, keyframes)].speed * direction
        if not actor.lane[0] <= x + step <= actor.lane[1]:
            direction, step = -direction, -step
        x += step
    return xs


def _cycle(frame, period, phase, moving):
    """Position in [0, 1) of a repeating motion: advancing with the frame when moving, else held at ``phase``."""
    return ((frame % period) / period + phase) % 1.0 if moving else phase  # frame % period: exact repeats


def _parts(actor, x, frame, second):
    """Drawing primitives of the actor at ``frame``: ("rect"|"segment"|"disk", geometry..., colour)."""
    actions, s = second.actions, actor.size
    squash = 0.7 if 6 in actions else 1.0  # crouching lowers everything above the feet
    period = WALK_PERIOD if 3 in actions else PERIOD
    step = 2 * np.pi * _cycle(frame, period, second.leg_phase, bool(actions & {3, 5}))
    bounce = 0.0 if 3 in actions else 0.1 * (0.5 - 0.5 * np.cos(step))  # jogging bounces the body once a step

    def at(dx, dy, lifted=True):  # actor coordinates (feet at 0, y up, units of height) -> pixels
        return (x + dx * s, actor.ground - (dy * squash + (bounce if lifted else 0.0)) * s)

    parts, feet = [], []
    for side, shift in ((-1, 0.0), (1, np.pi)):  # the two feet are half a cycle apart
        swing, lift = 0.12 * np.sin(step + shift), 0.1 * max(0.0, np.cos(step + shift))
        feet.append(at(0.07 * side + swing, lift / squash, lifted=False))
        parts.append(("segment", at(0.06 * side, 0.45), feet[-1], 0.07 * s, actor.trousers))
    parts.append(("rect", (*at(-0.11, 0.8), *at(0.11, 0.42)), actor.shirt))
    parts.append(("disk", at(0.0, 0.9), 0.09 * s, actor.skin))

    closing = 0.5 - 0.5 * np.cos(2 * np.pi * _cycle(frame, PERIOD, second.arm_phase, 4 in actions))
    hands = []
    for side in (-1, 1):
        if 2 in actions:  # carry: hands hold the box at the waist
            hand = at(0.1 * side, 0.5)
        elif 1 in actions:  # raise arms: a V above the shoulders
            hand = at(0.3 * side, 1.1)
        else:  # hands between apart (0) and together in front of the chest (1): the clap cycle
            hand = at(side * (0.3 - 0.28 * closing), 0.4 + 0.3 * closing)
        parts.append(("segment", at(0.12 * side, 0.76), hand, 0.07 * s, actor.skin))  # bare arms: seen over the shirt
        hands.append(hand)
    if 2 in actions:
        parts.append(("rect", (*at(-0.13, 0.6), *at(0.13, 0.4)), OBJECT_COLOR))
    parts += [("disk", p, 0.06 * s, GLOVE_COLOR) for p in hands + feet]  # light gloves and shoes stand out
    return parts


def _extent(part):
    kind = part[0]
    if kind == "rect":
        return part[1]
    if kind == "disk":
        (cx, cy), r = part[1], part[2]
        return (cx - r, cy - r, cx + r, cy + r)
    (x0, y0), (x1, y1), w = part[1], part[2], part[3] / 2
    return (min(x0, x1) - w, min(y0, y1) - w, max(x0, x1) + w, max(y0, y1) + w)


def bounding_box(parts):
    """Tight box (x1, y1, x2, y2) in pixels around the primitives."""
    extents = np.array([_extent(p) for p in parts])
    return (*extents[:, :2].min(axis=0), *extents[:, 2:].max(axis=0))


def person_box(actor, x, frame, second):
    """The annotated box (x1, y1, x2, y2) in pixels: the actor's extent at every point of its arm and leg cycles.

    A box hugging the keyframe's pose would give the fast actions away: the keyframe is not one of the Slow
    frames, and there a clapping (jogging) actor's hands (feet, head) are elsewhere than in the frozen Slow
    frames, while an idle actor's are where they are in every frame. Covering every phase makes the box the
    same for both: at a keyframe every cycle stands at a multiple of 1/8 of a turn from its phase, so a moving
    and a still actor go through the same ``BOX_PHASES``.
    """
    poses = [_parts(actor, x, frame, dataclasses.replace(second, arm_phase=arm, leg_phase=leg))
             for arm in BOX_PHASES for leg in BOX_PHASES]
    extents = np.array([bounding_box(parts) for parts in poses])
    return (*extents[:, :2].min(axis=0), *extents[:, 2:].max(axis=0))


def _paint_parts(image, parts):
    """Draw the primitives on a patch around them only (cheap), in place."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = bounding_box(parts)
    px0, py0 = max(int(np.floor(x1)) - 1, 0), max(int(np.floor(y1)) - 1, 0)
    px1, py1 = min(int(np.ceil(x2)) + 1, width), min(int(np.ceil(y2)) + 1, height)
    if px1 <= px0 or py1 <= py0:
        return
    patch = image[py0:py1, px0:px1]  # a view: painting it paints the frame
    shape = patch.shape[:2]
    for kind, *geometry, color in parts:
        if kind == "rect":
            ax, ay, bx, by = geometry[0]
            mask = draw.rectangle(shape, (ax - px0, ay - py0, bx - px0, by - py0))
        elif kind == "disk":
            (cx, cy), radius = geometry
            mask = draw.disk(shape, (cx - px0, cy - py0), radius)
        else:
            (ax, ay), (bx, by), w = geometry
            mask = draw.segment(shape, (ax - px0, ay - py0), (bx - px0, by - py0), w)
        draw.paint(patch, mask, color)


def _random_color(rng, avoid=OBJECT_COLOR):
    while True:
        color = tuple(float(c) for c in rng.uniform(0.1, 0.9, 3))
        if np.abs(np.subtract(color, avoid)).sum() > 0.6:  # keep clear of the carried box's orange
            return color


def _make_actors(rng, num_actors, keyframes, height, width, actor_size):
    actors = []
    lane_width = width / num_actors
    for i in range(num_actors):
        margin = 0.2 * actor_size[1] * height  # feet stay most of a raised arm's reach inside the frame
        lane = (max(i * lane_width + 0.2 * lane_width, margin), min((i + 1) * lane_width - 0.2 * lane_width,
                                                                    width - margin))
        actors.append(Actor(lane=lane, x=float(rng.uniform(*lane)), ground=height * float(rng.uniform(0.88, 0.97)),
                            size=height * float(rng.uniform(*actor_size)), shirt=_random_color(rng),
                            trousers=_random_color(rng), skin=tuple(rng.uniform([0.6, 0.4, 0.3], [0.95, 0.8, 0.65])),
                            seconds=[_draw_second(rng) for _ in range(keyframes)]))
    return actors


def render_video(rng, seconds, fps, height, width, glitch_keyframes=(), actors=(2, 3), actor_size=(0.6, 0.72)):
    """Frames (T, H, W, 3) uint8 and, per keyframe index, each actor's (box in pixels, sorted actions).

    The video spans ``seconds`` seconds; keyframes sit at seconds 1 .. seconds-1 (frames fps, 2 fps, ...).
    Keyframes in ``glitch_keyframes`` get a few garbled frames around them (they are the excluded ones).
    ``actors``: (fewest, most) people in the scene; ``actor_size``: range of their standing height / frame height.
    """
    num_frames, keyframes = seconds * fps, seconds - 1
    backdrop = draw.noise_background((height, width), rng, _random_color(rng), _random_color(rng), cell=height / 4)
    actors = _make_actors(rng, int(rng.integers(actors[0], actors[1] + 1)), keyframes, height, width, actor_size)
    positions = [_positions(a, num_frames, fps, keyframes) for a in actors]
    frames = np.empty((num_frames, height, width, 3), dtype=np.uint8)
    labels = [[] for _ in range(keyframes)]
    glitch_frames = {f for k in glitch_keyframes for f in range((k + 1) * fps - 2, (k + 1) * fps + 3)}
    for t in range(num_frames):
        image = backdrop.copy()
        segment = _segment_of(t, fps, keyframes)
        for actor, xs in zip(actors, positions, strict=True):
            parts = _parts(actor, xs[t], t, actor.seconds[segment])
            _paint_parts(image, parts)
            if t == (segment + 1) * fps:  # this frame is the keyframe: record the box
                x1, y1, x2, y2 = person_box(actor, xs[t], t, actor.seconds[segment])
                box = (max(x1, 0.0), max(y1, 0.0), min(x2, float(width)), min(y2, float(height)))
                labels[segment].append((box, sorted(actor.seconds[segment].actions)))
        if t in glitch_frames:
            image = draw.add_noise(image * 0.2, rng, 0.3)
        frames[t] = draw.to_uint8(image)
    return frames, labels


# ---------------------------------------------------------------------------------------------- files
def _normalised(box, width, height):
    x1, y1, x2, y2 = box
    return (round(x1 / width, 3), round(y1 / height, 3), round(x2 / width, 3), round(y2 / height, 3))


def _proposals(rng, video_id, timestamp, boxes, width, height):
    """Person-detector stand-in: jittered ground truth (a few scored below 0.8) plus background false positives."""
    rows = []
    for x1, y1, x2, y2 in boxes:
        w, h = x2 - x1, y2 - y1
        jitter = rng.normal(0, 0.05, 4) * (w, h, w, h)
        jittered = np.clip((x1, y1, x2, y2) + jitter, 0, (width, height, width, height))
        score = rng.uniform(0.82, 0.99) if rng.random() < 0.93 else rng.uniform(0.4, 0.79)
        rows.append((jittered, score))
    for _ in range(rng.poisson(0.7)):
        w, h = rng.uniform(0.15, 0.3) * width, rng.uniform(0.4, 0.6) * height
        x1, y1 = rng.uniform(0, width - w), rng.uniform(0, height - h)
        rows.append(((x1, y1, x1 + w, y1 + h), rng.uniform(0.3, 0.9)))
    return [AVARow(video_id, timestamp, _normalised(b, width, height), None, score=round(float(s), 4))
            for b, s in rows if b[2] - b[0] > 2 and b[3] - b[1] > 2]


def _write_split(data, split, num_videos, seconds, fps, height, width, seed, exclusion_rate, actors, actor_size):
    groundtruth, proposals, excluded = [], [], set()
    for index in range(num_videos):
        video_id = f"{split}_{index:03d}"
        rng = np.random.default_rng([seed, 0 if split == "train" else 1, index])
        keyframes = seconds - 1
        glitches = [k for k in range(keyframes) if rng.random() < exclusion_rate]
        frames, labels = render_video(rng, seconds, fps, height, width, glitches, actors, actor_size)
        # lossless H.264: frames that are equal decode equal, so the Slow-rate aliasing survives the codec
        data.video_dir.mkdir(parents=True, exist_ok=True)
        video.write_video(data.video_dir / f"{video_id}.mp4", frames, fps, gop=fps, crf=0)
        for k, people in enumerate(labels):
            timestamp = START_SECOND + k + 1
            if k in glitches:
                excluded.add((video_id, timestamp))
            for person_id, (box, actions) in enumerate(people):
                groundtruth += [AVARow(video_id, timestamp, _normalised(box, width, height), a, person_id=person_id)
                                for a in actions]
            proposals += _proposals(rng, video_id, timestamp, [box for box, _ in people], width, height)
    write_ava_csv(data.annotations(split), groundtruth)
    write_ava_csv(data.proposals(split), proposals)
    write_exclusions(data.exclusions(split), excluded)


def make_synthetic_ava(root=None, *, train_videos=12, val_videos=4, seconds=10, fps=FPS, height=64, width=96,
                       actors=(2, 3), actor_size=(0.6, 0.72), seed=0, exclusion_rate=0.04, overwrite=False):
    """Write (or find cached) a synthetic AVA data set; returns its :class:`SyntheticAVA` paths.

    ``seconds``: length of each video (keyframes at seconds 1 .. seconds-1 after its start). ``root`` None
    caches under ``data_root()/ava/<parameters>``. The folder appears atomically, so concurrent callers
    never see half a data set.
    """
    if seconds < 2 or height % 2 or width % 2:
        raise ValueError(f"need seconds >= 2 and even frame sizes (H.264), got {seconds}, {height}x{width}")
    name = (f"t{train_videos}_v{val_videos}_s{seconds}_fps{fps}_{height}x{width}_a{actors[0]}-{actors[1]}"
            f"_h{actor_size[0]:g}-{actor_size[1]:g}_seed{seed}_x{exclusion_rate:g}_v{VERSION}")
    root = Path(root) if root is not None else utils.data_root() / "ava" / name
    data = SyntheticAVA(root)
    if data.evaluated_label_map.exists() and not overwrite:
        return data
    if root.exists() and not data.evaluated_label_map.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} holds other files, not a synthetic AVA data set: it is never replaced; "
                              "choose an empty or new folder")
    tmp = SyntheticAVA(root.with_name(f".{root.name}.tmp{os.getpid()}"))
    shutil.rmtree(tmp.root, ignore_errors=True)
    try:
        for split, count in (("train", train_videos), ("val", val_videos)):
            _write_split(tmp, split, count, seconds, fps, height, width, seed, exclusion_rate, actors, actor_size)
        write_label_map(tmp.label_map, ACTIONS)
        write_label_map(tmp.evaluated_label_map, {a: ACTIONS[a] for a in EVALUATED})
        if overwrite:
            shutil.rmtree(root, ignore_errors=True)
        try:
            os.replace(tmp.root, root)
        except OSError:  # someone else finished first: theirs is the same data
            if not data.evaluated_label_map.exists():
                raise
    finally:
        shutil.rmtree(tmp.root, ignore_errors=True)
    return data


def cli(argv) -> int:
    """``python -m slowfast_lite make-data ava [--train-videos N] ...``"""
    parser = usage.ArgumentParser(prog="python -m slowfast_lite make-data ava",
                                  description="Write the synthetic AVA data set (mp4 + official csv/pbtxt).")
    parser.add_argument("--out", type=Path, help="output folder (default: cached under the data folder)")
    parser.add_argument("--train-videos", type=usage.integer(minimum=1, maximum=1000), default=12)
    parser.add_argument("--val-videos", type=usage.integer(minimum=1, maximum=1000), default=4)
    parser.add_argument("--seconds", type=usage.integer(minimum=2, maximum=600), default=10,
                        help="length of each video")
    parser.add_argument("--height", type=usage.integer(minimum=32, maximum=1024), default=64,
                        help="frame height, even")
    parser.add_argument("--width", type=usage.integer(minimum=32, maximum=1024), default=96, help="frame width, even")
    parser.add_argument("--seed", type=usage.integer(minimum=0), default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    for option in ("height", "width"):
        if getattr(args, option) % 2:
            raise UsageError(f"--{option} {getattr(args, option)}: must be even (H.264 4:2:0)")
    if args.out is not None:
        usage.check_output_dir(args.out, "--out")
        if args.out.is_dir() and any(args.out.iterdir()) and not SyntheticAVA(args.out).evaluated_label_map.exists():
            raise UsageError(f"--out {args.out}: holds other files, not a synthetic AVA data set; --overwrite "
                                   "replaces only a data set this command wrote")
    data = make_synthetic_ava(args.out, train_videos=args.train_videos, val_videos=args.val_videos,
                              seconds=args.seconds, height=args.height, width=args.width, seed=args.seed,
                              overwrite=args.overwrite)
    print(data.root)
    return 0
