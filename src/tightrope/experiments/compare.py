"""Comparing scenarios over replicates, with common random numbers.

Every scenario is run with the same `replicates` seeds, spawned from one root seed, so the
differences between scenarios are paired: replicate i of scenario B is compared with
replicate i of the baseline (the first scenario), which removes most of the seed noise.
For each metric the comparison gives the mean over replicates with a 95% interval that stays
in the metric's range (`tightrope.results.intervals`: a t interval on the logit scale for figures in
[0, 1], clipped at 0 for figures of 0 or more, plain t otherwise), and the mean paired
difference against the baseline with a 95% t interval (clipped to [-1, 1] for figures in
[0, 1]).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from tightrope.errors import InputError
from tightrope.experiments.runner import DEFAULT_CONNECT_TIMEOUT, _backend
from tightrope.experiments.seeds import child_seeds
from tightrope.results import intervals
from tightrope.scenario.files import canonical_json, load_scenario
from tightrope.scenario.schema import Scenario

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
        "median_minutes_to_answer", "vpn_share", "access_share", "criticism_reach",
        "punished_legit", "identifiable_share",
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
`diff_n`: replicate pairs (scenario, baseline) both finite. `ci_low`, `ci_high`: the 95%
interval of the mean from `intervals.interval` with the metric's support
(`intervals.support`): inside [0, 1] for scores and shares, at or above 0 for counts and
times, and asymmetric about the mean near those bounds (files written before this rule hold
symmetric t intervals). `diff_ci_low`, `diff_ci_high`: the paired t interval of the mean
difference (`intervals.difference`). Intervals need n >= 2 and are null otherwise; the
baseline's own diff columns are null. Units are the metric's own."""

ONE_REPLICATE_NOTE = "one replicate only: confidence intervals need at least two (shown as NaN)"

Progress = Callable[[float, int], None]
"""progress(runs_done, runs_total): runs_done counts finished runs plus the running one's
finished fraction."""


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
    """One row per scenario and metric (see COMPARISON_COLUMNS); the first label is the baseline.

    Means get the interval of the metric's support (`intervals.interval`), paired differences
    the t interval (`intervals.difference`)."""
    base = labels[0]
    metrics = numeric_metrics(s for label in labels for s in summaries[label])
    rows: list[dict[str, Any]] = []
    for label in labels:
        for metric in metrics:
            values = [_value(s, metric) for s in summaries[label]]
            kind = intervals.support(metric)
            mean, lo, hi, n = intervals.interval(values, kind)
            row = {"scenario": label, "baseline": base, "metric": metric, "mean": mean}
            row |= {"ci_low": lo, "ci_high": hi}
            d_mean = d_lo = d_hi = math.nan
            d_n = 0
            if label != base:
                base_values = [_value(s, metric) for s in summaries[base]]
                diffs = [a - b for a, b in zip(values, base_values, strict=True)]
                d_mean, d_lo, d_hi, d_n = intervals.difference(diffs, kind)
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
    """Each scenario's label: its name, or where two share a name its file's name (its
    path where the file names are the same too), so that every regime is told apart."""
    names = [s.name for s in scenarios]
    short = [Path(str(src)).name for src in sources]
    labels = [
        name if names.count(name) == 1 else (base if short.count(base) == 1 else str(src))
        for name, base, src in zip(names, short, sources, strict=True)
    ]
    if len(set(labels)) != len(labels):
        dup = sorted({x for x in labels if labels.count(x) > 1})
        raise InputError(f"each scenario may be compared once; repeated: {', '.join(dup)}")
    return labels


COMPARISON_FORMAT = "tightrope-comparison/1"
"""The `format` of DIR/comparison.json, which says what comparison a folder holds."""


