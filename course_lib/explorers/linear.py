"""Explorer for notebook 01: fit a line ``y_hat = w x + b`` by hand with two sliders.

The pure functions below do all the computing; the widget only draws them.

    x, y = make_line()                       # (50, 1), (50, 1)
    state = linear_fit_state(0.0, 0.0, x, y)
    state.loss, state.grad_w, state.grad_b   # MSE and its gradient at (w, b) = (0, 0)
    state.w_opt, state.b_opt                 # the least-squares optimum

    LinearFitExplorer()                      # the widget (the notebook displays it)

The model has one input and one output, so its two parameters ``(w, b)`` fit
on a plane: the mean squared error (平均二乗誤差) over that plane is a bowl,
drawn as contour lines, and its negative gradient points down the bowl.
"""
from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from ..datasets import make_line
from ..plotting import COLORS
from ._base import Explorer

__all__ = [
    "least_squares_line", "mse_and_gradient", "LinearFitState", "linear_fit_state",
    "LossSurface", "loss_surface", "draw_fit", "draw_loss_surface", "LinearFitExplorer",
]


def _as_vectors(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Flatten ``x`` and ``y`` ((N,) or (N, 1)) to float64 vectors of equal length."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if x.size != y.size:
        raise ValueError(f"x and y must hold the same number of points, got {x.size} and {y.size}")
    if x.size == 0:
        raise ValueError("x and y must hold at least one point")
    return x, y


def least_squares_line(x, y) -> tuple[float, float]:
    """The ``(w*, b*)`` minimising mean((w x + b - y)^2): linear least squares (最小二乗法)."""
    x, y = _as_vectors(x, y)
    A = np.stack([x, np.ones_like(x)], axis=1)  # (N, 2): one column per parameter
    (w, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(w), float(b)


def mse_and_gradient(w: float, b: float, x, y) -> tuple[float, float, float]:
    r"""Loss and gradient of the 1-D linear model ``y_hat = w x + b``.

    .. math:: L = \frac1N \sum_n (w x_n + b - y_n)^2, \quad
              \frac{\partial L}{\partial w} = \frac2N \sum_n r_n x_n, \quad
              \frac{\partial L}{\partial b} = \frac2N \sum_n r_n

    with residuals ``r_n = w x_n + b - y_n``. Returns ``(L, dL/dw, dL/db)``.
    """
    x, y = _as_vectors(x, y)
    r = w * x + b - y  # (N,) residuals (残差)
    return float(np.mean(r**2)), float(2.0 * np.mean(r * x)), float(2.0 * np.mean(r))


@dataclass(frozen=True)
class LinearFitState:
    """Everything the explorer shows for one slider setting ``(w, b)``."""

    w: float
    b: float
    loss: float          # MSE at (w, b)
    grad_w: float        # dL/dw
    grad_b: float        # dL/db
    w_opt: float         # least-squares optimum
    b_opt: float
    loss_opt: float      # the lowest MSE any line reaches on this data
    distance: float      # |(w, b) - (w*, b*)|
    residuals: np.ndarray  # (N,) w x + b - y


def linear_fit_state(w: float, b: float, x, y, optimum: tuple[float, float] | None = None) -> LinearFitState:
    """Loss, gradient and distance to the optimum for the line ``w x + b`` on data ``(x, y)``.

    ``optimum`` may pass a precomputed ``least_squares_line(x, y)`` (the
    explorer computes it once); by default it is computed here.
    """
    x, y = _as_vectors(x, y)
    w, b = float(w), float(b)
    w_opt, b_opt = least_squares_line(x, y) if optimum is None else (float(optimum[0]), float(optimum[1]))
    loss, gw, gb = mse_and_gradient(w, b, x, y)
    loss_opt = mse_and_gradient(w_opt, b_opt, x, y)[0]
    return LinearFitState(
        w=w, b=b, loss=loss, grad_w=gw, grad_b=gb,
        w_opt=w_opt, b_opt=b_opt, loss_opt=loss_opt,
        distance=float(np.hypot(w - w_opt, b - b_opt)),
        residuals=w * x + b - y,
    )


@dataclass(frozen=True)
class LossSurface:
    """The MSE on a grid of ``(w, b)`` values: ``loss[i, j]`` is at ``(w_grid[j], b_grid[i])``."""

    w_grid: np.ndarray  # (n,)
    b_grid: np.ndarray  # (n,)
    loss: np.ndarray    # (n, n)


def loss_surface(x, y, w_range: tuple[float, float], b_range: tuple[float, float], n: int = 81) -> LossSurface:
    """MSE of every line ``w x + b`` on an ``n`` x ``n`` grid (computed once, then only drawn)."""
    x, y = _as_vectors(x, y)
    w_grid = np.linspace(w_range[0], w_range[1], n)
    b_grid = np.linspace(b_range[0], b_range[1], n)
    W, B = np.meshgrid(w_grid, b_grid)              # (n, n) each
    pred = W[..., None] * x + B[..., None]          # (n, n, N): every line at every x
    loss = np.mean((pred - y) ** 2, axis=-1)        # (n, n)
    return LossSurface(w_grid=w_grid, b_grid=b_grid, loss=loss)


# ---------------------------------------------------------------------------- drawing
# The draw_* helpers create the artists and return the ones that change with
# (w, b), so the explorer can update them in place (see LinearFitExplorer.update).
def draw_fit(ax, state: LinearFitState, x, y, ylim: tuple[float, float] | None = None,
             legend: bool = True) -> dict:
    """Data, the best line, the current line and its residuals (vertical segments) on ``ax``.

    Returns the artists that depend on ``(w, b)``: ``{"line", "residuals", "title"}``.
    """
    x, y = _as_vectors(x, y)
    xs = np.array([x.min(), x.max()])
    residuals = ax.vlines(x, y, y + state.residuals, colors="0.45", linewidth=1.2, label="residuals")
    ax.scatter(x, y, s=18, color=COLORS[0], zorder=3, label="data")
    ax.plot(xs, state.w_opt * xs + state.b_opt, color=COLORS[2], linestyle="--", linewidth=1.5,
            label="best line (least squares)")
    (line,) = ax.plot(xs, state.w * xs + state.b, color=COLORS[1], linewidth=2.5, label="current line w·x + b")
    if ylim is None:
        pad = 0.15 * (y.max() - y.min() + 1e-12)
        ylim = (y.min() - pad, y.max() + pad)
    ax.set_xlim(xs[0] - 0.05 * (xs[1] - xs[0]), xs[1] + 0.05 * (xs[1] - xs[0]))
    ax.set_ylim(*ylim)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    title = ax.set_title(_fit_title(state))
    if legend:
        ax.legend(loc="upper left", fontsize=9)
    return {"line": line, "residuals": residuals, "title": title}


def _fit_title(state: LinearFitState) -> str:
    return f"w = {state.w:.2f}, b = {state.b:.2f}:  MSE = {state.loss:.3f}"


def _step(state: LinearFitState, lr: float) -> tuple[float, float]:
    """The gradient-descent step -lr * (dL/dw, dL/db)."""
    return -lr * state.grad_w, -lr * state.grad_b


def draw_loss_surface(ax, surface: LossSurface, state: LinearFitState, lr: float = 0.1,
                      legend: bool = True, colorbar: bool = False) -> dict:
    """Contours of the MSE over ``(w, b)``, the optimum, the current point and one GD step.

    The arrow is the negative gradient scaled by ``lr``: where one step of
    gradient descent with that learning rate would move ``(w, b)``. The
    contour levels are log-spaced (each about the same factor above the one
    inside it); ``colorbar=True`` adds a colour bar with their values. ``w``
    and ``b`` share one scale, so the gradient looks perpendicular to the
    contours, as it is.
    Returns the artists that depend on ``(w, b)``: ``{"point", "arrow"}``.
    """
    lo = max(float(surface.loss.min()), 1e-12)
    top = max(float(surface.loss.max()) / lo, 1.1)  # (a flat surface still gets increasing levels)
    levels = lo * np.geomspace(1.05, top, 12)  # log-spaced, so the floor of the bowl shows
    filled = ax.contourf(surface.w_grid, surface.b_grid, surface.loss, levels=np.concatenate([[0.0], levels]),
                         cmap="Blues_r", alpha=0.55, extend="max")
    ax.contour(surface.w_grid, surface.b_grid, surface.loss, levels=levels, colors="0.35", linewidths=0.7)
    ax.plot(state.w_opt, state.b_opt, marker="*", markersize=15, color=COLORS[2], markeredgecolor="k",
            linestyle="none", label="optimum (w*, b*)")
    (point,) = ax.plot(state.w, state.b, marker="o", markersize=9, color=COLORS[1], markeredgecolor="k",
                       linestyle="none", label="current (w, b)")
    dw, db = _step(state, lr)
    arrow = ax.quiver([state.w], [state.b], [dw], [db], angles="xy", scale_units="xy", scale=1.0,
                      color=COLORS[3], width=0.012, zorder=4, label=f"one GD step: -{lr:g} · gradient")
    arrow.set_visible(bool(np.hypot(dw, db) > 1e-9))
    ax.set_xlim(surface.w_grid[0], surface.w_grid[-1])
    ax.set_ylim(surface.b_grid[0], surface.b_grid[-1])
    ax.set_aspect("equal")  # one unit of w = one unit of b: right angles look right
    ax.set_xlabel("weight w")
    ax.set_ylabel("bias b")
    ax.set_title("MSE over (w, b): log-spaced contours")
    if colorbar:
        bar = ax.figure.colorbar(filled, ax=ax, ticks=levels[::2], format="%.2g")
        bar.set_label("MSE (contour levels)")
    if legend:
        ax.legend(loc="upper right", fontsize=9, framealpha=0.9)
    return {"point": point, "arrow": arrow}


class LinearFitExplorer(Explorer):
    """Sliders for the weight ``w`` and bias ``b`` of ``y_hat = w x + b`` against ``make_line`` data.

    Left: the data, the current line and its residuals. Right: the MSE over
    ``(w, b)`` as contours, the current point and the negative gradient drawn
    as one gradient-descent step of learning rate ``lr``. The status line gives
    the MSE, the gradient and the distance to the least-squares optimum.

    Speed: the figure is built once (``setup``); a redraw only moves the line,
    the residuals, the point and the arrow (``update``) over the saved
    background (see :class:`~course_lib.plotting.BlitFigure`).
    """

    fig_width = 10.0
    fig_height = 4.6

    def __init__(self, x=None, y=None, w_range: tuple[float, float] = (-1.0, 5.0),
                 b_range: tuple[float, float] = (-4.0, 2.0), w: float = 0.0, b: float = 0.0,
                 lr: float = 0.1) -> None:
        if x is None and y is None:
            x, y = make_line()
        elif x is None or y is None:
            raise ValueError("LinearFitExplorer: pass both x and y, or neither (default: make_line())")
        self.x, self.y = _as_vectors(x, y)
        self.lr = float(lr)
        self.optimum = least_squares_line(self.x, self.y)
        self.surface = loss_surface(self.x, self.y, w_range, b_range)
        pad = 0.15 * (self.y.max() - self.y.min() + 1e-12)
        self.ylim = (float(self.y.min() - pad), float(self.y.max() + pad))
        style = {"description_width": "70px"}
        controls = {
            "w": widgets.FloatSlider(value=w, min=w_range[0], max=w_range[1], step=0.05, description="weight w",
                                     readout_format=".2f", style=style),
            "b": widgets.FloatSlider(value=b, min=b_range[0], max=b_range[1], step=0.05, description="bias b",
                                     readout_format=".2f", style=style),
        }
        super().__init__(controls)

    def compute(self, w: float, b: float) -> LinearFitState:
        return linear_fit_state(w, b, self.x, self.y, optimum=self.optimum)

    def setup(self, fig, state: LinearFitState) -> dict:
        """The whole picture; returns the artists that move with ``(w, b)``."""
        ax_fit, ax_loss = fig.subplots(1, 2)
        artists = draw_fit(ax_fit, state, self.x, self.y, ylim=self.ylim, legend=False)
        artists.update(draw_loss_surface(ax_loss, self.surface, state, lr=self.lr, legend=False))
        handles = [*ax_fit.get_legend_handles_labels()[0], *ax_loss.get_legend_handles_labels()[0]]
        fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=10, frameon=False)
        return artists

    def update(self, artists: dict, state: LinearFitState) -> list:
        a = artists
        xs = a["line"].get_xdata()
        a["line"].set_ydata(state.w * xs + state.b)
        a["residuals"].set_segments([[(xi, yi), (xi, yi + ri)] for xi, yi, ri in zip(self.x, self.y, state.residuals)])
        a["title"].set_text(_fit_title(state))
        a["point"].set_data([state.w], [state.b])
        dw, db = _step(state, self.lr)
        a["arrow"].set_offsets([[state.w, state.b]])
        a["arrow"].set_UVC([dw], [db])
        a["arrow"].set_visible(bool(np.hypot(dw, db) > 1e-9))
        return list(a.values())

    def status_text(self, state: LinearFitState) -> str:
        text = (f"MSE <b>{state.loss:.4f}</b> (best possible {state.loss_opt:.4f}) · "
                f"gradient (∂L/∂w, ∂L/∂b) = ({state.grad_w:+.3f}, {state.grad_b:+.3f}) · "
                f"distance to the optimum (w*, b*) = ({state.w_opt:.3f}, {state.b_opt:.3f}): {state.distance:.3f}")
        if state.distance < 0.05:
            text += " · <b>at the bottom of the bowl: the gradient is almost zero</b>"
        return text
