"""A table of node attributes for an edge-list network: who each account is.

A real follower graph says who follows whom, not which accounts are media, officials or
ordinary users, where they live, or which platforms they use. `network.node_attributes`
names a CSV file with a header row and a column `id` (the edge list's ids), and any of:

- `kind`: the kind of account, one of `tightrope.scenario.content.KINDS`;
- `region`: a whole number from 0 (regions need not be contiguous; the number of regions
  is the largest + 1);
- `platforms`: the names of the scenario's platforms the account uses, separated by `;`
  (an empty cell: none).

Ids the table does not list keep what the model draws for them (their kind from the
population's shares, region 0, platforms by adoption). An id may appear once. Every problem
is reported with the file, the line and what is allowed; nothing is half-read.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from tightrope.errors import InputError
from tightrope.scenario.content import KINDS

COLUMNS = ("id", "kind", "region", "platforms")
"""The columns a node-attribute table may have; `id` is required."""

MAX_REGIONS = 64
"""Regions are numbered 0..63 (as many as the schema's `network.regions` allows)."""


class NodeAttributes(NamedTuple):
    """The table, checked: for each listed id, the attributes the file gives (None for a
    column it does not have)."""

    ids: np.ndarray  # int64 (rows,)
    kind: np.ndarray | None  # int8 (rows,), index into KINDS
    region: np.ndarray | None  # int32 (rows,)
    platforms: np.ndarray | None  # uint8 (rows,): bit p set for the scenario's platform p


def _line(row: int) -> int:
    """The file's line number of data row `row` (0-based): the header is line 1."""
    return row + 2


def _read(path: str | Path) -> pa.Table:
    where = f"node attributes {path}"
    p = Path(path)
    if not p.exists():
        raise InputError(f"{where}: no such file")
    if p.is_dir():
        raise InputError(f"{where}: is a folder, not a CSV file")
    try:
        return pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(encoding="utf8"),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in COLUMNS}, strings_can_be_null=False
            ),
        )
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{where}: not a readable CSV table with a header row ({first})") from None


def _first(bad: np.ndarray) -> int | None:
    """The first row flagged in `bad`, or None."""
    rows = np.flatnonzero(bad)
    return int(rows[0]) if rows.size else None


def _whole_numbers(col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The column's whole numbers (int64) and where a cell is not one (then 0)."""
    text = np.char.strip(col.astype(str))
    ok = np.char.isdigit(np.char.lstrip(text, "+-")) & (np.char.str_len(text) <= 18)
    values = np.zeros(col.size, dtype=np.int64)
    values[ok] = text[ok].astype(np.int64)
    return values, ~ok


def _ids(col: np.ndarray, where: str, users: int) -> np.ndarray:
    ids, bad = _whole_numbers(col)
    if (k := _first(bad)) is not None:
        raise InputError(f"{where}, line {_line(k)}: id {col[k]!r} is not a whole number")
    if (k := _first((ids < 0) | (ids >= users))) is not None:
        raise InputError(
            f"{where}, line {_line(k)}: id {int(ids[k])} is not a user of the edge list "
            f"(ids 0 to {users - 1})"
        )
    order = np.argsort(ids, kind="stable")
    twice = np.flatnonzero(np.diff(ids[order]) == 0)
    if twice.size:
        k = int(order[twice[0] + 1])
        raise InputError(f"{where}, line {_line(k)}: id {int(ids[k])} is listed twice")
    return ids


def _kinds(col: np.ndarray, where: str) -> np.ndarray:
    names = np.char.strip(col.astype(str))
    known = np.asarray(KINDS)
    if (k := _first(~np.isin(names, known))) is not None:
        raise InputError(
            f"{where}, line {_line(k)}: kind {str(names[k])!r} is not a kind of account "
            f"(allowed: {', '.join(KINDS)})"
        )
    distinct, inverse = np.unique(names, return_inverse=True)
    return np.array([KINDS.index(str(x)) for x in distinct], dtype=np.int8)[inverse]


def _regions(col: np.ndarray, where: str) -> np.ndarray:
    values, bad = _whole_numbers(col)
    if (k := _first(bad | (values < 0) | (values >= MAX_REGIONS))) is not None:
        raise InputError(
            f"{where}, line {_line(k)}: region {col[k]!r} is not a whole number from 0 "
            f"to {MAX_REGIONS - 1}"
        )
    return values.astype(np.int32)


def _platforms(col: np.ndarray, where: str, names: list[str]) -> np.ndarray:
    """Each row's platform bits. The distinct cells are few (combinations of at most 8
    platforms), so each is parsed once and the rows take its bits."""
    cells, inverse = np.unique(col.astype(str), return_inverse=True)
    bits = np.zeros(cells.size, dtype=np.uint8)
    for c, text in enumerate(cells):
        for name in (t.strip() for t in text.split(";")):
            if not name:
                continue
            if name not in names:
                k = int(np.flatnonzero(inverse == c)[0])
                raise InputError(
                    f"{where}, line {_line(k)}: platform {name!r} is not defined in the "
                    f"scenario (defined: {', '.join(names)})"
                )
            bits[c] |= np.uint8(1 << names.index(name))
    return bits[inverse]


def read_node_attributes(path: str | Path, users: int, platforms: list[str]) -> NodeAttributes:
    """The checked table of `path` for an edge list of `users` users and the scenario's
    `platforms` (in order); InputError naming the file, the line and what is allowed."""
    where = f"node attributes {path}"
    table = _read(path)
    unknown = [c for c in table.column_names if c not in COLUMNS]
    if unknown:
        raise InputError(f"{where}: unknown column {unknown[0]!r} (allowed: {', '.join(COLUMNS)})")
    if "id" not in table.column_names:
        raise InputError(f"{where}: no 'id' column (the header must name it)")
    if table.num_rows == 0:
        raise InputError(f"{where}: the table has no rows")
    cols = {c: table.column(c).to_numpy(zero_copy_only=False) for c in table.column_names}
    return NodeAttributes(
        ids=_ids(cols["id"], where, users),
        kind=_kinds(cols["kind"], where) if "kind" in cols else None,
        region=_regions(cols["region"], where) if "region" in cols else None,
        platforms=_platforms(cols["platforms"], where, platforms) if "platforms" in cols else None,
    )
