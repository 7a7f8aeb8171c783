"""Exercises for notebook 08 (convolutional networks), with automatic feedback.

    from course_lib.exercises.cnn import (
        check_conv_output_size, check_im2col, check_conv_backward_dw, check_maxpool_backward)
    check_conv_output_size(conv_output_size)   # prints a verdict
    check_im2col(im2col)
    check_conv_backward_dw(conv_backward_dw)
    check_maxpool_backward(maxpool_backward)

The four functions to write:

- ``conv_output_size(size, kernel_size, stride=1, padding=0) -> int``:
  floor((size + 2*padding - kernel_size) / stride) + 1;
- ``im2col(x, kernel_size) -> cols``: x (N, C, H, W), stride 1, no padding;
  cols (N, C*k*k, L) in the order of PyTorch's ``F.unfold``: row
  (c*k + i)*k + j of column l = h*W_out + w holds x[n, c, h + i, w + j];
- ``conv_backward_dw(cols, grad_out) -> dW2d``: cols (N, C*k*k, L),
  grad_out (N, C_out, L); dW2d (C_out, C*k*k) = sum over n of
  grad_out[n] @ cols[n].T;
- ``maxpool_backward(x, grad_out, k) -> dx``: k x k max pooling with stride k
  of x (N, C, H, W); each grad_out entry goes to the arg-max of its window
  (at a tie: the first maximum in row-major order, as PyTorch).

A checker calls your function on small fixed examples (on copies: your
function cannot spoil them), compares with the right answer and, when they
differ, recognises the classic mistakes and names the one you made: a missing
+1, padding counted on one side only, patches in the wrong order, a flipped
kernel, a transposed dW, a batch that is averaged or not summed, a max-pool
gradient spread over the whole window or sent to every tied pixel. The two
backward passes are also compared with finite differences. A checker prints
plain text and never raises, whatever your function does: an unfinished
function (``raise NotImplementedError``) gives "Not done yet".
"""
from __future__ import annotations

import numpy as np

from ..gradcheck import numerical_gradient
from ._checking import (Raised, as_array, call, call_on_copies, checker, close, close_and_finite, first_match,
                        print_verdict, quietly, shape_text)

__all__ = [
    "check_conv_output_size", "check_im2col", "check_conv_backward_dw", "check_maxpool_backward",
    "conv_output_size_solution", "im2col_solution", "conv_backward_dw_solution", "maxpool_backward_solution",
]


# ---------------------------------------------------------------------------- reference solutions
def conv_output_size_solution(size, kernel_size, stride=1, padding=0):
    """The number of positions of a kernel sliding over ``size`` pixels (plus ``padding`` on each side)."""
    return (size + 2 * padding - kernel_size) // stride + 1  # // : floor division, an int


def im2col_solution(x, kernel_size):
    """Every k x k patch of x (N, C, H, W) as a column: (N, C*k*k, L), PyTorch's F.unfold order (stride 1)."""
    N, C, H, W = x.shape
    k = kernel_size
    H_out, W_out = H - k + 1, W - k + 1
    cols = np.empty((N, C, k, k, H_out, W_out), dtype=x.dtype)
    for i in range(k):  # kernel row
        for j in range(k):  # kernel column
            # pixel (i, j) of every patch at once: cols[n, c, i, j, h, w] = x[n, c, h + i, w + j]
            cols[:, :, i, j] = x[:, :, i:i + H_out, j:j + W_out]
    # rows (c, i, j) and positions (h, w), both flattened row-major
    return cols.reshape(N, C * k * k, H_out * W_out)


def conv_backward_dw_solution(cols, grad_out):
    """dLoss/dW2d (C_out, C*k*k) for out[n] = W2d @ cols[n], cols (N, C*k*k, L), grad_out (N, C_out, L)."""
    # the same W2d is used for every image: add up their contributions
    return np.einsum("nol,nkl->ok", grad_out, cols)  # = sum_n grad_out[n] @ cols[n].T


