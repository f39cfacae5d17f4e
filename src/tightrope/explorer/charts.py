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


def note(title: str, text: str) -> dict[str, Any]:
    """`empty` as a plain figure (JSON-ready)."""
    return {
        "data": [],
        "layout": {
            "title": {"text": title, "x": 0, "font": {"size": 15}},
            "height": 160,
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "annotations": [
                {
                    "text": text,
                    "showarrow": False,
                    "x": 0.5,
                    "y": 0.5,
                    "xref": "paper",
                    "yref": "paper",
                }
            ],
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
        },
    }


def titled(fig: go.Figure | None, title: str, why: str) -> go.Figure:
    """A report figure with a page title, or a note saying why there is none."""
    if fig is None:
        return empty(title, why)
    fig.update_layout(title={"text": title, "x": 0, "font": {"size": 15}})
    fig.update_layout(margin={"t": 80})
    return fig


# Live charts are built as plain Plotly JSON: the report's figures are built through
# plotly.graph_objects, whose validation takes about a second a page, too slow to redraw
# while runs go. They show the same things in the same way: the mean of a regime's runs as
# a line, its 95% interval over the runs as a band (tightrope.results.intervals).

_AXIS = {"gridcolor": "#ebebeb", "zeroline": False, "linecolor": "#bbb", "automargin": True}


class Grid:
    """A plain figure of small multiples: a cell per title, `cols` to a row."""

    def __init__(
        self, title: str, titles: Sequence[str], cols: int = 3, row_height: int = 210
    ) -> None:
        self.cols = cols
        rows = max(1, math.ceil(len(titles) / cols))
        self.height = rows * row_height + (rows - 1) * 70 + 150
        gap_x, gap_y = 0.07, 70 / max(1, self.height - 150)
        width = (1 - gap_x * (cols - 1)) / cols
        cell_h = (1 - gap_y * (rows - 1)) / rows
        self.data: list[dict[str, Any]] = []
        self.layout: dict[str, Any] = {
            "title": {"text": title, "x": 0, "font": {"size": 15}},
            "height": self.height,
            "margin": {"t": 80, "b": 40, "l": 60, "r": 20},
            "paper_bgcolor": "white",
            "plot_bgcolor": "white",
            "hovermode": "x unified",
            "legend": {
                "orientation": "h",
                "yref": "container",
                "y": 1,
                "yanchor": "top",
                "x": 1,
                "xanchor": "right",
            },
            "font": {"size": 12},
            "annotations": [],
        }
        for i, text in enumerate(titles):
            r, c = divmod(i, cols)
            x0 = c * (width + gap_x)
            y1 = 1 - r * (cell_h + gap_y)
            k = "" if i == 0 else str(i + 1)
            self.layout[f"xaxis{k}"] = {
                **_AXIS,
                "domain": [x0, x0 + width],
                "anchor": f"y{k}",
                "title": {"text": "day", "standoff": 2},
            }
            self.layout[f"yaxis{k}"] = {
                **_AXIS,
                "domain": [y1 - cell_h, y1],
                "anchor": f"x{k}",
                "rangemode": "tozero",
            }
            self.layout["annotations"].append(
                {
                    "text": text,
                    "x": x0 + width / 2,
                    "y": y1,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"size": 13},
                }
            )

    @staticmethod
    def _axes(i: int) -> dict[str, str]:
        k = "" if i == 0 else str(i + 1)
        return {"xaxis": f"x{k}", "yaxis": f"y{k}"}

    def line(self, i: int, x: Any, y: Any, name: str, color: str, legend: bool) -> None:
        self.data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": _list(x),
                "y": _list(y),
                "name": name,
                "legendgroup": name,
                "showlegend": legend,
                "line": {"color": color, "width": 2},
                **self._axes(i),
            }
        )

    def band(self, i: int, x: Any, low: Any, high: Any, color: str, name: str) -> None:
        lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        if not (np.isfinite(lo) & np.isfinite(hi)).any():
            return
        fill = figures._translucent(color, 0.18)
        for edge, how in ((lo, "none"), (hi, "tonexty")):
            self.data.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": _list(x),
                    "y": _list(edge),
                    "line": {"width": 0, "color": color},
                    "fill": how,
                    "fillcolor": fill,
                    "showlegend": False,
                    "hoverinfo": "skip",
                    "legendgroup": name,
                    **self._axes(i),
                }
            )

    def percent(self, i: int) -> None:
        self.layout["yaxis" + ("" if i == 0 else str(i + 1))]["tickformat"] = ".2~%"

    def figure(self) -> dict[str, Any]:
        return {"data": self.data, "layout": self.layout}


