"""Collect what ``Assistant.ask_stream`` yields: the streamed pieces of text, then the final answer."""

from __future__ import annotations

from typing import Any

from assistant.api import Assistant
from assistant.models import Answer


def ask_streamed(bot: Assistant, question: str, **kw: Any) -> tuple[list[str], Answer]:
    """The pieces of text streamed for ``question`` and the :class:`Answer` that ends the stream."""
    pieces: list[str] = []
    final: Answer | None = None
    for event in bot.ask_stream(question, **kw):
        if isinstance(event, Answer):
            final = event
        else:
            pieces.append(event)
    assert final is not None, "the stream ended without an Answer"
    return pieces, final
