"""Platforms' moderation: review queues, reviewers' decisions, removals and their consequences.

Each platform has one priority queue (a binary max-heap) of posts waiting for a human
reviewer. Reviewers work through it minute by minute with an hourly capacity, highest
priority first and, within a priority, oldest first, so time-to-removal comes out of the
queue. A removal strikes the author (suspension at the strike limit) and refers severe
cases to the state, which punishes an identified speaker and so frightens their followers.
A removal may set off the platform's sweep of its recent posts
(`tightrope.model.sweeps`), which `serve_sweeps` runs when it is due.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tightrope.core import counters as K
from tightrope.core.rng import uniform
from tightrope.model.appeals import AP_CUT, AP_ENABLED, AP_REASONS, file_appeal, reasons_rise
from tightrope.model.escalation import draw_escalation
from tightrope.model.exposure import SUSPENSION_CHECK, schedule_audience
from tightrope.model.people import (
    fear_after_shock,
    grievance_up,
    identifiability,
    trust_down,
)
from tightrope.model.regions import (
    REGION_ENFORCEMENT,
    REGION_SENSITIVITY,
    local_punishment_chance,
    refers,
    regional,
)
from tightrope.model.sweeps import schedule_sweep, sweep_finds
from tightrope.scenario.content import PENDING, REMOVED, VISIBLE


@njit(cache=True, inline="always")
def _before(q, p, a, b) -> bool:
    """Heap order: higher key first, then earlier arrival, then lower post id."""
    if q.key[p, a] != q.key[p, b]:
        return q.key[p, a] > q.key[p, b]
    if q.arrival[p, a] != q.arrival[p, b]:
        return q.arrival[p, a] < q.arrival[p, b]
    return q.post[p, a] < q.post[p, b]


@njit(cache=True, inline="always")
def _swap(q, p, a, b) -> None:
    q.key[p, a], q.key[p, b] = q.key[p, b], q.key[p, a]
    q.post[p, a], q.post[p, b] = q.post[p, b], q.post[p, a]
    q.arrival[p, a], q.arrival[p, b] = q.arrival[p, b], q.arrival[p, a]


@njit(cache=True)
def heap_push(q, p: int, key: float, pid: int, arrival: int) -> bool:
    """Add a post to platform p's queue; False if the queue is full."""
    i = q.size[p]
    if i >= q.key.shape[1]:
        return False
    q.key[p, i] = key
    q.post[p, i] = pid
    q.arrival[p, i] = arrival
    q.size[p] = i + 1
    while i > 0:
        parent = (i - 1) // 2
        if _before(q, p, i, parent):
            _swap(q, p, i, parent)
            i = parent
        else:
            break
    return True


@njit(cache=True)
def heap_pop(q, p: int) -> tuple[int, int]:
    """Remove and return (post id, arrival minute) of the first post in p's queue."""
    pid = q.post[p, 0]
    arrival = q.arrival[p, 0]
    last = q.size[p] - 1
    q.size[p] = last
    if last > 0:
        q.key[p, 0] = q.key[p, last]
        q.post[p, 0] = q.post[p, last]
        q.arrival[p, 0] = q.arrival[p, last]
        i = 0
        while True:
            left = 2 * i + 1
            if left >= last:
                break
            best = left
            right = left + 1
            if right < last and _before(q, p, right, left):
                best = right
            if _before(q, p, best, i):
                _swap(q, p, best, i)
                i = best
            else:
                break
    return pid, arrival


@njit(cache=True, inline="always")
def priority(consts, rules, p: int, cat: int, reported: bool, held: bool) -> float:
    """Queue priority: enforced severity first, then reported items, then held ones
    (weights `moderation.priority_enforced`, `priority_reported`, `priority_held`)."""
    return (
        consts.p_prio_enforced[p] * rules.enforced[p, cat]
        + (consts.p_prio_reported[p] if reported else 0.0)
        + (consts.p_prio_held[p] if held else 0.0)
    )


@njit(cache=True, inline="always")
def set_state(posts, slot: int, new_state: int) -> None:
    """Move a post between states, keeping the per-state counts exact."""
    posts.counts[1 + posts.state[slot]] -= 1
    posts.counts[1 + new_state] += 1
    posts.state[slot] = new_state


