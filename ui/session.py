"""The conversation as the browser keeps it (so that it survives a reload), bounded and validated.

The page stores its turns as JSON in the browser's localStorage (Gradio's BrowserState). What
comes back from the browser is untrusted: anything malformed is dropped, never raised, and
only the last :data:`MAX_STORED_TURNS` turns, with bounded texts, are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from assistant.models import Answer, Citation, Passage

MAX_STORED_TURNS = 40  # older turns fall off the stored conversation
MAX_TEXT_CHARS = 20_000  # per stored text (question, answer, passage)
MAX_LIST = 20  # citations or passages per stored answer


@dataclass
class Turn:
    """One question of the session and what came of it."""

    question: str
    answer: Answer | None = None
    error: str | None = None


def to_store(turns: list[Turn]) -> list[dict[str, Any]]:
    """JSON-ready turns (the last MAX_STORED_TURNS)."""
    out: list[dict[str, Any]] = []
    for turn in turns[-MAX_STORED_TURNS:]:
        item: dict[str, Any] = {"question": turn.question, "error": turn.error, "answer": None}
        if turn.answer is not None:
            item["answer"] = turn.answer.to_dict()
            confidence = getattr(turn.answer, "confidence", None)
            if confidence is not None:
                item["answer"]["confidence"] = confidence
        out.append(item)
    return out


def from_store(data: Any) -> list[Turn]:
    """Turns rebuilt from what the browser sent back; malformed entries are skipped."""
    if not isinstance(data, list):
        return []
    turns: list[Turn] = []
    for item in data[-MAX_STORED_TURNS:]:
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            continue
        answer = _answer(item.get("answer"))
        error = item.get("error") if isinstance(item.get("error"), str) else None
        if answer is None and error is None:
            continue
        turns.append(Turn(_text(item["question"]), answer, _text(error) if error else None))
    return turns


def _text(value: Any) -> str:
    return str(value)[:MAX_TEXT_CHARS]


def _answer(d: Any) -> Answer | None:
    if not isinstance(d, dict):
        return None
    try:
        citations = [_citation(c) for c in d.get("citations", [])[:MAX_LIST]]
        retrieved = [_passage(p) for p in d.get("retrieved", [])[:MAX_LIST]]
        answer = Answer(
            question=_text(d["question"]), answer=_text(d["answer"]), refused=bool(d["refused"]),
            citations=citations, retrieved=retrieved,
            standalone_question=_text(d["standalone_question"]) if d.get("standalone_question") else None,
            unsupported=[_text(s) for s in d.get("unsupported", [])[:MAX_LIST]],
            support=float(d["support"]) if isinstance(d.get("support"), (int, float)) else None,
            notice=_text(d["notice"]) if d.get("notice") else None,
            answerer=_text(d.get("answerer", "extractive")),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    confidence = d.get("confidence")
    if isinstance(confidence, (int, float)) and "confidence" in {f.name for f in fields(Answer)}:
        answer.confidence = float(confidence)  # type: ignore[attr-defined]
    return answer


def _citation(c: dict[str, Any]) -> Citation:
    return Citation(
        id=int(c["id"]), source=_text(c["source"]), title=_text(c["title"]),
        date=_text(c["date"]) if c.get("date") else None, passage=_text(c.get("passage", "")),
        quote=_text(c["quote"]), start=int(c["start"]), end=int(c["end"]), score=float(c.get("score", 0.0)),
        passage_start=int(c.get("passage_start", 0)), passage_end=int(c.get("passage_end", 0)),
    )


def _passage(p: dict[str, Any]) -> Passage:
    return Passage(
        chunk_id="", source=_text(p["source"]), title=_text(p["title"]),
        date=_text(p["date"]) if p.get("date") else None, lang="", text=_text(p["text"]),
        start=int(p["start"]), end=int(p["end"]), score=float(p.get("score", 0.0)),
    )
