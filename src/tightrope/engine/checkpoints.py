"""Checkpoints: a run's whole state on disk, so that a long run can stop and go on.

A checkpoint is a folder, laid out as a run split over processes will write it, one file
per shard:

- `shard-S.G.ckpt`, one per shard of viewers (`Simulation.shards`): what the shard owns,
  the rows of its users (their `People` state, region, community, followee and peer
  counts, and their follower lists, the rows of the follower graph whose followed account
  is theirs), its calendar of views and its viewer parts' view logs;
- `shared.G.ckpt`: everything else (posts, queues, platforms, the state, counters, random
  streams), what a coordinator would hold;
- `manifest.json`, one JSON line: the format, the Tightrope version, the config's sha256,
  the scenario, seed and tick reached, the generation G, the number of users and shards,
  each file's name, role, size and checksum, and `sha256`, the checksum of the rest.

Each file is in the format of `tightrope.engine.checkpoint_files` (a checked header, a
typed state tree, raw arrays; no pickle). Saving writes the files of a new generation
under new names (in parallel, a thread a file, up to the run's threads), then the manifest
(to a temporary name, renamed: the moment the new checkpoint replaces the old), then
removes the files of older generations: a run killed while saving leaves the previous
checkpoint whole. Loading reads the manifest, refuses a checkpoint written for another
config, by another version or in another format before anything else is read, checks that
each file is the one the manifest names and is intact, and joins the shards' rows; it
resumes with any number of shards (`Simulation.reshard`), and the run goes on to a result
bit-identical to the uninterrupted run.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from tightrope.core.graph import Graph
from tightrope.core.world import (
    POST_HOT,
    VIEWER,
    VIEWER_PART_USERS,
    People,
    ShardedCalendar,
    packed,
)
from tightrope.engine.checkpoint_files import (
    FORMAT,
    Piece,
    damaged,
    encode_piece,
    parse_header,
    read_piece,
    read_piece_header,
    write_piece,
)
from tightrope.errors import InputError
from tightrope.model.feed import new_candidates
from tightrope.results.storage import atomic_open
from tightrope.scenario.files import config_sha256

if TYPE_CHECKING:
    from tightrope.engine.simulation import Simulation
    from tightrope.scenario.schema import Scenario

__all__ = [
    "FORMAT",
    "MANIFEST",
    "check_compatible",
    "check_writable",
    "load_checkpoint",
    "read_header",
    "remove_checkpoint",
    "save_checkpoint",
]

MANIFEST = "manifest.json"
_NOT_STORED = ("scenario", "candidates")  # rebuilt from the scenario (candidates: each tick)
_USER_ROWS = ("region", "_community", "followees", "peers")
"""The Simulation's arrays of one row per user, kept in the shard that owns the user."""
_PART_ROWS = ("view_log", "view_meta")
"""The Simulation's arrays of one row per viewer part, kept in the shard that owns it."""
_VIEWS = ("slots", "post", "viewer", "link", "meta")  # a shard's row of ShardedCalendar
_PIECE = re.compile(r"(shared|shard-[0-9]+)\.[0-9]+\.ckpt")
_STALE = re.compile(r"\.((shared|shard-[0-9]+)\.[0-9]+\.ckpt|manifest\.json)\..*\.tmp")
_MANIFEST_LIMIT = 1 << 24


def _version() -> str:
    from tightrope import version

    return version.__version__


def _canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


# ---------------------------------------------------------------- shards' rows


def shard_ranges(sim: Simulation) -> list[tuple[int, int, int, int]]:
    """Each shard's (first part, end part, first user, end user): its contiguous ranges of
    viewer parts and of their users, in shard order."""
    owner = sim.view_cal.owner  # shard of each part, in order (`part_owners`)
    shards = np.arange(sim.shards)
    starts = np.searchsorted(owner, shards, side="left").tolist()
    ends = np.searchsorted(owner, shards, side="right").tolist()
    users = VIEWER_PART_USERS
    return [
        (p0, p1, p0 * users, min(p1 * users, sim.n_users))
        for p0, p1 in zip(starts, ends, strict=True)
    ]


