"""The judge: is a sentence grammatical in our toy grammar, and if not, why?

The judge is a *parser* (構文解析器): it reads the words left to right,
rebuilds the abstract :class:`~course_lib.text.grammar.Sentence`, then checks
the meaning rules the generator obeys. So it accepts any sentence the grammar
allows, including sentences that never appeared in the corpus (exactly what
we want when a language model writes something new), and it rejects the rest
with a reason::

    >>> explain("the book eats the dog .")
    "meaning: 'eats' cannot have 'book' as its subject"

Each reason starts with its *kind*, one of :data:`ERROR_KINDS`, so a notebook
can count which mistakes a model makes.

English and Japanese share the meaning rules; their word orders differ:

* English: ``NP verb [NP] [in/on/at the place] .`` (one fixed order).
* Japanese: noun phrases marked by particles (が subject, を object,
  で place) in any order, then the verb, then ``。``. The particles, not the
  order, say who does what; only the verb must come last.

(The module is called ``parser`` so that ``course_lib.text.judge`` stays the
function.)
"""
from __future__ import annotations

from dataclasses import dataclass

from .grammar import (
    VOWELS, NounPhrase, Sentence, allowed_places, can_be_object, can_be_subject,
    can_describe, fits_diet, realise,
)
from .lexicon import (
    ADJECTIVES, NOUNS, PARTICLE_ROLES, PERIOD, VERBS, Adjective, FunctionWord, Noun, Verb,
    check_lang, lookup, vocabulary,
)

#: The kinds of mistakes the judge reports (the first word of each reason).
ERROR_KINDS = (
    "incomplete",    # something is missing: no verb, no subject, empty sentence
    "unknown_word",  # a word the grammar does not know
    "punctuation",   # missing or misplaced final period
    "word_order",    # known words in an impossible order
    "article",       # English: the / a / an
    "preposition",   # English: in / on / at before a place
    "particle",      # Japanese: が / を / で
    "object",        # a verb without its object, or with one it cannot take
    "meaning",       # the words fit together but the sentence makes no sense
)


class GrammarError(ValueError):
    """Raised by :func:`parse` for a sentence outside the grammar."""

    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Verdict:
    """The judge's answer: ``ok``, and when not ok the ``kind`` and the ``reason``."""

    ok: bool
    kind: str | None = None
    reason: str | None = None


# --------------------------------------------------------------------------- words
def _name(entry, lang: str) -> str:
    """How messages name a word: "the verb 'eats'", "the particle 'が'"."""
    if isinstance(entry, FunctionWord):
        return f"the {entry.role} '{entry.text}'"
    kind = "noun" if isinstance(entry, Noun) else entry.cls
    return f"the {kind} '{entry.word(lang)}'"


def _segment(token: str, lang: str) -> list[str] | None:
    """Split ``token`` into known words if possible ("子犬が" -> ["子犬", "が"]), else None.

    Dynamic programming from the end: ``split[i]`` splits ``token[i:]``.
    """
    if len(token) > 200:  # a runaway line: not worth a hint
        return None
    longest = max(len(w) for w in vocabulary(lang))
    split: dict[int, list[str]] = {len(token): []}
    for start in range(len(token) - 1, -1, -1):
        for end in range(min(len(token), start + longest), start, -1):
            if end in split and lookup(token[start:end], lang) is not None:
                split[start] = [token[start:end]] + split[end]
                break
    return split.get(0)


def _unknown_word_error(token: str, lang: str) -> GrammarError:
    """The most helpful message for a token the lexicon does not know."""
    other = "ja" if lang == "en" else "en"
    period = PERIOD[lang]
    if token in PERIOD.values():
        return GrammarError("punctuation", f"{'English' if lang == 'en' else 'Japanese'} "
                                           f"sentences end with '{period}', not '{token}'")
    if len(token) > 1 and token.endswith(period) and lookup(token[:-1], lang) is not None:
        return GrammarError("punctuation", f"'{token}': put a space before the final '{period}'")
    if lang == "en" and lookup(token.lower(), lang) is not None:
        return GrammarError("unknown_word", f"unknown word '{token}': the grammar is all "
                                            f"lowercase ('{token.lower()}')")
    if lookup(token, other) is not None:
        language = "Japanese" if other == "ja" else "English"
        return GrammarError("unknown_word", f"unknown word '{token}': it is {language}, "
                                            f"use lang='{other}'")
    parts = _segment(token, lang) if lang == "ja" else None
    if parts and len(parts) > 1:
        return GrammarError("unknown_word", f"unknown word '{token}': separate the words with "
                                            f"spaces: '{' '.join(parts)}'")
    shown = token if len(token) <= 30 else f"{token[:27]}... ({len(token)} characters)"
    return GrammarError("unknown_word", f"unknown word '{shown}'")


