"""Platforms as companies: revenue, compliance costs, fines, profit and compliance effort.

Revenue per tick is views / 1000 x ad revenue plus commerce posts x commerce revenue.
Compliance cost is reviewers at work (reviewers x effort x hours worked x hourly wage) plus
filtering (posts scanned / 1000 x filter cost x effort). Running cost, everything but
moderation, is revenue x `running_cost_share` plus the fixed cost per day (`running_cost`).
Profit is revenue less compliance cost, fines and running cost. The choice of effort below
weighs revenue, not revenue net of running cost (a simplification: it overstates what the
views moderation removes are worth to the platform by 1 / (1 - running_cost_share)).

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

from typing import NamedTuple

import numpy as np

from tightrope.core import counters as K
from tightrope.model.sanctions import Ladder, audit_breach, escalation_chance
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
    *,
    escalation: Escalation | None = None,
    advertisers: Advertisers | None = None,
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
    - with the state's ladder (`escalation`), less the expected sanctions: reviews in the
      period x `expected_sanctions(chance of a breach, costs of the steps ahead)`
      (`tightrope.model.sanctions`); the chance of a breach is 1 below the effort the
      state's audit requires, else `escalation_chance(s x (1 - d x e), tolerated share,
      checks per review, evidence_z)`;
    - with advertisers who mind harm (`advertisers`), plus the ad revenue their cut changes
      by: `ad x (m(e) - m(e0))` with `m(e) = 1 - min(1, sensitivity x max(0, h x (1 - dh
      x e) - tolerance))`, h the harm per view before filtering inferred as s is, dh the
      filter's harm-weighted detection;
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
    if escalation is not None and escalation.costs:
        chance = np.array(
            [
                1.0
                if audit_breach(float(x), escalation.required_effort)
                else escalation_chance(
                    s * (1.0 - d * x),
                    escalation.tolerated_share,
                    escalation.checks,
                    escalation.evidence_z,
                )
                for x in e
            ]
        )
        value = value - escalation.reviews * expected_sanctions(chance, escalation.costs)
    if advertisers is not None and advertisers.sensitivity > 0.0 and views > 0:
        dh = min(float(advertisers.detection), 1.0)
        h = (advertisers.harm / views) / max(1.0 - dh * e0, min_miss_share)
        tol, sens = advertisers.tolerance, advertisers.sensitivity
        kept = ad_share_kept(h * (1.0 - dh * e), tol, sens)
        kept_now = ad_share_kept(h * (1.0 - dh * e0), tol, sens)
        value = value + advertisers.ad_revenue * (kept - kept_now)
    return float(e[int(np.argmax(value))])


def expected_sanctions(chance, costs: list[float]):
    """The expected cost of the state's next review to a platform that breaches the law
    with `chance` (scalar or array) at each review: it reckons that a platform which
    breaches once at an effort breaches again at it, so the j-th step ahead comes with
    chance^j: `sum_j chance^j x costs[j - 1]` over the steps ahead."""
    total = 0.0
    power = 1.0
    for cost in costs:
        power = power * chance
        total = total + power * cost
    return total


class Escalation(NamedTuple):
    """What an adaptive platform knows of the state's ladder for its choice: the costs of
    the steps ahead of it (`Ladder.costs_ahead`), the tolerated share of violations among
    checks, the expected checks per review, the reviews in its period, the effort the
    state's audit requires and the evidence the state needs (`evidence_z`)."""

    costs: list[float]
    tolerated_share: float
    checks: float
    reviews: float
    required_effort: float = 0.0
    evidence_z: float = 0.0


class Advertisers(NamedTuple):
    """What an adaptive platform knows of its advertisers for its choice: the ad revenue of
    the period before their cut, the harm-weighted views, the filter's harm-weighted
    detection, and the advertisers' tolerance and sensitivity."""

    ad_revenue: float
    harm: float
    detection: float
    tolerance: float
    sensitivity: float


def ad_share_kept(harm_per_view, tolerance: float, sensitivity: float):
    """Advertisers' brand safety: the share of ad revenue they still pay,
    `1 - min(1, sensitivity x max(0, harm per view - tolerance))` (scalar or array)."""
    return 1.0 - np.minimum(1.0, sensitivity * np.maximum(0.0, harm_per_view - tolerance))


