"""Exercises for notebook 07 (autoregression, 自己回帰), with automatic feedback.

    from course_lib.exercises.autoregression import (
        check_temperature_softmax, check_top_k_probs, check_generate)
    check_temperature_softmax(temperature_softmax)   # prints a verdict
    check_top_k_probs(top_k_probs)
    check_generate(my_generate)

Each checker calls your function on small fixed examples, compares with the
right answer and, when they differ, names the classic mistake. It prints plain
text and never raises, whatever your function does; an unfinished function
(``raise NotImplementedError``) gives "Not done yet".
"""
from __future__ import annotations

import numpy as np

from ._checking import NotDone, Raised, as_array, call_on_copies, checker, close, print_verdict

__all__ = [
    "check_temperature_softmax", "check_top_k_probs", "check_generate",
    "temperature_softmax_solution", "top_k_probs_solution", "generate_solution",
]

BOS_ID, EOS_ID = 1, 2


# ---------------------------------------------------------------------------- reference solutions
def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def temperature_softmax_solution(logits, temperature):
    """softmax(logits / T): the next-token distribution at temperature T."""
    z = np.asarray(logits, dtype=np.float64) / temperature   # scale the logits, not the probabilities
    z = z - z.max()                                          # largest becomes 0: exp cannot overflow
    e = np.exp(z)
    return e / e.sum()


def top_k_probs_solution(logits, k):
    """Probabilities of the k most likely tokens, renormalised; 0 for every other token."""
    z = np.asarray(logits, dtype=np.float64)
    keep = np.argsort(z, kind="stable")[-k:]  # ids of the k largest logits
    masked = np.full_like(z, -np.inf)
    masked[keep] = z[keep]                    # the others become -inf: exp(-inf) = 0
    return _softmax(masked)


def generate_solution(model_fn, context_size, max_new_tokens, pick):
    """Write tokens one at a time from [BOS_ID] * context_size until EOS_ID or max_new_tokens."""
    ids = [BOS_ID] * context_size
    new = []
    for _ in range(max_new_tokens):
        window = np.array(ids[-context_size:])   # the model takes exactly context_size ids
        next_id = int(pick(model_fn(window)))
        ids.append(next_id)                      # the model reads its own output next time
        new.append(next_id)
        if next_id == EOS_ID:
            break
    return new


# ---------------------------------------------------------------------------- helpers
_CRASHED = "The checker {checker} could not finish ({error}). Please report this."


def _same(a, b) -> bool:
    return close(a, b, rtol=1e-6)


def _fmt(a) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in np.asarray(a, dtype=np.float64).ravel()) + "]"


# ---------------------------------------------------------------------------- 1. temperature
_TEMP_LOGITS = np.array([2.0, 1.0, 0.5, -1.0, 0.0])


def _diagnose_temperature(p, z: np.ndarray, T: float) -> str | None:
    """None if ``p`` is right, else what went wrong."""
    want = _softmax(z / T)
    if p is not None and _same(p, want):
        return None
    where = f"For logits {_fmt(z)} and T = {T:g}:"
    if p is None:
        return f"{where} your function returned nothing usable (did you forget `return`?)."
    if p.shape != want.shape:
        return f"{where} the result should have the shape of the logits, {want.shape}, got {p.shape}."
    if not np.all(np.isfinite(p)):
        return (f"{where} the result contains inf or nan. Subtract the largest value before exp: "
                f"z = logits / T; z = z - z.max(); then exp and normalise.")
    if _same(p, _softmax(z * T)):
        return (f"{where} you multiplied the logits by T. Divide instead: softmax(logits / T). "
                f"A temperature above 1 must flatten the distribution, below 1 sharpen it.")
    if _same(p, z / T):
        return f"{where} you returned the scaled logits; apply the softmax to turn them into probabilities."
    if _same(p, _softmax(z) / T):
        return (f"{where} you divided the probabilities by T after the softmax (they now sum to "
                f"{float(p.sum()):.3f}, not 1). Temperature scales the logits, before the softmax.")
    if _same(p, _softmax(_softmax(z) / T)):
        return (f"{where} you applied T to the probabilities (softmax of p / T). Temperature scales the "
                f"logits: softmax(logits / T).")
    if _same(p, _softmax(z)):
        return (f"{where} the temperature has no effect: your result is the T = 1 distribution. Dividing "
                f"the probabilities by T and renormalising cancels out; divide the logits: softmax(logits / T).")
    if not np.isclose(p.sum(), 1.0, rtol=1e-6):
        return f"{where} the probabilities sum to {float(p.sum()):.4f}, not 1: normalise by the sum of the exponentials."
    return f"{where} expected {_fmt(want)}, got {_fmt(p)}. Compute softmax(logits / T)."


