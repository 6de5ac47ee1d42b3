"""Objects built in bulk while the cyclic collector is paused land in its oldest generation."""

from __future__ import annotations

import gc

from assistant.store.collector import collector_paused


def test_objects_built_while_paused_skip_the_young_generations() -> None:
    gc.collect()
    with collector_paused():
        assert not gc.isenabled()
        built = [[i] for i in range(5000)]  # lists are tracked by the collector
    assert gc.isenabled()
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    youngest = {id(o) for o in gc.get_objects(generation=0)}
    assert id(built[0]) in oldest and id(built[-1]) in oldest and id(built[-1]) not in youngest
    assert gc.get_count()[0] < 1000  # the next young collection is not due because of them


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
