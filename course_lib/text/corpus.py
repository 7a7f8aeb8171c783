"""The course's corpora (コーパス) on disk, and the reader's own text files.

The committed files in ``data/`` (see ``data/README.md``) are made by
:func:`corpus_files` from the grammar with fixed seeds; ``tools/make_corpus.py``
writes them and a test checks they are reproduced byte for byte.

=========================  =====================================================
``corpus_{lang}_train.txt``  :data:`TRAIN_SENTENCES` sentences, seed :data:`TRAIN_SEED`
``corpus_{lang}_valid.txt``  :data:`VALID_SENTENCES` held-out sentences, seed :data:`VALID_SEED`
``vocab_{lang}.json``        the WordTokenizer fitted on the training file
``vocab_{lang}_chars.json``  the CharTokenizer fitted on the training file
=========================  =====================================================

One sentence per line, UTF-8, ``\\n`` line ends, a final newline. The
validation sentences are drawn independently of the training ones, so some
short sentences occur in both (as they would in any real text).
"""
from __future__ import annotations

from pathlib import Path

from .._data import data_dir
from .grammar import generate_sentences, realise
from .lexicon import LANGS, check_lang
from .tokenizers import CharTokenizer, WordTokenizer

# The checkout's data/, or the copy inside an installed wheel (course_lib/_data.py).
DATA_DIR = data_dir()
TRAIN_SENTENCES, TRAIN_SEED = 4000, 0
VALID_SENTENCES, VALID_SEED = 500, 1
SPLITS = {"train": (TRAIN_SENTENCES, TRAIN_SEED), "valid": (VALID_SENTENCES, VALID_SEED)}


# --------------------------------------------------------------------------- the committed corpora
def corpus_path(lang: str = "en", split: str = "train", data_dir=None) -> Path:
    """Where the corpus of ``lang`` ("en"/"ja") and ``split`` ("train"/"valid") lives."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'valid', got {split!r}")
    return Path(data_dir or DATA_DIR) / f"corpus_{check_lang(lang)}_{split}.txt"


def vocab_path(lang: str = "en", level: str = "word", data_dir=None) -> Path:
    """Where the saved tokenizer of ``lang`` lives (``level``: "word" or "char")."""
    if level not in ("word", "char"):
        raise ValueError(f"level must be 'word' or 'char', got {level!r}")
    suffix = "" if level == "word" else "_chars"
    return Path(data_dir or DATA_DIR) / f"vocab_{check_lang(lang)}{suffix}.json"


def load_corpus(lang: str = "en", split: str = "train", data_dir=None) -> list[str]:
    """The committed sentences of ``lang`` and ``split``, one str per sentence."""
    text = corpus_path(lang, split, data_dir).read_text(encoding="utf-8")
    return text.splitlines()


def load_vocab(lang: str = "en", level: str = "word", data_dir=None):
    """The committed tokenizer (WordTokenizer or CharTokenizer) of ``lang``."""
    cls = WordTokenizer if level == "word" else CharTokenizer
    return cls.load(vocab_path(lang, level, data_dir))


def corpus_files() -> dict[str, bytes]:
    """Every file :func:`write_corpus_files` writes: file name -> exact bytes.

    Each split is drawn once as abstract sentences and written in both
    languages (the same lines as ``generate_corpus(n, lang, seed)``).
    """
    sentences = {split: generate_sentences(n, seed) for split, (n, seed) in SPLITS.items()}
    files: dict[str, bytes] = {}
    for lang in LANGS:
        lines = {split: [realise(s, lang) for s in sents] for split, sents in sentences.items()}
        for split in SPLITS:
            files[corpus_path(lang, split, ".").name] = ("\n".join(lines[split]) + "\n").encode("utf-8")
        for level, cls in (("word", WordTokenizer), ("char", CharTokenizer)):
            tokenizer = cls.fit(lines["train"])
            files[vocab_path(lang, level, ".").name] = tokenizer.to_json().encode("utf-8")
    return files


def write_corpus_files(data_dir=None) -> list[Path]:
    """Write the corpora and vocabularies into ``data_dir`` (default: :data:`DATA_DIR`)."""
    data_dir = Path(data_dir or DATA_DIR)
    data_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in corpus_files().items():
        (data_dir / name).write_bytes(content)
        written.append(data_dir / name)
    return written


# --------------------------------------------------------------------------- the reader's own text
def load_text_file(path, min_chars: int = 1000) -> str:
    """Read the reader's own UTF-8 text file for a language model.

    Returns the text with Windows line ends turned into ``\\n`` and a leading
    byte-order mark removed. Raises:

    * FileNotFoundError naming the path if there is no such file;
    * ValueError saying where the first bad byte is if the file is not UTF-8;
    * ValueError if the text has fewer than ``min_chars`` characters
      (not counting spaces and newlines at its ends): too short to train on.
    """
    if not isinstance(min_chars, int) or min_chars < 1:
        raise ValueError(f"load_text_file: min_chars must be an integer >= 1, got {min_chars!r}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load_text_file: no such file: '{path}' "
                                f"(looked for {path.resolve()})")
    if path.is_dir():
        raise IsADirectoryError(f"load_text_file: '{path}' is a folder; give the path of a text file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(_not_utf8_message(path, data, err.start)) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    n_chars = len(text.strip())
    if n_chars < min_chars:
        raise ValueError(f"load_text_file: '{path}' has only {n_chars} characters; a language "
                         f"model needs at least min_chars={min_chars} to learn anything. "
                         f"Use a longer text (or lower min_chars to experiment).")
    return text


def _not_utf8_message(path: Path, data: bytes, start: int) -> str:
    """Where the first byte that is not UTF-8 sits: offset, line and column."""
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    column = len(data[line_start:start].decode("utf-8")) + 1
    return (f"load_text_file: '{path}' is not UTF-8 text: byte 0x{data[start]:02x} at offset "
            f"{start} (line {line}, column {column}) cannot be decoded. Save the file as "
            f"UTF-8 (most editors: 'Save with Encoding' -> UTF-8); Japanese text from older "
            f"Windows tools is often Shift_JIS or CP932.")
