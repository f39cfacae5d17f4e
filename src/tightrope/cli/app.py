"""The `tightrope` command: a thin layer over the library.

Exit status: 0 on success, 2 on bad input (files, options, values; nothing is written),
1 on an internal error (a short message; the traceback only with TIGHTROPE_DEBUG=1),
130 when stopped by Ctrl-C and 143 by SIGTERM (at a safe point, saying what was kept).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from tightrope.errors import InputError, RunLostError
from tightrope.experiments.compare import goal_rows
from tightrope.results.storage import jsonable


class BadInput(click.ClickException):
    """Bad input: exit status 2, message on stderr, no traceback."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class InternalError(click.ClickException):
    """A fault in Tightrope itself: exit status 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"internal error: {self.format_message()}", err=True)
        if os.environ.get("TIGHTROPE_DEBUG") != "1":
            click.echo("(set TIGHTROPE_DEBUG=1 to see the traceback)", err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        from tightrope.engine.stops import Stopped, handling_stops

        try:
            with handling_stops():
                return super().invoke(ctx)
        except Stopped as stop:
            click.echo(str(stop), err=True)
            ctx.exit(stop.exit_code)
        except InputError as exc:
            raise BadInput(str(exc)) from None
        except RunLostError as lost:
            click.echo(f"error: {lost}", err=True)
            ctx.exit(1)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except BrokenPipeError:
            raise  # the reader went away (`... | head`): click stops quietly
        except Exception as exc:
            if os.environ.get("TIGHTROPE_DEBUG") == "1":
                traceback.print_exc()
            raise InternalError(f"{type(exc).__name__}: {exc}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tightrope", message="tightrope %(version)s")
def main() -> None:
    """Tightrope: simulate social-media governance and measure order, development and freedom."""


# ---------------------------------------------------------------- helpers


def _console() -> Any:
    from rich.console import Console

    tty = sys.stdout.isatty()
    return Console(file=sys.stdout, width=None if tty else 200, highlight=False, markup=False)


def _fmt(value: Any) -> str:
    """A number for a table: n/a for missing, thousands separators, 4 significant digits."""
    if value is None or isinstance(value, str | bool):
        return "n/a" if value is None else str(value)
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    if not math.isfinite(value):
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _dump(obj: Any) -> str:
    return json.dumps(jsonable(obj), allow_nan=False, indent=2)


PROGRESS_EVERY_SECONDS = 30.0
"""Off a terminal, a progress line at least this often (and at each tenth of the work)."""


class _ProgressLines:
    """Progress as plain lines on stderr, for logs (nohup, CI, a redirect): a start line,
    a line at each tenth of the work or every PROGRESS_EVERY_SECONDS, and an end line."""

    def __init__(self, label: str, unit: str) -> None:
        import time

        self.clock = time.monotonic
        self.label, self.unit = label, unit
        self.started = self.last = self.clock()
        self.next_share = 0.1
        click.echo(f"{label}: started", err=True)

    def __call__(self, done: float, total: float) -> None:
        now = self.clock()
        share = done / total if total else 0.0
        if share < self.next_share and now - self.last < PROGRESS_EVERY_SECONDS:
            return
        if share >= 1.0:
            return  # the end line says it
        self.last = now
        self.next_share = math.floor(share * 10 + 1e-9) / 10 + 0.1
        elapsed = now - self.started
        left = elapsed * (1 - share) / share if share > 0 else math.nan
        unit = f" {self.unit}" if self.unit else ""
        count = f"{done:,.0f}/{total:,.0f}{unit}" if float(done).is_integer() else ""
        click.echo(
            f"{self.label}: {share:.0%} {count}".rstrip()
            + f", {elapsed:.0f} s elapsed"
            + (f", about {left:.0f} s left" if math.isfinite(left) else ""),
            err=True,
        )

    def finish(self) -> None:
        click.echo(f"{self.label}: finished in {self.clock() - self.started:.1f} s", err=True)


@contextlib.contextmanager
def _progress(
    label: str, unit: str = "", quiet: bool = False
) -> Iterator[Callable[[float, float], None] | None]:
    """A rich progress bar on a terminal; lines on stderr elsewhere (see _ProgressLines);
    nothing with `quiet`.

    With `unit` (e.g. "ticks") the bar also shows how many of them per second."""
    if quiet:
        yield None
        return
    if not sys.stdout.isatty():
        lines = _ProgressLines(label, unit)
        yield lines
        lines.finish()
        return
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.1f} {unit}/s" if speed else f"- {unit}/s")

    class Count(ProgressColumn):
        def render(self, task: Any) -> Text:
            total = "?" if task.total is None else f"{task.total:,.0f}"
            return Text(f"{task.completed:,.0f}/{total} {unit}")

    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
    if unit:
        columns += [Count(), Rate()]
    columns += [TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn()]
    with Progress(*columns, console=_console(), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: float, total: float) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _write_report(out: Path) -> Path:
    """The HTML report of a results folder."""
    from tightrope.report.html import write_report

    return write_report(out)


def _note(text: str, as_json: bool) -> None:
    click.echo(text, err=as_json)


def _stored(out: Path, report: Path, as_json: bool) -> None:
    _note(f"stored in {out}", as_json)
    _note(f"report: {report}", as_json)


# ---------------------------------------------------------------- options

users_option = click.option(
    "--users", type=click.IntRange(min=1), help="Number of simulated users (default: scenario's)."
)


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number.", ctx, param)
    return value


days_option = click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    help="Simulated days, more than 0 (default: scenario's).",
)
set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a setting, e.g. --set state.punishment.severity=0.5 (repeatable).",
)
out_option = click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Results folder: store the run(s) there and write report.html.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object only.")
quiet_option = click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress (off a terminal progress goes to stderr as lines: a start line, "
    "then at each tenth of the work or every 30 s).",
)


# ---------------------------------------------------------------- commands


@main.command()
def presets() -> None:
    """List the shipped presets: name and description."""
    from tightrope.scenario.files import preset_description, preset_names

    names = preset_names()
    width = max((len(n) for n in names), default=0)
    for name in names:
        click.echo(f"{name:<{width}}  {preset_description(name)}".rstrip())


@main.command()
@click.argument("name")
def show(name: str) -> None:
    """Print the full TOML text of preset NAME."""
    from tightrope.scenario.files import preset_text

    click.echo(preset_text(name), nl=False)


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@set_option
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...], sets: tuple[str, ...]) -> None:
    """Check scenario files (or preset names): print "FILE: valid" or every problem."""
    from tightrope.scenario.files import load_scenario

    bad = 0
    for file in files:
        try:
            load_scenario(file, sets)
        except InputError as exc:
            click.echo(f"error: {exc}", err=True)
            bad += 1
        else:
            click.echo(f"{file}: valid")
    if bad:
        ctx.exit(2)


@main.command()
@click.argument("scenario")
@users_option
@days_option
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: scenario's).")
@set_option
@out_option
@click.option(
    "--checkpoint-every",
    type=click.FloatRange(min=0, min_open=True),
    callback=_finite,
    metavar="DAYS",
    help="Write the run's whole state every DAYS simulated days (see --checkpoint).",
)
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(path_type=Path),
    help="Checkpoint folder: a manifest and one file per shard (default: "
    "OUT/checkpoint.ckpt with --out, else ./SCENARIO-seedSEED.ckpt).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Go on from the checkpoint instead of starting afresh (same arguments as the "
    "run that wrote it); the result is bit-identical to an uninterrupted run.",
)
@click.option(
    "--no-memory-check",
    is_flag=True,
    help="Start even if the run looks too large for this machine's memory (or, with "
    "--backend dask, for the largest worker's limit).",
)
@click.option(
    "--backend",
    type=click.Choice(["here", "dask"]),
    default=None,
    help="Where the run lives: in this process, or on one Dask worker from start to end "
    "[default: here; dask with --scheduler].",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies dask; "
    "without it, dask starts one local worker process). Its workers must see the "
    "checkpoint's path.",
)
@click.option(
    "--shards",
    type=click.IntRange(min=1),
    default=None,
    help="Shards of viewers the calendar of views is split into, worked on in parallel "
    "(at most one per 4,096 users) [default: one per thread]; the results are the same "
    "for any number.",
)
@json_option
@quiet_option
def run(
    scenario: str,
    users: int | None,
    days: float | None,
    seed: int | None,
    sets: tuple[str, ...],
    out: Path | None,
    checkpoint_every: float | None,
    checkpoint_path: Path | None,
    resume: bool,
    no_memory_check: bool,
    backend: str | None,
    scheduler: str | None,
    shards: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Run SCENARIO (a preset name or a TOML file) once and show the three goals.

    Stopped by Ctrl-C or SIGTERM, the run ends between two ticks; with --out (or
    --checkpoint) its state is kept in the checkpoint, and the same command with
    --resume goes on from there. With --backend dask the run lives on one Dask worker,
    chosen for its memory; a lost worker ends the command with the last checkpoint named
    (docs/scale.md)."""
    from tightrope.engine.memory import check_fits
    from tightrope.results.storage import check_folder_kind, check_out_dir, folder_lock
    from tightrope.scenario.files import load_scenario

    if scheduler is not None and backend == "here":
        raise BadInput("--scheduler needs --backend dask (or leave out --backend)")
    on_dask = backend == "dask" or scheduler is not None
    config = load_scenario(scenario, sets, users=users, days=days, seed=seed)
    if out is not None:
        check_out_dir(out)
        check_folder_kind(out, "runs", "run")
    if checkpoint_path is None and out is not None:
        checkpoint_path = out / "checkpoint.ckpt"  # written when stopped, or every so often
    if checkpoint_path is None and (resume or checkpoint_every is not None):
        checkpoint_path = Path(f"{config.name}-seed{config.run.seed}.ckpt")
    if resume:
        assert checkpoint_path is not None
        if not checkpoint_path.exists():
            raise BadInput(
                f"--resume: no checkpoint at {checkpoint_path}; give the checkpoint with "
                "--checkpoint, or start without --resume"
            )
    if resume:
        from tightrope.engine.checkpoints import check_compatible

        assert checkpoint_path is not None
        check_compatible(checkpoint_path, config)  # refused before anything is written
    elif checkpoint_path is not None:
        from tightrope.engine.checkpoints import check_writable

        check_writable(checkpoint_path)  # refused before anything is written
    if not no_memory_check and not on_dask:  # on Dask: checked against the workers' limits
        check_fits(config)
    if shards is not None and config.network.source != "edge_list":
        from tightrope.engine.simulation import check_shards

        check_shards(shards, config.run.users)  # refused before anything is written
    dask = {"scheduler": scheduler, "memory_check": not no_memory_check} if on_dask else None
    with contextlib.ExitStack() as held:
        if out is not None:
            held.enter_context(folder_lock(out, "run"))
            check_folder_kind(out, "runs", "run")  # again, now that no other command writes
        result, report = _run_and_store(config, out, checkpoint_path, checkpoint_every, resume,
                                        quiet, dask, shards)  # fmt: skip
    if as_json:
        head = {"scenario": config.name, "seed": result.seed, "users": config.run.users}
        head |= {"days": config.run.days, "config_sha256": result.config_sha256}
        click.echo(_dump({**head, "summary": result.summary}))
    else:
        _print_run(result)
    if report is not None:
        _stored(out, report, as_json)


