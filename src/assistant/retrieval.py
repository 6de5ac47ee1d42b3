"""Hybrid retrieval: dense (Chroma, the index's embedder) + BM25, fused by weighted RRF,
then the fused candidates re-scored (``ranker.py``) with the e5 similarity of the
passage and of its closest sentence, and the share of the question's terms the passage holds.

A :class:`Retriever` holds one view of the store (its heads and the BM25 cache of
one generation); it reloads when the store's generation marker changes, so that
additions, edits and deletions made from any machine reach it without a restart.
Vectors, texts and sentence vectors are fetched for the candidates only, through
bounded caches: memory grows with the caches, not with the archive.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from .config import Config
from .embeddings import TokenAwareEmbeddings, load_model
from .errors import IndexCorruptError
from .lexical import LexicalIndex
from .models import Passage
from .overlay import Overlay
from .ranker import CandidateInfo, PassageRanker, QuestionInfo, feature_rows, load_ranker, question_info, ranking_language
from .store import ArticleRecord, ArticleSentences, ChunkRecord, Generation, open_store
from .store.protocol import StoredChunk
from .store.change_log import every_head
from .store.folder import check_folder
from .store.heads_cache import HeadsCache
from .store.lexical_cache import open_lexical, sync_lexical, sync_lexical_changes
from .store.updater import check_settings
from .text import detect_language

RRF_K = 60
CANDIDATES = 40  # per retriever, before fusion
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# A question in another language than the article shares few stems with it;
# its BM25 hits are then mostly names and numbers, so they count less.
CROSS_LANGUAGE_LEXICAL_WEIGHT = 0.3
# The top fused candidates are re-scored by the passage ranker (ranker.py: fitted weights,
# or the hand mix without its file).
RESCORE_CANDIDATES = 30
# How often a reader asks the store whether the generation changed (one small read).
GENERATION_CHECK_S = 0.5
CACHED_ARTICLES = 512  # texts and sentence vectors kept in memory
CACHED_CHUNKS = 4096

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self.size, self._items = size, OrderedDict[K, V]()

    def get(self, key: K) -> V | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass
class View:
    """What a reader trusts: one generation's heads and its BM25 cache."""

    generation: Generation | None
    heads: Mapping[str, ArticleRecord]  # source -> head (duplicates included)
    live: Mapping[str, ArticleRecord]  # article id -> the head that indexes it
    lexical: LexicalIndex
    checked_at: float


