#!/usr/bin/env python3
"""PyTorch reference values for course_lib's recurrent layers (RNN, LSTM, RNNCell, LSTMCell).

    PYTHONPATH=. /tmp/refvenv/bin/python tools/torch_reference/rnn.py

writes ``tests/fixtures/torch_rnn.npz`` (float64 arrays, PyTorch's reprs and
parameter names as string arrays, the torch version). ``tests/test_rnn.py``
compares course_lib with it and does not need PyTorch. Weights, inputs,
initial states and upstream gradients come from a seeded numpy generator and
are stored in the fixture, so the tests feed course_lib exactly what PyTorch
saw. Each case's constructor arguments are stored too (``<case>/args``, a
JSON string), so a test reads the configuration from the fixture.

Per case ``<case>/``: ``x``; ``h0`` (and ``c0`` for an LSTM) when the initial
state is given, otherwise the module is called with ``hx=None``; the upstream
gradients ``g_out`` (of the output), ``g_hn`` (and ``g_cn``, of the final
state); the results ``out``, ``h_n`` (``c_n``), ``dx``, ``dh0`` (``dc0``, only
when the state was given); ``param/<name>`` and ``grad/<name>`` for every
parameter; ``param_names`` (``named_parameters()`` order) and ``repr``.

The cells (``rnncell_*``, ``lstmcell_*``) are driven by a loop over the T
steps of ``x`` (T, N, input): ``out`` stacks h_1..h_T, ``h_n``/``c_n`` are the
last step's state (N, H), and the loss is
``sum(g_out * out) + sum(g_hn * h_T) (+ sum(g_cn * c_T))``.
Needs: ``pip install torch==2.13.0 numpy`` (CPU build is enough).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from conv import store_args  # each case's arguments as a JSON string, as the conv fixture stores them
from core import n, t  # numpy <-> float64 tensors; this folder is on sys.path when the script runs

ROOT = Path(__file__).resolve().parents[2]
OUT_NPZ = ROOT / "tests" / "fixtures" / "torch_rnn.npz"

torch.set_default_dtype(torch.float64)


def backward_and_store(out: dict, name: str, x, xt, y, finals, g, g_finals, states) -> None:
    """Backpropagate sum(g * y) + sum(g_finals * finals) and store inputs, outputs and gradients.

    ``finals`` is [h_n] or [h_n, c_n]; ``states`` the initial-state tensors, or None when hx was None.
    """
    torch.autograd.backward([y, *finals], [t(g), *(t(a) for a in g_finals)])
    out.update({f"{name}/x": x, f"{name}/g_out": g, f"{name}/g_hn": g_finals[0], f"{name}/out": n(y),
                f"{name}/h_n": n(finals[0]), f"{name}/dx": n(xt.grad)})
    if len(finals) == 2:
        out.update({f"{name}/g_cn": g_finals[1], f"{name}/c_n": n(finals[1])})
    if states is not None:
        out[f"{name}/dh0"] = n(states[0].grad)
        if len(states) == 2:
            out[f"{name}/dc0"] = n(states[1].grad)


def copy_params(out: dict, name: str, mod: nn.Module, rng: np.random.Generator) -> None:
    """Draw every parameter from ``rng`` (wider than PyTorch's init, so the gates leave their linear range).

    A ReLU network's biases are positive, so that most units are active and carry gradient."""
    relu = getattr(mod, "nonlinearity", "tanh") == "relu"
    with torch.no_grad():
        for pname, p in mod.named_parameters():
            low = 0.0 if relu and pname.startswith("bias") else -0.8
            value = rng.uniform(low, 0.8, size=tuple(p.shape))
            p.copy_(t(value))
            out[f"{name}/param/{pname}"] = value
    out[f"{name}/param_names"] = np.array([pname for pname, _ in mod.named_parameters()])
    out[f"{name}/repr"] = np.array(repr(mod))


def store_grads(out: dict, name: str, mod: nn.Module) -> None:
    for pname, p in mod.named_parameters():
        out[f"{name}/grad/{pname}"] = n(p.grad)


# ---------------------------------------------------------------------- RNN / LSTM
SEQ_CASES = {  # name: (class, constructor arguments, (T, N), initial state given)
    "rnn_tanh": (nn.RNN, dict(input_size=3, hidden_size=4), (5, 2), True),
    "rnn_relu_2layer_bf": (nn.RNN, dict(input_size=3, hidden_size=5, num_layers=2, nonlinearity="relu",
                                        batch_first=True), (4, 3), True),
    "rnn_nobias": (nn.RNN, dict(input_size=2, hidden_size=3, bias=False), (6, 2), False),
    "lstm_1layer": (nn.LSTM, dict(input_size=3, hidden_size=4), (5, 2), False),
    "lstm_2layer": (nn.LSTM, dict(input_size=3, hidden_size=4, num_layers=2), (4, 3), True),
    "lstm_bf_hx": (nn.LSTM, dict(input_size=2, hidden_size=3, num_layers=2, batch_first=True), (5, 2), True),
    "lstm_nobias": (nn.LSTM, dict(input_size=3, hidden_size=2, bias=False), (4, 2), True),
}


def seq_cases(out: dict, rng: np.random.Generator) -> None:
    for name, (cls, kwargs, (t_len, batch), given) in SEQ_CASES.items():
        mod = cls(**kwargs)
        copy_params(out, name, mod, rng)
        lstm = cls is nn.LSTM
        layers, hsz = mod.num_layers, mod.hidden_size
        shape = (batch, t_len, mod.input_size) if mod.batch_first else (t_len, batch, mod.input_size)
        x = rng.standard_normal(shape)
        xt = t(x, grad=True)
        states = []
        if given:
            h0 = rng.standard_normal((layers, batch, hsz))
            out[f"{name}/h0"] = h0
            states.append(t(h0, grad=True))
            if lstm:
                c0 = rng.standard_normal((layers, batch, hsz))
                out[f"{name}/c0"] = c0
                states.append(t(c0, grad=True))
            hx = tuple(states) if lstm else states[0]
        else:
            hx = None
        y, hn = mod(xt, hx)
        finals = list(hn) if lstm else [hn]
        g = rng.standard_normal(tuple(y.shape))
        g_finals = [rng.standard_normal(tuple(s.shape)) for s in finals]
        backward_and_store(out, name, x, xt, y, finals, g, g_finals, states if given else None)
        store_grads(out, name, mod)
        store_args(out, name, kwargs)


# ---------------------------------------------------------------------- cells, driven by a loop
CELL_CASES = {  # name: (class, constructor arguments, (T, N), initial state given)
    "rnncell_loop": (nn.RNNCell, dict(input_size=3, hidden_size=4), (4, 2), True),
    "rnncell_relu_nobias": (nn.RNNCell, dict(input_size=2, hidden_size=3, bias=False, nonlinearity="relu"),
                            (3, 3), False),
    "lstmcell_loop": (nn.LSTMCell, dict(input_size=3, hidden_size=4), (4, 2), True),
    "lstmcell_nobias": (nn.LSTMCell, dict(input_size=2, hidden_size=3, bias=False), (3, 2), False),
}


def cell_cases(out: dict, rng: np.random.Generator) -> None:
    for name, (cls, kwargs, (t_len, batch), given) in CELL_CASES.items():
        cell = cls(**kwargs)
        copy_params(out, name, cell, rng)
        lstm = cls is nn.LSTMCell
        hsz = cell.hidden_size
        x = rng.standard_normal((t_len, batch, cell.input_size))
        xt = t(x, grad=True)
        states = []
        if given:
            out[f"{name}/h0"] = rng.standard_normal((batch, hsz))
            states.append(t(out[f"{name}/h0"], grad=True))
            if lstm:
                out[f"{name}/c0"] = rng.standard_normal((batch, hsz))
                states.append(t(out[f"{name}/c0"], grad=True))
            hx = tuple(states) if lstm else states[0]
        else:
            hx = None
        hs = []
        for step in range(t_len):  # the loop the course writes by hand
            hx = cell(xt[step], hx)
            hs.append(hx[0] if lstm else hx)
        y = torch.stack(hs)
        finals = list(hx) if lstm else [hx]
        g = rng.standard_normal(tuple(y.shape))
        g_finals = [rng.standard_normal(tuple(s.shape)) for s in finals]
        backward_and_store(out, name, x, xt, y, finals, g, g_finals, states if given else None)
        store_grads(out, name, cell)
        store_args(out, name, kwargs)


def main() -> None:
    rng = np.random.default_rng(20240610)
    out: dict = {"torch_version": np.array(torch.__version__)}
    seq_cases(out, rng)
    cell_cases(out, rng)
    OUT_NPZ.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT_NPZ, **out)
    print(f"wrote {OUT_NPZ.relative_to(ROOT)} ({OUT_NPZ.stat().st_size} bytes, {len(out)} arrays) "
          f"with torch {torch.__version__}")


if __name__ == "__main__":
    main()
