"""Cheap token estimates for budgets and for backends that report no usage.

Real tokenizers differ per model; about four characters per token is close enough
for English text to enforce budgets and to compare runs, and costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from agentflow.records import ChatMessage

CHARS_PER_TOKEN = 4
#: Role markers and separators a chat template adds around each message.
MESSAGE_OVERHEAD_TOKENS = 4


def estimate_tokens(text: str) -> int:
    """Approximate token count of ``text`` (about four characters per token; 0 for empty)."""
    if not text:
        return 0
    return max(1, math.ceil(len(text) / CHARS_PER_TOKEN))


def count_message_tokens(messages: Iterable[ChatMessage | Mapping[str, str]]) -> int:
    """Approximate prompt tokens of a chat: each message's content plus a small overhead."""
    total = 0
    for message in messages:
        content = (
            message.content if isinstance(message, ChatMessage) else message.get("content", "")
        )
        total += estimate_tokens(content or "") + MESSAGE_OVERHEAD_TOKENS
    return total
