"""The analysis of experiment folders (tightrope.experiments.analysis, `tightrope analyze`,
the report).

The experiment folders are made up here, written directly in the on-disk format of the
experiment contract (experiment.json + results.parquet), with outcomes from known functions,
so that the expected numbers are known: Sobol' indices of the Ishigami function, Morris
screening of a model with an inert factor, paired differences of an additive model.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.stats
from click.testing import CliRunner

from tightrope.cli.app import main
from tightrope.errors import InputError
from tightrope.experiments import analysis
from tightrope.experiments.analysis import (
    analyze,
    current_analysis,
    pareto_front,
    short_names,
    t_intervals,
)
from tightrope.experiments.seeds import child_seeds
from tightrope.report.html import write_report
from tightrope.results import intervals
from tightrope.results.intervals import t_interval

GOALS = ("order_score", "development_score", "freedom_score")
LEVER_A = "platforms.weibo.reviewers_per_100k"
LEVER_B = "state.punishment.severity"
UNCERTAIN = "people.fear.sensitivity"
X1, X2, X3 = "a.x1", "a.x2", "a.x3"


# ---------------------------------------------------------------- fixture folders


@functools.cache
def _stand_in_parquet() -> tuple[bytes, str]:
    """One small Parquet file's bytes and their sha256, written once for every stand-in."""
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"x": [0]}), sink)
    data = sink.getvalue().to_pybytes()
    return data, hashlib.sha256(data).hexdigest()


def stored_run(folder: Path) -> None:
    """A stand-in for a stored run folder (the outcomes here come from known functions, not
    from runs): its files, and a manifest with their sha256, as readers check them."""
    folder.mkdir(parents=True, exist_ok=True)
    data, sha = _stand_in_parquet()
    files = {}
    for name in ("summary", "timeseries", "platforms", "histograms"):
        (folder / f"{name}.parquet").write_bytes(data)
        files[f"{name}.parquet"] = sha
    manifest = {"run_id": folder.name, "config_sha256": "0" * 64, "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def make_experiment(
    root: Path,
    *,
    kind: str,
    factors: list[dict[str, Any]],
    X: Sequence[Sequence[Any]],
    outcomes: dict[str, Callable[[np.ndarray, int], np.ndarray]],
    replicates: int = 3,
    root_seed: int = 7,
    salib_problem: dict[str, Any] | None = None,
    design: dict[str, Any] | None = None,
    drop: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
) -> Path:
    """An experiment folder in the contract's format: design points X (rows, in factor
    order), each run at every replicate; outcome(X as a column-wise matrix, replicate) gives
    that replicate's outcome at every point. Runs in `drop` (point, replicate) failed."""
    root.mkdir(parents=True, exist_ok=True)
    seeds = child_seeds(root_seed, replicates)
    spec = {
        "format": "tightrope-experiment/1",
        "name": "test-experiment",
        "base": "laissez-faire",
        "design": {"kind": kind, "samples": None, "calc_second_order": False,
                   "num_levels": None, **(design or {})},
        "factors": factors,
        "salib_problem": salib_problem,
        "outcomes": list(outcomes),
        "replicates": replicates,
        "root_seed": root_seed,
        "seeds": seeds,
        "points": len(X),
        "users": 300,
        "days": 1.0,
    }  # fmt: skip
    canonical = json.dumps({k: v for k, v in spec.items() if k != "seeds"}, sort_keys=True)
    spec["experiment_sha256"] = hashlib.sha256(canonical.encode()).hexdigest()
    (root / "experiment.json").write_text(json.dumps(spec, indent=2), "utf-8")
    numeric = {  # categorical: text or true/false values, stored as strings (as the runner does)
        f["path"]: not any(isinstance(v, bool | str) for v in f.get("values") or [])
        for f in factors
    }
    cols = list(zip(*X, strict=True)) if len(X) else [[] for _ in factors]
    matrix = np.array([[float(v) if numeric[f["path"]] else 0.0 for v, f in zip(row, factors,
                      strict=True)] for row in X])  # fmt: skip
    values = {o: np.stack([fn(matrix, r) for r in range(replicates)], axis=1)
              for o, fn in outcomes.items()}  # fmt: skip
    keep = [(p, r) for p in range(len(X)) for r in range(replicates) if (p, r) not in drop]
    table: dict[str, Any] = {
        "point": pa.array([p for p, _ in keep], pa.int64()),
        "replicate": pa.array([r for _, r in keep], pa.int64()),
        "seed": pa.array([seeds[r] for _, r in keep], pa.int64()),
        "run_id": pa.array([f"test-p{p}-r{r}" for p, r in keep], pa.string()),
    }
    for i, f in enumerate(factors):
        kind_ = pa.float64() if numeric[f["path"]] else pa.string()
        table[f["path"]] = pa.array([cols[i][p] for p, _ in keep], kind_)
    for o, v in values.items():
        table[o] = pa.array([v[p, r] for p, r in keep], pa.float64())
    pq.write_table(pa.table(table), root / "results.parquet")
    for p, r in keep:
        stored_run(root / "runs" / f"test-p{p}-r{r}")
    if drop:
        failures = {
            "point": pa.array([p for p, _ in sorted(drop)], pa.int64()),
            "replicate": pa.array([r for _, r in sorted(drop)], pa.int64()),
            "seed": pa.array([seeds[r] for _, r in sorted(drop)], pa.int64()),
            "error": pa.array(["RuntimeError: test"] * len(drop), pa.string()),
        }
        pq.write_table(pa.table(failures), root / "failures.parquet")
    return root


