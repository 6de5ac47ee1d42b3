"""The offline extractive answerer: pick the sentence that answers, cite it, or refuse.

Deterministic. Every quote is ``article_text[start:end]`` of a sentence of a
retrieved passage, so it is verbatim by construction.

How it decides (the model is fitted by ``scripts/train_answerer.py``):

1. every sentence of the top passages gets features (``sentence_features``) and
   the selector's probability of holding the answer (``selector``);
2. the answerability model turns the best probabilities, how much of the
   question the corpus knows and the dense similarity into ``confidence``;
   below the model's refusal threshold, when the corpus knows none of the
   question's words, or when the sentence it would quote lacks what the question
   turns on (an amount, a number or a date it asks for; a birth it asks about;
   the negation it asks about; a word rather than its opposite: ``unmet``), the answer is a refusal
   with the closest passages;
3. the best sentence is quoted; a heading only when a title is asked for; if it
   leans on an anaphor or lacks the actor a who-question asks for, the sentence
   that names the actor is quoted before it (``actors``); a second (and a third)
   sentence is added when it is nearly as likely and says something else; a lead-in
   ("Un dollar.") and the sentence that goes on from it ("C’est ce que…") are quoted
   together (``lead_ins``); other outlets that state the same fact are cited on the same sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
import numpy as np

from . import actors
from .answer_types import (
    BIRTH,
    COUNT,
    DATE,
    MONEY,
    NEGATION,
    OPPOSITE,
    PERSON,
    asked_measure,
    asks_birth,
    asks_negated,
    states,
    states_birth,
    states_negation,
    swapped_opposite,
)
from .glossary import question_tokens
from .lead_ins import is_lead_in, lead_in_before, points_back, sentence_after
from .lexical import LexicalIndex
from .models import Answer, Citation, Passage
from .selector import DEFAULT_MODEL_PATH, AnswererModel, load_model
from .sentence_features import (
    CANDIDATE_PASSAGES,
    SENTENCE_FEATURES,
    ArticleTextLookup,
    Candidate,
    CorpusKnowledge,
    QuestionTerms,
    SentenceCosines,
    candidates,
    corpus_knowledge,
    question_row,
    question_terms,
)
from .text import detect_language, language_votes, lexical_tokens

__all__ = ["CANDIDATE_PASSAGES", "Answerer", "ExtractiveAnswerer", "ExtractiveResult", "Ranking", "refusal_text"]

SAME_FACT_OVERLAP = 0.5  # stem overlap above which two sentences say the same thing
CORROBORATION_RATIO = 0.6  # another outlet's sentence must be this likely (relative) to back the same fact
MAX_CORROBORATING = 2
# A question whose best sentence lacks what it turns on (``unmet``) is refused whatever the
# model's confidence; the confidence shown is capped at this.
UNMET_CONFIDENCE = 0.0
# The languages the answerer was fitted and checked on. A question in another one (German,
# Spanish: ``text.detect_language``) over articles none of which is in its language is refused:
# e5 reaches across languages, but the answers it led to were wrong with high confidence.
ANSWERED_LANGUAGES = ("fr", "en")
LANGUAGE = "language"

REFUSALS = {
    "fr": "Les articles ne disent pas cela : je n'ai trouvé aucun passage qui réponde à la question.",
    "en": "The articles do not say: no passage answers this question.",
}


# When the refusal comes from something the closest passages lack (``unmet``), it says what.
UNMET_REFUSALS = {
    "fr": {
        MONEY: "Les articles ne disent pas cela : les passages les plus proches ne donnent pas le montant demandé.",
        COUNT: "Les articles ne disent pas cela : les passages les plus proches ne donnent pas le nombre demandé.",
        DATE: "Les articles ne disent pas cela : les passages les plus proches ne donnent pas la date demandée.",
        BIRTH: "Les articles ne disent pas cela : les passages les plus proches ne parlent pas de cette naissance.",
        NEGATION: "Les articles ne disent pas cela : la question porte sur ce qui n'a pas eu lieu, et les passages "
        "les plus proches n'en disent rien.",
        OPPOSITE: "Les articles ne disent pas cela : les passages les plus proches disent le contraire de ce que "
        "la question suppose.",
    },
    "en": {
        MONEY: "The articles do not say: the closest passages do not give the amount asked for.",
        COUNT: "The articles do not say: the closest passages do not give the number asked for.",
        DATE: "The articles do not say: the closest passages do not give the date asked for.",
        BIRTH: "The articles do not say: the closest passages do not speak of this birth.",
        NEGATION: "The articles do not say: the question is about what did not happen, and the closest passages "
        "say nothing of it.",
        OPPOSITE: "The articles do not say: the closest passages say the opposite of what the question assumes.",
        LANGUAGE: "Please ask in French or English: the answers are found and checked in those languages, "
        "and no article is in the language of this question.",
    },
}


def refusal_text(lang: str, missing: str | None = None) -> str:
    """The refusal in the question's language (English for others); ``missing``: what ``unmet`` found."""
    if missing is not None:
        by_kind = UNMET_REFUSALS.get(lang, UNMET_REFUSALS["en"])
        if missing in by_kind:
            return by_kind[missing]
    return REFUSALS.get(lang, REFUSALS["en"])


