"""What the chat's events do, as plain functions of the :class:`Assistant` (no Gradio here).

Each handler takes plain values (strings, lists, the session's ``turns``) and
returns plain values (chat messages, HTML strings); ``ui/app.py`` wires them to
components. ``None`` in a returned field means "leave that component as it is".
Library errors become messages on the page, never tracebacks. The article list,
uploads and the index are in ``handlers_index.py``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.followup import MAX_HISTORY_MESSAGES, ROLES, bound_history
from assistant.models import Answer, Citation

from . import render
from .i18n import t
from .markdown import answer_markdown, conversation_markdown
from .session import Turn

log = logging.getLogger(__name__)

ChatMessages = list[dict[str, str]]
# The follow-up history has one bound, the core's (followup.bound_history): the page and the
# API send what the core keeps, the last MAX_HISTORY_MESSAGES messages cut to its length.
MAX_HISTORY_TURNS = MAX_HISTORY_MESSAGES // 2

_TARGET = re.compile(r"^(cite|open|passage)-(\d{1,4})-(\d{1,3})(?:\|.*)?$")
_FILE_TARGET = re.compile(r"^(article|delete):([^|]{1,1000})(?:\|.*)?$")

__all__ = ["Turn", "ChatUpdate", "respond", "show_target", "history_of", "chat_of"]


@dataclass
class ChatUpdate:
    chat: ChatMessages
    turns: list[Turn]
    sources: str | None  # None: leave the sources panel as it is
    done: bool = False  # the answer is final (store the conversation, clear the article view)


# --- chat -----------------------------------------------------------------------


def history_of(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The conversation as the assistant expects it (rewritten follow-ups stand in for the originals)."""
    history: list[dict[str, str]] = []
    for t_ in list(turns)[-MAX_HISTORY_TURNS:]:
        if t_.answer is None:
            continue
        history.append({"role": "user", "content": t_.answer.standalone_question or t_.question})
        history.append({"role": "assistant", "content": t_.answer.answer})
    return bound_history(history)


def chat_of(turns: Sequence[Turn]) -> ChatMessages:
    """The chat messages of finished turns (the chat is always re-rendered from the session's turns)."""
    chat: ChatMessages = []
    for i, turn in enumerate(turns):
        chat.append({"role": "user", "content": render.user_html(turn.question)})
        if turn.answer is not None:
            chat.append({"role": "assistant", "content": render.answer_html(i, turn.answer)})
        else:
            chat.append({"role": "assistant", "content": render.error_html(turn.error or "no answer",
                                                                            render.lang_of(None, turn.question))})
    return chat


def respond(bot: Assistant, message: str, turns: list[Turn]) -> Iterator[ChatUpdate]:
    """Ask ``message``; yields the chat with the question, then each piece of text as the answerer
    produces it (a language model's tokens; the extractive answer comes whole), then the final answer.

    Nothing is delayed or cut up for show. Yields nothing for an empty message.
    """
    question = (message or "").strip()
    if not question:
        return
    turn = len(turns)
    chat = [*chat_of(turns), {"role": "user", "content": render.user_html(question)},
            {"role": "assistant", "content": render.pending_html(turn, question)}]
    turns = [*turns, Turn(question)]
    yield ChatUpdate([*chat], [*turns], None)
    shown = ""
    final: Answer | None = None
    lang = render.lang_of(None, question)
    try:
        for event in bot.ask_stream(question, history_of(turns[:-1])):
            if isinstance(event, Answer):
                final = event
                continue
            shown += event
            if bot.uses_llm:  # an extractive answer is final at once: no interim
                chat[-1] = {"role": "assistant", "content": render.streaming_html(turn, shown)}
                yield ChatUpdate([*chat], [*turns], None)
    except AssistantError as exc:
        yield _failed(chat, turns, str(exc), lang)
        return
    except Exception as exc:  # never a traceback on the page; the server log has it
        log.exception("answering %r failed", question)
        yield _failed(chat, turns, t("internal", lang, exc.__class__.__name__), lang)
        return
    if final is None:  # pragma: no cover - ask_stream always ends with an Answer
        yield _failed(chat, turns, "no answer came back; ask again", lang)
        return
    turns[-1] = Turn(question, answer=final)
    chat[-1] = {"role": "assistant", "content": render.answer_html(turn, final)}
    yield ChatUpdate([*chat], [*turns], render.sources_html(turn, final), done=True)


def _failed(chat: ChatMessages, turns: list[Turn], message: str, lang: str) -> ChatUpdate:
    turns[-1] = Turn(turns[-1].question, error=message)
    chat[-1] = {"role": "assistant", "content": render.error_html(message, lang)}
    return ChatUpdate([*chat], [*turns], None, done=True)


