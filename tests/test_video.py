import av
import numpy as np
import pytest
import torch
from conftest import CLIP_FPS, CLIP_FRAMES, CLIP_HEIGHT, CLIP_WIDTH, make_frames

from slowfast_lite import video
from slowfast_lite.video import VideoDecodeError, frame_times, probe, read_frames, write_video

FORMATS = ["mp4", "webm", "mkv", "mp4_long_gop"]


def decode_everything(path):
    """Reference: every frame of the file, decoded in order by PyAV without seeking."""
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


@pytest.fixture(scope="module")
def decoded(video_files):
    return {name: decode_everything(path) for name, path in video_files.items()}


@pytest.mark.parametrize("name", FORMATS)
def test_probe_reports_the_written_video(video_files, name):
    info = probe(video_files[name])
    assert (info.frames, info.width, info.height) == (CLIP_FRAMES, CLIP_WIDTH, CLIP_HEIGHT)
    assert info.fps == CLIP_FPS
    assert info.constant_rate
    assert info.duration == pytest.approx(CLIP_FRAMES / CLIP_FPS, abs=1e-3)


@pytest.mark.parametrize("name", ["webm", "mkv"])
def test_frame_count_is_derived_when_the_container_has_none(video_files, name):
    with av.open(str(video_files[name])) as container:
        assert container.streams.video[0].frames == 0  # the header says nothing
    assert probe(video_files[name]).frames == CLIP_FRAMES


@pytest.mark.parametrize("name", FORMATS)
def test_frame_times_map_index_to_time_exactly_at_constant_rate(video_files, name):
    times = frame_times(video_files[name])
    assert times.shape == (CLIP_FRAMES,)
    np.testing.assert_array_equal(np.round(times * CLIP_FPS).astype(int), np.arange(CLIP_FRAMES))
    tolerance = 1e-9 if name.startswith("mp4") else 0.5e-3  # webm/mkv store milliseconds
    np.testing.assert_allclose(times, np.arange(CLIP_FRAMES) / CLIP_FPS, rtol=0, atol=tolerance)


INDEX_CASES = {
    "first": [0],
    "middle": [22],
    "last": [CLIP_FRAMES - 1],
    "repeated": [7, 7, 7],
    "unsorted": [40, 3, 21, 3, 0],
    "around a keyframe": [8, 9, 10, 11],
    "sparse": [1, 19, 33, 44],
    "all": list(range(CLIP_FRAMES)),
}


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("case", list(INDEX_CASES))
def test_read_frames_equals_a_full_decode(video_files, decoded, name, case):
    indices = INDEX_CASES[case]
    frames = read_frames(video_files[name], indices)
    assert frames.dtype == np.uint8 and frames.shape == (len(indices), CLIP_HEIGHT, CLIP_WIDTH, 3)
    np.testing.assert_array_equal(frames, decoded[name][indices])


@pytest.mark.parametrize("name", FORMATS)
def test_cached_reads_give_the_same_frames_and_a_private_copy(video_files, decoded, name):
    indices = INDEX_CASES["unsorted"]
    first = read_frames(video_files[name], indices, cache=True)
    np.testing.assert_array_equal(first, decoded[name][indices])
    first[:] = 0  # the caller's copy: the cache is not changed through it
    np.testing.assert_array_equal(read_frames(video_files[name], indices, cache=True), decoded[name][indices])


def test_the_cache_sees_a_rewritten_file(tmp_path):
    path = tmp_path / "clip.mp4"
    write_video(path, make_frames(8), CLIP_FPS)
    before = read_frames(path, [3], cache=True)
    write_video(path, 255 - make_frames(8), CLIP_FPS)
    after = read_frames(path, [3], cache=True)
    np.testing.assert_array_equal(after, read_frames(path, [3]))
    assert not np.array_equal(before, after)


