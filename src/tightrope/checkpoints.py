"""Checkpoints: a run's whole state on disk, so that a long run can stop and go on.

A checkpoint file is one JSON header line (format, Tightrope version, the config's sha256,
the tick reached) followed by the pickled state of the `Simulation`: every array, every
random stream's position, the recorded rows. Resuming from it and running to the end gives
a result bit-identical to the uninterrupted run. A checkpoint written for another config
(scenario, size, length or seed) or by another Tightrope version is refused before anything
is loaded. Files are written to a temporary name and renamed, so a run killed while writing
leaves the previous checkpoint intact.

Checkpoints use pickle: resume only from checkpoint files you wrote yourself.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InputError
from .feed import new_candidates
from .scenario_files import config_sha256
from .storage import atomic_open
from .world import POST_HOT, VIEWER, packed

if TYPE_CHECKING:
    from .scenario import Scenario
    from .simulation import Simulation

FORMAT = "tightrope-checkpoint/1"
# attributes rebuilt from the scenario, not stored
_NOT_STORED = ("scenario", "candidates")  # the candidates are rebuilt every tick


def _version() -> str:
    from . import __version__

    return __version__


def save_checkpoint(sim: Simulation, path: str | Path) -> Path:
    """Write the state of `sim` to `path` atomically; return the path."""
    path = Path(path)
    header = {
        "format": FORMAT,
        "tightrope_version": _version(),
        "config_sha256": config_sha256(sim.scenario),
        "scenario": sim.scenario.name,
        "seed": sim.scenario.run.seed,
        "tick": sim.t,
        "ticks": sim.n_ticks,
    }
    state = {k: v for k, v in vars(sim).items() if k not in _NOT_STORED}
    with atomic_open(path, "wb") as fh:
        fh.write((json.dumps(header) + "\n").encode())
        pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def read_header(path: str | Path) -> dict[str, Any]:
    """The header of a checkpoint file; InputError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path}: file not found")
    with path.open("rb") as fh:
        line = fh.readline(65536)
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError(f"checkpoint {path}: not a Tightrope checkpoint (expected {FORMAT})")
    return header


def check_compatible(path: str | Path, scenario: Scenario) -> dict[str, Any]:
    """The header of `path` if it was written for `scenario` by this version, else InputError."""
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


def load_checkpoint(path: str | Path, scenario: Scenario) -> Simulation:
    """A Simulation restored from `path`, which must have been written for `scenario`."""
    from .simulation import Simulation

    check_compatible(path, scenario)
    with Path(path).open("rb") as fh:
        fh.readline(65536)
        state = pickle.load(fh)
    sim = Simulation.__new__(Simulation)
    sim.__dict__.update(state)
    # pickling stored each field of a record array as its own array: put them back together
    sim.posts = packed(sim.posts, POST_HOT)
    sim.people = packed(sim.people, VIEWER)
    sim.candidates = new_candidates(sim.scratch.size)
    sim.scenario = scenario
    return sim
