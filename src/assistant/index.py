"""The index of record, as the CLI, the API and the tests see it: one archive in a Chroma store.

Everything a reader needs lives in Chroma (see :mod:`assistant.store.chroma`); the
``--index`` folder holds the embedded store (``chroma/``, unless ``--chroma-url``
names a server), local caches rebuilt from Chroma (``cache/``) and the writer's
``.lock``. An index written by the previous version (``catalog.json`` beside
Chroma) is upgraded by the next `assistant index`, reusing its vectors.
"""

from __future__ import annotations

import shutil
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Config
from .errors import AssistantError, ConfigError, IndexCorruptError, IndexLockedError
from .models import ArticleInfo, IndexReport, IndexStatus
from .store import ArticleRecord, ChromaStore, Generation, open_store
from .store.change_log import every_head
from .store.folder import check_folder, foreign_entries
from .store.heads_cache import HeadsCache
from .store.statistics import refresh_statistics
from .store.legacy import LEGACY_CATALOG, LegacyIndex
from .store.updater import CHUNKER_VERSION, EMBED_BATCH, Progress, Updater, check_settings, settings_for

__all__ = ["CATALOG", "CHUNKER_VERSION", "EMBED_BATCH", "Catalog", "IndexStore", "Progress", "settings_for"]

CATALOG = LEGACY_CATALOG
# A run that added, changed or removed at least this many articles brings this machine's lexical
# cache in step itself. Otherwise the next question did it: tokenising every new chunk read back
# from Chroma, 36 s instead of 3 s for the first `ask` after indexing 20,000 articles (stand-in
# embedder, 2 cores). Below it the readers catch up in O(change) (``sync_lexical_changes``), which a
# writer's own write to the cache would turn into one comparison of every article id.
BULK_ARTICLES = 200


@dataclass
class Catalog:
    """A whole-archive listing (status, tests, `articles`); readers never build one."""

    settings: dict[str, Any]
    articles: dict[str, dict[str, Any]]  # source -> record (duplicates carry "duplicate_of")
    chunks: dict[str, dict[str, Any]]  # chunk id -> citation record
    last_indexed: str | None


def _article_dict(h: ArticleRecord) -> dict[str, Any]:
    d = {"id": h.article_id, "content_hash": h.content_hash, "title": h.title, "date": h.date, "lang": h.lang, "chars": h.chars}
    return {**d, "duplicate_of": h.duplicate_of} if h.duplicate_of else d