def maxpool_backward_solution(x, grad_out, k):
    """dLoss/dx for k x k max pooling with stride k of x (N, C, H, W): each gradient goes to its window's arg-max."""
    N, C, H, W = x.shape
    H_out, W_out = H // k, W // k
    # windows (N, C, H_out, W_out, k*k): x[n, c, h*k + i, w*k + j] is entry i*k + j of window (h, w)
    win = x.reshape(N, C, H_out, k, W_out, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H_out, W_out, k * k)
    idx = win.argmax(axis=-1)  # the FIRST maximum in row-major order at a tie, as PyTorch
    dwin = np.zeros(win.shape)
    np.put_along_axis(dwin, idx[..., None], grad_out[..., None], axis=-1)
    return dwin.reshape(N, C, H_out, W_out, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


# ---------------------------------------------------------------------------- helpers
def _as_array(value):
    """``value`` as a float array, or None when it is not numeric (a str, bytes or dict is refused)."""
    try:
        return as_array(value, refuse=(str, bytes, dict))
    except Exception:  # anything that is not a numeric array
        return None


def _not_an_array(out, what: str = "your function") -> tuple[str, str]:
    """(title, line) for an output that is no numeric array; None means the exercise is still empty."""
    if out is None:
        return "Not done yet:", (f"{what} returned None. Did you forget the `return` line "
                                 "(or is the exercise still empty)?")
    return "Not quite:", f"{what} returned a {type(out).__name__}, not an array."


def _is_shape_error(exc: Raised) -> bool:
    text = str(exc)
    return isinstance(exc.exc, ValueError) and any(w in text for w in ("matmul", "align", "shape", "broadcast"))


def _modified_text(modified, names) -> str:
    which = " and ".join(names[i] for i in modified)
    return (f"your function changed {which} in place; it must leave its inputs alone "
            f"(build a new array: np.zeros(...), not an assignment into {names[modified[0]]}).")


# ============================================================================ 1. conv_output_size
_SIZE_CASES = [  # (size, kernel_size, stride, padding): every classic mistake gives other numbers
    (32, 3, 1, 1),   # 'same' padding: 32
    (28, 5, 1, 0),   # LeNet: 24
    (7, 3, 2, 0),    # the division is exact: 3
    (8, 3, 2, 1),    # 7 / 2 = 3.5: the floor matters: 4
    (11, 4, 3, 2),   # 11 / 3 = 3.67: 4
    (5, 5, 1, 0),    # the kernel fits exactly once: 1
    (10, 3, 4, 0),   # 7 / 4 = 1.75: 2
]

_FORMULA = ("floor((size + 2·padding − kernel_size) / stride) + 1, in Python "
            "(size + 2 * padding - kernel_size) // stride + 1")

_SIZE_VARIANTS = [
    (lambda n, k, s, p: (n + 2 * p - k) // s,
     "you forgot the + 1. The kernel fits at the first position before it has moved at all; (size + 2·padding − "
     "kernel_size) // stride counts only the further steps. For size 5, kernel 5 the answer is 1 position, not 0: "
     + _FORMULA + "."),
    (lambda n, k, s, p: (n + 2 * p - k + 1) // s,
     "you put the + 1 inside the floor, (size + 2·padding − kernel_size + 1) // stride. That is right for stride 1 "
     "only: the + 1 counts the first position and goes outside, after the division: " + _FORMULA + "."),
    (lambda n, k, s, p: (n + p - k) // s + 1,
     "you added the padding once. padding pixels are added on BOTH sides (left and right, top and bottom), so the "
     "padded size is size + 2·padding: " + _FORMULA + "."),
    (lambda n, k, s, p: (n - k) // s + 1,
     "you ignored the padding: the kernel slides over the padded input, size + 2·padding pixels: " + _FORMULA + "."),
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1,
     "you divided with / and did not round down: for size 8, kernel 3, stride 2, padding 1 you get 4.5 positions. "
     "A kernel cannot stop half-way: use floor division //, which also gives an int: " + _FORMULA + "."),
    (lambda n, k, s, p: n + 2 * p - k + 1,
     "you ignored the stride: with stride s the kernel jumps s pixels at a time, so divide the distance it can "
     "travel by the stride (and round down): " + _FORMULA + "."),
    (lambda n, k, s, p: (n + 2 * p - k) * s + 1,
     "you multiplied by the stride: a larger stride gives FEWER positions, so divide: " + _FORMULA + "."),
    (lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1,
     "you rounded up (ceil) instead of down: a position where the kernel would stick out of the (padded) input "
     "does not count (PyTorch's default ceil_mode=False): " + _FORMULA + "."),
    (lambda n, k, s, p: (n + 2 * p - k) // s - 1,
     "you subtracted 1 instead of adding it: " + _FORMULA + "."),
    (lambda n, k, s, p: (n + 2 * p - k - 1) // s + 1,
     "you subtracted one pixel too many: PyTorch's formula (size + 2·padding − dilation·(kernel_size − 1) − 1) "
     "is, with dilation 1, " + _FORMULA + "."),
]


