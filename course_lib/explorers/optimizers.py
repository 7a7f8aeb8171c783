"""Explorers of notebook 03: optimizers (最適化アルゴリズム) moving on 2-D loss landscapes.

Everything a slider drives is a pure function of ``course_lib.optim``:
:func:`~course_lib.optim.optimizer_trajectory` runs a real ``SGD`` /
``RMSprop`` / ``Adam`` / ``AdamW`` on a landscape and judges the run
(converged, oscillating, diverged, slow). This module adds what the widgets
need on top of it, all unit-tested without widgets:

    run = cached_trajectory("rosenbrock", "Adam", lr=0.1, momentum=0.9, steps=800)
    state = race("rosenbrock", steps=800)        # the RACERS from the same start
    fig = plt.figure(figsize=(12, 4.5), layout="constrained")
    draw_runs(fig, "rosenbrock", [(r.label, r.run) for r in state.entries])

    OptimizerExplorer()        # one optimizer: every knob
    OptimizerRaceExplorer()    # several optimizers side by side

Left panel: the contour lines (等高線) of the landscape with the path of the
point (x, y); right panel: the loss above its minimum, ``f(x_t, y_t) - f_min``,
per step on a log axis (the saddle landscape's minimum is -0.25, so the gap,
not the loss, is what can be drawn on a log axis).

Speed: a run is deterministic, so the first ``n`` steps of a long run *are*
the ``n``-step run; :class:`TrajectoryCache` keeps the longest run per setting
and answers shorter requests by slicing it (and judging the slice again). The
explorers always compute :data:`MAX_STEPS` steps, so the steps slider is free. The
contour grid is computed once per landscape (:func:`landscape_grid`), and each
explorer keeps one figure per landscape (``figure_key``) whose static part is
drawn once (see :class:`~course_lib.plotting.BlitFigure`): a redraw draws only
the paths, the loss curves and the loss panel's x ticks. A redraw takes a few
tens of milliseconds (see benchmarks/).
"""
from __future__ import annotations

import functools
import html
import math
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator
from matplotlib.transforms import offset_copy

from ..optim import get_landscape, optimizer_trajectory
from ..optim.landscapes import Landscape
from ..optim.trajectory import Trajectory, judge_trajectory
from ..plotting import COLORS, COURSE_RC, freeze_layout
from ._base import Explorer

__all__ = [
    "LANDSCAPE_LABELS", "OPTIMIZER_LABELS", "MAX_STEPS", "GAP_FLOOR", "RUN_COLORS", "Racer", "RACERS",
    "landscape_grid", "loss_gap", "truncate_trajectory", "TrajectoryCache", "cached_trajectory",
    "RaceEntry", "RaceState", "race", "gap_limits", "draw_landscape", "draw_runs",
    "OptimizerExplorer", "OptimizerRaceExplorer",
]

#: landscape name -> label shown in the dropdowns
LANDSCAPE_LABELS = {
    "ill_conditioned_quadratic": "narrow valley (ill-conditioned quadratic)",
    "rosenbrock": "Rosenbrock (curved banana valley)",
    "saddle": "saddle point",
}

#: optimizer name (as optimizer_trajectory takes it) -> label shown in the dropdown
OPTIMIZER_LABELS = {
    "SGD": "SGD (momentum 0 = plain gradient descent)",
    "Nesterov": "SGD with Nesterov momentum",
    "RMSprop": "RMSprop",
    "Adam": "Adam",
    "AdamW": "AdamW (weight decay 0.01)",
}

MAX_STEPS = 1000        # the steps sliders' maximum: Rosenbrock needs 700-1000 good steps
GAP_FLOOR = 1e-12       # f - f_min below this is drawn at this value (bottom of the log axis)
VERDICT_COLORS = {"converged": "#009E73", "oscillating": "#E69F00", "diverged": "#D55E00", "slow": "#666666"}
#: colours of the runs in draw_runs and the explorers, in order: the course palette with black
#: fourth instead of vermilion, which is hard to tell from the second (orange) on a projector
RUN_COLORS = (COLORS[0], COLORS[1], COLORS[2], COLORS[7], COLORS[4], COLORS[5])


