"""Stored results: one folder per run under `DIR/runs/`, read back with DuckDB.

Layout of a results folder DIR::

    DIR/runs/<run_id>/manifest.json       what ran, with which config and software, when
    DIR/runs/<run_id>/summary.parquet     one row: run keys, then every summary figure
    DIR/runs/<run_id>/timeseries.parquet  Result.timeseries, one row per tick
    DIR/runs/<run_id>/platforms.parquet   Result.platforms, one row per tick and platform
    DIR/runs/<run_id>/histograms.parquet  Result.histograms (queue times in minutes)
    DIR/comparison.parquet                written by `tightrope compare`

Every write is atomic: a run folder is written under a hidden temporary name in `DIR/runs/`
and renamed into place, so a reader never sees half a run. Hidden folders (names starting
with a dot) are never read back.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import InputError
from .results import Result
from .scenario_files import canonical_json

RUN_TABLES: tuple[str, ...] = ("timeseries", "platforms", "histograms")
"""The Result tables stored per run, each as `<name>.parquet`."""

VIEWS: tuple[str, ...] = ("summaries", *RUN_TABLES)
"""Views that `query` exposes: `summaries` (summary.parquet) and the three run tables."""

_RUN_GLOB = "[!.]*"  # run folders only, never the hidden temporary ones
_VERSIONED = ("numpy", "numba", "pydantic", "pyarrow", "duckdb")


def check_out_dir(out_dir: str | Path) -> Path:
    """Check that `out_dir` is, or can become, a writable folder; write nothing lasting.

    Raises InputError if it (or a parent) is a file, or if a test file cannot be created in
    it (or, when it does not exist yet, in its nearest existing parent).
    """
    path = Path(out_dir)
    if path.exists() and not path.is_dir():
        raise InputError(f"output folder {path} is a file, not a folder")
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(f"output folder {path} cannot be created: {probe} is a file")
    try:  # try for real: permission bits do not stop root
        fd, name = tempfile.mkstemp(prefix=".tightrope-probe-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise InputError(f"output folder {path} cannot be written: {exc.strerror}") from None
    return path


def run_id(scenario_name: str, seed: int, config_sha256: str) -> str:
    """`<scenario>-seed<seed>-<first 12 hex of the config hash>`, safe as a folder name."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", scenario_name).lstrip(".") or "scenario"
    return f"{safe}-seed{seed}-{config_sha256[:12]}"


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("tightrope", *_VERSIONED):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    out["python"] = platform.python_version()
    return out


def _scalar(value: Any) -> Any:
    """A plain Python value; NaN and infinities become None (null in Parquet and JSON)."""
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def jsonable(obj: Any) -> Any:
    """Plain JSON values: NaN and infinities become null, numpy scalars become numbers."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "item"):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _column(value: Any) -> pa.Array:
    value = _scalar(value)
    if isinstance(value, bool):
        return pa.array([value], pa.bool_())
    if isinstance(value, int):
        return pa.array([value], pa.int64())
    if isinstance(value, str):
        return pa.array([value], pa.string())
    if value is None or isinstance(value, float):
        return pa.array([value], pa.float64())
    return pa.array([json.dumps(value, default=str)], pa.string())


def summary_table(result: Result, *, replicate: int = 0) -> pa.Table:
    """The one-row summary table of a run (NaN figures are stored as null)."""
    run = result.scenario.run
    columns: dict[str, pa.Array] = {
        "run_id": pa.array([run_id(result.scenario.name, result.seed, result.config_sha256)]),
        "scenario": pa.array([result.scenario.name]),
        "seed": pa.array([int(result.seed)], pa.int64()),
        "users": pa.array([int(run.users)], pa.int64()),
        "days": pa.array([float(run.days)], pa.float64()),
        "config_sha256": pa.array([result.config_sha256]),
        "replicate": pa.array([int(replicate)], pa.int64()),
    }
    for key, value in result.summary.items():
        if key not in columns:
            columns[key] = _column(value)
    return pa.table(columns)


def _with_keys(table: pa.Table, rid: str, scenario: str, seed: int) -> pa.Table:
    n = table.num_rows
    keys = {
        "run_id": pa.array([rid] * n, pa.string()),
        "scenario": pa.array([scenario] * n, pa.string()),
        "seed": pa.array([seed] * n, pa.int64()),
    }
    rest = {name: table.column(name) for name in table.column_names if name not in keys}
    return pa.table({**keys, **rest})


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def manifest(result: Result, *, started_at: datetime, finished_at: datetime) -> dict[str, Any]:
    """The run's manifest: identity, full config, software versions and timing (seconds)."""
    versions = _versions()
    return {
        "run_id": run_id(result.scenario.name, result.seed, result.config_sha256),
        "status": "complete",
        "scenario": result.scenario.name,
        "seed": int(result.seed),
        "config_sha256": result.config_sha256,
        "config": json.loads(canonical_json(result.scenario)),
        "tightrope_version": versions["tightrope"],
        "versions": versions,
        "platform": platform.platform(),
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
        "wall_seconds": (finished_at - started_at).total_seconds(),
    }


