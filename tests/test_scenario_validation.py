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


def test_refused_before_any_work(monkeypatch, tmp_path):
    """`tightrope run` with bad settings exits 2 before any simulation is built or run: a
    command that started the engine first would hit the patched engine and exit 1."""
    from click.testing import CliRunner

    from tightrope.cli import main
    from tightrope.engine import driver

    started: list[str] = []

    def boom(*args, **kwargs):
        started.append("engine")
        raise AssertionError("a simulation was started")

    monkeypatch.setattr(tightrope.Simulation, "__init__", boom)
    monkeypatch.setattr(driver, "run", boom)
    out = tmp_path / "out"
    args = ["run", "eu-dsa", "--set", "state.access.blocked=['twitter']", "--set", "run.users=-1"]
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "run.users" in result.output
    assert started == []
    assert not out.exists()


def test_platform_order_is_part_of_the_config_hash() -> None:
    """Platforms are indexed in file order, which changes the draws: the hash must see it."""
    from tightrope.scenario.files import config_sha256

    sc = tightrope.load_scenario("china-weibo-2013")
    raw = sc.model_dump(mode="json")
    raw["platforms"] = dict(reversed(list(raw["platforms"].items())))
    swapped = tightrope.load_scenario(raw)
    assert list(swapped.platforms) == list(reversed(list(sc.platforms)))
    assert config_sha256(swapped) != config_sha256(sc)
    assert config_sha256(tightrope.load_scenario(sc.model_dump(mode="json"))) == config_sha256(sc)


# ---------------------------------------------------------------- issue 17: nonsense input


def invoke(*args: object):
    from click.testing import CliRunner

    from tightrope.cli.app import main

    return CliRunner().invoke(main, [str(a) for a in args])


def refused_by_the_cli(scenario: object, lines: list[str], tmp_path, *args: object) -> None:
    """`validate` and `run` exit 2 with every line, and `run` writes nothing to --out."""
    text = f"error: {scenario} is not valid:\n" + "".join(f"  - {line}\n" for line in lines)
    if not args:
        result = invoke("validate", scenario)
        assert (result.exit_code, result.output) == (2, text)
    out = tmp_path / "out"
    result = invoke("run", scenario, *args, "--out", out)
    assert (result.exit_code, result.output) == (2, text)
    assert not out.exists()


EU = "(have: microblog, messaging, foreign)"


def test_a_misspelt_platform_table_is_refused_and_a_new_one_says_so(tmp_path):
    """Item 5: a table that extends a preset adds a platform only with `new = true`."""
    f = tmp_path / "typo.toml"
    f.write_text(
        'extends = "eu-dsa"\n'
        "[platforms.microblg.moderation]\nreviewers_per_100k_users = 6.0\n"
        "[platforms.tiktok]\nadoption = 0.3\n"
    )
    lines = [
        f"platforms.microblg: unknown setting 'platforms.microblg': no such entry in eu-dsa "
        f"{EU}; did you mean 'microblog'? Or, to add a platform, write new = true in "
        "[platforms.microblg]",
        f"platforms.tiktok: unknown setting 'platforms.tiktok': no such entry in eu-dsa {EU}; "
        "to add a platform, write new = true in [platforms.tiktok]",
    ]
    err = problems(source=f)
    assert (err.what, err.problems) == (f"{f} is not valid", lines)
    refused_by_the_cli(f, lines, tmp_path)
    # --set gives the same "did you mean"
    err = problems(["platforms.microblg.moderation.reviewers_per_100k_users=1"], source="eu-dsa")
    assert err.problems == [
        "--set platforms.microblg.moderation.reviewers_per_100k_users: unknown setting "
        f"'platforms.microblg': no such entry {EU}; did you mean 'microblog'?"
    ]
    # on purpose: new = true adds it on the table's settings and the defaults
    f.write_text('extends = "eu-dsa"\n[platforms.video]\nnew = true\nadoption = 0.3\n')
    sc = tightrope.load_scenario(f)
    assert list(sc.platforms) == ["microblog", "messaging", "foreign", "video"]
    assert sc.platforms["video"] == tightrope.scenario.schema.Platform(adoption=0.3)
    # a file extending that file changes the platform without saying new again
    g = tmp_path / "more.toml"
    g.write_text(f'extends = "{f}"\n[platforms.video]\nappeal = 0.9\n')
    assert tightrope.load_scenario(g).platforms["video"].appeal == 0.9
    # new = true on a platform the preset has, or a mark that is not true or false
    f.write_text(
        'extends = "eu-dsa"\n[platforms.microblog]\nnew = true\n[platforms.video]\nnew = "yes"\n'
    )
    assert problems(source=f).problems == [
        "platforms.microblog.new: eu-dsa already has a platform 'microblog'; leave out "
        "new = true to change it, or give the new platform another name",
        'platforms.video.new: must be true or false (got "yes")',
        f"platforms.video: unknown setting 'platforms.video': no such entry in eu-dsa {EU}; "
        "to add a platform, write new = true in [platforms.video]",
    ]


