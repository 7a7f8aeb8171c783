"""Exercises for notebook 04 (overfitting and regularization), with automatic feedback.

    from course_lib.exercises.regularization import check_dropout_forward, check_l2_gradients
    check_dropout_forward(dropout_forward)   # prints a verdict
    check_l2_gradients(l2_gradients)

A checker calls your function on fixed inputs (and seeded generators), checks
what it returns and, when something is off, names the classic mistake it sees.
It prints plain text and never raises, whatever your function does: an
unfinished function (``raise NotImplementedError``) gives "Not done yet".

The dropout checker does not insist on one particular way of drawing the mask:
it checks what any correct inverted dropout must satisfy (every output is
either 0 or ``x / (1 - p)``, about a fraction ``p`` of zeros, a fresh mask at
each call, the identity at evaluation time).
"""
from __future__ import annotations

import numpy as np

from ._checking import NotDone, Raised, as_array, call, checker, not_an_array, print_verdict

__all__ = [
    "check_dropout_forward", "check_l2_gradients",
    "dropout_forward_solution", "l2_gradients_solution",
]


# ---------------------------------------------------------------------------- reference solutions
def dropout_forward_solution(x, p, rng, training=True):
    """Inverted dropout: keep each entry with probability 1 - p and divide the kept ones by 1 - p."""
    if not training or p == 0:
        return x
    keep = rng.random(x.shape) >= p  # True with probability 1 - p
    return x * keep / (1 - p)


def l2_gradients_solution(params, grads, weight_decay):
    """Gradients of loss + (weight_decay / 2) * (sum of squared weight-matrix entries); biases untouched."""
    return {name: grads[name] + weight_decay * w if w.ndim >= 2 else grads[name]
            for name, w in params.items()}


# ---------------------------------------------------------------------------- dropout
_P = 0.2  # keeping with probability p (0.2) or 1 - p (0.8) are easy to tell apart


def _dropout_input(shape=(400, 500), seed=404) -> np.ndarray:
    """Values around 1, none of them exactly 0, so a 0 in the output means 'dropped'."""
    rng = np.random.default_rng(seed)
    return 1.0 + 0.5 * rng.standard_normal(shape)


def _scale_name(c: float, p: float) -> str | None:
    """Which classic (wrong) factor the kept entries were multiplied by, if any."""
    named = [
        (1.0, "you did not rescale: the kept entries are left as they are, so the expected output is "
              f"(1 - p) * x = {1 - p:g} * x. Divide the kept entries by (1 - p), then the mean is unchanged "
              "and nothing needs to change at evaluation time."),
        (p, "you multiplied the kept entries by p. Inverted dropout multiplies them by 1 / (1 - p): "
            f"for p = {p:g} that is x {1 / (1 - p):g}, not x {p:g}."),
        (1 / p, "you divided the kept entries by p. Divide by the probability of keeping, (1 - p): "
                f"for p = {p:g} that is x {1 / (1 - p):g}, not x {1 / p:g}."),
        (1 - p, "you multiplied the kept entries by (1 - p). That is the scaling the original dropout applied "
                "at test time; inverted dropout divides by (1 - p) during training instead."),
    ]
    for value, hint in named:
        if np.isclose(c, value, rtol=1e-6):
            return hint
    return None


