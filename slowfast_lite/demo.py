"""The demo: a trained model over a whole video, window after window.

Every window is one test clip sampled by PySlowFast's rule: it spans T * tau frames at 30 fps (scaled to the
video's frame rate), the Fast pathway takes alpha * T frames spread over it and the Slow pathway T of those;
frames then go through the data set's test view (``View``: short-side scale, centre crop, normalisation).
Windows start every ``stride`` frames (half a window by default) and the last one ends on the last frame, so
the whole video is covered.
Results: the top-5 classes of each window (printed), a timeline of class probabilities, and an annotated
mp4 with the label and score of the nearest window drawn on every frame.

    python -m slowfast_lite demo VIDEO --model NAME --checkpoint FILE [--labels FILE] [--out out.mp4]
    python -m slowfast_lite demo VIDEO --model slowfast_r50_8x8 --weights kinetics400 [--out out.mp4]

``--weights`` takes the paper's weights from the model zoo (``zoo``: downloaded once into the torch hub cache,
checked, loaded strictly), with their class names and the view they were tested with (short side 256, centre
crop 256).
"""

import dataclasses
import functools
import json
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import torch

from slowfast_lite.errors import DemoError

from . import checkpoints, sampling, transforms, usage, utils, video, zoo
from .transforms import View


@dataclass(frozen=True)
class WindowPrediction:
    """Class probabilities of one window of a video."""

    start: float  # first frame of the window (PySlowFast's start may be fractional)
    end: float  # last frame of the window, clamped to the video
    fps: float
    probs: np.ndarray  # (num_classes,) softmax probabilities

    @property
    def seconds(self):
        """(start, end) of the window in seconds."""
        return self.start / self.fps, (self.end + 1) / self.fps

    @property
    def center(self):
        return (self.start + self.end) / 2

    def top(self, k=5):
        """[(class index, probability), ...], the ``k`` most likely classes, best first."""
        order = np.argsort(-self.probs, kind="stable")[:k]
        return [(int(i), float(self.probs[i])) for i in order]


# ---------------------------------------------------------------------------------------------------- labels

def read_labels(path, num_classes=None):
    """Class names from a labels file: one name per line, or PySlowFast's json ``{"name": index}``.

    Quotes around json names (PySlowFast's Kinetics file writes ``"\\"abseiling\\""``) are removed. With
    ``num_classes``, a file naming another number of classes raises DemoError.
    """
    path = Path(path)
    if not path.is_file():
        raise DemoError(f"labels file {path} does not exist")
    text = usage.read_text(path)
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        names = _json_labels(path, text)
    else:
        lines = text.splitlines()
        while lines and not lines[-1].strip():
            lines.pop()
        empty = [i + 1 for i, line in enumerate(lines) if not line.strip()]
        if empty:
            raise DemoError(f"{path}: line {empty[0]} is empty; the file must hold one class name per line")
        names = [line.strip() for line in lines]
    if not names:
        raise DemoError(f"{path}: no class names found")
    if num_classes is not None and len(names) != num_classes:
        raise DemoError(f"{path} names {len(names)} classes but the model predicts {num_classes}")
    return names


def _json_labels(path, text):
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as err:
        raise DemoError(f"{path}: not valid json ({err})") from err
    if not isinstance(mapping, dict) or not all(isinstance(v, int) for v in mapping.values()):
        raise DemoError(f'{path}: expected a json object {{"class name": index, ...}} with integer indices')
    indices = sorted(mapping.values())
    if indices != list(range(len(mapping))):
        missing = sorted(set(range(len(mapping))) - set(indices))
        raise DemoError(f"{path}: indices must be 0..{len(mapping) - 1}, each once; "
                        f"{'missing ' + str(missing[:5]) if missing else 'some repeat'}")
    names = [""] * len(mapping)
    for name, index in mapping.items():
        names[index] = name.strip().strip('"')
    return names


def class_name(index, labels=None):
    return labels[index] if labels else f"class {index}"


# ---------------------------------------------------------------------------------------------------- predicting

