"""Exercises for notebook 09 (recurrent networks), with automatic feedback.

    from course_lib.exercises.recurrent import (
        check_rnn_step, check_rnn_bptt_two_steps, check_lstm_gates, check_clip_grad_norm)
    check_rnn_step(rnn_step)                       # prints a verdict
    check_rnn_bptt_two_steps(rnn_bptt_two_steps)
    check_lstm_gates(lstm_gates)
    check_clip_grad_norm(clip_grad_norm)

The four functions to write (numpy only; the shapes are PyTorch's: weight_ih
(H, I), weight_hh (H, H), a batch of inputs x (N, I), hidden states h (N, H)):

- ``rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh) -> h``: one step of
  ``nn.RNNCell``, h = tanh(x W_ih^T + b_ih + h_prev W_hh^T + b_hh), (N, H);
- ``rnn_bptt_two_steps(x1, x2, h0, W_ih, W_hh, b, grad_h2) -> (dW_hh, dW_ih, db, dh0)``:
  backpropagation through time over two steps with one bias b (H,),
  h1 = tanh(x1 W_ih^T + h0 W_hh^T + b), h2 = tanh(x2 W_ih^T + h1 W_hh^T + b),
  for a loss that depends on h2 only, dLoss/dh2 = grad_h2 (N, H). The shared
  weights' gradients add up both steps' contributions; dh0 = dLoss/dh0;
- ``lstm_gates(gates, c_prev) -> (h, c)``: the LSTM step after the matrix
  products. gates (N, 4H) are the pre-activations in PyTorch's order i, f, g, o
  (H columns each); i, f, o = sigmoid, g = tanh; c = f*c_prev + i*g,
  h = o*tanh(c);
- ``clip_grad_norm(grads, max_norm) -> (clipped_grads, total_norm)``: grads is
  a list of arrays; total_norm = the norm of all their entries as one vector;
  above max_norm every array is scaled by max_norm / (total_norm + 1e-6)
  (PyTorch's ``clip_grad_norm_``), otherwise they are returned unchanged. The
  input arrays must not change.

A checker calls your function on small fixed examples (on copies: your
function cannot spoil them), compares with the right answer and, when they
differ, recognises the classic mistakes and names the one you made: a weight
not transposed, a bias added twice or left out, a missing tanh, tanh's
derivative forgotten or taken from the pre-activation, a gradient not
accumulated over time or flowing back through W_hh.T, the gates in the wrong
order, tanh and sigmoid swapped, each gradient clipped on its own or by value,
the norm after clipping. The backward pass is also compared with finite
differences. A checker prints plain text and never raises, whatever your
function does: an unfinished function (``raise NotImplementedError``) gives
"Not done yet".
"""
from __future__ import annotations

import itertools

import numpy as np

from ..gradcheck import numerical_gradient
from ._checking import (Raised, call, call_on_copies, checker, close, close_and_finite, first_match,
                        print_verdict, quietly, shape_text)
from .cnn import _as_array, _is_shape_error, _modified_text, _not_an_array  # notebook 08's, shared

__all__ = [
    "check_rnn_step", "check_rnn_bptt_two_steps", "check_lstm_gates", "check_clip_grad_norm",
    "rnn_step_solution", "rnn_bptt_two_steps_solution", "lstm_gates_solution", "clip_grad_norm_solution",
]


# ---------------------------------------------------------------------------- reference solutions
def _sigmoid(z):
    """1 / (1 + exp(-z)) that never overflows: np.exp only ever sees -|z| <= 0."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def rnn_step_solution(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step of an Elman RNN (PyTorch's nn.RNNCell): x (N, I), h_prev (N, H) -> h (N, H)."""
    # W_ih (H, I): x @ W_ih.T is (N, I) @ (I, H) = (N, H); W_hh (H, H) likewise; each bias once
    return np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_bptt_two_steps_solution(x1, x2, h0, W_ih, W_hh, b, grad_h2):
    """(dW_hh, dW_ih, db, dh0) of a loss of h2 after two RNN steps that share W_ih, W_hh and b."""
    # forward, keeping what the backward needs
    h1 = np.tanh(x1 @ W_ih.T + h0 @ W_hh.T + b)   # (N, H)
    h2 = np.tanh(x2 @ W_ih.T + h1 @ W_hh.T + b)   # (N, H)
    # step 2, backwards: tanh'(pre) = 1 - tanh(pre)**2 = 1 - h**2
    dpre2 = grad_h2 * (1 - h2 ** 2)               # (N, H)
    dh1 = dpre2 @ W_hh                            # pre2 = ... + h1 @ W_hh.T: (N, H) @ (H, H)
    # step 1
    dpre1 = dh1 * (1 - h1 ** 2)                   # (N, H)
    dh0 = dpre1 @ W_hh                            # (N, H)
    # the same weights serve both steps: their gradients add both contributions
    dW_hh = dpre2.T @ h1 + dpre1.T @ h0           # (H, N) @ (N, H) = (H, H)
    dW_ih = dpre2.T @ x2 + dpre1.T @ x1           # (H, N) @ (N, I) = (H, I)
    db = dpre2.sum(axis=0) + dpre1.sum(axis=0)    # (H,): summed over the batch and the steps
    return dW_hh, dW_ih, db, dh0


def lstm_gates_solution(gates, c_prev):
    """One LSTM step from the pre-activations gates (N, 4H), PyTorch's order i, f, g, o, and c_prev (N, H)."""
    H = c_prev.shape[1]
    i = _sigmoid(gates[:, 0 * H:1 * H])   # input gate: how much of g to write
    f = _sigmoid(gates[:, 1 * H:2 * H])   # forget gate: how much of c_prev to keep
    g = np.tanh(gates[:, 2 * H:3 * H])    # the candidate, in (-1, 1)
    o = _sigmoid(gates[:, 3 * H:4 * H])   # output gate: how much of the memory to show
    c = f * c_prev + i * g                # (N, H)
    h = o * np.tanh(c)                    # (N, H)
    return h, c


def clip_grad_norm_solution(grads, max_norm):
    """(clipped copies of grads, total_norm before clipping): PyTorch's clip_grad_norm_, without changing grads."""
    total_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))  # all entries as one long vector
    if total_norm > max_norm:
        scale = max_norm / (total_norm + 1e-6)   # the same factor for every array: the direction is kept
        return [g * scale for g in grads], total_norm  # new arrays: the caller's stay as they are
    return [g.copy() for g in grads], total_norm


