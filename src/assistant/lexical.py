"""BM25 over chunks with tantivy, one index per article language, updated article by article.

Tokens are stemmed in Python (Snowball, :func:`text.lexical_tokens`) and handed to
tantivy space-separated, split on whitespace only, so tantivy ranks exactly our terms
with its BM25 (k1 = 1.2, b = 0.75). A question is a disjunction of its stems, which
tantivy answers top-k with block-max WAND: it skips the postings that cannot reach the
top, where SQLite FTS5 scored every chunk holding a frequent stem (0.1–3 s per question
at 100,000 articles against a few milliseconds). A question is tokenised with each
index's own stemmer, so a French question still matches names and numbers in English
articles and vice versa.

On disk (a local cache of what the store holds, see :mod:`assistant.store.lexical_cache`)
the folder holds one tantivy index per language and ``articles.sqlite``, the list of
articles held. tantivy allows one writer per index; writers of several processes
(`serve` beside `assistant index`, or two readers catching up) take turns through
``write.lock``, one batch of articles at a time. Readers in other processes notice a
write by SQLite's ``data_version`` on the list and reload their searchers. Without a
path the index lives in memory (tests, tools, a read-only folder).
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import tantivy
from filelock import FileLock, Timeout

from .errors import AssistantError, IndexCorruptError, IndexLockedError
from .glossary import question_tokens
from .text import lexical_tokens

_LANG = re.compile(r"^[a-z]{2,3}$")  # folder names are built from it: nothing else gets in
_SCHEMA = """
CREATE TABLE IF NOT EXISTS article (article_id TEXT PRIMARY KEY, langs TEXT NOT NULL, pending INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS language (lang TEXT PRIMARY KEY);
"""
_TOKENIZER = "stems"  # whitespace only: the tokens arrive stemmed and lower-cased
WRITER_HEAP_BYTES = 64_000_000
WRITE_WAIT_S = 60.0  # as long as SQLite waited for a busy cache before
ARTICLES_FILE = "articles.sqlite"
MAX_COUNTS_KEPT = 50_000
Chunk = tuple[str, str, str]  # (chunk_id, lang, text to index)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("article_id", stored=False, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("tokens", stored=False, tokenizer_name=_TOKENIZER, index_option="freq")
    return builder.build()


def busy_error(path: Path) -> IndexLockedError:
    """Another process is writing the cache in ``path`` and has held it for WRITE_WAIT_S."""
    return IndexLockedError(
        f"the lexical cache {path} is being written by another process (held over {WRITE_WAIT_S:.0f} s); "
        "try again when it has finished"
    )


def is_busy(error: BaseException) -> bool:
    """A lock held by another process (SQLite's, tantivy's; our write lock raises IndexLockedError
    itself): not damage."""
    text = str(error).lower()
    if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return True
    return isinstance(error, ValueError) and ("lockfile" in text or "lockbusy" in text or "lock busy" in text)


def _is_storage_error(error: BaseException) -> bool:
    """What SQLite and tantivy raise about their files: tantivy's errors are ValueErrors, its
    panics PanicExceptions (BaseException); anything else is a bug of ours and stays one."""
    return isinstance(error, (sqlite3.Error, ValueError, OSError)) or type(error).__name__ == "PanicException"


def damaged_error(path: Path | None, error: BaseException) -> IndexCorruptError:
    detail = f"{error.__class__.__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    if path is None:
        return IndexCorruptError(f"the lexical index in memory failed ({detail}); run the command again")
    return IndexCorruptError(
        f"the lexical cache {path} is damaged ({detail}); delete that folder and run the command again "
        "(it is only a cache: rebuilt from the index)"
    )


class LexicalIndex:
    def __init__(self, path: Path | str | None = None) -> None:
        """The index in the folder ``path`` (created if need be), or in memory without one."""
        self.path = Path(path) if path is not None else None
        self._schema = _schema()
        self._indexes: dict[str, tantivy.Index] = {}
        # One connection shared by the page's threads; the lock serialises its use.
        self._lock = threading.RLock()
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
        db_path = str(self.path / ARTICLES_FILE) if self.path is not None else ":memory:"
        self._db = sqlite3.connect(db_path, timeout=WRITE_WAIT_S, check_same_thread=False, isolation_level=None)
        try:
            self._open()
        except BaseException:
            self._db.close()  # a damaged or busy cache: leave no connection on its files
            raise

    def _open(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL" if self.path is not None else "PRAGMA journal_mode=MEMORY")
        self._db.executescript(_SCHEMA)
        self._seen_version: int | None = None
        self._writes_by_others = 0  # how many times another connection's commits were seen
        # The articles held, as of _seen_version: each new view of the store compares them with its
        # live articles, and reading 100,000 ids back costs 0.2 s. None: read them at the next call.
        self._held: set[str] | None = None
        # Live-chunk counts per (language, stem), for the searchers as loaded: one question asks
        # for the same stems several times (retrieval, the answerer's features). Cleared at reload.
        self._counts: dict[tuple[str, str], int] = {}
        with self._lock:
            self._refresh()
            if self._db.execute("SELECT 1 FROM article WHERE pending = 1 LIMIT 1").fetchone():
                with self._writing():  # left by a killed writer, or being written now: wait, then see
                    self._refresh()
                    self._finish_interrupted()

    @classmethod
    def build(cls, chunks: Iterable[Chunk], path: Path | str | None = None) -> "LexicalIndex":
        """An index of ``chunks``, kept under one anonymous article (tests, tools)."""
        index = cls(path)
        index.add("", list(chunks))
        return index

    def close(self) -> None:
        with self._lock:
            self._indexes.clear()
            self._db.close()

    # --- writing (one batch of articles at a time) ----------------------------------

    @contextmanager
    def _reported(self) -> Iterator[None]:
        """A cache damaged or locked while in use (a disk error, another program writing its files)
        as one line naming the folder and the fix, never a tantivy or SQLite traceback."""
        try:
            yield
        except (AssistantError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # tantivy's panics derive from BaseException
            if not _is_storage_error(error):
                raise
            if is_busy(error) and self.path is not None:
                raise busy_error(self.path) from error
            raise damaged_error(self.path, error) from error

    def article_ids(self) -> set[str]:
        """The articles held, not those another process is writing now (pending)."""
        with self._reported(), self._lock:
            return set(self._held_ids())

    def held_among(self, article_ids: Iterable[str]) -> set[str]:
        """Those of ``article_ids`` held (a few ids looked up, not the whole list copied)."""
        with self._reported(), self._lock:
            held = self._held_ids()
            return {a for a in article_ids if a in held}

    def writes_by_others(self) -> int:
        """A count that grows whenever another process's writes to the cache are seen: while it
        stays the same, what this process last made the cache hold is still what it holds."""
        with self._reported(), self._lock:
            self._refresh()
            return self._writes_by_others

    def _held_ids(self) -> set[str]:
        self._refresh()
        if self._held is None:
            self._held = {row[0] for row in self._db.execute("SELECT article_id FROM article WHERE pending = 0")}
        return self._held

    def add(self, article_id: str, chunks: list[Chunk]) -> None:
        """Index one article's chunks (replacing what it had)."""
        self.add_many({article_id: chunks})

    def add_many(self, articles: dict[str, list[Chunk]]) -> None:
        docs, langs_of = _documents(articles)
        with self._reported(), self._writing(), self._lock:  # the wait for another process holds no thread of ours back
            self._write(docs, langs_of)

    def add_missing(self, article_ids: list[str], chunks_of: Callable[[list[str]], dict[str, list[Chunk]]]) -> int:
        """Index those of ``article_ids`` that the cache lacks once the write lock is ours, reading
        their chunks (``chunks_of``) only then: another process (a `serve` beside this one, a reader
        catching up) may have indexed them meanwhile, or been writing them when this one listed the
        cache (pending articles are not listed). Returns how many this call indexed."""
        with self._reported(), self._writing():
            with self._lock:
                self._refresh()
                self._finish_interrupted()
                held = self._held_ids()
                missing = [a for a in article_ids if a not in held]
            if not missing:
                return 0
            docs, langs_of = _documents(chunks_of(missing))  # no thread lock: this process's questions go on
            with self._lock:
                self._write(docs, langs_of)
            return len(missing)

    def _write(self, docs: dict[str, list[tuple[str, str, str]]], langs_of: dict[str, set[str]]) -> None:
        """Replace the articles of ``langs_of`` by ``docs`` (holding both locks)."""
        self._refresh()
        self._finish_interrupted()
        touched = self._mark_pending(langs_of)  # the articles' old languages and new ones
        self._rewrite(touched, docs)
        with self._transaction():
            self._db.executemany(
                "UPDATE article SET langs = ?, pending = 0 WHERE article_id = ?",
                [(" ".join(sorted(langs)), aid) for aid, langs in langs_of.items()],
            )
        self._seen_version = self._data_version()
        if self._held is not None:
            self._held.update(langs_of)

    def remove(self, article_ids: Iterable[str]) -> None:
        with self._reported(), self._writing(), self._lock:  # the wait for another process holds no thread of ours back
            self._refresh()
            self._finish_interrupted()
            wanted = list(dict.fromkeys(article_ids))
            with self._transaction():
                self._db.executemany("UPDATE article SET pending = 1 WHERE article_id = ?", [(a,) for a in wanted])
            self._finish_interrupted()

    def _mark_pending(self, langs_of: dict[str, set[str]]) -> dict[str, set[str]]:
        """Record that these articles are being rewritten, before touching tantivy: a process killed
        in between leaves them pending, and the next writer removes what they left (see below).
        Returns, per language, the articles whose chunks it may hold or will hold."""
        touched: dict[str, set[str]] = {}
        if self._held is not None:
            self._held.difference_update(langs_of)
        with self._transaction():
            for aid, langs in langs_of.items():
                row = self._db.execute("SELECT langs FROM article WHERE article_id = ?", (aid,)).fetchone()
                every = langs | set(row[0].split() if row else ())
                self._db.execute(
                    "INSERT OR REPLACE INTO article (article_id, langs, pending) VALUES (?, ?, 1)", (aid, " ".join(sorted(every)))
                )
                for lang in every:
                    touched.setdefault(lang, set()).add(aid)
        return touched

    def _finish_interrupted(self) -> None:
        """Drop the articles left pending: a removal to finish, or an addition cut short (the store
        still lists it, so the next sync adds it again). Only called while holding the write lock."""
        rows = self._db.execute("SELECT article_id, langs FROM article WHERE pending = 1").fetchall()
        if not rows:
            return
        touched: dict[str, set[str]] = {}
        for aid, langs in rows:
            for lang in langs.split():
                touched.setdefault(lang, set()).add(aid)
        self._rewrite(touched, {})
        with self._transaction():
            self._db.executemany("DELETE FROM article WHERE article_id = ? AND pending = 1", [(aid,) for aid, _ in rows])
        self._seen_version = self._data_version()
        if self._held is not None:
            self._held.difference_update(aid for aid, _ in rows)

    def _rewrite(self, removed: dict[str, set[str]], added: dict[str, list[tuple[str, str, str]]]) -> None:
        """Per language: delete the chunks of ``removed`` articles, add ``added``, commit, and let
        tantivy's merges finish (they merge small segments: a few milliseconds per article)."""
        for lang in sorted(set(removed) | set(added)):
            index = self._index(lang, create=lang in added)
            if index is None:
                continue
            writer = self._writer(index)
            try:
                for aid in sorted(removed.get(lang, ())):
                    writer.delete_documents_by_term("article_id", aid)
                for chunk_id, aid, tokens in added.get(lang, ()):
                    writer.add_document(tantivy.Document(chunk_id=chunk_id, article_id=aid, tokens=tokens))
                writer.commit()
            except BaseException:
                # Give tantivy's lock back now: the traceback would keep the writer alive, and every
                # later write of this process would wait WRITE_WAIT_S for it. The articles stay
                # marked pending, so the next writer drops what was half-written.
                writer.rollback()
                del writer
                raise
            writer.wait_merging_threads()  # also gives the index's writer lock back
            index.reload()
            self._counts.clear()

    def _writer(self, index: tantivy.Index) -> tantivy.IndexWriter:
        # Our own write.lock keeps other processes of this version out; the wait covers
        # any other holder of tantivy's lock on that index.
        deadline = time.monotonic() + WRITE_WAIT_S
        while True:
            try:
                return index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
            except ValueError as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise  # only a lock held elsewhere is worth waiting for
                time.sleep(0.05)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Our write lock over the folder, across processes (nothing to lock in memory)."""
        if self.path is None:
            yield
            return
        lock = FileLock(str(self.path / "write.lock"), timeout=WRITE_WAIT_S)
        try:
            lock.acquire()
        except Timeout as error:
            raise busy_error(self.path) from error
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _index(self, lang: str, create: bool) -> tantivy.Index | None:
        if lang not in self._indexes:
            if not create:
                return None
            # The index first, then its row: a reader that sees the row finds the index made.
            self._indexes[lang] = self._open_index(lang)
            with self._transaction():
                self._db.execute("INSERT OR IGNORE INTO language (lang) VALUES (?)", (lang,))
        return self._indexes[lang]

    def _open_index(self, lang: str) -> tantivy.Index:
        if self.path is None:
            index = tantivy.Index(self._schema)
        else:
            folder = self.path / lang
            folder.mkdir(exist_ok=True)
            index = tantivy.Index(self._schema, path=str(folder), reuse=True)
        index.register_tokenizer(_TOKENIZER, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build())
        index.config_reader(reload_policy="Manual")  # reloaded after each write seen, not by a watcher thread
        return index

    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _refresh(self) -> None:
        """Follow writes made by other processes: their languages, and searchers reloaded.
        data_version moves only with another connection's commits, so this is one small read."""
        version = self._data_version()
        if version == self._seen_version:
            return
        for (lang,) in self._db.execute("SELECT lang FROM language").fetchall():
            if lang not in self._indexes and _LANG.match(lang) and (self.path is None or (self.path / lang / "meta.json").exists()):
                self._indexes[lang] = self._open_index(lang)
        for index in self._indexes.values():
            index.reload()
        self._counts.clear()
        self._held = None
        if self._seen_version is not None:
            self._writes_by_others += 1
        self._seen_version = version

    # --- reading ---------------------------------------------------------------------

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (chunk_id, score), scores normalised to [0, 1] per language index."""
        hits: list[tuple[str, float]] = []
        with self._reported(), self._lock:
            self._refresh()
            for lang in sorted(self._indexes):
                tokens = sorted(set(question_tokens(question, lang)))
                if not tokens:
                    continue
                index = self._indexes[lang]
                query = tantivy.Query.boolean_query(
                    [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "tokens", t, index_option="freq")) for t in tokens]
                )
                searcher = index.searcher()
                found = searcher.search(query, k, count=False).hits  # no count: it would visit every match
                top = found[0][0] if found else 0.0
                if top > 0:
                    hits.extend((searcher.doc(address)["chunk_id"][0], float(score / top)) for score, address in found if score > 0)
        hits.sort(key=lambda h: -h[1])
        return hits[:k]

    def languages(self) -> list[str]:
        with self._reported(), self._lock:
            self._refresh()
            return sorted(self._indexes)

    def document_frequency(self, lang: str, token: str) -> int:
        """How many chunks of the ``lang`` index hold the stemmed ``token`` (0 if none or no such language)."""
        with self._reported(), self._lock:
            self._refresh()
            index = self._indexes.get(lang)
            return self._chunks_holding(lang, index.searcher(), token) if index is not None else 0

    def idf(self, lang: str, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency of stemmed tokens in the ``lang`` index (Lucene's BM25 form).

        A token that no chunk holds gets the highest weight: a question about
        something the articles never mention should look weakly supported.
        """
        with self._reported(), self._lock:
            self._refresh()
            index = self._indexes.get(lang)
            if index is None:
                return {t: 5.0 for t in tokens}
            searcher = index.searcher()
            n_docs = int(searcher.num_docs)
            found = {t: n for t in tokens if (n := self._chunks_holding(lang, searcher, t)) > 0}
        ceiling = math.log(1 + (max(n_docs, 1) + 0.5) / 0.5)
        return {t: math.log(1 + (n_docs - found[t] + 0.5) / (found[t] + 0.5)) if t in found else ceiling for t in tokens}

    def _chunks_holding(self, lang: str, searcher: tantivy.Searcher, token: str) -> int:
        """Live chunks holding ``token``. tantivy's doc_freq also counts the chunks of removed or
        replaced articles until their segment is merged; this count skips them (it reads the
        postings: ≈0.5 ms for a stem of 60,000 chunks, hence the cache)."""
        key = (lang, token)
        if key not in self._counts:
            if len(self._counts) > MAX_COUNTS_KEPT:
                self._counts.clear()
            found = 0
            if searcher.doc_freq("tokens", token):
                query = tantivy.Query.term_query(self._schema, "tokens", token, index_option="basic")
                found = int(searcher.search(query, 1, count=True).count or 0)
            self._counts[key] = found
        return self._counts[key]


def _documents(articles: dict[str, list[Chunk]]) -> tuple[dict[str, list[tuple[str, str, str]]], dict[str, set[str]]]:
    """Per language, (chunk_id, article_id, stemmed tokens) to index; and each article's languages."""
    docs: dict[str, list[tuple[str, str, str]]] = {}
    langs_of: dict[str, set[str]] = {}
    for article_id, chunks in articles.items():
        langs_of[article_id] = set()
        for chunk_id, lang, text in chunks:
            tokens = " ".join(lexical_tokens(text, lang))
            if tokens:  # a chunk of stop words only has nothing to be found by
                lang = lang if _LANG.match(lang) else "und"
                docs.setdefault(lang, []).append((chunk_id, article_id, tokens))
                langs_of[article_id].add(lang)
    return docs, langs_of


def weighted_coverage(weights: dict[str, float], stems: set[str] | frozenset[str]) -> float:
    """IDF-weighted share of the question's terms (``weights``) that ``stems`` holds."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in stems) / total if total else 0.0
