"""Provincial differences in the state's enforcement (docs/model.md 8.10): each region's
sensitivity (which removed posts its authorities take up) and enforcement (how often they
punish a referred author), the regional outputs, the settings' checks, and defaults that
leave every run as it was."""

from __future__ import annotations

import numpy as np
import pytest

import tightrope
from helpers import TinyWorld, stream, within_binomial
from tightrope import InputError
from tightrope.core import counters as K
from tightrope.core.world import new_posts, new_tally
from tightrope.model.moderation import remove_post
from tightrope.model.regions import (
    REGION_ENFORCEMENT,
    REGION_SENSITIVITY,
    local_punishment_chance,
    refers,
    regional,
)
from tightrope.scenario.content import CATEGORIES, VISIBLE

CAT = {c: i for i, c in enumerate(CATEGORIES)}
CHINA = "china-comprehensive-2021"
TWO = "network.regions=[0.5, 0.5]"


def two_regions(enforcement=(1.0, 1.0), sensitivity=(1.0, 1.0)) -> tuple[str, ...]:
    """Two regions of equal size with these multipliers (china-comprehensive-2021 has four
    regions: its lists are replaced)."""
    return (
        TWO,
        f"state.regions.enforcement={list(enforcement)}",
        f"state.regions.sensitivity={list(sensitivity)}",
    )


# --- the rules --------------------------------------------------------------------------


def test_refers_at_severity_times_sensitivity() -> None:
    assert refers(0.2, 1.0, 0.7) is False
    assert refers(0.2, 3.5, 0.7) is True  # 0.7 >= 0.7
    assert refers(0.2, 4.0, 0.7) is True
    assert refers(1.0, 0.5, 0.7) is False
    assert refers(1.0, 1.0, 0.7) is True
    for sev in (0.1, 0.3, 0.69999, 0.7, 0.9, 1.0):  # sensitivity 1: the national rule
        assert refers(sev, 1.0, 0.7) == (sev >= 0.7)


def test_local_punishment_chance_is_capped_at_one() -> None:
    assert local_punishment_chance(0.3, 1.0) == 0.3
    assert local_punishment_chance(0.3, 2.0) == pytest.approx(0.6)
    assert local_punishment_chance(0.3, 0.0) == 0.0
    assert local_punishment_chance(0.7, 2.0) == 1.0


def test_regional_reads_the_regions_row_and_is_one_without_a_row() -> None:
    rules = np.array([[0.5, 2.0], [1.5, 0.25]])
    assert regional(rules, 0, REGION_ENFORCEMENT) == 0.5
    assert regional(rules, 1, REGION_SENSITIVITY) == 0.25
    assert regional(np.ones((1, 2)), 3, REGION_ENFORCEMENT) == 1.0


# --- compiled settings and the users' regions --------------------------------------------


