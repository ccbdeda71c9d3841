"""A scripted model that reads the generated world the way a careful reader model would.

:func:`read_like_a_model` computes each node's answer from the prompt it is shown: it splits
a chain question of the world's wording into hops (``In which city was the founder of X
born?`` -> ``Who founded X?``, ``In which city was #1 born?``), and answers a hop only when
one of the shown passages states the fact, parsed with the sentence templates the world's
documents are written from (:data:`~agentflow.evals.world.documents.FACT_SENTENCES`). No
model and no download, so the server's demo mode, benchmarks and tests can run the real
graphs offline; as a model string::

    scripted:agentflow.evals.world.reader:read_like_a_model
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from agentflow.records import ChatMessage

from .documents import FACT_SENTENCES
from .wording import PHRASES, QUESTIONS

__all__ = ["follow_chain", "hops", "read_like_a_model", "stated"]

#: What the reader answers when no shown passage states the fact (the read node's "none").
NONE = "none of these"
_PASSAGE = re.compile(r"^\[([^\]]+)\] (?:<passage> )?([^:]+): (.*?)(?: </passage>)?$", re.MULTILINE)
# What a template's placeholders may stand for: a year, a value, or words within a sentence.
_VALUE = r"[^.,]+?"
_WORDS = r"[^.]+?"


def _template(text: str, fields: dict[str, str]) -> str:
    """``text`` as a regex: literal parts escaped, ``{field}`` replaced from ``fields``
    (fields not given match words within one sentence)."""
    parts = re.split(r"\{(\w+)\}", text)
    return "".join(re.escape(p) if k % 2 == 0 else fields.get(p, _WORDS)
                   for k, p in enumerate(parts))


@cache
def _questions() -> list[tuple[str, re.Pattern[str]]]:
    return [(relation, re.compile(_template(t, {"x": "(?P<x>.+)"}), re.IGNORECASE))
            for relation, templates in QUESTIONS.items() for t in templates]


@cache
def _phrases() -> list[tuple[str, re.Pattern[str]]]:
    return [(relation, re.compile(_template(t, {"x": "(?P<x>.+)"}), re.IGNORECASE))
            for relation, templates in PHRASES.items() for t in templates]


def _asked(question: str) -> tuple[str, str] | None:
    """``(relation, subject)`` of a one-hop question in the world's wording."""
    q = question.strip()
    for relation, pattern in _questions():
        if m := pattern.fullmatch(q):
            return relation, m.group("x").strip()
    return None


def hops(question: str) -> list[tuple[str, str]]:
    """The chain a question of the world's wording asks, innermost hop first, as
    ``(relation, subject)`` pairs; every hop after the first has subject ``#k`` (the
    previous hop's answer). Empty when the question is not in the world's wording."""
    asked = _asked(question)
    if asked is None:
        return []
    chain = [asked[0]]
    subject = asked[1]
    while True:
        inner = next(((r, m.group("x").strip()) for r, p in _phrases()
                      if (m := p.fullmatch(subject))), None)
        if inner is None:
            break
        chain.append(inner[0])
        subject = inner[1]
    chain.reverse()
    return [(r, subject if k == 0 else f"#{k}") for k, r in enumerate(chain)]


