"""The finish node: the report as the run's answer (Markdown), its sources as the run's
citations, and the whole report recorded in the trajectory (a ``report`` event)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agentflow.agent.citations import ANSWERED, REFUSAL, REFUSED
from agentflow.agent.live import context_of
from agentflow.agent.steps import traced
from agentflow.report.assemble import assemble
from agentflow.report.markdown import report_markdown
from agentflow.report.state import ReportState


@traced("finish")
def finish(state: ReportState, runtime: Runtime[Any]) -> dict[str, Any]:
    """Assemble and record the report."""
    ctx = context_of(runtime)
    plan = state.get("report_plan") or {"words": state.get("words") or 0}
    passages = state.get("report_passages") or {}
    path = str(ctx.recorder.path) if ctx.recorder.path else None
    report = assemble(state["question"], state.get("report_sections") or [], passages,
                      words=int(plan.get("words") or 0), run_id=state.get("run_id", ""), trajectory=path)
    retrieved = set(state.get("retrieved") or [])
    # The same guarantee the answer node gives, checked once more on the whole report.
    stray = {c for sec in report.sections for s in sec.sentences for c in s.citations} - retrieved
    if stray:
        raise RuntimeError(f"report cites passages not retrieved in this run: {sorted(stray)}")
    ctx.recorder.record("report", report=report.model_dump(mode="json"), words=report.words(),
                        sentences=sum(len(s.sentences) for s in report.sections))
    status = ANSWERED if report.sections else REFUSED
    if not report.sections:
        ctx.note("finish", "refusal", "no sentence of the report could be backed by a retrieved passage")
    ctx.progress(type="answer", node="finish", status=status, answer=f"report: {report.words()} words",
                 citations=[s.id for s in report.sources])
    return {"status": status, "answer": report_markdown(report) if report.sections else REFUSAL,
            "citations": [{"id": s.id, "title": s.title, "text": s.text} for s in report.sources],
            "report": report.model_dump(mode="json")}
