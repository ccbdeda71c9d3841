"""Follow-up questions made self-contained before planning.

"Where was she born?" after "Who founded Zorvath Industries?" (answered "Melira
Quandt") must be researched as "Where was Melira Quandt born?": the planner sees only
the question. :func:`standalone_question` asks the LLM for the rewrite (one narrow typed
call) and checks it; the deterministic floor substitutes the previous answer's entity
for the first pronoun. What was asked, what was researched and why is returned as a
:class:`FollowUp`, which the run records in its trajectory (``run_start.metadata``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from agentflow.errors import LLMError

__all__ = ["EarlierTurn", "FollowUp", "StandaloneQuestion", "floor_rewrite", "needs_context",
           "standalone_question"]

REFUSAL = "insufficient evidence"
_PRONOUN = re.compile(
    r"\b(he|she|they|it|him|them|his|her|hers|its|their|theirs|there|this|that|these|those)\b",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^\s*(and|also|what about|how about)\b", re.IGNORECASE)
# Capitalised phrases ("Melira Quandt", "Bresgyl & Co."), skipping a sentence's first word
# when it is a question word.
_ENTITY = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:&\s+)?(?:of\s+|the\s+|de\s+)?[A-Z][\w'’.-]*)*")
_ABBREVIATION = re.compile(r"\b(Co|Inc|Ltd|Corp|Jr|Sr|St|Bros)\.$")
_REFERENCE_NOUNS = {"company", "firm", "person", "man", "woman", "town", "city", "country", "river",
                    "place", "band", "album", "film", "book", "one", "group", "team", "author",
                    "founder", "people", "companies", "towns", "places", "work", "song"}
_THING_PRONOUNS = {"it", "its", "this", "that", "these", "those"}
_QUESTION_WORDS = {"who", "what", "where", "when", "which", "why", "how", "in", "the", "a",
                   "an", "and", "did", "does", "do", "is", "was", "were", "are", "whose"}


class EarlierTurn(BaseModel):
    """A question asked before in this conversation, and the answer it got."""

    question: str
    answer: str = ""


class StandaloneQuestion(BaseModel):
    """The LLM's rewrite of a follow-up into a question that needs no conversation."""

    question: str = Field(description="the follow-up rewritten to name what it refers to")


class FollowUp(BaseModel):
    """What was asked and what is researched: ``source`` says who rewrote it."""

    asked: str
    question: str
    source: Literal["unchanged", "llm", "floor"]
    reason: str = ""
    entity: str | None = None
    llm_output: str | None = None


def needs_context(question: str) -> bool:
    """True when the question leans on the conversation (a pronoun, a leading "and ...")."""
    return bool(_PRONOUN.search(question) or _LEADING.match(question))


def entities(text: str) -> list[str]:
    """Capitalised phrases of ``text`` in order (a leading question word is skipped)."""
    found: list[str] = []
    for m in _ENTITY.finditer(text):
        phrase_ = m.group(0)
        words = (phrase_ if _ABBREVIATION.search(phrase_) else phrase_.rstrip(".")).split()
        while words and words[0].lower() in _QUESTION_WORDS:
            words = words[1:]
        phrase = " ".join(words).strip(" ,;:?!")
        if phrase and phrase.lower() not in _QUESTION_WORDS and phrase not in found:
            found.append(phrase)
    return found


def focus_entity(turns: Sequence[EarlierTurn], pronoun: str = "") -> str | None:
    """What a pronoun most likely points at: the last answer when it is a short name,
    else the last answer's or question's first named entity. For ``it``/``its`` (a thing,
    not a person) the last question's own entity comes first."""
    if pronoun.lower() in _THING_PRONOUNS and turns:
        answer = turns[-1].answer.lower()
        for named in entities(turns[-1].question):
            if named.lower() not in answer:
                return named
    for turn in reversed(turns):
        answer = " ".join(turn.answer.split()).strip(" .")
        if answer and answer.lower() != REFUSAL:
            if len(answer.split()) <= 6 and entities(answer):
                return entities(answer)[0] if len(entities(answer)) == 1 else answer
            named = entities(answer)
            if named:
                return named[0]
        named = entities(turn.question)
        if named:
            return named[0]
    return None


def _substitute(question: str, entity: str) -> str | None:
    m = _PRONOUN.search(question)
    if m is None:
        return None
    word = m.group(1).lower()
    after = question[m.end():]
    if word in ("his", "its", "their", "theirs", "hers"):
        repl = f"{entity}'s"
    elif word == "her":
        # "her husband" is possessive, "about her" is not.
        nxt = re.match(r"\s+([a-z]+)", after)
        repl = f"{entity}'s" if nxt and nxt.group(1) not in {"in", "at", "on", "to", "for", "from", "with", "by"} else entity
    elif word in ("this", "that", "these", "those"):
        # "that company" -> the company's name; a bare "that" -> the name.
        noun = re.match(r"\s+([a-z]+)\b", after)
        if noun and noun.group(1) in _REFERENCE_NOUNS:
            after = after[noun.end():]
        repl = entity
    elif word == "there":
        repl = f"in {entity}"
        if re.search(r"\b(in|at|from|to)\s*$", question[: m.start()]):
            repl = entity
    else:
        repl = entity
    return question[: m.start()] + repl + after


