"""Peer benchmarks: Tightrope's kernels against NDlib, Mesa and a plain sparse pass.

    python benchmarks/peers.py                 # the full comparison (a few minutes)
    python benchmarks/peers.py --quick         # small and fast (CI), still tests the statistics
    python benchmarks/peers.py --out docs/peers.md --json /tmp/peers.json

Three comparisons, all on the model's follower graph (`tightrope.peers.cascades.follower_graph`):

1. Cascades: `tightrope.peers.cascades.independent_cascades` against NDlib's
   IndependentCascadesModel (benchmarks/baselines/ndlib_cascades.py), same graph, seeds and p,
   many runs. Time per run (NDlib's configuration built once, not counted; Tightrope's kernel
   compiled first, not counted), and a two-sample Kolmogorov-Smirnov and Anderson-Darling test
   of the final-size distributions.
2. Reference subset: `tightrope.peers.reference` against the same rules in Mesa 3.3.1
   (benchmarks/baselines/mesa_reference.py), same graph and posting rates, several run seeds
   each. Time per run, and for every summary statistic both means with 95% intervals and a
   Welch test; a KS test of the pooled per-post cascade sizes.
3. Hardware reference: a SciPy sparse pass over every edge (benchmarks/baselines/
   numpy_reference.py): edges per second, against the edges per second the cascade kernel
   covers.

The peers are installed by benchmarks/setup.sh (pinned in benchmarks/requirements.txt).
`run_peers(quick)` returns the results as a dict (its "targets" entry says which targets
hold) and `markdown(results)` formats them, for benchmarks/run.py. The Markdown goes to --out
(atomically) or to standard output. Exit status: 0, or 1 when a statistical comparison fails
(Tightrope and a peer disagree beyond sampling error; the speed targets, which depend on the
machine, do not change it), 2 when the peers are not installed or an option is wrong.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numba
import numpy as np
from scipy import stats

from tightrope.results.storage import write_text_atomic

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

PEERS = {"ndlib": "6.0.1", "mesa": "3.3.1", "networkx": None, "psutil": None}
"""Importable names of the peers and the versions benchmarks/requirements.txt pins."""

TARGET_SPEEDUP = 100.0
ALPHA = 0.01
"""A distribution test fails below this p-value; a table of summary statistics uses a
Bonferroni share of 0.05 per statistic."""

CONFIG = {
    "full": {
        "cascades": {
            "users": 20_000,
            "graph_seed": 2,
            "p": 0.1,
            "k": 5,
            "ndlib_runs": 200,
            "tightrope_runs": 20_000,
            "repeats": 5,
        },
        "reference": {
            "users": 10_000,
            "graph_seed": 2,
            "days": 7.0,
            "q": 0.05,
            "r": 0.02,
            "d": 0.1,
            "c": 20,
            "seeds": 5,
            "repeats": 3,
        },
        "sparse": {"repeats": 9},
    },
    "quick": {
        "cascades": {
            "users": 5_000,
            "graph_seed": 2,
            "p": 0.05,
            "k": 5,
            "ndlib_runs": 60,
            "tightrope_runs": 2_000,
            "repeats": 3,
        },
        "reference": {
            "users": 2_000,
            "graph_seed": 2,
            "days": 2.0,
            "q": 0.05,
            "r": 0.02,
            "d": 0.1,
            "c": 4,
            "seeds": 4,
            "repeats": 3,
        },
        "sparse": {"repeats": 5},
    },
}
"""What each mode runs. Graph seed 2 gives a typical model graph (25-35 follows per user
after repeats are dropped; seed 1 happens to give 3-15). p is where cascades from random
seeds mostly die young but sometimes take the graph: a two-humped size distribution, a
demanding test. c (reviews per tick) is a little below the rate at which posts are flagged,
so the queue is busy and waits are not all zero."""


def missing_peers() -> list[str]:
    """The peer packages that cannot be imported."""
    return [name for name in PEERS if importlib.util.find_spec(name) is None]


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for name in ("numpy", "numba", "scipy", "networkx", "ndlib", "mesa", "tightrope"):
        try:
            from importlib.metadata import version

            out[name] = version("Mesa" if name == "mesa" else name)
        except Exception:  # a missing peer is reported by missing_peers()
            out[name] = "not installed"
    return out


def machine() -> dict:
    """What the numbers were measured on."""
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "numba_threads": numba.get_num_threads(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": _versions(),
    }


def _median_time(f, repeats: int):
    """(median wall seconds, median CPU seconds of this process, last result) of `repeats`
    calls of f(). CPU time is not inflated when other work on a shared machine preempts
    this process; wall time is what a user waits."""
    wall, cpu = [], []
    out = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = f()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), out


def _threads(n: int):
    """Context: run Numba's parallel loops on n threads."""

    class _T:
        def __enter__(self):
            self.old = numba.get_num_threads()
            numba.set_num_threads(n)

        def __exit__(self, *exc):
            numba.set_num_threads(self.old)

    return _T()


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _ks(a: np.ndarray, b: np.ndarray) -> dict:
    res = stats.ks_2samp(a, b)
    with warnings.catch_warnings():  # p-values are capped to [0.001, 0.25]; said in the text
        warnings.simplefilter("ignore")
        ad = stats.anderson_ksamp([np.asarray(a, float), np.asarray(b, float)])
    return {
        "ks_statistic": float(res.statistic),
        "ks_p": float(res.pvalue),
        "ad_statistic": float(ad.statistic),
        "ad_p": float(ad.pvalue),
    }


