"""Answer candidates: spans of the shown passages that could answer a question.

Every candidate is a span that occurs in a passage, of the type the question asks
for (:mod:`agentflow.agent.answer_types`), and not a name the question already
uses. Candidates are scored in code by how much of the question their sentence
echoes (rarer words weigh more) and by the rank of their passage, so the reader has
a deterministic floor and the model only ever picks among checkable spans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from agentflow.agent.answer_types import AnswerType, expected_type, fits, span_type
from agentflow.agent.decompose import nests, noun_group
from agentflow.agent.gazetteer import is_continent, is_country, is_region, looks_demonym, place_kind
from agentflow.agent.numbers import (
    NEAREST_FACTOR,
    UNIT_STOP,
    asks_rank,
    nearest_to_names,
    number_spans,
    ordinal_factor,
)
from agentflow.agent.relations import families, phrase_keys, relation_key, relation_keys
from agentflow.agent.state import content_words
from agentflow.memory.entities import extract_entities, normalize_entity

# A sentence ends at . ! ? ; before a capital, but not after an initial ("Harris W.
# Fawell") or a title's abbreviation ("Mr. Cool", "St. Louis", "Dr. No").
_SENTENCE = re.compile(r"(?<=[.!?;])(?<!\b[A-Z]\.)(?<!\b(?:Mr|Ms|Dr|St|Jr|Sr|Mt|Co|No|vs)\.)(?<!\bMrs\.)(?<!\bInc\.)"
                       r"\s+(?=[A-Z0-9\"“(])")


class Candidate(BaseModel):
    """A span that may answer the question, where it was found, and its score."""

    text: str
    passage_id: str
    sentence: str
    score: float
    kind: AnswerType
    #: Relation words of the question (not part of its names) that the sentence echoes:
    #: 0 means the sentence says nothing about what was asked, only about whom.
    relation_hits: int = 0
    #: The sentence (or its passage, by title) names in full the entity a one-hop
    #: question asks about; None when the question names none or nests.
    about_subject: bool | None = None
    #: The sentence states another known relation than the one asked ("founded by X in
    #: 1857" for "When was X born?"): the span answers a different question.
    other_relation: bool = False
    #: The sentence names every entity the question names (two or more): "Louis Armstrong
    #: recorded What a Wonderful World in 1967" for "When did Louis Armstrong make What a
    #: Wonderful World?" states their relation, whatever verb it uses.
    names_all: bool = False


RELATION_FACTOR = 1.0
#: A span that the first hop names and that a shown passage is about (its title) is, in a
#: multi-hop question, usually the bridge: the answer is a property of it, stated in its
#: passage (an answer one hop further may have a passage of its own, so only first-hop
#: names count).
SUBJECT_FACTOR = 0.5
#: In a one-hop question ("When was Thador Destam born?") the answer is stated about the
#: entity the question names: a span in a sentence naming it in full, or in the passage
#: about it (its title), is likelier than one beside a namesake ("Thador Grathvan").
NAMED_FACTOR = 2.0
#: The first sentence of the named entity's own page defines it ("Aschenbrodel is a
#: ballet written by Johann Strauss II"): its spans are likelier than later ones.
LEAD_FACTOR = 1.5
#: What a passage naming every one of the question's names (two or more) is about is
#: where they meet: "What movie stars Morgan Freeman, Robert De Niro and Michael
#: Douglas?" is answered by the title of the page naming all three, not a bridge.
MEETING_FACTOR = 2.0
_PAREN = re.compile(r"\s*\([^)]*\)\s*$")


def passage_subject(title: str) -> str:
    """The normalised name a passage is about: its title without a trailing
    disambiguation ("Brand (play)" is about "brand")."""
    return normalize_entity(_PAREN.sub("", title or ""))


def sentences(text: str) -> list[str]:
    """``text`` split into sentences (short texts are one sentence)."""
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


# Heads of names that go on with "of": "Institute of Technology", "Bank of Scotland".
_ORG_HEADS = frozenset("institute university college school academy museum bank church society "
                       "association department ministry council board conservatory library "
                       "hospital cathedral order".split())
_CONNECTOR = re.compile(r"\s+(?:of the|of|de|del|for|and|in|at)\s+")


def _parts(name: str) -> list[str]:
    """``name`` and the shorter names inside it: the extractor joins "Winnie Kiiza of the
    Forum" and "Democratic Senator Laura Kelly" into one phrase, where the answer is
    one part or the last words."""
    out = [name]
    pieces = [p for p in _CONNECTOR.split(name) if p]
    if len(pieces) > 1 and pieces[0].split()[-1].lower() in _ORG_HEADS:
        return out  # "Fanturn Institute of Technology" is one name, not two
    if len(pieces) > 1:
        # Only parts that are names themselves: "University of Krerdro" is one name.
        # A one-word part counts when it names a country or region: "... Province of Zimbabwe".
        out += [p for p in pieces if len(p.split()) >= 2 or is_country(p) or is_region(p)]
    words = name.split()
    if len(pieces) == 1 and len(words) >= 3:
        out += [" ".join(words[-2:]), " ".join(words[-3:])] if len(words) > 3 else [" ".join(words[-2:])]
    return list(dict.fromkeys(out))


def _spans(sentence: str, kind: AnswerType, asked: Sequence[str] = ()) -> list[str]:
    out = [part for name in extract_entities(sentence) for part in _parts(name)]
    # "The Philbrook Museum of Tulsa" for a question naming "the Philbrook Museum": the
    # name goes on with where it is, which is what is asked.
    out += [span[len(name) + 4:] for span in out for name in asked
            if span.startswith(f"{name} of ") and span[len(name) + 4:][:1].isupper()]
    if kind in (AnswerType.NUMBER, AnswerType.OTHER, AnswerType.ENTITY):
        out += number_spans(sentence, years=kind == AnswerType.NUMBER)
    return out


_PLACE_CUE = re.compile(r"\b(?:in|at|near|from|to|of|into|across)\s+(?:the\s+)?(?:\w+\s+of\s+)?$", re.I)
_AGENT_CUE = re.compile(r"\b(?:by|with|and)\s+$", re.I)
# "an album by saxophonist Sonny Stitt", "a song by the American rock band Pearl Jam":
# "by", then a few describing words, then the agent.
_BY_DESCRIBED = re.compile(r"\bby\s+(?:(?:the|a|an|[a-z]+|[A-Z][a-z]+(?:ian|ean|an|ese|ish|ic|i))\s+){1,4}$")


def _cue(sentence: str, span: str, kind: AnswerType) -> float:
    """A small boost when the words before ``span`` suit the expected type: "in/at/near"
    before a place, "by" before a person (a founder, an author, a director)."""
    at = sentence.find(span)
    if at < 0:
        return 1.0
    before = sentence[max(0, at - 30):at]
    if kind == AnswerType.PLACE and _PLACE_CUE.search(before):
        return 1.5
    if kind == AnswerType.PERSON and (_AGENT_CUE.search(before)
                                      or _BY_DESCRIBED.search(sentence[max(0, at - 50):at])):
        return 1.5
    if kind == AnswerType.PERSON and _PLACE_CUE.search(before):
        return 0.7
    return 1.0


_AFTER_PLACE = UNIT_STOP | frozenset("where which who during since until is was lies".split())


#: How much likelier a span is when a word of the asked relation stands just before it
#: ("produced by Michael Douglas" for "Who is the producer of X?", "born in Middelburg"),
#: and less likely when another relation's word does ("directed by Lewis Teague").
NEAR_RELATION, NEAR_OTHER = 1.5, 0.7
#: A country or region where a person is asked ("Who is the author of Brand?" is not
#: "Sweden"): kept (a country can found or perform), but seldom the answer.
PLACE_AS_PERSON = 0.3
#: A place on the asked side of a life parenthesis (:func:`_life_side`), and its inverse.
LIFE_SIDE = 2.0
#: A span followed by the noun asked for ("Maharashtra state" for "Which state ..."),
#: like one holding it ("McDowell County").
NOUN_AFTER = 3.0
#: A span stated about another entity than the one a one-hop question names, when that
#: entity's own page is among those shown (it would say what is asked).
OFF_SUBJECT = 0.5
_NEAR_WORDS = 4
# Clause breaks: a relation word beyond one says nothing about the span.
_CLAUSE_BREAK = re.compile(r"[,;:()\"“”]|\band\b|\bwhile\b|\bwhich\b|\bwho\b")


# "<verb> by <a lower-case noun phrase>" ending a clause before an appositive name.
_APPOSITIVE_AGENT = re.compile(r"\b([a-z]+)\s+by\s+(?:[a-z]+\s+){0,4}[a-z]+\s*$")


def _near_relation(sentence: str, at: int, relation: set[str], asked: set[str]) -> float:
    """:data:`NEAR_RELATION` when one of the few words before the span starting at ``at``
    (in its clause) is a word of the asked relation, :data:`NEAR_OTHER` when one is a word
    of another known relation family only, else 1."""
    if at <= 0 or not (relation or asked):
        return 1.0
    clauses = _CLAUSE_BREAK.split(sentence[max(0, at - 90):at])
    words = [w.lower() for w in _TOKEN.findall(clauses[-1])][-_NEAR_WORDS:]
    appositive = _APPOSITIVE_AGENT.search(clauses[-2]) if len(clauses) > 1 and not clauses[-1].strip() else None
    if appositive:
        # "produced by one of its stars, Michael Douglas": the name stands for the
        # lower-case noun phrase before its comma, and so does that phrase's verb.
        words.append(appositive.group(1).lower())
    if any(relation_key(w) in relation for w in words):
        return NEAR_RELATION
    near = families(set(words))
    if near and asked and not (near & asked):
        return NEAR_OTHER
    return 1.0


# "Similarly, ...", "Originally, ...": an adverb opening a sentence (not "Kelly", "Beverly").
_OPENING_ADVERB = re.compile(r"[A-Z][a-z]{2,}(?:ally|ily|ely|arly|ntly|sly|bly|tly)")


def _markup_or_common(sentence: str, span: str, at: int, common: set[str], kind: AnswerType) -> bool:
    """A span that is no name: page markup ("BULLET::::-"), a common word capitalised
    because it opens the sentence ("Featuring lyrics ..."), a piece of an abbreviation
    cut at its dot ("LL" of "LL.B", "Thomas E" of "Thomas E. Taylor"), or a date read as
    a name ("24, 1972") where a name is asked."""
    after = sentence[at + len(span):at + len(span) + 2]
    if after == "::" or (kind.named and span[:1].isdigit()):
        return True
    last = span.split()[-1]
    # A cut abbreviation goes on after its dot ("LL.B"), or is one initial ("Thomas E.");
    # "Johann Strauss II." ends a sentence.
    if after[:1] == "." and last.isupper() and (len(last) == 1 or after[1:2].isalnum()):
        return True
    if at == 0 and " " not in span and (span.lower() in common or (
            _OPENING_ADVERB.fullmatch(span) and after[:1] == ",")):
        return True  # "Featuring", "Similarly": a word opening the sentence
    # Words the passages also use in lower case, capitalised as part of a longer name
    # ("International Airport" of "Wilmington International Airport", "the Stone"):
    # a description, not a name.
    words = span.split()
    return span_type(span) == AnswerType.ENTITY and all(w.lower() in common for w in words) \
        and (len(words) > 1 or at == 0)


_LIFE = re.compile(r"\(([^()]*\d{3,4}[^()]*)[–-]([^()]*\d{3,4}[^()]*)\)")


def _life_side(sentence: str, span: str, asked: set[str]) -> float:
    """In a life parenthesis, "(15 March 1834, Wrocław – 5 April 1868, Prague)", the
    place before the dash is where the person was born and the one after where they
    died: likelier for the side asked, unlikely for the other."""
    if not asked & {"birth", "death"}:
        return 1.0
    m = _LIFE.search(sentence)
    if not m:
        return 1.0
    side = "birth" if span in m.group(1) else "death" if span in m.group(2) else None
    if side is None:
        return 1.0
    return LIFE_SIDE if side in asked else 1.0 / LIFE_SIDE


# "Victoria Falls (...) is a waterfall in ...", "Last Vegas is a 2013 American comedy
# film": the sentence's subject, said to be the kind of thing asked for.
_IS_A = re.compile(r"^\s*(?:\([^)]*\)\s*)?,?\s*(?:is|was|are|were)\s+(?:a|an|the|one of the)\s+"
                   r"(?P<words>(?:[\w'-]+\s+){0,6}?)(?P<noun>[a-z]+)\b")
_NOUN_SYNONYMS = {"movie": {"film"}, "film": {"movie"}, "song": {"single"}, "plane": {"aircraft", "bomber"},
                  "show": {"series", "programme", "program"}, "series": {"show"}, "book": {"novel"}}


def _said_to_be(sentence: str, span: str, noun: str) -> bool:
    """Whether the sentence opens with ``span`` and says it is a ``noun`` (or a synonym)."""
    if not sentence.startswith(span):
        return False
    m = _IS_A.match(sentence[len(span):])
    if not m:
        return False
    said = {m.group("noun")} | set(m.group("words").lower().split())
    return bool(said & ({noun} | _NOUN_SYNONYMS.get(noun, set())))


_QUOTED = re.compile(r"[\"“]([^\"“”\n]{1,100})[\"”]")


def _wording_factor(sentence: str, span: str, kind: AnswerType, noun: str | None,
                    relation: set[str], asked: set[str], common: set[str]) -> float | None:
    """How the words around ``span`` change its odds (the product of the factors
    above), or None when it is no name at all (:func:`_markup_or_common`)."""
    at = sentence.find(span)
    if _markup_or_common(sentence, span, at, common, kind):
        return None
    quoted = [q.strip() for q in _QUOTED.findall(sentence)]
    if any(span in q and span != q for q in quoted):
        return None  # "the Stone" inside "Romancing the Stone": a piece of a title
    factor = _near_relation(sentence, at, relation, asked) * _life_side(sentence, span, asked)
    after = sentence[at + len(span):].lower()
    if noun and noun not in _GENERIC and (re.match(rf"\s+{re.escape(noun)}\b", after)
                                          or _said_to_be(sentence, span, noun)):
        factor *= NOUN_AFTER
    if kind == AnswerType.PERSON and (is_country(span) or is_region(span) or span in quoted
                                      or (span.isupper() and len(span) <= 6)):
        # A country, an acronym ("JEEMA", "NCP": an organisation) or a quoted title
        # (a work: 'Whodini's "Friends"') is not the person asked for.
        factor *= PLACE_AS_PERSON
    elif kind == AnswerType.PLACE and span.isupper() and len(span) <= 6 and not (is_country(span) or is_region(span)):
        factor *= PLACE_AS_PERSON  # "IOC", "NATO": an organisation, not the place asked
    return factor


_APPOSED = re.compile(r"\b(?:in|at|near|of)\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*,\s*$")


def _named_place(sentence: str, span: str) -> bool:
    """A name that only looks like a demonym ("Rogenistan"): it follows a place cue
    ("lies in Rogenistan") and no noun follows it, as one would an adjective."""
    at = sentence.find(span)
    after = sentence[at + len(span):].split()
    # An adjective is followed by its noun ("Croatian singer"); a place by a preposition,
    # a verb, punctuation or nothing ("born in Loulgri in 1872").
    follows_noun = bool(after) and after[0][:1].islower() and after[0] not in _AFTER_PLACE
    before = sentence[max(0, at - 30):at]
    # "in Kirkwood, Missouri designed by ...": a name after "<Place>, " is a place too.
    return at >= 0 and (bool(_PLACE_CUE.search(before)) and not follows_noun or bool(_APPOSED.search(before)))


def _weights(question: str, passages: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Question words weighted by rarity among the shown passages (a word every passage
    repeats says little about which sentence answers)."""
    words = content_words(question)
    n = max(1, len(passages))
    texts = [content_words(f"{p.get('title', '')} {p['text']}") for p in passages]
    return {w: math.log(1.0 + n / (1.0 + sum(w in t for t in texts))) for w in words}


