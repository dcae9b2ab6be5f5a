"""The model zoo: files fetched once into the torch hub cache, checked, loaded strictly, labelled; every failure
is one line and leaves the cache clean. A local HTTP server plays the zoo (``$SLOWFAST_LITE_ZOO_URL``), in the
zoo's layout; nothing here needs the internet."""

import dataclasses
import hashlib
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import tomllib
import torch

from slowfast_lite import checkpoints, demo, transforms, zoo
from slowfast_lite.__main__ import main
from slowfast_lite.models import CONFIGS, build_model
from slowfast_lite.video import write_video

torch.set_num_threads(2)
ROOT = Path(__file__).resolve().parents[1]
TINY = zoo.Weights("slowfast_tiny", "test", "pytorchvideo/model_zoo/kinetics/TINY_TEST.pyth", "PyTorchVideo",
                   test_scale=64, test_crop=64)


# ---------------------------------------------------------------------------------------------------- the zoo's files

def pytorchvideo_state(model):
    """Our state dict under PyTorchVideo's names, written here from its published layout (not by the package)."""
    two = len(model.config.pathway_names) == 2
    state = {}
    for key, value in model.state_dict().items():
        k = key.replace("head.projection.", "blocks.6.proj." if two else "blocks.5.proj.")
        if two:
            k = re.sub(r"^s(\d)_fuse\.", lambda m: f"blocks.{int(m[1]) - 1}.multipathway_fusion.", k)
            k = re.sub(r"^s1\.pathway(\d)_stem\.", r"blocks.0.multipathway_blocks.\1.", k)
            k = re.sub(r"^s(\d)\.pathway(\d)_res(\d+)\.",
                       lambda m: f"blocks.{int(m[1]) - 1}.multipathway_blocks.{m[2]}.res_blocks.{m[3]}.", k)
        else:
            k = k.replace("s1.pathway0_stem.", "blocks.0.")
            k = re.sub(r"^s(\d)\.pathway0_res(\d+)\.", lambda m: f"blocks.{int(m[1]) - 1}.res_blocks.{m[2]}.", k)
        renames = [("conv_f2s.", "conv_fast_to_slow."), (".bn.", ".norm."), ("branch1_bn.", "branch1_norm."),
                   ("branch1.", "branch1_conv.")]
        renames += [(f"branch2.{x}_bn.", f"branch2.norm_{x}.") for x in "abc"]
        renames += [(f"branch2.{x}.", f"branch2.conv_{x}.") for x in "abc"]
        for ours, theirs in renames:
            k = k.replace(ours, theirs)
        state[k] = value
    assert all(k.startswith("blocks.") for k in state)
    return state


