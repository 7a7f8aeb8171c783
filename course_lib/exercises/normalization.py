"""Exercises for notebook 05 (normalization), with automatic feedback.

    from course_lib.exercises.normalization import (
        check_layer_norm_forward, check_batch_norm_eval, check_batch_norm_train)
    check_layer_norm_forward(layer_norm_forward)   # prints a verdict
    check_batch_norm_eval(batch_norm_eval)
    check_batch_norm_train(batch_norm_train)

A checker calls your function on small fixed examples (on copies: your
function cannot spoil them), compares with the right answer and, when they
differ, recognises the classic mistakes and names the one you made:
normalizing over the wrong axis, forgetting eps, the unbiased variance where
the biased one belongs (or the other way round), batch statistics at
evaluation time, momentum the wrong way round. It prints plain text and never
raises, whatever your function does: an unfinished function
(``raise NotImplementedError``) gives "Not done yet".
"""
from __future__ import annotations

import numpy as np

from ._checking import (NotDone, Raised, as_array, call_on_copies, checker, close_and_finite, first_match,
                        not_an_array, print_verdict)

__all__ = [
    "check_layer_norm_forward", "check_batch_norm_eval", "check_batch_norm_train",
    "layer_norm_forward_solution", "batch_norm_eval_solution", "batch_norm_train_solution",
]


