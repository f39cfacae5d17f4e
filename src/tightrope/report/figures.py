"""The Plotly figures of the HTML report (`report.py`), one function per chart.

Every function takes tidy pandas frames that `report.py` read from a results folder and a
colour per scenario, and returns a `plotly.graph_objects.Figure`, or None when the runs hold
nothing to draw. Lines are the mean over a scenario's runs, with a band for its interval
(`tightrope.results.intervals`, at LEVEL) where there are several runs; bars and markers carry the
interval as whiskers. No figure uses geo or map traces: those would fetch topojson or map
tiles, and the report must work offline.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tightrope.results import intervals

LEVEL = 0.95
"""The level of the intervals drawn on the run charts (as in `tightrope compare`)."""

GOALS: tuple[tuple[str, str], ...] = (
    ("order_score", "order"),
    ("development_score", "development"),
    ("freedom_score", "freedom"),
)
"""Score column and axis label of each goal."""

# A part: (label, numerator column, denominator column or None, how a day is summarised).
# "flow" is a count per tick, shown per day; "level" is a stock, shown as the day's mean;
# a "ratio" is the day's sum of the numerator over the day's sum of the denominator (for
# counts of the same items: self-censored intents among the day's intents); "cumulative" is
# the numerator summed from the start to the end of the day over the denominator summed so
# far (for answers, which may come days after their requests: a day's answers over the same
# day's requests can pass 100%, the answers so far over the requests so far cannot).
Part = tuple[str, str, str | None, str]
PARTS: dict[str, tuple[Part, ...]] = {
    "order": (
        ("harm views / day", "harm_views", None, "flow"),
        ("rumour views / day", "rumor_views", None, "flow"),
        ("incidents / day", "incidents", None, "flow"),
        ("regulator violations found / day", "regulator_violations", None, "flow"),
    ),
    "development": (
        ("active users", "active_users", None, "level"),
        ("views / day", "views", None, "flow"),
        ("revenue / day", "revenue", None, "flow"),
        ("compliance cost / day", "compliance_cost", None, "flow"),
        ("fines / day", "fines", None, "flow"),
        ("profit / day", "profit", None, "flow"),
    ),
    "freedom": (
        ("self-censored share of intents", "self_censored", "intents", "ratio"),
        ("wrongful removals / day", "wrongful_removed", None, "flow"),
        ("answered share of requests so far", "answered", "requests", "cumulative"),
        ("criticism views / day", "criticism_views", None, "flow"),
        ("VPN users", "vpn_users", None, "level"),
    ),
}

PLATFORM_PARTS: tuple[Part, ...] = (
    ("revenue / day", "revenue", None, "flow"),
    ("compliance cost / day", "compliance_cost", None, "flow"),
    ("fines / day", "fines", None, "flow"),
    ("profit / day", "profit", None, "flow"),
    ("compliance effort (0-1)", "effort", None, "level"),
)

SHARES: tuple[tuple[str, str], ...] = (
    ("self_censored_share", "self-censored: share of intents"),
    ("wrongful_removal_share", "wrongfully removed: share of legitimate posts"),
    ("removed_share", "removed or blocked: share of posts"),
)

SUMMARY_PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("goals", ("order_score", "development_score", "freedom_score", "balance", "tilt")),
    ("order", ("harm_views_per_user", "rumor_views_per_user", "violative_view_share", "incidents",
               "regulator_violations",
               "bad_actors_active")),
    ("development", ("active_share", "active_users", "views_per_user_day", "views", "posts",
                     "reshares", "revenue", "compliance_cost", "fines", "profit", "profit_margin")),
    ("freedom", ("intents", "self_censored_share", "criticism_views_per_user", "criticism_reach",
                 "identifiable_share", "punished_legit", "removed_share",
                 "wrongful_removal_share", "wrongful_share_of_removals", "published_deleted_share",
                 "blocked_share", "held_share", "held_never_published_share",
                 "sensitive_held_share", "median_minutes_to_removal", "deleted_within_8min_share",
                 "deleted_5_to_30min_share", "deleted_within_24h_share", "requests",
                 "requests_answered_share", "median_minutes_to_answer", "access_share",
                 "vpn_share", "punished")),
)  # fmt: skip
"""Summary figures grouped under the goal they measure (others are listed after them)."""

REFERENCE_MINUTES: tuple[tuple[float, str], ...] = ((8, "8 min"), (30, "30 min"), (1440, "24 h"))
"""Marks of published Weibo deletion studies, drawn on the time-to-removal charts."""

DISPLAY_EDGES: tuple[float, ...] = (
    0, 1, 2, 3, 5, 8, 12, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1080, 1440, 2160,
    2880, 4320, 7200, 10080, 20160, 43200, math.inf,
)  # fmt: skip
"""Bar edges of the time charts (minutes): 8, 30 and 1440 are edges, so no bar straddles a
reference mark."""
_PERCENT_AXIS = ".2~%"  # 30%, 0.5%, 0.12%: small shares stay readable
_TICKS = (1, 8, 30, 240, 1440, 10080, 43200)
_TICK_TEXT = ("1 min", "8 min", "30 min", "4 h", "24 h", "7 d", "30 d")
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_MAX_POINTS = 1500  # per line; longer series are averaged into buckets to keep the file small
_MARGIN = {"l": 60, "r": 20, "t": 50, "b": 120}
_LEGEND_GAP = 58  # px from the bottom of the plot area: room for tick labels and axis title
_ROW_GAP = 100  # px between rows of small multiples: tick labels, axis title, subplot title
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"


NOTES: dict[str, str] = {
    "network": "The follower graph each run was simulated on (the mean over a scenario's "
    "runs: each seed draws its own graph). Reciprocity is the share of follows that are "
    "returned; clustering, how often two of a user's contacts are in contact; a tail "
    "exponent near 2-3 means a few accounts have most of the followers. docs/model.md, "
    "section 4, gives the targets and their sources.",
    "run": "Each run simulates one scenario with one seed; the charts show the mean over a "
    "scenario's runs, with a shaded band for its 95% interval where there are several. The "
    "config hash names the exact settings: the same hash and seed give the same results, to "
    "the bit.",
    "summary": "End-of-run figures: the mean over the scenario's runs with its 95% interval "
    "[low, high] where there are several runs (the same numbers as tightrope compare prints; "
    "the caption names the method: the intervals stay inside what a figure can be, so they "
    "are uneven near 0 or 1); n = runs with a value where some run has none. Goal scores are "
    "in [0, 1], higher meets that goal better; balance says how evenly the three are met, "
    "tilt names the goal that loses. The scores summarise the parts listed below them: read "
    "the parts too.",
    "compare": "Each regime's three end-of-run scores on one triangle (axes in [0, 1], "
    "further out is better), with radial whiskers for their 95% intervals (hover for the "
    "numbers). A large, even shape meets the goals evenly (balance); the short axis is the "
    "tilt. Paired differences compare each scenario with the baseline on the same seeds, "
    "which removes most of the seed noise.",
    "goals": "Each goal's score after every tick, computed from the run so far (so early "
    "values swing more). One line per scenario, the mean over its runs; the shaded band is "
    "its 95% interval over the runs. No regime holds all three at 1: watch which goal a "
    "regime gives up, and when.",
    "order": "The order score combines harm views per user, rumour views per user and "
    "incidents per 30 days; here they are per day, with the prohibited posts the regulator "
    "found in its checks (which also depend on how much it inspects). Less of each is more "
    "order.",
    "development": "The development score combines the share of users still active, views "
    "per user and day, and the platforms' profit margin. Here, summed over platforms and per "
    "day: active users, views, revenue, what governance costs the companies (compliance: "
    "reviewers and filters; fines) and their profit.",
    "freedom": "Self-censored share: intents to post that users suppressed, over the day's "
    "intents. Wrongful removals: removed posts that the evaluation baseline counts as "
    "legitimate, judged apart from the regime's own rules. Answered share of requests so far: "
    "citizens' requests answered by officials from the start to the end of the day, over the "
    "requests made in that time (an answer can come days after its request, so the answers "
    "of one day over that day's requests could pass 100%; this share cannot, and on the last "
    "day it is the summary's requests_answered_share). Criticism views: the reach of "
    "criticism of officials. VPN users: people reaching blocked platforms. The score combines "
    "the first four with access to blocked platforms. Bands: 95% intervals over the runs.",
    "times": "Minutes from posting to removal, and from a citizen's request to an official "
    "answer, on a log scale. Each bar is the share of the scenario's removals (or answers), "
    "pooled over its runs, that took that long; hover for counts. Dotted lines mark 8 "
    "minutes, 30 minutes and 24 hours, the marks that published studies of Weibo deletions "
    "use.",
    "censorship": "End-of-run shares per scenario, mean over runs (whisker: its 95% "
    "interval, t on the logit scale, where there are several runs). Self-censorship is what "
    "users never said; wrongful removals are the legitimate posts taken down; all removals "
    "and blocks give the scale.",
    "platforms": "Per platform (line style) and scenario (colour), per day: revenue, "
    "compliance cost, fines and profit, and the compliance effort in [0, 1] the platform ran "
    "(fixed by the scenario, or adapted to the fines it expects). Means over the runs only: "
    "bands for every platform would hide the lines.",
    "categories": "What happened to each category of content, as totals of a run, the mean "
    "over the scenario's runs (runs stored before these tables existed are left out; a "
    "scenario with none shows n/a). Posts are all that were made, blocked ones too; "
    "published are those the filter did not block (visible or held). Removals are split by "
    "route: a review of a post the filter flagged or held, a review a user's report brought "
    "about, or the regulator's inspection (sweeps and authors' own deletions are not "
    "modelled yet: 0). Wrongful: legitimate posts blocked or removed. The median minutes to "
    "removal is over the removals of published posts of the category (held posts never "
    "seen have none); n/a where there was none.",
    "cascades": "How far posts spread: a post's cascade size is 1 + the number of times it "
    "was reshared. Each point is the share of all posts (every category, pooled over the "
    "scenario's runs) whose size falls in a bin; the bins double (1, 2, 3-4, 5-8, ...), and "
    "both axes are logarithmic, so a straight falling line is a power law and a line that "
    "bends down fast means posts rarely travel. A regime that deletes or frightens shortens "
    "the tail; most posts are never reshared (size 1). Hover for the counts.",
    "platform_days": "Per platform and day, the mean over the scenario's runs: posts, views "
    "and removals counted over the day; active users (who could use the platform), accounts "
    "and accounts of users with a VPN (on a blocked platform: those who reach it through "
    "one) at the day's end. The last day of a run that stops within a day is a part day "
    "(ticks says how many ticks it holds).",
    "regions": "Per region of the network, the mean over the scenario's runs: users, their "
    "posts, criticism posts and removals of their posts over the run, the removals "
    "referred to the state, service requests made and answered, users punished by the "
    "state and users who saw someone they follow punished, and at the end VPN users and "
    "mean fear, grievance and trust. One region when the network has none.",
    "cohorts": "Users punished by the state, the followers of punished users (who saw the "
    "punishment), and everyone else: a partition of the users. Each cohort's user-days, "
    "posts and criticism posts before and after its event (the end of the tick of a user's "
    "first punishment, of the first punishment they saw, or for everyone else of the run's "
    "first punishment), summed over the scenario's runs, and the rates per user-day from "
    "the sums. A punished user's rate after also falls because punishment suspends them. "
    "Before and after are not matched by time of day: a short 'before' in the night has a "
    "low rate for that reason alone.",
}
"""The "how to read this" note of each section of the report, by section anchor."""


def scenario_colors(scenarios: Sequence[str]) -> dict[str, str]:
    """A distinct colour per scenario, in the given order (colour-blind safe palette)."""
    palette = plotly.colors.qualitative.Safe
    return {s: palette[i % len(palette)] for i, s in enumerate(scenarios)}


def _label(name: object) -> str:
    """A name as Plotly text: Plotly reads tags such as <b> in names, so escape them."""
    return html.escape(str(name), quote=False)


def _translucent(color: str, alpha: float = 0.2) -> str:
    """An "rgb(r, g, b)" or "#rrggbb" colour as rgba with the given opacity."""
    rgb = plotly.colors.convert_colors_to_same_type(color, "rgb")[0][0]
    r, g, b = plotly.colors.unlabel_rgb(rgb)
    return f"rgba({r:.0f}, {g:.0f}, {b:.0f}, {alpha})"


def _layout(fig: go.Figure, height: int, **extra: object) -> go.Figure:
    """Common look; the legend goes below the bottom axis titles (_LEGEND_GAP px down)."""
    area = height - _MARGIN["t"] - _MARGIN["b"]
    settings: dict[str, object] = {
        "template": "plotly_white",
        "height": height,
        "margin": _MARGIN,
        "font": {"family": _FONT, "size": 12},
        "legend": {"orientation": "h", "y": -_LEGEND_GAP / area, "yanchor": "top", "x": 0},
        "hovermode": "x unified",
    }
    fig.update_layout(**{**settings, **extra})
    fig.update_annotations(font_size=13)  # subplot titles
    return fig


def _grid(titles: Sequence[str], cols: int = 3, row_height: int = 210) -> tuple[go.Figure, int]:
    """Small multiples: a figure with a subplot per title, and the height it needs (px)."""
    rows = math.ceil(len(titles) / cols)
    area = rows * row_height + (rows - 1) * _ROW_GAP
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=list(titles),
        horizontal_spacing=0.08,
        vertical_spacing=_ROW_GAP / area if rows > 1 else 0.1,
    )
    return fig, area + _MARGIN["t"] + _MARGIN["b"]


def _cell(i: int, cols: int = 3) -> dict[str, int]:
    return {"row": i // cols + 1, "col": i % cols + 1}


def _note(fig: go.Figure, i: int, text: str, cols: int = 3) -> None:
    """Write `text` in the middle of subplot i (used where nothing was recorded)."""
    ref = fig.get_subplot(**_cell(i, cols))
    fig.add_annotation(  # in paper coordinates: Plotly leaves out the axes of an empty subplot
        text=text,
        x=sum(ref.xaxis.domain) / 2,
        y=sum(ref.yaxis.domain) / 2,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"color": "#888"},
    )


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    """Average consecutive points so that a line has at most _MAX_POINTS points."""
    if len(frame) <= _MAX_POINTS:
        return frame
    bucket = np.arange(len(frame)) * _MAX_POINTS // len(frame)
    return frame.groupby(bucket).mean(numeric_only=True)


def across_runs(
    frame: pd.DataFrame, index: Sequence[str], column: str, kind: str, level: float = LEVEL
) -> pd.DataFrame:
    """Per value of `index`: the mean of `column` over the runs (run_id) and its interval
    (`intervals.interval_rows` with support `kind`), as columns mean, low, high, n; sorted."""
    wide = frame.pivot_table(index=list(index), columns="run_id", values=column, aggfunc="mean",
                             dropna=False, sort=True)  # fmt: skip
    mean, low, high, n = intervals.interval_rows(wide.to_numpy(dtype=float), kind, level)
    return pd.DataFrame({"mean": mean, "low": low, "high": high, "n": n}, index=wide.index)


def _band(
    fig: go.Figure, x: object, low: object, high: object, color: str, group: str, **cell: int
) -> None:
    """A translucent band from `low` to `high` (its lower edge, then the upper edge filled
    down to it); nothing where no point has an interval (a single run)."""
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if not (np.isfinite(lo) & np.isfinite(hi)).any():
        return
    for edge, fill in ((lo, "none"), (hi, "tonexty")):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=edge,
                name=f"{_label(group)} {LEVEL:.0%} interval",
                legendgroup=group,
                showlegend=False,
                mode="lines",
                line={"color": color, "width": 0},
                fill=fill,
                fillcolor=_translucent(color, 0.18),
                hoverinfo="skip",
            ),
            **cell,
        )


def goals_over_time(ts: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """The three goal scores per tick: one line per scenario, the mean over its runs, in a
    band for its interval over the runs (t on the logit scale: scores are in [0, 1])."""
    present = [(c, label) for c, label in GOALS if c in ts.columns]
    if ts.empty or not present:
        return None
    fig, height = _grid([label for _, label in present], cols=3)
    stats = {
        c: across_runs(ts, ["scenario", "t_days"], c, intervals.support(c)) for c, _ in present
    }
    for scenario, color in colors.items():
        if scenario not in stats[present[0][0]].index.get_level_values(0):
            continue
        for i, (column, label) in enumerate(present):
            line = _thin(stats[column].loc[scenario].reset_index())
            _band(fig, line["t_days"], line["low"], line["high"], color, scenario, **_cell(i))
            text = [intervals.text(*v) for v in line[["mean", "low", "high"]].to_numpy()]
            fig.add_trace(
                go.Scatter(
                    x=line["t_days"],
                    y=line["mean"],
                    name=_label(scenario),
                    legendgroup=scenario,
                    showlegend=i == 0,
                    line={"color": color, "width": 2},
                    customdata=text,
                    hovertemplate=f"{label} %{{customdata}}<extra>%{{fullData.name}}</extra>",
                ),
                **_cell(i),
            )
    fig.update_yaxes(range=[0, 1.02])
    fig.update_xaxes(title_text="day", title_standoff=4)
    return _layout(fig, height)


def part_support(part: Part) -> str:
    """The support of a part's daily value (`intervals.KINDS`): shares are in [0, 1], profit
    has either sign, every other flow or level is 0 or more."""
    _, num, _, how = part
    if how in ("ratio", "cumulative"):
        return "unit"
    return "real" if num == "profit" else "nonneg"


def daily(
    frame: pd.DataFrame, parts: Sequence[Part], keys: Sequence[str] = (), bands: bool = False
) -> pd.DataFrame:
    """Each part per run and day (see PARTS), then the mean over runs per scenario and day.

    `frame` needs the columns run_id, scenario, day and ticks_per_day; the result has
    scenario, *keys, x (the middle of the day, in days) and one column per part label (with
    `bands`, also "<label> low" and "<label> high": the interval over the runs, see
    `part_support`). Flows are the day's mean per tick times ticks per day, so a partial last
    day is not shown as a dip. A "cumulative" part is the numerator summed over the run so
    far over the denominator summed so far, at the end of each day.
    """
    by_run = ["scenario", *keys, "run_id"]
    g = frame.groupby([*by_run, "day"], sort=True)
    per_run = pd.DataFrame(index=g.size().index)
    shown: list[Part] = []
    for part in parts:
        label, num, den, how = part
        if num not in frame.columns or (den is not None and den not in frame.columns):
            continue
        shown.append(part)
        if how == "flow":
            per_run[label] = g[num].mean() * g["ticks_per_day"].first()
        elif how == "level":
            per_run[label] = g[num].mean()
        elif how == "cumulative":
            top = g[num].sum().astype(float).groupby(level=by_run, sort=False).cumsum()
            total = g[den].sum().astype(float).groupby(level=by_run, sort=False).cumsum()
            per_run[label] = top / total.where(total > 0)
        else:
            total = g[den].sum().astype(float)
            per_run[label] = g[num].sum() / total.where(total > 0)
    days = ["scenario", *keys, "day"]
    out = per_run.groupby(days, sort=True).mean()
    if bands:
        for part in shown:
            label = part[0]
            wide = per_run[label].unstack("run_id").reindex(out.index)
            _, low, high, _ = intervals.interval_rows(
                wide.to_numpy(dtype=float), part_support(part), LEVEL
            )
            out[f"{label} low"], out[f"{label} high"] = low, high
    out = out.reset_index()
    out["x"] = out["day"] + 0.5
    return out


def parts_over_time(ts: pd.DataFrame, goal: str, colors: dict[str, str]) -> go.Figure | None:
    """Small multiples of one goal's parts (PARTS[goal]) per day, one line per scenario."""
    parts = PARTS[goal]
    if ts.empty:
        return None
    days = daily(ts, parts, bands=True)
    fig, height = _grid([label for label, *_ in parts])
    for i, (label, *_rest) in enumerate(parts):
        if label not in days.columns:
            _note(fig, i, "not recorded")
            continue
        ratio = _rest[2] in ("ratio", "cumulative")
        for scenario, color in colors.items():
            line = days[days["scenario"] == scenario]
            if line.empty:
                continue
            _band(fig, line["x"], line[f"{label} low"], line[f"{label} high"], color, scenario,
                  **_cell(i))  # fmt: skip
            fig.add_trace(
                go.Scatter(
                    x=line["x"],
                    y=line[label],
                    name=_label(scenario),
                    legendgroup=scenario,
                    showlegend=i == 0,
                    mode="lines",
                    line={"color": color, "width": 2},
                    hovertemplate="%{y:" + (".1%" if ratio else ",.4~g") + "}",
                ),
                **_cell(i),
            )
        if ratio:
            fig.update_yaxes(tickformat=_PERCENT_AXIS, rangemode="tozero", **_cell(i))
    fig.update_xaxes(title_text="day", title_standoff=4)
    fig.update_yaxes(rangemode="tozero")
    return _layout(fig, height)


