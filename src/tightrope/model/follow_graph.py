"""A follower graph with the structure of real microblog follow graphs.

The graph is built in five steps, each one named rule below:

1. **Places.** Users are laid out in regions (contiguous id ranges, shares set by
   `region_shares`), and each region is cut into communities of heavy-tailed sizes
   (`community_sizes`). Contiguous ids keep a community's rows close in memory.
2. **Budgets.** Each user's number of follows is a discrete lognormal draw (`budgets`),
   so out-degree is heavy-tailed as on Twitter, where a few users follow thousands.
3. **Base follows.** Each follow lands in the user's community, region or anywhere, with
   the target drawn in proportion to a popularity weight (`popularity`): a Zipf-Mandelbrot
   weight of a random rank, times an optional boost, whose head is set so that about
   `accounts_over_share` accounts are expected to be followed by more than `top_share` of
   users, at every size of the graph (no cap on the weights).
4. **Closure.** A share of each user's follows go to followees of followees (triadic
   closure), which is what makes the graph clustered.
5. **Follow-backs.** Followed users return a follow with a chance that falls with their
   audience (ordinary users return follows, celebrities rarely do); the number returned
   is set so that the mean out-degree is `mean_following`, which with the budgets' split
   gives about the `reciprocity` asked for.

Private-messaging circles are then drawn inside communities, preferring mutual follows.

Randomness: set-up draws come from `numpy_generator(seed, "network", part=k)`; every
kernel that draws seeds one xoshiro state per user (or per community) with `derive`, so
the graph is bit-identical whatever the number of Numba threads. Every kernel that writes
variable-length output counts first, then fills at offsets fixed by the counts.
Memory: the edges' own arrays (int32) two to three times over at the peak, plus about
60 bytes per user.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from tightrope.core.graph import Graph, in_sorted_row, transpose_lists
from tightrope.core.rng import alias_fill, alias_pick, derive, integer, numpy_generator, uniform


class GraphSettings(NamedTuple):
    """The generator's settings. Each field: meaning, default, and where the target comes
    from (see docs/network-targets.md for the measured values)."""

    mean_following: float = 40.0
    """Mean out-degree (accounts a user follows). Default 40, the model's existing
    `mean_following`."""
    out_degree_sigma: float = 1.2
    """Sigma of the lognormal out-degree: a p99/mean ratio of about 7 and a maximum in the
    thousands at 1M users, where a Poisson out-degree gives 1.4 and 73. Follow graphs have
    users who follow thousands (hence Twitter's follow limit below); the value is a
    design choice, not fitted to a published distribution."""
    max_following: int = 5000
    """The most accounts one user follows: Twitter's follow limit of 5,000 (its help
    centre's following rules; raised from 2,000). Also at most n - 1."""
    popularity_exponent: float = 2.2
    """Exponent alpha of the in-degree density tail, p(k) ~ k^-alpha, given by Zipf rank
    weights r^(-1/(alpha-1)). Power-law fits of follower counts are commonly near 2-2.5;
    the published Twitter figure could not be confirmed here, and Kwak et al. 2010 call
    the follower distribution non-power-law (see docs/network-targets.md)."""
    top_share: float = 0.10
    """The audience share that counts as 'followed by a large share' (10% of users)."""
    accounts_over_share: float = 3.0
    """Expected number of accounts followed by more than `top_share` of users; sets the
    head of the popularity weights (the Zipf-Mandelbrot offset). Design choice: a few
    national accounts (state media, top celebrities), independent of n."""
    community_share: float = 0.40
    """Share of base follows drawn inside the user's community (homophily). Design choice
    tuned for the clustering and reciprocity targets."""
    region_share: float = 0.25
    """Share of base follows drawn inside the user's region (outside the community part);
    the rest are global."""
    closure_share: float = 0.45
    """Share of each user's follows chosen among followees' followees (triadic closure);
    the main lever of the clustering coefficient."""
    closure_local_tries: int = 5
    """Of the 10 tries for a closure follow, how many first insist on a path inside the
    user's community (0: any friend's friend). Raises clustering. Design choice."""
    reciprocity: float = 0.22
    """Target share of edges whose reverse exists (the budgets keep reciprocity / 2 of
    each user's follows for follow-backs). 0.22 after Kwak et al. 2010's 22.1% for
    Twitter 2009 (figure from the brief, not confirmed here; if it counts connected pairs,
    the edge share is 2 x 0.221 / 1.221 = 0.36). Weibo's is about a quarter of Twitter's
    (Han et al. 2016)."""
    follow_back_half_degree: float = 200.0
    """Follow-back chance falls as 1 / (1 + in-degree / this): an account with this many
    followers returns follows half as often as an ordinary user. Design choice."""
    region_shares: tuple[float, ...] = (1.0,)
    """Shares of users in each region (normalised). Default one region."""
    community_min_size: int = 20
    """Smallest community. Design choice."""
    community_max_size: int = 2_000
    """Largest community; also at most `community_max_region_share` of its region, so that
    at small n no community is a large share of everyone (a community's local celebrity
    would otherwise be followed by a large share of all users). Design choice."""
    community_max_region_share: float = 0.02
    """Largest community as a share of its region (at least `community_min_size`)."""
    community_size_exponent: float = 2.2
    """Community sizes follow a Pareto density s^-this between the two bounds: heavy-tailed
    community sizes as found by community detection on large networks (e.g. Clauset,
    Newman, Moore 2004 report power-law sizes; exponent a design choice)."""
    circle_size: int = 8
    """Size of a private-messaging circle (the model's existing `circle_size`)."""


class FollowGraph(NamedTuple):
    """The graph and where each user is: regions and communities are contiguous id
    ranges, communities nested in regions."""

    graph: Graph
    region: np.ndarray  # int16 (n,): 0..R-1
    community: np.ndarray  # int32 (n,): 0..C-1, contiguous id ranges
    community_ptr: np.ndarray  # int64 (C + 1,): community c holds ids [ptr[c], ptr[c+1])


# --------------------------------------------------------------------------------------
# 1. places


def region_bounds(n: int, shares: tuple[float, ...]) -> np.ndarray:
    """Region r holds users [b[r], b[r+1]): the shares, normalised, rounded to users."""
    s = np.asarray(shares, dtype=np.float64)
    if s.size == 0 or np.any(s < 0) or s.sum() <= 0:
        raise ValueError("region_shares must be non-negative with a positive sum")
    cum = np.concatenate([[0.0], np.cumsum(s / s.sum())])
    b = np.rint(cum * n).astype(np.int64)
    b[-1] = n
    return b


def community_sizes(size: int, s: GraphSettings, rng: np.random.Generator) -> np.ndarray:
    """Cut `size` users into communities of truncated-Pareto sizes; a remainder smaller
    than the minimum joins the last community."""
    lo = max(1, s.community_min_size)
    hi = max(lo, min(s.community_max_size, int(s.community_max_region_share * size), size))
    a = s.community_size_exponent - 1.0
    out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    left = size
    while left > 0:
        # inverse CDF of a Pareto truncated to [lo, hi]
        u = rng.random(max(16, int(left / lo) + 1))
        span = 1.0 - (lo / hi) ** a
        draws = np.floor(lo * (1.0 - u * span) ** (-1.0 / a)).astype(np.int64)
        cum = np.cumsum(draws)
        take = int(np.searchsorted(cum, left, side="right"))
        out.append(draws[:take])
        left -= int(cum[take - 1]) if take else 0
        if take < draws.size:
            if left >= lo:
                out.append(np.array([left], dtype=np.int64))
            elif out and sum(x.size for x in out):
                last = next(x for x in reversed(out) if x.size)
                last[-1] += left
            else:
                out.append(np.array([left], dtype=np.int64))
            left = 0
    return np.concatenate(out)


def places(n: int, s: GraphSettings, seed: int) -> tuple[np.ndarray, ...]:
    """Region and community of every user, and the bounds of both (contiguous ranges)."""
    rng = numpy_generator(seed, "network", part=1)
    rb = region_bounds(n, s.region_shares)
    sizes = [community_sizes(int(rb[r + 1] - rb[r]), s, rng) for r in range(rb.size - 1)]
    csize = np.concatenate([np.zeros(0, np.int64), *sizes])
    cptr = np.concatenate([[0], np.cumsum(csize)]).astype(np.int64)
    region = np.repeat(np.arange(rb.size - 1, dtype=np.int16), np.diff(rb))
    community = np.repeat(np.arange(csize.size, dtype=np.int32), csize)
    return rb, cptr, region, community


# --------------------------------------------------------------------------------------
# 2. budgets


def budgets(n: int, s: GraphSettings, seed: int) -> np.ndarray:
    """Follows per user: a rounded lognormal (at least 1, at most the cap), its location
    solved on a sample so that the mean after rounding and capping is `mean_following`."""
    rng = numpy_generator(seed, "network", part=2)
    z = rng.standard_normal(n)
    cap = max(0, min(s.max_following, n - 1))
    probe = z[: min(n, 200_000)]

    def mean_at(mu: float) -> float:
        return float(np.clip(np.rint(np.exp(mu + s.out_degree_sigma * probe)), 1, cap).mean())

    lo, hi = -5.0, math.log(max(cap, 2)) + 5.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if mean_at(mid) < s.mean_following else (lo, mid)
    k = np.clip(np.rint(np.exp(0.5 * (lo + hi) + s.out_degree_sigma * z)), 1, cap)
    return k.astype(np.int32) if cap > 0 else np.zeros(n, np.int32)


# --------------------------------------------------------------------------------------
# 3. popularity


def _expected_over(w, reach, local, cptr, threshold: float) -> float:
    """Expected number of accounts followed by more than `threshold` of users. User i
    makes reach[i] draws by popularity among everyone and local[i] among its community
    (`reach`, `local`: a sample of users), so account j, with a share x_j of all weight and
    y_j of its community's, is followed by about 1 - mean(exp(-reach x_j - local y_j)) of
    its community and 1 - mean(exp(-reach x_j)) of everyone else. Only the largest weights
    can pass, so only the top 64 are looked at."""
    n = w.size
    top = np.argpartition(w, -64)[-64:] if n > 64 else np.arange(n)
    x = w[top] / w.sum()
    c = np.searchsorted(cptr, top, side="right") - 1
    wc = np.array([w[cptr[i] : cptr[i + 1]].sum() for i in c])
    y = w[top] / wc
    inside = (cptr[c + 1] - cptr[c]) / n
    far = 1.0 - np.exp(-np.outer(reach, x)).mean(axis=0)
    near = 1.0 - np.exp(-np.outer(reach, x) - np.outer(local, y)).mean(axis=0)
    share = inside * near + (1.0 - inside) * far
    return float(np.count_nonzero(share > threshold))


LOCAL_CLOSURE_WEIGHT = 0.3
"""How far a closure follow kept inside the community counts as a community draw rather
than a popularity draw: a two-step walk still lands on the community's most followed
members. Measured, not derived: 0.3 keeps the count of accounts above 10% at the setting
from 10k to 1M users (docs/network-targets.md)."""


def popularity(
    n: int,
    s: GraphSettings,
    boost: np.ndarray | None,
    follows: np.ndarray,
    cptr: np.ndarray,
    seed: int,
) -> np.ndarray:
    """Popularity weights: a Zipf-Mandelbrot weight (rank + r0)^(-1/(alpha-1)) of each
    account's popularity rank. Ranks come from an exponential race: account j draws
    `-ln(U_j) / boost_j` and ranks by it, so an account of boost b is b times as likely as
    an ordinary one to be ahead of it (`rank_by_boost`; all equal without a boost: a random
    permutation). A boost therefore moves accounts up the ranking rather than multiplying
    their weight, and the head stays what `accounts_over_share` asks at every size: a
    multiplied weight would put every boosted account (influencers, media, officials: 1%
    of users) above the top share in a small network. The offset r0 flattens the head; it
    is found by bisection so that about `accounts_over_share` accounts are expected above
    `top_share` (`_expected_over`).
    A user's popularity-driven draws are its follows outside the community part (global
    and regional ones, with one region the same thing) plus the closure follows that
    leave the community, which land on accounts about in proportion to their audience;
    its community draws are the community part plus the closure follows kept local
    (taken as the share `closure_local_tries` / 10 of them). Both on a sample of users'
    `follows`."""
    rng = numpy_generator(seed, "network", part=3)
    beta = 1.0 / (s.popularity_exponent - 1.0)
    b = np.ones(n) if boost is None else np.asarray(boost, dtype=np.float64)
    if b.shape != (n,):
        raise ValueError("popularity_boost must have one entry per user")
    rank = rank_by_boost(rng.random(n), b)
    b = np.ones(n)
    sample = follows[: min(n, 4096)].astype(np.float64)
    local_closure = LOCAL_CLOSURE_WEIGHT * s.closure_share * min(1.0, s.closure_local_tries / 10.0)
    local = sample * (s.community_share * (1.0 - s.closure_share) + local_closure)
    reach = sample - local
    want = s.accounts_over_share
    lo, hi = 0.0, math.log(n + 1.0) + 2.0  # log(1 + r0)
    w = np.empty(n)
    for _ in range(24):
        mid = 0.5 * (lo + hi)
        zipf_weights(rank, b, math.expm1(mid), beta, w)
        if _expected_over(w, reach, local, cptr, s.top_share) > want:
            lo = mid
        else:
            hi = mid
    zipf_weights(rank, b, math.expm1(hi), beta, w)
    return w


def rank_by_boost(u: np.ndarray, boost: np.ndarray) -> np.ndarray:
    """Popularity ranks 1..n (float64) from an exponential race: account j's time is
    `-ln(u_j) / boost_j` (u uniform in [0, 1)), the earliest ranks first; ties by id."""
    time = -np.log1p(-u) / boost
    rank = np.empty(u.size, dtype=np.float64)
    rank[np.argsort(time, kind="stable")] = np.arange(1, u.size + 1, dtype=np.float64)
    return rank


@njit(cache=True, parallel=True)
def zipf_weights(rank, boost, r0, beta, out):
    """out = (rank + r0)^-beta x boost."""
    for i in prange(rank.size):
        out[i] = (rank[i] + r0) ** -beta * boost[i]


@njit(cache=True)
def alias_tables(weight, bounds):
    """Walker alias tables, one per range [bounds[i], bounds[i+1]) (absolute indices)."""
    n = weight.size
    accept = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    stack = np.empty(n, dtype=np.int32)
    for i in range(bounds.size - 1):
        alias_fill(weight, bounds[i], bounds[i + 1], accept, alias, stack)
    return accept, alias


# --------------------------------------------------------------------------------------
# 4. base follows and closure


@njit(cache=True, inline="always")
def _seen(v, u, keys, stamps, mask) -> bool:
    """Insert v in u's open-addressing set (stamps mark u's entries); True if there."""
    h = (v * 2654435761) & mask
    while stamps[h] == u:
        if keys[h] == v:
            return True
        h = (h + 1) & mask
    stamps[h] = u
    keys[h] = v
    return False


@njit(cache=True, inline="always")
def _pick_level(u, lvl, place, bounds, acc, ali, s):
    """A target from level `lvl` (0 community, 1 region, 2 global) of user u's tables:
    `place[lvl, u]` is u's community or region (0 for global), `bounds[lvl]` the ranges."""
    p = place[lvl, u]
    lo = bounds[lvl, p]
    return alias_pick(acc[lvl], ali[lvl], lo, bounds[lvl, p + 1] - lo, uniform(s))


@njit(cache=True, parallel=True)
def base_follows(key, off, nbase, place, bounds, acc, ali, p_comm, p_reg, hsize, chunk, out, got):
    """User u's `nbase[u]` distinct follows (not u) into out[off[u]:], each drawn from the
    community (chance p_comm), the region (p_reg) or everyone, by popularity. A repeat is
    drawn again; after 20 k + 100 tries the user keeps what was found (got[u])."""
    n = nbase.size
    nchunks = (n + chunk - 1) // chunk
    for c in prange(nchunks):
        keys = np.empty(hsize, dtype=np.int32)
        stamps = np.full(hsize, -1, dtype=np.int32)
        s = np.empty(4, dtype=np.uint64)
        for u in range(c * chunk, min(n, (c + 1) * chunk)):
            derive(key, u, s)
            want = nbase[u]
            k = 0
            tries = 0
            _seen(u, u, keys, stamps, hsize - 1)  # u itself counts as seen
            while k < want and tries < 20 * want + 100:
                tries += 1
                x = uniform(s)
                lvl = 0 if x < p_comm else (1 if x < p_comm + p_reg else 2)
                v = _pick_level(u, lvl, place, bounds, acc, ali, s)
                if _seen(v, u, keys, stamps, hsize - 1):
                    continue
                out[off[u] + k] = v
                k += 1
            got[u] = k


@njit(cache=True, parallel=True)
def closure_follows(
    key, off, got, nclos, place, bounds, acc, ali, local_tries, hsize, chunk, out, gotc
):
    """User u's `nclos[u]` closure follows, after its base ones: a random followee w of u,
    then a random followee of w (base follows only, so every user reads finished rows).
    The first `local_tries` of 10 tries keep only paths inside u's community, where
    triangles pile up (friends' friends are mostly local); a slot that finds nothing new
    in 10 tries takes a community draw instead."""
    n = got.size
    nchunks = (n + chunk - 1) // chunk
    for c in prange(nchunks):
        keys = np.empty(hsize, dtype=np.int32)
        stamps = np.full(hsize, -1, dtype=np.int32)
        s = np.empty(4, dtype=np.uint64)
        for u in range(c * chunk, min(n, (c + 1) * chunk)):
            derive(key, u, s)
            _seen(u, u, keys, stamps, hsize - 1)
            b = off[u]
            for j in range(got[u]):
                _seen(out[b + j], u, keys, stamps, hsize - 1)
            k = 0
            tries = 0
            want = nclos[u]
            while k < want and tries < 20 * want + 100:
                tries += 1
                v = -1
                if got[u] > 0:
                    for attempt in range(10):
                        w = out[b + integer(s, got[u])]
                        if got[w] == 0:
                            continue
                        x = out[off[w] + integer(s, got[w])]
                        if attempt < local_tries and (
                            place[0, w] != place[0, u] or place[0, x] != place[0, u]
                        ):
                            continue  # first look for a triangle inside the community
                        if x != u and not _seen(x, u, keys, stamps, hsize - 1):
                            v = x
                            break
                if v < 0:
                    x = _pick_level(u, 0, place, bounds, acc, ali, s)
                    if _seen(x, u, keys, stamps, hsize - 1):
                        continue
                    v = x
                out[b + got[u] + k] = v
                k += 1
            gotc[u] = k


# --------------------------------------------------------------------------------------
# 5. follow-backs


@njit(cache=True, parallel=True)
def one_way_followers(ptr, idx):
    """Flags, per edge of the followers CSR, whether it is one-way (the account does not
    follow its follower back), and the number of one-way followers per account: the one
    pass of binary searches that the follow-backs need."""
    n = ptr.size - 1
    one_way = np.zeros(idx.size, dtype=np.bool_)
    count = np.zeros(n, dtype=np.int64)
    for v in prange(n):
        c = 0
        for j in range(ptr[v], ptr[v + 1]):
            if not in_sorted_row(ptr, idx, idx[j], v):
                one_way[j] = True
                c += 1
        count[v] = c
    return one_way, count


@njit(cache=True, parallel=True)
def follow_backs(key, ptr, idx, one_way, p_back, off, out, fill):
    """Account v follows back each one-way follower u with chance p_back[v] (v's own
    stream, followers in order). Counts per v when `fill` is False, else writes the u's
    at out[off[v]:]."""
    n = ptr.size - 1
    cnt = np.zeros(n, dtype=np.int64)
    for v in prange(n):
        s = np.empty(4, dtype=np.uint64)
        derive(key, v, s)
        p = p_back[v]
        c = 0
        if p > 0.0:
            for j in range(ptr[v], ptr[v + 1]):
                if one_way[j] and uniform(s) < p:
                    if fill:
                        out[off[v] + c] = idx[j]
                    c += 1
        cnt[v] = c
    return cnt


@njit(cache=True, parallel=True)
def _merge_rows(aptr, aidx, bptr, bidx):
    """Row-wise merge of two CSRs with sorted, disjoint rows."""
    n = aptr.size - 1
    ptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + (aptr[i + 1] - aptr[i]) + (bptr[i + 1] - bptr[i])
    idx = np.empty(ptr[n], dtype=np.int32)
    for i in prange(n):
        a, ae, b, be, k = aptr[i], aptr[i + 1], bptr[i], bptr[i + 1], ptr[i]
        while a < ae or b < be:
            if b >= be or (a < ae and aidx[a] < bidx[b]):
                idx[k] = aidx[a]
                a += 1
            else:
                idx[k] = bidx[b]
                b += 1
            k += 1
    return ptr, idx


def back_chances(indeg: np.ndarray, one_way: np.ndarray, wanted: float, half: float):
    """Follow-back chance per account, c / (1 + in-degree / half) capped at 1, with c
    solved so that the expected number of follow-backs is `wanted`."""
    f = 1.0 / (1.0 + indeg / half)
    lo, hi = 0.0, 1.0
    while float((one_way * np.minimum(1.0, hi * f)).sum()) < wanted and hi < 1e9:
        hi *= 2.0
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        if float((one_way * np.minimum(1.0, mid * f)).sum()) < wanted:
            lo = mid
        else:
            hi = mid
    return np.minimum(1.0, hi * f)


# --------------------------------------------------------------------------------------
# circles


@njit(cache=True, inline="always")
def _take(ptr, idx, u, lo, hi, taken, members, pos, have, size, mutual):
    """Add u's unassigned followers in the community [lo, hi) (only those u follows back
    when `mutual`) to the circle being filled at members[pos:], up to `size`; return the
    circle's new size."""
    for j in range(ptr[u], ptr[u + 1]):
        if have >= size:
            break
        v = idx[j]
        if v < lo or v >= hi or taken[v - lo]:
            continue
        if mutual and not in_sorted_row(ptr, idx, v, u):
            continue
        taken[v - lo] = True
        members[pos] = v
        pos += 1
        have += 1
    return have


@njit(cache=True, parallel=True)
def community_circles(key, ptr, idx, cptr, size, members, starts, ncirc):
    """Cut each community into circles of about `size`: a seed (in a random order of the
    community) takes unassigned mutual contacts in the community first (its own, then its
    new members' own), then its other followers there, then the next unassigned users of
    the order. A last circle under half the size joins the one before. Members go to
    members[cptr[c]:], circle starts (offsets into members) to starts[cptr[c]:], the count
    to ncirc[c]."""
    nc = cptr.size - 1
    for c in prange(nc):
        lo, hi = cptr[c], cptr[c + 1]
        m = hi - lo
        s = np.empty(4, dtype=np.uint64)
        derive(key, c, s)
        order = np.arange(lo, hi).astype(np.int32)
        for i in range(m - 1, 0, -1):
            j = integer(s, i + 1)
            order[i], order[j] = order[j], order[i]
        taken = np.zeros(m, dtype=np.bool_)
        pos = lo
        k = 0
        nxt = 0
        for t in range(m):
            seed = order[t]
            if taken[seed - lo]:
                continue
            starts[lo + k] = pos
            k += 1
            taken[seed - lo] = True
            members[pos] = seed
            pos += 1
            have = 1
            # mutual contacts of the circle's members so far (a breadth-first walk over
            # mutual ties), then the seed's other followers in the community
            scan = pos - 1
            while scan < pos and have < size:
                have = _take(ptr, idx, members[scan], lo, hi, taken, members, pos, have, size, True)
                pos = starts[lo + k - 1] + have
                scan += 1
            have = _take(ptr, idx, seed, lo, hi, taken, members, pos, have, size, False)
            pos = starts[lo + k - 1] + have
            while have < size:
                while nxt < m and taken[order[nxt] - lo]:
                    nxt += 1
                if nxt >= m:
                    break
                v = order[nxt]
                taken[v - lo] = True
                members[pos] = v
                pos += 1
                have += 1
            if have * 2 < size and k > 1:
                k -= 1  # a small remainder joins the circle before
        ncirc[c] = k


def circles(ptr, idx, cptr, size: int, seed: int) -> tuple[np.ndarray, ...]:
    """Circle arrays as `Graph` keeps them, from `community_circles`."""
    n = ptr.size - 1
    members = np.empty(n, dtype=np.int32)
    starts = np.empty(n + 1, dtype=np.int64)
    ncirc = np.zeros(cptr.size - 1, dtype=np.int64)
    key = numpy_generator(seed, "network", part=6).integers(0, 2**63, dtype=np.uint64)
    community_circles(key, ptr, idx, cptr, max(1, size), members, starts, ncirc)
    first = np.repeat(cptr[:-1], ncirc)
    local = np.arange(first.size) - np.repeat(np.cumsum(ncirc) - ncirc, ncirc)
    circle_ptr = np.append(starts[first + local], n).astype(np.int64)
    circle_of = np.empty(n, dtype=np.int32)
    circle_of[members] = np.repeat(np.arange(first.size, dtype=np.int32), np.diff(circle_ptr))
    return circle_ptr, members, circle_of


# --------------------------------------------------------------------------------------
# the generator


def _levels(n, rb, cptr, region, community):
    """Each user's place at each level (community, region, everyone) and each level's
    ranges, padded to one array."""
    place = np.zeros((3, n), dtype=np.int32)
    place[0] = community
    place[1] = region
    width = max(cptr.size, rb.size)
    bounds = np.full((3, width), n, dtype=np.int64)
    bounds[0, : cptr.size] = cptr
    bounds[1, : rb.size] = rb
    bounds[2, 0] = 0
    return place, bounds


def _keys(seed: int) -> np.ndarray:
    return numpy_generator(seed, "network", part=5).integers(0, 2**63, size=4, dtype=np.uint64)


def draw_follows(n, s, rb, cptr, region, community, m, nclos, w, key):
    """Steps 3 and 4: every user's base and closure follows, as a followers CSR."""
    place, bounds = _levels(n, rb, cptr, region, community)
    tables = [alias_tables(w, b) for b in (cptr, rb, np.array([0, n], dtype=np.int64))]
    acc = np.stack([t[0] for t in tables])
    ali = np.stack([t[1] for t in tables])
    del tables
    off = np.concatenate([[0], np.cumsum(m, dtype=np.int64)])
    out = np.empty(int(off[-1]), dtype=np.int32)
    got = np.zeros(n, dtype=np.int32)
    gotc = np.zeros(n, dtype=np.int32)
    hsize = 1 << math.ceil(math.log2(max(4, 2 * int(m.max(initial=1)) + 2)))
    nbase = (m - nclos).astype(np.int32)
    cs, rs = s.community_share, s.region_share
    base_follows(key[0], off, nbase, place, bounds, acc, ali, cs, rs, hsize, 256, out, got)
    tries = s.closure_local_tries
    closure_follows(key[1], off, got, nclos, place, bounds, acc, ali, tries, hsize, 256, out, gotc)
    del acc, ali, place
    # followers CSR of the drawn rows (users in increasing order, so rows come sorted)
    return transpose_lists(off, got + gotc, out, n)


def add_follow_backs(bptr, bidx, s, key):
    """Step 5: follow-backs on one-way follows, as many as keep the mean out-degree at
    `mean_following`, merged into the followers CSR."""
    n = bptr.size - 1
    one_way, n_one_way = one_way_followers(bptr, bidx)
    wanted = max(0.0, n * s.mean_following - float(bidx.size))
    indeg = np.diff(bptr).astype(np.float64)
    p_back = back_chances(indeg, n_one_way, wanted, s.follow_back_half_degree)
    no_off, no_out = np.zeros(1, np.int64), np.zeros(1, np.int32)
    cnt = follow_backs(key, bptr, bidx, one_way, p_back, no_off, no_out, False)
    boff = np.concatenate([[0], np.cumsum(cnt)]).astype(np.int64)
    back = np.empty(int(boff[-1]), dtype=np.int32)
    follow_backs(key, bptr, bidx, one_way, p_back, boff, back, True)
    del one_way
    tptr, tidx = transpose_lists(boff, cnt, back, n)
    del back
    return _merge_rows(bptr, bidx, tptr, tidx)


def generate(
    n: int,
    seed: int,
    settings: GraphSettings | None = None,
    popularity_boost: np.ndarray | None = None,
) -> FollowGraph:
    """Build the follower graph of n users (see the module's docstring for the steps).

    `popularity_boost` (n,) multiplies each account's popularity weight (influencers,
    media and official accounts), as in `network.synthetic`."""
    s = settings or GraphSettings()
    if n <= 0:
        raise ValueError("n must be positive")
    rb, cptr, region, community = places(n, s, seed)
    k = budgets(n, s, seed)
    rng = numpy_generator(seed, "network", part=4)
    m = rng.binomial(k, max(0.0, 1.0 - s.reciprocity / 2.0)).astype(np.int32)
    nclos = rng.binomial(m, s.closure_share).astype(np.int32)
    w = popularity(n, s, popularity_boost, m, cptr, seed)
    key = _keys(seed)
    bptr, bidx = draw_follows(n, s, rb, cptr, region, community, m, nclos, w, key)
    del w
    ptr, idx = add_follow_backs(bptr, bidx, s, key[2])
    del bptr, bidx
    circle_ptr, members, circle_of = circles(ptr, idx, cptr, s.circle_size, seed)
    return FollowGraph(Graph(n, ptr, idx, circle_ptr, members, circle_of), region, community, cptr)
