"""Checkpoints and the memory check: a resumed run equals an uninterrupted one, to the bit;
checkpoints of another config, version or format are refused, and so are damaged ones;
loading one never unpickles; a run too large for memory is refused before it starts."""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import tightrope
import tightrope.version
from tightrope.cli.app import main
from tightrope.engine import checkpoints, memory
from tightrope.engine.driver import run
from tightrope.engine.simulation import Simulation

PRESET = "china-comprehensive-2021"


def scenario(seed: int = 4, days: float = 3.0):
    return tightrope.load_scenario(PRESET, users=1500, days=days, seed=seed)


def same_result(a: tightrope.Result, b: tightrope.Result) -> None:
    assert json.dumps(a.summary, default=float) == json.dumps(b.summary, default=float)
    for name in ("timeseries", "platforms", "histograms", "categories", "cascades",
                 "platform_days", "regions", "cohorts"):  # fmt: skip
        assert getattr(a, name).equals(getattr(b, name)), name


def _no_unpickling(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise AssertionError("a checkpoint was unpickled")


def test_resumed_run_is_bit_identical(tmp_path: Path, monkeypatch) -> None:
    sc = scenario()
    whole = run(sc)
    # loading a checkpoint never unpickles (pickle could run code written in the file);
    # patched after the whole run, which loaded every kernel from Numba's cache (pickled)
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, _no_unpickling)
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
    monkeypatch.setattr(tightrope.version, "__version__", "99.0")
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


# ---------------------------------------------------------------- damaged and crafted files

REFUSE = "; start afresh or use an older one"


@pytest.fixture(scope="module")
def day_one(tmp_path_factory) -> bytes:
    """The bytes of a checkpoint after one day of a two-day run (1,500 users, seed 4)."""
    ck = tmp_path_factory.mktemp("ck") / "day1.ckpt"
    sim = Simulation(tightrope.load_scenario(PRESET, users=1500, days=2, seed=4))
    for _ in range(24):
        sim.step()
    checkpoints.save_checkpoint(sim, ck)
    return ck.read_bytes()


def resume_cli(ck: Path, out: Path):  # type: ignore[no-untyped-def]
    args = ["run", PRESET, "--users", "1500", "--days", "2", "--seed", "4"]
    return CliRunner().invoke(main, [*args, "--checkpoint", str(ck), "--resume", "--out", str(out)])


def last_line(output: str) -> str:
    """The error, after any progress lines the command printed first."""
    return output.rstrip("\n").rsplit("\n", 1)[-1]


def nothing_stored(out: Path) -> bool:
    """Nothing in `out` (a folder lock may have made the folder itself)."""
    return not out.exists() or not any(out.rglob("*"))


def sealed(header: dict, state: bytes, arrays: bytes = b"") -> bytes:
    """A checkpoint file of `header`, `state` and `arrays`, with the checksum the format
    documents: sha256 of the header's other fields (compact JSON, sorted keys), a newline
    and all that follows the header line."""
    fields = {k: v for k, v in header.items() if k != "sha256"}
    fields |= {"state_bytes": len(state), "content_bytes": len(state) + len(arrays)}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    fields["sha256"] = hashlib.sha256(canonical + state + arrays).hexdigest()
    return (json.dumps(fields) + "\n").encode() + state + arrays


def split(data: bytes) -> tuple[dict, bytes]:
    line, _, content = data.partition(b"\n")
    return json.loads(line), content


def test_cli_refuses_a_checkpoint_with_random_bytes_in_the_middle(tmp_path, day_one) -> None:
    ck, out = tmp_path / "c.ckpt", tmp_path / "out"
    data = bytearray(day_one)
    middle = len(data) // 2
    data[middle : middle + 4096] = np.random.default_rng(1).bytes(4096)
    ck.write_bytes(bytes(data))
    res = resume_cli(ck, out)
    assert res.exit_code == 2, res.output
    assert last_line(res.output) == (
        f"error: damaged checkpoint {ck}: its content does not match its checksum{REFUSE}"
    )
    assert nothing_stored(out)
    assert ck.read_bytes() == bytes(data)  # and the checkpoint left for a look


def test_cli_refuses_a_truncated_checkpoint(tmp_path, day_one) -> None:
    ck, out = tmp_path / "c.ckpt", tmp_path / "out"
    for size in (len(day_one) * 2 // 3, 100):  # cut among the arrays, in the header
        ck.write_bytes(day_one[:size])
        res = resume_cli(ck, out)
        assert res.exit_code == 2, res.output
        assert last_line(res.output) == (
            f"error: damaged checkpoint {ck}: it ends early (truncated){REFUSE}"
        )
        assert nothing_stored(out)


def test_a_checkpoint_longer_than_its_header_says_is_refused(tmp_path, day_one) -> None:
    ck = tmp_path / "c.ckpt"
    ck.write_bytes(day_one + b"\0" * 1234)
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck}: it has 1,234 bytes more than its header says{REFUSE}"
    )


def test_the_checksum_covers_the_header(tmp_path, day_one) -> None:
    ck = tmp_path / "c.ckpt"
    ck.write_bytes(day_one.replace(b'"tick": 24,', b'"tick": 25,', 1))
    assert checkpoints.read_header(ck)["tick"] == 25
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck}: its content does not match its checksum{REFUSE}"
    )


