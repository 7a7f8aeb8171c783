r"""A recurrent language model (再帰型言語モデル), trained with truncated backpropagation through time.

::

    ids     (B, T)          token ids, batch first (as the GPT of notebook 11)
    e     = emb(ids)        (B, T, D)      D = emb_dim
    h, s  = rnn(e, state)   (B, T, H)      H = hidden; s: the final state, carried to the next chunk
    logits= head(h)         (B, T, V)      the next token's logits at every position

``rnn`` is ``nn.LSTM`` or ``nn.RNN`` (``cell="lstm"`` / ``"rnn"``), batch first.
Unlike the MLP of notebook 07, which sees a fixed window of k tokens, the
state ``s`` summarises *everything* read so far.

Training on a long stream (truncated BPTT, 打ち切りBPTT): the text is one long
sequence of ids, cut into B parallel rows and read in chunks of ``bptt``
tokens (:func:`stream_batches`). Each chunk starts from the state the previous
chunk ended in (the memory is carried over), but the backward pass stops at
the chunk's start (the gradient is cut): backpropagating through the whole
history would cost memory and time growing with the text. Gradients are
clipped by their total norm (``clip_grad_norm_``, notebook 03) before each
update, the standard guard against an RNN's exploding gradients.
"""
from __future__ import annotations

import numpy as np

from .. import random as _random
from ..lm import _check_common, _pick
from ..nn import LSTM, RNN, CrossEntropyLoss, Embedding, Linear, Module
from ..nn.utils import clip_grad_norm_
from ..text.tokenizers import BOS_ID, EOS_ID

__all__ = ["RecurrentLanguageModel", "sentence_stream", "stream_batches", "train_recurrent_lm", "recurrent_nll",
           "generate_recurrent", "IGNORE"]

IGNORE = -100  # CrossEntropyLoss's ignore_index: targets that do not count (a <bos> after an <eos>)


class RecurrentLanguageModel(Module):
    """Embedding -> LSTM (or RNN) -> Linear, over token ids (B, T).

    ``forward(ids, state=None)`` returns ``(logits, state)``: logits (B, T, V)
    and the final state (the LSTM's ``(h_n, c_n)``, the RNN's ``h_n``, each
    (num_layers, B, hidden)), to pass to the next call. ``backward(grad_logits)``
    backpropagates through the chunk and adds every parameter's gradient; the
    gradient with respect to the incoming ``state`` is dropped (truncated
    BPTT) and, ids having no gradient, it returns None.

    Parameters: ``emb.weight`` (V, D); ``rnn.weight_ih_l0`` (G*H, D),
    ``rnn.weight_hh_l0`` (G*H, H), ``rnn.bias_ih_l0``, ``rnn.bias_hh_l0`` (G*H,),
    G = 4 for the LSTM, 1 for the RNN; ``head.weight`` (V, H), ``head.bias`` (V,).
    """

    def __init__(self, vocab_size: int, emb_dim: int, hidden: int, cell: str = "lstm", num_layers: int = 1,
                 dtype=np.float64, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        for name, v in (("vocab_size", vocab_size), ("emb_dim", emb_dim), ("hidden", hidden)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"RecurrentLanguageModel: {name} must be a positive int, got {v!r}")
        if cell not in ("lstm", "rnn"):
            raise ValueError(f"RecurrentLanguageModel: cell must be 'lstm' or 'rnn', got {cell!r}")
        rng = _random.resolve(generator)
        self.vocab_size, self.emb_dim, self.hidden, self.cell = int(vocab_size), int(emb_dim), int(hidden), cell
        self.emb = Embedding(vocab_size, emb_dim, dtype=dtype, generator=rng)
        rnn_cls = LSTM if cell == "lstm" else RNN
        self.rnn = rnn_cls(emb_dim, hidden, num_layers=num_layers, batch_first=True, dtype=dtype, generator=rng)
        self.head = Linear(hidden, vocab_size, dtype=dtype, generator=rng)
        self._shape = None  # cache: (B, T) of the last input

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, emb_dim={self.emb_dim}, hidden={self.hidden}, cell={self.cell!r}"

    def forward(self, ids, state=None):
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"{self._name()} expects token ids of shape (B, T), got {ids.shape}"
                             + ("; for one sequence add the batch axis: ids[None]" if ids.ndim == 1 else ""))
        self._shape = ids.shape
        e = self.emb(ids)                      # (B, T, D)
        h, state = self.rnn(e, state)          # (B, T, H); the final state
        return self.head(h), state             # (B, T, V)

    def backward(self, grad_out, input_grad: bool = True) -> None:
        self._check_input_grad(input_grad)     # accepted as by every Module; ids have no gradient anyway
        b, t = self._require_cache(self._shape)
        g = self._check_grad_out(grad_out, (b, t, self.vocab_size))
        gh = self.head.backward(g)             # (B, T, H)
        ge, _ = self.rnn.backward(gh)          # (B, T, D); the incoming state's gradient is cut here
        self.emb.backward(ge)                  # scatter-add into the rows used
        return None


