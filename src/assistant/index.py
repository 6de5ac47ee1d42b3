"""The persistent index: Chroma vectors + BM25 + a catalog, kept in step with ``sources/``.

Layout of the index directory::

    catalog.json        the commit point: settings, articles, chunks (atomic replace)
    chroma/             Chroma PersistentClient (vectors + citation metadata)
    lexical-<gen>/      BM25 sub-indexes of that catalog generation
    texts/<id>.txt      cleaned article texts (quotes and highlights use these offsets)
    .lock               held by the one process that writes

Crash safety: vectors and texts are written *before* the catalog is replaced,
and removed only *after*. Readers only trust what the catalog lists, so a
killed run leaves the previous index usable, and the next run reuses the
vectors already written (their ids are content hashes).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .chunking import chunk_article, embedding_text
from .config import Config
from .documents import content_hash, load_article, read_source, scan_sources, source_path
from .embeddings import TokenAwareEmbeddings, canonical_name, load_embeddings
from .errors import (
    AssistantError,
    ConfigError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    SourceError,
    rebuild_hint,
)
from .lexical import LexicalIndex
from . import sentence_vectors
from .models import Article, ArticleInfo, Chunk, IndexReport, IndexStatus, Problem

CATALOG = "catalog.json"
CHUNKER_VERSION = "paragraph-sentences-2"
FORMAT_VERSION = 1
COLLECTION = "chunks"
EMBED_BATCH = 32  # texts per embedding call (and per Chroma upsert, under its max batch size)
# Ids per Chroma call: SQLite refuses a statement with over ~32k variables, and
# Chroma Cloud takes at most 300 records per read or write.
IDS_PER_CALL = 300
# What an index folder may hold; anything else means it is not (only) an index.
_KEEP_ON_WIPE = (".lock", ".gitkeep")
_INDEX_NAMES = (CATALOG, f"{CATALOG}.tmp", "chroma", "texts", sentence_vectors.FOLDER, *_KEEP_ON_WIPE)
# Chroma caches one client system per folder and per process; a wipe bumps the
# folder's epoch so that every IndexStore of this process reopens its collection.
_CHROMA_EPOCH: dict[str, int] = {}
_CHROMA_OPEN_LOCK = threading.Lock()

Progress = Callable[[int, int, str], None]  # (done, total, what)


@dataclass
class Catalog:
    settings: dict[str, Any]
    articles: dict[str, dict[str, Any]]  # source -> record (duplicates carry "duplicate_of")
    chunks: dict[str, dict[str, Any]]  # chunk id -> record (no text: see texts/)
    lexical_dir: str | None
    last_indexed: str | None

    @classmethod
    def empty(cls, settings: dict[str, Any]) -> "Catalog":
        return cls(settings, {}, {}, None, None)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "settings": self.settings,
            "articles": self.articles,
            "chunks": self.chunks,
            "lexical_dir": self.lexical_dir,
            "last_indexed": self.last_indexed,
        }

    @classmethod
    def from_json(cls, data: Any) -> "Catalog":
        """Parse and check the shape of a catalog; ValueError when it is not one."""
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            raise ValueError("not a catalog of this version")
        settings, articles, chunks = data.get("settings"), data.get("articles"), data.get("chunks")
        if not (isinstance(settings, dict) and isinstance(articles, dict) and isinstance(chunks, dict)):
            raise ValueError("settings, articles or chunks missing")
        for rec in articles.values():
            if not isinstance(rec, dict) or not all(isinstance(rec.get(k), str) for k in ("id", "content_hash", "title", "lang")):
                raise ValueError("bad article record")
        for rec in chunks.values():
            if not isinstance(rec, dict) or not all(isinstance(rec.get(k), int) for k in ("start", "end")) or not all(
                isinstance(rec.get(k), str) for k in ("article_id", "source", "title", "lang")
            ):
                raise ValueError("bad chunk record")
        lexical_dir, last = data.get("lexical_dir"), data.get("last_indexed")
        if not (lexical_dir is None or (isinstance(lexical_dir, str) and _is_lexical_name(lexical_dir))):
            raise ValueError("bad lexical_dir")
        return cls(settings, articles, chunks, lexical_dir, last if isinstance(last, str) else None)


def settings_for(config: Config, embedder: TokenAwareEmbeddings | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "embedding_model": canonical_name(config.embedding_model),
        "chunk_tokens": config.chunk_tokens,
        "chunk_overlap_sentences": config.chunk_overlap_sentences,
        # Bumped whenever chunk boundaries or stored vectors change meaning.
        "chunker": CHUNKER_VERSION,
    }
    if embedder is not None:
        settings["dimension"] = embedder.dimension
    return settings


def _is_lexical_name(name: str) -> bool:
    return name.startswith("lexical-") and name[len("lexical-") :].isdigit()


def _first_names(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")


def _is_index_entry(name: str) -> bool:
    return name in _INDEX_NAMES or _is_lexical_name(name)


class IndexStore:
    """Read and update one index directory."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = Path(config.index_dir)
        self._chroma: Any = None
        self._chroma_epoch = -1

    # --- reading ------------------------------------------------------------

    def exists(self) -> bool:
        return (self.root / CATALOG).is_file()

    def load_catalog(self, for_writing: bool = False, check_model: bool = True) -> Catalog:
        """The committed catalog (empty when there is none yet).

        Readers only need the same embedding model; a writer also needs the same
        chunking settings, or old and new chunks would not match.
        """
        path = self.root / CATALOG
        if not path.is_file():
            self._refuse_foreign()
            return Catalog.empty(settings_for(self.config))
        try:
            catalog = Catalog.from_json(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise IndexCorruptError(f"{path} is damaged or from another version; {rebuild_hint(self.root)}") from None
        except OSError as exc:
            raise IndexCorruptError(f"cannot read {path} ({exc.strerror}); check its permissions, or {rebuild_hint(self.root)}") from None
        if for_writing:
            self._check_settings(catalog, ("embedding_model", "chunk_tokens", "chunk_overlap_sentences", "chunker"))
        elif check_model:
            self._check_settings(catalog, ("embedding_model",))
        return catalog

    def foreign_entries(self) -> list[str]:
        """Names in the index folder that an index never writes."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if not _is_index_entry(p.name))

    def _refuse_foreign(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise IndexCorruptError(f"{self.root} is a file, not an index folder; pass --index DIR with a folder")
        self._refuse_foreign_entries(rebuilding=False)
        # Only index parts and no catalog: a first run that was interrupted. The next
        # run starts from an empty catalog and reuses the vectors already written.

    def _check_settings(self, catalog: Catalog, keys: tuple[str, ...]) -> None:
        wanted = settings_for(self.config)
        have = catalog.settings
        for key in keys:
            if have.get(key) == wanted[key]:
                continue
            same = f"--embedding-model {have.get(key)}" if key == "embedding_model" else "the same setting"
            raise IndexMismatchError(
                f"{self.root} was built with {key}={have.get(key)!r} but {wanted[key]!r} is configured; "
                f"use {same}, or {rebuild_hint(self.root)} (re-embeds every article)"
            )

    def article_text(self, article_id: str) -> str:
        path = self.root / "texts" / f"{article_id}.txt"
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise IndexCorruptError(f"{path} is missing or damaged; {rebuild_hint(self.root)}") from None

    def load_lexical(self, catalog: Catalog) -> LexicalIndex:
        if not catalog.lexical_dir:
            return LexicalIndex([])
        try:
            return LexicalIndex.load(self.root / catalog.lexical_dir)
        except Exception as exc:  # bm25s / numpy raise many kinds on damaged files
            raise IndexCorruptError(
                f"lexical index in {self.root} is damaged ({exc.__class__.__name__}); {rebuild_hint(self.root)}"
            ) from None

    def _chroma_path(self) -> str:
        return str((self.root / "chroma").resolve())

    def vectorstore(self, embedder: TokenAwareEmbeddings | None = None) -> Any:
        """The langchain-chroma store over ``chroma/`` (opened once per wipe epoch).

        The assistant writes and queries vectors itself (``.collection()``), so the
        store works without an embedder; ``embedder`` only serves LangChain callers.
        """
        epoch = _CHROMA_EPOCH.get(self._chroma_path(), 0)
        if self._chroma is not None and self._chroma_epoch == epoch:
            return self._chroma
        # chromadb's first client of a folder is not safe to create from two threads at once
        # (seen in the web UI: "'RustBindingsAPI' object has no attribute 'bindings'").
        with _CHROMA_OPEN_LOCK:
            if self._chroma is not None and self._chroma_epoch == epoch:
                return self._chroma
            try:
                from langchain_chroma import Chroma

                self._chroma = Chroma(
                    collection_name=COLLECTION,
                    embedding_function=embedder,  # type: ignore[arg-type]
                    client=self._client(),
                    collection_metadata={"hnsw:space": "cosine", "embedding_model": canonical_name(self.config.embedding_model)},
                )
                self._chroma_epoch = epoch
            except Exception as exc:  # chromadb raises many kinds on a damaged store
                raise IndexCorruptError(
                    f"cannot open the vector store in {self.root / 'chroma'} ({exc.__class__.__name__}: {exc}); "
                    f"{rebuild_hint(self.root)}"
                ) from None
        return self._chroma

    def collection(self) -> Any:
        """The Chroma collection of the chunk vectors."""
        return self.vectorstore()._collection

    def _client(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        return chromadb.PersistentClient(path=self._chroma_path(), settings=Settings(anonymized_telemetry=False))

    def status(self) -> IndexStatus:
        catalog = self.load_catalog(check_model=False)  # status describes the index as built
        self.check_vectors(catalog)
        languages: dict[str, int] = {}
        live = [a for a in catalog.articles.values() if "duplicate_of" not in a]
        for record in live:
            languages[record["lang"]] = languages.get(record["lang"], 0) + 1
        size = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file()) if self.root.is_dir() else 0
        return IndexStatus(
            index_dir=str(self.root),
            articles=len(live),
            chunks=len(catalog.chunks),
            embedding_model=catalog.settings.get("embedding_model", ""),
            dimension=int(catalog.settings.get("dimension", 0)),
            languages=languages,
            last_indexed=catalog.last_indexed,
            size_bytes=size,
            chunking={k: catalog.settings.get(k) for k in ("chunk_tokens", "chunk_overlap_sentences", "chunker")},
        )

    def check_vectors(self, catalog: Catalog) -> None:
        """Cheap health check of the vector store (stdlib sqlite3, no Chroma start-up).

        Catches a missing, foreign or damaged ``chroma.sqlite3`` in milliseconds, so that
        `status` and an unchanged `index` run report it instead of calling it healthy.
        """
        if not catalog.chunks:
            return
        db = self.root / "chroma" / "chroma.sqlite3"
        if not db.is_file():
            raise IndexCorruptError(f"the vector store {db} is missing; {rebuild_hint(self.root)}")
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
                conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()
        except sqlite3.DatabaseError as exc:
            message = str(exc)
            if "no such table" in message or "locked" in message:
                return  # another Chroma layout, or busy: Chroma itself will judge when opened
            raise IndexCorruptError(f"the vector store {db} is damaged ({message}); {rebuild_hint(self.root)}") from None

    def articles(self) -> list[ArticleInfo]:
        catalog = self.load_catalog()
        counts: dict[str, int] = {}
        for chunk in catalog.chunks.values():
            counts[chunk["source"]] = counts.get(chunk["source"], 0) + 1
        return [
            ArticleInfo(source, rec["title"], rec.get("date"), rec["lang"], counts.get(source, 0))
            for source, rec in sorted(catalog.articles.items())
            if "duplicate_of" not in rec
        ]

    # --- writing ------------------------------------------------------------

    def update(self, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        """Bring the index in line with the sources folder (incremental)."""
        from filelock import FileLock, Timeout

        self._refuse_file()
        if not self.exists():  # before the lock file: `--index /etc` must not write /etc/.lock
            self._refuse_foreign_entries(rebuilding=rebuild)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.root / ".lock"))
            lock.acquire(timeout=self.config.lock_wait_s)
        except Timeout:
            raise IndexLockedError(
                f"another `assistant index` is writing {self.root} (waited {self.config.lock_wait_s:g}s); "
                "let it finish, then run again"
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot create or lock the index folder {self.root} ({exc.strerror}); pass --index DIR with a writable folder") from None
        try:
            if rebuild:
                self._wipe()
            return _Updater(self, progress).run()
        finally:
            lock.release()

    def _refuse_file(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise IndexCorruptError(f"{self.root} is a file, not an index folder; pass --index DIR with a folder")

    def _wipe(self) -> None:
        """Delete the index parts (never files that an index does not write)."""
        self._refuse_foreign_before_wipe()
        chroma = self.root / "chroma"
        if chroma.exists():
            try:  # through the client, so that clients of this process stay coherent
                client = self._client()
                if any(getattr(c, "name", c) == COLLECTION for c in client.list_collections()):
                    client.delete_collection(COLLECTION)
            except Exception:  # damaged: drop this process's cached client and the files
                _forget_chroma_system(self._chroma_path())
                shutil.rmtree(chroma, ignore_errors=True)
        path = self._chroma_path()
        _CHROMA_EPOCH[path] = _CHROMA_EPOCH.get(path, 0) + 1
        self._chroma = None
        for child in self.root.iterdir():
            if child.name in _KEEP_ON_WIPE or child.name == "chroma" or not _is_index_entry(child.name):
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()

    def _refuse_foreign_before_wipe(self) -> None:
        self._refuse_foreign_entries(rebuilding=True)

    def _refuse_foreign_entries(self, rebuilding: bool) -> None:
        """The one message for a folder holding files that an index never writes (never deleted)."""
        foreign = self.foreign_entries()
        if not foreign:
            return
        what = f"holds files that are not part of an assistant index ({_first_names(foreign)})"
        if rebuilding:
            raise IndexCorruptError(
                f"{self.root} {what}; --rebuild only deletes index files, so move those away first, "
                "or point --index to a new or empty folder"
            )
        raise IndexCorruptError(
            f"{self.root} {what} and no {CATALOG}; point --index to a new or empty folder "
            f"(assistant index --index NEW_FOLDER), or move those files away and {rebuild_hint(self.root)}"
        )

    def write_catalog(self, catalog: Catalog) -> None:
        tmp = self.root / f"{CATALOG}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(catalog.to_json(), fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / CATALOG)


def _forget_chroma_system(path: str) -> None:
    """Drop Chroma's per-process cached client system for ``path`` (after its files are gone)."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
        if system is not None:
            system.stop()
    except Exception:  # best effort: a stale cache only matters within this process
        pass


class _Updater:
    """One incremental indexing run (the caller holds the lock)."""

    def __init__(self, store: IndexStore, progress: Progress | None) -> None:
        self.store = store
        self.config = store.config
        self.progress = progress
        self.report = IndexReport()
        self._embedder: TokenAwareEmbeddings | None = None
        self._text_cache: dict[str, str] = {}
        self._max_bytes = int(self.config.max_file_mb * 1_000_000)

    @property
    def embedder(self) -> TokenAwareEmbeddings:
        if self._embedder is None:  # loading a model costs time: only when something changed
            self._embedder = load_embeddings(self.config.embedding_model)
        return self._embedder

    def run(self) -> IndexReport:
        started = time.perf_counter()
        store, report = self.store, self.report
        old = store.load_catalog(for_writing=True)
        sources_dir = Path(self.config.sources_dir)
        scan = scan_sources(sources_dir)  # names made printable; links outside sources/ refused
        files = scan.files
        report.skipped.extend(Problem(name, reason) for name, reason in scan.refused)

        new_articles: dict[str, dict[str, Any]] = {}
        fresh: dict[str, list[Chunk]] = {}  # source -> chunks of an article to (re-)index
        articles: dict[str, Article] = {}
        for source, path in files.items():
            record = old.articles.get(source)
            try:
                raw_hash = _file_hash(path, source, self._max_bytes)
                if record and record["content_hash"] == raw_hash:
                    new_articles[source] = record
                    if "duplicate_of" not in record:
                        report.unchanged.append(source)
                    continue
                article = load_article(path, source, self._max_bytes)
                chunks = self._chunk(article)
            except SourceError as exc:
                report.skipped.append(Problem(source, exc.reason))
                if record:  # keep what was indexed: a bad edit or a read error must not delete it
                    new_articles[source] = record
                continue
            (report.updated if record else report.added).append(source)
            new_articles[source] = _article_record(article)
            articles[source] = article
            fresh[source] = chunks
        report.removed = sorted(s for s in old.articles if s not in new_articles and "duplicate_of" not in old.articles[s])

        self._mark_duplicates(new_articles, fresh, articles)
        report.added = [s for s in report.added if s in fresh]
        report.updated = [s for s in report.updated if s in fresh]

        changed = bool(fresh) or set(new_articles) != set(old.articles) or any(
            new_articles[s] != old.articles.get(s) for s in new_articles
        )
        if not changed and old.last_indexed:
            store.check_vectors(old)
            report.chunks_total = len(old.chunks)
            report.seconds = time.perf_counter() - started
            return report

        settings = self._settings(old, needs_model=bool(fresh))
        chunks = {cid: rec for cid, rec in old.chunks.items() if _keeps(rec, new_articles)}
        new_chunks = [c for cs in fresh.values() for c in cs]
        self._write_texts([articles[s] for s in fresh])
        self._embed_and_store(new_chunks, first_run=not old.last_indexed)
        if fresh:  # removals alone need no model
            report.embed_seconds += sentence_vectors.write(store.root, [articles[s] for s in fresh], self.embedder, self.progress)
        chunks.update({c.id: _chunk_record(c) for c in new_chunks})

        lexical_dir = self._write_lexical(chunks)
        catalog = Catalog(settings, new_articles, chunks, lexical_dir,
                          datetime.now(timezone.utc).isoformat(timespec="seconds"))
        store.write_catalog(catalog)  # <- commit point
        self._collect_garbage(catalog)
        report.chunks_total = len(chunks)
        report.seconds = time.perf_counter() - started
        return report

    def _settings(self, old: Catalog, needs_model: bool) -> dict[str, Any]:
        if not needs_model and "dimension" in old.settings:  # removals only: no model to load
            return {**settings_for(self.config), "dimension": old.settings["dimension"]}
        return settings_for(self.config, self.embedder)

    def _mark_duplicates(
        self, records: dict[str, dict[str, Any]], fresh: dict[str, list[Chunk]], articles: dict[str, Article]
    ) -> None:
        """The same article (same title and cleaned text) under two names is indexed once.

        The name already indexed keeps the article; among new names the first in
        order wins. When the indexed name goes away, a duplicate takes over.
        """
        owner: dict[str, str] = {}

        def rank(source: str) -> tuple[bool, bool, str]:
            return ("duplicate_of" in records[source], source in fresh, source)

        for source in sorted(records, key=rank):
            rec = records[source]
            aid = rec["id"]
            if aid in owner and owner[aid] != source:
                records[source] = {**rec, "duplicate_of": owner[aid]}
                self.report.duplicates[source] = owner[aid]
                fresh.pop(source, None)
                articles.pop(source, None)
                continue
            if "duplicate_of" in rec:  # its original is gone or changed: index it for real
                try:
                    article = self._reload(source)
                    chunks = self._chunk(article)
                except SourceError as exc:
                    self.report.skipped.append(Problem(source, exc.reason))
                    del records[source]  # not indexed yet: the next run tries again
                    continue
                records[source] = _article_record(article)
                articles[source] = article
                fresh[source] = chunks
                self.report.added.append(source)
                aid = article.id
            owner.setdefault(aid, source)

    def _reload(self, source: str) -> Article:
        return load_article(source_path(Path(self.config.sources_dir), source), source, self._max_bytes)

    def _chunk(self, article: Article) -> list[Chunk]:
        e = self.embedder
        return chunk_article(article, e.token_count, self.config.chunk_tokens, self.config.chunk_overlap_sentences, e.max_tokens)

    def _write_texts(self, articles: list[Article]) -> None:
        texts = self.store.root / "texts"
        texts.mkdir(exist_ok=True)
        for article in articles:
            self._text_cache[article.id] = article.text
            target = texts / f"{article.id}.txt"
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                tmp.write_text(article.text, encoding="utf-8")
                os.replace(tmp, target)

    def _embed_and_store(self, chunks: list[Chunk], first_run: bool) -> None:
        if not chunks:
            return
        with _vector_store_errors(self.store.root):
            collection = self._collection(first_run)
            # Resume after an interrupted run (or a renamed file): vectors whose ids exist are reused,
            # their citation metadata refreshed when it changed (same text under a new name or date).
            by_id = {c.id: c for c in chunks}
            existing: dict[str, Any] = {}
            for got in get_in_slices(collection, list(by_id), ["metadatas"]):
                existing.update(zip(got["ids"], got["metadatas"] or [None] * len(got["ids"])))
            stale = [cid for cid, meta in existing.items() if meta != _chunk_metadata(by_id[cid])]
            for i in range(0, len(stale), IDS_PER_CALL):
                batch = stale[i : i + IDS_PER_CALL]
                collection.update(ids=batch, metadatas=[_chunk_metadata(by_id[cid]) for cid in batch])
            todo = [c for c in chunks if c.id not in existing]
            total = len(todo)
            self.report.chunks_embedded = total
            t0 = time.perf_counter()
            for i in range(0, total, EMBED_BATCH):
                self._add_batch(collection, todo[i : i + EMBED_BATCH])
                if self.progress:
                    self.progress(min(i + EMBED_BATCH, total), total, "embedding chunks")
            self.report.embed_seconds = time.perf_counter() - t0

    def _collection(self, first_run: bool) -> Any:
        """The chunk collection, checked to hold vectors of the configured model."""
        collection = self.store.collection()
        built_with = (collection.metadata or {}).get("embedding_model")
        model = canonical_name(self.config.embedding_model)
        if built_with in (None, model):
            return collection
        if first_run:  # leftovers of an interrupted first run with another model: not committed, drop them
            self.store._client().delete_collection(COLLECTION)
            path = self.store._chroma_path()
            _CHROMA_EPOCH[path] = _CHROMA_EPOCH.get(path, 0) + 1
            return self.store.collection()
        raise IndexCorruptError(
            f"the vector store in {self.store.root / 'chroma'} holds vectors of {built_with!r}, the catalog says "
            f"{model!r}; {rebuild_hint(self.store.root)}"
        )

    def _add_batch(self, collection: Any, batch: list[Chunk]) -> None:
        # Straight to the collection rather than Chroma.add_texts: the vector is of
        # title + chunk while the stored document is the chunk alone (offsets stay exact).
        vectors = self.embedder.passage_vectors([embedding_text(c.title, c.text) for c in batch])
        collection.upsert(
            ids=[c.id for c in batch],
            embeddings=vectors,
            documents=[c.text for c in batch],
            metadatas=[_chunk_metadata(c) for c in batch],
        )

    def _write_lexical(self, chunks: dict[str, dict[str, Any]]) -> str:
        root = self.store.root
        generation = 1 + max([int(p.name.split("-")[1]) for p in root.glob("lexical-*") if _is_lexical_name(p.name)] or [0])
        name = f"lexical-{generation:06d}"
        items = []
        for cid, rec in chunks.items():
            text = self._chunk_text(rec)
            items.append((cid, rec["lang"], f"{rec['title']}\n{text}"))
        LexicalIndex.build(items).save(root / name)
        return name

    def _chunk_text(self, rec: dict[str, Any]) -> str:
        aid = rec["article_id"]
        if aid not in self._text_cache:
            self._text_cache[aid] = self.store.article_text(aid)
        return self._text_cache[aid][rec["start"] : rec["end"]]

    def _collect_garbage(self, catalog: Catalog) -> None:
        """After the commit: drop what the new catalog no longer lists (best effort)."""
        root = self.store.root
        for path in root.glob("lexical-*"):
            if path.name != catalog.lexical_dir and _is_lexical_name(path.name):
                shutil.rmtree(path, ignore_errors=True)
        live_articles = {rec["id"] for rec in catalog.articles.values()}
        sentence_vectors.collect_garbage(root, live_articles)
        for path in (root / "texts").glob("*"):
            if path.stem not in live_articles or path.suffix != ".txt":
                path.unlink(missing_ok=True)
        if (root / "chroma").exists():
            try:
                collection = self.store.collection()
                stale = [cid for cid in all_ids(collection) if cid not in catalog.chunks]
                for i in range(0, len(stale), IDS_PER_CALL):
                    collection.delete(ids=stale[i : i + IDS_PER_CALL])
            except Exception:  # readers ignore vectors the catalog does not list; the next run retries
                pass


def get_in_slices(collection: Any, ids: list[str], include: list[str]) -> Iterator[dict[str, Any]]:
    """``collection.get`` over any number of ids, ``IDS_PER_CALL`` at a time."""
    for i in range(0, len(ids), IDS_PER_CALL):
        yield collection.get(ids=ids[i : i + IDS_PER_CALL], include=include)


def all_ids(collection: Any) -> list[str]:
    """Every id of a collection, read in pages (one unbounded read would hit the same limits)."""
    ids: list[str] = []
    while True:
        page = collection.get(include=[], limit=IDS_PER_CALL, offset=len(ids))["ids"]
        ids.extend(page)
        if len(page) < IDS_PER_CALL:
            return ids


@contextmanager
def _vector_store_errors(root: Path) -> Iterator[None]:
    """Turn Chroma's many exception kinds into one clear IndexCorruptError."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as exc:
        raise IndexCorruptError(
            f"cannot write the vector store in {root / 'chroma'} ({exc.__class__.__name__}: {exc}); {rebuild_hint(root)}"
        ) from None


def _file_hash(path: Path, source: str, max_bytes: int) -> str:
    """Hash of the raw bytes (what ``Article.content_hash`` holds), after the size check."""
    return content_hash(read_source(path, source, max_bytes))


def _article_record(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "content_hash": article.content_hash,
        "title": article.title,
        "date": article.date,
        "lang": article.lang,
        "chars": len(article.text),
    }


def _keeps(chunk: dict[str, Any], articles: dict[str, dict[str, Any]]) -> bool:
    rec = articles.get(chunk["source"])
    return rec is not None and rec["id"] == chunk["article_id"] and "duplicate_of" not in rec


def _chunk_record(c: Chunk) -> dict[str, Any]:
    return {
        "article_id": c.article_id,
        "source": c.source,
        "title": c.title,
        "date": c.date,
        "lang": c.lang,
        "start": c.start,
        "end": c.end,
        "index": c.index,
    }


def _chunk_metadata(c: Chunk) -> dict[str, Any]:
    meta = {**_chunk_record(c), "date": c.date or ""}
    return meta
