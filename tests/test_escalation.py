"""Escalation of hard cases to a second tier (docs/model.md 7.10): the rules, a removal
deferred on a tiny world, the direction in small runs, and a bad setting's message."""

from __future__ import annotations

import math

import pytest

import tightrope
from helpers import TinyWorld, assert_resumes_identically, stream
from tightrope.core import counters as K
from tightrope.model.escalation import ES_MEDIAN, ES_SHARE, ES_SIGMA, escalates, escalation_delay
from tightrope.model.moderation import heap_push, serve_escalations, serve_reviews
from tightrope.scenario.content import CATEGORIES, PENDING, REMOVED, VISIBLE

CAT = {c: i for i, c in enumerate(CATEGORIES)}


def test_escalation_delay_is_lognormal_around_its_median() -> None:
    assert escalation_delay(2880.0, 1.0, 0.0) == 2880.0
    assert escalation_delay(2880.0, 1.0, 1.0) == pytest.approx(2880.0 * math.e)
    assert escalation_delay(2880.0, 0.5, -2.0) == pytest.approx(2880.0 * math.exp(-1.0))
    assert escalation_delay(0.5, 0.0, 0.0) == 1.0  # at least a minute
    assert escalation_delay(1e8, 3.0, 10.0) == 1e9  # capped


def test_escalates_below_the_share() -> None:
    assert escalates(0.1, 0.05)
    assert not escalates(0.1, 0.1)
    assert not escalates(0.0, 0.0)


def _queued(sim, pid: int, cat: str, state: int, author: int = 0, created: int = 0) -> int:
    """Post `pid` of category `cat` in its slot, in `state`, waiting in platform 0's review
    queue as a reported post."""
    posts = sim.posts
    slot = pid & (posts.pid.size - 1)
    posts.pid[slot], posts.cat[slot], posts.platform[slot] = pid, CAT[cat], 0
    posts.author[slot], posts.created[slot], posts.state[slot] = author, created, state
    posts.reach[slot] = 1.0
    posts.queued[slot], posts.queued_by[slot] = 1, 1
    posts.counts[1 + state] += 1
    posts.counts[5] = max(posts.counts[5], pid + 1)
    assert heap_push(sim.queues, 0, 10.0, pid, created)
    return slot


def _staffed(sim) -> None:
    """Platform 0's reviewers can decide many posts this minute."""
    sim.consts.p_reviewers[0] = 100.0
    sim.rules.effort[0] = 1.0
    sim.queues.capacity_left[0] = 10.0


def _streams() -> tuple:
    return (
        stream("review"),
        stream("exposure"),
        stream("punishment"),
        stream("appeals"),
        stream("escalation"),
    )


def test_an_escalated_removal_waits_for_its_due_minute(tiny_world: TinyWorld) -> None:
    sim = tiny_world("eu-dsa")
    consts, rules, q = sim.consts, sim.rules, sim.queues
    ih = CAT["illegal_harm"]
    consts.p_escalation[0, ES_SHARE] = 1.0  # every removal goes to the second tier
    consts.p_escalation[0, ES_MEDIAN] = 600.0
    consts.p_escalation[0, ES_SIGMA] = 0.0  # exactly ten hours
    rules.remove_prob[0, ih] = 1.0
    _staffed(sim)
    shown = _queued(sim, 0, "illegal_harm", VISIBLE, author=3, created=95)
    held = _queued(sim, 1, "illegal_harm", PENDING, author=4, created=96)
    serve_reviews(100, 12, sim.world(), sim.tally, *_streams())
    n = consts.n_platforms
    assert sim.tc[K.ESCALATED] == 2
    assert q.size[0] == 0
    assert q.size[n] == 2
    assert sim.posts.state[shown] == VISIBLE
    assert sim.posts.state[held] == PENDING
    assert sim.tc[K.REMOVED] == 0
    due = -q.key[n, 0]
    assert 700.0 < due < 702.0  # the review's decision (minute 100 and a bit) + 600
    rs_punish, rs_appeal = stream("punishment"), stream("appeals")
    assert serve_escalations(int(due) - 1, sim.world(), sim.tally, rs_punish, rs_appeal) == 0
    assert serve_escalations(int(due) + 1, sim.world(), sim.tally, rs_punish, rs_appeal) == 2
    assert sim.posts.state[shown] == sim.posts.state[held] == REMOVED
    assert q.size[n] == 0
    assert sim.tc[K.REMOVED] == 2
    assert sim.tc[K.REMOVED_PUBLISHED] == 1
    assert sim.tc[K.HELD_REMOVED] == 1
    assert sim.category[ih, K.ROUTE_REPORT] == 2  # the review's route
    removal_minutes = sim.hist[K.HIST_REMOVAL]
    assert removal_minutes.sum() == 1  # the published one, at its due minute
    assert removal_minutes[int(due - 95.0)] == 1  # minute bins up to a day


