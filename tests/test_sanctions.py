"""The state's sanctions ladder, advertisers' brand safety and the participants' relief
after an incident (docs/model.md 7.7, 8.9 and 10): each rule against its formula written
out, the ladder's steps on a hand-made record, the platform's choice, direction tests on
whole runs, and the exact messages for bad settings."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tightrope import InputError, load_scenario, run
from tightrope.core import counters as K
from tightrope.model.mobilisation import after_incident
from tightrope.model.platforms import (
    Advertisers,
    Escalation,
    ad_share_kept,
    choose_effort,
    effort_grid,
    expected_sanctions,
)
from tightrope.model.sanctions import (
    FOREVER,
    Ladder,
    audit_breach,
    breach_count,
    escalation_chance,
    next_rung,
    over_tolerance,
    revenue_fine,
    sanction_cost,
    scrutiny,
)

LADDER = '["naming", "revenue_fine", "suspension", "licence_withdrawal"]'


def test_breach_count_is_the_tolerated_share_plus_z_standard_errors():
    assert breach_count(100, 0.05, 0.0) == pytest.approx(5.0)
    assert breach_count(100, 0.05, 1.645) == pytest.approx(5.0 + 1.645 * math.sqrt(4.75))
    assert over_tolerance(9, 100, 0.05, 1.645)  # 9 > 8.585
    assert not over_tolerance(8, 100, 0.05, 1.645)
    assert over_tolerance(6, 100, 0.05, 0.0)


def test_audit_breach_only_below_the_required_effort_and_never_without_an_audit():
    assert audit_breach(0.75, 0.8)
    assert not audit_breach(0.8, 0.8)
    assert not audit_breach(0.0, 0.0)


@pytest.mark.parametrize(
    ("step", "clean", "over", "expected"),
    [
        (0, 2, True, (1, 0, 0)),  # up one step, its sanction applied
        (3, 0, True, (4, 0, 3)),
        (4, 0, True, (4, 0, 3)),  # at the top: the top step again
        (2, 2, False, (2, 3, -1)),  # one more clean review
        (2, 3, False, (1, 0, -1)),  # the 4th clean review: down one step, no sanction
        (0, 3, False, (0, 4, -1)),  # nothing below 0
    ],
)
def test_next_rung(step, clean, over, expected):
    assert next_rung(step, clean, over, 4, 4) == expected


def test_no_ladder_no_step():
    assert next_rung(0, 0, True, 0, 4) == (0, 0, -1)


def test_revenue_fine_grows_with_earlier_fines():
    assert revenue_fine(10.0, 0.06, 1.0, 0) == pytest.approx(0.06 * 10 * 365)
    assert revenue_fine(10.0, 0.06, 1.0, 2) == pytest.approx(0.06 * 10 * 365 * 3)


def test_escalation_chance_rises_with_the_violation_rate():
    chances = [escalation_chance(r, 0.05, 200, 1.645) for r in (0.0, 0.02, 0.05, 0.1, 0.3)]
    assert chances[0] == 0.0
    assert all(a < b for a, b in itertools.pairwise(chances[1:]))
    assert chances[-1] > 0.99
    assert escalation_chance(0.5, 0.05, 0.0) == 0.0  # no checks, nothing seen
    # the normal approximation written out
    n, r, t, z = 200, 0.08, 0.05, 1.645
    limit = t * n + z * math.sqrt(n * t * (1 - t))
    expected = 0.5 * math.erfc((limit + 0.5 - r * n) / math.sqrt(n * r * (1 - r)) / math.sqrt(2))
    assert escalation_chance(r, t, n, z) == pytest.approx(expected)


def test_expected_sanctions_weighs_the_jth_step_by_the_chance_to_the_j():
    assert expected_sanctions(0.5, [10.0, 100.0, 1000.0]) == pytest.approx(5 + 25 + 125)
    chance = np.array([0.0, 1.0])
    np.testing.assert_allclose(expected_sanctions(chance, [1.0, 2.0]), [0.0, 3.0])


def test_ad_share_kept():
    assert ad_share_kept(0.001, 0.002, 50.0) == 1.0
    assert ad_share_kept(0.004, 0.002, 50.0) == pytest.approx(0.9)
    assert ad_share_kept(0.5, 0.002, 50.0) == 0.0


def test_scrutiny_follows_the_highest_step():
    assert scrutiny(np.array([0, 2, 1]), 0.5) == 2.0
    assert scrutiny(np.array([0, 0]), 0.5) == 1.0


def _ladder(sets=()):
    sc = load_scenario(
        "china-comprehensive-2021",
        [f"state.sanctions.ladder={LADDER}", "state.sanctions.review_every_days=7", *sets],
        users=1000,
    )
    names = list(sc.platforms)
    regulated = np.array([n in ("weibo", "wechat") for n in names], dtype=np.uint8)
    return sc, names, Ladder(sc, names, regulated)


def test_sanction_costs_as_the_platform_reckons_them():
    sc, _names, ladder = _ladder()
    san = sc.state.sanctions
    assert sanction_cost("naming", 10.0, 8.0, 0, ladder, 365.0) == pytest.approx(
        san.naming_advertiser_loss * 8.0 * san.naming_days
    )
    assert sanction_cost("suspension", 10.0, 8.0, 0, ladder, 365.0) == pytest.approx(
        10.0 * san.suspension_days
    )
    assert sanction_cost("licence_withdrawal", 10.0, 8.0, 0, ladder, 200.0) == 2000.0
    with pytest.raises(ValueError, match="unknown sanction 'jail'"):
        sanction_cost("jail", 1.0, 1.0, 0, ladder, 1.0)


def test_the_ladder_climbs_on_breaches_and_steps_down_after_clean_reviews():
    _sc, names, ladder = _ladder(["state.sanctions.required_effort=0.0"])
    w = names.index("weibo")
    suspended = np.zeros(len(names), dtype=np.int64)
    effort = np.ones(len(names))
    week = 7 * 1440
    kinds = []
    for review in range(1, 5):  # four reviews in breach: every step in turn
        pc = np.zeros((len(names), len(K.PLATFORM)))
        pc[w, K.P_CHECKS], pc[w, K.P_VIOLATIONS] = 100.0, 30.0
        revenue = np.full(len(names), 10.0)
        ladder.observe(pc, revenue)
        fines = ladder.review(review * week, names, suspended, effort)
        kinds.append(ladder.log[-1][3])
        assert ladder.step[w] == review
        if kinds[-1] == "revenue_fine":
            assert fines[w] == pytest.approx(revenue_fine(10.0 / 7, 0.05, 1.0, 0))
    assert kinds == ["naming", "revenue_fine", "suspension", "licence_withdrawal"]
    assert suspended[w] == FOREVER
    assert ladder.named(2 * week)[w] == 1.0
    # a withdrawn licence is not reviewed again; the other platform was never judged
    assert ladder.step[names.index("wechat")] == 0


def test_clean_reviews_bring_a_platform_down():
    _sc, names, ladder = _ladder(["state.sanctions.clean_reviews_to_step_down=2"])
    w = names.index("weibo")
    suspended = np.zeros(len(names), dtype=np.int64)
    effort = np.ones(len(names))
    ladder.step[w] = 2
    for review in (1, 2):
        pc = np.zeros((len(names), len(K.PLATFORM)))
        pc[w, K.P_CHECKS] = 100.0
        ladder.observe(pc, np.zeros(len(names)))
        ladder.review(review * 7 * 1440, names, suspended, effort)
    assert ladder.step[w] == 1
    assert not ladder.log  # stepping down imposes nothing


def test_an_audit_finds_effort_below_the_law():
    _sc, names, ladder = _ladder(["state.sanctions.required_effort=0.9"])
    suspended = np.zeros(len(names), dtype=np.int64)
    effort = np.array([0.5 if n == "weibo" else 1.0 for n in names])
    ladder.review(7 * 1440, names, suspended, effort)  # no checks at all: the audit judges
    assert ladder.step[names.index("weibo")] == 1
    assert ladder.step[names.index("wechat")] == 0


def test_the_platform_prices_the_ladder_into_its_effort():
    grid = effort_grid(21)
    args = (700.0, 1e5, 2000.0, 100.0, 70.0, 0.6, 1.0, 70.0, 1.0, 0.0, 7.0, grid, 0.05)
    assert choose_effort(*args) == 0.0  # fines alone: cheaper to stop moderating
    costs = [70.0 * 30, 700.0 * 52]  # naming, then a withdrawn licence
    audit = Escalation(costs, 0.05, 100.0, 1.0, required_effort=0.8, evidence_z=1.645)
    assert choose_effort(*args, escalation=audit) >= 0.8
    no_audit = Escalation(costs, 0.01, 100.0, 1.0, evidence_z=0.0)
    assert choose_effort(*args, escalation=no_audit) > 0.0


def test_advertisers_who_mind_harm_keep_a_platform_moderating():
    grid = effort_grid(21)
    args = (700.0, 1e5, 0.0, 0.0, 70.0, 0.0, 1.0, 70.0, 0.0, 0.0, 7.0, grid, 0.05)
    assert choose_effort(*args) == 0.0
    ads = Advertisers(700.0, 250.0, 0.8, 0.002, 50.0)  # 0.0025 harm per view at effort 1
    assert choose_effort(*args, advertisers=ads) > 0.5


def test_after_an_incident_the_participants_give_up_part_of_their_grievance(tiny_world):
    world = tiny_world(users=50)
    people = world.people
    people.grievance[:] = 0.8
    people.calls_seen[:] = 4.0
    people.mobilised[:] = 0
    people.mobilised[:10] = 1
    assert after_incident(people, 0.5) == 10
    np.testing.assert_allclose(people.grievance[:10], 0.4, rtol=1e-6)
    np.testing.assert_allclose(people.calls_seen[:10], 2.0, rtol=1e-6)
    np.testing.assert_allclose(people.grievance[10:], 0.8, rtol=1e-6)
    assert after_incident(people, 0.0) == 0


def test_bad_settings_are_refused_with_what_is_allowed():
    with pytest.raises(InputError) as err:
        load_scenario("eu-dsa", ['state.sanctions.ladder=["prison"]'])
    assert (
        "state.sanctions.ladder[0]: Input should be 'naming', 'revenue_fine', 'suspension' or "
        "'licence_withdrawal' (got \"prison\")" in str(err.value)
    )
    with pytest.raises(InputError, match=r"state.sanctions.required_effort: Input should be"):
        load_scenario("eu-dsa", ["state.sanctions.required_effort=1.5"])


def _min_effort(sets: list[str], platform: str = "weibo") -> float:
    sc = load_scenario("china-weibo-2013", sets, users=1000, days=22, seed=3)
    plat = run(sc).platforms.to_pandas()
    return plat.loc[plat.platform == platform, "effort"].min()


def test_direction_the_ladder_keeps_mandated_moderation_up():
    no_ads = ["platforms.weibo.economics.advertiser_harm_sensitivity=0"]  # the ladder alone
    without = _min_effort(["state.sanctions.ladder=[]", *no_ads])
    with_ladder = _min_effort(no_ads)
    assert without == 0.0
    assert with_ladder >= 0.8


def test_direction_advertisers_keep_a_self_regulating_platform_moderating():
    def min_effort(sensitivity: float) -> float:
        sets = [f"platforms.microblog.economics.advertiser_harm_sensitivity={sensitivity}"]
        sc = load_scenario("us-self-regulation", sets, users=1000, days=22, seed=3)
        plat = run(sc).platforms.to_pandas()
        return plat.loc[plat.platform == "microblog", "effort"].min()

    assert min_effort(0.0) == 0.0
    assert min_effort(50.0) > 0.5