def save_run(
    result: Result,
    out_dir: str | Path,
    *,
    replicate: int = 0,
    started_at: datetime,
    finished_at: datetime,
) -> Path:
    """Store a finished run in `out_dir/runs/<run_id>/` atomically; return that folder.

    `started_at`/`finished_at` should be timezone-aware UTC times. A stored run with the
    same id (same scenario name, seed and config) is replaced.
    """
    out = check_out_dir(out_dir)
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    rid = run_id(result.scenario.name, result.seed, result.config_sha256)
    final = runs / rid
    tmp = runs / f".tmp-{rid}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        pq.write_table(summary_table(result, replicate=replicate), tmp / "summary.parquet")
        for name in RUN_TABLES:
            table = _with_keys(getattr(result, name), rid, result.scenario.name, result.seed)
            pq.write_table(table, tmp / f"{name}.parquet")
        info = manifest(result, started_at=started_at, finished_at=finished_at)
        text = json.dumps(info, indent=2, allow_nan=False, default=_scalar)
        (tmp / "manifest.json").write_text(text + "\n", "utf-8")
        _fsync_dir(tmp)
        if final.exists():
            old = runs / f".old-{rid}-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
        _fsync_dir(runs)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _fsync_dir(path: Path) -> None:
    if sys.platform.startswith("win"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_open(
    path: str | Path, mode: str = "w", *, folder_label: str = "folder"
) -> Iterator[IO[Any]]:
    """Open a temporary file beside `path` for writing; on a clean exit flush it to disk,
    make it readable by all (results are meant to be shared) and rename it over `path`.
    On an error the temporary file is removed and `path` is left as it was. A folder in
    which no file can be created is bad input (InputError, naming it as `folder_label`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(
            f"{folder_label} {path.parent} cannot be written: {exc.strerror}"
        ) from None
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, 0o644)  # mkstemp makes files private
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def write_text_atomic(path: str | Path, text: str, *, folder_label: str = "folder") -> Path:
    """Write `text` to `path` atomically (see `atomic_open`); return the path."""
    with atomic_open(path, "w", folder_label=folder_label) as fh:
        fh.write(text)
    return Path(path)


def write_table_atomic(table: pa.Table, path: str | Path) -> Path:
    """Write a Parquet file through a temporary file in the same folder and a rename."""
    with atomic_open(path, "wb") as fh:
        pq.write_table(table, fh)
    return Path(path)


def _results_dir(out_dir: str | Path) -> Path:
    path = Path(out_dir)
    if not path.exists():
        raise InputError(f"results folder not found: {path}")
    if not path.is_dir():
        raise InputError(f"results folder {path} is a file, not a folder")
    return path


def _has(path: Path, name: str) -> bool:
    return any(path.glob(f"runs/{_RUN_GLOB}/{name}.parquet"))


def _source(path: Path, name: str) -> str:
    """DuckDB table expression reading every stored run's `<name>.parquet`."""
    file = "summary" if name == "summaries" else name
    pattern = str(path / "runs" / _RUN_GLOB / f"{file}.parquet").replace("'", "''")
    return f"read_parquet('{pattern}', union_by_name=true)"


def query(out_dir: str | Path, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
    """Run DuckDB SQL over a results folder and return an Arrow table.

    The SQL sees the views `summaries`, `timeseries`, `platforms` and `histograms`, each
    the union of every stored run (columns matched by name). Views with no files are absent.
    Example: `query("results", "SELECT scenario, avg(freedom_score) FROM summaries GROUP BY 1")`.
    """
    import duckdb

    path = _results_dir(out_dir)
    con = duckdb.connect()
    try:
        for view in VIEWS:
            if _has(path, "summary" if view == "summaries" else view):
                con.execute(f"CREATE VIEW {view} AS SELECT * FROM {_source(path, view)}")
        rel = con.sql(sql, params=dict(params) if params else None)
        if rel is None:  # a statement that returns no rows
            return pa.table({})
        # duckdb >= 1.4 names it to_arrow_table; older releases arrow
        fetch = getattr(rel, "to_arrow_table", None) or rel.arrow
        return fetch()
    finally:
        con.close()


LIST_COLUMNS: tuple[str, ...] = (
    "run_id", "scenario", "seed", "replicate", "users", "days", "order_score",
    "development_score", "freedom_score", "balance", "tilt",
)  # fmt: skip
"""Columns of `list_runs` (those a stored summary lacks are left out)."""


def load_summaries(out_dir: str | Path) -> pa.Table:
    """Every stored run's summary row (all columns), ordered by scenario, replicate, seed."""
    path = _results_dir(out_dir)
    if not _has(path, "summary"):
        return pa.table({})
    return query(path, "SELECT * FROM summaries ORDER BY scenario, replicate, seed, run_id")


def list_runs(out_dir: str | Path) -> pa.Table:
    """The stored runs, one row each: ids, size (users, days) and goal scores."""
    path = _results_dir(out_dir)
    if not _has(path, "summary"):
        return pa.table({name: pa.array([], pa.string()) for name in LIST_COLUMNS[:2]})
    names = query(path, "SELECT * FROM summaries LIMIT 0").column_names
    cols = ", ".join(f'"{c}"' for c in LIST_COLUMNS if c in names)
    return query(path, f"SELECT {cols} FROM summaries ORDER BY scenario, replicate, seed, run_id")


def load_timeseries(out_dir: str | Path) -> pa.Table:
    """Every stored run's time series, with run_id, scenario and seed in front."""
    path = _results_dir(out_dir)
    if not _has(path, "timeseries"):
        return pa.table({})
    return query(path, "SELECT * FROM timeseries ORDER BY run_id, tick")
