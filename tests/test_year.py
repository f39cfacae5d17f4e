"""Every preset run for a year at a small size stays in its regime (issue 19, item 2).

The year-long runs (about 15 s each on one core) run in two worker processes, once for
the module, so that the README's test command covers them in about a minute. A platform
the law obliges to moderate (in the jurisdiction, under a state that prohibits something
and audits effort) never lets its effort fall to zero; no platform loses its licence; and
the goal scores settle: none differs by more than 0.05 between day 274 and day 365.
docs/model.md 8.9 has the measured table.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from tightrope import load_scenario, preset_names, run

USERS = 1000
DAYS = 365


def _run_year(name: str) -> tuple[str, dict, object, object]:
    """One preset's year, in a worker: what the tests read (summary, time series and
    platform rows), not the whole Result."""
    from tightrope.engine.driver import one_thread_in_workers

    one_thread_in_workers()
    result = run(load_scenario(name, users=USERS, days=DAYS, seed=1))
    return name, result.summary, result.timeseries.to_pandas(), result.platforms.to_pandas()


@pytest.fixture(scope="module")
def years() -> dict[str, tuple]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = [pool.submit(_run_year, name) for name in preset_names()]
        # a hung worker fails the tests instead of hanging the test command (a year takes
        # about 15 s on one core; 10 minutes covers a cold kernel cache on a busy machine)
        return {name: rest for name, *rest in (f.result(timeout=600) for f in futures)}


@pytest.fixture(params=preset_names())
def year(request, years):
    summary, timeseries, platforms = years[request.param]
    sc = load_scenario(request.param, users=USERS, days=DAYS, seed=1)
    return sc, summary, timeseries, platforms


def _mandated(sc) -> list[str]:
    """Platforms the law obliges to moderate: regulated, adaptive, under an audit."""
    if sc.state.sanctions.required_effort <= 0.0 or not sc.state.sanctions.ladder:
        return []
    jurisdiction = sc.state.jurisdiction or [
        name for name, p in sc.platforms.items() if not p.foreign
    ]
    return [
        name
        for name in jurisdiction
        if sc.platforms[name].compliance.mode == "adaptive" and name not in sc.state.access.blocked
    ]


def test_mandated_moderation_never_falls_to_zero(year):
    sc, _, _, plat = year
    for name in _mandated(sc):
        effort = plat.loc[plat.platform == name, "effort"].to_numpy()
        assert effort.min() > 0.0, f"{sc.name}: {name} let its effort fall to 0"
        assert effort.min() >= sc.state.sanctions.required_effort - 1e-9


def test_no_licence_is_withdrawn_and_suspensions_are_rare(year):
    sc, summary, _, plat = year
    assert summary["sanctions_licence_withdrawal"] == 0
    per_day = 1440 // sc.run.tick_minutes
    suspended_days = plat.groupby("platform").suspended.sum() / per_day
    assert (suspended_days <= 14).all(), suspended_days.to_dict()


def test_the_goal_scores_settle(year):
    sc, _, ts, _ = year
    per_day = 1440 // sc.run.tick_minutes
    last = ts.iloc[-1]
    quarter = ts.iloc[-1 - 91 * per_day]
    for score in ("order_score", "development_score", "freedom_score"):
        moved = abs(float(last[score]) - float(quarter[score]))
        assert moved <= 0.05, f"{sc.name}: {score} moved {moved:.3f} over the last quarter"
        assert np.isfinite(last[score])
