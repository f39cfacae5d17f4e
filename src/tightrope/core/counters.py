"""Names and positions of the counters the kernels add to during a tick.

Kernels write into plain float64 arrays at these fixed positions (Numba treats the module
constants as compile-time constants); `metrics.py` turns them into the time series.
"""

from __future__ import annotations

TICK: tuple[str, ...] = (
    "intents", "posts", "self_censored", "displaced_private", "displaced_foreign",
    "blocked", "held", "removed", "wrongful_removed", "views", "harm_views", "rumor_views",
    "criticism_views", "reshares", "reports", "requests", "answered", "expired_requests",
    "regulator_checks", "regulator_violations", "fines", "incidents", "legit_posts",
    "removed_published", "held_removed", "held_approved", "punished", "referrals",
    "legit_intents", "suppressed_legit", "answered_resolved", "views_lost", "sensitive_posts",
    "calls_to_action",
)  # fmt: skip
T = {name: i for i, name in enumerate(TICK)}

INTENTS, POSTS, SELF_CENSORED, DISPLACED_PRIVATE, DISPLACED_FOREIGN = 0, 1, 2, 3, 4
BLOCKED, HELD, REMOVED, WRONGFUL_REMOVED, VIEWS, HARM_VIEWS, RUMOR_VIEWS = 5, 6, 7, 8, 9, 10, 11
CRITICISM_VIEWS, RESHARES, REPORTS, REQUESTS, ANSWERED, EXPIRED_REQUESTS = 12, 13, 14, 15, 16, 17
REGULATOR_CHECKS, REGULATOR_VIOLATIONS, FINES, INCIDENTS, LEGIT_POSTS = 18, 19, 20, 21, 22
REMOVED_PUBLISHED, HELD_REMOVED, HELD_APPROVED, PUNISHED, REFERRALS = 23, 24, 25, 26, 27
LEGIT_INTENTS, SUPPRESSED_LEGIT, ANSWERED_RESOLVED, VIEWS_LOST, SENSITIVE_POSTS = 28, 29, 30, 31, 32
CALLS_TO_ACTION = 33
assert T["views_lost"] == VIEWS_LOST
assert T["legit_posts"] == LEGIT_POSTS

PLATFORM: tuple[str, ...] = (
    "posts", "views", "removed", "commerce_posts", "fines", "reviews", "flagged",
    "prohibited_views", "scanned", "violations",
)  # fmt: skip
P_POSTS, P_VIEWS, P_REMOVED, P_COMMERCE, P_FINES, P_REVIEWS, P_FLAGGED = 0, 1, 2, 3, 4, 5, 6
P_PROHIBITED_VIEWS, P_SCANNED, P_VIOLATIONS = 7, 8, 9
assert len(PLATFORM) == P_VIOLATIONS + 1

# Histograms of minutes: 1-minute bins up to a day, then hourly bins up to 7 days, then one
# bin for anything longer.
HIST_REMOVAL, HIST_ANSWER = 0, 1
MINUTE_BINS = 1440
HOUR_BINS = 6 * 24
N_BINS = MINUTE_BINS + HOUR_BINS + 1


def bin_edges() -> list[tuple[float, float]]:
    """[lo, hi) of every histogram bin, in minutes (the last is open-ended)."""
    edges = [(float(m), float(m + 1)) for m in range(MINUTE_BINS)]
    edges += [(1440.0 + 60.0 * h, 1440.0 + 60.0 * (h + 1)) for h in range(HOUR_BINS)]
    edges.append((1440.0 + 60.0 * HOUR_BINS, float("inf")))
    return edges
