"""Video files through PyAV: write frames, probe a file, decode only the frames asked for.

Frame ``i`` of a file is the i-th frame in presentation order. Its timestamp is read from the container
(one pass over the packets, no decoding), so the index <-> time mapping is exact for constant-frame-rate
files and follows the real timestamps of variable-frame-rate ones. ``read_frames`` seeks to the keyframe
before each wanted run of frames, decodes forward, stops after the last wanted frame and converts to RGB
only the frames it returns.

Bad input raises ``VideoDecodeError`` naming the file and the cause: a missing, empty, non-video or
audio-only file, an mp4 cut short (its index comes last), an index outside [0, frames) (negative ones
included: nothing is clamped here), damaged H.264 data. Two documented exceptions: a webm/mkv, or an mp4
with its index first ("faststart"), cut short reads as the shorter video it still holds (``probe`` counts
the frames that decode), and damaged VP9 data cannot be told from good data. Paths are always opened as
files, never as FFmpeg protocols or URLs (``concat:a.mp4`` is a file name).
"""

import functools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from slowfast_lite import utils
from slowfast_lite.errors import VideoDecodeError


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe`` reports about the first video stream of a file."""

    frames: int  # number of frames that can be decoded
    fps: float  # average frame rate (exact for constant-frame-rate files)
    width: int
    height: int
    duration: float  # seconds, from the first frame's start to the last frame's end
    constant_rate: bool = True  # False when the frame timestamps are irregular (variable frame rate)


# ---------------------------------------------------------------------------------------------------- writing

_CODEC_BY_SUFFIX = {".mp4": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}
VIDEO_SUFFIXES = tuple(_CODEC_BY_SUFFIX)  # what write_video can write
_NEEDS_EVEN_SIZE = {"libx264", "libx265"}  # these encoders reject odd sizes in 4:2:0


def write_video(path, frames, fps, codec=None, gop=None, crf=18, pix_fmt="yuv420p", times=None, options=None):
    """Write uint8 RGB frames (T, H, W, 3) to ``path``; the container (mp4, webm, mkv) follows the suffix.

    codec: None picks libx264 (H.264) for mp4/mkv and libvpx-vp9 for webm. gop: keyframe interval in frames
    (None: the encoder's default long GOP). crf: quality (lower is better; 18 is visually lossless for
    x264). H.264 in yuv420p needs even sizes: odd sizes raise ValueError (pass ``pix_fmt="yuv444p"`` or use
    webm). times: optional presentation time in seconds of each frame (increasing) for a variable frame
    rate; ``fps`` is then only the nominal rate in the header. options: extra encoder options (strings), e.g.
    ``{"preset": "veryfast"}``. The same frames give the same bytes on every run (one encoder thread, no
    x264 macroblock tree, no random container ids). The file appears atomically. Returns the path.
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"{path}: frames must be a non-empty uint8 array (T, H, W, 3), got {frames.dtype} "
                         f"{frames.shape}")
    codec = codec or _CODEC_BY_SUFFIX.get(path.suffix.lower())
    if codec is None:
        raise ValueError(f"{path}: unknown video suffix {path.suffix!r}; use one of {sorted(_CODEC_BY_SUFFIX)}")
    height, width = frames.shape[1:3]
    if codec in _NEEDS_EVEN_SIZE and pix_fmt == "yuv420p" and (height % 2 or width % 2):
        raise ValueError(f"{path}: {codec} with yuv420p needs even width and height, got {width}x{height}; "
                         "crop or pad to even sizes, or pass pix_fmt='yuv444p'")
    rate = Fraction(fps).limit_denominator(1001)
    if times is not None:
        times = np.asarray(times, dtype=np.float64)
        if times.shape != (len(frames),) or np.any(np.diff(times) <= 0):
            raise ValueError(f"{path}: times must hold one increasing time per frame ({len(frames)})")
    with utils.atomic_write(path) as partial:  # the suffix, kept, picks the container
        with av.open(ffmpeg_path(partial), mode="w", options={"fflags": "+bitexact"}) as container:  # no random ids
            stream = container.add_stream(codec, rate=rate)
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            if times is not None:  # fine ticks carry the irregular spacing
                stream.codec_context.time_base = Fraction(1, 90000)
            if gop is not None:
                stream.codec_context.gop_size = int(gop)
            # Reproducible bytes: they depend on the encoder's thread count, and x264's macroblock-tree rate
            # control changes them from run to run for some frame sizes.
            encoder_options = {"threads": "1"} | ({"x264-params": "mbtree=0"} if codec == "libx264" else {})
            if codec in ("libx264", "libx265", "libvpx-vp9"):
                encoder_options |= {"crf": str(crf)} | ({"b": "0"} if codec == "libvpx-vp9" else {})
            stream.options = encoder_options | dict(options or {})
            for i, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                if times is not None:
                    frame.pts = round(times[i] / stream.codec_context.time_base)
                container.mux(stream.encode(frame))
            container.mux(stream.encode())
    return path


