"""Live progress of a run on the terminal, and the rendering of its result."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentflow.snippets import snippet

_STATUS_STYLE = {"answered": "green", "unsupported": "magenta", "refused": "yellow", "budget_exhausted": "yellow",
                 "error": "red"}


class LiveProgress:
    """Prints one line per meaningful event (plan, sub-question, search, read, verdict)
    under a spinner that shows the node running now."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self._status: Any = None
        self._started = time.perf_counter()

    def __enter__(self) -> LiveProgress:
        self.console.print(f"[bold]question[/] {self.title}")
        self._status = self.console.status("starting", spinner="dots")
        self._status.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._status.__exit__(*exc)

    def on_event(self, e: dict[str, Any]) -> None:
        """Render one progress event."""
        t = f"[dim]{time.perf_counter() - self._started:6.1f}s[/]"
        kind = e.get("type")
        if kind == "step":
            self._status.update(f"{e['node']}" + (f" (sub-question {e['sub_question']})" if e.get("sub_question") else ""))
        elif kind == "plan":
            self.console.print(f"{t} [bold cyan]plan[/] {len(e['sub_questions'])} sub-question(s)")
            for i, sq in enumerate(e["sub_questions"], 1):
                self.console.print(f"        #{i} {sq}")
        elif kind == "sub_question":
            self.console.print(f"{t} [bold cyan]sub-question #{e['id']}[/] {e['sub_question']}")
        elif kind == "search":
            self.console.print(f"{t}   [blue]search[/] {e['tool']}: {e['query']!r} -> {e['found']} passages, {e['new']} new")
        elif kind == "read":
            ans = f" candidate: [bold]{e['answer']}[/]" if e.get("answer") else " no answer"
            self.console.print(f"{t}   [magenta]read[/] {e['facts']} fact(s);{ans} [dim]({e.get('answer_source')})[/]")
        elif kind == "verify":
            self.console.print(f"{t}   [green]verify[/] {e['verdict']}" + (f": {e['answer']}" if e.get("answer") else ""))
        elif kind == "note":
            self.console.print(f"{t}   [yellow]note[/] {e['message']}")
        elif kind == "answer":
            self.console.print(f"{t} [bold]answer[/] ({e['status']})")


def render_result(console: Console, result: Any) -> None:
    """The answer, its citations and evidence chain, and the run's usage."""
    style = _STATUS_STYLE.get(result.status, "white")
    body = f"[bold]{result.answer}[/]\n[{style}]status: {result.status}[/]"
    if result.error:
        body += f"\n[red]{result.error}[/]"
    console.print(Panel(body, title="answer", expand=False))
    if result.sub_questions:
        t = Table(title="evidence chain", show_lines=False)
        t.add_column("#")
        t.add_column("sub-question")
        t.add_column("answer")
        t.add_column("status")
        for sq in result.sub_questions:
            t.add_row(sq["id"], sq["question"], str(sq.get("answer") or ""), sq["status"])
        console.print(t)
    if result.citations:
        t = Table(title="citations")
        t.add_column("id", overflow="fold")
        t.add_column("title")
        t.add_column("snippet", ratio=1)
        for c in result.citations:
            t.add_row(Text(c["id"]), Text(c.get("title", "")), Text(snippet(c.get("text", ""), 200, title=c.get("title", ""))))
        console.print(t)
    u = result.usage
    console.print(
        f"[dim]{u.get('llm_calls', 0)} LLM calls, {u.get('prompt_tokens', 0)}+{u.get('completion_tokens', 0)} tokens, "
        f"{u.get('searches', 0)} searches, {u.get('seconds', 0.0):.1f}s; run {result.run_id}; "
        f"trajectory {result.trajectory}[/]"
    )