def display_bins(bins: pd.DataFrame) -> pd.DataFrame:
    """Merge [lo_minutes, hi_minutes) bins into the roughly log-spaced DISPLAY_EDGES.

    The simulator counts in one-minute bins up to a day, which would draw as hairlines on a
    log axis. A stored bin goes to the display bin holding its lower edge; a bar spans that
    display bin, widened to its members where they are coarser (but never back over the bar
    before it). Returns lo, hi, count, with
    lo > 0 and finite hi so that the bars can be drawn on a log axis.
    """
    lo = bins["lo_minutes"].to_numpy(float)
    hi = bins["hi_minutes"].to_numpy(float)
    slot = np.searchsorted(DISPLAY_EDGES, lo, side="right") - 1
    frame = pd.DataFrame({"slot": slot, "lo": lo, "hi": hi, "count": bins["count"].to_numpy(float)})
    out = frame.groupby("slot").agg(lo=("lo", "min"), hi=("hi", "max"), count=("count", "sum"))
    edges = np.asarray(DISPLAY_EDGES)
    out["hi"] = np.maximum(out["hi"], edges[out.index + 1])
    slot_lo = np.minimum(out["lo"], edges[out.index])
    out["lo"] = np.maximum(slot_lo, np.concatenate([[0.0], out["hi"].to_numpy()[:-1]]))
    out["lo"] = np.where(out["lo"] > 0, out["lo"], np.minimum(out["hi"], 1.0) / 2)
    out["hi"] = np.where(np.isfinite(out["hi"]), out["hi"], out["lo"] * 2)
    return out.reset_index(drop=True)


