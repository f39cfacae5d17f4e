"""Running experiments: design points x replicates, on one core, a process pool or Dask.

`run_experiment(file, out_dir)` validates the experiment (see experiment_files), then runs
every design point with every replicate seed (the same seeds at every point: common random
numbers). Each run is stored on its own by the worker that ran it, in
`DIR/runs/<run_id>/` (tightrope.results.storage.save_run) plus a small record
`DIR/runs/<run_id>/experiment-run.json` naming its point, replicate, seed, factor values
and outcomes. Workers never share a file; the driver only indexes their records and, at the
end, writes `DIR/results.parquet` and `DIR/failures.parquet` (notes/experiment_contract.md
and docs/experiments.md describe the folder).

Nothing is lost: runs stream to disk one by one with a bounded number in flight (twice the
workers), so memory does not grow with the number of runs; an experiment that was stopped
is finished by running the same command again (only the missing runs run); a run that
raises is recorded in `DIR/failures/<point>-<replicate>.json` and the others go on; a
worker process that dies is replaced and its run retried once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import shutil
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tightrope.errors import InputError
from tightrope.experiments.files import (
    EXPERIMENT_FORMAT,
    ExperimentSpec,
    load_experiment_file,
    overrides_for,
    parse_experiment,
    toml_value,
)
from tightrope.results.result import Result
from tightrope.results.storage import folder_lock, run_problem, write_text_atomic
from tightrope.scenario.schema import Scenario

BACKENDS: tuple[str, ...] = ("serial", "process", "dask")
"""Where runs are executed: in this process, in a local process pool, or on Dask."""

RUN_RECORD = "experiment-run.json"
"""The record an experiment adds to each run folder it stores."""

RECORD_FORMAT = "tightrope-experiment-run/1"
TEST_HOOK_ENV = "TIGHTROPE_TEST_FAIL_RUNS"
"""Test hook (not for normal use): "point:replicate[:mode],...", mode raise (default),
exit (the worker process dies) or exit-once (dies the first time only)."""

DEFAULT_CONNECT_TIMEOUT = 10.0
_DIED = "the worker process died while running this run"

Progress = Callable[[float, float], None]
"""progress(runs_settled, runs_total): runs already done, just finished or failed."""


# ---------------------------------------------------------------- what a worker does


@dataclass(frozen=True)
class RunTask:
    """One run: a design point with one replicate seed, and where to store it."""

    experiment_sha256: str
    out_dir: str
    point: int
    replicate: int
    seed: int
    scenario_name: str
    base: dict[str, Any]
    values: dict[str, Any]
    users: int
    days: float
    outcomes: tuple[str, ...]
    label: str | None = None  # the name the user sees for the point (default: scenario_name)
    keep_summary: bool = False  # put the whole summary in the record (comparisons)


def _finite_or_none(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _write_json_atomic(path: Path, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def _test_hook(task: RunTask) -> None:
    """Fail this run on purpose when TIGHTROPE_TEST_FAIL_RUNS names it (tests only)."""
    wanted = os.environ.get(TEST_HOOK_ENV, "")
    for item in wanted.split(","):
        parts = item.strip().split(":")
        if len(parts) < 2 or parts[:2] != [str(task.point), str(task.replicate)]:
            continue
        mode = parts[2] if len(parts) > 2 else "raise"
        if mode == "exit":
            os._exit(77)
        if mode == "exit-once":
            marks = Path(task.out_dir) / ".test-hook"
            marks.mkdir(exist_ok=True)
            try:
                os.close(os.open(marks / f"{task.point}-{task.replicate}", os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return
            os._exit(77)
        raise RuntimeError(
            f"injected failure ({TEST_HOOK_ENV}) at point {task.point}, replicate {task.replicate}"
        )


def run_task(task: RunTask, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run and store one run; return its record (small: no Result crosses processes).

    The run is `load_scenario(base, overrides for the point, users, days, seed)`, with the
    scenario named `<experiment>-p<point>`, stored with storage.save_run; the record is
    written atomically into the run folder after it. `progress(ticks_done, ticks)` is
    passed to the engine (in-process runs only).
    """
    from tightrope.engine.driver import one_thread_in_workers
    from tightrope.results.storage import jsonable, save_run
    from tightrope.scenario.files import load_scenario

    one_thread_in_workers()
    _test_hook(task)
    overrides = [f"name={toml_value(task.scenario_name)}", *overrides_for(task.values)]
    scenario = load_scenario(task.base, overrides, users=task.users, days=task.days, seed=task.seed)
    result, started, finished = timed_run(scenario, progress)
    folder = save_run(
        result, task.out_dir, replicate=task.replicate, started_at=started,
        finished_at=finished, label=task.label,
    )  # fmt: skip
    record = {
        "format": RECORD_FORMAT,
        "experiment_sha256": task.experiment_sha256,
        "point": task.point,
        "replicate": task.replicate,
        "seed": task.seed,
        "run_id": folder.name,
        "config_sha256": result.config_sha256,
        "values": dict(task.values),
        "outcomes": {k: _finite_or_none(result.summary.get(k)) for k in task.outcomes},
    }
    if task.keep_summary:
        record["summary"] = jsonable(result.summary)
    _write_json_atomic(folder / RUN_RECORD, record)
    return record


