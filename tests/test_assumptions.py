"""The Morris screening of the behavioural settings (tightrope.experiments.assumptions,
`tightrope assumptions`, docs/assumptions.md): the catalogue covers every numeric
behavioural setting of the schema, every range and design point is valid, the ranking is
reproducible from its seed, and bad input is refused with exit status 2."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from tightrope.cli import main
from tightrope.experiments import assumptions as asm
from tightrope.experiments.analysis import analyze
from tightrope.experiments.runner import run_experiment
from tightrope.scenario.files import load_scenario, ordinary_is_the_rest, preset_names
from tightrope.scenario.schema import Scenario

TINY: dict[str, Any] = {"users": 300, "days": 2.0, "trajectories": 2, "seed": 7}
"""The reproducibility runs: 300 users x 2 days, 2 trajectories (docs/assumptions.md)."""
ONLY = ("mobilisation.*", "behaviour.fear_learning", "content.criticism.*")
"""A part of the catalogue for the reproducibility runs (every setting would take minutes)."""


def _numeric_leaves(node: Any, prefix: str) -> list[str]:
    """Dotted paths of the numbers and lists of numbers in a scenario's JSON dump."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _numeric_leaves(v, f"{prefix}.{k}")]
    if isinstance(node, (bool, str)) or node is None:
        return []
    if isinstance(node, list):
        ok = node and all(isinstance(v, int | float) and not isinstance(v, bool) for v in node)
        return [prefix] if ok else []
    return [prefix]


# ---------------------------------------------------------------- the catalogue


def test_every_section_is_behavioural_or_excluded_with_a_reason() -> None:
    sections = set(Scenario.model_fields)
    assert set(asm.SECTIONS) | set(asm.OTHER_SECTIONS) == sections
    assert not set(asm.SECTIONS) & set(asm.OTHER_SECTIONS)
    assert all(len(why) > 10 for why in asm.OTHER_SECTIONS.values())


@pytest.mark.parametrize("preset", preset_names())
def test_catalogue_covers_every_numeric_behavioural_setting(preset: str) -> None:
    """Every number of the behavioural sections (read from the preset's dump, not from the
    schema walk the catalogue uses) is screened or excluded with a reason, once."""
    sc = load_scenario(preset)
    dump = sc.model_dump(mode="json")
    leaves = [p for s in asm.SECTIONS for p in _numeric_leaves(dump[s], s)]
    settings, excluded = asm.catalogue(sc)
    screened = [s.path for s in settings]
    left_out = [e.path for e in excluded]
    assert sorted(screened + left_out) == sorted(leaves)
    assert len(set(screened + left_out)) == len(screened) + len(left_out)
    assert all(e.reason.strip() for e in excluded)
    for e in excluded:  # only the explicit list, the lists of numbers or zeros, each so
        assert e.path in asm.EXCLUDED or e.reason == asm.ZERO_REASON, e
        if e.reason == asm.ZERO_REASON:
            assert e.value == 0
    assert set(asm.EXCLUDED) <= set(leaves)  # no stale exclusion
    assert len(settings) > 100


def test_the_schema_walk_finds_every_leaf_of_the_default_scenario() -> None:
    dump = Scenario().model_dump(mode="json")
    leaves = [p for s in asm.SECTIONS for p in _numeric_leaves(dump[s], s)]
    walked = [leaf.path for leaf in asm.behavioural_settings()]
    assert sorted(walked) == sorted(leaves)
    lists = {leaf.path for leaf in asm.behavioural_settings() if leaf.is_list}
    assert lists == {"population.diurnal", "behaviour.exposure_weights"}
    assert lists <= set(asm.EXCLUDED)


def test_range_rules() -> None:
    leaves = {leaf.path: leaf for leaf in asm.behavioural_settings()}
    # odds divided and multiplied by 1.5 for a share
    lo, hi, scale, rule = asm.setting_range(leaves["population.lurker_share"], 0.5)
    assert (rule, scale) == ("odds", "log")
    assert lo == pytest.approx(0.4)  # odds 1 / 1.5
    assert hi == pytest.approx(0.6)  # odds 1.5
    lo, hi, _, _ = asm.setting_range(leaves["behaviour.fear_learning"], 0.01)
    assert lo / 0.01 == pytest.approx(1 / 1.5, rel=0.01)
    assert hi / 0.01 == pytest.approx(1.5, rel=0.01)
    # / 1.5 to x 1.5 for an unbounded number, clipped to the schema's top
    assert asm.setting_range(leaves["population.views_per_day"], 20.0)[:2] == (
        pytest.approx(20 / 1.5),
        pytest.approx(30.0),
    )
    assert asm.setting_range(leaves["behaviour.grievance_voice"], 8.0)[:2] == (
        pytest.approx(8 / 1.5),
        10.0,
    )
    # centred for a setting that may be negative
    lo, hi, scale, rule = asm.setting_range(leaves["population.stance_mean"], 0.8)
    assert (lo, hi, scale, rule) == (pytest.approx(0.3), 1.0, "linear", "centred")


@pytest.mark.parametrize("preset", preset_names())
def test_ranges_lie_in_the_schema_and_around_the_preset(preset: str) -> None:
    settings, _ = asm.catalogue(preset)
    for s in settings:
        assert s.low < s.high, s
        assert s.low <= s.value <= s.high, s
        if s.schema_low is not None:
            assert s.low >= s.schema_low, s
        if s.schema_high is not None:
            assert s.high <= s.schema_high, s
        if s.scale == "log":
            assert s.low > 0, s
    by = {s.path: s for s in settings}
    for paths, cap in asm.JOINT_CAPS:
        assert sum(by[p].high for p in paths if p in by) <= cap + 1e-12