# ---------------------------------------------------------------------------- pure functions
@functools.lru_cache(maxsize=None)
def landscape_grid(name: str, n: int = 161):
    """``(x, y, gap, levels)`` for the contour plot of landscape ``name``, computed once.

    x: (n,), y: (n,) grid coordinates over the plot window; gap: (n, n) with
    ``gap[i, j] = f(x[j], y[i]) - f_min`` (>= 0); levels: log-spaced contour
    levels of the gap. The arrays are read-only (they are shared by every figure).
    """
    land = get_landscape(name)
    x = np.linspace(*land.xlim, n)
    y = np.linspace(*land.ylim, n)
    X, Y = np.meshgrid(x, y)
    gap = np.maximum(land.value(X, Y) - land.min_value, 0.0)
    top = float(gap.max())
    levels = np.geomspace(top * 1e-4, top, 13)
    for a in (x, y, gap, levels):
        a.flags.writeable = False
    return x, y, gap, levels


def loss_gap(land: Landscape, losses) -> np.ndarray:
    """``f - f_min`` per step, clipped below at :data:`GAP_FLOOR` so a log axis can show it."""
    return np.maximum(np.asarray(losses, dtype=np.float64) - land.min_value, GAP_FLOOR)


def truncate_trajectory(run: Trajectory, landscape, steps: int) -> Trajectory:
    """The run of ``steps`` steps, cut from a longer ``run`` of the same setting.

    Equal to ``optimizer_trajectory(..., steps=steps)`` with the same settings:
    the path is deterministic, so only the verdict has to be made again for
    the shorter path. ``steps`` must not exceed the steps ``run`` was asked for.
    """
    land = get_landscape(landscape)
    if run.verdict == "diverged":
        if run.step <= steps:          # it had already escaped by then: the same run
            return run
        # before the escape every point is kept (steps < run.step <= run.steps_run + 1)
    elif steps > run.steps_run:
        raise ValueError(f"truncate_trajectory: the run has only {run.steps_run} steps, asked for {steps}")
    elif steps == run.steps_run:
        return run
    positions, losses = run.positions[: steps + 1], run.losses[: steps + 1]
    verdict, step, message = judge_trajectory(land, positions, losses)
    return Trajectory(positions, losses, verdict, step, message)


class TrajectoryCache:
    """Runs of :func:`optimizer_trajectory`, remembered per setting.

    For each setting ``(landscape, optimizer, lr, momentum, beta2)`` the longest
    run computed so far is kept; a request for fewer steps is cut from it
    (:func:`truncate_trajectory`), a request for more steps runs again. A run
    that has to be computed is computed for at least ``min_steps`` steps (the
    explorers use :data:`MAX_STEPS`, so that moving the steps slider never
    computes anything). At most ``maxsize`` settings are kept (the least
    recently used are dropped).
    """

    def __init__(self, maxsize: int = 256, min_steps: int = 0) -> None:
        self.maxsize = int(maxsize)
        self.min_steps = int(min_steps)
        self._runs: dict[tuple, Trajectory] = {}
        self.computed = 0          # how many runs were actually computed (for tests)

    def get(self, landscape: str, optimizer: str, lr: float, momentum: float = 0.0, beta2: float = 0.999,
            steps: int = 100) -> Trajectory:
        key = (landscape, optimizer, float(lr), float(momentum), float(beta2))
        run = self._runs.pop(key, None)
        if run is None or (run.verdict != "diverged" and run.steps_run < steps):
            # (a diverged run answers every request: it stopped at its escape step)
            run = optimizer_trajectory(landscape, optimizer, lr, momentum, beta2,
                                       steps=max(int(steps), self.min_steps))
            self.computed += 1
        self._runs[key] = run       # (re)inserted last: most recently used
        while len(self._runs) > self.maxsize:
            self._runs.pop(next(iter(self._runs)))
        return truncate_trajectory(run, landscape, int(steps))