# ---------------------------------------------------------------------------- helpers
def _and(names) -> str:
    """'dW_hh', 'dW_hh and db', 'dW_hh, dW_ih and db'."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _unpack(out, names) -> tuple[list | None, str, str]:
    """(the len(names) returned values, "", "") or (None, title, line) saying what came back instead."""
    want = f"`return {', '.join(names)}`"
    if out is None:
        return None, "Not done yet:", (f"your function returned None. Did you forget the `return` line (or is the "
                                       f"exercise still empty)? Return {len(names)} values: {want}.")
    if not isinstance(out, (tuple, list)):
        shape = f" of shape {shape_text(out.shape)}" if isinstance(out, np.ndarray) else ""
        return None, "Not quite:", (f"return {len(names)} values, {want}; you returned one "
                                    f"{type(out).__name__}{shape}.")
    if len(out) != len(names):
        return None, "Not quite:", (f"return {len(names)} values, {want}; you returned a {type(out).__name__} of "
                                    f"length {len(out)}.")
    return list(out), "", ""


def _worst_entry(name: str, got: np.ndarray, want: np.ndarray) -> tuple[str, float, float]:
    """('h[1, 0]', yours, right) at the entry that is furthest off (a NaN counts as furthest)."""
    with quietly():
        gap = np.nan_to_num(np.abs(got - want), nan=np.inf)
    i = np.unravel_index(int(np.argmax(gap)), got.shape) if got.ndim else ()
    where = f"[{', '.join(str(int(k)) for k in i)}]" if got.ndim else ""
    return f"{name}{where}", float(got[i]), float(want[i])


def _difference_text(name: str, got: np.ndarray, want: np.ndarray) -> str:
    """'h[1, 0] is 0.1234 but should be 0.5678' at the entry that is furthest off."""
    entry, yours, right = _worst_entry(name, got, want)
    return f"{entry} is {yours:.4g} but should be {right:.4g}"


def _call_case(fn, args, names, where: str, problems: list[str], shape_hint: str = "",
               in_place_notes: dict | None = None) -> tuple[bool, object]:
    """Call ``fn`` on copies of ``args``: (True, output), or (False, None) once the verdict is printed.

    A raise is reported (with ``shape_hint`` for a shape error); an input changed in place is added to
    ``problems`` once, with ``in_place_notes[k]`` appended when input k is among them. NotDone goes up.
    """
    try:
        out, modified = call_on_copies(fn, *args)
    except Raised as exc:
        hint = shape_hint if _is_shape_error(exc) else ""
        print_verdict("Not quite:", problems + [f"{where} your function raised {exc.short()}.{hint}"])
        return False, None
    if modified and not problems:  # said once, even if several cases show it
        problems.append(_modified_text(modified, names)
                        + "".join(note for k, note in (in_place_notes or {}).items() if k in modified))
    return True, out


# ============================================================================ 1. rnn_step
_RNN_RIGHT = "h = np.tanh(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)"


def _rnn_step_cases():
    rng = np.random.default_rng(909)
    cases = []
    # A: I = H = 3, so a W_ih that is not transposed gives other numbers instead of a shape error; N = 4 differs
    # from H, so a transposed output shows in its shape. B: I = 5, H = 3, N = 2, rectangular as in a real network.
    # W_hh is random, so not symmetric: W_hh and W_hh.T give other values. The weights are scaled so that the
    # pre-activations stay between about -2 and 2: tanh, sigmoid and no activation give clearly different h.
    for n, i, h in ((4, 3, 3), (2, 5, 3)):
        x = rng.standard_normal((n, i))
        h_prev = rng.uniform(-0.9, 0.9, (n, h))   # a previous tanh output
        W_ih = 0.5 * rng.standard_normal((h, i))
        W_hh = 0.5 * rng.standard_normal((h, h))
        b_ih = rng.uniform(-1, 1, h)
        b_hh = rng.uniform(-1, 1, h)
        cases.append((x, h_prev, W_ih, W_hh, b_ih, b_hh))
    return cases


def _rnn_step_variants(x, h_prev, W_ih, W_hh, b_ih, b_hh):
    """(make, hint) for the classic mistakes; a product whose shapes do not fit raises and is skipped."""
    xi, hh = x @ W_ih.T, h_prev @ W_hh.T
    pre = xi + b_ih + hh + b_hh
    return [
        (lambda: np.tanh(x @ W_ih + b_ih + h_prev @ W_hh + b_hh),
         "both weights are used without the transpose: x @ W_ih and h_prev @ W_hh. PyTorch stores weight_ih as "
         "(H, I) and weight_hh as (H, H), one ROW per hidden unit, so the products are x @ W_ih.T and "
         f"h_prev @ W_hh.T: {_RNN_RIGHT}."),
        (lambda: np.tanh(x @ W_ih + b_ih + hh + b_hh),
         "W_ih is not transposed: you computed x @ W_ih. PyTorch stores weight_ih as (H, I), one row per hidden "
         "unit, so the product is x @ W_ih.T, (N, I) @ (I, H) = (N, H) (here I = H, so the shapes did not "
         f"complain, the values do): {_RNN_RIGHT}."),
        (lambda: np.tanh(xi + b_ih + h_prev @ W_hh + b_hh),
         "W_hh is not transposed: you computed h_prev @ W_hh. W_hh is square, so the shapes fit either way, but "
         "W_hh[j, k] is the weight from unit k of h_prev to unit j of h (one row per hidden unit, as PyTorch's "
         f"weight_hh): the product is h_prev @ W_hh.T. {_RNN_RIGHT}."),
        (lambda: np.tanh(x @ W_hh.T + b_ih + h_prev @ W_ih.T + b_hh),
         "you swapped the weights: W_ih multiplies the INPUT x and W_hh the previous state h_prev: "
         f"{_RNN_RIGHT}."),
        (lambda: np.tanh(xi + 2 * b_ih + hh + b_hh),
         f"you added b_ih twice (b_ih + b_ih + b_hh?): each bias goes in once. {_RNN_RIGHT}."),
        (lambda: np.tanh(xi + b_ih + hh + 2 * b_hh),
         f"you added b_hh twice: each bias goes in once. {_RNN_RIGHT}."),
        (lambda: np.tanh(xi + hh + 2 * (b_ih + b_hh)),
         "you added the biases twice, 2·(b_ih + b_hh) (perhaps once with each product): b_ih and b_hh go in "
         f"once each. {_RNN_RIGHT}."),
        (lambda: np.tanh(xi + b_ih + hh),
         "you left out b_hh: PyTorch's RNNCell has two biases, b_ih with the input's product and b_hh with the "
         f"state's, and adds both: {_RNN_RIGHT}."),
        (lambda: np.tanh(xi + hh + b_hh),
         "you left out b_ih: PyTorch's RNNCell has two biases, b_ih with the input's product and b_hh with the "
         f"state's, and adds both: {_RNN_RIGHT}."),
        (lambda: np.tanh(xi + hh),
         f"you left out both biases: {_RNN_RIGHT}."),
        (lambda: pre,
         "you forgot the tanh: h is the pre-activation itself. Without a nonlinearity, steps of an RNN compose "
         f"to one linear map and h can grow without bound at every step: {_RNN_RIGHT}."),
        (lambda: _sigmoid(pre),
         "you used sigmoid instead of tanh: an RNN cell's h = tanh(...), values in (-1, 1), centred on 0 "
         f"(a sigmoid's are in (0, 1): always positive). {_RNN_RIGHT}."),
        (lambda: np.maximum(pre, 0.0),
         "you used ReLU: nn.RNNCell's default nonlinearity is tanh (nonlinearity='relu' is an option). "
         f"{_RNN_RIGHT}."),
        (lambda: np.tanh(xi + b_ih) + np.tanh(hh + b_hh),
         "you applied tanh to each part and added the results: add everything first, then ONE tanh: "
         f"{_RNN_RIGHT}."),
        (lambda: np.tanh(xi + b_ih + b_hh),
         "h does not depend on h_prev: you left out h_prev @ W_hh.T, the recurrence, which carries the memory "
         f"of the earlier steps: {_RNN_RIGHT}."),
        (lambda: np.tanh(hh + b_ih + b_hh),
         f"h does not depend on x: you left out x @ W_ih.T, the new input: {_RNN_RIGHT}."),
        (lambda: np.tanh(pre) + h_prev,
         f"you added h_prev to the new state (a residual connection?): the Elman RNN replaces it: {_RNN_RIGHT}."),
    ]


def _rnn_shape_hint(y, x, h_prev) -> str:
    n, hs = h_prev.shape
    want = f"(N, H) = {shape_text((n, hs))}, the shape of h_prev"
    if y.shape == (hs, n):
        return (f"h has shape {shape_text(y.shape)} = (H, N): one column per example, the transpose (W_ih @ x.T?). "
                f"Keep the batch first, {want}: {_RNN_RIGHT}.")
    if y.shape == (hs,) or y.shape == (n,):
        return (f"h has shape {shape_text(y.shape)}: the batch axis is gone (did you sum or take one row?). h has "
                f"one row per example, {want}.")
    return f"h should have shape {want}; yours has shape {shape_text(y.shape)}. {_RNN_RIGHT}."


@checker
def check_rnn_step(rnn_step) -> None:
    """Check ``rnn_step(x, h_prev, W_ih, W_hh, b_ih, b_hh) -> h (N, H)`` against nn.RNNCell's formula."""
    problems: list[str] = []
    for case, args in enumerate(_rnn_step_cases()):
        x, h_prev, W_ih, W_hh, b_ih, b_hh = args
        where = (f"For x of shape {shape_text(x.shape)} = (N, I), h_prev {shape_text(h_prev.shape)} = (N, H), "
                 f"W_ih {shape_text(W_ih.shape)} = (H, I):")
        shapes = (" x is (N, I) and W_ih is (H, I), h_prev is (N, H) and W_hh (H, H); the products that give "
                  "(N, H) are x @ W_ih.T and h_prev @ W_hh.T.")
        hint = (" It worked when I = H, so a weight is probably not transposed:" if case > 0
                else " A shape mismatch in a product:") + shapes
        ok, out = _call_case(rnn_step, args, ["x", "h_prev", "W_ih", "W_hh", "b_ih", "b_hh"], where, problems, hint)
        if not ok:
            return
        y = _as_array(out)
        if y is None or y.ndim == 0:
            title, line = _not_an_array(out)
            print_verdict(title, problems + [f"{where} {line}"])
            return
        want = rnn_step_solution(*args)
        if y.shape != want.shape:
            print_verdict("Not quite:", problems + [f"{where} {_rnn_shape_hint(y, x, h_prev)}"])
            return
        if not close_and_finite(y, want):
            hint = first_match(y, _rnn_step_variants(*args)) or (
                f"the values are wrong: {_difference_text('h', y, want)}. {_RNN_RIGHT}.")
            print_verdict("Not quite:", problems + [f"{where} {hint}"])
            return
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! h = tanh(x W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh), shape (N, H): PyTorch's weights have one row "
          "per hidden unit, so both are transposed in the products, and each bias goes in once. That is "
          "nn.RNNCell's forward; a whole sequence is this step in a loop, h feeding the next step.")


