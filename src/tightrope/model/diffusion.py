"""Views, reshares and reports, minute by minute.

Each minute, the calendar's events for that minute happen. A view of a post that is no
longer visible is lost (that is what removal buys). A view counts toward the post's
engagement (which the feed ranks by), changes the viewer (harm seen, rumours and criticism
raise grievance, calls to collective action feed mobilisation, official posts build trust,
cheerleading distracts), may lead to a reshare (a new wave of exposures to the viewer's own
audience) and may lead to a report, which queues the post for review.

A minute runs in four passes, so that the views can run on several threads and still give
the same results whatever their number:

1. `count_minute` and `fill_minute`: the events due (review and request arrivals,
   authors' deletions, reinstatements) happen in the order they were scheduled (one
   thread); the views are copied out grouped by the viewer's part (fixed ranges of
   `VIEWER_PART_USERS` users), within a part first those from its shard's calendar in the
   order they were scheduled (the shards in parallel: a shard owns whole parts), then the
   part's feed views of the minute in the order they were drawn (the feed's blocks are the
   viewer parts).
2. `view_parts` (parallel over parts): each view changes its viewer, whom no other part
   touches, and decides reshare and report with the part's own streams, derived for this
   minute from the named streams; the counts go into the part's row of counters.
3. `follow_up` (one thread): the counters are added up, and reports are scheduled and
   reshares listed, parts in order, views in order within a part; the reshares' audiences
   are then drawn in parallel and scheduled in that order (`exposure.schedule_shares`).
4. `add_engagement` (parallel over ranges of post slots): the posts' engagement grows by 1
   per view and 2 per reshare, in the same order.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from tightrope.core import counters as K
from tightrope.core.memory_hints import prefetch
from tightrope.core.rng import derive, integer, uniform
from tightrope.core.routing import ROUTE_CHUNKS, bucket_offsets
from tightrope.core.world import (
    BLOCK_EVENTS,
    EXPOSURE_BINS,
    HORIZON_MINUTES,
    VIEWER_PART_SHIFT,
    VIEWER_PART_USERS,
)
from tightrope.model.appeals import reinstate
from tightrope.model.author_deletion import author_delete
from tightrope.model.exposure import (
    APPEAL_REVERSAL,
    APPEAL_REVERSAL_STRUCK,
    AUTHOR_DELETION,
    REQUEST_ARRIVAL,
    REVIEW_ARRIVAL_REPORTED,
    may_use,
    push_event,
)
from tightrope.model.exposure_memory import exposure_bin, exposure_weight, remember_view
from tightrope.model.feed import FEED_BLOCK_USERS
from tightrope.model.moderation import heap_push, priority
from tightrope.model.people import grievance_down, grievance_up, trust_up
from tightrope.model.spam import felt_harm
from tightrope.scenario.content import (
    CHEERLEADING,
    COLLECTIVE_ACTION,
    CRITICISM,
    N_CATEGORIES,
    OFFICIAL,
    RUMOR,
    SPAM,
    VISIBLE,
)


@njit(inline="always", cache=True)
def reshare_chance(
    virality: float,
    susceptibility: float,
    fear: float,
    sensitivity: float,
    reach: float,
    base: float,
) -> float:
    """Chance a view leads to a reshare:
    `virality x (base + susceptibility) x (1 - fear x sensitivity) x reach`, with the
    category's virality and sensitivity, the viewer's susceptibility and fear in [0, 1],
    and the post's reach (1, or less when the platform reduces its visibility). Falls
    linearly with fear, by `virality x (base + s) x sensitivity x reach` per unit."""
    return virality * (base + susceptibility) * (1.0 - fear * sensitivity) * reach


@njit(inline="always", cache=True)
def report_chance(
    propensity: float, offensiveness: float, stance: float, sensitivity: float
) -> float:
    """Chance a view leads to a report:
    `propensity x offensiveness x (1 + max(stance, 0) x sensitivity)`, with the viewer's
    report propensity and stance (in [-1, 1]; only a pro-state stance adds) and the
    category's offensiveness and sensitivity."""
    return propensity * (offensiveness * (1.0 + (stance if stance > 0.0 else 0.0) * sensitivity))


PREFETCH_DISTANCE = 16  # views ahead whose post and viewer are fetched early

assert VIEWER_PART_USERS == FEED_BLOCK_USERS  # a feed block's views are one part's

