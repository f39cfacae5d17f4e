"""The explorer's page: a Dash app (the report's Plotly figures, no JavaScript build step).

Left, the regimes (presets or scenario files) and, per regime, its levers as sliders, boxes,
switches and selects, with the run's users, days, seed and replicates; Start and Stop;
where finished runs are stored. Right, the charts, which grow while the runs go (a timer
asks the server for what the workers streamed), the trade-offs of every finished run with
the Pareto front, and a stored results folder opened in the same views.

Each page load is a session of its own (`Runs.session`): two tabs run independently.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid
from pathlib import Path
from typing import Any

import dash
from dash import ALL, MATCH, Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from tightrope.errors import InputError
from tightrope.explorer import charts
from tightrope.explorer.export import changed, charts_html, file_name, scenario_toml
from tightrope.explorer.levers import Lever, catalogue, run_lever
from tightrope.explorer.runs import Runs
from tightrope.explorer.stream import RunSpec
from tightrope.explorer.views import Views

GRAPHS: tuple[str, ...] = charts.ALL
"""The page's live charts, in order."""

STORED_GRAPHS: tuple[str, ...] = ("tradeoffs", "goals")
"""The charts of a stored results folder."""

REFRESH_MS = 1000
"""How often the page asks for the runs' new rows and redraws the charts that changed. At
300 ms the redrawing held the browser's main thread so that a slider took a median of 100-135
ms to answer while two 20,000-user runs went; at 1 s it takes 60-82 ms, and the first day
still shows within about 2 s (benchmarks/explorer.py, docs/explorer.md)."""

_GRAPH_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "filename": "tightrope-explorer", "scale": 2},
}
_BOX = {"width": "7em", "marginLeft": "0.5em"}
_MSG = {"color": "#b2182b", "fontSize": "0.85em"}
_CARD = {
    "border": "1px solid #ddd",
    "borderRadius": "6px",
    "padding": "0.6em",
    "marginBottom": "0.8em",
    "background": "#fafafa",
}


SYNC_JS = """
function (slider, box, meta) {
    const nu = window.dash_clientside.no_update;
    const fired = window.dash_clientside.callback_context.triggered.map(t => t.prop_id);
    if (fired.some(p => p.indexOf('"type":"slider"') >= 0)) {
        const v = meta.integer ? Math.round(slider) : Math.round(slider * 1e6) / 1e6;
        return [nu, v, ""];
    }
    if (box === null || box === undefined || box === "" || isNaN(Number(box))) {
        return [nu, nu, meta.where + "; the box is empty or not a number"];
    }
    const x = Number(box);
    if (meta.integer && !Number.isInteger(x)) {
        return [nu, nu, meta.where + " and a whole number; got " + x];
    }
    const low = meta.low !== null && (x < meta.low || (meta.low_open && x === meta.low));
    const high = meta.high !== null && (x > meta.high || (meta.high_open && x === meta.high));
    if (low || high) {
        return [nu, nu, meta.where + "; got " + x];
    }
    return [x, nu, ""];
}
"""
"""The slider-box pair of a number lever, in the browser: the slider sets the box; a value
typed into the box moves the slider, or is named inline with its range (the same message
as `Lever.problem`, which checks every value again on the server at Start and export)."""


def range_meta(lever: Lever) -> dict[str, Any]:
    """What SYNC_JS needs to check a typed value: the range and the message's start."""
    return {
        "where": f"{lever.path} must be {lever.range_text()}",
        "low": lever.low,
        "high": lever.high,
        "low_open": lever.low_open,
        "high_open": lever.high_open,
        "integer": lever.kind == "integer",
    }


@functools.lru_cache(maxsize=64)
def regime(source: str) -> tuple[Any, tuple[Lever, ...]]:
    """A regime's validated scenario and its levers (InputError for a bad file)."""
    from tightrope.scenario.files import load_scenario

    scenario = load_scenario(source)
    return scenario, tuple(catalogue(scenario))


