"""How fast is our SlowFast R50 4x16 against PyTorchVideo's ``create_slowfast`` in the same configuration?

Times forward (eval, no autograd) and forward+backward (train mode) of batch-2 clips at 112^2 and 224^2 with
2 CPU threads, for: the peer (PyTorchVideo 0.1.5, eager), ours eager, ours in ``channels_last_3d`` memory
format, ours through ``torch.compile``, and ours channels-last under bfloat16 autocast (mixed precision, as AMP
on a GPU: a different arithmetic, so it is listed apart from the float32 variants). Before timing, the peer gets
our weights through ``checkpoints.from_pytorchvideo`` (a pure rename) and must give the same logits: the two are
one network.
Every variant's steps are timed in one round-robin, so a machine that slows down mid-run slows them all alike.
Printed, one row per variant: best-of-N milliseconds (the run least disturbed by other work on the machine;
``--stat median`` for medians) and the ratio peer time / variant time (> 1 means ours is faster). The bf16
variant is skipped, with a note, on a CPU without bf16 instructions (read from /proc/cpuinfo) or when its first
steps take over 5x the float32 channels-last time: oneDNN then emulates bf16, tens of times slower, and the run
would take hours.

The peer is a benchmark-only dependency, never one of the package; install it with
    pip install --no-deps pytorchvideo==0.1.5 fvcore iopath portalocker termcolor tabulate yacs
(fvcore and iopath import the last four at import time). Its model modules import torchvision only for
RoIAlign, which classification never builds: this script puts a stand-in ``torchvision.ops`` in ``sys.modules``
if torchvision is missing. Without the peer, only our variants are timed.
Freed memory is kept in the process for every variant alike (glibc ``mallopt``): otherwise each step maps its
activations afresh and page faults add 0.2-0.6 s of noise to a 2.5 s step at 224^2 (``--return-memory`` for the
allocator's default). ``--breakdown`` adds, for the eager variants, one forward+backward split by operator:
convolutions, batch norm and the rest, and the ratio the peer's time over our convolutions' alone: the best any change
outside the convolutions could reach, since both models call the same oneDNN convolutions.
Run: ``python benchmarks/model_speed.py`` (``--sizes 112 224``, ``--repeats 10``, ``--threads 2``,
``--no-compile``, ``--breakdown``). Timings on a shared machine are noisy: compare ratios from one run.
"""

import argparse
import collections
import ctypes
import statistics
import sys
import time
import types
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

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


def keep_freed_memory():
    """Tell glibc's malloc to keep freed memory in the process (no trimming, the largest heap threshold), so a
    step reuses the pages of the one before instead of faulting in fresh ones. False where it cannot (not glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # malloc.h
    return bool(libc.mallopt(m_trim_threshold, 1 << 30)) and bool(libc.mallopt(m_mmap_threshold, 32 << 20))


class OperatorTimes(TorchDispatchMode):
    """Seconds spent in each operator group (convolution, batch norm, other) while active, backward included."""

    GROUPS = {"convolution": ("convolution",), "batch norm": ("batch_norm",)}

    def __init__(self):
        super().__init__()
        self.seconds = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        start = time.perf_counter()
        out = func(*args, **(kwargs or {}))
        name = func.__name__
        group = next((g for g, keys in self.GROUPS.items() if any(k in name for k in keys)), "other")
        self.seconds[group] += time.perf_counter() - start
        return out


def breakdown(forward_backward):
    """{group: ms} of one forward+backward (after one untimed call)."""
    forward_backward()
    with OperatorTimes() as times:
        forward_backward()
    return {group: 1000 * sec for group, sec in times.seconds.items()}


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


def call_ms(step):
    """Milliseconds of one call of ``step``, after one untimed call."""
    step()
    start = time.perf_counter()
    step()
    return 1000 * (time.perf_counter() - start)


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
    parser.add_argument("--breakdown", action="store_true", help="time the eager variants' operators by group")
    parser.add_argument("--return-memory", action="store_true", help="leave malloc's defaults (page faults every step)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    memory = "freed memory kept" if not args.return_memory and keep_freed_memory() else "malloc defaults"
    make_peer = peer_factory()
    no_bf16 = native_bf16()

    print(f"{NAME}, batch {args.batch}, {args.threads} threads, {args.stat} of {args.repeats} (every variant's "
          f"forward and forward+backward in turn) after {args.warmup} warm-up, {memory}; CPU: {cpu_model()}")
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
        steps = {label: step_functions(model, crop, args.batch, *flags) for label, (model, *flags) in variants.items()}
        bf16 = "ours ch.last + bf16 autocast"
        skip = no_bf16 or too_slow(steps[bf16][0], call_ms(steps["ours channels_last_3d"][0]))
        if skip:
            print(f"{bf16:<29} {crop:>5}  skipped: {skip}", flush=True)
            del steps[bf16]
        # every step of every variant in one round-robin: a machine that slows down mid-run slows all of them alike
        times = interleaved_times({(label, kind): fn for label, pair in steps.items()
                                   for kind, fn in zip(("fwd", "fb"), pair, strict=True)},
                                  args.repeats, args.warmup, args.stat)
        measured = {label: (times[label, "fwd"], times[label, "fb"]) for label in steps}
        for label, (fwd, fb) in measured.items():
            ratios = ""
            if "peer eager" in measured:
                peer_fwd, peer_fb = measured["peer eager"]
                ratios = f"{peer_fwd / fwd:>14.2f} {peer_fb / fb:>8.2f}"
            print(f"{label:<29} {crop:>5} {fwd:>11.1f} {fb:>11.1f} {ratios}", flush=True)
        if make_peer is not None:
            print(f"  (peer check at {crop}^2: same logits as ours, max |difference| {diff:.1e})", flush=True)
        if args.breakdown:
            print_breakdown(variants, measured, crop, args.batch)
    return 0


def print_breakdown(variants, measured, crop, batch):
    """One forward+backward of each eager float32 variant split by operator group, and the bound it sets."""
    for label in ("peer eager", "ours eager", "ours channels_last_3d"):
        if label not in variants:
            continue
        model, *flags = variants[label]
        ms = breakdown(step_functions(model, crop, batch, *flags)[1])
        parts = "  ".join(f"{group} {ms.get(group, 0):.0f}" for group in ("convolution", "batch norm", "other"))
        line = f"  {label:<27} {crop:>5} fwd+bwd ms by operator: {parts}"
        if "peer eager" in measured and label != "peer eager":
            line += f"; peer / our convolutions alone {measured['peer eager'][1] / ms['convolution']:.2f}"
        print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