def test_the_cache_follows_a_symbolic_link_to_its_new_target(tmp_path):
    """The cache is keyed by the path as given and the file it leads to: the same link, pointed elsewhere,
    reads the new file's frames."""
    dark = write_video(tmp_path / "dark.mp4", make_frames(8), CLIP_FPS)
    light = write_video(tmp_path / "light.mp4", 255 - make_frames(8), CLIP_FPS)
    link = tmp_path / "clip.mp4"
    link.symlink_to(dark)
    np.testing.assert_array_equal(read_frames(link, [3], cache=True), read_frames(dark, [3]))
    assert probe(link).frames == 8
    link.unlink()
    link.symlink_to(light)
    np.testing.assert_array_equal(read_frames(link, [3], cache=True), read_frames(light, [3]))
    assert not np.array_equal(read_frames(dark, [3]), read_frames(light, [3]))


def test_a_data_set_read_from_memory_opens_no_file_again(tmp_path, monkeypatch):
    """More videos than the frame-index cache once held (256): a second pass over them, as every epoch after the
    first, neither decodes nor indexes any file again."""
    paths = [tmp_path / f"{i}.mp4" for i in range(300)]
    for i, path in enumerate(paths):
        write_video(path, np.full((2, 16, 16, 3), i % 256, np.uint8), CLIP_FPS)
    first = [read_frames(path, [1, 0], cache=True) for path in paths]
    opened = []
    monkeypatch.setattr(video, "_open", lambda path: opened.append(path))
    again = [read_frames(path, [1, 0], cache=True) for path in paths]
    assert opened == []
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", FORMATS)
def test_each_frame_read_is_closest_to_the_frame_written_there(video_files, clip_frames, name):
    frames = read_frames(video_files[name], range(CLIP_FRAMES)).astype(np.float32)
    written = clip_frames.astype(np.float32)
    errors = np.abs(frames[:, None] - written[None]).mean(axis=(2, 3, 4))  # (read, written)
    np.testing.assert_array_equal(errors.argmin(axis=1), np.arange(CLIP_FRAMES))


def test_indices_may_be_a_tensor_or_empty(video_files, decoded):
    path = video_files["mp4"]
    np.testing.assert_array_equal(read_frames(path, torch.tensor([5, 2])), decoded["mp4"][[5, 2]])
    assert read_frames(path, []).shape == (0, CLIP_HEIGHT, CLIP_WIDTH, 3)


def test_plan_seeks_only_when_a_keyframe_skips_frames():
    keyframes = (0, 10, 20, 30, 40)
    assert video._plan([1, 2, 25, 26, 44], keyframes) == [(0, [1, 2]), (20, [25, 26]), (40, [44])]
    assert video._plan([5, 12], keyframes) == [(0, [5]), (10, [12])]  # a seek skips frames 6-9
    assert video._plan([9, 10, 11], keyframes) == [(0, [9, 10, 11])]  # decoding on is cheaper
    assert video._plan([3, 7], (0,)) == [(0, [3, 7])]


