"""The explorer's runs: worker processes, the rows they stream, and each page's state.

Runs go to a process pool made as `tightrope experiment --backend process` makes its own
(spawned processes that leave Ctrl-C to the server), never to the web server's threads.
Workers send their rows through a queue of a manager process; a thread of the server
drains it into the state of the page (`Session`) the run belongs to. Each browser tab is
its own session: its runs, its stop, its results.

A run that raises is recorded with its message; a worker that dies fails the runs that
were going in the pool (named as such) and the pool is replaced, so the server goes on.
`close()` ends every worker and the manager: no process is left behind.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import math
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tightrope.explorer.stream import RunSpec, stream_run

DIED = "the worker process died while running this run"


WORKER_NICENESS = 10
"""How far below the server the run workers' priority is: the page and the browser on the
same machine answer a slider before the simulations take the cores (docs/explorer.md)."""


@dataclass
class RunState:
    """What the page knows of one run."""

    spec: RunSpec
    regime: int  # the regime's index on the page (0: the baseline)
    status: str = "queued"  # queued, running, done, stopped, failed
    ticks: int = 0
    tick_minutes: int = 60
    platforms: list[str] = field(default_factory=list)
    rows: list[list[float]] = field(default_factory=list)
    platform_rows: list[list[Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    histograms: list[dict[str, Any]] = field(default_factory=list)
    folder: str | None = None
    error: str | None = None
    started: float | None = None
    future: Any = None


@dataclass
class Batch:
    """The runs of one press of Start: every regime with the same replicate seeds."""

    number: int
    labels: list[str]
    seeds: list[int]
    runs: list[RunState]
    stop: Any
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def going(self) -> bool:
        return any(r.status in ("queued", "running") for r in self.runs)

    def progress(self) -> tuple[float, float | None]:
        """(share of the batch's ticks done, seconds left or None when unknown)."""
        known = [r for r in self.runs if r.ticks]
        if not known:
            return 0.0, None
        per_run = sum(r.ticks for r in known) / len(known)
        total = per_run * len(self.runs)
        done = sum(
            r.ticks if r.status in ("done", "failed", "stopped") else len(r.rows) for r in self.runs
        )
        share = min(1.0, done / total) if total else 0.0
        elapsed = (self.ended or time.monotonic()) - self.started
        left = elapsed * (1 - share) / share if share > 0 and self.going else None
        return share, left


@dataclass
class Session:
    """One browser tab: its current batch and every run it finished so far."""

    batch: Batch | None = None
    finished: list[RunState] = field(default_factory=list)
    version: int = 0  # changes whenever something the page shows changed


class Runs:
    """The server's runs: one worker pool and manager, and a session per browser tab."""

    def __init__(self, workers: int = 2) -> None:
        import multiprocessing
        from multiprocessing.managers import SyncManager

        from tightrope.engine.stops import ignore_in_worker

        self.workers = max(1, int(workers))
        self._ctx = multiprocessing.get_context("spawn")
        self._manager = SyncManager(ctx=self._ctx)
        self._manager.start(ignore_in_worker)
        self._channel = self._manager.Queue()
        self._lock = threading.RLock()
        self._sessions: dict[str, Session] = {}
        self._owner: dict[str, tuple[str, RunState]] = {}  # run key -> session, run
        self._numbers = itertools.count(1)
        self._closed = False
        self.listeners: list[Callable[[], None]] = []  # told when a session changed
        self._pool = self._new_pool()
        self._drainer = threading.Thread(target=self._drain, name="explorer-rows", daemon=True)
        self._drainer.start()

    # ------------------------------------------------------------------ pool

    def _new_pool(self) -> Any:
        from tightrope.experiments.runner import _Processes

        return _Processes(self.workers, niceness=WORKER_NICENESS)._pool()

    def warm(self) -> None:
        """Start the workers and load the kernels in them now (a tiny run each), so that a
        first press of Start does not wait for them."""
        spec = RunSpec(
            key="warm", label="warm", source="laissez-faire", users=200, days=1 / 24, seed=0
        )
        with self._lock:
            for _ in range(self.workers):
                self._pool.submit(stream_run, spec, _Discard())

    def worker_pids(self) -> list[int]:
        """The process ids of the pool's workers now (not the manager's)."""
        with self._lock:
            return list(getattr(self._pool, "_processes", None) or {})

    def session(self, sid: str) -> Session:
        with self._lock:
            return self._sessions.setdefault(sid, Session())

    def snapshot(self, sid: str) -> tuple[list[RunState], list[RunState], list[str], int]:
        """Copies of a session's batch runs and finished runs (safe to draw while the rows
        thread goes on), the batch's regime labels and the session's version."""
        with self._lock:
            session = self.session(sid)
            batch = session.batch
            runs = [_copy(r) for r in batch.runs] if batch else []
            finished = [_copy(r) for r in session.finished]
            return runs, finished, list(batch.labels) if batch else [], session.version

    def status(self, sid: str) -> tuple[dict[str, Any], float]:
        """A session's progress line ("text"), the folders its runs were stored in
        ("stored"), the errors of its failed runs ("errors"), and the finished share."""
        with self._lock:
            batch = self.session(sid).batch
            if batch is None:
                return {"text": "No run yet.", "stored": [], "errors": []}, 0.0
            share, left = batch.progress()
            counts: dict[str, int] = {}
            for r in batch.runs:
                counts[r.status] = counts.get(r.status, 0) + 1
            text = f"{len(batch.runs)} run(s): " + ", ".join(f"{n} {s}" for s, n in counts.items())
            text += f"; {share:.0%} done"
            if left is not None and math.isfinite(left):
                text += f", about {left:.0f} s left"
            errors = [f"{r.spec.label} seed {r.spec.seed}: {r.error}" for r in batch.runs
                      if r.error]  # fmt: skip
            stored = sorted({str(Path(r.folder).parent.parent) for r in batch.runs if r.folder})
            return {"text": text, "stored": stored, "errors": errors}, share

    # ------------------------------------------------------------------ start and stop

    def start(
        self,
        sid: str,
        labels: Sequence[str],
        specs: Sequence[tuple[int, RunSpec]],
        seeds: Sequence[int],
    ) -> Batch:
        """Start a batch of runs for a session (stopping its batch in flight, if any)."""
        self.stop(sid)
        with self._lock:
            if self._closed:
                raise RuntimeError("the explorer is shutting down")
            number = next(self._numbers)
            stop = self._manager.Event()
            states = [RunState(spec, regime) for regime, spec in specs]
            batch = Batch(number, list(labels), list(seeds), states, stop)
            session = self.session(sid)
            session.batch = batch
            session.version += 1
            for state in states:
                self._owner[state.spec.key] = (sid, state)
                self._submit(sid, state)
        return batch

    def _submit(self, sid: str, state: RunState) -> None:
        batch = self._sessions[sid].batch
        assert batch is not None
        state.future = self._pool.submit(stream_run, state.spec, self._channel, batch.stop)
        state.future.add_done_callback(lambda fut, s=sid, st=state: self._settled(s, st, fut))

    def stop(self, sid: str) -> None:
        """Stop a session's batch: queued runs are cancelled, running ones stop at their
        next tick (nothing of a stopped run is stored)."""
        with self._lock:
            session = self._sessions.get(sid)
            if session is None or session.batch is None or not session.batch.going:
                return
            batch = session.batch
            batch.stop.set()
            for state in batch.runs:
                if state.status == "queued" and state.future is not None:
                    if state.future.cancel():
                        state.status = "stopped"
            self._touch(sid)

    # ------------------------------------------------------------------ what comes back

    def _touch(self, sid: str) -> None:
        session = self._sessions[sid]
        session.version += 1
        batch = session.batch
        if batch is not None and not batch.going and batch.ended is None:
            batch.ended = time.monotonic()

    def _settled(self, sid: str, state: RunState, fut: Any) -> None:
        """A run's future ended: record a failure (the messages say the rest)."""
        from concurrent.futures import CancelledError
        from concurrent.futures.process import BrokenProcessPool

        try:
            exc = fut.exception()
        except CancelledError:
            return
        if exc is None:
            return
        with self._lock:
            if isinstance(exc, BrokenProcessPool):
                if state.status == "queued" and not self._closed:
                    self._renew()
                    self._submit(sid, state)  # it never started: run it in the new pool
                    return
                state.error = DIED
                self._renew()
            else:
                state.error = f"{type(exc).__name__}: {exc}"
            state.status = "failed"
            self._touch(sid)

    def _renew(self) -> None:
        """Replace a broken pool (once: the other runs of the broken pool find the new one)."""
        if getattr(self._pool, "_broken", False) and not self._closed:
            old = self._pool
            self._pool = self._new_pool()
            _end_workers(old)

    def _drain(self) -> None:
        while not self._closed:
            try:
                message = self._channel.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError, BrokenPipeError):
                return  # the manager is gone: the server is closing
            self.receive(message)

    def receive(self, message: dict[str, Any]) -> None:
        """Apply one message of the streaming protocol (tightrope.explorer.stream)."""
        with self._lock:
            owner = self._owner.get(message.get("key", ""))
            if owner is None:
                return
            sid, state = owner
            kind = message["kind"]
            if kind == "start":
                state.status = "running"
                state.started = time.monotonic()
                state.ticks = int(message["ticks"])
                state.tick_minutes = int(message["tick_minutes"])
                state.platforms = list(message["platforms"])
            elif kind == "rows":
                if message["first"] != len(state.rows):
                    state.error = (
                        f"rows out of order: expected row {len(state.rows)}, got {message['first']}"
                    )
                    state.status = "failed"
                else:
                    state.rows.extend(message["rows"])
                    state.platform_rows.extend(message["platform_rows"])
            elif kind == "done":
                state.status = "done"
                state.summary = message["summary"]
                state.histograms = message["histograms"]
                state.folder = message["folder"]
                self._sessions[sid].finished.append(state)
            elif kind == "stopped":
                state.status = "stopped"
            self._touch(sid)
        for listener in self.listeners:
            listener()

    # ------------------------------------------------------------------ the end

    def close(self) -> None:
        """End every worker and the manager, now (runs going are abandoned: nothing of them
        is stored)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pool = self._pool
        _end_workers(pool)
        with contextlib.suppress(Exception):
            self._manager.shutdown()
        self._drainer.join(2)

    def __enter__(self) -> Runs:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _end_workers(pool: Any) -> None:
    """End a pool's workers now and wait for them. They ignore SIGINT and SIGTERM (they
    leave stops to the server), so they are killed: a run going is abandoned, and since a
    run is stored only once whole (atomically), nothing half-written is left."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.kill()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.join(5)
    pool.shutdown(wait=False, cancel_futures=True)


def _copy(state: RunState) -> RunState:
    snap = copy.copy(state)
    snap.rows = list(state.rows)
    snap.platform_rows = list(state.platform_rows)
    snap.future = None
    return snap


class _Discard:
    """A channel that keeps nothing (the warm-up runs)."""

    def put(self, item: Any) -> None:
        pass