# ---------------------------------------------------------------------------------------------------- reading

def ffmpeg_path(path):
    """``path`` as FFmpeg must see it to open it as a file: ``file:`` and the absolute path. A bare name like
    ``concat:a.mp4`` or ``file:x.mp4`` would otherwise be read as a protocol (and open another file)."""
    return f"file:{os.path.abspath(path)}"


def _open(path):
    """Open ``path`` for reading; every failure becomes a VideoDecodeError naming the file."""
    path = Path(path)
    if not path.exists():
        raise VideoDecodeError(f"{path}: file not found")
    if not path.is_file():
        raise VideoDecodeError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(f"{path}: file is empty (0 bytes)")
    try:
        # Opening decodes a few frames to learn the stream's parameters (about 80 ms at 720p). mp4, mkv and
        # webm headers already hold them, so skip that decoding; reopen normally if the size stays unknown.
        container = av.open(ffmpeg_path(path), options={"skip_frame": "all"})
        if container.streams.video and not container.streams.video[0].codec_context.width:
            container.close()
            container = av.open(ffmpeg_path(path))
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise VideoDecodeError(f"{path}: cannot be opened as a video: damaged, truncated or not a video "
                               f"({err})") from err
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["none"]
        container.close()
        raise VideoDecodeError(f"{path}: has no video stream (streams: {', '.join(kinds)})")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"  # frame and slice threads, as many as the decoder likes
    # Fail on damaged data instead of concealing it: an error beats silently wrong frames.
    stream.codec_context.options = {"err_detect": "crccheck+bitstream+buffer+explode"}
    return container, stream


@dataclass(frozen=True)
class _Index:
    """Presentation timestamps of every frame (stream time base) and which frames are keyframes."""

    pts: np.ndarray  # int64 (frames,), increasing: frame i is shown at pts[i]
    keyframes: np.ndarray  # int64, the indices of the keyframes, increasing
    time_base: Fraction
    end_pts: int  # end of the last frame
    rate: Fraction | None  # what the container says the frame rate is
    width: int
    height: int


    def frame_at(self, pts):
        """Index of the frame with timestamp ``pts``, or None."""
        i = int(np.searchsorted(self.pts, pts))
        return i if pts is not None and i < len(self.pts) and self.pts[i] == pts else None


DECODED_CACHE_SIZE = 2048  # whole videos: 2048 MotionShapes clips (40 px, 20 frames) take 200 MB
# A frame index for every decoded video kept, so that a data set read from memory never reads a file's packets
# again: a 10 s clip's index takes a few KB, a 15-minute 30 fps video's about 0.2 MB
INDEX_CACHE_SIZE = DECODED_CACHE_SIZE


def _decodable(path, container, stream, pts, keyframes):
    """The timestamps ``pts`` of a file cut short, shortened to the frames that decode in order.

    Decodes the last two GOPs (an open GOP may lean on the last keyframe) until the damaged tail stops the
    decoder; the frames still queued in it (B-frames) are lost with it.
    """
    decoded = set()
    for start in dict.fromkeys([int(keyframes[max(len(keyframes) - 2, 0)]), 0]):
        container.seek(int(pts[start]), stream=stream, backward=True)
        try:
            for frame in container.decode(stream):
                decoded.add(frame.pts)
        except av.FFmpegError:
            pass  # the damaged tail
        if int(pts[start]) in decoded:
            break
    missing = [i for i in range(start, len(pts)) if int(pts[i]) not in decoded]
    return pts[:missing[0]] if missing else pts