class IndexStore:
    """Read and update one archive (an ``--index`` folder, and a Chroma server when configured)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = Path(config.index_dir)
        self.store: ChromaStore = open_store(config)
        self.heads_cache = HeadsCache(config.index_dir, config.collection, keep=True)  # the writer's, kept across runs

    # --- reading ------------------------------------------------------------

    def exists(self) -> bool:
        return self._generation() is not None

    def _generation(self) -> Generation | None:
        if not check_folder(self.config, reading=False):
            return None  # no store yet: do not create one by reading
        return self.store.generation()

    def generation(self, check_model: bool = True) -> Generation | None:
        if not check_folder(self.config, reading=True):
            return None
        generation = self.store.generation()
        if generation is not None and check_model:
            check_settings(generation.settings, self.config, self.store.location, for_writing=False)
        return generation

    def load_catalog(self, for_writing: bool = False, check_model: bool = True) -> Catalog:
        generation = self.generation(check_model=check_model)
        if generation is not None and for_writing:
            check_settings(generation.settings, self.config, self.store.location, for_writing=True)
        heads = self.store.heads() if generation is not None or self.store_exists() else []
        by_id = {h.article_id: h for h in heads if h.live()}
        chunks = {
            c.record.chunk_id: {**c.record.to_metadata(), "date": c.record.date}
            for c in (self.store.iter_chunks() if by_id else [])
            if c.record.article_id in by_id
        }
        settings = (generation.settings if generation else settings_for(self.config)).as_dict()
        return Catalog(settings, {h.source: _article_dict(h) for h in heads}, chunks, generation.last_indexed if generation else None)

    def heads(self) -> list[ArticleRecord]:
        """Every file the index knows (duplicates included), as committed or being committed."""
        return self.store.heads() if check_folder(self.config, reading=True) else []

    def store_exists(self) -> bool:
        return bool(self.config.chroma_url) or (self.root / "chroma").is_dir()

    def article_text(self, article_id: str) -> str:
        head = next((h for h in self.store.heads() if h.article_id == article_id), None)
        text = self.store.article_text(article_id, head.text_parts) if head else None
        if text is None:
            raise IndexCorruptError(f"the text of article {article_id} is missing; run `assistant index --index {self.root}` to repair it")
        return text

    def collection(self) -> Any:
        """The Chroma collection of the chunk vectors (public API object)."""
        return self.store._call(lambda: self.store._col("chunks"))

    def status(self) -> IndexStatus:
        """What the index holds, after checking that every article's records are there."""
        generation = self.generation(check_model=False)  # status describes the index as built
        heads = self._heads_of(generation) if generation is not None else []
        live = [h for h in heads if h.live()]
        if live:
            self._check(live)
        languages: dict[str, int] = {}
        for h in live:
            languages[h.lang] = languages.get(h.lang, 0) + 1
        size = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file()) if self.root.is_dir() else 0
        settings = generation.settings if generation else settings_for(self.config)
        return IndexStatus(
            index_dir=self.store.location if self.config.chroma_url else str(self.root),
            articles=len(live),
            chunks=sum(h.chunks for h in live),
            embedding_model=settings.embedding_model if generation else "",
            dimension=settings.dimension,
            languages=languages,
            last_indexed=generation.last_indexed if generation else None,
            size_bytes=size,
            chunking={"chunk_tokens": settings.chunk_tokens, "chunk_overlap_sentences": settings.chunk_overlap_sentences, "chunker": settings.chunker},
        )

    def _lexical_in_step(self) -> None:
        """This machine's lexical cache, brought in step with the store after a bulk run. Only a cache:
        when it is busy or damaged, the next reader does the same work, as it did before."""
        from .store.lexical_cache import open_lexical, sync_lexical  # tantivy: only for bulk runs

        generation = self.store.generation()
        if generation is None:
            return
        live = {h.article_id for h in self._heads_of(generation) if h.live()}
        try:
            with closing(open_lexical(self.root, self.config.collection)) as lexical:
                sync_lexical(lexical, self.store, live)
        except (AssistantError, OSError):
            pass  # the index itself is written; the next reader catches the cache up

    def _heads_of(self, generation: Generation) -> list[ArticleRecord]:
        """This machine's copy of the heads when it is of ``generation``: listing them from Chroma
        takes a minute at 100,000 articles, and `serve` asks for the status at every start."""
        copy = HeadsCache(self.config.index_dir, self.config.collection)
        cached = copy.load(generation)
        return cached if cached is not None else every_head(self.store, copy, generation)

    def _check(self, live: list[ArticleRecord]) -> None:
        """Every live article's records are there. Each collection is counted first (one call each):
        when the counts are what the heads add up to, nothing is missing, unless records that no
        head names (what a killed run leaves) make up for as many lost ones. Only a count that
        differs pays the scan that names the articles: every record listed, minutes at 430k chunks."""
        expected = {
            "chunks": sum(h.chunks for h in live), "texts": sum(h.text_parts for h in live),
            "sentences": sum(h.sentence_records for h in live),
        }
        counts = self.store.counts(tuple(expected))  # not the heads: counting loads a collection (0.15 s at 100k)
        if all(counts[kind] == total for kind, total in expected.items()):
            return
        have = {kind: self.store.article_ids_with(kind) for kind in ("chunks", "texts", "sentences")}
        need = {"chunks": lambda h: h.chunks, "texts": lambda h: h.text_parts, "sentences": lambda h: h.sentence_records}
        damaged = [
            (h.source, kind) for h in live for kind in need if have[kind].get(h.article_id, 0) < need[kind](h)
        ]
        if damaged:
            shown = ", ".join(f"{s} ({k})" for s, k in damaged[:3]) + (", ..." if len(damaged) > 3 else "")
            raise IndexCorruptError(
                f"{len(damaged)} record set(s) are missing from {self.store.location}: {shown}; run "
                f"`assistant index --index {self.root}` to repair (only what is lost is re-embedded)"
            )

    def articles(self) -> list[ArticleInfo]:
        generation = self.generation()
        if generation is not None:
            heads = self._heads_of(generation)
        else:  # no marker: a store being built, or none at all
            heads = self.store.heads() if self.store_exists() else []
        return [
            ArticleInfo(h.source, h.title, h.date, h.lang, h.chunks)
            for h in sorted(heads, key=lambda h: h.source)
            if h.live()
        ]

    # --- writing ------------------------------------------------------------

    def update(self, rebuild: bool = False, progress: Progress | None = None, repair: bool = False,
               files: list[str] | None = None) -> IndexReport:
        """Bring the index in line with the sources folder (incremental).

        ``files``: the source names that changed (file events); only they are checked, unless
        only a whole scan can tell (see :meth:`Updater.run_files`), which then runs instead.
        """
        from filelock import FileLock, Timeout

        check_folder(self.config, reading=False, rebuilding=rebuild)  # before the lock: `--index /etc` writes no /etc/.lock
        wait_s = self.config.lock_wait_s
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.root / ".lock"))
            lock.acquire(timeout=wait_s)
        except Timeout:
            raise IndexLockedError(
                f"another `assistant index` is writing {self.root} (waited {wait_s:g}s); let it finish, then run again"
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot create or lock the index folder {self.root} ({exc.strerror}); pass --index DIR with a writable folder") from None
        try:
            if rebuild:
                self._wipe()
            self.store.tune()
            legacy = LegacyIndex(self.root)
            reuse = legacy.vectors(self.store) if legacy.present() and self.store.generation() is None else None
            updater = Updater(self.store, self.config, progress, reuse, self.heads_cache)
            report = updater.run_files(files) if files and not (rebuild or repair or reuse or legacy.present()) else None
            if report is None:
                updater.report = IndexReport()  # run_files wrote nothing; its model stays loaded
                report = updater.run(force_check=repair)
            if legacy.present():
                legacy.remove(self.store)
            if not self.config.chroma_url:
                refresh_statistics(Path(self.store.client.location) / "chroma.sqlite3", self.root / "cache", report.chunks_total)
            if len(report.added) + len(report.updated) + len(report.removed) >= BULK_ARTICLES:
                self._lexical_in_step()
            return report
        finally:
            lock.release()

    def foreign_entries(self) -> list[str]:
        return foreign_entries(self.root)

    def _wipe(self) -> None:
        """Delete the archive's records and caches (never files that an index does not write)."""
        try:
            self.store.drop()
        except IndexCorruptError:
            if self.config.chroma_url:
                raise
            self.store.client.forget()  # a damaged embedded store: its files go
            shutil.rmtree(self.root / "chroma", ignore_errors=True)
        shutil.rmtree(self.root / "cache", ignore_errors=True)
        LegacyIndex(self.root).remove(None)
