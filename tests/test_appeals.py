"""Statements of reasons and appeals of removals (docs/model.md 7.9): the rules on tiny
worlds, their directions and invariants in small runs of eu-dsa, a resumed run, and bad
settings' messages."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

import tightrope
from helpers import TinyWorld, assert_resumes_identically, stream, within_binomial
from test_outputs_by_category import check_invariants
from tightrope.core import counters as K
from tightrope.core.world import BLOCK_EVENTS, HORIZON_MINUTES
from tightrope.model import appeals as A
from tightrope.model.appeals import appeal_chance, reasons_rise, reversal_chance
from tightrope.model.diffusion import count_minute
from tightrope.model.exposure import APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK
from tightrope.model.moderation import remove_post
from tightrope.scenario.content import CATEGORIES, REMOVED, VISIBLE

CAT = {c: i for i, c in enumerate(CATEGORIES)}
COLUMN = {
    "enabled": A.AP_ENABLED,
    "reasons": A.AP_REASONS,
    "cut": A.AP_CUT,
    "wrongful": A.AP_WRONGFUL,
    "rightful": A.AP_RIGHTFUL,
    "decision": A.AP_DECISION,
    "accuracy": A.AP_ACCURACY,
}
PLATFORMS = ("microblog", "foreign")  # eu-dsa's platforms with appeals
# the microblog's terms forbid criticism (legitimate), found by its filter and reviewed: many
# wrongful removals to appeal
STRICT = [
    'platforms.microblog.moderation.terms_prohibited=["illegal_harm", "rumor", "criticism"]',
    "platforms.microblog.moderation.filter.detection.criticism=0.5",
    'platforms.microblog.moderation.actions.criticism="review"',
]


def _chances(wrongful: float, rightful: float) -> list[str]:
    return [
        f"platforms.{p}.moderation.appeals.appeal_chance_{k}={v}"
        for p in PLATFORMS
        for k, v in (("wrongful", wrongful), ("rightful", rightful))
    ]


ON = STRICT + _chances(0.3, 0.1)
OFF = [
    f"platforms.{p}.moderation.appeals.{k}=false"
    for p in PLATFORMS
    for k in ("enabled", "statement_of_reasons")
]


def _put(posts, pid: int, cat: str, author: int = 3, created: int = 100) -> int:
    """A visible post `pid` of category `cat` on platform 0 in its slot of the ring."""
    slot = pid & (posts.pid.size - 1)
    posts.pid[slot], posts.cat[slot], posts.platform[slot] = pid, CAT[cat], 0
    posts.author[slot], posts.created[slot], posts.state[slot] = author, created, VISIBLE
    posts.counts[1 + VISIBLE] += 1
    posts.counts[5] = max(posts.counts[5], pid + 1)
    return slot


def _remove(sim, consts, slot: int, minute: float, rs_appeal=None) -> None:
    g = sim.graph
    remove_post(
        sim.posts, sim.people, g.followers_ptr, g.followers_idx, consts, sim.rules, slot,
        minute, K.ROUTE_REPORT, sim.tally, stream("punishment"), sim.cal,
        stream("appeals") if rs_appeal is None else rs_appeal,
    )  # fmt: skip


def _events(cal, codes) -> list[tuple[int, int, int]]:
    """(calendar slot, post id, code) of every event of one of `codes` in the calendar."""
    out = []
    for s in range(HORIZON_MINUTES):
        b, last, fill = cal.slots[s]
        while b >= 0:
            lo = b * BLOCK_EVENTS
            for e in range(lo, lo + (fill if b == last else BLOCK_EVENTS)):
                if cal.viewer[e] in codes:
                    out.append((s, int(cal.post[e]), int(cal.viewer[e])))
            b = cal.link[b]
    return out


def _minute(sim, m: int) -> None:
    """Pass 1 of minute m: the calendar's events of that minute happen."""
    w = sim.world()
    start = np.zeros(sim.view_meta.size + 1, dtype=np.int64)
    count_minute(
        m, 0, w.cal, w.view_cal, sim.feed_views.start, sim.posts, sim.people, w.consts, w.rules,
        w.queues, w.requests, sim.tc, sim.category, start,
    )  # fmt: skip


def _struck_world(tiny_world: TinyWorld, **appeals):
    """eu-dsa's tiny world where criticism (legitimate) is enforced on the microblog, so its
    removal is wrongful and gives a strike; consts with the given appeal settings."""
    sim = tiny_world(users=200)
    crit = CAT["criticism"]
    sim.rules.enforced[0, crit] = 1.0
    assert sim.rules.state_prohibited[0, crit] == 0  # no referral
    ap = sim.consts.p_appeals.copy()
    for name, value in appeals.items():
        ap[0, COLUMN[name]] = value
    return sim, sim.consts._replace(p_appeals=ap)


# --- the rules ------------------------------------------------------------------------------


def test_formulas() -> None:
    assert reasons_rise(0.05, 0.3) == pytest.approx(0.035)
    assert reasons_rise(0.05, 0.0) == 0.05
    assert appeal_chance(True, 0.2, 0.05) == 0.2
    assert appeal_chance(False, 0.2, 0.05) == 0.05
    assert reversal_chance(True, 0.8) == 0.8
    assert reversal_chance(False, 0.8) == pytest.approx(0.2)


