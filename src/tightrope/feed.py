"""The feed: posts shown to users beyond those they follow, ranked by engagement.

Each tick, every visible post on a public platform younger than a day is a candidate with
score (engagement + 1)^w x exp(-age / 6 h) x reach x (1 - sensitive_penalty x sensitivity),
where w is the platform's engagement weight (0: recency only). Each user looks at feed
slots at their platform's share of `views_per_day` times the hour's weight, and each slot
shows a candidate drawn in proportion to its score (from an alias table, in O(1)), so what
engages spreads further: the feed amplifies. Engagement decays with a 6-hour time constant.

Users are drawn in fixed blocks of FEED_BLOCK_USERS, in parallel, each block with its own
random streams derived from the feed stream, into its own room of the buffers; each block's
views are then sorted by minute (in parallel, keeping their order), and the minute loop
takes a block's views of a minute as one range: feed views stay within their tick, so they
never go through the calendar. The blocks do not depend on the number of threads, so
neither do the results.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .content import VISIBLE
from .exposure import may_use
from .rng import (
    alias_fill,
    alias_pick,
    derive,
    integer,
    next_u64,
    poisson,
    poisson_from,
    poisson_table,
    uniform,
)

AGE_LIMIT_MINUTES = 1440
TIME_CONSTANT_MINUTES = 360.0
FEED_BLOCK_USERS = 4096  # users per block drawn in parallel (fixed: results depend on it)


class FeedViews(NamedTuple):
    """This tick's feed views (the buffers grow when needed): as drawn, then by minute."""

    minute: np.ndarray  # int32, minute of the tick (0 .. L - 1) the view is drawn for
    pid: np.ndarray  # int64
    viewer: np.ndarray  # int32, -1 for a slot that showed the user their own post
    sorted_pid: np.ndarray  # int64, the views (own posts left out) grouped by block, then
    sorted_viewer: np.ndarray  # int32  minute, in the order drawn within a block and minute
    start: np.ndarray  # int64 (blocks, L + 1): block b's views of minute j are
    # sorted_*[start[b, j]:start[b, j + 1]]


CANDIDATE = np.dtype(
    {
        "names": ["accept", "pid", "alias", "author"],
        "formats": ["f8", "i8", "i4", "i4"],
        "offsets": [0, 8, 16, 20],
        "itemsize": 24,
    }
)
"""A feed candidate's alias-table column and what a pick of it needs, side by side: a feed
slot reads one record (two when the alias is taken) instead of four arrays."""


class Candidates(NamedTuple):
    """This tick's feed candidates, grouped by platform (strided views into one record
    array of CANDIDATE; rebuilt every tick)."""

    accept: np.ndarray  # float64: the score, then the alias table's acceptance threshold
    pid: np.ndarray  # int64
    alias: np.ndarray  # int32, the alias table's other index
    author: np.ndarray  # int32


def new_candidates(capacity: int) -> Candidates:
    table = np.zeros(capacity, dtype=CANDIDATE)
    return Candidates(table["accept"], table["pid"], table["alias"], table["author"])


