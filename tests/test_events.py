"""Events change only what they are given, and give back the law in force (docs/model.md,
section 9), on a tiny world."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import TinyWorld, within_binomial
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
NO_RANDOM = ("random_events.scandals_per_30_days=0.0", "random_events.disasters_per_30_days=0.0")


def test_each_kind_of_event_changes_what_it_is_given(tiny_world: TinyWorld) -> None:
    sim = tiny_world("china-weibo-2013", users=50, days=2, overrides=(EVENTS, *NO_RANDOM))
    sc = sim.scenario
    ev = schedule(sc)
    grievance = sim.people.grievance
    grievance[:] = 0.5
    blocked = sim.blocked
    blocked[:] = 0
    law = initial_law(sc)
    before = (law.prohibited.copy(), law.precision)
    new = apply_events(sc, ev, grievance, blocked, law, 0, 60, np.random.default_rng(1))
    assert np.allclose(grievance, 0.9)  # share 1.0: everyone, by the magnitude
    assert blocked[list(sc.platforms).index("foreign")] == 1
    assert blocked.sum() == 1  # only the platform named
    assert ev.intensity(30) == 0.5
    assert ev.intensity(1440) == 0.0  # the campaign lasts a day
    assert ev.request_boost(30) == 3.0
    assert ev.request_boost(720) == 1.0  # the disaster lasts half a day
    assert new.prohibited[CATEGORIES.index("criticism")] == np.float64(0.8)
    assert new.precision == 0.3
    others = [i for i, c in enumerate(CATEGORIES) if c != "criticism"]
    assert np.array_equal(new.prohibited[others], before[0][others])
    assert np.array_equal(law.prohibited, before[0])  # the law given in is not changed
    assert law.precision == before[1]
    assert [e["kind"] for e in ev.log] == ["scandal", "campaign", "disaster", "block", "law"]


def test_events_outside_the_tick_do_nothing(tiny_world: TinyWorld) -> None:
    sim = tiny_world("china-weibo-2013", users=50, days=2, overrides=(EVENTS, *NO_RANDOM))
    sc = sim.scenario
    ev: EventState = schedule(sc)
    grievance = np.full(10, 0.5, dtype=np.float32)
    blocked = np.zeros(len(sc.platforms), dtype=np.uint8)
    law = initial_law(sc)
    same = apply_events(sc, ev, grievance, blocked, law, 60, 120, np.random.default_rng(1))
    assert same is law
    assert np.all(grievance == 0.5)
    assert not blocked.any()
    assert ev.log == []


def test_a_scandal_reaches_its_share_of_users_by_its_magnitude(tiny_world: TinyWorld) -> None:
    scandal = "events=[{kind='scandal', day=0.0, magnitude=0.3, share=0.25}]"
    sim = tiny_world(users=200, overrides=(scandal, *NO_RANDOM))
    n = 20_000
    grievance = np.linspace(0.0, 0.9, n).astype(np.float32)
    before = grievance.copy()
    blocked = sim.blocked.copy()
    ev = schedule(sim.scenario)
    apply_events(sim.scenario, ev, grievance, blocked, sim.law, 0, 60, np.random.default_rng(4))
    hit = grievance != before
    assert within_binomial(int(hit.sum()), n, 0.25)
    expected = np.minimum(np.float32(1.0), before[hit] + np.float32(0.3))
    assert np.array_equal(grievance[hit], expected)  # min(1, g + magnitude)
    assert grievance.max() == np.float32(1.0)  # capped
    assert np.array_equal(blocked, sim.blocked)


def test_a_law_caps_severity_at_one_and_keeps_the_precision_unless_given(
    tiny_world: TinyWorld,
) -> None:
    law_event = "events=[{kind='law', day=0.5, magnitude=1.7, prohibit=['rumor', 'criticism']}]"
    sim = tiny_world(users=200, overrides=(law_event, *NO_RANDOM))
    sc = sim.scenario
    ev = schedule(sc)
    law = initial_law(sc)
    rng = np.random.default_rng(0)
    g = sim.people.grievance.copy()
    assert apply_events(sc, ev, sim.people.grievance, sim.blocked, law, 0, 720, rng) is law
    new = apply_events(sc, ev, sim.people.grievance, sim.blocked, law, 720, 780, rng)
    assert new.prohibited[CATEGORIES.index("rumor")] == 1.0
    assert new.prohibited[CATEGORIES.index("criticism")] == 1.0
    assert new.precision == law.precision
    assert np.array_equal(sim.people.grievance, g)
    assert ev.intensity(720) == 0.0
    assert ev.request_boost(720) == 1.0


def test_unblock_clears_the_platforms_blocked_flag(tiny_world: TinyWorld) -> None:
    unblock = "events=[{kind='unblock', day=0.0, platform='foreign'}]"
    sim = tiny_world("china-weibo-2013", users=50, days=2, overrides=(unblock, *NO_RANDOM))
    foreign = sim.names.index("foreign")
    assert sim.blocked[foreign] == 1  # the preset blocks it from the start
    sc = sim.scenario
    ev = schedule(sc)
    rng = np.random.default_rng(0)
    apply_events(sc, ev, sim.people.grievance, sim.blocked, sim.law, 0, 60, rng)
    assert sim.blocked[foreign] == 0
    assert sim.blocked.sum() == 0
    assert [e["kind"] for e in ev.log] == ["unblock"]


def test_random_events_arrive_at_their_poisson_rate(tiny_world: TinyWorld) -> None:
    rates = ("random_events.scandals_per_30_days=6.0", "random_events.disasters_per_30_days=3.0",
             "random_events.magnitude=0.2", "random_events.share=0.0", "events=[]")  # fmt: skip
    sim = tiny_world(users=200, overrides=rates)
    sc = sim.scenario
    ev = schedule(sc)
    grievance = np.zeros(4, dtype=np.float32)
    blocked = sim.blocked.copy()
    rng = np.random.default_rng(9)
    ticks, L = 3000, 60
    for k in range(ticks):
        apply_events(sc, ev, grievance, blocked, sim.law, k * L, (k + 1) * L, rng)
    scandals = sum(e["kind"] == "scandal" for e in ev.log)
    disasters = sum(e["kind"] == "disaster" for e in ev.log)
    for got, per30 in ((scandals, 6.0), (disasters, 3.0)):
        mean = per30 * ticks * L / 43_200  # Poisson(rate x L / 43,200) per tick
        assert abs(got - mean) <= 5.0 * np.sqrt(mean)
    assert all(e["magnitude"] == 0.2 for e in ev.log)
    assert not grievance.any()  # share 0: nobody's grievance moves
    # a random disaster lasts 3 days and boosts requests by its magnitude
    d = ev.disasters[0]
    assert (d.end - d.start, d.magnitude) == (3 * 1440, 0.2)
    assert ev.request_boost(d.start) >= 1.2


@pytest.mark.parametrize("day", [0.0, 0.49])
def test_a_scheduled_event_starts_in_the_tick_that_contains_its_day(
    tiny_world: TinyWorld, day: float
) -> None:
    campaign = f"events=[{{kind='campaign', day={day}, magnitude=0.5, duration_days=1.0}}]"
    sim = tiny_world(users=200, overrides=(campaign, *NO_RANDOM))
    L = sim.scenario.run.tick_minutes
    start = int(day * 1440)
    tick = start // L
    ev = schedule(sim.scenario)
    rng = np.random.default_rng(0)
    for k in range(tick + 1):
        apply_events(sim.scenario, ev, sim.people.grievance, sim.blocked, sim.law,
                     k * L, (k + 1) * L, rng)  # fmt: skip
        assert len(ev.log) == (1 if k == tick else 0)
    assert ev.log[0]["minute"] == tick * L
    assert ev.intensity(tick * L) == 0.5
    assert ev.intensity(tick * L + 1440) == 0.0