def _list(values: Any) -> list[Any]:
    """Values as a JSON list (NaN as null)."""
    arr = np.asarray(values, dtype=float)
    return [None if not math.isfinite(v) else v for v in arr.tolist()]


def goals_live(ts: pd.DataFrame, colors: dict[str, str], title: str) -> dict[str, Any] | None:
    """The three goal scores per tick: the mean over a regime's runs in its band (as the
    report's `goals_over_time`)."""
    if ts.empty:
        return None
    grid = Grid(title, [name for _, name in GOAL_NAMES])
    for i, (column, _name) in enumerate(GOAL_NAMES):
        stats = figures.across_runs(ts, ["scenario", "t_days"], column, intervals.support(column))
        for scenario, color in colors.items():
            if scenario not in stats.index.get_level_values(0):
                continue
            line = stats.loc[scenario]
            x = line.index.to_numpy(dtype=float)
            grid.band(i, x, line["low"], line["high"], color, scenario)
            grid.line(i, x, line["mean"], scenario, color, i == 0)
        grid.layout["yaxis" + ("" if i == 0 else str(i + 1))]["range"] = [0, 1.02]
    return grid.figure()


def parts_live(
    ts: pd.DataFrame, parts: Sequence[figures.Part], colors: dict[str, str], title: str
) -> dict[str, Any] | None:
    """Parts per day, one line per regime in its band (as the report's `parts_over_time`,
    for any list of parts: `figures.daily` computes them)."""
    if ts.empty:
        return None
    days = figures.daily(ts, parts, bands=True)
    grid = Grid(title, [p[0] for p in parts])
    for i, (label, _num, _den, how) in enumerate(parts):
        if label not in days.columns:
            continue
        for scenario, color in colors.items():
            line = days[days["scenario"] == scenario]
            if line.empty:
                continue
            grid.band(i, line["x"], line[f"{label} low"], line[f"{label} high"], color, scenario)
            grid.line(i, line["x"], line[label], scenario, color, i == 0)
        if how in ("ratio", "cumulative"):
            grid.percent(i)
    return grid.figure()


def differences(
    ts: pd.DataFrame, labels: Sequence[str], colors: dict[str, str], title: str
) -> dict[str, Any] | None:
    """Each goal of each regime minus the first regime's, tick by tick, paired replicate by
    replicate (common random numbers): the mean difference with its 95% t interval."""
    if ts.empty or len(labels) < 2:
        return None
    ts = ts.assign(rep=ts["run_id"].str.rsplit(":", n=1).str[-1])
    grid = Grid(title, [f"{name}: difference" for _, name in GOAL_NAMES])
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
            x = idx.to_numpy(dtype=float)
            grid.band(j, x, low, high, colors[label], label)
            grid.line(j, x, mean, f"{label} − {labels[0]}", colors[label], j == 0)
            drawn = True
        grid.layout["yaxis" + ("" if j == 0 else str(j + 1))]["rangemode"] = "normal"
    return grid.figure() if drawn else None


def active_by_platform(
    pl: pd.DataFrame, colors: dict[str, str], title: str
) -> dict[str, Any] | None:
    """Active users per platform over time (the mean over a regime's runs)."""
    if pl.empty:
        return None
    names = list(dict.fromkeys(pl["platform"]))
    grid = Grid(title, names, cols=max(1, min(4, len(names))))
    mean = pl.groupby(["scenario", "platform", "t_days"], sort=True)["active_users"].mean()
    for j, name in enumerate(names):
        for scenario, color in colors.items():
            if (scenario, name) not in mean.index.droplevel(2):
                continue
            line = mean.loc[(scenario, name)]
            grid.line(j, line.index.to_numpy(dtype=float), line.to_numpy(), scenario, color, j == 0)
    return grid.figure()


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


FAST: tuple[str, ...] = ("goals", "differences")
"""The charts redrawn whenever rows arrive; the others at most every few seconds."""

ALL: tuple[str, ...] = (
    "goals", "differences", "tradeoffs", "order", "development", "freedom", "more", "platforms",
    "times",
)  # fmt: skip
"""Every live chart of the page, in the page's order."""


