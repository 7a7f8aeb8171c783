r"""Recurrent layers (再帰型ニューラルネットワーク): PyTorch's ``RNNCell``, ``LSTMCell``, ``RNN`` and ``LSTM``.

One **cell** is applied at every time step t = 1..T and carries a hidden
state h (its memory of the past). For an input x_t (N, input_size):

* RNN (Elman):  h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)          (N, H)
* LSTM: four gates from one product, in PyTorch's order (i, f, g, o)::

      gates = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      (N, 4H)
      i = sigmoid(gates[:, 0H:1H])    input gate:  how much of g to write
      f = sigmoid(gates[:, 1H:2H])    forget gate: how much of c_{t-1} to keep
      g = tanh   (gates[:, 2H:3H])    the candidate to write
      o = sigmoid(gates[:, 3H:4H])    output gate: how much of the memory to show
      c_t = f * c_{t-1} + i * g       (N, H) the cell state: an *additive* update
      h_t = o * tanh(c_t)             (N, H)

Parameters, as PyTorch names them: ``weight_ih`` (G*H, input_size),
``weight_hh`` (G*H, H), ``bias_ih`` (G*H,), ``bias_hh`` (G*H,) with G = 1 for
the RNN and 4 for the LSTM (the four gates' rows stacked in the order i, f, g, o).
The multi-layer ``RNN``/``LSTM`` add the layer index: ``weight_ih_l0``,
``weight_hh_l0``, ..., ``weight_ih_l1`` (layer k > 0 reads the hidden state of
layer k-1, so its ``weight_ih`` is (G*H, H)). Every parameter starts
U(-1/sqrt(H), 1/sqrt(H)), PyTorch's initialisation.

Backpropagation through time (通時的誤差逆伝播, BPTT): the unrolled network is
a deep network whose layers share one set of weights, so backward walks the
steps from T down to 1, carrying dLoss/dh (and dLoss/dc) backwards and
**adding** each step's contribution to the shared weights' gradients.

Two ways to keep what backward needs:

* ``RNN``/``LSTM`` run the whole loop inside one ``forward(x)``, so one call
  keeps every step's values (arrays with a time axis); ``backward`` walks them.
* ``RNNCell``/``LSTMCell`` are called once per step by *your* loop. Each call
  **pushes** its cache on a stack; each ``backward`` **pops** the latest one.
  So backward calls go in the reverse order of the forward calls, exactly as
  BPTT needs (see ``module.py``). ``clear_cache()`` empties the stack, e.g.
  after generating text without a backward pass.

Speed: the input's contribution ``x W_ih^T + b`` does not depend on the
previous step, so ``RNN``/``LSTM`` compute it for all T steps in **one**
matrix product before the loop, and ``dW_ih``, ``dW_hh`` and the input
gradient in one product each after it. Only ``h_{t-1} W_hh^T`` and its
backward must run step by step: step t needs h_{t-1}.
"""
from __future__ import annotations

import math

import numpy as np

from . import init
from .linear import _check_float_input
from .module import Module
from .parameter import Parameter

__all__ = ["RNNCell", "LSTMCell", "RNN", "LSTM"]

_NONLINEARITIES = ("tanh", "relu")


# --------------------------------------------------------------------------- one step, forward and backward
# The cells and the multi-layer modules share these four functions: one formula, one place.

