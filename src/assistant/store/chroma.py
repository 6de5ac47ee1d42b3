"""The one :class:`~assistant.store.protocol.Store`: Chroma, through its public client API only.

One archive is five collections named after ``config.collection`` (several
archives can share one server)::

    NAME-articles   one head per source file (ArticleRecord); readers trust only these
    NAME-chunks     chunk vectors, texts and citation metadata (id = content hash)
    NAME-texts      cleaned article texts, cut into documents of <= 16 KB
    NAME-sentences  one vector per sentence, with its span in the cleaned text
    NAME-meta       the generation marker, written last by each run

Collections without a meaningful vector carry a constant one-number vector:
Chroma wants one per record, and no embedding function may run on our behalf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import numpy as np

from .clients import StoreClient, guard
from .protocol import ArticleSentences, StoredChunk
from .records import MAX_RECORDS_PER_CALL, ArticleRecord, ChunkRecord, Generation, split_text

T = TypeVar("T")
_NO_VECTOR = [1.0]
_GENERATION_ID = "generation"
KINDS = ("articles", "chunks", "texts", "sentences", "meta")


def _slices(items: list[T]) -> Iterator[list[T]]:
    for i in range(0, len(items), MAX_RECORDS_PER_CALL):
        yield items[i : i + MAX_RECORDS_PER_CALL]


def head_id(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class ChromaStore:
    def __init__(self, client: StoreClient) -> None:
        self.client = client
        self.location = client.location
        self._collections: dict[str, Any] = {}

    def _col(self, kind: str) -> Any:
        if kind not in self._collections:
            space = {"hnsw:space": "cosine"} if kind in ("chunks", "sentences") else None
            self._collections[kind] = self.client.api().get_or_create_collection(
                f"{self.client.collection}-{kind}", metadata=space, embedding_function=None
            )
        return self._collections[kind]

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn``; a collection dropped meanwhile (another process rebuilt) is reopened once."""
        with guard(self.client):
            try:
                return fn()
            except Exception as exc:
                if "does not exist" not in str(exc) and exc.__class__.__name__ != "NotFoundError":
                    raise
                self._collections.clear()
                return fn()

    def _pages(self, kind: str, include: list[str], where: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self._call(lambda: self._col(kind).get(where=where, include=include, limit=MAX_RECORDS_PER_CALL, offset=offset))
            yield page
            offset += len(page["ids"])
            if len(page["ids"]) < MAX_RECORDS_PER_CALL:
                return

    # --- generation ----------------------------------------------------------

    def generation(self) -> Generation | None:
        got = self._call(lambda: self._col("meta").get(ids=[_GENERATION_ID], include=["metadatas"]))
        if not got["ids"]:
            return None
        return Generation.from_metadata(got["metadatas"][0])

    def commit(self, generation: Generation) -> None:
        self._call(lambda: self._col("meta").upsert(
            ids=[_GENERATION_ID], embeddings=[_NO_VECTOR], metadatas=[generation.to_metadata()]
        ))

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

    def sentence_count(self, article_id: str) -> int:
        return sum(len(p["ids"]) for p in self._pages("sentences", [], {"article_id": article_id}))

    def put_sentences(self, article_id: str, sentences: ArticleSentences) -> None:
        self.put_sentences_of([(article_id, sentences)])

    def put_sentences_of(self, articles: list[tuple[str, ArticleSentences]]) -> None:
        """Sentence vectors of several articles, in calls of <= 300 records (one call costs more than its records)."""
        rows = [
            (f"{aid}:{int(s)}-{int(e)}", {"article_id": aid, "start": int(s), "end": int(e)}, vec)
            for aid, sentences in articles
            for (s, e), vec in zip(sentences.spans, sentences.vectors)
        ]
        for batch in _slices(rows):
            self._call(lambda: self._col("sentences").upsert(
                ids=[r[0] for r in batch], metadatas=[r[1] for r in batch],
                embeddings=np.asarray([r[2] for r in batch], dtype=np.float32),
            ))

    def put_heads(self, heads: list[ArticleRecord]) -> None:
        for batch in _slices(heads):
            self._call(lambda: self._col("articles").upsert(
                ids=[head_id(h.source) for h in batch], embeddings=[_NO_VECTOR] * len(batch),
                documents=[h.source for h in batch], metadatas=[h.to_metadata() for h in batch],
            ))

    def delete_heads(self, sources: list[str]) -> None:
        for batch in _slices(sources):
            self._call(lambda: self._col("articles").delete(ids=[head_id(s) for s in batch]))

    def delete_articles(self, article_ids: list[str]) -> None:
        """Chunks, texts and sentences of articles that no head names any more."""
        for kind in ("chunks", "texts", "sentences"):
            for batch in _slices(article_ids):
                while True:  # deleted by id, in pages: Chroma Cloud caps every call at 300 records
                    got = self._call(lambda: self._col(kind).get(
                        where={"article_id": {"$in": batch}}, include=[], limit=MAX_RECORDS_PER_CALL
                    ))
                    if not got["ids"]:
                        break
                    self._call(lambda: self._col(kind).delete(ids=got["ids"]))

    def drop(self) -> None:
        """Delete the archive's collections (``index --rebuild``)."""
        api = self.client.api()
        names = {getattr(c, "name", c) for c in self._call(api.list_collections)}
        for kind in KINDS:
            name = f"{self.client.collection}-{kind}"
            if name in names:
                self._call(lambda: api.delete_collection(name))
        self._collections.clear()

    # --- reading ---------------------------------------------------------------

    def heads(self) -> list[ArticleRecord]:
        return [
            ArticleRecord.from_metadata(meta)
            for page in self._pages("articles", ["metadatas"])
            for meta in page["metadatas"]
        ]

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

    def sentences(self, article_ids: list[str]) -> dict[str, ArticleSentences]:
        rows: dict[str, list[tuple[int, int, Any]]] = {}
        for batch in _slices(article_ids):
            for page in self._pages("sentences", ["metadatas", "embeddings"], {"article_id": {"$in": batch}}):
                for meta, vec in zip(page["metadatas"], page["embeddings"]):
                    rows.setdefault(str(meta["article_id"]), []).append((int(meta["start"]), int(meta["end"]), vec))
        out = {}
        for aid, items in rows.items():
            items.sort(key=lambda r: (r[0], r[1]))
            spans = np.asarray([(s, e) for s, e, _ in items], dtype=np.int64).reshape(-1, 2)
            out[aid] = ArticleSentences(spans, np.asarray([v for _, _, v in items], dtype=np.float32))
        return out

    def counts(self) -> dict[str, int]:
        return {kind: int(self._call(lambda: self._col(kind).count())) for kind in KINDS}

    def article_ids_with(self, kind: str) -> dict[str, int]:
        """How many records of ``kind`` (chunks, texts, sentences) each article has (a full scan: checks only)."""
        counts: dict[str, int] = {}
        for page in self._pages(kind, ["metadatas"]):
            for meta in page["metadatas"]:
                counts[str(meta["article_id"])] = counts.get(str(meta["article_id"]), 0) + 1
        return counts