def _noise(r: int, size: int, scale: float, salt: int = 0) -> np.ndarray:
    return np.random.default_rng([r, salt, 99]).normal(0, scale, size)


def grid_experiment(root: Path, drop: set[tuple[int, int]] = frozenset(), **kw: Any) -> Path:  # type: ignore[assignment]
    """2 x 3 levers x 2 uncertainty values, 4 replicates. Outcomes: additive effects plus a
    replicate effect common to every point (CRN) plus a little independent noise."""
    a_vals, b_vals, u_vals = [10.0, 20.0], [0.0, 0.5, 1.0], [0.2, 0.8]
    X = list(itertools.product(a_vals, b_vals, u_vals))
    factors = [
        {"path": LEVER_A, "role": "lever", "values": a_vals, "low": None, "high": None,
         "scale": "linear"},
        {"path": LEVER_B, "role": "lever", "values": b_vals, "low": None, "high": None,
         "scale": "linear"},
        {"path": UNCERTAIN, "role": "uncertainty", "values": u_vals, "low": None, "high": None,
         "scale": "linear"},
    ]  # fmt: skip

    def goal(i: int, wa: float, wb: float) -> Callable[[np.ndarray, int], np.ndarray]:
        def f(x: np.ndarray, r: int) -> np.ndarray:
            common = 0.05 * np.sin(3.0 * r + i)  # shared by every point at replicate r
            own = _noise(r, len(x), 0.002, salt=i)
            return 0.5 + wa * (x[:, 0] - 10) / 10 + wb * x[:, 1] + 0.1 * x[:, 2] + common + own

        return f

    outcomes = {
        "order_score": goal(0, 0.10, 0.20),
        "development_score": goal(1, -0.05, -0.15),
        "freedom_score": goal(2, 0.02, -0.25),
        "removed_share": goal(3, 0.0, 0.1),
    }
    return make_experiment(root, kind="grid", factors=factors, X=X, outcomes=outcomes,
                           replicates=4, drop=drop, **kw)  # fmt: skip


def sampled_experiment(
    root: Path,
    kind: str,
    model: Callable[[np.ndarray], np.ndarray],
    *,
    bounds: list[list[float]],
    N: int,
    replicates: int = 2,
    noise: float = 0.0,
    drop: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
    root_seed: int = 11,
) -> Path:
    """A sobol or morris experiment sampled with SALib's own sampler; every outcome is
    model(X) plus replicate noise common to all points (`noise` scale)."""
    names = [X1, X2, X3][: len(bounds)]
    problem = {"num_vars": len(names), "names": names, "bounds": bounds}
    if kind == "sobol":
        from SALib.sample import sobol as sampler

        X = sampler.sample(problem, N, calc_second_order=True, seed=3)
        design = {"samples": N, "calc_second_order": True}
    else:
        from SALib.sample import morris as sampler

        X = sampler.sample(problem, N, num_levels=4, seed=3)
        design = {"samples": N, "num_levels": 4}
    factors = [{"path": n, "role": "lever" if i == 0 else "uncertainty", "values": None,
                "low": b[0], "high": b[1], "scale": "linear"}
               for i, (n, b) in enumerate(zip(names, bounds, strict=True))]  # fmt: skip
    y = model(X)

    def outcome(shift: float) -> Callable[[np.ndarray, int], np.ndarray]:
        return lambda x, r: y + shift + noise * math.sin(5.0 * r + 1)

    outcomes = {g: outcome(i) for i, g in enumerate(GOALS)}
    return make_experiment(root, kind=kind, factors=factors, X=X.tolist(), outcomes=outcomes,
                           replicates=replicates, salib_problem=problem, design=design,
                           drop=drop, root_seed=root_seed)  # fmt: skip


def ishigami(X: np.ndarray) -> np.ndarray:
    a, b = 7.0, 0.1
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


PI = math.pi
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def _rows(table: pa.Table, **where: Any) -> list[dict[str, Any]]:
    return [r for r in table.to_pylist() if all(r[k] == v for k, v in where.items())]


