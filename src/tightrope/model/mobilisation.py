"""Collective action: a threshold process among users who see calls to act.

Each user keeps a decaying count of calls to collective action seen. A user whose grievance
is at least the floor mobilises when calls seen x grievance reaches their own threshold
(drawn once, normal with the scenario's mean and spread) and enough of those they follow
are mobilised already: the share of their followees mobilised at the end of the last tick
reaches their own peer threshold (Granovetter 1978, "Threshold Models of Collective
Behavior"; on a network, Watts 2002), drawn once, normal and clipped to [0, 1]. Those whose
peer threshold is 0, the instigators, need no one. A user stays mobilised while both hold.
Mobilised users call for action far more often, which spreads the call. When the
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


@njit(inline="always", cache=True)
def peers_suffice(mobilised_followees: int, followees: int, peer_threshold: float) -> bool:
    """Granovetter's rule on the follower graph: the share of the accounts a user follows
    that are mobilised reaches the user's peer threshold. A threshold of 0 or less (an
    instigator) needs no one; a user following no one has a share of 0."""
    if peer_threshold <= 0.0:
        return True
    if followees <= 0:
        return False
    return mobilised_followees >= peer_threshold * followees


@njit(cache=True)
def count_mobilised_followees(mobilised, followers_ptr, followers_idx, out) -> None:
    """`out[f]` = how many of the accounts f follows are mobilised (row i of the follower
    CSR lists i's followers)."""
    out[:] = 0
    for i in range(mobilised.size):
        if mobilised[i]:
            for j in range(followers_ptr[i], followers_ptr[i + 1]):
                out[followers_idx[j]] += 1


@njit(cache=True)
def mobilise(
    people, followers_ptr, followers_idx, followees, peers, tick_minutes, decay_per_day, floor
) -> int:
    """Update who is mobilised after a tick; returns how many are. The peer share is that
    of the end of the last tick (a synchronous update: news of who is going out travels one
    hop a tick). `followees[i]` is how many accounts i follows; `peers` is scratch room."""
    count_mobilised_followees(people.mobilised, followers_ptr, followers_idx, peers)
    keep = calls_kept(decay_per_day, tick_minutes)
    n = 0
    for i in range(people.kind.size):
        people.calls_seen[i] *= keep
        on = mobilises(
            people.grievance[i], people.calls_seen[i], people.threshold[i], floor
        ) and peers_suffice(peers[i], followees[i], people.peer_threshold[i])
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