@dataclass
class Ranking:
    """The candidate sentences of a question, most likely answer first."""

    question: QuestionTerms
    candidates: list[Candidate]
    probabilities: list[float]
    confidence: float  # probability that the articles support an answer
    knowledge: CorpusKnowledge
    missing: str | None = None  # what the question turns on and the best sentence lacks (``unmet``)


def unmet(question: str, ranked: list[Candidate], article_text: ArticleTextLookup | None = None) -> str | None:
    """What the question turns on that the sentence it would quote first (with its lead-in, when
    it goes on from one: ``lead_ins``) lacks, or None: the
    measure asked for (MONEY, COUNT, DATE), a BIRTH asked about and not spoken of, a NEGATION asked about and not stated, or an
    OPPOSITE said instead of a word of the question (``answer_types``).

    Measures: a rule, not fitted: on the benchmarks' training questions, beyond the model's refusals, it
    refused 29 unanswerable squad2-en questions for 11 answerable ones (of 1,095 and 933), and
    6 of 1,225 answerable piaf-fr ones. The fitted model cannot learn it: on SQuAD, whether
    the best sentence holds the asked-for kind (``type_present``) hardly differs between
    answerable and unanswerable questions once the narrow phrasings are left aside."""
    if not ranked:
        return None
    quoted = _first_quoted(question, ranked)
    missing = _lacks(question, quoted.text)
    if missing is None or not points_back(quoted.text):
        return missing
    # "Un dollar. C'est ce que coûteront…" is quoted with its lead-in and read with it. Without the
    # article (a caller with passages only), the passage holds what it can of it.
    text, shift = (article_text(quoted.passage)[1], 0) if article_text else (quoted.passage.text, quoted.passage.start)
    before = lead_in_before(text, quoted.start - shift, quoted.end - shift)
    return missing if before is None else _lacks(question, f"{text[before[0]:before[1]]} {quoted.text}")


def _other_language(q: QuestionTerms, ranked: list[Candidate]) -> bool:
    # Two marker words at least: one ("y" in "Comment s'y prirent-ils ?") is not a language.
    return (q.lang not in ANSWERED_LANGUAGES and language_votes(q.text).get(q.lang, 0) >= 2
            and all(c.passage.lang != q.lang for c in ranked))


def _lacks(question: str, said: str) -> str | None:
    measure = asked_measure(question)
    if measure is not None and not states(measure, said, question):
        return measure
    if asks_birth(question) and not states_birth(said):
        return BIRTH
    if asks_negated(question) and not states_negation(said):
        return NEGATION
    if swapped_opposite(question, said):
        return OPPOSITE
    return None


def _first_quoted(question: str, ranked: list[Candidate]) -> Candidate:
    """Headings are never quoted first unless a title is asked for."""
    return ranked[0] if actors.asks_for_title(question) else next((c for c in ranked if not _is_heading(c)), ranked[0])


@dataclass
class ExtractiveResult:
    answer: str
    refused: bool
    citations: list[Citation]
    confidence: float
    ranking: Ranking | None = field(default=None, repr=False)

    def to_answer(self, question: str, retrieved: list[Passage], answerer: str = "extractive", k: int | None = None) -> Answer:
        """The :class:`Answer` of this result: the one place an extractive answer is built. The
        passages listed with it are the first ``k`` of ``retrieved``, the one its first quote comes
        from put first (``cited_first``)."""
        listed = retrieved if self.refused else cited_first(retrieved, self.citations)
        return Answer(
            question=question, answer=self.answer, refused=self.refused, citations=self.citations,
            retrieved=listed[:k] if k else listed, support=None if self.refused else 1.0, answerer=answerer,
            confidence=self.confidence,
        )


