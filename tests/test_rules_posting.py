"""Unit tests of the posting, feed and deterrence rules (docs/model.md, sections 5.5, 5.6,
5.8 and 7.6), each called directly with hand-chosen inputs, and on a tiny world."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

import helpers
import tightrope
from helpers import DRAWS, TinyWorld, within_binomial
from tightrope.core import counters as K
from tightrope.model.exposure import can_use
from tightrope.model.feed import feed_score
from tightrope.model.metrics import population_stats
from tightrope.model.moderation import identifiability
from tightrope.model.policy import make_consts
from tightrope.model.posting import (
    MOVED_FOREIGN,
    MOVED_PRIVATE,
    NOT_MOVED,
    chilling_risk,
    choose_platform,
    deterred,
    displace,
    exposure_to_state,
    platform_weight,
    self_censors,
    wish_to_speak,
)
from tightrope.scenario.content import BAD_ACTOR
from tightrope.scenario.schema import Behaviour


def stream(seed: int = 7) -> np.ndarray:
    return helpers.stream("chilling", seed)


# --- the settings -------------------------------------------------------------------------


def test_settings_defaults_are_the_former_literals() -> None:
    b = Behaviour()
    assert (b.platform_choice_floor, b.anonymous_risk, b.grievance_voice) == (0.01, 0.5, 0.5)
    assert (b.exposure_unregulated, b.exposure_private, b.exposure_private_data) == (
        0.2,
        0.3,
        0.7,
    )
    consts = make_consts(tightrope.load_scenario("eu-dsa", users=100, days=1), 100)
    for name in ("platform_choice_floor", "anonymous_risk", "grievance_voice",
                 "exposure_unregulated", "exposure_private", "exposure_private_data"):  # fmt: skip
        assert getattr(consts, name) == getattr(b, name)  # the kernels read the setting
    changed = tightrope.load_scenario("eu-dsa", ["behaviour.anonymous_risk=0.25"], users=100)
    assert make_consts(changed, 100).anonymous_risk == 0.25


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("platform_choice_floor", -0.01),
        ("platform_choice_floor", 1.5),
        ("anonymous_risk", 1.1),
        ("grievance_voice", -1.0),
        ("exposure_unregulated", -0.2),
        ("exposure_private", 2.0),
        ("exposure_private_data", 1.01),
    ],
)
def test_settings_out_of_range_are_refused(field: str, bad: float) -> None:
    with pytest.raises(ValidationError):
        Behaviour(**{field: bad})


def test_private_exposure_above_public_is_refused() -> None:
    Behaviour(exposure_private=0.5, exposure_private_data=0.5)
    with pytest.raises(ValidationError, match="exposure_private"):
        Behaviour(exposure_private=0.5, exposure_private_data=0.6)


# --- platform choice (5.5) ----------------------------------------------------------------


def test_platform_weight_is_satisfaction_plus_floor() -> None:
    assert platform_weight(0.3, 0.01) == 0.3 + 0.01
    assert platform_weight(0.0, 0.01) == 0.01
    assert platform_weight(0.7, 0.25) == 0.7 + 0.25
    assert platform_weight(0.0, 0.0) == 0.0


def test_platform_choice_shares_follow_the_weights() -> None:
    access = np.array([0b011], dtype=np.uint16)  # platforms 0 and 1 usable, not 2
    suspended = np.zeros(1, dtype=np.int64)
    sat = np.array([0.2, 0.6, 0.9], dtype=np.float32)
    private = np.zeros(3, dtype=np.uint8)
    rs = stream()
    picks = np.array(
        [
            choose_platform(access, suspended, 0, sat, private, False, 0, rs, 0.01)
            for _ in range(DRAWS)
        ]
    )
    assert not (picks == 2).any()  # not usable: never drawn
    w0, w1 = float(sat[0]) + 0.01, float(sat[1]) + 0.01
    assert within_binomial(int((picks == 0).sum()), DRAWS, w0 / (w0 + w1))


def test_platform_choice_floor_gives_an_unsatisfying_platform_a_chance() -> None:
    access = np.array([0b11], dtype=np.uint16)
    suspended = np.zeros(1, dtype=np.int64)
    sat = np.array([0.0, 1.0], dtype=np.float32)
    private = np.zeros(2, dtype=np.uint8)
    rs = stream(3)
    none = [
        choose_platform(access, suspended, 0, sat, private, False, 0, rs, 0.0) for _ in range(2000)
    ]
    assert none.count(0) == 0
    some = [
        choose_platform(access, suspended, 0, sat, private, False, 0, rs, 0.5) for _ in range(DRAWS)
    ]
    assert within_binomial(some.count(0), DRAWS, 0.5 / 2.0)


# --- chilling (5.6) -----------------------------------------------------------------------


def test_exposure_to_state() -> None:
    a = (0.2, 0.3, 0.7)
    assert exposure_to_state(1, 1, 0, 0.4, *a) == 0.2  # foreign
    assert exposure_to_state(0, 0, 0, 0.4, *a) == 0.2  # unregulated
    assert exposure_to_state(0, 1, 1, 0.4, *a) == 0.3 + 0.7 * 0.4  # regulated private
    assert exposure_to_state(0, 1, 0, 0.4, *a) == 1.0  # regulated public
    assert exposure_to_state(0, 1, 1, 0.0, 0.2, 0.1, 0.5) == 0.1


def test_chilling_risk() -> None:
    assert chilling_risk(0.0, 0.9, 1.0, 1.0, 0.5) == 0.0  # no fear, no risk
    assert chilling_risk(0.8, 0.0, 1.0, 1.0, 0.5) == 0.0  # nothing sensitive, no risk
    assert chilling_risk(0.8, 0.5, 1.0, 1.0, 0.5) == pytest.approx(0.4)  # identified: all
    assert chilling_risk(0.8, 0.5, 1.0, 0.0, 0.5) == pytest.approx(0.2)  # anonymous: a share
    assert chilling_risk(0.8, 0.5, 1.0, 0.0, 0.0) == 0.0
    assert chilling_risk(0.8, 0.5, 0.2, 1.0, 0.5) == pytest.approx(0.08)  # less exposed
    risks = [chilling_risk(0.8, 0.5, 1.0, ident, 0.5) for ident in (0.0, 0.3, 0.6, 1.0)]
    assert risks == sorted(risks)
    assert risks[0] < risks[-1]


def test_wish_to_speak() -> None:
    assert wish_to_speak(0.4, 0.8, 0.0, 0.5) == pytest.approx(0.4)  # not a grievance topic
    assert wish_to_speak(0.4, 0.8, 3.0, 0.5) == pytest.approx(0.8)
    assert wish_to_speak(0.4, 0.8, 3.0, 0.0) == pytest.approx(0.4)


def test_no_fear_no_self_censorship() -> None:
    risk = chilling_risk(0.0, 0.9, 1.0, 1.0, 0.5)
    for u in (0.0, 1e-12, 0.5, 0.999999):
        assert not self_censors(u, risk, 0.0)
        assert not self_censors(u, risk, 0.5)


def test_no_wish_always_self_censors() -> None:
    for u in (0.0, 0.5, 0.999999):
        assert self_censors(u, 0.3, 0.0)


def test_suppressed_share_matches_risk_over_risk_plus_wish() -> None:
    rng = np.random.default_rng(5)
    risk, wish = 0.3, 0.9
    hits = sum(self_censors(float(u), risk, wish) for u in rng.random(DRAWS))
    p = risk / (risk + wish)
    assert within_binomial(hits, DRAWS, p)
    assert not within_binomial(hits, DRAWS, p + 0.05)  # the bound can fail


# --- displacement (5.6) -------------------------------------------------------------------

PRIVATE = np.array([0, 1, 0], dtype=np.uint8)  # 0 domestic public, 1 private, 2 foreign
FOREIGN = np.array([0, 0, 1], dtype=np.uint8)
NOT_SUSPENDED = np.zeros(1, dtype=np.int64)


def _displace(access_bits: int, p: int, vpn: bool, share: float, rs: np.ndarray):
    access = np.array([access_bits], dtype=np.uint16)
    return displace(access, NOT_SUSPENDED, 0, p, PRIVATE, FOREIGN, vpn, share, 0, rs)


def test_displacement_to_private_then_foreign() -> None:
    rs = stream()
    assert _displace(0b111, 0, True, 1.0, rs) == (1, MOVED_PRIVATE)
    assert _displace(0b111, 0, True, 0.0, rs) == (2, MOVED_FOREIGN)  # no private move: VPN
    assert _displace(0b111, 0, False, 0.0, rs) == (-1, NOT_MOVED)  # and without a VPN
    assert _displace(0b101, 0, True, 1.0, rs) == (2, MOVED_FOREIGN)  # no private account
    assert _displace(0b001, 0, True, 1.0, rs) == (-1, NOT_MOVED)  # no refuge at all


def test_no_displacement_from_a_private_or_foreign_platform_and_no_draw() -> None:
    for p in (1, 2):
        rs = stream()
        before = rs.copy()
        assert _displace(0b111, p, True, 1.0, rs) == (-1, NOT_MOVED)
        assert (rs == before).all()  # the chilling stream is not drawn from


def test_private_displacement_share() -> None:
    rs = stream(11)
    hows = [_displace(0b011, 0, False, 0.35, rs)[1] for _ in range(DRAWS)]
    assert within_binomial(hows.count(MOVED_PRIVATE), DRAWS, 0.35)
    assert hows.count(MOVED_PRIVATE) + hows.count(NOT_MOVED) == DRAWS


# --- deterrence (5.8) ---------------------------------------------------------------------


def test_deterrence_rises_with_punishment() -> None:
    gain = 0.3
    severities = np.linspace(0.0, 1.0, 101)
    d = [deterred(1.0, float(s), 1.0, gain) for s in severities]
    assert not d[0]
    assert d[-1]
    first = d.index(True)
    assert all(d[first:])
    assert not any(d[:first])
    assert severities[first] == pytest.approx(0.3)
    assert deterred(1.0, 0.3, 1.0, 0.3)  # at equality: deterred
    assert not deterred(0.0, 1.0, 2.0, 0.1)  # an unidentifiable actor is never deterred
    assert not deterred(0.5, 0.5, 1.0, 0.3)
    assert deterred(0.5, 0.5, 1.5, 0.3)


# --- feed score (7.6) ---------------------------------------------------------------------


def test_feed_score() -> None:
    assert feed_score(3.0, 1.0, 1.0, 1.0, 0.0, 0.5) == 4.0
    assert feed_score(3.0, 0.0, 0.5, 1.0, 0.0, 0.5) == 0.5  # chronological: no engagement
    assert feed_score(3.0, 2.0, 0.5, 0.2, 0.0, 0.0) == pytest.approx(16.0 * 0.5 * 0.2)
    assert feed_score(3.0, 1.0, 1.0, 1.0, 1.0, 1.0) == 0.0  # full penalty, fully sensitive
    assert feed_score(3.0, 1.0, 1.0, 1.0, 0.5, 0.4) == pytest.approx(4.0 * 0.8)
    scores = [feed_score(e, 0.5, 0.7, 1.0, 0.0, 0.0) for e in (0.0, 1.0, 10.0, 100.0)]
    assert scores == sorted(scores)
    assert scores[0] < scores[-1]


# --- the rules inside the kernels, on a tiny world ----------------------------------------


def _tiny(tiny_world: TinyWorld, fear: float) -> tightrope.Simulation:
    sim = tiny_world("china-comprehensive-2021", users=200, seed=1)
    sim.people.fear[:] = fear
    return sim


def _first_ticks(sim: tightrope.Simulation, ticks: int = 12) -> None:
    for _ in range(ticks):  # before the day's update of fear
        sim.step()


def test_no_fear_no_self_censorship_in_a_run(tiny_world: TinyWorld) -> None:
    sim = _tiny(tiny_world, 0.0)
    _first_ticks(sim)
    assert sim.totals[K.INTENTS] > 0
    assert sim.totals[K.SELF_CENSORED] == 0
    assert sim.totals[K.DISPLACED_PRIVATE] + sim.totals[K.DISPLACED_FOREIGN] == 0


def test_fear_brings_self_censorship_in_a_run(tiny_world: TinyWorld) -> None:
    sim = _tiny(tiny_world, 1.0)
    _first_ticks(sim)
    suppressed = (
        sim.totals[K.SELF_CENSORED]
        + sim.totals[K.DISPLACED_PRIVATE]
        + sim.totals[K.DISPLACED_FOREIGN]
    )
    assert suppressed > 0


def test_active_bad_actors_are_those_not_deterred(tiny_world: TinyWorld) -> None:
    sim = _tiny(tiny_world, 0.1)
    p, c, r = sim.people, sim.consts, sim.rules
    stats, _ = population_stats(p, c, r, 0)
    usable = [
        any(
            can_use(p.member, p.suspended_until, p.vpn, r.live, r.blocked, i, q, 0)
            for q in range(c.n_platforms)
        )
        for i in range(p.kind.size)
    ]
    expected = sum(
        1
        for i in range(p.kind.size)
        if p.kind[i] == BAD_ACTOR
        and usable[i]
        and not deterred(
            identifiability(p.real_name[i], c.data_access),
            c.severity,
            1.0 + r.intensity,
            p.gain[i],
        )
    )
    assert stats[5] == expected
    assert (p.kind == BAD_ACTOR).sum() > 0
