"""Seeded fuzzing of what users hand the package: checkpoints of every format (torch zip ``.pyth`` / ``.pt``, with and
without the sha256 this package records; Caffe2 ``.pkl``), Kinetics-style csv, class-name json, AVA csv and label
maps, each damaged a few hundred ways (bytes overwritten, cut, deleted, inserted, copied).

Every damaged file is either refused with the package's own error (a ``UsageError``: one line naming the file) or
read to exactly what was written, quickly. The one exception is documented: a Caffe2 pickle carries no checksum,
so a byte changed inside an array's data reads as a different value (nothing can tell); a change anywhere else in
it must still be refused or harmless.
"""

import io
import json
import pickle
import pickletools
import random
import struct
import time
import zipfile
import zlib

import numpy as np
import pytest
import torch
from torch import nn

from slowfast_lite import checkpoints
from slowfast_lite.ava_eval import frame_map
from slowfast_lite.data.ava_files import read_ava_csv, read_label_map
from slowfast_lite.data.kinetics import VideoClassificationDataset, read_classnames
from slowfast_lite.usage import UsageError

SEED = 23
ROUNDS = 120  # per file; the whole module runs in seconds
SLOW = 5.0  # seconds: a read this long counts as a hang (a real one takes milliseconds)


def mutate(data, rng):
    """(damaged bytes, [(start, end), ...]): the ranges of the original that changed."""
    data = bytearray(data)
    kind = rng.randrange(5)
    if kind == 0:
        at = [rng.randrange(len(data)) for _ in range(rng.randint(1, 3))]
        for i in at:
            data[i] = rng.randrange(256)
        return bytes(data), [(i, i + 1) for i in at]
    if kind == 1:
        cut = rng.randrange(len(data))
        return bytes(data[:cut]), [(cut, len(data))]
    at, n = rng.randrange(len(data)), rng.randint(1, 48)
    if kind == 2:
        del data[at:at + n]
        return bytes(data), [(at, at + n)]
    if kind == 3:
        data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        return bytes(data), [(at, at + 1)]
    source = rng.randrange(len(data))
    data[at:at + n] = data[source:source + n]
    return bytes(data), [(at, at + n)]


# ------------------------------------------------------------------------------------------------ checkpoints
def weights():
    g = torch.Generator().manual_seed(SEED)
    return {"s1.pathway0_stem.conv.weight": torch.randn(4, 3, 1, 3, 3, generator=g),
            "s1.pathway0_stem.bn.running_var": torch.rand(4, generator=g) + 0.5,
            "head.projection.weight": torch.randn(5, 8, generator=g),
            "head.projection.bias": torch.randn(5, generator=g)}


class Holder(nn.Module):
    """A module whose state_dict has exactly the given names (nested modules for the dots)."""

    def __init__(self, state):
        super().__init__()
        for key, value in state.items():
            *path, leaf = key.split(".")
            module = self
            for part in path:
                if not hasattr(module, part):
                    module.add_module(part, nn.Module())
                module = getattr(module, part)
            module.register_buffer(leaf, torch.zeros_like(value))


