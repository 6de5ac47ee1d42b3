"""The chat page with a real language model: llama.cpp's OpenAI-compatible server on loopback
(Gemma 3 270M), ``assistant serve --llm``, and the page in headless Chromium.

Its tokens must show as they arrive (the bubble is seen streaming, with text, before it is
final), and its citation markers become links only once verified. Skipped, with the reason,
when llama-cpp-python[server], the model package or Chromium is missing. Measures the time
to the first visible token and to the final answer (tests/artifacts/ui_browser_timings.json).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.config import Config
from test_llm_llama_server import PAGE_QUESTION as QUESTION
from test_ui_browser import DESKTOP, WAIT, record
from test_ui_server import CHROMIUM_ARGS, Server, private_copy, start_server
from tests.llama import ALIAS, MAX_TOKENS, LlamaServer

pytestmark = [pytest.mark.llama_server, pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def llm_server(seed_index: Config, llama: LlamaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("llm-browser")
    srv = start_server(private_copy(seed_index, root), root / "serve.log", "--no-watch",
                       ASSISTANT_LLM=f"openai-compatible:{ALIAS}", ASSISTANT_LLM_BASE_URL=llama.url,
                       ASSISTANT_LLM_MAX_TOKENS=str(MAX_TOKENS))
    yield srv
    srv.stop()


def test_llm_tokens_show_as_they_arrive_and_citations_settle(llm_server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    chromium = shutil.which("chromium")
    assert chromium is not None  # test_ui_browser skips the module without it
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page: Any = browser.new_page(viewport=DESKTOP, locale="fr-FR")
            page.goto(llm_server.url)
            box = page.locator("#chat-input textarea")
            expect(box).to_be_editable(timeout=WAIT)
            # Note when text first shows in the bubble, and every state the bubble goes through.
            page.evaluate("""() => { window.__states = []; window.__firstText = null;
                new MutationObserver(() => document.querySelectorAll('#chatbot .answer').forEach((a) => {
                  window.__states.push(a.className);
                  if (window.__firstText === null && a.classList.contains('streaming')
                      && a.textContent.replace('▍', '').trim()) window.__firstText = performance.now();
                })).observe(document.body, {childList: true, subtree: true, characterData: true}); }""")
            box.fill(QUESTION)
            asked = page.evaluate("() => performance.now()")
            started = time.perf_counter()
            box.press("Enter")
            final = page.locator("#chatbot .answer.done").first
            expect(final).to_be_visible(timeout=300_000)
            record("llm_answer_final_s", time.perf_counter() - started)
            first_text = page.evaluate("() => window.__firstText")
            states = page.evaluate("() => window.__states")
            bubble = final.inner_text()
        finally:
            browser.close()
    assert first_text is not None, f"no streamed text was ever shown: {sorted(set(states))}; answer: {bubble}"
    record("llm_first_visible_token_s", (first_text - asked) / 1000)
    assert any("streaming" in s for s in states) and "done" in states[-1]
