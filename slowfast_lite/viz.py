"""The course's plotting helpers and its one matplotlib style."""

import matplotlib as mpl

PATHWAY_COLORS = {"slow": "#1f77b4", "fast": "#d62728", "fusion": "#2ca02c"}

STYLE = {
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "figure.figsize": (7.0, 3.2),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.frameon": False,
    "image.interpolation": "nearest",
}


def use_style() -> None:
    """Apply the course style (modest dpi keeps committed notebooks small); in a Jupyter kernel, draw inline."""
    _draw_inline_in_jupyter()
    mpl.rcParams.update(STYLE)


def _draw_inline_in_jupyter() -> None:
    """Select the inline backend inside a Jupyter kernel whatever ``MPLBACKEND`` says.

    Headless servers and CI runners often set ``MPLBACKEND=Agg``; a kernel then keeps Agg, and every
    ``plt.show()`` draws nothing. Outside a kernel (scripts, tests) the backend is left alone.
    """
    import sys

    if "ipykernel" not in sys.modules:
        return
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel") or "inline" in mpl.get_backend():
        return
    shell.run_line_magic("matplotlib", "inline")


def montage(frames, columns: int | None = None, pad: int = 2, pad_value: int = 255, borders=None):
    """Tile frames (N, H, W, 3) uint8 into one image, ``columns`` per row (default: all in one row).

    ``borders`` (optional, one RGB triple or None per frame) paints a ``pad``-wide frame around a tile.
    """
    import numpy as np

    frames = np.asarray(frames)
    n, h, w = frames.shape[:3]
    columns = n if columns is None else max(1, min(columns, n))
    rows = -(-n // columns)
    out = np.full((rows * (h + 2 * pad), columns * (w + 2 * pad), 3), pad_value, dtype=np.uint8)
    for i, frame in enumerate(frames):
        top, left = (i // columns) * (h + 2 * pad), (i % columns) * (w + 2 * pad)
        if borders is not None and borders[i] is not None:
            out[top:top + h + 2 * pad, left:left + w + 2 * pad] = np.asarray(borders[i], dtype=np.uint8)
        out[top + pad:top + pad + h, left + pad:left + pad + w] = frame
    return out


def labelled_rows(rows, font_size: int = 16, gap: int = 6, background: int = 255):
    """Stack images under their own line of text, so the labels travel inside the picture (``photo`` has no axes).

    ``rows``: (text, image) or (text, image, colour) with uint8 images (H, W, 3) of any widths, left-aligned;
    a colour is an RGB triple or a matplotlib colour such as ``PATHWAY_COLORS["slow"]``. Returns a uint8 image.
    """
    import numpy as np
    from matplotlib.colors import to_rgb
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=font_size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: its small bitmap font
        font = ImageFont.load_default()
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    parts = []
    for row in rows:
        text, image = row[0], np.asarray(row[1], dtype=np.uint8)
        color = row[2] if len(row) > 2 else (30, 30, 30)
        if isinstance(color, str):
            color = tuple(round(255 * c) for c in to_rgb(color))
        left, top, right, bottom = measure.textbbox((0, 0), text, font=font)
        parts.append((text, image, tuple(color), right + 4, bottom + 2 * gap // 3))
    width = max(max(image.shape[1], text_width) for _, image, _, text_width, _ in parts)
    height = sum(image.shape[0] + band + gap for _, image, _, _, band in parts)
    canvas = Image.new("RGB", (width, height), (background,) * 3)
    draw, y = ImageDraw.Draw(canvas), 0
    for text, image, color, _, band in parts:
        draw.text((2, y + gap // 3), text, fill=color, font=font)
        canvas.paste(Image.fromarray(image), (0, y + band))
        y += band + image.shape[0] + gap
    return np.asarray(canvas)


def plot_sampling_timeline(ax, num_frames: int, slow, fast, window=None, current=None, fps=None):
    """Draw which frames each pathway takes: Fast ticks above, Slow ticks below, the clip window shaded.

    ``window`` is (first, last) frame of the clip; ``current`` marks one frame; ``fps`` adds a seconds axis.
    """
    if window is not None:
        ax.axvspan(window[0] - 0.5, window[1] + 0.5, color="0.85", zorder=0, label="clip window")
    ax.vlines(fast, 1.05, 1.95, color=PATHWAY_COLORS["fast"], lw=1.5, label=f"Fast: {len(fast)} frames")
    ax.vlines(slow, 0.05, 0.95, color=PATHWAY_COLORS["slow"], lw=3, label=f"Slow: {len(slow)} frames")
    if current is not None:
        ax.axvline(current, color="0.2", lw=1, ls="--")
    ax.set_xlim(-0.5, num_frames - 0.5)
    ax.set_ylim(0, 2)
    ax.set_yticks([0.5, 1.5], ["Slow", "Fast"])
    ax.set_xlabel("frame index")
    ax.grid(False)
    if fps:
        seconds = ax.secondary_xaxis("top", functions=(lambda f: f / fps, lambda s: s * fps))
        seconds.set_xlabel("seconds")
    return ax


def plot_timeline(ax, spans, probs, labels, max_classes: int = 6):
    """Class probabilities over a video, one line per class that is top-1 in some window (at most
    ``max_classes``, most frequent first), at each window's centre; ``spans`` (W, 2) in seconds, ``probs``
    (W, num_classes). A strip at the top shows the top-1 class of the nearest window at every moment."""
    import numpy as np

    spans, probs = np.asarray(spans, dtype=float), np.asarray(probs, dtype=float)
    winners = probs.argmax(axis=1)
    counts = np.bincount(winners, minlength=probs.shape[1])
    shown = [int(c) for c in np.argsort(-counts, kind="stable")[:max_classes] if counts[c]]
    centers = spans.mean(axis=1)
    colors = {c: f"C{i}" for i, c in enumerate(shown)}
    for c in shown:
        ax.plot(centers, probs[:, c], marker="o", ms=3, color=colors[c], label=labels[c])
    # the strip gives every moment to the window whose centre is nearest
    edges = np.concatenate([[spans[0, 0]], (centers[1:] + centers[:-1]) / 2, [spans[-1, 1]]])
    for t0, t1, c in zip(edges[:-1], edges[1:], winners, strict=True):
        ax.hlines(1.06, t0, t1, color=colors.get(int(c), "0.6"), lw=5)
    ax.set_xlim(spans[:, 0].min(), spans[:, 1].max())
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("seconds")
    ax.set_ylabel("probability")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return ax


def plot_pathway_cams(frames, cams, times=None, names=("Slow", "Fast"), max_columns: int = 16,
                      strength: float = 0.5, title=None):
    """One row per pathway, its frames with the Grad-CAM heat blended over them (``gradcam.overlay``), each
    frame in the column of the moment it shows, so a Slow frame sits above the Fast frame it coincides with.

    ``frames``: per pathway uint8 (T_p, H, W, 3); ``cams``: per pathway (T_p, H, W) in [0, 1]; ``times``: per
    pathway, the time of each frame in frames of the finest pathway (SlowFast: ``sampling.slow_indices`` for
    Slow, ``range(alpha * T)`` for Fast); default: each pathway spread evenly over the finest one's frames.
    Beyond ``max_columns`` moments, the coarsest pathway's are kept and the rest thinned evenly. Returns the Figure.
    """
    import numpy as np
    from matplotlib.figure import Figure

    from .gradcam import overlay

    longest = max(len(f) for f in frames)
    times = [np.asarray(t).tolist() for t in times] if times is not None else \
        [np.linspace(0, longest - 1, len(f)).round().astype(int).tolist() for f in frames]
    coarsest = min(times, key=len)
    others = sorted(set().union(*times) - set(coarsest))
    spare = max(max_columns - len(coarsest), 0)
    if len(others) > spare:
        others = [others[i] for i in np.linspace(0, len(others) - 1, spare).round().astype(int)] if spare else []
    columns = sorted(set(coarsest) | set(others))
    fig = Figure(figsize=(0.75 * len(columns) + 0.7, 0.8 * len(frames) + 0.45))
    axes = fig.subplots(len(frames), len(columns), squeeze=False)
    for row, (pathway_frames, cam, when, name) in enumerate(zip(frames, cams, times, names, strict=False)):
        blended = overlay(np.asarray(pathway_frames), np.asarray(cam), strength)
        for ax, moment in zip(axes[row], columns, strict=True):
            ax.axis("off")
            if row == 0:
                ax.set_title(f"t={moment}", fontsize=7)
            if moment in when:
                ax.imshow(blended[when.index(moment)])
        axes[row][0].text(-0.15, 0.5, f"{name}\n{len(pathway_frames)} frames", transform=axes[row][0].transAxes,
                          ha="right", va="center", fontsize=8, color=PATHWAY_COLORS.get(name.lower(), "0.2"))
    if title:
        fig.suptitle(title, fontsize=9)
    fig.subplots_adjust(left=0.1, right=0.99, top=0.8 if title else 0.9, bottom=0.02, wspace=0.05, hspace=0.1)
    return fig


def photo(image, quality: int = 85, scale: int = 1):
    """Show a uint8 image (H, W, 3) inline as JPEG: photographs stay small in a committed notebook.

    ``scale`` enlarges small images by pixel repetition (no blur). Returns an ``IPython.display.Image``.
    """
    import io

    import numpy as np
    from IPython.display import Image
    from matplotlib.image import imsave

    image = np.asarray(image)
    if scale > 1:
        image = image.repeat(scale, axis=0).repeat(scale, axis=1)
    buffer = io.BytesIO()
    imsave(buffer, image, format="jpeg", pil_kwargs={"quality": quality})
    return Image(data=buffer.getvalue(), format="jpeg")


LATERAL_LABELS = {"tconv": "T-conv", "tsample": "T-sample", "ttoc_concat": "TtoC, concat", "ttoc_sum": "TtoC, sum",
                  "none": "no lateral"}


def lateral_shapes_scale(*shapes):
    """The (frames, channels) of the largest tensors among several ``plot_lateral_shapes`` inputs: pass it to each
    panel as ``scale`` and every panel draws to one scale (the same tensor, the same box)."""
    tensors = [s[k] for s in shapes for k in ("slow", "fast", "lateral", "fused") if s[k] is not None]
    return max(t[1] for t in tensors), max(t[0] for t in tensors)


def plot_lateral_shapes(ax, shapes, kind: str, note: str = "", scale=None):
    """Draw one lateral connection as tensors: Fast and Slow arrive, Fast is brought to Slow's T, the fused Slow.

    ``shapes``: "slow", "fast", "lateral" (None for "none") and "fused", each (C, T, H, W) of one clip (other
    keys are ignored). A box is T frames wide and C channels high (both linear), so the fused box shows what
    Fast adds on top of Slow.
    ``note`` follows the connection's name in the title (e.g. its kernel and stride).
    ``scale``: (frames, channels) drawn full width and full height; default this panel's largest tensors. Give
    several panels one ``scale`` (``lateral_shapes_scale``) to compare them box for box.
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    tensors = [shapes[k] for k in ("slow", "fast", "lateral", "fused") if shapes[k] is not None]
    frames, channels = scale or (max(s[1] for s in tensors), max(s[0] for s in tensors))
    size = lambda s: (3.0 * s[1] / frames, max(2.4 * s[0] / channels, 0.06))  # width, height
    corners = {"fast": (0.0, 3.2), "slow": (0.0, 0.0), "lateral": (4.6, 3.2), "fused": (8.2, 0.0)}

    def box(name, shape, color, text=None, bottom=0.0, hatch=None):
        x, y = corners[name]
        w, h = size(shape)
        ax.add_patch(Rectangle((x, y + bottom), w, h, facecolor=color, edgecolor="0.2", lw=0.6, alpha=0.85,
                               hatch=hatch))
        if text:
            above = y > 0
            ax.text(x, y + h + 0.12 if above else y - 0.12, f"{text}\n{format_chw(shape)}", fontsize=8,
                    ha="left", va="bottom" if above else "top")
        return x, y, w, h

    def arrow(start, end, text=""):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color="0.35"))
        if text:
            ax.text(end[0] + 0.5, end[1], text, fontsize=8, ha="left", va="bottom", color="0.35")

    fx, fy, fw, fh = box("fast", shapes["fast"], PATHWAY_COLORS["fast"], "Fast")
    sx, sy, sw, sh = box("slow", shapes["slow"], PATHWAY_COLORS["slow"], "Slow")
    ux, uy, uw, uh = box("fused", shapes["slow"], PATHWAY_COLORS["slow"])
    ax.text(ux, -0.12, f"fused Slow\n{format_chw(shapes['fused'])}", fontsize=8, ha="left", va="top")
    arrow((sx + sw + 0.15, sy + sh / 2), (ux - 0.15, uy + sh / 2))
    lateral = shapes["lateral"]
    if lateral is not None:
        lx, ly, lw, lh = box("lateral", lateral, PATHWAY_COLORS["fusion"], "lateral(Fast)")
        arrow((fx + fw + 0.15, fy + fh / 2), (lx - 0.15, ly + lh / 2))
        if shapes["fused"][0] > shapes["slow"][0]:  # concatenated: Fast's part sits on top of Slow's channels
            box("fused", lateral, PATHWAY_COLORS["fusion"], bottom=uh)
            arrow((lx + lw, ly), (ux + uw / 2, uy + uh + size(lateral)[1] + 0.1), "concatenate")
        else:  # summed: the same channels carry both
            box("fused", shapes["slow"], "none", hatch="///")
            arrow((lx + lw, ly), (ux + uw / 2, uy + uh + 0.1), "add")
    ax.set_xlim(-0.2, 12.0)
    ax.set_ylim(-1.1, 7.2)
    ax.axis("off")
    ax.set_title(LATERAL_LABELS.get(kind, kind) + (f": {note}" if note else ""), fontsize=10)


def format_chw(shape) -> str:
    """(C, T, H, W) -> "C x T x S^2" (Table 1 writes T x S^2; channels first as in the tensor)."""
    c, t, h, w = shape
    return f"{c} x {t} x {h}^2" if h == w else f"{c} x {t} x {h}x{w}"


def plot_detections(ax, image, boxes, captions=(), colors=None, dashed=(), title=None):
    """A frame with boxes (K, 4) in pixels (x1, y1, x2, y2) and a caption inside each box's top edge (so it never
    runs into the title or off the frame).

    ``colors``: one colour per box (default the fusion green); boxes whose index is in ``dashed`` are drawn dashed
    (e.g. the ground truth beside the detections).
    """
    from matplotlib.patches import Rectangle

    ax.imshow(image)
    for k, (x1, y1, x2, y2) in enumerate(boxes):
        color = colors[k] if colors is not None else PATHWAY_COLORS["fusion"]
        # a pixel-edge box (0..W) meets imshow's pixel centres (-0.5..W-0.5) half a pixel to the left
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, lw=1.5, edgecolor=color,
                               linestyle="--" if k in dashed else "-"))
        if k < len(captions) and captions[k]:
            ax.text(x1 + 0.5, y1 + 0.5, captions[k], fontsize=7, color="white", va="top",
                    bbox={"facecolor": color, "alpha": 0.75, "pad": 1, "linewidth": 0})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)


def plot_roi_grid(ax, feature, box, output_size=2, sampling_ratio=2, spatial_scale=1.0, aligned=True):
    """Picture of RoIAlign on one (H, W) feature map: cells, the box, its bins and their bilinear sample points.

    ``box`` (x1, y1, x2, y2) in input pixels. The drawing is in the coordinates bilinear sampling uses: cell
    (i, j) is centred on (x, y) = (j, i), where its value is read. A box lands at ``x * spatial_scale - 0.5``
    when ``aligned`` (pixel edges at half-integers), at ``x * spatial_scale`` otherwise (half a cell off).
    """
    import numpy as np
    from matplotlib.patches import Rectangle

    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (v * spatial_scale - offset for v in box)
    oh, ow = (output_size, output_size) if isinstance(output_size, int) else output_size
    height, width = np.asarray(feature).shape
    ax.imshow(np.asarray(feature), cmap="Greys", extent=(-0.5, width - 0.5, height - 0.5, -0.5))
    ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, lw=2, edgecolor=PATHWAY_COLORS["fusion"]))
    bin_w, bin_h = (x2 - x1) / ow, (y2 - y1) / oh
    for i in range(1, oh):
        ax.plot([x1, x2], [y1 + i * bin_h] * 2, color=PATHWAY_COLORS["fusion"], lw=1, ls="--")
    for j in range(1, ow):
        ax.plot([x1 + j * bin_w] * 2, [y1, y2], color=PATHWAY_COLORS["fusion"], lw=1, ls="--")
    grid_h = sampling_ratio or int(np.ceil((y2 - y1) / oh))
    grid_w = sampling_ratio or int(np.ceil((x2 - x1) / ow))
    ys = y1 + (np.arange(oh * grid_h) + 0.5) * bin_h / grid_h
    xs = x1 + (np.arange(ow * grid_w) + 0.5) * bin_w / grid_w
    gx, gy = np.meshgrid(xs, ys)
    ax.scatter(gx.ravel(), gy.ravel(), s=12, color=PATHWAY_COLORS["fast"], zorder=3, label="bilinear samples")
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
    ax.grid(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=8, frameon=False)  # below: no cell hidden


def plot_per_class_ap(ax, names, results, colors=None):
    """Grouped bars of per-class AP: ``results`` maps a model name to {class index in names: AP} or a list."""
    import numpy as np

    width = 0.8 / max(len(results), 1)
    x = np.arange(len(names))
    for k, (label, values) in enumerate(results.items()):
        values = [values[i] for i in range(len(names))] if isinstance(values, dict) else list(values)
        color = None if colors is None else colors[k]
        ax.bar(x + (k - (len(results) - 1) / 2) * width, values, width, label=label, color=color)
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=20, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("AP@0.5")
    ax.legend(fontsize=8)


NETWORK_STAGES = [("s1", "conv1\npool1"), ("s2", "res2"), ("s3", "res3"), ("s4", "res4"), ("s5", "res5")]


def plot_network(ax, model="slowfast_r50_4x16", crop: int = 224, highlight=(), title=None) -> dict:
    """The paper's Figure 1 drawn from a model: one row of stages per pathway, labelled T x S^2, C from the
    model's own outputs (``flops.profile`` on meta tensors), an arrow Fast -> Slow at each lateral connection
    the model has (after pool1, res2, res3, res4), and the head that pools and concatenates the pathways.

    ``model``: a name of ``models.CONFIGS`` or a ``SlowFastConfig``; ``highlight``: fusion points 1..4 drawn
    bold and labelled with the connection. Returns the labels drawn: {"slow": [...], "fast": [...],
    "laterals": {point: label}, "head": label}, one label per box, input first.
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    from . import flops
    from .models import CONFIGS

    config = CONFIGS[model] if isinstance(model, str) else model
    out = {(r.stage, r.pathway): r.output for r in flops.profile(config, crop)}
    names = config.pathway_names
    step, width = 1.7, 1.15
    rows = {"slow": (2.3, 1.0), "fast": (0.0, 0.45)} if len(names) == 2 else {names[0]: (1.0, 1.0)}
    drawn = {name: [] for name in names}

    def arrow(start, end, color="0.35", lw=1.2):
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color=color, lw=lw))

    for p, name in enumerate(names):
        y, h = rows[name]
        color = PATHWAY_COLORS[name]
        boxes = [("input", config.input_shapes(1, crop)[p][1:])]
        boxes += [(text, out[stage, name]) for stage, text in NETWORK_STAGES]
        for col, (text, shape) in enumerate(boxes):
            x = col * step
            nl = len(config.nonlocal_blocks[col - 2]) if name == "slow" and col >= 2 else 0
            ax.add_patch(Rectangle((x, y), width, h, facecolor=color, alpha=0.25 if col == 0 else 0.8,
                                   edgecolor=color))
            ax.text(x + width / 2, y + h / 2, text + (f"\n+{nl} non-local" if nl else ""), ha="center",
                    va="center", fontsize=8, color="black" if col == 0 else "white", fontweight="bold")
            above = name != "fast"
            ax.text(x + width / 2, y + h + 0.08 if above else y - 0.08, flops.format_shape(shape), ha="center",
                    va="bottom" if above else "top", fontsize=8, color=color)
            drawn[name].append(f"{text}: {flops.format_shape(shape)}")
            if col:
                arrow((x - step + width, y + h / 2), (x, y + h / 2), color=color)
    laterals = {}
    if len(names) == 2:
        (slow_y, _), (fast_y, fast_h) = rows["slow"], rows["fast"]
        kind = LATERAL_LABELS.get(config.fusion, config.fusion)
        for point, (stage, _) in enumerate(NETWORK_STAGES[:4], start=1):
            fused = out.get((f"{stage}_fuse", "fast->slow"))
            if fused is None or config.fusion == "none":
                continue
            slow_c = out[stage, "slow"][0]
            added = "added in" if fused[0] == slow_c else f"+{fused[0] - slow_c} channels"
            x = point * step + width + (step - width) / 2  # from the Fast row, between two stages, up to Slow
            bold = point in highlight
            arrow((x, fast_y + fast_h / 2), (x, slow_y), color=PATHWAY_COLORS["fusion"], lw=3 if bold else 1.5)
            ax.text(x + 0.07, (fast_y + fast_h + slow_y) / 2, f"{kind}\n{added}", fontsize=8.5 if bold else 8,
                    color=PATHWAY_COLORS["fusion"], fontweight="bold" if bold else "normal", va="center")
            laterals[point] = f"{kind}: {added}"
    head = _head_label(config, out)
    x, head_width = (len(NETWORK_STAGES) + 1) * step, 1.6
    top = max(y + h for y, h in rows.values())
    bottom = min(y for y, _ in rows.values())
    ax.add_patch(Rectangle((x, bottom), head_width, top - bottom, facecolor="0.9", edgecolor="0.4"))
    ax.text(x + head_width / 2, (top + bottom) / 2, head, ha="center", va="center", fontsize=8)
    for name, (y, h) in rows.items():
        arrow(((len(NETWORK_STAGES)) * step + width, y + h / 2), (x, y + h / 2), color=PATHWAY_COLORS[name])
    ax.text(0, bottom - 0.42, f"one clip at {crop}^2; labels: frames x pixels^2, channels (Table 1's T x S^2, C)",
            fontsize=8, color="0.3", va="top")
    ax.set_xlim(-0.1, x + head_width + 0.1)
    ax.set_ylim(bottom - 0.75, top + 0.4)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return {**drawn, "laterals": laterals, "head": head.replace("\n", " ")}


def _head_label(config, out) -> str:
    """The head's box text: what it pools, how many features it concatenates, the classes it outputs."""
    features = sum(out["s5", name][0] for name in config.pathway_names)
    pooled = "average pool\neach pathway,\nconcatenate:" if len(config.pathway_names) == 2 else "average pool:"
    return f"head\n{pooled}\n{features} features\n-> fc -> {out['head', 'all'][0]}"



def plot_frames_read(ax, reads, num_frames: int, slow_positions=(), centres=None, title=None):
    """Which Fast frames each lateral output frame reads: one row per Slow step t (a bar over the frames it
    reads, a black tick at its kernel's centre if ``centres`` are given), unread frames shaded grey, and the
    Fast positions of the Slow frames as blue lines. ``reads``: per output frame, the Fast frames it depends on."""
    read = set().union(*map(set, reads))
    for f in range(num_frames):
        if f not in read:
            ax.axvspan(f - 0.5, f + 0.5, color="0.85", lw=0, zorder=0)
    for t, frames in enumerate(reads):
        ax.barh(t, len(frames), left=min(frames) - 0.5, height=0.55, color=PATHWAY_COLORS["fusion"], alpha=0.8)
        if centres is not None:
            ax.plot([centres[t]] * 2, [t - 0.35, t + 0.35], color="0.1", lw=1.5)
    for k, p in enumerate(slow_positions):
        ax.axvline(p, color=PATHWAY_COLORS["slow"], lw=2, label="Slow frames" if k == 0 else None)
    ax.set_xlim(-0.5, num_frames - 0.5)
    ax.set_ylim(len(reads) - 0.5, -0.5)
    ax.set_yticks(range(len(reads)), [f"t={t}" for t in range(len(reads))])
    ax.set_xlabel(f"Fast frame (grey: read by no lateral output, {num_frames - len(read)} of {num_frames})")
    ax.grid(False)
    if slow_positions:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)


def plot_time_mixing(ax, stages, changed=None, title=None) -> dict:
    """One pathway, stage by stage, as columns of its T frames: where its temporal kernels mix neighbouring frames.

    ``stages``: (name, (C, T, H, W), kT, blocks) per column, input first; kT is the temporal kernel of the stage's
    temporal conv (conv1, or each block's ``a``), ``blocks`` how many such convs the stage stacks. A frame is a
    square whose size follows H (log scale, labelled under the column); thin grey arrows carry frame t to frame t,
    a column with kT > 1 also gets coloured arrows to the neighbours its kernel reaches. ``changed``: per column,
    the output frames that change when only input frame 0 does (drawn solid). Returns {"mixing": names of the
    columns that mix frames, "labels": the text under each column}.
    """
    import math

    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, Rectangle

    step, row, largest, smallest = 1.6, 1.0, max(s[1][2] for s in stages), min(s[1][2] for s in stages)
    frames = stages[0][1][1]
    side = lambda h: 0.3 + 0.5 * (math.log(h / smallest) / math.log(largest / smallest) if largest > smallest else 1)
    mix_color, labels, mixing = "#ff7f0e", [], []
    for col, (name, (c, t, h, _), kt, blocks) in enumerate(stages):
        x = col * step
        a = side(h)
        for f in range(t):
            y = -f * row
            solid = changed is not None and f in changed[col]
            face = mix_color if solid else PATHWAY_COLORS["slow"]
            ax.add_patch(Rectangle((x - a / 2, y - a / 2), a, a, facecolor=face, alpha=0.9 if solid else 0.35,
                                   edgecolor="0.3", lw=0.8))
        label = f"{t}x{h}^2\n{c} ch"
        labels.append(label)
        ax.text(x, -(frames - 1) * row - 0.6, label, ha="center", va="top", fontsize=8)
        head = name if col == 0 else f"{name}\nkT={kt}" + (f" x{blocks}" if blocks > 1 else "")
        ax.text(x, 0.6, head, ha="center", va="bottom", fontsize=8,
                color=mix_color if kt > 1 else "0.15", fontweight="bold" if kt > 1 else "normal")
        if col == 0:
            continue
        if kt > 1:
            mixing.append(name)
        half = kt // 2
        for f in range(t):
            for g in range(max(0, f - half), min(t, f + half + 1)):
                ax.add_patch(FancyArrowPatch((x - step + 0.45, -f * row), (x - 0.45, -g * row), arrowstyle="-|>",
                                             mutation_scale=7, lw=1.2 if f != g else 0.8,
                                             color=mix_color if f != g else "0.6"))
    ax.set_xlim(-step / 2, (len(stages) - 0.5) * step)
    ax.set_ylim(-(frames - 1) * row - 1.5, 1.35)
    ax.set_aspect("equal")
    ax.set_yticks([-f * row for f in range(frames)], [f"frame {f}" for f in range(frames)])
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.grid(False)
    handles = [Rectangle((0, 0), 1, 1, facecolor=PATHWAY_COLORS["slow"], alpha=0.35, edgecolor="0.3",
                         label="one frame of features (size: H x W)"),
               Line2D([], [], color=mix_color, lw=1.2, label="temporal kernel: reads neighbour frames")]
    if changed is not None:
        handles.insert(1, Rectangle((0, 0), 1, 1, facecolor=mix_color, alpha=0.9, edgecolor="0.3",
                                    label="changed by input frame 0 alone"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8,
              handlelength=1.2)
    if title:
        ax.set_title(title, fontsize=10)
    return {"mixing": mixing, "labels": labels}


def plot_pathway_tensors(axes, rows, costs=None) -> list:
    """Slow and Fast tensors of one clip, one panel per stage: a box T frames wide and C channels high (one scale
    within a panel; the channel axis of each panel is labelled). ``rows``: (stage, {"slow": (C, T, H, W),
    "fast": (C, T, H, W)}) per panel; ``costs``: optional {stage: Fast / Slow multiply-adds}, written in the
    panel. Returns the panel titles."""
    from matplotlib.patches import Rectangle

    titles = []
    longest = max(s[1] for _, shapes in rows for s in shapes.values())
    for ax, (stage, shapes) in zip(axes, rows, strict=True):
        tallest = max(s[0] for s in shapes.values())
        for name in ("slow", "fast"):
            c, t = shapes[name][:2]
            color = PATHWAY_COLORS[name]
            ax.add_patch(Rectangle((0, 0), t, c, facecolor=color, alpha=0.55, edgecolor=color))
            above = name == "fast"
            ax.text(t if above else t + 0.6, c * 1.04 if above else c * 0.97,
                    f"{name.capitalize()}: {t} frames x {c} ch", color=PATHWAY_COLORS[name], fontsize=7.5,
                    ha="right" if above else "left", va="bottom" if above else "top")
        h = shapes["slow"][2]
        title = f"{stage}, {h}x{h} pixels" + (f"\nFast/Slow cost {costs[stage]:.2f}" if costs else "")
        titles.append(title)
        ax.set_title(title, fontsize=9)
        ax.set_xlim(0, longest * 1.05)
        ax.set_ylim(0, tallest * 1.15)
        ax.set_xlabel("frames")
        ax.grid(False)
    axes[0].set_ylabel("channels")
    return titles


def annotate_points(ax, points, fontsize: float = 7.5, avoid=(), pad: float = 1.5) -> list:
    """Label scatter points so that no label overlaps another label, a point or an ``avoid`` artist (a legend),
    and every label stays inside the axes. ``points``: (label, x, y, colour). Each label tries spots around its
    point, nearest first; call it after the axes' limits, scales and the figure's layout are final. Returns the
    annotations (``in_layout=False``: they do not move the layout)."""
    import itertools

    from matplotlib.transforms import Bbox

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    blocked = [a.get_window_extent(renderer) for a in avoid]
    radius = 4.0  # pixels around each point (markers of s=25 are about 5 points across)
    for _, x, y, _ in points:
        px, py = ax.transData.transform((x, y))
        blocked.append(Bbox.from_extents(px - radius, py - radius, px + radius, py + radius))
    spots = [(dx * d, dy * d, ha, va) for d, (dx, dy, ha, va) in itertools.product(
        (1, 2, 3.5), [(4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
                      (-4, -3, "right", "top"), (0, 5, "center", "bottom"), (0, -5, "center", "top"),
                      (6, 0, "left", "center"), (-6, 0, "right", "center")])]
    placed = []
    for label, x, y, color in points:
        best = None
        for dx, dy, ha, va in spots:
            note = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                               fontsize=fontsize, color=color, annotation_clip=False)
            note.set_in_layout(False)
            box = note.get_window_extent(renderer).padded(pad)
            overlap = sum(box.overlaps(b) for b in blocked)
            outside = not (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1)
            score = overlap + 10 * outside
            if best is None or score < best[0]:
                if best is not None:
                    best[1].remove()
                best = (score, note, box)
            else:
                note.remove()
            if score == 0:
                break
        blocked.append(best[2])
        placed.append(best[1])
    return placed


def labels_overlap(ax, notes, points=(), avoid=()) -> list:
    """Pairs (or single labels) that collide, after a fresh draw: label with label, label with a point
    ((x, y) in data), label with an ``avoid`` artist, or a label outside the axes. Empty when all are readable."""
    import itertools

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    boxes = [n.get_window_extent(renderer) for n in notes]
    problems = []
    for (i, a), (j, b) in itertools.combinations(list(enumerate(boxes)), 2):
        if a.overlaps(b):
            problems.append((notes[i].get_text(), notes[j].get_text()))
    for note, box in zip(notes, boxes, strict=True):
        if not (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1):
            problems.append((note.get_text(), "outside the axes"))
        for x, y in points:
            px, py = ax.transData.transform((x, y))
            if box.x0 - 2 < px < box.x1 + 2 and box.y0 - 2 < py < box.y1 + 2:
                problems.append((note.get_text(), f"point ({x:.4g}, {y:.4g})"))
        for artist in avoid:
            if box.overlaps(artist.get_window_extent(renderer)):
                problems.append((note.get_text(), type(artist).__name__))
    return problems


def accuracy_against_cost(points, groups, title, legend_title):
    """Top-1 against multiply-adds (log scale), each point labelled in a column right of the axes and joined to
    its label by a straight line that crosses no other (so crowded points stay readable), coloured by its group.

    ``points``: (MMACs, top-1 %, its spread %, label, group); ``groups``: {group: legend text}, in legend order.
    Returns the Figure.
    """
    from matplotlib import ticker
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(8.5, 5.2))
    ax = fig.add_subplot()
    palette = dict(zip(groups, mpl.colormaps["tab10"].colors, strict=False))
    for mmacs, top1, spread, _, group in points:
        ax.errorbar(mmacs, top1, yerr=spread, fmt="o", color=palette[group], capsize=3)
    ax.set(xscale="log", xlabel="multiply-adds per view (millions, log scale)", ylabel="test top-1 (%)", title=title)
    ax.xaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 3, 5, 7)))
    ax.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    low, high = ax.get_ylim()
    column = 1.03  # the labels' left edge, in axes fraction
    ordered = sorted(points, key=lambda p: p[1])
    # Crossing is decided in axes fraction: the leaders are straight there, as on screen (the log scale is undone).
    starts = (ax.transData + ax.transAxes.inverted()).transform([(p[0], p[1]) for p in ordered])
    slots = [(column, (y - low) / (high - low)) for y in _spread_out([p[1] for p in ordered], low, high)]
    for (mmacs, top1, _, label, group), (x, y) in zip(ordered, _uncross(starts, slots), strict=True):
        # relpos: the leader leaves the label at its left middle, the point ``_uncross`` placed it at.
        ax.annotate(label, (mmacs, top1), xytext=(x, y), textcoords="axes fraction", va="center", fontsize=7,
                    color=palette[group], arrowprops=dict(arrowstyle="-", lw=0.4, color="0.7", relpos=(0, 0.5)))
    shown = {p[4] for p in points}
    handles = [Line2D([], [], marker="o", ls="", color=palette[g], label=text) for g, text in groups.items()
               if g in shown]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=7,
              title=legend_title, title_fontsize=7)
    fig.subplots_adjust(right=0.66)
    return fig


