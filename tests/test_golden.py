"""A small seeded golden run: its summary and its network's statistics must match
tests/golden/summary.json.

The run is deterministic, so floats are compared with a relative tolerance of 1e-9. After
a change meant to alter results, regenerate with `python scripts/regenerate_golden.py`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import tightrope

GOLDEN = Path(__file__).parent / "golden" / "summary.json"
REGENERATE = "if the change is intended, run: python scripts/regenerate_golden.py"


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text("utf-8"))


@pytest.fixture(scope="module")
def result(golden) -> tightrope.Result:
    run = golden["run"]
    sc = tightrope.load_scenario(
        run["preset"], users=run["users"], days=run["days"], seed=run["seed"]
    )
    return tightrope.run(sc)


@pytest.fixture(scope="module")
def summary(result) -> dict:
    return result.summary


def test_golden_run_settings(golden):
    assert golden["run"] == {"preset": "china-weibo-2013", "users": 3000, "days": 2, "seed": 7}


def test_golden_summary_keys(golden, summary):
    assert sorted(summary) == sorted(golden["summary"]), REGENERATE


def test_golden_summary_values(golden, summary):
    bad = {}
    for key, want in golden["summary"].items():
        got = summary.get(key)
        if want is None:
            ok = got is not None and math.isnan(float(got))
        elif isinstance(want, str):
            ok = got == want
        else:
            ok = (
                got is not None
                and not isinstance(got, str)
                and math.isclose(float(got), want, rel_tol=1e-9, abs_tol=0.0)
            )
        if not ok:
            bad[key] = (want, got)
    assert not bad, f"{bad}\n{REGENERATE}"


def _same(want: object, got: object) -> bool:
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and sorted(want) == sorted(got)
            and all(_same(want[k], got[k]) for k in want)
        )
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(want) == len(got)
            and all(_same(w, g) for w, g in zip(want, got, strict=True))
        )
    if want is None or isinstance(want, str | bool):
        return want == got
    return got is not None and math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=0.0)


def test_golden_network(golden, result):
    """The follower graph is the same: every statistic of it (degrees, tails, reciprocity,
    clustering, communities) as stored."""
    got = result.meta["network"]
    bad = {k: (v, got.get(k)) for k, v in golden["network"].items() if not _same(v, got.get(k))}
    assert sorted(got) == sorted(golden["network"]), REGENERATE
    assert not bad, f"{bad}\n{REGENERATE}"
