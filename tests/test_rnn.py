"""RNNCell, LSTMCell, RNN and LSTM.

Gradient checks, the cells' cache stack against the multi-layer modules,
truncated BPTT, initialisation, dtypes, the error messages, and PyTorch parity
against tests/fixtures/torch_rnn.npz (written by tools/torch_reference/rnn.py
with torch 2.13.0; these tests do not import torch, except the last one, which
is skipped without it).
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import gradcheck

REF = np.load(Path(__file__).parent / "fixtures" / "torch_rnn.npz")
RTOL, ATOL = 1e-10, 1e-12  # float64; the recurrences are evaluated in another order than PyTorch's


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def args_of(case: str) -> dict:
    return json.loads(str(REF[f"{case}/args"]))


def cases(prefix: str) -> list[str]:
    return sorted({k.split("/")[0] for k in REF.files if k.startswith(prefix)})


def esc(shape) -> str:
    return re.escape(str(tuple(shape)))


def is_lstm(module) -> bool:
    return isinstance(module, (nn.LSTM, nn.LSTMCell))


def copy_weights(src: nn.Module, dst: nn.Module, rename=lambda name: name) -> None:
    for name, p in src.named_parameters():
        dict(dst.named_parameters())[rename(name)].data[...] = p.data


def grads(module) -> dict:
    return {name: p.grad.copy() for name, p in module.named_parameters()}


def like(out, fill):
    """An array (or nested tuple of arrays) shaped like forward's result, from ``fill(shape)``."""
    return tuple(like(a, fill) for a in out) if isinstance(out, tuple) else fill(out.shape)


def leaves(x) -> list:
    return [b for a in x for b in leaves(a)] if isinstance(x, tuple) else [x]


# ---------------------------------------------------------------------- PyTorch parity (fixture)
CLASSES = {"rnn_": nn.RNN, "lstm_": nn.LSTM, "rnncell_": nn.RNNCell, "lstmcell_": nn.LSTMCell}


def from_fixture(case: str):
    cls = next(c for prefix, c in CLASSES.items() if case.startswith(prefix))
    module = cls(**args_of(case))
    assert repr(module) == str(REF[f"{case}/repr"])
    names = [name for name, _ in module.named_parameters()]
    assert names == list(REF[f"{case}/param_names"])  # PyTorch's named_parameters() order
    for name, p in module.named_parameters():
        assert p.shape == REF[f"{case}/param/{name}"].shape, name
        p.data[...] = REF[f"{case}/param/{name}"]
    return module


def fixture_hx(case: str, lstm: bool):
    if f"{case}/h0" not in REF.files:
        return None
    return (REF[f"{case}/h0"], REF[f"{case}/c0"]) if lstm else REF[f"{case}/h0"]


def test_fixture_made_with_torch_2_13():
    assert str(REF["torch_version"]).startswith("2.13.0")


def test_fixture_has_every_case():
    assert cases("rnn_") == ["rnn_nobias", "rnn_relu_2layer_bf", "rnn_tanh"]
    assert cases("lstm_") == ["lstm_1layer", "lstm_2layer", "lstm_bf_hx", "lstm_nobias"]
    assert cases("rnncell_") == ["rnncell_loop", "rnncell_relu_nobias"]
    assert cases("lstmcell_") == ["lstmcell_loop", "lstmcell_nobias"]


@pytest.mark.parametrize("case", cases("rnn_") + cases("lstm_"))
def test_rnn_lstm_match_torch(case):
    module = from_fixture(case)
    lstm = is_lstm(module)
    hx = fixture_hx(case, lstm)
    out, state = module(REF[f"{case}/x"], hx)
    close(out, REF[f"{case}/out"])
    if lstm:
        close(state[0], REF[f"{case}/h_n"])
        close(state[1], REF[f"{case}/c_n"])
        upstream = (REF[f"{case}/g_out"], (REF[f"{case}/g_hn"], REF[f"{case}/g_cn"]))
    else:
        close(state, REF[f"{case}/h_n"])
        upstream = (REF[f"{case}/g_out"], REF[f"{case}/g_hn"])
    dx, dhx = module.backward(upstream)
    close(dx, REF[f"{case}/dx"])
    if hx is not None:
        close(dhx[0] if lstm else dhx, REF[f"{case}/dh0"])
        if lstm:
            close(dhx[1], REF[f"{case}/dc0"])
    for name, p in module.named_parameters():
        close(p.grad, REF[f"{case}/grad/{name}"])


def run_cell_loop(cell, x, hx):
    """The course's loop: one forward call per time step. Returns the stacked h_t and the last state."""
    hs = []
    for t in range(x.shape[0]):
        hx = cell(x[t], hx)
        hs.append(hx[0] if isinstance(hx, tuple) else hx)
    return np.stack(hs), hx


