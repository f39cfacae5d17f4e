"""The peer for Tightrope's cascade kernel: NDlib's IndependentCascadesModel.

Written as NDlib's documentation shows it (ndlib 6.0.1): a networkx DiGraph, a
`ModelConfig.Configuration` with the initially infected nodes
(`add_model_initial_configuration("Infected", seeds)`) and an edge "threshold" for every
edge, `model.set_initial_status(config)`, then `model.iteration()` until no node is
"Infected"; `model.reset(seeds)` between runs, with `node_status=False` so that NDlib does
not copy the status of every node on each step.

What NDlib computes (read from ndlib/models/epidemics/IndependentCascadesModel.py, 6.0.1):
each iteration, every node that was Infected at the start of the iteration looks at its
successors (in a DiGraph, `neighbors` are successors); for each one still Susceptible it draws
`np.random.random_sample()` and infects it when the draw is <= the edge's threshold; the node
then becomes Removed. So the threshold is the activation probability, each newly infected
node tries each inactive out-neighbour exactly once, and the cascade ends when an iteration
infects no one: Kempe et al.'s independent cascade, the rule `tightrope.peers.cascades` implements
(which succeeds on draw < p instead of <= p, a difference of 2**-53 per draw). The final size
is the number of Removed nodes. Two caveats of NDlib's API: per-edge thresholds are used only
if every edge has one (otherwise each node uses 1 / out-degree), and NDlib draws from NumPy's
global generator, seeded here through the model constructor's `seed` (NDlib's own way).

The graph: edge u -> v when v follows u (v sees u's posts), from Tightrope's CSR
`followers_ptr`/`followers_idx`, so both tools run on the same graph.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import ndlib.models.ModelConfig as mc  # noqa: N813 (NDlib's documented spelling)
import networkx as nx
import numpy as np
from ndlib.models.epidemics import IndependentCascadesModel


def to_networkx(ptr: np.ndarray, idx: np.ndarray) -> nx.DiGraph:
    """The follower graph as a networkx DiGraph: nodes 0..n-1, edge u -> v for each
    follower v of u."""
    n = ptr.size - 1
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    src = np.repeat(np.arange(n), np.diff(ptr))
    g.add_edges_from(zip(src.tolist(), idx.tolist(), strict=True))
    return g


def configured_model(
    g: nx.DiGraph, p: float, seeds: Sequence[int], seed: int
) -> IndependentCascadesModel:
    """An IndependentCascadesModel on `g` with threshold p on every edge and `seeds`
    infected, NDlib's global generator seeded with `seed`."""
    model = IndependentCascadesModel(g, seed=seed)
    config = mc.Configuration()
    config.add_model_initial_configuration("Infected", list(seeds))
    for e in g.edges():
        config.add_edge_configuration("threshold", e, p)
    model.set_initial_status(config)
    return model


def run_to_completion(model: IndependentCascadesModel) -> int:
    """Iterate until no node is Infected; the final cascade size (Removed nodes)."""
    while True:
        it = model.iteration(node_status=False)
        counts = it["node_count"]
        if counts[1] == 0:
            return int(counts[2])


def cascades(
    g: nx.DiGraph, p: float, seeds: Sequence[int], runs: int, seed: int
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """`runs` cascades from `seeds` with activation probability p.

    Returns (final sizes, set-up seconds, wall seconds of each run, CPU seconds of each run);
    set-up is the model and its configuration (one entry per edge), done once and not counted
    in the per-run times."""
    start = time.perf_counter()
    model = configured_model(g, p, seeds, seed)
    setup = time.perf_counter() - start
    sizes = np.zeros(runs, dtype=np.int64)
    wall = np.zeros(runs)
    cpu = np.zeros(runs)
    for r in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        if r:
            model.reset(list(seeds))
        sizes[r] = run_to_completion(model)
        wall[r] = time.perf_counter() - t0
        cpu[r] = time.process_time() - c0
    return sizes, setup, wall, cpu