def live_figures(
    runs: Sequence[RunState],
    finished: Sequence[RunState],
    labels: Sequence[str],
    only: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The page's charts (plain Plotly JSON; `only` those named) for a batch's runs so far
    and the session's finished runs."""
    colors = figures.scenario_colors(list(labels))
    ts = timeseries(runs)
    wait = "Press Start: the charts grow as the runs go."
    base = labels[0] if labels else "none"
    titles = {
        g: f"{g.capitalize()}: its parts per day" for g in ("order", "development", "freedom")
    }
    makers: dict[str, Any] = {
        "goals": lambda: goals_live(ts, colors, "The three goals (0 to 1, higher is better)"),
        "differences": lambda: differences(
            ts, labels, colors, f"Difference from the first regime ({base}), paired on the seeds"
        ),
        "more": lambda: parts_live(
            ts, MORE_PARTS, colors, "Removals, self-censorship, requests, VPNs, harm and incidents"
        ),
        "platforms": lambda: active_by_platform(
            platforms(runs), colors, "Active users per platform"
        ),
        **{g: (lambda g=g: parts_live(ts, figures.PARTS[g], colors, titles[g])) for g in titles},
    }
    wanted = list(makers) if only is None else [n for n in only if n in makers]
    whys = {"differences": "Choose two regimes or more to see their differences."}
    names = {
        "goals": "The three goals",
        "differences": "Difference from the first regime",
        "more": "Removals, self-censorship, requests, VPNs, harm and incidents",
        "platforms": "Active users per platform",
        **titles,
    }
    shown = {}
    for name in wanted:
        fig = makers[name]()
        shown[name] = fig if fig is not None else note(names[name], whys.get(name, wait))
    if only is None or {"times", "tradeoffs"} & set(only):
        shown |= finished_figures(
            tuple(r for r in runs if r.summary is not None), tuple(finished), tuple(labels)
        )
    return shown


def warm() -> None:
    """Draw every chart once from made-up rows, so that the first real drawing does not pay
    for loading the code it uses (pandas' and SciPy's parts load on first use: seconds)."""
    from tightrope.explorer.stream import RunSpec

    runs = []
    for i, label in enumerate(("a", "b")):
        for r in range(2):
            state = RunState(RunSpec(key=f"warm:{i}:{r}", label=label, source=label), i)
            state.ticks = 48
            state.rows = [[float(t), *([0.5] * (len(TIMESERIES_COLUMNS) - 1))] for t in range(48)]
            state.platform_rows = [
                [float(t), "p", *([1.0] * (len(PLATFORM_COLUMNS) - 2))] for t in range(48)
            ]
            state.summary = {c: 0.5 for c, _ in GOAL_NAMES}
            runs.append(state)
    live_figures(runs, runs, ["a", "b"])
    _FINISHED.clear()


def finished_figures(
    runs: tuple[RunState, ...], finished: tuple[RunState, ...], labels: tuple[str, ...]
) -> dict[str, dict[str, Any]]:
    """The charts of finished runs (the report's own figures): time to removal and to
    answer, and the trade-offs of every run finished on the page with the Pareto front.
    Drawn again only when another run has finished."""
    key = (tuple(r.spec.key for r in runs), tuple(r.spec.key for r in finished), labels)
    if key not in _FINISHED:
        colors = figures.scenario_colors(list(labels))
        hist = histograms(list(runs))
        fig = figures.time_distributions(hist, colors) if not hist.empty else None
        title = "Time to removal and to answer (finished runs)"
        times = (
            note(title, "Shown when a run has finished.")
            if fig is None
            else (titled(fig, title, "").to_plotly_json())
        )
        points = run_points(finished)
        title = f"Trade-offs: {len(points)} finished run(s) on this page, Pareto front in red"
        fig = tradeoffs(points, ["regime", "seed"])
        trade = (
            note(title, "Each finished run is a point here.")
            if fig is None
            else (titled(fig, title, "").to_plotly_json())
        )
        while len(_FINISHED) >= 16:  # the oldest drawings go (one a page is in use)
            _FINISHED.pop(next(iter(_FINISHED)))
        _FINISHED[key] = {"times": times, "tradeoffs": trade}
    return dict(_FINISHED[key])


_FINISHED: dict[Any, dict[str, Any]] = {}
"""The last finished-run charts drawn, with what they were drawn from."""


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