@njit(cache=True, inline="always")
def record_minutes(hist, which: int, minutes: float) -> None:
    if minutes < 0.0:
        minutes = 0.0
    if minutes < K.MINUTE_BINS:
        b = int(minutes)
    else:
        b = K.MINUTE_BINS + int((minutes - K.MINUTE_BINS) / 60.0)
        if b >= K.N_BINS:
            b = K.N_BINS - 1
    hist[which, b] += 1


@njit(inline="always", cache=True)
def punishment_chance(identifiability: float, severity: float) -> float:
    """Chance the state punishes a referred author: `identifiability x severity`, both in
    [0, 1]."""
    return identifiability * severity


@njit(inline="always", cache=True)
def trust_after_punishment(trust: float, keep: float) -> float:
    """A punished speaker's trust: `trust x keep`, keep in [0, 1]."""
    return trust * keep


@njit(inline="always", cache=True)
def punishment_suspension_minutes(severity: float, days_at_full_severity: int) -> int:
    """Minutes a punished speaker is suspended: `int(days x 1440 x severity)`."""
    return int(days_at_full_severity * 1440 * severity)


@njit(cache=True)
def punish(people, graph_ptr, graph_idx, consts, i: int, now: int, tc) -> None:
    """The state punishes an identified speaker; their followers see it and fear rises.
    The minutes of a user's first punishment and of the first they witness are kept
    (`People.punished_at`, `witnessed_at`: outputs only, never read by the model)."""
    tc[K.PUNISHED] += 1.0
    people.fear[i] = fear_after_shock(people.fear[i], consts.punished_fear_shock)
    people.trust[i] = trust_after_punishment(people.trust[i], consts.punished_trust_keep)
    until = now + punishment_suspension_minutes(consts.severity, consts.punished_suspension_days)
    if until > people.suspended_until[i]:
        people.suspended_until[i] = until
        people.access[i] |= SUSPENSION_CHECK
    if people.punished_at[i] < 0:
        people.punished_at[i] = now
    w = consts.witness_fear
    witnessed = people.witnessed_at
    for e in range(graph_ptr[i], graph_ptr[i + 1]):
        f = graph_idx[e]
        people.fear[f] = fear_after_shock(people.fear[f], w)
        if witnessed[f] < 0:
            witnessed[f] = now


@njit(cache=True)
def remove_post(
    posts,
    people,
    graph_ptr,
    graph_idx,
    consts,
    rules,
    slot,
    minute,
    route,
    tally,
    rs_punish,
    cal,
    rs_appeal,
) -> None:
    """Remove a visible or held post at `minute` (float) and apply the consequences.

    `route` is how it came to be removed, the column of `counters.ROUTES` it counts in
    for its category (`ROUTE_FILTER`, `ROUTE_REPORT`, `ROUTE_INSPECTION`, ...); `tally` is
    the `Tally` it is counted into. On a platform with statements of reasons a wrongful
    removal raises less grievance; on one with appeals the author may appeal, from stream
    `rs_appeal`, a reversal going into the calendar `cal` (`tightrope.model.appeals`)."""
    tc, pc, hist = tally.tick, tally.platform, tally.minutes
    ct = tally.category
    p = posts.platform[slot]
    c = posts.cat[slot]
    a = posts.author[slot]
    was_visible = posts.state[slot] == VISIBLE
    set_state(posts, slot, REMOVED)
    posts.queued[slot] = 0
    tc[K.REMOVED] += 1.0
    ct[c, route] += 1.0
    pc[p, K.P_REMOVED] += 1.0
    if was_visible:
        tc[K.REMOVED_PUBLISHED] += 1.0
        waited = minute - posts.created[slot]
        record_minutes(hist, K.HIST_REMOVAL, waited)
        record_minutes(tally.category_minutes, c, waited)
    else:
        tc[K.HELD_REMOVED] += 1.0
    people.day_removed[a] += 1.0
    people.removals[a] += 1
    people.fear[a] = fear_after_shock(people.fear[a], consts.removal_fear_shock)
    wrongful = consts.legit[c] != 0
    if wrongful:
        tc[K.WRONGFUL_REMOVED] += 1.0
        ct[c, K.CAT_WRONGFUL_REMOVED] += 1.0
        rise = consts.wrongful_grievance_rise
        if consts.p_appeals[p, AP_REASONS] != 0.0:
            rise = reasons_rise(rise, consts.p_appeals[p, AP_CUT])
        people.grievance[a] = grievance_up(people.grievance[a], rise)
        people.trust[a] = trust_down(people.trust[a], consts.wrongful_trust_fall)
    struck = rules.enforced[p, c] > 0.0
    if struck:
        people.strikes[a] += 1
        if people.strikes[a] >= consts.p_strike_limit[p]:
            people.strikes[a] = 0
            until = int(minute + consts.p_suspension_minutes[p])
            if until > people.suspended_until[a]:
                people.suspended_until[a] = until
                people.access[a] |= SUSPENSION_CHECK
    sev = rules.state_prohibited[p, c]
    r = people.region[a]
    if sev > 0.0 and refers(
        sev, regional(consts.region_rules, r, REGION_SENSITIVITY), consts.p_referral[p]
    ):
        tc[K.REFERRALS] += 1.0
        people.referrals[a] += 1
        ident = identifiability(people.real_name[a], consts.data_access)
        chance = local_punishment_chance(
            punishment_chance(ident, consts.severity),
            regional(consts.region_rules, r, REGION_ENFORCEMENT),
        )
        if uniform(rs_punish) < chance:
            punish(people, graph_ptr, graph_idx, consts, a, int(minute), tc)
            if wrongful:  # punished for a post the baseline holds legitimate (11.1)
                tc[K.PUNISHED_LEGIT] += 1.0
    if consts.p_appeals[p, AP_ENABLED] != 0.0:
        file_appeal(posts, consts, cal, slot, p, wrongful, struck, minute, tc, ct, rs_appeal)


