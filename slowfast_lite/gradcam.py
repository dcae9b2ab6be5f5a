"""Grad-CAM per pathway: where the Slow and the Fast pathway look, over the frames each one sees.

Grad-CAM (Selvaraju et al., 2017) weighs each channel of a layer's activations A by the mean gradient of the
class score over that channel's positions, sums the weighted channels and keeps the positive part. A SlowFast
stage returns one activation per pathway, so each pathway gets its own map: (T, H, W) for Slow's T frames,
(alpha*T, H, W) for Fast's frames, upsampled from the res5 grid to the input's frames and pixels.
"""

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F


def cam_from(activation, gradient):
    """Grad-CAM of one pathway from its activation and gradient, both (N, C, T, H, W) -> (N, T, H, W) >= 0."""
    weights = gradient.mean(dim=(2, 3, 4), keepdim=True)  # (N, C, 1, 1, 1): how much each channel matters
    return F.relu((weights * activation).sum(dim=1))


def upsample(cam, size):
    """(N, T', H', W') -> (N, T, H, W) by trilinear interpolation, then scaled to [0, 1] per clip."""
    cam = F.interpolate(cam[:, None], size=tuple(size), mode="trilinear", align_corners=False)[:, 0]
    low = cam.amin(dim=(1, 2, 3), keepdim=True)
    high = cam.amax(dim=(1, 2, 3), keepdim=True)
    return (cam - low) / (high - low).clamp_min(1e-12)


def gradcam(model, pathways, target=None, layer="s5"):
    """Grad-CAM of every pathway of ``model`` for class ``target`` (default: each clip's top-1 class).

    ``pathways``: list of (N, 3, T_p, H, W) input tensors (not modified); ``layer``: name of a module that
    returns one activation per pathway (``"s5"``: the last residual stage). Returns ``(cams, classes)``:
    cams a list of (N, T_p, H, W) tensors in [0, 1], one per pathway, and classes (N,) the explained classes.
    The model runs in eval mode (BN statistics, no dropout) and its parameters' gradients are left untouched.
    """
    module = dict(model.named_modules()).get(layer)
    if module is None:
        raise ValueError(f"model has no module {layer!r}; stages are {[n for n, _ in model.named_children()]}")
    activations = []
    handle = module.register_forward_hook(lambda _module, _inputs, output: activations.extend(output))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            # Inputs that require grad make every activation part of the graph, even with frozen weights.
            xs = [x.detach().clone().requires_grad_(True) for x in pathways]
            logits = model(xs)
            if target is None:
                classes = logits.argmax(dim=1)
            else:
                classes = torch.as_tensor(target, device=logits.device).long().expand(logits.shape[0])
            score = logits.gather(1, classes[:, None]).sum()
            gradients = torch.autograd.grad(score, activations)
    finally:
        handle.remove()
        model.train(was_training)
    cams = [upsample(cam_from(a.detach(), g), x.shape[2:]) for a, g, x in zip(activations, gradients, pathways,
                                                                              strict=True)]
    return cams, classes.detach()


def overlay(frames, cam, strength=0.5, colormap="jet"):
    """Blend a heatmap over frames: uint8 (T, H, W, 3) and cam (T, H, W) in [0, 1] -> uint8 (T, H, W, 3)."""
    frames = np.asarray(frames, dtype=np.float32)
    cam = cam.detach().cpu().numpy() if isinstance(cam, torch.Tensor) else np.asarray(cam)
    if cam.shape != frames.shape[:3]:
        raise ValueError(f"cam {cam.shape} and frames {frames.shape} must agree on (T, H, W)")
    heat = matplotlib.colormaps[colormap](cam)[..., :3] * 255
    return np.clip((1 - strength) * frames + strength * heat, 0, 255).round().astype(np.uint8)
