#!/usr/bin/env python
"""Fit the passage ranker (``src/assistant/passage_ranker.json``) on the benchmarks' training questions.

    .venv/bin/python scripts/train_ranker.py --bench ../shared/bench            # writes the file: the retriever uses it
    .venv/bin/python scripts/train_ranker.py --bench ../shared/bench --dry-run  # compare only

Without that file the retriever keeps the hand-fitted mix (``ranker.hand_mix``); none is
bundled, see docs/answers-log.md, "Retrieval: what was tried", for why.

Steps (seed 13): every answerable ``train.jsonl`` question of piaf-fr and squad2-en
is searched in its set's index (``reports/bench/<set>/index``, built by
``scripts/bench.py``) through ``Retriever.candidates``, the run-time code: its top
fused candidates and their feature rows (``assistant.ranker``), each labelled by
whether it holds one of the question's evidence excerpts (the benchmark's "hit").
The candidates are cached under ``reports/ranker/`` (the rows are computed again at
each load, so a new feature needs no new search). A conditional logit (the softmax
share of the hits among a question's candidates, L2-penalised) is fitted for each
variant (feature set; one weight set or one per ranking language); 5-fold
cross-validation grouped by article (squad2-en's questions come from eight
articles) gives the out-of-fold hit@1 / hit@5 against the hand-fitted mix, the
variant with the best mean out-of-fold hit@1 is fitted on all the training
questions and its weights scaled to the hand mix's score gaps (``rescaled``). The
dev questions (``qa.jsonl``) are scored and printed, never fitted on.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

from assistant import Assistant, Config  # noqa: E402
from assistant.evaluate import contains_evidence, load_testset  # noqa: E402
from assistant.ranker import (  # noqa: E402
    DEFAULT_RANKER_PATH, RANKER_FEATURES, CandidateInfo, PassageRanker, QuestionInfo, feature_rows, hand_mix,
    ranking_language,
)

SEED = 13
FOLDS = 5
SETS = {"piaf-fr": "fr", "squad2-en": "en"}
CACHE = ROOT / "reports" / "ranker"
L2 = 1.0
ANSWER_PASSAGES = 6  # the passages the answerer reads (sentence_features.CANDIDATE_PASSAGES)


@dataclass
class Question:
    set: str
    split: str  # train | dev
    id: str
    lang: str  # the ranking language (ranker.ranking_language)
    group: str  # its article: folds never split one
    info: QuestionInfo
    candidates: list[CandidateInfo]  # in fused order
    labels: np.ndarray  # candidate holds an evidence excerpt
    rows: np.ndarray | None = None  # candidates x features: computed at load, so that new features need no new search


def collect(bench: Path, name: str, split: str) -> list[Question]:
    path = CACHE / f"{name}-{split}.pkl"
    if path.exists():
        with path.open("rb") as fh:
            questions = pickle.load(fh)
        for q in questions:
            q.rows = feature_rows(q.info, q.candidates)
            q.lang = ranking_language(q.candidates, q.info.lang)
        return questions
    from answerer_data import query_vectors

    cases, problems = load_testset(bench / name / ("train.jsonl" if split == "train" else "qa.jsonl"))
    if problems:
        raise SystemExit("\n".join(problems))
    cases = [c for c in cases if c.answerable is not False and c.evidence]
    bot = Assistant(Config(sources_dir=bench / name / "sources", index_dir=ROOT / "reports" / "bench" / name / "index"))
    bot.index()  # incremental: a no-op when scripts/bench.py built it
    vectors = query_vectors(bot.retriever.embedder, [c.question for c in cases])
    out = []
    for n, (case, qvec) in enumerate(zip(cases, vectors)):
        if n and n % 250 == 0:
            print(f"  {name} {split}: {n}/{len(cases)}", flush=True)
        found = bot.retriever.candidates(case.question, qvec)
        if found is None:
            continue
        labels = np.array([contains_evidence(p.text, case.evidence) for p in found.passages], dtype=bool)
        out.append(Question(name, split, case.id, found.question.lang, sorted(case.expected_sources)[0] if case.expected_sources else case.id,
                            found.question, found.infos, labels))
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(out, fh)
    for q in out:
        q.rows = feature_rows(q.info, q.candidates)
        q.lang = ranking_language(q.candidates, q.info.lang)
    return out


# --- fitting ----------------------------------------------------------------------


def standardise(questions: list[Question]) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([q.rows for q in questions])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return mean, scale


def fit_clogit(questions: list[Question], mean: np.ndarray, scale: np.ndarray, features: np.ndarray, l2: float = L2) -> np.ndarray:
    """Weights (over the standardised features; zero where ``features`` is False) maximising the
    softmax share of the hits among each question's candidates. Questions with no hit teach nothing."""
    from scipy.optimize import minimize

    used = [q for q in questions if q.labels.any()]
    z = np.concatenate([(q.rows - mean) / scale for q in used])[:, features]
    y = np.concatenate([q.labels for q in used]).astype(float)
    qid = np.concatenate([np.full(len(q.labels), i) for i, q in enumerate(used)])
    n = len(used)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        top = np.full(n, -np.inf)
        np.maximum.at(top, qid, s)
        e = np.exp(s - top[qid])
        total, good = np.bincount(qid, e, n), np.bincount(qid, e * y, n)
        value = -(np.log(good) - np.log(total)).sum() + 0.5 * l2 * w @ w
        grad_rows = e / total[qid] - y * e / good[qid]
        return float(value), z.T @ grad_rows + l2 * w

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B").x
    out = np.zeros(len(RANKER_FEATURES))
    out[features] = w
    return out


