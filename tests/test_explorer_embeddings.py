"""Notebook 06: the word-vector functions (course_lib.word_vectors), then the explorer driven headless.

Redraw speed is measured in benchmarks/, never asserted here.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_lib.explorers.embeddings import (
    EmbeddingExplorer,
    embedding_space,
    leader_segments,
    neighbour_view,
    place_labels,
)
from course_lib.gradcheck import numerical_gradient
from course_lib.nn import CrossEntropyLoss
from course_lib.text import WORD_CLASSES, load_corpus, load_vocab
from course_lib.word_vectors import (
    CBOW,
    align_2d,
    cbow_examples,
    chance_cluster_quality,
    class_quality,
    cluster_quality,
    content_words,
    cosine_similarity,
    nearest_neighbour_indices,
    nearest_neighbours,
    pca,
    random_cluster_quality,
    train_cbow,
    train_word_vectors,
    word_label,
)


@pytest.fixture(scope="module")
def runs():
    """One training run per language with the notebook's settings (a few seconds in all)."""
    return {lang: train_word_vectors(lang) for lang in ("en", "ja")}


@pytest.fixture(scope="module")
def explorer(runs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return EmbeddingExplorer(runs)


# ---------------------------------------------------------------------------- cosine similarity and neighbours
def test_cosine_similarity_known_values():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [1.0, 1.0]])
    s = cosine_similarity(a)
    assert s.shape == (4, 4)
    np.testing.assert_allclose(np.diag(s), 1.0)
    np.testing.assert_allclose(s[0, 1], 0.0, atol=1e-15)       # orthogonal
    np.testing.assert_allclose(s[0, 2], -1.0)                  # opposite, whatever the lengths
    np.testing.assert_allclose(s[0, 3], 1 / np.sqrt(2))        # 45 degrees
    np.testing.assert_allclose(s, s.T)
    b = np.array([[5.0, 0.0], [0.0, -1.0]])
    np.testing.assert_allclose(cosine_similarity(a, b), cosine_similarity(a, b * 7.0))  # lengths do not matter
    assert cosine_similarity(a, b).shape == (4, 2)


def test_cosine_similarity_matches_the_formula_and_handles_zero_rows():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    want = np.array([[x @ y / (np.linalg.norm(x) * np.linalg.norm(y)) for y in b] for x in a])
    np.testing.assert_allclose(cosine_similarity(a, b), want, rtol=1e-12)
    z = np.vstack([a, np.zeros(3)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = cosine_similarity(z)
    assert np.all(np.isfinite(s)) and np.all(s[-1, :-1] == 0.0)
    with pytest.raises(ValueError, match="same length"):
        cosine_similarity(a, np.ones((2, 4)))
    with pytest.raises(ValueError, match="2-D"):
        cosine_similarity(np.ones(3))


def test_nearest_neighbours_small_example():
    words = ["dog", "puppy", "cat", "apple", "banana"]
    vectors = np.array([[1.0, 0.1, 0.0], [0.9, 0.2, 0.0], [0.7, 0.7, 0.0], [0.0, 0.1, 1.0], [0.0, 0.3, 2.0]])
    nn = nearest_neighbours(vectors, words, "dog", k=3)
    assert [w for w, _ in nn] == ["puppy", "cat", "banana"]   # banana points a little more along dog
    assert nn[0][1] == pytest.approx(cosine_similarity(vectors[:1], vectors[1:2])[0, 0])
    assert [w for w, _ in nearest_neighbours(vectors, words, "apple", k=1)] == ["banana"]
    assert len(nearest_neighbours(vectors, words, "dog", k=10)) == 4     # never itself
    with pytest.raises(KeyError, match="kitten"):
        nearest_neighbours(vectors, words, "kitten")
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(vectors, words, "dog", k=0)
    np.testing.assert_array_equal(nearest_neighbour_indices(cosine_similarity(vectors)), [1, 0, 1, 4, 3])


def test_nearest_neighbours_ties_keep_row_order():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.0, 3.0]])
    assert [w for w, _ in nearest_neighbours(vectors, list("abcd"), "a", k=3)] == ["b", "c", "d"]


# ---------------------------------------------------------------------------- PCA
def test_pca_of_points_on_a_line():
    direction = np.array([1.0, 2.0, -2.0]) / 3.0            # unit vector
    t = np.array([-2.0, -1.0, 0.5, 1.0, 3.5])
    x = t[:, None] * direction + np.array([4.0, -1.0, 2.0])
    res = pca(x, 2)
    np.testing.assert_allclose(res.components[0], direction * np.sign(direction[np.argmax(np.abs(direction))]),
                               atol=1e-12)
    np.testing.assert_allclose(res.explained_variance_ratio, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(res.coords[:, 0]), np.abs(t - t.mean()), atol=1e-12)
    np.testing.assert_allclose(res.coords[:, 1], 0.0, atol=1e-12)
    np.testing.assert_allclose(res.mean, x.mean(axis=0))