def backward_cell_loop(cell, g_out, g_last):
    """BPTT by hand: pop the T caches, the last step first, carrying dLoss/dh (and dLoss/dc)."""
    dxs = []
    if isinstance(g_last, tuple):
        dh, dc = g_last
        for t in reversed(range(g_out.shape[0])):
            dx, (dh, dc) = cell.backward((g_out[t] + dh, dc))
            dxs.append(dx)
        return np.stack(dxs[::-1]), (dh, dc)
    dh = g_last
    for t in reversed(range(g_out.shape[0])):
        dx, dh = cell.backward(g_out[t] + dh)
        dxs.append(dx)
    return np.stack(dxs[::-1]), dh


@pytest.mark.parametrize("case", cases("rnncell_") + cases("lstmcell_"))
def test_cells_in_a_loop_match_torch(case):
    cell = from_fixture(case)
    lstm = is_lstm(cell)
    hx = fixture_hx(case, lstm)
    x = REF[f"{case}/x"]
    out, last = run_cell_loop(cell, x, hx)
    assert cell.cache_depth == x.shape[0]
    close(out, REF[f"{case}/out"])
    close(last[0] if lstm else last, REF[f"{case}/h_n"])
    if lstm:
        close(last[1], REF[f"{case}/c_n"])
    g_last = (REF[f"{case}/g_hn"], REF[f"{case}/g_cn"]) if lstm else REF[f"{case}/g_hn"]
    dx, dh0 = backward_cell_loop(cell, REF[f"{case}/g_out"], g_last)
    assert cell.cache_depth == 0
    close(dx, REF[f"{case}/dx"])
    if hx is not None:
        close(dh0[0] if lstm else dh0, REF[f"{case}/dh0"])
        if lstm:
            close(dh0[1], REF[f"{case}/dc0"])
    for name, p in cell.named_parameters():
        close(p.grad, REF[f"{case}/grad/{name}"])


def test_reprs_and_exports():
    assert repr(nn.RNN(3, 4)) == "RNN(3, 4)"
    assert repr(nn.RNN(3, 4, num_layers=2, nonlinearity="relu", batch_first=True)) == \
        "RNN(3, 4, num_layers=2, batch_first=True)"  # PyTorch's RNN does not print its nonlinearity
    assert repr(nn.LSTM(3, 4, bias=False)) == "LSTM(3, 4, bias=False)"
    assert repr(nn.RNNCell(3, 4, bias=False, nonlinearity="relu")) == "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    assert repr(nn.LSTMCell(2, 5)) == "LSTMCell(2, 5)"
    for name in ("RNNCell", "LSTMCell", "RNN", "LSTM"):
        assert name in nn.__all__ and hasattr(nn, name)


