"""The explorer's charts: the report's Plotly figures, drawn from the rows runs streamed so
far, or from a stored results folder.

Rows become the same tidy frames the report reads from a results folder (a `run_id`, a
`scenario` label and the time columns `t_days`, `day`, `ticks_per_day`), so the page shows
the report's own figures (`tightrope.report.figures`): the three goals with their bands,
each goal's parts per day, time to removal and to answer; plus what only a live page has:
the difference from the first regime with its interval, more of the freedom and order
views, active users per platform, and the trade-off of every finished run with the Pareto
front.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from tightrope.explorer.runs import RunState
from tightrope.report import figures
from tightrope.results import intervals
from tightrope.results.result import HISTOGRAM_COLUMNS, PLATFORM_COLUMNS, TIMESERIES_COLUMNS

GOAL_NAMES: tuple[tuple[str, str], ...] = figures.GOALS

MORE_PARTS: tuple[figures.Part, ...] = (
    ("removals / day", "removed", None, "flow"),
    ("wrongful removals / day", "wrongful_removed", None, "flow"),
    ("self-censored share of intents", "self_censored", "intents", "ratio"),
    ("requests / day", "requests", None, "flow"),
    ("answered share of requests so far", "answered", "requests", "cumulative"),
    ("VPN share of users", "vpn_users", "users", "ratio"),
    ("harm views / day", "harm_views", None, "flow"),
    ("rumour views / day", "rumor_views", None, "flow"),
    ("incidents / day", "incidents", None, "flow"),
)
"""The live views beside the goals: removals and wrongful removals, self-censorship,
requests and answers, VPN share, harm and rumour views, incidents."""

_HEIGHT = 300


def timed(frame: pd.DataFrame, tick_minutes: float) -> pd.DataFrame:
    """The time columns the report's figures use: t_days (end of tick), day, ticks_per_day."""
    per_day = 1440 / tick_minutes
    tick = frame["tick"].astype(float)
    return frame.assign(t_days=(tick + 1) / per_day, day=tick // per_day, ticks_per_day=per_day)


def timeseries(runs: Sequence[RunState]) -> pd.DataFrame:
    """The streamed rows of runs as one frame (run_id, scenario, users and the time columns)."""
    frames = []
    for r in runs:
        if not r.rows:
            continue
        f = pd.DataFrame(r.rows, columns=list(TIMESERIES_COLUMNS))
        f = f.assign(run_id=r.spec.key, scenario=r.spec.label, users=float(r.spec.users))
        frames.append(timed(f, r.tick_minutes))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def platforms(runs: Sequence[RunState]) -> pd.DataFrame:
    """The streamed platform rows of runs as one frame."""
    frames = []
    for r in runs:
        if not r.platform_rows:
            continue
        f = pd.DataFrame(r.platform_rows, columns=list(PLATFORM_COLUMNS))
        frames.append(timed(f.assign(run_id=r.spec.key, scenario=r.spec.label), r.tick_minutes))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def histograms(runs: Sequence[RunState]) -> pd.DataFrame:
    """The queue-time histograms of finished runs."""
    rows = [dict(h, scenario=r.spec.label, run_id=r.spec.key) for r in runs for h in r.histograms]
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=[*HISTOGRAM_COLUMNS, "scenario"])


def empty(title: str, text: str) -> go.Figure:
    """A figure that says why there is nothing to draw yet."""
    fig = go.Figure()
    fig.add_annotation(text=text, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=160,
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def titled(fig: go.Figure | None, title: str, why: str) -> go.Figure:
    if fig is None:
        return empty(title, why)
    fig.update_layout(title={"text": title, "x": 0, "font": {"size": 15}})
    fig.update_layout(margin={"t": 80})
    return fig


def parts_grid(
    ts: pd.DataFrame, parts: Sequence[figures.Part], colors: dict[str, str]
) -> go.Figure | None:
    """Small multiples of parts per day, one line per regime with its band (as the report's
    `parts_over_time`, for any list of parts)."""
    if ts.empty:
        return None
    days = figures.daily(ts, parts, bands=True)
    cols = 3
    rows = math.ceil(len(parts) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[p[0] for p in parts],
        horizontal_spacing=0.08,
        vertical_spacing=0.18,
    )
    for i, (label, _num, _den, how) in enumerate(parts):
        cell = {"row": i // cols + 1, "col": i % cols + 1}
        if label not in days.columns:
            continue
        for scenario, color in colors.items():
            line = days[days["scenario"] == scenario]
            if line.empty:
                continue
            _band(fig, line["x"], line[f"{label} low"], line[f"{label} high"], color, cell)
            fig.add_trace(
                go.Scatter(
                    x=line["x"],
                    y=line[label],
                    name=scenario,
                    legendgroup=scenario,
                    showlegend=i == 0,
                    mode="lines+markers",
                    line={"color": color, "width": 2},
                    marker={"size": 4},
                ),
                **cell,
            )
        if how in ("ratio", "cumulative"):
            fig.update_yaxes(tickformat=".2~%", **cell)
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(title_text="day", title_standoff=2)
    fig.update_layout(
        template="plotly_white",
        height=230 * rows + 120,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.12},
    )
    return fig


def _band(fig: go.Figure, x: Any, low: Any, high: Any, color: str, cell: dict[str, int]) -> None:
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if not (np.isfinite(lo) & np.isfinite(hi)).any():
        return
    fill = figures._translucent(color, 0.18)
    for edge, how in ((lo, "none"), (hi, "tonexty")):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=edge,
                mode="lines",
                line={"width": 0, "color": color},
                fill=how,
                fillcolor=fill,
                showlegend=False,
                hoverinfo="skip",
            ),
            **cell,
        )


