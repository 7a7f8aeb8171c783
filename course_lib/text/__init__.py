"""Text for the language-model notebooks (06 Embeddings, 07 Autoregression).

* :mod:`~course_lib.text.lexicon`: the words, in English and Japanese, and
  their classes (``WORD_CLASSES``, ``word_class``, ``ANIMAL_PAIRS``).
* :mod:`~course_lib.text.grammar`: a small probabilistic grammar that writes
  sentences (``generate_corpus``), the same sentence in both languages.
* :mod:`~course_lib.text.parser`: the *judge*, a parser of that grammar that
  says whether a sentence is grammatical and why not (``is_grammatical``,
  ``explain``, ``judge``).
* :mod:`~course_lib.text.tokenizers`: ``CharTokenizer`` and ``WordTokenizer``.
* :mod:`~course_lib.text.corpus`: the committed corpora in ``data/``
  (``load_corpus``, ``load_vocab``) and ``load_text_file`` for your own text.

The lexicon is split from the grammar because it is long, plain data; the
judge is split from the grammar because a parser is a different algorithm
from a sampler, even if both obey the same rules (which live in ``grammar``).
"""
from .corpus import (
    DATA_DIR, TRAIN_SENTENCES, VALID_SENTENCES, corpus_path, load_corpus, load_text_file,
    load_vocab, vocab_path, write_corpus_files,
)
from .grammar import NounPhrase, Sentence, generate_corpus, generate_sentences, realise
from .parser import (
    ERROR_KINDS, GrammarError, Verdict, explain, grammatical_fraction, is_grammatical, judge,
    parse, translate,
)
from .lexicon import (
    ANIMAL_PAIRS, CLASS_NAMES, WORD_CLASSES, translate_word, vocabulary, word_class,
)
from .tokenizers import CharTokenizer, WordTokenizer, load_tokenizer

__all__ = [
    "ANIMAL_PAIRS", "CLASS_NAMES", "CharTokenizer", "DATA_DIR", "ERROR_KINDS", "GrammarError",
    "NounPhrase", "Sentence", "TRAIN_SENTENCES", "VALID_SENTENCES", "Verdict", "WORD_CLASSES",
    "WordTokenizer", "corpus_path", "explain", "generate_corpus", "generate_sentences",
    "grammatical_fraction", "is_grammatical", "judge", "load_corpus", "load_text_file",
    "load_tokenizer", "load_vocab", "parse", "realise", "translate", "translate_word",
    "vocab_path", "vocabulary", "word_class", "write_corpus_files",
]
