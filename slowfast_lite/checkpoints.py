"""Checkpoints: safe loading, PySlowFast / PyTorchVideo / Caffe2 conversion, export in PySlowFast's format.

Our models use PySlowFast's state-dict names exactly (``s1.pathway0_stem.conv.weight``,
``s2_fuse.conv_f2s.weight``, ``head.projection.weight`` ...), so every format is converted *to those names*
and then compared key by key with the model:

- PySlowFast ``.pyth``: ``{"epoch", "model_state", "optimizer_state", "cfg"}``; names are ours already.
- PyTorchVideo ``.pyth``: ``{"model_state": ...}`` with ``blocks.K...`` names, a pure rename.
- PySlowFast's Caffe2 model-zoo ``.pkl``: ``{"blobs": {name: numpy array}}`` with Caffe2 names
  (``conv1_w``, ``res2_0_branch2a_bn_s``, ``t_`` prefix for the Fast pathway, ``pred_w``).

Nothing here runs code from a file: torch files go through ``torch.load(weights_only=True)`` and pickles
through an unpickler that admits numpy arrays and plain containers only.
"""

import hashlib
import io
import os
import pickle
import re
import struct
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from slowfast_lite import utils
from slowfast_lite.errors import CheckpointError

# ----------------------------------------------------------------------------------------------------------
# Reading files safely


def _numpy_reconstruct():
    core = getattr(np, "_core", None) or np.core  # numpy 2 renamed numpy.core to numpy._core
    return core.multiarray._reconstruct, core.multiarray.scalar


class _ArraysOnlyUnpickler(pickle._Unpickler):
    """Unpickler that builds numpy arrays and plain containers and refuses every other global.

    Python's own unpickler, not the C one: its memo is a dict, so a memo index of 400 million in a damaged file
    is one entry, not a 3 GB table (the arrays' bytes are read in one piece either way)."""

    def __init__(self, file):
        # Caffe2 model-zoo pickles were written by Python 2: latin1 keeps numpy's raw bytes intact.
        super().__init__(file, encoding="latin1")
        reconstruct, scalar = _numpy_reconstruct()
        self._allowed = {
            ("numpy", "ndarray"): np.ndarray,
            ("numpy", "dtype"): _dtype,
            ("collections", "OrderedDict"): OrderedDict,
            ("_codecs", "encode"): _latin1_encode,  # how Python 3 pickles bytes at protocol 2
        }
        for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            self._allowed[(module, "_reconstruct")] = _empty_array(reconstruct)
            self._allowed[(module, "scalar")] = scalar

    def find_class(self, module, name):
        if (module, name) in self._allowed:
            return self._allowed[(module, name)]
        raise _ForbiddenGlobal(f"it asks for {module}.{name}; only numpy arrays and plain containers are allowed")

    def load_build(self):
        """BUILD (``__setstate__``) fills numpy arrays and dtypes only: on anything else a damaged file could
        reach interpreter internals."""
        if len(self.stack) < 2 or not isinstance(self.stack[-2], np.ndarray | np.dtype):
            raise pickle.UnpicklingError("a BUILD instruction on something other than a numpy array")
        super().load_build()

    dispatch = {**pickle._Unpickler.dispatch, pickle.BUILD[0]: load_build}


class _ForbiddenGlobal(pickle.UnpicklingError):
    """A pickle that names a callable outside the allow-list: refused before anything runs."""


def _dtype(name, align=False, copy=False):
    """``numpy.dtype`` as pickles call it (``dtype("f4", False, True)``), nothing else."""
    if not isinstance(name, str) or align not in (0, 1) or copy not in (0, 1):
        raise pickle.UnpicklingError("numpy.dtype is allowed with a type code only")
    return np.dtype(name, bool(align), bool(copy))


def _empty_array(reconstruct):
    """numpy's ``_reconstruct``, for the empty array a pickle then fills (``__setstate__`` with its bytes): a
    crafted shape would otherwise allocate gigabytes from a few bytes of file."""
    def build(subtype, shape, dtype):
        if subtype is not np.ndarray or not isinstance(shape, tuple) or \
                not all(isinstance(n, int) and 0 <= n <= 1 for n in shape):
            raise pickle.UnpicklingError("numpy's _reconstruct is allowed for an empty ndarray only")
        return reconstruct(subtype, shape, dtype)
    return build


def _latin1_encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed only for latin1 text")
    return text.encode("latin1")


