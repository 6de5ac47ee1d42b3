"""The evaluation's pure parts: loading test sets, matching, judging, metrics, floors, comparison, report.

No index is needed here; ``test_eval_cli.py`` and ``test_eval_gate.py`` run the real thing.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.evaluate import (
    EvalCase,
    EvalError,
    QuestionResult,
    Record,
    Verdict,
    answer_contains,
    answer_tokens,
    check_floors,
    compare_runs,
    floors_from,
    format_table,
    judge,
    load_floors,
    load_results,
    load_testset,
    percentile,
    summarize,
    token_f1,
)
from assistant.models import Answer, Citation, Passage

SEEDS = Path(__file__).parent / "eval" / "seeds.jsonl"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- loading ------------------------------------------------------------------


def test_the_shipped_seed_set_loads_without_problems():
    cases, problems = load_testset(SEEDS)
    assert problems == []
    assert len(cases) == len([l for l in SEEDS.read_text(encoding="utf-8").splitlines() if l.strip()])
    assert {c.lang for c in cases} == {"fr", "en"}
    assert any(c.answerable is False for c in cases) and any(c.answerable for c in cases)


def test_malformed_lines_are_reported_with_their_line_number_and_the_rest_loads(tmp_path):
    lines = [
        '{"id": "a", "lang": "fr", "question": "Qui ?", "answerable": true, "answers": ["x"]}',
        '{"id": "b", "question": "broken",',
        '{"id": "c", "answers": ["x"]}',
        '{"id": "d", "question": "q", "answers": "not a list"}',
        "",
        '{"id": "a", "question": "same id again"}',
        '["a", "list"]',
        '{"id": "e", "question": "q", "answerable": "yes"}',
        '{"id": "f", "question": "q", "answerable": false, "answers": ["x"]}',
        '{"id": "g", "question": "Who won?", "surprise": 1}',
    ]
    path = write(tmp_path, "set.jsonl", "\n".join(lines) + "\n")
    cases, problems = load_testset(path)
    assert [c.id for c in cases] == ["a", "g"]
    lines_reported = [int(re.match(rf"{re.escape(str(path))}:(\d+): ", p).group(1)) for p in problems]
    assert lines_reported == [2, 3, 4, 6, 7, 8, 9]
    assert all("\n" not in p for p in problems)
    assert "already used on line 1" in problems[3]
    assert '"answers" must be a list of strings' in problems[2]


def test_missing_optional_fields_switch_their_metrics_off(tmp_path):
    path = write(tmp_path, "set.jsonl", '{"question": "What did the company announce?"}\n')
    (case,), _ = load_testset(path)
    assert case.id == "line-1" and case.lang == "en" and case.answerable is None
    passage = Passage("c1", "a.txt", "T", None, "en", "some text", 0, 9, 1.0)
    answer = Answer("q", "An answer. [1]", False, [], [passage])
    v = judge(case, answer, [passage], lambda s: "some text")
    assert not v.retrieval_judged and v.answer_correct is None and v.refusal_right is None and v.evidence_found is None
    summary = summarize([(case.lang, v)])
    assert summary.overall["hit_at_1"].count == 0 and summary.overall["hit_at_1"].value is None
    assert summary.overall["accuracy"].count == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "does not exist"), ("", "holds no usable question"), ("not json\n", "not valid JSON")],
)
def test_unusable_test_sets_fail_with_one_clear_line(tmp_path, content, expected):
    path = tmp_path / "set.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalError) as err:
        load_testset(path)
    assert expected in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_test_set_that_is_not_utf8_is_named_with_the_fix(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_bytes('{"question": "café"}'.encode("latin-1"))
    with pytest.raises(EvalError, match="not UTF-8.*save it as UTF-8"):
        load_testset(path)


# --- matching -----------------------------------------------------------------


def test_answer_match_folds_case_whitespace_nfkc_and_ignores_citation_markers():
    assert answer_contains("Elles paieront ＵＮ   Dollar par an. [1][2]", "un dollar")
    assert answer_contains("l’administration paiera", "l'administration")
    assert not answer_contains("deux dollars", "un dollar")
    assert not answer_contains("anything", "")


def test_token_f1_follows_squad_and_handles_french_articles_and_elisions():
    assert token_f1("The Eiffel Tower", "eiffel tower") == 1.0
    assert token_f1("l'Angleterre", "Angleterre") == 1.0
    assert token_f1("le royaume contrôla l’Angleterre [1]", "le royaume contrôla l'Angleterre") == 1.0
    assert token_f1("200 millions de dollars", "200 millions dollars") == 1.0
    assert answer_tokens("Jusqu'à 10 mois, d'après l'étude.") == ["jusqu", "à", "10", "mois", "après", "étude"]
    # precision 2/3, recall 2/3
    assert token_f1("alpha beta gamma", "beta gamma delta") == pytest.approx(2 / 3)
    # precision 1/4, recall 1/1
    assert token_f1("red green blue yellow", "green") == pytest.approx(2 * 0.25 * 1 / 1.25)
    assert token_f1("nothing shared", "other words") == 0.0


# --- judging ------------------------------------------------------------------

ARTICLE = "Titre\n\nLe contrat vaut 200 millions de dollars. Il a été signé en juin avec le Pentagone."


def passage(source: str, text: str, start: int = 0) -> Passage:
    return Passage(f"{source}-{start}", source, "Titre", None, "fr", text, start, start + len(text), 0.5)


def cite(source: str, quote: str, text: str = ARTICLE, start: int | None = None) -> Citation:
    s = text.index(quote) if start is None else start
    return Citation(1, source, "Titre", None, text, quote, s, s + len(quote), 0.5)


CASE = EvalCase(
    id="q1",
    question="Combien vaut le contrat ?",
    lang="fr",
    answerable=True,
    answers=("200 millions de dollars",),
    expected_sources=("a.txt",),
    evidence=("Le contrat   VAUT 200 millions de dollars",),
)


def test_judge_finds_the_rank_of_the_first_passage_holding_the_evidence_after_folding():
    ranked = [passage("b.txt", "autre chose"), passage("a.txt", "Il a été signé."), passage("a.txt", ARTICLE)]
    quote = "Le contrat vaut 200 millions de dollars."
    answer = Answer("q", f"{quote} [1]", False, [cite("a.txt", quote)], ranked)
    v = judge(CASE, answer, ranked, {"a.txt": ARTICLE}.__getitem__, latency_ms=12.0)
    assert v.retrieval_judged and v.hit_rank == 3
    assert v.answer_correct is True and v.f1 is not None and 0 < v.f1 < 1
    assert (v.citations, v.citations_valid, v.citations_judged_source, v.citations_expected_source) == (1, 1, 1, 1)
    assert v.evidence_found is True and v.refusal_right is True and v.passed is True


def test_retrieval_falls_back_to_expected_sources_when_no_evidence_is_given():
    case = EvalCase("q", "Q ?", "fr", True, expected_sources=("a.txt",))
    v = judge(case, None, [passage("b.txt", "x"), passage("a.txt", "y")], lambda s: "")
    assert v.hit_rank == 2
    assert judge(case, None, [passage("b.txt", "x")], lambda s: "").hit_rank is None


def test_a_quote_that_is_not_verbatim_at_its_offsets_is_an_invalid_citation():
    quote = "Le contrat vaut 200 millions de dollars."
    shifted = cite("a.txt", quote, start=ARTICLE.index(quote) + 1)
    unknown = cite("gone.txt", quote)
    answer = Answer("q", f"{quote} [1][2]", False, [shifted, unknown], [])

    def article_text(source: str) -> str:
        if source != "a.txt":
            raise ConfigError("no such article")  # any AssistantError: an unknown source
        return ARTICLE

    v = judge(CASE, answer, [], article_text)
    assert v.citations == 2 and v.citations_valid == 0
    assert v.citations_expected_source == 1
    assert v.passed is False


def test_refusals_are_judged_against_answerable():
    unanswerable = EvalCase("u", "Qui a gagné ?", "fr", False)
    refusal = Answer("q", "Les articles ne disent pas cela.", True, [], [])
    assert judge(unanswerable, refusal, [], lambda s: "").refusal_right is True
    assert judge(unanswerable, refusal, [], lambda s: "").passed is True
    false_refusal = judge(CASE, refusal, [], lambda s: "")
    assert false_refusal.refusal_right is False and false_refusal.answer_correct is False and false_refusal.f1 == 0.0
    assert false_refusal.evidence_found is False


# --- metrics ------------------------------------------------------------------


def v(**kw) -> Verdict:
    return Verdict(**kw)


def test_metrics_overall_and_per_language_with_counts():
    records = [
        ("fr", v(retrieval_judged=True, hit_rank=1, answer_correct=True, f1=1.0, answerable=True, refusal_right=True, citations=2, citations_valid=2, latency_ms=10)),
        ("fr", v(retrieval_judged=True, hit_rank=4, answer_correct=False, f1=0.5, answerable=True, refusal_right=True, citations=1, citations_valid=1, latency_ms=30)),
        ("fr", v(answerable=False, refused=True, refusal_right=True, latency_ms=20)),
        ("en", v(retrieval_judged=True, hit_rank=None, answer_correct=False, f1=0.0, answerable=True, refused=True, refusal_right=False, latency_ms=40)),
        ("en", v(answerable=False, refused=False, refusal_right=False, citations=1, citations_valid=0, latency_ms=50)),
    ]
    s = summarize(records)
    o = s.overall
    assert (o["hit_at_1"].value, o["hit_at_1"].count) == (pytest.approx(1 / 3), 3)
    assert o["hit_at_3"].value == pytest.approx(1 / 3) and o["hit_at_5"].value == pytest.approx(2 / 3)
    assert o["mrr_at_10"].value == pytest.approx((1 + 1 / 4) / 3)
    assert (o["accuracy"].value, o["accuracy"].count) == (pytest.approx(1 / 3), 3)
    assert o["f1"].value == pytest.approx(0.5)
    assert (o["citation_validity"].value, o["citation_validity"].count) == (pytest.approx(3 / 4), 4)
    # refused: fr unanswerable (right), en answerable (wrong) -> precision 1/2; unanswerable: 2, refused 1 -> recall 1/2
    assert (o["refusal_precision"].value, o["refusal_precision"].count) == (0.5, 2)
    assert (o["refusal_recall"].value, o["refusal_recall"].count) == (0.5, 2)
    assert o["latency_p50_ms"].value == 30 and o["latency_p95_ms"].value == 50
    assert s.counts == {"en": 2, "fr": 3}
    assert s.by_lang["fr"]["hit_at_1"].value == 0.5 and s.by_lang["fr"]["hit_at_1"].count == 2
    assert s.by_lang["en"]["refusal_precision"].value == 0.0
    assert s.by_lang["fr"]["refusal_recall"].value == 1.0
    table = format_table(s)
    assert "retrieval hit@1" in table and "0.333 (3)" in table and "fr (3 q)" in table


def test_percentile_is_nearest_rank():
    values = sorted(range(1, 101))
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95
    assert percentile([7.0], 95) == 7.0 and percentile([], 50) is None


# --- floors -------------------------------------------------------------------


def test_the_gate_fails_when_a_metric_drops_below_its_floor(tmp_path):
    s = summarize([("fr", v(retrieval_judged=True, hit_rank=2, answer_correct=True, f1=1.0, answerable=True, refusal_right=True))])
    path = write(tmp_path, "t.toml", "[overall]\nhit_at_1 = 0.5\naccuracy = 1.0\n[fr]\nhit_at_5 = 1.0\n[en]\naccuracy = 0.5\n")
    failures = check_floors(s, load_floors(path))
    assert len(failures) == 2
    assert failures[0].startswith("overall retrieval hit@1: 0.000 on 1 is below its floor 0.500")
    assert "en answer accuracy: not measured" in failures[1]
    assert check_floors(s, {"overall": {"accuracy": 1.0, "hit_at_5": 1.0}}) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[overall]\nhit_at_1 = \n", "fix the TOML syntax"),
        ("[overall]\nhit_at_one = 0.5\n", "hit_at_one is not a metric"),
        ("[overall]\naccuracy = 70\n", "between 0 and 1"),
        ("[overall]\nlatency_p50_ms = 0.5\n", "not a metric"),
    ],
)
def test_a_bad_thresholds_file_names_the_file_and_the_fix(tmp_path, text, expected):
    path = write(tmp_path, "t.toml", text)
    with pytest.raises(EvalError) as err:
        load_floors(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_floors_from_a_run_leave_one_question_of_slack_except_citation_validity():
    records = [("fr", v(retrieval_judged=True, hit_rank=1, citations=1, citations_valid=1)) for _ in range(10)]
    floors = floors_from(summarize(records), slack_questions=1)
    assert floors["overall"]["hit_at_1"] == 0.9
    assert floors["overall"]["citation_validity"] == 1.0
    assert floors["fr"]["mrr_at_10"] == 0.9
    assert "accuracy" not in floors["overall"]  # not measured: no floor


# --- results files and comparison -----------------------------------------------


def test_compare_runs_lists_better_and_worse_questions_and_metric_deltas(tmp_path):
    old = [
        Record("a", "fr", "A ?", "old a", v(answer_correct=False, answerable=True, refusal_right=True)),
        Record("b", "fr", "B ?", "old b", v(answer_correct=True, answerable=True, refusal_right=True)),
        Record("c", "en", "C ?", "same", v(retrieval_judged=True, hit_rank=3, answer_correct=True, answerable=True, refusal_right=True)),
        Record("gone", "en", "G ?", "", v()),
    ]
    new = [
        Record("a", "fr", "A ?", "new a", v(answer_correct=True, answerable=True, refusal_right=True)),
        Record("b", "fr", "B ?", "new b", v(answer_correct=False, answerable=True, refusal_right=True)),
        Record("c", "en", "C ?", "same", v(retrieval_judged=True, hit_rank=1, answer_correct=True, answerable=True, refusal_right=True)),
        Record("new", "en", "N ?", "", v()),
    ]
    cmp = compare_runs(old, new)
    assert [c.id for c in cmp.better] == ["a"] and [c.id for c in cmp.worse] == ["b"]
    assert [c.id for c in cmp.other] == ["c"] and "hit rank 3 -> 1" in cmp.other[0].what
    assert cmp.only_old == ["gone"] and cmp.only_new == ["new"]
    assert cmp.deltas()["accuracy"] == (pytest.approx(2 / 3), pytest.approx(2 / 3), pytest.approx(0.0))
    assert cmp.deltas()["hit_at_1"][2] == pytest.approx(1.0)


def test_results_files_round_trip_and_bad_lines_are_named(tmp_path):
    verdict = v(retrieval_judged=True, hit_rank=2, answer_correct=True, f1=0.5, answerable=True, refusal_right=True, latency_ms=3.0)
    good = {"id": "x", "lang": "fr", "question": "Q", "answer": "A", "verdict": verdict.to_dict()}
    path = write(tmp_path, "r.jsonl", json.dumps(good) + "\n{oops\n" + json.dumps({"id": "y"}) + "\n")
    records, problems = load_results(path)
    assert records == [Record("x", "fr", "Q", "A", verdict)]
    assert problems[0].startswith(f"{path}:2: not valid JSON") and problems[1].startswith(f"{path}:3: ")


# --- report -------------------------------------------------------------------


def _result(case: EvalCase, answer: Answer, ranked: list[Passage]) -> QuestionResult:
    verdict = judge(case, answer, ranked, {"a.txt": ARTICLE}.__getitem__, latency_ms=5.0)
    return QuestionResult(case, answer.to_dict(), [p.to_dict() for p in ranked], verdict)


def test_report_is_one_self_contained_page_with_png_charts_and_escaped_text():
    pytest.importorskip("matplotlib")
    from assistant.report import render_report

    evil = EvalCase("<b>id</b>", "Is <script>alert(1)</script> here?", "en", True, answers=("200 millions de dollars",), evidence=("Le contrat vaut 200 millions",))
    wrong = Answer("q", "Il a été signé en juin <img src=x onerror=alert(2)>. [1]", False, [], [])
    ok_case = EvalCase("ok", "Combien ?", "fr", False)
    ok = Answer("q", "Les articles ne disent pas cela.", True, [], [])
    results = [_result(evil, wrong, [passage("a.txt", ARTICLE)]), _result(ok_case, ok, [])]
    summary = summarize([(r.case.lang, r.verdict) for r in results])
    page = render_report("Report <x>", summary, results, systems={"tutorial <baseline>": summary.overall})
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "tutorial &lt;baseline&gt;" in page
    assert "Failed questions (1)" in page and "&lt;b&gt;id&lt;/b&gt;" in page
    assert "<mark>Le contrat vaut 200 millions de dollars</mark>" in page  # gold answer highlighted in the passage
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 3
    assert all(base64.b64decode(img)[:8] == b"\x89PNG\r\n\x1a\n" for img in images)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)  # nothing fetched from elsewhere


def test_report_without_matplotlib_says_how_to_install_it(monkeypatch):
    from assistant import report

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ConfigError, match=r"pip install 'news-assistant\[report\]'"):
        report.require_matplotlib()
