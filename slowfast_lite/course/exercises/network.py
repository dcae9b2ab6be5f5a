"""Self-checks for the exercises of notebooks 02-05: the Slow and Fast pathways, the lateral connections, the
whole network.

Each ``check_*`` prints what is right or wrong about an answer and returns True or False. Expected values are
computed from the package's models (built on the meta device, so checks cost well under a second or two).
"""

import numpy as np
import torch

from slowfast_lite import flops, models, sampling
from slowfast_lite.course.exercises import verdict


def _missing(answer) -> bool:
    """True (after saying so) when the learner has not filled in an answer yet."""
    if answer is None:
        print("not yet: replace None by your answer")
        return True
    return False


def _meta_model(name_or_config, **overrides):
    with torch.device("meta"):
        return models.build_model(name_or_config, **overrides)


def _close(a, b, rel=0.005) -> bool:
    return bool(np.isclose(float(a), float(b), rtol=rel, atol=0))


def _shape_of(model, stage: str, crop: int | None, pathway: str) -> tuple:
    rows = {row.stage: row for row in flops.shape_table(model, crop)}
    if stage not in rows:
        raise ValueError(f"unknown stage {stage!r}; choose one of {list(rows)}")
    return rows[stage].outputs[pathway]


# --------------------------------------------------------------------------------------- 02 Slow pathway


def check_block_params(answer, stage: int = 4, block: int = 0, model: str = "slow_r50_4x16",
                       pathway: int = 0) -> bool:
    """Parameters of residual block ``block`` of res``stage`` (2..5) in pathway ``pathway`` (0 = Slow) of ``model``."""
    if _missing(answer):
        return False
    net = _meta_model(model)
    res = getattr(getattr(net, f"s{stage}"), f"pathway{pathway}_res{block}")
    expected = flops.count_parameters(res)
    if int(answer) == expected:
        return verdict(True, f"block {block} of res{stage} has {expected:,} parameters", "")
    bn = sum(p.numel() for m in res.modules() if isinstance(m, torch.nn.BatchNorm3d) for p in m.parameters())
    a = res.branch2.a
    no_temporal = a.weight.numel() // a.kernel_size[0] * (a.kernel_size[0] - 1)
    if int(answer) == expected - bn:
        print("hint: every BN adds a weight and a bias per channel")
    elif int(answer) == expected - no_temporal:
        print(f"hint: conv a of res{stage} has temporal kernel {a.kernel_size[0]}: its weight is kT x C_in x C_inner")
    elif res.branch1 is not None and int(answer) in (expected - flops.count_parameters(res.branch1),
                                                     expected - flops.count_parameters(res.branch1)
                                                     - flops.count_parameters(res.branch1_bn)):
        print("hint: block 0 has a projection shortcut (branch1 conv + its BN)")
    return verdict(False, "", f"{int(answer):,} is not the count ({int(answer) - expected:+,} off)")


def check_output_shape(shape, model: str = "slow_r50_8x8", stage: str = "res5", crop: int = 256,
                       pathway: str = "slow") -> bool:
    """Output (C, T, H, W) of one clip after ``stage`` of ``pathway`` in ``model`` at ``crop``^2."""
    if _missing(shape):
        return False
    expected = _shape_of(model, stage, crop, pathway)
    got = tuple(int(x) for x in shape)
    if got == expected:
        return verdict(True, f"{pathway} {stage} of {model} at {crop}^2 outputs (C, T, H, W) = {expected}", "")
    if len(got) == 4 and got[1] != expected[1]:
        print("hint: no layer has a temporal stride, so T is the pathway's input frames all the way")
    elif len(got) == 4 and got[2:] != expected[2:]:
        print(f"hint: the stem divides H and W by 4, res3, res4 and res5 by 2 each: {crop} / 32 after res5")
    return verdict(False, "", f"{got} is not the shape (C, T, H, W)")