@functools.lru_cache(maxsize=INDEX_CACHE_SIZE)
def _index_cached(path, device, inode, size, mtime_ns):
    container, stream = _open(path)
    with container:
        entries = []  # (pts, is_keyframe, duration) in decode order
        cut_short = False  # a packet runs past the end of the file (an mp4 with its index first, cut short)
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue
                pts = packet.pts if packet.pts is not None else packet.dts
                if pts is None:
                    raise VideoDecodeError(f"{path}: frames carry no timestamps; cannot index them")
                entries.append((pts, packet.is_keyframe, packet.duration or 0))
                cut_short = cut_short or packet.is_corrupt or (packet.pos or 0) + packet.size > (size or 0)
        except av.FFmpegError as err:
            raise VideoDecodeError(f"{path}: reading packets failed ({err})") from err
        if not entries:
            raise VideoDecodeError(f"{path}: the video stream holds no frames")
        entries.sort()
        pts = np.array([e[0] for e in entries], dtype=np.int64)
        if np.any(np.diff(pts) == 0):
            raise VideoDecodeError(f"{path}: several frames share one timestamp; cannot index them")
        last_duration = entries[-1][2] or (pts[-1] - pts[0]) // max(len(pts) - 1, 1)
        keyframes = np.array([i for i, e in enumerate(entries) if e[1]] or [0], dtype=np.int64)
        if cut_short:
            pts = _decodable(path, container, stream, pts, keyframes)
            keyframes = keyframes[keyframes < len(pts)]
            if not len(pts):
                raise VideoDecodeError(f"{path}: truncated file: no frame can be decoded")
        return _Index(
            pts=pts,
            keyframes=keyframes,
            time_base=stream.time_base,
            end_pts=int(pts[-1] + last_duration),
            rate=stream.average_rate or stream.guessed_rate,
            width=stream.codec_context.width,
            height=stream.codec_context.height,
        )


def _file_key(path):
    """(path as given, device, inode, size, modification time): a cache key that changes when the file does.

    One ``stat`` (through symbolic links), not ``Path.resolve``: that walks every component of the path with
    ``lstat``, and this runs twice for every clip read (39 against 6 us; notebook 06 reads 24,000 clips). A file
    reached by two spellings of its path is cached twice: it costs memory, never a wrong frame.
    """
    path = os.fspath(path)
    try:
        stat = os.stat(path)
    except OSError:  # such entries are never reused: opening the file names the problem
        return path, None, None, None, None
    return path, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _index(path) -> _Index:
    """The frame index of ``path``, cached until the file changes."""
    return _index_cached(*_file_key(path))


def probe(path) -> VideoInfo:
    """Frame count, frame rate, size and duration of the first video stream of ``path``.

    The count is that of the frames present (webm/mkv headers carry none; it is counted from the packets).
    A constant-frame-rate file reports the container's exact rate; a variable one frames / duration.
    """
    index = _index(path)
    frames = len(index.pts)
    duration = float((index.end_pts - int(index.pts[0])) * index.time_base)
    steps = np.diff(index.pts)
    constant = steps.size == 0 or int(steps.max() - steps.min()) <= 1  # 1 tick: rounding to the time base
    if constant and index.rate:
        fps = float(index.rate)
    else:
        fps = frames / duration if duration > 0 else 0.0
    return VideoInfo(frames, fps, index.width, index.height, duration, constant_rate=constant)


def frame_times(path) -> np.ndarray:
    """Presentation time in seconds of every frame, relative to the first one: float64 (frames,).

    Exact for constant frame rate (``i / fps`` up to the container's time base); the real times for
    variable frame rate. ``np.searchsorted(frame_times(path), t, side="right") - 1`` is the frame shown at t.
    """
    index = _index(path)
    return (index.pts - index.pts[0]) * float(index.time_base)


def _check_indices(path, indices, num_frames) -> np.ndarray:
    array = np.asarray(indices)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{path}: frame indices must be integers, got dtype {array.dtype}")
    array = array.astype(np.int64).reshape(-1)
    bad = array[(array < 0) | (array >= num_frames)]
    if bad.size:
        raise VideoDecodeError(f"{path}: frame index {int(bad[0])} is out of range: the video has {num_frames} "
                               f"frames (valid 0..{num_frames - 1}; negative indices are not allowed)")
    return array


