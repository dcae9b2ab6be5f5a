"""Our names against the reference's own: PyTorchVideo's model-zoo networks, as its builders name them.

``fixtures/reference_keys.json`` was written by ``fixtures/make_reference_keys.py`` from PyTorchVideo 0.1.5's hub
builders (names and shapes of every tensor); these tests need neither PyTorchVideo nor weights.
"""

import json
from pathlib import Path

import pytest
import torch

from slowfast_lite import checkpoints
from slowfast_lite.models import build_model

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "reference_keys.json").read_text())["networks"]


def ptv_names_of_ours() -> dict:
    """Our name -> PyTorchVideo's, read off the reference networks (the inverse of ``pytorchvideo_name``)."""
    return {checkpoints.pytorchvideo_name(k): k for network in REFERENCE.values() for k in network["keys"]}


@pytest.mark.parametrize("builder", sorted(REFERENCE))
def test_every_reference_tensor_has_our_name_and_shape(builder):
    network = REFERENCE[builder]
    with torch.device("meta"):
        ours = {k: list(v.shape) for k, v in build_model(network["ours"]).state_dict().items()}
    renamed = {checkpoints.pytorchvideo_name(k): shape for k, shape in network["keys"].items()}
    assert len(renamed) == len(network["keys"])  # the rename is one to one
    assert sorted(set(renamed) ^ set(ours)) == []
    assert renamed == ours
    assert list(renamed) == list(ours)  # same order too: a strict load reports keys in the reference's order


def test_a_state_dict_in_the_reference_layout_loads_and_gives_the_same_logits(tmp_path):
    """The tiny model's tensors under PyTorchVideo's names (taken from the reference's key list) load exactly."""
    torch.manual_seed(0)
    model = build_model("slowfast_tiny", num_classes=5, crop_size=32).eval()
    names = ptv_names_of_ours()
    state = {names[k]: v for k, v in model.state_dict().items()}
    torch.save({"model_state": state}, tmp_path / "tiny.pyth")
    other = build_model("slowfast_tiny", num_classes=5, crop_size=32).eval()
    report = checkpoints.load(tmp_path / "tiny.pyth", other)
    assert report.ok and report.format == "pytorchvideo"
    inputs = [torch.randn(s) for s in model.config.input_shapes(2)]
    with torch.no_grad():
        assert torch.equal(model(inputs), other(inputs))
