"""Collective action: a threshold process among users who see calls to act.

Each user keeps a decaying count of calls to collective action seen. A user whose grievance
is at least the floor mobilises when calls seen x grievance reaches their own threshold
(drawn once, normal with the scenario's mean and spread), and stays mobilised while it
holds. Mobilised users call for action far more often, which spreads the call. When the
mobilised share of the population reaches the critical mass, an offline incident happens
(at most one a day), which the state counts and may react to. Those who took part have
acted: they keep `1 - incident_relief` of their grievance and of the calls they counted
(`after_incident`), so that mobilisation comes in cycles rather than every day.
"""

from __future__ import annotations

import math

from numba import njit


@njit(inline="always", cache=True)
def calls_kept(decay_per_day: float, tick_minutes: int) -> float:
    """Share of the calls seen that a user still counts after a tick of `tick_minutes`:
    `(1 - decay_per_day)^(tick_minutes / 1440)`, decay_per_day in [0, 1]."""
    return math.pow(1.0 - decay_per_day, tick_minutes / 1440.0)


@njit(inline="always", cache=True)
def mobilises(grievance: float, calls_seen: float, threshold: float, floor: float) -> bool:
    """The threshold rule: a user is mobilised iff `grievance >= floor` and
    `calls_seen x grievance >= threshold` (their own threshold, drawn once)."""
    return grievance >= floor and calls_seen * grievance >= threshold


@njit(cache=True)
def mobilise(people, tick_minutes, decay_per_day, floor) -> int:
    """Update who is mobilised after a tick; returns how many are."""
    keep = calls_kept(decay_per_day, tick_minutes)
    n = 0
    for i in range(people.kind.size):
        people.calls_seen[i] *= keep
        on = mobilises(people.grievance[i], people.calls_seen[i], people.threshold[i], floor)
        people.mobilised[i] = 1 if on else 0
        n += 1 if on else 0
    return n


@njit(cache=True)
def after_incident(people, relief) -> int:
    """Those mobilised at an offline incident have acted: each keeps `1 - relief` of their
    grievance and of their count of calls seen (relief in [0, 1]; 0 changes nothing).
    Returns how many took part."""
    n = 0
    if relief <= 0.0:
        return n
    keep = 1.0 - relief
    for i in range(people.kind.size):
        if people.mobilised[i]:
            people.grievance[i] *= keep
            people.calls_seen[i] *= keep
            n += 1
    return n
