"""Scheduling exposures: who will see a post, and at which minute.

When a post becomes visible (or is reshared), each follower of the sharer on that
platform (or each member of the sharer's circle, on a private platform) sees it with the
platform's follower-see chance times the post's reach, after an exponential delay. The
exposure goes into the calendar queue of its viewer's shard (`world.ShardedCalendar`): one
slot of events per minute over the exposure horizon, kept in the order they were
scheduled. Other events go into one calendar of their own (`world.Calendar`), with negative
viewer codes: REVIEW_ARRIVAL puts the post into its platform's review queue at that minute,
REQUEST_ARRIVAL puts a citizen's service request into the officials' queue, AUTHOR_DELETION
has the author delete the post (`tightrope.model.author_deletion`), APPEAL_REVERSAL and
APPEAL_REVERSAL_STRUCK reinstate a removed post on appeal, the second withdrawing the strike
its removal gave (`tightrope.model.appeals`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from tightrope.core.memory_hints import prefetch
from tightrope.core.rng import derive, exponential, geometric_skip, uniform
from tightrope.core.routing import ROUTE_CHUNKS, bucket_offsets
from tightrope.core.world import BLOCK_EVENTS, HORIZON_MINUTES, VIEWER_PART_SHIFT

REVIEW_ARRIVAL = -1
REVIEW_ARRIVAL_REPORTED = -2
REQUEST_ARRIVAL = -3
AUTHOR_DELETION = -4
APPEAL_REVERSAL = -5
APPEAL_REVERSAL_STRUCK = -6


@njit(cache=True, inline="always")
def push(slots, post, viewer, link, meta, minute: int, pid: int, v: int) -> bool:
    """Schedule an event at `minute` (within the horizon) in the calendar whose arrays are
    given, after the events already there; False if the pool is full. Hot loops call it
    with the arrays hoisted, since Numba pays per array passed, per call."""
    return push_at(slots, post, viewer, link, meta, minute % HORIZON_MINUTES, pid, v)


@njit(cache=True, inline="always")
def slot_after(s: int, d: int) -> int:
    """The calendar slot d minutes (0 <= d < HORIZON_MINUTES) after slot s, without the
    division that `minute % HORIZON_MINUTES` costs."""
    s += d
    return s - HORIZON_MINUTES if s >= HORIZON_MINUTES else s


@njit(cache=True, inline="always")
def push_at(slots, post, viewer, link, meta, s: int, pid: int, v: int) -> bool:
    """`push` at calendar slot s (the minute modulo HORIZON_MINUTES)."""
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


SUSPENSION_CHECK = 1 << 8
"""Bit of `People.access`: the user is or may become suspended during the tick, so their
`suspended_until` must be read; without it, the platform bits alone say who can use what."""


@njit(cache=True)
def refresh_access(people, rules, t0: int) -> None:
    """Set each user's access bits for the tick starting at t0: bit p when the user has an
    account on platform p, the platform is live and the user can reach it (not blocked, or
    through a VPN), and SUSPENSION_CHECK when the user is suspended at t0. Membership, VPNs
    and the rules change only between ticks; a suspension imposed during the tick sets
    SUSPENSION_CHECK as it is imposed. One array of two bytes per user, which the hot loops
    read instead of four."""
    member, suspended, vpn = people.member, people.suspended_until, people.vpn
    access = people.access
    live, blocked = rules.live, rules.blocked
    n_p = live.size
    reach_all = 0
    reach_vpn = 0
    for p in range(n_p):
        if live[p] != 0:
            reach_vpn |= 1 << p
            if blocked[p] == 0:
                reach_all |= 1 << p
    for i in range(member.size):
        a = member[i] & (reach_vpn if vpn[i] != 0 else reach_all)
        if suspended[i] > t0:
            a |= SUSPENSION_CHECK
        access[i] = a


@njit(cache=True, inline="always")
def may_use(access, suspended_until, i: int, p: int, now: int) -> bool:
    """User i can use platform p at minute `now` of the tick (`can_use`, from the access
    bits). Takes arrays, not the People record: Numba pays per array passed, per call."""
    a = access[i]
    return (a >> p) & 1 != 0 and (a < SUSPENSION_CHECK or suspended_until[i] <= now)


@njit(cache=True, inline="always")
def audience(posts, slot, sharer, consts, graph):
    """The audience of post `slot` shared by `sharer`: (members, chance each sees it)."""
    return audience_from(
        posts.platform, posts.reach, consts.p_see, consts.p_private, graph, slot, sharer
    )


@njit(cache=True, inline="always")
def audience_from(platform, reach, p_see, p_private, graph, slot, sharer):
    """`audience` on the arrays it reads (see `draw_audience_from`)."""
    p = platform[slot]
    chance = p_see[p] * reach[slot]
    if p_private[p] != 0:
        c = graph.circle_of[sharer]
        return graph.circle_ptr[c + 1] - graph.circle_ptr[c], chance
    return graph.followers_ptr[sharer + 1] - graph.followers_ptr[sharer], chance


@njit(cache=True, inline="always")
def region_size(members: int, chance: float) -> int:
    """Room for the views of an audience: the expected number plus six standard deviations
    and 16, at most one per member (so a region of `members` never overflows)."""
    if chance <= 0.0:
        return 0
    mu = members * min(chance, 1.0)
    return min(members, int(mu + 6.0 * math.sqrt(mu) + 16.0))


@njit(cache=True, inline="always")
def draw_audience(
    posts, slot, sharer, start, people, consts, graph, rs, out_slot, out_viewer, lo, hi
) -> int:
    """Draw who of the audience of `sharer` sees post `slot` from minute `start`, and when.

    Each member of the audience who can use the platform at `start` gets a view after
    1 + an exponential delay, if that falls within the horizon. On a public platform the
    audience is the sharer's followers, each seeing it with the platform's chance x the
    post's reach, drawn by geometric skipping (O(views), not O(followers)); on a private
    one it is the sharer's circle, one draw per member. The views go to out_*[lo:hi]
    (calendar slot, viewer), in audience order; returns how many, or -1 when there was not
    room for them all. The records' arrays it reads go on to `draw_audience_from`.
    """
    return draw_audience_from(
        posts.platform, posts.reach, consts.p_see, consts.p_delay, consts.p_private,
        people.access, people.suspended_until, graph, slot, sharer, start, rs, out_slot,
        out_viewer, lo, hi,
    )  # fmt: skip


@njit(cache=True, inline="always")
def draw_audience_from(
    platform, reach, p_see, p_delay, p_private, access, suspended, graph, slot, sharer, start,
    rs, out_slot, out_viewer, lo, hi,
) -> int:  # fmt: skip
    """`draw_audience` on the arrays it reads rather than on the records that hold them:
    a parallel loop that names a record passes every array of it to each thread, and
    compiling that costs minutes (`draw_audiences`)."""
    p = platform[slot]
    chance = p_see[p] * reach[slot]
    if chance <= 0.0:
        return 0
    delay = p_delay[p]
    private = p_private[p] != 0
    inv_log_q = 1.0 / math.log1p(-chance) if chance < 1.0 else 0.0
    s_start = start % HORIZON_MINUTES
    if private:
        c = graph.circle_of[sharer]
        e, end = graph.circle_ptr[c], graph.circle_ptr[c + 1]
        members = graph.circle_members
    else:
        e, end = graph.followers_ptr[sharer], graph.followers_ptr[sharer + 1]
        members = graph.followers_idx
        e += geometric_skip(rs, inv_log_q)
    k = lo
    while e < end:
        v = members[e]
        seen = True
        if private:
            seen = v != sharer and uniform(rs) < chance
        if seen and may_use(access, suspended, v, p, start):
            d = 1 + int(exponential(rs, delay))
            if d < HORIZON_MINUTES:
                if k == hi:
                    return -1
                out_slot[k] = slot_after(s_start, d)
                out_viewer[k] = v
                k += 1
        e += 1 if private else 1 + geometric_skip(rs, inv_log_q)
    return k - lo


@njit(cache=True)
def schedule_audience(posts, slot, sharer, start, people, consts, graph, cal, rs) -> None:
    """Schedule the views of post `slot` by the audience of `sharer` from minute `start`
    (`draw_audience`, from stream rs), in audience order, into the sharded calendar `cal`."""
    platform, reach, p_see, p_private = posts.platform, posts.reach, consts.p_see, consts.p_private
    p_delay, access, suspended = consts.p_delay, people.access, people.suspended_until
    members, chance = audience_from(platform, reach, p_see, p_private, graph, slot, sharer)
    size = region_size(members, chance)
    if size == 0:
        return
    saved = rs.copy()
    out_slot = np.empty(size, dtype=np.int32)
    out_viewer = np.empty(size, dtype=np.int32)
    n = draw_audience_from(
        platform, reach, p_see, p_delay, p_private, access, suspended, graph, slot, sharer,
        start, rs, out_slot, out_viewer, 0, size,
    )  # fmt: skip
    if n < 0:  # more views than room: the same draws again, with room for every member
        rs[:] = saved
        out_slot = np.empty(members, dtype=np.int32)
        out_viewer = np.empty(members, dtype=np.int32)
        n = draw_audience_from(
            platform, reach, p_see, p_delay, p_private, access, suspended, graph, slot, sharer,
            start, rs, out_slot, out_viewer, 0, members,
        )  # fmt: skip
    push_views(cal, posts.pid[slot], out_slot, out_viewer, 0, n)


@njit(cache=True, inline="always")
def push_views(cal, pid, out_slot, out_viewer, lo, n) -> None:
    """Put views out_*[lo:lo + n] of post pid into the sharded calendar `cal` (a
    `ShardedCalendar`), each into its viewer's shard, in order."""
    slots, post, viewer, link, meta, owner = (
        cal.slots, cal.post, cal.viewer, cal.link, cal.meta, cal.owner
    )  # fmt: skip
    for k in range(lo, lo + n):
        v = out_viewer[k]
        s = owner[v >> VIEWER_PART_SHIFT]
        push_at(slots[s], post[s], viewer[s], link[s], meta[s], out_slot[k], pid, v)


