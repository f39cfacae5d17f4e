"""Whether two sets of runs tell the same story: the distributions and series of runs made
in two ways (1 shard against 8, one engine against another, before and after a change that
should not change the model), compared as distributions rather than to the bit.

Two sets of replicates, A and B (`Result`s of one scenario, each set with its own seeds),
are compared on:

- **distributions**, by two-sample Kolmogorov-Smirnov tests on the binned counts the runs
  keep, pooled over each set's replicates: cascade sizes (`Result.cascades`, all
  categories), minutes to removal and minutes to answer (`Result.histograms`). The
  statistic is the largest gap between the two cumulative shares at a bin's upper edge;
  its p-value is the two-sided one of `scipy.stats.ks_2samp(..., method="asymp")` on the
  values the bins stand for (`scipy.stats.kstwo` with n = n_a n_b / (n_a + n_b), rounded),
  which with binned (tied) values is conservative.
  The values of one run are not independent draws (its cascades share its network and
  its state), so each side's count n is taken as an effective one, n / deff, with Kish's
  design effect deff = 1 + (m - 1) rho of values clustered in runs (m: the values per run
  on average, rho: the intraclass correlation of the bins' ranks, estimated by one-way
  analysis of variance over the runs, at least 0; `design_effect`). Without it, two sets
  of 4 runs of china-weibo-2013 with other seeds (other networks) were told apart on
  their cascade sizes at p = 0.0005, D = 0.026 over 25,000 cascades.
- **series**, within replicate noise: for each column of the time series, each run's mean
  over its ticks, the two sets' means compared by Welch's t-test (`scipy.stats.ttest_ind`
  with unequal variances). Two sets whose values are all equal (to a billionth of the
  largest) get p = 1; constant but different sets p = 0.

A set of checks passes when every p-value is at least `alpha` divided by the number of
checks (Bonferroni's correction: the chance that two sets of runs of one model fail is at
most `alpha`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from tightrope.errors import InputError
from tightrope.results.result import Result

SERIES: tuple[str, ...] = (
    "posts", "removed", "views", "harm_views", "reshares", "reports", "requests", "answered",
    "mobilised", "vpn_users", "active_users", "mean_fear", "mean_grievance", "mean_trust",
    "revenue", "profit",
)  # fmt: skip
"""Columns of the time series compared by default (`Result.timeseries`)."""

DISTRIBUTIONS: tuple[str, ...] = ("cascade_size", "minutes_to_removal", "minutes_to_answer")
"""The binned distributions compared: cascade sizes, minutes to removal and to answer."""


@dataclass(frozen=True)
class Check:
    """One comparison: its name, its kind ("distribution" or "series"), the statistic (KS's
    D or Welch's t), its p-value, and what each side counted (values pooled, or runs)."""

    name: str
    kind: str
    statistic: float
    p_value: float
    n_a: int
    n_b: int


@dataclass
class Equivalence:
    """The checks of two sets of runs, and whether they pass at `alpha` (Bonferroni)."""

    checks: list[Check] = field(default_factory=list)
    alpha: float = 0.01

    @property
    def threshold(self) -> float:
        """The p-value each check must reach: alpha / the number of checks."""
        return self.alpha / max(len(self.checks), 1)

    @property
    def failed(self) -> list[Check]:
        """The checks whose p-value is below the threshold."""
        return [c for c in self.checks if c.p_value < self.threshold]

    @property
    def passed(self) -> bool:
        """Whether every check reached the threshold (the sets are not told apart)."""
        return not self.failed

    def markdown(self) -> str:
        """The checks as a Markdown table."""
        lines = [
            f"{len(self.checks)} checks at alpha {self.alpha:g} (each p-value at least "
            f"{self.threshold:.2g}): {'passed' if self.passed else 'FAILED'}",
            "",
            "| check | kind | statistic | p-value | n A | n B |",
            "|---|---|---|---|---|---|",
        ]
        for c in self.checks:
            lines.append(
                f"| {c.name} | {c.kind} | {c.statistic:.4g} | {c.p_value:.3g} | {c.n_a:,} | "
                f"{c.n_b:,} |"
            )
        return "\n".join(lines) + "\n"


def design_effect(counts: np.ndarray) -> float:
    """Kish's design effect of values clustered in runs: `counts[i, k]` values of run i in
    bin k (the bins ordered, each value taken as its bin's rank). 1 + (m - 1) rho, m the
    values per run on average, rho the intraclass correlation by one-way analysis of
    variance (clipped at 0); 1 with fewer than 2 runs holding values."""
    c = np.asarray(counts, dtype=np.float64)
    c = c[c.sum(axis=1) > 0]
    k = c.shape[0]
    if k < 2:
        return 1.0
    rank = np.arange(c.shape[1], dtype=np.float64)
    n_i = c.sum(axis=1)
    n = n_i.sum()
    if n <= k:
        return 1.0
    mean_i = (c * rank).sum(axis=1) / n_i
    grand = (c * rank).sum() / n
    within = (c * (rank[None, :] - mean_i[:, None]) ** 2).sum()
    msb = (n_i * (mean_i - grand) ** 2).sum() / (k - 1)
    msw = within / (n - k)
    n0 = (n - (n_i**2).sum() / n) / (k - 1)
    denom = msb + (n0 - 1.0) * msw
    rho = (msb - msw) / denom if denom > 0 else 0.0
    return 1.0 + (n / k - 1.0) * min(max(rho, 0.0), 1.0)


def binned_ks(
    counts_a: np.ndarray, counts_b: np.ndarray, deff_a: float = 1.0, deff_b: float = 1.0
) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test on counts over the same ordered bins: (D, p), D
    the largest gap between the cumulative shares, p the asymptotic two-sided p-value with
    each side's count divided by its design effect (1: independent values). (nan, nan)
    when a side counted nothing."""
    a = np.asarray(counts_a, dtype=np.float64)
    b = np.asarray(counts_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"counts over {a.size} and {b.size} bins: the bins must be the same")
    if a.sum() <= 0 or b.sum() <= 0:
        return math.nan, math.nan
    na, nb = a.sum() / deff_a, b.sum() / deff_b
    d = float(np.abs(np.cumsum(a) / a.sum() - np.cumsum(b) / b.sum()).max())
    en = max(round(na * nb / (na + nb)), 1)
    return d, float(stats.kstwo.sf(d, en))


def run_bins(run: Result, name: str) -> dict[int, int]:
    """The counts of distribution `name` (one of DISTRIBUTIONS) in `run`, per bin (keyed by
    the bin's lower edge)."""
    if name == "cascade_size":
        t = run.cascades.to_pydict()
        lo, count = t["lo_size"], t["posts"]
    else:
        t = run.histograms.to_pydict()
        keep = [i for i, m in enumerate(t["measure"]) if m == name]
        lo = [t["lo_minutes"][i] for i in keep]
        count = [t["count"][i] for i in keep]
    out: dict[int, int] = {}
    for x, c in zip(lo, count, strict=True):
        out[int(x)] = out.get(int(x), 0) + int(c)
    return out


def distribution_check(a: Sequence[Result], b: Sequence[Result], name: str) -> Check:
    """The KS check of distribution `name`, pooled over each set, each side's count taken
    as an effective one (`design_effect`)."""
    ra = [run_bins(r, name) for r in a]
    rb = [run_bins(r, name) for r in b]
    edges = sorted(set().union(*ra, *rb))
    ma = np.array([[r.get(e, 0) for e in edges] for r in ra]).reshape(len(ra), len(edges))
    mb = np.array([[r.get(e, 0) for e in edges] for r in rb]).reshape(len(rb), len(edges))
    ca, cb = ma.sum(axis=0), mb.sum(axis=0)
    d, p = binned_ks(ca, cb, design_effect(ma), design_effect(mb))
    if math.isnan(p):  # nothing to compare on one side: equal only if both are empty
        d, p = (0.0, 1.0) if ca.sum() == cb.sum() == 0 else (1.0, 0.0)
    return Check(name, "distribution", d, p, int(ca.sum()), int(cb.sum()))


def series_check(a: Sequence[Result], b: Sequence[Result], column: str) -> Check:
    """Welch's t-test of the runs' means over their ticks of time-series `column`."""
    xa = np.array([float(np.mean(r.timeseries.column(column).to_numpy())) for r in a])
    xb = np.array([float(np.mean(r.timeseries.column(column).to_numpy())) for r in b])
    tol = 1e-9 * max(float(np.abs(xa).max()), float(np.abs(xb).max()))
    if np.ptp(xa) <= tol and np.ptp(xb) <= tol:  # constant (to rounding): no noise to judge
        same = abs(float(xa.mean() - xb.mean())) <= tol
        stat, p = (0.0, 1.0) if same else (math.inf, 0.0)
        return Check(column, "series", stat, p, xa.size, xb.size)
    with warnings.catch_warnings():  # one constant side: Welch's test rests on the other's
        warnings.filterwarnings("ignore", "Precision loss", RuntimeWarning)
        t, p = stats.ttest_ind(xa, xb, equal_var=False)
    return Check(column, "series", float(t), float(p), xa.size, xb.size)


def compare_runs(
    a: Sequence[Result],
    b: Sequence[Result],
    *,
    alpha: float = 0.01,
    series: Sequence[str] = SERIES,
    distributions: Sequence[str] = DISTRIBUTIONS,
) -> Equivalence:
    """Compare two sets of runs (at least 2 each, for the series' noise) on `distributions`
    and `series`; see the module's text."""
    if len(a) < 2 or len(b) < 2:
        raise InputError(
            f"compare_runs needs at least 2 runs on each side (got {len(a)} and {len(b)}): "
            "the series are compared within replicate noise"
        )
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1 (got {alpha})")
    unknown = [d for d in distributions if d not in DISTRIBUTIONS]
    if unknown:
        raise InputError(
            f"unknown distribution(s) {unknown}; choose from {', '.join(DISTRIBUTIONS)}"
        )
    columns = set(a[0].timeseries.column_names)
    missing = [c for c in series if c not in columns]
    if missing:
        raise InputError(f"unknown time-series column(s) {missing}")
    checks = [distribution_check(a, b, d) for d in distributions]
    checks += [series_check(a, b, c) for c in series]
    return Equivalence(checks, alpha)