# ---------------------------------------------------------------- Pareto front


@pytest.mark.parametrize(
    ("points", "front"),
    [
        ([[1, 1, 1], [0, 0, 0]], [True, False]),
        ([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [True, True, True]),  # each best at one goal
        ([[1, 1, 1], [1, 1, 0.5]], [True, False]),  # equal on two, worse on one: dominated
        ([[1, 1, 1], [1, 1, 1], [0.5, 0.5, 0.5]], [True, True, False]),  # duplicates both stay
        ([[0.2, 0.2, 0.2], [0.2, 0.2, 0.2]], [True, True]),  # a tie does not dominate
        ([[0.5, 0.9, 0.1], [0.6, 0.9, 0.1], [0.6, 0.8, 0.2]], [False, True, True]),
        ([[math.nan, 2, 2], [1, 1, 1]], [False, True]),  # NaN: not compared, not on front
        ([[3, 3, 3]], [True]),
    ],
)
def test_pareto_front_on_hand_made_points(points: list[list[float]], front: list[bool]) -> None:
    assert pareto_front(np.array(points, dtype=float)).tolist() == front


def test_pareto_front_matches_brute_force_with_many_ties() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 6, size=(1500, 3)).astype(float)  # many ties and duplicates
    expected = np.array([not np.any((y >= y[i]).all(1) & (y > y[i]).any(1)) for i in range(len(y))])
    got = pareto_front(y)  # several blocks at this size
    assert got.tolist() == expected.tolist()
    assert 0 < got.sum() < len(y)
    assert pareto_front(np.empty((0, 3))).tolist() == []
    with pytest.raises(ValueError, match="2-d"):
        pareto_front(np.ones(3))


def test_front_resolution_marks_what_the_replicates_cannot_tell_apart() -> None:
    """Four settings, 5 replicates. 0 and 2 are a hair apart on every goal with noise of
    their own: each may dominate the other, so both are on the front but unresolved. 1 is
    below 0 on every goal by far more than the noise: dominated for certain. 3 trades order
    for the rest and nobody comes near it: on the front, resolved."""
    rng = np.random.default_rng(4)
    means = np.array([[0.60, 0.60, 0.60], [0.40, 0.40, 0.40], [0.61, 0.59, 0.60],
                      [0.95, 0.10, 0.10]])  # fmt: skip
    noise = np.array([0.001, 0.001, 0.05, 0.001])
    samples = means[:, :, None] + noise[:, None, None] * rng.standard_normal((4, 3, 5))
    means = samples.mean(axis=2)
    front = pareto_front(means)
    assert front.tolist() == [True, False, True, True]
    resolved = analysis.front_resolution(means, samples, front, 0.95)
    assert resolved.tolist() == [False, True, False, True]
    # without noise the replicates settle everything: the marks follow the means
    exact = np.repeat(means[:, :, None], 5, axis=2)
    assert analysis.front_resolution(means, exact, front).all()
    # one replicate settles nothing that is not tied... and a tie dominates nobody
    single = analysis.front_resolution(means, samples[:, :, :1], front)
    assert not single.any()
    nan_row = means.copy()
    nan_row[1, 0] = np.nan
    mask = pareto_front(nan_row)
    assert not analysis.front_resolution(nan_row, samples, mask)[1]  # not compared


def test_unresolved_front_settings_are_marked_in_the_table_and_the_report(
    tmp_path: Path,
) -> None:
    """The grid's settings (10, 0.5) and (20, 0.0) have the same true order score: the
    replicates cannot settle which of the two the front holds."""
    root = grid_experiment(tmp_path / "exp")
    a = analyze(root)
    rows = a.pareto.to_pylist()
    by = {(r[LEVER_A], r[LEVER_B]): r for r in rows}
    assert by[(10.0, 0.5)]["on_front"]
    assert by[(10.0, 0.5)]["resolved"] is False
    assert by[(20.0, 1.0)]["resolved"] is True
    for r in rows:  # each goal's own interval holds its mean (every replicate is there)
        for g in GOALS:
            assert 0 <= r[f"{g}_ci_low"] <= r[g] <= r[f"{g}_ci_high"] <= 1
    assert any(n.startswith("Pareto front: the 4 replicate(s) do not settle 1 of the")
               for n in a.notes)  # fmt: skip
    text = write_report(root).read_text("utf-8")
    assert "on the front, not resolved by the replicates" in text  # the scatter's legend
    assert "<th>resolved by the replicates</th>" in text
    assert "no: another setting may dominate it" in text
    assert '"diamond-open"' in text
    assert "error_x" in text  # whiskers


# ---------------------------------------------------------------- interval math