def new_feed_views(capacity: int, users: int, tick_minutes: int) -> FeedViews:
    return FeedViews(
        minute=np.zeros(capacity, dtype=np.int32),
        pid=np.zeros(capacity, dtype=np.int64),
        viewer=np.zeros(capacity, dtype=np.int32),
        sorted_pid=np.zeros(capacity, dtype=np.int64),
        sorted_viewer=np.zeros(capacity, dtype=np.int32),
        start=np.zeros((-(-users // FEED_BLOCK_USERS), tick_minutes + 1), dtype=np.int64),
    )


@njit(cache=True)
def rank_candidates(t0, posts, consts, cand, scratch, start, top):
    """Decay engagement and build each platform's alias table of candidates: platform p's
    candidates are entries start[p]..start[p + 1] of the candidate arrays, of total score
    top[p] (0: none)."""
    L = consts.tick_minutes
    decay = math.exp(-L / TIME_CONSTANT_MINUTES)
    n_p = consts.n_platforms
    size = posts.pid.size
    pid, state, created, platform = posts.pid, posts.state, posts.created, posts.platform
    engagement, cat, reach, author = posts.engagement, posts.cat, posts.reach, posts.author
    private, eng_weight, sens_penalty = consts.p_private, consts.p_eng_weight, consts.p_sens_penalty
    sensitivity = consts.cat_sensitivity
    cand_pid, cand_author, accept, alias = cand.pid, cand.author, cand.accept, cand.alias
    # Candidates: visible posts on public platforms younger than the age limit, found in
    # one pass (into `scratch`), then grouped by platform with their scores (in `accept`),
    # from which each platform gets an alias table. Only the newest posts can be
    # candidates: a post is published in its tick, so once a post made more than the age
    # limit and a tick ago is met going back from the newest, every older one is past the
    # age limit too. Engagement is read only here, for candidates, so only these posts
    # need decaying.
    newest = posts.counts[5] - 1
    oldest = newest
    while oldest >= 0 and newest - oldest < size:
        if created[oldest & (size - 1)] <= t0 - AGE_LIMIT_MINUTES - L:
            break
        oldest -= 1
    oldest += 1
    # the window's slots, in ascending slot order (the ring may wrap around its end)
    first, last = oldest & (size - 1), newest & (size - 1)
    wrapped = newest >= oldest and first > last
    start[:] = 0
    n_cand = 0
    for part in range(2):
        if newest < oldest:
            break
        if wrapped:
            lo, hi = (0, last + 1) if part == 0 else (first, size)
        elif part == 0:
            lo, hi = first, last + 1
        else:
            break
        for s in range(lo, hi):
            engagement[s] *= decay
            if (
                state[s] == VISIBLE
                and t0 - created[s] < AGE_LIMIT_MINUTES
                and private[platform[s]] == 0
            ):
                scratch[n_cand] = s
                n_cand += 1
                start[platform[s] + 1] += 1
    for p in range(n_p):
        start[p + 1] += start[p]
    fill = start[:-1].copy()
    fresh = np.empty(AGE_LIMIT_MINUTES)  # exp(-age / time constant), by age in minutes
    for age in range(AGE_LIMIT_MINUTES):
        fresh[age] = math.exp(-age / TIME_CONSTANT_MINUTES)
    for j in range(n_cand):
        s = scratch[j]
        p = platform[s]
        age = max(t0 - created[s], 0)
        c = cat[s]
        weight = eng_weight[p]
        w = engagement[s] + 1.0
        if weight != 1.0:
            w = w**weight
        w *= fresh[age] * reach[s]
        w *= 1.0 - sens_penalty[p] * sensitivity[c]
        k = fill[p]
        cand_pid[k] = pid[s]  # what a pick needs, kept with the candidate: the ring is far
        cand_author[k] = author[s]
        accept[k] = w
        fill[p] += 1
    for p in range(n_p):
        top[p] = alias_fill(accept, start[p], start[p + 1], accept, alias, scratch)


@njit(cache=True, inline="always")
def _usable(i, t0, top, access, suspended, satisfaction, usable) -> float:
    """Mark the platforms user i can see a feed on (candidates of positive total score, on
    a platform the user can use); return their total satisfaction + 0.01 each."""
    total = 0.0
    for p in range(top.size):
        usable[p] = top[p] > 0.0 and may_use(access, suspended, i, p, t0)
        if usable[p]:
            total += satisfaction[i, p] + 0.01
    return total


@njit(cache=True, inline="always")
def _slots(s, rate, cdf, used) -> int:
    return poisson_from(cdf, used, s) if used > 0 else poisson(s, rate)


def block_room(rate: float) -> int:
    """Room for one block's feed slots in a tick with `rate` slots per user: the expected
    number if every user can see a feed plus six standard deviations and 64. A block that
    needs more gets it (`feed_tick` draws again with more room)."""
    mu = FEED_BLOCK_USERS * rate
    return int(mu + 6.0 * math.sqrt(mu) + 64.0)


@njit(cache=True, parallel=True)
def draw_slots(
    t0,
    L,
    people,
    top,
    start,
    rate,
    cdf,
    used,
    key_count,
    key_slot,
    room,
    totals,
    cand,
    out,
) -> None:
    """Each block's feed slots this tick, in parallel over blocks: every user who can see
    a feed looks at Poisson(rate) slots (one draw per user from the block's count stream,
    from a table when the mean is small); each slot shows, from the block's slot stream, a
    platform in proportion to satisfaction + 0.01, a candidate from its alias table and a
    minute of the tick. Block b's slots go to out[b x room:], in the order of its users, and
    totals[b] is their number: when it is more than `room`, only the first `room` are
    written (`feed_tick` then draws again with room for all: the same draws)."""
    n = people.kind.size
    access, suspended, satisfaction = people.access, people.suspended_until, people.satisfaction
    out_minute, out_pid, out_viewer = out.minute, out.pid, out.viewer
    cand_pid, cand_author, accept, alias = cand.pid, cand.author, cand.accept, cand.alias
    n_p = top.size
    for b in prange(totals.size):
        s = np.empty(4, dtype=np.uint64)
        r = np.empty(4, dtype=np.uint64)
        derive(key_count, b, s)
        derive(key_slot, b, r)
        usable = np.empty(n_p, dtype=np.bool_)
        k = b * room
        end = k + room
        got = 0
        for i in range(b * FEED_BLOCK_USERS, min(n, (b + 1) * FEED_BLOCK_USERS)):
            total = _usable(i, t0, top, access, suspended, satisfaction, usable)
            if total <= 0.0:
                continue
            count = _slots(s, rate, cdf, used)
            got += count
            for _ in range(count):
                if k == end:
                    break
                u = uniform(r) * total
                p = -1
                for q in range(n_p):
                    if usable[q]:
                        p = q
                        u -= satisfaction[i, q] + 0.01
                        if u < 0.0:
                            break
                lo, hi = start[p], start[p + 1]
                j = alias_pick(accept, alias, lo, hi - lo, uniform(r))
                out_minute[k] = integer(r, L)
                out_pid[k] = cand_pid[j]
                out_viewer[k] = -1 if cand_author[j] == i else i
                k += 1
        totals[b] = got


@njit(cache=True, parallel=True)
def sort_by_minute(L, room, totals, out) -> None:
    """Group each block's views by minute (a counting sort, in parallel over blocks, which
    keeps the order within a minute) and leave out the slots that showed users their own
    posts: block b's views of minute j become sorted_*[start[b, j]:start[b, j + 1]], in
    the block's room (from b x room)."""
    minute, pid, viewer = out.minute, out.pid, out.viewer
    sorted_pid, sorted_viewer, start = out.sorted_pid, out.sorted_viewer, out.start
    for b in prange(totals.size):
        lo = b * room
        hi = lo + totals[b]
        row = start[b]
        row[:] = 0
        for k in range(lo, hi):
            if viewer[k] >= 0:
                row[minute[k] + 1] += 1
        row[0] = lo
        for j in range(L):
            row[j + 1] += row[j]
        fill = row[:L].copy()
        for k in range(lo, hi):
            v = viewer[k]
            if v >= 0:
                j = minute[k]
                f = fill[j]
                fill[j] = f + 1
                sorted_pid[f] = pid[k]
                sorted_viewer[f] = v


def feed_tick(
    t0: int,
    hour: int,
    posts,
    people,
    consts,
    cand: Candidates,
    scratch: np.ndarray,
    views: FeedViews,
    rs: np.ndarray,
) -> FeedViews:
    """Decay engagement, rank candidates, and draw this tick's feed views, sorted by block
    and minute; returns the view buffers (larger ones when this tick needed more room)."""
    n_p = consts.n_platforms
    start = np.zeros(n_p + 1, dtype=np.int64)
    top = np.zeros(n_p)
    rank_candidates(t0, posts, consts, cand, scratch, start, top)
    L = int(consts.tick_minutes)
    rate = consts.views_per_day * consts.diurnal[hour] * L / 1440.0
    if rate <= 0.0:
        views.start[:] = 0
        return views
    cdf = np.empty(200 if rate < 30.0 else 1)
    used = poisson_table(rate, cdf) if rate < 30.0 else 0
    key_count, key_slot = np.uint64(next_u64(rs)), np.uint64(next_u64(rs))
    n = people.kind.size
    totals = np.zeros(-(-n // FEED_BLOCK_USERS), dtype=np.int64)
    room = block_room(rate)
    while True:
        if totals.size * room > views.pid.size:
            views = new_feed_views(max(totals.size * room, 2 * views.pid.size), n, L)
        draw_slots(
            t0, L, people, top, start, rate, cdf, used, key_count, key_slot, room, totals,
            cand, views,
        )  # fmt: skip
        most = int(totals.max())
        if most <= room:
            break
        room = most  # a block needed more room: the same draws again, with room for all
    sort_by_minute(L, room, totals, views)
    return views
