"""Side-by-side reports of scored eval folders: a markdown table, a rich table, and a
self-contained HTML page (inline CSS and SVG; no scripts, no external resources)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentflow.scoring.manifest import now_iso
from agentflow.scoring.scorer import COST_METRICS, METRICS, RunScore

if TYPE_CHECKING:
    from rich.table import Table

#: Rows of the summary tables, in order (every aggregated metric).
TABLE_METRICS = tuple(METRICS)
#: Per-question rows shown in the HTML report (beyond that, the JSON has them).
MAX_QUESTION_ROWS = 300
#: Longer predictions are cut in the per-question table.
MAX_ANSWER_CHARS = 160


def fmt_estimate(est: dict[str, Any], metric: str, *, interval: bool = True) -> str:
    """``0.512 [0.430, 0.600]`` for rates, ``1234.5 [1100.0, 1300.2]`` for costs, ``-`` if n/a."""
    if est.get("mean") is None:
        return "-"
    digits = 1 if metric in COST_METRICS and metric != "redundant_rate" else 3
    text = f"{est['mean']:.{digits}f}"
    if interval and est.get("lo") is not None and est.get("hi") is not None:
        text += f" [{est['lo']:.{digits}f}, {est['hi']:.{digits}f}]"
    return text


def _labels(runs: Sequence[RunScore]) -> list[str]:
    """Column labels: the folder names, made unique with the parent folder when needed."""
    labels = [r.label for r in runs]
    if len(set(labels)) < len(labels):
        labels = [f"{Path(r.folder).parent.name}/{r.label}" for r in runs]
    return labels


def _statuses(run: RunScore) -> str:
    """``answered 12, unsupported 3, refused 5``: how the runs ended, most common first."""
    counts = sorted(run.aggregate["statuses"].items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{k} {v}" for k, v in counts) or "-"


def markdown_table(runs: Sequence[RunScore]) -> str:
    """Metrics as rows, runs as columns (mean [95% CI]), then per-hop accuracy rows."""
    labels = _labels(runs)
    lines = ["| metric | " + " | ".join(labels) + " |", "|---|" + "---|" * len(runs)]
    lines.append("| graph / model | " + " | ".join(
        f"{r.manifest.graph} / {r.manifest.model}" for r in runs) + " |")
    lines.append("| questions scored | " + " | ".join(
        f"{r.aggregate['scored']} of {r.aggregate['questions']}" for r in runs) + " |")
    lines.append("| statuses | " + " | ".join(_statuses(r) for r in runs) + " |")
    for name in TABLE_METRICS:
        row = " | ".join(fmt_estimate(r.metric(name), name) for r in runs)
        lines.append(f"| {name} | {row} |")
    hops = max((len(r.aggregate.get("per_hop") or []) for r in runs), default=0)
    for i in range(hops):
        cells = []
        for r in runs:
            per_hop = r.aggregate.get("per_hop") or []
            cells.append(fmt_estimate(per_hop[i], "hop") + f" (n={per_hop[i]['n']})"
                         if i < len(per_hop) and per_hop[i].get("mean") is not None else "-")
        lines.append(f"| hop {i + 1} accuracy | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rich_table(runs: Sequence[RunScore], *, title: str = "comparison") -> Table:
    """The comparison table for the terminal (metrics as rows, runs as columns)."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    table.add_column("metric", style="bold")
    for label, r in zip(_labels(runs), runs, strict=True):
        table.add_column(f"{label}\n[dim]{r.manifest.graph} / {r.manifest.model}[/]",
                         justify="right")
    table.add_row("questions scored",
                  *(f"{r.aggregate['scored']} of {r.aggregate['questions']}" for r in runs))
    table.add_row("statuses", *(_statuses(r) for r in runs))
    for name in TABLE_METRICS:
        table.add_row(name, *(fmt_estimate(r.metric(name), name) for r in runs))
    hops = max((len(r.aggregate.get("per_hop") or []) for r in runs), default=0)
    for i in range(hops):
        table.add_row(f"hop {i + 1} accuracy", *(
            fmt_estimate(per_hop[i], "hop") if i < len(per_hop := r.aggregate.get("per_hop") or [])
            else "-" for r in runs))
    return table


