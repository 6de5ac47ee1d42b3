"""The one typed Python API that the CLI, the web UI and the evaluation call.

    from assistant import Assistant, Config
    bot = Assistant(Config(sources_dir=Path("sources"), index_dir=Path("index")))
    bot.index()
    answer = bot.ask("Combien coûte ChatGPT Enterprise aux agences fédérales ?")
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator

import numpy as np

from .answer import CANDIDATE_PASSAGES, ExtractiveAnswerer
from .config import Config
from .errors import QuestionError
from .followup import standalone_question
from .index import IndexStore, Progress
from .models import Answer, ArticleInfo, IndexReport, IndexStatus, Passage
from .retrieval import Retriever
from .text import detect_language

MAX_QUESTION_CHARS = 2000
History = list[dict[str, str]]


def clean_question(question: str) -> str:
    """Printable, NFKC, single-spaced; raises :class:`QuestionError` when unusable."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = unicodedata.normalize("NFKC", question)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise QuestionError("the question is empty; type a question about the articles")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(text):,} characters long; keep it under {MAX_QUESTION_CHARS:,} "
            "(ask about one thing at a time)"
        )
    if not re.search(r"\w", text):
        raise QuestionError("the question holds no words; type a question about the articles")
    return text


class Assistant:
    def __init__(self, config: Config | None = None, llm: object | None = None) -> None:
        self.config = config or Config.from_env()
        self.store = IndexStore(self.config)
        self.retriever = Retriever(self.config)
        self._llm = llm  # an LLM answerer (llm.py); None = the extractive default

    # --- index --------------------------------------------------------------

    def index(self, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        return self.store.update(rebuild=rebuild, progress=progress)

    def status(self) -> IndexStatus:
        return self.store.status()

    def articles(self) -> list[ArticleInfo]:
        return self.store.articles()

    def article_text(self, source: str) -> str:
        """Cleaned text of an indexed article: the text that citation offsets refer to."""
        catalog = self.retriever.snapshot().catalog
        record = catalog.articles.get(source)
        if record is None:
            raise QuestionError(f"no indexed article named {source!r}; run `assistant index` first")
        if "duplicate_of" in record:
            return self.article_text(record["duplicate_of"])
        return self.retriever.article_text(record["id"])

    # --- questions ----------------------------------------------------------

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        return self.retriever.search(clean_question(question), k or self.config.k)

    def ask(self, question: str, history: History | None = None, k: int | None = None) -> Answer:
        final: Answer | None = None
        for event in self.ask_stream(question, history, k):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def ask_stream(self, question: str, history: History | None = None, k: int | None = None) -> Iterator[str | Answer]:
        """Yields pieces of answer text as they come, then the final :class:`Answer`."""
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        text = clean_question(question)
        standalone = self._standalone(text, history)
        searched = standalone or text
        lang = detect_language(searched, default="en")
        t1 = time.perf_counter()
        qvec = self.retriever.embedder.query_vector(searched)
        timings["embed"] = (time.perf_counter() - t1) * 1000
        passages = self.retriever.search(searched, max(k or self.config.k, CANDIDATE_PASSAGES), query_vector=qvec)
        timings["retrieve"] = (time.perf_counter() - t1) * 1000 - timings["embed"]
        t2 = time.perf_counter()
        if self._llm is not None:
            answer = yield from self._llm.stream(searched, lang, passages, self)  # type: ignore[attr-defined]
        else:
            result = self.extractive(qvec).answer(searched, lang, passages)
            answer = Answer(
                question=text,
                answer=result.answer,
                refused=result.refused,
                citations=result.citations,
                retrieved=passages[: k or self.config.k],
                support=None if result.refused else 1.0,
            )
            yield answer.answer
        answer.question = text
        answer.standalone_question = standalone
        timings["answer"] = (time.perf_counter() - t2) * 1000
        timings["total"] = (time.perf_counter() - t0) * 1000
        answer.timings_ms = timings
        yield answer

    def _standalone(self, question: str, history: History | None) -> str | None:
        if self._llm is not None and history:
            return self._llm.condense(question, history)  # type: ignore[attr-defined]
        return standalone_question(question, history)

    def extractive(self, query_vector: np.ndarray | None = None) -> ExtractiveAnswerer:
        """The offline answerer over the current snapshot; ``query_vector`` enables sentence similarity."""
        snapshot = self.retriever.snapshot()

        def lookup(passage: Passage) -> tuple[str, str]:
            article_id = snapshot.catalog.chunks[passage.chunk_id]["article_id"]
            return article_id, snapshot.texts[article_id]

        def cosines(article_id: str, start: int, end: int) -> dict[tuple[int, int], float]:
            assert query_vector is not None
            return self.retriever.sentence_cosines(article_id, start, end, query_vector)

        return ExtractiveAnswerer(snapshot.lexical, lookup, cosines if query_vector is not None else None)