def cited_first(passages: list[Passage], citations: list[Citation]) -> list[Passage]:
    """``passages`` with the one holding the answer's first quote moved to the front: the one a
    reader checks first."""
    if not citations:
        return passages
    first = citations[0]
    return _to_front(passages, lambda p: p.source == first.source and p.start <= first.start and first.end <= p.end)


def selector_first(question: str, passages: list[Passage], ranking: Ranking) -> list[Passage]:
    """``passages`` with the one holding the selector's likeliest sentence (the one an answer would
    quote first) moved to the front, answerable or not.

    The selector reads every sentence of the top six passages with 33 features, where the
    retriever scored each passage as a whole: the passage of the sentence it chose holds the
    answer more often (dev questions, the right passage first: squad2-en 0.836 -> 0.858,
    piaf-fr 0.787 -> 0.791)."""
    if not ranking.candidates:
        return passages
    best = _first_quoted(question, ranking.candidates).passage
    return _to_front(passages, lambda p: p.chunk_id == best.chunk_id and p.start == best.start)


def _to_front(passages: list[Passage], chosen: Callable[[Passage], bool]) -> list[Passage]:
    for i, p in enumerate(passages):
        if chosen(p):
            return [p, *passages[:i], *passages[i + 1 :]]
    return passages


class Answerer(Protocol):
    """What every answerer offers (this one and the LLM answerers of ``llm.py``): stream the
    answer's text, then return the verified :class:`Answer` (the generator's return value)."""

    name: str

    def stream(self, question: str, lang: str, passages: list[Passage], assistant: Any) -> Generator[str, None, Answer]: ...


