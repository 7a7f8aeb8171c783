"""Word vectors (単語ベクトル) for notebook 06: learn them, compare them, look at them.

Learning (the model of the notebook, packaged)::

    sequences = [tok.encode(s) for s in sentences]
    contexts, targets = cbow_examples(sequences, window=4)     # (N, 8), (N,)
    model = CBOW(tok.vocab_size, 32)                           # Embedding + mean + Linear
    run = train_cbow(sequences, tok.vocab_size, lang="en", itos=tok.itos)
    run.snapshots[-1]                                          # (V, 32): the learned table

or in one call, on the course's corpus: ``train_word_vectors("en")``.

Comparing and looking (pure functions, unit-tested; the explorer draws them)::

    cosine_similarity(A, B)                 # (n, D), (m, D) -> (n, m)
    nearest_neighbours(vectors, words, "dog", k=5)
    pca(X, 2).coords                        # (N, 2): the 2-D projection
    cluster_quality(vectors, labels)        # fraction whose nearest neighbour shares its class
    random_cluster_quality(labels, dim)     # the same for random vectors (the baseline)

Plots show Japanese words by their English translation (:func:`word_label`)
so that no CJK font is needed; tables and widgets show the Japanese itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from . import random as _random
from .nn import CrossEntropyLoss, Embedding, Linear, Module
from .text.lexicon import CLASS_NAMES, WORD_CLASSES, translate_word
from .text.tokenizers import BOS_ID, EOS_ID

__all__ = [
    "CLASS_COLORS", "FUNCTION_WORD_LABELS", "word_label", "content_words",
    "cosine_similarity", "nearest_neighbours", "PCAResult", "pca", "align_2d",
    "nearest_neighbour_indices", "cluster_quality", "class_quality", "random_cluster_quality",
    "chance_cluster_quality",
    "cbow_examples", "CBOW", "WordVectorRun", "train_cbow", "train_word_vectors",
    "DEFAULT_WINDOW", "DEFAULT_DIM", "DEFAULT_EPOCHS", "DEFAULT_LR", "DEFAULT_BATCH",
]

#: the settings of the notebook (and of ``train_word_vectors``)
DEFAULT_WINDOW, DEFAULT_DIM, DEFAULT_EPOCHS, DEFAULT_LR, DEFAULT_BATCH = 4, 32, 8, 0.03, 256

#: one colour per word class (Okabe & Ito, plus grey for function words)
CLASS_COLORS = {
    "animal": "#0072B2", "person": "#E69F00", "food": "#009E73", "drink": "#56B4E9",
    "thing": "#CC79A7", "place": "#D55E00", "adjective": "#F0E442", "verb": "#000000",
    "function": "#999999",
}
assert tuple(CLASS_COLORS) == CLASS_NAMES

#: plot labels of the Japanese function words (no CJK font needed)
FUNCTION_WORD_LABELS = {"が": "ga", "を": "o", "で": "de", "。": "."}


# --------------------------------------------------------------------------- words
def word_label(word: str, lang: str = "en") -> str:
    """A label for ``word`` that any font can draw: the word itself in English,
    its English translation for a Japanese word (``"子犬"`` -> ``"puppy"``)."""
    if lang == "en" or word.isascii():
        return word
    if word in FUNCTION_WORD_LABELS:
        return FUNCTION_WORD_LABELS[word]
    try:
        return translate_word(word, "ja", "en")
    except KeyError:
        return word.encode("ascii", "backslashreplace").decode("ascii")


def content_words(itos: Sequence[str], lang: str = "en") -> tuple[list[str], np.ndarray, list[str]]:
    """The words of a vocabulary that the grammar classifies (special tokens left out).

    Returns ``(words, ids, classes)``: the words in id order, their ids (n,)
    and their word classes (``"animal"``, ``"verb"``, ...).
    """
    table = WORD_CLASSES[lang]
    pairs = [(i, w) for i, w in enumerate(itos) if w in table]
    words = [w for _, w in pairs]
    return words, np.array([i for i, _ in pairs], dtype=np.int64), [table[w] for w in words]


# --------------------------------------------------------------------------- similarity
def _as_matrix(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (one vector per row), got shape {x.shape}")
    return x


def cosine_similarity(a, b=None, eps: float = 1e-12) -> np.ndarray:
    r"""Cosine similarity (コサイン類似度) of every row of ``a`` with every row of ``b``.

    .. math:: S_{ij} = \frac{a_i \cdot b_j}{\lVert a_i \rVert \, \lVert b_j \rVert}

    Shapes: ``a`` (n, D), ``b`` (m, D) (default: ``a``) -> ``S`` (n, m),
    values in [-1, 1]. A zero row has similarity 0 with everything (its norm
    is replaced by ``eps``).
    """
    a = _as_matrix(a, "a")
    b = a if b is None else _as_matrix(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have vectors of the same length, got {a.shape} and {b.shape}")
    a_unit = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), eps)  # (n, D), rows of length 1
    b_unit = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), eps)  # (m, D)
    return np.clip(a_unit @ b_unit.T, -1.0, 1.0)  # (n, m)


def nearest_neighbours(vectors, words: Sequence[str], word: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` words most similar (by cosine) to ``word``, itself left out.

    ``vectors`` (n, D) holds one row per entry of ``words``. Returns
    ``[(neighbour, similarity), ...]``, most similar first (ties: lower row first).
    """
    vectors = _as_matrix(vectors, "vectors")
    words = list(words)
    if len(words) != vectors.shape[0]:
        raise ValueError(f"nearest_neighbours: {len(words)} words for {vectors.shape[0]} vectors")
    if word not in words:
        raise KeyError(f"nearest_neighbours: {word!r} is not among the words")
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"nearest_neighbours: k must be an int >= 1, got {k!r}")
    i = words.index(word)
    sims = cosine_similarity(vectors[i:i + 1], vectors)[0]  # (n,)
    order = [j for j in np.argsort(-sims, kind="stable") if j != i][:k]
    return [(words[j], float(sims[j])) for j in order]