def floor_rewrite(question: str, turns: Sequence[EarlierTurn]) -> tuple[str, str | None]:
    """The deterministic rewrite: the focus entity in place of the first pronoun, or added
    after a leading "and ..." / "what about ..."; the question unchanged when neither works."""
    pronoun = _PRONOUN.search(question)
    entity = focus_entity(turns, pronoun.group(1) if pronoun else "")
    if entity is None:
        return question, None
    rewritten = _substitute(question, entity)
    if rewritten is None and turns:
        last = turns[-1].question.rstrip(" ?")
        rest = _LEADING.sub("", question).strip(" ?")
        rewritten = f"{last} ({rest})?" if rest else question
    return (rewritten or question), entity


def _messages(question: str, turns: Sequence[EarlierTurn]) -> list[dict[str, str]]:
    history = "\n".join(
        f"Q: {t.question}\nA: {t.answer or '(no answer)'}" for t in list(turns)[-3:]
    )
    return [
        {"role": "system", "content": (
            "Rewrite the user's follow-up question so it can be understood without the "
            "conversation: replace pronouns and vague references with the names they refer "
            "to. Keep everything else. Answer with JSON {\"question\": \"...\"}.")},
        {"role": "user", "content": f"Conversation:\n{history}\n\nFollow-up: {question}"},
    ]


def _usable(candidate: str, question: str, turns: Sequence[EarlierTurn]) -> str | None:
    """Why the LLM's rewrite cannot be used, or None when it can."""
    text = candidate.strip()
    if not text:
        return "empty"
    if len(text) > max(200, 3 * len(question)):
        return "too long"
    if text.lower().strip(" ?") == question.lower().strip(" ?"):
        return "unchanged"
    if any(text.lower().strip(" ?") == t.question.lower().strip(" ?") for t in turns):
        return "repeats an earlier question"
    known = {e.lower() for t in turns for e in entities(f"{t.question} {t.answer}")}
    if not any(e.lower() in known for e in entities(text)):
        return "names nothing from the conversation"
    own = _content_words(question)
    dropped = own - _content_words(text)
    if len(dropped) > len(own) // 3:
        return f"drops the follow-up's own words ({', '.join(sorted(dropped))})"
    return None


def _content_words(text: str) -> set[str]:
    words = set(re.findall(r"[a-z0-9]+", text.lower()))
    # "company" in "that company" is replaced by the company's name: not the follow-up's own.
    return {w for w in words if w not in _QUESTION_WORDS and not _PRONOUN.fullmatch(w)
            and w not in _REFERENCE_NOUNS
            and w not in {"of", "to", "for", "on", "at", "by", "with", "from", "about", "as"}}


def standalone_question(question: str, turns: Sequence[EarlierTurn], llm: Any = None) -> FollowUp:
    """``question`` made self-contained using the earlier ``turns`` (oldest first).

    A question that does not lean on the conversation, or a first question, is kept as
    it is. Otherwise ``llm`` (if given) rewrites it in one typed call; a rewrite that is
    empty, unchanged, overlong or names nothing from the conversation falls back to
    :func:`floor_rewrite`.
    """
    turns = [t for t in turns if t.question.strip()]
    if not turns or not needs_context(question):
        return FollowUp(asked=question, question=question, source="unchanged",
                        reason="first question" if not turns else "self-contained")
    floor, entity = floor_rewrite(question, turns)
    reason = "no LLM"
    raw: str | None = None
    if llm is not None:
        try:
            value, call = llm.structured(_messages(question, turns), StandaloneQuestion, max_tokens=80,
                                         max_reasks=1)
            raw = call.attempts[-1].text if call.attempts else None
            why = _usable(value.question, question, turns)
            if why is None:
                return FollowUp(asked=question, question=value.question.strip(), source="llm",
                                entity=entity, llm_output=raw)
            reason = f"the LLM's rewrite was not used: {why}"
        except LLMError as exc:
            reason = f"the LLM gave no rewrite: {type(exc).__name__}"
    if floor == question:
        return FollowUp(asked=question, question=question, source="unchanged",
                        reason=f"{reason}; nothing to substitute", llm_output=raw)
    return FollowUp(asked=question, question=floor, source="floor", reason=reason, entity=entity,
                    llm_output=raw)
