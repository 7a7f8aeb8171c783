"""Exercises for notebook 06 (embeddings, 埋め込み), with automatic feedback.

    from course_lib.exercises.embeddings import check_embedding_backward, check_cosine_similarity
    check_embedding_backward(embedding_backward)   # prints a verdict
    check_cosine_similarity(cosine_matrix)         # your cosine_matrix(A, B) -> (n, m)

Each checker calls your function on small fixed examples, compares with the
right answer and, when they differ, names the classic mistake. It prints plain
text and never raises, whatever your function does; an unfinished function
(``raise NotImplementedError``) gives "Not done yet".
"""
from __future__ import annotations

import numpy as np

from ._checking import Raised, as_array, call_on_copies, checker, close, print_verdict, shape_text

__all__ = [
    "check_embedding_backward", "check_cosine_similarity",
    "embedding_backward_solution", "cosine_similarity_solution",
]


# ---------------------------------------------------------------------------- reference solutions
def embedding_backward_solution(ids, grad_out, num_embeddings):
    """dLoss/dW of the lookup ``out = W[ids]``: the rows of grad_out added into the rows they came from."""
    D = grad_out.shape[-1]
    dW = np.zeros((num_embeddings, D))                            # rows never looked up get 0
    np.add.at(dW, ids.reshape(-1), grad_out.reshape(-1, D))       # repeated ids add up
    return dW


def cosine_similarity_solution(A, B):
    """S[i, j] = A[i] . B[j] / (|A[i]| |B[j]|) for A (n, D), B (m, D) -> S (n, m)."""
    A_unit = A / np.linalg.norm(A, axis=1, keepdims=True)   # every row scaled to length 1
    B_unit = B / np.linalg.norm(B, axis=1, keepdims=True)
    return A_unit @ B_unit.T


# ---------------------------------------------------------------------------- helpers
def _not_array(out) -> str:
    return f"your function returned {type(out).__name__}, not an array" + (
        " (did you forget `return`?)." if out is None else ".")


# ---------------------------------------------------------------------------- exercise 1: the lookup's backward
_HINT_ADD_AT = ("Use np.add.at(dW, ids, grad_out), which adds once per occurrence, or a loop: "
                "for i, g in zip(ids, grad_out): dW[i] += g.")


def _backward_cases():
    rng = np.random.default_rng(606)
    flat_ids = np.array([3, 1, 3, 0, 3, 5])             # 3 three times; 2, 4 and 6 never
    flat = (flat_ids, rng.standard_normal((6, 4)), 7)   # V = 7, D = 4
    seq_ids = np.array([[2, 0, 2, 4, 1], [4, 4, 0, 2, 5]])
    seq = (seq_ids, rng.standard_normal((2, 5, 3)), 6)  # (B, T) = (2, 5), D = 3, V = 6
    return {"ids of shape (6,)": flat, "ids of shape (B, T) = (2, 5)": seq}


def _last_write(ids, g, V):
    """What ``dW[ids] = g`` (or the buffered ``dW[ids] += g``) gives: the last occurrence wins."""
    D = g.shape[-1]
    dW = np.zeros((V, D))
    dW[ids.reshape(-1)] = g.reshape(-1, D)
    return dW


def _mean_rows(ids, g, V):
    D = g.shape[-1]
    total = embedding_backward_solution(ids, g, V)
    counts = np.bincount(ids.reshape(-1), minlength=V)
    return total / np.maximum(counts, 1)[:, None]


