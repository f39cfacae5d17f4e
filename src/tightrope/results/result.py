"""What a run gives back: the summary, the time series and the queue-time histograms."""

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
)  # fmt: skip
"""Columns of `Result.timeseries`, one row per tick. Counts are per tick; means and scores
are as of the end of the tick (scores from the run so far)."""

PLATFORM_COLUMNS: tuple[str, ...] = (
    "tick", "platform", "active_users", "posts", "views", "removed", "revenue",
    "compliance_cost", "fines", "profit", "effort", "queue_length", "suspended", "blocked",
)  # fmt: skip
"""Columns of `Result.platforms`, one row per tick and platform."""

HISTOGRAM_COLUMNS: tuple[str, ...] = ("measure", "lo_minutes", "hi_minutes", "count")
"""Columns of `Result.histograms`: measure is "minutes_to_removal" or "minutes_to_answer"."""


@dataclass(frozen=True)
class Result:
    """One finished run.

    summary: flat mapping of end-of-run figures (see docs/model.md, "Metrics").
    timeseries, platforms, histograms: Arrow tables; `.to_pandas()` and `polars.from_arrow`
    convert them without copying where the types allow.
    """

    scenario: Scenario
    seed: int
    config_sha256: str
    summary: dict[str, Any]
    timeseries: pa.Table
    platforms: pa.Table
    histograms: pa.Table
    meta: dict[str, Any] = field(default_factory=dict)

    def to_pandas(self) -> Any:
        """The time series as a pandas DataFrame."""
        return self.timeseries.to_pandas()

    def to_polars(self) -> Any:
        """The time series as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.timeseries)
