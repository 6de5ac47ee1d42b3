"""Test sets: the JSONL format, read line by line; a bad line is reported, not fatal."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EvalError
from ..text import detect_language


@dataclass(frozen=True)
class EvalCase:
    id: str
    question: str
    lang: str
    answerable: bool | None = None  # None: unknown, refusal metrics skip it
    answers: tuple[str, ...] = ()
    expected_sources: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    line: int = 0


class LineError(ValueError):
    pass


def load_testset(path: Path) -> tuple[list[EvalCase], list[str]]:
    """The usable questions of a JSONL test set, and one message per malformed line."""
    text = read_text(path, "test set")
    cases: list[EvalCase] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = parse_case(json.loads(line), number)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not valid JSON ({exc.msg}, column {exc.colno}); write one JSON object per line")
            continue
        except LineError as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        if case.id in seen:
            problems.append(f"{path}:{number}: id {case.id!r} is already used on line {seen[case.id]}; give every question its own id")
            continue
        seen[case.id] = number
        cases.append(case)
    if not cases:
        detail = f"; first problem: {problems[0]}" if problems else '; write one JSON object per line with at least a "question"'
        raise EvalError(f"{path} holds no usable question{detail}")
    return cases, problems


def parse_case(obj: object, line: int = 0) -> EvalCase:
    if not isinstance(obj, dict):
        raise LineError(f'expected a JSON object like {{"question": "..."}}, got {type(obj).__name__}')
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise LineError('"question" is missing or empty; every line needs a question')
    raw_id = obj.get("id", f"line-{line}")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or str(raw_id).strip() == "":
        raise LineError('"id" must be a non-empty string or a number')
    lang = obj.get("lang")
    if lang is None:
        lang = detect_language(question, default="en")
    elif not isinstance(lang, str) or not re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?", lang):
        raise LineError(f'"lang" must be a language code such as "fr" or "en", got {lang!r}')
    answerable = obj.get("answerable")
    if answerable is not None and not isinstance(answerable, bool):
        raise LineError(f'"answerable" must be true or false, got {json.dumps(answerable, ensure_ascii=False)}')
    lists = {name: _string_list(obj, name) for name in ("answers", "expected_sources", "evidence")}
    if answerable is False and lists["answers"]:
        raise LineError('"answerable" is false but "answers" are given; remove the answers or set "answerable": true')
    return EvalCase(
        id=str(raw_id).strip(),
        question=question,
        lang=lang.lower()[:2],
        answerable=answerable,
        answers=lists["answers"],
        expected_sources=lists["expected_sources"],
        evidence=lists["evidence"],
        line=line,
    )


def _string_list(obj: dict[str, Any], name: str) -> tuple[str, ...]:
    value = obj.get(name)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LineError(f'"{name}" must be a list of strings, e.g. "{name}": ["..."]')
    return tuple(v for v in value if v.strip())


def read_text(path: Path, what: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise EvalError(f"{what} {path} does not exist; check the path") from None
    except IsADirectoryError:
        raise EvalError(f"{what} {path} is a folder; give the path of a .jsonl file") from None
    except UnicodeDecodeError as exc:
        raise EvalError(f"{what} {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise EvalError(f"cannot read {what} {path} ({exc.strerror}); check its permissions") from None

