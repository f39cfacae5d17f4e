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


@njit(cache=True)
def serve_answers(m, hour, req, people, consts, tc, hist, rs) -> None:
    """Staff work through the request queue during minute m."""
    cap = req.user.size
    working = consts.work_lo <= hour < consts.work_hi
    # capacity is kept in millionths in ends[2] so the whole queue state is integers
    if working:
        req.ends[2] += int(consts.answers_per_minute * 1_000_000)
    k = 0
    while req.ends[0] < req.ends[1]:
        head = req.ends[0] % cap
        u = req.user[head]
        waited = m - req.arrival[head]
        if waited > consts.give_up_minutes:
            req.ends[0] += 1
            tc[K.EXPIRED_REQUESTS] += 1.0
            people.grievance[u] = min(1.0, people.grievance[u] + 0.1)
            people.trust[u] = max(0.0, people.trust[u] - 0.05)
            continue
        if not working or req.ends[2] < 1_000_000:
            break
        req.ends[0] += 1
        req.ends[2] -= 1_000_000
        tc[K.ANSWERED] += 1.0
        record_minutes(hist, K.HIST_ANSWER, waited + k / max(consts.answers_per_minute, 1.0))
        k += 1
        if uniform(rs) < consts.resolution:
            tc[K.ANSWERED_RESOLVED] += 1.0
            people.grievance[u] = max(0.0, people.grievance[u] - 0.2)
            people.trust[u] = min(1.0, people.trust[u] + 0.1)
        else:
            people.trust[u] = min(1.0, people.trust[u] + 0.02)
    if req.ends[0] == req.ends[1] and req.ends[2] > 1_000_000:
        req.ends[2] = 1_000_000  # idle staff do not bank time
