#!/usr/bin/env python
"""Fit the answerer model (sentence selector + answerability) and write it as JSON.

    # the bundled model, from the public benchmarks (see the README's "Benchmarks"):
    .venv/bin/python scripts/train_answerer.py --bench ../shared/bench
    # a newsroom's own model, from its own test set (the `assistant eval` format):
    .venv/bin/python scripts/train_answerer.py --testset my-questions.jsonl --sources sources --index index \\
        --out my-answerer.json
    ASSISTANT_ANSWERER_MODEL=my-answerer.json assistant serve

Steps (seed 13): collect samples (``answerer_data.py``: real retrieval, the run-time
features; cached under ``reports/answerer/``), 5-fold cross-validation grouped by
article (no article in both the training and the test folds), logistic regression
against gradient-boosted trees for each of the two classifiers, the refusal point
and the second-sentence rule chosen on out-of-fold predictions, then a fit on all
the training questions. With ``--bench`` the questions of each set's ``train.jsonl``
are the training data; ``qa.jsonl`` is never fitted on (``scripts/bench.py`` measures
on it), nor is ``tests/eval/seeds.jsonl``, which the tests assert. The only questions that
cross languages (English over French articles) are ``scripts/answerer_seeds_train.jsonl``,
over the seed articles, which the tests also ask about: it holds no question whose fact or
answer sentence a ``seeds.jsonl`` question asks for (four that did were taken out on
2026-11-28), and the refusal point across languages is chosen on it alone.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answerer_data import (  # noqa: E402
    ROOT, Corpus, Sample, cached, collect, gibberish_cases, load_cases, sample_cases,
)

from assistant.answer import UNMET_CONFIDENCE, ExtractiveAnswerer, refusal_language, unmet  # noqa: E402
from assistant.selector import DEFAULT_MODEL_PATH, NEVER, AnswererModel, LogisticModel, TreeEnsemble  # noqa: E402
from assistant.sentence_features import QUESTION_FEATURES, SENTENCE_FEATURES, question_row  # noqa: E402

SEED = 13
FOLDS = 5
CACHE = ROOT / "reports" / "answerer"
# Refusal point: the most refusals of unanswerable questions such that at most these
# shares of answerable questions are refused, pooled and in every fold (targets: piaf-fr 8 %,
# squad2-en 20 %). French keeps a margin (its accuracy target is the tighter one); English is
# held to its target in every fold, which leaves ~15 % pooled out of fold: at 18 % per fold the
# pooled share was ~12-13 % (2026-11-27), further below the target than the folds' spread asks.
MAX_FALSE_REFUSALS = {"fr": 0.06, "en": 0.20}
TREES_AUC_MARGIN = 0.03
MIN_FOLD_QUESTIONS = 50  # folds with fewer answerable questions of a language are not held to it
RATIOS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.8, NEVER)
THIRD_RATIOS = (0.4, 0.5, 0.6, 0.7, 0.8, NEVER)
MIN_PROBABILITIES = (0.0, 0.1)
ACTOR_SWAP_RATIOS = (0.8, NEVER)
# The answer rule maximises accuracy minus this price per word of the mean answer: ten more
# words on average must buy two points of accuracy (a longer answer costs the reader time).
WORD_PRICE = 0.002
RULE_TIE = 0.001


# --- classifiers ----------------------------------------------------------------


def fit_logistic(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], weights: np.ndarray | None = None) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    clf = LogisticRegression(C=1.0, max_iter=2000, random_state=SEED).fit((x - mean) / scale, y, sample_weight=weights)
    return LogisticModel(features, mean, scale, clf.coef_[0].astype(np.float64), float(clf.intercept_[0]))


def fit_trees(x: np.ndarray, y: np.ndarray, features: tuple[str, ...], weights: np.ndarray | None = None) -> TreeEnsemble:
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.06, max_leaf_nodes=15, min_samples_leaf=30, l2_regularization=1.0,
        random_state=SEED,
    ).fit(x, y, sample_weight=weights)
    trees = []
    for (predictor,) in clf._predictors:  # binary: one tree per boosting round
        n = predictor.nodes
        trees.append(np.column_stack([
            n["feature_idx"], n["num_threshold"], n["left"], n["right"], n["is_leaf"], n["value"], n["missing_go_to_left"],
        ]).astype(np.float64))
    model = TreeEnsemble(features, float(np.ravel(clf._baseline_prediction)[0]), tuple(trees))
    check = x[: min(200, len(x))]
    assert np.allclose(model.probabilities(check), clf.predict_proba(check)[:, 1], atol=1e-6), "tree export differs"
    return model


def fit_conditional_logit(
    x: np.ndarray, y: np.ndarray, features: tuple[str, ...], groups: np.ndarray, l2: float = 1.0
) -> LogisticModel:
    """The selector fitted on what it is used for: ranking one question's candidates.

    The weights maximise the softmax share of the answer sentences among their question's
    candidates (a conditional logit, L2-penalised); a one-input logistic fit on the pointwise
    labels (Platt scaling) then turns the score into a probability. The result is an ordinary
    :class:`LogisticModel` (weights scaled, one intercept): the file format does not change.
    """
    from scipy.optimize import minimize
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    _, question = np.unique(groups, return_inverse=True)
    n = int(question.max()) + 1
    has_answer = np.bincount(question, y, n)[question] > 0  # a question with no answer sentence ranks nothing

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z[has_answer] @ w
        q, t = question[has_answer], y[has_answer]
        top = np.full(n, -np.inf)
        np.maximum.at(top, q, s)
        e = np.exp(s - top[q])
        total, good = np.bincount(q, e, n), np.bincount(q, e * t, n)
        used = good > 0
        value = -(np.log(good[used]) - np.log(total[used])).sum() + 0.5 * l2 * w @ w
        grad_rows = e / total[q] - t * e / np.where(good[q] > 0, good[q], 1.0)
        return float(value), z[has_answer].T @ grad_rows + l2 * w

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    platt = LogisticRegression(C=1.0, max_iter=2000, random_state=SEED).fit((z @ w)[:, None], y)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    return LogisticModel(features, mean, scale, (a * w).astype(np.float64), b)


# Selector fitters take the rows' question ids too (the conditional logit ranks within a question).
SELECTOR_FITTERS: dict[str, Callable[..., object]] = {
    "logistic": lambda x, y, f, groups: fit_logistic(x, y, f),
    "clogit": fit_conditional_logit,
    "trees": lambda x, y, f, groups: fit_trees(x, y, f),
}
FITTERS: dict[str, Callable[..., object]] = {
    "logistic": fit_logistic, "trees": fit_trees,
}


# --- cross-validation -----------------------------------------------------------


def assign_folds(samples: Sequence[Sample]) -> np.ndarray:
    groups = sorted({s.group for s in samples})
    random.Random(SEED).shuffle(groups)
    fold_of = {g: i % FOLDS for i, g in enumerate(groups)}
    return np.array([fold_of[s.group] for s in samples])


def selector_rows(samples: Sequence[Sample]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate rows of the real answerable questions, their labels and their question's number."""
    rows = [s for s in samples if s.answerable and s.kind == "real" and s.candidates]
    x = np.concatenate([np.stack([c.features for c in s.candidates]) for s in rows])
    y = np.concatenate([s.labels for s in rows]).astype(int)
    groups = np.concatenate([np.full(len(s.candidates), i) for i, s in enumerate(rows)])
    return x, y, groups


