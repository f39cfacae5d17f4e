"""Tightrope's cascade kernel: many independent cascades over the follower graph.

This is the independent-cascade (IC) model of Kempe, Kleinberg and Tardos (2003): the seeds
are active at step 0; each node that became active at step t gets exactly one chance, at
step t + 1, to activate each of its out-neighbours that is still inactive, succeeding with
probability p (one number, or one per edge); the cascade ends when a step activates no
one. Out-neighbours are followers: an edge u -> v exists when v follows u, so for author u
the candidates are ``followers_idx[followers_ptr[u]:followers_ptr[u + 1]]``, the same CSR
arrays the model shows posts through (`tightrope.model.network`).

How it relates to the model's diffusion: in a full run (`diffusion.py`, `exposure.py`) a post
is shown to the sharer's followers, each view is scheduled minute by minute after a delay,
it may be lost to removal, and the viewer reshares it with a probability that depends on the
viewer, the content and the regime. Drop the timing, the removal and the heterogeneity and
what is left is this rule: every sharer exposes each follower once, each exposure of a
not-yet-reached user turns into a reshare with probability p. The kernel computes that rule's
cascade sizes fast. It is what the peer benchmark compares with NDlib's
``IndependentCascadesModel`` (whose semantics it matches exactly; see
``benchmarks/peers.py``), and it is there for users who want plain cascade statistics on a
Tightrope graph. It does not run the model and the model does not call it.

Conventions: node ids are int32; randomness comes from Tightrope's xoshiro256** generator
(`tightrope.core.rng`), one stream per run, all derived from ``rng_seed`` and the model's
"reshare" stream position, so results do not depend on the number of threads or on how
many other runs are made in the same call. Each worker reuses one visited-stamp array and
one queue for all its runs (a run counter instead of clearing), so nothing of size n is
allocated per run.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np
from numba import njit, prange

from tightrope.core.rng import STREAM, next_u64, uniform
from tightrope.errors import InputError

CASCADE_PART = 0
"""Second spawn-key word of the cascade streams, under the "reshare" stream position: the
streams are ``SeedSequence(rng_seed, spawn_key=(STREAM["reshare"], CASCADE_PART))``'s words,
four per run. The model's streams use one-word keys and `tightrope.core.rng.numpy_generator`'s
parts start at 1, so part 0 is this kernel's alone."""


SKIP_BELOW = 0.1
"""Below this scalar p the kernel jumps from success to success (one logarithm per success);
at or above it one uniform draw per edge to an inactive node is cheaper. Both are exact."""


class CascadeRuns(NamedTuple):
    """Per-run results of `independent_cascades(..., details=True)`.

    sizes: int64 (runs,), active nodes at the end, seeds included (repeated seeds once).
    depth: int32 (runs,), the last step at which someone was activated (0: only the seeds).
    edges: int64 (runs,), activation chances decided: the out-degree summed over all
        active nodes (each active node's followers are all covered once).
    """

    sizes: np.ndarray
    depth: np.ndarray
    edges: np.ndarray


def run_states(rng_seed: int, runs: int) -> np.ndarray:
    """The xoshiro256** state of each run's stream: uint64 (runs, 4).

    Row r depends only on `rng_seed` and r (the SeedSequence words come out in order)."""
    ss = np.random.SeedSequence(int(rng_seed), spawn_key=(STREAM["reshare"], CASCADE_PART))
    states = ss.generate_state(4 * max(runs, 1), dtype=np.uint64).reshape(-1, 4)[:runs].copy()
    dead = ~states.any(axis=1)  # the all-zero state never leaves zero
    states[dead, 0] = 1
    return states


@njit(cache=True, inline="always")
def _skip(s: np.ndarray, log_q: float, room: int) -> int:
    """Failures before the next success of Bernoulli(p), log_q = log(1 - p) < 0; `room` or
    more means "beyond the row" (returned as `room`, so no float overflows an int)."""
    k = math.log1p(-uniform(s)) / log_q
    if k >= room:
        return room
    return int(k)