@checker(crashed=_CRASHED)
def check_temperature_softmax(temperature_softmax) -> None:
    """Check ``temperature_softmax(logits, temperature) -> probabilities`` (softmax(logits / T))."""
    cases = [(_TEMP_LOGITS, 0.5), (_TEMP_LOGITS, 2.0), (_TEMP_LOGITS, 1.0),
             (np.array([3.0, -2.0, 0.25, 1.5]), 0.7)]
    for z, T in cases:
        try:
            out, modified = call_on_copies(temperature_softmax, z, T)
        except Raised as exc:
            print_verdict("Not quite:", [f"For logits {_fmt(z)} and T = {T:g}: your function raised {exc.short()}."])
            return
        problem = _diagnose_temperature(as_array(out), z, T)
        if problem is None and modified:
            problem = "your function changed the logits array in place; compute a new array instead (z = logits / T)."
        if problem:
            print_verdict("Not quite:", [problem])
            return
    # large logits at a low temperature: exp overflows unless the maximum is subtracted
    big = np.array([1000.0, 998.0, 990.0])
    try:
        out, _ = call_on_copies(temperature_softmax, big, 0.5)
    except (NotDone, Raised) as exc:
        detail = "" if isinstance(exc, NotDone) else f" ({exc.short()})"
        print_verdict("Almost:", [f"for large logits {_fmt(big)} at T = 0.5 your function failed{detail}. "
                                   f"Subtract the largest value of logits / T before exp."])
        return
    p = as_array(out)
    if p is None or not _same(p, _softmax(big / 0.5)):
        print_verdict("Almost:", [
            f"right for ordinary logits, but for large logits {_fmt(big)} at T = 0.5 the result is "
            f"{'unusable' if p is None else _fmt(p)} (exp(2000) overflows). Subtract the largest "
            f"value before exp: z = logits / T; z = z - z.max()."])
        return
    p_cold, p_hot = _softmax(_TEMP_LOGITS / 0.5), _softmax(_TEMP_LOGITS / 2.0)
    print(f"Correct! softmax(logits / T): at T = 0.5 the top token gets {p_cold[0]:.3f}, at T = 2 only "
          f"{p_hot[0]:.3f} (T = 1: {_softmax(_TEMP_LOGITS)[0]:.3f}); large logits are handled without overflow.")


# ---------------------------------------------------------------------------- 2. top-k
_TOPK_LOGITS = np.array([1.5, -0.3, 2.2, 0.1, 0.9, -1.2, 1.1])


def _support_probs(z: np.ndarray, keep: np.ndarray) -> np.ndarray:
    masked = np.where(keep, z, -np.inf)
    return _softmax(masked)