def sentence_probabilities(model, samples: Sequence[Sample]) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    return [model.probabilities(np.stack([c.features for c in s.candidates])) if s.candidates else np.zeros(0) for s in samples]


def answerability_rows(samples: Sequence[Sample], probs: Sequence[np.ndarray]) -> np.ndarray:
    rows = []
    for s, p in zip(samples, probs):
        order = np.argsort(-p, kind="stable")
        rows.append(question_row(s.terms, [s.candidates[i] for i in order], [float(p[i]) for i in order], s.knowledge))
    return np.stack(rows)


BENCH_DATA = ("--bench (train.jsonl of piaf-fr and squad2-en; scripts/answerer_seeds_train.jsonl, 33 questions over "
              "the seed articles that ask no fact tests/eval/seeds.jsonl asks; synthetic negatives)")
# The seeds' own training questions are the only ones that cross languages (English questions
# over French articles): few, so each counts as several.
CROSS_LANGUAGE_WEIGHT = 8.0


def sample_weights(samples: Sequence[Sample]) -> np.ndarray:
    return np.array([CROSS_LANGUAGE_WEIGHT if s.corpus == "seeds" and s.kind in ("real", "removed") else 1.0 for s in samples])


@dataclass
class OutOfFold:
    sentence_probs: list[np.ndarray]
    confidence: np.ndarray