def _plan(wanted, keyframes):
    """Group sorted unique frame indices into runs that each start with one seek: [(keyframe, [indices])].

    A new run starts when the next wanted frame has a keyframe at or before it that lies beyond the frame
    after the last one decoded so far: seeking there skips decoding the frames in between.
    """
    runs = []
    for i in wanted:
        key = int(keyframes[np.searchsorted(keyframes, i, side="right") - 1])
        if runs and key <= runs[-1][1][-1] + 1:
            runs[-1][1].append(i)
        else:
            runs.append((key, [i]))
    return runs


def _decode_run(path, container, stream, index, keyframe, wanted, rows, out, to_rgb):
    """Seek to ``keyframe``, decode forward and write each wanted frame into its rows of ``out``, converted by
    the ``to_rgb`` reformatter."""
    todo = set(wanted)
    earlier = int(index.keyframes[max(np.searchsorted(index.keyframes, keyframe) - 1, 0)])
    # A container may land after the frame we need (seek imprecision): then retry from an earlier keyframe.
    for start in dict.fromkeys([keyframe, earlier, 0]):
        container.seek(int(index.pts[start]), stream=stream, backward=True)
        landed = last = None
        try:
            for frame in container.decode(stream):
                i = index.frame_at(frame.pts)
                if i is None:
                    continue
                last = i
                if landed is None:
                    landed = i
                    if landed > wanted[0]:
                        break
                if i in todo:
                    rgb = to_rgb.reformat(frame, format="rgb24").to_ndarray()
                    if rgb.shape != out.shape[1:]:
                        raise VideoDecodeError(f"{path}: frame {i} is {rgb.shape[1]}x{rgb.shape[0]}, the first "
                                               f"is {out.shape[2]}x{out.shape[1]}: the frame size changes")
                    out[rows[i]] = rgb
                    todo.discard(i)
                if i >= wanted[-1]:
                    break
        except av.FFmpegError as err:
            near = start if last is None else last + 1
            raise VideoDecodeError(f"{path}: decoding failed near frame {near}: damaged data ({err})") from err
        if landed is not None and landed <= wanted[0]:
            break
    if todo:
        raise VideoDecodeError(f"{path}: frame {min(todo)} could not be decoded (damaged or truncated file)")


def read_frames(path, indices, cache=False) -> np.ndarray:
    """Decode the frames at ``indices`` as uint8 RGB (T, H, W, 3), T = len(indices).

    Indices may come in any order and repeat (each distinct frame is decoded and converted once). An index
    outside [0, frames) raises VideoDecodeError: clamp first (``sampling`` does). ``cache``: decode the whole
    video once and keep it in memory (the last ``DECODED_CACHE_SIZE`` videos, until the file changes), for
    small videos read again and again, as a training set is every epoch; the frames are the same.
    """
    index = _index(path)
    indices = _check_indices(path, indices, len(index.pts))
    if cache:
        return _decoded_cached(*_file_key(path))[indices]
    out = np.empty((len(indices), index.height, index.width, 3), dtype=np.uint8)
    if not len(indices):
        return out
    rows = {}
    for row, i in enumerate(indices.tolist()):
        rows.setdefault(i, []).append(row)
    # One reformatter for the whole call: it keeps its colour-conversion context from frame to frame, where
    # ``frame.to_ndarray(format="rgb24")`` builds a new one for each frame (70% of reading a 40 px clip)
    to_rgb = VideoReformatter()
    container, stream = _open(path)
    with container:
        for keyframe, wanted in _plan(sorted(rows), index.keyframes):
            _decode_run(path, container, stream, index, keyframe, wanted, rows, out, to_rgb)
    return out


@functools.lru_cache(maxsize=DECODED_CACHE_SIZE)
def _decoded_cached(path, device, inode, size, mtime_ns):
    frames = read_frames(path, np.arange(len(_index(path).pts)))
    frames.flags.writeable = False  # shared by every later call: nobody may change it in place
    return frames
