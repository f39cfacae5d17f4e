"""Plain helpers shared by the tests: a private copy of a named random stream, a binomial
bound, a count of True answers over many draws (the rule tests, tests/test_rules_*.py),
and follower graphs built by hand or read edge by edge."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

import tightrope
from tightrope.core.graph import Graph
from tightrope.core.rng import STREAM, make_streams

TinyWorld = Callable[..., tightrope.Simulation]
"""The type of the `tiny_world` fixture (tests/conftest.py): a factory of simulations."""

DRAWS = 20_000
"""Draws for a share test: five standard deviations are then at most 1.8 points."""


def stream(name: str = "chilling", seed: int = 7) -> np.ndarray:
    """A private copy of the named random stream of seed `seed` (the rules draw from it in
    place, so each test gets its own)."""
    return make_streams(seed)[STREAM[name]].copy()


def within_binomial(hits: int, n: int, p: float) -> bool:
    """hits out of n within five standard deviations of n x p."""
    return abs(hits - n * p) <= 5.0 * math.sqrt(n * p * (1.0 - p)) + 1e-9


def share_of(decide: Callable[[], bool], n: int = DRAWS) -> int:
    """How many of n calls of decide() are True."""
    return sum(1 for _ in range(n) if decide())


def assert_resumes_identically(sc, ticks: int, whole, tmp_path, before_saving=None) -> None:
    """Run `sc` for `ticks` ticks, call `before_saving(sim)` if given (a test's own checks
    of the state to be saved), write a checkpoint, resume it to the end, and check that the
    result's tables equal those of the uninterrupted run `whole`."""
    from tightrope import run
    from tightrope.engine import checkpoints
    from tightrope.engine.simulation import Simulation

    sim = Simulation(sc)
    for _ in range(ticks):
        sim.step()
    if before_saving is not None:
        before_saving(sim)
    ck = tmp_path / "run.ckpt"
    checkpoints.save_checkpoint(sim, ck)
    resumed = run(sc, checkpoint=ck, resume=True)
    for name in ("timeseries", "histograms", "categories", "cascades"):
        assert getattr(resumed, name).equals(getattr(whole, name)), name


def graph_from_follows(n: int, edges: list[tuple[int, int]]) -> Graph:
    """A Graph of n users from (follower, followee) pairs; one private circle of everyone."""
    rows: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        rows[b].append(a)
    ptr = np.zeros(n + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(r) for r in rows])
    idx = np.array([v for r in rows for v in sorted(r)], dtype=np.int32)
    members = np.arange(n, dtype=np.int32)
    return Graph(n, ptr, idx, np.array([0, n], np.int64), members, np.zeros(n, np.int32))


def follow_edges(graph: Graph) -> tuple[np.ndarray, np.ndarray]:
    """(followee, follower) of every follow, in the order of the follower rows."""
    followee = np.repeat(np.arange(graph.n), np.diff(graph.followers_ptr))
    return followee, graph.followers_idx.astype(np.int64)
