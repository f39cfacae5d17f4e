"""The social network: a directed follower graph in CSR form and private circles.

A synthetic graph is drawn by the structured generator (`tightrope.model.follow_graph`,
the default: regions, communities, heavy tails, closure, follow-backs; its settings come
from the scenario through `graph_settings`) or by the independent one kept here for
comparison (`synthetic`: follows drawn independently from a capped popularity table, with
random private circles). A real graph is read from an edge list (`read_edge_list`).

`followers_ptr`/`followers_idx` list, for each account, the accounts that follow it (the
direction content flows). A follower sees a post on a platform only if both use that
platform, so per-platform layers are the one graph filtered by platform membership.
Private messaging runs over small mutual circles: a partition of users into groups.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from tightrope.core.graph import Graph
from tightrope.core.rng import alias_fill, alias_pick, numpy_generator, uniform
from tightrope.core.world import draw_kinds, popularity_boost
from tightrope.errors import InputError
from tightrope.model.follow_graph import GraphSettings, generate
from tightrope.scenario.edge_lists import edge_chunks, no_usable_edge
from tightrope.scenario.node_attributes import read_node_attributes
from tightrope.scenario.schema import Network, Scenario


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


def read_edge_list(path: str | Path, circle_size: int, rng: np.random.Generator) -> Graph:
    """A follower graph from a file of 'follower followee' pairs of integer ids.

    Ids must be 0..n-1; the number of users is the largest id + 1 (an id with no edge is a
    user who follows no one and has no followers). Lines starting with '#' are comments;
    separators may be spaces, tabs or commas. Self-loops and repeated pairs are dropped; a
    file with no other edge is refused (see `edge_list_info` for the checks).
    """
    data = np.concatenate([np.empty((0, 2), dtype=np.int64), *edge_chunks(path)])
    why = no_usable_edge(path, data.shape[0], int(np.count_nonzero(data[:, 0] == data[:, 1])))
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


def graph_settings(net: Network) -> GraphSettings:
    """The structured generator's settings from the scenario's `network` table (one field
    each, same names)."""
    return GraphSettings(
        mean_following=net.mean_following,
        out_degree_sigma=net.out_degree_sigma,
        max_following=net.max_following,
        popularity_exponent=net.popularity_exponent,
        top_share=net.top_share,
        accounts_over_share=net.accounts_over_share,
        community_share=net.community_share,
        region_share=net.region_share,
        closure_share=net.closure_share,
        closure_local_tries=net.closure_local_tries,
        reciprocity=net.reciprocity,
        follow_back_half_degree=net.follow_back_half_degree,
        region_shares=tuple(net.regions),
        community_min_size=net.community_min_size,
        community_max_size=net.community_max_size,
        community_max_region_share=net.community_max_region_share,
        community_size_exponent=net.community_size_exponent,
        circle_size=net.circle_size,
    )


class Built(NamedTuple):
    """The network of a run and who is where in it."""

    graph: Graph
    kind: np.ndarray  # int8 (n,): each account's kind
    region: np.ndarray  # int16 (n,): each user's region (0 when the network has none)
    community: np.ndarray | None  # int32 (n,): the structured generator's communities
    platforms: tuple[np.ndarray, np.ndarray] | None
    """(ids, platform bits) given by a node-attribute table: these users' platforms."""


def build_network(sc: Scenario) -> Built:
    """The run's network: read from the edge list (with its node-attribute table, if any)
    or drawn by the scenario's generator. Kinds are drawn from the population's shares
    (stream `population`, part 2) before the graph, whose popularity they boost; the
    graph's draws come from the stream `network`."""
    seed = sc.run.seed
    net = sc.network
    kinds_rng = numpy_generator(seed, "population", part=2)
    if net.source == "edge_list":
        g = read_edge_list(net.edge_list, net.circle_size, numpy_generator(seed, "network"))
        kind = draw_kinds(sc, g.n, kinds_rng)
        region = np.zeros(g.n, dtype=np.int16)
        platforms = None
        if net.node_attributes:
            attrs = read_node_attributes(net.node_attributes, g.n, sc.platform_names())
            if attrs.kind is not None:
                kind[attrs.ids] = attrs.kind
            if attrs.region is not None:
                region[attrs.ids] = attrs.region
            if attrs.platforms is not None:
                platforms = (attrs.ids, attrs.platforms)
        return Built(g, kind, region, None, platforms)
    n = sc.run.users
    kind = draw_kinds(sc, n, kinds_rng)
    boost = popularity_boost(sc, kind)
    if net.generator == "independent":
        g = synthetic(
            n,
            net.mean_following,
            net.popularity_alpha,
            boost,
            net.max_follower_share,
            net.circle_size,
            numpy_generator(seed, "network"),
        )
        return Built(g, kind, np.zeros(n, dtype=np.int16), None, None)
    fg = generate(n, seed, graph_settings(net), boost)
    return Built(fg.graph, kind, fg.region, fg.community, None)
