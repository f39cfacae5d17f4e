"""Counts by group of users for the outputs by platform and day, by region and by cohort
(docs/model.md 11.7-11.9).

Counting only: nothing here draws a random number or changes a figure the model reads, so
the results of a run are the same with or without these outputs. Per user the counters are
`People.posts_made`, `criticism_made`, `requests_made`, `removals`, `referrals`,
`answered`, `punished_at`, `witnessed_at`, `cohort`, `cohort_split`, `posts_after` and
`criticism_after`; they are added up by region and cohort
only when a result is asked for.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tightrope.core.world import COHORT_FOLLOWERS, COHORT_OTHERS, COHORT_PUNISHED, COHORTS
from tightrope.scenario.content import CRITICISM, SERVICE_REQUEST


@njit(cache=True)
def count_user_posts(
    user,
    cat,
    count,
    posts_made,
    criticism_made,
    requests_made,
    cohort_split,
    posts_after,
    criticism_after,
) -> None:
    """Add the posts of a tick (the intents' buffers after `posting.post_tick`: block b's
    are entries b x room .. b x room + count[b] - 1, every one of them a post made) to
    their authors' counters. A post counts "after" when its author's cohort split is set:
    splits are set at the end of a tick, so a split that is set lies at or before the
    start of this tick, and before every post of it."""
    blocks = count.size
    room = user.size // blocks
    for b in range(blocks):
        for k in range(b * room, b * room + count[b]):
            i = user[k]
            critical = cat[k] == CRITICISM
            posts_made[i] += 1
            if critical:
                criticism_made[i] += 1
            if cat[k] == SERVICE_REQUEST:
                requests_made[i] += 1
            if cohort_split[i] >= 0:
                posts_after[i] += 1
                if critical:
                    criticism_after[i] += 1


@njit(cache=True)
def update_cohorts(
    punished_at, witnessed_at, cohort, cohort_split, posts_after, criticism_after, end
) -> None:
    """At the end of a tick (minute `end`) in which the state punished someone: each
    user's cohort (punished, else a follower who witnessed a punishment, else the others)
    as of now. A user whose cohort changes has their split moved to `end`, and what they
    posted so far counts as before it (every post so far was made before `end`); the
    others get their split at the first punishment of the run (`end` of its tick)."""
    for i in range(cohort.size):
        if punished_at[i] >= 0:
            k = COHORT_PUNISHED
        elif witnessed_at[i] >= 0:
            k = COHORT_FOLLOWERS
        else:
            k = COHORT_OTHERS
        if k != cohort[i] or cohort_split[i] < 0:
            cohort[i] = k
            cohort_split[i] = end
            posts_after[i] = 0
            criticism_after[i] = 0


def platform_members(member: np.ndarray, vpn: np.ndarray, n_platforms: int) -> np.ndarray:
    """(accounts, accounts of VPN users) on each platform: int64 (2, n_platforms). One
    NumPy pass over the users (a day's end)."""
    out = np.zeros((2, n_platforms), dtype=np.int64)
    has_vpn = vpn != 0
    for p in range(n_platforms):
        on = ((member >> np.uint8(p)) & np.uint8(1)).astype(bool)
        out[0, p] = np.count_nonzero(on)
        out[1, p] = np.count_nonzero(on & has_vpn)
    return out


def region_counts(people, region: np.ndarray, n_regions: int) -> dict[str, list]:
    """The columns of `Result.regions` (docs/model.md 11.8), one entry per region."""
    r = region.astype(np.int64)

    def total(weights=None) -> np.ndarray:
        return np.bincount(r, weights=weights, minlength=n_regions)[:n_regions]

    users = total()
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {
            f"mean_{name}": total(getattr(people, name).astype(np.float64)) / users
            for name in ("fear", "grievance", "trust")
        }
    cols: dict[str, list] = {
        "region": list(range(n_regions)),
        "users": users.tolist(),
        "posts": total(people.posts_made.astype(np.float64)).astype(np.int64).tolist(),
        "criticism_posts": total(people.criticism_made.astype(np.float64))
        .astype(np.int64)
        .tolist(),
        "removals": total(people.removals.astype(np.float64)).astype(np.int64).tolist(),
        "referrals": total(people.referrals.astype(np.float64)).astype(np.int64).tolist(),
        "requests": total(people.requests_made.astype(np.float64)).astype(np.int64).tolist(),
        "answered": total(people.answered.astype(np.float64)).astype(np.int64).tolist(),
        "punished_users": total((people.punished_at >= 0).astype(np.float64))
        .astype(np.int64)
        .tolist(),
        "witnesses": total((people.witnessed_at >= 0).astype(np.float64)).astype(np.int64).tolist(),
        "vpn_users": total((people.vpn != 0).astype(np.float64)).astype(np.int64).tolist(),
    }
    for name, values in means.items():
        cols[name] = [None if not np.isfinite(v) else float(v) for v in values]
    return cols


def cohort_counts(people, now: int) -> dict[str, list]:
    """The columns of `Result.cohorts` (docs/model.md 11.9) at minute `now` (the end of
    the last tick run), one entry per cohort in COHORTS' order, by column name."""
    order = (COHORT_PUNISHED, COHORT_FOLLOWERS, COHORT_OTHERS)
    split = people.cohort_split
    before_minutes = np.where(split >= 0, np.minimum(split, now), now).astype(np.float64)
    after_minutes = now - before_minutes
    posts_after = people.posts_after.astype(np.int64)
    crit_after = people.criticism_after.astype(np.int64)
    posts_before = people.posts_made.astype(np.int64) - posts_after
    crit_before = people.criticism_made.astype(np.int64) - crit_after
    cols: dict[str, list] = {}
    for k, name in zip(order, COHORTS, strict=True):
        m = people.cohort == k
        days_before = float(before_minutes[m].sum()) / 1440.0
        days_after = float(after_minutes[m].sum()) / 1440.0
        values = {
            "cohort": name,
            "users": int(np.count_nonzero(m)),
            "user_days_before": days_before,
            "user_days_after": days_after,
            "posts_before": int(posts_before[m].sum()),
            "posts_after": int(posts_after[m].sum()),
            "criticism_before": int(crit_before[m].sum()),
            "criticism_after": int(crit_after[m].sum()),
        }
        for what in ("posts", "criticism"):
            for when, days in (("before", days_before), ("after", days_after)):
                rate = values[f"{what}_{when}"] / days if days > 0 else None
                values[f"{what}_per_user_day_{when}"] = rate
        for c, v in values.items():
            cols.setdefault(c, []).append(v)
    return cols
