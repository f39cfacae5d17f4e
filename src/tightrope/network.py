"""The social network: a directed follower graph in CSR form and private circles.

`followers_ptr`/`followers_idx` list, for each account, the accounts that follow it (the
direction content flows). A follower sees a post on a platform only if both use that
platform, so per-platform layers are the one graph filtered by platform membership.
Private messaging runs over small mutual circles: a partition of users into groups.
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
from numba import njit

from .errors import InputError
from .rng import alias_fill, alias_pick, uniform


class Graph(NamedTuple):
    n: int
    followers_ptr: np.ndarray  # int64 (n + 1,)
    followers_idx: np.ndarray  # int32 (edges,)
    circle_ptr: np.ndarray  # int64 (circles + 1,)
    circle_members: np.ndarray  # int32 (n,)
    circle_of: np.ndarray  # int32 (n,): the circle each user belongs to


@njit(cache=True)
def _csr_from_edges(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of dst -> list of src (followers of each followee), edges kept in input order."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    for e in range(dst.size):
        ptr[dst[e] + 1] += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    idx = np.empty(src.size, dtype=np.int32)
    for e in range(dst.size):
        d = dst[e]
        idx[fill[d]] = src[e]
        fill[d] += 1
    return ptr, idx


@njit(cache=True)
def _csr_from_draws(k_out: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of followee -> followers from each user's consecutive draws of followees
    (user u's are the next k_out[u] entries of dst), self-follows dropped; followers in
    increasing id order, as `_csr_from_edges` would give. No source array is built."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    e = 0
    for u in range(n):
        for _ in range(k_out[u]):
            d = dst[e]
            if d != u:
                ptr[d + 1] += 1
            e += 1
    for i in range(n):
        ptr[i + 1] += ptr[i]
    fill = ptr[:-1].copy()
    idx = np.empty(ptr[n], dtype=np.int32)
    e = 0
    for u in range(n):
        for _ in range(k_out[u]):
            d = dst[e]
            if d != u:
                idx[fill[d]] = u
                fill[d] += 1
            e += 1
    return ptr, idx


@njit(cache=True)
def _dedupe_rows(ptr: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row and drop repeated followers (in place in `idx`; returns a trimmed
    copy)."""
    n = ptr.size - 1
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    k = 0
    for i in range(n):
        lo, hi = ptr[i], ptr[i + 1]
        idx[lo:hi].sort()
        last = -1
        for j in range(lo, hi):
            v = idx[j]
            if v != last:
                idx[k] = v
                k += 1
                last = v
        out_ptr[i + 1] = k
    return out_ptr, idx[:k].copy()


def circles(n: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Partition users at random into circles of `size` (the last may be smaller)."""
    members = rng.permutation(n).astype(np.int32)
    n_circles = (n + size - 1) // size
    ptr = np.minimum(np.arange(n_circles + 1, dtype=np.int64) * size, n)
    circle_of = np.empty(n, dtype=np.int32)
    circle_of[members] = (np.arange(n) // size).astype(np.int32)
    return ptr, members, circle_of


@njit(cache=True)
def alias_table(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table over all of `weight` (see `rng.alias_fill`)."""
    n = weight.size
    accept = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int32)
    alias_fill(weight, 0, n, accept, alias, np.empty(n, dtype=np.int32))
    return accept, alias


def capped_weights(weight: np.ndarray, mean_following: float, max_share: float) -> np.ndarray:
    """Popularity weights with the largest capped, so that no account is expected to be
    followed by more than `max_share` of users.

    A user who follows k accounts drawn without replacement follows account j with chance
    about 1 - (1 - s_j)^k, where s_j is j's share of the total weight; that is max_share
    when s_j = s* = 1 - (1 - max_share)^(1/k). The cap c solves c = s* x sum(min(w, c))
    (a fixed point, reached by iteration: each step lowers c). When s* x n <= 1 even equal
    weights exceed the share, and all weights are made equal.
    """
    n = weight.size
    k = max(mean_following, 1.0)
    s_star = 1.0 - (1.0 - max_share) ** (1.0 / k)
    if n == 0 or max_share >= 1.0:
        return weight
    if s_star * n <= 1.0:
        return np.ones(n)
    c = s_star * float(weight.sum())
    for _ in range(500):
        nxt = s_star * float(np.minimum(weight, c).sum())
        if nxt >= c * (1.0 - 1e-12):
            break
        c = nxt
    return np.minimum(weight, c)


