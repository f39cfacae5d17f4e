"""Speed when other processes use the cores: a small run, idle and beside busy loops.

    python benchmarks/contention.py                 # 20,000 users x 2 days, 0/2/4 loops
    python benchmarks/contention.py --users 2000 --days 1 --loads 0,2 --repeats 1 --shared
    python benchmarks/contention.py --settings default,one,before,passive,workqueue,tbb \
        --tbb-lib /path/to/tbb/lib                  # and the alternatives to the policy

The same run (laissez-faire, warm kernel cache) is timed under several thread settings
(SETTINGS), taken in turn (default, one, before, then before, one, default, ...) so that a
change in the machine's load hits them alike:

- `default`: Tightrope's thread policy (`TIGHTROPE_THREADS` unset: `auto`, see
  `tightrope.engine.threads`), with Numba's threads (one per core) as the most;
- `one`: `NUMBA_NUM_THREADS=1`;
- `before`: `TIGHTROPE_THREADS=fixed`: Numba's threads throughout, whatever the load, as
  Tightrope ran before the policy;
- `passive`, `workqueue`, `tbb`: as `before`, with OpenMP's passive wait or another of
  Numba's threading layers (the alternatives measured; `tbb` only where it loads).

Each is timed idle and beside N busy loops (pure Python `while True` loops, one process
each, started with multiprocessing, killed at the end and ending by themselves after a
bound in any case; an idle run waits, up to 30 s, for a moment when nothing else runs),
each run in a fresh process (or, with --shared, each load's runs in
one process: seconds, for CI). Reported: medians, and the ratios default/one under load
(the aim: at most 1.5) and default/before idle (the aim: at most 1, within the noise).
Speed is never asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

PRESET = "laissez-faire"
SETTINGS: dict[str, dict[str, str]] = {
    "default": {},
    "one": {"NUMBA_NUM_THREADS": "1"},
    "before": {"TIGHTROPE_THREADS": "fixed"},
    # every thread throughout, as `before`, with another way of waiting at the barriers:
    "passive": {"TIGHTROPE_THREADS": "fixed", "OMP_WAIT_POLICY": "PASSIVE"},
    "workqueue": {"TIGHTROPE_THREADS": "fixed", "NUMBA_THREADING_LAYER": "workqueue"},
    "tbb": {"TIGHTROPE_THREADS": "fixed", "NUMBA_THREADING_LAYER": "tbb"},
}
"""The thread settings, as environment variables of the measured process. The last three
are the alternatives to the policy that were measured (docs/performance.md): OpenMP's
threads sleeping at once at a barrier instead of spinning first, Numba's own work queue
instead of OpenMP, and Intel's TBB (which needs the `tbb` package, not a dependency)."""

DESCRIBE = {
    "default": "the thread policy, `TIGHTROPE_THREADS=auto`: no more threads than free cores",
    "one": "`NUMBA_NUM_THREADS=1`",
    "before": "`TIGHTROPE_THREADS=fixed`: one thread per core throughout, as before the policy",
    "passive": "as `before`, with `OMP_WAIT_POLICY=PASSIVE`: threads sleep at once at a "
    "barrier instead of spinning first",
    "workqueue": "as `before`, with `NUMBA_THREADING_LAYER=workqueue` instead of OpenMP",
    "tbb": "as `before`, with `NUMBA_THREADING_LAYER=tbb` (Intel's TBB, from the PyPI wheel "
    "`tbb`, not a dependency) instead of OpenMP",
}

WHY = (
    "Why a run collapsed under load: the minute loop starts 3 to 5 parallel regions (Numba "
    "`prange`) in every simulated minute that has views (the feed views' copy, the views, "
    "the engagement and, when the minute has reshares, the sizes and the draws of their "
    "audiences), 4,320 to 7,200 a day, besides a few per tick (feed, posting, statistics). "
    "Numba runs them on "
    "GNU OpenMP here (`numba.threading_layer()` is `omp`; TBB is not installed), and each "
    "region ends at a barrier where a thread waits for the slowest, spinning first "
    "(libgomp's default) and sleeping after. With busy processes on the cores, one of the "
    "run's threads is often descheduled: the region waits for the scheduler to give it a "
    "core back, while its partner spins away its own share. One thread has no barrier: "
    "compare `before` with `one` above. A thread that sleeps at once (`passive`) or TBB's "
    "scheduler (`tbb`) removes most of the loss; Numba's own `workqueue` layer does not, and "
    "is slower idle too."
)

