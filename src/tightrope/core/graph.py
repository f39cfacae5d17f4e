"""The follower graph as the model reads it: CSR arrays of followers and private circles
(built by `tightrope.model.network`)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class Graph(NamedTuple):
    n: int
    followers_ptr: np.ndarray  # int64 (n + 1,)
    followers_idx: np.ndarray  # int32 (edges,)
    circle_ptr: np.ndarray  # int64 (circles + 1,)
    circle_members: np.ndarray  # int32 (n,)
    circle_of: np.ndarray  # int32 (n,): the circle each user belongs to


def followee_counts(graph: Graph) -> np.ndarray:
    """How many accounts each user follows (out-degree), int64 (n,): how often each user
    appears among the followers rows."""
    return np.bincount(graph.followers_idx, minlength=graph.n).astype(np.int64)


@njit(cache=True, inline="always")
def in_sorted_row(ptr, idx, row, v) -> bool:
    """Is v in row `row` of a CSR whose rows are sorted (binary search)?"""
    lo = ptr[row]
    hi = ptr[row + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if idx[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo < ptr[row + 1] and idx[lo] == v


@njit(cache=True)
def transpose_lists(off, cnt, lst, n):
    """CSR of u -> the v's whose list (`lst[off[v]:off[v] + cnt[v]]`) holds u; v ascending,
    so the rows come sorted."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for v in range(n):
        for j in range(off[v], off[v] + cnt[v]):
            ptr[lst[j] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    idx = np.empty(ptr[n], dtype=np.int32)
    for v in range(n):
        for j in range(off[v], off[v] + cnt[v]):
            u = lst[j]
            idx[fill[u]] = v
            fill[u] += 1
    return ptr, idx
