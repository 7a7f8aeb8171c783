"""Language models (言語モデル) for notebook 07: next-token prediction and generation.

A language model here is a function of a **window** of the most recent token
ids that returns **logits** for the next token::

    logits = model_fn(window)      # window (..., k) int ids -> logits (..., V)

``k`` is the model's context size (文脈長): 1 for a bigram model, a few
tokens for the MLP model of Bengio et al. (2003). Every sequence starts with
``k`` copies of ``<bos>``, so the first word also has a full window, and ends
with ``<eos>``, which the model must learn to predict too::

    <bos> <bos> <bos> the dog sleeps . <eos>
    window (<bos>, <bos>, <bos>) -> target "the"
    window (<bos>, <bos>, the)   -> target "dog"   ... and so on (teacher forcing)

Contents, in the order the notebook uses them:

* :func:`make_windows`: sentences of ids -> training pairs ``X (N, k)``, ``Y (N,)``.
* :func:`unigram_log_probs`, :func:`count_bigrams`, :func:`bigram_log_probs`:
  the count-based baselines, with add-alpha smoothing (加算スムージング).
* :func:`mean_nll` and :func:`perplexity` (パープレキシティ): how good a model is.
* :class:`MLPLanguageModel`: embed k tokens, concatenate, Linear + tanh + Linear.
* :func:`train_lm`: the minibatch AdamW loop of the notebook, packaged.
* :func:`generate` (one sequence, one token at a time) and
  :func:`generate_batch` (many sequences at once, for measurements).

Everything random takes a ``generator`` (``None``: course_lib's default).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from . import random as _random
from .nn import Embedding, Linear, Module, Tanh
from .nn.functional import log_softmax
from .sampling import greedy, sample_next
from .text.tokenizers import BOS_ID, EOS_ID

__all__ = [
    "make_windows", "unigram_log_probs", "count_bigrams", "bigram_log_probs", "table_model",
    "mean_nll", "perplexity", "sequence_log_prob", "MLPLanguageModel", "train_lm", "generate",
    "generate_batch",
]

ModelFn = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- data
def _check_sequences(sequences, where: str) -> list[np.ndarray]:
    if isinstance(sequences, np.ndarray) and sequences.ndim == 1:
        raise TypeError(f"{where} expects a list of sequences (one list of ids per sentence), "
                        f"got one 1-D array; wrap it in a list: [ids]")
    out = []
    for i, seq in enumerate(sequences):
        arr = np.asarray(seq)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{where}: sequence {i} must be a 1-D list of integer ids, got {arr.dtype} "
                            f"of shape {arr.shape}")
        out.append(arr.astype(np.int64))
    return out


def make_windows(sequences, context_size: int, bos_id: int = BOS_ID,
                 eos_id: int = EOS_ID) -> tuple[np.ndarray, np.ndarray]:
    """Training pairs for next-token prediction (次トークン予測).

    ``sequences``: a list of token-id lists, one per sentence, *without*
    special tokens (``tok.encode(s)``). Each sentence is padded with
    ``context_size`` ``<bos>`` in front and one ``<eos>`` at the end; every
    position then gives one pair (the ``context_size`` ids before it, the id at
    it). A sentence of n tokens gives n + 1 pairs.

    Returns ``X`` of shape (N, context_size) and ``Y`` of shape (N,), int64.
    """
    if isinstance(context_size, bool) or not isinstance(context_size, (int, np.integer)) or context_size < 1:
        raise ValueError(f"make_windows: context_size must be an int >= 1, got {context_size!r}")
    k = int(context_size)
    xs, ys = [], []
    for seq in _check_sequences(sequences, "make_windows"):
        padded = np.concatenate([np.full(k, bos_id, dtype=np.int64), seq, [eos_id]])  # (k + n + 1,)
        n_pairs = len(seq) + 1
        # row t holds padded[t : t + k], the k ids before target padded[t + k]
        idx = np.arange(n_pairs)[:, None] + np.arange(k)[None, :]  # (n + 1, k)
        xs.append(padded[idx])
        ys.append(padded[k:])
    if not xs:
        return np.zeros((0, k), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(xs), np.concatenate(ys)


# --------------------------------------------------------------------------- count models
def _check_alpha(alpha: float, where: str) -> float:
    if not isinstance(alpha, (int, float, np.floating)) or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"{where}: alpha must be a finite number >= 0, got {alpha!r}")
    return float(alpha)


def _smoothed_log(counts: np.ndarray, alpha: float) -> np.ndarray:
    """log((c + alpha) / (sum c + alpha V)) along the last axis; rows without any count become uniform."""
    c = counts.astype(np.float64) + alpha
    total = c.sum(axis=-1, keepdims=True)
    empty = total == 0  # alpha = 0 and a context never seen: nothing to go on
    c = np.where(empty, 1.0, c)
    total = np.where(empty, c.shape[-1], total)
    with np.errstate(divide="ignore"):  # alpha = 0: unseen pairs get log 0 = -inf, on purpose
        return np.log(c) - np.log(total)


def unigram_log_probs(sequences, vocab_size: int, alpha: float = 1.0, eos_id: int = EOS_ID) -> np.ndarray:
    """log p(w) of a unigram model: how often each token is a *target*, add-alpha smoothed.

    The targets are the tokens of every sentence plus one ``<eos>`` each (as
    in :func:`make_windows`). Returns (V,) log-probabilities.
    """
    alpha = _check_alpha(alpha, "unigram_log_probs")
    counts = np.zeros(vocab_size, dtype=np.int64)
    for seq in _check_sequences(sequences, "unigram_log_probs"):
        np.add.at(counts, seq, 1)
        counts[eos_id] += 1
    return _smoothed_log(counts, alpha)


def count_bigrams(sequences, vocab_size: int, bos_id: int = BOS_ID, eos_id: int = EOS_ID) -> np.ndarray:
    """``counts[a, b]``: how often token b follows token a, counting ``<bos>`` -> first word
    and last word -> ``<eos>``. Shape (V, V), int64."""
    X, Y = make_windows(sequences, 1, bos_id, eos_id)  # (N, 1), (N,)
    if X.size and (X.max() >= vocab_size or Y.max() >= vocab_size or X.min() < 0 or Y.min() < 0):
        raise ValueError(f"count_bigrams: ids must be in [0, {vocab_size - 1}]")
    counts = np.zeros((vocab_size, vocab_size), dtype=np.int64)
    np.add.at(counts, (X[:, 0], Y), 1)  # one count per (previous, next) pair
    return counts


def bigram_log_probs(counts, alpha: float = 1.0) -> np.ndarray:
    r"""Add-alpha smoothed bigram model from :func:`count_bigrams`.

    .. math:: p(b \mid a) = \frac{c(a, b) + \alpha}{\sum_{b'} c(a, b') + \alpha V}

    ``alpha = 0`` is the maximum-likelihood estimate: pairs never seen get
    probability 0 (log-probability ``-inf``); a row never seen at all is
    uniform. Returns (V, V) log-probabilities, row a = the distribution after a.
    """
    alpha = _check_alpha(alpha, "bigram_log_probs")
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"bigram_log_probs expects a square (V, V) count matrix, got {counts.shape}")
    return _smoothed_log(counts, alpha)


def table_model(log_probs: np.ndarray) -> ModelFn:
    """A model function for a bigram table: ``window (..., k) -> log_probs[window[..., -1]]``.

    Log-probabilities are valid logits (softmax(log p) = p), so a table plugs
    into everything that takes a model function. It looks at the last id only.
    """
    table = np.asarray(log_probs)
    if table.ndim != 2:
        raise ValueError(f"table_model expects a (V, V) table, got shape {table.shape}")

    def model_fn(window):
        return table[np.asarray(window)[..., -1]]  # (..., V)

    return model_fn


# --------------------------------------------------------------------------- evaluation
def mean_nll(model_fn: ModelFn, X, Y, batch_size: int = 4096) -> float:
    """Mean negative log-likelihood (平均負の対数尤度) of targets ``Y`` (N,) given windows ``X`` (N, k).

    This is the cross-entropy loss, in nats per token. Computed in batches of
    ``batch_size`` rows in float64. A model that gives a target probability 0
    (a ``-inf`` logit) gets ``inf``.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.shape != (X.shape[0],):
        raise ValueError(f"mean_nll expects X (N, k) and Y (N,), got {X.shape} and {Y.shape}")
    if len(Y) == 0:
        raise ValueError("mean_nll needs at least one (window, target) pair")
    total = 0.0
    for start in range(0, len(Y), batch_size):
        logits = np.asarray(model_fn(X[start:start + batch_size]), dtype=np.float64)  # (b, V)
        logp = log_softmax(logits, axis=-1)  # a -inf logit gives a -inf log-probability, quietly
        total -= float(np.sum(logp[np.arange(len(logits)), Y[start:start + batch_size]]))
    return total / len(Y)


