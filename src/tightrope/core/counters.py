"""Names and positions of the counters the kernels add to during a tick.

Kernels write into plain float64 arrays at these fixed positions (Numba treats the module
constants as compile-time constants); `metrics.py` turns them into the time series and
the per-category table.
"""

from __future__ import annotations

TICK: tuple[str, ...] = (
    "intents", "posts", "self_censored", "displaced_private", "displaced_foreign",
    "blocked", "held", "removed", "wrongful_removed", "views", "harm_views", "rumor_views",
    "criticism_views", "reshares", "reports", "requests", "answered", "expired_requests",
    "regulator_checks", "regulator_violations", "fines", "incidents", "legit_posts",
    "removed_published", "held_removed", "held_approved", "punished", "referrals",
    "legit_intents", "suppressed_legit", "answered_resolved", "views_lost", "sensitive_posts",
    "calls_to_action", "author_deleted", "appeals", "reinstated", "spam_views",
    "punished_legit", "escalated",
)  # fmt: skip
T = {name: i for i, name in enumerate(TICK)}

# each counter's position, derived from its name (the kernels see plain int constants)
INTENTS = T["intents"]
POSTS = T["posts"]
SELF_CENSORED = T["self_censored"]
DISPLACED_PRIVATE = T["displaced_private"]
DISPLACED_FOREIGN = T["displaced_foreign"]
BLOCKED = T["blocked"]
HELD = T["held"]
REMOVED = T["removed"]
WRONGFUL_REMOVED = T["wrongful_removed"]
VIEWS = T["views"]
HARM_VIEWS = T["harm_views"]
RUMOR_VIEWS = T["rumor_views"]
CRITICISM_VIEWS = T["criticism_views"]
RESHARES = T["reshares"]
REPORTS = T["reports"]
REQUESTS = T["requests"]
ANSWERED = T["answered"]
EXPIRED_REQUESTS = T["expired_requests"]
REGULATOR_CHECKS = T["regulator_checks"]
REGULATOR_VIOLATIONS = T["regulator_violations"]
FINES = T["fines"]
INCIDENTS = T["incidents"]
LEGIT_POSTS = T["legit_posts"]
REMOVED_PUBLISHED = T["removed_published"]
HELD_REMOVED = T["held_removed"]
HELD_APPROVED = T["held_approved"]
PUNISHED = T["punished"]
REFERRALS = T["referrals"]
LEGIT_INTENTS = T["legit_intents"]
SUPPRESSED_LEGIT = T["suppressed_legit"]
ANSWERED_RESOLVED = T["answered_resolved"]
VIEWS_LOST = T["views_lost"]
SENSITIVE_POSTS = T["sensitive_posts"]
CALLS_TO_ACTION = T["calls_to_action"]
AUTHOR_DELETED = T["author_deleted"]  # posts their authors deleted (not in `removed`)
APPEALS = T["appeals"]  # removals their authors appealed (model.appeals), at the removal
REINSTATED = T["reinstated"]  # removed posts reinstated on appeal, at the decision
SPAM_VIEWS = T["spam_views"]  # counted views of spam (model.spam; not in the time series)
PUNISHED_LEGIT = T["punished_legit"]  # of `punished`, for a legitimate post (not in the series)
ESCALATED = T["escalated"]  # removals sent to a second tier (model.escalation; not in the series)

PLATFORM: tuple[str, ...] = (
    "posts", "views", "removed", "commerce_posts", "fines", "reviews", "flagged",
    "prohibited_views", "scanned", "violations", "harm", "checks", "sensitive_posts",
    "sensitive_held",
)  # fmt: skip
P = {name: i for i, name in enumerate(PLATFORM)}
P_POSTS = P["posts"]
P_VIEWS = P["views"]
P_REMOVED = P["removed"]
P_COMMERCE = P["commerce_posts"]
P_FINES = P["fines"]
P_REVIEWS = P["reviews"]
P_FLAGGED = P["flagged"]
P_PROHIBITED_VIEWS = P["prohibited_views"]
P_SCANNED = P["scanned"]
P_VIOLATIONS = P["violations"]
P_HARM = P["harm"]  # harm-weighted views (category harm per view)
P_CHECKS = P["checks"]  # the regulator's checks that drew a post of the platform
P_SENSITIVE_POSTS = P["sensitive_posts"]  # criticism and collective-action posts made
P_SENSITIVE_HELD = P["sensitive_held"]  # those of them the filter held for review

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


# Per content category (rows: tightrope.scenario.content.CATEGORIES), for the whole run so
# far: what happened to the intents and posts of each category. `Result.categories` is made
# from these (with `published` and `removed` derived from them).
CATEGORY: tuple[str, ...] = (
    "intents", "self_censored", "posts", "blocked", "held", "removed_filter",
    "removed_report", "removed_inspection", "removed_sweep", "removed_author",
    "wrongful_removed", "views", "reshares", "appealed", "reinstated",
)  # fmt: skip
C = {name: i for i, name in enumerate(CATEGORY)}
CAT_INTENTS = C["intents"]
CAT_SELF_CENSORED = C["self_censored"]
CAT_POSTS = C["posts"]
CAT_BLOCKED = C["blocked"]
CAT_HELD = C["held"]
CAT_WRONGFUL_REMOVED = C["wrongful_removed"]
CAT_VIEWS = C["views"]
CAT_RESHARES = C["reshares"]
CAT_APPEALED = C["appealed"]  # removals appealed (model.appeals)
CAT_REINSTATED = C["reinstated"]  # removed posts reinstated on appeal

# The routes by which a post is removed: a removal counts in its category's column for the
# route (`moderation.remove_post` takes the route as that column). A sweep is a platform's
# search of its recent posts after a removal (`model.sweeps`, through `remove_post`); an
# author deleting their own post (`model.author_deletion`) counts in `removed_author` and in
# the tick's `author_deleted`, not in `removed` (which counts the platforms' and the state's
# removals).
ROUTES: tuple[str, ...] = (
    "removed_filter", "removed_report", "removed_inspection", "removed_sweep", "removed_author",
)  # fmt: skip
ROUTE_FILTER = C["removed_filter"]  # a review of a post the filter flagged or held
ROUTE_REPORT = C["removed_report"]  # a review that a user's report brought about
ROUTE_INSPECTION = C["removed_inspection"]  # the regulator's inspection
ROUTE_SWEEP = C["removed_sweep"]  # a platform's sweep after a removal (model.sweeps)
ROUTE_AUTHOR = C["removed_author"]  # the author's own deletion (model.author_deletion)

# Cascade sizes (1 + the reshares of a post), in bins by powers of two: bin 0 is size 1,
# bin b >= 1 sizes 2^(b-1) + 1 .. 2^b (2, 3-4, 5-8, ...). A post's reshares are counted in
# an int32, so its size is at most 2^31 and 32 bins hold every size.
CASCADE_BINS = 32
CASCADE_POSTS, CASCADE_SIZES = 0, 1  # per bin: posts, and the sum of their sizes


def cascade_edges() -> list[tuple[int, int]]:
    """[lo, hi] of every cascade-size bin, both included."""
    return [(1, 1)] + [((1 << (b - 1)) + 1, 1 << b) for b in range(1, CASCADE_BINS)]
