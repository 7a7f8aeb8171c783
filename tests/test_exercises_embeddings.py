"""Checkers of notebook 06: accept the solution, name each classic mistake, never raise."""
from __future__ import annotations

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises.embeddings import (
    check_cosine_similarity,
    check_embedding_backward,
    cosine_similarity_solution,
    embedding_backward_solution,
)
from course_lib.nn import Embedding


# ---------------------------------------------------------------------------- the lookup's backward
def test_solution_matches_course_lib_embedding():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 7, size=(3, 5))
    g = rng.standard_normal((3, 5, 4))
    emb = Embedding(7, 4, generator=rng)
    emb(ids)
    emb.backward(g)
    np.testing.assert_allclose(embedding_backward_solution(ids, g, 7), emb.weight.grad)


def test_backward_accepts_solution(capsys):
    out = verdict(check_embedding_backward, embedding_backward_solution, capsys)
    assert out.startswith("Correct!")


def _loop(ids, grad_out, num_embeddings):
    D = grad_out.shape[-1]
    dW = np.zeros((num_embeddings, D))
    for i, g in zip(ids.reshape(-1), grad_out.reshape(-1, D)):
        dW[i] += g
    return dW


def _one_hot(ids, grad_out, num_embeddings):
    D = grad_out.shape[-1]
    one_hot = np.eye(num_embeddings)[ids.reshape(-1)]     # (N, V)
    return one_hot.T @ grad_out.reshape(-1, D)             # (V, D)


@pytest.mark.parametrize("fn", [_loop, _one_hot])
def test_backward_accepts_equivalent_solutions(fn, capsys):
    assert verdict(check_embedding_backward, fn, capsys).startswith("Correct!")


def test_backward_stub_is_not_done(capsys):
    def stub(ids, grad_out, num_embeddings):
        # YOUR CODE HERE
        raise NotImplementedError

    assert verdict(check_embedding_backward, stub, capsys).startswith("Not done yet")


def _assignment(ids, grad_out, num_embeddings):
    D = grad_out.shape[-1]
    dW = np.zeros((num_embeddings, D))
    dW[ids.reshape(-1)] += grad_out.reshape(-1, D)   # the classic bug: repeats are written once
    return dW


def _plain_assignment(ids, grad_out, num_embeddings):
    D = grad_out.shape[-1]
    dW = np.zeros((num_embeddings, D))
    dW[ids.reshape(-1)] = grad_out.reshape(-1, D)
    return dW


def _ones(ids, grad_out, num_embeddings):
    D = grad_out.shape[-1]
    dW = np.ones((num_embeddings, D))
    np.add.at(dW, ids.reshape(-1), grad_out.reshape(-1, D))
    return dW


def _garbage_rows(ids, grad_out, num_embeddings):
    dW = embedding_backward_solution(ids, grad_out, num_embeddings)
    unused = np.setdiff1d(np.arange(num_embeddings), ids)
    dW[unused] = 0.37 * (1 + np.arange(len(unused)))[:, None]   # like np.empty's leftovers
    return dW


def _mean(ids, grad_out, num_embeddings):
    D = grad_out.shape[-1]
    total = embedding_backward_solution(ids, grad_out, num_embeddings)
    counts = np.bincount(ids.reshape(-1), minlength=num_embeddings)
    return total / np.maximum(counts, 1)[:, None]