def running_cost(
    revenue: np.ndarray, share: np.ndarray, fixed_per_day: np.ndarray, minutes: int
) -> np.ndarray:
    """What running each platform costs over a tick of `minutes`, moderation aside:
    `revenue x share + fixed_per_day x minutes / 1440`."""
    return revenue * share + fixed_per_day * minutes / 1440.0


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
        self.running = np.array([p.economics.running_cost_share for p in plats])
        self.harm_tolerance = np.array([p.economics.advertiser_harm_tolerance for p in plats])
        self.harm_sensitivity = np.array([p.economics.advertiser_harm_sensitivity for p in plats])
        self.filter_cost = np.array([p.moderation.filter.cost_per_1000_posts for p in plats])
        self.reviewers = np.array(
            [p.moderation.reviewers_per_100k_users * n_users / 100_000 for p in plats]
        )
        self.hours = [p.moderation.reviewer_hours for p in plats]
        self.adaptive = np.array([p.compliance.mode == "adaptive" for p in plats])
        self.every = np.array([p.compliance.adapt_every_days * 1440 for p in plats])
        self.horizon = np.array([p.compliance.horizon_days for p in plats])
        self.effort = np.array([p.compliance.effort for p in plats], dtype=np.float64)
        self.grids = [effort_grid(p.compliance.effort_levels) for p in plats]
        self.min_miss = np.array([p.compliance.min_miss_share for p in plats])
        self.fine = sc.state.inspection.fine_per_violation
        self.fine_growth = sc.state.inspection.fine_growth
        self.period = np.zeros(
            (len(names), 6)
        )  # revenue, views, prohibited views, checks share, cost, fines
        self.period_ads = np.zeros((len(names), 2))  # ad revenue before advertisers' cut, harm
        self.next_adapt = self.every.copy()

    def tick(
        self,
        t0: int,
        L: int,
        pc: np.ndarray,
        checks: float,
        named_loss: np.ndarray | None = None,
    ) -> np.ndarray:
        """Money of the tick [t0, t0 + L): rows revenue, compliance cost, fines, profit.
        Advertisers pay `ad_share_kept` of the ad price for the tick's harm per view, less
        `named_loss` (the share withheld from a publicly named platform)."""
        hours_worked = np.array(
            [_overlap_hours(t0, L, lo, hi) for lo, hi in self.hours], dtype=np.float64
        )
        views = pc[:, K.P_VIEWS]
        ads = views / 1000.0 * self.ad
        ad_revenue = ads
        if self.harm_sensitivity.any() or (named_loss is not None and named_loss.any()):
            harm_per_view = np.divide(
                pc[:, K.P_HARM], views, out=np.zeros_like(views), where=views > 0
            )
            kept = ad_share_kept(harm_per_view, self.harm_tolerance, self.harm_sensitivity)
            if named_loss is not None:
                kept = kept * (1.0 - named_loss)
            ad_revenue = ads * kept
        revenue = ad_revenue + pc[:, K.P_COMMERCE] * self.commerce
        cost = self.reviewers * self.effort * hours_worked * self.wage
        cost += pc[:, K.P_SCANNED] / 1000.0 * self.filter_cost * self.effort
        fines = pc[:, K.P_FINES]
        profit = revenue - cost - fines - running_cost(revenue, self.running, self.fixed, L)
        share = views / views.sum() if views.sum() > 0 else np.zeros_like(views)
        self.period += np.column_stack(
            [revenue, views, pc[:, K.P_PROHIBITED_VIEWS], checks * share, cost, fines]
        )
        self.period_ads += np.column_stack([ads, pc[:, K.P_HARM]])
        return np.vstack([revenue, cost, fines, profit])

    def adapt(
        self,
        now: int,
        detection: np.ndarray,
        full_cost: np.ndarray,
        harm_detection: np.ndarray,
        ladder: Ladder | None = None,
    ) -> None:
        """Re-choose effort on adaptive platforms whose period has ended.

        detection[p]: mean flag chance of prohibited categories at full effort; full_cost[p]:
        compliance cost of a period at full effort (for a platform now at effort 0);
        harm_detection[p]: the filter's harm-weighted flag chance at full effort; `ladder`:
        the state's sanctions (`tightrope.model.sanctions.Ladder`), priced in if the law
        provides any.
        """
        for p in np.nonzero(self.adaptive & (now >= self.next_adapt))[0]:
            rev, views, pviews, checks, cost, _fines = self.period[p]
            ads, harm = self.period_ads[p]
            days = self.every[p] / 1440
            escalation = None
            if ladder is not None and ladder.active and ladder.regulated[p]:
                review_days = ladder.every / 1440
                escalation = Escalation(
                    costs=ladder.costs_ahead(p, rev / days, ads / days, float(self.horizon[p])),
                    tolerated_share=ladder.tolerated,
                    checks=checks * review_days / days,
                    reviews=days / review_days,
                    required_effort=ladder.required,
                    evidence_z=ladder.evidence_z,
                )
            advertisers = None
            if self.harm_sensitivity[p] > 0.0:
                advertisers = Advertisers(
                    ad_revenue=ads,
                    harm=harm,
                    detection=harm_detection[p],
                    tolerance=float(self.harm_tolerance[p]),
                    sensitivity=float(self.harm_sensitivity[p]),
                )
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
                days,
                self.grids[p],
                self.min_miss[p],
                escalation=escalation,
                advertisers=advertisers,
            )
            self.period[p] = 0.0
            self.period_ads[p] = 0.0
            self.next_adapt[p] = now + self.every[p]


def _overlap_hours(t0: int, L: int, lo: int, hi: int) -> float:
    """Hours of the tick [t0, t0 + L) minutes that fall within working hours [lo, hi)."""
    minutes = np.arange(t0, t0 + L)
    hour = (minutes // 60) % 24
    return float(np.count_nonzero((hour >= lo) & (hour < hi))) / 60.0
