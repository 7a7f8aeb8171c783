"""Checkers of notebook 07: accept the solutions, name each classic mistake, never raise."""
from __future__ import annotations

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises.autoregression import (
    BOS_ID,
    EOS_ID,
    check_generate,
    check_temperature_softmax,
    check_top_k_probs,
    generate_solution,
    temperature_softmax_solution,
    top_k_probs_solution,
)
from course_lib.nn.functional import softmax
from course_lib.sampling import next_token_probs, top_k_filter


def _stub(*args):
    # YOUR CODE HERE
    raise NotImplementedError


# ---------------------------------------------------------------------------- temperature
def _naive_softmax(z):
    e = np.exp(z)
    return e / e.sum()


def test_temperature_accepts_solution_and_equivalents(capsys):
    for fn in (temperature_softmax_solution,
               lambda z, T: softmax(z / T),
               lambda z, T: next_token_probs(z, T),
               # p ** (1/T), renormalised, is the same distribution
               lambda z, T: (lambda p: p / p.sum())(softmax(z) ** (1.0 / T))):
        out = verdict(check_temperature_softmax, fn, capsys)
        assert out.startswith("Correct!"), out


def test_temperature_stub_is_not_done(capsys):
    assert verdict(check_temperature_softmax, _stub, capsys).startswith("Not done yet")


