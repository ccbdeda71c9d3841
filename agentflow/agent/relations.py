"""Relation words in a canonical form, so that a sentence stating a relation in other
words still echoes the question: "born" / "birth" / "native", "founder" / "established",
"wife" / "spouse". A small lexicon of plain English relation families plus a stemmer
for the rest; used to decide whether a sentence says what a question asks.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_FAMILIES: dict[str, tuple[str, ...]] = {
    "birth": ("born", "birth", "birthplace", "native", "birthday", "nee"),
    "death": ("died", "death", "dies", "dead", "die"),
    "found": ("founder", "founders", "founded", "founding", "establish", "established",
              "establishment", "created", "creator", "cofounder", "co-founded", "started"),
    "marriage": ("married", "marry", "marries", "spouse", "wife", "husband", "wed", "wedded"),
    "author": ("wrote", "written", "writer", "author", "authored", "novelist", "novel", "poem",
               "memoir"),
    "direct": ("directed", "director", "directs", "filmmaker"),
    "perform": ("performed", "performer", "recorded", "sang", "singer", "artist", "band", "song",
                "album"),
    "base": ("headquartered", "headquarters", "based", "offices", "office", "seat"),
    "study": ("studied", "educated", "attended", "alumnus", "alumna", "graduated", "student",
              "alma", "mater"),
    # "In which country is X?" / "Which country is home to X?" are answered by "X lies in".
    "locate": ("located", "lies", "situated", "lie", "location", "sits", "country", "home"),
    "release": ("released", "published", "publication", "issued", "premiered", "debuted"),
    "produce": ("produced", "producer", "producers", "production", "produces"),
    "team": ("team", "club", "played", "plays", "signed", "goalkeeper", "footballer", "striker",
             "midfielder", "defender"),
    "lead": ("charge", "leader", "head", "president", "governor", "minister", "ruler", "mayor"),
}
_CANONICAL = {word: key for key, words in _FAMILIES.items() for word in words}
_STEMMER = Stemmer.Stemmer("english")
# Other inflections of a family's words belong to it too: "premiering" is "premiered".
# Not the stems that everyday nouns share ("a play", "a sign", "the head", "a home"):
# only the words listed count for those.
_SHARED_STEMS = frozenset("play sign head charg home offic seat song band album novel poem artist".split())
_BY_STEM = {stem: key for key, words in _FAMILIES.items() for word in words
            if (stem := _STEMMER.stemWord(word)) not in _SHARED_STEMS}


@lru_cache(maxsize=1 << 15)
def relation_key(word: str) -> str:
    """The canonical form of a lower-case word: its family's name (the word or its stem
    listed), else its stem."""
    if word in _CANONICAL:
        return _CANONICAL[word]
    stem = _STEMMER.stemWord(word)
    return _BY_STEM.get(stem, stem)


def relation_keys(words: set[str]) -> set[str]:
    """:func:`relation_key` of every word."""
    return {relation_key(w) for w in words}


def families(words: set[str]) -> set[str]:
    """The relation families (of the lexicon, not stems) that ``words`` name."""
    return {key for key in map(relation_key, words) if key in _FAMILIES}



# Relations a sentence states in a set phrase rather than a word: "Ceelmakoile is a town
# in the central Hiran region of Somalia" says where it is located.
_PHRASES: dict[str, re.Pattern[str]] = {
    "locate": re.compile(r"\b(?:is|was|are|were)\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,3}?(?:town|village|city|"
                         r"community|hamlet|suburb|municipality|district|county|region|commune|settlement|"
                         r"neighbou?rhood|parish|township|river|mountain|lake|island|peak|range)\s+"
                         r"(?:[\w-]+\s+){0,3}?(?:in|of|on)\b"),
}


def phrase_keys(sentence: str) -> set[str]:
    """The families ``sentence`` states in a set phrase (:data:`_PHRASES`)."""
    return {key for key, pattern in _PHRASES.items() if pattern.search(sentence)}
