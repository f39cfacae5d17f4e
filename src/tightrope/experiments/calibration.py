"""Calibration: fit scenario settings to published figures by likelihood.

Three pieces of input, all TOML and all validated strictly (unknown keys refused, every
problem named with its path):

* a **targets file**: `[[target]]` entries, each a published figure (`value`), the
  `Result.summary` key it is compared with (`metric`), its `uncertainty` (one standard
  deviation, for `likelihood = "normal"`) or its count `n` (for `likelihood = "binomial"`),
  and the `source` it comes from;
* a **calibration spec**: the base scenario, fixed settings (`[[fixed]]`), the settings to
  fit (`[[parameter]]`: dotted path, range, optional log scale), the run size (`users`,
  `days`), `replicates` per trial, `trials`, `seed`, and the targets (a file or inline);
* an output folder DIR.

Each trial runs the base scenario with the trial's values at `replicates` seeds (the same
seeds in every trial: common random numbers, `compare.child_seeds(seed, replicates)`),
takes the mean of each target's metric over the replicates and scores the trial by the
log-likelihood of the published figures (`target_loglik`). Optuna's TPE sampler searches
the ranges; the study lives in `DIR/journal.log` (Optuna's JournalStorage on a file), so a
second run with the same spec and folder continues where the first stopped, and several
worker processes can optimise the same study. A folder made for another spec is refused.

At the end the best trial's values are written into a scenario file `DIR/<name>.toml`
(extends the base, one comment per fitted value), that file is run again at
`validation_replicates` fresh seeds, and the fit report is written: `DIR/fit.parquet`,
`DIR/fit.md` and `DIR/trials.parquet`. See docs/calibration.md.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import json
import math
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tightrope.errors import InputError
from tightrope.experiments.seeds import child_seeds
from tightrope.results.intervals import t_interval
from tightrope.results.storage import write_text_atomic
from tightrope.scenario.files import dotted_path, owner_model, unknown_setting

FORMAT = "tightrope-calibration/1"
"""Format tag of DIR/calibration.json."""

TARGETS_PACKAGE = "tightrope.scenario.presets"
TARGETS_FOLDER = "targets"
"""Shipped targets files live in the package folder tightrope/presets/targets/."""

STUDY_NAME = "tightrope-calibration"
JOURNAL = "journal.log"
META = "calibration.json"
UNDEFINED_LOGLIK = -1.0e6
"""Log-likelihood given to a target whose metric is undefined (NaN) in every replicate of
a trial (e.g. a share of removals in a run without removals)."""

_LOCK = ".calibrate.lock"
_ASK_LOCK = ".ask.lock"


# ---------------------------------------------------------------- summary metrics


def summary_metrics() -> dict[str, bool]:
    """Every key of `Result.summary`, mapped to whether its value is a number.

    Computed from `metrics.summary` itself on an empty run (no simulation needed), so the
    list follows the code, with the keys the engine adds after it (the sanctions, turnover
    and by-platform figures), all registered in `results.intervals.SUPPORTS`."""
    from tightrope.core import counters as K
    from tightrope.model.metrics import summary
    from tightrope.results.intervals import SUPPORTS
    from tightrope.scenario.schema import Scenario

    totals = dict.fromkeys(K.TICK, 0.0)
    hist = np.zeros((2, K.N_BINS), dtype=np.int64)
    money = {"revenue": 0.0, "compliance_cost": 0.0, "fines": 0.0, "profit": 0.0}
    sc = Scenario()
    out = summary(sc, totals, hist, 1, 1.0, np.zeros(8), money, False, 0.0)
    return {k: not isinstance(v, str | bool) for k, v in out.items()} | dict.fromkeys(
        SUPPORTS, True
    )


# ---------------------------------------------------------------- validation helpers


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _problems(model: type[BaseModel], exc: ValidationError) -> list[str]:
    """One line per problem: the dotted path, what is wrong, the bad value, a did-you-mean."""
    lines: list[str] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = dotted_path(loc)
        if err["type"] == "extra_forbidden":
            owner = owner_model(loc[:-1], model)
            known = list(owner.model_fields) if owner else []
            lines.append(unknown_setting(path, str(loc[-1]), known))
            continue
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = err.get("input")
        if isinstance(value, dict) or err["type"] in ("missing", "value_error"):
            lines.append(f"{path}: {msg}")
        else:
            lines.append(f"{path}: {msg} (got {json.dumps(value, default=str)})")
    return lines


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    if not path.exists():
        raise InputError(f"{what} not found: {path}")
    if path.is_dir():
        raise InputError(f"{what} is a folder, not a TOML file: {path}")
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what} {path} is not valid TOML: {exc}") from None


# ---------------------------------------------------------------- targets


class Target(_Strict):
    """One published figure and how the model is compared with it."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(
        description="short name of the target (letters, digits, _ . -)"
    )
    metric: str = Field(description="the Result.summary key compared with the figure")
    value: float = Field(description="the published figure")
    likelihood: Literal["normal", "binomial"] = Field(
        description="normal: value ± uncertainty (one sd); binomial: a share of n items"
    )
    uncertainty: Annotated[float, Field(gt=0)] | None = Field(
        None, description="one standard deviation of the figure (normal only)"
    )
    n: Annotated[int, Field(ge=1)] | None = Field(
        None, description="number of items the published share is counted over (binomial only)"
    )
    source: Annotated[str, Field(min_length=1)] = Field(description="citation")
    note: str = Field("", description="how the figure and its uncertainty were read")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        keys = summary_metrics()
        if metric not in keys:
            hint = difflib.get_close_matches(metric, list(keys), n=1, cutoff=0.5)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise ValueError(f"unknown metric '{metric}': not a Result.summary key{extra}")
        if not keys[metric]:
            raise ValueError(f"metric '{metric}' is not a number and cannot be a target")
        return metric

    @model_validator(mode="after")
    def _uncertainty_fits_likelihood(self) -> Target:
        if self.likelihood == "normal":
            if self.uncertainty is None:
                raise ValueError(
                    "a normal target needs 'uncertainty' (one standard deviation, > 0)"
                )
            if self.n is not None:
                raise ValueError("'n' is for binomial targets; a normal target takes 'uncertainty'")
        else:
            if self.n is None:
                raise ValueError("a binomial target needs 'n' (the count the share is taken of)")
            if self.uncertainty is not None:
                raise ValueError(
                    "'uncertainty' is for normal targets; a binomial target's spread comes from n"
                )
            if not 0.0 <= self.value <= 1.0:
                raise ValueError(
                    f"a binomial target's value is a share in [0, 1], got {self.value}"
                )
        return self

    def tolerance(self) -> float:
        """Half-width of 'within the published uncertainty': the standard deviation for a
        normal target, the binomial standard deviation sqrt(value (1 - value) / n) of the
        published share for a binomial one."""
        if self.likelihood == "normal":
            assert self.uncertainty is not None
            return float(self.uncertainty)
        assert self.n is not None
        return math.sqrt(self.value * (1.0 - self.value) / self.n)


