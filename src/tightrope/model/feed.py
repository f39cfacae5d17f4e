"""The feed: posts shown to users beyond those they follow, ranked by engagement.

Each tick, every visible post on a public platform younger than the age limit
(`ranking.age_limit_minutes`, a day) is a candidate with score
(engagement + 1)^w x exp(-age / T) x reach x (1 - sensitive_penalty x sensitivity),
where w is the platform's engagement weight (0: recency only). Each user looks at feed
slots at their platform's share of `views_per_day` times the hour's weight, and each slot
shows a candidate drawn in proportion to its score (from an alias table, in O(1)), so what
engages spreads further: the feed amplifies. Engagement decays with the same time constant
T (`ranking.freshness_minutes`, 6 hours).

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

from tightrope.core.memory_hints import prefetch
from tightrope.core.rng import (
    alias_column,
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
from tightrope.model.exposure import may_use
from tightrope.model.posting import platform_weight
from tightrope.scenario.content import VISIBLE

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


RANK_CHUNK = 1 << 15
"""Window slots per chunk of the candidate scan (chunks run in parallel; the candidates
come out in the same order whatever their number)."""


@njit(cache=True, inline="always")
def _window_slot(q, lo0, n0, lo1):
    """Slot of position q of the window: its first range from lo0 (n0 slots), then lo1."""
    return lo0 + q if q < n0 else lo1 + (q - n0)


@njit(cache=True, inline="always")
def _is_candidate(s, t0, state, created, platform, private, age_limit) -> bool:
    """A visible post on a public platform younger than `ranking.age_limit_minutes`."""
    return state[s] == VISIBLE and t0 - created[s] < age_limit and private[platform[s]] == 0


@njit(cache=True, parallel=True)
def _scan_window(t0, decay, lo0, n0, lo1, n, posts, consts, counts) -> None:
    """Decay the window's engagement and count each chunk's candidates by platform
    (counts[c, p]), in parallel over chunks of RANK_CHUNK window positions."""
    state, created, platform = posts.state, posts.created, posts.platform
    engagement, private, age_limit = posts.engagement, consts.p_private, consts.age_limit
    for c in prange(counts.shape[0]):
        row = counts[c]
        row[:] = 0
        for q in range(c * RANK_CHUNK, min(n, (c + 1) * RANK_CHUNK)):
            s = _window_slot(q, lo0, n0, lo1)
            engagement[s] *= decay
            if _is_candidate(s, t0, state, created, platform, private, age_limit):
                row[platform[s]] += 1


@njit(cache=True, inline="always")
def feed_score(
    engagement: float,
    engagement_weight: float,
    freshness: float,
    reach: float,
    sensitive_penalty: float,
    sensitivity: float,
) -> float:
    """A candidate's feed score (section 7.6), >= 0, a weight relative to the platform's
    other candidates: `(engagement + 1)^engagement_weight x freshness x reach x
    (1 - sensitive_penalty x sensitivity)`. engagement >= 0 (views and reshares, decaying);
    engagement_weight >= 0 (`feed.engagement_weight`, 0: recency only); freshness =
    exp(-age / time constant) in (0, 1]; reach in [0, 1] (cut by 'reduce');
    sensitive_penalty (`feed.sensitive_penalty`) and sensitivity in [0, 1]."""
    w = engagement + 1.0
    if engagement_weight != 1.0:
        w = w**engagement_weight
    w *= freshness * reach
    w *= 1.0 - sensitive_penalty * sensitivity
    return w


@njit(cache=True, parallel=True)
def _write_candidates(t0, lo0, n0, lo1, n, posts, consts, cand, fill) -> None:
    """Each chunk's candidates with their scores, from fill[c, p] on for platform p (so
    that a platform's candidates are in window order), in parallel over chunks."""
    pid, state, created, platform = posts.pid, posts.state, posts.created, posts.platform
    engagement, cat, reach, author = posts.engagement, posts.cat, posts.reach, posts.author
    private, eng_weight, sens_penalty = consts.p_private, consts.p_eng_weight, consts.p_sens_penalty
    sensitivity = consts.cat_sensitivity
    cand_pid, cand_author, accept = cand.pid, cand.author, cand.accept
    age_limit = consts.age_limit
    fresh = np.empty(age_limit)  # exp(-age / time constant), by age in minutes
    for age in range(age_limit):
        fresh[age] = math.exp(-age / consts.freshness_minutes)
    for c in prange(fill.shape[0]):
        at = fill[c]
        for q in range(c * RANK_CHUNK, min(n, (c + 1) * RANK_CHUNK)):
            s = _window_slot(q, lo0, n0, lo1)
            if not _is_candidate(s, t0, state, created, platform, private, age_limit):
                continue
            p = platform[s]
            age = max(t0 - created[s], 0)
            w = feed_score(
                engagement[s],
                eng_weight[p],
                fresh[age],
                reach[s],
                sens_penalty[p],
                sensitivity[cat[s]],
            )
            k = at[p]
            cand_pid[k] = pid[s]  # what a pick needs, kept with the candidate: the ring is far
            cand_author[k] = author[s]
            accept[k] = w
            at[p] = k + 1


@njit(cache=True, parallel=True)
def _alias_tables(cand, scratch, start, top) -> None:
    """Each platform's alias table over its candidates, in parallel over platforms."""
    accept, alias = cand.accept, cand.alias
    for p in prange(top.size):
        lo, hi = start[p], start[p + 1]
        top[p] = alias_fill(accept, lo, hi, accept, alias, scratch[lo:hi])


