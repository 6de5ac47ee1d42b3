"""Fault injection (issue 12): hostile files, hostile requests, bad settings, one error edge.

Real files on disk, real Chroma (a copy of the seed index), the real embedder and
the real command; each test fails without the fix it is named after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.errors import (
    AssistantError,
    ConfigError,
    EvalError,
    IndexMissingError,
    QuestionError,
    SourceError,
    UploadError,
)
from assistant.followup import MAX_HISTORY_MESSAGE_CHARS, MAX_HISTORY_MESSAGES, bound_history
from assistant.index import IndexStore

from conftest import REPO, cli_args, invoke, run_assistant, stored_vector_count

ARTICLE = (
    "Le tramway de {city} ouvre en 2027\n\n"
    "La métropole de {city} a voté la construction d'une deuxième ligne de tramway. "
    "Les travaux coûteront 240 millions d'euros et dureront trois ans.\n"
)


def sources_of(config: Config) -> set[str]:
    return set(IndexStore(config).load_catalog().articles)


# --- file names ---------------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_indexed_under_a_printable_name(seed_copy: Config) -> None:
    raw_name = os.fsencode(str(seed_copy.sources_dir)) + b"/caf\xe9.txt"  # latin-1 é, as a Windows zip leaves it
    with open(raw_name, "wb") as fh:
        fh.write(ARTICLE.format(city="Brest").encode())
    before = sources_of(seed_copy)
    result = invoke(cli_args(seed_copy, "index", "--json"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == ["caf\\xe9.txt"]
    assert sources_of(seed_copy) == before | {"caf\\xe9.txt"}
    answer = Assistant(seed_copy).ask("Combien coûtera le tramway de Brest ?")
    assert any(c.source == "caf\\xe9.txt" for c in answer.citations), answer.answer
    # --rebuild re-indexes everything, the odd name included: nothing is lost.
    result = invoke(cli_args(seed_copy, "index", "--rebuild", "--json"))
    assert result.exit_code == 0, result.output
    assert sources_of(seed_copy) == before | {"caf\\xe9.txt"}


def test_a_newline_in_a_file_name_cannot_forge_a_line_of_the_report(seed_copy: Config) -> None:
    (seed_copy.sources_dir / "evil\nskipped: 001.txt: forged.txt").write_text("", encoding="utf-8")
    result = invoke(cli_args(seed_copy, "index"))
    assert result.exit_code == 3, result.output
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    assert skipped == ["skipped: evil\\x0askipped: 001.txt: forged.txt: file is empty; add text or remove it"]


def test_symlinks_are_followed_only_inside_sources_and_loops_are_reported(seed_copy: Config, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Mot de passe\n\nLe mot de passe du serveur est hunter2, ne le dites à personne.\n", encoding="utf-8")
    src = seed_copy.sources_dir
    (src / "secret.txt").symlink_to(secret)
    (src / "inside").mkdir()
    (src / "inside" / "brest.txt").write_text(ARTICLE.format(city="Brest"), encoding="utf-8")
    (src / "alias").symlink_to(src / "inside")  # inside sources/: followed, read once
    (src / "loop.txt").symlink_to(src / "loop.txt")
    (src / "up").symlink_to(src)  # a link to sources/ itself: a loop
    result = invoke(cli_args(seed_copy, "index", "--json"))
    report = json.loads(result.stdout)
    skipped = {p["source"]: p["reason"] for p in report["skipped"]}
    assert "outside the sources folder" in skipped["secret.txt"]
    assert "loop" in skipped["loop.txt"] and "loop" in skipped["up"]
    indexed = sources_of(seed_copy)
    assert "secret.txt" not in indexed and "inside/brest.txt" in indexed
    assert not any("hunter2" in p.text for p in Assistant(seed_copy).search("mot de passe du serveur", k=10))


def test_a_punctuation_only_file_is_skipped_not_chunked(seed_copy: Config) -> None:
    (seed_copy.sources_dir / "dots.txt").write_text("... !!! ??? — *** ---\n\n« » … ;;;\n", encoding="utf-8")
    result = invoke(cli_args(seed_copy, "index", "--json"))
    assert result.exit_code == 3, result.output
    reasons = {p["source"]: p["reason"] for p in json.loads(result.stdout)["skipped"]}
    assert "no words" in reasons["dots.txt"]
    assert "dots.txt" not in sources_of(seed_copy)


def test_an_html_article_indexes(seed_copy: Config) -> None:
    html = (
        "<html><head><title>Le tramway de Lorient</title></head><body><article><h1>Le tramway de Lorient</h1>"
        "<p>La ville de Lorient a voté un tramway qui coûtera 180 millions d'euros et ouvrira en 2029.</p>"
        "<p>Les travaux commenceront au printemps prochain, selon la mairie de Lorient.</p></article></body></html>"
    )
    (seed_copy.sources_dir / "lorient.html").write_text(html, encoding="utf-8")
    result = invoke(cli_args(seed_copy, "index", "--json"))
    assert result.exit_code == 0, result.output
    assert "lorient.html" in json.loads(result.stdout)["added"]


def test_a_missing_html_cleaner_is_a_source_error_naming_the_package() -> None:
    code = (
        "import sys; sys.modules['lxml_html_clean'] = None; sys.modules['lxml.html.clean'] = None\n"
        "from assistant.documents import parse_article\nfrom assistant.errors import SourceError\n"
        "try:\n    parse_article(b'<html><body><p>Un texte.</p></body></html>', 'a.html')\n"
        "except SourceError as e:\n    print('SourceError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("SourceError: a.html: reading HTML needs the lxml_html_clean package"), out.stdout


def test_pyproject_declares_what_the_html_loader_imports() -> None:
    import tomllib

    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower().replace("-", "_") for d in deps}
    assert {"trafilatura", "lxml_html_clean"} <= names


# --- the index folder -----------------------------------------------------------------


def test_ask_before_any_index_fails_with_how_to_build_it(tmp_path: Path) -> None:
    for index_dir in (tmp_path / "index", tmp_path / "typo"):
        result = invoke(["ask", "Qui ?", "--sources", str(tmp_path / "sources"), "--index", str(index_dir)])
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1 and "assistant index" in result.stderr and str(index_dir) in result.stderr
    with pytest.raises(IndexMissingError, match="build it with: assistant index"):
        Assistant(Config(index_dir=tmp_path / "index")).ask("Qui ?")


def test_index_refuses_a_folder_that_is_neither_empty_nor_an_index(tmp_path: Path) -> None:
    foreign = tmp_path / "etc"
    foreign.mkdir()
    (foreign / "passwd").write_text("root:x:0:0\n", encoding="utf-8")
    sources = tmp_path / "sources"
    sources.mkdir()
    result = invoke(["index", "--sources", str(sources), "--index", str(foreign)])
    assert result.exit_code == 1 and "not part of an assistant index" in result.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["passwd"]  # no .lock left in it


# --- requests -------------------------------------------------------------------------


@pytest.mark.parametrize("k", ["0", "-1", "51"])
def test_k_outside_1_to_50_is_refused(seed_index: Config, k: str) -> None:
    result = invoke(cli_args(seed_index, "ask", "Qui ?", "--k", k))
    assert result.exit_code == 2 and "--k" in result.stderr


@pytest.mark.parametrize("k", [0, -1, 51, 2.5, True, "3"])
def test_k_outside_1_to_50_is_refused_by_the_api(seed_index: Config, k: object) -> None:
    with pytest.raises(QuestionError, match="k .* from 1 to 50"):
        Assistant(seed_index).ask("Combien coûte ChatGPT ?", k=k)  # type: ignore[arg-type]


@pytest.mark.parametrize("history", ["a string", b"bytes", 42, {"role": "user"}, [["user", "x"]], [{"role": "system", "content": "x"}], [{"role": "user", "content": 3}]])
def test_a_history_that_is_not_a_list_of_messages_is_a_question_error(seed_index: Config, history: object) -> None:
    with pytest.raises(QuestionError, match="history"):
        Assistant(seed_index).ask("Et Anthropic ?", history=history)  # type: ignore[arg-type]


def test_a_huge_history_is_cut_to_the_last_turns_in_milliseconds(seed_index: Config) -> None:
    # 600 KB: ten times the 60 KB that held the queue for a minute.
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"tour {i} " + "blabla " * 860} for i in range(100)]
    history = turns + [{"role": "user", "content": "Combien paieront les agences fédérales pour ChatGPT Enterprise ? " * 40}]
    assert sum(len(m["content"]) for m in history) > 600_000
    kept = bound_history(history)
    assert len(kept) == MAX_HISTORY_MESSAGES and kept[-1]["content"] == history[-1]["content"][:MAX_HISTORY_MESSAGE_CHARS]
    assert kept[0]["content"].startswith("tour 95 ")
    answer = Assistant(seed_index).ask("Et pour Anthropic ?", history=history)
    assert answer.standalone_question is not None and len(answer.standalone_question) <= MAX_HISTORY_MESSAGE_CHARS + 100


def test_a_history_of_a_million_messages_costs_the_same_as_six() -> None:
    history = [{"role": "user", "content": "x"}] * 1_000_000
    assert len(bound_history(history)) == MAX_HISTORY_MESSAGES
    assert bound_history(None) == [] and bound_history([]) == []


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ASSISTANT_MAX_FILE_MB", "abc", "is not a number"),
        ("ASSISTANT_MAX_FILE_MB", "-1", "out of range"),
        ("ASSISTANT_K", "many", "is not a whole number"),
        ("ASSISTANT_K", "0", "out of range"),
        ("ASSISTANT_PORT", "99999", "out of range"),
        ("ASSISTANT_LOCK_WAIT_S", "soon", "is not a number"),
        ("ASSISTANT_LLM_TIMEOUT_S", "nan", "out of range"),
    ],
)
def test_a_bad_environment_setting_is_named_in_one_line(tmp_path: Path, variable: str, value: str, says: str) -> None:
    with pytest.raises(ConfigError, match=f"^{variable}=.*{says}"):
        Config.from_env({variable: value})
    result = invoke(["status", "--index", str(tmp_path / "index")], env={variable: value})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {variable}=") and says in result.stderr and result.stderr.count("\n") == 1


def test_a_bad_environment_setting_ends_a_real_process_in_one_line(tmp_path: Path) -> None:
    # the in-process runs above share one interpreter; this one is the command a user types
    result = run_assistant("status", "--index", str(tmp_path / "index"), timeout=120, ASSISTANT_K="many")
    assert result.returncode == 1
    assert result.stderr == "Error: ASSISTANT_K='many' is not a whole number; set it to e.g. 5\n"


def test_bad_values_set_in_code_are_config_errors_naming_the_field() -> None:
    with pytest.raises(ConfigError, match="--max-file-mb"):
        Config(max_file_mb=0)
    with pytest.raises(ConfigError, match="Config.chunk_tokens"):
        Config(chunk_tokens=3)


# --- one error tree, one edge ---------------------------------------------------------------


def test_every_library_error_is_an_assistant_error() -> None:
    from assistant import evaluate, uploads

    for cls in (ConfigError, SourceError, UploadError, EvalError, IndexMissingError, QuestionError):
        assert issubclass(cls, AssistantError)
    assert uploads.UploadError is UploadError and evaluate.EvalError is EvalError


@pytest.mark.parametrize("module", ["assistant.cli.eval", "assistant.cli.serve", "assistant.cli.commands", "assistant.cli"])
def test_each_cli_module_imports_on_its_own(module: str) -> None:
    out = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr


def test_an_unexpected_error_is_one_line_and_the_traceback_comes_with_debug(seed_index: Config, monkeypatch) -> None:  # noqa: ANN001
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(Assistant, "status", boom)
    from click.testing import CliRunner

    from assistant.cli import main

    result = CliRunner().invoke(main, cli_args(seed_index, "status"))
    assert result.exit_code == 70
    assert result.stderr.count("\n") == 1 and "unexpected RuntimeError: disk on fire second line" in result.stderr
    assert "--debug" in result.stderr and "Traceback" not in result.stderr
    debug = CliRunner().invoke(main, cli_args(seed_index, "status", "--debug"))
    assert isinstance(debug.exception, RuntimeError)


def test_a_refused_upload_leaves_nothing_in_the_upload_folder(tmp_path: Path) -> None:
    from assistant.uploads import save_upload

    temp = tmp_path / "gradio-tmp"
    temp.mkdir()
    for name, data in (("binary.txt", b"\x00\x01\x02" * 100), ("big.txt", b"mot " * 300_000), ("evil.exe", b"MZ")):
        upload = temp / name
        upload.write_bytes(data)
        with pytest.raises(UploadError):
            save_upload(upload, name, tmp_path / "sources", max_bytes=1_000_000, discard=True)
    good = temp / "ok.txt"
    good.write_text(ARTICLE.format(city="Vannes"), encoding="utf-8")
    saved = save_upload(good, "ok.txt", tmp_path / "sources", max_bytes=1_000_000, discard=True)
    assert saved.path.is_file() and list(temp.iterdir()) == []


def test_index_stops_cleanly_on_sigterm(paced_copy: Config, popen_assistant) -> None:  # noqa: ANN001
    import signal

    seed_copy = paced_copy  # a run that embeds at a model's pace, so that the signal comes mid-run

    for n in range(30):  # enough new text that the run is still embedding when the signal comes
        (seed_copy.sources_dir / f"t{n}.txt").write_text(ARTICLE.format(city=f"Ville{n}") * 10, encoding="utf-8")
    before = sources_of(seed_copy)
    proc = popen_assistant(*cli_args(seed_copy, "index"))
    chunks_before = stored_vector_count(seed_copy.index_dir, "chunks") or 0
    deadline = time.monotonic() + 300
    while (stored_vector_count(seed_copy.index_dir, "chunks") or 0) <= chunks_before and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.05)  # the first new chunk vectors are written: the run is embedding
    assert proc.poll() is None, "the run ended before it began embedding"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "Stopped (SIGTERM); nothing is half-written" in err and "Traceback" not in err
    new = {f"t{n}.txt" for n in range(30)}
    # Each article is committed whole when its head is written: the old ones all stay, some new
    # ones may be in, none is half there (status checks every served article's records).
    assert before <= sources_of(seed_copy) < before | new
    IndexStore(seed_copy).status()
    assert invoke(cli_args(seed_copy, "index")).exit_code == 0
    assert sources_of(seed_copy) == before | new


def test_serve_stops_cleanly_on_sigterm(seed_copy: Config, popen_assistant) -> None:  # noqa: ANN001
    import queue
    import signal
    import socket
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = popen_assistant(*cli_args(seed_copy, "serve", "--port", str(port), "--no-watch"))
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True)
    reader.start()
    seen: list[str] = []
    while not any("Web chat ready" in line for line in seen):
        try:
            seen.append(lines.get(timeout=300))
        except queue.Empty:
            raise AssertionError(f"the server did not start: {seen}") from None
    from gradio_client import Client

    # a client that asked a question keeps a stream open, as an open page does
    client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False, analytics_enabled=False)
    assert client.predict("Qui dirige Anthropic ?", None, api_name="/ask")["answer"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0, seen
    with socket.socket() as again:  # the port is released: a new server can listen there
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: closed connections may linger
        again.bind(("127.0.0.1", port))
    reader.join(timeout=30)  # to the end of its output
    while not lines.empty():
        seen.append(lines.get())
    assert seen[-1].strip() == "Web chat stopped.", seen  # closed by the app, streams included
    assert not any("Traceback" in line for line in seen), seen


def test_a_stop_signal_right_after_ready_closes_the_page_cleanly(seed_copy: Config) -> None:
    """SIGTERM/Ctrl-C between "Web chat ready" and the server's wait is the same clean stop (no exit 143)."""
    import socket

    from assistant.ui.server import serve as serve_page

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def interrupted(url: str) -> None:
        raise KeyboardInterrupt  # what the SIGTERM handler raises, at the worst moment

    serve_page(Assistant(seed_copy), host="127.0.0.1", port=port, auth=None, max_upload_mb=1.0, watch=False,
               on_ready=interrupted)
    with socket.socket() as again:  # the port is released: the server was closed
        again.bind(("127.0.0.1", port))
