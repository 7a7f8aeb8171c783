"""Flatten: merge a range of axes into one, PyTorch's ``nn.Flatten`` (the bridge from images to Linear)."""
from __future__ import annotations

import numpy as np

from .im2col import _is_int
from .module import Module


class Flatten(Module):
    """Merge axes ``start_dim`` ... ``end_dim`` (inclusive) into one, PyTorch's ``nn.Flatten``.

    With the defaults (``start_dim=1, end_dim=-1``) a batch of feature maps
    (N, C, H, W) becomes (N, C*H*W), the batch axis kept: what a ``Linear``
    after the convolutions expects. Backward reshapes the gradient back.
    No parameters and no copy (the output is a view of the input when it can be).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not _is_int(v):
                raise TypeError(f"Flatten: {name} must be an int, got {v!r}")
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)
        self._in_shape = None
        self._out_shape = None

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def _axis(self, name: str, d: int, ndim: int) -> int:
        n = max(ndim, 1)  # PyTorch treats a 0-d input as 1-d here
        if not -n <= d < n:
            raise IndexError(
                f"{self._name()}: {name}={d} is out of range for a {ndim}-d input "
                f"(expected a dimension in [{-n}, {n - 1}])"
            )
        return d % n

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        start = self._axis("start_dim", self.start_dim, x.ndim)
        end = self._axis("end_dim", self.end_dim, x.ndim)
        if start > end:
            raise ValueError(
                f"{self._name()}: start_dim cannot come after end_dim (they are axes {start} and {end} "
                f"of the {x.ndim}-d input of shape {x.shape})"
            )
        shape = x.shape if x.ndim else (1,)
        out_shape = (*shape[:start], int(np.prod(shape[start: end + 1])), *shape[end + 1:])
        self._in_shape, self._out_shape = x.shape, out_shape
        return x.reshape(out_shape)

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """dLoss/dx: ``grad_out`` reshaped to the input's shape (None if ``input_grad=False``)."""
        self._check_input_grad(input_grad)
        self._require_cache(self._in_shape)
        g = self._check_grad_out(grad_out, self._out_shape)
        if not input_grad:
            return None
        return g.reshape(self._in_shape)
