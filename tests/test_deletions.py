"""Authors deleting their own posts (docs/model.md 5.10) and platforms sweeping what is
already published (7.8): the rules on tiny worlds, their directions in small runs, the
invariants of the table by category with both on, and a bad setting's message."""

from __future__ import annotations

import math

import numpy as np
import pyarrow.compute as pc
import pytest

import tightrope
from helpers import TinyWorld, assert_resumes_identically, stream, within_binomial
from test_outputs_by_category import check_invariants
from tightrope.core import counters as K
from tightrope.core.world import BLOCK_EVENTS, HORIZON_MINUTES
from tightrope.model.author_deletion import (
    author_delete,
    deletion_chance,
    deletion_delay,
    schedule_deletions,
)
from tightrope.model.diffusion import count_minute
from tightrope.model.exposure import AUTHOR_DELETION, push_event
from tightrope.model.moderation import serve_sweeps
from tightrope.model.regulator import inspect
from tightrope.model.sweeps import schedule_sweep, sweep_chance, sweep_finds
from tightrope.scenario.content import CATEGORIES, PENDING, REMOVED, VISIBLE

CAT = {c: i for i, c in enumerate(CATEGORIES)}
SWEEPING = ["platforms.weibo.moderation.sweep.enabled=true"]


def _put(posts, pid: int, cat: str, platform: int = 0, author: int = 0, created: int = 0):
    """A visible post `pid` of category `cat` in its slot of the ring, the newest so far."""
    slot = pid & (posts.pid.size - 1)
    posts.pid[slot], posts.cat[slot], posts.platform[slot] = pid, CAT[cat], platform
    posts.author[slot], posts.created[slot], posts.state[slot] = author, created, VISIBLE
    posts.reach[slot] = 1.0
    posts.counts[5] = max(posts.counts[5], pid + 1)
    return slot


def _events(cal, code: int) -> list[tuple[int, int]]:
    """(calendar slot, post id) of every event of `code` in the calendar."""
    out = []
    for s in range(HORIZON_MINUTES):
        b, last, fill = cal.slots[s]
        while b >= 0:
            lo = b * BLOCK_EVENTS
            for e in range(lo, lo + (fill if b == last else BLOCK_EVENTS)):
                if cal.viewer[e] == code:
                    out.append((s, int(cal.post[e])))
            b = cal.link[b]
    return out


def _total(table, name: str) -> int:
    return int(pc.sum(table.column(name)).as_py() or 0)


def _row(table, category: str) -> dict:
    return table.to_pylist()[CAT[category]]


# --- authors' deletions: the rules ---------------------------------------------------------


def test_deletion_chance_and_delay_follow_their_formulas() -> None:
    assert deletion_chance(0.1, 2.0, 0.5, 0.8) == pytest.approx(0.1 * (1 + 2.0 * 0.5 * 0.8))
    assert deletion_chance(0.1, 2.0, 0.0, 0.8) == pytest.approx(0.1)  # no fear: the share
    assert deletion_chance(0.1, 2.0, 1.0, 0.0) == pytest.approx(0.1)  # not sensitive
    assert deletion_chance(0.6, 5.0, 1.0, 1.0) == 1.0  # capped
    assert deletion_chance(0.0, 5.0, 1.0, 1.0) == 0.0
    assert deletion_delay(60.0, 2.0, 0.0) == 60  # the median at z = 0
    assert deletion_delay(60.0, 2.0, 1.0) == int(60.0 * math.exp(2.0))
    assert deletion_delay(60.0, 0.0, 3.0) == 60  # no spread
    assert deletion_delay(0.2, 1.0, -3.0) == 1  # at least a minute


def _published(sim, n: int, cat: str, author_fear: float) -> np.ndarray:
    """n visible posts of `cat` by authors of fear `author_fear`, as the posting phase's
    `pending` (slots in order)."""
    sim.people.fear[:] = author_fear
    slots = [_put(sim.posts, pid, cat, author=pid % 100, created=pid % 60) for pid in range(n)]
    return np.array(slots, dtype=np.int64)


