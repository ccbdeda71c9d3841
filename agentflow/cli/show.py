"""``agentflow show``: a trajectory rendered for people."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentflow.snippets import cut_words, snippet
from agentflow.trajectory import Trajectory


def _clip(text: str, n: int, full: bool) -> str:
    return text if full else cut_words(text, n)


def render_trajectory(console: Console, traj: Trajectory, *, full: bool = False) -> None:
    """Print the run's header, each step with its LLM and tool calls, notes, and the result."""
    start = traj.start
    console.print(Panel(
        f"[bold]{start.get('question', '?')}[/]\n"
        f"graph {start.get('graph', '?')} · model {start.get('model', '?')} · run {traj.run_id}\n"
        f"[dim]{traj.path}[/]", title="trajectory", expand=False))
    if traj.skipped_lines:
        console.print(f"[yellow]skipped {len(traj.skipped_lines)} unreadable line(s): {traj.skipped_lines[:5]}[/]")
    step = 0
    for e in traj.events:
        kind = e["type"]
        if kind == "step_start":
            step += 1
            sq = f" (sub-question {e['sub_question']})" if e.get("sub_question") else ""
            console.print(f"\n[bold cyan]{step:>3}. {e['node']}[/]{sq}")
        elif kind == "llm_call":
            status = "[red]invalid output[/]" if e.get("error") else "ok"
            console.print(f"     [magenta]llm[/] {e.get('prompt')} · {e.get('prompt_tokens')}+{e.get('completion_tokens')} tokens · "
                          f"{e.get('latency_s', 0):.2f}s · {len(e.get('attempts', []))} attempt(s) · {status}")
            if full:
                for m in e.get("messages", []):
                    console.print(f"       [dim]{m['role']}:[/] {m['content']}")
            out = e.get("attempts", [{}])[-1].get("output", "") if e.get("attempts") else ""
            console.print(f"       -> {_clip(out.replace(chr(10), ' '), 160, full)}")
        elif kind == "tool_call":
            ids = ", ".join(r["id"] for r in e.get("results", [])[:5])
            console.print(f"     [blue]{e.get('tool')}[/] {e.get('query')!r} ({e.get('mode')}) -> "
                          f"{len(e.get('results', []))} hits, {len(e.get('new_ids', []))} new: {_clip(ids, 120, full)}")
        elif kind == "memory_delta":
            console.print(f"     [green]memory[/] +{len(e.get('nodes', []))} nodes, +{len(e.get('edges', []))} edges")
        elif kind == "note":
            console.print(f"     [yellow]note[/] {e.get('kind')}: {e.get('message')}")
        elif kind == "plan_review_requested":
            steps = (e.get("proposal") or {}).get("sub_questions") or []
            console.print(f"     [yellow]plan review[/] waiting for a person ({len(steps)} step(s))")
        elif kind == "plan_review":
            after = " | ".join(f"{s['step']}. {s['question']}" for s in e.get("after") or [])
            console.print(f"     [yellow]plan review[/] {e.get('action')}: {len(e.get('edits') or [])} edit(s), "
                          f"{len(e.get('refused') or [])} refused answer(s) -> {_clip(after, 200, full)}")
        elif kind == "run_paused":
            console.print(f"\n[bold yellow]-- paused: waiting for a {str(e.get('waiting_for', 'person')).replace('_', ' ')} --[/]")
        elif kind == "run_resumed":
            console.print("\n[bold yellow]-- resumed from checkpoint --[/]")
        elif kind == "error":
            console.print(f"[red]error: {e.get('message')}[/]")
    final = traj.final
    if final is None:
        console.print("\n[yellow]the run has no final event (it was interrupted): resume it with "
                      f"`agentflow ask --resume {traj.run_id}`[/]")
        return
    _render_final(console, final)


def _render_final(console: Console, final: dict[str, Any]) -> None:
    console.print(Panel(f"[bold]{final.get('answer')}[/]\nstatus: {final.get('status')}", title="result", expand=False))
    if final.get("citations"):
        t = Table(title="citations")
        t.add_column("id", overflow="fold")
        t.add_column("title")
        t.add_column("snippet", ratio=1)
        for c in final["citations"]:
            t.add_row(Text(c["id"]), Text(c.get("title", "")), Text(snippet(c.get("text", ""), 160, title=c.get("title", ""))))
        console.print(t)
    u = final.get("usage", {})
    console.print(f"[dim]{u.get('llm_calls', 0)} LLM calls · {u.get('prompt_tokens', 0)} prompt tokens · "
                  f"{u.get('searches', 0)} searches · {u.get('seconds', 0):.1f}s[/]")