# --------------------------------------------------------------------------- 1. cascades


def bench_cascades(cfg: dict, g) -> dict:
    """NDlib against the cascade kernel on graph g (a `tightrope.model.network.Graph`)."""
    from baselines import ndlib_cascades

    from tightrope.peers.cascades import independent_cascades

    ptr, idx = g.followers_ptr, g.followers_idx
    seeds = np.sort(np.random.default_rng(cfg["graph_seed"]).choice(g.n, cfg["k"], replace=False))
    p = cfg["p"]
    _say(f"cascades: graph {g.n:,} users, {idx.size:,} edges; p={p}, seeds {seeds.tolist()}")

    # Tightrope: compile (not counted), then the median of repeats of a batch of runs
    runs_t = cfg["tightrope_runs"]
    batch = np.tile(seeds, (runs_t, 1))
    edge_p = np.full(idx.size, p, dtype=np.float32)
    independent_cascades(ptr, idx, p, batch[:4], 0)  # compile both variants, not timed
    independent_cascades(ptr, idx, edge_p, batch[:4], 0)

    def batch_run(prob):
        return lambda: independent_cascades(ptr, idx, prob, batch, 1, details=True)

    with _threads(1):
        wall_1, cpu_1, res = _median_time(batch_run(p), cfg["repeats"])
        wall_e1, cpu_e1, res_edge = _median_time(batch_run(edge_p), cfg["repeats"])
    wall_all, _, res_all = _median_time(batch_run(p), cfg["repeats"])
    if not np.array_equal(res.sizes, res_all.sizes):
        raise RuntimeError("the cascade kernel gave different sizes on 1 and on all threads")

    # NDlib: graph and configuration once (not counted), runs in 3 blocks
    t0 = time.perf_counter()
    nxg = ndlib_cascades.to_networkx(ptr, idx)
    convert_s = time.perf_counter() - t0
    _say(
        f"cascades: NDlib, {cfg['ndlib_runs']} runs (Tightrope: {cpu_1 / runs_t * 1e6:.0f} us/run)"
    )
    sizes_n, setup_s, wall_n, cpu_n = ndlib_cascades.cascades(
        nxg, p, seeds.tolist(), cfg["ndlib_runs"], 1
    )
    del nxg
    n_wall = float(statistics.median(b.mean() for b in np.array_split(wall_n, 3)))
    n_cpu = float(statistics.median(b.mean() for b in np.array_split(cpu_n, 3)))
    t = {
        "runs": runs_t,
        "threads": numba.get_num_threads(),
        "cpu_per_run_1_thread_s": cpu_1 / runs_t,
        "wall_per_run_1_thread_s": wall_1 / runs_t,
        "wall_per_run_threads_s": wall_all / runs_t,
        "cpu_per_run_edge_prob_1_thread_s": cpu_e1 / runs_t,
        "wall_per_run_edge_prob_1_thread_s": wall_e1 / runs_t,
        "mean_size": float(res.sizes.mean()),
        "size_quantiles": np.quantile(res.sizes, [0.1, 0.5, 0.9]).tolist(),
        "mean_depth": float(res.depth.mean()),
        "edges_covered": int(res.edges.sum()),
        "edges_covered_edge_prob": int(res_edge.edges.sum()),
    }
    speedup = {
        "cpu_1_thread": n_cpu / t["cpu_per_run_1_thread_s"],
        "wall_1_thread": n_wall / t["wall_per_run_1_thread_s"],
        "wall_threads": n_wall / t["wall_per_run_threads_s"],
    }
    test = _ks(sizes_n, res.sizes)
    return {
        "users": int(g.n),
        "edges": int(idx.size),
        "p": p,
        "seeds": seeds.tolist(),
        "ndlib": {
            "runs": int(sizes_n.size),
            "graph_conversion_s": convert_s,
            "setup_s": setup_s,
            "cpu_per_run_s": n_cpu,
            "wall_per_run_s": n_wall,
            "mean_size": float(sizes_n.mean()),
            "size_quantiles": np.quantile(sizes_n, [0.1, 0.5, 0.9]).tolist(),
        },
        "tightrope": t,
        "speedup": speedup,
        "test": test,
        "same_distribution": bool(test["ks_p"] >= ALPHA and test["ad_p"] >= ALPHA),
        "scalar_vs_edge_prob_test": _ks(res.sizes, res_edge.sizes),
        "target_speedup_met": bool(speedup["cpu_1_thread"] >= TARGET_SPEEDUP),
        "target_speedup_met_wall": bool(speedup["wall_1_thread"] >= TARGET_SPEEDUP),
    }