def timed_run(
    scenario: Scenario, progress: Callable[[int, int], None] | None = None
) -> tuple[Result, datetime, datetime]:
    """Run the engine on a scenario; return the result and its UTC start and end times."""
    from tightrope.engine import driver

    started = datetime.now(UTC)
    result = driver.run(scenario, progress=progress)
    return result, started, datetime.now(UTC)


# ---------------------------------------------------------------- backends

OnResult = Callable[[RunTask, dict[str, Any] | None, str | None, str], None]
"""on_result(task, record or None, error or None, traceback text)."""


def _describe(exc: BaseException) -> tuple[str, str]:
    """(one-line error, traceback text) of an exception raised by a run."""
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    detail = getattr(cause, "tb", None)  # concurrent.futures' _RemoteTraceback
    if detail is None:
        detail = "".join(traceback.format_exception(exc))
    return text, str(detail)


TaskProgress = Callable[[RunTask, int, int], None]
"""progress(task, ticks_done, ticks) of the run going on in this process."""


class _Serial:
    """Runs in this process, one at a time (a dying run ends the command)."""

    name = "serial"
    workers = 1

    def __init__(self, progress: TaskProgress | None = None) -> None:
        self.progress = progress

    def run(self, tasks: Iterable[RunTask], on_result: OnResult) -> None:
        for task in tasks:
            ticks = None
            if self.progress is not None:
                ticks = functools.partial(self.progress, task)
            try:
                record = run_task(task, ticks)
            except Exception as exc:
                on_result(task, None, *_describe(exc))
            else:
                on_result(task, record, None, "")

    def close(self) -> None:
        pass


def _start_worker(niceness: int) -> None:
    """A pool worker's set-up: stops are left to the driver (`stops.ignore_in_worker`), and
    with `niceness` > 0 the worker runs that much below its parent's priority (where the
    system refuses, at the parent's)."""
    from tightrope.engine.stops import ignore_in_worker

    ignore_in_worker()
    if niceness > 0:
        with contextlib.suppress(OSError):
            os.nice(niceness)