def test_parameter_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    assert {n: p.shape for n, p in lstm.named_parameters()} == {
        "weight_ih_l0": (16, 3), "weight_hh_l0": (16, 4), "bias_ih_l0": (16,), "bias_hh_l0": (16,),
        "weight_ih_l1": (16, 4), "weight_hh_l1": (16, 4), "bias_ih_l1": (16,), "bias_hh_l1": (16,)}
    assert [n for n, _ in nn.RNN(2, 3, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    cell = nn.RNNCell(2, 3, bias=False)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]
    assert cell.bias_ih is None and cell.bias_hh is None


# ---------------------------------------------------------------------- gradcheck
SEQ_CONFIGS = [  # (class, kwargs, (T, N))
    (nn.RNN, dict(input_size=3, hidden_size=4), (4, 2)),
    (nn.RNN, dict(input_size=2, hidden_size=3, num_layers=2), (3, 2)),
    (nn.RNN, dict(input_size=3, hidden_size=3, nonlinearity="relu"), (4, 2)),
    (nn.RNN, dict(input_size=2, hidden_size=3, num_layers=2, batch_first=True, bias=False), (3, 2)),
    (nn.LSTM, dict(input_size=3, hidden_size=3), (4, 2)),
    (nn.LSTM, dict(input_size=2, hidden_size=3, num_layers=2), (3, 2)),
    (nn.LSTM, dict(input_size=2, hidden_size=2, num_layers=2, batch_first=True), (3, 2)),
    (nn.LSTM, dict(input_size=3, hidden_size=2, bias=False), (3, 2)),
]
SEQ_IDS = [f"{c.__name__}-" + "-".join(f"{k}={v}" for k, v in kw.items() if k not in ("input_size", "hidden_size"))
           for c, kw, _ in SEQ_CONFIGS]


def make_seq(cls, kw, tn, rng):
    module = cls(**kw, generator=rng)
    t_len, batch = tn
    x = rng.standard_normal((batch, t_len, kw["input_size"]) if kw.get("batch_first") else
                            (t_len, batch, kw["input_size"]))
    shape = (module.num_layers, batch, module.hidden_size)
    hx = (rng.standard_normal(shape), rng.standard_normal(shape)) if cls is nn.LSTM else rng.standard_normal(shape)
    return module, x, hx


@pytest.mark.parametrize("cls,kw,tn", SEQ_CONFIGS, ids=SEQ_IDS)
def test_rnn_lstm_gradcheck_with_and_without_hx(cls, kw, tn):
    module, x, hx = make_seq(cls, kw, tn, np.random.default_rng(0))
    assert gradcheck(module, x, hx)  # output and final state both get an upstream gradient
    assert gradcheck(module, x)      # hx=None: zeros


class FinalStateOnly(nn.Module):
    """A loss on the last state only: forward returns h_n (or (h_n, c_n)), backward passes (None, g)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, hx):
        return self.rnn(x, hx)[1]

    def backward(self, grad_out):
        return self.rnn.backward((None, grad_out))


@pytest.mark.parametrize("cls,kw,tn", SEQ_CONFIGS, ids=SEQ_IDS)
def test_gradcheck_grads_wrt_final_state_only(cls, kw, tn):
    module, x, hx = make_seq(cls, kw, tn, np.random.default_rng(1))
    assert gradcheck(FinalStateOnly(module), x, hx)


@pytest.mark.parametrize("kw", [dict(), dict(nonlinearity="relu"), dict(bias=False)], ids=["tanh", "relu", "nobias"])
def test_rnncell_gradcheck(kw):
    rng = np.random.default_rng(2)
    cell = nn.RNNCell(3, 4, **kw, generator=rng)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    assert gradcheck(cell, x, h)
    assert gradcheck(cell, x)


@pytest.mark.parametrize("bias", [True, False])
def test_lstmcell_gradcheck(bias):
    rng = np.random.default_rng(3)
    cell = nn.LSTMCell(3, 4, bias=bias, generator=rng)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    assert gradcheck(cell, x, (h, c))
    assert gradcheck(cell, x)


def test_gradcheck_of_a_cell_loop_through_time():
    """Three steps of a cell as one function: the popped caches chain through time."""
    rng = np.random.default_rng(4)
    cell = nn.LSTMCell(2, 3, generator=rng)

    class Unrolled(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell

        def forward(self, x, hx):
            self.cell.clear_cache()  # gradcheck's extra forward calls are never backpropagated
            return run_cell_loop(self.cell, x, hx)[0]

        def backward(self, grad_out):
            z = np.zeros(grad_out.shape[1:])
            return backward_cell_loop(self.cell, grad_out, (z, z))

    assert gradcheck(Unrolled(), rng.standard_normal((3, 2, 2)), (rng.standard_normal((2, 3)),
                                                                  rng.standard_normal((2, 3))))


# ---------------------------------------------------------------------- the cells' cache stack
@pytest.mark.parametrize("lstm,nonlinearity", [(False, "tanh"), (False, "relu"), (True, None)],
                         ids=["RNN-tanh", "RNN-relu", "LSTM"])
def test_cell_stack_reproduces_the_sequence_module(lstm, nonlinearity):
    rng = np.random.default_rng(5)
    kw = {} if lstm else dict(nonlinearity=nonlinearity)
    seq = (nn.LSTM if lstm else nn.RNN)(3, 4, **kw, generator=rng)
    cell = (nn.LSTMCell if lstm else nn.RNNCell)(3, 4, **kw, generator=np.random.default_rng(99))
    copy_weights(cell, seq, rename=lambda name: name + "_l0")  # the cell's weights into the layer
    t_len, batch = 6, 3
    x = rng.standard_normal((t_len, batch, 3))
    h0, c0 = rng.standard_normal((batch, 4)), rng.standard_normal((batch, 4))
    g_out, g_h, g_c = (rng.standard_normal((t_len, batch, 4)), rng.standard_normal((batch, 4)),
                       rng.standard_normal((batch, 4)))

    out, last = run_cell_loop(cell, x, (h0, c0) if lstm else h0)
    assert cell.cache_depth == t_len
    dx, dstate = backward_cell_loop(cell, g_out, (g_h, g_c) if lstm else g_h)
    assert cell.cache_depth == 0

    seq_out, seq_state = seq(x, (h0[None], c0[None]) if lstm else h0[None])
    seq_dx, seq_dstate = seq.backward((g_out, (g_h[None], g_c[None])) if lstm else (g_out, g_h[None]))
    close(out, seq_out, rtol=1e-13, atol=1e-14)
    close(dx, seq_dx, rtol=1e-12, atol=1e-13)
    if lstm:
        close(last[0], seq_state[0][0], rtol=1e-13, atol=1e-14)
        close(last[1], seq_state[1][0], rtol=1e-13, atol=1e-14)
        close(dstate[0], seq_dstate[0][0], rtol=1e-12, atol=1e-13)
        close(dstate[1], seq_dstate[1][0], rtol=1e-12, atol=1e-13)
    else:
        close(last, seq_state[0], rtol=1e-13, atol=1e-14)
        close(dstate, seq_dstate[0], rtol=1e-12, atol=1e-13)
    for name, p in cell.named_parameters():
        close(p.grad, dict(seq.named_parameters())[name + "_l0"].grad, rtol=1e-12, atol=1e-13)


def test_cell_stack_pops_the_latest_call_first():
    rng = np.random.default_rng(6)
    cell = nn.RNNCell(2, 3, generator=rng)
    xa, xb = rng.standard_normal((1, 2)), rng.standard_normal((1, 2))
    cell(xa)
    cell(xb)
    g = rng.standard_normal((1, 3))
    dx_b, _ = cell.backward(g)  # pops the call on xb
    ref = nn.RNNCell(2, 3)
    copy_weights(cell, ref)
    ref(xb)
    close(dx_b, ref.backward(g)[0], rtol=0, atol=0)
    assert cell.cache_depth == 1
    ref(xa)
    close(cell.backward(g)[0], ref.backward(g)[0], rtol=0, atol=0)


@pytest.mark.parametrize("make", [lambda: nn.RNNCell(2, 3), lambda: nn.LSTMCell(2, 3)], ids=["RNNCell", "LSTMCell"])
def test_cell_stack_empty_clear_and_depth(make):
    cell = make()
    g = (np.zeros((1, 3)), None) if is_lstm(cell) else np.zeros((1, 3))
    name = type(cell).__name__
    with pytest.raises(RuntimeError, match=rf"{name}\(2, 3\): backward\(\) called more often than forward\(\)"):
        cell.backward(g)
    assert cell.cache_depth == 0
    hx = None
    for _ in range(4):
        hx = cell(np.ones((1, 2)), hx)
    assert cell.cache_depth == 4
    cell.backward(g)
    assert cell.cache_depth == 3
    cell.clear_cache()
    assert cell.cache_depth == 0
    with pytest.raises(RuntimeError, match="called more often than forward"):
        cell.backward(g)
    # a module's clear_cache reaches the cells inside it
    net = nn.ModuleList([make(), make()])
    net[0](np.ones((1, 2)))
    net[1](np.ones((1, 2)))
    net.clear_cache()
    assert net[0].cache_depth == net[1].cache_depth == 0


@pytest.mark.parametrize("make", [lambda: nn.RNNCell(2, 3), lambda: nn.LSTMCell(2, 3)], ids=["RNNCell", "LSTMCell"])
def test_a_wrong_backward_call_keeps_the_cache(make):
    cell = make()
    cell(np.ones((2, 2)))
    bad = (np.zeros((2, 4)), None) if is_lstm(cell) else np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"expects grad_\w* ?.*of .*shape \(2, 3\), got \(2, 4\)"):
        cell.backward(bad)
    assert cell.cache_depth == 1
    if is_lstm(cell):
        with pytest.raises(TypeError, match=r"backward expects \(grad_h, grad_c\)"):
            cell.backward(np.zeros((2, 3)))
        assert cell.cache_depth == 1
    cell.backward((np.zeros((2, 3)), None) if is_lstm(cell) else np.zeros((2, 3)))
    assert cell.cache_depth == 0


# ---------------------------------------------------------------------- accumulation, input_grad, dtypes
ALL_MAKERS = {
    "RNNCell": lambda: nn.RNNCell(3, 4, generator=np.random.default_rng(7)),
    "LSTMCell": lambda: nn.LSTMCell(3, 4, generator=np.random.default_rng(7)),
    "RNN": lambda: nn.RNN(3, 4, num_layers=2, generator=np.random.default_rng(7)),
    "LSTM": lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True, generator=np.random.default_rng(7)),
    "RNN-1layer-relu": lambda: nn.RNN(3, 4, nonlinearity="relu", generator=np.random.default_rng(7)),
}


def is_cell(module) -> bool:
    return isinstance(module, (nn.RNNCell, nn.LSTMCell))


def one_pass(module, rng, input_grad=True):
    """Forward and backward with upstream gradients for every output; returns backward's result."""
    x = rng.standard_normal((2, 3) if is_cell(module) else (4, 2, 3))
    hx = None  # zeros; a cell then gets a state, or weight_hh would get no gradient
    if is_cell(module):
        hx = like((np.zeros((2, 4)),) * 2, rng.standard_normal) if is_lstm(module) else rng.standard_normal((2, 4))
    g = like(module(x, hx), rng.standard_normal)
    return x, module.backward(g, input_grad=input_grad)


@pytest.mark.parametrize("name", ALL_MAKERS)
def test_parameter_gradients_accumulate(name):
    module = ALL_MAKERS[name]()
    one_pass(module, np.random.default_rng(8))
    once = grads(module)
    assert all(np.any(g != 0) for g in once.values())
    one_pass(module, np.random.default_rng(8))
    for pname, p in module.named_parameters():
        close(p.grad, 2 * once[pname], rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ALL_MAKERS)
def test_input_grad_false_same_param_grads_returns_none(name):
    a, b = ALL_MAKERS[name](), ALL_MAKERS[name]()
    x, (dx, dstate) = one_pass(a, np.random.default_rng(9))
    _, (dx_b, dstate_b) = one_pass(b, np.random.default_rng(9), input_grad=False)
    assert dx.shape == x.shape and dx_b is None
    for sa, sb in zip(leaves(dstate), leaves(dstate_b), strict=True):
        assert np.array_equal(sa, sb)  # the state's gradient is still returned, bit-identical
    for (pname, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert np.array_equal(pa.grad, pb.grad), pname
    a(x)
    with pytest.raises(TypeError, match="input_grad to be True or False"):
        a.backward(None, input_grad=1)


@pytest.mark.parametrize("name", ALL_MAKERS)
def test_float32_layers_give_float32(name):
    module = ALL_MAKERS[name]().float()
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3) if is_cell(module) else (4, 2, 3)).astype(np.float32)
    out = module(x)
    assert all(a.dtype == np.float32 for a in leaves(out))
    dx, dstate = module.backward(like(out, lambda shape: np.ones(shape, np.float32)))
    assert dx.dtype == np.float32
    assert all(a.dtype == np.float32 for a in leaves(dstate))
    assert all(p.data.dtype == p.grad.dtype == np.float32 for p in module.parameters())


