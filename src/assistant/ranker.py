"""Re-ranking of the fused candidate passages: one feature row per candidate, one linear score.

The retriever fuses BM25 and e5 by RRF, then re-scores the top candidates. Each
candidate gets a row of :data:`RANKER_FEATURES`, computed from what the search
already holds (the fused score, the passage and sentence cosines, the passage's
text and title): no model is run per candidate, only stemming (cached) and numpy.
A :class:`PassageRanker` turns the rows into scores: standardised features times
one weight vector per ranking language (that of most candidates).

Fitted weights (``passage_ranker.json`` beside this module, written by
``scripts/train_ranker.py`` from the benchmarks' ``train.jsonl`` questions) replace
the hand-fitted mix of the first rounds (:func:`hand_mix`) when the file is there.
None is bundled: the fitted ranker raised squad2-en's hit@1 but lowered its answers
(docs/answers-log.md, "Retrieval: what was tried").
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

from .errors import ConfigError
from .glossary import question_tokens
from .lexical import weighted_coverage
from .text import lexical_tokens

DEFAULT_RANKER_PATH = Path(__file__).with_name("passage_ranker.json")
FORMAT_VERSION = 1
RRF_SCALE = 60.0  # the fused score times RRF's k: about 1 for a passage first in one list

# Chosen by forward selection on the out-of-fold hit@1 of the training questions (docs/answers-log.md, "Retrieval:
# what was tried"); the features that did not earn their place are listed there.
RANKER_FEATURES = (
    "rrf",  # fused RRF score (x RRF_SCALE)
    "cos",  # e5 cosine of the passage
    "coverage",  # IDF-weighted share of the question's terms in title + passage
    "sentence_cos",  # e5 cosine of the passage's closest sentence
    "second_sentence_cos",  # ... and of its second closest (an answer often spans two)
    "closest_sentence_coverage",  # weighted coverage of that closest sentence: both signals in one place
    "proximity",  # matched terms over the length of the shortest span holding them all
)


@dataclass(frozen=True)
class QuestionInfo:
    """What the features need of the question, once per question (and per passage language)."""

    text: str
    lang: str
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
    stems = {pl: question_tokens(question, pl, lang) for pl in dict.fromkeys(langs)}
    weights = {pl: idf(pl, sorted(set(s))) for pl, s in stems.items()}
    return QuestionInfo(question, lang, stems, weights)


def feature_rows(q: QuestionInfo, cands: Sequence[CandidateInfo]) -> np.ndarray:
    rows = np.zeros((len(cands), len(RANKER_FEATURES)), dtype=np.float64)
    for i, c in enumerate(cands):
        weights = q.weights.get(c.lang, {})
        passage_seq = lexical_tokens(c.text, c.lang)
        held = set(lexical_tokens(c.title, c.lang)) | set(passage_seq)
        if len(c.sentence_cos):
            order = np.argsort(-c.sentence_cos, kind="stable")
            closest = set(lexical_tokens(c.sentences[order[0]], c.lang))
            best, second = float(c.sentence_cos[order[0]]), float(c.sentence_cos[order[min(1, len(order) - 1)]])
        else:  # no sentence stored: the passage stands for its sentences
            closest, best, second = held, c.cos, c.cos
        rows[i] = (
            c.fused * RRF_SCALE,
            c.cos,
            weighted_coverage(weights, held),
            best,
            second,
            weighted_coverage(weights, closest),
            proximity(set(q.stems.get(c.lang, ())), passage_seq),
        )
    return rows


def ranking_language(cands: Sequence[CandidateInfo], default: str) -> str:
    """The language whose weights rank these candidates: that of most of them (the archive's, for the
    question at hand), not the question's: features such as the coverage behave after the passages'
    language, and a French question that reads as English to the stop-word vote keeps French weights."""
    counts: dict[str, int] = {}
    for c in cands:
        counts[c.lang] = counts.get(c.lang, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else default


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
    """Linear scores of standardised feature rows; one weight vector per ranking language ("*": any other)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    # The fitted weights, each language's scaled so that the gaps between its top passages' scores keep
    # the mean the answerer's ``passage_score_gap`` feature was fitted on (scripts/train_ranker.py).
    coef: dict[str, np.ndarray]
    provenance: dict[str, Any] | None = None

    def scores(self, rows: np.ndarray, lang: str) -> np.ndarray:
        coef = self.coef.get(lang, self.coef["*"])
        return ((rows - self.mean) / self.scale) @ coef

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION, "features": list(self.features), "mean": self.mean.tolist(),
            "scale": self.scale.tolist(), "coef": {k: v.tolist() for k, v in self.coef.items()},
            "provenance": self.provenance or {},
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")


def hand_mix() -> PassageRanker:
    """The hand-fitted mix of the earlier rounds: 30 x fused + 4 x cos + coverage + 6 x sentence cos."""
    n = len(RANKER_FEATURES)
    coef = np.zeros(n)
    for name, w in (("rrf", 30.0 / RRF_SCALE), ("cos", 4.0), ("coverage", 1.0), ("sentence_cos", 6.0)):
        coef[RANKER_FEATURES.index(name)] = w
    return PassageRanker(RANKER_FEATURES, np.zeros(n), np.ones(n), {"*": coef}, {"source": "hand-fitted"})


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
        dict(data.get("provenance", {})),
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
