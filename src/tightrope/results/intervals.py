"""Intervals for means over replicates that stay inside the range a figure can take.

Every summary figure has a *support* (`support(name)`, from the registry `SUPPORTS`):

- ``"unit"``: in [0, 1]: the goal scores, balance, every share, the population means of fear,
  grievance and trust;
- ``"nonneg"``: 0 or more: counts, views per user, money that cannot be negative (revenue,
  compliance cost, fines), median times in minutes;
- ``"real"``: any sign: profit, profit margin, and any figure the registry does not know.

The interval of a mean over n replicates (n >= 2) is built from Student's t interval (m: the
mean, s: the standard deviation with ddof 1, se = s / sqrt(n), t: the quantile 0.5 + level / 2
of Student's t with n - 1 degrees of freedom):

=========  =====================================================  =======================
support    interval                                               METHODS name
=========  =====================================================  =======================
real       m ± t·se                                               t
nonneg     [max(0, m - t·se), m + t·se]                           t clipped at 0
unit       expit(logit(m) ± t·se / (m (1 - m)))                   t on the logit scale
=========  =====================================================  =======================

For figures in [0, 1] this is the t interval on the logit scale by the delta method around
the mean: the usual t interval near the middle of the range, bending as the mean nears a
bound (0.1, 0.2, 0.45 get 0.25 [0.0297, 0.784], not [-0.198, 0.698]). It is built around the
mean of the values itself (not the mean of their logits), so values at exactly 0 or 1 need no
special care. For figures of 0 or more the t interval only has its lower bound raised to 0
where it falls below: the log scale, its counterpart, multiplies the upper bound by exp(t·se
/ m), which with three replicates of a small count (0, 0, 2 gave 0.667 [0.009, 49]) claims
far more than the runs show. No bootstrap: with the 2 to 10 replicates of a typical
comparison a percentile bootstrap is far too narrow (with 2 values it can do no better than
[min, max]), and the t quantile is what accounts for so few replicates.

What is guaranteed, for any finite values:

- n counts the finite values (None, NaN and infinities are left out);
- n = 0: mean, low and high are NaN; n = 1: low and high are NaN;
- n >= 2: low <= mean <= high, and [low, high] lies inside the support (unit: [0, 1];
  nonneg: [0, inf)); all values equal: low = mean = high;
- the same values give the same bounds to the bit (no randomness).

Values that leave the registered support (a figure of another meaning under a known name, a
made-up outcome in a test) get the plain t interval, so nothing is bent to a range the data do
not have. Where rounding puts the mean of spread values exactly on a bound, the t interval is
clipped to the support.

Paired differences (scenario - baseline, replicate by replicate) can have either sign: they
keep the plain t interval (`difference`); for a unit figure it is clipped to [-1, 1], the
range a difference of two values in [0, 1] can take.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

KINDS: tuple[str, ...] = ("unit", "nonneg", "real")
"""The supports a figure can have: [0, 1], [0, inf), any real number."""

METHODS: dict[str, str] = {
    "unit": "t on the logit scale",
    "nonneg": "t clipped at 0",
    "real": "t",
}
"""The interval method of each support (see the module docstring)."""

METHOD_TEXT = "t: on the logit scale for figures in [0, 1], clipped at 0 for figures of 0 or more"
"""The method of every mean's interval, as it is named in captions and headers."""

