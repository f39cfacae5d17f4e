"""The report of a results folder: one self-contained HTML file that works offline.

`write_report(DIR)` reads the runs stored under `DIR/runs/<run_id>/` (manifest.json and the
Parquet tables that `storage` writes; hidden folders are skipped), and `DIR/comparison.parquet`
when a comparison wrote one, and writes `DIR/report.html` through a temporary file and a
rename. The page inlines plotly.js once and loads nothing from anywhere: no CDN, no fonts,
no MathJax, and a Content-Security-Policy that forbids any fetch. The figures themselves are
built in `report_figures`.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tightrope.errors import InputError
from tightrope.experiments.analysis import GOALS, short_names
from tightrope.experiments.analysis import TABLES as ANALYSIS_TABLES
from tightrope.report import figures
from tightrope.results import intervals
from tightrope.results.storage import (
    check_runs,
    config_regime_sha256,
    display_labels,
    run_folders,
    write_text_atomic,
)
from tightrope.scenario.content import CATEGORIES

REPORT_NAME = "report.html"
PLOT_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}
ID_COLUMNS = ("run_id", "scenario", "seed", "users", "days", "config_sha256", "replicate")
_NEEDED = {"ts": {"tick"}, "pl": {"tick", "platform"},
           "hist": {"measure", "lo_minutes", "hi_minutes", "count"}, "cat": {"category"},
           "casc": {"category", "lo_size", "hi_size", "posts"}, "pday": {"day", "platform"},
           "reg": {"region"}, "coh": {"cohort"}}  # fmt: skip
_TABLES = (("ts", "timeseries"), ("pl", "platforms"), ("hist", "histograms"),
           ("cat", "categories"), ("casc", "cascades"), ("pday", "platform_days"),
           ("reg", "regions"), ("coh", "cohorts"))  # fmt: skip
CATEGORY_SHOWN = (
    "intents", "self_censored", "posts", "published", "blocked", "held", "removed_filter",
    "removed_report", "removed_inspection", "removed_sweep", "removed_author", "removed",
    "wrongful_removed", "views", "reshares", "median_minutes_to_removal",
)  # fmt: skip
"""Columns of `Result.categories` shown in the report's table by category."""
_SCENARIO_HEADERS = ("scenario", "description", "runs", "seeds", "users", "days", "tick (min)",
                     "config sha256")  # fmt: skip
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; worker-src blob:"
)
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;
 margin:0;color:#1d2530;background:#fafbfc;line-height:1.45}
