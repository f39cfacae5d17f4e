"""Official accounts answering citizens' requests ("occupy weibo").

Service requests wait in one national queue, or one queue per region when the staff are
split by region (`state.officials.region_staff_shares`); each queue has its staff's share of
the capacity. Staff answer during working hours at an hourly capacity, first in first out,
or, with a response target, the oldest request that can still meet it first and overdue ones
(oldest first) only when none is left; a request older than the give-up time is
abandoned. An answer lowers the
requester's grievance and builds trust when it resolves the problem (with the resolution
chance) and builds a little trust even when it does not; an abandoned request raises
grievance and costs trust. Times to answer are recorded in minutes.
"""

from __future__ import annotations

from numba import njit

from tightrope.core import counters as K
from tightrope.core.rng import uniform
from tightrope.model.moderation import record_minutes
from tightrope.model.people import grievance_down, grievance_up, trust_down, trust_up


@njit(inline="always", cache=True)
def staff_working(hour: int, work_lo: float, work_hi: float) -> bool:
    """Officials' staff answer during working hours `work_lo <= hour < work_hi`."""
    return work_lo <= hour < work_hi


@njit(inline="always", cache=True)
def gives_up(waited: int, give_up_minutes: float) -> bool:
    """A request waiting more than `give_up_minutes` is abandoned."""
    return waited > give_up_minutes


@njit(inline="always", cache=True)
def answer_resolves(resolution_chance: float, rs) -> bool:
    """An answer resolves the requester's problem w.p. `resolution_chance` (one draw)."""
    return uniform(rs) < resolution_chance


@njit(inline="always", cache=True)
def after_expiry(
    grievance: float, trust: float, grievance_rise: float, trust_fall: float
) -> tuple[float, float]:
    """A requester's (grievance, trust) after their request is abandoned:
    `min(1, g + grievance_rise)`, `max(0, trust - trust_fall)`."""
    return grievance_up(grievance, grievance_rise), trust_down(trust, trust_fall)


@njit(inline="always", cache=True)
def after_answer(
    grievance: float,
    trust: float,
    resolved: bool,
    resolved_grievance_fall: float,
    resolved_trust_rise: float,
    unresolved_trust_rise: float,
) -> tuple[float, float]:
    """A requester's (grievance, trust) after an answer: resolved,
    `max(0, g - resolved_grievance_fall)` and `min(1, trust + resolved_trust_rise)`; not
    resolved, g unchanged and `min(1, trust + unresolved_trust_rise)`."""
    if resolved:
        return (
            grievance_down(grievance, resolved_grievance_fall),
            trust_up(trust, resolved_trust_rise),
        )
    return grievance, trust_up(trust, unresolved_trust_rise)


@njit(inline="always", cache=True)
def on_time(waited: int, target: float) -> bool:
    """With a response target (> 0), a request that has waited less than it can still be
    answered within it: staff answer these first. Without one (0), none is."""
    return waited < target


@njit(inline="always", cache=True)
def _answer(m, waited, k, per_minute, u, people, consts, tc, hist, rs) -> None:
    tc[K.ANSWERED] += 1.0
    people.answered[u] += 1
    record_minutes(hist, K.HIST_ANSWER, waited + k / max(per_minute, 1.0))
    resolved = answer_resolves(consts.resolution, rs)
    if resolved:
        tc[K.ANSWERED_RESOLVED] += 1.0
    people.grievance[u], people.trust[u] = after_answer(
        people.grievance[u],
        people.trust[u],
        resolved,
        consts.resolved_grievance_fall,
        consts.resolved_trust_rise,
        consts.unresolved_trust_rise,
    )


@njit(cache=True)
def serve_queue(m, working, q, req, people, consts, tc, hist, rs) -> None:
    """Queue q's staff work through it during minute m.

    The ring holds the requests in arrival order, so in age order: those not yet overdue
    are the youngest, from `ends[q, 3]` to the tail. With a target the staff answer the
    request at `ends[q, 3]` (the oldest one still on time) and leave a hole there (user -1);
    with none left on time (or no target) they answer the head, the oldest. Holes are
    skipped when the head reaches them. Without a target no hole is ever made and the queue
    is first in, first out."""
    cap = req.user.shape[1]
    ends = req.ends[q]
    per_minute = consts.answers_per_minute * consts.staff_shares[q]
    target = consts.response_target
    # capacity is kept in millionths in ends[2] so the whole queue state is integers
    if working:
        ends[2] += int(per_minute * 1_000_000)
    k = 0
    while ends[0] < ends[1]:
        head = ends[0] % cap
        u = req.user[q, head]
        if u < 0:  # answered out of turn
            ends[0] += 1
            continue
        waited = m - req.arrival[q, head]
        if gives_up(waited, consts.give_up_minutes):
            ends[0] += 1
            tc[K.EXPIRED_REQUESTS] += 1.0
            people.grievance[u], people.trust[u] = after_expiry(
                people.grievance[u],
                people.trust[u],
                consts.expiry_grievance_rise,
                consts.expiry_trust_fall,
            )
            continue
        if not working or ends[2] < 1_000_000:
            break
        if target > 0.0:
            # the first request still on time: past those that became overdue
            if ends[3] < ends[0]:
                ends[3] = ends[0]
            while ends[3] < ends[1]:
                s = ends[3] % cap
                if req.user[q, s] >= 0 and on_time(m - req.arrival[q, s], target):
                    break
                ends[3] += 1
            if ends[3] < ends[1]:
                s = ends[3] % cap
                u = req.user[q, s]
                waited = m - req.arrival[q, s]
                req.user[q, s] = -1
                ends[3] += 1
                ends[2] -= 1_000_000
                _answer(m, waited, k, per_minute, u, people, consts, tc, hist, rs)
                k += 1
                continue
        ends[0] += 1
        ends[2] -= 1_000_000
        _answer(m, waited, k, per_minute, u, people, consts, tc, hist, rs)
        k += 1
    carry = int(consts.idle_carry_answers * 1_000_000)
    if ends[0] == ends[1] and ends[2] > carry:
        ends[2] = carry  # idle staff do not bank time


@njit(cache=True)
def serve_answers(m, hour, req, people, consts, tc, hist, rs) -> None:
    """Staff work through the request queues during minute m, queue by queue."""
    working = staff_working(hour, consts.working_hours[0], consts.working_hours[1])
    for q in range(req.ends.shape[0]):
        serve_queue(m, working, q, req, people, consts, tc, hist, rs)
