"""The lexicon: every word of the course's toy grammar, in English and Japanese.

Each *concept* has exactly one English and one Japanese word, and each word
belongs to one *word class* (品詞のような分類): ``animal``, ``person``,
``food``, ``drink``, ``thing``, ``place``, ``adjective``, ``verb`` or
``function`` (articles, prepositions, particles, the final period).

The words are chosen so that classes *share contexts by design*: a puppy
does everything a dog does (it barks, chases cats, eats meat) plus a few
things of the young (it plays, it is cute, it drinks milk). A model that
predicts words from their neighbours therefore has every reason to place
"puppy" next to "dog" (子犬 next to 犬), and the adult-to-young step from
dog to puppy is the same as from cat to kitten.

Meaning rules ("who can do what to whom, and where") are written with
*tags*: a noun carries tags such as ``{"animal", "dog", "young", "pet"}``
(its own English word is always one of its tags) and a verb lists the tags
its subject may have. The rules themselves live in :mod:`grammar`.

This module is plain data plus lookups; nothing here draws random numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

LANGS = ("en", "ja")

#: Word classes in display order (for legends and tables).
CLASS_NAMES = (
    "animal", "person", "food", "drink", "thing", "place", "adjective", "verb", "function",
)


# --------------------------------------------------------------------------- entries
@dataclass(frozen=True)
class Noun:
    """A noun: an animal, a person, a food, a drink, a thing or a place.

    ``mass`` nouns (rice, water) take "the" or no article, never "a".
    ``places`` (animals and people): where it can be. ``eaten_by`` (foods and
    drinks): tags of who eats or drinks it. ``preposition`` (places): "in" the
    park, "on" the farm, "at" the market.
    """

    en: str
    ja: str
    cls: str
    tags: frozenset
    mass: bool = False
    places: tuple = ()
    eaten_by: frozenset = frozenset()
    preposition: str = ""

    def word(self, lang: str) -> str:
        return getattr(self, lang)


@dataclass(frozen=True)
class Adjective:
    """An adjective that can describe a noun having any of ``describes`` (tags)."""

    en: str
    ja: str
    describes: frozenset
    cls: str = "adjective"

    def word(self, lang: str) -> str:
        return getattr(self, lang)


@dataclass(frozen=True)
class Verb:
    """A verb in the present tense ("eats" / 食べる).

    ``subjects``: tags, one of which the subject must have.
    ``objects``: tags for the object, or ``None`` for an intransitive verb.
    ``places``: where it can happen (place words), or ``None`` for anywhere
    the subject can be. ``diet``: the object must be food (or drink) that the
    subject eats ("eats", "drinks").
    """

    en: str
    ja: str
    subjects: frozenset
    objects: frozenset | None = None
    places: tuple | None = None
    diet: bool = False
    cls: str = "verb"

    @property
    def transitive(self) -> bool:
        return self.objects is not None

    def word(self, lang: str) -> str:
        return getattr(self, lang)


@dataclass(frozen=True)
class FunctionWord:
    """A grammatical word of one language: article, preposition, particle or period."""

    text: str
    lang: str
    role: str
    cls: str = "function"

    def word(self, lang: str) -> str:
        return self.text


# --------------------------------------------------------------------------- places
PLACE_TABLE = [
    # English, 日本語, preposition
    ("park", "公園", "in"),
    ("garden", "庭", "in"),
    ("field", "野原", "in"),
    ("farm", "農場", "on"),
    ("house", "家", "in"),
    ("kitchen", "台所", "in"),
    ("school", "学校", "at"),
    ("library", "図書館", "in"),
    ("market", "市場", "at"),
]
ALL_PLACES = tuple(p[0] for p in PLACE_TABLE)
OUTDOORS = ("park", "garden", "field", "farm")
PET_PLACES = ("park", "garden", "field", "farm", "house")
FARM_PLACES = ("farm", "field")

# --------------------------------------------------------------------------- animals and people
ANIMAL_TABLE = [
    # adult, 日本語, young, 日本語, lives with people ("pet") or on the farm
    ("dog", "犬", "puppy", "子犬", "pet"),
    ("cat", "猫", "kitten", "子猫", "pet"),
    ("bird", "鳥", "chick", "ひな", "pet"),
    ("cow", "牛", "calf", "子牛", "farm"),
    ("horse", "馬", "foal", "子馬", "farm"),
    ("sheep", "羊", "lamb", "子羊", "farm"),
]

PERSON_TABLE = [
    # English, 日本語, age
    ("teacher", "先生", "adult"),
    ("student", "学生", "adult"),
    ("doctor", "医者", "adult"),
    ("farmer", "農夫", "adult"),
    ("cook", "料理人", "adult"),
    ("child", "子ども", "young"),
    ("boy", "少年", "young"),
    ("girl", "少女", "young"),
]

# --------------------------------------------------------------------------- food, drink, things
FOOD_TABLE = [
    # English, 日本語, uncountable?, eaten by (tags)
    ("apple", "りんご", False, {"person", "horse"}),
    ("bread", "パン", True, {"person", "bird"}),
    ("cake", "ケーキ", False, {"person"}),
    ("carrot", "にんじん", False, {"person", "horse"}),
    ("corn", "とうもろこし", True, {"person", "bird", "cow"}),
    ("egg", "卵", False, {"person"}),
    ("fish", "魚", False, {"person", "cat"}),
    ("rice", "ご飯", True, {"person"}),
    ("meat", "肉", True, {"person", "dog", "cat"}),
    ("bone", "骨", False, {"dog"}),
    ("grass", "草", True, {"cow", "horse", "sheep"}),
    ("hay", "干し草", True, {"cow", "horse", "sheep"}),
]

DRINK_TABLE = [
    # English, 日本語, drunk by (tags); all drinks are uncountable
    ("water", "水", {"animal", "person"}),
    ("milk", "ミルク", {"young", "cat", "person"}),
    ("tea", "お茶", {"person"}),
    ("juice", "ジュース", {"person"}),
]

THING_TABLE = [
    ("book", "本"),
    ("letter", "手紙"),
    ("newspaper", "新聞"),
    ("ball", "ボール"),
    ("box", "箱"),
]

# --------------------------------------------------------------------------- adjectives
ADJECTIVE_TABLE = [
    # English, 日本語, describes nouns with any of these tags
    ("big", "大きな", {"animal", "thing"}),
    ("small", "小さな", {"animal", "thing"}),
    ("old", "年老いた", {"adult"}),
    ("young", "若い", {"person"}),
    ("cute", "かわいい", {"young"}),
    ("white", "白い", {"animal", "ball", "box"}),
    ("black", "黒い", {"animal", "ball", "box"}),
    ("brown", "茶色の", {"animal", "box"}),
    ("red", "赤い", {"ball", "box", "apple"}),
    ("hungry", "空腹の", {"animal", "person"}),
    ("kind", "優しい", {"person"}),
    ("clever", "賢い", {"animal", "person"}),
    ("tall", "背の高い", {"person"}),
    ("quiet", "静かな", {"animal", "person"}),
    ("fresh", "新鮮な", {"bread", "apple", "egg", "fish", "carrot", "meat", "grass", "hay",
                         "corn", "milk", "water"}),
    ("cold", "冷たい", {"drink"}),
    ("new", "新しい", {"thing"}),
    ("sweet", "甘い", {"cake", "apple", "bread", "corn", "carrot", "juice", "tea"}),
]

# --------------------------------------------------------------------------- verbs
ANIMATE = {"animal", "person"}
NOT_LIBRARY = tuple(p for p in ALL_PLACES if p != "library")

VERB_TABLE = [
    # English, 日本語, subject tags, object tags (None: intransitive), places (None: anywhere)
    ("sleeps", "眠る", ANIMATE, None, ("house", "park", "garden", "field", "farm")),
    ("runs", "走る", ANIMATE, None, OUTDOORS),
    ("walks", "歩く", ANIMATE, None, OUTDOORS),
    ("plays", "遊ぶ", {"young"}, None, OUTDOORS + ("house", "school")),
    ("barks", "吠える", {"dog"}, None, None),
    ("sings", "歌う", {"bird", "person"}, None, None),
    ("smiles", "笑う", {"person"}, None, None),
    ("eats", "食べる", ANIMATE, {"food"}, NOT_LIBRARY),
    ("drinks", "飲む", ANIMATE, {"drink"}, NOT_LIBRARY),
    ("chases", "追いかける", {"dog", "cat", "child"}, {"animal", "ball"}, OUTDOORS),
    ("reads", "読む", {"person"}, {"book", "letter", "newspaper"},
     ("house", "school", "library", "park", "garden")),
    ("writes", "書く", {"person"}, {"letter", "book"}, ("house", "school", "library")),
    ("sees", "見る", ANIMATE, {"animal", "person", "thing", "food"}, None),
    ("finds", "見つける", ANIMATE, {"animal", "person", "thing", "food"}, None),
    ("helps", "助ける", {"person"}, {"animal", "person"}, None),
    ("washes", "洗う", {"person"}, {"animal", "apple", "carrot"}, None),
    ("carries", "運ぶ", {"person", "horse"}, {"thing", "food", "young"}, None),
    ("kicks", "蹴る", {"person", "horse"}, {"ball", "box"}, OUTDOORS),
    ("throws", "投げる", {"person"}, {"ball", "apple"}, OUTDOORS),
    ("cooks", "料理する", {"person"}, {"fish", "meat", "rice", "egg", "carrot", "corn"},
     ("kitchen", "house")),
]
DIET_VERBS = ("eats", "drinks")

# --------------------------------------------------------------------------- function words
FUNCTION_TABLE = {
    "en": [("the", "article"), ("a", "article"), ("an", "article"),
           ("in", "preposition"), ("on", "preposition"), ("at", "preposition"),
           (".", "period")],
    "ja": [("が", "particle"), ("を", "particle"), ("で", "particle"), ("。", "period")],
}
PERIOD = {"en": ".", "ja": "。"}
PARTICLE_ROLES = {"が": "subject", "を": "object", "で": "place"}


# --------------------------------------------------------------------------- building the tables
def _build_nouns() -> dict[str, Noun]:
    nouns: list[Noun] = []
    for adult, adult_ja, young, young_ja, home in ANIMAL_TABLE:
        places = PET_PLACES if home == "pet" else FARM_PLACES
        for en, ja, age in ((adult, adult_ja, "adult"), (young, young_ja, "young")):
            tags = frozenset({en, "animal", adult, age, home})
            nouns.append(Noun(en, ja, "animal", tags, places=places))
    for en, ja, age in PERSON_TABLE:
        tags = {en, "person", age} | ({"child"} if age == "young" else set())
        nouns.append(Noun(en, ja, "person", frozenset(tags), places=ALL_PLACES))
    for en, ja, mass, eaters in FOOD_TABLE:
        nouns.append(Noun(en, ja, "food", frozenset({en, "food"}), mass=mass,
                          eaten_by=frozenset(eaters)))
    for en, ja, drinkers in DRINK_TABLE:
        nouns.append(Noun(en, ja, "drink", frozenset({en, "drink"}), mass=True,
                          eaten_by=frozenset(drinkers)))
    for en, ja in THING_TABLE:
        nouns.append(Noun(en, ja, "thing", frozenset({en, "thing"})))
    for en, ja, prep in PLACE_TABLE:
        nouns.append(Noun(en, ja, "place", frozenset({en, "place"}), preposition=prep))
    return {n.en: n for n in nouns}


NOUNS: dict[str, Noun] = _build_nouns()
ADJECTIVES: dict[str, Adjective] = {
    en: Adjective(en, ja, frozenset(tags)) for en, ja, tags in ADJECTIVE_TABLE
}
VERBS: dict[str, Verb] = {
    en: Verb(en, ja, frozenset(subj), None if obj is None else frozenset(obj), places,
             diet=en in DIET_VERBS)
    for en, ja, subj, obj, places in VERB_TABLE
}
FUNCTION_WORDS: dict[str, dict[str, FunctionWord]] = {
    lang: {w: FunctionWord(w, lang, role) for w, role in table}
    for lang, table in FUNCTION_TABLE.items()
}


def _index() -> dict[str, dict[str, object]]:
    """word -> entry, for each language; checks that no word is used twice."""
    index: dict[str, dict[str, object]] = {}
    for lang in LANGS:
        table: dict[str, object] = {}
        entries = [*NOUNS.values(), *ADJECTIVES.values(), *VERBS.values(),
                   *FUNCTION_WORDS[lang].values()]
        for entry in entries:
            word = entry.word(lang)
            if word in table:
                raise AssertionError(f"lexicon: the {lang} word {word!r} is used twice")
            table[word] = entry
        index[lang] = table
    return index


_BY_WORD = _index()

#: ``WORD_CLASSES[lang][word]`` is the word class, e.g. ``WORD_CLASSES["ja"]["子犬"] == "animal"``.
WORD_CLASSES: dict[str, dict[str, str]] = {
    lang: {w: e.cls for w, e in sorted(table.items())} for lang, table in _BY_WORD.items()
}

#: ``ANIMAL_PAIRS[lang]``: (adult, young) pairs such as ``("dog", "puppy")`` / ``("犬", "子犬")``.
ANIMAL_PAIRS: dict[str, list[tuple[str, str]]] = {
    "en": [(a, y) for a, _, y, _, _ in ANIMAL_TABLE],
    "ja": [(a, y) for _, a, _, y, _ in ANIMAL_TABLE],
}


# --------------------------------------------------------------------------- lookups
def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``"en"`` or ``"ja"``; otherwise raise a ValueError."""
    if lang not in LANGS:
        raise ValueError(f"lang must be 'en' or 'ja', got {lang!r}")
    return lang


