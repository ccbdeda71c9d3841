"""A trajectory's evidence graph as typed records: what the picture draws.

The memory graph's nodes and edges come from the ``memory_delta`` events; the final
event adds the answer, the citations (and those the citation check removed) and each
sub-question's status; verify calls add the verdicts. The *answer path* runs from the
answer through the question and its answered sub-questions to the facts that answer
them and the passages that support those facts, plus every cited passage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from agentflow.snippets import cut_words
from agentflow.trajectory import Trajectory

Kind = Literal["answer", "question", "subquestion", "fact", "passage", "entity"]
#: Beyond this many nodes the picture starts collapsed (the answer path plus the top
#: passages); a "show all" control draws the rest.
COLLAPSE_ABOVE = 300
TOP_PASSAGES = 20
ANSWER_ID = "answer"


class PictureNode(BaseModel):
    """One node: ``kind`` picks its colour; ``text`` is what hovering and clicking show."""

    id: str
    kind: Kind
    label: str
    text: str = ""
    title: str = ""
    url: str = ""  # a web passage's page
    status: str = ""  # answered / refused / ... for sub-questions and the answer
    verdicts: list[str] = Field(default_factory=list)
    on_path: bool = False
    cited: bool = False
    removed: bool = False  # a citation the in-code check removed
    refused: bool = False
    core: bool = True  # drawn in the collapsed view


class PictureEdge(BaseModel):
    """One edge, typed like the memory graph's (plus ``cites`` and ``removed_citation``)."""

    source: str
    target: str
    kind: str
    on_path: bool = False
    core: bool = True


class EvidencePicture(BaseModel):
    """Everything the page needs, as JSON."""

    question: str = ""
    answer: str = ""
    status: str = ""
    run_id: str = ""
    nodes: list[PictureNode]
    edges: list[PictureEdge]
    collapsed: bool = False  # whether the page opens on the core nodes only
    notes: list[str] = Field(default_factory=list)


def _label(text: str, n: int = 48) -> str:
    return cut_words(" ".join(str(text).split()), n)


def _memory(events: Iterable[dict[str, Any]]) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str, str]]]:
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str, str], None] = {}
    for e in events:
        if e.get("type") != "memory_delta":
            continue
        for n in e.get("nodes") or []:
            if isinstance(n, dict) and isinstance(n.get("id"), str):
                nodes[n["id"]] = {**nodes.get(n["id"], {}), **n}
        for edge in e.get("edges") or []:
            if isinstance(edge, list | tuple) and len(edge) == 3:
                edges.setdefault((str(edge[0]), str(edge[1]), str(edge[2])), None)
    return nodes, list(edges)


