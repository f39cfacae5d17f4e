"""Comparisons: common random numbers, t intervals, paired differences, stored output."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tightrope.errors import InputError
from tightrope.experiments import compare as cmp
from tightrope.experiments import runner
from tightrope.results import intervals, storage

SMALL = {"users": 2000, "days": 2}


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_child_seeds_are_spawned_from_the_root() -> None:
    seeds = cmp.child_seeds(7, 3)
    expected = [
        int(c.generate_state(1)[0]) for c in np.random.SeedSequence(7).spawn(3)
    ]  # fmt: skip
    assert seeds == expected
    assert len(set(seeds)) == 3
    assert cmp.child_seeds(7, 3) == seeds
    assert cmp.child_seeds(7, 5)[:3] == seeds  # more replicates extend, not reshuffle
    assert cmp.child_seeds(8, 3) != seeds


def test_t_interval_matches_the_t_table() -> None:
    mean, lo, hi, n = intervals.t_interval([1.0, 2.0, 3.0])
    half = 4.302652729749464 / math.sqrt(3)  # t(0.975, df=2) * sd(=1) / sqrt(3)
    assert (mean, n) == (2.0, 3)
    assert lo == pytest.approx(2.0 - half, rel=1e-12)
    assert hi == pytest.approx(2.0 + half, rel=1e-12)


def test_t_interval_with_one_value_or_none() -> None:
    mean, lo, hi, n = intervals.t_interval([5.0])
    assert (mean, n) == (5.0, 1)
    assert math.isnan(lo)
    assert math.isnan(hi)
    mean, lo, hi, n = intervals.t_interval([math.nan, math.nan])
    assert n == 0
    assert math.isnan(mean)
    assert intervals.t_interval([1.0, math.nan, 3.0])[0] == 2.0  # NaN replicates are left out


def test_comparison_rows_are_paired() -> None:
    base = [{"order_score": x, "tilt": "freedom", "posts": 10} for x in (0.1, 0.5, 0.9)]
    other = [{"order_score": x + 0.1, "tilt": "order", "posts": 12} for x in (0.1, 0.5, 0.9)]
    rows = cmp.comparison_rows(["a", "b"], {"a": base, "b": other})
    metrics = [r["metric"] for r in rows if r["scenario"] == "a"]
    assert metrics == ["order_score", "development_score", "freedom_score", "balance", "posts"]
    b = next(r for r in rows if r["scenario"] == "b" and r["metric"] == "order_score")
    assert b["baseline"] == "a"
    assert b["diff_mean"] == pytest.approx(0.1)
    # the pairs differ by a constant, so the paired interval has no width at all, although
    # each scenario's own interval is wide
    assert b["diff_ci_low"] == pytest.approx(0.1)
    assert b["diff_ci_high"] == pytest.approx(0.1)
    assert b["ci_high"] - b["ci_low"] > 0.9
    assert 0 <= b["ci_low"] < b["mean"] < b["ci_high"] <= 1  # a score's interval stays in [0, 1]
    a = next(r for r in rows if r["scenario"] == "a" and r["metric"] == "order_score")
    assert math.isnan(a["diff_mean"])
    assert a["diff_n"] == 0
    missing = next(r for r in rows if r["metric"] == "development_score")
    assert missing["n"] == 0
    assert math.isnan(missing["mean"])
    table = cmp.rows_table(rows)
    assert table.column_names == list(cmp.COMPARISON_COLUMNS)
    assert table.column("diff_mean").null_count == len(metrics) + 3  # baseline + missing


def test_comparison_intervals_stay_in_each_metrics_range() -> None:
    """Means get the interval of their metric's support (tightrope.results.intervals): a score never
    a bound below 0 (the plain t interval gave 0.25 [-0.198, 0.698]), a count no bound below 0;
    a figure of either sign keeps the t interval; differences keep it, clipped to [-1, 1]."""
    from tightrope.results import intervals

    cases = ((0.1, 0, -5.0), (0.2, 0, 1.0), (0.45, 6, 3.0))
    base = [{"order_score": x, "incidents": c, "profit": p} for x, c, p in cases]
    other = [{"order_score": 1.0 - x / 10, "incidents": c, "profit": p} for x, c, p in cases]
    rows = cmp.comparison_rows(["a", "b"], {"a": base, "b": other})

    def row(scenario: str, metric: str) -> dict[str, float]:
        return next(r for r in rows if r["scenario"] == scenario and r["metric"] == metric)

    score = row("a", "order_score")
    assert intervals.t_interval([0.1, 0.2, 0.45])[1] < 0  # what the terminal showed before
    assert 0 < score["ci_low"] < score["mean"] < score["ci_high"] < 1
    assert (score["mean"], score["ci_low"], score["ci_high"], score["n"]) == intervals.interval(
        [0.1, 0.2, 0.45], "unit"
    )
    count = row("a", "incidents")
    _, t_lo, t_hi, _ = intervals.t_interval([0, 0, 6])
    assert t_lo < 0
    assert (count["ci_low"], count["mean"], count["ci_high"]) == (0.0, 2.0, t_hi)  # clipped at 0
    profit = row("a", "profit")
    assert (
        profit["mean"],
        profit["ci_low"],
        profit["ci_high"],
        profit["n"],
    ) == intervals.t_interval([-5.0, 1.0, 3.0])
    diff = row("b", "order_score")
    d = [1.0 - x / 10 - x for x, _, _ in cases]
    _, t_lo, t_hi, _ = intervals.t_interval(d)
    assert t_hi > 1  # the t interval of these differences passes 1
    assert (diff["diff_ci_low"], diff["diff_ci_high"]) == (pytest.approx(t_lo), 1.0)


def test_bad_input_is_refused_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine must not run on bad input")

    monkeypatch.setattr(runner, "timed_run", no_run)
    good = write(tmp_path / "good.toml", 'name = "good"\n')
    bad = write(tmp_path / "bad.toml", "[run]\nusers = -1\n")
    with pytest.raises(InputError, match=r"run\.users: Input should be greater than or equal to 1"):
        cmp.compare([str(good), str(bad)], replicates=2, root_seed=0, out_dir=tmp_path / "o")
    with pytest.raises(InputError, match="replicates must be at least 1"):
        cmp.compare([str(good)], replicates=0, root_seed=0)
    with pytest.raises(InputError, match="repeated"):
        cmp.compare([str(good), str(good)], replicates=1, root_seed=0)
    with pytest.raises(InputError, match="is a file"):
        cmp.compare([str(good)], replicates=1, root_seed=0, out_dir=good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml", "good.toml"]


def test_same_names_get_their_sources_as_labels(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", "")  # both are named "custom"
    b = write(tmp_path / "b.toml", "[population]\nlurker_share = 0.4\n")
    labels, _, seeds = cmp.prepare([str(a), str(b)], replicates=2, root_seed=1)
    assert labels == ["a.toml", "b.toml"]  # the files' names tell them apart
    assert seeds == cmp.child_seeds(1, 2)


def test_compare_with_the_engine(tmp_path: Path) -> None:
    """Common random numbers: a renamed copy of the baseline differs by exactly zero."""
    base = write(tmp_path / "base.toml", 'name = "base"\n')
    twin = write(tmp_path / "twin.toml", 'name = "twin"\n')
    strict = write(
        tmp_path / "strict.toml",
        'name = "strict"\n[state.punishment]\nseverity = 0.9\n'
        "[state.identity]\nreal_name = 1.0\ndata_access = 1.0\n",
    )
    out = tmp_path / "res"
    seen: list[tuple[float, int]] = []
    res = cmp.compare(
        [str(base), str(twin), str(strict)],
        replicates=2,
        root_seed=11,
        out_dir=out,
        progress=lambda done, total: seen.append((done, total)),
        **SMALL,
    )
    assert res.labels == ["base", "twin", "strict"]
    assert res.seeds == cmp.child_seeds(11, 2)
    assert seen[-1] == (6, 6)
    assert all(b >= a for (a, _), (b, _) in itertools.pairwise(seen))
    for metric in ("order_score", "development_score", "freedom_score", "balance"):
        row = res.row("twin", metric)
        assert row["diff_mean"] == 0.0, metric
        assert row["n"] == 2
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]

    stored = storage.load_summaries(out)
    assert stored.num_rows == 6
    by_scenario: dict[str, list[tuple[int, int]]] = {}
    for r in stored.to_pylist():
        by_scenario.setdefault(r["scenario"], []).append((r["replicate"], r["seed"]))
    expected = [(0, res.seeds[0]), (1, res.seeds[1])]
    assert {k: sorted(v) for k, v in by_scenario.items()} == dict.fromkeys(res.labels, expected)

    table = pq.read_table(out / "comparison.parquet")
    assert table.column_names == list(cmp.COMPARISON_COLUMNS)
    assert table.num_rows == 3 * len({r["metric"] for r in res.rows})
    assert set(table.column("baseline").to_pylist()) == {"base"}
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_one_replicate_says_intervals_are_missing(tmp_path: Path) -> None:
    a = write(tmp_path / "a.toml", 'name = "a"\n')
    res = cmp.compare([str(a)], replicates=1, root_seed=0, **SMALL)
    assert res.notes == [cmp.ONE_REPLICATE_NOTE]
    row = res.row("a", "order_score")
    assert row["n"] == 1
    assert math.isnan(row["ci_low"])
    assert math.isnan(row["ci_high"])
    assert res.run_dirs == []
    assert res.comparison_path is None
