"""BM25 over chunks in SQLite FTS5, one table per article language, updated article by article.

Tokens are stemmed in Python (Snowball, :func:`text.lexical_tokens`) and stored
space-separated, so FTS5 only splits on spaces and ranks with its ``bm25()``
(k1 = 1.2, b = 0.75). Adding or removing an article touches that article's rows
only: no rebuild, whatever the archive's size. A question is tokenised with each
table's own stemmer, so a French question still matches names and numbers in
English articles and vice versa.

The database is a local cache of what the store holds (see
:mod:`assistant.store.lexical_cache`), or an in-memory one for tests and tools.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from .text import lexical_tokens

_LANG = re.compile(r"^[a-z]{2,3}$")  # table names are built from it: nothing else gets in
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunk (rowid INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL,
                                  article_id TEXT NOT NULL, lang TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunk_article ON chunk (article_id);
CREATE TABLE IF NOT EXISTS article (article_id TEXT PRIMARY KEY);
"""
Chunk = tuple[str, str, str]  # (chunk_id, lang, text to index)


class LexicalIndex:
    def __init__(self, path: Path | str = ":memory:") -> None:
        self.path = str(path)
        # One connection shared by the page's threads; the lock serialises its use.
        self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
            self._db.executescript(_SCHEMA)
            self._langs = self._tables()
        # Chunks per language table: count(*) on FTS5 reads the whole table (O(archive) per
        # question), so it is counted once per state of the file. SQLite's data_version moves
        # when another process changes the file; this connection's own writes clear it.
        self._counts: dict[str, int] = {}
        self._counted_version: int | None = None

    @classmethod
    def build(cls, chunks: Iterable[Chunk], path: Path | str = ":memory:") -> "LexicalIndex":
        """An index of ``chunks``, kept under one anonymous article (tests, tools)."""
        index = cls(path)
        index.add("", list(chunks))
        return index

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- writing (one article at a time) ---------------------------------------------

    def article_ids(self) -> set[str]:
        with self._lock:
            return {row[0] for row in self._db.execute("SELECT article_id FROM article")}

    def add(self, article_id: str, chunks: list[Chunk]) -> None:
        """Index one article's chunks (replacing what it had), in one transaction."""
        self.add_many({article_id: chunks})

    def add_many(self, articles: dict[str, list[Chunk]]) -> None:
        self._counts = {}
        with self._lock, self._transaction():
            for article_id, chunks in articles.items():
                self._remove(article_id)
                for chunk_id, lang, text in chunks:
                    table = self._table(lang)
                    cur = self._db.execute(
                        "INSERT OR REPLACE INTO chunk (chunk_id, article_id, lang) VALUES (?, ?, ?)", (chunk_id, article_id, lang)
                    )
                    tokens = " ".join(lexical_tokens(text, lang))
                    if tokens:  # a chunk of stop words only has nothing to be found by
                        self._db.execute(f"INSERT INTO {table} (rowid, tokens) VALUES (?, ?)", (cur.lastrowid, tokens))
                self._db.execute("INSERT OR IGNORE INTO article (article_id) VALUES (?)", (article_id,))

    def remove(self, article_ids: Iterable[str]) -> None:
        self._counts = {}
        with self._lock, self._transaction():
            for article_id in article_ids:
                self._remove(article_id)

    def _remove(self, article_id: str) -> None:
        rows = self._db.execute("SELECT rowid, lang FROM chunk WHERE article_id = ?", (article_id,)).fetchall()
        for rowid, lang in rows:
            if lang in self._langs:
                self._db.execute(f"DELETE FROM fts_{lang} WHERE rowid = ?", (rowid,))
        self._db.execute("DELETE FROM chunk WHERE article_id = ?", (article_id,))
        self._db.execute("DELETE FROM article WHERE article_id = ?", (article_id,))

    def _transaction(self) -> "_Transaction":
        return _Transaction(self._db)

    def _table(self, lang: str) -> str:
        if not _LANG.match(lang):
            lang = "und"
        if lang not in self._langs:
            # Tokens are already stemmed and lower-cased: split on spaces only, keep every character.
            self._db.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS fts_{lang} USING fts5(tokens, "
                "tokenize = \"unicode61 remove_diacritics 0 tokenchars '_'\")"
            )
            self._db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS vocab_{lang} USING fts5vocab(fts_{lang}, row)")
            self._langs.add(lang)
        return f"fts_{lang}"

    def _tables(self) -> set[str]:
        names = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'fts\\_%' ESCAPE '\\'")
        return {n[4:] for (n,) in names if _LANG.match(n[4:])}

    # --- reading ---------------------------------------------------------------------

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (chunk_id, score), scores normalised to [0, 1] per language table."""
        hits: list[tuple[str, float]] = []
        with self._lock:
            for lang in sorted(self._langs):
                tokens = sorted(set(lexical_tokens(question, lang)))
                if not tokens:
                    continue
                query = " OR ".join('"' + t.replace('"', '""') + '"' for t in tokens)
                rows = self._db.execute(
                    f"SELECT c.chunk_id, -bm25(fts_{lang}) AS score FROM fts_{lang} JOIN chunk c ON c.rowid = fts_{lang}.rowid "
                    f"WHERE fts_{lang} MATCH ? ORDER BY rank LIMIT ?",
                    (query, k),
                ).fetchall()
                top = rows[0][1] if rows else 0.0
                if top > 0:
                    hits.extend((cid, float(score / top)) for cid, score in rows if score > 0)
        hits.sort(key=lambda h: -h[1])
        return hits[:k]

    def languages(self) -> list[str]:
        with self._lock:
            return sorted(self._langs)

    def document_frequency(self, lang: str, token: str) -> int:
        """How many chunks of the ``lang`` table hold the stemmed ``token`` (0 if none or no such language)."""
        with self._lock:
            if lang not in self._langs:
                return 0
            row = self._db.execute(f"SELECT doc FROM vocab_{lang} WHERE term = ?", (token,)).fetchone()
            return int(row[0]) if row else 0

    def idf(self, lang: str, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency of stemmed tokens in the ``lang`` table (Lucene's BM25 form).

        A token that no chunk holds gets the highest weight: a question about
        something the articles never mention should look weakly supported.
        """
        with self._lock:
            known = lang in self._langs
            n_docs = self._doc_count(lang) if known else 0
            found: dict[str, int] = {}
            if known and tokens:
                marks = ",".join("?" * len(tokens))
                found = dict(self._db.execute(f"SELECT term, doc FROM vocab_{lang} WHERE term IN ({marks})", tokens).fetchall())
        ceiling = math.log(1 + (max(n_docs, 1) + 0.5) / 0.5) if known else 5.0
        return {t: math.log(1 + (n_docs - found[t] + 0.5) / (found[t] + 0.5)) if t in found else ceiling for t in tokens}


    def _doc_count(self, lang: str) -> int:
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._counted_version:
            self._counts, self._counted_version = {}, version
        if lang not in self._counts:
            self._counts[lang] = int(self._db.execute(f"SELECT count(*) FROM fts_{lang}").fetchone()[0])
        return self._counts[lang]


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("COMMIT" if kind is None else "ROLLBACK")


def weighted_coverage(weights: dict[str, float], stems: set[str] | frozenset[str]) -> float:
    """IDF-weighted share of the question's terms (``weights``) that ``stems`` holds."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in stems) / total if total else 0.0