def latest_sources(turns: Sequence[Turn], ui_lang: str) -> str:
    """The sources of the last answered turn (after a reload), or the empty panel."""
    for i in range(len(turns) - 1, -1, -1):
        if turns[i].answer is not None:
            return render.sources_html(i, turns[i].answer, ui_lang=ui_lang)
    return render.empty_sources_html(ui_lang)


def select_turn(turns: Sequence[Turn], message_index: int) -> str | None:
    """Sources of the answer whose chat message (user or assistant) was clicked."""
    turn = message_index // 2
    if not 0 <= turn < len(turns) or turns[turn].answer is None:
        return None
    return render.sources_html(turn, turns[turn].answer)


def export_markdown(turns: Sequence[Turn]) -> str:
    """The whole conversation as Markdown, each answer with its numbered references."""
    pairs = [(tn.question, answer_markdown(tn.answer) if tn.answer else f"⚠ {tn.error or ''}") for tn in turns]
    return conversation_markdown(pairs) if pairs else ""


# --- clicks on links in the chat and the panels ----------------------------------------


def parse_target(target: str) -> tuple[str, int, int] | None:
    """``"cite-2-1|nonce"`` -> ("cite", 2, 1); anything else -> None."""
    m = _TARGET.match((target or "").strip().lstrip("#"))
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else None


def parse_file_target(target: str) -> tuple[str, str] | None:
    """``"delete:a%20b.txt|nonce"`` -> ("delete", "a b.txt"); anything else -> None."""
    m = _FILE_TARGET.match((target or "").strip().lstrip("#"))
    return (m.group(1), unquote(m.group(2))) if m else None


def show_target(bot: Assistant, target: str, turns: Sequence[Turn]) -> tuple[str | None, str | None]:
    """A click on ``[n]`` (cite-T-N), "open the article" (open-T-N) or a closest passage (passage-T-K).

    Returns (sources panel HTML, article view HTML); None leaves that part unchanged.
    """
    parsed = parse_target(target)
    if parsed is None:
        return None, None
    kind, turn, n = parsed
    if not 0 <= turn < len(turns) or turns[turn].answer is None:
        return None, None
    answer = turns[turn].answer
    assert answer is not None
    if kind == "passage":
        if not 1 <= n <= len(answer.retrieved):
            return None, None
        p = answer.retrieved[n - 1]
        return None, _article_or_message(bot, p.source, p.title, p.date, p.text, p.start, p.end, "passage",
                                         render.lang_of(answer))
    citation = next((c for c in answer.citations if c.id == n), None)
    if citation is None:
        return None, None
    if kind == "cite":
        return render.sources_html(turn, answer, active=n), None
    return None, open_citation(bot, citation, render.lang_of(answer))


def open_citation(bot: Assistant, c: Citation, lang: str = "en") -> str:
    return _article_or_message(bot, c.source, c.title, c.date, c.quote, c.start, c.end, "quote", lang)


def open_article(bot: Assistant, source: str, lang: str = "en") -> str:
    """A whole article from the article list, from its top."""
    try:
        text = bot.article_text(source)
        entry = bot.catalog_entry(source)
    except AssistantError:
        return render.message_html(t("gone", lang, source), "error")
    title, date = (entry.title, entry.date) if entry else (source, None)
    return render.article_html(title, date, source, text, 0, 0, "top")


def _article_or_message(
    bot: Assistant, source: str, title: str, date: str | None, expected: str, start: int, end: int, kind: str,
    lang: str,
) -> str:
    try:
        text = bot.article_text(source)
    except AssistantError:
        return render.message_html(t("gone", lang, source), "error")
    if text[start:end] != expected:  # the article changed since the answer: find the sentence again
        found = text.find(expected)
        if found < 0:
            return render.message_html(t("changed", lang, source), "error")
        start, end = found, found + len(expected)
    return render.article_html(title, date, source, text, start, end, kind)


# --- API ----------------------------------------------------------------------------


def clean_history(history: Any) -> list[dict[str, str]]:
    """A client's history as the core bounds it (``followup.bound_history``); a client's junk
    (not a list, not a message, another role, content that is not text) is dropped, not refused."""
    if not isinstance(history, list):
        return []
    messages = [
        m for m in history[-MAX_HISTORY_MESSAGES:]  # sliced first: any length costs the same
        if isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content", ""), str)
    ]
    return bound_history(messages)


def api_ask(bot: Assistant, question: str, history: Any = None) -> dict[str, Any]:
    """The JSON answer (``Answer.to_dict()``, as ``assistant ask --json``); ``history`` is a list of {role, content}."""
    answer = bot.ask(question, clean_history(history) or None)
    data = answer.to_dict()
    confidence = getattr(answer, "confidence", None)
    if confidence is not None and "confidence" not in data:
        data["confidence"] = confidence
    return data
