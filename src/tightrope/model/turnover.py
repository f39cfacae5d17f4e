"""People leaving the population and newcomers taking their place (docs/model.md 5.11).

Once a day, after the daily update, each ordinary user and bad actor leaves with chance
`leave_chance`: a base rate `population.turnover.leave_per_day`, raised by
`exit_weight` x (1 - their best satisfaction with a platform they belong to): the
dissatisfied exit (Hirschman 1970, "Exit, Voice, and Loyalty"). Official accounts and paid
commenters do not leave. A newcomer takes each leaver's place: new traits and state drawn
as at the start (`tightrope.core.world.draw_people`, with the leaver's kind), in the
leaver's place in the follower graph (the graph is fixed; a replacement model keeps the
population's size and structure). The counters the outputs by cohort and region keep for
each account (`punished_at` ... `criticism_after`) and its region stay with the place.

Draws come from the stream `turnover` (a NumPy generator derived from the run's seed);
none is made when `leave_per_day` is 0, so runs without turnover are unchanged.
"""

from __future__ import annotations

import numpy as np

from tightrope.core.world import People, draw_people
from tightrope.scenario.content import BAD_ACTOR, ORDINARY
from tightrope.scenario.schema import Scenario

KEPT_WITH_THE_PLACE = (
    "region", "punished_at", "witnessed_at", "removals", "referrals", "posts_made",
    "criticism_made", "requests_made", "answered", "cohort", "cohort_split", "posts_after",
    "criticism_after",
)  # fmt: skip
"""People fields of the place, not of the person: the region (docs/model.md 4, 8.10) and the
counters for the outputs by account (11.8-11.9); a newcomer keeps them."""


def best_satisfaction(member: np.ndarray, satisfaction: np.ndarray) -> np.ndarray:
    """Each user's highest satisfaction among the platforms they belong to (0 with none)."""
    n_p = satisfaction.shape[1]
    bits = (member[:, None] >> np.arange(n_p, dtype=np.uint8)[None, :]) & 1
    return np.where(bits == 1, satisfaction, 0.0).max(axis=1, initial=0.0)


def leave_chance(
    leave_per_day: float, exit_weight: float, best: np.ndarray | float
) -> np.ndarray | float:
    """A user's chance of leaving today: `min(1, leave_per_day x (1 + exit_weight x (1 -
    best satisfaction)))`."""
    return np.minimum(1.0, leave_per_day * (1.0 + exit_weight * (1.0 - best)))


def replace_leavers(sc: Scenario, people: People, rng: np.random.Generator) -> int:
    """Today's leavers and their replacements (in place). Returns how many left."""
    t = sc.population.turnover
    if t.leave_per_day <= 0.0:
        return 0
    n = people.kind.size
    chance = leave_chance(
        t.leave_per_day, t.exit_weight, best_satisfaction(people.member, people.satisfaction)
    )
    mortal = (people.kind == ORDINARY) | (people.kind == BAD_ACTOR)
    leavers = np.nonzero(mortal & (rng.random(n) < chance))[0]
    if leavers.size == 0:
        return 0
    fresh = draw_people(sc, leavers.size, rng, people.kind[leavers])
    for name in People._fields:
        if name in KEPT_WITH_THE_PLACE:
            continue
        getattr(people, name)[leavers] = getattr(fresh, name)
    return int(leavers.size)
