"""The run driver: a scenario run to its end, with progress, checkpoints, stops and the
threads' pace; the `Simulation` it steps knows none of these.

`run` is `tightrope.run`. Its loop is the one place where a stop (Ctrl-C, SIGTERM) is acted
on (between two ticks, see `tightrope.engine.stops`), checkpoints are written every so many
days, and the thread count follows the free cores (`tightrope.engine.threads`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from pathlib import Path

from tightrope.engine import stops
from tightrope.engine.checkpoints import check_writable, load_checkpoint, save_checkpoint
from tightrope.engine.simulation import Simulation
from tightrope.engine.threads import Pacer, pace
from tightrope.errors import InputError
from tightrope.results.result import Result
from tightrope.scenario.schema import Scenario


def one_thread_in_workers() -> None:
    """In a worker process of a pool (experiments, calibration), run the kernels on one
    thread: the pool's processes already use the cores. Results do not depend on the
    number of threads, only the speed does."""
    import multiprocessing

    import numba

    if multiprocessing.parent_process() is not None:
        numba.set_num_threads(1)


def run(
    scenario: Scenario,
    *,
    progress: Callable[[int, int], None] | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every_days: float | None = None,
    resume: bool = False,
    shards: int | None = None,
) -> Result:
    """Run a validated scenario to the end and return its Result.

    The run's size, length and seed are the scenario's `run.users`, `run.days` and
    `run.seed` (use `load_scenario(..., users=, days=, seed=)` to set them).
    `progress(done_ticks, total_ticks)` is called every few ticks if given.

    With `checkpoint` and `checkpoint_every_days`, the whole state is written to that
    folder (a manifest and one file per shard, see `tightrope.engine.checkpoints`) every so
    many simulated days. With `resume=True` the run starts from the checkpoint instead of
    tick 0 (InputError if it was written for another config or version); the result is
    bit-identical to an uninterrupted run.

    `shards` splits the calendar of views into that many shards of viewers, worked on in
    parallel (default: one per thread; see `Simulation`); the result is the same to the bit
    for any number, and a checkpoint resumes with any number.
    """
    if (resume or checkpoint_every_days is not None) and checkpoint is None:
        raise InputError("a checkpoint is needed to resume or to write checkpoints")
    every_ticks = 0
    if checkpoint_every_days is not None:
        if not checkpoint_every_days > 0:
            raise InputError(
                f"the checkpoint interval must be more than 0 days, got {checkpoint_every_days}"
            )
        every_ticks = max(1, round(checkpoint_every_days * 1440 / scenario.run.tick_minutes))
    progress = pace(progress)  # threads: no more than the free cores (tightrope.engine.threads)
    if resume:
        assert checkpoint is not None
        sim = load_checkpoint(checkpoint, scenario, shards=shards)
    else:
        if checkpoint is not None:
            check_writable(checkpoint)  # refused before the run, not at its first save
        sim = Simulation(scenario, shards=shards)
    every = max(1, sim.n_ticks // 100)
    with contextlib.ExitStack() as done:
        if isinstance(progress, Pacer):  # a stop or an error gives the threads back too
            done.callback(progress.restore)
        done.enter_context(stops.deferred())  # a signal stops the run between ticks only
        while sim.t < sim.n_ticks:
            sim.step()
            if progress is not None and (sim.t % every == 0 or sim.t == sim.n_ticks):
                progress(sim.t, sim.n_ticks)
            if every_ticks and sim.t % every_ticks == 0 and sim.t < sim.n_ticks:
                assert checkpoint is not None
                save_checkpoint(sim, checkpoint)
            if stops.requested() is not None and sim.t < sim.n_ticks:
                _stop_at_tick(sim, checkpoint)
    if sim.dropped_events:
        warnings.warn(dropped_message(sim.dropped_events), DroppedEventsWarning, stacklevel=2)
    return sim.result()


class DroppedEventsWarning(UserWarning):
    """A run lost scheduled events to a full calendar pool (`dropped_message`)."""


def dropped_message(dropped: int) -> str:
    """What a run that lost `dropped` events to a full calendar pool tells its user."""
    return (
        f"{dropped:,} scheduled events (views, review arrivals, ...) were refused by a full "
        "calendar pool and lost (meta['calendar_dropped']); the pools grew after it, but this "
        "run is not what a run with room gives, nor the same on another number of shards"
    )


def _stop_at_tick(sim: Simulation, checkpoint: str | Path | None) -> None:
    """Raise stops.Stopped between ticks, after writing the checkpoint if the run has one."""
    per_day = 1440 / sim.scenario.run.tick_minutes
    stop = stops.Stopped(stops.requested() or 2)
    where = f"at tick {sim.t:,} of {sim.n_ticks:,} (day {sim.t / per_day:.4g})"
    if checkpoint is not None:
        save_checkpoint(sim, checkpoint)
        stop.kept.append(f"{where}, the run's state is kept in the checkpoint {checkpoint}")
        stop.resume = "run the same command with --resume to go on from there"
    else:
        stop.kept.append(f"{where}, nothing of the run is kept")
        stop.resume = "give --out or --checkpoint PATH next time to keep a checkpoint when stopped"
    raise stop
