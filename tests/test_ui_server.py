"""`assistant serve` as a real server on loopback: its Gradio API (gradio_client), its JSON API under
/api (httpx), its safety. The page itself, in a real browser, is tested in test_ui_browser.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from gradio_client import Client, handle_file

from assistant.config import Config
from conftest import copy_index, invoke
from tests.servers import default_sigint, free_port, stop_process

if TYPE_CHECKING:
    import httpx

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
START_WAIT_S = 180  # upper bound for a cold start on a loaded 2-core machine (a wait, not an assertion)
CEO_Q = "Qui est le PDG d'Anthropic ?"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def record(name: str, seconds: float) -> None:
    """Write a measured time to tests/artifacts/ui_api_timings.json at once."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "ui_api_timings.json"
    try:
        timings = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        timings = {}
    timings[name] = round(seconds, 3)
    path.write_text(json.dumps(timings, indent=2), encoding="utf-8")


def command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from assistant.cli import main; main()", *args]


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    out.update({"PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False", **extra})
    return out


@dataclass
class Server:
    url: str
    config: Config
    proc: subprocess.Popen[bytes]
    log: Path
    timings: dict[str, float] = field(default_factory=dict)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        stop_process(self.proc, timeout_s=30, stop_signal=signal.SIGINT)  # Ctrl-C, as a user stops it


def start_server(config: Config, log: Path, *extra: str, **env_extra: str) -> Server:
    port = free_port()
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command("serve", "--sources", str(config.sources_dir), "--index", str(config.index_dir),
                    "--port", str(port), *extra),
            stdout=out, stderr=subprocess.STDOUT, env=env(**env_extra), cwd=REPO,
            preexec_fn=default_sigint,  # stop() sends Ctrl-C: it must not be ignored when pytest's was
        )
    server = Server(f"http://127.0.0.1:{port}/", config, proc, log)
    deadline = time.monotonic() + START_WAIT_S
    while "Web chat ready at" not in server.output():
        if proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"the server did not start:\n{server.output()}")
        time.sleep(0.1)
    server.timings["command_to_listening_s"] = time.perf_counter() - started
    return server


def private_copy(seed: Config, root: Path) -> Config:
    shutil.copytree(seed.sources_dir, root / "sources")
    copy_index(seed.index_dir, root / "index")
    return Config(sources_dir=root / "sources", index_dir=root / "index")