def split_state(
    sim: Simulation,
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, np.ndarray]]:
    """The state to store: what the shards share, each shard's own rows (views into the
    run's arrays, nothing copied but the follower rows' offsets), and the whole arrays the
    shards split, by name."""
    state = {k: v for k, v in vars(sim).items() if k not in _NOT_STORED}
    people: People = state.pop("people")
    graph: Graph = state.pop("graph")
    cal: ShardedCalendar = state.pop("view_cal")
    users = {k: state.pop(k) for k in _USER_ROWS}
    parts = {k: state.pop(k) for k in _PART_ROWS}
    state["graph"] = {
        "n": graph.n,
        "circle_ptr": graph.circle_ptr,
        "circle_members": graph.circle_members,
        "circle_of": graph.circle_of,
    }
    state["view_owner"] = cal.owner
    ptr = graph.followers_ptr
    shards = []
    for s, (p0, p1, u0, u1) in enumerate(shard_ranges(sim)):
        shards.append(
            {
                "users": [u0, u1],
                "people": {f: getattr(people, f)[u0:u1] for f in People._fields},
                "rows": {k: v[u0:u1] for k, v in users.items()},
                "followers_ptr": ptr[u0 : u1 + 1] - ptr[u0],
                "followers_idx": graph.followers_idx[ptr[u0] : ptr[u1]],
                "views": {f: getattr(cal, f)[s] for f in _VIEWS},
                "parts": {k: v[p0:p1] for k, v in parts.items()},
            }
        )
    owned = {f"people.{f}": getattr(people, f) for f in People._fields}
    owned |= users | parts | {f"view_cal.{f}": getattr(cal, f) for f in _VIEWS}
    owned |= {"graph.followers_ptr": ptr, "graph.followers_idx": graph.followers_idx}
    return state, shards, owned


