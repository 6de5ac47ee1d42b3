"""Hybrid retrieval: dense (Chroma, the index's embedder) + BM25, fused by weighted RRF,
then the fused candidates re-scored with the e5 similarity of the passage and of
its closest sentence, and the share of the question's terms the passage holds.

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
from .index import CATALOG, Catalog, IndexStore, get_in_slices
from .lexical import LexicalIndex, weighted_coverage
from .models import Passage
from .text import detect_language, lexical_tokens
from . import sentence_vectors

RRF_K = 60
CANDIDATES = 40  # per retriever, before fusion
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# A question in another language than the article shares few stems with it;
# its BM25 hits are then mostly names and numbers, so they count less.
CROSS_LANGUAGE_LEXICAL_WEIGHT = 0.3
# Re-scoring of the fused candidates. Weights fitted on one random half of the
# piaf-fr questions and checked on the other half (hit@1 0.72 -> 0.79; see README).
RESCORE_CANDIDATES = 30
W_RRF, W_PASSAGE_COS, W_COVERAGE, W_SENTENCE_COS = 30.0, 4.0, 1.0, 6.0


@dataclass
class _Snapshot:
    mtime_ns: int
    catalog: Catalog
    lexical: LexicalIndex
    texts: dict[str, str]  # article id -> cleaned text
    chunk_vectors: dict[str, np.ndarray]
    sentences: dict[str, sentence_vectors.ArticleSentences]


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
        except (FileNotFoundError, NotADirectoryError):  # no index yet, or --index names a file (load_catalog says so)
            mtime = -1
        if self._snapshot is None or self._snapshot.mtime_ns != mtime:
            catalog = self.store.load_catalog()
            texts = {}
            for rec in catalog.articles.values():
                if "duplicate_of" not in rec and rec["id"] not in texts:
                    texts[rec["id"]] = self.store.article_text(rec["id"])
            self._snapshot = _Snapshot(
                mtime, catalog, self.store.load_lexical(catalog), texts,
                self._chunk_vectors(catalog), sentence_vectors.load(self.store.root, set(texts)),
            )
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
        lexical_scores = dict(lexical)
        candidates = sorted(fused, key=lambda cid: -fused[cid])[:RESCORE_CANDIDATES]
        weights: dict[str, dict[str, float]] = {}
        scored = []
        for cid in candidates:
            rec = snap.catalog.chunks[cid]
            lang = rec["lang"]
            if lang not in weights:
                weights[lang] = snap.lexical.idf(lang, sorted(set(lexical_tokens(question, lang))))
            cos = self._cos(snap, cid, qvec)
            sentence_cos = self._best_sentence_cos(snap, rec, qvec, default=cos)
            text = snap.texts[rec["article_id"]][rec["start"] : rec["end"]]
            coverage = weighted_coverage(weights[lang], set(lexical_tokens(rec["title"] + " " + text, lang)))
            score = W_RRF * fused[cid] + W_PASSAGE_COS * cos + W_COVERAGE * coverage + W_SENTENCE_COS * sentence_cos
            scored.append((score, cid, cos))
        scored.sort(key=lambda x: -x[0])
        return [self._passage(snap, cid, score, cos, lexical_scores.get(cid, 0.0)) for score, cid, cos in scored[:k]]

    def _chunk_vectors(self, catalog: Catalog) -> dict[str, np.ndarray]:
        if not catalog.chunks:
            return {}
        collection = self.store.vectorstore(self.embedder)._collection
        out: dict[str, np.ndarray] = {}
        for got in get_in_slices(collection, list(catalog.chunks), ["embeddings"]):
            out.update((cid, np.asarray(vec, dtype=np.float32)) for cid, vec in zip(got["ids"], got["embeddings"]))
        return out

    def _cos(self, snap: _Snapshot, cid: str, qvec: np.ndarray) -> float:
        vec = snap.chunk_vectors.get(cid)
        return float(vec @ qvec) if vec is not None else 0.0

    def _best_sentence_cos(self, snap: _Snapshot, rec: dict[str, Any], qvec: np.ndarray, default: float) -> float:
        sentences = snap.sentences.get(rec["article_id"])
        if sentences is None:
            return default
        rows = sentences.within(rec["start"], rec["end"])
        return float((sentences.vectors[rows] @ qvec).max()) if len(rows) else default

    def sentence_cosines(self, article_id: str, start: int, end: int, qvec: np.ndarray) -> dict[tuple[int, int], float]:
        """e5 similarity of ``qvec`` with each stored sentence inside ``[start, end)`` of an article."""
        sentences = self.snapshot().sentences.get(article_id)
        if sentences is None:
            return {}
        rows = sentences.within(start, end)
        sims = sentences.vectors[rows] @ qvec
        return {(int(sentences.spans[r, 0]), int(sentences.spans[r, 1])): float(v) for r, v in zip(rows, sims)}

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