def check_temporal_kernel_cost(gmacs, model: str = "slow_r50_4x16", crop: int = 224, stages: tuple = (2, 3)) -> bool:
    """Extra GMACs when the Slow stages ``stages`` (2..5; default res2 and res3) get temporal kernels 3, not 1."""
    if _missing(gmacs):
        return False
    config = models.CONFIGS[model]
    kernels = list(config.slow_temporal_kernels)  # conv1, res2 .. res5
    for k in stages:
        kernels[k - 1] = 3
    base = flops.count(model, crop)[1]
    more = flops.count(config.replace(slow_temporal_kernels=tuple(kernels)), crop)[1]
    expected = more - base
    names = " and ".join(f"res{k}" for k in stages)
    if _close(gmacs, expected / 2, 0.02):
        print("hint: kernel 3 instead of 1 triples the cost of conv a: the extra is twice its 1-frame cost")
    elif _close(gmacs, more, 0.01):
        print(f"hint: that is the whole network's cost; give the extra over its {base:.2f} GMACs")
    return verdict(_close(gmacs, expected, 0.01),
                   f"temporal kernels in {names} of {model} add {expected:.2f} GMACs ({expected / base:.0%} of "
                   f"{base:.2f})", f"{float(gmacs):.3g} GMACs is off: only the a convs of {names} change")


def _slow_gap(model, fps: float = 30.0) -> float:
    """Mean distance, in raw frames, between the Slow frames of one clip of ``model`` from a ``fps`` video."""
    config = models.CONFIGS[model]
    indices = sampling.clip_indices(300, fps, 0, 1, config.T, config.tau, config.alpha)
    slow = indices[sampling.slow_indices(len(indices), config.alpha)]
    return float(np.diff(slow.numpy()).mean())


def check_first_stages(stages, model: str = "slow_r50_8x8", crossing_seconds=(8.0, 4.0, 2.0, 1.0, 0.5),
                       crop: int = 224, fps: float = 30.0) -> bool:
    """First Slow stage whose receptive field covers what an object crossing the ``crop``-pixel frame in each of
    ``crossing_seconds`` moves between two Slow frames of ``model`` (a list in that order, or a dict by seconds)."""
    if _missing(stages):
        return False
    fields = {stage: pixels for stage, (_, pixels) in flops.receptive_fields(model).items()}
    gap = _slow_gap(model, fps)

    def first(gap_frames):
        return [next((s for s, f in fields.items() if f >= crop / (fps * sec) * gap_frames), "none")
                for sec in crossing_seconds]

    expected = first(gap)
    got = [stages[sec] for sec in crossing_seconds] if isinstance(stages, dict) else list(stages)
    got = [str(s) for s in got]
    if got == expected:
        return verdict(True, f"with {model}'s Slow frames {gap:.0f} raw frames apart, crossings in "
                             f"{', '.join(f'{s:g}' for s in crossing_seconds)} s are first covered by {expected}", "")
    if len(got) != len(expected):
        return verdict(False, "", f"give {len(expected)} stages, one per crossing time "
                                  f"({', '.join(f'{s:g}' for s in crossing_seconds)} s), got {len(got)}")
    if got == first(_slow_gap("slow_r50_4x16", fps)) and model != "slow_r50_4x16":
        print(f"hint: those are the 4x16 model's stages (21 raw frames apart); {model}'s Slow frames are "
              f"{gap:.0f} apart")
    elif any(s not in fields and s != "none" for s in got):
        print(f"hint: name the stages as {list(fields)}")
    return verdict(False, "", f"{got} is not it: compare each displacement with the fields {fields}")


# --------------------------------------------------------------------------------------- 03 Fast pathway


