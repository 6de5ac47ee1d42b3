"""Pick the extractive answerer's refusal threshold on a test set we wrote (not the benchmarks).

    python scripts/calibrate_refusal.py [tests/eval/seeds.jsonl] [--sources sources] [--index /tmp/calib-index]

Prints the evidence strength (best sentence score) of every question, then, for
each candidate threshold, the false refusals (answerable questions refused)
and missed refusals (unanswerable questions answered), separately.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from assistant import Assistant, Config
from assistant.text import detect_language


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("testset", nargs="?", default="tests/eval/seeds.jsonl")
    parser.add_argument("--sources", default="sources")
    parser.add_argument("--index", default="/tmp/calib-index")
    args = parser.parse_args()
    bot = Assistant(Config(sources_dir=Path(args.sources), index_dir=Path(args.index)))
    bot.index()
    rows = []
    for line in Path(args.testset).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        qvec = bot.retriever.embedder.query_vector(q["question"])
        passages = bot.retriever.search(q["question"], 6, query_vector=qvec)
        scored = bot.extractive(qvec).score_sentences(q["question"], passages, detect_language(q["question"], "en"))
        strength = scored[0].score if scored else 0.0
        rows.append((strength, q["answerable"], q["lang"], q["question"]))
    rows.sort()
    for strength, answerable, lang, question in rows:
        print(f"{strength:.3f} {'ANS' if answerable else 'UNA'} {lang} {question}")
    print("\nthreshold  false_refusals  missed_refusals")
    for t in [x / 100 for x in range(25, 66, 2)]:
        false_ref = sum(1 for s, a, *_ in rows if a and s < t)
        missed = sum(1 for s, a, *_ in rows if not a and s >= t)
        print(f"{t:9.2f}  {false_ref:14d}  {missed:15d}")


if __name__ == "__main__":
    main()