def test_layers_do_not_modify_their_arguments():
    rng = np.random.default_rng(11)
    lstm = nn.LSTM(3, 4, num_layers=2, generator=rng)
    x, h0, c0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((2, 2, 4)), rng.standard_normal((2, 2, 4))
    copies = [a.copy() for a in (x, h0, c0)]
    out, (hn, cn) = lstm(x, (h0, c0))
    g = [rng.standard_normal(a.shape) for a in (out, hn, cn)]
    g0 = [a.copy() for a in g]
    lstm.backward((g[0], (g[1], g[2])))
    for a, b in zip((x, h0, c0, *g), (*copies, *g0)):
        assert np.array_equal(a, b)


# ---------------------------------------------------------------------- initialisation
@pytest.mark.parametrize("make,hidden", [
    (lambda g: nn.RNN(10, 64, num_layers=2, generator=g), 64),
    (lambda g: nn.LSTM(5, 36, num_layers=2, generator=g), 36),
    (lambda g: nn.RNNCell(7, 49, generator=g), 49),
    (lambda g: nn.LSTMCell(20, 25, generator=g), 25),
])
def test_init_uniform_within_one_over_sqrt_hidden(make, hidden):
    module = make(np.random.default_rng(12))
    bound = 1 / math.sqrt(hidden)  # every weight and bias, as PyTorch's reset_parameters
    for name, p in module.named_parameters():
        v = p.data.ravel()
        assert np.abs(v).max() <= bound, name
        if v.size >= 500:  # the weights: the spread of a uniform distribution
            assert np.abs(v).max() > 0.98 * bound, name
            assert v.std() == pytest.approx(bound / math.sqrt(3), rel=0.08), name
            assert abs(v.mean()) < 0.1 * bound, name
            hist = np.histogram(v, bins=4, range=(-bound, bound))[0]
            assert hist.min() > 0.7 * v.size / 4, name  # flat, not bell-shaped
    all_values = np.concatenate([p.data.ravel() for p in module.parameters()])
    assert all_values.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    again = make(np.random.default_rng(12))
    for (name, p), (_, q) in zip(module.named_parameters(), again.named_parameters()):
        assert np.array_equal(p.data, q.data), name  # the generator makes it reproducible


