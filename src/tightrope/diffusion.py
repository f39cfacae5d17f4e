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
from .exposure import (
    REQUEST_ARRIVAL,
    REVIEW_ARRIVAL_REPORTED,
    can_use,
    push,
    schedule_audience,
)
from .moderation import heap_push, priority
from .rng import integer, uniform
from .world import HORIZON_MINUTES


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
def view(
    pid,
    v,
    m,
    posts,
    people,
    consts,
    rules,
    graph,
    cal,
    q,
    tc,
    pc,
    view_log,
    view_meta,
    rs_exposure,
    rs_reshare,
    rs_report,
    rs_inspect,
) -> None:
    """Viewer v is shown post pid at minute m."""
    slot = pid & (posts.pid.size - 1)
    if posts.pid[slot] != pid:
        return  # the post has left the exposure horizon
    if posts.state[slot] != VISIBLE:
        tc[K.VIEWS_LOST] += 1.0
        return
    p = posts.platform[slot]
    if not can_use(
        people.member, people.suspended_until, people.vpn, rules.live, rules.blocked, v, p, m
    ):
        return
    c = posts.cat[slot]
    tc[K.VIEWS] += 1.0
    pc[p, K.P_VIEWS] += 1.0
    posts.views[slot] += 1
    posts.engagement[slot] += 1.0
    people.day_views[v] += 1.0
    harm = consts.cat_harm[c]
    if harm > 0.0:
        tc[K.HARM_VIEWS] += harm
        people.day_harm[v] += harm
    s = people.susceptibility[v]
    if c == RUMOR:
        tc[K.RUMOR_VIEWS] += 1.0
        people.grievance[v] = min(1.0, people.grievance[v] + 0.01 * s)
    elif c == CRITICISM:
        tc[K.CRITICISM_VIEWS] += 1.0
        people.grievance[v] = min(1.0, people.grievance[v] + 0.005 * s)
    elif c == COLLECTIVE_ACTION:
        people.calls_seen[v] += 1.0
    elif c == OFFICIAL:
        people.trust[v] = min(1.0, people.trust[v] + 0.002)
    elif c == CHEERLEADING:
        people.grievance[v] = max(0.0, people.grievance[v] - 0.002)
    if rules.state_prohibited[p, c] > 0.0:
        pc[p, K.P_PROHIBITED_VIEWS] += 1.0
    if consts.p_regulated[p]:
        log_view(view_log, view_meta, pid, rs_inspect)
    sens = consts.cat_sensitivity[c]
    share = consts.cat_virality[c] * (0.5 + s) * (1.0 - people.fear[v] * sens)
    if uniform(rs_reshare) < share * posts.reach[slot]:
        tc[K.RESHARES] += 1.0
        posts.engagement[slot] += 2.0
        schedule_audience(posts, slot, v, m, people, consts, rules, graph, cal, rs_exposure)
    if consts.p_reports[p] != 0 and consts.cat_offense[c] > 0.0:
        stance = people.stance[v]
        offended = consts.cat_offense[c] * (1.0 + (stance if stance > 0.0 else 0.0) * sens)
        if uniform(rs_report) < people.report_propensity[v] * offended:
            tc[K.REPORTS] += 1.0
            push(cal, m + 1, pid, REVIEW_ARRIVAL_REPORTED)


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
    """Run every event scheduled for minute m."""
    slot_m = m % HORIZON_MINUTES
    e = cal.head[slot_m]
    cal.head[slot_m] = -1
    mask = posts.pid.size - 1
    while e >= 0:
        nxt = cal.nxt[e]
        pid = cal.post[e]
        v = cal.viewer[e]
        cal.nxt[e] = cal.meta[0]
        cal.meta[0] = e
        cal.meta[1] -= 1
        if v >= 0:
            view(
                pid,
                v,
                m,
                posts,
                people,
                consts,
                rules,
                graph,
                cal,
                q,
                tc,
                pc,
                view_log,
                view_meta,
                rs_exposure,
                rs_reshare,
                rs_report,
                rs_inspect,
            )
        elif v == REQUEST_ARRIVAL:
            request_arrival(req, int(pid), m)
        else:
            slot = pid & mask
            if posts.pid[slot] == pid:
                enqueue_review(q, posts, consts, rules, slot, m, v == REVIEW_ARRIVAL_REPORTED, tc)
        e = nxt
