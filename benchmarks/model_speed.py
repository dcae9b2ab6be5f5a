"""How fast is our SlowFast R50 4x16 against PyTorchVideo's ``create_slowfast`` in the same configuration?

Times forward (eval, no autograd) and forward+backward (train mode) of batch-2 clips at 112^2 and 224^2 with
2 CPU threads, for: the peer (PyTorchVideo 0.1.5, eager), ours eager, ours in ``channels_last_3d`` memory
format, ours through ``torch.compile``, and ours channels-last under bfloat16 autocast (mixed precision, as AMP
on a GPU: a different arithmetic, so it is listed apart from the float32 variants). Before timing, the peer gets
our weights through ``checkpoints.from_pytorchvideo`` (a pure rename) and must give the same logits: the two are
one network.
Printed, one row per variant as soon as it is measured: best-of-N milliseconds (the run least disturbed by
other work on the machine; ``--stat median`` for medians) and the ratio peer time / variant time (> 1 means
ours is faster). The bf16 variant is skipped, with a note, on a CPU without bf16 instructions (read from
/proc/cpuinfo) or when its first steps take over 5x the float32 channels-last time: oneDNN then emulates
bf16, tens of times slower, and the run would take hours.

The peer is a benchmark-only dependency, never one of the package; install it with
    pip install --no-deps pytorchvideo==0.1.5 fvcore iopath portalocker termcolor tabulate yacs
(fvcore and iopath import the last four at import time). Its model modules import torchvision only for
RoIAlign, which classification never builds: this script puts a stand-in ``torchvision.ops`` in ``sys.modules``
if torchvision is missing. Without the peer, only our variants are timed.
Run: ``python benchmarks/model_speed.py`` (``--sizes 112 224``, ``--repeats 10``, ``--threads 2``,
``--no-compile``). Timings on a shared machine are noisy: compare ratios from one run.
"""

import argparse
import statistics
import sys
import time
import types
from pathlib import Path

import torch

from slowfast_lite import checkpoints, flops
from slowfast_lite.models import build_model
from slowfast_lite.utils import cpu_model

NAME, ALPHA, T, FUSION_KERNEL = "slowfast_r50_4x16", 8, 4, 5


