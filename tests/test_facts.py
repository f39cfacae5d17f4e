"""`tightrope facts`: the catalogue's validation, the criteria, the evaluation, the command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from tightrope.cli import main
from tightrope.errors import InputError
from tightrope.experiments import facts as fx
from tightrope.scenario.files import preset_names

FACT = {
    "id": "held",
    "statement": "About 0.40 of sensitive posts were held.",
    "reference": "King, Pan & Roberts 2014",
    "scenario": "china-weibo-2013",
    "metric": "sensitive_held_share",
    "criterion": "near",
    "value": 0.4,
    "tolerance": 0.05,
}


def catalogue(*facts: dict, **head) -> dict:
    return {"version": 1, **head, "fact": list(facts)}


def problems(raw: dict) -> list[str]:
    with pytest.raises(InputError) as err:
        fx.validate_catalogue(raw)
    return err.value.problems


def test_a_valid_fact_reads_and_shows_its_criterion():
    cat = fx.validate_catalogue(catalogue(FACT))
    assert cat.fact[0].criterion_text() == "0.4 ± 0.05"
    assert (cat.users, cat.days, cat.replicates, cat.seed) == (5000, 7.0, 3, 0)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"tolerance": None},
            "fact[0]: criterion 'near' needs 'tolerance' (it takes 'value', 'tolerance')",
        ),
        (
            {"criterion": "above"},
            "fact[0]: criterion 'above' needs 'than' and does not take 'value', "
            "'tolerance' (it takes 'than')",
        ),
        (
            {"metric": "sensitive_held_shar"},
            "fact[0].metric: unknown metric 'sensitive_held_shar': not a "
            "Result.summary key, network.<key> or categories.<category>.<column>; did you "
            "mean 'sensitive_held_share'?",
        ),
        (
            {"criterion": "within"},
            "fact[0].criterion: Input should be 'near', 'at_least', 'at_most', 'between', "
            "'above' or 'below' (got \"within\")",
        ),
    ],
)
def test_bad_facts_are_named_exactly(change, expected):
    fact = {k: v for k, v in {**FACT, **change}.items() if v is not None}
    found = problems(catalogue(fact))
    assert found == [expected]


def test_repeated_ids_inverted_bands_and_self_comparisons_are_refused():
    between = {**FACT, "id": "b", "criterion": "between", "low": 0.5, "high": 0.4}
    del between["value"], between["tolerance"]
    assert problems(catalogue(between)) == ["fact[0]: between: low (0.5) is above high (0.4)"]
    same = {**FACT, "criterion": "above", "than": FACT["scenario"]}
    del same["value"], same["tolerance"]
    assert problems(catalogue(same)) == [
        "fact[0]: than: 'china-weibo-2013' is the fact's own scenario"
    ]
    assert problems(catalogue(FACT, FACT)) == [
        "(top level): fact ids must be unique; repeated: held"
    ]


def _fact(**kw) -> fx.Fact:
    base = {k: v for k, v in FACT.items() if k not in ("value", "tolerance")}
    return fx.Fact.model_validate({**base, **kw})


def test_the_verdict_reads_the_mean_and_certain_reads_the_interval():
    near = _fact(value=0.4, tolerance=0.05)
    assert fx._judge(near, 0.42, 0.37, 0.44) == (True, True)
    assert fx._judge(near, 0.42, 0.30, 0.50) == (True, False)  # interval leaves the band
    assert fx._judge(near, 0.50, 0.47, 0.53) == (False, True)  # interval misses it wholly
    assert fx._judge(near, 0.50, 0.40, 0.60) == (False, False)
    assert fx._judge(near, math.nan, math.nan, math.nan) == (False, False)
    least = _fact(criterion="at_least", value=0.5)
    assert fx._judge(least, 0.6, 0.55, 0.65) == (True, True)
    assert fx._judge(least, 0.6, 0.45, 0.75) == (True, False)
    assert fx._judge(least, 0.6, math.nan, math.nan) == (True, False)  # one replicate
    above = _fact(criterion="above", than="eu-dsa")
    assert fx._judge(above, 0.1, 0.05, 0.15) == (True, True)
    assert fx._judge(above, -0.1, -0.2, 0.01) == (False, False)


def test_evaluate_pairs_replicates_for_comparisons():
    cat = fx.validate_catalogue(
        catalogue(
            {**FACT, "id": "near"},
            {
                **{k: v for k, v in FACT.items() if k not in ("value", "tolerance")},
                "id": "cmp",
                "criterion": "below",
                "than": "eu-dsa",
            },
        )
    )
    values = {
        ("china-weibo-2013", "sensitive_held_share"): [0.38, 0.40, 0.42],
        ("eu-dsa", "sensitive_held_share"): [0.50, 0.52, 0.54],
    }
    near, cmp = fx.evaluate(cat, values)
    assert near["mean"] == pytest.approx(0.40)
    assert near["verdict"] == "pass"
    assert near["n"] == 3
    assert cmp["mean"] == pytest.approx(-0.12)  # paired differences, all -0.12
    assert cmp["ci_low"] == pytest.approx(-0.12)
    assert cmp["ci_high"] == pytest.approx(-0.12)
    assert (cmp["verdict"], cmp["certain"], cmp["criterion"]) == ("pass", True, "< eu-dsa")


def test_category_metrics_read_a_column_or_a_ratio_and_are_checked():
    rows = {"criticism": {"removed": 5, "posts": 20}}
    assert fx.metric_value({}, None, "categories.criticism.removed/posts", rows) == 0.25
    assert fx.metric_value({}, None, "categories.criticism.posts", rows) == 20.0
    assert math.isnan(fx.metric_value({}, None, "categories.rumor.posts", rows))
    bad = {**FACT, "metric": "categories.critic.posts"}
    assert problems(catalogue(bad))[0].startswith(
        "fact[0].metric: 'categories.critic.posts': unknown category 'critic' "
        "(categories: daily_life, commerce,"
    )
    bad = {**FACT, "metric": "categories.criticism.removed/post"}
    assert problems(catalogue(bad))[0].startswith(
        "fact[0].metric: 'categories.criticism.removed/post': unknown column "
        "'post' of Result.categories (columns: intents,"
    )


def test_than_metric_compares_two_outputs_of_one_scenario():
    fact = {k: v for k, v in FACT.items() if k not in ("value", "tolerance")}
    fact |= {"criterion": "above", "metric": "categories.collective_action.removed/posts"}
    fact |= {"than_metric": "categories.criticism.removed/posts"}
    cat = fx.validate_catalogue(catalogue(fact))
    values = {
        ("china-weibo-2013", "categories.collective_action.removed/posts"): [0.5, 0.6],
        ("china-weibo-2013", "categories.criticism.removed/posts"): [0.1, 0.1],
    }
    (row,) = fx.evaluate(cat, values)
    assert row["mean"] == pytest.approx(0.45)
    assert row["verdict"] == "pass"
    assert row["criterion"] == "> categories.criticism.removed/posts"
    both = {**fact, "than": "eu-dsa"}
    assert problems(catalogue(both)) == [
        "fact[0]: criterion 'above' takes 'than' (another scenario) or "
        "'than_metric' (another output), not both"
    ]


def test_network_metrics_read_nested_keys():
    net = {"reciprocity": 0.25, "in_degree_tail": {"alpha": 2.4}}
    assert fx.metric_value({}, net, "network.reciprocity") == 0.25
    assert fx.metric_value({}, net, "network.in_degree_tail.alpha") == 2.4
    assert math.isnan(fx.metric_value({}, net, "network.missing"))
    assert fx.metric_value({"order_score": 0.5}, None, "order_score") == 0.5


def test_the_shipped_catalogue_names_only_presets_and_has_sources():
    cat, label, folder = fx.load_catalogue()
    assert (label, folder) == ("shipped:literature", None)
    assert set(cat.scenarios()) <= set(preset_names())
    assert len(cat.fact) >= 15
    assert all(f.reference and f.statement for f in cat.fact)
    assert any(f.calibration for f in cat.fact)
    assert any(not f.calibration for f in cat.fact)


def _write(tmp_path: Path, *facts: dict) -> Path:
    import tomli_w

    path = tmp_path / "mine.toml"
    path.write_text(tomli_w.dumps(catalogue(*facts, users=300, days=1.0, replicates=2)))
    return path


PASSING = {
    "id": "order",
    "statement": "A moderated platform removes posts; an unmoderated one does not.",
    "reference": "a test",
    "scenario": "eu-dsa",
    "than": "laissez-faire",
    "metric": "removed_share",
    "criterion": "above",
}


def test_the_command_writes_a_page_and_exits_3_when_a_fact_fails(tmp_path):
    failing = {**FACT, "id": "impossible", "scenario": "laissez-faire", "metric": "order_score"}
    failing |= {"value": 2.0, "tolerance": 0.1}
    path = _write(tmp_path, PASSING, failing)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["facts", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 3, result.output
    assert "passed 1 of 2" in result.output
    data = json.loads((out / "facts.json").read_text())
    verdicts = {r["id"]: r["verdict"] for r in data["facts"]}
    assert verdicts == {"order": "pass", "impossible": "fail"}
    assert (data["users"], data["days"], len(data["seeds"])) == (300, 1.0, 2)
    page = (out / "facts.html").read_text()
    assert 'id="impossible"' in page
    assert "Passed: <b>1 of 2</b>" in page


def test_the_command_exits_0_when_every_fact_passes(tmp_path):
    result = CliRunner().invoke(main, ["facts", str(_write(tmp_path, PASSING)), "--json", "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["all_passed"] == 1


def test_a_bad_catalogue_exits_2_and_writes_nothing(tmp_path):
    path = _write(tmp_path, {**FACT, "metric": "nope"})
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["facts", str(path), "--out", str(out)])
    assert result.exit_code == 2
    assert "fact[0].metric: unknown metric 'nope'" in result.output
    assert not out.exists()
    missing = {**PASSING, "scenario": "regimes/mine.toml"}
    result = CliRunner().invoke(main, ["facts", str(_write(tmp_path, missing)), "--out", str(out)])
    assert result.exit_code == 2
    assert f"scenario 'regimes/mine.toml': no file {tmp_path / 'regimes/mine.toml'}" in (
        result.output
    )
    assert not out.exists()
    result = CliRunner().invoke(main, ["facts", "no-such-catalogue"])
    assert result.exit_code == 2
    assert "'no-such-catalogue' is neither a shipped catalogue (literature) nor a file" in (
        result.output
    )


def test_the_shipped_catalogue_runs_at_a_small_size(tmp_path):
    out = tmp_path / "out"
    args = ["facts", "--users", "500", "--days", "1", "--replicates", "2", "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "-q"])
    assert result.exit_code in (0, 3), result.output  # a failing fact is a result
    data = json.loads((out / "facts.json").read_text())
    cat, _, _ = fx.load_catalogue()
    assert [r["id"] for r in data["facts"]] == [f.id for f in cat.fact]
    assert data["all_total"] == len(cat.fact)
    assert (result.exit_code == 0) == (data["all_passed"] == data["all_total"])
    measured = [r for r in data["facts"] if r["n"] > 0]
    assert len(measured) >= len(cat.fact) - 3  # a 1-day run may have no appeal or deletion
