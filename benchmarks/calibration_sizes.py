"""Does the calibrated preset's fit hold at other sizes? Runs `china-weibo-2012-calibrated`
(fitted at 5,000 users) at larger populations, for the days it was fitted over, and prints
each target's mean over the seeds against its published value and uncertainty, as a
Markdown table for docs/calibration.md ("Run size"; bold: outside the uncertainty). The runs
go one after another in this process; the wall time of each size is recorded, not asserted.

    python benchmarks/calibration_sizes.py                      # 10k, 100k (4 and 2 seeds), 1M (1)
    python benchmarks/calibration_sizes.py --sizes 10000:2 --out /tmp/sizes.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from tightrope import load_scenario
from tightrope.experiments import calibration as cal
from tightrope.results.storage import write_text_atomic

PRESET = "china-weibo-2012-calibrated"
SPEC = Path(__file__).resolve().parents[1] / "docs" / "calibration-weibo-2012.toml"
SIZES = "10000:4,100000:2,1000000:1"
FIRST_SEED = 931


def measure(users: int, seeds: int) -> dict[str, object]:
    """Mean of each target's metric over `seeds` runs at `users`, with the wall time."""
    plan = cal.load_spec(SPEC)
    runs, start = [], time.perf_counter()
    for s in range(FIRST_SEED, FIRST_SEED + seeds):
        summary = cal.run_summary(load_scenario(PRESET, users=users, seed=s))
        if summary is None:
            raise SystemExit(f"{users} users, seed {s}: the run was stopped")
        runs.append(summary)
    out: dict[str, object] = {"users": users, "seeds": seeds}
    out["seconds"] = round(time.perf_counter() - start, 1)
    for t in plan.targets:
        values = [float(r[t.metric]) for r in runs]  # type: ignore[arg-type]
        out[t.id] = statistics.fmean(values)
    return out


def table(rows: list[dict[str, object]]) -> str:
    plan = cal.load_spec(SPEC)
    head = "| users x days | seeds | " + " | ".join(t.id for t in plan.targets) + " |"
    lines = [head, "|---" * (2 + len(plan.targets)) + "|"]
    bands = " | ".join(f"{t.value:g} ± {t.tolerance():g}" for t in plan.targets)
    lines.append(f"| published | | {bands} |")
    for r in rows:
        cells = []
        for t in plan.targets:
            v = float(r[t.id])  # type: ignore[arg-type]
            mark = "" if abs(v - t.value) <= t.tolerance() else "**"
            cells.append(f"{mark}{v:.3f}{mark}")
        size = f"{int(r['users']):,} x {plan.spec.days:g}"  # type: ignore[call-overload]
        lines.append(f"| {size} | {r['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=SIZES, help="users:seeds, comma-separated")
    ap.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    args = ap.parse_args()
    rows = []
    for part in args.sizes.split(","):
        users, seeds = (int(x) for x in part.split(":"))
        rows.append(measure(users, seeds))
        print(json.dumps(rows[-1]), flush=True)
    print(table(rows))
    if args.out:
        write_text_atomic(args.out, json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