def _words(sentence: str, lang: str) -> list[str]:
    """Split on spaces, check every word is known and the period ends the sentence.

    Returns the words without the final period.
    """
    if not isinstance(sentence, str):
        raise TypeError(f"the judge expects a sentence as a str, got {type(sentence).__name__}")
    tokens = sentence.split()
    if not tokens:
        raise GrammarError("incomplete", "the sentence is empty")
    for token in tokens:
        if lookup(token, lang) is None:
            raise _unknown_word_error(token, lang)
    period = PERIOD[lang]
    if tokens[-1] != period:
        raise GrammarError("punctuation", f"missing final '{period}'")
    if period in tokens[:-1]:
        raise GrammarError("punctuation", f"'{period}' in the middle: give one sentence at a time")
    return tokens[:-1]


class _Cursor:
    """Reads a list of words left to right."""

    def __init__(self, words: list[str], lang: str):
        self.words, self.lang, self.i = words, lang, 0

    def peek(self):
        """The entry of the next word (None at the end)."""
        return lookup(self.words[self.i], self.lang) if self.i < len(self.words) else None

    def take(self):
        entry = self.peek()
        self.i += 1
        return entry

    def previous(self) -> str:
        return self.words[self.i - 1] if self.i > 0 else "the start"

    def at_end(self) -> bool:
        return self.i >= len(self.words)


def _is_role(entry, role: str) -> bool:
    return isinstance(entry, FunctionWord) and entry.role == role


# --------------------------------------------------------------------------- English
def _en_article(article: str, noun: Noun, next_word: str) -> str:
    """Check the article against the noun; return the abstract article ("the", "a", "")."""
    if article == "" and not noun.mass:
        raise GrammarError("article", f"'{noun.en}' needs an article: 'the {noun.en}' or "
                                      f"'{'an' if noun.en[0] in VOWELS else 'a'} {noun.en}'")
    if article in ("a", "an") and noun.mass:
        raise GrammarError("article", f"'{noun.en}' is uncountable: say 'the {noun.en}' or "
                                      f"just '{noun.en}', not '{article}'")
    if article in ("a", "an"):
        wanted = "an" if next_word[0] in VOWELS else "a"
        if article != wanted:
            raise GrammarError("article", f"say '{wanted} {next_word}', not '{article} {next_word}'")
        return "a"
    return article


def _en_noun_phrase(cur: _Cursor, role: str) -> NounPhrase:
    """``[the | a | an] [adjective] noun``."""
    if cur.at_end():
        raise GrammarError("incomplete", f"the {role} is missing")
    article = cur.take().text if _is_role(cur.peek(), "article") else ""
    adjective = cur.take() if isinstance(cur.peek(), Adjective) else None
    if isinstance(cur.peek(), Adjective):
        raise GrammarError("word_order", f"two adjectives ('{cur.previous()} "
                                         f"{cur.words[cur.i]}'): this grammar allows one")
    if cur.at_end():
        raise GrammarError("incomplete", f"'{cur.previous()}' must be followed by a noun")
    if not isinstance(cur.peek(), Noun):
        where = "at the start" if cur.i == 0 else f"after '{cur.previous()}'"
        raise GrammarError("word_order", f"expected the {role} (a noun) {where}, "
                                         f"got {_name(cur.peek(), 'en')}")
    noun = cur.take()
    first = adjective.en if adjective is not None else noun.en
    article = _en_article(article, noun, first)
    return NounPhrase(noun.en, adjective.en if adjective is not None else None, article)


def _en_place(cur: _Cursor) -> str:
    """``in | on | at the place``."""
    prep = cur.take().text
    if cur.at_end():
        raise GrammarError("incomplete", f"'{prep}' must be followed by a place")
    if not _is_role(cur.peek(), "article"):
        entry = cur.peek()
        if isinstance(entry, Noun):
            raise GrammarError("article", f"say '{prep} the {entry.en}'")
        raise GrammarError("word_order", f"expected 'the' after '{prep}', got {_name(entry, 'en')}")
    article = cur.take().text
    if isinstance(cur.peek(), Adjective):
        raise GrammarError("word_order", "a place takes no adjective in this grammar")
    if not isinstance(cur.peek(), Noun):
        got = "nothing" if cur.at_end() else _name(cur.peek(), "en")
        raise GrammarError("incomplete" if cur.at_end() else "word_order",
                           f"expected a place after '{prep} {article}', got {got}")
    place = cur.take()
    if place.cls != "place":
        raise GrammarError("meaning", f"'{place.en}' is not a place")
    if article != "the":
        raise GrammarError("article", f"say '{place.preposition} the {place.en}', "
                                      f"not '{prep} {article} {place.en}'")
    if prep != place.preposition:
        raise GrammarError("preposition", f"say '{place.preposition} the {place.en}', "
                                          f"not '{prep} the {place.en}'")
    return place.en