@njit(cache=True, parallel=True)
def _cascades(
    ptr: np.ndarray,
    idx: np.ndarray,
    prob_edge: np.ndarray,
    p: float,
    per_edge: bool,
    seeds: np.ndarray,
    states: np.ndarray,
    bounds: np.ndarray,
    sizes: np.ndarray,
    depth: np.ndarray,
    edges: np.ndarray,
) -> None:
    """Runs bounds[c]..bounds[c+1] on worker chunk c; writes sizes, depth, edges."""
    n = ptr.size - 1
    k = seeds.shape[1]
    log_q = math.log1p(-p) if 0.0 < p < 1.0 else -1.0
    thr = np.uint64(math.ceil(p * 9007199254740992.0))  # p 2^53
    for c in prange(bounds.size - 1):
        stamp = np.zeros(n, dtype=np.int32)  # stamp[v] == mark: v active in this run
        queue = np.empty(n, dtype=np.int32)  # activation order; levels are contiguous
        s = np.empty(4, dtype=np.uint64)
        mark = np.int32(0)
        for r in range(bounds[c], bounds[c + 1]):
            mark = np.int32(mark + 1)
            for j in range(4):
                s[j] = states[r, j]
            tail = 0
            for j in range(k):
                v = seeds[r, j]
                if stamp[v] != mark:
                    stamp[v] = mark
                    queue[tail] = v
                    tail += 1
            head = 0
            level_end = tail
            level = 0
            covered = 0
            while head < tail:
                if head == level_end:
                    level += 1
                    level_end = tail
                u = queue[head]
                head += 1
                lo = ptr[u]
                hi = ptr[u + 1]
                covered += hi - lo
                # The draw for an edge to an inactive node is made (as NDlib does) and the
                # node is queued either way; the tail only moves on a success. Written
                # without a branch on the draw, which a CPU cannot predict.
                if per_edge:
                    for e in range(lo, hi):
                        v = idx[e]
                        old = stamp[v]
                        if old != mark:
                            hit = np.int32(uniform(s) < prob_edge[e])
                            stamp[v] = old ^ ((old ^ mark) & -hit)
                            queue[tail] = v
                            tail += hit
                elif p >= 1.0:
                    for e in range(lo, hi):
                        v = idx[e]
                        if stamp[v] != mark:
                            stamp[v] = mark
                            queue[tail] = v
                            tail += 1
                elif p >= SKIP_BELOW:
                    for e in range(lo, hi):
                        v = idx[e]
                        old = stamp[v]
                        if old != mark:
                            # (bits >> 11) < ceil(p 2^53) is exactly uniform(s) < p
                            hit = np.int32((next_u64(s) >> np.uint64(11)) < thr)
                            stamp[v] = old ^ ((old ^ mark) & -hit)
                            queue[tail] = v
                            tail += hit
                elif p > 0.0:
                    # every edge succeeds independently with chance p: jump from success to
                    # success (O(successes) draws); a success on an active node does nothing
                    e = lo + _skip(s, log_q, hi - lo)
                    while e < hi:
                        v = idx[e]
                        if stamp[v] != mark:
                            stamp[v] = mark
                            queue[tail] = v
                            tail += 1
                        e += 1 + _skip(s, log_q, hi - e)
            sizes[r] = tail
            depth[r] = level
            edges[r] = covered


