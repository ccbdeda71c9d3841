"""A plan from the question's own clause structure, built in code.

Multi-hop questions nest their hops as noun phrases: "Who was in charge of the
country where the composer of Aschenbrodel was a citizen?" asks first for "the
composer of Aschenbrodel", then for "the country where #1 was a citizen", then
"Who was in charge of #2?". Peeling the innermost phrase that names something
(a relative clause, an "of" phrase, a possessive) and replacing it with a
reference gives a chain of sub-questions without asking a model. It is the plan a
weak model cannot break, and the floor under any model's plan.
"""

from __future__ import annotations

import re

from agentflow.agent.gazetteer import looks_demonym
from agentflow.agent.schemas import Plan, PlannedStep
from agentflow.agent.state import REF, content_words
from agentflow.memory.entities import extract_entities

__all__ = ["clause_plan", "noun_group"]

_PERSON_NOUNS = frozenset(
    "author composer performer director founder producer creator writer singer artist "
    "mother father wife husband spouse son daughter brother sister child parent sibling "
    "president leader owner designer architect player actor actress star host narrator "
    "inventor developer manufacturer chairman ceo mayor governor king queen ruler monarch "
    "head coach manager captain editor illustrator lyricist painter sculptor poet novelist "
    "person man woman who partner member namesake successor predecessor".split()
)
_PLACE_NOUNS = frozenset(
    "country city town village state county province region continent island nation "
    "capital district municipality territory borough area location place river mountain "
    "sea ocean lake birthplace headquarters".split()
)
_ORG_NOUNS = frozenset(
    "company team band group organization organisation association club party label network "
    "school university college agency firm publisher league army station channel".split())
# A relative marker, optionally after a preposition ("in which", "from where").
_REL = (r"(?:(?:in|at|on|of|from|by|for|to|with|during|under|into|through|near)\s+)?"
        r"(?:which|where|that|who|whom|whose|when)")
# "the" + a short lower-case noun group (no articles, prepositions or relative words).
_STOP = (r"(?!(?:the|a|an|which|where|that|who|whom|whose|when|of|in|at|on|from|by|for|to|"
         r"with|during|under|into|through|near|is|was|are|were)\b)")
_NOUN = rf"(?P<noun>(?:{_STOP}[a-z][\w'-]*\s+){{0,2}}{_STOP}[a-z][\w'-]*)"
# A relative clause runs to the next comma or the end: "the river which X turns into, ...".
_RELATIVE = re.compile(rf"\bthe\s+{_NOUN}\s+(?P<rel>{_REL})\s+(?P<rest>(?:[^,]|,(?=\s*[A-Z#]))+)")
# The setting of a subject relative's object: "played X in <Film>", "won Y at <Games>".
_OBJECT_SETTING = re.compile(r"\s+(?:in|at|on|from)\s+(?=[A-Z])")
# A relative clause without its marker: "the country Signmark is from".
# A subject relative starts with its verb: "who directed", "which also published".
_SUBJECT_RELATIVE = re.compile(r"(?:also\s+|first\s+)?[a-z]+(?:ed|ote|ung|ew|ade|ought|ave|an|on)\s+"
                               r"(?:by\s+|in\s+|for\s+|to\s+)?(?=[A-Z#\"])")
_OBJECT_RELATIVE_END = re.compile(
    r"(?P<clause>(?:#\d+|[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+[a-z]+(?:ed|ied|ote|ung|ew|ade|ought|orn))"
    r"\s+(?:(?:is|was|were|are|has|had)\b|[a-z]+\s*$)")
# A clause that ends in a predicate noun, then the outer verb: "in which #1 is a citizen
# become part of ...".
_NOUN_RELATIVE_END = re.compile(
    r"(?P<clause>(?:#\d+|[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+(?:is|was|are|were)\s+(?:a|an|the)\s+"
    r"[a-z]+)\s+(?!(?:in|at|on|of|from|by|for|to|with|near|into|and|or|who|which|that)\b)[a-z]+")
# A clause that ends in "part of", then the outer clause: "that Knott is part of located
# in the UK" (the preposition closes the clause, as in a bare relative).
_PART_OF_END = re.compile(
    r"(?P<clause>(?:#\d+|[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+(?:is|was|are|were)\s+(?:a\s+)?part\s+of)"
    r"\s+[a-z]+")
# A passive clause followed by the outer verb: "where X is located become part of ...",
# "where X was born is located", "where X is located named after".
_PASSIVE_RELATIVE_END = re.compile(
    r"(?P<clause>(?:#\d+|[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+(?:is|was|are|were)\s+"
    r"[a-z]+(?:ed|en|wn|orn|ght))\s+(?!(?:in|at|on|of|from|by|for|to|with|near|into|and|or)\b)[a-z]+")
