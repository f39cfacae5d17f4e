"""Edge-list files: 'follower followee' pairs of whole-number ids, checked and counted
without building a graph (the model's network builds it from `edge_chunks`).

Read by the scenario's checks (`tightrope.scenario.files`: every problem is named with the
file and the line) and by `tightrope.model.network.read_edge_list`.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from tightrope.errors import InputError


def edge_pairs(text: str) -> np.ndarray:
    """The rows of integer ids in edge-list text (an (edges, columns) int64 array, empty for
    no edges): '#' starts a comment, separators may be spaces, tabs or commas. ValueError if
    it is not a table of integers."""
    with warnings.catch_warnings():  # an empty text is for the caller to report, not warned
        warnings.simplefilter("ignore", UserWarning)
        return np.loadtxt(
            io.StringIO(text.replace(",", " ")), dtype=np.int64, comments="#", ndmin=2
        )


MAX_ID = int(np.iinfo(np.int32).max) - 1
"""The largest id an edge list may use: ids are stored as int32, and so is n = largest id + 1."""

CHUNK_BYTES = 1 << 24
"""Edge lists are read in pieces of about this many bytes (cut at a line end), so that
checking one needs little memory beyond its pairs."""


class EdgeListInfo(NamedTuple):
    """What `edge_list_info` finds in an edge-list file."""

    users: int  # the largest id + 1: ids 0..users-1 are users, with or without edges
    edges: int  # lines with a pair, self-loops and repeats included
    self_loops: int  # pairs whose follower is the followee (dropped when the graph is built)


def _shown(line: str) -> str:
    line = line.strip()
    return repr(line if len(line) <= 60 else line[:57] + "...")


def _bad_line(text: str, where: str, first_line: int) -> str:
    """The message for the first line of `text` that is not a pair of ids in 0..MAX_ID
    (`first_line` is the number of its first line in the file)."""
    for k, line in enumerate(text.split("\n"), start=first_line):
        fields = line.split("#", 1)[0].replace(",", " ").split()
        if not fields:
            continue
        if len(fields) != 2:
            return (
                f"{where}, line {k}: need 2 ids (follower followee), found {len(fields)}: "
                f"{_shown(line)}"
            )
        for tok in fields:
            try:
                value = int(tok)
            except ValueError:
                return f"{where}, line {k}: {tok!r} is not a whole-number id: {_shown(line)}"
            if value < 0:
                return f"{where}, line {k}: negative id {value}; ids must be 0 or more"
            if value > MAX_ID:
                return f"{where}, line {k}: id {value} is too large; ids must be at most {MAX_ID}"
    return f"{where} is not a list of pairs of whole-number ids (follower followee)"


def _pairs(text: str, where: str, first_line: int) -> np.ndarray:
    """The pairs in `text` as an (edges, 2) int64 array; InputError naming the first line
    that is not a pair of ids in 0..MAX_ID."""
    try:
        data = edge_pairs(text)
    except ValueError:
        raise InputError(_bad_line(text, where, first_line)) from None
    if data.size == 0:
        return np.empty((0, 2), dtype=np.int64)
    if data.shape[1] != 2 or data.min() < 0 or data.max() > MAX_ID:
        raise InputError(_bad_line(text, where, first_line))
    return data


def _open_edge_list(path: str | Path) -> Path:
    """The file's path; InputError if it is missing, a folder or not readable."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"network.edge_list: {path} is a folder, not an edge-list file")
    if not p.exists():
        raise InputError(f"network.edge_list: file not found: {path}")
    if not p.is_file():
        raise InputError(f"network.edge_list: {path} is not a regular file")
    if not os.access(p, os.R_OK):
        raise InputError(f"network.edge_list: cannot read {path}: permission denied")
    return p


def edge_chunks(path: str | Path) -> Iterator[np.ndarray]:
    """The pairs of an edge-list file, piece by piece (see `CHUNK_BYTES`), in file order."""
    p = _open_edge_list(path)
    where = f"network.edge_list: {path}"
    rest = b""
    line = 1
    try:
        with p.open("rb") as fh:
            while True:
                chunk = fh.read(CHUNK_BYTES)
                data = rest + chunk
                cut = data.rfind(b"\n") + 1 if chunk else len(data)
                piece, rest = data[:cut], data[cut:]
                try:
                    text = piece.decode("utf-8")
                except UnicodeDecodeError as exc:
                    k = line + piece[: exc.start].count(b"\n")
                    raise InputError(f"{where}, line {k}: not UTF-8 text") from None
                yield _pairs(text, where, line)
                line += piece.count(b"\n")
                if not chunk:
                    break
    except OSError as exc:
        raise InputError(f"network.edge_list: cannot read {path}: {exc.strerror or exc}") from None


def no_usable_edge(path: str | Path, edges: int, self_loops: int) -> str | None:
    where = f"network.edge_list: {path}"
    if edges == 0:
        return f"{where} has no edges"
    if self_loops == edges:
        what = "its one edge is a self-loop" if edges == 1 else f"all {edges:,} are self-loops"
        return f"{where} has no usable edge: {what} (follower = followee); self-loops are dropped"
    return None


@functools.lru_cache(maxsize=16)
def _edge_list_info(path: str, resolved: str, mtime_ns: int, size: int) -> EdgeListInfo:
    users = edges = self_loops = 0
    for data in edge_chunks(path):
        if data.shape[0]:
            users = max(users, int(data.max()) + 1)
            edges += data.shape[0]
            self_loops += int(np.count_nonzero(data[:, 0] == data[:, 1]))
    why = no_usable_edge(path, edges, self_loops)
    if why:
        raise InputError(why)
    return EdgeListInfo(users, edges, self_loops)


def edge_list_info(path: str | Path) -> EdgeListInfo:
    """Check an edge-list file as `read_edge_list` would and count its users and edges,
    reading it in pieces; InputError, naming the file (and the line), if it is missing, a
    folder, unreadable, not text, not pairs of whole-number ids in 0..MAX_ID, or has no
    edge other than self-loops. The answer is kept for the file as it is (same path,
    modification time and size), so checking it again costs nothing."""
    p = _open_edge_list(path)
    try:
        st = p.stat()
        resolved = str(p.resolve())
    except OSError as exc:
        raise InputError(f"network.edge_list: cannot read {path}: {exc.strerror or exc}") from None
    return _edge_list_info(str(path), resolved, st.st_mtime_ns, st.st_size)