def join_state(shared: dict[str, Any], shards: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """The Simulation's state from what `split_state` gave (ValueError if the shards do not
    fit together: rows missing, overlapping or of other shapes). The shards' rows are taken
    out of `shards` as they are joined, so that each array is held twice only while it is
    being joined."""
    state = dict(shared)
    starts = [s["users"] for s in shards]
    if (
        starts[0][0] != 0
        or starts[-1][1] != n
        or any(a[1] != b[0] for a, b in itertools.pairwise(starts))
    ):
        raise ValueError(f"the shards' users {starts} do not cover the {n:,} users in order")

    def joined(group: str, key: str, stack: bool = False) -> np.ndarray:
        rows = [s[group].pop(key) for s in shards]
        return np.stack(rows) if stack else np.concatenate(rows)

    people = People(**{f: joined("people", f) for f in People._fields})
    state["people"] = packed(people, VIEWER)
    del people
    for k in _USER_ROWS:
        state[k] = joined("rows", k)
    for k in _PART_ROWS:
        state[k] = joined("parts", k)
    views = {f: joined("views", f, stack=True) for f in _VIEWS}
    state["view_cal"] = ShardedCalendar(**views, owner=state.pop("view_owner"))
    offsets = np.cumsum([0] + [s["followers_idx"].size for s in shards])
    ptr = [np.zeros(1, dtype=np.int64)]
    ptr += [s.pop("followers_ptr")[1:] + offsets[i] for i, s in enumerate(shards)]
    g = state.pop("graph")
    state["graph"] = Graph(
        n=g["n"],
        followers_ptr=np.concatenate(ptr),
        followers_idx=np.concatenate([s.pop("followers_idx") for s in shards]),
        circle_ptr=g["circle_ptr"],
        circle_members=g["circle_members"],
        circle_of=g["circle_of"],
    )
    return state


# ---------------------------------------------------------------- the folder


def _threads(files: int) -> int:
    return max(1, min(files, numba.get_num_threads()))


def _old_file(path: Path) -> bool:
    """Is `path` a checkpoint file of an earlier format (one file per run)?"""
    with contextlib.suppress(OSError), path.open("rb") as fh:
        return fh.read(34).startswith(b'{"format": "tightrope-checkpoint/')
    return False


def check_writable(path: str | Path) -> Path:
    """`path` as a checkpoint folder a run may write: InputError if something other than a
    folder or a checkpoint file of an earlier format is there (that file is replaced)."""
    path = Path(path)
    if path.exists() and not path.is_dir() and not _old_file(path):
        raise InputError(
            f"checkpoint {path} is a file that is not a Tightrope checkpoint: a checkpoint "
            "is a folder; give a new name or the name of a folder"
        )
    return path


def _generation(folder: Path) -> int:
    """One more than the generation of the checkpoint already in `folder`, if any."""
    with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
        return int(json.loads((folder / MANIFEST).read_bytes()).get("generation", 0)) + 1
    return 1


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs folders
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _apart(shared: Piece, owned: dict[str, np.ndarray]) -> None:
    """TypeError if an array of the shared file is a view of an array the shards split:
    it would come back apart from the rows it shares memory with."""
    for name, a in shared.arrays:
        for whole, b in owned.items():
            if np.may_share_memory(a, b):
                raise TypeError(
                    f"a checkpoint cannot store {name} and {whole}: they share memory, and "
                    "would come back apart"
                )


def save_checkpoint(sim: Simulation, path: str | Path) -> Path:
    """Write the state of `sim` to the checkpoint folder `path`; return the path. The
    previous checkpoint there stays whole until the new one is complete.

    TypeError if the state holds a value the format cannot store, before anything is
    written: a checkpoint that silently left something out would resume differently."""
    folder = check_writable(path)
    gen = _generation(folder) if folder.is_dir() else 1
    shared, shards, owned = split_state(sim)
    config = config_sha256(sim.scenario)
    about = {"config_sha256": config, "tick": sim.t, "generation": gen}
    names = [f"shared.{gen}.ckpt"] + [f"shard-{s}.{gen}.ckpt" for s in range(len(shards))]
    pieces = [encode_piece({"piece": "shared", **about}, shared)]
    pieces += [
        encode_piece({"piece": "shard", "shard": s, **about}, state)
        for s, state in enumerate(shards)
    ]
    _apart(pieces[0], owned)
    if folder.exists() and not folder.is_dir():
        folder.unlink()  # a checkpoint of an earlier format, which no version here resumes
    folder.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(_threads(len(pieces))) as pool:
        headers = list(pool.map(write_piece, [folder / n for n in names], pieces))
    files = [
        {"name": name, "piece": head["piece"], "bytes": (folder / name).stat().st_size,
         "sha256": head["sha256"]}
        for name, head in zip(names, headers, strict=True)
    ]  # fmt: skip
    manifest = {
        "format": FORMAT,
        "tightrope_version": _version(),
        "config_sha256": config,
        "scenario": sim.scenario.name,
        "seed": sim.scenario.run.seed,
        "tick": sim.t,
        "ticks": sim.n_ticks,
        "generation": gen,
        "users": sim.n_users,
        "shards": sim.shards,
        "files": files,
    }
    manifest["sha256"] = hashlib.sha256(_canonical(manifest)).hexdigest()
    with atomic_open(folder / MANIFEST, "wb") as fh:
        fh.write((json.dumps(manifest) + "\n").encode())
    _sync_folder(folder)
    keep = {f["name"] for f in files}
    for old in folder.iterdir():  # older generations, and what killed saves left
        if (_PIECE.fullmatch(old.name) and old.name not in keep) or _STALE.fullmatch(old.name):
            with contextlib.suppress(OSError):
                old.unlink()
    return folder


def read_header(path: str | Path) -> dict[str, Any]:
    """The manifest of the checkpoint folder `path` (its checksum verified); InputError if
    there is none (the files it names are checked by `load_checkpoint`)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"checkpoint {path}: not found")
    if not path.is_dir():  # a file: an earlier format's checkpoint, or not one at all
        read_piece_header(path)  # names the format it is in
        raise InputError(
            f"checkpoint {path} is one file of a checkpoint: give the folder that holds it "
            f"and its {MANIFEST}"
        )
    file = path / MANIFEST
    if not file.is_file():
        raise InputError(
            f"checkpoint {path}: the folder has no {MANIFEST} (not a Tightrope checkpoint, "
            "or its first save never finished); start the run afresh"
        )
    with file.open("rb") as fh:
        line = fh.readline(_MANIFEST_LIMIT)
    manifest = parse_header(file, line)
    expected = manifest.pop("sha256", None)
    if hashlib.sha256(_canonical(manifest)).hexdigest() != expected:
        raise damaged(file, "it does not match its checksum")
    return manifest


def check_compatible(path: str | Path, scenario: Scenario) -> dict[str, Any]:
    """The manifest of `path` if it was written for `scenario` by this version, else
    InputError."""
    header = read_header(path)
    version = _version()
    if header.get("tightrope_version") != version:
        raise InputError(
            f"checkpoint {path} was written by Tightrope {header.get('tightrope_version')}, "
            f"this is {version}: a run can only resume with the version that started it; "
            "start the run afresh"
        )
    want = config_sha256(scenario)
    if header.get("config_sha256") != want:
        raise InputError(
            f"checkpoint {path} was written for another configuration "
            f"({header.get('scenario')}, seed {header.get('seed')}, config "
            f"{str(header.get('config_sha256'))[:12]}) than this run "
            f"({scenario.name}, seed {scenario.run.seed}, config {want[:12]}): resume with "
            "the same scenario, --set options, users, days and seed, or start afresh"
        )
    return header


def _files(path: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's list of files, checked: the shared file, then one per shard."""
    files = manifest.get("files")
    shards = manifest.get("shards")
    if (
        not isinstance(files, list)
        or type(shards) is not int
        or len(files) != shards + 1
        or not all(isinstance(f, dict) and _PIECE.fullmatch(str(f.get("name"))) for f in files)
        or [f.get("piece") for f in files] != ["shared"] + ["shard"] * shards
    ):
        raise damaged(path / MANIFEST, "its list of files cannot be read")
    for f in files:
        file = path / f["name"]
        if not file.is_file():
            raise damaged(path, f"the file {f['name']} its manifest names is missing")
        size, want = file.stat().st_size, f.get("bytes")
        if type(want) is not int:
            raise damaged(path / MANIFEST, "its list of files cannot be read")
        if size < want:
            raise damaged(file, "it ends early (truncated)")
        if size > want:
            raise damaged(file, f"it has {size - want:,} bytes more than its manifest records")
    return files


def load_checkpoint(path: str | Path, scenario: Scenario, shards: int | None = None) -> Simulation:
    """A Simulation restored from the checkpoint folder `path`, which must have been
    written for `scenario`, with its calendar of views in `shards` shards (None: as saved;
    another number moves the views, `Simulation.reshard`, and the run goes on to the same
    results).

    InputError if it was not (see `check_compatible`), or if a file is missing, is not the
    one the manifest names, or is damaged: sizes and checksums are verified before any of
    it is used."""
    from tightrope.engine.simulation import Simulation

    path = Path(path)
    manifest = check_compatible(path, scenario)
    files = _files(path, manifest)
    with ThreadPoolExecutor(_threads(len(files))) as pool:
        states = list(pool.map(lambda f: read_piece(path / f["name"], f["sha256"]), files))
    try:
        state = join_state(states[0], states[1:], int(manifest["users"]))
        if set(state) & set(_NOT_STORED) or not all(k.isidentifier() for k in state):
            raise ValueError("it has attributes a Simulation does not store")
        sim = Simulation.__new__(Simulation)
        sim.__dict__.update(state)
        sim.posts = packed(sim.posts, POST_HOT)  # records are stored field by field
        sim.candidates = new_candidates(sim.scratch.size)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise damaged(path, f"its shards cannot be joined ({type(exc).__name__}: {exc})") from None
    sim.scenario = scenario
    if shards is not None:
        sim.reshard(shards)
    return sim


def remove_checkpoint(path: str | Path, config: str) -> bool:
    """Remove the checkpoint at `path` if it was written for the config of sha256 `config`
    (a finished run's, no longer needed): its manifest and files, and the folder if
    nothing else is in it. Another run's checkpoint, or what is not one, stays."""
    path = Path(path)
    try:
        manifest = read_header(path)
    except (InputError, OSError):
        return False
    if manifest.get("config_sha256") != config:
        return False
    (path / MANIFEST).unlink()
    for old in path.iterdir():
        if _PIECE.fullmatch(old.name) or _STALE.fullmatch(old.name):
            old.unlink()
    with contextlib.suppress(OSError):
        path.rmdir()
    return True
