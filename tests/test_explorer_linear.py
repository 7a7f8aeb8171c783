"""Notebook 01's explorer: the pure functions behind it, then the widget driven headless.

Redraw speed is measured in benchmarks/, never asserted here.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_lib.datasets import make_line
from course_lib.explorers.linear import (
    LinearFitExplorer,
    draw_loss_surface,
    least_squares_line,
    linear_fit_state,
    loss_surface,
    mse_and_gradient,
)
from course_lib.gradcheck import numerical_gradient


@pytest.fixture(scope="module")
def data():
    return make_line(n_samples=40, slope=1.5, intercept=0.5, noise=0.4, seed=3)


# ---------------------------------------------------------------------------- pure functions
@pytest.mark.parametrize("w, b", [(0.0, 0.0), (-1.0, 2.0), (3.7, -2.2), (1.5, 0.5)])
def test_gradient_matches_finite_differences(data, w, b):
    x, y = data
    loss, gw, gb = mse_and_gradient(w, b, x, y)
    params = np.array([w, b])
    num = numerical_gradient(lambda p: mse_and_gradient(p[0], p[1], x, y)[0], params)
    np.testing.assert_allclose([gw, gb], num, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(loss, np.mean((w * x + b - y) ** 2), rtol=1e-12)


def test_optimum_is_least_squares(data):
    x, y = data
    w_opt, b_opt = least_squares_line(x, y)
    A = np.hstack([x, np.ones_like(x)])  # (N, 2)
    ref, *_ = np.linalg.lstsq(A, y.ravel(), rcond=None)
    np.testing.assert_allclose([w_opt, b_opt], ref, rtol=1e-10)
    np.testing.assert_allclose([w_opt, b_opt], np.polyfit(x.ravel(), y.ravel(), 1), rtol=1e-8)
    # the gradient vanishes there, and every other point is worse
    loss_opt, gw, gb = mse_and_gradient(w_opt, b_opt, x, y)
    assert abs(gw) < 1e-10 and abs(gb) < 1e-10
    for dw, db in [(0.01, 0.0), (0.0, -0.01), (-0.2, 0.3)]:
        assert mse_and_gradient(w_opt + dw, b_opt + db, x, y)[0] > loss_opt


def test_state_fields(data):
    x, y = data
    s = linear_fit_state(0.5, -1.0, x, y)
    w_opt, b_opt = least_squares_line(x, y)
    assert (s.w, s.b) == (0.5, -1.0)
    np.testing.assert_allclose(s.residuals, 0.5 * x.ravel() - 1.0 - y.ravel())
    np.testing.assert_allclose((s.w_opt, s.b_opt), (w_opt, b_opt))
    np.testing.assert_allclose(s.distance, np.hypot(0.5 - w_opt, -1.0 - b_opt))
    assert s.loss > s.loss_opt > 0
    # a precomputed optimum gives the same state
    s2 = linear_fit_state(0.5, -1.0, x, y, optimum=(w_opt, b_opt))
    assert (s2.loss, s2.grad_w, s2.grad_b, s2.distance) == (s.loss, s.grad_w, s.grad_b, s.distance)


def test_accepts_flat_or_column_data(data):
    x, y = data
    a = linear_fit_state(1.0, 0.0, x, y)
    b = linear_fit_state(1.0, 0.0, x.ravel(), y.ravel())
    assert a.loss == b.loss and a.grad_w == b.grad_w


def test_bad_data_is_rejected():
    with pytest.raises(ValueError, match="same number of points"):
        mse_and_gradient(1.0, 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one point"):
        least_squares_line(np.zeros(0), np.zeros(0))


def test_loss_surface_matches_pointwise_loss(data):
    x, y = data
    surf = loss_surface(x, y, (-1.0, 4.0), (-3.0, 2.0), n=21)
    assert surf.loss.shape == (21, 21)
    for i, j in [(0, 0), (5, 17), (20, 3), (10, 10)]:
        expected = mse_and_gradient(surf.w_grid[j], surf.b_grid[i], x, y)[0]
        np.testing.assert_allclose(surf.loss[i, j], expected, rtol=1e-12)
    assert np.all(surf.loss >= linear_fit_state(0, 0, x, y).loss_opt - 1e-12)


def test_loss_surface_drawing_has_equal_scales_and_an_optional_colorbar(data):
    from course_lib.plotting import figure_to_png, new_figure

    x, y = data
    surf = loss_surface(x, y, (-1.0, 4.0), (-3.0, 2.0), n=21)
    state = linear_fit_state(0.0, 0.0, x, y)
    for colorbar, n_axes in [(False, 1), (True, 2)]:
        fig = new_figure(6, 5, 80)
        ax = fig.subplots()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            artists = draw_loss_surface(ax, surf, state, colorbar=colorbar)
            assert figure_to_png(fig).startswith(b"\x89PNG")
        assert set(artists) == {"point", "arrow"}
        assert ax.get_aspect() == 1.0  # one unit of w = one unit of b: the gradient looks perpendicular
        assert "log-spaced" in ax.get_title()
        assert len(fig.axes) == n_axes


# ---------------------------------------------------------------------------- the widget, headless
def test_explorer_builds_without_output(capsys):
    ex = LinearFitExplorer()
    assert capsys.readouterr().out == ""
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    assert "MSE" in ex.status.value and "gradient" in ex.status.value and "distance" in ex.status.value
    assert set(ex.controls) == {"w", "b"}


@pytest.mark.parametrize("name", ["w", "b"])
def test_each_slider_to_both_ends(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = LinearFitExplorer()
        slider = ex.controls[name]
        for end in (slider.min, slider.max):
            before = (ex.state, ex.status.value, bytes(ex.image.value), ex.redraw_count)
            slider.value = end
            assert ex.redraw_count == before[3] + 1
            assert getattr(ex.state, name) == pytest.approx(end)
            assert ex.state.loss != before[0].loss
            assert ex.status.value != before[1]
            assert bytes(ex.image.value) != before[2]
            assert bytes(ex.image.value).startswith(b"\x89PNG")
            assert np.isfinite([ex.state.loss, ex.state.grad_w, ex.state.grad_b, ex.state.distance]).all()


def test_all_four_corners_and_back_to_the_start():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = LinearFitExplorer()
        first_png = bytes(ex.image.value)
        w, b = ex.controls["w"], ex.controls["b"]
        seen = set()
        for wv in (w.min, w.max):
            for bv in (b.min, b.max):
                w.value, b.value = wv, bv
                seen.add(bytes(ex.image.value))
        assert len(seen) == 4
        w.value, b.value = 0.0, 0.0
        assert bytes(ex.image.value) == first_png  # the picture is a function of (w, b) only


def test_status_near_the_optimum():
    x, y = make_line()
    w_opt, b_opt = least_squares_line(x, y)
    ex = LinearFitExplorer(x, y, w=round(w_opt, 2), b=round(b_opt, 2))
    assert ex.state.distance < 0.05
    assert "bottom of the bowl" in ex.status.value
    assert abs(ex.state.grad_w) < 0.1 and abs(ex.state.grad_b) < 0.1


def test_explorer_with_custom_data(data):
    x, y = data
    ex = LinearFitExplorer(x, y, w_range=(-2.0, 4.0), b_range=(-2.0, 3.0), lr=0.05)
    ex.controls["b"].value = 2.5
    np.testing.assert_allclose((ex.state.w_opt, ex.state.b_opt), least_squares_line(x, y))
    with pytest.raises(ValueError, match="both x and y"):
        LinearFitExplorer(x=x)
