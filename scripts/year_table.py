"""Print the year table of docs/model.md 8.9: every preset run for 365 days at 1,000 users,
seed 1 (the runs of tests/test_year.py), one markdown row each.

    python scripts/year_table.py

Runs in two worker processes (about a minute with warm kernels).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from tightrope import load_scenario, preset_names, run

USERS = 1000
DAYS = 365
SEED = 1
SANCTIONS = (
    ("naming", "sanctions_naming"),
    ("revenue fine", "sanctions_revenue_fine"),
    ("suspension", "sanctions_suspension"),
    ("licence withdrawal", "sanctions_licence_withdrawal"),
)
SCORES = ("order_score", "development_score", "freedom_score")


def year_row(name: str) -> str:
    """One preset's row: adaptive platforms' effort, sanctions, incidents, the scores at
    day 365 and the largest move of a score over the last quarter."""
    from tightrope.engine.driver import one_thread_in_workers

    one_thread_in_workers()
    sc = load_scenario(name, users=USERS, days=DAYS, seed=SEED)
    result = run(sc)
    summary = result.summary
    ts = result.timeseries.to_pandas()
    plat = result.platforms.to_pandas()
    adaptive = [p for p, spec in sc.platforms.items() if spec.compliance.mode == "adaptive"]
    efforts = []
    for p in adaptive:
        e = plat.loc[plat.platform == p, "effort"]
        efforts.append(f"{p} {e.min():.2f}-{e.max():.2f} (mean {e.mean():.2f})")
    sanctions = [f"{label} {int(summary[key])}" for label, key in SANCTIONS if summary[key]]
    last = ts.iloc[-1]
    quarter = ts.iloc[-1 - 91 * (1440 // sc.run.tick_minutes)]  # as tests/test_year.py
    moved = max(abs(float(last[s]) - float(quarter[s])) for s in SCORES)
    scores = " / ".join(f"{float(last[s]):.3f}" for s in SCORES)
    return (
        f"| {name} | {'; '.join(efforts) or 'none adaptive'} | {', '.join(sanctions) or 'none'} "
        f"| {int(summary['incidents'])} | {scores} | {moved:.3f} |"
    )


def main() -> None:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        rows = list(pool.map(year_row, preset_names()))
    print(
        "| preset | adaptive platforms' effort over the year: min-max (mean) | sanctions "
        "| incidents | order / development / freedom at day 365 "
        "| largest move of a score over the last quarter |"
    )
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