header,main{max-width:1240px;margin:0 auto;padding:0 24px}
header{padding-top:18px}h1{margin:0 0 4px;font-size:1.7em}
h2{margin:0 0 8px;font-size:1.3em}h3{font-size:1.05em;margin:18px 0 6px}
nav{font-size:.92em;margin:8px 0 4px}nav a{margin-right:14px;color:#245;white-space:nowrap}
section{background:#fff;border:1px solid #e3e7ec;border-radius:6px;padding:16px 20px;margin:18px 0}
.how{background:#f2f6fa;border-left:4px solid #7aa6c8;padding:8px 12px;margin:0 0 12px;
 font-size:.93em;max-width:980px}
.muted,.sd{color:#6b7683}.sd{font-size:.85em;white-space:nowrap}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.9em;margin:6px 0 10px}
th,td{border-bottom:1px solid #e6e9ed;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f4f6f8;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.group td{background:#eef2f6;font-weight:600;text-transform:capitalize}
code{font-size:.95em}
.figure{margin:4px 0 8px}.empty{color:#6b7683;font-style:italic}.nw{white-space:nowrap}
"""


class _Raw(str):
    """Text that is already HTML (built here from escaped parts): not escaped again."""


def _e(value: object) -> str:
    return value if isinstance(value, _Raw) else html.escape(str(value), quote=True)


def fmt(value: object, percent: bool = False) -> str:
    """A number as short readable text; None, NaN and infinities as "n/a"."""
    if isinstance(value, str):
        return value
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "n/a" if value is None or value is pd.NA else str(value)
    if not math.isfinite(v):
        return "n/a"
    if percent:
        return f"{v:.1%}"
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}" if abs(v) >= 1 else f"{v:.3g}"


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: int = 1) -> str:
    """An HTML table; cells from column `numeric` on are right-aligned; all text escaped.

    A row that is a plain string becomes a full-width group heading.
    """
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        if isinstance(row, str):
            body.append(f'<tr class="group"><td colspan="{len(headers)}">{_e(row)}</td></tr>')
            continue
        cells = "".join(
            f'<td class="num">{_e(c)}</td>' if i >= numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<div class="scroll"><table><tr>{head}</tr>{"".join(body)}</table></div>'


@dataclass
class Results:
    """What a results folder holds, as pandas frames (one row per run in `summary`)."""

    root: Path
    manifests: dict[str, dict[str, Any]]
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    platforms: pd.DataFrame
    histograms: pd.DataFrame
    comparison: pd.DataFrame | None
    skipped: list[str]
    scenarios: list[str]
    categories: pd.DataFrame = field(default_factory=pd.DataFrame)  # none: stored before
    cascades: pd.DataFrame = field(default_factory=pd.DataFrame)
    platform_days: pd.DataFrame = field(default_factory=pd.DataFrame)
    regions: pd.DataFrame = field(default_factory=pd.DataFrame)
    cohorts: pd.DataFrame = field(default_factory=pd.DataFrame)


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pq.read_table(path).to_pandas()
    except Exception as exc:  # any Arrow/OS failure: name the file
        raise InputError(f"cannot read {path}: {exc}") from None


def _manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    return data if isinstance(data, dict) else {}


def _given(*values: object) -> str:
    """The first value that is neither missing (None, NaN) nor empty, as text."""
    for value in values:
        if fmt(value) != "n/a" and str(value):
            return str(value)
    return ""


def _timed(frame: pd.DataFrame, tick_minutes: float) -> pd.DataFrame:
    """Add the time columns that the figures use: t_days (end of tick), day, ticks_per_day."""
    per_day = 1440 / tick_minutes
    tick = frame["tick"].astype(float)
    return frame.assign(t_days=(tick + 1) / per_day, day=tick // per_day, ticks_per_day=per_day)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def load_results(results_dir: Path) -> Results:
    """Read every stored run of `results_dir`; raise InputError if there is none."""
    root = Path(results_dir)
    if not root.exists():
        raise InputError(f"results folder not found: {root}")
    if not root.is_dir():
        raise InputError(f"results folder {root} is a file, not a folder")
    check_runs(root)  # a damaged or incomplete run is named, never read
    folders = run_folders(root)
    manifests: dict[str, dict[str, Any]] = {}
    tables: dict[str, list[pd.DataFrame]] = {n: [] for n in ("s", *(k for k, _ in _TABLES))}
    skipped: list[str] = []
    regimes: dict[str, dict[str, Any]] = {}  # run id -> label and regime
    for folder in folders:
        summary = _read(folder / "summary.parquet")
        if summary is None or summary.empty:
            skipped.append(folder.name)
            continue
        manifest = _manifest(folder / "manifest.json")
        row = summary.iloc[0]
        rid = _given(row.get("run_id"), manifest.get("run_id"), folder.name)
        name = _given(row.get("scenario"), manifest.get("scenario"), "unnamed")
        regime = _given(row.get("regime_sha256"), manifest.get("regime_sha256"))
        if not regime and isinstance(manifest.get("config"), dict):  # stored before regimes
            regime = config_regime_sha256(manifest["config"])
        label = _given(row.get("label"), manifest.get("label"), name)
        regimes[rid] = {"label": label, "regime_sha256": regime or f"run {rid}"}
        manifests[rid] = manifest
        tables["s"].append(summary.iloc[:1].assign(run_id=rid, scenario=name))
        run_cfg = (manifest.get("config") or {}).get("run") or {}
        tick_minutes = float(run_cfg.get("tick_minutes") or 60)
        for key, table in _TABLES:
            # categories and cascades are absent from runs stored before they existed
            frame = _read(folder / f"{table}.parquet")
            if frame is None or frame.empty or not _NEEDED[key] <= set(frame.columns):
                continue  # nothing to draw from it (the summary still counts the run)
            frame = frame.assign(run_id=rid)
            if key in ("ts", "pl"):
                frame = _timed(frame, tick_minutes)
            tables[key].append(frame)
    if not manifests:
        raise InputError(f"results folder {root} holds no runs (no runs/<run_id>/summary.parquet)")
    # runs are grouped by what was run (the config without its seed), under the label the
    # user saw; two regimes that share a label are told apart by their hash
    shown = display_labels(list(regimes.values()))
    by_run = {rid: shown[r["regime_sha256"]] for rid, r in regimes.items()}
    for key in tables:
        tables[key] = [f.assign(scenario=f["run_id"].map(by_run)) for f in tables[key]]
    summary = _concat(tables["s"])
    comparison = _read(root / "comparison.parquet")
    order: list[str] = []
    if comparison is not None and {"baseline", "scenario"} <= set(comparison.columns):
        named = comparison[["baseline", "scenario"]].to_numpy().T.ravel()
        order = [str(s) for s in pd.unique(named)]
    present = set(summary["scenario"])
    scenarios = [s for s in order if s in present] + sorted(present - set(order))
    if "platform" in (pl := _concat(tables["pl"])).columns:
        pl["platform"] = pl["platform"].astype(str)
    return Results(
        root=root,
        manifests=manifests,
        summary=summary,
        timeseries=_concat(tables["ts"]),
        platforms=pl,
        histograms=_concat(tables["hist"]),
        comparison=comparison,
        skipped=skipped,
        scenarios=scenarios,
        categories=_concat(tables["cat"]),
        cascades=_concat(tables["casc"]),
        platform_days=_concat(tables["pday"]),
        regions=_concat(tables["reg"]),
        cohorts=_concat(tables["coh"]),
    )


def _values(items: Iterable[object], limit: int = 6) -> str:
    """Distinct values as "a, b, c" (sorted; long lists cut with a count)."""
    seen = sorted({fmt(v) for v in items if v is not None and fmt(v) != "n/a"}, key=str)
    if len(seen) > limit:
        return ", ".join(seen[:limit]) + f", … ({len(seen)} in all)"
    return ", ".join(seen) or "n/a"


def _what_was_run(res: Results) -> str:
    s = res.summary
    rows = []
    for scenario in res.scenarios:
        runs = s[s["scenario"] == scenario]
        ms = [res.manifests[r] for r in runs["run_id"]]
        descriptions = {str((m.get("config") or {}).get("description") or "") for m in ms}
        hashes = {str(h) for h in runs.get("config_sha256", pd.Series(dtype=str)).dropna()}
        hashes |= {str(m["config_sha256"]) for m in ms if m.get("config_sha256")}
        ticks = [((m.get("config") or {}).get("run") or {}).get("tick_minutes") for m in ms]
        codes = (f'<code title="{_e(h)}">{_e(h[:12])}</code>' for h in sorted(hashes))
        seeds = _values(str(v) for v in runs.get("seed", []))
        about = " / ".join(sorted(d for d in descriptions if d))
        sizes = [_values(runs.get(c, [])) for c in ("users", "days")]
        rows.append(
            [scenario, about, len(runs), seeds, *sizes, _values(ticks), _Raw(", ".join(codes))]
        )
    versions: dict[str, set[str]] = {}
    for m in res.manifests.values():
        for name, version in (m.get("versions") or {}).items():
            versions.setdefault(str(name), set()).add(str(version))
    soft = " · ".join(f"{_e(n)} {_e(', '.join(sorted(v)))}" for n, v in sorted(versions.items()))
    run_rows = [
        [rid, s.loc[s.run_id == rid, "scenario"].iloc[0], fmt(m.get("seed"))]
        + [m.get(k, "n/a") for k in ("status", "started_at", "finished_at")]
        for rid, m in res.manifests.items()
    ]
    parts = [
        f"<p>{len(res.manifests)} run(s) of {len(res.scenarios)} scenario(s) from "
        f"<code>{_e(res.root)}</code>.</p>",
        _table(_SCENARIO_HEADERS, rows, numeric=2),
        f'<p class="muted">Software: {soft or "n/a (no manifests)"}</p>',
        f"<details><summary>All runs</summary>"
        f"{_table(['run id', 'scenario', 'seed', 'status', 'started', 'finished'], run_rows, 6)}"
        f"</details>",
    ]
    if res.skipped:
        parts.append(
            f'<p class="muted">Skipped {len(res.skipped)} run folder(s) without a summary '
            f"(unfinished or failed): {_e(', '.join(res.skipped))}</p>"
        )
    return "".join(parts)


def _summary_table(res: Results) -> str:
    s = res.summary
    grouped = s.groupby("scenario")
    numeric = [
        c
        for c in s.columns
        if c not in ID_COLUMNS
        and pd.api.types.is_numeric_dtype(s[c])
        and not pd.api.types.is_bool_dtype(s[c])
    ]
    known = {k for _, keys in figures.SUMMARY_PARTS for k in keys}
    groups = [*figures.SUMMARY_PARTS, ("other", tuple(c for c in numeric if c not in known))]
    rows: list[Any] = []
    for title, keys in groups:
        keys = tuple(k for k in keys if k in s.columns)
        if keys:
            rows.append(title)
        for key in keys:
            cells: list[object] = [key]
            for scenario in res.scenarios:
                values = grouped.get_group(scenario)[key]
                if key == "tilt":
                    cells.append(_tilt(values))
                else:
                    cells.append(_mean_interval(values, key))
            rows.append(cells)
    caption = (
        f'<p class="muted">Each cell: {_e(intervals.label(0.95))} over the scenario\'s runs, '
        "as <code>tightrope compare</code> prints it; one run, or runs that all agree, show "
        "the mean alone; (n=k): only k runs have a value (the others have none, such as a "
        "time to removal where nothing was removed).</p>"
    )
    return caption + _table(["figure", *res.scenarios], rows)


NETWORK_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", ("users",)),
    ("follows (edges)", ("edges",)),
    ("accounts followed, mean", ("out_degree", "mean")),
    ("accounts followed, 99th percentile", ("out_degree", "p99")),
    ("followers, median", ("in_degree", "p50")),
    ("followers, 99th percentile", ("in_degree", "p99")),
    ("followers, tail exponent", ("in_degree_tail", "alpha")),
    ("accounts followed, tail exponent", ("out_degree_tail", "alpha")),
    ("reciprocity (share of follows returned)", ("reciprocity",)),
    ("average clustering", ("average_clustering",)),
    ("follows to the top 1% of accounts", ("top_1pct_follow_share",)),
    ("largest audience (share of users)", ("max_follower_share",)),
    ("accounts followed by over 10% of users", ("accounts_followed_by_over_10pct",)),
    ("communities", ("communities",)),
    ("community size, median", ("community_size", "p50")),
)
"""The network statistics shown in the report (`results.network_stats` keys), in order."""


def _network_value(stats: object, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(stats, dict) or stats.get(key) is None:
            return None
        stats = stats[key]
    return float(stats) if isinstance(stats, int | float) else None


def _network_table(res: Results) -> str | None:
    """The follower network of each scenario's runs (mean over its runs), from the
    manifests; None when no run stored its network's statistics."""
    s = res.summary
    per = {
        scen: [res.manifests[r].get("network") for r in s[s["scenario"] == scen]["run_id"]]
        for scen in res.scenarios
    }
    if not any(isinstance(x, dict) for stats in per.values() for x in stats):
        return None
    rows: list[Any] = []
    for label, path in NETWORK_ROWS:
        cells: list[object] = [label]
        for scen in res.scenarios:
            values = [v for x in per[scen] if (v := _network_value(x, path)) is not None]
            cells.append(fmt(math.fsum(values) / len(values)) if values else "n/a")
        if any(c != "n/a" for c in cells[1:]):
            rows.append(cells)
    return _table(["statistic", *res.scenarios], rows)


def _by_category(res: Results, figs: _Figures) -> str:
    """The table by content category (the mean of each count over a scenario's runs that
    hold it, one group of rows per scenario), then the chart of cascade sizes."""
    cat = res.categories
    cols = [c for c in CATEGORY_SHOWN if c in cat.columns]
    if cat.empty or not cols:
        parts = ['<p class="empty">n/a: the runs were stored before the tables by category '
                 "existed (run them again to have them).</p>"]  # fmt: skip
    else:
        rows: list[Any] = []
        for scenario in res.scenarios:
            sub = cat[cat["scenario"] == scenario]
            rows.append(scenario)
            if sub.empty:
                rows.append(["n/a: stored before the tables by category existed",
                             *(["n/a"] * len(cols))])  # fmt: skip
                continue
            values = sub[cols].apply(pd.to_numeric, errors="coerce")
            means = values.groupby(sub["category"].astype(str), sort=False).mean()
            known = [c for c in CATEGORIES if c in means.index]
            for c in known + sorted(set(means.index) - set(known)):
                rows.append([c, *(fmt(means.loc[c, k]) for k in cols)])
        runs = cat.groupby("scenario")["run_id"].nunique()
        held = ", ".join(f"{_e(s)}: {int(runs.get(s, 0))} of "
                         f"{int((res.summary['scenario'] == s).sum())}"
                         for s in res.scenarios)  # fmt: skip
        parts = [
            '<p class="muted">Each cell: the mean over the scenario\'s runs that hold the '
            f"table (runs with it: {held}); the median minutes to removal is the mean of "
            "the runs' medians.</p>",
            _table(["category", *cols], rows),
        ]
    colors = figures.scenario_colors(res.scenarios)
    fig = figures.cascade_distribution(res.cascades, colors)
    parts.append(
        "<h3>Cascade sizes</h3>"
        f'<p class="how"><b>Reading the chart.</b> {_e(figures.NOTES["cascades"])}</p>'
        + figs.embed(fig, "n/a: no cascade sizes recorded (runs stored before they existed).")
    )
    return "".join(parts)


_RUN_KEYS = ("run_id", "scenario", "seed", "label")
"""Columns the stored tables and the loader add to a run's table (not counts to show)."""


def _by_group(
    res: Results, frame: pd.DataFrame, keys: list[str], what: str, how: str = "mean"
) -> str:
    """A table of `frame` (one of the tables by platform and day, region or cohort) with a
    group of rows per scenario: per value of `keys`, the mean (or the sum) of each other
    column over the scenario's runs that hold the table."""
    if frame.empty or not set(keys) <= set(frame.columns):
        return (
            f'<p class="empty">n/a: the runs were stored before the tables by {_e(what)} '
            "existed (run them again to have them).</p>"
        )
    cols = [c for c in frame.columns if c not in (*keys, *_RUN_KEYS)]
    rows: list[Any] = []
    for scenario in res.scenarios:
        sub = frame[frame["scenario"] == scenario]
        rows.append(scenario)
        if sub.empty:
            rows.append([f"n/a: stored before the tables by {what} existed",
                         *([""] * (len(keys) - 1)), *(["n/a"] * len(cols))])  # fmt: skip
            continue
        values = sub[cols].apply(pd.to_numeric, errors="coerce")
        grouped = values.groupby([sub[k].astype(str) for k in keys], sort=False)
        table = grouped.mean() if how == "mean" else grouped.sum(min_count=1)
        for key, row in table.iterrows():
            key = key if isinstance(key, tuple) else (key,)
            rows.append([*key, *(fmt(row[c]) for c in cols)])
    runs = frame.groupby("scenario")["run_id"].nunique()
    held = ", ".join(f"{_e(s)}: {int(runs.get(s, 0))} of "
                     f"{int((res.summary['scenario'] == s).sum())}"
                     for s in res.scenarios)  # fmt: skip
    each = "the mean" if how == "mean" else "the sum"
    return (
        f'<p class="muted">Each cell: {each} over the scenario\'s runs that hold the table '
        f"(runs with it: {held}).</p>" + _table([*keys, *cols], rows, numeric=len(keys))
    )


RATES = tuple(f"{w}_per_user_day_{t}" for w in ("posts", "criticism") for t in ("before", "after"))
"""The rates of `Result.cohorts`: the report computes them from the counts summed over runs."""


def _cohorts(res: Results) -> str:
    """The cohorts' counts summed over a scenario's runs, then the rates from the sums."""
    coh = res.cohorts
    if coh.empty or "cohort" not in coh.columns:
        return _by_group(res, coh, ["cohort"], "cohort")
    coh = coh.drop(columns=[r for r in RATES if r in coh.columns])
    rows: list[Any] = []
    for scenario in res.scenarios:
        sub = coh[coh["scenario"] == scenario]
        if sub.empty:
            continue
        rows.append(scenario)
        sums = sub.groupby(sub["cohort"].astype(str), sort=False).sum(numeric_only=True)
        for cohort, r in sums.iterrows():
            cells: list[object] = [cohort]
            for rate in RATES:
                what, when = rate.split("_", 1)[0], rate.rsplit("_", 1)[1]
                days = float(r.get(f"user_days_{when}", 0.0))
                cells.append(fmt(r[f"{what}_{when}"] / days) if days > 0 else "n/a")
            rows.append(cells)
    return (
        _by_group(res, coh, ["cohort"], "cohort", how="sum")
        + "<h3>Rates per user-day</h3>"
        + _table(["cohort", *RATES], rows)
    )


def _mean_interval(values: pd.Series, key: str) -> object:
    """`mean [low, high]` of one figure over a scenario's runs (`intervals.interval` with the
    figure's support), then (n=k) where only k of the runs have a value."""
    mean, lo, hi, n = intervals.interval(pd.to_numeric(values, errors="coerce"),
                                         intervals.support(key))  # fmt: skip
    return _cell(mean, lo, hi, n=n if 0 < n < len(values) else None)


def _tilt(values: pd.Series) -> str:
    counts = values.dropna().astype(str).value_counts()
    if counts.empty:
        return "n/a"
    if len(counts) == 1:
        return str(counts.index[0])
    return ", ".join(f"{t} ({n}/{counts.sum()})" for t, n in counts.items())


def _group_intervals(
    summary: pd.DataFrame, scenarios: Sequence[str], cols: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(means, lows, highs) of `cols` per scenario (rows) over its runs, each column with the
    interval of its support (`intervals.interval`)."""
    grouped = summary.groupby("scenario")
    stats = {
        c: [intervals.interval(pd.to_numeric(grouped.get_group(sc)[c], errors="coerce"),
                               intervals.support(c)) for sc in scenarios]
        for c in cols
    }  # fmt: skip
    frames = (
        pd.DataFrame({c: [v[i] for v in stats[c]] for c in cols}, index=list(scenarios))
        for i in range(3)
    )
    means, lows, highs = frames
    return means, lows, highs


def _comparison(res: Results, figs: _Figures) -> str:
    parts = []
    if len(res.scenarios) > 1:
        goals = [c for c, _ in figures.GOALS]
        cols = [c for c in (*goals, "balance") if c in res.summary.columns]
        means, lows, highs = _group_intervals(res.summary, res.scenarios, cols)
        colors = figures.scenario_colors(res.scenarios)
        radar = figures.regimes_radar(means, colors, lows, highs)
        parts.append(figs.embed(radar, "The runs hold no goal scores."))
        tilts = res.summary.groupby("scenario")["tilt"] if "tilt" in res.summary else None
        rows = []
        for sc in res.scenarios:
            tilt = _tilt(tilts.get_group(sc)) if tilts is not None else "n/a"
            cells = [_cell(means.loc[sc, c], lows.loc[sc, c], highs.loc[sc, c]) for c in cols]
            rows.append([sc, *cells, tilt])
        parts.append(
            "<h3>Balance and tilt</h3>"
            f'<p class="muted">Each cell: {_e(intervals.label(0.95))} over the runs.</p>'
            + _table(["scenario", *cols, "tilt"], rows)
        )
    if res.comparison is not None and not res.comparison.empty:
        parts.append(_differences(res.comparison))
    return "".join(parts)


_UNDEFINED: dict[str, tuple[str, str]] = {
    "median_minutes_to_removal": ("removed no post", "time to removal"),
    "deleted_within_8min_share": ("removed no post", "time to removal"),
    "deleted_5_to_30min_share": ("removed no post", "time to removal"),
    "deleted_within_24h_share": ("removed no post", "time to removal"),
    "median_minutes_to_answer": ("answered no request", "time to answer"),
    "requests_answered_share": ("received no request", "answered share"),
    "wrongful_share_of_removals": ("removed or blocked no post", "share of removals"),
    "published_deleted_share": ("published no post", "share of published posts"),
    "published_deleted_any_share": ("published no post", "share of published posts"),
    "held_never_published_share": ("held no post for review", "share of held posts"),
    "removed_share": ("had no post", "share of posts"),
    "blocked_share": ("had no post", "share of posts"),
    "held_share": ("had no post", "share of posts"),
    "sensitive_held_share": (
        "had no criticism or call to action on a public platform in the jurisdiction",
        "share of sensitive posts",
    ),
    "access_share": ("had no foreign platform, or no user who wanted one", "access share"),
}
"""Why a summary figure can be undefined in a run: (what the run did not do, what there is
then nothing of); see docs/model.md 11.2 ("shares with a zero denominator are NaN")."""


def _why_empty(metric: str, who: str) -> str:
    """Why `metric` has no value in any run of `who` (a scenario, described)."""
    did, what = _UNDEFINED.get(metric, ("", ""))
    if not did:
        return f"{metric} is undefined in every run of {who}, so there is nothing to compare"
    return f"{who} {did} in any run, so there is no {what} to compare"


def _count(value: object) -> int:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    return int(v) if math.isfinite(v) else 0


def _differences(c: pd.DataFrame) -> str:
    """Paired differences, one row per metric: the baseline's mean with its interval, then
    each scenario's difference from it with its paired t interval (* where that interval
    excludes 0), then why any cell of the row is empty. The caption says what is compared."""
    pairs = [
        p for p in dict.fromkeys(zip(c["scenario"], c["baseline"], strict=True)) if p[0] != p[1]
    ]
    bases = list(dict.fromkeys(c["baseline"]))
    replicates = max([_count(v) for v in c.get("n", [])] or [0])
    headers = ["metric", *(f"{b} (baseline)" for b in bases),
               *(f"{s} − {b}" for s, b in pairs), "why n/a"]  # fmt: skip
    rows = []
    for metric, group in c.groupby("metric", sort=False):
        by = {(r["scenario"], r["baseline"]): r for r in group.to_dict("records")}
        cells: list[object] = []
        why: list[str] = []
        for b in bases:
            r = by.get((b, b), {})
            n = _count(r.get("n"))
            cells.append(_cell(r.get("mean"), r.get("ci_low"), r.get("ci_high"),
                               n=n if 0 < n < replicates else None))  # fmt: skip
            if n == 0:
                why.append("n/a: " + _why_empty(str(metric), f"the baseline, {b},"))
        for s, b in pairs:
            r = by.get((s, b), {})
            n, d_n = _count(r.get("n")), _count(r.get("diff_n"))
            base_n = _count(by.get((b, b), {}).get("n"))
            cells.append(_cell(r.get("diff_mean"), r.get("diff_ci_low"), r.get("diff_ci_high"),
                               mark=True, n=d_n if 0 < d_n < replicates else None,
                               signed=True))  # fmt: skip
            if n == 0 and base_n > 0:
                why.append(f"{s} − {b} n/a: " + _why_empty(str(metric), str(s)))
            elif n > 0 and base_n > 0 and d_n == 0:
                why.append(f"{s} − {b} n/a: no replicate has a value in both")
        rows.append([metric, *cells, "; ".join(why)])
    base_text = ", ".join(bases)
    return (
        '<h3>Paired differences</h3><p class="muted">'
        f"Column {_e(base_text)} (the baseline): {_e(intervals.label(0.95))} over its "
        f"replicates. Each other column: {_e(intervals.difference_label(0.95))} of that "
        f"scenario − {_e(base_text)}, computed replicate by replicate on the same seeds, so the "
        f"noise the two share cancels. {replicates} replicate(s) per scenario; (n=k): only k "
        "of them have a value (for a difference: in both scenarios). * the difference's "
        "interval excludes 0. A figure that is undefined in every run of a scenario (a time to "
        "removal where nothing was removed) leaves its cells n/a; the last column says why."
        f"</p>{_table(headers, rows)}"
    )


def _excludes_zero(lo: object, hi: object) -> bool:
    try:
        return float(lo) > 0 or float(hi) < 0  # type: ignore[arg-type]  # NaN: False
    except (TypeError, ValueError):
        return False


def _interval(mean: object, lo: object, hi: object, signed: bool = False) -> str:
    """`mean [lo, hi]` as the terminal prints it (`intervals.text`), or the mean alone."""
    return intervals.text(mean, lo, hi, signed)


class _Figures:
    """Turns figures into HTML fragments (plotly.js is not included: the head has it once)."""

    def __init__(self) -> None:
        self.count = 0

    def embed(self, fig: go.Figure | None, empty: str) -> str:
        if fig is None:
            return f'<p class="empty">{_e(empty)}</p>'
        self.count += 1
        body = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            config=PLOT_CONFIG,
            div_id=f"figure-{self.count}",
            default_width="100%",
            default_height=f"{fig.layout.height or 400}px",
        )
        return f'<div class="figure">{body}</div>'


Section = tuple[str, str, str, str]
"""(anchor, title, how-to-read note, HTML content) of one section of the page."""


def _run_sections(res: Results, figs: _Figures) -> list[Section]:
    """The sections drawn from stored runs: what was run, summaries, comparison, charts."""
    colors = figures.scenario_colors(res.scenarios)
    ts, no_ts = res.timeseries, "The runs hold no time series."
    sections: list[Section] = [
        ("run", "What was run", figures.NOTES["run"], _what_was_run(res)),
        ("summary", "Summary figures", figures.NOTES["summary"], _summary_table(res)),
    ]
    network = _network_table(res)
    if network is not None:
        sections.append(("network", "The follower network", figures.NOTES["network"], network))
    if len(res.scenarios) > 1 or res.comparison is not None:
        compare = _comparison(res, figs)
        sections.append(("compare", "Regimes side by side", figures.NOTES["compare"], compare))

    def chart(anchor: str, title: str, fig: go.Figure | None, empty: str = no_ts) -> None:
        sections.append((anchor, title, figures.NOTES[anchor], figs.embed(fig, empty)))

    chart("goals", "The three goals over time", figures.goals_over_time(ts, colors))
    for goal in figures.PARTS:
        chart(goal, f"{goal.capitalize()} in parts", figures.parts_over_time(ts, goal, colors))
    times = figures.time_distributions(res.histograms, colors)
    chart("times", "Time to removal and time to answer", times, "No removals or answers recorded.")
    sections.append(
        ("categories", "By category", figures.NOTES["categories"], _by_category(res, figs))
    )
    groups = (
        ("platform_days", "By platform and day",
         _by_group(res, res.platform_days, ["day", "platform"], "platform and day")),
        ("regions", "By region", _by_group(res, res.regions, ["region"], "region")),
        ("cohorts", "Cohorts", _cohorts(res)),
    )  # fmt: skip
    for anchor, title, body in groups:
        sections.append((anchor, title, figures.NOTES[anchor], body))
    shares = figures.share_bars(res.summary, colors)
    chart("censorship", "Self-censorship and wrongful removals", shares, "No shares recorded.")
    economics = figures.platform_economics(res.platforms, colors)
    chart("platforms", "Platform economics", economics, "The runs hold no platform table.")
    return sections


def _page(title: str, sections: Sequence[Section], figs: _Figures) -> str:
    """The whole HTML page: plotly.js inlined once, a navigation bar, the sections."""
    nav = "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t, _, _ in sections)
    body = "".join(
        f'<section id="{a}"><h2>{_e(t)}</h2><p class="how"><b>How to read this.</b> {_e(n)}</p>'
        f"{content}</section>"
        for a, t, n, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="tightrope-figures" content="{figs.count}">'
        f"<title>{_e(title)}</title><style>{_CSS}</style>\n"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>\n'
        f"</head><body><header><h1>{_e(title)}</h1><nav>{nav}</nav></header>"
        f"<main>{body}</main></body></html>\n"
    )


def render(res: Results) -> str:
    """The report page for `res` as one HTML string."""
    figs = _Figures()
    sections = _run_sections(res, figs)
    return _page("Tightrope report: " + ", ".join(res.scenarios), sections, figs)


# ---------------------------------------------------------------- experiments

EXPERIMENT_FILE = "experiment.json"
RUN_SECTIONS_LIMIT = (6, 60)
"""An experiment folder's report also draws the per-run sections (time series, parts of each
goal, one colour per design point) when the experiment has at most this many design points
and stored runs; beyond that they would be a slow page of unreadable charts, and the
design-level sections are what an experiment is for."""
MAX_TABLE_ROWS = 200
"""Rows shown of a long table (design points, Pareto front); the Parquet file has them all."""


def is_experiment(folder: Path) -> bool:
    """True where `folder` is an experiment folder (it holds experiment.json)."""
    return (Path(folder) / EXPERIMENT_FILE).is_file()


def _cut(rows: list[Any], what: str, file: str, total: int | None = None) -> tuple[list[Any], str]:
    """The first MAX_TABLE_ROWS rows, and a note naming how many more `file` holds (of
    `total` rows where the caller passes fewer than all)."""
    total = len(rows) if total is None else total
    if total <= MAX_TABLE_ROWS:
        return rows, ""
    more = total - MAX_TABLE_ROWS
    note = (f'<p class="muted">First {MAX_TABLE_ROWS} of {total} {_e(what)} shown; '
            f"{more} more in <code>{_e(file)}</code>.</p>")  # fmt: skip
    return rows[:MAX_TABLE_ROWS], note


def _factor_range(f: dict[str, Any]) -> str:
    if f.get("values") is not None:
        return _values(f["values"], limit=8)
    scale = f" ({f['scale']} scale)" if f.get("scale") and f.get("scale") != "linear" else ""
    return f"{fmt(f.get('low'))} to {fmt(f.get('high'))}{scale}"


def _experiment_overview(an: Any) -> str:
    e = an.experiment
    design = e["design"]
    about = [str(design["kind"])]
    if design.get("samples"):
        about.append(f"{design['samples']} base samples")
    if design["kind"] == "sobol":
        about.append("with second-order indices" if design.get("calc_second_order")
                     else "first and total order")  # fmt: skip
    if design["kind"] == "morris" and design.get("num_levels"):
        about.append(f"{design['num_levels']} levels")
    expected = e["points"] * e["replicates"]
    rows = [
        ["experiment", e.get("name", "n/a")],
        ["base scenario", e.get("base", "n/a")],
        ["design", ", ".join(about)],
        ["design points", fmt(e["points"])],
        ["replicates (same seeds at every point)",
         f"{e['replicates']} (seeds {_values(map(str, e['seeds']))}, root seed {e['root_seed']})"],
        ["size of each run", f"{fmt(e.get('users'))} users, {fmt(e.get('days'))} days"],
        ["runs", f"{fmt(an.runs)} of {fmt(expected)} stored, {fmt(an.failures)} failed"],
        ["intervals", f"{intervals.label(an.level)} over replicates"],
    ]  # fmt: skip
    labels = short_names([f["path"] for f in e["factors"]])
    factor_rows = [
        [labels[f["path"]], f["path"], f["role"], _factor_range(f)] for f in e["factors"]
    ]
    notes = "".join(f"<li>{_e(n)}</li>" for n in an.notes)
    files = ", ".join(f"<code>analysis/{n}.parquet</code>" for n in ANALYSIS_TABLES)
    return (
        _table(["setting", "value"], rows, numeric=9)
        + "<h3>Factors</h3>"
        + _table(["factor", "path", "role", "values"], factor_rows, numeric=9)
        + f'<p class="muted">Outcomes: {_e(", ".join(e["outcomes"]))}. Tables: {files}.</p>'
        + (f"<h3>Notes</h3><ul>{notes}</ul>" if notes else "")
    )


def _tradeoffs(an: Any, figs: _Figures) -> str:
    pareto = an.pareto.to_pandas()
    levers = an.levers
    labels = short_names(levers)
    fig = figures.tradeoff_pairs(pareto, levers, labels)
    empty = next((n for n in an.notes if n.startswith("Pareto front: needs")),
                 "No lever setting has all three goal means.")  # fmt: skip
    parts = [figs.embed(fig, empty)]
    if not pareto.empty:
        parts.append(_front_table(pareto, levers, labels, an.level))
    return "".join(parts)


def _front_table(pareto: pd.DataFrame, levers: list[str], labels: dict[str, str],
                 level: float) -> str:  # fmt: skip
    """The settings on the front with their goal intervals and whether the replicates
    resolve their place (analysis.front_resolution), and how many off it are unresolved."""
    front = pareto[pareto["on_front"].fillna(False).astype(bool)]
    has = "resolved" in pareto.columns

    def goal(r: dict[str, Any], g: str) -> object:
        return _cell(r[g], r.get(f"{g}_ci_low"), r.get(f"{g}_ci_high"))

    def settled(r: dict[str, Any]) -> str:
        if not has or r["resolved"] is None or r["resolved"] != r["resolved"]:
            return "n/a"
        return "yes" if r["resolved"] else "no: another setting may dominate it"

    rows = [[*(fmt(r[p]) for p in levers), *(goal(r, g) for g in GOALS), fmt(r["runs"]),
             settled(r)] for r in front.to_dict("records")]  # fmt: skip
    rows, cut = _cut(rows, "settings on the front", "analysis/pareto.parquet")
    off = pareto[~pareto["on_front"].fillna(False).astype(bool)]
    loose = int((off["resolved"] == False).sum()) if has else 0  # noqa: E712
    unresolved = int((front["resolved"] == False).sum()) if has else 0  # noqa: E712
    caption = (
        f'<p class="muted">Goals: {_e(intervals.label(level))} over the replicates. '
        f"Resolved: whether the replicates settle the setting's place on the front; "
        f"{unresolved} of the {len(front)} settings on the front are not resolved (some other "
        f"setting may dominate them), and {loose} of the {len(off)} settings off the front are "
        "dominated on the means only (no setting dominates them for certain). Settings are "
        "compared replicate by replicate on the same seeds (docs/analysis.md).</p>"
    )
    headers = [*(labels[p] for p in levers), *GOALS, "runs", "resolved by the replicates"]
    return (
        f"<h3>The Pareto front: {len(front)} of {len(pareto)} lever settings</h3>"
        + caption
        + _table(headers, rows, numeric=len(levers))
        + cut
    )


def _sensitivity(an: Any, figs: _Figures) -> str:
    sens = an.sensitivity.to_pandas()
    labels = short_names([f["path"] for f in an.factors])
    why = [n.removeprefix("sensitivity: ") for n in an.notes if n.startswith("sensitivity:")]
    if sens.empty:
        return f'<p class="empty">{_e("; ".join(why) or "No sensitivity indices.")}</p>'
    parts = []
    if sens["method"].iloc[0] == "morris":
        goals = [g for g in GOALS if g in set(sens["outcome"])]
        parts.append(f"<h3>Ranking: the factors that move each goal most</h3>"
                     f'<p class="muted">Top {figures.MORRIS_TOP} factors per goal by Morris mu* '
                     f"(the mean absolute change of the score when the factor alone moves, "
                     f"scaled to its whole range), with SALib's {an.level:.0%} bootstrap "
                     "interval; sigma (diamonds), the spread of those changes, is large where "
                     "the factor's effect depends on the others (interactions) or is not "
                     "linear.</p>")  # fmt: skip
        full = {f: f for f in labels}  # whole paths: a short suffix can mislead in a ranking
        parts.append(figs.embed(figures.morris_ranking(sens, full, goals), ""))
        parts.append("<h3>Every outcome</h3>")
    parts.append(figs.embed(figures.sensitivity_bars(sens, labels, an.outcomes), ""))
    parts += [f'<p class="muted">{_e(w)}</p>' for w in why]
    rows: list[Any] = []
    for outcome, group in sens.groupby("outcome", sort=False):
        rows.append(str(outcome))
        for r in group.to_dict("records"):
            name = labels.get(r["factor"], r["factor"])
            if isinstance(r["factor2"], str):
                name += " × " + labels.get(r["factor2"], r["factor2"])
            conf = r["conf"]
            rows.append([name, r["index"], fmt(r["value"]),
                         "n/a" if conf is None or conf != conf else f"±{fmt(conf)}"])  # fmt: skip
    method = "Sobol'" if sens["method"].iloc[0] == "sobol" else "Morris"
    return "".join(parts) + (
        f"<details><summary>All {method} indices</summary>"
        f"{_table(['factor', 'index', 'value', f'{an.level:.0%} interval'], rows, numeric=2)}"
        "</details>"
    )


def _cell(
    mean: object,
    lo: object,
    hi: object,
    mark: bool = False,
    n: object = None,
    signed: bool = False,
) -> object:
    """`mean [lo, hi]` kept on one line, then * where `mark` and the interval excludes 0,
    then (n=...) in small print where `n` is given; a bare number (or n/a) as plain text."""
    text = _interval(mean, lo, hi, signed) + (" *" if mark and _excludes_zero(lo, hi) else "")
    if n is None and "[" not in text:
        return text
    count = f' <span class="sd">(n={_e(n)})</span>' if n is not None else ""
    return _Raw(f'<span class="nw">{_e(text)}</span>{count}')


def _differences_section(an: Any) -> str:
    d = an.differences.to_pandas()
    if d.empty:
        why = [n.removeprefix("paired differences: ") for n in an.notes
               if n.startswith("paired differences:")]  # fmt: skip
        return f'<p class="empty">{_e("; ".join(why) or "No paired differences.")}</p>'
    levers = an.levers
    labels = short_names(levers)
    outcomes = [o for o in an.outcomes if o in set(d["outcome"])]
    base = d.groupby("outcome")["base_mean"].first()
    rows: list[Any] = [["base setting", *(fmt(v) for v in _base_values(an)),
                        *(fmt(base.get(o)) for o in outcomes), ""]]  # fmt: skip
    for key, group in d.groupby(levers, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        by = {r["outcome"]: r for r in group.to_dict("records")}
        cells = [
            _cell(*(by[o][c] for c in ("diff_mean", "diff_ci_low", "diff_ci_high")), mark=True)
            if o in by
            else "n/a"
            for o in outcomes
        ]
        pairs = _values(group["diff_n"])
        rows.append(["", *(fmt(v) for v in key), *cells, pairs])
    rows, cut = _cut(rows, "rows", "analysis/differences.parquet")
    headers = ["", *(labels[p] for p in levers), *outcomes, "pairs"]
    return (
        f'<p class="muted">First row: the base setting\'s mean on the paired replicates. '
        f"Other rows: setting − base, {_e(intervals.difference_label(an.level))} over the "
        "replicates (the same seeds at both settings, averaged over the uncertainties); "
        "* the interval excludes 0; pairs: the replicates compared.</p>"
        + _table(headers, rows, numeric=1 + len(levers))
        + cut
    )


def _base_values(an: Any) -> list[Any]:
    from tightrope.experiments.analysis import base_setting

    base = base_setting(an.experiment) or {}
    return [base.get(p) for p in an.levers]


def _points_section(an: Any) -> str:
    paths = [f["path"] for f in an.factors]
    labels = short_names(paths)
    outcomes = an.outcomes
    first_points = an.points.filter(pc.less(an.points["point"], MAX_TABLE_ROWS))
    by_point: dict[int, dict[str, dict[str, Any]]] = {}
    for r in first_points.to_pylist():
        by_point.setdefault(r["point"], {})[r["outcome"]] = r
    rows = []
    for point, by in sorted(by_point.items()):
        first = by[outcomes[0]]
        cells = [
            _cell(by[o]["mean"], by[o]["ci_low"], by[o]["ci_high"], n=by[o]["n"])
            if by[o]["n"]
            else "n/a"
            for o in outcomes
        ]
        rows.append([point, *(fmt(first[p]) for p in paths), fmt(first["runs"]), *cells])
    total = int(an.experiment["points"])
    rows, cut = _cut(rows, "design points", "analysis/points.parquet", total)
    headers = ["point", *(labels[p] for p in paths), "runs", *outcomes]
    caption = (
        f'<p class="muted">Each outcome: {_e(intervals.label(an.level))} over the point\'s '
        "replicates; n = runs with a value.</p>"
    )
    return caption + _table(headers, rows, numeric=1 + len(paths)) + cut


def _experiment_sections(an: Any, figs: _Figures) -> list[Section]:
    notes = figures.NOTES
    sections: list[Section] = [
        ("experiment", "The experiment", notes["experiment"], _experiment_overview(an)),
        ("tradeoffs", "Trade-offs between the goals", notes["tradeoffs"], _tradeoffs(an, figs)),
        ("sensitivity", "Which factors matter", notes["sensitivity"], _sensitivity(an, figs)),
    ]
    if an.design == "grid":
        diff = _differences_section(an)
        sections.append(("differences", "Lever settings against the base",
                         notes["differences"], diff))  # fmt: skip
    sections.append(("points", "Design points", notes["points"], _points_section(an)))
    return sections


def render_experiment(folder: Path, level: float | None = None) -> str:
    """The report page of an experiment folder: the experiment's sections (from its analysis,
    run again where DIR/analysis is absent or stale), then, for a small experiment, the
    sections of its stored runs. `level` None keeps the level of the stored analysis."""
    from tightrope.experiments.analysis import current_analysis

    an = current_analysis(folder, level)
    figs = _Figures()
    sections = _experiment_sections(an, figs)
    root = Path(folder)
    stored = [p for p in (root / "runs").glob("[!.]*") if p.is_dir()]
    left_out = ""
    most_points, most_runs = RUN_SECTIONS_LIMIT
    if stored and (an.experiment["points"] > most_points or len(stored) > most_runs):
        left_out = (
            f"they are drawn for at most {most_points} design points and {most_runs} runs "
            f"(this experiment: {an.experiment['points']} points, {len(stored)} stored runs)"
        )
    elif stored:
        try:
            res = load_results(root)
        except InputError as exc:
            left_out = str(exc)
        else:
            sections += _run_sections(res, figs)
    if left_out:
        anchor, title, note, content = sections[0]
        content += (
            '<p class="muted">The per-run sections (time series, the parts of each goal) '
            f"are left out: {_e(left_out)}.</p>"
        )
        sections[0] = (anchor, title, note, content)
    return _page(f"Tightrope experiment: {an.experiment.get('name', root.name)}", sections, figs)


def write_report(results_dir: Path) -> Path:
    """Write `results_dir/report.html`, a self-contained offline report of the stored runs.

    For an experiment folder (one with experiment.json) the report leads with the
    experiment: trade-offs between the goals and the Pareto front, sensitivity indices,
    paired differences and the design points, from `tightrope.experiments.analysis` (run again, and
    stored in DIR/analysis/, where that is absent or stale).

    Raises InputError if `results_dir` does not exist, is not a folder, or holds no runs
    (for an experiment folder: no results).
    Returns the path of the report.
    """
    root = Path(results_dir)
    if root.is_dir() and is_experiment(root):
        path = root / REPORT_NAME
        write_text_atomic(path, render_experiment(root), folder_label="results folder")
        return path
    res = load_results(root)
    path = res.root / REPORT_NAME
    write_text_atomic(path, render(res), folder_label="results folder")
    return path
