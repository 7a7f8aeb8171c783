"""RMSprop: divide each gradient entry by a running root-mean-square of its past values."""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .optimizer import Optimizer, _check_nonnegative


class RMSprop(Optimizer):
    """RMSprop, PyTorch's ``torch.optim.RMSprop``.

    Each entry of a parameter gets its own step size: the gradient is divided
    by the root of a running mean of its squares, so entries with large
    gradients take smaller steps and entries with small gradients larger ones.

    The update, for each parameter ``p`` with gradient ``g`` (all operations
    entry by entry; ``v``, ``g_avg``, ``b`` start at zero)::

        g = g + weight_decay * p                        (L2 penalty, if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g**2              (running mean of squares)
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g     (running mean)
            avg = sqrt(v - g_avg**2) + eps              (running standard deviation)
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    State per parameter (as PyTorch): ``"step"``, ``"square_avg"`` (v),
    ``"momentum_buffer"`` (b, if momentum > 0), ``"grad_avg"`` (g_avg, if centered).

    Parameters
    ----------
    params : iterable of Parameter or of dict (parameter groups)
    lr : float, default 0.01
    alpha : float, default 0.99 (smoothing constant of the running means)
    eps : float, default 1e-8 (keeps the division finite)
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
    """

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                        centered=centered, weight_decay=weight_decay)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        _check_nonnegative("RMSprop", group["lr"], "learning rate")
        _check_nonnegative("RMSprop", group["eps"], "epsilon value")
        _check_nonnegative("RMSprop", group["momentum"], "momentum value")
        _check_nonnegative("RMSprop", group["weight_decay"], "weight_decay value")
        _check_nonnegative("RMSprop", group["alpha"], "alpha value")

    def step(self, closure: Callable[[], float] | None = None):
        """Update every parameter once; returns ``closure()`` if given (else None)."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["square_avg"] = np.zeros_like(p.data)
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if centered:
                        state["grad_avg"] = np.zeros_like(p.data)
                state["step"] += 1

                grad = p.grad
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data          # new array, p.grad untouched

                square_avg = state["square_avg"]                   # v
                square_avg *= alpha
                square_avg += (1 - alpha) * grad * grad
                if centered:
                    grad_avg = state["grad_avg"]
                    grad_avg *= alpha
                    grad_avg += (1 - alpha) * grad
                    avg = np.sqrt(square_avg - grad_avg * grad_avg) + eps
                else:
                    avg = np.sqrt(square_avg) + eps

                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += grad / avg
                    p.data -= lr * buf
                else:
                    p.data -= lr * (grad / avg)
        return loss
