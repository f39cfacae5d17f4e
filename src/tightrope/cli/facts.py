"""`tightrope facts [CATALOGUE]`: run the published facts and say which the model meets.

See `tightrope.experiments.facts` and docs/validation.md. Exit status 3 when a fact fails
(so that it is told apart from 1, an internal error), 2 on bad input (nothing is run or
written).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tightrope.cli.app import _console, _dump, _fmt, _progress, json_option, quiet_option

FAILED_EXIT = 3
"""Exit status when a fact fails (1 is an internal error, 2 bad input)."""

if TYPE_CHECKING:
    from tightrope.experiments.facts import FactsResult


@click.command()
@click.argument("catalogue", required=False, default=None, metavar="[CATALOGUE]")
@click.option("--users", type=click.IntRange(min=10), help="Users per run (default: catalogue's).")
@click.option(
    "--days",
    type=click.FloatRange(min=0, min_open=True),
    help="Days per run (default: catalogue's).",
)
@click.option(
    "--replicates", type=click.IntRange(min=1), help="Runs per scenario (default: catalogue's)."
)
@click.option(
    "--seed", type=click.IntRange(min=0), help="Root seed of the replicates (default: catalogue's)."
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True,
    help="Runs at once: 1 runs in this process on all cores; more runs that many in a "
    "process pool, one core each.",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(path_type=Path),
    help="Write OUT/facts.html and OUT/facts.json (the runs are not kept).",
)  # fmt: skip
@json_option
@quiet_option
def facts(
    catalogue: str | None,
    users: int | None,
    days: float | None,
    replicates: int | None,
    seed: int | None,
    workers: int,
    out: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Test the model against published facts (default: the shipped catalogue, literature).

    Prints each fact's measured mean with its 95% interval, its criterion and verdict;
    exits with status 3 when a fact fails. CATALOGUE is a shipped name or a TOML file."""
    from tightrope.errors import InputError
    from tightrope.experiments import facts as fx
    from tightrope.report.facts_page import write_facts_page
    from tightrope.results.storage import write_text_atomic

    source = catalogue or fx.SHIPPED
    plan = fx.prepare(source, users=users, days=days, replicates=replicates, root_seed=seed)
    cat = plan.catalogue  # bad input is refused above, before any run or file
    if out is not None:
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out} is a file, not a folder")
        try:  # before any run: a folder that cannot be made is bad input, not a late error
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"--out {out}: cannot make the folder ({exc})") from None
    n = len(cat.scenarios()) * plan.replicates
    with _progress(f"{len(cat.fact)} facts, {n} runs", unit="runs", quiet=quiet) as bar:
        res = fx.check(plan, workers=workers, progress=bar)
    payload = {
        "catalogue": res.label, "title": res.title, "version": res.version,
        "users": res.users, "days": res.days, "seeds": res.seeds, **res.counts(),
        "facts": res.rows,
    }  # fmt: skip
    if out is not None:  # the page first: facts.json, written last, says the pair is whole
        write_facts_page(res, out / "facts.html")
        write_text_atomic(out / "facts.json", _dump(payload) + "\n")
    if as_json:
        click.echo(_dump(payload))
    else:
        _print(res)
        if out is not None:
            click.echo(f"page: {out / 'facts.html'}")
    if res.failed:
        raise click.exceptions.Exit(FAILED_EXIT)


def _print(res: FactsResult) -> None:
    from rich.table import Table

    from tightrope.results.intervals import text

    c = res.counts()
    click.echo(
        f"{res.title} ({res.label}, version {res.version}): {res.users:,} users, "
        f"{_fmt(float(res.days))} days, {len(res.seeds)} replicates per scenario "
        "(the same seeds: comparisons are paired); mean [95% interval]."
    )
    table = Table()
    for col in ("fact", "scenario", "output", "criterion", "measured", "n", "verdict", "calib."):
        table.add_column(col, justify="right" if col in ("criterion", "measured", "n") else "left")
    for r in res.rows:
        paired = r["than"] is not None or r["than_metric"] is not None
        what = r["scenario"] + (f" - {r['than']}" if r["than"] else "")
        measured = text(r["mean"], r["ci_low"], r["ci_high"], paired)
        verdict = r["verdict"] + ("" if r["certain"] else " (unsure)")
        table.add_row(
            r["id"], what, r["metric"], r["criterion"], measured, str(r["n"]), verdict,
            "yes" if r["calibration"] else "",
        )  # fmt: skip
    _console().print(table)
    click.echo(
        f"passed {c['all_passed']} of {c['all_total']} (calibration targets "
        f"{c['calibration_passed']} of {c['calibration_total']}, other facts "
        f"{c['other_passed']} of {c['other_total']})"
    )
