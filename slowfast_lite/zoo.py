"""The model zoo: the paper's Kinetics-400 networks by name, fetched once, checked, loaded strictly, labelled.

    from slowfast_lite import zoo
    model, class_names = zoo.load("slowfast_r50_8x8", "kinetics400")  # eval mode; the 400 Kinetics names

    python -m slowfast_lite zoo                           # the table, and which files are in the cache
    python -m slowfast_lite zoo fetch slowfast_r50_8x8    # download (once) and check
    python -m slowfast_lite demo VIDEO --model slowfast_r50_8x8 --weights kinetics400

``WEIGHTS`` names, for each of our configurations whose exact architecture the reference model zoos trained, the
file of its Kinetics-400 weights. A file is downloaded once into the torch hub cache,
``torch.hub.get_dir()/checkpoints/<file name>`` (``$TORCH_HOME`` moves it; PyTorchVideo's torch-hub loaders
use the same place and name, so each finds the other's download). It is written to a temporary file beside
that path and renamed only when it is complete: as many bytes as the server announced, and the size and sha256
recorded here where they are known. It is then read by ``checkpoints`` (``torch.load(weights_only=True)``, or
the arrays-only unpickler for Caffe2 pickles) and loaded strictly: every tensor of the model found with its
shape, nothing left over. A file that fails any of this is removed from the cache and reported, so a bad
download never waits there to fail later.

``$SLOWFAST_LITE_ZOO_URL`` replaces ``https://dl.fbaipublicfiles.com`` (a mirror, a local folder as
``file:///...``, a test server); the paths below it stay.

Errors are one line each: ``UnknownWeights`` for a name the zoo does not have (a user error: the command line
exits with status 2) and ``ZooError`` for a download or a file that failed (exit status 1).
"""

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath

import torch

from slowfast_lite import checkpoints, usage, utils
from slowfast_lite.errors import UnknownWeights, UsageError, ZooError

DEFAULT_URL = "https://dl.fbaipublicfiles.com"
URL_ENV = "SLOWFAST_LITE_ZOO_URL"
FILES = Path(__file__).resolve().parent / "zoo_files"  # package data: the class-name lists
TIMEOUT_S = 60  # a connection or a read that stalls this long fails the download
CHUNK = 1 << 20


@dataclass(frozen=True)
class Weights:
    """One file of the model zoo: the network it fits, where it lives, how to check it, how it was tested."""

    model: str  # our named configuration (models.CONFIGS) whose architecture the file fits exactly
    name: str  # the weights' name, e.g. "kinetics400"
    path: str  # below the zoo's base URL, e.g. "pytorchvideo/model_zoo/kinetics/SLOWFAST_8x8_R50.pyth"
    source: str  # "PyTorchVideo" (.pyth, blocks.K names) or "PySlowFast" (Caffe2 .pkl)
    classes: str = "kinetics400"  # the class-name list of its head (class_names)
    size: int = None  # bytes of the file, where known
    sha256: str = None  # of the file, where known
    top1: float = None  # the zoo's Kinetics-400 accuracy (%), 3 crops x 10 clips
    top5: float = None
    test_scale: int = 256  # the view the zoo tested with: short side scaled to this, then a centre crop
    test_crop: int = 256

    @property
    def file_name(self):
        return PurePosixPath(self.path).name

    @property
    def url(self):
        """Where the file is fetched from: the base URL (``$SLOWFAST_LITE_ZOO_URL`` or the zoos') + ``path``."""
        return f"{base_url()}/{self.path}"

    @property
    def cache_path(self):
        """Where the file is kept: ``torch.hub.get_dir()/checkpoints/<file name>`` (``$TORCH_HOME`` moves it)."""
        return Path(torch.hub.get_dir()) / "checkpoints" / self.file_name