_UNIT = (
    "order_score", "development_score", "freedom_score", "balance",
    "self_censored_share", "wrongful_removal_share", "requests_answered_share", "access_share",
    "active_share", "removed_share", "published_deleted_share", "published_deleted_any_share",
    "blocked_share", "held_share", "held_never_published_share", "sensitive_held_share",
    "cheerleading_share", "wrongful_share_of_removals",
    "deleted_within_8min_share", "deleted_5_to_30min_share", "deleted_within_24h_share",
    "vpn_share", "answered_within_target_share", "appeal_share", "reinstated_share",
    "mean_fear", "mean_grievance", "mean_trust", "spam_view_share", "spam_removed_share",
    "reshare_rate_exposure_1",
    "reshare_rate_exposure_2", "reshare_rate_exposure_3plus", "criticism_reach",
    "identifiable_share", "violative_view_share",
)  # fmt: skip
_NONNEG = (
    "harm_views_per_user", "rumor_views_per_user", "criticism_views_per_user",
    "views_per_user_day", "incidents", "calls_to_action", "intents", "posts", "requests",
    "views", "reshares", "reports", "referrals", "punished", "punished_legit", "escalated",
    "regulator_violations",
    "active_users", "bad_actors_active", "median_minutes_to_removal",
    "median_minutes_to_answer", "revenue", "compliance_cost", "fines",
    "sanctions_naming", "sanctions_revenue_fine", "sanctions_suspension",
    "sanctions_licence_withdrawal", "replaced_users",
)  # fmt: skip
_REAL = ("profit", "profit_margin")

SUPPORTS: dict[str, str] = {
    **dict.fromkeys(_UNIT, "unit"),
    **dict.fromkeys(_NONNEG, "nonneg"),
    **dict.fromkeys(_REAL, "real"),
}
"""The support of every numeric key of a run's summary (metrics.summary; docs/model.md 11.2)."""


def support(metric: str) -> str:
    """The support of a summary figure: "unit" ([0, 1]), "nonneg" ([0, inf)) or "real".

    Registered names (SUPPORTS) first; otherwise a name ending in ``_score`` or ``_share`` is
    "unit", one starting with ``median_minutes_`` or ending in ``_per_user`` or
    ``_per_user_day`` is "nonneg", and anything else is "real" (the plain t interval).
    """
    if metric in SUPPORTS:
        return SUPPORTS[metric]
    if metric.endswith(("_score", "_share")):
        return "unit"
    if metric.startswith("median_minutes_") or metric.endswith(("_per_user", "_per_user_day")):
        return "nonneg"
    return "real"


def label(level: float = 0.95) -> str:
    """How a mean and its interval are shown, for captions and headers."""
    return f"mean [{level:.0%} interval, {METHOD_TEXT}]"


def difference_label(level: float = 0.95) -> str:
    """How a paired difference and its interval are shown, for captions and headers."""
    return f"difference [{level:.0%} paired t interval]"