def comparison_json(
    sources: Sequence[str], labels: Sequence[str], scenarios: Sequence[Scenario],
    seeds: Sequence[int], root_seed: int,
) -> dict[str, Any]:  # fmt: skip
    """What a comparison is: its regimes (labels and config hashes without the seed) and
    its replicate seeds. `comparison_sha256` identifies it: running the same comparison
    again into its folder goes on where it stopped; another one is refused."""
    from tightrope.results.storage import regime_sha256

    regimes = [regime_sha256(sc) for sc in scenarios]
    ident = {"labels": list(labels), "regimes": regimes, "seeds": [int(x) for x in seeds]}
    text = json.dumps(ident, sort_keys=True, separators=(",", ":"))
    return {
        "format": COMPARISON_FORMAT,
        "comparison_sha256": hashlib.sha256(text.encode()).hexdigest(),
        "labels": list(labels),
        "sources": [str(x) for x in sources],
        "scenarios": [sc.name for sc in scenarios],
        "regime_sha256": regimes,
        "replicates": len(seeds),
        "root_seed": int(root_seed),
        "seeds": [int(x) for x in seeds],
        "users": [int(sc.run.users) for sc in scenarios],
        "days": [float(sc.run.days) for sc in scenarios],
    }


def check_comparison_folder(out: Path, meta: Mapping[str, Any]) -> None:
    """Refuse a folder that holds anything but this comparison's runs (InputError)."""
    from tightrope.results.storage import (
        another_owner,
        check_folder_kind,
        check_out_dir,
        read_owner,
    )

    check_out_dir(out)
    check_folder_kind(out, "comparison", "compare")
    old = read_owner(out / "comparison.json")
    if old is None:
        if (out / "comparison.parquet").exists():
            raise InputError(
                f"{out} holds the results of another comparison (written by an older "
                "Tightrope, without comparison.json): give another --out folder"
            )
        return
    if old.get("comparison_sha256") == meta["comparison_sha256"]:
        return
    keys = ("labels", "regime_sha256", "seeds", "users", "days")
    diff = [k for k in keys if old.get(k) != meta.get(k)] or ["their settings"]
    theirs = ", ".join(map(str, old.get("labels") or []))
    raise another_owner(out, "comparison", theirs, old.get("comparison_sha256"),
                        ", ".join(meta["labels"]), meta["comparison_sha256"],
                        f"they differ in {', '.join(diff)}")  # fmt: skip


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
        from tightrope.results.storage import check_out_dir

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
    workers: int = 1,
) -> ComparisonResult:
    """Run every scenario with the same `replicates` seeds and compare them with the first.

    `sources` are preset names or TOML files; `users`, `days` and `overrides` apply to all.
    `workers`: 1 runs in this process (each run on all cores), more runs that many at once
    in a process pool (each on one core).

    With `out_dir`, the folder belongs to this comparison (DIR/comparison.json; another
    comparison, an experiment or single runs there are refused, and so is a second command
    writing there meanwhile): each run is stored (storage.save_run) as it finishes, and
    `out_dir/comparison.parquet` is written at the end. Running the same comparison again
    into the same folder runs only what is missing (a stop, a failed or damaged run). All
    input is validated first; bad input raises InputError before any run. Runs that fail
    are stored apart from the others and raise RuntimeError at the end.
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
    _backend("process", workers, None, DEFAULT_CONNECT_TIMEOUT)  # the runner's own checks
    meta = comparison_json(sources, labels, scenarios, seeds, root_seed)
    if out_dir is not None:
        check_comparison_folder(Path(out_dir), meta)
    with contextlib.ExitStack() as stack:
        if out_dir is None:  # the runs are stored all the same, in a folder removed after
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tightrope-")))
        else:
            from tightrope.results.storage import folder_lock

            out = Path(out_dir)
            out.mkdir(parents=True, exist_ok=True)
            stack.enter_context(folder_lock(out, "compare"))
            check_comparison_folder(out, meta)  # again, now that no other command writes
            if not (out / "comparison.json").exists():
                from tightrope.results.storage import write_text_atomic

                text = json.dumps(meta, indent=2, allow_nan=False) + "\n"
                write_text_atomic(out / "comparison.json", text)
        records = _run_missing(meta, scenarios, out, workers, progress, out_dir is not None)
        summaries = {
            label: [_summary(records[(p, r)]) for r in range(len(seeds))]
            for p, label in enumerate(labels)
        }
        run_dirs = [
            out / "runs" / records[(p, r)]["run_id"]
            for p in range(len(labels))
            for r in range(len(seeds))
        ]
        rows = comparison_rows(labels, summaries)
        first = scenarios[0].run
        result = ComparisonResult(
            labels=labels,
            seeds=seeds,
            users=first.users,
            days=first.days,
            summaries=summaries,
            rows=rows,
            notes=[ONE_REPLICATE_NOTE] if replicates == 1 else [],
            run_dirs=run_dirs if out_dir is not None else [],
        )
        if out_dir is not None:
            from tightrope.results import storage

            result.comparison_path = storage.write_table_atomic(
                result.table(), out / "comparison.parquet"
            )
    return result


def _summary(record: Mapping[str, Any]) -> dict[str, Any]:
    """A run's summary from its record; null (a NaN when stored) becomes NaN again."""
    return {k: math.nan if v is None else v for k, v in record["summary"].items()}