def _sigmoid(x: np.ndarray) -> np.ndarray:
    """sigmoid(x) = (1 + tanh(x/2)) / 2: the same function, never overflows, one ufunc call."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _rnn_step(pre: np.ndarray, nonlinearity: str) -> np.ndarray:
    """h_t from the pre-activation (N, H)."""
    return np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0.0)


def _rnn_step_backward(dh: np.ndarray, h: np.ndarray, nonlinearity: str) -> np.ndarray:
    """dLoss/dpre from dLoss/dh_t and h_t: tanh' = 1 - h^2, relu' = [h > 0]."""
    if nonlinearity == "tanh":
        return dh * (1.0 - h * h)
    return dh * (h > 0)


def _lstm_step(gates: np.ndarray, c_prev: np.ndarray):
    """One LSTM step from the pre-activations ``gates`` (N, 4H) and c_{t-1} (N, H).

    Returns ``acts`` (N, 4H): i, f, g, o after their activations (kept for
    backward), c_t (N, H), tanh(c_t) (N, H) and h_t (N, H).
    """
    hs = c_prev.shape[1]
    acts = np.empty_like(gates)
    acts[:, :2 * hs] = _sigmoid(gates[:, :2 * hs])           # i, f
    acts[:, 2 * hs:3 * hs] = np.tanh(gates[:, 2 * hs:3 * hs])  # g
    acts[:, 3 * hs:] = _sigmoid(gates[:, 3 * hs:])            # o
    i, f, g, o = acts[:, :hs], acts[:, hs:2 * hs], acts[:, 2 * hs:3 * hs], acts[:, 3 * hs:]
    c = f * c_prev + i * g
    tc = np.tanh(c)
    return acts, c, tc, o * tc


def _lstm_step_backward(dh: np.ndarray, dc: np.ndarray, acts: np.ndarray, c_prev: np.ndarray,
                        tc: np.ndarray):
    """dLoss/dgates (N, 4H) and dLoss/dc_{t-1} (N, H) from dLoss/dh_t and dLoss/dc_t."""
    hs = c_prev.shape[1]
    i, f, g, o = acts[:, :hs], acts[:, hs:2 * hs], acts[:, 2 * hs:3 * hs], acts[:, 3 * hs:]
    dc = dc + dh * o * (1.0 - tc * tc)        # h_t = o * tanh(c_t) also depends on c_t
    dgates = np.empty_like(acts)
    dgates[:, :hs] = dc * g * i * (1.0 - i)            # di * sigmoid'
    dgates[:, hs:2 * hs] = dc * c_prev * f * (1.0 - f)  # df * sigmoid'
    dgates[:, 2 * hs:3 * hs] = dc * i * (1.0 - g * g)  # dg * tanh'
    dgates[:, 3 * hs:] = dh * tc * o * (1.0 - o)       # do * sigmoid'
    return dgates, dc * f                      # c_t = f * c_{t-1} + ...: the gradient passes through f


# --------------------------------------------------------------------------- shared checks
def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


def _check_sizes(cls: str, input_size, hidden_size) -> None:
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not _is_int(v) or v <= 0:
            raise ValueError(f"{cls}: {name} must be a positive int, got {v!r}")


def _check_bool(cls: str, name: str, v) -> None:
    if not isinstance(v, bool):
        raise TypeError(f"{cls}: {name} must be True or False, got {v!r}")


def _check_state(layer: Module, name: str, s, shape: tuple, dtype, hint: str = "") -> np.ndarray:
    s = _check_float_input(layer, s, dtype)
    if s.shape != shape:
        raise ValueError(f"{layer._name()} expects {name} of shape {shape}, got {s.shape}{hint}")
    return s


def _check_grad(layer: Module, name: str, g, shape: tuple):
    """A gradient that may be None (the loss does not use that output)."""
    if g is None:
        return None
    g = np.asarray(g)
    if g.shape != shape:
        raise ValueError(f"{layer._name()}.backward expects {name} of shape {shape}, got {g.shape}")
    return g


def _init_uniform(module: Module, hidden_size: int, generator) -> None:
    """PyTorch's reset_parameters: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound, generator)


