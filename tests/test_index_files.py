"""Runs over named files (file events, `assistant index FILE...`): only those files are checked,
and the index ends as a whole-folder run would leave it. Anything only a whole scan can judge
(a duplicate, a link, a folder, no trusted copy of the heads) falls back to one.

Real embedded Chroma; the stand-in embedder, since what is found is not what these tests are about.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import MAX_NAMED_FILES, Config
from assistant.documents import article_file, name_in
from assistant.store import Generation
from assistant.store.heads_cache import HeadsCache
from assistant.store.records import StoreSettings
from assistant.watch import changed_files
from conftest import copy_sources, invoke

NEW = "Le port de Roscoff\n\nLa nouvelle digue de Roscoff mesure {n} mètres, a annoncé la région Bretagne.\n"


def standin(tmp_path: Path, name: str = "a") -> Config:
    return Config(sources_dir=copy_sources(tmp_path / name / "sources"), index_dir=tmp_path / name / "index",
                  embedding_model="standin:64")


def state(bot: Assistant) -> dict[str, tuple]:
    """What readers see of each file: its record, without the file's stat (two copies differ there)."""
    return {h.source: (h.article_id, h.chunks, h.sentence_records, h.duplicate_of) for h in bot.store.heads()}


def test_named_files_leave_the_index_as_a_whole_run_would(tmp_path: Path) -> None:
    named, whole = Assistant(standin(tmp_path, "named")), Assistant(standin(tmp_path, "whole"))
    named.index(), whole.index()
    steps = [
        lambda src: (src / "roscoff.txt").write_text(NEW.format(n=412), encoding="utf-8"),
        lambda src: (src / "roscoff.txt").write_text(NEW.format(n=587), encoding="utf-8"),
        lambda src: (src / "roscoff.txt").unlink(),
    ]
    for step, outcome in zip(steps, ("added", "updated", "removed")):
        for bot in (named, whole):
            step(Path(bot.config.sources_dir))
        report = named.index(files=["roscoff.txt"])
        assert report.files_checked == 1 and getattr(report, outcome) == ["roscoff.txt"], report.summary()
        assert whole.index().files_checked == -1
        assert state(named) == state(whole)
        assert report.chunks_total == sum(h.chunks for h in named.store.heads() if h.live())
    assert "roscoff.txt" not in state(named)


def test_a_renamed_file_moves_its_article_without_embedding_it_again(tmp_path: Path) -> None:
    named, whole = Assistant(standin(tmp_path, "named")), Assistant(standin(tmp_path, "whole"))
    named.index(), whole.index()
    first = sorted(Path(named.config.sources_dir).glob("*.txt"))[0].name
    for bot in (named, whole):
        src = Path(bot.config.sources_dir)
        (src / first).rename(src / "renomme.txt")
    report = named.index(files=[first, "renomme.txt"])  # what a watcher sees: one name gone, one new
    assert report.files_checked == 2 and report.removed == [first] and report.added == ["renomme.txt"]
    assert report.chunks_embedded == 0  # its vectors are found by content
    whole.index()
    assert state(named) == state(whole)


def test_only_the_named_files_are_checked(tmp_path: Path) -> None:
    bot = Assistant(standin(tmp_path))
    bot.index()
    src = Path(bot.config.sources_dir)
    other = sorted(src.glob("*.txt"))[0]
    before = state(bot)[other.name]
    other.write_text(other.read_text(encoding="utf-8") + "\nUn paragraphe ajouté à la main.\n", encoding="utf-8")
    (src / "roscoff.txt").write_text(NEW.format(n=412), encoding="utf-8")
    report = bot.index(files=["roscoff.txt"])
    assert report.added == ["roscoff.txt"] and report.updated == []
    assert state(bot)[other.name] == before  # not looked at
    assert bot.index().updated == [other.name]  # the next whole run sees it
    hit = bot.search("digue de Roscoff", k=3)
    assert hit and hit[0].source == "roscoff.txt"  # this process's reader sees the change


