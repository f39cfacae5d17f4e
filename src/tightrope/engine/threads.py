"""How many threads a run's parallel kernels use: no more than there are free cores.

The minute loop starts 3 to 5 parallel regions (Numba `prange`) in every simulated
minute, thousands a day, and each ends at a barrier where every thread waits for the
slowest (Numba's `omp` layer, GNU OpenMP, lets a waiting thread spin before it sleeps).
When other processes keep the cores busy, the operating system deschedules some of the
run's threads, and each barrier waits for a thread that is not running while its partner
spins away its share of a core: beside busy loops, a run on both threads of a two-core
machine took 2x to 15x as long as the same run on one thread (docs/performance.md, "Under
load"). One thread has no barrier to wait at.

So `tightrope.run` paces its threads (`pace`): before the first tick and then, at most
every CHECK_EVERY_S, between ticks (where it reports progress), it counts the tasks of
other processes that are running or waiting for a core (`/proc/loadavg`'s instantaneous
count less this process's own running threads; the median of the last WINDOW counts) and
sets Numba's thread count (`numba.set_num_threads`, for this thread only) to the cores
left free, at least 1 and at most the count the caller had set. At the end it puts the
caller's count back. Results do not depend on the number of threads (see
tests/test_determinism.py), so only the speed changes.

`TIGHTROPE_THREADS` chooses the policy: `auto` (the default) as above; `fixed` uses
Numba's thread count throughout, whatever the load (as before this policy). Where /proc
is missing (not Linux) `auto` behaves as `fixed`. `NUMBA_NUM_THREADS` (or
`numba.set_num_threads` before the run) still sets the most threads a run may use, and
OpenMP's own variables (`OMP_WAIT_POLICY`, `GOMP_SPINCOUNT`) are left to the user.
Stepping a `Simulation` by hand is not paced.
"""

from __future__ import annotations

import math
import os
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from tightrope.errors import InputError

ENV = "TIGHTROPE_THREADS"
"""The environment variable that chooses the policy: `auto` (default) or `fixed`."""

POLICIES = ("auto", "fixed")

WINDOW = 5
"""Counts of other processes' runnable tasks kept; the decision takes their median."""

CHECK_EVERY_S = 0.05
"""Seconds between two counts at least: a count costs about 0.1 ms, and a tick of a small
run takes a few ms."""

ProgressFn = Callable[[int, int], None]


def policy() -> str:
    """The policy in force: `TIGHTROPE_THREADS`, `auto` when unset."""
    value = os.environ.get(ENV, "").strip().lower() or "auto"
    if value not in POLICIES:
        raise InputError(
            f"{ENV}={os.environ.get(ENV)!r} is not a thread policy: choose auto or fixed"
        )
    return value


def usable_cores() -> int:
    """The cores this process may use: its CPU affinity, less any cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = cgroup_quota()
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def cgroup_quota() -> float | None:
    """The CPU quota of this process's cgroup in cores (`cpu.max` of cgroup v2,
    `cpu.cfs_quota_us / cpu.cfs_period_us` of v1), None when there is none."""
    try:
        text = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if text and text[0] != "max":
            return int(text[0]) / int(text[1])
        return None
    except (OSError, ValueError, IndexError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def _read(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 1024)
    finally:
        os.close(fd)


def own_running() -> int:
    """This process's threads that are running or waiting for a core (state R)."""
    n = 0
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tids:
        try:
            stat = _read(f"/proc/self/task/{tid}/stat")
        except OSError:
            continue
        # the state follows the command name, which is in parentheses and may hold spaces
        at = stat.rfind(b")") + 2
        if stat[at : at + 1] == b"R":
            n += 1
    return max(n, 1)  # this thread is running: it reads


def others_runnable() -> int | None:
    """Tasks of other processes, all cores together, that are running or waiting for a
    core now (the kernel's instantaneous count in /proc/loadavg, less this process's
    running threads); None where there is no /proc/loadavg."""
    try:
        running = int(_read("/proc/loadavg").split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - own_running())


def free_threads(others: int | None, most: int, cores: int, total_cores: int) -> int:
    """Threads for a run when `others` tasks of other processes are runnable on the
    machine's `total_cores`: the cores they leave free, at least 1, at most `most` (the
    caller's count) and `cores` (those this process may use); `most` and `cores` when
    `others` is unknown."""
    if others is None:
        return max(1, min(most, cores))
    return max(1, min(most, cores, total_cores - others))


class _Callers(threading.local):
    """Per thread (Numba's thread count is per thread): the count a pacer set and the
    caller's count it replaced, so that a run that ended early (an exception) does not
    leave its lowered count to the next run as if the caller had chosen it."""

    ours: int | None = None
    callers: int = 0


_callers = _Callers()


class Pacer:
    """Sets Numba's thread count to the free cores between ticks; call it as a progress
    callback `(done_ticks, total_ticks)`. It passes each call on to `progress`, and at the
    last tick puts the caller's thread count back."""

    def __init__(self, progress: ProgressFn | None, most: int, cores: int) -> None:
        self.progress = progress
        self.most = most
        self.cores = cores
        self.total_cores = max(os.cpu_count() or 1, cores)
        self.counts: deque[int] = deque(maxlen=WINDOW)
        self.history: list[int] = []  # thread counts chosen, one per check
        self.last = time.monotonic()
        self._sample()
        self.check()

    def _sample(self) -> None:
        n = others_runnable()
        if n is not None:
            self.counts.append(n)

    def threads(self) -> int:
        """The thread count for the next ticks (`free_threads` of the median of the recent
        counts of other processes' runnable tasks)."""
        others = statistics.median_low(self.counts) if self.counts else None
        return free_threads(others, self.most, self.cores, self.total_cores)

    def check(self) -> None:
        import numba

        n = self.threads()
        if numba.get_num_threads() != n:
            numba.set_num_threads(n)
        _callers.ours = n
        self.history.append(n)

    def restore(self) -> None:
        import numba

        numba.set_num_threads(self.most)
        _callers.ours = None

    def __call__(self, done: int, total: int) -> None:
        if done >= total:
            self.restore()
        elif time.monotonic() - self.last >= CHECK_EVERY_S:
            self.last = time.monotonic()
            self._sample()
            self.check()
        if self.progress is not None:
            self.progress(done, total)


def callers_threads() -> int:
    """Numba's thread count for this thread as its caller set it (not as a pacer left it)."""
    import numba

    current = numba.get_num_threads()
    if _callers.ours is not None and current == _callers.ours:
        return _callers.callers
    _callers.ours = None
    return current


def pace(progress: ProgressFn | None) -> ProgressFn | None:
    """The progress callback for a run under the thread policy (`TIGHTROPE_THREADS`):
    with `auto`, a `Pacer` that sets the threads before the first tick and at each
    progress report, passing the reports on to `progress`; with `fixed`, or with one
    thread only, or without /proc, `progress` itself."""
    if policy() == "fixed":
        return progress
    most = callers_threads()
    cores = usable_cores()
    if (most <= 1 and cores >= 1) or others_runnable() is None:
        return progress
    _callers.callers = most
    return Pacer(progress, most, cores)