def _diagnose_top_k(p, z: np.ndarray, k: int) -> str | None:
    order = np.argsort(-z, kind="stable")  # most likely first
    top = np.zeros(z.shape, dtype=bool)
    top[order[:k]] = True
    want = _support_probs(z, top)
    if p is not None and _same(p, want):
        return None
    where = f"For logits {_fmt(z)} and k = {k}:"
    if p is None:
        return f"{where} your function returned nothing usable (did you forget `return`?)."
    if p.shape != want.shape:
        return f"{where} return one probability per token, shape {want.shape}; got {p.shape}."
    if np.any(np.isnan(p)):
        return f"{where} the result contains nan. Set removed logits to -np.inf and take a stable softmax."
    if np.any(np.isinf(p)) and np.any(p < 0):
        if _same(np.where(np.isinf(p), 0.0, p), np.where(top, z, 0.0)) and np.all(np.isinf(p[~top])):
            return (f"{where} you returned the masked logits (with -inf). Return probabilities: apply the "
                    f"softmax to the masked logits.")
        return f"{where} the result contains -inf: return probabilities (0 for removed tokens), not logits."
    support = p > 1e-12
    n_kept = int(support.sum())
    for j in (k - 1, k + 1):
        if 1 <= j <= len(z) and n_kept == j:
            other = np.zeros(z.shape, dtype=bool)
            other[order[:j]] = True
            if np.array_equal(support, other):
                return (f"{where} you kept {j} tokens instead of {k}: an off-by-one. With sorted = np.sort(logits), "
                        f"the k-th largest is sorted[-k]; keep logits >= sorted[-k] (or the ids np.argsort(logits)[-k:]).")
    bottom = np.zeros(z.shape, dtype=bool)
    bottom[order[::-1][:k]] = True
    if np.array_equal(support, bottom):
        return (f"{where} you kept the k *smallest* logits. np.argsort sorts ascending: the k largest are "
                f"np.argsort(logits)[-k:].")
    if _same(p, _softmax(np.where(top, z, 0.0))):
        return (f"{where} you set the removed logits to 0 instead of -inf, so the softmax still gives them "
                f"exp(0) = 1 each: use -np.inf (exp(-inf) = 0).")
    if np.array_equal(support, top):
        total = float(p.sum())
        if _same(p, _softmax(z) * top):
            return (f"{where} you kept the right tokens but did not renormalise: the probabilities sum to "
                    f"{total:.3f}. Divide by the kept mass (p / p.sum()), or softmax the masked logits.")
        if not np.isclose(total, 1.0, rtol=1e-6):
            return (f"{where} you kept the right tokens but the probabilities sum to {total:.3f}, not 1: "
                    f"renormalise by the kept mass (p / p.sum()).")
        return (f"{where} you kept the right tokens, but the probabilities should stay proportional to "
                f"exp(logit): expected {_fmt(want)}, got {_fmt(p)}. Renormalise the kept probabilities "
                f"(p / p.sum()), or softmax the logits with the others set to -inf.")
    if np.all(support):
        return (f"{where} every token still has a probability > 0: set the logits outside the top k to -np.inf "
                f"(or their probabilities to 0) before renormalising.")
    return (f"{where} expected the tokens {sorted(order[:k].tolist())} with probabilities {_fmt(want)}; "
            f"got {_fmt(p)}.")


@checker(crashed=_CRASHED)
def check_top_k_probs(top_k_probs) -> None:
    """Check ``top_k_probs(logits, k) -> probabilities`` (the k most likely tokens, renormalised)."""
    cases = [(_TOPK_LOGITS, 3), (_TOPK_LOGITS, 1), (_TOPK_LOGITS, len(_TOPK_LOGITS)),
             (np.array([0.2, 3.0, -1.0, 2.5, 0.0, 1.0]), 2)]
    for z, k in cases:
        try:
            out, modified = call_on_copies(top_k_probs, z, k)
        except Raised as exc:
            print_verdict("Not quite:", [f"For logits {_fmt(z)} and k = {k}: your function raised {exc.short()}."])
            return
        problem = _diagnose_top_k(as_array(out), z, k)
        if problem is None and modified:
            problem = ("your function changed the logits array in place; work on a copy "
                       "(masked = np.full_like(logits, -np.inf) or logits.copy()).")
        if problem:
            print_verdict("Not quite:", [problem])
            return
    p = _support_probs(_TOPK_LOGITS, np.isin(np.arange(7), np.argsort(_TOPK_LOGITS, kind="stable")[-3:]))
    print(f"Correct! With k = 3 only the 3 most likely tokens can be drawn and their probabilities are "
          f"renormalised: {_fmt(p)}; k = 1 is greedy and k = V keeps everything.")


# ---------------------------------------------------------------------------- 3. the generation loop
class _WindowError(ValueError):
    pass


class _ScriptedModel:
    """A stand-in language model with a fixed window: it writes a known sentence.

    ``script`` maps a window (tuple of ``context_size`` ids) to the next id;
    any other window gives ``fallback``. Logits are 0 except 8 at the chosen
    id. Every window it receives is recorded; a window of the wrong length
    raises, as a real fixed-window model would.
    """

    def __init__(self, context_size: int, script: dict, fallback: int, vocab_size: int = 9) -> None:
        self.context_size, self.script, self.fallback, self.vocab_size = context_size, script, fallback, vocab_size
        self.windows: list[tuple] = []

    def __call__(self, window):
        ids = tuple(int(i) for i in np.asarray(window).ravel())
        self.windows.append(ids)
        if len(ids) != self.context_size:
            raise _WindowError(f"this model takes a window of exactly {self.context_size} ids, "
                               f"got {len(ids)}")
        logits = np.zeros(self.vocab_size)
        logits[self.script.get(ids, self.fallback)] = 8.0
        return logits


