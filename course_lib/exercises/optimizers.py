"""Exercises of notebook 03 (optimizers), with automatic feedback.

    from course_lib.exercises.optimizers import check_momentum_step, check_adam_step, check_adamw_step
    check_momentum_step(momentum_step)    # prints a verdict, never raises

The three functions the learner writes update ONE parameter array by one step
and return the new values (they may also update the arrays in place)::

    momentum_step(p, grad, v, lr, momentum)                          -> (p, v)
    adam_step(p, grad, m, v, t, lr, beta1, beta2, eps)                -> (p, m, v)
    adamw_step(p, grad, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (p, m, v)

``t`` is the number of the step being taken: 1 for the first step (PyTorch's
``state["step"]`` after it is incremented). A checker runs the learner's
function for several steps on a small quadratic loss whose gradient depends on
the current ``p`` (so the order of the updates matters), next to the very
``SGD`` / ``Adam`` / ``AdamW`` classes of ``course_lib.optim`` (which match
PyTorch step for step). When the two differ, it runs the usual mistakes through
the same loop and names the one whose numbers the learner's function
reproduces. Verdicts are plain text and deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..nn.parameter import Parameter
from ..optim import SGD, Adam, AdamW
from ._checking import Raised, call, checker, print_verdict

__all__ = [
    "check_momentum_step", "check_adam_step", "check_adamw_step",
    "momentum_step_solution", "adam_step_solution", "adamw_step_solution",
]

_RTOL, _ATOL = 1e-7, 1e-10


# ---------------------------------------------------------------------------- reference solutions
def momentum_step_solution(p, grad, v, lr, momentum):
    """SGD with momentum, PyTorch's form: v = momentum * v + grad, then p = p - lr * v."""
    v = momentum * v + grad
    p = p - lr * v
    return p, v


def adam_step_solution(p, grad, m, v, t, lr, beta1, beta2, eps):
    """One Adam step; t = 1 for the first step. Returns the new (p, m, v); m and v stay uncorrected."""
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)                 # bias correction
    v_hat = v / (1 - beta2 ** t)
    p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p, m, v


def adamw_step_solution(p, grad, m, v, t, lr, beta1, beta2, eps, weight_decay):
    """AdamW: shrink the weights by (1 - lr * weight_decay), then a plain Adam step with the same gradient."""
    p = p * (1 - lr * weight_decay)              # decoupled weight decay: on the weights, not the gradient
    return adam_step_solution(p, grad, m, v, t, lr, beta1, beta2, eps)


# ---------------------------------------------------------------------------- the test problems
@dataclass(frozen=True)
class _Case:
    """A quadratic loss 1/2 sum h (p - c)^2 (+ a fixed gradient wiggle per step), and the hyperparameters."""

    p0: np.ndarray
    h: np.ndarray
    c: np.ndarray
    wiggle: np.ndarray          # (steps, n): added to the gradient at each step
    lrs: tuple                  # the learning rate of each step (a schedule, or constant)
    hyper: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.lrs)

    def grad(self, p: np.ndarray, k: int) -> np.ndarray:
        return self.h * (p - self.c) + self.wiggle[k]


def _case(seed: int, steps: int, lrs, n: int = 4, scale: float = 1.0, **hyper) -> _Case:
    rng = np.random.default_rng(seed)
    p0 = rng.uniform(-2.0, 2.0, n)
    h = np.geomspace(0.3, 30.0, n)             # very different curvatures: one step size does not fit all
    c = rng.uniform(-1.0, 1.0, n)
    wiggle = 0.3 * rng.standard_normal((steps, n))
    lrs = tuple(float(lr) for lr in lrs)
    return _Case(p0 * scale, h, c * scale, wiggle * scale, lrs, hyper)


# ---------------------------------------------------------------------------- running a step function
class _Bad(Exception):
    """The learner's function failed or returned something unusable: the message says what."""


