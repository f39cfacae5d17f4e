"""One measured run in a fresh process: wall time, set-up time, peak memory.

    python benchmarks/scale.py --users 1000000 --days 30          # prints one JSON object
    python benchmarks/scale.py --users 10000000 --days 7 --json-out m.json

The run happens in this process, which is started fresh for each measurement, so that
the peak resident memory (`ru_maxrss`) belongs to this run alone. The kernel cache is
warmed by a tiny run of a whole day first (so that the once-a-day kernels are compiled
too, when the cache is cold); that time is reported separately as `warm_s`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def measure_here(
    preset: str, users: int, days: float, seed: int, overrides: list[str] | None = None
) -> dict[str, Any]:
    """Run once in this process and return the measurements."""
    import tightrope
    from tightrope.engine.memory import estimate
    from tightrope.engine.simulation import Simulation

    t = time.perf_counter()
    tightrope.run(tightrope.load_scenario(preset, users=1000, days=1.0, seed=seed))
    warm = time.perf_counter() - t
    sc = tightrope.load_scenario(preset, overrides or [], users=users, days=days, seed=seed)
    est = estimate(sc)
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    sim = Simulation(sc)
    setup = time.perf_counter() - start
    while sim.t < sim.n_ticks:
        sim.step()
    result = sim.result()
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "preset": preset,
        "overrides": overrides or [],
        "users": users,
        "days": days,
        "seed": seed,
        "edges": result.meta["edges"],
        "ticks": result.meta["ticks"],
        "views": float(result.summary["views"]),
        "warm_s": warm,
        "setup_s": setup,
        "wall_s": wall,
        "peak_rss_bytes": peak_kib * 1024,
        "estimate_bytes": est.total,
        "phase_seconds": result.meta["phase_seconds"],
        "threads": int(os.environ.get("NUMBA_NUM_THREADS", os.cpu_count() or 1)),
        "load_average": [load_start, os.getloadavg()[0]],
    }


def measure(
    preset: str,
    users: int,
    days: float,
    seed: int = 1,
    overrides: list[str] | None = None,
    threads: int | None = None,
) -> dict[str, Any]:
    """`measure_here` in a fresh Python process (so peak memory is this run's own), on
    `threads` threads (default: Numba's, one per core)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--preset", preset]
    cmd += ["--users", str(users), "--days", str(days), "--seed", str(seed)]
    for o in overrides or []:
        cmd += ["--set", o]
    env = dict(os.environ)
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="china-comprehensive-2021")
    ap.add_argument("--users", type=int, required=True)
    ap.add_argument("--days", type=float, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    m = measure_here(args.preset, args.users, args.days, args.seed, args.sets)
    text = json.dumps(m)
    if args.json_out:
        args.json_out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
