"""Invariants that hold for any valid settings, checked with Hypothesis on short runs."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tightrope
from tightrope.core import counters as K

share = st.floats(0.0, 1.0, allow_nan=False)

COUNT_COLUMNS = (
    "intents", "posts", "self_censored", "displaced_private", "displaced_foreign", "blocked",
    "held", "removed", "wrongful_removed", "views", "harm_views", "rumor_views",
    "criticism_views", "reshares", "reports", "requests", "answered", "expired_requests",
    "mobilised", "incidents", "vpn_users", "active_users", "bad_actors_active",
    "regulator_checks", "regulator_violations", "fines", "compliance_cost",
)  # fmt: skip
SCORE_KEYS = ("order_score", "development_score", "freedom_score", "balance")


@st.composite
def overrides(draw):
    w = "platforms.weibo"
    return [
        f"population.lurker_share={draw(share)!r}",
        f"{w}.moderation.filter.false_positive={draw(share)!r}",
        f"{w}.moderation.filter.detection.criticism={draw(share)!r}",
        f"{w}.moderation.reviewers_per_100k_users={draw(st.floats(0.0, 50.0))!r}",
        f"{w}.compliance.effort={draw(share)!r}",
        f"state.rulebook.precision={draw(share)!r}",
        f"state.identity.real_name={draw(share)!r}",
        f"state.access.vpn_crackdown={draw(share)!r}",
        f"state.officials.staff_per_100k_users={draw(st.floats(0.0, 100.0))!r}",
        f"state.inspection.fine_per_violation={draw(st.floats(0.0, 1000.0))!r}",
        f"run.tick_minutes={draw(st.sampled_from([30, 60, 120]))}",
    ]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ov=overrides(),
    users=st.integers(500, 2000),
    days=st.sampled_from([1.0, 1.5, 2.0]),
    seed=st.integers(0, 2**31),
)
def test_run_invariants(ov, users, days, seed):
    sc = tightrope.load_scenario("china-weibo-2013", ov, users=users, days=days, seed=seed)
    sim = tightrope.Simulation(sc)
    n = sim.n_users
    assert n == users
    for t in range(sim.n_ticks):
        sim.step()
        if t % 7 == 0 or t == sim.n_ticks - 1:
            p = sim.people
            for name in ("fear", "trust", "grievance", "satisfaction"):
                arr = getattr(p, name)
                assert arr.shape[0] == n, name
                assert np.all((arr >= 0.0) & (arr <= 1.0)), (name, arr.min(), arr.max())
            assert sim.n_users == n
            assert np.all(sim.totals >= 0.0), dict(zip(K.TICK, sim.totals, strict=True))
            counts = sim.posts.counts
            assert np.all(counts >= 0)
            assert counts[1:5].sum() == counts[0]
    res = sim.result()
    states = res.meta["post_states"]
    assert set(states) == {"visible", "pending", "removed", "blocked"}
    assert all(v >= 0 for v in states.values())
    assert sum(states.values()) == res.meta["posts_created"]
    assert res.meta["posts_created"] == res.summary["posts"]
    assert res.meta["users"] == n
    ts = res.timeseries
    assert ts.num_rows == sim.n_ticks
    for col in COUNT_COLUMNS:
        assert pc.min(ts[col]).as_py() >= 0, col
    assert pc.max(ts["active_users"]).as_py() <= n
    summ = res.summary
    assert 0 <= summ["active_users"] <= n
    assert 0 <= summ["bad_actors_active"] <= n
    for key in SCORE_KEYS:
        assert 0.0 <= summ[key] <= 1.0, (key, summ[key])
    for col in ("order_score", "development_score", "freedom_score"):
        assert pc.min(ts[col]).as_py() >= 0.0, col
        assert pc.max(ts[col]).as_py() <= 1.0, col
    for key in ("mean_fear", "mean_trust", "mean_grievance", "vpn_share", "active_share"):
        assert 0.0 <= summ[key] <= 1.0, (key, summ[key])