# ---------------------------------------------------------------------------- reference solutions
def layer_norm_forward_solution(x, gamma, beta, eps=1e-5):
    """LayerNorm over the last axis: x (..., C), gamma and beta (C,)."""
    mean = x.mean(axis=-1, keepdims=True)  # (..., 1): one mean per sample (per token)
    var = x.var(axis=-1, keepdims=True)  # (..., 1): biased, divides by C
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def batch_norm_eval_solution(x, running_mean, running_var, gamma, beta, eps=1e-5):
    """BatchNorm in eval mode: x (N, C) normalized with the running statistics (C,), not the batch's."""
    return (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta


def batch_norm_train_solution(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    """BatchNorm in training mode, x (N, C): returns (y, new_running_mean, new_running_var)."""
    N = x.shape[0]
    mean = x.mean(axis=0)  # (C,) statistics of this batch, per feature
    var = x.var(axis=0)  # (C,) biased (divide by N): used to normalize
    y = (x - mean) / np.sqrt(var + eps) * gamma + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)  # unbiased, as PyTorch stores
    return y, new_mean, new_var


# ---------------------------------------------------------------------------- helpers
def _as_array(value):
    """``value`` as a float array, or None when it is not numeric (a tuple is not an array here)."""
    try:
        return as_array(value, refuse=(str, bytes, dict, tuple))
    except Exception:  # anything that is not a numeric array
        return None


def _is_broadcast_error(exc: Raised) -> bool:
    return isinstance(exc.exc, ValueError) and "broadcast" in str(exc.exc)


def _normalize(x, mean, var, eps):
    return (x - mean) / np.sqrt(var + eps)


# ---------------------------------------------------------------------------- shared hints
_EPS_HINT = ("you forgot eps: divide by np.sqrt(var + eps). Without it a sample (or feature) whose values "
             "are all equal has variance 0, and 0 / 0 gives NaN.")
_EPS_OUTSIDE_HINT = ("you added eps outside the square root, (x - mean) / (np.sqrt(var) + eps). PyTorch (and "
                     "course_lib) add it to the variance: (x - mean) / np.sqrt(var + eps).")
_EPS_PARAM_HINT = ("you did not use the eps you were given: with eps=0.1 the output should change. Use the "
                   "argument eps, not a fixed 1e-5.")
_NO_SQRT_HINT = ("you divided by the variance itself. Divide by the standard deviation, np.sqrt(var + eps): "
                 "the variance is in squared units.")
_STD_AS_VAR_HINT = ("you took np.sqrt of the standard deviation (x.std() where x.var() belongs): divide by "
                    "np.sqrt(var + eps) with var = x.var(...).")
_NO_AFFINE_HINT = ("you forgot the learnable scale and shift: multiply the normalized values by gamma, then "
                   "add beta (y = x_hat * gamma + beta).")
_NO_BETA_HINT = "you forgot beta: after multiplying by gamma, add beta (y = x_hat * gamma + beta)."
_NO_GAMMA_HINT = "you forgot gamma: multiply the normalized values by gamma before adding beta."
_SWAPPED_HINT = "you swapped gamma and beta: gamma multiplies (the scale), beta is added (the shift)."


def _affine_variants(x_hat, gamma, beta):
    return [
        (lambda: x_hat, _NO_AFFINE_HINT),
        (lambda: x_hat * gamma, _NO_BETA_HINT),
        (lambda: x_hat + beta, _NO_GAMMA_HINT),
        (lambda: x_hat * beta + gamma, _SWAPPED_HINT),
    ]


# ---------------------------------------------------------------------------- LayerNorm forward
def _ln_case():
    rng = np.random.default_rng(505)
    C = 4
    # 5 samples whose rows have very different offsets and scales, so that every axis gives other numbers
    x2 = rng.standard_normal((5, C)) * np.array([[0.5], [2.0], [1.0], [3.0], [0.7]]) + np.array(
        [[3.0], [-1.0], [0.5], [2.0], [-4.0]])
    x3 = rng.standard_normal((2, 3, C)) * 2.0 + rng.standard_normal((2, 3, 1)) * 3.0  # (B, T, C)
    tiny = rng.standard_normal((3, C)) * 1e-3  # variance about 1e-6, far below eps = 1e-5
    tiny[1] = 0.25  # a sample whose features are all equal: variance exactly 0
    gamma = np.array([1.5, -0.5, 2.0, 0.8])
    beta = np.array([0.1, -0.2, 0.3, 1.0])
    return x2, x3, tiny, gamma, beta


def _ln_variants_2d(x, gamma, beta, eps):
    """LayerNorm mistakes on an (N, C) input, with their hints."""
    def affine(x_hat):
        return x_hat * gamma + beta

    return [
        (lambda: affine(_normalize(x, x.mean(axis=0), x.var(axis=0), eps)),
         "you normalized each feature over the batch (axis=0): that is BatchNorm. LayerNorm normalizes each "
         "sample over its own features: mean and var over the last axis, axis=-1, with keepdims=True."),
        (lambda: affine(_normalize(x, x.mean(), x.var(), eps)),
         "you normalized with one mean and one variance for the whole array. LayerNorm takes them per sample, "
         "over the last axis: x.mean(axis=-1, keepdims=True)."),
        (lambda: affine(_normalize(x, x.mean(-1, keepdims=True), x.var(-1, keepdims=True, ddof=1), eps)),
         "you used the unbiased variance (ddof=1, dividing by C - 1). LayerNorm normalizes with the biased "
         "variance, dividing by C: x.var(axis=-1, keepdims=True) (numpy's default ddof=0)."),
        (lambda: affine((x - x.mean(-1, keepdims=True)) / x.std(-1, keepdims=True)), _EPS_HINT),
        (lambda: affine((x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + eps)), _EPS_OUTSIDE_HINT),
        (lambda: affine((x - x.mean(-1, keepdims=True)) / (x.var(-1, keepdims=True) + eps)), _NO_SQRT_HINT),
        (lambda: affine((x - x.mean(-1, keepdims=True)) / np.sqrt(x.std(-1, keepdims=True) + eps)),
         _STD_AS_VAR_HINT),
        (lambda: affine(x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)),
         "you did not subtract the mean: that is RMSNorm. LayerNorm first subtracts each sample's mean, then "
         "divides by sqrt(var + eps)."),
        *_affine_variants(_normalize(x, x.mean(-1, keepdims=True), x.var(-1, keepdims=True), eps), gamma, beta),
    ]


