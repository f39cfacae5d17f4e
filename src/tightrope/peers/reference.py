"""A reference subset of the model: posting, diffusion through followers, one review queue.

It is small and exactly specified so that another tool (the Mesa version in
``benchmarks/baselines/mesa_reference.py``) can implement the same rules and be compared with
it, in results and in speed. It is not the model: no platforms, categories, regimes, feeds,
fear or timing within the hour; it shares the model's follower graph (`tightrope.model.network`),
conventions (arrays, int32 user ids, Numba kernels) and random streams (`tightrope.core.rng`).

The rules
---------
Users 0..n-1 on a follower graph in CSR form: user u's followers (who are shown what u
shares) are ``idx[ptr[u]:ptr[u + 1]]``. Each user i has a posting rate ``rates[i]`` (posts
per hour). Time runs in hourly ticks t = 0, 1, ..., T - 1. Parameters: q (chance a post is
prohibited), r (chance a view leads to a reshare), d (chance a view of a prohibited post
flags it), c (reviews per tick, an integer). A *share* (a post or a reshare) by user s of a
post P in tick t is *delivered* to every follower of s in tick t + 1.

Each tick t has three phases, in this order:

1. View. Every delivery due in tick t (from shares made in tick t - 1) is handled: if P has
   been removed, the delivery is lost (``views_lost`` + 1). Otherwise, if the follower f has
   already seen P (the author counts as having seen it), nothing happens: a user views a post
   at most once. Otherwise f views P (``views`` + 1; P's cascade size + 1), then:
   if P is prohibited and not yet flagged, f flags it with chance d (P is flagged in tick t);
   and, independently, f reshares P with chance r (``reshares`` + 1), a share by f in tick t.
   The order in which deliveries are handled does not change the distribution of anything.
2. Post. The users act in a uniformly random order, drawn afresh each tick. User i makes
   k ~ Poisson(rates[i]) posts; each gets the next post id (0, 1, ...), is prohibited with
   chance q, and is a share by i in tick t (so its first views are in tick t + 1).
3. Review. The posts flagged in tick t join the back of one first-in-first-out queue, in
   order of post id. Then the first min(c, queue length) posts of the queue are reviewed;
   a reviewed post (only prohibited posts are ever flagged) is removed, so its deliveries
   from tick t + 1 on are lost; its wait is t - (the tick it was flagged).

Shares made in the last tick are never delivered (the run ends). Summary statistics:
``posts``, ``prohibited_posts``, ``views``, ``reshares``, ``flagged``, ``removed``,
``removed_share`` (removed / prohibited posts), ``mean_wait_ticks`` (over reviewed posts),
``queue_left`` (flagged, still waiting at the end), ``views_lost``, and the cascade size of
each post (its views: distinct users who saw it), summarised as ``mean_cascade_size``,
``cascade_size_p90``, ``cascade_size_p99``, ``max_cascade_size``.

Random streams (rows of `tightrope.core.rng.make_streams(seed)`): "intents" for the posting order
and the Poisson counts, "category" for prohibited or not, "reshare" for reshares, "report"
for flags. `reference_world` builds the model's graph and per-user rates for a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np
from numba import njit

from tightrope.core.graph import Graph
from tightrope.core.rng import STREAM, integer, numpy_generator, poisson, uniform
from tightrope.errors import InputError

# counters returned by the kernel, by position
C_POSTS, C_PROHIBITED, C_VIEWS, C_RESHARES, C_FLAGGED, C_REMOVED, C_LOST, C_WAIT = range(8)
N_COUNTERS = 8

NEVER = 1 << 62  # a countdown that never reaches its success (chance 0)


@dataclass(frozen=True)
class ReferenceParams:
    """The parameters of the reference subset (see the module docstring).

    days: run length; ticks = round(days * 24) hourly ticks (at least 1).
    q: chance a post is prohibited.  r: chance a view leads to a reshare.
    d: chance a view of a not-yet-flagged prohibited post flags it.
    c: reviews per tick (a non-negative integer).
    """

    days: float = 3.0
    q: float = 0.05
    r: float = 0.02
    d: float = 0.02
    c: int = 10

    @property
    def ticks(self) -> int:
        return max(1, round(self.days * 24))

    def check(self) -> None:
        """Raise InputError naming every bad parameter."""
        problems = []
        if not (isinstance(self.days, int | float) and math.isfinite(self.days)) or not (
            0 < self.days <= 3650
        ):
            problems.append(f"days must be a number in (0, 3650], got {self.days!r}")
        for name in ("q", "r", "d"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
                problems.append(f"{name} must be a probability in [0, 1], got {v!r}")
        if isinstance(self.c, bool) or not isinstance(self.c, int | np.integer) or self.c < 0:
            problems.append(f"c (reviews per tick) must be an integer >= 0, got {self.c!r}")
        if problems:
            raise InputError("reference parameters", problems)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class ReferenceResult(NamedTuple):
    """One run of the reference subset.

    summary: the summary statistics (see the module docstring), floats.
    author, created, prohibited, views, flagged_tick, removed_tick: one entry per post, in
        post-id order (int32; prohibited uint8; -1 for "never" in the tick columns).
    """

    summary: dict
    author: np.ndarray
    created: np.ndarray
    prohibited: np.ndarray
    views: np.ndarray
    flagged_tick: np.ndarray
    removed_tick: np.ndarray


def reference_world(
    users: int, seed: int, posts_per_day: float = 2.0, preset: str = "laissez-faire"
) -> tuple[Graph, np.ndarray]:
    """The graph and posting rates of a reference run: the model's follower graph for
    (`users`, `seed`) and per-user rates in posts per hour, lognormal (sigma 1) around
    `posts_per_day` / 24 on average, drawn from the seed's "population" stream."""
    from tightrope.peers.cascades import follower_graph

    if not (isinstance(posts_per_day, int | float) and 0 <= posts_per_day <= 1000):
        raise InputError(f"posts_per_day must be a number in [0, 1000], got {posts_per_day!r}")
    g = follower_graph(users, seed, preset)
    rng = numpy_generator(seed, "population", part=11)
    rates = (posts_per_day / 24.0) * np.exp(rng.normal(-0.5, 1.0, g.n))
    return g, rates


