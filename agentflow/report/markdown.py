"""A report as Markdown: a title, one paragraph per section with ``[n]`` after each
sentence's last word, and the numbered sources (``[n] Title — passage `ID```) at the end."""

from __future__ import annotations

from agentflow.report.records import Report, ReportSentence

SOURCES_HEADING = "Sources"


def cited_sentence(sentence: ReportSentence, labels: dict[str, int]) -> str:
    """``Text [1][3].``: the citation marks go before the sentence's final punctuation."""
    text = sentence.text.rstrip()
    end = text[-1] if text[-1:] in ".!?" else "."
    body = text[:-1].rstrip() if text[-1:] in ".!?" else text
    marks = "".join(f"[{labels[c]}]" for c in sentence.citations)
    return f"{body} {marks}{end}"


def _inline(text: str) -> str:
    """Text safe inside a Markdown line (no emphasis or code markers, no raw HTML)."""
    return (" ".join(text.split()).replace("\\", "\\\\").replace("`", "'").replace("*", "\\*")
            .replace("_", "\\_").replace("<", "&lt;"))


def report_markdown(report: Report) -> str:
    """The whole report as Markdown."""
    labels = report.label_of()
    lines = [f"# {_inline(report.question)}", ""]
    if report.run_id:
        lines += [f"<!-- agentflow report: run {report.run_id}, {report.words()} words -->", ""]
    for sec in report.sections:
        lines += [f"## {_inline(sec.heading)}", ""]
        lines += [" ".join(_inline(cited_sentence(s, labels)) for s in sec.sentences), ""]
    lines += [f"## {SOURCES_HEADING}", ""]
    for src in report.sources:
        lines.append(f"- [{src.label}] {_inline(src.title or src.id)} — passage `{src.id.replace('`', '')}`")
    return "\n".join(lines) + "\n"
