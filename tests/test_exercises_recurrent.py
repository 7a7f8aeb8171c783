"""Checkers of notebook 09 (recurrent networks): accept the solution, name each classic mistake, never raise."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises import recurrent
from course_lib.exercises.recurrent import (
    check_clip_grad_norm,
    check_lstm_gates,
    check_rnn_bptt_two_steps,
    check_rnn_step,
    clip_grad_norm_solution,
    lstm_gates_solution,
    rnn_bptt_two_steps_solution,
    rnn_step_solution,
)
from course_lib.gradcheck import numerical_gradient


def _stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))  # a learner's sigmoid: fine for the checkers' inputs


def _distinct(arrays) -> bool:
    """No two of ``arrays`` are equal (same shape and values)."""
    return not any(np.shape(a) == np.shape(b) and np.allclose(a, b) for a, b in itertools.combinations(arrays, 2))


def _flat(arrays) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in arrays])


# ============================================================================ the reference solutions
def test_stable_sigmoid_never_overflows():
    z = np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in np.exp would raise here
        s = recurrent._sigmoid(z)
    np.testing.assert_allclose(s[1:-1], 1 / (1 + np.exp(-z[1:-1])), rtol=1e-15)
    assert s[0] == 0.0 and s[-1] == 1.0


def _set(param, value):
    param.data[...] = value


def test_rnn_step_solution_matches_course_rnn_cell():
    from course_lib import nn
    for x, h, W_ih, W_hh, b_ih, b_hh in recurrent._rnn_step_cases():
        cell = nn.RNNCell(x.shape[1], h.shape[1])
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            _set(getattr(cell, name), value)
        np.testing.assert_allclose(rnn_step_solution(x, h, W_ih, W_hh, b_ih, b_hh), cell(x, h), rtol=1e-12)


def test_rnn_bptt_solution_matches_finite_differences():
    for x1, x2, h0, W_ih, W_hh, b, g in recurrent._bptt_cases():
        def loss(_):  # reads the arrays numerical_gradient perturbs in place
            h1 = np.tanh(x1 @ W_ih.T + h0 @ W_hh.T + b)
            return float(np.sum(np.tanh(x2 @ W_ih.T + h1 @ W_hh.T + b) * g))

        want = [numerical_gradient(loss, a) for a in (W_hh, W_ih, b, h0)]
        for got, num in zip(rnn_bptt_two_steps_solution(x1, x2, h0, W_ih, W_hh, b, g), want):
            np.testing.assert_allclose(got, num, rtol=1e-6, atol=1e-8)


def test_rnn_bptt_solution_matches_course_rnn_cell_backward():
    from course_lib import nn
    for x1, x2, h0, W_ih, W_hh, b, g in recurrent._bptt_cases():
        cell = nn.RNNCell(x1.shape[1], h0.shape[1])
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b), ("bias_hh", 0 * b)):
            _set(getattr(cell, name), value)
        h1 = cell(x1, h0)
        cell(x2, h1)
        _, dh1 = cell.backward(g)     # step 2 first: the cell's cache is a stack
        _, dh0 = cell.backward(dh1)
        dW_hh, dW_ih, db, want_dh0 = rnn_bptt_two_steps_solution(x1, x2, h0, W_ih, W_hh, b, g)
        np.testing.assert_allclose(dW_hh, cell.weight_hh.grad, rtol=1e-12)
        np.testing.assert_allclose(dW_ih, cell.weight_ih.grad, rtol=1e-12)
        np.testing.assert_allclose(db, cell.bias_ih.grad, rtol=1e-12)
        np.testing.assert_allclose(want_dh0, dh0, rtol=1e-12)


def test_lstm_gates_solution_matches_course_lstm_cell():
    from course_lib import nn
    rng = np.random.default_rng(5)
    for n, i, hs in ((3, 5, 4), (2, 2, 3)):
        cell = nn.LSTMCell(i, hs, generator=np.random.default_rng(0))
        for p in cell.parameters():
            _set(p, rng.uniform(-1.5, 1.5, p.shape))
        x, h, c = rng.standard_normal((n, i)), rng.uniform(-1, 1, (n, hs)), rng.uniform(-2, 2, (n, hs))
        gates = x @ cell.weight_ih.data.T + cell.bias_ih.data + h @ cell.weight_hh.data.T + cell.bias_hh.data
        want_h, want_c = cell.forward(x, (h, c))
        got_h, got_c = lstm_gates_solution(gates, c)
        np.testing.assert_allclose(got_h, want_h, rtol=1e-12)
        np.testing.assert_allclose(got_c, want_c, rtol=1e-12)


def test_clip_grad_norm_solution_matches_course_clip_grad_norm_():
    from course_lib.nn import Parameter
    from course_lib.optim.clip import clip_grad_norm_
    for _, grads, max_norm in recurrent._clip_cases() + [("zero", [np.zeros((2, 2)), np.zeros(3)], 1.0)]:
        before = [g.copy() for g in grads]
        params = [Parameter(np.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g.copy()
        want_norm = clip_grad_norm_(params, max_norm)
        got, norm = clip_grad_norm_solution(grads, max_norm)
        assert isinstance(norm, float) and norm == pytest.approx(want_norm, rel=1e-12)
        for a, p in zip(got, params):
            np.testing.assert_allclose(a, p.grad, rtol=1e-12)
        for g, b in zip(grads, before):  # the solution leaves its inputs alone
            np.testing.assert_array_equal(g, b)


def test_the_mistake_makers_are_right_with_no_mistake():
    for args in recurrent._bptt_cases():
        for got, want in zip(recurrent._bptt(*args), rnn_bptt_two_steps_solution(*args)):
            np.testing.assert_array_equal(got, want)
    for gates, c in recurrent._lstm_cases():
        for got, want in zip(recurrent._lstm(gates, c), lstm_gates_solution(gates, c)):
            np.testing.assert_array_equal(got, want)


# ============================================================================ the test inputs separate the mistakes
def test_rnn_step_cases_separate_every_mistake():
    cases = recurrent._rnn_step_cases()
    (x, h, W_ih, W_hh, *_), (xb, hb, W_ihb, *_) = cases
    assert x.shape[1] == W_ih.shape[0] != x.shape[0]  # I = H (square W_ih), N != H
    assert xb.shape[1] != W_ihb.shape[0]                # rectangular
    for args in cases:
        assert not np.allclose(args[3], args[3].T)       # W_hh not symmetric
        outs = [rnn_step_solution(*args)]
        for make, _ in recurrent._rnn_step_variants(*args):
            try:
                outs.append(make())
            except ValueError:  # x @ W_ih does not fit in the rectangular case
                assert args[0].shape[1] != args[2].shape[0]
        assert _distinct(outs)
    assert len(recurrent._rnn_step_variants(*cases[0])) == 17


def test_bptt_cases_separate_every_mistake_output_by_output():
    for args in recurrent._bptt_cases():
        n, i = args[0].shape
        hs = args[2].shape[1]
        assert len({n, i, hs}) == 3 and n != 2  # four different shapes; per example (N, H) is not per step (2, H)
        assert not np.allclose(args[4], args[4].T)
        right = rnn_bptt_two_steps_solution(*args)
        variants = [(recurrent._bptt(*args, **kw), hint) for kw, hint in recurrent._BPTT_MISTAKES]
        for k in range(4):
            changed = [(v[k], hint) for v, hint in variants if not np.allclose(v[k], right[k])]
            assert changed, recurrent._BPTT_NAMES[k]
            for (a, ha), (b, hb) in itertools.combinations(changed, 2):
                assert ha == hb or not np.allclose(a, b), (recurrent._BPTT_NAMES[k], ha, hb)
        for v, hint in variants:  # every mistake changes some output
            assert any(not np.allclose(a, w) for a, w in zip(v, right)), hint


def test_lstm_cases_separate_every_mistake_clearly():
    variants = recurrent._lstm_variants()
    assert sum("gate order" in hint for _, hint in variants) == 23  # every other order of the four blocks
    for gates, c in recurrent._lstm_cases():
        outs = [_flat(lstm_gates_solution(gates, c))] + [_flat(recurrent._lstm(gates, c, **kw)) for kw, _ in variants]
        gap = min(np.abs(a - b).max() for a, b in itertools.combinations(outs, 2))
        assert gap > 0.2, gap  # not a rounding difference: clearly other values
        assert np.abs(gates).max() > 2.5


def test_clip_cases_separate_every_mistake():
    (_, above, max_a), (_, below, max_b), (_, tiny, max_t) = recurrent._clip_cases()
    norms = recurrent._norms(above)
    total = float(np.sqrt(sum(n ** 2 for n in norms)))
    assert total > max_a and max_a != 1.0
    assert min(norms) < max_a < max(norms) and norms[0] != max(norms)  # per array; first array only vs largest
    assert max(np.abs(g).max() for g in above) > max_a   # clipping by value changes something
    assert clip_grad_norm_solution(below, max_b)[1] < max_b
    assert clip_grad_norm_solution(tiny, max_t)[1] > max_t
    same = recurrent.close_and_finite  # what the checker calls equal
    # case A comes first and separates every mistake; B is there for scaling up, C for the + 1e-6 (below)
    for grads, max_norm in ((above, max_a),):
        right_grads, right_norm = clip_grad_norm_solution(grads, max_norm)
        outs = [(_flat(right_grads), "right")]
        outs += [(_flat(v), hint) for v, hint in ((make(), hint) for make, hint in
                                                  recurrent._clip_grads_variants(grads, max_norm))
                 if v is not None and not same(_flat(v), outs[0][0])]  # else: a mistake this input cannot show
        assert len(outs) > 2
        for (a, ha), (b, hb) in itertools.combinations(outs, 2):
            assert not same(a, b), (ha, hb)
        numbers = [(right_norm, "right")] + [(v, hint) for v, hint in ((make(), hint) for make, hint in
                                                                       recurrent._clip_norm_variants(grads, max_norm))
                                             if v is not None]
        for (a, ha), (b, hb) in itertools.combinations(numbers, 2):
            assert not same(np.float64(a), np.float64(b)), (ha, hb)
    up = [make() for make, hint in recurrent._clip_grads_variants(below, max_b) if "UP" in hint][0]
    assert not np.allclose(_flat(up), _flat(below))
    # the + 1e-6 is a rounding-size effect on a norm of 6, a clear one on the tiny case
    no_eps = next(make for make, hint in recurrent._clip_grads_variants(tiny, max_t) if hint.startswith("almost"))
    assert not np.allclose(_flat(no_eps()), _flat(clip_grad_norm_solution(tiny, max_t)[0]), rtol=1e-3, atol=0)


def test_clip_grad_norm_no_eps_is_named_on_the_tiny_case_too(capsys, monkeypatch):
    cases = recurrent._clip_cases()
    monkeypatch.setattr(recurrent, "_clip_cases", lambda: cases[2:])
    out = verdict(check_clip_grad_norm, _clip(scale_rule="no eps"), capsys)
    assert "max_norm=2e-05" in out and "almost: you scaled by max_norm / total_norm" in out, out


# ============================================================================ every checker
_CHECKERS = [(check_rnn_step, rnn_step_solution), (check_rnn_bptt_two_steps, rnn_bptt_two_steps_solution),
             (check_lstm_gates, lstm_gates_solution), (check_clip_grad_norm, clip_grad_norm_solution)]


@pytest.mark.parametrize("checker, solution", _CHECKERS)
def test_checker_accepts_its_solution(checker, solution, capsys):
    out = verdict(checker, solution, capsys)
    assert out.startswith("Correct!"), out


@pytest.mark.parametrize("checker", [c for c, _ in _CHECKERS])
def test_stub_is_not_done(checker, capsys):
    out = verdict(checker, _stub, capsys)
    assert out.startswith("Not done yet") and "still raises NotImplementedError" in out, out


@pytest.mark.parametrize("checker", [c for c, _ in _CHECKERS])
def test_none_is_not_done(checker, capsys):
    out = verdict(checker, lambda *a: None, capsys)
    assert out.startswith("Not done yet") and "`return`" in out, out


# ============================================================================ 1. rnn_step
def test_rnn_step_accepts_other_correct_ways(capsys):
    def stacked(x, h_prev, W_ih, W_hh, b_ih, b_hh):  # one product with [W_ih | W_hh]
        return np.tanh(np.concatenate([x, h_prev], axis=1) @ np.concatenate([W_ih, W_hh], axis=1).T + b_ih + b_hh)

    def einsum(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(np.einsum("ni,hi->nh", x, W_ih) + np.einsum("nk,hk->nh", h_prev, W_hh) + (b_ih + b_hh))

    def as_list(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        return rnn_step_solution(x, h_prev, W_ih, W_hh, b_ih, b_hh).tolist()

    for fn in (stacked, einsum, as_list):
        assert verdict(check_rnn_step, fn, capsys).startswith("Correct!"), fn.__name__


def _rnn(pre_fn=None, act=np.tanh):
    """A learner's step; ``pre_fn(x, h, W_ih, W_hh, b_ih, b_hh)`` computes the pre-activation."""
    def fn(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        pre = pre_fn(x, h_prev, W_ih, W_hh, b_ih, b_hh)
        return act(pre)
    return fn


def _rnn_in_place(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    h_prev[...] = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)
    return h_prev


def _rnn_only_square(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    if x.shape[1] == W_ih.shape[0]:
        return rnn_step_solution(x, h_prev, W_ih, W_hh, b_ih, b_hh)
    return np.tanh(x @ W_ih + b_ih + h_prev @ W_hh.T + b_hh)


@pytest.mark.parametrize("fn, hint", [
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi + bi + h @ Wh.T + bh), "W_ih is not transposed"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh + bh), "W_hh is not transposed"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi + bi + h @ Wh + bh), "both weights are used without the transpose"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wh.T + bi + h @ Wi.T + bh), "you swapped the weights"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh + bi), "you added b_ih twice"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bh + h @ Wh.T + bh + bi), "you added b_hh twice"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: (x @ Wi.T + bi + bh) + (h @ Wh.T + bi + bh)), "you added the biases twice"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T), "you left out b_hh"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + h @ Wh.T + bh), "you left out b_ih"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + h @ Wh.T), "you left out both biases"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh, act=lambda z: z), "you forgot the tanh"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh, act=_sigmoid), "sigmoid instead of tanh"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + h @ Wh.T + bh, act=lambda z: np.maximum(z, 0)),
     "you used ReLU"),
    (lambda x, h, Wi, Wh, bi, bh: np.tanh(x @ Wi.T + bi) + np.tanh(h @ Wh.T + bh), "you applied tanh to each part"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: x @ Wi.T + bi + bh), "h does not depend on h_prev"),
    (_rnn(lambda x, h, Wi, Wh, bi, bh: h @ Wh.T + bi + bh), "h does not depend on x"),
    (lambda *a: rnn_step_solution(*a) + a[1], "you added h_prev to the new state"),
    (lambda x, h, Wi, Wh, bi, bh: np.tanh(Wi @ x.T + bi[:, None] + Wh @ h.T + bh[:, None]), "one column per example"),
    (lambda *a: rnn_step_solution(*a).sum(axis=0), "the batch axis is gone"),
    (lambda *a: rnn_step_solution(*a)[:, :2], "h should have shape (N, H) = (4, 3)"),
    (_rnn_in_place, "your function changed h_prev in place"),
    (_rnn_only_square, "It worked when I = H, so a weight is probably not transposed"),
    (lambda *a: 0.5 * rnn_step_solution(*a), "the values are wrong: h["),
    (lambda *a: "h", "returned a str, not an array"),
    (lambda *a: a[0][9], "raised IndexError"),
])
def test_rnn_step_names_each_mistake(fn, hint, capsys):
    out = verdict(check_rnn_step, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


# ============================================================================ 2. rnn_bptt_two_steps
def _bptt_loop(tanh_prime=(1, 2), from_pre=False, back="W", keep="sum", dw_layout="right", states="right",
               db_sum="batch", mean=False):
    """A learner's backward loop over the two steps (t = 2, then 1); the keywords select a classic mistake."""
    def fn(x1, x2, h0, W_ih, W_hh, b, grad_h2):
        xs, hs, pres = [x1, x2], [h0], []
        for x in xs:
            pres.append(x @ W_ih.T + hs[-1] @ W_hh.T + b)
            hs.append(np.tanh(pres[-1]))
        dW_hh = dW_ih = db = 0
        dh = grad_h2
        for t in (2, 1):
            if t in tanh_prime:
                dpre = dh * (1 - (pres[t - 1] if from_pre else hs[t]) ** 2)
            else:
                dpre = dh
            h_in = hs[t - 1] if states == "right" else hs[t]
            if dw_layout == "right":
                terms = (dpre.T @ h_in, dpre.T @ xs[t - 1])
            else:
                terms = (h_in.T @ dpre, xs[t - 1].T @ dpre)
            if db_sum == "batch":
                db_term = dpre.mean(axis=0) if mean else dpre.sum(axis=0)
            elif db_sum == "none":
                db_term = dpre
            else:
                db_term = dpre.sum(axis=1)
            if keep == "sum":
                dW_hh, dW_ih, db = dW_hh + terms[0], dW_ih + terms[1], db + db_term
            elif keep == "overwrite":          # the last assignment (step 1) wins
                dW_hh, dW_ih, db = terms[0], terms[1], db_term
            elif t == 2:                       # keep == "step 2": only the first step backwards
                dW_hh, dW_ih, db = terms[0], terms[1], db_term
            dh = dpre @ (W_hh if back == "W" else W_hh.T)
        return dW_hh, dW_ih, db, dh
    return fn


def _bptt_in_place(x1, x2, h0, W_ih, W_hh, b, grad_h2):
    out = rnn_bptt_two_steps_solution(x1, x2, h0, W_ih, W_hh, b, grad_h2)
    grad_h2 *= 2.0
    return out


def _bptt_edit(k, change):
    """The solution with output k replaced by change(args, right)."""
    def fn(*args):
        out = list(rnn_bptt_two_steps_solution(*args))
        out[k] = change(args, out)
        return tuple(out)
    return fn


def _unrolled(dh0="right", inputs="right"):
    def fn(x1, x2, h0, W_ih, W_hh, b, grad_h2):
        h1 = np.tanh(x1 @ W_ih.T + h0 @ W_hh.T + b)
        h2 = np.tanh(x2 @ W_ih.T + h1 @ W_hh.T + b)
        dpre2 = grad_h2 * (1 - h2 ** 2)
        dh1 = dpre2 @ W_hh
        dpre1 = dh1 * (1 - h1 ** 2)
        dW_hh = dpre2.T @ h1 + dpre1.T @ h0
        dW_ih = dpre2.T @ x2 + dpre1.T @ x1 if inputs == "right" else dpre2.T @ x1 + dpre1.T @ x2
        db = dpre2.sum(axis=0) + dpre1.sum(axis=0)
        return dW_hh, dW_ih, db, {"right": dpre1 @ W_hh, "dh1": dh1, "no W": dpre1}[dh0]
    return fn


def test_bptt_accepts_other_correct_ways(capsys):
    def as_lists(*args):
        return [a.tolist() for a in rnn_bptt_two_steps_solution(*args)]

    for fn in (_bptt_loop(), _unrolled(), as_lists):
        assert verdict(check_rnn_bptt_two_steps, fn, capsys).startswith("Correct!"), fn


@pytest.mark.parametrize("fn, hint", [
    (_bptt_loop(tanh_prime=()), "you forgot the derivative of tanh at both steps"),
    (_bptt_loop(tanh_prime=(1,)), "at step 2 you forgot the derivative of tanh"),
    (_bptt_loop(tanh_prime=(2,)), "at step 1 you forgot the derivative of tanh"),
    (_bptt_loop(from_pre=True), "from the pre-activation, 1 - pre**2"),
    (_bptt_loop(keep="step 2"), "the gradient is not accumulated over time: you kept only step 2's contribution"),
    (_bptt_loop(keep="overwrite"), "you kept only step 1's contribution"),
    (_bptt_loop(back="WT"), "dLoss/dh flows back through W_hh.T"),
    (_bptt_edit(3, lambda a, out: (out[3] @ np.linalg.inv(a[4])) @ a[4].T), "dLoss/dh flows back through W_hh.T"),
    (_bptt_edit(0, lambda a, out: out[0].T), "dW_hh is transposed"),
    (_bptt_loop(dw_layout="transposed"), "dW_ih has shape (5, 3): it is transposed"),
    (_bptt_loop(dw_layout="transposed"), "dW_hh is wrong: dW_hh is transposed"),  # both said, not just the shape
    (_bptt_loop(states="shifted"), "dW_hh pairs each step with the wrong state"),
    (_unrolled(inputs="swapped"), "dW_ih pairs each step with the other step's input"),
    (_bptt_loop(db_sum="none"), "db has shape (4, 3) = (N, H): it is not summed over the batch"),
    (_bptt_loop(db_sum="hidden"), "db has shape (4,) = (N,): you summed over the hidden units"),
    (_bptt_edit(2, lambda a, out: np.float64(out[2].sum())), "db is a single number"),
    (_bptt_edit(2, lambda a, out: out[2][None]), "keepdims=True?"),
    (_bptt_edit(2, lambda a, out: np.stack([out[2] / 2, out[2] / 2])), "db has shape (2, 3): one row per step"),
    (_bptt_edit(1, lambda a, out: np.stack([out[1] / 2, out[1] / 2])), "dW_ih has shape (2, 3, 5): one gradient per"),
    (_bptt_loop(mean=True), "you averaged db over the batch"),
    (_unrolled(dh0="dh1"), "dh0 is one step short"),
    (_unrolled(dh0="no W"), "dh0 = dpre1 forgets the product with W_hh"),
    (lambda *a: (lambda o: (o[1], o[0], o[2], o[3]))(rnn_bptt_two_steps_solution(*a)),
     "you returned the gradients in another order, dW_ih, dW_hh, db, dh0"),
    (lambda *a: rnn_bptt_two_steps_solution(*a)[:3], "return 4 values"),
    (lambda *a: rnn_bptt_two_steps_solution(*a)[0], "you returned one ndarray of shape (3, 3)"),
    (_bptt_edit(0, lambda a, out: 2 * out[0]), "finite differences of loss = Σ h2 · grad_h2 give dW_hh["),
    (_bptt_edit(3, lambda a, out: "dh0"), "dh0 returned a str, not an array"),
    (_bptt_edit(0, lambda a, out: np.zeros((2, 2))), "dW_hh should have shape (3, 3)"),
    (_bptt_edit(0, lambda a, out: np.zeros((a[0].shape[0],) * 2)), "(N, N): the batch is on the outside"),
    (_bptt_edit(3, lambda a, out: out[3].T), "dh0 has shape (3, 4): it is transposed"),
    (_bptt_in_place, "your function changed grad_h2 in place"),
    (_bptt_in_place, "write dpre2 = grad_h2 * (1 - h2**2)"),
    (lambda *a: 1 / 0, "raised ZeroDivisionError"),
])
def test_bptt_names_each_mistake(fn, hint, capsys):
    out = verdict(check_rnn_bptt_two_steps, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_bptt_groups_the_outputs_one_mistake_explains(capsys):
    out = verdict(check_rnn_bptt_two_steps, _bptt_loop(tanh_prime=()), capsys)
    assert "dW_hh, dW_ih, db and dh0 are wrong: you forgot the derivative of tanh" in out, out
    assert out.count("you forgot the derivative of tanh") == 1, out
    out = verdict(check_rnn_bptt_two_steps, _bptt_loop(keep="step 2"), capsys)
    assert "dW_hh, dW_ih and db are wrong" in out and "dh0" not in out.split("wrong")[0], out


# ============================================================================ 3. lstm_gates
def _lstm_fn(order="ifgo", gate=_sigmoid, cand=np.tanh, c_rule="right", h_rule="right", cut="blocks",
             returns="h, c"):
    """A learner's step; the keywords select a classic mistake."""
    def fn(gates, c_prev):
        H = c_prev.shape[1]
        if cut == "blocks":
            parts = [gates[:, k * H:(k + 1) * H] for k in range(4)]
        else:
            parts = [gates.reshape(gates.shape[0], H, 4)[:, :, k] for k in range(4)]
        pre = dict(zip(order, parts))
        i, f, o, g = gate(pre["i"]), gate(pre["f"]), gate(pre["o"]), cand(pre["g"])
        c = {"right": f * c_prev + i * g, "no i": f * c_prev + g, "no f": c_prev + i * g}[c_rule]
        h = {"right": o * np.tanh(c), "o*c": o * c, "tanh(o*c)": np.tanh(o * c), "old c": o * np.tanh(c_prev)}[h_rule]
        return {"h, c": (h, c), "c, h": (c, h), "h": h}[returns]
    return fn


def _lstm_activate_in_place(gates, c_prev):
    H = c_prev.shape[1]
    gates[:, :2 * H] = _sigmoid(gates[:, :2 * H])
    gates[:, 2 * H:3 * H] = np.tanh(gates[:, 2 * H:3 * H])
    gates[:, 3 * H:] = _sigmoid(gates[:, 3 * H:])
    i, f, g, o = np.split(gates, 4, axis=1)
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def _lstm_c_in_place(gates, c_prev):
    H = c_prev.shape[1]
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    c_prev *= _sigmoid(f)
    c_prev += _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c_prev), c_prev


def _lstm_fixed_h(gates, c_prev):
    H = 4  # the first case's H, written in
    i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
    c = _sigmoid(f) * c_prev + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c), c


