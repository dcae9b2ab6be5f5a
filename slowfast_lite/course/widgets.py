"""ipywidgets explorers for the notebooks. Each keeps its state in plain attributes, so it can be driven and
checked without a browser (set a slider's ``value``, then read the indices and the rendered images)."""

import io
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.image import imsave

from slowfast_lite import sampling, video, viz


def png_bytes(image: np.ndarray) -> bytes:
    """PNG encoding of a uint8 image (H, W, 3)."""
    buffer = io.BytesIO()
    imsave(buffer, image, format="png", metadata={"Software": None})
    return buffer.getvalue()


def figure_png(fig: Figure) -> bytes:
    """PNG encoding of a matplotlib figure made with ``Figure()`` (no pyplot, so nothing is shown twice)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def shrink(frames: np.ndarray, factor: int) -> np.ndarray:
    """Downscale frames (T, H, W, 3) uint8 by an integer ``factor`` (mean of factor x factor blocks)."""
    if factor <= 1:
        return frames
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    return torch.nn.functional.avg_pool2d(x, factor).round().byte().permute(0, 2, 3, 1).numpy()


def load_small(path, max_width: int = 240, chunk: int = 32) -> tuple[np.ndarray, float]:
    """All frames of a video, shrunk to at most ``max_width`` pixels wide: (uint8 (T, H, W, 3), fps).

    Read in chunks, so a long HD clip never sits in memory at full size.
    """
    info = video.probe(path)
    factor = -(-info.width // max_width)
    parts = [shrink(video.read_frames(path, range(first, min(first + chunk, info.frames))), factor)
             for first in range(0, info.frames, chunk)]
    return np.concatenate(parts), info.fps


class FrameRateExplorer:
    """Watch which frames the Slow and Fast pathways take from a clip, and how tau and alpha change that.

    ``video_or_path``: a video file, or uint8 frames (T, H, W, 3) with ``fps``. The clip window (``slow_frames``
    * tau frames at 30 fps, scaled to the video's rate) is centred on the current frame, clamped to the video;
    inside it the indices follow PySlowFast (``slowfast_lite.sampling``). Display it as the last expression
    of a cell. State: ``current``, ``window``, ``fast_indices``, ``slow_indices``; images: ``frame_image``,
    ``timeline_image``, ``slow_strip``, ``fast_strip`` (PNG bytes in ``.value``).
    """

    def __init__(self, video_or_path, tau: int = 16, alpha: int = 8, slow_frames: int = 4, fps: float | None = None,
                 max_width: int = 240, thumb_height: int = 40, interval_ms: int = 150):
        if isinstance(video_or_path, (str, Path)):
            frames, file_fps = load_small(video_or_path, max_width)
            fps = fps or file_fps
        else:
            frames = np.asarray(video_or_path)
            if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
                raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
            frames = shrink(frames, -(-frames.shape[2] // max_width))
            fps = fps or 30.0
        self.frames, self.fps, self.slow_frames = frames, float(fps), slow_frames
        self.thumbs = shrink(frames, max(1, frames.shape[1] // thumb_height))
        last = len(frames) - 1

        self.play = widgets.Play(value=0, min=0, max=last, step=1, interval=interval_ms, description="play")
        self.frame_slider = widgets.IntSlider(value=0, min=0, max=last, description="frame")
        self.tau_slider = widgets.IntSlider(value=tau, min=1, max=32, description="tau")
        self.alpha_slider = widgets.IntSlider(value=alpha, min=1, max=16, description="alpha")
        # a kernel-side link: the slider follows Play in a browser and in a test alike
        widgets.link((self.play, "value"), (self.frame_slider, "value"))
        self.frame_image = widgets.Image(format="png")
        self.timeline_image = widgets.Image(format="png")
        self.slow_strip = widgets.Image(format="png")
        self.fast_strip = widgets.Image(format="png")
        self.caption = widgets.HTML()
        for widget, name in [(self.play, "sf-play"), (self.frame_slider, "sf-frame-slider"),
                             (self.tau_slider, "sf-tau"), (self.alpha_slider, "sf-alpha"),
                             (self.frame_image, "sf-frame"), (self.timeline_image, "sf-timeline"),
                             (self.slow_strip, "sf-slow-strip"), (self.fast_strip, "sf-fast-strip"),
                             (self.caption, "sf-caption")]:
            widget.add_class(name)

        self.frame_slider.observe(self._on_change, names="value")
        self.tau_slider.observe(self._on_change, names="value")
        self.alpha_slider.observe(self._on_change, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.play, self.frame_slider]),
            widgets.HBox([self.tau_slider, self.alpha_slider]),
            widgets.HBox([self.frame_image, widgets.VBox([self.caption, self.timeline_image])]),
            widgets.HTML("<b>Slow frames</b>"), self.slow_strip,
            widgets.HTML("<b>Fast frames</b>"), self.fast_strip,
        ])
        self._update()

    # ------------------------------------------------------------------ state
    @property
    def current(self) -> int:
        return self.frame_slider.value

    @property
    def tau(self) -> int:
        return self.tau_slider.value

    @property
    def alpha(self) -> int:
        return self.alpha_slider.value

    def _sample(self, tau=None, alpha=None):
        """(window, fast indices, slow indices) for the current frame at ``tau`` and ``alpha`` (default: the
        sliders')."""
        tau, alpha = tau or self.tau, alpha or self.alpha
        n, num_fast = len(self.frames), alpha * self.slow_frames
        window = sampling.window_size(num_fast, tau / alpha, self.fps)
        start = min(max(self.current - (window - 1) / 2, 0.0), max(n - window, 0.0))
        fast = sampling.fast_indices(start, start + window - 1, num_fast, n)
        slow = fast[sampling.slow_indices(num_fast, alpha)]
        # indices are the floor of float positions (PySlowFast's rule), so the window's edges are floored too
        return (int(start), min(int(start + window - 1), n - 1)), fast.numpy(), slow.numpy()

    def _on_change(self, _change=None):
        self._update()

    def _update(self):
        self.window, self.fast_indices, self.slow_indices = self._sample()
        self.frame_image.value = png_bytes(self.frames[self.current])
        self.timeline_image.value = self._timeline_png()
        self.slow_strip.value = png_bytes(self._strip(self.slow_indices, viz.PATHWAY_COLORS["slow"]))
        self.fast_strip.value = png_bytes(self._strip(self.fast_indices, viz.PATHWAY_COLORS["fast"], columns=16))
        slow_rate, fast_rate = self.rates()
        self.caption.value = (
            f"frame {self.current} of {len(self.frames)} ({self.current / self.fps:.2f} s); clip window "
            f"{self.window[0]}-{self.window[1]}<br>"
            f"<span style='color:{viz.PATHWAY_COLORS['slow']}'>Slow</span>: {len(self.slow_indices)} frames, "
            f"{slow_rate:.3g} per second &nbsp; "
            f"<span style='color:{viz.PATHWAY_COLORS['fast']}'>Fast</span>: {len(self.fast_indices)} frames, "
            f"{fast_rate:.3g} per second")

    def rates(self) -> tuple[float, float]:
        """(Slow, Fast) frames per second of video time, from the current indices (not the nominal 30 / tau)."""
        return self._rates(self.slow_indices, self.fast_indices)

    def _rates(self, slow, fast):
        rate = lambda indices: sampling.frames_per_second(indices, self.fps) if len(set(indices)) > 1 else 0.0
        return rate(slow), rate(fast)

    def snapshots(self, taus=(8, 16, 32), alphas=(4, 8)) -> dict:
        """What the explorer shows at the current frame for every (tau, alpha), without moving its sliders:
        {(tau, alpha): {"window", "fast", "slow", "rates"}} (rates: Slow and Fast frames per second)."""
        shots = {}
        for tau in taus:
            for alpha in alphas:
                window, fast, slow = self._sample(tau, alpha)
                shots[tau, alpha] = {"window": window, "fast": fast, "slow": slow, "rates": self._rates(slow, fast)}
        return shots

    def small_multiples(self, taus=(8, 16, 32), alphas=(4, 8)) -> Figure:
        """A static picture of the explorer: the timeline of every (tau, alpha) at the current frame, one row per
        tau, one column per alpha (``snapshots``); returns a matplotlib Figure."""
        shots = self.snapshots(taus, alphas)
        fig = Figure(figsize=(4.2 * len(alphas), 1.45 * len(taus) + 0.3), dpi=80, layout="constrained")
        axes = fig.subplots(len(taus), len(alphas), squeeze=False)
        for (tau, alpha), shot in shots.items():
            row, col = taus.index(tau), alphas.index(alpha)
            ax = axes[row][col]
            viz.plot_sampling_timeline(ax, len(self.frames), shot["slow"], shot["fast"], window=shot["window"],
                                       current=self.current)
            slow_rate, fast_rate = shot["rates"]
            ax.set_title(f"tau={tau}, alpha={alpha}: Slow {len(shot['slow'])} at {slow_rate:.2g}/s, "
                         f"Fast {len(shot['fast'])} at {fast_rate:.3g}/s", fontsize=9)
            if row < len(taus) - 1:
                ax.set_xlabel("")
        return fig

    def strips_image(self, font_size: int = 16) -> np.ndarray:
        """A static picture of the explorer's two frame strips at the current state (uint8 (H, W, 3)), each row
        labelled with its pathway, frame count, rate and frame indices: what a static page cannot show of the
        live widget. As in the widget, a dark border marks each pathway's frame nearest to the current one."""
        rates = dict(zip(("slow", "fast"), self.rates(), strict=True))
        rows = []
        for name, indices, columns in [("slow", self.slow_indices, None), ("fast", self.fast_indices, 16)]:
            nearest = int(indices[np.argmin(np.abs(indices - self.current))])
            shown = ", ".join(str(int(i)) for i in indices) if len(indices) <= 8 else \
                f"{int(indices[0])}-{int(indices[-1])}"
            rows.append((f"{name.capitalize()} pathway: {len(indices)} frames, {rates[name]:.3g} per second, "
                         f"frames {shown} (dark border: {nearest}, nearest to frame {self.current})",
                         self._strip(indices, viz.PATHWAY_COLORS[name], columns=columns), viz.PATHWAY_COLORS[name]))
        return viz.labelled_rows(rows, font_size=font_size)

    # ------------------------------------------------------------------ rendering
    def _timeline_png(self) -> bytes:
        fig = Figure(figsize=(5.6, 1.5), dpi=80, layout="constrained")
        viz.plot_sampling_timeline(fig.add_subplot(), len(self.frames), self.slow_indices, self.fast_indices,
                                   window=self.window, current=self.current)
        return figure_png(fig)

    def _strip(self, indices, color: str, columns: int | None = None) -> np.ndarray:
        """Thumbnails of the frames at ``indices``; the one nearest the current frame gets a dark border."""
        rgb = tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
        nearest = int(np.argmin(np.abs(indices - self.current)))
        borders = [(20, 20, 20) if i == nearest else rgb for i in range(len(indices))]
        return viz.montage(self.thumbs[indices], columns=columns, pad=2, borders=borders)

    def __repr__(self) -> str:
        return (f"FrameRateExplorer({len(self.frames)} frames at {self.fps:g} fps, tau={self.tau}, "
                f"alpha={self.alpha}, frame {self.current})")

    def _repr_mimebundle_(self, **kwargs):
        # the live widget for a browser; a one-line text (not the children's PNG bytes) for everything else
        return {**self.widget._repr_mimebundle_(**kwargs), "text/plain": repr(self)}


def lateral_shapes(model="slowfast_r50_4x16", point: int = 1, crop: int = 224, **overrides) -> dict:
    """What one lateral connection of a SlowFast model sees and makes, for one clip (meta tensors: no compute).

    ``point`` 1..4 is the fusion after pool1, res2, res3, res4; ``overrides`` change the config (``fusion``,
    ``alpha``, ``beta``, ...). Returns "slow" and "fast" (what arrives), "lateral" (Fast brought to Slow's T;
    None for "none") and "fused" (what the next Slow stage reads), each (C, T, H, W); "params" and "gmacs" of
    this connection and "total_gmacs" of the network. A config the package refuses raises its ValueError.
    """
    from slowfast_lite import flops, models

    config = models.CONFIGS[model] if isinstance(model, str) else model
    config = config.replace(**overrides)
    if not 1 <= point <= 4:
        raise ValueError(f"fusion point must be 1..4 (after pool1, res2, res3, res4), got {point}")
    rows = {(r.stage, r.pathway): r for r in flops.profile(config, crop)}
    slow, fast, fuse = rows[f"s{point}", "slow"], rows[f"s{point}", "fast"], rows[f"s{point}_fuse", "fast->slow"]
    lateral = None
    if config.fusion != "none":
        with torch.device("meta"):
            module = models.make_lateral(config.fusion, slow.output[0], fast.output[0], config.alpha,
                                         config.fusion_kernel, config.fusion_channel_ratio)
            lateral = tuple(module.lateral(torch.empty((1, *fast.output))).shape[1:])
    return {"slow": slow.output, "fast": fast.output, "lateral": lateral, "fused": fuse.output,
            "params": fuse.params, "gmacs": fuse.gmacs, "total_gmacs": sum(r.gmacs for r in rows.values())}


class LateralShapesExplorer:
    """See the tensors through each lateral connection of SlowFast, at each of its four fusion points.

    Controls: the connection (``fusion``), the fusion point (1-4: after pool1, res2, res3, res4), alpha and
    beta; the model's T and the crop stay. The figure draws the tensors (``viz.plot_lateral_shapes``), the
    caption gives the shapes and the costs. State: ``shapes`` (``lateral_shapes``' dict, None when the package
    refuses the combination) and ``error`` (its message, e.g. TtoC-sum needs alpha * beta = 1); image:
    ``figure`` (PNG bytes in ``.value``). Display it as the last expression of a cell.
    """

    BETAS = [("1/4", 1 / 4), ("1/8", 1 / 8), ("1/16", 1 / 16), ("1/32", 1 / 32)]
    POINTS = {1: "pool1", 2: "res2", 3: "res3", 4: "res4"}

    def __init__(self, model: str = "slowfast_r50_4x16", fusion: str = "tconv", point: int = 1, crop: int = 224):
        from slowfast_lite import models

        self.model, self.crop = model, crop
        config = models.CONFIGS[model]
        alphas = [a for a in (2, 4, 8, 16) if config.tau % a == 0]
        self.fusion_menu = widgets.Dropdown(options=[(viz.LATERAL_LABELS[k], k) for k in models.LATERALS],
                                            value=fusion, description="lateral")
        self.point_slider = widgets.IntSlider(value=point, min=1, max=4, description="after stage")
        self.alpha_menu = widgets.Dropdown(options=alphas, value=config.alpha, description="alpha")
        self.beta_menu = widgets.Dropdown(options=self.BETAS, value=config.beta, description="beta")
        self.figure = widgets.Image(format="png")
        self.caption = widgets.HTML()
        for control in (self.fusion_menu, self.point_slider, self.alpha_menu, self.beta_menu):
            control.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.fusion_menu, self.point_slider]),
                                    widgets.HBox([self.alpha_menu, self.beta_menu]), self.caption, self.figure])
        self._update()

    def _on_change(self, _change=None):
        self._update()

    def _update(self):
        point = self.point_slider.value
        try:
            self.shapes, self.error = lateral_shapes(self.model, point, self.crop, fusion=self.fusion_menu.value,
                                                     alpha=self.alpha_menu.value, beta=self.beta_menu.value), None
        except ValueError as err:
            self.shapes, self.error = None, str(err)
        fig = Figure(figsize=(5.6, 3.0), dpi=80, layout="constrained")
        ax = fig.add_subplot()
        if self.shapes is None:
            ax.axis("off")
            ax.text(0.5, 0.5, "this combination is not possible", ha="center", va="center")
            self.caption.value = f"<b>not possible:</b> {self.error}"
        else:
            s = self.shapes
            viz.plot_lateral_shapes(ax, s, self.fusion_menu.value, f"after {self.POINTS[point]}")
            self.caption.value = (
                f"after {self.POINTS[point]}: Slow {viz.format_chw(s['slow'])} and Fast {viz.format_chw(s['fast'])} "
                f"-> fused Slow {viz.format_chw(s['fused'])}<br>this connection: {s['params']:,} parameters, "
                f"{s['gmacs']:.3f} GMACs; the whole network: {s['total_gmacs']:.2f} GMACs at {self.crop}^2")
        self.figure.value = figure_png(fig)

    def __repr__(self) -> str:
        state = f"fused Slow {self.shapes['fused']}" if self.shapes else "not possible"
        return (f"LateralShapesExplorer({self.model}, {self.fusion_menu.value} after "
                f"{self.POINTS[self.point_slider.value]}, alpha={self.alpha_menu.value}, "
                f"beta={self.beta_menu.label}: {state})")

    def _repr_mimebundle_(self, **kwargs):
        # the live widget for a browser; a one-line text for everything else
        return {**self.widget._repr_mimebundle_(**kwargs), "text/plain": repr(self)}