def window_starts(video_length, window, stride):
    """Start frames of windows of ``window`` frames every ``stride`` frames; the last one ends on the last frame.

    A video shorter than a window gets one window at 0 (its last frame repeats, as in PySlowFast).
    """
    if stride <= 0:
        raise DemoError(f"stride must be positive, got {stride}")
    last = max(video_length - window, 0.0)
    starts = [float(s) for s in np.arange(0.0, last + 1e-6, stride)]
    if starts[-1] < last - 1e-6:
        starts.append(float(last))
    return starts


def window_inputs(frames, config, view=None):
    """uint8 frames (num_frames, H, W, 3) of one window -> the model's pathways, each (3, T_p, crop, crop), through
    ``view`` (default ``View()``: the model's training crop, Kinetics normalisation)."""
    view = view or View()
    return view(transforms.to_clip(frames), config.pathways, config.alpha, default_crop=config.crop_size)


def predict_video(model, path, stride=None, view=None, batch_size=4, progress=False):
    """Run ``model`` over every window of the video at ``path``; returns one WindowPrediction per window.

    stride: frames between window starts (default half a window); view: the test transform (default
    ``View()``: the model's training crop, Kinetics normalisation). The model runs in eval mode on its own
    device; its training mode is restored afterwards.
    """
    config = model.config
    view = view or View()
    info = video.probe(path)
    window = sampling.window_size(config.num_frames, config.sampling_rate, info.fps)
    starts = window_starts(info.frames, window, stride or window / 2)
    device = next(model.parameters()).device
    batches = [starts[i:i + batch_size] for i in range(0, len(starts), batch_size)]
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(batches, desc=f"{Path(path).name}: {len(starts)} windows", unit="batch")
    predictions = []
    was_training = model.training
    model.eval()
    try:
        for batch in batches:
            indices = [sampling.fast_indices(s, s + window - 1, config.num_frames, info.frames) for s in batch]
            wanted = sorted({int(i) for idx in indices for i in idx})  # decode each frame once per batch
            frames = video.read_frames(path, wanted)
            row = {frame: r for r, frame in enumerate(wanted)}
            clips = [window_inputs(frames[[row[int(i)] for i in idx]], config, view) for idx in indices]
            pathways = [torch.stack(p).to(device) for p in zip(*clips, strict=True)]
            with torch.no_grad():
                probs = model.predict(pathways).float().cpu().numpy()
            for start, p in zip(batch, probs, strict=True):
                end = min(start + window - 1, info.frames - 1)
                predictions.append(WindowPrediction(start, end, info.fps, p))
    finally:
        model.train(was_training)
    return predictions


def format_predictions(predictions, labels=None, k=5):
    """A table: one line per window with its frames, seconds and top-``k`` classes."""
    lines = [f"{'frames':>11}  {'seconds':>13}  top-{k}"]
    for p in predictions:
        t0, t1 = p.seconds
        top = ", ".join(f"{class_name(c, labels)} {prob:.2f}" for c, prob in p.top(k))
        lines.append(f"{p.start:>5.0f}-{p.end:<5.0f}  {t0:>6.2f}-{t1:<6.2f}  {top}")
    return "\n".join(lines)


def nearest_window(predictions, num_frames):
    """For every frame, the index of the window whose centre is nearest: int array (num_frames,)."""
    centers = np.array([p.center for p in predictions])
    return np.abs(np.arange(num_frames)[:, None] - centers[None, :]).argmin(axis=1)


# ---------------------------------------------------------------------------------------------------- drawing

@functools.lru_cache(maxsize=8)
def _font(size):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # a scalable font (Pillow >= 10.1)
    except TypeError:
        return ImageFont.load_default()