@pytest.fixture(scope="module")
def server(seed_index: Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    srv = start_server(private_copy(seed_index, root), root / "serve.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Client:
    return Client(server.url, verbose=False, download_files=False, analytics_enabled=False)


def write_article(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the API, through gradio_client ------------------------------------------------------


def test_api_answers_a_french_question_with_a_citation(client: Client, server: Server) -> None:
    answer = client.predict(CEO_Q, None, api_name="/ask")
    assert not answer["refused"] and answer["citations"]
    c = answer["citations"][0]
    assert f"[{c['id']}]" in answer["answer"] and c["quote"] in answer["answer"]
    text = (server.config.sources_dir / c["source"]).read_text(encoding="utf-8")
    assert "Dario Amodei" in c["quote"] and "Dario Amodei" in text


def test_api_follow_up_uses_the_history(client: Client) -> None:
    first = client.predict("Combien coûte ChatGPT Enterprise aux agences fédérales ?", None, api_name="/ask")
    history = [{"role": "user", "content": first["question"]}, {"role": "assistant", "content": first["answer"]}]
    follow = client.predict("Et Anthropic ?", history, api_name="/ask")
    assert follow["standalone_question"] and "Anthropic" in follow["standalone_question"]


def test_api_upload_then_the_new_article_is_answerable(client: Client, server: Server, tmp_path: Path) -> None:
    path = write_article(tmp_path / "client", "Écluse de Guerlédan.txt",
                         "L'écluse de Guerlédan rouvre après travaux\n\n"
                         "L'écluse numéro 139 de Guerlédan a rouvert le 3 mars 2026 après 17 mois de travaux.\n")
    started = time.perf_counter()
    message, articles, status, _ = client.predict([handle_file(str(path))], api_name="/upload")
    answer = client.predict("Combien de mois de travaux a duré la rénovation de l'écluse de Guerlédan ?", None,
                            api_name="/ask")
    record("gradio_api_upload_to_answer_s", time.perf_counter() - started)
    assert "Added Ecluse-de-Guerledan.txt" in message and "Ecluse-de-Guerledan.txt" in articles
    assert (server.config.sources_dir / "Ecluse-de-Guerledan.txt").is_file()
    assert not answer["refused"] and answer["citations"][0]["source"] == "Ecluse-de-Guerledan.txt"
    assert "17 mois" in answer["answer"]


def test_api_refuses_bad_uploads_with_a_message(client: Client, server: Server, tmp_path: Path) -> None:
    from gradio_client.exceptions import AppError

    script = tmp_path / "payload.sh"
    script.write_text("rm -rf /\n", encoding="utf-8")
    with pytest.raises(AppError, match=r"Invalid file type.*\.txt"):  # Gradio checks the type first
        client.predict([handle_file(str(script))], api_name="/upload")
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"#!/bin/sh\necho not a pdf\n")
    message, _, _, _ = client.predict([handle_file(str(fake))], api_name="/upload")  # then uploads.py
    assert "fake.pdf" in message and "PDF" in message
    assert not list(server.config.sources_dir.glob("payload*")) and not list(server.config.sources_dir.glob("fake*"))


def test_api_add_text_names_the_bad_field(client: Client) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="title is empty"):
        client.predict("", "Du texte.", "", api_name="/add_text")
    report = client.predict("Le bac de l'île de Batz", "Le bac de l'île de Batz transporte 1 200 passagers par jour.",
                            "", api_name="/add_text")
    assert report.startswith("Added Le-bac-de-l-ile-de-Batz.txt")


def test_a_burst_of_questions_waits_in_the_queue_and_all_are_answered(server: Server) -> None:
    questions = [CEO_Q, "Combien coûte ChatGPT Enterprise aux agences fédérales ?", "Qu'est-ce que OneGov ?"] * 4

    # All sent at once through one client (twelve clients each fetching the page's config first
    # measured the machine's load, not the queue).
    # A generous HTTP timeout: on a loaded machine the server answers the queue's "join" late,
    # and what this test is about is that every question is answered, not how fast.
    client = Client(server.url, verbose=False, download_files=False, analytics_enabled=False,
                    httpx_kwargs={"timeout": START_WAIT_S})
    jobs = [client.submit(q, None, api_name="/ask") for q in questions]
    answers = [job.result(timeout=START_WAIT_S * 2) for job in jobs]
    assert [a["question"] for a in answers] == questions
    assert all(a["citations"] or a["refused"] for a in answers)
    assert server.proc.poll() is None


def test_sources_and_index_are_never_served_as_files(server: Server) -> None:
    targets = [next(server.config.sources_dir.glob("*.txt")), server.config.index_dir / "chroma" / "chroma.sqlite3"]
    for target in targets:
        for route in ("gradio_api/file=", "file="):
            url = server.url + route + str(target.resolve())
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    status, body = response.status, response.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, b""
            assert status in (403, 404), (url, status)
            assert target.read_bytes()[:40] not in body


# --- the command line ------------------------------------------------------------------


def test_bad_auth_value_is_a_one_line_usage_error(tmp_path: Path) -> None:
    # In this process: click refuses the value before anything starts (an escaping exception fails the test).
    result = invoke(["serve", "--index", str(tmp_path / "i"), "--auth", "nocolon"])
    assert result.exit_code == 2
    assert "--auth" in result.stderr and "USER:PASSWORD" in result.stderr and len(result.stderr.strip().splitlines()) <= 4
    assert not (tmp_path / "i").exists()


def test_a_port_in_use_is_reported_in_one_line(server: Server, tmp_path: Path) -> None:
    port = server.url.rsplit(":", 1)[1].strip("/")
    result = subprocess.run(
        command("serve", "--sources", str(server.config.sources_dir), "--index", str(tmp_path / "index"),
                "--port", port, "--no-watch"),
        capture_output=True, text=True, env=env(), cwd=REPO, timeout=START_WAIT_S,
    )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_held_port_is_found_before_the_page_loads() -> None:
    import socket

    import click

    from assistant.cli.serve import check_port

    with socket.create_server(("127.0.0.1", 0)) as holder:  # listening, as another server would
        port = holder.getsockname()[1]
        with pytest.raises(click.ClickException, match=f"^cannot listen on 127.0.0.1:{port} .*--port"):
            check_port("127.0.0.1", port)
    check_port("127.0.0.1", port)  # free again: no error
    with pytest.raises(click.ClickException, match="cannot listen on no-such-host.invalid:7860"):
        check_port("no-such-host.invalid", 7860)


def test_password_protected_server(server: Server, tmp_path: Path) -> None:
    from gradio_client.exceptions import AuthenticationError

    protected = start_server(server.config, tmp_path / "auth.log", "--no-watch", ASSISTANT_AUTH="alice:s3cret")
    try:
        with pytest.raises((AuthenticationError, ValueError)):
            Client(protected.url, verbose=False, download_files=False, analytics_enabled=False)
        with pytest.raises((AuthenticationError, ValueError)):
            Client(protected.url, auth=("alice", "wrong"), verbose=False, download_files=False, analytics_enabled=False)
        ok = Client(protected.url, auth=("alice", "s3cret"), verbose=False, download_files=False, analytics_enabled=False)
        assert ok.predict(CEO_Q, None, api_name="/ask")["citations"]
        # The JSON routes: the same login, as HTTP Basic.
        for path in ("status", "articles"):
            assert api(protected, "GET", path).status_code == 401
            assert api(protected, "GET", path, auth=("alice", "wrong")).status_code == 401
            assert api(protected, "GET", path, auth=("alice", "s3cret")).status_code == 200
        assert api(protected, "POST", "ask", json={"question": CEO_Q}).status_code == 401
        assert api(protected, "DELETE", "articles/x.txt").status_code == 401
        assert api(protected, "POST", "ask", auth=("alice", "s3cret"), json={"question": CEO_Q}).json()["citations"]
    finally:
        protected.stop()


# --- the JSON API under /api ---------------------------------------------------------------


def api(server: Server, method: str, path: str, auth: tuple[str, str] | None = None, **kw: object) -> "httpx.Response":
    import httpx

    return httpx.request(method, server.url + "api/" + path, auth=auth, timeout=120, **kw)  # type: ignore[arg-type]


def test_json_api_ask_returns_the_ask_json_object_and_takes_a_history(server: Server) -> None:
    first = api(server, "POST", "ask", json={"question": "Combien coûte ChatGPT Enterprise aux agences fédérales ?"})
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) >= {"question", "answer", "refused", "citations", "retrieved", "timings_ms", "standalone_question"}
    assert body["citations"] and f"[{body['citations'][0]['id']}]" in body["answer"]
    history = [{"role": "user", "content": body["question"]}, {"role": "assistant", "content": body["answer"]}]
    follow = api(server, "POST", "ask", json={"question": "Et Anthropic ?", "history": history}).json()
    assert follow["standalone_question"] and "Anthropic" in follow["standalone_question"]


