"""Calls that take a list of ids sized by the archive stay within SQLite's and Chroma's limits.

SQLite refuses a statement with more than ~32k variables ("too many SQL variables"),
which broke every `ask` above about 7.5k articles. These tests use more than the
size that failed: 40.5k records with a stand-in embedder (embedding quality is not the point).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import Config
from assistant.store import ChromaStore, ChunkRecord, open_store
from tests.stand_in import StandInEmbeddings

MANY = 40_500  # over the ~32k ids that one SQLite statement takes


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[ChromaStore, list[str], np.ndarray]:
    store = open_store(Config(index_dir=tmp_path_factory.mktemp("big") / "index"))
    ids = [f"c{i:06d}" for i in range(MANY)]
    vectors = np.random.default_rng(0).standard_normal((MANY, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    records = [ChunkRecord(cid, f"a{i // 5}", "s.txt", "t", None, "en", 0, 1, i % 5) for i, cid in enumerate(ids)]
    # Filled in Chroma's own large batches (the store writes 300 at a time, Chroma Cloud's quota),
    # added rather than upserted (a new collection: nothing to look up first; 14 % less CPU):
    # what is under test is the reading and deleting, and this halves the set-up.
    collection, batch = store._col("chunks"), 5000
    for i in range(0, MANY, batch):
        part = slice(i, i + batch)
        collection.add(ids=ids[part], embeddings=vectors[part], metadatas=[r.to_metadata() for r in records[part]],
                          documents=["x"] * len(ids[part]))
    return store, ids, vectors


def test_every_id_list_call_is_sliced(big_store: tuple[ChromaStore, list[str], np.ndarray]) -> None:
    store, ids, vectors = big_store
    assert store.missing_chunks(ids + ["absent"]) == {"absent"}
    got = store.get_chunks(ids, with_vectors=True)
    assert len(got) == MANY
    last = next(c for c in got if c.record.chunk_id == ids[-1])
    assert np.allclose(last.vector, vectors[-1], atol=1e-6)


def test_listing_and_deleting_page_through_the_collection(big_store: tuple[ChromaStore, list[str], np.ndarray]) -> None:
    store, ids, _ = big_store
    assert sum(1 for _ in store.iter_chunks()) == MANY
    gone = [f"a{i}" for i in range(0, MANY // 5, 2)]  # half the articles: ~20k chunks, over 300 per call
    store.delete_articles(gone)
    assert store.counts()["chunks"] == MANY - 5 * len(gone)
