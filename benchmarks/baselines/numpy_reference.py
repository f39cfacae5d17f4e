"""The hardware reference for the cascade kernel: one sparse pass over every edge.

A cascade step is a frontier expansion: every active node offers the post to each of its
followers. The fastest plain way to touch every edge of the follower graph once from Python
is a SciPy sparse matrix-vector product (compiled, single-threaded, streaming through the
CSR arrays). Its edges per second is what the memory system gives a simple pass; the cascade
kernel does more per edge (a random draw, a visited check, a queue) so it is judged by how
close it comes to this.

Two passes, both over all edges, on the graph A with A[u, v] = 1 when v follows u:
"push" y = A.T @ x (scatter from each author to its followers, SciPy's CSC product on the
transposed view of the CSR arrays, no copy) and "pull" y = B @ x with B = A.T as CSR
(each user gathers from the accounts it follows). x is the indicator of a frontier that
holds every node, so every edge is used.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import scipy.sparse as sp


def matrices(ptr: np.ndarray, idx: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(A, B): A[u, v] = 1 for each follower v of u (CSR, the arrays as they are), and B =
    A.T stored as CSR."""
    n = ptr.size - 1
    data = np.ones(idx.size, dtype=np.float64)
    a = sp.csr_matrix((data, idx.astype(np.int32), ptr.astype(np.int32)), shape=(n, n))
    return a, a.T.tocsr()


def time_pass(f, repeats: int, min_block_s: float = 0.02) -> tuple[float, float]:
    """(median wall seconds, median CPU seconds) of one call of f(), over `repeats` blocks
    of calls, each block long enough (>= min_block_s) for the clocks; after a warm-up."""
    f()
    t0 = time.perf_counter()
    f()
    one = max(time.perf_counter() - t0, 1e-7)
    inner = max(1, int(min_block_s / one))
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(inner):
            f()
        wall.append((time.perf_counter() - t0) / inner)
        cpu.append((time.process_time() - c0) / inner)
    return statistics.median(wall), statistics.median(cpu)


def sparse_pass(ptr: np.ndarray, idx: np.ndarray, repeats: int = 7) -> dict:
    """Median time of one all-edge frontier expansion, push and pull; edges per second
    (by wall and by CPU time)."""
    a, b = matrices(ptr, idx)
    x = np.ones(a.shape[0], dtype=np.float64)
    at = a.T  # a CSC view of the same arrays
    if not np.allclose(at @ x, b @ x):  # the same expansion both ways
        raise RuntimeError("push and pull sparse passes disagree")
    push_wall, push_cpu = time_pass(lambda: at @ x, repeats)
    pull_wall, pull_cpu = time_pass(lambda: b @ x, repeats)
    edges = int(idx.size)
    return {
        "edges": edges,
        "push_s": push_wall,
        "pull_s": pull_wall,
        "push_cpu_s": push_cpu,
        "pull_cpu_s": pull_cpu,
        "edges_per_s": edges / min(push_wall, pull_wall),
        "edges_per_cpu_s": edges / min(push_cpu, pull_cpu),
        "repeats": repeats,
    }