def safe_unpickle(path):
    """Read a pickle of numpy arrays and plain containers (a Caffe2 ``.pkl``); refuse anything else."""
    path = Path(path)
    # from memory: a length field a damaged file inflates then reads to the file's end, it allocates nothing
    data = path.read_bytes()
    try:
        return _ArraysOnlyUnpickler(io.BytesIO(data)).load()
    except _ForbiddenGlobal as err:
        raise CheckpointError(f"refusing to load {path}: {err}") from err
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, MemoryError, RecursionError, UnicodeDecodeError, struct.error, SystemError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {_cause(err)} "
                              "(truncated, corrupt or not a pickle of weights)") from err


def _torch_load(path):
    members = _check_archive(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"refusing to load {path}: it holds more than tensors and plain containers "
                              f"({_cause(err)})") from err
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError, NotImplementedError, OverflowError,
            TypeError, IndexError, KeyError, AttributeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {_cause(err)} (truncated or corrupt file?)") from err
    _check_tensors(obj, path)
    if members is not None:
        _check_storages(obj, members, path)
    _check_digest(obj, path)
    return obj


def _tensors(obj):
    """Every tensor inside a loaded checkpoint object (dicts, lists and tuples walked), each once."""
    seen, stack = set(), [obj]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, torch.Tensor):
            yield item
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _check_tensors(obj, path):
    """Refuse a tensor that shows more elements than its storage holds (stride tricks: a 4-byte storage seen as a
    (400000000, 2048) head), before anything copies or sizes a model from it."""
    for tensor in _tensors(obj):
        if tensor.numel() * tensor.element_size() > tensor.untyped_storage().nbytes():
            raise CheckpointError(f"refusing to load {path}: a tensor of shape {tuple(tensor.shape)} views only "
                                  f"{tensor.untyped_storage().nbytes()} bytes (a crafted file)")


def _check_storages(obj, members, path):
    """Every storage torch.load built must hold the bytes of a member whose CRC-32 was checked: torch's zip reader
    and Python's may read a damaged directory differently (a member flagged as a folder reads as nothing)."""
    stored = {(m.CRC, m.file_size) for m in members}
    done = set()
    for tensor in _tensors(obj):
        storage = tensor.untyped_storage()
        if storage.nbytes() == 0 or storage.data_ptr() in done:
            continue
        done.add(storage.data_ptr())
        data = torch.empty(0, dtype=torch.uint8).set_(storage).numpy()
        if (zlib.crc32(data), storage.nbytes()) not in stored:
            raise CheckpointError(f"checkpoint {path} is corrupt: a tensor of shape {tuple(tensor.shape)} does not "
                                  "hold the bytes of any stored member (damaged zip directory?)")


def _cause(err):
    """torch's message without its advice (never load with weights_only=False) and its boilerplate."""
    lines = [line.strip() for line in str(err).splitlines()]
    kept = [line for line in lines if line and not any(
        word in line for word in ("weights_only", "Check the documentation", "Please file an issue"))]
    return " ".join(kept).removeprefix("WeightsUnpickler error:").strip() or type(err).__name__


# A torch checkpoint stores its tensors uncompressed: inflated, a zip's members may not exceed this many times
# the file's size (plus a floor for small files); a zip bomb is refused from its directory before anything is read.
MAX_INFLATION = 4
INFLATION_FLOOR = 16 << 20


def _check_archive(path):
    """Refuse what is not a torch file, a zip whose directory is damaged, declares more than the file can hold
    (``MAX_INFLATION``), or lists a member twice, and a zip whose members fail their CRC-32 (torch.load never
    checks). The directory is checked before any member is read. Returns the members (None: torch's legacy
    format, a plain pickle)."""
    with open(path, "rb") as f:
        head = f.read(4)
        size = f.seek(0, os.SEEK_END)
    if not head:
        raise CheckpointError(f"cannot read checkpoint {path}: the file is empty (0 bytes)")
    if head[:1] == b"\x80" and head != b"PK\x03\x04":  # torch's legacy format: a pickle (protocol >= 2)
        return None
    if head != b"PK\x03\x04":
        raise CheckpointError(f"cannot read checkpoint {path}: not a torch checkpoint (neither a zip archive, "
                              "torch's format, nor a pickle)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_directory(members, size, path)
            bad = archive.testzip()
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError, OverflowError, UnicodeDecodeError, zlib.error, struct.error, IndexError, KeyError) as err:
        raise CheckpointError(f"cannot read checkpoint {path}: damaged zip archive ({_cause(err)})") from err
    if bad is not None:  # member names start with a folder named after the file torch first wrote
        raise CheckpointError(f"checkpoint {path} is corrupt: its member {_member(bad.split('/', 1)[-1])} fails "
                              "its CRC check (damaged after it was written)")
    return members