def _run_and_store(
    config: Any,
    out: Path | None,
    checkpoint_path: Path | None,
    checkpoint_every: float | None,
    resume: bool,
    quiet: bool,
    dask: dict[str, Any] | None = None,
    shards: int | None = None,
) -> tuple[Any, Path | None]:
    """Run (here, or on Dask with `dask`'s settings: `tightrope.engine.remote`), store the
    run and its report in `out`, remove the checkpoint once stored."""
    from datetime import UTC, datetime

    from tightrope.engine import driver
    from tightrope.results.storage import save_run

    report: Path | None = None
    label = f"{config.name} seed {config.run.seed}"
    if dask is not None:
        from tightrope.engine.remote import run_on_dask

        if not quiet:
            where = dask["scheduler"] or "a local Dask worker"
            click.echo(f"{label}: running on {where}", err=True)
        started = datetime.now(UTC)
        result = run_on_dask(
            config,
            checkpoint=checkpoint_path,
            checkpoint_every_days=checkpoint_every,
            resume=resume,
            shards=shards,
            **dask,
        )
        finished = datetime.now(UTC)
    else:
        with (
            _progress(label, unit="ticks", quiet=quiet) as bar,
            warnings.catch_warnings(action="ignore", category=driver.DroppedEventsWarning),
        ):  # said below, for a run here or on Dask alike
            started = datetime.now(UTC)
            result = driver.run(
                config,
                progress=bar,
                checkpoint=checkpoint_path,
                checkpoint_every_days=checkpoint_every,
                resume=resume,
                shards=shards,
            )
            finished = datetime.now(UTC)
    if result.meta.get("calendar_dropped"):
        click.echo(f"warning: {driver.dropped_message(result.meta['calendar_dropped'])}", err=True)
    if out is not None:
        save_run(result, out, started_at=started, finished_at=finished)
        report = _write_report(out)
    if checkpoint_path is not None and checkpoint_path.exists():
        from tightrope.engine.checkpoints import remove_checkpoint

        with contextlib.suppress(OSError):  # another run's checkpoint stays
            remove_checkpoint(checkpoint_path, result.config_sha256)  # the run is finished
    return result, report