def differences(
    ts: pd.DataFrame, labels: Sequence[str], colors: dict[str, str]
) -> go.Figure | None:
    """Each goal of each regime minus the first regime's, tick by tick, paired replicate by
    replicate (common random numbers): the mean difference with its 95% t interval."""
    if ts.empty or len(labels) < 2:
        return None
    ts = ts.assign(rep=ts["run_id"].str.rsplit(":", n=1).str[-1])
    names = [name for _, name in GOAL_NAMES]
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=[f"{n}: difference" for n in names], horizontal_spacing=0.08
    )
    base = ts[ts["scenario"] == labels[0]]
    drawn = False
    for j, (column, _name) in enumerate(GOAL_NAMES):
        b = base.pivot_table(index="t_days", columns="rep", values=column)
        for label in labels[1:]:
            other = ts[ts["scenario"] == label]
            if other.empty or b.empty:
                continue
            o = other.pivot_table(index="t_days", columns="rep", values=column)
            common = o.columns.intersection(b.columns)
            idx = o.index.intersection(b.index)
            if not len(common) or not len(idx):
                continue
            diff = o.loc[idx, common].to_numpy(float) - b.loc[idx, common].to_numpy(float)
            mean, low, high, _ = intervals.interval_rows(diff, "real")
            cell = {"row": 1, "col": j + 1}
            _band(fig, idx, low, high, colors[label], cell)
            fig.add_trace(
                go.Scatter(
                    x=idx,
                    y=mean,
                    name=f"{label} − {labels[0]}",
                    legendgroup=label,
                    showlegend=j == 0,
                    mode="lines",
                    line={"color": colors[label], "width": 2},
                ),
                **cell,
            )
            drawn = True
    if not drawn:
        return None
    fig.add_hline(y=0, line={"color": "#888", "width": 1, "dash": "dot"})
    fig.update_xaxes(title_text="day", title_standoff=2)
    fig.update_layout(
        template="plotly_white",
        height=_HEIGHT + 40,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def active_by_platform(pl: pd.DataFrame, colors: dict[str, str]) -> go.Figure | None:
    """Active users per platform over time (the mean over a regime's runs)."""
    if pl.empty:
        return None
    names = list(dict.fromkeys(pl["platform"]))
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, horizontal_spacing=0.06)
    mean = pl.groupby(["scenario", "platform", "t_days"], sort=True)["active_users"].mean()
    for j, name in enumerate(names):
        for scenario, color in colors.items():
            if (scenario, name) not in mean.index.droplevel(2):
                continue
            line = mean.loc[(scenario, name)]
            fig.add_trace(
                go.Scatter(
                    x=line.index,
                    y=line.to_numpy(),
                    name=scenario,
                    legendgroup=scenario,
                    showlegend=j == 0,
                    mode="lines",
                    line={"color": color, "width": 2},
                ),
                row=1,
                col=j + 1,
            )
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(title_text="day", title_standoff=2)
    fig.update_layout(
        template="plotly_white",
        height=_HEIGHT,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.3},
    )
    return fig


def pareto_frame(points: pd.DataFrame) -> pd.DataFrame:
    """Runs' (or settings') goal scores with `on_front`: the Pareto front among them
    (`analysis.pareto_front`: no other is at least as good on all three and better on one)."""
    from tightrope.experiments.analysis import pareto_front

    goals = [c for c, _ in GOAL_NAMES]
    if points.empty:
        return points.assign(on_front=pd.Series(dtype=bool))
    front = pareto_front(points[goals].to_numpy(dtype=float))
    return points.assign(on_front=front)


