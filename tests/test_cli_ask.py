"""`assistant ask` and `assistant search` through the CLI, on a real index of the seeds."""

from __future__ import annotations

import json

from conftest import cli_args, invoke

from assistant.config import Config

CITATION_KEYS = {"id", "source", "title", "date", "passage", "quote", "start", "end", "score"}
RETRIEVED_KEYS = {"source", "title", "date", "text", "start", "end", "score"}


def test_ask_json_has_the_documented_shape(seed_index: Config) -> None:
    result = invoke(cli_args(seed_index, "ask", "Quel est le montant du contrat d'OpenAI avec le Pentagone ?", "--json"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"question", "answer", "refused", "citations", "retrieved", "timings_ms"} <= set(data)
    assert data["refused"] is False and "200 millions" in data["answer"]
    assert data["citations"] and all(CITATION_KEYS <= set(c) for c in data["citations"])
    assert data["retrieved"] and all(RETRIEVED_KEYS <= set(p) for p in data["retrieved"])
    first = data["citations"][0]
    assert first["quote"] in first["passage"] and first["end"] - first["start"] == len(first["quote"])


def test_ask_prints_answer_then_numbered_citations(seed_index: Config) -> None:
    result = invoke(cli_args(seed_index, "ask", "Qui est le PDG d'Anthropic ?"))
    assert result.exit_code == 0, result.output
    answer, _, citations = result.output.partition("\n\n")
    assert "Dario Amodei" in answer and answer.rstrip().endswith("]")
    assert citations.startswith("[1] ") and "003_506aa5493a6fbcb3.txt" in citations and "«" in citations


def test_refusal_lists_closest_passages(seed_index: Config) -> None:
    result = invoke(cli_args(seed_index, "ask", "Quel temps fera-t-il à Paris demain ?"))
    assert result.exit_code == 0
    assert "ne disent pas" in result.output and "Closest passages" in result.output


def test_search_json_ranks_passages_with_offsets(seed_index: Config) -> None:
    result = invoke(cli_args(seed_index, "search", "contrat de 200 millions de dollars Pentagone", "--k", "3", "--json"))
    assert result.exit_code == 0, result.output
    passages = json.loads(result.output)
    assert len(passages) == 3 and all(RETRIEVED_KEYS <= set(p) for p in passages)
    assert [p["score"] for p in passages] == sorted((p["score"] for p in passages), reverse=True)
    assert "200 millions" in passages[0]["text"]


def test_english_question_retrieves_french_passage(seed_index: Config) -> None:
    result = invoke(cli_args(seed_index, "search", "Which office of the Pentagon signed the contract with OpenAI?", "--k", "3", "--json"))
    assert result.exit_code == 0, result.output
    assert any("CDAO" in p["text"] or "Chief Digital" in p["text"] for p in json.loads(result.output))


def test_bad_questions_give_one_line_errors(seed_index: Config) -> None:
    for question in ["", "x" * 20_000]:
        result = invoke(cli_args(seed_index, "ask", question))
        assert result.exit_code == 1
        assert result.output.startswith("Error: ") and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_a_reader_that_closes_the_pipe_stops_the_command_quietly(seed_index: Config) -> None:
    # `assistant ask … | head -c 100`: the pipe is closed before the answer is written
    import os
    import subprocess

    from conftest import assistant_command, subprocess_env

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(assistant_command(*cli_args(seed_index, "ask", "Qui est le PDG d'OpenAI ?")), stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=300, env=subprocess_env())
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "bug" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
