"""Unit tests of the rules of moderation, the regulator's reactions, officials,
mobilisation, platforms' economics, the rules in force, category choice and exposure
(docs/model.md, sections 5.4, 7.1-7.4, 7.7, 8.3, 8.7, 8.8 and 10), each called directly with
hand-chosen inputs, or on a tiny world, and compared with the documented formula written out
here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import DRAWS, TinyWorld, follow_edges, stream, within_binomial
from tightrope.core import counters as K
from tightrope.core.world import (
    HORIZON_MINUTES,
    new_posts,
    new_requests,
    new_review_queues,
    new_tally,
)
from tightrope.model.diffusion import enqueue_review
from tightrope.model.exposure import (
    can_use,
    draw_audience,
    may_use,
    refresh_access,
    region_size,
)
from tightrope.model.mobilisation import count_mobilised_followees, mobilise
from tightrope.model.moderation import heap_pop, heap_push, priority, remove_post
from tightrope.model.officials import serve_answers
from tightrope.model.people import move_toward
from tightrope.model.platforms import Economy, running_cost
from tightrope.model.policy import initial_law, make_rules
from tightrope.model.posting import choose_category
from tightrope.model.reactions import (
    adaptive_intensity,
    incident_happens,
    inspection_checks,
    sensitive_moment,
    suspend_platforms,
)
from tightrope.scenario.content import (
    BAD_ACTOR,
    CATEGORIES,
    INFLUENCER,
    KIND,
    ORDINARY,
    PENDING,
    REMOVED,
    VISIBLE,
)

CAT = {c: i for i, c in enumerate(CATEGORIES)}

# --- the state's reactions (8.3, 8.8, 10) ---------------------------------------------------


def test_inspection_checks(tiny_world: TinyWorld) -> None:
    sc = tiny_world(
        overrides=(
            "state.inspection.staff_per_100k_users=2.0",
            "state.inspection.checks_per_staff_hour=3.0",
        )
    ).scenario
    # staff x n / 1e5 x checks per staff hour x L / 60 x (1 + I)
    assert inspection_checks(sc, 200_000, 60, 0.0) == pytest.approx(4.0 * 3.0)
    assert inspection_checks(sc, 200_000, 30, 0.5) == pytest.approx(4.0 * 3.0 * 0.5 * 1.5)
    assert inspection_checks(sc, 50_000, 120, 1.0) == pytest.approx(1.0 * 3.0 * 2.0 * 2.0)


def test_platform_suspension_at_the_violation_limit(tiny_world: TinyWorld) -> None:
    sc = tiny_world(
        overrides=(
            "state.inspection.suspend_after_violations=3",
            "state.inspection.suspension_days=2.0",
        )
    ).scenario
    window = np.array([3.0, 2.0, 5.0])
    until = np.array([0, 7, 0], dtype=np.int64)
    suspend_platforms(sc, window, until, 1440)
    assert until.tolist() == [1440 + 2 * 1440, 7, 1440 + 2 * 1440]
    assert window.tolist() == [0.0, 2.0, 0.0]  # the window starts again where it was reached
    never = tiny_world(overrides=("state.inspection.suspend_after_violations=0",)).scenario
    window = np.array([100.0, 0.0, 0.0])
    until = np.zeros(3, dtype=np.int64)
    suspend_platforms(never, window, until, 1440)
    assert not until.any()
    assert window[0] == 100.0


def test_incident_needs_the_critical_mass_and_a_day(tiny_world: TinyWorld) -> None:
    sc = tiny_world(overrides=("mobilisation.critical_mass=0.1",)).scenario
    n = 200  # critical mass: 20 users
    assert incident_happens(sc, 20.0, n, 3000, 3000 - 1440)
    assert not incident_happens(sc, 19.0, n, 3000, -(10**9))
    assert not incident_happens(sc, 20.0, n, 3000, 3000 - 1439)  # at most one a day
    zero = tiny_world(overrides=("mobilisation.critical_mass=0.0",)).scenario
    assert not incident_happens(zero, 0.0, n, 3000, -(10**9))  # and someone mobilised
    assert incident_happens(zero, 1.0, n, 3000, -(10**9))


def test_sensitive_moment_is_a_spike_over_the_running_average(tiny_world: TinyWorld) -> None:
    sc = tiny_world(overrides=("state.paid_commenters.trigger_share=0.1",)).scenario
    burst, avg = sensitive_moment(sc, 5.0, 100.0, None, 60)
    assert (burst, avg) == (False, pytest.approx(0.05))  # the first share starts the average
    burst, avg2 = sensitive_moment(sc, 20.0, 100.0, avg, 60)
    assert burst  # 0.2 - 0.05 >= 0.1
    assert avg2 == pytest.approx(0.05 + 60 / 1440 * (0.2 - 0.05))
    burst, _ = sensitive_moment(sc, 14.0, 100.0, 0.05, 60)
    assert not burst  # 0.14 - 0.05 < 0.1
    _, whole = sensitive_moment(sc, 20.0, 100.0, 0.05, 2880)
    assert whole == pytest.approx(0.2)  # the step is capped at the whole gap
    burst, avg = sensitive_moment(sc, 0.0, 0.0, 0.3, 60)  # no posts: share 0
    assert not burst
    assert avg == pytest.approx(0.3 - 60 / 1440 * 0.3)


def test_adaptive_intensity(tiny_world: TinyWorld) -> None:
    sets = (
        "state.adaptive.enabled=true",
        "state.adaptive.mobilisation_threshold=0.1",
        "state.adaptive.discontent_threshold=0.5",
        "state.adaptive.step=0.25",
        "state.adaptive.max_intensity=0.6",
    )
    sc = tiny_world(overrides=sets).scenario
    n = 100
    assert adaptive_intensity(sc, 0.2, 11.0, 0.0, n) == pytest.approx(0.45)  # tighten
    assert adaptive_intensity(sc, 0.5, 11.0, 90.0, n) == pytest.approx(0.6)  # up to the max
    assert adaptive_intensity(sc, 0.5, 10.0, 51.0, n) == pytest.approx(0.25)  # relax
    assert adaptive_intensity(sc, 0.1, 0.0, 51.0, n) == 0.0  # not below 0
    assert adaptive_intensity(sc, 0.3, 10.0, 50.0, n) == 0.3  # neither passed
    off = tiny_world(overrides=("state.adaptive.enabled=false",)).scenario
    assert adaptive_intensity(off, 0.3, 100.0, 0.0, n) == 0.3


# --- mobilisation (10), in the kernel -------------------------------------------------------


def _followee_counts(sim, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(accounts each user follows, how many of them have `flags` set), from the edges."""
    g = sim.graph
    followee, follower = follow_edges(g)
    followees = np.bincount(follower, minlength=g.n)
    flagged = np.bincount(follower, weights=flags[followee].astype(np.float64), minlength=g.n)
    return followees, flagged.astype(np.int64)