def _diagnose_backward(dW, ids, g, V) -> str:
    D = g.shape[-1]
    want = embedding_backward_solution(ids, g, V)
    n = ids.size
    present = np.zeros(V, dtype=bool)
    present[ids.reshape(-1)] = True
    if dW.shape == (D, V) and close(dW.T, want):
        return (f"dW is transposed: it has shape (D, num_embeddings) = {shape_text((D, V))}. The gradient of the "
                f"table W has W's shape (num_embeddings, D) = {shape_text(want.shape)}: one row per token id.")
    if dW.shape == g.shape or dW.shape == (n, D):
        return (f"dW has the shape of grad_out, {shape_text(dW.shape)}: one row per *position*. The gradient of "
                f"the table has one row per *token id*, shape (num_embeddings, D) = {shape_text(want.shape)}: "
                f"start from np.zeros((num_embeddings, D)) and add each position's row of grad_out into "
                f"row ids[position]. {_HINT_ADD_AT}")
    if dW.shape != want.shape:
        return (f"dW should have the table's shape (num_embeddings, D) = {shape_text(want.shape)}, "
                f"got {shape_text(dW.shape)}.")
    if not np.all(np.isfinite(dW)):
        return "dW contains NaN or inf. Start from np.zeros((num_embeddings, D))."
    if close(dW, _last_write(ids, g, V)):
        return ("repeated ids lose their gradient: dW[ids] += grad_out (like dW[ids] = grad_out) writes each "
                "repeated row once, so only the last occurrence counts; numpy does not add twice into the "
                "same row in one fancy-indexed assignment. A token used several times must collect the sum "
                f"of all its upstream gradients. {_HINT_ADD_AT}")
    if close(dW, _mean_rows(ids, g, V)):
        return ("you averaged the gradients of a repeated id. Each use of a row adds its own contribution "
                "(the chain rule sums over every place a parameter is used): take the sum, not the mean.")
    if close(dW, want / n):
        return ("you divided by the number of positions. Don't: grad_out already carries the 1/N of a mean "
                "loss, so dW is just the sum.")
    if not np.allclose(dW[~present], 0.0, atol=1e-9):
        rows = ", ".join(str(i) for i in np.flatnonzero(~present))
        diff = dW - want
        if np.allclose(diff, diff.flat[0], rtol=0, atol=1e-9):
            return (f"every entry of dW is {diff.flat[0]:g} too large, and rows {rows} (ids that never occur) "
                    f"are not zero: you started from a table filled with {diff.flat[0]:g} (np.ones? np.full?). "
                    f"Start from np.zeros((num_embeddings, D)): a row that was never looked up gets no gradient.")
        if close(dW[present], want[present]):
            return (f"rows {rows} (ids that never occur in ids) should be zero: those vectors were not used, so "
                    f"the loss does not depend on them. Start from np.zeros((num_embeddings, D)), not "
                    f"np.empty or np.ones.")
        return (f"rows {rows} (ids that never occur) should be zero, and the other rows are wrong too. "
                f"Start from np.zeros((num_embeddings, D)). {_HINT_ADD_AT}")
    err = float(np.max(np.abs(dW - want)))
    return (f"dW has the right shape but wrong values (largest difference {err:.4f}). Row i of dW is the sum "
            f"of grad_out over every position where ids == i. {_HINT_ADD_AT}")


@checker
def check_embedding_backward(embedding_backward) -> None:
    """Check ``embedding_backward(ids, grad_out, num_embeddings) -> dW`` and name the classic mistakes."""
    for name, (ids, g, V) in _backward_cases().items():
        where = f"For {name}, grad_out {shape_text(g.shape)} and num_embeddings = {V}:"
        try:
            out, modified = call_on_copies(embedding_backward, ids, g, V)
        except Raised as exc:
            hint = ""
            if ids.ndim > 1:
                hint = (" ids may have any shape, such as (B, T): flatten them with ids.reshape(-1) and "
                        "grad_out with grad_out.reshape(-1, D) first.")
            print_verdict("Not quite:", [f"{where} your function raised {exc.short()}.{hint}"])
            return
        dW = as_array(out)
        if dW is None:
            print_verdict("Not quite:", [f"{where} {_not_array(out)}"])
            return
        problems = []
        if not close(dW, embedding_backward_solution(ids, g, V)):
            problems.append(_diagnose_backward(dW, ids, g, V))
        if modified:
            problems.append("your function changed its input arrays in place; backward must not modify its inputs.")
        if problems:
            print_verdict(f"Not quite. {where}", problems)
            return
    print("Correct! dW has the table's shape (num_embeddings, D); each row holds the sum of grad_out over the "
          "positions that looked it up (id 3, used three times, collects three rows), and rows never looked up "
          "stay zero. Checked with ids of shape (6,) and (2, 5).")


# ---------------------------------------------------------------------------- exercise 2: cosine similarity
def _cosine_cases():
    rng = np.random.default_rng(6060)
    scales_a = np.array([0.5, 2.0, 4.0])[:, None]
    scales_b = np.array([1.0, 0.2, 3.0, 5.0, 0.7])[:, None]
    rect = (rng.standard_normal((3, 4)) * scales_a, rng.standard_normal((5, 4)) * scales_b)
    square = (rng.standard_normal((4, 4)) * np.array([0.3, 1.0, 2.5, 6.0])[:, None],
              rng.standard_normal((4, 4)) * np.array([2.0, 0.5, 1.5, 4.0])[:, None])
    return {"A (3, 4) and B (5, 4)": rect, "A (4, 4) and B (4, 4)": square}


