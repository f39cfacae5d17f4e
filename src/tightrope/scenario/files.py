"""Reading scenarios: preset names, TOML files, `extends`, and `--set` overrides.

Every problem is collected and reported at once, each with its dotted path, the bad value
and what is allowed; misspelt keys get a "did you mean".
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tightrope.errors import InputError
from tightrope.scenario.schema import Scenario

PRESET_PACKAGE = "tightrope.scenario.presets"


def preset_names() -> list[str]:
    """Names of the presets shipped in the package, sorted."""
    files = resources.files(PRESET_PACKAGE).iterdir()
    return sorted(f.name[: -len(".toml")] for f in files if f.name.endswith(".toml"))


def preset_text(name: str) -> str:
    """The TOML text of a shipped preset."""
    if name not in preset_names():
        raise InputError(f"no preset named '{name}'; the presets are: {', '.join(preset_names())}")
    return resources.files(PRESET_PACKAGE).joinpath(f"{name}.toml").read_text("utf-8")


def preset_description(name: str) -> str:
    """The preset's one-line description."""
    return str(_parse_toml(preset_text(name), f"preset {name}").get("description", ""))


def _parse_toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already names the line and column: "... (at line 3, column 7)"
        raise InputError(f"{where} is not valid TOML: {exc}") from None


def read_raw(source: str | Path) -> tuple[dict[str, Any], str]:
    """The raw mapping of a preset name or a TOML file, and a label for messages."""
    text_source = str(source)
    path = Path(text_source)
    if text_source in preset_names() and not path.is_file():
        return _parse_toml(preset_text(text_source), f"preset {text_source}"), text_source
    if not path.exists():
        if path.suffix.lower() != ".toml" and "/" not in text_source:
            raise InputError(
                f"'{text_source}' is neither a preset nor a file; "
                f"the presets are: {', '.join(preset_names())}"
            )
        raise InputError(f"scenario file not found: {text_source}")
    if path.is_dir():
        raise InputError(f"scenario path is a folder, not a TOML file: {text_source}")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read scenario file {text_source}: {exc}") from None
    return _relative_to(_parse_toml(text, text_source), path.parent), text_source