def _parse_en(words: list[str]) -> Sentence:
    cur = _Cursor(words, "en")
    if isinstance(cur.peek(), Verb):
        raise GrammarError("word_order", f"a sentence starts with its subject, not with "
                                         f"the verb '{words[0]}'")
    subject = _en_noun_phrase(cur, "subject")
    if cur.at_end():
        raise GrammarError("incomplete", "the sentence has no verb")
    if not isinstance(cur.peek(), Verb):
        entry = cur.peek()
        hint = " (adjectives go before their noun)" if isinstance(entry, Adjective) else ""
        raise GrammarError("word_order", f"expected a verb after '{cur.previous()}', "
                                         f"got {_name(entry, 'en')}{hint}")
    verb = cur.take()
    obj = None
    starts_phrase = not cur.at_end() and not _is_role(cur.peek(), "preposition")
    if verb.transitive and not starts_phrase:
        raise GrammarError("object", f"'{verb.en}' needs an object: {verb.en} what?")
    if not verb.transitive and starts_phrase:
        if isinstance(cur.peek(), Verb):
            raise GrammarError("word_order", f"two verbs: '{verb.en} {cur.words[cur.i]}'")
        raise GrammarError("object", f"'{verb.en}' does not take an object")
    if verb.transitive:
        obj = _en_noun_phrase(cur, "object")
    place = _en_place(cur) if _is_role(cur.peek(), "preposition") else None
    if not cur.at_end():
        raise GrammarError("word_order", f"unexpected '{cur.words[cur.i]}' after "
                                         f"'{cur.previous()}'")
    return Sentence(subject, verb.en, obj, place)


# --------------------------------------------------------------------------- Japanese
def _ja_phrase(cur: _Cursor) -> tuple[str, NounPhrase]:
    """``[adjective] noun particle`` -> (role, noun phrase)."""
    adjective = cur.take() if isinstance(cur.peek(), Adjective) else None
    if isinstance(cur.peek(), Adjective):
        raise GrammarError("word_order", f"two adjectives ('{cur.previous()} "
                                         f"{cur.words[cur.i]}'): this grammar allows one")
    if not isinstance(cur.peek(), Noun):
        got = "nothing" if cur.at_end() else _name(cur.peek(), "ja")
        raise GrammarError("word_order", f"'{cur.previous()}' must be followed by a noun, got {got}")
    noun = cur.take()
    if not _is_role(cur.peek(), "particle"):
        raise GrammarError("particle", f"'{noun.ja}' needs a particle after it "
                                       f"(が subject, を object, で place)")
    role = PARTICLE_ROLES[cur.take().text]
    if role == "place" and adjective is not None:
        raise GrammarError("word_order", "a place takes no adjective in this grammar")
    article = "" if noun.mass else "the"  # Japanese has no articles: use the English default
    return role, NounPhrase(noun.en, adjective.en if adjective is not None else None, article)


def _parse_ja(words: list[str]) -> Sentence:
    cur = _Cursor(words, "ja")
    phrases: dict[str, NounPhrase] = {}
    order: list[str] = []
    while not cur.at_end() and not isinstance(cur.peek(), Verb):
        if _is_role(cur.peek(), "particle"):
            where = "at the start" if cur.i == 0 else f"after '{cur.previous()}'"
            raise GrammarError("particle", f"the particle '{cur.words[cur.i]}' must follow a noun, "
                                           f"not come {where}")
        role, phrase = _ja_phrase(cur)
        if role in phrases:
            raise GrammarError("particle", f"two phrases with '{words[cur.i - 1]}': "
                                           f"a sentence has one {role}")
        phrases[role] = phrase
        order.append(role)
    if cur.at_end():
        raise GrammarError("incomplete", "the sentence has no verb (it comes last, before '。')")
    verb = cur.take()
    if not cur.at_end():
        raise GrammarError("word_order", f"the verb '{verb.ja}' must come last, "
                                         f"but '{cur.words[cur.i]}' follows it")
    if "subject" not in phrases:
        raise GrammarError("incomplete", "the sentence has no subject (a noun with が)")
    if verb.transitive and "object" not in phrases:
        raise GrammarError("object", f"'{verb.ja}' needs an object (a noun with を)")
    if not verb.transitive and "object" in phrases:
        raise GrammarError("object", f"'{verb.ja}' does not take an object (を)")
    place = phrases["place"].noun if "place" in phrases else None
    place_first = bool(order) and order[0] == "place"
    return Sentence(phrases["subject"], verb.en, phrases.get("object"), place, place_first)


