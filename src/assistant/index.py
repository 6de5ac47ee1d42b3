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
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .chunking import chunk_article, embedding_text
from .config import Config
from .documents import list_sources, load_article
from .embeddings import TokenAwareEmbeddings, canonical_name, load_embeddings
from .errors import (
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    SourceError,
    rebuild_hint,
)
from .lexical import LexicalIndex
from .models import Article, ArticleInfo, Chunk, IndexReport, IndexStatus, Problem

CATALOG = "catalog.json"
FORMAT_VERSION = 1
COLLECTION = "chunks"
EMBED_BATCH = 32  # texts per embedding call; Chroma writes are batched separately
LOCK_WAIT_S = 30.0

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


def settings_for(config: Config, embedder: TokenAwareEmbeddings | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "embedding_model": canonical_name(config.embedding_model),
        "chunk_tokens": config.chunk_tokens,
        "chunk_overlap_sentences": config.chunk_overlap_sentences,
    }
    if embedder is not None:
        settings["dimension"] = embedder.dimension
    return settings


class IndexStore:
    """Read and update one index directory."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = Path(config.index_dir)
        self._chroma: Any = None

    # --- reading ------------------------------------------------------------

    def exists(self) -> bool:
        return (self.root / CATALOG).is_file()

    def load_catalog(self) -> Catalog:
        path = self.root / CATALOG
        if not path.is_file():
            self._refuse_foreign()
            return Catalog.empty(settings_for(self.config))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format_version") != FORMAT_VERSION:
                raise ValueError("format version")
            catalog = Catalog(
                data["settings"], data["articles"], data["chunks"], data.get("lexical_dir"), data.get("last_indexed")
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise IndexCorruptError(f"{path} is damaged or from another version; {rebuild_hint(self.root)}") from None
        self._check_settings(catalog)
        return catalog

    def _refuse_foreign(self) -> None:
        if self.root.is_dir() and any(p.name not in (".lock", ".gitkeep") for p in self.root.iterdir()):
            raise IndexCorruptError(
                f"{self.root} is not empty but holds no {CATALOG}: it is not an assistant index "
                f"(or a damaged one); point --index to an empty folder, or {rebuild_hint(self.root)}"
            )

    def _check_settings(self, catalog: Catalog) -> None:
        wanted = settings_for(self.config)
        have = catalog.settings
        for key in ("embedding_model", "chunk_tokens", "chunk_overlap_sentences"):
            if have.get(key) != wanted[key]:
                raise IndexMismatchError(
                    f"{self.root} was built with {key}={have.get(key)!r} but {wanted[key]!r} is configured; "
                    f"use the same setting, or {rebuild_hint(self.root)} (re-embeds every article)"
                )

    def article_text(self, article_id: str) -> str:
        return (self.root / "texts" / f"{article_id}.txt").read_text(encoding="utf-8")

    def load_lexical(self, catalog: Catalog) -> LexicalIndex:
        if not catalog.lexical_dir:
            return LexicalIndex([])
        try:
            return LexicalIndex.load(self.root / catalog.lexical_dir)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"lexical index in {self.root} is damaged ({exc}); {rebuild_hint(self.root)}") from None

    def vectorstore(self, embedder: TokenAwareEmbeddings) -> Any:
        """The langchain-chroma store over ``chroma/`` (opened once)."""
        if self._chroma is None:
            try:
                import chromadb
                from chromadb.config import Settings
                from langchain_chroma import Chroma

                client = chromadb.PersistentClient(
                    path=str(self.root / "chroma"), settings=Settings(anonymized_telemetry=False)
                )
                self._chroma = Chroma(
                    collection_name=COLLECTION,
                    embedding_function=embedder,  # type: ignore[arg-type]
                    client=client,
                    collection_metadata={"hnsw:space": "cosine", "embedding_model": embedder.name},
                )
            except Exception as exc:  # chromadb raises many kinds on a damaged store
                raise IndexCorruptError(
                    f"cannot open the vector store in {self.root / 'chroma'} ({exc.__class__.__name__}: {exc}); "
                    f"{rebuild_hint(self.root)}"
                ) from None
        return self._chroma

    def status(self) -> IndexStatus:
        catalog = self.load_catalog()
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
            chunking={k: catalog.settings.get(k) for k in ("chunk_tokens", "chunk_overlap_sentences")},
        )

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

        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / ".lock"))
        try:
            lock.acquire(timeout=LOCK_WAIT_S)
        except Timeout:
            raise IndexLockedError(
                f"another `assistant index` is writing {self.root} (waited {LOCK_WAIT_S:.0f}s); "
                "let it finish, then run again"
            ) from None
        try:
            if rebuild:
                self._wipe()
            return _Updater(self, progress).run()
        finally:
            lock.release()

    def _wipe(self) -> None:
        self._chroma = None
        for child in self.root.iterdir():
            if child.name in (".lock", ".gitkeep"):
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()

    def write_catalog(self, catalog: Catalog) -> None:
        tmp = self.root / f"{CATALOG}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(catalog.to_json(), fh, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / CATALOG)


class _Updater:
    """One incremental indexing run (the caller holds the lock)."""

    def __init__(self, store: IndexStore, progress: Progress | None) -> None:
        self.store = store
        self.config = store.config
        self.progress = progress
        self.report = IndexReport()
        self._embedder: TokenAwareEmbeddings | None = None
        self._text_cache: dict[str, str] = {}

    @property
    def embedder(self) -> TokenAwareEmbeddings:
        if self._embedder is None:  # loading a model costs time: only when something changed
            self._embedder = load_embeddings(self.config.embedding_model)
        return self._embedder

    def run(self) -> IndexReport:
        started = time.perf_counter()
        store, report = self.store, self.report
        old = store.load_catalog()
        sources_dir = Path(self.config.sources_dir)
        files = {str(p.relative_to(sources_dir)): p for p in list_sources(sources_dir)}
        max_bytes = int(self.config.max_file_mb * 1_000_000)

        new_articles: dict[str, dict[str, Any]] = {}
        fresh: list[Article] = []  # articles to (re-)chunk and embed
        for source, path in files.items():
            record = old.articles.get(source)
            try:
                raw_hash = _file_hash(path, max_bytes)
            except SourceError as exc:
                report.skipped.append(Problem(source, exc.reason))
                if record:  # keep what was indexed: a transient read error must not delete it
                    new_articles[source] = record
                continue
            if record and record["content_hash"] == raw_hash:
                new_articles[source] = record
                if "duplicate_of" not in record:
                    report.unchanged.append(source)
                continue
            try:
                article = load_article(path, source, max_bytes)
            except SourceError as exc:
                report.skipped.append(Problem(source, exc.reason))
                if record:
                    new_articles[source] = record
                continue
            (report.updated if record else report.added).append(source)
            new_articles[source] = _article_record(article)
            fresh.append(article)
        report.removed = sorted(s for s in old.articles if s not in new_articles and "duplicate_of" not in old.articles[s])

        self._mark_duplicates(new_articles, fresh)
        fresh = [a for a in fresh if "duplicate_of" not in new_articles[a.source]]
        report.added = [s for s in report.added if "duplicate_of" not in new_articles[s]]
        report.updated = [s for s in report.updated if "duplicate_of" not in new_articles[s]]

        changed = bool(fresh) or set(new_articles) != set(old.articles) or any(
            new_articles[s] != old.articles.get(s) for s in new_articles
        )
        if not changed and old.last_indexed:
            report.chunks_total = len(old.chunks)
            report.seconds = time.perf_counter() - started
            return report

        settings = settings_for(self.config, self.embedder)
        chunks = {cid: rec for cid, rec in old.chunks.items() if _keeps(rec, new_articles)}
        new_chunks = [c for a in fresh for c in self._chunk(a)]
        self._write_texts(fresh)
        self._embed_and_store(new_chunks)
        chunks.update({c.id: _chunk_record(c) for c in new_chunks})

        lexical_dir = self._write_lexical(chunks, new_articles, old.lexical_dir)
        catalog = Catalog(settings, new_articles, chunks, lexical_dir,
                          datetime.now(timezone.utc).isoformat(timespec="seconds"))
        store.write_catalog(catalog)  # <- commit point
        self._collect_garbage(catalog)
        report.chunks_total = len(chunks)
        report.seconds = time.perf_counter() - started
        return report

    def _mark_duplicates(self, articles: dict[str, dict[str, Any]], fresh: list[Article]) -> None:
        """The same cleaned text under two names is indexed once (the first name wins)."""
        owner: dict[str, str] = {}
        for source in sorted(articles, key=lambda s: ("duplicate_of" in articles[s], s)):
            rec = articles[source]
            aid = rec["id"]
            if aid in owner and owner[aid] != source:
                articles[source] = {**rec, "duplicate_of": owner[aid]}
                self.report.duplicates[source] = owner[aid]
            else:
                owner.setdefault(aid, source)
                if "duplicate_of" in rec:  # its original is gone: index it for real
                    articles[source] = {k: v for k, v in rec.items() if k != "duplicate_of"}
                    fresh.append(self._reload(source))
                    self.report.added.append(source)

    def _reload(self, source: str) -> Article:
        path = Path(self.config.sources_dir) / source
        return load_article(path, source, int(self.config.max_file_mb * 1_000_000))

    def _chunk(self, article: Article) -> list[Chunk]:
        e = self.embedder
        return chunk_article(article, e.token_count, self.config.chunk_tokens, self.config.chunk_overlap_sentences, e.max_tokens)

    def _write_texts(self, articles: list[Article]) -> None:
        texts = self.store.root / "texts"
        texts.mkdir(exist_ok=True)
        for article in articles:
            target = texts / f"{article.id}.txt"
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                tmp.write_text(article.text, encoding="utf-8")
                os.replace(tmp, target)

    def _embed_and_store(self, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        vs = self.store.vectorstore(self.embedder)
        collection = vs._collection
        # Resume after an interrupted run: vectors whose ids already exist are reused.
        existing: set[str] = set()
        ids = [c.id for c in chunks]
        for i in range(0, len(ids), 500):
            existing.update(collection.get(ids=ids[i : i + 500], include=[])["ids"])
        todo = [c for c in chunks if c.id not in existing]
        total = len(todo)
        self.report.chunks_embedded = total
        t0 = time.perf_counter()
        for i in range(0, total, EMBED_BATCH):
            batch = todo[i : i + EMBED_BATCH]
            self._add_batch(collection, batch)
            if self.progress:
                self.progress(min(i + EMBED_BATCH, total), total, "embedding chunks")
        self.report.embed_seconds = time.perf_counter() - t0

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

    def _write_lexical(self, chunks: dict[str, dict[str, Any]], articles: dict[str, dict[str, Any]], old_dir: str | None) -> str:
        root = self.store.root
        generation = 1 + max([int(p.name.split("-")[1]) for p in root.glob("lexical-*") if p.name.split("-")[1].isdigit()] or [0])
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
        root = self.store.root
        for path in root.glob("lexical-*"):
            if path.name != catalog.lexical_dir:
                shutil.rmtree(path, ignore_errors=True)
        live_articles = {rec["id"] for rec in catalog.articles.values()}
        for path in (root / "texts").glob("*"):
            if path.stem not in live_articles or path.suffix != ".txt":
                path.unlink(missing_ok=True)
        if (root / "chroma").exists():
            collection = self.store.vectorstore(self.embedder)._collection
            stale = [cid for cid in collection.get(include=[])["ids"] if cid not in catalog.chunks]
            for i in range(0, len(stale), 1000):
                collection.delete(ids=stale[i : i + 1000])


def _file_hash(path: Path, max_bytes: int) -> str:
    import hashlib

    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                path.name, f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit; split it or raise --max-file-mb"
            )
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except FileNotFoundError:
        raise SourceError(path.name, "file disappeared while indexing; it will be picked up next run") from None
    except OSError as exc:
        raise SourceError(path.name, f"cannot read file ({exc.strerror}); check its permissions") from None


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
