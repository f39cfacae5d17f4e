"""Comparing scenarios over replicates, with common random numbers.

Every scenario is run with the same `replicates` seeds, spawned from one root seed, so the
differences between scenarios are paired: replicate i of scenario B is compared with
replicate i of the baseline (the first scenario), which removes most of the seed noise.
For each metric the comparison gives the mean over replicates with a 95% t interval, and
the mean paired difference against the baseline with a 95% t interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import InputError
from .results import Result
from .scenario import Scenario
from .scenario_files import load_scenario

HEADLINE: tuple[str, ...] = ("order_score", "development_score", "freedom_score", "balance")
"""Metrics listed first in every comparison: the three goal scores (in [0, 1]) and balance."""

GOALS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Order", "order_score", ("harm_views_per_user", "rumor_views_per_user", "incidents")),
    ("Development", "development_score", (
        "active_users", "posts", "revenue", "compliance_cost", "fines", "profit",
    )),
    ("Freedom", "freedom_score", (
        "intents", "self_censored_share", "removed_share", "wrongful_removal_share",
        "median_minutes_to_removal", "requests", "requests_answered_share",
        "median_minutes_to_answer", "vpn_share",
    )),
)  # fmt: skip
"""How the summary is shown: each goal's score (0 to 1), then its parts (as in the report)."""


def goal_rows(keys: Sequence[str]) -> list[tuple[str, str, bool]]:
    """(section, metric, is_score) in display order; keys no goal claims go under Other."""
    rows: list[tuple[str, str, bool]] = []
    shown: set[str] = set()
    for goal, score, parts in GOALS:
        rows.append((goal, score, True))
        rows += [(goal, p, False) for p in parts if p in keys]
        shown |= {score, *parts}
    rows += [("Balance", "balance", True), ("Balance", "tilt", False)]
    shown |= {"balance", "tilt"}
    rows += [("Other", k, False) for k in keys if k not in shown]
    return rows


COMPARISON_COLUMNS: tuple[str, ...] = (
    "scenario", "baseline", "metric", "mean", "ci_low", "ci_high", "diff_mean",
    "diff_ci_low", "diff_ci_high", "n", "diff_n",
)  # fmt: skip
"""Columns of `comparison.parquet`. `n`: replicates with a finite value of the metric;
`diff_n`: replicate pairs (scenario, baseline) both finite. Intervals need n >= 2 and are
null otherwise; the baseline's own diff columns are null. Units are the metric's own."""

ONE_REPLICATE_NOTE = "one replicate only: confidence intervals need at least two (shown as NaN)"

Progress = Callable[[float, int], None]
"""progress(runs_done, runs_total): runs_done counts finished runs plus the running one's
finished fraction."""