# --------------------------------------------------------------------------- meaning
def check_meaning(sentence: Sentence, lang: str = "en") -> None:
    """Raise a GrammarError("meaning", ...) if the sentence makes no sense.

    The same rules the generator follows: who can do the verb, what it can be
    done to, who eats what, which adjective fits which noun, who can be where.
    """
    w = lambda entry: entry.word(lang)  # noqa: E731  (the word in the sentence's language)
    subject, verb = NOUNS[sentence.subject.noun], VERBS[sentence.verb]
    obj = NOUNS[sentence.obj.noun] if sentence.obj is not None else None
    if not can_be_subject(subject, verb):
        raise GrammarError("meaning", f"'{w(verb)}' cannot have '{w(subject)}' as its subject")
    if obj is not None and not can_be_object(obj, verb):
        raise GrammarError("meaning", f"'{w(verb)}' cannot have '{w(obj)}' as its object")
    if obj is not None and verb.diet and not fits_diet(subject, obj):
        raise GrammarError("meaning", f"'{w(obj)}' is not something '{w(subject)}' {w(verb)}")
    for phrase in (sentence.subject, sentence.obj):
        if phrase is not None and phrase.adjective is not None:
            adjective, noun = ADJECTIVES[phrase.adjective], NOUNS[phrase.noun]
            if not can_describe(adjective, noun):
                raise GrammarError("meaning", f"'{w(adjective)}' cannot describe '{w(noun)}'")
    if sentence.place is not None:
        _check_place(sentence.place, subject, verb, obj, w)


def _check_place(place_key: str, subject: Noun, verb: Verb, obj: Noun | None, w) -> None:
    place = NOUNS[place_key]
    if place.cls != "place":
        raise GrammarError("meaning", f"'{w(place)}' is not a place")
    if place_key in allowed_places(subject, verb, obj):
        return
    if place_key not in subject.places:
        raise GrammarError("meaning", f"'{w(subject)}' is never found at '{w(place)}'")
    if obj is not None and obj.places and place_key not in obj.places:
        raise GrammarError("meaning", f"'{w(obj)}' is never found at '{w(place)}'")
    raise GrammarError("meaning", f"nobody '{w(verb)}' at '{w(place)}' in this grammar")


# --------------------------------------------------------------------------- public API
def parse(sentence: str, lang: str = "en") -> Sentence:
    """Parse ``sentence`` into an abstract Sentence, or raise GrammarError.

    English articles are kept. Japanese has none: a Japanese noun phrase gets
    the English default ("the", or no article for an uncountable noun).
    """
    words = _words(sentence, check_lang(lang))
    parsed = _parse_en(words) if lang == "en" else _parse_ja(words)
    check_meaning(parsed, lang)
    return parsed


def judge(sentence: str, lang: str = "en") -> Verdict:
    """``Verdict(ok=True)`` or ``Verdict(False, kind, reason)``."""
    try:
        parse(sentence, lang)
    except GrammarError as err:
        return Verdict(False, err.kind, str(err))
    return Verdict(True)


def is_grammatical(sentence: str, lang: str = "en") -> bool:
    """True if ``sentence`` belongs to the grammar (any sentence, not only corpus ones).

    >>> is_grammatical("the small puppy chases a cat in the park .")
    True
    >>> is_grammatical("小さな 子犬 が 公園 で 猫 を 追いかける 。", "ja")
    True
    >>> is_grammatical("the book eats the dog .")
    False
    """
    return judge(sentence, lang).ok


def explain(sentence: str, lang: str = "en") -> str | None:
    """Why ``sentence`` is not grammatical ("kind: reason"), or None if it is."""
    return judge(sentence, lang).reason


def grammatical_fraction(sentences, lang: str = "en") -> float:
    """The fraction of ``sentences`` that the grammar accepts (0.0 for none given)."""
    sentences = list(sentences)
    if not sentences:
        return 0.0
    return sum(is_grammatical(s, lang) for s in sentences) / len(sentences)


def translate(sentence: str, src: str = "en", dst: str = "ja") -> str:
    """Translate a grammatical sentence by parsing it and realising it again.

    >>> translate("the small puppy chases a cat in the park .")
    '小さな 子犬 が 公園 で 猫 を 追いかける 。'

    Japanese has no articles: English nouns get "the" (uncountable ones none).
    """
    return realise(parse(sentence, src), dst)
