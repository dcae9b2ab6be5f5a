"""Grad-CAM per pathway: the closed form on a model we can solve by hand, and the hooks on a real SlowFast."""

import numpy as np
import pytest
import torch
from torch import nn

from slowfast_lite.flops import example_inputs
from slowfast_lite.gradcam import cam_from, gradcam, overlay, upsample
from slowfast_lite.models import build_model

torch.set_num_threads(2)


class PassThrough(nn.Module):
    def forward(self, xs):
        return list(xs)


class PooledLinear(nn.Module):
    """``s5`` passes the pathways through; the head averages each over (T, H, W) and applies one linear layer.

    For class c, the gradient of the score on channel k of pathway p is W[c, k_p] / (T H W) everywhere, so
    Grad-CAM is relu(sum_k W[c, k_p] A_k) scaled to [0, 1]: a map we can write down.
    """

    def __init__(self, weight):
        super().__init__()
        self.s5 = PassThrough()
        self.projection = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        with torch.no_grad():
            self.projection.weight.copy_(weight)

    def forward(self, xs):
        feats = self.s5(xs)
        return self.projection(torch.cat([f.mean(dim=(2, 3, 4)) for f in feats], dim=1))


def normalised(x):
    return (x - x.amin()) / (x.amax() - x.amin())


def test_closed_form_on_a_pooled_linear_model():
    generator = torch.Generator().manual_seed(0)
    slow, fast = torch.rand(1, 2, 2, 4, 4, generator=generator), torch.rand(1, 2, 8, 4, 4, generator=generator)
    # class 1 looks at channel 0 of Slow (minus channel 1) and at channel 1 of Fast
    weight = torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, -0.5, 0.0, 2.0]])
    cams, classes = gradcam(PooledLinear(weight), [slow, fast], target=1)
    assert classes.tolist() == [1]
    expected_slow = normalised(torch.relu(slow[0, 0] - 0.5 * slow[0, 1]))
    expected_fast = normalised(torch.relu(2.0 * fast[0, 1]))
    torch.testing.assert_close(cams[0][0], expected_slow)
    torch.testing.assert_close(cams[1][0], expected_fast)


def test_heat_follows_the_evidence():
    """A bright square in the channel the class weighs is where the map peaks, frame by frame."""
    frames = torch.zeros(1, 1, 4, 16, 16)
    for t in range(4):
        frames[0, 0, t, 2:6, 2 + 3 * t:6 + 3 * t] = 1.0  # a square moving right
    cams, _ = gradcam(PooledLinear(torch.tensor([[1.0]])), [frames], target=0)
    for t in range(4):
        row, col = divmod(int(cams[0][0, t].argmax()), 16)
        assert 2 <= row < 6 and 2 + 3 * t <= col < 6 + 3 * t


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = build_model("slowfast_tiny", num_classes=4).eval()
    with torch.no_grad():  # non-zero last BN of each block, so every layer passes signal
        for name, tensor in model.state_dict().items():
            if name.endswith("bn.weight") or name.endswith("_bn.weight"):
                tensor.uniform_(0.5, 1.5)
    inputs = example_inputs(model, batch=2, crop=64, generator=torch.Generator().manual_seed(1))
    return model, inputs


def test_real_model_matches_features_and_head(tiny):
    """The hooks on s5 agree with Grad-CAM computed from ``features`` and ``head`` directly."""
    model, inputs = tiny
    cams, classes = gradcam(model, inputs)
    with torch.no_grad():
        assert torch.equal(classes, model(inputs).argmax(dim=1))
        features = model.features(inputs)
    features = [f.detach().requires_grad_(True) for f in features]
    score = model.head(features).gather(1, classes[:, None]).sum()
    gradients = torch.autograd.grad(score, features)
    for cam, feature, gradient, x in zip(cams, features, gradients, inputs, strict=True):
        assert cam.shape == (2, *x.shape[2:]) and cam.min() >= 0 and cam.max() <= 1
        torch.testing.assert_close(cam, upsample(cam_from(feature.detach(), gradient), x.shape[2:]))


def test_leaves_model_and_inputs_untouched(tiny):
    model, inputs = tiny
    before = [x.clone() for x in inputs]
    model.train()
    cams, classes = gradcam(model, inputs, target=3)
    assert model.training and classes.tolist() == [3, 3]
    assert all(torch.equal(a, b) for a, b in zip(before, inputs, strict=True))
    assert all(p.grad is None for p in model.parameters())
    model.eval()


def test_unknown_layer_is_named(tiny):
    with pytest.raises(ValueError, match="no module 's9'"):
        gradcam(tiny[0], tiny[1], layer="s9")


def test_overlay():
    frames = np.full((2, 4, 4, 3), 100, dtype=np.uint8)
    cam = torch.zeros(2, 4, 4)
    cam[:, 0, 0] = 1.0
    out = overlay(frames, cam, strength=0.5)
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert not np.array_equal(out[:, 0, 0], out[:, 1, 1])  # hot and cold pixels differ
    assert np.array_equal(overlay(frames, cam, strength=0.0), frames)
    with pytest.raises(ValueError, match="must agree"):
        overlay(frames, cam[:1])

