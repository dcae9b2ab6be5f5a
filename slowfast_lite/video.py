"""Video files through PyAV: write frames, probe a file, decode only the frames asked for."""

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


class VideoDecodeError(Exception):
    """A video file could not be read; the message names the file and the cause."""


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe`` reports about the first video stream of a file."""

    frames: int
    fps: float
    width: int
    height: int
    duration: float  # seconds


_CODEC_BY_SUFFIX = {".mp4": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}


def write_video(path, frames, fps, codec=None, gop=None, crf=18, pix_fmt="yuv420p"):
    """Write uint8 frames (T, H, W, 3) RGB to ``path`` (mp4, webm or mkv chosen by the suffix).

    codec None picks libx264 for mp4/mkv and libvpx-vp9 for webm. ``gop`` is the keyframe interval in
    frames (None: the encoder's default long GOP). Returns the path.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{path}: frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    codec = codec or _CODEC_BY_SUFFIX.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"{path}: unknown video suffix {path.suffix!r}; use one of {sorted(_CODEC_BY_SUFFIX)}")
    height, width = frames.shape[1:3]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if gop is not None:
            stream.codec_context.gop_size = int(gop)
        if codec in ("libx264", "libx265", "libvpx-vp9"):
            stream.options = {"crf": str(crf)} | ({"b": "0"} if codec == "libvpx-vp9" else {})
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return path


def _open(path):
    path = Path(path)
    if not path.exists():
        raise VideoDecodeError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: file is empty (0 bytes)")
    try:
        container = av.open(str(path))
    except av.FFmpegError as err:
        raise VideoDecodeError(f"{path}: not a readable video container ({err})") from err
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(f"{path}: has no video stream")
    return container


def _decode_all(path):
    with _open(path) as container:
        try:
            return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        except av.FFmpegError as err:
            raise VideoDecodeError(f"{path}: decoding failed ({err})") from err


def probe(path) -> VideoInfo:
    """Frame count, frame rate, size and duration of the first video stream of ``path``."""
    with _open(path) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)
        width, height = stream.codec_context.width, stream.codec_context.height
        count = stream.frames
    if count <= 0:
        count = len(_decode_all(path))
    return VideoInfo(frames=count, fps=fps, width=width, height=height, duration=count / fps if fps else 0.0)


def read_frames(path, indices) -> np.ndarray:
    """Decode the frames at ``indices`` (any order, repeats allowed) as uint8 (T, H, W, 3) RGB."""
    frames = _decode_all(path)
    indices = np.asarray(indices, dtype=np.int64)
    if indices.size and (indices.min() < 0 or indices.max() >= len(frames)):
        raise VideoDecodeError(f"{path}: frame index out of range [0, {len(frames)})")
    return np.stack([frames[i] for i in indices]) if indices.size else np.zeros((0, 0, 0, 3), np.uint8)