def test_presets_and_files_without_extends_declare_platforms_freely(tmp_path):
    for name in tightrope.preset_names():
        tightrope.load_scenario(name)
    f = tmp_path / "own.toml"
    f.write_text("[platforms.a]\nadoption = 0.4\n[platforms.b]\nnew = true\n")
    assert list(tightrope.load_scenario(f).platforms) == ["a", "b"]


def test_a_run_shorter_than_one_tick_or_longer_than_ten_years_is_refused(tmp_path):
    """Item 7: --days 0.01 would run 0 ticks; --days 1e9 would never end."""
    short = (
        "run.days: 0.01 days is shorter than one tick of 60 minutes (run.tick_minutes); "
        "a run needs at least one tick: 0.04167 days or more"
    )
    with pytest.raises(InputError) as err:
        tightrope.load_scenario(PRESET, days=0.01)
    assert err.value.problems == [short]
    refused_by_the_cli(PRESET, [short], tmp_path, "--days", "0.01")
    assert problems(["run.tick_minutes=1440", "run.days=0.5"]).problems == [
        "run.days: 0.5 days is shorter than one tick of 1440 minutes (run.tick_minutes); "
        "a run needs at least one tick: 1 day or more"
    ]
    assert tightrope.load_scenario(PRESET, days=1 / 24).run.days == 1 / 24  # one tick is fine
    long = (
        "run.days: at most 3650 days (ten years): the population has no births, deaths or "
        "newcomers and the regime's settings stay as written, so a longer run has no meaning "
        "(got 1000000000.0)"
    )
    with pytest.raises(InputError) as err:
        tightrope.load_scenario(PRESET, days=1e9)
    assert err.value.problems == [long]
    refused_by_the_cli(PRESET, [long], tmp_path, "--days", "1e9")
    tightrope.load_scenario(PRESET, days=3650)