def cross_validate(samples: list[Sample], folds: np.ndarray, selector_kind: str, answer_kind: str) -> OutOfFold:
    sentence_probs: list[np.ndarray] = [np.zeros(0)] * len(samples)
    for f in range(FOLDS):
        train = [s for s, k in zip(samples, folds) if k != f]
        x, y, groups = selector_rows(train)
        model = SELECTOR_FITTERS[selector_kind](x, y, SENTENCE_FEATURES, groups)
        held = [i for i, k in enumerate(folds) if k == f]
        for i, p in zip(held, sentence_probabilities(model, [samples[i] for i in held])):
            sentence_probs[i] = p
    rows = answerability_rows(samples, sentence_probs)
    labels = np.array([s.answerable for s in samples], dtype=int)
    weights = sample_weights(samples)
    confidence = np.zeros(len(samples))
    for f in range(FOLDS):
        model = FITTERS[answer_kind](rows[folds != f], labels[folds != f], QUESTION_FEATURES, weights[folds != f])
        confidence[folds == f] = model.probabilities(rows[folds == f])  # type: ignore[attr-defined]
    return OutOfFold(sentence_probs, gated(samples, sentence_probs, confidence))


def gated(samples: Sequence[Sample], probs: Sequence[np.ndarray], confidence: np.ndarray) -> np.ndarray:
    """The confidence as the answerer reports it: capped where the sentence it would quote first
    lacks what the question turns on (``answer.unmet``: a measure asked for, a negation, an opposite)."""
    out = confidence.copy()
    for i, (s, p) in enumerate(zip(samples, probs)):
        ranked = [s.candidates[j] for j in np.argsort(-p, kind="stable")]
        if unmet(s.question, ranked) is not None:
            out[i] = min(out[i], UNMET_CONFIDENCE)
    return out


# --- choosing the refusal point and the answer rule -----------------------------


Thresholds = dict[str, float]  # question language -> refusal point; "*" for any other language


def threshold_of(thresholds: Thresholds, sample: Sample) -> float:
    return thresholds.get(refusal_language(sample.terms, sample.candidates), thresholds["*"])


