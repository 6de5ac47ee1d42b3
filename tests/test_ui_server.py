"""`assistant serve` as a real server on loopback: its API (gradio_client), its safety, and the page
in a real headless Chromium (Playwright driving Debian's ``chromium``)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from assistant.config import Config

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
START_WAIT_S = 180  # upper bound for a cold start on a loaded 2-core machine (a wait, not an assertion)
CEO_Q = "Qui est le PDG d'Anthropic ?"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(config: Config, log: Path, *extra: str, **env_extra: str) -> Server:
    port = free_port()
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command("serve", "--sources", str(config.sources_dir), "--index", str(config.index_dir),
                    "--port", str(port), *extra),
            stdout=out, stderr=subprocess.STDOUT, env=env(**env_extra), cwd=REPO,
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
    shutil.copytree(seed.index_dir, root / "index", ignore=shutil.ignore_patterns(".lock"))
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
    server.timings["api_upload_to_answer_s"] = time.perf_counter() - started
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

    def ask(q: str) -> dict[str, object]:
        return Client(server.url, verbose=False, download_files=False, analytics_enabled=False).predict(
            q, None, api_name="/ask")

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        answers = list(pool.map(ask, questions))
    assert [a["question"] for a in answers] == questions
    assert all(a["citations"] or a["refused"] for a in answers)
    assert server.proc.poll() is None


def test_sources_and_index_are_never_served_as_files(server: Server) -> None:
    targets = [next(server.config.sources_dir.glob("*.txt")), server.config.index_dir / "catalog.json"]
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
    result = subprocess.run(command("serve", "--index", str(tmp_path / "i"), "--auth", "nocolon"),
                            capture_output=True, text=True, env=env(), cwd=REPO, timeout=START_WAIT_S)
    assert result.returncode == 2
    assert "--auth" in result.stderr and "USER:PASSWORD" in result.stderr and "Traceback" not in result.stderr


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
    finally:
        protected.stop()


# --- the page, in a real browser -----------------------------------------------------------


UPLOADED = (
    "date: 2026-05-20\n"
    "Le funiculaire de Locquirec transporte ses premiers passagers\n\n"
    "Le funiculaire de Locquirec, long de 268 mètres, a transporté ses premiers passagers le 19 mai 2026.\n"
    "Le trajet du funiculaire de Locquirec dure 94 secondes <img src=x onerror=\"window.__xss=1\"> entre la plage et le bourg.\n"
    "<script>window.__xss = 2</script>\n"
)


@pytest.mark.browser
def test_page_in_a_headless_browser(server: Server, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh --with-browser installs it)")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    upload = write_article(tmp_path / "browser", "funiculaire.txt", UPLOADED)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            started = time.perf_counter()
            page.goto(server.url)
            question = page.locator("#chat-input textarea")
            expect(question).to_be_editable(timeout=60_000)
            expect(page.locator("#index-status")).to_contain_text("articles", timeout=60_000)
            server.timings["page_load_s"] = time.perf_counter() - started

            # A French question: the answer streams in and carries a clickable citation.
            question.fill(CEO_Q)
            question.press("Enter")
            answer = page.locator("#chatbot .answer.done").last
            expect(answer).to_contain_text("Dario Amodei", timeout=120_000)
            marker = answer.locator("a.cite").first
            expect(marker).to_have_text("[1]")

            # Clicking it shows the cited passage, its sentence highlighted, in the sources panel.
            marker.click()
            card = page.locator("#sources-panel .card.active")
            expect(card).to_be_visible(timeout=30_000)
            expect(card.locator("mark")).to_contain_text("Dario Amodei")
            expect(card.locator(".meta")).to_contain_text(".txt")

            # "Open the article": the whole article, the sentence highlighted and scrolled into view.
            card.locator("a.open").click()
            highlight = page.locator("#article-view mark.hl")
            expect(highlight).to_contain_text("Dario Amodei", timeout=30_000)
            expect(highlight).to_be_in_viewport()
            assert page.locator("#article-view .article-body").inner_text().count("\n") > 3

            # Upload a new article, then ask about it.
            page.get_by_role("tab", name="Articles").click()
            uploaded_at = time.perf_counter()
            page.locator("#upload input[type=file]").set_input_files(str(upload))
            expect(page.locator("#index-message")).to_contain_text("Added funiculaire.txt", timeout=120_000)
            expect(page.locator("#articles-list")).to_contain_text("Le funiculaire de Locquirec")
            question.fill("Combien de temps dure le trajet du funiculaire de Locquirec ?")
            question.press("Enter")
            answer = page.locator("#chatbot .answer.done").nth(1)
            expect(answer).to_contain_text("94 secondes", timeout=120_000)
            server.timings["browser_upload_to_answer_s"] = time.perf_counter() - uploaded_at
            answer.locator("a.cite").first.click()
            card = page.locator("#sources-panel .card.active")
            expect(card.locator(".meta")).to_contain_text("funiculaire.txt", timeout=30_000)

            # The article's markup shows as text and never runs; links stay inside the page.
            expect(answer).to_contain_text('<img src=x onerror="window.__xss=1">')
            expect(card.locator("mark")).to_contain_text("<img src=x")
            assert page.evaluate("() => window.__xss") is None
            assert page.locator("#chatbot img, #sources-panel img, #article-view img").count() == 0
            hrefs = page.eval_on_selector_all("#chatbot .answer a, #sources-panel a, #article-view a",
                                              "links => links.map(a => a.getAttribute('href'))")
            assert hrefs and all(h.startswith("#") for h in hrefs), hrefs

            # A file dropped into sources/ behind the page's back shows up in the article list.
            (server.config.sources_dir / "pont.txt").write_text(
                "Le pont de Térénez repeint\n\nLe pont de Térénez a reçu 11 tonnes de peinture en 2026.\n",
                encoding="utf-8")
            page.get_by_role("tab", name="Articles").click()
            expect(page.locator("#articles-list")).to_contain_text("Le pont de Térénez repeint", timeout=120_000)
            expect(page.locator("#watch-line")).to_contain_text("pont.txt")

            # A follow-up and a refusal look as they should.
            question.fill("Combien coûte ChatGPT Enterprise aux agences fédérales ?")
            question.press("Enter")
            expect(page.locator("#chatbot .answer.done")).to_have_count(3, timeout=120_000)
            question.fill("Et Anthropic ?")
            question.press("Enter")
            expect(page.locator("#chatbot .answer.done").nth(3).locator(".note")).to_contain_text("Anthropic",
                                                                                                   timeout=120_000)
            question.fill("Quelle est la recette de la tarte tatin ?")
            question.press("Enter")
            expect(page.locator("#chatbot .answer.refused")).to_contain_text("ne disent pas", timeout=120_000)
            expect(page.locator("#sources-panel .card.closest").first).to_be_visible()

            # Clicking an older answer (not on a marker) brings its sources back.
            page.locator("#chatbot .answer.done .answer-text").first.click()
            expect(page.locator("#sources-panel .sources")).to_have_attribute("data-turn", "0", timeout=30_000)

            # Back to the first answer for the screenshot: its marker, card and article.
            page.locator("#chatbot a.cite").first.click()
            expect(page.locator("#sources-panel .card.active mark")).to_contain_text("Dario Amodei", timeout=30_000)
            page.locator("#sources-panel .card.active a.open").click()
            expect(page.locator("#article-view mark.hl")).to_be_in_viewport(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "ui_chat.png"))
        finally:
            browser.close()
    (ARTIFACTS / "ui_timings.json").write_text(json.dumps(server.timings, indent=2), encoding="utf-8")
