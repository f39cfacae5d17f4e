"""The explorer's levers: which settings the page shows as controls, and what the scenario
schema says about each (type, range, help text).

The schema (`tightrope.scenario.schema`) is the single source of ranges and descriptions:
this module only names the settings a decision maker controls, grouped by actor, and reads
everything else from the pydantic fields. A lever's path is a dotted setting path as
`--set` takes it; a platform's levers are repeated for each platform of the regime.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from tightrope.scenario.schema import Scenario

STATE_LEVERS: tuple[str, ...] = (
    "state.rulebook.precision",
    "state.inspection.staff_per_100k_users",
    "state.inspection.fine_per_violation",
    "state.sanctions.required_effort",
    "state.punishment.severity",
    "state.identity.real_name",
    "state.identity.data_access",
    "state.access.vpn_crackdown",
    "state.officials.staff_per_100k_users",
    "state.officials.response_target_minutes",
    "state.adaptive.enabled",
)
"""The state's levers: the law's wording, inspectors, fines, audits, punishment, real-name
registration, data access, the VPN crackdown, officials' answer staff and target."""

PLATFORM_LEVERS: tuple[str, ...] = (
    "moderation.reviewers_per_100k_users",
    "moderation.review_accuracy",
    "moderation.filter.false_positive",
    "moderation.sweep.enabled",
    "moderation.escalation.share",
    "moderation.appeals.enabled",
    "moderation.appeals.statement_of_reasons",
    "compliance.mode",
    "compliance.effort",
    "feed.engagement_weight",
    "feed.sensitive_penalty",
)
"""Each platform's levers, under `platforms.<name>.`: reviewers, their accuracy, the
filter's false positives, sweeps, hard cases sent to a second tier, appeals, compliance and
the feed's ranking."""

PEOPLE_LEVERS: tuple[str, ...] = (
    "population.voice_mean",
    "population.report_propensity_mean",
    "behaviour.anonymous_risk",
    "behaviour.vpn_cost",
    "behaviour.leave_threshold",
)
"""What the page offers about the people: their wish to speak, to report, the risk they feel
when anonymous, the hassle of a VPN and when they leave a platform."""

RUN_SETTINGS: dict[str, tuple[float, float]] = {
    "run.users": (100, 1_000_000),
    "run.days": (1 / 24, 365),
}
"""Run size and length the page accepts (inside the schema's range: a page run is
interactive, so at most a million users and a year)."""

_UNITS: tuple[tuple[str, str], ...] = (
    ("_per_100k_users", "per 100,000 users"),
    ("_per_violation", "money per violation"),
    ("_minutes", "minutes"),
    ("_hours", "hours"),
    ("_days", "days"),
)

_DISPLAY_MAX = 10.0
"""Top of a slider for a setting the schema leaves unbounded above, unless four times the
regime's value is higher (the box beside the slider takes any value in the schema's range)."""


@dataclass(frozen=True)
class Lever:
    """One control of the page: a setting path and what the schema says about it."""

    path: str
    actor: str  # "state", "platform <name>", "people"
    kind: str  # "number", "integer", "switch" or "select"
    value: Any  # the regime's value
    low: float | None = None  # the schema's bounds (None: unbounded)
    high: float | None = None
    low_open: bool = False  # the bound itself is not allowed (gt / lt)
    high_open: bool = False
    options: tuple[str, ...] = ()
    unit: str = ""
    help: str = ""

    @property
    def name(self) -> str:
        """The setting's name, readable, with the table it is in: `moderation: reviewers per
        100k users`, `officials: staff per 100k users`."""
        *table, leaf = self.path.split(".")
        return f"{table[-1]}: {leaf}".replace("_", " ") if table else leaf.replace("_", " ")

    def range_text(self) -> str:
        """The allowed range as the messages give it: `0 to 1`, `0 or more`, `more than 0`."""
        lo, hi = self.low, self.high
        if self.kind == "select":
            return "one of " + ", ".join(self.options)
        if self.kind == "switch":
            return "true or false"
        if lo is not None and hi is not None:
            left = "more than " if self.low_open else ""
            right = " (excluded)" if self.high_open else ""
            return f"{left}{_num(lo)} to {_num(hi)}{right}"
        if lo is not None:
            return f"more than {_num(lo)}" if self.low_open else f"{_num(lo)} or more"
        if hi is not None:
            return f"less than {_num(hi)}" if self.high_open else f"at most {_num(hi)}"
        return "any number"

    def slider_range(self) -> tuple[float, float]:
        """The slider's ends: the schema's bounds, or up to a display maximum."""
        lo = self.low if self.low is not None else 0.0
        hi = self.high
        if hi is None:
            value = float(self.value) if isinstance(self.value, int | float) else 0.0
            hi = max(_DISPLAY_MAX, 4.0 * value)
            if self.kind == "integer":
                hi = math.ceil(hi)
        return float(lo), float(hi)

    def problem(self, value: Any) -> str | None:
        """Why `value` cannot be this lever's value, naming the setting and its range; None
        when it can."""
        where = f"{self.path} must be {self.range_text()}"
        if self.kind == "switch":
            return None if isinstance(value, bool) else where
        if self.kind == "select":
            return None if value in self.options else f"{where}, got {value!r}"
        if value is None or value == "" or isinstance(value, bool):
            return f"{where}; the box is empty or not a number"
        try:
            x = float(value)
        except (TypeError, ValueError):
            return f"{where}; {value!r} is not a number"
        if not math.isfinite(x):
            return f"{where}; got {value}"
        if self.kind == "integer" and not x.is_integer():
            return f"{where} and a whole number; got {_num(x)}"
        lo, hi = self.low, self.high
        if lo is not None and (x < lo or (self.low_open and x == lo)):
            return f"{where}; got {_num(x)}"
        if hi is not None and (x > hi or (self.high_open and x == hi)):
            return f"{where}; got {_num(x)}"
        return None

    def coerce(self, value: Any) -> Any:
        """A valid value in the setting's own type (int for integers, float for numbers)."""
        if self.kind == "integer":
            return int(float(value))
        if self.kind == "number":
            return float(value)
        return value


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _unit(name: str, low: float | None, high: float | None, kind: str) -> str:
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    if kind == "number" and low == 0.0 and high == 1.0:
        return "share, 0 to 1"
    return ""


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None, bool, bool]:
    lo = hi = None
    lo_open = hi_open = False
    for item in metadata:
        for attr, is_low, is_open in (
            ("ge", True, False),
            ("gt", True, True),
            ("le", False, False),
            ("lt", False, True),
        ):
            bound = getattr(item, attr, None)
            if bound is None:
                continue
            if is_low:
                lo, lo_open = float(bound), is_open
            else:
                hi, hi_open = float(bound), is_open
    return lo, hi, lo_open, hi_open