_SHARED_CACHE = TrajectoryCache()


def cached_trajectory(landscape: str, optimizer: str, lr: float, momentum: float = 0.0, beta2: float = 0.999,
                      steps: int = 100) -> Trajectory:
    """:func:`optimizer_trajectory` through a module-wide :class:`TrajectoryCache` (same result)."""
    return _SHARED_CACHE.get(landscape, optimizer, lr, momentum, beta2, steps)


@dataclass(frozen=True)
class Racer:
    """One contestant of the race: an optimizer with its own hand-tuned learning rate per landscape."""

    label: str
    optimizer: str              # a name optimizer_trajectory accepts
    momentum: float             # SGD/RMSprop momentum, or Adam's beta1
    beta2: float                # Adam's beta2 / RMSprop's alpha
    lrs: dict                   # landscape name -> learning rate


#: The race: each optimizer with a learning rate that works well on each landscape
#: (chosen by hand with the single-optimizer explorer; the race's "lr scale" multiplies them).
RACERS = (
    Racer("GD", "SGD", 0.0, 0.999,
          {"ill_conditioned_quadratic": 0.15, "rosenbrock": 2e-3, "saddle": 0.1}),
    Racer("Momentum 0.9", "SGD", 0.9, 0.999,
          {"ill_conditioned_quadratic": 0.02, "rosenbrock": 1.5e-3, "saddle": 0.02}),
    Racer("Nesterov 0.9", "Nesterov", 0.9, 0.999,
          {"ill_conditioned_quadratic": 0.02, "rosenbrock": 1e-3, "saddle": 0.02}),
    Racer("RMSprop", "RMSprop", 0.0, 0.99,
          {"ill_conditioned_quadratic": 0.03, "rosenbrock": 5e-3, "saddle": 0.03}),
    Racer("Adam", "Adam", 0.9, 0.999,
          {"ill_conditioned_quadratic": 0.1, "rosenbrock": 0.2, "saddle": 0.05}),
)


@dataclass(frozen=True)
class RaceEntry:
    label: str          # e.g. "Adam, lr 0.1"
    name: str           # the racer's label, e.g. "Adam"
    lr: float
    run: Trajectory


@dataclass(frozen=True)
class RaceState:
    landscape: str
    steps: int
    lr_scale: float
    entries: tuple      # of RaceEntry, in the order of RACERS


def race(landscape: str, steps: int = 300, lr_scale: float = 1.0, racers=RACERS,
         cache: TrajectoryCache | None = None) -> RaceState:
    """Run every racer ``steps`` steps on ``landscape`` from its start, each at ``lr_scale`` x its own lr."""
    cache = _SHARED_CACHE if cache is None else cache
    entries = []
    for r in racers:
        lr = r.lrs[landscape] * float(lr_scale)
        run = cache.get(landscape, r.optimizer, lr, r.momentum, r.beta2, int(steps))
        entries.append(RaceEntry(f"{r.label}, lr {lr:.2g}", r.label, lr, run))
    return RaceState(landscape, int(steps), float(lr_scale), tuple(entries))


# ---------------------------------------------------------------------------- drawing
def _sci(v, _pos=None) -> str:
    return f"{v:.0e}"  # plain text: much faster than mathtext 10^{-8}


def gap_limits(landscape) -> tuple[float, float]:
    """The fixed y range of the loss panel: :data:`GAP_FLOOR` up to ten times the largest
    ``f - f_min`` in the plot window (rounded up to a power of ten)."""
    land = get_landscape(landscape)
    top = float(landscape_grid(land.name)[2].max())
    return GAP_FLOOR, 10.0 ** (math.ceil(math.log10(top)) + 1)