def test_lstm_gates_accepts_other_correct_ways(capsys):
    def with_split(gates, c_prev):
        i, f, g, o = np.split(gates, 4, axis=1)
        c = _sigmoid(f) * c_prev + _sigmoid(i) * np.tanh(g)
        return [_sigmoid(o) * np.tanh(c), c]

    def tanh_sigmoid(gates, c_prev):  # sigmoid(z) = (1 + tanh(z/2)) / 2, as course_lib's LSTMCell
        s = 0.5 * (1 + np.tanh(0.5 * gates))
        H = c_prev.shape[1]
        c = s[:, H:2 * H] * c_prev + s[:, :H] * np.tanh(gates[:, 2 * H:3 * H])
        return s[:, 3 * H:] * np.tanh(c), c

    for fn in (_lstm_fn(), with_split, tanh_sigmoid):
        assert verdict(check_lstm_gates, fn, capsys).startswith("Correct!"), fn


@pytest.mark.parametrize("order", ["".join(p) for p in itertools.permutations("ifgo") if "".join(p) != "ifgo"])
def test_lstm_gates_names_every_other_gate_order(order, capsys):
    out = verdict(check_lstm_gates, _lstm_fn(order=order), capsys)
    assert out.startswith("Not quite"), out
    assert "the gate order: PyTorch's is i, f, g, o" in out, out
    assert f"you read the four blocks as {', '.join(order)}." in out, out


