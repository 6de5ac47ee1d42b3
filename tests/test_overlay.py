"""The read-only overlay a reader's next view is made of (src/assistant/overlay.py)."""

from __future__ import annotations

import random

from assistant import overlay
from assistant.overlay import MAX_DEPTH, Overlay


def test_an_overlay_reads_like_the_dict_it_stands_for_and_leaves_its_base_alone() -> None:
    base = {"a": 1, "b": 2, "c": 3}
    view = Overlay(base, {"b": None, "c": 30, "d": 4, "e": None})
    assert dict(view) == {"a": 1, "c": 30, "d": 4} and len(view) == 3
    assert "b" not in view and "e" not in view and "d" in view and view.get("b") is None and view["c"] == 30
    assert base == {"a": 1, "b": 2, "c": 3}  # the old view, still in use elsewhere, is untouched
    assert not Overlay({"a": 1}, {"a": None}) and Overlay({}, {"x": 1})


def test_a_long_chain_of_changes_matches_a_dict_and_stays_shallow() -> None:
    rng = random.Random(7)
    expected = {f"k{i}": i for i in range(2_000)}
    view: Overlay[str, int] | dict[str, int] = dict(expected)
    for step in range(10 * MAX_DEPTH * 10):  # ten times the depth at which it flattens, ten times over
        changes: dict[str, int | None] = {}
        for _ in range(rng.randint(1, 5)):
            key = f"k{rng.randrange(2_500)}"
            changes[key] = None if rng.random() < 0.4 else step
        for key, value in changes.items():
            if value is None:
                expected.pop(key, None)
            else:
                expected[key] = value
        view = Overlay(view, changes)
        assert view.depth <= MAX_DEPTH
        assert len(view) == len(expected)
    assert dict(view) == expected and sorted(view) == sorted(expected)


def test_flattening_happens_once_per_max_depth(monkeypatch) -> None:
    monkeypatch.setattr(overlay, "MAX_DEPTH", 3)
    view: Overlay[str, int] | dict[str, int] = {"a": 1}
    depths = []
    for i in range(7):
        view = Overlay(view, {f"n{i}": i})
        depths.append(view.depth)
    assert depths == [1, 2, 3, 1, 2, 3, 1] and len(view) == 8
