"""The `tightrope experiment` command: run an experiment file into a results folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tightrope.cli.app import _console, _dump, _progress, json_option, quiet_option
from tightrope.errors import InputError

if TYPE_CHECKING:
    from tightrope.experiments.runner import ExperimentSummary


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--out", type=click.Path(path_type=Path), required=True,
    help="Results folder. Running again with the same folder runs only what is missing.",
)  # fmt: skip
@click.option(
    "--backend", type=click.Choice(["serial", "process", "dask"]), default=None,
    help="Where runs execute: this process, a local process pool, or Dask "
    "[default: process; dask with --scheduler].",
)  # fmt: skip
@click.option(
    "--workers", type=click.IntRange(min=1), default=None,
    help="Worker processes for process and local dask [default: the number of CPUs].",
)  # fmt: skip
@click.option(
    "--scheduler", metavar="ADDRESS", default=None,
    help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies dask). "
    "Its workers must see the results folder.",
)  # fmt: skip
@click.option(
    "--connect-timeout", type=click.FloatRange(min=0, min_open=True), default=10.0,
    show_default=True, metavar="SECONDS", help="How long to wait for the Dask scheduler.",
)  # fmt: skip
@json_option
@quiet_option
@click.pass_context
def experiment(
    ctx: click.Context,
    file: Path,
    out: Path,
    backend: str | None,
    workers: int | None,
    scheduler: str | None,
    connect_timeout: float,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run the experiment in FILE (design points x replicates) and store it in --out.

    Everything is checked before any run. Exit status 1 when some runs failed (they are
    listed; running the same command again retries them), 2 on bad input.
    """
    from tightrope.experiments.runner import _backend, prepare_experiment, run_experiment

    if scheduler is not None and not scheduler.strip():
        raise InputError("--scheduler needs an address, e.g. tcp://127.0.0.1:8786")
    _backend(backend, workers, scheduler, connect_timeout)  # check the options first
    spec = prepare_experiment(file, out)
    for note in spec.notes:
        click.echo(f"note: {note}", err=as_json)
    label = f"{spec.name}: {len(spec.points)} points x {spec.replicates} replicates"
    with _progress(label, unit="runs", quiet=quiet) as bar:
        summary = run_experiment(
            spec, out, backend=backend, workers=workers, scheduler=scheduler,
            connect_timeout=connect_timeout, progress=bar,
        )  # fmt: skip
    if as_json:
        click.echo(_dump(summary.to_dict()))
    else:
        _print_summary(summary)
    if summary.failures:
        ctx.exit(1)


def _print_summary(s: ExperimentSummary) -> None:
    console = _console()
    console.print(
        f"experiment {s.name}: {s.runs:,} runs ({s.points:,} points x {s.replicates} "
        f"replicates): {s.done:,} run now, {s.skipped:,} already done, {s.failed:,} failed "
        f"({s.backend}, {s.workers} workers, {s.wall_seconds:.1f} s)"
    )
    console.print(f"results: {s.results_path}")
    if not s.failures:
        return
    console.print(f"failed runs ({s.failed}), also in {s.failures_path}:")
    for f in s.failures[:20]:
        values = ", ".join(f"{k}={v}" for k, v in f.values.items())
        console.print(f"  point {f.point} ({values}), replicate {f.replicate} "
                      f"(seed {f.seed}): {f.error}")  # fmt: skip
    if s.failed > 20:
        console.print(f"  ... and {s.failed - 20} more")
    console.print("run the same command again to retry the failed runs")