def nearest_neighbour_indices(sims: np.ndarray) -> np.ndarray:
    """For a square similarity matrix (n, n): the index of each row's most similar *other* row, (n,)."""
    sims = np.array(sims, dtype=np.float64)  # a copy: the diagonal is overwritten
    if sims.ndim != 2 or sims.shape[0] != sims.shape[1] or sims.shape[0] < 2:
        raise ValueError(f"expected a square similarity matrix with at least 2 rows, got shape {sims.shape}")
    np.fill_diagonal(sims, -np.inf)
    return np.argmax(sims, axis=1)


# --------------------------------------------------------------------------- PCA
@dataclass(frozen=True)
class PCAResult:
    """Principal component analysis (主成分分析) of ``N`` points in ``D`` dimensions.

    ``coords`` (N, k): the points in the new axes; ``components`` (k, D): the
    axes (unit vectors, orthogonal); ``mean`` (D,); ``explained_variance_ratio``
    (k,): the share of the total variance along each axis.
    """

    coords: np.ndarray
    components: np.ndarray
    mean: np.ndarray
    explained_variance_ratio: np.ndarray


def pca(x, n_components: int = 2) -> PCAResult:
    """Project the rows of ``x`` (N, D) onto their ``n_components`` directions of largest variance.

    Centre the data (subtract the mean row), take the singular value
    decomposition ``X_c = L S R^T`` (notebook 06's letters: ``U`` and ``V``
    name other things there): the rows of ``R^T`` are the principal axes,
    ``X_c R`` the coordinates, and ``S**2 / sum(S**2)`` the share of
    variance of each axis. Signs are made deterministic: each axis points so
    that its largest entry (in absolute value) is positive.
    """
    x = _as_matrix(x, "x")
    n, d = x.shape
    if not isinstance(n_components, (int, np.integer)) or not 1 <= n_components <= min(n, d):
        raise ValueError(f"pca: n_components must be between 1 and min(N, D) = {min(n, d)}, got {n_components!r}")
    mean = x.mean(axis=0)                                  # (D,)
    xc = x - mean                                          # (N, D)
    _, s, rt = np.linalg.svd(xc, full_matrices=False)      # rt: (min(N, D), D), the axes as rows
    comps = rt[:n_components]                              # (k, D)
    big = np.argmax(np.abs(comps), axis=1)
    comps = comps * np.sign(comps[np.arange(n_components), big])[:, None]
    total = float(np.sum(s**2))
    ratio = s[:n_components] ** 2 / total if total > 0 else np.zeros(n_components)
    return PCAResult(coords=xc @ comps.T, components=comps, mean=mean, explained_variance_ratio=ratio)


