"""Passages that address the model instead of describing the world (prompt injection).

:func:`is_instruction_like` is pure, deterministic and linear in the text: a few
compiled regular expressions and word counts. It flags imperative instructions to the
assistant ("ignore previous instructions", "you must answer"), fake chat roles and
tool messages ("system:", ``<|im_start|>``, "### Instruction"), text mimicking the
reader's JSON (``{"answer": ...``), fake citation markers ("[1] cited", a "Sources:"
block) and oversized or repetitive passages. A flagged passage is still retrieved and
recorded, but it is never shown to a model, never yields an answer candidate and never
grounds or is cited for an answer.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

#: Longer passages are flagged (ingest caps passages at 6,000 characters).
MAX_CHARS = 6000
_F = re.I | re.M

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("instruction: ignore/disregard earlier instructions", re.compile(
        r"\b(?:ignore|disregard|forget|override|overrule|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|of\s+)*"
        r"(?:previous|prior|above|earlier|preceding|other|original|system|existing|former)?\s*"
        r"(?:instructions?|prompts?|directions|rules|guidelines|context|passages|sources|evidence|messages)\b", _F)),
    ("instruction: new instructions", re.compile(
        r"\b(?:new|updated|real|actual|hidden|secret|important|additional)\s+(?:system\s+)?instructions?\s*[:!-]", _F)),
    ("instruction: addresses the model", re.compile(
        r"\b(?:you\s+(?:must|should|will|shall|are\s+(?:required|instructed|told|to))|"
        r"(?:the\s+)?(?:assistant|ai|model|language\s+model|llm|chatbot|reader|agent)\s+"
        r"(?:must|should|shall|is\s+(?:required|instructed)\s+to))\s+"
        r"(?:now\s+|only\s+|always\s+)?(?:answer|respond|reply|say|output|return|print|write|cite|state|pick|choose|select|ignore)\b",
        _F)),
    ("instruction: dictates the answer", re.compile(
        r"(?:^|[.!:;]\s*|\b(?:please|now|just|always|simply|instead)\s+)"
        r"(?:answer|respond|reply|output|return|say)\s+(?:only\s+|exactly\s+|always\s+|simply\s+)?"
        r"(?:with|using)?\s*[\"'“«]", _F)),
    ("instruction: dictates the answer", re.compile(
        r"\b(?:respond|reply|answer)\s+only\b|\b(?:your|the)\s+(?:final\s+)?(?:answer|response|reply|output)\s+"
        r"(?:must|should|shall|has\s+to)\s+be\b|\bdo\s+not\s+(?:cite|mention|use|trust|read)\s+(?:any\s+)?"
        r"(?:other|the\s+other|previous)\b|\bas\s+an\s+ai\b|\bprompt\s+injection\b", _F)),
    ("fake role: chat role marker", re.compile(
        r"(?:^|[\]>.!?\"']\s*)(?:system|assistant|user|tool|function|developer)\s*(?:message|prompt|output)?\s*:\s",
        _F)),  # at a line or sentence start: "System: ...", not "the Solar System: ..."
    ("fake role: chat template token", re.compile(
        r"<\|[a-z_]{2,30}\|>|\[/?INST\]|<</?SYS>>|</?(?:system|assistant|user|tool_call|tool|instructions?)>|"
        r"^[ \t]*#{2,}[ \t]*(?:instruction|system|response|assistant|user|input|output)s?\b|"
        r"\b(?:BEGIN|END)\s+(?:SYSTEM|INSTRUCTIONS?|PROMPT)\b|\btool\s+(?:output|result|response)\s*:|"
        r"\bfunction_call\b", _F)),
    ("json mimicry: reader output", re.compile(
        r"\{\s*\\?[\"'](?:answer|citations|action|sub_questions|verdict|refined_query|query|facts)\\?[\"']\s*:|"
        r"\\?[\"'](?:answer|citations|verdict|sub_questions)\\?[\"']\s*:\s*[\[\"{]", _F)),
    ("fake citation: citation marker", re.compile(
        r"\[\s*\d+\s*\]\s*\(?\s*(?:cited|citation|source|verified|supported|confirmed)\b|"
        r"\bcit(?:e|ing|ation)s?\s*[:=]\s*\[?\s*[\"']?\d|\bcite\s+(?:this|passage|source|only)\b|"
        r"^[ \t]*(?:sources?|references?|citations?)[ \t]*:[ \t]*(?:$|\[\d)|\bsources?\s*:\s*\[\d+\]", _F)),
)
_WORD = re.compile(r"\w+")


def _repetitive(text: str) -> str | None:
    words = [w.lower() for w in _WORD.findall(text[: 4 * MAX_CHARS])]
    if len(words) < 40:
        return None
    counts = Counter(words)
    top, n = counts.most_common(1)[0]
    if len(counts) / len(words) < 0.15 or (n / len(words) > 0.3 and len(top) > 3):
        return f"repetitive: {len(counts)} distinct of {len(words)} words ({top!r} x{n})"
    return None


def is_instruction_like(text: str) -> str | None:
    """Why ``text`` reads as addressed to the model (the reason), or None for prose."""
    if len(text) > MAX_CHARS:
        return f"oversized: {len(text)} characters (more than {MAX_CHARS})"
    for reason, pattern in _PATTERNS:
        if m := pattern.search(text):
            return f"{reason} ({m.group(0).strip()[:60]!r})"
    return _repetitive(text)


def passage_reason(passage: dict[str, Any]) -> str | None:
    """:func:`is_instruction_like` of a passage dict's title and text."""
    return is_instruction_like(str(passage.get("title") or "")) or is_instruction_like(
        str(passage.get("text") or ""))


def screen(passages: Sequence[dict[str, Any]], note: Any = None, *, node: str = "") -> list[dict[str, Any]]:
    """The passages that are data, in order; each flagged one is reported through
    ``note(node, "instruction_like_passage", message, passage_id=..., reason=...)``."""
    kept = []
    for p in passages:
        reason = passage_reason(p)
        if reason is None:
            kept.append(p)
        elif note is not None:
            note(node, "instruction_like_passage", f"passage {p.get('id')!r} reads as instructions to "
                 f"the model, not shown: {reason}", passage_id=p.get("id"), reason=reason)
    return kept