@pytest.mark.parametrize("case", ["duplicate", "link", "folder", "no copy of the heads"])
def test_what_only_a_whole_scan_can_judge_falls_back_to_one(tmp_path: Path, case: str) -> None:
    bot = Assistant(standin(tmp_path))
    bot.index()
    src = Path(bot.config.sources_dir)
    first = sorted(src.glob("*.txt"))[0]
    if case == "duplicate":
        shutil.copyfile(first, src / "copie.txt")
        name = "copie.txt"
    elif case == "link":
        os.symlink(first, src / "lien.txt")
        name = "lien.txt"
    elif case == "folder":
        (src / "dossier.txt").mkdir()
        (src / "dossier.txt" / "roscoff.txt").write_text(NEW.format(n=1), encoding="utf-8")
        name = "dossier.txt"
    else:
        (src / "roscoff.txt").write_text(NEW.format(n=412), encoding="utf-8")
        shutil.rmtree(Path(bot.config.index_dir) / "cache")
        name = "roscoff.txt"
    report = bot.index(files=[name])
    assert report.files_checked == -1  # the whole folder was scanned
    assert state(bot) == state(Assistant(bot.config)) and report.unchanged
    if case == "duplicate":
        assert report.duplicates == {"copie.txt": first.name}
    if case == "folder":
        assert report.added == ["dossier.txt/roscoff.txt"]


def test_names_of_event_paths(tmp_path: Path) -> None:
    src = tmp_path / "sources"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.md").write_text("x", encoding="utf-8")
    assert name_in(src, src / "sub" / "a.md") == "sub/a.md"
    assert name_in(src, str((src / "sub" / "a.md").resolve())) == "sub/a.md"
    assert name_in(src, tmp_path / "elsewhere.txt") is None and name_in(src, src) is None
    assert article_file(src, "sub/a.md") == src / "sub" / "a.md"
    assert article_file(src, "gone.txt") == src / "gone.txt"  # deleted: still a name to check
    assert article_file(src, ".cache/x.txt") is None and article_file(src, "notes.docx") is None
    many = {(None, str(src / f"f{i}.txt")) for i in range(MAX_NAMED_FILES * 10)}
    assert changed_files(src, many) is None  # a folder copied in: a whole scan, not 10,000 lookups
    assert changed_files(src, set(list(many)[:3])) == sorted(n for _, p in list(many)[:3] for n in [name_in(src, p)])


def test_the_heads_copy_answers_for_many_names_at_once(tmp_path: Path) -> None:
    """Lookups by name are sliced: SQLite caps the variables of one statement."""
    from test_heads_cache import head

    cache = HeadsCache(tmp_path, "archive")
    gen = Generation(1, StoreSettings("standin:8", 8, 300, 1, "c1"), None)
    cache.store(gen, [head(f"a{i}.txt") for i in range(40_000)], [], whole=True)
    names = [f"a{i}.txt" for i in range(0, 80_000, 2)]  # half known
    found = cache.heads_of(gen, names)
    assert found is not None and len(found) == 20_000
    assert cache.others_sharing(gen, [f"id-a{i}.txt" for i in range(40_000)], names) is True
    assert cache.others_sharing(gen, ["id-a0.txt"], ["a0.txt"]) is False
    assert cache.live_chunks(gen) == 40_000


def test_index_command_takes_files(tmp_path: Path) -> None:
    config = standin(tmp_path)
    base = ["--sources", str(config.sources_dir), "--index", str(config.index_dir), "--embedding-model", "standin:64"]
    assert invoke(base + ["index"]).exit_code == 0
    (config.sources_dir / "roscoff.txt").write_text(NEW.format(n=412), encoding="utf-8")
    result = invoke(base + ["index", str(config.sources_dir / "roscoff.txt")])
    assert result.exit_code == 0 and "1 added" in result.output and "1 file(s) checked" in result.output, result.output
    outside = tmp_path / "ailleurs.txt"
    outside.write_text("x", encoding="utf-8")
    result = invoke(base + ["index", str(outside)])
    assert result.exit_code == 2 and "ailleurs.txt is not inside the sources folder" in result.output
    assert "Traceback" not in result.output
