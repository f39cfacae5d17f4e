"""Comparing two sets of runs as distributions (tightrope.results.equivalence), the check
that issue 22's sharded runs must pass against unsharded ones: KS tests on binned counts
with the runs' clustering accounted for, series within replicate noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import tightrope
from tightrope.errors import InputError
from tightrope.experiments.seeds import child_seeds
from tightrope.results.equivalence import binned_ks, compare_runs, design_effect


def runs(preset: str, root: int, n: int = 4) -> list[tightrope.Result]:
    return [
        tightrope.run(tightrope.load_scenario(preset, users=2000, days=2.0, seed=s))
        for s in child_seeds(root, n)
    ]


@pytest.fixture(scope="module")
def weibo() -> tuple[list[tightrope.Result], list[tightrope.Result]]:
    return runs("china-weibo-2013", 1), runs("china-weibo-2013", 2)


def test_binned_ks_is_scipys_test_on_the_values_the_bins_stand_for() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 12, 400), rng.integers(1, 14, 300)
    ca, cb = np.bincount(a, minlength=14), np.bincount(b, minlength=14)
    d, p = binned_ks(ca, cb)
    want = stats.ks_2samp(a, b, method="asymp")
    assert d == pytest.approx(want.statistic, abs=1e-12)
    assert p == pytest.approx(want.pvalue, rel=1e-6)
    # a design effect shrinks each side's count: the same gap means less
    assert binned_ks(ca, cb, 4.0, 4.0)[1] > p
    assert np.isnan(binned_ks(np.zeros(3), np.ones(3))[1])
    with pytest.raises(ValueError, match="counts over 3 and 4 bins"):
        binned_ks(np.ones(3), np.ones(4))


def test_design_effect_is_one_for_alike_runs_and_the_run_size_for_separate_ones() -> None:
    alike = np.array([[10, 20, 30], [10, 20, 30], [10, 20, 30]])
    assert design_effect(alike) == 1.0
    apart = np.array([[50, 0, 0], [0, 50, 0], [0, 0, 50]])  # each run one value: 50 copies
    assert design_effect(apart) == pytest.approx(50.0)
    assert design_effect(np.array([[5, 5, 0]])) == 1.0  # one run: nothing to estimate


def test_runs_of_one_model_pass_and_runs_of_another_regime_fail(weibo) -> None:
    a, b = weibo
    same = compare_runs(a, b)
    assert same.passed, same.markdown()
    assert {c.name for c in same.checks} >= {"cascade_size", "minutes_to_removal", "posts"}
    assert compare_runs(a, a).passed  # a set against itself: every gap is 0
    assert all(c.p_value == 1.0 for c in compare_runs(a, a).checks)
    other = compare_runs(a, runs("china-comprehensive-2021", 2))
    assert not other.passed
    # 2021's officials answer within minutes what 2013's left for hours (D 0.41)
    assert "minutes_to_answer" in {c.name for c in other.failed}, other.markdown()


def test_bad_comparisons_are_refused(weibo) -> None:
    a, b = weibo
    with pytest.raises(InputError, match=r"at least 2 runs on each side \(got 1 and 4\)"):
        compare_runs(a[:1], b)
    with pytest.raises(InputError, match=r"unknown distribution\(s\) \['sizes'\]; choose from"):
        compare_runs(a, b, distributions=["sizes"])
    with pytest.raises(InputError, match=r"unknown time-series column\(s\) \['nope'\]"):
        compare_runs(a, b, series=["nope"])
    with pytest.raises(InputError, match=r"alpha must be between 0 and 1 \(got 1.5\)"):
        compare_runs(a, b, alpha=1.5)
