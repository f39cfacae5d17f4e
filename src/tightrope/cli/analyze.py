"""The `tightrope analyze DIR` command: the analysis of an experiment folder, as tables.

Registered by the last line of cli.py. The work is done by `tightrope.experiments.analysis.analyze`,
which also writes DIR/analysis/*.parquet; this module only prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from tightrope.cli.app import _console, _dump, _fmt, _interval, json_option
from tightrope.results import intervals

MAX_ROWS = 30
"""Rows printed of a long table; the Parquet files under DIR/analysis hold them all."""
OUTCOMES_PER_TABLE = 4
"""Outcome columns per printed table (more are split over several tables)."""


@click.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of every interval, between 0 and 1.",
)
@json_option
def analyze(directory: Path, level: float, as_json: bool) -> None:
    """Analyse the experiment in DIR: point means with intervals, paired differences, the
    Pareto front of the three goals and sensitivity indices; writes DIR/analysis/."""
    from tightrope.experiments.analysis import analyze as run_analysis

    result = run_analysis(directory, level)
    if as_json:
        click.echo(_dump(result.to_json()))
        click.echo(f"written: {result.folder}", err=True)
        return
    _print(result)
    click.echo(f"written: {result.folder}/ ({', '.join(_files())})")


def _files() -> list[str]:
    from tightrope.experiments.analysis import TABLES

    return [f"{n}.parquet" for n in TABLES]


def _pm(mean: Any, lo: Any, hi: Any, signed: bool = False) -> str:
    return _interval(*(math.nan if v is None else float(v) for v in (mean, lo, hi)), signed)


def _chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def _more(shown: int, total: int, what: str, file: Path) -> None:
    if total > shown:
        click.echo(f"... {total - shown} more {what} not shown (all in {file})")


def _print(a: Any) -> None:
    from rich.table import Table

    from tightrope.experiments.analysis import short_names

    e = a.experiment
    design = e["design"]["kind"]
    click.echo(
        f"Experiment {e.get('name', '?')}: {design} design, {e['points']} points x "
        f"{e['replicates']} replicates (same seeds at every point, from root seed "
        f"{e['root_seed']}), {_fmt(e.get('users'))} users, {_fmt(e.get('days'))} days."
    )
    expected = e["points"] * e["replicates"]
    click.echo(
        f"Runs: {a.runs:,} of {expected:,} stored, {a.failures:,} failed. Each cell: "
        f"{intervals.label(a.level)} over replicates (n = runs with a value)."
    )
    for note in a.notes:
        click.echo(f"note: {note}")
    paths = [f["path"] for f in a.factors]
    labels = short_names(paths)
    console = _console()

    # point means, a few outcomes per table
    rows = a.points.to_pylist()
    by_point: dict[int, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_point.setdefault(r["point"], {})[r["outcome"]] = r
    points = sorted(by_point)[:MAX_ROWS]
    groups = _chunks(a.outcomes, OUTCOMES_PER_TABLE)
    for i, outcomes in enumerate(groups):
        part = f" ({i + 1}/{len(groups)})" if len(groups) > 1 else ""
        table = Table(title=f"Point means{part}")
        table.add_column("point", justify="right")
        for p in paths:
            table.add_column(labels[p], justify="right")
        table.add_column("runs", justify="right")
        for o in outcomes:
            table.add_column(o, justify="right")
        for p in points:
            cells = by_point[p]
            first = next(iter(cells.values()))
            stats = [
                _pm(cells[o]["mean"], cells[o]["ci_low"], cells[o]["ci_high"]) for o in outcomes
            ]
            factors = [_fmt(first[f]) for f in paths]
            table.add_row(str(p), *factors, str(first["runs"]), *stats)
        console.print(table)
    _more(len(points), len(by_point), "points", a.folder / "points.parquet")

    _print_differences(a, labels, console)
    _print_front(a, labels, console)
    _print_sensitivity(a, labels, console)


def _print_differences(a: Any, labels: dict[str, str], console: Any) -> None:
    from rich.table import Table

    from tightrope.experiments.analysis import base_setting

    if a.differences.num_rows == 0:
        return
    base = base_setting(a.experiment) or {}
    levers = a.levers
    rows = a.differences.to_pylist()
    settings: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    for r in rows:
        settings.setdefault(tuple(r[p] for p in levers), {})[r["outcome"]] = r
    keys = list(settings)[:MAX_ROWS]
    base_text = ", ".join(f"{labels[p]}={_fmt(base.get(p))}" for p in levers)
    click.echo(
        f"Paired differences from the base setting ({base_text}) on the same seeds, averaged "
        "over the uncertainties; * the interval excludes 0."
    )
    for outcomes in _chunks(a.outcomes, OUTCOMES_PER_TABLE):
        table = Table(title="Setting - base")
        for p in levers:
            table.add_column(labels[p], justify="right")
        for o in outcomes:
            table.add_column(o, justify="right")
        for key in keys:
            cells = []
            for o in outcomes:
                r = settings[key].get(o)
                if r is None:
                    cells.append("n/a")
                    continue
                lo, hi = r["diff_ci_low"], r["diff_ci_high"]
                star = " *" if lo is not None and hi is not None and (lo > 0 or hi < 0) else ""
                cells.append(_pm(r["diff_mean"], lo, hi, signed=True) + star)
            table.add_row(*(_fmt(v) for v in key), *cells)
        console.print(table)
    _more(len(keys), len(settings), "settings", a.folder / "differences.parquet")


def _print_front(a: Any, labels: dict[str, str], console: Any) -> None:
    from rich.table import Table

    from tightrope.experiments.analysis import GOALS

    if a.pareto.num_rows == 0:
        return
    rows = a.pareto.to_pylist()
    front = [r for r in rows if r["on_front"]]
    table = Table(title=f"Pareto front: {len(front)} of {len(rows)} lever settings")
    for p in a.levers:
        table.add_column(labels[p], justify="right")
    for g in GOALS:
        table.add_column(g.removesuffix("_score"), justify="right")
    table.add_column("runs", justify="right")
    table.add_column("resolved", justify="right")
    for r in front[:MAX_ROWS]:
        resolved = {True: "yes", False: "no"}.get(r.get("resolved"), "n/a")
        table.add_row(*(_fmt(r[p]) for p in a.levers), *(_fmt(r[g]) for g in GOALS),
                      _fmt(r["runs"]), resolved)  # fmt: skip
    console.print(table)
    _more(min(len(front), MAX_ROWS), len(front), "front settings", a.folder / "pareto.parquet")
    if any(r.get("resolved") is False for r in front):
        click.echo("resolved no: another setting may dominate it within the replicates' paired "
                   "intervals (see docs/analysis.md)")  # fmt: skip


def _print_sensitivity(a: Any, labels: dict[str, str], console: Any) -> None:
    from rich.table import Table

    rows = a.sensitivity.to_pylist()
    if not rows:
        return
    method = rows[0]["method"]
    indices = ("S1", "ST") if method == "sobol" else ("mu_star", "mu", "sigma")
    single: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        if r["factor2"] is None:
            single.setdefault((r["outcome"], r["factor"]), {})[r["index"]] = r
    title = "Sobol' indices" if method == "sobol" else "Morris screening (elementary effects)"
    table = Table(title=f"{title}, ±half-width of the {a.level:.0%} bootstrap interval")
    table.add_column("outcome")
    table.add_column("factor")
    for index in indices:
        table.add_column(index, justify="right")
    keys = list(single)
    last = ""
    for outcome, factor in keys[: 2 * MAX_ROWS]:
        cells = single[(outcome, factor)]
        values = []
        for index in indices:
            r = cells.get(index)
            if r is None:
                values.append("n/a")
            elif r["conf"] is None:
                values.append(_fmt(r["value"]))
            else:
                values.append(f"{_fmt(r['value'])} ±{_fmt(r['conf'])}")
        table.add_row(outcome if outcome != last else "", labels.get(factor, factor), *values)
        last = outcome
    console.print(table)
    _more(min(len(keys), 2 * MAX_ROWS), len(keys), "rows", a.folder / "sensitivity.parquet")
    pairs = [r for r in rows if r["factor2"] is not None and r["value"] is not None]
    if pairs:
        pairs.sort(key=lambda r: -abs(r["value"]))
        table = Table(title="Largest second-order Sobol' indices (S2)")
        table.add_column("outcome")
        table.add_column("factors")
        table.add_column("S2", justify="right")
        for r in pairs[:10]:
            names = f"{labels.get(r['factor'], r['factor'])} x {labels.get(r['factor2'], '')}"
            table.add_row(r["outcome"], names, f"{_fmt(r['value'])} ±{_fmt(r['conf'])}")
        console.print(table)
