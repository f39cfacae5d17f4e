"""`tightrope assumptions [PRESET]`: which unmeasured behavioural settings move the goals.

A Morris screening (tightrope.experiments.assumptions) over every behavioural setting of
a preset, run and stored as an ordinary experiment folder (docs/experiments.md), analysed
(DIR/analysis/sensitivity.parquet) and reported (DIR/report.html). Running the same
command again with the same --out runs only what is missing. Exit status 1 when some runs
failed (rerun to retry them), 2 on bad input (nothing is run or written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from tightrope.cli.app import _console, _dump, _fmt, _progress, json_option, quiet_option
from tightrope.experiments import assumptions as asm

TOP = 10
"""Settings printed per goal (DIR/analysis/sensitivity.parquet holds them all)."""


@click.command()
@click.argument("preset", required=False, default=asm.DEFAULT_PRESET, metavar="[PRESET]")
@click.option(
    "--trajectories", type=int, default=asm.DEFAULT_TRAJECTORIES, show_default=True,
    help="Morris trajectories (2 or more); each is one run per setting plus one.",
)  # fmt: skip
@click.option("--users", type=int, default=asm.DEFAULT_USERS, show_default=True,
              help="Users per run.")  # fmt: skip
@click.option("--days", type=float, default=asm.DEFAULT_DAYS, show_default=True,
              help="Days per run.")  # fmt: skip
@click.option("--seed", type=int, default=asm.DEFAULT_SEED, show_default=True,
              help="Root seed: the design and the runs' seed come from it.")  # fmt: skip
@click.option("--levels", type=int, default=asm.DEFAULT_LEVELS, show_default=True,
              help="Levels of the Morris grid (even).")  # fmt: skip
@click.option(
    "--only", multiple=True, metavar="PATTERN",
    help="Screen only the settings matching PATTERN (a dotted path or a pattern such as "
    "'behaviour.*'; repeatable) [default: every behavioural setting].",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(path_type=Path), required=True,
    help="Results folder (an experiment folder). The same folder again runs only what is "
    "missing.",
)  # fmt: skip
@click.option(
    "--backend", type=click.Choice(["serial", "process", "dask"]), default="process",
    show_default=True, help="Where runs execute (as `tightrope experiment`).",
)  # fmt: skip
@click.option("--workers", type=int, default=None,
              help="Worker processes [default: the number of CPUs].")  # fmt: skip
@json_option
@quiet_option
@click.pass_context
def assumptions(
    ctx: click.Context,
    preset: str,
    trajectories: int,
    users: int,
    days: float,
    seed: int,
    levels: int,
    only: tuple[str, ...],
    out: Path,
    backend: str,
    workers: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Rank the behavioural settings of PRESET (default china-weibo-2013) by how much they
    move each goal score: a Morris screening (SALib) over every setting of population,
    behaviour, mobilisation and content, each tried over a range around the preset's value.

    Prints the top settings per goal (mu* with its 95% interval, sigma) and writes the
    experiment folder, its analysis and DIR/report.html. See docs/assumptions.md."""
    from tightrope.errors import InputError
    from tightrope.experiments.analysis import analyze
    from tightrope.experiments.runner import _backend, prepare_experiment, run_experiment
    from tightrope.report.html import write_report

    if workers is not None and workers < 1:
        raise InputError(f"--workers must be a whole number, 1 or more, got {workers}")
    _backend(backend, workers, None, 10.0)
    spec = prepare_experiment(
        asm.assumptions_spec(preset, trajectories, users, days, seed, levels, only), out
    )
    label = f"{spec.name}: {len(spec.factors)} settings, {len(spec.points)} runs"
    with _progress(label, unit="runs", quiet=quiet) as bar:
        summary = run_experiment(spec, out, backend=backend, workers=workers, progress=bar)
    if summary.failures:
        for f in summary.failures[:10]:
            click.echo(f"failed: point {f.point} (seed {f.seed}): {f.error}", err=True)
        click.echo(f"{summary.failed} runs failed (in {summary.failures_path}); run the same "
                   "command again to retry them", err=True)  # fmt: skip
        ctx.exit(1)
    analysis = analyze(out)
    report = write_report(out)
    ranking = asm.ranking(analysis.sensitivity)
    if as_json:
        payload = {"experiment": summary.to_dict(), "notes": analysis.notes,
                   "ranking": ranking, "report": str(report)}  # fmt: skip
        click.echo(_dump(payload))
        return
    _print(ranking, spec.name, summary.to_dict(), analysis.notes)
    click.echo(f"analysis: {analysis.folder}")
    click.echo(f"report: {report}")


def _print(
    ranking: dict[str, list[dict[str, Any]]], name: str, summary: dict[str, Any], notes: list[str]
) -> None:
    from rich.table import Table

    console = _console()
    console.print(
        f"{name}: {summary['runs']:,} runs, {summary['done']:,} run now, "
        f"{summary['skipped']:,} already done ({summary['wall_seconds']:.1f} s)"
    )
    for note in notes:
        if note.startswith("sensitivity:"):
            console.print(f"note: {note}")
    for goal in asm.GOALS:
        rows = ranking.get(goal, [])
        table = Table(title=f"{goal}: the {min(TOP, len(rows))} settings that move it most "
                      "(Morris mu*, 95% interval; sigma: spread of the effect)")  # fmt: skip
        for col in ("rank", "setting", "mu*", "interval", "sigma", "mu"):
            table.add_column(col, justify="left" if col == "setting" else "right")
        for r in rows[:TOP]:
            table.add_row(str(r["rank"]), r["setting"], _fmt(r["mu_star"]),
                          f"±{_fmt(r['mu_star_conf'])}", _fmt(r["sigma"]),
                          _fmt(r["mu"]))  # fmt: skip
        console.print(table)