# ============================================================================ 2. rnn_bptt_two_steps
_BPTT_NAMES = ("dW_hh", "dW_ih", "db", "dh0")
_DPRE = "dpre2 = grad_h2 * (1 - h2**2), dh1 = dpre2 @ W_hh, dpre1 = dh1 * (1 - h1**2)"
_BPTT_RECIPES = {
    "dW_hh": "dW_hh = dpre2.T @ h1 + dpre1.T @ h0",
    "dW_ih": "dW_ih = dpre2.T @ x2 + dpre1.T @ x1",
    "db": "db = dpre2.sum(axis=0) + dpre1.sum(axis=0)",
    "dh0": "dh0 = dpre1 @ W_hh",
}
_BPTT_ALL = (f"{_DPRE}; {_BPTT_RECIPES['dW_hh']}, {_BPTT_RECIPES['dW_ih']}, {_BPTT_RECIPES['db']}, "
             f"{_BPTT_RECIPES['dh0']}")


def _bptt_cases():
    rng = np.random.default_rng(919)
    cases = []
    # N, I and H all differ (and N != 2), so the four gradients have four different shapes and a transposed dW_ih,
    # a db not summed over the batch or over the steps, or gradients in the wrong order show in the shapes.
    # W_hh is square and random (not symmetric): W_hh and W_hh.T give other values. The pre-activations stay
    # between about -2 and 2, so tanh' = 1 - h**2 is neither ~1 nor ~0 and 1 - pre**2 differs from it.
    for n, i, h in ((4, 5, 3), (3, 2, 4)):
        x1, x2 = rng.standard_normal((n, i)), rng.standard_normal((n, i))
        h0 = rng.uniform(-0.8, 0.8, (n, h))
        W_ih = 0.5 * rng.standard_normal((h, i))
        W_hh = 0.6 * rng.standard_normal((h, h))
        b = rng.uniform(-0.5, 0.5, h)
        grad_h2 = rng.standard_normal((n, h))
        cases.append((x1, x2, h0, W_ih, W_hh, b, grad_h2))
    return cases


