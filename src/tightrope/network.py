"""The social network: a directed follower graph in CSR form and private circles.

`followers_ptr`/`followers_idx` list, for each account, the accounts that follow it (the
direction content flows). A follower sees a post on a platform only if both use that
platform, so per-platform layers are the one graph filtered by platform membership.
Private messaging runs over small mutual circles: a partition of users into groups.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from .errors import InputError


class Graph(NamedTuple):
    n: int
    followers_ptr: np.ndarray  # int64 (n + 1,)
    followers_idx: np.ndarray  # int32 (edges,)
    circle_ptr: np.ndarray  # int64 (circles + 1,)
    circle_members: np.ndarray  # int32 (n,)
    circle_of: np.ndarray  # int32 (n,): the circle each user belongs to


@njit(cache=True)
def _csr_from_edges(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of dst -> list of src (followers of each followee), edges kept in input order."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(dst.size):
        ptr[dst[e] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    idx = np.empty(src.size, dtype=np.int32)
    for e in range(dst.size):
        d = dst[e]
        idx[fill[d]] = src[e]
        fill[d] += 1
    return ptr, idx


@njit(cache=True)
def _csr_from_draws(k_out: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of followee -> followers from each user's consecutive draws of followees
    (user u's are the next k_out[u] entries of dst), self-follows dropped; followers in
    increasing id order, as `_csr_from_edges` would give. No source array is built."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    e = 0
    for u in range(n):
        for _ in range(k_out[u]):
            d = dst[e]
            if d != u:
                ptr[d + 1] += 1
            e += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    idx = np.empty(ptr[n], dtype=np.int32)
    e = 0
    for u in range(n):
        for _ in range(k_out[u]):
            d = dst[e]
            if d != u:
                idx[fill[d]] = u
                fill[d] += 1
            e += 1
    return ptr, idx


@njit(cache=True)
def _dedupe_rows(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row and drop repeated followers (in place in `idx`; returns a trimmed
    copy)."""
    n = ptr.size - 1
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    k = 0
    for i in range(n):
        lo, hi = ptr[i], ptr[i + 1]
        idx[lo:hi].sort()
        last = -1
        for j in range(lo, hi):
            v = idx[j]
            if v != last:
                idx[k] = v
                k += 1
                last = v
        out_ptr[i + 1] = k
    return out_ptr, idx[:k].copy()


def circles(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Partition users at random into circles of `size` (the last may be smaller)."""
    members = rng.permutation(n).astype(np.int32)
    n_circles = (n + size - 1) // size
    ptr = np.minimum(np.arange(n_circles + 1, dtype=np.int64) * size, n)
    circle_of = np.empty(n, dtype=np.int32)
    circle_of[members] = (np.arange(n) // size).astype(np.int32)
    return ptr, members, circle_of


@njit(cache=True)
def alias_table(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table (Vose's construction) for drawing index i with probability
    proportional to weight[i] in O(1): draw column j uniformly, keep it with chance
    accept[j], else take alias[j]."""
    n = weight.size
    total = 0.0
    for i in range(n):
        total += weight[i]
    scaled = np.empty(n, dtype=np.float64)
    for i in range(n):
        scaled[i] = weight[i] * n / total
    accept = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    small = np.empty(n, dtype=np.int32)
    large = np.empty(n, dtype=np.int32)
    ns = nl = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        g = large[nl - 1]
        accept[s] = scaled[s]
        alias[s] = g
        scaled[g] = (scaled[g] + scaled[s]) - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    return accept, alias


@njit(cache=True)
def _alias_draw(accept: np.ndarray, alias: np.ndarray, u: np.ndarray, out: np.ndarray) -> None:
    """out[k] = an index drawn from the alias table with the uniform u[k] (one uniform
    gives the column and, from its remaining bits, the acceptance test)."""
    n = accept.size
    for k in range(u.size):
        x = u[k] * n
        j = min(int(x), n - 1)
        out[k] = j if x - j < accept[j] else alias[j]


DRAW_CHUNK = 1 << 22


def synthetic(
    n: int,
    mean_following: float,
    alpha: float,
    popularity_boost: np.ndarray,
    circle_size: int,
    rng: np.random.Generator,
) -> Graph:
    """A follower graph with a heavy-tailed in-degree.

    Each user follows a Poisson number of accounts (mean `mean_following`, at most n - 1);
    each followee is drawn with probability proportional to its popularity, a Pareto(alpha)
    weight times `popularity_boost` (influencers, media and official accounts are boosted).
    In-degree then has a power-law tail with exponent about `alpha`. Followees are drawn
    with an alias table, in chunks (the same draws whatever the chunk size), so building
    the graph costs O(edges) time and little memory beyond the edges themselves.
    """
    weight = (rng.pareto(alpha - 1.0, n) + 1.0) * popularity_boost
    accept, alias = alias_table(weight)
    k_out = np.minimum(rng.poisson(mean_following, n), max(n - 1, 0))
    draws = int(k_out.sum())
    dst = np.empty(draws, dtype=np.int32)
    for lo in range(0, draws, DRAW_CHUNK):
        hi = min(lo + DRAW_CHUNK, draws)
        _alias_draw(accept, alias, rng.random(hi - lo), dst[lo:hi])
    ptr, idx = _csr_from_draws(k_out, dst, n)
    del dst
    ptr, idx = _dedupe_rows(ptr, idx)
    cptr, members, circle_of = circles(n, circle_size, rng)
    return Graph(n, ptr, idx, cptr, members, circle_of)


def read_edge_list(path: str | Path, circle_size: int, rng: np.random.Generator) -> Graph:
    """A follower graph from a file of 'follower followee' pairs of integer ids.

    Ids must be 0..n-1; the number of users is the largest id + 1. Lines starting with '#'
    are comments; separators may be spaces, tabs or commas.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"network.edge_list: file not found: {path}")
    try:
        text = p.read_text("utf-8").replace(",", " ")
        with warnings.catch_warnings():  # an empty file is reported below, not warned
            warnings.simplefilter("ignore", UserWarning)
            data = np.loadtxt(io.StringIO(text), dtype=np.int64, comments="#", ndmin=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"network.edge_list: {path} is not a list of integer pairs: {exc}"
        ) from None
    if data.size == 0:
        raise InputError(f"network.edge_list: {path} has no edges")
    if data.shape[1] != 2:
        raise InputError(
            f"network.edge_list: {path} must have 2 columns (follower followee), "
            f"has {data.shape[1]}"
        )
    if data.min() < 0:
        raise InputError(f"network.edge_list: {path} has a negative id; ids must be 0..n-1")
    n = int(data.max()) + 1
    src = data[:, 0].astype(np.int32)
    dst = data[:, 1].astype(np.int32)
    keep = src != dst
    ptr, idx = _csr_from_edges(src[keep], dst[keep], n)
    ptr, idx = _dedupe_rows(ptr, idx)
    cptr, members, circle_of = circles(n, circle_size, rng)
    return Graph(n, ptr, idx, cptr, members, circle_of)
