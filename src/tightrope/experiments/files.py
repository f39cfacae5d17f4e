"""Reading experiment files: which scenario to vary, how, how often, and what to measure.

An experiment file is TOML (docs/experiments.md has the full description)::

    name = "review-staff"
    base = "china-weibo-2013"        # a preset name or a scenario TOML file (relative to here)
    users = 2000                     # optional: replaces the base scenario's run.users
    days = 5                         # optional: replaces the base scenario's run.days
    seed = 1                         # root seed: design and replicate seeds are spawned from it
    replicates = 3                   # runs per design point, with the same seeds at every point
    outcomes = ["removed_share"]     # Result.summary metrics; the three goal scores are added

    [design]
    kind = "grid"                    # grid | lhs | sobol | morris

    [levers."platforms.weibo.moderation.reviewers_per_100k_users"]
    values = [0, 20, 80]

    [uncertainties."behaviour.fear_learning"]
    range = [0.01, 0.1]
    steps = 3

Everything is checked before any run, and every problem is reported at once with its dotted
path: unknown keys (with a "did you mean"), settings that do not exist in the base scenario,
values that the scenario refuses (in the scenario's own words), and designs that cannot be
built. The result is an `ExperimentSpec`: the validated experiment with its design points,
replicate seeds and hash.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import tomllib
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from tightrope.errors import InputError
from tightrope.experiments.designs import (
    Design,
    DesignSettings,
    Factor,
    build_design,
    count_points,
    morris_levels,
)
from tightrope.experiments.seeds import child_seeds
from tightrope.scenario.files import (
    format_errors,
    load_scenario,
    ordinary_is_the_rest,
    path_problem,
    preset_names,
    unknown_setting,
)
from tightrope.scenario.schema import Scenario

EXPERIMENT_FORMAT = "tightrope-experiment/1"
"""The `format` of experiment.json."""

GOAL_SCORES: tuple[str, ...] = ("order_score", "development_score", "freedom_score")
"""Outcomes every experiment records, first, whatever the file lists."""

MAX_RUNS = 1_000_000
"""The most runs (design points x replicates) one experiment may have."""

_SHOWN_BAD_POINTS = 5


# ---------------------------------------------------------------- the file's schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


PositiveFloat = Annotated[float, Field(strict=True, gt=0, allow_inf_nan=False)]


class FactorFile(_Strict):
    """`[levers."path"]` / `[uncertainties."path"]`: exactly one of values or range."""

    values: list[Any] | None = None
    range: list[Any] | None = None
    scale: Literal["linear", "log"] | None = None
    steps: Annotated[StrictInt, Field(ge=2)] | None = None


class DesignFile(_Strict):
    """`[design]`: the kind of design and its sizes."""

    kind: Literal["grid", "lhs", "sobol", "morris"]
    samples: Annotated[StrictInt, Field(ge=1)] | None = None
    calc_second_order: StrictBool | None = None
    num_levels: Annotated[StrictInt, Field(ge=2)] | None = None


class ExperimentFile(_Strict):
    """The top level of an experiment file."""

    name: Annotated[StrictStr, Field(min_length=1)]
    description: StrictStr = ""
    base: Annotated[StrictStr, Field(min_length=1)]
    users: Annotated[StrictInt, Field(ge=1)] | None = None
    days: PositiveFloat | None = None
    seed: Annotated[StrictInt, Field(ge=0)]
    replicates: Annotated[StrictInt, Field(ge=1)]
    outcomes: list[StrictStr] = Field(default_factory=list)
    design: DesignFile
    levers: dict[str, FactorFile] = Field(default_factory=dict)
    uncertainties: dict[str, FactorFile] = Field(default_factory=dict)


_CHILD_MODELS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {
    (ExperimentFile, "design"): DesignFile,
    (ExperimentFile, "levers"): FactorFile,
    (ExperimentFile, "uncertainties"): FactorFile,
}


def _key(part: Any) -> str:
    text = str(part)
    return f'"{text}"' if ("." in text or not text or " " in text) else text


def _where(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + _key(part)
    return out or "(top level)"


def _owner(loc: tuple[Any, ...]) -> type[BaseModel]:
    model: type[BaseModel] = ExperimentFile
    i = 0
    while i < len(loc):
        child = _CHILD_MODELS.get((model, str(loc[i])))
        if child is None:
            break
        model = child
        i += 2 if child is FactorFile else 1  # skip the factor's path
    return model


def _format_file_errors(exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = _where(loc)
        if err["type"] == "extra_forbidden":
            problems.append(
                unknown_setting(where, str(loc[-1]), list(_owner(loc[:-1]).model_fields))
            )
            continue
        if err["type"] == "missing":
            problems.append(f"{where}: required, missing")
            continue
        value = err.get("input")
        shown = "a table" if isinstance(value, dict) else json.dumps(value, default=str)
        problems.append(f"{where}: {err['msg']} (got {shown})")
    return problems


# ---------------------------------------------------------------- the validated experiment


@dataclass
class ExperimentSpec:
    """A validated experiment, ready to run.

    name/description: from the file; base: the base scenario as written; base_source: the
    preset name or the resolved file path it was loaded from; base_config: the validated
    base scenario (users and days applied) as a JSON mapping; users/days: the run size;
    root_seed/replicates/seeds: replicate i runs with seeds[i] at every design point
    (common random numbers); outcomes: the summary metrics recorded (goal scores first);
    design/factors/points/salib_problem: what varies and the ordered design points;
    sha256: hash of the canonical experiment (see `canonical`); source: the file, if any.
    """

    name: str
    description: str
    base: str
    base_source: str
    base_config: dict[str, Any]
    users: int
    days: float
    root_seed: int
    replicates: int
    seeds: list[int]
    outcomes: list[str]
    design: DesignSettings
    factors: list[Factor]
    points: list[dict[str, Any]]
    salib_problem: dict[str, Any] | None
    sha256: str = ""
    source: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def runs(self) -> int:
        """Design points x replicates."""
        return len(self.points) * self.replicates

    def canonical(self) -> dict[str, Any]:
        """What the experiment hash is taken of: everything that changes results, including
        the full base scenario and the design points, but not file locations or the
        description."""
        return {
            "format": EXPERIMENT_FORMAT,
            "name": self.name,
            "base_config": self.base_config,
            # the hash sorts keys, but the engine numbers platforms in their given order
            "platform_order": list(self.base_config.get("platforms", {})),
            "design": design_json(self.design),
            "factors": [factor_json(f) for f in self.factors],
            "integer_factors": [f.path for f in self.factors if f.integer],
            "outcomes": self.outcomes,
            "replicates": self.replicates,
            "root_seed": self.root_seed,
            "seeds": self.seeds,
            "points": self.points,
            "salib_problem": self.salib_problem,
        }

    def experiment_json(self) -> dict[str, Any]:
        """The content of DIR/experiment.json (see notes/experiment_contract.md)."""
        return {
            "format": EXPERIMENT_FORMAT,
            "name": self.name,
            "experiment_sha256": self.sha256,
            "base": self.base,
            "design": design_json(self.design),
            "factors": [factor_json(f) for f in self.factors],
            "salib_problem": self.salib_problem,
            "outcomes": list(self.outcomes),
            "replicates": self.replicates,
            "root_seed": self.root_seed,
            "seeds": list(self.seeds),
            "points": len(self.points),
            "users": self.users,
            "days": self.days,
        }


def design_json(d: DesignSettings) -> dict[str, Any]:
    """The design as experiment.json holds it."""
    return {
        "kind": d.kind,
        "samples": d.samples,
        "calc_second_order": bool(d.calc_second_order),
        "num_levels": d.num_levels,
    }


def factor_json(f: Factor) -> dict[str, Any]:
    """A factor as experiment.json holds it: values for a grid or a value list (a grid
    range lists its steps), low/high for a range."""
    values: list[Any] | None = None
    if f.values is not None:
        values = list(f.values)
    elif f.steps is not None:
        values = f.levels()
    return {
        "path": f.path,
        "role": f.role,
        "values": values,
        "low": None if f.low is None else float(f.low),
        "high": None if f.high is None else float(f.high),
        "scale": f.scale,
    }


def experiment_sha256(canonical: Mapping[str, Any]) -> str:
    """sha256 of the canonical experiment as sorted, compact JSON."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- reading


