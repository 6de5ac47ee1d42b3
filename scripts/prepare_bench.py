#!/usr/bin/env python
"""Turn a SQuAD-format file (SQuAD 2.0, PIAF) into a benchmark folder for `assistant eval`.

    python scripts/prepare_bench.py piaf-v1.0.json bench/piaf-fr --lang fr --articles 96 --questions 800
    python scripts/prepare_bench.py dev-v2.0.json bench/squad2-en --lang en --articles 8 --questions 800

Writes OUT/sources/<article>.txt (the title on the first line, then the paragraphs separated
by blank lines) and OUT/qa.jsonl (one question a line: id, lang, question, answerable,
answers, expected_sources, evidence), the layout that `scripts/bench.py --bench-dir` reads.
Evidence is the verbatim stretch of the paragraph around the first answer (about 100
characters, cut at spaces); SQuAD 2.0's `is_impossible` questions become `answerable: false`.
Articles are taken in file order; questions are sampled among theirs with --seed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

EVIDENCE_MARGIN = 40  # characters of context kept on each side of the answer


@dataclass
class Question:
    id: str
    lang: str
    question: str
    answerable: bool
    answers: list[str] = field(default_factory=list)
    expected_sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-") or "article"


def evidence_around(context: str, start: int, end: int) -> str:
    """The answer with some context either side, cut at spaces, verbatim from ``context``."""
    left = max(0, start - EVIDENCE_MARGIN)
    right = min(len(context), end + EVIDENCE_MARGIN)
    if left > 0 and " " in context[left:start]:
        left = context.index(" ", left, start) + 1
    if right < len(context) and " " in context[end:right]:
        right = context.rindex(" ", end, right)
    return context[left:right].strip()


def convert(data: dict, lang: str, articles: int | None) -> tuple[dict[str, str], list[Question]]:
    """Article files (name -> text) and every question of the first ``articles`` articles."""
    files: dict[str, str] = {}
    questions: list[Question] = []
    for article in data["data"][:articles]:
        title = article["title"].replace("_", " ").strip()
        name = f"{slug(title)}.txt"
        while name in files:
            name = name.removesuffix(".txt") + "-2.txt"
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        files[name] = "\n\n".join([title, *paragraphs]) + "\n"
        for paragraph in article["paragraphs"]:
            raw = paragraph["context"]
            context = raw.strip()
            offset = len(raw) - len(raw.lstrip())  # answer_start counts the spaces strip() removed
            for qa in paragraph["qas"]:
                gold = [a for a in qa.get("answers", []) if a.get("text", "").strip()]
                answerable = bool(gold) and not qa.get("is_impossible", False)
                question = Question(str(qa["id"]), lang, qa["question"].strip(), answerable)
                if answerable:
                    question.answers = list(dict.fromkeys(a["text"].strip() for a in gold))
                    question.expected_sources = [name]
                    first = gold[0]
                    start = int(first["answer_start"]) - offset
                    if context[start : start + len(first["text"])] == first["text"]:
                        question.evidence = [evidence_around(context, start, start + len(first["text"]))]
                questions.append(question)
    return files, questions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("squad_json", type=Path, help="a SQuAD-format JSON file (SQuAD 2.0 dev set, PIAF v1.0)")
    parser.add_argument("out", type=Path, help="the folder to write (sources/ and qa.jsonl)")
    parser.add_argument("--lang", required=True, help="language code written on every question (fr, en)")
    parser.add_argument("--articles", type=int, default=None, help="only the first N articles")
    parser.add_argument("--questions", type=int, default=None, help="sample N of their questions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        data = json.loads(args.squad_json.read_text(encoding="utf-8"))
        files, questions = convert(data, args.lang, args.articles)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {args.squad_json} is not a readable SQuAD-format file ({exc.__class__.__name__}: {exc})", file=sys.stderr)
        return 1
    if (args.out / "qa.jsonl").exists():
        print(f"error: {args.out / 'qa.jsonl'} exists; choose another folder or remove it first", file=sys.stderr)
        return 1
    if args.questions is not None and args.questions < len(questions):
        questions = random.Random(args.seed).sample(questions, args.questions)
    (args.out / "sources").mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / "sources" / name).write_text(text, encoding="utf-8")
    with open(args.out / "qa.jsonl", "w", encoding="utf-8") as out:
        for question in questions:
            out.write(json.dumps(asdict(question), ensure_ascii=False) + "\n")
    unanswerable = sum(not q.answerable for q in questions)
    print(f"{args.out}: {len(files)} articles, {len(questions)} questions ({unanswerable} unanswerable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