def _bptt(x1, x2, h0, W_ih, W_hh, b, grad_h2, d1="h", d2="h", back1="W", back0="W", steps="both",
          dw_hh="right", inputs="right", db="sum", dh0="right"):
    """The two-step backward with the mistakes the keywords select (all "right": the solution)."""
    pre1 = x1 @ W_ih.T + h0 @ W_hh.T + b
    h1 = np.tanh(pre1)
    pre2 = x2 @ W_ih.T + h1 @ W_hh.T + b
    h2 = np.tanh(pre2)

    def tanh_prime(kind, h, pre):
        return {"h": 1 - h ** 2, "none": 1.0, "pre": 1 - pre ** 2}[kind]

    dpre2 = grad_h2 * tanh_prime(d2, h2, pre2)
    dh1 = dpre2 @ (W_hh if back1 == "W" else W_hh.T)
    dpre1 = dh1 * tanh_prime(d1, h1, pre1)
    dh0_value = {"right": lambda: dpre1 @ (W_hh if back0 == "W" else W_hh.T),
                 "dh1": lambda: dh1, "no W": lambda: dpre1}[dh0]()
    states = (h1, h0) if dw_hh != "shifted" else (h2, h1)
    xs = (x2, x1) if inputs == "right" else (x1, x2)
    reduce = {"sum": lambda d: d.sum(axis=0), "mean": lambda d: d.mean(axis=0)}[db]
    pick = {"both": [0, 1], "step 2": [0], "step 1": [1]}[steps]
    terms = {"dW_hh": (dpre2.T @ states[0], dpre1.T @ states[1]),
             "dW_ih": (dpre2.T @ xs[0], dpre1.T @ xs[1]),
             "db": (reduce(dpre2), reduce(dpre1))}
    dW_hh, dW_ih, db_value = (sum(terms[k][j] for j in pick) for k in ("dW_hh", "dW_ih", "db"))
    if dw_hh == "transposed":
        dW_hh = dW_hh.T  # (dW_ih.T has another shape: the shape check names it)
    return dW_hh, dW_ih, db_value, dh0_value


_NO_TANH_PRIME = ("h = tanh(pre), so the chain rule multiplies by tanh'(pre) = 1 - h**2 on the way back: "
                  "dpre = dh * (1 - h**2) at EVERY step")
_NOT_ACCUMULATED = ("W_hh, W_ih and b are the same arrays at both steps, so their gradients are the SUM of both "
                    "steps' contributions: " + ", ".join(_BPTT_RECIPES[k] for k in ("dW_hh", "dW_ih", "db")))
_THROUGH_WT = ("dLoss/dh flows back through W_hh.T: you wrote dh = dpre @ W_hh.T. The forward multiplies "
               "h1 @ W_hh.T, so the backward multiplies by W_hh itself: dh1 = dpre2 @ W_hh and dh0 = dpre1 @ W_hh "
               "(W_hh is square: the shapes cannot tell, the values do)")
_FROM_PRE = ("you computed tanh's derivative from the pre-activation, 1 - pre**2. The derivative is "
             "tanh'(pre) = 1 - tanh(pre)**2 = 1 - h**2: square the OUTPUT h of the step, not its pre-activation")

_BPTT_MISTAKES = [
    (dict(d1="none", d2="none"), f"you forgot the derivative of tanh at both steps. {_NO_TANH_PRIME}."),
    (dict(d2="none"), f"at step 2 you forgot the derivative of tanh (dpre2 = grad_h2). {_NO_TANH_PRIME}: "
                      "dpre2 = grad_h2 * (1 - h2**2)."),
    (dict(d1="none"), f"at step 1 you forgot the derivative of tanh (dpre1 = dh1). {_NO_TANH_PRIME}: "
                      "dpre1 = dh1 * (1 - h1**2)."),
    (dict(d1="pre", d2="pre"), f"{_FROM_PRE}."),
    (dict(d2="pre"), f"{_FROM_PRE}."),
    (dict(d1="pre"), f"{_FROM_PRE}."),
    (dict(steps="step 2"), "the gradient is not accumulated over time: you kept only step 2's contribution. "
                           f"{_NOT_ACCUMULATED}."),
    (dict(steps="step 1"), "you kept only step 1's contribution, the last one a backward loop computes: an "
                           "assignment dW = ... inside the loop overwrites step 2's. Start from zeros and add "
                           f"(dW_hh += ...). {_NOT_ACCUMULATED}."),
    (dict(back1="WT", back0="WT"), f"{_THROUGH_WT}."),
    (dict(back1="WT"), f"{_THROUGH_WT}."),
    (dict(back0="WT"), f"{_THROUGH_WT}."),
    (dict(dw_hh="transposed"), "dW_hh is transposed: you computed h1.T @ dpre2 (+ h0.T @ dpre1). A gradient has "
                               "its weight's layout: W_hh[j, k] carries unit k of the previous state into unit j, "
                               f"so {_BPTT_RECIPES['dW_hh']}, (H, N) @ (N, H)."),
    (dict(dw_hh="shifted"), "dW_hh pairs each step with the wrong state: step t multiplies the PREVIOUS state, "
                            "h_{t-1} @ W_hh.T, so its contribution is dpre_t.T @ h_{t-1}: "
                            f"{_BPTT_RECIPES['dW_hh']} (you used h2 and h1)."),
    (dict(inputs="swapped"), "dW_ih pairs each step with the other step's input: step 2 reads x2 and step 1 x1, "
                             f"so {_BPTT_RECIPES['dW_ih']}."),
    (dict(db="mean"), "you averaged db over the batch: sum it, db = dpre2.sum(axis=0) + dpre1.sum(axis=0). "
                      "grad_h2 already carries the 1/N of a mean loss (the loss's backward puts it there)."),
    (dict(dh0="dh1"), "dh0 is one step short: you returned dLoss/dh1 = dpre2 @ W_hh. Go back through step 1 as "
                      "well: dpre1 = dh1 * (1 - h1**2), dh0 = dpre1 @ W_hh."),
    (dict(dh0="no W"), "dh0 = dpre1 forgets the product with W_hh: h0 enters step 1 as h0 @ W_hh.T, so "
                       "dh0 = dpre1 @ W_hh."),
]


def _bptt_loss(x1, x2, h0, W_ih, W_hh, b, grad_h2) -> float:
    """loss = Σ h2 · grad_h2, so that dLoss/dh2 = grad_h2."""
    h1 = np.tanh(x1 @ W_ih.T + h0 @ W_hh.T + b)
    h2 = np.tanh(x2 @ W_ih.T + h1 @ W_hh.T + b)
    return float(np.sum(h2 * grad_h2))


def _bptt_numerical(args) -> tuple[np.ndarray, ...]:
    """(dW_hh, dW_ih, db, dh0) by central differences of loss = Σ h2 · grad_h2."""
    x1, x2, h0, W_ih, W_hh, b, g = (a.copy() for a in args)
    return (numerical_gradient(lambda _: _bptt_loss(x1, x2, h0, W_ih, W_hh, b, g), W_hh),
            numerical_gradient(lambda _: _bptt_loss(x1, x2, h0, W_ih, W_hh, b, g), W_ih),
            numerical_gradient(lambda _: _bptt_loss(x1, x2, h0, W_ih, W_hh, b, g), b),
            numerical_gradient(lambda _: _bptt_loss(x1, x2, h0, W_ih, W_hh, b, g), h0))


