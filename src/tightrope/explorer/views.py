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

KINDS = ("fast", "slow")
"""Two drawing threads: one for the FAST charts (the goals, the differences), drawn as soon
as rows arrive, one for the rest, so that a slow drawing never holds the goals back."""


@dataclass
class Drawing:
    """A session's charts as Plotly JSON, each with a stamp that changes when it is redrawn;
    per kind of chart, the session version drawn and when."""

    figures: dict[str, Any] = field(default_factory=dict)
    stamps: dict[str, int] = field(default_factory=dict)
    asked: float = field(default_factory=time.monotonic)
    versions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, -1))
    drawn: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    finished: dict[str, int] = field(default_factory=dict)  # finished runs drawn, per kind


class Views:
    """The threads that draw every open page's charts."""

    def __init__(self, runs: Runs, min_gap: float = 0.25) -> None:
        self.runs = runs
        self.min_gap = min_gap
        self._lock = threading.Lock()
        self._drawings: dict[str, Drawing] = {}
        self._wake = {kind: threading.Event() for kind in KINDS}
        self._closed = False
        listeners = getattr(runs, "listeners", None)
        if listeners is not None:  # new rows wake the drawing threads at once
            listeners.append(self._poke)
        self._threads = [
            threading.Thread(
                target=self._loop, args=(kind,), name=f"explorer-{kind}-charts", daemon=True
            )
            for kind in KINDS
        ]
        for thread in self._threads:
            thread.start()

    def _poke(self) -> None:
        for event in self._wake.values():
            event.set()

    def latest(self, sid: str) -> Drawing:
        """The session's latest drawing (and note that its page is open)."""
        with self._lock:
            drawing = self._drawings.setdefault(sid, Drawing())
            drawing.asked = time.monotonic()
        self._poke()
        return drawing

    def draw(self, sid: str, kinds: tuple[str, ...] = KINDS) -> Drawing:
        """Draw a session's charts of these kinds now."""
        runs, finished, labels, version = self.runs.snapshot(sid)
        only = (
            None
            if set(kinds) == set(KINDS)
            else (
                charts.FAST
                if kinds == ("fast",)
                else [n for n in charts.ALL if n not in charts.FAST]
            )
        )
        plain = charts.live_figures(runs, finished, labels, only)
        with self._lock:
            drawing = self._drawings.setdefault(sid, Drawing())
            for name, fig in plain.items():
                drawing.figures[name] = fig
                drawing.stamps[name] = drawing.stamps.get(name, 0) + 1
            for kind in kinds:
                drawing.finished[kind] = len(finished)
                drawing.versions[kind] = version
                drawing.drawn[kind] = time.monotonic()
        return drawing

    def _due(self, kind: str, now: float) -> list[str]:
        gap = self.min_gap if kind == "fast" else SLOW_SECONDS
        out = []
        with self._lock:
            for sid, d in self._drawings.items():
                session = self.runs.session(sid)
                if now - d.asked > IDLE_SECONDS or session.version == d.versions[kind]:
                    continue
                batch = session.batch
                going = batch is not None and batch.going
                # a run that has finished shows on the trade-offs at once
                finished = len(session.finished) != d.finished.get(kind)
                if now - d.drawn[kind] >= gap or not going or finished:
                    out.append(sid)
        return out

    def _loop(self, kind: str) -> None:
        if kind == "fast":
            charts.warm()
        while not self._closed:
            self._wake[kind].wait(0.2)
            self._wake[kind].clear()
            for sid in self._due(kind, time.monotonic()):
                if self._closed:
                    return
                try:
                    self.draw(sid, (kind,))
                except Exception as exc:  # a chart that cannot be drawn must not stop the rest
                    with self._lock:
                        d = self._drawings[sid]
                        d.figures["goals"] = charts.note("Charts", f"cannot draw: {exc}")
                        d.stamps["goals"] = d.stamps.get("goals", 0) + 1
                        d.versions[kind] = self.runs.session(sid).version
                        d.drawn[kind] = time.monotonic()

    def close(self) -> None:
        self._closed = True
        self._poke()
        for thread in self._threads:
            thread.join(5)