def lookup(word: str, lang: str = "en"):
    """The lexicon entry of ``word`` (a Noun, Adjective, Verb or FunctionWord), or None."""
    return _BY_WORD[check_lang(lang)].get(word)


def word_class(word: str, lang: str = "en") -> str:
    """The word class of ``word``: one of :data:`CLASS_NAMES`.

    >>> word_class("puppy"), word_class("子犬", "ja"), word_class("the")
    ('animal', 'animal', 'function')

    Raises KeyError for a word the grammar does not know (such as ``"<bos>"``);
    use ``WORD_CLASSES[lang].get(word, "other")`` to label any token.
    """
    entry = lookup(word, lang)
    if entry is None:
        raise KeyError(f"word_class: {word!r} is not a word of the {lang} grammar")
    return entry.cls


def vocabulary(lang: str = "en") -> list[str]:
    """Every word the grammar can produce in ``lang``, sorted."""
    return sorted(_BY_WORD[check_lang(lang)])


def translate_word(word: str, src: str = "en", dst: str = "ja") -> str:
    """The same concept in the other language: ``translate_word("puppy") == "子犬"``.

    Function words (the, が, ...) have no one-word translation: KeyError.
    """
    entry = lookup(word, src)
    if entry is None or isinstance(entry, FunctionWord):
        raise KeyError(f"translate_word: {word!r} is not a content word of the {src} grammar")
    return entry.word(check_lang(dst))
