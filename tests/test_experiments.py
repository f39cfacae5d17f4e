"""Experiments: file validation, designs, common random numbers, stored results, resume,
recorded failures and the `tightrope experiment` command (serial backend; the process
pool and Dask are tested in test_experiment_backends.py)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import tightrope
import tightrope.results.storage
from tightrope.cli.app import main
from tightrope.errors import InputError
from tightrope.experiments import designs
from tightrope.experiments.files import load_experiment_file, overrides_for, parse_experiment
from tightrope.experiments.runner import (
    RUN_RECORD,
    TEST_HOOK_ENV,
    load_experiment,
    load_failures,
    load_results,
    run_experiment,
)
from tightrope.experiments.seeds import child_seeds

REVIEWERS = "platforms.weibo.moderation.reviewers_per_100k_users"
FEAR = "population.fear_mean"

TINY = f"""
name = "tiny"
base = "china-weibo-2013"
users = 500
days = 1.0
seed = 3
replicates = 2
outcomes = ["removed_share", "self_censored_share"]

[design]
kind = "grid"

[levers."{REVIEWERS}"]
values = [0, 50]

[uncertainties."{FEAR}"]
range = [0.05, 0.4]
steps = 2
"""

CONTRACT_KEYS = {
    "format", "name", "experiment_sha256", "base", "design", "factors", "salib_problem",
    "outcomes", "replicates", "root_seed", "seeds", "points", "users", "days",
}  # fmt: skip


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def raw(**changes: object) -> dict:
    """The TINY experiment as a mapping, with top-level keys replaced (None deletes)."""
    import tomllib

    out = tomllib.loads(TINY)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def problems(**changes: object) -> str:
    with pytest.raises(InputError) as info:
        parse_experiment(raw(**changes))
    return str(info.value)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write(tmp_path / "tiny.toml", TINY)


# ---------------------------------------------------------------- validation


def test_a_valid_file_gives_the_design_seeds_and_contract_json(tiny: Path) -> None:
    spec = load_experiment_file(tiny)
    assert spec.points == [
        {REVIEWERS: 0, FEAR: 0.05}, {REVIEWERS: 0, FEAR: 0.4},
        {REVIEWERS: 50, FEAR: 0.05}, {REVIEWERS: 50, FEAR: 0.4},
    ]  # fmt: skip
    assert spec.seeds == child_seeds(3, 2)
    assert spec.outcomes == ["order_score", "development_score", "freedom_score",
                             "removed_share", "self_censored_share"]  # fmt: skip
    assert (spec.users, spec.days, spec.runs) == (500, 1.0, 8)
    meta = spec.experiment_json()
    assert set(meta) == CONTRACT_KEYS
    assert meta["design"] == {"kind": "grid", "samples": None, "calc_second_order": False,
                              "num_levels": None}  # fmt: skip
    assert meta["factors"][0] == {"path": REVIEWERS, "role": "lever", "values": [0, 50],
                                  "low": None, "high": None, "scale": "linear"}  # fmt: skip
    assert meta["factors"][1]["role"] == "uncertainty"
    assert meta["factors"][1]["values"] == [0.05, 0.4]
    assert (meta["factors"][1]["low"], meta["factors"][1]["high"]) == (0.05, 0.4)
    assert meta["salib_problem"] is None
    # the hash covers what changes results, not where the file is
    assert parse_experiment(raw()).sha256 == spec.sha256
    assert parse_experiment(raw(seed=4)).sha256 != spec.sha256
    assert parse_experiment(raw(users=301)).sha256 != spec.sha256


def test_unknown_keys_are_named_with_a_did_you_mean() -> None:
    text = problems(replicate=2)
    assert "replicate: unknown setting; did you mean 'replicates'?" in text
    bad = raw()
    bad["design"]["sample"] = 4
    bad["levers"][REVIEWERS]["valus"] = [1]
    with pytest.raises(InputError) as info:
        parse_experiment(bad)
    text = str(info.value)
    assert "design.sample: unknown setting; did you mean 'samples'?" in text
    assert f"levers.\"{REVIEWERS}\".valus: unknown setting; did you mean 'values'?" in text
    assert "seed: Input should be a valid integer" in problems(seed=1.5)
    assert "design.kind: Input should be 'grid', 'lhs', 'sobol' or 'morris'" in problems(
        design={"kind": "factorial"}
    )


def test_a_design_needs_a_lever() -> None:
    text = problems(levers={})
    assert "an experiment needs at least one lever" in text


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        ({"range": [0.4, 0.05], "steps": 2}, "range low 0.4 is above high 0.05"),
        ({"range": [0.0, 0.4], "steps": 2, "scale": "log"}, "a log scale needs low above 0"),
        ({"range": [0.1, 0.4]}, "a range in a grid design needs steps = n"),
        ({"values": [0.1], "range": [0.1, 0.2]}, "give exactly one of values"),
        ({"values": []}, "values must list at least one value"),
        ({"values": [0.1, "x"]}, "values must all be numbers, all texts or all true/false"),
        ({"values": [0.1, 0.1]}, "value 0.1 is listed twice"),
        ({"values": [0.1], "scale": "log"}, "scale applies to ranges only"),
        ({"values": [0.2, 1.5]}, "value 1.5 makes the base scenario invalid"),
    ],
)
def test_bad_factors_are_refused(factor: dict, expected: str) -> None:
    text = problems(uncertainties={FEAR: factor})
    assert f'uncertainties."{FEAR}": ' in text
    assert expected in text


def test_values_the_scenario_refuses_are_reported_in_its_own_words() -> None:
    text = problems(levers={"state.punishment.severity": {"values": [0.5, 1.5]}})
    assert 'levers."state.punishment.severity": value 1.5 makes the base scenario invalid' in text
    assert "state.punishment.severity: Input should be less than or equal to 1" in text
    text = problems(levers={"network.source": {"values": ["synthetic", "graph"]}})
    assert "Input should be 'synthetic' or 'edge_list'" in text
    # a range on a text setting, and a fractional value for an integer setting
    text = problems(levers={"network.source": {"range": [1, 2], "steps": 2}})
    assert "range needs a numeric setting; network.source is a choice setting" in text
    text = problems(levers={"network.circle_size": {"values": [4, 6.5]}})
    assert "value 6.5 makes the base scenario invalid" in text


def test_paths_must_exist_in_the_base_scenario() -> None:
    wrong = "platforms.weibo.moderation.reviewers_per_100k"
    text = problems(levers={wrong: {"values": [1, 2]}})
    assert f"unknown setting '{wrong}'; did you mean 'reviewers_per_100k_users'?" in text
    assert f"close settings: {REVIEWERS}" in text
    text = problems(levers={"platforms.twitter.adoption": {"values": [0.1]}})
    assert "platforms.twitter" in text
    assert "have: weibo, wechat, foreign" in text
    text = problems(levers={"platforms.weibo.moderation": {"values": [1]}})
    assert "is a table, not a setting" in text
    text = problems(levers={"state.access.blocked": {"values": ["x"]}})
    assert "is a list setting" in text
    text = problems(levers={"run.seed": {"values": [1, 2]}})
    assert "run.seed is set by the experiment's seed and replicates" in text


def test_design_settings_are_checked() -> None:
    sobol_values = raw(design={"kind": "sobol", "samples": 8})
    sobol_values["uncertainties"][FEAR] = {"range": [0.05, 0.4]}
    with pytest.raises(InputError) as info:
        parse_experiment(sobol_values)
    assert "a sobol design samples ranges only; give range = [low, high]" in str(info.value)
    assert "needs a power of two (SALib's N), got 6; try 4 or 8" in problems(
        design={"kind": "sobol", "samples": 6}
    )
    assert "design.samples: required for a lhs design" in problems(design={"kind": "lhs"})
    assert "a grid design takes no samples" in problems(design={"kind": "grid", "samples": 3})
    assert "design.num_levels: only for morris designs" in problems(
        design={"kind": "grid", "num_levels": 4}
    )
    assert "design.calc_second_order: only for sobol designs" in problems(
        design={"kind": "lhs", "samples": 3, "calc_second_order": True}
    )
    lhs_steps = raw(design={"kind": "lhs", "samples": 4})
    with pytest.raises(InputError, match="steps is for grid designs"):
        parse_experiment(lhs_steps)


def test_outcomes_must_be_numeric_summary_metrics() -> None:
    text = problems(outcomes=["removed_shares", "tilt"])
    assert "outcomes: unknown metric 'removed_shares'; did you mean 'removed_share'?" in text
    assert "outcomes: 'tilt' is text, not a number" in text


def test_every_problem_is_reported_at_once() -> None:
    bad = raw(replicates=0)
    bad["uncertainties"][FEAR] = {"range": [0.4, 0.05], "steps": 2}
    bad["levers"]["state.punishment.severity"] = {"values": [2.0]}
    with pytest.raises(InputError) as info:
        parse_experiment(bad)
    assert "replicates: Input should be greater than or equal to 1" in str(info.value)
    bad["replicates"] = 1
    with pytest.raises(InputError) as info:
        parse_experiment(bad)
    assert len(info.value.problems) == 2


def test_the_base_path_is_relative_to_the_experiment_file(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    (folder / "scenarios").mkdir(parents=True)
    mine = 'extends = "laissez-faire"\nname = "mine"\n[state.punishment]\nseverity = 0.2\n'
    write(folder / "scenarios" / "mine.toml", mine)
    text = TINY.replace('base = "china-weibo-2013"', 'base = "scenarios/mine.toml"')
    text = text.replace("platforms.weibo.", "platforms.microblog.")
    spec = load_experiment_file(write(folder / "e.toml", text))
    assert spec.base == "scenarios/mine.toml"
    assert spec.base_config["state"]["punishment"]["severity"] == 0.2
    with pytest.raises(InputError, match="is neither a preset nor a scenario file"):
        load_experiment_file(write(folder / "f.toml", TINY.replace("china-weibo-2013", "x.toml")))


def test_a_combination_that_breaks_the_scenario_is_refused() -> None:
    # each value is fine alone (ordinary is the rest); both at 0.6 leave nothing for ordinary
    kinds = "population.kinds."
    levers = {f"{kinds}{k}": {"values": [0.0, 0.6]} for k in ("commercial", "bad_actor")}
    text = problems(levers=levers, uncertainties={})
    assert (
        "design point 3 (population.kinds.commercial=0.6, population.kinds.bad_actor=0.6) "
        "makes the base scenario invalid: population.kinds: the kinds other than ordinary add "
        "up to"
    ) in text
    assert "more than 1, which leaves nothing for ordinary" in text
    assert "design point 1 (" not in text


# ---------------------------------------------------------------- designs


def _factor(path: str, **kw: object) -> designs.Factor:
    return designs.Factor(path=path, role="lever", **kw)  # type: ignore[arg-type]


def test_grid_is_the_product_with_the_last_factor_fastest() -> None:
    a = _factor("a", values=(1, 2))
    b = _factor("b", low=1.0, high=100.0, steps=3, scale="log")
    pts = designs.grid([a, b])
    assert [(p["a"], p["b"]) for p in pts] == [
        (1, 1.0), (1, pytest.approx(10.0)), (1, 100.0),
        (2, 1.0), (2, pytest.approx(10.0)), (2, 100.0),
    ]  # fmt: skip


def test_latin_hypercube_is_stratified_seeded_and_log_scaled() -> None:
    lin = _factor("lin", low=0.0, high=1.0)
    log = _factor("log", low=1.0, high=1000.0, scale="log")
    cat = _factor("cat", values=("a", "b", "c", "d"))
    pts = designs.latin_hypercube([lin, log, cat], 8, root_seed=5)
    x = np.array([p["lin"] for p in pts])
    assert sorted(np.floor(x * 8).astype(int)) == list(range(8))  # one point per stratum
    y = np.log10([p["log"] for p in pts])
    assert sorted(np.floor(y / 3 * 8).astype(int)) == list(range(8))  # strata in log space
    assert sorted(p["cat"] for p in pts) == ["a", "a", "b", "b", "c", "c", "d", "d"]
    assert designs.latin_hypercube([lin, log, cat], 8, root_seed=5) == pts
    assert designs.latin_hypercube([lin, log, cat], 8, root_seed=6) != pts


def test_sobol_and_morris_are_salibs_samples() -> None:
    from SALib.sample import morris as salib_morris
    from SALib.sample import sobol as salib_sobol

    f = [_factor("a", low=0.0, high=2.0), _factor("b", low=0.1, high=10.0, scale="log")]
    pts, problem = designs.sobol(f, 8, False, root_seed=1)
    assert problem == {"num_vars": 2, "names": ["a", "b"], "bounds": [[0.0, 2.0], [0.1, 10.0]],
                       "dists": ["unif", "logunif"]}  # fmt: skip
    expected = salib_sobol.sample(dict(problem), 8, calc_second_order=False,
                                  seed=designs.design_seed(1))  # fmt: skip
    assert len(pts) == 8 * (2 + 2)
    assert np.allclose([[p["a"], p["b"]] for p in pts], expected, rtol=1e-12, atol=0)
    assert len(designs.sobol(f, 8, True, root_seed=1)[0]) == 8 * (2 * 2 + 2)
    pts, problem = designs.morris(f, 5, 4, root_seed=1)
    assert len(pts) == 5 * (2 + 1)
    expected = salib_morris.sample(dict(problem), 5, num_levels=4, seed=designs.design_seed(1))
    assert np.allclose([[p["a"], p["b"]] for p in pts], expected, rtol=1e-12, atol=0)
    assert {round(p["a"], 9) for p in pts} <= {0.0, round(2 / 3, 9), round(4 / 3, 9), 2.0}


def test_integer_settings_get_rounded_values(tmp_path: Path) -> None:
    spec = parse_experiment(
        raw(design={"kind": "lhs", "samples": 6},
            levers={"network.circle_size": {"range": [2, 12]}}, uncertainties={})
    )  # fmt: skip
    sizes = [p["network.circle_size"] for p in spec.points]
    assert all(type(v) is int for v in sizes)
    assert len(set(sizes)) > 1
    with pytest.raises(InputError, match="round to repeated values"):
        parse_experiment(raw(levers={"network.circle_size": {"range": [2, 4], "steps": 5}},
                             uncertainties={}))  # fmt: skip
    with pytest.raises(InputError, match="Morris levels"):
        parse_experiment(raw(design={"kind": "morris", "samples": 2},
                             levers={"network.circle_size": {"range": [2, 3]}},
                             uncertainties={}))  # fmt: skip


def test_sobol_experiment_json_has_the_salib_problem() -> None:
    spec = parse_experiment(
        raw(design={"kind": "sobol", "samples": 4},
            levers={"state.punishment.severity": {"range": [0.0, 0.8]}},
            uncertainties={FEAR: {"range": [0.05, 0.4], "scale": "log"}})
    )  # fmt: skip
    meta = spec.experiment_json()
    assert meta["points"] == 4 * (2 + 2) == len(spec.points)
    assert meta["design"] == {"kind": "sobol", "samples": 4, "calc_second_order": False,
                              "num_levels": None}  # fmt: skip
    assert meta["salib_problem"]["names"] == ["state.punishment.severity", FEAR]
    assert meta["salib_problem"]["bounds"] == [[0.0, 0.8], [0.05, 0.4]]
    assert meta["factors"][1] == {"path": FEAR, "role": "uncertainty", "values": None,
                                  "low": 0.05, "high": 0.4, "scale": "log"}  # fmt: skip


# ---------------------------------------------------------------- running (serial)


def _folders(out: Path) -> list[Path]:
    return sorted(p for p in (out / "runs").iterdir() if not p.name.startswith("."))


def test_a_serial_run_stores_every_run_and_the_results_table(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_experiment(tiny, out, backend="serial")
    assert (summary.runs, summary.done, summary.skipped, summary.failed) == (8, 8, 0, 0)
    meta = load_experiment(out)
    assert set(meta) == CONTRACT_KEYS
    assert meta["points"] == 4
    table = pq.read_table(out / "results.parquet")
    assert table.column_names == ["point", "replicate", "seed", "run_id", REVIEWERS, FEAR,
                                  *meta["outcomes"]]  # fmt: skip
    assert table.schema.field("point").type == pa.int64()
    assert table.schema.field(REVIEWERS).type == pa.float64()
    assert table.schema.field("removed_share").type == pa.float64()
    rows = table.to_pylist()
    assert [(r["point"], r["replicate"]) for r in rows] == [
        (p, r) for p in range(4) for r in range(2)
    ]
    # common random numbers: the same seeds at every point
    assert [r["seed"] for r in rows] == meta["seeds"] * 4
    assert len(_folders(out)) == 8
    assert len({r["run_id"] for r in rows}) == 8
    for folder in _folders(out):
        assert (folder / "manifest.json").is_file()
        assert (folder / RUN_RECORD).is_file()
    # a row is the run itself: the same scenario run directly gives the same outcomes
    row = rows[5]
    point = load_experiment_file(tiny).points[row["point"]]
    direct = tightrope.run(tightrope.load_scenario(
        "china-weibo-2013", overrides_for(point), users=500, days=1.0, seed=row["seed"]
    )).summary  # fmt: skip
    for name in meta["outcomes"]:
        want = direct[name]
        assert (math.isnan(want) and math.isnan(row[name])) or row[name] == want
    # the levers act: more reviewers remove more (500 users x 1 day: at 300 x 0.5 a held
    # post is rare and one spammer writes half the posts, so reviewers change nothing)
    by_point = {p: np.mean([r["removed_share"] for r in rows if r["point"] == p]) for p in range(4)}
    assert by_point[2] > by_point[0]
    assert load_failures(out).num_rows == 0
    assert load_results(out).equals(table)


def test_killed_driver_resumes_without_duplicates(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "from tightrope.cli.app import main; main()", "experiment",
           str(tiny), "--out", str(out), "--backend", "serial"]  # fmt: skip
    env = {**os.environ, TEST_HOOK_ENV: "2:1:exit"}  # the driver itself dies at run 6 of 8
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 77
    assert not (out / "results.parquet").exists()
    assert len(_folders(out)) == 5
    # meanwhile the results can be read from the run records
    partial = load_results(out)
    assert partial.num_rows == 5
    # same command again: only what is missing runs
    env.pop(TEST_HOOK_ENV)
    second = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert second.returncode == 0, second.stderr
    report = json.loads(second.stdout)
    assert (report["done"], report["skipped"], report["failed"]) == (3, 5, 0)
    table = pq.read_table(out / "results.parquet")
    assert table.num_rows == 8
    assert len(_folders(out)) == 8
    assert len(set(zip(table["point"].to_pylist(), table["replicate"].to_pylist(),
                       strict=True))) == 8  # fmt: skip
    assert table.slice(0, 5).equals(partial)


def test_failed_runs_are_recorded_and_retried(tiny: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    out = tmp_path / "out"
    monkeypatch.setenv(TEST_HOOK_ENV, "1:0,3:1")
    summary = run_experiment(tiny, out, backend="serial")
    assert (summary.done, summary.failed) == (6, 2)
    assert [(f.point, f.replicate) for f in summary.failures] == [(1, 0), (3, 1)]
    assert "RuntimeError: injected failure" in summary.failures[0].error
    note = json.loads((out / "failures" / "1-0.json").read_text())
    assert note["seed"] == summary.failures[0].seed
    assert "Traceback" in note["traceback"]
    fails = pq.read_table(out / "failures.parquet")
    assert fails.column_names == ["point", "replicate", "seed", "error"]
    assert fails["point"].to_pylist() == [1, 3]
    assert pq.read_table(out / "results.parquet").num_rows == 6
    monkeypatch.delenv(TEST_HOOK_ENV)
    again = run_experiment(tiny, out, backend="serial")
    assert (again.done, again.skipped, again.failed) == (2, 6, 0)
    assert pq.read_table(out / "failures.parquet").num_rows == 0
    assert not list((out / "failures").glob("*.json"))
    assert pq.read_table(out / "results.parquet").num_rows == 8
    assert len(_folders(out)) == 8


def test_a_run_folder_without_its_record_is_run_again(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_experiment(tiny, out, backend="serial")
    first = pq.read_table(out / "results.parquet")
    victim = _folders(out)[3]
    (victim / RUN_RECORD).unlink()  # killed between storing the run and its record
    again = run_experiment(tiny, out, backend="serial")
    assert (again.done, again.skipped) == (1, 7)
    assert len(_folders(out)) == 8
    assert pq.read_table(out / "results.parquet").equals(first)


def test_another_experiment_in_the_same_folder_is_refused(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run_experiment(tiny, out, backend="serial")
    other = write(tmp_path / "other.toml", TINY.replace("replicates = 2", "replicates = 3"))
    with pytest.raises(InputError) as info:
        run_experiment(other, out, backend="serial")
    text = str(info.value)
    assert "holds the results of another experiment" in text
    assert "they differ in replicates" in text
    assert "give another --out folder" in text
    plain = tmp_path / "plain"
    from tightrope.experiments.runner import timed_run

    result, started, finished = timed_run(tightrope.load_scenario("laissez-faire", users=100,
                                                                  days=0.5))  # fmt: skip
    tightrope.results.storage.save_run(result, plain, started_at=started, finished_at=finished)
    with pytest.raises(InputError, match="already holds runs stored by `tightrope run`"):
        run_experiment(tiny, plain, backend="serial")


# ---------------------------------------------------------------- the command


def test_cli_runs_reports_and_exits_1_on_failures(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    res = runner.invoke(main, ["experiment", str(tiny), "--out", str(out), "--backend",
                               "serial"], env={TEST_HOOK_ENV: "0:1"})  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "8 runs (4 points x 2 replicates): 7 run now, 0 already done, 1 failed" in res.output
    assert "point 0 (" in res.output
    assert "replicate 1" in res.output
    assert "RuntimeError: injected failure" in res.output
    assert "run the same command again" in res.output
    res = runner.invoke(main, ["experiment", str(tiny), "--out", str(out), "--backend",
                               "serial", "--json"], env={TEST_HOOK_ENV: ""})  # fmt: skip
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)  # progress lines go to stderr
    assert (report["done"], report["skipped"], report["failed"]) == (1, 7, 0)
    assert report["results"] == str(out / "results.parquet")


def test_cli_bad_input_exits_2_and_writes_nothing(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    bad = write(tmp_path / "bad.toml", TINY.replace("replicates = 2", "replicates = 0"))
    res = runner.invoke(main, ["experiment", str(bad), "--out", str(out)])
    assert res.exit_code == 2
    assert "error:" in res.output
    assert "replicates" in res.output
    res = runner.invoke(main, ["experiment", str(tiny), "--out", str(out), "--backend",
                               "process", "--scheduler", "tcp://127.0.0.1:1"])  # fmt: skip
    assert res.exit_code == 2
    assert "--scheduler needs the dask backend" in res.output
    res = runner.invoke(main, ["experiment", str(tmp_path / "missing.toml"), "--out", str(out)])
    assert res.exit_code == 2
    assert "experiment file not found" in res.output
    assert not out.exists()
