"""Checkpoints and the memory check: a resumed run equals an uninterrupted one, to the bit;
checkpoints of another config, version or format are refused, and so are damaged ones;
loading one never unpickles; a run too large for memory is refused before it starts."""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import shutil
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
    assert not list(ck.glob(".*tmp"))
    # the second save replaced the first: the files of one generation, and its manifest
    assert sorted(p.name for p in ck.iterdir()) == ["manifest.json", "shard-0.2.ckpt",
                                                    "shared.2.ckpt"]  # fmt: skip


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
SHARED, SHARD = "shared.1.ckpt", "shard-0.1.ckpt"  # a 1,500-user run has one shard


@pytest.fixture(scope="module")
def day_one(tmp_path_factory) -> Path:
    """A checkpoint after one day of a two-day run (1,500 users, seed 4), left untouched."""
    ck = tmp_path_factory.mktemp("ck") / "day1.ckpt"
    sim = Simulation(tightrope.load_scenario(PRESET, users=1500, days=2, seed=4))
    for _ in range(24):
        sim.step()
    checkpoints.save_checkpoint(sim, ck)
    assert sorted(p.name for p in ck.iterdir()) == ["manifest.json", SHARD, SHARED]
    return ck


@pytest.fixture
def ck(tmp_path, day_one) -> Path:
    """A copy of `day_one` to damage."""
    return Path(shutil.copytree(day_one, tmp_path / "c.ckpt"))


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


def remanifest(ck: Path, edit) -> None:  # type: ignore[no-untyped-def]
    """Change the manifest of `ck` by `edit(manifest)`, under a valid checksum."""
    manifest = json.loads((ck / "manifest.json").read_bytes())
    manifest.pop("sha256")
    edit(manifest)
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    manifest["sha256"] = hashlib.sha256(canonical).hexdigest()
    (ck / "manifest.json").write_text(json.dumps(manifest) + "\n")


def entry(manifest: dict, name: str) -> dict:
    return next(f for f in manifest["files"] if f["name"] == name)


def reseal(ck: Path, changes: dict | None = None, **files: bytes) -> None:
    """Write `files` (name: bytes) into the checkpoint `ck` and make its manifest name them
    (their sizes and checksums) with `changes` to its fields, under a valid checksum: a
    crafted checkpoint, as an attacker with write access could make one."""
    for name, data in files.items():
        (ck / name).write_bytes(data)

    def edit(manifest: dict) -> None:
        for name, data in files.items():
            entry(manifest, name).update(bytes=len(data), sha256=split(data)[0]["sha256"])
        manifest.update(changes or {})

    remanifest(ck, edit)


def test_cli_refuses_a_checkpoint_with_random_bytes_in_the_middle(tmp_path, ck) -> None:
    out = tmp_path / "out"
    data = bytearray((ck / SHARED).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = np.random.default_rng(1).bytes(4096)
    (ck / SHARED).write_bytes(bytes(data))
    res = resume_cli(ck, out)
    assert res.exit_code == 2, res.output
    assert last_line(res.output) == (
        f"error: damaged checkpoint {ck / SHARED}: its content does not match its checksum{REFUSE}"
    )
    assert nothing_stored(out)
    assert (ck / SHARED).read_bytes() == bytes(data)  # and the checkpoint left for a look


def test_cli_refuses_a_truncated_checkpoint(tmp_path, ck) -> None:
    out = tmp_path / "out"
    whole = (ck / SHARD).read_bytes()
    for size in (len(whole) * 2 // 3, 100):  # cut among the arrays, in the header
        (ck / SHARD).write_bytes(whole[:size])
        res = resume_cli(ck, out)
        assert res.exit_code == 2, res.output
        assert last_line(res.output) == (
            f"error: damaged checkpoint {ck / SHARD}: it ends early (truncated){REFUSE}"
        )
        assert nothing_stored(out)
    manifest = (ck / "manifest.json").read_bytes()
    (ck / "manifest.json").write_bytes(manifest[:200])  # the manifest cut
    res = resume_cli(ck, out)
    assert res.exit_code == 2, res.output
    assert last_line(res.output) == (
        f"error: damaged checkpoint {ck / 'manifest.json'}: it ends early (truncated){REFUSE}"
    )


def test_a_checkpoint_longer_than_its_manifest_or_header_says_is_refused(ck) -> None:
    data = (ck / SHARED).read_bytes() + b"\0" * 1234
    (ck / SHARED).write_bytes(data)
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck / SHARED}: it has 1,234 bytes more than its manifest "
        f"records{REFUSE}"
    )
    reseal(ck, **{SHARED: data})  # the manifest says so too
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck / SHARED}: it has 1,234 bytes more than its header says{REFUSE}"
    )


