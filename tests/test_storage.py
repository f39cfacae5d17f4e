"""Stored results: layout, manifest, atomic writes, DuckDB read-back."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tightrope.errors import InputError
from tightrope.results import storage
from tightrope.results.result import (
    CASCADE_COLUMNS,
    CATEGORY_COLUMNS,
    COHORT_COLUMNS,
    HISTOGRAM_COLUMNS,
    PLATFORM_COLUMNS,
    PLATFORM_DAY_COLUMNS,
    REGION_COLUMNS,
    TIMESERIES_COLUMNS,
    Result,
    column_type,
)
from tightrope.scenario.content import CATEGORIES
from tightrope.scenario.files import canonical_json, config_sha256, load_scenario

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = T0 + timedelta(seconds=7.5)


def _one(column: str) -> list:
    return ["x"] if column_type(column) == pa.string() else [1]


def fake_result(name: str = "tiny", seed: int = 3, *, order: float = 0.5) -> Result:
    """A hand-made Result (a test double for storage only; the engine is not involved)."""
    scenario = load_scenario({"name": name}, users=50, days=1, seed=seed)
    ticks = 24
    timeseries = pa.table(
        {c: pa.array([float(i) for i in range(ticks)]) for c in TIMESERIES_COLUMNS}
    )
    platforms = pa.table(
        {
            c: pa.array(["microblog"] * ticks) if c == "platform" else pa.array([1.0] * ticks)
            for c in PLATFORM_COLUMNS
        }
    )
    histograms = pa.table(
        dict(zip(HISTOGRAM_COLUMNS, [["minutes_to_removal"], [0.0], [5.0], [2]], strict=True))
    )
    summary = {
        "order_score": order,
        "development_score": 0.25,
        "freedom_score": 0.75,
        "balance": 0.6,
        "tilt": "development",
        "incidents": 2,
        "median_minutes_to_removal": math.nan,
    }
    n = len(CATEGORIES)
    categories = pa.table(
        {
            c: pa.array(
                list(CATEGORIES) if c == "category" else [None if "median" in c else 1] * n,
                column_type(c),
            )
            for c in CATEGORY_COLUMNS
        }
    )
    one_bin = [["rumor"], [1], [1], [n], [n]]  # n posts of size 1
    cascades = pa.table(
        {c: pa.array(v, column_type(c)) for c, v in zip(CASCADE_COLUMNS, one_bin, strict=True)}
    )
    tables = (
        ("platform_days", PLATFORM_DAY_COLUMNS),
        ("regions", REGION_COLUMNS),
        ("cohorts", COHORT_COLUMNS),
    )
    added = {  # one row each, of the right types
        name: pa.table({c: pa.array(_one(c), column_type(c)) for c in columns})
        for name, columns in tables
    }
    return Result(
        scenario,
        seed,
        config_sha256(scenario),
        summary,
        timeseries,
        platforms,
        histograms,
        categories=categories,
        cascades=cascades,
        **added,
    )


def test_run_id_is_name_seed_and_hash_prefix() -> None:
    r = fake_result()
    assert storage.run_id("tiny", 3, r.config_sha256) == f"tiny-seed3-{r.config_sha256[:12]}"
    assert storage.run_id("../a b", 1, "f" * 64) == "_a_b-seed1-ffffffffffff"


def test_save_run_layout_and_manifest(tmp_path: Path) -> None:
    r = fake_result()
    folder = storage.save_run(r, tmp_path / "res", replicate=4, started_at=T0, finished_at=T1)
    rid = f"tiny-seed3-{r.config_sha256[:12]}"
    assert folder == tmp_path / "res" / "runs" / rid
    assert sorted(p.name for p in folder.iterdir()) == [
        "cascades.parquet", "categories.parquet", "cohorts.parquet", "histograms.parquet",
        "manifest.json", "platform_days.parquet", "platforms.parquet", "regions.parquet",
        "summary.parquet", "timeseries.parquet",
    ]  # fmt: skip
    assert [p.name for p in (tmp_path / "res" / "runs").iterdir()] == [rid]

    info = json.loads((folder / "manifest.json").read_text())
    assert info["run_id"] == rid
    assert info["status"] == "complete"
    assert info["scenario"] == "tiny"
    assert info["seed"] == 3
    assert info["config_sha256"] == r.config_sha256
    assert json.dumps(info["config"], separators=(",", ":")) == canonical_json(r.scenario)
    assert set(info["versions"]) >= {"numpy", "numba", "pydantic", "pyarrow", "duckdb", "python"}
    assert "tightrope_version" in info
    assert info["platform"]
    assert info["started_at"] == "2024-01-02T03:04:05+00:00"
    assert info["finished_at"] == "2024-01-02T03:04:12.500000+00:00"
    assert info["wall_seconds"] == 7.5

    summary = pq.read_table(folder / "summary.parquet")
    assert summary.column_names == [
        "run_id", "scenario", "label", "seed", "users", "days", "config_sha256",
        "regime_sha256", "replicate", "order_score", "development_score", "freedom_score",
        "balance", "tilt", "incidents",
        "median_minutes_to_removal",
    ]  # fmt: skip
    row = summary.to_pylist()[0]
    assert row["replicate"] == 4
    assert (row["users"], row["days"], row["tilt"], row["incidents"]) == (50, 1.0, "development", 2)
    assert row["median_minutes_to_removal"] is None  # NaN is stored as null

    ts = pq.read_table(folder / "timeseries.parquet")
    assert ts.column_names == ["run_id", "scenario", "seed", *TIMESERIES_COLUMNS]
    assert set(ts.column("run_id").to_pylist()) == {rid}
    assert pq.read_table(folder / "platforms.parquet").column_names[:4] == [
        "run_id", "scenario", "seed", "tick",
    ]  # fmt: skip
    assert pq.read_table(folder / "histograms.parquet").num_rows == 1


def test_save_run_replaces_same_id_and_leaves_no_temporaries(tmp_path: Path) -> None:
    storage.save_run(fake_result(order=0.1), tmp_path, started_at=T0, finished_at=T1)
    folder = storage.save_run(fake_result(order=0.9), tmp_path, started_at=T0, finished_at=T1)
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [folder.name]
    assert pq.read_table(folder / "summary.parquet").column("order_score").to_pylist() == [0.9]


def test_interrupted_write_leaves_old_run_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = storage.save_run(fake_result(order=0.1), tmp_path, started_at=T0, finished_at=T1)
    calls = []
    real = pq.write_table

    def failing(table: pa.Table, where: object, **kw: object) -> None:
        calls.append(where)
        if len(calls) == 3:
            raise KeyboardInterrupt  # interrupted half-way through the run folder
        real(table, where, **kw)

    monkeypatch.setattr(storage.pq, "write_table", failing)
    with pytest.raises(KeyboardInterrupt):
        storage.save_run(fake_result(order=0.9), tmp_path, started_at=T0, finished_at=T1)
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [old.name]
    assert pq.read_table(old / "summary.parquet").column("order_score").to_pylist() == [0.1]


def test_hidden_temporaries_are_never_read(tmp_path: Path) -> None:
    storage.save_run(fake_result(), tmp_path, started_at=T0, finished_at=T1)
    stray = tmp_path / "runs" / ".tmp-half-written-1"
    stray.mkdir()
    pq.write_table(pa.table({"run_id": ["half"], "scenario": ["x"]}), stray / "summary.parquet")
    assert storage.list_runs(tmp_path).column("scenario").to_pylist() == ["tiny"]


def test_list_query_and_load(tmp_path: Path) -> None:
    for seed in (1, 2):
        storage.save_run(fake_result(seed=seed), tmp_path, started_at=T0, finished_at=T1)
    storage.save_run(fake_result("other", seed=1), tmp_path, started_at=T0, finished_at=T1)
    runs = storage.list_runs(tmp_path)
    assert runs.column_names == list(storage.LIST_COLUMNS)
    assert runs.column("scenario").to_pylist() == ["other", "tiny", "tiny"]
    assert storage.load_summaries(tmp_path).num_rows == 3
    assert storage.load_timeseries(tmp_path).num_rows == 3 * 24
    got = storage.query(
        tmp_path,
        "SELECT scenario, count(*) AS n, sum(tick) AS ticks FROM timeseries "
        "WHERE seed = $seed GROUP BY scenario ORDER BY scenario",
        {"seed": 1},
    )
    assert got.to_pylist() == [
        {"scenario": "other", "n": 24, "ticks": 276.0},
        {"scenario": "tiny", "n": 24, "ticks": 276.0},
    ]
    for view in storage.VIEWS:
        assert storage.query(tmp_path, f"SELECT count(*) AS n FROM {view}").to_pylist()[0]["n"] > 0


def test_empty_and_missing_results_folders(tmp_path: Path) -> None:
    assert storage.list_runs(tmp_path).num_rows == 0
    assert storage.load_summaries(tmp_path).num_rows == 0
    with pytest.raises(InputError, match="results folder not found"):
        storage.list_runs(tmp_path / "nowhere")


def test_check_out_dir(tmp_path: Path) -> None:
    file = tmp_path / "file.txt"
    file.write_text("x")
    with pytest.raises(InputError) as err:
        storage.check_out_dir(file)
    assert str(err.value) == f"output folder {file} is a file, not a folder"
    with pytest.raises(InputError) as err:
        storage.check_out_dir(file / "sub")
    assert str(err.value) == f"output folder {file / 'sub'} cannot be created: {file} is a file"
    new = tmp_path / "a" / "b"
    assert storage.check_out_dir(new) == new
    assert sorted(os.listdir(tmp_path)) == ["file.txt"]  # nothing created, no probe left


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_check_out_dir_read_only(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputError, match="cannot be written"):
            storage.check_out_dir(locked / "out")
    finally:
        locked.chmod(0o700)


def test_write_table_atomic(tmp_path: Path) -> None:
    path = storage.write_table_atomic(pa.table({"x": [1, 2]}), tmp_path / "t.parquet")
    assert pq.read_table(path).column("x").to_pylist() == [1, 2]
    assert os.listdir(tmp_path) == ["t.parquet"]
