"""The exposure calendar's pool: it grows when events are dropped or space runs short, and
only then (a dropped-event count from long ago must not make it double every tick)."""

from __future__ import annotations

import tightrope
from tightrope.simulation import Simulation


def test_old_drops_do_not_grow_the_pool_again() -> None:
    sim = Simulation(tightrope.load_scenario("eu-dsa", users=1000, days=1, seed=2))
    sim.step()
    size = sim.cal.post.size
    sim.cal.meta[2] += 3  # three events dropped during the last tick
    sim.step()
    assert sim.cal.post.size == 2 * size
    for _ in range(5):  # no new drops: no more growth
        sim.step()
    assert sim.cal.post.size == 2 * size
    assert int(sim.cal.meta[2]) == 3
