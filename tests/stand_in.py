"""A stand-in embedder for tests about machinery, where embedding quality is not the point.

Deterministic: the vector of a text is a unit vector seeded by the text's hash, so
the same text always gets the same vector and different texts nearly orthogonal ones.
"""

from __future__ import annotations

import hashlib

import numpy as np


class StandInEmbeddings:
    name = "stand-in"
    max_tokens = 512

    def __init__(self, dimension: int = 16) -> None:
        self.dimension = dimension

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "little")
        vec = np.random.default_rng(seed).standard_normal(self.dimension).astype(np.float32)
        return vec / np.linalg.norm(vec)

    def passage_vectors(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.passage_vectors(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()

    def token_count(self, text: str) -> int:
        return len(text.split()) + 2