def time_distributions(hist: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """Time to removal and to answer: share of items per [lo, hi) minutes bin, log x axis.

    Counts are pooled over a scenario's runs. Dotted lines mark REFERENCE_MINUTES.
    """
    if hist.empty or not hist["count"].fillna(0).gt(0).any():
        return None
    measures = (("minutes_to_removal", "time to removal"), ("minutes_to_answer", "time to answer"))
    fig = make_subplots(rows=1, cols=2, subplot_titles=[t for _, t in measures])
    shown: set[str] = set()
    for i, (measure, _title) in enumerate(measures):
        sub = hist[(hist["measure"] == measure) & (hist["count"] > 0)]
        top = 0.0
        for scenario, color in colors.items():
            bins = display_bins(sub[sub["scenario"] == scenario])
            total = float(bins["count"].sum())
            if total <= 0:
                continue
            lo, hi = bins["lo"].to_numpy(), bins["hi"].to_numpy()
            share = 100 * bins["count"].to_numpy() / total
            top = max(top, float(share.max()))
            outline_x = np.column_stack([lo, lo, hi, hi]).ravel()
            outline_y = np.column_stack([0 * share, share, share, 0 * share]).ravel()
            name = _label(scenario)
            fig.add_trace(
                go.Scatter(
                    x=outline_x,
                    y=outline_y,
                    name=name,
                    legendgroup=scenario,
                    showlegend=scenario not in shown,
                    mode="lines",
                    fill="tozeroy",
                    fillcolor=_translucent(color),
                    line={"color": color, "width": 2},
                    hoverinfo="skip",
                ),
                row=1,
                col=i + 1,
            )
            shown.add(scenario)
            fig.add_trace(
                go.Scatter(
                    x=np.sqrt(lo * hi),
                    y=share,
                    name=f"{name} (n={total:,.0f})",
                    legendgroup=scenario,
                    showlegend=False,
                    mode="markers",
                    marker={"color": color, "size": 6, "opacity": 0},
                    customdata=bins[["lo", "hi", "count"]].to_numpy(),
                    hovertemplate="[%{customdata[0]:,.4~g}, %{customdata[1]:,.4~g}) min: "
                    "%{customdata[2]:,.0f} (%{y:.1f}%)<extra>%{fullData.name}</extra>",
                ),
                row=1,
                col=i + 1,
            )
        if top == 0:
            _note(fig, i, "none recorded", cols=2)
            continue
        for minutes, text in REFERENCE_MINUTES:
            fig.add_trace(
                go.Scatter(
                    x=[minutes, minutes],
                    y=[0, top * 1.12],
                    mode="lines+text",
                    text=["", text],
                    textposition="top right",
                    textfont={"color": "#555", "size": 11},
                    line={"color": "#555", "width": 1, "dash": "dot"},
                    showlegend=False,
                    hoverinfo="skip",
                ),
                row=1,
                col=i + 1,
            )
    fig.update_xaxes(
        type="log", tickvals=_TICKS, ticktext=_TICK_TEXT, title_text="minutes (log scale)"
    )
    fig.update_yaxes(title_text="share of items (%)", rangemode="tozero")
    return _layout(fig, 420, hovermode="closest")


def _size_label(lo: int, hi: int) -> str:
    return f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"


def cascade_distribution(casc: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """Cascade sizes: the share of posts per size bin (powers of two), pooled over a
    scenario's runs and categories, one line per scenario; both axes on a log scale (the
    x axis at each bin's upper edge, labelled with the bin)."""
    if casc.empty or not casc["posts"].fillna(0).gt(0).any():
        return None
    fig = go.Figure()
    bins: dict[int, str] = {}
    for scenario, color in colors.items():
        sub = casc[(casc["scenario"] == scenario) & (casc["posts"] > 0)]
        if sub.empty:
            continue
        pooled = sub.groupby(["lo_size", "hi_size"], sort=True)["posts"].sum().reset_index()
        total = float(pooled["posts"].sum())
        lo = pooled["lo_size"].to_numpy(int)
        hi = pooled["hi_size"].to_numpy(int)
        count = pooled["posts"].to_numpy(float)
        share = count / total
        labels = [_size_label(int(a), int(b)) for a, b in zip(lo, hi, strict=True)]
        bins.update(zip(hi.tolist(), labels, strict=True))
        fig.add_trace(
            go.Scatter(
                x=hi,
                y=share,
                name=_label(scenario),
                mode="lines+markers",
                line={"color": color, "width": 2},
                marker={"color": color, "size": 7},
                customdata=[[text, n] for text, n in zip(labels, count.tolist(), strict=True)],
                hovertemplate="size %{customdata[0]}: %{customdata[1]:,.0f} posts "
                "(%{y:.3~%})<extra>%{fullData.name}</extra>",
            )
        )
    if not bins:
        return None
    ticks = sorted(bins)
    fig.update_xaxes(type="log", tickvals=ticks, ticktext=[bins[t] for t in ticks],
                     title_text="cascade size: 1 + reshares (log scale)")  # fmt: skip
    fig.update_yaxes(type="log", tickformat=_PERCENT_AXIS, title_text="share of posts (log scale)")
    return _layout(fig, 420, hovermode="closest")


def share_bars(summary: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """Self-censorship, wrongful and all removals: one bar per scenario (mean over runs,
    whisker = its interval over the runs, `intervals` with the share's support, where there
    are several runs)."""
    present = [(c, t) for c, t in SHARES if c in summary.columns]
    if summary.empty or not present:
        return None
    fig = make_subplots(rows=1, cols=len(present), subplot_titles=[t for _, t in present])
    grouped = summary.groupby("scenario")
    for i, (column, _title) in enumerate(present):
        stats = {
            s: intervals.interval(pd.to_numeric(v, errors="coerce"), intervals.support(column))
            for s, v in grouped[column]
        }
        names = [s for s in colors if s in stats]
        mean = [stats[s][0] for s in names]
        plus, minus = _whiskers(mean, [stats[s][1] for s in names], [stats[s][2] for s in names])
        fig.add_trace(
            go.Bar(
                x=[_label(s) for s in names],
                y=mean,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": plus,
                    "arrayminus": minus,
                    "visible": True,
                },
                marker_color=[colors[s] for s in names],
                text=[f"{m:.1%}" if pd.notna(m) else "n/a" for m in mean],
                textposition="outside",
                cliponaxis=False,
                showlegend=False,
                customdata=[intervals.text(*stats[s][:3]) for s in names],
                hovertemplate="%{x}: %{customdata}<extra></extra>",
            ),
            row=1,
            col=i + 1,
        )
    fig.update_yaxes(tickformat=_PERCENT_AXIS, rangemode="tozero")
    return _layout(fig, 340, hovermode="closest", margin={**_MARGIN, "b": 60})


def platform_economics(pl: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """Revenue, compliance cost, fines, profit (per day) and effort per platform over time:
    colour = scenario, line style = platform."""
    if pl.empty or "platform" not in pl.columns:
        return None
    days = daily(pl, PLATFORM_PARTS, keys=["platform"])
    fig, height = _grid([label for label, *_ in PLATFORM_PARTS])
    platforms = sorted(days["platform"].unique())
    dash = {p: _DASHES[i % len(_DASHES)] for i, p in enumerate(platforms)}
    order = {s: i for i, s in enumerate(colors)}
    for i, (label, *_rest) in enumerate(PLATFORM_PARTS):
        if label not in days.columns:
            _note(fig, i, "not recorded")
            continue
        groups = days.groupby(["scenario", "platform"], sort=True)
        for (scenario, platform), line in sorted(groups, key=lambda g: (order[g[0][0]], g[0][1])):
            name = _label(f"{scenario} / {platform}")
            color = colors.get(scenario, "#444")
            fig.add_trace(
                go.Scatter(
                    x=line["x"],
                    y=line[label],
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    mode="lines",
                    line={"color": color, "dash": dash[platform], "width": 2},
                    hovertemplate="%{y:,.4~g}",
                ),
                **_cell(i),
            )
    fig.update_xaxes(title_text="day", title_standoff=4)
    return _layout(fig, height)


def _whiskers(mean: object, low: object, high: object) -> tuple[list[Any], list[Any]]:
    """Plotly's asymmetric error arrays (above, below the mean) of intervals; None where a
    value has no interval."""
    m, lo, hi = (np.asarray(a, dtype=float) for a in (mean, low, high))
    ok = np.isfinite(m) & np.isfinite(lo) & np.isfinite(hi)
    plus = np.where(ok, np.maximum(hi - m, 0.0), np.nan)
    minus = np.where(ok, np.maximum(m - lo, 0.0), np.nan)
    return ([None if not math.isfinite(v) else float(v) for v in plus],
            [None if not math.isfinite(v) else float(v) for v in minus])  # fmt: skip


def regimes_radar(
    scores: pd.DataFrame,
    colors: dict[str, str],
    low: pd.DataFrame | None = None,
    high: pd.DataFrame | None = None,
) -> go.Figure | None:
    """The scenarios' mean end-of-run goal scores on order/development/freedom axes in [0, 1].

    `scores` is indexed by scenario with the GOALS score columns; `low` and `high`, shaped
    alike, give each mean's interval: drawn as a radial whisker on each axis and named in
    the hover (`intervals.text`).
    """
    columns = [c for c, _ in GOALS]
    if scores.empty or not set(columns) <= set(scores.columns):
        return None
    labels = [label for _, label in GOALS]
    fig = go.Figure()
    for scenario, color in colors.items():
        if scenario not in scores.index:
            continue
        r = [float(scores.loc[scenario, c]) for c in columns]
        bounds = [
            (
                math.nan if low is None else float(low.loc[scenario, c]),
                math.nan if high is None else float(high.loc[scenario, c]),
            )
            for c in columns
        ]
        text = [intervals.text(m, lo, hi) for m, (lo, hi) in zip(r, bounds, strict=True)]
        fig.add_trace(
            go.Scatterpolar(
                r=[*r, r[0]],
                theta=[*labels, labels[0]],
                name=_label(scenario),
                legendgroup=scenario,
                fill="toself",
                opacity=0.75,
                line={"color": color, "width": 2},
                customdata=[*text, text[0]],
                hovertemplate="%{theta}: %{customdata}<extra>%{fullData.name}</extra>",
            )
        )
        spokes_r: list[float | None] = []
        spokes_theta: list[str | None] = []
        for label, (lo, hi) in zip(labels, bounds, strict=True):
            if math.isfinite(lo) and math.isfinite(hi):
                spokes_r += [lo, hi, None]
                spokes_theta += [label, label, None]
        if spokes_r:
            fig.add_trace(
                go.Scatterpolar(
                    r=spokes_r,
                    theta=spokes_theta,
                    name=f"{_label(scenario)} {LEVEL:.0%} interval",
                    legendgroup=scenario,
                    showlegend=False,
                    mode="lines",
                    line={"color": color, "width": 3},
                    hoverinfo="skip",
                )
            )
    fig.update_layout(polar={"radialaxis": {"range": [0, 1], "tickvals": [0.25, 0.5, 0.75, 1]}})
    return _layout(
        fig,
        440,
        hovermode="closest",
        margin={"l": 60, "r": 60, "t": 40, "b": 40},
        legend={"orientation": "v", "x": 1.0, "xanchor": "left", "y": 1, "yanchor": "top"},
    )


# ---------------------------------------------------------------- experiments

_FRONT_COLOR = "#b2182b"
_OTHER_COLOR = "#9aa3ad"
_PAIRS = ((0, 2), (0, 1), (1, 2))  # order-freedom, order-development, development-freedom
_MAX_SENSITIVITY_PANELS = 9
MAX_WHISKERS = 200
"""The trade-off scatter draws every setting's whiskers up to this many settings; beyond, only
the front's (thousands of crossing whiskers would hide the markers)."""
UNRESOLVED_ON = "on the front, not resolved by the replicates"
UNRESOLVED_OFF = "dominated on the means, not resolved by the replicates"
"""Legend names of the settings whose place the replicates do not settle
(`analysis.front_resolution`)."""

NOTES |= {
    "experiment": "An experiment runs a scenario at many design points: each point sets the "
    "factors (levers a regulator controls, uncertainties it does not) to values from the "
    "design, and runs every point with the same seeds (common random numbers), so points "
    "differ by their settings and not by luck. Notes list what the analysis left out.",
    "tradeoffs": "Each marker is one lever setting: its mean goal scores, averaged over the "
    "uncertainties and replicates, with whiskers for each score's own 95% interval over the "
    "replicates. Red diamonds are the Pareto front: no other setting is at least as good on "
    "all three goals and better on one. Grey settings are beaten by some setting on every "
    "goal at once. Open markers are not resolved by the replicates: a setting on the front "
    "that another setting may still dominate, or one off the front that no setting dominates "
    "for certain; settings are compared replicate by replicate on the same seeds (paired "
    "intervals, much narrower than the whiskers), see docs/analysis.md. Hover for the lever "
    "values. The front is the menu of real trade-offs; every setting on it gives up one goal "
    "for another.",
    "sensitivity": "How much each factor moves each outcome over the whole design. Sobol' "
    "indices: S1 is the share of the outcome's variance due to the factor alone, ST adds its "
    "interactions with the others (ST well above S1: the factor acts through interactions); "
    "whiskers are bootstrap intervals. Morris screening: mu* is the mean absolute effect of "
    "moving the factor across its range (per unit of the normalised range), sigma the spread "
    "of that effect (large: nonlinear or interacting). A factor near zero hardly matters.",
    "differences": "Each lever setting against the base setting (every lever at its first "
    "listed value), paired on the common seeds: replicate by replicate, averaged over the "
    "uncertainties, then the mean difference with its t interval. * marks an interval that "
    "excludes 0.",
    "points": "Every design point: its factor values and, per outcome, the mean over its "
    "replicates with its interval (t on the logit scale for outcomes in [0, 1], clipped at 0 "
    "for outcomes of 0 or more; n = runs with a value). A point without runs (all "
    "failed or not yet run) shows n/a.",
}


def _short(value: object) -> str:
    """A factor value as short hover text."""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "n/a"
    return "n/a" if value is None else str(value)


def tradeoff_pairs(
    pareto: pd.DataFrame, levers: Sequence[str], labels: dict[str, str]
) -> go.Figure | None:
    """The lever settings' mean goal scores in three panels (order-freedom, order-development,
    development-freedom); settings on the Pareto front are red diamonds, the rest grey, open
    markers where the replicates do not resolve the setting's place (column `resolved`).

    `pareto` has the lever columns, the GOALS score columns, a boolean `on_front` and, from
    analysis format 2, `resolved` and each goal's `<goal>_ci_low` / `<goal>_ci_high`
    (whiskers: on every setting up to MAX_WHISKERS settings, else on the front's only);
    `labels` gives each lever path its display name. Hover shows the lever values and the
    three scores with their intervals.
    """
    goals = [c for c, _ in GOALS]
    if pareto.empty or not set(goals) <= set(pareto.columns):
        return None
    names = [label for _, label in GOALS]
    titles = [f"{names[y]} against {names[x]}" for x, y in _PAIRS]
    fig = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.08)
    text = [
        "<br>".join(f"{_label(labels.get(p, p))} = {_label(_short(row[p]))}" for p in levers)
        for row in pareto[list(levers)].to_dict("records")
    ]
    mean = pareto[goals].to_numpy(dtype=float)
    bounds = {}
    for j, g in enumerate(goals):
        lo_hi = [f"{g}_ci_low", f"{g}_ci_high"]
        have = set(lo_hi) <= set(pareto.columns)
        lo, hi = (pareto[c].to_numpy(dtype=float) if have else np.full(len(pareto), np.nan)
                  for c in lo_hi)  # fmt: skip
        bounds[j] = (lo, hi)
    shown = [
        [intervals.text(m, lo, hi) for m, lo, hi in zip(mean[:, j], *bounds[j], strict=True)]
        for j in range(len(goals))
    ]
    custom = np.column_stack([np.asarray(text or [""] * len(pareto), dtype=object),
                              *(np.asarray(c, dtype=object) for c in shown)])  # fmt: skip
    hover = (
        "%{customdata[0]}<br>order %{customdata[1]} · development %{customdata[2]}"
        " · freedom %{customdata[3]}<extra>%{fullData.name}</extra>"
    )
    front = pareto["on_front"].fillna(False).to_numpy(dtype=bool)
    if "resolved" in pareto.columns:
        resolved = pareto["resolved"].fillna(False).to_numpy(dtype=bool)
    else:  # an analysis stored before format 2: no resolution to show
        resolved = np.ones(len(pareto), dtype=bool)
    whiskers = front | (len(pareto) <= MAX_WHISKERS)
    front_line = {"color": "#400", "width": 1}
    groups = (
        (~front & resolved, "dominated", {"color": _OTHER_COLOR, "size": 7, "opacity": 0.7}),
        (~front & ~resolved, UNRESOLVED_OFF,
         {"color": _OTHER_COLOR, "size": 8, "symbol": "circle-open", "line": {"width": 2}}),
        (front & resolved, "on the Pareto front",
         {"color": _FRONT_COLOR, "size": 11, "symbol": "diamond", "line": front_line}),
        (front & ~resolved, UNRESOLVED_ON,
         {"color": _FRONT_COLOR, "size": 11, "symbol": "diamond-open", "line": {"width": 2}}),
    )  # fmt: skip
    for i, (x, y) in enumerate(_PAIRS):
        for mask, name, marker in groups:
            if not mask.any():
                continue
            err = {}
            for axis, j in (("error_x", x), ("error_y", y)):
                plus, minus = _whiskers(mean[mask, j], bounds[j][0][mask], bounds[j][1][mask])
                keep = whiskers[mask]
                err[axis] = {
                    "type": "data",
                    "symmetric": False,
                    "array": [v if k else None for v, k in zip(plus, keep, strict=True)],
                    "arrayminus": [v if k else None for v, k in zip(minus, keep, strict=True)],
                    "thickness": 1,
                    "width": 0,
                    "color": marker["color"],
                    "visible": True,
                }
            fig.add_trace(
                go.Scatter(
                    x=mean[mask, x],
                    y=mean[mask, y],
                    customdata=custom[mask],
                    mode="markers",
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    marker=marker,
                    hovertemplate=hover,
                    **err,
                ),
                row=1,
                col=i + 1,
            )
        fig.update_xaxes(title_text=names[x], row=1, col=i + 1)
        fig.update_yaxes(title_text=names[y], row=1, col=i + 1)
    return _layout(fig, 440, hovermode="closest")


def sensitivity_bars(
    sens: pd.DataFrame, labels: dict[str, str], outcomes: Sequence[str]
) -> go.Figure | None:
    """Per outcome (goals first, at most _MAX_SENSITIVITY_PANELS panels), one bar group per
    factor: S1 and ST (Sobol') or mu* and sigma (Morris), whiskers = SALib's intervals.

    `sens` is sensitivity.parquet (outcome, factor, factor2, method, index, value, conf).
    """
    if sens.empty:
        return None
    method = str(sens["method"].iloc[0])
    indices = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
    names = {"S1": "S1 (alone)", "ST": "ST (with interactions)", "mu_star": "mu* (mean |effect|)",
             "sigma": "sigma (spread of effect)"}  # fmt: skip
    colors = dict(zip(indices, plotly.colors.qualitative.Safe[:2], strict=True))
    present = [o for o in outcomes if o in set(sens["outcome"])]
    shown = present[:_MAX_SENSITIVITY_PANELS]
    if not shown:
        return None
    fig, height = _grid([_label(o) for o in shown], cols=3, row_height=230)
    for i, outcome in enumerate(shown):
        rows = sens[(sens["outcome"] == outcome) & sens["factor2"].isna()]
        for index in indices:
            part = rows[rows["index"] == index]
            fig.add_trace(
                go.Bar(
                    x=[_label(labels.get(f, f)) for f in part["factor"]],
                    y=part["value"],
                    error_y={
                        "type": "data",
                        "array": part["conf"].fillna(0).to_numpy(),
                        "visible": bool(part["conf"].notna().any()),
                    },
                    name=names[index],
                    legendgroup=index,
                    showlegend=i == 0,
                    marker_color=colors[index],
                    hovertemplate="%{x}: %{y:.3f}<extra>" + names[index] + "</extra>",
                ),
                **_cell(i),
            )
    fig.update_layout(barmode="group")
    if method == "sobol":
        fig.update_yaxes(rangemode="tozero")
    return _layout(fig, height, hovermode="closest")


MORRIS_TOP = 15
"""Settings shown per goal in the Morris ranking (the table under it lists them all)."""


def morris_ranking(
    sens: pd.DataFrame, labels: dict[str, str], goals: Sequence[str], top: int = MORRIS_TOP
) -> go.Figure | None:
    """The Morris ranking: per goal (one panel each, stacked), the `top` factors by mu*
    (mean absolute elementary effect), largest first, as horizontal bars with SALib's
    bootstrap interval as whiskers, and sigma (the spread of the effects: interactions or
    non-linearity) as a marker on the same axis.

    `sens` is sensitivity.parquet (outcome, factor, factor2, method, index, value, conf).
    None when there are no Morris indices for any of the goals."""
    if sens.empty or str(sens["method"].iloc[0]) != "morris":
        return None
    shown = [g for g in goals if g in set(sens["outcome"])]
    if not shown:
        return None
    frames: list[pd.DataFrame] = []
    for goal in shown:
        rows = sens[sens["outcome"] == goal]
        mu = rows[rows["index"] == "mu_star"].set_index("factor")
        sigma = rows[rows["index"] == "sigma"].set_index("factor")["value"]
        frame = pd.DataFrame({"mu_star": mu["value"], "conf": mu["conf"]})
        frame["sigma"] = sigma.reindex(frame.index)
        frame = frame.sort_values("mu_star", ascending=False, kind="stable").head(top)
        frames.append(frame.iloc[::-1])  # largest at the top of the panel
    bars = max(len(f) for f in frames)
    row_height = 18 * bars + 40
    gap = 70
    area = len(shown) * row_height + (len(shown) - 1) * gap
    fig = make_subplots(
        rows=len(shown), cols=1, subplot_titles=[_label(g) for g in shown],
        vertical_spacing=gap / area if len(shown) > 1 else 0.1,
    )  # fmt: skip
    colors = plotly.colors.qualitative.Safe
    for i, frame in enumerate(frames):
        names = [_label(labels.get(f, f)) for f in frame.index]
        conf = frame["conf"].fillna(0).to_numpy()
        down = np.minimum(conf, frame["mu_star"].to_numpy())  # mu* >= 0: the whisker stops at 0
        shown_conf = bool(frame["conf"].notna().any())
        fig.add_trace(
            go.Bar(
                x=frame["mu_star"], y=names, orientation="h", name="mu* (mean |effect|)",
                error_x={"type": "data", "array": conf, "visible": shown_conf,
                         "symmetric": False, "arrayminus": down},
                marker_color=colors[0], legendgroup="mu_star", showlegend=i == 0,
                hovertemplate="%{y}: mu* %{x:.4g}<extra></extra>",
            ),
            row=i + 1, col=1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=frame["sigma"], y=names, mode="markers", name="sigma (spread of the effect)",
                marker={"symbol": "diamond", "size": 8, "color": colors[1]},
                legendgroup="sigma", showlegend=i == 0,
                hovertemplate="%{y}: sigma %{x:.4g}<extra></extra>",
            ),
            row=i + 1, col=1,
        )  # fmt: skip
        fig.update_xaxes(rangemode="tozero", row=i + 1, col=1)
        fig.update_yaxes(automargin=True, tickfont={"size": 11}, row=i + 1, col=1)
    fig.update_xaxes(title_text="change of the score over the setting's range (Morris "
                     "elementary effect)", row=len(shown), col=1)  # fmt: skip
    return _layout(fig, area + _MARGIN["t"] + _MARGIN["b"], hovermode="closest")
