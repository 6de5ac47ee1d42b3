"""What the Articles tab and the status line do, as plain functions (no Gradio here).

Uploads and pasted texts are saved into sources/ (safe names, size and type checked
by ``assistant.uploads``) and indexed at once; deleting removes a file from sources/
and the index; re-indexing runs the incremental update on demand. Progress goes to a
:class:`IndexProgress` that the status line reads while the index is busy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.api import Assistant
from assistant.catalog import CatalogPage
from assistant.errors import AssistantError, QuestionError
from assistant.models import IndexReport
from assistant.uploads import SavedArticle, UploadError, save_pasted, save_upload
from assistant.watch import Indexer

from . import render_index
from .i18n import t
from .render import message_html

ProgressFn = Callable[[float, str], None]  # (fraction 0..1, description)
# Files one upload may carry (the page's and `POST /articles`): each is read, saved and indexed
# while the request waits.
MAX_FILES_PER_UPLOAD = 20
EMPTY_PAGE = CatalogPage([], 0, 0)


@dataclass
class IndexUpdate:
    message: str  # HTML line(s) under the upload form
    articles: str  # HTML table
    status: str  # HTML status line
    ok: bool


class IndexProgress:
    """The running update's progress, shared by the handler that indexes and the status line."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: tuple[float, str] | None = None

    def set(self, fraction: float, what: str) -> None:
        with self._lock:
            self._value = (max(0.0, min(1.0, fraction)), what)

    def clear(self) -> None:
        with self._lock:
            self._value = None

    def get(self) -> tuple[float, str] | None:
        with self._lock:
            return self._value


def index_view(
    bot: Assistant, lang: str = "en", busy: bool = False, progress: IndexProgress | None = None, match: str = "",
) -> tuple[str, str]:
    """(status line, article table) as HTML: the first page of the articles whose title, file
    name, date or language hold the filter's words (``match``); a broken index shows its message."""
    try:
        status = render_index.status_html(bot.status(), lang, busy, progress.get() if progress else None)
        return status, render_index.articles_html(bot.catalog(match), lang, match)
    except QuestionError as exc:  # a filter over its length: the list says why, the status stays
        return status, message_html(str(exc), "error")
    except AssistantError as exc:
        return render_index.status_html(None, lang, error=str(exc)), render_index.articles_html(EMPTY_PAGE, lang)


def catalog_stamp(bot: Assistant) -> int:
    """Changes whenever the index commits (the store's generation marker: one small read)."""
    try:
        return bot.index_generation()
    except AssistantError:
        return -1


def _tracked(progress: IndexProgress | None, report: ProgressFn | None) -> ProgressFn:
    def both(fraction: float, what: str) -> None:
        if progress is not None:
            progress.set(fraction, what)
        if report is not None:
            report(fraction, what)

    return both


@dataclass
class Outcome:
    """What came of saving and indexing some articles, as lines for people."""

    done: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # file names newly indexed


def add_files(
    indexer: Indexer, paths: Sequence[str | Path] | None, max_bytes: int, progress: ProgressFn | None = None,
    lang: str = "en", shared: IndexProgress | None = None, match: str = "",
) -> IndexUpdate:
    """Save uploaded files into sources/ (safe names, size and type checked), then index them."""
    files = [(Path(p), Path(p).name) for p in (paths or [])]
    if not files:
        return _view(indexer, Outcome(errors=[t("choose_files", lang)]), lang, match)
    if len(files) > MAX_FILES_PER_UPLOAD:  # each is read, saved and indexed in this request
        return _view(indexer, Outcome(errors=[t("too_many_files", lang, len(files), MAX_FILES_PER_UPLOAD)]), lang, match)
    return _view(indexer, save_and_index(indexer, files, max_bytes, progress, lang, shared), lang, match)


def save_and_index(
    indexer: Indexer, files: Sequence[tuple[Path | bytes, str]], max_bytes: int, progress: ProgressFn | None = None,
    lang: str = "en", shared: IndexProgress | None = None,
) -> Outcome:
    """Save (content, original name) pairs into sources/, then index them; never raises for bad files."""
    sources = Path(indexer.bot.config.sources_dir)
    saved: list[SavedArticle] = []
    outcome = Outcome()
    report = _tracked(shared, progress)
    for i, (content, name) in enumerate(files):
        report(i / max(1, len(files)) * 0.1, name)
        try:
            saved.append(save_upload(content, name, sources, max_bytes, discard=True))  # a temp copy: never left behind
        except UploadError as exc:
            outcome.errors.append(str(exc))
    _index_saved(indexer, saved, outcome, report, lang, shared)
    return outcome


