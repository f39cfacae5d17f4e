"""One file of a checkpoint: a header, a state and its arrays, checked before anything is used.

A checkpoint (`tightrope.engine.checkpoints`) is a folder of such files and a manifest.
Each file has three parts, one after the other:

1. a header, one JSON line: the format (`tightrope-checkpoint/10`), what the file is (the
   fields its writer gives: the run, the tick, the piece of the state), the sizes of the
   two parts below, and `sha256`: the sha256 of the header's other fields (as compact JSON
   with sorted keys), a newline and every byte after the header line;
2. the state, `state_bytes` of JSON: a dict of values as a typed tree, and the table of its
   arrays (dotted name, dtype, shape, memory order);
3. the arrays' raw bytes, in the table's order.

Reading verifies the size and the checksum before anything is used: a truncated, longer or
altered file is refused (`InputError`, "damaged checkpoint ..."), so that a damaged file
never resumes into different results. Reading never executes code from the file: there is
no pickle; arrays are read as raw bytes of a plain numeric dtype, and the tree names only
NamedTuples, dataclasses and objects from the whitelist `_CLASSES` (never an importable
name), NumPy bit generators from `_BIT_GENERATORS`, and JSON values. Floats round-trip to
the bit (finite ones as JSON, whose float repr round-trips; NaN and inf by their bits), and
NumPy scalars come back as the same NumPy type. Saving a value of a type the format does
not know is an error (TypeError), never a silent omission. Files are written to a temporary
name and renamed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import struct
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
from pydantic import BaseModel

from tightrope.core.graph import Graph
from tightrope.core.world import (
    POST_HOT,
    VIEWER,
    Calendar,
    People,
    Posts,
    Requests,
    ReviewQueues,
    ShardedCalendar,
)
from tightrope.errors import InputError
from tightrope.model.events import EventState, Timed
from tightrope.model.feed import FeedViews
from tightrope.model.platforms import Economy
from tightrope.model.policy import Consts, Law, Rules
from tightrope.model.posting import Intents
from tightrope.model.sanctions import Ladder
from tightrope.results.storage import atomic_open
from tightrope.scenario.schema import Event

FORMAT = "tightrope-checkpoint/10"

_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Calendar,
        Consts,
        Economy,
        Event,
        EventState,
        FeedViews,
        Graph,
        Intents,
        Ladder,
        Law,
        People,
        Posts,
        Requests,
        ReviewQueues,
        Rules,
        ShardedCalendar,
        Timed,
    )
}
"""The only classes a checkpoint may hold (besides NumPy's), by name: loading rebuilds
them from this table, never by importing a name found in the file."""

_BIT_GENERATORS: dict[str, type] = {
    cls.__name__: cls
    for cls in (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64)
}
"""The NumPy bit generators a stored `numpy.random.Generator` may use."""

# arrays stored field by field and put back into one record on loading (see `packed`)
_REPACKED = frozenset(
    [f"posts.{n}" for n in POST_HOT.names] + [f"people.{n}" for n in VIEWER.names]
)
_DTYPE = re.compile(r"[<>|][biufc][0-9]{1,2}")
_HEADER_LIMIT = 65536
_CHUNK = 1 << 24


def _kind(cls: type) -> str:
    """How a whitelisted class is stored: as a NamedTuple, dataclass, model or object."""
    if issubclass(cls, tuple):
        return "namedtuple"
    if dataclasses.is_dataclass(cls):
        return "dataclass"
    if issubclass(cls, BaseModel):
        return "model"
    return "object"


def _field_names(cls: type) -> list[str] | None:
    """The fields a whitelisted class is rebuilt from (None: a plain object's attributes)."""
    kind = _kind(cls)
    if kind == "namedtuple":
        return list(cls._fields)  # type: ignore[attr-defined]
    if kind == "dataclass":
        return [f.name for f in dataclasses.fields(cls)]
    if kind == "model":
        return list(cls.model_fields)  # type: ignore[attr-defined]
    return None


# ---------------------------------------------------------------- writing


class _Writer:
    """Turns the state into a JSON tree and a list of arrays, refusing what it cannot keep."""

    def __init__(self) -> None:
        self.table: list[dict[str, Any]] = []
        self.data: list[np.ndarray] = []  # the bytes of each array (uint8, contiguous)
        self.names: dict[int, str] = {}  # id of a stored array -> its name
        self.taken: set[str] = set()  # the names given
        self.arrays: list[np.ndarray] = []  # the stored arrays (keeps their ids unique)
        self.containers: dict[int, str] = {}  # id of a mutable container -> its name

    def value(self, v: Any, name: str) -> Any:
        t = type(v)
        if v is None or t is bool or t is int or t is str:
            return v
        if t is float:
            return v if math.isfinite(v) else {"float": struct.pack("<d", v).hex()}
        if t is np.ndarray:
            return {"array": self.array(v, name)}
        if isinstance(v, np.generic) and _DTYPE.fullmatch(v.dtype.str):
            return {"scalar": v.dtype.str, "hex": v.tobytes().hex()}
        if t is list:
            self.once(v, name)
            return [self.value(x, f"{name}.{i}") for i, x in enumerate(v)]
        if t is tuple:
            return {"tuple": [self.value(x, f"{name}.{i}") for i, x in enumerate(v)]}
        if t is dict:
            self.once(v, name)
            return {
                "dict": [[self.value(k, f"{name}.key"), self.value(x, f"{name}.{k}")]
                         for k, x in v.items()]
            }  # fmt: skip
        if t is np.random.Generator:
            return self.generator(v, name)
        if _CLASSES.get(t.__name__) is t:
            fields = _field_names(t)
            if fields is None:  # a plain object: its attributes
                self.once(v, name)
                fields = list(vars(v))
            elif _kind(t) != "namedtuple":
                self.once(v, name)
            return {
                _kind(t): t.__name__,
                "fields": {f: self.value(getattr(v, f), f"{name}.{f}") for f in fields},
            }
        raise TypeError(
            f"a checkpoint cannot store {name} ({t.__module__}.{t.__qualname__}): add its "
            "type to tightrope.engine.checkpoint_files (or leave it out of the Simulation's state)"
        )

    def once(self, v: Any, name: str) -> None:
        """A mutable container held in two places would come back as two: refuse it."""
        if id(v) in self.containers:
            raise TypeError(
                f"a checkpoint cannot store {name}: it is the same object as "
                f"{self.containers[id(v)]}, and would come back as two"
            )
        self.containers[id(v)] = name

    def array(self, a: np.ndarray, name: str) -> str:
        if id(a) in self.names:  # the same array twice comes back as one, as it was
            return self.names[id(a)]
        if not _DTYPE.fullmatch(a.dtype.str):
            raise TypeError(
                f"a checkpoint cannot store {name}: arrays of dtype {a.dtype} are not "
                "supported (only plain booleans, integers, floats and complex numbers)"
            )
        order = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
        if name in self.taken:  # dict keys 3 and "3" would both give NAME.3
            name = next(f"{name}#{i}" for i in range(2, 1 << 30) if f"{name}#{i}" not in self.taken)
        self.taken.add(name)
        self.names[id(a)] = name
        self.arrays.append(a)
        self.table.append(
            {"name": name, "dtype": a.dtype.str, "shape": list(a.shape), "order": order}
        )
        # ravel copies a strided view (a field of a record) and is free otherwise
        self.data.append(a.ravel(order=order).view(np.uint8))
        return name

    def generator(self, g: np.random.Generator, name: str) -> dict[str, Any]:
        bg = g.bit_generator
        kind = type(bg).__name__
        if _BIT_GENERATORS.get(kind) is not type(bg):
            raise TypeError(f"a checkpoint cannot store {name}: bit generator {kind}")
        seq = getattr(bg, "seed_seq", None)
        seed = None
        if isinstance(seq, np.random.SeedSequence):  # kept so that spawn() goes on the same
            seed = {
                "entropy": self.value(seq.entropy, f"{name}.entropy"),
                "spawn_key": [int(k) for k in seq.spawn_key],
                "pool_size": int(seq.pool_size),
                "n_children_spawned": int(seq.n_children_spawned),
            }
        return {"generator": kind, "seed": seed, "state": self.value(bg.state, name)}

    def check_overlaps(self) -> None:
        """Two stored arrays that share memory would come back apart: refuse that, but for
        the fields of the records that loading packs again."""
        by_root: dict[int, list[np.ndarray]] = {}
        for a in self.arrays:
            root: Any = a
            while isinstance(root.base, np.ndarray):
                root = root.base
            by_root.setdefault(id(root.base if root.base is not None else root), []).append(a)
        for group in by_root.values():
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    names = {self.names[id(a)], self.names[id(b)]}
                    if names <= _REPACKED or not np.may_share_memory(a, b):
                        continue
                    raise TypeError(
                        "a checkpoint cannot store {} and {}: they share memory, and would "
                        "come back apart".format(*sorted(names))
                    )


def _canonical(header: dict[str, Any]) -> bytes:
    """What the checksum covers of the header: its fields but the checksum, in one form."""
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"


class Piece(NamedTuple):
    """One file of a checkpoint, encoded and not yet written (`encode_piece`)."""

    header: dict[str, Any]  # what the file is, its format and sizes (not its checksum)
    body: bytes  # the state tree and the table of arrays, as JSON
    data: list[np.ndarray]  # the bytes of each array (uint8, contiguous), in the table's order
    arrays: list[tuple[str, np.ndarray]]  # each stored array by name, as in the state


def encode_piece(header: dict[str, Any], state: dict[str, Any]) -> Piece:
    """One file of a checkpoint, ready to write: `header` (JSON values saying what the file
    is; the format and sizes are added) and `state`, a dict of values the format can store.

    TypeError if `state` holds a value the format cannot store: a checkpoint that silently
    left something out would resume differently."""
    writer = _Writer()
    tree = {k: writer.value(v, k) for k, v in state.items()}
    writer.check_overlaps()
    body = json.dumps(
        {"state": tree, "arrays": writer.table}, separators=(",", ":"), allow_nan=False
    ).encode()
    header = {
        "format": FORMAT,
        **header,
        "state_bytes": len(body),
        "content_bytes": len(body) + sum(d.nbytes for d in writer.data),
    }
    arrays = [(writer.names[id(a)], a) for a in writer.arrays]
    return Piece(header, body, writer.data, arrays)


def write_piece(path: Path, piece: Piece) -> dict[str, Any]:
    """Write `piece` to `path` atomically (a temporary name, renamed); return its header as
    written, its `sha256` included."""
    header = dict(piece.header)
    digest = hashlib.sha256(_canonical(header))
    digest.update(piece.body)
    for d in piece.data:
        digest.update(d)
    header["sha256"] = digest.hexdigest()
    with atomic_open(path, "wb") as fh:
        fh.write((json.dumps(header) + "\n").encode())
        fh.write(piece.body)
        for d in piece.data:
            fh.write(d)  # type: ignore[arg-type]
    return header


# ---------------------------------------------------------------- reading


class _UnreadableError(Exception):
    """A part of a checkpoint that does not make sense (the message says what)."""


def damaged(path: str | Path, what: str) -> InputError:
    """The error for a checkpoint whose file `path` cannot be used, saying `what` is wrong."""
    return InputError(f"damaged checkpoint {path}: {what}; start afresh or use an older one")


def parse_header(path: Path, line: bytes) -> dict[str, Any]:
    """The JSON header `line` of the file `path` (a checkpoint's file or its manifest), in
    this format; InputError naming the format it is in, or that it is not a checkpoint."""
    try:
        header = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict):
        if line.startswith(b'{"format": "' + FORMAT.encode() + b'"'):  # ours, but cut
            if not line.endswith(b"\n"):
                raise damaged(path, "it ends early (truncated)")
            raise damaged(path, "its header cannot be read")
        header = {}
    fmt = header.get("format")
    if fmt != FORMAT:
        if isinstance(fmt, str) and fmt.startswith("tightrope-checkpoint/"):
            raise InputError(
                f"checkpoint {path} is in format {fmt}, which this version of Tightrope "
                f"cannot read (it reads {FORMAT}): start the run afresh"
            )
        raise InputError(f"checkpoint {path}: not a Tightrope checkpoint (expected {FORMAT})")
    return header


def read_piece_header(path: str | Path) -> dict[str, Any]:
    """The header of one file of a checkpoint; InputError if it is not one (its content is
    not checked here: `read_piece` does that)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path}: file not found")
    with path.open("rb") as fh:
        line = fh.readline(_HEADER_LIMIT)
    return parse_header(path, line)


def _layout(body: bytes, arrays_bytes: int) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    """The state tree and the arrays' (name, dtype, shape, order) of the state part,
    checked to describe exactly `arrays_bytes` of arrays."""
    try:
        doc = json.loads(body, parse_constant=lambda c: _reject(f"the JSON constant {c}"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise _UnreadableError("it is not JSON") from exc
    if not isinstance(doc, dict) or set(doc) != {"state", "arrays"}:
        raise _UnreadableError("it has no state and array table")
    if not isinstance(doc["state"], dict) or not isinstance(doc["arrays"], list):
        raise _UnreadableError("it has no state and array table")
    layout = []
    total = 0
    for entry in doc["arrays"]:
        if not isinstance(entry, dict) or set(entry) != {"name", "dtype", "shape", "order"}:
            raise _UnreadableError("a bad entry in the array table")
        name, dtype, shape, order = (entry[k] for k in ("name", "dtype", "shape", "order"))
        if not isinstance(name, str) or not isinstance(dtype, str) or order not in "CF":
            raise _UnreadableError(f"a bad entry for {name} in the array table")
        if not _DTYPE.fullmatch(dtype) or np.dtype(dtype).str != dtype:
            raise _UnreadableError(f"array {name} has dtype {dtype!r}, which is not allowed")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise _UnreadableError(f"array {name} has shape {shape!r}")
        total += math.prod(shape) * np.dtype(dtype).itemsize
        if total > arrays_bytes:
            break
        layout.append((name, np.dtype(dtype), tuple(shape), order))
    if total != arrays_bytes:
        raise _UnreadableError("the array table does not match the file's size")
    return doc["state"], layout


def _reject(what: str) -> Any:
    raise _UnreadableError(f"it holds {what}")


def _read_into(fh: IO[bytes], buf: np.ndarray, digest: Any) -> bool:
    """Fill `buf` (uint8) from `fh` and add it to `digest`; False if the file ends first."""
    view = memoryview(buf)  # type: ignore[arg-type]
    got = 0
    while got < len(view):
        n = fh.readinto(view[got : got + _CHUNK])  # type: ignore[attr-defined]
        if not n:
            return False
        digest.update(view[got : got + n])
        got += n
    return True


def _read_rest(fh: IO[bytes], digest: Any) -> None:
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)


class _Reader:
    """Rebuilds values from the JSON tree of a verified checkpoint."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def value(self, node: Any, where: str) -> Any:
        t = type(node)
        if node is None or t in (bool, int, float, str):
            return node
        if t is list:
            return [self.value(x, f"{where}.{i}") for i, x in enumerate(node)]
        if t is not dict or not node:
            raise _UnreadableError(f"{where} is not a value")
        tag = next(iter(node))
        keys = set(node)
        if keys == {"float"} and isinstance(node["float"], str):
            return struct.unpack("<d", self.hex(node["float"], 8, where))[0]
        if keys == {"array"}:
            if node["array"] not in self.arrays:
                raise _UnreadableError(f"{where} names an array that is not in the file")
            return self.arrays[node["array"]]
        if keys == {"scalar", "hex"}:
            dtype = node["scalar"]
            if not isinstance(dtype, str) or not _DTYPE.fullmatch(dtype):
                raise _UnreadableError(f"{where} has a scalar of dtype {dtype!r}")
            size = np.dtype(dtype).itemsize
            return np.frombuffer(self.hex(node["hex"], size, where), dtype=dtype)[0]
        if keys == {"tuple"} and type(node["tuple"]) is list:
            return tuple(self.value(x, f"{where}.{i}") for i, x in enumerate(node["tuple"]))
        if keys == {"dict"} and type(node["dict"]) is list:
            out = {}
            for pair in node["dict"]:
                if type(pair) is not list or len(pair) != 2:
                    raise _UnreadableError(f"{where} is not a dict")
                key = self.value(pair[0], f"{where}.key")
                try:
                    out[key] = self.value(pair[1], f"{where}.{key}")
                except TypeError as exc:  # an unhashable key
                    raise _UnreadableError(f"{where} has a key that cannot be one") from exc
            return out
        if keys == {"generator", "seed", "state"}:
            return self.generator(node, where)
        if keys == {tag, "fields"} and tag in ("namedtuple", "dataclass", "model", "object"):
            return self.instance(tag, node[tag], node["fields"], where)
        raise _UnreadableError(f"{where} holds something unknown ({', '.join(sorted(keys))})")

    @staticmethod
    def hex(text: Any, size: int, where: str) -> bytes:
        try:
            raw = bytes.fromhex(text)
        except (TypeError, ValueError):
            raw = b""
        if len(raw) != size:
            raise _UnreadableError(f"{where} is not a number")
        return raw

    def instance(self, kind: str, name: Any, fields: Any, where: str) -> Any:
        cls = _CLASSES.get(name) if isinstance(name, str) else None
        if cls is None or _kind(cls) != kind:
            raise _UnreadableError(f"{where} is of class {name!r}, which a checkpoint may not hold")
        if not isinstance(fields, dict):
            raise _UnreadableError(f"{where} has no fields")
        want = _field_names(cls)
        if want is not None and list(fields) != want:
            raise _UnreadableError(f"{where}: the fields of {name} are not {', '.join(want)}")
        values = {f: self.value(x, f"{where}.{f}") for f, x in fields.items()}
        if kind == "model":
            return cls.model_construct(**values)  # type: ignore[attr-defined]
        if kind != "object":
            return cls(**values)
        if not all(k.isidentifier() and not k.startswith("__") for k in values):
            raise _UnreadableError(f"{where} has attributes that {name} does not have")
        obj = cls.__new__(cls)
        obj.__dict__.update(values)
        return obj

    def generator(self, node: dict[str, Any], where: str) -> np.random.Generator:
        cls = _BIT_GENERATORS.get(node["generator"]) if isinstance(node["generator"], str) else None
        if cls is None:
            raise _UnreadableError(f"{where} uses a bit generator a checkpoint may not hold")
        seed = node["seed"]
        try:
            if seed is None:
                bg = cls()
            else:
                seq = np.random.SeedSequence(
                    self.value(seed["entropy"], f"{where}.entropy"),
                    spawn_key=tuple(seed["spawn_key"]),
                    pool_size=seed["pool_size"],
                    n_children_spawned=seed["n_children_spawned"],
                )
                bg = cls(seq)
            bg.state = self.value(node["state"], where)
        except (KeyError, TypeError, ValueError) as exc:
            raise _UnreadableError(f"{where} is not a random generator's state") from exc
        return np.random.Generator(bg)


def read_piece(path: str | Path, sha256: str) -> dict[str, Any]:
    """The state stored in one file of a checkpoint, whose header's checksum must be
    `sha256` (the manifest's record of it).

    InputError if the file is damaged or is not the one the manifest names: its size and
    checksum are verified before any of it is used."""
    header = read_piece_header(path)
    state_bytes = header.get("state_bytes")
    content_bytes = header.get("content_bytes")
    expected = header.pop("sha256", None)
    if not (
        type(state_bytes) is int
        and type(content_bytes) is int
        and 0 <= state_bytes <= content_bytes
        and isinstance(expected, str)
    ):
        raise damaged(path, "its header is incomplete")
    if expected != sha256:
        raise damaged(path, "it is not the file its manifest names (another checkpoint's?)")
    with Path(path).open("rb") as fh:
        rest = os.fstat(fh.fileno()).st_size - len(fh.readline(_HEADER_LIMIT))
        if rest < content_bytes:
            raise damaged(path, "it ends early (truncated)")
        if rest > content_bytes:
            raise damaged(path, f"it has {rest - content_bytes:,} bytes more than its header says")
        digest = hashlib.sha256(_canonical(header))
        body = fh.read(state_bytes)
        digest.update(body)
        problem = None
        arrays: dict[str, np.ndarray] = {}
        try:
            tree, layout = _layout(body, content_bytes - state_bytes)
        except _UnreadableError as exc:
            problem = str(exc)
            _read_rest(fh, digest)
        else:
            for name, dtype, shape, order in layout:
                a = np.empty(shape, dtype=dtype, order=order)
                if not _read_into(fh, a.ravel(order=order).view(np.uint8), digest):
                    raise damaged(path, "it ends early (truncated)")
                arrays[name] = a
    if digest.hexdigest() != expected:
        raise damaged(path, "its content does not match its checksum")
    try:
        if problem is not None:
            raise _UnreadableError(problem)
        reader = _Reader(arrays)
        return {k: reader.value(v, k) for k, v in tree.items()}
    except _UnreadableError as exc:
        raise damaged(path, f"its state cannot be read ({exc})") from None
    except (AttributeError, TypeError, ValueError, KeyError, RecursionError) as exc:
        raise damaged(path, f"its state cannot be read ({type(exc).__name__}: {exc})") from None
