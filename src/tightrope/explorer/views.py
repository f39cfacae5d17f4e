"""Drawing the page's charts off the request path.

Building the report's Plotly figures takes about a second for a page of charts, longer while
the workers keep the cores busy: more than the page's refresh interval. Were they drawn in
the refresh callback, each answer would arrive after the next request had been sent, and the
browser, which keeps only the newest answer, would show none. So a thread of the server
draws each open page's charts whenever its runs sent something new (at most once per
`min_gap` seconds, and no more often than it takes to draw), and the refresh callback only
hands over the latest drawing: it answers at once, and the page stays responsive.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tightrope.explorer import charts
from tightrope.explorer.runs import Runs

IDLE_SECONDS = 30.0
"""A page that has not asked for its charts for this long is not drawn (a closed tab)."""


SLOW_SECONDS = 2.0
"""While runs go, the charts other than `charts.FAST` are redrawn at most this often (the
browser redraws every chart it is sent; fewer, smaller answers keep the page responsive)."""


@dataclass
class Drawing:
    """A session's charts as Plotly JSON, each with a stamp that changes when it is redrawn,
    and the session version they show."""

    version: int = -1
    figures: dict[str, Any] = field(default_factory=dict)
    stamps: dict[str, int] = field(default_factory=dict)
    asked: float = field(default_factory=time.monotonic)
    drawn: float = 0.0
    slow_drawn: float = 0.0
    seconds: float = 0.0  # how long the last drawing took


class Views:
    """The thread that draws every open page's charts."""

    def __init__(self, runs: Runs, min_gap: float = 0.25) -> None:
        self.runs = runs
        self.min_gap = min_gap
        self._lock = threading.Lock()
        self._drawings: dict[str, Drawing] = {}
        self._wake = threading.Event()
        self._closed = False
        listeners = getattr(runs, "listeners", None)
        if listeners is not None:  # new rows wake the drawing thread at once
            listeners.append(self._wake.set)
        self._thread = threading.Thread(target=self._loop, name="explorer-charts", daemon=True)
        self._thread.start()

    def latest(self, sid: str) -> Drawing:
        """The session's latest drawing (and note that its page is open)."""
        with self._lock:
            drawing = self._drawings.setdefault(sid, Drawing())
            drawing.asked = time.monotonic()
        self._wake.set()
        return drawing

    def draw(self, sid: str, everything: bool = False) -> Drawing:
        """Draw a session's charts now: the FAST ones, and the others when SLOW_SECONDS
        have passed, when no run is going, or with `everything`."""
        started = time.monotonic()
        runs, finished, labels, version = self.runs.snapshot(sid)
        going = any(r.status in ("queued", "running") for r in runs)
        with self._lock:
            drawing = self._drawings.setdefault(sid, Drawing())
            slow = everything or not going or started - drawing.slow_drawn >= SLOW_SECONDS
        plain = charts.live_figures(runs, finished, labels, None if slow else charts.FAST)
        with self._lock:
            for name, fig in plain.items():
                drawing.figures[name] = fig
                drawing.stamps[name] = drawing.stamps.get(name, 0) + 1
            drawing.version = version
            drawing.drawn = time.monotonic()
            if slow:
                drawing.slow_drawn = drawing.drawn
            drawing.seconds = drawing.drawn - started
        return drawing

    def _loop(self) -> None:
        while not self._closed:
            self._wake.wait(0.2)
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                due = [
                    sid
                    for sid, d in self._drawings.items()
                    if now - d.asked < IDLE_SECONDS
                    and now - d.drawn >= max(self.min_gap, d.seconds)
                    and self.runs.session(sid).version != d.version
                ]
            for sid in due:
                if self._closed:
                    return
                try:
                    self.draw(sid)
                except Exception as exc:  # a chart that cannot be drawn must not stop the rest
                    with self._lock:
                        d = self._drawings[sid]
                        d.figures["goals"] = charts.note("Charts", f"cannot draw: {exc}")
                        d.stamps["goals"] = d.stamps.get("goals", 0) + 1
                        d.version = self.runs.session(sid).version
                        d.drawn = time.monotonic()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(5)