def refusal_language(q: QuestionTerms, found: list[Candidate]) -> str:
    """The language whose refusal point applies: the question's, or "*" (the gentler default)
    when it asks across languages, where the points fitted on one-language benchmarks do not hold."""
    top = next((c.passage.lang for c in found if c.passage_rank == 0), q.lang)
    return q.lang if top == q.lang else "*"


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self,
        lexical: LexicalIndex,
        article_text: ArticleTextLookup,
        sentence_cosines: SentenceCosines | None = None,
        model: AnswererModel | None = None,
    ) -> None:
        self.lexical = lexical
        self.article_text = article_text
        self.sentence_cosines = sentence_cosines
        self._model = model

    @property
    def model(self) -> AnswererModel:
        if self._model is None:
            self._model = load_model(DEFAULT_MODEL_PATH)
        return self._model

    def rank(self, question: str, passages: list[Passage], question_lang: str | None = None) -> Ranking:
        q = question_terms(question, question_lang or detect_language(question, default="en"))
        found = candidates(q, passages, self.lexical, self.article_text, self.sentence_cosines)
        knowledge = corpus_knowledge(q, self.lexical)
        if not found:
            return Ranking(q, [], [], 0.0, knowledge)
        probs = self.model.sentence.probabilities(np.stack([c.features for c in found]))
        order = sorted(range(len(found)), key=lambda i: (-probs[i], found[i].passage.source, found[i].start))
        ranked = [found[i] for i in order]
        ranked_probs = [float(probs[i]) for i in order]
        return self.rank_with(q, ranked, ranked_probs, knowledge)

    def rank_with(self, q: QuestionTerms, ranked: list[Candidate], probs: list[float], knowledge: CorpusKnowledge) -> Ranking:
        """The ranking of already-scored candidates (best first): adds the answerability confidence."""
        row = question_row(q, ranked, probs, knowledge)
        confidence = float(self.model.answerability.probabilities(row[None, :])[0]) if ranked else 0.0
        missing = LANGUAGE if _other_language(q, ranked) else unmet(q.text, ranked, self.article_text)
        if missing is not None:
            confidence = min(confidence, UNMET_CONFIDENCE)
        return Ranking(q, ranked, probs, confidence, knowledge, missing)

    def stream(self, question: str, lang: str, passages: list[Passage], assistant: Any = None) -> Generator[str, None, Answer]:
        """The whole answer at once: it is ready in milliseconds, so nothing is faked word by word."""
        result = self.answer(question, lang, passages)
        yield result.answer
        return result.to_answer(question, passages)

    def refuses(self, ranking: Ranking) -> bool:
        if not ranking.candidates or ranking.knowledge.known_share == 0.0 or ranking.missing is not None:
            return True
        return ranking.confidence < self.model.threshold_for(refusal_language(ranking.question, ranking.candidates))

    def answer(self, question: str, lang: str, passages: list[Passage]) -> ExtractiveResult:
        ranking = self.rank(question, passages, lang)
        if self.refuses(ranking):
            return ExtractiveResult(refusal_text(lang, ranking.missing), True, [], ranking.confidence, ranking)
        groups = self._choose(ranking)
        citations: list[Citation] = []
        parts: list[str] = []
        for group in groups:
            markers = ""
            for cand, prob in group:
                citations.append(Citation.of(len(citations) + 1, cand.passage, cand.text, cand.start, cand.end, prob))
                markers += f"[{len(citations)}]"
            parts.append(f"{group[0][0].text} {markers}")
        return ExtractiveResult(" ".join(parts), False, citations, ranking.confidence, ranking)

    # --- composing the answer ------------------------------------------------

    def _choose(self, ranking: Ranking) -> list[list[tuple[Candidate, float]]]:
        """Groups of (sentence, probability): each group is one quoted sentence and its corroborating outlets."""
        q = ranking.question
        pairs = list(zip(ranking.candidates, ranking.probabilities))
        if not actors.asks_for_title(q.text):
            body = [(c, p) for c, p in pairs if not _is_heading(c)]
            pairs = body or pairs
        best, p_best = pairs[0]
        groups: list[list[tuple[Candidate, float]]] = []
        if actors.needs_actor(q.kind, q.text, best.text, best.passage.lang):
            named = next(
                ((c, p) for c, p in pairs[1:4] if p >= p_best * self.model.actor_swap_ratio
                 and not actors.needs_actor(q.kind, q.text, c.text, c.passage.lang)),
                None,
            )
            if named is not None:
                best, p_best = named
            else:
                antecedent = self._antecedent(best, q)
                if antecedent is not None:
                    groups.append([(antecedent, p_best)])
        groups.extend(self._leading(best, p_best, groups))
        groups.append([(best, p_best), *self._corroborating(best, p_best, pairs)])
        groups.extend(self._continuing(best, p_best, groups))
        used = {(c.article_id, c.start) for g in groups for c, _ in g}  # quoted already (a lead-in's sentence too)
        # Further sentences, each only when nearly as likely as the best (the n-th extra one
        # must reach the n-th ratio): the selector's top two or three, when it hesitates.
        ratios = (self.model.second_sentence_ratio, self.model.third_sentence_ratio)
        added = 0
        for other, p in pairs[1:]:
            if added == len(ratios) or p < max(p_best * ratios[added], self.model.min_sentence_probability):
                break
            if (other.article_id, other.start) in used:
                continue
            if any(  # a lead-in's few stems would match anything
                    _overlap(other.stems, c.stems) >= SAME_FACT_OVERLAP for g in groups for c, _ in g if not is_lead_in(c.text)
            ) and not self._adds_asked_words(q, other, groups):
                continue  # the same fact again, and nothing more of what was asked
            after = len(groups)  # where it goes: at the end, or right after the sentence it leans on
            if actors.needs_actor(q.kind, q.text, other.text, other.passage.lang, named_noun_stands=False):
                leaned_on = None if q.kind == PERSON else self._quoted_just_before(other, groups)
                if leaned_on is None:
                    continue  # a further sentence must stand on its own, or go on from one quoted just before it
                after = leaned_on + 1
            further = [*self._leading(other, p, groups), [(other, p)], *self._continuing(other, p, groups)]
            groups[after:after] = further
            used |= {(c.article_id, c.start) for g in further for c, _ in g}
            added += 1
        return groups

    @staticmethod
    def _adds_asked_words(q: QuestionTerms, cand: Candidate, groups: list[list[tuple[Candidate, float]]]) -> bool:
        """Whether ``cand`` holds a word of the question that no quoted sentence holds: then it is not the
        same fact again, though it shares most words with one ("En bref : OpenAI Public Sector LLC a conclu
        un contrat…" and "…OpenAI Public Sector LLC, l’entité dédiée aux relations institutionnelles…")."""
        asked = set(question_tokens(q.text, cand.passage.lang, q.lang))
        quoted = set().union(*(c.stems for g in groups for c, _ in g))
        return bool(asked & (cand.stems - quoted))

    def _quoted_just_before(self, cand: Candidate, groups: list[list[tuple[Candidate, float]]]) -> int | None:
        """The group whose quoted sentence comes just before ``cand`` in its article, if any: "Il",
        "Cette offre" then read as the article means them (a corroborating outlet's sentence, cited
        but not shown, does not count)."""
        _, text = self.article_text(cand.passage)
        for i, group in enumerate(groups):
            head = group[0][0]
            if head.article_id == cand.article_id and head.end <= cand.start and not text[head.end : cand.start].strip():
                return i
        return None

    def _leading(self, cand: Candidate, prob: float, groups: list[list[tuple[Candidate, float]]]) -> list[list[tuple[Candidate, float]]]:
        """The lead-in ``cand`` goes on from, as a group of its own, unless already quoted."""
        if not points_back(cand.text):
            return []  # nearly always: the article's text is not looked up
        _, text = self.article_text(cand.passage)
        return self._quoted_too(cand, prob, groups, text, lead_in_before(text, cand.start, cand.end))

    def _continuing(self, cand: Candidate, prob: float, groups: list[list[tuple[Candidate, float]]]) -> list[list[tuple[Candidate, float]]]:
        """The sentence that goes on from ``cand``, when it is a lead-in, as a group of its own, unless already quoted."""
        if not is_lead_in(cand.text):
            return []  # nearly always: the article's text is not looked up
        _, text = self.article_text(cand.passage)
        return self._quoted_too(cand, prob, groups, text, sentence_after(text, cand.start, cand.end))

    @staticmethod
    def _quoted_too(cand: Candidate, prob: float, groups: list[list[tuple[Candidate, float]]], text: str,
                    span: tuple[int, int] | None) -> list[list[tuple[Candidate, float]]]:
        if span is None or any(c.article_id == cand.article_id and c.start == span[0] for g in groups for c, _ in g):
            return []
        return [[(_sentence_of(cand, text, *span), prob)]]

    def _antecedent(self, cand: Candidate, q: QuestionTerms) -> Candidate | None:
        _, text = self.article_text(cand.passage)
        span = actors.antecedent_span(text, cand.start, cand.passage.lang, q.text)
        if span is None:
            return None
        return _sentence_of(cand, text, *span)

    def _corroborating(self, cand: Candidate, prob: float, pairs: list[tuple[Candidate, float]]) -> list[tuple[Candidate, float]]:
        """Sentences of *other* articles that state the same fact (cite both outlets)."""
        found: list[tuple[Candidate, float]] = []
        sources = {cand.passage.source}
        for other, p in pairs:
            if len(found) >= MAX_CORROBORATING:
                break
            if other.passage.source in sources:
                continue
            if p >= prob * CORROBORATION_RATIO and _overlap(cand.stems, other.stems) >= SAME_FACT_OVERLAP:
                found.append((other, p))
                sources.add(other.passage.source)
        return found


