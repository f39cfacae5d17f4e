"""Checkpoints and the memory check: a resumed run equals an uninterrupted one, to the bit;
checkpoints of another config or version are refused; a run too large for memory is refused
before it starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import tightrope
from tightrope import checkpoints, memory
from tightrope.cli import main
from tightrope.simulation import Simulation, run

PRESET = "china-comprehensive-2021"


def scenario(seed: int = 4, days: float = 3.0):
    return tightrope.load_scenario(PRESET, users=1500, days=days, seed=seed)


def same_result(a: tightrope.Result, b: tightrope.Result) -> None:
    assert json.dumps(a.summary, default=float) == json.dumps(b.summary, default=float)
    for name in ("timeseries", "platforms", "histograms"):
        assert getattr(a, name).equals(getattr(b, name)), name


def test_resumed_run_is_bit_identical(tmp_path: Path) -> None:
    sc = scenario()
    whole = run(sc)
    ck = tmp_path / "run.ckpt"
    # a run stopped after one day (its checkpoint written at day 1), then resumed
    sim = Simulation(sc)
    for _ in range(24):
        sim.step()
    checkpoints.save_checkpoint(sim, ck)
    assert checkpoints.read_header(ck)["tick"] == 24
    same_result(whole, run(sc, checkpoint=ck, resume=True))


def test_periodic_checkpoints_hold_the_latest_tick(tmp_path: Path) -> None:
    sc = scenario()
    ck = tmp_path / "run.ckpt"
    first = run(sc, checkpoint=ck, checkpoint_every_days=1)
    # written at day 1 and day 2, not at the end
    assert checkpoints.read_header(ck)["tick"] == 48
    same_result(first, run(sc, checkpoint=ck, resume=True))
    assert not list(tmp_path.glob(".*tmp"))


def test_checkpoint_of_another_config_is_refused(tmp_path: Path) -> None:
    ck = tmp_path / "run.ckpt"
    sim = Simulation(scenario(seed=4, days=1))
    sim.step()
    checkpoints.save_checkpoint(sim, ck)
    with pytest.raises(tightrope.InputError, match="was written for another configuration"):
        run(scenario(seed=5, days=1), checkpoint=ck, resume=True)


def test_checkpoint_of_another_version_is_refused(tmp_path: Path, monkeypatch) -> None:
    ck = tmp_path / "run.ckpt"
    sc = scenario(days=1)
    sim = Simulation(sc)
    sim.step()
    checkpoints.save_checkpoint(sim, ck)
    monkeypatch.setattr(tightrope, "__version__", "99.0")
    with pytest.raises(
        tightrope.InputError, match=r"written by Tightrope 0\.\d+\.\d+, this is 99\.0"
    ):
        run(sc, checkpoint=ck, resume=True)


def test_not_a_checkpoint_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ckpt"
    bad.write_text("hello\n")
    with pytest.raises(tightrope.InputError, match="not a Tightrope checkpoint"):
        run(scenario(days=1), checkpoint=bad, resume=True)


def test_cli_checkpoint_and_resume(tmp_path: Path) -> None:
    args = [
        "run", PRESET, "--users", "1500", "--days", "2", "--seed", "4", "--json",
        "--checkpoint", str(tmp_path / "c.ckpt"),
    ]  # fmt: skip
    plain = CliRunner().invoke(main, args[:-2])
    assert plain.exit_code == 0, plain.output
    # a checkpoint as a killed run would have left it, after one day
    sim = Simulation(tightrope.load_scenario(PRESET, users=1500, days=2, seed=4))
    for _ in range(24):
        sim.step()
    checkpoints.save_checkpoint(sim, tmp_path / "c.ckpt")
    resumed = CliRunner().invoke(main, [*args, "--resume", "--checkpoint-every", "0.5"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["summary"] == json.loads(plain.stdout)["summary"]
    assert not (tmp_path / "c.ckpt").exists()  # a finished run removes its checkpoint


def test_cli_resume_without_checkpoint(tmp_path: Path) -> None:
    missing = tmp_path / "none.ckpt"
    res = CliRunner().invoke(main, ["run", PRESET, "--resume", "--checkpoint", str(missing)])
    assert res.exit_code == 2
    assert f"error: --resume: no checkpoint at {missing}" in res.output


def test_cli_resume_of_other_config(tmp_path: Path) -> None:
    ck = tmp_path / "c.ckpt"
    sim = Simulation(tightrope.load_scenario(PRESET, users=1500, days=1, seed=4))
    sim.step()
    checkpoints.save_checkpoint(sim, ck)
    res = CliRunner().invoke(
        main, ["run", PRESET, "--users", "1500", "--days", "1", "--seed", "5", "--resume",
               "--checkpoint", str(ck), "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert res.exit_code == 2
    assert "was written for another configuration" in res.output
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- memory


def test_memory_estimate_grows_with_users_and_edges() -> None:
    small = memory.estimate(tightrope.load_scenario(PRESET, users=100_000))
    big = memory.estimate(tightrope.load_scenario(PRESET, users=1_000_000))
    dense = memory.estimate(
        tightrope.load_scenario(PRESET, ["network.mean_following=120"], users=1_000_000)
    )
    assert big.total > 5 * (small.total - small.parts["interpreter"])
    following = tightrope.load_scenario(PRESET).network.mean_following
    assert big.edges == round(1_000_000 * following)
    assert dense.edges == 120_000_000
    assert dense.parts["graph"] > 2 * big.parts["graph"]


def test_memory_estimate_has_room_for_every_ticks_feed_candidates(monkeypatch) -> None:
    """The candidate arrays are as long as the post ring but only filled up to a tick's
    candidates: the estimate counts room for the most any tick of a run ranks, and less
    than the ring."""
    from tightrope import feed

    most = []
    rank = feed.rank_candidates

    def counting(t0, posts, consts, cand, scratch, start, top) -> None:  # type: ignore[no-untyped-def]
        rank(t0, posts, consts, cand, scratch, start, top)
        most.append(int(start[-1]))

    monkeypatch.setattr(feed, "rank_candidates", counting)
    sc = tightrope.load_scenario(PRESET, users=4000, days=2, seed=3)
    sim = Simulation(sc)
    while sim.t < sim.n_ticks:
        sim.step()
    est = memory.estimate(sc)
    room = est.parts["candidates"] / memory.CANDIDATE_BYTES
    assert 0 < max(most) <= room < sim.posts.pid.size


def test_memory_estimate_of_an_edge_list_counts_the_file_users_and_edges(tmp_path) -> None:
    """An edge list defines the users (largest id + 1) and the edges, whatever run.users
    says: the estimate counts both from the file, comments and commas included."""
    f = tmp_path / "edges.txt"
    lines = ["# follower followee"] + [f"{i} {(i * 7 + 1) % 5000}" for i in range(5000)]
    lines += [f"{i},{(i + 3) % 5000}" for i in range(0, 5000, 2)]
    f.write_text("\n".join(lines) + "\n")
    sc = tightrope.load_scenario(
        PRESET, ["network.source='edge_list'", f"network.edge_list='{f}'"], users=10_000_000
    )
    est = memory.estimate(sc)
    assert est.users == 5000
    assert est.edges == 7500
    assert est.total < memory.estimate(tightrope.load_scenario(PRESET, users=100_000)).total
    with pytest.raises(tightrope.InputError) as err:
        memory.check_fits(sc, available=0.1 * memory.GIB)
    assert "available: use a smaller edge list (about " in str(err.value)


def test_run_too_large_is_refused_with_what_to_lower() -> None:
    sc = tightrope.load_scenario(PRESET, users=10_000_000)
    with pytest.raises(tightrope.InputError) as err:
        memory.check_fits(sc, available=4 * memory.GIB)
    msg = str(err.value)
    assert msg.startswith("this run needs about ")
    assert "but 4.0 GiB is available: lower run.users (about " in msg
    assert "users fit) or network.mean_following" in msg
    # the users said to fit do fit
    fit = int(msg.split("(about ")[1].split(" users")[0].replace(",", ""))
    assert 100_000 < fit < 10_000_000
    memory.check_fits(tightrope.load_scenario(PRESET, users=fit), available=4 * memory.GIB)


def test_cli_refuses_a_run_that_does_not_fit(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main, ["run", PRESET, "--users", "2000000000", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    assert "error: this run needs about " in res.output
    assert not (tmp_path / "o").exists()
