"""The HTTP path: langchain-openai and langchain-ollama against a server on loopback.

The server below speaks the chat-completions protocol (``GET /v1/models``,
``POST /v1/chat/completions`` with SSE streaming) and Ollama's (``GET /api/tags``,
``POST /api/chat`` with NDJSON streaming), and writes its reply from the
request it gets: it finds the passage that states the price among the numbered
passages between the prompt's delimiters and cites it. So these tests exercise
the real request, the real stream parsing and the real fault handling.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from assistant.api import Assistant
from assistant.cli import main
from assistant.config import Config, read_env
from assistant.errors import ConfigError
from assistant.llm import MAX_ANSWER_TOKENS, MAX_REPLY_CHARS, build_answerer
from assistant.llm.answerer import max_reply_chars
from tests.streamed import ask_streamed

PRICE_Q = "Combien les agences fédérales américaines paieront-elles par an pour accéder à ChatGPT Enterprise ?"
MODEL = "tiny-test"
STALL_LIMIT_S = 10.0  # a stalled reply gives up by itself after this


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "answer"  # answer | http500 | stall | garbage | reject_key | cut | huge
        self.requests: list[dict[str, Any]] = []
        self.stop = threading.Event()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return self.root + "/v1"


def compose_reply(messages: list[dict[str, str]]) -> str:
    """Answer like an obedient model: cite the passage that states the price."""
    system, user = messages[0]["content"], messages[-1]["content"]
    opening = re.search(r"<<<DATA [0-9a-f]+>>>", system)
    if not opening or opening.group() not in user:
        return "I was given no delimited passages."
    data = user.split(opening.group(), 1)[1]
    for block in re.split(r"\n(?=\[\d+\] )", data):
        number = re.match(r"\s*\[(\d+)\]", block)
        if number and "1 dollar par an" in block:
            n = number.group(1)
            return f"Les agences fédérales américaines paieront 1 dollar par an pour ChatGPT Enterprise [{n}]."
    return "Les articles ne disent pas cela."


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep pytest output clean
        pass

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            self._json(200, {"models": [{"model": "llama3.1:latest", "name": "llama3.1:latest", "size": 1}]})
        elif self.path != "/v1/models":
            self._json(404, {"error": {"message": "not found"}})
        elif self.server.mode == "reject_key":
            self._json(401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
        else:
            self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "test"}]})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self.server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path == "/api/chat":
            return self._ollama_chat(body)
        if self.path != "/v1/chat/completions":
            return self._json(404, {"error": {"message": "not found"}})
        if self.server.mode == "http500":
            return self._json(500, {"error": {"message": "model crashed", "type": "server_error"}})
        reply = compose_reply(body["messages"])
        if not body.get("stream"):
            return self._json(200, {
                "id": "c1", "object": "chat.completion", "created": int(time.time()), "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}],
            })
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        tokens = re.findall(r"\S+\s*", reply)
        self._event({"role": "assistant", "content": ""})
        for i, token in enumerate(tokens):
            if self.server.mode == "garbage" and i == 3:
                self.wfile.write(b"data: {this is not json\n\n")
                self.wfile.flush()
                return
            if self.server.mode == "stall" and i == 2:
                self.server.stop.wait(STALL_LIMIT_S)
                return
            if self.server.mode == "cut" and i == len(tokens) - 2:  # drop the connection mid-answer
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            self._event({"content": token})
        if self.server.mode == "huge":  # a server that ignores max_tokens: 228 KB more, then stop
            for _ in range(228):
                self._event({"content": "Les agences paieront encore et encore. " * 26})
        self._event({}, finish="stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _ollama_chat(self, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Connection", "close")
        self.end_headers()
        tokens = re.findall(r"\S+\s*", compose_reply(body["messages"])) if body.get("stream", True) else []
        base = {"model": body["model"], "created_at": "2025-01-01T00:00:00Z"}
        for token in tokens:
            line = {**base, "message": {"role": "assistant", "content": token}, "done": False}
            self.wfile.write((json.dumps(line) + "\n").encode())
            self.wfile.flush()
        last = {**base, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop"}
        self.wfile.write((json.dumps(last) + "\n").encode())
        self.wfile.flush()

    def _event(self, delta: dict[str, str], finish: str | None = None) -> None:
        chunk = {
            "id": "c1", "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        try:
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.stop.set()
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=STALL_LIMIT_S)


def llm_config(seed_index: Config, server: Server, **kw: Any) -> Config:
    return seed_index.with_(llm=f"openai-compatible:{MODEL}", llm_base_url=server.url, **kw)


def test_streamed_answer_over_http_is_verified(seed_index, server, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback-test")
    config = llm_config(seed_index, server)
    bot = Assistant(config, llm=build_answerer(config))
    pieces, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == f"openai-compatible:{MODEL}" and answer.notice is None
    assert len(pieces) > 5 and "".join(pieces) == answer.answer
    assert answer.support == 1.0 and len(answer.citations) == 1
    c = answer.citations[0]
    assert bot.article_text(c.source)[c.start : c.end] == c.quote and "1 dollar par an" in c.quote
    request = server.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["auth"] == "Bearer sk-loopback-test"
    body = request["body"]
    assert body["model"] == MODEL and body["stream"] is True and body["temperature"] == 0
    assert body["max_tokens"] == MAX_ANSWER_TOKENS  # llama.cpp's server reads only this one
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][1]["content"].endswith("Question: " + PRICE_Q)


def test_http_error_falls_back_with_a_notice(seed_index, server) -> None:
    config = llm_config(seed_index, server)
    bot = Assistant(config, llm=build_answerer(config))
    server.mode = "http500"
    _, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == "extractive" and "HTTP 500" in answer.notice
    assert answer.citations and not answer.refused


def test_timeout_falls_back_with_a_notice(seed_index, server) -> None:
    config = llm_config(seed_index, server, llm_timeout_s=1.0)
    bot = Assistant(config, llm=build_answerer(config))
    server.mode = "stall"
    pieces, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == "extractive" and "timed out" in answer.notice
    assert answer.answer in "".join(pieces)


def test_malformed_stream_falls_back_with_a_notice(seed_index, server) -> None:
    config = llm_config(seed_index, server)
    bot = Assistant(config, llm=build_answerer(config))
    server.mode = "garbage"
    _, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == "extractive" and "failed" in answer.notice and answer.citations


def test_a_connection_cut_mid_answer_falls_back_instead_of_a_partial_answer(seed_index, server) -> None:
    config = llm_config(seed_index, server)
    bot = Assistant(config, llm=build_answerer(config))
    server.mode = "cut"
    pieces, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == "extractive", answer.answer
    assert "connection closed before the answer was complete" in answer.notice
    assert answer.citations and not answer.refused
    assert answer.answer in "".join(pieces)  # the partial text is followed by the full fallback answer


def test_a_reply_far_over_max_tokens_is_cut_off_and_falls_back(seed_index, server) -> None:
    config = llm_config(seed_index, server)
    bot = Assistant(config, llm=build_answerer(config))
    server.mode = "huge"
    pieces, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == "extractive" and f"reply over {MAX_REPLY_CHARS:,} characters" in answer.notice
    assert len("".join(pieces)) < MAX_REPLY_CHARS + len(answer.answer) + 1000  # never the 228 KB


def test_the_answer_token_cap_is_a_setting_and_bounds_the_reply(seed_index, server) -> None:
    config = llm_config(seed_index, server).with_(**read_env({"ASSISTANT_LLM_MAX_TOKENS": "64"}))
    bot = Assistant(config, llm=build_answerer(config))
    _, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == f"openai-compatible:{MODEL}"
    assert server.requests[-1]["body"]["max_tokens"] == 64
    server.mode = "huge"  # a server ignoring the smaller cap is cut off sooner
    pieces, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == "extractive" and f"reply over {max_reply_chars(64):,} characters" in answer.notice
    assert len("".join(pieces)) < max_reply_chars(64) + len(answer.answer) + 1000
    with pytest.raises(ConfigError, match="^ASSISTANT_LLM_MAX_TOKENS=.*out of range"):
        read_env({"ASSISTANT_LLM_MAX_TOKENS": "8"})


def test_llm_options_are_accepted_after_the_command(seed_index, server) -> None:
    where = ["--sources", str(seed_index.sources_dir), "--index", str(seed_index.index_dir)]
    llm = ["--llm", f"openai-compatible:{MODEL}", "--llm-base-url", server.url]
    result = CliRunner().invoke(main, ["ask", PRICE_Q, *where, *llm, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answerer"] == f"openai-compatible:{MODEL}"
    assert server.requests and server.requests[-1]["path"] == "/v1/chat/completions"


def test_unknown_model_and_rejected_key_fail_at_startup(seed_index, server) -> None:
    with pytest.raises(ConfigError, match=rf"model 'nope' is not served .*{MODEL}.*--llm openai-compatible:NAME"):
        build_answerer(seed_index.with_(llm="openai-compatible:nope", llm_base_url=server.url))
    server.mode = "reject_key"
    with pytest.raises(ConfigError, match="rejected the API key .*OPENAI_API_KEY"):
        build_answerer(llm_config(seed_index, server))


def test_cli_streams_and_prints_verified_citations(seed_index, server) -> None:
    args = ["--llm", f"openai-compatible:{MODEL}", "--llm-base-url", server.url]
    where = ["--sources", str(seed_index.sources_dir), "--index", str(seed_index.index_dir)]
    status = CliRunner().invoke(main, [*args, "status", *where])
    assert status.exit_code == 0, status.output
    assert f"language model:  openai-compatible:{MODEL}" in status.output and "reachable" in status.output
    result = CliRunner().invoke(main, [*args, "ask", *where, PRICE_Q])
    assert result.exit_code == 0, result.output
    assert "1 dollar par an pour ChatGPT Enterprise [1]." in result.output
    assert re.search(r"\[1\] .* — \S+\.txt \[\d+:\d+\]\n    « .*1 dollar par an.* »", result.output)
    as_json = CliRunner().invoke(main, [*args, "ask", *where, "--json", PRICE_Q])
    data = json.loads(as_json.stdout)
    assert data["answerer"] == f"openai-compatible:{MODEL}" and data["support"] == 1.0 and data["unsupported"] == []


def test_ollama_protocol_streamed_and_verified(seed_index, server) -> None:
    config = seed_index.with_(llm="ollama:llama3.1", llm_base_url=server.root)
    answerer = build_answerer(config)
    assert "llama3.1 pulled" in answerer.check()
    bot = Assistant(config, llm=answerer)
    pieces, answer = ask_streamed(bot, PRICE_Q)
    assert answer.answerer == "ollama:llama3.1" and answer.notice is None
    assert len(pieces) > 5 and answer.support == 1.0
    c = answer.citations[0]
    assert bot.article_text(c.source)[c.start : c.end] == c.quote
    request = server.requests[-1]
    assert request["path"] == "/api/chat" and request["body"]["model"] == "llama3.1"
    assert request["body"]["options"]["temperature"] == 0
    with pytest.raises(ConfigError, match=r"no model 'mistral'.*ollama pull mistral"):
        build_answerer(seed_index.with_(llm="ollama:mistral", llm_base_url=server.root))