def fit(questions: list[Question], features: np.ndarray, per_language: bool) -> PassageRanker:
    mean, scale = standardise(questions)
    coef = {"*": fit_clogit(questions, mean, scale, features)}
    if per_language:
        for lang in sorted({q.lang for q in questions}):
            coef[lang] = fit_clogit([q for q in questions if q.lang == lang], mean, scale, features)
    return PassageRanker(RANKER_FEATURES, mean, scale, coef)


def hits(ranker: PassageRanker, questions: list[Question]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in SETS:
        qs = [q for q in questions if q.set == name]
        if not qs:
            continue
        ranks = []
        for q in qs:
            order = np.argsort(-ranker.scores(q.rows, q.lang), kind="stable")
            found = np.nonzero(q.labels[order])[0]
            ranks.append(int(found[0]) + 1 if len(found) else 99)
        r = np.array(ranks)
        out[f"{name} hit@1"] = round(float((r <= 1).mean()), 3)
        out[f"{name} hit@5"] = round(float((r <= 5).mean()), 3)
    return out


def assign_folds(questions: list[Question]) -> np.ndarray:
    groups = sorted({(q.set, q.group) for q in questions})
    random.Random(SEED).shuffle(groups)
    fold_of = {g: i % FOLDS for i, g in enumerate(groups)}
    return np.array([fold_of[(q.set, q.group)] for q in questions])


def out_of_fold(questions: list[Question], folds: np.ndarray, features: np.ndarray, per_language: bool) -> dict[str, float]:
    """Hit rates of the held-out folds, each scored by a model fitted on the other four."""
    ranks: dict[str, list[int]] = {}
    for f in range(FOLDS):
        model = fit([q for q, k in zip(questions, folds) if k != f], features, per_language)
        for q in (q for q, k in zip(questions, folds) if k == f):
            order = np.argsort(-model.scores(q.rows, q.lang), kind="stable")
            found = np.nonzero(q.labels[order])[0]
            ranks.setdefault(q.set, []).append(int(found[0]) + 1 if len(found) else 99)
    out = {}
    for name, r in ranks.items():
        arr = np.array(r)
        out[f"{name} hit@1"] = round(float((arr <= 1).mean()), 3)
        out[f"{name} hit@5"] = round(float((arr <= 5).mean()), 3)
    return out


def rescaled(model: PassageRanker, questions: list[Question]) -> PassageRanker:
    """Each language's weights times the factor that gives its scores the mean gap between the best
    passage and the next ANSWER_PASSAGES - 1 that the hand mix had on that language's questions: the
    answerer's ``passage_score_gap`` was fitted on those gaps ("*": all the questions)."""
    old = hand_mix()
    coef = {}
    for lang, weights in model.coef.items():
        qs = [q for q in questions if lang in ("*", q.lang)]
        gaps_old, gaps_new = [], []
        for q in qs:
            for scores, gaps in ((old.scores(q.rows, q.lang), gaps_old), (model.scores(q.rows, lang), gaps_new)):
                s = np.sort(scores)[::-1][:ANSWER_PASSAGES]
                gaps.extend(s[0] - s[1:])
        coef[lang] = weights * float(np.mean(gaps_old) / max(np.mean(gaps_new), 1e-9))
    return PassageRanker(model.features, model.mean, model.scale, coef, model.provenance)


# --- main -------------------------------------------------------------------------


VARIANTS: dict[str, tuple[tuple[str, ...], bool]] = {
    # name: (features used, per-language weights)
    "four, joint": (("rrf", "cos", "coverage", "sentence_cos"), False),
    "four, per language": (("rrf", "cos", "coverage", "sentence_cos"), True),
    "seven, joint": (RANKER_FEATURES, False),
    "seven, per language": (RANKER_FEATURES, True),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, required=True, help="folder holding piaf-fr/ and squad2-en/")
    ap.add_argument("--variant", choices=VARIANTS, help="skip the comparison, fit this one")
    ap.add_argument("--out", type=Path, default=DEFAULT_RANKER_PATH)
    ap.add_argument("--dry-run", action="store_true", help="compare and report, write no model")
    args = ap.parse_args(argv)
    train = [q for name in SETS for q in collect(args.bench, name, "train")]
    dev = [q for name in SETS for q in collect(args.bench, name, "dev")]
    folds = assign_folds(train)
    report: dict[str, object] = {"seed": SEED, "folds": FOLDS, "train_questions": len(train), "dev_questions": len(dev),
                                 "hand mix": {"train": hits(hand_mix(), train), "dev": hits(hand_mix(), dev)}}
    print("hand mix:", report["hand mix"], flush=True)
    best = None
    for name, (names, per_language) in VARIANTS.items():
        if args.variant and name != args.variant:
            continue
        mask = np.array([f in names for f in RANKER_FEATURES])
        oof = out_of_fold(train, folds, mask, per_language)
        model = fit(train, mask, per_language)
        row = {"out_of_fold": oof, "dev": hits(model, dev)}
        report[name] = row
        print(f"{name}: {row}", flush=True)
        # Chosen on the out-of-fold figures only: the mean hit@1 of the two sets.
        key = float(np.mean([v for k, v in oof.items() if k.endswith("hit@1")]))
        if best is None or key > best[0]:
            best = (key, name, model)
    assert best is not None
    _, name, model = best
    model = rescaled(model, train)
    model = PassageRanker(model.features, model.mean, model.scale, model.coef, {
        "script": "scripts/train_ranker.py", "seed": SEED, "folds": FOLDS, "variant": name,
        "data": "answerable train.jsonl questions of piaf-fr and squad2-en", "out_of_fold": report[name]["out_of_fold"],  # type: ignore[index]
    })
    report["chosen"] = name
    report["weights"] = {k: dict(zip(RANKER_FEATURES, np.round(v, 3).tolist())) for k, v in model.coef.items()}
    print("chosen:", name, json.dumps(report["weights"], indent=1))
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "report.json").write_text(json.dumps(report, indent=1))
    if not args.dry_run:
        model.save(args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