def _argmax_pick(logits) -> int:
    return int(np.argmax(np.asarray(logits)))


def _walk(model: _ScriptedModel, max_new_tokens: int) -> list[int]:
    fresh = _ScriptedModel(model.context_size, model.script, model.fallback, model.vocab_size)
    return generate_solution(fresh, model.context_size, max_new_tokens, _argmax_pick)


def _generate_cases():
    k = 3
    sentence = _ScriptedModel(k, {(1, 1, 1): 4, (1, 1, 4): 5, (1, 4, 5): 6, (4, 5, 6): 3, (5, 6, 3): EOS_ID},
                              fallback=7)
    # never writes <eos>: generation must stop after max_new_tokens
    endless = _ScriptedModel(k, {(1, 1, 1): 4, (1, 1, 4): 5, (1, 4, 5): 6}, fallback=8)
    bigram = _ScriptedModel(1, {(1,): 6, (6,): 4, (4,): EOS_ID}, fallback=7)
    return [("a model with a 3-token window that writes 4 5 6 3 <eos>", sentence, 10),
            ("a model that never writes <eos>, with max_new_tokens = 5", endless, 5),
            ("a bigram model (1-token window) that writes 6 4 <eos>", bigram, 10)]




def _diagnose_generate(out, model: _ScriptedModel, max_new: int, raised: Raised | None) -> str | None:
    k = model.context_size
    want = _walk(model, max_new)
    wins = model.windows
    if wins and any(len(w) > k for w in wins):
        longest = max(len(w) for w in wins)
        return (f"the model received a window of {longest} ids, but it takes exactly {k}: you fed it the whole "
                f"growing context. Pass only the last {k}: window = ids[-context_size:].")
    if wins and (len(wins[0]) < k or wins[0] != (BOS_ID,) * k):
        return (f"the first window was {list(wins[0])}; start from [BOS_ID] * context_size = {[BOS_ID] * k} "
                f"so that the first word also has a full window.")
    if raised is not None:
        return f"your function raised {raised.short()}."
    if out is None:
        return "your function returned None (did you forget `return new`?)."
    try:
        got = [int(i) for i in out]
    except (TypeError, ValueError):
        return f"return a list of token ids; got {type(out).__name__}."
    if got == want:
        return None
    if len(wins) > 1 and len(set(wins)) == 1:
        return (f"the model saw the same window {list(wins[0])} at every step, so it kept writing "
                f"{got[:4]}...: append each new token to the context (ids.append(next_id)) before the next step.")
    if got == [BOS_ID] * k + want:
        return (f"you returned the starting <bos> tokens too ({got}). Return only the new tokens: {want}.")
    if EOS_ID in want and got[:len(want)] == want and len(got) > len(want):
        return (f"you kept going after <eos> (id {EOS_ID}): {got}. Stop as soon as the model writes <eos> "
                f"(append it, then break).")
    if EOS_ID in want and got == want[:-1]:
        return (f"you stopped at <eos> but left it out: {got}. Keep it as the last token, {want}: it tells the "
                f"caller that the sentence is finished.")
    if EOS_ID not in want and len(got) != max_new:
        return (f"with max_new_tokens = {max_new} and no <eos>, write exactly {max_new} tokens; you returned "
                f"{len(got)}: {got}.")
    if not got:
        return f"you returned an empty list; expected {want}."
    return f"expected the new tokens {want}, got {got}."


@checker(exercise="my_generate", crashed=_CRASHED)
def check_generate(generate) -> None:
    """Check ``my_generate(model_fn, context_size, max_new_tokens, pick) -> list of new ids``.

    The notebook calls the learner's function ``my_generate`` so that it does not
    replace ``course_lib.lm.generate``, which earlier cells use."""
    for label, model, max_new in _generate_cases():
        raised = None
        try:
            out, _ = call_on_copies(generate, model, model.context_size, max_new, _argmax_pick)
        except Raised as exc:
            out, raised = None, exc
        problem = _diagnose_generate(out, model, max_new, raised)
        if problem:
            print_verdict(f"Not quite. With {label}:", [problem])
            return
    print("Correct! Your loop starts from <bos>, feeds the model exactly its window of the last tokens, appends "
          "each new token, stops at <eos> (keeping it) or after max_new_tokens: the autoregressive loop of every GPT.")