def test_pca_of_a_rotated_cross_known_variances():
    # 4 points at (+-3, 0) and (0, +-1), rotated by 30 degrees: variances 4.5 and 0.5 along the rotated axes
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    rot = np.array([[c, -s], [s, c]])
    x = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 1.0], [0.0, -1.0]]) @ rot.T + 10.0
    res = pca(x, 2)
    np.testing.assert_allclose(res.explained_variance_ratio, [0.9, 0.1], atol=1e-12)
    np.testing.assert_allclose(np.abs(res.components), np.abs(rot.T), atol=1e-12)  # the rotated axes
    np.testing.assert_allclose(res.components @ res.components.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(np.sort(np.abs(res.coords[:, 0])), [0, 0, 3, 3], atol=1e-12)


def test_pca_matches_the_covariance_eigenvectors_and_signs_are_fixed():
    x = np.random.default_rng(3).standard_normal((40, 6)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2])
    res = pca(x, 3)
    evals, evecs = np.linalg.eigh(np.cov(x.T, bias=True))
    evals, evecs = evals[::-1], evecs[:, ::-1]
    np.testing.assert_allclose(res.explained_variance_ratio, evals[:3] / evals.sum(), rtol=1e-10)
    np.testing.assert_allclose(np.abs(res.components), np.abs(evecs[:, :3].T), atol=1e-10)
    for comp in res.components:   # the largest entry of every axis is positive
        assert comp[np.argmax(np.abs(comp))] > 0
    np.testing.assert_allclose(pca(-x, 3).components, res.components, atol=1e-12)  # same axes for mirrored data
    with pytest.raises(ValueError, match="n_components"):
        pca(x, 7)


def test_align_2d_undoes_a_rotation_and_a_mirror():
    ref = np.random.default_rng(1).standard_normal((10, 2))
    t = np.pi / 3
    q = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.diag([1.0, -1.0])
    np.testing.assert_allclose(align_2d(ref @ q, ref), ref, atol=1e-12)
    moved = align_2d(ref @ q + 0.01, ref)
    d = lambda p: np.linalg.norm(p[:, None] - p[None], axis=2)  # noqa: E731
    np.testing.assert_allclose(d(moved), d(ref @ q), atol=1e-12)  # distances kept


# ---------------------------------------------------------------------------- cluster quality
def test_cluster_quality_hand_examples():
    v = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    assert cluster_quality(v, ["a", "a", "b", "b"]) == 1.0
    assert cluster_quality(v, ["a", "b", "a", "b"]) == 0.0
    assert cluster_quality(v, ["a", "a", "a", "b"]) == 0.5
    assert class_quality(v, np.array(["a", "a", "a", "b"])) == {"a": 2 / 3, "b": 0.0}
    with pytest.raises(ValueError, match="labels"):
        cluster_quality(v, ["a", "b"])


def test_chance_and_random_cluster_quality():
    labels = np.array(["x"] * 6 + ["y"] * 3 + ["z"])
    want = (6 * 5 / 9 + 3 * 2 / 9 + 0) / 10
    assert chance_cluster_quality(labels) == pytest.approx(want)
    assert chance_cluster_quality(["a", "a", "b", "b"]) == pytest.approx(1 / 3)
    rand = random_cluster_quality(labels, dim=16, trials=400, generator=np.random.default_rng(0))
    assert rand.shape == (400,)
    assert abs(rand.mean() - want) < 0.03          # random vectors: neighbours are a random word
    again = random_cluster_quality(labels, dim=16, trials=400, generator=np.random.default_rng(0))
    np.testing.assert_array_equal(rand, again)


# ---------------------------------------------------------------------------- words and the CBOW model
def test_word_labels_are_ascii_so_no_cjk_font_is_needed():
    for lang in ("en", "ja"):
        words, ids, classes = content_words(load_vocab(lang).itos, lang)
        labels = [word_label(w, lang) for w in words]
        assert all(label.isascii() and label for label in labels)
        assert set(classes) == set(WORD_CLASSES[lang].values())
        assert len(words) == len(WORD_CLASSES[lang])
    assert word_label("子犬", "ja") == "puppy" and word_label("が", "ja") == "ga" and word_label("dog") == "dog"


