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
import time
from pathlib import Path
from typing import Any

from tightrope import load_scenario
from tightrope.experiments import calibration as cal
from tightrope.results.storage import write_text_atomic

PRESET = "china-weibo-2012-calibrated"
SPEC = Path(__file__).resolve().parents[1] / "docs" / "calibration-weibo-2012.toml"
SIZES = "10000:4,100000:2,1000000:1"
FIRST_SEED = 931


def measure(plan: cal.Plan, users: int, seeds: int) -> dict[str, object]:
    """Each target's fit row (`calibration.fit_rows`: mean, interval, within) over `seeds`
    runs at `users`, with the wall time."""
    start = time.perf_counter()
    sums = cal.run_summaries(
        [load_scenario(PRESET, users=users, seed=s) for s in range(FIRST_SEED, FIRST_SEED + seeds)]
    )
    if any(x is None for x in sums):
        raise SystemExit(f"{users} users: a run was stopped")
    rows, _ = cal.fit_rows(plan.targets, sums)
    out: dict[str, object] = {"users": users, "seeds": seeds}
    out["seconds"] = round(time.perf_counter() - start, 1)
    out["targets"] = {r["target"]: {"mean": r["sim_mean"], "within": r["within"]} for r in rows}
    return out


def table(plan: cal.Plan, rows: list[dict[str, Any]]) -> str:
    head = "| users x days | seeds | " + " | ".join(t.id for t in plan.targets) + " |"
    lines = [head, "|---" * (2 + len(plan.targets)) + "|"]
    bands = " | ".join(f"{t.value:g} ± {t.tolerance():g}" for t in plan.targets)
    lines.append(f"| published | | {bands} |")
    for r in rows:
        cells = []
        for t in plan.targets:
            got = r["targets"][t.id]
            mark = "" if got["within"] else "**"
            cells.append(f"{mark}{got['mean']:.3f}{mark}")
        size = f"{r['users']:,} x {plan.spec.days:g}"
        lines.append(f"| {size} | {r['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default=SIZES, help="users:seeds, comma-separated")
    ap.add_argument("--out", type=Path, default=None, help="also write the rows as JSON")
    args = ap.parse_args()
    plan = cal.load_spec(SPEC)
    rows: list[dict[str, Any]] = []
    for part in args.sizes.split(","):
        users, seeds = (int(x) for x in part.split(":"))
        rows.append(measure(plan, users, seeds))
        print(json.dumps(rows[-1]), flush=True)
    print(table(plan, rows))
    if args.out:
        write_text_atomic(args.out, json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
