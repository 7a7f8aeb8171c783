"""Embedding (埋め込み): a table lookup that is learned."""
from __future__ import annotations

import numpy as np

from .. import random as _random
from .module import Module
from .parameter import Parameter


class Embedding(Module):
    r"""A learnable table of vectors, PyTorch's ``nn.Embedding``.

    ``weight`` has shape (num_embeddings, embedding_dim): row i is the vector
    of token id i. ``forward(ids)`` with integer ids of any shape (..., ) returns
    ``weight[ids]`` of shape (..., embedding_dim). This is exactly
    ``one_hot(ids) @ weight``, without building the one-hot matrix.

    Backward: dLoss/dweight[i] is the **sum** of the upstream gradients of every
    position where id i occurred (a scatter-add, ``np.add.at``), because the
    same row was used several times. Ids carry no gradient: ``backward``
    returns ``None`` (``input_grad`` is accepted, as by every layer, and changes
    nothing).

    ``padding_idx``: that row starts at zeros and never receives gradient, as
    in PyTorch. Initialisation as PyTorch: N(0, 1).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"Embedding: {name} must be a positive int, got {v!r}")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx must be within num_embeddings ({num_embeddings}), got {padding_idx}"
                )
            padding_idx = padding_idx % num_embeddings  # negative counts from the end, as in PyTorch
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        rng = _random.resolve(generator)
        self.weight = Parameter(rng.standard_normal((num_embeddings, embedding_dim)).astype(dtype))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0.0
        self._ids = None  # cache: the ids of the last forward

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s if self.padding_idx is None else s + f", padding_idx={self.padding_idx}"

    def forward(self, ids) -> np.ndarray:
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(
                f"{self._name()} expects integer token ids, got dtype {ids.dtype}"
                + (" (floats cannot index a table: use ids.astype(int))" if np.issubdtype(ids.dtype, np.floating) else "")
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids[(ids < 0) | (ids >= self.num_embeddings)].flat[0]
            raise IndexError(
                f"{self._name()}: ids must be in [0, {self.num_embeddings - 1}], got {int(bad)}"
            )
        self._ids = ids
        return self.weight.data[ids]  # (..., embedding_dim)

    def backward(self, grad_out, input_grad: bool = True) -> None:
        """Scatter-add ``grad_out`` into ``weight.grad``. Returns None with either ``input_grad``."""
        self._check_input_grad(input_grad)
        ids = self._require_cache(self._ids)
        g = self._check_grad_out(grad_out, (*ids.shape, self.embedding_dim))
        flat_ids = ids.reshape(-1)
        flat_g = g.reshape(-1, self.embedding_dim)
        if self.padding_idx is not None:
            keep = flat_ids != self.padding_idx
            flat_ids, flat_g = flat_ids[keep], flat_g[keep]
        np.add.at(self.weight.grad, flat_ids, flat_g)  # repeated ids add up
        return None
