"""Can ``torch.compile`` make the R50's batch norm + ReLU cheaper in training on a CPU?

``model_speed.py --breakdown`` shows where a channels-last forward+backward of the R50 4x16 goes: the
convolutions (oneDNN, the same kernels as the peer's) and a remainder, batch norm and ReLU for the most part.
Eager PyTorch runs batch norm, ReLU and their backward as separate kernels, each a pass over the activation;
a fused kernel would make fewer passes. This script times, for every distinct shape a batch norm of the model
sees at this crop, ``relu(batch_norm(x))`` forward+backward in training mode (batch statistics, running
averages updated) eager against the same function through ``torch.compile``, in channels-last memory, after
checking that both give the same output. (Most batch norms of the model feed a ReLU; the last one of each
residual block feeds the addition first. Every one is timed as batch norm + ReLU.) Printed per shape: how
many layers have it, eager and compiled milliseconds, and eager / compiled (> 1: compiled is faster); then both
summed over the layers, which is what a whole step would spend on them.
Run: ``python benchmarks/batch_norm_relu.py`` (``--crop 224``, ``--batch 2``, ``--threads 2``, ``--repeats 10``).
Compiling takes a few seconds per shape.
"""

import argparse
import collections

import torch
import torch.nn.functional as F
from model_speed import ALPHA, NAME, T, interleaved_times  # benchmarks/ is the script's folder

from slowfast_lite.models import build_model
from slowfast_lite.utils import cpu_model


def batch_norm_input_shapes(crop, batch):
    """{input shape: number of layers} of every BatchNorm3d in one forward of the R50 at ``crop``."""
    model = build_model(NAME, crop_size=crop)
    shapes = collections.Counter()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm3d):
            module.register_forward_pre_hook(lambda m, args: shapes.update([tuple(args[0].shape)]))
    with torch.no_grad():
        model([torch.zeros(batch, 3, t, crop, crop) for t in (T, ALPHA * T)])
    return shapes


def bn_relu(x, weight, bias, running_mean, running_var):
    return F.relu(F.batch_norm(x, running_mean, running_var, weight, bias, training=True))


def step(function, shape):
    """forward+backward of ``function`` on a fixed channels-last input of ``shape``."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(shape, generator=generator).contiguous(memory_format=torch.channels_last_3d)
    x.requires_grad_()
    channels = shape[1]
    weight, bias = torch.ones(channels, requires_grad=True), torch.zeros(channels, requires_grad=True)
    running = [torch.zeros(channels), torch.ones(channels)]
    grad = torch.randn(shape, generator=generator).contiguous(memory_format=torch.channels_last_3d)

    def run():
        x.grad = weight.grad = bias.grad = None
        out = function(x, weight, bias, *running)
        out.backward(grad)
        return out

    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    shapes = batch_norm_input_shapes(args.crop, args.batch)
    print(f"{NAME} at {args.crop}^2, batch {args.batch}, {args.threads} threads: relu(batch_norm(x)) forward+backward "
          f"in training, channels-last, best of {args.repeats}; CPU: {cpu_model()}")
    print(f"{'input shape':<26} {'layers':>6} {'eager ms':>9} {'compiled ms':>12} {'eager/compiled':>15}", flush=True)
    totals = collections.Counter()
    for shape, layers in sorted(shapes.items(), key=lambda item: -item[1]):
        torch._dynamo.reset()  # a fresh compilation for each shape: no recompilation limit is reached
        steps = {"eager": step(bn_relu, shape), "compiled": step(torch.compile(bn_relu, dynamic=False), shape)}
        torch.testing.assert_close(steps["compiled"](), steps["eager"](), rtol=1e-4, atol=1e-4)
        ms = interleaved_times(steps, args.repeats, args.warmup, "best")
        totals.update({label: layers * t for label, t in ms.items()})
        print(f"{str(shape):<26} {layers:>6} {ms['eager']:>9.2f} {ms['compiled']:>12.2f} "
              f"{ms['eager'] / ms['compiled']:>15.2f}", flush=True)
    print(f"{'all layers':<26} {sum(shapes.values()):>6} {totals['eager']:>9.1f} {totals['compiled']:>12.1f} "
          f"{totals['eager'] / totals['compiled']:>15.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
