"""Adam and AdamW: momentum plus per-entry step sizes, with bias correction."""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .optimizer import Optimizer, _check_nonnegative


class Adam(Optimizer):
    """Adam, PyTorch's ``torch.optim.Adam``.

    Adam keeps two running means per entry: ``m`` of the gradient (momentum)
    and ``v`` of its square (as RMSprop). Both start at zero, so early on they
    are too small; dividing by ``1 - beta**t`` (bias correction) undoes that.

    The update, for each parameter ``p`` with gradient ``g`` at step t = 1, 2, ...
    (entry by entry; ``m`` and ``v`` start at zero)::

        if weight_decay != 0:
            g = g + weight_decay * p             (Adam: L2 penalty added to the gradient)
          or, with decoupled_weight_decay=True (AdamW):
            p = p * (1 - lr * weight_decay)      (shrink the weights, before the Adam step)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)               (bias correction)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    State per parameter (as PyTorch): ``"step"`` (t), ``"exp_avg"`` (m),
    ``"exp_avg_sq"`` (v).

    Parameters
    ----------
    params : iterable of Parameter or of dict (parameter groups)
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999); each in [0, 1)
    eps : float, default 1e-8
    weight_decay : float, default 0
    decoupled_weight_decay : bool, keyword-only, default False
        True gives AdamW (PyTorch >= 2.6 has the same switch).
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, *,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay)
        self._check_group(defaults)
        defaults["betas"] = (float(betas[0]), float(betas[1]))
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        name = type(self).__name__
        _check_nonnegative(name, group["lr"], "learning rate")
        _check_nonnegative(name, group["eps"], "epsilon value")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: Invalid beta parameter at index {i}: {beta}")
        _check_nonnegative(name, group["weight_decay"], "weight_decay value")

    def step(self, closure: Callable[[], float] | None = None):
        """Update every parameter once; returns ``closure()`` if given (else None)."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            weight_decay, decoupled = group["weight_decay"], group["decoupled_weight_decay"]
            for p in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = np.zeros_like(p.data)       # m
                    state["exp_avg_sq"] = np.zeros_like(p.data)    # v
                state["step"] += 1
                t = state["step"]

                grad = p.grad
                if weight_decay != 0:
                    if decoupled:
                        p.data *= 1 - lr * weight_decay            # AdamW: decay the weights
                    else:
                        grad = grad + weight_decay * p.data        # Adam: L2 (new array)

                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg *= beta1
                exp_avg += (1 - beta1) * grad
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * grad * grad

                # lr * m_hat / (sqrt(v_hat) + eps), grouped as PyTorch computes it
                bias_correction1 = 1 - beta1 ** t
                bias_correction2 = 1 - beta2 ** t
                step_size = lr / bias_correction1
                denom = np.sqrt(exp_avg_sq) / np.sqrt(bias_correction2) + eps
                p.data -= step_size * (exp_avg / denom)
        return loss


class AdamW(Adam):
    """AdamW, PyTorch's ``torch.optim.AdamW``: Adam with *decoupled* weight decay.

    Identical to Adam except for weight decay: instead of adding
    ``weight_decay * p`` to the gradient (where Adam's per-entry scaling would
    shrink it for entries with large gradients), the weights themselves shrink
    by a fixed fraction before each Adam step::

        p = p * (1 - lr * weight_decay)
        ... then the Adam update of ``Adam``'s docstring, with g unchanged.

    The default ``weight_decay=1e-2`` is PyTorch's; GPT-style training uses
    0.1 on weight matrices and 0 on biases and normalization gains (two
    parameter groups).
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         decoupled_weight_decay=True)
