"""Scheduled and random shocks: scandals, disasters, blocks, campaigns and new laws.

Scheduled events start at the first tick at or after their day. Random scandals and
disasters arrive as Poisson processes with the scenario's rates. A scandal raises the
grievance of a random share of users by its magnitude; a disaster multiplies service
requests by 1 + magnitude for its duration; a campaign adds its magnitude to the state's
enforcement intensity for its duration; a block or unblock changes a platform's access at
once; a law changes the rulebook (categories it prohibits, with severity = magnitude
capped at 1, and the precision of wording if given) from its day on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tightrope.model.policy import Law
from tightrope.scenario.content import CATEGORIES
from tightrope.scenario.schema import Event, Scenario


@dataclass
class Timed:
    """An effect active over [start, end) minutes."""

    start: int
    end: int
    magnitude: float


@dataclass
class EventState:
    scheduled: list[tuple[int, Event]]
    campaigns: list[Timed] = field(default_factory=list)
    disasters: list[Timed] = field(default_factory=list)
    log: list[dict] = field(default_factory=list)

    def intensity(self, now: int) -> float:
        return sum(c.magnitude for c in self.campaigns if c.start <= now < c.end)

    def request_boost(self, now: int) -> float:
        return 1.0 + sum(d.magnitude for d in self.disasters if d.start <= now < d.end)


def schedule(sc: Scenario) -> EventState:
    return EventState(sorted(((int(e.day * 1440), e) for e in sc.events), key=lambda x: x[0]))


def apply_events(
    sc: Scenario,
    ev: EventState,
    grievance: np.ndarray,
    blocked: np.ndarray,
    law: Law,
    t0: int,
    t1: int,
    rng: np.random.Generator,
) -> Law:
    """Start the events of the tick [t0, t1): scheduled ones, then random ones.

    What they change is passed in and given back, never reached through the simulation: a
    scandal raises `grievance` (in place), a block or unblock sets `blocked` (in place),
    disasters and campaigns join `ev`, and the law in force is returned (a law event gives
    a new one)."""
    due = [e for start, e in ev.scheduled if t0 <= start < t1]
    rate_scale = (t1 - t0) / (30 * 1440)
    re = sc.random_events
    for kind, per30 in (
        ("scandal", re.scandals_per_30_days),
        ("disaster", re.disasters_per_30_days),
    ):
        for _ in range(rng.poisson(per30 * rate_scale)):
            due.append(
                Event(
                    kind=kind,
                    day=t0 / 1440,
                    magnitude=re.magnitude,
                    share=re.share,
                    duration_days=re.duration_days,
                )
            )
    for e in due:
        law = _start(sc, ev, grievance, blocked, law, e, t0, rng)
    return law


def _start(
    sc: Scenario,
    ev: EventState,
    grievance: np.ndarray,
    blocked: np.ndarray,
    law: Law,
    e: Event,
    t0: int,
    rng: np.random.Generator,
) -> Law:
    end = t0 + int(e.duration_days * 1440)
    names = list(sc.platforms)
    if e.kind == "scandal":
        hit = rng.random(grievance.size) < e.share
        grievance[hit] = np.minimum(1.0, grievance[hit] + e.magnitude)
    elif e.kind == "disaster":
        ev.disasters.append(Timed(t0, end, e.magnitude))
    elif e.kind == "campaign":
        ev.campaigns.append(Timed(t0, end, e.magnitude))
    elif e.kind in ("block", "unblock"):
        blocked[names.index(e.platform)] = 1 if e.kind == "block" else 0
    elif e.kind == "law":
        prohibited = law.prohibited.copy()
        for c in e.prohibit:
            prohibited[CATEGORIES.index(c)] = min(1.0, e.magnitude)
        precision = law.precision if e.precision is None else e.precision
        law = law._replace(prohibited=prohibited, precision=precision)
    ev.log.append({"minute": t0, "kind": e.kind, "magnitude": e.magnitude})
    return law
