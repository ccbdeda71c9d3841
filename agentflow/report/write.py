"""The write node: one section per call, every sentence checked against the passages it
cites; a sentence that fails is rewritten once (a narrow call: one sentence, one passage)
or dropped, and the extractive floor fills what the model did not write."""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.context import RunContext
from agentflow.agent.live import context_of
from agentflow.agent.steps import traced
from agentflow.report.gather import section_search
from agentflow.report.records import DraftSentence, ReportSentence, Rewrite, SectionDraft
from agentflow.report.state import ReportState
from agentflow.report.support import (
    content_words,
    split_sentences,
    support_problem,
    unsupported_citations,
)

#: Words of a sentence, on average, when asking the model for a number of sentences.
WORDS_PER_SENTENCE = 20
MAX_DRAFT_SENTENCES = 5
#: Second tries per section: each is one LLM call; beyond this a failing sentence is dropped.
MAX_REWRITES = 3
#: Longest sentence kept (a run-on "sentence" is a paragraph the checker cannot judge).
MAX_SENTENCE_WORDS = 60


def _key(text: str) -> str:
    return " ".join(sorted(content_words(text)))


class SectionWriter:
    """Checks and collects one section's sentences (model, rewrite, extract), recording
    every rewrite and drop in the trajectory."""

    def __init__(self, ctx: RunContext, usage: dict[str, Any], *, index: int, heading: str,
                 passage_ids: list[str], passages: dict[str, dict[str, str]], retrieved: set[str],
                 used: set[str], target: int) -> None:
        self.ctx, self.usage, self.index, self.heading = ctx, usage, index, heading
        self.passage_ids, self.passages, self.retrieved = passage_ids, passages, retrieved
        self.texts = {pid: f"{p['title']}. {p['text']}" for pid, p in passages.items()}
        self.used = used  # content-word keys of every sentence in the report so far
        self.target = target
        self.sentences: list[ReportSentence] = []
        self.rewrites = 0

    @property
    def words(self) -> int:
        """Words written in this section so far."""
        return sum(len(s.text.split()) for s in self.sentences)

    def full(self) -> bool:
        """Whether the section has reached its share of the report's length."""
        return self.words >= self.target

    def _note(self, kind: str, message: str, **data: Any) -> None:
        self.ctx.note("write", kind, message, section=self.index, heading=self.heading, **data)

    def _keep(self, text: str, cited: list[str], origin: str) -> bool:
        key = _key(text)
        if key in self.used:
            return False
        self.used.add(key)
        sentence = ReportSentence(text=text, citations=cited, origin=origin)
        at = len(self.sentences)
        if origin == "extract":
            # Beside the sentences citing the same passage, in the passage's own order:
            # "It ..." then follows the sentence that names what "it" is.
            pid = cited[0]
            same = [i for i, s in enumerate(self.sentences) if pid in s.citations]
            if same:
                mine = self._position(pid, text)
                later = [i for i in same if self._position(pid, self.sentences[i].text) > mine]
                at = later[0] if later else same[-1] + 1
        self.sentences.insert(at, sentence)
        return True

    def offer(self, draft: DraftSentence, labels: list[str]) -> None:
        """Check a model sentence (labels: the passage ids its numbers stand for); keep it,
        rewrite it once, or drop it."""
        cited = [labels[n - 1] if 1 <= n <= len(labels) else f"[{n}]" for n in draft.citations]
        cited = list(dict.fromkeys(cited))
        for text in split_sentences(self.without_title(draft.text)):
            if self.full():
                return
            if len(text.split()) > MAX_SENTENCE_WORDS:
                self._note("sentence_dropped", f"sentence dropped: longer than {MAX_SENTENCE_WORDS} words",
                           sentence=text, citations=cited, reason="too long")
                continue
            self.check(text, cited, origin="model")

    def check(self, text: str, cited: list[str], *, origin: str) -> bool:
        """Keep ``text`` if its citations stand and support it; else rewrite once or drop."""
        text = text if text.rstrip()[-1:] in ".!?" else text.rstrip() + "."
        bad = unsupported_citations(text, cited, self.retrieved, self.texts)
        valid = [pid for pid in cited if pid not in bad]
        problem = support_problem(text, valid, self.texts)
        if bad and problem is None:
            # The sentence stands on its other citations: only the bad ones go.
            self._note("citation_removed", "citations removed from a sentence: "
                       + "; ".join(f"{pid}: {why}" for pid, why in bad.items()),
                       sentence=text, removed=sorted(bad), kept=valid)
        if problem is None:
            if not self._keep(text, valid, origin):
                self._note("sentence_dropped", "sentence dropped: it repeats an earlier one",
                           sentence=text, citations=valid, reason="repeat")
            return True
        reason = "; ".join([problem] + [f"citation {pid}: {why}" for pid, why in bad.items()])
        if origin == "model" and self._recite(text, cited, reason):
            return True
        if origin == "model" and self.rewrites < MAX_REWRITES:
            self.rewrites += 1
            if self._rewrite(text, valid or cited, reason):
                return True
        self._note("sentence_dropped", f"sentence dropped: {reason}", sentence=text, citations=cited,
                   reason=reason)
        return False

    def without_title(self, text: str) -> str:
        """``text`` without a leading "Title:" copied from the prompt's passage format."""
        head, sep, rest = str(text).partition(":")
        titles = {self.passages[pid]["title"].strip().lower() for pid in self.passage_ids if pid in self.passages}
        return rest.strip() if sep and head.strip().lower() in titles and rest.strip() else str(text)

    def _recite(self, text: str, cited: list[str], reason: str) -> bool:
        """The sentence as written, citing the one section passage that supports it by the
        same check, when the model numbered the wrong passage (no LLM call)."""
        for pid in self.passage_ids:
            if pid in cited or pid not in self.retrieved or pid not in self.texts:
                continue
            if support_problem(text, [pid], self.texts) is None:
                if not self._keep(text, [pid], "model"):
                    return False
                self._note("citation_corrected", f"citations {cited} replaced by {pid!r} ({reason})",
                           sentence=text, citations=cited, corrected=[pid])
                return True
        return False

    def _rewrite(self, text: str, cited: list[str], reason: str) -> bool:
        """One narrow retry: the sentence, why it failed, and the one section passage that
        shares most with it; the answer must cite that passage and pass the same check."""
        words = content_words(text)
        pool = [pid for pid in dict.fromkeys(cited + self.passage_ids)
                if pid in self.retrieved and pid in self.texts]
        if not pool:
            return False
        best = max(pool, key=lambda pid: len(words & content_words(self.texts[pid])))
        p = self.passages[best]
        fixed = self.ctx.ask(self.usage, node="write", prompt="report_rewrite", output_type=Rewrite,
                             max_tokens=90, sentence=text, problem=reason,
                             passage={"title": p["title"], "text": p["text"][: self.ctx.settings.passage_chars]})
        parts = split_sentences(self.without_title(fixed.text)) if fixed is not None else []
        if len(parts) != 1 or len(parts[0].split()) > MAX_SENTENCE_WORDS:
            return False
        new = parts[0] if parts[0][-1:] in ".!?" else parts[0] + "."
        if support_problem(new, [best], self.texts) is not None or not self._keep(new, [best], "rewrite"):
            return False
        self._note("sentence_rewritten", f"sentence rewritten ({reason})", sentence=text, rewritten=new,
                   citations=[best])
        return True

    def _position(self, pid: str, text: str) -> int:
        """Where ``text`` stands in passage ``pid`` (past the end when it is not there)."""
        found = self.passages.get(pid, {}).get("text", "").find(text.rstrip(".!?"))
        return found if found >= 0 else 10**9

    def add_passages(self, passages: dict[str, dict[str, str]], retrieved: set[str]) -> None:
        """Passages found after the section started (its extra searches)."""
        self.passages, self.retrieved = passages, retrieved
        self.texts = {pid: f"{p['title']}. {p['text']}" for pid, p in passages.items()}

    def extract(self, order: list[str]) -> None:
        """The floor: the sentences of the passages in ``order``, each citing its passage,
        a passage's sentences together and in its order (so "It ..." follows the sentence
        naming what "it" is), until the section is full."""
        for pid in order:
            if pid not in self.passages or pid not in self.retrieved:
                continue
            for text in split_sentences(self.passages[pid]["text"]):
                if self.full():
                    return
                if len(text.split()) > MAX_SENTENCE_WORDS or not re.search(r"[A-Za-z]", text):
                    continue
                text = text if text[-1:] in ".!?" else text + "."
                if support_problem(text, [pid], self.texts) is None:
                    self._keep(text, [pid], "extract")


