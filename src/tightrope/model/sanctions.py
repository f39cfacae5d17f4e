"""The state's escalation ladder: how it answers a platform that keeps breaking the law.

Every `state.sanctions.review_every_days` the state reviews each platform it regulates. It
is in breach if its inspectors' checks that drew one of its posts since the last
judgement, at least `min_checks` of them, found violations in more than
`tolerated_violation_share` of them by `evidence_z` standard errors, or if an audit finds
its moderation effort below the law's `required_effort` (no audit when that is 0). A
breach moves the platform one step up the ladder the law provides
(`state.sanctions.ladder`, in order; at the top, the top step is applied again) and the
step's sanction is applied; `clean_reviews_to_step_down` judgements in a row without a
breach move it one step down (no sanction). Without an audit and with fewer checks, the
state does not judge: it waits and counts on.

The sanctions (docs/model.md 8.9):
- `naming`: the platform is named in public; advertisers pay `naming_advertiser_loss` less
  for its ads for `naming_days`;
- `revenue_fine`: a fine of `revenue_fine_share` of its annual revenue (its revenue per day
  since the last review x 365), raised by `repeat_growth` for every earlier revenue fine;
- `suspension`: offline for `suspension_days`;
- `licence_withdrawal`: offline for good.

While any platform is above step 0, the state inspects more: checks x (1 +
`scrutiny_per_step` x the highest step reached). Adaptive platforms price the ladder in
their choice of effort (`tightrope.model.platforms.choose_effort`).

Each rule is one function of plain numbers; `Ladder` holds the per-platform record (small
arrays, plain NumPy, once a tick).
"""

from __future__ import annotations

import math

import numpy as np

from tightrope.core import counters as K
from tightrope.scenario.schema import SANCTION_STEPS, Scenario

MINUTES_PER_DAY = 1440
DAYS_PER_YEAR = 365.0
FOREVER = np.iinfo(np.int64).max // 4
"""The minute until which a platform whose licence is withdrawn stays offline."""


def breach_count(checks: float, tolerated_share: float, evidence_z: float) -> float:
    """The violations among `checks` checks above which the state finds a breach: the
    tolerated share of them plus `evidence_z` standard errors of that share (a one-sided
    test, in the normal approximation of the binomial)."""
    t = tolerated_share
    return t * checks + evidence_z * math.sqrt(max(checks * t * (1.0 - t), 0.0))


def over_tolerance(
    violations: float, checks: float, tolerated_share: float, evidence_z: float
) -> bool:
    """The state's judgement of what its inspectors saw: more violations than
    `breach_count` of its checks."""
    return violations > breach_count(checks, tolerated_share, evidence_z)


def audit_breach(effort: float, required: float) -> bool:
    """The state's audit: the platform's moderation effort is below what the law requires
    (never with `required` 0, no audit)."""
    return required > 0.0 and effort < required - 1e-12


def next_rung(
    step: int, clean: int, over: bool, n_steps: int, clean_to_step_down: int
) -> tuple[int, int, int]:
    """(step, clean reviews in a row, index of the sanction to apply or -1) after one
    judgement: over the tolerance, one step up (at the top the top step again), the clean
    count back to 0; within it, one more clean review, and one step down (no sanction)
    after `clean_to_step_down` of them."""
    if n_steps == 0:
        return step, clean, -1
    if over:
        step = min(step + 1, n_steps)
        return step, 0, step - 1
    clean += 1
    if clean >= clean_to_step_down and step > 0:
        return step - 1, 0, -1
    return step, clean, -1


def revenue_fine(
    revenue_per_day: float, share: float, repeat_growth: float, fines_before: int
) -> float:
    """A revenue fine: `share` of a year's revenue at the current rate, raised by
    `repeat_growth` for each earlier revenue fine."""
    return share * revenue_per_day * DAYS_PER_YEAR * (1.0 + repeat_growth * fines_before)


def sanction_cost(
    step: str,
    revenue_per_day: float,
    ad_revenue_per_day: float,
    fines_before: int,
    ladder: Ladder,
    horizon_days: float,
) -> float:
    """What a sanction costs the platform, as it reckons it: a naming, the ad revenue its
    advertisers withhold while it lasts; a revenue fine, its amount; a suspension, the
    revenue of the days offline; a licence withdrawal, `horizon_days` of revenue (the
    law's numbers are the `ladder`'s)."""
    if step == "naming":
        return ladder.naming_loss * ad_revenue_per_day * ladder.naming_days
    if step == "revenue_fine":
        return revenue_fine(revenue_per_day, ladder.fine_share, ladder.growth, fines_before)
    if step == "suspension":
        return revenue_per_day * ladder.suspension_days
    if step == "licence_withdrawal":
        return revenue_per_day * horizon_days
    raise ValueError(f"unknown sanction {step!r} (known: {', '.join(SANCTION_STEPS)})")