def test_json_api_names_bad_input_and_bounds_sizes(server: Server) -> None:
    empty = api(server, "POST", "ask", json={"question": "   "})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    too_long = api(server, "POST", "ask", json={"question": "pourquoi " * 400})
    assert too_long.status_code == 400 and "2,000" in too_long.json()["detail"]
    missing = api(server, "POST", "ask", json={"history": []})
    assert missing.status_code == 422 and "question" in missing.text
    history = [{"role": "user", "content": "x"}] * 200  # ten times what a follow-up needs
    assert api(server, "POST", "ask", json={"question": CEO_Q, "history": history}).status_code == 422
    huge = api(server, "POST", "ask", content=b'{"question": "' + b"a" * 3_000_000 + b'"}',
               headers={"content-type": "application/json"})
    assert huge.status_code == 413
    assert server.proc.poll() is None


def peak_mb(server: Server) -> int:
    """The server process's peak resident memory so far (VmHWM)."""
    with open(f"/proc/{server.proc.pid}/status", encoding="ascii") as status:
        return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) // 1024


def test_a_streamed_upload_ten_times_the_limit_is_cut_off_and_the_server_stays_small(
    seed_index: Config, tmp_path: Path
) -> None:
    """A body sent in chunks (no Content-Length) is counted as it arrives: the server refuses it at
    its limit (20 files of 1 MB here), holds none of it in memory and writes nothing."""
    import httpx

    srv = start_server(private_copy(seed_index, tmp_path), tmp_path / "serve.log", "--max-upload-mb", "1")
    try:
        limit = 20 * 1_000_000 + 100_000
        before = sorted(p.name for p in srv.config.sources_dir.iterdir())
        peak_before = peak_mb(srv)
        chunk = b"x" * 1_000_000

        def body() -> Iterator[bytes]:
            yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="huge.txt"\r\nContent-Type: text/plain\r\n\r\n'
            for _ in range(10 * limit // len(chunk)):
                yield chunk
            yield b"\r\n--b--\r\n"

        try:
            answer = httpx.post(srv.url + "api/articles", content=body(), timeout=120,
                                headers={"content-type": "multipart/form-data; boundary=b"})
            refused = answer.status_code == 413 and "request body over" in answer.json()["detail"]
        except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):  # it closed the connection instead
            refused = True
        # 413 from the counting middleware, not the 400 of the upload's own per-file check: the body
        # was refused as it arrived (uvicorn then drains what the client still sends, holding none of it).
        assert refused
        assert srv.proc.poll() is None
        assert peak_mb(srv) - peak_before < 100  # 201 MB were sent: none of it is held
        assert sorted(p.name for p in srv.config.sources_dir.iterdir()) == before
        assert api(srv, "GET", "status").status_code == 200
    finally:
        srv.stop()