def load_experiment_file(path: str | Path) -> ExperimentSpec:
    """Read and validate an experiment TOML file; relative `base` paths are resolved
    against the file's folder. Raises InputError listing every problem."""
    file = Path(path)
    if not file.exists():
        raise InputError(f"experiment file not found: {file}")
    if file.is_dir():
        raise InputError(f"experiment path is a folder, not a TOML file: {file}")
    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read experiment file {file}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{file} is not valid TOML: {exc}") from None
    spec = parse_experiment(raw, folder=file.resolve().parent, label=str(file))
    spec.source = file
    return spec


def parse_experiment(
    raw: Mapping[str, Any], folder: str | Path = ".", label: str = "experiment"
) -> ExperimentSpec:
    """Validate a raw experiment mapping (as read from TOML) into an ExperimentSpec.

    `folder` is where relative `base` paths are looked for. Raises InputError listing
    every problem found.
    """
    try:
        model = ExperimentFile.model_validate(dict(raw))
    except ValidationError as exc:
        raise InputError(f"{label} is not valid", _format_file_errors(exc)) from None
    return _Checker(model, Path(folder), label).spec()


def _resolve_base(base: str, folder: Path) -> str:
    candidate = Path(base) if Path(base).is_absolute() else folder / base
    if base in preset_names() and not candidate.is_file():
        return base
    return str(candidate)