def escalation_chance(
    rate: float, tolerated_share: float, checks: float, evidence_z: float = 0.0
) -> float:
    """The chance that `checks` checks, each finding a violation with chance `rate`, find
    more than `breach_count` violations (the normal approximation of the binomial, with
    continuity correction); 0 without checks."""
    if checks <= 0.0:
        return 0.0
    rate = min(max(rate, 0.0), 1.0)
    limit = breach_count(checks, tolerated_share, evidence_z)
    sd = math.sqrt(checks * rate * (1.0 - rate))
    if sd == 0.0:
        return 1.0 if rate * checks > limit else 0.0
    z = (limit + 0.5 - rate * checks) / sd
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def scrutiny(steps: np.ndarray, per_step: float) -> float:
    """The factor on the state's checks: 1 + `per_step` x the highest step reached."""
    top = int(steps.max()) if steps.size else 0
    return 1.0 + per_step * top


class Ladder:
    """Each platform's place on the ladder and its record since the last judgement."""

    def __init__(self, sc: Scenario, names: list[str], regulated: np.ndarray) -> None:
        san = sc.state.sanctions
        n_p = len(names)
        self.steps = list(san.ladder)
        self.tolerated = san.tolerated_violation_share
        self.required = san.required_effort
        self.evidence_z = san.evidence_z
        self.min_checks = san.min_checks
        self.clean_to_down = san.clean_reviews_to_step_down
        self.fine_share = san.revenue_fine_share
        self.growth = san.repeat_growth
        self.naming_loss = san.naming_advertiser_loss
        self.naming_days = san.naming_days
        self.suspension_days = san.suspension_days
        self.per_step = san.scrutiny_per_step
        self.every = round(san.review_every_days * MINUTES_PER_DAY)
        self.regulated = regulated.astype(bool)
        self.step = np.zeros(n_p, dtype=np.int64)
        self.clean = np.zeros(n_p, dtype=np.int64)
        self.fines_before = np.zeros(n_p, dtype=np.int64)
        self.checks = np.zeros(n_p)  # since the last judgement
        self.violations = np.zeros(n_p)
        self.revenue = np.zeros(n_p)  # since the last review
        self.named_until = np.zeros(n_p, dtype=np.int64)
        self.next_review = self.every
        self.since = 0  # minute of the last review
        self.log: list[list[object]] = []  # [minute, platform, step, sanction, amount]

    @property
    def active(self) -> bool:
        return bool(self.steps)

    def costs_ahead(
        self, p: int, revenue_per_day: float, ad_revenue_per_day: float, horizon_days: float
    ) -> list[float]:
        """What platform p reckons each step ahead of it on the ladder would cost, from the
        next one to the top (at the top, the top step again); empty if the law provides
        none or the platform is not regulated."""
        if not self.active or not self.regulated[p]:
            return []
        n = len(self.steps)
        ahead = range(min(int(self.step[p]), n - 1), n)
        return [
            sanction_cost(
                self.steps[k],
                revenue_per_day,
                ad_revenue_per_day,
                int(self.fines_before[p]) + sum(s == "revenue_fine" for s in self.steps[:k]),
                self,
                horizon_days,
            )
            for k in ahead
        ]

    def observe(self, pc: np.ndarray, revenue: np.ndarray) -> None:
        """Add a tick's checks, violations and revenue to the record."""
        self.checks += pc[:, K.P_CHECKS]
        self.violations += pc[:, K.P_VIOLATIONS]
        self.revenue += revenue

    def named(self, now: int) -> np.ndarray:
        """1 where a platform is publicly named at minute `now`, else 0."""
        return (self.named_until > now).astype(np.float64)

    def review(
        self, now: int, names: list[str], suspended_until: np.ndarray, effort: np.ndarray
    ) -> np.ndarray:
        """The state's review at minute `now` if one is due: judge, step, sanction
        (`suspended_until` in place). Returns the revenue fines imposed, per platform."""
        fines = np.zeros(len(names))
        if not self.active or now < self.next_review:
            return fines
        san_days = max((now - self.since) / MINUTES_PER_DAY, 1e-9)
        for p in np.nonzero(self.regulated)[0]:
            if suspended_until[p] >= FOREVER:
                continue
            seen = self.checks[p] >= self.min_checks
            short = audit_breach(float(effort[p]), self.required)
            if not seen and self.required <= 0.0:
                continue  # too few checks to judge and no audit: the record carries on
            over = seen and over_tolerance(
                self.violations[p], self.checks[p], self.tolerated, self.evidence_z
            )
            step, clean, applied = next_rung(
                int(self.step[p]),
                int(self.clean[p]),
                over or short,
                len(self.steps),
                self.clean_to_down,
            )
            self.step[p], self.clean[p] = step, clean
            if seen:
                self.checks[p] = self.violations[p] = 0.0
            if applied < 0:
                continue
            kind = self.steps[applied]
            amount = 0.0
            if kind == "naming":
                self.named_until[p] = now + round(self.naming_days * MINUTES_PER_DAY)
            elif kind == "revenue_fine":
                amount = revenue_fine(
                    self.revenue[p] / san_days,
                    self.fine_share,
                    self.growth,
                    int(self.fines_before[p]),
                )
                self.fines_before[p] += 1
            elif kind == "suspension":
                until = now + round(self.suspension_days * MINUTES_PER_DAY)
                suspended_until[p] = max(int(suspended_until[p]), until)
            else:  # licence_withdrawal
                suspended_until[p] = FOREVER
            fines[p] = amount
            self.log.append([int(now), names[p], int(step), kind, float(amount)])
        self.revenue[:] = 0.0
        self.since = now
        self.next_review = now + self.every
        return fines
