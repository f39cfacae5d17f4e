"""The calendar of views split into shards of viewers (core.world.ShardedCalendar): each
shard holds the views of its own viewer parts in the order they were scheduled, so that a
run gives the same results to the bit whatever its number of shards."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tightrope
from tightrope.core.world import (
    BLOCK_EVENTS,
    HORIZON_MINUTES,
    VIEWER_PART_SHIFT,
    new_sharded_calendar,
    part_owners,
    shard_calendar,
)
from tightrope.engine.simulation import Simulation
from tightrope.errors import InputError
from tightrope.model.exposure import push_audiences


def _events(cal, s: int) -> list[tuple[int, int]]:
    """(post id, viewer) of calendar slot s of one calendar, in order."""
    b, last, fill = (int(x) for x in cal.slots[s])
    out = []
    while b >= 0:
        lo = b * BLOCK_EVENTS
        n = fill if b == last else BLOCK_EVENTS
        out += list(
            zip(cal.post[lo : lo + n].tolist(), cal.viewer[lo : lo + n].tolist(), strict=True)
        )
        b = int(cal.link[b])
    return out


def test_part_owners_are_contiguous_even_ranges_of_whole_parts() -> None:
    assert part_owners(10, 3).tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert part_owners(4, 4).tolist() == [0, 1, 2, 3]
    assert part_owners(5, 1).tolist() == [0] * 5
    with pytest.raises(ValueError, match=r"shards must be between 1 and the number of viewer"):
        part_owners(4, 5)


def test_a_shard_count_outside_the_parts_is_refused_naming_what_is_allowed() -> None:
    sc = tightrope.load_scenario("eu-dsa", users=9000, days=0.1, seed=1)
    msg = (
        "shards must be between 1 and 3 for 9,000 users (a shard owns whole parts of 4,096 "
        "users); got 4"
    )
    with pytest.raises(InputError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        Simulation(sc, shards=4)
    with pytest.raises(InputError, match="got 0"):
        Simulation(sc, shards=0)


@pytest.mark.parametrize("n", [300, 4000])  # pushed on one thread; routed in parallel
def test_routed_views_keep_the_order_of_the_shares_within_each_shard(n: int) -> None:
    """Shares whose views go to viewers all over: every shard's calendar must hold exactly
    its viewers' views, in the order of one unsharded calendar (as the minute loop reads a
    part's views), whatever the number of shards."""
    from tightrope.model.exposure import ROUTE_MIN_VIEWS

    rng = np.random.default_rng(5)
    parts = 7
    users = parts << VIEWER_PART_SHIFT
    counts = rng.integers(0, 40, n).astype(np.int64)
    assert (counts.sum() < ROUTE_MIN_VIEWS) == (n == 300)
    first = np.zeros(n, dtype=np.int64)
    first[1:] = np.cumsum(counts + 3)[:-1]  # regions with room to spare, as drawn
    size = int(first[-1] + counts[-1] + 3)
    out_slot = rng.integers(0, 50, size).astype(np.int32)  # calendar slots (minutes)
    out_viewer = rng.integers(0, users, size).astype(np.int32)
    slots = rng.permutation(n).astype(np.int64)  # post slots of the shares
    post_id = np.arange(n, dtype=np.int64) * 11 + 3
    one = new_sharded_calendar(2048, part_owners(parts, 1))
    push_audiences(slots, n, post_id, one, first, counts, out_slot, out_viewer)
    whole = [_events(shard_calendar(one, 0), s) for s in range(50)]
    assert sum(map(len, whole)) == counts.sum()
    for shards in (2, 3, 7):
        cal = new_sharded_calendar(2048, part_owners(parts, shards))
        push_audiences(slots, n, post_id, cal, first, counts, out_slot, out_viewer)
        for r in range(shards):
            mine = {k for k in range(parts) if cal.owner[k] == r}
            for s in range(50):
                want = [e for e in whole[s] if e[1] >> VIEWER_PART_SHIFT in mine]
                assert _events(shard_calendar(cal, r), s) == want
        assert int(cal.meta[:, 2].sum()) == 0  # nothing dropped
    assert _events(shard_calendar(one, 0), HORIZON_MINUTES - 1) == []


def _summary(result: tightrope.Result) -> str:
    return json.dumps(result.summary, default=str, sort_keys=True)


def test_a_run_is_the_same_to_the_bit_whatever_its_number_of_shards() -> None:
    sc = tightrope.load_scenario("china-comprehensive-2021", users=13_000, days=1.0, seed=3)
    runs = {shards: tightrope.run(sc, shards=shards) for shards in (1, 2, 4)}
    assert [runs[k].meta["shards"] for k in (1, 2, 4)] == [1, 2, 4]
    assert runs[1].summary["views"] > 100_000
    for shards in (2, 4):
        assert _summary(runs[shards]) == _summary(runs[1])
        assert runs[shards].timeseries.equals(runs[1].timeseries)