def test_a_reversal_reinstates_the_post_and_withdraws_its_strike(tiny_world: TinyWorld) -> None:
    sim, consts = _struck_world(tiny_world, enabled=1, wrongful=1.0, accuracy=1.0)
    posts, people, tc = sim.posts, sim.people, sim.tc
    a = 3
    people.strikes[a] = 0
    slot = _put(posts, 0, "criticism", author=a)
    counts = posts.counts.copy()
    delay = int(consts.p_appeals[0, A.AP_DECISION])
    _remove(sim, consts, slot, 160.5)
    assert posts.state[slot] == REMOVED
    assert people.strikes[a] == 1
    assert tc[K.APPEALS] == 1
    assert sim.category[CAT["criticism"], K.CAT_APPEALED] == 1
    assert tc[K.WRONGFUL_REMOVED] == 1
    codes = (APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK)
    assert _events(sim.cal, codes) == [((160 + delay) % HORIZON_MINUTES, 0, APPEAL_REVERSAL_STRUCK)]
    _minute(sim, 160 + delay - 1)  # not yet decided
    assert posts.state[slot] == REMOVED
    _minute(sim, 160 + delay)
    assert posts.state[slot] == VISIBLE
    assert people.strikes[a] == 0
    assert tc[K.REINSTATED] == 1
    assert sim.category[CAT["criticism"], K.CAT_REINSTATED] == 1
    assert np.array_equal(posts.counts, counts)  # the state counts are exact again
    # the removal's counts stay as they were (docs/model.md 7.9)
    assert tc[K.REMOVED] == tc[K.WRONGFUL_REMOVED] == 1


def test_a_reversal_without_a_strike_leaves_strikes(tiny_world: TinyWorld) -> None:
    sim, consts = _struck_world(tiny_world, enabled=1, wrongful=1.0, accuracy=1.0)
    sim.rules.enforced[0, CAT["criticism"]] = 0.0  # removed, but not a strike
    a = 3
    sim.people.strikes[a] = 2
    slot = _put(sim.posts, 0, "criticism", author=a)
    _remove(sim, consts, slot, 100.0)
    codes = (APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK)
    assert [e[2] for e in _events(sim.cal, codes)] == [APPEAL_REVERSAL]
    _minute(sim, 100 + int(consts.p_appeals[0, A.AP_DECISION]))
    assert sim.posts.state[slot] == VISIBLE
    assert sim.people.strikes[a] == 2


def test_an_upheld_appeal_changes_nothing(tiny_world: TinyWorld) -> None:
    sim, consts = _struck_world(tiny_world, enabled=1, wrongful=1.0, accuracy=0.0)
    a = 3
    sim.people.strikes[a] = 0
    slot = _put(sim.posts, 0, "criticism", author=a)
    _remove(sim, consts, slot, 100.0)
    assert sim.tc[K.APPEALS] == 1
    assert _events(sim.cal, (APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK)) == []
    _minute(sim, 100 + int(consts.p_appeals[0, A.AP_DECISION]))
    assert sim.posts.state[slot] == REMOVED
    assert sim.people.strikes[a] == 1
    assert sim.tc[K.REINSTATED] == 0


def test_without_appeals_nothing_is_drawn_or_scheduled(tiny_world: TinyWorld) -> None:
    sim, consts = _struck_world(tiny_world, enabled=0, wrongful=1.0)
    slot = _put(sim.posts, 0, "criticism")
    rs = stream("appeals")
    before = rs.copy()
    _remove(sim, consts, slot, 100.0, rs)
    assert np.array_equal(rs, before)
    assert sim.tc[K.APPEALS] == 0
    assert _events(sim.cal, (APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK)) == []


def test_authors_appeal_at_their_chance(tiny_world: TinyWorld) -> None:
    sim, consts = _struck_world(tiny_world, enabled=1, wrongful=0.3, rightful=0.1)
    rs = stream("appeals")
    n = 2000
    for cat, chance in (("criticism", 0.3), ("illegal_harm", 0.1)):
        sim.tc[K.APPEALS] = 0
        for k in range(n):
            slot = _put(sim.posts, k, cat)
            sim.people.suspended_until[3] = 0
            _remove(sim, consts, slot, 100.0, rs)
        assert within_binomial(int(sim.tc[K.APPEALS]), n, chance), cat


def test_a_statement_of_reasons_cuts_the_grievance_rise(tiny_world: TinyWorld) -> None:
    rises = []
    for reasons in (0, 1):
        sim, consts = _struck_world(tiny_world, reasons=reasons, cut=0.3)
        sim.people.grievance[3] = 0.2
        _remove(sim, consts, _put(sim.posts, 0, "criticism"), 100.0)
        rises.append(sim.people.grievance[3] - 0.2)
    full = sim.consts.wrongful_grievance_rise
    assert rises[0] == pytest.approx(full)
    assert rises[1] == pytest.approx(full * (1 - 0.3))
    # a rightful removal raises no grievance, reasons or not
    sim, consts = _struck_world(tiny_world, reasons=1, cut=0.3)
    sim.people.grievance[3] = 0.2
    _remove(sim, consts, _put(sim.posts, 0, "illegal_harm"), 100.0)
    assert sim.people.grievance[3] == pytest.approx(0.2)