def align_2d(coords, reference) -> np.ndarray:
    """Rotate (or mirror) ``coords`` (N, k) to best match ``reference`` (N, k).

    The orthogonal matrix R minimising ||coords R - reference|| (orthogonal
    Procrustes: R = U V^T from the SVD of coords^T reference). Distances and
    angles between points are unchanged; the explorer uses it so that the
    picture does not spin or flip from one training epoch to the next.
    """
    coords, reference = _as_matrix(coords, "coords"), _as_matrix(reference, "reference")
    if coords.shape != reference.shape:
        raise ValueError(f"align_2d: shapes differ, {coords.shape} and {reference.shape}")
    u, _, vt = np.linalg.svd(coords.T @ reference)
    return coords @ (u @ vt)


# --------------------------------------------------------------------------- cluster quality
def _labels(labels, n: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"expected {n} labels (one per vector), got shape {labels.shape}")
    return labels


def cluster_quality(vectors, labels) -> float:
    """How often a word's nearest neighbour (by cosine, itself excluded) has the same label.

    ``vectors`` (n, D), ``labels`` (n,) such as word classes. 1.0: every word
    sits next to one of its own class; random vectors score about
    :func:`chance_cluster_quality`.
    """
    vectors = _as_matrix(vectors, "vectors")
    labels = _labels(labels, vectors.shape[0])
    nn_idx = nearest_neighbour_indices(cosine_similarity(vectors))
    return float(np.mean(labels[nn_idx] == labels))


def class_quality(vectors, labels) -> dict[str, float]:
    """:func:`cluster_quality` class by class: label -> fraction of its words whose nearest neighbour shares it."""
    vectors = _as_matrix(vectors, "vectors")
    labels = _labels(labels, vectors.shape[0])
    hit = labels[nearest_neighbour_indices(cosine_similarity(vectors))] == labels
    order = [c for c in CLASS_NAMES if c in set(labels.tolist())] + sorted(set(labels.tolist()) - set(CLASS_NAMES))
    return {c: float(np.mean(hit[labels == c])) for c in order}


def random_cluster_quality(labels, dim: int, trials: int = 100,
                           generator: np.random.Generator | None = None) -> np.ndarray:
    """:func:`cluster_quality` of ``trials`` sets of random N(0, 1) vectors of length ``dim``, (trials,)."""
    labels = np.asarray(labels)
    if not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"random_cluster_quality: trials must be an int >= 1, got {trials!r}")
    rng = _random.resolve(generator)
    return np.array([cluster_quality(rng.standard_normal((len(labels), dim)), labels) for _ in range(trials)])


