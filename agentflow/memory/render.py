"""The compact memory a prompt sees: a bounded text view of the memory graph.

MemSearcher's point: each LLM call gets the question plus a memory of fixed size,
not the run's growing history, so the prompt stays flat however long the run gets.
"""

from __future__ import annotations

from agentflow.llm.tokens import estimate_tokens
from agentflow.memory.graph import MemoryGraph

__all__ = ["render_memory"]

# Share of the budget each section may use at most; passages take what is left.
_ANSWERS_SHARE = 0.25
_FACTS_SHARE = 0.35
_MAX_FACTS = 12
_ELLIPSIS = "…"


def _fit(line: str, tokens: int) -> str:
    """``line`` cut (with an ellipsis) so that it costs at most ``tokens``; "" if nothing fits."""
    if estimate_tokens(line) <= tokens:
        return line
    chars = max(0, tokens * 4 - len(_ELLIPSIS))
    while chars > 0:
        cut = line[:chars].rstrip() + _ELLIPSIS
        if estimate_tokens(cut) <= tokens:
            return cut
        chars -= 4
    return ""


class _Section:
    """Lines under a heading, added while they fit the section's token allowance."""

    def __init__(self, heading: str, allowance: int) -> None:
        self.heading = heading
        self.allowance = allowance
        self.lines: list[str] = []

    def text(self) -> str:
        return "\n".join([self.heading, *self.lines]) if self.lines else ""

    def cost(self) -> int:
        return estimate_tokens(self.text())

    def add(self, line: str, *, cut: bool = False) -> bool:
        """Add ``line`` (cut to fit when ``cut``); False once the section is full."""
        base = estimate_tokens("\n".join([self.heading, *self.lines])) + 1
        room = self.allowance - base
        line = _fit(line, room) if cut else (line if estimate_tokens(line) <= room else "")
        if not line:
            return False
        self.lines.append(line)
        return True


def _known_answers(graph: MemoryGraph, current: str | None) -> list[str]:
    subquestions = graph.subquestions()
    needed = next((sq["depends_on"] for sq in subquestions if sq["id"] == current), [])
    # What the current sub-question depends on comes first: it is what "#1" refers to.
    subquestions.sort(key=lambda sq: sq["id"] not in needed)
    lines = []
    for sq in subquestions:
        if sq["id"] == current:
            continue
        answer = sq["answer"]
        if not answer:
            answering = [f["text"] for f in graph.facts_for(sq["id"]) if sq["id"] in f["answers"]]
            answer = answering[0] if answering else None
        if answer:
            lines.append(f"- {sq['text']} -> {answer}")
    return lines


def render_memory(
    graph: MemoryGraph,
    sub_question: str,
    *,
    budget_tokens: int = 600,
    k_passages: int = 4,
    sub_question_id: str | None = None,
) -> str:
    """Render what memory knows that matters for ``sub_question``, in at most
    ``budget_tokens`` (estimated) tokens: answers of the other sub-questions, facts
    (this sub-question's first, then those read from the best-matching passages) and
    the top ``k_passages`` passages, cut to fit. Empty when memory holds nothing useful.
    """
    if budget_tokens <= 0:
        return ""
    ranked = graph.search(sub_question, k=max(2 * k_passages, 8)) if sub_question else []

    answers = _Section("Known answers:", int(budget_tokens * _ANSWERS_SHARE))
    for line in _known_answers(graph, sub_question_id):
        if not answers.add(line, cut=True):
            break

    facts = _Section("Facts:", int(budget_tokens * _FACTS_SHARE))
    own = graph.facts_for(sub_question_id) if sub_question_id else []
    from_passages = [f for pid, _ in ranked for f in graph.facts_from(pid)]
    seen: set[str] = set()
    for fact in [*own, *from_passages]:
        if fact["id"] in seen or len(seen) >= _MAX_FACTS:
            continue
        seen.add(fact["id"])
        if not facts.add(f"- {fact['text']} [{fact['source']}]", cut=True):
            break

    used = answers.cost() + facts.cost() + 2
    passages = _Section("Passages:", budget_tokens - used)
    shown = [graph.passage(pid) for pid, _ in ranked[:k_passages]]
    shown = [p for p in shown if p is not None]
    for position, p in enumerate(shown):
        # Each passage gets an even share of what is left, so a short one leaves room
        # for the next and the first cannot starve the others.
        left = passages.allowance - passages.cost() - 1
        share = max(8, left // (len(shown) - position))
        title = f"{p.title}: " if p.title else ""
        line = _fit(f"[{p.id}] {title}{' '.join(p.text.split())}", share)
        if not line or not passages.add(line, cut=True):
            break

    text = "\n\n".join(s.text() for s in (answers, facts, passages) if s.lines)
    # Section joins cost a token or two; never hand back more than the budget.
    return _fit(text, budget_tokens)