def relation_words(question: str) -> set[str]:
    """The question's content words that are not part of a name it mentions: what is
    asked ("born", "founded", "president"), as opposed to about whom."""
    names: set[str] = set()
    for entity in extract_entities(question):
        names |= content_words(entity)
    return content_words(question) - names


_RELATIVE = frozenset("where which that who whom whose when".split())
_NP_END = frozenset("of where which that who whom whose in to at by from on for with married".split())
_TOKEN = re.compile(r"[A-Za-z0-9'’]+")


def outer_relation_words(question: str) -> set[str]:
    """The relation words of the question's outer clause: what the answer itself is
    asked about, as opposed to the nested phrase that names the bridge.

    "When was the founder of Didryth Films born?" asks "born" of the founder: "founder"
    leads to the bridge. "Who was the first president of the association which
    published X?" asks for the "first president" itself. Without a nested "the ..."
    phrase every relation word is outer.
    """
    relation = relation_words(question)
    words = [w.lower() for w in _TOKEN.findall(question)]
    if "the" not in words[1:]:
        return relation
    i = words.index("the", 1)
    head, rest = words[:i], words[i + 1:]
    phrase: list[str] = []
    for w in rest:
        if w in _NP_END:
            break
        phrase.append(w)
    relative = any(w in _RELATIVE for w in rest)
    tail = words[-1:] if not relative and len(rest) > len(phrase) else []
    outer = set(head) | set(tail) if tail else set(head) | set(phrase)
    # "What is the university where X studied?": the outer clause names only the kind of
    # answer ("university"); what is asked of it is the nested verb.
    if not (relation & outer) - {asked_noun(question)}:
        return relation
    return relation & outer


