"""The analysis of an experiment folder: point means, paired differences, Pareto front and
global sensitivity.

An experiment folder DIR (written by the experiment runner; see docs/analysis.md) holds
`experiment.json` (the design: factors, outcomes, replicates, seeds, ...) and
`results.parquet` (one row per successful run). `analyze(DIR)` reads both and writes, each
atomically, under `DIR/analysis/`:

- `points.parquet`: per design point and outcome, the mean over replicates with an interval
  that stays in the outcome's range (`ci_low`, `ci_high`: `intervals.interval_rows` with the
  outcome's support: a t interval on the logit scale for figures in [0, 1], clipped at 0 for
  figures of 0 or more, plain t otherwise); `n` counts the runs with a finite value, so
  failed runs and undefined metrics reduce it. A point without any run is listed with n = 0
  and NaN (its factor values are null: the design matrix is known only through the runs).
- `differences.parquet` (grid designs): per lever setting and outcome, the paired difference
  from the base setting (every lever at its first listed value), replicate by replicate on
  the common seeds, averaged over the uncertainty combinations, with a t interval (clipped to
  [-1, 1] for figures in [0, 1]: `intervals.difference`).
- `pareto.parquet`: per lever setting, the three goal means (averaged over uncertainties and
  replicates), `on_front`, true where no other setting is at least as good on all three
  goals and better on one, `resolved`, true where the replicates settle that membership
  (`front_resolution`), and each goal's interval (`<goal>_ci_low`, `<goal>_ci_high`).
- `sensitivity.parquet` (sobol and morris designs): SALib's Sobol' indices (S1, ST, S2) or
  Morris screening measures (mu_star, mu, sigma), long format.
- `analysis.json`: the level, the notes, and a fingerprint of the inputs, so that a reader
  (the HTML report) can tell whether the analysis is stale.

Nothing is ever made up: a part that cannot be computed is left empty and says why in
`Analysis.notes`.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numba import njit

from tightrope.errors import InputError
from tightrope.experiments import runner
from tightrope.results import intervals
from tightrope.results.storage import jsonable, write_table_atomic, write_text_atomic

FORMAT = "tightrope-experiment/1"
"""The `format` of experiment.json that this module reads."""

ANALYSIS_FORMAT = "tightrope-analysis/2"
"""The `format` of analysis/analysis.json; part of the fingerprint, so a new format is stale.
2: intervals that respect each outcome's range, and the Pareto front's `resolved` and goal
interval columns."""

GOALS: tuple[str, ...] = ("order_score", "development_score", "freedom_score")
"""The three goals of the Pareto front, all maximised."""

DESIGNS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")
ANALYSIS_DIR = "analysis"
TABLES: tuple[str, ...] = ("points", "differences", "pareto", "sensitivity")
"""The tables of an analysis, each written as `DIR/analysis/<name>.parquet`."""

SENSITIVITY_COLUMNS: tuple[str, ...] = (
    "outcome", "factor", "factor2", "method", "index", "value", "conf",
)  # fmt: skip
"""Columns of sensitivity.parquet. `factor2` is the second factor of an S2 (second-order)
index and null otherwise; `conf` is half the width of SALib's bootstrap interval at the
analysis level (null where SALib gives none: Morris mu and sigma)."""

_SALIB_KEY = 0x5A11B
"""Spawn key that separates the SALib bootstrap seeds from the replicate seeds (both come
from the experiment's root seed)."""

_REQUIRED = ("point", "replicate", "seed")


@dataclass
class Analysis:
    """The analysis of an experiment folder: Arrow tables (see the module docstring).

    `notes` says what was left out and why; `source` says how the folder was read (by
    "tightrope.experiments.runner", whose readers check the stored runs).
    """

    root: Path
    experiment: dict[str, Any]
    level: float
    points: pa.Table
    differences: pa.Table
    pareto: pa.Table
    sensitivity: pa.Table
    notes: list[str] = field(default_factory=list)
    runs: int = 0
    failures: int = 0
    source: str = "files"
    fingerprint: str = ""

    @property
    def folder(self) -> Path:
        """Where the tables are written: DIR/analysis."""
        return self.root / ANALYSIS_DIR

    @property
    def design(self) -> str:
        return str(self.experiment["design"]["kind"])

    @property
    def factors(self) -> list[dict[str, Any]]:
        return list(self.experiment["factors"])

    @property
    def levers(self) -> list[str]:
        """Dotted paths of the lever factors, in experiment order."""
        return [f["path"] for f in self.factors if f["role"] == "lever"]

    @property
    def outcomes(self) -> list[str]:
        return list(self.experiment["outcomes"])

    def table(self, name: str) -> pa.Table:
        """One of TABLES by name."""
        if name not in TABLES:
            raise KeyError(name)
        return getattr(self, name)

    def to_json(self) -> dict[str, Any]:
        """The whole analysis as plain JSON values (NaN as null)."""
        e = self.experiment
        head = {
            "experiment": e.get("name"),
            "folder": str(self.root),
            "design": e["design"],
            "factors": e["factors"],
            "outcomes": e["outcomes"],
            "points": e["points"],
            "replicates": e["replicates"],
            "root_seed": e["root_seed"],
            "level": self.level,
            "runs": self.runs,
            "failures": self.failures,
            "source": self.source,
            "notes": self.notes,
            "files": {n: str(self.folder / f"{n}.parquet") for n in TABLES},
        }
        rows = {f"{n}_rows" if n == "points" else n: self.table(n).to_pylist() for n in TABLES}
        return jsonable({**head, **rows})


# ---------------------------------------------------------------- reading


def _check_folder(root: Path) -> None:
    if not root.exists():
        raise InputError(f"experiment folder not found: {root}")
    if not root.is_dir():
        raise InputError(f"experiment folder {root} is a file, not a folder")
    if not (root / "experiment.json").is_file():
        raise InputError(
            f"{root} is not an experiment folder: it has no experiment.json (an experiment "
            "folder is written by the experiment runner)"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_experiment(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Check an experiment.json document against the contract; raise InputError listing
    every problem. Returns `data`."""
    problems: list[str] = []
    if data.get("format") != FORMAT:
        problems.append(f"format is {data.get('format')!r}; this version reads {FORMAT!r}")
    design = data.get("design")
    if not isinstance(design, dict) or design.get("kind") not in DESIGNS:
        kind = design.get("kind") if isinstance(design, dict) else design
        problems.append(f"design.kind is {kind!r}; allowed: {', '.join(DESIGNS)}")
    factors = data.get("factors")
    if not isinstance(factors, list) or not factors:
        problems.append("factors must be a non-empty list")
        factors = []
    paths: list[str] = []
    for i, f in enumerate(factors):
        if not isinstance(f, dict) or not isinstance(f.get("path"), str) or not f["path"]:
            problems.append(f"factors[{i}] needs a path (a dotted scenario path)")
            continue
        paths.append(f["path"])
        if f.get("role") not in ("lever", "uncertainty"):
            problems.append(f"factors[{i}].role is {f.get('role')!r}; allowed: lever, uncertainty")
        if f.get("values") is not None and not isinstance(f["values"], list):
            problems.append(f"factors[{i}].values must be a list or null")
    if len(set(paths)) != len(paths):
        problems.append("factor paths must be unique")
    outcomes = data.get("outcomes")
    if (
        not isinstance(outcomes, list)
        or not outcomes
        or not all(isinstance(o, str) and o for o in outcomes)
    ):
        problems.append("outcomes must be a non-empty list of metric names")
    elif len(set(outcomes)) != len(outcomes) or set(outcomes) & set(paths):
        problems.append("outcomes must be unique and differ from the factor paths")
    for key in ("points", "replicates"):
        if not _is_int(data.get(key)) or data[key] < 1:
            problems.append(f"{key} must be a whole number of at least 1, not {data.get(key)!r}")
    if not _is_int(data.get("root_seed")) or data["root_seed"] < 0:
        problems.append(f"root_seed must be a whole number >= 0, not {data.get('root_seed')!r}")
    seeds = data.get("seeds")
    if not isinstance(seeds, list) or not all(_is_int(s) for s in seeds):
        problems.append("seeds must be a list of whole numbers")
    elif _is_int(data.get("replicates")) and len(seeds) != data["replicates"]:
        problems.append(f"seeds lists {len(seeds)} seeds for {data['replicates']} replicates")
    problem = data.get("salib_problem")
    if problem is not None:
        names = problem.get("names") if isinstance(problem, dict) else None
        bounds = problem.get("bounds") if isinstance(problem, dict) else None
        if (
            not isinstance(names, list)
            or not isinstance(bounds, list)
            or len(names) != len(bounds)
            or problem.get("num_vars") != len(names)
        ):
            problems.append("salib_problem needs num_vars, names and bounds of one length")
        elif not set(names) <= set(paths):
            extra = sorted(set(names) - set(paths))
            problems.append(f"salib_problem names {extra}, which are not factor paths")
    if problems:
        raise InputError(f"{where} is not a valid experiment file", problems)
    return data


def _check_results(table: pa.Table, exp: dict[str, Any], where: str) -> pa.Table:
    """The results table sorted by (point, replicate), its columns and keys checked."""
    names = set(table.column_names)
    paths = [f["path"] for f in exp["factors"]]
    missing = [c for c in (*_REQUIRED, *paths, *exp["outcomes"]) if c not in names]
    if missing:
        raise InputError(f"{where} lacks the column(s) {', '.join(missing)}")
    problems: list[str] = []
    for column in _REQUIRED:
        if not pa.types.is_integer(table.schema.field(column).type):
            problems.append(f"column {column} must hold whole numbers")
    for column in exp["outcomes"]:
        t = table.schema.field(column).type
        if not (pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_null(t)):
            problems.append(f"outcome column {column} must be numeric, not {t}")
    if problems:
        raise InputError(f"{where} does not follow the experiment format", problems)
    if table.num_rows == 0:
        return table
    table = table.sort_by([("point", "ascending"), ("replicate", "ascending")])
    point = table["point"].to_numpy(zero_copy_only=False)
    rep = table["replicate"].to_numpy(zero_copy_only=False)
    seed = table["seed"].to_numpy(zero_copy_only=False)
    if point.min() < 0 or point.max() >= exp["points"]:
        problems.append(f"point must be in [0, {exp['points'] - 1}] (experiment.json: points)")
    if rep.min() < 0 or rep.max() >= exp["replicates"]:
        problems.append(f"replicate must be in [0, {exp['replicates'] - 1}]")
    else:
        expected = np.asarray(exp["seeds"], dtype=np.int64)[rep]
        wrong = np.flatnonzero(expected != seed)
        if wrong.size:
            i = int(wrong[0])
            problems.append(
                f"{wrong.size} run(s) used another seed than experiment.json gives their "
                f"replicate (point {point[i]} replicate {rep[i]}: seed {seed[i]}, expected "
                f"{expected[i]}): results from another experiment?"
            )
    if np.any((np.diff(point) == 0) & (np.diff(rep) == 0)):
        problems.append("a (point, replicate) pair appears twice")
    if problems:
        raise InputError(f"{where} does not match experiment.json", problems)
    return table


@dataclass
class _Inputs:
    root: Path
    experiment: dict[str, Any]
    results: pa.Table
    failures: int
    source: str
    fingerprint: str


def _fingerprint(exp: dict[str, Any], results: pa.Table, failures: int, level: float) -> str:
    """A hash of everything the analysis depends on (inputs, level, analysis format)."""
    h = hashlib.sha256()
    h.update(f"{ANALYSIS_FORMAT}|{level!r}|{failures}|".encode())
    h.update(json.dumps(exp, sort_keys=True, default=str).encode())
    sink = io.BytesIO()
    plain = results.replace_schema_metadata(None)
    with pa.ipc.new_stream(sink, plain.schema) as writer:
        writer.write_table(plain)
    h.update(sink.getvalue())
    return h.hexdigest()


def _check_level(level: float) -> float:
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise InputError(f"level must be a number between 0 and 1, not {level!r}") from None
    if not 0 < value < 1:
        raise InputError(f"level must be between 0 and 1 (exclusive), not {level!r}")
    return value


def _inputs(root: Path, level: float) -> _Inputs:
    _check_folder(root)
    where = f"{root / 'experiment.json'}"
    # the runner's readers also rebuild the results from the run records while it runs
    exp = check_experiment(dict(runner.load_experiment(root)), where)
    source = "tightrope.experiments.runner"
    try:
        results = runner.load_results(root)
        failures = runner.load_failures(root).num_rows
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"cannot read the results of {root}: {exc}") from None
    if results.num_rows == 0:
        failed = f"; {failures} failed, see failures.parquet" if failures else ""
        raise InputError(
            f"experiment folder {root} has no results yet (no run has finished{failed}): run "
            "the experiment first"
        )
    results = _check_results(results, exp, str(root / "results.parquet"))
    print_ = _fingerprint(exp, results, failures, level)
    return _Inputs(root, exp, results, failures, source, print_)


# ---------------------------------------------------------------- statistics


def t_intervals(
    mean: np.ndarray, sd: np.ndarray, n: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) of plain t intervals, vectorised: mean ± t(level, n-1) * sd / sqrt(n).

    The same interval as `tightrope.results.intervals.t_interval` (sd with ddof=1); NaN
    where n < 2.
    The tables use `intervals` instead, which keeps each outcome's interval in its range.
    """
    return intervals.bounds(mean, sd, n, "real", level)


def _summarise(values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, sd with ddof=1, n) of the finite values along `axis` (NaN where none / n < 2)."""
    finite = np.isfinite(values)
    n = finite.sum(axis=axis)
    x = np.where(finite, values, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = x.sum(axis=axis) / n
        dev = np.where(finite, values - np.expand_dims(mean, axis), 0.0)
        sd = np.sqrt((dev**2).sum(axis=axis) / (n - 1))
    mean = np.where(n > 0, mean, np.nan)
    sd = np.where(n > 1, sd, np.nan)
    return mean, sd, n


def pareto_front(values: Any) -> np.ndarray:
    """Boolean mask of the non-dominated rows of `values` (rows = settings, columns = goals,
    every goal maximised).

    Row i is dominated if some row j is >= on every column and > on at least one, so
    duplicate rows are either all on the front or all off it, and ties do not dominate.
    Rows with a NaN are not compared and are never on the front. Vectorised: the rows are
    compared block by block with every other row (O(n^2 k) work, bounded memory).
    """
    y = np.asarray(values, dtype=float)
    if y.ndim != 2:
        raise ValueError(f"values must be a 2-d array (settings x goals), not {y.ndim}-d")
    finite = np.flatnonzero(np.isfinite(y).all(axis=1))
    pts = y[finite]
    n, k = pts.shape
    dominated = np.zeros(n, dtype=bool)
    block = max(1, 4_000_000 // max(1, n * k))
    for start in range(0, n, block):
        cand = pts[start : start + block, None, :]
        ge = (pts[None, :, :] >= cand).all(axis=2)
        gt = (pts[None, :, :] > cand).any(axis=2)
        dominated[start : start + block] = (ge & gt).any(axis=1)
    mask = np.zeros(len(y), dtype=bool)
    mask[finite] = ~dominated
    return mask


def front_resolution(means: Any, samples: Any, front: Any, level: float = 0.95) -> np.ndarray:
    """Whether the replicates settle each setting's place on the Pareto front or off it.

    `means`: settings x goals (the front's means; a row with a NaN is not compared);
    `samples`: settings x goals x replicates, each setting's value at each replicate (NaN:
    missing); `front`: the mask of `pareto_front(means)`. Settings are compared in pairs,
    replicate by replicate (all points run the same seeds): d = j - i, with the t interval
    of its mean at `level` on each goal (no interval where fewer than 2 replicates pair up).

    - j dominates i *for certain* when every goal's interval of d lies at or above 0 and one
      lies above 0 (the interval version of "at least as good on all, better on one");
    - j *may dominate* i when every goal's interval of d reaches 0 or above and one reaches
      above 0.

    A setting on the front is resolved when no other setting may dominate it; a setting off
    the front is resolved when some setting dominates it for certain. Every other setting's
    membership is unresolved: more replicates could change it. Returns a boolean mask
    (False for the settings not compared). The intervals are not adjusted for the many
    comparisons: read the mark as a guide to what the replicates can tell apart, not as a
    test at the stated level. At most O(n^2 k r) work, compiled, each setting's scan stopping
    at the first setting that decides it.
    """
    from scipy.stats import t  # lazy: keeps the command line quick to start

    y = np.ascontiguousarray(samples, dtype=float)
    m = np.asarray(means, dtype=float)
    on = np.asarray(front, dtype=bool)
    R = y.shape[2]
    quantile = np.full(R + 1, np.inf)
    quantile[2:] = t.ppf(0.5 + level / 2, np.arange(1, R))
    return _resolve(y, on, np.isfinite(m).all(axis=1), quantile)


@njit(cache=True)
def _resolve(y, on, compared, quantile):  # pragma: no cover - compiled
    """front_resolution's pairs: for a setting on the front, stop at the first setting that
    may dominate it; off the front, at the first that dominates it for certain."""
    S, k, R = y.shape
    out = np.zeros(S, dtype=np.bool_)
    for i in range(S):
        if not compared[i]:
            continue
        found = False
        for j in range(S):
            if j == i or not compared[j]:
                continue
            all_at_least = True
            one_above = False
            for g in range(k):
                n = 0
                total = 0.0
                for r in range(R):
                    d = y[j, g, r] - y[i, g, r]
                    if np.isfinite(d):
                        n += 1
                        total += d
                if n < 2:  # no interval: anything may be, nothing is certain
                    bound = np.inf if on[i] else -np.inf
                else:
                    mean = total / n
                    squares = 0.0
                    for r in range(R):
                        d = y[j, g, r] - y[i, g, r]
                        if np.isfinite(d):
                            squares += (d - mean) ** 2
                    half = quantile[n] * np.sqrt(squares / (n - 1)) / np.sqrt(n)
                    bound = mean + half if on[i] else mean - half
                if bound < 0:
                    all_at_least = False
                    break
                if bound > 0:
                    one_above = True
            if all_at_least and one_above:
                found = True
                break
        out[i] = not found if on[i] else found
    return out


# ---------------------------------------------------------------- the parts


def _matrix(results: pa.Table, column: str, points: int, replicates: int) -> np.ndarray:
    """points x replicates matrix of one outcome; NaN where no run (or no value)."""
    out = np.full((points, replicates), np.nan)
    p = results["point"].to_numpy(zero_copy_only=False)
    r = results["replicate"].to_numpy(zero_copy_only=False)
    v = results[column].cast(pa.float64()).to_numpy(zero_copy_only=False)
    out[p, r] = np.where(np.isfinite(v), v, np.nan)
    return out


def _factor_values(results: pa.Table, paths: Sequence[str], points: int) -> dict[str, pa.Array]:
    """Each factor's value per point (taken from the point's first run; null if no run)."""
    p = results["point"].to_numpy(zero_copy_only=False)
    first = np.full(points, -1, dtype=np.int64)
    first[p[::-1]] = np.arange(len(p))[::-1]
    have = first >= 0
    take = pa.array(np.where(have, first, 0))
    out: dict[str, pa.Array] = {}
    for path in paths:
        column = results[path].combine_chunks().take(take)
        out[path] = pc.if_else(pa.array(have), column, pa.nulls(points, column.type))
    return out


def _points_table(inp: _Inputs, level: float) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """points.parquet: one row per point and outcome (point order, then outcome order)."""
    exp, res = inp.experiment, inp.results
    P, R, outcomes = exp["points"], exp["replicates"], list(exp["outcomes"])
    paths = [f["path"] for f in exp["factors"]]
    factor = _factor_values(res, paths, P)
    runs = np.bincount(res["point"].to_numpy(zero_copy_only=False), minlength=P)
    matrices = {o: _matrix(res, o, P, R) for o in outcomes}
    # each P x O: the interval of the outcome's support (intervals.support)
    mean, lo, hi, n = (
        np.stack(a, axis=1)
        for a in zip(
            *(intervals.interval_rows(matrices[o], intervals.support(o), level) for o in outcomes),
            strict=True,
        )
    )
    point = np.repeat(np.arange(P), len(outcomes))
    take = pa.array(point)
    table: dict[str, Any] = {"point": pa.array(point, pa.int64())}
    for path in paths:
        table[path] = factor[path].take(take)
    table["outcome"] = pa.array(outcomes * P, pa.string())
    for name, values in (("mean", mean), ("ci_low", lo), ("ci_high", hi)):
        table[name] = pa.array(values.ravel(), pa.float64())
    table["n"] = pa.array(n.ravel(), pa.int64())
    table["runs"] = pa.array(runs[point], pa.int64())
    return pa.table(table), matrices


def _key_frame(results: pa.Table, paths: Sequence[str]) -> list[tuple[Any, ...]]:
    """Per run, the tuple of the given factor values (None for nulls)."""
    cols = [results[p].to_pylist() for p in paths]
    return list(zip(*cols, strict=True)) if cols else [()] * results.num_rows


def _setting_order(keys: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Distinct keys in first-seen order (that is, design-point order)."""
    return list(dict.fromkeys(keys))


def _empty(columns: dict[str, pa.DataType]) -> pa.Table:
    return pa.table({k: pa.array([], t) for k, t in columns.items()})


def _types(results: pa.Table, paths: Sequence[str]) -> dict[str, pa.DataType]:
    return {p: results.schema.field(p).type for p in paths}


def _pareto_table(
    inp: _Inputs, matrices: dict[str, np.ndarray], notes: list[str], level: float = 0.95
) -> pa.Table:
    exp, res = inp.experiment, inp.results
    levers = [f["path"] for f in exp["factors"] if f["role"] == "lever"]
    schema = {**_types(res, levers), **dict.fromkeys(GOALS, pa.float64())}
    schema |= {"points": pa.int64(), "runs": pa.int64(), "on_front": pa.bool_(),
               "resolved": pa.bool_()}  # fmt: skip
    schema |= {f"{g}_{b}": pa.float64() for g in GOALS for b in ("ci_low", "ci_high")}
    missing = [g for g in GOALS if g not in matrices]
    if missing:
        notes.append(f"Pareto front: needs the outcomes {', '.join(missing)}; left out")
        return _empty(schema)
    if not levers:
        notes.append("Pareto front: the design has no lever factors; all runs form one setting")
    # per point: lever key and the mean over its replicates; then the mean over the points
    # of each lever setting (every uncertainty combination weighs the same)
    point_of_run = res["point"].to_numpy(zero_copy_only=False)
    run_keys = _key_frame(res, levers)
    key_of_point: dict[int, tuple[Any, ...]] = {}
    for p, key in zip(point_of_run.tolist(), run_keys, strict=True):
        key_of_point.setdefault(p, key)
    settings = _setting_order(list(key_of_point.values()))
    slot = {k: i for i, k in enumerate(settings)}
    pts = np.fromiter(key_of_point, dtype=np.int64)
    group = np.array([slot[key_of_point[p]] for p in pts.tolist()], dtype=np.int64)
    S = len(settings)
    R = exp["replicates"]
    means = np.empty((S, len(GOALS)))
    # per setting, goal and replicate: the mean over the setting's points (NaN where one of
    # them lacks that replicate): the samples of the goal intervals and of the resolution
    samples = np.empty((S, len(GOALS), R))
    count = np.bincount(group, minlength=S)
    for j, g in enumerate(GOALS):
        point_mean = _summarise(matrices[g][pts], axis=1)[0]
        total = np.bincount(group, weights=np.nan_to_num(point_mean, nan=0.0), minlength=S)
        bad = np.bincount(group, weights=np.isnan(point_mean).astype(float), minlength=S)
        means[:, j] = np.where(bad > 0, np.nan, total / count)
        for r in range(R):
            column = matrices[g][pts, r]
            total = np.bincount(group, weights=np.nan_to_num(column, nan=0.0), minlength=S)
            bad = np.bincount(group, weights=np.isnan(column).astype(float), minlength=S)
            samples[:, j, r] = np.where(bad > 0, np.nan, total / count)
    runs = np.bincount(group, weights=np.bincount(point_of_run)[pts], minlength=S)
    front = pareto_front(means)
    compared = np.isfinite(means).all(axis=1)
    resolved = front_resolution(means, samples, front, level)
    loose_on = int((front & ~resolved).sum())
    loose_off = int((compared & ~front & ~resolved).sum())
    if loose_on or loose_off:
        notes.append(
            f"Pareto front: the {R} replicate(s) do not settle {loose_on} of the "
            f"{int(front.sum())} setting(s) on the front and {loose_off} of the "
            f"{int((compared & ~front).sum())} off it (column resolved: paired intervals "
            "that overlap 0)"
        )
    if np.isnan(means).any():
        notes.append(
            f"Pareto front: {int(np.isnan(means).any(axis=1).sum())} lever setting(s) have an "
            "undefined goal mean and are not compared"
        )
    uncs = [f for f in exp["factors"] if f["role"] == "uncertainty"]
    if exp["design"]["kind"] == "grid" and uncs and all(f.get("values") for f in uncs):
        combos = math.prod(len(f["values"]) for f in uncs)
        short = int((np.bincount(group, minlength=S) < combos).sum())
        if short:
            notes.append(
                f"Pareto front: {short} lever setting(s) lack runs at some of the {combos} "
                "uncertainty combinations; their means cover only the others (see the points "
                "column)"
            )
    if exp["design"]["kind"] != "grid" and uncs and levers:
        notes.append(
            "Pareto front: in a sampled design the lever settings are not crossed with the "
            "uncertainties, so each setting's means cover other uncertainty values (read the "
            "front as indicative)"
        )
    table: dict[str, pa.Array] = {}
    for i, path in enumerate(levers):
        table[path] = pa.array([k[i] for k in settings], schema[path])
    for j, g in enumerate(GOALS):
        table[g] = pa.array(means[:, j], pa.float64())
    table["points"] = pa.array(np.bincount(group, minlength=S), pa.int64())
    table["runs"] = pa.array(runs.astype(np.int64), pa.int64())
    table["on_front"] = pa.array(front, pa.bool_())
    table["resolved"] = pa.array(resolved, pa.bool_(), mask=~compared)
    for j, g in enumerate(GOALS):
        _, lo, hi, _ = intervals.interval_rows(samples[:, j, :], intervals.support(g), level)
        table[f"{g}_ci_low"] = pa.array(lo, pa.float64())
        table[f"{g}_ci_high"] = pa.array(hi, pa.float64())
    return pa.table(table)


def base_setting(experiment: dict[str, Any]) -> dict[str, Any] | None:
    """The base lever setting of a grid design: every lever at its first listed value.

    None where the design is not a grid or a lever has no listed values.
    """
    if experiment["design"]["kind"] != "grid":
        return None
    levers = [f for f in experiment["factors"] if f["role"] == "lever"]
    if not all(f.get("values") for f in levers):
        return None
    return {f["path"]: f["values"][0] for f in levers}


def _same(value: Any, listed: Any) -> bool:
    """Whether a factor value from results.parquet equals a value listed in experiment.json
    (numbers to 1e-12; a categorical value is stored as a string, so True may read "True"
    or "true")."""
    if isinstance(value, str) and not isinstance(listed, str):
        return value in (str(listed), json.dumps(listed))
    if isinstance(value, int | float) and isinstance(listed, int | float):
        if isinstance(value, bool) or isinstance(listed, bool):
            return value is listed
        return math.isclose(float(value), float(listed), rel_tol=1e-12, abs_tol=1e-12)
    return bool(value == listed)


def _differences_table(
    inp: _Inputs, matrices: dict[str, np.ndarray], level: float, notes: list[str]
) -> pa.Table:
    exp, res = inp.experiment, inp.results
    levers = [f["path"] for f in exp["factors"] if f["role"] == "lever"]
    uncs = [f for f in exp["factors"] if f["role"] == "uncertainty"]
    schema = {**_types(res, levers), "outcome": pa.string()}
    schema |= dict.fromkeys(("base_mean", "mean", "diff_mean", "diff_ci_low", "diff_ci_high"),
                            pa.float64())  # fmt: skip
    schema |= {"diff_n": pa.int64()}
    kind = exp["design"]["kind"]
    if kind != "grid":
        notes.append(
            f"paired differences: only for grid designs (the design is {kind}: its points "
            "share no lever setting to compare with)"
        )
        return _empty(schema)
    base = base_setting(exp)
    if not levers or base is None:
        notes.append("paired differences: need lever factors with listed values; left out")
        return _empty(schema)
    R = exp["replicates"]
    point_of_run = res["point"].to_numpy(zero_copy_only=False)
    lever_keys = _key_frame(res, levers)
    unc_keys = _key_frame(res, [f["path"] for f in uncs])
    lever_of_point: dict[int, tuple[Any, ...]] = {}
    unc_of_point: dict[int, tuple[Any, ...]] = {}
    for p, lk, uk in zip(point_of_run.tolist(), lever_keys, unc_keys, strict=True):
        lever_of_point.setdefault(p, lk)
        unc_of_point.setdefault(p, uk)
    if all(f.get("values") for f in uncs):
        combos = math.prod(len(f["values"]) for f in uncs)
    else:
        combos = len(set(unc_of_point.values()))
    settings = _setting_order(list(lever_of_point.values()))
    base_key = next(
        (k for k in settings if all(_same(a, base[p]) for a, p in zip(k, levers, strict=True))),
        None,
    )
    if base_key is None:
        notes.append(
            "paired differences: no run has the base setting (every lever at its first listed "
            f"value: {base}); left out"
        )
        return _empty(schema)
    # per setting and replicate: the mean over the uncertainty combinations, where every
    # combination has a finite value at that replicate (else the replicate is left out)
    members: dict[tuple[Any, ...], list[int]] = {}
    for p, key in lever_of_point.items():
        members.setdefault(key, []).append(p)
    rows: dict[str, list[Any]] = {k: [] for k in schema}
    dropped = False
    for o in exp["outcomes"]:
        m = matrices[o]

        def per_replicate(key: tuple[Any, ...], _m: np.ndarray = m) -> np.ndarray:
            pts = members[key]
            if len({unc_of_point[p] for p in pts}) < combos:
                return np.full(R, np.nan)
            block = _m[pts]
            return np.where(np.isfinite(block).all(axis=0), block.mean(axis=0), np.nan)

        y0 = per_replicate(base_key)
        for key in settings:
            if key == base_key:
                continue
            y = per_replicate(key)
            pair = np.isfinite(y) & np.isfinite(y0)
            dropped |= bool((np.isfinite(y) | np.isfinite(y0)).sum() > pair.sum())
            d = (y - y0)[pair]
            mean, lo, hi, n = intervals.difference(d, intervals.support(o), level)
            for i, path in enumerate(levers):
                rows[path].append(key[i])
            rows["outcome"].append(o)
            rows["base_mean"].append(float(y0[pair].mean()) if pair.any() else math.nan)
            rows["mean"].append(float(y[pair].mean()) if pair.any() else math.nan)
            rows["diff_mean"].append(mean)
            rows["diff_ci_low"].append(lo)
            rows["diff_ci_high"].append(hi)
            rows["diff_n"].append(n)
    if dropped:
        notes.append(
            "paired differences: replicates where a setting or the base lacks a run (or a "
            "value) at some uncertainty combination are left out of that pair"
        )
    return pa.table({k: pa.array(v, schema[k]) for k, v in rows.items()})


def _salib_seed(root_seed: int, i: int) -> int:
    """The bootstrap seed of outcome i: from the root seed, apart from the replicate seeds."""
    seq = np.random.SeedSequence(root_seed, spawn_key=(_SALIB_KEY, i))
    return int(seq.generate_state(1)[0]) or 1  # SALib's sobol ignores a seed of 0


def _sensitivity_table(
    inp: _Inputs, matrices: dict[str, np.ndarray], level: float, notes: list[str]
) -> pa.Table:
    exp, res = inp.experiment, inp.results
    schema = {c: pa.string() for c in SENSITIVITY_COLUMNS[:5]}
    schema |= {"value": pa.float64(), "conf": pa.float64()}
    kind = exp["design"]["kind"]
    if kind not in ("sobol", "morris"):
        notes.append(
            f"sensitivity: needs a sobol or morris design (the design is {kind}); no indices "
            "computed"
        )
        return _empty(schema)
    problem = exp.get("salib_problem")
    if not problem:
        notes.append(f"sensitivity: experiment.json has no salib_problem for its {kind} design")
        return _empty(schema)
    P, R = exp["points"], exp["replicates"]
    runs = np.bincount(res["point"].to_numpy(zero_copy_only=False), minlength=P)
    incomplete = np.flatnonzero(runs < R)
    if incomplete.size:
        shown = ", ".join(str(p) for p in incomplete[:8]) + (", …" if incomplete.size > 8 else "")
        notes.append(
            f"sensitivity: refused: {incomplete.size} of {P} design point(s) lack some of the "
            f"{R} replicate(s) (points {shown}); SALib needs every point of the {kind} sample "
            "(rerun the failed runs)"
        )
        return _empty(schema)
    names = list(problem["names"])
    salib_problem = {
        "num_vars": int(problem["num_vars"]),
        "names": names,
        "bounds": [[float(a), float(b)] for a, b in problem["bounds"]],
    }
    rows: dict[str, list[Any]] = {k: [] for k in schema}

    def add(o: str, f: str, f2: str | None, index: str, value: float, conf: float | None) -> None:
        for key, v in zip(SENSITIVITY_COLUMNS, (o, f, f2, kind, index, value, conf), strict=True):
            rows[key].append(v)

    X = None
    if kind == "morris":
        factor = _factor_values(res, names, P)
        try:
            X = np.column_stack([factor[n].cast(pa.float64()).to_numpy(zero_copy_only=False)
                                 for n in names])  # fmt: skip
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            notes.append("sensitivity: the morris factors must be numeric; no indices computed")
            return _empty(schema)
    for i, o in enumerate(exp["outcomes"]):
        m = matrices[o]
        if not np.isfinite(m).all():
            notes.append(f"sensitivity: {o} is undefined in some runs; no indices for it")
            continue
        Y = m.mean(axis=1)
        if kind == "sobol" and not np.ptp(Y) > 0:
            notes.append(f"sensitivity: {o} does not vary over the design; no Sobol' indices")
            continue
        seed = _salib_seed(exp["root_seed"], i)
        try:
            if kind == "sobol":
                from SALib.analyze import sobol

                second = bool(exp["design"].get("calc_second_order", True))
                Si = sobol.analyze(salib_problem, Y, calc_second_order=second, conf_level=level,
                                   seed=seed)  # fmt: skip
            else:
                from SALib.analyze import morris

                levels = exp["design"].get("num_levels") or 4
                Si = morris.analyze(salib_problem, X, Y, conf_level=level,
                                    num_levels=int(levels), seed=seed)  # fmt: skip
        except (RuntimeError, ValueError) as exc:
            text = " ".join(str(exc).split())
            notes.append(f"sensitivity: SALib refused the {kind} analysis of {o}: {text}")
            continue
        if kind == "sobol":
            for j, name in enumerate(names):
                add(o, name, None, "S1", Si["S1"][j], Si["S1_conf"][j])
                add(o, name, None, "ST", Si["ST"][j], Si["ST_conf"][j])
            if "S2" in Si:
                for j in range(len(names)):
                    for k in range(j + 1, len(names)):
                        add(o, names[j], names[k], "S2", Si["S2"][j, k], Si["S2_conf"][j, k])
        else:
            for j, name in enumerate(names):
                add(o, name, None, "mu_star", Si["mu_star"][j], Si["mu_star_conf"][j])
                add(o, name, None, "mu", Si["mu"][j], None)
                add(o, name, None, "sigma", Si["sigma"][j], None)
    rows["value"] = [float(v) for v in rows["value"]]
    rows["conf"] = [None if c is None else float(c) for c in rows["conf"]]
    return pa.table({k: pa.array(v, schema[k]) for k, v in rows.items()})


# ---------------------------------------------------------------- entry points


def analyze(directory: str | Path, level: float = 0.95, *, write: bool = True) -> Analysis:
    """Analyse the experiment folder `directory` and (if `write`) store the tables in
    `directory/analysis/` (see the module docstring).

    `level` is the confidence level of every interval (t intervals, SALib's bootstrap).
    Raises InputError if the folder is missing, is not an experiment folder, has no results
    yet, or does not match its experiment.json.
    """
    level = _check_level(level)
    inp = _inputs(Path(directory), level)
    notes: list[str] = []
    exp = inp.experiment
    expected = exp["points"] * exp["replicates"]
    if inp.results.num_rows < expected:
        notes.append(
            f"{inp.results.num_rows} of {expected} runs stored ({inp.failures} failed); "
            "missing runs reduce n"
        )
    points, matrices = _points_table(inp, level)
    empty = int((points["runs"].to_numpy() == 0).sum()) // len(exp["outcomes"])
    if empty:
        notes.append(f"{empty} design point(s) have no run: listed with n = 0 and NaN")
    analysis = Analysis(
        root=inp.root,
        experiment=exp,
        level=level,
        points=points,
        differences=_differences_table(inp, matrices, level, notes),
        pareto=_pareto_table(inp, matrices, notes, level),
        sensitivity=_sensitivity_table(inp, matrices, level, notes),
        notes=notes,
        runs=inp.results.num_rows,
        failures=inp.failures,
        source=inp.source,
        fingerprint=inp.fingerprint,
    )
    if write:
        _store(analysis)
    return analysis


def _store(analysis: Analysis) -> None:
    folder = analysis.folder
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot write the analysis to {folder}: {exc.strerror}") from None
    for name in TABLES:
        write_table_atomic(analysis.table(name), folder / f"{name}.parquet")
    meta = {
        "format": ANALYSIS_FORMAT,
        "fingerprint": analysis.fingerprint,
        "level": analysis.level,
        "runs": analysis.runs,
        "failures": analysis.failures,
        "source": analysis.source,
        "notes": analysis.notes,
    }
    write_text_atomic(
        folder / "analysis.json", json.dumps(jsonable(meta), indent=2, allow_nan=False) + "\n"
    )  # last: marks the tables complete


def _stored_level(folder: Path) -> float | None:
    """The level of the analysis stored in `folder` (DIR/analysis), if it can be read."""
    try:
        level = json.loads((folder / "analysis.json").read_text("utf-8")).get("level")
        return _check_level(level)
    except (OSError, ValueError, AttributeError, InputError):
        return None


def current_analysis(directory: str | Path, level: float | None = None) -> Analysis:
    """The analysis stored in `directory/analysis/` if it is up to date with the folder's
    inputs and `level`, else a fresh `analyze(directory, level)` (which stores it).

    `level` None means the stored analysis's level (as `tightrope analyze --level` chose
    it), or 0.95 where there is none.
    """
    root = Path(directory)
    folder = root / ANALYSIS_DIR
    if level is None:
        level = _stored_level(folder) if root.is_dir() else None
    level = _check_level(0.95 if level is None else level)
    inp = _inputs(root, level)
    try:
        meta = json.loads((folder / "analysis.json").read_text("utf-8"))
        if meta.get("fingerprint") != inp.fingerprint:
            raise ValueError("stale")
        tables = {n: pq.read_table(folder / f"{n}.parquet") for n in TABLES}
    except (OSError, ValueError, AttributeError, pa.ArrowException):
        return analyze(root, level)
    return Analysis(
        root=root,
        experiment=inp.experiment,
        level=level,
        notes=[str(n) for n in meta.get("notes", [])],
        runs=inp.results.num_rows,
        failures=inp.failures,
        source=inp.source,
        fingerprint=inp.fingerprint,
        **tables,
    )


def short_names(paths: Sequence[str]) -> dict[str, str]:
    """The shortest dotted suffix of each path that tells it apart from the others
    ("platforms.weibo.reviewers_per_100k" -> "reviewers_per_100k" where that is unique)."""
    parts = {p: p.split(".") for p in paths}
    out: dict[str, str] = {}
    for p, bits in parts.items():
        for k in range(1, len(bits) + 1):
            label = ".".join(bits[-k:])
            clash = [q for q, b in parts.items() if q != p and ".".join(b[-k:]) == label]
            if not clash:
                break
        out[p] = label
    return out
