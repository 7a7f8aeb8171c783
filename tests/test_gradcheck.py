"""gradcheck itself: it passes correct layers and catches (and describes) wrong backwards."""
from __future__ import annotations

import re

import numpy as np
import pytest

from course_lib import nn
from course_lib.gradcheck import GradcheckError, gradcheck, numerical_gradient

REL_ERR = r"worst relative error (\d\.\d{3}e[+-]\d+) at index \(([\d, ]+)\)"


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------------- correct layers pass
def test_every_core_layer_and_loss_passes(rng):
    x = rng.standard_normal((4, 3))
    x = np.where(np.abs(x) < 0.1, 0.5, x)  # keep away from ReLU's kink
    net = nn.Sequential(nn.Linear(3, 5, generator=rng), nn.GELU(), nn.Linear(5, 4, generator=rng),
                        nn.ReLU(), nn.Linear(4, 4, generator=rng), nn.Tanh(), nn.Sigmoid(),
                        nn.Sequential(nn.Linear(4, 2, generator=rng), nn.GELU("tanh")))
    assert gradcheck(net, x) is True
    assert gradcheck(nn.Sequential(nn.Linear(3, 4, bias=False, generator=rng)), rng.standard_normal((2, 5, 3)))
    assert gradcheck(nn.CrossEntropyLoss(), rng.standard_normal((4, 3)), np.array([0, 2, 1, 1]))
    assert gradcheck(nn.MSELoss(), rng.standard_normal((4, 3)), rng.standard_normal((4, 3)))


def test_gradcheck_leaves_inputs_and_parameters_unchanged(rng):
    layer = nn.Linear(3, 2, generator=rng)
    w = layer.weight.data.copy()
    x = rng.standard_normal((4, 3))
    x0 = x.copy()
    gradcheck(layer, x)
    np.testing.assert_array_equal(layer.weight.data, w)
    np.testing.assert_array_equal(x, x0)


def test_numerical_gradient():
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    x0 = x.copy()
    g = numerical_gradient(lambda a: np.sum(a**3), x)
    np.testing.assert_allclose(g, 3 * x0**2, rtol=1e-8)
    np.testing.assert_array_equal(x, x0)  # perturbed in place and restored exactly
    with pytest.raises(ValueError, match="numerical_gradient needs a float64 array, got float32"):
        numerical_gradient(lambda a: a.sum(), np.ones(2, dtype=np.float32))


# ---------------------------------------------------------------------- wrong backwards are caught
class TransposedDW(nn.Linear):
    def backward(self, grad_out):
        x2 = self._require_cache(self._x)
        self.weight.grad += (grad_out.T @ x2).T  # bug: dW transposed (same shape for a square layer)
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data


class BiasMean(nn.Linear):
    def backward(self, grad_out):
        x2 = self._require_cache(self._x)
        self.weight.grad += grad_out.T @ x2
        self.bias.grad += grad_out.mean(axis=0)  # bug: mean instead of the sum over the batch
        return grad_out @ self.weight.data


class BiasNotSummed(nn.Linear):
    def backward(self, grad_out):
        x2 = self._require_cache(self._x)
        self.weight.grad += grad_out.T @ x2
        self.bias.grad = self.bias.grad + grad_out  # bug: (N, out) instead of summing over N
        return grad_out @ self.weight.data


class ScaledInputGrad(nn.Linear):
    def backward(self, grad_out):
        return 2.0 * super().backward(grad_out)  # bug: a stray factor 2


class TransposedInputGrad(nn.Linear):
    def backward(self, grad_out):
        return super().backward(grad_out).T  # bug: wrong shape


class SigmoidWrongDerivative(nn.Sigmoid):
    def _derivative(self, s):
        return s  # bug: forgot the (1 - s)


def _true_grads(layer: nn.Linear, x):
    """Correct dW and dx from a plain Linear with the same weights."""
    ref = nn.Linear(layer.in_features, layer.out_features)
    ref.weight.data[...] = layer.weight.data
    ref.bias.data[...] = layer.bias.data
    upstream = np.random.default_rng(0).standard_normal((x.shape[0], layer.out_features))  # gradcheck's seed=0
    ref(x)
    return ref.backward(upstream), ref.weight.grad.copy()