_ASKED = re.compile(r"^(?:in |on |at |from |for |to |of |by )?(?:which|what)\s+(?:is |was |are |were )?"
                    r"(?:the )?(?P<words>[a-z]+(?:\s+[a-z]+)*)")
# Words that end the noun group a which/what question asks for.
_GROUP_END = frozenset("of that which where who whom whose when in on at from by for to with "
                       "is was are were did does do has had and or a an the".split())
# Nouns that names seldom hold: "Elizabeth City" is no likelier to be the city asked for.
_UNNAMED = frozenset("city town village place location area country nation state".split())
_SETTLEMENTS = frozenset("city town village capital hamlet suburb neighborhood neighbourhood".split())
# Parts of a state or region: their names hold the noun ("McDowell County") or a place
# name of their own, never a country's or a state's.
_SUBDIVISIONS = frozenset("county district municipality borough parish township".split())
_GENERIC = frozenset("name kind type term sort one part form".split())


def asked_noun(question: str) -> str | None:
    """The noun a which/what question asks for: "county" in "Which county borders X?",
    "waterfall" in "What is the name of the waterfall in X?", "party" in "What is the
    political party that X belongs to?" (None for who/when/...)."""
    m = _ASKED.match(" ".join(question.lower().split()))
    if not m:
        return None
    words = m.group("words").split()
    if len(words) > 2 and words[0] in _GENERIC and words[1] == "of":
        words = words[3:] if words[2] == "the" else words[2:]  # "the name of the waterfall"
    group: list[str] = []
    for word in words:
        if word in _GROUP_END:
            break
        group.append(word)
    noun = noun_group(" ".join(group)).split()[-1] if group else None
    # Verbs end the group (_GROUP_END): what is left is a noun or nothing.
    return None if noun is None or noun in _GENERIC else noun


