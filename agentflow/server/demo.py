"""A scripted agent over a small generated corpus, for server tests, benchmarks and demos.

No model and no download: the corpus is a made-up world of companies, their founders,
the towns they were born in and the rivers of those towns, embedded with the hashing
embedder; the LLM is a :class:`~agentflow.llm.ScriptedLLM` whose answers are computed
from what each prompt shows, the way a reader model would (it answers "When was that
company founded?" only when the prompt's memory says which company). Start a
server on it with::

    agentflow serve --agent-factory agentflow.server.demo:demo_agent

``AGENTFLOW_DEMO_LATENCY_S`` makes every LLM call take that long (benchmarks).
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections import deque
from pathlib import Path
from typing import Any

from agentflow.agent.api import Agent
from agentflow.config import home_dir
from agentflow.llm.scripted import ScriptedLLM
from agentflow.records import ChatMessage

__all__ = ["demo_agent", "demo_questions", "demo_store", "demo_world", "read_like_a_model"]


def _words(text: str) -> list[str]:
    return text.split()


_FIRST = _words(
    "Melira Dario Ansel Brisa Corvin Delphine Elko Fenna Gideon Halvard Ilse Joren Katrin "
    "Lorcan Maren Niko Orla Pavel Quilla Rurik Saskia Tobin Ulla Vesna"
)
_LAST = _words(
    "Quandt Feln Marrow Teague Vollan Ashgrove Brannic Castell Dunmore Ekberg Falk Grisham "
    "Holloway Ingram Jessop Kovar Lindqvist Morrow Norcott Oberlin Pembry Radley Stavros "
    "Thorne"
)
_COMPANY = _words(
    "Zorvath Kestrin Amberlyn Brightwater Coldharbor Duskfield Emberton Farrowgate "
    "Glimmerstone Hollowmere Ironvale Juniper Kingsreach Larkspur Mistral Northgale Oakhaven "
    "Pinecrest Quarrystone Ravenmoor Silverbrook Thornfield Umberlake Vantor"
)
_KIND = _words("Industries Works Shipping Foods Textiles Mills")
_TOWN = _words(
    "Ostrelle Brevik Calder Dunholt Erlen Falmo Garrow Hessel Ivrea Jastro Kellan Lomby Marsk "
    "Norrin Oddra Pellon Quess Rostam Selva Tarrow Uskel Varn Wendel Yarrow"
)
_RIVER = _words(
    "Lune Esk Tamar Wye Ouse Dee Fal Exe Tees Nene Kent Lyn Avon Brue Calder Dart Eden Frome "
    "Goyt Hull Irwell Leven Mole Nidd"
)
_COUNTRY = _words("Parvania Ostmark Lurenia Caldoria")
#: Companies in the default world (see :func:`demo_agent` for why so few).
DEFAULT_COMPANIES = 4


def demo_world(companies: int = DEFAULT_COMPANIES) -> list[dict[str, Any]]:
    """The demo corpus: one record per company, founder and town (3 passages per company,
    up to 24 companies)."""
    records = []
    for i, company in enumerate(_COMPANY[:companies]):
        name = f"{company} {_KIND[i % len(_KIND)]}"
        founder = f"{_FIRST[i]} {_LAST[i]}"
        town, river, country = _TOWN[i], _RIVER[i], _COUNTRY[i % len(_COUNTRY)]
        records += [
            {
                "id": f"company-{i}",
                "title": name,
                "text": f"{name} is a company founded in {1890 + 3 * i} by {founder}.",
            },
            {
                "id": f"person-{i}",
                "title": founder,
                "text": f"{founder} was born in the town of {town}. They studied at {_LAST[-1 - i]} College.",
            },
            {
                "id": f"town-{i}",
                "title": town,
                "text": f"{town} is a town in the country of {country}, on the river {river}.",
            },
        ]
    return records


def demo_questions(companies: int = DEFAULT_COMPANIES) -> list[tuple[str, str, str]]:
    """``(question, follow-up, follow-up answer)`` for every company: the question needs
    two hops; the follow-up ("that company") can only be answered from the thread,
    whose memory holds the company's passage from the first turn."""
    return [
        (
            f"In which town was the founder of {company} {_KIND[i % len(_KIND)]} born?",
            "When was that company founded?",
            str(1890 + 3 * i),
        )
        for i, company in enumerate(_COMPANY[:companies])
    ]


# -- the scripted model ---------------------------------------------------------------

_PASSAGE = re.compile(r"^\[(\d+)\] ([^:]+): (.*)$", re.MULTILINE)


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
    if m := re.match(r"In which town was the founder of (.+?) born\?", question):
        return {
            "sub_questions": [
                {"question": f"Who founded {m.group(1)}?", "depends_on": []},
                {"question": "Where was #1 born?", "depends_on": [1]},
            ]
        }
    return {"sub_questions": [{"question": question, "depends_on": []}]}


