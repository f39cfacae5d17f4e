"""The state's reactions between ticks: how much it inspects, when it suspends a platform,
when a mobilisation becomes an offline incident, when a sensitive moment sends the paid
commenters in, and how the adaptive rule tightens or relaxes (docs/model.md, sections 8-10).

Each rule is one function of plain numbers (the phases of `tightrope.engine.simulation`
call them between the compiled kernels); their arithmetic is written in the order the
golden run was made with, so that results stay the same to the bit.
"""

from __future__ import annotations

import numpy as np

from tightrope.scenario.schema import Scenario

MINUTES_PER_DAY = 1440
"""Offline incidents are at most one a day (section 9)."""


def inspection_checks(sc: Scenario, n_users: int, tick_minutes: int, intensity: float) -> float:
    """Checks the regulator makes in a tick: its staff (per 100,000 users) times checks per
    staff hour over the tick's hours, raised by the enforcement intensity in force."""
    ins = sc.state.inspection
    checks = ins.staff_per_100k_users * n_users / 1e5 * ins.checks_per_staff_hour
    checks *= (tick_minutes / 60.0) * (1.0 + intensity)
    return checks


def suspend_platforms(
    sc: Scenario, window: np.ndarray, suspended_until: np.ndarray, end: int
) -> None:
    """Suspend each platform whose violations in the current window reach the law's limit
    (`state.inspection.suspend_after_violations`; 0: never), for `suspension_days` from
    `end`, and start its window again (in place)."""
    ins = sc.state.inspection
    if ins.suspend_after_violations > 0:
        over = window >= ins.suspend_after_violations
        suspended_until[over] = end + int(ins.suspension_days * MINUTES_PER_DAY)
        window[over] = 0.0


def incident_happens(
    sc: Scenario, mobilised: float, n_users: int, t0: int, last_incident: int
) -> bool:
    """An offline incident: the mobilised reach the critical mass (a share of the users),
    and a day has passed since the last incident."""
    mass = sc.mobilisation.critical_mass * n_users
    if mobilised >= mass and mobilised > 0:
        return t0 - last_incident >= MINUTES_PER_DAY
    return False


def sensitive_moment(
    sc: Scenario, sensitive_posts: float, posts: float, average: float | None, tick_minutes: int
) -> tuple[bool, float]:
    """(burst, new running average): a "sensitive moment" is when the share of posts that
    are criticism or calls to action rises above its running average (a day's time
    constant) by `state.paid_commenters.trigger_share`; the paid commenters flood the next
    tick. The first tick's share starts the average."""
    share = sensitive_posts / max(posts, 1.0)
    if average is None:
        average = share
    burst = bool(share - average >= sc.state.paid_commenters.trigger_share)
    average += min(1.0, tick_minutes / float(MINUTES_PER_DAY)) * (share - average)
    return burst, average


def adaptive_intensity(
    sc: Scenario, current: float, mobilised: float, discontented: float, n_users: int
) -> float:
    """The adaptive rule, once a day (`state.adaptive`): tighten by a step when the
    mobilised share passes its threshold, else relax by a step when the discontented share
    does; between 0 and `max_intensity`."""
    ad = sc.state.adaptive
    if not ad.enabled:
        return current
    if mobilised / n_users > ad.mobilisation_threshold:
        return min(ad.max_intensity, current + ad.step)
    if discontented / n_users > ad.discontent_threshold:
        return max(0.0, current - ad.step)
    return current
