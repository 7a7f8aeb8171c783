"""Checkers of notebook 08 (convolutional networks): accept the solution, name each classic mistake, never raise."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from checker_helpers import verdict

from course_lib.exercises import cnn
from course_lib.exercises.cnn import (
    check_conv_backward_dw,
    check_conv_output_size,
    check_im2col,
    check_maxpool_backward,
    conv_backward_dw_solution,
    conv_output_size_solution,
    im2col_solution,
    maxpool_backward_solution,
)


def _stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError


def _distinct(arrays) -> bool:
    """No two of ``arrays`` are equal (same shape and values)."""
    return not any(a.shape == b.shape and np.allclose(a, b) for a, b in itertools.combinations(arrays, 2))


# ============================================================================ the reference solutions
def test_conv_output_size_solution_matches_the_definition():
    # count the positions of the kernel one by one
    for size, k, s, p in itertools.product(range(1, 13), range(1, 6), range(1, 5), range(0, 3)):
        if size + 2 * p < k:
            continue
        positions = len(range(0, size + 2 * p - k + 1, s))
        got = conv_output_size_solution(size, k, s, p)
        assert got == positions and isinstance(got, int), (size, k, s, p)


def _im2col_loops(x, k):
    N, C, H, W = x.shape
    ho, wo = H - k + 1, W - k + 1
    cols = np.zeros((N, C * k * k, ho * wo))
    for n in range(N):
        for h in range(ho):
            for w in range(wo):
                for c in range(C):
                    for i in range(k):
                        for j in range(k):
                            cols[n, (c * k + i) * k + j, h * wo + w] = x[n, c, h + i, w + j]
    return cols


def test_im2col_solution_is_unfold_by_the_definition():
    rng = np.random.default_rng(1)
    for shape, k in (((2, 3, 5, 6), 3), ((1, 1, 4, 4), 1), ((2, 2, 3, 7), 3), ((1, 2, 4, 4), 4)):
        x = rng.standard_normal(shape)
        np.testing.assert_array_equal(im2col_solution(x, k), _im2col_loops(x, k))


def test_im2col_solution_matches_course_unfold():
    try:
        from course_lib.nn.im2col import unfold
    except Exception:  # pragma: no cover - being written elsewhere
        pytest.skip("course_lib.nn.im2col.unfold is not importable")
    rng = np.random.default_rng(2)
    for x, k in cnn._im2col_cases() + [(rng.standard_normal((2, 3, 6, 5)), 2)]:
        np.testing.assert_allclose(im2col_solution(x, k), unfold(x, k))


def test_conv_backward_dw_solution_is_the_gradient():
    for cols, g in cnn._dw_cases():
        want = conv_backward_dw_solution(cols, g)
        loops = sum(g[n] @ cols[n].T for n in range(cols.shape[0]))
        np.testing.assert_allclose(want, loops)
        np.testing.assert_allclose(want, cnn._numerical_dw(cols, g), atol=1e-8)


def test_conv_backward_dw_solution_matches_conv2d():
    try:
        from course_lib.nn import Conv2d
    except Exception:  # pragma: no cover - being written elsewhere
        pytest.skip("course_lib.nn.Conv2d is not importable")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 2, 5, 6))
    conv = Conv2d(2, 4, 3, bias=False, generator=np.random.default_rng(0))
    y = conv(x)
    g = rng.standard_normal(y.shape)
    conv.backward(g)
    dw = conv_backward_dw_solution(im2col_solution(x, 3), g.reshape(3, 4, -1))
    np.testing.assert_allclose(dw, conv.weight.grad.reshape(4, -1))


def _maxpool_loops(x, g, k):
    """A direct loop: the first maximum (strict >) of each window in row-major order gets the gradient."""
    dx = np.zeros_like(x, dtype=float)
    N, C, H, W = x.shape
    for n, c, h, w in itertools.product(range(N), range(C), range(H // k), range(W // k)):
        best, where = -np.inf, None
        for i, j in itertools.product(range(k), range(k)):
            if x[n, c, h * k + i, w * k + j] > best:
                best, where = x[n, c, h * k + i, w * k + j], (h * k + i, w * k + j)
        dx[n, c, where[0], where[1]] += g[n, c, h, w]
    return dx


def test_maxpool_backward_solution_routes_to_the_first_maximum():
    for _, x, g, k in cnn._pool_cases():
        np.testing.assert_array_equal(maxpool_backward_solution(x, g, k), _maxpool_loops(x, g, k))


def test_maxpool_backward_solution_matches_finite_differences_without_ties():
    for name, x, g, k in cnn._pool_cases():
        if name == "ties":
            continue
        np.testing.assert_allclose(maxpool_backward_solution(x, g, k), cnn._numerical_dx(x, g, k), atol=1e-7)


def test_maxpool_backward_solution_matches_course_maxpool2d():
    try:
        from course_lib.nn import MaxPool2d
    except Exception:  # pragma: no cover - being written elsewhere
        pytest.skip("course_lib.nn.MaxPool2d is not importable")
    for _, x, g, k in cnn._pool_cases():  # ties included: both take the first maximum, as PyTorch
        pool = MaxPool2d(k)
        pool(x)
        np.testing.assert_array_equal(maxpool_backward_solution(x, g, k), pool.backward(g))


# ============================================================================ the test inputs separate the mistakes
def test_size_cases_separate_every_mistake():
    want = [conv_output_size_solution(*c) for c in cnn._SIZE_CASES]
    vectors = [np.array(want, dtype=float)] + [np.array([make(*c) for c in cnn._SIZE_CASES], dtype=float)
                                                for make, _ in cnn._SIZE_VARIANTS]
    assert _distinct(vectors)


def test_im2col_cases_separate_every_mistake():
    for x, k in cnn._im2col_cases():
        outs = [im2col_solution(x, k)] + [make() for make, _ in cnn._im2col_variants(x, k)]
        assert _distinct(outs)


def test_dw_square_case_separates_every_mistake():
    cols, g = cnn._dw_cases()[0]
    outs = [conv_backward_dw_solution(cols, g)] + [make() for make, _ in cnn._dw_variants(cols, g)]
    assert all(o is not None and o.shape == (4, 4) for o in outs)
    assert _distinct(outs)


def test_pool_cases_separate_every_mistake():
    cases = cnn._pool_cases()
    name, x, g, k = cases[0]
    assert name == "no ties" and len(np.unique(x)) == x.size
    assert (cnn._windows(x, k).max(axis=-1) < 0).any()  # some all-negative windows
    variants = cnn._pool_variants(x, g, k)
    tie_mistakes = variants[-3:]
    others = [make() for make, _ in variants[:-3]]
    right = maxpool_backward_solution(x, g, k)
    assert _distinct([right] + others)
    for make, _ in tie_mistakes:  # on an input without ties they are right: they are judged on the ties case
        np.testing.assert_allclose(make(), right)
    name, x, g, k = cases[2]
    assert name == "ties"
    win = cnn._windows(x, k)
    tied = (win == win.max(axis=-1, keepdims=True)).sum(axis=-1)
    assert {2, 3, 4} <= set(tied.ravel().tolist())  # ties of two, three and four pixels
    outs = [maxpool_backward_solution(x, g, k)] + [make() for make, _ in cnn._pool_variants(x, g, k)]
    assert _distinct(outs)


# ============================================================================ 1. conv_output_size
def test_conv_output_size_accepts_solution(capsys):
    assert verdict(check_conv_output_size, conv_output_size_solution, capsys).startswith("Correct!")


def test_conv_output_size_accepts_other_correct_ways(capsys):
    def with_math_floor(size, kernel_size, stride=1, padding=0):
        return math.floor((size + 2 * padding - kernel_size) / stride) + 1

    def with_int(size, kernel_size, stride=1, padding=0):
        return int((size + 2 * padding - kernel_size) / stride) + 1

    def counting(size, kernel_size, stride=1, padding=0):
        return len(range(0, size + 2 * padding - kernel_size + 1, stride))

    def numpy_int(size, kernel_size, stride=1, padding=0):
        return np.int64((size + 2 * padding - kernel_size) // stride + 1)

    for fn in (with_math_floor, with_int, counting, numpy_int):
        assert verdict(check_conv_output_size, fn, capsys).startswith("Correct!"), fn.__name__


def test_conv_output_size_stub_is_not_done(capsys):
    assert verdict(check_conv_output_size, _stub, capsys).startswith("Not done yet")


def _no_defaults(size, kernel_size, stride, padding):
    return (size + 2 * padding - kernel_size) // stride + 1


def _swapped_order(size, kernel_size, padding=0, stride=1):
    return (size + 2 * padding - kernel_size) // stride + 1


def _other_names(size, kernel_size, s=1, p=0):
    return (size + 2 * p - kernel_size) // s + 1


def _wrong_defaults(size, kernel_size, stride=1, padding=1):
    return (size + 2 * padding - kernel_size) // stride + 1


@pytest.mark.parametrize("fn, hint", [
    (lambda n, k, s=1, p=0: (n + 2 * p - k) // s, "you forgot the + 1"),
    (lambda n, k, s=1, p=0: (n + 2 * p - k + 1) // s, "you put the + 1 inside the floor"),
    (lambda n, k, s=1, p=0: (n + p - k) // s + 1, "you added the padding once"),
    (lambda n, k, s=1, p=0: (n - k) // s + 1, "you ignored the padding"),
    (lambda n, k, s=1, p=0: (n + 2 * p - k) / s + 1, "you divided with / and did not round down"),
    (lambda n, k, s=1, p=0: np.floor((n + 2 * p - k) / s) + 1, "returned a float"),
    (lambda n, k, s=1, p=0: float((n + 2 * p - k) // s + 1), "returned a float"),
    (lambda n, k, s=1, p=0: n + 2 * p - k + 1, "you ignored the stride"),
    (lambda n, k, s=1, p=0: (n + 2 * p - k) * s + 1, "you multiplied by the stride"),
    (lambda n, k, s=1, p=0: math.ceil((n + 2 * p - k) / s) + 1, "you rounded up (ceil)"),
    (lambda n, k, s=1, p=0: (n + 2 * p - k) // s - 1, "you subtracted 1 instead of adding it"),
    (lambda n, k, s=1, p=0: (n + 2 * p - k - 1) // s + 1, "you subtracted one pixel too many"),
    (lambda n, k, s=1, p=0: (n + 2 * p - k) // s + 2, "fits at 32 positions"),
    (_no_defaults, "the defaults 1 and 0"),
    (_other_names, "stride and padding have these names"),
    (_swapped_order, "(size, kernel_size, stride=1, padding=0)"),
    (_wrong_defaults, "Check the defaults"),
    (lambda n, k, s=1, p=0: "24", "return one number, an int"),
    (lambda n, k, s=1, p=0: [24], "return one number, an int"),
    (lambda n, k, s=1, p=0: 1 / 0, "raised ZeroDivisionError"),
])
def test_conv_output_size_names_each_mistake(fn, hint, capsys):
    out = verdict(check_conv_output_size, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_conv_output_size_none_is_not_done(capsys):
    out = verdict(check_conv_output_size, lambda n, k, s=1, p=0: None, capsys)
    assert out.startswith("Not done yet") and "`return`" in out, out


# ============================================================================ 2. im2col
def _im2col(order="ok", positions="row", layout="ok", last=True):
    """A learner's loop; the keywords select a classic mistake."""
    def fn(x, kernel_size):
        k = kernel_size
        N, C, H, W = x.shape
        ho, wo = H - k + 1, W - k + 1
        hs, ws = (ho, wo) if last else (ho - 1, wo - 1)
        cols = np.zeros((N, C * k * k, hs * ws))
        for n in range(N):
            for h in range(hs):
                for w in range(ws):
                    patch = x[n, :, h:h + k, w:w + k]  # (C, k, k)
                    column = {"ok": patch.reshape(-1), "ji": patch.transpose(0, 2, 1).reshape(-1),
                              "channel-last": patch.transpose(1, 2, 0).reshape(-1),
                              "flipped": patch[:, ::-1, ::-1].reshape(-1),
                              "reversed": patch.reshape(-1)[::-1]}[order]
                    l = h * ws + w if positions == "row" else w * hs + h
                    cols[n, :, l] = column
        if layout == "transposed":
            return cols.transpose(0, 2, 1)
        if layout == "first image":
            return cols[0]
        if layout == "side by side":
            return np.concatenate(list(cols), axis=1)
        if layout == "six":
            return cols.reshape(N, C, k, k, ho, wo)
        return cols
    return fn