# --------------------------------------------------------------------------- 2. reference

REF_STATS = (
    "posts",
    "prohibited_posts",
    "views",
    "reshares",
    "flagged",
    "removed",
    "removed_share",
    "mean_wait_ticks",
    "queue_left",
    "views_lost",
    "mean_cascade_size",
    "cascade_size_p90",
    "cascade_size_p99",
    "max_cascade_size",
)


def _welch(a: list[float], b: list[float]) -> float:
    x = np.array([v for v in a if math.isfinite(v)])
    y = np.array([v for v in b if math.isfinite(v)])
    if x.size < 2 or y.size < 2:
        return math.nan
    if x.std() == 0 and y.std() == 0:
        return 1.0 if x[0] == y[0] else 0.0
    with warnings.catch_warnings():  # near-identical samples (a binding capacity) are fine
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(x, y, equal_var=False).pvalue)


def bench_reference(cfg: dict) -> dict:
    """Mesa against `tightrope.peers.reference` on one model graph, several run seeds."""
    from baselines import mesa_reference

    from tightrope.peers.reference import ReferenceParams, reference_world, run_reference
    from tightrope.results.intervals import t_interval

    g, rates = reference_world(cfg["users"], cfg["graph_seed"])
    ptr, idx = g.followers_ptr, g.followers_idx
    params = ReferenceParams(days=cfg["days"], q=cfg["q"], r=cfg["r"], d=cfg["d"], c=cfg["c"])
    seeds = list(range(1, cfg["seeds"] + 1))
    _say(f"reference: {g.n:,} users, {idx.size:,} edges, {params.ticks} ticks, seeds {seeds}")
    tw, tc, mw, mc, build = [], [], [], [], []
    tight_sum, mesa_sum, tight_sizes, mesa_sizes = [], [], [], []
    for seed in seeds:
        run_reference(ptr, idx, rates, params, seed)  # compiles the first time: not timed
        wall, cpu, res = _median_time(
            lambda s=seed: run_reference(ptr, idx, rates, params, s), cfg["repeats"]
        )
        tw.append(wall)
        tc.append(cpu)
        tight_sum.append(res.summary)
        tight_sizes.append(res.views)
        t0, c0 = time.perf_counter(), time.process_time()
        model = mesa_reference.ReferenceModel(
            ptr, idx, rates, params.q, params.r, params.d, params.c, seed
        )
        t1 = time.perf_counter()
        for _ in range(params.ticks):
            model.step()
        summary = model.summary()
        mw.append(time.perf_counter() - t0)
        mc.append(time.process_time() - c0)
        build.append(t1 - t0)
        mesa_sum.append(summary)
        mesa_sizes.append(np.array([p.views for p in model.posts]))
        del model
        _say(
            f"reference: seed {seed}: Tightrope {tc[-1] * 1e3:.1f} ms, Mesa {mc[-1]:.2f} s "
            f"CPU ({summary['views']:.0f} and {res.summary['views']:.0f} views)"
        )
    k = len(REF_STATS)
    table = {}
    for name in REF_STATS:
        a = [s[name] for s in tight_sum]
        b = [s[name] for s in mesa_sum]
        pa = _welch(a, b)
        ta, tb = t_interval(a), t_interval(b)
        table[name] = {
            "tightrope": {"mean": ta[0], "lo": ta[1], "hi": ta[2], "n": ta[3]},
            "mesa": {"mean": tb[0], "lo": tb[1], "hi": tb[2], "n": tb[3]},
            "welch_p": pa,
            "same": bool(not pa < 0.05 / k),  # NaN (too few values) is not a failure
        }
    sizes_test = _ks(np.concatenate(tight_sizes), np.concatenate(mesa_sizes))
    speedup = {
        "cpu": sum(mc) / sum(tc),
        "wall": sum(mw) / sum(tw),
        "cpu_per_seed": [m / t for m, t in zip(mc, tc, strict=True)],
    }
    same = bool(all(row["same"] for row in table.values()) and sizes_test["ks_p"] >= ALPHA)
    return {
        "users": int(g.n),
        "edges": int(idx.size),
        "ticks": params.ticks,
        "params": params.as_dict(),
        "seeds": seeds,
        "tightrope_wall_s": tw,
        "tightrope_cpu_s": tc,
        "mesa_wall_s": mw,
        "mesa_cpu_s": mc,
        "mesa_build_wall_s": build,
        "speedup": speedup,
        "stats": table,
        "cascade_sizes_test": sizes_test,
        "posts_compared": [
            int(sum(x.size for x in tight_sizes)),
            int(sum(x.size for x in mesa_sizes)),
        ],
        "same": same,
        "target_speedup_met": bool(speedup["cpu"] >= TARGET_SPEEDUP),
        "target_speedup_met_wall": bool(speedup["wall"] >= TARGET_SPEEDUP),
    }


