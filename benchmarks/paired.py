"""Is one version of Tightrope slower than another? Paired runs on the same machine.

    git worktree add /tmp/before 3ddf55f
    python benchmarks/paired.py --before /tmp/before --after . --users 1000000 --days 30 \
        --pairs 3 --json-out benchmarks/results/paired.json

Each pair runs the same seed under both versions, one right after the other, in fresh
processes (each version's own `benchmarks/scale.py`, its own `src/` on PYTHONPATH, its own
kernel cache), and alternates which goes first, so that a drift of the machine's speed
(heat, other load) falls on both sides alike. A tiny run warms each version's kernel cache
before the pairs start. The result is the wall time of every run, each pair's difference
(after - before) and ratio, and the mean difference with a 95% t interval: "not slower
beyond noise" means the interval reaches 0 or below, or its upper end is small against
the run (its share is printed).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
"""Two-sided 95% quantiles of Student's t by degrees of freedom (pairs - 1)."""


def measure(checkout: Path, users: int, days: float, seed: int, preset: str) -> dict[str, Any]:
    """One run of `checkout`'s scale benchmark in a fresh process; its JSON result."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(checkout / "src")
    # each version its own Numba cache, kept between its runs
    key = hashlib.sha256(str(checkout).encode()).hexdigest()[:12]
    env["NUMBA_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / f"tightrope-paired-{key}")
    cmd = [
        sys.executable,
        str(checkout / "benchmarks" / "scale.py"),
        "--users",
        str(users),
        "--days",
        str(days),
        "--seed",
        str(seed),
        "--preset",
        preset,
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def summarise(before: list[float], after: list[float]) -> dict[str, Any]:
    """Differences after - before, their mean and 95% t interval, and the ratios."""
    diffs = [a - b for a, b in zip(after, before, strict=True)]
    n = len(diffs)
    mean = statistics.fmean(diffs)
    half = T95[n - 1] * statistics.stdev(diffs) / math.sqrt(n) if 1 < n <= 10 else math.nan
    base = statistics.fmean(before)
    return {
        "before_s": before,
        "after_s": after,
        "difference_s": diffs,
        "ratio": [a / b for a, b in zip(after, before, strict=True)],
        "mean_difference_s": mean,
        "interval_95_s": [mean - half, mean + half],
        "mean_difference_share": mean / base,
        "upper_share": (mean + half) / base,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="checkout of the old version")
    ap.add_argument("--after", type=Path, required=True, help="checkout of the new version")
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--preset", default="china-comprehensive-2021")
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    sides = {"before": args.before.resolve(), "after": args.after.resolve()}
    for checkout in sides.values():  # warm each version's kernel cache
        measure(checkout, 1000, 1.0, 0, args.preset)
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for k in range(args.pairs):
        order = ["before", "after"] if k % 2 == 0 else ["after", "before"]
        for side in order:
            r = measure(sides[side], args.users, args.days, k + 1, args.preset)
            runs[side].append(r)
            print(f"pair {k + 1} {side}: {r['wall_s']:.1f} s", file=sys.stderr, flush=True)
    result = {
        "config": {"users": args.users, "days": args.days, "pairs": args.pairs,
                   "preset": args.preset, "cpus": os.cpu_count(),
                   "before": str(sides["before"]), "after": str(sides["after"])},
        "wall": summarise([r["wall_s"] for r in runs["before"]],
                          [r["wall_s"] for r in runs["after"]]),
        "same_views": [b["views"] == a["views"] for b, a in zip(runs["before"], runs["after"],
                                                                 strict=True)],
        "runs": runs,
    }  # fmt: skip
    text = json.dumps(result, indent=1)
    if args.json_out:
        tmp = args.json_out.with_name(args.json_out.name + ".tmp")
        tmp.write_text(text + "\n")
        tmp.replace(args.json_out)
    print(text)


if __name__ == "__main__":
    main()
