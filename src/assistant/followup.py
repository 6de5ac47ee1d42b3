"""Turn a follow-up ("Et Anthropic ?", "what about in 2026?") into a standalone question.

Without a language model this is a rule: a short question that leans on the
previous one ("et ...", "and ...", "what about ...", "qu'en est-il de ...")
takes the previous question and swaps in the new subject. With an LLM, the
LLM answerer condenses the history instead (see ``llm.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .errors import QuestionError

_LEADS = re.compile(
    r"^\s*(?:et\s+(?:pour|chez|du côté de|de|d['’])?|and\s+(?:for)?|what about|how about|"
    r"qu['’]en est-il (?:de|du|des|d['’])?|quid de|pareil pour|same for|and)\s*",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
MAX_FOLLOWUP_WORDS = 6
# What a follow-up may lean on: the last few turns, each cut to the length of a question.
# A history is sized by the caller (a web visitor can send megabytes); everything past
# these bounds is dropped before any work is done on it.
MAX_HISTORY_MESSAGES = 6  # three question/answer turns
MAX_HISTORY_MESSAGE_CHARS = 2000  # the question limit (api.MAX_QUESTION_CHARS)
ROLES = ("user", "assistant")
History = list[dict[str, str]]


def bound_history(history: Any) -> History:
    """The last :data:`MAX_HISTORY_MESSAGES` messages of ``history``, each cut to
    :data:`MAX_HISTORY_MESSAGE_CHARS` characters; costs the same for any length.

    ``history`` is ``None`` or a list of ``{"role": "user"|"assistant", "content": str}``;
    anything else raises :class:`QuestionError` naming what was wrong.
    """
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise QuestionError(
            f"the history must be a list of messages like {{'role': 'user', 'content': '...'}}, "
            f"not {type(history).__name__}; pass the earlier turns, or None"
        )
    kept: History = []
    for position, message in enumerate(history[-MAX_HISTORY_MESSAGES:]):
        if not isinstance(message, dict):
            raise QuestionError(
                f"history message {position + 1} of the last {MAX_HISTORY_MESSAGES} is a {type(message).__name__}, "
                "not a {'role': ..., 'content': ...} mapping; fix the history"
            )
        role, content = message.get("role"), message.get("content", "")
        if role not in ROLES:
            raise QuestionError(f"history message role {str(role)[:20]!r} is not 'user' or 'assistant'; fix the history")
        if not isinstance(content, str):
            raise QuestionError(f"history message content must be text, not {type(content).__name__}; fix the history")
        kept.append({"role": role, "content": content[:MAX_HISTORY_MESSAGE_CHARS]})
    return kept


def last_user_question(history: list[dict[str, str]] | None) -> str | None:
    for message in reversed(history or []):
        if message.get("role") == "user" and str(message.get("content", "")).strip():
            return str(message["content"]).strip()
    return None


def standalone_question(question: str, history: list[dict[str, str]] | None) -> str | None:
    """The rewritten question, or None when ``question`` already stands alone."""
    previous = last_user_question(history)
    if not previous:
        return None
    words = question.split()
    lead = _LEADS.match(question)
    if len(words) > MAX_FOLLOWUP_WORDS or not lead:
        return None
    subject = question[lead.end() :].strip(" ?!.").strip()
    if not subject:
        return None
    names = [m for m in _NAME.finditer(previous) if m.start() > 0]
    new_name = _NAME.search(subject)
    if names and new_name:
        # Swap the previous subject for the new one: "prix d'OpenAI" -> "prix d'Anthropic".
        target = names[0]
        return previous[: target.start()] + new_name.group() + previous[target.end() :]
    return f"{previous.rstrip(' ?')} — {subject} ?"