def test_transposed_dw_names_weight_worst_error_and_index(rng):
    layer = TransposedDW(3, 3, generator=rng)
    x = rng.standard_normal((5, 3))
    with pytest.raises(GradcheckError) as info:
        gradcheck(layer, x)
    msg = str(info.value)
    assert "parameter 'weight'" in msg
    assert "of TransposedDW(in_features=3, out_features=3, bias=True)" in msg  # the layer is named too
    worst, index = re.search(REL_ERR, msg).groups()
    # recompute the worst entry independently
    _, dw = _true_grads(layer, x)
    rel = np.abs(dw.T - dw) / np.maximum(np.abs(dw.T), np.abs(dw))
    assert tuple(int(k) for k in index.split(",")) == np.unravel_index(np.nanargmax(rel), rel.shape)
    assert float(worst) == pytest.approx(np.nanmax(rel), rel=1e-3)
    assert re.search(r"\d+ of 9 entries outside atol=1e-06, rtol=0\.0001", msg)


def test_bias_mean_instead_of_sum_names_bias(rng):
    with pytest.raises(GradcheckError, match=r"gradcheck failed for parameter 'bias' of .*" + REL_ERR):
        gradcheck(BiasMean(3, 2, generator=rng), rng.standard_normal((4, 3)))


def test_bias_not_summed_reports_the_shape(rng):
    with pytest.raises(GradcheckError, match=r"returned a gradient of shape \(4, 2\) for parameter 'bias', "
                                             r"expected \(2,\)"):
        gradcheck(BiasNotSummed(3, 2, generator=rng), rng.standard_normal((4, 3)))


def test_scaled_input_gradient(rng):
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 0 of .*worst relative error 5\.000e-01"):
        gradcheck(ScaledInputGrad(3, 2, generator=rng), rng.standard_normal((4, 3)))


def test_wrong_input_gradient_of_an_activation(rng):
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 0 of SigmoidWrongDerivative\(\): "
                                             + REL_ERR + r" \(analytic [-\d.e]+, numerical [-\d.e]+\)"):
        gradcheck(SigmoidWrongDerivative(), rng.standard_normal((3, 4)))


def test_wrong_input_gradient_shape(rng):
    with pytest.raises(GradcheckError, match=r"returned a gradient of shape \(3, 5\) for input 0, expected \(5, 3\)"):
        gradcheck(TransposedInputGrad(3, 2, generator=rng), rng.standard_normal((5, 3)))


def test_small_but_real_error_is_caught(rng):
    class Off(nn.Tanh):
        def _derivative(self, t):
            return (1.0 - t * t) * (1 + 1e-3)  # 0.1 % too large

    # relative to the larger of the two: 1e-3 / (1 + 1e-3)
    with pytest.raises(GradcheckError, match=r"input 0 .*worst relative error 9\.990e-04"):
        gradcheck(Off(), rng.standard_normal(6))


def test_missing_and_non_finite_gradients(rng):
    class NoGrad(nn.Tanh):
        def backward(self, grad_out):
            return None

    class NanGrad(nn.Tanh):
        def backward(self, grad_out):
            g = super().backward(grad_out)
            g[1] = np.nan
            return g

    with pytest.raises(GradcheckError, match=r"NoGrad\(\) returned no gradient for input 0"):
        gradcheck(NoGrad(), rng.standard_normal(3))
    with pytest.raises(GradcheckError, match=r"NanGrad\(\) gave a non-finite gradient for input 0 at index \(1,\)"):
        gradcheck(NanGrad(), rng.standard_normal(3))


class Add(nn.Module):
    """Two differentiable inputs: backward returns a tuple, one gradient per input."""

    def __init__(self, wrong_second: bool = False):
        super().__init__()
        self.wrong_second = wrong_second
        self._shape = None

    def forward(self, a, b):
        self._shape = a.shape
        return a * 2.0 + b

    def backward(self, grad_out):
        return 2.0 * grad_out, (3.0 if self.wrong_second else 1.0) * grad_out