@njit(cache=True)
def _draw_distinct(k_out, accept, alias, state, mark, dst) -> int:
    """Each user u's k_out[u] followees, distinct and not u, drawn from the alias table
    without replacement (a repeat is drawn again); written to dst user after user. A user
    who has not found them all after 20 k + 100 draws keeps those found (k_out[u] is
    lowered). Returns the number written."""
    n = k_out.size
    e = 0
    for u in range(n):
        mark[u] = u
        want = k_out[u]
        got = 0
        tries = 0
        limit = 20 * want + 100
        while got < want and tries < limit:
            tries += 1
            v = alias_pick(accept, alias, 0, n, uniform(state))
            if mark[v] == u:
                continue
            mark[v] = u
            dst[e] = v
            e += 1
            got += 1
        k_out[u] = got
    return e


def synthetic(
    n: int,
    mean_following: float,
    alpha: float,
    popularity_boost: np.ndarray,
    max_share: float,
    circle_size: int,
    rng: np.random.Generator,
) -> Graph:
    """A follower graph with a heavy-tailed in-degree.

    Each user follows a Poisson number of accounts (mean `mean_following`, at most n - 1),
    distinct and drawn with probability proportional to their popularity: a Pareto(alpha)
    weight times `popularity_boost` (influencers, media and official accounts are boosted),
    with the largest weights capped so that no account is expected to be followed by more
    than `max_share` of users (`capped_weights`). In-degree then has a power-law tail with
    exponent about `alpha` up to that cap. Followees are drawn with an alias table, so
    building the graph costs O(edges) time and little memory beyond the edges themselves.
    """
    weight = (rng.pareto(alpha - 1.0, n) + 1.0) * popularity_boost
    weight = capped_weights(weight, mean_following, max_share)
    accept, alias = alias_table(weight)
    del weight
    k_out = np.minimum(rng.poisson(mean_following, n), max(n - 1, 0))
    state = rng.integers(1, 2**63, size=4, dtype=np.uint64)
    dst = np.empty(int(k_out.sum()), dtype=np.int32)
    mark = np.full(n, -1, dtype=np.int32)
    used = _draw_distinct(k_out, accept, alias, state, mark, dst)
    del mark, accept, alias
    ptr, idx = _csr_from_draws(k_out, dst[:used], n)
    del dst
    cptr, members, circle_of = circles(n, circle_size, rng)
    return Graph(n, ptr, idx, cptr, members, circle_of)


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


def _edge_chunks(path: str | Path) -> Iterator[np.ndarray]:
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


def _no_usable_edge(path: str | Path, edges: int, self_loops: int) -> str | None:
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
    for data in _edge_chunks(path):
        if data.shape[0]:
            users = max(users, int(data.max()) + 1)
            edges += data.shape[0]
            self_loops += int(np.count_nonzero(data[:, 0] == data[:, 1]))
    why = _no_usable_edge(path, edges, self_loops)
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


def read_edge_list(path: str | Path, circle_size: int, rng: np.random.Generator) -> Graph:
    """A follower graph from a file of 'follower followee' pairs of integer ids.

    Ids must be 0..n-1; the number of users is the largest id + 1 (an id with no edge is a
    user who follows no one and has no followers). Lines starting with '#' are comments;
    separators may be spaces, tabs or commas. Self-loops and repeated pairs are dropped; a
    file with no other edge is refused (see `edge_list_info` for the checks).
    """
    data = np.concatenate([np.empty((0, 2), dtype=np.int64), *_edge_chunks(path)])
    why = _no_usable_edge(path, data.shape[0], int(np.count_nonzero(data[:, 0] == data[:, 1])))
    if why:
        raise InputError(why)
    n = int(data.max()) + 1
    src = data[:, 0].astype(np.int32)
    dst = data[:, 1].astype(np.int32)
    del data
    keep = src != dst
    ptr, idx = _csr_from_edges(src[keep], dst[keep], n)
    ptr, idx = _dedupe_rows(ptr, idx)
    cptr, members, circle_of = circles(n, circle_size, rng)
    return Graph(n, ptr, idx, cptr, members, circle_of)
