"""The offline extractive answerer: pick the sentences that answer, cite each one.

Deterministic. Every quote is ``article_text[start:end]`` of a sentence of a
retrieved passage, so it is verbatim by construction. Sentences are scored
with the lexical signal (IDF-weighted share of the question's terms that the
sentence holds), the dense signal (the e5 similarity of its passage) and the
asked-for kind of thing (a number for "combien", a date for "quand", ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .answer_types import DATE, NUMBER, OTHER, PERSON, PLACE, holds, question_type
from .lexical import LexicalIndex, weighted_coverage
from .models import Citation, Passage
from .text import detect_language, lexical_tokens, sentence_spans

# Weights of the sentence score (each set sums to 1): lexical share of the
# question's terms in the sentence, the same share in its whole passage, and
# the e5 similarity of question and sentence. A question in another language
# than the article shares few words with it: meaning carries it instead.
SAME_LANGUAGE_WEIGHTS = (0.40, 0.15, 0.45)
CROSS_LANGUAGE_WEIGHTS = (0.10, 0.05, 0.85)
# A sentence without the asked-for kind of thing is a weaker answer: much weaker
# for a number or a date (easy to detect), a little for a name or a place.
MISSING_TYPE_FACTOR = {NUMBER: 0.75, DATE: 0.75, PERSON: 0.9, PLACE: 0.9}
# e5 cosine similarities of question/sentence pairs sit in about [0.75, 0.92].
DENSE_FLOOR, DENSE_SPAN = 0.76, 0.14
# Below this best-sentence score the evidence is too weak: refuse.
# Calibrated on tests/eval/seeds.jsonl (see scripts/calibrate_refusal.py).
REFUSAL_THRESHOLD = 0.45
CANDIDATE_PASSAGES = 6
SECOND_SENTENCE_RATIO = 0.8  # a second answer sentence must score this close to the best
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


# (article id, start, end) -> {sentence span: e5 similarity with the question}
SentenceCosines = Callable[[str, int, int], dict[tuple[int, int], float]]
# passage -> (article id, cleaned article text)
ArticleTextLookup = Callable[[Passage], tuple[str, str]]


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, lexical: LexicalIndex, article_text: ArticleTextLookup, sentence_cosines: SentenceCosines | None = None) -> None:
        self.lexical = lexical
        self.article_text = article_text
        self.sentence_cosines = sentence_cosines

    def score_sentences(self, question: str, passages: list[Passage], question_lang: str | None = None) -> list[ScoredSentence]:
        kind = question_type(question)
        qlang = question_lang or detect_language(question, default="en")
        seen: set[tuple[str, int]] = set()
        scored: list[ScoredSentence] = []
        q_cache: dict[str, dict[str, float]] = {}
        for passage in passages[:CANDIDATE_PASSAGES]:
            article_id, text = self.article_text(passage)
            weights = q_cache.get(passage.lang)
            if weights is None:
                weights = self.lexical.idf(passage.lang, sorted(set(lexical_tokens(question, passage.lang))))
                q_cache[passage.lang] = weights
            w_lex, w_ctx, w_dense = SAME_LANGUAGE_WEIGHTS if passage.lang == qlang else CROSS_LANGUAGE_WEIGHTS
            context = weighted_coverage(weights, set(lexical_tokens(passage.title + " " + passage.text, passage.lang)))
            cosines = self.sentence_cosines(article_id, passage.start, passage.end) if self.sentence_cosines else {}
            for start, end in sentence_spans(text, passage.start, passage.end):
                if (article_id, start) in seen:
                    continue
                seen.add((article_id, start))
                sentence = text[start:end]
                stems = frozenset(lexical_tokens(sentence, passage.lang))
                if not stems:
                    continue
                cos = _sentence_cos(cosines, start, end, passage.dense_score)
                dense = min(1.0, max(0.0, (cos - DENSE_FLOOR) / DENSE_SPAN))
                score = w_lex * weighted_coverage(weights, stems) + w_ctx * context + w_dense * dense
                if kind != OTHER and not holds(kind, sentence, question):
                    score *= MISSING_TYPE_FACTOR[kind]
                scored.append(ScoredSentence(passage, article_id, start, end, sentence, stems, score))
        scored.sort(key=lambda s: (-s.score, s.passage.source, s.start))
        return scored

    def answer(self, question: str, lang: str, passages: list[Passage]) -> ExtractiveResult:
        scored = self.score_sentences(question, passages, lang)
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


def _sentence_cos(cosines: dict[tuple[int, int], float], start: int, end: int, default: float) -> float:
    """Similarity of the stored sentence vector(s) covering ``[start, end)``; the passage's if none."""
    inside = [v for (s, e), v in cosines.items() if s >= start and e <= end]
    return max(inside) if inside else default


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _citation(n: int, s: ScoredSentence) -> Citation:
    return Citation.of(n, s.passage, s.text, s.start, s.end, s.score)
