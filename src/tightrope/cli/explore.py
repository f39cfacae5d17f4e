"""`tightrope explore`: the browser explorer (tightrope.explorer)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("scenarios", nargs=-1, metavar="[SCENARIO...]")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on; 127.0.0.1 lets only this computer open the page.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8050,
    show_default=True,
    help="Port to serve on (0: any free one).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("results/explorer"),
    show_default=True,
    help="Results folder for the finished runs (the page can change it).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Worker processes that run the simulations.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser; print the address.")
def explore(
    scenarios: tuple[str, ...], host: str, port: int, out: Path, workers: int, no_browser: bool
) -> None:
    """Open the explorer: choose regimes (presets or SCENARIO files), move their levers,
    and watch order, development and freedom respond while the runs go.

    Runs are stored in --out like `tightrope run --out` stores them; the page exports a
    regime's settings as a scenario file and its charts as HTML. Ctrl-C stops the server
    and every worker."""
    from tightrope.explorer.server import serve

    serve(
        list(scenarios),
        host=host,
        port=port,
        out_dir=out,
        workers=workers,
        open_browser=not no_browser,
        say=lambda text: click.echo(text, err=True),
    )