class _Processes:
    """A local process pool (spawned processes); a broken pool is replaced.

    When a worker dies, every run in flight fails with BrokenProcessPool; each of them is
    then retried once on its own in a fresh pool, so only the run that kills its worker
    again is recorded as failed.
    """

    name = "process"

    def __init__(self, workers: int, niceness: int = 0) -> None:
        self.workers = workers
        self.niceness = niceness  # > 0: workers run at a lower priority (the explorer)

    def _pool(self) -> Any:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_start_worker,
            initargs=(self.niceness,),
        )

    def run(self, tasks: Iterable[RunTask], on_result: OnResult) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        source: Iterator[RunTask] = iter(tasks)
        waiting: deque[RunTask] = deque()  # taken from source, not yet submitted
        suspects: deque[RunTask] = deque()  # in flight when a worker died
        inflight: dict[Any, RunTask] = {}
        limit = 2 * self.workers
        pool = self._pool()
        clean = False

        def settle(fut: Any, task: RunTask) -> bool:
            exc = fut.exception()
            if exc is None:
                on_result(task, fut.result(), None, "")
                return False
            if isinstance(exc, BrokenProcessPool):
                suspects.append(task)
                return True
            on_result(task, None, *_describe(exc))
            return False

        def renew(old: Any) -> Any:
            old.shutdown(wait=True, cancel_futures=True)
            return self._pool()

        try:
            while True:
                if suspects and not inflight:
                    task = suspects.popleft()
                    fut = pool.submit(run_task, task)
                    try:
                        record = fut.result()
                    except BrokenProcessPool:
                        pool = renew(pool)
                        on_result(task, None, f"{_DIED} (it was retried once in a fresh "
                                  "process and died again)", "")  # fmt: skip
                    except Exception as exc:
                        on_result(task, None, *_describe(exc))
                    else:
                        on_result(task, record, None, "")
                    continue
                broken = False
                while not suspects and len(inflight) < limit:
                    task = waiting.popleft() if waiting else next(source, None)
                    if task is None:
                        break
                    try:
                        inflight[pool.submit(run_task, task)] = task
                    except BrokenProcessPool:
                        waiting.appendleft(task)
                        broken = True
                        break
                if not inflight and not broken:
                    if suspects:
                        continue
                    break
                if inflight:
                    done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
                    for fut in done:
                        broken |= settle(fut, inflight.pop(fut))
                if broken:
                    for fut, task in list(inflight.items()):
                        settle(fut, task)  # waits; a broken pool fails them at once
                    inflight.clear()
                    pool = renew(pool)
            clean = True
        finally:
            if not clean:  # stopped or failed: end the runs in flight, leave no process
                _end_workers(pool)
            pool.shutdown(wait=clean, cancel_futures=True)

    def close(self) -> None:
        pass


def _end_workers(pool: Any) -> None:
    """Terminate a process pool's workers now (their runs in flight are abandoned: a run
    is stored only once whole, so nothing half-written is left) and wait for them."""
    processes = list(getattr(pool, "_processes", None) or {})
    procs = [pool._processes[pid] for pid in processes if pid in pool._processes]
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(5)


class _Dask:
    """A Dask cluster: a running scheduler, or a LocalCluster started for the experiment."""

    name = "dask"

    def __init__(self, workers: int, scheduler: str | None, connect_timeout: float) -> None:
        import dask
        from distributed import Client, LocalCluster

        self.cluster: Any = None
        self.scheduler = scheduler
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=connect_timeout, set_as_default=False)
            except Exception as exc:
                raise InputError(
                    f"cannot connect to the Dask scheduler at {scheduler} within "
                    f"{connect_timeout:g} s ({type(exc).__name__}: {exc}); check the address "
                    "and that `dask scheduler` is running there, or leave out --scheduler "
                    "to start a local cluster"
                ) from None
            try:
                self.client.wait_for_workers(1, timeout=connect_timeout)
            except Exception:
                self.client.close()
                raise InputError(
                    f"the Dask scheduler at {scheduler} has no workers (waited "
                    f"{connect_timeout:g} s); start some with `dask worker {scheduler}`"
                ) from None
        else:
            # a run whose worker dies is retried once, then reported (KilledWorker)
            with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self.cluster, set_as_default=False)
        self.workers = max(1, sum(self.client.nthreads().values())) if scheduler else workers

    def run(self, tasks: Iterable[RunTask], on_result: OnResult) -> None:
        from distributed import KilledWorker, as_completed

        source = iter(tasks)
        owner: dict[str, RunTask] = {}
        suspects: deque[RunTask] = deque()  # killed along with a worker: retried alone
        batch = uuid.uuid4().hex[:8]
        pending = as_completed(loop=self.client.loop)
        limit = 2 * max(1, sum(self.client.nthreads().values()) or self.workers)

        def submit(task: RunTask, tag: str = "") -> Any:
            key = f"tightrope-run-{batch}-{task.point}-{task.replicate}{tag}"
            return self.client.submit(run_task, task, key=key, retries=1, pure=False)

        def submit_next() -> bool:
            task = next(source, None)
            if task is None:
                return False
            fut = submit(task)
            owner[fut.key] = task
            pending.add(fut)
            return True

        def settle(fut: Any, task: RunTask, alone: bool) -> None:
            try:
                # blocks while a result lost with a dying worker is computed again
                record = fut.result()
            except KilledWorker:
                if not alone:
                    # the worker may have died of another run it held: try this one alone
                    suspects.append(task)
                    return
                on_result(task, None, f"{_DIED} (it was retried once and died again: "
                          "KilledWorker)", "")  # fmt: skip
            except BaseException as exc:  # the run raised (twice: retries=1), or was lost
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                on_result(task, None, *_describe(exc))
            else:
                on_result(task, record, None, "")

        for _ in range(limit):
            if not submit_next():
                break
        for fut in pending:
            task = owner.pop(fut.key, None)
            if task is None:  # already settled
                continue
            settle(fut, task, alone=False)
            fut.release()
            submit_next()
        while suspects:
            task = suspects.popleft()
            fut = submit(task, "-alone")
            settle(fut, task, alone=True)
            fut.release()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


