"""BM25 over chunks, one sub-index per article language (bm25s + Snowball stemmers).

A question is tokenised with each sub-index's own stemmer, so a French question
still matches names and numbers in English articles and vice versa.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .text import lexical_tokens


@dataclass
class _SubIndex:
    lang: str
    chunk_ids: list[str]
    model: object  # bm25s.BM25


class LexicalIndex:
    def __init__(self, subs: list[_SubIndex]) -> None:
        self._subs = subs

    @classmethod
    def build(cls, chunks: list[tuple[str, str, str]]) -> "LexicalIndex":
        """``chunks``: (chunk_id, lang, text to index)."""
        import bm25s

        by_lang: dict[str, list[tuple[str, str]]] = {}
        for cid, lang, text in chunks:
            by_lang.setdefault(lang, []).append((cid, text))
        subs = []
        for lang, items in sorted(by_lang.items()):
            model = bm25s.BM25(k1=1.2, b=0.75)
            corpus = [lexical_tokens(text, lang) or ["\x00empty"] for _, text in items]
            model.index(corpus, show_progress=False)
            subs.append(_SubIndex(lang, [cid for cid, _ in items], model))
        return cls(subs)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for sub in self._subs:
            sub_dir = directory / sub.lang
            sub.model.save(str(sub_dir), show_progress=False)  # type: ignore[attr-defined]
            (sub_dir / "chunk_ids.json").write_text(json.dumps(sub.chunk_ids))

    @classmethod
    def load(cls, directory: Path) -> "LexicalIndex":
        import bm25s

        subs = []
        if directory.is_dir():
            for sub_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
                ids = json.loads((sub_dir / "chunk_ids.json").read_text())
                model = bm25s.BM25.load(str(sub_dir), show_progress=False)
                subs.append(_SubIndex(sub_dir.name, ids, model))
        return cls(subs)

    def search(self, question: str, k: int) -> list[tuple[str, float]]:
        """Top ``k`` (chunk_id, score), scores normalised to [0, 1] per sub-index."""
        hits: list[tuple[str, float]] = []
        for sub in self._subs:
            tokens = lexical_tokens(question, sub.lang)
            vocab = sub.model.vocab_dict  # type: ignore[attr-defined]
            tokens = [t for t in tokens if t in vocab]
            if not tokens:
                continue
            scores = np.asarray(sub.model.get_scores(tokens))  # type: ignore[attr-defined]
            top = scores.max()
            if top <= 0:
                continue
            order = np.argsort(-scores)[:k]
            hits.extend((sub.chunk_ids[i], float(scores[i] / top)) for i in order if scores[i] > 0)
        hits.sort(key=lambda h: -h[1])
        return hits[:k]

    def languages(self) -> list[str]:
        return [sub.lang for sub in self._subs]

    def document_frequency(self, lang: str, token: str) -> int:
        """How many chunks of the ``lang`` sub-index hold the stemmed ``token`` (0 if none or no such language)."""
        sub = next((s for s in self._subs if s.lang == lang), None)
        if sub is None:
            return 0
        vocab = sub.model.vocab_dict  # type: ignore[attr-defined]
        if token not in vocab:
            return 0
        indptr = sub.model.scores["indptr"]  # type: ignore[attr-defined]
        return int(indptr[vocab[token] + 1] - indptr[vocab[token]])

    def idf(self, lang: str, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency of stemmed tokens in the ``lang`` sub-index.

        A token that no chunk holds gets the highest weight: a question about
        something the articles never mention should look weakly supported.
        """
        sub = next((s for s in self._subs if s.lang == lang), None)
        out: dict[str, float] = {}
        ceiling = float(np.log(1 + (max(len(sub.chunk_ids), 1) + 0.5) / 0.5)) if sub else 5.0
        for token in tokens:
            value = _idf(sub.model, token) if sub else None
            out[token] = ceiling if value is None else value
        return out


def _idf(model: object, token: str) -> float | None:
    vocab = model.vocab_dict  # type: ignore[attr-defined]
    if token not in vocab:
        return None
    indptr = model.scores["indptr"]  # type: ignore[attr-defined]
    n_docs = model.scores["num_docs"]  # type: ignore[attr-defined]
    t = vocab[token]
    df = int(indptr[t + 1] - indptr[t])
    return float(np.log(1 + (n_docs - df + 0.5) / (df + 0.5)))


def weighted_coverage(weights: dict[str, float], stems: set[str] | frozenset[str]) -> float:
    """IDF-weighted share of the question's terms (``weights``) that ``stems`` holds."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in stems) / total if total else 0.0