def peer_factory():
    """PyTorchVideo's SlowFast R50 4x16 (alpha 8, fusion kernel 5) for a crop, or None without PyTorchVideo."""
    try:
        import torchvision  # noqa: F401
    except ImportError:  # the peer imports torchvision.ops.RoIAlign for its detection head, built only there
        ops = types.ModuleType("torchvision.ops")
        ops.RoIAlign = None
        stand_in = types.ModuleType("torchvision")
        stand_in.ops = ops
        sys.modules.update({"torchvision": stand_in, "torchvision.ops": ops})
    try:
        from pytorchvideo.models.slowfast import create_slowfast
    except ImportError as err:
        print(f"PyTorchVideo not available ({err}); timing our variants only")
        return None

    def make(crop):
        s = -(-crop // 32)  # its head pools with a fixed window: the res5 size of this crop
        return create_slowfast(slowfast_fusion_conv_kernel_size=(FUSION_KERNEL, 1, 1),
                               slowfast_fusion_conv_stride=(ALPHA, 1, 1),
                               head_pool_kernel_sizes=((T, s, s), (ALPHA * T, s, s)))
    return make


def load_our_weights(peer, ours):
    """Give the peer our weights by name (PyTorchVideo -> PySlowFast names is a pure rename)."""
    state = ours.state_dict()
    peer.load_state_dict({k: state[checkpoints.pytorchvideo_name(k)] for k in peer.state_dict()})
    return peer


def check_same_network(ours, peer, crop):
    """Both in eval mode on one clip: the logits must agree; returns the largest difference."""
    ours.eval(), peer.eval()
    xs = flops.example_inputs(ours, 1, crop, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = ours(xs), peer(list(xs))  # the peer writes into the list it gets: give it a copy
    if a.shape != b.shape or not torch.allclose(a, b, rtol=1e-4, atol=1e-4):
        raise SystemExit(f"the peer is not the same network: max |logit difference| {(a - b).abs().max():.3g}")
    return (a - b).abs().max().item()


def step_functions(model, crop, batch, channels_last, bf16):
    """(forward, forward+backward) closures on fixed random inputs at ``crop``."""
    xs = [torch.randn(batch, 3, t, crop, crop) for t in (T, ALPHA * T)]
    if channels_last:
        xs = [x.contiguous(memory_format=torch.channels_last_3d) for x in xs]

    def forward():
        model.eval()
        with torch.no_grad(), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            model(list(xs))

    def forward_backward():
        model.train()
        with torch.autocast("cpu", torch.bfloat16, enabled=bf16):
            loss = model(list(xs)).float().sum()
        loss.backward()
        model.zero_grad(set_to_none=True)

    return forward, forward_backward


def interleaved_times(steps, repeats, warmup, stat):
    """Best (or median) ms of each step, timed round-robin so that a busy machine slows all of them alike."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {label: [] for label in steps}
    for _ in range(repeats):
        for label, step in steps.items():
            start = time.perf_counter()
            step()
            times[label].append(time.perf_counter() - start)
    reduce = min if stat == "best" else statistics.median
    return {label: 1000 * reduce(t) for label, t in times.items()}


def native_bf16():
    """None if this CPU has bf16 instructions (or we cannot tell), else a note why bf16 autocast is emulated.

    x86 needs AVX512-BF16 or AMX-BF16, Arm the BF16 extension; without them oneDNN emulates bf16 and a
    forward pass takes tens of times longer than in float32.
    """
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return None  # not Linux: time it and see
    if flags & {"avx512_bf16", "amx_bf16", "bf16"}:
        return None
    return "this CPU has no bf16 instructions (avx512_bf16, amx_bf16 or Arm bf16): emulated, far slower"


def too_slow(step, reference_ms, factor=5.0):
    """None if one call of ``step`` takes less than ``factor`` times ``reference_ms``, else a note with its time.

    Decides from at most two calls (the second one when the first may carry one-time set-up costs), so a
    variant that emulates bf16 costs seconds here instead of the whole run.
    """
    for _ in range(2):
        start = time.perf_counter()
        step()
        ms = 1000 * (time.perf_counter() - start)
        if ms < factor * reference_ms:
            return None
    return f"one step took {ms / 1000:.1f} s, {ms / reference_ms:.0f}x float32 channels-last: no fast bf16 kernels"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[112, 224])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--stat", choices=["best", "median"], default="best")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile variant")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    make_peer = peer_factory()
    no_bf16 = native_bf16()

    print(f"{NAME}, batch {args.batch}, {args.threads} threads, {args.stat} of {args.repeats} (forward and "
          f"forward+backward interleaved) after {args.warmup} warm-up; CPU: {cpu_model()}")
    print(f"{'variant':<29} {'crop':>5} {'forward ms':>11} {'fwd+bwd ms':>11} {'peer/this fwd':>14} {'fwd+bwd':>8}",
          flush=True)
    for crop in args.sizes:
        torch.manual_seed(0)
        ours = build_model(NAME, crop_size=crop)
        variants = {}
        if make_peer is not None:
            peer = load_our_weights(make_peer(crop), ours)
            diff = check_same_network(ours, peer, crop)
            variants["peer eager"] = (peer, False, False)
        variants["ours eager"] = (ours, False, False)
        channels_last = build_model(NAME, crop_size=crop).to(memory_format=torch.channels_last_3d)
        variants["ours channels_last_3d"] = (channels_last, True, False)
        if not args.no_compile:
            variants["ours torch.compile"] = (torch.compile(build_model(NAME, crop_size=crop)), False, False)
        variants["ours ch.last + bf16 autocast"] = (channels_last, True, True)
        measured = {}
        for label, (model, *flags) in variants.items():  # each row printed as soon as it is measured
            forward, forward_backward = step_functions(model, crop, args.batch, *flags)
            bf16 = flags[1]
            skip = bf16 and (no_bf16 or too_slow(forward, measured["ours channels_last_3d"][0]))
            if skip:
                print(f"{label:<29} {crop:>5}  skipped: {skip}", flush=True)
                continue
            times = interleaved_times({"fwd": forward, "fb": forward_backward}, args.repeats, args.warmup, args.stat)
            measured[label] = times["fwd"], times["fb"]
            ratios = ""
            if "peer eager" in measured:
                peer_fwd, peer_fb = measured["peer eager"]
                ratios = f"{peer_fwd / times['fwd']:>14.2f} {peer_fb / times['fb']:>8.2f}"
            print(f"{label:<29} {crop:>5} {times['fwd']:>11.1f} {times['fb']:>11.1f} {ratios}", flush=True)
        if make_peer is not None:
            print(f"  (peer check at {crop}^2: same logits as ours, max |difference| {diff:.1e})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
