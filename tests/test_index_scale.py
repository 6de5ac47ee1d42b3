"""Calls that take a list of ids sized by the archive stay within SQLite's and Chroma's limits.

SQLite refuses a statement with more than ~32k variables ("too many SQL variables"),
which broke every `ask` above about 7.5k articles. These tests use ten times the
size that failed at first: 40k+ records with a stand-in embedder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.config import Config
from assistant.index import Catalog, IndexStore, all_ids, get_in_slices, settings_for
from assistant.retrieval import Retriever
from tests.stand_in import StandInEmbeddings

MANY = 40_500  # over the ~32k ids that one SQLite statement takes


@pytest.fixture(scope="module")
def big_collection(tmp_path_factory: pytest.TempPathFactory) -> tuple[Config, list[str], np.ndarray]:
    root = tmp_path_factory.mktemp("big")
    config = Config(sources_dir=root / "sources", index_dir=root / "index")
    collection = IndexStore(config).collection()
    ids = [f"c{i:06d}" for i in range(MANY)]
    vectors = np.random.default_rng(0).standard_normal((MANY, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for i in range(0, MANY, 5000):
        collection.add(ids=ids[i : i + 5000], embeddings=vectors[i : i + 5000], documents=["x"] * len(ids[i : i + 5000]))
    return config, ids, vectors


def test_get_in_slices_reads_every_id(big_collection: tuple[Config, list[str], np.ndarray]) -> None:
    config, ids, _ = big_collection
    collection = IndexStore(config).collection()
    got = [cid for page in get_in_slices(collection, ids, []) for cid in page["ids"]]
    assert sorted(got) == ids


def test_all_ids_pages_through_the_collection(big_collection: tuple[Config, list[str], np.ndarray]) -> None:
    config, ids, _ = big_collection
    assert sorted(all_ids(IndexStore(config).collection())) == ids


def test_retriever_reads_every_chunk_vector(big_collection: tuple[Config, list[str], np.ndarray]) -> None:
    config, ids, vectors = big_collection
    retriever = Retriever(config)
    retriever._embedder = StandInEmbeddings(8)  # type: ignore[assignment]
    chunk = {"article_id": "a", "source": "a.txt", "title": "t", "lang": "en", "start": 0, "end": 1}
    catalog = Catalog(settings_for(config), {}, {cid: chunk for cid in ids}, None, None)
    got = retriever._chunk_vectors(catalog)
    assert len(got) == MANY
    assert np.allclose(got[ids[-1]], vectors[-1], atol=1e-6)