# --------------------------------------------------------------------------- data
def sentence_stream(sentences_ids, bos_id: int = BOS_ID, eos_id: int = EOS_ID) -> np.ndarray:
    """Sentences (lists of ids without special tokens) as one stream: <bos> w .. w <eos> <bos> w .. <eos>."""
    parts = [np.concatenate([[bos_id], np.asarray(s, dtype=np.int64), [eos_id]]) for s in sentences_ids]
    if not parts:
        raise ValueError("sentence_stream: no sentences")
    return np.concatenate(parts).astype(np.int64)


def stream_batches(stream, batch_size: int, bptt: int, bos_id: int | None = BOS_ID):
    """Cut a stream of ids into ``batch_size`` parallel rows and read them in chunks of ``bptt`` tokens.

    The stream (L,) becomes a (B, L // B) array: row b is one contiguous
    piece of the text, so chunk j+1 of a row continues chunk j of the same row
    and the state can be carried from one chunk to the next. Yields
    ``(inputs, targets)``, each (B, t) with t = bptt (the last chunk may be
    shorter); ``targets`` are the inputs shifted by one token. A target equal
    to ``bos_id`` (the start of a sentence, certain after an <eos>) is
    replaced by :data:`IGNORE` so that it does not count in the loss; pass
    ``bos_id=None`` to keep every target.
    """
    stream = np.asarray(stream, dtype=np.int64)
    for name, v in (("batch_size", batch_size), ("bptt", bptt)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ValueError(f"stream_batches: {name} must be a positive int, got {v!r}")
    if stream.ndim != 1 or len(stream) < batch_size + 1:
        raise ValueError(f"stream_batches: need a 1-D stream of more than batch_size = {batch_size} ids, "
                         f"got shape {stream.shape}")
    per_row = (len(stream) - 1) // batch_size
    inputs = stream[:per_row * batch_size].reshape(batch_size, per_row)        # (B, L // B)
    targets = stream[1:per_row * batch_size + 1].reshape(batch_size, per_row)  # shifted by one
    if bos_id is not None:
        targets = np.where(targets == bos_id, IGNORE, targets)
    for start in range(0, per_row, bptt):
        yield inputs[:, start:start + bptt], targets[:, start:start + bptt]


# --------------------------------------------------------------------------- training and evaluation
def train_recurrent_lm(model: RecurrentLanguageModel, stream, optimizer, epochs: int, batch_size: int = 32,
                       bptt: int = 32, clip: float | None = 1.0, scheduler=None, desc: str = "recurrent LM",
                       show: bool = True) -> dict:
    """Truncated BPTT over ``stream`` for ``epochs`` passes (see the module docstring).

    Each pass starts from a zero state; within it, every chunk starts from the
    previous chunk's final state, and backward stops at the chunk's start.
    ``clip``: the total gradient norm is clipped to this value before each step
    (None: no clipping). ``scheduler.step()`` is called after every update.
    Returns ``{"loss": (steps,), "grad_norm": (steps,)}``, the norm measured
    before clipping.
    """
    from ..progress import Progress

    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs <= 0:
        raise ValueError(f"train_recurrent_lm: epochs must be a positive int, got {epochs!r}")
    chunks = list(stream_batches(stream, batch_size, bptt))
    criterion = CrossEntropyLoss(ignore_index=IGNORE)
    losses, norms = [], []
    with Progress(total=int(epochs) * len(chunks), desc=desc, show=show) as prog:
        for _ in range(epochs):
            state = None                                       # a new pass starts with an empty memory
            for x, y in chunks:
                logits, state = model(x, state)                # (B, t, V); the state goes on to the next chunk
                loss = criterion(logits.reshape(-1, model.vocab_size), y.reshape(-1))
                optimizer.zero_grad()
                model.backward(criterion.backward().reshape(logits.shape))  # stops at the chunk's start
                norm = clip_grad_norm_(model.parameters(), clip) if clip is not None else _total_norm(model)
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                losses.append(loss)
                norms.append(norm)
                prog.update(loss=float(np.mean(losses[-20:])))
    return {"loss": np.array(losses), "grad_norm": np.array(norms)}


def _total_norm(model: Module) -> float:
    """The norm clip_grad_norm_ would report, without clipping."""
    return clip_grad_norm_(model.parameters(), float("inf"))


def recurrent_nll(model: RecurrentLanguageModel, stream, batch_size: int = 16, bptt: int = 64) -> float:
    """Mean negative log-likelihood (nats per token) of ``stream``, read as in training.

    The stream is read in (B, t) chunks with the state carried over, so every
    token is predicted from everything before it in its row; targets that are
    a <bos> are not counted (see :func:`stream_batches`): the tokens scored are
    every word and every <eos>, the same as notebook 07's ``mean_nll``.
    Nothing is trained (no backward; the caches are dropped).
    """
    from ..nn.functional import log_softmax

    total, count = 0.0, 0
    state = None
    for x, y in stream_batches(stream, batch_size, bptt):
        logits, state = model(x, state)
        logp = log_softmax(logits.astype(np.float64), axis=-1)      # (B, t, V)
        keep = y != IGNORE
        total -= float(np.sum(np.take_along_axis(logp, np.where(keep, y, 0)[..., None], axis=-1)[..., 0][keep]))
        count += int(keep.sum())
    model.clear_cache()
    return total / count


def generate_recurrent(model: RecurrentLanguageModel, n_sequences: int, max_new_tokens: int,
                       temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                       generator: np.random.Generator | None = None, bos_id: int = BOS_ID,
                       eos_id: int = EOS_ID) -> list[list[int]]:
    """``n_sequences`` sequences from ``<bos>``, side by side, one token per step (自己回帰).

    Each step feeds only the newest token and the state: the state already
    holds everything before it, so a step costs the same at token 3 and at
    token 300 (an MLP or a Transformer without a cache re-reads its window).
    Choosing the token is ``course_lib.lm.generate_batch``'s (temperature,
    top-k, top-p, a seeded draw; 0 = greedy). Returns one list of new ids per
    sequence, ``<eos>`` included when it was written.
    """
    _check_common(max_new_tokens, temperature, "generate_recurrent")
    if isinstance(n_sequences, bool) or not isinstance(n_sequences, (int, np.integer)) or n_sequences < 1:
        raise ValueError(f"generate_recurrent: n_sequences must be an int >= 1, got {n_sequences!r}")
    rng = _random.resolve(generator)
    token = np.full((n_sequences, 1), bos_id, dtype=np.int64)       # (B, 1): the newest token of each row
    out: list[list[int]] = [[] for _ in range(n_sequences)]
    active = np.ones(n_sequences, dtype=bool)
    state = None
    for _ in range(max_new_tokens):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        logits, state = model(token, state)                         # (B, 1, V): one step for every row
        next_ids = np.asarray(_pick(logits[rows, 0].astype(np.float64), temperature, top_k, top_p, rng))
        token[rows, 0] = next_ids
        for r, i in zip(rows, next_ids):
            out[r].append(int(i))
        active[rows[next_ids == eos_id]] = False
    model.clear_cache()
    return out