@njit(cache=True)
def _grow(a, need):
    """`a`, or a copy at least twice as long when it has fewer than `need` slots."""
    if need <= a.size:
        return a
    size = max(a.size, 16)
    while size < need:
        size *= 2
    out = np.empty(size, dtype=a.dtype)
    out[: a.size] = a
    return out


@njit(cache=True, inline="always")
def _countdown(s: np.ndarray, log_q: float) -> int:
    """Failures before the next success of Bernoulli(p), log_q = log(1 - p): 0 for p = 1,
    NEVER for p = 0. Trials count down to their successes, so a whole sequence of
    Bernoulli(p) trials costs one draw per success."""
    if log_q == 0.0:
        return NEVER
    if log_q == -np.inf:
        return 0
    k = math.log1p(-uniform(s)) / log_q
    return NEVER if k >= NEVER else int(k)


@njit(cache=True, inline="always")
def _log_q(p: float) -> float:
    return -np.inf if p >= 1.0 else math.log1p(-p)


@njit(cache=True)
def _poisson_exact(s: np.ndarray, lam: float) -> int:
    """An exact Poisson draw for any mean: a sum of inversion draws with means below 30
    (`tightrope.core.rng.poisson` rounds a normal above 30)."""
    parts = math.ceil(lam / 25.0)
    total = 0
    for _ in range(parts):
        total += poisson(s, lam / parts)
    return total