class LateSeekingContainer:
    """A container whose seeks land on frame ``land_at`` for the first ``times`` seeks (a seek imprecision)."""

    def __init__(self, container, land_at, times):
        self.container, self.land_at, self.times = container, land_at, times

    def seek(self, pts, **kwargs):
        if self.times > 0:
            self.times -= 1
            pts = self.land_at
        return self.container.seek(pts, **kwargs)

    def __getattr__(self, name):
        return getattr(self.container, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.container.close()


def late_seeks(monkeypatch, path, land_at_frame, times):
    land_at = int(video._index(path).pts[land_at_frame])
    open_file = video._open

    def open_late(file):
        container, stream = open_file(file)
        return LateSeekingContainer(container, land_at, times), stream

    monkeypatch.setattr(video, "_open", open_late)


def test_a_seek_that_lands_too_late_is_retried_earlier(monkeypatch, video_files, decoded):
    late_seeks(monkeypatch, video_files["mkv"], land_at_frame=30, times=1)
    np.testing.assert_array_equal(read_frames(video_files["mkv"], [25, 26]), decoded["mkv"][[25, 26]])


def test_frames_that_cannot_be_reached_raise(monkeypatch, video_files):
    late_seeks(monkeypatch, video_files["mkv"], land_at_frame=40, times=10)
    with pytest.raises(VideoDecodeError, match=r"clip\.mkv: frame 25 could not be decoded"):
        read_frames(video_files["mkv"], [25])


def test_variable_frame_rate_follows_the_real_timestamps(tmp_path):
    frames = make_frames(30)
    times = np.cumsum(np.random.default_rng(0).choice([1 / 60, 1 / 30, 1 / 15], size=30))
    times -= times[0]
    path = write_video(tmp_path / "vfr.mkv", frames, 30, gop=8, times=times)
    info = probe(path)
    assert info.frames == 30 and not info.constant_rate
    assert info.fps == pytest.approx(30 / info.duration)
    np.testing.assert_allclose(frame_times(path), times, atol=0.5e-3)
    indices = [29, 0, 13, 14, 14]
    np.testing.assert_array_equal(read_frames(path, indices), decode_everything(path)[indices])


def test_a_rewritten_file_is_indexed_again(tmp_path):
    path = write_video(tmp_path / "clip.mp4", make_frames(12), 30)
    assert probe(path).frames == 12
    write_video(path, make_frames(20), 30)
    assert probe(path).frames == 20
    assert read_frames(path, [19]).shape[0] == 1


@pytest.mark.parametrize("suffix", [".mp4", ".webm"])
def test_odd_frame_sizes_are_read_exactly(tmp_path, suffix):
    frames = make_frames(6, height=17, width=33)
    pix_fmt = "yuv444p" if suffix == ".mp4" else "yuv420p"  # VP9 takes odd 4:2:0 sizes, x264 does not
    path = write_video(tmp_path / f"odd{suffix}", frames, 25, pix_fmt=pix_fmt)
    info = probe(path)
    assert (info.width, info.height, info.frames) == (33, 17, 6)
    np.testing.assert_array_equal(read_frames(path, [5, 0]), decode_everything(path)[[5, 0]])


def test_write_video_refuses_odd_sizes_for_h264_420(tmp_path):
    path = tmp_path / "odd.mp4"
    with pytest.raises(ValueError, match=r"odd\.mp4.*even width and height, got 33x17"):
        write_video(path, make_frames(3, height=17, width=33), 30)
    assert not path.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm"])
def test_write_video_is_reproducible_byte_for_byte(tmp_path, suffix):
    frames = make_frames(60, height=112, width=112)  # a size where x264's mb-tree used to vary run to run
    files = [write_video(tmp_path / f"take{i}{suffix}", frames, 30, gop=10).read_bytes() for i in range(3)]
    assert files[0] == files[1] == files[2]


@pytest.mark.parametrize("frames, message", [
    (np.zeros((2, 8, 8), np.uint8), "uint8 array"),
    (np.zeros((2, 8, 8, 3), np.float32), "uint8 array"),
    (np.zeros((0, 8, 8, 3), np.uint8), "non-empty"),
])
def test_write_video_rejects_bad_frames(tmp_path, frames, message):
    with pytest.raises(ValueError, match=message):
        write_video(tmp_path / "bad.mp4", frames, 30)


def test_write_video_rejects_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"clip\.avi.*unknown video suffix"):
        write_video(tmp_path / "clip.avi", make_frames(2), 30)


# ------------------------------------------------------------------------------------------- bad input

def write_audio_only(path):
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(8):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def bad_file(tmp_path, kind, video_files):
    if kind == "missing":
        return tmp_path / "missing.mp4"
    if kind == "folder":
        (tmp_path / "folder.mp4").mkdir()
        return tmp_path / "folder.mp4"
    if kind == "empty":
        path = tmp_path / "empty.mp4"
        path.write_bytes(b"")
        return path
    if kind == "text":
        path = tmp_path / "notes.mp4"
        path.write_text("these are notes, not a video\n" * 20)
        return path
    if kind == "audio only":
        return write_audio_only(tmp_path / "speech.mp4")
    if kind == "truncated mp4":  # the index (moov) of an mp4 comes last: cut it off
        path = tmp_path / "cut.mp4"
        data = video_files["mp4"].read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path
    raise AssertionError(kind)


@pytest.mark.parametrize("kind, cause", [
    ("missing", "file not found"),
    ("folder", "not a file"),
    ("empty", "empty"),
    ("text", "cannot be opened as a video"),
    ("audio only", r"no video stream \(streams: audio\)"),
    ("truncated mp4", "damaged, truncated or not a video"),
])
@pytest.mark.parametrize("call", ["probe", "read_frames", "frame_times"])
def test_bad_files_raise_naming_file_and_cause(tmp_path, video_files, kind, cause, call):
    path = bad_file(tmp_path, kind, video_files)
    with pytest.raises(VideoDecodeError, match=rf"{path.name}.*{cause}"):
        if call == "read_frames":
            read_frames(path, [0])
        else:
            getattr(video, call)(path)


