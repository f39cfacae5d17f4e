"""Results a user can trust: regimes grouped by what was run, folders that hold one coherent
thing, damaged stores named instead of read, stops that keep what they can, and progress
that shows off a terminal."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from tightrope.cli.app import main
from tightrope.experiments import compare as cmp
from tightrope.report.html import load_results
from tightrope.results import storage

SMALL = ["--users", "1500", "--days", "1"]


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two regimes that share a name: the second differs in one setting."""
    a = write(tmp_path / "a.toml", 'name = "same"\n')
    b = write(tmp_path / "b.toml", 'name = "same"\n[state.punishment]\nseverity = 0.9\n')
    return a, b


# ---------------------------------------------------------------- 1. same names


def test_two_regimes_with_one_name_stay_two_everywhere(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = pair
    out = tmp_path / "cmp"
    result = invoke("compare", a, b, "--replicates", "2", *SMALL, "--out", out)
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "Measure" in line)
    assert "a.toml" in header
    assert "b.toml" in header
    stored = storage.load_summaries(out).to_pylist()
    assert sorted({r["label"] for r in stored}) == ["a.toml", "b.toml"]
    assert len({r["regime_sha256"] for r in stored}) == 2
    res = load_results(out)
    assert res.scenarios == ["a.toml", "b.toml"]
    assert res.summary.groupby("scenario").size().to_dict() == {"a.toml": 2, "b.toml": 2}
    listing = invoke("runs", out)
    assert listing.exit_code == 0, listing.output
    assert "b.toml" in listing.stdout
    html = (out / "report.html").read_text()
    assert "4 run(s) of 2 scenario(s)" in html


def test_single_runs_of_one_name_are_told_apart_by_their_hash(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = pair
    out = tmp_path / "runs"
    for src in (a, b):
        result = invoke("run", src, *SMALL, "--out", out, "--quiet")
        assert result.exit_code == 0, result.output
    regimes = {r["regime_sha256"] for r in storage.load_summaries(out).to_pylist()}
    expected = sorted(f"same #{h[:8]}" for h in regimes)
    assert sorted(load_results(out).scenarios) == expected
    assert sorted(storage.list_runs(out).column("label").to_pylist()) == expected


def test_replicates_of_one_regime_share_its_hash_and_seeds_do_not_split_it(
    tmp_path: Path,
) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\n')
    out = tmp_path / "runs"
    for seed in ("1", "2"):
        assert invoke("run", a, *SMALL, "--seed", seed, "--out", out, "-q").exit_code == 0
    assert load_results(out).scenarios == ["a"]


# ---------------------------------------------------------------- 2. one folder, one thing


def test_another_comparison_into_a_comparison_folder_is_refused(
    pair: tuple[Path, Path], tmp_path: Path
) -> None:
    a, _ = pair
    out = tmp_path / "cmp"
    assert invoke("compare", a, "--replicates", "1", *SMALL, "--out", out).exit_code == 0
    before = sorted(p.name for p in (out / "runs").iterdir())
    result = invoke("compare", a, "--replicates", "1", "--users", "1000", "--days", "1",
                    "--out", out)  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"error: {out} holds the results of another comparison (" in result.output
    assert "they differ in regime_sha256, users" in result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("experiment", "compare", "already holds the results of an experiment (experiment.json); "
         "`tightrope compare` would mix its runs with them: give another --out folder"),
        ("experiment", "run", "already holds the results of an experiment (experiment.json); "
         "`tightrope run` would mix its runs with them"),
        ("compare", "run", "already holds the results of a comparison (comparison.json); "
         "`tightrope run` would mix its runs with them"),
        ("run", "compare", "already holds runs stored by `tightrope run`; `tightrope compare` "
         "would mix its runs with them"),
        ("run", "experiment", "already holds runs stored by `tightrope run`; `tightrope "
         "experiment` would mix its runs with them"),
    ],
)  # fmt: skip
def test_commands_never_mix_their_runs_in_one_folder(
    tmp_path: Path, first: str, second: str, message: str
) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\n')
    exp = write(tmp_path / "exp.toml", f"""name = "e"\nbase = "{a}"\nusers = 1000\ndays = 0.5
seed = 1\nreplicates = 1\noutcomes = ["order_score"]\n[design]\nkind = "grid"
[levers."state.punishment.severity"]\nvalues = [0.1]\n""")  # fmt: skip
    commands = {
        "run": ["run", a, *SMALL, "-q"],
        "compare": ["compare", a, "--replicates", "1", *SMALL, "-q"],
        "experiment": ["experiment", exp, "--backend", "serial", "-q"],
    }
    out = tmp_path / "out"
    done = invoke(*commands[first], "--out", out)
    assert done.exit_code == 0, done.output
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    result = invoke(*commands[second], "--out", out)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == files