@njit(cache=True)
def _simulate(
    ptr, idx, rates, ticks, q, r, d, c, rs_intents, rs_category, rs_reshare, rs_report, big
):
    """The rules of the module docstring. Each post's viewers are kept while it spreads, to
    check "already seen": a short list (in a pool rebuilt every tick, marked in a stamp
    array when the post is handled) or, once longer than a bitmap of all users, a bitmap.

    Draws: posting uses the Poisson splitting property (a Poisson(sum of rates) number of
    posts, each given to user i with chance rates[i] / sum: independent Poisson(rates[i])
    counts) and orders the posting users by a uniform shuffle, which is the order a
    uniformly random permutation of all users gives them; flags and reshares are runs of
    independent Bernoulli trials over views, drawn as counts of failures to the next success.
    """
    n = ptr.size - 1
    cap = 1024
    author = np.empty(cap, dtype=np.int32)
    created = np.empty(cap, dtype=np.int32)
    prohibited = np.empty(cap, dtype=np.uint8)
    views = np.empty(cap, dtype=np.int32)
    flag_tick = np.empty(cap, dtype=np.int32)
    removed_tick = np.empty(cap, dtype=np.int32)
    vstart = np.empty(cap, dtype=np.int64)  # the post's viewers in the current pool
    vlen = np.empty(cap, dtype=np.int32)
    bm_slot = np.empty(cap, dtype=np.int32)  # the post's bitmap, or -1
    n_posts = 0
    n_words = (n + 63) >> 6
    if big < 0:
        big = max(n_words, 16)  # a viewer list longer than this becomes a bitmap
    bitmaps = np.zeros((16, n_words), dtype=np.uint64)
    free_slots = np.empty(16, dtype=np.int32)
    n_free = 0
    n_slots = 0
    # shares to deliver this tick (post, sharer), grouped by post, and those made this tick
    cur_p = np.empty(1024, dtype=np.int64)
    cur_u = np.empty(1024, dtype=np.int32)
    nxt_p = np.empty(1024, dtype=np.int64)
    nxt_u = np.empty(1024, dtype=np.int32)
    n_cur = 0
    n_nxt = 0
    cur_pool = np.empty(1024, dtype=np.int32)  # viewers (author first) of spreading posts
    nxt_pool = np.empty(1024, dtype=np.int32)
    n_pool = 0
    stamp = np.zeros(n, dtype=np.int32)
    mark = 0
    queue = np.empty(1024, dtype=np.int64)
    q_head = 0
    q_tail = 0
    flagged_now = np.empty(256, dtype=np.int64)
    cum = np.cumsum(rates)
    total_rate = cum[-1] if n else 0.0
    users = np.empty(256, dtype=np.int32)
    order = np.empty(256, dtype=np.int32)
    spacing = np.empty(256, dtype=np.float64)
    log_r = _log_q(r)
    log_d = _log_q(d)
    to_reshare = _countdown(rs_reshare, log_r)
    to_flag = _countdown(rs_report, log_d)
    cnt = np.zeros(N_COUNTERS, dtype=np.int64)
    for t in range(ticks):
        n_flag = 0
        n_pool = 0
        # 1. view
        j = 0
        while j < n_cur:
            p = cur_p[j]
            j_end = j + 1
            need = ptr[cur_u[j] + 1] - ptr[cur_u[j]]
            while j_end < n_cur and cur_p[j_end] == p:
                need += ptr[cur_u[j_end] + 1] - ptr[cur_u[j_end]]
                j_end += 1
            if removed_tick[p] >= 0:
                cnt[C_LOST] += need
                if bm_slot[p] >= 0:
                    free_slots = _grow(free_slots, n_free + 1)
                    free_slots[n_free] = bm_slot[p]
                    n_free += 1
                    bm_slot[p] = -1
                j = j_end
                continue
            if nxt_p.size < n_nxt + need:
                nxt_p = _grow(nxt_p, n_nxt + need)
                nxt_u = _grow(nxt_u, n_nxt + need)
            if flagged_now.size < n_flag + 1:
                flagged_now = _grow(flagged_now, n_flag + 1)
            eligible = prohibited[p] != 0 and flag_tick[p] < 0
            flagged = False
            before = n_nxt
            slot = bm_slot[p]
            if slot >= 0:
                bits = bitmaps[slot]
                new_views = 0
                for jj in range(j, j_end):
                    sharer = cur_u[jj]
                    for e in range(ptr[sharer], ptr[sharer + 1]):
                        f = idx[e]
                        w = f >> 6
                        b = np.uint64(1) << np.uint64(f & 63)
                        if bits[w] & b:
                            continue  # seen already
                        bits[w] |= b
                        new_views += 1
                        if eligible:
                            if to_flag == 0:
                                flagged = True
                                eligible = False
                                to_flag = _countdown(rs_report, log_d)
                            else:
                                to_flag -= 1
                        if to_reshare == 0:
                            nxt_p[n_nxt] = p
                            nxt_u[n_nxt] = f
                            n_nxt += 1
                            to_reshare = _countdown(rs_reshare, log_r)
                        else:
                            to_reshare -= 1
                if n_nxt == before:  # no reshares: it stops spreading
                    free_slots = _grow(free_slots, n_free + 1)
                    free_slots[n_free] = slot
                    n_free += 1
                    bm_slot[p] = -1
            else:
                if mark == 2**31 - 1:
                    stamp[:] = 0
                    mark = 0
                mark += 1
                if nxt_pool.size < n_pool + vlen[p] + need:
                    nxt_pool = _grow(nxt_pool, n_pool + vlen[p] + need)
                first = n_pool
                for k in range(vstart[p], vstart[p] + vlen[p]):
                    v = cur_pool[k]
                    stamp[v] = mark
                    nxt_pool[n_pool] = v
                    n_pool += 1
                for jj in range(j, j_end):
                    sharer = cur_u[jj]
                    for e in range(ptr[sharer], ptr[sharer + 1]):
                        f = idx[e]
                        if stamp[f] == mark:
                            continue  # seen already
                        stamp[f] = mark
                        nxt_pool[n_pool] = f
                        n_pool += 1
                        if eligible:
                            if to_flag == 0:
                                flagged = True
                                eligible = False
                                to_flag = _countdown(rs_report, log_d)
                            else:
                                to_flag -= 1
                        if to_reshare == 0:
                            nxt_p[n_nxt] = p
                            nxt_u[n_nxt] = f
                            n_nxt += 1
                            to_reshare = _countdown(rs_reshare, log_r)
                        else:
                            to_reshare -= 1
                new_views = n_pool - first - vlen[p]
                if n_nxt == before:  # no reshares: it stops spreading, forget its viewers
                    n_pool = first
                elif n_pool - first > big:  # many viewers: keep them as a bitmap
                    if n_free:
                        n_free -= 1
                        slot = free_slots[n_free]
                    else:
                        slot = n_slots
                        n_slots += 1
                        if slot == bitmaps.shape[0]:
                            grown = np.zeros((2 * slot, n_words), dtype=np.uint64)
                            grown[:slot] = bitmaps
                            bitmaps = grown
                    bits = bitmaps[slot]
                    bits[:] = 0
                    for k in range(first, n_pool):
                        v = nxt_pool[k]
                        bits[v >> 6] |= np.uint64(1) << np.uint64(v & 63)
                    bm_slot[p] = slot
                    n_pool = first
                else:
                    vstart[p] = first
                    vlen[p] = n_pool - first
            views[p] += new_views
            cnt[C_VIEWS] += new_views
            if flagged:
                flag_tick[p] = t
                flagged_now[n_flag] = p
                n_flag += 1
            j = j_end
        cnt[C_RESHARES] += n_nxt  # so far this tick's shares are all reshares
        # 2. post: Poisson counts per user, the posting users in a uniformly random order
        m = _poisson_exact(rs_intents, total_rate) if total_rate > 0.0 else 0
        if users.size < m + 1:
            users = _grow(users, m + 1)
            order = _grow(order, m + 1)
            spacing = _grow(spacing, m + 1)
        # m uniform points on [0, total) in increasing order (normalised exponential
        # spacings), each falling to the user whose share of the total rate it hits
        acc = 0.0
        for k in range(m + 1):
            acc += -math.log1p(-uniform(rs_intents))
            spacing[k] = acc
        i = 0
        n_users = 0
        for k in range(m):
            x = spacing[k] / acc * total_rate
            while i < n - 1 and cum[i] <= x:
                i += 1
            users[k] = i
            if k == 0 or users[k - 1] != i:
                order[n_users] = k  # first of this user's posts
                n_users += 1
        for k in range(n_users - 1, 0, -1):
            jj = integer(rs_intents, k + 1)
            order[k], order[jj] = order[jj], order[k]
        if n_posts + m > author.size:
            author = _grow(author, n_posts + m)
            created = _grow(created, n_posts + m)
            prohibited = _grow(prohibited, n_posts + m)
            views = _grow(views, n_posts + m)
            flag_tick = _grow(flag_tick, n_posts + m)
            removed_tick = _grow(removed_tick, n_posts + m)
            vstart = _grow(vstart, n_posts + m)
            vlen = _grow(vlen, n_posts + m)
            bm_slot = _grow(bm_slot, n_posts + m)
        if nxt_pool.size < n_pool + m:
            nxt_pool = _grow(nxt_pool, n_pool + m)
        if nxt_p.size < n_nxt + m:
            nxt_p = _grow(nxt_p, n_nxt + m)
            nxt_u = _grow(nxt_u, n_nxt + m)
        for g in range(n_users):
            kk = order[g]
            i = users[kk]
            while kk < m and users[kk] == i:
                kk += 1
                p = n_posts
                n_posts += 1
                author[p] = i
                created[p] = t
                bad = 1 if uniform(rs_category) < q else 0
                prohibited[p] = bad
                cnt[C_PROHIBITED] += bad
                views[p] = 0
                flag_tick[p] = -1
                removed_tick[p] = -1
                vstart[p] = n_pool
                vlen[p] = 1
                bm_slot[p] = -1
                nxt_pool[n_pool] = i  # the author has seen it
                n_pool += 1
                nxt_p[n_nxt] = p
                nxt_u[n_nxt] = i
                n_nxt += 1
        cnt[C_POSTS] += m
        # 3. review: this tick's flags join the queue in post-id order, then c are served
        cnt[C_FLAGGED] += n_flag
        if n_flag:
            queue = _grow(queue, q_tail + n_flag)
            queue[q_tail : q_tail + n_flag] = np.sort(flagged_now[:n_flag])
            q_tail += n_flag
        done = 0
        while done < c and q_head < q_tail:
            p = queue[q_head]
            q_head += 1
            removed_tick[p] = t
            cnt[C_REMOVED] += 1
            cnt[C_WAIT] += t - flag_tick[p]
            done += 1
        # the shares and viewer lists made this tick are the next tick's to deliver
        cur_p, nxt_p = nxt_p, cur_p
        cur_u, nxt_u = nxt_u, cur_u
        cur_pool, nxt_pool = nxt_pool, cur_pool
        n_cur = n_nxt
        n_nxt = 0
    return (
        cnt,
        q_tail - q_head,
        author[:n_posts].copy(),
        created[:n_posts].copy(),
        prohibited[:n_posts].copy(),
        views[:n_posts].copy(),
        flag_tick[:n_posts].copy(),
        removed_tick[:n_posts].copy(),
    )


