"""What the citations of one answer say about each other: who else reports a fact, and where figures differ.

An answer sentence followed by several markers (``… 1 $ par an [1][3].``) is backed by
each of those citations; when they come from different articles, each card names the
others ("also reported by …"). When the question asks for a number or a date and the
answer's sentences, cited to different articles, give different ones, both are listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer_types import DATE, NUMBER, question_type
from assistant.models import Answer, Citation

_MARKERS = re.compile(r"(?:\s*\[\d{1,3}\])+")
_ID = re.compile(r"\[(\d{1,3})\]")
# An amount or a year: "1 $", "200 millions de dollars", "48 300 euros", "$1", "2026", "17 mois".
_FIGURE = re.compile(
    r"(?:[$€£]\s?)?\d[\d\s.,]*\d*(?:\s?(?:%|\$|€|£|euros?|dollars?|millions?|milliards?|billions?|"
    r"million|billion|mois|months?|ans|years?))*(?:\s(?:de|of)\s(?:dollars|euros))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Figure:
    value: str  # as written in the answer, e.g. "1 $"
    citation: int


def marker_groups(text: str) -> list[tuple[str, list[int]]]:
    """(sentence text without markers, its citation ids) for each run of markers in ``text``."""
    groups: list[tuple[str, list[int]]] = []
    pos = 0
    for m in _MARKERS.finditer(text):
        ids = [int(i) for i in _ID.findall(m.group())]
        groups.append((text[pos : m.start()].strip(), list(dict.fromkeys(ids))))
        pos = m.end()
    return groups


def also_reported(answer: Answer) -> dict[int, list[Citation]]:
    """For each citation id, the citations of other articles that back the same answer sentence."""
    by_id = {c.id: c for c in answer.citations}
    out: dict[int, list[Citation]] = {}
    for _, ids in marker_groups(answer.answer):
        cited = [by_id[i] for i in ids if i in by_id]
        for c in cited:
            others = out.setdefault(c.id, [])
            for other in cited:
                if other.source != c.source and all(o.source != other.source for o in others):
                    others.append(other)
    return {k: v for k, v in out.items() if v}


def differing_figures(answer: Answer) -> list[Figure]:
    """Figures that answer a number or date question differently in articles that disagree; [] when they agree."""
    if answer.refused or question_type(answer.standalone_question or answer.question) not in (NUMBER, DATE):
        return []
    by_id = {c.id: c for c in answer.citations}
    figures: list[Figure] = []
    for sentence, ids in marker_groups(answer.answer):
        cited = [i for i in ids if i in by_id]
        found = [f.group().strip() for f in _FIGURE.finditer(sentence) if any(ch.isdigit() for ch in f.group())]
        if cited and found:
            figures.append(Figure(found[0], cited[0]))
    sources = {by_id[f.citation].source for f in figures}
    values = {_normal(f.value) for f in figures}
    return figures if len(sources) > 1 and len(values) > 1 else []


def _normal(value: str) -> str:
    return re.sub(r"[\s.,]", "", value.lower())
