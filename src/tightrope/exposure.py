"""Scheduling exposures: who will see a post, and at which minute.

When a post becomes visible (or is reshared), each follower of the sharer on that
platform (or each member of the sharer's circle, on a private platform) sees it with the
platform's follower-see chance times the post's reach, after an exponential delay. The
exposure goes into a calendar queue: one slot of events per minute over the exposure
horizon, kept in the order they were scheduled. Special events use negative viewer codes:
REVIEW_ARRIVAL puts the post into its platform's review queue at that minute,
REQUEST_ARRIVAL puts a citizen's service request into the officials' queue.
"""

from __future__ import annotations

import math

from numba import njit

from .rng import exponential, geometric_skip, uniform
from .world import BLOCK_EVENTS, HORIZON_MINUTES

REVIEW_ARRIVAL = -1
REVIEW_ARRIVAL_REPORTED = -2
REQUEST_ARRIVAL = -3


@njit(cache=True, inline="always")
def push(slots, post, viewer, link, meta, minute: int, pid: int, v: int) -> bool:
    """Schedule an event at `minute` (within the horizon) in the calendar whose arrays are
    given, after the events already there; False if the pool is full. Hot loops call it
    with the arrays hoisted, since Numba pays per array passed, per call."""
    s = minute % HORIZON_MINUTES
    b = slots[s, 1]
    f = slots[s, 2]
    if b < 0 or f == BLOCK_EVENTS:
        nb = meta[0]
        if nb < 0:
            meta[2] += 1
            return False
        meta[0] = link[nb]
        link[nb] = -1
        meta[1] += 1
        if b < 0:
            slots[s, 0] = nb
        else:
            link[b] = nb
        slots[s, 1] = nb
        b = nb
        f = 0
    k = b * BLOCK_EVENTS + f
    post[k] = pid
    viewer[k] = v
    slots[s, 2] = f + 1
    return True


@njit(cache=True, inline="always")
def push_event(cal, minute: int, pid: int, v: int) -> bool:
    """`push` for code that is not hot: takes the Calendar record."""
    return push(cal.slots, cal.post, cal.viewer, cal.link, cal.meta, minute, pid, v)


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


@njit(cache=True)
def schedule_audience(posts, slot, sharer, start, people, consts, rules, graph, cal, rs) -> None:
    """Schedule the views of post `slot` by the audience of `sharer` from minute `start`.

    Each member of the audience who can use the platform at `start` gets a view after
    1 + an exponential delay, if that falls within the horizon. On a public platform the
    audience is the sharer's followers, each seeing it with the platform's chance x the
    post's reach, drawn by geometric skipping (O(views), not O(followers)); on a private
    one it is the sharer's circle, one draw per member.
    """
    p = posts.platform[slot]
    pid = posts.pid[slot]
    chance = consts.p_see[p] * posts.reach[slot]
    if chance <= 0.0:
        return
    delay = consts.p_delay[p]
    member, suspended, vpn = people.member, people.suspended_until, people.vpn
    live_p = rules.live[p] != 0
    blocked_p = rules.blocked[p] != 0
    slots, post, viewer, link, meta = cal.slots, cal.post, cal.viewer, cal.link, cal.meta
    private = consts.p_private[p] != 0
    inv_log_q = 1.0 / math.log1p(-chance) if chance < 1.0 else 0.0
    if private:
        c = graph.circle_of[sharer]
        e, hi = graph.circle_ptr[c], graph.circle_ptr[c + 1]
        audience = graph.circle_members
    else:
        e, hi = graph.followers_ptr[sharer], graph.followers_ptr[sharer + 1]
        audience = graph.followers_idx
        e += geometric_skip(rs, inv_log_q)
    while e < hi:
        v = audience[e]
        seen = True
        if private:
            seen = v != sharer and uniform(rs) < chance
        # can_use(), written out (see push)
        if (
            seen
            and (member[v] >> p) & 1 != 0
            and suspended[v] <= start
            and live_p
            and (not blocked_p or vpn[v] != 0)
        ):
            due = start + 1 + int(exponential(rs, delay))
            if due - start < HORIZON_MINUTES:
                push(slots, post, viewer, link, meta, due, pid, v)
        e += 1 if private else 1 + geometric_skip(rs, inv_log_q)