@njit(cache=True, inline="always")
def still_queued(posts, pid: int, mask: int) -> int:
    """The ring slot of post `pid` if it is still there, still queued, and visible or held
    (a review or the second tier may still decide it); else -1."""
    slot = pid & mask
    if posts.pid[slot] != pid or posts.queued[slot] == 0:
        return -1
    st = posts.state[slot]
    if st != VISIBLE and st != PENDING:
        return -1
    return slot


@njit(cache=True)
def remove_reviewed(
    posts, people, graph, consts, rules, q, slot, minute, tally, rs_punish, cal, rs_appeal
) -> None:
    """A review's removal of post `slot` at `minute` (float), taking effect now or at the
    second tier's due minute: by the route that brought the post to review (a user's report,
    else the filter), through `remove_post`, and the sweep it may set off
    (`sweeps.schedule_sweep`)."""
    route = K.ROUTE_REPORT if posts.queued_by[slot] != 0 else K.ROUTE_FILTER
    remove_post(
        posts, people, graph.followers_ptr, graph.followers_idx, consts, rules, slot, minute,
        route, tally, rs_punish, cal, rs_appeal,
    )  # fmt: skip
    schedule_sweep(q, consts, rules, posts.platform[slot], posts.cat[slot], minute)


@njit(cache=True)
def reviewer_capacity_per_minute(consts, rules, p: int, hour: int) -> float:
    if hour < consts.p_rev_hours[p, 0] or hour >= consts.p_rev_hours[p, 1]:
        return 0.0
    return consts.p_reviewers[p] * rules.effort[p] * consts.p_review_rate[p] / 60.0