def refused_mask(samples: Sequence[Sample], confidence: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    return np.array([(c < threshold_of(thresholds, s)) or not s.candidates or s.knowledge.known_share == 0.0
                     for s, c in zip(samples, confidence)])


def choose_thresholds(samples: list[Sample], confidence: np.ndarray, folds: np.ndarray) -> Thresholds:
    """Per question language: the point that refuses the most unanswerable questions (real and
    synthetic) while refusing at most MAX_FALSE_REFUSALS of the real answerable ones, pooled
    and in every fold (a fold is a set of whole articles: squad2-en's training questions come
    from eight articles, and the pooled share hid how far one article's questions drift: the
    pooled rule alone refused 23 % of dev's answerable questions for 16 % out of fold)."""
    chosen: Thresholds = {}
    languages = [refusal_language(s.terms, s.candidates) if s.candidates else s.lang for s in samples]
    for lang, cap in MAX_FALSE_REFUSALS.items():
        in_lang = [i for i, s in enumerate(samples) if languages[i] == lang]
        positives = np.array([i for i in in_lang if samples[i].kind == "real" and samples[i].answerable], dtype=int)
        negatives = [i for i in in_lang if not samples[i].answerable]
        fold_sets = [positives[folds[positives] == f] for f in range(FOLDS)]
        fold_sets = [f for f in fold_sets if len(f) >= MIN_FOLD_QUESTIONS]
        best_t, best_recall = 0.05, -1.0
        for t in np.arange(0.02, 0.95, 0.01):
            refused = refused_mask(samples, confidence, {"*": float(t)})
            if len(positives) and refused[positives].mean() > cap:
                continue
            if any(refused[f].mean() > cap for f in fold_sets):
                continue
            recall = refused[negatives].mean() if negatives else 0.0
            if recall > best_recall:
                best_t, best_recall = float(t), float(recall)
        chosen[lang] = round(best_t, 2)
    chosen["*"] = _cross_language_point(samples, confidence, languages, min(chosen.values()))
    return chosen


# Questions asked across languages (English questions over the French seeds) get their own point,
# chosen on their own out-of-fold samples when there are enough of them: the same rule, held to
# the English cap (they are English questions), pooled (too few for folds). Otherwise the gentler
# of the two points. Tied to the French point, it moved whenever the French folds did.
MIN_CROSS_LANGUAGE_ANSWERABLE = 20


def _cross_language_point(samples: list[Sample], confidence: np.ndarray, languages: list[str], fallback: float) -> float:
    cross = [i for i, lang in enumerate(languages) if lang == "*"]
    positives = [i for i in cross if samples[i].kind == "real" and samples[i].answerable]
    negatives = [i for i in cross if not samples[i].answerable]
    if len(positives) < MIN_CROSS_LANGUAGE_ANSWERABLE or not negatives:
        return fallback
    best_t, best_recall = fallback, -1.0
    for t in np.arange(0.02, 0.95, 0.01):
        refused = refused_mask(samples, confidence, {"*": float(t)})
        if refused[positives].mean() > MAX_FALSE_REFUSALS["en"]:
            continue
        recall = float(refused[negatives].mean())
        if recall > best_recall:
            best_t, best_recall = float(t), recall
    return round(best_t, 2)


@dataclass(frozen=True)
class Rule:
    """How an answer is composed from the ranked sentences (the model file's settings)."""

    ratio: float = 0.3  # a second sentence at this share of the best's probability
    min_p: float = 0.1  # ... and at least this probability
    swap: float = NEVER  # a sentence naming the actor replaces the best at this share
    third: float = NEVER  # a third sentence at this share

    def label(self) -> str:
        return f"ratio {self.ratio} / third {self.third} / min p {self.min_p} / actor swap {self.swap}"


def composed_answers(samples, probs, confidence, thresholds, rule, corpora):  # type: ignore[no-untyped-def]
    """(refused, answer text) per sample, as the run-time answerer composes them."""
    answerers: dict[str, object] = {}
    out = []
    for s, p, conf in zip(samples, probs, confidence):
        if conf < threshold_of(thresholds, s) or not s.candidates or s.knowledge.known_share == 0.0:
            out.append((True, ""))
            continue
        bot = answerers.get(s.corpus) or answerers.setdefault(s.corpus, corpora[s.corpus].assistant())
        model = AnswererModel(None, None, thresholds["*"], rule.ratio, rule.min_p, {}, thresholds, rule.swap, rule.third)  # type: ignore[arg-type]
        answerer = ExtractiveAnswerer(bot.retriever.snapshot().lexical, bot.extractive().article_text, None, model)
        groups = answerer._choose(_ranking(s, p, np.argsort(-p, kind="stable"), conf))
        out.append((False, " ".join(g[0][0].text for g in groups)))
    return out


def _ranking(s: Sample, p: np.ndarray, order: np.ndarray, conf: float):  # type: ignore[no-untyped-def]
    from assistant.answer import Ranking

    return Ranking(s.terms, [s.candidates[i] for i in order], [float(p[i]) for i in order], float(conf), s.knowledge)


def scores(samples, composed) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from assistant.evaluate import answer_contains

    out: dict[str, float] = {}
    for lang in ("fr", "en"):
        ans = [(s, c) for s, c in zip(samples, composed) if s.kind == "real" and s.lang == lang and s.answerable]
        una = [(s, c) for s, c in zip(samples, composed) if s.kind == "real" and s.lang == lang and not s.answerable]
        if ans:
            out[f"{lang}_accuracy"] = sum(any(answer_contains(t, g) for g in s.answers) for s, (r, t) in ans if not r) / len(ans)
            out[f"{lang}_false_refusals"] = sum(r for _, (r, _) in ans) / len(ans)
        answered = [t for _, (r, t) in ans if not r]
        if answered:  # the price of quoting a second sentence: longer answers
            out[f"{lang}_answer_words"] = float(np.mean([len(t.split()) for t in answered]))
        if una:
            out[f"{lang}_refusal_recall"] = sum(r for _, (r, _) in una) / len(una)
    synthetic = [c for s, c in zip(samples, composed) if s.kind != "real"]
    if synthetic:
        out["synthetic_refusal_recall"] = sum(r for r, _ in synthetic) / len(synthetic)
    return {k: round(v, 3) for k, v in out.items()}


def top1(samples, probs) -> float:  # type: ignore[no-untyped-def]
    rows = [(s, p) for s, p in zip(samples, probs) if s.kind == "real" and s.answerable and len(p)]
    return round(sum(bool(s.labels[int(np.argmax(p))]) for s, p in rows) / max(1, len(rows)), 3)


def auc(labels: np.ndarray, scores_: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(labels, scores_)), 3)


