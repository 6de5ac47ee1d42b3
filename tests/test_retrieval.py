"""The reader against a real embedded Chroma store, with the stand-in embedder (machinery, not quality)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.index import IndexStore
from assistant.retrieval import GENERATION_CHECK_S, LRU, Retriever

ARTICLES = {
    "eoliennes.txt": "Parc éolien en Bretagne\n\nLe parc éolien de Bretagne comptera 62 éoliennes flottantes au large de Lorient.\n",
    "miel.txt": "Les abeilles de Paris\n\nLes ruches urbaines de Paris ont produit une tonne de miel en 2024.\n",
    "ecoles.txt": "Budget des écoles\n\nLa mairie de Lyon a voté le budget des écoles primaires pour 2026.\n",
}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    sources = tmp_path / "sources"
    sources.mkdir()
    for name, text in ARTICLES.items():
        (sources / name).write_text(text, encoding="utf-8")
    config = Config(sources_dir=sources, index_dir=tmp_path / "index", embedding_model="standin:64")
    Assistant(config).index()
    return config


def test_search_returns_cited_passages_of_the_indexed_text(config: Config) -> None:
    retriever = Retriever(config)
    passages = retriever.search("Combien d'éoliennes flottantes en Bretagne ?", 2)
    assert passages[0].source == "eoliennes.txt"
    article_id, text = retriever.article_of(passages[0])
    assert text[passages[0].start : passages[0].end] == passages[0].text
    assert retriever.article_text(article_id) == text
    cosines = retriever.sentence_cosines(article_id, 0, len(text), retriever.embedder.query_vector("x"))
    assert cosines and all(text[s:e].strip() for s, e in cosines)


def test_a_reader_sees_changes_after_the_next_generation(config: Config) -> None:
    retriever = Retriever(config)
    assert retriever.search("tonne de miel", 1)[0].source == "miel.txt"
    (config.sources_dir / "miel.txt").unlink()
    (config.sources_dir / "velo.txt").write_text("Vélos à Lyon\n\nLyon compte 12 000 vélos en libre-service.\n", encoding="utf-8")
    Assistant(config).index()
    time.sleep(GENERATION_CHECK_S + 0.1)
    assert all(p.source != "miel.txt" for p in retriever.search("tonne de miel des ruches", 3))
    assert retriever.search("vélos en libre-service à Lyon", 1)[0].source == "velo.txt"
    assert "velo.txt" in retriever.snapshot().heads and "miel.txt" not in retriever.snapshot().heads


def lexical_hit(retriever: Retriever, question: str) -> str:
    """The source of the best BM25 passage among the results (the stand-in's vectors rank at random)."""
    return max(retriever.search(question, 3), key=lambda p: p.lexical_score).source


def test_a_reader_catching_up_syncs_the_changed_articles_only_unless_another_process_wrote_the_cache(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Comparing every live article id with the lexical cache's costs ~0.1 s at 100,000 articles, at
    every change; the changes alone say what to add and drop, while this process is the cache's
    only writer. Another process's write to the cache sends it back to the full comparison."""
    from assistant.lexical import LexicalIndex

    retriever = Retriever(config)
    assert retriever.search("tonne de miel", 1)[0].source == "miel.txt"
    compared: list[int] = []
    every_id = LexicalIndex.article_ids
    monkeypatch.setattr(LexicalIndex, "article_ids", lambda self: compared.append(1) or every_id(self))
    miel_id = retriever.snapshot().heads["miel.txt"].article_id
    (config.sources_dir / "miel.txt").unlink()
    (config.sources_dir / "velo.txt").write_text("Vélos à Lyon\n\nLyon compte 12 000 vélos en libre-service.\n", encoding="utf-8")
    Assistant(config).index()
    time.sleep(GENERATION_CHECK_S + 0.1)
    assert lexical_hit(retriever, "vélos en libre-service à Lyon") == "velo.txt"
    assert compared == []
    velo_id = retriever.snapshot().heads["velo.txt"].article_id
    assert retriever.snapshot().lexical.held_among([miel_id, velo_id]) == {velo_id}

    (config.sources_dir / "pain.txt").write_text("Le pain de Lille\n\nLa boulangerie de Lille cuit 900 baguettes.\n", encoding="utf-8")
    Assistant(config).index()
    other = Retriever(config)  # its own connection to the cache, as another process
    assert lexical_hit(other, "baguettes de la boulangerie de Lille") == "pain.txt"
    compared.clear()
    time.sleep(GENERATION_CHECK_S + 0.1)
    assert lexical_hit(retriever, "baguettes de la boulangerie de Lille") == "pain.txt"
    assert compared  # the whole comparison again: the other process wrote to the cache


def test_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    config = Config(sources_dir=tmp_path / "none", index_dir=tmp_path / "index", embedding_model="standin:64")
    assert Retriever(config).search("anything", 3) == []


def old_setting(collection: object) -> None:
    """Chroma's default threshold, set as an earlier version left it; a loader thread of this
    process may hold the database a moment ("database is locked"), so the test waits its turn."""
    for _ in range(50):
        try:
            collection.modify(configuration={"hnsw": {"sync_threshold": 1000}})  # type: ignore[attr-defined]
            return
        except Exception:  # noqa: BLE001
            time.sleep(0.1)
    raise AssertionError("the collection stayed locked for 5 s")


def test_a_locked_database_leaves_the_setting_to_the_next_run_and_the_run_succeeds(config: Config, monkeypatch) -> None:
    from assistant.store.chroma import KINDS, SYNC_THRESHOLD, ChromaStore

    store = IndexStore(config).store
    for kind in KINDS:
        old_setting(store._col(kind))
    monkeypatch.setattr("assistant.store.chroma.TUNE_PAUSE_S", 0.0, raising=False)
    real_col = ChromaStore._col

    def locked_col(self: ChromaStore, kind: str) -> object:
        collection = real_col(self, kind)

        class Locked:  # what a reader loading the same index causes
            def __getattr__(self, name: str) -> object:
                return getattr(collection, name)

            def modify(self, **_: object) -> None:
                raise RuntimeError("Database error: error returned from database: (code: 5) database is locked")

        return Locked()

    (sources := config.sources_dir / "new.txt").write_text(
        "Nouvel article\n\nLe port de Brest accueille un nouveau quai pour les navires.\n", encoding="utf-8")
    monkeypatch.setattr(ChromaStore, "_col", locked_col)
    assert "new.txt" in Assistant(config).index().added  # the run itself succeeds
    monkeypatch.undo()
    fresh = IndexStore(config).store
    assert {fresh._col(k).configuration_json["hnsw"]["sync_threshold"] for k in KINDS} == {1000}
    sources.unlink()
    Assistant(config).index()  # the next run, unhindered, sets it
    fresh = IndexStore(config).store
    assert {fresh._col(k).configuration_json["hnsw"]["sync_threshold"] for k in KINDS} == {SYNC_THRESHOLD}


def test_an_index_made_before_the_setting_gets_it_from_its_next_run_not_from_a_reader(config: Config) -> None:
    """Collections made with Chroma's default write their vector index back every 1,000 records,
    which every new reader then replays; a reader leaves them as they are (it never writes)."""
    from assistant.store.chroma import KINDS, SYNC_THRESHOLD

    def thresholds(bot: Assistant) -> set[int]:
        store = bot.retriever.store
        return {store._col(kind).configuration_json["hnsw"]["sync_threshold"] for kind in KINDS}

    bot = Assistant(config)
    assert thresholds(bot) == {SYNC_THRESHOLD}
    for kind in KINDS:  # as an index made by an earlier version
        old_setting(bot.retriever.store._col(kind))
    reader = Assistant(config)
    assert reader.ask("Combien d'éoliennes flottantes en Bretagne ?").retrieved[0].source == "eoliennes.txt"
    assert thresholds(Assistant(config)) == {1000}
    Assistant(config).index()
    assert thresholds(Assistant(config)) == {SYNC_THRESHOLD}


def test_the_first_question_of_a_new_reader_gets_the_answer_of_a_warm_one(config: Config) -> None:
    """Its vectors, sentence packs and texts load in a thread beside the question (new process)."""
    question = "Combien d'éoliennes flottantes en Bretagne ?"
    fresh = Assistant(config)
    first = fresh.ask(question).to_dict()
    warm = fresh.ask(question).to_dict()
    for answer in (first, warm):
        answer.pop("timings_ms", None)
    assert first == warm and first["retrieved"][0]["source"] == "eoliennes.txt"


def test_a_failed_background_load_does_not_hold_the_question(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    """The question then meets the store's error itself, or goes on when the store answers it."""
    import threading

    retriever = Retriever(config)
    monkeypatch.setattr(retriever.store, "load_vectors", lambda: (_ for _ in ()).throw(RuntimeError("gone")))
    searched: list[list] = []
    thread = threading.Thread(target=lambda: searched.append(retriever.search("tonne de miel", 1)), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive() and searched[0][0].source == "miel.txt"


def test_lru_keeps_the_most_recent() -> None:
    lru: LRU[str, int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1
    lru.put("c", 3)
    assert lru.get("b") is None and lru.get("a") == 1 and lru.get("c") == 3


def test_a_lexical_cache_damaged_while_serving_gives_one_line_then_heals_at_the_next_start(config: Config) -> None:
    """The web page and the command line print ``str(error)`` of an AssistantError as one line;
    a tantivy error escaping a question would show a traceback instead."""
    import json
    import sqlite3

    from assistant.errors import IndexCorruptError
    from assistant.lexical import ARTICLES_FILE
    from assistant.store.lexical_cache import cache_path

    bot = Assistant(config)
    assert bot.search("Combien d'éoliennes flottantes en Bretagne ?", 2)[0].source == "eoliennes.txt"
    folder = cache_path(config.index_dir, config.collection)
    for meta_file in folder.glob("*/meta.json"):  # every language index names segments that are gone
        meta = json.loads(meta_file.read_text())
        for segment in meta["segments"]:
            segment["segment_id"] = "0" * 32
        meta_file.write_text(json.dumps(meta))
    with sqlite3.connect(folder / ARTICLES_FILE) as db:  # a write seen by the reader: it reloads
        db.execute("INSERT OR IGNORE INTO language (lang) VALUES ('zz')")
    with pytest.raises(IndexCorruptError, match="lexical cache .* is damaged") as caught:
        bot.ask("Combien d'éoliennes flottantes en Bretagne ?")
    assert "\n" not in str(caught.value) and str(folder) in str(caught.value)
    again = Assistant(config)  # the next start rebuilds the cache from the store
    assert again.search("Combien d'éoliennes flottantes en Bretagne ?", 2)[0].source == "eoliennes.txt"


def test_a_process_that_searched_waits_for_chromas_loads_before_it_ends(tmp_path: Path) -> None:
    """Chroma loads the stored vectors in a thread of the reader; a process ending while that
    thread is inside Chroma's Rust code crashed at exit (SIGSEGV at 100,000 articles). The load
    (made slow here, and leaving a mark when done) must end before the process does."""
    import subprocess
    import sys

    from conftest import copy_sources

    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    Assistant(config).index()
    mark = tmp_path / "loaded"
    code = (
        "import time; from pathlib import Path; from assistant.api import Assistant; from assistant.config import Config;"
        "from assistant.store.chroma import ChromaStore; load = ChromaStore.load_answer_records;"
        f"ChromaStore.load_answer_records = lambda self: (time.sleep(1.5), load(self), Path({str(mark)!r}).touch());"
        f"bot = Assistant(Config(sources_dir=Path({str(config.sources_dir)!r}), index_dir=Path({str(config.index_dir)!r}),"
        " embedding_model='standin:64')); print(len(bot.search('Anthropic', 3)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "3", done.stderr
    assert mark.exists()