def test_a_header_of_another_format_is_refused(tmp_path, day_one) -> None:
    ck = tmp_path / "c.ckpt"
    header, content = split(day_one)
    ck.write_bytes(sealed(header | {"format": "tightrope-checkpoint/1"}, content))
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"checkpoint {ck} is in format tightrope-checkpoint/1, which this version of "
        "Tightrope cannot read (it reads tightrope-checkpoint/9): start the run afresh"
    )
    ck.write_bytes(sealed(header | {"format": "something-else/2"}, content))
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"checkpoint {ck}: not a Tightrope checkpoint (expected tightrope-checkpoint/9)"
    )


class _Payload:
    """Unpickling this creates the file `marker`: code run by loading the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_a_pickle_payload_is_refused_without_being_unpickled(
    tmp_path, day_one, monkeypatch
) -> None:
    ck, marker = tmp_path / "c.ckpt", tmp_path / "pwned"
    payload = pickle.dumps({"state": _Payload(marker)})
    header, _ = split(day_one)
    # a well-formed header with a valid checksum, a pickle where the state should be
    ck.write_bytes(sealed(header, payload))
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, _no_unpickling)
    res = resume_cli(ck, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert last_line(res.output) == (
        f"error: damaged checkpoint {ck}: its state cannot be read (it is not JSON){REFUSE}"
    )
    assert not marker.exists()
    monkeypatch.undo()
    pickle.loads(payload)  # the payload was live: unpickled, it runs its code
    assert marker.exists()


def test_a_class_outside_the_whitelist_is_refused(tmp_path, day_one) -> None:
    ck = tmp_path / "c.ckpt"
    header, content = split(day_one)
    cut = header["state_bytes"]
    doc = json.loads(content[:cut])
    doc["state"]["graph"]["namedtuple"] = "os.system"  # a name loading must never import
    ck.write_bytes(sealed(header, json.dumps(doc).encode(), content[cut:]))
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck}: its state cannot be read (graph is of class 'os.system', "
        f"which a checkpoint may not hold){REFUSE}"
    )


def test_odd_values_come_back_to_the_bit(tmp_path: Path) -> None:
    """What the state may hold beyond arrays comes back with its type and bits: NaN with
    its payload, -0.0, inf, NumPy scalars, big ints, tuples, dicts with int keys, a NumPy
    Generator (its stream and its spawning), Fortran-ordered and empty arrays, and one
    array held in two places as one."""
    ck = tmp_path / "c.ckpt"
    sc = scenario(days=1)
    sim = Simulation(sc)
    nan = struct.unpack("<d", bytes.fromhex("0100000000f8ff7f"))[0]  # a NaN with a payload
    rng = np.random.default_rng(7)
    rng.random(3)
    rng.spawn(1)
    shared = np.arange(5, dtype=np.int16)
    sim.extra = {  # type: ignore[attr-defined]
        "floats": [nan, -0.0, -math.inf, 0.1, 2**100],
        3: (np.float32(0.1), np.int16(-7), np.bool_(True), np.float64(1 / 3), None),
        "rng": rng,
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "shared": shared,
    }
    sim.also = shared  # type: ignore[attr-defined]
    checkpoints.save_checkpoint(sim, ck)
    loaded = checkpoints.load_checkpoint(ck, sc)
    back, want = loaded.extra, sim.extra  # type: ignore[attr-defined]
    assert struct.pack("<d", back["floats"][0]) == struct.pack("<d", nan)
    assert str(back["floats"][1]) == "-0.0"
    assert back["floats"][2:] == [-math.inf, 0.1, 2**100]
    assert [type(x) for x in back[3]] == [type(x) for x in want[3]]
    assert back[3] == want[3]
    assert back["fortran"].flags.f_contiguous
    assert np.array_equal(back["fortran"], want["fortran"])
    assert back["empty"].shape == (0, 3)
    assert back["empty"].dtype == np.float32
    assert back["shared"] is loaded.also  # type: ignore[attr-defined]
    assert back["rng"].random() == rng.random()
    assert back["rng"].spawn(1)[0].random() == rng.spawn(1)[0].random()


def test_a_value_the_format_cannot_store_fails_the_save(tmp_path: Path) -> None:
    ck = tmp_path / "c.ckpt"
    sim = Simulation(scenario(days=1))
    sim.extra = [1.0, object()]  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as err:
        checkpoints.save_checkpoint(sim, ck)
    assert str(err.value) == (
        "a checkpoint cannot store extra.1 (builtins.object): add its type to "
        "tightrope.engine.checkpoints (or leave it out of the Simulation's state)"
    )
    sim.extra = sim.tc[2:5]  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as err:
        checkpoints.save_checkpoint(sim, ck)
    assert str(err.value) == (
        "a checkpoint cannot store extra and tc: they share memory, and would come back apart"
    )
    sim.extra = sim.rows  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as err:
        checkpoints.save_checkpoint(sim, ck)
    assert str(err.value) == (
        "a checkpoint cannot store extra: it is the same object as rows, and would come back as two"
    )
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


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
    from tightrope.model import feed

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
    sc = tightrope.load_scenario(PRESET, ["network.source='edge_list'", f"network.edge_list='{f}'"])
    assert sc.run.users == 5000  # the file sets the number of users
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
