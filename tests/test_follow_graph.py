"""The structured follower graph (`model/follow_graph.py`) and its statistics
(`results/network_stats.py`): determinism, invariants, target bands, exact small cases.

The target bands are those of docs/network-targets.md: wide enough for one seed's noise at
10k users, narrow enough that losing a mechanism (reciprocity, closure, the heavy tails,
the head of the popularity weights) fails them.
"""

from __future__ import annotations

import json

import numba
import numpy as np
import pytest

from helpers import graph_from_follows
from tightrope.model.follow_graph import FollowGraph, GraphSettings, generate
from tightrope.results.network_stats import network_stats, tail_exponent
from tightrope.scenario.files import load_scenario


def _arrays(fg: FollowGraph) -> list[np.ndarray]:
    g = fg.graph
    return [
        g.followers_ptr,
        g.followers_idx,
        g.circle_ptr,
        g.circle_members,
        g.circle_of,
        fg.region,
        fg.community,
        fg.community_ptr,
    ]


def _same(a: FollowGraph, b: FollowGraph) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(b), strict=True))


@pytest.fixture(scope="module")
def g10k() -> FollowGraph:
    return generate(10_000, 7)


@pytest.fixture(scope="module")
def stats10k(g10k: FollowGraph) -> dict:
    return network_stats(g10k.graph, g10k.region, g10k.community)


# (a) seeds ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_graph_and_another_seed_another():
    a = generate(3_000, 11)
    b = generate(3_000, 11)
    c = generate(3_000, 12)
    assert _same(a, b)
    assert not np.array_equal(a.graph.followers_idx[:1000], c.graph.followers_idx[:1000])


# (b) threads --------------------------------------------------------------------------


def test_the_graph_does_not_depend_on_the_number_of_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two Numba threads")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = generate(6_000, 3, GraphSettings(region_shares=(0.6, 0.4)))
        numba.set_num_threads(2)
        two = generate(6_000, 3, GraphSettings(region_shares=(0.6, 0.4)))
    finally:
        numba.set_num_threads(before)
    assert _same(one, two)


def test_the_statistics_do_not_depend_on_the_number_of_threads(g10k: FollowGraph):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two Numba threads")
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = network_stats(g10k.graph, sample=2_000, wedges=20_000)
        numba.set_num_threads(2)
        two = network_stats(g10k.graph, sample=2_000, wedges=20_000)
    finally:
        numba.set_num_threads(before)
    assert one == two


# (c) target bands at 10k ----------------------------------------------------------------


def test_out_degree_has_the_mean_set_and_a_heavy_tail(stats10k: dict):
    out = stats10k["out_degree"]
    assert out["mean"] == pytest.approx(40.0, abs=1.0)
    assert out["p99"] / out["mean"] > 5.0  # a Poisson(40) would give about 1.4
    assert out["max"] > 15 * out["mean"]
    assert out["p50"] < out["mean"]
    assert 2.3 < stats10k["out_degree_tail"]["alpha"] < 4.5


def test_in_degree_is_heavy_tailed_with_the_exponent_set(stats10k: dict):
    ind = stats10k["in_degree"]
    assert ind["max"] > 20 * ind["mean"]
    assert ind["p50"] < ind["mean"]
    assert 2.0 < stats10k["in_degree_tail"]["alpha"] < 2.9  # set: 2.2


def test_reciprocity_and_clustering_hit_their_bands(stats10k: dict):
    assert 0.17 < stats10k["reciprocity"] < 0.30  # set: 0.22
    assert 0.06 < stats10k["average_clustering"] < 0.20
    assert not stats10k["clustering_sampled"]


def test_a_few_accounts_reach_a_tenth_of_users_and_none_most(stats10k: dict):
    assert 1 <= stats10k["accounts_followed_by_over_10pct"] <= 8  # set: 3 expected
    assert stats10k["max_follower_share"] < 0.25


