"""Hybrid retrieval: dense (Chroma, the index's embedder) + BM25, fused by weighted RRF.

A :class:`Retriever` holds one catalog snapshot; it reloads when the catalog
file changes, so a search sees the old index or the new one, never a mix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import Config
from .embeddings import TokenAwareEmbeddings, load_embeddings
from .index import CATALOG, Catalog, IndexStore
from .lexical import LexicalIndex
from .models import Passage
from .text import detect_language

RRF_K = 60
CANDIDATES = 40  # per retriever, before fusion
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# A question in another language than the article shares few stems with it;
# its BM25 hits are then mostly names and numbers, so they count less.
CROSS_LANGUAGE_LEXICAL_WEIGHT = 0.3


@dataclass
class _Snapshot:
    mtime_ns: int
    catalog: Catalog
    lexical: LexicalIndex
    texts: dict[str, str]  # article id -> cleaned text


class Retriever:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.store = IndexStore(config)
        self._snapshot: _Snapshot | None = None
        self._embedder: TokenAwareEmbeddings | None = None

    @property
    def embedder(self) -> TokenAwareEmbeddings:
        if self._embedder is None:
            self._embedder = load_embeddings(self.config.embedding_model)
        return self._embedder

    def snapshot(self) -> _Snapshot:
        path = self.store.root / CATALOG
        try:
            mtime = os.stat(path).st_mtime_ns
        except FileNotFoundError:
            mtime = -1
        if self._snapshot is None or self._snapshot.mtime_ns != mtime:
            catalog = self.store.load_catalog()
            texts = {}
            for rec in catalog.articles.values():
                if "duplicate_of" not in rec and rec["id"] not in texts:
                    texts[rec["id"]] = self.store.article_text(rec["id"])
            self._snapshot = _Snapshot(mtime, catalog, self.store.load_lexical(catalog), texts)
        return self._snapshot

    def article_text(self, article_id: str) -> str:
        return self.snapshot().texts[article_id]

    def search(self, question: str, k: int, query_vector: np.ndarray | None = None) -> list[Passage]:
        snap = self.snapshot()
        if not snap.catalog.chunks:
            return []
        qlang = detect_language(question, default="en")
        qvec = self.embedder.query_vector(question) if query_vector is None else query_vector
        dense = self._dense(snap, qvec, CANDIDATES)
        lexical = snap.lexical.search(question, CANDIDATES)
        fused: dict[str, float] = {}
        for rank, (cid, _) in enumerate(dense):
            fused[cid] = fused.get(cid, 0.0) + DENSE_WEIGHT / (RRF_K + rank)
        for rank, (cid, _) in enumerate(lexical):
            rec = snap.catalog.chunks.get(cid)
            if rec is None:
                continue
            weight = LEXICAL_WEIGHT if rec["lang"] == qlang else CROSS_LANGUAGE_LEXICAL_WEIGHT
            fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank)
        dense_scores = dict(dense)
        lexical_scores = dict(lexical)
        ranked = sorted(fused, key=lambda cid: -fused[cid])[:k]
        return [self._passage(snap, cid, fused[cid], dense_scores.get(cid, 0.0), lexical_scores.get(cid, 0.0)) for cid in ranked]

    def _dense(self, snap: _Snapshot, qvec: np.ndarray, n: int) -> list[tuple[str, float]]:
        collection = self.store.vectorstore(self.embedder)._collection
        n = min(n + 10, max(1, collection.count()))
        result: dict[str, Any] = collection.query(query_embeddings=[qvec], n_results=n, include=["distances"])
        hits = []
        for cid, dist in zip(result["ids"][0], result["distances"][0]):
            if cid in snap.catalog.chunks:  # vectors of an unfinished run are not in the catalog
                hits.append((cid, 1.0 - float(dist)))
        return hits

    def _passage(self, snap: _Snapshot, cid: str, score: float, dense: float, lexical: float) -> Passage:
        rec = snap.catalog.chunks[cid]
        text = snap.texts[rec["article_id"]][rec["start"] : rec["end"]]
        return Passage(
            chunk_id=cid,
            source=rec["source"],
            title=rec["title"],
            date=rec.get("date"),
            lang=rec["lang"],
            text=text,
            start=rec["start"],
            end=rec["end"],
            score=score,
            dense_score=dense,
            lexical_score=lexical,
        )

    def passage_article_id(self, passage: Passage) -> str:
        return self.snapshot().catalog.chunks[passage.chunk_id]["article_id"]
