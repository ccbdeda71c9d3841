"""A report as one self-contained HTML page: no outside requests (a content security
policy forbids them), sources linked from every citation, and each citation showing its
passage (a hover title, and a pane that a click or the keyboard opens)."""

from __future__ import annotations

import html
import json
from pathlib import Path

from agentflow.report.markdown import cited_sentence
from agentflow.report.records import Report

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_STYLE = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.6 Georgia, "Times New Roman", serif; color: var(--ink); background: #fbfbf8; }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1.25rem 12rem; }
h1 { font-size: 1.7rem; line-height: 1.25; margin: 0 0 .4rem; }
.meta { font: 14px/1.4 system-ui, sans-serif; color: var(--muted); margin-bottom: 2rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
p { margin: 0 0 1rem; overflow-wrap: anywhere; }
a.cite { font: 12px/1 system-ui, sans-serif; vertical-align: super; text-decoration: none; color: var(--accent);
  padding: 0 1px; border-radius: 3px; }
a.cite:hover, a.cite:focus, a.cite.active { background: #dbe7fd; outline: none; }
ol.sources { padding-left: 0; list-style: none; font: 15px/1.45 system-ui, sans-serif; }
ol.sources li { margin: 0 0 .8rem; padding: .4rem .6rem; border-left: 3px solid var(--line); overflow-wrap: anywhere; }
ol.sources li:target, ol.sources li.active { border-left-color: var(--accent); background: #eef3fd; }
.label { font-weight: 600; margin-right: .35rem; }
.pid { color: var(--muted); font-family: ui-monospace, monospace; font-size: 13px; }
details summary { cursor: pointer; color: var(--muted); font-size: 14px; }
#pane { position: fixed; left: 0; right: 0; bottom: 0; max-height: 40vh; overflow: auto; background: #fff;
  border-top: 2px solid var(--accent); box-shadow: 0 -4px 16px rgba(0,0,0,.12); padding: .8rem 1.25rem 1rem;
  font: 15px/1.5 system-ui, sans-serif; }
#pane[hidden] { display: none; }
#pane .head { display: flex; gap: .75rem; align-items: baseline; max-width: 46rem; margin: 0 auto .4rem; }
#pane .head strong { flex: 1; }
#pane .body { max-width: 46rem; margin: 0 auto; white-space: pre-wrap; overflow-wrap: anywhere; }
#pane button { font: inherit; border: 1px solid var(--line); background: #f6f8fa; border-radius: 6px; padding: .1rem .6rem; cursor: pointer; }
@media (max-width: 600px) { body { font-size: 16px; } main { padding: 1.2rem .9rem 12rem; } h1 { font-size: 1.35rem; } }
"""

_SCRIPT = """
(function () {
  var sources = JSON.parse(document.getElementById('report-sources').textContent);
  var pane = document.getElementById('pane');
  var active = null;
  function show(label, link) {
    var s = sources[String(label)];
    if (!s) { return; }
    pane.querySelector('.title').textContent = '[' + label + '] ' + (s.title || s.id);
    pane.querySelector('.pid').textContent = s.id;
    pane.querySelector('.body').textContent = s.text;
    pane.querySelector('a.to-source').setAttribute('href', '#src-' + label);
    pane.hidden = false;
    if (active) { active.classList.remove('active'); }
    active = link; if (link) { link.classList.add('active'); }
  }
  document.addEventListener('click', function (ev) {
    var link = ev.target.closest('a.cite');
    if (link) { ev.preventDefault(); show(link.getAttribute('data-source'), link); return; }
    if (ev.target.closest('#pane button.close')) { pane.hidden = true; if (active) { active.classList.remove('active'); } }
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape') { pane.hidden = true; }
  });
})();
"""


def _e(text: str) -> str:
    return html.escape(" ".join(str(text).split()), quote=True)


def report_page(report: Report, *, title: str | None = None) -> str:
    """The whole page as a string."""
    labels = report.label_of()
    by_label = {s.label: s for s in report.sources}
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title or report.question)}</title><style>{_STYLE}</style></head><body><main>",
        f"<h1>{_e(report.question)}</h1>",
        f'<p class="meta">{report.words()} words, {len(report.sources)} sources'
        + (f", run <code>{_e(report.run_id)}</code>" if report.run_id else "") + "</p>",
    ]
    for sec in report.sections:
        parts.append(f"<section><h2>{_e(sec.heading)}</h2><p>")
        sentences = []
        for s in sec.sentences:
            text = cited_sentence(s, labels)
            body, end = text[:-1], text[-1]
            plain = body[: body.rfind(" [")] if " [" in body else body
            marks = "".join(
                f'<a class="cite" href="#src-{labels[c]}" data-source="{labels[c]}" '
                f'title="{_e(f"[{labels[c]}] {by_label[labels[c]].title}: {by_label[labels[c]].text}")}">'
                f"[{labels[c]}]</a>" for c in s.citations)
            sentences.append(f'<span class="sentence" data-origin="{_e(s.origin)}">{_e(plain)} {marks}{_e(end)}</span>')
        parts.append(" ".join(sentences) + "</p></section>")
    parts.append('<section><h2>Sources</h2><ol class="sources">')
    for src in report.sources:
        parts.append(
            f'<li id="src-{src.label}"><span class="label">[{src.label}]</span>{_e(src.title or src.id)} '
            f'<span class="pid">passage {_e(src.id)}</span>'
            f"<details><summary>passage text</summary>{_e(src.text)}</details></li>")
    parts.append("</ol></section></main>")
    parts.append('<aside id="pane" role="dialog" aria-label="cited passage" hidden><div class="head">'
                 '<strong class="title"></strong><span class="pid"></span>'
                 '<a class="to-source" href="#">source</a><button type="button" class="close">close</button>'
                 '</div><div class="body"></div></aside>')
    data = {str(s.label): {"id": s.id, "title": s.title, "text": s.text} for s in report.sources}
    parts.append('<script type="application/json" id="report-sources">'
                 + json.dumps(data, ensure_ascii=False).replace("<", "\\u003c") + "</script>")
    parts.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def write_report(report: Report, path: str | Path) -> Path:
    """Write the report to ``path``: HTML for ``.html``/``.htm``, else Markdown."""
    from agentflow.report.markdown import report_markdown

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    page = report_page(report) if out.suffix.lower() in (".html", ".htm") else report_markdown(report)
    out.write_text(page, encoding="utf-8")
    return out
