"""How a population is split into shards, and how much of the follower graph a split keeps
inside its shards (issue 22's first step; docs/scale.md).

A shard owns a contiguous range of user ids. The structured generator lays regions and
their communities out as contiguous id ranges (`tightrope.model.follow_graph`), so a split
that cuts only where a community ends keeps every community, and the follows drawn inside
it, in one shard. `shard_bounds` makes such a split, balanced by users; `follow_locality`
measures the share of follows whose two ends it keeps together, which sets how much a
sharded run must exchange between shards (every follow across shards carries exposures
and reshares). Nothing here draws a random number.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tightrope.core.graph import Graph


def shard_bounds(n: int, shards: int, community: np.ndarray | None = None) -> np.ndarray:
    """Bounds of `shards` contiguous ranges of user ids that cover 0..n: shard s owns ids
    `bounds[s]` to `bounds[s + 1] - 1`. int64, shape (shards + 1,), strictly increasing.

    Each cut is the community start nearest to `s x n / shards` (`community`: each user's
    community, as contiguous runs of equal values), so that no community is split; a cut
    that would leave a shard empty, or that has no community start to use (`community`
    None: an edge list), falls at `round(s x n / shards)` instead. Shards are then as even
    as the communities allow: none is larger than n / shards plus the largest community.
    ValueError when `shards` is not between 1 and n."""
    if not 1 <= shards <= max(n, 1):
        raise ValueError(f"shards must be between 1 and the number of users ({n}); got {shards}")
    bounds = np.zeros(shards + 1, dtype=np.int64)
    bounds[shards] = n
    starts = None
    if community is not None and n > 0:
        if community.shape != (n,):
            raise ValueError(f"community must have one entry per user ({n}); got {community.shape}")
        starts = np.flatnonzero(np.r_[True, community[1:] != community[:-1]]).astype(np.int64)
    for s in range(1, shards):
        target = s * n / shards
        cut = round(target)
        if starts is not None:
            j = int(np.searchsorted(starts, target))
            near = [starts[i] for i in (j - 1, j) if 0 <= i < starts.size]
            cut = int(min(near, key=lambda c: (abs(c - target), c)))
        lowest, highest = bounds[s - 1] + 1, n - (shards - s)  # room for the shards left
        if not lowest <= cut <= highest:
            cut = min(max(round(target), lowest), highest)
        bounds[s] = cut
    return bounds


def shard_of(bounds: np.ndarray, users: np.ndarray) -> np.ndarray:
    """The shard that owns each of `users` (ids), from `shard_bounds`' bounds."""
    return (np.searchsorted(bounds, users, side="right") - 1).astype(np.int32)


@njit(cache=True)
def _follows_within(followers_ptr, followers_idx, bounds) -> int:
    """How many follows have both ends in one shard (row i of the follower CSR lists i's
    followers)."""
    within = 0
    for s in range(bounds.size - 1):
        lo, hi = bounds[s], bounds[s + 1]
        for i in range(lo, hi):
            for j in range(followers_ptr[i], followers_ptr[i + 1]):
                f = followers_idx[j]
                if lo <= f < hi:
                    within += 1
    return within


def follow_locality(graph: Graph, bounds: np.ndarray) -> float:
    """Share of the follows whose follower and followed account are in the same shard (1
    with one shard; 1 / shards on average for a split that ignores the graph). NaN for a
    graph without follows."""
    edges = graph.followers_idx.size
    if edges == 0:
        return float("nan")
    return _follows_within(graph.followers_ptr, graph.followers_idx, bounds) / edges