# Names of one kind that hold another noun: "University of Vienna" is the school asked for.
_KIND_SYNONYMS = {"school": {"university", "college", "academy", "institute", "conservatory"},
                  "waterfall": {"falls"}, "range": {"mountains"},
                  "university": {"college", "institute"}, "college": {"university", "institute"},
                  "team": {"club", "fc"}, "club": {"team", "fc"}}


def _kind_factor(span: str, noun: str | None, place: str | None) -> float:
    """How well ``span`` is the kind of thing asked for: a span holding the asked noun
    ("McDowell County" for "which county") or, for "which country/state", a span the
    gazetteer knows as one, is likelier; a gazetteer miss less likely."""
    if noun and noun not in _UNNAMED and re.search(
            rf"\b(?:{'|'.join(map(re.escape, {noun} | _KIND_SYNONYMS.get(noun, set())))})\b", span.lower()):
        return 3.0
    if noun in _SETTLEMENTS | _SUBDIVISIONS and (is_country(span) or is_region(span)):
        # "Which city ...?" is not answered by "China" or "Missouri", nor "Which county
        # ...?" by "Iowa"
        return 0.3
    if place == "country":
        return 3.0 if is_country(span) else 0.5
    if place == "continent":
        return 3.0 if is_continent(span) else 0.3
    if place == "region":
        return 3.0 if is_region(span) else 0.7
    return 1.0


