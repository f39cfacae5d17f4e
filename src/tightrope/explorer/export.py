"""What the explorer keeps: the current settings as a scenario file, charts as one HTML file.

A regime's settings export as a scenario TOML that `extends` the preset (or file) the regime
started from and writes only the settings that were changed on the page, so that
`tightrope validate` accepts it and `tightrope run` runs what the page ran.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from tightrope.experiments.files import toml_value

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(part: str) -> str:
    return part if _BARE.match(part) else toml_value(part)


def changed(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of `values` that differ from `base` (path -> value), in order."""
    return {p: v for p, v in values.items() if p not in base or base[p] != v}


def extends_source(source: str) -> str:
    """What the exported file extends: a preset's name, or a scenario file's absolute path
    (so the export can be saved anywhere)."""
    from tightrope.scenario.files import preset_names

    path = Path(source)
    if source in preset_names() and not path.is_file():
        return source
    return str(path.expanduser().resolve())


def scenario_toml(source: str, name: str, settings: Mapping[str, Any]) -> str:
    """A scenario file that extends `source`, is named `name` and sets `settings`
    (dotted path -> value), grouped in tables by their paths."""
    lines = [
        "# Exported by `tightrope explore`: the regime it extends, with the settings changed",
        "# on the page. Check it with `tightrope validate`; run it with `tightrope run`.",
        f"extends = {toml_value(extends_source(source))}",
        f"name = {toml_value(name)}",
    ]
    tables: dict[tuple[str, ...], list[tuple[str, Any]]] = {}
    for path, value in settings.items():
        *table, leaf = path.split(".")
        tables.setdefault(tuple(table), []).append((leaf, value))
    for table, items in tables.items():
        lines.append("")
        if table:
            lines.append("[" + ".".join(_key(p) for p in table) + "]")
        lines += [f"{_key(leaf)} = {toml_value(value)}" for leaf, value in items]
    return "\n".join(lines) + "\n"


def file_name(name: str) -> str:
    """A safe file name for a regime's export."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "scenario"


def charts_html(title: str, figs: Mapping[str, go.Figure]) -> str:
    """The charts as one self-contained HTML page (Plotly's script inside: works offline)."""
    parts = []
    for i, fig in enumerate(figs.values()):
        parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=i == 0))
    body = "\n".join(f"<div>{p}</div>" for p in parts)
    name = html.escape(title)
    return (
        f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{name}</title></head>"
        f"<body style='font-family: system-ui, sans-serif'><h1>{name}</h1>\n{body}\n"
        "</body></html>\n"
    )
