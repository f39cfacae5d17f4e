"""Random draws: the ziggurat exponential, geometric skips, the Poisson shortcut, Poisson
tables and alias tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit
from scipy import stats

from tightrope.core.rng import (
    alias_fill,
    alias_pick,
    geometric_skip,
    make_streams,
    poisson,
    poisson_from,
    poisson_table,
    standard_exponential,
    uniform,
)
from tightrope.model.network import capped_weights


@njit(cache=True)
def _exponentials(s, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = standard_exponential(s)
    return out


def test_ziggurat_exponential_follows_the_exponential_law_in_body_and_tail() -> None:
    x = _exponentials(make_streams(5)[0], 2_000_000)
    assert stats.kstest(x, "expon").pvalue > 0.01
    # the wedges and the tail (beyond r = 7.697, about 1 draw in 2,200) take their own paths
    edges = np.concatenate([np.linspace(0.0, 7.5, 151), [7.697117470131487, 9.0, np.inf]])
    observed, _ = np.histogram(x, bins=edges)
    expected = x.size * -np.diff(np.exp(-edges))
    assert stats.chisquare(observed, expected).pvalue > 0.01
    assert abs(x.mean() - 1.0) < 5 / math.sqrt(x.size)


@njit(cache=True)
def _skips(s, p, n):
    inv_log_q = 1.0 / math.log1p(-p)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = geometric_skip(s, inv_log_q)
    return out


@pytest.mark.parametrize("p", [0.002, 0.3, 0.9])
def test_geometric_skips_count_failures_before_a_success(p: float) -> None:
    x = _skips(make_streams(6)[0], p, 400_000)
    k = np.arange(6)
    observed = np.array([(x == i).sum() for i in k] + [(x >= 6).sum()])
    law = p * (1.0 - p) ** k
    expected = x.size * np.append(law, 1.0 - law.sum())
    if p == 0.002:  # too spread for cells of one value: compare the mean instead
        assert abs(x.mean() - (1 - p) / p) < 5 * math.sqrt(1 - p) / p / math.sqrt(x.size)
    else:
        assert stats.chisquare(observed, expected).pvalue > 0.01


@njit(cache=True)
def _plain_poisson(s, lam):
    """Inversion without the shortcut: what `poisson` computed before it."""
    u = uniform(s)
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and k < 200:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True)
def _both(s1, s2, lams):
    out = np.empty((lams.size, 2), dtype=np.int64)
    for i in range(lams.size):
        out[i, 0] = poisson(s1, lams[i])
        out[i, 1] = _plain_poisson(s2, lams[i])
    return out


def test_poisson_shortcut_gives_the_same_draws_as_plain_inversion() -> None:
    lams = np.concatenate([np.geomspace(1e-12, 29.0, 2000)] * 50)
    s = make_streams(3)[0]
    out = _both(s.copy(), s.copy(), lams)
    assert np.array_equal(out[:, 0], out[:, 1])


@njit(cache=True)
def _table_draws(s, lam, n):
    cdf = np.empty(200)
    used = poisson_table(lam, cdf)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = poisson_from(cdf, used, s)
    return out


@pytest.mark.parametrize("lam", [0.05, 0.9, 6.0, 25.0])
def test_poisson_table_draws_have_the_poisson_mean_and_variance(lam: float) -> None:
    x = _table_draws(make_streams(4)[0], lam, 200_000)
    se = math.sqrt(lam / x.size)
    assert abs(x.mean() - lam) < 5 * se
    assert abs(x.var() / lam - 1.0) < 0.03


@njit(cache=True)
def _alias(weight):
    n = weight.size
    accept = np.zeros(n)
    alias = np.zeros(n, dtype=np.int32)
    total = alias_fill(weight, 0, n, accept, alias, np.empty(n, dtype=np.int32))
    return total, accept, alias


@pytest.mark.parametrize("seed", range(5))
def test_alias_table_gives_each_index_its_share_of_the_weight_exactly(seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.pareto(1.1, 300) * (rng.random(300) < 0.8)  # heavy tail, some zeros
    total, accept, alias = _alias(w)
    assert total == pytest.approx(w.sum())
    n = w.size
    implied = accept.copy()
    np.add.at(implied, alias, 1.0 - accept)  # columns give their rest to their alias
    assert np.allclose(implied / n, w / w.sum(), rtol=1e-9, atol=1e-12)


@njit(cache=True)
def _picks(accept, alias, s, n):
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        out[i] = alias_pick(accept, alias, 0, accept.size, uniform(s))
    return out


def test_alias_picks_follow_the_weights() -> None:
    w = np.array([0.0, 1.0, 2.0, 7.0])
    _, accept, alias = _alias(w)
    picks = _picks(accept, alias, make_streams(5)[0], 400_000)
    freq = np.bincount(picks, minlength=4) / picks.size
    assert freq[0] == 0.0
    assert np.allclose(freq, w / w.sum(), atol=0.003)


def test_capped_weights_bound_each_share_at_the_fixed_point() -> None:
    rng = np.random.default_rng(1)
    w = (rng.pareto(1.1, 100_000) + 1.0) * np.where(rng.random(100_000) < 0.02, 200.0, 1.0)
    k, share = 40.0, 0.2
    capped = capped_weights(w, k, share)
    s_star = 1.0 - (1.0 - share) ** (1.0 / k)
    assert (capped / capped.sum()).max() == pytest.approx(s_star, rel=1e-6)
    assert np.array_equal(capped[w < capped.max()], w[w < capped.max()])  # only the top cut
    assert np.array_equal(capped_weights(w, k, 1.0), w)  # share 1: no cap
    assert np.array_equal(capped_weights(np.ones(50), k, share), np.ones(50))
