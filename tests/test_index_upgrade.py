"""An index of the previous version (catalog.json, a `chunks` collection, sentences/*.npz) is upgraded without re-embedding."""

from __future__ import annotations

import json
from dataclasses import replace

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


def unpack_sentences(config: Config) -> int:
    """Turn the packed sentence vectors into one record per sentence, as indexes before packs held them."""
    store = IndexStore(config).store
    heads = store.heads()
    found = store.sentences([h.article_id for h in heads])
    rows = store.client.api().get_or_create_collection(
        f"{config.collection}-sentences", metadata={"hnsw:space": "cosine"}, embedding_function=None
    )
    for aid, sentences in found.items():
        rows.add(ids=[f"{aid}:{s}-{e}" for s, e in sentences.spans], embeddings=sentences.vectors,
                 metadatas=[{"article_id": aid, "start": int(s), "end": int(e)} for s, e in sentences.spans])
    store.client.api().delete_collection(f"{config.collection}-sentence-packs")
    store.put_heads([h.with_(sentence_records=len(found[h.article_id].spans)) for h in heads], store.generation().number + 1)
    store.commit(replace(store.generation(), number=store.generation().number + 1))
    return rows.count()


def test_sentence_rows_of_an_older_index_are_packed_without_re_embedding(
    seed_copy: Config, e5: TokenAwareEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = Assistant(seed_copy).search(QUESTION, 3)
    rows = unpack_sentences(seed_copy)
    assert rows > 100
    older = Assistant(seed_copy).search(QUESTION, 3)  # read as they are, before any index run
    assert [p.chunk_id for p in older] == [p.chunk_id for p in expected]

    embedded: list[str] = []
    monkeypatch.setattr(e5, "passage_vectors", lambda texts: embedded.extend(texts) or np.zeros((len(texts), 384)))
    report = IndexStore(seed_copy).update()
    monkeypatch.undo()
    assert embedded == [] and report.chunks_embedded == 0
    store = IndexStore(seed_copy).store
    names = {getattr(c, "name", c) for c in store.client.api().list_collections()}
    assert f"{seed_copy.collection}-sentences" not in names  # every row packed, the old collection gone
    assert store.counts()["sentences"] == sum(h.sentence_records for h in store.heads()) < rows
    IndexStore(seed_copy).status()  # every record is there
    again = Assistant(seed_copy).search(QUESTION, 3)
    assert [p.chunk_id for p in again] == [p.chunk_id for p in expected]
    assert np.allclose([p.score for p in again], [p.score for p in expected], atol=0.02)  # cosines moved by int8 packing
    assert IndexStore(seed_copy).update().unchanged