def test_cbow_examples_pad_with_bos_and_eos():
    contexts, targets = cbow_examples([[5, 6, 7], [8]], window=2)
    np.testing.assert_array_equal(targets, [5, 6, 7, 8])
    np.testing.assert_array_equal(contexts, [[1, 1, 6, 7], [1, 5, 7, 2], [5, 6, 2, 2], [1, 1, 2, 2]])
    with pytest.raises(ValueError, match="window"):
        cbow_examples([[5]], window=0)
    with pytest.raises(ValueError, match="no words"):
        cbow_examples([[]], window=1)


def test_cbow_forward_and_backward_against_numerical_gradients():
    rng = np.random.default_rng(5)
    model = CBOW(9, 4, generator=rng)
    ctx = np.array([[1, 3, 3, 8], [0, 2, 5, 3], [7, 7, 7, 1]])
    tgt = np.array([3, 4, 0])
    logits = model(ctx)
    want = model.embedding.weight.data[ctx].mean(axis=1) @ model.output.weight.data.T + model.output.bias.data
    np.testing.assert_allclose(logits, want)
    crit = CrossEntropyLoss()
    crit(logits, tgt)
    model.zero_grad()
    model.backward(crit.backward())
    for name, p in model.named_parameters():
        num = numerical_gradient(lambda _: crit(model(ctx), tgt), p.data)
        np.testing.assert_allclose(p.grad, num, rtol=1e-6, atol=1e-8, err_msg=name)
    with pytest.raises(RuntimeError, match="before forward"):
        CBOW(3, 2).backward(np.zeros((1, 3)))


def test_train_cbow_is_deterministic_and_learns():
    tok = load_vocab("en")
    seqs = [tok.encode(s) for s in load_corpus("en")[:400]]
    kw = dict(lang="en", itos=tok.itos, epochs=3, embedding_dim=8, snapshots_per_epoch=2)
    a = train_cbow(seqs, tok.vocab_size, generator=np.random.default_rng(1), **kw)
    b = train_cbow(seqs, tok.vocab_size, generator=np.random.default_rng(1), **kw)
    np.testing.assert_array_equal(a.snapshots, b.snapshots)
    np.testing.assert_allclose(a.epochs, [0, 0.5, 1, 1.5, 2, 2.5, 3])
    assert a.snapshots.shape == (7, tok.vocab_size, 8)
    assert a.losses.shape == (3,) and a.losses[-1] < a.losses[0]
    np.testing.assert_array_equal(a.vectors, a.snapshots[-1])
    with pytest.raises(ValueError, match="epochs"):
        train_cbow(seqs, tok.vocab_size, epochs=0)
    with pytest.raises(ValueError, match="snapshots per epoch"):
        train_cbow(seqs[:10], tok.vocab_size, snapshots_per_epoch=4)


def test_learned_vectors_put_puppy_next_to_dog(runs):
    """The notebook's claims, with its settings: dog/puppy and 犬/子犬 are nearest neighbours,
    and words sit next to their own class far more often than random vectors do."""
    for lang, (adult, young) in (("en", ("dog", "puppy")), ("ja", ("犬", "子犬"))):
        run = runs[lang]
        words, ids, classes = content_words(run.itos, lang)
        vectors = run.vectors[ids]
        assert nearest_neighbours(vectors, words, adult, k=1)[0][0] == young
        assert young in [w for w, _ in nearest_neighbours(vectors, words, young, k=2)] or \
            adult in [w for w, _ in nearest_neighbours(vectors, words, young, k=2)]
        quality = cluster_quality(vectors, classes)
        rand = random_cluster_quality(classes, vectors.shape[1], 50, np.random.default_rng(0))
        assert quality > 0.75 > 0.25 > rand.max()
        first = cluster_quality(run.snapshots[0][ids], classes)
        assert first < 0.3      # before training: no better than random


# ---------------------------------------------------------------------------- labels without overlaps
def _overlap(b1, b2) -> float:
    return max(0.0, min(b1[2], b2[2]) - max(b1[0], b2[0])) * max(0.0, min(b1[3], b2[3]) - max(b1[1], b2[1]))