def streams(seed: int, names: tuple[str, ...]) -> np.ndarray:
    """The rows of `tightrope.core.rng.make_streams(seed)` for the named streams, in that order,
    without seeding the other streams (which costs more than a small run)."""
    rows = np.empty((len(names), 4), dtype=np.uint64)
    for k, name in enumerate(names):
        row = np.random.SeedSequence(seed, spawn_key=(STREAM[name],)).generate_state(4, np.uint64)
        if not row.any():  # as make_streams does
            row[0] = 1
        rows[k] = row
    return rows


def check_world(ptr: np.ndarray, idx: np.ndarray, rates: np.ndarray) -> list[str]:
    """Problems with a graph and rates given to the reference subset (empty if none)."""
    problems = []
    ptr = np.asarray(ptr)
    idx = np.asarray(idx)
    rates = np.asarray(rates)
    if ptr.ndim != 1 or ptr.size < 2 or not np.issubdtype(ptr.dtype, np.integer):
        return ["ptr must be a 1-D integer array of n + 1 row offsets, n >= 1"]
    n = ptr.size - 1
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        problems.append("idx must be a 1-D integer array of follower ids")
    elif ptr[0] != 0 or ptr[-1] != idx.size or np.any(np.diff(ptr) < 0):
        problems.append("ptr must start at 0, never decrease and end at len(idx)")
    elif idx.size and (idx.min() < 0 or idx.max() >= n):
        problems.append(f"idx has ids outside 0..{n - 1}")
    if n >= 2**31 - 1:
        problems.append(f"{n} users; at most 2**31 - 2 are allowed (int32 ids)")
    if rates.shape != (n,) or not np.issubdtype(rates.dtype, np.number):
        problems.append(f"rates must be one number per user ({n}), got shape {rates.shape}")
    elif not np.all(np.isfinite(rates)) or rates.min() < 0 or rates.max() >= 30:
        problems.append("rates (posts per hour) must be finite, >= 0 and < 30")
    return problems