# --- data -----------------------------------------------------------------------


def bench_samples(bench: Path, only: Sequence[str] = ()) -> tuple[list[Sample], list[Sample], dict[str, Corpus]]:
    """Training and dev samples of the two benchmark sets, with synthetic negatives."""
    piaf = Corpus("piaf-fr", bench / "piaf-fr" / "sources", ROOT / "reports" / "bench" / "piaf-fr" / "index")
    squad = Corpus("squad2-en", bench / "squad2-en" / "sources", ROOT / "reports" / "bench" / "squad2-en" / "index")
    seeds = Corpus("seeds", ROOT / "sources", CACHE / "seeds-index")
    corpora = {c.name: c for c in (piaf, squad, seeds)}
    piaf_train, squad_train = load_cases(bench / "piaf-fr" / "train.jsonl"), load_cases(bench / "squad2-en" / "train.jsonl")

    seeds_train = load_cases(ROOT / "scripts" / "answerer_seeds_train.jsonl")
    piaf_dev, squad_dev = load_cases(bench / "piaf-fr" / "qa.jsonl"), load_cases(bench / "squad2-en" / "qa.jsonl")
    # (cache name, corpus asked, questions, kind, split, answerable override); each part is cached on its own.
    parts = [
        ("real-squad", squad, squad_train, "real", "train", None),
        ("removed-squad", squad, sample_cases(squad_train, 250, SEED), "removed", "train", False),
        ("gibberish-squad", squad, gibberish_cases(60, SEED + 11), "gibberish", "train", False),
        ("gibberish-seeds", seeds, gibberish_cases(60, SEED + 12), "gibberish", "train", False),
        # Off-topic questions in the corpus's own language only: asked across languages they
        # would teach the model that every English question over French articles is unanswerable.
        ("cross-piaf-on-seeds", seeds, sample_cases(piaf_train, 120, SEED + 2), "cross", "train", False),
        ("real-seeds-train", seeds, seeds_train, "real", "train", None),
        ("removed-seeds-train", seeds, [c for c in seeds_train if c.answerable], "removed", "train", False),
        ("real-piaf", piaf, piaf_train, "real", "train", None),
        ("removed-piaf", piaf, sample_cases(piaf_train, 400, SEED), "removed", "train", False),
        ("gibberish-piaf", piaf, gibberish_cases(60, SEED + 10), "gibberish", "train", False),
        ("dev-squad", squad, squad_dev, "real", "dev", None),
        ("dev-piaf", piaf, piaf_dev, "real", "dev", None),
    ]
    train: list[Sample] = []
    dev: list[Sample] = []
    for name, corpus, cases, kind, split, answerable in parts:
        if only and not any(o in name for o in only):
            continue
        got = cached(CACHE / f"{name}.pkl", lambda: collect(corpus, cases, kind, split, answerable))
        print(f"{name}: {len(got)} samples", flush=True)
        (dev if split == "dev" else train).extend(got)
    return train, dev, corpora


