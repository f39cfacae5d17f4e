"""The explorer's parts without a browser: the lever catalogue against the scenario schema,
the streaming protocol against `tightrope run`, the run manager's worker processes, the
scenario export against `tightrope validate`, and the page's checks of bad input."""

from __future__ import annotations

import json
import os
import signal
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tightrope.cli import main
from tightrope.errors import InputError
from tightrope.experiments.files import toml_value
from tightrope.explorer.levers import Lever, catalogue, lever_for, run_lever, setting_field
from tightrope.explorer.stream import RunSpec, stream_run
from tightrope.results.result import PLATFORM_COLUMNS, TIMESERIES_COLUMNS
from tightrope.results.storage import load_summaries, load_timeseries
from tightrope.scenario.files import canonical_json, load_scenario, preset_names


class Messages:
    """A channel that keeps what it is given."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put(self, item: dict[str, Any]) -> None:
        self.items.append(item)


# ---------------------------------------------------------------- the lever catalogue


def _outside(lever: Lever) -> list[float]:
    """Values just outside the lever's range, as the schema states it."""
    out = []
    if lever.low is not None:
        out.append(lever.low if lever.low_open else lever.low - 1)
    if lever.high is not None:
        out.append(lever.high if lever.high_open else lever.high + 1)
    return out


@pytest.mark.parametrize("preset", preset_names())
def test_every_lever_is_a_setting_that_takes_its_values(preset: str) -> None:
    """Each lever's path is a setting `--set` accepts, at the regime's value and at the
    ends of its range; the regime's own value is read from the scenario."""
    scenario = load_scenario(preset)
    levers = catalogue(scenario)
    assert len({lv.path for lv in levers}) == len(levers)
    actors = {lv.actor for lv in levers}
    assert {"state", "people"} <= actors
    assert {f"platform {p}" for p in scenario.platforms} <= actors
    for lever in levers:
        node: Any = scenario
        for part in lever.path.split("."):
            node = node[part] if isinstance(node, dict) else getattr(node, part)
        assert node == lever.value, lever.path
        values = [lever.value]
        if lever.kind in ("number", "integer"):
            values += [x for x in (lever.low, lever.high) if x is not None]
            values = [v for v in values if lever.problem(v) is None]
        elif lever.kind == "select":
            values += list(lever.options)
        else:
            values += [not lever.value]
        for value in values:
            value = lever.coerce(value)
            load_scenario(preset, [f"{lever.path}={toml_value(value)}"])  # no InputError


def test_ranges_come_from_the_schema_and_bad_values_name_the_setting() -> None:
    """A value outside a lever's range is refused by the schema's own validation and by the
    page's check, whose message names the setting and its range."""
    scenario = load_scenario("eu-dsa")
    checked = 0
    for lever in catalogue(scenario):
        for value in _outside(lever):
            value = lever.coerce(value)
            with pytest.raises(InputError) as err:
                load_scenario("eu-dsa", [f"{lever.path}={toml_value(value)}"])
            assert lever.path in str(err.value)
            message = lever.problem(value)
            assert message is not None
            assert message.startswith(f"{lever.path} must be {lever.range_text()}")
            checked += 1
    assert checked >= 30
    precision = lever_for("state.rulebook.precision", "state", 0.9)
    assert (precision.low, precision.high, precision.unit) == (0.0, 1.0, "share, 0 to 1")
    assert "vaguer" in precision.help  # the schema's description
    assert precision.problem(1.5) == "state.rulebook.precision must be 0 to 1; got 1.5"
    assert "not a number" in (precision.problem("abc") or "")
    minutes = lever_for("state.officials.response_target_minutes", "state", 0)
    assert (minutes.kind, minutes.low, minutes.high, minutes.unit) == ("integer", 0, 10080,
                                                                       "minutes")  # fmt: skip
    assert "whole number" in (minutes.problem(2.5) or "")
    mode = lever_for("platforms.x.compliance.mode", "platform x", "fixed")
    assert mode.options == ("fixed", "adaptive")
    assert mode.problem("sometimes") is not None


def test_a_path_the_schema_lacks_is_refused() -> None:
    with pytest.raises(KeyError, match="reviewers_per_100k"):
        setting_field("platforms.microblog.moderation.reviewers_per_100k")
    with pytest.raises(KeyError, match="names a table"):
        setting_field("state.rulebook")
    assert run_lever("users", 10).problem(10) is not None  # the page's narrower run range
    assert run_lever("replicates", 3).problem(3) is None