def _member(name):
    """A member's name for a message: printable, one line, short (a damaged directory may hold any bytes)."""
    return _short(ascii(name)[1:-1], 80)


def _check_directory(members, size, path):
    names = [m.filename for m in members]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise CheckpointError(f"cannot read checkpoint {path}: damaged zip archive (member {_member(twice)} "
                              "listed twice)")
    for m in members:
        if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or m.flag_bits & 0x1:
            raise CheckpointError(f"cannot read checkpoint {path}: member {_member(m.filename)} is "
                                  f"{'encrypted' if m.flag_bits & 0x1 else f'compressed with method {m.compress_type}'}"
                                  "; torch checkpoints store their members plainly")
        if m.compress_type == zipfile.ZIP_STORED and m.file_size != m.compress_size:
            raise CheckpointError(f"cannot read checkpoint {path}: damaged zip archive (member {_member(m.filename)} "
                                  f"is stored, yet {m.compress_size} bytes would give {m.file_size})")
        if m.filename.endswith("/") or m.external_attr & 0x10:  # torch's reader would hand back no bytes for a "folder"
            raise CheckpointError(f"cannot read checkpoint {path}: damaged zip archive (member {_member(m.filename)} "
                                  "is marked as a folder)")
    total = sum(m.file_size for m in members)
    if total > MAX_INFLATION * size + INFLATION_FLOOR:
        big = max(members, key=lambda m: m.file_size)
        raise CheckpointError(f"refusing to load {path}: its {size} bytes would inflate to {total} (member "
                              f"{_member(big.filename)}: {big.file_size} bytes from {big.compress_size}); a crafted "
                              "or damaged file")


DIGEST_KEY = "model_sha256"  # what atomic_save adds beside a checkpoint's "model_state"


def state_digest(state):
    """sha256 (hex) of a state dict: every tensor's name, dtype, shape and bytes, in sorted name order."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = torch.as_tensor(state[name]).detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _check_digest(obj, path):
    """A checkpoint this package wrote carries the digest of its weights: they must still match it."""
    if not (isinstance(obj, Mapping) and DIGEST_KEY in obj and isinstance(obj.get("model_state"), Mapping)):
        return
    if state_digest(obj["model_state"]) != obj[DIGEST_KEY]:
        raise CheckpointError(f"checkpoint {path} is corrupt: its weights no longer match the sha256 recorded "
                              "when it was written")


def require(obj, keys, path, what):
    """Raise CheckpointError unless the checkpoint object ``obj`` (read from ``path``) is a dict with ``keys``."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{path} is not {what}: it holds a {type(obj).__name__}, not a dict")
    missing = [key for key in keys if key not in obj]
    if missing:
        raise CheckpointError(f"{path} is not {what}: it lacks {', '.join(map(repr, missing))} "
                              f"(it has {', '.join(map(repr, list(obj)[:8]))})")


