"""The exposure calendar's pool: it grows when events are dropped or space runs short, and
only then (a dropped-event count from long ago must not make it double every tick)."""

from __future__ import annotations

import pytest

import tightrope
from tightrope.engine.simulation import Simulation


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


def test_old_drops_of_views_do_not_grow_the_shards_again() -> None:
    sim = Simulation(tightrope.load_scenario("eu-dsa", users=9000, days=1, seed=2), shards=3)
    sim.step()
    blocks = sim.view_cal.link.shape[1]
    sim.view_cal.meta[1, 2] += 3  # three views dropped by shard 1 during the last tick
    sim.step()
    assert sim.view_cal.link.shape == (3, 2 * blocks)  # every shard's pool grows
    for _ in range(5):  # no new drops: no more growth
        sim.step()
    assert sim.view_cal.link.shape == (3, 2 * blocks)
    assert sim.view_cal.meta[:, 2].tolist() == [0, 3, 0]
    assert sim.result().meta["calendar_dropped"] == 3


def _events(cal, minute):
    """The events scheduled at `minute`, in the order the minute loop reads them."""
    from tightrope.core.world import BLOCK_EVENTS, HORIZON_MINUTES

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
    from tightrope.core.world import BLOCK_EVENTS, new_calendar
    from tightrope.model.exposure import push_event

    cal = new_calendar(8)
    n = 2 * BLOCK_EVENTS + 5  # three blocks
    for k in range(n):
        assert push_event(cal, 100 + (k % 2), k, 7 * k)
    assert _events(cal, 100) == [(k, 7 * k) for k in range(0, n, 2)]
    assert _events(cal, 101) == [(k, 7 * k) for k in range(1, n, 2)]
    assert _events(cal, 102) == []
    assert int(cal.meta[1]) == 4  # blocks in use: two per minute


def test_a_full_pool_refuses_and_counts_the_event() -> None:
    from tightrope.core.world import BLOCK_EVENTS, new_calendar
    from tightrope.model.exposure import push_event

    cal = new_calendar(2)
    for k in range(2 * BLOCK_EVENTS):
        assert push_event(cal, 5, k, 1)
    assert not push_event(cal, 5, 0, 1)
    assert not push_event(cal, 6, 0, 1)  # a new minute needs a block too
    assert int(cal.meta[2]) == 2
    assert len(_events(cal, 5)) == 2 * BLOCK_EVENTS


def test_the_minute_loop_frees_every_block_it_read() -> None:
    from tightrope.core.world import shard_calendar

    sim = Simulation(tightrope.load_scenario("eu-dsa", users=9000, days=1, seed=2), shards=3)
    for _ in range(24):
        sim.step()
    calendars = [sim.cal] + [shard_calendar(sim.view_cal, s) for s in range(3)]
    for cal in calendars:
        # blocks in use = blocks reachable from the minute slots; the rest are free
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
    assert all(int(cal.meta[1]) > 0 for cal in calendars)  # each held events


