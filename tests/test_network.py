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
    g = synthetic(n, 30.0, 2.1, np.ones(n), 0.2, 8, rng)
    in_degree = np.diff(g.followers_ptr)
    assert in_degree.max() > 50 * in_degree.mean()  # a few accounts with huge audiences
    assert np.median(in_degree) < in_degree.mean()  # most with few
    # CSR rows are sorted and free of self-follows and repeats
    for u in range(0, n, 997):
        row = g.followers_idx[g.followers_ptr[u] : g.followers_ptr[u + 1]]
        assert np.all(np.diff(row) > 0)
        assert u not in row
    assert sorted(g.circle_members.tolist()) == list(range(n))


@pytest.mark.parametrize(("n", "seed"), [(2_000, 1), (20_000, 1), (20_000, 7)])
def test_users_follow_as_many_accounts_as_set_and_no_account_holds_everyone(n, seed):
    """Follows are drawn without replacement, so the realised mean is the setting, and the
    largest weights are capped, so no account is followed by more than about the share."""
    kinds = np.random.default_rng(seed).choice(
        8, n, p=[0.9, 0.02, 0.01, 0.01, 0.03, 0.01, 0.01, 0.01]
    )
    boost = tightrope.world.POPULARITY_BOOST[kinds]
    g = synthetic(n, 40.0, 2.1, boost, 0.2, 8, np.random.default_rng(seed))
    in_degree = np.diff(g.followers_ptr)
    assert abs(g.followers_idx.size / n - 40.0) < 0.5  # Poisson(40) per user, all distinct
    assert in_degree.max() < 0.25 * n
    assert in_degree.max() > 0.1 * n  # the cap binds: the tail reaches it


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