def _run(fn: Callable, case: _Case, kind: str):
    """Run ``fn`` for every step of ``case``; returns the list of states after each step.

    A state is a tuple of arrays: (p, v) for "momentum", (p, m, v) for "adam"/"adamw".
    """
    n_out = 2 if kind == "momentum" else 3
    names = ("p", "v") if kind == "momentum" else ("p", "m", "v")
    p = case.p0.copy()
    state = [np.zeros_like(p) for _ in range(n_out - 1)]
    history = []
    for k in range(case.steps):
        g = case.grad(p, k)
        lr = case.lrs[k]
        if kind == "momentum":
            args = (p.copy(), g.copy(), state[0].copy(), lr, case.hyper["momentum"])
        else:
            h = case.hyper
            args = (p.copy(), g.copy(), state[0].copy(), state[1].copy(), k + 1, lr, h["beta1"], h["beta2"], h["eps"])
            if kind == "adamw":
                args = args + (h["weight_decay"],)
        try:
            out = call(fn, *args)  # NotDone goes up to @checker: "Not done yet"
        except Raised as exc:
            raise _Bad(f"at step {k + 1} your function raised {str(exc)[:200]}.") from exc
        if out is None:
            raise _Bad("your function returned None. Did you forget the `return` line? "
                       f"Return {', '.join(names)}.")
        if not isinstance(out, (tuple, list)) or len(out) != n_out:
            got = (f"a {type(out).__name__} of length {len(out)}" if isinstance(out, (tuple, list))
                   else f"a {type(out).__name__}")
            raise _Bad(f"return {n_out} arrays, `return {', '.join(names)}`; you returned {got}.")
        arrays = []
        for name, value in zip(names, out):
            try:
                a = np.array(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise _Bad(f"{name} is a {type(value).__name__}, not an array of numbers.") from None
            if a.shape != p.shape:
                raise _Bad(f"{name} should have the shape of p, {p.shape}, but has shape {a.shape}.")
            arrays.append(a)
        p, state = arrays[0], arrays[1:]
        history.append(tuple(arrays))
    return history


def _reference(case: _Case, kind: str):
    """The same run with course_lib's optimizer classes (PyTorch's update rules)."""
    p = Parameter(case.p0.copy())
    h = case.hyper
    if kind == "momentum":
        opt = SGD([p], lr=case.lrs[0], momentum=h["momentum"])
    elif kind == "adam":
        opt = Adam([p], lr=case.lrs[0], betas=(h["beta1"], h["beta2"]), eps=h["eps"])
    else:
        opt = AdamW([p], lr=case.lrs[0], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
                    weight_decay=h["weight_decay"])
    history = []
    for k in range(case.steps):
        p.grad = case.grad(p.data, k)
        opt.param_groups[0]["lr"] = case.lrs[k]
        opt.step()
        st = opt.state[p]
        if kind == "momentum":
            history.append((p.data.copy(), st["momentum_buffer"].copy()))
        else:
            history.append((p.data.copy(), st["exp_avg"].copy(), st["exp_avg_sq"].copy()))
    return history


def _close(a, b, nonfinite_equal: bool = False) -> bool:
    """Equal to rtol 1e-7. Only when comparing with a mistake do inf and NaN count as equal to themselves."""
    if a.shape != b.shape:
        return False
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    if not nonfinite_equal:
        return bool(np.all(finite_a)) and bool(np.all(np.abs(a - b) <= _ATOL + _RTOL * np.abs(b)))
    if not np.array_equal(finite_a, finite_b):
        return False
    same_nonfinite = np.array_equal(a[~finite_a], b[~finite_b], equal_nan=True)
    diff = np.abs(a[finite_a] - b[finite_b])
    return bool(same_nonfinite) and bool(np.all(diff <= _ATOL + _RTOL * np.abs(b[finite_b])))


def _same_run(h1, h2, nonfinite_equal: bool = False) -> bool:
    """Two runs agree at every step, on every returned array."""
    return len(h1) == len(h2) and all(_close(a, b, nonfinite_equal)
                                      for s1, s2 in zip(h1, h2) for a, b in zip(s1, s2))


def _first_difference(got, want, names) -> str:
    for k, (s1, s2) in enumerate(zip(got, want)):
        for name, a, b in zip(names, s1, s2):
            if not _close(a, b):
                i = int(np.argmax(np.where(np.isfinite(a), np.abs(a - b), np.inf)))
                return (f"after step {k + 1}, {name}[{i}] is {a[i]:.6g} but should be {b[i]:.6g}")
    return "the values differ"  # pragma: no cover - only called when they do


def _diagnose(fn, case, kind, mistakes, names):
    """(ok, message): compare with the reference, then with each mistake in turn."""
    got = _run(fn, case, kind)
    want = _reference(case, kind)
    if _same_run(got, want):
        return True, None
    for variant, hint in mistakes:
        if _same_run(got, _run(variant, case, kind), nonfinite_equal=True):
            return False, hint
    return False, None


# ---------------------------------------------------------------------------- exercise 1: momentum
_MOMENTUM_NAMES = ("p", "v")
_MOMENTUM_CASES = {
    "constant lr": _case(31, 6, [0.05] * 6, momentum=0.9),
    "scheduled lr": _case(32, 6, [0.01, 0.02, 0.03, 0.04, 0.05, 0.06], momentum=0.8),
}


def _m_order(p, g, v, lr, mu):
    p = p - lr * v                     # moves with the OLD velocity ...
    return p, mu * v + g               # ... then updates it


def _m_sign(p, g, v, lr, mu):
    v = mu * v + g
    return p + lr * v, v


def _m_minus_lr(p, g, v, lr, mu):
    v = mu * v - lr * g
    return p + v, v


def _m_lr_inside(p, g, v, lr, mu):
    v = mu * v + lr * g
    return p - v, v


def _m_dampened(p, g, v, lr, mu):
    v = mu * v + (1 - mu) * g
    return p - lr * v, v


def _m_no_memory(p, g, v, lr, mu):
    return p - lr * g, g


def _m_mu_on_grad(p, g, v, lr, mu):
    v = v + mu * g
    return p - lr * v, v


def _m_nesterov(p, g, v, lr, mu):
    v = mu * v + g
    return p - lr * (g + mu * v), v


def _m_swapped(p, g, v, lr, mu):
    p, v = momentum_step_solution(p, g, v, lr, mu)
    return v, p


_MOMENTUM_MISTAKES = [
    (_m_swapped, "you returned (v, p); return them in the order p, v."),
    (_m_order, "order: you moved p with the OLD velocity and updated v afterwards, so at the first step p "
               "does not move at all. Update the velocity first, v = momentum * v + grad, then p = p - lr * v."),
    (_m_sign, "sign: you added lr * v to p, which climbs the loss. The step goes against the gradient: "
              "p = p - lr * v."),
    (_m_minus_lr, "you used the variant v = momentum * v - lr * grad, p = p + v. It moves p like PyTorch's form "
                  "only while lr stays constant; with a schedule (the lr changes every step) the two differ, and "
                  "its v is -lr times PyTorch's momentum buffer. Use PyTorch's form: v = momentum * v + grad, "
                  "then p = p - lr * v."),
    (_m_lr_inside, "you put lr inside the velocity (v = momentum * v + lr * grad, p = p - v). That equals PyTorch's "
                   "form only for a constant lr, and v is then lr times PyTorch's buffer. Keep lr out of v: "
                   "v = momentum * v + grad, p = p - lr * v."),
    (_m_dampened, "you averaged, v = momentum * v + (1 - momentum) * grad: that is an exponential moving average "
                  "(SGD's dampening=momentum, or Adam's m). PyTorch's momentum adds the whole gradient, "
                  "v = momentum * v + grad, so along a steady slope the step grows to lr / (1 - momentum)."),
    (_m_no_memory, "your v forgets the past (v = grad): that is plain gradient descent. The velocity keeps a "
                   "fraction of itself: v = momentum * v + grad."),
    (_m_mu_on_grad, "momentum multiplies the old velocity, not the gradient: v = momentum * v + grad "
                    "(you wrote v = v + momentum * grad, which never forgets anything)."),
    (_m_nesterov, "that is Nesterov momentum (p = p - lr * (grad + momentum * v)). This exercise asks for the "
                  "classic heavy ball: p = p - lr * v."),
]


@checker
def check_momentum_step(momentum_step) -> None:
    """Check ``momentum_step(p, grad, v, lr, momentum) -> (p, v)`` against course_lib's SGD(momentum=...)."""
    for name, case in _MOMENTUM_CASES.items():
        try:
            ok, hint = _diagnose(momentum_step, case, "momentum", _MOMENTUM_MISTAKES, _MOMENTUM_NAMES)
        except _Bad as exc:
            print_verdict("Not quite:", [f"{exc}"])
            return
        if ok:
            continue
        where = f"With a {name} ({', '.join(f'{lr:g}' for lr in sorted(set(case.lrs)))}), momentum {case.hyper['momentum']}:"
        if hint is None:
            got, want = _run(momentum_step, case, "momentum"), _reference(case, "momentum")
            hint = (f"{_first_difference(got, want, _MOMENTUM_NAMES)}. PyTorch's rule: "
                    "v = momentum * v + grad, then p = p - lr * v (v starts at zeros).")
            if len(set(case.lrs)) > 1:
                hint += (" Your function was right with a constant lr, so look at how lr enters: keep it out of "
                         "the velocity and multiply by the current step's lr only in p = p - lr * v.")
        print_verdict(f"Not quite. {where}", [hint])
        return
    print("Correct! v = momentum * v + grad, then p = p - lr * v: the same numbers as "
          "course_lib.optim.SGD(momentum=...) (and PyTorch) for 6 steps, with a constant and a changing lr.")



# ---------------------------------------------------------------------------- exercise 2: Adam
_ADAM_NAMES = ("p", "m", "v")
_ADAM_CASES = {
    "main": _case(41, 6, [0.05] * 6, beta1=0.9, beta2=0.999, eps=1e-8),
    # gradients of size ~1e-3 and a large eps: where eps goes now matters
    "small gradients, eps 1e-3": _case(42, 4, [0.05] * 4, scale=1e-3, beta1=0.9, beta2=0.99, eps=1e-3),
}


def _adam_variant(correct_m=True, correct_v=True, power=0, eps_inside=False, no_sqrt=False,
                  no_one_minus=False, store_hat=False, multiply=False):
    def step(p, g, m, v, t, lr, b1, b2, eps):
        if no_one_minus:
            m = b1 * m + g
            v = b2 * v + g * g
        else:
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
        bc1, bc2 = 1 - b1 ** (t + power), 1 - b2 ** (t + power)
        if multiply:
            m_hat, v_hat = m * bc1, v * bc2
        else:
            m_hat = m / bc1 if correct_m else m
            v_hat = v / bc2 if correct_v else v
        if eps_inside:
            denom = np.sqrt(v_hat + eps)
        elif no_sqrt:
            denom = v_hat + eps
        else:
            denom = np.sqrt(v_hat) + eps
        p = p - lr * m_hat / denom
        if store_hat:
            return p, m_hat, v_hat
        return p, m, v
    return step


_ADAM_MISTAKES = [
    (_adam_variant(correct_m=False, correct_v=False),
     "no bias correction: m and v start at 0, so during the first steps they are too small (m_1 = 0.1 g, "
     "v_1 = 0.001 g^2 with the default betas) and the steps come out wrong, about 3 to 6 times too large "
     "during the first hundred steps. Divide: m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t)."),
    (_adam_variant(correct_m=True, correct_v=False),
     "only m is bias-corrected: v / (1 - beta2**t) is missing, so sqrt(v) is far too small early on and the first "
     "steps are up to 1 / sqrt(1 - beta2) (about 30) times too large. Correct both: "
     "v_hat = v / (1 - beta2**t)."),
    (_adam_variant(correct_m=False, correct_v=True),
     "only v is bias-corrected: m / (1 - beta1**t) is missing, so the first step is 10 times too small. "
     "Correct both: m_hat = m / (1 - beta1**t)."),
    (_adam_variant(power=1),
     "bias correction with the wrong power: you used beta**(t + 1). t is already the number of this step "
     "(1 for the first one), so the correction is 1 - beta1**t and 1 - beta2**t."),
    (_adam_variant(power=-1),
     "bias correction with the wrong power: you used beta**(t - 1), which is 1 - beta**0 = 0 at the first step "
     "(a division by zero). t is the number of this step, 1 for the first: use 1 - beta1**t."),
    (_adam_variant(multiply=True),
     "you multiplied by (1 - beta**t); the correction divides: m_hat = m / (1 - beta1**t), "
     "v_hat = v / (1 - beta2**t)."),
    (_adam_variant(store_hat=True),
     "you returned the corrected m_hat and v_hat as the new state. Return the raw running averages m and v "
     "(PyTorch's exp_avg and exp_avg_sq): the correction is recomputed from them at every step."),
    (_adam_variant(no_one_minus=True),
     "the running averages miss their (1 - beta) factors: m = beta1 * m + (1 - beta1) * grad and "
     "v = beta2 * v + (1 - beta2) * grad**2."),
    (_adam_variant(no_sqrt=True),
     "the square root is missing: divide by sqrt(v_hat) + eps, so that m_hat / sqrt(v_hat) has no units "
     "(about +-1 per entry)."),
    (_adam_variant(eps_inside=True),
     "eps belongs outside the square root, as in PyTorch: sqrt(v_hat) + eps, not sqrt(v_hat + eps). "
     "It only shows when gradients are tiny, as in this test."),
]


@checker
def check_adam_step(adam_step) -> None:
    """Check ``adam_step(p, grad, m, v, t, lr, beta1, beta2, eps) -> (p, m, v)`` against course_lib's Adam."""
    for name, case in _ADAM_CASES.items():
        try:
            ok, hint = _diagnose(adam_step, case, "adam", _ADAM_MISTAKES, _ADAM_NAMES)
        except _Bad as exc:
            print_verdict("Not quite:", [f"{exc}"])
            return
        if ok:
            continue
        h = case.hyper
        where = f"Test '{name}' (lr {case.lrs[0]:g}, betas ({h['beta1']}, {h['beta2']}), eps {h['eps']:g}):"
        if hint is None:
            got = _run(adam_step, case, "adam")
            if not all(np.all(np.isfinite(a)) for a in got[0]):
                hint = ("your first step gave inf or NaN: a division by zero? At t = 1 the corrections are "
                        "1 - beta1**1 = 0.1 and 1 - beta2**1 = 0.001, never 0.")
            else:
                hint = (f"{_first_difference(got, _reference(case, 'adam'), _ADAM_NAMES)}. Adam: m = beta1 m + "
                        "(1 - beta1) g; v = beta2 v + (1 - beta2) g^2; m_hat = m / (1 - beta1**t); "
                        "v_hat = v / (1 - beta2**t); p = p - lr m_hat / (sqrt(v_hat) + eps).")
        print_verdict(f"Not quite. {where}", [hint])
        return
    print("Correct! Running averages m and v, bias correction by 1 - beta**t, and p -= lr * m_hat / "
          "(sqrt(v_hat) + eps): the same numbers as course_lib.optim.Adam (and PyTorch) step for step.")



# ---------------------------------------------------------------------------- exercise 3: AdamW
_ADAMW_CASE = _case(51, 6, [0.1] * 6, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.5)


def _adamw_variant(kind: str):
    def step(p, g, m, v, t, lr, b1, b2, eps, wd):
        if kind == "l2":
            return adam_step_solution(p, g + wd * p, m, v, t, lr, b1, b2, eps)
        if kind == "no_lr":
            return adam_step_solution(p * (1 - wd), g, m, v, t, lr, b1, b2, eps)
        if kind == "after":
            p, m, v = adam_step_solution(p, g, m, v, t, lr, b1, b2, eps)
            return p * (1 - lr * wd), m, v
        if kind == "sign":
            return adam_step_solution(p * (1 + lr * wd), g, m, v, t, lr, b1, b2, eps)
        if kind == "none":
            return adam_step_solution(p, g, m, v, t, lr, b1, b2, eps)
        if kind == "both":
            return adam_step_solution(p * (1 - lr * wd), g + wd * p, m, v, t, lr, b1, b2, eps)
        raise AssertionError(kind)  # pragma: no cover
    return step


_ADAMW_MISTAKES = [
    (_adamw_variant("none"),
     "the weights are not decayed at all: your result equals plain Adam. Shrink them first: "
     "p = p * (1 - lr * weight_decay)."),
    (_adamw_variant("l2"),
     "you added weight_decay * p to the gradient: that is Adam with L2 (torch.optim.Adam(weight_decay=...)). "
     "Adam then divides the decay by sqrt(v_hat) like the rest of the gradient, so weights with large gradients "
     "are hardly decayed. AdamW decays the weights themselves, outside Adam: p = p * (1 - lr * weight_decay), "
     "then the Adam step with the unchanged gradient."),
    (_adamw_variant("no_lr"),
     "the decay is not multiplied by lr: you shrank p by (1 - weight_decay) per step. PyTorch's AdamW shrinks "
     "by (1 - lr * weight_decay), so the decay follows the learning-rate schedule."),
    (_adamw_variant("sign"),
     "sign: you multiplied p by (1 + lr * weight_decay), which makes the weights grow. Decay shrinks them: "
     "p = p * (1 - lr * weight_decay)."),
    (_adamw_variant("after"),
     "order: you shrank p after the Adam step; PyTorch shrinks first, p = p * (1 - lr * weight_decay), then "
     "takes the Adam step. (The difference is small, lr * weight_decay times the step, but it is another rule.)"),
    (_adamw_variant("both"),
     "you decayed twice: once on the weights (right) and once by adding weight_decay * p to the gradient "
     "(that is Adam's L2). Keep only p = p * (1 - lr * weight_decay) and pass the gradient unchanged."),
]


@checker
def check_adamw_step(adamw_step) -> None:
    """Check ``adamw_step(p, grad, m, v, t, lr, beta1, beta2, eps, weight_decay) -> (p, m, v)`` against AdamW."""
    case = _ADAMW_CASE
    try:
        # with weight_decay = 0 AdamW is Adam: if not, the Adam part is wrong (exercise 2)
        no_decay = _Case(case.p0, case.h, case.c, case.wiggle, case.lrs, {**case.hyper, "weight_decay": 0.0})
        got0 = _run(adamw_step, no_decay, "adamw")
        if not _same_run(got0, _reference(no_decay, "adamw")):
            print_verdict("Not quite:", ["with weight_decay=0 AdamW is exactly Adam, and your adamw_step is not: "
                                         f"{_first_difference(got0, _reference(no_decay, 'adamw'), _ADAM_NAMES)}. "
                                         "Check the Adam part first (exercise 2, check_adam_step)."])
            return
        ok, hint = _diagnose(adamw_step, case, "adamw", _ADAMW_MISTAKES, _ADAM_NAMES)
    except _Bad as exc:
        print_verdict("Not quite:", [f"{exc}"])
        return
    if ok:
        print("Correct! p = p * (1 - lr * weight_decay), then the Adam step with the unchanged gradient: "
              "the same numbers as course_lib.optim.AdamW (and PyTorch) for 6 steps.")
        return
    if hint is None:
        got = _run(adamw_step, case, "adamw")
        hint = (f"{_first_difference(got, _reference(case, 'adamw'), _ADAM_NAMES)}. AdamW: "
                "p = p * (1 - lr * weight_decay), then the Adam step with the unchanged gradient.")
    print_verdict(f"Not quite. With lr {case.lrs[0]:g} and weight_decay {case.hyper['weight_decay']:g}:", [hint])
