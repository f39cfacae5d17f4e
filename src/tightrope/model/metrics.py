"""The three goals: their parts, their scores, the balance and the tilt.

Each part is a figure of the run so far. A part that grows without bound (harm views per
user, ...) is mapped to [0, 1] as x / (x + ref), with the reference point from the scenario's
`[metrics]` (a part equal to its reference maps to 0.5), so the same references make runs
of different regimes comparable. See docs/model.md, "Metrics", for every formula.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from tightrope.core import counters as K
from tightrope.model.exposure import can_use
from tightrope.model.moderation import identifiability
from tightrope.model.posting import deterred
from tightrope.model.spam import useful_views
from tightrope.scenario.content import BAD_ACTOR, SPAM
from tightrope.scenario.schema import Scenario

GOALS = ("order", "development", "freedom")


STATS_BLOCK_USERS = 1 << 16
"""Users per block of the population statistics, summed in parallel (fixed: the sums'
rounding depends on it, never on the threads)."""


@njit(cache=True, parallel=True)
def population_stats(people, consts, rules, now) -> tuple[np.ndarray, np.ndarray]:
    """Sums over users: fear, grievance, trust, VPN users, active users (who can use some
    platform), bad actors able to act, users who want a foreign platform, and of those,
    how many can reach one; and the users who can use each platform. Each block of
    STATS_BLOCK_USERS users is summed on its own, in parallel; the blocks' sums are then
    added in block order."""
    n_p = consts.n_platforms
    n = people.kind.size
    blocks = -(-n // STATS_BLOCK_USERS)
    sums = np.zeros((blocks, 8))
    platform_sums = np.zeros((blocks, n_p))
    boost = 1.0 + rules.intensity
    member, suspended, vpn = people.member, people.suspended_until, people.vpn
    live, blocked, p_foreign = rules.live, rules.blocked, consts.p_foreign
    fear, grievance, trust, kind = people.fear, people.grievance, people.trust, people.kind
    real_name, gain, wants_foreign = people.real_name, people.gain, people.wants_foreign
    data_access, severity = consts.data_access, consts.severity
    wants_threshold = consts.wants_foreign_threshold
    for b in prange(blocks):
        out = sums[b]
        per_platform = platform_sums[b]
        for i in range(b * STATS_BLOCK_USERS, min(n, (b + 1) * STATS_BLOCK_USERS)):
            out[0] += fear[i]
            out[1] += grievance[i]
            out[2] += trust[i]
            out[3] += vpn[i]
            usable = False
            foreign = False
            for p in range(n_p):
                if can_use(member, suspended, vpn, live, blocked, i, p, now):
                    usable = True
                    per_platform[p] += 1.0
                    if p_foreign[p] != 0:
                        foreign = True
            if usable:
                out[4] += 1.0
            if kind[i] == BAD_ACTOR and usable:
                ident = identifiability(real_name[i], data_access)
                if not deterred(ident, severity, boost, gain[i]):
                    out[5] += 1.0
            if wants_foreign[i] >= wants_threshold:
                out[6] += 1.0
                if foreign:
                    out[7] += 1.0
    total = np.zeros(8)
    per_platform_total = np.zeros(n_p)
    for b in range(blocks):
        total += sums[b]
        per_platform_total += platform_sums[b]
    return total, per_platform_total


def _sat(x: float, ref: float) -> float:
    return x / (x + ref) if x > 0 else 0.0


def _share(part: float, whole: float) -> float:
    """part / whole, 0 when the whole is 0 (nothing was intended, nothing was lost)."""
    return part / whole if whole else 0.0


def _median_minutes(hist: np.ndarray, edges: list[tuple[float, float]]) -> float:
    total = hist.sum()
    if total == 0:
        return math.nan
    cum = np.cumsum(hist)
    b = int(np.searchsorted(cum, total / 2.0))
    lo, hi = edges[b]
    if math.isinf(hi):
        return lo
    before = cum[b - 1] if b > 0 else 0
    return lo + (hi - lo) * (total / 2.0 - before) / hist[b]


def _share_within(hist: np.ndarray, minutes: float) -> float:
    total = hist.sum()
    if total == 0:
        return math.nan
    if minutes <= K.MINUTE_BINS:
        return float(hist[: int(minutes)].sum() / total)
    b = K.MINUTE_BINS + int((minutes - K.MINUTE_BINS) / 60)
    return float(hist[:b].sum() / total)


def weighted_mean(parts: dict[str, float], weights: dict[str, float]) -> float:
    """The mean of the parts weighted by their weights, over the parts that are defined (a NaN
    part, such as requests answered in a run without requests, is left out and the others'
    weights carry the score); NaN when no part with weight is defined."""
    total = weight = 0.0
    for name, value in parts.items():
        w = weights[name]
        if w > 0 and not math.isnan(value):
            total += w * value
            weight += w
    return total / weight if weight > 0 else math.nan


def freedom_parts(
    sc: Scenario,
    totals: dict[str, float],
    n_users: int,
    days: float,
    stats: np.ndarray,
    has_foreign: bool,
    identifiable: float,
) -> dict[str, float]:
    """The freedom score's parts, each in [0, 1] (1 is free; NaN where it does not apply):
    access to foreign platforms among users who want one; `1 - sat` of the wrongful-removal
    share, the self-censored share and the rate of punishments for legitimate posts, each
    against its reference; the reach of criticism as a share of a free society's; the share
    of users the state cannot identify; requests answered (docs/model.md 11.1)."""
    m = sc.metrics
    n = max(n_users, 1)
    per_30 = 30.0 / max(days, 1e-9)
    requests = totals["requests"]
    self_censored = _share(totals["self_censored"], totals["intents"])
    wrongful = _share(totals["wrongful_removed"], totals["legit_posts"])
    criticism30 = totals["criticism_views"] / n * per_30
    # a totals mapping made before this counter (a test's, a stored run's) has none
    punished30 = totals.get("punished_legit", 0.0) * 1000.0 / n * per_30
    return {
        "access": stats[7] / stats[6] if (has_foreign and stats[6] > 0) else math.nan,
        "wrongful_removal": 1.0 - _sat(wrongful, m.wrongful_removal_share_ref),
        "self_censorship": 1.0 - _sat(self_censored, m.self_censored_share_ref),
        "criticism_reach": min(1.0, criticism30 / m.criticism_views_per_user_30_days_free),
        "punishment": 1.0 - _sat(punished30, m.punished_per_1000_users_30_days_ref),
        "identifiability": 1.0 - identifiable,
        "requests_answered": totals["answered"] / requests if requests else math.nan,
    }


def scores(
    sc: Scenario,
    totals: dict[str, float],
    n_users: int,
    days: float,
    stats: np.ndarray,
    money: dict[str, float],
    has_foreign: bool,
    identifiable: float,
) -> dict[str, float | str]:
    """The goal parts and scores from the run's totals so far; `identifiable` is the share
    of users the state can identify (`identifiable_share`)."""
    m = sc.metrics
    n = max(n_users, 1)
    days = max(days, 1e-9)
    harm = totals["harm_views"] / n
    rumor = totals["rumor_views"] / n
    per_30 = 30.0 / days  # the score's parts are rates, so that a score means the same
    incidents30 = totals["incidents"] * per_30  # over any length of run
    order = 1.0 - float(
        np.mean(
            [
                _sat(harm * per_30, m.harm_views_per_user_30_days_ref),
                _sat(rumor * per_30, m.rumor_views_per_user_30_days_ref),
                _sat(incidents30, m.incidents_per_30_days_ref),
            ]
        )
    )
    active_share = stats[4] / n
    views_day = totals["views"] / n / days
    # a totals mapping made before spam (a test's, a stored run's) has no spam views
    useful_day = useful_views(totals["views"], totals.get("spam_views", 0.0)) / n / days
    revenue = money["revenue"]
    margin = money["profit"] / revenue if revenue > 0 else 0.0
    development = float(
        np.mean(
            [
                active_share,
                _sat(useful_day, m.views_per_user_day_ref),
                0.5 + 0.5 * min(1.0, max(-1.0, margin)),
            ]
        )
    )
    parts = freedom_parts(sc, totals, n_users, days, stats, has_foreign, identifiable)
    w = m.freedom_weights
    weights = {
        "access": w.access,
        "wrongful_removal": w.wrongful_removal,
        "self_censorship": w.self_censorship,
        "criticism_reach": w.criticism_reach,
        "punishment": w.punishment,
        "identifiability": w.identifiability,
        "requests_answered": w.requests_answered,
    }
    freedom = weighted_mean(parts, weights)
    goal = {"order": order, "development": development, "freedom": freedom}
    return {
        "order_score": order,
        "development_score": development,
        "freedom_score": freedom,
        "balance": 1.0 - (max(goal.values()) - min(goal.values())),
        "tilt": min(goal, key=lambda g: goal[g]),
        "harm_views_per_user": harm,
        "rumor_views_per_user": rumor,
        "criticism_views_per_user": totals["criticism_views"] / n,
        "criticism_reach": parts["criticism_reach"],
        "self_censored_share": _share(totals["self_censored"], totals["intents"]),
        "wrongful_removal_share": _share(totals["wrongful_removed"], totals["legit_posts"]),
        "punished_legit": totals.get("punished_legit", 0.0),
        "identifiable_share": identifiable,
        "requests_answered_share": parts["requests_answered"],
        "access_share": parts["access"],
        "active_share": active_share,
        "views_per_user_day": views_day,
        "profit_margin": margin,
    }


def summary(
    sc: Scenario,
    totals: dict[str, float],
    hist: np.ndarray,
    n_users: int,
    days: float,
    stats: np.ndarray,
    money: dict[str, float],
    has_foreign: bool,
    identifiable: float,
) -> dict[str, float | str]:
    """The end-of-run summary: a flat mapping (docs/model.md, "Metrics")."""
    out = scores(sc, totals, n_users, days, stats, money, has_foreign, identifiable)
    edges = K.bin_edges()
    posts = totals["posts"]
    removed_hist = hist[K.HIST_REMOVAL]
    answer_hist = hist[K.HIST_ANSWER]
    published = posts - totals["blocked"] - totals["held"] + totals["held_approved"]

    def share(a: float, b: float) -> float:
        return a / b if b else math.nan

    out.update(
        {
            "incidents": totals["incidents"],
            "calls_to_action": totals["calls_to_action"],
            "intents": totals["intents"],
            "posts": posts,
            "removed_share": share(totals["removed"] + totals["blocked"], posts),
            "published_deleted_share": share(totals["removed_published"], published),
            "published_deleted_any_share": share(
                totals["removed_published"] + totals["author_deleted"], published
            ),
            "blocked_share": share(totals["blocked"], posts),
            "held_share": share(totals["held"], posts),
            "held_never_published_share": share(totals["held_removed"], totals["held"]),
            "appeal_share": share(totals["appeals"], totals["removed"]),
            "reinstated_share": share(totals["reinstated"], totals["appeals"]),
            "escalated": totals.get("escalated", 0.0),
            "wrongful_share_of_removals": share(
                totals["wrongful_removed"], totals["removed"] + totals["blocked"]
            ),
            "median_minutes_to_removal": _median_minutes(removed_hist, edges),
            "deleted_within_8min_share": _share_within(removed_hist, 8),
            "deleted_5_to_30min_share": (
                _share_within(removed_hist, 30) - _share_within(removed_hist, 5)
                if removed_hist.sum()
                else math.nan
            ),
            "deleted_within_24h_share": _share_within(removed_hist, 1440),
            "requests": totals["requests"],
            "median_minutes_to_answer": _median_minutes(answer_hist, edges),
            "vpn_share": stats[3] / max(n_users, 1),
            "active_users": stats[4],
            "bad_actors_active": stats[5],
            "mean_fear": stats[0] / max(n_users, 1),
            "mean_grievance": stats[1] / max(n_users, 1),
            "mean_trust": stats[2] / max(n_users, 1),
            "views": totals["views"],
            "spam_view_share": share(totals.get("spam_views", 0.0), totals["views"]),
            "reshares": totals["reshares"],
            "reports": totals["reports"],
            "referrals": totals["referrals"],
            "punished": totals["punished"],
            "regulator_violations": totals["regulator_violations"],
            "revenue": money["revenue"],
            "compliance_cost": money["compliance_cost"],
            "fines": money["fines"],
            "profit": money["profit"],
        }
    )
    target = sc.state.officials.response_target_minutes
    # answers recorded below the target; NaN without a target or without answers
    out["answered_within_target_share"] = (
        _share_within(answer_hist, target) if target > 0 else math.nan
    )
    return out


EXPOSURE_KEYS = (
    "reshare_rate_exposure_1",
    "reshare_rate_exposure_2",
    "reshare_rate_exposure_3plus",
)
"""Summary keys of the reshare rate at a viewer's 1st, 2nd, and 3rd or later view of a
post (docs/model.md 7.5.1, 11.2)."""


def exposure_rates(exposures: np.ndarray) -> dict[str, float]:
    """Reshares / views at a viewer's 1st, 2nd, and 3rd or later view of a post, from
    `Tally.exposures` (views in row 0, reshares in row 1); NaN where no such view was
    counted, as in a run whose `behaviour.exposure_weights` are all 1 (nothing is
    remembered, so views are not told apart)."""
    return {
        key: float(exposures[1, x] / exposures[0, x]) if exposures[0, x] > 0 else math.nan
        for x, key in enumerate(EXPOSURE_KEYS)
    }


def median_minutes(hist: np.ndarray) -> float:
    """The median of a histogram over `counters.bin_edges()`, linear within its bin (NaN
    when it is empty): the summary's median minutes to removal, and each category's."""
    return _median_minutes(hist, K.bin_edges())


def category_counts(category: np.ndarray) -> dict[str, np.ndarray]:
    """The per-category columns of `Result.categories` from the tally's per-category
    counters (`Tally.category`, rows in CATEGORIES' order), as int64 counts: the counted
    ones, `published` (posts the filter did not block: visible or held at publication)
    and `removed` (the sum over the routes)."""
    out = {name: category[:, i].astype(np.int64) for i, name in enumerate(K.CATEGORY)}
    out["published"] = out["posts"] - out["blocked"]
    out["removed"] = sum(out[name] for name in K.ROUTES)
    return out


def spam_removed_share(category: np.ndarray) -> float:
    """The share of spam posts that the platforms or the state blocked or removed (every
    route but the author's own deletion), from the tally's per-category counters: removed
    spam / spam posts (NaN without spam posts)."""
    counts = category_counts(category)
    posts = counts["posts"][SPAM]
    if not posts:
        return math.nan
    removed = counts["blocked"][SPAM] + counts["removed"][SPAM] - counts["removed_author"][SPAM]
    return float(removed / posts)


def violative_view_share(category: np.ndarray, legit: np.ndarray) -> float:
    """Views of posts the evaluation baseline holds illegitimate, spam left out, over the
    views of posts that are not spam, from the tally's per-category counters (`legit`: one
    flag per category, `Consts.legit`): YouTube's violative view rate, which counts views
    of content breaking its guidelines, spam excluded (docs/model.md 11.2; NaN without
    views)."""
    views = category_counts(category)["views"].astype(np.float64)
    views[SPAM] = 0.0
    total = views.sum()
    if total == 0:
        return math.nan
    return float(views[legit == 0].sum() / total)


def cascade_sizes(
    retired: np.ndarray, pid: np.ndarray, cat: np.ndarray, reshares: np.ndarray
) -> np.ndarray:
    """The cascade histogram of every post of the run (int64, categories x CASCADE_BINS x
    (posts, sum of sizes)): those whose slot a newer post took (`retired`, counted by
    `posting.publish_intents`) and those still in the ring (`pid`, `cat`, `reshares` of
    the post ring). Reads the ring, changes nothing: a run can go on after it."""
    out = retired.copy()
    live = pid >= 0
    size = 1 + reshares[live].astype(np.int64)
    # bin = bits of size - 1 (`posting.cascade_bin`); frexp is exact for these integers
    b = np.minimum(np.frexp((size - 1).astype(np.float64))[1], K.CASCADE_BINS - 1)
    c = cat[live].astype(np.int64)
    np.add.at(out[:, :, K.CASCADE_POSTS], (c, b), 1)
    np.add.at(out[:, :, K.CASCADE_SIZES], (c, b), size)
    return out