def test_a_checkpoint_resumes_on_another_number_of_shards_to_the_same_results(
    tmp_path,
) -> None:
    from tightrope.engine.checkpoint_files import read_piece
    from tightrope.engine.checkpoints import load_checkpoint, read_header, save_checkpoint

    sc = tightrope.load_scenario("eu-dsa", users=9000, days=1.0, seed=4)
    whole = Simulation(sc, shards=1)
    while whole.t < whole.n_ticks:
        whole.step()
    sim = Simulation(sc, shards=3)
    while sim.t < sim.n_ticks // 2:
        sim.step()
    ckpt = save_checkpoint(sim, tmp_path / "half.ckpt")
    # a file per shard, holding its users' rows, and one of what the shards share
    manifest = read_header(ckpt)
    assert manifest["shards"] == 3
    assert [f["name"] for f in manifest["files"]] == [
        "shared.1.ckpt", "shard-0.1.ckpt", "shard-1.1.ckpt", "shard-2.1.ckpt",
    ]  # fmt: skip
    users = [read_piece(ckpt / f["name"], f["sha256"])["users"] for f in manifest["files"][1:]]
    assert users == [[0, 4096], [4096, 8192], [8192, 9000]]
    assert load_checkpoint(ckpt, sc).shards == 3  # as saved
    for shards in (1, 2, 3):
        resumed = load_checkpoint(ckpt, sc, shards=shards)
        assert resumed.shards == shards
        assert int(resumed.view_cal.meta[:, 1].sum()) > 0  # views waiting, moved
        while resumed.t < resumed.n_ticks:
            resumed.step()
        assert _summary(resumed.result()) == _summary(whole.result())
        assert resumed.result().timeseries.equals(whole.result().timeseries)


def test_the_command_line_refuses_more_shards_than_the_run_has_parts() -> None:
    from click.testing import CliRunner

    from tightrope.cli import main

    args = ["run", "laissez-faire", "--users", "5000", "--days", "0.1", "--shards", "3"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert (
        "error: shards must be between 1 and 2 for 5,000 users (a shard owns whole parts of "
        "4,096 users); got 3"
    ) in res.output


@pytest.mark.slow
def test_1_8_and_64_shards_give_the_same_run() -> None:
    """Issue 22's equivalence of 1 against 8 and 64 shards, at the smallest population
    that has 64 shards (one viewer part each): the shards change no draw, so the runs are
    the same to the bit, their distributions (cascade sizes, minutes to removal and to an
    answer) and every tick's series included."""
    sc = tightrope.load_scenario("china-comprehensive-2021", users=64 * 4096, days=0.25, seed=11)
    runs = {shards: tightrope.run(sc, shards=shards) for shards in (1, 8, 64)}
    base = runs[1]
    assert base.summary["views"] > 200_000
    for shards in (8, 64):
        r = runs[shards]
        assert _summary(r) == _summary(base)
        assert r.timeseries.equals(base.timeseries)
        assert r.cascades.equals(base.cascades)
        assert r.histograms.equals(base.histograms)


def test_engagement_added_on_several_threads_is_the_same_to_the_bit() -> None:
    """The minute's engagement pass routes views to ranges of post slots, one a thread;
    each post's additions must come in the views' order, so that the float32 sums are the
    ones one thread makes."""
    from tightrope.model.diffusion import (
        COUNTED,
        ENGAGEMENT_SERIAL_VIEWS,
        RESHARED,
        add_engagement,
    )

    rng = np.random.default_rng(9)
    n, size = ENGAGEMENT_SERIAL_VIEWS + 1000, 1 << 14  # many views of each post
    buf_post = rng.integers(0, 1 << 40, n).astype(np.int64)
    outcome = rng.choice(
        np.array([0, COUNTED, COUNTED | RESHARED], dtype=np.uint8), n, p=[0.1, 0.8, 0.1]
    )
    start = rng.uniform(1e7, 4e7, size).astype(np.float32)  # large: rounding shows the order
    sums = {}
    for threads in (1, 2, 3, 8):
        engagement = start.copy()
        add_engagement(n, buf_post, outcome, engagement, 1.0, 2.5, threads)
        sums[threads] = engagement
    assert not np.array_equal(sums[1], start)
    for threads in (2, 3, 8):
        assert np.array_equal(sums[threads], sums[1])


def test_shards_read_in_parallel_give_what_they_give_one_after_another() -> None:
    """Large calendars are counted and copied out by all shards at once (`count_views`,
    `fill_shards`), small ones shard after shard: the views come out the same, in the
    same places, and the same blocks go back to the same free lists."""
    from tightrope.core.world import ShardedCalendar
    from tightrope.model.diffusion import count_shard, count_views, fill_shard, fill_shards

    sim = Simulation(tightrope.load_scenario("eu-dsa", users=9000, days=1, seed=2), shards=3)
    for _ in range(3):
        sim.step()
    parts = sim.view_meta.size
    m0 = sim.t * sim.scenario.run.tick_minutes
    seen = 0
    for m in range(m0, m0 + 90):
        s = m % HORIZON_MINUTES
        both = [ShardedCalendar(*(a.copy() for a in sim.view_cal)) for _ in range(2)]
        starts = [np.zeros(parts + 1, dtype=np.int64) for _ in range(2)]
        count_views(s, both[0], starts[0])
        for r in range(3):
            count_shard(r, s, both[1], starts[1])
        assert np.array_equal(starts[0], starts[1])
        start = np.cumsum(starts[0])
        n = int(start[-1])
        seen += n
        bufs = [(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int32)) for _ in range(2)]
        fill_shards(s, both[0], start[:-1].copy(), *bufs[0])
        for r in range(3):
            fill_shard(r, s, both[1], start[:-1].copy(), *bufs[1])
        assert np.array_equal(bufs[0][0], bufs[1][0])
        assert np.array_equal(bufs[0][1], bufs[1][1])
        for a, b in zip(both[0], both[1], strict=True):
            assert np.array_equal(a, b)
    assert seen > 300