def _read(user: str) -> dict[str, Any]:
    question = _question(user)
    memory = _section(user, "Known so far:", "Passages:")
    passages = [
        (int(i), title, text)
        for i, title, text in _PASSAGE.findall(_section(user, "Passages:", "Question:"))
    ]
    patterns: list[str] = []
    if m := re.match(r"Who founded (.+?)\?", question):
        patterns.append(re.escape(m.group(1)) + r" is a company founded in \d+ by ([^.]+)\.")
    elif m := re.match(r"Where was (.+?) born\?", question):
        patterns.append(re.escape(m.group(1)) + r" was born in the town of ([^.]+)\.")
    elif m := re.match(r"When was (.+?) founded\?", question):
        company = m.group(1)
        if company == "that company":
            # Only the thread's memory can say which company "that company" is.
            known = re.findall(r"Who founded (.+?)\? ->", memory)
            company = known[-1].strip() if known else ""
        if company:
            patterns.append(re.escape(company) + r" is a company founded in (\d+)")
    elif m := re.match(r"Which river flows through (.+?)\?", question):
        patterns.append(
            re.escape(m.group(1)) + r" is a town in the country of \w+, on the river ([^.]+)\."
        )
    for pattern in patterns:
        for i, _title, text in passages:
            if found := re.search(pattern, text):
                return {
                    "facts": [{"source": i, "claim": found.group(0)}],
                    "answer": found.group(1).strip(),
                }
    return {"facts": [], "answer": ""}


def _verify(user: str) -> dict[str, Any]:
    # A careful critic checks at least the kind of answer: a "when" question needs a date.
    question = _question(user)
    proposed = re.findall(r"^Proposed answer: (.*)$", user, re.MULTILINE)
    answer = proposed[-1] if proposed else ""
    if question.lower().startswith("when") and not re.search(r"\d", answer):
        return {"verdict": "unanswerable", "refined_query": ""}
    return {"verdict": "answered", "refined_query": ""}


def _answer(user: str) -> dict[str, Any]:
    user = user[user.rfind("Question: ") :]  # past the worked example
    findings = re.findall(
        r"^- .+? -> (.+)$", _section(user, "Findings:", "Passages:"), re.MULTILINE
    )
    answer = findings[-1].strip() if findings else ""
    passages = _PASSAGE.findall(_section(user, "Passages:", "\n\n"))
    cited = [
        i
        for i, title, text in passages
        if answer and any(a.strip() in f"{title} {text}" for a in findings)
    ]
    return {"answer": answer or "insufficient evidence", "citations": cited[:4]}


def _standalone(user: str) -> dict[str, Any]:
    """A follow-up rewritten the way a model reading the conversation would."""
    from agentflow.agent.followup import EarlierTurn, floor_rewrite

    pairs = re.findall(r"^Q: (.*)\nA: (.*)$", user, re.M)
    follow_up = user.rsplit("Follow-up:", 1)[1].strip()
    turns = [EarlierTurn(question=q, answer=a) for q, a in pairs]
    return {"question": floor_rewrite(follow_up, turns)[0]}


def read_like_a_model(messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
    """The demo model: computes each node's answer from the prompt it is shown. The
    node is told apart by the fields of the JSON schema it asks for."""
    user = messages[-1].content
    fields = set((schema or {}).get("properties", {}))
    if "sub_questions" in fields:
        return _plan(_question(user))
    if "facts" in fields:
        return _read(user)
    if "verdict" in fields:
        return _verify(user)
    if {"answer", "citations"} <= fields and "Findings:" in user:
        return _answer(user)
    if fields == {"question"} and "Follow-up:" in user:
        return _standalone(user)
    # Other graphs (rag, react) get a plain refusal rather than a crash.
    return {"answer": "insufficient evidence", "citations": []}


# -- the agent ------------------------------------------------------------------------

_build_lock = threading.Lock()


def demo_store(companies: int = DEFAULT_COMPANIES, folder: str | Path | None = None) -> Any:
    """The demo corpus store (built on first use under ``<home>/demo-store-<companies>``)."""
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    path = Path(folder) if folder else home_dir() / f"demo-store-{companies}"
    with _build_lock:
        store = CorpusStore(path, embedder="hash")
        if store.count() == 0:
            path.mkdir(parents=True, exist_ok=True)
            corpus = path / "demo-corpus.jsonl"
            corpus.write_text(
                "".join(json.dumps(r) + "\n" for r in demo_world(companies)), encoding="utf-8"
            )
            ingest([corpus], store, progress=False)
    return store


def demo_agent(
    *, latency_s: float | None = None, companies: int | None = None, **agent_options: Any
) -> Agent:
    """An :class:`Agent` on the demo store and the scripted demo model.

    ``latency_s`` (default ``$AGENTFLOW_DEMO_LATENCY_S`` or 0) is the time every LLM
    call takes; ``companies`` (default ``$AGENTFLOW_DEMO_COMPANIES`` or 4, at most 24) the
    size of the world. With 4, every search returns all company passages, so "that
    company" is always among the passages read and only the thread's memory can say
    which one it is; in larger worlds retrieval, not memory, decides the follow-up
    (memory search does not know which company "that" is either).
    Other options (``threads``, ``checkpoint_db``, ...) go to ``Agent``.
    """
    if latency_s is None:
        latency_s = float(os.environ.get("AGENTFLOW_DEMO_LATENCY_S") or 0)
    if companies is None:
        companies = int(os.environ.get("AGENTFLOW_DEMO_COMPANIES") or DEFAULT_COMPANIES)
    llm = ScriptedLLM(fn=read_like_a_model, latency_s=latency_s, name="demo")
    # A server answers thousands of requests: keep only the latest calls, not all.
    llm.calls = deque(maxlen=64)  # type: ignore[assignment]
    return Agent(demo_store(max(1, min(companies, len(_COMPANY)))), llm=llm, **agent_options)