def test_an_event_after_the_end_of_the_run_is_refused(tmp_path):
    """Item 7: a file's events must start before its run ends."""
    f = tmp_path / "late.toml"
    f.write_text(
        'extends = "eu-dsa"\n[run]\ndays = 7\n'
        '[[events]]\nkind = "scandal"\nday = 6.5\n'  # replaces the preset's events
        '[[events]]\nkind = "campaign"\nday = 7\n'
        '[[events]]\nkind = "law"\nday = 12.25\nprohibit = ["rumor"]\n'
    )
    lines = [
        f"events[{i}].day: the event is on day {day}, but the run ends at day 7 "
        "(run.days = 7); an event must start before the end: move or remove it, or "
        "lengthen the run"
        for i, day in ((1, "7"), (2, "12.25"))
    ]
    err = problems(source=f)
    assert (err.what, err.problems) == (f"{f} is not valid", lines)
    refused_by_the_cli(f, lines, tmp_path)
    # a run shortened after the events were written simply ends before those it does not
    # reach: by the caller, or by a file that extends the one with the events (as the
    # calibrated preset shortens china-weibo-2013's run to the 5 days it was fitted at)
    assert len(tightrope.load_scenario(f, days=3).events) == 3
    assert len(tightrope.load_scenario(f, ["run.days=3"]).events) == 3
    assert len(tightrope.load_scenario(f, days=13).events) == 3
    assert len(tightrope.load_scenario(PRESET, days=1).events) == 2  # the preset's, day 10, 20
    assert tightrope.load_scenario("china-weibo-2012-calibrated").run.days == 5
    f.write_text('extends = "eu-dsa"\n[run]\ndays = 7\n')
    assert [e.day for e in tightrope.load_scenario(f).events] == [10, 20]
    # events given by the caller are checked against the run
    err = problems(["events=[{kind='scandal', day=8.0}]"], source=f)
    assert err.problems == [lines[0].replace("[1]", "[0]").replace("day 7,", "day 8,")]
    err = problems(["events=[{kind='scandal', day=2.0}]", "run.days=1"], source=f)
    assert err.problems == [
        "events[0].day: the event is on day 2, but the run ends at day 1 (run.days = 1); an "
        "event must start before the end: move or remove it, or lengthen the run"
    ]


def test_account_kinds_are_shares_that_add_up_to_one(tmp_path):
    """Item 7: shares, not weights, adding up to 1, with `ordinary` the rest."""
    f = tmp_path / "kinds.toml"
    f.write_text('extends = "eu-dsa"\n[population.kinds]\nbad_actor = 1.5\n')
    line = "population.kinds.bad_actor: Input should be less than or equal to 1 (got 1.5)"
    assert problems(source=f).problems == [line]
    refused_by_the_cli(f, [line], tmp_path)
    # changing other kinds makes ordinary the rest: in a file that extends a preset ...
    f.write_text('extends = "eu-dsa"\n[population.kinds]\nbad_actor = 0.05\n')
    kinds = tightrope.load_scenario(f).population.kinds
    assert (kinds.ordinary, kinds.bad_actor) == (0.9075, 0.05)  # eu-dsa: spammer 0.005
    # ... with --set, in a table that leaves ordinary out, or with ordinary = "rest"
    sc = tightrope.load_scenario("eu-dsa", ["population.kinds.bad_actor=0.5"])
    assert sc.population.kinds.ordinary == 0.4575
    sc = tightrope.load_scenario({"population": {"kinds": {"bad_actor": 0.02}}})
    assert sc.population.kinds.ordinary == 0.94
    f.write_text('[population.kinds]\nordinary = "rest"\nofficial = 0.0\n')
    assert tightrope.load_scenario(f).population.kinds.ordinary == 0.953
    # shares written that do not add up to 1, or others that leave nothing for ordinary
    assert problems(["population.kinds.ordinary=0.9"], source="eu-dsa").problems == [
        "population.kinds: the shares of the kinds of account must add up to 1, not 0.9525; "
        'leave out ordinary, or write ordinary = "rest", to make it 1 minus the others'
    ]
    f.write_text('extends = "eu-dsa"\n[population.kinds]\ncommercial = 0.6\nbad_actor = 0.6\n')
    lines = [
        "population.kinds: the kinds other than ordinary add up to 1.2125, more than 1, which "
        "leaves nothing for ordinary (the shares are each in [0, 1] and add up to 1)"
    ]
    assert problems(source=f).problems == lines
    refused_by_the_cli(f, lines, tmp_path)
    zero = dict.fromkeys(tightrope.scenario.schema.KindShares.model_fields, 0.0)
    assert problems(source={"population": {"kinds": zero}}).problems == [
        "population.kinds: the shares must not all be zero"
    ]
    # the presets' shares already add up to 1: their configs are unchanged
    assert tightrope.load_scenario("eu-dsa").population.kinds.ordinary == 0.9475