def test_json_api_uploads_lists_and_deletes_articles(server: Server, tmp_path: Path) -> None:
    text = "Le sémaphore du Créac'h\n\nLe sémaphore du Créac'h a été repeint en 2026 pour 61 000 euros.\n"
    started = time.perf_counter()
    up = api(server, "POST", "articles", files=[("files", ("Sémaphore.txt", text.encode(), "text/plain")),
                                                ("files", ("tool.exe", b"MZ", "application/octet-stream"))])
    assert up.status_code == 201, up.text
    report = up.json()
    assert report["added"] == ["Semaphore.txt"] and any("tool.exe" in e for e in report["errors"])
    answer = api(server, "POST", "ask", json={"question": "Combien a coûté la peinture du sémaphore du Créac'h ?"}).json()
    record("json_api_upload_to_answer_s", time.perf_counter() - started)
    assert answer["citations"][0]["source"] == "Semaphore.txt"

    listed = api(server, "GET", "articles").json()
    entry = next(a for a in listed if a["source"] == "Semaphore.txt")
    assert entry["title"].startswith("Le sémaphore") and entry["size_bytes"] > 0 and entry["duplicate_of"] is None
    status = api(server, "GET", "status").json()
    assert status["articles"] >= 6 and status["indexing"] is False

    big = api(server, "POST", "articles", files=[("files", ("big.txt", b"a" * 11_000_000, "text/plain"))])
    assert big.status_code == 400 and "big.txt" in big.json()["errors"][0]

    gone = api(server, "DELETE", "articles/Semaphore.txt")
    assert gone.status_code == 200 and gone.json()["deleted"] == "Semaphore.txt"
    assert not (server.config.sources_dir / "Semaphore.txt").exists()
    assert all(a["source"] != "Semaphore.txt" for a in api(server, "GET", "articles").json())
    assert api(server, "DELETE", "articles/Semaphore.txt").status_code == 404
    assert api(server, "DELETE", "articles/..%2Findex%2Fchroma%2Fchroma.sqlite3").status_code == 404
    assert (server.config.index_dir / "chroma" / "chroma.sqlite3").is_file()


def test_json_api_lists_articles_a_page_at_a_time(server: Server) -> None:
    everything = api(server, "GET", "articles")
    assert everything.status_code == 200
    total = int(everything.headers["X-Total-Count"])
    assert total == int(everything.headers["X-Archive-Count"]) == len(everything.json()) >= 5
    names = [a["source"] for a in everything.json()]
    assert names == sorted(names)
    first = api(server, "GET", "articles", params={"limit": 2})
    rest = api(server, "GET", "articles", params={"limit": 2, "offset": 2})
    assert [a["source"] for a in first.json()] == names[:2] and [a["source"] for a in rest.json()] == names[2:4]
    assert first.headers["X-Total-Count"] == str(total)
    matched = api(server, "GET", "articles", params={"match": "ANTHROPIC"})  # title, name, date, language; any case
    assert 1 <= int(matched.headers["X-Total-Count"]) < total and int(matched.headers["X-Archive-Count"]) == total
    assert all("anthropic" in (a["title"] + a["source"]).lower() for a in matched.json())
    for params in ({"limit": 5001}, {"limit": 0}, {"offset": -1}, {"match": "x" * 201}):  # bounded, 422 with the field
        bad = api(server, "GET", "articles", params=params)
        assert bad.status_code == 422 and next(iter(params)) in bad.text, params
    assert api(server, "GET", "articles", params={"offset": 10_000}).json() == []


def test_json_api_refuses_more_files_than_one_upload_carries(server: Server) -> None:
    files = [("files", (f"n{i}.txt", b"Titre\n\nTexte.\n", "text/plain")) for i in range(21)]
    refused = api(server, "POST", "articles", files=files)
    assert refused.status_code == 400 and "21 files at once" in refused.json()["detail"]
    assert not any((server.config.sources_dir / f"n{i}.txt").exists() for i in range(21))


def test_json_api_is_documented_offline(server: Server) -> None:
    spec = api(server, "GET", "openapi.json").json()
    assert {"/ask", "/articles", "/articles/{source}", "/status"} <= set(spec["paths"])
    assert spec["servers"] == [{"url": "/api"}]
    docs = api(server, "GET", "docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower() and "cdn.jsdelivr" not in docs.text