@pytest.mark.parametrize("fn, hint", [
    (lambda z, T: softmax(z * T), "multiplied the logits by T"),
    (lambda z, T: softmax(z) / T, "after the softmax"),
    (lambda z, T: softmax(softmax(z) / T), "applied T to the probabilities"),
    (lambda z, T: (lambda p: (p / T) / (p / T).sum())(softmax(z)), "no effect"),
    (lambda z, T: softmax(z), "no effect"),
    (lambda z, T: z / T, "apply the softmax"),
    (lambda z, T: np.exp(z / T), "sum to"),
    (lambda z, T: None, "forget `return`"),
    (lambda z, T: softmax(z / T)[:3], "shape"),
])
def test_temperature_names_each_mistake(fn, hint, capsys):
    out = verdict(check_temperature_softmax, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out


def test_temperature_overflow_is_named(capsys):
    out = verdict(check_temperature_softmax, lambda z, T: _naive_softmax(z / T), capsys)
    assert out.startswith("Almost") and "Subtract the largest value" in out


def test_temperature_in_place_and_never_raises(capsys):
    def sneaky(z, T):
        z /= T
        return softmax(z)

    assert "in place" in verdict(check_temperature_softmax, sneaky, capsys)
    assert "ZeroDivisionError" in verdict(check_temperature_softmax, lambda z, T: 1 / 0, capsys)
    assert verdict(check_temperature_softmax, "nope", capsys).startswith("Not quite")
    assert verdict(check_temperature_softmax, lambda z, T: "p", capsys).startswith("Not quite")


# ---------------------------------------------------------------------------- top-k
def _mask_then(z, keep_ids, fill):
    m = np.full_like(z, fill)
    m[keep_ids] = z[keep_ids]
    return m


def test_top_k_accepts_solution_and_equivalents(capsys):
    def renormalise(z, k):
        p = softmax(z)
        p[np.argsort(z)[:-k]] = 0.0
        return p / p.sum()

    for fn in (top_k_probs_solution,
               lambda z, k: softmax(top_k_filter(z, k)),
               lambda z, k: next_token_probs(z, 1.0, top_k=k),
               renormalise):
        out = verdict(check_top_k_probs, fn, capsys)
        assert out.startswith("Correct!"), out


def test_top_k_stub_is_not_done(capsys):
    assert verdict(check_top_k_probs, _stub, capsys).startswith("Not done yet")


@pytest.mark.parametrize("fn, hint", [
    (lambda z, k: softmax(_mask_then(z, np.argsort(z)[:k], -np.inf)), "*smallest*"),
    (lambda z, k: softmax(_mask_then(z, np.argsort(z)[-k - 1:], -np.inf)), "off-by-one"),
    (lambda z, k: softmax(np.where(z > np.sort(z)[-k], z, -np.inf)), "off-by-one"),  # keeps k - 1
    (lambda z, k: softmax(_mask_then(z, np.argsort(z)[-k:], 0.0)), "instead of -inf"),
    (lambda z, k: softmax(z) * np.isin(np.arange(len(z)), np.argsort(z)[-k:]), "did not renormalise"),
    (lambda z, k: _mask_then(z, np.argsort(z)[-k:], -np.inf), "masked logits"),
    (lambda z, k: (lambda m: m / k)(softmax(z) * np.isin(np.arange(len(z)), np.argsort(z)[-k:])), "sum to"),
    (lambda z, k: softmax(z), "every token still has a probability"),
    (lambda z, k: None, "forget `return`"),
])
def test_top_k_names_each_mistake(fn, hint, capsys):
    out = verdict(check_top_k_probs, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out


def test_top_k_wrong_proportions_are_named(capsys):
    def uniform_over_kept(z, k):
        p = np.zeros_like(z)
        p[np.argsort(z)[-k:]] = 1.0 / k
        return p

    out = verdict(check_top_k_probs, uniform_over_kept, capsys)
    assert out.startswith("Not quite") and "proportional to" in out


def test_top_k_in_place_and_never_raises(capsys):
    def sneaky(z, k):
        z[np.argsort(z)[:-k]] = -np.inf
        return softmax(z)

    assert "in place" in verdict(check_top_k_probs, sneaky, capsys)
    assert "IndexError" in verdict(check_top_k_probs, lambda z, k: z[100], capsys)
    assert verdict(check_top_k_probs, 3, capsys).startswith("Not quite")


# ---------------------------------------------------------------------------- the generation loop
def test_generate_accepts_solution_and_equivalents(capsys):
    def with_while(model_fn, context_size, max_new_tokens, pick):
        ids = [BOS_ID] * context_size
        while len(ids) - context_size < max_new_tokens:
            ids.append(int(pick(model_fn(ids[len(ids) - context_size:]))))  # a list window works too
            if ids[-1] == EOS_ID:
                break
        return ids[context_size:]

    for fn in (generate_solution, with_while):
        out = verdict(check_generate, fn, capsys)
        assert out.startswith("Correct!"), out


def test_generate_stub_is_not_done(capsys):
    out = verdict(check_generate, _stub, capsys)
    # the notebook names the learner's loop my_generate: it must not replace course_lib.lm.generate
    assert out.startswith("Not done yet: my_generate still raises NotImplementedError")


def _not_appending(model_fn, context_size, max_new_tokens, pick):
    ids = [BOS_ID] * context_size
    new = []
    for _ in range(max_new_tokens):
        next_id = int(pick(model_fn(np.array(ids[-context_size:]))))
        new.append(next_id)  # BUG: never added to ids, so the window never changes
        if next_id == EOS_ID:
            break
    return new


def _whole_context(model_fn, context_size, max_new_tokens, pick):
    ids = [BOS_ID] * context_size
    for _ in range(max_new_tokens):
        next_id = int(pick(model_fn(np.array(ids))))  # BUG: the whole growing context
        ids.append(next_id)
        if next_id == EOS_ID:
            break
    return ids[context_size:]


def _no_eos_stop(model_fn, context_size, max_new_tokens, pick):
    ids = [BOS_ID] * context_size
    for _ in range(max_new_tokens):
        ids.append(int(pick(model_fn(np.array(ids[-context_size:])))))  # BUG: never stops at <eos>
    return ids[context_size:]


def _drops_eos(model_fn, context_size, max_new_tokens, pick):
    out = generate_solution(model_fn, context_size, max_new_tokens, pick)
    return out[:-1] if out and out[-1] == EOS_ID else out


def _keeps_bos(model_fn, context_size, max_new_tokens, pick):
    return [BOS_ID] * context_size + generate_solution(model_fn, context_size, max_new_tokens, pick)


def _empty_start(model_fn, context_size, max_new_tokens, pick):
    ids = []  # BUG: no <bos> padding
    for _ in range(max_new_tokens):
        ids.append(int(pick(model_fn(np.array(ids[-context_size:], dtype=int)))))
        if ids[-1] == EOS_ID:
            break
    return ids


def _one_too_many(model_fn, context_size, max_new_tokens, pick):
    ids = [BOS_ID] * context_size
    for _ in range(max_new_tokens + 1):  # BUG: off by one
        ids.append(int(pick(model_fn(np.array(ids[-context_size:])))))
        if ids[-1] == EOS_ID:
            break
    return ids[context_size:]


@pytest.mark.parametrize("fn, hint", [
    (_not_appending, "append each new token"),
    (_whole_context, "whole growing context"),
    (_no_eos_stop, "kept going after <eos>"),
    (_drops_eos, "left it out"),
    (_keeps_bos, "starting <bos> tokens too"),
    (_empty_start, "start from [BOS_ID] * context_size"),
    (_one_too_many, "write exactly 5 tokens"),
    (lambda m, k, n, pick: None, "forget `return"),
])
def test_generate_names_each_mistake(fn, hint, capsys):
    out = verdict(check_generate, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out


def test_generate_never_raises_and_is_deterministic(capsys):
    assert "ZeroDivisionError" in verdict(check_generate, lambda m, k, n, pick: 1 / 0, capsys)
    assert verdict(check_generate, None, capsys).startswith("Not quite")
    assert verdict(check_generate, _whole_context, capsys) == verdict(check_generate, _whole_context, capsys)
