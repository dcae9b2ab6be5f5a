"""How much faster is reading a 64-frame window with ``read_frames`` than the naive ways?

For 10 s, 30 fps H.264 videos (320x240 and 1280x720; a keyframe every second, and x264's default long GOP)
it reads 64-frame windows at random positions three ways and checks that all three give the same frames:
  read_frames   seek to the keyframe before the window, decode forward, convert only the window
  from start    decode from the first frame up to the window's end, converting every frame (naive loaders)
  whole video   decode and convert every frame, then pick the window
All three decode with the same threads, so the ratios measure seeking, skipped conversions and
``read_frames``' one colour converter for the whole call (the naive ways convert with ``frame.to_ndarray``). The frame
index that ``read_frames`` builds is cleared before every call, so its cost is included.
Run: ``python benchmarks/decode.py`` (``--positions``, ``--repeats``, ``--sizes 320x240 1280x720``).
"""

import argparse
import random
import statistics
import time

import av
import numpy as np
import torch

from slowfast_lite import video
from slowfast_lite.utils import data_root

SECONDS, FPS, WINDOW = 10, 30, 64


def make_benchmark_video(path, width, height, gop):
    """A textured scene panning right with a bright square crossing it: realistic work for the decoder."""
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (height, 2 * width, 3), dtype=np.uint8)
    texture = (texture // 4 + np.linspace(0, 190, 2 * width, dtype=np.uint8)[None, :, None]).astype(np.uint8)
    frames = np.empty((SECONDS * FPS, height, width, 3), np.uint8)
    side = height // 4
    for t in range(len(frames)):
        shift = (4 * t) % width
        frames[t] = texture[:, shift:shift + width]
        x = (9 * t) % (width - side)
        frames[t, side:2 * side, x:x + side] = 255
    return video.write_video(path, frames, FPS, gop=gop)


def benchmark_videos(sizes):
    folder = data_root() / "benchmarks" / "decode"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for width, height in sizes:
        for gop_name, gop in (("1s GOP", FPS), ("long GOP", None)):
            path = folder / f"{width}x{height}_{'gop30' if gop else 'default_gop'}.mp4"
            if not path.exists():
                print(f"writing {path.name} ...", flush=True)
                make_benchmark_video(path, width, height, gop)
            files[(f"{width}x{height}", gop_name)] = path
    return files


def read_window(path, start):
    video._index_cached.cache_clear()  # count the packet index in every call
    return video.read_frames(path, range(start, start + WINDOW))


def _decode_converting(path, last):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = []
        for frame in container.decode(stream):
            frames.append(frame.to_ndarray(format="rgb24"))
            if last is not None and len(frames) > last:
                break
    return frames


def from_start(path, start):
    return np.stack(_decode_converting(path, start + WINDOW - 1)[start:start + WINDOW])


def whole_video(path, start):
    return np.stack(_decode_converting(path, None)[start:start + WINDOW])


METHODS = {"read_frames": read_window, "from start": from_start, "whole video": whole_video}


def best_time(function, path, start, repeats):
    times, result = [], None
    for _ in range(repeats):
        begin = time.perf_counter()
        result = function(path, start)
        times.append(time.perf_counter() - begin)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=3, help="random windows per half of each video")
    parser.add_argument("--repeats", type=int, default=2, help="timings per window (the best is kept)")
    parser.add_argument("--sizes", nargs="+", default=["320x240", "1280x720"], help="WIDTHxHEIGHT")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes]
    files = benchmark_videos(sizes)
    rng = random.Random(args.seed)
    last_start = SECONDS * FPS - WINDOW
    halves = {"1st half": (0, last_start // 2), "2nd half": (last_start // 2 + 1, last_start)}

    print(f"\n64-frame windows, best of {args.repeats}, median over {args.positions} random positions "
          "(times in ms; ratio = method time / read_frames time)")
    print(f"{'video':<10}{'GOP':<10}{'window':<10}" + "".join(f"{m:>13}" for m in METHODS)
          + f"{'vs start':>10}{'vs whole':>10}")
    summary = {}
    for (size, gop), path in files.items():
        for half, (low, high) in halves.items():
            times = {method: [] for method in METHODS}
            for start in [rng.randint(low, high) for _ in range(args.positions)]:
                results = {}
                for method, function in METHODS.items():
                    seconds, results[method] = best_time(function, path, start, args.repeats)
                    times[method].append(seconds)
                reference = results["whole video"]
                if not all(np.array_equal(frames, reference) for frames in results.values()):
                    raise SystemExit(f"{path.name}: window at {start} differs between methods")
            ms = {method: 1000 * statistics.median(values) for method, values in times.items()}
            ratios = (ms["from start"] / ms["read_frames"], ms["whole video"] / ms["read_frames"])
            summary[(size, gop, half)] = ratios
            print(f"{size:<10}{gop:<10}{half:<10}" + "".join(f"{ms[m]:>13.1f}" for m in METHODS)
                  + f"{ratios[0]:>9.2f}x{ratios[1]:>9.2f}x")

    print("\nall methods returned identical frames")
    one_second = [r[0] for (size, gop, half), r in summary.items() if gop == "1s GOP" and half == "2nd half"]
    long_gop = [r[0] for (size, gop, half), r in summary.items() if gop == "long GOP"]
    print(f"1 s GOP, 2nd half: read_frames is {min(one_second):.2f}x-{max(one_second):.2f}x faster than "
          "decoding from the start (target >= 2x)")
    print(f"long GOP: read_frames is {min(long_gop):.2f}x-{max(long_gop):.2f}x the speed of decoding from the "
          "start (target >= 1x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