POLICY = (
    "The fix (`tightrope.engine.threads`, the default `TIGHTROPE_THREADS=auto`): `tightrope.run` "
    "counts, before the first tick and then at most every 50 ms between ticks, the tasks of "
    "other processes that are running or waiting for a core (/proc/loadavg's instantaneous "
    "count less the run's own running threads, the median of the last 5 counts), and sets "
    "`numba.set_num_threads` to the cores they leave free (at least 1, at most the caller's "
    "count, the CPU affinity and any cgroup quota); the caller's count is back at the end. "
    "A count costs about 0.05 ms. Results are the same to the bit whatever the count "
    "(tests/test_determinism.py). Not chosen: `OMP_WAIT_POLICY=PASSIVE` acts on the whole "
    "process from the moment libgomp loads, and costs a wake-up at every region when the "
    "machine is idle; TBB would be a 14 MB dependency that, once installed, becomes Numba's "
    "layer for every program in the environment."
)

IN_PROCESS = ("default", "one", "before")
"""The settings that one process can switch between (the others act at start-up)."""

LOOP_BOUND_S = 3600.0
"""A busy loop ends by itself after this long, should it outlive the benchmark."""

RUN_LIMIT_S = 300.0
"""A measured process that runs longer is stopped and counted as this long."""

CHILD = r"""
import json, os, sys, time
import numba, tightrope, tightrope.engine.threads
preset, users, days, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
plan = sys.argv[5].split(",")  # the settings, in order, each one run
tightrope.run(tightrope.load_scenario(preset, users=300, days=1.0, seed=seed))  # warm
most = numba.get_num_threads()
out = []
for setting in plan:
    # in this process: `one` by numba.set_num_threads(1), `before` by TIGHTROPE_THREADS
    numba.set_num_threads(1 if setting == "one" else most)
    os.environ.pop("TIGHTROPE_THREADS", None)
    if setting == "before":
        os.environ["TIGHTROPE_THREADS"] = "fixed"
    threads = []
    others = tightrope.engine.threads.others_runnable()
    def progress(done, total):
        if done < total:
            threads.append(numba.get_num_threads())
    sc = tightrope.load_scenario(preset, users=users, days=days, seed=seed)
    t = time.perf_counter()
    tightrope.run(sc, progress=progress)
    out.append({"setting": setting, "wall_s": time.perf_counter() - t, "threads": threads,
                "others": others, "layer": numba.threading_layer()})
print(json.dumps(out))
"""


def _spin(deadline: float) -> None:
    """A busy loop: pure Python, until killed (or until the deadline)."""
    n = 0
    while True:
        n += 1
        if n % 1_000_000 == 0 and time.monotonic() > deadline:
            return


@contextlib.contextmanager
def busy_loops(n: int, bound_s: float = LOOP_BOUND_S) -> Iterator[None]:
    """n busy-loop processes for the time of the block; killed at its end."""
    ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    procs = [
        ctx.Process(target=_spin, args=(time.monotonic() + bound_s,), daemon=True) for _ in range(n)
    ]
    for p in procs:
        p.start()
    try:
        if n:
            time.sleep(0.5)  # every loop running before the first measurement
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.join(timeout=10)


QUIET_WAIT_S = 30.0
"""Before each idle run, wait at most this long for a moment when no other process runs."""


def wait_for_quiet(most_s: float = QUIET_WAIT_S) -> None:
    """Wait until no task of another process has been running for a few tenths of a
    second (on a machine shared with others), or at most `most_s`."""
    from tightrope.engine.threads import others_runnable

    end = time.monotonic() + most_s
    calm = 0
    while time.monotonic() < end and calm < 10:
        calm = calm + 1 if others_runnable() == 0 else 0
        time.sleep(0.03)


def setting_env(setting: str, tbb_lib: str | None = None) -> dict[str, str]:
    """The environment of a process measured under `setting` alone: this one less the
    thread variables, plus the setting's; for `tbb`, `tbb_lib` (the folder of libtbb.so.12,
    e.g. from the `tbb` wheel) first on LD_LIBRARY_PATH, of that process only: were it on
    the others' path, Numba would take TBB for them too."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("NUMBA_NUM_THREADS", "TIGHTROPE_THREADS")
    }
    env.update(SETTINGS[setting])
    if setting == "tbb" and tbb_lib:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (tbb_lib, env.get("LD_LIBRARY_PATH", "")) if p
        )
    return env


def runs_in_a_process(
    plan: list[str],
    users: int,
    days: float,
    seed: int = 1,
    preset: str = PRESET,
    tbb_lib: str | None = None,
) -> list[dict[str, Any]]:
    """Runs in one fresh process, one per entry of `plan` (keys of SETTINGS), in order,
    after a small warm-up run that loads the kernels from the cache: each run's wall time
    and the thread counts it used, one per progress report. A plan of one setting runs
    under that setting's environment variables (a fresh process per run); in a longer
    plan `one` is `numba.set_num_threads(1)` and `before` sets TIGHTROPE_THREADS in the
    process."""
    env = setting_env(plan[0] if len(plan) == 1 else "default", tbb_lib)
    cmd = [sys.executable, "-c", CHILD, preset, str(users), str(days), str(seed), ",".join(plan)]
    try:
        out = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env=env, timeout=RUN_LIMIT_S
        )
    except subprocess.TimeoutExpired:
        return [{"setting": s, "wall_s": RUN_LIMIT_S, "threads": [], "timed_out": True}
                for s in plan]  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def available(setting: str, tbb_lib: str | None = None) -> bool:
    """Whether a setting's threading layer loads here (tbb needs the `tbb` package)."""
    env = setting_env(setting, tbb_lib)
    probe = "import numba, numpy as np\n@numba.njit(parallel=True)\ndef f(a):\n"
    probe += "    for i in numba.prange(a.size): a[i] = i\nf(np.zeros(4))"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True)
    return done.returncode == 0


