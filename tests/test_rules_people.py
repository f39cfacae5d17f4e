"""Unit tests of people's rules (docs/model.md, sections 5.7, 5.9, 7.4, 7.5, 7.7, 8.4, 8.7
and 10), each called directly with hand-chosen inputs, and on a tiny world."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

import helpers
from helpers import DRAWS, TinyWorld, share_of, within_binomial
from tightrope.core.rng import uniform
from tightrope.model.diffusion import report_chance, reshare_chance
from tightrope.model.mobilisation import calls_kept, mobilises, peers_suffice
from tightrope.model.moderation import (
    punish,
    punishment_chance,
    punishment_suspension_minutes,
    trust_after_punishment,
)
from tightrope.model.officials import (
    after_answer,
    after_expiry,
    answer_resolves,
    gives_up,
    staff_working,
)
from tightrope.model.people import (
    adopts_vpn,
    clip01,
    daily_update,
    drops_vpn,
    fear_after_shock,
    fear_daily,
    grievance_daily,
    grievance_down,
    grievance_up,
    harm_rate,
    identifiability,
    joins_another,
    leaves_platform,
    perceived_risk,
    satisfaction_daily,
    satisfaction_target,
    trust_daily,
    trust_down,
    trust_up,
    vpn_demand,
)
from tightrope.model.platforms import choose_effort, effort_grid
from tightrope.model.policy import make_consts, setting
from tightrope.scenario.schema import Compliance, Scenario


def stream(name: str = "mobility", seed: int = 11) -> np.ndarray:
    return helpers.stream(name, seed)


# --- the behavioural constants are settings, with today's values as defaults ----------------

# setting path -> (default, the Consts field that carries it to the kernels)
NAMED_SETTINGS = {
    "behaviour.satisfaction_step": (0.2, "satisfaction_step"),
    "behaviour.harm_penalty": (2.0, "harm_penalty"),
    "behaviour.removal_penalty": (0.2, "removal_penalty"),
    "behaviour.join_chance": (0.5, "join_chance"),
    "behaviour.vpn_fear_weight": (0.5, "vpn_fear_weight"),
    "behaviour.vpn_failure_scale": (0.3, "vpn_failure_scale"),
    "behaviour.removal_fear_shock": (0.05, "removal_fear_shock"),
    "behaviour.wrongful_grievance_rise": (0.05, "wrongful_grievance_rise"),
    "behaviour.wrongful_trust_fall": (0.03, "wrongful_trust_fall"),
    "behaviour.rumor_grievance_rise": (0.01, "rumor_grievance_rise"),
    "behaviour.criticism_grievance_rise": (0.005, "criticism_grievance_rise"),
    "behaviour.official_trust_rise": (0.002, "official_trust_rise"),
    "behaviour.cheerleading_grievance_fall": (0.002, "cheerleading_grievance_fall"),
    "behaviour.reshare_base": (0.5, "reshare_base"),
    "state.punishment.speaker_fear_shock": (0.5, "punished_fear_shock"),
    "state.punishment.trust_keep": (0.8, "punished_trust_keep"),
    "state.punishment.suspension_days": (7, "punished_suspension_days"),
    "state.officials.expiry_grievance_rise": (0.1, "expiry_grievance_rise"),
    "state.officials.expiry_trust_fall": (0.05, "expiry_trust_fall"),
    "state.officials.resolved_grievance_fall": (0.2, "resolved_grievance_fall"),
    "state.officials.resolved_trust_rise": (0.1, "resolved_trust_rise"),
    "state.officials.unresolved_trust_rise": (0.02, "unresolved_trust_rise"),
}


def _with(path: str, value: float) -> dict:
    """A scenario override setting the dotted `path` to `value`."""
    root: dict = {}
    node = root
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return root


@pytest.mark.parametrize("path", sorted(NAMED_SETTINGS))
def test_behavioural_settings_default_to_the_documented_values(path: str) -> None:
    default, field = NAMED_SETTINGS[path]
    sc = Scenario()
    value = setting(sc, path)
    assert value == default
    assert type(value) is type(default)
    carried = getattr(make_consts(sc, 100), field)
    assert carried == default
    assert type(carried) is type(default)


@pytest.mark.parametrize("path", sorted(NAMED_SETTINGS))
def test_behavioural_settings_are_carried_and_validated(path: str) -> None:
    default, field = NAMED_SETTINGS[path]
    new = 3 if isinstance(default, int) else 0.125
    changed = Scenario.model_validate(_with(path, new))
    assert getattr(make_consts(changed, 100), field) == new
    with pytest.raises(ValidationError):
        Scenario.model_validate(_with(path, -0.1))


def test_compliance_settings_defaults_and_ranges() -> None:
    c = Compliance()
    assert (c.effort_levels, c.min_miss_share) == (21, 0.05)
    for bad in ({"effort_levels": 1}, {"min_miss_share": 0.0}, {"min_miss_share": 1.5}):
        with pytest.raises(ValidationError):
            Compliance(**bad)


# --- fear, grievance, trust ----------------------------------------------------------------


def test_identifiability_and_perceived_risk() -> None:
    assert identifiability(1, 0.3) == 1.0
    assert identifiability(0, 0.3) == 0.3
    assert perceived_risk(0.5, 0.4, 0.5) == pytest.approx(0.5 * 0.4 * 1.5)
    assert perceived_risk(1.0, 0.9, 1.0) == 1.0  # capped at 1


def test_daily_relaxations_close_their_share_of_the_gap() -> None:
    assert fear_daily(0.2, 0.6, 0.25) == pytest.approx(0.3)
    assert grievance_daily(0.8, 0.4, 0.5) == pytest.approx(0.6)
    assert trust_daily(0.1, 0.5, 0.1) == pytest.approx(0.14)
    assert clip01(1.3) == 1.0
    assert clip01(-0.2) == 0.0
    assert clip01(0.4) == 0.4


def test_a_fear_shock_moves_its_share_of_the_way_to_one() -> None:
    assert fear_after_shock(0.2, 0.5) == pytest.approx(0.6)
    assert fear_after_shock(0.2, 0.05) == pytest.approx(0.24)
    assert fear_after_shock(1.0, 0.5) == 1.0
    assert fear_after_shock(0.3, 0.0) == 0.3


def test_grievance_and_trust_steps_stay_in_bounds() -> None:
    assert grievance_up(0.5, 0.1) == pytest.approx(0.6)
    assert grievance_up(0.95, 0.1) == 1.0
    assert grievance_down(0.5, 0.2) == pytest.approx(0.3)
    assert grievance_down(0.1, 0.2) == 0.0
    assert trust_up(0.95, 0.1) == 1.0
    assert trust_down(0.02, 0.05) == 0.0
    assert trust_down(0.5, 0.05) == pytest.approx(0.45)


def test_punishment_rules() -> None:
    assert punishment_chance(0.5, 0.4) == pytest.approx(0.2)
    assert trust_after_punishment(0.5, 0.8) == pytest.approx(0.4)
    assert punishment_suspension_minutes(0.5, 7) == 5040
    assert punishment_suspension_minutes(0.0, 7) == 0


def test_a_punished_speakers_followers_fear_rises_by_the_witness_share(
    tiny_world: TinyWorld,
) -> None:
    sim = tiny_world("eu-dsa", users=200, seed=3)
    ptr, idx = sim.graph.followers_ptr, sim.graph.followers_idx
    speaker = int(np.argmax(np.diff(ptr)))
    followers = idx[ptr[speaker] : ptr[speaker + 1]]
    assert followers.size > 0
    pp = sim.people
    pp.fear[:] = np.linspace(0.0, 0.9, pp.fear.size, dtype=np.float32)
    pp.fear[speaker] = 0.2
    pp.trust[speaker] = 0.5
    before = pp.fear.copy()
    consts = sim.consts._replace(severity=0.5, witness_fear=0.3)
    tc = np.zeros_like(sim.tc)
    punish(pp, ptr, idx, consts, speaker, 1000, tc)
    expected = before[followers].astype(np.float64)
    expected = (expected + 0.3 * (1.0 - expected)).astype(np.float32)
    assert np.array_equal(pp.fear[followers], expected)
    assert pp.fear[speaker] == pytest.approx(0.6)
    assert pp.trust[speaker] == pytest.approx(0.4)
    assert pp.suspended_until[speaker] >= 1000 + 5040
    others = np.setdiff1d(np.arange(pp.fear.size), np.append(followers, speaker))
    assert np.array_equal(pp.fear[others], before[others])


# --- satisfaction, leaving, moving, VPNs ---------------------------------------------------


def test_satisfaction_target_and_step() -> None:
    assert harm_rate(3.0, 10.0) == pytest.approx(0.3)
    assert harm_rate(3.0, 0.0) == 0.0
    t = satisfaction_target(0.7, 0.1, 1.0, True, 2.0, 0.2)
    assert t == pytest.approx(0.7 - 0.2 - 0.2)
    assert satisfaction_target(0.7, 0.1, 1.0, False, 2.0, 0.2) == 0.0
    assert satisfaction_daily(0.5, 0.0, 0.2) == pytest.approx(0.4)
    assert satisfaction_daily(0.1, -2.0, 0.2) < 0.0  # clipped by the kernel, after the leave test


def test_leaving_is_drawn_only_below_the_threshold_and_at_its_rate() -> None:
    rs = stream()
    before = rs.copy()
    assert not any(leaves_platform(0.5, 0.3, 1.0, rs) for _ in range(100))
    assert np.array_equal(rs, before)  # no draw above the threshold
    hits = share_of(lambda: leaves_platform(0.1, 0.3, 0.2, rs))
    assert within_binomial(hits, DRAWS, 0.2)


def test_joining_another_platform_at_the_join_chance() -> None:
    rs = stream()
    assert within_binomial(share_of(lambda: joins_another(0.5, rs)), DRAWS, 0.5)


def test_vpn_demand_falls_with_fear() -> None:
    assert vpn_demand(0.8, 0.0, 0.5) == pytest.approx(0.8)
    assert vpn_demand(0.8, 1.0, 0.5) == pytest.approx(0.4)
    assert vpn_demand(0.8, 0.5, 0.5) < vpn_demand(0.8, 0.2, 0.5)


def test_vpn_drop_and_adoption_match_their_formulas() -> None:
    rs = stream("vpn")
    # drop w.p. failure_scale x crackdown x (1 - demand)
    hits = share_of(lambda: drops_vpn(0.25, 0.8, 0.3, rs))
    assert within_binomial(hits, DRAWS, 0.3 * 0.8 * 0.75)
    assert not any(drops_vpn(0.25, 0.0, 0.3, rs) for _ in range(1000))
    # adoption w.p. adopt_rate x (1 - crackdown), only when demand exceeds the cost
    hits = share_of(lambda: adopts_vpn(0.6, 0.3, 0.4, 0.25, rs))
    assert within_binomial(hits, DRAWS, 0.4 * 0.75)
    before = rs.copy()
    assert not any(adopts_vpn(0.3, 0.3, 1.0, 0.0, rs) for _ in range(100))
    assert np.array_equal(rs, before)  # no draw when demand does not exceed the cost


def test_daily_update_on_a_tiny_world(tiny_world: TinyWorld) -> None:
    sim = tiny_world("eu-dsa", users=200, seed=5)
    pp, rules = sim.people, sim.rules
    consts = sim.consts._replace(
        leave_rate=0.0, fear_learning=0.5, grievance_decay=0.25, trust_decay=0.1, severity=0.6
    )
    i = 0
    pp.real_name[i] = 1
    pp.fear[i], pp.grievance[i], pp.grievance_base[i] = 0.2, 0.9, 0.5
    pp.trust[i], pp.trust_base[i] = 0.1, 0.6
    pp.day_views[i], pp.day_harm[i], pp.day_removed[i] = 10.0, 1.0, 1.0
    p = 0
    pp.member[i] = 1 << p
    pp.satisfaction[i, p] = 0.5
    sat0 = float(pp.satisfaction[i, p])
    daily_update(0, pp, consts, rules, stream("mobility"), stream("vpn"))
    risk = min(1.0, 0.6 * (1.0 + rules.intensity))
    assert pp.fear[i] == pytest.approx(0.2 + 0.5 * (risk - 0.2), rel=1e-6)
    assert pp.grievance[i] == pytest.approx(0.9 + 0.25 * (0.5 - 0.9), rel=1e-6)
    assert pp.trust[i] == pytest.approx(0.1 + 0.1 * (0.6 - 0.1), rel=1e-6)
    reachable = rules.blocked[p] == 0 or pp.vpn[i] != 0
    target = consts.p_appeal[p] - 2.0 * 0.1 - 0.2 * 1.0 if reachable else 0.0
    s = min(1.0, max(0.0, sat0 + 0.2 * (target - sat0)))
    assert pp.satisfaction[i, p] == pytest.approx(s, rel=1e-6, abs=1e-7)
    assert pp.member[i] == 1 << p  # nobody leaves at leave rate 0
    assert pp.day_views[i] == 0.0
    assert pp.day_harm[i] == 0.0
    assert pp.day_removed[i] == 0.0


# --- views: reshares and reports -----------------------------------------------------------


def test_reshare_chance_formula_and_its_fall_with_fear() -> None:
    c0 = reshare_chance(0.2, 0.4, 0.0, 0.5, 1.0, 0.5)
    assert c0 == pytest.approx(0.2 * 0.9)
    c1 = reshare_chance(0.2, 0.4, 0.6, 0.5, 1.0, 0.5)
    assert c1 == pytest.approx(0.2 * 0.9 * (1.0 - 0.3))
    # linear fall: virality x (base + s) x sensitivity x reach per unit of fear
    assert c0 - c1 == pytest.approx(0.6 * 0.2 * 0.9 * 0.5)
    assert reshare_chance(0.2, 0.4, 1.0, 1.0, 1.0, 0.5) == 0.0
    assert reshare_chance(0.2, 0.4, 0.6, 0.0, 1.0, 0.5) == pytest.approx(c0)  # not sensitive
    assert reshare_chance(0.2, 0.4, 0.0, 0.5, 0.5, 0.5) == pytest.approx(c0 / 2)  # reach


def test_report_decision_matches_its_formula() -> None:
    assert report_chance(0.5, 0.4, 0.5, 0.6) == pytest.approx(0.5 * 0.4 * 1.3)
    assert report_chance(0.5, 0.4, -0.9, 0.6) == pytest.approx(0.5 * 0.4)  # only pro-state
    assert report_chance(0.5, 0.0, 0.5, 0.6) == 0.0
    rs = stream("events")
    p = report_chance(0.5, 0.4, 0.5, 0.6)
    hits = share_of(lambda: uniform(rs) < report_chance(0.5, 0.4, 0.5, 0.6))
    assert within_binomial(hits, DRAWS, p)


# --- officials -----------------------------------------------------------------------------


def test_officials_rules() -> None:
    assert staff_working(9, 9, 18)
    assert not staff_working(18, 9, 18)
    assert gives_up(4321, 4320.0)
    assert not gives_up(4320, 4320.0)
    g, t = after_expiry(0.5, 0.5, 0.1, 0.05)
    assert (g, t) == (pytest.approx(0.6), pytest.approx(0.45))
    g, t = after_expiry(0.95, 0.02, 0.1, 0.05)
    assert (g, t) == (1.0, 0.0)
    g, t = after_answer(0.5, 0.5, True, 0.2, 0.1, 0.02)
    assert (g, t) == (pytest.approx(0.3), pytest.approx(0.6))
    g, t = after_answer(0.5, 0.5, False, 0.2, 0.1, 0.02)
    assert (g, t) == (0.5, pytest.approx(0.52))
    rs = stream("events")
    assert within_binomial(share_of(lambda: answer_resolves(0.35, rs)), DRAWS, 0.35)


# --- mobilisation --------------------------------------------------------------------------


def test_mobilisation_threshold_rule() -> None:
    assert mobilises(0.5, 4.0, 2.0, 0.3)
    assert not mobilises(0.5, 3.9, 2.0, 0.3)  # calls x grievance under the threshold
    assert not mobilises(0.2, 100.0, 2.0, 0.3)  # grievance under the floor
    assert calls_kept(0.2, 1440) == pytest.approx(0.8)
    assert calls_kept(0.19, 720) == pytest.approx(0.9)


def test_peer_threshold_rule() -> None:
    assert peers_suffice(2, 10, 0.2)  # 2 of 10 followees mobilised: a share of 0.2
    assert not peers_suffice(1, 10, 0.2)
    assert peers_suffice(0, 10, 0.0)  # an instigator needs no one
    assert peers_suffice(0, 0, 0.0)
    assert not peers_suffice(0, 0, 0.1)  # following no one: a share of 0
    assert peers_suffice(40, 40, 1.0)
    assert not peers_suffice(39, 40, 1.0)


# --- platforms' compliance choice ----------------------------------------------------------


def test_effort_grid() -> None:
    assert np.array_equal(effort_grid(21), np.round(np.linspace(0.0, 1.0, 21), 2))
    assert np.array_equal(effort_grid(3), [0.0, 0.5, 1.0])


def test_compliance_choice() -> None:
    grid = effort_grid(21)
    # no prohibited views and no fines: effort only costs, so the least is chosen
    e = choose_effort(1000.0, 1e5, 0.0, 10.0, 50.0, 0.8, 0.5, 100.0, 0.0, 0.0, 7.0, grid, 0.05)
    assert e == 0.0
    # heavy fines on many prohibited views: full effort
    e = choose_effort(1000.0, 1e5, 1e4, 1000.0, 50.0, 1.0, 0.5, 100.0, 1e4, 0.0, 7.0, grid, 0.05)
    assert e == 1.0
    # the hand-computed optimum of a case with an interior answer on a coarse grid
    coarse = effort_grid(3)
    r, v, pv, c, k, d, e0, fine = 100.0, 1000.0, 100.0, 10.0, 20.0, 1.0, 0.5, 10.0
    s = (pv / v) / max(1.0 - d * e0, 0.05)
    values = [
        r * (1.0 - s * d * (e - e0)) - k / e0 * e - c * s * (1.0 - d * e) * fine for e in coarse
    ]
    got = choose_effort(r, v, pv, c, k, d, e0, 0.0, fine, 0.0, 7.0, coarse, 0.05)
    assert got == coarse[int(np.argmax(values))]
    # the floor on 1 - d x e0 bounds the inferred share before filtering
    lo = choose_effort(100.0, 1000.0, 10.0, 10.0, 20.0, 1.0, 1.0, 0.0, 30.0, 0.0, 7.0, grid, 1.0)
    hi = choose_effort(100.0, 1000.0, 10.0, 10.0, 20.0, 1.0, 1.0, 0.0, 30.0, 0.0, 7.0, grid, 0.01)
    assert lo <= hi