def _number(value):
    """(value as a float, is it an int?) or None when ``value`` is not a single number."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        return float(value), True
    if isinstance(value, (float, np.floating)):
        return float(value), False
    return None


def _call_size(fn, args, kwargs=None) -> tuple[tuple[float, bool] | None, str | None, object]:
    """((value, is_int), problem, raw output) of fn(*args, **kwargs); NotDone goes up."""
    kwargs = kwargs or {}
    try:
        out = call(fn, *args, **kwargs)
    except Raised as exc:
        return None, f"raised {exc.short()}", None
    return _number(out), None, out


def _args_text(n, k, s=None, p=None) -> str:
    text = f"conv_output_size({n}, {k}"
    if s is not None:
        text += f", stride={s}"
    if p is not None:
        text += f", padding={p}"
    return text + ")"


@checker
def check_conv_output_size(conv_output_size) -> None:
    """Check ``conv_output_size(size, kernel_size, stride=1, padding=0) -> int`` on fixed cases."""
    got = []
    for n, k, s, p in _SIZE_CASES:
        number, problem, out = _call_size(conv_output_size, (n, k, s, p))
        call_text = f"conv_output_size({n}, {k}, {s}, {p})"
        if problem is not None:
            line = f"{call_text} {problem}."
            if "ZeroDivisionError" in problem:
                line += (" The stride is never 0 in these calls: check that you divide by stride, and that the "
                         "parameters come in the order (size, kernel_size, stride=1, padding=0).")
            print_verdict("Not quite:", [line])
            return
        if number is None:
            if out is None:
                print_verdict("Not done yet:", [f"{call_text} returned None. Did you forget the `return` line?"])
            else:
                print_verdict("Not quite:", [f"{call_text} returned a {type(out).__name__}; return one number, "
                                             f"an int: " + _FORMULA + "."])
            return
        got.append(number)
    values = np.array([v for v, _ in got])
    want = np.array([conv_output_size_solution(*case) for case in _SIZE_CASES], dtype=float)

    if not np.allclose(values, want, rtol=0, atol=1e-9):
        for make, hint in _SIZE_VARIANTS:
            if np.allclose(values, [make(*case) for case in _SIZE_CASES], rtol=0, atol=1e-9):
                print_verdict("Not quite:", [hint])
                return
        i = int(np.flatnonzero(~np.isclose(values, want, rtol=0, atol=1e-9))[0])
        n, k, s, p = _SIZE_CASES[i]
        print_verdict("Not quite:", [
            f"conv_output_size({n}, {k}, {s}, {p}) returned {values[i]:g}, but a kernel of size {k} sliding with "
            f"stride {s} over {n} pixels plus {p} of padding on each side fits at {int(want[i])} positions: "
            + _FORMULA + "."])
        return
    floats = [case for case, (_, is_int) in zip(_SIZE_CASES, got) if not is_int]
    if floats:
        n, k, s, p = floats[0]
        print_verdict("Not quite:", [
            f"the numbers are right, but conv_output_size({n}, {k}, {s}, {p}) returned a float "
            f"({conv_output_size_solution(n, k, s, p):.1f}), not an int. You will use it as a size, in "
            f"np.zeros((H_out, W_out)) or range(H_out), which refuse floats: use floor division //, "
            f"(size + 2 * padding - kernel_size) // stride + 1 (or wrap the result in int())."])
        return

    # the defaults and the parameter names
    for args, kwargs in (((28, 5), {}), ((28, 5), {"padding": 2}), ((9, 3), {"stride": 2}),
                         ((9, 3), {"stride": 2, "padding": 1})):
        number, problem, out = _call_size(conv_output_size, args, kwargs)
        text = _args_text(*args, kwargs.get("stride"), kwargs.get("padding"))
        expected = conv_output_size_solution(*args, **kwargs)
        if problem is not None:
            line = f"{text} {problem}."
            if "TypeError" in problem:
                line += (" Write the signature as given, conv_output_size(size, kernel_size, stride=1, padding=0): "
                         "stride and padding have these names and the defaults 1 and 0.")
            print_verdict("Not quite:", [line])
            return
        if number is None or number[0] != expected:
            shown = f"{number[0]:g}" if number is not None else ("None" if out is None else f"a {type(out).__name__}")
            print_verdict("Not quite:", [
                f"{text} returned {shown}, expected {expected}. Check the defaults, stride=1 and padding=0, and "
                f"the order of the parameters: (size, kernel_size, stride=1, padding=0)."])
            return
    print("Correct! A kernel of size k fits at floor((size + 2·padding − k) / stride) + 1 positions: "
          "28 → 24 for a 5×5 kernel, 32 → 32 with a 3×3 kernel and padding 1 ('same'), 8 → 4 with stride 2 "
          "and padding 1, and the result is an int, ready for np.zeros((H_out, W_out)).")


# ============================================================================ 2. im2col
def _im2col_cases():
    rng = np.random.default_rng(808)
    # not square (H != W, H_out != W_out), 2 images, 2 channels, a 3x3 kernel: every wrong order gives other numbers
    a = (rng.standard_normal((2, 2, 5, 6)), 3)  # cols (2, 18, 12): H_out 3, W_out 4
    b = (rng.standard_normal((3, 3, 4, 4)), 2)  # cols (3, 12, 9): another kernel size, 3 channels
    return [a, b]


def _six(x, k):
    """The reference patches as (N, C, k, k, H_out, W_out)."""
    N, C, H, W = x.shape
    return im2col_solution(x, k).reshape(N, C, k, k, H - k + 1, W - k + 1)


def _im2col_variants(x, k):
    N, C, H, W = x.shape
    ho, wo = H - k + 1, W - k + 1
    six = _six(x, k)
    shape = (N, C * k * k, ho * wo)

    def flat(a):
        return np.ascontiguousarray(a).reshape(shape)

    return [
        (lambda: flat(six.transpose(0, 1, 2, 3, 5, 4)),
         "your patches (the columns) are in column-major order: you went down the output positions first, "
         "l = w·H_out + h. PyTorch's unfold numbers them row-major, like reading text: along the first row of "
         "positions, then the next row, l = h·W_out + w (loop over h outside, w inside)."),
        (lambda: flat(six.transpose(0, 1, 3, 2, 5, 4)),
         "you swapped the roles of height and width, as if you had unfolded the transposed image "
         "x.transpose(0, 1, 3, 2): the positions AND each patch are transposed. Go along W inside "
         "(l = h·W_out + w) and flatten each patch row by row, x[n, :, h:h+k, w:w+k].reshape(-1)."),
        (lambda: flat(six.transpose(0, 1, 3, 2, 4, 5)),
         "inside a column the kernel column j varies slower than the kernel row i: you flattened each patch "
         "column by column (like patch.T.reshape(-1)). PyTorch's order is channel c, then kernel row i, then "
         "kernel column j: row (c·k + i)·k + j, which is what x[n, :, h:h+k, w:w+k].reshape(-1) gives."),
        (lambda: flat(six.transpose(0, 2, 3, 1, 4, 5)),
         "inside a column the channel varies fastest, row (i·k + j)·C + c, as for a channels-last (H, W, C) patch. "
         "PyTorch puts the channel outermost: the k·k pixels of channel 0 first, then those of channel 1, ...: "
         "row (c·k + i)·k + j, which is what x[n, :, h:h+k, w:w+k].reshape(-1) gives."),
        (lambda: flat(six.transpose(0, 3, 2, 1, 4, 5)),
         "inside a column the channel varies fastest and the kernel column slower than the kernel row. PyTorch's "
         "order is channel c (outermost), then kernel row i, then kernel column j: row (c·k + i)·k + j, what "
         "x[n, :, h:h+k, w:w+k].reshape(-1) gives."),
        (lambda: flat(six[:, :, ::-1, ::-1]),
         "each patch is flipped, its kernel rows and columns reversed: that is a convolution in the mathematical "
         "sense. The 'convolution' of deep learning (PyTorch's Conv2d and unfold) is a cross-correlation: nothing "
         "is flipped, row (c·k + i)·k + j of a column holds x[n, c, h + i, w + j]."),
        (lambda: flat(six[:, ::-1, ::-1, ::-1]),
         "each column is reversed, channels included (the last channel's bottom-right pixel comes first), as if "
         "the kernel were flipped: that would be a convolution in the mathematical sense. PyTorch's Conv2d and "
         "unfold compute a cross-correlation: row (c·k + i)·k + j holds x[n, c, h + i, w + j]."),
        (lambda: flat(six[:, :, :, :, ::-1, ::-1]),
         "your columns run through the positions backwards (the bottom-right patch first). l = h·W_out + w: "
         "the top-left patch is column 0."),
    ]


def _im2col_shape_hint(y, x, k) -> str:
    """Why ``y`` has the wrong shape, for x (N, C, H, W)."""
    N, C, H, W = x.shape
    ho, wo = H - k + 1, W - k + 1
    ckk, L = C * k * k, ho * wo
    ref = im2col_solution(x, k)
    want = f"(N, C·k·k, L) = {shape_text((N, ckk, L))}, with L = H_out·W_out = {ho}·{wo} positions"
    got = shape_text(y.shape)
    if y.shape == (N, L, ckk):
        extra = "" if close_and_finite(y, ref.transpose(0, 2, 1)) else " (and even transposed back, the values differ)"
        return (f"cols has shape {got} = (N, L, C·k·k): one ROW per patch, the transposed layout{extra}. "
                f"The conv's matrix product W2d @ cols[n] needs one COLUMN per patch: {want}. Swap the last two "
                f"axes, cols.transpose(0, 2, 1).")
    if y.shape == (ckk, L):
        first = " (the columns of the first image only)" if close_and_finite(y, ref[0]) else ""
        return f"cols has shape {got} = (C·k·k, L): the batch axis is missing{first}. Unfold every image: {want}."
    if y.shape == (ckk, N * L):
        return (f"cols has shape {got} = (C·k·k, N·L): you put the patches of all images side by side in one "
                f"matrix. Keep the batch axis in front: {want}.")
    if y.shape == (N * L, ckk):
        return (f"cols has shape {got} = (N·L, C·k·k): one row per patch of all images. Keep the batch axis in "
                f"front and one column per patch: {want}.")
    if y.shape in ((N, C, k, k, ho, wo), (N, C, k, k, L), (N, ckk, ho, wo), (N, C, k * k, L)):
        return (f"cols has shape {got}: the right pieces, not yet flattened. Reshape to {want} "
                f"(cols.reshape(N, C * k * k, H_out * W_out)).")
    if y.ndim == 3 and y.shape[:2] == (N, ckk) and y.shape[2] in ((ho - 1) * (wo - 1), (ho + 1) * (wo + 1), H * W):
        return (f"cols has {y.shape[2]} columns instead of L = {L}: a {k}×{k} kernel fits at H − k + 1 = {ho} "
                f"rows and W − k + 1 = {wo} columns of positions (range(H - k + 1)). Expected {want}.")
    if y.ndim == 3 and y.shape[0] == N and y.shape[2] == L and y.shape[1] == k * k:
        return (f"cols has {k * k} rows instead of C·k·k = {ckk}: a patch holds its k·k pixels in EVERY channel. "
                f"Expected {want}.")
    return f"cols should have shape {want}; yours has shape {got}."


def _im2col_values_hint(y, x, k) -> str:
    """A hint for cols of the right shape and wrong values that match no known mistake."""
    N, C, H, W = x.shape
    ho, wo = H - k + 1, W - k + 1
    ref = im2col_solution(x, k)
    with quietly():
        if np.allclose(np.sort(y, axis=1), np.sort(ref, axis=1)):
            return ("every column holds the pixels of the right patch, but in another order. Row (c·k + i)·k + j "
                    "of column l must be x[n, c, h + i, w + j]: channel outermost, then kernel row, then kernel "
                    "column, as x[n, :, h:h+k, w:w+k].reshape(-1) gives.")
        same_set = all(
            all(np.isclose(y[n][:, [l]], ref[n]).all(axis=0).any() for l in range(ref.shape[2])) for n in range(N))
        if same_set:
            return ("every column is one of the right patches, but the columns are in the wrong order. Column "
                    "l = h·W_out + w holds the patch whose top-left corner is x[n, :, h, w] (row-major: h outer, "
                    "w inner).")
        bad = np.argwhere(~np.isclose(y, ref).all(axis=1))
    n, l = (int(v) for v in bad[0]) if len(bad) else (0, 0)
    h, w = divmod(l, wo)
    return (f"the values are wrong; for example column {l} of image {n} (position h = {h}, w = {w}, since "
            f"l = h·W_out + w with W_out = {wo}) should be x[{n}, :, {h}:{h + k}, {w}:{w + k}].reshape(-1).")


def _course_unfold():
    """course_lib's unfold (PyTorch's F.unfold) if it can be imported now, else None: a cross-check only."""
    try:
        from course_lib.nn import functional as F
        if callable(getattr(F, "unfold", None)):
            return F.unfold
    except Exception:  # being written, or broken: the checker does not depend on it
        pass
    try:
        from course_lib.nn.im2col import unfold
        return unfold
    except Exception:
        return None


def _agrees_with_course_unfold(y, x, k) -> bool:
    unfold = _course_unfold()
    if unfold is None:
        return False
    try:
        with quietly():
            return close_and_finite(y, np.asarray(unfold(x.copy(), k), dtype=np.float64))
    except Exception:
        return False


@checker
def check_im2col(im2col) -> None:
    """Check ``im2col(x, kernel_size) -> cols (N, C*k*k, L)`` against PyTorch's F.unfold order."""
    problems: list[str] = []
    first = None  # the first case's (cols, x, k), for the cross-check with course_lib's unfold
    for x, k in _im2col_cases():
        where = f"For x of shape {shape_text(x.shape)} and kernel_size={k}:"
        try:
            out, modified = call_on_copies(im2col, x, k)
        except Raised as exc:
            print_verdict("Not quite:", problems + [f"{where} your function raised {exc.short()}."])
            return
        if modified and not problems:  # said once, even if several cases show it
            problems.append(_modified_text(modified, ["x"]))
        y = _as_array(out)
        if y is None or y.ndim == 0:
            title, line = _not_an_array(out)
            print_verdict(title, problems + [f"{where} {line}"])
            return
        want = im2col_solution(x, k)
        if y.shape != want.shape:
            print_verdict("Not quite:", problems + [f"{where} {_im2col_shape_hint(y, x, k)}"])
            return
        if not close_and_finite(y, want):
            hint = first_match(y, _im2col_variants(x, k)) or _im2col_values_hint(y, x, k)
            print_verdict("Not quite:", problems + [f"{where} {hint}"])
            return
        first = first or (y, x, k)
    if problems:
        print_verdict("Not quite:", problems)
        return
    same = (" It gives exactly what course_lib's unfold gives (PyTorch's F.unfold)."
            if _agrees_with_course_unfold(*first) else "")
    print("Correct! cols[n, (c·k + i)·k + j, h·W_out + w] = x[n, c, h + i, w + j]: one column per patch, "
          "positions row-major, each patch flattened channel by channel and row by row, nothing flipped "
          f"(a cross-correlation, as Conv2d computes).{same}")


