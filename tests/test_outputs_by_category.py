"""Outputs by content category and the cascade-size distribution (docs/model.md 11.5, 11.6):
their columns and types, the invariants that tie them to the time series and the summary
on small runs of any preset, storage and read-back, integrity checks, and the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tightrope
from tightrope.core import counters as K
from tightrope.model.metrics import cascade_sizes, median_minutes
from tightrope.model.posting import cascade_bin, count_cascade
from tightrope.report.html import load_results, write_report
from tightrope.results import storage
from tightrope.results.result import CASCADE_COLUMNS, CATEGORY_COLUMNS
from tightrope.scenario.content import CATEGORIES, N_CATEGORIES

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = T0 + timedelta(seconds=3)
PRESET = "china-weibo-2013"  # a filter, reviewers, reports and inspections: every route
MORE_REPORTS = ["population.report_propensity_mean=0.2"]  # reports are rare otherwise
# inspection removals too: one at the preset's 1 inspector per 100k users before spam, none
# once the preset's spam views share the inspectors' sample (about 8 at 40)
MORE_CHECKS = ["state.inspection.staff_per_100k_users=40"]


@pytest.fixture(scope="module")
def result() -> tightrope.Result:
    sc = tightrope.load_scenario(PRESET, MORE_REPORTS + MORE_CHECKS, users=2000, days=2, seed=11)
    return tightrope.run(sc)


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


def _total(table: pa.Table, name: str) -> float:
    return float(pc.sum(table.column(name)).as_py() or 0)


# ---------------------------------------------------------------- columns and types


def test_category_table_columns_and_types(result: tightrope.Result) -> None:
    cat = result.categories
    assert tuple(cat.column_names) == CATEGORY_COLUMNS
    assert cat.column("category").to_pylist() == list(CATEGORIES)  # one row each, in order
    for name in CATEGORY_COLUMNS:
        want = {"category": pa.string(), "median_minutes_to_removal": pa.float64()}
        assert cat.schema.field(name).type == want.get(name, pa.int64()), name
    for name in CATEGORY_COLUMNS[1:-1]:
        assert pc.min(cat.column(name)).as_py() >= 0, name


def test_cascade_table_columns_and_types(result: tightrope.Result) -> None:
    casc = result.cascades
    assert tuple(casc.column_names) == CASCADE_COLUMNS
    assert casc.schema.field("category").type == pa.string()
    for name in CASCADE_COLUMNS[1:]:
        assert casc.schema.field(name).type == pa.int64(), name
    edges = set(K.cascade_edges())
    rows = casc.to_pylist()
    assert rows, "a run with posts has cascades"
    for r in rows:
        assert (r["lo_size"], r["hi_size"]) in edges
        assert r["posts"] > 0  # only bins that hold posts
        assert r["posts"] * r["lo_size"] <= r["total_size"] <= r["posts"] * r["hi_size"]
        assert r["category"] in CATEGORIES
    keys = [(CATEGORIES.index(r["category"]), r["lo_size"]) for r in rows]
    assert keys == sorted(keys)  # by category, then size


def test_every_removal_route_is_exercised(result: tightrope.Result) -> None:
    cat = result.categories
    for route in K.ROUTES:  # the preset sweeps, and its authors delete some of their posts
        assert _total(cat, route) > 0, route


def test_cascade_bins_are_powers_of_two() -> None:
    assert K.cascade_edges()[:5] == [(1, 1), (2, 2), (3, 4), (5, 8), (9, 16)]
    assert K.cascade_edges()[-1] == (2**30 + 1, 2**31)
    for size in (*range(1, 40), 2**20, 2**20 + 1, 2**31):
        lo, hi = K.cascade_edges()[cascade_bin(size)]
        assert lo <= size <= hi, size


def test_retired_and_live_posts_are_counted_alike() -> None:
    """The kernel's count of a retired post and the end-of-run count of the ring agree."""
    rng = np.random.default_rng(3)
    n = 500
    cat = rng.integers(0, N_CATEGORIES, n).astype(np.int8)
    reshares = (rng.pareto(1.2, n) * 3).astype(np.int32)
    pid = np.arange(n, dtype=np.int64)
    pid[::7] = -1  # empty slots are not posts
    kernel = np.zeros((N_CATEGORIES, K.CASCADE_BINS, 2), dtype=np.int64)
    for i in range(n):
        if pid[i] >= 0:
            count_cascade(kernel, cat[i], reshares[i])
    empty = np.zeros_like(kernel)
    assert np.array_equal(cascade_sizes(empty, pid, cat, reshares), kernel)
    live = pid >= 0
    assert kernel[:, :, K.CASCADE_SIZES].sum() == live.sum() + reshares[live].sum()
    assert np.array_equal(cascade_sizes(kernel, pid, cat, reshares), 2 * kernel)