def chance_cluster_quality(labels) -> float:
    """The expected cluster quality when each word's nearest neighbour is any other word, uniformly.

    Word i of a class with n_c members has n_c - 1 classmates among the
    N - 1 other words: the mean of (n_c - 1) / (N - 1) over all words.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if n < 2:
        raise ValueError("chance_cluster_quality needs at least 2 labels")
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return float(np.mean((counts[inverse] - 1) / (n - 1)))


# --------------------------------------------------------------------------- the CBOW model
def cbow_examples(sequences, window: int = DEFAULT_WINDOW, bos_id: int = BOS_ID,
                  eos_id: int = EOS_ID) -> tuple[np.ndarray, np.ndarray]:
    """Training examples for CBOW: each word with the ``window`` words on each side of it.

    ``sequences``: one list of token ids per sentence (``tok.encode(s)``).
    Each sentence is padded with ``window`` ``<bos>`` in front and ``window``
    ``<eos>`` at the end, so every word has a full context. Returns
    ``contexts`` (N, 2 * window) (left words, then right words) and
    ``targets`` (N,): one example per word of the corpus.
    """
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"cbow_examples: window must be an int >= 1, got {window!r}")
    contexts, targets = [], []
    for i, seq in enumerate(sequences):
        ids = np.asarray(seq, dtype=np.int64)
        if ids.ndim != 1:
            raise ValueError(f"cbow_examples: sequence {i} must be a 1-D list of ids, got shape {ids.shape}")
        if ids.size == 0:
            continue
        padded = np.concatenate([np.full(window, bos_id), ids, np.full(window, eos_id)])
        rows = np.lib.stride_tricks.sliding_window_view(padded, 2 * window + 1)  # (n, 2w + 1)
        contexts.append(np.delete(rows, window, axis=1))   # (n, 2w): the middle column left out
        targets.append(ids)
    if not targets:
        raise ValueError("cbow_examples: no words in the sequences")
    return np.concatenate(contexts), np.concatenate(targets)


class CBOW(Module):
    r"""Continuous bag of words (Mikolov et al., 2013): guess a word from its neighbours.

    For a batch of contexts (the ids of the words around each target word)::

        context (B, 2w)    ids of the w words on the left and the w on the right
        e = embedding(context)        (B, 2w, D)   look up one vector per word
        h = e.mean(axis=1)            (B, D)       average them ("bag": order is ignored)
        logits = output(h)            (B, V)       one score per vocabulary word

    Trained with cross-entropy against the word in the middle. Parameters:
    ``embedding.weight`` (V, D), the word vectors, and ``output.weight`` (V, D),
    ``output.bias`` (V,). ``backward(grad_logits)`` fills their gradients and
    returns ``None`` (ids have no gradient).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, dtype=np.float64,
                 generator: np.random.Generator | None = None) -> None:
        super().__init__()
        rng = _random.resolve(generator)
        self.vocab_size, self.embedding_dim = int(vocab_size), int(embedding_dim)
        self.embedding = Embedding(vocab_size, embedding_dim, dtype=dtype, generator=rng)
        self.output = Linear(embedding_dim, vocab_size, dtype=dtype, generator=rng)
        self._n_context = None  # cache: how many context words were averaged

    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}, embedding_dim={self.embedding_dim}"

    def forward(self, context) -> np.ndarray:
        context = np.asarray(context)
        if context.ndim != 2:
            raise ValueError(f"{self._name()} expects context ids of shape (B, 2 * window), got {context.shape}")
        e = self.embedding(context)          # (B, 2w, D)
        self._n_context = e.shape[1]
        h = e.mean(axis=1)                   # (B, D)
        return self.output(h)                # (B, V)

    def backward(self, grad_logits, input_grad: bool = True) -> None:
        self._check_input_grad(input_grad)  # accepted as by every Module; ids have no gradient anyway
        n = self._require_cache(self._n_context)
        dh = self.output.backward(grad_logits)                      # (B, D)
        de = np.repeat(dh[:, None, :] / n, n, axis=1)               # (B, 2w, D): the mean shares it out
        self.embedding.backward(de)                                 # scatter-add into the table
        return None


@dataclass
class WordVectorRun:
    """One training run: the embedding table at regular points of training.

    ``epochs`` (S,): when each snapshot was taken, in epochs (0 = before
    training); ``snapshots`` (S, V, D): ``embedding.weight`` at those times;
    ``losses`` (n_epochs,): the mean training loss of each epoch; ``itos``:
    the vocabulary (row i of a table is the vector of ``itos[i]``).
    """

    lang: str
    itos: list[str]
    epochs: np.ndarray
    snapshots: np.ndarray
    losses: np.ndarray
    settings: dict = field(default_factory=dict)

    @property
    def vectors(self) -> np.ndarray:
        """The final table (V, D)."""
        return self.snapshots[-1]


