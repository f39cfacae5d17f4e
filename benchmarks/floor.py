"""What this machine's memory allows: the cost of one random read from main memory.

    python benchmarks/floor.py            # prints one JSON object

A run of Tightrope is bound by reads at random places: every view reads its post and its
viewer, wherever they lie in arrays much larger than the processor's caches. This part
measures the floor under that: each thread reads 8-byte words at random places of an array
of `size` bytes (far larger than the last-level cache), so that every read is a miss, with
the next reads' addresses fetched `distance` reads early (0: none; the best distance is
kept), all threads at once. The addresses come from a hash of the read's number, so no
index array competes for the memory system. It also measures streaming: a parallel sum over
the same array, in bytes per second, the floor of a pass over every user's state.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import numpy as np
from numba import get_num_threads, njit, prange

from tightrope.core.memory_hints import prefetch
from tightrope.core.rng import _GOLDEN, _mix

DISTANCES = (0, 8, 16, 32, 64)
MIB = 1 << 20


@njit(cache=True, inline="always")
def _place(i: int, mask: int) -> int:
    """A random place for read i: SplitMix64's finaliser (`rng._mix`) of i x its constant."""
    return int(_mix(np.uint64(i) * _GOLDEN) & np.uint64(mask))


@njit(cache=True, parallel=True)
def random_reads(words: np.ndarray, reads: int, distance: int, threads: int) -> float:
    """`reads` reads at random places of `words`, shared out over `threads` tasks."""
    mask = words.size - 1
    sums = np.zeros(threads)
    for t in prange(threads):
        lo, hi = t * reads // threads, (t + 1) * reads // threads
        s = 0.0
        for i in range(lo, hi):
            if distance > 0 and i + distance < hi:
                prefetch(words, _place(i + distance, mask))
            s += words[_place(i, mask)]
        sums[t] = s
    return sums.sum()


@njit(cache=True, parallel=True)
def stream_sum(words: np.ndarray, threads: int) -> float:
    """The sum of `words`, each of `threads` tasks summing its own range."""
    n = words.size
    sums = np.zeros(threads)
    for t in prange(threads):
        s = 0.0
        for i in range(t * n // threads, (t + 1) * n // threads):
            s += words[i]
        sums[t] = s
    return sums.sum()


def _times(fn, repeats: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def measure_floor(
    size_mib: int = 1024, reads: int = 50_000_000, repeats: int = 3, threads: int = 0
) -> dict[str, Any]:
    """Wall nanoseconds per random read at each prefetch distance, `threads` threads at
    once (0: Numba's number, one per core), and streaming bytes per second, over an array
    of `size_mib` MiB (a power of two); medians over `repeats`."""
    words = np.ones(size_mib * MIB // 8)
    if words.size & (words.size - 1):
        raise ValueError(f"size_mib must be a power of two, not {size_mib}")
    threads = threads or get_num_threads()
    random_reads(words, 1000, 8, threads)  # compile (or load from the cache)
    stream_sum(words, threads)
    runs = {
        d: [
            t / reads * 1e9
            for t in _times(lambda d=d: random_reads(words, reads, d, threads), repeats)
        ]
        for d in DISTANCES
    }
    per_read = {d: statistics.median(r) for d, r in runs.items()}
    best = min(per_read, key=lambda d: per_read[d])
    stream_s = statistics.median(_times(lambda: stream_sum(words, threads), repeats))
    return {
        "array_mib": size_mib,
        "reads": reads,
        "threads": threads,
        "repeats": repeats,
        "ns_per_read": {str(d): per_read[d] for d in DISTANCES},
        "best_distance": best,
        "ns_per_random_read": per_read[best],
        "ns_per_random_read_range": [min(runs[best]), max(runs[best])],
        "stream_bytes_per_s": words.nbytes / stream_s,
        "date": time.strftime("%Y-%m-%d"),
    }


if __name__ == "__main__":
    print(json.dumps(measure_floor(), indent=1))
