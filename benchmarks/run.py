"""Speed benchmark: wall time of a run by users and days, median over repeats.

    python benchmarks/run.py                      # the core-model target: 100,000 users, 30 days
    python benchmarks/run.py --users 10000 --days 2 --repeats 1 --out /tmp/perf.md

Writes a Markdown table (machine, command, medians, per-phase seconds) to --out
(default docs/performance.md), atomically. Compile time is measured separately: the first
run warms the on-disk kernel cache and is not counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import tightrope


def one_run(preset: str, users: int, days: float, seed: int) -> tuple[float, dict, dict]:
    sc = tightrope.load_scenario(preset, users=users, days=days, seed=seed)
    start = time.perf_counter()
    result = tightrope.run(sc)
    return time.perf_counter() - start, result.meta, result.summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="china-comprehensive-2021")
    ap.add_argument("--users", type=int, nargs="+", default=[100_000])
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("docs/performance.md"))
    args = ap.parse_args()

    warm = time.perf_counter()
    one_run(args.preset, 1000, 1.0, 0)
    warm_s = time.perf_counter() - warm

    rows = []
    for users in args.users:
        times, meta = [], {}
        for r in range(args.repeats):
            t, meta, _ = one_run(args.preset, users, args.days, r)
            times.append(t)
            print(f"{users} users x {args.days} days: {t:.1f} s", file=sys.stderr)
        phases = ", ".join(f"{k} {v:.1f}" for k, v in meta["phase_seconds"].items() if v >= 0.05)
        rows.append((users, meta["edges"], statistics.median(times), min(times), phases))

    lines = [
        "# Performance",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()} with "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"tightrope {tightrope.__version__}.",
        "",
        f"Command: `python benchmarks/run.py --preset {args.preset} --users "
        f"{' '.join(map(str, args.users))} --days {args.days:g} --repeats {args.repeats}`",
        "",
        f"Warm-up run (1,000 users, 1 day, compiling or loading the kernel cache): {warm_s:.1f} s.",
        "",
        "| users | follower edges | median wall s | best wall s | seconds by phase (last run) |",
        "|---:|---:|---:|---:|---|",
    ]
    lines += [f"| {u:,} | {e:,} | {m:.1f} | {b:.1f} | {p} |" for u, e, m, b, p in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, prefix=".perf-")
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
