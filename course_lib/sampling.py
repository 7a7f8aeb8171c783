"""Choosing the next token from a model's logits: greedy, temperature, top-k, top-p.

All functions take ``logits`` of shape (V,) (one distribution over a
vocabulary of V tokens) or (B, V) (a batch of them), work on the last axis and
never modify their input. Sampling takes a ``generator`` so results repeat.
"""
from __future__ import annotations

import numpy as np

from . import random as _random
from .nn.functional import softmax

__all__ = ["greedy", "apply_temperature", "top_k_filter", "top_p_filter", "next_token_probs", "sample_next"]


def _check_logits(logits, fn: str) -> np.ndarray:
    logits = np.asarray(logits)
    if logits.ndim not in (1, 2) or logits.shape[-1] == 0:
        raise ValueError(f"{fn} expects logits of shape (V,) or (B, V), got {logits.shape}")
    if not np.issubdtype(logits.dtype, np.floating):
        raise TypeError(f"{fn} expects floating-point logits, got dtype {logits.dtype}")
    return logits


def greedy(logits) -> np.ndarray | int:
    """The most likely token (argmax; the first one on ties)."""
    logits = _check_logits(logits, "greedy")
    ids = np.argmax(logits, axis=-1)
    return int(ids) if logits.ndim == 1 else ids


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """logits / temperature. T < 1 sharpens the distribution, T > 1 flattens it."""
    logits = _check_logits(logits, "apply_temperature")
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(
            f"temperature must be > 0, got {temperature!r} (use greedy() for the T -> 0 limit)"
        )
    return logits / temperature


def top_k_filter(logits, k: int) -> np.ndarray:
    """Keep the k largest logits, set the rest to -inf (ties at the k-th value are kept)."""
    logits = _check_logits(logits, "top_k_filter")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"top_k_filter: k must be an int >= 1, got {k!r}")
    if k >= logits.shape[-1]:
        return logits.copy()
    kth = np.sort(logits, axis=-1)[..., -k][..., None]  # the k-th largest value
    return np.where(logits < kth, -np.inf, logits)


def top_p_filter(logits, p: float) -> np.ndarray:
    """Nucleus filtering: keep the smallest set of most likely tokens whose probability reaches p.

    The most likely token is always kept, so p close to 0 gives greedy decoding.
    """
    logits = _check_logits(logits, "top_p_filter")
    if not (isinstance(p, (float, int)) and 0.0 < p <= 1.0):
        raise ValueError(f"top_p_filter: p must be in (0, 1], got {p!r}")
    probs = softmax(logits, axis=-1)
    order = np.argsort(-probs, axis=-1, kind="stable")  # most likely first
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(sorted_probs, axis=-1) - sorted_probs  # mass strictly before each token
    keep_sorted = before < p  # keep while the mass before it is still short of p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return np.where(keep, logits, -np.inf)


def next_token_probs(logits, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None) -> np.ndarray:
    """The distribution sampling draws from: temperature, then top-k, then top-p, then softmax."""
    z = apply_temperature(logits, temperature)
    if top_k is not None:
        z = top_k_filter(z, top_k)
    if top_p is not None:
        z = top_p_filter(z, top_p)
    return softmax(z, axis=-1)


def sample_next(logits, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                generator: np.random.Generator | None = None):
    """Draw the next token id (an int for (V,) logits, an array of B ids for (B, V))."""
    probs = next_token_probs(logits, temperature, top_k, top_p)
    rng = _random.resolve(generator)
    p2 = probs.reshape(-1, probs.shape[-1])  # (B, V)
    u = rng.random((p2.shape[0], 1))  # one uniform number per row
    cdf = np.cumsum(p2, axis=-1)
    ids = np.minimum((u > cdf).sum(axis=-1), p2.shape[-1] - 1)  # inverse-CDF sampling
    # rounding in the cumulative sum must never select a filtered-out (probability 0) token
    chosen = p2[np.arange(len(ids)), ids]
    ids = np.where(chosen > 0, ids, np.argmax(p2, axis=-1))
    return int(ids[0]) if probs.ndim == 1 else ids
