"""Floors: the CI regression gate (``--thresholds``), and floors measured from a run."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from pathlib import Path

from ..errors import EvalError
from .metrics import METRICS, OVERALL, RATIO_METRICS, UNGATED_METRICS, Summary
from .testset import read_text

Floors = dict[str, dict[str, float]]  # section ("overall" or a language) -> metric -> floor


def load_floors(path: Path) -> Floors:
    """``[overall]`` and per-language tables of ``metric = floor`` (ratio metrics only)."""
    text = read_text(path, "thresholds file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EvalError(f"{path}: {exc}; fix the TOML syntax") from None
    floors: Floors = {}
    for section, table in data.items():
        if section == "meta":  # free-form notes of how the floors were measured
            continue
        if not isinstance(table, dict):
            raise EvalError(f"{path}: {section} = ... must be a table; write [{section}] then metric = floor lines")
        for key, value in table.items():
            if key not in RATIO_METRICS:
                raise EvalError(f"{path}: [{section}] {key} is not a metric; use one of {', '.join(RATIO_METRICS)}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise EvalError(f"{path}: [{section}] {key} = {value!r} must be a number between 0 and 1")
            floors.setdefault(section, {})[key] = float(value)
    return floors


def check_floors(summary: Summary, floors: Floors) -> list[str]:
    """One line per metric below its floor (empty: the gate passes)."""
    failures = []
    for section, table in floors.items():
        metrics = summary.section(section)
        for key, floor in table.items():
            m = metrics.get(key) if metrics else None
            label = f"{section} {METRICS[key][0]}"
            if m is None or m.value is None:
                failures.append(f"{label}: not measured (no {section} questions with what it needs), floor {floor:.3f}")
            elif m.value < floor - 1e-9:
                failures.append(f"{label}: {m.value:.3f} on {m.count} is below its floor {floor:.3f}")
    return failures


def floors_from(summary: Summary, slack_questions: int = 1, exact: Iterable[str] = ("citation_validity",)) -> Floors:
    """Floors from a measured run: each value less the weight of ``slack_questions`` questions.

    A deterministic answerer gives the same numbers run after run; the slack absorbs
    one borderline question flipping on another CPU (float rounding in the embedder),
    not a real regression. ``exact`` metrics (a non-verbatim quote is a bug) keep their value.
    ``UNGATED_METRICS`` get no floor (one may still be written into a thresholds file by hand).
    """
    exact = set(exact)
    out: Floors = {}
    for section, metrics in [(OVERALL, summary.overall), *summary.by_lang.items()]:
        for key in RATIO_METRICS:
            m = metrics[key]
            if key in UNGATED_METRICS or m.value is None or m.count == 0:
                continue
            slack = 0 if key in exact else slack_questions / m.count
            out.setdefault(section, {})[key] = max(0.0, math.floor((m.value - slack) * 1000 + 1e-6) / 1000)
    return out
