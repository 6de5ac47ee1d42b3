"""The article heads as of one generation, cached on the indexing machine.

Listing every head from Chroma costs pages of 300 records, on every run. The writer
keeps a copy in ``INDEX/cache/COLLECTION/heads.sqlite``, tagged with the generation
marker it belongs to, and updates only the rows a run changed. The copy is trusted
only while its tag equals the store's marker; a run marks it untrusted before it
writes its first head, so a killed run (or another machine's writer) sends the next
reader back to the store. Readers on the same machine use it too; they never write it.
A cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import TypeVar
from pathlib import Path

from .collector import collector_paused
from .records import ArticleRecord, FileStat, Generation

# One column per field: reading 100k heads back is a plain row scan, no JSON to parse.
_COLUMNS = ("source", "article_id", "content_hash", "title", "date", "lang", "chars", "text_parts", "chunks",
            "sentences", "size", "mtime_ns", "inode", "duplicate_of")
_VERSION = 3  # PRAGMA user_version; a copy of another layout is dropped (it is only a copy)
KEEP_GONE = 1000  # generations for which removed names are remembered (readers further behind reload all)
# ``changed``: the generation that wrote the row; ``gone``: names removed, by generation;
# ``horizon``: changes since a generation at or after it are complete (a reader applies just those).
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS head ({", ".join(c + (" TEXT PRIMARY KEY" if c == "source" else "") for c in _COLUMNS)},
                                 changed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS head_changed ON head (changed);
CREATE INDEX IF NOT EXISTS head_article ON head (article_id);
CREATE INDEX IF NOT EXISTS head_duplicate ON head (duplicate_of);
CREATE TABLE IF NOT EXISTS gone (source TEXT PRIMARY KEY, generation INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tag (one INTEGER PRIMARY KEY CHECK (one = 1), generation TEXT, horizon INTEGER);
CREATE TABLE IF NOT EXISTS writes (one INTEGER PRIMARY KEY CHECK (one = 1), token TEXT);
CREATE TABLE IF NOT EXISTS total (one INTEGER PRIMARY KEY CHECK (one = 1), generation TEXT, live_chunks INTEGER);
CREATE TABLE IF NOT EXISTS log (one INTEGER PRIMARY KEY CHECK (one = 1), log_id TEXT, number INTEGER);
"""
# ``writes``: a new random token at every write (a reader's too): the writer's memory copy is
# the copy on disk only while the token is the one of its own last write.
# ``log``: the store's change log and generation the rows are the state of (``change_log``), trusted
# or not: rows are only written after a commit, so a killed run leaves them as they were.
# ``total``: the live articles' chunks at a generation (what every run reports), kept by each
# write from the rows it changes: summing 100,000 rows costs 15 ms, a third of what a whole run
# by file event costs there.
_LIVE = "coalesce(duplicate_of, '') = ''"
_SUM_TOUCHED_UP_TO = 5000


# Empty optional strings come back as NULL (None): ``_head`` then takes the row as it is.
_SELECT = ", ".join(f"nullif({c}, '')" if c in ("date", "duplicate_of") else c for c in _COLUMNS)
_SLICE = 500  # values per IN (...): SQLite caps the variables of one statement
T = TypeVar("T")


def _row(head: ArticleRecord) -> tuple:
    meta = head.to_metadata()
    return tuple(meta[c] for c in _COLUMNS)


def _head(row: tuple) -> ArticleRecord:
    """A row of ``_SELECT`` as a record: its first ten columns are the record's first ten fields.

    Built 100,000 times per run: slices of the row, no unpacking into a list to fix up.
    """
    size, mtime_ns, inode, duplicate_of = row[10:]
    return ArticleRecord(*row[:10], FileStat(size, mtime_ns, inode) if size >= 0 else None, duplicate_of)


def _every_head(db: sqlite3.Connection) -> list[ArticleRecord]:
    with collector_paused():  # at 100,000 heads: ≈0.2 s of a 0.7 s load, and ≈0.25 s later
        return [_head(r) for r in db.execute(f"SELECT {_SELECT} FROM head")]


def _sum_live(db: sqlite3.Connection, sources: list[str] | None = None) -> int:
    """The live chunks of ``sources`` (of every head when None), in slices of names."""
    if sources is None:
        return db.execute(f"SELECT coalesce(sum(chunks), 0) FROM head WHERE {_LIVE}").fetchone()[0]
    return sum(db.execute(f"SELECT coalesce(sum(chunks), 0) FROM head WHERE {_LIVE} AND source IN ({', '.join('?' * len(part))})",
                          part).fetchone()[0] for part in (sources[i : i + _SLICE] for i in range(0, len(sources), _SLICE)))


def _token(db: sqlite3.Connection, _horizon: int | None = None) -> str | None:
    row = db.execute("SELECT token FROM writes").fetchone()
    return row[0] if row else None


def _tag(generation: Generation) -> str:
    return f"{generation.number}|{generation.last_indexed or ''}|{generation.format_version}"