# ---------------------------------------------------------------------- truncated BPTT
@pytest.mark.parametrize("lstm", [False, True], ids=["RNN", "LSTM"])
def test_truncated_bptt_chunks(lstm):
    rng = np.random.default_rng(13)
    cls, cell_cls = (nn.LSTM, nn.LSTMCell) if lstm else (nn.RNN, nn.RNNCell)
    seq = cls(3, 4, generator=rng)
    t_len, batch, chunk = 12, 2, 4
    x = rng.standard_normal((t_len, batch, 3))
    full_out, full_state = seq(x)

    # forward in chunks, the final state carried as the next chunk's hx: the same outputs
    hx, outs = None, []
    for start in range(0, t_len, chunk):
        if start == t_len - chunk:
            hx_last = hx
        o, hx = seq(x[start:start + chunk], hx)
        outs.append(o)
    close(np.concatenate(outs), full_out, rtol=1e-13, atol=1e-14)
    for a, b in zip(hx if lstm else (hx,), full_state if lstm else (full_state,)):
        close(a, b, rtol=1e-13, atol=1e-14)

    # the last chunk's gradients, with its hx fixed (as a constant: dh stops at the boundary)
    g = rng.standard_normal((chunk, batch, 4))
    seq.zero_grad()
    seq(x[-chunk:], hx_last)
    dx_chunk, dh_boundary = seq.backward(g)
    chunk_grads = grads(seq)

    # the same from the full sequence run by a cell: upstream zero outside the last chunk,
    # and backward stopped at the boundary (the cut), the earlier caches dropped
    cell = cell_cls(3, 4)
    copy_weights(seq, cell, rename=lambda name: name.removesuffix("_l0"))
    hs, _ = run_cell_loop(cell, x, None)
    close(hs, full_out, rtol=1e-13, atol=1e-14)
    z = np.zeros((batch, 4))
    dx_cut, dh_cut = backward_cell_loop(cell, g, (z, z) if lstm else z)  # pops the last `chunk` calls only
    assert cell.cache_depth == t_len - chunk
    cell.clear_cache()
    close(dx_cut, dx_chunk, rtol=1e-12, atol=1e-13)
    for a, b in zip(dh_cut if lstm else (dh_cut,), dh_boundary if lstm else (dh_boundary,)):
        close(a, b[0], rtol=1e-12, atol=1e-13)
    for name, p in cell.named_parameters():
        close(p.grad, chunk_grads[name + "_l0"], rtol=1e-12, atol=1e-13)

    # without the cut the full-sequence backward differs: dh flows on into the earlier steps
    seq.zero_grad()
    seq(x)
    g_full = np.zeros((t_len, batch, 4))
    g_full[-chunk:] = g
    dx_full, _ = seq.backward(g_full)
    close(dx_full[-chunk:], dx_chunk, rtol=1e-12, atol=1e-13)  # within the chunk: the same
    assert np.abs(dx_full[:-chunk]).max() > 1e-3                 # before it: not zero
    assert not np.allclose(seq.weight_hh_l0.grad, chunk_grads["weight_hh_l0"], rtol=1e-3)


