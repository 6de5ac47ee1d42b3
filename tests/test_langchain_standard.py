"""LangChain's own standard suites (langchain-tests) on our retriever and embedders.

The suites' async tests are unmarked and may not be overridden (``test_no_overrides``):
pytest-asyncio runs them in auto mode (pyproject.toml).
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from assistant.api import Assistant
from assistant.config import Config
from assistant.embeddings import E5_NAME, load_embeddings
from assistant.langchain_retriever import AssistantRetriever

from conftest import MINILM

_SEEDS: dict[str, Assistant] = {}


@pytest.fixture
def _seed_assistant(seed_index: Config) -> None:
    _SEEDS.setdefault("bot", Assistant(seed_index))


@pytest.mark.usefixtures("_seed_assistant")
class TestAssistantRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return AssistantRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"assistant": _SEEDS["bot"]}

    @property
    def retriever_query_example(self) -> str:
        return "Combien coûte ChatGPT Enterprise aux agences fédérales ?"


def test_as_retriever_carries_the_citation(seed_index: Config) -> None:
    docs = Assistant(seed_index).as_retriever(k=2).invoke("Anthropic propose Claude au gouvernement pour 1 dollar")
    assert len(docs) == 2 and docs[0].metadata["source"].startswith("003")
    meta = docs[0].metadata
    assert Assistant(seed_index).article_text(meta["source"])[meta["start"] : meta["end"]] == docs[0].page_content


class _E5:
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return type(load_embeddings(E5_NAME))  # type: ignore[return-value]

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {}


class _MiniLM:
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return type(load_embeddings(MINILM))  # type: ignore[return-value]

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"name_or_path": MINILM}


class TestE5EmbeddingsUnit(_E5, EmbeddingsUnitTests):
    pass


class TestE5EmbeddingsIntegration(_E5, EmbeddingsIntegrationTests):
    pass


class TestMiniLMEmbeddingsUnit(_MiniLM, EmbeddingsUnitTests):
    pass


class TestMiniLMEmbeddingsIntegration(_MiniLM, EmbeddingsIntegrationTests):
    pass