# --- directions and invariants in small runs ------------------------------------------------


def _total(table, name: str) -> int:
    return int(pc.sum(table.column(name)).as_py() or 0)


def _run(overrides, users=1000, days=2.0, seed=3) -> tightrope.Result:
    sc = tightrope.load_scenario("eu-dsa", overrides, users=users, days=days, seed=seed)
    return tightrope.run(sc)


@pytest.fixture(scope="module")
def on() -> tightrope.Result:
    return _run(ON, days=3.0)  # appeals are decided a day after the removal


@pytest.fixture(scope="module")
def off() -> tightrope.Result:
    return _run(STRICT + OFF, days=3.0)


def _check(res: tightrope.Result) -> None:
    check_invariants(res)
    cat, ts, s = res.categories, res.timeseries, res.summary
    assert _total(cat, "appealed") == _total(ts, "appeals")
    assert _total(cat, "reinstated") == _total(ts, "reinstated")
    assert np.all(np.asarray(cat.column("reinstated")) <= np.asarray(cat.column("appealed")))
    removed = _total(ts, "removed")
    assert _total(ts, "reinstated") <= _total(ts, "appeals") <= removed
    if removed:
        assert s["appeal_share"] == pytest.approx(_total(ts, "appeals") / removed)


def test_appeals_reinstate_removed_posts(on: tightrope.Result, off: tightrope.Result) -> None:
    _check(on)
    _check(off)
    assert _total(off.timeseries, "appeals") == _total(off.timeseries, "reinstated") == 0
    assert _total(on.timeseries, "appeals") > 0
    assert _total(on.timeseries, "reinstated") > 0
    s = on.summary
    assert 0 < s["reinstated_share"] <= 1
    # legitimate (wrongly removed) posts make most of what is reinstated
    cat = on.categories.to_pylist()
    legit = sum(r["reinstated"] for r in cat if r["category"] != "illegal_harm")
    assert legit > 0


def test_reinstated_wrongful_posts_are_visible_again() -> None:
    """The posts whose reversal is pending (at the first tick that has some) are visible
    once it is decided."""
    from tightrope.engine.simulation import Simulation

    sc = tightrope.load_scenario("eu-dsa", ON, users=1000, days=3, seed=3)
    sim = Simulation(sc)
    pending: list = []
    while not pending and sim.t < 40:
        sim.step()
        pending = _events(sim.cal, (APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK))
    assert pending
    posts = sim.posts
    mask = posts.pid.size - 1
    assert all(posts.state[pid & mask] == REMOVED for _, pid, _ in pending)
    for _ in range(26):  # a day (the decision) and a tick
        sim.step()
    kept = [pid for _, pid, _ in pending if posts.pid[pid & mask] == pid]
    visible = [pid for pid in kept if posts.state[pid & mask] == VISIBLE]
    assert len(visible) >= 0.8 * len(kept) > 0  # a few may be removed again
    legit = [pid for pid in visible if sim.consts.legit[posts.cat[pid & mask]]]
    assert legit  # wrongly removed posts among them


def test_a_higher_appeal_chance_brings_more_appeals(on: tightrope.Result) -> None:
    more = _run(STRICT + _chances(0.9, 0.3), days=3.0)  # as long as `on`: three times the chances
    _check(more)
    assert _total(more.timeseries, "appeals") > 2 * _total(on.timeseries, "appeals")
    assert more.summary["appeal_share"] > on.summary["appeal_share"]


@pytest.mark.slow
def test_a_resumed_run_keeps_the_pending_reversals(tmp_path, on: tightrope.Result) -> None:
    def some_pending(sim) -> None:
        assert _events(sim.cal, (APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK))

    sc = tightrope.load_scenario("eu-dsa", ON, users=1000, days=3, seed=3)
    assert_resumes_identically(sc, 30, on, tmp_path, some_pending)


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "line"),
    [
        (
            "platforms.microblog.moderation.appeals.reversal_accuracy=1.5",
            "platforms.microblog.moderation.appeals.reversal_accuracy: Input should be less "
            "than or equal to 1 (got 1.5)",
        ),
        (
            "platforms.microblog.moderation.appeals.decision_minutes=3000",
            "platforms.microblog.moderation.appeals.decision_minutes: Input should be less "
            "than or equal to 2880 (got 3000)",
        ),
        (
            "platforms.microblog.moderation.appeals.appeal_chance_rightful=0.2",
            "platforms.microblog.moderation.appeals: appeal_chance_rightful (0.2) "
            "must not exceed appeal_chance_wrongful (0.05)",
        ),
    ],
)
def test_a_bad_setting_is_refused_with_its_message(override: str, line: str) -> None:
    with pytest.raises(tightrope.InputError) as err:
        tightrope.load_scenario("eu-dsa", [override])
    assert err.value.problems == [line]