def toml_value(value: Any) -> str:
    """A design value in the TOML syntax of `--set path=value` overrides (exact for floats)."""
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    raise TypeError(f"cannot write {value!r} as a TOML value")


def overrides_for(point: Mapping[str, Any]) -> list[str]:
    """`dotted.path=value` overrides that put a design point into the base scenario."""
    return [f"{path}={toml_value(value)}" for path, value in point.items()]


@functools.lru_cache(maxsize=1)
def summary_metrics() -> dict[str, bool]:
    """Every name in Result.summary and whether it is a number, from a one-tick run of 20
    users (the names do not depend on the scenario)."""
    from tightrope.engine import driver

    sc = load_scenario(Scenario().model_dump(mode="json"), users=20, days=1 / 24, seed=0)
    summary = driver.run(sc).summary
    return {
        k: (isinstance(v, int | float) and not isinstance(v, bool)) or v is None
        for k, v in summary.items()
    }


def _kind_name(kind: str) -> str:
    return {"number": "a number", "integer": "an integer", "boolean": "a true/false",
            "text": "a text", "choice": "a choice"}.get(kind, kind)  # fmt: skip


def _leaf_kind(path: str) -> tuple[str, tuple[Any, ...]]:
    """("number" | "integer" | "boolean" | "text" | "choice" | "table" | "list", choices)."""
    model: Any = Scenario
    ann: Any = None
    for part in path.split("."):
        if isinstance(model, type) and issubclass(model, BaseModel):
            ann = model.model_fields[part].annotation
        elif isinstance(model, tuple):  # a dict's free key: its value type
            ann = model[1]
        else:
            return "list", ()
        ann = strip_optional(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            model = ann
        elif typing.get_origin(ann) is dict:
            model = ("dict", typing.get_args(ann)[-1])
        else:
            model = None
    if model is not None:
        return "table", ()
    if ann is bool:
        return "boolean", ()
    if ann is int:
        return "integer", ()
    if ann is float:
        return "number", ()
    if ann is str:
        return "text", ()
    if typing.get_origin(ann) is Literal:
        return "choice", typing.get_args(ann)
    return "list", ()


def strip_optional(ann: Any) -> Any:
    """`X | None` (or `Optional[X]`) as X; any other annotation as it is."""
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def _leaf_paths(node: Any, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return [prefix]
    out: list[str] = []
    for key, value in node.items():
        out += _leaf_paths(value, f"{prefix}.{key}" if prefix else str(key))
    return out


class _Checker:
    """Collects every problem of an experiment, then builds the spec."""

    def __init__(self, model: ExperimentFile, folder: Path, label: str) -> None:
        self.m = model
        self.folder = folder
        self.label = label
        self.problems: list[str] = []

    def fail(self, text: str) -> None:
        self.problems.append(text)

    def raise_if_problems(self) -> None:
        if self.problems:
            raise InputError(f"{self.label} is not valid", self.problems)

    # ---------------------------------------------------------------- steps

    def spec(self) -> ExperimentSpec:
        m = self.m
        base_source = _resolve_base(m.base, self.folder)
        base = self._load_base(base_source)
        settings = self._design()
        factors = self._factors(base, settings)
        outcomes = self._outcomes()
        self.raise_if_problems()
        assert base is not None
        assert settings is not None
        n_points = count_points(factors, settings)
        if n_points * m.replicates > MAX_RUNS:
            raise InputError(
                f"{self.label}: the design has {n_points:,} points x {m.replicates} replicates "
                f"= {n_points * m.replicates:,} runs; at most {MAX_RUNS:,} are allowed "
                "(use fewer values, steps or samples)"
            )
        design = build_design(factors, settings, m.seed)
        base_config = base.model_dump(mode="json")
        self._check_points(base_config, design)
        self.raise_if_problems()
        spec = ExperimentSpec(
            name=m.name,
            description=m.description,
            base=m.base,
            base_source=base_source,
            base_config=base_config,  # key order kept: platform order matters to the engine
            users=int(base.run.users),
            days=float(base.run.days),
            root_seed=m.seed,
            replicates=m.replicates,
            seeds=child_seeds(m.seed, m.replicates),
            outcomes=outcomes,
            design=settings,
            factors=factors,
            points=design.points,
            salib_problem=design.salib_problem,
        )
        if any(f.integer and f.is_range for f in factors):
            spec.notes.append("values of integer settings are rounded to the nearest integer")
        spec.sha256 = experiment_sha256(spec.canonical())
        return spec

    def _load_base(self, source: str) -> Scenario | None:
        m = self.m
        if source not in preset_names() and not Path(source).is_file():
            shown = m.base if Path(m.base).is_absolute() else f"{m.base} (looked for {source})"
            if Path(source).is_dir():
                self.fail(f"base: {shown} is a folder, not a scenario TOML file")
            else:
                self.fail(
                    f"base: '{shown}' is neither a preset nor a scenario file; "
                    f"the presets are: {', '.join(preset_names())}"
                )
            return None
        try:
            return load_scenario(source, users=m.users, days=m.days)
        except InputError as exc:
            self.fail(f"base: {exc}")
            return None

    def _design(self) -> DesignSettings | None:
        d = self.m.design
        kind = d.kind
        ok = True
        if kind == "grid" and d.samples is not None:
            self.fail("design.samples: a grid design takes no samples: its points are every "
                      "combination of the factors' values")  # fmt: skip
            ok = False
        if kind in ("lhs", "sobol", "morris") and d.samples is None:
            what = {"lhs": "the number of points", "sobol": "SALib's N, a power of two",
                    "morris": "the number of trajectories"}[kind]  # fmt: skip
            self.fail(f"design.samples: required for a {kind} design ({what})")
            ok = False
        if kind == "sobol" and d.samples is not None and d.samples & (d.samples - 1):
            lo = 1 << (d.samples.bit_length() - 1)
            self.fail(f"design.samples: a sobol design needs a power of two (SALib's N), "
                      f"got {d.samples}; try {lo} or {lo * 2}")  # fmt: skip
            ok = False
        if kind == "morris" and d.samples is not None and d.samples < 2:
            self.fail(f"design.samples: a morris design needs at least 2 trajectories, "
                      f"got {d.samples}")  # fmt: skip
            ok = False
        if d.calc_second_order is not None and kind != "sobol":
            self.fail(f"design.calc_second_order: only for sobol designs, not {kind}")
            ok = False
        if d.num_levels is not None and kind != "morris":
            self.fail(f"design.num_levels: only for morris designs, not {kind}")
            ok = False
        num_levels = d.num_levels if d.num_levels is not None else 4
        if kind == "morris" and num_levels % 2:
            self.fail(f"design.num_levels: SALib's Morris design needs an even number of "
                      f"levels, got {num_levels}")  # fmt: skip
            ok = False
        if not ok:
            return None
        return DesignSettings(
            kind=kind,
            samples=d.samples,
            calc_second_order=bool(d.calc_second_order) if kind == "sobol" else False,
            num_levels=num_levels if kind == "morris" else None,
        )

    def _factors(self, base: Scenario | None, settings: DesignSettings | None) -> list[Factor]:
        m = self.m
        if not m.levers:
            self.fail(
                'levers: an experiment needs at least one lever (a [levers."dotted.path"] '
                "table with values = [...] or range = [low, high]), e.g. "
                '[levers."state.punishment.severity"] values = [0.0, 0.5]'
            )
        for path in sorted(set(m.levers) & set(m.uncertainties)):
            self.fail(f'uncertainties."{path}": {path} is also a lever; a setting can be one '
                      "or the other")  # fmt: skip
        full = base.model_dump(mode="json") if base is not None else None
        leaves = _leaf_paths(full) if full is not None else []
        out: list[Factor] = []
        for role, table in (("lever", m.levers), ("uncertainty", m.uncertainties)):
            group = "levers" if role == "lever" else "uncertainties"
            for path, ff in table.items():
                factor = self._factor(f'{group}."{path}"', role, path, ff, full, leaves,
                                      settings)  # fmt: skip
                if factor is not None:
                    out.append(factor)
        return out

    def _factor(
        self,
        where: str,
        role: str,
        path: str,
        ff: FactorFile,
        full: dict[str, Any] | None,
        leaves: list[str],
        settings: DesignSettings | None,
    ) -> Factor | None:
        before = len(self.problems)
        kind = self._setting_kind(where, path, full, leaves)
        has_values, has_range = ff.values is not None, ff.range is not None
        if has_values == has_range:
            self.fail(f"{where}: give exactly one of values = [...] or range = [low, high]")
            return None
        design_kind = self.m.design.kind
        values: tuple[Any, ...] | None = None
        low = high = None
        if ff.values is not None:
            values = self._values(where, ff.values)
            if ff.scale is not None:
                self.fail(f"{where}: scale applies to ranges only, not to values = [...]")
            if ff.steps is not None:
                self.fail(f"{where}: steps applies to ranges only, not to values = [...]")
            if design_kind in ("sobol", "morris"):
                self.fail(f"{where}: a {design_kind} design samples ranges only; "
                          "give range = [low, high] instead of values")  # fmt: skip
        else:
            assert ff.range is not None
            low, high = self._range(where, ff.range, ff.scale or "linear")
            if kind in ("boolean", "text", "choice"):
                self.fail(f"{where}: range needs a numeric setting; {path} is "
                          f"{_kind_name(kind)} setting (use values = [...])")  # fmt: skip
            if design_kind == "grid" and ff.steps is None:
                self.fail(f"{where}: a range in a grid design needs steps = n "
                          "(n evenly spaced values from low to high)")  # fmt: skip
            if design_kind != "grid" and ff.steps is not None:
                self.fail(f"{where}: steps is for grid designs; a {design_kind} design "
                          "samples the range")  # fmt: skip
        if len(self.problems) > before or kind is None:
            return None
        factor = Factor(
            path=path,
            role="lever" if role == "lever" else "uncertainty",
            values=values,
            low=low,
            high=high,
            scale=ff.scale or "linear",
            steps=ff.steps,
            integer=kind == "integer",
        )
        self._check_factor_values(where, factor, full, design_kind, settings)
        return factor if len(self.problems) == before else None

    def _setting_kind(
        self, where: str, path: str, full: dict[str, Any] | None, leaves: list[str]
    ) -> str | None:
        parts = path.split(".")
        if not path or any(not p.strip() for p in parts):
            self.fail(f"{where}: not a dotted path such as state.punishment.severity")
            return None
        if full is None:
            return None  # the base scenario did not load; that problem is already listed
        why = path_problem(full, parts)
        if why is not None:
            close = difflib.get_close_matches(path, leaves, n=3, cutoff=0.6)
            extra = f"; close settings: {', '.join(close)}" if close else ""
            self.fail(f"{where}: {why} in the base scenario{extra}")
            return None
        if parts[0] in ("name", "description"):
            self.fail(f"{where}: {path} is a label, not a setting an experiment can vary")
            return None
        if parts[0] == "run" and len(parts) == 2 and parts[1] in ("seed", "users", "days"):
            who = ("the experiment's seed and replicates" if parts[1] == "seed"
                   else f"the experiment's top-level {parts[1]}")  # fmt: skip
            self.fail(f"{where}: {path} is set by {who}, not by a factor")
            return None
        kind, _ = _leaf_kind(path)
        if kind == "table":
            inside = [p for p in leaves if p.startswith(path + ".")][:3]
            self.fail(f"{where}: {path} is a table, not a setting; vary a setting inside it "
                      f"such as {', '.join(inside)}")  # fmt: skip
            return None
        if kind == "list":
            self.fail(f"{where}: {path} is a list setting; experiments vary single numbers, "
                      "texts or true/false settings")  # fmt: skip
            return None
        return kind

    def _values(self, where: str, raw: list[Any]) -> tuple[Any, ...] | None:
        if not raw:
            self.fail(f"{where}: values must list at least one value")
            return None
        kinds = set()
        for v in raw:
            if isinstance(v, bool):
                kinds.add("boolean")
            elif isinstance(v, int | float):
                if not math.isfinite(v):
                    self.fail(f"{where}: values must be finite numbers, got {v}")
                    return None
                kinds.add("number")
            elif isinstance(v, str):
                kinds.add("text")
            else:
                self.fail(f"{where}: values may be numbers, texts or true/false, got "
                          f"{json.dumps(v, default=str)}")  # fmt: skip
                return None
        if len(kinds) > 1:
            self.fail(f"{where}: values must all be numbers, all texts or all true/false; "
                      f"got a mix of {' and '.join(sorted(kinds))}")  # fmt: skip
            return None
        seen: list[Any] = []
        for v in raw:  # one kind only, so == compares like with like
            if v in seen:
                self.fail(f"{where}: value {json.dumps(v)} is listed twice")
                return None
            seen.append(v)
        return tuple(raw)

    def _range(self, where: str, raw: list[Any], scale: str) -> tuple[float | None, float | None]:
        if len(raw) != 2 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in raw
        ):
            self.fail(f"{where}: range must be [low, high], two numbers, got "
                      f"{json.dumps(raw, default=str)}")  # fmt: skip
            return None, None
        low, high = float(raw[0]), float(raw[1])
        if not (math.isfinite(low) and math.isfinite(high)):
            self.fail(f"{where}: range must be finite numbers, got [{raw[0]}, {raw[1]}]")
            return None, None
        if low > high:
            self.fail(f"{where}: range low {raw[0]} is above high {raw[1]}; "
                      "write range = [low, high]")  # fmt: skip
            return None, None
        if low == high:
            self.fail(f"{where}: range low and high are both {raw[0]}; for one value "
                      f"write values = [{raw[0]}]")  # fmt: skip
            return None, None
        if scale == "log" and low <= 0:
            self.fail(f"{where}: a log scale needs low above 0, got {raw[0]} "
                      "(use scale = \"linear\" or a positive low)")  # fmt: skip
            return None, None
        return low, high

    def _check_factor_values(
        self,
        where: str,
        f: Factor,
        full: dict[str, Any] | None,
        design_kind: str | None,
        settings: DesignSettings | None,
    ) -> None:
        """Apply each listed value, or each end of a range (each grid step), on its own to
        the base scenario and report what the scenario refuses, in its own words."""
        if full is None:
            return
        if f.values is not None:
            candidates = list(f.values)
        elif design_kind == "grid" and f.steps is not None:
            candidates = f.levels()
            if len(set(candidates)) < len(candidates):
                self.fail(f"{where}: {f.path} is an integer setting and {f.steps} steps over "
                          f"[{f.low:g}, {f.high:g}] round to repeated values {candidates}; use "
                          "fewer steps or values = [...]")  # fmt: skip
                return
        else:
            candidates = [f.plain(v) for v in f.finish([f.low, f.high])]
            if f.integer and candidates[0] == candidates[1]:
                self.fail(f"{where}: {f.path} is an integer setting and the range "
                          f"[{f.low:g}, {f.high:g}] rounds to the single value "
                          f"{candidates[0]}; widen it or write values = [...]")  # fmt: skip
                return
        if design_kind == "morris" and f.integer and settings is not None:
            levels = morris_levels(f, settings.num_levels or 4)
            if len(set(levels)) < len(levels):
                self.fail(f"{where}: {f.path} is an integer setting and the {len(levels)} "
                          f"Morris levels over [{f.low:g}, {f.high:g}] round to repeated "
                          f"values {[int(v) for v in levels]}; widen the range or use "
                          "fewer num_levels")  # fmt: skip
                return
        for value in candidates:
            try:
                load_scenario(full, overrides_for({f.path: value}))
            except InputError as exc:
                said = "; ".join(exc.problems) if exc.problems else exc.what
                self.fail(f"{where}: value {toml_value(value)} makes the base scenario "
                          f"invalid: {said}")  # fmt: skip

    def _outcomes(self) -> list[str]:
        known = summary_metrics()
        out = list(GOAL_SCORES)
        for name in self.m.outcomes:
            if name not in known:
                hint = difflib.get_close_matches(name, list(known), n=1)
                line = f"outcomes: unknown metric '{name}'"
                if hint:
                    line += f"; did you mean '{hint[0]}'?"
                else:
                    nums = sorted(k for k, num in known.items() if num)
                    line += f" (the metrics are: {', '.join(nums)})"
                self.fail(line)
            elif not known[name]:
                self.fail(f"outcomes: '{name}' is text, not a number, and cannot be an outcome")
            elif name not in out:
                out.append(name)
        return out

    def _check_points(self, base_config: dict[str, Any], design: Design) -> None:
        """Every design point must give a valid scenario (combinations can break rules that
        single values keep, such as shares that must not all be zero)."""
        text = json.dumps(base_config)
        bad: list[str] = []
        n_bad = 0
        for i, point in enumerate(design.points):
            raw = json.loads(text)
            for path, value in point.items():
                node = raw
                parts = path.split(".")
                for part in parts[:-1]:
                    node = node[part]
                node[parts[-1]] = value
            ordinary_is_the_rest(raw, point)  # as a --set of the same values would
            try:
                Scenario.model_validate(raw)
            except ValidationError as exc:
                n_bad += 1
                if len(bad) < _SHOWN_BAD_POINTS:
                    shown = ", ".join(f"{p}={toml_value(v)}" for p, v in point.items())
                    bad.append(f"design point {i} ({shown}) makes the base scenario invalid: "
                               + "; ".join(format_errors(exc)))  # fmt: skip
        self.problems += bad
        if n_bad > len(bad):
            self.fail(f"... and {n_bad - len(bad)} more invalid design points")