def draw_landscape(ax, landscape) -> None:
    """Filled contours of ``f - f_min`` (log-spaced levels, darker = lower), the minima (stars)
    and the start (white circle)."""
    land = get_landscape(landscape)
    x, y, gap, levels = landscape_grid(land.name)
    ax.contourf(x, y, gap, levels=np.concatenate([[0.0], levels]), cmap="Greys_r", alpha=0.45, extend="max")
    ax.contour(x, y, gap, levels=levels, colors="0.4", linewidths=0.6)
    mx, my = np.array(land.minima).T
    ax.plot(mx, my, "*", ms=15, color=COLORS[2], mec="k", ls="none", label="minimum", zorder=5)
    ax.plot(*land.start, "o", ms=8, color="white", mec="k", ls="none", label="start", zorder=5)
    ax.set_xlim(*land.xlim)
    ax.set_ylim(*land.ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(land.title, fontsize=12)


def _path_data(land: Landscape, run: Trajectory):
    """The path, and where to put its end marker: clipped to the window if it left it."""
    xy = run.positions
    end = np.array([np.clip(xy[-1, 0], *land.xlim), np.clip(xy[-1, 1], *land.ylim)])
    return xy, end


def _verdict_point(land: Landscape, run: Trajectory):
    """(step, gap) where the loss panel marks the verdict, or None (slow, oscillating)."""
    if run.verdict not in ("converged", "diverged") or run.step is None:
        return None
    gap = loss_gap(land, run.losses)
    k = min(run.step, len(gap) - 1)
    return k, min(float(gap[k]), gap_limits(land)[1])


class _RunArtists:
    """The artists of one run: path and end marker (contour axes), loss curve and verdict marker (loss axes)."""

    def __init__(self, ax_path, ax_loss, color, label: str | None = None) -> None:
        (self.path,) = ax_path.plot([], [], "-", marker="o", ms=2.5, lw=1.6, color=color, label=label, zorder=6)
        (self.end,) = ax_path.plot([], [], "s", ms=10, color=color, mec="k", ls="none", zorder=7)
        (self.curve,) = ax_loss.plot([], [], color=color, lw=1.8, label=label)
        (self.verdict,) = ax_loss.plot([], [], "o", ms=9, color=color, mec="k", ls="none", zorder=5)

    def all(self):
        return (self.path, self.end, self.curve, self.verdict)

    def update(self, land: Landscape, run: Trajectory, markers: bool) -> None:
        xy, end = _path_data(land, run)
        self.path.set_data(xy[:, 0], xy[:, 1])
        self.path.set_marker("o" if markers else "None")
        self.end.set_data([end[0]], [end[1]])
        self.end.set_marker("X" if run.verdict == "diverged" else "s")
        gap = loss_gap(land, run.losses)
        self.curve.set_data(np.arange(len(gap)), gap)
        point = _verdict_point(land, run)
        self.verdict.set_visible(point is not None)
        if point is not None:
            self.verdict.set_data([point[0]], [point[1]])
            self.verdict.set_marker("o" if run.verdict == "converged" else "X")


def _setup_loss_axes(ax, land: Landscape, steps: int) -> None:
    ax.set_yscale("log")
    ax.set_ylim(*gap_limits(land))
    ax.yaxis.set_major_locator(LogLocator(base=10, numticks=6))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(_sci))
    ax.set_xlim(0, max(int(steps), 1))
    ax.set_xlabel("step t")
    ax.set_ylabel("f(x_t, y_t) − f_min  (log)")
    ax.set_title("loss above the minimum, per step", fontsize=12)