@pytest.mark.parametrize("fn, hint", [
    (_lstm_fn(gate=np.tanh, cand=_sigmoid), "tanh and sigmoid are swapped"),
    (_lstm_fn(cand=_sigmoid), "the candidate g went through a sigmoid too"),
    (_lstm_fn(gate=np.tanh), "the gates went through tanh"),
    (_lstm_fn(h_rule="o*c"), "h = o * c: you forgot the tanh of c"),
    (_lstm_fn(h_rule="tanh(o*c)"), "h = tanh(o * c): the tanh belongs to c alone"),
    (_lstm_fn(h_rule="old c"), "h uses the old cell state c_prev"),
    (_lstm_fn(c_rule="no i"), "c = f * c_prev + g: you forgot the input gate"),
    (_lstm_fn(c_rule="no f"), "c = c_prev + i * g: you forgot the forget gate"),
    (_lstm_fn(cut="interleaved"), "you took every 4th column for each gate"),
    (_lstm_fn(returns="c, h"), "you returned (c, h): the values are right but swapped"),
    (_lstm_fn(returns="h"), "return 2 values, `return h, c`; you returned one ndarray"),
    (_lstm_activate_in_place, "your function changed gates in place"),
    (_lstm_activate_in_place, "writes into the caller's gates"),
    (_lstm_c_in_place, "your function changed c_prev in place"),
    (_lstm_fixed_h, "For gates of shape (2, 12) = (N, 4H)"),
    (_lstm_fixed_h, "each of i, f, g, o is a block of H = 3 columns"),
    (lambda gates, c: (np.tanh(gates), c), "h has shape (3, 16) = (N, 4H), the shape of gates"),
    (lambda gates, c: (lstm_gates_solution(gates, c)[0].T, lstm_gates_solution(gates, c)[1]), "(H, N), the transpose"),
    (lambda gates, c: (2 * lstm_gates_solution(gates, c)[0], lstm_gates_solution(gates, c)[1]),
     "c is right, h is wrong: h["),
    (lambda gates, c: tuple(2 * v for v in lstm_gates_solution(gates, c)), "h and c are wrong: c["),
    (lambda gates, c: (lstm_gates_solution(gates, c)[0], "c"), "c returned a str, not an array"),
    (lambda gates, c: gates[7], "raised IndexError"),
])
def test_lstm_gates_names_each_mistake(fn, hint, capsys):
    out = verdict(check_lstm_gates, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


# ============================================================================ 4. clip_grad_norm
def _total(grads):
    return float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))