# Sources, read in the public code of the two zoos:
# - PyTorchVideo's model zoo table (facebookresearch/pytorchvideo, docs/source/model_zoo.md, "Kinetics-400"):
#   https://dl.fbaipublicfiles.com/pytorchvideo/model_zoo/kinetics/<FILE>.pyth for SLOW_4x16_R50, SLOW_8x8_R50,
#   SLOWFAST_4x16_R50, SLOWFAST_8x8_R50 and SLOWFAST_8x8_R101, with the top-1/top-5 below and parameter counts that
#   equal our configurations' (32.45M, 34.48M, 34.57M, 62.83M). Its torch-hub loaders, pytorchvideo/models/hub/
#   slowfast.py (slowfast_r50: SLOWFAST_8x8_R50.pyth, fusion kernel 7; slowfast_r101: SLOWFAST_8x8_R101.pyth, fusion
#   kernel 5) and hub/resnet.py (slow_r50: SLOW_8x8_R50.pyth), load checkpoint["model_state"] strictly.
# - PySlowFast's MODEL_ZOO.md (facebookresearch/SlowFast): Caffe2 pickles under
#   https://dl.fbaipublicfiles.com/pyslowfast/model_zoo/kinetics400/ (SLOWFAST_4x16_R50.pkl, SLOWFAST_8x8_R50.pkl,
#   SLOWONLY_4x16_R50.pkl, SLOWONLY_8x8_R50.pkl). Every configuration here has a PyTorchVideo file, which is fetched.
# - Sizes and sha256: two public download logs agree on SLOWFAST_8x8_R50.pyth; one records SLOWFAST_8x8_R101.pyth.
#   Both hold the weights and the optimiser's state (about twice the float32 weights). The other three files are
#   not recorded: their download is checked against the size the server announces, and every file by the strict load.
_PTV = "pytorchvideo/model_zoo/kinetics"
WEIGHTS = {(w.model, w.name): w for w in [
    Weights("slowfast_r50_4x16", "kinetics400", f"{_PTV}/SLOWFAST_4x16_R50.pyth", "PyTorchVideo",
            top1=75.34, top5=91.89),
    Weights("slowfast_r50_8x8", "kinetics400", f"{_PTV}/SLOWFAST_8x8_R50.pyth", "PyTorchVideo", size=277_138_115,
            sha256="454f39e1c1f985df2bee2aa27887ed53ff56e74ed8b8cca11203a1a1264d7cc2", top1=76.94, top5=92.69),
    Weights("slowfast_r101_8x8", "kinetics400", f"{_PTV}/SLOWFAST_8x8_R101.pyth", "PyTorchVideo", size=503_790_111,
            sha256="62966206aa4c1e06262aa48f600e24d871469c7a92c23aa08636776944df3e94", top1=77.90, top5=93.27),
    Weights("slow_r50_4x16", "kinetics400", f"{_PTV}/SLOW_4x16_R50.pyth", "PyTorchVideo", top1=72.40, top5=90.18),
    Weights("slow_r50_8x8", "kinetics400", f"{_PTV}/SLOW_8x8_R50.pyth", "PyTorchVideo", top1=74.58, top5=91.63),
]}


def base_url():
    """The zoo's base URL: ``$SLOWFAST_LITE_ZOO_URL`` if set (http, https or file), else the zoos' own."""
    value = os.environ.get(URL_ENV, "").strip()
    if not value:
        return DEFAULT_URL
    if urllib.parse.urlsplit(value).scheme not in ("http", "https", "file"):
        raise UsageError(f"${URL_ENV}={value!r} is not an http://, https:// or file:// URL")
    return value.rstrip("/")


def get(model, weights="kinetics400"):
    """The ``Weights`` entry of ``model`` (our config name) and ``weights`` (e.g. ``"kinetics400"``)."""
    entry = WEIGHTS.get((model, weights))
    if entry is not None:
        return entry
    names = sorted(w for m, w in WEIGHTS if m == model)
    if names:
        raise UnknownWeights(f"no model-zoo weights {weights!r} for {model}; it has {', '.join(names)}")
    raise UnknownWeights(f"no model-zoo weights for {model}; the zoo has weights for "
                         f"{', '.join(sorted({m for m, _ in WEIGHTS}))} (python -m slowfast_lite zoo lists them)")


@lru_cache(maxsize=4)
def _read_names(classes):
    path = FILES / f"{classes}_classnames.txt"
    if not path.is_file():
        known = sorted(p.name.removesuffix("_classnames.txt") for p in FILES.glob("*_classnames.txt"))
        raise UnknownWeights(f"no class names {classes!r} in the package; it has {', '.join(known)}")
    return tuple(path.read_text(encoding="utf-8").splitlines())


