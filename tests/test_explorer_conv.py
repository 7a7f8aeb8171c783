"""Notebook 08's convolution explorer: the pure functions behind it, then the widget driven headless.

Redraw speed is measured in benchmarks/, never asserted here.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_lib.explorers.conv import (
    CUSTOM,
    FILTER_PRESETS,
    WEIGHTS,
    ConvExplorer,
    conv_state,
    correlate2d,
    default_images,
    draw_conv_examples,
    draw_feature_maps,
    feature_maps,
    feature_mosaic,
    formula_text,
    network_view,
    output_size,
    receptive_field,
)
from course_lib.plotting import figure_to_png, new_figure


def small_cnn(size: int = 8, dtype=np.float64, seed: int = 0):
    """An (untrained) CNN for ``size`` x ``size`` images: conv, ReLU, pool, conv, ReLU, Flatten, Linear."""
    from course_lib.nn import Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential

    g = np.random.default_rng(seed)
    half = size // 2
    return Sequential(Conv2d(1, 4, 3, padding=1, dtype=dtype, generator=g), ReLU(), MaxPool2d(2),
                      Conv2d(4, 6, 3, padding=1, dtype=dtype, generator=g), ReLU(), Dropout(0.5),
                      Flatten(), Linear(6 * half * half, 10, dtype=dtype, generator=g))


def naive_correlate(x, k, stride=1, padding=0):
    """Four loops, straight from the definition."""
    xp = np.pad(np.asarray(x, dtype=float), padding)
    kh, kw = k.shape
    ho = (xp.shape[0] - kh) // stride + 1
    wo = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((ho, wo))
    for r in range(ho):
        for c in range(wo):
            for i in range(kh):
                for j in range(kw):
                    out[r, c] += k[i, j] * xp[r * stride + i, c * stride + j]
    return out


# ---------------------------------------------------------------------------- presets
def test_presets_are_3x3_and_read_only():
    assert set(FILTER_PRESETS) == {"vertical edge", "horizontal edge", "blur", "sharpen", "identity"}
    for name, k in FILTER_PRESETS.items():
        assert k.shape == (3, 3) and k.dtype == np.float64, name
        assert np.all((k >= -2) & (k <= 2)), f"{name}: every weight fits the custom sliders"
        with pytest.raises(ValueError):
            k[0, 0] = 5.0
    np.testing.assert_allclose(FILTER_PRESETS["blur"].sum(), 1.0)
    np.testing.assert_allclose(FILTER_PRESETS["sharpen"].sum(), 1.0)
    assert FILTER_PRESETS["vertical edge"].sum() == 0 and FILTER_PRESETS["horizontal edge"].sum() == 0
    np.testing.assert_array_equal(FILTER_PRESETS["horizontal edge"], FILTER_PRESETS["vertical edge"].T)


def test_vertical_edge_responds_at_a_vertical_step_only():
    img = np.zeros((6, 8))
    img[:, 4:] = 1.0  # dark left, bright right: one vertical edge between columns 3 and 4
    fm = correlate2d(img, FILTER_PRESETS["vertical edge"])  # (4, 6); output column c sees columns c..c+2
    np.testing.assert_array_equal(fm[:, [0, 1, 4, 5]], 0.0)  # flat regions: 0
    np.testing.assert_array_equal(fm[:, [2, 3]], 4.0)  # the step: (1 + 2 + 1) * 1, the strongest response
    assert np.all(correlate2d(img, FILTER_PRESETS["horizontal edge"]) == 0.0)  # no horizontal edge
    # a falling step gives the negative response (cross-correlation: the kernel is not flipped)
    np.testing.assert_array_equal(correlate2d(1.0 - img, FILTER_PRESETS["vertical edge"])[:, 2], -4.0)


def test_blur_and_identity_on_a_constant_image():
    img = np.full((5, 5), 3.0)
    np.testing.assert_allclose(correlate2d(img, FILTER_PRESETS["blur"]), 3.0)
    np.testing.assert_allclose(correlate2d(img, FILTER_PRESETS["sharpen"]), 3.0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 6))
    np.testing.assert_array_equal(correlate2d(x, FILTER_PRESETS["identity"], padding=1), x)
    # with zero padding the blur darkens the border: a corner keeps 9/16 of its value
    np.testing.assert_allclose(correlate2d(img, FILTER_PRESETS["blur"], padding=1)[0, 0], 3.0 * 9 / 16)


# ---------------------------------------------------------------------------- correlate2d
@pytest.mark.parametrize("shape, kshape, stride, padding",
                         [((8, 8), (3, 3), 1, 0), ((8, 8), (3, 3), 1, 1), ((12, 12), (3, 3), 2, 2),
                          ((12, 9), (3, 3), 3, 1), ((7, 10), (2, 4), 2, 0), ((5, 5), (5, 5), 1, 0)])
def test_correlate2d_matches_four_loops(shape, kshape, stride, padding):
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal(shape), rng.standard_normal(kshape)
    np.testing.assert_allclose(correlate2d(x, k, stride, padding), naive_correlate(x, k, stride, padding),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 2), (3, 1), (3, 0)])
def test_correlate2d_is_course_lib_conv2d(stride, padding):
    from course_lib.nn import Conv2d

    rng = np.random.default_rng(2)
    x, k = rng.standard_normal((11, 9)), rng.standard_normal((3, 3))
    conv = Conv2d(1, 1, 3, stride=stride, padding=padding, bias=False)
    conv.weight.data[...] = k  # weight (out=1, in=1, 3, 3)
    expected = conv(x[None, None])[0, 0]  # input (N=1, C=1, H, W)
    np.testing.assert_allclose(correlate2d(x, k, stride, padding), expected, rtol=1e-12, atol=1e-12)


def test_correlate2d_rejects_bad_input():
    with pytest.raises(ValueError, match="image \\(H, W\\)"):
        correlate2d(np.zeros((1, 5, 5)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="stride"):
        correlate2d(np.zeros((5, 5)), np.ones((3, 3)), stride=0)
    with pytest.raises(ValueError, match="< 1"):
        correlate2d(np.zeros((2, 5)), np.ones((3, 3)))


# ---------------------------------------------------------------------------- sizes and windows
@pytest.mark.parametrize("size, kernel, stride, padding, expected", [
    (8, 3, 1, 0, 6), (8, 3, 1, 1, 8), (8, 3, 2, 0, 3), (8, 3, 2, 1, 4), (8, 3, 3, 2, 4),
    (12, 3, 1, 2, 14), (12, 3, 3, 0, 4), (28, 5, 1, 2, 28), (28, 2, 2, 0, 14), (3, 3, 1, 0, 1),
    (3, 3, 3, 0, 1), (1, 3, 1, 1, 1), (7, 3, 2, 0, 3),
])
def test_output_size_table(size, kernel, stride, padding, expected):
    assert output_size(size, kernel, stride, padding) == expected
    assert correlate2d(np.zeros((size, size)), np.zeros((kernel, kernel)), stride, padding).shape == (expected,) * 2


def test_output_size_below_one_names_the_formula():
    with pytest.raises(ValueError, match=r"⌊\(2 \+ 2·0 − 3\)/1⌋ \+ 1 = 0 < 1"):
        output_size(2, 3)
    with pytest.raises(ValueError, match="larger than the padded input"):
        output_size(1, 5, 2, 1)
    for bad in (dict(size=0), dict(kernel=0), dict(stride=0), dict(padding=-1), dict(stride=1.5)):
        args = dict(size=8, kernel=3, stride=1, padding=0) | bad
        with pytest.raises(ValueError, match=next(iter(bad))):
            output_size(**args)


@pytest.mark.parametrize("row, col, kernel, stride, padding, expected", [
    (0, 0, 3, 1, 0, (0, 3, 0, 3)),
    (2, 5, 3, 1, 0, (2, 5, 5, 8)),
    (0, 0, 3, 1, 1, (-1, 2, -1, 2)),     # the corner output reaches into the padding
    (1, 2, 3, 2, 1, (1, 4, 3, 6)),
    (0, 3, 3, 3, 2, (-2, 1, 7, 10)),
    (1, 1, (2, 4), (2, 1), (0, 1), (2, 4, 0, 4)),
])
def test_receptive_field(row, col, kernel, stride, padding, expected):
    assert receptive_field(row, col, kernel, stride, padding) == expected


def test_receptive_field_is_what_the_output_sums():
    rng = np.random.default_rng(3)
    x, k = rng.standard_normal((9, 9)), rng.standard_normal((3, 3))
    fm = correlate2d(x, k, stride=2, padding=1)
    xp = np.pad(x, 1)
    for r, c in [(0, 0), (2, 3), (4, 4)]:
        r0, r1, c0, c1 = receptive_field(r, c, 3, 2, 1)
        np.testing.assert_allclose(fm[r, c], np.sum(k * xp[r0 + 1:r1 + 1, c0 + 1:c1 + 1]))  # +1: padded coords


def test_formula_text():
    assert formula_text(8, 8, 3, 1, 1) == "H_out = ⌊(8 + 2·1 − 3)/1⌋ + 1 = 8, W_out = 8"
    assert formula_text(12, 12, 3, 2, 0) == "H_out = ⌊(12 + 2·0 − 3)/2⌋ + 1 = 5, W_out = 5"
    assert formula_text(8, 12, 3, 3, 2) == "H_out = ⌊(8 + 2·2 − 3)/3⌋ + 1 = 4, W_out = ⌊(12 + 2·2 − 3)/3⌋ + 1 = 5"
    assert "no output" in formula_text(2, 2, 3, 1, 0)


def test_conv_state_clamps_the_position():
    st = conv_state(np.ones((8, 8)), FILTER_PRESETS["blur"], stride=3, padding=0, out_row=9, out_col=-2)
    assert st.feature_map.shape == (2, 2)
    assert (st.out_row, st.out_col) == (1, 0)
    assert st.window == (3, 6, 0, 3) and not st.touches_padding
    np.testing.assert_allclose(st.value, 1.0)
    assert conv_state(np.ones((8, 8)), FILTER_PRESETS["blur"], padding=2).touches_padding


# ---------------------------------------------------------------------------- the network view
def test_feature_maps_walks_up_to_flatten():
    model = small_cnn(8)
    img = np.random.default_rng(4).random((1, 8, 8))
    maps = feature_maps(model, img)
    assert [name for name, _ in maps] == ["0 Conv2d", "1 ReLU", "2 MaxPool2d", "3 Conv2d", "4 ReLU", "5 Dropout"]
    assert [m.shape for _, m in maps] == [(4, 8, 8)] * 2 + [(4, 4, 4)] + [(6, 4, 4)] * 3
    np.testing.assert_allclose(maps[0][1], model[0](img[None])[0])
    np.testing.assert_array_equal(maps[1][1], np.maximum(maps[0][1], 0.0))
    np.testing.assert_array_equal(maps[5][1], maps[4][1])  # eval mode: Dropout passes everything
    assert model.training and model[5].training  # the modes are given back
    np.testing.assert_array_equal(feature_maps(model, img[0])[2][1], maps[2][1])  # (H, W) works too


def test_feature_maps_in_float32_and_wrong_sizes():
    model = small_cnn(8, dtype=np.float32)
    maps = feature_maps(model, np.ones((8, 8)))  # float64 image, float32 model: converted
    assert maps[0][1].dtype == np.float64
    view = network_view(model, np.ones((8, 8)))
    assert view.error is None and view.probs.shape == (10,) and 0 <= view.predicted < 10
    np.testing.assert_allclose(view.probs.sum(), 1.0, rtol=1e-6)
    wrong = network_view(model, np.ones((12, 12)))  # Flatten gives 6*6*6 features, Linear wants 6*4*4
    assert wrong.error and "Linear" in wrong.error and wrong.maps == []
    assert network_view(model, np.ones((1, 1))).error  # smaller than a padded kernel? pooling fails


def test_feature_mosaic_layout():
    maps = [("a", np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4)), ("b", -np.ones((3, 2, 2)))]
    mosaic, scales, (th, tw, gap) = feature_mosaic(maps)
    assert (th, tw, gap) == (4, 4, 1)
    assert mosaic.shape == (2 * 4 + 1, 3 * 4 + 2)
    np.testing.assert_allclose(scales, [31.0, 1.0])
    np.testing.assert_allclose(mosaic[:4, :4], maps[0][1][0] / 31.0)
    assert np.isnan(mosaic[:4, 10:]).all()  # layer a has no third channel
    np.testing.assert_array_equal(mosaic[5:, :4], -1.0)  # 2 x 2 shown as 4 x 4
    assert np.nanmax(np.abs(mosaic)) == 1.0


# ---------------------------------------------------------------------------- static figures
def test_static_figures_draw_silently():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = new_figure(12, 3.2)
        axes = draw_conv_examples(fig, default_images()["square"])
        assert len(axes) == 5 and axes[1].get_title().startswith("vertical edge")
        assert figure_to_png(fig).startswith(b"\x89PNG")
        fig = new_figure(6, 3)
        draw_conv_examples(fig.subplots(1, 3), np.eye(6), presets=("blur", "identity"))
        with pytest.raises(ValueError, match="unknown preset"):
            draw_conv_examples(new_figure(), np.eye(6), presets=("emboss",))
        fig = new_figure(10, 4.4)
        view = draw_feature_maps(fig, small_cnn(8), np.eye(8), image_name="eye")
        assert len(view.maps) == 6
        assert figure_to_png(fig).startswith(b"\x89PNG")
        with pytest.raises(ValueError, match="cannot|expects"):
            draw_feature_maps(new_figure(), small_cnn(8), np.eye(12))


# ---------------------------------------------------------------------------- the widget, headless
def _snapshot(ex):
    return ex.state, ex.status.value, bytes(ex.image.value), ex.redraw_count


def test_explorer_builds_with_defaults_without_output(capsys):
    ex = ConvExplorer()
    assert capsys.readouterr().out == ""
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    assert set(ex.controls) == {"image", "filter", "stride", "padding", "row", "col", *WEIGHTS}
    assert list(ex.controls["filter"].options)[-1] == CUSTOM
    assert "H_out = ⌊(12 + 2·0 − 3)/1⌋ + 1 = 10" in ex.status.value
    assert ex.state.value == 4.0  # the left edge of the square under the vertical-edge filter
    np.testing.assert_array_equal(ex.state.kernel, FILTER_PRESETS["vertical edge"])


SLIDERS = ["stride", "padding", "row", "col", *WEIGHTS]


@pytest.mark.parametrize("name", SLIDERS)
def test_each_slider_to_both_ends(name):
    ex = ConvExplorer()
    slider = ex.controls[name]
    for end in (slider.min, slider.max):
        if slider.value == end:
            continue
        before = _snapshot(ex)
        slider.value = end
        assert ex.redraw_count == before[3] + 1  # one redraw, however many controls followed
        assert ex.status.value != before[1]
        assert bytes(ex.image.value) != before[2]
        assert bytes(ex.image.value).startswith(b"\x89PNG")
        assert np.isfinite(ex.state.feature_map).all()
    if name in WEIGHTS:
        i, j = int(name[1]), int(name[2])
        assert ex.controls["filter"].value == CUSTOM and ex.state.filter_name == CUSTOM
        assert ex.state.kernel[i, j] == slider.max


@pytest.mark.parametrize("name", ["image", "filter"])
def test_each_dropdown_option(name):
    ex = ConvExplorer()
    dd = ex.controls[name]
    seen = set()
    for option in [*dd.options[1:], dd.options[0]]:
        before = _snapshot(ex)
        dd.value = option
        assert ex.redraw_count == before[3] + 1
        assert ex.status.value != before[1]
        seen.add(bytes(ex.image.value))
    assert len(seen) == len(dd.options)


def test_presets_set_the_weight_sliders_and_custom_keeps_them():
    ex = ConvExplorer()
    for name, k in FILTER_PRESETS.items():
        ex.controls["filter"].value = name
        np.testing.assert_array_equal([ex.controls[w].value for w in WEIGHTS], k.ravel())
        np.testing.assert_array_equal(ex.state.kernel, k)
    ex.controls["filter"].value = CUSTOM  # starts from the last preset
    np.testing.assert_array_equal(ex.state.kernel, FILTER_PRESETS["identity"])
    ex.controls["w11"].value = -1.5
    assert ex.state.kernel[1, 1] == -1.5 and "custom" in ex.status.value
    ex.controls["filter"].value = "blur"  # a preset replaces the custom weights
    assert ex.controls["w11"].value == FILTER_PRESETS["blur"][1, 1]


def test_position_sliders_follow_the_output_size():
    ex = ConvExplorer()
    row, col = ex.controls["row"], ex.controls["col"]
    assert (row.max, col.max) == (9, 9)  # 12 x 12, K 3, S 1, P 0: 10 x 10
    row.value, col.value = 9, 9
    ex.controls["stride"].value = 3  # 4 x 4: the position is clamped with the maximum
    assert (row.max, row.value, col.value) == (3, 3, 3)
    assert (ex.state.out_row, ex.state.out_col) == (3, 3)
    ex.controls["padding"].value = 2  # ⌊(12 + 4 − 3)/3⌋ + 1 = 5
    assert row.max == 4 and ex.state.feature_map.shape == (5, 5)
    ex.controls["stride"].value = 1
    assert row.max == 13 and ex.state.feature_map.shape == (14, 14)
    row.value = 0
    assert ex.state.touches_padding and "zero padding" in ex.status.value


def test_every_corner_of_stride_padding_and_position_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = ConvExplorer()
        for img in ex.controls["image"].options:
            ex.controls["image"].value = img
            for s in (1, 3):
                for p in (0, 2):
                    ex.controls["stride"].value, ex.controls["padding"].value = s, p
                    for r in (0, ex.controls["row"].max):
                        for c in (0, ex.controls["col"].max):
                            ex.controls["row"].value, ex.controls["col"].value = r, c
                            st = ex.state
                            assert st.feature_map.shape == (output_size(12, 3, s, p),) * 2
                            assert st.value == st.feature_map[r, c]
                            assert f"output ({r}, {c})" in ex.status.value


def test_the_picture_is_a_function_of_the_controls():
    ex = ConvExplorer()
    first = bytes(ex.image.value)
    ex.controls["padding"].value = 2
    ex.controls["filter"].value = "blur"
    ex.controls["filter"].value = "vertical edge"
    ex.controls["padding"].value = 0
    assert bytes(ex.image.value) == first


def test_explorer_with_images_and_a_model():
    images = {"eight": np.random.default_rng(5).random((8, 8)), **default_images(12)}
    ex = ConvExplorer(images, model=small_cnn(8))
    assert "view" in ex.controls
    view = ex.controls["view"]
    before = _snapshot(ex)
    view.value = "network"
    assert ex.state.network is not None and ex.state.network.error is None
    assert "predicted class" in ex.status.value and ex.status.value != before[1]
    assert bytes(ex.image.value) != before[2]
    assert ex.controls["stride"].disabled and not ex.controls["image"].disabled
    ex.controls["image"].value = "square"  # 12 x 12: the network cannot take it
    assert ex.state.network.error and "cannot take" in ex.status.value
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    ex.controls["image"].value = "eight"
    assert "predicted class" in ex.status.value
    view.value = "conv"
    assert not ex.controls["stride"].disabled and "H_out" in ex.status.value


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="non-empty dict"):
        ConvExplorer(images={})
    with pytest.raises(ValueError, match="H, W >= 3"):
        ConvExplorer(images={"tiny": np.ones((2, 2))})
    with pytest.raises(ValueError, match="no image"):
        ConvExplorer(image="zebra")
    with pytest.raises(ValueError, match="filter must be one of"):
        ConvExplorer(filter="emboss")
    with pytest.raises(ValueError, match="NaN"):
        ConvExplorer(images={"bad": np.full((5, 5), np.nan)})
