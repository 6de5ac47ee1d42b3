"""The one :class:`~assistant.store.protocol.Store`: Chroma, through its public client API only.

One archive is five collections named after ``config.collection`` (several
archives can share one server)::

    NAME-articles   one head per source file (ArticleRecord); readers trust only these
    NAME-chunks     chunk vectors, texts and citation metadata (id = content hash)
    NAME-texts      cleaned article texts, cut into documents of <= 16 KB
    NAME-sentence-packs  each article's sentence vectors and spans, packed (``sentence_packs``)
    NAME-meta       the generation marker, written last by each run, and the names
                    removed by recent runs (``change_log``)

Indexes written before packs also have ``NAME-sentences`` (one record per
sentence): still read, and emptied as their articles are re-indexed or removed.

Collections without a meaningful vector carry a constant one-number vector:
Chroma wants one per record, and no embedding function may run on our behalf.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

import numpy as np

from .change_log import can_follow
from .clients import StoreClient, guard
from .protocol import ArticleSentences, StoredChunk
from .records import MAX_RECORDS_PER_CALL, ArticleRecord, ChunkRecord, Generation, capped, split_text
from .sentence_packs import from_rows, pack, pack_ids, unpack

T = TypeVar("T")
_NO_VECTOR = [1.0]
_GENERATION_ID = "generation"
LOCAL_READ_PAGE = 5000  # records per paged read, but on Chroma Cloud (``_pages``)
_REMOVED_PREFIX = "removed:"  # + the head's id: a name removed (``change_log``), in NAME-meta
KINDS = ("articles", "chunks", "texts", "sentences", "meta")
_SUFFIX = {"sentences": "sentence-packs"}
_LEGACY_SENTENCES = "sentences"  # one record per sentence, before packs
# Embedded Chroma writes a collection's vector index (HNSW) back to disk only once every
# ``sync_threshold`` records (default 1,000); every process that then opens the collection
# replays the records written since, vector by vector: at 100,000 articles a tail of 312 chunk
# records cost the first question ≈0.9 s CPU. A small threshold bounds that replay; the writer
# pays one save per that many records instead (≈0.3 s CPU for the chunks at 340k records).
SYNC_THRESHOLD = 64
TUNE_ATTEMPTS, TUNE_PAUSE_S = 6, 0.1  # about 2 s in all


def _slices(items: list[T]) -> Iterator[list[T]]:
    for i in range(0, len(items), MAX_RECORDS_PER_CALL):
        yield items[i : i + MAX_RECORDS_PER_CALL]


def head_id(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# The newest generation this process's copy of each embedded store holds (read or written here):
# a different one read from the store was written by another process (see clients._RELOADS).
_SEEN: dict[str, Generation | None] = {}


class _NoRows:
    """An empty stand-in for the sentences collection of an older index once it is gone."""

    def get(self, **_: Any) -> dict[str, list[Any]]:
        return {"ids": [], "metadatas": [], "embeddings": [], "documents": []}

    def count(self) -> int:
        return 0

    def delete(self, **_: Any) -> None:
        return None


_NO_LEGACY_ROWS = _NoRows()


class ChromaStore:
    def __init__(self, client: StoreClient) -> None:
        self.client = client
        self.location = client.location
        # Collections by kind, each tagged with the folder's reload count when it was looked up: one
        # of an earlier load of the store is looked up again (that load is stopped once the calls
        # begun before the reload end). Tagged, not cleared on a reload: a lookup that began before
        # a reload on another thread must not leave the old load's collection here.
        self._collections: dict[str, tuple[int, Any]] = {}
        self._legacy: tuple[int, Any] | None = None  # NAME-sentences of an index written before packs (False: there is none)

    def _col(self, kind: str) -> Any:
        """The collection of ``kind``; look it up inside each call (:meth:`_call`), never hold it across calls."""
        reloads = self.client.reloads
        held = self._collections.get(kind)
        if held is not None and held[0] == reloads:
            return held[1]
        space = {"hnsw:space": "cosine"} if kind == "chunks" else None
        collection = self.client.api().get_or_create_collection(
            f"{self.client.collection}-{_SUFFIX.get(kind, kind)}", metadata=space, embedding_function=None
        )
        self._collections[kind] = (reloads, collection)
        return collection

    def tune(self) -> None:
        """Each run of the writer, before anything reads the collections, sets ``SYNC_THRESHOLD`` where
        it is not set yet (a new index, or one made before it): a reader never writes to the store.
        Set afterwards rather than at creation, where chromadb 1.5 would store a "legacy" embedding
        function in the configuration and warn at every later read of it. A server keeps its indexes
        loaded: its own setting is left alone."""
        if self.client.url:
            return
        for kind in KINDS:
            configuration = self._call(lambda: self._col(kind).configuration_json)
            if (configuration.get("hnsw") or {}).get("sync_threshold") == SYNC_THRESHOLD:
                continue
            # A reader loading this index (another process, or this one's loader thread) can hold
            # the database for a moment: "database is locked". A speed setting is not worth failing
            # the run over: try for a while, else leave it to the next run.
            for attempt in range(TUNE_ATTEMPTS):
                try:
                    with self.client.in_use():
                        self._col(kind).modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})
                    break
                except Exception:  # noqa: BLE001 - anything else wrong with the store shows at the next read
                    time.sleep(TUNE_PAUSE_S * (attempt + 1))

    def _legacy_sentences(self) -> Any:
        """The one-record-per-sentence collection of an older index, or None (looked up once)."""
        reloads, held = self.client.reloads, self._legacy
        if held is None or held[0] != reloads:
            name = f"{self.client.collection}-{_LEGACY_SENTENCES}"
            names = {getattr(c, "name", c) for c in self._call(lambda: self.client.api().list_collections())}
            held = (reloads, self._call(lambda: self.client.api().get_collection(name)) if name in names else False)
            self._legacy = held
        return held[1] or None

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn``; a collection dropped meanwhile (another process rebuilt) is reopened once."""
        with guard(self.client), self.client.in_use():
            try:
                return fn()
            except Exception as exc:
                if "does not exist" not in str(exc) and exc.__class__.__name__ != "NotFoundError":
                    raise
                self._collections.clear()
                self._legacy = None
                return fn()

    def _lookup(self, kind: str, legacy: bool = False) -> Any:
        """The collection of ``kind`` or, with ``legacy``, the sentences of an older index: none left when
        another process's run repacked them and deleted that collection since this one saw it."""
        return (self._legacy_sentences() or _NO_LEGACY_ROWS) if legacy else self._col(kind)

    def _pages(self, kind: str, include: list[str], where: dict[str, Any] | None = None, legacy: bool = False) -> Iterator[dict[str, Any]]:
        # Each page skips ``offset`` records again: listing 100,000 heads took 81 s in pages of 300
        # and 21 s in pages of 5,000. Only Chroma Cloud holds reads to 300 records.
        size = MAX_RECORDS_PER_CALL if self.client.is_cloud else LOCAL_READ_PAGE
        offset = 0
        while True:
            page = self._call(lambda: self._lookup(kind, legacy).get(where=where, include=include, limit=size, offset=offset))
            yield page
            offset += len(page["ids"])
            if len(page["ids"]) < size:
                return

    # --- generation ----------------------------------------------------------

    def generation(self) -> Generation | None:
        """The marker of the last committed run; the store is loaded again when another process wrote it."""
        got = self._call(lambda: self._col("meta").get(ids=[_GENERATION_ID], include=["metadatas"]))
        generation = Generation.from_metadata(got["metadatas"][0]) if got["ids"] else None
        if self.client.url is None:
            seen = _SEEN.setdefault(self.location, generation)
            if seen != generation:
                _SEEN[self.location] = generation
                self.client.reload()
        return generation

    def commit(self, generation: Generation) -> None:
        self._call(lambda: self._col("meta").upsert(
            ids=[_GENERATION_ID], embeddings=[_NO_VECTOR], metadatas=[generation.to_metadata()]
        ))
        if self.client.url is None:
            _SEEN[self.location] = generation  # written here: this process's copy holds it

    # --- writing ---------------------------------------------------------------

    def missing_chunks(self, chunk_ids: list[str]) -> set[str]:
        have: set[str] = set()
        for ids in _slices(chunk_ids):
            have.update(self._call(lambda: self._col("chunks").get(ids=ids, include=[]))["ids"])
        return set(chunk_ids) - have

    def put_chunks(self, records: list[ChunkRecord], texts: list[str], vectors: np.ndarray) -> None:
        for i in range(0, len(records), MAX_RECORDS_PER_CALL):
            j = i + MAX_RECORDS_PER_CALL
            self._call(lambda: self._col("chunks").upsert(
                ids=[r.chunk_id for r in records[i:j]], embeddings=np.asarray(vectors[i:j], dtype=np.float32),
                documents=texts[i:j], metadatas=[r.to_metadata() for r in records[i:j]],
            ))

    def retag_chunks(self, records: list[ChunkRecord]) -> None:
        for batch in _slices(records):
            self._call(lambda: self._col("chunks").update(
                ids=[r.chunk_id for r in batch], metadatas=[r.to_metadata() for r in batch]
            ))

    def has_text(self, article_id: str, parts: int) -> bool:
        ids = [f"{article_id}:{i}" for i in range(parts)]
        return all(len(self._call(lambda: self._col("texts").get(ids=s, include=[]))["ids"]) == len(s) for s in _slices(ids))

    def put_text(self, article_id: str, text: str) -> None:
        self.put_texts([(article_id, text)])

    def put_texts(self, texts: list[tuple[str, str]]) -> None:
        """Cleaned texts of several articles, cut under the document quota, in calls of <= 300 records."""
        rows = [(f"{aid}:{i}", part, {"article_id": aid, "part": i}) for aid, text in texts for i, part in enumerate(split_text(text))]
        for batch in _slices(rows):
            self._call(lambda: self._col("texts").upsert(
                ids=[r[0] for r in batch], embeddings=[_NO_VECTOR] * len(batch),
                documents=[r[1] for r in batch], metadatas=[r[2] for r in batch],
            ))

    def has_sentences(self, article_id: str, packs: int) -> bool:
        """Whether all ``packs`` sentence records of an article are stored."""
        ids = pack_ids(article_id, packs)
        return all(len(self._call(lambda: self._col("sentences").get(ids=s, include=[]))["ids"]) == len(s) for s in _slices(ids))

    def put_sentences(self, article_id: str, sentences: ArticleSentences) -> int:
        return self.put_sentences_of([(article_id, sentences)])

    def put_sentences_of(self, articles: list[tuple[str, ArticleSentences]]) -> int:
        """Sentence vectors of several articles, packed, in calls of <= 300 records; returns the records written."""
        rows = [record for aid, sentences in articles for record in pack(aid, sentences)]
        for batch in _slices(rows):
            self._call(lambda: self._col("sentences").upsert(
                ids=[r[0] for r in batch], metadatas=[r[1] for r in batch], embeddings=[_NO_VECTOR] * len(batch),
            ))
        return len(rows)

    def put_heads(self, heads: list[ArticleRecord], generation: int) -> None:
        """``generation``: the number of the marker the run will commit (what a replica asks for)."""
        for batch in _slices(heads):
            self._call(lambda: self._col("articles").upsert(
                ids=[head_id(h.source) for h in batch], embeddings=[_NO_VECTOR] * len(batch),
                documents=[h.source for h in batch], metadatas=[{**h.to_metadata(), "changed": generation} for h in batch],
            ))

    def delete_heads(self, heads: list[ArticleRecord], generation: int) -> None:
        """The heads go; their names are remembered as removed by ``generation``. The record comes
        first: a run killed between the two leaves a head marked removed, which ``changes_since``
        does not report as removed while the head is there (the next run then removes it)."""
        for batch in _slices(heads):
            self._call(lambda: self._col("meta").upsert(
                ids=[_REMOVED_PREFIX + head_id(h.source) for h in batch], embeddings=[_NO_VECTOR] * len(batch),
                metadatas=[{"source": capped(h.source), "article_id": h.article_id, "gone": generation} for h in batch],
            ))
            self._call(lambda: self._col("articles").delete(ids=[head_id(h.source) for h in batch]))

    def removed_after(self, number: int) -> set[str]:
        """The article ids of heads removed by runs after generation ``number``: with the marker at
        ``number``, a run that was killed before its commit (its articles' records are still there)."""
        return {str(m.get("article_id") or "") for page in self._pages("meta", ["metadatas"], {"gone": {"$gt": number}})
                for m in page["metadatas"]} - {""}

    def forget_removals(self, before: int) -> None:
        """Names removed by generations before ``before``: a reader that far behind lists every head."""
        while True:
            got = self._call(lambda: self._col("meta").get(where={"gone": {"$lt": before}}, include=[], limit=MAX_RECORDS_PER_CALL))
            if got["ids"]:
                self._call(lambda: self._col("meta").delete(ids=got["ids"]))
            if len(got["ids"]) < MAX_RECORDS_PER_CALL:
                return

    def changes_since(self, log_id: str, number: int, now: Generation) -> tuple[list[ArticleRecord], list[str]] | None:
        """Heads written and names removed after generation ``number`` of log ``log_id``, when ``now``'s
        log holds them; else None."""
        if not can_follow(log_id, number, now):
            return None
        after = {"$gt": number}
        put = [ArticleRecord.from_metadata(m) for page in self._pages("articles", ["metadatas"], {"changed": after})
               for m in page["metadatas"]]
        removed = {i.removeprefix(_REMOVED_PREFIX): str(m["source"]) for page in self._pages("meta", ["metadatas"], {"gone": after})
                   for i, m in zip(page["ids"], page["metadatas"])}
        still = set()  # heads whose removal a killed run marked but never made
        for ids in _slices(list(removed)):
            still.update(self._call(lambda: self._col("articles").get(ids=ids, include=[]))["ids"])
        gone = [source for head, source in removed.items() if head not in still]
        # A run that committed meanwhile may have forgotten removals this reader needed.
        latest = self.generation()
        return (put, gone) if latest is not None and can_follow(log_id, number, latest) else None

    def delete_articles(self, article_ids: list[str]) -> None:
        """Chunks, texts and sentences of articles that no head names any more."""
        kinds = [(kind, False) for kind in ("chunks", "texts", "sentences")]
        for kind, legacy in kinds + ([("sentences", True)] if self._legacy_sentences() is not None else []):
            for batch in _slices(article_ids):
                while True:  # deleted by id, in pages: Chroma Cloud caps every call at 300 records
                    got = self._call(lambda: self._lookup(kind, legacy).get(
                        where={"article_id": {"$in": batch}}, include=[], limit=MAX_RECORDS_PER_CALL
                    ))
                    if got["ids"]:
                        self._call(lambda: self._lookup(kind, legacy).delete(ids=got["ids"]))
                    # A page short of the limit held every record there was: no second look, which
                    # costs as much as the first (≈40 ms a call at 340k chunks, three per deleted article).
                    if len(got["ids"]) < MAX_RECORDS_PER_CALL:
                        break

    def drop(self) -> None:
        """Delete the archive's collections (``index --rebuild``)."""
        names = {getattr(c, "name", c) for c in self._call(lambda: self.client.api().list_collections())}
        for suffix in [_SUFFIX.get(kind, kind) for kind in KINDS] + [_LEGACY_SENTENCES]:
            name = f"{self.client.collection}-{suffix}"
            if name in names:
                self._call(lambda: self.client.api().delete_collection(name))
        self._collections.clear()
        self._legacy = None
        _SEEN.pop(self.location, None)

    # --- reading ---------------------------------------------------------------

    def heads(self) -> list[ArticleRecord]:
        return [
            ArticleRecord.from_metadata(meta)
            for page in self._pages("articles", ["metadatas"])
            for meta in page["metadatas"]
        ]

    def load_vectors(self) -> None:
        """Have Chroma load the chunk vectors' index (what a first search would wait for): any read of
        the collection loads its HNSW segment, 2-3 s at 430k chunks. A one-record ``get`` rather than
        ``count``: chromadb 1.5's ``get`` lets go of the GIL while Rust loads, ``count`` holds it, and
        would stop every other thread of the process for those seconds."""
        self._call(lambda: self._col("chunks").get(limit=1, include=[]))

    def load_answer_records(self) -> None:
        """The same for the sentence packs and texts that an answer reads next (≈0.25 s each at
        100,000 articles): Chroma loads one collection at a time, so these follow the chunks."""
        for kind in ("sentences", "texts"):
            self._call(lambda: self._col(kind).get(limit=1, include=[]))

    def search(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        n = max(1, min(n, MAX_RECORDS_PER_CALL))
        got = self._call(lambda: self._col("chunks").query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=n, include=["distances"]
        ))
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0])]

    def get_chunks(self, chunk_ids: list[str], with_vectors: bool = False) -> list[StoredChunk]:
        include = ["documents", "metadatas", *(["embeddings"] if with_vectors else [])]
        out: list[StoredChunk] = []
        for ids in _slices(chunk_ids):
            got = self._call(lambda: self._col("chunks").get(ids=ids, include=include))
            vectors = got["embeddings"] if with_vectors else [None] * len(got["ids"])
            for cid, doc, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], vectors):
                out.append(StoredChunk(ChunkRecord.from_metadata(cid, meta), doc, None if vec is None else np.asarray(vec, np.float32)))
        return out

    def iter_chunks(self) -> Iterator[StoredChunk]:
        for page in self._pages("chunks", ["documents", "metadatas"]):
            for cid, doc, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                yield StoredChunk(ChunkRecord.from_metadata(cid, meta), doc, None)

    def chunks_of(self, article_ids: list[str]) -> Iterator[StoredChunk]:
        """Every chunk of some articles (texts and records, no vectors), in pages."""
        for batch in _slices(article_ids):
            for page in self._pages("chunks", ["documents", "metadatas"], where={"article_id": {"$in": batch}}):
                for cid, doc, meta in zip(page["ids"], page["documents"], page["metadatas"]):
                    yield StoredChunk(ChunkRecord.from_metadata(cid, meta), doc, None)

    def article_text(self, article_id: str, parts: int) -> str | None:
        pieces: dict[int, str] = {}
        for ids in _slices([f"{article_id}:{i}" for i in range(parts)]):
            got = self._call(lambda: self._col("texts").get(ids=ids, include=["documents", "metadatas"]))
            pieces.update((int(m["part"]), d) for d, m in zip(got["documents"], got["metadatas"]))
        return "".join(pieces[i] for i in range(parts)) if len(pieces) == parts else None

    # --- sentence rows of an index written before packs -------------------------

    def legacy_sentence_articles(self, limit: int = MAX_RECORDS_PER_CALL) -> list[str]:
        """Up to ``limit`` articles that still have one-record-per-sentence rows ([] when none)."""
        if self._legacy_sentences() is None:
            return []
        got = self._call(lambda: self._lookup("sentences", legacy=True).get(include=[], limit=limit))
        return list(dict.fromkeys(i.split(":", 1)[0] for i in got["ids"]))

    def legacy_sentences(self, article_ids: list[str]) -> dict[str, ArticleSentences]:
        out: dict[str, ArticleSentences] = {}
        for batch in _slices(article_ids) if self._legacy_sentences() is not None else []:
            pages = self._pages("sentences", ["metadatas", "embeddings"], {"article_id": {"$in": batch}}, legacy=True)
            out.update(from_rows((m, v) for page in pages for m, v in zip(page["metadatas"], page["embeddings"])))
        return out

    def delete_legacy_sentences(self, article_ids: list[str]) -> None:
        """Rows of articles now packed; the collection itself once it is empty."""
        if self._legacy_sentences() is None:
            return
        legacy = partial(self._lookup, "sentences", True)
        for batch in _slices(article_ids):
            while ids := self._call(lambda: legacy().get(where={"article_id": {"$in": batch}}, include=[], limit=MAX_RECORDS_PER_CALL))["ids"]:
                self._call(lambda: legacy().delete(ids=ids))
        if self._legacy_sentences() is not None and self._call(lambda: legacy().count()) == 0:  # not gone meanwhile
            self._call(lambda: self.client.api().delete_collection(f"{self.client.collection}-{_LEGACY_SENTENCES}"))
            self._legacy = (self.client.reloads, False)

    def sentences(self, article_ids: list[str]) -> dict[str, ArticleSentences]:
        wanted = list(dict.fromkeys(article_ids))
        out: dict[str, ArticleSentences] = {}
        for batch in _slices(wanted):
            metas = [m for page in self._pages("sentences", ["metadatas"], {"article_id": {"$in": batch}}) for m in page["metadatas"]]
            out.update(unpack(metas))
        rest = [a for a in wanted if a not in out]
        if rest:
            out.update(self.legacy_sentences(rest))
        return out

    def counts(self, kinds: tuple[str, ...] = KINDS) -> dict[str, int]:
        """Records of each of ``kinds``. The first read of a collection in a process loads its
        segments (the articles': 0.15 s at 100,000): a caller names only the kinds it compares."""
        counts = {kind: int(self._call(lambda: self._col(kind).count())) for kind in kinds}
        if "sentences" in kinds and self._legacy_sentences() is not None:
            counts["sentences"] += int(self._call(lambda: self._lookup("sentences", legacy=True).count()))
        return counts

    def article_ids_with(self, kind: str) -> dict[str, int]:
        """How many records of ``kind`` (chunks, texts, sentences) each article has (a full scan: checks only)."""
        with_legacy = kind == "sentences" and self._legacy_sentences() is not None
        counts: dict[str, int] = {}
        by_id = kind in ("texts", "sentences")  # their ids start with the article id: no metadata to read
        for legacy in [False] + ([True] if with_legacy else []):
            for page in self._pages(kind, [] if by_id else ["metadatas"], legacy=legacy):
                owners = [i.split(":", 1)[0] for i in page["ids"]] if by_id else [str(m["article_id"]) for m in page["metadatas"]]
                for aid in owners:
                    counts[aid] = counts.get(aid, 0) + 1
        return counts
