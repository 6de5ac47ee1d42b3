"""Features of the candidate answer sentences of a question, for the learned selector.

Every sentence of the top retrieved passages is a candidate. Each gets one row
of floats, named in :data:`SENTENCE_FEATURES` (the fitted model in
``selector.py`` reads them by position, so the order is part of the model file).
The question as a whole gets a row of :data:`QUESTION_FEATURES` for the
answerability model, computed from the candidates once they are scored.

Pure functions of the question, the passages and the index's statistics; no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .answer_types import (
    DATE, NUMBER, OTHER, PERSON, PLACE, asks_negated, count_beside, counted_nouns, holds, question_type, swapped_name,
)
from .glossary import question_tokens
from .lexical import LexicalIndex, weighted_coverage
from .models import Passage
from .text import _stemmer, _stopwords, fold, lexical_tokens, sentence_spans

CANDIDATE_PASSAGES = 6
# e5 cosine similarities of question/sentence pairs sit in about [0.75, 0.92].
DENSE_FLOOR, DENSE_SPAN = 0.76, 0.14

BASE_SENTENCE_FEATURES = (
    "lex_cov", "ctx_cov", "window_cov", "lex_gap",
    "cos", "cos_gap", "passage_cos", "passage_rank", "passage_score_gap",
    "asks_type", "type_present", "type_absent", "asks_person", "asks_number_or_date",
    "names_cov", "names_cov_ctx", "new_name", "has_number",
    "new_content", "log_words", "is_heading", "is_title", "first_of_paragraph", "rel_position",
    "anaphor_start", "lang_match", "max_missing_idf",
)
# How the sentence's words line up with the question's (word order and word forms): computed
# from the texts alone by :func:`alignment_rows`, appended after the base features.
ALIGNMENT_FEATURES = ("prefix_cov", "bigram_cov", "match_density", "question_share", "prefix_gap", "bigram_gap")
SENTENCE_FEATURES = BASE_SENTENCE_FEATURES + ALIGNMENT_FEATURES
QUESTION_FEATURES = (
    "p_best", "p_second", "p_margin", "best_cos", "best_lex", "top_passage_cos",
    "known_share", "known_names_share", "max_missing_idf_best", "missing_share_best",
    "names_cov_best", "type_present_best", "q_negation", "log_q_terms", "cos_spread",
    "names_missing_passage", "numbers_missing_passage", "agreeing_passages", "cross_language",
    "lex_cov_best", "prefix_cov_best", "bigram_cov_best", "match_density_best", "name_swapped_best",
    "count_not_beside_best", "unseen_share_top",
)

_NAME = re.compile(r"\b[A-Z][\w'’-]*[\w]|\b[A-Z]{2,}\b")
_QUESTION_WORDS = {
    "qui", "que", "quoi", "quel", "quelle", "quels", "quelles", "quand", "où", "comment", "combien", "pourquoi",
    "lequel", "laquelle", "est-ce", "en", "le", "la", "les", "l", "du", "de", "des", "a", "à",
    "who", "whom", "whose", "what", "which", "when", "where", "why", "how", "in", "the", "of", "on", "at", "for",
    "did", "does", "do", "is", "are", "was", "were",
}
# The nouns that stand for an actor named earlier ("L’entreprise", "la société", "the company"), with
# their article; ``actors`` builds on the same list (a noun named at once, "L’accord d’Anthropic").
NOUN_ANAPHORS = (
    r"l['’](?:entreprise|organisation|agence|administration|accord|offre|initiative|annonce)|"
    r"la (?:société|firme|start-up|startup|compagnie|plateforme|mesure)|le (?:groupe|laboratoire|géant)"
)
ENGLISH_NOUN_ANAPHORS = r"the (?:company|firm|startup|group|agency|deal|offer)"
ANAPHOR_START = re.compile(
    r"^\W*(il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|ce dernier|cette dernière|cette|cet|ces|ce|"
    rf"{NOUN_ANAPHORS}|le dernier|"
    r"son|sa|ses|leur|leurs|"
    rf"it|he|she|they|this|that|these|those|its|their|his|her|{ENGLISH_NOUN_ANAPHORS})\b",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"['’]s?$")
_HAS_DIGIT = re.compile(r"\d")
_TERMINAL = re.compile(r"[.!?…:;»\"”’)]\s*$")

# (article id, start, end) -> {sentence span: e5 similarity with the question}
SentenceCosines = Callable[[str, int, int], dict[tuple[int, int], float]]
# passage -> (article id, cleaned article text)
ArticleTextLookup = Callable[[Passage], tuple[str, str]]


@dataclass(frozen=True)
class QuestionTerms:
    """What the features need to know about the question, once per question."""

    text: str
    lang: str
    kind: str
    names: tuple[str, ...]  # folded capitalised words: the entities the question names
    folded: str


@dataclass
class Candidate:
    """One sentence of a retrieved passage, with its feature row."""

    passage: Passage
    passage_rank: int
    article_id: str
    start: int
    end: int
    text: str
    stems: frozenset[str]
    cos: float
    features: np.ndarray = field(default_factory=lambda: np.zeros(len(SENTENCE_FEATURES), dtype=np.float32))


def question_terms(question: str, lang: str) -> QuestionTerms:
    words = _NAME.findall(question)
    names = []
    for i, word in enumerate(words):
        folded_word = _POSSESSIVE.sub("", fold(word))  # "Anthropic's" names Anthropic
        if folded_word in _QUESTION_WORDS or (i == 0 and question.lstrip().startswith(word) and len(word) > 1 and not word.isupper()):
            continue
        names.append(folded_word)
    return QuestionTerms(question, lang, question_type(question), tuple(dict.fromkeys(names)), fold(question))


def candidates(
    q: QuestionTerms,
    passages: Sequence[Passage],
    lexical: LexicalIndex,
    article_text: ArticleTextLookup,
    sentence_cosines: SentenceCosines | None,
) -> list[Candidate]:
    """Every sentence of the top passages (each once), with its features filled in."""
    found: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    weights_by_lang: dict[str, dict[str, float]] = {}
    ceiling_by_lang: dict[str, float] = {}
    top_score = passages[0].score if passages else 0.0
    rows: list[tuple[Candidate, dict[str, float]]] = []
    for rank, passage in enumerate(passages[:CANDIDATE_PASSAGES]):
        article_id, text = article_text(passage)
        if passage.lang not in weights_by_lang:
            weights_by_lang[passage.lang] = lexical.idf(passage.lang, sorted(set(question_tokens(q.text, passage.lang, q.lang))))
            ceiling_by_lang[passage.lang] = max(weights_by_lang[passage.lang].values(), default=1.0) or 1.0
        weights = weights_by_lang[passage.lang]
        context_text = passage.title + " " + passage.text
        context_stems = set(lexical_tokens(context_text, passage.lang))
        ctx_cov = weighted_coverage(weights, context_stems)
        names_ctx = _names_cov(q, fold(context_text))
        cosines = sentence_cosines(article_id, passage.start, passage.end) if sentence_cosines else {}
        spans = sentence_spans(text, passage.start, passage.end)
        stems_list = [frozenset(lexical_tokens(text[s:e], passage.lang)) for s, e in spans]
        title_folded = fold(passage.title)
        for i, (start, end) in enumerate(spans):
            stems = stems_list[i]
            if (article_id, start) in seen or not stems:
                continue
            seen.add((article_id, start))
            sentence = text[start:end]
            window = stems | (stems_list[i - 1] if i > 0 else frozenset()) | (stems_list[i + 1] if i + 1 < len(spans) else frozenset())
            cand = Candidate(passage, rank, article_id, start, end, sentence, stems, _sentence_cos(cosines, start, end, passage.dense_score))
            missing = [w for t, w in weights.items() if t not in window]
            values = {
                "lex_cov": weighted_coverage(weights, stems),
                "ctx_cov": ctx_cov,
                "window_cov": weighted_coverage(weights, window),
                "cos": _dense(cand.cos),
                "passage_cos": _dense(passage.dense_score),
                "passage_rank": float(rank),
                "passage_score_gap": float(top_score - passage.score),
                "names_cov": _names_cov(q, fold(sentence)),
                "names_cov_ctx": names_ctx,
                "has_number": float(bool(_HAS_DIGIT.search(sentence))),
                "new_name": float(holds(PERSON, sentence, q.text)),
                "new_content": len(stems - set(weights)) / len(stems),
                "log_words": math.log1p(len(sentence.split())),
                "is_heading": float(not _TERMINAL.search(sentence) and len(sentence.split()) <= 14),
                # A file without a heading line is titled by its first sentence (documents.layout): a
                # sentence that ends with a full stop is the article's text, not a headline.
                "is_title": float(fold(sentence) == title_folded and not sentence.rstrip().endswith(".")),
                "first_of_paragraph": float(start == 0 or text[max(0, start - 2) : start].count("\n") > 0),
                "rel_position": start / max(1, len(text)),
                "anaphor_start": float(bool(ANAPHOR_START.match(sentence))),
                "lang_match": float(passage.lang == q.lang),
                "max_missing_idf": max(missing, default=0.0) / ceiling_by_lang[passage.lang],
            }
            values.update(_type_features(q, sentence))
            rows.append((cand, values))
            found.append(cand)
    if not rows:
        return []
    best_lex = max(v["lex_cov"] for _, v in rows)
    best_cos = max(v["cos"] for _, v in rows)
    for cand, values in rows:
        values["lex_gap"] = best_lex - values["lex_cov"]
        values["cos_gap"] = best_cos - values["cos"]
        cand.features = np.array([values[name] for name in BASE_SENTENCE_FEATURES], dtype=np.float32)
    with_alignment(q, found)
    return found


def with_alignment(q: QuestionTerms, found: Sequence[Candidate]) -> None:
    """Append the alignment features to candidates that hold only the base ones (also used to
    bring cached training samples up to date: the alignment needs only the texts)."""
    todo = [c for c in found if len(c.features) == len(BASE_SENTENCE_FEATURES)]
    if todo:
        extra = alignment_rows(q, [(c.text, c.passage.lang) for c in todo])
        for cand, row in zip(todo, extra):
            cand.features = np.concatenate([cand.features, row]).astype(np.float32)


def alignment_rows(q: QuestionTerms, sentences: Sequence[tuple[str, str]]) -> np.ndarray:
    """Per (sentence, language): the share of the question's content words whose first five
    letters start a word of the sentence (word forms that stem apart), the share of the
    question's consecutive stem pairs found consecutive in the sentence, how tightly the
    matched stems sit together, the share of the sentence that only repeats the question;
    then the gaps of the first two to the question's best sentence."""
    by_lang: dict[str, tuple[list[str], set[str], set[tuple[str, str]]]] = {}
    rows = []
    for text, lang in sentences:
        if lang not in by_lang:
            words = _content_words(q.text, lang)
            stems = _stemmer(lang).stemWords(words)
            by_lang[lang] = (words, set(stems), set(zip(stems, stems[1:])))
        q_words, q_stems, q_pairs = by_lang[lang]
        words = _content_words(text, lang)
        stems = _stemmer(lang).stemWords(words)
        prefixes = {w[:5] for w in words}
        matched = [i for i, stem in enumerate(stems) if stem in q_stems]
        if len(matched) >= 2:
            density = len(matched) / (matched[-1] - matched[0] + 1)
        else:
            density = 0.5 * len(matched)
        rows.append((
            sum(w[:5] in prefixes for w in q_words) / len(q_words) if q_words else 0.0,
            len(q_pairs & set(zip(stems, stems[1:]))) / len(q_pairs) if q_pairs else 0.0,
            density,
            len(matched) / len(stems) if stems else 1.0,
        ))
    if not rows:
        return np.zeros((0, len(ALIGNMENT_FEATURES)), dtype=np.float32)
    table = np.array(rows, dtype=np.float64)
    gaps = table[:, :2].max(axis=0) - table[:, :2]
    return np.hstack([table, gaps]).astype(np.float32)