def _is_zip(path):
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def read_file(path):
    """The raw object in a checkpoint file: torch files (zip, or any suffix but .pkl) or Caffe2 pickles.

    Torch zip archives are checked member by member (CRC-32), and a checkpoint written by ``atomic_save``
    against the sha256 of its weights: a damaged file raises CheckpointError instead of loading wrong weights.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist" if not path.exists() else
                              f"checkpoint {path} is not a file")
    if path.suffix == ".pkl" and not _is_zip(path):
        return safe_unpickle(path)
    return _torch_load(path)


# ----------------------------------------------------------------------------------------------------------
# Name conversion: every format -> PySlowFast names


def _unwrap(obj, origin="<state dict>"):
    """The weights inside a checkpoint dict (``model_state`` / ``state_dict`` / ``blobs``), ``module.`` removed."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{origin}: expected a dict of weights, found {type(obj).__name__}")
    for wrapper in ("model_state", "state_dict", "blobs"):
        if wrapper in obj and isinstance(obj[wrapper], Mapping):
            obj = obj[wrapper]
            break
    arrays = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor | np.ndarray)}
    odd = [k for k, v in arrays.items() if isinstance(v, np.ndarray) and v.dtype.kind not in "biuf"]
    if odd:
        raise CheckpointError(f"{origin}: weight {_short(odd[0])} holds {arrays[odd[0]].dtype} values, not numbers")
    foreign = [k for k, v in arrays.items() if isinstance(v, np.ndarray) and not v.dtype.isnative]
    if foreign:  # a byte-order flag flipped in a damaged file would read every value wrong
        raise CheckpointError(f"{origin}: weight {_short(foreign[0])} is stored in the other byte order "
                              f"({arrays[foreign[0]].dtype.str}); a damaged file?")
    if not arrays:
        found = ", ".join(f"{k!r} ({type(v).__name__})" for k, v in list(obj.items())[:8])
        raise CheckpointError(f"{origin}: no weights found; expected 'model_state' (PySlowFast, PyTorchVideo), "
                              f"'blobs' (Caffe2) or a state dict of arrays, found {found or 'nothing'}")
    names = [k for k in arrays if not isinstance(k, str)]
    if names:
        raise CheckpointError(f"{origin}: weight names must be strings, found {names[0]!r} "
                              f"({type(names[0]).__name__})")
    return OrderedDict((k.removeprefix("module."), v) for k, v in arrays.items())


def detect_format(state):
    """``"pytorchvideo"`` (``blocks.K`` names), ``"caffe2"`` (undotted names like ``conv1_w``) or ``"pyslowfast"``."""
    keys = list(state)
    if any(k.startswith("blocks.") for k in keys):
        return "pytorchvideo"
    if all("." not in k for k in keys):
        return "caffe2"
    return "pyslowfast"


def from_pyslowfast(obj):
    """PySlowFast checkpoint (or its ``model_state``) -> state dict with our names (the same names)."""
    return OrderedDict((k, torch.as_tensor(v)) for k, v in _unwrap(obj).items())


# PyTorchVideo module paths -> PySlowFast module paths, inside a stem / res block / fusion / head.
_PTV_MODULES = {
    "conv": "conv", "norm": "bn", "conv_fast_to_slow": "conv_f2s", "proj": "projection",
    "branch1_conv": "branch1", "branch1_norm": "branch1_bn",
    **{f"branch2.conv_{x}": f"branch2.{x}" for x in "abc"},
    **{f"branch2.norm_{x}": f"branch2.{x}_bn" for x in "abc"},
}
_PTV_PREFIXES = [  # (pattern on the PyTorchVideo name, PySlowFast prefix built from the match)
    (r"blocks\.0\.multipathway_blocks\.(\d+)\.", lambda m: f"s1.pathway{m[1]}_stem."),
    (r"blocks\.(\d+)\.multipathway_blocks\.(\d+)\.res_blocks\.(\d+)\.",
     lambda m: f"s{int(m[1]) + 1}.pathway{m[2]}_res{m[3]}."),
    (r"blocks\.(\d+)\.multipathway_fusion\.", lambda m: f"s{int(m[1]) + 1}_fuse."),
    (r"blocks\.(\d+)\.res_blocks\.(\d+)\.", lambda m: f"s{int(m[1]) + 1}.pathway0_res{m[2]}."),  # single pathway
    (r"blocks\.0\.", lambda m: "s1.pathway0_stem."),
    (r"blocks\.\d+\.", lambda m: "head."),  # the last block: the head (blocks.6 SlowFast, blocks.5 Slow-only)
]


def pytorchvideo_name(name):
    """One PyTorchVideo key -> its PySlowFast name (unchanged if it is not a PyTorchVideo name we know)."""
    for pattern, prefix in _PTV_PREFIXES:
        m = re.match(pattern, name)
        if m:
            module, _, param = name[m.end():].rpartition(".")
            if module in _PTV_MODULES and (prefix(m) == "head.") == (module == "proj"):
                return f"{prefix(m)}{_PTV_MODULES[module]}.{param}"
            return name
    return name


def from_pytorchvideo(obj):
    """PyTorchVideo checkpoint (or its ``model_state``) -> state dict with our names (a pure rename)."""
    return OrderedDict((pytorchvideo_name(k), torch.as_tensor(v)) for k, v in _unwrap(obj).items())