def test_default_multipliers_are_one_row_of_ones(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    assert sim.consts.region_rules.tolist() == [[1.0, 1.0]]
    assert not sim.people.region.any()


def test_multipliers_compile_one_row_per_region_and_users_carry_their_region(
    tiny_world: TinyWorld,
) -> None:
    sim = tiny_world(
        users=300,
        overrides=(
            "network.regions=[0.5, 0.3, 0.2]",
            "state.regions.enforcement=[1.0, 2.0, 0.5]",
        ),
    )
    assert sim.consts.region_rules.tolist() == [[1.0, 1.0], [2.0, 1.0], [0.5, 1.0]]
    assert (sim.people.region == sim.region).all()
    assert np.bincount(sim.people.region).tolist() == [150, 90, 60]


def test_a_newcomer_keeps_the_leavers_region(tiny_world: TinyWorld) -> None:
    from tightrope.model.turnover import replace_leavers

    sim = tiny_world(
        users=300, overrides=(TWO, "population.turnover.leave_per_day=1.0")
    )  # everyone mortal leaves
    before = sim.people.region.copy()
    left = replace_leavers(sim.scenario, sim.people, np.random.default_rng(1))
    assert left > 0
    assert (sim.people.region == before).all()


# --- the rules in the removal kernel -------------------------------------------------------


def _one_post(author: int, cat: int, p: int = 0):
    posts = new_posts(8)
    posts.pid[0], posts.author[0], posts.platform[0] = 0, author, p
    posts.cat[0], posts.created[0], posts.state[0] = cat, 100, VISIBLE
    posts.counts[1 + VISIBLE] = 1
    posts.queued[0] = 1
    return posts


def _remove(sim, consts, a: int, cat: int, rs):
    tally = new_tally(sim.pc.shape[0])
    g = sim.graph
    sim.people.suspended_until[a] = 0
    remove_post(
        _one_post(a, cat), sim.people, g.followers_ptr, g.followers_idx, consts, sim.rules, 0,
        200.0, K.ROUTE_FILTER, tally, rs, sim.cal, stream("appeals"),
    )  # fmt: skip
    return tally.tick


def _quiet_author(sim, region: int) -> int:
    """The user of `region` with the fewest followers."""
    g = sim.graph
    users = np.nonzero(sim.people.region == region)[0]
    return int(users[np.argmin(np.diff(g.followers_ptr)[users])])


@pytest.mark.parametrize(("enforcement", "expected"), [(0.0, 0.0), (0.5, 0.3), (2.0, 1.0)])
def test_a_referred_author_is_punished_at_the_regions_chance(
    tiny_world: TinyWorld, enforcement: float, expected: float
) -> None:
    sim = tiny_world(
        CHINA,
        users=200,
        overrides=two_regions(enforcement=(1.0, enforcement)),
    )
    harm = CAT["illegal_harm"]
    assert sim.rules.state_prohibited[0, harm] >= sim.consts.p_referral[0]
    consts = sim.consts._replace(severity=0.6, data_access=0.0)
    a = _quiet_author(sim, 1)
    sim.people.real_name[a] = 1  # identifiability 1: national chance 0.6
    rs = stream("punishment")
    n = 2000
    punished = referred = 0
    for _ in range(n):
        tc = _remove(sim, consts, a, harm, rs)
        referred += int(tc[K.REFERRALS])
        punished += int(tc[K.PUNISHED])
    assert referred == n
    assert sim.people.referrals[a] == n
    assert within_binomial(punished, n, expected)


def test_a_sensitive_region_refers_what_the_nation_would_not(tiny_world: TinyWorld) -> None:
    sim = tiny_world(CHINA, users=200, overrides=two_regions(sensitivity=(1.0, 4.0)))
    crit = CAT["criticism"]
    sev = sim.rules.state_prohibited[0, crit]
    assert 0 < sev < sim.consts.p_referral[0] <= 4.0 * sev  # 0.2 < 0.7 <= 0.8
    rs = stream("punishment")
    calm, sensitive = _quiet_author(sim, 0), _quiet_author(sim, 1)
    assert _remove(sim, sim.consts, calm, crit, rs)[K.REFERRALS] == 0
    assert _remove(sim, sim.consts, sensitive, crit, rs)[K.REFERRALS] == 1
    assert sim.people.referrals[calm] == 0
    assert sim.people.referrals[sensitive] == 1


def test_a_lenient_region_refers_less() -> None:
    assert refers(1.0, 0.6, 0.7) is False  # a region at 0.6 lets even the gravest post go


# --- settings' checks ---------------------------------------------------------------------


def problems(overrides) -> list[str]:
    with pytest.raises(InputError) as info:
        tightrope.load_scenario("eu-dsa", list(overrides))
    return info.value.problems


def test_multipliers_need_one_per_region() -> None:
    assert problems(["state.regions.enforcement=[1.0, 2.0]"]) == [
        "state.regions.enforcement: one multiplier per region of network.regions (1), got 2 "
        "(or none at all for 1 in every region)"
    ]
    assert problems([TWO, "state.regions.sensitivity=[1.0, 2.0, 3.0]"]) == [
        "state.regions.sensitivity: one multiplier per region of network.regions (2), got 3 "
        "(or none at all for 1 in every region)"
    ]


def test_multipliers_are_between_zero_and_ten() -> None:
    assert problems([TWO, "state.regions.enforcement=[1.0, -0.5]"]) == [
        "state.regions.enforcement[1]: Input should be greater than or equal to 0 (got -0.5)"
    ]
    assert problems([TWO, "state.regions.sensitivity=[11.0, 1.0]"]) == [
        "state.regions.sensitivity[0]: Input should be less than or equal to 10 (got 11.0)"
    ]


def test_a_node_attribute_region_needs_a_multiplier(tmp_path) -> None:
    edges = tmp_path / "edges.txt"
    edges.write_text("0 1\n1 2\n2 3\n3 0\n", "utf-8")
    attrs = tmp_path / "attrs.csv"
    attrs.write_text("id,region\n0,0\n1,0\n2,1\n3,1\n", "utf-8")
    sc = tightrope.load_scenario(
        "eu-dsa",
        [
            'network.source="edge_list"',
            f"network.edge_list={str(edges)!r}",
            f"network.node_attributes={str(attrs)!r}",
            "state.regions.enforcement=[2.0]",
        ],
        days=1,
    )
    with pytest.raises(InputError) as info:
        tightrope.Simulation(sc)
    assert str(info.value) == (
        "state.regions.enforcement: 1 multipliers, but the network has users in region 1; "
        "give one multiplier per region (0 to 1)"
    )


# --- defaults and outputs in a run --------------------------------------------------------


def _tables(result) -> dict:
    return {
        "summary": result.summary,
        "timeseries": result.timeseries.to_pydict(),
        "regions": result.regions.to_pydict(),
    }


def test_multipliers_of_one_leave_a_run_bit_identical() -> None:
    drop = ["state.regions.enforcement=[]", "state.regions.sensitivity=[]"]
    base = tightrope.load_scenario(CHINA, [TWO, *drop], users=600, days=1, seed=4)
    ones = tightrope.load_scenario(CHINA, list(two_regions()), users=600, days=1, seed=4)
    a, b = tightrope.run(base), tightrope.run(ones)
    assert a.summary["referrals"] > 0
    assert _tables(a) == _tables(b)


def test_regions_table_counts_referrals() -> None:
    sc = tightrope.load_scenario(CHINA, users=600, days=1, seed=4)
    res = tightrope.run(sc)
    reg = res.regions.to_pydict()
    assert reg["region"] == [0, 1, 2, 3]
    assert sum(reg["referrals"]) == res.summary["referrals"]
    assert all(r <= m for r, m in zip(reg["referrals"], reg["removals"], strict=True))
    assert sum(reg["requests"]) == res.summary["requests"] > 0
    assert sum(reg["answered"]) / sum(reg["requests"]) == pytest.approx(
        res.summary["requests_answered_share"]
    )


def test_a_regions_staff_answer_only_its_requests() -> None:
    """With all the answer staff in region 0 (8.7), region 1's requests go unanswered: the
    local officials answer their own region."""
    sc = tightrope.load_scenario(
        CHINA,
        [*two_regions(), "state.officials.region_staff_shares=[1.0, 0.0]"],
        users=600,
        days=2,
        seed=4,
    )
    reg = tightrope.run(sc).regions.to_pydict()
    assert min(reg["requests"]) > 0
    assert reg["answered"][0] > 0
    assert reg["answered"][1] == 0


def test_direction_higher_enforcement_punishes_more() -> None:
    """Two regions of 5,000 users alike but for enforcement (0.5 and 1.4: a referred,
    identified author is punished with chance 0.35 and 0.98), china-comprehensive-2021, 30
    days, seeds 1-3. Measured (region 0 / region 1): punished per referral 0.32 / 0.85, 0.33
    / 0.85, 0.34 / 0.86; punished users per user 0.021 / 0.047, 0.020 / 0.051, 0.019 / 0.050;
    mean fear at the end 0.603 / 0.623, 0.601 / 0.616, 0.605 / 0.620 (followers, mostly in
    the author's region, witness the punishments). The share of criticism in posts shows no
    consistent difference at this size (0.041 / 0.057, 0.041 / 0.039, 0.039 / 0.039): the
    daily fear target (docs/model.md 5.7) is national and pulls fear back."""
    for seed in (1, 2, 3):
        sc = tightrope.load_scenario(
            CHINA, list(two_regions(enforcement=(0.5, 1.4))), users=10_000, days=30, seed=seed
        )
        reg = tightrope.run(sc).regions.to_pydict()
        punished, referrals = reg["punished_users"], reg["referrals"]
        assert min(referrals) > 100
        per_referral = [punished[k] / referrals[k] for k in (0, 1)]
        assert per_referral[1] > 2.0 * per_referral[0]
        per_user = [punished[k] / reg["users"][k] for k in (0, 1)]
        assert per_user[1] > 1.5 * per_user[0]
        assert reg["mean_fear"][1] > reg["mean_fear"][0]


def test_direction_a_sensitive_region_refers_and_punishes_more() -> None:
    """Two regions of 5,000 users alike but for sensitivity (1 and 4: criticism, prohibited
    at 0.2, reaches the referral severity 0.7 in region 1), china-comprehensive-2021, 30
    days, seeds 1-2. Measured (region 0 / region 1; session 18, after the peer thresholds
    of mobilisation changed the mix of removals), referrals of removals: 301 of 1,083 /
    941 of 967 and 328 of 989 / 920 of 979; punished users 182 / 491 and 212 / 495; mean
    fear 0.634 / 0.665 at both seeds."""
    for seed in (1, 2):
        sc = tightrope.load_scenario(
            CHINA, list(two_regions(sensitivity=(1.0, 4.0))), users=10_000, days=30, seed=seed
        )
        reg = tightrope.run(sc).regions.to_pydict()
        referred = [reg["referrals"][k] / reg["removals"][k] for k in (0, 1)]
        assert referred[0] < 0.5 < 0.9 < referred[1]
        assert reg["punished_users"][1] > 2 * reg["punished_users"][0]
        assert reg["mean_fear"][1] > reg["mean_fear"][0]