def perplexity(nll: float) -> float:
    """exp(mean NLL): the number of equally likely choices the model is as unsure as."""
    return float(math.exp(nll)) if nll < 700 else math.inf


# --------------------------------------------------------------------------- the MLP model
class MLPLanguageModel(Module):
    r"""The neural language model of Bengio et al. (2003), as small as it gets.

    For a window of ``context`` token ids::

        ids   (..., k)                 k = context
        e   = emb(ids)                 (..., k, d)      d = emb_dim: one learned vector per token
        x   = e.reshape(..., k * d)    (..., k d)       concatenate the k vectors
        h   = tanh(fc1(x))             (..., H)         H = hidden
        out = fc2(h)                   (..., V)         logits of the next token

    ``backward(grad_logits)`` adds every parameter's gradient and returns
    ``None`` (token ids have no gradient). Parameters: ``emb.weight`` (V, d),
    ``fc1.weight`` (H, k d), ``fc1.bias`` (H,), ``fc2.weight`` (V, H),
    ``fc2.bias`` (V,).
    """

    def __init__(self, vocab_size: int, context: int, emb_dim: int, hidden: int,
                 dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("vocab_size", vocab_size), ("context", context), ("emb_dim", emb_dim),
                        ("hidden", hidden)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"MLPLanguageModel: {name} must be a positive int, got {v!r}")
        rng = _random.resolve(generator)
        self.vocab_size, self.context = int(vocab_size), int(context)
        self.emb_dim, self.hidden = int(emb_dim), int(hidden)
        self.emb = Embedding(vocab_size, emb_dim, dtype=dtype, generator=rng)
        self.fc1 = Linear(context * emb_dim, hidden, dtype=dtype, generator=rng)
        self.act = Tanh()
        self.fc2 = Linear(hidden, vocab_size, dtype=dtype, generator=rng)
        self._lead = None  # cache: the leading shape (...) of the last input

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, context={self.context}, emb_dim={self.emb_dim}, "
                f"hidden={self.hidden}")

    def forward(self, ids) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim == 0 or ids.shape[-1] != self.context:
            raise ValueError(f"{self._name()} expects a window of token ids of shape (..., {self.context}), "
                             f"got {ids.shape} (keep the last {self.context} ids: ids[-{self.context}:])")
        self._lead = ids.shape[:-1]
        e = self.emb(ids)                                            # (..., k, d)
        x = e.reshape(*self._lead, self.context * self.emb_dim)     # (..., k d)
        h = self.act(self.fc1(x))                                    # (..., H)
        return self.fc2(h)                                           # (..., V)

    def backward(self, grad_out, input_grad: bool = True) -> None:
        self._check_input_grad(input_grad)  # accepted as by every Module; ids have no gradient anyway
        lead = self._require_cache(self._lead)
        g = self._check_grad_out(grad_out, (*lead, self.vocab_size))
        gh = self.fc2.backward(g)                                    # (..., H)
        gx = self.fc1.backward(self.act.backward(gh))                # (..., k d)
        self.emb.backward(gx.reshape(*lead, self.context, self.emb_dim))  # (..., k, d): scatter-add
        return None