# ============================================================================ 3. conv_backward_dw
def _dw_cases():
    rng = np.random.default_rng(909)
    # square first: C_out = C·k·k = L = 4, so a wrongly transposed operand gives wrong numbers, not a shape error
    square = (rng.standard_normal((3, 4, 4)), rng.standard_normal((3, 4, 4)))  # cols (N, Ckk, L), grad (N, Co, L)
    rect = (rng.standard_normal((2, 8, 6)), rng.standard_normal((2, 3, 6)))  # C=2, k=2: Ckk 8, C_out 3, L 6
    return [square, rect]


_DW_RIGHT = "dW2d = sum over n of grad_out[n] @ cols[n].T, shapes (C_out, L) @ (L, C·k·k) = (C_out, C·k·k)"
_DW_NO_MEAN = ("grad_out already carries the 1/N of a mean loss (the loss's backward puts it there), so dividing "
               "again makes the gradient N times too small.")


def _dw_variants(cols, g):
    n = cols.shape[0]
    co, ckk = g.shape[1], cols.shape[1]
    want = conv_backward_dw_solution(cols, g)

    def total(product):
        return sum(product(g[i], cols[i]) for i in range(n))

    return [
        (lambda: want.T,
         f"dW2d is transposed: you computed cols[n] @ grad_out[n].T, shape (C·k·k, C_out). The gradient has the "
         f"shape of the weight W2d, (C_out, C·k·k): {_DW_RIGHT}."),
        (lambda: want / n,
         f"you averaged over the batch (divided by N = {n}). Sum: {_DW_RIGHT}. " + _DW_NO_MEAN),
        (lambda: want.T / n,
         f"dW2d is transposed and averaged over the batch. {_DW_RIGHT}; don't divide by N: " + _DW_NO_MEAN),
        (lambda: want / (n * cols.shape[2]),
         f"you divided by N·L, the number of images times positions. Sum, don't average: {_DW_RIGHT}."),
        (lambda: g[0] @ cols[0].T,
         f"you used only the first image, grad_out[0] @ cols[0].T. The same kernel is used on every image of the "
         f"batch, so its gradient adds up all of them: {_DW_RIGHT}."),
        (lambda: g[-1] @ cols[-1].T,
         "you kept only the last image: in your loop dW2d = ... overwrites the previous images' contributions. "
         f"Add them up (dW2d += ..., starting from zeros): {_DW_RIGHT}."),
        (lambda: g.sum(axis=0) @ cols.sum(axis=0).T,
         "you summed grad_out and cols over the batch first and multiplied the sums. The sum of products is not "
         f"the product of sums (that mixes image 0's gradient with image 1's patches): {_DW_RIGHT} "
         "(np.einsum('nol,nkl->ok', grad_out, cols) does it in one call)."),
        (lambda: g.reshape(co, -1) @ cols.reshape(ckk, -1).T,
         "you reshaped grad_out (N, C_out, L) straight to (C_out, N·L) (and cols likewise). A reshape keeps the "
         "memory order, so this mixes images and channels. Move the batch axis next to L first, "
         "grad_out.transpose(1, 0, 2).reshape(C_out, -1), or loop over the images: " + _DW_RIGHT + "."),
        (lambda: total(lambda a, c: a @ c) if _all_square(g, cols, "g@c") else None,
         f"you multiplied grad_out[n] @ cols[n] without transposing cols[n]: {_DW_RIGHT}. dW2d[o, r] = "
         "sum over n and positions l of grad_out[n, o, l] · cols[n, r, l]: the positions l are summed, so "
         "they must meet in the product."),
        (lambda: total(lambda a, c: a.T @ c) if _all_square(g, cols, "gT@c") else None,
         f"you multiplied grad_out[n].T @ cols[n]: you transposed the wrong operand. {_DW_RIGHT}."),
        (lambda: total(lambda a, c: a.T @ c.T) if _all_square(g, cols, "gT@cT") else None,
         f"you multiplied grad_out[n].T @ cols[n].T: transpose cols only. {_DW_RIGHT}."),
        (lambda: total(lambda a, c: c @ a) if _all_square(g, cols, "c@g") else None,
         f"you multiplied cols[n] @ grad_out[n]: the operands are in the wrong order and untransposed. {_DW_RIGHT}."),
        (lambda: total(lambda a, c: c.T @ a) if _all_square(g, cols, "cT@g") else None,
         f"you multiplied cols[n].T @ grad_out[n]: you transposed the wrong operand. {_DW_RIGHT}."),
        (lambda: total(lambda a, c: c.T @ a.T) if _all_square(g, cols, "cT@gT") else None,
         f"you multiplied cols[n].T @ grad_out[n].T: that is the transpose of grad_out[n] @ cols[n], with no "
         f"transpose where one belongs. {_DW_RIGHT}."),
    ]