def _clip(scale_rule="right", norm_rule="right", when="above", container="list"):
    """A learner's clip_grad_norm; the keywords select a classic mistake."""
    def fn(grads, max_norm):
        norms = [float(np.sqrt(np.sum(g ** 2))) for g in grads]
        total = {"sum": sum(norms), "squared": _total(grads) ** 2}.get(scale_rule, _total(grads))
        scale = max_norm / (total + 1e-6)
        if scale_rule == "per array":
            clipped = [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)]
        elif scale_rule == "by value":
            clipped = [np.clip(g, -max_norm, max_norm) for g in grads]
        elif scale_rule == "no eps":
            clipped = [g * (max_norm / total) if total > max_norm else g for g in grads]
        elif scale_rule == "unit":
            clipped = [g / (total + 1e-6) if total > max_norm else g for g in grads]
        elif scale_rule == "upside down":
            clipped = [g * (total / max_norm) if total > max_norm else g for g in grads]
        elif scale_rule == "never":
            clipped = [g.copy() for g in grads]
        elif when == "always":
            clipped = [g * scale for g in grads]
        else:
            clipped = [g * scale if total > max_norm else g for g in grads]
        norm = {"right": total, "after": _total(clipped), "max_norm": min(total, max_norm), "list": norms,
                "first": norms[0], "largest": max(norms), "scale": scale, "array": np.array([total])}[norm_rule]
        if container == "flat":
            clipped = np.concatenate([c.ravel() for c in clipped])
        elif container == "short":
            clipped = clipped[:2]
        return clipped, norm
    return fn


