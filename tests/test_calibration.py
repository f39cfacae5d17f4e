"""Calibration: targets and spec validation, likelihoods, resume, folder checks, outputs."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from scipy import stats

from tightrope.cli.app import main
from tightrope.errors import InputError
from tightrope.experiments import calibration as cal
from tightrope.scenario.files import load_scenario, preset_names, preset_text

WEIBO = "platforms.weibo.moderation"

TARGET = {
    "id": "deleted",
    "metric": "published_deleted_share",
    "value": 0.16,
    "likelihood": "normal",
    "uncertainty": 0.02,
    "source": "Bamman, O'Connor & Smith 2012",
}


def spec_text(seed: int = 1, trials: int = 3, extra: str = "") -> str:
    """A tiny spec: 300 users x 1 day, 1 replicate per trial, inline targets."""
    return f"""
name = "tiny-calibrated"
description = "a tiny test calibration"
base = "china-weibo-2013"
users = 300
days = 1
replicates = 1
trials = {trials}
seed = {seed}
startup_trials = 2
validation_replicates = 2
{extra}
[[fixed]]
path = "{WEIBO}.actions.criticism"
value = "review"
reason = "test: published, then reviewed"

[[parameter]]
path = "{WEIBO}.reviewers_per_100k_users"
low = 0.5
high = 20.0
log = true

[[parameter]]
path = "content.rumor.share"
low = 0.01
high = 1.0

[[parameter]]
path = "{WEIBO}.strike_limit"
low = 1
high = 5

[[target]]
id = "deleted"
metric = "published_deleted_share"
value = 0.16
likelihood = "normal"
uncertainty = 0.02
source = "Bamman, O'Connor & Smith 2012"