@checker
def check_layer_norm_forward(layer_norm_forward) -> None:
    """Check ``layer_norm_forward(x, gamma, beta, eps=1e-5)`` on (N, C) and (B, T, C) inputs."""
    x2, x3, tiny, gamma, beta = _ln_case()
    eps = 1e-5
    problems: list[str] = []

    # 1. a batch (N, C) = (5, 4)
    try:
        out, modified = call_on_copies(layer_norm_forward, x2, gamma, beta, eps)
    except Raised as exc:
        if _is_broadcast_error(exc):
            print_verdict("Not quite:", [
                f"on an input of shape {x2.shape} your function raised {exc.short()}. The mean over the last "
                f"axis has shape (5,), which cannot be subtracted from (5, 4): keep the axis with "
                f"keepdims=True, giving (5, 1)."])
        else:
            print_verdict("Not quite:", [f"on an input of shape {x2.shape} your function raised {exc.short()}."])
        return
    if modified:
        problems.append("your function changed its input in place; build a new array instead "
                        "(x - mean, not x -= mean).")
    y = _as_array(out)
    want = layer_norm_forward_solution(x2, gamma, beta, eps)
    if y is None:
        print_verdict("Not quite:", [not_an_array(out, "Your function")])
        return
    if y.shape != want.shape:
        print_verdict("Not quite:", problems + [f"the output should have the shape of x, {want.shape}, got {y.shape}."])
        return
    if not close_and_finite(y, want):
        hint = first_match(y, _ln_variants_2d(x2, gamma, beta, eps))
        if hint is None:
            worst = float(np.nanmax(np.abs(y - want))) if np.isfinite(y).any() else float("nan")
            hint = (f"the values are wrong (largest difference {worst:.4f}). Each row should be "
                    "(x - mean) / sqrt(var + eps) * gamma + beta, with mean and var over that row.")
        print_verdict("Not quite:", problems + [hint])
        return

    # 2. a batch of sequences (B, T, C) = (2, 3, 4): normalize every token over its C features
    try:
        out, _ = call_on_copies(layer_norm_forward, x3, gamma, beta, eps)
    except Raised as exc:
        problems.append(f"on a (B, T, C) input of shape {x3.shape} your function raised {exc.short()}. "
                        "Use axis=-1 (the last axis) so that the same code works for any number of leading axes.")
        print_verdict("Not quite:", problems)
        return
    y3 = _as_array(out)
    want3 = layer_norm_forward_solution(x3, gamma, beta, eps)
    if not close_and_finite(y3, want3):
        variants = [
            (lambda: _normalize(x3, x3.mean(axis=1, keepdims=True), x3.var(axis=1, keepdims=True), eps) * gamma
             + beta,
             "on a (B, T, C) input you normalized over axis 1, the time axis T. LayerNorm normalizes each token "
             "over its C features: use axis=-1, which is the feature axis for (N, C) and (B, T, C) alike."),
            (lambda: _normalize(x3, x3.mean(axis=(1, 2), keepdims=True), x3.var(axis=(1, 2), keepdims=True), eps)
             * gamma + beta,
             "on a (B, T, C) input you pooled the whole sequence (axes 1 and 2). LayerNorm normalizes each token "
             "on its own, over its C features: axis=-1."),
            (lambda: _normalize(x3, x3.mean(axis=0), x3.var(axis=0), eps) * gamma + beta,
             "on a (B, T, C) input you normalized over axis 0, the batch: use axis=-1, the features."),
        ]
        hint = first_match(y3, variants) or (
            f"it works on (N, C) but not on a (B, T, C) input of shape {x3.shape}: take the mean and variance "
            "over the last axis (axis=-1, keepdims=True), so every token is normalized over its C features.")
        print_verdict("Not quite:", problems + [hint])
        return

    # 3. eps: samples whose variance is far below eps, one of them constant
    try:
        out, _ = call_on_copies(layer_norm_forward, tiny, gamma, beta, eps)
    except (NotDone, Raised) as exc:
        problems.append(f"on samples with (almost) equal features your function raised {exc}; "
                        "with eps inside the square root nothing can go wrong.")
        print_verdict("Not quite:", problems)
        return
    yt = _as_array(out)
    want_t = layer_norm_forward_solution(tiny, gamma, beta, eps)
    if not close_and_finite(yt, want_t):
        variants = [
            (lambda: (tiny - tiny.mean(-1, keepdims=True)) / np.sqrt(tiny.var(-1, keepdims=True)) * gamma + beta,
             _EPS_HINT),
            (lambda: (tiny - tiny.mean(-1, keepdims=True)) / (tiny.std(-1, keepdims=True) + eps) * gamma + beta,
             _EPS_OUTSIDE_HINT),
        ]
        hint = first_match(yt, variants)
        if hint is None and yt is not None and yt.shape == want_t.shape and not np.all(np.isfinite(yt)):
            hint = _EPS_HINT
        print_verdict("Not quite:", problems + [hint or (
            "on samples whose features are (almost) all equal the result is wrong: check where eps goes, "
            "np.sqrt(var + eps).")])
        return

    # 4. the eps argument is used
    try:
        out, _ = call_on_copies(layer_norm_forward, x2, gamma, beta, 0.1)
        if not close_and_finite(_as_array(out), layer_norm_forward_solution(x2, gamma, beta, 0.1)):
            problems.append(_EPS_PARAM_HINT)
    except (NotDone, Raised) as exc:
        problems.append(f"with eps=0.1 your function raised {exc}.")
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! Each sample (each token of a (B, T, C) input) is normalized over its own features with "
          "the biased variance and eps inside the square root, then scaled by gamma and shifted by beta; "
          "a sample with all features equal gives beta instead of NaN.")


