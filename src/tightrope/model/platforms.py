"""Platforms as companies: revenue, compliance costs, fines, profit and compliance effort.

Revenue per tick is views / 1000 x ad revenue plus commerce posts x commerce revenue.
Compliance cost is reviewers at work (reviewers x effort x hours worked x hourly wage) plus
filtering (posts scanned / 1000 x filter cost x effort). Profit is revenue less compliance
cost, fines and fixed cost.

With adaptive compliance, every `adapt_every_days` the platform re-chooses its effort e
among `compliance.effort_levels` levels from 0 to 1 (21: {0, 0.05, ..., 1}; the rule
`choose_effort`) to maximise expected profit over the next period, from what it saw in the
last one (the principal-agent problem of the seeds): expected violations found by
inspectors are checks x s x (1 - d x e), where s is the share of views on prohibited content
before filtering and d the filter's mean detection of prohibited categories at full effort;
expected fines are those violations x the current fine; costs scale with e; revenue loses the
views of the prohibited content that e removes.
"""

from __future__ import annotations

import numpy as np

from tightrope.core import counters as K
from tightrope.scenario.schema import Scenario


def effort_grid(levels: int) -> np.ndarray:
    """The efforts an adaptive platform chooses among: `levels` evenly spaced from 0 to 1
    (`compliance.effort_levels`; 21 gives 0, 0.05, ..., 1), rounded to 12 decimals."""
    return np.round(np.linspace(0.0, 1.0, levels), 12)


def choose_effort(
    revenue: float,
    views: float,
    prohibited_views: float,
    checks: float,
    cost: float,
    detection: float,
    effort_now: float,
    full_cost: float,
    fine: float,
    fine_growth: float,
    period_days: float,
    grid: np.ndarray,
    min_miss_share: float,
) -> float:
    """The compliance choice: the effort of `grid` of highest expected profit next period.

    From the period just ended: revenue R, views V, prohibited views PV, inspections C,
    compliance cost K, effort e0 and the filter's mean detection d of prohibited categories
    at full effort (capped at 1):
    - prohibited share before filtering `s = (PV / V) / max(1 - d x e0, min_miss_share)`,
      0 if V = 0;
    - unit cost `u = K / e0`, or `full_cost` (a period at full effort) if e0 = 0;
    - for each e: violations `viol = C x s x (1 - d x e)`, fine
      `fine x (1 + fine_growth x viol / max(period_days, 1))`, value
      `R x (1 - s x d x (e - e0)) - u x e - viol x fine(e)`;
    the first e of highest value (lowest effort on ties). Money in the scenario's currency.
    """
    d = min(float(detection), 1.0)
    e0 = effort_now
    s = (prohibited_views / views) / max(1.0 - d * e0, min_miss_share) if views > 0 else 0.0
    unit_cost = cost / e0 if e0 > 0 else full_cost
    e = grid
    violations = checks * s * (1.0 - d * e)
    fine_now = fine * (1.0 + fine_growth * violations / max(period_days, 1))
    value = revenue * (1.0 - s * d * (e - e0)) - unit_cost * e - violations * fine_now
    return float(e[int(np.argmax(value))])


class Economy:
    """Per-platform money and effort, updated once a tick (small arrays, plain NumPy)."""

    def __init__(self, sc: Scenario, n_users: int) -> None:
        names = list(sc.platforms)
        self.names = names
        plats = [sc.platforms[p] for p in names]
        self.ad = np.array([p.economics.ad_revenue_per_1000_views for p in plats])
        self.commerce = np.array([p.economics.commerce_revenue_per_post for p in plats])
        self.wage = np.array([p.economics.reviewer_cost_per_hour for p in plats])
        self.fixed = np.array([p.economics.fixed_cost_per_day for p in plats])
        self.filter_cost = np.array([p.moderation.filter.cost_per_1000_posts for p in plats])
        self.reviewers = np.array(
            [p.moderation.reviewers_per_100k_users * n_users / 100_000 for p in plats]
        )
        self.hours = [p.moderation.reviewer_hours for p in plats]
        self.adaptive = np.array([p.compliance.mode == "adaptive" for p in plats])
        self.every = np.array([p.compliance.adapt_every_days * 1440 for p in plats])
        self.effort = np.array([p.compliance.effort for p in plats], dtype=np.float64)
        self.grids = [effort_grid(p.compliance.effort_levels) for p in plats]
        self.min_miss = np.array([p.compliance.min_miss_share for p in plats])
        self.fine = sc.state.inspection.fine_per_violation
        self.fine_growth = sc.state.inspection.fine_growth
        self.period = np.zeros(
            (len(names), 6)
        )  # revenue, views, prohibited views, checks share, cost, fines
        self.next_adapt = self.every.copy()

    def tick(self, t0: int, L: int, pc: np.ndarray, checks: float) -> np.ndarray:
        """Money of the tick [t0, t0 + L): rows revenue, compliance cost, fines, profit."""
        hours_worked = np.array(
            [_overlap_hours(t0, L, lo, hi) for lo, hi in self.hours], dtype=np.float64
        )
        revenue = pc[:, K.P_VIEWS] / 1000.0 * self.ad + pc[:, K.P_COMMERCE] * self.commerce
        cost = self.reviewers * self.effort * hours_worked * self.wage
        cost += pc[:, K.P_SCANNED] / 1000.0 * self.filter_cost * self.effort
        fines = pc[:, K.P_FINES]
        profit = revenue - cost - fines - self.fixed * L / 1440.0
        views = pc[:, K.P_VIEWS]
        share = views / views.sum() if views.sum() > 0 else np.zeros_like(views)
        self.period += np.column_stack(
            [revenue, views, pc[:, K.P_PROHIBITED_VIEWS], checks * share, cost, fines]
        )
        return np.vstack([revenue, cost, fines, profit])

    def adapt(self, now: int, detection: np.ndarray, full_cost: np.ndarray) -> None:
        """Re-choose effort on adaptive platforms whose period has ended.

        detection[p]: mean flag chance of prohibited categories at full effort; full_cost[p]:
        compliance cost of a period at full effort (for a platform now at effort 0).
        """
        for p in np.nonzero(self.adaptive & (now >= self.next_adapt))[0]:
            rev, views, pviews, checks, cost, _fines = self.period[p]
            self.effort[p] = choose_effort(
                rev,
                views,
                pviews,
                checks,
                cost,
                detection[p],
                self.effort[p],
                full_cost[p],
                self.fine,
                self.fine_growth,
                self.every[p] / 1440,
                self.grids[p],
                self.min_miss[p],
            )
            self.period[p] = 0.0
            self.next_adapt[p] = now + self.every[p]


def _overlap_hours(t0: int, L: int, lo: int, hi: int) -> float:
    """Hours of the tick [t0, t0 + L) minutes that fall within working hours [lo, hi)."""
    minutes = np.arange(t0, t0 + L)
    hour = (minutes // 60) % 24
    return float(np.count_nonzero((hour >= lo) & (hour < hi))) / 60.0
