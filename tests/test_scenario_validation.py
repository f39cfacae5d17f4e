"""Bad settings are refused by `load_scenario` before any work, with exact messages."""

from __future__ import annotations

import pytest

import tightrope
from tightrope import InputError

PRESET = "china-weibo-2013"
PLATFORMS = "(defined: weibo, wechat, foreign)"


def problems(overrides=(), source=PRESET) -> InputError:
    with pytest.raises(InputError) as info:
        tightrope.load_scenario(source, list(overrides))
    return info.value


@pytest.mark.parametrize(
    ("override", "line"),
    [
        ("run.users=-5", "run.users: Input should be greater than or equal to 1 (got -5)"),
        ("run.seed=-1", "run.seed: Input should be greater than or equal to 0 (got -1)"),
        (
            "platforms.weibo.moderation.reviewers_per_100k_users=-1",
            "platforms.weibo.moderation.reviewers_per_100k_users: "
            "Input should be greater than or equal to 0 (got -1)",
        ),
        (
            "state.identity.real_name=1.5",
            "state.identity.real_name: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            "state.access.vpn_crackdown=-0.1",
            "state.access.vpn_crackdown: Input should be greater than or equal to 0 (got -0.1)",
        ),
    ],
)
def test_negative_counts_and_shares_outside_unit_interval(override, line):
    err = problems([override])
    assert err.what == f"{PRESET} is not valid"
    assert err.problems == [line]
    assert str(err) == f"{PRESET} is not valid:\n  - {line}"


@pytest.mark.parametrize(
    ("override", "line"),
    [
        (
            "state.access.blocked=['twitter']",
            f"state.access.blocked[0]: platform 'twitter' is not defined {PLATFORMS}",
        ),
        (
            "events=[{kind='block', day=1.0, platform='nope'}]",
            f"events[0].platform: platform 'nope' is not defined {PLATFORMS}",
        ),
        (
            "state.jurisdiction=['weibo', 'tiktok']",
            f"state.jurisdiction[1]: platform 'tiktok' is not defined {PLATFORMS}",
        ),
    ],
)
def test_undefined_platform_references(override, line):
    err = problems([override])
    assert err.what == f"{PRESET} is not valid"
    assert err.problems == [line]


def test_unknown_override_path_did_you_mean():
    err = problems(["state.rulebok.precision=0.5"])
    assert err.what == "bad --set option"
    assert err.problems == [
        "--set state.rulebok.precision: unknown setting 'state.rulebok'; did you mean 'rulebook'?"
    ]


def test_unknown_keys_in_a_mapping_did_you_mean():
    err = problems(source={"stat": {}})
    assert err.problems == ["stat: unknown setting; did you mean 'state'?"]
    raw = {"platforms": {"a": {"moderation": {"reviewrs_per_100k_users": 1}}}}
    err = problems(source=raw)
    assert err.what == "scenario is not valid"
    assert err.problems == [
        "platforms.a.moderation.reviewrs_per_100k_users: unknown setting; "
        "did you mean 'reviewers_per_100k_users'?"
    ]


def test_every_field_problem_listed_at_once():
    err = problems(source={"run": {"users": -3}, "state": {"identity": {"real_name": 2}}})
    assert err.problems == [
        "run.users: Input should be greater than or equal to 1 (got -3)",
        "state.identity.real_name: Input should be less than or equal to 1 (got 2)",
    ]


def test_tick_minutes_must_divide_a_day():
    err = problems(["run.tick_minutes=7"])
    assert len(err.problems) == 1
    assert err.problems[0].startswith("run.tick_minutes: must divide a day of 1440 minutes")
    for ok in (30, 60, 120, 1440):
        tightrope.load_scenario(PRESET, [f"run.tick_minutes={ok}"])


def test_diurnal_needs_24_values():
    err = problems(["population.diurnal=[1.0, 2.0]"])
    assert len(err.problems) == 1
    assert err.problems[0].startswith("population.diurnal: must have 24 hourly values, not 2")


def test_validator_messages_are_exact():
    assert problems(["run.tick_minutes=7"]).problems == [
        "run.tick_minutes: must divide a day of 1440 minutes (for example 15, 30, 60 or 1440)"
        " (got 7)"
    ]
    assert problems(["population.diurnal=[1.0, 2.0]"]).problems == [
        "population.diurnal: must have 24 hourly values, not 2 (got [1.0, 2.0])"
    ]
    assert problems([f"population.diurnal={[0.0] * 24}"]).problems == [
        f"population.diurnal: must have at least one positive value (got {[0.0] * 24})"
    ]


def test_field_and_validator_problems_listed_together():
    err = problems(source={"run": {"users": -3, "tick_minutes": 7}})
    assert err.problems == [
        "run.users: Input should be greater than or equal to 1 (got -3)",
        "run.tick_minutes: must divide a day of 1440 minutes (for example 15, 30, 60 or 1440)"
        " (got 7)",
    ]
    err = problems(source={"run": {"users": 0}, "population": {"diurnal": [1.0, 2.0]}})
    assert err.problems == [
        "run.users: Input should be greater than or equal to 1 (got 0)",
        "population.diurnal: must have 24 hourly values, not 2 (got [1.0, 2.0])",
    ]


def test_refused_before_any_work(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("a simulation was started")

    monkeypatch.setattr(tightrope.Simulation, "__init__", boom)
    problems(["state.access.blocked=['twitter']", "run.users=-1"])


def test_platform_order_is_part_of_the_config_hash() -> None:
    """Platforms are indexed in file order, which changes the draws: the hash must see it."""
    from tightrope.scenario_files import config_sha256

    sc = tightrope.load_scenario("china-weibo-2013")
    raw = sc.model_dump(mode="json")
    raw["platforms"] = dict(reversed(list(raw["platforms"].items())))
    swapped = tightrope.load_scenario(raw)
    assert list(swapped.platforms) == list(reversed(list(sc.platforms)))
    assert config_sha256(swapped) != config_sha256(sc)
    assert config_sha256(tightrope.load_scenario(sc.model_dump(mode="json"))) == config_sha256(sc)