# ---------------------------------------------------------------------------- BatchNorm eval
_BATCH_STATS_HINT = ("you normalized with the statistics of the batch (x.mean(axis=0), x.var(axis=0)). At "
                     "evaluation time BatchNorm uses the running statistics collected during training: "
                     "(x - running_mean) / np.sqrt(running_var + eps). Then a sample's output no longer depends "
                     "on the other samples of its batch, and a batch of one sample works.")


def _bne_case():
    rng = np.random.default_rng(606)
    C = 3
    x = rng.standard_normal((6, C)) * np.array([2.0, 0.5, 1.5]) + np.array([1.0, -2.0, 4.0])  # (6, 3)
    running_mean = np.array([0.5, -1.5, 3.0])
    running_var = np.array([3.0, 0.4, 2.5])
    gamma = np.array([1.2, 0.7, -0.9])
    beta = np.array([0.3, -0.4, 0.5])
    return x, running_mean, running_var, gamma, beta


def _bne_variants(x, rm, rv, gamma, beta, eps):
    def affine(x_hat):
        return x_hat * gamma + beta

    return [
        (lambda: affine(_normalize(x, x.mean(axis=0), x.var(axis=0), eps)), _BATCH_STATS_HINT),
        (lambda: affine(_normalize(x, x.mean(axis=0), x.var(axis=0, ddof=1), eps)), _BATCH_STATS_HINT),
        (lambda: affine(_normalize(x, x.mean(axis=0), rv, eps)),
         "you subtracted the batch mean x.mean(axis=0): at evaluation time subtract running_mean (and divide "
         "by np.sqrt(running_var + eps))."),
        (lambda: affine(_normalize(x, rm, x.var(axis=0), eps)),
         "you divided by the batch's standard deviation: at evaluation time use np.sqrt(running_var + eps)."),
        (lambda: affine(_normalize(x, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), eps)),
         "you normalized each sample over its features (axis=1): that is LayerNorm. BatchNorm normalizes each "
         "feature, and at evaluation time with the running statistics of that feature."),
        (lambda: affine((x - rm) / np.sqrt(rv)), _EPS_HINT),
        (lambda: affine((x - rm) / (np.sqrt(rv) + eps)), _EPS_OUTSIDE_HINT),
        (lambda: affine((x - rm) / (rv + eps)), _NO_SQRT_HINT),
        (lambda: affine((x - rm) / rv), _NO_SQRT_HINT),
        *_affine_variants(_normalize(x, rm, rv, eps), gamma, beta),
    ]


