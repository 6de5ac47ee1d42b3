"""What the page's events do, as plain functions of the :class:`Assistant` (no Gradio here).

Each handler takes plain values (strings, lists, the session's ``turns``) and
returns plain values (chat messages, HTML strings); ``ui/app.py`` wires them to
components. ``None`` in a returned field means "leave that component as it is".
Library errors become messages on the page, never tracebacks.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.api import Assistant
from assistant.errors import AssistantError
from assistant.models import Answer, Citation
from assistant.uploads import SavedArticle, UploadError, save_pasted, save_upload
from assistant.watch import Indexer

from . import render

log = logging.getLogger(__name__)

STREAM_WORDS = 3  # words per streamed piece: the extractive answer comes in one piece
STREAM_DELAY_S = 0.02  # pause between pieces so that the answer visibly streams in
ChatMessages = list[dict[str, str]]
ProgressFn = Callable[[float, str], None]  # (fraction 0..1, description)

_TARGET = re.compile(r"^(cite|open|passage)-(\d{1,4})-(\d{1,3})(?:\|.*)?$")


@dataclass
class Turn:
    """One question of the session and what came of it."""

    question: str
    answer: Answer | None = None
    error: str | None = None


@dataclass
class ChatUpdate:
    chat: ChatMessages
    turns: list[Turn]
    sources: str | None  # None: leave the sources panel as it is


@dataclass
class IndexUpdate:
    message: str  # HTML line(s) under the upload form
    articles: str  # HTML table
    status: str  # HTML status line
    ok: bool


# --- chat -----------------------------------------------------------------------


def history_of(turns: Sequence[Turn]) -> list[dict[str, str]]:
    """The conversation as the assistant expects it (rewritten follow-ups stand in for the originals)."""
    history: list[dict[str, str]] = []
    for t in turns:
        if t.answer is None:
            continue
        history.append({"role": "user", "content": t.answer.standalone_question or t.question})
        history.append({"role": "assistant", "content": t.answer.answer})
    return history


def word_groups(text: str, size: int = STREAM_WORDS) -> list[str]:
    """``text`` cut into pieces of ``size`` words (whitespace kept), for progressive display."""
    words = re.findall(r"\s*\S+\s*", text)
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)] or ([text] if text else [])


def chat_of(turns: Sequence[Turn]) -> ChatMessages:
    """The chat messages of finished turns (the chat is always re-rendered from the session's turns)."""
    chat: ChatMessages = []
    for i, t in enumerate(turns):
        chat.append({"role": "user", "content": render.user_html(t.question)})
        if t.answer is not None:
            chat.append({"role": "assistant", "content": render.answer_html(i, t.answer)})
        else:
            chat.append({"role": "assistant", "content": render.error_html(t.error or "no answer")})
    return chat


def respond(bot: Assistant, message: str, turns: list[Turn], delay: float = STREAM_DELAY_S) -> Iterator[ChatUpdate]:
    """Ask ``message``; yields the chat as the answer streams in, then with the final answer.

    Yields nothing for an empty message.
    """
    question = (message or "").strip()
    if not question:
        return
    turn = len(turns)
    chat = [*chat_of(turns), {"role": "user", "content": render.user_html(question)},
            {"role": "assistant", "content": render.streaming_html(turn, "")}]
    turns = [*turns, Turn(question)]
    yield ChatUpdate([*chat], [*turns], None)
    shown = ""
    final: Answer | None = None
    try:
        for event in bot.ask_stream(question, history_of(turns[:-1])):
            if isinstance(event, Answer):
                final = event
                continue
            for piece in word_groups(event):
                shown += piece
                chat[-1] = {"role": "assistant", "content": render.streaming_html(turn, shown)}
                yield ChatUpdate([*chat], [*turns], None)
                if delay:
                    time.sleep(delay)
    except AssistantError as exc:
        yield _failed(chat, turns, str(exc))
        return
    except Exception as exc:  # never a traceback on the page; the server log has it
        log.exception("answering %r failed", question)
        yield _failed(chat, turns, f"internal error ({exc.__class__.__name__}); see the server log")
        return
    if final is None:  # pragma: no cover - ask_stream always ends with an Answer
        yield _failed(chat, turns, "no answer came back; ask again")
        return
    turns[-1] = Turn(question, answer=final)
    chat[-1] = {"role": "assistant", "content": render.answer_html(turn, final)}
    yield ChatUpdate([*chat], [*turns], render.sources_html(turn, final))


def _failed(chat: ChatMessages, turns: list[Turn], message: str) -> ChatUpdate:
    turns[-1] = Turn(turns[-1].question, error=message)
    chat[-1] = {"role": "assistant", "content": render.error_html(message)}
    return ChatUpdate([*chat], [*turns], None)


def select_turn(turns: Sequence[Turn], message_index: int) -> str | None:
    """Sources of the answer whose chat message (user or assistant) was clicked."""
    turn = message_index // 2
    if not 0 <= turn < len(turns) or turns[turn].answer is None:
        return None
    return render.sources_html(turn, turns[turn].answer)


def parse_target(target: str) -> tuple[str, int, int] | None:
    """``"cite-2-1|nonce"`` -> ("cite", 2, 1); anything else -> None."""
    m = _TARGET.match((target or "").strip().lstrip("#"))
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else None


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
        return None, _article_or_message(bot, p.source, p.title, p.date, p.text, p.start, p.end, "passage")
    citation = next((c for c in answer.citations if c.id == n), None)
    if citation is None:
        return None, None
    if kind == "cite":
        return render.sources_html(turn, answer, active=n), None
    return None, open_citation(bot, citation)


def open_citation(bot: Assistant, c: Citation) -> str:
    return _article_or_message(bot, c.source, c.title, c.date, c.quote, c.start, c.end, "quote")


def _article_or_message(
    bot: Assistant, source: str, title: str, date: str | None, expected: str, start: int, end: int, kind: str
) -> str:
    try:
        text = bot.article_text(source)
    except AssistantError:
        return render.message_html(f"{source} is no longer in the index (removed since this answer); ask again.", "error")
    if text[start:end] != expected:  # the article changed since the answer: find the sentence again
        found = text.find(expected)
        if found < 0:
            return render.message_html(
                f"{source} changed since this answer and no longer holds the quoted text; ask again.", "error"
            )
        start, end = found, found + len(expected)
    return render.article_html(title, date, source, text, start, end, kind)


# --- articles and index -------------------------------------------------------------


def index_view(bot: Assistant, busy: bool = False) -> tuple[str, str]:
    """(status line, article table) as HTML; a broken index shows its message instead."""
    try:
        return render.status_html(bot.status(), busy=busy), render.articles_html(bot.articles())
    except AssistantError as exc:
        return render.status_html(None, error=str(exc)), render.articles_html([])


def catalog_stamp(bot: Assistant) -> int:
    """Changes whenever the index commits a new catalog (cheap: one stat)."""
    try:
        return (Path(bot.config.index_dir) / "catalog.json").stat().st_mtime_ns
    except OSError:
        return -1


def add_files(
    indexer: Indexer, paths: Sequence[str | Path] | None, max_bytes: int, progress: ProgressFn | None = None
) -> IndexUpdate:
    """Save uploaded files into sources/ (safe names, size and type checked), then index them."""
    files = [Path(p) for p in (paths or [])]
    if not files:
        status, table = index_view(indexer.bot)
        return IndexUpdate(render.message_html("Choose one or more files first.", "error"), table, status, False)
    sources = Path(indexer.bot.config.sources_dir)
    saved: list[SavedArticle] = []
    errors: list[str] = []
    for i, path in enumerate(files):
        if progress:
            progress(i / max(1, len(files)) * 0.1, f"saving {path.name}")
        try:
            saved.append(save_upload(path, path.name, sources, max_bytes))
        except UploadError as exc:
            errors.append(str(exc))
    return _index_saved(indexer, saved, errors, progress)


def add_text(
    indexer: Indexer, title: str, text: str, date: str | None, max_bytes: int, progress: ProgressFn | None = None
) -> IndexUpdate:
    """Save a pasted article (title + text, optional date) into sources/, then index it."""
    try:
        saved = save_pasted(title, text, Path(indexer.bot.config.sources_dir), max_bytes, date)
    except UploadError as exc:
        status, table = index_view(indexer.bot)
        return IndexUpdate(render.message_html(str(exc), "error"), table, status, False)
    return _index_saved(indexer, [saved], [], progress)


def _index_saved(indexer: Indexer, saved: list[SavedArticle], errors: list[str], progress: ProgressFn | None) -> IndexUpdate:
    lines: list[str] = []
    if saved:
        def on_progress(done: int, total: int, what: str) -> None:
            if progress:
                progress(0.1 + 0.9 * done / max(1, total), f"{what} {done}/{total}")

        started = time.perf_counter()
        try:
            report = indexer.update("upload", progress=on_progress)
        except AssistantError as exc:
            errors.append(f"saved {', '.join(s.name for s in saved)} but indexing failed: {exc}")
        else:
            skipped = {p.source: p.reason for p in report.skipped}
            seconds = time.perf_counter() - started
            for s in saved:
                if s.name in skipped:
                    errors.append(f"{s.name}: not indexed: {skipped[s.name]}")
                elif s.name in report.duplicates:
                    lines.append(f"{s.name}: same text as {report.duplicates[s.name]}, already indexed.")
                elif s.existed:
                    lines.append(f"{s.name}: already in the sources, unchanged.")
                else:
                    lines.append(f"Added {s.name}: “{s.title}” (indexed in {seconds:.1f} s). Ask about it now.")
    status, table = index_view(indexer.bot)
    message = render.message_html("\n".join(lines), "ok") + render.message_html("\n".join(errors), "error")
    return IndexUpdate(message, table, status, not errors)


def watcher_line(indexer: Indexer) -> str:
    """The last index update (start, upload or a change in sources/) as an HTML line."""
    event = indexer.last
    if event is None:
        return ""
    return render.message_html(event.line(), "error" if event.error else "info")


# --- API ----------------------------------------------------------------------------


def api_ask(bot: Assistant, question: str, history: Any = None) -> dict[str, Any]:
    """The JSON answer (``Answer.to_dict()``); ``history`` is a list of {role, content} or None."""
    messages: list[dict[str, str]] = []
    if isinstance(history, list):
        messages = [
            {"role": str(m.get("role", "")), "content": str(m.get("content", ""))}
            for m in history
            if isinstance(m, dict)
        ]
    return bot.ask(question, messages or None).to_dict()