def test_place_labels_avoids_overlaps():
    points = np.array([[0.0, 0.0], [5.0, 0.0], [10.0, 0.0], [0.0, 5.0], [200.0, 200.0]])
    sizes = [(40.0, 12.0)] * 5
    offsets = place_labels(points, range(5), sizes)
    assert offsets.shape == (5, 2)
    boxes = [np.concatenate([points[i] + offsets[i] - [20, 6], points[i] + offsets[i] + [20, 6]]) for i in range(5)]
    for i in range(5):
        for j in range(i + 1, 5):
            assert _overlap(boxes[i], boxes[j]) == 0.0
        for p in points:                      # no label covers a dot
            assert _overlap(boxes[i], np.concatenate([p - 3.5, p + 3.5])) == 0.0
    segs = leader_segments(points, range(5), offsets, sizes)
    assert all(len(seg) == 2 for seg in segs)
    # a lone dot gets its label right next to it, without a leader line
    assert np.hypot(*offsets[4]) < 30
    assert not any(np.allclose(seg[0], points[4]) for seg in segs)


def test_place_labels_stays_inside_bounds_keeps_gaps_and_clears_big_markers():
    bounds = (0.0, 0.0, 300.0, 200.0)
    points = np.array([[295.0, 100.0], [150.0, 195.0], [150.0, 100.0], [160.0, 100.0], [150.0, 110.0]])
    sizes = np.array([(50.0, 12.0)] * 5)
    radii = np.array([3.5, 3.5, 12.0, 3.5, 3.5])               # point 2 is a big star
    offsets = place_labels(points, range(5), sizes, bounds=bounds, gap=3.0, dot_radius=radii)
    boxes = [np.concatenate([points[i] + offsets[i] - sizes[i] / 2, points[i] + offsets[i] + sizes[i] / 2])
             for i in range(5)]
    for i, b in enumerate(boxes):
        assert b[0] >= bounds[0] and b[1] >= bounds[1] and b[2] <= bounds[2] and b[3] <= bounds[3], i
        for j in range(i + 1, 5):                              # at least the gap between two labels
            grown = b + np.array([-2.9, -2.9, 2.9, 2.9])
            assert _overlap(grown, boxes[j]) == 0.0, (i, j)
        for p, r in zip(points, radii):                        # no label covers a marker
            assert _overlap(b, np.concatenate([p - r, p + r])) == 0.0
    # without bounds the label of the dot at the right edge goes right, out of the area
    free = place_labels(points, [0], sizes[:1])
    assert free[0, 0] > 0 and offsets[0, 0] < 0
    # leaders start on the edge of a big marker
    segs = leader_segments(points, range(5), offsets, sizes, dot_radius=radii)
    for (x0, y0), _ in segs:
        assert min(np.hypot(x0 - px, y0 - py) - r for (px, py), r in zip(points, radii)) == pytest.approx(0.0, abs=1e-9)