@dataclass(frozen=True)
class CorpusKnowledge:
    """How much of the question the index knows at all (gibberish and off-topic questions: about 0)."""

    known_share: float  # share of the question's content words that some chunk holds
    known_names_share: float  # the same for the names it uses (1.0 when it names nothing)
    terms: int  # content words of the question


def question_row(
    q: QuestionTerms, ranked: Sequence[Candidate], probabilities: Sequence[float], knowledge: CorpusKnowledge
) -> np.ndarray:
    """The answerability features: ``ranked`` candidates best first, with their selector probabilities."""
    col = {name: i for i, name in enumerate(SENTENCE_FEATURES)}
    best = ranked[0].features if ranked else np.zeros(len(SENTENCE_FEATURES), dtype=np.float32)
    cos_values = [c.features[col["cos"]] for c in ranked]
    known, known_names, terms = knowledge.known_share, knowledge.known_names_share, knowledge.terms
    values = {
        "p_best": probabilities[0] if probabilities else 0.0,
        "p_second": probabilities[1] if len(probabilities) > 1 else 0.0,
        "p_margin": (probabilities[0] - probabilities[1]) if len(probabilities) > 1 else (probabilities[0] if probabilities else 0.0),
        "best_cos": max(cos_values, default=0.0),
        "best_lex": max((c.features[col["lex_cov"]] for c in ranked), default=0.0),
        "top_passage_cos": _dense(ranked[0].passage.dense_score) if ranked else 0.0,
        "known_share": known,
        "known_names_share": known_names,
        "max_missing_idf_best": best[col["max_missing_idf"]],
        "missing_share_best": 1.0 - best[col["window_cov"]],
        "names_cov_best": best[col["names_cov"]],
        "type_present_best": best[col["type_present"]],
        "q_negation": float(asks_negated(q.text)),
        "log_q_terms": math.log1p(terms),
        "cos_spread": (max(cos_values) - float(np.median(cos_values))) if cos_values else 0.0,
        **_evidence_gaps(q, ranked, probabilities),
        # An English question over French articles shares few words with them: the lexical
        # evidence is weaker there for answerable questions too.
        "cross_language": float(bool(ranked) and ranked[0].passage.lang != q.lang),
        # How closely the chosen sentence itself follows the question: unanswerable questions
        # are often an answerable one with a word or two swapped.
        "lex_cov_best": best[col["lex_cov"]],
        "prefix_cov_best": best[col["prefix_cov"]],
        "bigram_cov_best": best[col["bigram_cov"]],
        "match_density_best": best[col["match_density"]],
        "name_swapped_best": float(bool(ranked) and swapped_name(q.text, ranked[0].text)),
        # A how-many question whose best sentence has no number beside the counted noun.
        "count_not_beside_best": float(bool(ranked) and _count_not_beside(q.text, ranked[0].text)),
        "unseen_share_top": _unseen_share(q, ranked),
    }
    return np.array([values[name] for name in QUESTION_FEATURES], dtype=np.float32)


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_WORD = re.compile(r"\w+")


