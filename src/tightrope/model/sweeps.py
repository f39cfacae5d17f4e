"""Platforms sweeping what is already published.

Chinese platforms do not only review what their filter or users flag: once a sensitive post
is found, they search for its like among recent posts (keywords, reposts) and delete what
they find. Zhu et al. (2013, "The velocity of censorship") saw most Weibo deletions within
5-30 minutes of posting and about 90% within a day, faster than review queues alone explain.

When a review or the regulator removes a post (published or held) of a category that a
platform with sweeps (`moderation.sweep.enabled`) enforces, the platform schedules a sweep
`delay_minutes` later (`schedule_sweep`); further removals before it runs add their category
to the same sweep, so a platform sweeps at most once per delay. The sweep searches the
platform's visible posts of those categories published in the last `window_hours`
(`sweep_finds`), finding each with chance `recall x flag[p, c]` (the filter's flag chance of
the category: detection x effort x (1 + intensity), `sweep_chance`), from the stream `sweep`,
newest post first; `moderation.serve_sweeps` removes what it found (`remove_post`, route
`removed_sweep`: strikes and referrals as for any removal). A sweep's removals do not
trigger sweeps. A post a sweep misses is searched again, with a new draw, by every later
sweep of its category while it is in the window.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tightrope.core.rng import uniform
from tightrope.scenario.content import VISIBLE


@njit(inline="always", cache=True)
def sweep_chance(recall: float, flag: float) -> float:
    """Chance a sweep finds one matching post: `recall x flag`, with the platform's recall
    and the filter's flag chance of the post's category, both in [0, 1]."""
    return recall * flag


@njit(cache=True, inline="always")
def schedule_sweep(q, consts, rules, p: int, c: int, minute: float) -> None:
    """A removal of a post of category c on platform p at `minute`: if the
    platform sweeps and enforces c, c joins its next sweep, which is scheduled
    `delay_minutes` after `minute` unless one is already due."""
    if consts.p_sweep[p] == 0 or rules.enforced[p, c] <= 0.0:
        return
    if q.sweep_due[p] < 0:
        q.sweep_due[p] = int(minute) + consts.p_sweep_delay[p]
    q.sweep_cats[p] |= np.int64(1) << np.int64(c)


SWEEP_CHUNKS = 64
"""Ranges of post ids a sweep's search is split into, searched in parallel (`sweep_matches`)."""


@njit(cache=True, parallel=True)
def sweep_matches(
    posts,
    consts,
    p: int,
    cats: int,
    m: int,
    newest: int,
    span: int,
    chunks: int,
    hits,
    count,
    stops,
):
    """The search of `sweep_finds`, in parallel: the post ids newest - span + 1 .. newest
    are split into `chunks` ranges; range k is searched newest first, its matches (visible
    posts of platform p and of a category in `cats`, created in the window) written to
    `hits` from the range's first place on, `count[k]` of them, until its first post that
    ends the search (one that has left the ring, or older than the window by a tick), whose
    id goes to `stops[k]` (-1: none)."""
    post_id, created, platform, cat, state = (
        posts.pid, posts.created, posts.platform, posts.cat, posts.state
    )  # fmt: skip
    mask = post_id.size - 1
    lo = m - consts.p_sweep_window[p]
    stop = lo - consts.tick_minutes
    bottom = newest - span + 1
    for k in prange(chunks):
        first = bottom + k * span // chunks
        last = bottom + (k + 1) * span // chunks - 1
        i = first - bottom
        found = 0
        stops[k] = -1
        for pid in range(last, first - 1, -1):
            slot = pid & mask
            if post_id[slot] != pid or created[slot] < stop:
                stops[k] = pid
                break
            t = created[slot]
            if t < lo or t > m or platform[slot] != p or state[slot] != VISIBLE:
                continue
            if (cats >> cat[slot]) & 1 == 0:
                continue
            hits[i + found] = slot
            found += 1
        count[k] = found


@njit(cache=True)
def sweep_finds(posts, consts, rules, p: int, cats: int, m: int, rs, out):
    """Platform p's sweep at minute m over the categories whose bits are set in `cats`:
    its visible posts of those categories created in `[m - window, m]`, newest first, each
    found with `sweep_chance` (one draw from `rs` per matching post). Posts leave the ring
    in id order and a tick's posts get ids after the last tick's, so the search stops at
    the first post older than the window by a tick. The matching posts are searched for in
    parallel (`sweep_matches`) and drawn for in order, newest first, so the result does
    not depend on the number of threads. Returns (found, out): the slots found in
    out[:found], `out` larger when it had too little room."""
    post_id = posts.pid
    newest = posts.counts[5] - 1
    span = newest - max(-1, newest - post_id.size)
    if span <= 0:
        return 0, out
    chunks = min(SWEEP_CHUNKS, span)
    hits = np.empty(span, dtype=np.int64)
    count = np.empty(chunks, dtype=np.int64)
    stops = np.empty(chunks, dtype=np.int64)
    sweep_matches(posts, consts, p, cats, m, newest, span, chunks, hits, count, stops)
    end = stops.max()  # the search ends at the newest post that ends it
    recall = consts.p_sweep_recall[p]
    flag = rules.flag_prob
    cat = posts.cat
    bottom = newest - span + 1
    found = 0
    for k in range(chunks - 1, -1, -1):
        i = k * span // chunks  # range k's first place in `hits`
        for h in range(i, i + count[k]):
            slot = hits[h]
            if post_id[slot] <= end:
                break
            if uniform(rs) < sweep_chance(recall, flag[p, cat[slot]]):
                if found == out.size:
                    grown = np.empty(2 * out.size, dtype=np.int64)
                    grown[:found] = out[:found]
                    out = grown
                out[found] = slot
                found += 1
        if bottom + i <= end:  # the ranges below hold only older posts
            break
    return found, out
