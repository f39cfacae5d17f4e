"""What a run gives back: the summary, the time series, the queue-time histograms, what
happened to each category of content, how far posts spread (cascade sizes), and counts per
platform and day, per region and per cohort of users."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tightrope.scenario.schema import Scenario

TIMESERIES_COLUMNS: tuple[str, ...] = (
    "tick", "day", "hour", "intents", "posts", "self_censored", "displaced_private",
    "displaced_foreign", "blocked", "held", "removed", "wrongful_removed", "views",
    "harm_views", "rumor_views", "criticism_views", "reshares", "reports", "requests",
    "answered", "expired_requests", "mobilised", "incidents", "vpn_users", "active_users",
    "bad_actors_active", "mean_fear", "mean_grievance", "mean_trust", "revenue",
    "compliance_cost", "fines", "profit", "enforcement_intensity", "regulator_checks",
    "regulator_violations", "order_score", "development_score", "freedom_score",
    "author_deleted", "appeals", "reinstated",
)  # fmt: skip
"""Columns of `Result.timeseries`, one row per tick. Counts are per tick; means and scores
are as of the end of the tick (scores from the run so far). `removed` counts the platforms'
and the state's removals; `author_deleted` the posts their authors deleted; `appeals` the
removals appealed (counted at the removal) and `reinstated` the removed posts reinstated on
appeal (at the decision; docs/model.md 7.9)."""

PLATFORM_COLUMNS: tuple[str, ...] = (
    "tick", "platform", "active_users", "posts", "views", "removed", "revenue",
    "compliance_cost", "fines", "profit", "effort", "queue_length", "suspended", "blocked",
    "checks", "violations", "sanction_step", "sensitive_posts", "sensitive_held",
)  # fmt: skip
"""Columns of `Result.platforms`, one row per tick and platform. checks and violations are
the regulator's checks that drew one of the platform's posts and those that found a
violation; sanction_step is the platform's step on the state's ladder at the end of the
tick (0: none; docs/model.md 8.9); sensitive_posts are the criticism and collective-action
posts made on the platform and sensitive_held those of them its filter held for review
(King, Pan & Roberts 2014's measure; docs/model.md 11.2)."""

HISTOGRAM_COLUMNS: tuple[str, ...] = ("measure", "lo_minutes", "hi_minutes", "count")
"""Columns of `Result.histograms`: measure is "minutes_to_removal" or "minutes_to_answer",
or "minutes_to_removal:<category>" for the removals of one category."""

CATEGORY_COLUMNS: tuple[str, ...] = (
    "category", "intents", "self_censored", "posts", "published", "blocked", "held",
    "removed_filter", "removed_report", "removed_inspection", "removed_sweep",
    "removed_author", "removed", "wrongful_removed", "views", "reshares", "timed_removals",
    "median_minutes_to_removal", "appealed", "reinstated",
)  # fmt: skip
"""Columns of `Result.categories`, one row per content category (in the order of
`tightrope.scenario.content.CATEGORIES`), totals of the run (docs/model.md 11.5).

intents, self_censored (suppressed and not displaced), posts (made, as in the time series:
blocked ones too), published (not blocked: visible or held at publication), blocked, held;
removals by route: removed_filter (a review of a post the filter flagged or held),
removed_report (a review a user's report brought about), removed_inspection (the
regulator), removed_sweep (a platform's sweep after a removal), removed_author (the author's
own deletion), removed (their sum: the time series' removed plus author_deleted);
wrongful_removed (legitimate posts blocked or removed, as in the time series), views,
reshares; timed_removals (removals of published posts, which have a time to removal) and
median_minutes_to_removal (their median, null when there is none). All int64 but the
category (string) and the median (float64). appealed: removals whose author appealed;
reinstated: removed posts reinstated on appeal (docs/model.md 7.9; a reinstated post stays
counted in its removal route and wrongful_removed)."""

CASCADE_COLUMNS: tuple[str, ...] = ("category", "lo_size", "hi_size", "posts", "total_size")
"""Columns of `Result.cascades`, one row per category and cascade-size bin that holds posts
(docs/model.md 11.6): a post's cascade size is 1 + its reshares; bins are powers of two,
[lo_size, hi_size] both included (1, 2, 3-4, 5-8, ...); posts in the bin and the sum of
their sizes (over all rows: posts + reshares of the run). int64 but the category."""


PLATFORM_DAY_COLUMNS: tuple[str, ...] = (
    "day", "platform", "ticks", "active_users", "members", "vpn_users", "posts", "views",
    "removed", "blocked",
)  # fmt: skip
"""Columns of `Result.platform_days`, one row per day and platform (docs/model.md 11.7):
the day (0, 1, ...; the last may be part of a day: `ticks` says how many ticks it has);
active_users (who can use the platform), members (accounts), vpn_users (accounts of users
with a VPN: on a blocked platform, those who reach it through one) and blocked (1 when
the state blocks it), all as of the end of the day; posts, views and removed, counted
over the day. int64 but the platform (string)."""

REGION_COLUMNS: tuple[str, ...] = (
    "region", "users", "posts", "criticism_posts", "removals", "referrals", "requests",
    "answered", "punished_users", "witnesses", "vpn_users", "mean_fear", "mean_grievance",
    "mean_trust",
)  # fmt: skip
"""Columns of `Result.regions`, one row per region of the network (docs/model.md 11.8):
users; posts, criticism posts and removals of their posts over the run, and of those
removals the ones referred to the state (8.10); service requests made and answered by
officials (8.7); users punished by the state and users who
saw a followee punished (witnesses); and, at the end, VPN users and the mean fear,
grievance and trust (float64, null for a region without users). The others int64."""

COHORT_COLUMNS: tuple[str, ...] = (
    "cohort", "users", "user_days_before", "user_days_after", "posts_before", "posts_after",
    "criticism_before", "criticism_after", "posts_per_user_day_before",
    "posts_per_user_day_after", "criticism_per_user_day_before",
    "criticism_per_user_day_after",
)  # fmt: skip
"""Columns of `Result.cohorts`, one row per cohort: punished, followers, others, a
partition of the users (docs/model.md 11.9). Before and after each user's event (the end of
the tick of their first punishment, of the first punishment they witnessed, or for the
others of the run's first punishment; all before if there is none): user-days (float64),
posts and criticism posts (int64), and their rates per user-day (float64, null when there
are no user-days)."""

_FLOAT_COLUMNS = frozenset(
    {"median_minutes_to_removal", "mean_fear", "mean_grievance", "mean_trust",
     "user_days_before", "user_days_after", "posts_per_user_day_before",
     "posts_per_user_day_after", "criticism_per_user_day_before",
     "criticism_per_user_day_after"}
)  # fmt: skip
_STRING_COLUMNS = frozenset({"category", "platform", "cohort"})


def column_type(column: str) -> pa.DataType:
    """The Arrow type of a column of `Result.categories`, `cascades`, `platform_days`,
    `regions` or `cohorts`."""
    if column in _STRING_COLUMNS:
        return pa.string()
    if column in _FLOAT_COLUMNS:
        return pa.float64()
    return pa.int64()


def empty_table(columns: tuple[str, ...]) -> pa.Table:
    """A table with `columns` (of one of the tables `column_type` types) and no rows."""
    return pa.table({c: pa.array([], column_type(c)) for c in columns})


@dataclass(frozen=True)
class Result:
    """One finished run.

    summary: flat mapping of end-of-run figures (see docs/model.md, "Metrics").
    timeseries, platforms, histograms, categories, cascades, platform_days, regions,
    cohorts: Arrow tables (columns above); `.to_pandas()` and `polars.from_arrow` convert
    them without copying where the types allow. The tables from categories on default to
    empty tables (a Result made by hand).
    """

    scenario: Scenario
    seed: int
    config_sha256: str
    summary: dict[str, Any]
    timeseries: pa.Table
    platforms: pa.Table
    histograms: pa.Table
    meta: dict[str, Any] = field(default_factory=dict)
    categories: pa.Table = field(default_factory=lambda: empty_table(CATEGORY_COLUMNS))
    cascades: pa.Table = field(default_factory=lambda: empty_table(CASCADE_COLUMNS))
    platform_days: pa.Table = field(default_factory=lambda: empty_table(PLATFORM_DAY_COLUMNS))
    regions: pa.Table = field(default_factory=lambda: empty_table(REGION_COLUMNS))
    cohorts: pa.Table = field(default_factory=lambda: empty_table(COHORT_COLUMNS))

    def to_pandas(self) -> Any:
        """The time series as a pandas DataFrame."""
        return self.timeseries.to_pandas()

    def to_polars(self) -> Any:
        """The time series as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.timeseries)
