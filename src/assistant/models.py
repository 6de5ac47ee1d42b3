"""Plain data objects shared by the library, the CLI and the UI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One source file after loading and cleaning. Offsets everywhere refer to ``text``."""

    id: str  # hash of the cleaned text: the same article under two names has one id
    source: str  # file name relative to the sources folder
    title: str
    date: str | None  # ISO YYYY-MM-DD when the article states it
    lang: str  # "fr", "en", ...
    content_hash: str  # hash of the raw bytes
    text: str


@dataclass(frozen=True)
class Chunk:
    id: str
    article_id: str
    source: str
    title: str
    date: str | None
    lang: str
    text: str  # == article.text[start:end]
    start: int
    end: int
    index: int  # position of the chunk in its article


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score."""

    chunk_id: str
    source: str
    title: str
    date: str | None
    lang: str
    text: str
    start: int
    end: int
    score: float
    dense_score: float = 0.0  # cosine similarity with the question
    lexical_score: float = 0.0  # BM25

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "title": self.title,
            "date": self.date,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class Citation:
    id: int
    source: str
    title: str
    date: str | None
    passage: str
    quote: str  # verbatim: article.text[start:end] == quote
    start: int
    end: int
    score: float
    passage_start: int = 0
    passage_end: int = 0

    @classmethod
    def of(cls, n: int, passage: Passage, quote: str, start: int, end: int, score: float) -> "Citation":
        """Citation ``[n]`` of ``quote`` (``article_text[start:end]``) found in ``passage``."""
        return cls(
            id=n, source=passage.source, title=passage.title, date=passage.date, passage=passage.text,
            quote=quote, start=start, end=end, score=score, passage_start=passage.start, passage_end=passage.end,
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(self.score, 6)
        return d


@dataclass
class Answer:
    question: str
    answer: str
    refused: bool
    citations: list[Citation]
    retrieved: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # The question actually searched, when a follow-up was rewritten from the history.
    standalone_question: str | None = None
    # Sentences of a generated answer that no quote of their cited passage supports.
    unsupported: list[str] = field(default_factory=list)
    # Share of answer sentences backed by a verified quote (1.0 for extractive answers).
    support: float | None = None
    # Shown to the user, e.g. "The language model failed; extractive answer instead."
    notice: str | None = None
    answerer: str = "extractive"
    # Probability that the articles support an answer (the answerability model); None if not computed.
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "retrieved": [p.to_dict() for p in self.retrieved],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "standalone_question": self.standalone_question,
            "unsupported": list(self.unsupported),
            "support": self.support,
            "notice": self.notice,
            "answerer": self.answerer,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
        }


@dataclass
class Problem:
    """A source file that was skipped (or indexed in part, in ``IndexReport.warnings``), and why."""

    source: str
    reason: str


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: dict[str, str] = field(default_factory=dict)  # source -> source it duplicates
    skipped: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # indexed articles whose lost records were rewritten
    warnings: list[Problem] = field(default_factory=list)  # indexed, but part of the file is not searchable
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    files_checked: int = -1  # a run over named files (file events, `index FILE...`): how many; -1: the whole folder

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.removed)} removed",
            f"{len(self.unchanged)} unchanged" if self.files_checked < 0 else f"{self.files_checked} file(s) checked",
        ]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} duplicate")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.repaired:
            parts.append(f"{len(self.repaired)} repaired")
        if self.warnings:
            parts.append(f"{len(self.warnings)} with warnings")
        return (
            ", ".join(parts)
            + f"; {self.chunks_embedded} chunks embedded, {self.chunks_total} in index; {self.seconds:.1f}s"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["summary"] = self.summary()
        return d


@dataclass
class ArticleInfo:
    source: str
    title: str
    date: str | None
    lang: str
    chunks: int


@dataclass
class IndexStatus:
    index_dir: str
    articles: int
    chunks: int
    embedding_model: str
    dimension: int
    languages: dict[str, int]
    last_indexed: str | None
    size_bytes: int
    chunking: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