def child_seeds(root_seed: int, replicates: int) -> list[int]:
    """`replicates` integer seeds spawned from `SeedSequence(root_seed)`, one per replicate."""
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(child.generate_state(1)[0]) for child in children]


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite values; the interval is NaN when n < 2."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    from scipy.stats import t  # lazy: keeps the command line quick to start

    half = float(t.ppf(0.5 + level / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def numeric_metrics(summaries: Iterable[dict[str, Any]]) -> list[str]:
    """The headline metrics, then every other numeric summary key in first-seen order."""
    keys = list(HEADLINE)
    for summary in summaries:
        for key, value in summary.items():
            if key in keys or isinstance(value, bool | str) or value is None:
                continue
            try:
                float(value)
            except (TypeError, ValueError):
                continue
            keys.append(key)
    return keys


def _value(summary: dict[str, Any], key: str) -> float:
    value = summary.get(key)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def comparison_rows(
    labels: Sequence[str], summaries: dict[str, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """One row per scenario and metric (see COMPARISON_COLUMNS); the first label is the baseline."""
    base = labels[0]
    metrics = numeric_metrics(s for label in labels for s in summaries[label])
    rows: list[dict[str, Any]] = []
    for label in labels:
        for metric in metrics:
            values = [_value(s, metric) for s in summaries[label]]
            mean, lo, hi, n = t_interval(values)
            row = {"scenario": label, "baseline": base, "metric": metric, "mean": mean}
            row |= {"ci_low": lo, "ci_high": hi}
            d_mean = d_lo = d_hi = math.nan
            d_n = 0
            if label != base:
                base_values = [_value(s, metric) for s in summaries[base]]
                diffs = [a - b for a, b in zip(values, base_values, strict=True)]
                d_mean, d_lo, d_hi, d_n = t_interval(diffs)
            row |= {"diff_mean": d_mean, "diff_ci_low": d_lo, "diff_ci_high": d_hi}
            row |= {"n": n, "diff_n": d_n}
            rows.append(row)
    return rows


def rows_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """The comparison rows as an Arrow table; NaN becomes null."""

    def num(name: str) -> pa.Array:
        vals = [r[name] for r in rows]
        return pa.array([v if math.isfinite(v) else None for v in vals], pa.float64())

    cols: dict[str, pa.Array] = {}
    for name in COMPARISON_COLUMNS:
        if name in ("scenario", "baseline", "metric"):
            cols[name] = pa.array([r[name] for r in rows], pa.string())
        elif name in ("n", "diff_n"):
            cols[name] = pa.array([r[name] for r in rows], pa.int64())
        else:
            cols[name] = num(name)
    return pa.table(cols)


@dataclass
class ComparisonResult:
    """What `compare` gives back.

    labels: scenario labels in order (the first is the baseline); seeds: the replicate
    seeds, shared by all scenarios; summaries: label -> one summary dict per replicate;
    rows: see COMPARISON_COLUMNS; run_dirs: stored run folders (empty without out_dir).
    """

    labels: list[str]
    seeds: list[int]
    users: int
    days: float
    summaries: dict[str, list[dict[str, Any]]]
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    run_dirs: list[Path] = field(default_factory=list)
    comparison_path: Path | None = None

    @property
    def baseline(self) -> str:
        return self.labels[0]

    def table(self) -> pa.Table:
        """The rows as an Arrow table (NaN as null)."""
        return rows_table(self.rows)

    def row(self, scenario: str, metric: str) -> dict[str, Any]:
        """The row of one scenario and metric."""
        for r in self.rows:
            if r["scenario"] == scenario and r["metric"] == metric:
                return r
        raise KeyError((scenario, metric))


def _labels(sources: Sequence[str], scenarios: Sequence[Scenario]) -> list[str]:
    names = [s.name for s in scenarios]
    labels = [
        name if names.count(name) == 1 else str(src)
        for name, src in zip(names, sources, strict=True)
    ]
    if len(set(labels)) != len(labels):
        dup = sorted({x for x in labels if labels.count(x) > 1})
        raise InputError(f"each scenario may be compared once; repeated: {', '.join(dup)}")
    return labels


def timed_run(
    scenario: Scenario, progress: Callable[[int, int], None] | None = None
) -> tuple[Result, datetime, datetime]:
    """Run the engine on a scenario; return the result and its UTC start and end times."""
    from . import simulation

    started = datetime.now(UTC)
    result = simulation.run(scenario, progress=progress)
    return result, started, datetime.now(UTC)


def prepare(
    sources: Sequence[str],
    *,
    replicates: int,
    root_seed: int,
    users: int | None = None,
    days: float | None = None,
    overrides: Iterable[str] = (),
    out_dir: str | Path | None = None,
) -> tuple[list[str], list[Scenario], list[int]]:
    """Validate everything a comparison needs before any run: labels, scenarios, seeds."""
    if not sources:
        raise InputError("compare needs at least one scenario")
    if replicates < 1:
        raise InputError(f"replicates must be at least 1, got {replicates}")
    if root_seed < 0:
        raise InputError(f"the root seed must be 0 or more, got {root_seed}")
    overrides = list(overrides)
    problems: list[str] = []
    scenarios: list[Scenario] = []
    for src in sources:
        try:
            scenarios.append(load_scenario(src, overrides, users=users, days=days))
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError("\n".join(problems))
    labels = _labels(sources, scenarios)
    if out_dir is not None:
        from .storage import check_out_dir

        check_out_dir(out_dir)
    return labels, scenarios, child_seeds(root_seed, replicates)


def compare(
    sources: Sequence[str],
    *,
    replicates: int,
    root_seed: int,
    users: int | None = None,
    days: float | None = None,
    overrides: Iterable[str] = (),
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> ComparisonResult:
    """Run every scenario with the same `replicates` seeds and compare them with the first.

    `sources` are preset names or TOML files; `users`, `days` and `overrides` apply to all.
    With `out_dir`, each run is stored (storage.save_run, replicate set) as it finishes and
    `out_dir/comparison.parquet` is written at the end. All input is validated first; bad
    input raises InputError before any run.
    """
    labels, scenarios, seeds = prepare(
        sources,
        replicates=replicates,
        root_seed=root_seed,
        users=users,
        days=days,
        overrides=overrides,
        out_dir=out_dir,
    )
    from . import storage

    total = len(scenarios) * len(seeds)
    summaries: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
    run_dirs: list[Path] = []
    done = 0
    for label, base in zip(labels, scenarios, strict=True):
        for rep, seed in enumerate(seeds):
            scenario = load_scenario(base, seed=seed)

            def tick(d: int, t: int, _done: int = done) -> None:
                if progress is not None and t > 0:
                    progress(_done + d / t, total)

            result, started, finished = timed_run(scenario, tick)
            summaries[label].append(dict(result.summary))
            if out_dir is not None:
                run_dirs.append(
                    storage.save_run(
                        result, out_dir, replicate=rep, started_at=started, finished_at=finished
                    )
                )
            done += 1
            if progress is not None:
                progress(done, total)
    rows = comparison_rows(labels, summaries)
    first = scenarios[0].run
    out = ComparisonResult(
        labels=labels,
        seeds=seeds,
        users=first.users,
        days=first.days,
        summaries=summaries,
        rows=rows,
        notes=[ONE_REPLICATE_NOTE] if replicates == 1 else [],
        run_dirs=run_dirs,
    )
    if out_dir is not None:
        out.comparison_path = storage.write_table_atomic(
            out.table(), Path(out_dir) / "comparison.parquet"
        )
    return out
