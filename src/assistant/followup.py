"""Turn a follow-up ("Et Anthropic ?", "what about in 2026?") into a standalone question.

Without a language model this is a rule: a short question that leans on the
previous one ("et ...", "and ...", "what about ...", "qu'en est-il de ...")
takes the previous question and swaps in the new subject. With an LLM, the
LLM answerer condenses the history instead (see ``llm.py``).
"""

from __future__ import annotations

import re

_LEADS = re.compile(
    r"^\s*(?:et\s+(?:pour|chez|du côté de|de|d['’])?|and\s+(?:for)?|what about|how about|"
    r"qu['’]en est-il (?:de|du|des|d['’])?|quid de|pareil pour|same for|and)\s*",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
MAX_FOLLOWUP_WORDS = 6


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
