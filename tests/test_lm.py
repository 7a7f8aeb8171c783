"""course_lib.lm: training pairs, count baselines, the MLP language model, training, generation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib import nn, optim
from course_lib.gradcheck import GradcheckError, gradcheck
from course_lib.lm import (
    MLPLanguageModel,
    bigram_log_probs,
    count_bigrams,
    generate,
    generate_batch,
    make_windows,
    mean_nll,
    perplexity,
    sequence_log_prob,
    table_model,
    train_lm,
    unigram_log_probs,
)
from course_lib.nn.functional import log_softmax, softmax
from course_lib.text import load_corpus, load_vocab

BOS, EOS = 1, 2


# ---------------------------------------------------------------------------- data
def test_make_windows_pads_with_bos_and_ends_with_eos():
    X, Y = make_windows([[5, 6], [7]], context_size=2)
    np.testing.assert_array_equal(X, [[1, 1], [1, 5], [5, 6], [1, 1], [1, 7]])
    np.testing.assert_array_equal(Y, [5, 6, 2, 7, 2])
    assert X.dtype == np.int64 and Y.dtype == np.int64
    X1, Y1 = make_windows([[4, 4, 3]], 1)
    np.testing.assert_array_equal(X1[:, 0], [1, 4, 4, 3])
    np.testing.assert_array_equal(Y1, [4, 4, 3, 2])


def test_make_windows_edge_cases_and_errors():
    X, Y = make_windows([[]], 3)           # an empty sentence: predict <eos> from <bos> <bos> <bos>
    np.testing.assert_array_equal(X, [[1, 1, 1]])
    np.testing.assert_array_equal(Y, [2])
    X, Y = make_windows([], 2)
    assert X.shape == (0, 2) and Y.shape == (0,)
    with pytest.raises(ValueError, match="context_size"):
        make_windows([[3]], 0)
    with pytest.raises(TypeError, match="list of sequences"):
        make_windows(np.array([3, 4]), 1)
    with pytest.raises(TypeError, match="integer ids"):
        make_windows([[0.5, 1.0]], 1)


# ---------------------------------------------------------------------------- count models
SEQS = [[3, 4, 5], [3, 5], [4, 4], [6]]
V = 7


def test_count_bigrams_matches_a_loop():
    counts = count_bigrams(SEQS, V)
    ref = np.zeros((V, V), dtype=int)
    for s in SEQS:
        padded = [BOS] + s + [EOS]
        for a, b in zip(padded[:-1], padded[1:]):
            ref[a, b] += 1
    np.testing.assert_array_equal(counts, ref)
    assert counts.sum() == sum(len(s) + 1 for s in SEQS)


def test_bigram_log_probs_add_alpha_formula():
    counts = count_bigrams(SEQS, V)
    for alpha in (0.1, 1.0):
        lp = bigram_log_probs(counts, alpha)
        np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0)
        a, b = 3, 5
        want = (counts[a, b] + alpha) / (counts[a].sum() + alpha * V)
        np.testing.assert_allclose(np.exp(lp[a, b]), want)
    lp0 = bigram_log_probs(counts, 0.0)        # maximum likelihood: unseen pairs impossible
    assert lp0[3, 6] == -np.inf
    np.testing.assert_allclose(np.exp(lp0[3, 4]), 0.5)
    np.testing.assert_allclose(np.exp(lp0[0]), np.full(V, 1 / V))   # a row never seen is uniform
    with pytest.raises(ValueError, match="alpha"):
        bigram_log_probs(counts, -1.0)
    with pytest.raises(ValueError, match="square"):
        bigram_log_probs(counts[:3], 1.0)


def test_unigram_counts_targets_including_eos():
    lp = unigram_log_probs(SEQS, V, alpha=0.0)
    targets = [t for s in SEQS for t in s + [EOS]]
    np.testing.assert_allclose(np.exp(lp[4]), targets.count(4) / len(targets))
    np.testing.assert_allclose(np.exp(lp[EOS]), 4 / len(targets))
    np.testing.assert_allclose(np.exp(unigram_log_probs(SEQS, V, 1.0)).sum(), 1.0)


def test_table_model_and_mean_nll_equal_cross_entropy():
    lp = bigram_log_probs(count_bigrams(SEQS, V), 0.5)
    model = table_model(lp)
    X, Y = make_windows(SEQS, 2)
    assert model(X).shape == (len(Y), V)
    assert model(X[0]).shape == (V,)
    np.testing.assert_allclose(model(X), lp[X[:, -1]])
    nll = mean_nll(model, X, Y, batch_size=3)            # in several batches
    ce = nn.CrossEntropyLoss()(lp[X[:, -1]], Y)
    np.testing.assert_allclose(nll, ce, rtol=1e-12)
    # uniform logits: log V nats, perplexity V
    uniform = mean_nll(lambda w: np.zeros((*w.shape[:-1], V)), X, Y)
    np.testing.assert_allclose(uniform, math.log(V))
    np.testing.assert_allclose(perplexity(uniform), V)
    # a target with probability 0 costs infinitely much
    assert mean_nll(table_model(bigram_log_probs(count_bigrams(SEQS, V), 0.0)), *make_windows([[6, 6]], 1)) == math.inf
    assert perplexity(math.inf) == math.inf


def test_sequence_log_prob_is_the_chain_rule():
    lp = bigram_log_probs(count_bigrams(SEQS, V), 0.5)
    total, probs = sequence_log_prob(table_model(lp), [3, 4], context_size=1)
    want = [lp[BOS, 3], lp[3, 4], lp[4, EOS]]
    np.testing.assert_allclose(probs, np.exp(want))
    np.testing.assert_allclose(total, sum(want))


# ---------------------------------------------------------------------------- the MLP model
class _Probe(nn.Module):
    """gradcheck differentiates float inputs; ids are integers. A dummy float input x
    (added times 0) lets gradcheck check every parameter of the model through its ids."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, ids):
        return self.model(ids) + 0.0 * x

    def backward(self, grad_out):
        self.model.backward(grad_out)
        return np.zeros(grad_out.shape)


