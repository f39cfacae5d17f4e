"""Stopping on Ctrl-C or SIGTERM at a safe point, saying what was kept.

A signal that arrives while a simulation steps in this process is only noted; the run loop
calls `check()` between ticks, where the state is whole, writes its checkpoint there if it
has one, and raises `Stopped`. A signal that arrives anywhere else (a driver waiting for
worker processes, the report being written) raises `Stopped` at once: those places write
files only through a temporary name and a rename, so nothing half-written is left.

The command line installs the handlers (`handling_stops`) around every command and turns
`Stopped` into a message naming what was kept and how to go on, with exit status 130 for
SIGINT and 143 for SIGTERM (128 + the signal's number, as shells report it). The library
installs nothing: `tightrope.run` called from Python keeps Python's own Ctrl-C behaviour.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)
"""The signals that stop a command at a safe point."""

_NAMES = {signal.SIGINT: "Ctrl-C (SIGINT)", signal.SIGTERM: "SIGTERM"}


class Stopped(BaseException):
    """The command was asked to stop by a signal.

    A BaseException (like KeyboardInterrupt), so that code which records a run's ordinary
    failures never records a stop as one. `kept` collects, as the exception travels up,
    sentences saying what was kept (a checkpoint, stored runs); `resume` says how to go on.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.kept: list[str] = []
        self.resume = ""
        super().__init__(self.describe())

    @property
    def exit_code(self) -> int:
        """128 + the signal's number: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + self.signum

    def describe(self) -> str:
        """One message: the signal, what was kept, how to go on."""
        name = _NAMES.get(signal.Signals(self.signum), f"signal {self.signum}")
        text = f"stopped by {name}"
        if self.kept:
            text += ": " + "; ".join(self.kept)
        if self.resume:
            text += ("; " if self.kept else ": ") + self.resume
        return text

    def __str__(self) -> str:
        return self.describe()


_state: dict[str, int | None] = {"signum": None, "defer": 0}


def requested() -> int | None:
    """The number of the signal that asked to stop, or None."""
    return _state["signum"]


def request(signum: int) -> None:
    """Note a stop as the signal `signum` would, for a run asked to stop from elsewhere (a
    Dask client: `tightrope.engine.remote`); acted on between two ticks."""
    if _state["signum"] is None:
        _state["signum"] = int(signum)


def clear() -> None:
    """Forget a stop asked for (after a run that acted on it, in a process that goes on)."""
    _state["signum"] = None


def check() -> None:
    """Raise Stopped if a stop was asked for (call at safe points)."""
    signum = _state["signum"]
    if signum is not None:
        raise Stopped(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """While inside, a signal is only noted, to be acted on at the next `check()`.

    Used around the ticks of a run: compiled kernels must never be interrupted."""
    _state["defer"] = int(_state["defer"] or 0) + 1
    try:
        yield
    finally:
        _state["defer"] = int(_state["defer"] or 1) - 1


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state["signum"] is None:
        _state["signum"] = signum
    if not _state["defer"]:
        raise Stopped(signum)


@contextlib.contextmanager
def handling_stops() -> Iterator[None]:
    """Install the stop handlers for SIGINT and SIGTERM (main thread only), then restore."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    _state["signum"] = None
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _state["signum"] = None


def ignore_in_worker() -> None:
    """In a worker process of a pool: leave stops to the driver, which ends the workers.

    Ctrl-C reaches every process of the terminal's group; a worker that took it itself
    would die in the middle of a compiled kernel and report that as a failure."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
