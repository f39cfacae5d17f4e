"""Experiment backends: the process pool and Dask give bit-identical results to a serial run,
keep a bounded number of runs in flight, survive dying workers, and refuse a scheduler that
does not answer, quickly."""

from __future__ import annotations

import hashlib
import math
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tightrope.errors import InputError
from tightrope.experiments import runner as experiments
from tightrope.experiments.runner import TEST_HOOK_ENV, run_experiment

TINY = """
name = "tiny"
base = "china-weibo-2013"
users = 300
days = 0.5
seed = 3
replicates = 2
outcomes = ["removed_share", "self_censored_share", "median_minutes_to_removal"]

[design]
kind = "grid"

[levers."platforms.weibo.moderation.reviewers_per_100k_users"]
values = [0, 50]

[uncertainties."population.fear_mean"]
range = [0.05, 0.4]
steps = 2
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("exp") / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def serial(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The serial run every backend must reproduce byte for byte."""
    out = tmp_path_factory.mktemp("serial")
    summary = run_experiment(tiny, out, backend="serial")
    assert summary.done == 8
    return out / "results.parquet"


def rows(table: pa.Table) -> list[dict]:
    """The table's rows with NaN made comparable (NaN != NaN)."""
    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
            for r in table.to_pylist()]  # fmt: skip


def _runs(out: Path) -> list[Path]:
    return [p for p in (out / "runs").iterdir() if not p.name.startswith(".")]


def test_process_pool_matches_serial_with_bounded_runs_in_flight(
    tiny: Path, serial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pulled: list[int] = []
    settled: list[int] = []
    outstanding: list[int] = []
    real_tasks = experiments._tasks

    def counting(*args: object) -> Iterator[experiments.RunTask]:
        for task in real_tasks(*args):  # type: ignore[arg-type]
            pulled.append(task.point)
            outstanding.append(len(pulled) - len(settled))
            yield task

    def progress(done: float, total: float) -> None:
        settled.append(int(done))

    monkeypatch.setattr(experiments, "_tasks", counting)
    out = tmp_path / "out"
    summary = run_experiment(tiny, out, backend="process", workers=2, progress=progress)
    assert (summary.backend, summary.workers, summary.done, summary.failed) == ("process", 2, 8, 0)
    assert digest(out / "results.parquet") == digest(serial)
    # progress' first call reports the runs already done (none); later calls one each
    assert max(outstanding) <= 2 * 2 + 1
    assert len(_runs(out)) == 8


def test_process_pool_replaces_dead_workers_and_retries_once(
    tiny: Path, serial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run (1, 0) kills its worker the first time only; run (2, 1) every time; (3, 0) raises
    monkeypatch.setenv(TEST_HOOK_ENV, "1:0:exit-once,2:1:exit,3:0")
    out = tmp_path / "out"
    summary = run_experiment(tiny, out, backend="process", workers=2)
    assert summary.done == 6
    assert [(f.point, f.replicate) for f in summary.failures] == [(2, 1), (3, 0)]
    assert "worker process died" in summary.failures[0].error
    assert "retried once" in summary.failures[0].error
    assert "RuntimeError: injected failure" in summary.failures[1].error
    table = pq.read_table(out / "results.parquet")
    keys = list(zip(table["point"].to_pylist(), table["replicate"].to_pylist(), strict=True))
    assert (1, 0) in keys
    assert (2, 1) not in keys
    assert len(set(keys)) == 6 == len(_runs(out))
    reference = rows(pq.read_table(serial))
    assert [r for r in reference if (r["point"], r["replicate"]) in keys] == rows(table)
    assert pq.read_table(out / "failures.parquet")["point"].to_pylist() == [2, 3]
    assert not (out / ".test-hook").exists()


def test_dask_local_cluster_matches_serial(tiny: Path, serial: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "out"
    summary = run_experiment(tiny, out, backend="dask", workers=2)
    assert (summary.backend, summary.done, summary.failed) == ("dask", 8, 0)
    assert digest(out / "results.parquet") == digest(serial)
    assert len(_runs(out)) == 8


def test_dask_records_failures_and_replaces_dead_workers(
    tiny: Path, serial: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    # (0, 1) raises (retried once by Dask, then recorded); (2, 0) kills its worker once
    monkeypatch.setenv(TEST_HOOK_ENV, "0:1,2:0:exit-once")
    out = tmp_path / "out"
    summary = run_experiment(tiny, out, backend="dask", workers=2)
    assert summary.done == 7
    assert [(f.point, f.replicate) for f in summary.failures] == [(0, 1)]
    assert "RuntimeError: injected failure" in summary.failures[0].error
    table = pq.read_table(out / "results.parquet")
    assert table.num_rows == 7 == len(_runs(out))
    keys = set(zip(table["point"].to_pylist(), table["replicate"].to_pylist(), strict=True))
    assert (2, 0) in keys
    reference = rows(pq.read_table(serial))
    assert [r for r in reference if (r["point"], r["replicate"]) in keys] == rows(table)


@pytest.mark.slow
def test_dask_records_a_run_that_kills_its_worker_again(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setenv(TEST_HOOK_ENV, "1:1:exit")
    out = tmp_path / "out"
    summary = run_experiment(tiny, out, backend="dask", workers=2)
    assert summary.done == 7
    assert [(f.point, f.replicate) for f in summary.failures] == [(1, 1)]
    assert "worker process died" in summary.failures[0].error


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_scheduler_is_refused_quickly(tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "out"
    started = time.monotonic()
    with pytest.raises(InputError) as info:
        run_experiment(tiny, out, scheduler=address, backend=None, connect_timeout=2)
    elapsed = time.monotonic() - started
    assert elapsed < 10
    text = str(info.value)
    assert f"cannot connect to the Dask scheduler at {address} within 2 s" in text
    assert "--scheduler" in text
    assert not out.exists()