@cache
def _fact_patterns(relation: str, subject: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(names the subject itself, pattern) for each sentence stating ``relation``. Templates
    are cut into sentences: readers see a passage's sentences reordered or cut short, and
    a sentence after the first may say "It" or "She" for the subject."""
    templates, value = FACT_SENTENCES[relation]
    fields = {"name": re.escape(subject), "year": r"\d{3,4}",
              value: r"(?P<value>\d{3,4})" if value == "year" else f"(?P<value>{_VALUE})"}
    out: list[tuple[bool, re.Pattern[str]]] = []
    for template in templates:
        for sentence in re.split(r"(?<=\.) (?=[A-Z{])", template):
            if "{" + value + "}" not in sentence:
                continue
            # A sentence starts a line or follows another one: never match mid-sentence.
            pattern = re.compile(r"(?:^|(?<=[.!?] ))" + _template(sentence, fields), re.MULTILINE)
            if (entry := ("{name}" in sentence, pattern)) not in out:
                out.append(entry)
    return out


def stated(relation: str, subject: str, title: str, text: str) -> tuple[str, str] | None:
    """``(value, sentence)`` when the passage ``title: text`` states ``relation`` of
    ``subject`` in the world's wording; a sentence that does not name the subject ("It is
    headquartered in ...") counts only in the subject's own document."""
    if relation not in FACT_SENTENCES:
        return None
    for names_subject, pattern in _fact_patterns(relation, subject):
        if not names_subject and title.strip() != subject:
            continue
        if m := pattern.search(text):
            return m.group("value").strip(), m.group(0)
    return None


# -- the nodes ------------------------------------------------------------------------


def _section(text: str, start: str, end: str) -> str:
    """The text between the last ``start`` and the next ``end`` (prompts open with a
    worked example whose sections come first)."""
    if start not in text:
        return ""
    tail = text.rsplit(start, 1)[1]
    return tail.split(end, 1)[0] if end in tail else tail


def _question(user: str) -> str:
    found = re.findall(r"^Question: (.*)$", user, re.MULTILINE)
    return found[-1].strip() if found else ""


def _plan(question: str) -> dict[str, Any]:
    chain = hops(question)
    if len(chain) < 2:
        return {"sub_questions": [{"question": question, "depends_on": []}]}
    return {"sub_questions": [
        {"question": QUESTIONS[relation][0].format(x=subject), "depends_on": [k] if k else []}
        for k, (relation, subject) in enumerate(chain)
    ]}


def _subject(subject: str, memory: str) -> str:
    """The subject, with "that company" taken from what the thread's memory says it is."""
    if not subject.lower().startswith(("that ", "this ")):
        return subject
    for relation in ("founded_by", "founded_year"):
        for template in QUESTIONS[relation]:
            pattern = _template(template, {"x": "(.+?)"}) + " ->"
            if known := re.findall(pattern, memory):
                return known[-1].strip()
    return ""


def _found(user: str) -> tuple[str, str, str] | None:
    """``(passage number, value, sentence)`` for the question the prompt asks."""
    asked = _asked(_question(user))
    if asked is None:
        return None
    relation, subject = asked
    subject = _subject(subject, _section(user, "Known so far:", "Passages:"))
    if not subject:
        return None
    for i, title, text in _PASSAGE.findall(_section(user, "Passages:", "Question:")):
        if found := stated(relation, subject, title, text):
            return i, *found
    return None


def _read(user: str, fields: set[str]) -> dict[str, Any]:
    found = _found(user)
    if "facts" in fields:
        if found is None:
            return {"facts": [], "answer": ""}
        return {"facts": [{"source": int(found[0]), "claim": found[2]}], "answer": found[1]}
    return {"answer": found[1] if found else NONE}


def _verify(user: str) -> dict[str, Any]:
    # A careful critic checks at least the kind of answer: a "when" question needs a date.
    question = _question(user)
    proposed = re.findall(r"^Proposed answer: (.*)$", user, re.MULTILINE)
    answer = proposed[-1] if proposed else ""
    if question.lower().startswith("when") and not re.search(r"\d", answer):
        return {"verdict": "unanswerable", "refined_query": ""}
    return {"verdict": "answered", "refined_query": ""}


def _answer(user: str) -> dict[str, Any]:
    user = user[user.rfind("Question: "):]  # past the worked example
    findings = re.findall(r"^- (.+?) -> (.+)$", _section(user, "Findings:", "Passages:"),
                          re.MULTILINE)
    answer = findings[-1][1].strip() if findings else ""
    passages = _PASSAGE.findall(_section(user, "Passages:", "\n\n"))

    def supports(title: str, text: str) -> bool:
        """The passage states one of the findings (or, for a finding in other words than
        the world's, names its answer)."""
        for question, found in findings:
            asked = _asked(question)
            if asked is None:
                if found.strip() in f"{title} {text}":
                    return True
            elif (fact := stated(*asked, title, text)) and fact[0] == found.strip():
                return True
        return False

    cited = [i for i, title, text in passages if answer and supports(title, text)]
    return {"answer": answer or "insufficient evidence", "citations": cited[:4]}


def follow_chain(question: str, passages: list[tuple[str, str, str]]) -> tuple[str, list[str]] | None:
    """Follow the question's hops through ``passages``: ``(answer, labels of the passages
    read)``, or None with the first hop no passage states."""
    answer, read = "", []
    for relation, subject in hops(question):
        subject = answer if subject.startswith("#") else subject
        found = next(((label, fact[0]) for label, title, text in passages
                      if (fact := stated(relation, subject, title, text))), None)
        if found is None:
            return None
        read.append(found[0])
        answer = found[1]
    return (answer, read) if read else None


def _next_query(question: str, passages: list[tuple[str, str, str]]) -> str:
    """The first hop the passages do not answer yet, as a question (a reader's next search)."""
    answer = ""
    for relation, subject in hops(question):
        subject = answer if subject.startswith("#") else subject
        fact = next((f for _, title, text in passages if (f := stated(relation, subject, title, text))),
                    None)
        if fact is None:
            return QUESTIONS[relation][0].format(x=subject)
        answer = fact[0]
    return question


def _rag(user: str) -> dict[str, Any]:
    shown = _PASSAGE.findall(_section(user, "Passages:", "Question:"))
    found = follow_chain(_question(user), shown)
    if found is None:
        return {"answer": "insufficient evidence", "citations": []}
    return {"answer": found[0], "citations": found[1]}


def _react(user: str) -> dict[str, Any]:
    question = _question(user)
    shown = _PASSAGE.findall(user.split("Question: ", 1)[-1])
    if found := follow_chain(question, shown):
        return {"action": "answer", "answer": found[0], "citations": found[1]}
    query = _next_query(question, shown)
    searched = re.findall(r'^Step \d+: searched "(.*)"$', user, re.MULTILINE)
    if query in searched or not hops(question):
        return {"action": "answer", "answer": "insufficient evidence", "citations": []}
    return {"action": "search", "query": query}


def _standalone(user: str) -> dict[str, Any]:
    """A follow-up rewritten the way a model reading the conversation would."""
    from agentflow.agent.followup import EarlierTurn, floor_rewrite

    pairs = re.findall(r"^Q: (.*)\nA: (.*)$", user, re.M)
    follow_up = user.rsplit("Follow-up:", 1)[1].strip()
    turns = [EarlierTurn(question=q, answer=a) for q, a in pairs]
    return {"question": floor_rewrite(follow_up, turns)[0]}


def read_like_a_model(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
    """The scripted model: each node's answer computed from the prompt it is shown (the
    node is told apart by the fields of the JSON schema it asks for). The baselines read
    the same way: ``rag`` follows the question's hops through the passages it is shown,
    ``react`` searches for the first hop its passages do not answer yet."""
    user = messages[-1].content
    fields = set((schema or {}).get("properties", {}))
    if "sub_questions" in fields:
        return _plan(_question(user))
    if "facts" in fields or (fields == {"answer"} and "Candidates:" in user):
        return _read(user, fields)
    if "verdict" in fields:
        return _verify(user)
    if {"answer", "citations"} <= fields and "Findings:" in user:
        return _answer(user)
    if fields == {"question"} and "Follow-up:" in user:
        return _standalone(user)
    if "action" in fields:
        return _react(user)
    if {"answer", "citations"} <= fields and "Passages:" in user:
        return _rag(user)
    return {"answer": "insufficient evidence", "citations": []}