def setting_field(path: str) -> tuple[Any, list[Any], str]:
    """(annotation, constraints, description) of the schema field at a dotted path.

    Raises KeyError naming the first part of the path the schema does not have. A part
    after `platforms` is a platform's name (any name)."""
    model: Any = Scenario
    parts = path.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise KeyError(f"{path}: {'.'.join(parts[:i])} is not a table of settings")
        if part not in model.model_fields:
            raise KeyError(
                f"{path}: no setting {part!r} in {'.'.join(parts[:i]) or 'the scenario'}"
            )
        info = model.model_fields[part]
        annotation = info.annotation
        if typing.get_origin(annotation) is dict:  # platforms: the next part is a name
            i += 1
            model = typing.get_args(annotation)[1]
        elif i == len(parts) - 1:
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                break
            return annotation, list(info.metadata), info.description or ""
        else:
            model = annotation
        i += 1
    raise KeyError(f"{path}: names a table, not a setting")


def lever_for(path: str, actor: str, value: Any) -> Lever:
    """The Lever of a setting path, its type, range and help text read from the schema."""
    annotation, metadata, description = setting_field(path)
    name = path.rsplit(".", 1)[-1]
    if annotation is bool:
        return Lever(path, actor, "switch", value, help=description)
    if typing.get_origin(annotation) is typing.Literal:
        options = tuple(str(a) for a in typing.get_args(annotation))
        return Lever(path, actor, "select", value, options=options, help=description)
    if annotation not in (int, float):
        raise KeyError(f"{path}: a {annotation} setting cannot be a lever")
    kind = "integer" if annotation is int else "number"
    lo, hi, lo_open, hi_open = _bounds(metadata)
    return Lever(
        path,
        actor,
        kind,
        value,
        lo,
        hi,
        lo_open,
        hi_open,
        unit=_unit(name, lo, hi, kind),
        help=description,
    )


def _value(raw: dict[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        node = node[part]
    return node


def catalogue(scenario: Scenario) -> list[Lever]:
    """The levers of a regime in the page's order: the state's, each platform's, the
    people's; each with the regime's value."""
    raw = scenario.model_dump(mode="json")
    out = [lever_for(p, "state", _value(raw, p)) for p in STATE_LEVERS]
    for name in scenario.platforms:
        for rel in PLATFORM_LEVERS:
            path = f"platforms.{name}.{rel}"
            out.append(lever_for(path, f"platform {name}", _value(raw, path)))
    out += [lever_for(p, "people", _value(raw, p)) for p in PEOPLE_LEVERS]
    return out


def run_lever(key: str, value: Any) -> Lever:
    """A control for the run's size, length or seed (users, days, seed) or the number of
    replicates, with its range (the schema's, narrowed for the page)."""
    if key == "replicates":
        return Lever("replicates", "run", "integer", value, 1, 50, help="runs per regime")
    path = f"run.{key}"
    lever = lever_for(path, "run", value)
    if path in RUN_SETTINGS:
        lo, hi = RUN_SETTINGS[path]
        return Lever(path, "run", lever.kind, value, lo, hi, help=lever.help)
    return lever
