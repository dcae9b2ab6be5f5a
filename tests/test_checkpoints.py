"""Checkpoints: round trips through the three reference formats give identical logits; bad files fail clearly."""

import importlib.util
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from slowfast_lite import checkpoints
from slowfast_lite.checkpoints import CheckpointError
from slowfast_lite.models import build_model

torch.set_num_threads(2)
NUM_CLASSES = 5


def randomised(name, seed, num_classes=NUM_CLASSES):
    """A model in eval mode whose every tensor (BN statistics included) is random, so any mix-up shows."""
    torch.manual_seed(seed)
    model = build_model(name, num_classes=num_classes).eval()
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand_like(tensor) + 0.5 if key.endswith("running_var") else
                             torch.randn_like(tensor) * 0.2)
    return model


def clip_for(model, seed=0):
    """One random input batch shaped for ``model``'s pathways."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(shape, generator=generator) for shape in model.config.input_shapes(1, crop=64)]


def logits(model, inputs):
    with torch.no_grad():
        return model(inputs)


# Our names -> PyTorchVideo's, read off the reference's own networks (fixtures/reference_keys.json, from its
# model builders), so the rename under test is never checked against a rename written beside it.
_REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "reference_keys.json").read_text())["networks"]
_PTV_NAMES = {two: {checkpoints.pytorchvideo_name(k): k for b, net in _REFERENCE.items()
                    if b.startswith("slowfast") == two for k in net["keys"]} for two in (True, False)}


def pytorchvideo_key(key, two_pathways):
    return _PTV_NAMES[two_pathways][key]


def _fixture_script(name):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "fixtures" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The model zoo's Caffe2 naming scheme, from the script whose names PySlowFast's own converter checked
caffe2_key = _fixture_script("make_pyslowfast_keys").caffe2_name
_PYSLOWFAST = json.loads((Path(__file__).parent / "fixtures" / "pyslowfast_keys.json").read_text())["networks"]


def as_caffe2_blobs(state):
    last_block = {}
    for key in state:
        if m := re.match(r"s(\d)\.pathway1_res(\d+)\.", key):
            last_block[int(m[1])] = max(last_block.get(int(m[1]), 0), int(m[2]))
    blobs = {caffe2_key(k, last_block): v.numpy().copy() for k, v in state.items()
             if not k.endswith("num_batches_tracked")}
    # what a training run also leaves in a model-zoo pickle: momentum buffers and bookkeeping
    blobs |= {name + "_momentum": np.zeros_like(v) for name, v in list(blobs.items())[:3]}
    blobs |= {"lr": np.array([0.1], np.float32), "model_iter": np.array([100], np.int64)}
    return blobs


@pytest.fixture(scope="module")
def trained():
    model = randomised("slowfast_tiny", seed=1)
    return model, clip_for(model), logits(model, clip_for(model))


def fresh_model(name="slowfast_tiny", num_classes=NUM_CLASSES):
    return randomised(name, seed=2, num_classes=num_classes)


def test_pyslowfast_round_trip(trained, tmp_path):
    model, inputs, expected = trained
    path = checkpoints.save_pyslowfast(model, tmp_path / "ours.pyth", epoch=7)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"epoch", "model_state", "optimizer_state", "cfg", "model_sha256"} and raw["epoch"] == 7
    assert list(raw["model_state"]) == list(model.state_dict())
    other = fresh_model()
    assert not torch.equal(logits(other, inputs), expected)
    report = checkpoints.load(path, other)
    assert report.ok and report.format == "pyslowfast" and len(report.loaded) == len(model.state_dict())
    assert torch.equal(logits(other, inputs), expected)


@pytest.mark.parametrize("name", ["slowfast_tiny", "slow_tiny"])
def test_pytorchvideo_round_trip(name, tmp_path):
    model = randomised(name, seed=1)
    inputs = clip_for(model)
    two = name.startswith("slowfast")
    state = {pytorchvideo_key(k, two): v for k, v in model.state_dict().items()}
    assert all(k.startswith("blocks.") for k in state)
    torch.save({"model_state": state}, tmp_path / "ptv.pyth")
    assert list(checkpoints.from_pytorchvideo(state)) == list(model.state_dict())
    other = fresh_model(name)
    report = checkpoints.load(tmp_path / "ptv.pyth", other)
    assert report.ok and report.format == "pytorchvideo"
    assert torch.equal(logits(other, inputs), logits(model, inputs))


def test_caffe2_round_trip(trained, tmp_path):
    model, inputs, expected = trained
    blobs = as_caffe2_blobs(model.state_dict())
    assert "t_pool1_subsample_w" in blobs and "res_conv1_bn_riv" in blobs and "pred_w" in blobs
    with open(tmp_path / "zoo.pkl", "wb") as f:
        pickle.dump({"blobs": blobs}, f, protocol=2)  # the protocol Python 2 wrote the model zoo with
    other = fresh_model()
    report = checkpoints.load(tmp_path / "zoo.pkl", other)
    assert report.ok and report.format == "caffe2", str(report)
    assert torch.equal(logits(other, inputs), expected)


def test_caffe2_names_of_the_reference():
    expected = {
        "conv1_w": "s1.pathway0_stem.conv.weight",
        "t_conv1_w": "s1.pathway1_stem.conv.weight",
        "res_conv1_bn_s": "s1.pathway0_stem.bn.weight",
        "t_res_conv1_bn_riv": "s1.pathway1_stem.bn.running_var",
        "t_pool1_subsample_w": "s1_fuse.conv_f2s.weight",
        "t_pool1_subsample_bn_rm": "s1_fuse.bn.running_mean",
        "t_res4_5_branch2c_bn_subsample_w": "s4_fuse.conv_f2s.weight",
        "t_res4_5_branch2c_bn_subsample_bn_b": "s4_fuse.bn.bias",
        "res3_0_branch1_w": "s3.pathway0_res0.branch1.weight",
        "t_res3_0_branch1_bn_s": "s3.pathway1_res0.branch1_bn.weight",
        "res5_2_branch2b_w": "s5.pathway0_res2.branch2.b.weight",
        "t_res2_1_branch2c_bn_b": "s2.pathway1_res1.branch2.c_bn.bias",
        "nonlocal_conv3_1_theta_w": "s3.pathway0_nonlocal1.conv_theta.weight",
        "nonlocal_conv4_5_bn_s": "s4.pathway0_nonlocal5.bn.weight",
        "pred_w": "head.projection.weight",
        "pred_b": "head.projection.bias",
    }
    assert {name: checkpoints.caffe2_name(name) for name in expected} == expected
    assert checkpoints.caffe2_name("conv1_w_momentum") is None and checkpoints.caffe2_name("res_conv1_w") is None


@pytest.mark.parametrize("label", [k for k, net in _PYSLOWFAST.items() if "caffe2" in net])
def test_caffe2_names_convert_as_pyslowfasts_own_converter_does(label):
    """Every weight of R50 (and R50+NL): the Caffe2 name -> the key PySlowFast's c2_model_loading gives it."""
    names = _PYSLOWFAST[label]["caffe2"]
    assert {name: checkpoints.caffe2_name(name) for name in names} == names
    # the PyTorchVideo names are checked against the reference's own: test_reference_keys.py


