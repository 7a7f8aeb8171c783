"""Parameter: a learnable array together with its gradient."""
from __future__ import annotations

import numpy as np


class Parameter:
    """A learnable array (PyTorch: ``torch.nn.Parameter``).

    Attributes
    ----------
    data : np.ndarray
        The current value. Optimizers update it **in place**.
    grad : np.ndarray
        The gradient of the loss with respect to ``data``, same shape and dtype.
        Layers **add** into it during ``backward`` (so a parameter shared by two
        layers, e.g. tied embeddings, collects both contributions);
        ``zero_grad()`` resets it to zeros.

    Unlike PyTorch, ``grad`` starts as zeros rather than ``None``: one less
    special case for a reader of the optimizers.
    """

    def __init__(self, data, requires_grad: bool = True):
        data = np.array(data, copy=True)
        if not np.issubdtype(data.dtype, np.floating):
            raise TypeError(
                f"Parameter expects a floating-point array, got dtype {data.dtype}"
            )
        self.data = data
        self.grad = np.zeros_like(data)
        self.requires_grad = requires_grad

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def numel(self) -> int:
        """Number of scalar values (PyTorch: ``Tensor.numel()``)."""
        return self.data.size

    def zero_grad(self) -> None:
        data = self.data
        # a new array (an old reference to .grad keeps its values); np.zeros is quicker than
        # np.zeros_like, which is only needed to keep a layout other than C order
        self.grad = np.zeros(data.shape, data.dtype) if data.flags.c_contiguous else np.zeros_like(data)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"
