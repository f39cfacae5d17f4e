"""The follower graph: heavy-tailed in-degree, edge-list input, and its errors."""

from __future__ import annotations

import numpy as np
import pytest

import tightrope
from tightrope.errors import InputError
from tightrope.network import read_edge_list, synthetic


def test_synthetic_in_degree_is_heavy_tailed():
    n = 20_000
    rng = np.random.default_rng(1)
    g = synthetic(n, 30.0, 2.1, np.ones(n), 8, rng)
    in_degree = np.diff(g.followers_ptr)
    assert in_degree.max() > 50 * in_degree.mean()  # a few accounts with huge audiences
    assert np.median(in_degree) < in_degree.mean()  # most with few
    # CSR rows are sorted and free of self-follows and repeats
    for u in range(0, n, 997):
        row = g.followers_idx[g.followers_ptr[u] : g.followers_ptr[u + 1]]
        assert np.all(np.diff(row) > 0)
        assert u not in row
    assert sorted(g.circle_members.tolist()) == list(range(n))


def test_edge_list_defines_the_users_and_runs(tmp_path):
    f = tmp_path / "edges.txt"
    lines = ["# follower followee"] + [f"{i} {(i * 7 + 1) % 300}" for i in range(300)]
    lines += [f"{i},{(i + 3) % 300}" for i in range(0, 300, 2)]
    f.write_text("\n".join(lines) + "\n")
    g = read_edge_list(f, 5, np.random.default_rng(0))
    assert g.n == 300
    assert g.followers_idx.size == 300 + 150
    sc = tightrope.load_scenario(
        "eu-dsa", ["network.source='edge_list'", f"network.edge_list='{f}'"], days=1, seed=2
    )
    result = tightrope.run(sc)
    assert result.meta["users"] == 300
    assert result.meta["edges"] == 450


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "has no edges"),
        ("1 2 3\n", "must have 2 columns (follower followee), has 3"),
        ("1 -2\n", "has a negative id; ids must be 0..n-1"),
        ("a b\n", "is not a list of integer pairs"),
    ],
)
def test_bad_edge_lists_are_refused(tmp_path, text, message):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(InputError, match=r"network\.edge_list: ") as err:
        read_edge_list(f, 5, np.random.default_rng(0))
    assert message in str(err.value)


def test_missing_edge_list_is_refused(tmp_path):
    with pytest.raises(InputError) as err:
        read_edge_list(tmp_path / "none.txt", 5, np.random.default_rng(0))
    assert str(err.value) == f"network.edge_list: file not found: {tmp_path / 'none.txt'}"