# ---------------------------------------------------------------- invariants


def check_invariants(res: tightrope.Result) -> None:
    """What ties the tables by category and the cascades to the time series, the summary
    and the histograms of the same run."""
    cat, ts, s = res.categories, res.timeseries, res.summary
    routes = sum(_column(cat, r) for r in K.ROUTES)
    assert np.array_equal(routes, _column(cat, "removed"))
    # the time series' removed: the platforms' and the state's; authors' own apart
    assert _total(cat, "removed") - _total(cat, "removed_author") == _total(ts, "removed")
    assert _total(cat, "removed_author") == _total(ts, "author_deleted")
    assert _total(cat, "removed_inspection") == _total(ts, "regulator_violations")
    for name in ("intents", "self_censored", "posts", "blocked", "held", "wrongful_removed",
                 "views", "reshares"):  # fmt: skip
        assert _total(cat, name) == _total(ts, name), name
    assert np.array_equal(
        _column(cat, "published"), _column(cat, "posts") - _column(cat, "blocked")
    )
    assert _total(cat, "posts") == s["posts"] == res.meta["posts_created"]
    assert _total(cat, "reshares") == s["reshares"]
    posts = s["posts"]
    if posts:
        removed_and_blocked = s["removed_share"] * posts
        censored = _total(cat, "removed") - _total(cat, "removed_author") + _total(cat, "blocked")
        assert removed_and_blocked == pytest.approx(censored)
    # times to removal: the categories' histograms add up to the run's, and give the medians
    hist = res.histograms.to_pylist()
    overall: dict[float, int] = {}
    for r in hist:
        if r["measure"] == "minutes_to_removal":
            overall[r["lo_minutes"]] = r["count"]
    pooled: dict[float, int] = {}
    for i, c in enumerate(CATEGORIES):
        rows = [r for r in hist if r["measure"] == f"minutes_to_removal:{c}"]
        counts = np.zeros(K.N_BINS, dtype=np.int64)
        lows = [lo for lo, _ in K.bin_edges()]
        for r in rows:
            counts[lows.index(r["lo_minutes"])] = r["count"]
            pooled[r["lo_minutes"]] = pooled.get(r["lo_minutes"], 0) + r["count"]
        assert counts.sum() == cat.column("timed_removals")[i].as_py()
        median = cat.column("median_minutes_to_removal")[i].as_py()
        if counts.sum():
            assert median == median_minutes(counts)
        else:
            assert median is None
    assert pooled == overall
    assert _total(cat, "timed_removals") == sum(overall.values()) <= _total(cat, "removed")
    # cascades: every post once, its size 1 + its reshares
    casc = res.cascades
    assert _total(casc, "posts") == posts
    assert _total(casc, "total_size") == posts + s["reshares"]
    by_cat = dict.fromkeys(CATEGORIES, 0)
    for r in casc.to_pylist():
        by_cat[r["category"]] += r["posts"]
    assert [by_cat[c] for c in CATEGORIES] == cat.column("posts").to_pylist()


