"""A run on a Dask worker (tightrope.engine.remote; `tightrope run --backend dask`): the
same result as here, refused before it starts when no worker has the memory, and a lost
worker or a stop ending it with the last checkpoint named, from which it resumes to the
bit."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import tightrope
from tightrope.cli import main
from tightrope.engine import stops
from tightrope.engine.remote import run_on_dask
from tightrope.errors import InputError, RunLostError


def same(a: tightrope.Result, b: tightrope.Result) -> bool:
    return json.dumps(a.summary, default=str) == json.dumps(b.summary, default=str) and (
        a.timeseries.equals(b.timeseries)
    )


def children() -> list[int]:
    """The processes this one started (the local cluster's worker)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == me:
                found.append(int(entry))
    return found


def when_written(path: Path, act, timeout: float = 120.0) -> threading.Thread:
    """A thread that calls `act()` once `path` exists."""

    def wait() -> None:
        end = time.monotonic() + timeout
        while not path.is_file() and time.monotonic() < end:
            time.sleep(0.05)
        act()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def kill_workers() -> None:
    for pid in children():
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                os.kill(pid, signal.SIGKILL)


def test_a_run_on_a_dask_worker_is_the_run_here() -> None:
    sc = tightrope.load_scenario("china-weibo-2013", users=1000, days=1.0, seed=3)
    assert same(run_on_dask(sc), tightrope.run(sc))


def test_a_run_too_large_for_every_worker_is_refused_before_it_starts() -> None:
    sc = tightrope.load_scenario("laissez-faire", users=3_000_000, days=1.0, seed=1)
    with pytest.raises(
        InputError,
        match=r"this run needs about .* of memory but the largest Dask worker "
        r"\(tcp://127\.0\.0\.1:\d+\) has a limit of 0\.39 GiB: give the workers more memory",
    ):
        run_on_dask(sc, memory_limit=400 * 2**20)


def test_a_lost_worker_ends_the_run_naming_its_checkpoint_which_resumes_it(
    tmp_path: Path,
) -> None:
    sc = tightrope.load_scenario("china-weibo-2013", users=5000, days=4.0, seed=5)
    ckpt = tmp_path / "run.ckpt"
    killer = when_written(ckpt / "manifest.json", kill_workers)  # a whole checkpoint
    with pytest.raises(RunLostError) as lost:
        run_on_dask(sc, checkpoint=ckpt, checkpoint_every_days=0.5)
    killer.join()
    assert "that held the run was lost" in str(lost.value)
    assert f"the last checkpoint is {ckpt} (day " in str(lost.value)
    assert "run the same command with --resume" in str(lost.value)
    resumed = tightrope.run(sc, checkpoint=ckpt, resume=True)
    assert same(resumed, tightrope.run(sc))


def test_a_stop_on_the_client_stops_the_worker_between_ticks(tmp_path: Path) -> None:
    # asked for before the run reaches the worker, so that the worker's first look at the
    # event finds it (asked for mid-run, a 5,000-user run can end within the half-second
    # polls of client and worker: CI once saw it finish first)
    sc = tightrope.load_scenario("china-weibo-2013", users=5000, days=8.0, seed=5)
    ckpt = tmp_path / "run.ckpt"
    stops.request(signal.SIGINT)
    try:
        with pytest.raises(stops.Stopped) as stopped:
            run_on_dask(sc, checkpoint=ckpt, checkpoint_every_days=0.5)
    finally:
        stops.clear()
    assert stopped.value.exit_code == 130
    assert "stopped by Ctrl-C (SIGINT): at tick " in str(stopped.value)
    assert f"the run's state is kept in the checkpoint {ckpt}" in str(stopped.value)
    assert same(tightrope.run(sc, checkpoint=ckpt, resume=True), tightrope.run(sc))


def test_the_command_line_refuses_a_scheduler_without_dask() -> None:
    args = ["run", "laissez-faire", "--users", "100", "--days", "0.1", "--backend", "here"]
    res = CliRunner().invoke(main, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    assert res.exit_code == 2
    assert "error: --scheduler needs --backend dask (or leave out --backend)" in res.output


def test_the_command_line_runs_on_dask_as_here(tmp_path: Path) -> None:
    args = ["run", "china-weibo-2013", "--users", "500", "--days", "0.5", "--json"]
    here = CliRunner().invoke(main, args)
    there = CliRunner().invoke(main, [*args, "--backend", "dask", "--quiet"])
    assert here.exit_code == there.exit_code == 0, there.output
    assert json.loads(there.stdout) == json.loads(here.stdout)


def test_a_worker_without_a_limit_offers_the_memory_of_its_machine() -> None:
    from distributed import Client, LocalCluster

    from tightrope.engine.memory import available_bytes
    from tightrope.engine.remote import worker_room

    with (
        LocalCluster(n_workers=1, processes=True, memory_limit=0, dashboard_address=None) as c,
        Client(c, set_as_default=False) as client,
    ):
        (room,) = worker_room(client).values()
    assert 0.5 * available_bytes() < room < 2.0 * available_bytes()


def test_an_unreachable_scheduler_is_refused() -> None:
    sc = tightrope.load_scenario("laissez-faire", users=100, days=0.1, seed=1)
    with pytest.raises(
        InputError, match=r"--scheduler tcp://127\.0\.0\.1:1: no Dask scheduler answered within 1 s"
    ):
        run_on_dask(sc, scheduler="tcp://127.0.0.1:1", connect_timeout=1.0)