def test_a_second_command_writing_in_a_held_folder_is_refused(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\n')
    out = tmp_path / "out"
    with storage.folder_lock(out, "compare"):
        result = invoke("run", a, *SMALL, "--out", out, "-q")
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"error: another Tightrope command is writing in {out} right now (pid "
            f"{os.getpid()}: tightrope compare); wait for it to end or give another --out "
            "folder\n"
        )
    assert not (out / storage.LOCK_NAME).exists()  # released, and no stale lock left
    assert invoke("run", a, *SMALL, "--out", out, "-q").exit_code == 0


# ---------------------------------------------------------------- 4. damaged folders


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stored") / "cmp"
    a = write(out.parent / "a.toml", 'name = "a"\n')
    result = invoke("compare", a, "--replicates", "2", *SMALL, "--out", out, "-q")
    assert result.exit_code == 0, result.output
    return out


def damaged_copy(stored: Path, tmp_path: Path) -> tuple[Path, Path]:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(stored, out)
    return out, storage.run_folders(out)[0]


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("delete", "timeseries.parquet is missing"),
        ("truncate-manifest", "manifest.json cannot be read (JSONDecodeError: "),
        ("flip-summary", "summary.parquet does not match the sha256 in its manifest (damaged)"),
    ],
)
@pytest.mark.parametrize("command", ["report", "runs"])
def test_damaged_runs_are_named_not_read(
    stored: Path, tmp_path: Path, damage: str, problem: str, command: str
) -> None:
    out, folder = damaged_copy(stored, tmp_path)
    if damage == "delete":
        (folder / "timeseries.parquet").unlink()
    elif damage == "truncate-manifest":
        text = (folder / "manifest.json").read_text()
        (folder / "manifest.json").write_text(text[: len(text) // 2])
    else:
        data = bytearray((folder / "summary.parquet").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / "summary.parquet").write_bytes(bytes(data))
    if command == "runs" and damage == "delete":
        problem = "timeseries.parquet is missing"  # runs reads summaries, but checks all files
    result = invoke(command, out)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(
        f"error: results folder {out} holds 1 damaged run(s), not read: run the command that "
        "stored them again (it stores damaged runs afresh) or delete those folders:\n"
    )
    assert f"  - runs/{folder.name}: {problem}" in result.output


def test_a_damaged_run_of_a_comparison_is_stored_afresh_when_run_again(
    stored: Path, tmp_path: Path
) -> None:
    out, folder = damaged_copy(stored, tmp_path)
    (folder / "platforms.parquet").unlink()
    before = pq.read_table(out / "comparison.parquet")
    a = out.parent.parent / stored.parent.name / "a.toml"
    result = invoke("compare", a, "--replicates", "2", *SMALL, "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert storage.damaged_runs(out) == []
    assert pq.read_table(out / "comparison.parquet").equals(before)


def test_analyze_names_the_runs_of_an_experiment_that_are_gone(tmp_path: Path) -> None:
    import shutil

    exp = write(tmp_path / "exp.toml", """name = "e"\nbase = "laissez-faire"\nusers = 1000
days = 0.5\nseed = 1\nreplicates = 2\noutcomes = ["order_score"]\n[design]\nkind = "grid"
[levers."state.punishment.severity"]\nvalues = [0.1, 0.5]\n""")  # fmt: skip
    out = tmp_path / "exp"
    done = invoke("experiment", exp, "--out", out, "--backend", "serial", "-q")
    assert done.exit_code == 0, done.output
    gone = storage.run_folders(out)[0]
    shutil.rmtree(gone)
    result = invoke("analyze", out)
    assert result.exit_code == 2, result.output
    assert (
        f"error: experiment folder {out} lists 1 run(s) in results.parquet that are missing "
        "or damaged, not read: run the experiment again (it runs them afresh):\n"
        f"  - runs/{gone.name}: the folder is missing"
    ) in result.output


# ---------------------------------------------------------------- 14. workers and resume


def test_compare_on_workers_equals_in_process_and_resumes(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\n')
    b = write(tmp_path / "b.toml", 'name = "b"\n[state.identity]\nreal_name = 1.0\n')
    args = [str(a), str(b)]
    serial = cmp.compare(args, replicates=2, root_seed=5, users=1500, days=1,
                         out_dir=tmp_path / "serial")  # fmt: skip
    pool = cmp.compare(args, replicates=2, root_seed=5, users=1500, days=1,
                       out_dir=tmp_path / "pool", workers=2)  # fmt: skip
    assert pool.table().equals(serial.table())
    assert pool.summaries == serial.summaries or json.dumps(pool.summaries) == json.dumps(
        serial.summaries
    )
    # a stopped comparison (one run missing) runs only what is missing when run again
    import shutil

    shutil.rmtree(pool.run_dirs[1])
    kept = {p.name: p.stat().st_mtime_ns for p in pool.run_dirs if p.exists()}
    seen: list[tuple[float, int]] = []
    again = cmp.compare(
        args, replicates=2, root_seed=5, users=1500, days=1, out_dir=tmp_path / "pool",
        progress=lambda d, t: seen.append((d, t)),
    )  # fmt: skip
    assert seen[0] == (3, 4)  # three runs were already there
    assert {p.name: p.stat().st_mtime_ns for p in again.run_dirs if p.name in kept} == kept
    assert again.table().equals(serial.table())


# ---------------------------------------------------------------- 16. progress off a terminal


def test_progress_lines_off_a_terminal_and_quiet(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\n[run]\nseed = 5\n')
    result = invoke("run", a, *SMALL)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "a seed 5: started"
    assert lines[-1].startswith("a seed 5: finished in ")
    steps = [line for line in lines[1:-1] if re.match(r"a seed 5: \d+% \d+/24 ticks, ", line)]
    assert len(steps) == len(lines) - 2 >= 5  # about one line per tenth of the run
    assert result.stdout.startswith(" ") or "Goal" in result.stdout  # the table, on stdout
    quiet = invoke("run", a, *SMALL, "--quiet")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""


# ---------------------------------------------------------------- 13. stops


def _child(args: list[str], marker: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TIGHTROPE_TEST_MARK": marker, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tightrope", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _wait_for(proc: subprocess.Popen[str], text: str, limit: float = 120.0) -> list[str]:
    """Read stderr lines until one contains `text`; return them."""
    assert proc.stderr is not None
    seen: list[str] = []
    end = time.monotonic() + limit
    while time.monotonic() < end:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never came; stderr: {''.join(seen)}")


def _marked_processes(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"TIGHTROPE_TEST_MARK={marker}".encode() in env:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_ctrl_c_stops_between_ticks_keeps_a_checkpoint_and_resumes_bit_identically(
    tmp_path: Path,
) -> None:
    import tightrope

    a = write(tmp_path / "a.toml", 'name = "a"\n[run]\nseed = 3\n')
    out = tmp_path / "out"
    args = ["run", str(a), "--users", "2000", "--days", "40", "--out", str(out)]
    proc = _child([*args, "--json"], uuid.uuid4().hex)
    _wait_for(proc, "a seed 3: 10% ")
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    message = stderr.strip().splitlines()[-1]
    assert message.startswith("stopped by Ctrl-C (SIGINT): at tick ")
    assert message.endswith(
        f"the run's state is kept in the checkpoint {out / 'checkpoint.ckpt'}; run the same "
        "command with --resume to go on from there"
    )
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    assert stdout == ""
    assert (out / "checkpoint.ckpt").is_dir()
    assert storage.run_folders(out) == []  # nothing half-written
    assert not list(out.glob(".*tmp"))
    assert not (out / storage.LOCK_NAME).exists()

    resumed = invoke(*args, "--resume", "--json", "-q")
    assert resumed.exit_code == 0, resumed.output
    whole = tightrope.run(tightrope.load_scenario(a, users=2000, days=40))
    expected = json.loads(json.dumps(storage.jsonable(whole.summary)))
    assert json.loads(resumed.stdout)["summary"] == expected
    assert not (out / "checkpoint.ckpt").exists()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_sigterm_stops_a_comparison_on_workers_and_leaves_no_process(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\n')
    out = tmp_path / "out"
    marker = uuid.uuid4().hex
    args = ["compare", str(a), "--replicates", "20", "--users", "2000", "--days", "4",
            "--workers", "2", "--out", str(out)]  # fmt: skip
    proc = _child(args, marker)
    _wait_for(proc, " runs, ")  # the first progress line: a tenth of the runs are done
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("stopped by SIGTERM: ")
    assert last.endswith(
        f"of 20 runs are stored in {out}; run the same command again to go on: only the "
        "missing runs run"
    )
    time.sleep(0.5)
    assert _marked_processes(marker) == []
    assert not (out / storage.LOCK_NAME).exists()
    assert storage.damaged_runs(out) == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_ctrl_c_to_the_whole_group_stops_an_experiment_and_keeps_its_runs(
    tmp_path: Path,
) -> None:
    """As a terminal does: SIGINT to every process of the group, workers included."""
    exp = write(tmp_path / "exp.toml", """name = "e"\nbase = "laissez-faire"\nusers = 2000
days = 4\nseed = 1\nreplicates = 10\noutcomes = ["order_score"]\n[design]\nkind = "grid"
[levers."state.punishment.severity"]\nvalues = [0.1, 0.5]\n""")  # fmt: skip
    out = tmp_path / "exp"
    marker = uuid.uuid4().hex
    env = {**os.environ, "TIGHTROPE_TEST_MARK": marker, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tightrope", "experiment", str(exp), "--out", str(out),
         "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,
    )  # fmt: skip
    # generous limits: two workers start from cold on a busy two-core machine (one CI run
    # took more than 120 s here; warm, the test takes about 15 s)
    _wait_for(proc, " runs, ", limit=300.0)  # the first progress line: a tenth of the runs
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("stopped by Ctrl-C (SIGINT): ")
    assert last.endswith(
        f"of 20 runs are stored in {out}; run the same command again to go on: only the "
        "missing runs run"
    )
    assert "Aborted" not in stderr
    time.sleep(0.5)
    assert _marked_processes(marker) == []
    assert storage.damaged_runs(out) == []  # the runs in flight were not stored at all