_BN = {"s": "weight", "b": "bias", "rm": "running_mean", "riv": "running_var"}  # Caffe2 _riv is the running var
_CONV = {"w": "weight", "b": "bias"}
_BN_SUFFIX = r"_bn_(?P<bn>s|b|rm|riv)"
_CONV_SUFFIX = r"_(?P<conv>w|b)"
_CAFFE2_RULES = [  # (Caffe2 name without its suffix, PySlowFast module path); t = Fast pathway prefix
    (r"(?P<t>t_)?conv1", "s1.pathway{p}_stem.conv"),
    (r"(?P<t>t_)?res_conv1", "s1.pathway{p}_stem"),  # + _bn_*: the stem's BN
    (r"t_pool1_subsample", "s1_fuse.conv_f2s"),
    (r"t_res(?P<s>\d+)_\d+_branch2c_bn_subsample", "s{s}_fuse.conv_f2s"),
    (r"(?P<t>t_)?res(?P<s>\d+)_(?P<i>\d+)_branch1", "s{s}.pathway{p}_res{i}.branch1"),
    (r"(?P<t>t_)?res(?P<s>\d+)_(?P<i>\d+)_branch2(?P<x>[abc])", "s{s}.pathway{p}_res{i}.branch2.{x}"),
    (r"nonlocal_conv(?P<s>\d+)_(?P<i>\d+)_(?P<x>theta|phi|g|out)", "s{s}.pathway0_nonlocal{i}.conv_{x}"),
    (r"nonlocal_conv(?P<s>\d+)_(?P<i>\d+)", "s{s}.pathway0_nonlocal{i}"),  # + _bn_*
    (r"pred", "head.projection"),
]


def _bn_module(conv_path):
    """Where PySlowFast keeps the BN that follows a conv (``...branch2.a`` -> ``...branch2.a_bn``)."""
    if conv_path.endswith("_stem") or "_nonlocal" in conv_path:
        return conv_path + ".bn"
    if conv_path.endswith(".conv_f2s"):
        return conv_path.removesuffix(".conv_f2s") + ".bn"
    return conv_path + "_bn"


def caffe2_name(name):
    """One Caffe2 blob name -> its PySlowFast name, or None if it is not a weight we know."""
    for pattern, template in _CAFFE2_RULES:
        for suffix in (_BN_SUFFIX, _CONV_SUFFIX):
            m = re.fullmatch(pattern + suffix, name)
            if m is None:
                continue
            g = m.groupdict()
            path = template.format(p=1 if g.get("t") else 0, s=g.get("s"), i=g.get("i"), x=g.get("x"))
            if g.get("bn"):
                return f"{_bn_module(path)}.{_BN[g['bn']]}"
            if path.endswith("_stem"):  # res_conv1_w is not a blob name; only res_conv1_bn_* is
                return None
            return f"{path}.{_CONV[g['conv']]}"
    return None


def _is_training_state(name):
    """Caffe2 blobs that are optimiser state or bookkeeping, not weights (PySlowFast skips the same)."""
    return name.endswith("_momentum") or name in ("lr", "model_iter", "iter")


def from_caffe2(obj, unknown=None):
    """PySlowFast Caffe2 checkpoint (``{"blobs": ...}`` or the blobs) -> state dict with our names.

    Blob names that are not weights we know are kept under their Caffe2 name (so a strict load reports them)
    unless ``unknown`` is a list, which then collects them instead.
    """
    state = OrderedDict()
    for name, value in _unwrap(obj).items():
        if _is_training_state(name):
            continue
        ours = caffe2_name(name)
        if ours is None and unknown is not None:
            unknown.append(name)
            continue
        state[ours or name] = torch.from_numpy(np.array(value, copy=True)) if isinstance(value, np.ndarray) else value
    return state


def to_ours(obj, origin="<state dict>"):
    """Any supported checkpoint object -> (state dict with our names, format name)."""
    state = _unwrap(obj, origin)
    fmt = detect_format(state)
    convert = {"pyslowfast": from_pyslowfast, "pytorchvideo": from_pytorchvideo, "caffe2": from_caffe2}[fmt]
    return convert(state), fmt


def read(path):
    """Read a checkpoint file safely -> (state dict with our names, format name)."""
    return to_ours(read_file(path), origin=str(path))


# ----------------------------------------------------------------------------------------------------------
# Comparing with a model, loading


