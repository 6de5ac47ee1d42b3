"""watch.py and `assistant watch`: changes to sources/ reach the index without a restart."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.watch import IndexEvent, Indexer, is_article_path, run_once, watch_sources
from tests.servers import default_sigint

REPO = Path(__file__).resolve().parents[1]
WAIT_S = 120  # upper bound on waiting for the watcher on a loaded 2-core machine (not a timing assertion)
ARTICLE = "La digue de Roscoff\n\nLa nouvelle digue de Roscoff mesure {n} mètres et protège le port des tempêtes.\n"


def private_copy(seed: Config, root: Path) -> Config:
    shutil.copytree(seed.sources_dir, root / "sources")
    shutil.copytree(seed.index_dir, root / "index", ignore=shutil.ignore_patterns(".lock"))
    return Config(sources_dir=root / "sources", index_dir=root / "index")


@pytest.fixture(scope="module")
def config(seed_index: Config, tmp_path_factory: pytest.TempPathFactory) -> Config:
    return private_copy(seed_index, tmp_path_factory.mktemp("watch"))


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("a.txt", True),
        ("sub/b.MD", True),
        ("c.pdf", True),
        ("removed-folder", True),  # a deleted folder has no suffix: re-index to drop its articles
        (".upload-1234.tmp", False),
        (".hidden/a.txt", False),
        ("notes.docx", False),
        ("image.png", False),
    ],
)
def test_only_article_files_trigger_an_update(tmp_path: Path, rel: str, expected: bool) -> None:
    assert is_article_path(tmp_path, tmp_path / rel) is expected


def test_paths_outside_the_sources_folder_are_ignored(tmp_path: Path) -> None:
    assert not is_article_path(tmp_path / "sources", tmp_path / "other" / "a.txt")


class Watching:
    """watch_sources running in a thread; events arrive on a queue."""

    def __init__(self, indexer: Indexer) -> None:
        self.events: queue.Queue[IndexEvent] = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=watch_sources, args=(indexer, self.stop, self.events.put), kwargs={"debounce_ms": 300}, daemon=True
        )

    def next(self) -> IndexEvent:
        return self.events.get(timeout=WAIT_S)


@pytest.fixture
def watching(config: Config) -> Iterator[tuple[Assistant, Watching]]:
    bot = Assistant(config)
    w = Watching(Indexer(bot))
    w.thread.start()
    start = w.next()
    assert start.reason == "start" and start.error is None
    yield bot, w
    w.stop.set()
    w.thread.join(timeout=30)
    assert not w.thread.is_alive()


def test_added_changed_and_deleted_files_are_indexed(watching: tuple[Assistant, Watching]) -> None:
    bot, w = watching
    path = Path(bot.config.sources_dir) / "roscoff.txt"
    path.write_text(ARTICLE.format(n=412), encoding="utf-8")
    event = w.next()
    assert event.report is not None and event.report.added == ["roscoff.txt"], event.line()
    assert event.report.files_checked == 1  # from the events: the folder was not scanned again
    assert "roscoff.txt" in event.reason
    answer = bot.ask("Combien mesure la nouvelle digue de Roscoff ?")
    assert answer.citations and answer.citations[0].source == "roscoff.txt" and "412" in answer.answer

    path.write_text(ARTICLE.format(n=587), encoding="utf-8")
    event = w.next()
    assert event.report is not None and event.report.updated == ["roscoff.txt"], event.line()
    assert "587" in bot.ask("Combien mesure la nouvelle digue de Roscoff ?").answer

    path.unlink()
    event = w.next()
    assert event.report is not None and event.report.removed == ["roscoff.txt"] and event.report.files_checked == 1, event.line()
    assert "roscoff.txt" not in [a.source for a in bot.articles()]


def test_a_bad_file_is_reported_and_watching_goes_on(watching: tuple[Assistant, Watching]) -> None:
    bot, w = watching
    sources = Path(bot.config.sources_dir)
    (sources / "vide.txt").write_text("   \n", encoding="utf-8")
    event = w.next()
    assert event.report is not None and [p.source for p in event.report.skipped] == ["vide.txt"]
    assert "skipped: vide.txt" in event.line()
    (sources / "vide.txt").unlink()
    w.next()
    (sources / "bon.txt").write_text(ARTICLE.format(n=99), encoding="utf-8")
    event = w.next()
    assert event.report is not None and event.report.added == ["bon.txt"]
    (sources / "bon.txt").unlink()
    w.next()


def test_index_errors_become_events_not_crashes(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "stray.bin").write_bytes(b"not an index")
    bot = Assistant(Config(sources_dir=tmp_path / "sources", index_dir=tmp_path / "index"))
    seen: list[IndexEvent] = []
    event = run_once(Indexer(bot), "start", seen.append)
    assert seen == [event] and event.error and str(tmp_path / "index") in event.error and "--rebuild" in event.error
    assert "index not updated" in event.line()


def test_indexer_serialises_updates_from_several_threads(config: Config) -> None:
    indexer = Indexer(Assistant(config))
    results: list[object] = []

    def update() -> None:
        try:
            results.append(indexer.update("thread"))
        except Exception as exc:  # collected for the assertion below
            results.append(exc)

    threads = [threading.Thread(target=update) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_S)
    assert len(results) == 3 and not [r for r in results if isinstance(r, Exception)], results
    assert not indexer.busy and indexer.last is not None and indexer.last.error is None


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from assistant.cli import main; main()", *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_watch_command_indexes_changes_until_stopped(seed_index: Config, tmp_path: Path, stop: signal.Signals) -> None:
    config = private_copy(seed_index, tmp_path)
    proc = subprocess.Popen(
        _command("watch", "--sources", str(config.sources_dir), "--index", str(config.index_dir)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=REPO,
        preexec_fn=default_sigint,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]

    def wait_for(text: str) -> str:
        seen = []
        while True:
            try:
                line = lines.get(timeout=WAIT_S)
            except queue.Empty:
                raise AssertionError(f"no line with {text!r}; got {seen}") from None
            seen.append(line)
            if text in line:
                return line

    try:
        wait_for("watching")
        wait_for("start: 0 added")
        (config.sources_dir / "roscoff.txt").write_text(ARTICLE.format(n=321), encoding="utf-8")
        line = wait_for("change in roscoff.txt")
        assert "1 added" in line
        proc.send_signal(stop)
        assert proc.wait(timeout=WAIT_S) == 0
        wait_for("stopped watching")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "roscoff.txt" in [a.source for a in Assistant(config).articles()]


def test_watch_command_needs_an_existing_sources_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("watch", "--sources", str(tmp_path / "nope"), "--index", str(tmp_path / "index")),
        capture_output=True, text=True, env=_env(), cwd=REPO, timeout=WAIT_S,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_changed_file_name_with_a_newline_is_described_on_one_line(tmp_path: Path) -> None:
    from assistant.watch import describe

    line = describe(tmp_path, {(1, str(tmp_path / "a\nforged: 10:00:00 start: 5 added.txt"))})
    assert "\n" not in line and "a\\x0aforged" in line