def _content_words(text: str, lang: str) -> list[str]:
    stop = _stopwords(lang)
    return [w for w in _WORD.findall(text.lower()) if (len(w) > 2 or w.isdigit()) and w not in stop]


def _evidence_gaps(q: QuestionTerms, ranked: Sequence[Candidate], probabilities: Sequence[float]) -> dict[str, float]:
    """What the question states that the best passage does not: a swapped name or number
    ("in 1998" when the passage says 1997) is how many unanswerable questions are made."""
    if not ranked:
        return {"names_missing_passage": 1.0, "numbers_missing_passage": 1.0, "agreeing_passages": 0.0}
    passage_text = fold(ranked[0].passage.title + " " + ranked[0].passage.text)
    names = [n for n in q.names if n not in passage_text]
    numbers = _NUMBER.findall(q.text)
    missing_numbers = [n for n in numbers if n not in passage_text]
    # How many different passages hold a sentence nearly as likely as the best: several sources
    # agreeing make an answer more likely; an unanswerable question scatters.
    top = probabilities[0] if probabilities else 0.0
    agreeing = {c.passage.chunk_id for c, p in zip(ranked, probabilities) if top > 0 and p >= 0.8 * top}
    return {
        "names_missing_passage": len(names) / len(q.names) if q.names else 0.0,
        "numbers_missing_passage": len(missing_numbers) / len(numbers) if numbers else 0.0,
        "agreeing_passages": float(len(agreeing)),
    }


