"""Scheduling exposures: who will see a post, and at which minute.

When a post becomes visible (or is reshared), each follower of the sharer on that
platform (or each member of the sharer's circle, on a private platform) sees it with the
platform's follower-see chance times the post's reach, after an exponential delay. The
exposure goes into a calendar queue: one linked list of events per minute over the
exposure horizon. Special events use negative viewer codes: REVIEW_ARRIVAL puts the post
into its platform's review queue at that minute, REQUEST_ARRIVAL puts a citizen's service
request into the officials' queue.
"""

from __future__ import annotations

from numba import njit

from .rng import exponential, geometric_skip, uniform
from .world import HORIZON_MINUTES

REVIEW_ARRIVAL = -1
REVIEW_ARRIVAL_REPORTED = -2
REQUEST_ARRIVAL = -3


@njit(cache=True, inline="always")
def push(cal, minute: int, pid: int, viewer: int) -> bool:
    """Schedule an event at `minute` (must be within the horizon); False if the pool is full."""
    free = cal.meta[0]
    if free < 0:
        cal.meta[2] += 1
        return False
    cal.meta[0] = cal.nxt[free]
    slot = minute % HORIZON_MINUTES
    cal.post[free] = pid
    cal.viewer[free] = viewer
    cal.nxt[free] = cal.head[slot]
    cal.head[slot] = free
    cal.meta[1] += 1
    return True


@njit(cache=True, inline="always")
def can_use(member, suspended_until, vpn, live, blocked, i: int, p: int, now: int) -> bool:
    """User i can use platform p now: has an account, is not suspended, and can reach it.

    Takes arrays, not the People record: Numba pays per array passed, per call.
    """
    return (
        (member[i] >> p) & 1 != 0
        and suspended_until[i] <= now
        and live[p] != 0
        and (blocked[p] == 0 or vpn[i] != 0)
    )


@njit(cache=True, inline="always")
def _schedule_one(cal, people, rules, v, p, pid, start, mean_delay, rs) -> None:
    if not can_use(
        people.member, people.suspended_until, people.vpn, rules.live, rules.blocked, v, p, start
    ):
        return
    due = start + 1 + int(exponential(rs, mean_delay))
    if due - start < HORIZON_MINUTES:
        push(cal, due, pid, v)


@njit(cache=True)
def schedule_audience(posts, slot, sharer, start, people, consts, rules, graph, cal, rs) -> None:
    """Schedule the views of post `slot` by the audience of `sharer` from minute `start`."""
    p = posts.platform[slot]
    pid = posts.pid[slot]
    chance = consts.p_see[p] * posts.reach[slot]
    if chance <= 0.0:
        return
    delay = consts.p_delay[p]
    if consts.p_private[p]:
        c = graph.circle_of[sharer]
        for e in range(graph.circle_ptr[c], graph.circle_ptr[c + 1]):
            v = graph.circle_members[e]
            if v != sharer and uniform(rs) < chance:
                _schedule_one(cal, people, rules, v, p, pid, start, delay, rs)
        return
    lo = graph.followers_ptr[sharer]
    hi = graph.followers_ptr[sharer + 1]
    if chance >= 1.0:
        for e in range(lo, hi):
            _schedule_one(cal, people, rules, graph.followers_idx[e], p, pid, start, delay, rs)
        return
    # geometric skipping: O(expected views), not O(followers), for large audiences
    e = lo + geometric_skip(rs, chance)
    while e < hi:
        _schedule_one(cal, people, rules, graph.followers_idx[e], p, pid, start, delay, rs)
        e += 1 + geometric_skip(rs, chance)
