"""Stored results: one folder per run under `DIR/runs/`, read back with DuckDB.

Layout of a results folder DIR::

    DIR/runs/<run_id>/manifest.json       what ran, with which config and software, when
    DIR/runs/<run_id>/summary.parquet     one row: run keys, then every summary figure
    DIR/runs/<run_id>/timeseries.parquet  Result.timeseries, one row per tick
    DIR/runs/<run_id>/platforms.parquet   Result.platforms, one row per tick and platform
    DIR/runs/<run_id>/histograms.parquet  Result.histograms (queue times in minutes)
    DIR/runs/<run_id>/categories.parquet  Result.categories, one row per content category
    DIR/runs/<run_id>/cascades.parquet    Result.cascades, posts by cascade size and category
    DIR/runs/<run_id>/platform_days.parquet  Result.platform_days, one row per day and platform
    DIR/runs/<run_id>/regions.parquet     Result.regions, one row per region of the network
    DIR/runs/<run_id>/cohorts.parquet     Result.cohorts, punished users, followers, others
    DIR/comparison.json                   what `tightrope compare` ran here (owns DIR)
    DIR/comparison.parquet                written by `tightrope compare`
    DIR/experiment.json                   what `tightrope experiment` ran here (owns DIR)

A folder holds one coherent thing: the runs of one comparison (comparison.json), of one
experiment (experiment.json), or single runs stored by `tightrope run`. A command that would
mix them is refused (`check_folder_kind`), and only one command writes in a folder at a time
(`folder_lock`). The manifest holds the sha256 of each file of its run; every reader checks
them (`check_runs`) and names what is missing or damaged instead of reading it. Runs
stored before categories.parquet, cascades.parquet, platform_days.parquet, regions.parquet
and cohorts.parquet existed (`ADDED_TABLES`) lack them, and stay readable: a reader checks
those files where the manifest names them.

Runs are grouped by what was run, never by name alone: `regime_sha256` is the hash of the
config without its seed, and each run carries the `label` that the user saw (the scenario's
name, or its file where two compared scenarios share a name); `display_labels` tells apart
two regimes that share a label.

Every write is atomic: a run folder is written under a hidden temporary name in `DIR/runs/`
and renamed into place, so a reader never sees half a run. Hidden folders (names starting
with a dot) are never read back.
"""

from __future__ import annotations

import contextlib
import hashlib
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

from tightrope.errors import InputError
from tightrope.results.result import Result
from tightrope.scenario.content import CATEGORIES
from tightrope.scenario.files import canonical_json

MANIFEST_FORMAT = "tightrope-run/1"
"""The `format` of a run's manifest.json."""

RUN_TABLES: tuple[str, ...] = (
    "timeseries", "platforms", "histograms", "categories", "cascades", "platform_days",
    "regions", "cohorts",
)  # fmt: skip
"""The Result tables stored per run, each as `<name>.parquet`."""

ADDED_TABLES: tuple[str, ...] = ("categories", "cascades", "platform_days", "regions", "cohorts")
"""Run tables that runs stored by earlier versions lack: a run folder without one is whole
when its manifest does not name it (with the sha256 of its files) either."""

VIEWS: tuple[str, ...] = ("summaries", *RUN_TABLES)
"""Views that `query` exposes: `summaries` (summary.parquet) and the run tables."""

_RUN_GLOB = "[!.]*"  # run folders only, never the hidden temporary ones
_FILES = ("summary", *RUN_TABLES)  # the Parquet files of a run folder
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


def regime_sha256(scenario: Any) -> str:
    """sha256 of the scenario's canonical config without its seed: what a regime's
    replicates share (the scenario, its settings, users, days and tick), and what tells two
    regimes apart even when they share a name."""
    return config_regime_sha256(json.loads(canonical_json(scenario)))


def config_regime_sha256(config: Mapping[str, Any]) -> str:
    """`regime_sha256` of a config as stored in a manifest (a plain mapping)."""
    plain = json.loads(json.dumps(config))
    if isinstance(plain.get("run"), dict):
        plain["run"].pop("seed", None)
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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