def test_label_points_places_labels_when_the_figure_is_drawn():
    """Labels are placed at draw time: a legend added afterwards, which moves the axes, cannot make them
    overlap, and none sticks out of the axes."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from course_lib.explorers.embeddings import class_legend_handles, label_points

    rng = np.random.default_rng(0)
    xy = np.vstack([rng.normal(0.0, 0.02, (6, 2)), rng.uniform(-1, 1, (20, 2)), [[1.0, 0.0]]])
    fig = Figure(figsize=(6, 4), dpi=80, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.scatter(xy[:, 0], xy[:, 1], s=28)
    annots = label_points(ax, xy, [f"word{i}" for i in range(len(xy))])
    fig.legend(handles=class_legend_handles(), loc="outside lower center", ncol=5)   # moves the axes up
    ax.set_title("a title added after the labels")
    with matplotlib.rc_context({"font.size": 10}):
        fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer).extents for a in annots]
    inside = ax.bbox.extents
    for i, b in enumerate(boxes):
        assert b[0] >= inside[0] - 1 and b[2] <= inside[2] + 1 and b[1] >= inside[1] - 1 and b[3] <= inside[3] + 1, i
        for j in range(i + 1, len(boxes)):
            assert _overlap(b, boxes[j]) < 1.0, (i, j)


def test_explorer_uses_the_shared_render_path(explorer):
    from course_lib.explorers import Explorer

    assert type(explorer).render_png is Explorer.render_png      # no private blitting or PNG encoder
    assert len(explorer.figures) == 1                             # one figure, reused for every redraw


# ---------------------------------------------------------------------------- the explorer's pure parts
def test_embedding_space_and_neighbour_view(runs):
    space = embedding_space(runs["en"], generator=np.random.default_rng(0))
    n_snap = len(runs["en"].epochs)
    assert space.sims.shape == (n_snap, space.n_words, space.n_words)
    assert space.coords.shape == (n_snap, space.n_words, 2)
    assert np.all(np.abs(space.coords) <= space.limit)
    assert space.quality[-1] > 0.75 and space.quality[0] < 0.3
    view = neighbour_view(space, "dog", -1, k=5)
    assert view.neighbours[0][0] == "puppy" and len(view.neighbours) == 5
    assert view.snapshot == n_snap - 1 and view.epoch == runs["en"].epochs[-1]
    words, ids, _ = content_words(runs["en"].itos, "en")
    want = nearest_neighbours(runs["en"].vectors[ids], words, "dog", k=5)
    assert [w for w, _ in view.neighbours] == [w for w, _ in want]
    np.testing.assert_allclose([s for _, s in view.neighbours], [s for _, s in want], rtol=1e-12)
    with pytest.raises(KeyError):
        neighbour_view(space, "unicorn")
    with pytest.raises(IndexError):
        neighbour_view(space, "dog", n_snap)


# ---------------------------------------------------------------------------- the widget, headless
def test_explorer_builds_without_output(runs, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ex = EmbeddingExplorer(runs)
    assert capsys.readouterr().out == ""
    assert bytes(ex.image.value).startswith(b"\x89PNG")
    assert set(ex.controls) == {"lang", "word", "epoch"}
    assert "nearest to <b>dog</b>: puppy" in ex.status.value
    assert "cluster quality" in ex.status.value


def test_epoch_slider_to_both_ends(explorer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        slider = explorer.controls["epoch"]
        n = len(slider.options)
        for index in (0, n - 1, 0):
            before = (explorer.state, explorer.status.value, bytes(explorer.image.value), explorer.redraw_count)
            slider.index = index
            assert explorer.redraw_count == before[3] + 1
            assert explorer.state.snapshot == index
            assert explorer.status.value != before[1]
            assert bytes(explorer.image.value) != before[2]
        assert "before training" in explorer.status.value
        slider.index = n - 1


def test_language_toggle_translates_the_word(explorer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lang, word = explorer.controls["lang"], explorer.controls["word"]
        word.value = "puppy"
        count, png = explorer.redraw_count, bytes(explorer.image.value)
        lang.value = "ja"
        assert explorer.redraw_count == count + 1          # one redraw, not one per changed control
        assert word.value == "子犬" and explorer.state.word == "子犬" and explorer.state.lang == "ja"
        assert "子犬 (puppy)" in explorer.status.value
        assert bytes(explorer.image.value) != png
        assert all(v in WORD_CLASSES["ja"] for _, v in word.options)
        word.value = "が"                                   # no English twin: falls back to 'dog'
        lang.value = "en"
        assert word.value == "dog" and explorer.state.lang == "en"
        assert all(v in WORD_CLASSES["en"] for _, v in word.options)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_word_of_the_dropdown(explorer, lang):
    """Every option of the word dropdown, in both languages, redraws without warnings (no missing glyphs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explorer.controls["lang"].value = lang
        word = explorer.controls["word"]
        seen_status = set()
        for _, value in word.options:
            count = explorer.redraw_count
            if word.value == value:
                explorer.redraw()
            else:
                word.value = value
            assert explorer.redraw_count == count + 1
            assert explorer.state.word == value and explorer.state.lang == lang
            assert len(explorer.state.neighbours) == explorer.k
            assert all(np.isfinite(s) for _, s in explorer.state.neighbours)
            seen_status.add(explorer.status.value)
        assert len(seen_status) == len(word.options)
        explorer.controls["lang"].value = "en"


def test_picture_depends_only_on_the_controls(runs):
    ex = EmbeddingExplorer(runs, word="cat")
    first = bytes(ex.image.value)
    ex.controls["epoch"].index = 3
    ex.controls["word"].value = "bread"
    ex.controls["lang"].value = "ja"
    ex.controls["lang"].value = "en"
    ex.controls["word"].value = "cat"
    ex.controls["epoch"].index = len(ex.controls["epoch"].options) - 1
    assert bytes(ex.image.value) == first


def test_single_run_and_bad_arguments(runs):
    ex = EmbeddingExplorer(runs["ja"], word="犬", epoch=1.0)
    assert "lang" not in ex.controls
    assert ex.state.word == "犬" and ex.state.epoch == 1.0
    ex.controls["word"].value = "猫"
    assert ex.state.word == "猫"
    with pytest.raises(ValueError, match="no run for language"):
        EmbeddingExplorer(runs, lang="fr")
    short = train_word_vectors("en", epochs=1)
    with pytest.raises(ValueError, match="same epochs"):
        EmbeddingExplorer({"en": short, "ja": runs["ja"]})
