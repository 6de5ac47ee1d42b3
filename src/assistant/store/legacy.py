"""Upgrade of an index written by the previous version (``catalog.json`` + files beside Chroma).

Its chunk ids are the same content hashes, so the upgrade run takes the chunk
vectors from the old ``chunks`` collection and the sentence vectors from the old
``sentences/*.npz`` files instead of embedding again; then the old parts go.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from .chroma import ChromaStore
from .protocol import ArticleSentences
from .records import MAX_RECORDS_PER_CALL

LEGACY_CATALOG = "catalog.json"
_LEGACY_COLLECTION = "chunks"


class LegacyVectors:
    """Vectors of an old index, looked up by content hash."""

    def __init__(self, store: ChromaStore, root: Path) -> None:
        self.store, self.root = store, root

    def chunk_vectors(self, chunk_ids: list[str]) -> dict[str, np.ndarray]:
        api = self.store.client.api()
        try:
            old = api.get_collection(_LEGACY_COLLECTION, embedding_function=None)
        except Exception:  # no old collection: nothing to reuse
            return {}
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(chunk_ids), MAX_RECORDS_PER_CALL):
            got = old.get(ids=chunk_ids[i : i + MAX_RECORDS_PER_CALL], include=["embeddings"])
            out.update((cid, np.asarray(v, dtype=np.float32)) for cid, v in zip(got["ids"], got["embeddings"]))
        return out

    def sentences(self, article_id: str) -> ArticleSentences | None:
        path = self.root / "sentences" / f"{article_id}.npz"
        try:
            with np.load(path) as data:
                return ArticleSentences(data["spans"].astype(np.int64), data["vectors"].astype(np.float32))
        except Exception:  # missing or damaged: embed again
            return None


class LegacyIndex:
    NAMES = (LEGACY_CATALOG, f"{LEGACY_CATALOG}.tmp", "texts", "sentences")

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def owns(name: str) -> bool:
        return name in LegacyIndex.NAMES or (name.startswith("lexical-") and name[8:].isdigit())

    def present(self) -> bool:
        return (self.root / LEGACY_CATALOG).is_file()

    def vectors(self, store: ChromaStore) -> LegacyVectors:
        return LegacyVectors(store, self.root)

    def remove(self, store: ChromaStore | None) -> None:
        """Drop the old parts (after the new records are committed)."""
        if store is not None:
            try:
                store.client.api().delete_collection(_LEGACY_COLLECTION)
            except Exception:  # already gone
                pass
        if not self.root.is_dir():
            return
        for child in self.root.iterdir():
            if self.owns(child.name):
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