[[target]]
id = "day"
metric = "deleted_within_24h_share"
value = 0.9
likelihood = "binomial"
n = 400
source = "Zhu et al. 2013"
"""


def write_spec(tmp_path: Path, **kw: object) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(spec_text(**kw), "utf-8")  # type: ignore[arg-type]
    return path


def message(exc: pytest.ExceptionInfo[InputError]) -> str:
    return str(exc.value)


# ---------------------------------------------------------------- targets


def test_unknown_metric_is_refused_with_did_you_mean():
    bad = {**TARGET, "metric": "published_deleted_shar"}
    with pytest.raises(InputError) as exc:
        cal.validate_targets({"target": [bad]})
    text = message(exc)
    assert "target[0].metric" in text
    assert "unknown metric 'published_deleted_shar'" in text
    assert "did you mean 'published_deleted_share'?" in text


def test_non_numeric_metric_and_unknown_key_are_refused():
    with pytest.raises(InputError) as exc:
        cal.validate_targets(
            {"target": [{**TARGET, "metric": "tilt"}, {**TARGET, "id": "b", "uncertainy": 1}]}
        )
    text = message(exc)
    assert "metric 'tilt' is not a number" in text
    assert "target[1].uncertainy: unknown setting; did you mean 'uncertainty'?" in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"uncertainty": None}, "a normal target needs 'uncertainty'"),
        ({"uncertainty": 0.0}, "target[0].uncertainty: Input should be greater than 0"),
        ({"likelihood": "binomial"}, "a binomial target needs 'n'"),
        ({"likelihood": "binomial", "uncertainty": None, "n": 10, "value": 1.5},
         "a binomial target's value is a share in [0, 1]"),
        ({"likelihood": "poisson"}, "target[0].likelihood: Input should be 'normal' or 'binomial'"),
        ({"n": 5}, "'n' is for binomial targets"),
    ],
)  # fmt: skip
def test_target_uncertainty_must_fit_the_likelihood(change, expected):
    bad = {k: v for k, v in {**TARGET, **change}.items() if v is not None}
    with pytest.raises(InputError) as exc:
        cal.validate_targets({"target": [bad]})
    assert expected in message(exc)


def test_target_ids_must_be_unique():
    with pytest.raises(InputError, match="repeated: deleted"):
        cal.validate_targets({"target": [TARGET, TARGET]})


def test_shipped_targets_file_parses():
    assert "weibo-2012" in cal.targets_names()
    tf, label = cal.load_targets("weibo-2012")
    assert label == "shipped:weibo-2012"
    got = {t.metric: (t.value, t.uncertainty) for t in tf.target}
    assert got == {
        "published_deleted_share": (0.16, 0.02),
        "deleted_within_8min_share": (0.05, 0.03),
        "deleted_5_to_30min_share": (0.30, 0.05),
        "deleted_within_24h_share": (0.90, 0.04),
    }
    assert all(t.source and t.note for t in tf.target)
    metrics = cal.summary_metrics()
    assert all(metrics[t.metric] for t in tf.target)


# ---------------------------------------------------------------- the spec


def test_spec_problems_are_all_named(tmp_path):
    text = spec_text().replace("low = 0.5\nhigh = 20.0", "low = 20.0\nhigh = 0.5")
    text = text.replace("replicates = 1", "replicates = 0\nreplicatess = 2")
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError) as exc:
        cal.load_spec(path)
    text = message(exc)
    assert "parameter[0]: low must be below high, got low = 20.0, high = 0.5" in text
    assert "replicates: Input should be greater than or equal to 1" in text
    assert "replicatess: unknown setting; did you mean 'replicates'?" in text


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (f"{WEIBO}.reviewers_per_100k_users", f"{WEIBO}.reviewers_per_100k_user",
         "unknown setting 'platforms.weibo.moderation.reviewers_per_100k_user'; did you mean "
         "'reviewers_per_100k_users'?"),
        (f"{WEIBO}.reviewers_per_100k_users", "platforms.weibox.moderation.reviewers",
         "no such entry"),
        ("content.rumor.share", f"{WEIBO}.actions.rumor", "only numeric settings can be fitted"),
        ("low = 0.01\n", "low = -0.5\n", "the range [-0.5, 1.0] is not allowed"),
        ("low = 1\nhigh = 5", "low = 1.5\nhigh = 5", "integer setting needs whole-number"),
        ("log = true", "log = true\n[[parameter]]\npath = \"run.users\"\nlow = 1\nhigh = 2",
         "run settings come from the spec"),
        ('value = "review"', 'value = "reveiw"', "fixed:"),
    ],
)  # fmt: skip
def test_spec_paths_and_ranges_must_fit_the_base(tmp_path, old, new, expected):
    path = tmp_path / "bad.toml"
    path.write_text(spec_text().replace(old, new, 1), "utf-8")
    with pytest.raises(InputError) as exc:
        cal.load_spec(path)
    assert expected in message(exc)


def test_bad_fixed_setting_and_bad_path_are_reported_together(tmp_path):
    text = spec_text().replace('value = "review"', 'value = "reveiw"')
    text = text.replace("content.rumor.share", "content.rumor.shares")
    path = tmp_path / "bad.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(InputError) as exc:
        cal.load_spec(path)
    assert "fixed: platforms.weibo.moderation.actions.criticism" in message(exc)
    assert "parameter[1] (content.rumor.shares): unknown setting" in message(exc)


def test_log_range_needs_positive_low_and_targets_are_needed(tmp_path):
    text = spec_text().replace("low = 0.5\nhigh = 20.0", "low = 0.0\nhigh = 20.0")
    head, _, _ = text.partition("[[target]]")
    path = tmp_path / "bad.toml"
    path.write_text(head, "utf-8")
    with pytest.raises(InputError) as exc:
        cal.load_spec(path)
    assert "a log-scale range needs low > 0" in message(exc)
    assert "give the targets either as a file" in message(exc)


def test_spec_reads_a_targets_file_by_name_or_path(tmp_path):
    head, _, _ = spec_text().partition("[[target]]")
    (tmp_path / "targets.toml").write_text(
        '[[target]]\nid = "x"\nmetric = "held_share"\nvalue = 0.4\nlikelihood = "normal"\n'
        'uncertainty = 0.05\nsource = "KPR 2014"\n',
        "utf-8",
    )
    for ref, ids in (("targets.toml", ["x"]), ("weibo-2012", None)):
        path = tmp_path / "spec.toml"
        path.write_text(f'targets = "{ref}"\n' + head, "utf-8")
        plan = cal.load_spec(path)
        if ids:
            assert [t.id for t in plan.targets] == ids
        else:
            assert plan.targets_label == "shipped:weibo-2012"
            assert len(plan.targets) == 4


# ---------------------------------------------------------------- likelihoods


def test_normal_loglik_matches_hand_computation():
    # sd_total = sqrt(0.03^2 + 0.04^2) = 0.05; z = (0.2 - 0.16) / 0.05 = 0.8
    assert cal.normal_loglik(0.2, 0.16, 0.03, 0.04) == pytest.approx(-0.32 - math.log(0.05))
    assert cal.normal_loglik(0.16, 0.16, 0.02) == pytest.approx(-math.log(0.02))
    full = stats.norm.logpdf(0.2, loc=0.16, scale=0.05)  # the same up to -0.5 ln(2 pi)
    assert cal.normal_loglik(0.2, 0.16, 0.03, 0.04) == pytest.approx(
        full + 0.5 * math.log(2 * math.pi)
    )


def test_binomial_loglik_matches_the_binomial_pmf():
    assert cal.binomial_loglik(0.3, 0.25, 40) == pytest.approx(stats.binom.logpmf(10, 40, 0.3))
    assert cal.binomial_loglik(0.25, 0.25, 40) > cal.binomial_loglik(0.3, 0.25, 40)
    assert math.isfinite(cal.binomial_loglik(0.0, 0.25, 40))  # p is clipped


def test_target_loglik_uses_mean_and_standard_error_over_replicates():
    t = cal.Target.model_validate(TARGET)
    s = cal.target_loglik(t, [0.1, 0.2, math.nan, 0.3])
    se = 0.1 / math.sqrt(3)
    assert (s.mean, s.n_finite) == (pytest.approx(0.2), 3)
    assert s.se == pytest.approx(se)
    assert s.loglik == pytest.approx(cal.normal_loglik(0.2, 0.16, 0.02, se))
    one = cal.target_loglik(t, [0.2])
    assert one.se == 0.0
    assert one.loglik == pytest.approx(cal.normal_loglik(0.2, 0.16, 0.02))
    none = cal.target_loglik(t, [math.nan, math.nan])
    assert none.loglik == cal.UNDEFINED_LOGLIK
    assert none.n_finite == 0


# ---------------------------------------------------------------- running, resuming


def complete(out: Path) -> list[int]:
    study = cal.load_study(out)
    return [t.number for t in study.trials if t.state.name == "COMPLETE"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A tiny calibration of 3 trials, then resumed to 5."""
    tmp = tmp_path_factory.mktemp("cal")
    spec = write_spec(tmp)
    out = tmp / "out"
    first = cal.calibrate(cal.load_spec(spec), out)
    first_trials = [(t.number, t.params) for t in cal.load_study(out).trials]
    report = cal.calibrate(cal.load_spec(spec, trials=5), out, command="tightrope calibrate x")
    return spec, out, first, first_trials, report