# --------------------------------------------------------------------------- cells
class _CellBase(Module):
    """What RNNCell and LSTMCell share: parameters, the cache stack, the input check."""

    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool, dtype, generator) -> None:
        super().__init__()
        cls = type(self).__name__
        _check_sizes(cls, input_size, hidden_size)
        _check_bool(cls, "bias", bias)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        gh = self._gates * self.hidden_size
        self.weight_ih = Parameter(np.empty((gh, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((gh, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(gh, dtype=dtype))
            self.bias_hh = Parameter(np.empty(gh, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        _init_uniform(self, self.hidden_size, generator)
        self._caches: list = []  # the cache stack: one entry per forward call not yet backpropagated

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias_ih is None:
            s += ", bias=False"
        return s

    def clear_cache(self) -> None:
        """Drop every cache on the stack (forward calls that will never be backpropagated)."""
        self._caches.clear()

    @property
    def cache_depth(self) -> int:
        """How many forward calls are waiting for their backward."""
        return len(self._caches)

    def _input(self, x) -> np.ndarray:
        x = _check_float_input(self, x, self.weight_ih.dtype)
        if x.ndim == 1:
            raise ValueError(
                f"{self._name()} expects one time step of a batch, (N, {self.input_size}), got a 1-D "
                f"input of shape {x.shape}; for a single example add the batch axis: x[None]"
            )
        if x.ndim != 2 or x.shape[1] != self.input_size:
            extra = ""
            if x.ndim == 3:
                extra = " (a cell takes one time step; for a whole sequence (T, N, input) use the loop or RNN/LSTM)"
            raise ValueError(f"{self._name()} expects input of shape (N, {self.input_size}), got {x.shape}{extra}")
        return x

    def _project(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        pre = x @ self.weight_ih.data.T + h @ self.weight_hh.data.T  # (N, G*H)
        if self.bias_ih is not None:
            pre += self.bias_ih.data + self.bias_hh.data
        return pre

    def _peek(self):
        """The latest cache, left on the stack until backward's arguments have passed their checks."""
        if not self._caches:
            raise RuntimeError(
                f"{self._name()}: backward() called more often than forward() (each backward pops the "
                f"cache of one forward call, the latest first)"
            )
        return self._caches[-1]

    def _accumulate(self, dpre: np.ndarray, x: np.ndarray, h_prev: np.ndarray, input_grad: bool):
        """Add the step's weight gradients; return dLoss/dx (or None) and dLoss/dh_{t-1}."""
        self.weight_ih.grad += dpre.T @ x
        self.weight_hh.grad += dpre.T @ h_prev
        if self.bias_ih is not None:
            db = dpre.sum(axis=0)
            self.bias_ih.grad += db
            self.bias_hh.grad += db
        dx = dpre @ self.weight_ih.data if input_grad else None
        return dx, dpre @ self.weight_hh.data


class RNNCell(_CellBase):
    r"""One step of an Elman RNN, PyTorch's ``nn.RNNCell(input_size, hidden_size, bias=True, nonlinearity="tanh")``.

    ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``; shapes: ``x`` (N, input_size),
    ``hx`` (N, hidden_size) or None (zeros) -> ``h'`` (N, hidden_size).

    ``backward(grad_h)`` pops the latest forward call's cache, adds the
    parameter gradients and returns ``(dLoss/dx, dLoss/dhx)``: call it once
    per forward call, the last step first (``input_grad=False`` puts None for dx).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, dtype, generator)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + ", nonlinearity=relu"

    def forward(self, x, hx=None) -> np.ndarray:
        x = self._input(x)
        shape = (x.shape[0], self.hidden_size)
        h = np.zeros(shape, x.dtype) if hx is None else _check_state(self, "hx", hx, shape, x.dtype)
        h_new = _rnn_step(self._project(x, h), self.nonlinearity)  # (N, H)
        self._caches.append((x, h, h_new))
        return h_new

    def backward(self, grad_out, input_grad: bool = True):
        self._check_input_grad(input_grad)
        x, h, h_new = self._peek()
        dh = self._check_grad_out(grad_out, h_new.shape)
        self._caches.pop()  # a wrong call must not lose the cache
        return self._accumulate(_rnn_step_backward(dh, h_new, self.nonlinearity), x, h, input_grad)


class LSTMCell(_CellBase):
    r"""One step of an LSTM, PyTorch's ``nn.LSTMCell(input_size, hidden_size, bias=True)``.

    Shapes: ``x`` (N, input_size), ``hx = (h, c)`` each (N, hidden_size), or
    None (zeros) -> ``(h', c')`` each (N, hidden_size). The gate equations are
    in this module's docstring; the rows of ``weight_ih`` (4H, input_size) are
    the gates i, f, g, o, H rows each.

    ``backward((grad_h, grad_c))`` pops the latest call's cache (``grad_c`` may
    be None, as may ``grad_h``), adds the parameter gradients and returns
    ``(dLoss/dx, (dLoss/dh, dLoss/dc))``.
    """

    _gates = 4

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        super().__init__(input_size, hidden_size, bias, dtype, generator)

    def forward(self, x, hx=None):
        x = self._input(x)
        shape = (x.shape[0], self.hidden_size)
        if hx is None:
            h = np.zeros(shape, x.dtype)
            c = np.zeros(shape, x.dtype)
        else:
            if not (isinstance(hx, tuple) and len(hx) == 2):
                raise TypeError(f"{self._name()} expects hx = (h, c), a tuple of two arrays {shape}, "
                                f"got {type(hx).__name__}")
            h = _check_state(self, "h", hx[0], shape, x.dtype)
            c = _check_state(self, "c", hx[1], shape, x.dtype)
        acts, c_new, tc, h_new = _lstm_step(self._project(x, h), c)
        self._caches.append((x, h, c, acts, tc))
        return h_new, c_new

    def backward(self, grad_out, input_grad: bool = True):
        self._check_input_grad(input_grad)
        x, h, c, acts, tc = self._peek()
        if not (isinstance(grad_out, tuple) and len(grad_out) == 2):
            raise TypeError(f"{self._name()}.backward expects (grad_h, grad_c) like forward's (h', c'), "
                            f"got {type(grad_out).__name__}")
        dh = _check_grad(self, "grad_h", grad_out[0], c.shape)
        dc = _check_grad(self, "grad_c", grad_out[1], c.shape)
        self._caches.pop()  # only now: a wrong call must not lose the cache
        dh = np.zeros_like(c) if dh is None else dh
        dc = np.zeros_like(c) if dc is None else dc
        dgates, dc_prev = _lstm_step_backward(dh, dc, acts, c, tc)
        dx, dh_prev = self._accumulate(dgates, x, h, input_grad)
        return dx, (dh_prev, dc_prev)


# --------------------------------------------------------------------------- multi-layer modules
class _RNNBase(Module):
    """What RNN and LSTM share: per-layer parameters, shape checks, the time loop's bookkeeping."""

    _gates = 1
    _lstm = False

    def __init__(self, input_size, hidden_size, num_layers, bias, batch_first, dtype, generator) -> None:
        super().__init__()
        cls = type(self).__name__
        _check_sizes(cls, input_size, hidden_size)
        if not _is_int(num_layers) or num_layers <= 0:
            raise ValueError(f"{cls}: num_layers must be a positive int, got {num_layers!r}")
        _check_bool(cls, "bias", bias)
        _check_bool(cls, "batch_first", batch_first)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        gh = self._gates * self.hidden_size
        for k in range(self.num_layers):  # PyTorch's order: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ...
            fan = self.input_size if k == 0 else self.hidden_size
            setattr(self, f"weight_ih_l{k}", Parameter(np.empty((gh, fan), dtype=dtype)))
            setattr(self, f"weight_hh_l{k}", Parameter(np.empty((gh, self.hidden_size), dtype=dtype)))
            if bias:
                setattr(self, f"bias_ih_l{k}", Parameter(np.empty(gh, dtype=dtype)))
                setattr(self, f"bias_hh_l{k}", Parameter(np.empty(gh, dtype=dtype)))
        _init_uniform(self, self.hidden_size, generator)
        self._cache = None  # the last forward call: per layer, its input and every step's values

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        return s

    def _layer_params(self, k: int):
        w_ih = getattr(self, f"weight_ih_l{k}")
        w_hh = getattr(self, f"weight_hh_l{k}")
        b_ih = getattr(self, f"bias_ih_l{k}", None)
        b_hh = getattr(self, f"bias_hh_l{k}", None)
        return w_ih, w_hh, b_ih, b_hh

    @property
    def _dtype(self):
        return self.weight_ih_l0.dtype

    def _layout(self) -> str:
        return "(N, T, input)" if self.batch_first else "(T, N, input)"

    def _input(self, x) -> np.ndarray:
        """Check x and return it time-major, (T, N, input)."""
        x = _check_float_input(self, x, self._dtype)
        layout = self._layout()
        if x.ndim == 2:
            fix = "x[:, None]" if not self.batch_first else "x[None]"
            raise ValueError(
                f"{self._name()} expects a batch of sequences {layout}, got a 2-D input of shape {x.shape}; "
                f"for a single sequence add the batch axis: {fix} (PyTorch would read 2-D as one unbatched "
                f"sequence; the course asks for the batch axis so that no shape is guessed)"
            )
        if x.ndim != 3:
            raise ValueError(f"{self._name()} expects a batch of sequences {layout}, got shape {x.shape}")
        if x.shape[2] != self.input_size:
            raise ValueError(
                f"{self._name()} expects input of shape {layout.replace('input', str(self.input_size))} "
                f"(input_size = {self.input_size} on the last axis), got {x.shape}"
            )
        return x.transpose(1, 0, 2) if self.batch_first else x

    def _state(self, name: str, s, n: int, t: int, dtype) -> np.ndarray:
        shape = (self.num_layers, n, self.hidden_size)
        s = _check_float_input(self, s, dtype)
        if s.shape == shape:
            return s
        hint = ""
        if s.ndim == 3 and s.shape[0] == self.num_layers and s.shape[2] == self.hidden_size and s.shape[1] == t:
            axis = "axis 0" if self.batch_first else "axis 1"
            other = "False" if self.batch_first else "True"
            hint = (f": its batch size {s.shape[1]} is the input's sequence length; with "
                    f"batch_first={self.batch_first} the batch is {axis} of the input. Is the input laid out "
                    f"for batch_first={other}?")
        elif s.ndim == 2:
            hint = f"; add the layer axis: {name}[None] (PyTorch's states are (num_layers, N, hidden))"
        raise ValueError(f"{self._name()} expects {name} of shape (num_layers, N, hidden) = {shape}, "
                         f"got {s.shape}{hint}")

    def _unpack_hx(self, hx, n, t, dtype):
        raise NotImplementedError

    def forward(self, x, hx=None):
        x = self._input(x)                        # (T, N, input), time-major
        t_len, n, _ = x.shape
        h0, c0 = self._unpack_hx(hx, n, t_len, x.dtype)
        layers, h_n, c_n = [], [], []
        inp = x
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer_params(k)
            # the input's part of every step at once: (T*N, in) @ (in, G*H), one matrix product
            xp = (inp.reshape(t_len * n, -1) @ w_ih.data.T).reshape(t_len, n, -1)  # (T, N, G*H)
            if b_ih is not None:
                xp += b_ih.data + b_hh.data
            hs = np.empty((t_len + 1, n, self.hidden_size), dtype=x.dtype)  # h_0 .. h_T
            hs[0] = h0[k]
            if self._lstm:
                acts = np.empty_like(xp)                                     # (T, N, 4H)
                cs = np.empty_like(hs)                                       # c_0 .. c_T
                tcs = np.empty((t_len, n, self.hidden_size), dtype=x.dtype)  # tanh(c_1) .. tanh(c_T)
                cs[0] = c0[k]
                for t in range(t_len):            # the loop that cannot be parallel: step t needs h_{t-1}
                    acts[t], cs[t + 1], tcs[t], hs[t + 1] = _lstm_step(xp[t] + hs[t] @ w_hh.data.T, cs[t])
                layers.append((inp, hs, acts, cs, tcs))
                c_n.append(cs[-1])
            else:
                for t in range(t_len):
                    hs[t + 1] = _rnn_step(xp[t] + hs[t] @ w_hh.data.T, self.nonlinearity)
                layers.append((inp, hs))
            h_n.append(hs[-1])
            inp = hs[1:]                          # (T, N, H): the next layer's input
        self._cache = (layers, (t_len, n))
        out = inp.transpose(1, 0, 2) if self.batch_first else inp
        h_n = np.stack(h_n)                       # (num_layers, N, H)
        if self._lstm:
            return out, (h_n, np.stack(c_n))
        return out, h_n

    def _unpack_grads(self, grad_out, t_len, n):
        raise NotImplementedError

    def backward(self, grad_out, input_grad: bool = True):
        """Backpropagation through time. See the class docstring for what goes in and out."""
        self._check_input_grad(input_grad)
        layers, (t_len, n) = self._require_cache(self._cache)
        g_out, g_hn, g_cn = self._unpack_grads(grad_out, t_len, n)
        hsz = self.hidden_size
        dtype = layers[0][1].dtype
        dh0 = np.empty((self.num_layers, n, hsz), dtype=dtype)
        dc0 = np.empty_like(dh0) if self._lstm else None
        d_above = g_out                           # dLoss/d(this layer's outputs h_1..h_T), (T, N, H) or None
        for k in reversed(range(self.num_layers)):
            w_ih, w_hh, b_ih, b_hh = self._layer_params(k)
            inp, hs = layers[k][0], layers[k][1]
            dpre = np.empty((t_len, n, self._gates * hsz), dtype=dtype)  # dLoss/d(pre-activations), every step
            dh = np.zeros((n, hsz), dtype=dtype) if g_hn is None else g_hn[k].astype(dtype, copy=True)
            if self._lstm:
                _, _, acts, cs, tcs = layers[k]
                dc = np.zeros((n, hsz), dtype=dtype) if g_cn is None else g_cn[k].astype(dtype, copy=True)
                for t in reversed(range(t_len)):  # from the last step back to the first
                    if d_above is not None:
                        dh = dh + d_above[t]      # h_t went up (to the output) and right (to step t+1)
                    dpre[t], dc = _lstm_step_backward(dh, dc, acts[t], cs[t], tcs[t])
                    dh = dpre[t] @ w_hh.data      # dLoss/dh_{t-1}
                dc0[k] = dc
            else:
                for t in reversed(range(t_len)):
                    if d_above is not None:
                        dh = dh + d_above[t]
                    dpre[t] = _rnn_step_backward(dh, hs[t + 1], self.nonlinearity)
                    dh = dpre[t] @ w_hh.data
            dh0[k] = dh
            # the shared weights: every step's contribution, summed in one product each
            d2 = dpre.reshape(t_len * n, -1)                          # (T*N, G*H)
            w_ih.grad += d2.T @ inp.reshape(t_len * n, -1)
            w_hh.grad += d2.T @ hs[:-1].reshape(t_len * n, hsz)
            if b_ih is not None:
                db = d2.sum(axis=0)
                b_ih.grad += db
                b_hh.grad += db
            if k > 0 or input_grad:
                d_above = (d2 @ w_ih.data).reshape(t_len, n, -1)     # dLoss/d(this layer's input)
            else:
                d_above = None
        dx = None
        if input_grad:
            dx = d_above.transpose(1, 0, 2) if self.batch_first else d_above
        if self._lstm:
            return dx, (dh0, dc0)
        return dx, dh0

    def _grad_output(self, g, t_len, n):
        shape = (n, t_len, self.hidden_size) if self.batch_first else (t_len, n, self.hidden_size)
        g = _check_grad(self, "grad_output (the output's gradient)", g, shape)
        if g is not None and self.batch_first:
            g = g.transpose(1, 0, 2)
        return g


class RNN(_RNNBase):
    r"""A multi-layer Elman RNN, PyTorch's ``nn.RNN`` (without dropout and bidirectional).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False)``

    ``forward(x, hx=None)`` -> ``(output, h_n)``:

    * ``x``: (T, N, input_size), or (N, T, input_size) if ``batch_first``;
    * ``hx``: (num_layers, N, hidden_size), the initial states (None: zeros);
    * ``output``: the last layer's h_t for every t, (T, N, hidden_size) (or (N, T, hidden_size));
    * ``h_n``: every layer's last state, (num_layers, N, hidden_size) (not batch-first, as in PyTorch).

    ``backward(grad_out)`` takes ``grad_output`` alone or ``(grad_output, grad_h_n)``
    (either may be None: a loss on the last state only passes ``(None, grad_h_n)``),
    adds every parameter's gradient (summed over the steps) and returns
    ``(dLoss/dx, dLoss/dhx)``, mirroring forward's inputs. ``input_grad=False``
    puts None for dLoss/dx and skips its matrix product.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dtype=np.float64,
                 generator: np.random.Generator | None = None) -> None:
        if nonlinearity not in _NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dtype, generator)
        self.nonlinearity = nonlinearity  # not in the repr: PyTorch's RNN does not print it (RNNCell does)

    def _unpack_hx(self, hx, n, t, dtype):
        if hx is None:
            return np.zeros((self.num_layers, n, self.hidden_size), dtype), None
        if isinstance(hx, tuple):
            raise TypeError(f"{self._name()} expects hx to be one array (num_layers, N, hidden), got a tuple "
                            f"(a tuple (h, c) is the LSTM's state)")
        return self._state("hx", hx, n, t, dtype), None

    def _unpack_grads(self, grad_out, t_len, n):
        state = (self.num_layers, n, self.hidden_size)
        if isinstance(grad_out, tuple):
            if len(grad_out) != 2:
                raise TypeError(f"{self._name()}.backward expects grad_output or (grad_output, grad_h_n), "
                                f"got a tuple of {len(grad_out)}")
            g_out, g_hn = grad_out
            return self._grad_output(g_out, t_len, n), _check_grad(self, "grad_h_n", g_hn, state), None
        return self._grad_output(grad_out, t_len, n), None, None


class LSTM(_RNNBase):
    r"""A multi-layer LSTM, PyTorch's ``nn.LSTM`` (without dropout, bidirectional and proj_size).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False)``

    ``forward(x, hx=None)`` -> ``(output, (h_n, c_n))``: shapes as ``RNN``, with
    ``hx = (h_0, c_0)``, each (num_layers, N, hidden_size), or None (zeros).
    ``weight_ih_l{k}`` is (4H, in), the gates' rows in the order i, f, g, o.

    ``backward(grad_out)`` takes ``grad_output`` alone or
    ``(grad_output, (grad_h_n, grad_c_n))`` (any of them None) and returns
    ``(dLoss/dx, (dLoss/dh_0, dLoss/dc_0))``.
    """

    _gates = 4
    _lstm = True

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dtype, generator)

    def _unpack_hx(self, hx, n, t, dtype):
        if hx is None:
            z = np.zeros((self.num_layers, n, self.hidden_size), dtype)
            return z, z
        if not (isinstance(hx, tuple) and len(hx) == 2):
            raise TypeError(f"{self._name()} expects hx = (h_0, c_0), two arrays (num_layers, N, hidden), "
                            f"got {type(hx).__name__}")
        return self._state("h_0", hx[0], n, t, dtype), self._state("c_0", hx[1], n, t, dtype)

    def _unpack_grads(self, grad_out, t_len, n):
        state = (self.num_layers, n, self.hidden_size)
        if not isinstance(grad_out, tuple):
            return self._grad_output(grad_out, t_len, n), None, None
        if len(grad_out) != 2 or not (grad_out[1] is None or (isinstance(grad_out[1], tuple)
                                                              and len(grad_out[1]) == 2)):
            raise TypeError(f"{self._name()}.backward expects grad_output or "
                            f"(grad_output, (grad_h_n, grad_c_n)), like forward's (output, (h_n, c_n))")
        g_out, states = grad_out
        g_hn, g_cn = (None, None) if states is None else states
        return (self._grad_output(g_out, t_len, n), _check_grad(self, "grad_h_n", g_hn, state),
                _check_grad(self, "grad_c_n", g_cn, state))