def _cosine_mistakes(A, B) -> list[tuple[np.ndarray, str]]:
    na = np.linalg.norm(A, axis=1, keepdims=True)
    nb = np.linalg.norm(B, axis=1, keepdims=True)
    dots = A @ B.T
    out = [
        (dots, "you returned the dot products A @ B.T without normalising. Divide by the lengths: "
               "S[i, j] = A[i] . B[j] / (|A[i]| |B[j]|), so that only the angle counts, not how long the vectors are."),
        (dots / na, "you normalised only A's rows. B's rows must be scaled to length 1 too: "
                    "S = (A / |A|) @ (B / |B|).T, each norm taken over its own rows (axis=1, keepdims=True)."),
        (dots / nb.T, "you normalised only B's rows. A's rows must be scaled to length 1 too: "
                      "S = (A / |A|) @ (B / |B|).T, each norm taken over its own rows (axis=1, keepdims=True)."),
        (dots / (na**2 * (nb**2).T), "you divided by the squared norms |A[i]|^2 |B[j]|^2 (the sums of squares, "
                                     "A[i] . A[i]). The norm is the square root of the sum of squares: divide by "
                                     "|A[i]| |B[j]| (np.linalg.norm, or np.sqrt of the sum of squares)."),
    ]
    ca, cb = np.linalg.norm(A, axis=0, keepdims=True), np.linalg.norm(B, axis=0, keepdims=True)
    out.append(((A / ca) @ (B / cb).T,
                "wrong axis: you divided each column (feature) by its norm, axis=0. A vector is a row: take the "
                "norm of each row, np.linalg.norm(A, axis=1, keepdims=True)."))
    if A.shape[0] == A.shape[1] and B.shape[0] == B.shape[1]:
        ra, rb = np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1)
        out.append(((A / ra) @ (B / rb).T,
                    "wrong axis in the division: np.linalg.norm(A, axis=1) has shape (n,), and A / it divides "
                    "column j by the norm of row j. Keep the axis, np.linalg.norm(A, axis=1, keepdims=True) "
                    "(shape (n, 1)), or write norms[:, None]."))
    fa, fb = np.linalg.norm(A), np.linalg.norm(B)
    out.append((dots / (fa * fb),
                "you divided by the norm of the whole matrix (np.linalg.norm without axis). Each vector is a row: "
                "use np.linalg.norm(A, axis=1, keepdims=True)."))
    return out


@checker(exercise="your function")  # the learner may name it as they like
def check_cosine_similarity(cosine_matrix) -> None:
    """Check a cosine-similarity function ``cosine_matrix(A, B) -> S`` of shape (n, m) and name the classic mistakes."""
    for name, (A, B) in _cosine_cases().items():
        where = f"For {name}:"
        want = cosine_similarity_solution(A, B)
        try:
            out, modified = call_on_copies(cosine_matrix, A, B)
        except Raised as exc:
            hint = ""
            if isinstance(exc.exc, ValueError) and ("broadcast" in str(exc) or "shape" in str(exc)):
                hint = (" A shape mismatch: np.linalg.norm(A, axis=1) has shape (n,); to divide each row by "
                        "its norm, keep the axis: np.linalg.norm(A, axis=1, keepdims=True), shape (n, 1).")
            print_verdict("Not quite:", [f"{where} your function raised {exc.short()}.{hint}"])
            return
        S = as_array(out)
        if S is None:
            print_verdict("Not quite:", [f"{where} {_not_array(out)}"])
            return
        problems = []
        if not close(S, want):
            problems.append(_diagnose_cosine(S, A, B, want))
        if modified:
            problems.append("your function changed its input arrays in place (e.g. A /= ...); work on new arrays.")
        if problems:
            print_verdict(f"Not quite. {where}", problems)
            return
    print("Correct! S[i, j] = A[i] . B[j] / (|A[i]| |B[j]|): every row scaled to length 1, then one matrix "
          "product; shape (n, m), values in [-1, 1]. Checked with A (3, 4), B (5, 4) and two square matrices.")


def _diagnose_cosine(S, A, B, want) -> str:
    n, m = A.shape[0], B.shape[0]
    if S.shape == (m, n) and n != m and close(S.T, want):
        return (f"S is transposed: it has shape (m, n) = {shape_text(S.shape)}. Row i of S belongs to A[i] and "
                f"column j to B[j], shape (n, m) = {shape_text(want.shape)}: (A / |A|) @ (B / |B|).T.")
    if S.shape != want.shape:
        if S.shape in ((n,), (m,), (n, 1)):
            return (f"S has shape {shape_text(S.shape)}; it should hold every pair (i, j), shape (n, m) = "
                    f"{shape_text(want.shape)}: a matrix product of the normalised rows, A_unit @ B_unit.T.")
        return f"S should have shape (n, m) = {shape_text(want.shape)}, got {shape_text(S.shape)}."
    for candidate, message in _cosine_mistakes(A, B):
        if close(S, candidate):
            return message
    if n == m and close(S.T, want):
        return "S is transposed: S[i, j] belongs to A[i] and B[j]. Use A_unit @ B_unit.T, not B_unit @ A_unit.T."
    if not np.all(np.isfinite(S)):
        return "S contains NaN or inf (a division by zero?). Divide each row by its norm."
    err = float(np.max(np.abs(S - want)))
    return (f"S has the right shape but wrong values (largest difference {err:.4f}). "
            f"S[i, j] = A[i] . B[j] / (|A[i]| |B[j]|).")
