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
from numba import njit

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


@njit(cache=True)
def sweep_finds(posts, consts, rules, p: int, cats: int, m: int, rs, out):
    """Platform p's sweep at minute m over the categories whose bits are set in `cats`:
    its visible posts of those categories created in `[m - window, m]`, newest first, each
    found with `sweep_chance` (one draw from `rs` per matching post). Posts leave the ring
    in id order and a tick's posts get ids after the last tick's, so the scan stops at the
    first post older than the window by a tick. Returns (found, out): the slots found in
    out[:found], `out` larger when it had too little room."""
    post_id, created, platform, cat, state = (
        posts.pid, posts.created, posts.platform, posts.cat, posts.state
    )  # fmt: skip
    mask = post_id.size - 1
    lo = m - consts.p_sweep_window[p]
    stop = lo - consts.tick_minutes
    recall = consts.p_sweep_recall[p]
    flag = rules.flag_prob
    found = 0
    newest = posts.counts[5] - 1
    for pid in range(newest, max(-1, newest - post_id.size), -1):
        slot = pid & mask
        if post_id[slot] != pid:
            break
        t = created[slot]
        if t < stop:
            break
        if t < lo or t > m or platform[slot] != p or state[slot] != VISIBLE:
            continue
        c = cat[slot]
        if (cats >> c) & 1 == 0:
            continue
        if uniform(rs) < sweep_chance(recall, flag[p, c]):
            if found == out.size:
                grown = np.empty(2 * out.size, dtype=np.int64)
                grown[:found] = out[:found]
                out = grown
            out[found] = slot
            found += 1
    return found, out
