"""Same scenario and seed: the same results, to the bit, however the run is split."""

from __future__ import annotations

import functools
import math

import tightrope

PRESET = "china-weibo-2013"


@functools.cache
def scenario(seed: int = 5, overrides: tuple[str, ...] = ()):
    return tightrope.load_scenario(PRESET, list(overrides), users=2500, days=2, seed=seed)


@functools.cache
def result(seed: int = 5):
    return tightrope.run(scenario(seed))


def same_value(a, b) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        fa, fb = float(a), float(b)
        return (math.isnan(fa) and math.isnan(fb)) or fa == fb
    return a == b


def assert_same_summary(s1: dict, s2: dict) -> None:
    assert s1.keys() == s2.keys()
    diff = {k: (s1[k], s2[k]) for k in s1 if not same_value(s1[k], s2[k])}
    assert not diff, diff


def test_same_seed_same_results():
    a = result()
    b = tightrope.run(scenario())
    assert_same_summary(a.summary, b.summary)
    assert a.timeseries.equals(b.timeseries)
    assert a.platforms.equals(b.platforms)
    assert a.histograms.equals(b.histograms)
    assert a.categories.equals(b.categories)
    assert a.cascades.equals(b.cascades)
    for name in ("platform_days", "regions", "cohorts"):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert a.meta["post_states"] == b.meta["post_states"]


def test_different_seed_different_results():
    a, b = result(5), result(6)
    diff = [k for k in a.summary if not same_value(a.summary[k], b.summary[k])]
    assert diff, "seeds 5 and 6 gave the same summary"
    assert not a.timeseries.equals(b.timeseries)


def test_stepping_in_chunks_equals_run():
    ref = result()
    sim = tightrope.Simulation(scenario())
    chunks = (1, 7, 13, sim.n_ticks)  # uneven chunks, the last one runs to the end
    for size in chunks:
        for _ in range(min(size, sim.n_ticks - sim.t)):
            sim.step()
    assert sim.t == sim.n_ticks
    res = sim.result()
    assert_same_summary(ref.summary, res.summary)
    assert ref.timeseries.equals(res.timeseries)
    assert ref.platforms.equals(res.platforms)
    assert ref.histograms.equals(res.histograms)


def test_config_hash_tracks_settings():
    a = scenario()
    again = tightrope.load_scenario(PRESET, users=2500, days=2, seed=5)
    changed = scenario(5, ("state.rulebook.precision=0.3",))
    assert tightrope.config_sha256(a) == tightrope.config_sha256(again)
    assert tightrope.config_sha256(a) != tightrope.config_sha256(changed)
    assert result().config_sha256 == tightrope.config_sha256(a)
    assert tightrope.config_sha256(a) != tightrope.config_sha256(scenario(6))


def test_same_results_whatever_the_thread_count(monkeypatch):
    """The feed and the intents are drawn in parallel over fixed blocks of users
    (FEED_BLOCK_USERS, INTENT_BLOCK_USERS), the audiences of posts and reshares one stream
    per share, the minute loop's views over fixed parts of viewers (VIEWER_PART_USERS), the
    population statistics over fixed blocks summed in order, and engagement is added by
    ranges of post slots, one per thread: one thread or several, the run is the same to the
    bit. Enough users for several blocks and parts, so they really are split between
    threads."""
    import numba
    import pytest

    from tightrope.model.diffusion import viewer_parts
    from tightrope.model.feed import FEED_BLOCK_USERS
    from tightrope.model.posting import intent_blocks

    most = numba.config.NUMBA_NUM_THREADS
    if most < 2:
        pytest.skip("this machine runs Numba on one thread only")
    sc = tightrope.load_scenario(PRESET, users=3 * FEED_BLOCK_USERS + 17, days=1, seed=8)
    assert viewer_parts(sc.run.users) == 4
    assert intent_blocks(sc.run.users) == 4
    monkeypatch.setenv("TIGHTROPE_THREADS", "fixed")  # these threads, whatever the load
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = tightrope.run(sc)
        numba.set_num_threads(min(most, 4))
        many = tightrope.run(sc)
    finally:
        numba.set_num_threads(before)
    assert_same_summary(one.summary, many.summary)
    assert one.timeseries.equals(many.timeseries)
    assert one.summary["views"] > 0