def _bptt_shape_hint(name: str, y: np.ndarray, want: np.ndarray, n: int) -> str:
    got, right = shape_text(y.shape), shape_text(want.shape)
    hs = want.shape[0] if name != "dh0" else want.shape[1]
    if name == "db":
        if y.shape == (n, hs):
            return (f"db has shape {got} = (N, H): it is not summed over the batch. b is added to every example, "
                    f"so its gradient adds up all of them: {_BPTT_RECIPES['db']}, shape {right}.")
        if y.shape == (2, hs):
            return (f"db has shape {got}: one row per step. Both steps use the same b: add them, "
                    f"{_BPTT_RECIPES['db']}, shape {right}.")
        if y.shape == (n,):
            return (f"db has shape {got} = (N,): you summed over the hidden units (axis=1). Sum over the batch, "
                    f"axis=0: {_BPTT_RECIPES['db']}, shape {right}.")
        if y.shape == ():
            return (f"db is a single number: you summed over every axis. Sum over the batch only (axis=0): "
                    f"{_BPTT_RECIPES['db']}, shape {right}.")
        if y.shape == (1, hs):
            return f"db has shape {got} (keepdims=True?): it has b's shape {right}. {_BPTT_RECIPES['db']}."
    if y.shape == want.shape[::-1]:
        return (f"{name} has shape {got}: it is transposed. A gradient has the shape of what it is the gradient "
                f"of, {right}: {_BPTT_RECIPES[name]}.")
    if y.shape == (2,) + want.shape:
        return (f"{name} has shape {got}: one gradient per step, stacked. The same weight serves both steps, so "
                f"add them: {_BPTT_RECIPES[name]}, shape {right}.")
    if name != "dh0" and y.shape == (n, n):
        return (f"{name} has shape {got} = (N, N): the batch is on the outside of the product. The examples are "
                f"summed INSIDE it, (H, N) @ (N, ...): {_BPTT_RECIPES[name]}, shape {right}.")
    return f"{name} should have shape {right}; yours has shape {got}. {_BPTT_RECIPES[name]}."


def _order_hint(arrays, wants) -> str | None:
    """When the four returned shapes are the right ones in another order: which order you returned."""
    shapes = [a.shape for a in arrays]
    right = [w.shape for w in wants]
    if shapes == right or sorted(shapes) != sorted(right):
        return None
    yours = [_BPTT_NAMES[right.index(s)] for s in shapes]
    return (f"you returned the gradients in another order, {', '.join(yours)}: return them as "
            f"`return {', '.join(_BPTT_NAMES)}`.")


@checker
def check_rnn_bptt_two_steps(rnn_bptt_two_steps) -> None:
    """Check ``rnn_bptt_two_steps(x1, x2, h0, W_ih, W_hh, b, grad_h2) -> (dW_hh, dW_ih, db, dh0)``."""
    problems: list[str] = []
    for args in _bptt_cases():
        x1, x2, h0, W_ih, W_hh, b, g = args
        n = x1.shape[0]
        where = (f"For x1, x2 of shape {shape_text(x1.shape)} = (N, I), h0 {shape_text(h0.shape)} = (N, H), "
                 f"W_ih {shape_text(W_ih.shape)} = (H, I):")
        ok, out = _call_case(
            rnn_bptt_two_steps, args, ["x1", "x2", "h0", "W_ih", "W_hh", "b", "grad_h2"], where, problems,
            f" A shape mismatch in a product: write the shapes down, dpre (N, H), h (N, H), x (N, I), W_hh (H, H); "
            f"{_BPTT_ALL}.",
            {6: " (grad_h2 *= ... changes the caller's gradient: write dpre2 = grad_h2 * (1 - h2**2).)"})
        if not ok:
            return
        values, title, line = _unpack(out, _BPTT_NAMES)
        if values is None:
            print_verdict(title, problems + [f"{where} {line}"])
            return
        wants = rnn_bptt_two_steps_solution(*args)
        arrays = [_as_array(v) for v in values]
        bad = [(name, v) for name, v, a in zip(_BPTT_NAMES, values, arrays) if a is None]
        if bad:
            name, v = bad[0]
            title, line = _not_an_array(v, name)
            print_verdict("Not quite:", problems + [f"{where} {line}"])
            return
        order = _order_hint(arrays, wants)
        if order is not None:
            print_verdict("Not quite:", problems + [f"{where} {order}"])
            return
        lines = [_bptt_shape_hint(name, a, w, n)
                 for name, a, w in zip(_BPTT_NAMES, arrays, wants) if a.shape != w.shape]
        wrong = [k for k in range(4) if arrays[k].shape == wants[k].shape
                 and not close_and_finite(arrays[k], wants[k])]
        if wrong:
            lines += _bptt_value_lines(arrays, wrong, args)
        if lines:
            print_verdict("Not quite:", problems + [f"{where} {lines[0]}"] + lines[1:])
            return
        # the backstop: the answer must also agree with finite differences of the forward
        numeric = _bptt_numerical(args)
        if not all(close(a, num, rtol=1e-5, atol=1e-7) for a, num in zip(arrays, numeric)):  # pragma: no cover
            print_verdict("Not quite:", problems + [f"{where} your gradients do not match finite differences."])
            return
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! Backwards from h2: dpre2 = grad_h2·(1 − h2²), dh1 = dpre2 @ W_hh, dpre1 = dh1·(1 − h1²), "
          "dh0 = dpre1 @ W_hh; the shared W_hh, W_ih and b collect both steps' contributions (dW_hh = dpre2ᵀh1 + "
          "dpre1ᵀh0, ...), and everything agrees with finite differences of loss = Σ h2 · grad_h2. Over T steps "
          "the same loop runs T times: backpropagation through time.")


def _bptt_value_lines(arrays, wrong, args) -> list[str]:
    """One line per mistake named (the outputs it explains grouped), then a finite-difference line per other output."""
    variants = []
    for kwargs, hint in _BPTT_MISTAKES:
        try:
            with quietly():
                variants.append((_bptt(*args, **kwargs), hint))
        except Exception:  # pragma: no cover - every variant is computable on the checker's cases
            continue
    named: dict[str, list[str]] = {}
    unnamed = []
    for k in wrong:
        hint = first_match(arrays[k], [(lambda v=v: v[k], hint) for v, hint in variants])
        if hint is None:
            unnamed.append(k)
        else:
            named.setdefault(hint, []).append(_BPTT_NAMES[k])
    lines = [f"{_and(names)} {'is' if len(names) == 1 else 'are'} wrong: {hint}" for hint, names in named.items()]
    if unnamed:
        numeric = _bptt_numerical(args)
        for k in unnamed:
            name = _BPTT_NAMES[k]
            entry, yours, right = _worst_entry(name, arrays[k], numeric[k])
            lines.append(f"{name} is wrong: finite differences of loss = Σ h2 · grad_h2 give {entry} = "
                         f"{right:.4g}, yours is {yours:.4g}. {_BPTT_RECIPES[name]}, with {_DPRE}.")
    return lines


# ============================================================================ 3. lstm_gates
_LSTM_RIGHT = ("i, f, g, o = the four blocks of H columns of gates, in this order; i, f, o = sigmoid, g = tanh; "
               "c = f * c_prev + i * g; h = o * np.tanh(c)")