def testset_samples(testset: Path, sources: Path, index: Path) -> tuple[list[Sample], list[Sample], dict[str, Corpus]]:
    """A user's own test set: its questions, plus gibberish and gold-removed negatives."""
    corpus = Corpus("own", sources, index)
    cases = load_cases(testset)
    samples = collect(corpus, cases, "real", "train")
    samples += collect(corpus, [c for c in cases if c.answerable and c.expected_sources], "removed", "train", answerable=False)
    samples += collect(corpus, gibberish_cases(60, SEED), "gibberish", "train", answerable=False)
    return samples, [], {"own": corpus}


# --- main -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, help="folder holding piaf-fr/ and squad2-en/ (the public benchmarks)")
    ap.add_argument("--testset", type=Path, help="your own test set (JSONL, the `assistant eval` format)")
    ap.add_argument("--sources", type=Path, default=Path("sources"))
    ap.add_argument("--index", type=Path, default=Path("index"))
    ap.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    ap.add_argument("--models", help="skip the comparison: SELECTOR+ANSWERABILITY; selector logistic, clogit or trees; answerability logistic or trees")
    ap.add_argument("--only", nargs="*", default=(), help="with --bench: only the sample parts whose name holds one of these")
    args = ap.parse_args(argv)
    if bool(args.bench) == bool(args.testset):
        ap.error("give --bench DIR or --testset FILE")
    if args.bench:
        train, dev, corpora = bench_samples(args.bench, args.only)
    else:
        train, dev, corpora = testset_samples(args.testset, args.sources, args.index)
    folds = assign_folds(train)
    labels = np.array([s.answerable for s in train], dtype=int)
    report: dict[str, object] = {"seed": SEED, "folds": FOLDS, "train_questions": len(train),
                                 "kinds": {k: sum(s.kind == k for s in train) for k in ("real", "removed", "cross", "gibberish")}}
    comparisons = {}
    best = None
    pairs = [tuple(args.models.split("+"))] if args.models else [(a, b) for a in SELECTOR_FITTERS for b in FITTERS]
    for sel_kind, ans_kind in pairs:
        oof = cross_validate(train, folds, sel_kind, ans_kind)
        threshold = choose_thresholds(train, oof.confidence, folds)
        composed = composed_answers(train, oof.sentence_probs, oof.confidence, threshold, Rule(), corpora)
        real = np.array([s.kind == "real" for s in train])
        row = {"selector_top1": top1(train, oof.sentence_probs), "answerability_auc": auc(labels, oof.confidence),
               "answerability_auc_real": auc(labels[real], oof.confidence[real]),
               "threshold": threshold, **scores(train, composed)}
        comparisons[f"{sel_kind}+{ans_kind}"] = row
        print(f"{sel_kind:>8} selector + {ans_kind:>8} answerability (out-of-fold): {row}", flush=True)
        # Trees must beat the logistic model clearly to be chosen: they are slower to run and
        # their file is hundreds of KB instead of a few. Answerability is judged on the real
        # questions (the synthetic negatives are easy: gibberish, off-topic); there, trees gained
        # 0.02 of AUC (2026-11-27) but, at their refusal points, refused 3 points more of the
        # answerable English questions for 0.006 more of the unanswerable ones: a gain of AUC
        # below TREES_AUC_MARGIN does not show where the answer is decided.
        key = (round(row["selector_top1"] - 0.01 * (sel_kind == "trees"), 3),
               round(row["answerability_auc_real"] - TREES_AUC_MARGIN * (ans_kind == "trees"), 3))
        if best is None or key > best[0]:
            best = (key, sel_kind, ans_kind, oof, threshold)
    report["comparisons"] = comparisons
    assert best is not None
    _, sel_kind, ans_kind, oof, threshold = best
    rules = [Rule(ratio, min_p, swap, third) for swap in ACTOR_SWAP_RATIOS for ratio in RATIOS
             for third in THIRD_RATIOS if third >= ratio for min_p in MIN_PROBABILITIES]
    rule_rows = {rule: scores(train, composed_answers(train, oof.sentence_probs, oof.confidence, threshold, rule, corpora))
                 for rule in rules}

    # The rule with the best accuracy less WORD_PRICE per word of answer (both languages' means):
    # a further sentence costs the reader time, and it is quoted only where it pays.
    def mean_of(r: dict[str, float], suffix: str) -> float:
        return float(np.mean([v for k, v in r.items() if k.endswith(suffix)]))
    def value(k: Rule) -> float:
        return mean_of(rule_rows[k], "_accuracy") - WORD_PRICE * mean_of(rule_rows[k], "_answer_words")
    # Rules this close to the best are ties (the objective is flat there): the shortest answers win.
    top = max(value(k) for k in rules)
    rule = min((k for k in rules if value(k) >= top - RULE_TIE), key=lambda k: mean_of(rule_rows[k], "_answer_words"))
    report["answer_rules"] = {k.label(): v for k, v in rule_rows.items()}
    report["chosen"] = {"selector": sel_kind, "answerability": ans_kind, "threshold": threshold,
                        "second_sentence_ratio": rule.ratio, "third_sentence_ratio": rule.third,
                        "min_sentence_probability": rule.min_p, "actor_swap_ratio": rule.swap, "word_price": WORD_PRICE,
                        "out_of_fold": rule_rows[rule]}
    print("chosen:", report["chosen"], flush=True)
    x, y, groups = selector_rows(train)
    selector = SELECTOR_FITTERS[sel_kind](x, y, SENTENCE_FEATURES, groups)
    answerability = FITTERS[ans_kind](answerability_rows(train, oof.sentence_probs), labels, QUESTION_FEATURES, sample_weights(train))
    provenance = {"script": "scripts/train_answerer.py", "seed": SEED, "folds": FOLDS,
                  "data": BENCH_DATA if args.bench else str(args.testset),
                  "out_of_fold": rule_rows[rule]}
    model = AnswererModel(selector, answerability, threshold["*"], rule.ratio, rule.min_p, provenance,  # type: ignore[arg-type]
                          {k: v for k, v in threshold.items() if k != "*"}, rule.swap, rule.third)
    if dev:
        dev_probs = sentence_probabilities(selector, dev)
        dev_conf = gated(dev, dev_probs, answerability.probabilities(answerability_rows(dev, dev_probs)))  # type: ignore[attr-defined]
        report["dev"] = scores(dev, composed_answers(dev, dev_probs, dev_conf, threshold, rule, corpora))
        report["dev_selector_top1"] = top1(dev, dev_probs)
        print("dev (qa.jsonl, never fitted on):", report["dev"], "top1", report["dev_selector_top1"], flush=True)
    if sel_kind in ("logistic", "clogit"):
        report["selector_weights"] = dict(zip(SENTENCE_FEATURES, np.round(selector.coef, 3).tolist()))  # type: ignore[attr-defined]
    if ans_kind == "logistic":
        report["answerability_weights"] = dict(zip(QUESTION_FEATURES, np.round(answerability.coef, 3).tolist()))  # type: ignore[attr-defined]
    model.save(args.out)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "report.json").write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes); report in {CACHE / 'report.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