def _all_square(g, cols, which) -> bool:
    """Can the mixed-up product ``which`` give an array shaped like dW2d? Only when C_out = C·k·k = L."""
    return g.shape[1] == g.shape[2] == cols.shape[1]


def _dw_loss(cols, g):
    """loss(W2d) = sum of grad_out · (W2d @ cols): its gradient is dW2d (the forward is linear in W2d)."""
    return lambda W2d: float(np.einsum("ok,nkl,nol->", W2d, cols, g))


def _numerical_dw(cols, g) -> np.ndarray:
    W2d = np.zeros((g.shape[1], cols.shape[1]))
    return numerical_gradient(_dw_loss(cols, g), W2d, eps=1e-3)


@checker
def check_conv_backward_dw(conv_backward_dw) -> None:
    """Check ``conv_backward_dw(cols, grad_out) -> dW2d (C_out, C*k*k)``, also against finite differences."""
    problems: list[str] = []
    for case, (cols, g) in enumerate(_dw_cases()):
        n, ckk, L = cols.shape
        co = g.shape[1]
        where = (f"For cols of shape {shape_text(cols.shape)} = (N, C·k·k, L) and grad_out of shape "
                 f"{shape_text(g.shape)} = (N, C_out, L):")
        try:
            out, modified = call_on_copies(conv_backward_dw, cols, g)
        except Raised as exc:
            hint = ""
            if _is_shape_error(exc):
                hint = (f" A shape mismatch in a product: write the shapes down, grad_out[n] (C_out, L) and "
                        f"cols[n] (C·k·k, L); the positions L must meet: {_DW_RIGHT}.")
                if case > 0:
                    hint = (" It worked when C_out, C·k·k and L were all equal (4), so one operand is transposed "
                            "the wrong way:" + hint.removeprefix(" A shape mismatch in a product:"))
            print_verdict("Not quite:", problems + [f"{where} your function raised {exc.short()}.{hint}"])
            return
        if modified and not problems:  # said once, even if several cases show it
            problems.append(_modified_text(modified, ["cols", "grad_out"]))
        y = _as_array(out)
        if y is None or y.ndim == 0:
            title, line = _not_an_array(out)
            print_verdict(title, problems + [f"{where} {line}"])
            return
        want = conv_backward_dw_solution(cols, g)
        if y.shape != want.shape:
            if y.shape == (ckk, co):
                hint = (f"dW2d has shape {shape_text(y.shape)} = (C·k·k, C_out): it is transposed (you computed "
                        f"cols[n] @ grad_out[n].T). The gradient has the weight's shape, (C_out, C·k·k) = "
                        f"{shape_text(want.shape)}: {_DW_RIGHT}.")
            elif y.shape == (n, co, ckk):
                hint = (f"dW2d has shape {shape_text(y.shape)} = (N, C_out, C·k·k): one gradient per image, not "
                        f"summed over the batch. The same weight serves every image, so add their contributions "
                        f"up (.sum(axis=0)): {_DW_RIGHT}.")
            elif y.shape == (n, ckk, co):
                hint = (f"dW2d has shape {shape_text(y.shape)} = (N, C·k·k, C_out): per image and transposed. "
                        f"{_DW_RIGHT}, summed over the batch, shape {shape_text(want.shape)}.")
            else:
                hint = (f"dW2d should have the weight's shape (C_out, C·k·k) = {shape_text(want.shape)}; yours has "
                        f"shape {shape_text(y.shape)}. Use {_DW_RIGHT}.")
            print_verdict("Not quite:", problems + [f"{where} {hint}"])
            return
        if not close_and_finite(y, want):
            hint = first_match(y, _dw_variants(cols, g))
            if hint is None:
                num = _numerical_dw(cols, g)
                with quietly():
                    o, r = np.unravel_index(int(np.nanargmax(np.abs(np.nan_to_num(y - num, nan=np.inf)))), y.shape)
                hint = (f"the values are wrong. Finite differences of loss = Σ grad_out · (W2d @ cols) give "
                        f"dW2d[{o}, {r}] = {num[o, r]:.4f}, yours is {y[o, r]:.4f}. Use {_DW_RIGHT}.")
            print_verdict("Not quite:", problems + [f"{where} {hint}"])
            return
        # the backstop: the answer must also agree with finite differences of the forward W2d @ cols
        if not close(y, _numerical_dw(cols, g), rtol=1e-6, atol=1e-6):  # pragma: no cover - the reference is right
            print_verdict("Not quite:", problems + [f"{where} your dW2d does not match finite differences."])
            return
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! dW2d = Σ_n grad_out[n] @ cols[n].T, shape (C_out, C·k·k): the kernel is shared by every "
          "position and every image, so their contributions add up (the positions inside the product, the images "
          "in the sum). It agrees with finite differences; dW2d.reshape(C_out, C, k, k) is the weight's gradient.")