class Payload:
    """A pickle that creates a file when an unrestricted unpickler loads it."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "marker"
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump({"blobs": {"conv1_w": np.zeros(3), "x": Payload(marker)}}, f, protocol=2)
    with pytest.raises(CheckpointError, match=r"refusing to load .*evil\.pkl: it asks for io\.open"):
        checkpoints.read(tmp_path / "evil.pkl")
    assert not marker.exists()
    pickle.loads(pickle.dumps(Payload(marker))).close()  # the same payload, unrestricted, does run
    assert marker.exists()


def test_malicious_torch_file_is_refused(tmp_path):
    marker = tmp_path / "marker"
    torch.save({"model_state": {"w": torch.zeros(2)}, "x": Payload(marker)}, tmp_path / "evil.pyth")
    with pytest.raises(CheckpointError, match=r"refusing to load .*evil\.pyth"):
        checkpoints.load(tmp_path / "evil.pyth", fresh_model())
    assert not marker.exists()


@pytest.mark.parametrize("suffix", [".pyth", ".pkl"])
def test_truncated_file_names_the_file(trained, tmp_path, suffix):
    model = trained[0]
    whole = tmp_path / f"whole{suffix}"
    if suffix == ".pyth":
        checkpoints.save_pyslowfast(model, whole)
    else:
        with open(whole, "wb") as f:
            pickle.dump({"blobs": as_caffe2_blobs(model.state_dict())}, f, protocol=2)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=re.escape(str(cut))):
        checkpoints.load(cut, fresh_model())


def test_malicious_torch_file_message_gives_no_unsafe_advice(tmp_path):
    torch.save({"model_state": {"w": torch.zeros(2)}, "x": Payload(tmp_path / "marker")}, tmp_path / "evil.pyth")
    with pytest.raises(CheckpointError) as caught:
        checkpoints.read(tmp_path / "evil.pyth")
    assert "weights_only" not in str(caught.value) and "GLOBAL io.open" in str(caught.value)


@pytest.mark.parametrize("content, cause", [
    (b"", "the file is empty"),
    (bytes(np.random.default_rng(0).integers(1, 127, 4096, dtype=np.uint8)), "not a torch checkpoint"),
])
def test_empty_or_random_file_is_named_with_its_cause(tmp_path, content, cause):
    (tmp_path / "junk.pyth").write_bytes(content)
    with pytest.raises(CheckpointError, match=rf"junk\.pyth: {cause}") as caught:
        checkpoints.read(tmp_path / "junk.pyth")
    assert "weights_only" not in str(caught.value)


def test_zeroed_bytes_inside_a_checkpoint_fail_its_crc(trained, tmp_path):
    path = checkpoints.save_pyslowfast(trained[0], tmp_path / "ours.pyth")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2  # inside a tensor's bytes: the zip's structure stays valid
    data[middle:middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    torch.load(path, weights_only=True)  # torch alone loads it, one tensor silently different
    with pytest.raises(CheckpointError, match=r"ours\.pyth is corrupt: .* fails its CRC check"):
        checkpoints.load(path, fresh_model())


def test_weights_changed_after_saving_fail_the_recorded_sha256(trained, tmp_path):
    path = checkpoints.save_pyslowfast(trained[0], tmp_path / "ours.pyth")
    raw = torch.load(path, weights_only=True)
    checkpoints.read_file(path)  # as written, it passes
    raw["model_state"]["head.projection.bias"][0] += 1  # a valid archive whose weights differ from the record
    torch.save(raw, path)
    with pytest.raises(CheckpointError, match=r"ours\.pyth is corrupt: its weights no longer match the sha256"):
        checkpoints.load(path, fresh_model())
    del raw[checkpoints.DIGEST_KEY]  # a checkpoint from elsewhere carries no record: nothing to compare
    torch.save(raw, path)
    checkpoints.load(path, fresh_model())


def test_other_architecture_is_refused_and_nothing_loads(trained, tmp_path):
    slow = randomised("slow_tiny", seed=3)
    path = checkpoints.save_pyslowfast(slow, tmp_path / "slow.pyth")
    target = fresh_model("slowfast_tiny")
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(CheckpointError) as info:
        checkpoints.load(path, target)
    message = str(info.value)
    assert str(path) in message and "missing from the checkpoint" in message
    assert "checkpoint: 1 pathway," in message and "model:      2 pathways, lateral connections" in message
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_class_count_mismatch_is_reported_and_head_can_be_skipped(trained, tmp_path):
    model, inputs, _ = trained
    path = checkpoints.save_pyslowfast(model, tmp_path / "five.pyth")
    target = fresh_model(num_classes=NUM_CLASSES + 2)
    with pytest.raises(CheckpointError, match=r"head\.projection\.weight: \(5, \d+\) vs \(7, \d+\)"):
        checkpoints.load(path, target)
    report = checkpoints.load(path, target, skip=("head.",))
    assert report.ok and report.skipped == ["head.projection.weight", "head.projection.bias"]
    backbone = [k for k in model.state_dict() if not k.startswith("head.")]
    assert all(torch.equal(model.state_dict()[k], target.state_dict()[k]) for k in backbone)


def test_non_strict_load_reports_and_loads_what_fits(trained):
    model = trained[0]
    state = dict(model.state_dict())
    state.pop("s1.pathway0_stem.conv.weight")
    state["extra.weight"] = torch.zeros(1)
    target = fresh_model()
    report = checkpoints.load(state, target, strict=False)
    assert report.missing == ["s1.pathway0_stem.conv.weight"] and report.unexpected == ["extra.weight"]
    assert torch.equal(target.state_dict()["head.projection.weight"], model.state_dict()["head.projection.weight"])
    assert "1 missing, 1 unexpected" in str(report)


def test_file_without_weights_is_explained(tmp_path):
    torch.save({"epoch": 3, "notes": "hello"}, tmp_path / "empty.pyth")
    with pytest.raises(CheckpointError, match=r"empty\.pyth: no weights found"):
        checkpoints.read(tmp_path / "empty.pyth")
    with pytest.raises(CheckpointError, match="nowhere.pyth does not exist"):
        checkpoints.read(tmp_path / "nowhere.pyth")


def test_save_is_atomic(trained, tmp_path):
    model = trained[0]
    path = checkpoints.save_pyslowfast(model, tmp_path / "ckpt.pyth")
    good = path.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        checkpoints.atomic_save({"model_state": model.state_dict(), "bad": lambda: 0}, path)
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pyth"]
