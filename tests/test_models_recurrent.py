"""The recurrent language model of notebook 09: the model, its data pipeline, training, evaluation, generation."""
from __future__ import annotations

import math

import numpy as np
import pytest

from course_lib.gradcheck import GradcheckError, gradcheck
from course_lib.models.recurrent import (
    IGNORE,
    RecurrentLanguageModel,
    generate_recurrent,
    recurrent_nll,
    sentence_stream,
    stream_batches,
    train_recurrent_lm,
)
from course_lib.nn import CrossEntropyLoss
from course_lib.optim import SGD, Adam
from course_lib.text.tokenizers import BOS_ID, EOS_ID

V = 7  # ids 0 <unk>, 1 <bos>, 2 <eos>, 3..6 words


def make_model(cell="lstm", vocab=V, emb=4, hidden=5, num_layers=1, seed=0):
    return RecurrentLanguageModel(vocab, emb, hidden, cell=cell, num_layers=num_layers,
                                  generator=np.random.default_rng(seed))


def toy_stream(repeats=12):
    return sentence_stream([[3, 4, 5, 6], [5, 4, 3]] * repeats)


def _states_equal(a, b):
    if isinstance(a, tuple):
        assert len(a) == len(b) == 2
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- the model
@pytest.mark.parametrize("cell", ["lstm", "rnn"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_forward_shapes(cell, num_layers):
    m = make_model(cell, emb=3, hidden=6, num_layers=num_layers)
    ids = np.random.default_rng(1).integers(0, V, (4, 9))
    logits, state = m(ids)
    assert logits.shape == (4, 9, V) and logits.dtype == np.float64
    if cell == "lstm":
        assert isinstance(state, tuple) and [s.shape for s in state] == [(num_layers, 4, 6)] * 2
    else:
        assert isinstance(state, np.ndarray) and state.shape == (num_layers, 4, 6)
    logits2, _ = m(ids[:, :3], state)  # the state goes into the next call
    assert logits2.shape == (4, 3, V)
    assert m.backward(np.ones_like(logits2)) is None  # ids have no gradient


def test_parameters_are_named_as_documented():
    shapes = {n: p.data.shape for n, p in make_model("lstm", emb=3, hidden=5).named_parameters()}
    assert shapes == {"emb.weight": (V, 3), "rnn.weight_ih_l0": (20, 3), "rnn.weight_hh_l0": (20, 5),
                      "rnn.bias_ih_l0": (20,), "rnn.bias_hh_l0": (20,), "head.weight": (V, 5), "head.bias": (V,)}
    shapes = {n: p.data.shape for n, p in make_model("rnn", emb=3, hidden=5).named_parameters()}
    assert shapes["rnn.weight_ih_l0"] == (5, 3) and shapes["rnn.weight_hh_l0"] == (5, 5)


def test_model_is_embedding_rnn_head():
    # logits = head(rnn(emb(ids))) with the model's own sub-modules, step by step
    m = make_model("rnn", emb=3, hidden=4)
    ids = np.array([[1, 3, 4, 2], [5, 6, 0, 1]])
    logits, h_n = m(ids)
    w = {n: p.data for n, p in m.named_parameters()}
    h = np.zeros((2, 4))
    for t in range(4):
        e = w["emb.weight"][ids[:, t]]
        h = np.tanh(e @ w["rnn.weight_ih_l0"].T + w["rnn.bias_ih_l0"] + h @ w["rnn.weight_hh_l0"].T
                    + w["rnn.bias_hh_l0"])
        np.testing.assert_allclose(logits[:, t], h @ w["head.weight"].T + w["head.bias"], rtol=1e-12)
    np.testing.assert_allclose(h_n[0], h, rtol=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell"):
        RecurrentLanguageModel(5, 3, 4, cell="gru")
    for bad in (dict(vocab_size=0), dict(emb_dim=True), dict(hidden=2.0)):
        args = dict(vocab_size=5, emb_dim=3, hidden=4) | bad
        with pytest.raises(ValueError, match=next(iter(bad))):
            RecurrentLanguageModel(**args)
    m = make_model()
    with pytest.raises(ValueError, match=r"ids\[None\]"):
        m(np.array([1, 2, 3]))
    with pytest.raises(RuntimeError):
        make_model().backward(np.zeros((1, 1, V)))  # backward before forward
    m(np.array([[1, 2, 3]]))
    with pytest.raises(ValueError):
        m.backward(np.zeros((1, 2, V)))  # not the logits' shape


class LogitsOnly:
    """The model seen by gradcheck: forward returns the logits only, from a fixed incoming state."""

    def __init__(self, model, state=None):
        self.model, self.state = model, state

    def _name(self):
        return self.model._name()

    def named_parameters(self):
        return self.model.named_parameters()

    def forward(self, ids):
        return self.model(ids, self.state)[0]

    def backward(self, grad_logits):
        return self.model.backward(grad_logits)


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_gradcheck_whole_model(cell, num_layers):
    m = make_model(cell, vocab=5, emb=3, hidden=4, num_layers=num_layers, seed=2)
    ids = np.array([[1, 3, 4, 3], [2, 0, 1, 1]])  # id 3 and 1 used twice: the embedding's scatter-add
    assert gradcheck(LogitsOnly(m), ids)


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_gradcheck_with_a_carried_state(cell):
    # truncated BPTT: the incoming state is a constant; every parameter's gradient must still be exact
    m = make_model(cell, vocab=5, emb=3, hidden=4, seed=3)
    _, state = m(np.array([[3, 4, 1], [1, 2, 4]]))
    assert gradcheck(LogitsOnly(m, state), np.array([[4, 3], [3, 2]]))


def test_gradcheck_catches_a_wrong_backward():
    m = make_model("lstm", vocab=5, emb=3, hidden=4, seed=2)
    adapter = LogitsOnly(m)
    adapter.backward = lambda g: m.backward(2 * g)
    with pytest.raises(GradcheckError):
        gradcheck(adapter, np.array([[1, 3], [2, 4]]))


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_carried_state_equals_one_forward_over_the_concatenation(cell):
    m = make_model(cell, hidden=6)
    ids = np.random.default_rng(4).integers(0, V, (3, 11))
    full, s_full = m(ids)
    a, s_a = m(ids[:, :4])
    b, s_b = m(ids[:, 4:], s_a)
    np.testing.assert_allclose(np.concatenate([a, b], axis=1), full, rtol=1e-12, atol=1e-14)
    _states_equal(s_b, s_full)
    fresh, _ = m(ids[:, 4:])  # without the state the second chunk is read differently
    assert not np.allclose(fresh, b)


# --------------------------------------------------------------------------- data
def test_sentence_stream_layout():
    s = sentence_stream([[5, 6], [7], []])
    np.testing.assert_array_equal(s, [BOS_ID, 5, 6, EOS_ID, BOS_ID, 7, EOS_ID, BOS_ID, EOS_ID])
    assert s.dtype == np.int64 and s.ndim == 1
    np.testing.assert_array_equal(sentence_stream([np.array([3, 4])], bos_id=10, eos_id=11), [10, 3, 4, 11])
    with pytest.raises(ValueError, match="no sentences"):
        sentence_stream([])


def test_stream_batches_rows_chunks_and_targets():
    stream = np.arange(100, 100 + 23)  # no id equals BOS_ID
    chunks = list(stream_batches(stream, batch_size=3, bptt=3))
    per_row = (23 - 1) // 3  # 7
    assert [x.shape for x, _ in chunks] == [(3, 3), (3, 3), (3, 1)]  # the last chunk is shorter
    assert [y.shape for _, y in chunks] == [(3, 3), (3, 3), (3, 1)]
    inputs = np.concatenate([x for x, _ in chunks], axis=1)
    targets = np.concatenate([y for _, y in chunks], axis=1)
    for b in range(3):  # row b is one contiguous piece: chunk j+1 continues chunk j
        np.testing.assert_array_equal(inputs[b], stream[b * per_row:(b + 1) * per_row])
        np.testing.assert_array_equal(targets[b], stream[b * per_row + 1:(b + 1) * per_row + 1])
    for (x0, _), (x1, _) in zip(chunks, chunks[1:]):
        np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)
    for x, y in chunks:
        np.testing.assert_array_equal(y, x + 1)  # the next token
        assert x.dtype == y.dtype == np.int64


def test_stream_batches_exact_fit_and_smallest_stream():
    chunks = list(stream_batches(np.arange(10, 19), 2, 4))  # per_row = 4: one full chunk
    assert len(chunks) == 1 and chunks[0][0].shape == (2, 4)
    (x, y), = stream_batches(np.array([10, 11, 12]), 2, 5)  # len = batch_size + 1
    np.testing.assert_array_equal(x, [[10], [11]])
    np.testing.assert_array_equal(y, [[11], [12]])


def test_stream_batches_ignores_bos_targets():
    stream = sentence_stream([[3, 4], [5], [6, 6, 6]])  # 1 3 4 2 1 5 2 1 6 6 6 2
    x, y = map(lambda a: np.concatenate(a, axis=1), zip(*stream_batches(stream, 1, 4)))
    raw = stream[1:12]
    np.testing.assert_array_equal(x[0], stream[:11])  # inputs keep every <bos>
    np.testing.assert_array_equal(y[0], np.where(raw == BOS_ID, IGNORE, raw))
    assert IGNORE == -100 and np.sum(y == IGNORE) == 2
    _, kept = map(lambda a: np.concatenate(a, axis=1), zip(*stream_batches(stream, 1, 4, bos_id=None)))
    np.testing.assert_array_equal(kept[0], raw)
    _, other = map(lambda a: np.concatenate(a, axis=1), zip(*stream_batches(stream, 1, 4, bos_id=6)))
    np.testing.assert_array_equal(other[0], np.where(raw == 6, IGNORE, raw))


@pytest.mark.parametrize("kwargs, match", [
    (dict(batch_size=0), "batch_size"), (dict(batch_size=True), "batch_size"), (dict(batch_size=2.0), "batch_size"),
    (dict(bptt=0), "bptt"), (dict(bptt=-3), "bptt"), (dict(bptt=False), "bptt"),
    (dict(stream=np.arange(4)), "more than batch_size"), (dict(stream=np.arange(12).reshape(3, 4)), "1-D"),
])
def test_stream_batches_errors(kwargs, match):
    args = dict(stream=np.arange(20), batch_size=4, bptt=3) | kwargs
    with pytest.raises(ValueError, match=match):
        list(stream_batches(**args))


# --------------------------------------------------------------------------- training
class SpySGD(SGD):
    """SGD that records, at each step, the total norm of the gradients it is about to apply."""

    def __init__(self, params, **kw):
        params = list(params)
        super().__init__(params, **kw)
        self.params = params
        self.seen = []
        self.zero_grads = 0

    def zero_grad(self, set_to_none=True):
        self.zero_grads += 1
        super().zero_grad(set_to_none)

    def step(self, closure=None):
        self.seen.append(math.sqrt(sum(float(np.sum(p.grad ** 2)) for p in self.params)))
        return super().step(closure)


class CountingScheduler:
    def __init__(self):
        self.calls = 0

    def step(self):
        self.calls += 1


def test_training_lowers_the_loss_and_returns_one_entry_per_step(capsys):
    s = toy_stream()
    m = make_model(hidden=8)
    before = recurrent_nll(m, s, 2, 5)
    sched = CountingScheduler()
    hist = train_recurrent_lm(m, s, Adam(m.parameters(), lr=0.05), epochs=5, batch_size=2, bptt=5,
                              scheduler=sched, show=False)
    chunks = len(list(stream_batches(s, 2, 5)))
    assert set(hist) == {"loss", "grad_norm"}
    assert hist["loss"].shape == hist["grad_norm"].shape == (5 * chunks,)
    assert sched.calls == 5 * chunks
    assert np.all(np.isfinite(hist["loss"])) and np.all(hist["grad_norm"] > 0)
    assert hist["loss"][-chunks:].mean() < 0.5 * hist["loss"][:chunks].mean()
    after = recurrent_nll(m, s, 2, 5)
    assert after < 0.5 * before
    assert "recurrent LM" in capsys.readouterr().out  # the summary line


def test_training_accepts_numpy_ints_and_rejects_bad_epochs():
    m = make_model()
    hist = train_recurrent_lm(m, toy_stream(2), SGD(m.parameters(), lr=0.1), epochs=np.int64(2), batch_size=2,
                              bptt=5, show=False)
    assert len(hist["loss"]) == 2 * len(list(stream_batches(toy_stream(2), 2, 5)))
    for bad in (0, -1, True, 1.0):
        with pytest.raises(ValueError, match="epochs"):
            train_recurrent_lm(m, toy_stream(2), SGD(m.parameters()), epochs=bad, show=False)


def test_training_is_deterministic():
    runs = []
    for _ in range(2):
        m = make_model(hidden=6, seed=5)
        hist = train_recurrent_lm(m, toy_stream(4), Adam(m.parameters(), lr=0.02), epochs=2, batch_size=3,
                                  bptt=4, show=False)
        runs.append((hist, [p.data.copy() for p in m.parameters()]))
    (h1, p1), (h2, p2) = runs
    np.testing.assert_array_equal(h1["loss"], h2["loss"])
    np.testing.assert_array_equal(h1["grad_norm"], h2["grad_norm"])
    for a, b in zip(p1, p2):
        np.testing.assert_array_equal(a, b)


def _big_gradient_model():
    m = make_model(hidden=6, seed=1)
    m.head.weight.data *= 6.0  # more confident predictions: gradient norms on both sides of 1
    return m


def test_clipping_bounds_every_update():
    s = toy_stream(4)
    m = _big_gradient_model()
    opt = SpySGD(m.parameters(), lr=0.01)
    hist = train_recurrent_lm(m, s, opt, epochs=2, batch_size=2, bptt=4, clip=1.0, show=False)
    reported, applied = hist["grad_norm"], np.array(opt.seen)
    assert len(applied) == len(reported) == opt.zero_grads
    assert np.sum(reported > 1.0) >= 3 and np.any(reported < 1.0)  # both cases happen
    assert np.all(applied <= 1.0 + 1e-9)
    # reported: the norm before clipping; applied: min(norm, 1) (clip_grad_norm_'s 1e-6 aside)
    np.testing.assert_allclose(applied, np.where(reported > 1.0, 1.0, reported), rtol=1e-5)


def test_without_clipping_the_reported_norm_is_the_applied_one():
    m = _big_gradient_model()
    opt = SpySGD(m.parameters(), lr=0.001)
    hist = train_recurrent_lm(m, toy_stream(4), opt, epochs=1, batch_size=2, bptt=4, clip=None, show=False)
    assert np.any(hist["grad_norm"] > 1.0)
    np.testing.assert_allclose(opt.seen, hist["grad_norm"], rtol=1e-12)


def test_training_carries_the_state_and_resets_it_each_epoch():
    # lr = 0: the weights never move, so every loss can be recomputed by hand
    s = toy_stream(3)
    m = make_model(hidden=6, seed=7)
    hist = train_recurrent_lm(m, s, SGD(m.parameters(), lr=0.0), epochs=2, batch_size=2, bptt=4, show=False)
    chunks = list(stream_batches(s, 2, 4))
    ce = CrossEntropyLoss(ignore_index=IGNORE)
    expected, state = [], None
    for x, y in chunks:
        logits, state = m(x, state)
        expected.append(float(ce(logits.reshape(-1, V), y.reshape(-1))))
    np.testing.assert_allclose(hist["loss"], expected * 2, rtol=1e-12)  # epoch 2 starts from zeros again
    logits, _ = m(chunks[1][0])  # from a zero state, chunk 2 would score differently
    assert not np.isclose(float(ce(logits.reshape(-1, V), chunks[1][1].reshape(-1))), expected[1])


# --------------------------------------------------------------------------- evaluation
def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_recurrent_nll_by_hand(cell):
    s = toy_stream(3)
    m = make_model(cell, hidden=6, seed=8)
    batch = 3
    per_row = (len(s) - 1) // batch
    rows_in = s[:per_row * batch].reshape(batch, per_row)
    rows_out = s[1:per_row * batch + 1].reshape(batch, per_row)
    logp = _log_softmax(m(rows_in)[0])  # one forward over each whole row: what carrying the state gives
    keep = rows_out != BOS_ID
    expected = -np.mean(np.take_along_axis(logp, rows_out[..., None], axis=-1)[..., 0][keep])
    grads = [p.grad.copy() for p in m.parameters()]
    for bptt in (1, 4, per_row, 100):
        np.testing.assert_allclose(recurrent_nll(m, s, batch_size=batch, bptt=bptt), expected, rtol=1e-12)
    for g, p in zip(grads, m.parameters()):  # nothing trained
        np.testing.assert_array_equal(p.grad, g)


def test_recurrent_nll_of_a_uniform_model_is_log_v():
    m = make_model(vocab=11, hidden=4)
    m.head.weight.data[...] = 0.0
    m.head.bias.data[...] = 0.0
    s = sentence_stream([[3, 4, 5], [9, 10]] * 4)
    np.testing.assert_allclose(recurrent_nll(m, s, 2, 3), math.log(11), rtol=1e-13)


# --------------------------------------------------------------------------- generation
def _greedy_by_hand(m, n, max_new):
    token, state, out = np.full((1, 1), BOS_ID), None, []
    for _ in range(max_new):
        logits, state = m(token, state)
        nxt = int(np.argmax(logits[0, 0]))
        out.append(nxt)
        if nxt == EOS_ID:
            break
        token = np.array([[nxt]])
    return [out] * n


@pytest.fixture(scope="module")
def trained():
    m = make_model(hidden=8, seed=9)
    train_recurrent_lm(m, toy_stream(), Adam(m.parameters(), lr=0.05), epochs=5, batch_size=2, bptt=5, show=False)
    return m


def test_greedy_equals_an_argmax_rollout(trained):
    got = generate_recurrent(trained, 3, 12, temperature=0.0)
    assert got == _greedy_by_hand(trained, 3, 12)
    assert len(set(got[0])) >= 4  # a real sentence: each step reads the token written before it
    assert got[0][-1] == EOS_ID and len(got[0]) < 12  # it learnt to end its sentences


def test_greedy_without_eos_runs_to_the_limit():
    m = make_model(hidden=8, seed=9)
    m.head.bias.data[EOS_ID] = -50.0  # never stops: the whole rollout is compared
    got = generate_recurrent(m, 3, 12, temperature=0.0)
    assert got == _greedy_by_hand(m, 3, 12)
    assert all(len(seq) == 12 for seq in got)


def test_greedy_stops_after_eos_included():
    m = make_model(hidden=8, seed=9)
    m.head.bias.data[EOS_ID] = -50.0
    # the margin by which <eos> loses at each step of the rollout (the rollout does not depend on it
    # as long as <eos> loses): raise <eos> so that it first wins at the step s where that margin is least
    token, state, margins = np.full((1, 1), BOS_ID), None, []
    for _ in range(10):
        logits, state = m(token, state)
        z = logits[0, 0]
        margins.append(np.max(np.delete(z, EOS_ID)) - z[EOS_ID])
        token = np.array([[int(np.argmax(z))]])
    s = int(np.argmin(margins))
    earlier = min(margins[:s], default=np.inf)
    assert s >= 1 and margins[s] < earlier, "the test needs a later step to be the closest"
    m.head.bias.data[EOS_ID] += margins[s] + 0.5 * min(earlier - margins[s], 1.0)
    got = generate_recurrent(m, 2, 10, temperature=0)
    expected = _greedy_by_hand(m, 2, 10)
    assert got == expected
    assert got[0][-1] == EOS_ID and len(got[0]) == s + 1 and EOS_ID not in got[0][:-1]


def test_eos_always_and_never():
    m = make_model(hidden=4)
    m.head.bias.data[EOS_ID] = 100.0
    assert generate_recurrent(m, 4, 10, temperature=0) == [[EOS_ID]] * 4
    assert generate_recurrent(m, 2, 10, generator=np.random.default_rng(0)) == [[EOS_ID]] * 2
    assert generate_recurrent(m, 3, 0) == [[], [], []]


def test_sampling_is_seeded_and_rows_stop_independently():
    m = make_model(hidden=8, seed=10)
    m.head.bias.data[EOS_ID] += 1.5  # <eos> about one token in four
    a = generate_recurrent(m, 8, 15, generator=np.random.default_rng(0))
    b = generate_recurrent(m, 8, 15, generator=np.random.default_rng(0))
    c = generate_recurrent(m, 8, 15, generator=np.random.default_rng(1))
    assert a == b and a != c
    lengths = {len(seq) for seq in a}
    assert len(lengths) >= 3  # rows end at different steps
    for seq in a:
        assert 1 <= len(seq) <= 15 and all(isinstance(i, int) and 0 <= i < V for i in seq)
        assert EOS_ID not in seq[:-1]  # nothing after <eos>
        assert seq[-1] == EOS_ID or len(seq) == 15
    top1 = generate_recurrent(m, 3, 6, top_k=1, generator=np.random.default_rng(2))
    assert top1 == generate_recurrent(m, 3, 6, temperature=0)  # top-k 1 is greedy


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_sequences=0), "n_sequences"), (dict(n_sequences=True), "n_sequences"),
    (dict(n_sequences=2.0), "n_sequences"), (dict(max_new_tokens=-1), "max_new_tokens"),
    (dict(max_new_tokens=True), "max_new_tokens"), (dict(max_new_tokens=3.0), "max_new_tokens"),
    (dict(temperature=-1.0), "temperature"), (dict(temperature=float("nan")), "temperature"),
])
def test_generate_errors(kwargs, match):
    args = dict(n_sequences=2, max_new_tokens=5) | kwargs
    with pytest.raises(ValueError, match=match):
        generate_recurrent(make_model(), **args)


def test_generation_and_evaluation_leave_training_working():
    # after generate_recurrent / recurrent_nll (forward only, then clear_cache) a training step is
    # exactly the one of an untouched copy of the model
    used, fresh = make_model(hidden=6, seed=12), make_model(hidden=6, seed=12)
    generate_recurrent(used, 3, 7, generator=np.random.default_rng(0))
    recurrent_nll(used, toy_stream(2), 2, 3)
    used.clear_cache()  # a second call is harmless
    ids = np.array([[1, 3, 4, 5], [1, 5, 4, 3]])
    g = np.random.default_rng(3).standard_normal((2, 4, V))
    for m in (used, fresh):
        m.zero_grad()
        m(ids)
        m.backward(g)
    for (name, p), q in zip(used.named_parameters(), fresh.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
