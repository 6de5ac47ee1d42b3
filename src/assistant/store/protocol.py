"""What the assistant needs from its store: one small protocol, one Chroma implementation.

Shaped after haystack's DocumentStore: a writer puts an article's records
(content first, its head last) and deletes them; a reader searches vectors,
gets records by id and lists the articles; both read the generation marker
that every committed run writes last. Every call that takes or returns an
archive-sized list works in slices of at most 300 records (Chroma Cloud's quota).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .records import ArticleRecord, ChunkRecord, Generation


@dataclass(frozen=True)
class StoredChunk:
    record: ChunkRecord
    text: str
    vector: np.ndarray | None  # only when asked for


@dataclass(frozen=True)
class ArticleSentences:
    """Sentence spans of one article and their unit vectors (row i <-> spans[i])."""

    spans: np.ndarray  # (n, 2) int64
    vectors: np.ndarray  # (n, dim) float32

    def within(self, start: int, end: int) -> np.ndarray:
        """Row indices of the sentences inside ``[start, end)``."""
        return np.nonzero((self.spans[:, 0] >= start) & (self.spans[:, 1] <= end))[0]


class Store(Protocol):
    """Where the index lives: embedded Chroma, a Chroma server or Chroma Cloud."""

    location: str  # a folder or a URL, for messages

    # --- generation ----------------------------------------------------------
    def generation(self) -> Generation | None: ...
    def commit(self, generation: Generation) -> None: ...

    # --- writing (content first, then the head) ------------------------------
    def missing_chunks(self, chunk_ids: list[str]) -> set[str]: ...
    def put_chunks(self, records: list[ChunkRecord], texts: list[str], vectors: np.ndarray) -> None: ...
    def retag_chunks(self, records: list[ChunkRecord]) -> None: ...
    def has_text(self, article_id: str, parts: int) -> bool: ...
    def put_text(self, article_id: str, text: str) -> None: ...
    def sentence_count(self, article_id: str) -> int: ...
    def put_sentences(self, article_id: str, sentences: ArticleSentences) -> None: ...
    def put_heads(self, heads: list[ArticleRecord]) -> None: ...
    def delete_heads(self, sources: list[str]) -> None: ...
    def delete_articles(self, article_ids: list[str]) -> None: ...
    def drop(self) -> None: ...

    # --- reading ---------------------------------------------------------------
    def heads(self) -> list[ArticleRecord]: ...
    def search(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]: ...
    def get_chunks(self, chunk_ids: list[str], with_vectors: bool = False) -> list[StoredChunk]: ...
    def iter_chunks(self) -> Iterator[StoredChunk]: ...
    def article_text(self, article_id: str, parts: int) -> str | None: ...
    def sentences(self, article_ids: list[str]) -> dict[str, ArticleSentences]: ...
    def counts(self) -> dict[str, int]: ...
    def article_ids_with(self, kind: str) -> dict[str, int]: ...