def test_tuple_of_input_gradients(rng):
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    assert gradcheck(Add(), a, b)
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 1 of Add\(\)"):
        gradcheck(Add(wrong_second=True), a, b)


class Nested(nn.Module):
    """forward(x, (u, v)) -> (y, (a, b)), nested like an LSTM's forward(x, (h0, c0)) -> (out, (h_n, c_n))."""

    def __init__(self, wrong: str = ""):
        super().__init__()
        self.wrong = wrong
        self._cache = None

    def forward(self, x, uv):
        u, v = uv
        self._cache = (x, u, v)
        return x * u, (u + v**2, np.tanh(x) * v)

    def backward(self, grad_out):
        gy, (ga, gb) = grad_out
        x, u, v = self._cache
        dx = gy * u + gb * (1.0 - np.tanh(x) ** 2) * v
        du = gy * x + (0.0 if self.wrong == "du" else ga)  # bug "du": forgets the path through a
        dv = (2.0 * v * ga if self.wrong != "dv" else v * ga) + gb * np.tanh(x)  # bug "dv": d(v^2) = v
        return dx, (du, dv)


def test_nested_tuple_inputs_and_outputs(rng):
    x, u, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    copies = [a.copy() for a in (x, u, v)]
    assert gradcheck(Nested(), x, (u, v))
    for a, b in zip((x, u, v), copies):
        np.testing.assert_array_equal(a, b)  # the nested arrays are copied, not perturbed
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 1\[0\] of Nested\(\)"):
        gradcheck(Nested(wrong="du"), x, (u, v))
    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 1\[1\] of Nested\(\)"):
        gradcheck(Nested(wrong="dv"), x, (u, v))

    def as_function(x, uv):  # the same as a plain function returning (output, backward)
        m = Nested(wrong="dv")
        return m.forward(x, uv), m.backward

    with pytest.raises(GradcheckError, match=r"input 1\[1\] of function as_function"):
        gradcheck(as_function, x, (u, v))


def test_nested_input_must_be_float64(rng):
    x = rng.standard_normal(3)
    with pytest.raises(ValueError, match=r"gradcheck needs float64 inputs; input 1\[1\] is float32"):
        gradcheck(Nested(), x, (x.copy(), x.astype(np.float32)))


# ---------------------------------------------------------------------- misuse
def test_gradcheck_needs_float64(rng):
    with pytest.raises(ValueError, match="gradcheck needs float64 inputs; input 0 is float32"):
        gradcheck(nn.Tanh(), rng.standard_normal(3).astype(np.float32))
    layer = nn.Linear(3, 2, dtype=np.float32)
    with pytest.raises(ValueError, match=r"gradcheck needs float64 parameters; 'weight' of Linear\(.*\) is float32 "
                                         r"\(call \.double\(\)\)"):
        gradcheck(layer, rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match="needs a floating-point input array or a module with parameters"):
        gradcheck(nn.Tanh(), np.arange(3))


def test_gradcheck_on_a_module_with_integer_inputs_only():
    emb = nn.Embedding(5, 3, generator=np.random.default_rng(0))
    model = nn.Sequential(emb, nn.Tanh(), nn.Linear(3, 4, generator=np.random.default_rng(1)))
    assert gradcheck(model, np.array([[0, 3, 3], [4, 1, 0]]))
    with pytest.raises(TypeError, match=r"function <lambda> must return \(output, backward\)"):
        gradcheck(lambda x: x, np.ones(2))
    with pytest.raises(TypeError, match=r"gradcheck expects a module \(forward\(\) and backward\(\)\) or a function"):
        gradcheck(42, np.ones(2))


def test_gradcheck_accepts_a_function_returning_its_backward(rng):
    def multiply(x, y):
        return x * y, lambda g: (g * y, g * x)

    assert gradcheck(multiply, rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))

    def wrong_multiply(x, y):
        return x * y, lambda g: (g * x, g * y)  # swapped

    with pytest.raises(GradcheckError, match=r"gradcheck failed for input 0 of function wrong_multiply"):
        gradcheck(wrong_multiply, rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))