# --------------------------------------------------------------------------- training
def train_lm(model: Module, X, Y, optimizer, steps: int, batch_size: int = 256,
             generator: np.random.Generator | None = None, desc: str = "training",
             show: bool = True) -> np.ndarray:
    """Minibatch training with cross-entropy: the loop of notebook 07, section 8, packaged.

    Each step draws ``batch_size`` random rows of ``X`` (N, k) / ``Y`` (N,),
    runs forward, the loss, backward and ``optimizer.step()``. A progress bar
    shows in a notebook; one summary line is printed at the end (the mean
    training loss of the last 100 steps). Returns the loss of every step, (steps,).
    """
    from .nn import CrossEntropyLoss
    from .progress import Progress

    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.shape != (X.shape[0],) or len(Y) == 0:
        raise ValueError(f"train_lm expects X (N, k) and Y (N,) with N > 0, got {X.shape} and {Y.shape}")
    rng = _random.resolve(generator)
    criterion = CrossEntropyLoss()
    losses = np.empty(steps)
    with Progress(total=steps, desc=desc, show=show) as prog:
        for step in range(steps):
            idx = rng.integers(0, len(Y), size=batch_size)        # a random minibatch
            logits = model(X[idx])                                 # (B, V)
            losses[step] = criterion(logits, Y[idx])
            optimizer.zero_grad()
            model.backward(criterion.backward())
            optimizer.step()
            prog.update(loss=float(np.mean(losses[max(0, step - 99):step + 1])))
    return losses


# --------------------------------------------------------------------------- generation
def _check_common(max_new_tokens, temperature, where: str) -> None:
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
        raise ValueError(f"{where}: max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
    if not isinstance(temperature, (int, float, np.floating)) or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"{where}: temperature must be >= 0 (0 means greedy), got {temperature!r}")