_HEADING, _TITLE = SENTENCE_FEATURES.index("is_heading"), SENTENCE_FEATURES.index("is_title")


def _is_heading(cand: Candidate) -> bool:
    # The feature (fitted as it is) reads a closing quote as an end: "Course aux “frontier models”".
    return bool(cand.features[_HEADING] or cand.features[_TITLE]) or actors.is_heading(cand.text)


def _sentence_of(cand: Candidate, text: str, start: int, end: int) -> Candidate:
    """The sentence ``text[start:end]`` of ``cand``'s article (the one naming its actor, its lead-in, the
    sentence going on from it) as a candidate, cited within a passage that holds it: ``cand``'s own,
    widened or stretched to the sentence when needed."""
    passage = cand.passage
    if start < passage.start:
        passage = _widened(passage, text, start)
    if end > passage.end:
        passage = _stretched(passage, text, end)
    stems = frozenset(lexical_tokens(text[start:end], passage.lang))
    return Candidate(passage, cand.passage_rank, cand.article_id, start, end, text[start:end], stems, cand.cos)


def _widened(passage: Passage, text: str, start: int) -> Passage:
    """The passage stretched back to ``start``, so that the citation's passage holds its quote."""
    return replace(passage, start=start, text=text[start : passage.end])


def _stretched(passage: Passage, text: str, end: int) -> Passage:
    """The passage stretched on to ``end``, so that the citation's passage holds its quote."""
    return replace(passage, end=end, text=text[passage.start : end])


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))