def zoo_file(model):
    """The bytes of a PyTorchVideo model-zoo .pyth holding ``model``'s weights (its layout: model and optimiser
    state, the config as text)."""
    buffer = io.BytesIO()
    torch.save({"epoch": 196, "model_state": pytorchvideo_state(model), "optimizer_state": {}, "cfg": "{}"}, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny():
    """A 400-class tiny SlowFast with random weights, and its zoo file."""
    torch.manual_seed(0)
    model = build_model("slowfast_tiny", num_classes=400).eval()
    return model, zoo_file(model)


class Zoo:
    """An HTTP server on 127.0.0.1 serving ``files`` (URL path -> bytes or a file), counting ``requests``; a path
    in ``truncated`` announces its full Content-Length and sends half of it."""

    def __init__(self):
        self.files, self.truncated, self.requests = {}, set(), []
        zoo_server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                zoo_server.requests.append(self.path)
                body = zoo_server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                size = body.stat().st_size if isinstance(body, Path) else len(body)
                self.send_response(200)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                try:
                    if isinstance(body, Path):
                        with open(body, "rb") as f:
                            shutil.copyfileobj(f, self.wfile)
                    else:
                        self.wfile.write(body[:size // 2] if self.path in zoo_server.truncated else body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading (a size it refused): what a real server sees too

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, entry, body):
        self.files[f"/{entry.path}"] = body

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch, tmp_path):
    """The zoo at a local URL, the torch hub cache in tmp_path, the tiny test entry registered in the table."""
    served = Zoo()
    monkeypatch.setenv(zoo.URL_ENV, served.url)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setitem(zoo.WEIGHTS, (TINY.model, TINY.name), TINY)
    yield served
    served.close()


def cache_files(tmp_path):
    """Everything in the cache folder, hidden partial files included."""
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = np.random.default_rng(0).integers(0, 256, (40, 48, 64, 3), dtype=np.uint8)
    return write_video(tmp_path_factory.mktemp("zoo_video") / "clip.mp4", frames, fps=30)


# ---------------------------------------------------------------------------------------------------- class names

def test_kinetics_names_are_the_zoos_index_order():
    names = zoo.class_names("kinetics400")
    assert len(names) == 400 and len(set(names)) == 400 and all(n == n.strip() and n for n in names)
    known = {0: "abseiling", 1: "air drumming", 115: "eating ice cream", 161: "hurling (sport)", 208:
             "passing American football (in game)", 209: "passing American football (not in game)",
             290: "sharpening knives", 346: "tai chi", 398: "yoga", 399: "zumba"}
    assert {i: names[i] for i in known} == known
    assert names == sorted(names)  # the reference's order is Python's string order of the names
    # sha256 of the names joined by newlines, computed from PySlowFast's kinetics_classnames.json as read
    assert hashlib.sha256("\n".join(names).encode()).hexdigest() == \
        "a8dafb93a1204d4ecfa904f943ce5ee0c62ddeeb1df71aa1f96983fca17d777e"
    assert names is not zoo.class_names("kinetics400")  # a copy each time: callers may change theirs
    with pytest.raises(zoo.UnknownWeights, match="no class names 'imagenet'"):
        zoo.class_names("imagenet")


def test_the_names_ship_in_the_wheel():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = ROOT / "slowfast_lite"
    shipped = {p for pattern in package_data["slowfast_lite"] for p in package.glob(pattern)}
    assert package / "zoo_files" / "kinetics400_classnames.txt" in shipped


def test_every_entry_fits_a_named_config_and_the_zoos_layout():
    for (model, name), entry in zoo.WEIGHTS.items():
        assert (entry.model, entry.name) == (model, name) and model in CONFIGS
        assert entry.path.startswith(("pytorchvideo/model_zoo/kinetics/", "pyslowfast/model_zoo/kinetics400/"))
        assert entry.url == f"https://dl.fbaipublicfiles.com/{entry.path}"
        assert entry.path.endswith(".pyth" if entry.source == "PyTorchVideo" else ".pkl")
        assert (entry.size is None) == (entry.sha256 is None) and len(zoo.class_names(entry.classes)) == 400


# ---------------------------------------------------------------------------------------------------- fetching

def test_download_then_cache_hit(server, tmp_path, tiny):
    model, body = tiny
    server.serve(TINY, body)
    assert zoo.cached(TINY.model, TINY.name) is None
    loaded, names = zoo.load(TINY.model, TINY.name, progress=False)
    path = tmp_path / "torch" / "hub" / "checkpoints" / "TINY_TEST.pyth"
    assert server.requests == [f"/{TINY.path}"] and cache_files(tmp_path) == ["TINY_TEST.pyth"]
    assert zoo.cached(TINY.model, TINY.name) == path == TINY.cache_path and path.read_bytes() == body
    assert checkpoints.read(path)[1] == "pytorchvideo" and names == zoo.class_names()
    assert not loaded.training
    inputs = [torch.randn(s, generator=torch.Generator().manual_seed(1)) for s in loaded.config.input_shapes(2, 64)]
    with torch.no_grad():
        torch.testing.assert_close(loaded(inputs), model(inputs))
    again, _ = zoo.load(TINY.model, TINY.name, progress=False)  # from the cache: no second request
    assert len(server.requests) == 1 and cache_files(tmp_path) == ["TINY_TEST.pyth"]


def test_recorded_size_and_sha256_are_checked(server, tmp_path, tiny, monkeypatch):
    body = tiny[1]
    entry = dataclasses.replace(TINY, size=len(body), sha256=hashlib.sha256(body).hexdigest())
    monkeypatch.setitem(zoo.WEIGHTS, (TINY.model, TINY.name), entry)
    server.serve(entry, body)
    path = zoo.fetch(TINY.model, TINY.name, progress=False)
    assert path.read_bytes() == body and len(server.requests) == 1
    damaged = bytearray(body)
    damaged[len(body) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))  # same size, other bytes: the cached file is refused and fetched again
    assert zoo.fetch(TINY.model, TINY.name, progress=False).read_bytes() == body and len(server.requests) == 2
    path.unlink()
    server.serve(entry, bytes(damaged))  # the server sends another file of the right size: nothing is kept
    with pytest.raises(zoo.ZooError, match=r"TINY_TEST\.pyth: sha256 \w+\.\.\. is not the zoo file's"):
        zoo.fetch(TINY.model, TINY.name, progress=False)
    assert cache_files(tmp_path) == []
    server.serve(entry, body + b"extra")
    with pytest.raises(zoo.ZooError, match=f"offers {len(body) + 5:,} bytes where the zoo's file has {len(body):,}"):
        zoo.fetch(TINY.model, TINY.name, progress=False)
    assert cache_files(tmp_path) == []