def test_popular_accounts_return_follows_less_often(g10k: FollowGraph):
    ptr, idx = g10k.graph.followers_ptr, g10k.graph.followers_idx
    n = g10k.graph.n
    indeg = np.diff(ptr)
    src = idx.astype(np.int64)
    dst = np.repeat(np.arange(n), indeg)
    key = src * n + dst
    rev = np.isin(dst * n + src, key)
    top = indeg[dst] >= np.quantile(indeg, 0.99)
    assert rev[top].mean() < 0.5 * rev[~top].mean()


def test_follows_stay_in_the_community_and_the_region_more_than_by_chance():
    s = GraphSettings(region_shares=(0.5, 0.3, 0.2))
    fg = generate(10_000, 5, s)
    ptr, idx = fg.graph.followers_ptr, fg.graph.followers_idx
    dst = np.repeat(np.arange(fg.graph.n), np.diff(ptr))
    same_c = (fg.community[idx] == fg.community[dst]).mean()
    same_r = (fg.region[idx] == fg.region[dst]).mean()
    assert same_c > 0.1  # by chance under 0.01 (sum of squared community shares)
    assert same_r > 0.5 + 0.1  # by chance 0.5^2 + 0.3^2 + 0.2^2 = 0.38
    assert np.bincount(fg.region).tolist() == [5000, 3000, 2000]
    # communities are nested in regions: one region each
    for c in range(fg.community_ptr.size - 1):
        lo, hi = fg.community_ptr[c], fg.community_ptr[c + 1]
        assert fg.region[lo] == fg.region[hi - 1]


def test_a_boost_raises_an_accounts_audience():
    n = 5_000
    boost = np.ones(n)
    boost[:50] = 20.0
    fg = generate(n, 2, popularity_boost=boost)
    indeg = np.diff(fg.graph.followers_ptr)
    assert indeg[:50].mean() > 3 * indeg[50:].mean()


# (d) 100k --------------------------------------------------------------------------------


def test_the_bands_hold_at_100k_users():
    """About 2 s once compiled, so not marked slow."""
    fg = generate(100_000, 1)
    st = network_stats(fg.graph, fg.region, fg.community)
    assert st["out_degree"]["mean"] == pytest.approx(40.0, abs=1.0)
    assert 0.17 < st["reciprocity"] < 0.30
    assert 0.06 < st["average_clustering"] < 0.20
    assert 1 <= st["accounts_followed_by_over_10pct"] <= 8
    assert 2.0 < st["in_degree_tail"]["alpha"] < 2.7
    assert st["out_degree"]["p99"] / st["out_degree"]["mean"] > 5.0
    json.dumps(st)


# (e) exact statistics on hand-built graphs ----------------------------------------------------


def test_a_two_cycle_is_fully_reciprocal():
    st = network_stats(graph_from_follows(2, [(0, 1), (1, 0)]))
    assert st["reciprocity"] == 1.0
    assert st["edges"] == 2
    assert st["average_clustering"] == 0.0  # fewer than two ties


def test_a_triangle_has_clustering_one_and_a_star_zero():
    tri = network_stats(graph_from_follows(3, [(0, 1), (1, 2), (2, 0)]))
    assert tri["average_clustering"] == 1.0
    assert tri["transitivity_estimate"] == 1.0
    assert tri["reciprocity"] == 0.0
    star = network_stats(graph_from_follows(5, [(i, 0) for i in range(1, 5)]))
    assert star["average_clustering"] == 0.0
    assert star["transitivity_estimate"] == 0.0
    # a triangle with a pendant: node 0 has ties 1, 2, 3 and one link among them
    tp = network_stats(graph_from_follows(4, [(0, 1), (1, 2), (2, 0), (3, 0)]))
    assert tp["average_clustering"] == pytest.approx((1 / 3 + 1 + 1 + 0) / 4)