_GATE_ORDER = "ifgo"


def _lstm_cases():
    rng = np.random.default_rng(971)
    # pre-activations up to ±3 and c_prev up to ±2: sigmoid(3) = 0.95, tanh(3) = 0.995, so the gates are far from
    # 0.5 and tanh from sigmoid: any two of the mistakes below (and the right answer) differ by more than 0.2
    # somewhere in h or c.
    # A: N = 3, H = 4; B: N = 2, H = 3 (another H: the blocks must be cut at H, not at a fixed column).
    return [(rng.uniform(-3, 3, (n, 4 * h)), rng.uniform(-2, 2, (n, h))) for n, h in ((3, 4), (2, 3))]


def _lstm(gates, c_prev, order=_GATE_ORDER, gate=_sigmoid, candidate=np.tanh, cell="right", out="right",
          blocks="contiguous"):
    """(h, c) with the mistakes the keywords select: ``order`` is what you took the four blocks to be."""
    hs = c_prev.shape[1]
    if blocks == "contiguous":
        parts = [gates[:, k * hs:(k + 1) * hs] for k in range(4)]
    else:  # every 4th column: gates.reshape(N, H, 4)[..., k]
        parts = [gates[:, k::4] for k in range(4)]
    pre = dict(zip(order, parts))
    i, f, o = gate(pre["i"]), gate(pre["f"]), gate(pre["o"])
    g = candidate(pre["g"])
    c = {"right": lambda: f * c_prev + i * g, "no i": lambda: f * c_prev + g,
         "no f": lambda: c_prev + i * g}[cell]()
    h = {"right": lambda: o * np.tanh(c), "no tanh": lambda: o * c, "tanh outside": lambda: np.tanh(o * c),
         "old c": lambda: o * np.tanh(c_prev)}[out]()
    return h, c


def _lstm_variants():
    """(keywords of _lstm, hint): every other order of the four blocks first, then the other mistakes."""
    variants = []
    for order in itertools.permutations(_GATE_ORDER):
        order = "".join(order)
        if order == _GATE_ORDER:
            continue
        variants.append((dict(order=order),
                         f"the gate order: PyTorch's is i, f, g, o (gates[:, 0:H] is i, gates[:, H:2H] is f, "
                         f"gates[:, 2H:3H] is g, gates[:, 3H:4H] is o); you read the four blocks as "
                         f"{', '.join(order)}."))
    variants += [
        (dict(gate=np.tanh, candidate=_sigmoid),
         "tanh and sigmoid are swapped: the gates i, f and o are sigmoids (values in (0, 1): how much passes) and "
         f"the candidate g is a tanh (values in (-1, 1): the memory can go down as well as up). {_LSTM_RIGHT}."),
        (dict(candidate=_sigmoid),
         "the candidate g went through a sigmoid too: g = tanh(gates[:, 2H:3H]), values in (-1, 1), so that "
         f"the cell state can also decrease; only i, f and o are sigmoids. {_LSTM_RIGHT}."),
        (dict(gate=np.tanh),
         "the gates went through tanh: i, f and o are sigmoids, values in (0, 1), a fraction of what passes "
         f"(a tanh gate could be negative); only g is a tanh. {_LSTM_RIGHT}."),
        (dict(out="no tanh"),
         "h = o * c: you forgot the tanh of c. The cell state c can grow beyond ±1 (it adds up over the steps); "
         "the output squashes it first: h = o * np.tanh(c)."),
        (dict(out="tanh outside"),
         "h = tanh(o * c): the tanh belongs to c alone, and the output gate scales the result: "
         "h = o * np.tanh(c)."),
        (dict(out="old c"),
         "h uses the old cell state c_prev: compute the new c first, then h = o * np.tanh(c) with the NEW c."),
        (dict(cell="no i"),
         "c = f * c_prev + g: you forgot the input gate. i decides how much of the candidate g is written: "
         "c = f * c_prev + i * g."),
        (dict(cell="no f"),
         "c = c_prev + i * g: you forgot the forget gate. f decides how much of c_prev is kept: "
         "c = f * c_prev + i * g."),
        (dict(blocks="interleaved"),
         "you took every 4th column for each gate (gates[:, 0::4], or gates.reshape(N, H, 4)): each gate is a "
         "contiguous block of H columns, i = gates[:, 0:H], f = gates[:, H:2*H], g = gates[:, 2*H:3*H], "
         "o = gates[:, 3*H:]."),
    ]
    return variants


def _lstm_shape_hint(name: str, y: np.ndarray, gates: np.ndarray, c_prev: np.ndarray) -> str:
    n, hs = c_prev.shape
    want = f"c_prev's shape (N, H) = {shape_text((n, hs))}"
    if y.shape == gates.shape:
        return (f"{name} has shape {shape_text(y.shape)} = (N, 4H), the shape of gates: cut gates into its four "
                f"blocks of H columns first (i = gates[:, 0:H], ...); {name} has {want}.")
    if y.shape == (hs, n):
        return f"{name} has shape {shape_text(y.shape)} = (H, N), the transpose: {name} has {want}."
    return f"{name} should have {want}; yours has shape {shape_text(y.shape)}. {_LSTM_RIGHT}."


@checker
def check_lstm_gates(lstm_gates) -> None:
    """Check ``lstm_gates(gates, c_prev) -> (h, c)``: PyTorch's gate order i, f, g, o."""
    problems: list[str] = []
    for gates, c_prev in _lstm_cases():
        n, hs = c_prev.shape
        where = f"For gates of shape {shape_text(gates.shape)} = (N, 4H) and c_prev {shape_text(c_prev.shape)}:"
        ok, out = _call_case(
            lstm_gates, (gates, c_prev), ["gates", "c_prev"], where, problems,
            f" A shape mismatch: each of i, f, g, o is a block of H = {hs} columns of gates, (N, H) like c_prev, "
            f"e.g. i = gates[:, 0:H] with H = c_prev.shape[1].",
            {0: " (An assignment gates[:, :H] = sigmoid(...) writes into the caller's gates.)"})
        if not ok:
            return
        values, title, line = _unpack(out, ("h", "c"))
        if values is None:
            print_verdict(title, problems + [f"{where} {line}"])
            return
        arrays = [_as_array(v) for v in values]
        for name, v, a in zip(("h", "c"), values, arrays):
            if a is None:
                print_verdict("Not quite:", problems + [f"{where} {_not_an_array(v, name)[1]}"])
                return
        want_h, want_c = lstm_gates_solution(gates, c_prev)
        shape_lines = [_lstm_shape_hint(name, a, gates, c_prev)
                       for name, a in zip(("h", "c"), arrays) if a.shape != want_h.shape]
        if shape_lines:
            print_verdict("Not quite:", problems + [f"{where} {shape_lines[0]}"] + shape_lines[1:])
            return
        h, c = arrays
        if close_and_finite(h, want_h) and close_and_finite(c, want_c):
            continue
        if close_and_finite(h, want_c) and close_and_finite(c, want_h):
            print_verdict("Not quite:", problems + [
                f"{where} you returned (c, h): the values are right but swapped. Return h first, as PyTorch's "
                "LSTMCell returns (h, c): `return h, c`."])
            return
        pair = np.concatenate([h.ravel(), c.ravel()])
        hint = first_match(pair, [(lambda kw=kw: np.concatenate([v.ravel() for v in _lstm(gates, c_prev, **kw)]),
                                   hint) for kw, hint in _lstm_variants()])
        if hint is None:
            if close_and_finite(c, want_c):
                hint = f"c is right, h is wrong: {_difference_text('h', h, want_h)}. h = o * np.tanh(c)."
            else:
                which = "h and c are" if not close_and_finite(h, want_h) else "c is"
                hint = f"{which} wrong: {_difference_text('c', c, want_c)}. {_LSTM_RIGHT}."
        print_verdict("Not quite:", problems + [f"{where} {hint}"])
        return
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! The four blocks of gates are i, f, g, o in PyTorch's order; i, f, o are sigmoids (how much "
          "passes) and g a tanh (what to write); c = f·c_prev + i·g is an additive update, and h = o·tanh(c). "
          "That is nn.LSTMCell after its matrix products, gates = x W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh.")