def test_resume_continues_to_the_requested_number_of_trials(fitted):
    spec, out, first, first_trials, report = fitted
    assert first.best.complete == 3
    assert complete(out) == [0, 1, 2, 3, 4]  # 5, not 3 + 5
    study = cal.load_study(out)
    assert [(t.number, t.params) for t in study.trials[:3]] == first_trials
    assert report.best.complete == 5
    # asking for no more than the journal holds runs no new trial
    again = cal.calibrate(cal.load_spec(spec, trials=4), out, command="tightrope calibrate x")
    assert complete(out) == [0, 1, 2, 3, 4]
    assert again.best.number == report.best.number
    # the base's own values are tried first
    base = load_scenario("china-weibo-2013")
    weibo = base.platforms["weibo"].moderation
    assert study.trials[0].params == {
        f"{WEIBO}.reviewers_per_100k_users": weibo.reviewers_per_100k_users,
        "content.rumor.share": base.content.rumor.share,
        f"{WEIBO}.strike_limit": weibo.strike_limit,
    }


def test_a_folder_of_another_spec_is_refused_before_any_work(fitted, tmp_path):
    _spec, out, *_ = fitted
    before = (out / cal.JOURNAL).read_bytes()
    other = write_spec(tmp_path, seed=2)
    with pytest.raises(InputError) as exc:
        cal.calibrate(cal.load_spec(other), out)
    assert "holds a calibration of another spec (differs in: seed)" in message(exc)
    assert (out / cal.JOURNAL).read_bytes() == before
    result = CliRunner().invoke(main, ["calibrate", str(other), "--out", str(out)])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "another spec" in result.output
    assert (out / cal.JOURNAL).read_bytes() == before


def test_calibrated_scenario_loads_and_carries_the_fitted_values(fitted):
    _spec, out, _first, _ft, report = fitted
    path = out / "tiny-calibrated.toml"
    assert report.scenario_path == path
    text = path.read_text("utf-8")
    assert "#   tightrope calibrate x" in text
    assert text.count("# fitted: ") == 3
    assert "sources: Bamman, O'Connor & Smith 2012" in text
    raw = tomllib.loads(text)
    assert raw["extends"] == "china-weibo-2013"
    sc = load_scenario(path)
    assert (sc.name, sc.run.users, sc.run.days) == ("tiny-calibrated", 300, 1.0)
    moderation = sc.platforms["weibo"].moderation
    rev, share, strikes = report.best.values
    assert moderation.reviewers_per_100k_users == rev
    assert sc.content.rumor.share == share
    assert moderation.strike_limit == strikes
    assert isinstance(strikes, int)
    assert moderation.actions.criticism == "review"  # the fixed setting
    # the best trial's values, to 4 significant digits
    best = cal.load_study(out).trials[report.best.number]
    assert rev == pytest.approx(best.params[f"{WEIBO}.reviewers_per_100k_users"], rel=1e-3)


