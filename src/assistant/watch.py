"""Keep the index in step with the sources folder while a server runs.

:class:`Indexer` serialises index updates within one process (uploads from the
web page and the folder watcher share it); across processes the index's own
file lock does the same. Readers never wait: the retriever keeps serving the
last committed catalog until the new one is written.

:func:`watch_sources` runs an incremental update at start, then again after
every batch of changes to article files (added, changed, deleted), until
``stop`` is set. The start-up update scans the whole folder; after that, only the
files named by the events are checked (a change costs what it changes, whatever the
archive's size), unless the batch is large or holds a folder or a link. ``assistant watch`` and ``assistant serve`` both use it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .api import Assistant
from .config import MAX_NAMED_FILES, SUPPORTED_SUFFIXES
from .documents import name_in, source_name
from .errors import AssistantError
from .index import Progress
from .models import IndexReport

log = logging.getLogger(__name__)

DEBOUNCE_MS = 800  # changes closer than this are indexed together (an editor's save = several events)
IDLE_MS = 500  # the watch loop wakes this often when nothing changes (start-up update, stop requests)


@dataclass
class IndexEvent:
    """One update run: what triggered it and how it went."""

    reason: str
    report: IndexReport | None = None
    error: str | None = None
    at: str = field(default_factory=lambda: datetime.now().strftime("%H:%M:%S"))

    def line(self) -> str:
        if self.error:
            return f"{self.at} {self.reason}: index not updated: {' '.join(self.error.splitlines())}"
        assert self.report is not None
        text = f"{self.at} {self.reason}: {self.report.summary()}"
        for problem in self.report.skipped:
            text += f"\n  skipped: {problem.source}: {problem.reason}"
        for problem in self.report.warnings:
            text += f"\n  warning: {problem.source}: {problem.reason}"
        return text


class Indexer:
    """Runs ``assistant.index()`` one at a time and remembers the last outcome."""

    def __init__(self, bot: Assistant) -> None:
        self.bot = bot
        self._lock = threading.Lock()
        self.last: IndexEvent | None = None

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def update(self, reason: str, progress: Progress | None = None, files: list[str] | None = None) -> IndexReport:
        """Incremental update (of ``files`` only, when named); raises :class:`AssistantError` (and records it)."""
        with self._lock:
            try:
                report = self.bot.index(progress=progress, files=files)
            except AssistantError as exc:
                self.last = IndexEvent(reason, error=str(exc))
                raise
            self.last = IndexEvent(reason, report=report)
            return report


def is_article_path(sources_dir: Path, path: str | Path) -> bool:
    """True for files the index reads: supported suffix, no hidden part (uploads' temp files are hidden)."""
    try:
        rel = Path(path).resolve().relative_to(Path(sources_dir).resolve())
    except ValueError:
        return False
    if not rel.parts or any(part.startswith(".") for part in rel.parts):
        return False
    return rel.suffix.lower() in SUPPORTED_SUFFIXES or not rel.suffix  # no suffix: maybe a removed folder


def describe(sources_dir: Path, changes: set[tuple[object, str]]) -> str:
    names = sorted({_relative(sources_dir, p) for _, p in changes})
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"change in {shown}"


def _relative(sources_dir: Path, path: str) -> str:
    """The changed file as the index names it: printable, one line (a newline in a name forges no log line)."""
    try:
        return source_name(Path(path).resolve().relative_to(Path(sources_dir).resolve()).as_posix())
    except ValueError:
        return source_name(Path(path).name)


def changed_files(sources_dir: Path, changes: set[tuple[object, str]]) -> list[str] | None:
    """The source names of a batch of file events; None (check the whole folder) when there are many."""
    if len(changes) > MAX_NAMED_FILES:
        return None
    names = {name_in(sources_dir, path) for _, path in changes}
    return None if None in names else sorted(n for n in names if n is not None)


def run_once(indexer: Indexer, reason: str, on_event: Callable[[IndexEvent], None] | None = None,
             files: list[str] | None = None) -> IndexEvent:
    """One update that never raises: errors become the event's message."""
    try:
        indexer.update(reason, files=files)
        event = indexer.last or IndexEvent(reason)
    except AssistantError as exc:
        event = IndexEvent(reason, error=str(exc))
    except Exception as exc:  # keep watching whatever happens; the server log has the details
        log.exception("indexing failed")
        event = IndexEvent(reason, error=f"unexpected {exc.__class__.__name__}: {exc}; see the server log")
        indexer.last = event
    if on_event is not None:
        on_event(event)
    return event


def watch_sources(
    indexer: Indexer,
    stop: threading.Event | None = None,
    on_event: Callable[[IndexEvent], None] | None = None,
    initial: bool = True,
    debounce_ms: int = DEBOUNCE_MS,
    force_polling: bool | None = None,
) -> None:
    """Index at start (``initial``), then after each batch of article changes, until ``stop`` is set."""
    import watchfiles

    sources = Path(indexer.bot.config.sources_dir)
    sources.mkdir(parents=True, exist_ok=True)
    pending_start = initial

    def keep(_change: object, path: str) -> bool:
        return is_article_path(sources, path)

    # The watcher is set up when the loop starts and yields an empty set every IDLE_MS: the
    # start-up update runs at the first yield, so a change made while it runs is not missed.
    for changes in watchfiles.watch(
        sources,
        watch_filter=keep,
        debounce=debounce_ms,
        stop_event=stop,
        rust_timeout=IDLE_MS,
        yield_on_timeout=True,
        raise_interrupt=False,
        force_polling=force_polling,
    ):
        if stop is not None and stop.is_set():
            break
        if pending_start:
            pending_start = False
            run_once(indexer, "start", on_event)  # covers whatever changed meanwhile too
        elif changes:
            run_once(indexer, describe(sources, changes), on_event, changed_files(sources, changes))


def start_watcher(
    indexer: Indexer, on_event: Callable[[IndexEvent], None] | None = None, initial: bool = True
) -> tuple[threading.Thread, threading.Event]:
    """:func:`watch_sources` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                watch_sources(indexer, stop, on_event, initial=initial)
                return
            except Exception:  # e.g. the folder vanished: wait, then watch again
                log.exception("watching %s failed; retrying", indexer.bot.config.sources_dir)
                time.sleep(2.0)

    thread = threading.Thread(target=loop, name="sources-watcher", daemon=True)
    thread.start()
    return thread, stop