class DetectionExplorer:
    """Step through the keyframes of an AVA data set with a detector's output drawn on them.

    ``dataset``: an ``AVADataset`` (its keyframes, boxes and videos); ``detections``: AVA rows with scores
    (``detection.predict``); each detected box is captioned with its actions scored at least ``threshold``.
    The data set's own boxes are drawn dashed with their true actions when ``groundtruth``. State: ``index``,
    ``key`` (video_id, timestamp), ``shown`` (list of (box, [(action, score)]) of the current keyframe);
    image: ``image`` (PNG bytes in ``.value``).
    """

    def __init__(self, dataset, detections, threshold: float = 0.5, groundtruth: bool = True, scale: int = 4):
        from slowfast_lite.data.ava_files import boxes_by_keyframe, read_ava_csv

        self.dataset, self.scale = dataset, scale
        self.truth = boxes_by_keyframe(r for r in read_ava_csv(dataset.annotations) if r.action_id in
                                       dataset.label_map) if groundtruth else {}
        self.by_key = {}
        for row in detections:
            self.by_key.setdefault(row.key, {}).setdefault(tuple(row.box), []).append((row.action_id, row.score))
        self.slider = widgets.IntSlider(value=0, min=0, max=max(len(dataset) - 1, 0), description="keyframe")
        self.threshold_slider = widgets.FloatSlider(value=threshold, min=0.05, max=0.95, step=0.05,
                                                    description="threshold")
        self.image = widgets.Image(format="png")
        self.caption = widgets.HTML()
        for widget, name in [(self.slider, "sf-det-keyframe"), (self.threshold_slider, "sf-det-threshold"),
                             (self.image, "sf-det-image"), (self.caption, "sf-det-caption")]:
            widget.add_class(name)
        self.slider.observe(self._on_change, names="value")
        self.threshold_slider.observe(self._on_change, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.slider, self.threshold_slider]), self.caption, self.image])
        self._update()

    def _on_change(self, _change=None):
        self._update()

    def _update(self):
        index, threshold = self.slider.value, self.threshold_slider.value
        video_id, timestamp, _ = self.dataset.keyframes[index]
        self.key = (video_id, timestamp)
        names = self.dataset.label_map
        self.shown = [(box, sorted(((a, s) for a, s in scores if s >= threshold), key=lambda x: -x[1]))
                      for box, scores in self.by_key.get(self.key, {}).items()]
        image = self.dataset.keyframe_image(index)
        height, width = image.shape[:2]
        truth = self.truth.get(self.key, {})
        boxes, captions = list(truth), [""] * len(truth)
        colors, dashed = ["white"] * len(truth), range(len(truth))  # white: seen on every background colour
        for box, actions in self.shown:
            boxes.append(box)
            captions.append(", ".join(f"{names.get(a, a)} {s:.2f}" for a, s in actions))
            colors.append(viz.PATHWAY_COLORS["fusion"])
        pixels = [(x1 * width, y1 * height, x2 * width, y2 * height) for x1, y1, x2, y2 in boxes]
        fig = Figure(figsize=(width * self.scale / 80, height * self.scale / 80), dpi=80, layout="constrained")
        viz.plot_detections(fig.add_subplot(), image, pixels, captions, colors, dashed)
        self.image.value = figure_png(fig)
        true_actions = "; ".join(", ".join(names[a] for a in sorted(actions)) for actions in truth.values())
        self.caption.value = (f"{video_id} at {timestamp} s: {len(self.shown)} detected people (actions scored "
                              f">= {threshold:.2f}); ground truth (dashed): {true_actions or '-'}")

    def __repr__(self) -> str:
        return (f"DetectionExplorer({len(self.dataset)} keyframes, keyframe {self.slider.value} = {self.key}, "
                f"threshold {self.threshold_slider.value:.2f})")

    def _repr_mimebundle_(self, **kwargs):
        return {**self.widget._repr_mimebundle_(**kwargs), "text/plain": repr(self)}