def test_every_design_point_is_a_valid_scenario() -> None:
    """The spec's points are validated by the experiment machinery; here again, one by one,
    and every factor is an uncertainty with the catalogue's range."""
    spec = asm.assumptions_spec(trajectories=4)
    settings, _ = asm.catalogue()
    assert [f.path for f in spec.factors] == [s.path for s in settings]
    assert all(f.role == "uncertainty" for f in spec.factors)
    assert spec.design.kind == "morris"
    assert spec.replicates == 1
    assert len(spec.points) == 4 * (len(settings) + 1)
    assert spec.outcomes[:3] == list(asm.GOALS)
    base = spec.base_config
    ranges = {s.path: (s.low, s.high) for s in settings}
    for point in spec.points:
        raw = json.loads(json.dumps(base))
        for path, value in point.items():
            lo, hi = ranges[path]
            assert lo <= value <= hi
            node = raw
            *parents, leaf = path.split(".")
            for part in parents:
                node = node[part]
            node[leaf] = value
        ordinary_is_the_rest(raw, point)
        Scenario.model_validate(raw)


def test_the_design_follows_the_seed() -> None:
    a = asm.assumptions_spec(seed=1, trajectories=2, only=ONLY)
    b = asm.assumptions_spec(seed=1, trajectories=2, only=ONLY)
    c = asm.assumptions_spec(seed=2, trajectories=2, only=ONLY)
    assert a.points == b.points
    assert a.sha256 == b.sha256
    assert a.points != c.points
    assert a.sha256 != c.sha256


# ---------------------------------------------------------------- reproducibility


def _bits(column: Any) -> np.ndarray:
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    return values.view(np.uint64)


def test_the_ranking_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    """Two screenings with the same seed, one from Python in this process and one by the
    command in a pool of two workers, give the same results and sensitivity tables, to the
    bit; the command prints that ranking and its report shows it."""
    spec = asm.assumptions_spec(
        asm.DEFAULT_PRESET, trajectories=TINY["trajectories"], users=TINY["users"],
        days=TINY["days"], seed=TINY["seed"], only=ONLY,
    )  # fmt: skip
    assert not run_experiment(spec, tmp_path / "a", backend="serial", workers=1).failures
    analyze(tmp_path / "a")
    args = ["assumptions", "--trajectories", str(TINY["trajectories"]), "--users",
            str(TINY["users"]), "--days", str(TINY["days"]), "--seed", str(TINY["seed"]),
            "--workers", "2", "--out", str(tmp_path / "b"), "--json", "--quiet"]  # fmt: skip
    for pattern in ONLY:
        args += ["--only", pattern]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    printed = json.loads(res.stdout)
    tables = {}
    for name in ("a", "b"):
        tables[name] = (
            pq.read_table(tmp_path / name / "results.parquet"),
            pq.read_table(tmp_path / name / "analysis" / "sensitivity.parquet"),
        )
    (ra, sa), (rb, sb) = tables["a"], tables["b"]
    assert ra.equals(rb)
    assert sa.num_rows > 0
    assert sa.equals(sb)
    assert np.array_equal(_bits(sa["value"]), _bits(sb["value"]))
    conf_a = np.array([math.nan if v is None else v for v in sa["conf"].to_pylist()])
    conf_b = np.array([math.nan if v is None else v for v in sb["conf"].to_pylist()])
    assert np.array_equal(conf_a.view(np.uint64), conf_b.view(np.uint64))
    ranking = asm.ranking(sa)
    assert printed["ranking"] == json.loads(json.dumps(ranking))
    assert set(asm.GOALS) <= set(ranking)
    for goal in asm.GOALS:
        mu = [r["mu_star"] for r in ranking[goal]]
        assert mu == sorted(mu, reverse=True)
        assert [r["rank"] for r in ranking[goal]] == list(range(1, len(mu) + 1))
    assert any(r["mu_star"] > 0 for r in ranking["freedom_score"])
    page = (tmp_path / "b" / "report.html").read_text("utf-8")
    assert "Ranking: the factors that move each goal most" in page


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["no-such-preset"], "unknown preset 'no-such-preset'"),
        (["--trajectories", "1"], "--trajectories must be a whole number, 2 or more"),
        (["--users", "0"], "--users must be a whole number, 1 or more"),
        (["--days", "-1"], "--days must be a positive number"),
        (["--seed", "-3"], "--seed must be a whole number, 0 or more"),
        (["--levels", "3"], "--levels must be an even whole number"),
        (["--only", "behaviour.no_such_thing"], "matches no screened setting"),
        (["--workers", "0"], "--workers must be a whole number, 1 or more"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, args: list[str], said: str) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["assumptions", *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert said in res.output
    assert "error:" in res.output
    assert not out.exists()


def test_an_out_folder_of_another_experiment_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    other = asm.assumptions_spec(seed=99, trajectories=2, only=ONLY).experiment_json()
    (out / "experiment.json").write_text(json.dumps(other), "utf-8")
    res = CliRunner().invoke(
        main, ["assumptions", "--only", "mobilisation.*", "--trajectories", "2", "--out", str(out)]
    )
    assert res.exit_code == 2, res.output
    assert "holds the results of another experiment" in res.output
    assert sorted(p.name for p in out.iterdir()) == ["experiment.json"]


def test_a_part_gone_from_the_summary_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The goal scores' formulas may change: a part no run reports is dropped, not refused."""
    monkeypatch.setattr(asm, "GOAL_PARTS", ("no_such_part", "self_censored_share"))
    assert asm.goal_parts() == ["self_censored_share"]
    assert asm.experiment_mapping(trajectories=2, only=ONLY)["outcomes"] == ["self_censored_share"]