def test_im2col_accepts_solution(capsys):
    out = verdict(check_im2col, im2col_solution, capsys)
    assert out.startswith("Correct!"), out


def test_im2col_accepts_other_correct_ways(capsys):
    def strided(x, kernel_size):
        k = kernel_size
        N, C, H, W = x.shape
        win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, Ho, Wo, k, k)
        return win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * k * k, -1)

    for fn in (_im2col(), strided):
        assert verdict(check_im2col, fn, capsys).startswith("Correct!"), fn


def test_im2col_says_it_agrees_with_course_unfold_only_when_it_does(capsys, monkeypatch):
    monkeypatch.setattr(cnn, "_course_unfold", lambda: None)  # not importable (yet)
    out = verdict(check_im2col, im2col_solution, capsys)
    assert out.startswith("Correct!") and "course_lib's unfold" not in out
    monkeypatch.setattr(cnn, "_course_unfold", lambda: lambda x, k: np.zeros(1))  # a broken unfold
    out = verdict(check_im2col, im2col_solution, capsys)
    assert out.startswith("Correct!") and "course_lib's unfold" not in out  # the reference decides


def test_im2col_stub_is_not_done(capsys):
    assert verdict(check_im2col, _stub, capsys).startswith("Not done yet")


def _im2col_swapped_axes(x, kernel_size):
    return im2col_solution(x.transpose(0, 1, 3, 2), kernel_size)


