"""The demo world: a small fixed slice of one generated world, and an agent on it.

The slice is the documents of a few two-hop chains of the world generated with
:data:`DEMO_SEED` (a company, the person who founded it, the city that person was born
in), in the world's own wording. With the scripted reader
(:func:`~agentflow.evals.world.reader.read_like_a_model`) it runs the real graphs with no
model and no download: the server's demo mode, benchmarks and tests all use it::

    agentflow serve --agent-factory agentflow.evals.world.demo:demo_agent

``AGENTFLOW_DEMO_LATENCY_S`` makes every LLM call take that long (benchmarks);
``AGENTFLOW_DEMO_COMPANIES`` sets the number of chains (default 4, at most 24).
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from agentflow.agent.api import Agent
from agentflow.config import home_dir
from agentflow.llm.scripted import ScriptedLLM

from .generator import generate_world
from .reader import read_like_a_model
from .wording import PHRASES, QUESTIONS

__all__ = ["DemoChain", "demo_agent", "demo_chains", "demo_questions", "demo_store",
           "demo_world", "read_like_a_model"]

#: The generated world the demo slice is cut from (fixed: tests name its facts).
DEMO_SEED = 7
_SOURCE_DOCS = 600
#: Chains in the default demo world (see :func:`demo_agent` for why so few).
DEFAULT_COMPANIES = 4
MAX_COMPANIES = 24
#: The follow-up every demo question has: only the thread knows which company it means.
FOLLOW_UP = QUESTIONS["founded_year"][1].format(x="that company")


@dataclass(frozen=True)
class DemoChain:
    """One chain of the demo world: a company, its founder, the founder's birth city, with
    their document ids, the company's founding year and the city's country (named in the
    city's document, which is the chain's last)."""

    company: str
    founder: str
    city: str
    founded: str
    company_id: str
    founder_id: str
    city_id: str
    country: str

    @property
    def question(self) -> str:
        """The two-hop question: in which city was the company's founder born?"""
        return QUESTIONS["born_in"][0].format(x=PHRASES["founded_by"][0].format(x=self.company))

    @property
    def three_hop(self) -> str:
        """The three-hop question: in which country is the founder's birth city?"""
        founder = PHRASES["founded_by"][0].format(x=self.company)
        return QUESTIONS["located_in"][0].format(x=PHRASES["born_in"][0].format(x=founder))

    @property
    def ids(self) -> tuple[str, str, str]:
        """The chain's documents: company, founder, city."""
        return self.company_id, self.founder_id, self.city_id


@cache
def _source() -> tuple[list[DemoChain], dict[str, dict[str, str]]]:
    world = generate_world(n_docs=_SOURCE_DOCS, n_questions=0, seed=DEMO_SEED)
    table = world.entities
    assert table is not None
    docs = {p.id: {"id": p.id, "title": p.title, "text": p.text} for p in world.corpus}
    chains: list[DemoChain] = []
    used: set[int] = set()
    ents = table.entities
    for c in sorted(table.by_kind["company"], key=lambda i: ents[i].doc):
        founder = ents[c].link
        city = ents[founder].link
        # Distinct founders and cities: each chain's documents are its own.
        if {founder, city} & used or ents[c].twin in used:
            continue
        used |= {c, founder, city}
        country = ents[city].link
        chains.append(DemoChain(
            company=ents[c].name, founder=ents[founder].name, city=ents[city].name,
            founded=str(ents[c].year), company_id=table.doc_id(c),
            founder_id=table.doc_id(founder), city_id=table.doc_id(city),
            country=ents[country].name))
        if len(chains) == MAX_COMPANIES:
            break
    return chains, docs


def _size(companies: int) -> int:
    return max(1, min(companies, MAX_COMPANIES))


def demo_chains(companies: int = DEFAULT_COMPANIES) -> list[DemoChain]:
    """The first ``companies`` chains of the demo world (at most 24)."""
    return _source()[0][: _size(companies)]


def demo_world(companies: int = DEFAULT_COMPANIES) -> list[dict[str, str]]:
    """The demo corpus: the generated documents of the first ``companies`` chains
    (company, founder, city for each), as ``{"id", "title", "text"}`` records."""
    docs = _source()[1]
    return [docs[i] for chain in demo_chains(companies) for i in chain.ids]


def demo_questions(companies: int = DEFAULT_COMPANIES) -> list[tuple[str, str, str]]:
    """``(question, follow-up, follow-up answer)`` for every chain: the question needs two
    hops; the follow-up ("that company") can only be answered from the thread, whose
    memory holds the company's document from the first turn."""
    return [(c.question, FOLLOW_UP, c.founded) for c in demo_chains(companies)]


_build_lock = threading.Lock()


def demo_store(companies: int = DEFAULT_COMPANIES, folder: str | Path | None = None) -> Any:
    """The demo corpus store (built on first use under ``<home>/demo-world-<companies>``)."""
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    companies = _size(companies)
    path = Path(folder) if folder else home_dir() / f"demo-world-{companies}"
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
    """An :class:`Agent` on the demo store and the scripted reader.

    ``latency_s`` (default ``$AGENTFLOW_DEMO_LATENCY_S`` or 0) is the time every LLM
    call takes; ``companies`` (default ``$AGENTFLOW_DEMO_COMPANIES`` or 4, at most 24) the
    number of chains. With 4, every search returns nearly all of the 12 documents, so
    "that company" is always among the passages read and only the thread's memory can say
    which one it is; in larger worlds retrieval, not memory, decides the follow-up.
    Other options (``threads``, ``checkpoint_db``, ...) go to ``Agent``.
    """
    if latency_s is None:
        latency_s = float(os.environ.get("AGENTFLOW_DEMO_LATENCY_S") or 0)
    if companies is None:
        companies = int(os.environ.get("AGENTFLOW_DEMO_COMPANIES") or DEFAULT_COMPANIES)
    llm = ScriptedLLM(fn=read_like_a_model, latency_s=latency_s, name="demo")
    # A server answers thousands of requests: keep only the latest calls, not all.
    llm.calls = deque(maxlen=64)  # type: ignore[assignment]
    return Agent(demo_store(companies), llm=llm, **agent_options)