def _backend(
    backend: str | None, workers: int | None, scheduler: str | None, connect_timeout: float
) -> tuple[str, int]:
    """Check the backend options; return (backend, workers)."""
    if backend is None:
        backend = "dask" if scheduler else "process"
    if backend not in BACKENDS:
        raise InputError(f"unknown backend '{backend}'; the backends are: {', '.join(BACKENDS)}")
    if scheduler and backend != "dask":
        raise InputError(f"--scheduler needs the dask backend, not '{backend}' "
                         "(leave out --backend or give --backend dask)")  # fmt: skip
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be a whole number, 1 or more, got {workers!r}")
    if not (isinstance(connect_timeout, int | float) and connect_timeout > 0
            and math.isfinite(connect_timeout)):  # fmt: skip
        raise InputError(f"the connect timeout must be a positive number of seconds, "
                         f"got {connect_timeout!r}")  # fmt: skip
    return backend, (1 if backend == "serial" else workers)


def _open_backend(
    backend: str, workers: int, scheduler: str | None, connect_timeout: float
) -> _Serial | _Processes | _Dask:
    if backend == "serial":
        return _Serial()
    if backend == "process":
        return _Processes(workers)
    return _Dask(workers, scheduler, connect_timeout)


# ---------------------------------------------------------------- the results folder


def _spec(source: str | Path | Mapping[str, Any] | ExperimentSpec) -> ExperimentSpec:
    if isinstance(source, ExperimentSpec):
        return source
    if isinstance(source, Mapping):
        return parse_experiment(source, folder=Path.cwd())
    return load_experiment_file(source)


def load_experiment(out_dir: str | Path) -> dict[str, Any]:
    """DIR/experiment.json, parsed. Raises InputError when DIR is not an experiment folder."""
    path = Path(out_dir)
    if not path.is_dir():
        raise InputError(f"experiment folder not found: {path}")
    file = path / "experiment.json"
    if not file.is_file():
        raise InputError(f"{path} is not an experiment folder (no experiment.json)")
    try:
        meta = json.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != EXPERIMENT_FORMAT:
        raise InputError(f"{file} is not a {EXPERIMENT_FORMAT} file")
    return meta


def _check_folder(out: Path, spec: ExperimentSpec) -> None:
    """Refuse a folder that holds another experiment's results, or plain stored runs."""
    from tightrope.results.storage import (
        another_owner,
        check_folder_kind,
        check_out_dir,
        read_owner,
    )

    check_out_dir(out)
    check_folder_kind(out, "experiment", "experiment")
    old = read_owner(out / "experiment.json")
    if old is None or old.get("experiment_sha256") == spec.sha256:
        return
    new = spec.experiment_json()
    keys = ("name", "base", "design", "factors", "outcomes", "replicates",
            "root_seed", "users", "days", "points")  # fmt: skip
    diff = [k for k in keys if old.get(k) != new.get(k)]
    why = f"they differ in {', '.join(diff)}" if diff else "the base scenario's settings differ"
    raise another_owner(out, "experiment", f"'{old.get('name')}'", old.get("experiment_sha256"),
                        f"'{spec.name}'", spec.sha256, why)  # fmt: skip


