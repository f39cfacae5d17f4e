"""Parallel efficiency: one run at 1, 2, 4, 8 and 16 threads (issue 22's targets).

    python benchmarks/threads.py                                  # 1,000,000 x 30 days, 1..cores
    python benchmarks/threads.py --users 20000 --days 0.25 --threads 1,2

On a many-core host that cannot install packages (the device host: Python 3.12 with
numba, numpy, scipy, pyarrow, pandas), from a copy of the source tree, with the wheels of
what it lacks (pydantic, pydantic-core, annotated-types, typing-inspection) carried along:

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    PYTHONPATH=/tmp/site:src python3 benchmarks/threads.py --threads 1,2,4,8,16 \\
        --json-out $OUT/threads.json --markdown-out $OUT/threads.md

Each thread count is one run of the same scenario and seed (same results to the bit) in a
fresh process (`benchmarks/scale.py`, `NUMBA_NUM_THREADS`, and `TIGHTROPE_THREADS=fixed`
so that the thread policy keeps every thread whatever the machine's load); with
--repeats R the counts are taken in turn R times and each cell is the median. The table
gives the wall time (set-up included), the speed-up over one thread, the parallel
efficiency (speed-up / threads), and the seconds of the phases that take most (the tick's
phases, `Simulation.phase_seconds`). The targets of issue 22: 8 threads at least 5 times
as fast as 1, and 16 faster than 8. Speed is never asserted: this is a benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale import measure  # noqa: E402

PHASES_SHOWN = ("feed", "posting", "minutes", "record")
"""The phases given their own column; the rest are summed as 'other'."""


def measure_threads(
    preset: str, users: int, days: float, threads: list[int], repeats: int, seed: int = 1
) -> dict[str, Any]:
    """The runs, thread counts taken in turn, `repeats` times; each cell the median."""
    os.environ["TIGHTROPE_THREADS"] = "fixed"
    runs: dict[int, list[dict[str, Any]]] = {k: [] for k in threads}
    for r in range(repeats):
        order = threads if r % 2 == 0 else threads[::-1]
        for k in order:
            m = measure(preset, users, days, seed=seed, threads=k)
            print(f"threads {k}: {m['wall_s']:.1f} s", file=sys.stderr, flush=True)
            runs[k].append(m)
    rows = []
    for k in threads:
        ms = sorted(runs[k], key=lambda m: m["wall_s"])
        mid = dict(ms[len(ms) // 2])
        mid["walls"] = [m["wall_s"] for m in runs[k]]
        rows.append(mid)
    return {
        "preset": preset,
        "users": users,
        "days": days,
        "seed": seed,
        "repeats": repeats,
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
        "rows": rows,
    }


def markdown(measured: dict[str, Any]) -> str:
    """The table and the targets, as the performance page shows them."""
    rows = measured["rows"]
    one = next((r for r in rows if r["threads"] == 1), None)
    head = "| threads | wall s | speed-up | efficiency | " + " | ".join(PHASES_SHOWN)
    lines = [
        f"{measured['preset']}, {measured['users']:,} users x {measured['days']:g} days "
        f"(seed {measured['seed']}), on a machine of {measured['cpu_count']} cores; median "
        f"of {measured['repeats']} run(s) per thread count, each in a fresh process, the "
        "counts taken in turn. Measured "
        f"{measured['date']} with `python benchmarks/threads.py` (the `efficiency` part of "
        "benchmarks/run.py). Phase columns: seconds of the tick's phases.",
        "",
        head + " | other |",
        "|" + "---|" * (len(PHASES_SHOWN) + 5),
    ]
    for r in rows:
        speed = one["wall_s"] / r["wall_s"] if one else float("nan")
        ph = r["phase_seconds"]
        shown = [ph.get(p, 0.0) for p in PHASES_SHOWN]
        other = sum(ph.values()) - sum(shown)
        lines.append(
            f"| {r['threads']} | {r['wall_s']:.1f} | {speed:.2f}x | {speed / r['threads']:.2f} | "
            + " | ".join(f"{x:.1f}" for x in shown)
            + f" | {other:.1f} |"
        )
    by = {r["threads"]: r["wall_s"] for r in rows}
    lines.append("")
    if one and 8 in by:
        s8 = by[1] / by[8]
        lines.append(
            f"- 8 threads at least 5 times as fast as 1: {s8:.2f}x, "
            f"**{'met' if s8 >= 5 else 'not met'}**."
        )
    else:
        lines.append("- 8 threads at least 5 times as fast as 1: not measured on this machine.")
    if 8 in by and 16 in by:
        lines.append(
            f"- 16 threads faster than 8: {by[8]:.1f} s against {by[16]:.1f} s, "
            f"**{'met' if by[16] < by[8] else 'not met'}**."
        )
    else:
        lines.append("- 16 threads faster than 8: not measured on this machine.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="china-comprehensive-2021")
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=1)
    cores = os.cpu_count() or 1
    default = ",".join(str(k) for k in (1, 2, 4, 8, 16) if k <= cores)
    ap.add_argument("--threads", default=default, help=f"comma list (default {default})")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--markdown-out", type=Path)
    a = ap.parse_args(argv)
    threads = [int(t) for t in a.threads.split(",") if t.strip()]
    if not threads or min(threads) < 1 or a.repeats < 1:
        print("error: --threads takes whole numbers of 1 or more; --repeats 1 or more",
              file=sys.stderr)  # fmt: skip
        return 2
    measured = measure_threads(a.preset, a.users, a.days, threads, a.repeats, a.seed)
    text = markdown(measured)
    print(text)
    from tightrope.results.storage import write_text_atomic

    if a.json_out is not None:
        write_text_atomic(a.json_out, json.dumps(measured, indent=1) + "\n")
    if a.markdown_out is not None:
        write_text_atomic(a.markdown_out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
