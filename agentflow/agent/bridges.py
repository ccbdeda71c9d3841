"""Bridge entities: the names that the best passages for a question mention and the
question does not, which the next hop of a multi-hop question is usually about.

LLM-free (BridgeRAG / HippoRAG 2 style): a weak model's plan can fail and the run
still searches the second hop, conditioned on the bridge ("<bridge> <question>").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from agentflow.agent.state import content_words
from agentflow.memory.entities import extract_entities, normalize_entity
from agentflow.records import SearchHit

# A date or a bare year names no document to hop to.
_DATE = re.compile(r"^\W*(?:\d{1,2}\s+\w+\s+\d{4}|\w+\s+\d{1,2},?\s+\d{4}|\d{1,4}s?)\W*$")


def bridge_entities(
    question: str,
    hits: Sequence[SearchHit],
    *,
    top: int = 3,
    limit: int = 3,
    exclude: Sequence[str] = (),
    frequency: Callable[[str], int] | None = None,
) -> list[str]:
    """Up to ``limit`` names from the ``top`` best ``hits``, best first.

    A name counts more when a higher-ranked passage mentions it and less when it is
    common in the corpus (``frequency(key)``: passages mentioning the normalised name;
    "United States" bridges to everything and so to nothing). Names the question uses,
    dates, ``exclude`` and a passage's own title (its subject, not a hop away) are skipped.
    """
    q_keys = {normalize_entity(e) for e in extract_entities(question)}
    q_words = content_words(question)
    banned = q_keys | {normalize_entity(x) for x in exclude if x}
    scores: dict[str, float] = {}
    surface: dict[str, str] = {}
    for rank, hit in enumerate(hits[:top]):
        own = normalize_entity(hit.title)
        for name in dict.fromkeys(extract_entities(hit.text)):
            key = normalize_entity(name)
            if not key or key in banned or key == own or _DATE.match(name):
                continue
            words = content_words(name)
            if not words or words <= q_words:
                continue
            df = frequency(key) if frequency is not None else 1
            scores[key] = scores.get(key, 0.0) + 1.0 / (1 + rank) / math.log(2 + max(0, df))
            surface.setdefault(key, name)
    ranked = sorted(scores, key=lambda k: -scores[k])
    return [surface[k] for k in ranked[:limit]]