def prepare_experiment(
    source: str | Path | Mapping[str, Any] | ExperimentSpec, out_dir: str | Path
) -> ExperimentSpec:
    """Validate an experiment and its results folder; write nothing. Raises InputError."""
    spec = _spec(source)
    _check_folder(Path(out_dir), spec)
    return spec


def _records(out: Path, meta: Mapping[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    """The valid run records of this experiment in out/runs, by (point, replicate)."""
    sha = meta["experiment_sha256"]
    seeds = list(meta["seeds"])
    n_points = int(meta["points"])
    found: dict[tuple[int, int], dict[str, Any]] = {}
    runs = out / "runs"
    if not runs.is_dir():
        return found
    for folder in sorted(runs.iterdir()):
        if folder.name.startswith(".") or not (folder / "manifest.json").is_file():
            continue
        if run_problem(folder) is not None:
            continue  # damaged: as if missing, so that running again stores it afresh
        try:
            rec = json.loads((folder / RUN_RECORD).read_text("utf-8"))
            key = (int(rec["point"]), int(rec["replicate"]))
            ok = (
                rec.get("format") == RECORD_FORMAT
                and rec.get("experiment_sha256") == sha
                and rec.get("run_id") == folder.name
                and 0 <= key[0] < n_points
                and 0 <= key[1] < len(seeds)
                and int(rec["seed"]) == seeds[key[1]]
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if ok and key not in found:
            found[key] = rec
    return found


def _failure_files(out: Path, sha: str) -> dict[tuple[int, int], dict[str, Any]]:
    found: dict[tuple[int, int], dict[str, Any]] = {}
    folder = out / "failures"
    if not folder.is_dir():
        return found
    for file in sorted(folder.glob("[!.]*.json")):
        try:
            rec = json.loads(file.read_text("utf-8"))
            if rec.get("experiment_sha256") == sha:
                found[(int(rec["point"]), int(rec["replicate"]))] = rec
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


def _is_categorical(factor: Mapping[str, Any]) -> bool:
    values = factor.get("values")
    return values is not None and any(isinstance(v, bool | str) for v in values)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def results_table(meta: Mapping[str, Any], records: Iterable[Mapping[str, Any]]) -> pa.Table:
    """results.parquet: one row per run record, sorted by (point, replicate); columns
    point, replicate, seed, run_id, one per factor (float64, or string for text and
    true/false factors), one float64 per outcome (NaN where undefined)."""
    rows = sorted(records, key=lambda r: (int(r["point"]), int(r["replicate"])))
    cols: dict[str, pa.Array] = {
        "point": pa.array([int(r["point"]) for r in rows], pa.int64()),
        "replicate": pa.array([int(r["replicate"]) for r in rows], pa.int64()),
        "seed": pa.array([int(r["seed"]) for r in rows], pa.int64()),
        "run_id": pa.array([str(r["run_id"]) for r in rows], pa.string()),
    }
    for factor in meta["factors"]:
        path = factor["path"]
        vals = [r["values"].get(path) for r in rows]
        if _is_categorical(factor):
            cols[path] = pa.array([None if v is None else _text(v) for v in vals], pa.string())
        else:
            cols[path] = pa.array([math.nan if v is None else float(v) for v in vals],
                                  pa.float64())  # fmt: skip
    for name in meta["outcomes"]:
        vals = [r["outcomes"].get(name) for r in rows]
        cols[name] = pa.array([math.nan if v is None else float(v) for v in vals], pa.float64())
    return pa.table(cols)


FAILURE_COLUMNS: tuple[str, ...] = ("point", "replicate", "seed", "error")


def failures_table(failures: Iterable[Mapping[str, Any]]) -> pa.Table:
    """failures.parquet: point, replicate, seed, error; sorted by (point, replicate)."""
    rows = sorted(failures, key=lambda r: (int(r["point"]), int(r["replicate"])))
    return pa.table({
        "point": pa.array([int(r["point"]) for r in rows], pa.int64()),
        "replicate": pa.array([int(r["replicate"]) for r in rows], pa.int64()),
        "seed": pa.array([int(r["seed"]) for r in rows], pa.int64()),
        "error": pa.array([str(r["error"]) for r in rows], pa.string()),
    })  # fmt: skip


def load_results(out_dir: str | Path) -> pa.Table:
    """DIR/results.parquet as an Arrow table; rebuilt from the run records when it is
    missing (an experiment still running, or stopped before its end)."""
    path = Path(out_dir)
    meta = load_experiment(path)
    file = path / "results.parquet"
    if not file.is_file():
        return results_table(meta, _records(path, meta).values())
    table = pq.read_table(file)
    if "run_id" in table.column_names:  # every run it lists must still be whole
        damaged = []
        for rid in table.column("run_id").to_pylist():
            problem = run_problem(path / "runs" / str(rid))
            if problem is not None:
                gone = not (path / "runs" / str(rid)).is_dir()
                damaged.append(f"runs/{rid}: " + ("the folder is missing" if gone else problem))
        if damaged:
            raise InputError(
                f"experiment folder {path} lists {len(damaged)} run(s) in results.parquet "
                "that are missing or damaged, not read: run the experiment again (it runs "
                "them afresh)",
                damaged,
            )
    return table


def load_failures(out_dir: str | Path) -> pa.Table:
    """DIR/failures.parquet (empty when no run failed)."""
    path = Path(out_dir)
    meta = load_experiment(path)
    file = path / "failures.parquet"
    if file.is_file():
        return pq.read_table(file)
    done = _records(path, meta)
    fails = _failure_files(path, meta["experiment_sha256"])
    return failures_table(v for k, v in fails.items() if k not in done)


# ---------------------------------------------------------------- running


@dataclass
class FailedRun:
    """A run that raised or whose worker died; `values` are its design point's values."""

    point: int
    replicate: int
    seed: int
    error: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExperimentSummary:
    """What run_experiment did: runs in all, run now (done), found already done (skipped),
    failed now (failures), where the results are, and how it ran."""

    name: str
    out_dir: Path
    runs: int
    points: int
    replicates: int
    done: int
    skipped: int
    failures: list[FailedRun]
    results_path: Path
    failures_path: Path
    backend: str
    workers: int
    wall_seconds: float
    experiment_sha256: str

    @property
    def failed(self) -> int:
        """How many runs failed in this invocation."""
        return len(self.failures)

    @property
    def ok(self) -> bool:
        """True when every run of the experiment is done."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "name": self.name,
            "out": str(self.out_dir),
            "experiment_sha256": self.experiment_sha256,
            "runs": self.runs,
            "points": self.points,
            "replicates": self.replicates,
            "done": self.done,
            "skipped": self.skipped,
            "failed": self.failed,
            "results": str(self.results_path),
            "failures_file": str(self.failures_path),
            "failures": [
                {
                    "point": f.point,
                    "replicate": f.replicate,
                    "seed": f.seed,
                    "values": f.values,
                    "error": f.error,
                }
                for f in self.failures
            ],
            "backend": self.backend,
            "workers": self.workers,
            "wall_seconds": self.wall_seconds,
        }


def _tasks(spec: ExperimentSpec, out: Path, done: set[tuple[int, int]]) -> Iterator[RunTask]:
    outcomes = tuple(spec.outcomes)
    for p, values in enumerate(spec.points):
        for r, seed in enumerate(spec.seeds):
            if (p, r) in done:
                continue
            yield RunTask(
                experiment_sha256=spec.sha256,
                out_dir=str(out),
                point=p,
                replicate=r,
                seed=seed,
                scenario_name=f"{spec.name}-p{p}",
                base=spec.base_config,
                values=values,
                users=spec.users,
                days=spec.days,
                outcomes=outcomes,
            )


def run_experiment(
    source: str | Path | Mapping[str, Any] | ExperimentSpec,
    out_dir: str | Path,
    *,
    backend: str | None = "process",
    workers: int | None = None,
    scheduler: str | None = None,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    progress: Progress | None = None,
) -> ExperimentSummary:
    """Run every design point x replicate of an experiment that is not done yet in out_dir.

    source: an experiment TOML file, a mapping of its content (relative paths from the
    current folder) or an ExperimentSpec. backend: "serial", "process" (a local process
    pool of `workers`, default os.cpu_count()) or "dask" (`scheduler` address of a running
    Dask scheduler, else a LocalCluster of `workers` processes on 127.0.0.1); a scheduler
    implies dask when backend is None. Everything is checked (experiment, folder, backend
    connection within `connect_timeout` seconds) before anything is written; bad input
    raises InputError. Runs that fail are recorded and the others go on: see
    ExperimentSummary.failures; running again retries them.
    """
    begun = time.monotonic()
    backend, workers = _backend(backend, workers, scheduler, connect_timeout)
    spec = _spec(source)
    out = Path(out_dir)
    _check_folder(out, spec)
    engine = _open_backend(backend, workers, scheduler, connect_timeout)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with folder_lock(out, "experiment"):
            _check_folder(out, spec)  # again, now that no other run can write here
            meta = spec.experiment_json()
            if not (out / "experiment.json").exists():
                _write_json_atomic(out / "experiment.json", meta)
            return _execute(spec, meta, out, engine, progress, begun)
    finally:
        engine.close()


def _execute(
    spec: ExperimentSpec,
    meta: dict[str, Any],
    out: Path,
    engine: _Serial | _Processes | _Dask,
    progress: Progress | None,
    begun: float,
) -> ExperimentSummary:
    done = set(_records(out, meta))
    for key in list(_failure_files(out, spec.sha256)):
        if key in done:  # a retried run that succeeded; its failure note is stale
            with contextlib.suppress(OSError):
                (out / "failures" / f"{key[0]}-{key[1]}.json").unlink()
    skipped = len(done)
    total = spec.runs
    results_path = out / "results.parquet"
    failures_path = out / "failures.parquet"
    if skipped < total:
        # the old tables would be stale while runs are added; load_results rebuilds meanwhile
        for stale in (results_path, failures_path):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
    state = {"settled": skipped, "done": 0}
    failures: list[FailedRun] = []
    if progress is not None:
        progress(skipped, total)

    def on_result(task: RunTask, record: dict[str, Any] | None, error: str | None,
                  detail: str) -> None:  # fmt: skip
        note = out / "failures" / f"{task.point}-{task.replicate}.json"
        if record is not None:
            state["done"] += 1
            with contextlib.suppress(FileNotFoundError):
                note.unlink()
        else:
            note.parent.mkdir(exist_ok=True)
            _write_json_atomic(note, {
                "experiment_sha256": spec.sha256, "point": task.point,
                "replicate": task.replicate, "seed": task.seed, "values": task.values,
                "error": error, "traceback": detail,
                "failed_at": datetime.now(UTC).isoformat(),
            })  # fmt: skip
            failures.append(
                FailedRun(task.point, task.replicate, task.seed, str(error), dict(task.values))
            )
        state["settled"] += 1
        if progress is not None:
            progress(state["settled"], total)

    from tightrope.engine.stops import Stopped

    try:
        engine.run(_tasks(spec, out, done), on_result)
    except Stopped as stop:
        stop.kept.append(f"{len(_records(out, meta))} of {total} runs are stored in {out}")
        stop.resume = "run the same command again to go on: only the missing runs run"
        raise
    records = _records(out, meta)
    pending_failures = [v for k, v in _failure_files(out, spec.sha256).items() if k not in records]
    from tightrope.results.storage import write_table_atomic

    write_table_atomic(results_table(meta, records.values()), results_path)
    write_table_atomic(failures_table(pending_failures), failures_path)
    shutil.rmtree(out / ".test-hook", ignore_errors=True)
    failures.sort(key=lambda f: (f.point, f.replicate))
    return ExperimentSummary(
        name=spec.name,
        out_dir=out,
        runs=total,
        points=len(spec.points),
        replicates=spec.replicates,
        done=state["done"],
        skipped=skipped,
        failures=failures,
        results_path=results_path,
        failures_path=failures_path,
        backend=engine.name,
        workers=engine.workers,
        wall_seconds=time.monotonic() - begun,
        experiment_sha256=spec.sha256,
    )
