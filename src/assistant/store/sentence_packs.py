"""Sentence vectors packed per article: a few Chroma records per article, not one per sentence.

Sentence vectors are only ever read by article (the answerer and the re-scoring
want the sentences of a candidate passage); nothing searches them by similarity.
One Chroma record per sentence made Chroma build and load an HNSW graph over
millions of vectors it never searches: most of the ingest time, the disk and
the memory of a large archive. So each article's vectors are stored in the
metadata of ``ceil(n / per pack)`` records that carry the constant one-number
vector, like the texts, quantised to int8 with one float32 scale per vector
(cosines move by about 1e-3; Chroma indexes metadata strings, so size counts).

Chroma Cloud's quotas shape a pack: metadata values of at most 4 KB and 32 keys
per record. A pack holds the spans and up to ``VALUE_KEYS`` base64 values.

Indexes written before packs hold one record per sentence in ``NAME-sentences``
(read by :func:`from_rows`); they keep working, and what is re-indexed is packed.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .protocol import ArticleSentences

VALUE_CHARS = 4000  # base64 is ASCII: 4,000 characters are 4,000 bytes (quota 4,096)
VALUE_KEYS = 24  # vector values per record (the quota is 32 keys, 5 others are used)
MAX_PER_PACK = 256  # bounds the spans and scales values: 256 x 8 bytes -> 2,732 base64 characters


def per_pack(dimension: int) -> int:
    """How many sentence vectors of ``dimension`` numbers one record holds."""
    raw_bytes = VALUE_KEYS * VALUE_CHARS * 3 // 4
    return max(1, min(MAX_PER_PACK, raw_bytes // max(1, dimension)))


def pack_count(sentences: int, dimension: int) -> int:
    return math.ceil(sentences / per_pack(dimension)) if sentences else 0


def pack_ids(article_id: str, packs: int) -> list[str]:
    # The pack count is in the id: packs of two writes with different counts never mix.
    return [f"{article_id}:p{i}/{packs}" for i in range(packs)]


def pack(article_id: str, sentences: ArticleSentences) -> list[tuple[str, dict[str, Any]]]:
    """(id, metadata) of the records that hold ``sentences``."""
    n, dimension = sentences.vectors.shape if sentences.vectors.ndim == 2 else (0, 0)
    size = per_pack(dimension)
    packs = pack_count(n, dimension)
    out = []
    for i, pid in enumerate(pack_ids(article_id, packs)):
        rows = slice(i * size, (i + 1) * size)
        block = np.asarray(sentences.vectors[rows], dtype=np.float32)
        scales = np.maximum(np.abs(block).max(axis=1), 1e-12) / 127.0
        vectors = _b64(np.rint(block / scales[:, None]).astype(np.int8))
        meta: dict[str, Any] = {
            "article_id": article_id, "pack": i, "packs": packs, "dimension": int(dimension),
            "spans": _b64(np.ascontiguousarray(sentences.spans[rows], dtype="<u4")),
            "scales": _b64(scales.astype("<f4")),
        }
        for k in range(0, len(vectors), VALUE_CHARS):
            meta[f"v{k // VALUE_CHARS:02d}"] = vectors[k : k + VALUE_CHARS]
        out.append((pid, meta))
    return out


def unpack(metadatas: Iterable[dict[str, Any]]) -> dict[str, ArticleSentences]:
    """Sentences by article from the pack records of a read; an article whose packs are incomplete is left out."""
    packs: dict[str, dict[int, dict[str, Any]]] = {}
    for meta in metadatas:
        packs.setdefault(str(meta["article_id"]), {})[int(meta["pack"])] = meta
    out: dict[str, ArticleSentences] = {}
    for aid, parts in packs.items():
        complete = _complete(parts)
        if complete:
            out[aid] = _joined(complete)
    return out


def from_rows(rows: Iterable[tuple[dict[str, Any], Any]]) -> dict[str, ArticleSentences]:
    """Sentences by article from one-record-per-sentence rows (indexes written before packs)."""
    by_article: dict[str, list[tuple[int, int, Any]]] = {}
    for meta, vector in rows:
        by_article.setdefault(str(meta["article_id"]), []).append((int(meta["start"]), int(meta["end"]), vector))
    out = {}
    for aid, items in by_article.items():
        items.sort(key=lambda r: (r[0], r[1]))
        spans = np.asarray([(s, e) for s, e, _ in items], dtype=np.int64).reshape(-1, 2)
        out[aid] = ArticleSentences(spans, np.asarray([v for _, _, v in items], dtype=np.float32))
    return out


def _complete(parts: dict[int, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The packs of the newest complete write, in order (a killed write may leave a partial set)."""
    counts = {int(m["packs"]) for m in parts.values()}
    for packs in sorted(counts, reverse=True):
        chosen = [m for m in parts.values() if int(m["packs"]) == packs]
        if len(chosen) == packs:
            return sorted(chosen, key=lambda m: int(m["pack"]))
    return None


def _joined(parts: list[dict[str, Any]]) -> ArticleSentences:
    spans, vectors = [], []
    for meta in parts:
        dimension = int(meta["dimension"])
        spans.append(np.frombuffer(base64.b64decode(meta["spans"]), dtype="<u4").astype(np.int64).reshape(-1, 2))
        encoded = "".join(meta[k] for k in sorted(k for k in meta if k.startswith("v") and k[1:].isdigit()))
        scales = np.frombuffer(base64.b64decode(meta["scales"]), dtype="<f4")
        quantised = np.frombuffer(base64.b64decode(encoded), dtype=np.int8).reshape(-1, dimension)
        vectors.append(quantised.astype(np.float32) * scales[:, None])
    return ArticleSentences(np.concatenate(spans), np.concatenate(vectors))


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(array.tobytes()).decode("ascii")