def add_text(
    indexer: Indexer, title: str, text: str, date: str | None, max_bytes: int, progress: ProgressFn | None = None,
    lang: str = "en", shared: IndexProgress | None = None, match: str = "",
) -> IndexUpdate:
    """Save a pasted article (title + text, optional date) into sources/, then index it."""
    try:
        saved = save_pasted(title, text, Path(indexer.bot.config.sources_dir), max_bytes, date)
    except UploadError as exc:
        return _view(indexer, Outcome(errors=[str(exc)]), lang, match)
    outcome = Outcome()
    _index_saved(indexer, [saved], outcome, _tracked(shared, progress), lang, shared)
    return _view(indexer, outcome, lang, match)


def _view(indexer: Indexer, outcome: Outcome, lang: str, match: str = "") -> IndexUpdate:
    status, table = index_view(indexer.bot, lang, match=match)
    message = message_html("\n".join(outcome.done), "ok") + message_html("\n".join(outcome.errors), "error")
    return IndexUpdate(message, table, status, not outcome.errors)


def _update(indexer: Indexer, reason: str, report: ProgressFn, shared: IndexProgress | None) -> IndexReport:
    def on_progress(done: int, total: int, what: str) -> None:
        report(0.1 + 0.9 * done / max(1, total), f"{what} {done}/{total}")

    try:
        return indexer.update(reason, progress=on_progress)
    finally:
        if shared is not None:
            shared.clear()


def _index_saved(
    indexer: Indexer, saved: list[SavedArticle], outcome: Outcome, report: ProgressFn, lang: str,
    shared: IndexProgress | None,
) -> None:
    if not saved:
        return
    started = time.perf_counter()
    try:
        result = _update(indexer, "upload", report, shared)
    except AssistantError as exc:
        outcome.errors.append(t("index_failed", lang, ", ".join(s.name for s in saved), exc))
        return
    skipped = {p.source: p.reason for p in result.skipped}
    warnings = {p.source: p.reason for p in result.warnings}
    seconds = time.perf_counter() - started
    for s in saved:
        if s.name in skipped:
            outcome.errors.append(t("not_indexed", lang, s.name, skipped[s.name]))
        elif s.name in result.duplicates:
            outcome.done.append(t("same_text", lang, s.name, result.duplicates[s.name]))
        elif s.existed:
            outcome.done.append(t("unchanged", lang, s.name))
        else:
            outcome.done.append(t("added", lang, s.name, s.title, seconds))
            outcome.added.append(s.name)
        if s.name in warnings:
            outcome.done.append(t("indexed_in_part", lang, s.name, warnings[s.name]))


def delete_article(
    indexer: Indexer, source: str, lang: str = "en", shared: IndexProgress | None = None,
    progress: ProgressFn | None = None, match: str = "",
) -> IndexUpdate:
    """Remove ``source`` from sources/ and the index (the page asked for confirmation first)."""
    try:
        indexer.bot.delete_article(source, update_index=False)
        _update(indexer, "delete", _tracked(shared, progress), shared)
    except AssistantError as exc:
        status, table = index_view(indexer.bot, lang, match=match)
        return IndexUpdate(message_html(str(exc), "error"), table, status, False)
    status, table = index_view(indexer.bot, lang, match=match)
    return IndexUpdate(message_html(t("deleted", lang, source), "ok"), table, status, True)


def reindex(indexer: Indexer, lang: str = "en", progress: ProgressFn | None = None,
            shared: IndexProgress | None = None, match: str = "") -> IndexUpdate:
    """Bring the index in line with sources/ now (what the watcher does on a change)."""
    try:
        result = _update(indexer, "re-index", _tracked(shared, progress), shared)
    except AssistantError as exc:
        status, table = index_view(indexer.bot, lang, match=match)
        return IndexUpdate(message_html(str(exc), "error"), table, status, False)
    status, table = index_view(indexer.bot, lang, match=match)
    return IndexUpdate(message_html(t("reindexed", lang, result.summary()), "ok"), table, status, True)


def watcher_line(indexer: Indexer) -> str:
    """The last index update (start, upload or a change in sources/) as an HTML line."""
    event = indexer.last
    if event is None:
        return ""
    return message_html(event.line(), "error" if event.error else "info")
