"""Gradient clipping (勾配クリッピング), PyTorch's ``torch.nn.utils.clip_grad_norm_``.

LLM training calls ``clip_grad_norm_(model.parameters(), 1.0)`` between
``backward`` and ``optimizer.step()``: if the gradient of all parameters,
seen as one long vector, is longer than ``max_norm``, it is scaled down to
length ``max_norm``. Its direction is kept; a rare huge gradient (a loss
spike) can no longer throw the weights far away.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..nn.parameter import Parameter


def _grads(parameters) -> list[np.ndarray]:
    if isinstance(parameters, Parameter):
        parameters = [parameters]
    return [p.grad for p in parameters if p.requires_grad]


def clip_grad_norm_(parameters: Iterable[Parameter] | Parameter, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Scale all gradients together so that their total norm is at most ``max_norm``.

    ::

        total_norm = norm of (norm(p.grad) for every p)      (the norm of all entries as one vector)
        clip_coef  = min(max_norm / (total_norm + 1e-6), 1)
        p.grad     = p.grad * clip_coef                      (in place, every p)

    Returns ``total_norm`` (a float) **before** clipping: log it, a rising
    gradient norm is an early sign of unstable training. ``norm_type`` may be
    ``float("inf")`` (largest absolute entry). A non-finite total norm raises
    ``RuntimeError`` if ``error_if_nonfinite``, otherwise the gradients become
    NaN, as in PyTorch.
    """
    grads = _grads(parameters)
    norm_type = float(norm_type)
    if len(grads) == 0:
        return 0.0
    with np.errstate(over="ignore"):  # a huge gradient gives total_norm = inf, as in PyTorch
        norms = [np.linalg.norm(g.ravel(), norm_type) if g.size else 0.0 for g in grads]
        total_norm = float(np.linalg.norm(np.array(norms), norm_type))
    if error_if_nonfinite and not math.isfinite(total_norm):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            "so it cannot be clipped. To disable this error and scale the gradients by the "
            "non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    clip_coef = float(max_norm) / (total_norm + 1e-6)
    if not clip_coef >= 1.0:  # clip (a NaN coefficient too: the gradients become NaN, as in PyTorch)
        with np.errstate(invalid="ignore"):
            for g in grads:
                g *= clip_coef
    return total_norm


def clip_grad_value_(parameters: Iterable[Parameter] | Parameter, clip_value: float) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]`` in place (PyTorch: same name)."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g, -clip_value, clip_value, out=g)
