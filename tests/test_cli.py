"""The `tightrope` command line: output, exit codes, and bad input that writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from tightrope.cli.app import main
from tightrope.experiments import compare as cmp
from tightrope.scenario.files import (
    config_sha256,
    load_scenario,
    preset_description,
    preset_names,
    preset_text,
)

SMALL = ["--users", "2000", "--days", "2"]
PRESETS = ["laissez-faire", "us-self-regulation", "eu-dsa", "china-weibo-2013",
           "china-comprehensive-2021"]  # fmt: skip
SUMMARY_KEYS = {
    "order_score", "development_score", "freedom_score", "balance", "tilt",
    "harm_views_per_user", "rumor_views_per_user", "incidents", "intents", "posts",
    "self_censored_share", "removed_share", "wrongful_removal_share",
    "median_minutes_to_removal", "requests", "requests_answered_share",
    "median_minutes_to_answer", "vpn_share", "active_users", "revenue", "compliance_cost",
    "fines", "profit",
}  # fmt: skip


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def strict_json(text: str) -> dict:
    """Parse JSON, refusing NaN and Infinity (which are not JSON)."""

    def refuse(token: str) -> None:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text('name = "small"\ndescription = "test"\n[run]\nseed = 5\n')
    return path


# ---------------------------------------------------------------- read-only commands


@pytest.mark.parametrize("command", ["", "presets", "show", "validate", "run", "compare",
                                     "report", "runs"])  # fmt: skip
def test_help(command: str) -> None:
    result = invoke(*([command] if command else []), "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")


def test_presets_lists_name_and_description() -> None:
    result = invoke("presets")
    assert result.exit_code == 0, result.output
    names = preset_names()
    assert set(PRESETS) <= set(names)
    width = max(len(n) for n in names)
    expected = [f"{n:<{width}}  {preset_description(n)}".rstrip() for n in names]
    assert result.output.splitlines() == expected
    assert all(preset_description(n) for n in PRESETS)


def test_show_prints_the_toml() -> None:
    result = invoke("show", "eu-dsa")
    assert result.exit_code == 0, result.output
    assert result.output == preset_text("eu-dsa")


def test_validate_presets_and_files(small: Path) -> None:
    result = invoke("validate", *PRESETS, small)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{p}: valid" for p in [*PRESETS, str(small)]]


# ---------------------------------------------------------------- run


def test_run_json_keys_and_determinism(small: Path) -> None:
    first = invoke("run", small, *SMALL, "--seed", "9", "--json")
    assert first.exit_code == 0, first.output
    data = strict_json(first.stdout)
    assert set(data) == {"scenario", "seed", "users", "days", "config_sha256", "summary"}
    assert (data["scenario"], data["seed"], data["users"], data["days"]) == ("small", 9, 2000, 2)
    assert data["config_sha256"] == config_sha256(load_scenario(small, users=2000, days=2, seed=9))
    assert set(data["summary"]) >= SUMMARY_KEYS
    assert isinstance(data["summary"]["tilt"], str)
    for key in ("order_score", "development_score", "freedom_score", "balance"):
        assert 0.0 <= data["summary"][key] <= 1.0
    again = invoke("run", small, *SMALL, "--seed", "9", "--json")
    assert again.stdout == first.stdout


def test_run_uses_the_scenario_seed_by_default(small: Path) -> None:
    data = strict_json(invoke("run", small, *SMALL, "--json").stdout)
    assert data["seed"] == 5


def test_run_preset_json_has_no_nan() -> None:
    # nothing is removed without moderation: the median time to removal is missing -> null
    result = invoke("run", "laissez-faire", *SMALL, "--json")
    assert result.exit_code == 0, result.output
    data = strict_json(result.stdout)
    assert data["scenario"] == "laissez-faire"
    assert data["summary"]["median_minutes_to_removal"] is None


def test_run_set_changes_the_config(small: Path) -> None:
    setting = "state.punishment.severity=0.8"
    result = invoke("run", small, *SMALL, "--set", setting, "--json")
    assert result.exit_code == 0, result.output
    expected = load_scenario(small, [setting], users=2000, days=2)
    assert expected.state.punishment.severity == 0.8
    assert strict_json(result.stdout)["config_sha256"] == config_sha256(expected)


def test_run_prints_the_three_goals(small: Path) -> None:
    result = invoke("run", small, *SMALL)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "small: seed 5, 2,000 users, 2 days" in out
    for word in ("Order", "Development", "Freedom", "Balance", "order_score", "freedom_score",
                 "development_score", "harm_views_per_user", "self_censored_share", "profit",
                 "tilt"):  # fmt: skip
        assert word in out, word
    assert "config sha256: " in out


def test_run_out_stores_the_run_and_the_report(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    result = invoke("run", small, *SMALL, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    data = strict_json(result.stdout)  # notes go to stderr, stdout stays one JSON object
    run_id = f"small-seed5-{data['config_sha256'][:12]}"
    folder = out / "runs" / run_id
    names = {"manifest.json", "summary.parquet", "timeseries.parquet", "platforms.parquet",
             "histograms.parquet", "categories.parquet", "cascades.parquet",
             "platform_days.parquet", "regions.parquet", "cohorts.parquet"}  # fmt: skip
    assert {p.name for p in folder.iterdir()} == names
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["run_id"], manifest["status"], manifest["seed"]) == (run_id, "complete", 5)
    assert manifest["config"]["run"]["users"] == 2000
    assert manifest["wall_seconds"] >= 0
    summary = pq.read_table(folder / "summary.parquet").to_pylist()[0]
    assert summary["order_score"] == data["summary"]["order_score"]
    assert (summary["run_id"], summary["replicate"], summary["users"]) == (run_id, 0, 2000)
    ts = pq.read_table(folder / "timeseries.parquet")
    assert ts.column_names[:3] == ["run_id", "scenario", "seed"]
    assert ts.num_rows > 0
    assert f"stored in {out}" in result.stderr
    assert (out / "report.html").is_file()
    assert f"report: {out / 'report.html'}" in result.stderr

    listing = invoke("runs", out)
    assert listing.exit_code == 0, listing.output
    assert "1 runs in" in listing.output
    assert run_id in listing.output

    report = invoke("report", out)
    assert report.exit_code == 0, report.output
    assert report.output == f"{out / 'report.html'}\n"


def test_runs_on_an_empty_folder(tmp_path: Path) -> None:
    result = invoke("runs", tmp_path)
    assert result.exit_code == 0
    assert result.output == f"no runs stored in {tmp_path}\n"


# ---------------------------------------------------------------- compare


def test_compare_table_and_json(small: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('name = "other"\n[state.identity]\nreal_name = 1.0\n')
    out = tmp_path / "res"
    args = ["compare", small, other, "--replicates", "2", "--seed", "3", *SMALL]
    result = invoke(*args, "--out", out)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # progress lines go to stderr
    assert lines[0] == (
        "2 scenarios x 2 replicates (seeds spawned from root seed 3), 2,000 users, 2 days."
    )
    assert any("against the first scenario, small" in line for line in lines[1:3])
    header = next(line for line in lines if "Measure" in line)
    assert "small" in header
    assert "other" in header
    assert "other - small" in header
    assert any("order_score" in line and " [" in line for line in lines)  # mean [low, high]
    assert (out / "comparison.parquet").is_file()
    assert len(list((out / "runs").iterdir())) == 4
    assert (out / "report.html").is_file()

    data = strict_json(invoke(*args, "--json").stdout)
    assert data["baseline"] == "small"
    assert data["scenarios"] == ["small", "other"]
    assert data["seeds"] == cmp.child_seeds(3, 2)
    stored = pq.read_table(out / "comparison.parquet").to_pylist()
    assert [r["metric"] for r in data["rows"]] == [r["metric"] for r in stored]
    assert [r["diff_mean"] for r in data["rows"]] == [r["diff_mean"] for r in stored]


def test_compare_with_one_replicate_says_so(small: Path) -> None:
    result = invoke("compare", small, "--replicates", "1", *SMALL)
    assert result.exit_code == 0, result.output
    assert f"note: {cmp.ONE_REPLICATE_NOTE}" in result.output.splitlines()


# ------------------------------------------------ bad input: exit 2, nothing written

BAD_FILES = {
    "malformed": (
        "name = 'x'\n[run\nusers = 3\n",
        "is not valid TOML: Expected ']' at the end of a table declaration (at line 2, column 5)",
    ),
    "unknown_deep": (
        "[platforms.microblog.moderation]\nreviewrs_per_100k_users = 3\n",
        "  - platforms.microblog.moderation.reviewrs_per_100k_users: unknown setting; "
        "did you mean 'reviewers_per_100k_users'?",
    ),
    "wrong_type": (
        "[run]\nusers = 'many'\n",
        "  - run.users: Input should be a valid integer, unable to parse string as an integer "
        '(got "many")',
    ),
    "negative_count": (
        "[state.inspection]\nsuspend_after_violations = -1\n",
        "  - state.inspection.suspend_after_violations: Input should be greater than or equal "
        "to 0 (got -1)",
    ),
    "share_above_one": (
        "[population]\nlurker_share = 1.5\n",
        "  - population.lurker_share: Input should be less than or equal to 1 (got 1.5)",
    ),
}


def _nothing_written(tmp_path: Path, before: set[str]) -> None:
    assert {p.name for p in tmp_path.iterdir()} == before
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "compare", "validate"])
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file(tmp_path: Path, case: str, command: str) -> None:
    text, message = BAD_FILES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    before = {p.name for p in tmp_path.iterdir()}
    extra = [] if command == "validate" else [*SMALL, "--out", tmp_path / "out"]
    result = invoke(command, path, *extra)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {path} is not valid")
    assert message in result.output.splitlines() or message in result.output
    assert "Traceback" not in result.output
    _nothing_written(tmp_path, before)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    result = invoke("run", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output == f"error: scenario file not found: {path}\n"
    _nothing_written(tmp_path, set())


def test_unknown_preset_lists_the_real_ones(tmp_path: Path) -> None:
    result = invoke("run", "no-such-preset", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.output == (
        "error: 'no-such-preset' is neither a preset nor a file; "
        f"the presets are: {', '.join(preset_names())}\n"
    )
    assert invoke("show", "no-such-preset").exit_code == 2
    _nothing_written(tmp_path, set())


def _range(option: str, value: str, bound: str) -> str:
    return f"Invalid value for '{option}': {value} is not in the range {bound}."


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "{small}", "--users", "0"], _range("--users", "0", "x>=1")),
        (["run", "{small}", "--days", "0"], _range("--days", "0.0", "x>0")),
        (["run", "{small}", "--seed", "-1"], _range("--seed", "-1", "x>=0")),
        (["compare", "{small}", "--replicates", "0"], _range("--replicates", "0", "x>=1")),
        (["compare", "{small}", "--days", "0"], _range("--days", "0.0", "x>0")),
        (["run", "{small}", "--days", "inf"], "Invalid value for '--days': inf is not a finite"),
        (["run", "{small}", "--days", "nan"], "Invalid value for '--days': nan is not a finite"),
        (["run", "{small}", "--bogus"], "No such option"),
    ],
)
def test_bad_option_values(tmp_path: Path, small: Path, args: list[str], message: str) -> None:
    before = {p.name for p in tmp_path.iterdir()}
    result = invoke(*(a.format(small=small) for a in args), "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in result.output
    _nothing_written(tmp_path, before)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("run.userz=3", "  - --set run.userz: unknown setting 'run.userz'; did you mean 'users'?"),
        ("state.punishment.severty=0.5", "  - --set state.punishment.severty: unknown setting "
         "'state.punishment.severty'; did you mean 'severity'?"),
        ("state.inspection.suspend_after_violations=abc", "  - state.inspection."
         "suspend_after_violations: Input should be a valid integer, unable to parse string as "
         'an integer (got "abc")'),
        ("population.lurker_share=2", "  - population.lurker_share: Input should be less than "
         "or equal to 1 (got 2)"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["run", "compare"])
def test_bad_set(tmp_path: Path, small: Path, setting: str, message: str, command: str) -> None:
    before = {p.name for p in tmp_path.iterdir()}
    result = invoke(command, small, *SMALL, "--set", setting, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: ")
    assert message in result.output.splitlines()
    _nothing_written(tmp_path, before)


def test_output_folder_is_a_file(tmp_path: Path, small: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("not a folder")
    for command in ("run", "compare"):
        result = invoke(command, small, *SMALL, "--out", target)
        assert result.exit_code == 2
        assert result.output == f"error: output folder {target} is a file, not a folder\n"
    assert target.read_text() == "not a folder"
    assert {p.name for p in tmp_path.iterdir()} == {"taken", "small.toml"}


def test_output_folder_cannot_be_written(tmp_path: Path, small: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    result = invoke("run", small, *SMALL, "--out", target / "sub")
    assert result.exit_code == 2
    assert result.output == (
        f"error: output folder {target / 'sub'} cannot be created: {target} is a file\n"
    )
    assert {p.name for p in tmp_path.iterdir()} == {"taken", "small.toml"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to a read-only folder")
def test_output_folder_read_only(tmp_path: Path, small: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = invoke("run", small, *SMALL, "--out", locked / "out")
        assert result.exit_code == 2
        assert result.output.startswith(f"error: output folder {locked / 'out'} cannot be written")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_results_folder_missing(tmp_path: Path) -> None:
    for command in ("runs", "report"):
        result = invoke(command, tmp_path / "nowhere")
        assert result.exit_code == 2
        assert result.output == f"error: results folder not found: {tmp_path / 'nowhere'}\n"
    result = invoke("report", tmp_path)
    assert result.exit_code == 2
    assert result.output == f"error: no runs stored in {tmp_path}\n"


# ---------------------------------------------------------------- internal errors: exit 1


def test_internal_error_is_short(small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    import tightrope.engine.driver

    monkeypatch.setattr(tightrope.engine.driver, "run", boom)
    monkeypatch.delenv("TIGHTROPE_DEBUG", raising=False)
    result = invoke("run", small, "--quiet")
    assert result.exit_code == 1
    assert result.output == (
        "internal error: RuntimeError: boom\n(set TIGHTROPE_DEBUG=1 to see the traceback)\n"
    )
    monkeypatch.setenv("TIGHTROPE_DEBUG", "1")
    result = invoke("run", small)
    assert result.exit_code == 1
    assert "Traceback" in result.output
    assert "RuntimeError: boom" in result.output


def test_progress_bar_on_a_terminal_shows_ticks_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    from tightrope.cli import app as cli

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr(sys, "stdout", fake)
    with cli._progress("run", unit="ticks") as bar:
        assert bar is not None
        bar(0, 0)  # drawn before the total is known, too
        bar(24, 48)
        bar(48, 48)
    text = fake.getvalue()
    assert "48/48 ticks" in text
    assert "ticks/s" in text


@pytest.mark.parametrize("module", ["tightrope", "tightrope.cli"])
def test_python_dash_m_knows_every_command(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", module, "calibrate", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Fit the settings listed in SPEC" in done.stdout
