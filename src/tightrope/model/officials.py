"""Official accounts answering citizens' requests ("occupy weibo").

Service requests wait in one first-in first-out queue. Staff answer during working hours at
an hourly capacity; a request older than the give-up time is abandoned. An answer lowers the
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
def staff_working(hour: int, work_lo: int, work_hi: int) -> bool:
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


@njit(cache=True)
def serve_answers(m, hour, req, people, consts, tc, hist, rs) -> None:
    """Staff work through the request queue during minute m."""
    cap = req.user.size
    working = staff_working(hour, consts.work_lo, consts.work_hi)
    # capacity is kept in millionths in ends[2] so the whole queue state is integers
    if working:
        req.ends[2] += int(consts.answers_per_minute * 1_000_000)
    k = 0
    while req.ends[0] < req.ends[1]:
        head = req.ends[0] % cap
        u = req.user[head]
        waited = m - req.arrival[head]
        if gives_up(waited, consts.give_up_minutes):
            req.ends[0] += 1
            tc[K.EXPIRED_REQUESTS] += 1.0
            people.grievance[u], people.trust[u] = after_expiry(
                people.grievance[u],
                people.trust[u],
                consts.expiry_grievance_rise,
                consts.expiry_trust_fall,
            )
            continue
        if not working or req.ends[2] < 1_000_000:
            break
        req.ends[0] += 1
        req.ends[2] -= 1_000_000
        tc[K.ANSWERED] += 1.0
        record_minutes(hist, K.HIST_ANSWER, waited + k / max(consts.answers_per_minute, 1.0))
        k += 1
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
    carry = int(consts.idle_carry_answers * 1_000_000)
    if req.ends[0] == req.ends[1] and req.ends[2] > carry:
        req.ends[2] = carry  # idle staff do not bank time