def measure(
    users: int = 20_000,
    days: float = 2.0,
    loads: tuple[int, ...] = (0, 2, 4),
    repeats: int = 3,
    settings: tuple[str, ...] = ("default", "one", "before"),
    preset: str = PRESET,
    seed: int = 1,
    fresh: bool = True,
    loaded_settings: tuple[str, ...] | None = None,
    tbb_lib: str | None = None,
    quiet_s: float = QUIET_WAIT_S,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Time the same run under each thread setting (keys of SETTINGS), idle (0 busy loops)
    and beside each number of busy loops in `loads`, `repeats` times each, the settings
    taken in turn (reversed every other round). With `fresh`, each run is a process of its
    own; without, each load's runs share one process (seconds instead of a minute: for
    CI). `loaded_settings`, when given, are the settings timed beside busy loops (idle:
    all). Each idle batch of runs waits up to `quiet_s` for a moment when no other
    process runs. Returns the configuration and, per load, each setting's runs and median."""
    say = log or (lambda text: None)
    if not fresh and set(settings) - set(IN_PROCESS):
        raise ValueError(f"only {IN_PROCESS} can share a process, not {settings}")
    settings = tuple(s for s in settings if s in IN_PROCESS or available(s, tbb_lib))
    by_load = []
    for n in loads:
        here = settings if n == 0 or loaded_settings is None else loaded_settings
        here = tuple(s for s in here if s in settings)
        runs: dict[str, list[dict[str, Any]]] = {s: [] for s in here}
        with busy_loops(n):
            load_start = os.getloadavg()[0]
            plan = [s for r in range(repeats) for s in (here if r % 2 == 0 else here[::-1])]
            batches = [[s] for s in plan] if fresh else [plan]
            for batch in batches:
                if n == 0 and quiet_s > 0:
                    wait_for_quiet(quiet_s)
                for m in runs_in_a_process(batch, users, days, seed, preset, tbb_lib):
                    runs[m["setting"]].append(m)
                    say(f"contention: {n} busy loops, {m['setting']}: {m['wall_s']:.2f} s")
            load_end = os.getloadavg()[0]
        by_load.append(
            {
                "busy_loops": n,
                "load_average": [load_start, load_end],
                "runs": runs,
                "median_s": {s: statistics.median(m["wall_s"] for m in runs[s]) for s in runs},
            }
        )
    return {
        "preset": preset,
        "users": users,
        "days": days,
        "seed": seed,
        "repeats": repeats,
        "fresh": fresh,
        "quiet_s": quiet_s,
        "cores": os.cpu_count(),
        "settings": {s: SETTINGS[s] for s in settings},
        "loads": by_load,
        "date": time.strftime("%Y-%m-%d"),
    }


def ratio(res: dict[str, Any], loops: int, a: str, b: str) -> float | None:
    """Median time of setting a over setting b beside `loops` busy loops (None if not
    measured)."""
    for row in res["loads"]:
        med = row["median_s"]
        if row["busy_loops"] == loops and a in med and b in med and med[b] > 0:
            return med[a] / med[b]
    return None


def _threads_used(runs: list[dict[str, Any]]) -> str:
    counts = [k for m in runs for k in m.get("threads", [])]
    if not counts:
        return ""
    most = max(counts)
    share = sum(1 for k in counts if k == most) / len(counts)
    if share == 1.0:
        return f"{most}"
    low = min(counts)
    return f"{most} in {share:.0%} of checks, else {low}"


