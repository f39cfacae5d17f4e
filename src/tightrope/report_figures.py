"""The Plotly figures of the HTML report (`report.py`), one function per chart.

Every function takes tidy pandas frames that `report.py` read from a results folder and a
colour per scenario, and returns a `plotly.graph_objects.Figure`, or None when the runs hold
nothing to draw. Lines are the mean over a scenario's runs. No figure uses geo or map
traces: those would fetch topojson or map tiles, and the report must work offline.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

GOALS: tuple[tuple[str, str], ...] = (
    ("order_score", "order"),
    ("development_score", "development"),
    ("freedom_score", "freedom"),
)
"""Score column and axis label of each goal."""

# A part: (label, numerator column, denominator column or None, how a day is summarised).
# "flow" is a count per tick, shown per day; "level" is a stock, shown as the day's mean;
# a ratio is the day's sum of the numerator over the day's sum of the denominator.
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
        ("answered share of requests", "answered", "requests", "ratio"),
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
    ("order", ("harm_views_per_user", "rumor_views_per_user", "incidents", "regulator_violations",
               "bad_actors_active")),
    ("development", ("active_share", "active_users", "views_per_user_day", "views", "posts",
                     "reshares", "revenue", "compliance_cost", "fines", "profit", "profit_margin")),
    ("freedom", ("intents", "self_censored_share", "criticism_views_per_user", "removed_share",
                 "wrongful_removal_share", "wrongful_share_of_removals", "published_deleted_share",
                 "blocked_share", "held_share", "held_never_published_share",
                 "median_minutes_to_removal", "deleted_within_8min_share",
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
    "run": "Each run simulates one scenario with one seed; the charts show the mean over a "
    "scenario's runs. The config hash names the exact settings: the same hash and seed give "
    "the same results, to the bit.",
    "summary": "End-of-run figures, mean over the scenario's runs (± the standard deviation "
    "where there are several). Goal scores are in [0, 1], higher meets that goal better; "
    "balance says how evenly the three are met, tilt names the goal that loses. The scores "
    "summarise the parts listed below them: read the parts too.",
    "compare": "Each regime's three end-of-run scores on one triangle (axes in [0, 1], "
    "further out is better). A large, even shape meets the goals evenly (balance); the short "
    "axis is the tilt. Paired differences compare each scenario with the baseline on the same "
    "seeds, which removes most of the seed noise.",
    "goals": "Each goal's score after every tick, computed from the run so far (so early "
    "values swing more). One line per scenario, the mean over its runs. No regime holds all "
    "three at 1: watch which goal a regime gives up, and when.",
    "order": "The order score combines harm views per user, rumour views per user and "
    "incidents per 30 days; here they are per day, with the prohibited posts the regulator "
    "found in its checks (which also depend on how much it inspects). Less of each is more "
    "order.",
    "development": "The development score combines the share of users still active, views "
    "per user and day, and the platforms' profit margin. Here, summed over platforms and per "
    "day: active users, views, revenue, what governance costs the companies (compliance: "
    "reviewers and filters; fines) and their profit.",
    "freedom": "Self-censored share: intents to post that users suppressed, over all intents. "
    "Wrongful removals: removed posts that the evaluation baseline counts as legitimate, "
    "judged apart from the regime's own rules. Answered share: citizens' requests answered by "
    "officials, over requests made. Criticism views: the reach of criticism of officials. VPN "
    "users: people reaching blocked platforms. The score combines the first four with access "
    "to blocked platforms.",
    "times": "Minutes from posting to removal, and from a citizen's request to an official "
    "answer, on a log scale. Each bar is the share of the scenario's removals (or answers), "
    "pooled over its runs, that took that long; hover for counts. Dotted lines mark 8 "
    "minutes, 30 minutes and 24 hours, the marks that published studies of Weibo deletions "
    "use.",
    "censorship": "End-of-run shares per scenario, mean over runs (whisker: one standard "
    "deviation where there are several runs). Self-censorship is what users never said; "
    "wrongful removals are the legitimate posts taken down; all removals and blocks give the "
    "scale.",
    "platforms": "Per platform (line style) and scenario (colour), per day: revenue, "
    "compliance cost, fines and profit, and the compliance effort in [0, 1] the platform ran "
    "(fixed by the scenario, or adapted to the fines it expects).",
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


def goals_over_time(ts: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """The three goal scores per tick: one line per scenario, mean over its runs."""
    present = [(c, label) for c, label in GOALS if c in ts.columns]
    if ts.empty or not present:
        return None
    fig, height = _grid([label for _, label in present], cols=3)
    means = ts.groupby(["scenario", "t_days"], sort=True)[[c for c, _ in present]].mean()
    for scenario, color in colors.items():
        if scenario not in means.index.get_level_values(0):
            continue
        line = _thin(means.loc[scenario].reset_index())
        for i, (column, label) in enumerate(present):
            fig.add_trace(
                go.Scatter(
                    x=line["t_days"],
                    y=line[column],
                    name=_label(scenario),
                    legendgroup=scenario,
                    showlegend=i == 0,
                    line={"color": color, "width": 2},
                    hovertemplate=f"{label} %{{y:.3f}}<extra>%{{fullData.name}}</extra>",
                ),
                **_cell(i),
            )
    fig.update_yaxes(range=[0, 1.02])
    fig.update_xaxes(title_text="day", title_standoff=4)
    return _layout(fig, height)


def daily(frame: pd.DataFrame, parts: Sequence[Part], keys: Sequence[str] = ()) -> pd.DataFrame:
    """Each part per run and day (see PARTS), then the mean over runs per scenario and day.

    `frame` needs the columns run_id, scenario, day and ticks_per_day; the result has
    scenario, *keys, x (the middle of the day, in days) and one column per part label.
    Flows are the day's mean per tick times ticks per day, so a partial last day is not
    shown as a dip.
    """
    group = ["scenario", *keys, "run_id", "day"]
    g = frame.groupby(group, sort=True)
    out = pd.DataFrame(index=g.size().index)
    for label, num, den, how in parts:
        if num not in frame.columns or (den is not None and den not in frame.columns):
            continue
        if how == "flow":
            out[label] = g[num].mean() * g["ticks_per_day"].first()
        elif how == "level":
            out[label] = g[num].mean()
        else:
            total = g[den].sum().astype(float)
            out[label] = g[num].sum() / total.where(total > 0)
    out = out.groupby(["scenario", *keys, "day"], sort=True).mean().reset_index()
    out["x"] = out["day"] + 0.5
    return out


def parts_over_time(ts: pd.DataFrame, goal: str, colors: dict[str, str]) -> go.Figure | None:
    """Small multiples of one goal's parts (PARTS[goal]) per day, one line per scenario."""
    parts = PARTS[goal]
    if ts.empty:
        return None
    days = daily(ts, parts)
    fig, height = _grid([label for label, *_ in parts])
    for i, (label, *_rest) in enumerate(parts):
        if label not in days.columns:
            _note(fig, i, "not recorded")
            continue
        ratio = _rest[2] == "ratio"
        for scenario, color in colors.items():
            line = days[days["scenario"] == scenario]
            if line.empty:
                continue
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


