import warnings

import numpy as np
import pytest

from course_lib.nn.functional import softmax
from course_lib.sampling import (apply_temperature, greedy, next_token_probs, sample_next,
                                 top_k_filter, top_p_filter)

LOGITS = np.array([1.0, 3.0, 2.0, -1.0, 0.5])


def test_greedy_is_argmax_for_one_and_many():
    assert greedy(LOGITS) == 1
    np.testing.assert_array_equal(greedy(np.stack([LOGITS, -LOGITS])), [1, 3])


def test_sampling_frequencies_match_probabilities():
    g = np.random.default_rng(0)
    n = 40_000
    draws = np.array([sample_next(LOGITS, generator=g) for _ in range(n)])
    freq = np.bincount(draws, minlength=5) / n
    p = softmax(LOGITS)
    # binomial standard error sqrt(p(1-p)/n) < 0.0025; 4 sigma
    np.testing.assert_allclose(freq, p, atol=0.01)


def test_batched_sampling_shape_and_determinism():
    batch = np.stack([LOGITS] * 6)
    a = sample_next(batch, generator=np.random.default_rng(5))
    b = sample_next(batch, generator=np.random.default_rng(5))
    assert a.shape == (6,)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_never_samples_outside_the_k_best(k):
    g = np.random.default_rng(1)
    best = set(np.argsort(-LOGITS)[:k].tolist())
    seen = {sample_next(LOGITS, top_k=k, generator=g) for _ in range(2000)}
    assert seen <= best
    assert seen == best  # and all of them do occur


def test_top_k_renormalises():
    p = next_token_probs(LOGITS, top_k=2)
    expected = softmax(np.array([3.0, 2.0]))
    np.testing.assert_allclose(p[[1, 2]], expected)
    assert p[[0, 3, 4]].sum() == 0.0


def test_top_p_keeps_smallest_set_reaching_p():
    p = softmax(LOGITS)
    order = np.argsort(-p)
    # p(best) ~ 0.61, + second ~ 0.84: p=0.7 keeps exactly two tokens
    kept = np.isfinite(top_p_filter(LOGITS, 0.7))
    assert kept.sum() == 2 and kept[order[:2]].all()
    assert np.isfinite(top_p_filter(LOGITS, 1.0)).all()
    assert np.isfinite(top_p_filter(LOGITS, 1e-9)).sum() == 1


def test_temperature_to_zero_is_greedy_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in (1e-3, 1e-8, 1e-300):
            for s in range(20):
                assert sample_next(LOGITS, temperature=t, generator=np.random.default_rng(s)) == greedy(LOGITS)


def test_high_temperature_flattens():
    p = next_token_probs(LOGITS, temperature=1e6)
    np.testing.assert_allclose(p, np.full(5, 0.2), atol=1e-5)


def test_large_logits_are_stable():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = next_token_probs(np.array([1e4, -1e4, 0.0]))
    np.testing.assert_array_equal(p, [1.0, 0.0, 0.0])


def test_inputs_are_not_modified():
    logits = LOGITS.copy()
    top_k_filter(logits, 2), top_p_filter(logits, 0.5), apply_temperature(logits, 0.5)
    np.testing.assert_array_equal(logits, LOGITS)


@pytest.mark.parametrize("call,match", [
    (lambda: apply_temperature(LOGITS, 0.0), "temperature must be > 0"),
    (lambda: apply_temperature(LOGITS, -1.0), "temperature must be > 0"),
    (lambda: top_k_filter(LOGITS, 0), "k must be an int >= 1"),
    (lambda: top_k_filter(LOGITS, 1.5), "k must be an int >= 1"),
    (lambda: top_p_filter(LOGITS, 0.0), r"p must be in \(0, 1\]"),
    (lambda: top_p_filter(LOGITS, 1.5), r"p must be in \(0, 1\]"),
    (lambda: greedy(np.zeros((2, 3, 4))), r"expects logits of shape \(V,\) or \(B, V\)"),
    (lambda: greedy(np.array([1, 2])), "floating-point logits"),
])
def test_bad_arguments(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