@pytest.mark.parametrize("indices, bad", [([0, CLIP_FRAMES], CLIP_FRAMES), ([3, -1], -1), ([10**9], 10**9)])
def test_indices_outside_the_video_raise(video_files, indices, bad):
    with pytest.raises(VideoDecodeError, match=rf"clip\.mp4.*frame index {bad} is out of range.*{CLIP_FRAMES}"):
        read_frames(video_files["mp4"], indices)


def test_non_integer_indices_raise(video_files):
    with pytest.raises(ValueError, match="integers"):
        read_frames(video_files["mp4"], [1.5])


def test_damaged_h264_data_raises_instead_of_giving_wrong_frames(tmp_path, video_files, decoded):
    path = tmp_path / "damaged.mp4"
    data = bytearray(video_files["mp4"].read_bytes())
    with av.open(str(video_files["mp4"])) as container:
        packets = sorted((p for p in container.demux(video=0) if p.size), key=lambda p: p.pts)
    damaged = packets[30]  # a keyframe: every later frame depends on it
    for offset in range(damaged.size // 3, damaged.size, 7):
        data[damaged.pos + offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(VideoDecodeError, match=r"damaged\.mp4: decoding failed near frame \d+: damaged data"):
        read_frames(path, range(CLIP_FRAMES))
    np.testing.assert_array_equal(read_frames(path, [2, 12]), decoded["mp4"][[2, 12]])  # the rest still reads


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_webm_keeps_its_complete_frames(tmp_path, video_files, decoded, fraction):
    """Documented behaviour: webm/mkv cut short read as the shorter video they still hold."""
    data = video_files["webm"].read_bytes()
    path = tmp_path / "cut.webm"
    path.write_bytes(data[: int(len(data) * fraction)])
    count = probe(path).frames
    assert 0 < count < CLIP_FRAMES
    np.testing.assert_array_equal(read_frames(path, range(count)), decoded["webm"][:count])
    with pytest.raises(VideoDecodeError, match="out of range"):
        read_frames(path, [count])


def remux_faststart(source, path):
    """A copy of the mp4 ``source`` with its index (moov) before the frames, as web videos are written."""
    with av.open(str(source)) as src, av.open(str(path), "w", options={"movflags": "+faststart"}) as dst:
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(video=0):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    return path


@pytest.mark.parametrize("fraction", [0.5, 0.95])
def test_faststart_mp4_cut_short_counts_only_the_frames_that_decode(tmp_path, video_files, decoded, fraction):
    full = remux_faststart(video_files["mp4"], tmp_path / "full.mp4")
    data = full.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # the index comes first: what remains still has one
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: int(len(data) * fraction)])
    with av.open(str(path)) as container:
        listed = sum(1 for p in container.demux(video=0) if p.size)  # what the index promises
    count = probe(path).frames
    assert 0 < count < listed  # the packets cut in half (and B-frames waiting on them) are not counted
    np.testing.assert_array_equal(read_frames(path, range(count)), decoded["mp4"][:count])
    with pytest.raises(VideoDecodeError, match="out of range"):
        read_frames(path, [count])


@pytest.mark.parametrize("name", ["file:clip.mp4", "concat:clip.mp4", "subfile:clip.mp4"])
def test_a_name_like_an_ffmpeg_protocol_is_opened_as_a_file(tmp_path, monkeypatch, clip_frames, name):
    monkeypatch.chdir(tmp_path)
    write_video("clip.mp4", clip_frames[:12], CLIP_FPS)  # what the protocol would open instead
    write_video(name, clip_frames[12:32], CLIP_FPS)
    assert probe(name).frames == 20
    np.testing.assert_array_equal(read_frames(name, range(20)), decode_everything(tmp_path / name))
    np.testing.assert_array_equal(read_frames("clip.mp4", range(12)), decode_everything(tmp_path / "clip.mp4"))