def class_names(classes="kinetics400"):
    """The class names of a zoo's head, in its index order (``"kinetics400"``: 400 names, 0 abseiling ... 399
    zumba, from PySlowFast's ``kinetics_classnames.json``; see ``zoo_files/README.md``)."""
    return list(_read_names(classes))


def cached(model, weights="kinetics400"):
    """The path of the weights' file if it is in the cache (with its recorded size, where one is recorded), else
    None. Nothing is downloaded or read."""
    entry = get(model, weights)
    path = entry.cache_path
    if path.is_file() and (entry.size is None or path.stat().st_size == entry.size):
        return path
    return None


def fetch(model, weights="kinetics400", progress=True):
    """The path of the weights' file in the cache, downloaded first unless it is there (and checked either way:
    its size and sha256 where recorded). A cached file that fails the check is removed and downloaded again.

    progress: print where the file comes from and goes, and a progress bar (tqdm), on stderr.
    Raises ``UnknownWeights`` (an unknown name) or ``ZooError`` (the download failed; nothing is kept).
    """
    entry = get(model, weights)
    path = entry.cache_path
    if path.is_file():
        problem = _problem(path, entry)
        if problem is None:
            return path
        _remove(path)
        print(f"{path}: {problem}; removed it, downloading it again", file=sys.stderr)
    _download(entry, path, progress)
    return path


def load(model, weights="kinetics400", device="cpu", progress=True):
    """(model, class names): the named network with the zoo's weights, in eval mode on ``device``.

    The file is fetched into the torch hub cache if needed (``fetch``), read safely and loaded strictly: every
    tensor of the model found with its shape, nothing left over. A file that cannot be read or does not fit is
    removed from the cache and reported (``ZooError``), so the next call downloads it afresh.
    """
    from slowfast_lite.models import build_model

    entry = get(model, weights)
    names = class_names(entry.classes)
    path = fetch(model, weights, progress)
    net = build_model(entry.model, num_classes=len(names))
    try:
        state, fmt = checkpoints.read(path)
    except checkpoints.CheckpointError as err:
        _remove(path)
        raise ZooError(f"{_first_line(err)}; removed it from the cache: run again to download {entry.url} afresh") \
            from None
    to_load, report = checkpoints.compare(state, net.state_dict(), str(path), fmt)
    del state
    if not report.ok:
        _remove(path)
        first = (report.missing or report.unexpected or [m[0] for m in report.mismatched])[0]
        raise ZooError(f"{_first_line(report)} (e.g. {first}): it does not fit {entry.model}, so it is not the "
                       f"zoo's file; removed it from the cache (it came from {entry.url})")
    net.load_state_dict(to_load, strict=False)
    return net.to(utils.pick_device(device) if isinstance(device, str) else device).eval(), names


# ---------------------------------------------------------------------------------------------------- downloading

def _download(entry, path, progress):
    """Download ``entry.url`` to ``path`` through a temporary file beside it, renamed once complete and checked."""
    from tqdm.auto import tqdm

    url = entry.url
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        raise ZooError(f"cannot download {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:  # refused, no such host, no route, timed out
        reason = getattr(err, "reason", err)
        raise ZooError(f"cannot download {url} ({_reason(reason)}); without a network, fetch that file elsewhere "
                       f"and place it at {path}") from None
    except ValueError as err:  # a URL urllib cannot parse
        raise UsageError(f"cannot download {url}: {err} (is ${URL_ENV} a URL?)") from None
    with response:
        announced = response.headers.get("Content-Length")
        total = int(announced) if announced and announced.strip().isdigit() else None
        if entry.size is not None and total is not None and total != entry.size:
            raise ZooError(f"{url} offers {total:,} bytes where the zoo's file has {entry.size:,}: a different "
                           "file; nothing downloaded")
        expected = total if total is not None else entry.size
        if progress:
            size = f"{expected / 1e6:.1f} MB" if expected is not None else "size unknown"
            print(f"downloading {url} ({size}) to {path}", file=sys.stderr)
        digest, received = hashlib.sha256(), 0
        with utils.atomic_write(path, fsync=True) as partial:  # renamed over ``path`` only if no error is raised
            with open(partial, "wb") as f, tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024,
                                                desc=entry.file_name, disable=not progress) as bar:
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except (http.client.HTTPException, OSError) as err:  # reset, timed out, incomplete
                        raise ZooError(f"the download of {url} broke off after {received:,} of "
                                       f"{_bytes(expected)} ({_reason(err)}); nothing kept, run again") from None
                    if not chunk:
                        break
                    f.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            if expected is not None and received != expected:
                raise ZooError(f"the download of {url} was cut short: {received:,} of {expected:,} bytes; nothing "
                               "kept in the cache, run again")
            if entry.sha256 is not None and digest.hexdigest() != entry.sha256:
                raise ZooError(f"{url}: sha256 {digest.hexdigest()[:16]}... is not the zoo file's "
                               f"{entry.sha256[:16]}... (a different or damaged file); nothing kept in the cache")