def summary_table(result: Result, *, replicate: int = 0, label: str | None = None) -> pa.Table:
    """The one-row summary table of a run (NaN figures are stored as null).

    `label` is the name the user saw for the run's regime (default: the scenario's name);
    `regime_sha256` groups the replicates of one regime (see `regime_sha256`)."""
    run = result.scenario.run
    columns: dict[str, pa.Array] = {
        "run_id": pa.array([run_id(result.scenario.name, result.seed, result.config_sha256)]),
        "scenario": pa.array([result.scenario.name]),
        "label": pa.array([label or result.scenario.name], pa.string()),
        "seed": pa.array([int(result.seed)], pa.int64()),
        "users": pa.array([int(run.users)], pa.int64()),
        "days": pa.array([float(run.days)], pa.float64()),
        "config_sha256": pa.array([result.config_sha256]),
        "regime_sha256": pa.array([regime_sha256(result.scenario)]),
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


def manifest(
    result: Result, *, started_at: datetime, finished_at: datetime, label: str | None = None
) -> dict[str, Any]:
    """The run's manifest: identity, full config, software versions and timing (seconds).

    `save_run` adds `files`, the sha256 of each file of the run folder."""
    versions = _versions()
    return {
        "format": MANIFEST_FORMAT,
        "run_id": run_id(result.scenario.name, result.seed, result.config_sha256),
        "status": "complete",
        "scenario": result.scenario.name,
        "label": label or result.scenario.name,
        "seed": int(result.seed),
        "config_sha256": result.config_sha256,
        "regime_sha256": regime_sha256(result.scenario),
        "config": json.loads(canonical_json(result.scenario)),
        "tightrope_version": versions["tightrope"],
        "versions": versions,
        "platform": platform.platform(),
        "started_at": _iso(started_at),
        "finished_at": _iso(finished_at),
        "wall_seconds": (finished_at - started_at).total_seconds(),
        "network": result.meta.get("network"),
    }


def save_run(
    result: Result,
    out_dir: str | Path,
    *,
    replicate: int = 0,
    started_at: datetime,
    finished_at: datetime,
    label: str | None = None,
) -> Path:
    """Store a finished run in `out_dir/runs/<run_id>/` atomically; return that folder.

    `started_at`/`finished_at` should be timezone-aware UTC times; `label` is the name the
    user saw for the run's regime (default: the scenario's name). A stored run with the
    same id (same scenario name, seed and config) is replaced. The manifest, written last,
    holds the sha256 of every other file, which readers check (`check_runs`).
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
        summary = summary_table(result, replicate=replicate, label=label)
        pq.write_table(summary, tmp / "summary.parquet")
        for name in RUN_TABLES:
            table = _with_keys(getattr(result, name), rid, result.scenario.name, result.seed)
            pq.write_table(table, tmp / f"{name}.parquet")
        info = manifest(result, started_at=started_at, finished_at=finished_at, label=label)
        info["files"] = {f"{n}.parquet": _file_sha256(tmp / f"{n}.parquet") for n in _FILES}
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


# ---------------------------------------------------------------- integrity of stored runs


def run_problem(folder: Path, hashed: tuple[str, ...] = _FILES) -> str | None:
    """What is wrong with a stored run folder, or None when it is whole.

    The manifest must be a readable run manifest; every Parquet file of the run must be
    there (those of `ADDED_TABLES` where the manifest names them, or where it holds no
    sha256s and the file is there); those named in `hashed` must match the sha256 in the
    manifest (runs stored before the manifest held sha256s: be readable Parquet files)."""
    file = folder / "manifest.json"
    if not file.is_file():
        return "manifest.json is missing"
    try:
        info = json.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"manifest.json cannot be read ({type(exc).__name__}: {exc})"
    if not isinstance(info, dict) or not isinstance(info.get("config_sha256"), str):
        return "manifest.json is not a Tightrope run manifest"
    if info.get("run_id", folder.name) != folder.name:
        return f"manifest.json is the manifest of another run ({info.get('run_id')})"
    sums = info.get("files")
    for name in _FILES:
        path = folder / f"{name}.parquet"
        if name in ADDED_TABLES:  # stored before these existed: the manifest says so
            listed = path.name in sums if isinstance(sums, dict) else path.is_file()
            if not listed:
                continue
        if not path.is_file():
            return f"{path.name} is missing"
        if name not in hashed:
            continue
        if isinstance(sums, dict):
            if sums.get(path.name) != _file_sha256(path):
                return f"{path.name} does not match the sha256 in its manifest (damaged)"
        else:
            try:
                pq.read_metadata(path)
            except Exception as exc:  # any Arrow/OS failure means unreadable
                return f"{path.name} cannot be read ({type(exc).__name__})"
    return None


def run_folders(out_dir: str | Path) -> list[Path]:
    """The stored run folders of a results folder (hidden temporary ones left out)."""
    runs = Path(out_dir) / "runs"
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.glob(_RUN_GLOB) if p.is_dir())


def damaged_runs(out_dir: str | Path, hashed: tuple[str, ...] = _FILES) -> list[str]:
    """'runs/<id>: what is wrong' for each damaged run folder of a results folder."""
    found = []
    for folder in run_folders(out_dir):
        problem = run_problem(folder, hashed)
        if problem is not None:
            found.append(f"runs/{folder.name}: {problem}")
    return found


def check_runs(out_dir: str | Path, hashed: tuple[str, ...] = _FILES) -> None:
    """InputError naming every damaged run folder of a results folder, if there is one."""
    found = damaged_runs(out_dir, hashed)
    if found:
        raise InputError(
            f"results folder {out_dir} holds {len(found)} damaged run(s), not read: run the "
            "command that stored them again (it stores damaged runs afresh) or delete those "
            "folders",
            found,
        )


# ---------------------------------------------------------------- who owns a folder

FOLDER_KINDS: dict[str, str] = {
    "experiment": "the results of an experiment (experiment.json)",
    "comparison": "the results of a comparison (comparison.json)",
    "runs": "runs stored by `tightrope run`",
    "empty": "nothing yet",
}
"""What a results folder can hold, by kind."""

LOCK_NAME = ".tightrope.lock"


def folder_kind(out_dir: str | Path) -> str:
    """The kind of a results folder: experiment, comparison, runs or empty (see FOLDER_KINDS)."""
    path = Path(out_dir)
    if (path / "experiment.json").exists():
        return "experiment"
    if (path / "comparison.json").exists() or (path / "comparison.parquet").exists():
        return "comparison"
    runs = path / "runs"
    if runs.is_dir() and any(not p.name.startswith(".") for p in runs.iterdir()):
        return "runs"
    return "empty"


def check_folder_kind(out_dir: str | Path, want: str, command: str) -> None:
    """InputError unless the folder is empty or already of kind `want`: one folder holds
    one coherent thing, never the runs of two commands mixed."""
    kind = folder_kind(out_dir)
    if kind in ("empty", want):
        return
    raise InputError(
        f"{out_dir} already holds {FOLDER_KINDS[kind]}; `tightrope {command}` would mix its "
        "runs with them: give another --out folder"
    )


def read_owner(file: Path) -> dict[str, Any] | None:
    """The JSON record that says what a folder holds (comparison.json, experiment.json),
    {} when it is not a JSON object, None when there is none; InputError when unreadable."""
    if not file.exists():
        return None
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{file} cannot be read ({exc}); give another --out folder") from None
    return data if isinstance(data, dict) else {}


def another_owner(
    out: Path, what: str, theirs: str, their_sha: object, ours: str, our_sha: str, why: str
) -> InputError:
    """The error for a folder that holds another comparison's or experiment's results."""
    return InputError(
        f"{out} holds the results of another {what} ({theirs}; sha256 {str(their_sha)[:12]}), "
        f"not of this one ({ours}; sha256 {our_sha[:12]}): {why}. Results of different "
        f"{what}s are never mixed: give another --out folder (or delete {out} to start again)"
    )


@contextlib.contextmanager
def folder_lock(out_dir: str | Path, command: str) -> Iterator[None]:
    """Hold the results folder for one command: a second command that wants to write in it
    meanwhile is refused (InputError) instead of mixing its files in.

    An advisory lock (flock) on DIR/.tightrope.lock: the system releases it when the
    process ends, however it ends, so no stale lock is ever left; the file is removed on
    release. Stale temporary run folders of a command that was killed are removed once the
    lock is held."""
    try:
        import fcntl
    except ImportError:  # not on POSIX: no lock
        yield
        return
    path = Path(out_dir)
    made = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    lock = path / LOCK_NAME
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip()
            os.close(fd)
            raise InputError(
                f"another Tightrope command is writing in {path} right now"
                + (f" ({holder})" if holder else "")
                + "; wait for it to end or give another --out folder"
            ) from None
        try:  # the holder before us may have removed the file after we opened it
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}: tightrope {command}".encode())
        for stale in (path / "runs").glob(".tmp-*") if (path / "runs").is_dir() else ():
            shutil.rmtree(stale, ignore_errors=True)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)
        if made:  # a folder made for a command that wrote nothing is not left behind
            with contextlib.suppress(OSError):
                path.rmdir()


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

    The SQL sees the views `summaries`, `timeseries`, `platforms`, `histograms`,
    `categories`, `cascades`, `platform_days`, `regions` and `cohorts`, each the union of
    every stored run (columns matched by name). Views with no files are absent (the tables
    of ADDED_TABLES have none from runs stored before they existed).
    Example: `query("results", "SELECT scenario, avg(freedom_score) FROM summaries GROUP BY 1")`.
    Every run folder is checked first (`check_runs`): a damaged one is an InputError.
    """
    path = _results_dir(out_dir)
    check_runs(path)
    return _query(path, sql, params)


def _query(path: Path, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
    import duckdb

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
    "run_id", "scenario", "label", "seed", "replicate", "users", "days", "order_score",
    "development_score", "freedom_score", "balance", "tilt",
)  # fmt: skip
"""Columns of `list_runs` (those a stored summary lacks are left out)."""


def load_summaries(out_dir: str | Path) -> pa.Table:
    """Every stored run's summary row (all columns), ordered by scenario, replicate, seed."""
    path = _results_dir(out_dir)
    check_runs(path, hashed=("summary",))
    if not _has(path, "summary"):
        return pa.table({})
    return _query(path, "SELECT * FROM summaries ORDER BY scenario, replicate, seed, run_id")


def list_runs(out_dir: str | Path) -> pa.Table:
    """The stored runs, one row each: ids, size (users, days) and goal scores."""
    path = _results_dir(out_dir)
    check_runs(path, hashed=("summary",))
    if not _has(path, "summary"):
        return pa.table({name: pa.array([], pa.string()) for name in LIST_COLUMNS[:2]})
    names = _query(path, "SELECT * FROM summaries LIMIT 0").column_names
    wanted = [c for c in LIST_COLUMNS if c in names]
    regimes = "label" in wanted and "regime_sha256" in names
    cols = ", ".join(f'"{c}"' for c in [*wanted, *(["regime_sha256"] if regimes else [])])
    table = _query(path, f"SELECT {cols} FROM summaries ORDER BY scenario, replicate, seed, run_id")
    if regimes:  # two regimes that share a label are told apart
        rows = table.select(["label", "regime_sha256"]).to_pylist()
        shown = display_labels(rows)
        labels = pa.array([shown[r["regime_sha256"]] for r in rows], pa.string())
        table = table.set_column(wanted.index("label"), "label", labels).drop_columns(
            ["regime_sha256"]
        )
    return table


def display_labels(rows: list[dict[str, Any]]) -> dict[str, str]:
    """regime_sha256 -> the label to show: the stored label, with the first 8 hex of the
    regime hash added where two regimes of the folder share a label."""
    labels: dict[str, str] = {}
    for row in rows:
        regime = str(row.get("regime_sha256") or "")
        labels.setdefault(regime, str(row.get("label") or row.get("scenario") or "unnamed"))
    counts: dict[str, int] = {}
    for label in labels.values():
        counts[label] = counts.get(label, 0) + 1
    return {
        regime: label if counts[label] == 1 else f"{label} #{regime[:8]}"
        for regime, label in labels.items()
    }


def load_timeseries(out_dir: str | Path) -> pa.Table:
    """Every stored run's time series, with run_id, scenario and seed in front."""
    path = _results_dir(out_dir)
    check_runs(path, hashed=("timeseries",))
    if not _has(path, "timeseries"):
        return pa.table({})
    return _query(path, "SELECT * FROM timeseries ORDER BY run_id, tick")


_CATEGORY_ORDER = "list_position([{}], category)".format(", ".join(f"'{c}'" for c in CATEGORIES))
"""SQL that sorts rows by category in the order of CATEGORIES (not by name)."""


def load_categories(out_dir: str | Path) -> pa.Table:
    """Every stored run's table by content category (`Result.categories`), with run_id,
    scenario and seed in front; runs stored before it existed have no rows here."""
    path = _results_dir(out_dir)
    check_runs(path, hashed=("categories",))
    if not _has(path, "categories"):
        return pa.table({})
    return _query(path, f"SELECT * FROM categories ORDER BY run_id, {_CATEGORY_ORDER}")


def load_cascades(out_dir: str | Path) -> pa.Table:
    """Every stored run's cascade sizes (`Result.cascades`), with run_id, scenario and seed
    in front; runs stored before it existed have no rows here."""
    path = _results_dir(out_dir)
    check_runs(path, hashed=("cascades",))
    if not _has(path, "cascades"):
        return pa.table({})
    return _query(path, f"SELECT * FROM cascades ORDER BY run_id, {_CATEGORY_ORDER}, lo_size")


def _load_added(out_dir: str | Path, name: str, order: str) -> pa.Table:
    path = _results_dir(out_dir)
    check_runs(path, hashed=(name,))
    if not _has(path, name):
        return pa.table({})
    return _query(path, f"SELECT * FROM {name} ORDER BY run_id, {order}")


def load_platform_days(out_dir: str | Path) -> pa.Table:
    """Every stored run's table by platform and day (`Result.platform_days`), with run_id,
    scenario and seed in front, by day then platform name; runs stored before it existed
    have no rows here."""
    return _load_added(out_dir, "platform_days", "day, platform")


def load_regions(out_dir: str | Path) -> pa.Table:
    """Every stored run's table by region (`Result.regions`), with run_id, scenario and
    seed in front; runs stored before it existed have no rows here."""
    return _load_added(out_dir, "regions", "region")


def load_cohorts(out_dir: str | Path) -> pa.Table:
    """Every stored run's table by cohort (`Result.cohorts`), with run_id, scenario and
    seed in front, cohorts in the order punished, followers, others; runs stored before it
    existed have no rows here."""
    order = "list_position(['punished', 'followers', 'others'], cohort)"
    return _load_added(out_dir, "cohorts", order)
