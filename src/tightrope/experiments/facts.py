"""Published facts as tests of the model: `tightrope facts`.

A catalogue (TOML) lists facts, each a statement from published work with its full
reference, the scenario that should reproduce it, the output that measures it and a
criterion with its tolerance. `check` runs every scenario the catalogue names with the same
replicate seeds (common random numbers, `experiments.compare`), reads the output of each
run and gives, per fact, the mean over replicates with its 95% interval and a verdict.

Outputs are `Result.summary` keys; the follower graph's statistics as
`network.<key>[.<key>]` (`results.network_stats`, e.g. `network.reciprocity`,
`network.in_degree_tail.alpha`); or a column of `Result.categories` as
`categories.<category>.<column>`, or the ratio of two of one category's columns as
`categories.<category>.<column>/<column>` (e.g. `categories.criticism.removed/posts`).

Criteria (the verdict reads the mean; `certain` says whether the whole 95% interval
agrees with the verdict, so a pass or a failure that the seeds could overturn is marked):

| criterion | passes when | fields |
|---|---|---|
| `near` | abs(mean - value) <= tolerance | value, tolerance |
| `at_least`, `at_most` | mean >= value, mean <= value | value |
| `between` | low <= mean <= high | low, high |
| `above`, `below` | mean of the paired differences > 0, < 0 | than or than_metric |

`above` and `below` compare the fact's scenario with another (`than`) on the same output,
or the fact's output with another output of the same scenario (`than_metric`), replicate
by replicate.

A fact marked `calibration = true` was used to fit a preset: it shows that the fit holds,
not that the model predicts it. docs/validation.md shows the shipped catalogue's table.
"""

from __future__ import annotations

import difflib
import json
import math
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from tightrope.errors import InputError
from tightrope.experiments.calibration import (
    _problems,
    _Strict,
    read_shipped_or_file,
    shipped_names,
    summary_metrics,
)
from tightrope.results import intervals

FACTS_PACKAGE = "tightrope.scenario.presets"
FACTS_FOLDER = "facts"
SHIPPED = "literature"
"""The shipped catalogue, read when no catalogue is given."""

NETWORK_PREFIX = "network."
CATEGORIES_PREFIX = "categories."

Criterion = Literal["near", "at_least", "at_most", "between", "above", "below"]
_NEEDS: dict[str, tuple[str, ...]] = {
    "near": ("value", "tolerance"),
    "at_least": ("value",),
    "at_most": ("value",),
    "between": ("low", "high"),
    "above": ("than",),
    "below": ("than",),
}
_OPTIONAL = ("value", "tolerance", "low", "high", "than", "than_metric")