def _problem(path, entry):
    """Why a file in the cache is not the zoo's (its size or sha256 differs from the recorded one), or None."""
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        return f"{size:,} bytes where the zoo's file has {entry.size:,}"
    if entry.sha256 is not None and _sha256(path) != entry.sha256:
        return "its sha256 is not the zoo file's"
    return None


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _remove(path):
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as err:
        raise ZooError(f"{path} is not the zoo's file and cannot be removed ({err.strerror}); remove it by hand") \
            from None


def _first_line(err):
    return str(err).strip().splitlines()[0]


def _reason(err):
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    return " ".join(str(text).split())


def _bytes(count):
    return f"{count:,} bytes" if count is not None else "? bytes"


# ---------------------------------------------------------------------------------------------------- command

def table(cache=False):
    """The zoo as text: one row per weights file (model, weights, file, size or ``?`` where not recorded, the zoo's
    top-1/top-5), and with ``cache`` whether it is in the torch hub cache."""
    header = f"{'model':<18} {'weights':<12} {'file':<24} {'size':>9}  {'top-1/top-5':<12}"
    rows = [(header + ("  cached" if cache else "")).rstrip()]
    for entry in WEIGHTS.values():
        size = f"{entry.size / 1e6:.1f} MB" if entry.size else "?"
        accuracy = f"{entry.top1:.2f}/{entry.top5:.2f}" if entry.top1 else ""
        row = f"{entry.model:<18} {entry.name:<12} {entry.file_name:<24} {size:>9}  {accuracy:<12}"
        if cache:
            row += "  yes" if cached(entry.model, entry.name) else "  no"
        rows.append(row.rstrip())
    return "\n".join(rows)


def cli(argv) -> int:
    """``python -m slowfast_lite zoo [list]`` or ``zoo fetch MODEL [--weights NAME]``."""
    parser = usage.ArgumentParser(prog="python -m slowfast_lite zoo",
                                  description="The reference model zoos' Kinetics-400 weights for our networks: "
                                              "list them, or fetch one into the torch hub cache.")
    actions = parser.add_subparsers(dest="action", parser_class=usage.ArgumentParser)
    actions.add_parser("list", help="the weights, their files, sizes and accuracy, and which are cached (default)")
    fetching = actions.add_parser("fetch", help="download a network's weights once, check them and load them "
                                                "strictly; print the file's path")
    fetching.add_argument("model", help="our model name, e.g. slowfast_r50_8x8")
    fetching.add_argument("--weights", default="kinetics400", help="which weights (default kinetics400)")
    args = parser.parse_args(argv)
    if args.action == "fetch":
        get(args.model, args.weights)  # an unknown name fails before anything else
        load(args.model, args.weights, progress=sys.stderr.isatty())
        print(f"{args.model} {args.weights}: {get(args.model, args.weights).cache_path} (checked, loads strictly)")
        return 0
    print(table(cache=True))
    print(f"\nfiles are cached in {Path(torch.hub.get_dir()) / 'checkpoints'} (set $TORCH_HOME to move it); "
          f"fetched from {base_url()} (${URL_ENV} replaces it)")
    return 0