@njit(cache=True, parallel=True)
def audience_regions(slots, sharers, n, posts, consts, graph, offsets) -> None:
    """Room for the views of each of the first n shares (post slots[k] shared by
    sharers[k]), as offsets: share k's region is offsets[k]:offsets[k + 1]."""
    offsets[0] = 0
    platform, reach, p_see, p_private = posts.platform, posts.reach, consts.p_see, consts.p_private
    for k in prange(n):
        members, chance = audience_from(
            platform, reach, p_see, p_private, graph, slots[k], sharers[k]
        )
        offsets[k + 1] = region_size(members, chance)
    for k in range(n):
        offsets[k + 1] += offsets[k]


PREFETCH_SHARES = 4  # shares ahead whose follower list and post are fetched early


@njit(cache=True, parallel=True, _nrt=False)
def draw_audiences(
    slots, sharers, starts, n, key, index0, posts, people, consts, graph, offsets, out_slot,
    out_viewer, counts, states,
) -> None:  # fmt: skip
    """The audiences of the first n shares, in parallel: share k's views are drawn from a
    stream derived from `key` with index index0 + k (its state in states[k]), into its
    region of out_* (calendar slot, viewer); counts[k] is how many, or -1 if they did not
    fit. Compiled without reference counting, as `push_audiences`."""
    followers_ptr, followers_idx = graph.followers_ptr, graph.followers_idx
    # the arrays the loop reads, named here: naming a record in the loop would pass all of
    # its arrays to every thread (`draw_audience_from`)
    pid, platform, reach = posts.pid, posts.platform, posts.reach
    p_see, p_delay, p_private = consts.p_see, consts.p_delay, consts.p_private
    access, suspended = people.access, people.suspended_until
    for k in prange(n):
        # fetch early where the shares a few ahead start: their sharer's entry in the
        # follower index, then (once that has arrived) their first followers and the post
        ahead = k + 2 * PREFETCH_SHARES
        if ahead < n:
            prefetch(followers_ptr, sharers[ahead])
        ahead = k + PREFETCH_SHARES
        if ahead < n:
            prefetch(followers_idx, followers_ptr[sharers[ahead]])
            prefetch(pid, slots[ahead])
        s = states[k]
        derive(key, index0 + k, s)
        counts[k] = draw_audience_from(
            platform, reach, p_see, p_delay, p_private, access, suspended, graph, slots[k],
            sharers[k], starts[k], s, out_slot, out_viewer, offsets[k], offsets[k + 1],
        )  # fmt: skip