def draw_runs(fig, landscape, runs, steps: int | None = None, markers: bool | None = None,
              legend: str = "loss") -> tuple:
    """Paths on the contour plot (left) and loss above the minimum per step (right, log y).

    ``runs`` is a list of ``(label, Trajectory)``; colours follow ``RUN_COLORS``.
    Dots mark the points (default: when every run has at most 150 steps), a
    square the last point, a cross the point where a diverging run left the
    picture; on the loss curves a circle marks the step a run was judged
    converged and a cross the step it diverged. ``steps`` sets the x range
    (default: the longest run). ``legend``: ``"loss"`` (in the loss panel),
    ``"figure"`` (below both panels) or ``"none"``. Returns the two axes.
    """
    land = get_landscape(landscape)
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=[1.15, 1])
    draw_landscape(ax_path, land)
    longest = max(r.steps_run for _, r in runs)
    markers = longest <= 150 if markers is None else markers
    _setup_loss_axes(ax_loss, land, longest if steps is None else steps)
    for i, (label, run) in enumerate(runs):
        _RunArtists(ax_path, ax_loss, RUN_COLORS[i % len(RUN_COLORS)], label).update(land, run, markers)
    if legend == "loss":
        ax_loss.legend(loc="upper right", fontsize=9, framealpha=0.9)
    elif legend == "figure":
        handles = ax_loss.get_lines()[0::2]   # the curves (every other line is a verdict marker)
        fig.legend(handles=handles, loc="outside lower center", ncol=min(len(runs), 5), fontsize=10, frameon=False)
    return ax_path, ax_loss


class _PathPanels:
    """The explorers' figure for one landscape: contours and paths (left), loss curves (right).

    Laid out once, with real x ticks; then the loss panel's x ticks are
    replaced by a few plain artists (grid lines and labels), which
    :meth:`update` moves with the steps slider: matplotlib's Axis is slow to
    draw, and the x range changes with every move of the steps slider.
    """

    N_TICK_LABELS = 8

    def __init__(self, fig, landscape: str, n_runs: int, labels=None) -> None:
        self.land = get_landscape(landscape)
        self.ax_path, self.ax_loss = fig.subplots(1, 2, width_ratios=[1.15, 1])
        ax = self.ax_loss
        draw_landscape(self.ax_path, self.land)
        self.ax_path.legend(loc="upper right", fontsize=9, framealpha=0.9)
        _setup_loss_axes(ax, self.land, MAX_STEPS)
        self.runs = [_RunArtists(self.ax_path, ax, RUN_COLORS[i % len(RUN_COLORS)]) for i in range(n_runs)]
        if labels is not None:    # a static legend (part of the background)
            fig.legend(handles=[r.curve for r in self.runs], labels=list(labels), loc="outside lower center",
                       ncol=min(n_runs, 5), fontsize=10, frameon=False)
        freeze_layout(fig)        # constrained layout, once, with real x ticks
        # replace the x ticks by our own artists, keeping the axis label where it is
        label_y = ax.transAxes.inverted().transform(ax.xaxis.label.get_position())[1]
        ax.xaxis.set_label_coords(0.5, label_y)
        ax.xaxis.set_major_locator(NullLocator())
        grid_color = matplotlib.rcParams["grid.color"]
        self.grid = LineCollection([], colors=grid_color, alpha=COURSE_RC["grid.alpha"], linewidths=0.8,
                                   transform=ax.get_xaxis_transform(), zorder=0.5)
        ax.add_collection(self.grid, autolim=False)
        below = offset_copy(ax.get_xaxis_transform(), fig=fig, y=-5, units="points")
        self.tick_labels = [ax.text(0, 0, "", transform=below, ha="center", va="top",
                                    fontsize=COURSE_RC["xtick.labelsize"], clip_on=False)
                            for _ in range(self.N_TICK_LABELS)]
        self._locator = MaxNLocator(nbins=5, integer=True)

    def update(self, runs, steps: int, markers: bool) -> list:
        """Show ``runs`` (Trajectories) over ``steps`` steps; returns the artists that move."""
        steps = max(int(steps), 1)
        self.ax_loss.set_xlim(0, steps)
        ticks = [float(t) for t in self._locator.tick_values(0, steps) if 0 <= t <= steps][: self.N_TICK_LABELS]
        self.grid.set_segments([[(t, 0.0), (t, 1.0)] for t in ticks])
        for i, text in enumerate(self.tick_labels):
            text.set_visible(i < len(ticks))
            if i < len(ticks):
                text.set_position((ticks[i], 0.0))
                text.set_text(f"{ticks[i]:.0f}")
        for artists, run in zip(self.runs, runs):
            artists.update(self.land, run, markers)
        return [self.grid, *self.tick_labels, *(a for r in self.runs for a in r.all())]