def labels_of(sources: list[str]) -> list[str]:
    """The regimes' names on the page: the preset's name or the file's stem; a repeated one
    gets its position added."""
    out: list[str] = []
    for source in sources:
        base = Path(source).stem if source.endswith(".toml") else source
        label, n = base, 2
        while label in out:
            label, n = f"{base} ({n})", n + 1
        out.append(label)
    return out


class Explorer:
    """The app and what it serves from: the runs, the scenarios offered, the out folder."""

    def __init__(self, runs: Runs, scenarios: list[str], out_dir: Path) -> None:
        from tightrope.scenario.files import preset_names

        self.runs = runs
        self.views = Views(runs)
        self.presets = preset_names()
        self.initial = scenarios or ["eu-dsa"]
        self.out_dir = out_dir
        self._locks: dict[str, contextlib.ExitStack] = {}
        self._lock = threading.Lock()
        self.app = dash.Dash(
            __name__, title="Tightrope explorer", update_title=None, serve_locally=True
        )
        self.app.layout = self.layout
        self._callbacks()

    # ------------------------------------------------------------------ out folders

    def hold(self, out: str) -> Path:
        """Check a results folder and hold it for this server (as a command holds its --out
        folder while it writes): InputError when it holds another kind of results, or when
        another command writes in it."""
        from tightrope.results.storage import check_folder_kind, check_out_dir, folder_lock

        path = Path(out).expanduser().resolve()
        key = str(path)
        with self._lock:
            if key in self._locks:
                return path
            check_out_dir(path)
            stack = contextlib.ExitStack()
            stack.enter_context(folder_lock(path, "explore"))
            try:
                check_folder_kind(path, "runs", "explore")
            except InputError:
                stack.close()
                raise
            self._locks[key] = stack
            return path

    def release(self) -> None:
        """Stop drawing and release the results folders held."""
        self.views.close()
        with self._lock:
            for stack in self._locks.values():
                stack.close()
            self._locks.clear()

    # ------------------------------------------------------------------ layout

    def layout(self) -> html.Div:
        sid = uuid.uuid4().hex
        options = [{"label": p, "value": p} for p in self.presets]
        options += [{"label": s, "value": s} for s in self.initial if s not in self.presets]
        left = html.Div(
            [
                html.H3("Regimes"),
                dcc.Dropdown(
                    id="regimes",
                    options=options,
                    value=list(self.initial),
                    multi=True,
                    placeholder="Choose presets",
                ),
                html.Div(
                    [
                        dcc.Input(
                            id="file-path",
                            placeholder="or a scenario file: path/to/file.toml",
                            style={"width": "75%"},
                        ),
                        html.Button("Add", id="file-add", n_clicks=0),
                    ],
                    style={"marginTop": "0.4em"},
                ),
                html.Div(id="file-msg", style=_MSG),
                html.H3("Run"),
                *(
                    self._run_box(key, value)
                    for key, value in (
                        ("users", 2000),
                        ("days", 3.0),
                        ("seed", 1),
                        ("replicates", 1),
                    )
                ),
                html.Div(
                    [
                        html.Label("Store finished runs in "),
                        dcc.Input(id="out-dir", value=str(self.out_dir), style={"width": "95%"}),
                    ]
                ),
                html.Div(
                    [
                        html.Button(
                            "Start",
                            id="start",
                            n_clicks=0,
                            style={"fontWeight": "bold", "marginRight": "0.5em"},
                        ),
                        html.Button("Stop", id="stop", n_clicks=0),
                    ],
                    style={"margin": "0.8em 0"},
                ),
                html.Div(id="run-msg", style=_MSG),
                html.Div(id="status", children="No run yet."),
                html.Div(
                    html.Div(
                        id="bar", style={"width": "0%", "height": "100%", "background": "#2166ac"}
                    ),
                    style={"height": "6px", "background": "#e5e5e5", "margin": "0.3em 0"},
                ),
                html.H3("Levers"),
                html.Div(id="levers"),
            ],
            style={
                "width": "30%",
                "minWidth": "330px",
                "padding": "0 1em",
                "overflowY": "auto",
                "height": "calc(100vh - 70px)",
            },
        )
        graph_style = {"marginBottom": "1em"}
        right = html.Div(
            [
                html.Div(
                    [
                        html.Button("Export charts (HTML)", id="export-html", n_clicks=0),
                        html.Span(
                            " PNG: the camera button above each chart.", style={"color": "#666"}
                        ),
                    ]
                ),
                *(
                    dcc.Graph(id=f"g-{name}", config=_GRAPH_CONFIG, style=graph_style)
                    for name in GRAPHS
                ),
                html.H3("A stored results folder"),
                html.Div(
                    [
                        dcc.Input(
                            id="stored-path",
                            placeholder="results/cmp (from compare, experiment or run --out)",
                            style={"width": "60%"},
                        ),
                        html.Button("Open", id="stored-open", n_clicks=0),
                    ]
                ),
                html.Div(id="stored-msg"),
                *(
                    dcc.Graph(id=f"s-{name}", config=_GRAPH_CONFIG, style=graph_style)
                    for name in STORED_GRAPHS
                ),
            ],
            style={
                "flex": "1",
                "padding": "0 1em",
                "overflowY": "auto",
                "height": "calc(100vh - 70px)",
            },
        )
        return html.Div(
            [
                dcc.Store(id="session", data=sid),
                dcc.Store(id="seen", data={}),
                dcc.Store(id="stopped", data=0),
                dcc.Interval(id="timer", interval=REFRESH_MS),
                dcc.Download(id="download-toml"),
                dcc.Download(id="download-html"),
                html.Div(
                    [
                        html.B("Tightrope explorer", style={"fontSize": "1.3em"}),
                        html.Span(
                            " move a lever, watch order, development and freedom respond",
                            style={"color": "#666"},
                        ),
                    ],
                    style={"padding": "0.5em 1em", "borderBottom": "1px solid #ddd"},
                ),
                html.Div([left, right], style={"display": "flex"}),
            ],
            style={"fontFamily": "system-ui, sans-serif", "fontSize": "14px"},
        )

    def _run_box(self, key: str, value: Any) -> html.Div:
        lever = run_lever(key, value)
        return html.Div(
            [
                html.Label(key, title=lever.help),
                dcc.Input(id=f"run-{key}", type="number", value=value, debounce=True, style=_BOX),
                html.Span(f" {lever.range_text()}", style={"color": "#888", "fontSize": "0.85em"}),
            ],
            style={"marginBottom": "0.3em"},
        )

    @staticmethod
    def control(i: int, lever: Lever) -> html.Div:
        """A lever's control: a slider and a box for numbers, a switch, or a select; its
        range, unit and the schema's description as help."""
        ident = {"r": i, "path": lever.path}
        unit = f" ({lever.unit})" if lever.unit else ""
        head = html.Div(
            [
                html.Span(lever.name + unit, title=lever.help),
                html.Span(f"  {lever.range_text()}", style={"color": "#888", "fontSize": "0.8em"}),
            ],
        )
        parts: list[Any] = [head]
        if lever.kind in ("number", "integer"):
            lo, hi = lever.slider_range()
            step = 1 if lever.kind == "integer" else (hi - lo) / 100
            parts.append(
                html.Div(
                    [
                        html.Div(
                            dcc.Slider(
                                id={"type": "slider", **ident},
                                min=lo,
                                max=hi,
                                step=step,
                                value=lever.value,
                                marks=None,
                                tooltip={"placement": "bottom"},
                                allow_direct_input=False,  # the box beside it checks input
                            ),
                            style={"flex": "1"},
                        ),
                        dcc.Store(id={"type": "meta", **ident}, data=range_meta(lever)),
                        dcc.Input(
                            id={"type": "box", **ident},
                            type="number",
                            value=lever.value,
                            debounce=True,
                            style=_BOX,
                        ),
                    ],
                    style={"display": "flex", "alignItems": "center"},
                )
            )
        elif lever.kind == "switch":
            parts.append(
                dcc.Checklist(
                    id={"type": "switch", **ident},
                    options=[{"label": " on", "value": "on"}],
                    value=["on"] if lever.value else [],
                )
            )
        else:
            parts.append(
                dcc.Dropdown(
                    id={"type": "select", **ident},
                    options=list(lever.options),
                    value=lever.value,
                    clearable=False,
                )
            )
        if lever.help:
            parts.append(html.Div(lever.help, style={"color": "#666", "fontSize": "0.8em"}))
        parts.append(html.Div(id={"type": "msg", **ident}, style=_MSG))
        return html.Div(parts, style={"marginBottom": "0.5em"})

    def lever_panels(self, sources: list[str]) -> list[Any]:
        panels = []
        for i, (source, label) in enumerate(zip(sources, labels_of(sources), strict=True)):
            try:
                _, levers = regime(source)
            except InputError as exc:
                panels.append(html.Div(f"{label}: {exc}", style=_MSG))
                continue
            groups: dict[str, list[Lever]] = {}
            for lever in levers:
                groups.setdefault(lever.actor, []).append(lever)
            panels.append(
                html.Div(
                    [
                        html.Div(
                            [
                                html.B(label + (" (baseline)" if i == 0 else "")),
                                html.Button(
                                    "Export TOML",
                                    id={"type": "export", "r": i},
                                    n_clicks=0,
                                    style={"float": "right"},
                                ),
                            ]
                        ),
                        *(
                            html.Details(
                                [html.Summary(actor), *(self.control(i, lv) for lv in group)],
                                open=actor == "state",
                            )
                            for actor, group in groups.items()
                        ),
                    ],
                    style=_CARD,
                )
            )
        return panels

    # ------------------------------------------------------------------ reading the page

    @staticmethod
    def values(states: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """Regime index -> {path: value} from the controls' states (ALL patterns)."""
        out: dict[int, dict[str, Any]] = {}
        for group in states:
            for item in group:
                ident, value = item["id"], item.get("value")
                if ident["type"] == "switch":
                    value = "on" in (value or [])
                out.setdefault(ident["r"], {})[ident["path"]] = value
        return out

    @staticmethod
    def changes(source: str, values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """(the settings changed from the regime's own values, problems with values)."""
        _, levers = regime(source)
        problems: list[str] = []
        out: dict[str, Any] = {}
        for lever in levers:
            if lever.path not in values:
                continue
            value = values[lever.path]
            if (problem := lever.problem(value)) is not None:
                problems.append(problem)
                continue
            value = lever.coerce(value)
            if value != lever.value:
                out[lever.path] = value
        return out, problems

    @staticmethod
    def run_settings(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        out: dict[str, Any] = {}
        problems = []
        for key, value in raw.items():
            lever = run_lever(key, value)
            if (problem := lever.problem(value)) is not None:
                problems.append(problem)
            else:
                out[key] = lever.coerce(value)
        return out, problems

    # ------------------------------------------------------------------ callbacks

    def _callbacks(self) -> None:
        app = self.app
        control_states = [
            State({"type": kind, "r": ALL, "path": ALL}, "value")
            for kind in ("box", "switch", "select")
        ]

        @app.callback(Output("levers", "children"), Input("regimes", "value"))
        def _levers(sources: list[str] | None) -> list[Any]:
            return self.lever_panels(list(sources or []))

        # a slider and its box answer in the browser: no round trip through the server
        app.clientside_callback(
            SYNC_JS,
            Output({"type": "slider", "r": MATCH, "path": MATCH}, "value"),
            Output({"type": "box", "r": MATCH, "path": MATCH}, "value"),
            Output({"type": "msg", "r": MATCH, "path": MATCH}, "children"),
            Input({"type": "slider", "r": MATCH, "path": MATCH}, "value"),
            Input({"type": "box", "r": MATCH, "path": MATCH}, "value"),
            State({"type": "meta", "r": MATCH, "path": MATCH}, "data"),
            prevent_initial_call=True,
        )

        @app.callback(
            Output("regimes", "options"),
            Output("regimes", "value"),
            Output("file-msg", "children"),
            Input("file-add", "n_clicks"),
            State("file-path", "value"),
            State("regimes", "options"),
            State("regimes", "value"),
            prevent_initial_call=True,
        )
        def _add_file(
            _: int, path: str | None, options: list[Any], value: list[str] | None
        ) -> tuple[Any, Any, str]:
            if not path:
                return dash.no_update, dash.no_update, "Give a scenario file's path first."
            regime.cache_clear()  # the file may have changed since it was last read
            try:
                regime(path)
            except InputError as exc:
                return dash.no_update, dash.no_update, f"{path}: {exc}"
            if path not in [o["value"] for o in options]:
                options = [*options, {"label": path, "value": path}]
            return options, [*(value or []), path], ""

        @app.callback(
            Output("run-msg", "children"),
            Input("start", "n_clicks"),
            State("session", "data"),
            State("regimes", "value"),
            State("run-users", "value"),
            State("run-days", "value"),
            State("run-seed", "value"),
            State("run-replicates", "value"),
            State("out-dir", "value"),
            *control_states,
            prevent_initial_call=True,
        )
        def _start(
            _: int,
            sid: str,
            sources: list[str] | None,
            users: Any,
            days: Any,
            seed: Any,
            replicates: Any,
            out: str | None,
            *states: Any,
        ) -> str:
            return self.start(
                sid,
                list(sources or []),
                users,
                days,
                seed,
                replicates,
                out,
                list(dash.ctx.states_list[-3:]),
            )

        @app.callback(
            Output("stopped", "data"),
            Input("stop", "n_clicks"),
            State("session", "data"),
            prevent_initial_call=True,
        )
        def _stop(clicks: int, sid: str) -> int:
            self.runs.stop(sid)
            return clicks

        @app.callback(
            Output("status", "children"),
            Output("bar", "style"),
            Input("timer", "n_intervals"),
            State("session", "data"),
        )
        def _progress(_: int | None, sid: str) -> tuple[Any, Any]:
            status, share = self.runs.status(sid)
            lines: list[Any] = [status["text"]]
            if status["stored"]:
                lines.append(html.Div("Stored in " + ", ".join(status["stored"])))
            lines += [html.Div(e, style=_MSG) for e in status["errors"]]
            bar = {"width": f"{100 * share:.1f}%", "height": "100%", "background": "#2166ac"}
            return html.Div(lines), bar

        @app.callback(
            *(Output(f"g-{name}", "figure") for name in GRAPHS),
            Output("seen", "data"),
            Input("timer", "n_intervals"),
            State("session", "data"),
            State("seen", "data"),
        )
        def _refresh(_: int | None, sid: str, seen: dict[str, int] | None) -> tuple[Any, ...]:
            drawing = self.views.latest(sid)
            with self.views._lock:
                stamps = dict(drawing.stamps)
                figs = {
                    n: drawing.figures[n]
                    for n in GRAPHS
                    if n in stamps and stamps[n] != (seen or {}).get(n)
                }
            if not figs:
                raise PreventUpdate
            return (*(figs.get(name, dash.no_update) for name in GRAPHS), stamps)

        @app.callback(
            Output("download-toml", "data"),
            Output("run-msg", "children", allow_duplicate=True),
            Input({"type": "export", "r": ALL}, "n_clicks"),
            State("regimes", "value"),
            State("run-users", "value"),
            State("run-days", "value"),
            State("run-seed", "value"),
            *control_states,
            prevent_initial_call=True,
        )
        def _export(
            clicks: list[int], sources: list[str], users: Any, days: Any, seed: Any, *states: Any
        ) -> tuple[Any, str]:
            trigger = dash.ctx.triggered_id
            if not trigger or not any(clicks):
                raise PreventUpdate
            i = trigger["r"]
            try:
                name, text = self.export(
                    sources[i],
                    labels_of(sources)[i],
                    users,
                    days,
                    seed,
                    self.values(list(dash.ctx.states_list[-3:])).get(i, {}),
                )
            except InputError as exc:
                return dash.no_update, str(exc)
            return {"content": text, "filename": f"{file_name(name)}.toml"}, ""

        @app.callback(
            Output("download-html", "data"),
            Input("export-html", "n_clicks"),
            State("session", "data"),
            prevent_initial_call=True,
        )
        def _export_html(_: int, sid: str) -> Any:
            figs = dict(self.views.draw(sid).figures)
            return {
                "content": charts_html("Tightrope explorer", figs),
                "filename": "tightrope-explorer.html",
            }

        @app.callback(
            *(Output(f"s-{name}", "figure") for name in STORED_GRAPHS),
            Output("stored-msg", "children"),
            Input("stored-open", "n_clicks"),
            State("stored-path", "value"),
            prevent_initial_call=True,
        )
        def _open(_: int, path: str | None) -> tuple[Any, ...]:
            if not path:
                return (
                    *(dash.no_update for _ in STORED_GRAPHS),
                    html.Span("Give a results folder's path first.", style=_MSG),
                )
            try:
                figs, text = charts.stored_figures(path)
            except InputError as exc:
                return (*(dash.no_update for _ in STORED_GRAPHS), html.Span(str(exc), style=_MSG))
            shown = [
                figs.get(n, charts.empty("", "Not stored in this folder.")) for n in STORED_GRAPHS
            ]
            return (*shown, text)

    # ------------------------------------------------------------------ actions

    def start(
        self,
        sid: str,
        sources: list[str],
        users: Any,
        days: Any,
        seed: Any,
        replicates: Any,
        out: str | None,
        states: list[Any],
    ) -> str:
        """Check everything, then start the runs; return the message to show ("" when
        started)."""
        from tightrope.experiments.files import toml_value
        from tightrope.experiments.seeds import child_seeds

        if not sources:
            return "Choose at least one regime."
        settings, problems = self.run_settings(
            {"users": users, "days": days, "seed": seed, "replicates": replicates}
        )
        values = self.values(states)
        labels = labels_of(sources)
        overrides: list[tuple[str, ...]] = []
        for i, source in enumerate(sources):
            try:
                changes, bad = self.changes(source, values.get(i, {}))
            except InputError as exc:
                problems.append(f"{labels[i]}: {exc}")
                continue
            problems += [f"{labels[i]}: {p}" for p in bad]
            overrides.append(tuple(f"{p}={toml_value(v)}" for p, v in changes.items()))
        if problems:
            return "Not started: " + "; ".join(problems)
        from tightrope.explorer.stream import scenario_of

        specs: list[tuple[int, RunSpec]] = []
        seeds = child_seeds(int(settings["seed"]), int(settings["replicates"]))
        try:
            folder = self.hold(out or str(self.out_dir))
        except InputError as exc:
            return f"Not started: {exc}"
        batch = uuid.uuid4().hex[:8]
        for r, s in enumerate(seeds):  # replicate by replicate: the regimes go side by side
            for i, (source, label) in enumerate(zip(sources, labels, strict=True)):
                spec = RunSpec(
                    key=f"{sid}-{batch}:{i}:{r}",
                    label=label,
                    source=source,
                    overrides=overrides[i],
                    users=int(settings["users"]),
                    days=float(settings["days"]),
                    seed=s,
                    replicate=r,
                    out_dir=str(folder),
                )
                specs.append((i, spec))
        for i, spec in specs[: len(sources)]:  # every regime valid before any run
            try:
                scenario_of(spec)
            except InputError as exc:
                return f"Not started: {labels[i]}: {exc}"
        self.runs.start(sid, labels, specs, seeds)
        return ""

    def export(
        self, source: str, label: str, users: Any, days: Any, seed: Any, values: dict[str, Any]
    ) -> tuple[str, str]:
        """(name, TOML text) of a regime's current settings: it extends the regime's source
        and sets only what was changed (levers, and users, days and seed when changed)."""
        scenario, _ = regime(source)
        changes, problems = self.changes(source, values)
        run, bad = self.run_settings({"users": users, "days": days, "seed": seed})
        if problems or bad:
            raise InputError("Not exported: " + "; ".join([*problems, *bad]))
        base_run = {
            "users": scenario.run.users,
            "days": scenario.run.days,
            "seed": scenario.run.seed,
        }
        run_changes = changed(base_run, run)
        settings = dict(changes) | {f"run.{k}": v for k, v in run_changes.items()}
        name = f"{label}-explored" if settings else label
        return name, scenario_toml(source, name, settings)