@njit(cache=True)
def redraw_overflows(
    slots, sharers, starts, n, key, index0, posts, people, consts, graph, offsets, counts,
    out_slot, out_viewer,
):  # fmt: skip
    """Where each of the first n shares' views are in out_*: share k's region
    (offsets[k]), or for a share whose views did not fit (counts[k] < 0), a new region after
    the others into which it is drawn again from its stream, with room for every member
    (the same views; counts[k] becomes their number). Returns (first, out_slot,
    out_viewer), the buffers larger when there was such a share."""
    first = offsets[:n].copy()
    extra = 0
    for k in range(n):
        if counts[k] < 0:
            extra += audience(posts, slots[k], sharers[k], consts, graph)[0]
    if extra == 0:
        return first, out_slot, out_viewer
    end = offsets[n]
    if end + extra > out_slot.size:
        grown_slot = np.empty(end + extra, dtype=np.int32)
        grown_viewer = np.empty(end + extra, dtype=np.int32)
        grown_slot[:end] = out_slot[:end]
        grown_viewer[:end] = out_viewer[:end]
        out_slot, out_viewer = grown_slot, grown_viewer
    state = np.empty(4, dtype=np.uint64)
    for k in range(n):
        if counts[k] >= 0:
            continue
        members = audience(posts, slots[k], sharers[k], consts, graph)[0]
        derive(key, index0 + k, state)
        first[k] = end
        counts[k] = draw_audience(
            posts, slots[k], sharers[k], starts[k], people, consts, graph, state, out_slot,
            out_viewer, end, end + members,
        )  # fmt: skip
        end += counts[k]
    return first, out_slot, out_viewer