def fixed_serialization_id(path):
    """torch.save writes a random id: make it fixed (and its CRCs right), so a seed gives the same file."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(".data/serialization_id"))
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    data[start:start + info.file_size] = b"0" * info.file_size
    crc = struct.pack("<I", zlib.crc32(b"0" * info.file_size))
    data[info.header_offset + 14:info.header_offset + 18] = crc
    central = data.find(b"PK\x01\x02" + data[info.header_offset + 4:info.header_offset + 10])
    while data[central + 46:central + 46 + name_length] != info.filename.encode():
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 16:central + 20] = crc
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def checkpoint_files(tmp_path_factory):
    """name -> (path, the state dict with our names it holds)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    ours = weights()
    ptv = {"blocks.0.multipathway_blocks.0.conv.weight": ours["s1.pathway0_stem.conv.weight"],
           "blocks.0.multipathway_blocks.0.norm.running_var": ours["s1.pathway0_stem.bn.running_var"],
           "blocks.6.proj.weight": ours["head.projection.weight"], "blocks.6.proj.bias": ours["head.projection.bias"]}
    caffe2 = {"conv1_w": ours["s1.pathway0_stem.conv.weight"].numpy(),
              "res_conv1_bn_riv": ours["s1.pathway0_stem.bn.running_var"].numpy(),
              "pred_w": ours["head.projection.weight"].numpy(), "pred_b": ours["head.projection.bias"].numpy()}
    files = {"pyslowfast.pyth": checkpoints.save_pyslowfast(ours, tmp / "pyslowfast.pyth"),  # with its sha256
             "fit.pt": checkpoints.atomic_save({"model_state": ours, "epoch": 3, "recipe": {"lr": 0.1}},
                                               tmp / "fit.pt")}
    torch.save({"model_state": ptv}, tmp / "pytorchvideo.pyth")  # no sha256: the zip's CRCs only
    files["pytorchvideo.pyth"] = tmp / "pytorchvideo.pyth"
    for path in files.values():
        fixed_serialization_id(path)
    files["caffe2.pkl"] = tmp / "caffe2.pkl"
    files["caffe2.pkl"].write_bytes(pickle.dumps({"blobs": caffe2}, protocol=2))
    return {name: (path, ours) for name, path in files.items()}


HEADER = {"BINUNICODE": 5, "BINBYTES": 5, "BINSTRING": 5, "SHORT_BINBYTES": 2, "SHORT_BINSTRING": 2}


def array_bytes(data, arrays):
    """Byte ranges of a pickle that hold the arrays' data (the strings numpy's __setstate__ gets)."""
    raw = {np.asarray(array).tobytes() for array in arrays}
    ranges = []
    for opcode, arg, position in pickletools.genops(io.BytesIO(data)):
        if opcode.name in HEADER:
            encoded = arg.encode("utf-8" if opcode.name == "BINUNICODE" else "latin1") if isinstance(arg, str) else arg
            as_bytes = arg.encode("latin1") if isinstance(arg, str) else arg
            if as_bytes in raw:
                start = position + HEADER[opcode.name]
                ranges.append((start, start + len(encoded)))
    return ranges


def load_as(data, path, written):
    """"refused", "same" or "different": what loading ``data`` (written to ``path``) into a model gives."""
    path.write_bytes(data)
    model = Holder(written)
    started = time.perf_counter()
    try:
        checkpoints.load(path, model)
    except UsageError as error:  # CheckpointError: the package's own, one line naming the file
        assert str(path) in str(error), error
        assert "\n" not in str(error) or "does not fit the model" in str(error), error
        return "refused"
    finally:
        assert time.perf_counter() - started < SLOW, "a hang"
    loaded = model.state_dict()
    return "same" if all(torch.equal(loaded[k], written[k]) for k in written) else "different"


@pytest.mark.parametrize("name", ["pyslowfast.pyth", "fit.pt", "pytorchvideo.pyth", "caffe2.pkl"])
def test_damaged_checkpoints_are_refused_or_read_exactly(checkpoint_files, tmp_path, name):
    path, written = checkpoint_files[name]
    original = path.read_bytes()
    payload = array_bytes(original, [v.numpy() for v in written.values()]) if name.endswith(".pkl") else []
    assert len(payload) == (len(written) if name.endswith(".pkl") else 0)
    damaged = tmp_path / f"damaged{path.suffix}"
    rng = random.Random(f"{SEED}-{name}")
    outcomes = {"refused": 0, "same": 0, "different": 0}
    for round_ in range(ROUNDS):
        data, changed = mutate(original, rng)
        outcome = load_as(data, damaged, written)
        outcomes[outcome] += 1
        if outcome != "different":
            continue
        # only a Caffe2 pickle, and only a change inside an array's own bytes, may read as other values
        assert name.endswith(".pkl"), round_
        if all(any(a <= start and end <= b for a, b in payload) for start, end in changed):
            continue
        # bytes overwritten in and outside the arrays: without the changes to the arrays it reads as written
        assert len(data) == len(original), (round_, changed)
        restored = bytearray(data)
        for a, b in payload:
            restored[a:b] = original[a:b]
        assert load_as(bytes(restored), damaged, written) != "different", (round_, changed)
    assert outcomes["refused"] > ROUNDS // 2, outcomes