def describe(state):
    """One line on the architecture a state dict implies: pathways, lateral connections, blocks, classes."""
    keys = list(state)
    pathways = sorted({int(m[1]) for k in keys if (m := re.match(r"s\d+\.pathway(\d+)_", k))})
    widths = [tuple(state[k].shape)[0] for p in pathways if (k := f"s1.pathway{p}_stem.conv.weight") in state]
    blocks = []
    for stage in range(2, 6):
        ids = {int(m[1]) for k in keys if (m := re.match(rf"s{stage}\.pathway0_res(\d+)\.", k))}
        blocks.append(str(max(ids) + 1) if ids else "0")
    head = state.get("head.projection.weight")
    parts = [f"{len(pathways)} pathway{'s' if len(pathways) != 1 else ''}",
             "lateral connections" if any("_fuse." in k for k in keys) else "no lateral connections",
             f"stem widths {'/'.join(map(str, widths)) or '?'}", f"blocks per stage {'-'.join(blocks)}",
             f"{tuple(head.shape)[0]} classes" if head is not None else "no head"]
    return ", ".join(parts)


@dataclass
class LoadReport:
    """What a load did: keys loaded, missing from the checkpoint, unexpected in it, with the wrong shape."""

    origin: str
    format: str
    loaded: list = field(default_factory=list)  # keys that fit (and were loaded, unless a strict load failed)
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    mismatched: list = field(default_factory=list)  # (key, checkpoint shape or dtype, model shape or dtype)
    skipped: list = field(default_factory=list)  # left out on purpose (the ``skip`` prefixes)

    @property
    def ok(self):
        return not (self.missing or self.unexpected or self.mismatched)

    def __str__(self):
        lines = [f"{self.origin} ({self.format}): {len(self.loaded)} tensors fit, {len(self.missing)} missing, "
                 f"{len(self.unexpected)} unexpected, {len(self.mismatched)} mis-shaped"
                 + (f", {len(self.skipped)} skipped" if self.skipped else "")]
        shown = 8
        for title, items in (("missing from the checkpoint", self.missing),
                             ("unexpected (not in the model)", self.unexpected),
                             ("mis-shaped (checkpoint vs model)", self.mismatched)):
            if items:
                lines.append(f"  {title}:")
                for item in items[:shown]:
                    text = (f"{item[0]}: {_shape_or_type(item[1])} vs {_shape_or_type(item[2])}"
                            if isinstance(item, tuple) else item)
                    lines.append(f"    {text}")
                if len(items) > shown:
                    lines.append(f"    ... and {len(items) - shown} more")
        return "\n".join(lines)


def _shape_or_type(value):
    return value if isinstance(value, str) else tuple(value)


def _optional(key):
    # BN's step counter: absent from Caffe2 and old checkpoints, never used by eval-mode BN.
    return key.endswith("num_batches_tracked")


def compare(state, model_state, origin="<state dict>", fmt="pyslowfast", skip=()):
    """Match a converted state dict against a model's state dict -> (tensors to load, LoadReport)."""
    report = LoadReport(origin=origin, format=fmt)
    to_load = OrderedDict()
    for key, value in state.items():
        if any(key.startswith(prefix) for prefix in skip):
            report.skipped.append(key)
        elif key not in model_state:
            if not _optional(key):
                report.unexpected.append(key)
        else:
            target = model_state[key].shape
            if fmt == "caffe2" and value.dim() < len(target) and value.numel() == target.numel():
                value = value.reshape(target)  # Caffe2 keeps fc weights 2-D where a conv head wants 5-D
            if value.shape != target:
                report.mismatched.append((key, tuple(value.shape), tuple(target)))
            elif value.is_floating_point() != model_state[key].is_floating_point():  # e.g. int32 for float32
                report.mismatched.append((key, str(value.dtype), str(model_state[key].dtype)))
            else:
                to_load[key] = value
                report.loaded.append(key)
    report.missing = [k for k in model_state if k not in state and not _optional(k)
                      and not any(k.startswith(prefix) for prefix in skip)]
    return to_load, report