# A participle phrase: "the person married to X", "the film directed by X".
_PARTICIPLE = re.compile(rf"\bthe\s+{_NOUN}\s+(?P<verb>[a-z]+(?:ed|en|wn|orn))\s+"
                         r"(?P<prep>to|by|in|at|from|with|for|on)\s+(?P<rest>(?:#\d+|[A-Z]).*)$")
# A bare relative whose subject is a name and verb a past tense: "the university X attended".
_BARE_PAST = re.compile(rf"\bthe\s+{_NOUN}\s+(?P<rest>(?:#\d+|(?:the\s+)?[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+"
                        r"[a-z]+(?:ed|ote|ung|ew|ade|ought)\b(?:\s+(?:at|in|for|with|to|from))?)")
# It ends at its closing preposition when it has one ("... is part of" + the outer verb).
_BARE_RELATIVE = re.compile(
    rf"\bthe\s+{_NOUN}\s+(?P<rest>(?:#\d+|(?:the\s+)?[A-Z][^,]*?)\s+(?:is|was|are|were|has|had)\s"
    r"(?:[^,]*?\b(?:of|from|in|at|for|with|by|to|on)\b|[^,]+))")
# "the country containing Nugegoda", "the team featuring X".
_PRESENT_PARTICIPLE = re.compile(rf"\bthe\s+{_NOUN}\s+(?P<verb>[a-z]+ing)\s+(?P<prep>)(?P<rest>(?:#\d+|[A-Z]).*)$")
_OF = re.compile(rf"\bthe\s+{_NOUN}\s+of\s+(?P<rest>.+)$")
# A name before its person noun: "the It'll Be Me singer" is the singer of It'll Be Me
# ("the Chelsea manager"); not when a clause or "of" phrase goes on to say whose it is.
_PRENOMINAL = re.compile(r"\bthe\s+(?P<name>[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)\s+(?P<noun>[a-z]+)\b"
                         r"(?!\s+(?:who|whom|whose|that|which|of)\b)")
# "the same book as X": X's book is the hop ("What character comes from #1?").
_SAME = re.compile(r"\bthe\s+same\s+(?P<noun>[a-z]+)\s+as\s+(?P<rest>(?:#\d+|[A-Z]).*)$")
# The place a name is given in ("McRae in #1"): it stays with the name.
_IN_REF = re.compile(r"\s+in\s+#\d+")
# The possessed noun may carry modifiers ("Big Eye's main director"): up to three
# lower-case words, cut back to its noun group by :func:`noun_group`.
_POSSESSIVE = re.compile(r"(?P<owner>#\d+|[A-Z][^\s']*(?:\s+[A-Z][^\s']*){0,5})'s\s+"
                         r"(?P<noun>[a-z][\w-]*(?:\s+[a-z][\w-]*){0,2})")
# "the city of London", "the village of Clonbrook": the "of" phrase is a name, not a hop.
_NAMING_NOUNS = frozenset(
    "village town city hamlet borough municipality state province county island republic "
    "kingdom empire duchy university college battle siege treaty river lake mount isle port "
    "bay gulf house church cathedral".split())
# "the east of X", "the rest of X": a direction or a part, not a thing to look up.
_NOT_HOPS = frozenset("east west north south rest end beginning middle side top bottom part "
                      "half number name".split())
# A title that runs on past a possessive: "Mouthfeansu's Ember".
_POSSESSIVE_TITLE = re.compile(r"'s(?:\s+[A-Z][\w-]*)+")
_CAPITALISED_RUN = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:of\s+|the\s+|and\s+|und\s+|et\s+|for\s+|from\s+|to\s+|&\s+)?"
                              r"[A-Z][\w'’.-]*)*")
_WH_ONLY = frozenset("what which who whom whose where when how many much is was are were "
                     "did does do the a an of in".split())
_MAX_STEPS = 4
# Heads of the noun phrases a bare relative clause or a participle peels as a hop.
_HOP_NOUNS = _PLACE_NOUNS | _PERSON_NOUNS | _ORG_NOUNS
# Nouns of several words that the noun pattern cannot hold ("of" ends it).
_COMPOUNDS = {"place of birth": "birthplace", "birth place": "birthplace", "place of death": "deathplace",
              "city of birth": "birth city", "country of birth": "birth country",
              "alma mater": "alma-mater"}
