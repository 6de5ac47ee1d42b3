"""The lexical index as a local cache of what the store holds, kept in step article by article.

Any machine keeps one lexical folder per archive (``INDEX/cache/COLLECTION/lexical/``:
tantivy indexes and the list of articles held, see :mod:`assistant.lexical`) and brings it
in line with the articles the store serves: it indexes the articles it lacks (their chunks
read from the store) and drops those gone. A change costs what it
changes, so a `serve` replica with an empty ``--index`` folder needs nothing but the
URL, and one more article never rebuilds the whole index.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Container
from pathlib import Path

from ..errors import IndexCorruptError, IndexLockedError
from ..lexical import LexicalIndex, busy_error, is_busy
from .chroma import ChromaStore

ARTICLES_PER_READ = 50  # articles whose chunks one paged read asks for
# Articles per write: each write is a tantivy commit (files written and synced, tens of ms),
# so a new machine building its cache writes in large batches (about 3 MB of text each).
ARTICLES_PER_WRITE = 1000


def cache_path(index_dir: Path, collection: str) -> Path:
    # Not lexical.sqlite: that was the SQLite FTS5 cache of earlier versions, left for them.
    return Path(index_dir) / "cache" / collection / "lexical"


def open_lexical(index_dir: Path, collection: str) -> LexicalIndex:
    """The cache folder, or an in-memory index when the index folder cannot hold one (read-only)."""
    path = cache_path(index_dir, collection)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _open_checked(path)
    except IndexLockedError:
        raise
    except (OSError, ValueError, sqlite3.Error):
        return LexicalIndex()


def _open_checked(path: Path) -> LexicalIndex:
    """Opening reads the list of articles and loads every language's searcher (their files'
    footers are checked then): damage shows here, not at the first question."""
    if path.exists() and not path.is_dir():  # a file where the folder goes: nothing of ours to keep
        path.unlink()
    try:
        index = LexicalIndex(path)
        index.article_ids()
        return index
    except (KeyboardInterrupt, SystemExit, IndexLockedError):  # another process is writing: never delete its files
        raise
    except BaseException as error:  # tantivy's panics derive from BaseException
        # The index reports tantivy's and SQLite's errors as one line: judge by what it wraps.
        cause = error.__cause__ if isinstance(error, IndexCorruptError) and error.__cause__ is not None else error
        if is_busy(cause):
            raise busy_error(path) from cause
        if not _damaged(path, cause):
            raise cause from None
    # A damaged cache: it is only a cache, rebuild it from the store.
    shutil.rmtree(path, ignore_errors=True)
    return LexicalIndex(path)


def _damaged(path: Path, error: BaseException) -> bool:
    """Not a read-only folder or a missing permission, which an in-memory index answers."""
    if isinstance(error, PermissionError) or (isinstance(error, sqlite3.OperationalError) and "readonly" in str(error)):
        return False
    return path.is_dir()


def sync_lexical(lexical: LexicalIndex, store: ChromaStore, live_article_ids: set[str]) -> tuple[int, int]:
    """Index the live articles the cache lacks and drop those it should not hold; (added, removed).
    Each batch is checked again once the cache's write lock is ours (``add_missing``): what another
    process indexed meanwhile is neither read from the store nor indexed a second time."""
    held = lexical.article_ids()
    gone = sorted(held - live_article_ids)
    if gone:
        lexical.remove(gone)
    todo = sorted(live_article_ids - held)
    added = 0
    for i in range(0, len(todo), ARTICLES_PER_WRITE):
        added += lexical.add_missing(todo[i : i + ARTICLES_PER_WRITE], lambda batch: _chunks_of(store, batch))
    return added, len(gone)


def sync_lexical_changes(lexical: LexicalIndex, store: ChromaStore, live: Container[str], changed: set[str]) -> tuple[int, int]:
    """``sync_lexical`` for a cache that held exactly the previous view's live articles (nobody else
    wrote to it since): only the ``changed`` articles (whose heads moved between the two views) can
    differ, so a change costs what it changes, not two comparisons of every article id."""
    gone = sorted(lexical.held_among(a for a in changed if a not in live))
    if gone:
        lexical.remove(gone)
    todo = sorted(a for a in changed if a in live)
    added = lexical.add_missing(todo, lambda batch: _chunks_of(store, batch)) if todo else 0
    return added, len(gone)


def _chunks_of(store: ChromaStore, article_ids: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    chunks: dict[str, list[tuple[str, str, str]]] = {aid: [] for aid in article_ids}
    for j in range(0, len(article_ids), ARTICLES_PER_READ):
        for c in store.chunks_of(article_ids[j : j + ARTICLES_PER_READ]):
            chunks[c.record.article_id].append((c.record.chunk_id, c.record.lang, f"{c.record.title}\n{c.text}"))
    return chunks