def load(source, model, strict=True, skip=(), origin=None):
    """Load a checkpoint (a file path, or a checkpoint / state dict) into ``model``; returns a LoadReport.

    Any supported format is recognised from its key names. ``strict`` (default) raises CheckpointError,
    loading nothing, unless every model tensor is found with its shape and nothing is left over;
    ``skip`` lists key prefixes to leave out (e.g. ``("head.",)`` to keep a freshly built head);
    ``origin`` names the source in messages (default: the path, or ``<state dict>``).
    """
    if isinstance(source, str | os.PathLike):
        state, fmt = read(source)
        origin = origin or str(source)
    else:
        origin = origin or "<state dict>"
        state, fmt = to_ours(source, origin)
    model_state = model.state_dict()
    to_load, report = compare(state, model_state, origin, fmt, skip)
    if strict and not report.ok:
        raise CheckpointError(f"{origin} does not fit the model (nothing loaded)\n  checkpoint: {describe(state)}\n"
                              f"  model:      {describe(model_state)}\n{report}")
    model.load_state_dict(to_load, strict=False)
    return report


def load_exact(model, state, origin):
    """Load a state dict of our own key names into ``model`` exactly, or raise CheckpointError naming the keys
    that do not fit (nothing is loaded then)."""
    to_load, report = compare(state, model.state_dict(), origin)
    if not report.ok:
        raise CheckpointError(f"{origin} does not fit the model:\n{report}")
    model.load_state_dict(to_load, strict=False)


def describe_entries(obj):
    """A short description of what a loaded checkpoint object holds, for error messages."""
    if isinstance(obj, Mapping):
        return ", ".join(map(str, list(obj)[:8])) + (" ..." if len(obj) > 8 else "") if obj else "an empty dict"
    return f"a {type(obj).__name__}"


# What a checkpoint's recorded configuration may ask for: far above any model of the family (ResNet-152 has 36
# blocks in a stage, the paper's widest model a width of 64), far below what exhausts a machine. Checked, and the
# stored tensors' shapes against the configuration (built on the meta device), before any model is built.
CONFIG_LIMITS = {"width": 1024, "num_classes": 100_000, "crop_size": 1024, "T": 512, "tau": 4096, "alpha": 64,
                 "in_channels": 16, "fusion_kernel": 15, "fusion_channel_ratio": 16}
MAX_BLOCKS_PER_STAGE = 40
MAX_TEMPORAL_KERNEL = 15


def check_limits(config, origin):
    """Raise CheckpointError if a configuration read from ``origin`` asks for more than ``CONFIG_LIMITS``."""
    asked = {key: getattr(config, key) for key in CONFIG_LIMITS}
    asked["blocks per stage"] = max(config.blocks)
    asked["temporal kernel"] = max(config.slow_temporal_kernels + config.fast_temporal_kernels)
    limits = {**CONFIG_LIMITS, "blocks per stage": MAX_BLOCKS_PER_STAGE, "temporal kernel": MAX_TEMPORAL_KERNEL}
    over = [f"{key} {asked[key]} (at most {limits[key]})" for key in limits if asked[key] > limits[key]]
    if over:
        raise CheckpointError(f"refusing to load {origin}: the model it asks for is too large: {', '.join(over)}")


def _blocks_per_stage(state):
    """Residual blocks of res2..res5 that a state dict's names show (first pathway; 0 where none)."""
    found = [set() for _ in range(4)]
    for key in state:
        if (m := re.match(r"s([2-5])\.pathway0_res(\d+)\.", key)) and len(m[2]) < 6:
            found[int(m[1]) - 2].add(int(m[2]))
    return tuple(max(ids) + 1 if ids else 0 for ids in found)


def _build_fitting(config, state, fmt, origin):
    """``build_model(config)``, once its bounds are checked and a skeleton on the meta device (no memory, no
    initialisation cost) shows that the stored tensors fit it: a crafted configuration never builds."""
    from slowfast_lite.models import build_model

    check_limits(config, origin)
    found = _blocks_per_stage(state)
    if any(found) and found != tuple(config.blocks):  # seen from the names alone: refused before any skeleton
        raise CheckpointError(f"{origin} does not fit the model: its weights have {'-'.join(map(str, found))} "
                              f"blocks per stage, the model {'-'.join(map(str, config.blocks))} (nothing loaded)")
    with torch.device("meta"):
        skeleton = build_model(config)
    _, report = compare(state, skeleton.state_dict(), origin, fmt)
    if not report.ok:
        raise CheckpointError(f"{origin} does not fit the model (nothing loaded)\n  checkpoint: {describe(state)}\n"
                              f"  model:      {describe(skeleton.state_dict())}\n{report}")
    return build_model(config)