def test_a_post_gone_before_its_due_minute_is_not_removed_again(tiny_world: TinyWorld) -> None:
    sim = tiny_world("eu-dsa")
    consts, rules = sim.consts, sim.rules
    ih = CAT["illegal_harm"]
    consts.p_escalation[0, ES_SHARE] = 1.0
    consts.p_escalation[0, ES_SIGMA] = 0.0
    rules.remove_prob[0, ih] = 1.0
    _staffed(sim)
    slot = _queued(sim, 0, "illegal_harm", VISIBLE)
    serve_reviews(10, 12, sim.world(), sim.tally, *_streams())
    sim.posts.state[slot] = REMOVED  # the author deleted it meanwhile
    sim.posts.queued[slot] = 0
    late = 10 + int(consts.p_escalation[0, ES_MEDIAN]) + 5
    assert serve_escalations(late, sim.world(), sim.tally, stream("punishment"), stream()) == 0
    assert sim.tc[K.REMOVED] == 0


def test_no_share_no_draw(tiny_world: TinyWorld) -> None:
    """With share 0 the stream is not drawn from and the removal takes effect at once."""
    sim = tiny_world("eu-dsa")
    sim.consts.p_escalation[0, ES_SHARE] = 0.0  # the preset's microblog escalates
    sim.rules.remove_prob[0, CAT["illegal_harm"]] = 1.0
    _staffed(sim)
    slot = _queued(sim, 0, "illegal_harm", VISIBLE)
    streams = _streams()
    before = streams[4].copy()
    serve_reviews(10, 12, sim.world(), sim.tally, *streams)
    assert (streams[4] == before).all()
    assert sim.posts.state[slot] == REMOVED
    assert sim.tc[K.ESCALATED] == 0


ESCALATING = [
    f"platforms.{p}.moderation.escalation.{k}={v}"
    for p in ("microblog", "foreign")
    for k, v in (("share", 0.3), ("delay_median_hours", 72.0), ("delay_sigma", 0.5))
]


def test_escalation_leaves_a_tail_of_late_removals() -> None:
    """More hard cases: fewer removals within a day, and every one escalated counted."""
    off = [o.replace("share=0.3", "share=0.0") for o in ESCALATING]
    base = tightrope.run(tightrope.load_scenario("eu-dsa", off, users=1500, days=4, seed=3))
    other = [o.replace("72.0", "5.0") for o in off]
    same = tightrope.run(tightrope.load_scenario("eu-dsa", other, users=1500, days=4, seed=3))
    late = tightrope.run(tightrope.load_scenario("eu-dsa", ESCALATING, users=1500, days=4, seed=3))
    assert same.summary == base.summary  # share 0: the delay changes nothing, nothing drawn
    assert base.summary["escalated"] == 0
    assert late.summary["escalated"] > 0
    assert late.summary["deleted_within_24h_share"] < base.summary["deleted_within_24h_share"]
    assert late.summary["median_minutes_to_removal"] >= base.summary["median_minutes_to_removal"]


def test_a_run_resumed_with_removals_pending_is_bit_identical(tmp_path) -> None:
    """Escalated removals waiting in the second tier are saved with a checkpoint."""
    fast = ESCALATING + [
        f"platforms.{p}.moderation.escalation.delay_median_hours=6.0"
        for p in ("microblog", "foreign")
    ]
    sc = tightrope.load_scenario("eu-dsa", fast, users=1000, days=1, seed=3)
    whole = tightrope.run(sc)
    assert whole.summary["escalated"] > 0

    def pending(sim) -> None:
        n = sim.consts.n_platforms
        assert sim.queues.size[n:].sum() > 0  # removals are waiting when the run is saved

    assert_resumes_identically(sc, 12, whole, tmp_path, before_saving=pending)


def test_a_bad_delay_is_named() -> None:
    with pytest.raises(tightrope.InputError) as err:
        tightrope.load_scenario(
            "eu-dsa", ["platforms.microblog.moderation.escalation.delay_median_hours=0"]
        )
    assert "platforms.microblog.moderation.escalation.delay_median_hours" in str(err.value)
