"""SGD: (stochastic) gradient descent, with optional momentum and weight decay."""
from __future__ import annotations

from typing import Callable, Iterable

from .optimizer import Optimizer, _check_nonnegative


class SGD(Optimizer):
    """Stochastic gradient descent (確率的勾配降下法), PyTorch's ``torch.optim.SGD``.

    The update, for each parameter ``p`` with gradient ``g`` at step t = 1, 2, ...::

        g = g + weight_decay * p                         (L2 penalty, if weight_decay != 0)
        if momentum != 0:
            b = g                                         (t = 1: the buffer starts at g)
            b = momentum * b + (1 - dampening) * g        (t > 1)
            g = g + momentum * b   if nesterov   else   g = b
        p = p - lr * g

    With ``momentum=0`` this is plain gradient descent ``p = p - lr * g``.
    ``b`` (the "velocity" of the heavy ball) is kept in
    ``optimizer.state[p]["momentum_buffer"]``.

    Parameters
    ----------
    params : iterable of Parameter or of dict (parameter groups)
    lr : float, default 1e-3 (PyTorch 2.x's default)
    momentum : float, default 0
    dampening : float, default 0
        Scales the new gradient's share of the buffer: ``(1 - dampening) * g``.
    weight_decay : float, default 0
        L2 penalty coefficient, added to the gradient (a copy: ``p.grad`` is
        never modified).
    nesterov : bool, default False
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    """

    def __init__(self, params: Iterable, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov)
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        _check_nonnegative("SGD", group["lr"], "learning rate")
        _check_nonnegative("SGD", group["momentum"], "momentum value")
        _check_nonnegative("SGD", group["weight_decay"], "weight_decay value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure: Callable[[], float] | None = None):
        """Update every parameter once; returns ``closure()`` if given (else None)."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p in self._params_with_grad(group):
                grad = p.grad
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data          # new array, p.grad untouched
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = grad.copy()
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * grad
                    grad = grad + momentum * buf if nesterov else buf
                p.data -= lr * grad
        return loss
