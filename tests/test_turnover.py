"""People leaving and newcomers taking their place (docs/model.md 5.11): the rules against
their formulas, the replacement on a tiny world, a direction test, and runs without
turnover unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from tightrope import InputError, load_scenario, run
from tightrope.core.rng import numpy_generator
from tightrope.model.turnover import (
    KEPT_WITH_THE_PLACE,
    best_satisfaction,
    leave_chance,
    replace_leavers,
)
from tightrope.scenario.content import BAD_ACTOR, ORDINARY


def test_best_satisfaction_is_over_the_platforms_a_user_belongs_to():
    member = np.array([0b011, 0b100, 0], dtype=np.uint8)
    sat = np.array([[0.2, 0.7, 0.9], [0.9, 0.9, 0.1], [0.5, 0.5, 0.5]], dtype=np.float32)
    np.testing.assert_allclose(best_satisfaction(member, sat), [0.7, 0.1, 0.0], rtol=1e-6)


def test_leave_chance():
    assert leave_chance(0.001, 2.0, 1.0) == pytest.approx(0.001)
    assert leave_chance(0.001, 2.0, 0.25) == pytest.approx(0.001 * 2.5)
    assert leave_chance(0.6, 2.0, 0.0) == 1.0


def test_newcomers_take_the_leavers_places(tiny_world):
    sim = tiny_world(preset="china-weibo-2013", users=2000)
    sc = load_scenario(
        sim.scenario.model_dump(),
        ["population.turnover.leave_per_day=0.2", "population.turnover.exit_weight=0"],
    )
    people = sim.people
    before = {name: getattr(people, name).copy() for name in people._fields}
    people.strikes[:] = 2
    people.punished_at[:] = 7
    left = replace_leavers(sc, people, numpy_generator(1, "turnover"))
    mortal = (before["kind"] == ORDINARY) | (before["kind"] == BAD_ACTOR)
    assert 0.15 * mortal.sum() < left < 0.25 * mortal.sum()
    changed = people.activity != before["activity"]
    replaced = people.strikes == 0  # a newcomer has no strikes
    assert replaced.sum() == left
    assert not replaced[~mortal].any()  # officials and paid commenters stay
    assert (changed <= replaced).all()
    np.testing.assert_array_equal(people.kind, before["kind"])
    assert (people.punished_at == 7).all()  # output counters stay with the place
    assert "cohort" in KEPT_WITH_THE_PLACE


def test_no_turnover_draws_nothing_and_changes_nothing(tiny_world):
    sim = tiny_world(preset="eu-dsa", users=300)
    rng = numpy_generator(1, "turnover")
    state = rng.bit_generator.state
    sc = load_scenario(sim.scenario.model_dump(), ["population.turnover.leave_per_day=0"])
    assert replace_leavers(sc, sim.people, rng) == 0
    assert rng.bit_generator.state == state


def test_direction_more_turnover_replaces_more_users():
    def replaced(rate: float) -> float:
        sets = [f"population.turnover.leave_per_day={rate}", "population.turnover.exit_weight=0"]
        sc = load_scenario("eu-dsa", sets, users=1000, days=10, seed=4)
        return run(sc).summary["replaced_users"]

    low, high = replaced(0.001), replaced(0.01)
    assert 0 < low < high
    mortal = 0.95 * 1000  # about: officials and paid commenters stay
    assert high == pytest.approx(0.01 * 10 * mortal, rel=0.3)


def test_direction_the_dissatisfied_leave_first():
    def replaced(weight: float) -> float:
        sets = [
            "population.turnover.leave_per_day=0.005",
            f"population.turnover.exit_weight={weight}",
        ]
        sc = load_scenario("china-weibo-2013", sets, users=1000, days=10, seed=4)
        return run(sc).summary["replaced_users"]

    assert replaced(10.0) > replaced(0.0)


def test_a_bad_turnover_setting_is_refused():
    with pytest.raises(InputError, match=r"population.turnover.leave_per_day: Input should be"):
        load_scenario("eu-dsa", ["population.turnover.leave_per_day=2"])