def _verdict_html(run: Trajectory) -> str:
    color = VERDICT_COLORS[run.verdict]
    return f'<b style="color:{color}">{html.escape(run.verdict)}</b>'


# ---------------------------------------------------------------------------- explorers
@dataclass(frozen=True)
class OptimizerState:
    landscape: str
    optimizer: str
    lr: float
    momentum: float
    beta2: float
    steps: int
    run: Trajectory


class OptimizerExplorer(Explorer):
    """One optimizer on one landscape: landscape, optimizer, learning rate (log slider),
    momentum / β1, β2 and the number of steps.

    Left: the path on the contour plot (dots = the points after each step,
    square = the last point, cross = where it left the picture when it
    diverged). Right: ``f - f_min`` per step, log y. The status line gives the
    verdict of :func:`~course_lib.optim.optimizer_trajectory` and where it
    happened. β2 is greyed out for SGD and Nesterov, which do not use it.
    """

    fig_width = 10.0
    fig_height = 4.3
    fig_dpi = 80

    def __init__(self, landscape: str = "ill_conditioned_quadratic", optimizer: str = "SGD", lr: float = 0.18,
                 momentum: float = 0.0, beta2: float = 0.999, steps: int = 100,
                 cache: TrajectoryCache | None = None) -> None:
        self.cache = TrajectoryCache(min_steps=MAX_STEPS) if cache is None else cache
        style = {"description_width": "110px"}
        layout = widgets.Layout(width="390px")
        wide = widgets.Layout(width="470px")
        controls = {
            # the dropdowns are wider than the sliders so their long labels are not cut off
            "landscape": widgets.Dropdown(options=[(v, k) for k, v in LANDSCAPE_LABELS.items()], value=landscape,
                                          description="landscape", style=style, layout=wide),
            "optimizer": widgets.Dropdown(options=[(v, k) for k, v in OPTIMIZER_LABELS.items()], value=optimizer,
                                          description="optimizer", style=style, layout=wide),
            "lr": widgets.FloatLogSlider(value=lr, base=10, min=-4, max=0.5, step=0.05, description="learning rate",
                                         readout_format=".2g", style=style, layout=layout),
            "momentum": widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01,
                                            description="momentum / β1", readout_format=".2f", style=style,
                                            layout=layout),
            "beta2": widgets.FloatSlider(value=beta2, min=0.5, max=0.999, step=0.001, description="β2 (RMSprop α)",
                                         readout_format=".3f", style=style, layout=layout),
            "steps": widgets.IntSlider(value=steps, min=10, max=MAX_STEPS, step=10, description="steps",
                                       style=style, layout=layout),
        }
        self._sync_disabled(controls)
        controls["optimizer"].observe(lambda change: self._sync_disabled(self.controls), names="value")
        super().__init__(controls)

    @staticmethod
    def _sync_disabled(controls: dict) -> None:
        controls["beta2"].disabled = controls["optimizer"].value in ("SGD", "Nesterov")

    def compute(self, landscape, optimizer, lr, momentum, beta2, steps) -> OptimizerState:
        run = self.cache.get(landscape, optimizer, lr, momentum, beta2, steps)
        return OptimizerState(landscape, optimizer, float(lr), float(momentum), float(beta2), int(steps), run)

    def figure_key(self, state: OptimizerState) -> str:
        return state.landscape  # one figure per landscape, each laid out for its own axes

    def setup(self, fig, state: OptimizerState) -> _PathPanels:
        return _PathPanels(fig, state.landscape, 1)

    def update(self, panels: _PathPanels, state: OptimizerState) -> list:
        return panels.update([state.run], state.steps, markers=state.run.steps_run <= 150)

    def draw(self, fig, state: OptimizerState) -> None:
        """The same picture on a fresh figure (for saving or for a static copy)."""
        draw_runs(fig, state.landscape, [(f"{state.optimizer}, lr {state.lr:.2g}", state.run)], steps=state.steps,
                  legend="none")

    def status_text(self, state: OptimizerState) -> str:
        run = state.run
        land = get_landscape(state.landscape)
        gap = float(loss_gap(land, run.losses[-1:])[0])
        parts = [f"{_verdict_html(run)}: {html.escape(run.message)}",
                 f"f − f_min = {gap:.2e} after {run.steps_run} steps"]
        if land.stability_lr is not None and state.optimizer == "SGD" and state.momentum == 0.0:
            parts.append(f"lr / stability limit 2/h_max = {state.lr:.3g} / {land.stability_lr:.3g} "
                         f"= {state.lr / land.stability_lr:.2f}")
        if state.optimizer in ("SGD", "Nesterov") and state.momentum > 0:
            parts.append(f"effective lr along a steady slope lr/(1−μ) = {state.lr / (1 - state.momentum):.3g}")
        return " · ".join(parts)