# ---------------------------------------------------------------------- errors
def test_wrong_input_size():
    with pytest.raises(ValueError, match=r"RNN\(3, 4\) expects input of shape \(T, N, 3\) \(input_size = 3 on "
                                         r"the last axis\), got \(5, 2, 2\)"):
        nn.RNN(3, 4)(np.zeros((5, 2, 2)))
    with pytest.raises(ValueError, match=r"LSTM\(3, 4, batch_first=True\) expects input of shape \(N, T, 3\)"):
        nn.LSTM(3, 4, batch_first=True)(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"RNNCell\(3, 4\) expects input of shape \(N, 3\), got \(2, 2\)"):
        nn.RNNCell(3, 4)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"LSTMCell\(3, 4\) expects input of shape \(N, 3\), got \(5, 2, 3\) "
                                         r"\(a cell takes one time step"):
        nn.LSTMCell(3, 4)(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"RNNCell\(3, 4\) expects one time step of a batch.*1-D.*x\[None\]"):
        nn.RNNCell(3, 4)(np.zeros(3))


def test_2d_input_asks_for_the_batch_axis():
    with pytest.raises(ValueError, match=r"RNN\(3, 4\) expects a batch of sequences \(T, N, input\), got a 2-D "
                                         r"input of shape \(5, 3\); .*x\[:, None\]"):
        nn.RNN(3, 4)(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"LSTM\(3, 4, batch_first=True\) expects a batch of sequences "
                                         r"\(N, T, input\).*x\[None\]"):
        nn.LSTM(3, 4, batch_first=True)(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"expects a batch of sequences \(T, N, input\), got shape \(1, 5, 2, 3\)"):
        nn.RNN(3, 4)(np.zeros((1, 5, 2, 3)))