def _run_missing(
    meta: Mapping[str, Any],
    scenarios: Sequence[Scenario],
    out: Path,
    workers: int,
    progress: Progress | None,
    kept: bool,
) -> dict[tuple[int, int], dict[str, Any]]:
    """Run what the folder lacks of the comparison; return every run's record."""
    from tightrope.engine.stops import Stopped
    from tightrope.experiments.runner import RunTask, _open_backend, _Processes, _records, _Serial

    seeds = list(meta["seeds"])
    index = {"experiment_sha256": meta["comparison_sha256"], "seeds": seeds}
    index["points"] = len(scenarios)
    done = _records(out, index)
    total = len(scenarios) * len(seeds)
    tasks = [
        RunTask(
            experiment_sha256=meta["comparison_sha256"],
            out_dir=str(out),
            point=p,
            replicate=r,
            seed=seed,
            scenario_name=sc.name,
            base=json.loads(canonical_json(sc)),
            values={},
            users=sc.run.users,
            days=sc.run.days,
            outcomes=(),
            label=meta["labels"][p],
            keep_summary=True,
        )
        for p, sc in enumerate(scenarios)
        for r, seed in enumerate(seeds)
        if (p, r) not in done
    ]
    settled = len(done)
    failed: list[str] = []
    if progress is not None:
        progress(settled, total)

    def ticks(task: RunTask, t: int, n: int) -> None:
        if progress is not None and n > 0:
            progress(settled + t / n, total)

    def on_result(task: RunTask, record: dict[str, Any] | None, error: str | None,
                  detail: str) -> None:  # fmt: skip
        nonlocal settled
        settled += 1
        if record is None:
            failed.append(f"{meta['labels'][task.point]}, replicate {task.replicate}: {error}")
        if progress is not None:
            progress(settled, total)

    engine: _Serial | _Processes = (
        _Serial(ticks) if workers == 1 else _open_backend("process", workers, None, 1.0)
    )  # type: ignore[assignment]
    try:
        engine.run(tasks, on_result)
    except Stopped as stop:
        stored = len(_records(out, index))
        if kept:
            stop.kept.append(f"{stored} of {total} runs are stored in {out}")
            stop.resume = "run the same command again to go on: only the missing runs run"
        else:
            stop.kept.append(f"{stored} of {total} runs had finished, nothing is kept")
            stop.resume = "give --out next time to keep the finished runs and go on later"
        raise
    finally:
        engine.close()
    records = _records(out, index)
    if failed or len(records) < total:
        lines = "; ".join(failed[:5]) + (f"; and {len(failed) - 5} more" if len(failed) > 5 else "")
        where = " The other runs are stored: run the same command again to retry." if kept else ""
        raise RuntimeError(f"{total - len(records)} of {total} runs failed: {lines}.{where}")
    return records