# ============================================================================ 4. maxpool_backward
def _pool_cases():
    rng = np.random.default_rng(1010)
    # A: no ties (distinct values, 0.1 apart), square grid of windows (H_out = W_out = 3), k = 2; some windows
    # entirely negative. Without ties the max is differentiable: finite differences check the answer too.
    xa = (rng.permutation(2 * 2 * 6 * 6) - 60.0) * 0.1
    xa = xa.reshape(2, 2, 6, 6)
    xa[1, 1, :2] -= 20.0  # the top row of windows of one channel: all negative (values stay distinct)
    ga = rng.standard_normal((2, 2, 3, 3))
    # B: not square (H_out 2, W_out 3), k = 3, no ties
    xb = ((rng.permutation(1 * 2 * 6 * 9) - 50.0) * 0.1).reshape(1, 2, 6, 9)
    gb = rng.standard_normal((1, 2, 2, 3))
    # C: ties (small integers), k = 2; channel 0 by hand: a tie of 2, of 3 and of 4 pixels
    xc = rng.integers(0, 3, size=(1, 2, 4, 4)).astype(float)
    xc[0, 0] = [[1, 1, 0, 2],
                [0, 0, 2, 2],
                [3, 1, 5, 5],
                [3, 3, 5, 5]]
    gc = rng.standard_normal((1, 2, 2, 2))
    return [("no ties", xa, ga, 2), ("not square", xb, gb, 3), ("ties", xc, gc, 2)]