class Retriever:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = open_store(config)
        self._view: View | None = None
        self._embedder: TokenAwareEmbeddings | None = None
        self._texts: LRU[str, str] = LRU(CACHED_ARTICLES)
        self._sentences: LRU[str, ArticleSentences | None] = LRU(CACHED_ARTICLES)
        self._chunks: LRU[str, ChunkRecord] = LRU(CACHED_CHUNKS)
        self._stored: LRU[str, StoredChunk] = LRU(CACHED_CHUNKS)  # candidates with their vectors
        self._lexical: LexicalIndex | None = None
        # The generation whose live articles this process last made the lexical cache hold, and the
        # cache's count of other processes' writes then: while both hold, a new view syncs its changes only.
        self._lexical_step: tuple[Generation | None, int] | None = None
        self._heads_cache = HeadsCache(config.index_dir, config.collection)
        self._vectors_loaded = threading.Event()  # set once the chunk vectors' load has ended (or failed)
        self._vectors_load_started = False
        self._vectors_lock = threading.Lock()  # two first questions at once start one load
        self.ranker: PassageRanker = load_ranker()

    def _start_loading_vectors(self) -> None:
        """At the first view, Chroma loads the chunk vectors in a thread of its own: its Rust code
        lets go of the GIL there (see ``load_vectors``), so the load overlaps the heads copy, the
        lexical cache, the embedder and the lexical search that the first question does meanwhile,
        none of which asks Chroma (open + first ask at 100,000 articles). Chroma loads one
        collection at a time: the same thread then has it load the sentence packs and texts that
        the answer reads, while the dense search runs (it waits for the chunks only)."""
        def load() -> None:
            try:
                self.store.load_vectors()
            except Exception:  # noqa: BLE001 - the first search meets the same error and reports it
                return
            finally:
                self._vectors_loaded.set()
            try:
                self.store.load_answer_records()
            except Exception:  # noqa: BLE001 - the same: the answer's own read reports it
                pass

        with self._vectors_lock:
            if self._vectors_load_started:
                return
            self._vectors_load_started = True
            # Not a daemon: a process that ends while Chroma's Rust code loads in this thread
            # crashes at exit (SIGSEGV, seen at 100,000 articles from a script that searched and
            # returned); it waits for the load to end instead (seconds at most).
            threading.Thread(target=load, name="load-chunk-vectors", daemon=False).start()

    def wait_for_vectors(self) -> None:
        """Wait for the chunks' load, so that a search does not queue behind it for the same segment."""
        if self._vectors_load_started:
            self._vectors_loaded.wait()

    @property
    def embedder(self) -> TokenAwareEmbeddings:
        if self._embedder is None:
            self._embedder = load_model(self.config.embedding_model, self.config.embedding_base_url)
        return self._embedder

    def forget_view(self) -> None:
        """Read the generation again at the next call (after a change made by this process)."""
        if self._view is not None:
            self._view.checked_at = float("-inf")  # kept: the next view is this one plus what changed

    def snapshot(self) -> View:
        now = time.monotonic()
        view = self._view
        if view is not None and now - view.checked_at < GENERATION_CHECK_S:
            return view
        if not check_folder(self.config, reading=True):  # nothing indexed yet (and nothing created)
            self._view = View(None, {}, {}, LexicalIndex(), now)
            return self._view
        generation = self.store.generation()
        if view is None and generation is not None:
            self._start_loading_vectors()  # after this first read: Chroma serves one call at a time
        if view is not None and view.generation == generation and generation is not None:
            view.checked_at = now
            return view
        if generation is not None:
            check_settings(generation.settings, self.config, self.store.location, for_writing=False)
        self._stored = LRU(CACHED_CHUNKS)  # a renamed file re-tags its chunks: read them again
        heads, live, changed = self._heads_of(generation, view)
        if self._lexical is None:
            self._lexical = open_lexical(self.config.index_dir, self.config.collection)
        others = self._lexical.writes_by_others()
        if changed is not None and view is not None and self._lexical_step == (view.generation, others):
            sync_lexical_changes(self._lexical, self.store, live, changed)
        else:
            sync_lexical(self._lexical, self.store, set(live))  # every live article id against the cache's
        self._lexical_step = (generation, others)
        self._view = View(generation, heads, live, self._lexical, now)
        return self._view

    def _heads_of(self, generation: Generation | None, view: View | None
                  ) -> tuple[Mapping[str, ArticleRecord], Mapping[str, ArticleRecord], set[str] | None]:
        """Heads by source, live heads by article id, and the article ids whose heads changed (None:
        unknown): the previous view plus what changed since, from the indexing machine's copy or
        else from the store's change log, when either can say; otherwise every head, read again."""
        delta = None
        if view is not None and view.generation is not None:
            delta = self._heads_cache.changes_since(generation, view.generation.number)
            if delta is None and generation is not None:  # another machine's writer: the store's own log
                delta = self.store.changes_since(view.generation.log_id, view.generation.number, generation)
        if delta is None:
            cached = self._heads_cache.load(generation)  # the indexing machine's copy, when it is this generation's
            if cached is None:
                cached = every_head(self.store, self._heads_cache, generation)
                self._keep_copy(generation, cached)
            heads = {h.source: h for h in cached}
            return heads, {h.article_id: h for h in heads.values() if h.live()}, None
        put, gone = delta
        # Laid over the old view's, which may still be in use, instead of copies of them (O(archive)).
        head_changes: dict[str, ArticleRecord | None] = {}
        live_changes: dict[str, ArticleRecord | None] = {}
        changed = {h.article_id for h in put}
        for source in dict.fromkeys([*gone, *(h.source for h in put)]):  # each once
            old = view.heads.get(source)
            if old is not None:
                changed.add(old.article_id)
                head_changes[source] = None
                if view.live.get(old.article_id) is old:
                    live_changes[old.article_id] = None
        for head in put:
            head_changes[head.source] = head
        for head in put:
            if head.live():
                live_changes[head.article_id] = head
        return Overlay(view.heads, head_changes), Overlay(view.live, live_changes), changed

    def _keep_copy(self, generation: Generation | None, heads: list[ArticleRecord]) -> None:
        """Having listed every head from the store (a new machine, a lost cache), leave the copy for
        the next process: only when no writer runs here (its lock, taken without waiting) and the
        marker did not move meanwhile, so the copy is exactly that generation's heads."""
        from filelock import FileLock, Timeout

        if generation is None:
            return
        lock = FileLock(str(Path(self.config.index_dir) / ".lock"))
        try:
            lock.acquire(timeout=0)
        except (Timeout, OSError):  # a writer is at work, or the folder is read-only: no copy this time
            return
        try:
            # Not over a killed run's copy: trusted again, it would let the next run find nothing to commit.
            if self.store.generation() == generation and not self._heads_cache.writer_pending():
                self._heads_cache.store(generation, heads, [], whole=True)
        finally:
            lock.release()

    # --- what the answerer reads ------------------------------------------------

    def article_text(self, article_id: str) -> str:
        text = self._texts.get(article_id)
        if text is None:
            head = self.snapshot().live.get(article_id)
            text = self.store.article_text(article_id, head.text_parts) if head else None
            if text is None:
                raise IndexCorruptError(
                    f"the text of article {article_id} is missing from {self.store.location}; "
                    f"run `assistant index --index {self.config.index_dir}` to repair it"
                )
            self._texts.put(article_id, text)
        return text

    def article_of(self, passage: Passage) -> tuple[str, str]:
        """The article id and cleaned text of a retrieved passage."""
        record = self._chunks.get(passage.chunk_id)
        if record is None:
            got = self.store.get_chunks([passage.chunk_id])
            if not got:
                raise IndexCorruptError(f"passage {passage.chunk_id} is no longer in {self.store.location}; ask again")
            record = got[0].record
        return record.article_id, self.article_text(record.article_id)

    def sentence_cosines(self, article_id: str, start: int, end: int, qvec: np.ndarray) -> dict[tuple[int, int], float]:
        """e5 similarity of ``qvec`` with each stored sentence inside ``[start, end)`` of an article."""
        sentences = self._sentences_of([article_id]).get(article_id)
        if sentences is None:
            return {}
        rows = sentences.within(start, end)
        sims = sentences.vectors[rows] @ qvec
        return {(int(sentences.spans[r, 0]), int(sentences.spans[r, 1])): float(v) for r, v in zip(rows, sims)}

    def _sentences_of(self, article_ids: list[str]) -> dict[str, ArticleSentences]:
        missing = [a for a in dict.fromkeys(article_ids) if self._sentences.get(a) is None]
        if missing:
            got = self.store.sentences(missing)
            for aid in missing:
                if aid in got:
                    self._sentences.put(aid, got[aid])
        return {a: s for a in article_ids if (s := self._sentences.get(a)) is not None}

    # --- search -------------------------------------------------------------------

    def _stored_chunks(self, chunk_ids: list[str]) -> dict[str, StoredChunk]:
        """Candidates with text and vector: from the bounded cache, the rest in one read."""
        found = {cid: c for cid in chunk_ids if (c := self._stored.get(cid)) is not None}
        for chunk in self.store.get_chunks([cid for cid in chunk_ids if cid not in found], with_vectors=True):
            found[chunk.record.chunk_id] = chunk
            self._stored.put(chunk.record.chunk_id, chunk)
        return found

    def candidates(self, question: str, query_vector: np.ndarray | None = None) -> Candidates | None:
        """The fused candidates of a question with their re-ranking feature rows (None: nothing indexed)."""
        view = self.snapshot()
        if not view.live:
            return None
        qlang = detect_language(question, default="en")
        qvec = self.embedder.query_vector(question) if query_vector is None else query_vector
        lexical = view.lexical.search(question, CANDIDATES)  # before the wait: it needs no Chroma
        self.wait_for_vectors()
        dense = self.store.search(qvec, CANDIDATES + 10)
        stored = self._stored_chunks(list(dict.fromkeys([c for c, _ in dense] + [c for c, _ in lexical])))
        # Records of an unfinished run, or of articles removed since this view, are not searched.
        stored = {cid: c for cid, c in stored.items() if c.record.article_id in view.live}
        for cid, chunk in stored.items():
            self._chunks.put(cid, chunk.record)
        fused: dict[str, float] = {}
        dense_rank: dict[str, int] = {}
        for rank, (cid, _) in enumerate(c for c in dense if c[0] in stored):
            fused[cid] = fused.get(cid, 0.0) + DENSE_WEIGHT / (RRF_K + rank)
            dense_rank[cid] = rank
        lexical_rank: dict[str, int] = {}
        for rank, (cid, _) in enumerate(lexical):
            if cid not in stored:
                continue
            weight = LEXICAL_WEIGHT if stored[cid].record.lang == qlang else CROSS_LANGUAGE_LEXICAL_WEIGHT
            fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank)
            lexical_rank[cid] = rank
        lexical_scores = dict(lexical)
        chosen = sorted(fused, key=lambda cid: -fused[cid])[:RESCORE_CANDIDATES]
        sentences = self._sentences_of([stored[c].record.article_id for c in chosen])
        infos = []
        for cid in chosen:
            chunk = stored[cid]
            rec = chunk.record
            cos = float(chunk.vector @ qvec) if chunk.vector is not None else 0.0
            texts, sims = _sentences_within(sentences.get(rec.article_id), rec, chunk.text, qvec)
            infos.append(CandidateInfo(
                rec.article_id, rec.lang, view.live[rec.article_id].title, chunk.text, fused[cid], dense_rank.get(cid),
                lexical_rank.get(cid), lexical_scores.get(cid, 0.0), cos, texts, sims,
            ))
        q = question_info(question, qlang, [i.lang for i in infos], view.lexical.idf)
        passages = [
            _passage(view.live[stored[cid].record.article_id], stored[cid].record, stored[cid].text, 0.0, info.cos, info.lexical_score)
            for cid, info in zip(chosen, infos)
        ]
        return Candidates(q, passages, infos, feature_rows(q, infos))

    def search(self, question: str, k: int, query_vector: np.ndarray | None = None) -> list[Passage]:
        found = self.candidates(question, query_vector)
        if found is None or not found.passages:
            return []
        scores = self.ranker.scores(found.rows, ranking_language(found.infos, found.question.lang))
        order = np.argsort(-scores, kind="stable")[:k]
        return [replace(found.passages[i], score=float(scores[i])) for i in order]


