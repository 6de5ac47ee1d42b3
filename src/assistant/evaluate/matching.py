"""How an answer is compared with the gold answers and evidence (folded, article-insensitive)."""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable

from ..markers import strip_markers
from ..text import fold

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
# Articles dropped before token F1: SQuAD's English ones, and the French definite,
# indefinite, partitive and contracted articles (l' and d' become "l" and "d" once
# the apostrophe splits the elision). Both lists apply to every answer: an English
# question over French articles gets a French answer.
ARTICLES = frozenset({"a", "an", "the", "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "au", "aux"})


def answer_fold(text: str) -> str:
    """Comparison form for answers: markers dropped, NFKC, case, whitespace and apostrophe folding."""
    return fold(strip_markers(text).translate(_APOSTROPHES))


def answer_contains(answer: str, gold: str) -> bool:
    g = answer_fold(gold)
    return bool(g) and g in answer_fold(answer)


def answer_tokens(text: str) -> list[str]:
    """SQuAD-style tokens: lower-case, punctuation removed, articles and elided articles dropped."""
    text = unicodedata.normalize("NFKC", strip_markers(text)).casefold().translate(_APOSTROPHES)
    # Punctuation becomes a space, so elisions split: l'homme -> l homme, jusqu'à -> jusqu à.
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return [t for t in text.split() if t not in ARTICLES]


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = answer_tokens(prediction), answer_tokens(gold)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains_evidence(text: str, evidence: Iterable[str]) -> bool:
    folded = fold(text)
    return any(e and e in folded for e in (fold(x) for x in evidence))