def _check(ptr, idx, prob, seeds_per_run, rng_seed):
    problems: list[str] = []
    ptr = np.asarray(ptr)
    idx = np.asarray(idx)
    if ptr.ndim != 1 or ptr.size < 1 or not np.issubdtype(ptr.dtype, np.integer):
        problems.append("ptr must be a 1-D integer array of n + 1 row offsets")
        raise InputError("independent_cascades", problems)
    if idx.ndim != 1 or not (np.issubdtype(idx.dtype, np.integer) or idx.size == 0):
        problems.append("idx must be a 1-D integer array of follower ids")
        raise InputError("independent_cascades", problems)
    n = ptr.size - 1
    if n >= 2**31 - 1:
        problems.append(f"the graph has {n} nodes; at most 2**31 - 2 are allowed (int32 ids)")
    if ptr[0] != 0 or ptr[-1] != idx.size or (n > 0 and np.any(np.diff(ptr) < 0)):
        problems.append(
            "ptr must start at 0, never decrease and end at len(idx) "
            f"(starts {int(ptr[0])}, ends {int(ptr[-1])}, len(idx) {idx.size})"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        problems.append(f"idx has ids outside 0..{n - 1}: min {idx.min()}, max {idx.max()}")
    per_edge = False
    p = 0.0
    prob_a = np.asarray(prob)
    if prob_a.ndim == 0:
        try:
            p = float(prob_a)
        except (TypeError, ValueError):
            problems.append(f"prob must be a number in [0, 1] or one per edge, got {prob!r}")
        else:
            if not 0.0 <= p <= 1.0:
                problems.append(f"prob must be in [0, 1], got {p}")
    elif prob_a.ndim == 1 and prob_a.size == idx.size and np.issubdtype(prob_a.dtype, np.number):
        per_edge = True
        if prob_a.size and (
            not np.all(np.isfinite(prob_a)) or prob_a.min() < 0 or prob_a.max() > 1
        ):
            problems.append("per-edge prob must all be in [0, 1]")
    else:
        problems.append(
            f"prob must be a number in [0, 1] or a 1-D array with one value per edge "
            f"({idx.size}), got shape {prob_a.shape}"
        )
    seeds = np.asarray(seeds_per_run)
    if seeds.ndim == 1:
        seeds = seeds[None, :]
    if seeds.ndim != 2 or seeds.shape[1] < 1 or not np.issubdtype(seeds.dtype, np.integer):
        problems.append(
            "seeds_per_run must be an integer array (runs, seeds per run) with at least one "
            f"seed per run, got shape {seeds.shape} and dtype {seeds.dtype}"
        )
    elif seeds.size and (seeds.min() < 0 or seeds.max() >= n):
        problems.append(f"seeds_per_run has ids outside 0..{n - 1}")
    if isinstance(rng_seed, bool) or not isinstance(rng_seed, int | np.integer) or rng_seed < 0:
        problems.append(f"rng_seed must be a non-negative integer, got {rng_seed!r}")
    if problems:
        raise InputError("independent_cascades: bad input", problems)
    return ptr, idx, p, per_edge, prob_a, seeds


def independent_cascades(
    ptr: np.ndarray,
    idx: np.ndarray,
    prob: float | np.ndarray,
    seeds_per_run: np.ndarray,
    rng_seed: int,
    *,
    details: bool = False,
) -> np.ndarray | CascadeRuns:
    """Run one independent cascade per row of `seeds_per_run`; return the final sizes.

    ptr, idx: the follower graph in CSR form (node u's out-neighbours, the users who see
        u's posts, are ``idx[ptr[u]:ptr[u + 1]]``), e.g. ``Graph.followers_ptr`` and
        ``Graph.followers_idx``.
    prob: the activation probability p of every edge (a number in [0, 1]), or one per edge,
        aligned with `idx` (float32 is enough).
    seeds_per_run: int array (runs, k): the initially active nodes of each run (a 1-D array
        is one run). A node listed twice in a row counts once.
    rng_seed: the root seed; run r uses its own stream (see `run_states`), so the result of
        run r is the same whatever the thread count or the number of runs.

    Returns int64 sizes (runs,): the number of active nodes at the end, seeds included, or
    with ``details=True`` a `CascadeRuns` (sizes, depth, edges covered). Raises InputError
    on bad input, before doing any work.
    """
    ptr, idx, p, per_edge, prob_a, seeds = _check(ptr, idx, prob, seeds_per_run, rng_seed)
    runs = seeds.shape[0]
    ptr64 = np.ascontiguousarray(ptr, dtype=np.int64)
    idx32 = np.ascontiguousarray(idx, dtype=np.int32)
    seeds32 = np.ascontiguousarray(seeds, dtype=np.int32)
    prob_edge = (
        np.ascontiguousarray(prob_a, dtype=np.float32) if per_edge else np.zeros(1, np.float32)
    )
    states = run_states(int(rng_seed), runs)
    # a few chunks per thread balance uneven cascades; results do not depend on the split
    chunks = max(1, min(runs, 4 * numba.get_num_threads()))
    bounds = np.linspace(0, runs, chunks + 1).round().astype(np.int64)
    sizes = np.zeros(runs, dtype=np.int64)
    depth = np.zeros(runs, dtype=np.int32)
    edges = np.zeros(runs, dtype=np.int64)
    if runs:
        _cascades(
            ptr64, idx32, prob_edge, p, per_edge, seeds32, states, bounds, sizes, depth, edges
        )
    if details:
        return CascadeRuns(sizes, depth, edges)
    return sizes


def follower_graph(users: int, seed: int, preset: str = "laissez-faire"):
    """The follower graph a model run of `preset` with `users` users and `seed` builds.

    Built the way `tightrope.Simulation` builds it (the same kinds, popularity boosts and
    random streams), so cascades, the reference model and the peers run on the model's
    graph. Returns a `tightrope.model.network.Graph`.
    """
    from tightrope.model.network import build_network
    from tightrope.scenario.files import load_scenario

    if isinstance(users, bool) or not isinstance(users, int | np.integer) or users < 2:
        raise InputError(f"follower_graph: users must be an integer >= 2, got {users!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"follower_graph: seed must be a non-negative integer, got {seed!r}")
    sc = load_scenario(preset, users=int(users), days=1, seed=int(seed))
    if sc.network.source != "synthetic":
        raise InputError(f"follower_graph: preset {preset!r} does not use a synthetic network")
    return build_network(sc).graph
