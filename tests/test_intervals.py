"""Intervals that stay inside each figure's range (tightrope.results.intervals)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from tightrope.results import intervals
from tightrope.results.intervals import difference, interval, interval_rows, support, text

LEVELS = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99])
UNIT_VALUES = st.lists(
    st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0, allow_subnormal=False)),
    max_size=25,
)
NONNEG_VALUES = st.lists(
    st.one_of(st.just(0.0), st.floats(0.0, 1e12, allow_subnormal=False)), max_size=25
)
BOUNDS = {"unit": (0.0, 1.0), "nonneg": (0.0, math.inf)}


def _check(values: list[float], kind: str, level: float) -> None:
    """What the module guarantees (its docstring): n, NaN where n < 2, low <= mean <= high
    inside the support, no width where all values agree, the same bits every time."""
    mean, lo, hi, n = interval(values, kind, level)
    assert n == len(values)
    if n == 0:
        assert math.isnan(mean)
        assert math.isnan(lo)
        assert math.isnan(hi)
        return
    assert mean == pytest.approx(float(np.mean(values)), rel=1e-12, abs=1e-300)
    if n == 1:
        assert math.isnan(lo)
        assert math.isnan(hi)
        return
    floor, ceiling = BOUNDS[kind]
    assert floor <= lo <= mean <= hi <= ceiling, (values, lo, mean, hi)
    if min(values) == max(values):
        assert lo == mean == hi
    again = interval(list(values), kind, level)
    assert np.array_equal(np.array(again), np.array((mean, lo, hi, n)), equal_nan=True)


@settings(max_examples=300, deadline=None)
@given(UNIT_VALUES, LEVELS)
def test_unit_intervals_stay_in_0_1(values: list[float], level: float) -> None:
    _check(values, "unit", level)


@settings(max_examples=300, deadline=None)
@given(NONNEG_VALUES, LEVELS)
def test_nonneg_intervals_stay_at_or_above_0(values: list[float], level: float) -> None:
    _check(values, "nonneg", level)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.one_of(st.floats(0, 1), st.just(math.nan)), min_size=4, max_size=4),
             min_size=1, max_size=8),
    st.sampled_from(["unit", "nonneg", "real"]),
)  # fmt: skip
def test_rows_are_the_intervals_of_each_row(rows: list[list[float]], kind: str) -> None:
    mean, lo, hi, n = interval_rows(np.array(rows), kind)
    for i, row in enumerate(rows):
        expected = interval(row, kind)
        got = (mean[i], lo[i], hi[i], n[i])
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-15, equal_nan=True), (row, got)


def test_the_old_complaint_a_score_no_longer_gets_a_negative_bound() -> None:
    scores = [0.1, 0.2, 0.45]
    _, t_lo, _, _ = interval(scores, "real")
    assert t_lo < 0  # the plain t interval leaves [0, 1]
    mean, lo, hi, n = interval(scores, "unit")
    assert (n, mean) == (3, pytest.approx(0.25))
    assert 0 < lo < mean < hi < 1
    assert text(mean, lo, hi) == "0.25 [0.0297, 0.784]"
    # the logit-scale interval: expit(logit(m) ± t se / (m (1 - m)))
    se = np.std(scores, ddof=1) / math.sqrt(3)
    z = scipy.stats.t.ppf(0.975, 2) * se / (0.25 * 0.75)
    assert lo == pytest.approx(scipy.special.expit(scipy.special.logit(0.25) - z), rel=1e-12)
    assert hi == pytest.approx(scipy.special.expit(scipy.special.logit(0.25) + z), rel=1e-12)


def test_counts_are_clipped_at_0_and_real_figures_get_the_t_interval() -> None:
    mean, lo, hi, _ = interval([0, 0, 2], "nonneg")
    _, t_lo, t_hi, _ = interval([0, 0, 2], "real")
    assert t_lo < 0
    assert (lo, hi) == (0.0, t_hi)  # the lower bound raised to 0, the upper one kept
    assert text(mean, lo, hi) == "0.667 [0, 3.535]"
    assert interval([10, 12, 14], "nonneg") == interval([10, 12, 14], "real")  # far from 0
    x = [-3.0, 1.0, 2.5, 7.0]
    ref = scipy.stats.t.interval(0.9, 3, loc=np.mean(x), scale=scipy.stats.sem(x))
    _, lo, hi, _ = interval(x, "real", 0.9)
    assert (lo, hi) == (pytest.approx(ref[0], rel=1e-12), pytest.approx(ref[1], rel=1e-12))


def test_values_outside_the_support_get_the_t_interval() -> None:
    assert interval([1.5, 0.2, 0.9], "unit") == interval([1.5, 0.2, 0.9], "real")
    assert interval([-1.0, 2.0, 4.0], "nonneg") == interval([-1.0, 2.0, 4.0], "real")


def test_missing_values_are_left_out() -> None:
    mean, lo, hi, n = interval([None, math.nan, math.inf, "x", 0.5], "unit")
    assert (mean, n) == (0.5, 1)
    assert math.isnan(lo)  # one value: no interval
    assert math.isnan(hi)
    mean, lo, hi, n = interval([None, 0.2, math.nan, 0.4], "unit")
    assert (mean, n) == (pytest.approx(0.3), 2)
    assert 0 <= lo < 0.3 < hi <= 1


def test_differences_keep_the_t_interval_clipped_for_unit_figures() -> None:
    d = [0.9, 1.0, 0.95]
    mean, lo, hi, n = difference(d, "unit")
    _, t_lo, t_hi, _ = interval(d, "real")
    assert t_hi > 1
    assert (mean, n) == (pytest.approx(0.95), 3)
    assert (lo, hi) == (t_lo, 1.0)
    assert difference([-0.2, 0.1, 0.4], "unit") == interval([-0.2, 0.1, 0.4], "real")  # signs
    assert difference([3.0, 5.0, 4.0], "unit") == interval([3.0, 5.0, 4.0], "real")  # not unit
    assert difference([-30.0, 5.0], "nonneg") == interval([-30.0, 5.0], "real")


@pytest.mark.parametrize(
    ("metric", "kind"),
    [("order_score", "unit"), ("balance", "unit"), ("vpn_share", "unit"), ("mean_fear", "unit"),
     ("posts", "nonneg"), ("median_minutes_to_removal", "nonneg"), ("revenue", "nonneg"),
     ("harm_views_per_user", "nonneg"), ("profit", "real"), ("profit_margin", "real"),
     ("new_thing_share", "unit"), ("median_minutes_to_x", "nonneg"), ("unknown", "real")],
)  # fmt: skip
def test_support_registry(metric: str, kind: str) -> None:
    assert support(metric) == kind


def test_every_summary_key_of_a_run_is_registered_and_in_its_support() -> None:
    """A small real run: every numeric summary key has a registered support, and the run's
    values lie in it (so the intervals never bend a figure to a range it does not have)."""
    import tightrope

    sc = tightrope.load_scenario("china-weibo-2013", users=1000, days=2, seed=5)
    summary = tightrope.run(sc).summary
    numeric = {k: v for k, v in summary.items() if not isinstance(v, str | bool)}
    assert set(numeric) <= set(intervals.SUPPORTS), set(numeric) - set(intervals.SUPPORTS)
    for key, value in numeric.items():
        if value is None or not math.isfinite(value):
            continue
        floor, ceiling = BOUNDS.get(support(key), (-math.inf, math.inf))
        assert floor <= value <= ceiling, (key, value)


def test_text_is_one_format() -> None:
    assert text(0.25, 0.0297, 0.784) == "0.25 [0.0297, 0.784]"
    assert text(1234.4, 1000.2, 1500.0) == "1,234 [1,000, 1,500]"
    assert text(0.2, 0.1, 0.3, signed=True) == "+0.2 [0.1, 0.3]"
    assert text(-0.2, -0.3, -0.1, signed=True) == "-0.2 [-0.3, -0.1]"
    assert text(5.0, math.nan, math.nan) == "5"
    assert text(0.5, 0.5, 0.5) == "0.5"  # all values agree: no interval to show
    assert text(None, None, None) == "n/a"
    assert intervals.label(0.9).startswith("mean [90% interval, t: on the logit scale")
    assert intervals.difference_label() == "difference [95% paired t interval]"


def test_bad_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        interval([1.0, 2.0], "positive")