# --------------------------------------------------------------------------- 3. sparse pass


def bench_sparse(cfg: dict, g, cascades: dict) -> dict:
    """The sparse pass over graph g (the cascades' graph) against the kernel's edges/s, both
    on one thread."""
    from baselines import numpy_reference

    ref = numpy_reference.sparse_pass(g.followers_ptr, g.followers_idx, cfg["repeats"])
    t = cascades["tightrope"]
    runs = t["runs"]
    kernel = {
        "kernel_edges_per_cpu_s": t["edges_covered"] / (t["cpu_per_run_1_thread_s"] * runs),
        "kernel_edges_per_s": t["edges_covered"] / (t["wall_per_run_1_thread_s"] * runs),
        "kernel_edges_per_s_threads": t["edges_covered"] / (t["wall_per_run_threads_s"] * runs),
        "kernel_edges_per_cpu_s_edge_prob": t["edges_covered_edge_prob"]
        / (t["cpu_per_run_edge_prob_1_thread_s"] * runs),
    }
    return {
        **ref,
        **kernel,
        "fraction_cpu": kernel["kernel_edges_per_cpu_s"] / ref["edges_per_cpu_s"],
        "fraction_wall": kernel["kernel_edges_per_s"] / ref["edges_per_s"],
    }


# --------------------------------------------------------------------------- driver


