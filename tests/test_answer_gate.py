"""The answerability gate is shared: with no evidence an LLM answerer refuses without calling the model."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from assistant.answer import refusal_text
from assistant.api import Assistant
from assistant.config import Config
from assistant.llm import LLMAnswerer


class Calls(BaseCallbackHandler):
    def __init__(self) -> None:
        self.count = 0

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.count += 1


def test_llm_is_not_called_without_evidence(seed_index: Config) -> None:
    calls = Calls()
    model = GenericFakeChatModel(messages=iter(["Le tiercé gagnant est 4-7-12 [1]."]), callbacks=[calls])
    bot = Assistant(seed_index, llm=LLMAnswerer(model, "fake:scripted"))
    answer = bot.ask("zzzz qqqq xxxx")
    assert answer.refused and answer.citations == []
    assert answer.answer == refusal_text("en")
    assert calls.count == 0
    assert answer.confidence is not None


def test_llm_is_called_when_the_articles_hold_the_answer(seed_index: Config) -> None:
    calls = Calls()
    model = GenericFakeChatModel(messages=iter(["Dario Amodei [1]."]), callbacks=[calls])
    bot = Assistant(seed_index, llm=LLMAnswerer(model, "fake:scripted"))
    answer = bot.ask("Qui est le PDG d'Anthropic ?")
    assert calls.count == 1
    assert answer.answerer == "fake:scripted" and answer.confidence is not None
    assert not answer.refused and answer.answer == "Dario Amodei [1]."
    assert answer.support == 1.0 and "Dario Amodei" in answer.citations[0].quote  # [1] checked against its passage


def test_llm_is_not_called_for_a_price_the_articles_do_not_state(seed_index: Config) -> None:
    calls = Calls()
    model = GenericFakeChatModel(messages=iter(["Stargate coûte 500 milliards de dollars [1]."]), callbacks=[calls])
    bot = Assistant(seed_index, llm=LLMAnswerer(model, "fake:scripted"))
    answer = bot.ask("Quel est le coût du projet Stargate ?")
    assert answer.refused and calls.count == 0
    assert answer.confidence == 0.0