def test_deletions_are_scheduled_at_the_share_raised_by_fear(tiny_world: TinyWorld) -> None:
    share, weight, n = 0.2, 2.0, 3000
    overrides = [
        f"behaviour.author_deletion.share.criticism={share}",
        f"behaviour.author_deletion.fear_weight={weight}",
    ]
    for fear in (0.0, 1.0):
        sim = tiny_world(users=200, overrides=overrides)
        pending = _published(sim, n, "criticism", fear)
        got = schedule_deletions(
            pending, n, 0, sim.posts, sim.people, sim.consts, sim.cal, stream("author_deletion")
        )
        p = share * (1 + weight * fear * sim.consts.cat_sensitivity[CAT["criticism"]])
        assert within_binomial(got, n, p), (fear, got, n * p)
        events = _events(sim.cal, AUTHOR_DELETION)
        assert len(events) == got
        # each at its post's creation + a delay of at least a minute, within the horizon
        assert all(s >= pid % 60 + 1 for s, pid in events)
    # a category with no share draws nothing and schedules nothing
    sim = tiny_world(
        users=200, overrides=[*overrides, "behaviour.author_deletion.share.daily_life=0"]
    )
    pending = _published(sim, 500, "daily_life", 1.0)
    rs = stream("author_deletion")
    before = rs.copy()
    assert schedule_deletions(pending, 500, 0, sim.posts, sim.people, sim.consts, sim.cal, rs) == 0
    assert np.array_equal(rs, before)


def test_deletion_delays_are_lognormal_with_the_median(tiny_world: TinyWorld) -> None:
    median, n = 30.0, 4000
    overrides = [
        "behaviour.author_deletion.share.daily_life=1.0",
        f"behaviour.author_deletion.delay_median_minutes={median}",
        "behaviour.author_deletion.delay_sigma=1.0",
    ]
    sim = tiny_world(users=200, overrides=overrides)
    sim.people.fear[:] = 0.0
    slots = [_put(sim.posts, pid, "daily_life", created=0) for pid in range(n)]
    pending = np.array(slots, dtype=np.int64)
    got = schedule_deletions(
        pending, n, 0, sim.posts, sim.people, sim.consts, sim.cal, stream("author_deletion")
    )
    assert got == n  # share 1: every post, all within the horizon (sigma 1)
    delays = np.array([s for s, _ in _events(sim.cal, AUTHOR_DELETION)])
    # floor(median x e^z): half the delays below the median (a minute's rounding aside)
    assert within_binomial(int((delays < median).sum()), n, 0.5)
    # and exp(sigma) times the median at the 84th percentile
    assert within_binomial(int((delays < median * math.e).sum()), n, 0.8413)


