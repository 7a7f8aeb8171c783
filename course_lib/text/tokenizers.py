"""Tokenizers (トークナイザ): text -> list of integer ids -> text.

Two tokenizers with the same interface:

* :class:`CharTokenizer`: one token per character (文字単位). Works on any
  text, in any language, with a small vocabulary.
* :class:`WordTokenizer`: one token per space-separated word (単語単位), as
  in our corpora ``the small puppy chases a cat .`` and
  ``小さな 子犬 が 猫 を 追いかける 。``. A newline, if the fitted text has
  one, is a token of its own (``"\\n"``).

The vocabulary (語彙) is the list ``itos`` ("integer to string"); ``stoi`` is
its inverse. Ids 0, 1, 2 are always the special tokens:

==========  ==  ====================================================================
``<unk>``   0   unknown token: anything not in the vocabulary (see below)
``<bos>``   1   beginning of sentence: the context before the first word
``<eos>``   2   end of sentence: the model writes it to say "this sentence is done"
==========  ==  ====================================================================

then every token of the fitted text, in sorted (Unicode code point) order.

**Sentences for a language model** (notebook 07)::

    ids = tok.encode("the dog sleeps .", add_bos=True, add_eos=True)
    # [1, ..., 2]: <bos> the dog sleeps . <eos>

A model with a context of k tokens starts from ``[tok.bos_id] * k`` and writes
one token at a time until it writes ``tok.eos_id``.

**Unknown-token policy**: ``encode`` maps any token that is not in the
vocabulary (never seen by ``fit``, or seen fewer than ``min_freq`` times) to
``<unk>``; with ``strict=True`` it raises a ValueError instead. ``decode``
writes id 0 as ``"<unk>"``. So ``decode(encode(text)) == text`` exactly when
every token of ``text`` is in the vocabulary and, for WordTokenizer, words are
separated by single spaces with no spaces at the ends of lines (true of every
corpus file in ``data/``).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

SPECIAL_TOKENS = ("<unk>", "<bos>", "<eos>")
UNK_ID, BOS_ID, EOS_ID = 0, 1, 2
FORMAT_VERSION = 1


class Tokenizer:
    """Shared machinery. Subclasses define ``tokenize`` (text -> tokens) and
    ``join`` (tokens -> text)."""

    unk_id, bos_id, eos_id = UNK_ID, BOS_ID, EOS_ID

    def __init__(self, tokens):
        """``tokens``: the vocabulary without the special tokens, in id order."""
        tokens = list(tokens)
        for token in tokens:
            self._check_token(token)
        duplicates = sorted(t for t, c in Counter(tokens).items() if c > 1)
        if duplicates or set(tokens) & set(SPECIAL_TOKENS):
            raise ValueError(f"{type(self).__name__}: tokens must be unique and must not "
                             f"include {SPECIAL_TOKENS}, got duplicates {duplicates[:5]}")
        self.itos: list[str] = list(SPECIAL_TOKENS) + tokens
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(self.itos)}

    # ------------------------------------------------------------------ building
    @classmethod
    def fit(cls, text, min_freq: int = 1):
        """Build the vocabulary from ``text`` (a str or a list of sentences).

        Tokens seen fewer than ``min_freq`` times are left out (they become
        ``<unk>``): useful on the reader's own text, where rare words would
        otherwise get ids the model barely sees.
        """
        if not isinstance(min_freq, int) or min_freq < 1:
            raise ValueError(f"{cls.__name__}.fit: min_freq must be an integer >= 1, got {min_freq!r}")
        counts = Counter()
        for piece in _as_texts(text, f"{cls.__name__}.fit"):
            counts.update(cls.tokenize(piece))
        tokens = sorted(t for t, c in counts.items() if c >= min_freq and t not in SPECIAL_TOKENS)
        return cls(tokens)

    @classmethod
    def from_corpus(cls, text, min_freq: int = 1):
        """Same as :meth:`fit`."""
        return cls.fit(text, min_freq=min_freq)

    # ------------------------------------------------------------------ sizes and ids
    @property
    def vocab_size(self) -> int:
        """Number of ids, special tokens included."""
        return len(self.itos)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"

    # ------------------------------------------------------------------ encode / decode
    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False,
               strict: bool = False) -> list[int]:
        """Text -> ids. Unknown tokens become ``<unk>`` (or a ValueError if ``strict``)."""
        if not isinstance(text, str):
            raise TypeError(f"{self!r}.encode expects a str, got {type(text).__name__} "
                            f"(for a list of sentences: [tok.encode(s) for s in sentences])")
        ids = [self.bos_id] if add_bos else []
        for position, token in enumerate(self.tokenize(text)):
            token_id = self.stoi.get(token, self.unk_id)
            if strict and token_id == self.unk_id:
                raise ValueError(f"{self!r}.encode: token {token!r} at position {position} "
                                 f"is not in the vocabulary")
            ids.append(token_id)
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def decode(self, ids, skip_special: bool = False) -> str:
        """Ids -> text. ``skip_special`` drops ``<bos>`` and ``<eos>`` (not ``<unk>``)."""
        ids = self._check_ids(ids)
        tokens = [self.itos[i] for i in ids
                  if not (skip_special and i in (self.bos_id, self.eos_id))]
        return self.join(tokens)

    def tokens(self, text: str) -> list[str]:
        """The tokens of ``text`` as strings (unknown ones shown as ``<unk>``)."""
        return [self.itos[i] for i in self.encode(text)]

    def _check_ids(self, ids) -> list[int]:
        """Ids as a list of Python ints, or a ValueError naming the bad one."""
        where = f"{self!r}.decode"
        if isinstance(ids, np.ndarray):
            if ids.ndim != 1:
                raise ValueError(f"{where} expects a 1-D sequence of ids, got an array of shape {ids.shape}")
            if not np.issubdtype(ids.dtype, np.integer):
                raise ValueError(f"{where} expects integer ids, got an array of dtype {ids.dtype}")
            ids = ids.tolist()
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise ValueError(f"{where} expects a sequence of integer ids, got {type(ids).__name__}")
        checked = []
        for position, i in enumerate(ids):
            if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
                raise ValueError(f"{where} expects integer ids, got {type(i).__name__} {i!r} "
                                 f"at position {position}")
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"{where} expects ids in [0, {self.vocab_size}), got {int(i)} "
                                 f"at position {position}")
            checked.append(int(i))
        return checked

    # ------------------------------------------------------------------ saving
    def to_dict(self) -> dict:
        return {"type": type(self).__name__, "format_version": FORMAT_VERSION, "itos": self.itos}

    def to_json(self) -> str:
        """The saved form: JSON, one token per line, Japanese written as is."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    def save(self, path) -> None:
        """Write the vocabulary as UTF-8 JSON (see :meth:`to_json`)."""
        Path(path).write_bytes(self.to_json().encode("utf-8"))

    @classmethod
    def load(cls, path):
        """Read a tokenizer written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{cls.__name__}.load: no such file: '{path}'")
        data = json.loads(path.read_text(encoding="utf-8"))
        kind = data.get("type") if isinstance(data, dict) else None
        if kind not in _TOKENIZERS:
            raise ValueError(f"{cls.__name__}.load: '{path}' is not a saved tokenizer")
        if cls is not Tokenizer and kind != cls.__name__:
            raise ValueError(f"{cls.__name__}.load: '{path}' holds a {kind}; "
                             f"use {kind}.load or load_tokenizer")
        itos = data["itos"]
        if list(itos[:len(SPECIAL_TOKENS)]) != list(SPECIAL_TOKENS):
            raise ValueError(f"{cls.__name__}.load: '{path}' does not start with {SPECIAL_TOKENS}")
        return _TOKENIZERS[kind](itos[len(SPECIAL_TOKENS):])

    # ------------------------------------------------------------------ subclass hooks
    @staticmethod
    def tokenize(text: str) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def join(tokens: list[str]) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_token(self, token) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class CharTokenizer(Tokenizer):
    """One token per character: ``"子犬 が"`` -> ``["子", "犬", " ", "が"]``.

    >>> tok = CharTokenizer.fit("the dog .")
    >>> tok.decode(tok.encode("the god ."))
    'the god .'
    """

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return list(text)

    @staticmethod
    def join(tokens: list[str]) -> str:
        return "".join(tokens)

    def _check_token(self, token) -> None:
        if not isinstance(token, str) or len(token) != 1:
            raise ValueError(f"CharTokenizer: every token must be one character, got {token!r}")


_WORD = re.compile(r"\n|[^\s]+")


class WordTokenizer(Tokenizer):
    """One token per space-separated word; a newline is a token of its own.

    >>> tok = WordTokenizer.fit(["the dog sleeps .", "the cat runs ."])
    >>> tok.encode("the cat sleeps .")
    [8, 4, 7, 3]
    >>> tok.decode(tok.encode("the bird sleeps ."))
    'the <unk> sleeps .'
    """

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return _WORD.findall(text)

    @staticmethod
    def join(tokens: list[str]) -> str:
        """Words joined by single spaces, with no space around a newline."""
        out = []
        for token in tokens:
            if out and token != "\n" and out[-1] != "\n":
                out.append(" ")
            out.append(token)
        return "".join(out)

    def _check_token(self, token) -> None:
        if not isinstance(token, str) or not (token == "\n" or _WORD.fullmatch(token)):
            raise ValueError(f"WordTokenizer: a token is a word without spaces (or '\\n'), "
                             f"got {token!r}")


_TOKENIZERS = {"CharTokenizer": CharTokenizer, "WordTokenizer": WordTokenizer}


def load_tokenizer(path):
    """Load a CharTokenizer or WordTokenizer saved with ``save``, whichever it is."""
    return Tokenizer.load(path)


def _as_texts(text, where: str) -> list[str]:
    """A str or an iterable of str, as a list of str."""
    if isinstance(text, str):
        return [text]
    try:
        texts = list(text)
    except TypeError:
        raise TypeError(f"{where} expects a str or a list of str, got {type(text).__name__}") from None
    for t in texts:
        if not isinstance(t, str):
            raise TypeError(f"{where} expects a str or a list of str, got an item of type "
                            f"{type(t).__name__}")
    return texts