def section_target(words: int, written: int, sections_left: int) -> int:
    """A section's share of what remains of the report's length."""
    return max(1, round(max(0, words - written) / max(1, sections_left)))


@traced("write")
def write(state: ReportState, runtime: Runtime[Any]) -> dict[str, Any]:
    """Write the next section of the outline."""
    ctx = context_of(runtime)
    usage = dict(state["usage"])
    plan = state["report_plan"]
    done = [dict(s) for s in state.get("report_sections") or []]
    index = len(done)
    section = plan["sections"][index]
    passages = state.get("report_passages") or {}
    retrieved = set(state.get("retrieved") or [])
    written = sum(len(s["text"].split()) for sec in done for s in sec["sentences"])
    target = section_target(plan["words"], written, len(plan["sections"]) - index)
    used = {_key(s["text"]) for sec in done for s in sec["sentences"]}
    ids = [pid for pid in section["passage_ids"] if pid in passages]
    writer = SectionWriter(ctx, usage, index=index, heading=section["heading"], passage_ids=ids,
                           passages=passages, retrieved=retrieved, used=used, target=target)
    n = max(2, min(MAX_DRAFT_SENTENCES, round(target / WORDS_PER_SENTENCE)))
    cut = ctx.settings.passage_chars
    draft = ctx.ask(usage, node="write", prompt="report_section", output_type=SectionDraft,
                    max_tokens=60 * n + 40, question=state["question"], heading=section["heading"], n=n,
                    passages=[{"title": passages[p]["title"], "text": passages[p]["text"][:cut]} for p in ids])
    for sentence in (draft.sentences if draft is not None else []):
        if writer.full():
            break
        writer.offer(sentence, ids)
    from_model = len(writer.sentences)
    if not writer.full():
        # The deterministic floor: the section's own passages first, then the report's others.
        writer.extract(ids + [pid for pid in passages if pid not in ids])
    passages = dict(passages)
    for query in more_queries(section["heading"], state["question"], ids, passages):
        if writer.full():
            break
        # Still short: search further (the heading with the question, then names the
        # section's passages mention that no passage is about yet) and extract again.
        hits = section_search(query, usage, ctx, section=index, node="write")
        fresh = [h for h in hits if h["id"] not in passages]
        for h in hits:
            retrieved.add(h["id"])
            passages.setdefault(h["id"], {"title": h["title"], "text": h["text"]})
        writer.add_passages(passages, retrieved)
        writer.extract([h["id"] for h in fresh])
    if not writer.full():
        writer._note("section_short", f"the evidence ran out: {writer.words} of {target} words",
                     words=writer.words, target=target)
    ctx.progress(type="note", node="write", kind="section",
                 message=f"section {index + 1}/{len(plan['sections'])} {section['heading']!r}: "
                         f"{len(writer.sentences)} sentences ({from_model} from the model), {writer.words} words")
    done.append({"heading": section["heading"], "sentences": [s.model_dump() for s in writer.sentences]})
    return {"usage": usage, "report_sections": done, "report_passages": passages,
            "retrieved": list(dict.fromkeys([*(state.get("retrieved") or []), *retrieved]))}


#: Extra searches a section that ran short of evidence may make.
MORE_SEARCHES = 2


def more_queries(heading: str, question: str, ids: list[str], passages: dict[str, dict[str, str]]) -> list[str]:
    """Queries for a section that ran out of evidence: its heading with the question, then
    names its passages mention that no known passage is titled (the next things to read)."""
    titles = {p["title"].lower() for p in passages.values()}
    out = [f"{heading} {question}"]
    for pid in ids:
        text = passages[pid]["text"]
        for m in re.finditer(r"(?:[A-Z][a-z]+)(?:\s+(?:[A-Z][a-z]+|of|&|and)){0,3}\s+[A-Z][a-z]+", text):
            name = m.group(0)
            if name.lower() not in titles and name not in out:
                out.append(name)
    return out[:MORE_SEARCHES]


def after_write(state: ReportState) -> str:
    """Another section, or the end."""
    return "write" if len(state.get("report_sections") or []) < len(state["report_plan"]["sections"]) else "finish"