def _clip_in_place(grads, max_norm):
    total = _total(grads)
    if total > max_norm:
        for g in grads:
            g *= max_norm / (total + 1e-6)
    return grads, total


def _clip_list_in_place(grads, max_norm):
    total = _total(grads)
    if total > max_norm:
        for k in range(len(grads)):
            grads[k] = grads[k] * (max_norm / (total + 1e-6))
    return grads, total


def test_clip_grad_norm_accepts_other_correct_ways(capsys):
    def like_pytorch(grads, max_norm):  # always multiply, by a factor clamped at 1
        total = np.linalg.norm(np.concatenate([g.ravel() for g in grads]))
        coef = min(max_norm / (total + 1e-6), 1.0)
        return tuple(g * coef for g in grads), total

    def zero_d(grads, max_norm):
        clipped, total = clip_grad_norm_solution(grads, max_norm)
        return [c.tolist() for c in clipped], np.array(total)

    def same_arrays_below(grads, max_norm):  # returning the inputs themselves when nothing changes is fine
        total = np.sqrt(sum((g ** 2).sum() for g in grads))
        if total <= max_norm:
            return grads, total
        return [g * (max_norm / (total + 1e-6)) for g in grads], total

    for fn in (_clip(), like_pytorch, zero_d, same_arrays_below):
        assert verdict(check_clip_grad_norm, fn, capsys).startswith("Correct!"), fn