def test_count_mobilised_followees_counts_the_flagged_accounts_followed(
    tiny_world: TinyWorld,
) -> None:
    sim = tiny_world(users=300)
    g = sim.graph
    flags = (np.random.default_rng(4).random(g.n) < 0.3).astype(np.uint8)
    out = np.full(g.n, 99, dtype=np.int32)  # stale values are cleared
    count_mobilised_followees(flags, g.followers_ptr, g.followers_idx, out)
    followees, want = _followee_counts(sim, flags)
    assert np.array_equal(out, want)
    assert np.array_equal(sim.followees, followees)
    assert 0 < out.sum() < followees.sum()


def test_mobilise_decays_calls_and_applies_both_thresholds(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=300)
    pp, g = sim.people, sim.graph
    n = pp.kind.size
    rng = np.random.default_rng(2)
    pp.calls_seen[:] = rng.uniform(0.0, 10.0, n).astype(pp.calls_seen.dtype)
    pp.grievance[:] = rng.uniform(0.0, 1.0, n).astype(pp.grievance.dtype)
    pp.threshold[:] = rng.uniform(0.5, 4.0, n).astype(pp.threshold.dtype)
    pp.peer_threshold[:] = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.0, 0.6, n))
    before = (rng.random(n) < 0.4).astype(np.uint8)
    pp.mobilised[:] = before
    calls = pp.calls_seen.astype(np.float64) * (1.0 - 0.5) ** (360 / 1440)
    gr = pp.grievance.astype(np.float64)
    followees, peers = _followee_counts(sim, before)
    peer_ok = (pp.peer_threshold <= 0) | (
        (followees > 0) & (peers >= pp.peer_threshold.astype(np.float64) * followees)
    )
    called = (gr >= 0.3) & (calls * gr >= pp.threshold)
    want = called & peer_ok
    got = mobilise(pp, g.followers_ptr, g.followers_idx, sim.followees, sim.peers, 360, 0.5, 0.3)
    assert np.allclose(pp.calls_seen, calls, rtol=1e-6)
    assert got == int(want.sum())
    assert 0 < got < int(called.sum())  # the peer rule holds some of the called back
    assert np.array_equal(pp.mobilised != 0, want)  # demobilisation too


