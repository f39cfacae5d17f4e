"""Collective action with Granovetter's peer thresholds (docs/model.md 10): directions in
a run. The rules themselves are unit-tested in test_rules_people.py and test_rules_state.py.
"""

from __future__ import annotations

import functools

import tightrope

USERS = 3000
DAYS = 12


@functools.cache
def _run(overrides: tuple[str, ...], seed: int) -> tuple[float, float, float]:
    """(mean mobilised share, largest mobilised share, incidents) of laissez-faire."""
    sc = tightrope.load_scenario(
        "laissez-faire", list(overrides), users=USERS, days=DAYS, seed=seed
    )
    res = tightrope.run(sc)
    mob = res.timeseries.column("mobilised").to_numpy() / USERS
    return float(mob.mean()), float(mob.max()), float(res.summary["incidents"])


def test_direction_peer_thresholds_hold_mobilisation_back() -> None:
    """Calls seen alone (peer thresholds 0) mobilise a large share and make an incident
    on most days; with the presets' thresholds far fewer mobilise and incidents are rare."""
    alone = ("mobilisation.peer_threshold_mean=0", "mobilisation.peer_threshold_sd=0")
    for seed in (1, 2):
        m0, top0, inc0 = _run(alone, seed)
        m1, top1, inc1 = _run((), seed)
        print(
            f"seed {seed}: mobilised {m0:.4f} -> {m1:.4f}, top {top0:.4f} -> {top1:.4f}, "
            f"incidents {inc0} -> {inc1}"
        )
        assert m1 < m0 / 5
        assert inc1 < inc0


def test_without_instigators_no_one_mobilises() -> None:
    """Peer thresholds all above 0 (spread 0): no one goes first, so no one follows."""
    m, top, incidents = _run(("mobilisation.peer_threshold_sd=0",), 1)
    assert (m, top, incidents) == (0.0, 0.0, 0.0)
    assert _run((), 1)[1] > 0.0  # the same run with instigators does mobilise


def test_higher_peer_thresholds_fewer_mobilised() -> None:
    low = _run(("mobilisation.peer_threshold_mean=0.05", "mobilisation.peer_threshold_sd=0.1"), 1)
    high = _run(("mobilisation.peer_threshold_mean=0.3", "mobilisation.peer_threshold_sd=0.1"), 1)
    print(f"mean mobilised share {low[0]:.5f} (mean 0.05) -> {high[0]:.5f} (mean 0.3)")
    assert high[0] < low[0]
    assert high[2] <= low[2]  # and no more incidents