def test_t_intervals_match_scipy_and_compare() -> None:
    rng = np.random.default_rng(1)
    for n in (2, 3, 7, 30):
        x = rng.normal(3, 2, n)
        for level in (0.9, 0.95, 0.99):
            lo, hi = t_intervals(np.array([x.mean()]), np.array([x.std(ddof=1)]),
                                 np.array([n]), level)  # fmt: skip
            ref = scipy.stats.t.interval(level, n - 1, loc=x.mean(), scale=scipy.stats.sem(x))
            assert lo[0] == pytest.approx(ref[0], rel=1e-12)
            assert hi[0] == pytest.approx(ref[1], rel=1e-12)
            _, clo, chi, cn = t_interval(list(x), level)
            assert (clo, chi, cn) == (pytest.approx(lo[0]), pytest.approx(hi[0]), n)
    lo, hi = t_intervals(np.array([1.0, math.nan]), np.array([math.nan] * 2), np.array([1, 0]))
    assert np.isnan(lo).all()
    assert np.isnan(hi).all()


# ---------------------------------------------------------------- grid designs


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> analysis.Analysis:
    # point 3 loses a replicate; point 5 has no run at all
    drop = {(3, 1)} | {(5, r) for r in range(4)}
    root = grid_experiment(tmp_path_factory.mktemp("grid") / "exp", drop=drop)
    return analyze(root)


def test_points_table_means_intervals_and_missing_runs(grid: analysis.Analysis) -> None:
    results = pq.read_table(grid.root / "results.parquet").to_pylist()
    pts = grid.points
    assert pts.num_rows == 12 * 4
    assert pts.column_names[:5] == ["point", LEVER_A, LEVER_B, UNCERTAIN, "outcome"]
    for point in (0, 3, 7):
        values = [r["freedom_score"] for r in results if r["point"] == point]
        (row,) = _rows(pts, point=point, outcome="freedom_score")
        mean, lo, hi, n = intervals.interval(values, "unit", 0.95)  # a score: in [0, 1]
        assert row["n"] == n == (3 if point == 3 else 4)
        assert row["mean"] == pytest.approx(mean, abs=1e-12)
        assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    (empty,) = _rows(pts, point=5, outcome="order_score")
    assert empty["n"] == 0
    assert empty["runs"] == 0
    assert math.isnan(empty["mean"])
    assert empty[LEVER_A] is None
    assert any("no run" in n for n in grid.notes)
    assert any("runs stored" in n and "5 failed" in n for n in grid.notes)
    on_disk = pq.read_table(grid.folder / "points.parquet")
    assert on_disk.schema.equals(grid.points.schema, check_metadata=False)
    assert on_disk.to_pandas().equals(grid.points.to_pandas())  # NaN equal to NaN here