def test_access_bits_agree_with_the_full_test_of_who_can_use_a_platform() -> None:
    """The hot loops read one access array instead of membership, suspension, VPN and the
    platform rules; for every user, platform and minute of the tick they must agree, also
    for suspensions that end or begin during the tick."""
    import numpy as np

    from tightrope.model.exposure import can_use, may_use, refresh_access
    from tightrope.model.moderation import punish

    sim = Simulation(tightrope.load_scenario("eu-dsa", users=2000, days=1, seed=3))
    people = sim.people
    rng = np.random.default_rng(0)
    n = people.member.size
    n_p = sim.consts.n_platforms
    people.member[:] = rng.integers(0, 1 << n_p, n)
    people.vpn[:] = rng.integers(0, 2, n)
    t0, L = 600, 60
    people.suspended_until[:] = rng.choice([0, t0 - 5, t0, t0 + 1, t0 + 30, t0 + 10_000], n)
    blocked = np.zeros(n_p, dtype=np.uint8)
    blocked[0] = 1
    live = np.ones(n_p, dtype=np.uint8)
    live[-1] = 0
    rules = sim.rules._replace(blocked=blocked, live=live)
    refresh_access(people, rules, t0)
    late = [int(i) for i in rng.choice(np.flatnonzero(people.suspended_until <= t0), 20)]
    for i in late:  # suspended during the tick, from minute t0 + 10 on
        punish(
            people, sim.graph.followers_ptr, sim.graph.followers_idx, sim.consts, i, t0 + 10, sim.tc
        )
    checked = 0
    for now in (t0, t0 + 1, t0 + 10, t0 + 30, t0 + L - 1):
        for i in range(n):
            for p in range(n_p):
                full = can_use(
                    people.member, people.suspended_until, people.vpn, live, blocked, i, p, now
                )
                assert may_use(people.access, people.suspended_until, i, p, now) == full, (
                    i,
                    p,
                    now,
                )
                checked += full
    assert checked > 0
    assert not any(
        may_use(people.access, people.suspended_until, i, p, t0 + 10)
        for i in late
        for p in range(n_p)
    )


def _calendar_contents(cal):
    from tightrope.core.world import HORIZON_MINUTES

    return [_events(cal, m) for m in range(HORIZON_MINUTES)]


def test_an_audience_that_overflows_its_region_is_drawn_again_the_same() -> None:
    """The posting phase's audiences are drawn in parallel into regions sized from the
    expected views; a post whose views do not fit is drawn again from its own stream with
    room for every member. Forcing every post down that path must schedule exactly the same
    events, in the same order."""
    import numpy as np

    from tightrope.core.world import new_sharded_calendar, part_owners, shard_calendar
    from tightrope.model.exposure import (
        audience_regions,
        draw_audiences,
        push_audiences,
        redraw_overflows,
    )

    sim = Simulation(
        tightrope.load_scenario("china-comprehensive-2021", users=3000, days=1, seed=4)
    )
    for _ in range(3):
        sim.step()
    visible = np.flatnonzero((sim.posts.pid >= 0) & (sim.posts.state == 0)).astype(np.int64)
    n = visible.size
    assert n > 50
    key = np.uint64(12345)
    sharers = sim.posts.author[visible]
    starts = sim.posts.created[visible]
    shares = (visible, sharers, starts, n, key, 7)
    offsets = np.empty(n + 1, dtype=np.int64)
    audience_regions(visible, sharers, n, sim.posts, sim.consts, sim.graph, offsets)
    size = int(offsets[n])
    out = (np.empty(size, dtype=np.int32), np.empty(size, dtype=np.int32))
    counts = np.empty(n, dtype=np.int64)
    args = (sim.posts, sim.people, sim.consts, sim.graph)
    draw_audiences(*shares, *args, offsets, *out, counts, np.empty((n, 4), dtype=np.uint64))
    assert (counts >= 0).all()
    assert counts.sum() > 100
    one = part_owners(1, 1)
    fitted, redrawn = new_sharded_calendar(1 << 12, one), new_sharded_calendar(1 << 12, one)
    first, *fitted_out = redraw_overflows(*shares, *args, offsets, counts.copy(), *out)
    push_audiences(visible, n, sim.posts.pid, fitted, first, counts, *fitted_out)
    forced = np.full(n, -1, dtype=np.int64)
    first, *redrawn_out = redraw_overflows(*shares, *args, offsets, forced, *out)
    assert (first >= size).all()  # every share drawn again, after the regions
    assert (forced == counts).all()
    push_audiences(visible, n, sim.posts.pid, redrawn, first, forced, *redrawn_out)
    assert int(fitted.meta[0, 1]) > 0
    assert _calendar_contents(shard_calendar(fitted, 0)) == _calendar_contents(
        shard_calendar(redrawn, 0)
    )


