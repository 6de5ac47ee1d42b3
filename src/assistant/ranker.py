"""Re-ranking of the fused candidate passages: one feature row per candidate, one linear score.

The retriever fuses BM25 and e5 by RRF, then re-scores the top candidates. Each
candidate gets a row of :data:`RANKER_FEATURES`, computed from what the search
already holds (the fused score, the two ranks, the passage and sentence cosines,
the passage's text and title): no model is run per candidate, only stemming
(cached) and numpy. A :class:`PassageRanker` turns the rows into scores:
standardised features times one weight vector per question language.

The bundled weights (``passage_ranker.json`` beside this module) are fitted by
``scripts/train_ranker.py`` on the benchmarks' ``train.jsonl`` questions. Without
a file the hand-fitted mix of the first rounds is used (:func:`hand_mix`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .answer_types import OTHER, holds, question_type
from .errors import ConfigError
from .lexical import weighted_coverage
from .text import lexical_tokens

DEFAULT_RANKER_PATH = Path(__file__).with_name("passage_ranker.json")
FORMAT_VERSION = 1
RRF_SCALE = 60.0  # the fused score times RRF's k: about 1 for a passage first in one list

RANKER_FEATURES = (
    "rrf",  # fused RRF score (x RRF_SCALE)
    "cos",  # e5 cosine of the passage
    "coverage",  # IDF-weighted share of the question's terms in title + passage
    "sentence_cos",  # e5 cosine of the passage's closest sentence
    "second_sentence_cos",  # ... and of its second closest (an answer often spans two)
    "dense_rr",  # 1 / (1 + rank) in the dense list, 0 if absent
    "lexical_rr",  # the same in the BM25 list
    "lexical_score",  # BM25 score over the best BM25 score of the question
    "sentence_coverage",  # the best single sentence's weighted coverage
    "pair_coverage",  # the best two neighbouring sentences' weighted coverage
    "title_coverage",  # the title's weighted coverage
    "bigram_share",  # share of the question's neighbouring term pairs found side by side
    "proximity",  # matched terms over the length of the shortest span holding them all
    "type_present",  # the question asks a number/date/name/place and the passage holds one beyond its words
    "article_share",  # share of the candidates' fused score held by this passage's article
    "lang_match",  # passage in the question's language
)


@dataclass(frozen=True)
class QuestionInfo:
    """What the features need of the question, once per question (and per passage language)."""

    text: str
    lang: str
    kind: str  # answer_types.question_type
    stems: dict[str, tuple[str, ...]]  # passage language -> the question's stems, in order
    weights: dict[str, dict[str, float]]  # passage language -> IDF weight per stem


@dataclass(frozen=True)
class CandidateInfo:
    """One fused candidate as the search holds it."""

    article_id: str
    lang: str
    title: str
    text: str
    fused: float
    dense_rank: int | None
    lexical_rank: int | None
    lexical_score: float  # normalised to the question's best, 0 if absent
    cos: float
    sentences: tuple[str, ...]  # the passage's stored sentences, in order
    sentence_cos: np.ndarray  # their e5 cosines (empty: none stored)


def question_info(question: str, lang: str, langs: Sequence[str], idf) -> QuestionInfo:  # type: ignore[no-untyped-def]
    """``idf(lang, stems)`` gives the index's weights (``LexicalIndex.idf``)."""
    stems = {pl: tuple(lexical_tokens(question, pl)) for pl in dict.fromkeys(langs)}
    weights = {pl: idf(pl, sorted(set(s))) for pl, s in stems.items()}
    return QuestionInfo(question, lang, question_type(question), stems, weights)


def feature_rows(q: QuestionInfo, cands: Sequence[CandidateInfo]) -> np.ndarray:
    rows = np.zeros((len(cands), len(RANKER_FEATURES)), dtype=np.float64)
    total_fused = sum(c.fused for c in cands) or 1.0
    by_article: dict[str, float] = {}
    for c in cands:
        by_article[c.article_id] = by_article.get(c.article_id, 0.0) + c.fused
    for i, c in enumerate(cands):
        weights = q.weights.get(c.lang, {})
        qstems = q.stems.get(c.lang, ())
        passage_seq = lexical_tokens(c.text, c.lang)
        title_stems = set(lexical_tokens(c.title, c.lang))
        sent_stems = [set(lexical_tokens(s, c.lang)) for s in c.sentences]
        sims = np.sort(c.sentence_cos)[::-1] if len(c.sentence_cos) else np.array([c.cos])
        sent_cov = max((weighted_coverage(weights, s) for s in sent_stems), default=0.0)
        pair_cov = max((weighted_coverage(weights, a | b) for a, b in zip(sent_stems, sent_stems[1:])), default=sent_cov)
        rows[i] = (
            c.fused * RRF_SCALE,
            c.cos,
            weighted_coverage(weights, title_stems | set(passage_seq)),
            float(sims[0]),
            float(sims[1]) if len(sims) > 1 else float(sims[0]),
            0.0 if c.dense_rank is None else 1.0 / (1 + c.dense_rank),
            0.0 if c.lexical_rank is None else 1.0 / (1 + c.lexical_rank),
            c.lexical_score,
            sent_cov,
            max(pair_cov, sent_cov),
            weighted_coverage(weights, title_stems),
            bigram_share(qstems, passage_seq),
            proximity(set(qstems), passage_seq),
            float(q.kind != OTHER and holds(q.kind, c.text, q.text)),
            by_article[c.article_id] / total_fused,
            float(c.lang == q.lang),
        )
    return rows