# ---------------------------------------------------------------- the streaming protocol


def _cli_summary(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["run", *args, "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["summary"]


def test_rows_stream_in_order_and_the_summary_is_tightrope_runs(tmp_path: Path) -> None:
    """Every row arrives once, in order; the rows are the stored time series; the summary is
    `tightrope run --json`'s for the same settings and seed; the run is stored."""
    out = tmp_path / "out"
    over = ("state.rulebook.precision=0.4",)
    spec = RunSpec(key="k", label="vaguer", source="eu-dsa", overrides=over, users=600,
                   days=1.5, seed=5, out_dir=str(out))  # fmt: skip
    channel = Messages()
    ticks = iter(range(10**6))  # a clock that moves 1 s a call: rows go every tick too
    assert stream_run(spec, channel, clock=lambda: float(next(ticks))) == "done"
    kinds = [m["kind"] for m in channel.items]
    assert kinds[0] == "start"
    assert kinds[-1] == "done"
    assert set(kinds[1:-1]) == {"rows"}
    n = channel.items[0]["ticks"]
    assert n == 36
    firsts, rows, prow = [], [], []
    for m in channel.items[1:-1]:
        firsts.append(m["first"])
        assert m["first"] == len(rows)  # in order, none lost, none repeated
        rows += m["rows"]
        prow += m["platform_rows"]
    assert len(rows) == n
    assert len(firsts) == n
    assert [r[0] for r in rows] == list(range(n))  # the tick column
    assert len(prow) == n * len(channel.items[0]["platforms"])
    stored = load_timeseries(out).to_pandas()
    assert stored[list(TIMESERIES_COLUMNS)].to_numpy().tolist() == rows
    summary = channel.items[-1]["summary"]
    expected = _cli_summary("eu-dsa", "--users", "600", "--days", "1.5", "--seed", "5",
                            "--set", over[0])  # fmt: skip
    assert summary == expected
    stored_summary = load_summaries(out).to_pylist()
    assert [s["label"] for s in stored_summary] == ["vaguer"]
    assert channel.items[-1]["run_id"] == stored_summary[0]["run_id"]
    assert len(PLATFORM_COLUMNS) == len(prow[0])


def test_rows_go_at_each_day_end_with_a_slow_clock() -> None:
    spec = RunSpec(key="d", label="d", source="laissez-faire", users=300, days=2.0, seed=1)
    channel = Messages()
    assert stream_run(spec, channel, clock=lambda: 0.0) == "done"
    sizes = [len(m["rows"]) for m in channel.items if m["kind"] == "rows"]
    assert sizes == [24, 24]  # one message per simulated day
    assert channel.items[-1]["folder"] is None  # no out folder: nothing stored


def test_a_stopped_run_sends_what_it_made_and_stores_nothing(tmp_path: Path) -> None:
    class StopAfter:
        def __init__(self, n: int) -> None:
            self.n = n

        def is_set(self) -> bool:
            self.n -= 1
            return self.n < 0

    spec = RunSpec(key="s", label="s", source="laissez-faire", users=300, days=2.0, seed=1,
                   out_dir=str(tmp_path / "out"))  # fmt: skip
    channel = Messages()
    assert stream_run(spec, channel, StopAfter(5), clock=lambda: 0.0) == "stopped"
    last = channel.items[-1]
    assert last == {"key": "s", "kind": "stopped", "tick": 5}
    rows = [r for m in channel.items if m["kind"] == "rows" for r in m["rows"]]
    assert [r[0] for r in rows] == [0, 1, 2, 3, 4]
    assert not (tmp_path / "out" / "runs").exists()


# ---------------------------------------------------------------- worker processes


def _wait(check: Any, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.05)


def test_runs_go_in_worker_processes_with_common_seeds_and_none_is_left(tmp_path: Path) -> None:
    """Two regimes x two replicates run in the pool with the same seeds, are stored, and
    a worker killed in a run fails that run only (named), the next batch runs; close()
    leaves no process."""
    import psutil

    from tightrope.experiments.seeds import child_seeds
    from tightrope.explorer.runs import DIED, WORKER_NICENESS, Runs

    me = psutil.Process()
    out = str(tmp_path / "out")
    seeds = child_seeds(7, 2)
    regimes = ("eu-dsa", "laissez-faire")
    specs = [(i, RunSpec(key=f"a:{i}:{r}", label=src, source=src, users=300, days=0.5,
                         seed=s, replicate=r, out_dir=out))
             for i, src in enumerate(regimes) for r, s in enumerate(seeds)]  # fmt: skip
    runs = Runs(workers=2)
    try:
        batch = runs.start("tab", ["eu-dsa", "laissez-faire"], specs, seeds)
        _wait(lambda: not batch.going)
        assert [r.status for r in batch.runs] == ["done"] * 4, [r.error for r in batch.runs]
        assert all(len(r.rows) == r.ticks == 12 for r in batch.runs)
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        for pid in runs.worker_pids():  # below the server, so the page answers first
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, mine + WORKER_NICENESS)
        stored = load_summaries(out).to_pylist()
        assert sorted((s["label"], s["seed"]) for s in stored) == sorted(
            (lab, s) for lab in ("eu-dsa", "laissez-faire") for s in seeds
        )
        finished = {r.spec.key for r in runs.session("tab").finished}
        assert finished == {r.spec.key for r in batch.runs}
        assert runs.session("other").batch is None  # another tab sees none of it

        long = RunSpec(key="b:0:0", label="long", source="laissez-faire", users=2000, days=30,
                       seed=1)  # fmt: skip
        batch = runs.start("tab", ["long"], [(0, long)], [1])
        _wait(lambda: batch.runs[0].rows)
        for pid in runs.worker_pids():  # the one running it dies, and the idle one
            os.kill(pid, signal.SIGKILL)
        _wait(lambda: not batch.going)
        assert batch.runs[0].status == "failed"
        assert batch.runs[0].error == DIED
        again = RunSpec(key="c:0:0", label="again", source="laissez-faire", users=300,
                        days=0.25, seed=1)  # fmt: skip
        batch = runs.start("tab", ["again"], [(0, again)], [1])
        _wait(lambda: not batch.going)
        assert batch.runs[0].status == "done"
    finally:
        kids = _ours(me)
        runs.close()
    _, alive = psutil.wait_procs(kids, timeout=10)
    assert alive == []


def _ours(me: Any) -> list[Any]:
    """This process's children, but Python's resource tracker (one per process that ever
    spawned, which ends with it)."""
    return [p for p in me.children(recursive=True)
            if "resource_tracker" not in " ".join(p.cmdline())]  # fmt: skip


def test_a_stop_ends_the_runs_going_and_cancels_the_queued(tmp_path: Path) -> None:
    from tightrope.explorer.runs import Runs

    specs = [(i, RunSpec(key=f"s:{i}:0", label=str(i), source="laissez-faire", users=2000,
                         days=30, seed=1)) for i in range(3)]  # fmt: skip
    with Runs(workers=1) as runs:
        batch = runs.start("tab", ["0", "1", "2"], specs, [1])
        _wait(lambda: batch.runs[0].rows)
        runs.stop("tab")
        _wait(lambda: not batch.going)
        assert [r.status for r in batch.runs] == ["stopped"] * 3
        assert 0 < len(batch.runs[0].rows) < batch.runs[0].ticks
        share, left = batch.progress()
        assert share < 1
        assert left is None


# ---------------------------------------------------------------- export and the page's checks


class _NoRuns:
    def start(self, *args: Any) -> None:
        raise AssertionError("bad input must not start runs")


def _explorer(tmp_path: Path) -> Any:
    from tightrope.explorer.app import Explorer

    return Explorer(_NoRuns(), ["eu-dsa"], tmp_path / "out")  # type: ignore[arg-type]


def _states(values: dict[str, Any], r: int = 0) -> list[Any]:
    box = [{"id": {"type": "box", "r": r, "path": p}, "value": v} for p, v in values.items()
           if not isinstance(v, bool | str)]  # fmt: skip
    switch = [{"id": {"type": "switch", "r": r, "path": p}, "value": ["on"] if v else []}
              for p, v in values.items() if isinstance(v, bool)]  # fmt: skip
    select = [{"id": {"type": "select", "r": r, "path": p}, "value": v}
              for p, v in values.items() if isinstance(v, str)]  # fmt: skip
    return [box, switch, select]


def test_exported_toml_extends_the_preset_with_only_the_changes(tmp_path: Path) -> None:
    page = _explorer(tmp_path)
    levers = {lv.path: lv.value for lv in catalogue(load_scenario("eu-dsa"))}
    values = dict(levers)
    values |= {
        "platforms.microblog.moderation.reviewers_per_100k_users": 6,
        "state.identity.real_name": 0.5,
        "platforms.microblog.moderation.sweep.enabled": True,
        "platforms.messaging.compliance.mode": "adaptive",
    }
    name, text = page.export("eu-dsa", "eu-dsa", 2000, 3, 1, page.values(_states(values))[0])
    assert name == "eu-dsa-explored"
    data = tomllib.loads(text)
    assert data["extends"] == "eu-dsa"
    assert data["run"] == {"users": 2000, "days": 3.0, "seed": 1}
    micro = data["platforms"]["microblog"]["moderation"]
    assert micro == {"reviewers_per_100k_users": 6.0, "sweep": {"enabled": True}}
    assert data["state"] == {"identity": {"real_name": 0.5}}
    assert data["platforms"]["messaging"] == {"compliance": {"mode": "adaptive"}}
    file = tmp_path / "mine.toml"
    file.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(file)])
    assert result.exit_code == 0, result.output
    overrides = [
        "platforms.microblog.moderation.reviewers_per_100k_users=6.0",
        "state.identity.real_name=0.5",
        "platforms.microblog.moderation.sweep.enabled=true",
        'platforms.messaging.compliance.mode="adaptive"',
        f"name={toml_value(name)}",
    ]
    same = load_scenario("eu-dsa", overrides, users=2000, days=3, seed=1)
    assert canonical_json(load_scenario(file)) == canonical_json(same)
    _, unchanged = page.export("eu-dsa", "eu-dsa", 10_000, 30, 0, page.values(_states(levers))[0])
    assert set(tomllib.loads(unchanged)) <= {"extends", "name", "run"}