ROUTE_MIN_VIEWS = 1 << 16
"""Fewer views than this are pushed to their shards on one thread (`push_audiences`): the
parallel routing would cost more than it saves. Either way the shards' calendars are the
same."""


@njit(cache=True, parallel=True)
def count_routes(n, first, counts, out_viewer, owner, chunk_shard) -> None:
    """chunk_shard[c, s]: how many views of the shares of chunk c go to shard s (chunk c
    is shares c x n // C to (c + 1) x n // C - 1, C the rows of chunk_shard)."""
    chunks = chunk_shard.shape[0]
    for c in prange(chunks):
        row = chunk_shard[c]
        for k in range(c * n // chunks, (c + 1) * n // chunks):
            for e in range(first[k], first[k] + counts[k]):
                row[owner[out_viewer[e] >> VIEWER_PART_SHIFT]] += 1


@njit(cache=True, parallel=True)
def route_views(slots, n, post_id, first, counts, out_viewer, owner, at, routed, routed_pid):
    """Each view's index in out_* and its post id, into the run of its shard in `routed`:
    chunk c's views for shard s from at[c, s] on, in the shares' order."""
    chunks = at.shape[0]
    for c in prange(chunks):
        place = at[c].copy()
        for k in range(c * n // chunks, (c + 1) * n // chunks):
            pid = post_id[slots[k]]
            for e in range(first[k], first[k] + counts[k]):
                s = owner[out_viewer[e] >> VIEWER_PART_SHIFT]
                i = place[s]
                place[s] = i + 1
                routed[i] = e
                routed_pid[i] = pid


@njit(cache=True, parallel=True, _nrt=False)
def push_routed(cal, shard_start, routed, routed_pid, out_slot, out_viewer) -> None:
    """Each shard puts its run of routed views into its calendar, in order, in parallel.

    Compiled without reference counting (`_nrt=False`): the push inlined per view takes the
    calendar's five arrays, and counting references to them costs six times the push."""
    for s in prange(cal.link.shape[0]):
        slots, post, viewer, link, meta = (
            cal.slots[s], cal.post[s], cal.viewer[s], cal.link[s], cal.meta[s]
        )  # fmt: skip
        for i in range(shard_start[s], shard_start[s + 1]):
            e = routed[i]
            push_at(slots, post, viewer, link, meta, out_slot[e], routed_pid[i], out_viewer[e])


@njit(cache=True, _nrt=False)
def push_each_to_its_shard(slots, n, post_id, cal, first, counts, out_slot, out_viewer) -> None:
    """`push_audiences` on one thread: share by share in order, each view to its viewer's
    shard (`push_views`). Compiled without reference counting, as `push_routed`: a view
    of a shard's row is taken per view."""
    for k in range(n):
        push_views(cal, post_id[slots[k]], out_slot, out_viewer, first[k], counts[k])


@njit(cache=True, _nrt=False)
def push_one_shard(slots, n, post_id, cal, first, counts, out_slot, out_viewer) -> None:
    """`push_audiences` with one shard: share by share in order, no routing."""
    cal_slots, cal_post, cal_viewer = cal.slots[0], cal.post[0], cal.viewer[0]
    link, meta = cal.link[0], cal.meta[0]
    for k in range(n):
        pid = post_id[slots[k]]
        for e in range(first[k], first[k] + counts[k]):
            push_at(cal_slots, cal_post, cal_viewer, link, meta, out_slot[e], pid, out_viewer[e])


@njit(cache=True)
def push_audiences(slots, n, post_id, cal, first, counts, out_slot, out_viewer) -> None:
    """Put the audiences of the first n shares into the sharded calendar `cal`: share k's
    views are out_*[first[k]:first[k] + counts[k]] (calendar slot, viewer). Each view goes
    to its viewer's shard, and each shard receives its views share by share in order, so
    that a shard's calendar is the same whatever the number of threads, and a viewer
    part's views the same whatever the number of shards. With several shards and
    ROUTE_MIN_VIEWS views or more (a tick's new posts), the views are routed first
    (`count_routes`, `route_views`: a parallel counting sort by shard, `core.routing`),
    then every shard pushes its own (`push_routed`) on a thread of its own; fewer (a
    minute's reshares) are pushed on one thread (`push_each_to_its_shard`)."""
    shards = cal.link.shape[0]
    if shards == 1 or n == 0:
        push_one_shard(slots, n, post_id, cal, first, counts, out_slot, out_viewer)
        return
    if counts[:n].sum() < ROUTE_MIN_VIEWS:  # few views (a minute's reshares): one thread
        push_each_to_its_shard(slots, n, post_id, cal, first, counts, out_slot, out_viewer)
        return
    chunks = min(n, ROUTE_CHUNKS)
    chunk_shard = np.zeros((chunks, shards), dtype=np.int64)
    count_routes(n, first, counts, out_viewer, cal.owner, chunk_shard)
    at, shard_start = bucket_offsets(chunk_shard)
    routed = np.empty(shard_start[shards], dtype=np.int64)
    routed_pid = np.empty(shard_start[shards], dtype=np.int64)
    route_views(slots, n, post_id, first, counts, out_viewer, cal.owner, at, routed, routed_pid)
    push_routed(cal, shard_start, routed, routed_pid, out_slot, out_viewer)


@njit(cache=True)
def schedule_shares(
    slots, sharers, starts, n, key, index0, posts, people, consts, graph, cal, out_slot,
    out_viewer,
):  # fmt: skip
    """Schedule the audiences of the first n shares (post slots[k] shared by sharers[k]
    from minute starts[k]), drawn in parallel, share k from a stream derived from `key`
    with index index0 + k, and put into the sharded calendar `cal` in the shares' order
    (`push_audiences`), so that the result does not depend on the number of threads or
    shards. out_* are the region buffers
    (calendar slot, viewer); returns them, or larger ones when these shares needed more."""
    if n == 0:
        return out_slot, out_viewer
    offsets = np.empty(n + 1, dtype=np.int64)
    audience_regions(slots, sharers, n, posts, consts, graph, offsets)
    need = offsets[n]
    if need > out_slot.size:
        size = max(need, 2 * out_slot.size)
        out_slot = np.empty(size, dtype=np.int32)
        out_viewer = np.empty(size, dtype=np.int32)
    counts = np.empty(n, dtype=np.int64)
    draw_audiences(
        slots, sharers, starts, n, key, index0, posts, people, consts, graph, offsets,
        out_slot, out_viewer, counts, np.empty((n, 4), dtype=np.uint64),
    )  # fmt: skip
    first, out_slot, out_viewer = redraw_overflows(
        slots, sharers, starts, n, key, index0, posts, people, consts, graph, offsets, counts,
        out_slot, out_viewer,
    )  # fmt: skip
    push_audiences(slots, n, posts.pid, cal, first, counts, out_slot, out_viewer)
    return out_slot, out_viewer


def schedule_audiences(pending, n: int, key, world, out):
    """Schedule the audiences of the first n posts in `pending` (slots of posts published
    this tick, in order) in the `world` (a `tightrope.core.world.World`), each shared by
    its author from its creation minute (`schedule_shares`, index k for the k-th post).
    `out` is the pair of region buffers (slot, viewer); returns it, or larger ones when
    this tick needed more room."""
    if n == 0:
        return out
    posts, people, consts, graph, cal = (
        world.posts, world.people, world.consts, world.graph, world.view_cal
    )  # fmt: skip
    slots = pending[:n]
    return schedule_shares(
        slots, posts.author[slots], posts.created[slots], n, key, 0, posts, people, consts,
        graph, cal, out[0], out[1],
    )  # fmt: skip


@njit(cache=True)
def shard_blocks(old, owner, shards):
    """The blocks each of `shards` new shards (parts' owners `owner`) needs to hold the
    views of the sharded calendar `old`: per minute slot, its views in whole blocks."""
    need = np.zeros(shards, dtype=np.int64)
    in_slot = np.zeros(shards, dtype=np.int64)
    for s in range(HORIZON_MINUTES):
        in_slot[:] = 0
        for r in range(old.link.shape[0]):
            slots, viewer, link = old.slots[r], old.viewer[r], old.link[r]
            b, last, last_fill = slots[s, 0], slots[s, 1], slots[s, 2]
            while b >= 0:
                lo = b * BLOCK_EVENTS
                for e in range(lo, lo + (last_fill if b == last else BLOCK_EVENTS)):
                    in_slot[owner[viewer[e] >> VIEWER_PART_SHIFT]] += 1
                b = link[b]
        for t in range(shards):
            need[t] += (in_slot[t] + BLOCK_EVENTS - 1) // BLOCK_EVENTS
    return need


@njit(cache=True)
def move_views(old, new) -> None:
    """Every view of the sharded calendar `old` into its viewer's shard of `new` (empty,
    with room: `shard_blocks`), minute slot by slot, the old shards in order and their
    views in order: a part's views keep their order, since one old shard held them all."""
    for s in range(HORIZON_MINUTES):
        for r in range(old.link.shape[0]):
            slots, post, viewer, link = old.slots[r], old.post[r], old.viewer[r], old.link[r]
            b, last, last_fill = slots[s, 0], slots[s, 1], slots[s, 2]
            while b >= 0:
                lo = b * BLOCK_EVENTS
                for e in range(lo, lo + (last_fill if b == last else BLOCK_EVENTS)):
                    v = viewer[e]
                    t = new.owner[v >> VIEWER_PART_SHIFT]
                    push_at(
                        new.slots[t], new.post[t], new.viewer[t], new.link[t], new.meta[t],
                        s, post[e], v,
                    )  # fmt: skip
                b = link[b]