@checker
def check_dropout_forward(dropout_forward) -> None:
    """Check ``dropout_forward(x, p, rng, training=True)``: inverted dropout, and the identity at eval time."""
    p = _P
    x = _dropout_input()
    x_copy = x.copy()
    problems: list[str] = []

    # 1. training mode: which entries are zeroed, and by how much the others are scaled
    try:
        out = call(dropout_forward, x, p, np.random.default_rng(7), training=True)
    except Raised as exc:
        print_verdict("Not quite:", [f"in training mode (p = {p:g}) your function raised {exc.short()}."])
        return
    if not np.array_equal(x, x_copy):
        problems.append("your function changed x in place; return a new array (x * mask / (1 - p)) "
                        "and leave the input as it was.")
        x = x_copy.copy()
    y = as_array(out)
    if y is None:
        print_verdict("Not quite:", [not_an_array(out, f"In training mode (p = {p:g}) your function")])
        return
    if y.shape != x.shape:
        print_verdict("Not quite:", [f"the output should have the shape of x, {x.shape}, got {y.shape}."])
        return
    dropped = y == 0
    frac = float(dropped.mean())
    kept = ~dropped
    if frac == 0 and np.allclose(y, x, rtol=1e-12, atol=0):
        problems.append("in training mode nothing was dropped and nothing rescaled: the output equals x. "
                        "Draw a mask with rng (keep where rng.random(x.shape) >= p) and apply it.")
        print_verdict("Not quite:", problems)
        return
    if abs(frac - (1 - p)) < 0.01:
        problems.append(f"you kept each entry with probability p: {frac:.1%} of the outputs are 0, but a "
                        f"fraction p = {p:.0%} should be. p is the probability of DROPPING an entry: "
                        "keep where rng.random(x.shape) >= p (probability 1 - p).")
    elif abs(frac - p) >= 0.01:
        problems.append(f"{frac:.1%} of the outputs are 0; each entry should be dropped with probability "
                        f"p = {p:.0%}: keep where rng.random(x.shape) >= p.")
    if kept.any():
        ratios = y[kept] / x[kept]
        c = float(np.median(ratios))
        if not np.allclose(ratios, c, rtol=1e-6, atol=0):
            problems.append("the kept entries are not all multiplied by the same factor: each kept entry "
                            "should be x / (1 - p), each dropped one exactly 0.")
        elif not np.isclose(c, 1 / (1 - p), rtol=1e-6):
            problems.append(_scale_name(c, p) or (
                f"the kept entries are multiplied by {c:.4f}; they should be multiplied by "
                f"1 / (1 - p) = {1 / (1 - p):.4f}, so that the mean of the output equals the mean of x."))
    if problems:
        print_verdict("Not quite:", problems)
        return

    # 2. a fresh mask at every call
    try:
        y1 = as_array(call(dropout_forward, x, p, np.random.default_rng(8), training=True))
        rng = np.random.default_rng(9)
        a = as_array(call(dropout_forward, x, p, rng, training=True))
        b = as_array(call(dropout_forward, x, p, rng, training=True))
    except (NotDone, Raised) as exc:
        print_verdict("Not quite:", [f"a second call in training mode raised {exc}."])
        return
    if a is not None and b is not None and a.shape == b.shape and np.array_equal(a == 0, b == 0):
        problems.append("two calls with the same rng dropped the same entries: draw a new mask from rng at "
                        "every call (do not create np.random.default_rng(...) inside your function, use the "
                        "rng you are given).")
    elif y1 is not None and y1.shape == y.shape and np.array_equal(y1 == 0, dropped):
        problems.append("a different rng gave the same mask: draw the mask from the rng argument.")

    # 3. evaluation mode: the identity
    try:
        out = call(dropout_forward, x, p, np.random.default_rng(10), training=False)
    except Raised as exc:
        problems.append(f"with training=False your function raised {exc.short()}.")
        print_verdict("Not quite:", problems)
        return
    y_eval = as_array(out)
    if y_eval is None or y_eval.shape != x.shape:
        problems.append(not_an_array(out, "With training=False your function") if y_eval is None else
                        f"with training=False the output should have shape {x.shape}, got {y_eval.shape}.")
    elif not np.allclose(y_eval, x, rtol=1e-12, atol=0):
        if np.mean(y_eval == 0) > 0.05:
            problems.append("dropout is still on at evaluation time (training=False): some outputs are 0. "
                            "At evaluation time dropout is the identity: return x unchanged.")
        else:
            c = float(np.median(y_eval / x))
            problems.append(f"at evaluation time (training=False) the output is x times {c:.4f}; return x "
                            "unchanged. Inverted dropout already rescaled during training, so evaluation "
                            "needs no correction.")

    # 4. p = 0 is the identity
    try:
        y0 = as_array(call(dropout_forward, x, 0.0, np.random.default_rng(11), training=True))
        if y0 is not None and y0.shape == x.shape and not np.allclose(y0, x, rtol=1e-12, atol=0):
            problems.append("with p = 0 nothing should be dropped: the output must equal x.")
    except NotDone:
        pass
    except Raised as exc:
        problems.append(f"with p = 0 your function raised {exc.short()}; p = 0 means no dropout at all.")

    if problems:
        print_verdict("Not quite:", problems)
        return
    print(f"Correct! In training mode {frac:.1%} of the entries are dropped (p = {p:g}) and the others are "
          f"multiplied by 1/(1 - p) = {1 / (1 - p):g}, so the mean stays about the same (input mean "
          f"{float(x.mean()):.3f}, output mean {float(y.mean()):.3f}); each call draws a new mask; "
          f"training=False returns x unchanged.")


# ---------------------------------------------------------------------------- L2 penalty
_LAMBDA = 0.3  # neither 1 nor 0.5 nor 2: each wrong factor gives a different number


def _l2_case():
    rng = np.random.default_rng(505)
    shapes = {"0.weight": (4, 2), "0.bias": (4,), "2.weight": (3, 4), "2.bias": (3,)}
    params = {name: rng.standard_normal(s) for name, s in shapes.items()}
    grads = {name: rng.standard_normal(s) for name, s in shapes.items()}
    return params, grads


