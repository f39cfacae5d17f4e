"""The reference subset: its invariants, its timing rules on a hand-checkable graph,
determinism, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tightrope.core.rng import STREAM, make_streams
from tightrope.errors import InputError
from tightrope.peers.reference import ReferenceParams, reference_world, run_reference, streams


@pytest.fixture(scope="module")
def world():
    return reference_world(600, 2, posts_per_day=4.0)


def run(world, seed=1, **kw):
    g, rates = world
    params = ReferenceParams(**{"days": 2.0, "q": 0.2, "r": 0.03, "d": 0.2, "c": 3, **kw})
    return run_reference(g.followers_ptr, g.followers_idx, rates, params, seed)


def chain(n: int) -> tuple[np.ndarray, np.ndarray]:
    """0 -> 1 -> ... -> n-1: user i's only follower is i + 1."""
    ptr = np.concatenate([np.arange(n, dtype=np.int64), [n - 1]])
    idx = np.arange(1, n, dtype=np.int32)
    return ptr, idx


def test_invariants(world):
    res = run(world)
    s = res.summary
    n_posts = res.author.size
    assert s["posts"] == n_posts > 500
    assert s["prohibited_posts"] == res.prohibited.sum() > 0
    assert s["views"] == res.views.sum() > s["posts"]
    flagged = res.flagged_tick >= 0
    removed = res.removed_tick >= 0
    assert 0 < s["removed"] == removed.sum() <= s["flagged"] == flagged.sum()
    assert s["flagged"] <= s["prohibited_posts"]
    assert np.all(res.prohibited[flagged] == 1)  # only prohibited posts are flagged
    assert np.all(flagged[removed])  # only flagged posts are removed
    assert np.all(res.removed_tick[removed] >= res.flagged_tick[removed])
    assert np.all(res.flagged_tick[flagged] > res.created[flagged])  # first views come later
    assert s["removed_share"] == pytest.approx(s["removed"] / s["prohibited_posts"])
    waits = res.removed_tick[removed] - res.flagged_tick[removed]
    assert s["mean_wait_ticks"] == pytest.approx(waits.mean())
    assert s["queue_left"] == s["flagged"] - s["removed"]
    # at most c reviews a tick, and the queue is first in, first out
    assert np.bincount(res.removed_tick[removed]).max() <= 3
    queue_order = np.lexsort((np.arange(n_posts)[flagged], res.flagged_tick[flagged]))
    served = res.removed_tick[flagged][queue_order]
    done = served >= 0
    assert np.all(done[: done.sum()])  # the reviewed posts are the first in the queue
    assert np.all(np.diff(served[done]) >= 0)
    # a user sees a post at most once, the author never
    assert res.views.max() <= world[0].n - 1
    assert s["mean_cascade_size"] == pytest.approx(res.views.mean())
    assert s["max_cascade_size"] == res.views.max()


def test_no_capacity_removes_nothing(world):
    res = run(world, c=0)
    assert res.summary["removed"] == 0
    assert res.summary["views_lost"] == 0
    assert np.all(res.removed_tick == -1)
    assert res.summary["flagged"] > 0
    assert res.summary["queue_left"] == res.summary["flagged"]
    assert np.isnan(res.summary["mean_wait_ticks"])


def test_without_reshares_views_are_the_authors_followers(world):
    g, _ = world
    res = run(world, r=0.0)
    followers = np.diff(g.followers_ptr)
    ticks = ReferenceParams(days=2.0).ticks
    delivered = res.created < ticks - 1  # shares of the last tick are never delivered
    assert res.summary["reshares"] == 0
    assert np.array_equal(res.views[delivered], followers[res.author[delivered]])
    assert np.all(res.views[~delivered] == 0)
    assert res.summary["views"] == followers[res.author[delivered]].sum()


def test_one_hop_per_tick_and_reshares_reach_everyone_downstream():
    n = 5
    ptr, idx = chain(n)
    rates = np.zeros(n)
    rates[0] = 0.5  # only user 0 posts
    params = ReferenceParams(days=2.0, q=0.0, r=1.0, d=0.0, c=0)
    res = run_reference(ptr, idx, rates, params, 3)
    assert np.all(res.author == 0)
    assert res.author.size > 5
    # a post made in tick t is seen by user k in tick t + k: users 1..4 within 4 ticks
    expected = np.clip(params.ticks - 1 - res.created, 0, n - 1)
    assert np.array_equal(res.views, expected)
    assert res.summary["reshares"] == res.summary["views"]


