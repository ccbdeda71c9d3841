"""A weak model on a generated world: every model call is useless (invalid plans, a reader
that names the prompt's example, a critic that says unanswerable), and the loop's own
machinery still answers chains through their bridges and refuses the questions whose
evidence is missing (real Chroma store, hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow import Agent
from agentflow.evals.world import generate_world
from agentflow.llm import ScriptedLLM

from .helpers import weak_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world_store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from agentflow.store.corpus import CorpusStore
    from agentflow.store.ingest import ingest

    world = generate_world(n_docs=200, n_questions=40, seed=31)
    folder = tmp_path_factory.mktemp("chain-world")
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": p.id, "title": p.title, "text": p.text}) + "\n"
                              for p in world.corpus), encoding="utf-8")
    store = CorpusStore(folder / "store", embedder="hash")
    ingest([corpus], store, progress=False)
    return world, Path(store.path)


def test_a_weak_model_answers_chains_and_refuses_missing_evidence(world_store) -> None:  # type: ignore[no-untyped-def]
    world, store = world_store
    llm = ScriptedLLM(fn=weak_model)
    llm.small = True
    agent = Agent(store, llm=llm, embedder="hash")
    chains = [q for q in world.questions if q.answerable and q.kind == "chain" and q.hops == 2][:5]
    broken = [q for q in world.questions if not q.answerable][:4]
    assert len(chains) >= 4 and len(broken) >= 3
    correct = 0
    for q in chains:
        result = agent.ask(q.question)
        if result.status == "answered" and result.answer.lower() == q.answers[0].lower():
            correct += 1
            # The answer's passage is cited, and nothing from the prompt's example is.
            assert set(q.supporting_ids) & {c["id"] for c in result.citations}
        assert "Vantry Forge" not in result.answer
    refused = sum(agent.ask(q.question).status != "answered" for q in broken)
    assert correct >= len(chains) - 1, f"{correct} of {len(chains)} two-hop chains answered"
    assert refused >= len(broken) - 1, f"{refused} of {len(broken)} unanswerable questions refused"