# -- HTML --------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;
color:#1d1d1f;padding:0 16px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
table.questions{table-layout:fixed;width:100%}
th{background:#f4f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.best{background:#e8f4ea;font-weight:600}
.warn{background:#fff4e0;border-left:4px solid #f0a020;padding:6px 10px;margin:6px 0}
.ok{color:#2a7a3a}.bad{color:#b3261e}.dim{color:#777}
figure{margin:12px 0}figure svg{max-width:100%;height:auto}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
"""

#: Metrics where lower is better (for highlighting the best run).
_LOWER_IS_BETTER = set(COST_METRICS) | {"over_refusal", "uncited_answers"}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _summary_table(runs: Sequence[RunScore], labels: list[str]) -> str:
    head = "".join(f"<th>{_e(label)}<br><span class=dim>{_e(r.manifest.graph)} / "
                   f"{_e(r.manifest.model)}</span></th>"
                   for label, r in zip(labels, runs, strict=True))
    rows = [f"<tr><th>metric</th>{head}<th>what it is</th></tr>"]
    for name in TABLE_METRICS:
        ests = [r.metric(name) for r in runs]
        means = [e["mean"] for e in ests if e.get("mean") is not None]
        best = (min(means) if name in _LOWER_IS_BETTER else max(means)) if len(means) > 1 else None
        if means.count(best) > 1:  # a tie is no winner
            best = None
        if name == "refused":  # neither more nor fewer refusals is better in itself
            best = None
        cells = "".join(
            f"<td class=\"num{' best' if best is not None and e.get('mean') == best else ''}\">"
            f"{_e(fmt_estimate(e, name))}<br><span class=dim>n={e.get('n', 0)}</span></td>"
            for e in ests)
        rows.append(f"<tr><td>{_e(name)}</td>{cells}<td class=dim>{_e(METRICS[name])}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _hop_table(runs: Sequence[RunScore], labels: list[str]) -> str:
    hops = max((len(r.aggregate.get("per_hop") or []) for r in runs), default=0)
    if not hops:
        return "<p class=dim>No gold decompositions in this dataset.</p>"
    rows = ["<tr><th>hop</th>" + "".join(f"<th>{_e(label)}</th>" for label in labels) + "</tr>"]
    for i in range(hops):
        cells = []
        for r in runs:
            per_hop = r.aggregate.get("per_hop") or []
            est = per_hop[i] if i < len(per_hop) else {"mean": None, "n": 0}
            cells.append(f"<td class=num>{_e(fmt_estimate(est, 'hop'))}<br>"
                         f"<span class=dim>n={est.get('n', 0)}</span></td>")
        rows.append(f"<tr><td>{i + 1}</td>{''.join(cells)}</tr>")
    return ("<table>" + "".join(rows) + "</table><p class=dim>Hop i is correct when the run's i-th "
            "sub-answer contains gold step i's answer (cover-EM); '-' for graphs without "
            "sub-questions.</p>")


def _runs_table(runs: Sequence[RunScore], labels: list[str]) -> str:
    rows = [("<tr><th>run</th><th>graph</th><th>model</th><th>embedder</th><th>dataset</th>"
             "<th>questions</th><th>statuses</th><th>created</th></tr>")]
    for label, r in zip(labels, runs, strict=True):
        m = r.manifest
        statuses = _statuses(r)
        rows.append(f"<tr><td>{_e(label)}<br><span class=dim>{_e(r.folder)}</span></td>"
                    f"<td>{_e(m.graph)}</td>"
                    f"<td>{_e(m.model)}</td><td>{_e(m.embedder)}</td><td>{_e(m.dataset.name)}"
                    f"<br><span class=dim>{_e(m.dataset.sha256[:12])}</span></td>"
                    f"<td class=num>{r.aggregate['scored']} of {r.aggregate['questions']}</td>"
                    f"<td>{_e(statuses)}</td><td>{_e(m.created)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _question_table(runs: Sequence[RunScore], labels: list[str],
                    pictures: Mapping[tuple[int, str], str] | None = None) -> str:
    by_run = [{q.id: q for q in r.questions} for r in runs]
    ids = list(dict.fromkeys(q.id for r in runs for q in r.questions))
    shown = ids[:MAX_QUESTION_ROWS]
    head = "".join(f"<th>{_e(label)}</th>" for label in labels)
    rows = [f"<tr><th>question</th><th>gold</th>{head}</tr>"]
    for qid in shown:
        first = next(b[qid] for b in by_run if qid in b)
        cells = []
        for run_index, b in enumerate(by_run):
            q = b.get(qid)
            href = (pictures or {}).get((run_index, qid))
            picture = f" <a class=picture href=\"{_e(href)}\">picture</a>" if href else ""
            if q is None or not q.metrics:
                cells.append(f"<td class=dim>{_e(q.status if q else 'not run')}</td>")
                continue
            mark = ("<span class=ok>&#10003;</span>" if q.metrics.get("correct")
                    else "<span class=bad>&#10007;</span>")
            r5 = q.metrics.get("recall@5")
            answer = "(error)" if q.status == "error" else (q.prediction or "(refused)")
            if len(answer) > MAX_ANSWER_CHARS:  # small models ramble; the JSON has it all
                answer = answer[:MAX_ANSWER_CHARS] + "…"
            r5_text = "-" if r5 is None else f"{r5:.2f}"
            cells.append(f"<td>{mark} {_e(answer)}"
                         f"<br><span class=dim>{_e(q.status)}; R@5 {r5_text}; "
                         f"{int(q.metrics.get('llm_calls') or 0)} calls</span>{picture}</td>")
        gold = " | ".join(first.gold_answers) if first.gold_answers else "(unanswerable)"
        rows.append(f"<tr><td>{_e(first.question)}<br><span class=dim>{_e(qid)}</span></td>"
                    f"<td>{_e(gold)}</td>{''.join(cells)}</tr>")
    note = (f"<p class=dim>First {MAX_QUESTION_ROWS} of {len(ids)} questions; "
            "`agentflow eval score DIR --json` lists all.</p>" if len(ids) > len(shown) else "")
    return "<table class=questions>" + "".join(rows) + "</table>" + note


def render_html(runs: Sequence[RunScore], *, title: str = "agentflow eval report",
                pictures: Mapping[tuple[int, str], str] | None = None) -> str:
    """The whole report as one HTML string; ``pictures`` links questions to their
    evidence pictures (:mod:`agentflow.picture.report_pictures`)."""
    from agentflow.scoring import plots

    labels = _labels(runs)
    warnings = "".join(f"<div class=warn>{_e(label)}: {_e(w)}</div>"
                       for label, r in zip(labels, runs, strict=True) for w in r.warnings)
    hop_svg = plots.hop_bars(runs)
    boot = runs[0].aggregate.get("bootstrap", {}) if runs else {}
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content=\"width=device-width, initial-scale=1\">",
        # An empty icon: no favicon request (and no 404 in the console) when served.
        "<link rel=icon href=\"data:,\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        (f"<h1>{_e(title)}</h1><p class=dim>Generated {_e(now_iso())}. Intervals are 95% "
         f"percentile bootstrap intervals over questions ({boot.get('resamples', '?')} "
         f"resamples, seed {boot.get('seed', '?')}); n is the number of questions a metric "
         "applies to.</p>"),
        warnings,
        "<h2>Runs</h2>", _runs_table(runs, labels),
        "<h2>Metrics</h2>", _summary_table(runs, labels),
        "<figure>", plots.metric_bars(runs),
        "<figcaption class=dim>Quality metrics with 95% bootstrap intervals.</figcaption></figure>",
        "<h2>Per-hop accuracy</h2>", _hop_table(runs, labels),
        f"<figure>{hop_svg}</figure>" if hop_svg else "",
        "<h2>Context growth</h2>", "<figure>", plots.prompt_growth(runs),
        ("<figcaption class=dim>Prompt tokens of the i-th LLM call of a run, over the questions "
         "that made at least i calls.</figcaption></figure>"),
        "<h2>Accuracy against cost</h2>", "<figure>", plots.accuracy_vs_cost(runs), "</figure>",
        "<h2>Questions</h2><details open><summary>Answers per question</summary>",
        _question_table(runs, labels, pictures), "</details>",
        "</body></html>",
    ]
    return "\n".join(parts)


def write_html_report(runs: Sequence[RunScore], path: str | Path, *,
                      title: str = "agentflow eval report", pictures: bool = True) -> Path:
    """Write :func:`render_html` to ``path`` (folders created) and return the path; with
    ``pictures`` each question links to its evidence picture, written beside the report."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    links = None
    if pictures:
        from agentflow.picture.report_pictures import write_report_pictures

        links = write_report_pictures(runs, out, limit=MAX_QUESTION_ROWS)
    out.write_text(render_html(runs, title=title, pictures=links), encoding="utf-8")
    return out