COUNTED, RESHARED, REPORTED = 1, 2, 4
"""Bits of a view's outcome."""

# columns of a part's counters (a row of 64, so that parts on different threads do not
# share a cache line): views, lost views, harm, rumour and criticism views, reports, then
# reshares, then views and prohibited views of each platform (at most 8), then views and
# reshares of each category (counted by part, then added up in part order: the sums are
# exact and do not depend on the threads)
C_VIEWS, C_LOST, C_HARM, C_RUMOR, C_CRITICISM, C_REPORTS, C_RESHARES = 0, 1, 2, 3, 4, 5, 6
C_PLATFORM_VIEWS, C_PROHIBITED_VIEWS = 8, 16
C_CATEGORY_VIEWS = 24
C_CATEGORY_RESHARES = C_CATEGORY_VIEWS + N_CATEGORIES
C_PLATFORM_HARM = C_CATEGORY_RESHARES + N_CATEGORIES  # harm-weighted views of each platform
# views and reshares at a viewer's 1st, 2nd, 3rd or later view of the post (model.exposure_memory)
C_EXPOSURE_VIEWS = C_PLATFORM_HARM + 8
C_EXPOSURE_RESHARES = C_EXPOSURE_VIEWS + EXPOSURE_BINS
PART_COUNTERS = 64
assert C_EXPOSURE_RESHARES + EXPOSURE_BINS <= PART_COUNTERS