def summarise(
    counters: np.ndarray, queue_left: int, views: np.ndarray, ticks: int, users: int
) -> dict:
    """The summary statistics from the counters and the per-post cascade sizes."""
    posts = int(counters[C_POSTS])
    prohibited = int(counters[C_PROHIBITED])
    removed = int(counters[C_REMOVED])
    sizes = np.sort(np.asarray(views, dtype=np.float64))
    nan = float("nan")

    def quantile(level: float) -> float:  # NumPy's default ("linear") quantile
        if not posts:
            return nan
        pos = (posts - 1) * level
        lo = math.floor(pos)
        hi = min(lo + 1, posts - 1)
        return float(sizes[lo] + (sizes[hi] - sizes[lo]) * (pos - lo))

    return {
        "users": float(users),
        "ticks": float(ticks),
        "posts": float(posts),
        "prohibited_posts": float(prohibited),
        "views": float(counters[C_VIEWS]),
        "reshares": float(counters[C_RESHARES]),
        "flagged": float(counters[C_FLAGGED]),
        "removed": float(removed),
        "removed_share": removed / prohibited if prohibited else nan,
        "mean_wait_ticks": float(counters[C_WAIT]) / removed if removed else nan,
        "queue_left": float(queue_left),
        "views_lost": float(counters[C_LOST]),
        "mean_cascade_size": float(sizes.mean()) if posts else nan,
        "cascade_size_p90": quantile(0.9),
        "cascade_size_p99": quantile(0.99),
        "max_cascade_size": float(sizes[-1]) if posts else nan,
    }