# Head nouns beyond the hop nouns that a possessed noun group may end in.
_OTHER_HEADS = frozenset(
    "alma-mater laboratory museum airport stadium hospital library church park building "
    "hotel ship album song film movie book novel series show language religion "
    "currency".split())
_GENERIC_PEOPLE = frozenset("person man woman one people individual".split())


def _names(text: str) -> list[str]:
    return [e for e in extract_entities(text) if not re.fullmatch(r"\d{3,4}s?", e)]


def noun_group(words: str) -> str:
    """The noun group that ``words`` start with: the shortest prefix of up to three words
    that ends in a known head noun ("political party" of "political party that", "main
    director" of "main director invade"), else the first word. Shortest, because a
    verb can look like a noun ("What movie stars X": the group is "movie")."""
    split = words.split()[:3]
    for size in range(1, len(split) + 1):
        head = split[size - 1]
        if {head, head[:-1] if head.endswith("s") else head} & (_HOP_NOUNS | _OTHER_HEADS):
            return " ".join(split[:size])
    return split[0] if split else ""


def _leading_name(text: str) -> str | None:
    """The name (or ``#k`` reference) that ``text`` starts with, if any."""
    m = re.match(r"#\d+", text)
    if m:
        return m.group(0)
    names = _names(text)
    run = _CAPITALISED_RUN.match(text)
    # The extractor drops a leading "The" and stops at an abbreviation's dot ("The
    # Oddventures of Mr. Cool"): the run holds the whole title.
    core = re.sub(r"^The\s+", "", run.group(0)) if run else ""
    if run and names and len(core) > len(names[0]) and core.startswith(names[0]):
        # A title the extractor cut at a lower-case word: "Songs from Birgergas".
        return run.group(0).rstrip(".") if not run.group(0).endswith("Co.") else run.group(0)
    for candidate in (names[:1] and [names[0], f"the {names[0]}"]):
        # Only the first name can start the text (case-insensitively: "the"/"The").
        if text.lower().startswith(candidate.lower()):
            title = _POSSESSIVE_TITLE.match(text, len(candidate))
            return text[: title.end() if title else len(candidate)]
    # The extractor drops a leading capitalised function word ("Beyond Stulroudran"):
    # a run of capitalised words is a name too.
    run = _CAPITALISED_RUN.match(text)
    return run.group(0) if run else None


def _ask(noun: str, body: str) -> str:
    """A question asking for "the <noun> <body>", worded so its answer type reads right."""
    head = noun.split()[-1]
    head = head[:-1] if head.endswith("s") and head[:-1] in _PERSON_NOUNS | _PLACE_NOUNS else head
    if noun in _GENERIC_PEOPLE and body.startswith("who "):
        # "the person who wrote X" asks "Who wrote X?": its relation is the verb.
        return f"Who {body[4:]}?"
    if head in _PERSON_NOUNS:
        return f"Who is the {noun} {body}?"
    if head in _PLACE_NOUNS:
        return f"Which {noun} {body}?"
    if head in {"year", "date", "decade", "century"}:
        return f"What {noun} {body}?"
    return f"What is the {noun} {body}?"