class OptimizerRaceExplorer(Explorer):
    """The optimizers of :data:`RACERS` side by side, from the same start on the same landscape.

    Each racer has its own hand-tuned learning rate per landscape (shown in
    the status line); the "lr scale" slider multiplies all of them (1 = as
    tuned). The status line gives each racer's verdict.
    """

    fig_width = 10.0
    fig_height = 4.8
    fig_dpi = 80

    def __init__(self, landscape: str = "rosenbrock", steps: int = MAX_STEPS, lr_scale: float = 1.0,
                 racers=RACERS, cache: TrajectoryCache | None = None) -> None:
        self.racers = tuple(racers)
        self.cache = TrajectoryCache(min_steps=MAX_STEPS) if cache is None else cache
        style = {"description_width": "80px"}
        layout = widgets.Layout(width="390px")
        controls = {
            "landscape": widgets.Dropdown(options=[(v, k) for k, v in LANDSCAPE_LABELS.items()], value=landscape,
                                          description="landscape", style=style, layout=layout),
            "lr_scale": widgets.FloatLogSlider(value=lr_scale, base=10, min=-1, max=1, step=0.1,
                                               description="lr scale ×", readout_format=".2g", style=style,
                                               layout=layout),
            "steps": widgets.IntSlider(value=steps, min=10, max=MAX_STEPS, step=10, description="steps",
                                       style=style, layout=layout),
        }
        super().__init__(controls)

    def compute(self, landscape, lr_scale, steps) -> RaceState:
        return race(landscape, steps, lr_scale, racers=self.racers, cache=self.cache)

    def figure_key(self, state: RaceState) -> str:
        return state.landscape

    def setup(self, fig, state: RaceState) -> _PathPanels:
        return _PathPanels(fig, state.landscape, len(self.racers), labels=[r.label for r in self.racers])

    def update(self, panels: _PathPanels, state: RaceState) -> list:
        return panels.update([e.run for e in state.entries], state.steps, markers=False)

    def draw(self, fig, state: RaceState) -> None:
        draw_runs(fig, state.landscape, [(e.label, e.run) for e in state.entries], steps=state.steps, markers=False,
                  legend="figure")

    def status_text(self, state: RaceState) -> str:
        land = get_landscape(state.landscape)
        parts = []
        for i, e in enumerate(state.entries):
            name = html.escape(e.label)
            run = e.run
            if run.verdict in ("converged", "diverged"):
                what = f"{_verdict_html(run)} at step {run.step}"
            else:
                what = f"{_verdict_html(run)}, f − f_min = {float(loss_gap(land, run.losses[-1:])[0]):.1e}"
            parts.append(f'<span style="color:{RUN_COLORS[i % len(RUN_COLORS)]}">■</span> {name}: {what}')
        return " · ".join(parts)