# ------------------------------------------------------------------------------------------------ text files
@pytest.fixture(scope="module")
def text_files(tmp_path_factory):
    from conftest import make_frames

    from slowfast_lite.video import write_video

    tmp = tmp_path_factory.mktemp("fuzz_text")
    write_video(tmp / "a.mp4", make_frames(8, 16, 16), 30)
    write_video(tmp / "b c.mp4", make_frames(8, 16, 16), 30)
    files = {
        "train.csv": (tmp / "train.csv", 'a.mp4 0\n"b c.mp4" 1\na.mp4\t2\n'),
        "classnames.json": (tmp / "classnames.json", json.dumps({"walk": 0, "run": 1, "jump": 2})),
        "groundtruth.csv": (tmp / "groundtruth.csv", "v1,0902,0.100,0.100,0.300,0.500,1,0\n"
                                                     "v1,0903,0.200,0.150,0.400,0.600,3,1\n"),
        "detections.csv": (tmp / "detections.csv", "v1,0902,0.100,0.100,0.300,0.500,1,0.900000\n"
                                                   "v1,0903,0.200,0.150,0.400,0.600,3,0.400000\n"),
        "labelmap.pbtxt": (tmp / "labelmap.pbtxt", 'item {\n  name: "stand"\n  id: 1\n}\n'
                                                   'item {\n  name: "walk"\n  id: 3\n}\n'),
    }
    for path, text in files.values():
        path.write_text(text)
    return files


def read_text_file(name, path, files):
    if name == "train.csv":
        return VideoClassificationDataset(path, "test", num_clips=1, num_crops=1).rows
    if name == "classnames.json":
        return read_classnames(path)
    if name == "labelmap.pbtxt":
        return read_label_map(path)
    kind = name.removesuffix(".csv")
    rows = read_ava_csv(path, kind, need_action=kind == "detections")
    others = {k: files[k][0] for k in ("groundtruth.csv", "detections.csv")}
    return rows, frame_map(*(path if k == name else others[k] for k in others), read_label_map(
        files["labelmap.pbtxt"][0]))


@pytest.mark.parametrize("name", ["train.csv", "classnames.json", "groundtruth.csv", "detections.csv",
                                  "labelmap.pbtxt"])
def test_damaged_text_files_are_refused_or_read(text_files, name):
    path, text = text_files[name]
    rng = random.Random(f"{SEED}-{name}")
    for round_ in range(ROUNDS):
        data, _ = mutate(text.encode(), rng)
        path.write_bytes(data)
        started = time.perf_counter()
        try:
            read_text_file(name, path, text_files)
        except UsageError as error:  # DatasetError, AVAFormatError: one line naming the file
            assert str(path) in str(error) and "\n" not in str(error), (round_, data, error)
        finally:
            assert time.perf_counter() - started < SLOW, (round_, "a hang")
    path.write_text(text)


def test_the_fuzzed_files_read_when_intact(checkpoint_files, text_files):
    for name, (path, written) in checkpoint_files.items():
        model = Holder(written)
        checkpoints.load(path, model)
        assert all(torch.equal(model.state_dict()[k], written[k]) for k in written), name
    for name, (path, text) in text_files.items():
        path.write_text(text)
        assert read_text_file(name, path, text_files), name
    assert np.isfinite(read_text_file("detections.csv", text_files["detections.csv"][0], text_files)[1][0])