def test_the_checksums_cover_the_headers_and_the_manifest(ck) -> None:
    shared = (ck / SHARED).read_bytes()
    (ck / SHARED).write_bytes(shared.replace(b'"tick": 24,', b'"tick": 25,', 1))
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck / SHARED}: its content does not match its checksum{REFUSE}"
    )
    (ck / SHARED).write_bytes(shared)
    manifest = (ck / "manifest.json").read_bytes()
    (ck / "manifest.json").write_bytes(manifest.replace(b'"tick": 24,', b'"tick": 25,', 1))
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.read_header(ck)
    assert str(err.value) == (
        f"damaged checkpoint {ck / 'manifest.json'}: it does not match its checksum{REFUSE}"
    )


def test_a_file_the_manifest_does_not_name_is_refused(ck, tmp_path) -> None:
    """A file of another checkpoint (here: of the same run, a tick later) in the place of
    the one the manifest names, or a file missing."""
    other = tmp_path / "later.ckpt"
    sim = Simulation(tightrope.load_scenario(PRESET, users=1500, days=2, seed=4))
    for _ in range(25):
        sim.step()
    checkpoints.save_checkpoint(sim, other)
    foreign = (other / SHARD).read_bytes()
    (ck / SHARD).write_bytes(foreign)
    # the manifest's size made right, under its own valid checksum: still refused
    remanifest(ck, lambda m: entry(m, SHARD).update(bytes=len(foreign)))
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck / SHARD}: it is not the file its manifest names (another "
        f"checkpoint's?){REFUSE}"
    )
    (ck / SHARD).unlink()
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck}: the file {SHARD} its manifest names is missing{REFUSE}"
    )
    (ck / "manifest.json").unlink()
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"checkpoint {ck}: the folder has no manifest.json (not a Tightrope checkpoint, or "
        "its first save never finished); start the run afresh"
    )


def test_a_checkpoint_of_another_format_is_refused(tmp_path, ck) -> None:
    reseal(ck, {"format": "tightrope-checkpoint/1"})
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"checkpoint {ck / 'manifest.json'} is in format tightrope-checkpoint/1, which this "
        "version of Tightrope cannot read (it reads tightrope-checkpoint/10): start the run "
        "afresh"
    )
    reseal(ck, {"format": "something-else/2"})
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"checkpoint {ck / 'manifest.json'}: not a Tightrope checkpoint (expected "
        "tightrope-checkpoint/10)"
    )
    reseal(ck, {"format": "tightrope-checkpoint/10"})
    header, content = split((ck / SHARED).read_bytes())
    reseal(ck, **{SHARED: sealed(header | {"format": "tightrope-checkpoint/1"}, content)})
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"checkpoint {ck / SHARED} is in format tightrope-checkpoint/1, which this version "
        "of Tightrope cannot read (it reads tightrope-checkpoint/10): start the run afresh"
    )
    # a checkpoint of format 9 and before was one file, named as the folder is now
    old = tmp_path / "old.ckpt"
    old.write_bytes(json.dumps({"format": "tightrope-checkpoint/9"}).encode() + b"\n\0\0")
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(old, scenario(days=2))
    assert str(err.value) == (
        f"checkpoint {old} is in format tightrope-checkpoint/9, which this version of "
        "Tightrope cannot read (it reads tightrope-checkpoint/10): start the run afresh"
    )