def markdown(res: dict[str, Any]) -> str:
    """The benchmark as a table and a few sentences (a section of docs/performance.md)."""
    settings = list(res["settings"])
    head = (
        "| busy loops | others running | "
        + " | ".join(f"{s} s" for s in settings)
        + " | default / one | default / before | threads (default) |"
    )
    lines = [
        f"{res['users']:,} users x {res['days']:g} days of {res['preset']} (seed "
        f"{res['seed']}, warm kernel cache), "
        + ("each time a fresh process" if res["fresh"] else "each load's runs in one process")
        + f", on {res['cores']} cores; median of {res['repeats']} per cell, the settings "
        "taken in turn (reversed every other round). Settings: "
        + "; ".join(f"`{s}`: {DESCRIBE[s]}" for s in settings)
        + f". Measured {res['date']} with `python benchmarks/contention.py` (the `contention` "
        "part of benchmarks/run.py). 'Others running': tasks of other processes running or "
        "waiting for a core when each run started (`tightrope.engine.threads.others_runnable`; "
        "median, lowest to highest): the busy loops and whatever else ran on the machine; "
        + (
            f"each idle run (0 busy loops) waited up to {res['quiet_s']:.0f} s for a moment "
            "when nothing else ran."
            if res.get("quiet_s")
            else "idle runs did not wait for a quiet moment."
        ),
        "",
        head,
        "|---:|---|" + "---:|" * len(settings) + "---:|---:|---|",
    ]
    for row in res["loads"]:
        med = row["median_s"]
        cells = []
        for s in settings:
            if s not in row["runs"]:
                cells.append("")
                continue
            walls = ", ".join(
                f"{m['wall_s']:.2f}" + ("+" if m.get("timed_out") else "") for m in row["runs"][s]
            )
            cells.append(f"**{med[s]:.2f}** ({walls})" if len(row["runs"][s]) > 1 else
                         f"{med[s]:.2f}")  # fmt: skip
        r_one = ratio(res, row["busy_loops"], "default", "one")
        r_before = ratio(res, row["busy_loops"], "default", "before")
        others = [m["others"] for ms in row["runs"].values() for m in ms if "others" in m]
        seen = f"{statistics.median(others):g} ({min(others)} to {max(others)})" if others else ""
        lines.append(
            f"| {row['busy_loops']} | {seen} | " + " | ".join(cells) + " | "
            f"{'' if r_one is None else f'{r_one:.2f}x'} | "
            f"{'' if r_before is None else f'{r_before:.2f}x'} | "
            f"{_threads_used(row['runs'].get('default', []))} |"
        )
    lines.append("")
    worst = [
        (row["busy_loops"], ratio(res, row["busy_loops"], "default", "one"))
        for row in res["loads"]
        if row["busy_loops"] > 0
    ]
    worst = [(n, r) for n, r in worst if r is not None]
    idle = ratio(res, 0, "default", "before")
    text = []
    if worst:
        n, r = max(worst, key=lambda x: x[1])
        met = "met" if r <= 1.5 else "NOT met"
        text.append(
            f"Under load the default is at most **{r:.2f}x** the one-thread time ({n} busy "
            f"loops); aim at most 1.5x: **{met}**."
        )
    if idle is not None:
        text.append(
            f"Idle, the default takes {idle:.2f}x the time of `before` (aim: no slower, "
            "within the noise)."
        )
    loaded = [row for row in res["loads"] if row["busy_loops"] > 0]
    if loaded and len(loaded[-1]["median_s"]) > 3 and "one" in loaded[-1]["median_s"]:
        row = loaded[-1]
        med = row["median_s"]
        text.append(
            f"Beside {row['busy_loops']} busy loops, against one thread: "
            + ", ".join(f"`{s}` {med[s] / med['one']:.2f}x" for s in med if s != "one")
            + "."
        )
    if any(m.get("timed_out") for row in res["loads"] for ms in row["runs"].values() for m in ms):
        text.append(f"A time with + is a run stopped at the limit of {RUN_LIMIT_S:.0f} s.")
    lines += [" ".join(text), "", WHY, "", POLICY, ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--days", type=float, default=2.0)
    ap.add_argument("--loads", default="0,2,4", help="busy loops, a comma list")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--settings", default="default,one,before", help=f"of {list(SETTINGS)}")
    ap.add_argument("--json-out", help="also write the measurements here as JSON")
    ap.add_argument("--tbb-lib", help="folder of libtbb.so.12 for the `tbb` setting")
    ap.add_argument(
        "--shared", action="store_true", help="each load's runs in one process (faster)"
    )
    args = ap.parse_args()
    settings = tuple(s.strip() for s in args.settings.split(",") if s.strip())
    bad = [s for s in settings if s not in SETTINGS]
    if bad:
        print(f"error: unknown setting(s) {bad}; choose from {list(SETTINGS)}", file=sys.stderr)
        return 2
    res = measure(
        args.users,
        args.days,
        tuple(int(x) for x in args.loads.split(",") if x.strip()),
        args.repeats,
        settings,
        fresh=not args.shared,
        tbb_lib=args.tbb_lib,
        log=lambda text: print(text, file=sys.stderr, flush=True),
    )
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(res, f, indent=1)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
