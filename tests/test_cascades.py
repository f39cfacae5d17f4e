"""The cascade kernel: reachability at p = 1, seeds only at p = 0, the exact distribution on a
tiny graph, determinism, thread-count invariance, bad input."""

from __future__ import annotations

import itertools
from collections import deque

import numba
import numpy as np
import pytest
from scipy import stats

import tightrope
from tightrope.errors import InputError
from tightrope.peers.cascades import (
    SKIP_BELOW,
    follower_graph,
    independent_cascades,
    run_states,
)


def csr(n: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """CSR of out-neighbours (u -> v: v follows u), rows in edge order."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for u, _ in edges:
        ptr[u + 1] += 1
    ptr = np.cumsum(ptr)
    idx = np.empty(len(edges), dtype=np.int32)
    fill = ptr[:-1].copy()
    for u, v in edges:
        idx[fill[u]] = v
        fill[u] += 1
    return ptr, idx


def reachable(ptr, idx, seeds, live=None) -> int:
    """Nodes reachable from `seeds` (breadth-first, in Python), over live edges only."""
    seen = {int(s) for s in seeds}
    todo = deque(seen)
    while todo:
        u = todo.popleft()
        for e in range(ptr[u], ptr[u + 1]):
            if live is not None and not live[e]:
                continue
            v = int(idx[e])
            if v not in seen:
                seen.add(v)
                todo.append(v)
    return len(seen)


@pytest.fixture(scope="module")
def graph():
    return follower_graph(400, 3)


def test_follower_graph_is_the_models_graph():
    sc = tightrope.load_scenario("laissez-faire", users=300, days=1, seed=5)
    model = tightrope.Simulation(sc).graph
    g = follower_graph(300, 5)
    assert np.array_equal(g.followers_ptr, model.followers_ptr)
    assert np.array_equal(g.followers_idx, model.followers_idx)


def test_p_one_reaches_exactly_the_reachable_set(graph):
    rng = np.random.default_rng(0)
    # a sparse random graph (parallel edges and all), where reach differs from seed to seed,
    # and the model's graph, where a few seeds reach nearly everyone
    n = 300
    edges = [(int(u), int(v)) for u, v in rng.integers(0, n, size=(330, 2)) if u != v]
    for ptr, idx, k in [(*csr(n, edges), 1), (graph.followers_ptr, graph.followers_idx, 2)]:
        seeds = rng.integers(0, ptr.size - 1, size=(40, k))
        expected = [reachable(ptr, idx, row) for row in seeds]
        assert independent_cascades(ptr, idx, 1.0, seeds, 7).tolist() == expected
        ones = np.ones(idx.size, dtype=np.float32)
        assert independent_cascades(ptr, idx, ones, seeds, 7).tolist() == expected
        if k == 1:
            assert len(set(expected)) > 10


def test_p_zero_gives_the_distinct_seeds(graph):
    ptr, idx = graph.followers_ptr, graph.followers_idx
    seeds = np.array([[1, 2, 3], [4, 4, 4], [5, 6, 5]])
    assert independent_cascades(ptr, idx, 0.0, seeds, 1).tolist() == [3, 1, 2]
    zeros = np.zeros(idx.size, dtype=np.float32)
    out = independent_cascades(ptr, idx, zeros, seeds, 1, details=True)
    assert out.sizes.tolist() == [3, 1, 2]
    assert out.depth.tolist() == [0, 0, 0]


TINY_EDGES = [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 1), (2, 5), (5, 0), (3, 5)]


def exact_sizes(ptr, idx, seeds, probs) -> np.ndarray:
    """P(final size = s), enumerating which edges are live (Kempe et al.: the final active
    set of an independent cascade is the set reachable over independently live edges)."""
    n = ptr.size - 1
    dist = np.zeros(n + 1)
    for live in itertools.product((False, True), repeat=idx.size):
        w = np.prod([p if x else 1 - p for p, x in zip(probs, live, strict=True)])
        dist[reachable(ptr, idx, seeds, live)] += w
    return dist


@pytest.mark.parametrize(
    "prob",
    [0.35, 0.06, "per-edge"],
    ids=["one-draw-per-edge", "skip-to-success", "per-edge-array"],
)
def test_size_distribution_matches_enumeration(prob):
    ptr, idx = csr(6, TINY_EDGES)
    seeds = [0]
    if prob == "per-edge":
        p = np.linspace(0.1, 0.9, idx.size).astype(np.float32)
        probs = p.astype(float)
    else:
        assert (prob < SKIP_BELOW) == (prob == 0.06)  # both scalar code paths are tested
        p = prob
        probs = np.full(idx.size, prob)
    exact = exact_sizes(ptr, idx, seeds, probs)
    runs = 200_000
    sizes = independent_cascades(ptr, idx, p, np.zeros((runs, 1), dtype=np.int32), 11)
    observed = np.bincount(sizes, minlength=exact.size)
    expected = exact * runs
    keep = expected >= 5  # chi-square needs no tiny cells: pool them
    obs = np.append(observed[keep], observed[~keep].sum())
    exp = np.append(expected[keep], expected[~keep].sum())
    if exp[-1] == 0:
        assert obs[-1] == 0
        obs, exp = obs[:-1], exp[:-1]
    assert stats.chisquare(obs, exp).pvalue > 1e-4
    assert np.abs(observed / runs - exact).max() < 0.005


def test_retrying_would_be_detected():
    """The enumeration test can fail: a cascade in which active nodes keep trying (an SI
    process) has a different size distribution."""
    ptr, idx = csr(6, TINY_EDGES)
    exact = exact_sizes(ptr, idx, [0], np.full(idx.size, 0.35))
    retry = exact_sizes(ptr, idx, [0], np.full(idx.size, 1 - 0.65**2))  # two tries per edge
    assert np.abs(retry - exact).max() > 0.05


def test_same_seed_same_result_and_runs_are_independent_of_the_batch(graph):
    ptr, idx = graph.followers_ptr, graph.followers_idx
    seeds = np.tile([0, 1, 2], (300, 1))
    a = independent_cascades(ptr, idx, 0.1, seeds, 42)
    b = independent_cascades(ptr, idx, 0.1, seeds, 42)
    c = independent_cascades(ptr, idx, 0.1, seeds, 43)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert len(set(a.tolist())) > 10  # the runs differ from each other
    # run r depends on (seed, r) only, not on how many runs are made with it
    head = independent_cascades(ptr, idx, 0.1, seeds[:17], 42)
    assert np.array_equal(head, a[:17])
    assert np.array_equal(run_states(42, 5), run_states(42, 9)[:5])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
@pytest.mark.parametrize("prob", [0.04, 0.3, "per-edge"])
def test_thread_count_does_not_change_the_result(graph, prob):
    ptr, idx = graph.followers_ptr, graph.followers_idx
    if prob == "per-edge":
        prob = np.random.default_rng(2).uniform(0, 0.6, idx.size).astype(np.float32)
    seeds = np.random.default_rng(1).integers(0, graph.n, size=(501, 2))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = independent_cascades(ptr, idx, prob, seeds, 9, details=True)
        numba.set_num_threads(2)
        two = independent_cascades(ptr, idx, prob, seeds, 9, details=True)
    finally:
        numba.set_num_threads(before)
    assert one.sizes.max() > 3  # something spread
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(a, b)


def test_details_count_depth_and_edges():
    # a chain 0 -> 1 -> 2 -> 3 with p = 1: depth 3; every active node covers its edges
    ptr, idx = csr(4, [(0, 1), (1, 2), (2, 3)])
    out = independent_cascades(ptr, idx, 1.0, [[0]], 0, details=True)
    assert out.sizes.tolist() == [4]
    assert out.depth.tolist() == [3]
    assert out.edges.tolist() == [3]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prob": 1.5}, "prob must be in [0, 1]"),
        ({"prob": np.ones(2, np.float32)}, "one value per edge"),
        ({"prob": np.array([0.5, 2.0, 0.5], np.float32)}, "per-edge prob must all be in [0, 1]"),
        ({"seeds_per_run": [[0, 9]]}, "seeds_per_run has ids outside 0..3"),
        ({"seeds_per_run": [[0.5]]}, "seeds_per_run must be an integer array"),
        ({"rng_seed": -1}, "rng_seed must be a non-negative integer"),
        ({"ptr": np.array([0, 1, 2, 2])}, "ptr must start at 0"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    ptr, idx = csr(4, [(0, 1), (1, 2), (2, 3)])
    args = {"ptr": ptr, "idx": idx, "prob": 0.5, "seeds_per_run": [[0]], "rng_seed": 0}
    args.update(kwargs)
    with pytest.raises(InputError) as err:
        independent_cascades(**args)
    assert message in str(err.value)
