"""What a network costs, without running it: parameters, multiply-adds per stage and pathway, Table 1's shapes.

Multiply-adds come from ``torch.utils.flop_counter.FlopCounterMode`` on a meta-device twin of the model:
shapes flow through every layer but no arithmetic happens, so a full R50 at 256^2 counts in a fraction of a
second. FlopCounterMode counts convolutions and matrix products (linear layers, non-local attention) at
2 FLOPs per multiply-add; we report GMACs = its count / 2 / 1e9 per clip, which is what the paper and fvcore
call "GFLOPs". BatchNorm, ReLU, pooling, additions and RoIAlign's sampling are not counted.

``input_size`` everywhere: None (the model's training crop), an int crop (square), one input shape
(N, C, T, H, W) for a module that takes a tensor, or a list of shapes for a module that takes ``[slow, fast]``.
"""

import copy
from dataclasses import dataclass

import torch
from torch.utils.flop_counter import FlopCounterMode

from .models.heads import RoIActionHead
from .models.resnet3d import Bottleneck, ResBlock
from .models.slowfast import SlowFast, SlowFastConfig, build_model

LAYER_NAMES = {"s1": "conv1+pool1", "s2": "res2", "s3": "res3", "s4": "res4", "s5": "res5", "head": "head"}


@dataclass
class StageCost:
    """Cost of one stage of one pathway (one row of ``profile``)."""

    stage: str  # module name: "s1", "s1_fuse", "s2", ..., "s5", "head"
    layer: str  # the paper's name: "conv1+pool1", "lateral1", "res2", ..., "head"
    pathway: str  # "slow", "fast", "fast->slow" (a lateral connection) or "all" (the head)
    params: int
    gmacs: float  # multiply-adds per clip, in 1e9
    output: tuple  # output shape of one clip, (C, T, H, W) or (classes,)


@dataclass
class StageShape:
    """One row of the paper's Table 1, read off the model: kernels and output shape of each pathway."""

    stage: str  # "data", "conv1", "pool1", "res2", ..., "res5", "head"
    kernels: dict  # pathway -> e.g. "[1x1^2, 64; 1x3^2, 64; 1x1^2, 256] x3"
    outputs: dict  # pathway -> output shape of one clip, (C, T, H, W) or (classes,)


def count_parameters(model):
    """Number of parameters (each shared tensor once)."""
    return sum(p.numel() for p in model.parameters())


def count(model, input_size=None, batch=1):
    """(parameters, GMACs per clip) of ``model`` at ``input_size``.

    ``model``: a module, a name of ``models.CONFIGS`` or a ``SlowFastConfig`` (then built on the meta device,
    at no cost). E.g. ``count("slowfast_r50_4x16", 256)`` -> (34480216, 36.10...).
    """
    twin = _meta_twin(model)
    with FlopCounterMode(display=False) as counter:
        _run(twin, input_size, batch)
    return count_parameters(twin), counter.get_total_flops() / 2 / 1e9 / batch


