"""Provincial differences in the state's enforcement (docs/model.md 8.10).

Each user belongs to a region (`People.region`, from the network). The state's local
authorities may differ by region in two ways, each a multiplier per region under
`state.regions` (compiled into `Consts.region_rules`, one row a region):

- `sensitivity`: how severe the local authorities find a removed prohibited post of their
  region's users, when they decide whether the platform's referral reaches them
  (`refers`);
- `enforcement`: the local police's zeal, multiplying the chance that a referred author of
  the region is punished (`local_punishment_chance`).

With the multipliers at 1 (the default) both rules give exactly the national ones: a
product with 1.0 is the same float, and no draw is added or removed.
"""

from __future__ import annotations

from numba import njit

REGION_ENFORCEMENT, REGION_SENSITIVITY = 0, 1
"""Columns of `Consts.region_rules`."""


@njit(inline="always", cache=True)
def regional(region_rules, region: int, column: int) -> float:
    """Region `region`'s multiplier in `column` of `region_rules`; 1 for a region without a
    row (no multipliers set: one row of ones)."""
    if region < region_rules.shape[0]:
        return region_rules[region, column]
    return 1.0


@njit(inline="always", cache=True)
def refers(severity: float, sensitivity: float, referral_severity: float) -> bool:
    """Whether a removed post prohibited with `severity` (> 0) is referred to the state: the
    severity the local authorities see, `severity x sensitivity`, reaches the platform's
    `referral_severity`."""
    return severity * sensitivity >= referral_severity


@njit(inline="always", cache=True)
def local_punishment_chance(chance: float, enforcement: float) -> float:
    """The national punishment chance (`moderation.punishment_chance`) in a region of
    enforcement multiplier `enforcement`: `min(1, chance x enforcement)`."""
    return min(1.0, chance * enforcement)
