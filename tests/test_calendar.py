"""The exposure calendar's pool: it grows when events are dropped or space runs short, and
only then (a dropped-event count from long ago must not make it double every tick)."""

from __future__ import annotations

import tightrope
from tightrope.simulation import Simulation


def test_old_drops_do_not_grow_the_pool_again() -> None:
    sim = Simulation(tightrope.load_scenario("eu-dsa", users=1000, days=1, seed=2))
    sim.step()
    size = sim.cal.link.size
    sim.cal.meta[2] += 3  # three events dropped during the last tick
    sim.step()
    assert sim.cal.link.size == 2 * size
    for _ in range(5):  # no new drops: no more growth
        sim.step()
    assert sim.cal.link.size == 2 * size
    assert int(sim.cal.meta[2]) == 3


def _events(cal, minute):
    """The events scheduled at `minute`, in the order the minute loop reads them."""
    from tightrope.world import BLOCK_EVENTS, HORIZON_MINUTES

    s = minute % HORIZON_MINUTES
    b, last, fill = (int(x) for x in cal.slots[s])
    out = []
    while b >= 0:
        n = fill if b == last else BLOCK_EVENTS
        lo = b * BLOCK_EVENTS
        out += list(
            zip(cal.post[lo : lo + n].tolist(), cal.viewer[lo : lo + n].tolist(), strict=True)
        )
        b = int(cal.link[b])
    return out


def test_events_of_a_minute_come_out_in_the_order_they_were_scheduled() -> None:
    from tightrope.exposure import push_event
    from tightrope.world import BLOCK_EVENTS, new_calendar

    cal = new_calendar(8)
    n = 2 * BLOCK_EVENTS + 5  # three blocks
    for k in range(n):
        assert push_event(cal, 100 + (k % 2), k, 7 * k)
    assert _events(cal, 100) == [(k, 7 * k) for k in range(0, n, 2)]
    assert _events(cal, 101) == [(k, 7 * k) for k in range(1, n, 2)]
    assert _events(cal, 102) == []
    assert int(cal.meta[1]) == 4  # blocks in use: two per minute


def test_a_full_pool_refuses_and_counts_the_event() -> None:
    from tightrope.exposure import push_event
    from tightrope.world import BLOCK_EVENTS, new_calendar

    cal = new_calendar(2)
    for k in range(2 * BLOCK_EVENTS):
        assert push_event(cal, 5, k, 1)
    assert not push_event(cal, 5, 0, 1)
    assert not push_event(cal, 6, 0, 1)  # a new minute needs a block too
    assert int(cal.meta[2]) == 2
    assert len(_events(cal, 5)) == 2 * BLOCK_EVENTS


def test_the_minute_loop_frees_every_block_it_read() -> None:
    sim = Simulation(tightrope.load_scenario("eu-dsa", users=1000, days=1, seed=2))
    for _ in range(24):
        sim.step()
    cal = sim.cal
    # blocks in use = blocks reachable from the minute slots; the rest are on the free list
    reachable = 0
    for s in range(cal.slots.shape[0]):
        b = int(cal.slots[s, 0])
        while b >= 0:
            reachable += 1
            b = int(cal.link[b])
    free = 0
    b = int(cal.meta[0])
    while b >= 0:
        free += 1
        b = int(cal.link[b])
    assert reachable == int(cal.meta[1])
    assert reachable + free == cal.link.size
