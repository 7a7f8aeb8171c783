"""Stateless functions behind the layers (PyTorch: ``torch.nn.functional``).

Everything here is written to be numerically stable: no overflow warning and
no NaN for inputs as large as ±1e4.
"""
from __future__ import annotations

import math

import numpy as np

from .im2col import fold, unfold  # im2col / col2im, the heart of Conv2d (defined in im2col.py)

__all__ = [
    "erf", "relu", "sigmoid", "tanh", "gelu", "softmax", "log_softmax",
    "logsumexp", "linear", "mse_loss", "cross_entropy", "unfold", "fold",
]

# --------------------------------------------------------------------------- erf
# numpy has no vectorised erf, and GELU's exact form needs one. These are the
# rational approximations of the Cephes library (S. L. Moshier), relative error
# about 1e-16 for |x| < 1 and 1e-14 beyond: the same digits as math.erf.
_T = np.array([9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
               7.00332514112805075473e3, 5.55923013010394962768e4])
_U = np.array([1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
               2.26290000613890934246e4, 4.92673942608635921086e4])
_P = np.array([2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
               4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
               9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2])
_Q = np.array([1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
               9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
               1.65666309194161350182e3, 5.57535340817727675546e2])
_R = np.array([5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
               6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0])
_S = np.array([1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
               1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0])


def _erfc_abs(a: np.ndarray) -> np.ndarray:
    """erfc(a) for a >= 1 (float64)."""
    # erfc(27) < 1e-318: past 27 the result is 0 for erf's purposes. Clipping keeps
    # a * a and the polynomials finite for huge a (and a = inf).
    a = np.minimum(a, 27.0)
    z = np.exp(-np.minimum(a * a, 750.0))  # exp underflows to 0 quietly past 750
    small = a < 8.0
    p = np.where(small, np.polyval(_P, a), np.polyval(_R, a))
    q = np.where(small, np.polyval(_Q, a), np.polyval(_S, a))
    return z * p / q


def erf(x) -> np.ndarray:
    """The error function, vectorised: erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt."""
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    x64 = x.astype(np.float64)
    ax = np.abs(x64)
    inner = ax <= 1.0
    out = np.empty_like(x64)
    xi = x64[inner]
    z = xi * xi
    out[inner] = xi * np.polyval(_T, z) / np.polyval(_U, z)
    outer = ~inner
    out[outer] = np.sign(x64[outer]) * (1.0 - _erfc_abs(ax[outer]))
    return out.astype(dtype, copy=False)


# --------------------------------------------------------------------------- activations
def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x)."""
    return np.maximum(x, 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow: exp is only ever taken of -|x|."""
    x = np.asarray(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64, copy=False)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent (numpy's is already stable)."""
    return np.tanh(x)


# Python floats, not np.float64: a float32 input must give a float32 output.
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """GELU(x) = x * Phi(x), Phi the standard normal CDF.

    ``approximate="none"``: Phi(x) = (1 + erf(x / sqrt 2)) / 2 (exact).
    ``approximate="tanh"``: Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2 (GPT-2's form).
    """
    if approximate == "none":
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# --------------------------------------------------------------------------- softmax family
def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(sum(exp(x))) along ``axis``, stable: the maximum is subtracted first."""
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x_i) / sum_j exp(x_j) along ``axis``; stable for logits of any size."""
    z = x - np.max(x, axis=axis, keepdims=True)  # largest becomes 0: exp cannot overflow
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """x_i - logsumexp(x) along ``axis``; stable, and exact where softmax would round to 0."""
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# --------------------------------------------------------------------------- layers / losses
def linear(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """y = x W^T + b.   x: (..., in), weight: (out, in), bias: (out,) -> y: (..., out)."""
    y = x @ weight.T
    return y if bias is None else y + bias


def mse_loss(input: np.ndarray, target: np.ndarray) -> float:
    """mean((input - target)^2) over every element."""
    return float(np.mean((input - target) ** 2))


def cross_entropy(logits: np.ndarray, target: np.ndarray) -> float:
    """-mean_n log softmax(logits_n)[target_n].  logits: (N, C), target: (N,) integers."""
    logp = log_softmax(logits, axis=-1)
    return float(-np.mean(logp[np.arange(len(target)), target]))