def test_a_download_cut_short_is_removed(server, tmp_path, tiny, capsys):
    server.serve(TINY, tiny[1])
    server.truncated.add(f"/{TINY.path}")
    with pytest.raises(zoo.ZooError, match=rf"download of {server.url}/\S+TINY_TEST\.pyth was cut short: "
                                           rf"{len(tiny[1]) // 2:,} of {len(tiny[1]):,} bytes"):
        zoo.fetch(TINY.model, TINY.name, progress=False)
    assert cache_files(tmp_path) == []
    assert main(["zoo", "fetch", TINY.model, "--weights", TINY.name]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("zoo: the download of ") and "cut short" in err
    assert cache_files(tmp_path) == []


def test_a_file_that_does_not_load_strictly_is_removed(server, tmp_path, capsys):
    torch.manual_seed(0)
    server.serve(TINY, zoo_file(build_model("slow_tiny", num_classes=400)))  # another architecture
    with pytest.raises(zoo.ZooError, match=r"TINY_TEST\.pyth \(pytorchvideo\): \d+ tensors fit, \d+ missing, "
                                           r"\d+ unexpected.*does not fit slowfast_tiny.*removed it from the cache"):
        zoo.load(TINY.model, TINY.name, progress=False)
    assert cache_files(tmp_path) == []
    server.serve(TINY, b"<html>not found</html>")  # a web page where the file should be
    assert main(["demo", "anything.mp4", "--model", TINY.model, "--weights", TINY.name]) == 2  # no such video first
    capsys.readouterr()
    assert main(["zoo", "fetch", TINY.model, "--weights", TINY.name]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("zoo: ") and "TINY_TEST.pyth" in err
    assert "removed it from the cache" in err and cache_files(tmp_path) == []


def test_offline_names_the_url_and_where_to_put_the_file(server, tmp_path, monkeypatch, clip, capsys):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv(zoo.URL_ENV, closed + "/")
    target = tmp_path / "torch" / "hub" / "checkpoints" / "TINY_TEST.pyth"
    with pytest.raises(zoo.ZooError, match=re.escape(f"cannot download {closed}/{TINY.path} (") +
                       r".*refused.*place it at " + re.escape(str(target))):
        zoo.load(TINY.model, TINY.name, progress=False)
    assert main(["demo", str(clip), "--model", TINY.model, "--weights", TINY.name]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"demo: cannot download {closed}/")
    assert cache_files(tmp_path) == []


def test_missing_file_and_bad_base_url(server, tmp_path, monkeypatch, capsys):
    with pytest.raises(zoo.ZooError, match=r"cannot download http://127\.0\.0\.1:\d+/\S+TINY_TEST\.pyth: HTTP 404"):
        zoo.fetch(TINY.model, TINY.name, progress=False)
    monkeypatch.setenv(zoo.URL_ENV, "dl.example.com/zoo")
    assert main(["zoo", "fetch", TINY.model, "--weights", TINY.name]) == 2
    assert capsys.readouterr().err.strip() == \
        "zoo: $SLOWFAST_LITE_ZOO_URL='dl.example.com/zoo' is not an http://, https:// or file:// URL"
    assert cache_files(tmp_path) == []


def test_a_local_folder_serves_as_the_zoo(server, tmp_path, tiny, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / TINY.path).parent.mkdir(parents=True)
    (mirror / TINY.path).write_bytes(tiny[1])
    monkeypatch.setenv(zoo.URL_ENV, mirror.as_uri())
    assert zoo.fetch(TINY.model, TINY.name, progress=False).read_bytes() == tiny[1] and not server.requests


def test_unknown_names_are_user_errors(server, clip, capsys):
    cases = [
        (["demo", str(clip), "--model", "slowfast_tiny", "--weights", "kinetics400"],
         "demo: no model-zoo weights 'kinetics400' for slowfast_tiny; it has test"),
        (["demo", str(clip), "--model", "fast_r50", "--weights", "kinetics400"],
         "demo: no model-zoo weights for fast_r50; the zoo has weights for slow_r50_4x16, "),
        (["demo", str(clip), "--model", "slowfast_r50_8x8", "--weights", "imagenet"],
         "demo: no model-zoo weights 'imagenet' for slowfast_r50_8x8; it has kinetics400"),
        (["demo", str(clip), "--model", "slowfast_r50_8x8", "--weights", "kinetics400", "--checkpoint", str(clip)],
         "demo: give --checkpoint FILE or --weights NAME, not both"),
        (["evaluate", "--data", str(clip), "--weights", "kinetics400"],
         "evaluate: --weights kinetics400 needs --model"),
        (["evaluate", "--data", str(clip)], "evaluate: give --checkpoint FILE or --weights NAME (with --model)"),
        (["zoo", "fetch", "slowfast_r51"], "zoo: no model-zoo weights for slowfast_r51"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(message) and len(err.strip().splitlines()) == 1, err
    assert not server.requests
    assert main(["demo", str(clip), "--model", "slowfast_tiny"]) == 2
    assert "pass --checkpoint FILE, or --weights kinetics400" in capsys.readouterr().err


def test_listing_shows_the_table_and_the_cache(server, tmp_path, tiny, capsys):
    server.serve(TINY, tiny[1])
    assert main(["zoo"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"slowfast_r50_8x8 +kinetics400 +SLOWFAST_8x8_R50\.pyth +277\.1 MB +76\.94/92\.69 +no", out)
    assert f"cached in {tmp_path / 'torch' / 'hub' / 'checkpoints'}" in out and server.url in out
    assert main(["zoo", "fetch", TINY.model, "--weights", TINY.name]) == 0
    assert capsys.readouterr().out.strip().endswith("TINY_TEST.pyth (checked, loads strictly)")
    assert main(["zoo", "list"]) == 0
    assert re.search(r"slowfast_tiny +test +TINY_TEST\.pyth .* yes", capsys.readouterr().out)


# ---------------------------------------------------------------------------------------------------- commands

def test_demo_and_evaluate_with_zoo_weights(server, tmp_path, tiny, clip, capsys):
    server.serve(TINY, tiny[1])
    names = zoo.class_names()
    assert main(["demo", str(clip), "--model", TINY.model, "--weights", TINY.name, "--top", "3"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.strip()[:1].isdigit()]
    assert rows and all(sum(f" {name} 0." in line for name in names) == 3 for line in rows)
    # the same as the API with the entry's test view
    model, _ = zoo.load(TINY.model, TINY.name, progress=False)
    expected = demo.predict_video(model, clip, view=transforms.View(crop_size=64, short_side=64))
    assert rows == demo.format_predictions(expected, names, k=3).splitlines()[1:]
    # evaluate: class folders named as Kinetics names them (underscores or spaces) are scored as those classes
    for folder in ("abseiling", "air_drumming"):
        (tmp_path / "test" / folder).mkdir(parents=True)
        shutil.copy(clip, tmp_path / "test" / folder / "a.mp4")
    assert main(["evaluate", "--model", TINY.model, "--weights", TINY.name, "--data", str(tmp_path / "test"),
                 "--clips", "1", "--crops", "1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("2 videos x 1 views: top-1 ")
    assert [line.split("  ")[1].strip() for line in printed[1:]] == ["abseiling", "air drumming"]
    (tmp_path / "test" / "teapot").mkdir()
    shutil.copy(clip, tmp_path / "test" / "teapot" / "a.mp4")
    assert main(["evaluate", "--model", TINY.model, "--weights", TINY.name, "--data", str(tmp_path / "test")]) == 2
    assert "class 'teapot' is not one of the 400 classes of --weights test" in capsys.readouterr().err
    assert len(server.requests) == 1


def test_the_command_line_runs_the_papers_network_with_kinetics_names(tmp_path, clip):
    """``python -m slowfast_lite demo VIDEO --model <R50> --weights kinetics400``, through the real entry point,
    against a local zoo serving a full-size R50 file in PyTorchVideo's names (random weights: the names printed
    are Kinetics-400's, not a meaningful guess)."""
    entry = min((w for w in zoo.WEIGHTS.values() if w.sha256 is None and w.name == "kinetics400"),
                key=lambda w: (CONFIGS[w.model].pathways != "slow", w.model))  # the cheapest we can serve
    torch.manual_seed(0)
    weights = tmp_path / "served.pyth"
    model = build_model(entry.model)
    torch.save({"model_state": pytorchvideo_state(model)}, weights)
    del model
    served = Zoo()
    served.serve(entry, weights)
    out = tmp_path / "annotated.mp4"
    env = {**os.environ, zoo.URL_ENV: served.url, "TORCH_HOME": str(tmp_path / "torch"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    try:
        result = subprocess.run([sys.executable, "-m", "slowfast_lite", "demo", str(clip), "--model", entry.model,
                                 "--weights", "kinetics400", "--crop", "64", "--out", str(out)],
                                env=env, capture_output=True, text=True, timeout=600)
    finally:
        served.close()
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.strip()[:1].isdigit()]
    names = zoo.class_names()
    assert len(rows) == 1 and sum(f" {name} 0." in rows[0] for name in names) == 5, result.stdout
    assert out.is_file() and f"annotated video: {out}" in result.stdout
    assert served.requests == [f"/{entry.path}"]
    assert (tmp_path / "torch" / "hub" / "checkpoints" / entry.file_name).stat().st_size == weights.stat().st_size