def test_bad_input_is_named_inline_and_starts_nothing(tmp_path: Path) -> None:
    page = _explorer(tmp_path)
    bad = {"state.rulebook.precision": 1.7, "platforms.microblog.compliance.effort": ""}
    message = page.start("tab", ["eu-dsa"], 2000, 3, 1, 1, None, _states(bad))
    assert "state.rulebook.precision must be 0 to 1; got 1.7" in message
    assert "platforms.microblog.compliance.effort must be 0 to 1; the box is empty" in message
    message = page.start("tab", ["eu-dsa"], 50, 0, 1, 1, None, _states({}))
    assert "run.users must be 100 to 1000000; got 50" in message
    assert "run.days must be" in message
    bad_file = tmp_path / "bad.toml"
    bad_file.write_text('extends = "eu-dsa"\n[state.rulebook]\nprecision = 3\n')
    message = page.start("tab", [str(bad_file)], 2000, 3, 1, 1, None, _states({}))
    assert "state.rulebook.precision" in message
    assert message.startswith("Not started")
    (tmp_path / "taken" / "comparison.json").parent.mkdir()
    (tmp_path / "taken" / "comparison.json").write_text("{}")
    message = page.start("tab", ["eu-dsa"], 2000, 3, 1, 1, str(tmp_path / "taken"), _states({}))
    assert "already holds" in message
    assert "explore" in message


