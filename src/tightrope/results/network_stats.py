"""Statistics of a follower graph, to compare it with published measurements of real ones.

`network_stats` returns plain Python values (JSON-serialisable). Definitions:

- degrees: in-degree is an account's followers, out-degree the accounts a user follows.
- tail exponents: Clauset, Shalizi and Newman (SIAM Review 2009): xmin is the value that
  minimises the Kolmogorov-Smirnov distance between the tail and the fit, among values
  leaving at least `min_tail` points; alpha is the discrete approximate MLE
  1 + m / sum(ln(x / (xmin - 1/2))) (their eq. 3.7). Reported with xmin and the tail's size.
- reciprocity: the share of edges whose reverse edge exists (Newman's r; note that "the
  share of connected pairs that are mutual" is a different, smaller number).
- clustering: the graph as undirected (an edge either way is one tie). The average local
  clustering coefficient (Watts-Strogatz; users with fewer than two ties count 0) is exact
  when n <= `sample`, else the mean over `sample` users drawn uniformly with a fixed seed
  (key `clustering_sampled` says which). Global transitivity (3 x triangles / connected
  triples) is estimated from `wedges` connected triples drawn uniformly.
- top shares: the share of all follows that go to the top 1% / 0.1% of accounts by
  followers; and how many accounts are followed by more than 10% of users.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from tightrope.core.graph import Graph, followee_counts, in_sorted_row

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@njit(cache=True, parallel=True)
def reciprocated_edges(ptr, idx, tptr, tidx) -> int:
    """Edges whose reverse exists: for each user, the size of the intersection of its
    followers row and its followees row (`tptr`/`tidx`, the transpose), both sorted, so
    one merge per user reads memory in order."""
    n = ptr.size - 1
    total = 0
    for u in prange(n):
        a, ae, b, be = ptr[u], ptr[u + 1], tptr[u], tptr[u + 1]
        c = 0
        while a < ae and b < be:
            if idx[a] < tidx[b]:
                a += 1
            elif idx[a] > tidx[b]:
                b += 1
            else:
                c += 1
                a += 1
                b += 1
        total += c
    return total


@njit(cache=True)
def transpose(ptr, idx):
    """The CSR of the reverse edges (rows sorted)."""
    n = ptr.size - 1
    tptr = np.zeros(n + 1, dtype=np.int64)
    for j in range(idx.size):
        tptr[idx[j] + 1] += 1
    for i in range(n):
        tptr[i + 1] += tptr[i]
    fill = tptr[:-1].copy()
    tidx = np.empty(idx.size, dtype=np.int32)
    for u in range(n):
        for j in range(ptr[u], ptr[u + 1]):
            v = idx[j]
            tidx[fill[v]] = u
            fill[v] += 1
    return tptr, tidx


@njit(cache=True, parallel=True)
def undirected(ptr, idx, tptr, tidx):
    """Row-wise union of the followers and followees rows (sorted, deduplicated, no self)."""
    n = ptr.size - 1
    deg = np.zeros(n, dtype=np.int64)
    for step in range(2):
        if step == 1:
            uptr = np.zeros(n + 1, dtype=np.int64)
            for i in range(n):
                uptr[i + 1] = uptr[i] + deg[i]
            uidx = np.empty(uptr[n], dtype=np.int32)
        else:
            uptr = np.zeros(1, dtype=np.int64)
            uidx = np.zeros(0, dtype=np.int32)
        for i in prange(n):
            a, ae, b, be = ptr[i], ptr[i + 1], tptr[i], tptr[i + 1]
            k = 0
            last = -1
            while a < ae or b < be:
                if b >= be or (a < ae and idx[a] <= tidx[b]):
                    v = idx[a]
                    a += 1
                else:
                    v = tidx[b]
                    b += 1
                if v != last and v != i:
                    if step == 1:
                        uidx[uptr[i] + k] = v
                    k += 1
                    last = v
            deg[i] = k
    return uptr, uidx


@njit(cache=True, inline="always")
def _slot(w, keys, stamps, mask, stamp) -> int:
    """Where w is, or would go, in the open-addressing set of node `stamp`."""
    h = (w * 2654435761) & mask
    while stamps[h] == stamp and keys[h] != w:
        h = (h + 1) & mask
    return h


@njit(cache=True, parallel=True)
def local_clustering(uptr, uidx, nodes, chunks):
    """Local clustering coefficient of each node in `nodes` (0 below two ties): the ties
    among its neighbours, sum over neighbours v of |N(u) & N(v)| / 2. N(u) goes in a hash
    set, and v's row is scanned against it; a hub v (row over 8 x u's) is instead looked
    up for each of u's neighbours, so a hub costs u's degree, not its own."""
    out = np.zeros(nodes.size, dtype=np.float64)
    dmax = 1
    for t in range(nodes.size):
        dmax = max(dmax, uptr[nodes[t] + 1] - uptr[nodes[t]])
    size = 1
    while size < 2 * dmax + 2:
        size *= 2
    mask = size - 1
    per = (nodes.size + chunks - 1) // chunks
    for c in prange(chunks):
        keys = np.empty(size, dtype=np.int32)
        stamps = np.full(size, -1, dtype=np.int64)
        for t in range(c * per, min(nodes.size, (c + 1) * per)):
            u = nodes[t]
            du = uptr[u + 1] - uptr[u]
            if du < 2:
                continue
            for j in range(uptr[u], uptr[u + 1]):
                h = _slot(uidx[j], keys, stamps, mask, t)
                stamps[h] = t
                keys[h] = uidx[j]
            links2 = 0
            for j in range(uptr[u], uptr[u + 1]):
                v = uidx[j]
                dv = uptr[v + 1] - uptr[v]
                if dv <= 8 * du:
                    for q in range(uptr[v], uptr[v + 1]):
                        if stamps[_slot(uidx[q], keys, stamps, mask, t)] == t:
                            links2 += 1
                else:
                    for q in range(uptr[u], uptr[u + 1]):
                        if in_sorted_row(uptr, uidx, v, uidx[q]):
                            links2 += 1
            out[t] = links2 / (du * (du - 1.0))
    return out


@njit(cache=True)
def _wedge_closed(uptr, uidx, cum, draws) -> int:
    """Closed wedges among draws: each row of `draws` (3 uniforms) picks a centre with
    chance proportional to its wedges (cumulative `cum`) and two distinct neighbours."""
    closed = 0
    for t in range(draws.shape[0]):
        c = np.searchsorted(cum, draws[t, 0] * cum[-1], side="right")
        d = uptr[c + 1] - uptr[c]
        a = min(int(draws[t, 1] * d), d - 1)
        b = min(int(draws[t, 2] * (d - 1)), d - 2)
        if b >= a:
            b += 1
        if in_sorted_row(uptr, uidx, uidx[uptr[c] + a], uidx[uptr[c] + b]):
            closed += 1
    return closed


@njit(cache=True)
def _ks_scan(values, counts, min_tail):
    """Clauset-Shalizi-Newman fit over the histogram (values ascending, counts): for each
    candidate xmin leaving at least `min_tail` points, the approximate discrete MLE and the
    KS distance; returns (alpha, xmin, tail size, ks) of the best."""
    best = (math.nan, math.nan, 0.0, math.inf)
    m = values.size
    total = 0.0
    for i in range(m):
        total += counts[i]
    above = total
    for i in range(m):
        xmin = values[i]
        if above < min_tail or xmin < 1:
            above -= counts[i]
            continue
        s = 0.0
        for j in range(i, m):
            s += counts[j] * math.log(values[j] / (xmin - 0.5))
        if s <= 0:
            above -= counts[i]
            continue
        alpha = 1.0 + above / s
        ks = 0.0
        seen = 0.0
        for j in range(i, m):
            seen += counts[j]
            emp_ge_next = (above - seen) / above  # P(X > values[j])
            nxt = values[j + 1] if j + 1 < m else values[j] + 1
            fit_ge_next = ((nxt - 0.5) / (xmin - 0.5)) ** (1.0 - alpha)
            ks = max(ks, abs(emp_ge_next - fit_ge_next))
        if ks < best[3]:
            best = (alpha, float(xmin), above, ks)
        above -= counts[i]
    return best


def tail_exponent(degree: np.ndarray, min_tail: int = 50) -> dict[str, float]:
    """Power-law exponent of the degrees' upper tail (see the module's docstring)."""
    values, counts = np.unique(degree[degree > 0], return_counts=True)
    if values.size == 0:
        return {"alpha": math.nan, "xmin": math.nan, "n_tail": 0, "ks": math.nan}
    alpha, xmin, tail, ks = _ks_scan(values.astype(np.float64), counts.astype(np.float64), min_tail)
    return {"alpha": alpha, "xmin": xmin, "n_tail": int(tail), "ks": ks}


def _distribution(x: np.ndarray) -> dict[str, float]:
    pct = np.percentile(x, PERCENTILES) if x.size else np.zeros(len(PERCENTILES))
    out = {"mean": float(x.mean()) if x.size else 0.0}
    for p, v in zip(PERCENTILES, pct, strict=True):
        out[f"p{p:g}"] = float(v)
    out["max"] = int(x.max()) if x.size else 0
    return out


def _top_share(indeg: np.ndarray, frac: float) -> float:
    k = max(1, round(frac * indeg.size))
    top = np.partition(indeg, indeg.size - k)[indeg.size - k :]
    return float(top.sum() / max(1, indeg.sum()))


def _clean(x):
    """Plain Python values, NaN and infinities as None (JSON has neither)."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    return x