def test_a_serial_audience_is_the_same_whatever_its_first_room() -> None:
    """`schedule_audience` (reshares, approvals) draws into room for the expected views:
    it schedules what one draw with room for every member gives and leaves the stream where
    that draw does; a region too small is reported (-1), which is what makes it redraw."""
    import numpy as np

    from tightrope.core.world import new_sharded_calendar, part_owners, shard_calendar
    from tightrope.model.exposure import audience, draw_audience, schedule_audience

    sim = Simulation(
        tightrope.load_scenario("china-comprehensive-2021", users=3000, days=1, seed=4)
    )
    sim.step()
    degree = np.diff(sim.graph.followers_ptr)
    public = np.flatnonzero(
        (sim.posts.pid >= 0)
        & (sim.posts.state == 0)
        & (sim.consts.p_private[sim.posts.platform] == 0)
    )
    slot = int(public[np.argmax(degree[sim.posts.author[public]])])
    sharer = int(sim.posts.author[slot])
    members, _ = audience(sim.posts, slot, sharer, sim.consts, sim.graph)
    start = int(sim.posts.created[slot])
    rs = np.array([1, 2, 3, 4], dtype=np.uint64)
    cal = new_sharded_calendar(1 << 12, part_owners(1, 1))
    after = rs.copy()
    schedule_audience(sim.posts, slot, sharer, start, sim.people, sim.consts, sim.graph,
                      cal, after)  # fmt: skip
    ref = rs.copy()
    out = (np.empty(members, dtype=np.int32), np.empty(members, dtype=np.int32))
    n = draw_audience(sim.posts, slot, sharer, start, sim.people, sim.consts, sim.graph, ref,
                      out[0], out[1], 0, members)  # fmt: skip
    assert n > 0
    assert np.array_equal(after, ref)
    got = sorted((s, v) for s in range(4320) for _, v in _events(shard_calendar(cal, 0), s))
    want = sorted(zip(out[0][:n].tolist(), out[1][:n].tolist(), strict=True))
    assert got == want
    # and a region of one view is too small: the draw says so
    small = rs.copy()
    assert draw_audience(sim.posts, slot, sharer, start, sim.people, sim.consts, sim.graph,
                         small, out[0], out[1], 0, 1) == -1  # fmt: skip


def _tiny_pools(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Pools of views far too small for the first tick: views are refused, for real."""
    from tightrope.engine import simulation

    monkeypatch.setattr(simulation, "calendar_pool", lambda *args, **kwargs: 2)


def test_a_run_that_lost_views_to_a_full_pool_says_so(monkeypatch) -> None:
    """A view refused by a full pool is lost: the run counts it, warns (the library with a
    warning, the command line on stderr), and calibration leaves the run out."""
    from click.testing import CliRunner

    from tightrope.cli.app import main
    from tightrope.engine.driver import DroppedEventsWarning
    from tightrope.experiments.calibration import run_summary

    sc = tightrope.load_scenario("eu-dsa", users=2000, days=0.5, seed=2)
    assert run_summary(sc) is not None  # with room, nothing is lost
    _tiny_pools(monkeypatch)
    with pytest.warns(DroppedEventsWarning) as caught:
        result = tightrope.run(sc)
    lost = result.meta["calendar_dropped"]
    assert lost > 0
    assert str(caught[0].message) == (
        f"{lost:,} scheduled events (views, review arrivals, ...) were refused by a full "
        "calendar pool and lost (meta['calendar_dropped']); the pools grew after it, but "
        "this run is not what a run with room gives, nor the same on another number of "
        "shards"
    )
    assert run_summary(sc) is None  # calibration leaves such a run out
    res = CliRunner().invoke(
        main, ["run", "eu-dsa", "--users", "2000", "--days", "0.5", "--seed", "2", "--quiet"]
    )
    assert res.exit_code == 0, res.output
    assert f"warning: {caught[0].message}" in res.stderr
