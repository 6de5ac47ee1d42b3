"""One indexing run: bring the store in line with the sources folder, changing only what changed.

Commit protocol (no whole-index file):

1. an article's content goes first: its text parts, chunk vectors, sentence vectors,
   all under content-hash ids, so writing them twice is harmless;
2. then its head (``ArticleRecord``), which is what makes it visible to readers:
   a reader sees the old version of an article or the new one, never half of one;
3. heads of removed files are deleted, and the generation marker is written last;
4. after the marker, the content no head names any more is deleted.

A run killed anywhere leaves a usable index; the next run finds the content it
already wrote (by id) and embeds only what is missing. The same check repairs an
index that lost records: a head whose content is incomplete is rewritten.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime, timezone
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Protocol

import numpy as np

from ..chunking import _units as sentence_units
from ..chunking import chunk_article, embedding_text
from ..config import Config
from ..documents import SourceWalk, article_file, content_hash, load_article, read_source, source_path
from ..embeddings import TokenAwareEmbeddings, canonical_name, load_model
from ..errors import IndexMismatchError, SourceError
from ..models import Article, Chunk, IndexReport, Problem
from ..text import unreadable_note
from .change_log import heads_and_replaced, next_log
from .chroma import ChromaStore
from .collector import collector_paused
from .heads_cache import HeadsCache
from .protocol import ArticleSentences
from .sentence_packs import pack_count
from .upkeep import counts_in_background, damaged_articles, repack_sentences
from .records import MAX_RECORDS_PER_CALL, ArticleRecord, ChunkRecord, FileStat, Generation, StoreSettings

CHUNKER_VERSION = "paragraph-sentences-2"
EMBED_BATCH = 32  # texts per embedding call
MAX_SENTENCE_TOKENS = 200  # sentences are cut (at word boundaries) so none is truncated by the model
Progress = Callable[[int, int, str], None]  # (done, total, what)


class VectorSource(Protocol):
    """Vectors already computed elsewhere (an index of the previous version), by content hash."""

    def chunk_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]: ...
    def sentences(self, article_id: str) -> ArticleSentences | None: ...


def settings_for(config: Config, dimension: int = 0) -> StoreSettings:
    # "chunker" is bumped whenever chunk boundaries or stored vectors change meaning.
    return StoreSettings(
        canonical_name(config.embedding_model), dimension, config.chunk_tokens, config.chunk_overlap_sentences, CHUNKER_VERSION
    )


def check_settings(have: StoreSettings, config: Config, where: str, for_writing: bool) -> None:
    """Readers need the same model; a writer also needs the same chunking, or old and new chunks would not match."""
    wanted = settings_for(config, have.dimension)
    keys = ("embedding_model", "chunk_tokens", "chunk_overlap_sentences", "chunker") if for_writing else ("embedding_model",)
    for key in keys:
        old, new = getattr(have, key), getattr(wanted, key)
        if old != new:
            use = f"--embedding-model {old}" if key == "embedding_model" else "the same setting"
            raise IndexMismatchError(
                f"{where} was built with {key}={old!r} but {new!r} is configured; use {use}, or rebuild it with: "
                f"assistant index --rebuild --index {config.index_dir} (re-embeds every article)"
            )


def file_stat(path: str | Path) -> FileStat | None:
    """The file's stat now, or None when it is gone or unreadable.

    Taken when the file is checked, not from the listing: a file that vanished since
    the folder was listed is then reported as such instead of passing as unchanged.
    """
    try:
        return FileStat.of(os.stat(path))
    except OSError:
        return None


class Updater:
    """One incremental run over ``store`` (the caller holds the writer's lock)."""

    def __init__(self, store: ChromaStore, config: Config, progress: Progress | None = None,
                 reuse: VectorSource | None = None, heads_cache: HeadsCache | None = None) -> None:
        self.store, self.config, self.progress, self.reuse = store, config, progress, reuse
        self.report = IndexReport()
        self._embedder: TokenAwareEmbeddings | None = None
        self._max_bytes = int(config.max_file_mb * 1_000_000)
        self._pending_chunks: list[tuple[ChunkRecord, str, np.ndarray]] = []
        self._pending_heads: list[ArticleRecord] = []
        # Several articles' texts and sentences go in one call: a Chroma call costs more than its records.
        # A flush comes every ~300 embedded vectors, so that a killed run loses little embedding work.
        self._pending_texts: list[tuple[str, str]] = []
        self._pending_sentences: list[tuple[str, ArticleSentences]] = []
        self.heads_cache = heads_cache or HeadsCache(config.index_dir, config.collection)
        self._number = 1  # the generation this run commits, if it changes anything (set by each run)
        self._replaced: set[str] = set()  # articles a killed run's changes may have left without a head

    @property
    def embedder(self) -> TokenAwareEmbeddings:
        if self._embedder is None:  # loading a model costs time: only when something changed
            self._embedder = load_model(self.config.embedding_model, self.config.embedding_base_url)
        return self._embedder

    def run(self, force_check: bool = False) -> IndexReport:
        started = time.perf_counter()
        store, report = self.store, self.report
        old_gen = store.generation()
        if old_gen is not None:
            check_settings(old_gen.settings, self.config, store.location, for_writing=True)
        # Counted while the heads are read and the folder is listed and stat'ed (an index written
        # before packs is repacked first, which changes the counts: then counted after it).
        counted = counts_in_background(store) if old_gen is not None and not store.legacy_sentence_articles(limit=1) else None
        cached = self.heads_cache.load_by_source(old_gen)  # this machine's copy, when it is of the store's generation
        self._replaced = set()
        if cached is not None:
            old = cached
        else:  # a new machine, or the run after a killed one: what that run left is cleared below
            listed, self._replaced = heads_and_replaced(store, self.heads_cache, old_gen)
            old = {h.source: h for h in listed}
        self._number = (old_gen.number if old_gen else 0) + 1
        repacked = repack_sentences(store, self.heads_cache, old, self._number) if counted is None else False  # no re-embedding
        heads: dict[str, ArticleRecord] = {}
        fresh: dict[str, tuple[Article, list[Chunk]]] = {}
        moved: list[tuple[str, str, ArticleRecord | None, FileStat | None]] = []
        # Two objects per file, 100,000 files: young-generation collections would walk them (and a
        # serving process's every other object) again and again (≈0.4 s of a 1.2 s unchanged run).
        # Only the listing and the stat calls: files are read and chunked with the collector on.
        with collector_paused():
            walk = SourceWalk(Path(self.config.sources_dir))  # names made printable; links outside sources/ refused
            get_head = old.get
            for source, path, st in walk:  # once per file: no function call (each costs ≈0.05 s at 100,000)
                head = get_head(source)
                if st is None:  # a link to a file inside sources/: stat its target
                    try:
                        st = os.stat(path)
                    except OSError:
                        pass
                if (st is not None and head is not None and (known := head.stat) is not None and known.mtime_ns == st.st_mtime_ns
                        and known.size == st.st_size and known.inode == st.st_ino):
                    heads[source] = head  # not touched since it was indexed: nearly every file, every run
                else:
                    moved.append((source, path, head, None if st is None else FileStat.of(st)))
        report.skipped.extend(Problem(name, reason) for name, reason in walk.refused)
        for source, reason in walk.unreadable:  # an I/O error: what was indexed of it stays
            report.skipped.append(Problem(source, reason))
            if (head := old.get(source)) is not None:
                heads[source] = head
        if not walk.in_name_order:  # reports (added, updated, skipped) list names in order
            moved.sort(key=itemgetter(0))
        for source, path, head, stat_now in moved:
            self._check_file(source, path, head, stat_now, heads, fresh)
        checked = {source for source, *_ in moved}  # the only heads that may differ from ``old`` so far
        # Damaged articles (rare) are written again even when their file did not move.
        damaged = damaged_articles(store, old, force_check, report, counted)
        if damaged:
            skipped = {p.source for p in report.skipped}  # already read and refused: reported once
            for source in [s for s, h in heads.items() if h.article_id in damaged and s not in fresh and s not in skipped]:
                path = source_path(Path(self.config.sources_dir), source)
                self._check_file(source, path, old.get(source), heads[source].stat, heads, fresh, trust_head=False)
                checked.add(source)
        # Every head comes from ``old`` but the new names', so nothing is removed when the counts
        # agree: no set difference of 100,000 names on nearly every run.
        new_names = sum(1 for source, _, head, _ in moved if head is None and source in heads)
        removed = [] if len(heads) - new_names == len(old) else sorted(old.keys() - heads.keys())
        if self._mark_duplicates(heads, fresh):
            checked = None  # the duplicates pass may have changed any head
        all_live = not any(map(_DUPLICATE_OF, heads.values()))  # one C-speed pass: nearly always true
        report.unchanged = ([s for s in heads if s not in fresh] if fresh else list(heads)) if all_live else [
            s for s, h in heads.items() if h.duplicate_of is None and s not in fresh]
        if moved or walk.unreadable or not walk.in_name_order:  # else ``heads`` is in name order; nearly sorted: a pass
            report.unchanged.sort()
        settled = cached is not None and not repacked
        return self._apply(started, old_gen, old, heads, fresh, removed, settled, checked)

    def run_files(self, sources: list[str]) -> IndexReport | None:
        """Check only ``sources`` (names from file events), not the whole folder: a change costs what it changes.

        Returns None, having written nothing, when only a full run can tell what to do:
        no trusted copy of the heads, a name that is not a plain article file (a folder,
        a link), or a duplicate involved (the same article under another name).
        """
        started = time.perf_counter()
        store, report = self.store, self.report
        old_gen = store.generation()
        if old_gen is None or store.legacy_sentence_articles(limit=1):
            return None
        check_settings(old_gen.settings, self.config, store.location, for_writing=True)
        self._number = old_gen.number + 1
        self._replaced = set()
        old = self.heads_cache.heads_of(old_gen, sources)
        if old is None:
            return None
        heads: dict[str, ArticleRecord] = {}
        fresh: dict[str, tuple[Article, list[Chunk]]] = {}
        for source in sources:
            path = article_file(Path(self.config.sources_dir), source)
            if path is None:
                return None
            stat = file_stat(path)
            if stat is not None:  # None: gone
                self._check_file(source, path, old.get(source), stat, heads, fresh)
        ids = sorted({h.article_id for h in old.values()} | {h.article_id for h in heads.values()})
        if (any(not h.live() for h in old.values()) or len({h.article_id for h in heads.values()}) < len(heads)
                or self.heads_cache.others_sharing(old_gen, ids, sources) is not False):
            return None  # duplicates: which name holds the article is decided over every name
        removed = sorted(s for s in old if s not in heads)
        report.files_checked = len(sources)
        return self._apply(started, old_gen, old, heads, fresh, removed, settled=True)

    def _check_file(self, source: str, path: str | Path, head: ArticleRecord | None, stat: FileStat | None,
                    heads: dict[str, ArticleRecord], fresh: dict[str, tuple[Article, list[Chunk]]],
                    trust_head: bool = True) -> None:
        """One file against its head: unchanged (same stat, or same bytes), new or edited (loaded
        and chunked into ``fresh``), or skipped with the reason. ``trust_head``: False when the
        article's records are damaged, so that it is written again."""
        try:
            if head and trust_head:
                if stat is not None and head.stat == stat:
                    heads[source] = head
                    return
                if head.content_hash == _file_hash(Path(path), source, self._max_bytes):
                    heads[source] = head.with_(stat=stat)
                    return
            article = load_article(Path(path), source, self._max_bytes)
            fresh[source] = (article, self._chunk(article))
        except SourceError as exc:
            self.report.skipped.append(Problem(source, exc.reason))
            if head:  # keep what was indexed: a bad edit or a read error must not delete it
                heads[source] = head
            return
        (self.report.updated if head else self.report.added).append(source)
        heads[source] = ArticleRecord.of(article, len(fresh[source][1]), 0, stat)

    def _apply(self, started: float, old_gen: Generation | None, old: dict[str, ArticleRecord], heads: dict[str, ArticleRecord],
               fresh: dict[str, tuple[Article, list[Chunk]]], removed: list[str], settled: bool,
               checked: set[str] | None = None) -> IndexReport:
        """Write the run's plan: new content, then heads, then the marker, then what no head names.

        ``checked``: the names whose head may differ from ``old`` (None: any), so that a run over
        100,000 files compares the few it looked at again, not every head.
        """
        store, report = self.store, self.report
        report.removed = [s for s in removed if old[s].live()]
        report.added = [s for s in report.added if s in fresh]
        report.updated = [s for s in report.updated if s in fresh and s not in report.repaired]
        report.warnings = [Problem(s, note) for s, (article, _) in fresh.items() if (note := unreadable_note(article.text))]

        maybe_changed = heads.items() if checked is None else [(s, heads[s]) for s in sorted(checked) if s in heads]
        changed_heads = [h for s, h in maybe_changed if old.get(s) is not h and s not in fresh and old.get(s) != h]
        restated = [h for h in changed_heads if h.source in old and old[h.source].with_(stat=h.stat) == h]
        # Nothing to write, unless the copy of the heads is not trusted: a killed run may have
        # committed articles without its marker, which readers only notice at a new generation.
        if not fresh and not removed and len(restated) == len(changed_heads) and old_gen is not None and settled:
            if restated:  # only `stat` moved (a copy, a touch): no new generation for readers
                self.heads_cache.untrust()
                store.put_heads(restated, self._number)
                self._cache_heads(old_gen, old_gen, True, heads, restated, [])
            return self._done(started, old_gen, heads)

        dimension = self.embedder.dimension if fresh or old_gen is None else old_gen.settings.dimension
        number = self._number
        self.heads_cache.untrust()  # before the first head is written: a killed run leaves no stale copy
        for source, (article, chunks) in fresh.items():
            heads[source] = self._write_article(article, chunks, heads[source])
        self._flush()
        store.put_heads(changed_heads, number)  # renamed duplicates, new stats
        store.delete_heads([old[s] for s in removed], number)
        log_id, log_from = next_log(old_gen, number)
        generation = Generation(number, settings_for(self.config, dimension), datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                log_id=log_id, log_from=log_from)
        store.commit(generation)
        if old_gen is not None and log_from > old_gen.log_from and old_gen.log_id == log_id:
            store.forget_removals(log_from)  # after the commit: readers of the old marker may still need them
        put = changed_heads + [heads[s] for s in fresh if _differs(old.get(s), heads[s])]
        self._cache_heads(generation, old_gen, settled, heads, put, removed)
        # After the commit: content that no head names any more. Only an article that a removed or
        # changed name held can be gone; nearly every run has none to look for among 100,000 heads.
        was = {old[s].article_id for s in removed} | {old[h.source].article_id for h in put if h.source in old} | self._replaced
        gone = sorted(was - {h.article_id for h in heads.values()}) if was else []
        if gone:
            store.delete_articles(gone)
        return self._done(started, generation, heads)

    def _done(self, started: float, generation: Generation, heads: dict[str, ArticleRecord]) -> IndexReport:
        total = self.heads_cache.live_chunks(generation) if self.report.files_checked >= 0 else None
        if total is None:  # a full run has every head at hand; a run over a few files asks the copy
            every = heads.values() if self.report.files_checked < 0 else self.store.heads()
            total = sum(h.chunks for h in every if h.live()) if any(map(_DUPLICATE_OF, every)) else sum(map(_CHUNKS, every))
        self.report.chunks_total = total
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _cache_heads(self, generation: Generation, base: Generation | None, incremental: bool,
                     heads: dict[str, ArticleRecord], changed: list[ArticleRecord], removed: list[str]) -> None:
        """The copy of the heads as committed: the run's ``changed`` heads only, when the copy was ``base``'s state."""
        put = changed if incremental else list(heads.values())
        self.heads_cache.store(generation, put, removed, whole=not incremental, base=base)

    def _mark_duplicates(self, heads: dict[str, ArticleRecord], fresh: dict[str, tuple[Article, list[Chunk]]]) -> bool:
        """The same article (same title and cleaned text) under two names is indexed once.

        The name already indexed keeps the article; among new names the first in
        order wins. When the indexed name goes away, a duplicate takes over.
        Returns whether there was any duplicate to look at (then any head may have changed).
        """
        if _all_live_and_distinct(heads):
            return False  # nothing to mark and no duplicate to index for real (nearly every run)
        owner: dict[str, str] = {}
        for source in _owner_order(heads, fresh):
            head = heads[source]
            if head.article_id in owner and owner[head.article_id] != source:
                heads[source] = head.with_(duplicate_of=owner[head.article_id])
                self.report.duplicates[source] = owner[head.article_id]
                fresh.pop(source, None)
                continue
            if not head.live():  # its original is gone or changed: index it for real
                try:
                    article = load_article(source_path(Path(self.config.sources_dir), source), source, self._max_bytes)
                    fresh[source] = (article, self._chunk(article))
                except SourceError as exc:
                    self.report.skipped.append(Problem(source, exc.reason))
                    del heads[source]  # not indexed yet: the next run tries again
                    continue
                heads[source] = ArticleRecord.of(article, len(fresh[source][1]), 0, head.stat)
                self.report.added.append(source)
            owner.setdefault(heads[source].article_id, source)
        return True

    def _chunk(self, article: Article) -> list[Chunk]:
        e = self.embedder
        return chunk_article(article, e.token_count, self.config.chunk_tokens, self.config.chunk_overlap_sentences, e.max_tokens)

    def _write_article(self, article: Article, chunks: list[Chunk], head: ArticleRecord) -> ArticleRecord:
        store = self.store
        if not store.has_text(article.id, head.text_parts):
            self._pending_texts.append((article.id, article.text))
        records = [ChunkRecord.of(c) for c in chunks]
        missing = store.missing_chunks([r.chunk_id for r in records])
        store.retag_chunks([r for r in records if r.chunk_id not in missing])  # cited under this name now
        todo = [c for c in chunks if c.id in missing]
        reused = self.reuse.chunk_vectors([c.id for c in todo]) if self.reuse and todo else {}
        vectors = self._embed([embedding_text(c.title, c.text) for c in todo if c.id not in reused])
        fresh_vectors = iter(vectors)
        for chunk in todo:
            vec = reused[chunk.id] if chunk.id in reused else next(fresh_vectors)
            self._pending_chunks.append((ChunkRecord.of(chunk), chunk.text, vec))
        self.report.chunks_embedded += len(todo) - len(reused)
        sentences = self._write_sentences(article)
        self._pending_heads.append(head.with_(sentence_records=sentences))
        if max(len(self._pending_chunks), len(self._pending_texts), sum(len(x.spans) for _, x in self._pending_sentences)) >= MAX_RECORDS_PER_CALL:
            self._flush()
        return head.with_(sentence_records=sentences)

    def _flush(self) -> None:
        """Buffered chunks, texts and sentences first, then the heads of the articles they complete."""
        if self._pending_chunks:
            records, texts, vectors = zip(*self._pending_chunks)
            self.store.put_chunks(list(records), list(texts), np.stack(vectors))
        self.store.put_texts(self._pending_texts)
        self.store.put_sentences_of(self._pending_sentences)
        self.store.put_heads(self._pending_heads, self._number)
        self._pending_chunks, self._pending_heads, self._pending_texts, self._pending_sentences = [], [], [], []

    def _embed(self, texts: list[str], what: str = "embedding chunks") -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        t0 = time.perf_counter()
        out = np.zeros((len(texts), self.embedder.dimension), dtype=np.float32)
        for i in range(0, len(texts), EMBED_BATCH):
            out[i : i + EMBED_BATCH] = self.embedder.passage_vectors(texts[i : i + EMBED_BATCH])
            if self.progress:
                self.progress(min(i + EMBED_BATCH, len(texts)), len(texts), what)
        self.report.embed_seconds += time.perf_counter() - t0
        return out

    def _write_sentences(self, article: Article) -> int:
        """One vector per sentence (cut to fit the model), packed; reused when already stored. Returns the records."""
        budget = min(MAX_SENTENCE_TOKENS, self.embedder.max_tokens - 8)
        spans = [(s, e) for s, e, _ in sentence_units(article.text, self.embedder.token_count, budget)]
        packs = pack_count(len(spans), self.embedder.dimension)
        if self.store.has_sentences(article.id, packs):
            return packs
        old = self.reuse.sentences(article.id) if self.reuse else None  # an index of the previous version
        if old is not None and [tuple(map(int, s)) for s in old.spans] == spans:
            sentences = old
        else:
            vectors = self._embed([article.text[s:e] for s, e in spans], "embedding sentences")
            sentences = ArticleSentences(np.asarray(spans, dtype=np.int64).reshape(-1, 2), vectors)
        self._pending_sentences.append((article.id, sentences))
        return packs


_DUPLICATE_OF, _ARTICLE_ID, _CHUNKS = attrgetter("duplicate_of"), attrgetter("article_id"), attrgetter("chunks")


def _all_live_and_distinct(heads: dict[str, ArticleRecord]) -> bool:
    """Whether no head is a duplicate and no two heads hold the same article: then the
    duplicates pass has nothing to do. Two passes in C (``map`` with an attribute getter):
    a Python loop over 100,000 heads costs ten times as much."""
    return not any(map(_DUPLICATE_OF, heads.values())) and len(set(map(_ARTICLE_ID, heads.values()))) == len(heads)


def _owner_order(heads: dict[str, ArticleRecord], fresh: dict[str, tuple[Article, list[Chunk]]]) -> list[str]:
    """The names in the order that decides which one holds a duplicated article: live names
    already indexed, then new live ones, then names that were duplicates; each group by name.

    Grouped in one pass rather than sorted with a key: a key function and its tuple per
    name cost more than the rest of an unchanged run's bookkeeping at 100,000 files.
    """
    indexed: list[str] = []
    new: list[str] = []
    were_duplicates: list[str] = []
    new_were_duplicates: list[str] = []
    for source in sorted(heads):  # in name order nearly always (one folder): then a linear pass
        if heads[source].live():
            (new if source in fresh else indexed).append(source)
        else:
            (new_were_duplicates if source in fresh else were_duplicates).append(source)
    return indexed + new + were_duplicates + new_were_duplicates


def _differs(old: ArticleRecord | None, new: ArticleRecord) -> bool:
    """``old != new``, with the common case first: the very same record (a dataclass ``==`` builds two tuples)."""
    return old is not new and old != new


def _file_hash(path: Path, source: str, max_bytes: int) -> str:
    """Hash of the raw bytes (what ``Article.content_hash`` holds), after the size check."""
    return content_hash(read_source(path, source, max_bytes))