@njit(cache=True)
def serve_reviews(
    m, hour, world, tally, rs_review, rs_exposure, rs_punish, rs_appeal, rs_escalation
) -> None:
    """Reviewers of every platform work for minute m: decide the queue's first posts. A
    removal the platform escalates (`escalation.draw_escalation`, stream `rs_escalation`)
    is deferred to the second tier (`defer`) instead of taking effect now."""
    posts, people, consts, rules, graph, cal, q, _req, view_cal = world
    tc, pc = tally.tick, tally.platform
    mask = posts.pid.size - 1
    for p in range(consts.n_platforms):
        rate = reviewer_capacity_per_minute(consts, rules, p, hour)
        if rate <= 0.0:
            continue
        q.capacity_left[p] += rate
        service = 60.0 / consts.p_review_rate[p] if consts.p_review_rate[p] > 0 else 0.0
        k = 0
        while q.capacity_left[p] >= 1.0 and q.size[p] > 0:
            pid, _arrival = heap_pop(q, p)
            slot = still_queued(posts, pid, mask)
            if slot < 0:
                continue  # retired, or already removed by someone else
            st = posts.state[slot]
            q.capacity_left[p] -= 1.0
            pc[p, K.P_REVIEWS] += 1.0
            done = m + k / rate + service
            k += 1
            c = posts.cat[slot]
            if uniform(rs_review) < rules.remove_prob[p, c]:
                delay = draw_escalation(consts, p, rs_escalation)
                if delay > 0.0 and defer(q, consts.n_platforms, p, pid, done + delay):
                    tc[K.ESCALATED] += 1.0
                    continue  # the post stays as it is, and queued, until the second tier
                remove_reviewed(
                    posts, people, graph, consts, rules, q, slot, done, tally, rs_punish, cal,
                    rs_appeal,
                )  # fmt: skip
            else:
                posts.queued[slot] = 0
                if st == PENDING:
                    set_state(posts, slot, VISIBLE)
                    tc[K.HELD_APPROVED] += 1.0
                    schedule_audience(
                        posts,
                        slot,
                        posts.author[slot],
                        int(done) + 1,
                        people,
                        consts,
                        graph,
                        view_cal,
                        rs_exposure,
                    )
        carry = consts.p_idle_carry[p]
        if q.size[p] == 0 and q.capacity_left[p] > carry:
            q.capacity_left[p] = carry  # an idle team does not bank time


@njit(cache=True)
def defer(q, n_platforms: int, p: int, pid: int, due: float) -> bool:
    """Put post `pid`'s escalated removal on platform p, due at minute `due`, into the
    second tier's heap (row `n_platforms + p` of the review queues, earliest due first);
    False if the heap is full (the removal then takes effect at once)."""
    return heap_push(q, n_platforms + p, -due, pid, int(due))


@njit(cache=True)
def serve_escalations(m, world, tally, rs_punish, rs_appeal) -> int:
    """The second tier's removals due in minute m (`tightrope.model.escalation`), earliest
    first: each post still in the ring and visible or held is removed at its due minute by
    its review's route (`remove_post`), and may bring a sweep. Returns the posts removed."""
    posts, people, consts, rules, graph, cal, q, _req, _view_cal = world
    mask = posts.pid.size - 1
    removed = 0
    for p in range(consts.n_platforms):
        r = consts.n_platforms + p
        while q.size[r] > 0 and -q.key[r, 0] < m + 1.0:
            due = -q.key[r, 0]
            pid, _due_minute = heap_pop(q, r)
            slot = still_queued(posts, pid, mask)
            if slot < 0:
                continue  # retired, or removed by someone else meanwhile
            remove_reviewed(
                posts, people, graph, consts, rules, q, slot, due, tally, rs_punish, cal, rs_appeal
            )  # fmt: skip
            removed += 1
    return removed


@njit(cache=True)
def serve_sweeps(m, world, tally, rs_sweep, rs_punish, rs_appeal) -> int:
    """The platforms' sweeps due by minute m (`tightrope.model.sweeps`): each searches its
    categories (`sweep_finds`, stream `rs_sweep`) and the posts found are removed at m
    (`remove_post`, route ROUTE_SWEEP), in the order found. Returns the posts removed."""
    posts, people, consts, rules, graph, cal, q, _req, _view_cal = world
    removed = 0
    out = np.empty(0, dtype=np.int64)
    for p in range(consts.n_platforms):
        due = q.sweep_due[p]
        if due < 0 or due > m:
            continue
        cats = q.sweep_cats[p]
        q.sweep_due[p] = -1
        q.sweep_cats[p] = 0
        if out.size == 0:
            out = np.empty(1024, dtype=np.int64)
        found, out = sweep_finds(posts, consts, rules, p, cats, m, rs_sweep, out)
        for k in range(found):
            remove_post(
                posts,
                people,
                graph.followers_ptr,
                graph.followers_idx,
                consts,
                rules,
                out[k],
                float(m),
                K.ROUTE_SWEEP,
                tally,
                rs_punish,
                cal,
                rs_appeal,
            )
        removed += found
    return removed