# ============================================================================ 4. clip_grad_norm
def _clip_cases():
    rng = np.random.default_rng(939)
    # A: total norm about 6 > max_norm = 2. One array's own norm is below 2, the others' above, so clipping each
    # array by its own norm is seen; some entries are beyond ±2, so clipping by value is seen; max_norm is not 1,
    # so dividing by the norm without multiplying by max_norm is seen; the first array's norm is not the largest.
    above = [1.0 * rng.standard_normal((3, 4)), 0.5 * rng.standard_normal(4), 2.2 * rng.standard_normal((2, 3))]
    # B: total norm below max_norm = 10: nothing to clip (scaling up would be wrong)
    below = [0.6 * rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((2, 3))]
    # C: tiny gradients, total norm about 5e-5 > max_norm = 2e-5: here the + 1e-6 of PyTorch's formula changes
    # the result by about 2 % (at a norm of 6 only by 2e-7)
    tiny = [0.5e-5 * rng.standard_normal((3, 4)), 1e-5 * rng.standard_normal(4), 1e-5 * rng.standard_normal((2, 3))]
    return [("above", above, 2.0), ("below", below, 10.0), ("tiny", tiny, 2e-5)]


def _norms(grads) -> list[float]:
    return [float(np.sqrt(np.sum(g ** 2))) for g in grads]


_CLIP_RIGHT = ("total_norm = np.sqrt(sum(np.sum(g**2) for g in grads)); if total_norm > max_norm, every array "
               "times max_norm / (total_norm + 1e-6)")


def _clip_grads_variants(grads, max_norm):
    """(make, hint) for clipped gradients computed the wrong way.

    A wrong total clips when IT is above max_norm, as the learner's ``if`` would; a mistake that cannot show on
    this input (nothing to clip) gives None and is skipped.
    """
    norms = _norms(grads)
    total = float(np.sqrt(sum(n ** 2 for n in norms)))

    def scaled(factor, norm=total):
        return lambda: [g * factor for g in grads] if norm > max_norm else None

    return [
        (lambda: [g * min(1.0, max_norm / (n + 1e-6)) for g, n in zip(grads, norms)],
         "you clipped each array by its own norm. clip_grad_norm treats ALL the gradients as one long vector: "
         "one total norm, and the same factor for every array (so the direction of the whole update is kept): "
         f"{_CLIP_RIGHT}."),
        (lambda: [np.clip(g, -max_norm, max_norm) for g in grads],
         "you clipped each entry to [-max_norm, max_norm]: that is clipping by VALUE (clip_grad_value_), which "
         "changes the direction. clip_grad_norm scales every array by one factor so that the total norm becomes "
         f"max_norm: {_CLIP_RIGHT}."),
        (scaled(max_norm / (sum(norms) + 1e-6), sum(norms)),
         f"you used the sum of the arrays' norms ({sum(norms):.5g}) as the total norm. The total norm is the norm "
         f"of all entries together, sqrt(Σ over all arrays of Σ g²) = {total:.5g} (the norms combine like the "
         f"sides of a right triangle, not by adding): {_CLIP_RIGHT}."),
        (scaled(max_norm / (total ** 2 + 1e-6), total ** 2),
         f"you scaled with the squared norm (no square root): {_CLIP_RIGHT}."),
        (scaled(max_norm / total),
         "almost: you scaled by max_norm / total_norm. PyTorch divides by total_norm + 1e-6, which never divides "
         f"by zero (and leaves the norm a hair below max_norm): {_CLIP_RIGHT}."),
        (scaled(1 / (total + 1e-6)),
         "you divided by the total norm but did not multiply by max_norm: the gradients now have norm 1, not "
         f"max_norm = {max_norm:g}: {_CLIP_RIGHT}."),
        (scaled(total / max_norm),
         f"the scale factor is upside down: total_norm / max_norm makes a long gradient longer. {_CLIP_RIGHT}."),
        (lambda: [g.copy() for g in grads] if total > max_norm else None,
         f"you returned the gradients unchanged, but their total norm {total:.5g} is above max_norm = "
         f"{max_norm:g}: scale them down. {_CLIP_RIGHT}."),
        (lambda: [g * (max_norm / (total + 1e-6)) for g in grads] if total < max_norm else None,
         f"you scaled the gradients UP: their total norm {total:.5g} is below max_norm = {max_norm:g}, so they "
         "must stay as they are. Clipping only ever shrinks: scale only if total_norm > max_norm (PyTorch: "
         "the factor min(max_norm / (total_norm + 1e-6), 1))."),
    ]


def _clip_norm_variants(grads, max_norm):
    norms = _norms(grads)
    total = float(np.sqrt(sum(n ** 2 for n in norms)))
    after = float(np.sqrt(sum(np.sum(g ** 2) for g in clip_grad_norm_solution(grads, max_norm)[0])))
    before = (f"Return the norm BEFORE clipping ({total:.5g}), as PyTorch's clip_grad_norm_ does: it is what "
              "you log to watch training, a rising norm is an early warning")
    return [
        (lambda: after if total > max_norm else None,
         f"you returned the norm after clipping (about max_norm = {max_norm:g}). {before}."),
        (lambda: float(max_norm) if total > max_norm else None,
         f"you returned max_norm, the norm after clipping. {before}."),
        (lambda: sum(norms),
         f"total_norm is the sum of the arrays' norms. It is the norm of all entries together: "
         f"np.sqrt(sum(np.sum(g**2) for g in grads)) = {total:.5g}."),
        (lambda: total ** 2,
         "total_norm is the sum of the squares: take the square root, np.sqrt(sum(np.sum(g**2) for g in grads))."),
        (lambda: max(norms),
         f"total_norm is the largest of the arrays' norms. It is the norm of all entries together: "
         f"np.sqrt(sum(np.sum(g**2) for g in grads)) = {total:.5g}."),
        (lambda: norms[0],
         f"total_norm is the norm of the first array only: add up the squares of ALL arrays, "
         f"np.sqrt(sum(np.sum(g**2) for g in grads)) = {total:.5g}."),
        (lambda: max_norm / (total + 1e-6),
         f"you returned the scale factor max_norm / (total_norm + 1e-6); return total_norm itself. {before}."),
    ]


