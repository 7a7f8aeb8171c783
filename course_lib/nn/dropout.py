"""Dropout (ドロップアウト): randomly silence units while training, PyTorch's ``nn.Dropout``.

*Inverted* dropout, the variant PyTorch (and every modern framework) uses:

* training: each element is kept with probability ``1 - p`` and zeroed with
  probability ``p``; the kept elements are multiplied by ``1 / (1 - p)``, so
  the expected value of every output equals its input,
  ``E[y] = (1 - p) * x / (1 - p) = x``;
* evaluation (``layer.eval()``): the identity. Thanks to the rescaling during
  training, nothing has to change at test time.

The backward pass multiplies ``grad_out`` by the same scaled mask: a dropped
unit passes no gradient, a kept one passes ``1 / (1 - p)`` times it.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import random as _random
from .module import Module


class Dropout(Module):
    """Inverted dropout, PyTorch's ``nn.Dropout(p=0.5)``.

    Parameters
    ----------
    p : float in [0, 1)
        Probability of zeroing an element. ``p = 0`` is the identity.
        ``p = 1`` is rejected: every element would be zeroed and the
        ``1 / (1 - p)`` rescaling would divide by zero (PyTorch accepts
        it and returns zeros; that network could never learn anything).
    inplace : bool
        Only ``False`` is supported (course_lib layers never modify their
        input). Kept so that the signature and the printout match PyTorch.
    generator : np.random.Generator or None (keyword only)
        Where the masks come from. ``None`` means the course's default
        generator at each forward call, which ``course_lib.manual_seed(seed)``
        resets, so a seeded notebook draws the same masks on every run.

    Shapes: any ``(...)`` floating array in, the same shape and dtype out.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *,
                 generator: np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(inplace, np.random.Generator):
            raise TypeError("Dropout: pass the generator by keyword: Dropout(p, generator=rng)")
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p < 1:
            raise ValueError(
                f"Dropout: p must be a probability in [0, 1), got {p!r} "
                "(p = 1 would zero every element and the 1 / (1 - p) rescaling would divide by zero)"
            )
        if inplace is not False:
            raise ValueError(
                f"Dropout: inplace must be False in course_lib (layers never modify their input), got {inplace!r}"
            )
        if generator is not None:
            _random.resolve(generator)  # raises TypeError for anything but a np.random.Generator
        self.p = p
        self.inplace = inplace
        self.generator = generator
        self._scaled_mask = None  # cache: keep-mask / (1 - p), shape of x (or 1.0 when the identity)
        self._shape = None

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(
                f"{self._name()} expects a floating-point input, got dtype {x.dtype} "
                "(convert with x.astype(np.float64))"
            )
        self._shape = x.shape
        if not self.training or self.p == 0:
            self._scaled_mask = 1.0  # identity: nothing dropped, nothing rescaled
            return x
        gen = _random.resolve(self.generator)
        keep = gen.random(x.shape) >= self.p  # True with probability 1 - p
        self._scaled_mask = keep.astype(x.dtype) / (1.0 - self.p)  # 0 or 1/(1-p)
        return x * self._scaled_mask

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        self._check_input_grad(input_grad)
        scaled_mask = self._require_cache(self._scaled_mask)
        g = self._check_grad_out(grad_out, self._shape)
        if not input_grad:
            return None  # no parameters: nothing else to compute
        return g * scaled_mask  # the same mask as the forward pass