@pytest.mark.parametrize("fn, hint", [
    (_assignment, "repeated ids lose their gradient"),
    (_plain_assignment, "only the last occurrence counts"),
    (_ones, "you started from a table filled with 1"),
    (_garbage_rows, "should be zero"),
    (lambda ids, g, V: embedding_backward_solution(ids, g, V).T, "dW is transposed"),
    (lambda ids, g, V: g, "one row per *position*"),
    (lambda ids, g, V: g.reshape(-1, g.shape[-1]), "one row per *position*"),
    (lambda ids, g, V: np.zeros((V + 1, g.shape[-1])), "should have the table's shape"),
    (_mean, "you averaged the gradients of a repeated id"),
    (lambda ids, g, V: embedding_backward_solution(ids, g, V) / ids.size, "you divided by the number of positions"),
    (lambda ids, g, V: 2 * embedding_backward_solution(ids, g, V), "right shape but wrong values"),
    (lambda ids, g, V: np.full((V, g.shape[-1]), np.nan), "NaN"),
    (lambda ids, g, V: None, "forget `return`"),
    (lambda ids, g, V: "dW", "not an array"),
])
def test_backward_names_each_mistake(fn, hint, capsys):
    out = verdict(check_embedding_backward, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_backward_loop_that_only_handles_1d_ids(capsys):
    def flat_only(ids, grad_out, num_embeddings):
        dW = np.zeros((num_embeddings, grad_out.shape[1]))
        for i, g in zip(ids, grad_out):
            dW[i] += g   # for (B, T) ids, i is a row of ids: fancy indexing, shapes clash or repeats are lost
        return dW

    out = verdict(check_embedding_backward, flat_only, capsys)
    assert out.startswith("Not quite")
    assert "(B, T)" in out


def test_backward_flags_in_place_modification(capsys):
    def sneaky(ids, grad_out, num_embeddings):
        grad_out *= 1.0
        ids[0] = ids[0]
        result = embedding_backward_solution(ids, grad_out, num_embeddings)
        grad_out[0] = 0.0   # spoils the caller's array after use
        return result

    out = verdict(check_embedding_backward, sneaky, capsys)
    assert "changed its input arrays in place" in out


def test_backward_never_raises(capsys):
    def boom(ids, grad_out, num_embeddings):
        raise ZeroDivisionError("oops")

    assert "ZeroDivisionError: oops" in verdict(check_embedding_backward, boom, capsys)
    assert verdict(check_embedding_backward, 42, capsys).startswith("Not quite")


def test_backward_is_deterministic(capsys):
    assert verdict(check_embedding_backward, _assignment, capsys) == verdict(check_embedding_backward, _assignment, capsys)


# ---------------------------------------------------------------------------- cosine similarity
def test_cosine_solution_matches_course_lib():
    from course_lib.word_vectors import cosine_similarity

    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((4, 6)), rng.standard_normal((3, 6))
    np.testing.assert_allclose(cosine_similarity_solution(A, B), cosine_similarity(A, B), atol=1e-12)


def test_cosine_accepts_solution(capsys):
    assert verdict(check_cosine_similarity, cosine_similarity_solution, capsys).startswith("Correct!")


def _cos_loop(A, B):
    S = np.zeros((len(A), len(B)))
    for i, a in enumerate(A):
        for j, b in enumerate(B):
            S[i, j] = a @ b / (np.sqrt(a @ a) * np.sqrt(b @ b))
    return S


def _cos_einsum(A, B):
    na = np.sqrt(np.einsum("id,id->i", A, A))
    nb = np.sqrt(np.einsum("jd,jd->j", B, B))
    return np.einsum("id,jd->ij", A, B) / np.outer(na, nb)


@pytest.mark.parametrize("fn", [_cos_loop, _cos_einsum])
def test_cosine_accepts_equivalent_solutions(fn, capsys):
    assert verdict(check_cosine_similarity, fn, capsys).startswith("Correct!")


def test_cosine_stub_is_not_done(capsys):
    def stub(A, B):
        raise NotImplementedError

    assert verdict(check_cosine_similarity, stub, capsys).startswith("Not done yet")


def _norm(X, **kw):
    return np.linalg.norm(X, **kw)


@pytest.mark.parametrize("fn, hint", [
    (lambda A, B: A @ B.T, "without normalising"),
    (lambda A, B: (A / _norm(A, axis=1, keepdims=True)) @ B.T, "normalised only A's rows"),
    (lambda A, B: A @ (B / _norm(B, axis=1, keepdims=True)).T, "normalised only B's rows"),
    (lambda A, B: (A @ B.T) / (_norm(A, axis=1, keepdims=True) ** 2 * (_norm(B, axis=1, keepdims=True) ** 2).T),
     "squared norms"),
    (lambda A, B: (A @ B.T) / (np.sum(A**2, 1, keepdims=True) * np.sum(B**2, 1, keepdims=True).T), "sums of squares"),  # same numbers
    (lambda A, B: (A / _norm(A, axis=0, keepdims=True)) @ (B / _norm(B, axis=0, keepdims=True)).T, "wrong axis"),
    (lambda A, B: (A / _norm(A)) @ (B / _norm(B)).T, "whole matrix"),
    (lambda A, B: cosine_similarity_solution(B, A), "S is transposed"),
    (lambda A, B: np.sum(A[:, None, :] * B[None, :, :], axis=2), "without normalising"),
    (lambda A, B: 0.5 * cosine_similarity_solution(A, B), "right shape but wrong values"),
    (lambda A, B: np.ones(len(A)), "every pair"),
    (lambda A, B: None, "forget `return`"),
])
def test_cosine_names_each_mistake(fn, hint, capsys):
    out = verdict(check_cosine_similarity, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_cosine_missing_keepdims(capsys):
    def no_keepdims(A, B):
        return (A / np.linalg.norm(A, axis=1)) @ (B / np.linalg.norm(B, axis=1)).T

    out = verdict(check_cosine_similarity, no_keepdims, capsys)
    assert out.startswith("Not quite")
    assert "keepdims=True" in out


def test_cosine_missing_keepdims_on_square_inputs(capsys):
    # the same mistake, seen on the square case only (where it raises no error)
    from course_lib.exercises import embeddings as ex

    A, B = ex._cosine_cases()["A (4, 4) and B (4, 4)"]
    wrong = (A / np.linalg.norm(A, axis=1)) @ (B / np.linalg.norm(B, axis=1)).T
    message = ex._diagnose_cosine(wrong, A, B, cosine_similarity_solution(A, B))
    assert "keepdims=True" in message and "column j by the norm of row j" in message


def test_cosine_flags_in_place_modification(capsys):
    def in_place(A, B):
        A /= np.linalg.norm(A, axis=1, keepdims=True)
        B /= np.linalg.norm(B, axis=1, keepdims=True)
        return A @ B.T

    out = verdict(check_cosine_similarity, in_place, capsys)
    assert "in place" in out


def test_cosine_never_raises(capsys):
    def boom(A, B):
        raise KeyError("x")

    assert "KeyError" in verdict(check_cosine_similarity, boom, capsys)
    assert verdict(check_cosine_similarity, None, capsys).startswith("Not quite")