def _verdicts(events: Iterable[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        if e.get("type") == "llm_call" and e.get("node") == "verify" and e.get("sub_question"):
            parsed = e.get("parsed") or {}
            verdict = parsed.get("verdict") if isinstance(parsed, dict) else None
            out.setdefault(str(e["sub_question"]), []).append(str(verdict or "invalid output"))
    return out


def _passage_texts(final: dict[str, Any], facts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Passage id -> {title, text}: the trajectory keeps the text of cited and evidence
    passages; for others the facts read from them stand in."""
    out: dict[str, dict[str, Any]] = {}
    for group in ("citations", "evidence"):
        for p in final.get(group) or []:
            if isinstance(p, dict) and p.get("id"):
                out.setdefault(str(p["id"]), {"title": p.get("title", ""), "text": p.get("text", "")})
    for f in facts:
        src = f.get("source")
        if src and src not in out:
            out[src] = {"title": "", "text": f"(passage text not recorded; a fact read from it:) {f.get('text', '')}"}
    return out


def evidence_picture(traj: Trajectory, *, collapse_above: int = COLLAPSE_ABOVE,
                     top_passages: int = TOP_PASSAGES) -> EvidencePicture:
    """The picture of one run (an unfinished run gets the graph without an answer)."""
    events = traj.events
    final = traj.final or {}
    raw_nodes, raw_edges = _memory(events)
    verdicts = _verdicts(events)
    facts = [n for n in raw_nodes.values() if n.get("type") == "fact"]
    texts = _passage_texts(final, facts)
    subs = {str(s.get("id")): s for s in final.get("sub_questions") or [] if isinstance(s, dict)}
    cited = [str(c["id"]) for c in final.get("citations") or [] if isinstance(c, dict) and c.get("id")]
    removed = [str(c) for c in final.get("removed_citations") or []]

    nodes: dict[str, PictureNode] = {}
    for nid, n in raw_nodes.items():
        kind = n.get("type")
        if kind == "question":
            nodes[nid] = PictureNode(id=nid, kind="question", label=_label(n.get("text", "")), text=n.get("text", ""))
        elif kind == "subquestion":
            short = nid.rsplit(".", 1)[-1]
            s = subs.get(short, {})
            status = str(s.get("status") or "")
            answer = s.get("answer") or n.get("answer") or ""
            question = s.get("question") or n.get("text", "")
            text = f"#{short} {question}\nanswer: {answer or '(none)'}\nstatus: {status or '?'}"
            if verdicts.get(short):
                text += "\nverdicts: " + ", ".join(verdicts[short])
            nodes[nid] = PictureNode(
                id=nid, kind="subquestion", label=_label(f"#{short} {question}"), text=text, status=status,
                verdicts=verdicts.get(short, []), refused=bool(status) and status != "answered")
        elif kind == "fact":
            nodes[nid] = PictureNode(id=nid, kind="fact", label=_label(n.get("text", ""), 40), text=n.get("text", ""))
        elif kind == "passage":
            pid = nid.removeprefix("p:")
            info = texts.get(pid, {})
            title = n.get("title") or info.get("title") or pid
            source = str(n.get("source") or "")
            url = source if source.startswith(("http://", "https://")) else ""
            nodes[nid] = PictureNode(id=nid, kind="passage", label=_label(title, 36), title=title, url=url,
                                     text=info.get("text") or "(passage text not recorded in the trajectory)")
        elif kind == "entity":
            name = n.get("name") or nid.removeprefix("e:")
            nodes[nid] = PictureNode(id=nid, kind="entity", label=_label(name, 30), text=name)
    edges = [PictureEdge(source=s, target=t, kind=k) for s, t, k in raw_edges if s in nodes and t in nodes]

    if traj.final is not None:
        answer = str(final.get("answer") or "")
        status = str(final.get("status") or "")
        nodes[ANSWER_ID] = PictureNode(id=ANSWER_ID, kind="answer", label=_label(answer or status, 40),
                                       text=f"{answer}\nstatus: {status}", status=status,
                                       refused=status != "answered", on_path=True)
        question = next((nid for nid, n in nodes.items() if n.kind == "question"), None)
        if question:
            edges.append(PictureEdge(source=ANSWER_ID, target=question, kind="answers"))
        for pid in cited:
            nid = f"p:{pid}"
            if nid not in nodes:
                info = texts.get(pid, {})
                nodes[nid] = PictureNode(id=nid, kind="passage", label=_label(info.get("title") or pid, 36),
                                         title=info.get("title") or pid, text=info.get("text", ""),
                                         url=pid if pid.startswith(("http://", "https://")) else "")
            nodes[nid].cited = True
            edges.append(PictureEdge(source=ANSWER_ID, target=nid, kind="cites"))
        for pid in removed:
            nid = f"p:{pid}"
            if nid not in nodes:
                nodes[nid] = PictureNode(id=nid, kind="passage", label=_label(pid, 36), title=pid,
                                         text="(never retrieved in this run)")
            nodes[nid].removed = True
            nodes[nid].label = "removed: " + nodes[nid].label
            nodes[nid].text = ("citation removed by the citation check: this passage was not "
                               f"retrieved in this run\n{nodes[nid].text}")
            edges.append(PictureEdge(source=ANSWER_ID, target=nid, kind="removed_citation"))
        _mark_path(nodes, edges)

    picture = EvidencePicture(question=traj.start.get("question", ""), answer=str(final.get("answer") or ""),
                              status=str(final.get("status") or ""), run_id=traj.run_id,
                              nodes=list(nodes.values()), edges=edges)
    if len(nodes) > collapse_above:
        _collapse(picture, final, top_passages)
    return picture


def _mark_path(nodes: dict[str, PictureNode], edges: list[PictureEdge]) -> None:
    """Mark the answer path: answer -> question -> answered sub-questions -> their
    answering facts -> the passages supporting those facts; answer -> cited passages."""
    answered = {nid for nid, n in nodes.items() if n.kind == "subquestion" and n.status == "answered"}
    answering = {e.source for e in edges if e.kind == "answers" and e.target in answered
                 and nodes[e.source].kind == "fact"}
    supporting = {e.source for e in edges if e.kind == "supports" and e.target in answering}
    cited = {nid for nid, n in nodes.items() if n.cited}
    question = {nid for nid, n in nodes.items() if n.kind == "question"}
    on = {ANSWER_ID} | question | answered | answering | supporting | cited
    for nid in on:
        nodes[nid].on_path = True
    for e in edges:
        e.on_path = (e.kind in {"answers", "cites"} and e.source in on and e.target in on) or (
            e.kind == "decomposes" and e.target in answered) or (
            e.kind == "supports" and e.source in supporting and e.target in answering)


def _collapse(picture: EvidencePicture, final: dict[str, Any], top: int) -> None:
    """Keep the answer path, the question's structure, the top passages, removed
    citations and refused sub-questions in the core view; the rest waits for "show all"."""
    evidence = [f"p:{p['id']}" for p in final.get("evidence") or [] if isinstance(p, dict) and p.get("id")]
    passages = [n.id for n in picture.nodes if n.kind == "passage"]
    top_ids = set(list(dict.fromkeys(evidence + passages))[:top])
    keep = {n.id for n in picture.nodes if n.on_path or n.removed or n.kind in ("question", "subquestion")}
    keep |= top_ids
    for n in picture.nodes:
        n.core = n.id in keep
    for e in picture.edges:
        e.core = e.source in keep and e.target in keep
    picture.collapsed = True
    shown = len(keep)
    picture.notes.append(f"large graph: showing the answer path and the top {len(top_ids)} passages "
                         f"({shown} of {len(picture.nodes)} nodes)")