@njit(cache=True)
def _window(t0, posts, consts):
    """The candidate window (lo0, n0, lo1, n): n slots, n0 of them from lo0 on, then the
    rest from lo1 on, in ascending slot order (the ring may wrap around its end)."""
    L = consts.tick_minutes
    size = posts.pid.size
    created = posts.created
    # Only the newest posts can be candidates: a post is published in its tick, so once a
    # post made more than the age limit and a tick ago is met going back from the newest,
    # every older one is past the age limit too.
    newest = posts.counts[5] - 1
    oldest = newest
    while oldest >= 0 and newest - oldest < size:
        if created[oldest & (size - 1)] <= t0 - consts.age_limit - L:
            break
        oldest -= 1
    oldest += 1
    if newest < oldest:
        return 0, 0, 0, 0
    first, last = oldest & (size - 1), newest & (size - 1)
    n = newest - oldest + 1
    if first > last:  # wrapped: slots 0..last come first in slot order, then first..end
        return 0, last + 1, first, n
    return first, n, 0, n


def rank_candidates(t0, posts, consts, cand, scratch, start, top) -> None:
    """Decay engagement and build each platform's alias table of candidates: platform p's
    candidates are entries start[p]..start[p + 1] of the candidate arrays, in ascending
    slot order, of total score top[p] (0: none).

    Candidates are the visible posts on public platforms younger than the age limit.
    Engagement is read only here, for candidates, so only the window's posts need
    decaying. The window is scanned in chunks in parallel twice: to count each chunk's
    candidates by platform, then (after a prefix sum that gives each chunk its place) to
    write them with their scores."""
    decay = math.exp(-consts.tick_minutes / consts.freshness_minutes)
    lo0, n0, lo1, n = _window(t0, posts, consts)
    n_p = int(consts.n_platforms)
    counts = np.zeros((-(-n // RANK_CHUNK), n_p), dtype=np.int64)
    _scan_window(t0, decay, lo0, n0, lo1, n, posts, consts, counts)
    totals = counts.sum(axis=0)
    start[0] = 0
    start[1:] = np.cumsum(totals)
    # chunk c's candidates of platform p go after those of the chunks before it
    fill = start[:-1][None, :] + np.cumsum(counts, axis=0) - counts
    _write_candidates(t0, lo0, n0, lo1, n, posts, consts, cand, fill)
    _alias_tables(cand, scratch, start, top)


@njit(cache=True, inline="always")
def _usable(i, t0, top, access, suspended, satisfaction, usable, floor) -> float:
    """Mark the platforms user i can see a feed on (candidates of positive total score, on
    a platform the user can use); return the sum of their `platform_weight`s."""
    total = 0.0
    for p in range(top.size):
        usable[p] = top[p] > 0.0 and may_use(access, suspended, i, p, t0)
        if usable[p]:
            total += platform_weight(satisfaction[i, p], floor)
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


PREFETCH_SLOTS = 16  # feed slots ahead whose candidate's alias-table column is fetched early
PICK_SLOTS = 8  # feed slots ahead whose candidate is picked and its record fetched early


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
    picks,
    floor,
) -> None:
    """Each block's feed slots this tick, in parallel over blocks: every user who can see
    a feed looks at Poisson(rate) slots (one draw per user from the block's count stream,
    from a table when the mean is small); each slot shows, from the block's slot stream, a
    platform in proportion to its `platform_weight` (with `floor`), a candidate from its
    alias table and a minute of the tick. Block b's slots go to out[b x room:], in the order
    of its users, and totals[b] is their number: when it is more than `room`, only the first
    `room` are written (`feed_tick` then draws again with room for all: the same draws).

    A block draws all its slots first (the candidate as its platform and uniform, in
    out.pid and `picks`, float64 scratch the size of out.pid: `feed_tick` lends it
    out.sorted_pid, which `sort_by_minute` fills afterwards), then picks the candidates in
    a pipeline: a slot's alias-table column is fetched PREFETCH_SLOTS slots early, its pick
    made PICK_SLOTS slots early (the column has arrived by then) and the picked record
    fetched, and the slot finished when its turn comes. The columns and records are at
    random places in a table larger than the caches; fetched one after another they would
    be waited for one by one."""
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
        first = b * room
        k = first
        end = k + room
        got = 0
        for i in range(b * FEED_BLOCK_USERS, min(n, (b + 1) * FEED_BLOCK_USERS)):
            total = _usable(i, t0, top, access, suspended, satisfaction, usable, floor)
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
                        u -= platform_weight(satisfaction[i, q], floor)
                        if u < 0.0:
                            break
                out_pid[k] = p
                picks[k] = uniform(r)
                out_minute[k] = integer(r, L)
                out_viewer[k] = i
                k += 1
        totals[b] = got
        for e in range(first - PREFETCH_SLOTS, k):
            ahead = e + PREFETCH_SLOTS
            if ahead < k:
                q = out_pid[ahead]
                prefetch(accept, alias_column(start[q], start[q + 1] - start[q], picks[ahead]))
            near = e + PICK_SLOTS
            if first <= near < k:  # its column has arrived: pick, and fetch the pick's record
                p = out_pid[near]
                lo = start[p]
                j = alias_pick(accept, alias, lo, start[p + 1] - lo, picks[near])
                out_pid[near] = j
                prefetch(accept, j)
            if e < first:
                continue
            j = out_pid[e]
            out_pid[e] = cand_pid[j]
            if cand_author[j] == out_viewer[e]:
                out_viewer[e] = -1


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
            cand, views, views.sorted_pid.view(np.float64), consts.platform_choice_floor,
        )  # fmt: skip
        most = int(totals.max())
        if most <= room:
            break
        room = most  # a block needed more room: the same draws again, with room for all
    sort_by_minute(L, room, totals, views)
    return views
