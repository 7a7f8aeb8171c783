"""Learning-rate schedules (学習率スケジュール), PyTorch's ``torch.optim.lr_scheduler``.

A schedule is a function of the step index ``s`` = the number of optimizer
steps already taken. The convention (PyTorch's):

* Creating a scheduler sets every group's ``lr`` to the schedule's value at
  ``s = 0`` (``last_epoch = 0``), so the **first** ``optimizer.step()`` uses
  ``lr(0)``.
* Call ``scheduler.step()`` **after** ``optimizer.step()``, once per step::

      for s in range(total_steps):
          opt.zero_grad(); ...backward...; opt.step()   # uses lr(s)
          scheduler.step()                              # sets lr(s + 1)

* ``scheduler.last_epoch`` is ``s`` and ``scheduler.get_last_lr()`` the list
  of per-group rates the next ``optimizer.step()`` will use.

Each scheduler computes its value in closed form from ``base_lrs`` (each
group's ``lr`` when the scheduler was created, kept in
``group["initial_lr"]``). PyTorch computes some schedules recursively from the
current ``lr`` instead; the values agree (tests compare them to 1e-12), but
here changing ``group["lr"]`` by hand is overwritten at the next ``step()``.

The schedule LLM pre-training uses, linear warmup then cosine decay, is
:func:`warmup_cosine_lr` (a plain function, also vectorized over steps, for
plots) and :class:`WarmupCosineLR` (the same values as a scheduler).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from .optimizer import Optimizer


class LRScheduler:
    """Base class (PyTorch: ``torch.optim.lr_scheduler.LRScheduler``).

    Subclasses implement :meth:`get_lr`: the per-group rates at ``self.last_epoch``.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] "
                        "when resuming a scheduler with last_epoch >= 0"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()  # last_epoch -1 -> 0: set lr(0)

    def get_lr(self) -> list[float]:  # pragma: no cover - abstract
        """The learning rate of each parameter group at step ``self.last_epoch``."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step (call it after ``optimizer.step()``) and set the new rates."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates set by the last ``step()``: what the next ``optimizer.step()`` uses."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer (PyTorch: same)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


class LambdaLR(LRScheduler):
    """``lr(s) = base_lr * lr_lambda(s)`` (PyTorch: ``LambdaLR``).

    ``lr_lambda`` is a function of the step index, or a list with one
    function per parameter group.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n_groups
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class LinearLR(LRScheduler):
    """Multiply the rate by a factor going linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` steps, then constant (PyTorch: ``LinearLR``)::

        lr(s) = base_lr * (start_factor + (end_factor - start_factor) * min(s, total_iters) / total_iters)
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        fraction = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * fraction
        return [base_lr * factor for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` steps
    (PyTorch: ``CosineAnnealingLR``, its closed form)::

        lr(s) = eta_min + (base_lr - eta_min) * (1 + cos(pi * s / T_max)) / 2

    ``lr(0) = base_lr``, ``lr(T_max) = eta_min``. Beyond ``T_max`` the cosine
    goes on and the rate climbs back up, as PyTorch's does; for "decay, then
    stay at the floor" use :class:`WarmupCosineLR`.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]


def warmup_cosine_lr(step, *, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
    """Linear warmup then cosine decay: the learning rate at step index ``step``.

    ``step`` = number of optimizer steps already taken (0 for the first
    update); an int gives a float, an array of steps gives an array (for plots)::

        s < warmup_steps:                 lr = max_lr * (s + 1) / (warmup_steps + 1)
        warmup_steps <= s <= total_steps: lr = min_lr + (max_lr - min_lr) * (1 + cos(pi * p)) / 2,
                                          p = (s - warmup_steps) / (total_steps - warmup_steps)
        s > total_steps:                  lr = min_lr

    So the first update already moves (``lr(0) = max_lr / (warmup_steps + 1)``,
    never 0), the rate rises strictly to its peak ``lr(warmup_steps) = max_lr``
    exactly at the end of warmup (reached once, no plateau), falls to
    ``lr(total_steps) = min_lr`` and stays there. ``warmup_steps=0`` is pure
    cosine decay. (nanoGPT's ``get_lr`` uses the same warmup convention.)
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"warmup_cosine_lr: need 0 <= warmup_steps < total_steps, got warmup_steps={warmup_steps}, "
            f"total_steps={total_steps}"
        )
    if not 0.0 <= min_lr <= max_lr:
        raise ValueError(f"warmup_cosine_lr: need 0 <= min_lr <= max_lr, got min_lr={min_lr}, max_lr={max_lr}")
    s = np.asarray(step, dtype=np.float64)
    if np.any(s < 0):
        raise ValueError(f"warmup_cosine_lr: step must be >= 0, got {step}")
    warmup = max_lr * (s + 1) / (warmup_steps + 1)
    progress = np.clip((s - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    cosine = min_lr + (max_lr - min_lr) * (1 + np.cos(np.pi * progress)) / 2
    lr = np.where(s < warmup_steps, warmup, cosine)
    return float(lr) if lr.ndim == 0 else lr


class WarmupCosineLR(LRScheduler):
    """:func:`warmup_cosine_lr` as a scheduler, with each group's ``lr`` as ``max_lr``.

    The values equal PyTorch's ``LambdaLR`` with the lambda
    ``lambda s: warmup_cosine_lr(s, max_lr=1.0, ...)`` (for ``min_lr=0``), and
    follow the module's convention: ``lr(0)`` right after construction,
    ``scheduler.step()`` after each ``optimizer.step()``. ``min_lr`` is an
    absolute floor shared by all groups (like ``CosineAnnealingLR``'s ``eta_min``).
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.min_lr = min_lr
        for group in optimizer.param_groups:  # fail now, not at the first step
            warmup_cosine_lr(0, max_lr=group.get("initial_lr", group["lr"]), warmup_steps=warmup_steps,
                             total_steps=total_steps, min_lr=min_lr)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [warmup_cosine_lr(self.last_epoch, max_lr=base_lr, warmup_steps=self.warmup_steps,
                                 total_steps=self.total_steps, min_lr=self.min_lr)
                for base_lr in self.base_lrs]