class TargetsFile(_Strict):
    """A targets file: a title and the `[[target]]` entries."""

    title: str = ""
    target: Annotated[list[Target], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> TargetsFile:
        ids = [t.id for t in self.target]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"target ids must be unique; repeated: {', '.join(dup)}")
        return self


def shipped_names(package: str, folder: str) -> list[str]:
    """Names of the TOML files shipped in the package folder `folder`, sorted."""
    where = resources.files(package).joinpath(folder)
    if not where.is_dir():
        return []
    return sorted(f.name[: -len(".toml")] for f in where.iterdir() if f.name.endswith(".toml"))


def read_shipped_or_file(
    source: str | Path,
    package: str,
    folder: str,
    kind: str,
    name_noun: str,
    file_what: str,
    relative_to: Path | None = None,
) -> tuple[dict[str, Any], str, str, Path | None]:
    """A TOML file by shipped name (in `package`/`folder`) or by path (relative paths from
    `relative_to`): (its content, the label to validate it under, its label -- the path or
    `shipped:<name>` --, and the path; None for a shipped one). `kind`, `name_noun` and
    `file_what` name the file in messages ("shipped <kind> <name> is not valid TOML", "is
    neither a shipped <name_noun> (...) nor a file", "<file_what> not found")."""
    text = str(source)
    path = Path(text)
    if not path.is_absolute() and relative_to is not None:
        path = relative_to / path
    names = shipped_names(package, folder)
    if text in names and not path.exists():
        ref = resources.files(package).joinpath(folder, f"{text}.toml")
        try:
            raw = tomllib.loads(ref.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"shipped {kind} {text} is not valid TOML: {exc}") from None
        return raw, f"{kind} {text}", f"shipped:{text}", None
    if not path.exists() and path.suffix.lower() != ".toml" and "/" not in text:
        listed = ", ".join(names) or "none"
        raise InputError(f"'{text}' is neither a shipped {name_noun} ({listed}) nor a file")
    return _read_toml(path, file_what), str(path), str(path), path


def targets_names() -> list[str]:
    """Names of the targets files shipped in tightrope/presets/targets/, sorted."""
    return shipped_names(TARGETS_PACKAGE, TARGETS_FOLDER)


def validate_targets(raw: Mapping[str, Any], label: str = "targets") -> TargetsFile:
    """Validate a raw mapping into a TargetsFile or raise InputError naming every problem."""
    try:
        return TargetsFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{label} is not valid", _problems(TargetsFile, exc)) from None


def load_targets(source: str | Path, relative_to: Path | None = None) -> tuple[TargetsFile, str]:
    """A targets file by path (relative paths from `relative_to`) or by shipped name.

    Returns the validated file and a label (the path or `shipped:<name>`)."""
    raw, what, label, _ = read_shipped_or_file(
        source, TARGETS_PACKAGE, TARGETS_FOLDER, "targets", "targets name", "targets file",
        relative_to,
    )  # fmt: skip
    return validate_targets(raw, what), label


# ---------------------------------------------------------------- likelihoods


def normal_loglik(sim: float, value: float, sd: float, se: float = 0.0) -> float:
    """log N(value | sim, sd_total) without the constant -0.5 ln(2 pi):

    -0.5 ((sim - value) / sd_total)^2 - ln(sd_total), sd_total^2 = sd^2 + se^2,

    where sd is the published standard deviation and se the standard error of the
    simulated mean over replicates."""
    total = math.sqrt(sd * sd + se * se)
    return -0.5 * ((sim - value) / total) ** 2 - math.log(total)


def binomial_loglik(p: float, value: float, n: int) -> float:
    """log Binomial(k | n, p) with k = value x n published successes (k may be fractional:
    the binomial coefficient is taken with the gamma function), p the simulated share,
    clipped to [1e-12, 1 - 1e-12]:

    ln C(n, k) + k ln p + (n - k) ln(1 - p)."""
    k = value * n
    p = min(max(p, 1e-12), 1.0 - 1e-12)
    coef = math.lgamma(n + 1.0) - math.lgamma(k + 1.0) - math.lgamma(n - k + 1.0)
    return coef + k * math.log(p) + (n - k) * math.log1p(-p)


@dataclass(frozen=True)
class TargetScore:
    """How one trial's replicates compare with one target.

    mean: mean of the metric over replicates with a finite value (n_finite of them);
    se: its standard error (sample sd / sqrt(n_finite); 0 with fewer than 2);
    loglik: the target's log-likelihood (UNDEFINED_LOGLIK when no replicate is finite)."""

    mean: float
    se: float
    n_finite: int
    loglik: float