def test_hx_batch_equal_to_sequence_length_names_batch_first():
    # x is (N=5, T=2, 3) but the layer reads it as (T=5, N=2, 3); an hx made for N=5 gives it away
    with pytest.raises(ValueError, match=r"RNN\(3, 4\) expects hx of shape \(num_layers, N, hidden\) = \(1, 2, 4\), "
                                         r"got \(1, 5, 4\): its batch size 5 is the input's sequence length; "
                                         r"with batch_first=False the batch is axis 1.*batch_first=True\?"):
        nn.RNN(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 5, 4)))
    z = np.zeros((2, 5, 4))
    with pytest.raises(ValueError, match=r"expects h_0 of shape .* = \(2, 5, 4\), got \(2, 2, 4\): its batch size 2 "
                                         r"is the input's sequence length; with batch_first=True the batch is "
                                         r"axis 0.*batch_first=False\?"):
        nn.LSTM(3, 4, num_layers=2, batch_first=True)(np.zeros((5, 2, 3)), (np.zeros((2, 2, 4)), z))


def test_hx_without_the_layer_axis():
    with pytest.raises(ValueError, match=r"RNN\(3, 4\) expects hx of shape \(num_layers, N, hidden\) = \(1, 2, 4\), "
                                         r"got \(2, 4\); add the layer axis: hx\[None\]"):
        nn.RNN(3, 4)(np.zeros((5, 2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"expects c_0 of shape .*got \(2, 4\); add the layer axis: c_0\[None\]"):
        nn.LSTM(3, 4)(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 4))))
    with pytest.raises(ValueError, match=r"RNNCell\(3, 4\) expects hx of shape \(2, 4\), got \(1, 2, 4\)"):
        nn.RNNCell(3, 4)(np.zeros((2, 3)), np.zeros((1, 2, 4)))


def test_lstm_and_rnn_state_types():
    with pytest.raises(TypeError, match=r"LSTM\(3, 4\) expects hx = \(h_0, c_0\), two arrays .*got ndarray"):
        nn.LSTM(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4)))
    with pytest.raises(TypeError, match=r"LSTMCell\(3, 4\) expects hx = \(h, c\).*got ndarray"):
        nn.LSTMCell(3, 4)(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(TypeError, match=r"RNN\(3, 4\) expects hx to be one array .*got a tuple \(a tuple \(h, c\) "
                                        r"is the LSTM's state\)"):
        nn.RNN(3, 4)(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 2, 4))))


def test_wrong_grad_shapes():
    rnn = nn.RNN(3, 4, num_layers=2, batch_first=True)
    with pytest.raises(RuntimeError, match=r"RNN\(3, 4, num_layers=2, batch_first=True\): backward\(\) called "
                                           r"before forward\(\)"):
        rnn.backward(np.zeros((2, 5, 4)))
    rnn(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"backward expects grad_output \(the output's gradient\) of shape "
                                         r"\(2, 5, 4\), got \(5, 2, 4\)"):
        rnn.backward(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"backward expects grad_h_n of shape \(2, 2, 4\), got \(2, 4\)"):
        rnn.backward((None, np.zeros((2, 4))))
    with pytest.raises(TypeError, match=r"expects grad_output or \(grad_output, grad_h_n\), got a tuple of 3"):
        rnn.backward((None, None, None))
    lstm = nn.LSTM(3, 4)
    lstm(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"LSTM\(3, 4\)\.backward expects grad_c_n of shape \(1, 2, 4\), got \(1, 2, 3\)"):
        lstm.backward((np.zeros((5, 2, 4)), (None, np.zeros((1, 2, 3)))))
    with pytest.raises(TypeError, match=r"expects grad_output or \(grad_output, \(grad_h_n, grad_c_n\)\)"):
        lstm.backward((np.zeros((5, 2, 4)), np.zeros((1, 2, 4))))  # the RNN's form
    with pytest.raises(ValueError, match=r"RNNCell\(3, 4\)\.backward expects grad_out of the output's shape \(2, 4\), "
                                         r"got \(4, 2\)"):
        cell = nn.RNNCell(3, 4)
        cell(np.zeros((2, 3)))
        cell.backward(np.zeros((4, 2)))
    cell = nn.LSTMCell(3, 4)
    cell(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"LSTMCell\(3, 4\)\.backward expects grad_h of shape \(2, 4\), got \(2, 3\)"):
        cell.backward((np.zeros((2, 3)), None))