def _spread_out(values, low, high):
    """Sorted ``values`` moved apart to at least 1/24 of [low, high] each, staying in order and inside the range."""
    gap = (high - low) / 24
    placed = []
    for v in values:  # push up what is too close to the label below
        placed.append(max(v, placed[-1] + gap if placed else low))
    top = high
    for i in reversed(range(len(placed))):  # then down from the top what that pushed out of range
        top = min(placed[i], top)
        placed[i], top = top, top - gap
    return placed


def _uncross(starts, ends):
    """``ends`` reassigned to ``starts`` so that no two segments start -> end cross. Swapping the ends of two
    crossing segments makes them shorter in total (triangle inequality), so repeating it must stop."""
    ends = list(ends)
    crossed = True
    while crossed:
        crossed = False
        for i in range(len(ends)):
            for j in range(i + 1, len(ends)):
                if _segments_cross(starts[i], ends[i], starts[j], ends[j]):
                    ends[i], ends[j] = ends[j], ends[i]
                    crossed = True
    return ends


def _segments_cross(a, b, c, d):
    """Whether segments ab and cd cross at a point inside both (touching or sharing an end does not count)."""
    def side(p, q, r):  # >0 when r is left of the line p -> q, <0 when right
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return side(a, b, c) * side(a, b, d) < 0 and side(c, d, a) * side(c, d, b) < 0


def timeline_figure(predictions, labels=None, max_classes=6):
    """A Figure: probability over time of the classes that win some window of the demo's ``predictions``
    (each with ``.seconds``, the window's span, and ``.probs``, (classes,)); ``labels`` names the classes."""
    import numpy as np
    from matplotlib.figure import Figure

    spans = np.array([p.seconds for p in predictions])
    probs = np.stack([p.probs for p in predictions])
    names = labels or [f"class {i}" for i in range(probs.shape[1])]
    fig = Figure(figsize=(7.0, 3.0))
    plot_timeline(fig.add_subplot(), spans, probs, names, max_classes=max_classes)
    fig.tight_layout()
    return fig
