"""Gradient checking: compare a layer's analytic backward with central differences.

    gradcheck(nn.Linear(3, 2), x)      # True, or raises GradcheckError

How it works, for a layer f with output y = f(x; θ):

1. Pick a fixed random "upstream gradient" R of y's shape and define the scalar
   L = sum(y * R) (for a loss, which already returns a scalar, L = y).
   Then dL/dy = R, so ``backward(R)`` must return dL/dx and fill θ.grad.
2. Numerically, for every single entry v of x and of each parameter,
   dL/dv ≈ (L(v + ε) - L(v - ε)) / (2ε)   (central differences, error O(ε²)).
3. Compare entry by entry. Everything runs in float64: with ε = 1e-6 the
   two agree to about 1e-8 relative, while a real bug is off by far more.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["gradcheck", "numerical_gradient", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """dF/dx by central differences, one entry at a time.

    ``f`` maps the array ``x`` to a scalar. ``x`` is perturbed in place and
    restored exactly, so ``f`` may read it through another reference (as a
    layer reads its own weight).
    """
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise ValueError(f"numerical_gradient needs a float64 array, got {x.dtype}")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        f_plus = float(f(x))
        x[i] = old - eps
        f_minus = float(f(x))
        x[i] = old  # restore exactly
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _describe(obj) -> str:
    name = getattr(obj, "_name", None)
    return name() if callable(name) else type(obj).__name__


def _compare(what: str, layer: str, analytic, numeric: np.ndarray, atol: float, rtol: float) -> None:
    if analytic is None:
        raise GradcheckError(f"gradcheck: {layer} returned no gradient for {what}")
    analytic = np.asarray(analytic)
    if analytic.shape != numeric.shape:
        raise GradcheckError(
            f"gradcheck: {layer} returned a gradient of shape {analytic.shape} for {what}, "
            f"expected {numeric.shape}"
        )
    if not np.all(np.isfinite(analytic)):
        i = np.unravel_index(np.argmax(~np.isfinite(analytic)), analytic.shape)
        raise GradcheckError(
            f"gradcheck: {layer} gave a non-finite gradient for {what} at index {tuple(int(k) for k in i)}"
        )
    diff = np.abs(analytic - numeric)
    bound = atol + rtol * np.abs(numeric)
    if np.all(diff <= bound):
        return
    rel = diff / np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), 1e-12)
    rel = np.where(diff > bound, rel, -1.0)  # only entries that fail
    i = np.unravel_index(int(np.argmax(rel)), rel.shape)
    n_bad = int(np.sum(diff > bound))
    raise GradcheckError(
        f"gradcheck failed for {what} of {layer}: worst relative error {rel[i]:.3e} at index "
        f"{tuple(int(k) for k in i)} (analytic {analytic[i]:.6g}, numerical {numeric[i]:.6g}); "
        f"{n_bad} of {numeric.size} entries outside atol={atol:g}, rtol={rtol:g}"
    )


class _FunctionAsModule:
    """Adapter: a function ``fn(*inputs) -> (output, backward)`` seen as forward/backward."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self._backward = None

    def _name(self) -> str:
        return f"function {getattr(self.fn, '__name__', repr(self.fn))}"

    def forward(self, *inputs):
        result = self.fn(*inputs)
        if not (isinstance(result, tuple) and len(result) == 2 and callable(result[1])):
            raise TypeError(
                f"gradcheck: {self._name()} must return (output, backward) where backward(grad_out) "
                f"returns the input gradient(s); got {type(result).__name__}"
            )
        out, self._backward = result
        return out

    def backward(self, grad_out):
        return self._backward(grad_out)


def _copy(x):
    """Copies of the arrays in ``x`` (tuples opened), so the caller's arrays are never perturbed."""
    if isinstance(x, tuple):
        return tuple(_copy(v) for v in x)
    return np.array(x, copy=True) if isinstance(x, np.ndarray) else x


def _float_leaves(x, label: str) -> list:
    if isinstance(x, tuple):
        out = []
        for j, v in enumerate(x):
            out += _float_leaves(v, f"{label}[{j}]")
        return out
    if isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating):
        return [(label, x)]
    return []


def _all_leaves(x) -> list:
    if isinstance(x, tuple):
        return [leaf for v in x for leaf in _all_leaves(v)]
    return [x]


