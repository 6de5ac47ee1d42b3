"""scripts/prepare_bench.py: a SQuAD-format file becomes a folder that `assistant eval` reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO

from assistant.evaluate import load_testset

SCRIPT = REPO / "scripts" / "prepare_bench.py"

SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Île_de_Ré",
            "paragraphs": [
                {
                    "context": "  L'île de Ré est reliée au continent par un pont de 2 926 mètres, ouvert en 1988.",
                    "qas": [
                        {"id": "q1", "question": "Quand le pont a-t-il ouvert ?",
                         "answers": [{"text": "1988", "answer_start": 77}, {"text": "en 1988", "answer_start": 74}]},
                        {"id": "q2", "question": "Combien coûte le péage ?", "answers": [], "is_impossible": True,
                         "plausible_answers": [{"text": "2 926", "answer_start": 53}]},
                    ],
                }
            ],
        },
        {
            "title": "Oxygen",
            "paragraphs": [
                {"context": "Oxygen is the chemical element with the symbol O and atomic number 8.",
                 "qas": [{"id": "q3", "question": "What is oxygen's atomic number?",
                          "answers": [{"text": "8", "answer_start": 67}]}]},
                {"context": "It is a member of the chalcogen group in the periodic table.",
                 "qas": [{"id": "q4", "question": "Which group is oxygen in?",
                          "answers": [{"text": "chalcogen group", "answer_start": 22}]}]},
            ],
        },
    ],
}


def prepare(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "squad.json"
    source.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    return subprocess.run([sys.executable, str(SCRIPT), str(source), str(tmp_path / "out"), *args],
                          capture_output=True, text=True, timeout=60)


def test_articles_and_questions_are_laid_out_for_eval(tmp_path: Path) -> None:
    proc = prepare(tmp_path, "--lang", "fr")
    assert proc.returncode == 0, proc.stderr
    assert "2 articles, 4 questions (1 unanswerable)" in proc.stdout
    sources = tmp_path / "out" / "sources"
    assert sorted(p.name for p in sources.iterdir()) == ["ile-de-re.txt", "oxygen.txt"]
    oxygen = (sources / "oxygen.txt").read_text(encoding="utf-8")
    assert oxygen.split("\n\n") == ["Oxygen", SQUAD["data"][1]["paragraphs"][0]["context"],
                                    SQUAD["data"][1]["paragraphs"][1]["context"] + "\n"]
    cases, problems = load_testset(tmp_path / "out" / "qa.jsonl")
    assert problems == []
    by_id = {c.id: c for c in cases}
    assert set(by_id) == {"q1", "q2", "q3", "q4"}
    assert by_id["q1"].answers == ("1988", "en 1988") and by_id["q1"].expected_sources == ("ile-de-re.txt",)
    assert by_id["q2"].answerable is False and by_id["q2"].answers == () and by_id["q2"].evidence == ()
    for case in cases:
        assert case.lang == "fr"
        for excerpt in case.evidence:  # verbatim, holding the answer, despite the stripped leading spaces
            assert excerpt in (sources / case.expected_sources[0]).read_text(encoding="utf-8")
            assert case.answers[0] in excerpt


def test_a_sample_of_questions_and_a_clear_error_for_a_bad_file(tmp_path: Path) -> None:
    proc = prepare(tmp_path, "--lang", "en", "--articles", "1", "--questions", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 articles, 1 questions" in proc.stdout
    again = prepare(tmp_path, "--lang", "en")
    assert again.returncode == 1 and "qa.jsonl exists" in again.stderr
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    bad = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "bad.json"), str(tmp_path / "o2"), "--lang", "en"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "bad.json is not a readable SQuAD-format file" in bad.stderr
    assert "Traceback" not in bad.stderr