def test_the_browser_check_names_the_setting_as_the_server_does() -> None:
    """The range the page checks a typed value against in the browser (SYNC_JS) is the
    lever's, and its message starts as the server's check does."""
    from tightrope.explorer.app import range_meta

    for lever in catalogue(load_scenario("china-comprehensive-2021")):
        if lever.kind not in ("number", "integer"):
            continue
        meta = range_meta(lever)
        assert (meta["low"], meta["high"]) == (lever.low, lever.high)
        assert meta["integer"] == (lever.kind == "integer")
        for value in _outside(lever):
            assert (lever.problem(value) or "").startswith(meta["where"] + ";")


def test_a_run_that_cannot_be_stored_fails_naming_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while the run is stored: the run fails with the cause, and nothing of it
    is left in the folder (storage writes a temporary folder and renames it)."""
    import errno

    from tightrope.results import storage

    real = storage.pq.write_table
    calls = []

    def full(table: Any, where: Any, *args: Any, **kwargs: Any) -> None:
        calls.append(where)
        if len(calls) == 3:  # a few files in: the disk fills up
            raise OSError(errno.ENOSPC, "No space left on device")
        real(table, where, *args, **kwargs)

    monkeypatch.setattr(storage.pq, "write_table", full)
    out = tmp_path / "out"
    spec = RunSpec(key="f", label="full", source="laissez-faire", users=300, days=0.25, seed=1,
                   out_dir=str(out))  # fmt: skip
    channel = Messages()
    with pytest.raises(RuntimeError, match=r"could not be stored .* No space left on device"):
        stream_run(spec, channel)
    assert [m["kind"] for m in channel.items][-1] == "rows"  # no "done"
    assert list((out / "runs").iterdir()) == []
