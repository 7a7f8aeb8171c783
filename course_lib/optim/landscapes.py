"""Toy 2-D loss landscapes (損失関数の地形) for watching optimizers move.

Each landscape is a :class:`Landscape`: a function f(x, y), its gradient, a
default starting point, a plot window that shows the interesting part, and
its minima. ``value`` and ``gradient`` broadcast over numpy arrays, so the same
function evaluates one point (inside an optimizer loop) or a whole grid (for
a contour plot)::

    land = rosenbrock()
    X, Y, Z = land.grid(200)          # contour data over land.xlim x land.ylim
    gx, gy = land.gradient(-1.2, 1.0)

Three classic shapes, each showing one difficulty:

* :func:`ill_conditioned_quadratic` - a long narrow valley: plain gradient
  descent zig-zags across it; momentum and Adam do not.
* :func:`rosenbrock` - a curved banana-shaped valley with a flat floor.
* :func:`saddle` - a saddle point between two minima: the gradient is almost
  zero near it, so plain gradient descent stalls before escaping.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Landscape:
    """A 2-D loss surface with everything needed to run and plot an optimizer on it.

    Attributes
    ----------
    name : str
        Identifier, e.g. ``"rosenbrock"`` (the key in :data:`LANDSCAPES`).
    title : str
        Human-readable title with the formula, for plots.
    value : callable (x, y) -> f
        The loss; broadcasts over arrays.
    gradient : callable (x, y) -> (df/dx, df/dy)
        Its gradient; broadcasts over arrays.
    start : (float, float)
        Default starting point.
    xlim, ylim : (float, float)
        A plot window showing the start, the minima and the way between.
    minima : tuple of (float, float)
        The minimum points (both minima for the saddle landscape).
    min_value : float
        f at the minima.
    stability_lr : float or None
        For a quadratic: the largest learning rate for which plain gradient
        descent converges, 2 / (largest curvature). None otherwise.
    """

    name: str
    title: str
    value: Callable
    gradient: Callable
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    min_value: float
    stability_lr: float | None = None

    def __call__(self, x, y):
        return self.value(x, y)

    def grid(self, n: int = 200):
        """``(X, Y, Z)``: an ``n x n`` grid over the plot window and f on it (for ``contour``)."""
        X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return X, Y, self.value(X, Y)


def ill_conditioned_quadratic(curvatures: tuple[float, float] = (0.5, 10.0)) -> Landscape:
    """``f(x, y) = (h1 * x**2 + h2 * y**2) / 2`` with curvatures ``(h1, h2)``.

    The default (0.5, 10) is a valley 20 times steeper across (y) than along
    (x): the condition number (条件数) is 20. Gradient descent converges iff
    ``lr < 2 / max(h1, h2)`` (0.2 by default); each coordinate is multiplied
    by ``(1 - lr * h)`` per step, so just below the limit y flips sign every
    step (zig-zag) while x creeps along the valley.
    """
    h1, h2 = float(curvatures[0]), float(curvatures[1])
    if not (h1 > 0 and h2 > 0):
        raise ValueError(f"ill_conditioned_quadratic: curvatures must be positive, got {curvatures}")

    def value(x, y):
        return 0.5 * (h1 * x * x + h2 * y * y)

    def gradient(x, y):
        return h1 * x, h2 * y

    return Landscape(
        name="ill_conditioned_quadratic",
        title=f"Ill-conditioned quadratic  f = ({h1:g} x² + {h2:g} y²) / 2",
        value=value, gradient=gradient,
        start=(-4.5, 2.0), xlim=(-5.0, 5.0), ylim=(-3.0, 3.0),
        minima=((0.0, 0.0),), min_value=0.0,
        stability_lr=2.0 / max(h1, h2),
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """``f(x, y) = (a - x)**2 + b * (y - x**2)**2``, minimum 0 at ``(a, a**2)``.

    The classic test function: a curved valley along ``y = x**2`` with steep
    walls (curvature up to about 1000 near the minimum, so gradient descent
    needs ``lr`` around 1e-3) and a nearly flat floor (so it then crawls).
    Default start (-1.2, 1), the traditional one.
    """
    a, b = float(a), float(b)

    def value(x, y):
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def gradient(x, y):
        r = y - x * x
        return -2.0 * (a - x) - 4.0 * b * x * r, 2.0 * b * r

    return Landscape(
        name="rosenbrock",
        title=f"Rosenbrock  f = ({a:g} - x)² + {b:g} (y - x²)²",
        value=value, gradient=gradient,
        start=(-1.2, 1.0), xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
        minima=((a, a * a),), min_value=0.0,
    )


def saddle() -> Landscape:
    """``f(x, y) = x**2 / 2 + y**4 / 4 - y**2 / 2``: a saddle at (0, 0) between minima (0, ±1).

    Along x the origin is a valley floor, along y a ridge top. The default
    start (-2.5, 0.01) lies almost on the ridge line: the gradient first
    pulls the point to the saddle, where it is nearly zero, and only the tiny
    y offset, growing by a factor (1 + lr) per step, lets it escape to the
    minimum (0, 1). From y = 0 exactly, gradient descent never escapes.
    """

    def value(x, y):
        y2 = y * y
        return 0.5 * x * x + 0.25 * y2 * y2 - 0.5 * y2

    def gradient(x, y):
        return x, y * y * y - y

    return Landscape(
        name="saddle",
        title="Saddle  f = x²/2 + y⁴/4 - y²/2",
        value=value, gradient=gradient,
        start=(-2.5, 0.01), xlim=(-3.0, 3.0), ylim=(-2.0, 2.0),
        minima=((0.0, 1.0), (0.0, -1.0)), min_value=-0.25,
    )


#: The landscapes by name, each a function returning a :class:`Landscape` with default settings.
LANDSCAPES: dict[str, Callable[[], Landscape]] = {
    "ill_conditioned_quadratic": ill_conditioned_quadratic,
    "rosenbrock": rosenbrock,
    "saddle": saddle,
}


def get_landscape(name: str | Landscape) -> Landscape:
    """The landscape called ``name`` (a :class:`Landscape` is returned unchanged)."""
    if isinstance(name, Landscape):
        return name
    try:
        return LANDSCAPES[name]()
    except (KeyError, TypeError):
        raise ValueError(f"unknown landscape {name!r}; choose one of {sorted(LANDSCAPES)}") from None