def _count_not_beside(question: str, sentence: str) -> bool:
    nouns = counted_nouns(question)
    return bool(nouns) and not any(count_beside(noun, sentence) for noun in nouns)


def _unseen_share(q: QuestionTerms, ranked: Sequence[Candidate]) -> float:
    """Share of the question's content words that no top passage holds, even in another form (first
    five letters): a word swapped into an answerable question is often nowhere in its passages."""
    words = [fold(w) for w in _content_words(q.text, q.lang) if not w.isdigit()]
    if not words or not ranked:
        return 0.0 if not words else 1.0
    seen: set[str] = set()
    for chunk_text in {c.passage.chunk_id: c.passage.text for c in ranked}.values():
        seen.update(w[:5] for w in _WORD.findall(fold(chunk_text)))
    return sum(w[:5] not in seen for w in words) / len(words)


def corpus_knowledge(q: QuestionTerms, lexical: LexicalIndex) -> CorpusKnowledge:
    """Share of the question's content words, and of its names, that some chunk of the index holds.

    Each language's sub-index is asked with the question stemmed its way; the best share counts.
    """
    languages = lexical.languages() or [q.lang]
    best_share, terms = 0.0, 0
    for lang in languages:
        tokens = sorted(set(lexical_tokens(q.text, lang)))
        terms = max(terms, len(tokens))
        if tokens:
            best_share = max(best_share, sum(lexical.document_frequency(lang, t) > 0 for t in tokens) / len(tokens))
    if not q.names:
        return CorpusKnowledge(best_share, 1.0, terms)
    known_names = 0
    for name in q.names:
        if any(all(lexical.document_frequency(lang, t) > 0 for t in lexical_tokens(name, lang) or ["\x00"]) for lang in languages):
            known_names += 1
    return CorpusKnowledge(best_share, known_names / len(q.names), terms)


def _type_features(q: QuestionTerms, sentence: str) -> dict[str, float]:
    asks = q.kind != OTHER
    present = asks and holds(q.kind, sentence, q.text)
    return {
        "asks_type": float(asks),
        "type_present": float(present),
        "type_absent": float(asks and not present),
        "asks_person": float(q.kind in (PERSON, PLACE)),
        "asks_number_or_date": float(q.kind in (NUMBER, DATE)),
    }


def _names_cov(q: QuestionTerms, folded_text: str) -> float:
    if not q.names:
        return 1.0
    return sum(1 for name in q.names if name in folded_text) / len(q.names)


def _dense(cos: float) -> float:
    return min(1.5, max(-0.5, (cos - DENSE_FLOOR) / DENSE_SPAN))


def _sentence_cos(cosines: dict[tuple[int, int], float], start: int, end: int, default: float) -> float:
    """Similarity of the stored sentence vector(s) covering ``[start, end)``; the passage's if none."""
    inside = [v for (s, e), v in cosines.items() if s >= start and e <= end]
    return max(inside) if inside else default
