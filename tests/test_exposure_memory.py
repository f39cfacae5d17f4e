"""Repeated exposure (docs/model.md 7.5.1): the reshare chance by a viewer's count of views
of a post, the memory that counts them, its outputs, its checkpoint, its settings, and that
the rule off leaves every result as it was."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tightrope
from helpers import TinyWorld, assert_resumes_identically
from tightrope import InputError
from tightrope.core import counters as K
from tightrope.core.world import MEMORY_SLOTS
from tightrope.model.exposure_memory import (
    MAX_COUNT,
    exposure_bin,
    exposure_weight,
    remember_view,
)
from tightrope.model.metrics import EXPOSURE_KEYS
from tightrope.model.turnover import replace_leavers
from tightrope.scenario.content import BAD_ACTOR, ORDINARY

PRESET = "china-weibo-2013"
BAO = [1.0, 1.5, 1.2]


def test_exposure_weight_is_the_kth_weight_and_the_last_for_later_views():
    weights = np.array(BAO)
    assert [exposure_weight(weights, k) for k in (1, 2, 3, 4, 200)] == [1.0, 1.5, 1.2, 1.2, 1.2]
    assert [exposure_weight(np.array([0.5]), k) for k in (1, 2, 9)] == [0.5, 0.5, 0.5]
    assert [exposure_bin(k) for k in (1, 2, 3, 4, 255)] == [0, 1, 2, 2, 2]


def test_remember_view_counts_views_most_recent_first_and_forgets_the_oldest():
    memory = np.zeros((3, MEMORY_SLOTS), dtype=np.int64)
    assert [remember_view(memory, 1, pid) for pid in (0, 0, 7, 0, 7)] == [1, 2, 1, 3, 2]
    assert memory[1, 0] == (8 << 8) | 2  # post 7 seen last, twice
    assert memory[1, 1] == (1 << 8) | 3  # post 0, three times
    assert not memory[[0, 2]].any()  # other viewers untouched
    # eight other posts push post 0 out: seen again, it counts as a first view
    for pid in range(100, 100 + MEMORY_SLOTS - 1):
        assert remember_view(memory, 1, pid) == 1
    assert remember_view(memory, 1, 7) == 3  # still remembered (the 8th place)
    assert remember_view(memory, 1, 200) == 1  # takes the place of post 0, now the oldest
    assert remember_view(memory, 1, 0) == 1
    # the count stops at MAX_COUNT
    for _ in range(MAX_COUNT + 10):
        k = remember_view(memory, 2, 5)
    assert k == MAX_COUNT


def test_no_memory_is_kept_when_every_weight_is_one(tiny_world: TinyWorld):
    for weights, slots in (("[1.0]", 0), ("[1.0, 1.0, 1.0]", 0), ("[1.0, 1.5]", MEMORY_SLOTS)):
        sim = tiny_world(overrides=[f"behaviour.exposure_weights={weights}"])
        assert sim.people.exposure_memory.shape == (sim.n_users, slots)
    for name in ("laissez-faire", "us-self-regulation", "eu-dsa", "china-comprehensive-2021"):
        assert tightrope.load_scenario(name).behaviour.exposure_weights == BAO  # one society
    assert tightrope.load_scenario(PRESET).behaviour.exposure_weights == BAO
    assert tightrope.load_scenario("china-weibo-2012-calibrated").behaviour.exposure_weights == [
        1.0
    ]


def test_newcomers_start_with_an_empty_memory(tiny_world: TinyWorld):
    sim = tiny_world(preset=PRESET, overrides=["population.turnover.leave_per_day=1.0"])
    memory = sim.people.exposure_memory
    memory[:] = (5 << 8) | 1  # everyone has seen post 4 once
    assert replace_leavers(sim.scenario, sim.people, np.random.default_rng(1)) > 0
    mortal = (sim.people.kind == ORDINARY) | (sim.people.kind == BAD_ACTOR)
    assert not memory[mortal].any()  # every ordinary user and bad actor left (chance 1)
    assert (memory[~mortal] == (5 << 8) | 1).all()


def _run(weights: str, users: int = 600, days: float = 1, seed: int = 3) -> tightrope.Result:
    sc = tightrope.load_scenario(
        PRESET, [f"behaviour.exposure_weights={weights}"], users=users, days=days, seed=seed
    )
    return tightrope.run(sc)


def test_the_kth_view_reshares_at_the_kth_weight_in_a_tiny_world():
    """A weight of 0 stops every reshare at that view; the outputs count the views."""
    s = _run("[1.0, 0.0]").summary
    assert s["reshare_rate_exposure_1"] > 0
    assert s["reshare_rate_exposure_2"] == 0.0
    assert s["reshare_rate_exposure_3plus"] == 0.0
    s = _run("[0.0, 1.0]").summary
    assert s["reshare_rate_exposure_1"] == 0.0
    assert s["reshare_rate_exposure_2"] > 0


def test_the_outputs_are_reshares_over_views_by_exposure(tiny_world: TinyWorld):
    sim = tiny_world(preset=PRESET, users=600, seed=3)
    for _ in range(sim.n_ticks):
        sim.step()
    views, reshares = sim.exposures
    assert views.sum() == sim.totals[K.VIEWS]
    assert reshares.sum() == sim.totals[K.RESHARES]
    assert views[1] > 0  # posts are seen again
    assert views[2] > 0
    s = sim.result().summary
    for x, key in enumerate(EXPOSURE_KEYS):
        assert s[key] == reshares[x] / views[x]


def test_with_the_bao_curve_the_second_view_reshares_most():
    """Direction (Bao et al. 2013): the measured reshare rate at a viewer's 2nd view of a
    post is above that at the 1st and at the 3rd and later."""
    s = _run(str(BAO), users=3000, days=2, seed=7).summary
    assert s["reshare_rate_exposure_2"] > s["reshare_rate_exposure_1"]
    assert s["reshare_rate_exposure_2"] > s["reshare_rate_exposure_3plus"]


def test_with_the_rule_off_the_outputs_are_nan_and_unit_weights_change_nothing():
    """Off (every weight 1) keeps no memory: the summary's exposure keys are NaN. A memory
    consulted with unit weights (forced here) draws the same numbers and multiplies by 1,
    so every other result is the same to the bit: the rule itself is neutral at 1."""
    sc = tightrope.load_scenario(PRESET, ["behaviour.exposure_weights=[1.0]"], users=600, days=1)
    off = tightrope.run(sc)
    assert all(math.isnan(off.summary[k]) for k in EXPOSURE_KEYS)
    sim = tightrope.Simulation(sc)
    memory = np.zeros((sim.n_users, MEMORY_SLOTS), dtype=np.int64)
    sim.people = sim.people._replace(exposure_memory=memory)
    for _ in range(sim.n_ticks):
        sim.step()
    forced = sim.result()
    assert memory.any()
    assert not any(math.isnan(forced.summary[k]) for k in EXPOSURE_KEYS)
    differ = {
        k: (v, forced.summary[k])
        for k, v in off.summary.items()
        if k not in EXPOSURE_KEYS and not _same(v, forced.summary[k])
    }
    assert not differ
    for name in ("timeseries", "categories", "cascades", "histograms"):
        assert getattr(off, name).equals(getattr(forced, name)), name


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def test_a_resumed_run_remembers_what_its_viewers_saw(tmp_path):
    sc = tightrope.load_scenario(PRESET, users=600, days=1, seed=3)
    whole = tightrope.run(sc)

    def remembers(sim):
        assert sim.people.exposure_memory.any()

    assert_resumes_identically(sc, 20, whole, tmp_path, before_saving=remembers)


@pytest.mark.parametrize(
    ("weights", "line"),
    [
        (
            "[]",
            "behaviour.exposure_weights: must have 1 to 16 values (the weight at the 1st, 2nd, "
            "... view of a post), not 0 (got [])",
        ),
        (
            str([1.0] * 17),
            "behaviour.exposure_weights: must have 1 to 16 values (the weight at the 1st, 2nd, "
            f"... view of a post), not 17 (got {[1.0] * 17})",
        ),
        (
            "[1.0, -0.5]",
            "behaviour.exposure_weights[1]: Input should be greater than or equal to 0 (got -0.5)",
        ),
        (
            "[11.0]",
            "behaviour.exposure_weights[0]: Input should be less than or equal to 10 (got 11.0)",
        ),
    ],
)
def test_bad_weights_are_refused_with_exact_messages(weights, line):
    with pytest.raises(InputError) as info:
        tightrope.load_scenario(PRESET, [f"behaviour.exposure_weights={weights}"])
    assert info.value.problems == [line]