def _innermost(text: str) -> tuple[int, int, str] | None:
    """The innermost peelable phrase of ``text``: (start, end, sub-question)."""
    found: list[tuple[int, int, str]] = []
    for m in _POSSESSIVE.finditer(text):
        owner, noun = m.group("owner"), noun_group(m.group("noun"))
        found.append((m.start(), m.start("noun") + len(noun), _ask(noun, f"of {owner}")))
    for start in [m.start() for m in re.finditer(r"\bthe\s", text)]:
        tail = text[start:]
        same = _SAME.match(tail)
        name = _leading_name(same.group("rest")) if same else None
        if same and name:
            where = _IN_REF.match(same.group("rest"), len(name))
            name = same.group("rest")[: where.end()] if where else name
            found.append((start, start + same.start("rest") + len(name), _ask(same.group("noun"), f"of {name}")))
            continue
        # "the American singer": an adjective of a people, not a name the noun belongs to.
        pre = _PRENOMINAL.match(tail)
        if pre and pre.group("noun") in _PERSON_NOUNS - _GENERIC_PEOPLE and not looks_demonym(pre.group("name")):
            found.append((start, start + pre.end(), _ask(pre.group("noun"), f"of {pre.group('name')}")))
            continue
        rel = _RELATIVE.match(tail)
        if rel and (REF.search(rel.group("rest")) or _names(rel.group("rest"))):
            body = rel.group("rest")
            subject = _SUBJECT_RELATIVE.match(body)
            if subject and rel.group("rel").split()[-1] in {"who", "which", "that"}:
                # "the person who directed X studied ...": the clause is the verb and its
                # object name; what follows belongs to the outer clause.
                name = _leading_name(body[subject.end():])
                if name:
                    # "who played Captain Miller in Saving Private Ryan is ...": a
                    # prepositional phrase naming where the object is belongs to it.
                    end = subject.end() + len(name)
                    where = _OBJECT_SETTING.match(body, end)
                    place = _leading_name(body[where.end():]) if where else None
                    if place and not place.startswith("#") and body[where.end() + len(place):].strip():
                        end = where.end() + len(place)
                    if body[end:].strip():
                        body = body[:end]
            else:
                # "where #1 studied is based": the clause ends at its own verb when the
                # outer clause's verb follows it.
                verb = (_OBJECT_RELATIVE_END.match(body) or _PASSIVE_RELATIVE_END.match(body)
                        or _NOUN_RELATIVE_END.match(body) or _PART_OF_END.match(body))
                if verb:
                    body = body[: verb.end("clause")]
            end = start + rel.start("rest") + len(body)
            found.append((start, end, _ask(rel.group("noun"), f"{rel.group('rel')} {body}")))
            continue
        # A past-tense clause first: in "the university X attended was born" the clause
        # ends at "attended"; "was born" belongs to the outer phrase.
        past = _BARE_PAST.match(tail)
        if past and past.group("noun").split()[-1] in _HOP_NOUNS:
            found.append((start, start + past.end(), _ask(past.group("noun"), f"that {past.group('rest')}")))
            continue
        bare = _BARE_RELATIVE.match(tail)
        if bare and bare.group("noun").split()[-1] in _HOP_NOUNS:
            found.append((start, start + bare.end(), _ask(bare.group("noun"), f"that {bare.group('rest')}")))
            continue
        # A participle phrase: "the person married to X", "the country containing X".
        for pattern in (_PARTICIPLE, _PRESENT_PARTICIPLE):
            part = pattern.match(tail)
            name = _leading_name(part.group("rest")) if part and part.group("noun").split()[-1] in _HOP_NOUNS else None
            if name:
                end = start + part.start("rest") + len(name)
                verb = " ".join(w for w in (part.group("verb"), part.group("prep")) if w)
                found.append((start, end, _ask(part.group("noun"), f"{verb} {name}")))
                break
        else:
            of = _OF.match(tail)
            if of and of.group("noun").split()[-1] not in _NAMING_NOUNS | _NOT_HOPS:
                name = _leading_name(of.group("rest"))
                if name:
                    end = start + of.start("rest") + len(name)
                    found.append((start, end, _ask(of.group("noun"), f"of {name}")))
    if not found:
        return None
    # Innermost: the latest start; of two at one start, the shorter.
    return max(found, key=lambda f: (f[0], -f[1]))


def clause_plan(question: str, max_steps: int = _MAX_STEPS) -> Plan | None:
    """Sub-questions peeled from ``question``'s nested phrases, innermost first, ending
    with the question itself over ``#k`` references; None when the question does not
    nest (a one-hop question, a comparison) or would need more than ``max_steps``."""
    text = " ".join(question.strip().rstrip("?").split())
    # "The state where X died has ..." nests like "... the state where X died".
    text = re.sub(r"^The\s", "the ", text)
    for compound, noun in _COMPOUNDS.items():
        text = re.sub(rf"\b{compound}\b", noun, text)
    # "the airport in birthplace of X": the article a generated question dropped.
    text = re.sub(r"\b(in|of|at|from|near|to) (birthplace|deathplace) of\b", r"\1 the \2 of", text)
    steps: list[PlannedStep] = []
    while len(steps) < max_steps - 1:
        inner = _innermost(text)
        if inner is None:
            break
        start, end, sub = inner
        rest = f"{text[:start]}#{len(steps) + 1}{text[end:]}"
        # Peeling must leave a question that still asks something of its own.
        if not (content_words(REF.sub(" ", rest)) - _WH_ONLY):
            break
        if not (_names(sub) or REF.search(sub)):
            break
        steps.append(PlannedStep(question=sub, depends_on=sorted({int(k) for k in REF.findall(sub)})))
        text = rest
    if not steps:
        return None
    final = text[0].upper() + text[1:] + "?"
    steps.append(PlannedStep(question=final, depends_on=sorted({int(k) for k in REF.findall(final)})))
    return Plan(sub_questions=steps)


def nests(question: str) -> bool:
    """Whether ``question`` asks about something it names only through another phrase
    (a multi-hop question by its own wording: :func:`clause_plan` peels a step off it)."""
    return clause_plan(question) is not None