def run_points(runs: Sequence[RunState]) -> pd.DataFrame:
    """One row per finished run: its regime, seed and three goal scores."""
    goals = [c for c, _ in GOAL_NAMES]
    rows = []
    for r in runs:
        if r.summary is None:
            continue
        row = {"regime": r.spec.label, "seed": r.spec.seed}
        row |= {g: _float(r.summary.get(g)) for g in goals}
        rows.append(row)
    return pd.DataFrame(rows, columns=["regime", "seed", *goals])


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def tradeoffs(points: pd.DataFrame, keys: Sequence[str]) -> go.Figure | None:
    """The report's trade-off panels over `points` (one marker per run or setting), with the
    Pareto front among them."""
    if points.empty:
        return None
    frame = pareto_frame(points)
    return figures.tradeoff_pairs(frame, list(keys), {k: k for k in keys})


def live_figures(
    runs: Sequence[RunState], finished: Sequence[RunState], labels: Sequence[str]
) -> dict[str, go.Figure]:
    """Every chart of the page for a batch's runs so far and the session's finished runs."""
    colors = figures.scenario_colors(list(labels))
    ts = timeseries(runs)
    wait = "Press Start: the charts grow as the runs go."
    out = {
        "goals": titled(
            figures.goals_over_time(ts, colors) if not ts.empty else None,
            "The three goals (0 to 1, higher is better)",
            wait,
        ),
        "differences": titled(
            differences(ts, labels, colors),
            f"Difference from the first regime, paired on the seeds "
            f"({labels[0] if labels else 'none'})",
            "Choose two regimes or more to see their differences.",
        ),
        "more": titled(
            parts_grid(ts, MORE_PARTS, colors),
            "Removals, self-censorship, requests, VPNs, harm and incidents",
            wait,
        ),
        "platforms": titled(
            active_by_platform(platforms(runs), colors), "Active users per platform", wait
        ),
    }
    for goal in ("order", "development", "freedom"):
        fig = figures.parts_over_time(ts, goal, colors) if not ts.empty else None
        out[goal] = titled(fig, f"{goal.capitalize()}: its parts per day", wait)
    hist = histograms([r for r in runs if r.summary is not None])
    fig = figures.time_distributions(hist, colors) if not hist.empty else None
    out["times"] = titled(
        fig, "Time to removal and to answer (finished runs)", "Shown when a run has finished."
    )
    points = run_points(finished)
    out["tradeoffs"] = titled(
        tradeoffs(points, ["regime", "seed"]),
        f"Trade-offs: {len(points)} finished run(s) on this page, Pareto front in red",
        "Each finished run is a point here.",
    )
    return out


def stored_figures(folder: str | Path) -> tuple[dict[str, go.Figure], str]:
    """The views of a stored results folder (from `compare`, `experiment` or `run --out`):
    its trade-offs with the Pareto front and, for runs, the goals over time; and a line
    saying what it holds. InputError when it cannot be read."""
    from tightrope.errors import InputError
    from tightrope.report.html import is_experiment, load_results

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InputError(f"results folder not found: {root}")
    if is_experiment(root):
        from tightrope.experiments.analysis import analyze, short_names

        an = analyze(root, write=False)
        pareto = an.pareto.to_pandas()
        fig = figures.tradeoff_pairs(pareto, an.levers, short_names(an.levers))
        on = int(pareto["on_front"].fillna(False).sum()) if not pareto.empty else 0
        text = f"{root}: an experiment, {len(pareto)} lever setting(s), {on} on the Pareto front"
        return {
            "tradeoffs": titled(
                fig,
                "Trade-offs of the stored experiment",
                "No lever setting has all three goal means.",
            )
        }, text
    res = load_results(root)
    colors = figures.scenario_colors(res.scenarios)
    summary = res.summary
    goals = [c for c, _ in GOAL_NAMES]
    points = summary.assign(regime=summary["scenario"])[["regime", "seed", *goals]]
    frame = pareto_frame(points)
    text = (
        f"{root}: {len(summary)} run(s) of {len(res.scenarios)} regime(s), "
        f"{int(frame['on_front'].sum())} on the Pareto front"
    )
    out = {
        "tradeoffs": titled(
            tradeoffs(points, ["regime", "seed"]),
            "Trade-offs of the stored runs",
            "No run has all three goals.",
        ),
        "goals": titled(
            figures.goals_over_time(res.timeseries, colors) if not res.timeseries.empty else None,
            "The three goals of the stored runs",
            "No time series stored.",
        ),
    }
    return out, text