def _call_clip(fn, grads, max_norm):
    """(output, arrays changed in place, list changed) of fn on copies of grads; NotDone and Raised go up."""
    passed = [g.copy() for g in grads]
    items = list(passed)  # the copies themselves, to see whether the list was changed
    out = call(fn, passed, max_norm)
    changed = [k for k, (g, p) in enumerate(zip(grads, items)) if p.shape != g.shape or not np.array_equal(p, g)]
    list_changed = len(passed) != len(items) or any(a is not b for a, b in zip(passed, items))
    return out, changed, list_changed


def _number(value) -> float | None:
    """``value`` as one float (a Python or numpy number, a 0-d array), or None."""
    if isinstance(value, (bool, np.bool_)):
        return None
    a = _as_array(value)
    if a is None or a.shape != ():
        return None
    return float(a)


@checker
def check_clip_grad_norm(clip_grad_norm) -> None:
    """Check ``clip_grad_norm(grads, max_norm) -> (clipped_grads, total_norm)`` (PyTorch's formula, no in-place)."""
    problems: list[str] = []
    for name, grads, max_norm in _clip_cases():
        total = clip_grad_norm_solution(grads, max_norm)[1]
        shapes = ", ".join(shape_text(g.shape) for g in grads)
        where = (f"For {len(grads)} gradients of shapes {shapes} (total norm {total:.5g}) and "
                 f"max_norm={max_norm:g}:")
        try:
            out, changed, list_changed = _call_clip(clip_grad_norm, grads, max_norm)
        except Raised as exc:
            print_verdict("Not quite:", problems + [f"{where} your function raised {exc.short()}."])
            return
        if changed and not any("in place" in p for p in problems):  # said once
            which = _and([f"grads[{k}]" for k in changed])
            problems.append(f"your function changed {which} in place (g *= scale?). Here the caller keeps its "
                            "gradients: build new arrays, [g * scale for g in grads]. (PyTorch's clip_grad_norm_ "
                            "does change them, on purpose: its trailing _ says so.)")
        elif list_changed and not any("the list grads" in p for p in problems):
            problems.append("your function changed the list grads (grads[k] = ... replaces the caller's "
                            "arrays): build a new list, clipped = [g * scale for g in grads], and return it.")
        values, title, line = _unpack(out, ("clipped_grads", "total_norm"))
        if values is None:
            print_verdict(title, problems + [f"{where} {line}"])
            return
        clipped, norm_out = values
        want_grads, want_norm = clip_grad_norm_solution(grads, max_norm)
        lines = []
        # the clipped gradients: a list of arrays shaped like grads
        arrays = None
        if not isinstance(clipped, (list, tuple)):
            a = _as_array(clipped)
            if a is not None and a.size == sum(g.size for g in grads) and a.ndim == 1:
                lines.append(f"clipped_grads is one flat array of {a.size} values: return one array per gradient, "
                             f"with its shape, in a list: [g * scale for g in grads].")
            else:
                lines.append(f"clipped_grads should be a list of {len(grads)} arrays, one per gradient; yours is "
                             f"a {type(clipped).__name__}.")
        elif len(clipped) != len(grads):
            lines.append(f"clipped_grads has {len(clipped)} entries: return one array per gradient, "
                         f"{len(grads)} here.")
        else:
            arrays = [_as_array(a) for a in clipped]
            for k, (a, g) in enumerate(zip(arrays, grads)):
                if a is None or a.shape != g.shape:
                    got = (_not_an_array(clipped[k], f"clipped_grads[{k}]")[1] if a is None else
                           f"clipped_grads[{k}] has shape {shape_text(a.shape)}.")
                    lines.append(f"{got} Each clipped gradient has the shape of its gradient, "
                                 f"{shape_text(g.shape)}.")
                    arrays = None
                    break
        if arrays is not None and not all(close_and_finite(a, w) for a, w in zip(arrays, want_grads)):
            flat = np.concatenate([a.ravel() for a in arrays])
            hint = first_match(flat, [(lambda make=make: (lambda v: None if v is None else
                                                         np.concatenate([a.ravel() for a in v]))(make()), hint)
                                      for make, hint in _clip_grads_variants(grads, max_norm)])
            if hint is None:
                k = next(k for k, (a, w) in enumerate(zip(arrays, want_grads)) if not close_and_finite(a, w))
                diff = _difference_text(f"clipped_grads[{k}]", arrays[k], want_grads[k])
                hint = f"the clipped gradients are wrong: {diff}. {_CLIP_RIGHT}."
            lines.append(hint)
        # the norm: one number, before clipping
        number = _number(norm_out)
        if number is None:
            a = _as_array(norm_out)
            if a is not None and a.size == len(grads) and close(a.ravel(), _norms(grads)):
                lines.append("total_norm is a list of the arrays' norms: it is ONE number, the norm of all entries "
                             "together, np.sqrt(sum(np.sum(g**2) for g in grads)).")
            elif a is not None and a.size == 1:
                lines.append(f"total_norm should be a plain number, not an array of shape {shape_text(a.shape)}: "
                             "float(...) it.")
            else:
                shown = "None" if norm_out is None else f"a {type(norm_out).__name__}"
                lines.append(f"total_norm should be one number, the norm before clipping; yours is {shown}.")
        elif not close_and_finite(np.float64(number), want_norm):
            hint = first_match(np.float64(number), _clip_norm_variants(grads, max_norm)) or (
                f"total_norm is {number:.6g} but should be {want_norm:.6g}: the norm of all entries together, "
                "np.sqrt(sum(np.sum(g**2) for g in grads)), before clipping.")
            lines.append(hint)
        if lines:
            print_verdict("Not quite:", problems + [f"{where} {lines[0]}"] + lines[1:])
            return
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! total_norm is the norm of all entries of all gradients as one long vector; above max_norm "
          "every array is scaled by the same max_norm / (total_norm + 1e-6), so the direction is kept and only "
          "the length shrinks; below, nothing changes, and the norm returned is the one before clipping. That is "
          "torch.nn.utils.clip_grad_norm_ (course_lib.optim.clip_grad_norm_), which scales the .grad arrays in "
          "place.")