# --- the rules in force (7.1) ---------------------------------------------------------------


def test_flag_and_removal_chances_follow_the_formulas(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200, overrides=("state.rulebook.precision=0.4",))
    sc, consts = sim.scenario, sim.consts
    law = initial_law(sc)
    effort = np.array([0.5, 1.0, 0.8])
    zeros = np.zeros(3, dtype=np.uint8)
    rules = make_rules(sc, consts, law, effort, zeros, zeros + 1, 0.5, 1.0, 0)
    boost = 1.5
    for j, name in enumerate(sim.names):
        mod = sc.platforms[name].moderation
        regulated = bool(consts.p_regulated[j])
        for c, k in CAT.items():
            sev = law.prohibited[k] if regulated else 0.0
            assert rules.state_prohibited[j, k] == sev
            terms = 1.0 if c in mod.terms_prohibited else 0.0
            enforced = max(terms, sev if mod.enforce_state_rules else 0.0)
            assert rules.enforced[j, k] == enforced
            vague = (1 - 0.4) * consts.cat_sensitivity[k]
            vague = vague if regulated and mod.enforce_state_rules else 0.0
            det = getattr(mod.filter.detection, c)
            if enforced > 0:
                flag = det * effort[j] * boost
                remove = mod.review_accuracy
            else:
                flag = (mod.filter.false_positive + vague * boost) * effort[j]
                remove = (1 - mod.review_accuracy) + vague * boost
            assert rules.flag_prob[j, k] == pytest.approx(min(1.0, max(0.0, flag)))
            assert rules.remove_prob[j, k] == pytest.approx(min(1.0, max(0.0, remove)))
    assert rules.enforced[:, CAT["illegal_harm"]].min() > 0  # the case covers both branches
    assert rules.flag_prob[0, CAT["criticism"]] > rules.flag_prob[0, CAT["daily_life"]]


# --- the review queue (7.3) -----------------------------------------------------------------