def run_reference(
    ptr: np.ndarray,
    idx: np.ndarray,
    rates: np.ndarray,
    params: ReferenceParams,
    seed: int,
    *,
    bitmap_above: int = -1,
) -> ReferenceResult:
    """Run the reference subset (see the module docstring) on a follower graph in CSR form
    (`ptr`, `idx`) with per-user posting `rates` (posts per hour) and root `seed`.

    `bitmap_above` only changes how the run is computed, never its result: a spreading
    post's viewers are kept as a list up to this many, then as a bitmap of all users
    (-1: the bitmap's size in 64-bit words, the point where the bitmap is the cheaper)."""
    problems = check_world(ptr, idx, rates)
    try:
        params.check()
    except InputError as err:
        problems += err.problems
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.append(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(bitmap_above, bool) or not isinstance(bitmap_above, int | np.integer):
        problems.append(f"bitmap_above must be an integer, got {bitmap_above!r}")
    if problems:
        raise InputError("reference run: bad input", problems)
    rs = streams(int(seed), ("intents", "category", "reshare", "report"))
    out = _simulate(
        np.ascontiguousarray(ptr, dtype=np.int64),
        np.ascontiguousarray(idx, dtype=np.int32),
        np.ascontiguousarray(rates, dtype=np.float64),
        params.ticks,
        float(params.q),
        float(params.r),
        float(params.d),
        int(params.c),
        rs[0],
        rs[1],
        rs[2],
        rs[3],
        int(bitmap_above),
    )
    cnt, queue_left, author, created, prohibited, views, flagged, removed = out
    summary = summarise(cnt, int(queue_left), views, params.ticks, ptr.size - 1)
    return ReferenceResult(summary, author, created, prohibited, views, flagged, removed)
