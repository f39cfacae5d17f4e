"""A run on a Dask worker: `tightrope run ... --backend dask [--scheduler ADDR]`.

The whole run lives in one worker from its first tick to its last (one task, pinned to
that worker, never moved or retried): nothing is shipped back and forth during the run,
only the scenario out and the `Result` back. This is issue 22's backend with one shard;
when runs are split into shards (docs/scale.md), each shard will live in a worker the same
way.

- **Where.** A running Dask scheduler (`scheduler`: its address; its workers must see the
  checkpoint's path, a shared disk), or else a `LocalCluster` of one worker process on
  this machine (`memory_limit`: its limit).
- **Memory, before the run starts.** The run's estimate (`tightrope.engine.memory`) is
  checked against each worker's memory limit (a worker without one: the memory available
  on its machine); the run goes to the worker with the most room, and is refused with the
  estimate and the largest limit named when no worker has room for it.
- **A lost worker** (its process ended, killed for memory, or its connection broke), or a
  scheduler that stops answering, ends the run with `RunLostError`, whose message names
  the last checkpoint written (`checkpoint_every_days`) and how to go on from it
  (`--resume`, here or on Dask).
- **A stop** (Ctrl-C, SIGTERM on this side) is passed to the worker, which stops between
  two ticks, writes the checkpoint and ends with `stops.Stopped`, as a run here would.

The result is bit-identical to the same run in this process (tests/test_remote_run.py).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
import uuid
from pathlib import Path
from typing import Any

from tightrope.engine import stops
from tightrope.engine.checkpoints import read_header
from tightrope.engine.memory import GIB, available_bytes, estimate
from tightrope.errors import InputError, RunLostError
from tightrope.results.result import Result
from tightrope.scenario.schema import Scenario

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler to answer, and for its first worker."""

POLL_SECONDS = 0.5
"""How often the run's worker is looked for while the run goes on."""


def _available_here() -> int:
    """The memory available on this machine (run on a worker by `worker_room`)."""
    return int(available_bytes())


def worker_room(client: Any) -> dict[str, float]:
    """Each worker's memory limit in bytes (a worker without one: the memory available on
    its machine, asked of the worker)."""
    workers = client.scheduler_info()["workers"]
    room = {addr: float(info.get("memory_limit") or 0) for addr, info in workers.items()}
    unlimited = [addr for addr, limit in room.items() if not limit]
    if unlimited:
        room.update(
            {a: float(v) for a, v in client.run(_available_here, workers=unlimited).items()}
        )
    return room


def choose_worker(scenario: Scenario, room: dict[str, float], check: bool = True) -> str:
    """The worker with the most room; with `check`, InputError if the run's estimate does
    not fit it."""
    if not room:
        raise InputError("the Dask cluster has no worker: start one with `dask worker ADDR`")
    addr = max(room, key=lambda a: (room[a], a))
    est = estimate(scenario) if check else None
    if est is not None and room[addr] and est.total > room[addr]:
        raise InputError(
            f"this run needs about {est.describe()} of memory but the largest Dask worker "
            f"({addr}) has a limit of {room[addr] / GIB:.2f} GiB: give the workers more "
            "memory (dask worker --memory-limit), lower run.users, or add "
            "--no-memory-check to start it anyway"
        )
    return addr


def _in_worker(
    scenario: Scenario,
    checkpoint: str | None,
    every_days: float | None,
    resume: bool,
    stop_event: str,
    shards: int | None = None,
) -> Result | tuple[int, list[str], str]:
    """The run, in the worker: stepped by the driver as here; a stop asked for on the
    client's side (the Dask event `stop_event`) is acted on between two ticks, and then
    what `stops.Stopped` says is returned (signal, what was kept, how to go on)."""
    from distributed import Event

    from tightrope.engine import driver

    event = Event(stop_event)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= POLL_SECONDS:
            last[0] = now
            if event.is_set():
                stops.request(signal.SIGINT)

    try:
        return driver.run(
            scenario,
            progress=progress,
            checkpoint=checkpoint,
            checkpoint_every_days=every_days,
            resume=resume,
            shards=shards,
        )
    except stops.Stopped as stop:  # a BaseException, which Dask's client cannot carry back
        return (stop.signum, stop.kept, stop.resume)
    finally:
        stops.clear()