def test_an_author_deletes_a_visible_post_without_consequences(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    posts, people, tc, ct = sim.posts, sim.people, sim.tc, sim.category
    a = _put(posts, 0, "criticism", author=3)
    fear, trust, grievance = people.fear[3], people.trust[3], people.grievance[3]
    posts.queued[a] = 1
    author_delete(posts, a, tc, ct)
    assert posts.state[a] == REMOVED
    assert posts.queued[a] == 0  # leaves the review queue
    assert tc[K.AUTHOR_DELETED] == 1
    assert ct[CAT["criticism"], K.ROUTE_AUTHOR] == 1
    # not a removal by the platform or the state: no count, no strike, no shock
    assert tc[K.REMOVED] == tc[K.REMOVED_PUBLISHED] == tc[K.WRONGFUL_REMOVED] == 0
    assert people.strikes[3] == 0
    assert people.day_removed[3] == 0
    assert (people.fear[3], people.trust[3], people.grievance[3]) == (fear, trust, grievance)
    assert sim.category_minutes.sum() == sim.hist.sum() == 0
    # a post no longer visible (removed, held) stays as it is
    author_delete(posts, a, tc, ct)
    b = _put(posts, 1, "criticism")
    posts.state[b] = PENDING
    author_delete(posts, b, tc, ct)
    assert posts.state[b] == PENDING
    assert tc[K.AUTHOR_DELETED] == 1


def test_the_minute_of_a_deletion_event_deletes_the_post(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    posts = sim.posts
    a = _put(posts, 0, "daily_life")
    b = _put(posts, 1, "daily_life")
    push_event(sim.cal, 7, posts.pid[a], AUTHOR_DELETION)
    push_event(sim.cal, 8, posts.pid[b], AUTHOR_DELETION)
    start = np.zeros(sim.view_meta.size + 1, dtype=np.int64)
    w = sim.world()
    for m in (6, 7):
        count_minute(
            m, m, w.cal, w.view_cal, sim.feed_views.start, posts, sim.people, w.consts, w.rules,
            w.queues, w.requests, sim.tc, sim.category, start,
        )  # fmt: skip
    assert posts.state[a] == REMOVED
    assert posts.state[b] == VISIBLE  # its minute has not come
    assert sim.tc[K.AUTHOR_DELETED] == 1


# --- sweeps: the rules ---------------------------------------------------------------------


def test_a_sweep_is_scheduled_once_per_delay_with_every_category(tiny_world: TinyWorld) -> None:
    sim = tiny_world("china-weibo-2013", overrides=SWEEPING)
    q, consts, rules = sim.queues, sim.consts, sim.rules
    ca, rumor, life = CAT["collective_action"], CAT["rumor"], CAT["daily_life"]
    assert rules.enforced[0, ca] > 0
    assert rules.enforced[0, rumor] > 0
    assert rules.enforced[0, life] == 0
    delay = int(consts.p_sweep_delay[0])
    schedule_sweep(q, consts, rules, 0, ca, 100.5)
    schedule_sweep(q, consts, rules, 0, rumor, 104.0)  # joins the sweep already due
    schedule_sweep(q, consts, rules, 0, life, 105.0)  # not enforced: not searched
    assert q.sweep_due[0] == 100 + delay
    assert q.sweep_cats[0] == (1 << ca) | (1 << rumor)
    schedule_sweep(q, consts, rules, 1, ca, 100.0)  # wechat does not sweep
    assert q.sweep_due[1] == -1
    assert q.sweep_cats[1] == 0


def test_sweep_finds_the_recent_visible_posts_of_its_categories(tiny_world: TinyWorld) -> None:
    sim = tiny_world("china-weibo-2013", overrides=SWEEPING)
    posts, consts, rules = sim.posts, sim.consts, sim.rules
    rules.flag_prob[0, :] = 1.0
    consts.p_sweep_recall[0] = 1.0
    window = int(consts.p_sweep_window[0])
    m = window + 500
    ca = CAT["collective_action"]
    want = [
        _put(posts, 0, "collective_action", created=m - window),  # the window's first minute
        _put(posts, 1, "collective_action", created=m),
    ]
    _put(posts, 2, "collective_action", created=m - window - 1)  # too old
    _put(posts, 3, "collective_action", created=m + 1)  # not yet published
    _put(posts, 4, "collective_action", platform=1, created=m)  # another platform
    _put(posts, 5, "rumor", created=m)  # a category not searched
    gone = _put(posts, 6, "collective_action", created=m)
    posts.state[gone] = REMOVED
    want.append(_put(posts, 7, "collective_action", created=m - 10))
    found, out = sweep_finds(
        posts, consts, rules, 0, 1 << ca, m, stream("sweep"), np.empty(1, np.int64)
    )
    assert sorted(out[:found].tolist()) == sorted(want)  # the buffer grew as needed
    assert out[:found].tolist() == sorted(want, reverse=True)  # newest first


def test_sweep_finds_each_post_at_recall_times_the_flag_chance(tiny_world: TinyWorld) -> None:
    sim = tiny_world("china-weibo-2013", overrides=SWEEPING)
    posts, consts, rules = sim.posts, sim.consts, sim.rules
    ca, n = CAT["collective_action"], 4000
    rules.flag_prob[0, ca] = 0.6
    consts.p_sweep_recall[0] = 0.5
    assert sweep_chance(0.5, 0.6) == pytest.approx(0.3)
    for pid in range(n):
        _put(posts, pid, "collective_action", created=100)
    found, _ = sweep_finds(
        posts, consts, rules, 0, 1 << ca, 200, stream("sweep"), np.empty(8, np.int64)
    )
    assert within_binomial(found, n, 0.3)


def test_serve_sweeps_removes_what_it_finds_as_the_platform(tiny_world: TinyWorld) -> None:
    sim = tiny_world("china-weibo-2013", overrides=SWEEPING)
    posts, consts, rules, q = sim.posts, sim.consts, sim.rules, sim.queues
    ca = CAT["collective_action"]
    rules.flag_prob[0, :] = 1.0
    consts.p_sweep_recall[0] = 1.0
    a = _put(posts, 0, "collective_action", author=3, created=100)
    b = _put(posts, 1, "collective_action", author=4, created=110)
    q.sweep_due[0], q.sweep_cats[0] = 130, 1 << ca
    rs, rs_punish, rs_appeal = stream("sweep"), stream("punishment"), stream("appeals")
    assert serve_sweeps(129, sim.world(), sim.tally, rs, rs_punish, rs_appeal) == 0  # not due
    assert serve_sweeps(130, sim.world(), sim.tally, rs, rs_punish, rs_appeal) == 2
    assert posts.state[a] == posts.state[b] == REMOVED
    assert q.sweep_due[0] == -1
    assert q.sweep_cats[0] == 0
    assert sim.category[ca, K.ROUTE_SWEEP] == 2
    assert sim.tc[K.REMOVED] == sim.tc[K.REMOVED_PUBLISHED] == 2  # a removal like any other
    assert sim.people.strikes[3] == 1
    assert sim.people.day_removed[4] == 1
    assert sim.category_minutes[ca].sum() == 2  # timed: 30 and 20 minutes
    assert sim.category_minutes[ca, 30] == sim.category_minutes[ca, 20] == 1
    assert q.sweep_due[0] == -1  # its removals set off no sweep


def test_an_inspection_removal_sets_off_a_sweep(tiny_world: TinyWorld) -> None:
    sim = tiny_world("china-weibo-2013", overrides=SWEEPING)
    a = _put(sim.posts, 0, "collective_action")
    sim.view_log[0, 0] = 0
    sim.view_meta[0] = 1
    inspect(
        1440, 50.0, 100.0, 0.1, np.zeros(3), sim.views, sim.world(), sim.tally,
        stream("inspection"), stream("punishment"), stream("appeals"),
    )  # fmt: skip
    assert sim.posts.state[a] == REMOVED
    assert sim.queues.sweep_due[0] == 1440 + int(sim.consts.p_sweep_delay[0])
    assert sim.queues.sweep_cats[0] == 1 << CAT["collective_action"]


# --- directions and invariants in small runs ------------------------------------------------

AUTHORS = [f"behaviour.author_deletion.share.{c}=0.05" for c in CATEGORIES]
NO_AUTHORS = [f"behaviour.author_deletion.share.{c}=0.0" for c in CATEGORIES]
NO_SWEEPS = [f"platforms.{p}.moderation.sweep.enabled=false" for p in ("weibo", "wechat")]


def _run(overrides, users=1000, days=1.0, seed=3) -> tightrope.Result:
    sc = tightrope.load_scenario("china-weibo-2013", overrides, users=users, days=days, seed=seed)
    return tightrope.run(sc)


@pytest.fixture(scope="module")
def neither() -> tightrope.Result:
    return _run(NO_AUTHORS + NO_SWEEPS)


@pytest.fixture(scope="module")
def both() -> tightrope.Result:
    return _run(AUTHORS + SWEEPING)


def test_without_either_mechanism_their_routes_stay_zero(neither: tightrope.Result) -> None:
    cat = neither.categories
    assert _total(cat, "removed_sweep") == _total(cat, "removed_author") == 0
    assert _total(neither.timeseries, "author_deleted") == 0
    assert neither.summary["published_deleted_any_share"] == pytest.approx(
        neither.summary["published_deleted_share"]
    )
    check_invariants(neither)


def test_author_deletion_share_raises_removed_author(neither, both) -> None:
    only = _run(AUTHORS + NO_SWEEPS)
    deleted = _total(only.categories, "removed_author")
    assert deleted > 0
    assert deleted == _total(only.timeseries, "author_deleted")
    # about the share of what was published (less what was removed first, or too late)
    published = _total(only.categories, "published")
    assert 0.02 * published < deleted < 0.06 * published
    s = only.summary
    assert s["published_deleted_any_share"] > s["published_deleted_share"]
    check_invariants(only)


HOLD_RUMOURS = [
    'platforms.weibo.moderation.actions.rumor="hold"',
    "content.rumor.share=0.2",
    "platforms.weibo.moderation.sweep.recall=1.0",
]
"""The filter holds the rumours it flags (their removals set off sweeps), so a published
rumour is otherwise removed only by a report or an inspection, hours later."""


def test_sweeps_remove_more_and_sooner() -> None:
    # 4,000 users: at 2,000 the run without sweeps has 2 timed rumour removals, too few
    # for a median (measured: 7 removals, median 526 minutes, against 118 and 56 swept)
    base = _run(NO_AUTHORS + NO_SWEEPS + HOLD_RUMOURS, users=4000, days=2)
    swept = _run(NO_AUTHORS + SWEEPING + HOLD_RUMOURS, users=4000, days=2)
    cat, before = swept.categories, base.categories
    assert _total(before, "removed_sweep") == 0
    assert _total(cat, "removed_author") == 0
    rumor = _row(cat, "rumor")
    assert rumor["removed_sweep"] > 0
    assert rumor["removed"] > _row(before, "rumor")["removed"]
    assert rumor["timed_removals"] > _row(before, "rumor")["timed_removals"]
    assert rumor["median_minutes_to_removal"] < _row(before, "rumor")["median_minutes_to_removal"]
    assert swept.summary["published_deleted_share"] > base.summary["published_deleted_share"]
    check_invariants(swept)


def test_both_mechanisms_keep_the_invariants(both: tightrope.Result) -> None:
    cat = both.categories
    assert _total(cat, "removed_sweep") > 0
    assert _total(cat, "removed_author") > 0
    routes = sum(np.array(cat.column(r).to_pylist()) for r in K.ROUTES)
    assert routes.tolist() == cat.column("removed").to_pylist()
    check_invariants(both)


def test_both_mechanisms_are_the_same_at_any_thread_count(both: tightrope.Result) -> None:
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        one = _run(AUTHORS + SWEEPING)
    finally:
        numba.set_num_threads(threads)
    assert one.categories.equals(both.categories)
    assert one.timeseries.equals(both.timeseries)


def test_a_resumed_run_with_both_is_bit_identical(tmp_path, both: tightrope.Result) -> None:
    sc = tightrope.load_scenario("china-weibo-2013", AUTHORS + SWEEPING, users=1000, days=1, seed=3)
    assert_resumes_identically(sc, 12, both, tmp_path)


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "line"),
    [
        (
            "platforms.weibo.moderation.sweep.recall=1.5",
            "platforms.weibo.moderation.sweep.recall: Input should be less than or equal to 1 "
            "(got 1.5)",
        ),
        (
            "platforms.weibo.moderation.sweep.delay_minutes=0",
            "platforms.weibo.moderation.sweep.delay_minutes: Input should be greater than or "
            "equal to 1 (got 0)",
        ),
        (
            "behaviour.author_deletion.share.criticism=-0.1",
            "behaviour.author_deletion.share.criticism: Input should be greater than or equal "
            "to 0 (got -0.1)",
        ),
    ],
)
def test_a_bad_setting_is_refused_with_its_message(override: str, line: str) -> None:
    with pytest.raises(tightrope.InputError) as err:
        tightrope.load_scenario("china-weibo-2013", [override])
    assert err.value.problems == [line]