def count_operators(model, input_size=None, batch=1) -> dict:
    """{ATen operator: calls} of one forward pass of ``model`` (on its meta twin, so at no cost).

    What a speed comparison with another implementation of the same network rests on: the same operators, as
    many times each (an extra copy, or a check that reads a tensor, shows up here). An in-place operator counts
    under its out-of-place name (``relu_`` as ``relu``): the arithmetic is the same.
    """
    from collections import Counter

    from torch.utils._python_dispatch import TorchDispatchMode

    class Counting(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            calls[str(func.overloadpacket).removeprefix("aten.").rstrip("_")] += 1
            return func(*args, **(kwargs or {}))

    calls, twin = Counter(), _meta_twin(model)
    shapes = _input_shapes(twin, input_size, batch)
    # made before counting: they are not the model's work
    if all(isinstance(s, int) for s in shapes):
        inputs = torch.empty(shapes, device="meta")
    else:
        inputs = [torch.empty(s, device="meta") for s in shapes]
    with torch.no_grad(), Counting():
        twin(inputs)
    return dict(sorted(calls.items()))


def profile(model, input_size=None):
    """Cost of every stage of every pathway of a SlowFast-family model: a list of ``StageCost``, in order."""
    twin = _meta_twin(model)
    units = _units(twin)
    costs, outputs, start = {}, {}, {}
    with FlopCounterMode(display=False) as counter:
        def before(module, args):
            start[module] = counter.get_total_flops()

        def after(module, args, output):
            key = units[module]
            costs[key] = costs.get(key, 0) + counter.get_total_flops() - start[module]
            outputs[key] = output[0] if isinstance(output, list) else output

        handles = [h for m in units for h in (m.register_forward_pre_hook(before), m.register_forward_hook(after))]
        try:
            _run(twin, input_size, 1)
        finally:
            for h in handles:
                h.remove()
    params = {}
    for module, key in units.items():
        params[key] = params.get(key, 0) + count_parameters(module)
    return [StageCost(stage, _layer_name(stage), pathway, params[stage, pathway], costs[stage, pathway] / 2e9,
                      tuple(outputs[stage, pathway].shape[1:])) for stage, pathway in params]


def pathway_totals(rows):
    """GMACs per pathway ("slow", "fast", "fast->slow", "all") from ``profile`` rows."""
    totals = {}
    for r in rows:
        totals[r.pathway] = totals.get(r.pathway, 0.0) + r.gmacs
    return totals


def receptive_fields(model, pathway="slow") -> dict:
    """How far one unit of ``pathway`` sees after each stage: {"pool1": (frames, pixels), "res2": ..., "res5": ...}.

    The theoretical field, as if the input went on past its borders: each convolution or pooling adds
    (dilated kernel - 1) times the stride accumulated before it. Projection shortcuts (``branch1``) run beside a
    block's branch and add nothing; non-local blocks, which see everything, and the laterals are left out.
    """
    twin = _meta_twin(model)
    prefix = f"pathway{twin.config.pathway_names.index(pathway)}"
    field, jump, fields = [1, 1], [1, 1], {}
    for stage, module in twin.stages():
        if stage not in LAYER_NAMES or stage == "head":
            continue
        for name, m in module.named_modules():
            if (isinstance(m, (torch.nn.Conv3d, torch.nn.MaxPool3d)) and name.startswith(prefix)
                    and "branch1" not in name and "nonlocal" not in name):
                kernel, stride, dilation = (_triple(getattr(m, a)) for a in ("kernel_size", "stride", "dilation"))
                for axis in (0, 1):  # time, then height (our kernels are square)
                    field[axis] += dilation[axis] * (kernel[axis] - 1) * jump[axis]
                    jump[axis] *= stride[axis]
        fields["pool1" if stage == "s1" else LAYER_NAMES[stage]] = tuple(field)
    return fields


def _triple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3


def shape_table(model, input_size=None):
    """The paper's Table 1 from the model itself: kernels from its layers, output shapes from forward hooks."""
    twin = _meta_twin(model)
    cfg = twin.config
    names = cfg.pathway_names
    rows = {"data": StageShape("data", {}, {})}
    shapes = _input_shapes(twin, input_size, 1)
    for p, name in enumerate(names):
        rows["data"].kernels[name] = f"stride {cfg.tau if name == 'slow' else cfg.tau // cfg.alpha}, 1^2"
        rows["data"].outputs[name] = tuple(shapes[p][1:])

    def record(stage, pathway, kernel):
        rows.setdefault(stage, StageShape(stage, {}, {})).kernels[pathway] = kernel

        def hook(module, args, output):
            rows[stage].outputs[pathway] = tuple(output.shape[1:])
        return hook

    hooks = []
    for p, name in enumerate(names):
        stem = getattr(twin.s1, f"pathway{p}_stem")
        hooks.append((stem.conv, record("conv1", name, describe_conv(stem.conv))))
        pool = stem.pool
        hooks.append((pool, record("pool1", name, f"{_kernel(pool.kernel_size)} max, stride {_stride(pool.stride)}")))
        for k in range(2, 6):
            stage = getattr(twin, f"s{k}")
            blocks = [m for n, m in stage.named_children() if n.startswith(f"pathway{p}_")]
            hooks.append((blocks[-1], record(f"res{k}", name, describe_stage(blocks))))
    head = twin.head
    kind = "RoIAlign 7^2, max pool" if isinstance(head, RoIActionHead) else "average pool"
    rows["head"] = StageShape("head", {"all": f"{kind}, concatenate, fc {head.projection.in_features}"},
                              {"all": (head.projection.out_features,)})
    handles = [m.register_forward_hook(h) for m, h in hooks]
    try:
        _run(twin, input_size, 1)
    finally:
        for h in handles:
            h.remove()
    return list(rows.values())


def describe_conv(conv):
    """Table 1's notation of a conv: "kT x k^2, C_out[, stride t,s^2]", e.g. "5x7^2, 8, stride 1,2^2"."""
    text = f"{_kernel(conv.kernel_size)}, {conv.out_channels}"
    return text if max(conv.stride) == 1 else f"{text}, stride {_stride(conv.stride)}"


def describe_stage(blocks):
    """Table 1's notation of a residual stage, e.g. "[3x1^2, 32; 1x3^2, 32; 1x1^2, 128] x6" (+ non-local)."""
    res = [b for b in blocks if isinstance(b, ResBlock)]
    t = res[0].branch2
    convs = [t.a, t.b, t.c] if isinstance(t, Bottleneck) else [t.a, t.b]
    text = "[" + "; ".join(f"{_kernel(c.kernel_size)}, {c.out_channels}" for c in convs) + f"] x{len(res)}"
    return text if len(res) == len(blocks) else f"{text} + {len(blocks) - len(res)} non-local"


def format_shape(shape):
    """(C, T, H, W) -> "4x56^2, 256" (Table 1's T x S^2, then channels); (classes,) -> "400"."""
    if len(shape) == 1:
        return str(shape[0])
    c, t, h, w = shape
    return f"{t}x{h}^2, {c}" if h == w else f"{t}x{h}x{w}, {c}"


def format_costs(rows):
    """``profile`` rows as a text table with a total line."""
    lines = [[r.layer, r.pathway, f"{r.params:,}", f"{r.gmacs:.3f}", format_shape(r.output)] for r in rows]
    lines.append(["total", "", f"{sum(r.params for r in rows):,}", f"{sum(r.gmacs for r in rows):.3f}", ""])
    return _grid(["stage", "pathway", "params", "GMACs", "output"], lines)


def format_shapes(rows):
    """``shape_table`` rows as Table 1: stage, then kernels and output of each pathway."""
    names = [p for p in rows[0].kernels]
    header = ["stage"] + names + [f"output {p}" for p in names]
    lines = []
    for r in rows:
        cols = names if r.stage != "head" else ["all"] + [""] * (len(names) - 1)
        lines.append([r.stage] + [r.kernels.get(p, "") for p in cols]
                     + [format_shape(r.outputs[p]) if p in r.outputs else "" for p in cols])
    return _grid(header, lines)


def _grid(header, lines):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(line) for line in lines])