def _last_checkpoint(checkpoint: Path | None, scenario: Scenario) -> str:
    """How to go on after a lost worker: the last checkpoint written, or why there is none."""
    if checkpoint is None or not checkpoint.exists():
        return (
            "no checkpoint was written; give --checkpoint-every DAYS to keep one every so "
            "many simulated days"
        )
    with contextlib.suppress(InputError, OSError, KeyError, TypeError):
        head = read_header(checkpoint)
        per_day = 1440 / scenario.run.tick_minutes
        day = f" (day {int(head['tick']) / per_day:.4g})"
        return (
            f"the last checkpoint is {checkpoint}{day}: run the same command with --resume "
            "to go on from there"
        )
    return f"the last checkpoint is {checkpoint}: run the same command with --resume"


def run_on_dask(
    scenario: Scenario,
    *,
    scheduler: str | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every_days: float | None = None,
    resume: bool = False,
    memory_check: bool = True,
    memory_limit: str | int | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    shards: int | None = None,
) -> Result:
    """Run `scenario` on one Dask worker (see the module's text) and return its Result."""
    import dask
    from distributed import Client, Event, LocalCluster

    path = Path(checkpoint) if checkpoint is not None else None
    if (resume or checkpoint_every_days is not None) and path is None:
        raise InputError("a checkpoint is needed to resume or to write checkpoints")
    with contextlib.ExitStack() as held:
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
            except OSError as exc:
                raise InputError(
                    f"--scheduler {scheduler}: no Dask scheduler answered within "
                    f"{connect_timeout:g} s ({exc}); check the address and that "
                    "`dask scheduler` is running there"
                ) from None
        else:
            # the worker is never restarted in place: a lost worker ends the run
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                cluster = LocalCluster(
                    n_workers=1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    memory_limit=memory_limit if memory_limit is not None else "auto",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            held.callback(cluster.close)
            client = Client(cluster, set_as_default=False)
        held.callback(client.close)
        try:
            client.wait_for_workers(1, timeout=connect_timeout)
        except TimeoutError:
            raise InputError(
                f"the Dask cluster has no worker after {connect_timeout:g} s; start one with "
                f"`dask worker {scheduler}`"
            ) from None
        room = worker_room(client)
        addr = choose_worker(scenario, room, check=memory_check)
        key = f"tightrope-run-{uuid.uuid4().hex}"
        event = Event(f"{key}-stop", client=client)
        fut = client.submit(
            _in_worker,
            scenario,
            None if path is None else str(path),
            checkpoint_every_days,
            resume,
            f"{key}-stop",
            shards,
            key=key,
            workers=[addr],
            allow_other_workers=False,
            retries=0,
            pure=False,
        )
        with stops.deferred():
            while not fut.done():
                if stops.requested() is not None and not event.is_set():
                    event.set()  # the worker stops at its next tick and keeps a checkpoint
                try:
                    workers = client.scheduler_info()["workers"]
                except OSError as exc:
                    raise RunLostError(
                        f"the Dask scheduler stopped answering ({exc}); "
                        f"{_last_checkpoint(path, scenario)}"
                    ) from None
                if addr not in workers:
                    fut.cancel()
                    raise RunLostError(
                        f"the Dask worker {addr} that held the run was lost (its process "
                        f"ended or its connection broke); {_last_checkpoint(path, scenario)}"
                    )
                time.sleep(POLL_SECONDS)
        try:
            done = fut.result()
        except Exception as exc:
            from distributed import KilledWorker

            if isinstance(exc, KilledWorker):
                raise RunLostError(
                    f"the Dask worker {addr} that held the run was lost ({exc}); "
                    f"{_last_checkpoint(path, scenario)}"
                ) from None
            raise
        if isinstance(done, tuple):  # stopped between two ticks: as a run here would be
            stop = stops.Stopped(done[0])
            stop.kept, stop.resume = done[1], done[2]
            raise stop
        return done