def _im2col_in_place(x, kernel_size):
    cols = im2col_solution(x, kernel_size)
    x[0, 0, 0, 0] = 0.0
    return cols


@pytest.mark.parametrize("fn, hint", [
    (_im2col(positions="column"), "your patches (the columns) are in column-major order"),
    (_im2col_swapped_axes, "you swapped the roles of height and width"),
    (_im2col(order="ji"), "the kernel column j varies slower than the kernel row i"),
    (_im2col(order="channel-last"), "the channel varies fastest, row (i·k + j)·C + c"),
    (_im2col(order="flipped"), "each patch is flipped"),
    (_im2col(order="flipped"), "cross-correlation"),
    (_im2col(order="reversed"), "each column is reversed, channels included"),
    (_im2col(layout="transposed"), "the transposed layout"),
    (_im2col(layout="first image"), "the batch axis is missing (the columns of the first image only)"),
    (_im2col(layout="side by side"), "(C·k·k, N·L)"),
    (_im2col(layout="six"), "not yet flattened"),
    (_im2col(last=False), "a 3×3 kernel fits at H − k + 1 = 3 rows"),
    (lambda x, k: im2col_solution(x, k)[:, np.random.default_rng(0).permutation(x.shape[1] * k * k)],
     "every column holds the pixels of the right patch, but in another order"),
    (lambda x, k: im2col_solution(x, k)[:, :, np.random.default_rng(0).permutation((x.shape[2] - k + 1)
                                                                                    * (x.shape[3] - k + 1))],
     "every column is one of the right patches, but the columns are in the wrong order"),
    (lambda x, k: im2col_solution(x, k) * 2, "should be x[0, :, 0:3, 0:3].reshape(-1)"),
    (lambda x, k: im2col_solution(x, 3), "For x of shape (3, 3, 4, 4) and kernel_size=2"),  # a fixed kernel size
    (_im2col_in_place, "your function changed x in place"),
    (lambda x, k: "cols", "returned a str, not an array"),
    (lambda x, k: x[5], "raised IndexError"),
])
def test_im2col_names_each_mistake(fn, hint, capsys):
    out = verdict(check_im2col, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_im2col_none_is_not_done(capsys):
    out = verdict(check_im2col, lambda x, k: None, capsys)
    assert out.startswith("Not done yet") and "`return`" in out, out


# ============================================================================ 3. conv_backward_dw
def test_conv_backward_dw_accepts_solution(capsys):
    assert verdict(check_conv_backward_dw, conv_backward_dw_solution, capsys).startswith("Correct!")


def test_conv_backward_dw_accepts_other_correct_ways(capsys):
    def loop(cols, grad_out):
        dW = np.zeros((grad_out.shape[1], cols.shape[1]))
        for n in range(cols.shape[0]):
            dW += grad_out[n] @ cols[n].T
        return dW

    def tensordot(cols, grad_out):
        return np.tensordot(grad_out, cols, axes=([0, 2], [0, 2]))

    def batched(cols, grad_out):
        return (grad_out @ cols.transpose(0, 2, 1)).sum(axis=0)

    def flattened(cols, grad_out):
        co, ckk = grad_out.shape[1], cols.shape[1]
        return grad_out.transpose(1, 0, 2).reshape(co, -1) @ cols.transpose(1, 0, 2).reshape(ckk, -1).T

    for fn in (loop, tensordot, batched, flattened):
        assert verdict(check_conv_backward_dw, fn, capsys).startswith("Correct!"), fn.__name__


def test_conv_backward_dw_stub_is_not_done(capsys):
    assert verdict(check_conv_backward_dw, _stub, capsys).startswith("Not done yet")


def _dw_loop(product, keep="sum"):
    def fn(cols, grad_out):
        dW = 0
        for n in range(cols.shape[0]):
            term = product(grad_out[n], cols[n])
            if keep == "last":
                dW = term
            elif keep == "first":
                return term
            else:
                dW = dW + term
        return dW / cols.shape[0] if keep == "mean" else dW
    return fn


def _dw_in_place(cols, grad_out):
    dW = conv_backward_dw_solution(cols, grad_out)
    grad_out *= 0.5
    return dW


@pytest.mark.parametrize("fn, hint", [
    (_dw_loop(lambda g, c: c @ g.T), "dW2d is transposed"),
    (lambda cols, g: np.tensordot(cols, g, axes=([0, 2], [0, 2])), "dW2d is transposed"),
    (lambda cols, g: g @ cols.transpose(0, 2, 1), "one gradient per image, not summed over the batch"),
    (_dw_loop(lambda g, c: g @ c.T, keep="first"), "you used only the first image"),
    (_dw_loop(lambda g, c: g @ c.T, keep="last"), "you kept only the last image"),
    (_dw_loop(lambda g, c: g @ c.T, keep="mean"), "you averaged over the batch"),
    (lambda cols, g: (g @ cols.transpose(0, 2, 1)).mean(axis=0), "you averaged over the batch"),
    (_dw_loop(lambda g, c: c @ g.T, keep="mean"), "dW2d is transposed and averaged over the batch"),
    (lambda cols, g: np.einsum("nol,nkl->ok", g, cols) / (g.shape[0] * g.shape[2]), "you divided by N·L"),
    (lambda cols, g: g.sum(axis=0) @ cols.sum(axis=0).T, "the product of sums"),
    (lambda cols, g: g.reshape(g.shape[1], -1) @ cols.reshape(cols.shape[1], -1).T,
     "you reshaped grad_out (N, C_out, L) straight to (C_out, N·L)"),
    (_dw_loop(lambda g, c: g @ c), "without transposing cols[n]"),
    (_dw_loop(lambda g, c: g.T @ c), "you multiplied grad_out[n].T @ cols[n]"),
    (_dw_loop(lambda g, c: c.T @ g), "you multiplied cols[n].T @ grad_out[n]"),
    (_dw_loop(lambda g, c: c @ g), "you multiplied cols[n] @ grad_out[n]"),
    (_dw_loop(lambda g, c: g.T @ c.T), "you multiplied grad_out[n].T @ cols[n].T"),
    (_dw_loop(lambda g, c: c.T @ g.T), "you multiplied cols[n].T @ grad_out[n].T"),
    (lambda cols, g: 2 * np.einsum("nol,nkl->ok", g, cols), "Finite differences of loss = Σ grad_out · (W2d @ cols)"),
    (_dw_in_place, "your function changed grad_out in place"),
    (lambda cols, g: np.einsum("nol,nkl->ok", g, cols)[:, :4],
     "dW2d should have the weight's shape (C_out, C·k·k) = (3, 8)"),
    (lambda cols, g: (g[0] @ cols[0].T)[None], "dW2d should have the weight's shape"),
    (lambda cols, g: (1.0, 2.0), "dW2d should have the weight's shape"),
    (lambda cols, g: "dW", "returned a str, not an array"),
])
def test_conv_backward_dw_names_each_mistake(fn, hint, capsys):
    out = verdict(check_conv_backward_dw, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_conv_backward_dw_shape_error_on_rectangular_case_is_explained(capsys):
    def only_square(cols, grad_out):  # right values when C_out = C·k·k = L, a shape error otherwise
        if grad_out.shape[1] == cols.shape[1] == cols.shape[2]:
            return conv_backward_dw_solution(cols, grad_out)
        return sum(grad_out[n] @ cols[n] for n in range(cols.shape[0]))

    out = verdict(check_conv_backward_dw, only_square, capsys)
    assert "It worked when C_out, C·k·k and L were all equal" in out, out


def test_conv_backward_dw_none_is_not_done(capsys):
    out = verdict(check_conv_backward_dw, lambda cols, g: None, capsys)
    assert out.startswith("Not done yet") and "`return`" in out, out


# ============================================================================ 4. maxpool_backward
def _pool_loop(pick="first", spread=None, divmod_swapped=False, start=-np.inf, value="grad"):
    """A learner's loop over the windows; the keywords select a classic mistake."""
    def fn(x, grad_out, k):
        N, C, H, W = x.shape
        dx = np.zeros(x.shape)
        for n, c, h, w in itertools.product(range(N), range(C), range(H // k), range(W // k)):
            window = x[n, c, h * k:(h + 1) * k, w * k:(w + 1) * k]
            g = grad_out[n, c, h, w]
            out = dx[n, c, h * k:(h + 1) * k, w * k:(w + 1) * k]  # a view: writes go to dx
            if spread == "copy":
                out[...] = g
                continue
            if spread == "mean":
                out[...] = g / (k * k)
                continue
            if pick == "mask":
                out[...] = (window == window.max()) * g
                continue
            if pick == "share":
                mask = window == window.max()
                out[...] = mask * g / mask.sum()
                continue
            flat = window.reshape(-1)
            if pick == "min":
                p = int(flat.argmin())
            elif pick == "last":
                p = max(q for q in range(k * k) if flat[q] >= flat.max())
            else:  # scan with a running maximum
                best, p = start, 0
                for q in range(k * k):
                    if flat[q] > best:
                        best, p = flat[q], q
            i, j = (p % k, p // k) if divmod_swapped else divmod(p, k)
            out[i, j] = {"grad": g, "one": 1.0, "x": window[i, j]}[value]
        return dx
    return fn


def _pool_reshape_no_transpose(x, grad_out, k):
    N, C, H, W = x.shape
    blocks = x.reshape(N, C, H // k, W // k, k * k)
    idx = blocks.argmax(axis=-1)
    d = np.zeros(blocks.shape)
    np.put_along_axis(d, idx[..., None], grad_out[..., None], axis=-1)
    return d.reshape(x.shape)


def _pool_transposed_grid(x, grad_out, k):
    return maxpool_backward_solution(x, grad_out.transpose(0, 1, 3, 2), k)


def _pool_in_place(x, grad_out, k):
    dx = maxpool_backward_solution(x, grad_out, k)
    x -= x.max()
    return dx


def test_maxpool_backward_accepts_solution(capsys):
    assert verdict(check_maxpool_backward, maxpool_backward_solution, capsys).startswith("Correct!")


def test_maxpool_backward_accepts_other_correct_ways(capsys):
    def with_kron(x, grad_out, k):  # upsample the max, keep the first match per window
        N, C, H, W = x.shape
        win = x.reshape(N, C, H // k, k, W // k, k)
        first = win.reshape(N, C, H // k, k, W // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // k, W // k, -1)
        onehot = np.eye(k * k)[first.argmax(axis=-1)] * grad_out[..., None]
        return onehot.reshape(N, C, H // k, W // k, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)

    for fn in (_pool_loop(), _maxpool_loops, with_kron):
        assert verdict(check_maxpool_backward, fn, capsys).startswith("Correct!"), fn


def test_maxpool_backward_stub_is_not_done(capsys):
    assert verdict(check_maxpool_backward, _stub, capsys).startswith("Not done yet")


@pytest.mark.parametrize("fn, hint", [
    (_pool_loop(spread="copy"), "you copied each gradient to every pixel of its window"),
    (_pool_loop(spread="mean"), "that is the backward of AVERAGE pooling"),
    (_pool_loop(pick="min"), "you sent the gradient to the window's minimum (argmin)"),
    (_pool_loop(divmod_swapped=True), "at the transposed pixel"),
    (_pool_reshape_no_transpose, "your windows are not k×k squares of the image"),
    (_pool_transposed_grid, "went to window (w, h), the transposed one"),
    (_pool_loop(value="one"), "you marked the maximum with 1 but did not multiply by grad_out"),
    (_pool_loop(value="x"), "you put x's value at the maximum instead of the gradient"),
    (_pool_loop(start=0.0), "did you start the running maximum at 0?"),
    (_pool_loop(pick="mask"), "your dx gives the gradient to EVERY pixel that equals its window's maximum"),
    (_pool_loop(pick="mask"), "the FIRST maximum in row-major order"),
    (_pool_loop(pick="share"), "you shared the gradient among the tied maxima"),
    (_pool_loop(pick="last"), "at a tie you send the gradient to the LAST maximum"),
    (lambda x, g, k: maxpool_backward_solution(x, g, k) * 2, "the values are wrong. For example the window"),
    (lambda x, g, k: maxpool_backward_solution(x, g, 2), "For x of shape (1, 2, 6, 9), k=3"),  # a fixed k
    (lambda x, g, k: g, "the shape of grad_out (the pooled output)"),
    (lambda x, g, k: maxpool_backward_solution(x, g, k).reshape(x.shape[0], -1), "the right number of values"),
    (_pool_in_place, "your function changed x in place"),
    (lambda x, g, k: {"dx": x}, "returned a dict, not an array"),
    (lambda x, g, k: x.reshape(-1, 7), "raised ValueError"),
])
def test_maxpool_backward_names_each_mistake(fn, hint, capsys):
    out = verdict(check_maxpool_backward, fn, capsys)
    assert out.startswith("Not quite"), out
    assert hint in out, out


def test_maxpool_backward_ties_are_judged_on_the_ties_case(capsys):
    out = verdict(check_maxpool_backward, _pool_loop(pick="mask"), capsys)
    assert "(x has ties)" in out and "np.argmax" in out, out


def test_maxpool_backward_none_is_not_done(capsys):
    out = verdict(check_maxpool_backward, lambda x, g, k: None, capsys)
    assert out.startswith("Not done yet") and "`return`" in out, out


# ============================================================================ never raise
class _Weird:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array for you")


@pytest.mark.parametrize("checker", [check_conv_output_size, check_im2col, check_conv_backward_dw,
                                     check_maxpool_backward])
@pytest.mark.parametrize("fn", [
    None,
    42,
    lambda *a, **k: 1 / 0,
    lambda *a, **k: "text",
    lambda *a, **k: _Weird(),
    lambda *a, **k: (None, None),
    lambda *a, **k: [np.nan] * 3,
    lambda *a, **k: np.nan,
    lambda *a, **k: np.full((3, 4, 4), np.nan),
    lambda *a, **k: np.zeros((2, 2, 6, 6)),
    lambda *a, **k: a[0],  # returns its first input
    lambda *a, **k: a[1],
    lambda *a, **k: True,
])
def test_checkers_never_raise(checker, fn, capsys):
    assert checker(fn) is None
    out = capsys.readouterr().out
    assert out.startswith(("Not quite", "Not done yet", "Correct!")), out
    assert "Please report this" not in out


@pytest.mark.parametrize("checker, fn", [(check_im2col, _im2col_in_place), (check_conv_backward_dw, _dw_in_place),
                                         (check_maxpool_backward, _pool_in_place)])
def test_in_place_is_said_once(checker, fn, capsys):
    out = verdict(checker, fn, capsys)
    assert out.startswith("Not quite") and out.count("in place") == 1, out
