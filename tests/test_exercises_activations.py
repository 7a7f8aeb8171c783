"""Checkers of notebook 02: accept the solution, name each mistake, never raise."""
from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.exercises.activations import check_kaiming_std, check_relu_backward, check_sigmoid_backward
from course_lib.nn import functional as F
from course_lib.nn import init


def _verdict(capsys, checker, fn) -> str:
    checker(fn)
    out = capsys.readouterr().out
    assert out.count("\n") == 1, f"one line expected, got {out!r}"
    return out.strip()


# --------------------------------------------------------------------------- sigmoid_backward
def sigmoid_solution(s, grad_out):
    return grad_out * s * (1 - s)


def sigmoid_stub(s, grad_out):
    raise NotImplementedError


SIGMOID_MISTAKES = {
    "forgot grad_out": (lambda s, g: s * (1 - s), "local derivative alone"),
    "sigmoid applied to s again": (lambda s, g: g * F.sigmoid(s) * (1 - F.sigmoid(s)), "applied the sigmoid to s again"),
    "sigmoid again and no grad_out": (lambda s, g: F.sigmoid(s) * (1 - F.sigmoid(s)), "applied the sigmoid to s again and forgot grad_out"),
    "1 - s^2": (lambda s, g: g * (1 - s**2), "1 - s², the derivative of tanh"),
    "1 - s^2 without grad_out": (lambda s, g: 1 - s**2, "forgot grad_out"),
    "times s only": (lambda s, g: g * s, "multiplied grad_out by s only"),
}


def test_sigmoid_accepts_the_solution(capsys):
    out = _verdict(capsys, check_sigmoid_backward, sigmoid_solution)
    assert out.startswith("Correct!")


def test_sigmoid_stub_is_not_done_yet(capsys):
    assert _verdict(capsys, check_sigmoid_backward, sigmoid_stub).startswith("Not done yet:")


@pytest.mark.parametrize("mistake", list(SIGMOID_MISTAKES))
def test_sigmoid_names_each_mistake(capsys, mistake):
    fn, hint = SIGMOID_MISTAKES[mistake]
    out = _verdict(capsys, check_sigmoid_backward, fn)
    assert out.startswith("Not quite:")
    assert hint in out


def test_sigmoid_in_place_update_is_named(capsys):
    def in_place(s, grad_out):
        grad_out *= s * (1 - s)
        return grad_out

    out = _verdict(capsys, check_sigmoid_backward, in_place)
    assert out.startswith("Not quite:") and "in place" in out


def test_sigmoid_reference_is_the_course_lib_layer():
    # the checker's reference equals the formula on the same inputs
    from course_lib.exercises.activations import _sigmoid_case
    from course_lib.nn import Sigmoid

    x, g = _sigmoid_case()
    layer = Sigmoid()
    s = layer(x)
    np.testing.assert_allclose(layer.backward(g), sigmoid_solution(s, g))


# --------------------------------------------------------------------------- relu_backward
def relu_solution(x, grad_out):
    return grad_out * (x > 0)


RELU_MISTAKES = {
    "leaks where x < 0": (lambda x, g: g.copy(), "also flows where z < 0"),
    "mask without grad_out": (lambda x, g: (x > 0).astype(float), "returned the mask"),
    "mask from grad_out": (lambda x, g: np.maximum(g, 0), "sign of grad_out"),
    "inverted mask": (lambda x, g: g * (x < 0), "inverted"),
    "times relu(x)": (lambda x, g: g * np.maximum(x, 0), "multiplied grad_out by relu(z)"),
    "times x": (lambda x, g: g * x, "multiplied grad_out by z"),
}


@pytest.mark.parametrize(
    "fn",
    [
        relu_solution,
        lambda x, g: g * (np.maximum(x, 0) > 0),  # mask from the output: fine
        lambda x, g: np.where(x >= 0, g, 0.0),  # x >= 0: fine (no exact zeros in the test)
        lambda x, g: (g * (x > 0)).tolist(),  # a list is converted
    ],
    ids=["input mask", "output mask", "x >= 0", "list"],
)
def test_relu_accepts_correct_variants(capsys, fn):
    assert _verdict(capsys, check_relu_backward, fn).startswith("Correct!")