def network_stats(
    graph: Graph,
    region: np.ndarray | None = None,
    community: np.ndarray | None = None,
    sample: int = 10_000,
    wedges: int = 200_000,
    seed: int = 12345,
    min_tail: int = 50,
) -> dict[str, object]:
    """The follower graph's statistics (definitions in the module's docstring).

    The followers rows must be sorted and free of repeats and self-follows, as every
    generator of `tightrope.model` gives them. `sample` bounds the nodes whose clustering
    is computed, `wedges` the triples drawn for transitivity, `seed` fixes both draws, and
    `min_tail` is the fewest points a tail fit may use. Runs in seconds at 1M users and
    40M edges (the heavy parts are parallel Numba kernels; the result does not depend on
    the thread count)."""
    n = graph.n
    ptr = np.asarray(graph.followers_ptr, dtype=np.int64)
    idx = np.asarray(graph.followers_idx, dtype=np.int32)
    e = int(idx.size)
    indeg = np.diff(ptr)
    outdeg = followee_counts(graph)
    rng = np.random.default_rng(seed)
    out: dict[str, object] = {"users": n, "edges": e}
    out["in_degree"] = _distribution(indeg)
    out["out_degree"] = _distribution(outdeg)
    out["in_degree_tail"] = tail_exponent(indeg, min_tail)
    out["out_degree_tail"] = tail_exponent(outdeg, min_tail)
    tptr, tidx = transpose(ptr, idx)
    out["reciprocity"] = reciprocated_edges(ptr, idx, tptr, tidx) / e if e else math.nan
    uptr, uidx = undirected(ptr, idx, tptr, tidx)
    del tptr, tidx
    nodes = np.arange(n) if n <= sample else np.sort(rng.choice(n, sample, replace=False))
    out["clustering_sampled"] = n > sample
    out["clustering_nodes"] = int(nodes.size)
    out["average_clustering"] = float(
        local_clustering(uptr, uidx, nodes.astype(np.int64), 64).mean()
    )
    d = np.diff(uptr).astype(np.float64)
    cum = np.cumsum(d * (d - 1) / 2.0)
    if cum.size and cum[-1] > 0:
        closed = _wedge_closed(uptr, uidx, cum, rng.random((wedges, 3)))
        out["transitivity_estimate"] = closed / wedges
    else:
        out["transitivity_estimate"] = math.nan
    out["undirected_mean_degree"] = float(d.mean()) if n else 0.0
    out["top_1pct_follow_share"] = _top_share(indeg, 0.01)
    out["top_0.1pct_follow_share"] = _top_share(indeg, 0.001)
    out["max_follower_share"] = float(indeg.max() / n) if n else 0.0
    out["accounts_followed_by_over_10pct"] = int(np.count_nonzero(indeg > 0.1 * n))
    out["accounts_followed_by_over_1pct"] = int(np.count_nonzero(indeg > 0.01 * n))
    if community is not None:
        sizes = np.bincount(np.asarray(community))
        sizes = sizes[sizes > 0]
        out["communities"] = int(sizes.size)
        out["community_size"] = _distribution(sizes)
    if region is not None:
        out["region_sizes"] = np.bincount(np.asarray(region)).tolist()
    return _clean(out)