def load_model(path, name=None, device="cpu"):
    """(model, data settings) from any supported checkpoint file, the one loader of the package; eval mode.

    A checkpoint written by ``train.fit`` records its model's configuration and how its clips were sampled:
    the model is rebuilt from it (``name``, if given, must match) and the settings returned. Any other checkpoint
    (PySlowFast, PyTorchVideo, Caffe2) gets ``build_model(name)`` with the checkpoint's number of classes, and
    empty settings. Weights load strictly (``load``): every tensor found with its shape, nothing left over. What a
    file asks for is bounded (``CONFIG_LIMITS``) and checked against its tensors before any model is built.
    """
    from slowfast_lite.models import CONFIGS, SlowFastConfig

    raw = read_file(path)
    recorded = raw.get("model") if isinstance(raw, Mapping) else None
    if isinstance(recorded, Mapping) and "name" in recorded:
        if name is not None and recorded["name"] != name:
            raise CheckpointError(f"{path} holds a {_short(recorded['name'])!r} model, not {name!r}")
        try:
            config = SlowFastConfig(**{str(k): v for k, v in recorded.items()})
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as err:
            # a key this version lacks, or a value it refuses
            raise CheckpointError(f"{path}: the model configuration it records does not build here "
                                  f"({_short(str(err), 200)})") from err
        settings = dict(raw.get("data") or {}) if isinstance(raw.get("data") or {}, Mapping) else {}
    elif isinstance(recorded, Mapping):
        raise CheckpointError(f"{path}: written for a {_short(recorded.get('class', 'model'))}, "
                              "not a SlowFast-family model")
    elif name is None:
        raise CheckpointError(f"{path} does not record its model (holds {describe_entries(raw)}); "
                              "name the model it holds (--model)")
    else:
        if name not in CONFIGS:
            raise CheckpointError(f"unknown model {name!r}; named models: {sorted(CONFIGS)}")
        config, settings = CONFIGS[name], {}
    state, fmt = to_ours(raw, str(path))
    if not (isinstance(recorded, Mapping) and "name" in recorded):
        head = state.get("head.projection.weight")
        if head is not None:
            if head.dim() < 1 or not 1 <= head.shape[0] <= CONFIG_LIMITS["num_classes"]:
                raise CheckpointError(f"refusing to load {path}: its head has shape {tuple(head.shape)}, "
                                      f"not (classes, features) with 1 to {CONFIG_LIMITS['num_classes']} classes")
            config = config.replace(num_classes=int(head.shape[0]))
    model = _build_fitting(config, state, fmt, str(path))
    load(raw, model, origin=str(path))
    if "scale_range" in settings:
        settings["scale_range"] = tuple(settings["scale_range"])
    return model.to(device).eval(), settings


def _short(value, width=60):
    """``value`` as one short line of text (a crafted file may record a megabyte-long name)."""
    text = " ".join((value if isinstance(value, str) else repr(value)).split())
    return text if len(text) <= width else text[:width - 3] + "..."


# ----------------------------------------------------------------------------------------------------------
# Writing


def atomic_save(obj, path):
    """``torch.save`` to a temporary file beside ``path``, then rename: a crash never leaves half a file.

    A dict with a ``model_state`` gets the sha256 of those weights under ``model_sha256``, which
    ``read_file`` checks.
    """
    path = Path(path)
    if isinstance(obj, Mapping) and isinstance(obj.get("model_state"), Mapping):
        obj = {**obj, DIGEST_KEY: state_digest(obj["model_state"])}
    with utils.atomic_write(path, fsync=True) as partial:
        torch.save(obj, partial)
    return path


def to_pyslowfast(model_or_state, epoch=-1, cfg=""):
    """A checkpoint dict in PySlowFast's layout (``epoch``, ``model_state``, ``optimizer_state``, ``cfg``)."""
    state = model_or_state.state_dict() if isinstance(model_or_state, torch.nn.Module) else model_or_state
    state, _ = to_ours(state)
    model_state = OrderedDict((k, v.detach().cpu().clone()) for k, v in state.items())
    return {"epoch": int(epoch), "model_state": model_state, "optimizer_state": {}, "cfg": str(cfg)}


def save_pyslowfast(model_or_state, path, epoch=-1, cfg=""):
    """Write weights (a model, or a state dict of any supported format) as a PySlowFast ``.pyth``; atomic."""
    return atomic_save(to_pyslowfast(model_or_state, epoch, cfg), path)
