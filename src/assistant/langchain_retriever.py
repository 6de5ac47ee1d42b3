"""The assistant's hybrid retriever as a LangChain ``BaseRetriever`` (``Assistant.as_retriever(k=...)``).

Each passage becomes a ``Document`` whose metadata carries the citation: source,
title, date, language, character offsets in the cleaned text, and the scores.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class AssistantRetriever(BaseRetriever):
    assistant: Any  # assistant.api.Assistant (not a pydantic type)
    k: int = 5

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        return [
            Document(
                page_content=p.text,
                metadata={
                    "source": p.source, "title": p.title, "date": p.date, "lang": p.lang, "start": p.start,
                    "end": p.end, "chunk_id": p.chunk_id, "score": p.score,
                },
            )
            for p in self.assistant.search(query, k)
        ]