def test_mlp_shapes_parameters_and_repr():
    m = MLPLanguageModel(vocab_size=11, context=3, emb_dim=4, hidden=6, generator=np.random.default_rng(0))
    shapes = {name: p.shape for name, p in m.named_parameters()}
    assert shapes == {"emb.weight": (11, 4), "fc1.weight": (6, 12), "fc1.bias": (6,),
                      "fc2.weight": (11, 6), "fc2.bias": (11,)}
    assert m.num_parameters() == 11 * 4 + 12 * 6 + 6 + 6 * 11 + 11
    assert m(np.array([1, 2, 3])).shape == (11,)
    assert m(np.zeros((5, 3), dtype=int)).shape == (5, 11)
    assert m(np.zeros((2, 4, 3), dtype=int)).shape == (2, 4, 11)
    assert repr(m) == (  # PyTorch's layout: extra_repr on its own line above the children
        "MLPLanguageModel(\n"
        "  vocab_size=11, context=3, emb_dim=4, hidden=6\n"
        "  (emb): Embedding(11, 4)\n"
        "  (fc1): Linear(in_features=12, out_features=6, bias=True)\n"
        "  (act): Tanh()\n"
        "  (fc2): Linear(in_features=6, out_features=11, bias=True)\n"
        ")"
    )
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 3\)"):
        m(np.array([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="hidden"):
        MLPLanguageModel(11, 3, 4, 0)
    with pytest.raises(RuntimeError, match="before forward"):
        MLPLanguageModel(11, 3, 4, 6).backward(np.zeros((1, 11)))


def test_mlp_forward_by_hand():
    m = MLPLanguageModel(9, 2, 3, 5, generator=np.random.default_rng(1))
    ids = np.array([[1, 4], [4, 4], [7, 0]])
    x = m.emb.weight.data[ids].reshape(3, 6)                     # concatenate the two vectors
    h = np.tanh(x @ m.fc1.weight.data.T + m.fc1.bias.data)
    np.testing.assert_allclose(m(ids), h @ m.fc2.weight.data.T + m.fc2.bias.data, rtol=1e-12)


def test_mlp_gradcheck_tiny_config():
    m = MLPLanguageModel(vocab_size=7, context=3, emb_dim=2, hidden=4, generator=np.random.default_rng(0))
    ids = np.array([[1, 1, 5], [5, 5, 5], [2, 6, 0], [1, 3, 3]])  # repeated ids: scatter-add in the embedding
    x = np.zeros((4, 7))
    assert gradcheck(_Probe(m), x, ids)
    # (B, T, k) windows too
    ids3 = np.array([[[1, 2, 3], [3, 3, 4]], [[6, 0, 1], [1, 1, 1]]])
    assert gradcheck(_Probe(m), np.zeros((2, 2, 7)), ids3)


def test_gradcheck_catches_a_broken_backward():
    class Broken(MLPLanguageModel):
        def backward(self, grad_out):
            gh = self.fc2.backward(grad_out)
            self.fc1.backward(gh)  # BUG: skips tanh's derivative, and the embedding
            return None

    m = Broken(6, 2, 2, 3, generator=np.random.default_rng(0))
    with pytest.raises(GradcheckError, match="fc1|emb"):
        gradcheck(_Probe(m), np.zeros((3, 6)), np.array([[1, 2], [3, 4], [5, 5]]))


# ---------------------------------------------------------------------------- training on the corpus
@pytest.fixture(scope="module")
def corpus():
    tok = load_vocab("en", "word")
    train = [tok.encode(s) for s in load_corpus("en", "train")]
    valid = [tok.encode(s) for s in load_corpus("en", "valid")]
    return tok, train, valid


def _train_small(tok, train, seed=0, steps=300):
    X, Y = make_windows(train, 3)
    model = MLPLanguageModel(tok.vocab_size, 3, 8, 32, dtype=np.float32, generator=np.random.default_rng(seed))
    opt = optim.AdamW(model.parameters(), lr=2e-2, weight_decay=0.01)
    losses = train_lm(model, X, Y, opt, steps=steps, batch_size=512, generator=np.random.default_rng(seed + 1),
                      show=False)
    return model, losses


@pytest.fixture(scope="module")
def small_model(corpus):
    """A small MLP trained for 300 steps (about a second), shared by the tests below."""
    tok, train, _ = corpus
    return _train_small(tok, train)


def test_mlp_beats_the_bigram_on_held_out_text(corpus, small_model):
    tok, train, valid = corpus
    model, losses = small_model
    assert losses[0] > 4.0 and losses[-50:].mean() < losses[0] - 2.5   # from about log V = 4.58 down
    Xv, Yv = make_windows(valid, 3)
    mlp = mean_nll(model, Xv, Yv)
    # the best add-alpha bigram on this held-out text (alpha tuned on it: a generous baseline)
    counts = count_bigrams(train, tok.vocab_size)
    Xb, Yb = make_windows(valid, 1)
    bigram = min(mean_nll(table_model(bigram_log_probs(counts, a)), Xb, Yb) for a in (0.003, 0.01, 0.03, 0.1))
    unigram = mean_nll(lambda w: np.broadcast_to(unigram_log_probs(train, tok.vocab_size), (len(w), tok.vocab_size)),
                       Xb, Yb)
    assert mlp < bigram - 0.1 < unigram - 1.0 < math.log(tok.vocab_size)


def test_training_is_deterministic(corpus, capsys):
    tok, train, _ = corpus
    capsys.readouterr()
    _, a = _train_small(tok, train[:300], steps=20)
    _, b = _train_small(tok, train[:300], steps=20)
    np.testing.assert_array_equal(a, b)
    out = capsys.readouterr().out.splitlines()   # one summary line per run, the same both times
    assert len(out) == 2 and out[0] == out[1] and out[0].startswith("training: 20/20 steps, loss ")


def test_train_lm_rejects_bad_data():
    m = MLPLanguageModel(5, 2, 2, 3)
    opt = optim.AdamW(m.parameters())
    with pytest.raises(ValueError, match="X \\(N, k\\)"):
        train_lm(m, np.zeros((4, 2), dtype=int), np.zeros(3, dtype=int), opt, steps=1, show=False)


# ---------------------------------------------------------------------------- generation
class Scripted:
    """Logits that make ``script[last id]`` the most likely next token; records every window."""

    def __init__(self, script: dict, vocab_size: int = 8, strength: float = 5.0):
        self.script, self.V, self.strength = script, vocab_size, strength
        self.windows = []

    def __call__(self, window):
        window = np.asarray(window)
        self.windows.append(window.copy())
        last = window[..., -1]
        logits = np.zeros((*last.shape, self.V))
        nxt = np.vectorize(lambda i: self.script.get(int(i), 7))(last)
        np.put_along_axis(logits, nxt[..., None], self.strength, axis=-1)
        return logits


def test_generate_stops_at_eos_and_includes_it():
    model = Scripted({BOS: 4, 4: 5, 5: EOS})
    out = generate(model, [BOS], max_new_tokens=10, temperature=0)   # greedy
    assert out == [4, 5, EOS]
    out = generate(model, [BOS, BOS], 10, temperature=0, context_size=2)
    assert out == [4, 5, EOS]
    assert all(len(w) == 2 for w in model.windows[-3:])          # a fixed window of 2 ids


def test_generate_stops_at_max_tokens_and_passes_windows():
    model = Scripted({BOS: 4, 4: 4})                              # never writes <eos>
    out = generate(model, [BOS] * 3, max_new_tokens=6, temperature=0, context_size=3)
    assert out == [4] * 6
    np.testing.assert_array_equal(model.windows[0], [1, 1, 1])
    np.testing.assert_array_equal(model.windows[-1], [4, 4, 4])
    model.windows.clear()
    generate(model, [BOS], 4, temperature=0)                      # no context_size: the whole sequence
    assert [len(w) for w in model.windows] == [1, 2, 3, 4]
    assert generate(model, [BOS], 0) == []
    assert generate(model, [BOS], 5, temperature=0, eos_id=None) == [4] * 5


def test_generate_is_deterministic_and_seeded():
    flat = Scripted({}, strength=0.0)                             # uniform over 8 tokens
    a = generate(flat, [BOS], 30, generator=np.random.default_rng(3), eos_id=None)
    b = generate(flat, [BOS], 30, generator=np.random.default_rng(3), eos_id=None)
    c = generate(flat, [BOS], 30, generator=np.random.default_rng(4), eos_id=None)
    assert a == b and a != c and len(set(a)) > 3
    # top-k = 1 is greedy whatever the temperature
    peaked = Scripted({BOS: 6, 6: EOS}, strength=0.5)
    for seed in range(5):
        assert generate(peaked, [BOS], 5, temperature=3.0, top_k=1, generator=np.random.default_rng(seed)) == [6, EOS]


def test_generate_errors():
    model = Scripted({})
    with pytest.raises(ValueError, match="window of 3"):
        generate(model, [BOS], 5, context_size=3)
    with pytest.raises(ValueError, match="empty"):
        generate(model, [], 5)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, [BOS], 5, temperature=-1.0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, [BOS], -1)
    with pytest.raises(ValueError, match="top_k_filter"):
        generate(model, [BOS], 5, top_k=0)


def test_generate_batch_matches_generate_when_greedy_and_stops_each_row():
    model = Scripted({BOS: 4, 4: 5, 5: EOS})
    rows = generate_batch(model, 4, context_size=2, max_new_tokens=10, temperature=0)
    assert rows == [[4, 5, EOS]] * 4
    endless = Scripted({BOS: 4, 4: 4})
    assert generate_batch(endless, 2, 1, 5, temperature=0) == [[4] * 5, [4] * 5]


def test_generate_batch_seeded_rows_end_with_eos_or_run_out():
    model = Scripted({BOS: 4, 4: 5, 5: EOS}, strength=1.5)
    a = generate_batch(model, 50, 1, 6, generator=np.random.default_rng(0))
    b = generate_batch(model, 50, 1, 6, generator=np.random.default_rng(0))
    assert a == b
    for row in a:
        assert (row and row[-1] == EOS and EOS not in row[:-1]) or len(row) == 6
    assert len({tuple(r) for r in a}) > 5


def test_generate_with_a_trained_model_writes_grammatical_sentences(corpus, small_model):
    from course_lib.text import grammatical_fraction

    tok, _, _ = corpus
    model, _ = small_model
    rows = generate_batch(model, 100, 3, 30, temperature=0.7, generator=np.random.default_rng(0))
    sentences = [tok.decode(r, skip_special=True) for r in rows]
    assert grammatical_fraction(sentences) > 0.5
    one = generate(model, [BOS] * 3, 30, temperature=0.7, generator=np.random.default_rng(0), context_size=3)
    assert one[-1] == EOS
    # the chain rule agrees with the model's own probabilities
    total, probs = sequence_log_prob(model, one[:-1], 3)
    X, Y = make_windows([one[:-1]], 3)
    np.testing.assert_allclose(probs, softmax(model(X).astype(np.float64))[np.arange(len(Y)), Y], rtol=1e-6)
    np.testing.assert_allclose(total, log_softmax(model(X).astype(np.float64))[np.arange(len(Y)), Y].sum(), rtol=1e-6)