@checker
def check_batch_norm_eval(batch_norm_eval) -> None:
    """Check ``batch_norm_eval(x, running_mean, running_var, gamma, beta, eps=1e-5)``."""
    x, rm, rv, gamma, beta = _bne_case()
    eps = 1e-5
    problems: list[str] = []

    # 1. a batch of 6 samples whose statistics are far from the running ones
    try:
        out, modified = call_on_copies(batch_norm_eval, x, rm, rv, gamma, beta, eps)
    except Raised as exc:
        print_verdict("Not quite:", [f"on a batch of shape {x.shape} your function raised {exc.short()}."])
        return
    if any(i in (1, 2) for i in modified):
        problems.append("your function changed running_mean or running_var. At evaluation time the running "
                        "statistics are only read; they are updated during training only.")
    elif modified:
        problems.append("your function changed its inputs in place; build a new array instead.")
    y = _as_array(out)
    want = batch_norm_eval_solution(x, rm, rv, gamma, beta, eps)
    if y is None:
        print_verdict("Not quite:", problems + [not_an_array(out, "Your function")])
        return
    if y.shape != want.shape:
        print_verdict("Not quite:", problems + [f"the output should have the shape of x, {want.shape}, got {y.shape}."])
        return
    if not close_and_finite(y, want):
        hint = first_match(y, _bne_variants(x, rm, rv, gamma, beta, eps)) or (
            f"the values are wrong (largest difference {float(np.nanmax(np.abs(y - want))):.4f}); the output "
            "should be (x - running_mean) / np.sqrt(running_var + eps) * gamma + beta.")
        print_verdict("Not quite:", problems + [hint])
        return

    # 2. one sample at a time: the same rows (a batch of one must work at evaluation time)
    try:
        rows = [_as_array(call_on_copies(batch_norm_eval, x[i:i + 1], rm, rv, gamma, beta, eps)[0]) for i in range(2)]
        if not all(close_and_finite(r, want[i:i + 1]) for i, r in enumerate(rows)):
            problems.append("a batch of one sample gives another output than the same sample inside a larger "
                            "batch: at evaluation time each sample must be normalized on its own, with the running "
                            "statistics.")
    except (NotDone, Raised) as exc:
        problems.append(f"on a batch of one sample your function raised {exc}. At evaluation time a batch "
                        "of one must work: use the running statistics.")

    # 3. eps: a feature whose running variance is 0
    rv0 = np.array([3.0, 0.0, 2.5])
    try:
        out, _ = call_on_copies(batch_norm_eval, x, rm, rv0, gamma, beta, eps)
        y0 = _as_array(out)
        if not close_and_finite(y0, batch_norm_eval_solution(x, rm, rv0, gamma, beta, eps)):
            hint = first_match(y0, [
                (lambda: ((x - rm) / np.sqrt(rv0)) * gamma + beta, _EPS_HINT),
                (lambda: ((x - rm) / (np.sqrt(rv0) + eps)) * gamma + beta, _EPS_OUTSIDE_HINT),
            ])
            if hint is None and y0 is not None and y0.shape == x.shape and not np.all(np.isfinite(y0)):
                hint = _EPS_HINT
            problems.append(hint or "with a running variance of 0 the result is wrong: use np.sqrt(running_var + eps).")
    except (NotDone, Raised) as exc:
        problems.append(f"with a running variance of 0 your function raised {exc}: add eps inside the square root.")

    # 4. the eps argument is used
    if not problems:
        try:
            out, _ = call_on_copies(batch_norm_eval, x, rm, rv, gamma, beta, 0.1)
            if not close_and_finite(_as_array(out), batch_norm_eval_solution(x, rm, rv, gamma, beta, 0.1)):
                problems.append(_EPS_PARAM_HINT)
        except (NotDone, Raised) as exc:
            problems.append(f"with eps=0.1 your function raised {exc}.")
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! At evaluation time every sample is normalized with the running statistics, "
          "(x - running_mean) / sqrt(running_var + eps) * gamma + beta: its output does not depend on the rest "
          "of the batch, and a batch of one sample works.")


# ---------------------------------------------------------------------------- BatchNorm training step
_MOMENTUM = 0.3  # neither 0.1 nor 0.5: each wrong convention gives other numbers


