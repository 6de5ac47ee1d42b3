"""The lexical index as a local cache of what the store holds, kept in step article by article.

Any machine keeps one SQLite FTS5 file per archive (``INDEX/cache/COLLECTION/lexical.sqlite``)
and brings it in line with the articles the store serves: it indexes the articles it
lacks (their chunks read from the store) and drops those gone. A change costs what it
changes, so a `serve` replica with an empty ``--index`` folder needs nothing but the
URL, and one more article never rebuilds the whole index.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..lexical import LexicalIndex
from .chroma import ChromaStore

ARTICLES_PER_READ = 50  # articles whose chunks one paged read asks for


def cache_path(index_dir: Path, collection: str) -> Path:
    return Path(index_dir) / "cache" / collection / "lexical.sqlite"


def open_lexical(index_dir: Path, collection: str) -> LexicalIndex:
    """The cache file, or an in-memory index when the folder cannot hold one (read-only)."""
    path = cache_path(index_dir, collection)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return _open_checked(path)
    except (OSError, sqlite3.Error):
        return LexicalIndex()


def _open_checked(path: Path) -> LexicalIndex:
    try:
        index = LexicalIndex(path)
        index.article_ids()
        return index
    except sqlite3.DatabaseError:  # a damaged cache: it is only a cache, rebuild it from the store
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        return LexicalIndex(path)


def sync_lexical(lexical: LexicalIndex, store: ChromaStore, live_article_ids: set[str]) -> tuple[int, int]:
    """Index the live articles the cache lacks and drop those it should not hold; (added, removed)."""
    held = lexical.article_ids()
    gone = sorted(held - live_article_ids)
    if gone:
        lexical.remove(gone)
    todo = sorted(live_article_ids - held)
    for i in range(0, len(todo), ARTICLES_PER_READ):
        batch = todo[i : i + ARTICLES_PER_READ]
        chunks: dict[str, list[tuple[str, str, str]]] = {aid: [] for aid in batch}
        for c in store.chunks_of(batch):
            chunks[c.record.article_id].append((c.record.chunk_id, c.record.lang, f"{c.record.title}\n{c.text}"))
        lexical.add_many(chunks)
    return len(todo), len(gone)