def test_degree_percentiles_and_top_shares_are_exact():
    # account 0 followed by 1..9, account 1 by 2: in-degrees 9, 1, 0, ...
    edges = [(i, 0) for i in range(1, 10)] + [(2, 1)]
    st = network_stats(graph_from_follows(10, edges))
    assert st["in_degree"]["max"] == 9
    assert st["in_degree"]["mean"] == 1.0
    assert st["in_degree"]["p50"] == 0.0
    assert st["out_degree"]["max"] == 2
    assert st["out_degree"]["p50"] == 1.0
    assert st["max_follower_share"] == 0.9
    assert st["accounts_followed_by_over_10pct"] == 1
    assert st["top_1pct_follow_share"] == 0.9  # one account (1% of 10, rounded up to 1)
    json.dumps(st)


def test_the_tail_exponent_of_a_pure_power_law_is_recovered():
    rng = np.random.default_rng(0)
    x = np.floor((rng.pareto(1.5, 200_000) + 1.0) * 10).astype(np.int64)  # alpha = 2.5
    fit = tail_exponent(x)
    assert fit["alpha"] == pytest.approx(2.5, abs=0.1)


# (f) invariants -----------------------------------------------------------------------------


def test_rows_are_sorted_unique_without_self_follows_and_ids_in_range(g10k: FollowGraph):
    g = g10k.graph
    ptr, idx = g.followers_ptr, g.followers_idx
    assert ptr.dtype == np.int64
    assert idx.dtype == np.int32
    assert ptr[0] == 0
    assert ptr[-1] == idx.size
    assert np.all(np.diff(ptr) >= 0)
    assert idx.min() >= 0
    assert idx.max() < g.n
    dst = np.repeat(np.arange(g.n), np.diff(ptr))
    assert not np.any(idx == dst)
    inner = np.diff(idx.astype(np.int64))
    row_start = np.zeros(idx.size, dtype=bool)
    row_start[ptr[:-1][np.diff(ptr) > 0]] = True
    assert np.all(inner[~row_start[1:]] > 0)  # strictly increasing inside each row


def test_circles_partition_the_users_inside_communities(g10k: FollowGraph):
    g = g10k.graph
    assert np.array_equal(np.sort(g.circle_members), np.arange(g.n))
    sizes = np.diff(g.circle_ptr)
    assert sizes.min() >= 1
    assert sizes.sum() == g.n
    assert np.all(g.circle_of[g.circle_members] == np.repeat(np.arange(sizes.size), sizes))
    com = g10k.community[g.circle_members]
    first = np.repeat(com[g.circle_ptr[:-1]], sizes)
    assert np.array_equal(com, first)  # one community per circle
    assert 6 <= np.median(sizes) <= 12  # about circle_size (8)


def test_circles_prefer_mutual_follows(g10k: FollowGraph):
    g = g10k.graph
    ptr, idx = g.followers_ptr, g.followers_idx
    n = g.n
    dst = np.repeat(np.arange(n), np.diff(ptr)).astype(np.int64)
    key = idx.astype(np.int64) * n + dst
    mutual = np.isin(dst * n + idx, key)
    same_circle = g.circle_of[idx] == g.circle_of[dst]
    same_comm = g10k.community[idx] == g10k.community[dst]
    # mutual ties in the same community land in the same circle far more than others do
    assert same_circle[mutual & same_comm].mean() > 2 * same_circle[~mutual & same_comm].mean()


def test_a_large_run_computes_the_network_statistics_at_set_up(monkeypatch) -> None:
    """From EAGER_NETWORK_STATS_USERS users the statistics exist once the run is built
    (before its arrays, so that their graphs do not add to the run's peak memory), and are
    the ones a smaller run computes when asked; below it they wait until asked for."""
    from tightrope.engine import simulation

    sc = load_scenario("eu-dsa", users=3000, days=1, seed=5)
    lazy = simulation.Simulation(sc)
    assert lazy._network is None
    monkeypatch.setattr(simulation, "EAGER_NETWORK_STATS_USERS", 3000)
    eager = simulation.Simulation(sc)
    assert eager._network is not None
    assert json.dumps(eager._network, sort_keys=True, default=float) == json.dumps(
        lazy.network, sort_keys=True, default=float
    )
