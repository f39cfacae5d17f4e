"""Views, reshares and reports, minute by minute.

Each minute, the calendar's events for that minute happen in turn. A view of a post that is
no longer visible is lost (that is what removal buys). A view counts toward the post's
engagement (which the feed ranks by), changes the viewer (harm seen, rumours and criticism
raise grievance, calls to collective action feed mobilisation, official posts build trust,
cheerleading distracts), may lead to a reshare (a new wave of exposures to the viewer's own
audience) and may lead to a report, which queues the post for review.
"""

from __future__ import annotations

from numba import njit

from . import counters as K
from .content import (
    CHEERLEADING,
    COLLECTIVE_ACTION,
    CRITICISM,
    OFFICIAL,
    RUMOR,
    VISIBLE,
)
from .exposure import REQUEST_ARRIVAL, REVIEW_ARRIVAL_REPORTED, may_use, push, schedule_audience
from .memory_hints import prefetch
from .moderation import heap_push, priority
from .rng import integer, uniform
from .world import BLOCK_EVENTS, HORIZON_MINUTES

PREFETCH_DISTANCE = 16  # events ahead whose post and viewer are fetched early


@njit(cache=True, inline="always")
def enqueue_review(q, posts, consts, rules, slot, minute, reported, tc) -> None:
    p = posts.platform[slot]
    if posts.queued[slot] != 0 or consts.p_reviewers[p] * rules.effort[p] <= 0.0:
        return
    held = posts.state[slot] != VISIBLE
    key = priority(rules, p, posts.cat[slot], reported, held)
    if heap_push(q, p, key, posts.pid[slot], minute):
        posts.queued[slot] = 1


@njit(cache=True, inline="always")
def log_view(view_log, view_meta, pid, rs) -> None:
    """Keep a uniform sample of this tick's views (reservoir sampling) for inspectors."""
    seen = view_meta[0]
    cap = view_log.size
    if seen < cap:
        view_log[seen] = pid
    else:
        j = integer(rs, seen + 1)
        if j < cap:
            view_log[j] = pid
    view_meta[0] = seen + 1


@njit(cache=True, inline="always")
def request_arrival(req, user, m) -> None:
    cap = req.user.size
    tail = req.ends[1]
    if tail - req.ends[0] >= cap:
        return  # full: the ring is grown between ticks so this does not happen in practice
    req.user[tail % cap] = user
    req.arrival[tail % cap] = m
    req.ends[1] = tail + 1


@njit(cache=True)
def process_minute(
    m,
    posts,
    people,
    consts,
    rules,
    graph,
    cal,
    q,
    req,
    tc,
    pc,
    view_log,
    view_meta,
    rs_exposure,
    rs_reshare,
    rs_report,
    rs_inspect,
) -> None:
    """Run every event scheduled for minute m.

    The view is written out here with every array hoisted into a local once per minute:
    Numba pays per array passed, per call, and this loop runs once per view.
    """
    slots, cal_post, cal_viewer, link, meta = cal.slots, cal.post, cal.viewer, cal.link, cal.meta
    slot_m = m % HORIZON_MINUTES
    b = slots[slot_m, 0]
    last, last_fill = slots[slot_m, 1], slots[slot_m, 2]
    slots[slot_m, 0] = -1
    slots[slot_m, 1] = -1
    slots[slot_m, 2] = 0
    post_id, post_state, post_platform, post_cat = posts.pid, posts.state, posts.platform, posts.cat
    post_views, engagement, reach = posts.views, posts.engagement, posts.reach
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
    while b >= 0:
        # the events of block b, in the order they were scheduled
        lo = b * BLOCK_EVENTS
        hi = lo + (last_fill if b == last else BLOCK_EVENTS)
        for e in range(lo, hi):
            ahead = e + PREFETCH_DISTANCE
            if ahead < hi:
                u = cal_viewer[ahead]
                if u >= 0:
                    a = cal_post[ahead] & mask
                    prefetch(post_id, a)
                    prefetch(post_state, a)
                    prefetch(post_cat, a)
                    prefetch(engagement, a)
                    prefetch(access, u)
                    prefetch(day_views, u)
                    prefetch(susceptibility, u)
                    prefetch(grievance, u)
                    prefetch(fear, u)
            pid = cal_post[e]
            v = cal_viewer[e]
            if v == REQUEST_ARRIVAL:
                request_arrival(req, int(pid), m)
                continue
            slot = pid & mask
            if v < 0:
                if post_id[slot] == pid:
                    enqueue_review(
                        q, posts, consts, rules, slot, m, v == REVIEW_ARRIVAL_REPORTED, tc
                    )
                continue
            # a view: viewer v is shown post pid
            if post_id[slot] != pid:
                continue  # the post has left the exposure horizon
            if post_state[slot] != VISIBLE:
                tc[K.VIEWS_LOST] += 1.0
                continue
            p = post_platform[slot]
            if not may_use(access, suspended, v, p, m):
                continue
            c = post_cat[slot]
            tc[K.VIEWS] += 1.0
            pc[p, K.P_VIEWS] += 1.0
            post_views[slot] += 1
            engagement[slot] += 1.0
            day_views[v] += 1.0
            harm = cat_harm[c]
            if harm > 0.0:
                tc[K.HARM_VIEWS] += harm
                day_harm[v] += harm
            s = susceptibility[v]
            if c == RUMOR:
                tc[K.RUMOR_VIEWS] += 1.0
                grievance[v] = min(1.0, grievance[v] + 0.01 * s)
            elif c == CRITICISM:
                tc[K.CRITICISM_VIEWS] += 1.0
                grievance[v] = min(1.0, grievance[v] + 0.005 * s)
            elif c == COLLECTIVE_ACTION:
                calls_seen[v] += 1.0
            elif c == OFFICIAL:
                trust[v] = min(1.0, trust[v] + 0.002)
            elif c == CHEERLEADING:
                grievance[v] = max(0.0, grievance[v] - 0.002)
            if state_prohibited[p, c] > 0.0:
                pc[p, K.P_PROHIBITED_VIEWS] += 1.0
            if p_regulated[p] != 0:
                log_view(view_log, view_meta, pid, rs_inspect)
            sens = cat_sensitivity[c]
            share = cat_virality[c] * (0.5 + s) * (1.0 - fear[v] * sens)
            if uniform(rs_reshare) < share * reach[slot]:
                tc[K.RESHARES] += 1.0
                engagement[slot] += 2.0
                schedule_audience(posts, slot, v, m, people, consts, rules, graph, cal, rs_exposure)
            if p_reports[p] != 0 and cat_offense[c] > 0.0:
                st = stance[v]
                offended = cat_offense[c] * (1.0 + (st if st > 0.0 else 0.0) * sens)
                if uniform(rs_report) < report_propensity[v] * offended:
                    tc[K.REPORTS] += 1.0
                    push(
                        slots, cal_post, cal_viewer, link, meta, m + 1, pid, REVIEW_ARRIVAL_REPORTED
                    )
        following = link[b]  # freed only now: events scheduled above may take free blocks
        link[b] = meta[0]
        meta[0] = b
        meta[1] -= 1
        b = following