@pytest.mark.parametrize("mistake", list(RELU_MISTAKES))
def test_relu_names_each_mistake(capsys, mistake):
    fn, hint = RELU_MISTAKES[mistake]
    out = _verdict(capsys, check_relu_backward, fn)
    assert out.startswith("Not quite:")
    assert hint in out


def test_relu_in_place_update_is_named(capsys):
    def in_place(x, grad_out):
        grad_out[x <= 0] = 0
        return grad_out

    out = _verdict(capsys, check_relu_backward, in_place)
    assert "in place" in out


def test_relu_stub_is_not_done_yet(capsys):
    def stub(x, grad_out):
        raise NotImplementedError

    assert _verdict(capsys, check_relu_backward, stub).startswith("Not done yet:")


# --------------------------------------------------------------------------- kaiming_std
def kaiming_solution(fan_in, fan_out):
    return math.sqrt(2 / fan_in)


KAIMING_MISTAKES = {
    "missing factor 2": (lambda i, o: math.sqrt(1 / i), "factor 2 is missing"),
    "xavier": (lambda i, o: math.sqrt(2 / (i + o)), "Xavier/Glorot"),
    "fan_out": (lambda i, o: math.sqrt(2 / o), "you used fan_out"),
    "variance": (lambda i, o: 2 / i, "returned the variance"),
    "sqrt(2)/fan_in": (lambda i, o: math.sqrt(2) / i, "square root must cover fan_in"),
    "1/fan_in": (lambda i, o: 1 / i, "a variance, and without ReLU's factor 2"),
}


def test_kaiming_accepts_the_solution(capsys):
    assert _verdict(capsys, check_kaiming_std, kaiming_solution).startswith("Correct!")
    assert _verdict(capsys, check_kaiming_std, lambda i, o: np.sqrt(2.0 / i)).startswith("Correct!")


@pytest.mark.parametrize("mistake", list(KAIMING_MISTAKES))
def test_kaiming_names_each_mistake(capsys, mistake):
    fn, hint = KAIMING_MISTAKES[mistake]
    out = _verdict(capsys, check_kaiming_std, fn)
    assert out.startswith("Not quite:")
    assert hint in out


def test_kaiming_solution_matches_course_lib_init():
    # the std that kaiming_normal_ draws with, measured on a big weight
    w = np.empty((400, 784))
    init.kaiming_normal_(w, nonlinearity="relu", generator=np.random.default_rng(0))
    assert w.std() == pytest.approx(kaiming_solution(784, 400), rel=0.01)


def test_kaiming_stub_is_not_done_yet(capsys):
    def stub(fan_in, fan_out):
        raise NotImplementedError

    assert _verdict(capsys, check_kaiming_std, stub).startswith("Not done yet:")


# --------------------------------------------------------------------------- never raises
BROKEN = [
    (lambda *a: None, "returned None"),
    (lambda *a: 1 / 0, "raised ZeroDivisionError"),
    (lambda *a: "text", "should return"),
    (lambda *a: np.full((2, 2), np.nan), None),
    (lambda *a: np.full((4, 5), np.inf), None),
    (lambda a: a, "raised TypeError"),  # wrong number of parameters
    ("not a function", "pass the function itself"),
]


@pytest.mark.parametrize("checker", [check_sigmoid_backward, check_relu_backward, check_kaiming_std])
@pytest.mark.parametrize("fn, hint", BROKEN)
def test_checkers_never_raise(capsys, checker, fn, hint):
    checker(fn)
    out = capsys.readouterr().out
    assert out.startswith("Not quite:"), out
    if hint is not None:
        assert hint in out


def test_checkers_are_deterministic(capsys):
    for checker, fn in [(check_sigmoid_backward, lambda s, g: g * s), (check_relu_backward, lambda x, g: g * 2),
                        (check_kaiming_std, lambda i, o: 0.5)]:
        checker(fn)
        first = capsys.readouterr().out
        checker(fn)
        assert capsys.readouterr().out == first
