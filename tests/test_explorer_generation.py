"""Notebook 07's explorers: the pure function behind them, then the widgets driven headless.

Redraw speed is measured in benchmarks/, never asserted here.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from course_lib.explorers.generation import (
    SamplingExplorer,
    StepGenerator,
    default_language_model,
    next_token_view,
    token_label,
)
from course_lib.lm import MLPLanguageModel
from course_lib.sampling import next_token_probs


@pytest.fixture(autouse=True)
def warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


LOGITS = np.array([2.0, 0.5, 1.5, -1.0, 0.0, 3.0, -2.0, 1.0])


def png(ex) -> bytes:
    data = bytes(ex.image.value)
    assert data.startswith(b"\x89PNG")
    return data


def slider_ends(w):
    if hasattr(w, "base"):  # FloatLogSlider: min and max are exponents
        return w.base ** w.min, w.base ** w.max
    return w.min, w.max


# ---------------------------------------------------------------------------- the pure function
def test_view_matches_sampling_distribution():
    for T, k, p in [(1.0, None, None), (0.5, 3, None), (2.0, None, 0.8), (1.3, 4, 0.6)]:
        v = next_token_view(LOGITS, T, k, p, n_show=5)
        np.testing.assert_allclose(v.probs, next_token_probs(LOGITS, T, k, p))
        np.testing.assert_array_equal(v.ids, [5, 0, 2, 7, 1])           # ranking ignores T
        np.testing.assert_allclose(v.p_final, v.probs[v.ids])
        np.testing.assert_array_equal(v.kept, v.p_final > 0)
        assert v.n_kept == np.count_nonzero(v.probs) and v.vocab_size == 8
        if k is not None:
            assert v.n_kept <= k
    v = next_token_view(LOGITS, 2.0, n_show=3)
    e = np.exp(LOGITS - LOGITS.max())
    np.testing.assert_allclose(v.p_model, (e / e.sum())[[5, 0, 2]])
    e2 = np.exp(LOGITS / 2.0 - LOGITS.max() / 2.0)
    np.testing.assert_allclose(v.p_tempered, (e2 / e2.sum())[[5, 0, 2]])


def test_view_entropy_and_extremes():
    uniform = next_token_view(np.zeros(10), 1.0)
    np.testing.assert_allclose(uniform.entropy, math.log(10))
    assert len(uniform.ids) == 10                                      # n_show clipped to V
    one = next_token_view(LOGITS, 1.0, top_k=1)
    assert one.entropy == 0.0 and f"{one.entropy:.2f}" == "0.00" and one.n_kept == 1
    cold = next_token_view(LOGITS, 0.1)
    assert cold.entropy < 0.01 and cold.p_final[0] > 0.99
    hot = next_token_view(LOGITS, 5.0)
    assert hot.entropy > next_token_view(LOGITS, 1.0).entropy
    with pytest.raises(ValueError, match="temperature"):
        next_token_view(LOGITS, 0.0)
    with pytest.raises(ValueError, match=r"shape \(V,\)"):
        next_token_view(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_show"):
        next_token_view(LOGITS, n_show=0)


def test_token_label_and_default_model():
    assert token_label("\n") == "⏎" and token_label(" ") == "␣" and token_label("dog") == "dog"
    model_fn, tok, k = default_language_model()
    assert k == 1 and tok.vocab_size == 98
    p = np.exp(model_fn(np.array([tok.bos_id])))
    np.testing.assert_allclose(p.sum(), 1.0)
    assert tok.itos[int(np.argmax(p))] in ("the", "a")
    assert default_language_model() is default_language_model()       # built once


# ---------------------------------------------------------------------------- explorer (a)
def settings(state):
    v = state.view
    return (state.prompt, v.temperature, v.top_k, v.top_p, state.seed, state.continuation)


def test_sampling_explorer_builds_quietly(capsys):
    ex = SamplingExplorer()
    assert capsys.readouterr().out == ""
    png(ex)
    assert set(ex.controls) == {"prompt", "temperature", "top_k", "top_p", "seed"}
    assert "tokens can be drawn" in ex.status.value and "sample with seed 0" in ex.status.value
    assert ex.state.view.n_kept == 98 and ex.state.continuation_ids[-1] == 2


def test_sampling_each_slider_to_both_ends():
    ex = SamplingExplorer(temperature=0.8, top_k=20, top_p=0.9, seed=4)
    for name in ("temperature", "top_k", "top_p", "seed"):
        w = ex.controls[name]
        start = w.value
        for end in slider_ends(w):
            before = (ex.state, ex.status.value, png(ex), ex.redraw_count)
            w.value = end
            assert ex.redraw_count == before[3] + 1, name
            assert settings(ex.state) != settings(before[0]), name
            assert png(ex) != before[2], name
            assert ex.status.value != before[1] or name == "seed"
            assert np.all(np.isfinite(ex.state.view.probs))
            np.testing.assert_allclose(ex.state.view.probs.sum(), 1.0)
        w.value = start


def test_sampling_filters_and_temperature_do_what_they_say():
    ex = SamplingExplorer()
    c = ex.controls
    c["prompt"].value = "the dog eats"
    c["top_k"].value = 1
    assert ex.state.view.n_kept == 1 and "1 of 98" in ex.status.value
    c["top_k"].value = 98
    c["top_p"].value = 0.05
    assert ex.state.view.n_kept == 1
    c["top_p"].value = 1.0
    c["temperature"].value = 0.1
    cold = ex.state.view.entropy
    c["temperature"].value = 5.0
    assert ex.state.view.entropy > cold + 1.0


def test_sampling_every_prompt_and_determinism():
    ex = SamplingExplorer()
    seen = set()
    for _, prompt in ex.controls["prompt"].options:
        ex.controls["prompt"].value = prompt
        seen.add(png(ex))
        assert ex.state.context_ids[0] == 1 and ex.state.prompt == prompt
    assert len(seen) == len(ex.controls["prompt"].options)
    # a slider position always gives the same picture and text
    ex.controls["prompt"].value = "the"
    ex.controls["seed"].value = 3
    first = (png(ex), ex.status.value, ex.state.continuation)
    ex.controls["seed"].value = 7
    ex.controls["seed"].value = 3
    assert (png(ex), ex.status.value, ex.state.continuation) == first
    # the same from a fresh explorer, and from the pure compute() (no drawing)
    assert SamplingExplorer(seed=3).compute(**dict(ex.values())).continuation == first[2]
    texts = {ex.compute(**dict(ex.values(), seed=seed)).continuation for seed in range(10)}
    assert len(texts) > 3


def test_sampling_explorer_with_an_mlp_model():
    model_fn, tok, _ = default_language_model()
    mlp = MLPLanguageModel(tok.vocab_size, 3, 4, 8, generator=np.random.default_rng(0))  # untrained is fine
    ex = SamplingExplorer(mlp, tok, context_size=3, prompts=["the dog", ""], max_new_tokens=5)
    assert ex.state.context_ids[:3] == (1, 1, 1) and len(ex.state.continuation_ids) <= 5
    ex.controls["top_k"].value = 2
    assert ex.state.view.n_kept == 2
    with pytest.raises(ValueError, match="tokenizer and context_size"):
        SamplingExplorer(mlp)
    with pytest.raises(ValueError, match="together"):
        SamplingExplorer(tokenizer=tok)
    with pytest.raises(ValueError, match="prompts"):
        SamplingExplorer(mlp, tok, 3, prompts=[])


# ---------------------------------------------------------------------------- explorer (b)
def test_step_generator_click_by_click(capsys):
    g = StepGenerator()
    assert capsys.readouterr().out == ""
    assert g.state.generated == () and "0 tokens written" in g.status.value
    assert not g.next_button.disabled
    history = [(png(g), g.status.value)]
    for n in range(1, 4):
        g.next_button.click()
        assert len(g.state.generated) == n
        assert len(g.state.chosen_probs) == n and 0 < g.state.chosen_probs[-1] <= 1
        assert (png(g), g.status.value) not in history
        history.append((png(g), g.status.value))
    np.testing.assert_allclose(g.state.log_prob, np.sum(np.log(g.state.chosen_probs)))
    assert f"{n} tokens written" in g.status.value


def test_step_generator_finishes_and_resets():
    g = StepGenerator(max_new_tokens=6)
    start = (png(g), g.status.value)
    for _ in range(20):
        g.next_button.click()
    assert g.state.finished and g.next_button.disabled
    assert "finished" in g.status.value
    n = len(g.state.generated)
    assert n == 6 or g.state.generated[-1] == 2
    before = png(g)
    g.next_button.click()                                # a click after the end changes nothing
    assert len(g.state.generated) == n and png(g) == before
    assert g.step() is None
    g.reset_button.click()
    assert g.state.generated == () and not g.next_button.disabled
    assert (png(g), g.status.value) == start


def test_step_generator_is_deterministic_per_seed():
    def run(seed, clicks=3):
        g = StepGenerator(seed=seed)
        for _ in range(clicks):
            g.next_button.click()
        return g.text()

    first = run(0)
    assert run(0) == first
    assert run(1) != first or run(2) != first
    g = StepGenerator(seed=2)
    for _ in range(4):
        g.step()
    text = g.text()
    g.reset()
    for _ in range(4):
        g.step()
    assert g.text() == text                                # reset seeds the generator again


def test_step_generator_temperature_slider_both_ends():
    g = StepGenerator(max_new_tokens=6)
    g.next_button.click()
    w = g.controls["temperature"]
    entropies = []
    for end in slider_ends(w):
        before = (png(g), g.status.value, g.redraw_count)
        w.value = end
        assert g.redraw_count == before[2] + 1 and png(g) != before[0]
        assert len(g.state.generated) == 1                # changing T does not write a token
        entropies.append(g.state.view.entropy)
    assert entropies[0] < entropies[1]
    while not g.state.finished:                             # writing at T = 5 works too (no warning)
        g.next_button.click()
    assert len(g.state.generated) <= g.max_new_tokens


def test_step_generator_with_a_prompt_and_an_mlp():
    _, tok, _ = default_language_model()
    mlp = MLPLanguageModel(tok.vocab_size, 3, 4, 8, generator=np.random.default_rng(0))
    g = StepGenerator(mlp, tok, context_size=3, prompt="the small", max_new_tokens=3)
    assert g.state.n_prompt == 5 and g.text().startswith("<bos> the small ▸")
    for _ in range(3):
        g.next_button.click()
    assert g.state.finished and len(g.state.generated) <= 3
    with pytest.raises(ValueError, match="tokenizer and context_size"):
        StepGenerator(mlp)
