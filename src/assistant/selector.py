"""The fitted answerer model: which sentence answers, and whether anything does.

Two small classifiers live in one JSON file (``answerer_model.json`` beside this
module, written by ``scripts/train_answerer.py``):

* the **sentence selector** gives each candidate sentence the probability that
  it holds the answer (features: ``sentence_features.SENTENCE_FEATURES``);
* the **answerability** model gives the question the probability that the
  articles support an answer at all (``sentence_features.QUESTION_FEATURES``),
  from the best sentences' probabilities, how much of the question the corpus
  knows, and the dense similarity. Below ``refusal_threshold`` the answerer refuses.

Either classifier is a logistic regression (standardised inputs, one weight
per feature) or gradient-boosted trees (scikit-learn's histogram GBM, exported
node by node). Inference is plain numpy: scikit-learn is needed only to train.
A newsroom can fit its own file on its own test set and point
``ASSISTANT_ANSWERER_MODEL`` at it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import ConfigError
from .sentence_features import QUESTION_FEATURES, SENTENCE_FEATURES

DEFAULT_MODEL_PATH = Path(__file__).with_name("answerer_model.json")
FORMAT_VERSION = 1
NEVER = 1.01  # a ratio above 1: no other sentence is ever that close to the best


class Classifier(Protocol):
    features: tuple[str, ...]

    def probabilities(self, rows: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class LogisticModel:
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "logistic", "features": list(self.features), "mean": self.mean.tolist(),
            "scale": self.scale.tolist(), "coef": self.coef.tolist(), "intercept": self.intercept,
        }


@dataclass(frozen=True)
class TreeEnsemble:
    """Binary gradient-boosted trees: raw score = baseline + sum of leaf values; probability = sigmoid."""

    features: tuple[str, ...]
    baseline: float
    # One array per tree, rows = nodes: feature, threshold, left, right, is_leaf, value, missing_go_left.
    trees: tuple[np.ndarray, ...]

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.float64)
        everyone = np.arange(len(rows))
        raw = np.full(len(rows), self.baseline, dtype=np.float64)
        for tree in self.trees:
            node = np.zeros(len(rows), dtype=np.int64)  # all rows walk down together
            while True:
                inner = tree[node, 4] == 0
                if not inner.any():
                    break
                value = rows[everyone, tree[node, 0].astype(np.int64)]
                go_left = np.where(np.isnan(value), tree[node, 6] != 0, value <= tree[node, 1])
                child = np.where(go_left, tree[node, 2], tree[node, 3]).astype(np.int64)
                node = np.where(inner, child, node)
            raw += tree[node, 5]
        return 1.0 / (1.0 + np.exp(-np.clip(raw, -30, 30)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "trees", "features": list(self.features), "baseline": self.baseline,
            "trees": [tree.tolist() for tree in self.trees],
        }


@dataclass(frozen=True)
class AnswererModel:
    sentence: Classifier
    answerability: Classifier
    refusal_threshold: float  # refuse below this answerability probability (questions in other languages)
    second_sentence_ratio: float  # quote a second sentence when its probability is this close to the best
    min_sentence_probability: float  # a second sentence must also reach this
    provenance: dict[str, Any]
    # Per question language, where the out-of-fold data set one (the model's calibration differs by language).
    refusal_thresholds: dict[str, float] = field(default_factory=dict)
    # When the best sentence lacks the actor, a sentence that names it replaces it only when it is
    # this close; otherwise the best is kept and the sentence naming the actor is quoted before it.
    actor_swap_ratio: float = 0.8
    # A third sentence is quoted when its probability is this close to the best (above 1: never).
    third_sentence_ratio: float = NEVER

    def threshold_for(self, lang: str) -> float:
        return self.refusal_thresholds.get(lang, self.refusal_threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "sentence": self.sentence.to_dict(),  # type: ignore[attr-defined]
            "answerability": self.answerability.to_dict(),  # type: ignore[attr-defined]
            "refusal_threshold": self.refusal_threshold,
            "refusal_thresholds": dict(self.refusal_thresholds),
            "second_sentence_ratio": self.second_sentence_ratio,
            "min_sentence_probability": self.min_sentence_probability,
            "actor_swap_ratio": self.actor_swap_ratio,
            "third_sentence_ratio": self.third_sentence_ratio,
            "provenance": self.provenance,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")


def classifier_from_dict(data: dict[str, Any], expected: tuple[str, ...]) -> Classifier:
    features = tuple(data["features"])
    if features != expected:
        raise ValueError(f"features {features} differ from this version's {expected}")
    if data["kind"] == "logistic":
        return LogisticModel(
            features, np.asarray(data["mean"], dtype=np.float64), np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]),
        )
    if data["kind"] == "trees":
        trees = tuple(np.asarray(t, dtype=np.float64).reshape(-1, 7) for t in data["trees"])
        return TreeEnsemble(features, float(data["baseline"]), trees)
    raise ValueError(f"unknown classifier kind {data['kind']!r}")


def model_from_dict(data: dict[str, Any]) -> AnswererModel:
    if data.get("format") != FORMAT_VERSION:
        raise ValueError(f"format {data.get('format')!r}, expected {FORMAT_VERSION}")
    return AnswererModel(
        sentence=classifier_from_dict(data["sentence"], SENTENCE_FEATURES),
        answerability=classifier_from_dict(data["answerability"], QUESTION_FEATURES),
        refusal_threshold=float(data["refusal_threshold"]),
        second_sentence_ratio=float(data["second_sentence_ratio"]),
        min_sentence_probability=float(data["min_sentence_probability"]),
        provenance=dict(data.get("provenance", {})),
        refusal_thresholds={str(k): float(v) for k, v in data.get("refusal_thresholds", {}).items()},
        actor_swap_ratio=float(data.get("actor_swap_ratio", data["second_sentence_ratio"])),
        third_sentence_ratio=float(data.get("third_sentence_ratio", NEVER)),  # files older than the rule
    )


@lru_cache(maxsize=4)
def load_model(path: Path = DEFAULT_MODEL_PATH) -> AnswererModel:
    """The answerer model at ``path``; one clear :class:`ConfigError` when it cannot be used."""
    try:
        return model_from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ConfigError(f"answerer model {path} not found; unset ASSISTANT_ANSWERER_MODEL to use the bundled one") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"answerer model {path} cannot be used ({exc}); retrain it with scripts/train_answerer.py "
            "or unset ASSISTANT_ANSWERER_MODEL"
        ) from None
