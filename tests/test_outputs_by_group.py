"""Outputs by platform and day, by region and by cohort (docs/model.md 11.7-11.9): their
columns and types, the invariants that tie them to the time series, the summary and the
users on small runs of any preset, the per-user counters behind them, storage and
read-back, integrity checks, a checkpoint resumed mid-day, the report, and one direction
(punished users criticise less after their punishment)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tightrope
from tightrope.core.world import COHORT_FOLLOWERS, COHORT_OTHERS, COHORT_PUNISHED, COHORTS
from tightrope.engine import checkpoints
from tightrope.engine.driver import run
from tightrope.engine.simulation import Simulation
from tightrope.errors import InputError
from tightrope.report.html import load_results, write_report
from tightrope.results import storage
from tightrope.results.result import (
    COHORT_COLUMNS,
    PLATFORM_DAY_COLUMNS,
    REGION_COLUMNS,
    column_type,
)

T0 = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
T1 = T0 + timedelta(seconds=3)
PRESET = "china-weibo-2013"  # punishment, a blocked foreign platform reached by VPN
HARSH = ["state.punishment.severity=1.0"]  # more punished users, within a short run
REGIONS = ["network.regions=[0.5, 0.3, 0.2]"]  # the presets have one region
TABLES = ("platform_days", "regions", "cohorts")
COLUMNS = {"platform_days": PLATFORM_DAY_COLUMNS, "regions": REGION_COLUMNS,
           "cohorts": COHORT_COLUMNS}  # fmt: skip


@pytest.fixture(scope="module")
def sim() -> Simulation:
    """A run of 2.5 days (a part day at the end), kept as a Simulation for its users."""
    sc = tightrope.load_scenario(PRESET, [*HARSH, *REGIONS], users=2000, days=2.5, seed=11)
    s = Simulation(sc)
    while s.t < s.n_ticks:
        s.step()
    return s


@pytest.fixture(scope="module")
def result(sim: Simulation) -> tightrope.Result:
    return sim.result()


def _column(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


def _total(table: pa.Table, name: str) -> float:
    return float(pc.sum(table.column(name)).as_py() or 0)


# ---------------------------------------------------------------- columns and types


@pytest.mark.parametrize("name", TABLES)
def test_columns_and_types(result: tightrope.Result, name: str) -> None:
    table = getattr(result, name)
    assert tuple(table.column_names) == COLUMNS[name]
    for column in COLUMNS[name]:
        assert table.schema.field(column).type == column_type(column), column
    assert table.num_rows > 0
    for column in COLUMNS[name]:
        if table.schema.field(column).type == pa.int64():
            assert pc.min(table.column(column)).as_py() >= 0, column


def test_column_types_are_as_documented() -> None:
    assert column_type("platform") == column_type("cohort") == pa.string()
    for c in ("mean_fear", "user_days_before", "criticism_per_user_day_after"):
        assert column_type(c) == pa.float64()
    for c in ("day", "ticks", "vpn_users", "punished_users", "posts_after"):
        assert column_type(c) == pa.int64()


def test_an_empty_result_has_empty_tables() -> None:
    res = tightrope.Result(None, 0, "", {}, pa.table({}), pa.table({}), pa.table({}))  # type: ignore[arg-type]
    for name in TABLES:
        table = getattr(res, name)
        assert table.num_rows == 0
        assert tuple(table.column_names) == COLUMNS[name]


# ---------------------------------------------------------------- invariants


def check_invariants(res: tightrope.Result, sim: Simulation | None = None) -> None:
    """What ties the tables by platform-day, region and cohort to the time series, the
    summary, the categories and the users of the same run."""
    ts, s, cat = res.timeseries, res.summary, res.categories
    n = res.meta["users"]
    sc = res.scenario
    L = sc.run.tick_minutes
    ticks = res.meta["ticks"]
    end = ticks * L
    posts = s["posts"]
    criticism = cat.column("posts")[list(cat.column("category").to_pylist()).index("criticism")]
    criticism = criticism.as_py()
    # by platform and day: every day once per platform, counts add up to the run's
    pd_ = res.platform_days
    names = list(sc.platforms)
    days = math.ceil(end / 1440)
    assert pd_.num_rows == days * len(names)
    assert _column(pd_, "day").tolist() == [d for d in range(days) for _ in names]
    assert pd_.column("platform").to_pylist() == names * days
    assert _total(pd_, "ticks") == ticks * len(names)
    assert _total(pd_, "posts") == posts == _total(ts, "posts")
    assert _total(pd_, "views") == _total(ts, "views")
    assert _total(pd_, "removed") == _total(ts, "removed")
    assert (_column(pd_, "vpn_users") <= _column(pd_, "members")).all()
    assert (_column(pd_, "active_users") <= _column(pd_, "members")).all()
    assert (_column(pd_, "members") <= n).all()
    plat = res.platforms.to_pylist()  # active users at the end of each day: its last tick
    for row in pd_.to_pylist():
        last = min((row["day"] + 1) * 1440 // L, ticks) - 1
        match = [r for r in plat if r["tick"] == last and r["platform"] == row["platform"]]
        assert row["active_users"] == match[0]["active_users"]
        assert row["blocked"] == match[0]["blocked"]
    # by region: users, posts, removals add up
    reg = res.regions
    assert _total(reg, "users") == n
    assert _total(reg, "posts") == posts
    assert _total(reg, "criticism_posts") == criticism
    assert _total(reg, "removals") == _total(ts, "removed")
    assert _total(reg, "punished_users") <= s["punished"]
    assert (_column(reg, "criticism_posts") <= _column(reg, "posts")).all()
    assert _total(reg, "vpn_users") == ts.column("vpn_users")[-1].as_py()
    users = _column(reg, "users")
    fear = np.nan_to_num(np.array(reg.column("mean_fear").to_pylist(), dtype=float))
    assert (fear * users).sum() == pytest.approx(ts.column("mean_fear")[-1].as_py() * n)
    # cohorts: a partition of the users; posts before and after add up to all posts
    coh = res.cohorts
    assert coh.column("cohort").to_pylist() == list(COHORTS)
    assert _total(coh, "users") == n
    assert _total(coh, "posts_before") + _total(coh, "posts_after") == posts
    assert _total(coh, "criticism_before") + _total(coh, "criticism_after") == criticism
    punished, followers, _others = coh.to_pylist()
    assert punished["users"] == _total(reg, "punished_users")
    assert followers["users"] <= _total(reg, "witnesses")
    assert punished["users"] + followers["users"] >= _total(reg, "witnesses")
    for row in coh.to_pylist():
        both = row["user_days_before"] + row["user_days_after"]
        assert both == pytest.approx(row["users"] * end / 1440)
        for what in ("posts", "criticism"):
            for when in ("before", "after"):
                days_ = row[f"user_days_{when}"]
                rate = row[f"{what}_per_user_day_{when}"]
                if days_ > 0:
                    assert rate == pytest.approx(row[f"{what}_{when}"] / days_)
                else:
                    assert rate is None
                    assert row[f"{what}_{when}"] == 0
    if s["punished"] == 0:  # nobody punished: every user is an "other", all before
        assert punished["users"] == followers["users"] == 0
        assert _total(coh, "posts_after") == _total(coh, "user_days_after") == 0
    if sim is not None:
        check_users(sim)


def check_users(sim: Simulation) -> None:
    """Each user is in exactly one cohort, the one their punishments say; their counters
    are consistent."""
    pe = sim.people
    want = np.where(
        pe.punished_at >= 0,
        COHORT_PUNISHED,
        np.where(pe.witnessed_at >= 0, COHORT_FOLLOWERS, COHORT_OTHERS),
    )
    assert np.array_equal(pe.cohort, want)
    anyone = bool((pe.punished_at >= 0).any())
    assert ((pe.cohort_split >= 0) == anyone).all()  # everyone is split once someone is
    L = sim.scenario.run.tick_minutes
    split = pe.cohort_split[pe.cohort_split >= 0]
    assert (split % L == 0).all()
    assert (split <= sim.t * L).all()
    # a user's split is the end of the tick of their own event (others: the run's first);
    # the event's minute is stamped within that tick, or at its end (the inspection), or
    # a little after (a review that started in the tick)
    for k, at in ((COHORT_PUNISHED, pe.punished_at), (COHORT_FOLLOWERS, pe.witnessed_at)):
        m = pe.cohort == k
        assert ((at[m] // L) * L <= pe.cohort_split[m]).all()
        assert (pe.cohort_split[m] <= (at[m] // L + 1) * L).all()
    if anyone:
        first = pe.punished_at[pe.punished_at >= 0].min()
        others = pe.cohort_split[pe.cohort == COHORT_OTHERS]
        assert np.unique(others).size <= 1
        assert ((first // L) * L <= others).all()
        assert (others <= (first // L + 1) * L).all()
    assert (pe.posts_after <= pe.posts_made).all()
    assert (pe.criticism_after <= pe.criticism_made).all()
    assert (pe.criticism_made <= pe.posts_made).all()
    assert (pe.criticism_after <= pe.posts_after).all()


def test_invariants_of_the_module_run(result: tightrope.Result, sim: Simulation) -> None:
    check_invariants(result, sim)
    assert result.summary["punished"] > 0
    assert result.cohorts.column("users")[0].as_py() > 0  # someone was punished
    half_day = 720 // result.scenario.run.tick_minutes
    assert result.platform_days.column("ticks").to_pylist()[-1] == half_day  # a part day
    assert result.regions.column("users").to_pylist() == [1000, 600, 400]


def test_vpn_users_of_a_blocked_platform_are_those_who_reach_it(sim: Simulation) -> None:
    res = sim.result()
    last = res.platform_days.to_pylist()[-len(sim.names) :]
    for j, row in enumerate(last):
        if row["blocked"]:
            assert row["vpn_users"] > 0  # china-weibo-2013: the foreign platform, by VPN
            assert row["active_users"] <= row["vpn_users"]
        assert row["members"] == int(((sim.people.member >> j) & 1).sum())


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    preset=st.sampled_from(tightrope.preset_names()),
    overrides=st.sampled_from([[], HARSH, [*HARSH, *REGIONS]]),
    users=st.integers(300, 1200),
    days=st.sampled_from([1.0, 1.5]),
    seed=st.integers(0, 2**31),
)
def test_invariants_hold_on_small_runs(
    preset: str, overrides: list[str], users: int, days: float, seed: int
) -> None:
    sc = tightrope.load_scenario(preset, overrides, users=users, days=days, seed=seed)
    s = Simulation(sc)
    while s.t < s.n_ticks:
        s.step()
    check_invariants(s.result(), s)


def test_the_counters_change_no_other_output(result: tightrope.Result) -> None:
    """Asking for the tables mid-run leaves the run as it was."""
    sc = tightrope.load_scenario(PRESET, [*HARSH, *REGIONS], users=2000, days=2.5, seed=11)
    s = Simulation(sc)
    for _ in range(30):
        s.step()
    s.result()
    while s.t < s.n_ticks:
        s.step()
    again = s.result()
    for name in ("timeseries", "platforms", "categories", *TABLES):
        assert getattr(again, name).equals(getattr(result, name)), name


def test_a_run_resumed_mid_day_counts_alike(result: tightrope.Result, tmp_path: Path) -> None:
    sc = tightrope.load_scenario(PRESET, [*HARSH, *REGIONS], users=2000, days=2.5, seed=11)
    s = Simulation(sc)
    for _ in range(37):  # a checkpoint in the middle of day 1
        s.step()
    ck = checkpoints.save_checkpoint(s, tmp_path / "mid.ckpt")
    resumed = run(sc, checkpoint=ck, resume=True)
    for name in TABLES:
        assert getattr(resumed, name).equals(getattr(result, name)), name


# ---------------------------------------------------------------- a direction


def test_punished_users_criticise_less_after_their_punishment() -> None:
    # seed 2: since the preset has spammers, seed 1 punishes 5 users, none of whom had
    # posted criticism before (11 here, 8 with seed 1 before)
    sc = tightrope.load_scenario(PRESET, HARSH, users=3000, days=3, seed=2)
    punished = tightrope.run(sc).cohorts.to_pylist()[0]
    assert punished["cohort"] == "punished"
    assert punished["users"] >= 5
    assert punished["user_days_after"] > 0
    before = punished["criticism_per_user_day_before"]
    after = punished["criticism_per_user_day_after"]
    assert before > 0
    assert after < before


# ---------------------------------------------------------------- storage and report


def _stored(result: tightrope.Result, root: Path) -> Path:
    return storage.save_run(result, root, started_at=T0, finished_at=T1)


def test_stored_tables_read_back_equal(result: tightrope.Result, tmp_path: Path) -> None:
    folder = _stored(result, tmp_path)
    info = json.loads((folder / "manifest.json").read_text())
    keys = ["run_id", "scenario", "seed"]
    for name in TABLES:
        assert f"{name}.parquet" in info["files"]
        stored = pq.read_table(folder / f"{name}.parquet")
        assert stored.column_names[:3] == keys
        assert stored.drop_columns(keys).equals(getattr(result, name))
        loaded = getattr(storage, f"load_{name}")(tmp_path)  # through DuckDB: as values
        want = getattr(result, name)
        if name == "platform_days":  # read back by day, then platform name
            want = want.sort_by([("day", "ascending"), ("platform", "ascending")])
        assert loaded.drop_columns(keys).to_pylist() == want.to_pylist()
    views = storage.query(tmp_path, "SELECT CAST(sum(posts) AS BIGINT) AS p FROM regions")
    assert views.column("p").to_pylist() == [result.summary["posts"]]
    res = load_results(tmp_path)
    assert len(res.platform_days) == result.platform_days.num_rows
    assert len(res.regions) == result.regions.num_rows
    assert res.cohorts["cohort"].tolist() == list(COHORTS)


@pytest.mark.parametrize("name", ["categories", "cascades", *TABLES])
def test_a_damaged_or_missing_table_is_refused(
    result: tightrope.Result, tmp_path: Path, name: str
) -> None:
    folder = _stored(result, tmp_path / "damaged")
    path = folder / f"{name}.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(InputError) as err:
        storage.check_runs(tmp_path / "damaged")
    assert f"{name}.parquet does not match the sha256" in str(err.value.args)
    with pytest.raises(InputError):
        load_results(tmp_path / "damaged")
    with pytest.raises(InputError):  # the table's own loader checks it
        getattr(storage, f"load_{name}")(tmp_path / "damaged")
    folder = _stored(result, tmp_path / "missing")
    (folder / f"{name}.parquet").unlink()
    assert storage.run_problem(folder) == f"{name}.parquet is missing"


def test_runs_stored_before_the_tables_stay_readable(
    result: tightrope.Result, tmp_path: Path
) -> None:
    folder = _stored(result, tmp_path)
    info = json.loads((folder / "manifest.json").read_text())
    for name in TABLES:
        (folder / f"{name}.parquet").unlink()
        del info["files"][f"{name}.parquet"]
    (folder / "manifest.json").write_text(json.dumps(info))
    assert storage.run_problem(folder) is None
    for name in TABLES:
        assert getattr(storage, f"load_{name}")(tmp_path).num_rows == 0
    assert storage.load_categories(tmp_path).num_rows == len(result.categories)
    res = load_results(tmp_path)
    assert res.platform_days.empty
    assert res.regions.empty
    assert res.cohorts.empty
    text = write_report(tmp_path).read_text("utf-8")
    for title, what in (("By platform and day", "platform and day"), ("By region", "region"),
                        ("Cohorts", "cohort")):  # fmt: skip
        assert f"<h2>{title}</h2>" in text
        assert f"n/a: the runs were stored before the tables by {what} existed" in text


def test_report_has_the_sections_by_group(result: tightrope.Result, tmp_path: Path) -> None:
    _stored(result, tmp_path)
    text = write_report(tmp_path).read_text("utf-8")
    for title in ("By platform and day", "By region", "Cohorts"):
        assert f"<h2>{title}</h2>" in text, title
    for column in ("vpn_users", "members", "punished_users", "mean_fear", "user_days_before",
                   "criticism_per_user_day_after"):  # fmt: skip
        assert f"<th>{column}</th>" in text, column
    for title in ("By region", "Cohorts"):  # the users of each region and cohort are shown
        i = text.index(f"<h2>{title}</h2>")
        assert "<th>users</th>" in text[i : text.index("</section>", i)], title
    for cohort in COHORTS:
        assert f"<td>{cohort}</td>" in text, cohort
    for platform in result.scenario.platforms:
        assert f"<td>{platform}</td>" in text, platform