@pytest.mark.parametrize("make,x", [
    (lambda: nn.RNN(3, 4), np.zeros((5, 2, 3), dtype=np.int64)),
    (lambda: nn.LSTM(3, 4), np.zeros((5, 2, 3), dtype=np.int64)),
    (lambda: nn.RNNCell(3, 4), np.zeros((2, 3), dtype=np.int64)),
    (lambda: nn.LSTMCell(3, 4), np.zeros((2, 3), dtype=np.int32)),
], ids=["RNN", "LSTM", "RNNCell", "LSTMCell"])
def test_integer_input(make, x):
    layer = make()
    with pytest.raises(TypeError, match=rf"{type(layer).__name__}\(3, 4\) expects a floating-point input, "
                                        rf"got dtype {x.dtype}.*astype\(np\.float64\)"):
        layer(x)


def test_integer_hx():
    with pytest.raises(TypeError, match=r"RNN\(3, 4\) expects a floating-point input, got dtype int64"):
        nn.RNN(3, 4)(np.zeros((5, 2, 3)), np.zeros((1, 2, 4), dtype=np.int64))


@pytest.mark.parametrize("make,x", [
    (lambda: nn.RNN(3, 4), np.zeros((5, 2, 3), dtype=np.float32)),
    (lambda: nn.LSTM(3, 4), np.zeros((5, 2, 3), dtype=np.float32)),
    (lambda: nn.RNNCell(3, 4), np.zeros((2, 3), dtype=np.float32)),
    (lambda: nn.LSTMCell(3, 4), np.zeros((2, 3), dtype=np.float32)),
], ids=["RNN", "LSTM", "RNNCell", "LSTMCell"])
def test_float32_input_into_a_float64_layer(make, x):
    with pytest.raises(TypeError, match=r"has float64 parameters but got float32 input.*\.to\(np\.float32\)"):
        make()(x)


def test_float32_hx_into_a_float64_layer():
    with pytest.raises(TypeError, match="has float64 parameters but got float32 input"):
        nn.LSTM(3, 4)(np.zeros((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 2, 4), dtype=np.float32)))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="RNN: num_layers must be a positive int, got 0"):
        nn.RNN(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="LSTM: num_layers must be a positive int, got 1.5"):
        nn.LSTM(3, 4, num_layers=1.5)
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="RNNCell: nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="RNN: bias must be True or False, got 1"):
        nn.RNN(3, 4, bias=1)
    with pytest.raises(TypeError, match="LSTMCell: bias must be True or False, got 1"):
        nn.LSTMCell(3, 4, bias=1)
    with pytest.raises(TypeError, match="LSTM: batch_first must be True or False, got 1"):
        nn.LSTM(3, 4, batch_first=1)
    with pytest.raises(ValueError, match="LSTM: input_size must be a positive int, got 0"):
        nn.LSTM(0, 4)
    with pytest.raises(ValueError, match="RNNCell: hidden_size must be a positive int, got True"):
        nn.RNNCell(3, True)


# ---------------------------------------------------------------------- live PyTorch (optional)
def test_live_torch_lstm_and_rnn():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    for ours, theirs in ((nn.LSTM(3, 5, num_layers=2, batch_first=True, generator=rng),
                          torch.nn.LSTM(3, 5, num_layers=2, batch_first=True).double()),
                         (nn.RNN(3, 5, num_layers=2, nonlinearity="relu", generator=rng),
                          torch.nn.RNN(3, 5, num_layers=2, nonlinearity="relu").double())):
        lstm = is_lstm(ours)
        assert repr(ours) == repr(theirs)
        assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
        with torch.no_grad():
            for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
                q.copy_(torch.from_numpy(p.data))
        x = rng.standard_normal((4, 6, 3))
        h0 = rng.standard_normal((2, 4 if lstm else 6, 5))
        c0 = rng.standard_normal(h0.shape)
        xt, h0t, c0t = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
        yt, st = theirs(xt, (h0t, c0t) if lstm else h0t)
        finals = list(st) if lstm else [st]
        g = [rng.standard_normal(tuple(a.shape)) for a in (yt, *finals)]
        torch.autograd.backward([yt, *finals], [torch.from_numpy(a) for a in g])
        y, s = ours(x, (h0, c0) if lstm else h0)
        close(y, yt.detach().numpy())
        dx, ds = ours.backward((g[0], (g[1], g[2])) if lstm else (g[0], g[1]))
        close(dx, xt.grad.numpy())
        close(ds[0] if lstm else ds, h0t.grad.numpy())
        if lstm:
            close(ds[1], c0t.grad.numpy())
        for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            close(p.grad, q.grad.numpy())
