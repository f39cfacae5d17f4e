"""`tightrope calibrate SPEC --out DIR`: fit scenario settings to published figures.

See `tightrope.experiments.calibration` and docs/calibration.md.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from tightrope.cli.app import _console, _dump, _progress, json_option


def _command(spec: Path, out: Path, workers: int, trials: int | None) -> str:
    """The command line that reproduces this invocation (as written into the outputs)."""
    parts = ["tightrope", "calibrate", str(spec), "--out", str(out)]
    if trials is not None:
        parts += ["--trials", str(trials)]
    if workers != 1:
        parts += ["--workers", str(workers)]
    return shlex.join(parts)


@click.command()
@click.argument("spec", metavar="SPEC", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Calibration folder: the Optuna journal, the calibrated scenario and the fit report. "
    "Run again with the same spec and folder to resume.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes optimising the same study at once (trial order, hence the best trial, "
    "then depends on timing; 1 is reproducible).",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    help="Complete trials wanted in the study (default: the spec's). Asking for more than "
    "the folder holds continues the study.",
)
@json_option
def calibrate(spec: Path, out: Path, workers: int, trials: int | None, as_json: bool) -> None:
    """Fit the settings listed in SPEC (a calibration TOML file) to its targets.

    Writes DIR/<name>.toml (the calibrated scenario), DIR/fit.md, DIR/fit.parquet and
    DIR/trials.parquet, and prints the fit table: published vs simulated (95% interval over
    fresh seeds) per target.
    """
    from tightrope.experiments import calibration as cal

    plan = cal.load_spec(spec, trials=trials)
    cal.check_folder(plan, out)  # refuse another spec's folder before any work
    command = _command(spec, out, workers, trials)
    with _progress(f"calibrating {plan.spec.name}") as bar:
        report = cal.calibrate(plan, out, workers=workers, progress=bar, command=command)
    if as_json:
        click.echo(
            _dump(
                {
                    "name": plan.spec.name,
                    "spec_sha256": plan.sha256,
                    "trials": report.best.complete,
                    "best_trial": report.best.number,
                    "loglik": report.best.loglik,
                    "values": {
                        p.path: v
                        for p, v in zip(plan.spec.parameter, report.best.values, strict=True)
                    },
                    "validation_seeds": report.validation_seeds,
                    "validation_loglik": report.validation_loglik,
                    "all_within": report.all_within,
                    "stopped_validation_runs": report.stopped_runs,
                    "rows": report.rows,
                    "files": {k: str(v) for k, v in report.files.items()},
                }
            )
        )
        return
    _print_report(plan, report)


def _print_report(plan: Any, report: Any) -> None:
    from rich.table import Table

    from tightrope.experiments.calibration import _cell, published_text, simulated_text

    spec = plan.spec
    click.echo(
        f"{spec.name}: best of {report.best.complete} trials (trial {report.best.number}), "
        f"log-likelihood {report.best.loglik:.3f}; {spec.users:,} users x {spec.days:g} days, "
        f"{spec.replicates} replicates per trial."
    )
    values = Table(title="Fitted values")
    values.add_column("Setting")
    values.add_column("Value", justify="right")
    values.add_column("Range")
    for p, v in zip(spec.parameter, report.best.values, strict=True):
        values.add_row(p.path, f"{v:.4g}", f"[{p.low:g}, {p.high:g}]{' log' if p.log else ''}")
    _console().print(values)
    table = Table(
        title=f"Targets: published vs simulated ({len(report.validation_seeds)} fresh seeds, "
        "mean [95% interval])"
    )
    for name in ("Target", "Metric", "Published", "Simulated", "Within", "z"):
        table.add_column(name, justify="right" if name in ("z",) else "left")
    for r in report.rows:
        table.add_row(
            r["target"],
            r["metric"],
            published_text(r),
            simulated_text(r),
            _cell(r["within"]),
            _cell(r["z"], 3),
        )
    _console().print(table)
    verdict = "all targets within" if report.all_within else "NOT all targets within"
    click.echo(f"{verdict} their published uncertainty; validation log-likelihood "
               f"{report.validation_loglik:.3f}")  # fmt: skip
    if report.stopped_runs:
        click.echo(f"note: {report.stopped_runs} validation run(s) stopped (event calendar "
                   "full) and left out")  # fmt: skip
    for key in ("scenario", "fit_md", "fit", "trials"):
        click.echo(f"{key}: {report.files[key]}")