@dataclass(frozen=True)
class Candidates:
    """The re-scored candidates of one search, in fused order, with their feature rows."""

    question: QuestionInfo
    passages: list[Passage]  # score 0 until ranked
    infos: list[CandidateInfo]
    rows: np.ndarray  # one row of ranker.RANKER_FEATURES per passage


def _sentences_within(sentences: ArticleSentences | None, rec: ChunkRecord, text: str, qvec: np.ndarray
                      ) -> tuple[tuple[str, ...], np.ndarray]:
    """The texts and e5 cosines of the stored sentences inside a chunk (none stored: empty)."""
    if sentences is None:
        return (), np.zeros(0)
    rows = sentences.within(rec.start, rec.end)
    if not len(rows):
        return (), np.zeros(0)
    texts = tuple(text[int(s) - rec.start : int(e) - rec.start] for s, e in sentences.spans[rows])
    return texts, (sentences.vectors[rows] @ qvec).astype(np.float64)


def _passage(head: ArticleRecord, rec: ChunkRecord, text: str, score: float, dense: float, lexical: float) -> Passage:
    return Passage(
        chunk_id=rec.chunk_id, source=head.source, title=head.title, date=head.date, lang=rec.lang, text=text,
        start=rec.start, end=rec.end, score=score, dense_score=dense, lexical_score=lexical,
    )