class HeadsCache:
    """``keep``: hold the heads in memory as well, by source, for the writer of a long-lived process
    (`serve`, `watch`, the Python API): its next whole-folder run then skips reading 100,000
    rows back (0.7-0.9 s). The memory copy is used only while the copy on disk is trusted, of
    the same generation, and untouched since this object's last write (its token), and it
    follows each write this object makes."""

    def __init__(self, index_dir: Path, collection: str, keep: bool = False) -> None:
        self.path = Path(index_dir) / "cache" / collection / "heads.sqlite"
        self.keep = keep
        self._kept: tuple[str, str, dict[str, ArticleRecord]] | None = None  # (tag, write token, heads by source)

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if not create and not self.path.is_file():
            return None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            if db.execute("PRAGMA user_version").fetchone()[0] != _VERSION:
                db.executescript("DROP TABLE IF EXISTS head; DROP TABLE IF EXISTS gone; DROP TABLE IF EXISTS tag; "
                                 f"DROP TABLE IF EXISTS total; DROP TABLE IF EXISTS log; PRAGMA user_version = {_VERSION};")
            try:
                db.executescript(_SCHEMA)
            except sqlite3.OperationalError:
                if create:
                    raise
                # A reader of a copy it cannot write (a read-only folder) that lacks a table added
                # later (``total``): what it can read is still good; the missing table reads as none.
            return db
        except (OSError, sqlite3.Error):
            return None

    def load(self, generation: Generation | None) -> list[ArticleRecord] | None:
        """The heads of ``generation``, or None when the copy is not that generation's."""
        return self._read(generation, lambda db, _h: _every_head(db))

    def load_older(self) -> tuple[str, int, list[ArticleRecord]] | None:
        """Whatever generation the copy holds, trusted or not: ``(log_id, number, heads)``, for a
        catch-up from the store's change log; None without a copy, or one of no log."""
        def older(db: sqlite3.Connection) -> tuple[str, int, list[ArticleRecord]] | None:
            row = db.execute("SELECT log_id, number FROM log").fetchone()
            return (row[0], row[1], _every_head(db)) if row is not None and row[0] else None

        return self._read_any(older)

    def load_by_source(self, generation: Generation | None) -> dict[str, ArticleRecord] | None:
        """:meth:`load` by source name (a new dict: the caller may change it); from memory when kept."""
        kept = self._kept
        if generation is not None and kept is not None and kept[0] == _tag(generation) and self._read(generation, _token) == kept[1]:
            return dict(kept[2])
        got = self._read(generation, lambda db, _h: (_token(db, _h), _every_head(db)))
        if got is None:
            return None
        token, heads = got
        by_source = {h.source: h for h in heads}
        if self.keep and generation is not None and token is not None:
            self._kept = (_tag(generation), token, dict(by_source))
        return by_source

    def changes_since(self, generation: Generation | None, number: int) -> tuple[list[ArticleRecord], list[str]] | None:
        """Heads written and names removed after generation ``number``, up to ``generation``;
        None when the copy is not ``generation``'s or does not reach back that far."""
        if generation is not None and number > generation.number:
            return None

        def changes(db: sqlite3.Connection, horizon: int | None) -> tuple[list[ArticleRecord], list[str]] | None:
            if horizon is None or number < horizon:
                return None
            put = [_head(r) for r in db.execute(f"SELECT {_SELECT} FROM head WHERE changed > ?", (number,))]
            return put, [s for (s,) in db.execute("SELECT source FROM gone WHERE generation > ?", (number,))]

        return self._read(generation, changes)

    def heads_of(self, generation: Generation | None, sources: list[str]) -> dict[str, ArticleRecord] | None:
        """The heads of ``sources`` (those the copy has) as of ``generation``; None when the copy is not its."""
        return self._read(generation, lambda db, _h: {h.source: h for h in self._select(db, "source", sources)})

    def others_sharing(self, generation: Generation | None, article_ids: list[str], sources: list[str]) -> bool | None:
        """Whether a head outside ``sources`` holds one of ``article_ids`` or is a duplicate of one of ``sources``."""
        names = set(sources)

        def shared(db: sqlite3.Connection, _horizon: int | None) -> bool:
            same = self._select(db, "article_id", article_ids) + self._select(db, "duplicate_of", sources)
            return any(h.source not in names for h in same)

        return self._read(generation, shared)

    def live_chunks(self, generation: Generation | None) -> int | None:
        """The chunks of every live article (what a run reports), without reading the rows back."""

        def total(db: sqlite3.Connection, _horizon: int | None) -> int:
            try:
                kept = db.execute("SELECT live_chunks FROM total WHERE generation = ?", (_tag(generation),)).fetchone()
            except sqlite3.OperationalError:  # a copy written before the total was kept, read-only here
                kept = None
            return kept[0] if kept is not None and kept[0] is not None else _sum_live(db)

        return self._read(generation, total)

    @staticmethod
    def _select(db: sqlite3.Connection, column: str, values: list[str]) -> list[ArticleRecord]:
        found = []
        for i in range(0, len(values), _SLICE):
            part = values[i : i + _SLICE]
            found += [_head(r) for r in db.execute(
                f"SELECT {_SELECT} FROM head WHERE {column} IN ({', '.join('?' * len(part))})", part)]
        return found

    def _read(self, generation: Generation | None, fn: Callable[[sqlite3.Connection, int | None], T]) -> T | None:
        """``fn(db, horizon)`` when the copy is tagged ``generation``; None otherwise or on any read error."""
        if generation is None:
            return None

        def tagged(db: sqlite3.Connection) -> T | None:
            row = db.execute("SELECT generation, horizon FROM tag").fetchone()
            return None if row is None or row[0] != _tag(generation) else fn(db, row[1])

        return self._read_any(tagged)

    def _read_any(self, fn: Callable[[sqlite3.Connection], T]) -> T | None:
        """``fn(db)`` on the copy as it is, trusted or not; None without a copy or on any read error."""
        db = self._connect(create=False)
        if db is None:
            return None
        try:
            with db:
                return fn(db)
        except (sqlite3.Error, ValueError, KeyError, TypeError):
            return None
        finally:
            db.close()

    def writer_pending(self) -> bool:
        """Whether a run on this machine began writing and did not commit (killed): its next run
        must see the store as changed, so no reader may tag the copy as current meanwhile."""
        def pending(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT generation FROM tag").fetchone()
            return row is not None and row[0] is None

        if not self.path.is_file():
            return False
        answer = self._read_any(pending)
        return True if answer is None else answer  # a copy it cannot read: assume the worst

    def untrust(self) -> None:
        """Before a run writes its first head: until it commits, the copy is not trusted (a tag
        row is made if there was none, so that a new machine's killed run is seen as pending)."""
        self._write(lambda db: db.execute(
            "INSERT INTO tag (one, generation, horizon) VALUES (1, NULL, NULL) ON CONFLICT(one) DO UPDATE SET generation = NULL"))

    def store(self, generation: Generation, put: list[ArticleRecord], deleted: list[str], whole: bool,
              base: Generation | None = None) -> None:
        """After the commit: ``put``/``deleted`` are the run's changes since ``base``; ``whole`` = ``put`` is every head."""

        number = generation.number
        touched = list({h.source for h in put} | set(deleted))

        def write(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT horizon FROM tag").fetchone()
            horizon = number if whole or row is None or row[0] is None else row[0]
            # Beyond a few thousand names, one sum over every row costs less than two over these.
            base_total = None if whole or base is None or len(touched) > _SUM_TOUCHED_UP_TO else db.execute(
                "SELECT live_chunks FROM total WHERE generation = ?", (_tag(base),)).fetchone()
            before = None if base_total is None or base_total[0] is None else base_total[0] - _sum_live(db, touched)
            if whole:
                db.execute("DELETE FROM head")
                db.execute("DELETE FROM gone")
            db.executemany("DELETE FROM head WHERE source = ?", [(s,) for s in deleted])
            db.executemany("INSERT OR REPLACE INTO gone VALUES (?, ?)", [(s, number) for s in deleted])
            db.executemany(f"INSERT OR REPLACE INTO head VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                           [(*_row(h), number) for h in put])
            db.execute("DELETE FROM gone WHERE source IN (SELECT source FROM head WHERE changed = ?)", (number,))
            if db.execute("DELETE FROM gone WHERE generation <= ?", (number - KEEP_GONE,)).rowcount:
                horizon = max(horizon, number - KEEP_GONE)
            db.execute("INSERT OR REPLACE INTO tag (one, generation, horizon) VALUES (1, ?, ?)", (_tag(generation), horizon))
            db.execute("INSERT OR REPLACE INTO log (one, log_id, number) VALUES (1, ?, ?)", (generation.log_id, number))
            total = _sum_live(db) if before is None else before + _sum_live(db, touched)  # a whole sum only without a base total
            db.execute("INSERT OR REPLACE INTO total (one, generation, live_chunks) VALUES (1, ?, ?)", (_tag(generation), total))

        kept, self._kept = self._kept, None
        token = self._write(write)
        if token is None or not self.keep:
            return
        if whole:
            self._kept = (_tag(generation), token, {h.source: h for h in put})
        elif kept is not None and base is not None and kept[0] == _tag(base):  # the changes apply to what is kept
            heads = kept[2]
            for source in deleted:
                heads.pop(source, None)
            heads.update((h.source, h) for h in put)
            self._kept = (_tag(generation), token, heads)

    def _write(self, fn) -> str | None:  # noqa: ANN001 - one transaction; a failure leaves the copy untrusted
        """``fn(db)`` and a new write token in one transaction: the token, or None when it failed."""
        db = self._connect(create=True)
        if db is None:
            return None
        try:
            db.execute("BEGIN IMMEDIATE")
            fn(db)
            token = os.urandom(8).hex()
            db.execute("INSERT OR REPLACE INTO writes (one, token) VALUES (1, ?)", (token,))
            db.execute("COMMIT")
            return token
        except sqlite3.Error:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            return None
        finally:
            db.close()
