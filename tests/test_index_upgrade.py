"""An index of the previous version (catalog.json, a `chunks` collection, sentences/*.npz) is upgraded without re-embedding."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.embeddings import TokenAwareEmbeddings
from assistant.errors import IndexCorruptError
from assistant.index import IndexStore

QUESTION = "Anthropic propose Claude au gouvernement pour 1 dollar"


def make_legacy(config: Config) -> None:
    """Turn a current index into the previous layout, with the same vectors."""
    index = IndexStore(config)
    store = index.store
    heads = store.heads()
    chunks = store.get_chunks([c.record.chunk_id for c in store.iter_chunks()], with_vectors=True)
    old = store.client.api().get_or_create_collection("chunks", metadata={"hnsw:space": "cosine"}, embedding_function=None)
    old.add(ids=[c.record.chunk_id for c in chunks], embeddings=np.stack([c.vector for c in chunks]),
            documents=[c.text for c in chunks], metadatas=[c.record.to_metadata() for c in chunks])
    (config.index_dir / "sentences").mkdir()
    for aid, sentences in store.sentences([h.article_id for h in heads]).items():
        np.savez(config.index_dir / "sentences" / f"{aid}.npz", spans=sentences.spans, vectors=sentences.vectors.astype(np.float16))
    (config.index_dir / "texts").mkdir()
    (config.index_dir / "catalog.json").write_text(json.dumps({"format_version": 1}), encoding="utf-8")
    store.drop()


def test_upgrade_reuses_every_vector(seed_copy: Config, e5: TokenAwareEmbeddings, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [p.chunk_id for p in Assistant(seed_copy).search(QUESTION, 3)]
    make_legacy(seed_copy)
    with pytest.raises(IndexCorruptError) as info:
        Assistant(seed_copy).search(QUESTION, 3)
    assert "earlier version" in str(info.value) and f"assistant index --index {seed_copy.index_dir}" in str(info.value)

    embedded: list[str] = []
    monkeypatch.setattr(e5, "passage_vectors", lambda texts: embedded.extend(texts) or np.zeros((len(texts), 384)))
    report = IndexStore(seed_copy).update()
    assert len(report.added) == 5 and report.chunks_embedded == 0 and embedded == []
    assert not (seed_copy.index_dir / "catalog.json").exists() and not (seed_copy.index_dir / "sentences").exists()
    monkeypatch.undo()
    IndexStore(seed_copy).status()  # every record is there
    assert [p.chunk_id for p in Assistant(seed_copy).search(QUESTION, 3)] == expected
