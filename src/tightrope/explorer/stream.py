"""One streaming run: what a worker process does for the explorer.

`stream_run` runs a regime tick by tick (the engine's `Simulation`, as `tightrope run`
drives it) and puts messages on a channel as it goes, so that the page's charts grow while
the run is going. At the end the run is stored like `tightrope run --out` stores it
(`storage.save_run`: Parquet and manifest, atomic) and its summary is sent.

The protocol: every message is a dict with the run's `key` and a `kind`:

- `start`: `ticks` (the run's length), `tick_minutes`, `platforms` (names, in order);
- `rows`: `first` (the index of its first row in the time series), `rows` (time-series
  rows, columns `TIMESERIES_COLUMNS`) and `platform_rows` (`PLATFORM_COLUMNS`, one per
  platform and tick of those rows); sent at the end of each simulated day, and at least
  every `FLUSH_SECONDS` of wall time at large sizes; rows arrive in order, each once;
- `done`: `summary` (the run's summary, JSON-safe, as `tightrope run --json` prints it),
  `histograms` (queue-time rows, `HISTOGRAM_COLUMNS`), `folder` (where it was stored, or
  None), `run_id`;
- `stopped`: `tick` where the stop was taken (nothing of the run is stored).

A failure raises in the worker; the page's run manager reports it from the future.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from tightrope.results.storage import jsonable

FLUSH_SECONDS = 0.25
"""Rows are sent at least this often while a day is simulated (large runs)."""


class Channel(Protocol):
    def put(self, item: Any) -> None: ...


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class RunSpec:
    """One run of the page: a regime (its source and changed settings) with one seed."""

    key: str  # unique on the server: session, batch, regime and replicate
    label: str  # the regime's name on the page
    source: str  # a preset name or a scenario file path
    overrides: tuple[str, ...] = ()  # `dotted.path=value` (TOML values), as --set takes
    users: int = 2000
    days: float = 1.0
    seed: int = 0
    replicate: int = 0
    out_dir: str | None = None  # store the finished run here (None: not stored)


def scenario_of(spec: RunSpec) -> Any:
    """The validated scenario of a run (InputError names every problem)."""
    from tightrope.scenario.files import load_scenario

    return load_scenario(
        spec.source, list(spec.overrides), users=spec.users, days=spec.days, seed=spec.seed
    )


def stream_run(
    spec: RunSpec,
    channel: Channel,
    stop: StopFlag | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Run `spec`, sending its rows on `channel` as it goes (see the module's protocol);
    return "done" or "stopped". Runs in a worker process (the page's run manager) or, for
    tests, in this one."""
    from tightrope.engine.driver import one_thread_in_workers
    from tightrope.engine.simulation import Simulation
    from tightrope.results.storage import save_run

    one_thread_in_workers()
    scenario = scenario_of(spec)
    started = datetime.now(UTC)
    sim = Simulation(scenario)
    n_platforms = len(sim.names)
    per_day = max(1, round(1440 / scenario.run.tick_minutes))
    channel.put(
        {
            "key": spec.key,
            "kind": "start",
            "ticks": sim.n_ticks,
            "tick_minutes": scenario.run.tick_minutes,
            "platforms": list(sim.names),
        }
    )
    sent = 0
    last = clock()
    while sim.t < sim.n_ticks:
        if stop is not None and stop.is_set():
            if sent < len(sim.rows):
                _send(channel, spec.key, sim, sent, n_platforms)
            channel.put({"key": spec.key, "kind": "stopped", "tick": sim.t})
            return "stopped"
        sim.step()
        now = clock()
        if sim.t % per_day == 0 or sim.t == sim.n_ticks or now - last >= FLUSH_SECONDS:
            sent = _send(channel, spec.key, sim, sent, n_platforms)
            last = now
    result = sim.result()
    finished = datetime.now(UTC)
    folder = None
    if spec.out_dir is not None:
        try:
            folder = save_run(
                result,
                spec.out_dir,
                replicate=spec.replicate,
                started_at=started,
                finished_at=finished,
                label=spec.label,
            )
        except OSError as exc:  # a full disk, a folder taken away: nothing half-written stays
            raise RuntimeError(
                f"the run of {spec.label} (seed {spec.seed}) could not be stored in "
                f"{spec.out_dir}: {exc.strerror or exc}; nothing of it was kept"
            ) from None
    channel.put(
        {
            "key": spec.key,
            "kind": "done",
            "summary": jsonable(result.summary),
            "histograms": result.histograms.to_pylist(),
            "folder": None if folder is None else str(folder),
            "run_id": None if folder is None else folder.name,
        }
    )
    return "done"


def _send(channel: Channel, key: str, sim: Any, sent: int, n_platforms: int) -> int:
    """Send the time-series rows from index `sent` on (and their platform rows); return
    the new count of rows sent."""
    end = len(sim.rows)
    channel.put(
        {
            "key": key,
            "kind": "rows",
            "first": sent,
            "rows": [list(map(float, r)) for r in sim.rows[sent:end]],
            "platform_rows": [
                [float(x) if isinstance(x, int | float) else x for x in r]
                for r in sim.platform_rows[sent * n_platforms : end * n_platforms]
            ],
        }
    )
    return end