def answer_candidates(
    passages: Sequence[dict[str, Any]],
    question: str,
    *,
    kind: AnswerType | None = None,
    exclude: Sequence[str] = (),
    limit: int = 6,
    hop_bonus: float = 1.0,
    beyond_subjects: bool = False,
    named_subjects: bool = True,
    relation_cues: bool = True,
) -> list[Candidate]:
    """The best ``limit`` spans of ``passages`` (best-first dicts with ``id``, ``title``,
    ``text``) that could answer ``question``.

    ``exclude`` holds names that cannot be the answer (earlier hops' answers). A span
    is dropped when all its words are in the question, or when it does not fit the
    expected answer type. ``beyond_subjects`` (the last hop of a multi-hop question)
    weighs down spans that name what a shown passage is about (:data:`SUBJECT_FACTOR`).
    ``named_subjects`` favours, in a question that does not nest, spans stated about
    the entity it names (:data:`NAMED_FACTOR`). ``relation_cues`` weighs spans by the
    words just before them (:func:`_near_relation`), drops markup and sentence-opening
    common words, and weighs down countries and regions where a person is asked.
    """
    kind = kind or expected_type(question)
    q_words = content_words(question)
    q_entities = extract_entities(question)
    q_names = [e for e in q_entities if len(e.split()) >= 2]  # names that go on: "X of Tulsa"
    q_keys = {normalize_entity(e) for e in q_entities}
    banned = {normalize_entity(x) for x in exclude if x}
    weights = _weights(question, passages)
    relation = relation_keys(outer_relation_words(question))
    noun = asked_noun(question) if kind.named else None
    place = place_kind(noun) if noun else None
    # The hop structure in code: passages naming the question's entities are the first
    # hop, and the names they add are bridges. A span that the first hop does not hold,
    # in a sentence or passage about a bridge, is one hop further: where a multi-hop
    # question's answer sits.
    anchor_texts = [normalize_entity(f"{p.get('title', '')} {p['text']}") for p in passages
                    if q_keys & {normalize_entity(e) for e in extract_entities(f"{p.get('title', '')}. {p['text']}")}]
    bridges = {normalize_entity(e) for p in passages for e in extract_entities(p["text"])
               if any(normalize_entity(e) in t for t in anchor_texts)} - q_keys
    subjects = {passage_subject(p.get("title", "")) for p in passages} if beyond_subjects else set()
    subjects.discard("")
    # Only a question that does not nest asks something of the entity it names; in a
    # multi-hop one the named entity's passage holds the bridge, not the answer.
    named = {k for k in q_keys if k} if named_subjects and not nests(question) else set()
    all_names = {k for k in q_keys if k} if relation_cues else set()
    subject_shown = bool(named) and any(passage_subject(p.get("title", "")) in named for p in passages)
    best: dict[str, Candidate] = {}
    mentions: dict[str, int] = {}
    ranks = asks_rank(question)
    asked_families = families(outer_relation_words(question))
    # The relation a sentence must state, not to state another one: the asked noun is
    # the answer's kind ("What country was X a citizen of?" asks "citizen", not "locate").
    stated_families = families(outer_relation_words(question) - {noun}) if relation_cues else asked_families
    # Words the passages use in lower case: a capitalised one opening a sentence is no name.
    common = {w for p in passages for w in _TOKEN.findall(p["text"]) if w.islower()} if relation_cues else set()
    for rank, p in enumerate(passages):
        title_words = content_words(p.get("title", ""))
        title_tokens = set(normalize_entity(p.get("title", "")).split())
        about_named = bool(named) and (passage_subject(p.get("title", "")) in named)
        # The page where all the question's names meet (relation_cues: one of its rules);
        # its words are only gathered when the question has several names.
        p_tokens = set(normalize_entity(f"{p.get('title', '')} {p['text']}").split()) \
            if len(all_names) >= 2 else set()
        meeting = passage_subject(p.get("title", "")) if p_tokens and all(
            set(k.split()) <= p_tokens for k in all_names) else ""
        for index, sentence in enumerate(sentences(p["text"])):
            s_norm = f" {normalize_entity(sentence)} "
            # A name counts when all its words are in the sentence: "Strauss" in "Johann
            # Strauss II", "Walsh" in "Raoul Walsh" (a namesake shares only some words).
            s_tokens = set(s_norm.split())
            names_it = about_named or any(set(k.split()) <= s_tokens for k in named)
            s_words = content_words(sentence) | title_words
            s_keys = relation_keys(s_words) | phrase_keys(sentence)
            s_families = families(content_words(sentence))
            spans = _spans(sentence, kind, q_names)
            nearest = nearest_to_names(sentence, [x for x in spans if fits(x, kind)], q_entities) \
                if relation_cues and kind in (AnswerType.NUMBER, AnswerType.DATE) else None
            for span in spans:
                key = normalize_entity(span)
                words = content_words(span)
                if not key or key in q_keys or key in banned or not words or words <= q_words:
                    continue
                if not fits(span, kind) or (kind.named and looks_demonym(span) and not is_country(span)
                                            and not is_region(span) and not _named_place(sentence, span)):
                    continue
                # Relation words ("born", "founded") say the sentence states what is asked;
                # the question's names only say whom it is about: they weigh double.
                echo = sum(w * (2.0 if relation_key(word) in relation else 1.0)
                           for word, w in weights.items()
                           if word not in words and (word in s_words or (relation_key(word) in relation
                                                                          and relation_key(word) in s_keys)))
                # Shorter spans win ties: "Laura Kelly" over "Democratic Senator Laura Kelly".
                score = ((1.0 + echo) * _cue(sentence, span, kind) / (1.0 + 0.5 * rank)
                         / (1.0 + 0.05 * len(span.split()))) * _kind_factor(span, noun, place)
                if relation_cues:
                    factor = _wording_factor(sentence, span, kind, noun, relation, asked_families, common)
                    if factor is None:
                        continue
                    score *= factor * (OFF_SUBJECT if subject_shown and not names_it else 1.0)
                if hop_bonus and anchor_texts and not any(f" {key} " in f" {t} " for t in anchor_texts):
                    about = {normalize_entity(p.get("title", ""))} | {
                        normalize_entity(e) for e in extract_entities(sentence)}
                    if about & bridges:
                        score *= 1.0 + hop_bonus
                if nearest == span:
                    score *= NEAREST_FACTOR
                if kind == AnswerType.NUMBER and relation_cues:
                    score *= ordinal_factor(span, ranks)
                if names_it:
                    score *= NAMED_FACTOR
                if about_named and index == 0:
                    score *= LEAD_FACTOR
                if meeting and passage_subject(span) == meeting:
                    score *= MEETING_FACTOR
                elif key in subjects and any(f" {key} " in f" {t} " for t in anchor_texts):
                    # Named by the first hop and with a passage of its own: the bridge.
                    score *= SUBJECT_FACTOR
                mentions[key] = mentions.get(key, 0) + 1
                if key not in best or score > best[key].score:
                    best[key] = Candidate(
                        text=span, passage_id=p["id"], sentence=sentence[:300], score=score,
                        kind=kind, relation_hits=len((s_keys - relation_keys(words)) & relation)
                        + int(relation_cues and noun is not None and noun in words and relation_key(noun) in relation),
                        about_subject=names_it if named else None,
                        names_all=len(all_names) >= 2 and all(set(k.split()) <= s_tokens | title_tokens
                                                              for k in all_names),
                        other_relation=bool(stated_families) and not (s_families & stated_families)
                        and bool(s_families - stated_families))
    for key, cand in best.items():
        # A span the passages repeat is a little more likely to be what they are about.
        cand.score = round(cand.score * (1.0 + 0.1 * math.log(mentions[key])), 6)
        # A span whose sentence echoes what is asked is likelier, but a strong span
        # whose sentence words the relation differently ("recorded by" for "performer")
        # must not fall behind every weak one that does: a factor, not a sort key.
        if cand.relation_hits:
            cand.score = round(cand.score * RELATION_FACTOR, 6)
    return sorted(best.values(), key=lambda c: -c.score)[:limit]