def _windows(x, k):
    """x (N, C, H, W) as windows (N, C, H_out, W_out, k*k), entry i*k + j of window (h, w) = x[.., h*k + i, w*k + j]."""
    N, C, H, W = x.shape
    return x.reshape(N, C, H // k, k, W // k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // k, W // k, k * k)


def _from_windows(dwin, k):
    N, C, ho, wo, _ = dwin.shape
    return dwin.reshape(N, C, ho, wo, k, k).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, ho * k, wo * k)


def _route(x, g, k, idx):
    """dx with g[n, c, h, w] at entry idx[n, c, h, w] of window (h, w)."""
    dwin = np.zeros(_windows(x, k).shape)
    np.put_along_axis(dwin, idx[..., None], g[..., None], axis=-1)
    return _from_windows(dwin, k)


_POOL_RULE = ("each grad_out[n, c, h, w] goes to ONE pixel, the maximum of its window x[n, c, h*k:(h+1)*k, "
              "w*k:(w+1)*k], and the other k·k − 1 pixels of the window get 0")
_TIES_RULE = ("At a tie PyTorch's MaxPool2d (and course_lib's) sends the gradient to one pixel only, the FIRST "
              "maximum in row-major order (top row first, left to right): exactly what np.argmax returns")


def _pool_variants(x, g, k):
    win = _windows(x, k)
    kk = k * k
    mx = win.max(axis=-1, keepdims=True)
    ties = win == mx
    variants = [
        (lambda: _from_windows(np.broadcast_to(g[..., None], win.shape), k),
         f"you copied each gradient to every pixel of its window. Only the maximum influenced the output: "
         f"{_POOL_RULE}."),
        (lambda: _from_windows(np.broadcast_to(g[..., None] / kk, win.shape), k),
         f"you spread each gradient evenly over its window (grad_out / k²): that is the backward of AVERAGE "
         f"pooling. For max pooling {_POOL_RULE}."),
        (lambda: _route(x, g, k, win.argmin(axis=-1)),
         f"you sent the gradient to the window's minimum (argmin). {_POOL_RULE[0].upper() + _POOL_RULE[1:]} "
         "(argmax)."),
        (lambda: _route(x, g, k, (win.argmax(axis=-1) % k) * k + win.argmax(axis=-1) // k),
         "the gradient lands on the right window but at the transposed pixel: you turned the arg-max index p of the "
         "flattened k×k window into (row, column) the wrong way round. Row i = p // k, column j = p % k "
         "(divmod(p, k), or np.unravel_index(p, (k, k)))."),
        (lambda: _from_windows(ties * 1.0, k),
         "you marked the maximum with 1 but did not multiply by grad_out: dx at the arg-max is grad_out[n, c, h, w] "
         "(the chain rule: dLoss/dx = dLoss/dy · dy/dx, and dy/dx = 1 there)."),
        (lambda: _from_windows(ties * win, k),
         "you put x's value at the maximum instead of the gradient: dx at the arg-max is grad_out[n, c, h, w]."),
    ]
    ho, wo = win.shape[2:4]
    N, C, H, W = x.shape
    # windows taken as k*k consecutive values of each flattened channel: x.reshape(N, C, H_out, W_out, k, k)
    blocks = x.reshape(N, C, ho, wo, kk)
    bidx = blocks.argmax(axis=-1)
    blocks_d = np.zeros(blocks.shape)
    np.put_along_axis(blocks_d, bidx[..., None], g[..., None], axis=-1)
    variants.append((lambda: blocks_d.reshape(N, C, H, W),
                     "your windows are not k×k squares of the image: x.reshape(N, C, H_out, W_out, k, k) cuts each "
                     "channel into runs of k·k consecutive values along the rows. Split both axes and bring the "
                     "two within-window axes together: x.reshape(N, C, H_out, k, W_out, k).transpose(0, 1, 2, 4, "
                     "3, 5), or loop over the windows x[n, c, h*k:(h+1)*k, w*k:(w+1)*k]."))
    if ho == wo:
        variants.append((lambda: _route(x, g.transpose(0, 1, 3, 2), k, win.argmax(axis=-1)),
                         "the gradients land in the wrong windows: grad_out[n, c, h, w] went to window (w, h), the "
                         "transposed one. Window (h, w) is x[n, c, h*k:(h+1)*k, w*k:(w+1)*k], rows from h, "
                         "columns from w."))
    # the tie mistakes (only distinguishable on an input with ties)
    variants += [
        (lambda: _from_windows(ties * g[..., None], k),
         f"your dx gives the gradient to EVERY pixel that equals its window's maximum (a mask x == max): where "
         f"the maximum is tied, the window passes on its gradient several times. {_TIES_RULE}."),
        (lambda: _from_windows(ties * g[..., None] / ties.sum(axis=-1, keepdims=True), k),
         f"you shared the gradient among the tied maxima of a window. {_TIES_RULE}."),
        (lambda: _route(x, g, k, kk - 1 - win[..., ::-1].argmax(axis=-1)),
         f"at a tie you send the gradient to the LAST maximum of the window (a loop with >= instead of >?). "
         f"{_TIES_RULE}."),
    ]
    return variants


def _pool_values_hint(y, x, g, k) -> str:
    """Where the first wrong window is and what it should hold."""
    want = maxpool_backward_solution(x, g, k)
    win_y, win_want, win_x = _windows(y, k), _windows(want, k), _windows(x, k)
    with quietly():
        bad = ~np.isclose(win_y, win_want).all(axis=-1)  # (N, C, H_out, W_out)
    negative = win_x.max(axis=-1) < 0
    if bad.any() and np.all(negative[bad]):
        return ("the windows whose values are all negative are wrong (and only those): did you start the running "
                "maximum at 0? Start from the window's first pixel (or -inf), or use np.argmax.")
    if not bad.any():  # pragma: no cover - only a non-finite dx gets here without a wrong window
        return f"dx holds NaN or infinite values. {_POOL_RULE[0].upper() + _POOL_RULE[1:]}."
    n, c, h, w = (int(v) for v in np.argwhere(bad)[0])
    p = int(win_x[n, c, h, w].argmax())
    i, j = divmod(p, k)
    r, s = h * k + i, w * k + j
    block = y[n, c, h * k:(h + 1) * k, w * k:(w + 1) * k]
    shown = np.array2string(block, precision=4, separator=", ", max_line_width=10**6).replace("\n", "")
    rule = _POOL_RULE[0].upper() + _POOL_RULE[1:]
    return (f"the values are wrong. For example the window x[{n}, {c}, {h * k}:{(h + 1) * k}, {w * k}:{(w + 1) * k}] "
            f"has its maximum at x[{n}, {c}, {r}, {s}] = {x[n, c, r, s]:g}, so dx[{n}, {c}, {r}, {s}] should be "
            f"grad_out[{n}, {c}, {h}, {w}] = {g[n, c, h, w]:.4f} and the rest of that window 0; your dx there is "
            f"{shown}. {rule}.")


def _numerical_dx(x, g, k) -> np.ndarray:
    """Finite differences of loss(x) = Σ grad_out · maxpool(x), for an x without ties."""
    def loss(xx):
        return float((_windows(xx, k).max(axis=-1) * g).sum())
    return numerical_gradient(loss, x.copy(), eps=1e-6)


@checker
def check_maxpool_backward(maxpool_backward) -> None:
    """Check ``maxpool_backward(x, grad_out, k) -> dx`` for k×k max pooling with stride k (ties: the first maximum)."""
    problems: list[str] = []
    for name, x, g, k in _pool_cases():
        where = f"For x of shape {shape_text(x.shape)}, k={k}" + (" (x has ties)" if name == "ties" else "") + ":"
        try:
            out, modified = call_on_copies(maxpool_backward, x, g, k)
        except Raised as exc:
            print_verdict("Not quite:", problems + [f"{where} your function raised {exc.short()}."])
            return
        if modified and not problems:  # said once, even if several cases show it
            problems.append(_modified_text(modified, ["x", "grad_out"]))
        y = _as_array(out)
        if y is None or y.ndim == 0:
            title, line = _not_an_array(out)
            print_verdict(title, problems + [f"{where} {line}"])
            return
        want = maxpool_backward_solution(x, g, k)
        if y.shape != want.shape:
            if y.shape == g.shape:
                hint = (f"dx has shape {shape_text(y.shape)}, the shape of grad_out (the pooled output). dx is the "
                        f"gradient with respect to x, so it has x's shape {shape_text(x.shape)}: {_POOL_RULE}.")
            elif y.size == want.size:
                hint = (f"dx has shape {shape_text(y.shape)}: the right number of values, but dx must have x's "
                        f"shape {shape_text(x.shape)}; put the windows back where they came from.")
            else:
                hint = f"dx should have x's shape {shape_text(x.shape)}; yours has shape {shape_text(y.shape)}."
            print_verdict("Not quite:", problems + [f"{where} {hint}"])
            return
        if not close_and_finite(y, want):
            hint = first_match(y, _pool_variants(x, g, k)) or _pool_values_hint(y, x, g, k)
            if name == "ties" and "tie" not in hint.lower():
                hint = f"{hint} (this input has ties: {_TIES_RULE}.)"
            print_verdict("Not quite:", problems + [f"{where} {hint}"])
            return
        if name != "ties" and not close(y, _numerical_dx(x, g, k), rtol=1e-5, atol=1e-6):  # pragma: no cover
            print_verdict("Not quite:", problems + [f"{where} your dx does not match finite differences."])
            return
    if problems:
        print_verdict("Not quite:", problems)
        return
    print("Correct! Each gradient goes to the arg-max of its k×k window and nowhere else (it agrees with finite "
          "differences), and at a tie only the first maximum in row-major order gets it, as in PyTorch.")