class _Payload:
    """Unpickling this creates the file `marker`: code run by loading the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_a_pickle_payload_is_refused_without_being_unpickled(tmp_path, ck, monkeypatch) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"state": _Payload(marker)})
    header, _ = split((ck / SHARED).read_bytes())
    # a well-formed header with a valid checksum, a pickle where the state should be
    reseal(ck, **{SHARED: sealed(header, payload)})
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, _no_unpickling)
    res = resume_cli(ck, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert last_line(res.output) == (
        f"error: damaged checkpoint {ck / SHARED}: its state cannot be read (it is not "
        f"JSON){REFUSE}"
    )
    assert not marker.exists()
    monkeypatch.undo()
    pickle.loads(payload)  # the payload was live: unpickled, it runs its code
    assert marker.exists()


def test_a_class_outside_the_whitelist_is_refused(ck) -> None:
    header, content = split((ck / SHARED).read_bytes())
    cut = header["state_bytes"]
    doc = json.loads(content[:cut])
    doc["state"]["posts"]["namedtuple"] = "os.system"  # a name loading must never import
    reseal(ck, **{SHARED: sealed(header, json.dumps(doc).encode(), content[cut:])})
    with pytest.raises(tightrope.InputError) as err:
        checkpoints.load_checkpoint(ck, scenario(days=2))
    assert str(err.value) == (
        f"damaged checkpoint {ck / SHARED}: its state cannot be read (posts is of class "
        f"'os.system', which a checkpoint may not hold){REFUSE}"
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
        "tightrope.engine.checkpoint_files (or leave it out of the Simulation's state)"
    )
    sim.extra = sim.tc[2:5]  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as err:
        checkpoints.save_checkpoint(sim, ck)
    assert str(err.value) == (
        "a checkpoint cannot store extra and tc: they share memory, and would come back apart"
    )
    sim.extra = sim.people.fear[10:]  # type: ignore[attr-defined]  # a shard's rows
    with pytest.raises(TypeError) as err:
        checkpoints.save_checkpoint(sim, ck)
    assert str(err.value) == (
        "a checkpoint cannot store extra and people.fear: they share memory, and would come "
        "back apart"
    )
    sim.extra = sim.rows  # type: ignore[attr-defined]
    with pytest.raises(TypeError) as err:
        checkpoints.save_checkpoint(sim, ck)
    assert str(err.value) == (
        "a checkpoint cannot store extra: it is the same object as rows, and would come back as two"
    )
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


# ---------------------------------------------------------------- the folder


def test_a_save_that_fails_midway_leaves_the_previous_checkpoint_whole(
    tmp_path, monkeypatch
) -> None:
    """A save killed after some of its files: the manifest still names the previous
    generation, which resumes; the next save clears what the failed one left."""
    from tightrope.engine import checkpoint_files

    sc = scenario(days=2)
    ck = tmp_path / "run.ckpt"
    sim = Simulation(sc)
    for _ in range(24):
        sim.step()
    checkpoints.save_checkpoint(sim, ck)
    sim.step()
    write = checkpoint_files.write_piece

    def dies_at_the_shard(path: Path, piece):  # type: ignore[no-untyped-def]
        if path.name.startswith("shard-"):
            raise OSError(28, "No space left on device")
        return write(path, piece)

    monkeypatch.setattr(checkpoints, "write_piece", dies_at_the_shard)
    with pytest.raises(OSError, match="No space left"):
        checkpoints.save_checkpoint(sim, ck)
    assert checkpoints.read_header(ck)["tick"] == 24  # the previous one, whole
    same_result(run(sc), run(sc, checkpoint=ck, resume=True))
    monkeypatch.undo()
    checkpoints.save_checkpoint(sim, ck)
    assert checkpoints.read_header(ck)["tick"] == 25
    assert sorted(p.name for p in ck.iterdir()) == [
        "manifest.json",
        "shard-0.2.ckpt",
        "shared.2.ckpt",
    ]


def test_a_checkpoint_is_not_written_over_a_file_that_is_not_one(tmp_path) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_text("my notes\n")
    with pytest.raises(tightrope.InputError) as err:
        run(scenario(days=1), checkpoint=mine, checkpoint_every_days=0.5)
    assert str(err.value) == (
        f"checkpoint {mine} is a file that is not a Tightrope checkpoint: a checkpoint is a "
        "folder; give a new name or the name of a folder"
    )
    res = CliRunner().invoke(
        main, ["run", PRESET, "--users", "1500", "--days", "1", "--checkpoint", str(mine)]
    )
    assert res.exit_code == 2
    assert last_line(res.output) == f"error: {err.value}"
    assert mine.read_text() == "my notes\n"
    # a checkpoint of format 9 (one file) is replaced by the folder: no version resumes it
    old = tmp_path / "old.ckpt"
    old.write_bytes(json.dumps({"format": "tightrope-checkpoint/9"}).encode() + b"\n")
    sim = Simulation(scenario(days=1))
    sim.step()
    checkpoints.save_checkpoint(sim, old)
    assert checkpoints.read_header(old)["tick"] == 1


def test_a_finished_run_removes_its_checkpoint_and_only_that(tmp_path) -> None:
    """The CLI's finished run removes its checkpoint's files, and the folder when nothing
    else is in it; a file of the user's in the folder stays, and so does the folder."""
    ck = tmp_path / "c.ckpt"
    args = ["run", PRESET, "--users", "1500", "--days", "1", "--seed", "4", "--quiet"]
    res = CliRunner().invoke(main, [*args, "--checkpoint", str(ck), "--checkpoint-every", "0.5"])
    assert res.exit_code == 0, res.output
    assert not ck.exists()
    ck.mkdir()
    (ck / "mine.txt").write_text("kept\n")
    res = CliRunner().invoke(main, [*args, "--checkpoint", str(ck), "--checkpoint-every", "0.5"])
    assert res.exit_code == 0, res.output
    assert [p.name for p in ck.iterdir()] == ["mine.txt"]


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