def bigram_share(question: Sequence[str], passage: Sequence[str]) -> float:
    """Share of the question's neighbouring stem pairs (stop words left out) that stand side by side
    in the passage, in either order: "prix Nobel", "Nobel Prize" keep their pair."""
    pairs = {(a, b) for a, b in zip(question, question[1:]) if a != b}
    if not pairs:
        return 0.0
    held = set(zip(passage, passage[1:]))
    return sum((a, b) in held or (b, a) in held for a, b in pairs) / len(pairs)


def proximity(terms: set[str], passage: Sequence[str]) -> float:
    """How close together the question's terms stand: the number of distinct terms the passage holds
    over the length (in stems) of the shortest stretch holding all of them; 0 for fewer than two."""
    positions = [(i, t) for i, t in enumerate(passage) if t in terms]
    wanted = len({t for _, t in positions})
    if wanted < 2:
        return 0.0
    best, counts, have, left = math.inf, dict[str, int](), 0, 0
    for right, (pos, term) in enumerate(positions):
        counts[term] = counts.get(term, 0) + 1
        have += counts[term] == 1
        while have == wanted:
            best = min(best, pos - positions[left][0] + 1)
            lt = positions[left][1]
            counts[lt] -= 1
            have -= counts[lt] == 0
            left += 1
    return wanted / best


@dataclass(frozen=True)
class PassageRanker:
    """Linear scores of standardised feature rows; one weight vector per question language ("*": any other)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: dict[str, np.ndarray]
    # The scores are multiplied by this, so that the gaps between the top passages keep the spread
    # the answerer's ``passage_score_gap`` feature was fitted on (see scripts/train_ranker.py).
    score_scale: float = 1.0
    provenance: dict[str, Any] | None = None

    def scores(self, rows: np.ndarray, lang: str) -> np.ndarray:
        coef = self.coef.get(lang, self.coef["*"])
        return self.score_scale * (((rows - self.mean) / self.scale) @ coef)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION, "features": list(self.features), "mean": self.mean.tolist(),
            "scale": self.scale.tolist(), "coef": {k: v.tolist() for k, v in self.coef.items()},
            "score_scale": self.score_scale, "provenance": self.provenance or {},
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")


def hand_mix() -> PassageRanker:
    """The hand-fitted mix of the earlier rounds: 30 x fused + 4 x cos + coverage + 6 x sentence cos."""
    n = len(RANKER_FEATURES)
    coef = np.zeros(n)
    for name, w in (("rrf", 30.0 / RRF_SCALE), ("cos", 4.0), ("coverage", 1.0), ("sentence_cos", 6.0)):
        coef[RANKER_FEATURES.index(name)] = w
    return PassageRanker(RANKER_FEATURES, np.zeros(n), np.ones(n), {"*": coef}, 1.0, {"source": "hand-fitted"})


def ranker_from_dict(data: dict[str, Any]) -> PassageRanker:
    if data.get("format") != FORMAT_VERSION:
        raise ValueError(f"format {data.get('format')!r}, expected {FORMAT_VERSION}")
    features = tuple(data["features"])
    if features != RANKER_FEATURES:
        raise ValueError(f"features {features} differ from this version's {RANKER_FEATURES}")
    coef = {str(k): np.asarray(v, dtype=np.float64) for k, v in data["coef"].items()}
    if "*" not in coef or any(len(v) != len(features) for v in coef.values()):
        raise ValueError("the weights need a '*' entry and one weight per feature")
    return PassageRanker(
        features, np.asarray(data["mean"], dtype=np.float64), np.asarray(data["scale"], dtype=np.float64), coef,
        float(data.get("score_scale", 1.0)), dict(data.get("provenance", {})),
    )


@lru_cache(maxsize=4)
def load_ranker(path: Path | None = DEFAULT_RANKER_PATH) -> PassageRanker:
    """The ranker at ``path``; the hand mix when ``path`` is None or the bundled file is absent."""
    if path is None or (path == DEFAULT_RANKER_PATH and not path.exists()):
        return hand_mix()
    try:
        return ranker_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"passage ranker {path} not found") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"passage ranker {path} cannot be used ({exc}); retrain it with scripts/train_ranker.py") from None
