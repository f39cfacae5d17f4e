"""Events change only what they are given, and give back the law in force."""

from __future__ import annotations

import numpy as np

import tightrope
from tightrope.model.events import EventState, apply_events, schedule
from tightrope.model.policy import initial_law
from tightrope.scenario.content import CATEGORIES

EVENTS = (
    "events=[{kind='scandal', day=0.0, magnitude=0.4, share=1.0},"
    " {kind='campaign', day=0.0, magnitude=0.5, duration_days=1.0},"
    " {kind='disaster', day=0.0, magnitude=2.0, duration_days=0.5},"
    " {kind='block', day=0.0, platform='foreign'},"
    " {kind='law', day=0.0, magnitude=0.8, prohibit=['criticism'], precision=0.3}]"
)


def test_each_kind_of_event_changes_what_it_is_given() -> None:
    sc = tightrope.load_scenario(
        "china-weibo-2013", [EVENTS, "random_events.scandals_per_30_days=0.0",
                             "random_events.disasters_per_30_days=0.0"], days=2,
    )  # fmt: skip
    ev = schedule(sc)
    grievance = np.full(50, 0.5, dtype=np.float32)
    blocked = np.zeros(len(sc.platforms), dtype=np.uint8)
    law = initial_law(sc)
    before = (law.prohibited.copy(), law.precision)
    new = apply_events(sc, ev, grievance, blocked, law, 0, 60, np.random.default_rng(1))
    assert np.allclose(grievance, 0.9)  # share 1.0: everyone, by the magnitude
    assert blocked[list(sc.platforms).index("foreign")] == 1
    assert ev.intensity(30) == 0.5
    assert ev.intensity(1440) == 0.0  # the campaign lasts a day
    assert ev.request_boost(30) == 3.0
    assert ev.request_boost(720) == 1.0  # the disaster lasts half a day
    assert new.prohibited[CATEGORIES.index("criticism")] == np.float64(0.8)
    assert new.precision == 0.3
    assert np.array_equal(law.prohibited, before[0])  # the law given in is not changed
    assert law.precision == before[1]
    assert [e["kind"] for e in ev.log] == ["scandal", "campaign", "disaster", "block", "law"]


def test_events_outside_the_tick_do_nothing() -> None:
    sc = tightrope.load_scenario(
        "china-weibo-2013", [EVENTS, "random_events.scandals_per_30_days=0.0",
                             "random_events.disasters_per_30_days=0.0"], days=2,
    )  # fmt: skip
    ev: EventState = schedule(sc)
    grievance = np.full(10, 0.5, dtype=np.float32)
    blocked = np.zeros(len(sc.platforms), dtype=np.uint8)
    law = initial_law(sc)
    same = apply_events(sc, ev, grievance, blocked, law, 60, 120, np.random.default_rng(1))
    assert same is law
    assert np.all(grievance == 0.5)
    assert not blocked.any()
    assert ev.log == []
