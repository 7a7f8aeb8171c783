"""Loss functions. Called like PyTorch's: ``loss = criterion(prediction, target)``.

A loss returns a Python ``float`` (the mean over the batch); ``backward()``
(with the upstream gradient ``grad_out=1.0``) returns dLoss/dPrediction, the
starting point of backpropagation.
"""
from __future__ import annotations

import numpy as np

from . import functional as F
from .module import Module


class MSELoss(Module):
    r"""Mean squared error, PyTorch's ``nn.MSELoss()`` (reduction='mean').

    .. math:: L = \frac{1}{M} \sum_i (\hat y_i - y_i)^2, \qquad
              \frac{\partial L}{\partial \hat y_i} = \frac{2}{M} (\hat y_i - y_i)

    ``input`` and ``target`` must have the **same shape** (M elements in all).
    Unlike PyTorch, which only warns, a shape mismatch is an error here: a
    (N, 1) prediction against a (N,) target silently broadcasts to (N, N).
    """

    def __init__(self) -> None:
        super().__init__()
        self._diff = None

    def forward(self, input: np.ndarray, target: np.ndarray) -> float:
        input, target = np.asarray(input), np.asarray(target)
        if input.shape != target.shape:
            raise ValueError(
                f"MSELoss expects input and target of the same shape, got input {input.shape} "
                f"and target {target.shape} (reshape one of them; broadcasting here is almost always a bug)"
            )
        if not np.issubdtype(input.dtype, np.floating):
            raise TypeError(f"MSELoss expects a floating-point input, got dtype {input.dtype}")
        self._diff = input - target
        return float(np.mean(self._diff**2))

    def backward(self, grad_out: float = 1.0) -> np.ndarray:
        diff = self._require_cache(self._diff)
        return (2.0 * float(grad_out) / diff.size) * diff


class CrossEntropyLoss(Module):
    r"""Cross-entropy from logits and integer class targets, PyTorch's ``nn.CrossEntropyLoss()``.

    .. math:: L = -\frac{1}{N} \sum_n \log \mathrm{softmax}(z_n)_{y_n}, \qquad
              \frac{\partial L}{\partial z_n} = \frac{1}{N} (\mathrm{softmax}(z_n) - \mathrm{onehot}(y_n))

    Shapes: ``logits`` (N, C) floats, ``target`` (N,) integers in [0, C).
    Targets equal to ``ignore_index`` (default -100, as PyTorch) are left out
    of the mean. For a language model's (B, T, C) logits, pass
    ``logits.reshape(-1, C)`` and ``targets.reshape(-1)``.
    Stable for logits of any size: it works with log-softmax, never exp(z) alone.
    """

    def __init__(self, ignore_index: int = -100) -> None:
        super().__init__()
        self.ignore_index = ignore_index
        self._probs = None
        self._picked = None  # flat positions in (N, C) of the kept samples' targets
        self._ignored = None  # mask of the samples whose target is ignore_index (None when there are none)

    def extra_repr(self) -> str:
        return "" if self.ignore_index == -100 else f"ignore_index={self.ignore_index}"

    def forward(self, logits: np.ndarray, target: np.ndarray) -> float:
        logits, target = np.asarray(logits), np.asarray(target)
        if logits.ndim != 2:
            hint = (f" (for sequence logits of shape {logits.shape} use logits.reshape(-1, {logits.shape[-1]}) "
                    f"and target.reshape(-1))") if logits.ndim > 2 else ""
            raise ValueError(f"CrossEntropyLoss expects logits of shape (N, C), got {logits.shape}{hint}")
        if logits.dtype.kind != "f":  # np.issubdtype(logits.dtype, np.floating), quicker
            raise TypeError(f"CrossEntropyLoss expects floating-point logits, got dtype {logits.dtype}")
        if target.dtype.kind not in "iu":  # np.issubdtype(target.dtype, np.integer): signed or unsigned
            raise TypeError(
                f"CrossEntropyLoss expects integer class indices as target, got dtype {target.dtype} "
                f"(class probabilities are not supported; use target.astype(int) for whole numbers)"
            )
        n, c = logits.shape
        if target.shape != (n,):
            raise ValueError(f"CrossEntropyLoss expects target of shape ({n},) for logits {logits.shape}, got {target.shape}")
        keep = target != self.ignore_index
        bad = keep & ((target < 0) | (target >= c))
        if np.count_nonzero(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"CrossEntropyLoss: target values must be in [0, {c - 1}] for {c} classes, "
                f"got {int(target[i])} at position {i}"
            )
        rows = np.flatnonzero(keep)  # the samples that count
        if rows.size == 0:
            raise ValueError("CrossEntropyLoss: every target equals ignore_index; the mean is undefined")
        logp = F.log_softmax(logits, axis=1)  # (N, C)
        # logp[rows, target[rows]], read from the flat array: the same numbers, one cheap 1-D lookup
        picked = rows * c + target[rows]
        self._probs = np.exp(logp)
        self._picked = picked
        self._ignored = None if rows.size == n else ~keep  # None: no row to zero in backward
        return float(-logp.reshape(-1)[picked].mean())

    def backward(self, grad_out: float = 1.0) -> np.ndarray:
        probs = self._require_cache(self._probs)
        grad = probs.copy()  # (N, C)
        grad.reshape(-1)[self._picked] -= 1.0  # softmax - onehot(target) (grad is contiguous: a view)
        if self._ignored is not None:
            grad[self._ignored] = 0.0  # ignored targets add nothing
        grad *= float(grad_out) / self._picked.size  # in place: grad is our own copy
        return grad