def _bnt_case():
    rng = np.random.default_rng(707)
    C = 3
    x = rng.standard_normal((4, C)) * np.array([2.0, 0.5, 1.5]) + np.array([1.0, -2.0, 4.0])  # N = 4: 4/3 shows
    gamma = np.array([1.2, 0.7, -0.9])
    beta = np.array([0.3, -0.4, 0.5])
    running_mean = np.array([0.2, -0.5, 1.0])
    running_var = np.array([1.5, 0.8, 2.0])
    return x, gamma, beta, running_mean, running_var


@checker
def check_batch_norm_train(batch_norm_train) -> None:
    """Check ``batch_norm_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5)``.

    It must return ``(y, new_running_mean, new_running_var)``.
    """
    x, gamma, beta, rm, rv = _bnt_case()
    m, eps = _MOMENTUM, 1e-5
    N = x.shape[0]
    try:
        out, modified = call_on_copies(batch_norm_train, x, gamma, beta, rm, rv, m, eps)
    except Raised as exc:
        print_verdict("Not quite:", [f"on a batch of shape {x.shape} your function raised {exc.short()}."])
        return
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        got = "None (did you forget `return`?)" if out is None else f"a {type(out).__name__}"
        print_verdict("Not quite:", [f"return three things, (y, new_running_mean, new_running_var); got {got}."])
        return
    y, new_m, new_v = (_as_array(o) for o in out)
    want_y, want_m, want_v = batch_norm_train_solution(x, gamma, beta, rm, rv, m, eps)
    problems: list[str] = []
    if 0 in modified:
        problems.append("your function changed x in place; build a new array instead.")
    mean, var, uvar = x.mean(axis=0), x.var(axis=0), x.var(axis=0, ddof=1)

    # the output y
    if y is None or y.shape != want_y.shape:
        problems.append(not_an_array(out[0], "The first returned value (y)") if y is None else
                        f"y should have the shape of x, {want_y.shape}, got {y.shape}.")
    elif not close_and_finite(y, want_y):
        def affine(x_hat):
            return x_hat * gamma + beta

        hint = first_match(y, [
            (lambda: affine(_normalize(x, mean, uvar, eps)),
             "y is normalized with the unbiased variance (ddof=1, dividing by N - 1). In training mode BatchNorm "
             "normalizes with the biased batch variance, x.var(axis=0) (dividing by N); only the running "
             "variance stores the unbiased one."),
            (lambda: affine(_normalize(x, rm, rv, eps)),
             "y is normalized with the running statistics. In training mode BatchNorm normalizes with the "
             "statistics of the current batch, x.mean(axis=0) and x.var(axis=0); the running ones are for "
             "evaluation."),
            (lambda: affine(_normalize(x, want_m, want_v, eps)),
             "y is normalized with the updated running statistics. In training mode normalize with the batch's "
             "own mean and variance, x.mean(axis=0) and x.var(axis=0)."),
            (lambda: affine(_normalize(x, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), eps)),
             "y is normalized over each sample's features (axis=1): that is LayerNorm. BatchNorm normalizes each "
             "feature over the batch, axis=0."),
            (lambda: affine((x - mean) / np.sqrt(var)), _EPS_HINT),
            (lambda: affine((x - mean) / (np.sqrt(var) + eps)), _EPS_OUTSIDE_HINT),
            (lambda: affine((x - mean) / (var + eps)), _NO_SQRT_HINT),
            *_affine_variants(_normalize(x, mean, var, eps), gamma, beta),
        ]) or (f"y is wrong (largest difference {float(np.nanmax(np.abs(y - want_y))):.4f}); it should be "
               "(x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) * gamma + beta.")
        problems.append(hint)

    # the running mean
    if new_m is None or new_m.shape != want_m.shape:
        problems.append(not_an_array(out[1], "The second returned value (new_running_mean)") if new_m is None else
                        f"new_running_mean should have shape {want_m.shape}, got {new_m.shape}.")
    elif not close_and_finite(new_m, want_m):
        hint = first_match(new_m, [
            (lambda: m * rm + (1 - m) * mean,
             f"the momentum is the wrong way round: with momentum = {m:g} you kept {m:g} of the old running mean. "
             "In PyTorch momentum is the weight of the NEW batch statistic: "
             "(1 - momentum) * running_mean + momentum * batch_mean."),
            (lambda: rm, "the running mean was not updated: return (1 - momentum) * running_mean + momentum * "
                         "x.mean(axis=0)."),
            (lambda: 0.9 * rm + 0.1 * mean,
             f"the running mean moved with momentum 0.1, but the checker passed momentum = {m:g}: use the "
             "momentum argument, not a fixed number."),
            (lambda: mean, "you replaced the running mean by the batch mean: it is a moving average, "
                           "(1 - momentum) * running_mean + momentum * x.mean(axis=0)."),
            (lambda: (1 - m) * rm + m * y.mean(axis=0),
             "the running mean is computed from the output y: use the input's batch mean x.mean(axis=0)."),
        ]) or ("new_running_mean is wrong; it should be (1 - momentum) * running_mean + momentum * "
               "x.mean(axis=0).")
        problems.append(hint)

    # the running variance
    if new_v is None or new_v.shape != want_v.shape:
        problems.append(not_an_array(out[2], "The third returned value (new_running_var)") if new_v is None else
                        f"new_running_var should have shape {want_v.shape}, got {new_v.shape}.")
    elif not close_and_finite(new_v, want_v):
        hint = first_match(new_v, [
            (lambda: (1 - m) * rv + m * var,
             f"the running variance was updated with the biased batch variance. PyTorch stores the unbiased "
             f"estimate, var * N / (N - 1) (here x {N}/{N - 1}), because a small batch's biased variance "
             "underestimates the population's on average."),
            (lambda: m * rv + (1 - m) * uvar,
             f"the momentum is the wrong way round for the running variance: momentum = {m:g} is the weight of "
             "the new batch variance, (1 - momentum) * running_var + momentum * unbiased_var."),
            (lambda: m * rv + (1 - m) * var,
             "the momentum is the wrong way round, and the variance should be the unbiased one: "
             "(1 - momentum) * running_var + momentum * x.var(axis=0) * N / (N - 1)."),
            (lambda: rv, "the running variance was not updated: return (1 - momentum) * running_var + momentum * "
                         "x.var(axis=0) * N / (N - 1)."),
            (lambda: 0.9 * rv + 0.1 * uvar,
             f"the running variance moved with momentum 0.1, but the checker passed momentum = {m:g}: use the "
             "momentum argument, not a fixed number."),
            (lambda: (1 - m) * rv + m * np.sqrt(uvar),
             "the running variance was updated with a standard deviation: use the (unbiased) variance."),
            (lambda: (1 - m) * rv + m * np.sqrt(var),
             "the running variance was updated with a standard deviation: use the (unbiased) variance."),
        ]) or ("new_running_var is wrong; it should be (1 - momentum) * running_var + momentum * "
               "x.var(axis=0) * N / (N - 1).")
        problems.append(hint)

    if not problems:  # the momentum argument is used
        try:
            out2, _ = call_on_copies(batch_norm_train, x, gamma, beta, rm, rv, 0.1, eps)
            want2 = batch_norm_train_solution(x, gamma, beta, rm, rv, 0.1, eps)
            if not (isinstance(out2, (tuple, list)) and len(out2) == 3
                    and all(close_and_finite(_as_array(a), b) for a, b in zip(out2, want2))):
                problems.append("with momentum=0.1 the result is wrong: use the momentum argument, "
                                "not a fixed number.")
        except (NotDone, Raised) as exc:
            problems.append(f"with momentum=0.1 your function raised {exc}.")
    if problems:
        print_verdict("Not quite:", problems)
        return
    print(f"Correct! y uses the batch's mean and biased variance; the running mean and the running variance "
          f"(unbiased: x {N}/{N - 1} for a batch of {N}) move a fraction momentum = {m:g} towards the batch's, "
          f"as in PyTorch's BatchNorm1d.")