def test_removal_stops_spreading():
    n = 6
    ptr, idx = chain(n)
    rates = np.zeros(n)
    rates[0] = 0.3
    # every post is prohibited and flagged by its first viewer (tick t + 1), reviewed at the
    # end of that tick, so user 2 gets a delivery in t + 2 that is lost
    params = ReferenceParams(days=3.0, q=1.0, r=1.0, d=1.0, c=100)
    res = run_reference(ptr, idx, rates, params, 4)
    seen = res.created < params.ticks - 1
    assert np.all(res.views[seen] == 1)
    assert np.all(res.flagged_tick[seen] == res.created[seen] + 1)
    assert np.all(res.removed_tick[seen] == res.created[seen] + 1)
    assert res.summary["mean_wait_ticks"] == 0
    lost = (res.created < params.ticks - 2).sum()
    assert res.summary["views_lost"] == lost


def test_posting_rates():
    n = 200
    ptr = np.zeros(n + 1, dtype=np.int64)
    idx = np.zeros(0, dtype=np.int32)
    rates = np.where(np.arange(n) % 2 == 0, 0.25, 0.0)
    params = ReferenceParams(days=10.0, q=0.3, r=0.0, d=0.0, c=0)
    res = run_reference(ptr, idx, rates, params, 5)
    expected = rates.sum() * params.ticks  # 6000
    assert abs(res.author.size - expected) < 5 * np.sqrt(expected)
    assert np.all(res.author % 2 == 0)  # users with rate 0 never post
    per_user = np.bincount(res.author, minlength=n)[::2]
    mean = rates[0] * params.ticks
    assert per_user.var() == pytest.approx(mean, rel=0.3)  # Poisson: variance = mean
    assert res.prohibited.mean() == pytest.approx(0.3, abs=0.03)
    assert np.all(np.diff(res.created) >= 0)  # ids in order of posting


def test_streams_are_the_models_streams():
    rows = streams(12, ("intents", "category", "reshare", "report"))
    all_rows = make_streams(12)
    for k, name in enumerate(("intents", "category", "reshare", "report")):
        assert np.array_equal(rows[k], all_rows[STREAM[name]])


def test_summary_quantiles_are_numpys(world):
    res = run(world)
    assert res.summary["cascade_size_p90"] == pytest.approx(np.quantile(res.views, 0.9))
    assert res.summary["cascade_size_p99"] == pytest.approx(np.quantile(res.views, 0.99))


def test_viewer_lists_and_bitmaps_give_the_same_run(world):
    g, rates = world
    params = ReferenceParams(days=2.0, q=0.2, r=0.05, d=0.2, c=3)
    runs = [
        run_reference(g.followers_ptr, g.followers_idx, rates, params, 3, bitmap_above=b)
        for b in (-1, 0, 10**9)  # default, bitmaps always, lists always
    ]
    assert runs[0].summary["max_cascade_size"] > 100  # posts big enough to matter
    for other in runs[1:]:
        assert other.summary == runs[0].summary
        for x, y in zip(other[1:], runs[0][1:], strict=True):
            assert np.array_equal(x, y)


def test_determinism(world):
    a = run(world, seed=7)
    b = run(world, seed=7)
    c = run(world, seed=8)
    for x, y in zip(a[1:], b[1:], strict=True):
        assert np.array_equal(x, y)
    assert a.summary == b.summary
    assert a.summary != c.summary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"q": 1.5}, "q must be a probability in [0, 1]"),
        ({"c": -1}, "c (reviews per tick) must be an integer >= 0"),
        ({"c": 2.5}, "c (reviews per tick) must be an integer >= 0"),
        ({"days": 0}, "days must be a number in (0, 3650]"),
        ({"rates": np.array([0.1, -1.0, 0.1])}, "rates (posts per hour) must be finite"),
        ({"rates": np.array([0.1])}, "rates must be one number per user (3)"),
        ({"seed": -2}, "seed must be a non-negative integer"),
    ],
)
def test_bad_input_is_refused(change, message):
    ptr, idx = chain(3)
    args = {"rates": np.full(3, 0.1), "seed": 0}
    params = {}
    for key, value in change.items():
        (args if key in args else params)[key] = value
    with pytest.raises(InputError) as err:
        run_reference(ptr, idx, args["rates"], ReferenceParams(**params), args["seed"])
    assert message in str(err.value)