def _print_run(result: Any) -> None:
    from rich.table import Table

    run = result.scenario.run
    table = Table(title=f"{result.scenario.name}: seed {result.seed}, {run.users:,} users, "
                  f"{_fmt(float(run.days))} days")  # fmt: skip
    table.add_column("Goal")
    table.add_column("Measure")
    table.add_column("Value", justify="right")
    last = ""
    for section, metric, is_score in goal_rows(list(result.summary)):
        name = metric if is_score else f"  {metric}"
        table.add_row(section if section != last else "", name, _fmt(result.summary.get(metric)))
        last = section
    _console().print(table)
    click.echo(f"config sha256: {result.config_sha256}")


@main.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@click.option(
    "--replicates", type=click.IntRange(min=1), default=5, show_default=True,
    help="Runs per scenario; every scenario gets the same seeds.",
)  # fmt: skip
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True,
    help="Root seed the replicate seeds are spawned from.",
)  # fmt: skip
@users_option
@days_option
@set_option
@out_option
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True,
    help="Runs at once: 1 runs in this process on all cores; more runs that many in a "
    "process pool, one core each.",
)  # fmt: skip
@json_option
@quiet_option
def compare(
    scenarios: tuple[str, ...],
    replicates: int,
    seed: int,
    users: int | None,
    days: float | None,
    sets: tuple[str, ...],
    out: Path | None,
    workers: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Compare scenarios over replicates: means with 95% CIs and paired differences vs the first.

    With --out, the folder belongs to this comparison: each run is stored as it finishes,
    and the same command run again (after a stop or a failure) runs only what is missing."""
    from tightrope.experiments import compare as cmp

    args = {"replicates": replicates, "root_seed": seed, "users": users, "days": days}
    args |= {"overrides": sets, "out_dir": out}
    labels, scenario_list, seeds = cmp.prepare(scenarios, **args)  # everything before any run
    if out is not None:
        cmp.check_comparison_folder(
            out, cmp.comparison_json(scenarios, labels, scenario_list, seeds, seed)
        )
    label = f"{len(scenarios)} scenarios x {replicates} replicates"
    with _progress(label, unit="runs", quiet=quiet) as bar:
        res = cmp.compare(scenarios, **args, progress=bar, workers=workers)
    report = _write_report(out) if out is not None else None
    if as_json:
        head = {"baseline": res.baseline, "scenarios": res.labels, "replicates": replicates}
        head |= {"root_seed": seed, "seeds": res.seeds, "users": res.users, "days": res.days}
        click.echo(_dump({**head, "notes": res.notes, "rows": res.rows}))
    else:
        _print_comparison(res, seed)
    if out is not None and report is not None:
        _stored(out, report, as_json)


def _interval(mean: float, lo: float, hi: float, signed: bool = False) -> str:
    """`mean [low, high]`, as the HTML report shows it (`intervals.text`: the same numbers
    and digits); the mean alone where there is no interval. Intervals may be asymmetric."""
    from tightrope.results.intervals import text

    return text(mean, lo, hi, signed)


def _print_comparison(res: Any, seed: int) -> None:
    from rich.table import Table

    base = res.baseline
    click.echo(
        f"{len(res.labels)} scenarios x {len(res.seeds)} replicates (seeds spawned from "
        f"root seed {seed}), {res.users:,} users, {_fmt(float(res.days))} days."
    )
    from tightrope.results import intervals  # the same label as the report's

    click.echo(f"Differences are paired (same seeds, replicate by replicate) against the first "
               f"scenario, {base}: {intervals.difference_label(0.95)}.")  # fmt: skip
    click.echo(f"Each scenario: {intervals.label(0.95)}.")
    for note in res.notes:
        click.echo(f"note: {note}")
    table = Table()
    table.add_column("Goal")
    table.add_column("Measure")
    for label in res.labels:
        table.add_column(label, justify="right")
    for label in res.labels[1:]:
        table.add_column(f"{label} - {base}", justify="right")
    metrics = sorted({r["metric"] for r in res.rows}, key=[r["metric"] for r in res.rows].index)
    last = ""
    for section, metric, is_score in goal_rows(metrics):
        if metric not in metrics:
            continue
        cells = [_interval(*_pick(res, lab, metric, "")) for lab in res.labels]
        cells += [_interval(*_pick(res, lab, metric, "diff_"), True) for lab in res.labels[1:]]
        name = metric if is_score else f"  {metric}"
        table.add_row(section if section != last else "", name, *cells)
        last = section
    _console().print(table)


def _pick(res: Any, label: str, metric: str, prefix: str) -> tuple[float, float, float]:
    """(mean, low, high) of one comparison row: the mean's interval (prefix "") or the
    paired difference's ("diff_"); None (a null read back from a file) as NaN."""
    row = res.row(label, metric)
    return tuple(  # type: ignore[return-value]
        math.nan if row[f"{prefix}{c}"] is None else float(row[f"{prefix}{c}"])
        for c in ("mean", "ci_low", "ci_high")
    )


@main.command()
@click.argument("results_dir", metavar="DIR", type=click.Path(path_type=Path))
def report(results_dir: Path) -> None:
    """Write DIR/report.html from the results stored in DIR and print its path."""
    from tightrope.results.storage import list_runs

    if list_runs(results_dir).num_rows == 0:
        raise InputError(f"no runs stored in {results_dir}")
    click.echo(str(_write_report(results_dir)))


@main.command()
@click.argument("results_dir", metavar="DIR", type=click.Path(path_type=Path))
def runs(results_dir: Path) -> None:
    """List the runs stored in DIR."""
    from rich.table import Table

    from tightrope.results.storage import list_runs

    table = list_runs(results_dir)
    if table.num_rows == 0:
        click.echo(f"no runs stored in {results_dir}")
        return
    out = Table(title=f"{table.num_rows} runs in {results_dir}")
    numeric = {"seed", "replicate", "users", "days"}
    for name in table.column_names:
        if name == "run_id":
            out.add_column(name, no_wrap=True, min_width=max(map(len, table["run_id"].to_pylist())))
            continue
        is_num = name in numeric or name.endswith("score") or name == "balance"
        header = {"replicate": "rep"}.get(name, name.removesuffix("_score"))
        out.add_column(header, justify="right" if is_num else "left")
    for row in table.to_pylist():
        out.add_row(*(_fmt(row[c]) if c != "seed" else str(row[c]) for c in table.column_names))
    _console().print(out)