def _diagnose_weight(got, w, g, lam) -> str | None:
    """What is wrong with one weight matrix's gradient (None if right); the same text for the same mistake."""
    want = g + lam * w
    if got.shape != want.shape:
        return f"should have the shape of its weight, {want.shape}, got {got.shape}."
    if np.allclose(got, want, rtol=1e-9, atol=1e-12):
        return None
    if np.allclose(got, g, rtol=1e-9, atol=1e-12):
        return "is unchanged: a weight matrix gets weight_decay * W added to its gradient."
    named = [
        (g + w, "you added W without the factor weight_decay: the gradient of (λ/2)·ΣW² is λ·W."),
        (g + 0.5 * lam * w, "you added (weight_decay / 2) * W: the 2 from differentiating W² cancels the 1/2, "
                            "so the gradient of (λ/2)·ΣW² is λ·W."),
        (g + 2 * lam * w, "you added 2 * weight_decay * W: the penalty is (λ/2)·ΣW², and its gradient is λ·W "
                          "(the 1/2 is there to cancel the 2)."),
        (g - lam * w, "you subtracted weight_decay * W: the penalty's gradient λ·W is ADDED to the gradient "
                      "(the optimizer's step then subtracts it, shrinking W)."),
        (lam * w, "you replaced the gradient by weight_decay * W: add it to the loss gradient, "
                  "grads[name] + weight_decay * W."),
        (g + lam * w * w, "you added weight_decay * W**2: the derivative of W² is 2W, so the gradient of "
                          "(λ/2)·ΣW² is λ·W."),
    ]
    for value, hint in named:
        if np.allclose(got, value, rtol=1e-9, atol=1e-12):
            return hint
    return (f"has wrong values (largest difference {float(np.max(np.abs(got - want))):.4f}); "
            "it should be grads[name] + weight_decay * params[name].")


@checker
def check_l2_gradients(l2_gradients) -> None:
    """Check ``l2_gradients(params, grads, weight_decay)``: add weight_decay * W to weight matrices only."""
    params, grads = _l2_case()
    p_copy = {k: v.copy() for k, v in params.items()}
    g_copy = {k: v.copy() for k, v in grads.items()}
    lam = _LAMBDA
    try:
        out = call(l2_gradients, params, grads, lam)
    except Raised as exc:
        print_verdict("Not quite:", [f"your function raised {exc.short()}."])
        return
    problems: list[str] = []
    modified = [k for k in params if not (np.array_equal(params[k], p_copy[k]) and np.array_equal(grads[k], g_copy[k]))]
    if modified:
        problems.append(f"your function changed its inputs in place ({', '.join(modified)}); build and return a "
                        "new dict, e.g. {name: ... for name, w in params.items()}.")
    params, grads = p_copy, g_copy
    if not isinstance(out, dict):
        got = "None (did you forget `return`?)" if out is None else f"a {type(out).__name__}"
        print_verdict("Not quite:", problems + [f"return a dict with one gradient per parameter name; got {got}."])
        return
    missing = [k for k in params if k not in out]
    if missing:
        print_verdict("Not quite:", problems + [f"the returned dict has no entry for {missing}: return a gradient for "
                                           "every parameter, biases included (unchanged)."])
        return
    weight_msgs: dict[str, list[str]] = {}  # one line per kind of mistake, naming the weights it affects
    bias_msgs: list[str] = []
    penalised_biases: list[str] = []
    for name, w in params.items():
        got = as_array(out[name])
        if got is None:
            problems.append(not_an_array(out[name], f"The entry '{name}'"))
            continue
        g = grads[name]
        if w.ndim >= 2:
            msg = _diagnose_weight(got, w, g, lam)
            if msg:
                weight_msgs.setdefault(msg, []).append(name)
        elif got.shape != g.shape or not np.allclose(got, g, rtol=1e-9, atol=1e-12):
            penalised = [g + f * lam * w for f in (1.0, 0.5, 2.0, -1.0)] + [g + w]
            if got.shape == g.shape and any(np.allclose(got, v, rtol=1e-9, atol=1e-12) for v in penalised):
                penalised_biases.append(name)
            else:
                bias_msgs.append(f"the bias gradient '{name}' changed; return it unchanged.")
    for msg, names in weight_msgs.items():
        who = " and ".join(f"'{n}'" for n in names)
        problems.append(f"{who} {msg}" if not msg.startswith("you") else f"{msg} (in {who})")
    if penalised_biases:
        who = " and ".join(f"'{n}'" for n in penalised_biases)
        problems.append(f"you applied the penalty to the biases too ({who}). Biases are left out of weight decay "
                        "(only the weight matrices, ndim >= 2, are decayed): a bias only shifts a unit, it does "
                        "not make the function sharper, so decaying it only hurts the fit.")
    problems += bias_msgs[:1]
    if problems:
        print_verdict("Not quite:", problems)
        return
    print(f"Correct! With weight_decay = {lam:g}, each weight matrix's gradient gets + {lam:g} * W (the gradient of "
          f"the penalty ({lam:g}/2)·ΣW²) and the biases' gradients are unchanged.")