def viewer_parts(n_users: int) -> int:
    """Parts of the minute loop's views for n_users users."""
    return -(-n_users // VIEWER_PART_USERS)


def view_log_size(n_users: int, total: int) -> int:
    """Places in each part's reservoir of viewed posts: `total` shared out, 1,024 at least."""
    return max(1024, total // viewer_parts(n_users))


@njit(cache=True, inline="always")
def enqueue_review(q, posts, consts, rules, slot, minute, reported, tc) -> None:
    """Put a post into its platform's review queue at `minute`, unless it is queued already
    or the platform has no one to review; `queued_by` keeps what queued it (the filter, or
    a report), the route of a removal that follows."""
    p = posts.platform[slot]
    if posts.queued[slot] != 0 or consts.p_reviewers[p] * rules.effort[p] <= 0.0:
        return
    held = posts.state[slot] != VISIBLE
    key = priority(consts, rules, p, posts.cat[slot], reported, held)
    if heap_push(q, p, key, posts.pid[slot], minute):
        posts.queued[slot] = 1
        posts.queued_by[slot] = 1 if reported else 0


@njit(cache=True, inline="always")
def request_arrival(req, user, m) -> None:
    """A user's request joins the tail of the queue of the staff who answer them."""
    q = req.queue[user]
    cap = req.user.shape[1]
    tail = req.ends[q, 1]
    if tail - req.ends[q, 0] >= cap:
        return  # full: the ring is grown between ticks so this does not happen in practice
    req.user[q, tail % cap] = user
    req.arrival[q, tail % cap] = m
    req.ends[q, 1] = tail + 1


@njit(cache=True)
def count_minute(
    m, j, cal, view_cal, feed_start, posts, people, consts, rules, q, req, tc, ct, start
) -> int:  # fmt: skip
    """Pass 1 of minute m (minute j of the tick): the events of the calendar `cal` due now
    happen (`run_events`); `start` becomes the offsets of each viewer part's views, from
    the shards' calendars of views (`view_cal`, counted by `count_views`) and the feed
    (start[k] to start[k + 1]); returns the number of views."""
    run_events(m, cal, posts, people, consts, rules, q, req, tc, ct)
    start[:] = 0
    s = m % HORIZON_MINUTES
    if in_parallel(view_cal):
        count_views(s, view_cal, start)
    else:
        for r in range(view_cal.link.shape[0]):
            count_shard(r, s, view_cal, start)
    for k in range(feed_start.shape[0]):
        start[k + 1] += feed_start[k, j + 1] - feed_start[k, j]
    for k in range(1, start.size):
        start[k] += start[k - 1]
    return start[start.size - 1]


PARALLEL_PENDING_VIEWS = 1 << 22
"""Shards count and copy out a minute's views in parallel when their calendars hold at
least this many views in all (about 200,000 views a minute, 10,000,000 users): below, a
thread's start costs more than it saves. The result is the same either way."""


@njit(cache=True)
def in_parallel(view_cal) -> bool:
    """Whether the shards' calendars are large enough to be read in parallel."""
    shards = view_cal.link.shape[0]
    if shards == 1:
        return False
    return view_cal.meta[:, 1].sum() * BLOCK_EVENTS >= PARALLEL_PENDING_VIEWS


@njit(cache=True, inline="always")
def release_block(link, meta, b: int) -> int:
    """Give block b of a calendar (its `link` and `meta`) back to the free list, once read;
    returns the block that followed it in its minute slot (-1: none)."""
    following = link[b]
    link[b] = meta[0]
    meta[0] = b
    meta[1] -= 1
    return following


@njit(cache=True)
def run_events(m, cal, posts, people, consts, rules, q, req, tc, ct) -> None:
    """The events due at minute m happen, in the order they were scheduled: review and
    request arrivals, authors' deletions (`author_deletion.author_delete`, counted into tc
    and ct) and reinstatements on appeal (`appeals.reinstate`, withdrawing a strike from
    `people`); an event whose post has left the ring is skipped. The minute's blocks go
    back to the free list as they are read (no event schedules another here)."""
    slots, cal_post, cal_viewer, link, meta = cal.slots, cal.post, cal.viewer, cal.link, cal.meta
    s = m % HORIZON_MINUTES
    b, last, last_fill = slots[s, 0], slots[s, 1], slots[s, 2]
    slots[s, 0] = -1
    slots[s, 1] = -1
    slots[s, 2] = 0
    post_id = posts.pid
    mask = post_id.size - 1
    while b >= 0:
        lo = b * BLOCK_EVENTS
        hi = lo + (last_fill if b == last else BLOCK_EVENTS)
        for e in range(lo, hi):
            v = cal_viewer[e]
            pid = cal_post[e]
            if v == REQUEST_ARRIVAL:
                request_arrival(req, int(pid), m)
                continue
            slot = pid & mask
            if post_id[slot] != pid:
                continue
            if v == AUTHOR_DELETION:
                author_delete(posts, slot, tc, ct)
            elif v == APPEAL_REVERSAL or v == APPEAL_REVERSAL_STRUCK:
                reinstate(posts, people.strikes, slot, v == APPEAL_REVERSAL_STRUCK, tc, ct)
            else:
                enqueue_review(q, posts, consts, rules, slot, m, v == REVIEW_ARRIVAL_REPORTED, tc)
        b = release_block(link, meta, b)


@njit(cache=True)
def count_shard(r, s, view_cal, start) -> None:
    """Add shard r's views of calendar slot s to the counts of their parts, start[k + 1]."""
    slots, viewer, link = view_cal.slots[r], view_cal.viewer[r], view_cal.link[r]
    b, last, last_fill = slots[s, 0], slots[s, 1], slots[s, 2]
    while b >= 0:
        lo = b * BLOCK_EVENTS
        hi = lo + (last_fill if b == last else BLOCK_EVENTS)
        for e in range(lo, hi):
            start[(viewer[e] >> VIEWER_PART_SHIFT) + 1] += 1
        b = link[b]


@njit(cache=True, parallel=True)
def count_views(s, view_cal, start) -> None:
    """`count_shard` for every shard, in parallel (a shard's parts are its own)."""
    for r in prange(view_cal.link.shape[0]):
        count_shard(r, s, view_cal, start)


@njit(cache=True)
def fill_minute(m, j, view_cal, feed, start, fill, buf_post, buf_viewer) -> None:
    """Pass 1, continued: copy minute m's views into the buffers, grouped by viewer part
    (a counting sort that keeps the order within a part), calendar views first (each shard
    its own parts', in parallel: `fill_shard`), then each part's feed views of minute j of
    the tick (`copy_feed_views`); the minute's blocks are freed."""
    s = m % HORIZON_MINUTES
    for k in range(fill.size):
        fill[k] = start[k]
    if in_parallel(view_cal):
        fill_shards(s, view_cal, fill, buf_post, buf_viewer)
    else:
        for r in range(view_cal.link.shape[0]):
            fill_shard(r, s, view_cal, fill, buf_post, buf_viewer)
    copy_feed_views(j, feed, fill, buf_post, buf_viewer)


@njit(cache=True)
def fill_shard(r, s, view_cal, fill, buf_post, buf_viewer) -> None:
    """Shard r's views of calendar slot s into their parts' places in the buffers (fill[k]:
    the next place of part k), in order; the slot's blocks go back to the shard's free
    list."""
    slots = view_cal.slots[r]
    cal_post, cal_viewer, link, meta = (
        view_cal.post[r], view_cal.viewer[r], view_cal.link[r], view_cal.meta[r]
    )  # fmt: skip
    b, last, last_fill = slots[s, 0], slots[s, 1], slots[s, 2]
    slots[s, 0] = -1
    slots[s, 1] = -1
    slots[s, 2] = 0
    while b >= 0:
        lo = b * BLOCK_EVENTS
        hi = lo + (last_fill if b == last else BLOCK_EVENTS)
        for e in range(lo, hi):
            v = cal_viewer[e]
            k = v >> VIEWER_PART_SHIFT
            i = fill[k]
            fill[k] = i + 1
            buf_post[i] = cal_post[e]
            buf_viewer[i] = v
        b = release_block(link, meta, b)


@njit(cache=True, parallel=True)
def fill_shards(s, view_cal, fill, buf_post, buf_viewer) -> None:
    """`fill_shard` for every shard, in parallel (a shard's parts are its own)."""
    for r in prange(view_cal.link.shape[0]):
        fill_shard(r, s, view_cal, fill, buf_post, buf_viewer)


@njit(cache=True, parallel=True)
def copy_feed_views(j, feed, fill, buf_post, buf_viewer) -> None:
    """Each part's feed views of minute j of the tick, copied to the buffers from fill[k] on
    (after the part's calendar views), in parallel over parts."""
    feed_start, feed_pid, feed_viewer = feed.start, feed.sorted_pid, feed.sorted_viewer
    for k in prange(feed_start.shape[0]):
        lo, hi = feed_start[k, j], feed_start[k, j + 1]
        i = fill[k]
        buf_post[i : i + hi - lo] = feed_pid[lo:hi]
        buf_viewer[i : i + hi - lo] = feed_viewer[lo:hi]


@njit(cache=True, inline="always")
def prefetch_view(slot, v, post_id, access, day_views, grievance, memory, slots) -> None:
    """Fetch early what a view of post `slot` by viewer v reads: the post's record
    (`world.POST_HOT`), the viewer's record (`world.VIEWER`) and what lies apart; and the
    viewer's memory of posts seen (`memory`: `People.exposure_memory` as one row, `slots`
    entries a viewer; 0: no memory kept)."""
    prefetch(post_id, slot)
    prefetch(access, v)
    prefetch(day_views, v)  # and fear
    prefetch(grievance, v)
    if slots > 0:
        prefetch(memory, v * slots)


@njit(cache=True, parallel=True)
def view_parts(
    m,
    j,
    start,
    buf_post,
    buf_viewer,
    outcome,
    posts,
    people,
    consts,
    rules,
    counters,
    keys,
    streams,
    view_log,
    view_meta,
) -> None:
    """Pass 2 of minute m (minute j of the tick): every part's views, in parallel.

    Part k draws reshares from a stream derived from keys[0], reports from keys[1] and its
    reservoir of viewed posts (for the inspectors) from keys[2], each with index
    j x parts + k; it writes only its viewers, its counters row, its reservoir and the
    outcomes of its views. Arrays are hoisted into locals: Numba pays per array, per call.
    """
    post_id, post_state, post_platform, post_cat = posts.pid, posts.state, posts.platform, posts.cat
    reach = posts.reach
    mask = post_id.size - 1
    access, suspended = people.access, people.suspended_until
    day_views, day_harm = people.day_views, people.day_harm
    susceptibility, grievance, trust = people.susceptibility, people.grievance, people.trust
    calls_seen, fear, stance = people.calls_seen, people.fear, people.stance
    report_propensity = people.report_propensity
    state_prohibited = rules.state_prohibited
    cat_harm, cat_sensitivity = consts.cat_harm, consts.cat_sensitivity
    cat_virality, cat_offense = consts.cat_virality, consts.cat_offense
    p_regulated, p_reports = consts.p_regulated, consts.p_reports
    rumor_rise, criticism_rise = consts.rumor_grievance_rise, consts.criticism_grievance_rise
    official_rise, cheer_fall = consts.official_trust_rise, consts.cheerleading_grievance_fall
    reshare_base, spam_nuisance = consts.reshare_base, consts.spam_nuisance
    weights, memory = consts.exposure_weights, people.exposure_memory
    slots = memory.shape[1]  # 0: the reshare chance does not depend on earlier views
    flat = memory.reshape(-1)  # the same entries in one row, for prefetching
    n_parts = start.size - 1
    cap = view_log.shape[1]
    for k in prange(n_parts):
        row = counters[k]
        row[:] = 0.0
        lo, hi = start[k], start[k + 1]
        if lo == hi:
            continue
        for e in range(lo, min(hi, lo + PREFETCH_DISTANCE)):  # the first views, early
            prefetch_view(
                buf_post[e] & mask, buf_viewer[e], post_id, access, day_views, grievance, flat,
                slots,
            )  # fmt: skip
        index = j * n_parts + k
        rs_reshare, rs_report, rs_inspect = streams[k, 0], streams[k, 1], streams[k, 2]
        derive(keys[0], index, rs_reshare)
        derive(keys[1], index, rs_report)
        derive(keys[2], index, rs_inspect)
        log = view_log[k]
        seen = view_meta[k]
        for e in range(lo, hi):
            ahead = e + PREFETCH_DISTANCE
            if ahead < hi:
                u, a = buf_viewer[ahead], buf_post[ahead] & mask
                prefetch_view(a, u, post_id, access, day_views, grievance, flat, slots)
            pid = buf_post[e]
            v = buf_viewer[e]
            slot = pid & mask
            outcome[e] = 0
            if post_id[slot] != pid:
                continue  # the post has left the exposure horizon
            if post_state[slot] != VISIBLE:
                row[C_LOST] += 1.0
                continue
            p = post_platform[slot]
            if not may_use(access, suspended, v, p, m):
                continue
            c = post_cat[slot]
            o = COUNTED
            row[C_VIEWS] += 1.0
            row[C_PLATFORM_VIEWS + p] += 1.0
            row[C_CATEGORY_VIEWS + c] += 1.0
            day_views[v] += 1.0
            harm = cat_harm[c]
            if harm > 0.0:
                row[C_HARM] += harm
                row[C_PLATFORM_HARM + p] += harm
            felt = felt_harm(harm, c, spam_nuisance)
            if felt > 0.0:
                day_harm[v] += felt
            s = susceptibility[v]
            if c == RUMOR:
                row[C_RUMOR] += 1.0
                grievance[v] = grievance_up(grievance[v], rumor_rise * s)
            elif c == CRITICISM:
                row[C_CRITICISM] += 1.0
                grievance[v] = grievance_up(grievance[v], criticism_rise * s)
            elif c == COLLECTIVE_ACTION:
                calls_seen[v] += 1.0
            elif c == OFFICIAL:
                trust[v] = trust_up(trust[v], official_rise)
            elif c == CHEERLEADING:
                grievance[v] = grievance_down(grievance[v], cheer_fall)
            if state_prohibited[p, c] > 0.0:
                row[C_PROHIBITED_VIEWS + p] += 1.0
            if p_regulated[p] != 0:
                # reservoir sampling: the part's sample of this tick's views stays uniform
                if seen < cap:
                    log[seen] = pid
                else:
                    r = integer(rs_inspect, seen + 1)
                    if r < cap:
                        log[r] = pid
                seen += 1
            sens = cat_sensitivity[c]
            chance = reshare_chance(cat_virality[c], s, fear[v], sens, reach[slot], reshare_base)
            x = 0
            if slots > 0:  # the viewer's k-th view of the post (model.exposure_memory)
                views_of_post = remember_view(memory, v, pid)
                chance *= exposure_weight(weights, views_of_post)
                x = exposure_bin(views_of_post)
                row[C_EXPOSURE_VIEWS + x] += 1.0
            if uniform(rs_reshare) < chance:
                o |= RESHARED
                row[C_RESHARES] += 1.0
                row[C_CATEGORY_RESHARES + c] += 1.0
                if slots > 0:
                    row[C_EXPOSURE_RESHARES + x] += 1.0
            if p_reports[p] != 0 and cat_offense[c] > 0.0:
                chance = report_chance(report_propensity[v], cat_offense[c], stance[v], sens)
                if uniform(rs_report) < chance:
                    o |= REPORTED
                    row[C_REPORTS] += 1.0
            outcome[e] = o
        view_meta[k] = seen


@njit(cache=True)
def reshares_of(counters, start) -> int:
    """The number of reshares decided by the parts (after `view_parts`)."""
    n = 0.0
    for k in range(start.size - 1):
        if start[k] < start[k + 1]:
            n += counters[k, C_RESHARES]
    return int(n)


@njit(cache=True)
def follow_up(
    m, start, buf_post, buf_viewer, outcome, counters, posts, consts, cal, tc, pc, ct, xc,
    r_slot, r_sharer, r_start,
) -> int:  # fmt: skip
    """Pass 3 of minute m: the parts' counters are added up (`ct`: per category, `xc`: by
    the viewer's count of views of the post, `Tally.exposures`); reshares (post slot,
    viewer, m, to be scheduled by `exposure.schedule_shares`) and reports are listed, parts
    in order, views in order (every part at once: `list_follow_ups`); then the reshares are
    counted to their post (`Posts.reshares`, the size of its cascade) and the reports
    scheduled (the post arrives in the review queue `moderation.report_delay_minutes`
    later), in that order. Returns the number of reshares listed."""
    n_p = pc.shape[0]
    for k in range(start.size - 1):
        if start[k] == start[k + 1]:
            continue
        row = counters[k]
        tc[K.VIEWS] += row[C_VIEWS]
        tc[K.VIEWS_LOST] += row[C_LOST]
        tc[K.HARM_VIEWS] += row[C_HARM]
        tc[K.RUMOR_VIEWS] += row[C_RUMOR]
        tc[K.CRITICISM_VIEWS] += row[C_CRITICISM]
        tc[K.REPORTS] += row[C_REPORTS]
        tc[K.RESHARES] += row[C_RESHARES]
        tc[K.SPAM_VIEWS] += row[C_CATEGORY_VIEWS + SPAM]
        for p in range(n_p):
            pc[p, K.P_VIEWS] += row[C_PLATFORM_VIEWS + p]
            pc[p, K.P_PROHIBITED_VIEWS] += row[C_PROHIBITED_VIEWS + p]
            pc[p, K.P_HARM] += row[C_PLATFORM_HARM + p]
        for c in range(N_CATEGORIES):
            ct[c, K.CAT_VIEWS] += row[C_CATEGORY_VIEWS + c]
            ct[c, K.CAT_RESHARES] += row[C_CATEGORY_RESHARES + c]
        for x in range(EXPOSURE_BINS):
            xc[0, x] += row[C_EXPOSURE_VIEWS + x]
            xc[1, x] += row[C_EXPOSURE_RESHARES + x]
    parts = start.size - 1
    r_at = np.zeros(parts + 1, dtype=np.int64)
    report_at = np.zeros(parts + 1, dtype=np.int64)
    for k in range(parts):
        has = start[k] < start[k + 1]
        r_at[k + 1] = r_at[k] + (int(counters[k, C_RESHARES]) if has else 0)
        report_at[k + 1] = report_at[k] + (int(counters[k, C_REPORTS]) if has else 0)
    mask = posts.pid.size - 1
    reported = np.empty(report_at[parts], dtype=np.int64)
    list_follow_ups(
        m, start, buf_post, buf_viewer, outcome, mask, r_at, report_at, r_slot, r_sharer,
        r_start, reported,
    )  # fmt: skip
    post_reshares = posts.reshares
    r = r_at[parts]
    for i in range(r):
        post_reshares[r_slot[i]] += 1
    for i in range(reported.size):
        pid = reported[i]
        delay = consts.p_report_delay[posts.platform[pid & mask]]
        push_event(cal, m + delay, pid, REVIEW_ARRIVAL_REPORTED)
    return r


@njit(cache=True, parallel=True)
def list_follow_ups(
    m, start, buf_post, buf_viewer, outcome, mask, r_at, report_at, r_slot, r_sharer, r_start,
    reported,
) -> None:  # fmt: skip
    """Every part at once lists its views' reshares (post slot, sharer, m) from r_at[k] on
    and the post ids of its reports from report_at[k] on, its views in order: the lists
    are in the parts' order, views in order within a part, whatever the threads."""
    for k in prange(start.size - 1):
        r, q = r_at[k], report_at[k]
        for e in range(start[k], start[k + 1]):
            o = outcome[e]
            if o < RESHARED:
                continue
            pid = buf_post[e]
            if o & RESHARED:
                r_slot[r] = pid & mask
                r_sharer[r] = buf_viewer[e]
                r_start[r] = m
                r += 1
            if o & REPORTED:
                reported[q] = pid
                q += 1


@njit(cache=True)
def add_engagement(n, buf_post, outcome, engagement, per_view, per_reshare, threads) -> None:
    """Pass 4 of a minute: engagement + `per_view` per counted view and + `per_reshare` per
    reshare (`ranking.view_engagement`, `ranking.reshare_engagement`), in the views' order.
    With several threads, the post slots are cut into `threads` ranges, the counted views
    routed to the range of their post (`route_engagement`: a counting sort that keeps their
    order), and every range adds its own (`add_routed_engagement`): no two threads write
    the same post, and each post's additions come in the views' order, so the result does
    not depend on the number of threads."""
    if threads == 1 or n < ENGAGEMENT_SERIAL_VIEWS:
        add_engagement_in_order(n, buf_post, outcome, engagement, per_view, per_reshare)
        return
    ranges = threads
    chunks = min(ROUTE_CHUNKS, n)
    shift = 0
    while (1 << shift) < engagement.size:  # the ring is a power of two
        shift += 1
    chunk_range = np.zeros((chunks, ranges), dtype=np.int64)
    count_engagement(n, buf_post, outcome, engagement.size - 1, shift, chunk_range)
    at, range_start = bucket_offsets(chunk_range)
    routed = np.empty(range_start[ranges], dtype=np.int64)
    route_engagement(n, buf_post, outcome, engagement.size - 1, shift, at, routed)
    add_routed_engagement(range_start, routed, buf_post, outcome, engagement, per_view,
                          per_reshare)  # fmt: skip


ENGAGEMENT_SERIAL_VIEWS = 1 << 17
"""Below this many views in a minute (about 7,000,000 users' average minute), engagement
is added on one thread: routing would cost more than it saves (measured at 1,000,000
users on 2 threads: 0.31 s a day routed against 0.19 s on one thread)."""


@njit(cache=True, inline="always")
def engagement_range(slot, ranges, shift) -> int:
    """The range of post slots (of `ranges`, over a ring of 2^shift slots) that holds slot."""
    return (slot * ranges) >> shift


@njit(cache=True)
def add_engagement_in_order(n, buf_post, outcome, engagement, per_view, per_reshare) -> None:
    """`add_engagement` on one thread, fetching each post's engagement PREFETCH_DISTANCE
    views early."""
    mask = engagement.size - 1
    for e in range(n):
        if e + PREFETCH_DISTANCE < n:
            prefetch(engagement, buf_post[e + PREFETCH_DISTANCE] & mask)
        o = outcome[e]
        if o & COUNTED:
            slot = buf_post[e] & mask
            engagement[slot] += per_view
            if o & RESHARED:
                engagement[slot] += per_reshare


@njit(cache=True, parallel=True)
def count_engagement(n, buf_post, outcome, mask, shift, chunk_range) -> None:
    """chunk_range[c, r]: the counted views of chunk c (views c x n // C to (c + 1) x n //
    C - 1) whose post is in slot range r."""
    chunks, ranges = chunk_range.shape
    for c in prange(chunks):
        row = chunk_range[c]
        for e in range(c * n // chunks, (c + 1) * n // chunks):
            if outcome[e] & COUNTED:
                row[engagement_range(buf_post[e] & mask, ranges, shift)] += 1


@njit(cache=True, parallel=True)
def route_engagement(n, buf_post, outcome, mask, shift, at, routed) -> None:
    """The counted views' indices into the run of their slot range in `routed`: chunk c's
    for range r from at[c, r] on, in order."""
    chunks, ranges = at.shape
    for c in prange(chunks):
        place = at[c].copy()
        for e in range(c * n // chunks, (c + 1) * n // chunks):
            if outcome[e] & COUNTED:
                r = engagement_range(buf_post[e] & mask, ranges, shift)
                routed[place[r]] = e
                place[r] += 1


@njit(cache=True, parallel=True)
def add_routed_engagement(
    range_start, routed, buf_post, outcome, engagement, per_view, per_reshare
) -> None:  # fmt: skip
    """Every slot range adds its routed views' engagement, in order, in parallel."""
    mask = engagement.size - 1
    for r in prange(range_start.size - 1):
        lo, hi = range_start[r], range_start[r + 1]
        for i in range(lo, hi):
            if i + PREFETCH_DISTANCE < hi:
                prefetch(engagement, buf_post[routed[i + PREFETCH_DISTANCE]] & mask)
            e = routed[i]
            slot = buf_post[e] & mask
            engagement[slot] += per_view
            if outcome[e] & RESHARED:
                engagement[slot] += per_reshare
