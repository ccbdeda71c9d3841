"""An evaluation-only model that plays a faithful strong model from the gold data.

``agentflow eval run --llm oracle`` measures how much the pipeline loses given a
perfect reader: the oracle plans the dataset's gold decomposition, and answers a
(sub-)question only when its gold answer occurs in the passages it is shown,
otherwise it says it cannot. It never invents: everything it says is checked by the
same code that checks a real model. Its scores are a **ceiling, never a result**:
it sees the gold answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from agentflow.agent.citations import REFUSAL
from agentflow.agent.read import NONE
from agentflow.agent.state import REF as _REF
from agentflow.llm.scripted import ScriptedLLM
from agentflow.records import ChatMessage
from agentflow.scoring.metrics import normalize_answer

from .datasets import QAExample

_QUESTION = re.compile(r"^Question: (.*)$", re.M)
_PASSAGE = re.compile(r"^\[(\d+)\] (.*)$", re.M)


def _words(text: str) -> set[str]:
    return set(normalize_answer(text).split())


def _similarity(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / max(1, len(wa | wb))


class OracleLLM(ScriptedLLM):
    """Answers the agent's prompts from the gold decompositions of ``examples``."""

    def __init__(self, examples: Sequence[QAExample]) -> None:
        super().__init__(fn=self._respond, name="oracle")
        self.examples = list(examples)
        self._by_question = {normalize_answer(e.question): e for e in self.examples}
        # (resolved gold step text, gold answers of that step) for every step of every example
        self._steps: list[tuple[str, list[str]]] = []
        for ex in self.examples:
            answers = [s.answer for s in ex.decomposition]
            for i, step in enumerate(ex.decomposition):
                text = _REF.sub(lambda m, a=answers: a[int(m.group(1)) - 1]
                                if 0 < int(m.group(1)) <= len(a) else m.group(0), step.question)
                golds = ex.answers if i == len(ex.decomposition) - 1 else [step.answer]
                self._steps.append((text, [g for g in golds if g]))
            self._steps.append((ex.question, [a for a in ex.answers if a]))

    # -- what the gold data says -------------------------------------------------------

    def _example(self, question: str) -> QAExample | None:
        ex = self._by_question.get(normalize_answer(question))
        if ex is None and self.examples:
            best = max(self.examples, key=lambda e: _similarity(e.question, question))
            ex = best if _similarity(best.question, question) > 0.6 else None
        return ex

    def _golds(self, question: str) -> list[str]:
        if not self._steps:
            return []
        text, golds = max(self._steps, key=lambda s: _similarity(s[0], question))
        return golds if _similarity(text, question) > 0.3 else []

    @staticmethod
    def _found(golds: Sequence[str], passages: Sequence[tuple[str, str]]) -> tuple[str, list[str]]:
        """The first gold answer that occurs in the passages, and the labels containing it."""
        for gold in golds:
            norm = normalize_answer(gold)
            labels = [label for label, text in passages if norm and f" {norm} " in f" {normalize_answer(text)} "]
            if labels:
                return gold, labels
        return "", []

    # -- the prompts ---------------------------------------------------------------------

    def _respond(self, messages: list[ChatMessage], schema: dict[str, Any] | None) -> Any:
        user = messages[-1].content if messages else ""
        questions = _QUESTION.findall(user)
        question = questions[-1].strip() if questions else ""
        passages = _PASSAGE.findall(user)
        props = set((schema or {}).get("properties", {}))
        if "sub_questions" in props:
            ex = self._example(question)
            if ex is None or not ex.decomposition:
                return {"sub_questions": [{"question": question, "depends_on": []}]}
            steps = [{"question": s.question,
                      "depends_on": sorted({int(m) for m in _REF.findall(s.question)})}
                     for s in ex.decomposition]
            return {"sub_questions": steps}
        if "verdict" in props:
            return {"verdict": "answered", "refined_query": ""}
        if "action" in props:  # the ReAct baseline
            ex = self._example(question)
            gold, labels = self._found(ex.answers if ex else [], passages)
            if gold:
                return {"action": "answer", "answer": gold, "citations": labels[:2]}
            return {"action": "search", "query": question}
        if "citations" in props:  # rag and the composing answer node
            ex = self._example(question)
            gold, labels = self._found(ex.answers if ex else self._golds(question), passages)
            return {"answer": gold or REFUSAL, "citations": labels[:3]}
        # The reader: pick the span that answers the sub-question, or say none does.
        gold, _ = self._found(self._golds(question), passages)
        return {"answer": gold or NONE}
