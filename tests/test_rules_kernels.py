"""Unit tests of the kernels' rules that had none: the regulator's inspections (8.3), the
effects of a view on its viewer and the engagement pass (5.9, 7.5), the feed's decay and
slot draws (7.6), moving to the platform of highest appeal (5.7) and the goal scores and
summary (11.1-11.2). Each is called directly with hand-chosen inputs on a tiny world and
compared with the documented formula written out here; random rules as shares within
binomial bounds."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tightrope
from helpers import TinyWorld, stream, within_binomial
from tightrope.core import counters as K
from tightrope.core.world import ViewLog
from tightrope.model.diffusion import (
    C_CRITICISM,
    C_HARM,
    C_LOST,
    C_PLATFORM_VIEWS,
    C_PROHIBITED_VIEWS,
    C_RUMOR,
    C_VIEWS,
    COUNTED,
    PART_COUNTERS,
    RESHARED,
    add_engagement,
    view_parts,
)
from tightrope.model.exposure import may_use, refresh_access
from tightrope.model.feed import feed_tick, new_candidates, new_feed_views
from tightrope.model.metrics import scores, summary, weighted_mean
from tightrope.model.people import _best_platform
from tightrope.model.regulator import inspect
from tightrope.scenario.content import CATEGORIES, REMOVED, VISIBLE
from tightrope.scenario.schema import FreedomWeights

CAT = {c: i for i, c in enumerate(CATEGORIES)}


def _put(posts, pid: int, cat: str, platform: int = 0, author: int = 0, created: int = 0):
    """A visible post `pid` of category `cat` in its slot of the ring."""
    slot = pid & (posts.pid.size - 1)
    posts.pid[slot], posts.cat[slot], posts.platform[slot] = pid, CAT[cat], platform
    posts.author[slot], posts.created[slot], posts.state[slot] = author, created, VISIBLE
    posts.reach[slot] = 1.0
    posts.engagement[slot] = 0.0
    return slot


# --- the regulator's inspections (8.3) ------------------------------------------------------


def _inspect(sim, checks, fine, growth, window, views, rs, rs_punish=None) -> None:
    inspect(
        1440,
        checks,
        fine,
        growth,
        window,
        views,
        sim.world(),
        sim.tally,
        rs,
        stream("punishment") if rs_punish is None else rs_punish,
        stream("appeals"),
    )


def test_inspection_finds_removes_and_fines_a_visible_prohibited_post(
    tiny_world: TinyWorld,
) -> None:
    sim = tiny_world(users=200)
    posts, rules = sim.posts, sim.rules
    harm, life = CAT["illegal_harm"], CAT["daily_life"]
    assert rules.state_prohibited[0, harm] > 0
    assert rules.state_prohibited[0, life] == 0
    a = _put(posts, 0, "illegal_harm", author=3)  # visible and prohibited
    b = _put(posts, 1, "illegal_harm", author=4)  # a second one, same platform
    c = _put(posts, 2, "daily_life", author=5)  # lawful
    d = _put(posts, 3, "illegal_harm", author=6)  # prohibited but already removed
    posts.state[d] = REMOVED
    sim.view_log[0, :4] = [0, 1, 2, 3]
    sim.view_meta[0] = 4
    window = np.array([2.0, 0.0, 0.0])
    _inspect(sim, 60.0, 100.0, 0.1, window, sim.views, stream("inspection"))
    tc, pc = sim.tc, sim.pc
    # with about 60 checks of four views, both visible prohibited posts are found, once each
    assert posts.state[a] == REMOVED
    assert posts.state[b] == REMOVED
    assert posts.state[c] == VISIBLE  # lawful: left alone
    assert tc[K.REGULATOR_VIOLATIONS] == 2
    assert pc[0, K.P_VIOLATIONS] == 2
    assert pc[1:, K.P_VIOLATIONS].sum() == 0
    # fine x (1 + growth x W), W = 2 then 3
    fines = 100.0 * (1 + 0.1 * 2) + 100.0 * (1 + 0.1 * 3)
    assert tc[K.FINES] == pytest.approx(fines)
    assert pc[0, K.P_FINES] == pytest.approx(fines)
    assert window.tolist() == [4.0, 0.0, 0.0]
    assert tc[K.REMOVED] == 2  # removed through remove_post (7.4)
    assert sim.people.day_removed[3] == 1
    assert sim.people.day_removed[5] == 0
    assert tc[K.REGULATOR_CHECKS] > 20


def test_inspection_without_views_or_checks_does_nothing(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    a = _put(sim.posts, 0, "illegal_harm")
    sim.view_log[0, 0] = 0
    window = np.zeros(3)
    _inspect(sim, 50.0, 100.0, 0.1, window, sim.views, stream("inspection"))  # seen = 0
    sim.view_meta[0] = 1
    _inspect(sim, 0.0, 100.0, 0.1, window, sim.views, stream("inspection"))  # no checks
    assert sim.posts.state[a] == VISIBLE
    assert sim.tc[K.REGULATOR_CHECKS] == 0
    assert sim.tc[K.FINES] == 0
    assert not window.any()


def test_inspection_checks_are_poisson_with_the_expected_mean(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    for pid in range(4):
        _put(sim.posts, pid, "daily_life")  # lawful: nothing changes between ticks
    sim.view_log[0, :4] = [0, 1, 2, 3]
    sim.view_meta[0] = 4
    rs, window = stream("inspection"), np.zeros(3)
    mean, ticks, zero, total = 2.5, 3000, 0, 0.0
    for _ in range(ticks):
        sim.tc[:] = 0.0
        _inspect(sim, mean, 100.0, 0.1, window, sim.views, rs)
        n = sim.tc[K.REGULATOR_CHECKS]
        total += n
        zero += n == 0
    assert abs(total / ticks - mean) <= 5.0 * math.sqrt(mean / ticks)
    assert within_binomial(zero, ticks, math.exp(-mean))  # P(no check) of a Poisson
    assert sim.tc[K.REGULATOR_VIOLATIONS] == 0
    assert not window.any()


def test_a_check_picks_a_view_in_proportion_to_each_parts_views(tiny_world: TinyWorld) -> None:
    """Part 0 saw 3,000 views (its sample of four: lawful), part 1 saw 1,000 (one of its
    four sampled is prohibited): a check finds it w.p. 1/4 x 1/4, so a tick of
    Poisson(lam) checks finds it w.p. 1 - exp(-lam / 16)."""
    sim = tiny_world(users=200)
    posts = sim.posts
    for pid in range(7):
        _put(posts, pid, "daily_life", author=10 + pid)
    bad = _put(posts, 7, "illegal_harm", author=20)
    sample = np.array([[0, 1, 2, 3], [4, 5, 7, 6]], dtype=np.int64)
    views = ViewLog(sample, np.array([3000, 1000], dtype=np.int64))
    rs, rs_punish = stream("inspection"), stream("punishment")
    lam, ticks, found = 4.0, 3000, 0
    for _ in range(ticks):
        posts.state[bad], posts.queued[bad] = VISIBLE, 0
        before = sim.tc[K.REGULATOR_VIOLATIONS]
        _inspect(sim, lam, 1.0, 0.0, np.zeros(3), views, rs, rs_punish)
        found += sim.tc[K.REGULATOR_VIOLATIONS] > before
    assert within_binomial(found, ticks, 1.0 - math.exp(-lam / 16.0))


# --- a view's effects on its viewer (5.9, 7.5) ---------------------------------------------


def _run_views(sim, pids, viewers, minute: int = 10):
    n = len(pids)
    buf_post = np.array(pids, dtype=np.int64)
    buf_viewer = np.array(viewers, dtype=np.int32)
    outcome = np.zeros(n, dtype=np.uint8)
    start = np.array([0, n], dtype=np.int64)
    counters = np.zeros((1, PART_COUNTERS))
    keys = np.array([11, 12, 13], dtype=np.uint64)
    streams = np.zeros((1, 3, 4), dtype=np.uint64)
    view_parts(
        minute, minute, start, buf_post, buf_viewer, outcome, sim.posts, sim.people, sim.consts,
        sim.rules, counters, keys, streams, sim.view_log, sim.view_meta,
    )  # fmt: skip
    return counters[0], outcome


def test_view_effects_on_the_viewer(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp, c = sim.people, sim.consts
    refresh_access(pp, sim.rules, 0)
    users = [i for i in range(200) if may_use(pp.access, pp.suspended_until, i, 0, 10)]
    assert len(users) >= 12
    cats = ["rumor", "criticism", "collective_action", "official", "cheerleading",
            "illegal_harm", "daily_life"]  # fmt: skip
    for pid, cat in enumerate(cats):
        _put(sim.posts, pid, cat)
    v = dict(zip(cats, users, strict=False))
    top, bottom = users[7], users[8]  # grievance at the bounds
    gone, barred = users[9], users[10]  # a removed post; a suspended viewer
    pp.susceptibility[v["rumor"]], pp.susceptibility[v["criticism"]] = 0.6, 0.8
    pp.susceptibility[top] = 1.0
    for u in users:
        pp.grievance[u], pp.trust[u], pp.calls_seen[u] = 0.4, 0.3, 2.0
        pp.day_harm[u], pp.day_views[u] = 0.0, 0.0
    pp.grievance[top], pp.grievance[bottom] = 0.995, 0.001
    _put(sim.posts, 7, "rumor")
    sim.posts.state[7] = REMOVED
    pp.suspended_until[barred] = 10**6
    refresh_access(pp, sim.rules, 0)
    before = {f: getattr(pp, f).copy() for f in ("grievance", "trust", "calls_seen", "day_views")}
    pids = [0, 1, 2, 3, 4, 5, 6, 0, 4, 7, 3]
    viewers = [v[x] for x in cats] + [top, bottom, gone, barred]
    row, outcome = _run_views(sim, pids, viewers)
    g = pp.grievance
    assert g[v["rumor"]] == pytest.approx(0.4 + 0.01 * 0.6, rel=1e-6)
    assert g[v["criticism"]] == pytest.approx(0.4 + 0.005 * 0.8, rel=1e-6)
    assert pp.calls_seen[v["collective_action"]] == 3.0
    assert pp.trust[v["official"]] == pytest.approx(0.3 + 0.002, rel=1e-6)
    assert g[v["cheerleading"]] == pytest.approx(0.4 - 0.002, rel=1e-6)
    assert pp.day_harm[v["illegal_harm"]] == pytest.approx(c.cat_harm[CAT["illegal_harm"]])
    assert c.cat_harm[CAT["illegal_harm"]] > 0
    assert g[top] == 1.0
    assert g[bottom] == 0.0
    # the constants are the documented ones
    assert (c.rumor_grievance_rise, c.criticism_grievance_rise) == (0.01, 0.005)
    assert (c.official_trust_rise, c.cheerleading_grievance_fall) == (0.002, 0.002)
    # what a view does not touch
    for u in (v["daily_life"], v["illegal_harm"], gone, barred):
        assert g[u] == before["grievance"][u]
        assert pp.trust[u] == before["trust"][u]
        assert pp.calls_seen[u] == before["calls_seen"][u]
    for u in (gone, barred):  # neither counts
        assert pp.day_views[u] == before["day_views"][u]
    counted = 9
    for u in viewers[:9]:
        assert pp.day_views[u] == before["day_views"][u] + 1
    assert row[C_VIEWS] == counted
    assert row[C_PLATFORM_VIEWS] == counted
    assert row[C_LOST] == 1
    assert row[C_RUMOR] == 2
    assert row[C_CRITICISM] == 1
    harm = c.cat_harm[CAT["illegal_harm"]] + 2 * c.cat_harm[CAT["rumor"]]  # two rumour views
    assert row[C_HARM] == pytest.approx(harm)
    assert row[C_PROHIBITED_VIEWS] == 1  # the illegal harm view
    assert [bool(o & COUNTED) for o in outcome] == [True] * 9 + [False] * 2
    assert sim.view_meta[0] == counted  # regulated platform: every counted view is sampled
    assert sorted(sim.view_log[0, :counted].tolist()) == sorted(pids[:9])


def test_add_engagement_per_view_and_reshare_whatever_the_threads() -> None:
    size = 16
    pids = np.array([3, 5, 3, 19, 7, 21, 3, 9], dtype=np.int64)  # 19 is in slot 3, 21 in 5
    c, r = COUNTED, COUNTED | RESHARED
    outcome = np.array([c, r, 0, r, RESHARED, c, r, c], dtype=np.uint8)
    n = 7  # the last view is past n: not this minute's
    want = np.zeros(size, dtype=np.float32)
    want[3] = 0.5 + (0.5 + 3.0) + (0.5 + 3.0)  # views 0, 3 and 6; view 2 not counted
    want[5] = (0.5 + 3.0) + 0.5  # views 1 and 5
    # view 4: a reshare that was not counted adds nothing
    for threads in (1, 2, 3, 5, 16):
        engagement = np.zeros(size, dtype=np.float32)
        add_engagement(n, pids, outcome, engagement, 0.5, 3.0, threads)
        assert engagement.tolist() == want.tolist(), threads


# --- the feed (7.6) -------------------------------------------------------------------------


def _feed_world(tiny_world: TinyWorld, users: int):
    sim = tiny_world(users=users)
    refresh_access(sim.people, sim.rules, 540)
    return sim


def _feed(sim, consts=None, t0: int = 540, hour: int = 9):
    c = sim.consts if consts is None else consts
    views = new_feed_views(1024, sim.n_users, int(c.tick_minutes))
    views = feed_tick(
        t0, hour, sim.posts, sim.people, c, new_candidates(sim.posts.pid.size),
        np.zeros(sim.posts.pid.size, dtype=np.int32), views, stream("feed"),
    )  # fmt: skip
    lo, hi = views.start[0, 0], views.start[0, -1]
    return views.sorted_pid[lo:hi], views.sorted_viewer[lo:hi]


def test_feed_shows_candidates_in_proportion_to_score_and_decays(tiny_world: TinyWorld) -> None:
    sim = _feed_world(tiny_world, 2000)
    pp, c, posts = sim.people, sim.consts, sim.posts
    assert c.p_eng_weight[0] == 1.0
    assert c.p_sens_penalty[0] == 0.0
    a = _put(posts, 0, "daily_life", author=0, created=480)
    b = _put(posts, 1, "daily_life", author=1, created=480)
    posts.engagement[a], posts.engagement[b] = 0.0, 9.0
    posts.counts[5] = 2
    pp.suspended_until[[0, 1]] = 10**6  # the authors see nothing
    refresh_access(pp, sim.rules, 540)
    pid, viewer = _feed(sim)
    d = math.exp(-c.tick_minutes / c.freshness_minutes)
    assert posts.engagement[b] == pytest.approx(9.0 * d, rel=1e-6)  # decayed once
    # (e + 1)^1 x exp(-age / T) x reach: the same age and reach
    share_b = (9.0 * d + 1.0) / ((9.0 * d + 1.0) + 1.0)
    assert within_binomial(int((pid == 1).sum()), pid.size, share_b)
    assert set(pid.tolist()) <= {0, 1}
    # the number of slots per user ~ Poisson(views_per_day x w_hour x L / 1440), in a tick
    # of the evening (w_hour = 1.8: far from 1)
    pid, viewer = _feed(sim, t0=1260, hour=21)
    assert posts.engagement[b] == pytest.approx(9.0 * d * d, rel=1e-6)  # decayed again
    rate = c.views_per_day * c.diurnal[21] * c.tick_minutes / 1440.0
    assert c.diurnal[21] > 1.5
    can = np.array([may_use(pp.access, pp.suspended_until, i, 0, 1260) for i in range(2000)])
    assert not can[0]
    assert not can[1]
    assert can.sum() > 1000
    assert not np.isin(viewer, np.flatnonzero(~can)).any()  # only who can use the platform
    users = int(can.sum())
    assert abs(pid.size - users * rate) <= 5.0 * math.sqrt(users * rate)
    per_user = np.bincount(viewer, minlength=2000)[can]
    assert within_binomial(int((per_user == 0).sum()), users, math.exp(-rate))
    assert within_binomial(int((per_user == 2).sum()), users, rate**2 / 2 * math.exp(-rate))


def test_feed_never_shows_a_user_their_own_post(tiny_world: TinyWorld) -> None:
    sim = _feed_world(tiny_world, 200)
    pp = sim.people
    author = next(i for i in range(200) if may_use(pp.access, pp.suspended_until, i, 0, 540))
    _put(sim.posts, 0, "daily_life", author=author, created=500)
    sim.posts.counts[5] = 1
    busy = sim.consts._replace(views_per_day=2000.0)  # about 83 slots each this tick
    pid, viewer = _feed(sim, busy)
    assert pid.size > 1000
    assert (pid == 0).all()
    assert author not in set(viewer.tolist())


def test_feed_leaves_old_posts_out(tiny_world: TinyWorld) -> None:
    sim = _feed_world(tiny_world, 200)
    _put(sim.posts, 0, "daily_life", author=5, created=540 - 1440)  # at the age limit
    _put(sim.posts, 1, "daily_life", author=5, created=540 - 1439)
    sim.posts.counts[5] = 2
    pid, _ = _feed(sim, sim.consts._replace(views_per_day=200.0))
    assert pid.size > 100
    assert (pid == 1).all()


# --- moving (5.7) ---------------------------------------------------------------------------


def test_best_platform_is_the_reachable_one_of_highest_appeal() -> None:
    appeal = np.array([0.5, 0.6, 0.9])
    open_ = np.zeros(3, dtype=np.uint8)
    assert _best_platform(0b000, 0, open_, 0, appeal) == 2
    assert _best_platform(0b100, 0, open_, 0, appeal) == 1  # already on 2
    assert _best_platform(0b100, 1, open_, 0, appeal) == 0  # 1 just left
    assert _best_platform(0b110, 0, open_, 0, appeal) == -1  # nowhere to go
    blocked = np.array([0, 0, 1], dtype=np.uint8)
    assert _best_platform(0b000, 0, blocked, 0, appeal) == 1  # 2 needs a VPN
    assert _best_platform(0b000, 0, blocked, 1, appeal) == 2
    tie = np.array([0.7, 0.7, 0.2])
    assert _best_platform(0b000, 2, open_, 0, tie) == 0  # the first on ties
    assert _best_platform(0b001, 2, open_, 0, tie) == 1
    assert _best_platform(0b000, 1, open_, 0, np.zeros(3)) == 0  # appeal 0 still reachable


# --- the goal scores and the summary (11.1, 11.2) ------------------------------------------


def _totals(**over: float) -> dict[str, float]:
    names = [
        "harm_views",
        "rumor_views",
        "incidents",
        "views",
        "intents",
        "self_censored",
        "legit_posts",
        "wrongful_removed",
        "criticism_views",
        "requests",
        "answered",
        "posts",
        "blocked",
        "held",
        "held_approved",
        "removed",
        "removed_published",
        "held_removed",
        "calls_to_action",
        "reshares",
        "reports",
        "referrals",
        "punished",
        "regulator_violations",
        "author_deleted",
        "appeals",
        "reinstated",
        "punished_legit",
    ]
    out = dict.fromkeys(names, 0.0)
    out.update(over)
    return out


def _money(revenue: float, profit: float) -> dict[str, float]:
    return {"revenue": revenue, "profit": profit, "compliance_cost": 7.0, "fines": 3.0}


def _sat(x: float, ref: float) -> float:
    return x / (x + ref)


def test_a_part_at_its_reference_scores_one_half(tiny_world: TinyWorld) -> None:
    sets = (
        "metrics.harm_views_per_user_30_days_ref=2.0",
        "metrics.rumor_views_per_user_30_days_ref=4.0",
        "metrics.incidents_per_30_days_ref=3.0",
        "metrics.views_per_user_day_ref=8.0",
        "metrics.criticism_views_per_user_30_days_free=12.0",
        "metrics.self_censored_share_ref=0.1",
        "metrics.wrongful_removal_share_ref=0.2",
        "metrics.punished_per_1000_users_30_days_ref=3.0",
    )
    sc = tiny_world(overrides=sets).scenario
    n, days = 100, 10.0
    totals = _totals(
        harm_views=2.0 * n * days / 30.0,
        rumor_views=4.0 * n * days / 30.0,
        incidents=3.0 * days / 30.0,
        views=8.0 * n * days,
        criticism_views=6.0 * n * days / 30.0,
        intents=10.0,
        self_censored=1.0,
        legit_posts=10.0,
        wrongful_removed=2.0,
        punished_legit=3.0 * n / 1000.0 * days / 30.0,
    )
    stats = np.array([0, 0, 0, 0, 50.0, 0, 0, 0])  # half the users active
    out = scores(sc, totals, n, days, stats, _money(0.0, 0.0), False, 0.5)
    assert out["order_score"] == pytest.approx(0.5)
    assert out["development_score"] == pytest.approx(0.5)  # 0.5, 0.5 and margin 0 -> 0.5
    assert out["views_per_user_day"] == pytest.approx(8.0)
    assert out["profit_margin"] == 0.0
    # no requests, no foreign platform: wrongful removal, self-censorship, punishment and
    # identifiability at 0.5, criticism at half the free reach
    assert out["freedom_score"] == pytest.approx(0.5)
    assert out["criticism_views_per_user"] == pytest.approx(6.0 * days / 30.0)
    assert out["criticism_reach"] == pytest.approx(0.5)


def test_goal_scores_follow_the_formulas(tiny_world: TinyWorld) -> None:
    sc = tiny_world().scenario
    m = sc.metrics
    n, days = 200, 15.0
    t = _totals(
        harm_views=60.0,
        rumor_views=3000.0,
        incidents=2.0,
        views=48_000.0,
        intents=400.0,
        self_censored=60.0,
        legit_posts=300.0,
        wrongful_removed=30.0,
        criticism_views=700.0,
        requests=50.0,
        answered=35.0,
        punished=9.0,
        punished_legit=4.0,
    )
    stats = np.array([20.0, 30.0, 40.0, 12.0, 180.0, 3.0, 40.0, 10.0])
    money = _money(1000.0, 250.0)
    harm, rumor, inc30 = 60.0 / n * 30 / days, 3000.0 / n * 30 / days, 2.0 * 30.0 / days
    order = (
        1
        - (
            _sat(harm, m.harm_views_per_user_30_days_ref)
            + _sat(rumor, m.rumor_views_per_user_30_days_ref)
            + _sat(inc30, m.incidents_per_30_days_ref)
        )
        / 3
    )
    views_day = 48_000.0 / n / days
    development = (180.0 / n + _sat(views_day, m.views_per_user_day_ref) + 0.5 + 0.5 * 0.25) / 3
    criticism = 700.0 / n * 30 / days
    w = m.freedom_weights
    free_parts = {  # weight, part
        "wrongful": (w.wrongful_removal, 1 - _sat(30 / 300, m.wrongful_removal_share_ref)),
        "self": (w.self_censorship, 1 - _sat(60 / 400, m.self_censored_share_ref)),
        "reach": (w.criticism_reach, criticism / m.criticism_views_per_user_30_days_free),
        "punished": (w.punishment, 1 - _sat(4 * 1000 / n * 30 / days, 1.0)),
        "identifiable": (w.identifiability, 1 - 0.25),
    }

    def weighted(*extra: tuple[float, float]) -> float:
        pairs = [*free_parts.values(), *extra]
        return sum(a * b for a, b in pairs) / sum(a for a, _ in pairs)

    out = scores(sc, t, n, days, stats, money, False, 0.25)
    # no foreign platform: no access part
    freedom = weighted((w.requests_answered, 35 / 50))
    assert out["order_score"] == pytest.approx(order)
    assert out["development_score"] == pytest.approx(development)
    assert out["freedom_score"] == pytest.approx(freedom)
    assert math.isnan(out["access_share"])
    with_foreign = scores(sc, t, n, days, stats, money, True, 0.25)
    assert with_foreign["access_share"] == pytest.approx(10 / 40)
    assert with_foreign["freedom_score"] == pytest.approx(
        weighted((w.requests_answered, 0.7), (w.access, 0.25))
    )
    goals = {"order": order, "development": development, "freedom": freedom}
    assert out["balance"] == pytest.approx(1 - (max(goals.values()) - min(goals.values())))
    assert out["tilt"] == min(goals, key=goals.get)
    # no requests: the part is left out, the share is NaN; margins are clipped to [-1, 1]
    no_requests = _totals(**{**t, "requests": 0.0})
    bare = scores(sc, no_requests, n, days, stats, _money(10, -50), False, 0.25)
    assert math.isnan(bare["requests_answered_share"])
    assert bare["freedom_score"] == pytest.approx(weighted())
    assert bare["profit_margin"] == pytest.approx(-5.0)
    dev0 = (180.0 / n + _sat(views_day, m.views_per_user_day_ref) + 0.0) / 3
    assert bare["development_score"] == pytest.approx(dev0)


def _freedom(sc, n: int = 1000, days: float = 30.0, **over: float) -> float:
    base = {
        "intents": 10_000.0,
        "legit_posts": 9_000.0,
        "criticism_views": 40.0 * n,
        "requests": 100.0,
        "answered": 50.0,
    }
    identifiable = over.pop("identifiable", 0.2)
    access = over.pop("access", 0.9)
    t = _totals(**{**base, **over})
    stats = np.array([0, 0, 0, 0, float(n), 0, 100.0, 100.0 * access])
    out = scores(sc, t, n, days, stats, _money(1.0, 0.5), True, identifiable)
    return float(out["freedom_score"])


@pytest.mark.parametrize(
    ("part", "levels"),
    [
        ("self_censored", [0.0, 20.0, 100.0, 400.0, 2000.0]),
        ("wrongful_removed", [0.0, 10.0, 90.0, 500.0, 4000.0]),
        ("punished_legit", [0.0, 1.0, 5.0, 30.0, 200.0]),
        ("identifiable", [0.0, 0.1, 0.5, 0.9, 1.0]),
        ("access", [1.0, 0.8, 0.5, 0.2, 0.0]),
        ("criticism_views", [80_000.0, 60_000.0, 30_000.0, 5_000.0, 0.0]),
    ],
)
def test_more_suppression_scores_strictly_lower_on_freedom(
    tiny_world: TinyWorld, part: str, levels: list[float]
) -> None:
    """Each step of suppression (more self-censorship, wrongful removals, punishments for
    legitimate posts, identification, blocking, less criticism seen) lowers the freedom
    score, and it stays in [0, 1]."""
    sc = tiny_world().scenario
    values = [_freedom(sc, **{part: level}) for level in levels]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(a > b for a, b in itertools.pairwise(values)), values


def test_the_freedom_score_spans_its_range(tiny_world: TinyWorld) -> None:
    """Free on every part scores 1; suppressed on every part scores near 0: the parts carry
    their weight instead of sitting near 1 (issue 20)."""
    sc = tiny_world().scenario
    free = _freedom(sc, criticism_views=1e6, answered=100.0, identifiable=0.0, access=1.0)
    assert free == pytest.approx(1.0)
    shut = _freedom(
        sc,
        self_censored=10_000.0,
        wrongful_removed=9_000.0,
        punished_legit=1000.0,
        criticism_views=0.0,
        answered=0.0,
        identifiable=1.0,
        access=0.0,
    )
    assert shut < 0.01


def test_freedom_weights_need_one_above_zero() -> None:
    names = list(FreedomWeights.model_fields)
    with pytest.raises(ValueError, match="at least one freedom weight must be above 0"):
        FreedomWeights(**dict.fromkeys(names, 0.0))
    only = FreedomWeights(**{**dict.fromkeys(names, 0.0), "access": 1.0})
    parts = dict.fromkeys(names, 0.3) | {"access": 0.8}
    assert weighted_mean(parts, only.model_dump()) == pytest.approx(0.8)
    assert math.isnan(weighted_mean({**parts, "access": math.nan}, only.model_dump()))


def test_summary_shares_and_histogram_medians(tiny_world: TinyWorld) -> None:
    sc = tiny_world().scenario
    n = 100
    t = _totals(
        posts=200.0,
        blocked=20.0,
        held=30.0,
        held_approved=10.0,
        removed=40.0,
        removed_published=16.0,
        author_deleted=9.0,
        appeals=8.0,
        reinstated=2.0,
        held_removed=15.0,
        wrongful_removed=12.0,
        legit_posts=150.0,
        intents=250.0,
        views=1000.0,
    )
    stats = np.array([30.0, 40.0, 50.0, 7.0, 90.0, 2.0, 0.0, 0.0])
    hist = np.zeros((2, K.N_BINS), dtype=np.int64)
    hist[K.HIST_REMOVAL, 2] = 3  # three removals in [2, 3) minutes
    hist[K.HIST_REMOVAL, 9] = 1  # one in [9, 10)
    hist[K.HIST_REMOVAL, K.MINUTE_BINS + 1] = 4  # four in [1500, 1560)
    hist[K.HIST_ANSWER, 1440 + 2] = 2  # answers in [1560, 1620)
    out = summary(sc, t, hist, n, 5.0, stats, _money(100.0, 10.0), False, 0.0)
    published = 200 - 20 - 30 + 10
    assert out["removed_share"] == pytest.approx((40 + 20) / 200)
    assert out["published_deleted_share"] == pytest.approx(16 / published)
    assert out["published_deleted_any_share"] == pytest.approx((16 + 9) / published)
    assert out["blocked_share"] == pytest.approx(20 / 200)
    assert out["held_share"] == pytest.approx(30 / 200)
    assert out["held_never_published_share"] == pytest.approx(15 / 30)
    assert out["wrongful_share_of_removals"] == pytest.approx(12 / 60)
    assert out["wrongful_removal_share"] == pytest.approx(12 / 150)
    assert out["appeal_share"] == pytest.approx(8 / 40)
    assert out["reinstated_share"] == pytest.approx(2 / 8)
    # 8 timed removals: the median (4th of 8) is in [9, 10), linear within the bin
    assert out["median_minutes_to_removal"] == pytest.approx(9.0 + (4 - 3) / 1)
    assert out["deleted_within_8min_share"] == pytest.approx(3 / 8)
    assert out["deleted_5_to_30min_share"] == pytest.approx(1 / 8)
    assert out["deleted_within_24h_share"] == pytest.approx(4 / 8)
    assert out["median_minutes_to_answer"] == pytest.approx(1560.0 + 60.0 * 1 / 2)
    assert out["vpn_share"] == pytest.approx(0.07)
    assert out["mean_fear"] == pytest.approx(0.3)
    assert out["mean_grievance"] == pytest.approx(0.4)
    assert out["mean_trust"] == pytest.approx(0.5)
    assert out["active_users"] == 90.0
    assert out["bad_actors_active"] == 2.0
    assert (out["revenue"], out["profit"], out["fines"]) == (100.0, 10.0, 3.0)
    empty = summary(sc, _totals(), np.zeros_like(hist), n, 5.0, stats, _money(0, 0), False, 0.0)
    for key in ("removed_share", "published_deleted_share", "published_deleted_any_share",
                "held_never_published_share",
                "median_minutes_to_removal", "deleted_within_8min_share",
                "median_minutes_to_answer", "requests_answered_share", "appeal_share",
                "reinstated_share"):  # fmt: skip
        assert math.isnan(empty[key]), key


def test_punishments_for_legitimate_posts_are_counted_apart() -> None:
    """`punished_legit` counts the punishments whose post the baseline holds legitimate: part
    of `punished` under a regime that punishes criticism, none under one that punishes only
    illegal harm (eu-dsa refers illegal harm only)."""
    china = tightrope.run(
        tightrope.load_scenario("china-comprehensive-2021", users=1500, days=2, seed=3)
    ).summary
    assert 0 < china["punished_legit"] <= china["punished"]
    eu = tightrope.run(tightrope.load_scenario("eu-dsa", users=1500, days=4, seed=3)).summary
    assert eu["punished"] > 0
    assert eu["punished_legit"] == 0


def test_violative_view_share_leaves_spam_out() -> None:
    """Views of illegitimate categories (by the baseline) over views of posts that are not
    spam: spam's views count in neither, as in YouTube's violative view rate."""
    from tightrope.core import counters as K
    from tightrope.model.metrics import violative_view_share
    from tightrope.scenario.content import SPAM

    category = np.zeros((len(CATEGORIES), len(K.CATEGORY)))
    views = K.CATEGORY.index("views")
    harm = CATEGORIES.index("illegal_harm")
    category[CATEGORIES.index("daily_life"), views] = 970.0
    category[harm, views] = 30.0
    category[SPAM, views] = 5000.0
    legit = np.ones(len(CATEGORIES), dtype=np.uint8)
    legit[harm] = 0
    legit[SPAM] = 0
    assert violative_view_share(category, legit) == pytest.approx(30.0 / 1000.0)
    assert math.isnan(violative_view_share(np.zeros_like(category), legit))
