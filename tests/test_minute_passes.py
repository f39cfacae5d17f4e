"""benchmarks/minute_passes.py times a copy in Python of the minute loop: the copy must stay
the loop (same passes, same order, same arguments), or its timings describe another
program. A run stepped with the copy ends bit-identical to one stepped as usual."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import tightrope
from tightrope.engine.simulation import Simulation

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from minute_passes import PASSES, timed_phases


def test_the_timed_copy_of_the_minute_loop_is_the_minute_loop() -> None:
    sc = tightrope.load_scenario("china-comprehensive-2021", users=2000, days=0.5, seed=4)
    usual, timed = Simulation(sc), Simulation(sc)
    seconds = dict.fromkeys(PASSES, 0.0)
    phases = timed_phases(seconds)
    while usual.t < usual.n_ticks:
        usual.step()
        timed.step(phases)
    a, b = usual.result(), timed.result()
    assert json.dumps(a.summary, default=str) == json.dumps(b.summary, default=str)
    assert a.timeseries.equals(b.timeseries)
    assert a.timeseries.column("removed").to_numpy().sum() > 0  # the queues worked
    assert a.summary["reshares"] > 0
    assert all(s >= 0.0 for s in seconds.values())