def test_threads_paced_between_ticks_give_the_same_results(monkeypatch):
    """The thread policy (`tightrope.engine.threads`) changes Numba's thread count between ticks
    when other processes take cores or free them. A run whose count goes 2, 1, 2, 1, ...
    from one tick to the next is the same to the bit as a run on one thread throughout,
    and the caller's thread count is back afterwards."""
    import itertools

    import numba
    import pytest

    from tightrope.engine import threads
    from tightrope.model.feed import FEED_BLOCK_USERS

    most = numba.config.NUMBA_NUM_THREADS
    if most < 2:
        pytest.skip("this machine runs Numba on one thread only")
    sc = tightrope.load_scenario(PRESET, users=2 * FEED_BLOCK_USERS + 11, days=1, seed=9)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = tightrope.run(sc)
        numba.set_num_threads(2)
        monkeypatch.delenv("TIGHTROPE_THREADS", raising=False)
        flip = itertools.cycle((2, 1))
        monkeypatch.setattr(threads.Pacer, "threads", lambda self: next(flip))
        used = []
        paced = tightrope.run(sc, progress=lambda done, total: used.append(numba.get_num_threads()))
        assert numba.get_num_threads() == 2  # the caller's count, back
    finally:
        numba.set_num_threads(before)
    assert set(used[:-1]) == {1, 2}
    assert_same_summary(one.summary, paced.summary)
    assert one.timeseries.equals(paced.timeseries)
    assert one.platforms.equals(paced.platforms)
    assert one.histograms.equals(paced.histograms)
    assert one.categories.equals(paced.categories)  # per-part counters: thread-independent
    assert one.cascades.equals(paced.cascades)
    for name in ("platform_days", "regions", "cohorts"):  # sequential counts, per user
        assert getattr(one, name).equals(getattr(paced, name)), name


def test_thread_policy_takes_the_free_cores(monkeypatch):
    """`auto` uses the cores that other processes leave free (at least one, at most the
    caller's threads and the usable cores); `fixed` leaves the threads alone; anything
    else is refused."""
    import numba
    import pytest

    from tightrope.engine import threads
    from tightrope.errors import InputError

    assert threads.free_threads(0, most=4, cores=8, total_cores=8) == 4
    assert threads.free_threads(6, most=4, cores=8, total_cores=8) == 2
    assert threads.free_threads(20, most=4, cores=8, total_cores=8) == 1  # never none
    assert threads.free_threads(0, most=4, cores=2, total_cores=8) == 2  # affinity, quota
    assert threads.free_threads(None, most=4, cores=8, total_cores=8) == 4
    most = numba.config.NUMBA_NUM_THREADS
    before = numba.get_num_threads()
    monkeypatch.delenv("TIGHTROPE_THREADS", raising=False)
    monkeypatch.setattr(threads, "others_runnable", lambda: most + 5)  # every core taken
    try:
        numba.set_num_threads(most)
        pacer = threads.pace(None)
        if most > 1:
            assert isinstance(pacer, threads.Pacer)
            assert numba.get_num_threads() == 1
            pacer(1, 2)
            assert numba.get_num_threads() == 1
            pacer(2, 2)  # the last tick: the caller's count back
        assert numba.get_num_threads() == most
    finally:
        numba.set_num_threads(before)
    monkeypatch.setenv("TIGHTROPE_THREADS", "fixed")
    assert threads.pace(None) is None
    monkeypatch.setenv("TIGHTROPE_THREADS", "many")
    with pytest.raises(InputError, match="TIGHTROPE_THREADS"):
        threads.pace(None)


def test_population_statistics_are_the_same_whatever_the_thread_count():
    """The population statistics are summed over fixed blocks of users in parallel, then
    over the blocks in order: the same sums to the bit on one thread or several, and the
    same, up to rounding, as plain sums over all users."""
    import numba
    import numpy as np
    import pytest

    from tightrope.engine.simulation import Simulation
    from tightrope.model.metrics import STATS_BLOCK_USERS, population_stats

    most = numba.config.NUMBA_NUM_THREADS
    if most < 2:
        pytest.skip("this machine runs Numba on one thread only")
    sc = tightrope.load_scenario(PRESET, users=3 * STATS_BLOCK_USERS + 5, days=1, seed=3)
    sim = Simulation(sc)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, one_p = population_stats(sim.people, sim.consts, sim.rules, 0)
        numba.set_num_threads(min(most, 4))
        many, many_p = population_stats(sim.people, sim.consts, sim.rules, 0)
    finally:
        numba.set_num_threads(before)
    assert one.tobytes() == many.tobytes()
    assert one_p.tobytes() == many_p.tobytes()
    assert one[0] == pytest.approx(float(np.sum(sim.people.fear, dtype=np.float64)), rel=1e-12)
    assert one[3] == float(sim.people.vpn.sum())


def test_feed_blocks_that_outgrow_their_room_draw_the_same(monkeypatch):
    """Each block of users draws its feed slots into a room sized from the expected number;
    a block that needs more makes every block draw again with more room, from the same
    streams. With a room of 5 slots every block outgrows it every tick, and the run is the
    same to the bit."""
    from tightrope.model import feed

    sc = tightrope.load_scenario(PRESET, users=2 * feed.FEED_BLOCK_USERS + 5, days=1, seed=4)
    roomy = tightrope.run(sc)
    monkeypatch.setattr(feed, "block_room", lambda rate: 5)
    cramped = tightrope.run(sc)
    assert_same_summary(roomy.summary, cramped.summary)
    assert roomy.timeseries.equals(cramped.timeseries)
    assert roomy.summary["views"] > 0