def target_loglik(target: Target, values: Sequence[float]) -> TargetScore:
    """Score a target against the metric's values in a trial's replicates."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if x.size == 0:
        return TargetScore(math.nan, math.nan, 0, UNDEFINED_LOGLIK)
    mean = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size >= 2 else 0.0
    if target.likelihood == "normal":
        assert target.uncertainty is not None
        ll = normal_loglik(mean, target.value, target.uncertainty, se)
    else:
        assert target.n is not None
        ll = binomial_loglik(mean, target.value, target.n)
    return TargetScore(mean, se, int(x.size), ll)


# ---------------------------------------------------------------- the spec


class Parameter(_Strict):
    """A setting to fit: its dotted path in the scenario and the range searched."""

    path: Annotated[str, Field(min_length=1)]
    low: float
    high: float
    log: bool = Field(False, description="search on a log scale (needs low > 0)")

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        if not self.low < self.high:
            raise ValueError(f"low must be below high, got low = {self.low}, high = {self.high}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scale range needs low > 0, got low = {self.low}")
        return self


class Fixed(_Strict):
    """A setting the calibration changes from the base but does not fit, and why."""

    path: Annotated[str, Field(min_length=1)]
    value: Any
    reason: Annotated[str, Field(min_length=1)]


class Spec(_Strict):
    """A calibration spec (see docs/calibration.md)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] = Field(
        description="name of the calibrated scenario (and of its file DIR/<name>.toml)"
    )
    description: str = ""
    base: Annotated[str, Field(min_length=1)] = Field(
        description="preset name or scenario file (relative to the spec) that is calibrated"
    )
    targets: str | None = Field(
        None, description="targets file (relative to the spec) or shipped targets name"
    )
    target: list[Target] | None = Field(None, description="targets given inline instead")
    users: Annotated[int, Field(ge=1)]
    days: Annotated[float, Field(gt=0)]
    replicates: Annotated[int, Field(ge=1)] = 3
    trials: Annotated[int, Field(ge=1)]
    seed: Annotated[int, Field(ge=0)] = 0
    startup_trials: Annotated[int, Field(ge=1)] = 10
    validation_replicates: Annotated[int, Field(ge=2)] = 10
    fixed: list[Fixed] = Field(default_factory=list)
    parameter: Annotated[list[Parameter], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Spec:
        problems = spec_consistency(self.model_dump(mode="json"))
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _paths(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [str(i["path"]) for i in items if isinstance(i, dict) and "path" in i]


def spec_consistency(raw: Mapping[str, Any]) -> list[str]:
    """Whole-spec checks on a raw spec (they do not need the fields to be valid): targets
    given one way, unique paths and ids, no path both fixed and fitted, no run settings."""
    problems: list[str] = []
    if (raw.get("targets") is None) == (raw.get("target") is None):
        problems.append(
            'give the targets either as a file (targets = "...") or inline ([[target]]), '
            "not both and not neither"
        )
    paths = _paths(raw.get("parameter"))
    dup = sorted({p for p in paths if paths.count(p) > 1})
    if dup:
        problems.append(f"parameter paths must be unique; repeated: {', '.join(dup)}")
    fixed = _paths(raw.get("fixed"))
    both = sorted(set(paths) & set(fixed))
    if both:
        problems.append(f"a path cannot be both fixed and fitted: {', '.join(both)}")
    for p in [*paths, *fixed]:
        if p == "run" or p.startswith("run."):
            problems.append(
                f"'{p}': run settings come from the spec's users and days and the "
                "replicate seeds; they cannot be fixed or fitted"
            )
    targets = raw.get("target")
    if isinstance(targets, list):
        ids = [str(t.get("id")) for t in targets if isinstance(t, dict) and "id" in t]
        dup_ids = sorted({i for i in ids if ids.count(i) > 1})
        if dup_ids:
            problems.append(f"target ids must be unique; repeated: {', '.join(dup_ids)}")
    return problems


@dataclass
class Plan:
    """A checked spec, ready to run: everything a trial needs, and the spec's hash.

    base_raw: the base scenario with `extends` resolved and the fixed settings applied
    (a raw mapping); base_label: the base as written in the spec, or an absolute path;
    kinds: per parameter, "int" or "float"; seeds: the replicate seeds of every trial;
    validation_seeds: further seeds, not used in fitting; sha256: hash of what the trials
    depend on (see `spec_hash`)."""

    spec: Spec
    spec_path: Path | None
    base_label: str
    base_raw: dict[str, Any]
    targets: list[Target]
    targets_label: str
    kinds: list[str]
    base_values: list[Any]
    seeds: list[int]
    validation_seeds: list[int]
    sha256: str
    trials: int


def _toml_value(text: Any) -> str:
    """A value in TOML syntax on one line (an array inline, as `[1.0, 1.5]`), for the
    written scenario, its comments and the fit report's tables."""
    import tomli_w

    if isinstance(text, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in text) + "]"
    return tomli_w.dumps({"v": text}).strip()[len("v = ") :]


def _leaf(full: Mapping[str, Any], parts: Sequence[str]) -> Any:
    node: Any = full
    for part in parts:
        node = node[part]
    return node


def _base(spec: Spec, spec_dir: Path | None) -> tuple[str, str | Path]:
    """(label, source) of the base: a preset name, else a path relative to the spec."""
    from tightrope.scenario.files import preset_names

    text = spec.base
    path = Path(text)
    if text in preset_names() and not (spec_dir or Path()).joinpath(path).is_file():
        return text, text
    if not path.is_absolute() and spec_dir is not None:
        path = spec_dir / path
    if not path.exists():
        raise InputError(
            f"base: '{text}' is neither a preset ({', '.join(preset_names())}) nor a file"
        )
    return str(path.resolve()), path


def spec_hash(spec: Spec, base_raw: Mapping[str, Any], targets: Sequence[Target]) -> str:
    """sha256 of what the trials depend on: the base scenario with the fixed settings
    applied (validated, canonical JSON), the parameters, the targets, users, days,
    replicates, seed and startup_trials. Not hashed: trials (asking for more resumes),
    name, description and validation_replicates (they only shape the final outputs)."""
    from tightrope.scenario.files import canonical_json, validate

    payload = {
        "base": json.loads(canonical_json(validate(base_raw, "base"))),
        "parameters": [p.model_dump(mode="json") for p in spec.parameter],
        "targets": [t.model_dump(mode="json") for t in targets],
        "users": spec.users,
        "days": spec.days,
        "replicates": spec.replicates,
        "seed": spec.seed,
        "startup_trials": spec.startup_trials,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def plan_from_spec(spec: Spec, spec_path: Path | None = None, *, trials: int | None = None) -> Plan:
    """Check a validated spec against its base scenario and targets; InputError lists all."""
    from tightrope.scenario.files import apply_overrides, load_raw, path_problem, validate

    spec_dir = spec_path.parent if spec_path is not None else None
    problems: list[str] = []
    if trials is not None and trials < 1:
        problems.append(f"trials must be at least 1, got {trials}")
    base_label, source = _base(spec, spec_dir)
    raw, label = load_raw(source)
    validate(raw, f"base {label}")
    fixed_raw = raw
    if spec.fixed:
        try:
            candidate = apply_overrides(
                raw, [f"{f.path}={_toml_value(f.value)}" for f in spec.fixed]
            )
            validate(candidate, "base with the fixed settings")
            fixed_raw = candidate
        except InputError as exc:
            problems.extend(f"fixed: {p}" for p in (exc.problems or [str(exc)]))
    # parameters are checked against the base with the fixed settings (or without them,
    # when those are bad, so that every problem is reported at once)
    full = validate(fixed_raw, "base").model_dump(mode="json")
    kinds: list[str] = []
    base_values: list[Any] = []
    for i, par in enumerate(spec.parameter):
        where = f"parameter[{i}] ({par.path})"
        parts = [p for p in par.path.split(".") if p]
        why = path_problem(full, parts)
        if why:
            problems.append(f"{where}: {why}")
            continue
        value = _leaf(full, parts)
        if isinstance(value, bool) or not isinstance(value, int | float):
            shown = "a table" if isinstance(value, dict) else json.dumps(value)
            problems.append(f"{where}: only numeric settings can be fitted; this one is {shown}")
            continue
        kind = "int" if isinstance(value, int) else "float"
        if kind == "int" and not (float(par.low).is_integer() and float(par.high).is_integer()):
            problems.append(f"{where}: an integer setting needs whole-number low and high")
            continue
        bad = []
        for end in (par.low, par.high):
            text = str(int(end)) if kind == "int" else repr(float(end))
            try:
                validate(apply_overrides(fixed_raw, [f"{par.path}={text}"]), "scenario")
            except InputError as exc:
                bad.append(f"{text}: {'; '.join(exc.problems) or exc}")
        if bad:
            problems.append(
                f"{where}: the range [{par.low}, {par.high}] is not allowed: " + " / ".join(bad)
            )
            continue
        kinds.append(kind)
        base_values.append(value)
    targets: list[Target] = []
    targets_label = "inline"
    if spec.target is not None:
        targets = list(spec.target)
    elif spec.targets is not None:
        try:
            tf, targets_label = load_targets(spec.targets, spec_dir)
            targets = list(tf.target)
        except InputError as exc:
            problems.append(f"targets: {exc}")
    if problems:
        raise InputError("the calibration spec does not fit its base scenario", problems)
    seeds_all = child_seeds(spec.seed, spec.replicates + spec.validation_replicates)
    return Plan(
        spec=spec,
        spec_path=spec_path,
        base_label=base_label,
        base_raw=fixed_raw,
        targets=targets,
        targets_label=targets_label,
        kinds=kinds,
        base_values=base_values,
        seeds=seeds_all[: spec.replicates],
        validation_seeds=seeds_all[spec.replicates :],
        sha256=spec_hash(spec, fixed_raw, targets),
        trials=trials if trials is not None else spec.trials,
    )


def validate_spec(raw: Mapping[str, Any], label: str = "calibration spec") -> Spec:
    """Validate a raw mapping into a Spec or raise InputError naming every problem (the
    field checks and the whole-spec checks together)."""
    whole = spec_consistency(raw)
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as exc:
        fields = [p for p in _problems(Spec, exc) if not p.startswith("(top level): ")]
        raise InputError(f"{label} is not valid", fields + whole) from None
    return spec


def load_spec(path: str | Path, *, trials: int | None = None) -> Plan:
    """Read, validate and check a calibration spec file (see docs/calibration.md)."""
    path = Path(path)
    raw = _read_toml(path, "calibration spec")
    spec = validate_spec(raw, str(path))
    return plan_from_spec(spec, path.resolve(), trials=trials)


# ---------------------------------------------------------------- one trial


def _override_text(value: float, kind: str) -> str:
    return str(round(value)) if kind == "int" else repr(float(value))


def scenario_for(plan: Plan, values: Sequence[float], seed: int) -> Any:
    """The base scenario with the fixed settings and these parameter values, at the spec's
    size and the given seed (a validated Scenario)."""
    from tightrope.scenario.files import load_scenario

    overrides = [
        f"{p.path}={_override_text(v, k)}"
        for p, v, k in zip(plan.spec.parameter, values, plan.kinds, strict=True)
    ]
    return load_scenario(
        plan.base_raw, overrides, users=plan.spec.users, days=plan.spec.days, seed=seed
    )


def run_summary(scenario: Any) -> dict[str, Any] | None:
    """Run a scenario and return its summary, or None if the run was stopped because a
    calendar pool refused events (`meta.calendar_dropped` > 0: views in any shard, or other
    events).

    Why stop: such a run has lost events, so its summary is not the model's answer for
    these parameters (the extreme corners of a calibration's box can do this); the check
    runs after every tick, so a lost run costs no more than the ticks up to its loss."""
    from tightrope.engine.simulation import Simulation

    sim = Simulation(scenario)
    while sim.t < sim.n_ticks:
        sim.step()
        if sim.dropped_events > 0:  # events refused by a full calendar pool
            return None
    return dict(sim.result().summary)


def run_summaries(scenarios: Sequence[Any]) -> list[dict[str, Any] | None]:
    """Run each scenario (`run_summary`): its summary, or None for a stopped run."""
    return [run_summary(sc) for sc in scenarios]


def score(
    targets: Sequence[Target], summaries: Sequence[Mapping[str, Any] | None]
) -> dict[str, TargetScore]:
    """Each target's score over a trial's replicate summaries (None: a stopped run,
    left out)."""
    out: dict[str, TargetScore] = {}
    for t in targets:
        vals = []
        for s in summaries:
            if s is None:
                continue
            v = s.get(t.metric)
            vals.append(float(v) if isinstance(v, int | float) else math.nan)
        out[t.id] = target_loglik(t, vals)
    return out


def evaluate(plan: Plan, values: Sequence[float]) -> tuple[float, dict[str, TargetScore], int]:
    """Total log-likelihood of the targets at these values (sum over targets), each
    target's score, and the number of replicate runs stopped (`run_summary`). Runs
    `replicates` simulations with the plan's seeds. If any run was stopped, every target
    scores UNDEFINED_LOGLIK: the trial counts, as the worst possible, so the search
    leaves that region."""
    sums = run_summaries([scenario_for(plan, values, s) for s in plan.seeds])
    stopped = sum(s is None for s in sums)
    if stopped:
        undefined = TargetScore(math.nan, math.nan, 0, UNDEFINED_LOGLIK)
        scores = {t.id: undefined for t in plan.targets}
    else:
        scores = score(plan.targets, sums)
    return float(sum(s.loglik for s in scores.values())), scores, stopped


# ---------------------------------------------------------------- the study


def _quiet_optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _storage(out_dir: Path) -> Any:
    _quiet_optuna()
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(out_dir / JOURNAL)))


def _distributions(plan: Plan) -> dict[str, Any]:
    from optuna.distributions import FloatDistribution, IntDistribution

    out: dict[str, Any] = {}
    for p, kind in zip(plan.spec.parameter, plan.kinds, strict=True):
        if kind == "int":
            out[p.path] = IntDistribution(int(p.low), int(p.high), log=p.log)
        else:
            out[p.path] = FloatDistribution(p.low, p.high, log=p.log)
    return out


@contextlib.contextmanager
def _flock(path: Path, *, blocking: bool = True) -> Iterator[bool]:
    """An exclusive advisory lock on `path` (created if missing); yields False when
    `blocking` is off and another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _meta(plan: Plan) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "spec_sha256": plan.sha256,
        "study_name": STUDY_NAME,
        "base": plan.base_label,
        "parameters": [p.model_dump(mode="json") for p in plan.spec.parameter],
        "targets": [t.model_dump(mode="json") for t in plan.targets],
        "users": plan.spec.users,
        "days": plan.spec.days,
        "replicates": plan.spec.replicates,
        "seed": plan.spec.seed,
        "seeds": plan.seeds,
        "startup_trials": plan.spec.startup_trials,
    }


def check_folder(plan: Plan, out_dir: str | Path) -> Path:
    """Check that DIR is new, or holds a calibration of this same spec (by hash).

    Raises InputError for a file, a folder of another spec, or a journal without its
    calibration.json."""
    from tightrope.results.storage import check_out_dir

    out = check_out_dir(out_dir)
    meta_path = out / META
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{meta_path} cannot be read: {exc}") from None
        if meta.get("format") != FORMAT:
            raise InputError(f"{meta_path} is not a Tightrope calibration ({FORMAT})")
        if meta.get("spec_sha256") != plan.sha256:
            mine = _meta(plan)
            differs = [
                k
                for k in (
                    "base",
                    "parameters",
                    "targets",
                    "users",
                    "days",
                    "replicates",
                    "seed",
                    "startup_trials",
                )
                if meta.get(k) != mine.get(k)
            ]
            what = f" (differs in: {', '.join(differs)})" if differs else " (base scenario differs)"
            raise InputError(
                f"{out} holds a calibration of another spec{what}: its spec sha256 is "
                f"{str(meta.get('spec_sha256'))[:12]}, this spec's is {plan.sha256[:12]}; "
                "use a new folder"
            )
    elif (out / JOURNAL).exists():
        raise InputError(f"{out} has a {JOURNAL} but no {META}: not a folder this command made")
    return out


def _open_study(plan: Plan, out: Path, *, create: bool, sampler: Any = None) -> Any:
    optuna = _quiet_optuna()
    storage = _storage(out)
    if create:
        study = optuna.create_study(
            study_name=STUDY_NAME,
            storage=storage,
            direction="maximize",
            sampler=sampler,
            load_if_exists=True,
        )
        if study.user_attrs.get("spec_sha256") is None:
            study.set_user_attr("spec_sha256", plan.sha256)
        return study
    return optuna.load_study(study_name=STUDY_NAME, storage=storage, sampler=sampler)


def _count(study: Any, states: Sequence[Any]) -> int:
    return len(study.get_trials(deepcopy=False, states=tuple(states)))


def _session_seed(spec_seed: int, done: int, worker: int) -> int:
    """The sampler seed of one worker in one invocation: spawned from (spec seed, trials
    already complete when the invocation started, worker index), so a resumed study does
    not repeat the first session's draws."""
    return int(np.random.SeedSequence([spec_seed, done, worker]).generate_state(1)[0] >> 1)


def _work(plan: Plan, out: Path, sampler_seed: int, progress: Callable[[int], None] | None) -> None:
    """Ask, evaluate and tell trials until the study has `plan.trials` complete or running
    trials. Asking is serialised by a lock file, so workers never overshoot the count."""
    optuna = _quiet_optuna()
    from optuna.trial import TrialState

    sampler = optuna.samplers.TPESampler(
        seed=sampler_seed, n_startup_trials=plan.spec.startup_trials, multivariate=True
    )
    study = _open_study(plan, out, create=False, sampler=sampler)
    dists = _distributions(plan)
    names = [p.path for p in plan.spec.parameter]
    while True:
        with _flock(out / _ASK_LOCK):
            n = _count(study, (TrialState.COMPLETE, TrialState.RUNNING))
            if n >= plan.trials:
                return
            trial = study.ask(dists)
        values = [trial.params[name] for name in names]
        started = time.perf_counter()
        try:
            total, scores, stopped = evaluate(plan, values)
        except BaseException:
            study.tell(trial, state=TrialState.FAIL)
            raise
        trial.set_user_attr("seconds", time.perf_counter() - started)
        trial.set_user_attr("stopped_runs", stopped)
        trial.set_user_attr("mean", {k: _finite(s.mean) for k, s in scores.items()})
        trial.set_user_attr("se", {k: _finite(s.se) for k, s in scores.items()})
        trial.set_user_attr("loglik", {k: s.loglik for k, s in scores.items()})
        study.tell(trial, total)
        if progress is not None:
            progress(_count(study, (TrialState.COMPLETE,)))


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _worker_main(spec_json: str, spec_path: str | None, trials: int, out: str, seed: int) -> None:
    """Entry point of a worker process (spawned): rebuild the plan, then work."""
    from tightrope.engine.driver import one_thread_in_workers

    one_thread_in_workers()
    spec = Spec.model_validate_json(spec_json)
    plan = plan_from_spec(spec, Path(spec_path) if spec_path else None, trials=trials)
    _work(plan, Path(out), seed, None)


def optimise(
    plan: Plan,
    out_dir: str | Path,
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """Create or resume the study in DIR and run trials until `plan.trials` are complete.

    With `workers` > 1, that many processes optimise the same study at once. Returns the
    Optuna study. Trials left RUNNING by an interrupted earlier invocation are marked
    FAIL and do not count."""
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    out = check_folder(plan, out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _flock(out / _LOCK, blocking=False) as got:
        if not got:
            raise InputError(f"{out} is in use by another 'tightrope calibrate'")
        return _optimise_locked(plan, out, workers, progress)


def _optimise_locked(
    plan: Plan, out: Path, workers: int, progress: Callable[[int, int], None] | None
) -> Any:
    _quiet_optuna()
    from optuna.trial import TrialState

    if not (out / META).exists():
        write_text_atomic(out / META, json.dumps(_meta(plan), indent=2) + "\n")
    study = _open_study(plan, out, create=True)
    if study.user_attrs.get("spec_sha256") != plan.sha256:
        raise InputError(f"{out / JOURNAL} belongs to another spec; use a new folder")
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)  # left by an interrupted invocation
    if len(study.trials) == 0:
        inside = all(
            p.low <= v <= p.high for p, v in zip(plan.spec.parameter, plan.base_values, strict=True)
        )
        if inside:  # the base's own values first: a reference point for the fit
            study.enqueue_trial(
                {p.path: v for p, v in zip(plan.spec.parameter, plan.base_values, strict=True)}
            )
    done = _count(study, (TrialState.COMPLETE,))
    if progress is not None:
        progress(min(done, plan.trials), plan.trials)
    tick = (lambda n: progress(min(n, plan.trials), plan.trials)) if progress else None
    if workers == 1:
        _work(plan, out, _session_seed(plan.spec.seed, done, 0), tick)
    else:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        spec_path = str(plan.spec_path) if plan.spec_path else None
        procs = [
            ctx.Process(
                target=_worker_main,
                args=(
                    plan.spec.model_dump_json(),
                    spec_path,
                    plan.trials,
                    str(out),
                    _session_seed(plan.spec.seed, done, w),
                ),
            )
            for w in range(workers)
        ]
        for p in procs:
            p.start()
        try:
            while any(p.is_alive() for p in procs):
                for p in procs:
                    p.join(timeout=1.0)
                if progress is not None:
                    progress(min(_count(study, (TrialState.COMPLETE,)), plan.trials), plan.trials)
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
                    p.join()
        bad = [p.exitcode for p in procs if p.exitcode != 0]
        if bad:
            raise RuntimeError(f"{len(bad)} calibration worker(s) failed (exit codes {bad})")
    return _open_study(plan, out, create=False)


# ---------------------------------------------------------------- outputs


def _significant(x: float, digits: int = 4) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _short_source(source: str) -> str:
    return source.split(', "')[0].split(' "')[0].strip().rstrip(",")


@dataclass
class Best:
    """The chosen trial: its number, log-likelihood, values (as written) and how many
    complete trials it was chosen from."""

    number: int
    loglik: float
    values: list[float | int]
    complete: int


def best_trial(plan: Plan, study: Any) -> Best:
    """The complete trial of highest log-likelihood (the earliest on ties), values rounded
    to 4 significant digits (integers kept) as they are written into the scenario."""
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        raise InputError("the study has no complete trial")
    top = max(done, key=lambda t: (t.value, -t.number))
    names = [p.path for p in plan.spec.parameter]
    values: list[float | int] = []
    for name, kind in zip(names, plan.kinds, strict=True):
        v = top.params[name]
        values.append(int(v) if kind == "int" else _significant(float(v)))
    return Best(top.number, float(top.value), values, len(done))


def scenario_text(plan: Plan, best: Best, *, command: str | None = None) -> str:
    """The calibrated scenario as TOML: a header naming how it was made and the targets,
    `extends` the base, the run size, the fixed settings and the fitted values, each with
    a comment."""
    spec = plan.spec
    sources = list(dict.fromkeys(_short_source(t.source) for t in plan.targets))
    ids = ", ".join(t.id for t in plan.targets)
    lines = [
        f"# {spec.name}: calibrated with `tightrope calibrate` (docs/calibration.md).",
        "# Written by the tool, not by hand: re-run the command below to reproduce it.",
    ]
    if command:
        lines.append(f"#   {command}")
    lines += [
        f"# Base: {plan.base_label}. Fitted at {spec.users:,} users x {_num(spec.days)} days, "
        f"{spec.replicates} replicates per trial",
        f"# (seeds spawned from {spec.seed}); best of {best.complete} trials (trial "
        f"{best.number}), log-likelihood {best.loglik:.3f}.",
        f"# Spec sha256 {plan.sha256[:16]}. Targets ({plan.targets_label}):",
    ]
    for t in plan.targets:
        spread = (
            f"± {_num(t.uncertainty)} (normal, one sd)"
            if t.likelihood == "normal"
            else f"of n = {t.n:,} (binomial)"
        )
        lines.append(f"#   {t.id}: {t.metric} = {_num(t.value)} {spread}")
        lines.append(f"#     source: {t.source}")
    lines += [
        "# The fit report (published vs simulated, with 95% intervals over fresh seeds) is",
        "# written next to this file by the tool as fit.md.",
        f"name = {_toml_value(spec.name)}",
        f"description = {_toml_value(spec.description or f'{plan.base_label}, calibrated')}",
        f"extends = {_toml_value(plan.base_label)}",
        "",
        "[run]  # the size the calibration was fitted and validated at",
        f"users = {spec.users}",
        f"days = {_toml_value(float(spec.days))}",
    ]
    tables: dict[str, list[str]] = {}
    for f in spec.fixed:
        *head, leaf = f.path.split(".")
        tables.setdefault(".".join(_key(h) for h in head), []).extend(
            [
                f"# fixed by the calibration spec: {f.reason}",
                f"{_key(leaf)} = {_toml_value(f.value)}",
            ]
        )
    for p, v in zip(spec.parameter, best.values, strict=True):
        *head, leaf = p.path.split(".")
        scale = "log scale" if p.log else "linear scale"
        tables.setdefault(".".join(_key(h) for h in head), []).extend(
            [
                f"# fitted: {_num(v)}, searched in [{_num(p.low)}, {_num(p.high)}] ({scale}); "
                f"best of {best.complete} trials",
                f"# to targets {ids}; sources: {'; '.join(sources)}",
                f"{_key(leaf)} = {_toml_value(v)}",
            ]
        )
    for table, body in tables.items():
        lines += ["", f"[{table}]", *body]
    return "\n".join(lines) + "\n"


def _num(x: Any) -> str:
    if isinstance(x, int) and not isinstance(x, bool):
        return str(x)
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:.6g}"


FIT_COLUMNS: tuple[str, ...] = (
    "target",
    "metric",
    "likelihood",
    "value",
    "uncertainty",
    "n",
    "tolerance",
    "sim_mean",
    "sim_ci_low",
    "sim_ci_high",
    "sim_n",
    "within",
    "value_in_interval",
    "z",
    "loglik",
    "source",
)
"""Columns of DIR/fit.parquet, one row per target. `uncertainty` (normal) or `n`
(binomial) as published; `tolerance` the half-width of 'within' (Target.tolerance);
`sim_*` the validation runs' mean of the metric and its 95% t interval over `sim_n`
replicates with a finite value; `within`: |sim_mean - value| <= tolerance;
`value_in_interval`: the published value lies in the simulated interval; `z`:
(sim_mean - value) / tolerance; `loglik`: the target's log-likelihood from the validation
runs."""


@dataclass
class FitReport:
    """What `calibrate` gives back: the chosen trial, the calibrated scenario file, the
    validation rows (FIT_COLUMNS) and the files written."""

    best: Best
    scenario_path: Path
    rows: list[dict[str, Any]]
    validation_seeds: list[int]
    validation_loglik: float
    stopped_runs: int = 0
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def all_within(self) -> bool:
        return all(r["within"] for r in self.rows)


def validate_fit(plan: Plan, scenario_path: Path) -> tuple[list[dict[str, Any]], float, int]:
    """Run the written scenario file at the validation seeds and compare with the targets.

    Returns the rows (FIT_COLUMNS), the validation log-likelihood and the number of runs
    stopped (`run_summary`), which are left out of the means."""
    from tightrope.scenario.files import load_scenario

    scenarios = [
        load_scenario(scenario_path, users=plan.spec.users, days=plan.spec.days, seed=s)
        for s in plan.validation_seeds
    ]
    sums = run_summaries(scenarios)
    rows, loglik = fit_rows(plan.targets, sums)
    return rows, loglik, sum(x is None for x in sums)


def fit_rows(
    targets: Sequence[Target], sums: Sequence[Mapping[str, Any] | None]
) -> tuple[list[dict[str, Any]], float]:
    """Each target against the runs' summaries (None: a stopped run, left out): the rows
    (FIT_COLUMNS: mean and 95% t interval, within the published uncertainty, z, ...) and the
    summed log-likelihood."""
    scores = score(targets, sums)
    rows: list[dict[str, Any]] = []
    for t in targets:
        vals = [
            float(s[t.metric]) if isinstance(s.get(t.metric), int | float) else math.nan
            for s in sums
            if s is not None
        ]
        mean, lo, hi, n = t_interval(vals)
        tol = t.tolerance()
        within = bool(math.isfinite(mean) and abs(mean - t.value) <= tol)
        rows.append(
            {
                "target": t.id,
                "metric": t.metric,
                "likelihood": t.likelihood,
                "value": t.value,
                "uncertainty": t.uncertainty,
                "n": t.n,
                "tolerance": tol,
                "sim_mean": mean,
                "sim_ci_low": lo,
                "sim_ci_high": hi,
                "sim_n": n,
                "within": within,
                "value_in_interval": bool(math.isfinite(lo) and lo <= t.value <= hi),
                "z": (mean - t.value) / tol if math.isfinite(mean) and tol > 0 else math.nan,
                "loglik": scores[t.id].loglik,
                "source": t.source,
            }
        )
    return rows, float(sum(x.loglik for x in scores.values()))


def fit_table(rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """The fit rows as an Arrow table (NaN and missing as null)."""

    def num(name: str) -> pa.Array:
        vals = [r[name] for r in rows]
        return pa.array(
            [float(v) if v is not None and math.isfinite(v) else None for v in vals], pa.float64()
        )

    cols: dict[str, pa.Array] = {}
    for name in FIT_COLUMNS:
        if name in ("target", "metric", "likelihood", "source"):
            cols[name] = pa.array([r[name] for r in rows], pa.string())
        elif name in ("n", "sim_n"):
            cols[name] = pa.array([r[name] for r in rows], pa.int64())
        elif name in ("within", "value_in_interval"):
            cols[name] = pa.array([r[name] for r in rows], pa.bool_())
        else:
            cols[name] = num(name)
    return pa.table(cols)


def trials_table(plan: Plan, study: Any) -> pa.Table:
    """Every trial of the study: number, state, log-likelihood, runs stopped
    (`run_summary`), parameter values, and per target the mean of its metric over the
    trial's replicates (`mean:<target id>`)."""
    trials = study.get_trials(deepcopy=False)
    cols: dict[str, pa.Array] = {
        "trial": pa.array([t.number for t in trials], pa.int64()),
        "state": pa.array([t.state.name for t in trials], pa.string()),
        "loglik": pa.array(
            [t.value if t.value is not None else None for t in trials], pa.float64()
        ),
    }
    cols["stopped_runs"] = pa.array([t.user_attrs.get("stopped_runs") for t in trials], pa.int64())
    for p in plan.spec.parameter:
        cols[p.path] = pa.array([t.params.get(p.path) for t in trials], pa.float64())
    for tg in plan.targets:
        cols[f"mean:{tg.id}"] = pa.array(
            [(t.user_attrs.get("mean") or {}).get(tg.id) for t in trials], pa.float64()
        )
    return pa.table(cols)


def _cell(x: Any, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}g}"


def published_text(row: Mapping[str, Any]) -> str:
    """'value ± sd' (normal) or 'value (n = ...)' (binomial)."""
    if row["likelihood"] == "normal":
        return f"{_cell(row['value'])} ± {_cell(row['uncertainty'])}"
    return f"{_cell(row['value'])} (n = {row['n']:,}, ± {_cell(row['tolerance'], 2)})"


def simulated_text(row: Mapping[str, Any]) -> str:
    """'mean [low, high]' of the validation runs."""
    return f"{_cell(row['sim_mean'])} [{_cell(row['sim_ci_low'])}, {_cell(row['sim_ci_high'])}]"


def fit_markdown(plan: Plan, report: FitReport, *, command: str | None = None) -> str:
    """The fit report as Markdown (DIR/fit.md)."""
    spec = plan.spec
    out = [
        f"# Fit report: {spec.name}",
        "",
        f"Base `{plan.base_label}`; {spec.users:,} users x {_num(spec.days)} days; "
        f"{report.best.complete} complete trials of {spec.replicates} replicates each "
        f"(seeds spawned from {spec.seed}); best trial {report.best.number}, "
        f"log-likelihood {report.best.loglik:.3f} in the fit.",
    ]
    if command:
        out += ["", f"Command: `{command}`"]
    out += [
        "",
        "## Fitted values",
        "",
        "| setting | value | range searched | scale |",
        "|---|---|---|---|",
    ]
    for p, v in zip(spec.parameter, report.best.values, strict=True):
        out.append(
            f"| `{p.path}` | {_num(v)} | [{_num(p.low)}, {_num(p.high)}] | "
            f"{'log' if p.log else 'linear'} |"
        )
    if spec.fixed:
        out += [
            "",
            "## Fixed settings (not fitted)",
            "",
            "| setting | value | reason |",
            "|---|---|---|",
        ]
        for f in spec.fixed:
            out.append(f"| `{f.path}` | `{_toml_value(f.value)}` | {f.reason} |")
    out += [
        "",
        f"## Targets: published vs simulated ({len(report.validation_seeds)} validation "
        "replicates, seeds not used in fitting)",
        "",
        "Simulated: mean [95% t interval]. Within: |simulated mean - published| <= the "
        "published standard deviation (normal) or the binomial standard deviation "
        "sqrt(v(1-v)/n) (binomial).",
        "",
        "| target | metric | published | simulated | within | z | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report.rows:
        out.append(
            f"| {r['target']} | `{r['metric']}` | {published_text(r)} | {simulated_text(r)} | "
            f"{_cell(r['within'])} | {_cell(r['z'], 3)} | {r['source']} |"
        )
    verdict = (
        "every target is within its published uncertainty"
        if report.all_within
        else "NOT every target is within its published uncertainty"
    )
    out += [
        "",
        f"Validation log-likelihood {report.validation_loglik:.3f}; {verdict}.",
        f"Validation seeds: {', '.join(str(s) for s in report.validation_seeds)}.",
    ]
    if report.stopped_runs:
        out.append(
            f"{report.stopped_runs} validation run(s) were stopped because the event calendar "
            "refused events (see `calibration.run_summary`) and are left out of the means."
        )
    out.append("")
    return "\n".join(out)


def finish(plan: Plan, out_dir: str | Path, study: Any, *, command: str | None = None) -> FitReport:
    """Write the calibrated scenario (atomically), validate it over fresh seeds and write
    the fit report: DIR/<name>.toml, DIR/fit.parquet, DIR/fit.md, DIR/trials.parquet."""
    from tightrope.results.storage import write_table_atomic

    out = Path(out_dir)
    best = best_trial(plan, study)
    path = write_text_atomic(
        out / f"{plan.spec.name}.toml", scenario_text(plan, best, command=command)
    )
    rows, ll, stopped = validate_fit(plan, path)
    report = FitReport(best, path, rows, list(plan.validation_seeds), ll, stopped)
    report.files = {
        "scenario": path,
        "fit": write_table_atomic(fit_table(rows), out / "fit.parquet"),
        "trials": write_table_atomic(trials_table(plan, study), out / "trials.parquet"),
    }
    report.files["fit_md"] = write_text_atomic(
        out / "fit.md", fit_markdown(plan, report, command=command)
    )
    return report


def calibrate(
    plan: Plan,
    out_dir: str | Path,
    *,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    command: str | None = None,
) -> FitReport:
    """Run (or resume) the calibration of `plan` in `out_dir`, then write the calibrated
    scenario and the fit report. See the module docstring."""
    study = optimise(plan, out_dir, workers=workers, progress=progress)
    return finish(plan, out_dir, study, command=command)


def load_study(out_dir: str | Path) -> Any:
    """The Optuna study stored in a calibration folder (read-only use)."""
    out = Path(out_dir)
    if not (out / JOURNAL).exists():
        raise InputError(f"no calibration journal in {out}")
    optuna = _quiet_optuna()
    return optuna.load_study(study_name=STUDY_NAME, storage=_storage(out))


__all__ = [
    "FIT_COLUMNS",
    "Best",
    "FitReport",
    "Parameter",
    "Plan",
    "Spec",
    "Target",
    "TargetScore",
    "TargetsFile",
    "binomial_loglik",
    "calibrate",
    "evaluate",
    "load_spec",
    "load_study",
    "load_targets",
    "normal_loglik",
    "summary_metrics",
    "target_loglik",
    "targets_names",
    "validate_spec",
    "validate_targets",
]
