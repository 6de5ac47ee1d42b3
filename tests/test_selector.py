"""The answerer model file: numpy inference equals scikit-learn's, and bad files give one clear error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.selector import DEFAULT_MODEL_PATH, LogisticModel, load_model, model_from_dict
from assistant.sentence_features import QUESTION_FEATURES, SENTENCE_FEATURES

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from train_answerer import fit_conditional_logit, fit_logistic, fit_trees  # noqa: E402


def data(n: int = 600, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    x = rng.randn(n, d)
    y = (x[:, 0] - 0.7 * x[:, 1] + 0.3 * rng.randn(n) > 0).astype(int)
    return x, y


def test_logistic_export_matches_scikit_learn() -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = data()
    model = fit_logistic(x, y, ("a", "b", "c", "d"))
    mean, scale = x.mean(axis=0), x.std(axis=0)
    reference = LogisticRegression(C=1.0, max_iter=2000, random_state=13).fit((x - mean) / scale, y)
    assert np.allclose(model.probabilities(x), reference.predict_proba((x - mean) / scale)[:, 1], atol=1e-9)


def test_tree_export_matches_scikit_learn_with_missing_values() -> None:
    x, y = data()
    x[::7, 1] = np.nan  # missing values take the branch the trees learnt for them
    model = fit_trees(x, y, ("a", "b", "c", "d"))  # asserts equality on its training rows itself
    fresh, _ = data(200, seed=1)
    fresh[::3, 1] = np.nan
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: F401  (fit_trees used it)

    probs = model.probabilities(fresh)
    assert probs.shape == (200,) and np.all((probs > 0) & (probs < 1))
    assert ((probs > 0.5) == (fresh[:, 0] - 0.7 * np.nan_to_num(fresh[:, 1]) > 0)).mean() > 0.8


def test_conditional_logit_ranks_within_each_question_and_gives_probabilities() -> None:
    """Feature 0 is the same for all of a question's sentences (questions with few candidates
    have a high one), feature 1 tells them apart. A pointwise fit leans on feature 0 (few
    candidates: a high share of answers); the conditional logit, which compares sentences of
    one question, gives it no weight at all, and ranks by feature 1."""
    rng = np.random.RandomState(3)
    sizes = rng.randint(3, 30, size=300)
    groups = np.repeat(np.arange(len(sizes)), sizes)
    few = np.repeat(-np.log(sizes) + 0.1 * rng.randn(len(sizes)), sizes)
    signal = rng.randn(len(groups))
    y = np.zeros(len(groups), dtype=int)
    for q in range(len(sizes)):  # the answer sentence: the question's highest signal, give or take noise
        rows = np.where(groups == q)[0]
        y[rows[np.argmax(signal[rows] + 0.3 * rng.randn(len(rows)))]] = 1
    x = np.column_stack([few, signal])
    pointwise = fit_logistic(x, y, ("few", "signal"))
    model = fit_conditional_logit(x, y, ("few", "signal"), groups)
    assert isinstance(model, LogisticModel)
    assert pointwise.coef[0] > 0.1 and abs(model.coef[0]) < 1e-6 < model.coef[1]
    probs = model.probabilities(x)
    assert np.all((probs > 0) & (probs < 1))
    assert abs(probs.mean() - y.mean()) < 0.02  # Platt scaling: probabilities on the labels' scale
    chosen = [np.where(groups == q)[0][np.argmax(probs[groups == q])] for q in range(len(sizes))]
    assert chosen == [np.where(groups == q)[0][np.argmax(signal[groups == q])] for q in range(len(sizes))]


def test_bundled_model_loads_and_round_trips() -> None:
    model = load_model(DEFAULT_MODEL_PATH)
    assert model.sentence.features == SENTENCE_FEATURES
    assert model.answerability.features == QUESTION_FEATURES
    assert 0.0 < model.refusal_threshold < 1.0
    again = model_from_dict(json.loads(json.dumps(model.to_dict())))
    rows = np.random.RandomState(2).rand(5, len(SENTENCE_FEATURES))
    assert np.allclose(again.sentence.probabilities(rows), model.sentence.probabilities(rows))
    assert model.provenance["seed"] == 13


def test_actor_swap_ratio_round_trips_and_defaults_for_older_files() -> None:
    data_ = load_model(DEFAULT_MODEL_PATH).to_dict()
    assert model_from_dict(json.loads(json.dumps(data_))).actor_swap_ratio == data_["actor_swap_ratio"]
    del data_["actor_swap_ratio"]  # a file written before the rule had its own setting
    assert model_from_dict(data_).actor_swap_ratio == data_["second_sentence_ratio"]


def test_third_sentence_ratio_round_trips_and_older_files_quote_no_third_sentence() -> None:
    data_ = load_model(DEFAULT_MODEL_PATH).to_dict()
    assert model_from_dict(json.loads(json.dumps(data_))).third_sentence_ratio == data_["third_sentence_ratio"]
    del data_["third_sentence_ratio"]
    assert model_from_dict(data_).third_sentence_ratio > 1.0


def test_missing_model_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.json not found; unset ASSISTANT_ANSWERER_MODEL"):
        load_model(tmp_path / "nowhere.json")


def test_model_with_other_features_is_refused(tmp_path: Path) -> None:
    data_ = load_model(DEFAULT_MODEL_PATH).to_dict()
    data_["sentence"]["features"] = ["something_else"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data_))
    with pytest.raises(ConfigError, match="retrain it with scripts/train_answerer.py"):
        load_model(path)


def test_logistic_is_a_sigmoid_of_standardised_inputs() -> None:
    m = LogisticModel(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([1.0, -1.0]), 0.5)
    row = np.array([[3.0, 0.5]])
    z = (3.0 - 1.0) / 2.0 * 1.0 + 0.5 * -1.0 + 0.5
    assert m.probabilities(row)[0] == pytest.approx(1 / (1 + np.exp(-z)))