def _meta_twin(model):
    """The same network on the meta device, in eval mode: the caller's model is left untouched."""
    if isinstance(model, (str, SlowFastConfig)):
        with torch.device("meta"):
            return build_model(model).eval()
    if isinstance(model, SlowFast):
        with torch.device("meta"):
            return SlowFast(model.config).eval()
    if all(p.device.type == "meta" for p in model.parameters()) and not model.training:
        return model
    return copy.deepcopy(model).to("meta").eval()


def example_inputs(model, batch=1, crop=None, device=None, generator=None):
    """Random input pathways of the shapes a SlowFast-family ``model`` expects at ``crop`` (default: its training
    crop): [(N, 3, T, crop, crop), (N, 3, alpha*T, crop, crop)]. ``device="meta"`` for shape-only work."""
    return [torch.randn(s, device=device, generator=generator) for s in model.config.input_shapes(batch, crop)]


def _input_shapes(model, input_size, batch):
    if input_size is None or isinstance(input_size, int):
        if not isinstance(model, SlowFast):
            raise ValueError(f"{type(model).__name__} is not a SlowFast-family model: give input_size as a full shape")
        return model.config.input_shapes(batch, input_size)
    return input_size


def _run(model, input_size, batch):
    """One forward pass on meta tensors, without autograd."""
    shapes = _input_shapes(model, input_size, batch)
    single = all(isinstance(s, int) for s in shapes)
    inputs = torch.empty(shapes, device="meta") if single else [torch.empty(s, device="meta") for s in shapes]
    with torch.no_grad():
        if isinstance(model, SlowFast) and model.config.detection:
            # RoIAlign's sampling grid depends on box values, which meta tensors lack: run the backbone and
            # the head's linear layer on one box per clip (RoIAlign itself does no multiply-adds we count).
            xs = model.features(inputs)
            model.head.projection(torch.empty(xs[0].shape[0], model.head.projection.in_features, device="meta"))
        else:
            model(inputs)


def _units(model):
    """module -> (stage, pathway) for the modules whose costs make up a ``profile`` row."""
    units = {}
    for stage, module in model.stages():
        if stage.endswith("_fuse"):
            units[module] = (stage, "fast->slow")
            continue
        for name, child in module.named_children():
            units[child] = (stage, model.config.pathway_names[int(name[len("pathway")])])
    # a detection head runs only its linear layer on meta tensors (see _run)
    units[model.head.projection if model.config.detection else model.head] = ("head", "all")
    return units


def _layer_name(stage):
    return LAYER_NAMES.get(stage) or f"lateral{stage[1]}"


def _kernel(k):
    return f"{k[0]}x{k[1]}^2" if k[1] == k[2] else f"{k[0]}x{k[1]}x{k[2]}"


def _stride(s):
    return f"{s[0]},{s[1]}^2" if s[1] == s[2] else f"{s[0]},{s[1]}x{s[2]}"