def test_fit_report_files(fitted):
    _spec, out, _first, _ft, report = fitted
    fit = pq.read_table(out / "fit.parquet")
    assert fit.column_names == list(cal.FIT_COLUMNS)
    rows = fit.to_pylist()
    assert [r["target"] for r in rows] == ["deleted", "day"]
    for r in rows:
        if r["sim_mean"] is not None:
            assert r["within"] == (abs(r["sim_mean"] - r["value"]) <= r["tolerance"])
    assert rows[1]["tolerance"] == pytest.approx(math.sqrt(0.9 * 0.1 / 400))
    assert len(report.validation_seeds) == 2
    assert not set(report.validation_seeds) & set(cal.load_spec(out.parent / "spec.toml").seeds)
    md = (out / "fit.md").read_text("utf-8")
    assert "| deleted | `published_deleted_share` | 0.16 ± 0.02 |" in md
    trials = pq.read_table(out / "trials.parquet")
    assert trials.num_rows == 5
    assert "mean:deleted" in trials.column_names
    meta = json.loads((out / "calibration.json").read_text("utf-8"))
    assert meta["spec_sha256"] == cal.load_spec(out.parent / "spec.toml").sha256


def test_cli_json_output(fitted):
    spec, out, *_ = fitted
    result = CliRunner().invoke(main, ["calibrate", str(spec), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # progress lines go to stderr
    assert data["trials"] == 5
    assert data["name"] == "tiny-calibrated"
    assert set(data["values"]) == {f"{WEIBO}.reviewers_per_100k_users", "content.rumor.share",
                                   f"{WEIBO}.strike_limit"}  # fmt: skip
    assert [r["target"] for r in data["rows"]] == ["deleted", "day"]


def test_cli_bad_spec_exits_2_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(spec_text().replace("content.rumor.share", "content.rumour.share"), "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["calibrate", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "error:" in result.output
    assert "did you mean 'rumor'?" in result.output
    assert not out.exists()


@pytest.mark.slow
def test_two_workers_share_one_study(tmp_path):
    spec = write_spec(tmp_path, trials=6)
    out = tmp_path / "out"
    report = cal.calibrate(cal.load_spec(spec), out, workers=2)
    assert complete(out) == list(range(6))
    assert report.best.complete == 6


# ---------------------------------------------------------------- the shipped preset


SHIPPED = "china-weibo-2012-calibrated"
SHIPPED_SPEC = Path(__file__).parents[1] / "docs" / "calibration-weibo-2012.toml"


def test_shipped_calibrated_preset_loads_and_names_its_fit():
    assert SHIPPED in preset_names()
    sc = load_scenario(SHIPPED)
    assert sc.name == SHIPPED
    assert (sc.run.users, sc.run.days) == (5000, 5.0)
    assert sc.platforms["weibo"].moderation.actions.criticism == "review"
    text = preset_text(SHIPPED)
    assert "#   tightrope calibrate docs/calibration-weibo-2012.toml --out weibo-2012-fit" in text
    assert text.count("# fitted: ") == 7
    raw = tomllib.loads(text)
    assert raw["extends"] == "china-weibo-2013"
    tf, _ = cal.load_targets("weibo-2012")
    for t in tf.target:
        assert t.id in text
    # the spec it names is the one in docs/, and its hash is in the header
    plan = cal.load_spec(SHIPPED_SPEC)
    assert plan.spec.name == SHIPPED
    assert f"Spec sha256 {plan.sha256[:16]}" in text


def test_shipped_preset_reproduces_its_fit_on_the_validation_seeds():
    """The shipped preset, run on the spec's validation seeds, puts every target within its
    published uncertainty (as in docs/calibration.md). Fails if the engine has changed
    enough that the preset needs fitting again."""
    plan = cal.load_spec(SHIPPED_SPEC)
    runs = [cal.run_summary(load_scenario(SHIPPED, seed=s)) for s in plan.validation_seeds]
    assert all(r is not None for r in runs)
    for t in plan.targets:
        mean = sum(r[t.metric] for r in runs) / len(runs)  # type: ignore[index]
        assert abs(mean - t.value) <= t.tolerance(), (t.id, mean)


def test_same_spec_in_fresh_folders_gives_the_same_trials(tmp_path):
    spec = write_spec(tmp_path)
    reports = [cal.calibrate(cal.load_spec(spec), tmp_path / f"out{i}") for i in (1, 2)]
    studies = [cal.load_study(tmp_path / f"out{i}") for i in (1, 2)]
    a, b = ([(t.params, t.value) for t in s.trials] for s in studies)
    assert a == b
    assert reports[0].best.values == reports[1].best.values


def test_written_values_stay_on_one_line():
    """An array setting is written inline, so the fit report's table row stays one row."""
    assert cal._toml_value([1.0]) == "[1.0]"
    assert cal._toml_value([1, 1.5, 1.2]) == "[1, 1.5, 1.2]"
    assert cal._toml_value("review") == '"review"'
    assert cal._toml_value(0.3) == "0.3"