def test_priority_weights(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    r, c = sim.rules, sim.consts
    harm, life = CAT["illegal_harm"], CAT["daily_life"]
    sev = r.enforced[0, harm]
    assert sev > 0
    assert priority(c, r, 0, harm, False, False) == pytest.approx(10.0 * sev)
    assert priority(c, r, 0, harm, True, True) == pytest.approx(10.0 * sev + 2.0 + 1.0)
    assert priority(c, r, 0, life, True, False) == pytest.approx(2.0)
    assert priority(c, r, 0, life, False, True) == pytest.approx(1.0)


def test_review_queue_order_is_key_then_arrival_then_post_id() -> None:
    q = new_review_queues(1, 64)
    items = [
        (1.0, 5, 10),
        (10.0, 9, 30),
        (2.0, 3, 20),
        (10.0, 4, 30),
        (10.0, 8, 25),
        (1.0, 2, 10),
        (3.0, 1, 5),
    ]  # (key, post id, arrival)
    for key, pid, arrival in items:
        assert heap_push(q, 0, key, pid, arrival)
    popped = [heap_pop(q, 0) for _ in items]
    want = sorted(items, key=lambda x: (-x[0], x[2], x[1]))
    assert popped == [(pid, arrival) for _, pid, arrival in want]
    assert q.size[0] == 0
    full = new_review_queues(1, 2)
    assert heap_push(full, 0, 1.0, 1, 0)
    assert heap_push(full, 0, 1.0, 2, 0)
    assert not heap_push(full, 0, 1.0, 3, 0)  # full: refused


# --- removal, strikes, referrals (7.4) ------------------------------------------------------


def _one_post(sim, author: int, cat: int, p: int = 0, created: int = 100):
    posts = new_posts(8)
    posts.pid[0], posts.author[0], posts.platform[0] = 0, author, p
    posts.cat[0], posts.created[0], posts.state[0] = cat, created, VISIBLE
    posts.counts[1 + VISIBLE] = 1
    posts.queued[0] = 1
    return posts


def test_remove_post_consequences_for_the_author(tiny_world: TinyWorld) -> None:
    # without a statement of reasons (eu-dsa's microblog gives one: test_appeals.py)
    sim = tiny_world(
        users=200, overrides=("platforms.microblog.moderation.appeals.statement_of_reasons=false",)
    )
    pp, consts, rules = sim.people, sim.consts, sim.rules
    g = sim.graph
    a = 3
    crit = CAT["criticism"]  # legitimate, not enforced on eu-dsa's microblog
    assert rules.enforced[0, crit] == 0
    pp.fear[a], pp.grievance[a], pp.trust[a], pp.strikes[a] = 0.2, 0.5, 0.5, 0
    posts = _one_post(sim, a, crit)
    tally = new_tally(sim.pc.shape[0])
    tc, pc, hist = tally.tick, tally.platform, tally.minutes
    remove_post(
        posts,
        pp,
        g.followers_ptr,
        g.followers_idx,
        consts,
        rules,
        0,
        160.0,
        K.ROUTE_REPORT,
        tally,
        stream("punishment"),
        sim.cal,
        stream("appeals"),
    )
    assert posts.state[0] == REMOVED
    # counted for its category, by its route, with its time
    assert tally.category[crit, K.ROUTE_REPORT] == 1
    assert tally.category[:, [K.C[r] for r in K.ROUTES]].sum() == 1
    assert tally.category[crit, K.CAT_WRONGFUL_REMOVED] == 1
    assert tally.category_minutes[crit, 60] == 1
    assert tally.category_minutes.sum() == 1
    assert posts.queued[0] == 0
    assert (tc[K.REMOVED], tc[K.REMOVED_PUBLISHED], tc[K.WRONGFUL_REMOVED]) == (1, 1, 1)
    assert pc[0, K.P_REMOVED] == 1
    assert hist[K.HIST_REMOVAL, 60] == 1  # 60 minutes from creation to removal
    assert pp.day_removed[a] == 1
    assert pp.fear[a] == pytest.approx(0.2 + 0.05 * (1 - 0.2), rel=1e-6)
    assert pp.grievance[a] == pytest.approx(0.5 + 0.05, rel=1e-6)
    assert pp.trust[a] == pytest.approx(0.5 - 0.03, rel=1e-6)
    assert pp.strikes[a] == 0  # not enforced: no strike
    assert tc[K.REFERRALS] == 0


def test_strikes_suspend_at_the_limit(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp, consts, rules = sim.people, sim.consts, sim.rules
    g = sim.graph
    a = 4
    harm = CAT["illegal_harm"]
    limit = int(consts.p_strike_limit[0])
    pp.strikes[a] = limit - 2
    pp.suspended_until[a] = 0
    fear, grievance, trust = float(pp.fear[a]), float(pp.grievance[a]), float(pp.trust[a])
    for k in range(2):
        posts = _one_post(sim, a, harm)
        posts.state[0] = PENDING if k else VISIBLE  # the second one held
        tally = new_tally(sim.pc.shape[0])
        tc = tally.tick
        consts0 = consts._replace(severity=0.0)  # referrals, but no punishment
        remove_post(
            posts,
            pp,
            g.followers_ptr,
            g.followers_idx,
            consts0,
            rules,
            0,
            500.0,
            K.ROUTE_INSPECTION,
            tally,
            stream("punishment"),
            sim.cal,
            stream("appeals"),
        )
        assert tally.category[harm, K.ROUTE_INSPECTION] == 1
        assert tally.category_minutes.sum() == (0 if k else 1)  # a held post has no time
        assert tc[K.WRONGFUL_REMOVED] == 0  # illegal harm is not legitimate
        assert tc[K.REFERRALS] == (1 if rules.state_prohibited[0, harm] >= 1.0 else 0)
    assert tc[K.HELD_REMOVED] == 1
    assert pp.strikes[a] == 0  # reset at the limit
    assert pp.suspended_until[a] == 500 + consts.p_suspension_minutes[0]
    assert consts.p_suspension_minutes[0] == 7 * 1440  # eu-dsa: suspension_days 7
    assert pp.grievance[a] == pytest.approx(grievance)
    assert pp.trust[a] == pytest.approx(trust)
    f = fear + 0.05 * (1 - fear)
    assert pp.fear[a] == pytest.approx(f + 0.05 * (1 - f), rel=1e-6)


def test_a_referral_punishes_at_identifiability_times_severity(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200, overrides=("state.identity.data_access=0.5",))
    pp, rules = sim.people, sim.rules
    g = sim.graph
    harm = CAT["illegal_harm"]
    assert rules.state_prohibited[0, harm] >= sim.consts.p_referral[0]
    consts = sim.consts._replace(severity=0.6)
    a = int(np.argmin(np.diff(g.followers_ptr)))
    pp.real_name[a] = 0
    rs = stream("punishment")
    n = 4000
    punished = 0
    for _ in range(n):
        pp.suspended_until[a] = 0
        posts = _one_post(sim, a, harm)
        tally = new_tally(sim.pc.shape[0])
        tc = tally.tick
        remove_post(
            posts, pp, g.followers_ptr, g.followers_idx, consts, rules, 0, 200.0,
            K.ROUTE_FILTER, tally, rs, sim.cal, stream("appeals"),
        )  # fmt: skip
        assert tc[K.REFERRALS] == 1
        punished += int(tc[K.PUNISHED])
    assert within_binomial(punished, n, 0.5 * 0.6)  # ident (data access) x severity


# --- officials' answer queue (8.7) ----------------------------------------------------------


def test_serve_answers_capacity_expiry_and_fifo(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp = sim.people
    consts = sim.consts._replace(
        answers_per_minute=1.5,
        working_hours=np.array([9, 17], dtype=np.float64),
        give_up_minutes=100.0,
        resolution=1.0,
        idle_carry_answers=1.0,
    )
    req = new_requests(16)
    users = [10, 11, 12, 13]
    arrivals = [0, 950, 960, 970]
    for k, (u, m) in enumerate(zip(users, arrivals, strict=True)):
        req.user[0, k], req.arrival[0, k] = u, m
        pp.grievance[u], pp.trust[u] = 0.5, 0.5
    req.ends[0] = [0, 4, 0, 0]
    tc, hist = np.zeros_like(sim.tc), np.zeros_like(sim.hist)
    rs = stream("officials")
    serve_answers(1000, 16, req, pp, consts, tc, hist, rs)
    # the first waited 1000 > 100 minutes: given up; credit 1.5 answers one, keeps 0.5
    assert tc[K.EXPIRED_REQUESTS] == 1
    assert tc[K.ANSWERED] == 1
    assert pp.grievance[10] == pytest.approx(0.6)
    assert pp.trust[10] == pytest.approx(0.45)
    assert pp.grievance[11] == pytest.approx(0.3)  # resolved: -0.2, trust +0.1
    assert pp.trust[11] == pytest.approx(0.6)
    assert req.ends[0, 0] == 2
    assert req.ends[0, 2] == 500_000
    serve_answers(1001, 16, req, pp, consts, tc, hist, rs)  # credit 2: answers both
    assert tc[K.ANSWERED] == 3
    assert pp.grievance[12] == pytest.approx(0.3)
    assert req.ends[0, 2] == 0  # used up
    req.user[0, 4], req.arrival[0, 4] = 14, 1002
    req.ends[0, 1] = 5
    serve_answers(1002, 17, req, pp, consts, tc, hist, rs)  # out of hours: waits
    assert tc[K.ANSWERED] == 3
    assert req.ends[0, 2] == 0  # no credit out of hours
    serve_answers(1200, 17, req, pp, consts, tc, hist, rs)  # expires out of hours too
    assert tc[K.EXPIRED_REQUESTS] == 2
    serve_answers(1201, 10, req, pp, consts, tc, hist, rs)  # idle: credit capped at 1
    assert req.ends[0, 2] == 1_000_000


def test_unresolved_answers_at_the_resolution_chance(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp = sim.people
    consts = sim.consts._replace(
        answers_per_minute=1e6,
        working_hours=np.array([0, 24], dtype=np.float64),
        give_up_minutes=1e9,
        resolution=0.3,
    )
    n = 4000
    req = new_requests(n)
    req.user[0] = np.arange(n) % pp.kind.size
    req.ends[0] = [0, n, 0, 0]
    tc, hist = np.zeros_like(sim.tc), np.zeros_like(sim.hist)
    serve_answers(10, 12, req, pp, consts, tc, hist, stream("officials"))
    assert tc[K.ANSWERED] == n
    assert within_binomial(int(tc[K.ANSWERED_RESOLVED]), n, 0.3)


# --- category choice (5.4) ------------------------------------------------------------------


def test_category_shares_follow_the_weights() -> None:
    share = np.array([0.5, 0.1, 0.1, 0.2, 0.05, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    gboost = np.array([0.0, 0.0, 2.0, 3.0, 6.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert share.size == len(CATEGORIES)
    rs = stream("category")
    g = 0.5
    for mobilised, boost in ((False, 1.0), (True, 3.0)):
        w = share * (1.0 + g * gboost)
        if mobilised:
            w[CAT["collective_action"]] *= 20.0
        w[CAT["service_request"]] *= boost
        picks = np.array(
            [
                choose_category(share, gboost, boost, mobilised, g, ORDINARY, 0.7, 20.0, rs)
                for _ in range(DRAWS)
            ]
        )
        for c in ("daily_life", "criticism", "collective_action", "service_request"):
            hits = int((picks == CAT[c]).sum())
            assert within_binomial(hits, DRAWS, w[CAT[c]] / w.sum()), c
        assert not (picks >= CAT["illegal_harm"]).any()  # weight 0: never drawn
    inf = [
        choose_category(share, gboost, 1.0, False, 0.0, INFLUENCER, 0.7, 20.0, rs)
        for _ in range(2000)
    ]
    assert within_binomial(inf.count(0), 2000, 0.5)


def test_fixed_categories_of_the_other_kinds() -> None:
    share = np.full(len(CATEGORIES), 1.0)
    gboost = np.zeros(len(CATEGORIES))
    rs = stream("category")
    fixed = {
        "media_accredited": "accredited_news",
        "media_independent": "independent_news",
        "commercial": "commerce",
        "paid_commenter": "cheerleading",
        "official": "official",
    }
    for kind, cat in fixed.items():
        assert (
            choose_category(share, gboost, 1.0, False, 0.5, KIND[kind], 0.7, 20.0, rs) == CAT[cat]
        )
    picks = [
        choose_category(share, gboost, 1.0, False, 0.5, BAD_ACTOR, 0.7, 20.0, rs)
        for _ in range(DRAWS)
    ]
    assert set(picks) == {CAT["illegal_harm"], CAT["rumor"]}
    assert within_binomial(picks.count(CAT["illegal_harm"]), DRAWS, 0.7)


# --- access and audiences (7.2, 7.4) --------------------------------------------------------


def test_can_use_and_the_access_bits_agree(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp = sim.people
    member = np.array([0b011, 0b111, 0b100, 0b111], dtype=pp.member.dtype)
    until = np.array([0, 0, 0, 500], dtype=np.int64)
    vpn = np.array([0, 0, 1, 0], dtype=pp.vpn.dtype)
    live = np.array([1, 0, 1], dtype=np.uint8)
    blocked = np.array([0, 0, 1], dtype=np.uint8)
    want = {  # (user, platform, now): member and not suspended and live and (open or VPN)
        (0, 0, 0): True,
        (0, 1, 0): False,
        (0, 2, 0): False,
        (1, 2, 0): False,
        (2, 2, 0): True,
        (3, 0, 0): False,
        (3, 0, 500): True,
        (3, 2, 600): False,
    }
    for (i, p, now), ok in want.items():
        assert can_use(member, until, vpn, live, blocked, i, p, now) == ok, (i, p, now)
    n = 4
    pp.member[:n], pp.suspended_until[:n], pp.vpn[:n] = member, until, vpn
    rules = sim.rules._replace(live=live, blocked=blocked)
    refresh_access(pp, rules, 0)
    for (i, p, now), ok in want.items():
        assert may_use(pp.access, pp.suspended_until, i, p, now) == ok, (i, p, now)


def test_region_size() -> None:
    assert region_size(1000, 0.0) == 0
    mu = 1000 * 0.1
    assert region_size(1000, 0.1) == int(mu + 6 * math.sqrt(mu) + 16)
    assert region_size(10, 0.5) == 10  # at most one per member
    assert region_size(50, 2.0) == 50


def test_audience_share_is_see_chance_times_reach(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp, consts, g = sim.people, sim.consts, sim.graph
    p = 0  # eu-dsa's microblog: public
    assert consts.p_private[p] == 0
    sharer = int(np.argmax(np.diff(g.followers_ptr)))
    followers = g.followers_idx[g.followers_ptr[sharer] : g.followers_ptr[sharer + 1]]
    pp.member[:] = 1 << p
    pp.suspended_until[:] = 0
    cut = followers[: followers.size // 4]  # these cannot use the platform
    pp.member[cut] = 0
    refresh_access(pp, sim.rules, 0)
    posts = new_posts(4)
    posts.platform[0], posts.reach[0], posts.state[0] = p, 0.6, VISIBLE
    chance = float(consts.p_see[p]) * 0.6
    rs = stream("exposure")
    out_slot = np.zeros(followers.size, dtype=np.int32)
    out_viewer = np.zeros(followers.size, dtype=np.int32)
    tries, seen, able = 400, 0, followers.size - cut.size
    start = 1000
    where = {int(v): e for e, v in enumerate(followers)}
    for _ in range(tries):
        k = draw_audience(posts, 0, sharer, start, pp, consts, g, rs, out_slot, out_viewer, 0,
                          followers.size)  # fmt: skip
        assert k >= 0
        viewers = out_viewer[:k]
        assert np.isin(viewers, followers).all()
        assert not np.isin(viewers, cut).any()  # only those who can use the platform
        order = [where[v] for v in viewers.tolist()]
        assert order == sorted(set(order))  # in audience order, each at most once
        d = (out_slot[:k] - start % HORIZON_MINUTES) % HORIZON_MINUTES
        assert (d >= 1).all()  # at 1 + a delay
        seen += k
    # each able follower sees it w.p. see chance x reach (a few are lost past the horizon)
    assert within_binomial(
        seen,
        tries * able,
        chance * (1 - math.exp(-(HORIZON_MINUTES - 1) / float(consts.p_delay[p]))),
    )


def test_enqueue_review_once_with_its_priority(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    consts, rules = sim.consts, sim.rules
    q = new_review_queues(3, 16)
    posts = new_posts(4)
    harm = CAT["illegal_harm"]
    posts.pid[0], posts.platform[0], posts.cat[0], posts.state[0] = 7, 0, harm, PENDING
    tc = np.zeros_like(sim.tc)
    assert consts.p_reviewers[0] * rules.effort[0] > 0
    enqueue_review(q, posts, consts, rules, 0, 300, True, tc)
    enqueue_review(q, posts, consts, rules, 0, 301, False, tc)  # already queued: no change
    assert q.size[0] == 1
    assert posts.queued[0] == 1
    assert posts.queued_by[0] == 1  # a report queued it: the route of a removal to follow
    assert q.key[0, 0] == pytest.approx(10.0 * rules.enforced[0, harm] + 2.0 + 1.0)
    assert (q.post[0, 0], q.arrival[0, 0]) == (7, 300)
    nobody = rules._replace(effort=np.zeros_like(rules.effort))
    posts.queued[0] = 0
    enqueue_review(q, posts, consts, nobody, 0, 302, False, tc)  # no review team: not queued
    assert q.size[0] == 1
    assert posts.queued[0] == 0


# --- economics (7.7) ------------------------------------------------------------------------


def test_revenue_cost_and_profit_of_a_tick(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    sc, n = sim.scenario, 200
    eco = Economy(sc, n)
    pc = np.zeros_like(sim.pc)
    pc[:, K.P_VIEWS] = [5000.0, 2000.0, 0.0]
    pc[:, K.P_COMMERCE] = [10.0, 0.0, 4.0]
    pc[:, K.P_SCANNED] = [3000.0, 1000.0, 500.0]
    pc[:, K.P_FINES] = [100.0, 0.0, 0.0]
    money = eco.tick(9 * 60, 60, pc, 0.0)  # 9:00-10:00
    for j, name in enumerate(sim.names):
        pl = sc.platforms[name]
        e, m = pl.economics, pl.moderation
        revenue = pc[j, K.P_VIEWS] / 1000 * e.ad_revenue_per_1000_views
        revenue += pc[j, K.P_COMMERCE] * e.commerce_revenue_per_post
        lo, hi = m.reviewer_hours
        hours = 1.0 if lo <= 9 < hi else 0.0
        reviewers = m.reviewers_per_100k_users * n / 1e5
        effort = pl.compliance.effort
        cost = reviewers * effort * hours * e.reviewer_cost_per_hour
        cost += pc[j, K.P_SCANNED] / 1000 * m.filter.cost_per_1000_posts * effort
        running = revenue * e.running_cost_share + e.fixed_cost_per_day * 60 / 1440
        profit = revenue - cost - pc[j, K.P_FINES] - running
        assert money[:, j] == pytest.approx([revenue, cost, pc[j, K.P_FINES], profit])
    assert money[0, 0] > 0
    assert sc.platforms[sim.names[0]].economics.running_cost_share > 0


def test_running_cost_is_a_share_of_revenue_plus_the_fixed_cost() -> None:
    revenue = np.array([0.0, 10.0, 40.0])
    share = np.array([0.5, 0.5, 0.25])
    fixed = np.array([0.0, 24.0, 0.0])
    got = running_cost(revenue, share, fixed, 60)
    assert got == pytest.approx([0.0, 5.0 + 1.0, 10.0])
    # twice the revenue, twice the share's part; a whole day, the whole fixed cost
    assert running_cost(2 * revenue, share, fixed, 1440) == pytest.approx([0.0, 34.0, 20.0])


# --- people's small rules -------------------------------------------------------------------


def test_move_toward() -> None:
    assert move_toward(0.2, 0.6, 0.25) == pytest.approx(0.3)
    assert move_toward(0.8, 0.4, 0.5) == pytest.approx(0.6)
    assert move_toward(0.3, 0.9, 0.0) == 0.3
    assert move_toward(0.3, 0.9, 1.0) == pytest.approx(0.9)