def _pick(logits, temperature, top_k, top_p, rng):
    """The next id(s): greedy for temperature 0, else a draw from the filtered distribution."""
    if temperature == 0:
        return greedy(logits)
    return sample_next(logits, temperature, top_k, top_p, generator=rng)


def generate(model_fn: ModelFn, context_ids: Sequence[int], max_new_tokens: int,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             generator: np.random.Generator | None = None, context_size: int | None = None,
             eos_id: int | None = EOS_ID) -> list[int]:
    """Write up to ``max_new_tokens`` tokens after ``context_ids``, one at a time (自己回帰).

    Each step: take the window (the last ``context_size`` ids, or all ids if
    ``context_size`` is None), ask ``model_fn`` for the logits of the next
    token, choose one (temperature, then top-k, then top-p, then a seeded
    draw; ``temperature=0`` is greedy: always the most likely token), append it
    and repeat. Stops after ``<eos>`` (``eos_id``; None: never stops early).

    Returns the new ids only, including the final ``<eos>`` if one was written.
    """
    _check_common(max_new_tokens, temperature, "generate")
    ids = [int(i) for i in context_ids]
    if context_size is not None and len(ids) < context_size:
        raise ValueError(f"generate: the model needs a window of {context_size} ids but the context has "
                         f"{len(ids)}; start from [bos_id] * {context_size} (+ your prompt)")
    if context_size is None and not ids:
        raise ValueError("generate: context_ids is empty; start from [bos_id]")
    rng = _random.resolve(generator)
    new: list[int] = []
    for _ in range(max_new_tokens):
        window = np.array(ids if context_size is None else ids[-context_size:])  # (k,)
        logits = np.asarray(model_fn(window), dtype=np.float64)                 # (V,)
        next_id = int(_pick(logits, temperature, top_k, top_p, rng))
        ids.append(next_id)                                                    # the model reads its own output
        new.append(next_id)
        if eos_id is not None and next_id == eos_id:
            break
    return new


def generate_batch(model_fn: ModelFn, n_sequences: int, context_size: int, max_new_tokens: int,
                   temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                   generator: np.random.Generator | None = None, bos_id: int = BOS_ID,
                   eos_id: int = EOS_ID) -> list[list[int]]:
    """``n_sequences`` sequences from ``[bos_id] * context_size``, generated side by side.

    The same as calling :func:`generate` ``n_sequences`` times, but each step
    asks the model once for all unfinished sequences: ``model_fn`` receives a
    (B, context_size) batch of windows and returns (B, V) logits. Returns one
    list of new ids per sequence, ``<eos>`` included when it was written.
    """
    _check_common(max_new_tokens, temperature, "generate_batch")
    if isinstance(n_sequences, bool) or not isinstance(n_sequences, (int, np.integer)) or n_sequences < 1:
        raise ValueError(f"generate_batch: n_sequences must be an int >= 1, got {n_sequences!r}")
    rng = _random.resolve(generator)
    k = int(context_size)
    seqs = np.full((n_sequences, k + max_new_tokens), bos_id, dtype=np.int64)  # (B, k + max_new)
    lengths = np.zeros(n_sequences, dtype=np.int64)  # new tokens written so far
    active = np.ones(n_sequences, dtype=bool)
    for t in range(max_new_tokens):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        windows = seqs[rows, t:t + k]                                          # (b, k): the last k ids
        logits = np.asarray(model_fn(windows), dtype=np.float64)               # (b, V)
        next_ids = np.asarray(_pick(logits, temperature, top_k, top_p, rng))   # (b,)
        seqs[rows, k + t] = next_ids
        lengths[rows] += 1
        active[rows[next_ids == eos_id]] = False
    return [seqs[i, k:k + lengths[i]].tolist() for i in range(n_sequences)]


def sequence_log_prob(model_fn: ModelFn, ids: Sequence[int], context_size: int,
                      bos_id: int = BOS_ID, eos_id: int = EOS_ID) -> tuple[float, np.ndarray]:
    """The chain rule: log p(w_1 ... w_n <eos>) = sum_t log p(w_t | w_<t).

    ``ids``: the tokens of one sentence without special tokens. Returns the
    total log-probability and the (n + 1,) per-token probabilities
    p(w_t | window), ``<eos>`` last.
    """
    X, Y = make_windows([list(ids)], context_size, bos_id, eos_id)
    logp = log_softmax(np.asarray(model_fn(X), dtype=np.float64), axis=-1)[np.arange(len(Y)), Y]
    return float(np.sum(logp)), np.exp(logp)


