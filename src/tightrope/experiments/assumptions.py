"""What the model does not know: a Morris screening over every behavioural setting.

The *behavioural settings* are the numbers that describe the people and their society
rather than the regime: every numeric setting under `population`, `behaviour`,
`mobilisation` and `content` (the content categories' shares, virality, harm, sensitivity,
offensiveness and grievance boost). They are found by walking the scenario schema
(`tightrope.scenario.schema.Scenario`), so a setting added to one of these sections is
screened without any change here; `tests/test_assumptions.py` fails when a numeric
setting of these sections is neither in the catalogue nor in `EXCLUDED` with its reason.

Each catalogued setting gets a range around the preset's value (`setting_range`):

- **odds** (settings bounded to [0, 1]: shares, probabilities, means of traits in [0, 1]):
  the odds p / (1 - p) divided and multiplied by FACTOR (1.5), that is
  [p / (1.5 - 0.5 p), 1.5 p / (1 + 0.5 p)]. For small values this is two thirds to one and
  a half times the value; it never reaches 0 or 1 (a value of 1 is tried from 1 / 1.5 up
  to 1);
- **scale** (other settings that cannot be negative): the value / 1.5 to x 1.5, clipped to
  the schema's bounds;
- **centred** (settings that may be negative, such as `population.stance_mean`): the
  preset's value plus or minus a quarter of the schema's range, clipped to it;
- **joint caps** (`JOINT_CAPS`): settings whose sum the schema bounds (the exposure to the
  state of a private post, `exposure_private + exposure_private_data <= 1`) have their
  upper ends pulled toward the preset's values until every combination is valid.

Multiplicative ranges are sampled on a log scale (the preset's value is their geometric
centre); centred ranges on a linear scale. A setting at 0 in the preset (a mechanism that
is off, or a category without that property) has no multiplicative range and is not
screened; it is listed with that reason. Settings the schema bounds only at zero are
never pushed past their bounds.

`assumptions_spec` turns the catalogue into an ordinary `ExperimentSpec` (a Morris design
through `tightrope.experiments.files.parse_experiment`, every setting an uncertainty), so
the screening runs, is stored, resumed and analysed exactly as any experiment
(docs/experiments.md, docs/analysis.md); `tightrope assumptions` is its command and
docs/assumptions.md its ranking.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import math
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tightrope.errors import InputError
from tightrope.experiments.designs import Factor, morris_levels
from tightrope.experiments.files import (
    ExperimentSpec,
    experiment_sha256,
    parse_experiment,
    strip_optional,
    summary_metrics,
)
from tightrope.scenario.files import load_scenario, preset_names
from tightrope.scenario.schema import Scenario

SECTIONS: tuple[str, ...] = ("population", "behaviour", "mobilisation", "content")
"""The sections of the scenario whose numeric settings are behavioural (the society)."""

OTHER_SECTIONS: dict[str, str] = {
    "name": "a label: the scenario's name",
    "description": "a label: free text about the scenario",
    "run": "the size, length, tick and seed of a run, not a fact about people",
    "network": "the follower graph's structure: not behaviour (who follows whom is drawn "
    "once from it); several of its settings are fitted to published network figures "
    "(docs/model.md 4, `tightrope facts`); not screened here",
    "baseline": "the evaluation baseline (which categories count as legitimate): a definition",
    "platforms": "the platforms' own choices (moderation, feeds, economics, compliance): "
    "regime levers",
    "state": "the state's choices (rules, inspection, sanctions, punishment, officials, "
    "paid commenters): regime levers",
    "events": "scheduled shocks, the same stress in every preset; the runs of the screening "
    "are shorter than the first shock",
    "random_events": "random shocks, off in the shipped presets (rates 0)",
    "ranking": "how the platforms rank their feeds: a regime lever",
    "metrics": "the goal scores' reference points: definitions of the measure, not of the society",
}
"""Every other top-level section of the scenario, with why it is not screened."""

EXCLUDED: dict[str, str] = {
    "population.kinds.ordinary": "the rest: 1 minus the other kinds' shares, so it moves with them",
    "population.kinds.official": "the state's own accounts: a regime lever (with state.officials)",
    "population.kinds.paid_commenter": "the state's paid commenters: a regime lever (with "
    "state.paid_commenters)",
    "population.activity_multiplier.official": "no effect: official accounts post at "
    "state.officials.posts_per_day (core/world.py draw_people)",
    "population.activity_multiplier.paid_commenter": "no effect: paid commenters post at "
    "state.paid_commenters.posts_per_day (core/world.py draw_people)",
    "population.diurnal": "a list of 24 hourly weights, normalised to mean 1 (docs/model.md "
    "12): only its shape matters, and an experiment varies single numbers",
    "behaviour.exposure_weights": "a list (the reshare chance's multiplier at a viewer's 1st, "
    "2nd, ... view of a post, the 1st being 1 by definition): an experiment varies single "
    "numbers; its shape is from Bao et al. 2013 (docs/model.md 7.5.1)",
    "content.illegal_harm.harm_per_view": "the unit of harm (1 by definition): the other "
    "categories' harm and the order score's references are in its units",
}
"""Numeric behavioural settings that are not screened, whatever the preset, and why."""

JOINT_CAPS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("behaviour.exposure_private", "behaviour.exposure_private_data"), 1.0),
)
"""Groups of settings whose sum the schema caps (Behaviour._exposure_at_most_one)."""

ZERO_REASON = "0 in the preset (off, or a category without this property): a multiple of 0 is 0"

GOAL_PARTS: tuple[str, ...] = (
    "harm_views_per_user",
    "rumor_views_per_user",
    "incidents",
    "active_share",
    "views_per_user_day",
    "profit_margin",
    "self_censored_share",
    "wrongful_removal_share",
    "criticism_views_per_user",
    "requests_answered_share",
)
"""Outcomes recorded besides the three goal scores: key parts of each (docs/model.md 11.1):
order (harm, rumour views, incidents), development (active share, views, margin), freedom
(self-censorship, wrongful removals, criticism seen, requests answered)."""


def goal_parts() -> list[str]:
    """GOAL_PARTS that a run's summary still has as numbers (the goal scores' formulas may
    change; a part that is gone is left out rather than refused)."""
    known = summary_metrics()
    return [p for p in GOAL_PARTS if known.get(p)]


DEFAULT_PRESET = "china-weibo-2013"
DEFAULT_TRAJECTORIES = 4
DEFAULT_USERS = 4000
DEFAULT_DAYS = 7.0
DEFAULT_SEED = 20240601
DEFAULT_LEVELS = 4

FACTOR = 1.5
"""Multiplicative ranges go from the preset's value / FACTOR to x FACTOR (odds likewise).
Half to double (2) was tried first: `behaviour.reshare_base` doubled, with other settings
high, makes the reshare cascades supercritical (views and the cost of each tick grow
without bound: a 7-day run of 4,000 users did not end), so the screening would describe
a different, exploding model and never finish."""

Rule = Literal["odds", "scale", "centred"]


@dataclass(frozen=True)
class Leaf:
    """A numeric setting of the schema: its dotted path (per-category and per-kind tables
    spelled out), whether it holds an integer or a list, its bounds and its description."""

    path: str
    integer: bool
    is_list: bool
    low: float | None
    high: float | None
    low_open: bool
    high_open: bool
    description: str


@dataclass(frozen=True)
class Setting:
    """A screened setting: its preset value, the range tried, its scale and the rule that
    gave the range (odds, scale, centred; "+ cap" where a joint cap lowered its top)."""

    path: str
    value: float
    low: float
    high: float
    scale: Literal["linear", "log"]
    rule: str
    integer: bool
    description: str
    schema_low: float | None
    schema_high: float | None


@dataclass(frozen=True)
class Excluded:
    """A numeric behavioural setting that is not screened, with its value and why."""

    path: str
    value: Any
    reason: str


# ---------------------------------------------------------------- the schema's settings


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None, bool, bool]:
    low = high = None
    low_open = high_open = False
    for m in metadata:
        if isinstance(m, Ge):
            low, low_open = float(m.ge), False  # type: ignore[arg-type]
        elif isinstance(m, Gt):
            low, low_open = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, Le):
            high, high_open = float(m.le), False  # type: ignore[arg-type]
        elif isinstance(m, Lt):
            high, high_open = float(m.lt), True  # type: ignore[arg-type]
    return low, high, low_open, high_open


def _numeric(ann: Any) -> tuple[bool, bool, list[Any]] | None:
    """(integer, is_list, bound metadata) of a numeric annotation, else None."""
    ann = strip_optional(ann)
    if typing.get_origin(ann) is list:
        (item,) = typing.get_args(ann)
        inner = _numeric(item)
        return None if inner is None else (inner[0], True, inner[2])
    meta: list[Any] = []
    if typing.get_origin(ann) is typing.Annotated:
        ann, *extra = typing.get_args(ann)
        for e in extra:
            meta += list(getattr(e, "metadata", [])) if isinstance(e, FieldInfo) else [e]
    if ann is bool:
        return None
    if ann is int:
        return True, False, meta
    if ann is float:
        return False, False, meta
    return None


def _walk(model: type[BaseModel], prefix: str) -> Iterator[Leaf]:
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}"
        ann = strip_optional(info.annotation)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _walk(ann, path)
            continue
        kind = _numeric(ann)
        if kind is None:
            continue
        integer, is_list, meta = kind
        low, high, low_open, high_open = _bounds([*meta, *info.metadata])
        yield Leaf(path, integer, is_list, low, high, low_open, high_open,
                   info.description or "")  # fmt: skip


def behavioural_settings() -> list[Leaf]:
    """Every numeric setting (numbers and lists of numbers) of the behavioural sections,
    in the schema's order, found by walking the scenario's pydantic models."""
    out: list[Leaf] = []
    for section in SECTIONS:
        ann = strip_optional(Scenario.model_fields[section].annotation)
        out += list(_walk(ann, section))
    return out


# ---------------------------------------------------------------- ranges


def _get(config: Mapping[str, Any], path: str) -> Any:
    node: Any = config
    for part in path.split("."):
        node = node[part]
    return node


def setting_range(leaf: Leaf, value: float) -> tuple[float, float, Literal["linear", "log"], Rule]:
    """The range tried for a setting at `value` (see the module docstring): (low, high,
    scale, rule). `value` must not be 0 unless the setting may be negative."""
    lo, hi = leaf.low, leaf.high
    if lo is None or lo < 0:  # may be negative: centred on the value
        width = (hi - lo) / 4 if lo is not None and hi is not None else abs(value) / 2 or 1.0
        a, b = value - width, value + width
        if lo is not None:
            a = max(a, lo)
        if hi is not None:
            b = min(b, hi)
        return a, b, "linear", "centred"
    k = FACTOR
    if lo == 0 and hi == 1 and not leaf.integer:
        if value >= 1:
            return value / k, value, "log", "odds"
        return value / (k - (k - 1) * value), k * value / (1 + (k - 1) * value), "log", "odds"
    a, b = value / k, value * k
    if hi is not None:
        b = min(b, hi * (1 - 1e-12) if leaf.high_open else hi)
    a = max(a, lo)
    if leaf.integer:
        a, b = float(math.ceil(a)), float(math.floor(b))
    return a, b, "log", "scale"


def _capped(settings: list[Setting], config: Mapping[str, Any]) -> list[Setting]:
    """Pull the tops of JOINT_CAPS groups toward the preset's values (all by the same
    share of their headroom) until the sum of the tops is within the cap; a member that is
    not screened counts at its preset value."""
    by_path = {s.path: s for s in settings}
    for paths, cap in JOINT_CAPS:
        group = [by_path[p] for p in paths if p in by_path]
        fixed = sum(float(_get(config, p)) for p in paths if p not in by_path)
        excess = sum(s.high - s.value for s in group)
        if not group or fixed + sum(s.high for s in group) <= cap or excess <= 0:
            continue
        k = max(0.0, (cap - fixed - sum(s.value for s in group)) / excess)
        for s in group:
            by_path[s.path] = dataclasses.replace(
                s, high=s.value + (s.high - s.value) * k, rule=f"{s.rule} + cap"
            )
    return [by_path[s.path] for s in settings]


def catalogue(scenario: Scenario | str = DEFAULT_PRESET) -> tuple[list[Setting], list[Excluded]]:
    """The behavioural settings screened for a scenario (a preset name or a Scenario) with
    their ranges, and those that are not, each with its reason."""
    if isinstance(scenario, str):
        scenario = load_scenario(scenario)
    config = scenario.model_dump(mode="json")
    settings: list[Setting] = []
    excluded: list[Excluded] = []
    for leaf in behavioural_settings():
        value = _get(config, leaf.path)
        if leaf.path in EXCLUDED:
            excluded.append(Excluded(leaf.path, value, EXCLUDED[leaf.path]))
            continue
        if leaf.is_list:
            why = "a list of numbers: an experiment varies single numbers (add it to EXCLUDED)"
            excluded.append(Excluded(leaf.path, value, why))
            continue
        value = float(value)
        if value == 0 and (leaf.low is not None and leaf.low >= 0):
            excluded.append(Excluded(leaf.path, value, ZERO_REASON))
            continue
        low, high, scale, rule = setting_range(leaf, value)
        if leaf.integer and low < high:  # Morris levels rounded to integers must differ
            f = Factor(leaf.path, "uncertainty", low=low, high=high, scale=scale, integer=True)
            levels = morris_levels(f, DEFAULT_LEVELS)
            if len(set(levels)) < len(levels):
                why = (f"an integer setting whose range {low:g} to {high:g} gives fewer than "
                       f"{DEFAULT_LEVELS} whole Morris levels")  # fmt: skip
                excluded.append(Excluded(leaf.path, value, why))
                continue
        if not low < high:
            excluded.append(Excluded(leaf.path, value, f"its range rule ({rule}) leaves no "
                                     f"room within the schema's bounds at {value:g}"))  # fmt: skip
            continue
        settings.append(Setting(leaf.path, value, low, high, scale, rule, leaf.integer,
                                leaf.description, leaf.low, leaf.high))  # fmt: skip
    return _capped(settings, config), excluded


# ---------------------------------------------------------------- the experiment


def check_options(
    preset: str,
    trajectories: int,
    users: int,
    days: float,
    seed: int,
    levels: int,
    only: Sequence[str] = (),
) -> None:
    """Refuse bad options with one InputError listing every problem."""
    problems: list[str] = []
    if preset not in preset_names():
        problems.append(f"unknown preset '{preset}'; the presets are: {', '.join(preset_names())}")
    else:
        paths = [s.path for s in catalogue(preset)[0]]
        for pattern in only:
            if not fnmatch.filter(paths, pattern):
                close = difflib.get_close_matches(pattern, paths, n=3, cutoff=0.6)
                hint = f"; close settings: {', '.join(close)}" if close else ""
                problems.append(f"--only {pattern!r} matches no screened setting of "
                                f"{preset} (a dotted path or a pattern such as "
                                f"'behaviour.*'){hint}")  # fmt: skip
    if isinstance(trajectories, bool) or not isinstance(trajectories, int) or trajectories < 2:
        problems.append(f"--trajectories must be a whole number, 2 or more (a Morris design "
                        f"needs at least 2 trajectories), got {trajectories!r}")  # fmt: skip
    if isinstance(users, bool) or not isinstance(users, int) or users < 1:
        problems.append(f"--users must be a whole number, 1 or more, got {users!r}")
    if not isinstance(days, int | float) or not math.isfinite(days) or days <= 0:
        problems.append(f"--days must be a positive number, got {days!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"--seed must be a whole number, 0 or more, got {seed!r}")
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        problems.append(f"--levels must be an even whole number, 2 or more (SALib's Morris "
                        f"grid), got {levels!r}")  # fmt: skip
    if problems:
        raise InputError("the assumptions screening's options are not valid", problems)


def experiment_mapping(
    preset: str = DEFAULT_PRESET,
    trajectories: int = DEFAULT_TRAJECTORIES,
    users: int = DEFAULT_USERS,
    days: float = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    levels: int = DEFAULT_LEVELS,
    only: Sequence[str] = (),
) -> dict[str, Any]:
    """The screening as the content of an experiment file: a Morris design over the
    catalogue of `preset`, one replicate (common random numbers: every point runs the
    same seed), the goal scores and GOAL_PARTS as outcomes. Its factors are written as
    levers because an experiment file needs one; `assumptions_spec` makes them
    uncertainties. `only`: screen just the settings matching these patterns (fnmatch,
    e.g. "behaviour.*"; all when empty)."""
    only = tuple(only)
    check_options(preset, trajectories, users, days, seed, levels, only)
    settings, _ = catalogue(preset)
    if only:
        settings = [s for s in settings if any(fnmatch.fnmatchcase(s.path, p) for p in only)]
    factors = {s.path: {"range": [s.low, s.high], "scale": s.scale} for s in settings}
    return {
        "name": f"assumptions-{preset}",
        "description": f"Morris screening of the behavioural settings of {preset}",
        "base": preset,
        "users": users,
        "days": float(days),
        "seed": seed,
        "replicates": 1,
        "outcomes": goal_parts(),
        "design": {"kind": "morris", "samples": trajectories, "num_levels": levels},
        "levers": factors,
    }


def assumptions_spec(
    preset: str = DEFAULT_PRESET,
    trajectories: int = DEFAULT_TRAJECTORIES,
    users: int = DEFAULT_USERS,
    days: float = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    levels: int = DEFAULT_LEVELS,
    only: Sequence[str] = (),
) -> ExperimentSpec:
    """The screening as a validated ExperimentSpec (every design point checked against the
    schema), every factor an uncertainty (facts of the world that are not known well), its
    hash taken after that change. Raises InputError on bad options."""
    raw = experiment_mapping(preset, trajectories, users, days, seed, levels, only)
    spec = parse_experiment(raw, label=f"the assumptions screening of {preset}")
    spec.factors = [dataclasses.replace(f, role="uncertainty") for f in spec.factors]
    spec.sha256 = experiment_sha256(spec.canonical())
    return spec


# ---------------------------------------------------------------- the ranking

GOALS: tuple[str, ...] = ("order_score", "development_score", "freedom_score")


def _finite(value: Any) -> float:
    return float(value) if value is not None and math.isfinite(value) else -math.inf


def ranking(sensitivity: Any) -> dict[str, list[dict[str, Any]]]:
    """Per outcome, the settings by decreasing Morris mu* (ties by path), from
    sensitivity.parquet (a pyarrow Table or its rows): rank (1 first), setting, mu_star,
    mu_star_conf (half the width of SALib's bootstrap interval), mu and sigma."""
    rows = sensitivity.to_pylist() if hasattr(sensitivity, "to_pylist") else list(sensitivity)
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        if r["method"] != "morris":
            continue
        entry = table.setdefault(r["outcome"], {}).setdefault(r["factor"], {"setting": r["factor"]})
        entry[r["index"]] = r["value"]
        if r["index"] == "mu_star":
            entry["mu_star_conf"] = r["conf"]
    out: dict[str, list[dict[str, Any]]] = {}
    for outcome, by_setting in table.items():
        ordered = sorted(by_setting.values(), key=lambda e: (-_finite(e.get("mu_star")),
                                                             e["setting"]))  # fmt: skip
        out[outcome] = [
            {"rank": i + 1, "setting": e["setting"], "mu_star": e.get("mu_star"),
             "mu_star_conf": e.get("mu_star_conf"), "mu": e.get("mu"), "sigma": e.get("sigma")}
            for i, e in enumerate(ordered)
        ]  # fmt: skip
    return out