def train_cbow(sequences, vocab_size: int, *, lang: str = "en", itos: Sequence[str] | None = None,
               window: int = DEFAULT_WINDOW, embedding_dim: int = DEFAULT_DIM, epochs: int = DEFAULT_EPOCHS,
               batch_size: int = DEFAULT_BATCH, lr: float = DEFAULT_LR, snapshots_per_epoch: int = 4,
               dtype=np.float64, generator: np.random.Generator | None = None,
               on_epoch: Callable[[int, float], None] | None = None) -> WordVectorRun:
    """Train a :class:`CBOW` model with Adam and a cosine learning-rate decay (the loop of notebook 06):
    ``WarmupCosineLR`` of notebook 03 with ``warmup_steps=0``, from ``lr`` down to 0 over all the steps.

    Random numbers, in order: the model's initial weights, then one
    permutation of the examples per epoch, all from ``generator``. The
    embedding table is copied ``snapshots_per_epoch`` times per epoch, at
    evenly spaced steps, and once before training. ``on_epoch(epoch, mean_loss)`` is called after
    each epoch (e.g. to update a progress bar).
    """
    from .optim import Adam, WarmupCosineLR

    for name, v in (("epochs", epochs), ("batch_size", batch_size), ("snapshots_per_epoch", snapshots_per_epoch),
                    ("embedding_dim", embedding_dim)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"train_cbow: {name} must be an int >= 1, got {v!r}")
    rng = _random.resolve(generator)
    contexts, targets = cbow_examples(sequences, window)
    model = CBOW(vocab_size, embedding_dim, dtype=dtype, generator=rng)
    criterion = CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=lr)
    n = len(targets)
    steps_per_epoch = -(-n // batch_size)
    if snapshots_per_epoch > steps_per_epoch:
        raise ValueError(f"train_cbow: {snapshots_per_epoch} snapshots per epoch, but an epoch has only "
                         f"{steps_per_epoch} steps of batch_size {batch_size}")
    scheduler = WarmupCosineLR(optimizer, warmup_steps=0, total_steps=epochs * steps_per_epoch)  # cosine only
    # snapshot j of an epoch after step round(j * steps_per_epoch / snapshots_per_epoch), labelled epoch + j / spe
    snap_at = {int(round(j * steps_per_epoch / snapshots_per_epoch)): j for j in range(1, snapshots_per_epoch + 1)}
    snap_epochs, snaps = [0.0], [model.embedding.weight.data.copy()]
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for step, start in enumerate(range(0, n, batch_size), start=1):
            batch = order[start:start + batch_size]
            logits = model(contexts[batch])                     # (B, V)
            loss = criterion(logits, targets[batch])
            total += loss * len(batch)
            optimizer.zero_grad()
            model.backward(criterion.backward())
            optimizer.step()
            scheduler.step()
            if step in snap_at:
                snap_epochs.append(epoch + snap_at[step] / snapshots_per_epoch)
                snaps.append(model.embedding.weight.data.copy())
        losses.append(total / n)
        if on_epoch is not None:
            on_epoch(epoch + 1, losses[-1])
    settings = dict(window=window, embedding_dim=embedding_dim, epochs=epochs, batch_size=batch_size, lr=lr)
    return WordVectorRun(lang=lang, itos=list(itos) if itos is not None else [str(i) for i in range(vocab_size)],
                         epochs=np.array(snap_epochs), snapshots=np.stack(snaps), losses=np.array(losses),
                         settings=settings)


def train_word_vectors(lang: str = "en", seed: int = 0, **kwargs) -> WordVectorRun:
    """:func:`train_cbow` on the course's training corpus of ``lang`` with the notebook's settings."""
    from .text import load_corpus, load_vocab

    tok = load_vocab(lang)
    sequences = [tok.encode(s) for s in load_corpus(lang)]
    return train_cbow(sequences, tok.vocab_size, lang=lang, itos=tok.itos,
                      generator=np.random.default_rng(seed), **kwargs)