def check_paper_symbols(T, tau, num_frames: int = 32, sampling_rate: int = 2, alpha: int = 4) -> bool:
    """The paper's (T, tau) from PySlowFast's NUM_FRAMES, SAMPLING_RATE and ALPHA."""
    if _missing(T) or _missing(tau):
        return False
    expected = (num_frames // alpha, sampling_rate * alpha)
    got = (int(T), int(tau))
    if got == expected:
        return verdict(True, f"T = {expected[0]}, tau = {expected[1]}: the model is '{expected[0]}x{expected[1]}'", "")
    if got == (num_frames, sampling_rate):
        print("hint: NUM_FRAMES and SAMPLING_RATE describe the Fast pathway's clip, not the Slow one's")
    elif got == expected[::-1]:
        print("hint: T counts frames, tau is the stride between them")
    return verdict(False, "", f"(T, tau) = {got} is not it; T = NUM_FRAMES / ALPHA")


def check_fast_channels(channels, beta: float = 1 / 4, model: str = "slowfast_r50_4x16") -> bool:
    """Output channels of the Fast pathway's conv1, res2, res3, res4, res5 at channel ratio ``beta``."""
    if _missing(channels):
        return False
    expected = list(models.fast_pathway_spec(models.CONFIGS[model].replace(beta=beta)).channels)
    got = [int(c) for c in channels]
    if len(got) == 4:
        print("hint: five numbers: conv1 first, then res2..res5")
    elif got == [int(c * beta) for c in (64, 64, 128, 256, 512)]:
        print("hint: those are the bottleneck widths; a stage outputs 4x its bottleneck width")
    return verdict(got == expected, f"Fast widths at beta = {beta:g}: {expected}", f"{got} is not the list")


def check_fast_share(share, model: str = "slowfast_r50_8x8", crop: int = 224) -> bool:
    """Fraction of ``model``'s multiply-adds spent in its Fast pathway (laterals and head not included)."""
    if _missing(share):
        return False
    totals = flops.pathway_totals(flops.profile(model, crop))
    expected = totals["fast"] / sum(totals.values())
    if float(share) > 1:
        print("hint: give a fraction (0.25), not a percentage (25)")
    elif _close(share, totals["fast"] / (totals["fast"] + totals["slow"]), 0.003):
        print("hint: the total includes the lateral connections and the head")
    return verdict(_close(share, expected, 0.01), f"the Fast pathway takes {expected:.1%} of {model}'s "
                   f"{sum(totals.values()):.2f} GMACs", f"{float(share):.3g} is not the share")


def check_grey_fast_gmacs(gmacs, model: str = "slowfast_r50_4x16", crop: int = 224) -> bool:
    """GMACs of ``model`` at ``crop``^2 when its Fast conv1 reads one grey channel instead of three (Table 2e)."""
    if _missing(gmacs):
        return False
    config = models.CONFIGS[model]
    base = flops.count(config, crop)[1]
    expected = flops.count(config.replace(fast_grey=True), crop)[1]
    conv1 = {(r.layer, r.pathway): r.gmacs for r in flops.profile(config, crop)}["conv1+pool1", "fast"]
    ok = abs(float(gmacs) - expected) <= 0.01
    if not ok and abs(float(gmacs) - (base - conv1 / 3)) <= 0.01:
        print("hint: one channel instead of three keeps a third of conv1's cost: the saving is two thirds of it")
    elif not ok and abs(float(gmacs) - (base - conv1)) <= 0.01:
        print("hint: the grey conv1 still reads one channel: it keeps a third of its cost")
    elif not ok and round(float(gmacs), 1) == round(expected, 1):
        print("hint: that is the paper's rounding; count it to two decimals (flops.profile or flops.count)")
    return verdict(ok, f"with a grey Fast conv1 {model} costs {expected:.2f} GMACs at {crop}^2 ({base:.2f} with "
                       f"RGB; Table 2e: 26.1)", f"{float(gmacs):.4g} GMACs is off")


# --------------------------------------------------------------------------------------- 04 lateral connections


def check_slow_in_channels(channels, fusion: str = "tsample", model: str = "slowfast_r50_4x16") -> bool:
    """Channels read by the Slow res2, res3, res4, res5 and by the head's linear layer, with lateral ``fusion``."""
    if _missing(channels):
        return False
    net = _meta_model(model, fusion=fusion)
    expected = [getattr(net, f"s{k}").pathway0_res0.branch2.a.in_channels for k in range(2, 6)]
    expected.append(net.head.projection.in_features)
    got = [int(c) for c in channels]
    if got == expected:
        return verdict(True, f"with {fusion}: Slow stages read {expected[:4]}, the head {expected[4]}", "")
    if len(got) != 5:
        return verdict(False, "", f"give 5 numbers (res2, res3, res4, res5, head), got {len(got)}")
    plain = _meta_model(model, fusion="none")
    if got[:4] == expected[:4]:
        print("hint: there is no lateral connection after res5; the head concatenates the two pooled pathways")
    elif got[:4] == [getattr(plain, f"s{k}").pathway0_res0.branch2.a.in_channels for k in range(2, 6)]:
        print("hint: each Slow stage also reads what the lateral connection before it concatenated")
    return verdict(False, "", f"{got} is not it")


def check_time_to_channel(fn) -> bool:
    """``fn(fast, alpha)`` must equal ``models.time_to_channel``: (N, C, alpha*T, H, W) -> (N, alpha*C, T, H, W)."""
    generator = torch.Generator().manual_seed(0)
    for shape, alpha in [((2, 3, 16, 2, 3), 8), ((1, 4, 12, 3, 2), 4), ((2, 2, 6, 1, 1), 2)]:
        fast = torch.rand(shape, generator=generator)
        expected = models.time_to_channel(fast, alpha)
        got = fn(fast.clone(), alpha)
        if tuple(got.shape) != tuple(expected.shape):
            return verdict(False, "", f"shape {tuple(got.shape)} for input {shape} and alpha {alpha}; "
                                      f"expected {tuple(expected.shape)} = (N, alpha*C, T, H, W)")
        if not torch.equal(got, expected):
            if torch.equal(got, fast.reshape(expected.shape)):
                print("hint: a plain reshape mixes channels and frames; split time into (T, alpha) and move "
                      "alpha next to the channels first")
            return verdict(False, "", f"values differ for input {shape}: channel c*alpha + j at Slow step t "
                                      "must hold Fast channel c at frame alpha*t + j")
    return verdict(True, "your time-to-channel matches the package on three shapes", "")


def check_lateral_params(answer, kernel: int = 7, model: str = "slowfast_r50_4x16") -> bool:
    """Parameters of the four T-conv lateral connections of ``model`` with temporal kernel ``kernel``."""
    if _missing(answer):
        return False
    net = _meta_model(model, fusion="tconv", fusion_kernel=kernel)
    laterals = [getattr(net, f"s{k}_fuse") for k in range(1, 5)]
    expected = sum(flops.count_parameters(m) for m in laterals)
    if int(answer) == expected:
        return verdict(True, f"the four laterals hold {expected:,} parameters with kernel {kernel}", "")
    if int(answer) == expected - sum(flops.count_parameters(m.bn) for m in laterals):
        print("hint: each lateral has a BN on its 2*beta*C outputs: a weight and a bias per channel")
    return verdict(False, "", f"{int(answer):,} is not the count ({int(answer) - expected:+,} off)")


def _tconv_unread(model, kernel: int) -> list:
    """Fast frames that no output of ``model``'s T-conv lateral with temporal ``kernel`` reads."""
    config = models.CONFIGS[model].replace(fusion_kernel=kernel)
    with torch.device("meta"):
        conv = models.make_lateral("tconv", config.width, int(config.width * config.beta), config.alpha,
                                   kernel).conv_f2s
    num_fast, stride, pad = config.alpha * config.T, conv.stride[0], conv.padding[0]
    read = {stride * t - pad + i for t in range(config.T) for i in range(conv.kernel_size[0])}
    return sorted(set(range(num_fast)) - read)


def check_tconv_reach(kernel, unread, model: str = "slowfast_r50_4x16") -> bool:
    """The shortest odd T-conv kernel of ``model`` that leaves no unread Fast frame between two of its windows, and
    the Fast frames (a list) that this kernel still leaves unread."""
    if _missing(kernel) or _missing(unread):
        return False
    config = models.CONFIGS[model]
    last = config.alpha * (config.T - 1)  # centre of the last window

    def gapless(k):
        return all(f > last for f in _tconv_unread(model, k))

    shortest = next(k for k in range(1, 4 * config.alpha, 2) if gapless(k))
    kernel, got = int(kernel), sorted(int(f) for f in unread)
    if kernel != shortest:
        if kernel % 2 == 0:
            print("hint: the kernels are odd (\"same\" padding k // 2 on each side)")
        elif gapless(kernel):
            print(f"hint: kernel {kernel} works, but a shorter one does too")
        else:
            print(f"hint: kernel {kernel} still leaves frames {_tconv_unread(model, kernel)} unread")
        return verdict(False, "", f"kernel {kernel} is not the shortest without gaps")
    expected = _tconv_unread(model, shortest)
    if got != expected and got == _tconv_unread(model, config.fusion_kernel):
        print(f"hint: that is kernel {config.fusion_kernel}'s list; the windows of kernel {shortest} are longer")
    return verdict(got == expected, f"kernel {shortest} (stride {config.alpha}) reads every Fast frame up to "
                                    f"{last + shortest // 2}; unread: {expected}",
                   f"kernel {shortest} is right, but {got} are not the frames it leaves unread")


# --------------------------------------------------------------------------------------- 05 the network


def check_view_gmacs(gmacs, model: str = "slowfast_r50_8x8", crop: int = 256, views: int = 30) -> bool:
    """Multiply-adds (in 1e9) of ``views`` test views of ``crop``^2 with ``model``."""
    if _missing(gmacs):
        return False
    one = flops.count(model, crop)[1]
    expected = views * one
    if _close(gmacs, views * flops.count(model, 224)[1]):
        print("hint: the test views are 256^2, not 224^2: the cost grows with H * W")
    elif _close(gmacs, one):
        print(f"hint: that is one view; the video is tested with {views}")
    return verdict(_close(gmacs, expected), f"{views} views x {one:.2f} = {expected:,.1f} GMACs per video",
                   f"{float(gmacs):,.1f} GMACs is off")


def check_param_count(answer, model: str = "slowfast_r50_4x16", num_classes: int = 174) -> bool:
    """Parameters of ``model`` with a ``num_classes``-way head."""
    if _missing(answer):
        return False
    net = _meta_model(model, num_classes=num_classes)
    expected = flops.count_parameters(net)
    if int(answer) == expected:
        return verdict(True, f"{model} with {num_classes} classes has {expected:,} parameters", "")
    if int(answer) == expected - num_classes:
        print("hint: the linear layer has a bias per class too")
    return verdict(False, "", f"{int(answer):,} is not the count ({int(answer) - expected:+,} off)")


def check_head_features(answer, model: str = "slowfast_r50_4x16", beta: float = 1 / 4) -> bool:
    """Input features of the head's linear layer of ``model`` with channel ratio ``beta``."""
    if _missing(answer):
        return False
    expected = _meta_model(model, beta=beta).head.projection.in_features
    if int(answer) == expected:
        return verdict(True, f"{model} with beta = {beta:g}: the head reads {expected} features", "")
    return verdict(False, "", f"{int(answer)} is not it: add the res5 widths of the pathways the model has")


def _candidates():
    """The networks of notebook 05's exercise 4: SlowFast R50 4x16 with one change each."""
    base = models.CONFIGS["slowfast_r50_4x16"]
    return {"6x16": base.replace(T=6), "beta 1/6": base.replace(beta=1 / 6), "beta 1/4": base.replace(beta=1 / 4),
            "non-local": models.CONFIGS["slowfast_r50_4x16_nl"], "R101": base.replace(depth=101)}


def check_extra_gmacs(extras, crop: int = 224) -> bool:
    """GMACs each candidate adds to SlowFast R50 4x16 at ``crop``^2: a dict with the keys "6x16", "beta 1/6",
    "beta 1/4", "non-local" and "R101" (to 0.05 GMACs)."""
    if _missing(extras):
        return False
    base = flops.count("slowfast_r50_4x16", crop)[1]
    expected = {name: flops.count(cfg, crop)[1] - base for name, cfg in _candidates().items()}
    if not isinstance(extras, dict) or set(extras) != set(expected):
        given = list(extras) if isinstance(extras, dict) else type(extras).__name__
        return verdict(False, "", f"give a dict with the keys {list(expected)}; got {given}")
    wrong = []
    for name, value in expected.items():
        if abs(float(extras[name]) - value) > 0.05:
            wrong.append(name)
            if abs(float(extras[name]) - (base + value)) <= 0.05:
                print(f"hint: {name}: that is the network's whole cost; give what it adds to {base:.2f}")
    return verdict(not wrong, "extra GMACs over 4x16's " + f"{base:.2f}: "
                   + ", ".join(f"{name} +{value:.2f}" for name, value in expected.items()),
                   f"not the extra GMACs (to 0.05): {', '.join(wrong)}")