def _caption_sizes(height, num_lines):
    """Font sizes of a caption's lines for a frame ``height`` rows high, and the band's height (even)."""
    sizes = [max(8, height // 12)] + [max(7, height // 18)] * (num_lines - 1)
    band = sum(int(s * 1.25) for s in sizes) + 4
    return sizes, band + band % 2


def draw_caption(frame, lines):
    """``frame`` (H, W, 3) uint8 under a dark band of ``lines`` of text, the first line the largest: the band is
    added above the frame, so the text never covers what the model looked at. Returns (H + band, W, 3)."""
    from PIL import Image, ImageDraw

    height, width = frame.shape[:2]
    sizes, band_height = _caption_sizes(height, len(lines))
    image = Image.new("RGB", (width, height + band_height), (24, 24, 24))
    image.paste(Image.fromarray(np.ascontiguousarray(frame)), (0, band_height))
    draw = ImageDraw.Draw(image)
    y = 2
    for text, size in zip(lines, sizes, strict=True):
        draw.text((4, y), text, font=_font(size), fill=(255, 255, 255))
        y += int(size * 1.25)
    return np.asarray(image)


def _display_size(height, width, min_height):
    """Integer upscale so small videos get readable text, then rounded up to even sizes for H.264."""
    scale = max(1, -(-min_height // height))
    return scale, height * scale + (height * scale) % 2, width * scale + (width * scale) % 2


def annotate_video(path, predictions, out, labels=None, k=3, min_height=240, chunk=128):
    """Write ``out`` (mp4): the video at ``path`` with its nearest window's top-``k`` drawn on each frame.

    Small videos are enlarged by an integer factor to at least ``min_height`` rows so the text stays
    readable. Frames are decoded and encoded in chunks, so long videos need little memory; ``out``
    appears atomically. Returns its path.
    """
    info = video.probe(path)
    out = Path(out)
    scale, height, width = _display_size(info.height, info.width, min_height)
    owner = nearest_window(predictions, info.frames)
    captions = [[f"{class_name(c, labels)} {prob:.0%}" for c, prob in p.top(k)] for p in predictions]
    k = len(captions[0])  # fewer classes than k: every caption has that many lines
    with utils.atomic_write(out) as partial:
        with av.open(video.ffmpeg_path(partial), mode="w") as container:
            stream = container.add_stream("libx264", rate=Fraction(info.fps).limit_denominator(1001))
            band = _caption_sizes(height, k)[1]
            stream.width, stream.height, stream.pix_fmt = width, height + band, "yuv420p"
            stream.options = {"crf": "20"}
            for first in range(0, info.frames, chunk):
                frames = video.read_frames(path, range(first, min(first + chunk, info.frames)))
                for i, frame in enumerate(frames, start=first):
                    big = frame.repeat(scale, axis=0).repeat(scale, axis=1)
                    big = np.pad(big, ((0, height - big.shape[0]), (0, width - big.shape[1]), (0, 0)), mode="edge")
                    rgb = draw_caption(big, captions[owner[i]])
                    container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
            container.mux(stream.encode())
    return out


# ---------------------------------------------------------------------------------------------------- command

def _no_weights_message():
    return ("refusing to run without trained weights: pass --checkpoint FILE, or --weights kinetics400 for the "
            f"paper's Kinetics-400 weights of {', '.join(sorted({m for m, _ in zoo.WEIGHTS}))} (downloaded once "
            "into the torch hub cache; python -m slowfast_lite zoo lists them). A freshly initialised network only "
            "prints noise.")


def _parser():
    parser = usage.ArgumentParser(prog="python -m slowfast_lite demo",
                                description="Sliding-window predictions over a video, with a timeline and an "
                                            "annotated mp4.")
    parser.add_argument("video", help="the video file")
    parser.add_argument("--model", required=True, help="model name, e.g. slowfast_r50_8x8, slowfast_tiny")
    parser.add_argument("--checkpoint", help="weights: PySlowFast .pyth/.pkl, PyTorchVideo .pyth, or ours")
    parser.add_argument("--weights", help="instead, the model zoo's weights of --model, e.g. kinetics400: "
                                          "downloaded once into the torch hub cache, with their class names")
    parser.add_argument("--labels", help="class names: one per line, or PySlowFast's json {\"name\": index} "
                                         "(--weights brings its own)")
    parser.add_argument("--out", help=f"annotated video to write ({', '.join(VIDEO_SUFFIXES)}; and its timeline "
                                      "as <out>_timeline.png)")
    parser.add_argument("--timeline", help="where to save the timeline figure (png, pdf, svg ...)")
    parser.add_argument("--stride", type=usage.number(above=0),
                        help="frames between window starts (default: half a window)")
    parser.add_argument("--crop", type=usage.integer(minimum=1, maximum=1024),
                        help="crop size in pixels (default: the model's training crop)")
    parser.add_argument("--short-side", type=usage.integer(minimum=1, maximum=4096),
                        help="short side before cropping (default: the crop size)")
    parser.add_argument("--top", type=usage.integer(minimum=1, maximum=1000), default=5,
                        help="classes printed per window (default 5)")
    parser.add_argument("--batch-size", type=usage.integer(minimum=1, maximum=1024), default=4,
                        help="windows per forward pass")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, mps")
    return parser


VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov")  # containers that take the H.264 stream annotate_video writes


def _outputs(args):
    """(annotated video, timeline) paths, checked before any work: writable, known formats, no input overwritten."""
    from matplotlib.backend_bases import FigureCanvasBase

    inputs = (args.video, args.checkpoint, args.labels)
    out = timeline = None
    if args.out:
        out = usage.check_output_file(args.out, "--out", inputs, VIDEO_SUFFIXES)
        timeline = out.with_name(out.stem + "_timeline.png")
    if args.timeline:
        figure_suffixes = {f".{s}" for s in FigureCanvasBase.get_supported_filetypes()}
        timeline = usage.check_output_file(args.timeline, "--timeline", inputs + (args.out,), figure_suffixes)
    elif timeline is not None:
        timeline = usage.check_output_file(timeline, "--out's timeline", inputs)
    return out, timeline


def load_model(name, checkpoint, device="cpu"):
    """(model, view): model ``name`` with the checkpoint's weights (``checkpoints.load_model``) and the test view
    to feed it: the trainer's recorded data settings where the checkpoint has them, else the default ``View()``."""
    model, settings = checkpoints.load_model(checkpoint, name, device)
    return model, View.from_settings(settings) if settings else View()


def cli(argv) -> int:
    args = _parser().parse_args(argv)
    if args.checkpoint and args.weights:
        raise DemoError("give --checkpoint FILE or --weights NAME, not both")
    if not (args.checkpoint or args.weights):
        print(f"demo: {_no_weights_message()}", file=sys.stderr)
        return 2
    usage.check_model_name(args.model)
    if args.short_side and args.crop and args.short_side < args.crop:
        raise DemoError(f"--short-side {args.short_side}: smaller than --crop {args.crop}; the crop is cut from "
                        "the scaled frame, so give a short side >= the crop")
    entry = zoo.get(args.model, args.weights) if args.weights else None
    out, timeline = _outputs(args)
    if args.checkpoint:
        usage.check_input_file(args.checkpoint, "--checkpoint")
    video.probe(args.video)  # a video that cannot be read fails now, not after loading the model
    device = utils.pick_device(usage.check_device(args.device))
    if entry:
        model, labels = zoo.load(args.model, args.weights, device, progress=sys.stderr.isatty())
        view = View(crop_size=entry.test_crop, short_side=entry.test_scale)
    else:
        model, view = load_model(args.model, args.checkpoint, device)
        labels = None
    view = dataclasses.replace(view, crop_size=args.crop or view.crop_size,
                               short_side=args.short_side or (None if args.crop else view.short_side))
    crop = view.crop_size or model.config.crop_size
    if view.short_side is not None and view.short_side < crop:
        raise DemoError(f"--short-side {view.short_side}: smaller than the crop ({crop}); the crop is cut from "
                        "the scaled frame, so give a short side >= the crop")
    if args.labels:
        labels = read_labels(args.labels, model.config.num_classes)
    predictions = predict_video(model, args.video, args.stride, view, args.batch_size, progress=sys.stderr.isatty())
    print(format_predictions(predictions, labels, args.top))
    if timeline:
        from . import viz

        with utils.atomic_write(timeline) as partial:  # same suffix: matplotlib picks the format from it
            viz.timeline_figure(predictions, labels).savefig(partial)
        print(f"timeline: {timeline}")
    if out:
        print(f"annotated video: {annotate_video(args.video, predictions, out, labels)}")
    return 0
