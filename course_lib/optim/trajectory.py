"""Run a real course_lib optimizer on a 2-D landscape and judge the run.

:func:`optimizer_trajectory` is the pure function behind the optimizer
explorer of notebook 03: it puts the point (x, y) in a :class:`Parameter`,
and for each step writes the landscape's gradient into ``.grad`` and calls
the very ``SGD`` / ``RMSprop`` / ``Adam`` / ``AdamW`` classes used to train
networks. It returns the path, the loss per step and a verdict.

Verdicts (thresholds are module constants, tested in tests/test_optim.py):

``"diverged"``
    The point left the *divergence box*: the plot window enlarged
    ``DIVERGENCE_FACTOR`` (10) times around its centre (or a step overflowed).
    The run stops right there, so no inf/NaN is ever computed and no warning
    is printed; ``step`` is the update that escaped.
``"converged"``
    The last point is within ``CONVERGENCE_TOL`` (1e-3) x the window's
    diagonal of a minimum, and the last step was shorter than that too.
    ``step`` is the first step from which the point stayed that close.
``"oscillating"``
    Not converged, and in the second half of the run at least
    ``OSCILLATION_FRACTION`` (30 %) of the steps either reverse direction
    (the step makes an obtuse angle with the previous one: a zig-zag) or
    increase the loss.
``"slow"``
    None of the above: the point moves steadily but has not reached a
    minimum yet (too small a learning rate, too few steps, or stuck on a saddle).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..nn.parameter import Parameter
from .adam import Adam, AdamW
from .landscapes import Landscape, get_landscape
from .rmsprop import RMSprop
from .sgd import SGD

DIVERGENCE_FACTOR = 10.0      # divergence box = plot window scaled by this around its centre
CONVERGENCE_TOL = 1e-3        # x window diagonal: "at the minimum"
OSCILLATION_FRACTION = 0.3    # share of zig-zag or loss-raising steps in the second half

#: Names accepted by :func:`optimizer_trajectory` (case-insensitive).
OPTIMIZER_NAMES = ("SGD", "Nesterov", "RMSprop", "Adam", "AdamW")


@dataclass(frozen=True)
class Trajectory:
    """The result of :func:`optimizer_trajectory`.

    positions : (n + 1, 2) array, the start then the point after each of the n steps run
        (n = ``steps``, or fewer if the run diverged; the escaping point is
        included when its loss is finite).
    losses : (n + 1,) array, f at each position.
    verdict : ``"converged"``, ``"oscillating"``, ``"diverged"`` or ``"slow"``.
    step : the step of the verdict (divergence, or convergence), else None.
    message : one line for a status display, e.g. ``"diverged at step 53 ..."``.
    """

    positions: np.ndarray
    losses: np.ndarray
    verdict: str
    step: int | None
    message: str

    @property
    def steps_run(self) -> int:
        return len(self.positions) - 1


def make_optimizer(optimizer_name: str, params, lr: float, momentum: float = 0.0, beta2: float = 0.999):
    """Build the named optimizer with the explorer's two knobs.

    ``momentum`` is SGD's momentum, RMSprop's momentum and Adam's beta1;
    ``beta2`` is Adam's beta2 and RMSprop's alpha. ``"Nesterov"`` is SGD with
    ``nesterov=True`` (plain SGD when momentum is 0). AdamW keeps its default
    ``weight_decay=1e-2``.
    """
    key = str(optimizer_name).lower()
    if key == "sgd":
        return SGD(params, lr=lr, momentum=momentum)
    if key == "nesterov":
        return SGD(params, lr=lr, momentum=momentum, nesterov=momentum > 0)
    if key == "rmsprop":
        return RMSprop(params, lr=lr, alpha=beta2, momentum=momentum)
    if key == "adam":
        return Adam(params, lr=lr, betas=(momentum, beta2))
    if key == "adamw":
        return AdamW(params, lr=lr, betas=(momentum, beta2))
    raise ValueError(f"unknown optimizer {optimizer_name!r}; choose one of {OPTIMIZER_NAMES}")


def optimizer_trajectory(landscape: str | Landscape, optimizer_name: str, lr: float, momentum: float = 0.0,
                         beta2: float = 0.999, steps: int = 100, start=None) -> Trajectory:
    """Run ``steps`` updates of a course_lib optimizer on a 2-D landscape.

    Parameters
    ----------
    landscape : a :class:`Landscape` or its name (``"ill_conditioned_quadratic"``,
        ``"rosenbrock"``, ``"saddle"``).
    optimizer_name : one of :data:`OPTIMIZER_NAMES`.
    lr : learning rate.
    momentum : SGD/RMSprop momentum, or Adam's beta1 (note: default 0).
    beta2 : Adam's beta2 / RMSprop's alpha.
    steps : number of updates.
    start : (x, y), default ``landscape.start``.

    Returns a :class:`Trajectory`. Never warns: divergence is detected before
    any overflow (see the module docstring for the verdict rules).
    """
    land = get_landscape(landscape)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"optimizer_trajectory: steps must be an int >= 0, got {steps!r}")
    steps = int(steps)
    start = np.array(land.start if start is None else start, dtype=np.float64)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"optimizer_trajectory: start must be a finite point (x, y), got {start!r}")

    point = Parameter(start)                           # the (x, y) being optimized, shape (2,)
    opt = make_optimizer(optimizer_name, [point], lr, momentum, beta2)
    (x0, x1), (y0, y1) = land.xlim, land.ylim
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    bx, by = DIVERGENCE_FACTOR * (x1 - x0) / 2, DIVERGENCE_FACTOR * (y1 - y0) / 2

    # A step on 2 numbers takes microseconds, so the loop itself must cost less: the
    # gradient goes into point.grad in place (no new array each step) and the path is
    # kept as plain Python floats (cheaper to store and compare than numpy scalars).
    path = [tuple(start.tolist())]                     # (x, y) after each step, start first
    n, diverged_at, overflow = steps, None, False
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for t in range(1, steps + 1):
            try:
                # numpy scalars, so that an overflow raises FloatingPointError
                point.grad[:] = land.gradient(point.data[0], point.data[1])
                opt.step()
            except FloatingPointError:  # only for absurd settings: the box check usually stops first
                n, diverged_at, overflow = t - 1, t, True
                break
            x, y = point.data.tolist()
            path.append((x, y))
            if not (abs(x - cx) <= bx and abs(y - cy) <= by):   # also catches NaN
                n, diverged_at = t, t
                break
    positions = np.array(path, dtype=np.float64)      # (n + 1, 2)
    with np.errstate(over="ignore", invalid="ignore"):
        losses = np.asarray(land.value(positions[:, 0], positions[:, 1]), dtype=np.float64)
    if not np.isfinite(losses[-1]):       # the escaping point is too far out to evaluate: drop it
        positions, losses = positions[:-1], losses[:-1]

    if diverged_at is not None:
        why = "a step overflowed" if overflow else f"left the region {DIVERGENCE_FACTOR:g}x the plot window"
        return Trajectory(positions, losses, "diverged", diverged_at, f"diverged at step {diverged_at} ({why})")
    verdict, step, message = judge_trajectory(land, positions, losses)
    return Trajectory(positions, losses, verdict, step, message)


def judge_trajectory(land: Landscape, positions: np.ndarray, losses: np.ndarray) -> tuple[str, int | None, str]:
    """The verdict on a path that stayed in the divergence box: converged, oscillating or slow.

    ``positions`` (n + 1, 2) and ``losses`` (n + 1,) are a run's points and
    their losses, start included (a :class:`Trajectory`'s fields). Returns
    ``(verdict, step, message)``: ``step`` is the step from which the point
    stayed at the minimum when converged, else None; ``message`` is the
    status line. The rules and thresholds are in the module docstring.
    :func:`optimizer_trajectory` calls it; the explorers call it again on the
    first steps of a longer run (the verdict of a shorter run).
    """
    n = len(positions) - 1
    minima = np.array(land.minima)                                         # (k, 2)
    dist = np.linalg.norm(positions[:, None, :] - minima[None], axis=2).min(axis=1)   # (n + 1,)
    tol = CONVERGENCE_TOL * math.hypot(land.xlim[1] - land.xlim[0], land.ylim[1] - land.ylim[0])
    moves = np.diff(positions, axis=0)                                     # (n, 2) the steps
    last_move = float(np.linalg.norm(moves[-1])) if n else 0.0
    if dist[-1] < tol and last_move < tol:
        outside = np.flatnonzero(dist >= tol)
        first_inside = int(outside[-1]) + 1 if len(outside) else 0
        return "converged", first_inside, f"converged at step {first_inside} (within {tol:.3g} of a minimum)"

    half = moves[n // 2:]                                                  # second half of the run
    if len(half) >= 2:
        reversals = np.mean(np.sum(half[1:] * half[:-1], axis=1) < 0)
        rises = np.mean(np.diff(losses[n // 2:]) > 0)
        share = max(reversals, rises)
        if share >= OSCILLATION_FRACTION:
            kind = "reverse direction" if reversals >= rises else "raise the loss"
            return ("oscillating", None,
                    f"oscillating: {share:.0%} of the last {len(half)} steps {kind}; "
                    f"still {dist[-1]:.3g} from a minimum")
    return "slow", None, f"too slow: still {dist[-1]:.3g} from a minimum after {n} steps"
