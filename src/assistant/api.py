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
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .answer import CANDIDATE_PASSAGES, ExtractiveAnswerer, selector_first
from .catalog import MAX_PAGE, CatalogEntry, CatalogPage, catalog_page, filter_words
from .catalog import entry as catalog_entry
from .config import Config
from .errors import IndexMissingError, QuestionError, build_hint
from .followup import bound_history, standalone_question
from .index import IndexStore, Progress
from .models import Answer, ArticleInfo, IndexReport, IndexStatus, Passage
from .retrieval import Retriever
from .selector import load_model
from .text import detect_language

if TYPE_CHECKING:
    from langchain_core.retrievers import BaseRetriever

MAX_QUESTION_CHARS = 2000
MAX_K = 50
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


def check_k(k: object) -> int | None:
    """``k`` as given (None = the configured default); raises :class:`QuestionError` unless 1..MAX_K."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k (passages to retrieve) must be a whole number from 1 to {MAX_K}, not {k!r}")
    return k


class Assistant:
    def __init__(self, config: Config | None = None, llm: object | None = None) -> None:
        self.config = config or Config.from_env()
        self.store = IndexStore(self.config)
        self.retriever = Retriever(self.config)
        self._llm = llm  # an LLM answerer (llm.py); None = the extractive default

    @property
    def uses_llm(self) -> bool:
        """True when a language model writes the answers (they stream); False for the extractive answerer."""
        return self._llm is not None

    # --- index --------------------------------------------------------------

    def index(self, rebuild: bool = False, progress: Progress | None = None, files: list[str] | None = None) -> IndexReport:
        """Incremental update of the whole folder; with ``files`` (source names), of those files only."""
        try:
            return self.store.update(rebuild=rebuild, progress=progress, files=files)
        finally:
            self.retriever.forget_view()  # this process sees its own changes at once, not after the next check

    def status(self) -> IndexStatus:
        return self.store.status()

    def articles(self) -> list[ArticleInfo]:
        return self.store.articles()

    def catalog(self, match: str = "", offset: int = 0, limit: int = MAX_PAGE) -> CatalogPage:
        """A page of the files of the index, duplicates included, sorted by file name: those whose
        title, file name, date or language hold every word of ``match`` (``catalog.py``)."""
        # The reader's view of the heads, kept in step generation by generation: listing them
        # from Chroma takes a minute at 100,000 articles.
        heads = self.retriever.snapshot().heads.values()
        return catalog_page(heads, Path(self.config.sources_dir), filter_words(match), offset, limit)

    def catalog_entry(self, source: str) -> CatalogEntry | None:
        """The list's entry of one file, or None when the index does not know it."""
        head = self.retriever.snapshot().heads.get(source)
        return None if head is None else catalog_entry(head, Path(self.config.sources_dir))

    def delete_article(self, source: str, update_index: bool = True, progress: Progress | None = None) -> IndexReport | None:
        """Remove ``source`` from the sources folder, then from the index (incremental update).

        ``update_index=False`` leaves the index update to the caller (e.g. the web page's indexer,
        which serialises updates with the folder watcher); it returns None then.
        """
        known = source in self.retriever.snapshot().heads
        root = Path(self.config.sources_dir).resolve()
        path = (root / source).resolve()
        if not known or not path.is_relative_to(root) or path == root:
            raise QuestionError(f"no indexed article named {source!r}; pick one from the article list")
        path.unlink(missing_ok=True)
        return self.index(progress=progress) if update_index else None

    def index_generation(self) -> int:
        """Changes whenever an indexing run commits (one small read of the store); -1 before any."""
        generation = self.store.generation(check_model=False)
        return generation.number if generation else -1

    def article_text(self, source: str) -> str:
        """Cleaned text of an indexed article: the text that citation offsets refer to."""
        head = self.retriever.snapshot().heads.get(source)
        if head is None:
            raise QuestionError(f"no indexed article named {source!r}; run `assistant index` first")
        return self.retriever.article_text(head.article_id)

    # --- questions ----------------------------------------------------------

    def require_index(self) -> None:
        """Raise :class:`IndexMissingError` (saying how to build it) when there is no index to ask."""
        if self.retriever.snapshot().generation is None and not self.store.exists():  # the view: no read per ask
            self.store.load_catalog()  # a file or a folder of other files: that message, it is more precise
            where = self.config.index_dir
            raise IndexMissingError(
                f"no index in {where} (never built, or a typo in --index); {build_hint(self.config.sources_dir, where)}"
            )

    def search(self, question: str, k: int | None = None) -> list[Passage]:
        """The closest passages, best first: the retriever's top ones, then the passage of the
        sentence the answerer's selector finds likeliest to answer moved to the front
        (``answer.selector_first``), as ``ask`` lists the passage it quotes first."""
        text, k = clean_question(question), check_k(k)
        self.require_index()
        k = k or self.config.k
        qvec = self.retriever.embedder.query_vector(text)
        passages = self.retriever.search(text, max(k, CANDIDATE_PASSAGES), query_vector=qvec)
        ranking = self.extractive(qvec).rank(text, passages, detect_language(text, default="en"))
        return selector_first(text, passages, ranking)[:k]

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
        k = check_k(k)
        history = bound_history(history)  # a visitor's megabytes of history cost nothing past here
        self.require_index()
        standalone = self._standalone(text, history)
        searched = standalone or text
        lang = detect_language(searched, default="en")
        t1 = time.perf_counter()
        qvec = self.retriever.embedder.query_vector(searched)
        timings["embed"] = (time.perf_counter() - t1) * 1000
        passages = self.retriever.search(searched, max(k or self.config.k, CANDIDATE_PASSAGES), query_vector=qvec)
        timings["retrieve"] = (time.perf_counter() - t1) * 1000 - timings["embed"]
        t2 = time.perf_counter()
        # The extractive pass is cheap (milliseconds) and always runs: its confidence is the
        # answerability gate for every answerer, so an LLM is never asked without evidence.
        result = self.extractive(qvec).answer(searched, lang, passages)
        if self._llm is not None and not result.refused:
            answer = yield from self._llm.stream(searched, lang, passages, self)  # type: ignore[attr-defined]
        else:
            # A refusal by the shared gate belongs to whichever answerer is configured.
            name = self._llm.name if self._llm is not None else "extractive"  # type: ignore[attr-defined]
            answer = result.to_answer(text, passages, name, k or self.config.k)
            yield answer.answer
        answer.confidence = result.confidence
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

        def cosines(article_id: str, start: int, end: int) -> dict[tuple[int, int], float]:
            assert query_vector is not None
            return self.retriever.sentence_cosines(article_id, start, end, query_vector)

        model = load_model(self.config.answerer_model) if self.config.answerer_model else None
        return ExtractiveAnswerer(snapshot.lexical, self.retriever.article_of, cosines if query_vector is not None else None, model)

    def as_retriever(self, k: int | None = None) -> "BaseRetriever":
        """The hybrid retriever as a LangChain ``BaseRetriever``, for use in other chains."""
        from .langchain_retriever import AssistantRetriever

        return AssistantRetriever(assistant=self, k=k or self.config.k)