def run_peers(quick: bool = False) -> dict:
    """Run all three comparisons; the results as a dict (see `markdown`). Raises
    RuntimeError naming the missing peers if any is not installed."""
    missing = missing_peers()
    if missing:
        raise RuntimeError(
            f"peer packages not installed: {', '.join(missing)}; "
            "run benchmarks/setup.sh (pip install -r benchmarks/requirements.txt)"
        )
    mode = "quick" if quick else "full"
    cfg = CONFIG[mode]
    from tightrope.peers.cascades import follower_graph

    started = time.perf_counter()
    out = {"mode": mode, "date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    g = follower_graph(cfg["cascades"]["users"], cfg["cascades"]["graph_seed"])
    out["cascades"] = bench_cascades(cfg["cascades"], g)
    out["sparse"] = bench_sparse(cfg["sparse"], g, out["cascades"])
    del g
    out["reference"] = bench_reference(cfg["reference"])
    out["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out["seconds"] = time.perf_counter() - started
    out["command"] = "python benchmarks/peers.py" + (" --quick" if quick else "")
    out["targets"] = {
        "ndlib_speedup_100x": out["cascades"]["target_speedup_met"],
        "mesa_speedup_100x": out["reference"]["target_speedup_met"],
        "cascade_sizes_same_as_ndlib": out["cascades"]["same_distribution"],
        "reference_same_as_mesa": out["reference"]["same"],
    }
    return out


def _g(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def _us(x: float) -> str:
    return f"{x * 1e6:,.1f} µs" if x < 1e-3 else f"{x * 1e3:,.2f} ms"


def markdown(results: dict) -> str:
    """The results as a Markdown section."""
    m = results["machine"]
    c = results["cascades"]
    r = results["reference"]
    s = results["sparse"]
    v = m["versions"]
    ct, cn, cs = c["tightrope"], c["ndlib"], c["speedup"]
    shared = max(m["load_average_at_start"][0], (m.get("load_average_at_end") or [0])[0])

    def mean_ms(values: list[float]) -> float:
        return statistics.mean(values) * 1e3

    lines = [
        "## Peer benchmarks",
        "",
        f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB, "
        f"{m['os']}), Python {v['python']}, NumPy {v['numpy']}, Numba {v['numba']} "
        f"({m['numba_threads']} threads), SciPy {v['scipy']}, NDlib {v['ndlib']}, "
        f"Mesa {v['mesa']}, networkx {v['networkx']}, Tightrope {v['tightrope']}.",
        "",
        f"Command: `{results['command']}` ({results['seconds']:.0f} s in all). Times exclude "
        "Numba compilation (warmed up first) and building the graph. Each time is given as CPU "
        "time of the process and as wall time. Load average "
        f"{m['load_average_at_start']} at the start and {m.get('load_average_at_end')} at the "
        "end"
        + (
            f": the machine was shared (more runnable work than its {m['cores']} cores), which "
            "stretches wall times by preemption, unevenly; the CPU-time ratios are the ones to "
            "trust and the targets are judged on them."
            if shared > m["cores"]
            else "; the targets are judged on CPU-time ratios (single-threaded on both sides)."
        )
        + (
            " Quick mode: small graphs and few runs, where fixed costs per run weigh more and "
            "the tests have less power; the targets are meant for the full run."
            if results["mode"] == "quick"
            else ""
        ),
        "",
        "### Cascades: `tightrope.peers.cascades` vs NDlib IndependentCascadesModel",
        "",
        f"Model follower graph of {c['users']:,} users and {c['edges']:,} edges (u -> v when v "
        f"follows u); seeds {c['seeds']}; activation probability p = {c['p']} on every edge. "
        "Both implement Kempe et al.'s independent cascade (each newly active node tries each "
        "still-inactive out-neighbour once with chance p; NDlib's edge 'threshold' is that "
        "chance). NDlib's networkx graph and per-edge configuration are built once "
        f"({cn['graph_conversion_s']:.1f} s + {cn['setup_s']:.1f} s, not counted) and each run "
        "is `reset` then iterated until no node is Infected (time per run: median over 3 "
        "blocks of the block means). Tightrope: median of repeated batches.",
        "",
        "| | runs | CPU per run | wall per run | mean size | size 10% / 50% / 90% |",
        "|---|---:|---:|---:|---:|---|",
        f"| NDlib (one process) | {cn['runs']} | {_us(cn['cpu_per_run_s'])} | "
        f"{_us(cn['wall_per_run_s'])} | {_g(cn['mean_size'])} | "
        f"{' / '.join(_g(x) for x in cn['size_quantiles'])} |",
        f"| Tightrope, 1 thread | {ct['runs']:,} | {_us(ct['cpu_per_run_1_thread_s'])} | "
        f"{_us(ct['wall_per_run_1_thread_s'])} | {_g(ct['mean_size'])} | "
        f"{' / '.join(_g(x) for x in ct['size_quantiles'])} |",
        f"| Tightrope, 1 thread, per-edge p array | {ct['runs']:,} | "
        f"{_us(ct['cpu_per_run_edge_prob_1_thread_s'])} | "
        f"{_us(ct['wall_per_run_edge_prob_1_thread_s'])} | | |",
        f"| Tightrope, {ct['threads']} threads | {ct['runs']:,} | | "
        f"{_us(ct['wall_per_run_threads_s'])} | | |",
        "",
        f"Speed: Tightrope on one thread is **{cs['cpu_1_thread']:,.0f}x** faster than NDlib "
        f"per run in CPU time ({cs['wall_1_thread']:,.0f}x in wall time; "
        f"{cs['wall_threads']:,.0f}x in wall time on {ct['threads']} threads). "
        f"Target >= {TARGET_SPEEDUP:.0f}x: {_yes(c['target_speedup_met'])}.",
        "",
        f"Same distribution of final sizes: two-sample KS p = {c['test']['ks_p']:.3g} "
        f"(D = {c['test']['ks_statistic']:.3f}), Anderson-Darling k-sample p = "
        f"{c['test']['ad_p']:.3g} (SciPy caps it to [0.001, 0.25]); the same at level "
        f"{ALPHA}: {_yes(c['same_distribution'])}. (Scalar p against a per-edge array of p, "
        f"both Tightrope: KS p = {c['scalar_vs_edge_prob_test']['ks_p']:.3g}.)",
        "",
        "### Reference subset: `tightrope.peers.reference` vs the same rules in Mesa",
        "",
        f"Model follower graph of {r['users']:,} users and {r['edges']:,} edges, "
        f"{r['ticks']} hourly ticks, q = {r['params']['q']}, r = {r['params']['r']}, "
        f"d = {r['params']['d']}, c = {r['params']['c']} reviews per tick, run seeds "
        f"{r['seeds']}, each side drawing its own random numbers. Tightrope: median of repeats "
        "per seed; Mesa: one run per seed, building the model included "
        f"({statistics.mean(r['mesa_build_wall_s']):.2f} s of it on average).",
        "",
        f"Time per run, mean over seeds: Tightrope {mean_ms(r['tightrope_cpu_s']):.1f} ms CPU "
        f"({mean_ms(r['tightrope_wall_s']):.1f} ms wall), Mesa "
        f"{statistics.mean(r['mesa_cpu_s']):.2f} s CPU ({statistics.mean(r['mesa_wall_s']):.2f} s"
        f" wall): **{r['speedup']['cpu']:,.0f}x** in CPU time (per seed "
        f"{min(r['speedup']['cpu_per_seed']):,.0f}x to {max(r['speedup']['cpu_per_seed']):,.0f}x"
        f"), {r['speedup']['wall']:,.0f}x in wall time. Both single-threaded. Target >= "
        f"{TARGET_SPEEDUP:.0f}x: {_yes(r['target_speedup_met'])}.",
        "",
        "| statistic | Tightrope mean [95% CI] | Mesa mean [95% CI] | Welch p | same |",
        "|---|---|---|---:|---|",
    ]
    for name, row in r["stats"].items():
        a, b = row["tightrope"], row["mesa"]
        lines.append(
            f"| {name} | {_g(a['mean'], 4)} [{_g(a['lo'], 4)}, {_g(a['hi'], 4)}] | "
            f"{_g(b['mean'], 4)} [{_g(b['lo'], 4)}, {_g(b['hi'], 4)}] | "
            f"{_g(row['welch_p'], 2)} | {'yes' if row['same'] else 'NO'} |"
        )
    t = r["cascade_sizes_test"]
    lines += [
        "",
        f"A statistic is 'the same' when Welch's p >= 0.05 / {len(r['stats'])} (Bonferroni). "
        f"Per-post cascade sizes pooled over seeds ({r['posts_compared'][0]:,} and "
        f"{r['posts_compared'][1]:,} posts): KS p = {t['ks_p']:.3g}, Anderson-Darling p = "
        f"{t['ad_p']:.3g}. All the same within sampling error: {_yes(r['same'])}.",
        "",
        "### Hardware reference: a SciPy sparse pass over every edge",
        "",
        f"One frontier expansion over all {s['edges']:,} edges of the cascade graph as a "
        f"sparse matrix-vector product (SciPy, one thread, median of {s['repeats']}): push "
        f"(A.T @ x) {_us(s['push_cpu_s'])}, pull (A.T as CSR @ x) {_us(s['pull_cpu_s'])} CPU: "
        f"**{s['edges_per_cpu_s'] / 1e6:,.0f} M edges/s** "
        f"({s['edges_per_s'] / 1e6:,.0f} M by wall time).",
        "",
        "The cascade kernel on one thread covers (decides the activation chance of) "
        f"**{s['kernel_edges_per_cpu_s'] / 1e6:,.0f} M edges/s** of CPU time, "
        f"{s['fraction_cpu']:.0%} of the sparse pass "
        f"({s['kernel_edges_per_s'] / 1e6:,.0f} M edges/s by wall time, {s['fraction_wall']:.0%});"
        f" {s['kernel_edges_per_cpu_s_edge_prob'] / 1e6:,.0f} M with a per-edge probability "
        f"array; {s['kernel_edges_per_s_threads'] / 1e6:,.0f} M edges/s by wall time on "
        f"{ct['threads']} threads. Per covered edge the kernel does a visited check at a random "
        "address and, for an inactive target, a random draw, against a streamed multiply-add "
        "for the sparse pass; each run also pays for its seeds and its queue.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small and fast (CI), under ~30 s")
    ap.add_argument("--out", type=Path, help="write the Markdown section here (default stdout)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args(argv)
    for path in (args.out, args.json):
        if path is not None and path.exists() and path.is_dir():
            print(f"error: {path} is a folder; give a file name", file=sys.stderr)
            return 2
    missing = missing_peers()
    if missing:
        print(
            f"error: the peers are not installed ({', '.join(missing)}). Run benchmarks/setup.sh "
            "(it pip-installs benchmarks/requirements.txt), then try again.",
            file=sys.stderr,
        )
        return 2
    from importlib.metadata import version

    for name, pinned in PEERS.items():
        have = version("Mesa" if name == "mesa" else name) if pinned else None
        if pinned and have != pinned:
            _say(f"warning: {name} {have} is installed; the benchmark is pinned to {pinned}")
    results = run_peers(args.quick)
    text = markdown(results)
    if args.json:
        write_text_atomic(args.json, json.dumps(results, indent=2, default=float) + "\n")
    if args.out:
        write_text_atomic(args.out, text)
        print(args.out)
    else:
        print(text)
    t = results["targets"]
    if not (t["cascade_sizes_same_as_ndlib"] and t["reference_same_as_mesa"]):
        print("error: Tightrope and a peer disagree beyond sampling error", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