def _like(out, rng):
    if isinstance(out, tuple):
        return tuple(_like(v, rng) for v in out)
    return rng.standard_normal(np.shape(out))


def _dot(y, r) -> float:
    if isinstance(y, tuple):
        return sum(_dot(a, b) for a, b in zip(y, r))
    return float(np.sum(y * r))


def gradcheck(module, *inputs, eps: float = 1e-6, atol: float = 1e-6, rtol: float = 1e-4,
              seed: int = 0) -> bool:
    """Check ``module.backward`` against central differences for every float input and parameter.

    ``module`` is anything with ``forward(*inputs)`` and ``backward(grad_out)``:
    a layer, a ``Sequential``, a loss (integer inputs such as class targets are
    passed through and not differentiated). It may also be a plain function
    ``fn(*inputs) -> (output, backward)`` that returns its output together with
    a function computing the input gradient(s) from ``grad_out``::

        def multiply(x, y):
            return x * y, lambda g: (g * y, g * x)
        gradcheck(multiply, x, y)
 ``backward`` returns either one
    array, the gradient of the first floating input (the others, such as a
    regression target, are then constants), or a tuple with one entry per
    floating input. Inputs and outputs may be tuples of arrays, as an LSTM's
    ``forward(x, (h0, c0)) -> (output, (h_n, c_n))``: each output entry gets its
    own random upstream gradient, and ``backward`` returns a tuple nested like
    the inputs, ``(dx, (dh0, dc0))``.

    Inputs and parameters must be float64 (call ``module.double()``).
    Returns ``True``; raises :class:`GradcheckError` naming the input or parameter,
    the worst relative error and its index when an entry differs by more than
    ``atol + rtol * |numerical|``.
    """
    if not (hasattr(module, "forward") and hasattr(module, "backward")):
        if not callable(module):
            raise TypeError(
                f"gradcheck expects a module (forward() and backward()) or a function returning "
                f"(output, backward), got {type(module).__name__}"
            )
        module = _FunctionAsModule(module)
    layer = _describe(module)
    arrays = [_copy(x) for x in inputs]
    leaves = []  # (label, array) of every floating input, tuples opened: an LSTM's hx = (h, c) is two
    for i, x in enumerate(arrays):
        leaves += _float_leaves(x, f"input {i}")
    for label, a in leaves:
        if a.dtype != np.float64:
            raise ValueError(f"gradcheck needs float64 inputs; {label} is {a.dtype}")
    named = list(module.named_parameters()) if hasattr(module, "named_parameters") else []
    if not leaves and not named:
        raise ValueError(
            "gradcheck needs a floating-point input array or a module with parameters "
            "(integer inputs such as token ids are not differentiated)"
        )
    for name, p in named:
        if p.data.dtype != np.float64:
            raise ValueError(
                f"gradcheck needs float64 parameters; '{name}' of {layer} is {p.data.dtype} (call .double())"
            )

    out = module.forward(*arrays)
    scalar = not isinstance(out, tuple) and np.ndim(out) == 0
    rng = np.random.default_rng(seed)
    # an output that is a tuple (an RNN's (output, h_n)) gets one random array per entry
    upstream = 1.0 if scalar else _like(out, rng)

    def loss() -> float:
        y = module.forward(*arrays)
        return float(y) if scalar else _dot(y, upstream)

    # analytic gradients
    for _, p in named:
        p.zero_grad()
    module.forward(*arrays)
    returned = module.backward(upstream)
    if isinstance(returned, tuple):
        returned = _all_leaves(returned)  # (dx, (dh, dc)) -> [dx, dh, dc], in the inputs' order
    else:
        # one array: the gradient of the first floating input; any other input
        # (a loss's target) is treated as a constant
        returned = [returned]
        leaves = leaves[:1]  # an Embedding returns None here: its ids have no gradient
    analytic_params = {name: p.grad.copy() for name, p in named}

    for k, (label, a) in enumerate(leaves):
        numeric = numerical_gradient(lambda _x: loss(), a, eps)
        _compare(label, layer, returned[k] if k < len(returned) else None, numeric, atol, rtol)
    for name, p in named:
        numeric = numerical_gradient(lambda _x: loss(), p.data, eps)
        _compare(f"parameter '{name}'", layer, analytic_params[name], numeric, atol, rtol)
    return True
