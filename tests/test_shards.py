"""Shards (issue 22's first step, tightrope.core.shards; docs/scale.md): the split of a
population into contiguous ranges cut where communities end, and the share of follows it
keeps inside its shards."""

from __future__ import annotations

import numpy as np
import pytest

import tightrope
from helpers import follow_edges, graph_from_follows
from tightrope.core.shards import follow_locality, shard_bounds, shard_of
from tightrope.model.network import build_network


def test_bounds_cover_the_users_and_cut_where_communities_end() -> None:
    community = np.repeat(np.arange(10), [5, 5, 12, 3, 8, 7, 20, 4, 6, 10])  # 80 users
    starts = set(np.flatnonzero(np.r_[True, community[1:] != community[:-1]]).tolist())
    for shards in (1, 2, 3, 4, 7):
        b = shard_bounds(80, shards, community)
        assert (b[0], b[-1], b.size) == (0, 80, shards + 1)
        assert np.all(np.diff(b) > 0)
        assert set(b[1:-1].tolist()) <= starts  # no community split
        assert np.diff(b).max() <= 80 / shards + 20  # even, up to the largest community


def test_bounds_without_communities_are_even_and_never_empty() -> None:
    assert shard_bounds(10, 4).tolist() == [0, 2, 5, 8, 10]  # round(2.5) = 2, round(7.5) = 8
    assert shard_bounds(3, 3).tolist() == [0, 1, 2, 3]
    # one community of everyone: cuts fall at the even places instead of leaving empty shards
    assert shard_bounds(9, 3, np.zeros(9, dtype=np.int32)).tolist() == [0, 3, 6, 9]


def test_bad_shard_counts_are_refused() -> None:
    with pytest.raises(
        ValueError, match=r"shards must be between 1 and the number of users \(5\); got 6"
    ):
        shard_bounds(5, 6)
    with pytest.raises(ValueError, match=r"got 0"):
        shard_bounds(5, 0)
    with pytest.raises(ValueError, match=r"one entry per user \(5\)"):
        shard_bounds(5, 2, np.zeros(4, dtype=np.int32))


def test_shard_of_reads_the_bounds() -> None:
    b = np.array([0, 3, 5, 9])
    assert shard_of(b, np.arange(9)).tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2]


def test_follow_locality_counts_the_follows_inside_shards() -> None:
    # 1 and 3 follow 0; 0 follows 2; 2 follows 3
    g = graph_from_follows(4, [(1, 0), (3, 0), (0, 2), (2, 3)])
    assert follow_locality(g, np.array([0, 4])) == 1.0
    assert follow_locality(g, np.array([0, 2, 4])) == 0.5  # (0, 1) and (3, 2) stay
    assert follow_locality(g, np.array([0, 1, 2, 3, 4])) == 0.0
    assert np.isnan(follow_locality(graph_from_follows(3, []), np.array([0, 3])))


def test_community_cuts_keep_more_follows_than_a_random_split() -> None:
    """The structured generator's communities are contiguous: cutting at their ends keeps
    their follows together, far more than the 1 / shards of a split that ignores them
    (measured at 100,000 and 1,000,000 users in benchmarks/shards.py)."""
    sc = tightrope.load_scenario("us-self-regulation", users=20_000, days=1, seed=1)
    built = build_network(sc)
    g = built.graph
    b = shard_bounds(g.n, 8, built.community)
    inside = follow_locality(g, b)
    shard = shard_of(b, np.arange(g.n))
    rng = np.random.default_rng(0)
    scattered = rng.permutation(shard)  # the same shard sizes, users placed at random
    followee, follower = follow_edges(g)
    random_share = float((scattered[followee] == scattered[follower]).mean())
    print(f"follows kept in 8 shards: {inside:.3f} (random placement {random_share:.3f})")
    assert inside > 2.5 * random_share
    assert abs(random_share - 1 / 8) < 0.01
