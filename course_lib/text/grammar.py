"""A small probabilistic grammar (確率文法) that writes simple sentences.

A sentence is first drawn as an *abstract sentence* (who does what to whom,
where), then *realised* in English or Japanese::

    Sentence(subject=NounPhrase("puppy", "small", "the"), verb="chases",
             obj=NounPhrase("cat", None, "a"), place="park")
    en: the small puppy chases a cat in the park .
    ja: 小さな 子犬 が 公園 で 猫 を 追いかける 。

Because the random draws never depend on the language, ``generate_corpus(n,
"en", seed)`` and ``generate_corpus(n, "ja", seed)`` are translations of each
other, line by line.

The shapes of a sentence::

    en:  NP verb [NP] [preposition the place] .
         NP = [the | a | an] [adjective] noun       (uncountable nouns may go bare)
    ja:  [place で] NP が [place で] [NP を] verb 。
         NP = [adjective] noun

The *meaning rules* (who can do what, with what, where) are the predicates
below: the generator only draws what they allow, and the judge
(:mod:`course_lib.text.parser`) uses the very same predicates to reject
"the book eats the dog".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lexicon import ADJECTIVES, NOUNS, PERIOD, VERBS, Adjective, Noun, Verb, check_lang

# --------------------------------------------------------------------------- probabilities
P_TRANSITIVE = 0.6    # the verb takes an object ("chases a cat") rather than none ("sleeps")
P_ADJECTIVE = 0.25    # a noun phrase gets an adjective ("the small puppy")
P_THE = 0.6           # a countable noun takes "the" (otherwise "a" / "an")
P_THE_MASS = 0.4      # an uncountable noun takes "the" (otherwise no article: "eats rice")
P_PLACE = 0.4         # the sentence says where ("in the park")
P_PLACE_FIRST = 0.25  # Japanese only: the place comes first (公園 で 子犬 が ...)

VOWELS = "aeiou"


# --------------------------------------------------------------------------- abstract sentences
@dataclass(frozen=True)
class NounPhrase:
    """A noun with an optional adjective and (English only) its article.

    ``noun`` and ``adjective`` are concept keys (the English words).
    ``article`` is ``"the"``, ``"a"`` (written "an" before a vowel) or ``""``
    (no article: uncountable nouns only). Japanese has no articles.
    """

    noun: str
    adjective: str | None = None
    article: str = "the"


@dataclass(frozen=True)
class Sentence:
    """An abstract sentence: subject, verb, optional object, optional place.

    ``place_first`` only changes the Japanese word order (公園 で 子犬 が ...).
    """

    subject: NounPhrase
    verb: str
    obj: NounPhrase | None = None
    place: str | None = None
    place_first: bool = False


# --------------------------------------------------------------------------- meaning rules
def can_be_subject(noun: Noun, verb: Verb) -> bool:
    """Can ``noun`` do ``verb``? (a dog barks, a book does not)."""
    return bool(noun.tags & verb.subjects)


def can_be_object(noun: Noun, verb: Verb) -> bool:
    """Can ``verb`` be done to ``noun``? (one reads a book, not a cow)."""
    return verb.objects is not None and bool(noun.tags & verb.objects)


def fits_diet(subject: Noun, food: Noun) -> bool:
    """Does ``subject`` eat or drink ``food``? (a cow eats grass, not meat)."""
    return bool(subject.tags & food.eaten_by)


def can_describe(adjective: Adjective, noun: Noun) -> bool:
    """Can ``adjective`` describe ``noun``? (a cute kitten, not a cute newspaper)."""
    return bool(noun.tags & adjective.describes)


def allowed_places(subject: Noun, verb: Verb, obj: Noun | None = None) -> tuple:
    """The places where this can happen: where the subject (and an animal or
    person object) can be, and where the verb can happen. Keeps table order."""
    places = [p for p in subject.places if verb.places is None or p in verb.places]
    if obj is not None and obj.places:
        places = [p for p in places if p in obj.places]
    return tuple(places)


def verbs_for(subject: Noun, transitive: bool) -> list[Verb]:
    """The verbs ``subject`` can do, transitive or not."""
    return [v for v in VERBS.values() if v.transitive == transitive and can_be_subject(subject, v)]


def objects_for(subject: Noun, verb: Verb) -> list[Noun]:
    """The nouns that can be the object of ``subject verb ...``."""
    return [n for n in NOUNS.values()
            if can_be_object(n, verb) and (not verb.diet or fits_diet(subject, n))]


def adjectives_for(noun: Noun) -> list[Adjective]:
    return [a for a in ADJECTIVES.values() if can_describe(a, noun)]


#: Nouns that can be the subject of some verb: the animals and the people.
SUBJECTS = [n for n in NOUNS.values() if n.cls in ("animal", "person")]


# --------------------------------------------------------------------------- drawing
def _pick(rng: np.random.Generator, options):
    """One option, uniformly (``integers`` is stable across numpy versions)."""
    return options[int(rng.integers(len(options)))]


def _coin(rng: np.random.Generator, p: float) -> bool:
    """True with probability ``p``."""
    return bool(rng.random() < p)


def _sample_noun_phrase(rng: np.random.Generator, noun: Noun) -> NounPhrase:
    adjective = None
    candidates = adjectives_for(noun)  # may be empty ("bone", "rice")
    if _coin(rng, P_ADJECTIVE) and candidates:
        adjective = _pick(rng, candidates).en
    if noun.mass:
        article = "the" if _coin(rng, P_THE_MASS) else ""
    else:
        article = "the" if _coin(rng, P_THE) else "a"
    return NounPhrase(noun.en, adjective, article)


def sample_sentence(rng: np.random.Generator) -> Sentence:
    """Draw one abstract sentence. The draws are the same whatever the language."""
    subject = _pick(rng, SUBJECTS)
    verb = _pick(rng, verbs_for(subject, transitive=_coin(rng, P_TRANSITIVE)))
    obj = _pick(rng, objects_for(subject, verb)) if verb.transitive else None
    place = None
    if _coin(rng, P_PLACE):
        places = allowed_places(subject, verb, obj)
        place = _pick(rng, places) if places else None
    place_first = _coin(rng, P_PLACE_FIRST) if place else False
    subject_np = _sample_noun_phrase(rng, subject)
    obj_np = _sample_noun_phrase(rng, obj) if obj is not None else None
    return Sentence(subject_np, verb.en, obj_np, place, place_first)


def generate_sentences(n_sentences: int, seed: int = 0) -> list[Sentence]:
    """``n_sentences`` abstract sentences drawn with ``np.random.default_rng(seed)``."""
    if not isinstance(n_sentences, (int, np.integer)) or n_sentences < 0:
        raise ValueError(f"n_sentences must be an integer >= 0, got {n_sentences!r}")
    rng = np.random.default_rng(seed)
    return [sample_sentence(rng) for _ in range(int(n_sentences))]


# --------------------------------------------------------------------------- realising
def article_form(article: str, next_word: str) -> str:
    """English "a" becomes "an" before a vowel: "an apple", "an old dog"."""
    if article == "a" and next_word[0] in VOWELS:
        return "an"
    return article


def _noun_phrase_words(np_: NounPhrase, lang: str) -> list[str]:
    words = []
    if np_.adjective is not None:
        words.append(ADJECTIVES[np_.adjective].word(lang))
    words.append(NOUNS[np_.noun].word(lang))
    if lang == "en" and np_.article:
        words.insert(0, article_form(np_.article, words[0]))
    return words


def _realise_en(s: Sentence) -> list[str]:
    words = _noun_phrase_words(s.subject, "en") + [s.verb]
    if s.obj is not None:
        words += _noun_phrase_words(s.obj, "en")
    if s.place is not None:
        words += [NOUNS[s.place].preposition, "the", s.place]
    return words


def _realise_ja(s: Sentence) -> list[str]:
    place = [NOUNS[s.place].ja, "で"] if s.place is not None else []
    words = place if s.place_first else []
    words = words + _noun_phrase_words(s.subject, "ja") + ["が"]
    if not s.place_first:
        words += place
    if s.obj is not None:
        words += _noun_phrase_words(s.obj, "ja") + ["を"]
    return words + [VERBS[s.verb].ja]


def realise(sentence: Sentence, lang: str = "en") -> str:
    """Write an abstract sentence as text: space-separated words, final period."""
    words = _realise_en(sentence) if check_lang(lang) == "en" else _realise_ja(sentence)
    return " ".join(words + [PERIOD[lang]])


def generate_corpus(n_sentences: int, lang: str = "en", seed: int = 0) -> list[str]:
    """``n_sentences`` sentences of the grammar in ``lang`` ("en" or "ja").

    Deterministic: the same ``seed`` gives the same sentences on every machine,
    and the English and Japanese corpora of one seed are line-by-line
    translations of each other.

    >>> generate_corpus(2, "en", seed=0) == generate_corpus(2, "en", seed=0)
    True
    """
    check_lang(lang)
    return [realise(s, lang) for s in generate_sentences(n_sentences, seed)]