def _check(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def _t_quantile(n: np.ndarray, level: float) -> np.ndarray:
    from scipy.stats import t  # lazy: keeps the command line quick to start

    return np.asarray(t.ppf(0.5 + level / 2, np.where(n >= 2, n - 1, 1.0)), dtype=float)


def bounds(
    mean: Any, sd: Any, n: Any, kind: str = "real", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of the interval of `kind` (see the module docstring), vectorised over
    arrays of means, standard deviations (ddof 1) and counts; NaN where n < 2.

    It trusts that the values lie in the support: `interval` and `interval_rows` check that
    and pass "real" where they do not.
    """
    from scipy.special import expit, logit

    _check(kind)
    mean, sd, n = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (mean, sd, n)))
    ok = (n >= 2) & np.isfinite(mean) & np.isfinite(sd)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        half = _t_quantile(n, level) * sd / np.sqrt(np.where(ok, n, 1.0))
        lo, hi = mean - half, mean + half
        if kind == "unit":
            inside = (mean > 0) & (mean < 1)
            m = np.where(inside, mean, 0.5)
            z = half / (m * (1.0 - m))
            centre = logit(m)
            lo = np.where(inside, expit(centre - z), lo)
            hi = np.where(inside, expit(centre + z), hi)
    floor, ceiling = {"unit": (0.0, 1.0), "nonneg": (0.0, math.inf)}.get(
        kind, (-math.inf, math.inf)
    )
    lo = np.clip(np.minimum(lo, mean), floor, ceiling)  # rounding never puts the mean outside
    hi = np.clip(np.maximum(hi, mean), floor, ceiling)
    same = ok & (half == 0)
    lo, hi = np.where(same, mean, lo), np.where(same, mean, hi)
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def _inside(lowest: np.ndarray, highest: np.ndarray, kind: str) -> np.ndarray:
    if kind == "unit":
        return (lowest >= 0) & (highest <= 1)
    if kind == "nonneg":
        return lowest >= 0
    return np.ones_like(lowest, dtype=bool)


def _finite(values: Iterable[Any]) -> np.ndarray:
    out = []
    for v in values:
        try:
            x = float(v)
        except (TypeError, ValueError):
            continue
        if math.isfinite(x):
            out.append(x)
    return np.asarray(out, dtype=float)


def interval(
    values: Iterable[Any], kind: str = "real", level: float = 0.95
) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite values, with the interval of `kind` ("unit",
    "nonneg" or "real"; see the module docstring); low and high are NaN where n < 2."""
    _check(kind)
    x = _finite(values)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    lowest, highest = x.min(), x.max()
    if not _inside(np.asarray(lowest), np.asarray(highest), kind):
        kind = "real"
    sd = 0.0 if lowest == highest else float(x.std(ddof=1))  # no rounding noise for equal values
    lo, hi = bounds(mean, sd, n, kind, level)
    return mean, float(lo), float(hi), n


def interval_rows(
    values: Any, kind: str = "real", level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high, n) of every row of a 2-d array (NaN: no value), as `interval`
    gives them row by row (a row whose values leave the support gets the t interval)."""
    _check(kind)
    x = np.asarray(values, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"values must be a 2-d array, not {x.ndim}-d")
    finite = np.isfinite(x)
    n = finite.sum(axis=1)
    zeros = np.where(finite, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = zeros.sum(axis=1) / n
        dev = np.where(finite, x - mean[:, None], 0.0)
        sd = np.sqrt((dev**2).sum(axis=1) / (n - 1))
    mean = np.where(n > 0, mean, np.nan)
    sd = np.where(n > 1, sd, np.nan)
    lowest = np.where(finite, x, np.inf).min(axis=1, initial=np.inf)
    highest = np.where(finite, x, -np.inf).max(axis=1, initial=-np.inf)
    sd = np.where(lowest == highest, 0.0, sd)  # equal values: no rounding noise
    inside = _inside(lowest, highest, kind)
    lo, hi = bounds(mean, sd, n, kind, level)
    if not inside.all():
        t_lo, t_hi = bounds(mean, sd, n, "real", level)
        lo, hi = np.where(inside, lo, t_lo), np.where(inside, hi, t_hi)
    return mean, lo, hi, n


def difference(
    values: Iterable[Any], kind: str = "real", level: float = 0.95
) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of paired differences: the t interval, clipped to [-1, 1] for
    a unit figure (unless some difference is larger: then the values were not in [0, 1])."""
    _check(kind)
    x = _finite(values)
    mean, lo, hi, n = interval(x, "real", level)
    if kind == "unit" and n >= 2 and np.abs(x).max() <= 1:
        lo, hi = max(lo, -1.0), min(hi, 1.0)
    return mean, lo, hi, n


def number(value: Any) -> str:
    """A number as short text (the report's rule): thousands separators, 4 significant
    digits from 1 up, 3 below 1; None, NaN and infinities as "n/a"."""
    if isinstance(value, str):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(v):
        return "n/a"
    if v.is_integer() and abs(v) < 1e15:
        return f"{int(v):,}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}" if abs(v) >= 1 else f"{v:.3g}"


def text(mean: Any, low: Any, high: Any, signed: bool = False) -> str:
    """`mean [low, high]`, the one way the terminal and the report show an interval; the
    mean alone where there is no interval (fewer than 2 values) or it has no width (all the
    values agree); with `signed`, a positive mean gets a "+"."""
    shown = number(mean)
    if signed and shown != "n/a" and float(mean) > 0:
        shown = "+" + shown
    if number(low) == "n/a" or number(high) == "n/a" or float(low) == float(high):
        return shown
    return f"{shown} [{number(low)}, {number(high)}]"


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, low, high, n) of the finite values with the plain, symmetric t interval
    mean ± t(level, n-1) · sd / sqrt(n); the interval is NaN when n < 2.

    For a figure with a bounded range use `interval(values, support(name))`, as
    `comparison_rows` does: this one may leave the range."""
    return interval(values, "real", level)