def test_invariants_of_the_module_run(result: tightrope.Result) -> None:
    check_invariants(result)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(tightrope.preset_names()),
    users=st.integers(500, 1500),
    days=st.sampled_from([1.0, 1.5]),
    seed=st.integers(0, 2**31),
)
def test_invariants_hold_on_small_runs(preset: str, users: int, days: float, seed: int) -> None:
    sc = tightrope.load_scenario(preset, users=users, days=days, seed=seed)
    check_invariants(tightrope.run(sc))


def test_reading_the_tables_changes_nothing() -> None:
    """Asking for the result mid-run (the ring is read for the cascades) leaves the run as
    it was: the tables at the end are those of a run never asked."""
    sc = tightrope.load_scenario(PRESET, users=800, days=1, seed=2)
    whole = tightrope.run(sc)
    sim = tightrope.Simulation(sc)
    for _ in range(sim.n_ticks // 2):
        sim.step()
    sim.result()
    while sim.t < sim.n_ticks:
        sim.step()
    res = sim.result()
    assert res.categories.equals(whole.categories)
    assert res.cascades.equals(whole.cascades)


# ---------------------------------------------------------------- storage and report


def _stored(result: tightrope.Result, root: Path) -> Path:
    return storage.save_run(result, root, started_at=T0, finished_at=T1)


def test_stored_tables_read_back_equal(result: tightrope.Result, tmp_path: Path) -> None:
    folder = _stored(result, tmp_path)
    info = json.loads((folder / "manifest.json").read_text())
    for name in ("categories", "cascades"):
        assert f"{name}.parquet" in info["files"]
        stored = pq.read_table(folder / f"{name}.parquet")
        assert stored.column_names[:3] == ["run_id", "scenario", "seed"]
        assert stored.drop_columns(["run_id", "scenario", "seed"]).equals(getattr(result, name))
    loaded = storage.load_categories(tmp_path)  # through DuckDB: compared as values
    assert loaded.column("category").to_pylist() == list(CATEGORIES)
    keys = ["run_id", "scenario", "seed"]
    assert loaded.drop_columns(keys).to_pylist() == result.categories.to_pylist()
    casc = storage.load_cascades(tmp_path)
    assert casc.drop_columns(keys).to_pylist() == result.cascades.to_pylist()
    views = storage.query(tmp_path, "SELECT CAST(sum(removed) AS BIGINT) AS r FROM categories")
    assert views.column("r").to_pylist() == [_total(result.categories, "removed")]


def test_runs_stored_before_the_tables_stay_readable(
    result: tightrope.Result, tmp_path: Path
) -> None:
    folder = _stored(result, tmp_path)
    info = json.loads((folder / "manifest.json").read_text())
    for name in ("categories", "cascades"):
        (folder / f"{name}.parquet").unlink()
        del info["files"][f"{name}.parquet"]
    (folder / "manifest.json").write_text(json.dumps(info))
    assert storage.run_problem(folder) is None
    assert storage.load_categories(tmp_path).num_rows == 0
    assert storage.load_timeseries(tmp_path).num_rows == result.timeseries.num_rows
    res = load_results(tmp_path)
    assert res.categories.empty
    assert res.cascades.empty
    text = write_report(tmp_path).read_text("utf-8")
    assert "<h2>By category</h2>" in text
    assert "n/a: the runs were stored before the tables by category existed" in text


def test_report_has_the_section_by_category(result: tightrope.Result, tmp_path: Path) -> None:
    _stored(result, tmp_path)
    text = write_report(tmp_path).read_text("utf-8")
    assert "<h2>By category</h2>" in text
    assert "<h3>Cascade sizes</h3>" in text
    for column in ("removed_filter", "removed_report", "removed_inspection",
                   "median_minutes_to_removal"):  # fmt: skip
        assert f"<th>{column}</th>" in text, column
    for c in CATEGORIES:
        assert f"<td>{c}</td>" in text, c
    assert "cascade size: 1 + reshares" in text  # the chart is drawn