def _relative_to(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """A file's relative `network.edge_list` and `network.node_attributes` made relative to
    the file's folder (kept as the folder is written: relative to the current folder if the
    file's path is)."""
    network = raw.get("network")
    if isinstance(network, dict):
        for key in ("edge_list", "node_attributes"):
            named = network.get(key)
            if isinstance(named, str) and named and not Path(named).is_absolute():
                network[key] = str(folder / named)
    return raw


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _platform_tables(
    raw: dict[str, Any], base: Mapping[str, Any] | None, parent: str = ""
) -> list[str]:
    """Check a file's platform tables against what it extends (`base`, None if it extends
    nothing) and take out their `new = true` marks. A file that extends another changes
    its platforms and adds one only if the table says `new = true`: a misspelt name is
    refused, as `--set` refuses it. Refused tables are taken out of `raw`, so that they add
    no platform to the other checks. Returns the problems, in the file's order."""
    platforms = raw.get("platforms")
    if not isinstance(platforms, dict):
        return []
    have = base.get("platforms") if base is not None else None
    names = list(have) if isinstance(have, dict) else []
    problems: list[str] = []
    for name in list(platforms):
        table = platforms[name]
        flag = table.pop("new", False) if isinstance(table, dict) else False
        if flag is not True and flag is not False:
            shown = json.dumps(flag, default=str)
            problems.append(f"platforms.{name}.new: must be true or false (got {shown})")
        if not isinstance(have, dict):
            continue
        if name in have and flag is True:
            problems.append(
                f"platforms.{name}.new: {parent} already has a platform '{name}'; leave out "
                "new = true to change it, or give the new platform another name"
            )
            del platforms[name]
        elif name not in have and flag is not True:
            hint = difflib.get_close_matches(name, names, n=1)
            line = (
                f"platforms.{name}: unknown setting 'platforms.{name}': no such entry in "
                f"{parent} (have: {', '.join(names)})"
            )
            line += f"; did you mean '{hint[0]}'? Or, to" if hint else "; to"
            line += f" add a platform, write new = true in [platforms.{name}]"
            problems.append(line)
            del platforms[name]
    return problems


def _written(raw: Mapping[str, Any]) -> dict[str, int]:
    """Which of `events` and `run.days` a file writes (level 0: the file itself)."""
    run = raw.get("run")
    out = {"events": 0} if "events" in raw else {}
    if isinstance(run, Mapping) and "days" in run:
        out["days"] = 0
    return out


def _resolve_extends(
    raw: dict[str, Any], label: str, seen: tuple[str, ...] = ()
) -> tuple[dict[str, Any], list[str], dict[str, int]]:
    """`raw` merged onto what it extends; the problems of its platform tables (those tables
    are left out, so the rest can still be checked); and where `events` and `run.days` were
    written: 0 in `raw`, 1 in what it extends, and so on (absent: the defaults)."""
    written = _written(raw)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw, _platform_tables(raw, None), written
    if not isinstance(parent, str):
        raise InputError(f"{label}: extends must be a preset name or a file path, got {parent!r}")
    if parent in seen:
        raise InputError(f"{label}: extends forms a cycle: {' -> '.join((*seen, parent))}")
    base_raw, base_label = read_raw(parent)
    base, base_problems, base_written = _resolve_extends(base_raw, base_label, (*seen, parent))
    if base_problems:
        raise InputError(f"{base_label} is not valid", base_problems)
    problems = _platform_tables(raw, base, parent)
    merged = _deep_merge(base, raw)
    kinds = _leaf(raw, ("population", "kinds"))
    if isinstance(kinds, Mapping):
        ordinary_is_the_rest(merged, [f"population.kinds.{k}" for k in kinds])
    return merged, problems, {k: v + 1 for k, v in base_written.items()} | written


def ordinary_is_the_rest(raw: dict[str, Any], paths: Iterable[str]) -> None:
    """When the dotted `paths` just written into `raw` (by a file that extends another, a
    `--set`, a design point) change other kinds' shares and not `ordinary`, make `ordinary`
    the rest, 1 minus the others (`scenario.KindShares`)."""
    prefix = "population.kinds."
    changed = {p.removeprefix(prefix) for p in paths if p.startswith(prefix)}
    if changed and "ordinary" not in changed:
        kinds = _leaf(raw, ("population", "kinds"))
        if isinstance(kinds, dict):
            kinds["ordinary"] = "rest"


def owner_model(loc: Sequence[Any], model: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The model (within `model`) that holds the last key of the error location `loc`, for
    listing the keys allowed there; list indices and free keys (platform names) skipped."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = current.model_fields if isinstance(current, type) else {}
        if part in fields:
            ann = fields[part].annotation
            args = getattr(ann, "__args__", ())
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                current = ann
            elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
                current = args[-1]
            else:
                return None
        # else a free key such as a platform name: the model stays the dict's value type
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def dotted_path(loc: Iterable[Any]) -> str:
    """A pydantic error location as a dotted path: `platforms.weibo.actions[2]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def unknown_setting(path: str, key: str, known: list[str]) -> str:
    """The problem line for an unknown key: a "did you mean" or the keys allowed there."""
    hint = difflib.get_close_matches(key, known, n=1)
    line = f"{path}: unknown setting"
    if hint:
        line += f"; did you mean '{hint[0]}'?"
    elif known:
        line += f" (allowed here: {', '.join(known)})"
    return line


def format_errors(exc: ValidationError) -> list[str]:
    """One line per problem: dotted path, what is allowed, the bad value, a "did you mean"."""
    problems: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = dotted_path(loc)
        if err["type"] == "extra_forbidden":
            owner = owner_model(loc[:-1])
            known = list(owner.model_fields) if owner else []
            problems.append(unknown_setting(path, str(loc[-1]), known))
            continue
        if err["type"] == "value_error" and not loc:
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.extend(m.strip() for m in msg.split("; "))
            continue
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = err.get("input")
        field, _, rest = msg.partition(": ")
        owner = owner_model(loc) if isinstance(value, dict) else None
        if err["type"] == "value_error" and owner is not None and field in owner.model_fields:
            # a table's check that names one of its settings: "days: ..." at run.days
            problems.append(f"{dotted_path((*loc, field))}: {rest}")
            continue
        shown = json.dumps(value, default=str) if not isinstance(value, dict) else "a table"
        # a whole-table check already names the bad value in its message
        problems.append(
            f"{path}: {msg}" if isinstance(value, dict) else f"{path}: {msg} (got {shown})"
        )
    return problems


def validate(raw: Mapping[str, Any], label: str = "scenario") -> Scenario:
    """Validate a raw mapping into a Scenario, or raise InputError listing every problem."""
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{label} is not valid", format_errors(exc)) from None


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string


def path_problem(raw: Mapping[str, Any], parts: list[str]) -> str | None:
    """Why a dotted path does not name a setting, or None if it does."""
    model: Any = Scenario
    node: Any = raw
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        if isinstance(model, type) and issubclass(model, BaseModel):
            fields = model.model_fields
            if part not in fields:
                hint = difflib.get_close_matches(part, list(fields), n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else ""
                return f"unknown setting '{here}'{extra}"
            ann = fields[part].annotation
            args = getattr(ann, "__args__", ())
            node = node.get(part) if isinstance(node, Mapping) else None
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                model = ann
            elif getattr(ann, "__origin__", None) is dict and args:
                model = ("dict", args[-1])
            else:
                model = None
        elif isinstance(model, tuple):
            names = list(node) if isinstance(node, Mapping) else []
            if part not in names:
                hint = difflib.get_close_matches(part, names, n=1)
                extra = f"; did you mean '{hint[0]}'?" if hint else ""
                return f"unknown setting '{here}': no such entry (have: {', '.join(names)}){extra}"
            node = node[part]
            model = model[1]
        else:
            return f"unknown setting '{here}': '{'.'.join(parts[:depth])}' has no parts"
    return None


def apply_overrides(raw: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply `dotted.path=value` overrides (values parsed as TOML) to a raw mapping."""
    out = copy.deepcopy(raw)
    problems: list[str] = []
    written: list[str] = []
    full = validate(out).model_dump(mode="json")  # defaults filled in, so every path shows
    for item in overrides:
        if "=" not in item:
            problems.append(f"--set {item!r}: expected dotted.path=value")
            continue
        path, text = item.split("=", 1)
        parts = [p for p in path.strip().split(".") if p]
        why = path_problem(full, parts) if parts else "empty path"
        if why:
            problems.append(f"--set {path.strip()}: {why}")
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_value(text.strip())
        written.append(".".join(parts))
    if problems:
        raise InputError("bad --set option", problems)
    ordinary_is_the_rest(out, written)
    return out


def _problems(raw: Mapping[str, Any]) -> list[str]:
    try:
        Scenario.model_validate(raw)
    except ValidationError as exc:
        return format_errors(exc)
    return []


def _load_raw(source: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str, dict[str, int]]:
    if isinstance(source, Mapping):
        raw, label = copy.deepcopy(dict(source)), "scenario"
    else:
        raw, label = read_raw(source)
    raw, problems, written = _resolve_extends(raw, label)
    if problems:
        raise InputError(f"{label} is not valid", problems + _problems(raw))
    return raw, label, written


def load_raw(source: str | Path | Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """A preset name, a file or a mapping, with `extends` resolved. InputError if a file
    that extends another adds a platform without saying `new = true` (with the other
    problems of the scenario)."""
    raw, label, _ = _load_raw(source)
    return raw, label


def load_scenario(
    source: str | Path | Mapping[str, Any] | Scenario,
    overrides: Iterable[str] = (),
    *,
    users: int | None = None,
    days: float | None = None,
    seed: int | None = None,
) -> Scenario:
    """Load and validate a scenario from a preset name, a TOML file or a mapping.

    `overrides` are `dotted.path=value` strings (values in TOML syntax). `users`, `days`
    and `seed`, when given, replace the scenario's run settings. Raises `InputError`
    listing every problem at once.
    """
    written: dict[str, int] = {}
    if isinstance(source, Scenario):
        raw, label = source.model_dump(mode="json"), source.name
    else:
        raw, label, written = _load_raw(source)
        if isinstance(source, Mapping):
            written = {}  # perhaps a scenario already shortened: its events are not checked
        # check the file before the overrides, so its own problems are named as its own
        validate(raw, label)
    overrides = list(overrides)
    extra: list[str] = []
    for key, value in (("users", users), ("days", days), ("seed", seed)):
        if value is not None:
            extra.append(f"run.{key}={value}")
    if overrides or extra:
        raw = apply_overrides(raw, [*overrides, *extra])
    set_paths = {item.split("=", 1)[0].strip() for item in overrides}
    # users and days asked for by the caller: --users/users=, or --set run.users
    asked_users: tuple[Any, str] | None = None
    if users is not None:
        asked_users = (users, "--users")
    elif "run.users" in set_paths:
        asked_users = (_leaf(raw, ("run", "users")), "--set run.users")
    # events must fall within the run, unless the run was shortened after they were
    # written: by the caller (-1), or by a file that extends the one with the events
    if "events" in set_paths:
        written["events"] = -1
    if days is not None or "run.days" in set_paths:
        written["days"] = -1
    check_events = "events" in written and written["events"] <= written.get("days", math.inf)
    return _checked(raw, label, asked_users, check_events)


def _leaf(raw: Mapping[str, Any], parts: Sequence[str]) -> Any:
    node: Any = raw
    for part in parts:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _checked(
    raw: dict[str, Any],
    label: str,
    asked_users: tuple[Any, str] | None,
    check_events: bool,
) -> Scenario:
    """Validate `raw`, check its edge list (read once: see `network.edge_list_info`) and
    set `run.users` to the network's, and check that its events fall within the run;
    InputError listing every problem."""
    from tightrope.scenario.edge_lists import edge_list_info

    problems: list[str] = []
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = format_errors(exc)
    users: int | None = None
    path = _leaf(raw, ("network", "edge_list"))
    if _leaf(raw, ("network", "source")) == "edge_list" and isinstance(path, str) and path:
        try:
            users = edge_list_info(path).users
        except InputError as exc:
            problems.append(str(exc))
    if users is not None and asked_users is not None and asked_users[0] != users:
        asked, how = asked_users
        problems.append(
            f"run.users: {how} asks for {asked} users, but the edge list {path} has {users} "
            f"(its largest id + 1); with network.source = 'edge_list' the network sets the "
            f"number of users: leave out {how} or give {users}"
        )
    if scenario is not None and users is not None and scenario.network.node_attributes:
        from tightrope.scenario.node_attributes import read_node_attributes

        try:
            read_node_attributes(scenario.network.node_attributes, users, scenario.platform_names())
        except InputError as exc:
            problems.append(str(exc))
    if scenario is not None and check_events:
        problems += _late_events(scenario)
    if problems:
        raise InputError(f"{label} is not valid", problems)
    assert scenario is not None
    if users is not None and scenario.run.users != users:
        scenario.run.users = users
    return scenario


def _late_events(scenario: Scenario) -> list[str]:
    """Scheduled events that start at or after the end of the run: they would never
    happen (an event starts in the first tick at or after its day)."""
    run = scenario.run
    end = run.ticks() * run.tick_minutes
    return [
        f"events[{i}].day: the event is on day {ev.day:g}, but the run ends at day "
        f"{end / 1440:g} (run.days = {run.days:g}); an event must start before the end: "
        "move or remove it, or lengthen the run"
        for i, ev in enumerate(scenario.events)
        if int(ev.day * 1440) >= end
    ]


def canonical_json(scenario: Scenario) -> str:
    """The scenario as canonical JSON (no spaces): what the hash is taken of.

    Keys keep the model's field order and, for tables such as `platforms`, the file's order,
    since that order is part of the config: platforms are indexed in it, so their order
    changes the random draws. Keys are therefore not sorted."""
    return json.dumps(scenario.model_dump(mode="json"), separators=(",", ":"))


def config_sha256(scenario: Scenario) -> str:
    """sha256 of the canonical validated config."""
    return hashlib.sha256(canonical_json(scenario).encode()).hexdigest()