@pytest.mark.parametrize("fn, hint", [
    (_clip(scale_rule="per array"), "you clipped each array by its own norm"),
    (_clip(scale_rule="by value"), "clipping by VALUE"),
    (_clip(scale_rule="sum"), "you used the sum of the arrays' norms"),
    (_clip(scale_rule="sum", norm_rule="right"), "you used the sum of the arrays' norms"),
    (_clip(norm_rule="list"), "total_norm is a list of the arrays' norms"),
    (lambda grads, m: (clip_grad_norm_solution(grads, m)[0], sum(np.sqrt(np.sum(g ** 2)) for g in grads)),
     "total_norm is the sum of the arrays' norms"),
    (_clip(scale_rule="squared"), "you scaled with the squared norm"),
    (lambda grads, m: (clip_grad_norm_solution(grads, m)[0], _total(grads) ** 2),
     "total_norm is the sum of the squares"),
    (_clip(when="always"), "you scaled the gradients UP"),
    (_clip(norm_rule="after"), "you returned the norm after clipping"),
    (_clip(norm_rule="max_norm"), "you returned max_norm, the norm after clipping"),
    (_clip(norm_rule="first"), "the norm of the first array only"),
    (_clip(norm_rule="largest"), "the largest of the arrays' norms"),
    (_clip(norm_rule="scale"), "you returned the scale factor"),
    (_clip(norm_rule="array"), "a plain number, not an array of shape (1,)"),
    (_clip(scale_rule="no eps"), "almost: you scaled by max_norm / total_norm"),
    (_clip(scale_rule="unit"), "did not multiply by max_norm"),
    (_clip(scale_rule="upside down"), "the scale factor is upside down"),
    (_clip(scale_rule="never"), "you returned the gradients unchanged, but their total norm 6.7208 is above"),
    (_clip(container="flat"), "clipped_grads is one flat array of 22 values"),
    (_clip(container="short"), "clipped_grads has 2 entries"),
    (lambda grads, m: ([g.T for g in clip_grad_norm_solution(grads, m)[0]], _total(grads)),
     "clipped_grads[0] has shape (4, 3). Each clipped gradient has the shape of its gradient, (3, 4)."),
    (lambda grads, m: (clip_grad_norm_solution(grads, m)[0], None), "yours is None"),
    (lambda grads, m: ("grads", _total(grads)), "yours is a str"),
    (lambda grads, m: clip_grad_norm_solution(grads, m)[0], "return 2 values"),
    (lambda grads, m: ([2 * g for g in grads], _total(grads)), "the clipped gradients are wrong: clipped_grads["),
    (lambda grads, m: (clip_grad_norm_solution(grads, m)[0], 7.0), "total_norm is 7 but should be 6.72076"),
    (_clip_in_place, "your function changed grads[0], grads[1] and grads[2] in place"),
    (_clip_list_in_place, "your function changed the list grads"),
    (lambda grads, m: grads[5], "raised IndexError"),
])
def test_clip_grad_norm_names_each_mistake(fn, hint, capsys):
    out = verdict(check_clip_grad_norm, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_clip_grad_norm_names_both_halves(capsys):
    out = verdict(check_clip_grad_norm, _clip(scale_rule="per array", norm_rule="list"), capsys)
    assert "you clipped each array by its own norm" in out and "a list of the arrays' norms" in out, out


# ============================================================================ never raise
class _Weird:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array for you")


@pytest.mark.parametrize("checker", [check_rnn_step, check_rnn_bptt_two_steps, check_lstm_gates,
                                     check_clip_grad_norm])
@pytest.mark.parametrize("fn", [
    None,
    42,
    lambda *a, **k: 1 / 0,
    lambda *a, **k: "text",
    lambda *a, **k: _Weird(),
    lambda *a, **k: (_Weird(), _Weird()),
    lambda *a, **k: (_Weird(),) * 4,
    lambda *a, **k: (None, None),
    lambda *a, **k: (None,) * 4,
    lambda *a, **k: ([np.nan] * 3, np.nan),
    lambda *a, **k: [np.nan] * 3,
    lambda *a, **k: np.nan,
    lambda *a, **k: np.full((4, 3), np.nan),
    lambda *a, **k: (np.full((4, 3), np.inf),) * 2,
    lambda *a, **k: np.zeros((2, 2, 6, 6)),
    lambda *a, **k: {"h": 1},
    lambda *a, **k: a[0],  # returns its first input
    lambda *a, **k: a[1],
    lambda *a, **k: a,
    lambda *a, **k: True,
    lambda *a, **k: (True, True),
    lambda *a, **k: iter([1, 2]),
])
def test_checkers_never_raise(checker, fn, capsys):
    assert checker(fn) is None
    out = capsys.readouterr().out
    assert out.startswith(("Not quite", "Not done yet", "Correct!")), out
    assert "Please report this" not in out


@pytest.mark.parametrize("checker, fn", [(check_rnn_step, _rnn_in_place), (check_rnn_bptt_two_steps, _bptt_in_place),
                                         (check_lstm_gates, _lstm_c_in_place), (check_clip_grad_norm, _clip_in_place)])
def test_in_place_is_said_once(checker, fn, capsys):
    out = verdict(checker, fn, capsys)
    assert out.startswith("Not quite") and out.count("in place") == 1, out