def test_paired_differences_against_the_base_setting(grid: analysis.Analysis) -> None:
    d = grid.differences
    assert d.num_rows == 5 * 4  # 6 lever settings less the base, 4 outcomes
    results = pq.read_table(grid.root / "results.parquet").to_pylist()
    val = {(r[LEVER_A], r[LEVER_B], r[UNCERTAIN], r["replicate"]): r["order_score"]
           for r in results}  # fmt: skip

    def per_replicate(a: float, b: float) -> dict[int, float]:
        out = {}
        for r in range(4):
            cells = [val.get((a, b, u, r)) for u in (0.2, 0.8)]
            if None not in cells:
                out[r] = float(np.mean(cells))
        return out

    base = per_replicate(10.0, 0.0)
    for a, b in ((20.0, 0.5), (20.0, 1.0), (10.0, 0.5)):
        y = per_replicate(a, b)
        diffs = [y[r] - base[r] for r in sorted(set(y) & set(base))]
        (row,) = _rows(d, outcome="order_score", **{LEVER_A: a, LEVER_B: b})
        mean, lo, hi, n = t_interval(diffs, 0.95)
        assert row["diff_n"] == n
        assert row["diff_mean"] == pytest.approx(mean, abs=1e-12)
        assert (row["diff_ci_low"], row["diff_ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
        truth = 0.10 * (a - 10) / 10 + 0.20 * b
        assert lo < truth < hi
    # (10, 0.5) has point 3 (u=0.8) without replicate 1: that pair is left out
    (row,) = _rows(d, outcome="order_score", **{LEVER_A: 10.0, LEVER_B: 0.5})
    assert row["diff_n"] == 3
    # (10, 1.0) lost point 5 (u=0.8) entirely: no replicate is complete
    (row,) = _rows(d, outcome="order_score", **{LEVER_A: 10.0, LEVER_B: 1.0})
    assert row["diff_n"] == 0
    assert math.isnan(row["diff_mean"])


def test_pairing_removes_the_common_replicate_effect(grid: analysis.Analysis) -> None:
    """The common (CRN) replicate effect is 0.05 * sin(...): it widens the point intervals
    but cancels in the paired differences."""
    (diff,) = _rows(grid.differences, outcome="freedom_score", **{LEVER_A: 20.0, LEVER_B: 1.0})
    (point,) = _rows(grid.points, point=11, outcome="freedom_score")
    assert point[LEVER_A] == 20.0
    assert point[LEVER_B] == 1.0
    paired = diff["diff_ci_high"] - diff["diff_ci_low"]
    single = point["ci_high"] - point["ci_low"]
    assert paired < single / 10


def test_pareto_table_of_a_grid(grid: analysis.Analysis) -> None:
    p = grid.pareto
    assert p.column_names == [
        LEVER_A, LEVER_B, *GOALS, "points", "runs", "on_front", "resolved",
        *(f"{g}_{b}" for g in GOALS for b in ("ci_low", "ci_high")),
    ]  # fmt: skip
    assert p.num_rows == 6
    rows = p.to_pylist()
    pts = grid.points.to_pylist()
    for row in rows:
        means = [
            r["mean"]
            for r in pts
            if r["outcome"] == "order_score"
            and r[LEVER_A] == row[LEVER_A]
            and r[LEVER_B] == row[LEVER_B]
        ]
        assert row["order_score"] == pytest.approx(np.mean(means))  # mean over uncertainties
    y = np.array([[r[g] for g in GOALS] for r in rows])
    assert [r["on_front"] for r in rows] == pareto_front(y).tolist()
    assert {r["points"] for r in rows} == {1, 2}  # (10, 1.0) lost one of its two points
    assert any("1 lever setting(s) lack runs at some of the 2 uncertainty" in n
               for n in grid.notes)  # fmt: skip


def test_grid_has_no_sensitivity_indices(grid: analysis.Analysis) -> None:
    assert grid.sensitivity.num_rows == 0
    assert grid.sensitivity.column_names == list(analysis.SENSITIVITY_COLUMNS)
    assert any("needs a sobol or morris design" in n for n in grid.notes)


def test_files_are_written_atomically_and_only_there(grid: analysis.Analysis) -> None:
    names = sorted(p.name for p in grid.folder.iterdir())
    assert names == ["analysis.json", *sorted(f"{t}.parquet" for t in analysis.TABLES)]
    meta = json.loads((grid.folder / "analysis.json").read_text("utf-8"))
    assert meta["fingerprint"] == grid.fingerprint
    assert meta["notes"] == grid.notes
    module = importlib.util.find_spec("tightrope.experiments.runner") is not None
    assert grid.source == ("tightrope.experiments.runner" if module else "files")


def test_categorical_levers_are_stored_as_text_and_matched(tmp_path: Path) -> None:
    """true/false and text values are strings in results.parquet; the base setting (the
    first listed values: true, "soft") is still found."""
    factors = [
        {"path": "state.real_name", "role": "lever", "values": [True, False], "low": None,
         "high": None, "scale": "linear"},
        {"path": "state.mode", "role": "lever", "values": ["soft", "hard"], "low": None,
         "high": None, "scale": "linear"},
    ]  # fmt: skip
    X = [["true", "soft"], ["true", "hard"], ["false", "soft"], ["false", "hard"]]

    def goal(sign: float) -> Callable[[np.ndarray, int], np.ndarray]:
        return lambda x, r: 0.5 + 0.01 * r + sign * 0.02 * np.arange(len(x))

    outcomes = {"order_score": goal(1), "development_score": goal(-1), "freedom_score": goal(1)}
    root = make_experiment(tmp_path / "exp", kind="grid", factors=factors, X=X,
                           outcomes=outcomes)  # fmt: skip
    a = analyze(root)
    rows = _rows(a.differences, outcome="order_score")
    assert [(r["state.real_name"], r["state.mode"]) for r in rows] == [
        ("true", "hard"), ("false", "soft"), ("false", "hard")
    ]  # fmt: skip
    assert [r["diff_mean"] for r in rows] == pytest.approx([0.02, 0.04, 0.06])
    assert a.pareto["state.real_name"].type == pa.string()
    assert a.pareto["on_front"].to_pylist() == [True] * 4  # order up, development down
    assert a.pareto["resolved"].to_pylist() == [True] * 4  # the same steps at every replicate


# ---------------------------------------------------------------- Sobol and Morris


@pytest.fixture(scope="module")
def sobol_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sampled_experiment(tmp_path_factory.mktemp("sobol") / "exp", "sobol", ishigami,
                              bounds=[[-PI, PI]] * 3, N=512, noise=0.3)  # fmt: skip


def test_sobol_indices_of_the_ishigami_function(sobol_dir: Path) -> None:
    a = analyze(sobol_dir)
    s = a.sensitivity
    assert set(s["method"].to_pylist()) == {"sobol"}
    for outcome in GOALS:  # each goal is ishigami + a constant: same indices
        for j, name in enumerate((X1, X2, X3)):
            (s1,) = _rows(s, outcome=outcome, factor=name, index="S1")
            (st,) = _rows(s, outcome=outcome, factor=name, index="ST")
            assert s1["value"] == pytest.approx(ISHIGAMI_S1[j], abs=0.06)
            assert st["value"] == pytest.approx(ISHIGAMI_ST[j], abs=0.06)
            assert 0 < s1["conf"] < 0.2
        (s13,) = _rows(s, outcome=outcome, factor=X1, factor2=X3, index="S2")
        assert s13["value"] == pytest.approx(0.2437, abs=0.1)  # the x1-x3 interaction
    again = analyze(sobol_dir, write=False)
    assert again.sensitivity.equals(a.sensitivity)  # bootstrap seeded from the root seed


def test_sobol_refuses_when_a_point_lacks_a_replicate(tmp_path: Path) -> None:
    root = sampled_experiment(tmp_path / "exp", "sobol", lambda X: X.sum(1),
                              bounds=[[0, 1]] * 2, N=8, drop={(5, 1)})  # fmt: skip
    a = analyze(root)
    assert a.sensitivity.num_rows == 0
    (note,) = [n for n in a.notes if n.startswith("sensitivity")]
    assert "refused" in note
    assert "1 of 48 design point(s)" in note
    assert "points 5" in note
    (row,) = _rows(a.points, point=5, outcome="order_score")
    assert row["n"] == 1


def test_sobol_skips_constant_and_undefined_outcomes(tmp_path: Path) -> None:
    names = [X1, X2]
    problem = {"num_vars": 2, "names": names, "bounds": [[0.0, 1.0]] * 2}
    from SALib.sample import sobol as sampler

    X = sampler.sample(problem, 16, calc_second_order=False, seed=1)
    factors = [{"path": n, "role": "lever", "values": None, "low": 0.0, "high": 1.0,
                "scale": "linear"} for n in names]  # fmt: skip
    outcomes = {
        "order_score": lambda x, r: x[:, 0] + 2 * x[:, 1],
        "development_score": lambda x, r: 0 * x[:, 0],  # the same everywhere
        "freedom_score": lambda x, r: np.where(x[:, 0] > 0.5, np.nan, x[:, 1]),
    }
    root = make_experiment(tmp_path / "exp", kind="sobol", factors=factors, X=X.tolist(),
                           outcomes=outcomes, replicates=1, salib_problem=problem)  # fmt: skip
    a = analyze(root)
    assert set(a.sensitivity["outcome"].to_pylist()) == {"order_score"}
    assert "sensitivity: development_score does not vary over the design; no Sobol' indices" in (
        a.notes
    )
    assert "sensitivity: freedom_score is undefined in some runs; no indices for it" in a.notes


def test_morris_ranks_factors_and_finds_the_inert_one(tmp_path: Path) -> None:
    def model(X: np.ndarray) -> np.ndarray:
        return 4 * X[:, 0] + 2 * X[:, 1] ** 2 + 0 * X[:, 2]

    root = sampled_experiment(tmp_path / "exp", "morris", model, bounds=[[0, 1]] * 3, N=30,
                              noise=0.5, replicates=3)  # fmt: skip
    a = analyze(root)
    s = a.sensitivity
    mu_star = {r["factor"]: r["value"] for r in _rows(s, outcome="freedom_score", index="mu_star")}
    assert mu_star[X1] == pytest.approx(4.0, rel=1e-9)  # linear: every effect is 4
    assert mu_star[X1] > mu_star[X2] > mu_star[X3]
    assert mu_star[X3] == pytest.approx(0.0, abs=1e-9)  # CRN noise cancels in the effects
    sigma = {r["factor"]: r["value"] for r in _rows(s, outcome="freedom_score", index="sigma")}
    assert sigma[X1] == pytest.approx(0.0, abs=1e-9)
    assert sigma[X2] > 0  # nonlinear in x2
    assert {r["index"] for r in s.to_pylist()} == {"mu_star", "mu", "sigma"}
    assert a.differences.num_rows == 0
    assert any("only for grid designs" in n for n in a.notes)


# ---------------------------------------------------------------- bad input


def test_bad_folders_are_input_errors_with_exit_status_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", "utf-8")
    plain = tmp_path / "plain"
    plain.mkdir()
    no_results = tmp_path / "no-results"
    grid_experiment(no_results)
    (no_results / "results.parquet").unlink()
    cases = {
        missing: f"experiment folder not found: {missing}",
        a_file: f"experiment folder {a_file} is a file, not a folder",
        plain: f"{plain} is not an experiment folder: it has no experiment.json",
        no_results: f"experiment folder {no_results} has no results yet",
    }
    for folder, message in cases.items():
        result = invoke("analyze", folder)
        assert result.exit_code == 2, result.output
        assert result.output.startswith(f"error: {message}")
        with pytest.raises(InputError, match=re.escape(message)):
            analyze(folder)
    assert not (no_results / "analysis").exists()


def test_malformed_experiment_and_mixed_results_are_refused(tmp_path: Path) -> None:
    root = grid_experiment(tmp_path / "exp")
    spec = json.loads((root / "experiment.json").read_text("utf-8"))
    bad = {**spec, "replicates": 0, "design": {"kind": "random"}}
    (root / "experiment.json").write_text(json.dumps(bad), "utf-8")
    result = invoke("analyze", root)
    assert result.exit_code == 2
    assert "is not a valid experiment file" in result.output
    assert "design.kind is 'random'; allowed: grid, lhs, sobol, morris" in result.output
    assert "replicates must be a whole number of at least 1, not 0" in result.output
    (root / "experiment.json").write_text(json.dumps({**spec, "format": "other/9"}), "utf-8")
    result = invoke("analyze", root)
    assert result.exit_code == 2
    assert f"error: {root / 'experiment.json'} is not a" in result.output
    assert "tightrope-experiment/1" in result.output
    spec["seeds"][0] += 1  # results from another experiment
    (root / "experiment.json").write_text(json.dumps(spec), "utf-8")
    result = invoke("analyze", root)
    assert result.exit_code == 2
    assert "used another seed than experiment.json gives" in result.output
    assert not (root / "analysis").exists()


def test_level_must_be_between_0_and_1(tmp_path: Path) -> None:
    root = grid_experiment(tmp_path / "exp")
    assert invoke("analyze", root, "--level", "1.5").exit_code == 2
    with pytest.raises(InputError, match="level must be between 0 and 1"):
        analyze(root, level=0)
    wide, narrow = analyze(root, level=0.99), analyze(root, level=0.5)
    w = wide.points["ci_high"].to_numpy() - wide.points["ci_low"].to_numpy()
    n = narrow.points["ci_high"].to_numpy() - narrow.points["ci_low"].to_numpy()
    assert (w > n).all()


# ---------------------------------------------------------------- the command


def test_analyze_prints_tables(tmp_path: Path) -> None:
    root = grid_experiment(tmp_path / "exp", drop={(2, 0)})
    result = invoke("analyze", root)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Experiment test-experiment: grid design, 12 points x 4 replicates" in out
    assert "Runs: 47 of 48 stored, 1 failed." in out
    assert "Point means" in out
    assert "reviewers_per_100k" in out  # short factor names
    assert "Pareto front:" in out
    assert "Paired differences from the base setting (reviewers_per_100k=10, severity=0)" in out
    assert "note: sensitivity: needs a sobol or morris design" in out
    assert f"written: {root / 'analysis'}/" in out
    assert (root / "analysis" / "pareto.parquet").is_file()


def test_analyze_truncates_long_tables(tmp_path: Path) -> None:
    root = sampled_experiment(tmp_path / "exp", "morris", lambda X: X[:, 0], bounds=[[0, 1]] * 3,
                              N=10)  # fmt: skip
    out = invoke("analyze", root).output
    assert "... 10 more points not shown" in out
    assert "Morris screening" in out


def test_analyze_json(tmp_path: Path) -> None:
    root = grid_experiment(tmp_path / "exp", drop={(5, r) for r in range(4)})
    result = CliRunner().invoke(main, ["analyze", str(root), "--json"])
    assert result.exit_code == 0

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    doc = json.loads(result.stdout, parse_constant=refuse)
    assert doc["experiment"] == "test-experiment"
    assert doc["points"] == 12
    assert doc["level"] == 0.95
    assert len(doc["points_rows"]) == 48
    assert len(doc["pareto"]) == 6
    assert doc["sensitivity"] == []
    assert any("no run" in n for n in doc["notes"])
    assert {r["n"] for r in doc["points_rows"] if r["point"] == 5} == {0}
    assert all(r["mean"] is None for r in doc["points_rows"] if r["point"] == 5)


def test_the_runners_readers_are_used_and_a_folder_without_results_is_refused(
    tmp_path: Path,
) -> None:
    root = grid_experiment(tmp_path / "exp", drop={(1, 1)})
    a = analyze(root, write=False)
    assert a.source == "tightrope.experiments.runner"
    assert a.failures == 1
    (root / "results.parquet").unlink()  # rebuilt from run records, which these runs lack
    with pytest.raises(InputError, match="has no results yet"):
        analyze(root)


def test_short_names() -> None:
    assert short_names(["a.b.c", "x.y.c", "p.q"]) == {"a.b.c": "b.c", "x.y.c": "y.c", "p.q": "q"}


# ---------------------------------------------------------------- the HTML report


def _results_builder() -> Any:
    """test_report.py's fabricated runs, loaded by path so that any import mode works."""
    spec = importlib.util.spec_from_file_location(
        "_report_results", Path(__file__).with_name("test_report.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_of_a_grid_experiment(tmp_path: Path) -> None:
    root = grid_experiment(tmp_path / "exp", drop={(5, r) for r in range(4)})
    text = write_report(root).read_text("utf-8")
    for title in ("The experiment", "Trade-offs between the goals", "Which factors matter",
                  "Lever settings against the base", "Design points"):  # fmt: skip
        assert f"<h2>{title}</h2>" in text, title
    assert "<title>Tightrope experiment: test-experiment</title>" in text
    assert "on the Pareto front" in text
    assert "reviewers_per_100k = 20" in text  # hover text names the lever values
    assert "needs a sobol or morris design" in text
    assert '<meta name="tightrope-figures" content="1">' in text
    assert text.count('class="plotly-graph-div"') == 1
    assert "https://" not in text.replace(analysis_plotly(), "")
    assert (root / "analysis" / "analysis.json").is_file()  # the report ran the analysis


def analysis_plotly() -> str:
    import plotly.offline

    return plotly.offline.get_plotlyjs()


def test_report_of_a_sobol_experiment_has_sensitivity_bars(sobol_dir: Path) -> None:
    text = write_report(sobol_dir).read_text("utf-8")
    assert '<meta name="tightrope-figures" content="2">' in text
    assert "ST (with interactions)" in text
    assert "All Sobol' indices" in text
    assert "<h2>Lever settings against the base</h2>" not in text
    assert "First 200 of 4096 design points shown" in text  # N (512) x (2 x 3 + 2)


def test_report_reruns_a_stale_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = grid_experiment(tmp_path / "exp")
    first = analyze(root)
    calls: list[int] = []
    real = analysis.analyze

    def spy(*args: Any, **kwargs: Any) -> analysis.Analysis:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "analyze", spy)
    write_report(root)
    assert calls == []  # up to date: read back from DIR/analysis
    assert current_analysis(root).points.equals(first.points)
    grid_experiment(root, drop={(0, 0)})  # new results
    write_report(root)
    assert calls == [1]
    assert current_analysis(root).runs == 47
    assert invoke("analyze", root, "--level", "0.8").exit_code == 0
    text = write_report(root).read_text("utf-8")
    assert calls == [1, 1]  # the CLI's own analysis, which the report then keeps
    assert "mean [80% interval, t: " in text


def test_report_of_an_experiment_with_stored_runs(tmp_path: Path) -> None:
    builder = _results_builder()
    small = make_experiment(
        tmp_path / "small",
        kind="grid",
        factors=[{"path": LEVER_B, "role": "lever", "values": [0.0, 1.0], "low": None,
                  "high": None, "scale": "linear"}],
        X=[[0.0], [1.0]],
        outcomes={g: (lambda x, r, i=i: 0.5 + 0.1 * i * x[:, 0]) for i, g in enumerate(GOALS)},
        replicates=2,
    )  # fmt: skip
    builder._run(small, "laissez", 1)
    text = write_report(small).read_text("utf-8")
    assert "<h2>The experiment</h2>" in text
    assert "<h2>The three goals over time</h2>" in text  # the per-run sections follow
    assert text.count("<script") == text.count("</script>")
    assert os.stat(small / "report.html").st_mode & 0o777 == 0o644
    big = grid_experiment(tmp_path / "big")  # 12 points: too many for per-run charts
    builder._run(big, "laissez", 1)
    text = write_report(big).read_text("utf-8")
    assert "<h2>The three goals over time</h2>" not in text
    assert "they are drawn for at most 6 design points" in text


def test_with_the_experiment_runner(tmp_path: Path) -> None:
    """End to end: a tiny grid experiment run by tightrope.experiments.runner, then analysed."""
    experiments = pytest.importorskip("tightrope.experiments.runner")
    file = tmp_path / "exp.toml"
    file.write_text(
        'name = "tiny"\nbase = "laissez-faire"\nusers = 300\ndays = 1\nseed = 2\n'
        'replicates = 2\noutcomes = ["removed_share"]\n[design]\nkind = "grid"\n'
        '[levers."platforms.microblog.moderation.reviewers_per_100k_users"]\n'
        "values = [0.0, 20.0]\n",
        "utf-8",
    )
    experiments.run_experiment(file, tmp_path / "out", backend="serial")
    a = analyze(tmp_path / "out")
    assert a.runs == 4
    assert a.points.num_rows == 2 * 4
    assert set(a.points["n"].to_pylist()) == {2}
    assert a.differences.num_rows == 4  # one setting against the base, 4 outcomes
    assert a.pareto.num_rows == 2
    assert a.pareto["on_front"].to_pylist().count(True) >= 1
    assert "<h2>Design points</h2>" in write_report(tmp_path / "out").read_text("utf-8")