class Fact(_Strict):
    """One published fact and how the model is tested against it."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] = Field(
        description="short name of the fact (letters, digits, _ . -)"
    )
    statement: Annotated[str, Field(min_length=1)] = Field(description="what was published")
    reference: Annotated[str, Field(min_length=1)] = Field(description="full reference")
    scenario: Annotated[str, Field(min_length=1)] = Field(
        description="preset name or scenario file (relative to the catalogue) that should "
        "reproduce the fact"
    )
    metric: str = Field(description="Result.summary key, or network.<key> of the graph statistics")
    criterion: Criterion = Field(description="how the measured mean is judged")
    value: float | None = Field(None, description="near, at_least, at_most: the figure")
    tolerance: Annotated[float, Field(gt=0)] | None = Field(
        None, description="near: the largest distance that passes"
    )
    low: float | None = Field(None, description="between: lowest value that passes")
    high: float | None = Field(None, description="between: highest value that passes")
    than: str | None = Field(None, description="above, below: the scenario compared with")
    than_metric: str | None = Field(
        None, description="above, below: the output of the same scenario compared with"
    )
    calibration: bool = Field(False, description="used to fit a preset (a check of the fit)")
    note: str = Field("", description="how the figure was read and what it says")

    @field_validator("metric", "than_metric")
    @classmethod
    def _known_metric(cls, metric: str | None) -> str | None:
        if metric is None:
            return None
        if metric.startswith(NETWORK_PREFIX) and len(metric) > len(NETWORK_PREFIX):
            return metric
        if metric.startswith(CATEGORIES_PREFIX):
            _category_metric(metric)
            return metric
        keys = summary_metrics()
        if metric not in keys:
            hint = difflib.get_close_matches(metric, list(keys), n=1, cutoff=0.5)
            extra = f"; did you mean '{hint[0]}'?" if hint else ""
            raise ValueError(
                f"unknown metric '{metric}': not a Result.summary key, network.<key> or "
                f"categories.<category>.<column>{extra}"
            )
        if not keys[metric]:
            raise ValueError(f"metric '{metric}' is not a number and cannot be tested")
        return metric

    @model_validator(mode="after")
    def _fields_fit_criterion(self) -> Fact:
        needs = _NEEDS[self.criterion]
        if needs == ("than",) and self.than_metric is not None:
            needs = ("than_metric",)
            if self.than is not None:
                raise ValueError(
                    f"criterion '{self.criterion}' takes 'than' (another scenario) or "
                    "'than_metric' (another output), not both"
                )
        missing = [f for f in needs if getattr(self, f) is None]
        extra = [f for f in _OPTIONAL if f not in needs and getattr(self, f) is not None]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"needs {', '.join(repr(f) for f in missing)}")
            if extra:
                parts.append(f"does not take {', '.join(repr(f) for f in extra)}")
            raise ValueError(
                f"criterion '{self.criterion}' {' and '.join(parts)} (it takes "
                f"{', '.join(repr(f) for f in needs)})"
            )
        if self.criterion == "between" and self.low > self.high:  # type: ignore[operator]
            raise ValueError(f"between: low ({self.low}) is above high ({self.high})")
        if self.than is not None and self.than == self.scenario:
            raise ValueError(f"than: '{self.than}' is the fact's own scenario")
        return self

    def criterion_text(self) -> str:
        """The criterion as a reader sees it: `0.4 +- 0.05`, `>= 0.5`, `> eu-dsa`, ..."""
        num = intervals.number
        match self.criterion:
            case "near":
                return f"{num(self.value)} ± {num(self.tolerance)}"
            case "at_least":
                return f">= {num(self.value)}"
            case "at_most":
                return f"<= {num(self.value)}"
            case "between":
                return f"{num(self.low)} to {num(self.high)}"
            case "above":
                return f"> {self.than or self.than_metric}"
            case _:
                return f"< {self.than or self.than_metric}"


def _category_metric(metric: str) -> tuple[str, str, str | None]:
    """(category, column, denominator column or None) of `categories.<cat>.<col>[/<col>]`,
    or ValueError naming what is allowed."""
    from tightrope.results.result import CATEGORY_COLUMNS
    from tightrope.scenario.content import CATEGORIES

    rest = metric[len(CATEGORIES_PREFIX) :]
    cat, _, cols = rest.partition(".")
    if cat not in CATEGORIES:
        raise ValueError(
            f"'{metric}': unknown category '{cat}' (categories: {', '.join(CATEGORIES)})"
        )
    num, _, den = cols.partition("/")
    numeric = [c for c in CATEGORY_COLUMNS if c != "category"]
    for col in (num, den) if den else (num,):
        if col not in numeric:
            raise ValueError(
                f"'{metric}': unknown column '{col}' of Result.categories (columns: "
                f"{', '.join(numeric)})"
            )
    return cat, num, den or None


class Catalogue(_Strict):
    """A catalogue: its title and version, the default size of the check, the facts."""

    title: str = ""
    version: Annotated[int, Field(ge=1)] = Field(description="the catalogue's version")
    users: Annotated[int, Field(ge=10)] = Field(5000, description="users per run")
    days: Annotated[float, Field(gt=0)] = Field(7.0, description="days per run")
    replicates: Annotated[int, Field(ge=1)] = Field(3, description="runs per scenario")
    seed: Annotated[int, Field(ge=0)] = Field(0, description="root seed of the replicates")
    fact: Annotated[list[Fact], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> Catalogue:
        ids = [f.id for f in self.fact]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"fact ids must be unique; repeated: {', '.join(dup)}")
        return self

    def scenarios(self) -> list[str]:
        """Every scenario the facts name (their own and those compared with), in order."""
        out: list[str] = []
        for f in self.fact:
            for s in (f.scenario, f.than):
                if s is not None and s not in out:
                    out.append(s)
        return out


def catalogue_names() -> list[str]:
    """Names of the catalogues shipped in tightrope/scenario/presets/facts/, sorted."""
    return shipped_names(FACTS_PACKAGE, FACTS_FOLDER)


def validate_catalogue(raw: Mapping[str, Any], label: str = "catalogue") -> Catalogue:
    """Validate a raw mapping into a Catalogue or raise InputError naming every problem."""
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{label} is not valid", _problems(Catalogue, exc)) from None


def load_catalogue(source: str | Path = SHIPPED) -> tuple[Catalogue, str, Path | None]:
    """A catalogue by shipped name or by path: (catalogue, label, folder its relative
    scenario paths are read from; None for a shipped one)."""
    raw, what, label, path = read_shipped_or_file(
        source, FACTS_PACKAGE, FACTS_FOLDER, "catalogue", "catalogue", "catalogue"
    )
    return validate_catalogue(raw, what), label, None if path is None else path.parent


FACT_COLUMNS: tuple[str, ...] = (
    "id", "scenario", "than", "metric", "than_metric", "criterion", "mean", "ci_low",
    "ci_high", "n", "verdict", "certain", "calibration", "statement", "reference", "note",
)  # fmt: skip
"""Columns of a fact's row. mean, ci_low, ci_high: the scenario's mean over replicates and
its 95% interval (`intervals.interval` with the metric's support), or for `above`/`below`
the mean paired difference (scenario - than, or metric - than_metric) and its t
interval; n: replicates (pairs) with a value. verdict: "pass" or "fail" (a mean that is
undefined fails); certain: the whole interval agrees with the verdict (False with fewer
than 2 values, or when a replicate has no value)."""


def _judge(fact: Fact, mean: float, lo: float, hi: float) -> tuple[bool, bool]:
    """(passes, certain) of the mean and the interval [lo, hi] under the fact's criterion."""
    if not math.isfinite(mean):
        return False, False

    def ok(x: float) -> bool:
        match fact.criterion:
            case "near":
                return abs(x - fact.value) <= fact.tolerance  # type: ignore[operator]
            case "at_least":
                return x >= fact.value  # type: ignore[operator]
            case "at_most":
                return x <= fact.value  # type: ignore[operator]
            case "between":
                return fact.low <= x <= fact.high  # type: ignore[operator]
            case "above":
                return x > 0.0
            case _:
                return x < 0.0

    passes = ok(mean)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return passes, False
    if fact.criterion in ("near", "between"):  # an interval: both ends decide
        certain = ok(lo) == passes and ok(hi) == passes
        if not passes:  # a failure is certain when the interval misses the band wholly
            band = (
                (fact.value - fact.tolerance, fact.value + fact.tolerance)  # type: ignore[operator]
                if fact.criterion == "near"
                else (fact.low, fact.high)
            )
            certain = hi < band[0] or lo > band[1]  # type: ignore[operator]
        return passes, certain
    return passes, ok(lo) == passes and ok(hi) == passes


def metric_value(
    summary: Mapping[str, Any],
    network: Mapping[str, Any] | None,
    metric: str,
    categories: Mapping[str, Mapping[str, Any]] | None = None,
) -> float:
    """A run's value of `metric`: a summary key, network.<key>[.<key>] from the graph's
    statistics, or categories.<cat>.<col>[/<col>] from `categories` (category -> row of
    Result.categories); NaN if absent or divided by 0."""
    if metric.startswith(CATEGORIES_PREFIX):
        cat, num, den = _category_metric(metric)
        row = (categories or {}).get(cat)
        if row is None:
            return math.nan
        top = float(row[num]) if row[num] is not None else math.nan
        if den is None:
            return top
        bottom = float(row[den]) if row[den] is not None else math.nan
        return top / bottom if bottom else math.nan
    if metric.startswith(NETWORK_PREFIX):
        node: Any = network or {}
        for key in metric[len(NETWORK_PREFIX) :].split("."):
            if not isinstance(node, Mapping) or key not in node:
                return math.nan
            node = node[key]
        value = node
    else:
        value = summary.get(metric)
    try:
        return math.nan if value is None else float(value)
    except (TypeError, ValueError):
        return math.nan


def _support(metric: str) -> str:
    """The support of an output: a summary key's registered one; network and category
    figures are read as real numbers (their intervals are plain t intervals)."""
    if metric.startswith((NETWORK_PREFIX, CATEGORIES_PREFIX)):
        return "real"
    return intervals.support(metric)


def evaluate(
    catalogue: Catalogue, values: Mapping[tuple[str, str], Sequence[float]]
) -> list[dict[str, Any]]:
    """One row per fact (FACT_COLUMNS) from `values[(scenario, metric)]`, the metric's value
    in each replicate, replicate i of every scenario run with the same seed."""
    rows: list[dict[str, Any]] = []
    for f in catalogue.fact:
        kind = _support(f.metric)
        own = list(values[(f.scenario, f.metric)])
        if f.than is None and f.than_metric is None:
            mean, lo, hi, n = intervals.interval(own, kind)
        else:
            key = (f.than, f.metric) if f.than is not None else (f.scenario, f.than_metric)
            other = list(values[key])  # type: ignore[index]
            diffs = [a - b for a, b in zip(own, other, strict=True)]
            mean, lo, hi, n = intervals.difference(diffs, kind)
        passes, certain = _judge(f, mean, lo, hi)
        certain = certain and n == len(own)  # a replicate without a value: not settled
        rows.append(
            {
                "id": f.id,
                "scenario": f.scenario,
                "than": f.than,
                "metric": f.metric,
                "than_metric": f.than_metric,
                "criterion": f.criterion_text(),
                "mean": mean,
                "ci_low": lo,
                "ci_high": hi,
                "n": n,
                "verdict": "pass" if passes else "fail",
                "certain": certain,
                "calibration": f.calibration,
                "statement": f.statement,
                "reference": f.reference,
                "note": f.note,
            }
        )
    return rows


@dataclass
class FactsResult:
    """What `check` measured: the rows (FACT_COLUMNS) and how they were run."""

    label: str
    title: str
    version: int
    users: int
    days: float
    seeds: list[int]
    rows: list[dict[str, Any]]
    scenarios: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [r["id"] for r in self.rows if r["verdict"] != "pass"]

    def counts(self) -> dict[str, int]:
        """Passed and total, for all facts, those used in calibration and the others."""
        out: dict[str, int] = {}
        for name, keep in (
            ("all", lambda r: True),
            ("calibration", lambda r: r["calibration"]),
            ("other", lambda r: not r["calibration"]),
        ):
            chosen = [r for r in self.rows if keep(r)]
            out[f"{name}_passed"] = sum(r["verdict"] == "pass" for r in chosen)
            out[f"{name}_total"] = len(chosen)
        return out


def _scenario_sources(catalogue: Catalogue, folder: Path | None, label: str) -> dict[str, str]:
    """Each scenario of the catalogue and what to load: a name with '/' or ending in
    '.toml' is a file, relative to the catalogue's folder (InputError if it is not there);
    any other name is a preset."""
    out: dict[str, str] = {}
    problems: list[str] = []
    for s in catalogue.scenarios():
        if "/" not in s and not s.lower().endswith(".toml"):
            out[s] = s
            continue
        path = Path(s)
        if not path.is_absolute():
            path = (folder or Path.cwd()) / path
        if not path.is_file():
            problems.append(f"scenario '{s}': no file {path} (a file is read relative to "
                            f"the catalogue's folder)")  # fmt: skip
        out[s] = str(path)
    if problems:
        raise InputError(f"{label}: scenario files not found", problems)
    return out


def _categories(run_dir: Path) -> dict[str, dict[str, Any]]:
    """A stored run's Result.categories as category -> row."""
    import pyarrow.parquet as pq

    rows = pq.read_table(run_dir / "categories.parquet").to_pylist()
    return {r["category"]: r for r in rows}


@dataclass
class Plan:
    """A validated check: the catalogue, its label, the size and seeds, and the scenario
    files or preset names to run, in the order of `Catalogue.scenarios`."""

    catalogue: Catalogue
    label: str
    users: int
    days: float
    replicates: int
    root_seed: int
    sources: list[str]


def prepare(
    source: str | Path = SHIPPED,
    *,
    users: int | None = None,
    days: float | None = None,
    replicates: int | None = None,
    root_seed: int | None = None,
) -> Plan:
    """Validate everything a check needs before any run (the catalogue, its scenario files,
    every scenario at the size asked); `users`, `days`, `replicates` and `root_seed`
    replace the catalogue's own. Raises InputError naming every problem."""
    from tightrope.experiments import compare as cmp

    catalogue, label, folder = load_catalogue(source)
    by_name = _scenario_sources(catalogue, folder, label)
    plan = Plan(
        catalogue=catalogue,
        label=label,
        users=catalogue.users if users is None else users,
        days=catalogue.days if days is None else days,
        replicates=catalogue.replicates if replicates is None else replicates,
        root_seed=catalogue.seed if root_seed is None else root_seed,
        sources=[by_name[n] for n in catalogue.scenarios()],
    )
    cmp.prepare(
        plan.sources, replicates=plan.replicates, root_seed=plan.root_seed, users=plan.users,
        days=plan.days,
    )  # fmt: skip
    return plan


def check(
    source: str | Path | Plan = SHIPPED,
    *,
    users: int | None = None,
    days: float | None = None,
    replicates: int | None = None,
    root_seed: int | None = None,
    workers: int = 1,
    progress: Callable[[float, int], None] | None = None,
) -> FactsResult:
    """Run the catalogue's scenarios (common random numbers) and judge every fact.

    `source` is a catalogue (shipped name or path) or a Plan that `prepare` gave (then the
    size and seed are the plan's). `users`, `days`, `replicates` and `root_seed` replace the
    catalogue's own. Bad input (the catalogue, a scenario) raises InputError before any
    run (`prepare`)."""
    from tightrope.experiments import compare as cmp

    plan = (
        source
        if isinstance(source, Plan)
        else prepare(source, users=users, days=days, replicates=replicates, root_seed=root_seed)
    )
    catalogue, label = plan.catalogue, plan.label
    users, days, replicates, root_seed = plan.users, plan.days, plan.replicates, plan.root_seed
    names = catalogue.scenarios()
    src_list = plan.sources
    with tempfile.TemporaryDirectory(prefix="tightrope-facts-") as tmp:
        res = cmp.compare(
            src_list, replicates=replicates, root_seed=root_seed, users=users, days=days,
            out_dir=Path(tmp) / "runs", progress=progress, workers=workers,
        )  # fmt: skip
        reps = len(res.seeds)
        wanted = [(f.scenario, f.metric) for f in catalogue.fact]
        wanted += [(f.than, f.metric) for f in catalogue.fact if f.than is not None]
        wanted += [(f.scenario, f.than_metric) for f in catalogue.fact if f.than_metric]
        networks: dict[str, list[Any]] = {}
        categories: dict[str, list[Any]] = {}
        for p, name in enumerate(names):
            dirs = res.run_dirs[p * reps : (p + 1) * reps]
            if any(s == name and m.startswith(NETWORK_PREFIX) for s, m in wanted):
                networks[name] = [
                    json.loads((d / "manifest.json").read_text("utf-8")).get("network")
                    for d in dirs
                ]
            if any(s == name and m.startswith(CATEGORIES_PREFIX) for s, m in wanted):
                categories[name] = [_categories(d) for d in dirs]
    for name, nets in networks.items():
        for s_name, metric in wanted:
            if s_name != name or not metric.startswith(NETWORK_PREFIX):
                continue
            if all(math.isnan(metric_value({}, net, metric)) for net in nets):
                keys = sorted((nets[0] or {}).keys()) if nets else []
                raise InputError(
                    f"{label}: '{metric}' is not a number among the graph's statistics "
                    f"(keys: {', '.join(keys)}; nested ones as network.<key>.<key>)"
                )
    values: dict[tuple[str, str], list[float]] = {}
    for name, metric in wanted:
        summaries = res.summaries[res.labels[names.index(name)]]
        nets = networks.get(name, [None] * len(summaries))
        cats = categories.get(name, [None] * len(summaries))
        values[(name, metric)] = [
            metric_value(s, net, metric, c) for s, net, c in zip(summaries, nets, cats, strict=True)
        ]
    return FactsResult(
        label=label,
        title=catalogue.title,
        version=catalogue.version,
        users=users,
        days=days,
        seeds=list(res.seeds),
        rows=evaluate(catalogue, values),
        scenarios=names,
    )