def share_bars(summary: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """Self-censorship, wrongful and all removals: one bar per scenario (mean over runs,
    whisker = one standard deviation where there are several runs)."""
    present = [(c, t) for c, t in SHARES if c in summary.columns]
    if summary.empty or not present:
        return None
    fig = make_subplots(rows=1, cols=len(present), subplot_titles=[t for _, t in present])
    grouped = summary.groupby("scenario")
    for i, (column, _title) in enumerate(present):
        mean, std = grouped[column].mean(), grouped[column].std()
        names = [s for s in colors if s in mean.index]
        fig.add_trace(
            go.Bar(
                x=[_label(s) for s in names],
                y=[mean[s] for s in names],
                error_y={"type": "data", "array": [std[s] for s in names], "visible": True},
                marker_color=[colors[s] for s in names],
                text=[f"{mean[s]:.1%}" if pd.notna(mean[s]) else "n/a" for s in names],
                textposition="outside",
                cliponaxis=False,
                showlegend=False,
                hovertemplate="%{x}: %{y:.2%}<extra></extra>",
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


def regimes_radar(scores: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """The scenarios' mean end-of-run goal scores on order/development/freedom axes in [0, 1].

    `scores` is indexed by scenario with the GOALS score columns.
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
        fig.add_trace(
            go.Scatterpolar(
                r=[*r, r[0]],
                theta=[*labels, labels[0]],
                name=_label(scenario),
                fill="toself",
                opacity=0.75,
                line={"color": color, "width": 2},
                hovertemplate="%{theta}: %{r:.3f}<extra>%{fullData.name}</extra>",
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

NOTES |= {
    "experiment": "An experiment runs a scenario at many design points: each point sets the "
    "factors (levers a regulator controls, uncertainties it does not) to values from the "
    "design, and runs every point with the same seeds (common random numbers), so points "
    "differ by their settings and not by luck. Notes list what the analysis left out.",
    "tradeoffs": "Each marker is one lever setting: its mean goal scores, averaged over the "
    "uncertainties and replicates. Red diamonds are the Pareto front: no other setting is at "
    "least as good on all three goals and better on one. Grey settings are beaten by some "
    "setting on every goal at once. Hover for the lever values. The front is the menu of "
    "real trade-offs; every setting on it gives up one goal for another.",
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
    "replicates with the t interval (n = runs with a value). A point without runs (all "
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
    development-freedom); settings on the Pareto front are red diamonds, the rest grey.

    `pareto` has the lever columns, the GOALS score columns and a boolean `on_front`;
    `labels` gives each lever path its display name. Hover shows the lever values and the
    three scores.
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
    custom = np.column_stack(
        [np.asarray(text or [""] * len(pareto), dtype=object), pareto[goals].to_numpy(dtype=float)]
    )
    hover = (
        "%{customdata[0]}<br>order %{customdata[1]:.3f} · development %{customdata[2]:.3f}"
        " · freedom %{customdata[3]:.3f}<extra>%{fullData.name}</extra>"
    )
    front = pareto["on_front"].fillna(False).to_numpy(dtype=bool)
    groups = (
        (~front, "dominated", {"color": _OTHER_COLOR, "size": 7, "opacity": 0.7}),
        (front, "on the Pareto front", {"color": _FRONT_COLOR, "size": 11, "symbol": "diamond",
                                        "line": {"color": "#400", "width": 1}}),
    )  # fmt: skip
    for i, (x, y) in enumerate(_PAIRS):
        for mask, name, marker in groups:
            if not mask.any():
                continue
            fig.add_trace(
                go.Scatter(
                    x=pareto[goals[x]].to_numpy()[mask],
                    y=pareto[goals[y]].to_numpy()[mask],
                    customdata=custom[mask],
                    mode="markers",
                    name=name,
                    legendgroup=name,
                    showlegend=i == 0,
                    marker=marker,
                    hovertemplate=hover,
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
