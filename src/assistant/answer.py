"""The offline extractive answerer: pick the sentences that answer, cite each one.

Deterministic. Every quote is ``article_text[start:end]`` of a sentence of a
retrieved passage, so it is verbatim by construction. Sentences are scored
with the lexical signal (IDF-weighted share of the question's terms that the
sentence holds), the dense signal (the e5 similarity of its passage) and the
asked-for kind of thing (a number for "combien", a date for "quand", ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from .answer_types import OTHER, holds, question_type
from .lexical import LexicalIndex
from .models import Citation, Passage
from .text import lexical_tokens, sentence_spans

# Weights of the sentence score (sum to 1).
W_LEXICAL = 0.45
W_CONTEXT = 0.15  # the same lexical share, measured on the sentence's whole passage
W_DENSE = 0.30
W_TYPE = 0.10
# e5 cosine similarities of related question/passage pairs sit in about [0.75, 0.92].
DENSE_FLOOR, DENSE_SPAN = 0.75, 0.15
# Below this best-sentence score the evidence is too weak: refuse.
# Calibrated on tests/eval/seeds.jsonl (see scripts/calibrate_refusal.py).
REFUSAL_THRESHOLD = 0.42
CANDIDATE_PASSAGES = 6
SECOND_SENTENCE_RATIO = 0.9  # a second answer sentence must score this close to the best
SAME_FACT_OVERLAP = 0.5  # stem overlap above which two sentences say the same thing
MAX_CORROBORATING = 2

REFUSALS = {
    "fr": "Les articles ne disent pas cela : je n'ai trouvé aucun passage qui réponde à la question.",
    "en": "The articles do not say: no passage answers this question.",
}


@dataclass(frozen=True)
class ScoredSentence:
    passage: Passage
    article_id: str
    start: int
    end: int
    text: str
    stems: frozenset[str]
    score: float


@dataclass
class ExtractiveResult:
    answer: str
    refused: bool
    citations: list[Citation]
    strength: float


def refusal_text(lang: str) -> str:
    return REFUSALS.get(lang, REFUSALS["en"])


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, lexical: LexicalIndex, article_text: "ArticleTextLookup") -> None:
        self.lexical = lexical
        self.article_text = article_text

    def score_sentences(self, question: str, passages: list[Passage]) -> list[ScoredSentence]:
        kind = question_type(question)
        seen: set[tuple[str, int]] = set()
        scored: list[ScoredSentence] = []
        q_cache: dict[str, dict[str, float]] = {}
        for passage in passages[:CANDIDATE_PASSAGES]:
            article_id, text = self.article_text(passage)
            weights = q_cache.get(passage.lang)
            if weights is None:
                weights = self.lexical.idf(passage.lang, sorted(set(lexical_tokens(question, passage.lang))))
                q_cache[passage.lang] = weights
            total = sum(weights.values()) or 1.0
            context = _coverage(weights, set(lexical_tokens(passage.title + " " + passage.text, passage.lang)), total)
            dense = min(1.0, max(0.0, (passage.dense_score - DENSE_FLOOR) / DENSE_SPAN))
            for start, end in sentence_spans(text, passage.start, passage.end):
                if (article_id, start) in seen:
                    continue
                seen.add((article_id, start))
                sentence = text[start:end]
                stems = frozenset(lexical_tokens(sentence, passage.lang))
                if not stems:
                    continue
                typed = kind != OTHER and holds(kind, sentence, question)
                score = (
                    W_LEXICAL * _coverage(weights, stems, total)
                    + W_CONTEXT * context
                    + W_DENSE * dense
                    + (W_TYPE if (typed or kind == OTHER) else 0.0)
                )
                scored.append(ScoredSentence(passage, article_id, start, end, sentence, stems, score))
        scored.sort(key=lambda s: (-s.score, s.passage.source, s.start))
        return scored

    def answer(self, question: str, lang: str, passages: list[Passage]) -> ExtractiveResult:
        scored = self.score_sentences(question, passages)
        if not scored or scored[0].score < REFUSAL_THRESHOLD:
            return ExtractiveResult(refusal_text(lang), True, [], scored[0].score if scored else 0.0)
        best = scored[0]
        chosen: list[list[ScoredSentence]] = [[best, *self._corroborating(best, scored)]]
        used = {id(s) for group in chosen for s in group}
        for other in scored[1:]:
            if other.score < best.score * SECOND_SENTENCE_RATIO:
                break
            if id(other) in used or any(_overlap(other.stems, s.stems) >= SAME_FACT_OVERLAP for g in chosen for s in g):
                continue
            group = [other, *self._corroborating(other, scored, exclude=used)]
            chosen.append(group)
            break
        citations: list[Citation] = []
        parts: list[str] = []
        for group in chosen:
            markers = ""
            for sentence in group:
                citations.append(_citation(len(citations) + 1, sentence))
                markers += f"[{len(citations)}]"
            parts.append(f"{group[0].text} {markers}")
        return ExtractiveResult(" ".join(parts), False, citations, best.score)

    def _corroborating(
        self, sentence: ScoredSentence, scored: list[ScoredSentence], exclude: set[int] | None = None
    ) -> list[ScoredSentence]:
        """Sentences of *other* articles that state the same fact (cite both outlets)."""
        found: list[ScoredSentence] = []
        sources = {sentence.passage.source}
        for other in scored:
            if len(found) >= MAX_CORROBORATING:
                break
            if other.passage.source in sources or (exclude and id(other) in exclude):
                continue
            if other.score >= sentence.score * 0.75 and _overlap(sentence.stems, other.stems) >= SAME_FACT_OVERLAP:
                found.append(other)
                sources.add(other.passage.source)
        return found


class ArticleTextLookup:  # pragma: no cover - a typing aid
    def __call__(self, passage: Passage) -> tuple[str, str]: ...


def _coverage(weights: dict[str, float], stems: set[str] | frozenset[str], total: float) -> float:
    return sum(w for t, w in weights.items() if t in stems) / total


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _citation(n: int, s: ScoredSentence) -> Citation:
    p = s.passage
    return Citation(
        id=n,
        source=p.source,
        title=p.title,
        date=p.date,
        passage=p.text,
        quote=s.text,
        start=s.start,
        end=s.end,
        score=s.score,
        passage_start=p.start,
        passage_end=p.end,
    )
