"""All of Tightrope's speed and scale benchmarks in one command; writes docs/performance.md.

    bash benchmarks/setup.sh                 # once: the peers (NDlib, Mesa) from PyPI
    python benchmarks/run.py                 # everything (about an hour on 2 cores)
    python benchmarks/run.py --quick --out /tmp/perf.md   # CI: the same steps, small, seconds
    python benchmarks/run.py --parts scaling,peers        # some parts; the rest from earlier runs

Parts:
- `target`: 1,000,000 users x 30 days of china-comprehensive-2021 (median of --repeats runs).
- `memory`: 10,000,000 users x 7 days: peak resident memory; memory per user and per edge
  (from two 1,000,000-user runs whose graphs differ only in density).
- `scaling`: wall time and peak memory from 10,000 to 1,000,000 users (10,000,000 from the
  memory part), per user-day and per edge-day.
- `peers`: benchmarks/peers.py: NDlib's IndependentCascadesModel and a Mesa baseline against
  Tightrope, and a NumPy/SciPy sparse pass as the hardware reference.
- `floor`: benchmarks/floor.py: the cost of one read at a random place of main memory (and
  of streaming), all threads at once: the floor under the target run's cost per view.
- `contention`: benchmarks/contention.py: a small run idle and beside busy loops, under
  the default thread policy, on one thread, on every thread as before the policy, and
  under the alternatives measured (OpenMP's passive wait, Numba's workqueue and TBB
  layers; TBB when it loads: TIGHTROPE_BENCH_TBB_LIB may name the folder of its library).
- `passes`: benchmarks/minute_passes.py: the minute loop's passes timed one by one on one
  thread and on every core, 1,000,000 users, the day after the first: which of them are
  serial (what holds a run back on many cores, issue 22).
- `efficiency`: benchmarks/threads.py: the target run (1,000,000 users x 30 days) at 1, 2,
  4, 8 and 16 threads, as many as the machine has cores: speed-up and parallel efficiency.

Each measurement runs in a fresh process (benchmarks/scale.py) and is kept as JSON in
benchmarks/results/ (or the --quick folder), so the page can be rebuilt from the parts
measured earlier. Speed is never asserted by a test: this page is where it is measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale import measure  # noqa: E402

from tightrope.results.storage import write_text_atomic  # noqa: E402

PRESET = "china-comprehensive-2021"
GIB = 1 << 30
PARTS = (
    "target", "memory", "scaling", "peers", "floor", "contention", "passes", "efficiency",
)  # fmt: skip

FULL = {
    "target": {"users": 1_000_000, "days": 30.0, "limit_s": 60.0},
    "memory": {"users": 10_000_000, "days": 7.0, "limit_bytes": 16 * GIB},
    "density": {"users": 1_000_000, "days": 1.0},
    "scaling": [10_000, 100_000, 1_000_000],
    "scaling_days": 3.0,
    "floor": {"size_mib": 1024, "reads": 50_000_000, "repeats": 3},
    "threads": {"users": 1_000_000, "days": 1.0, "repeats": 3},
    "contention": {
        "users": 20_000,
        "days": 2.0,
        "loads": (0, 2, 4),
        "fresh": True,
        "settings": ("default", "one", "before", "passive", "workqueue", "tbb"),
        "loaded_settings": None,
        "quiet_s": 30.0,
    },
    "passes": {"users": 1_000_000, "days": 1.0, "threads": (1, os.cpu_count() or 1)},
    "efficiency": {
        "users": 1_000_000,
        "days": 30.0,
        "threads": tuple(k for k in (1, 2, 4, 8, 16) if k <= (os.cpu_count() or 1)),
    },
}
QUICK = {
    "target": {"users": 20_000, "days": 1.0, "limit_s": 60.0},
    "memory": {"users": 50_000, "days": 1.0, "limit_bytes": 16 * GIB},
    "density": {"users": 20_000, "days": 0.25},
    "scaling": [2_000, 10_000],
    "scaling_days": 0.5,
    "floor": {"size_mib": 64, "reads": 1_000_000, "repeats": 1},
    "threads": {"users": 20_000, "days": 0.25, "repeats": 1},
    "contention": {
        "users": 2_000,
        "days": 1.0,
        "loads": (0, 2),
        "fresh": False,
        "settings": ("default", "one", "before"),
        "loaded_settings": ("default", "one"),  # `before` beside busy loops: a minute
        "quiet_s": 0.0,
    },
    "passes": {"users": 20_000, "days": 0.25, "threads": (1, 2)},
    "efficiency": {"users": 20_000, "days": 0.25, "threads": (1, 2)},
}


def machine() -> str:
    """The machine and versions, from benchmarks/peers.py's description."""
    m = load_peers().machine()
    v = m["versions"]
    return (
        f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']:.0f} GiB; {m['os']}; "
        f"Python {v['python']}, NumPy {v['numpy']}, Numba {v['numba']}, "
        f"tightrope {v['tightrope']}"
    )


class Store:
    """Measurements as JSON files, one per part."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def put(self, name: str, value: Any) -> None:
        write_text_atomic(self.folder / f"{name}.json", json.dumps(value, indent=1))

    def get(self, name: str) -> Any:
        path = self.folder / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_target(cfg: dict, repeats: int) -> dict:
    runs = []
    for r in range(repeats):
        m = measure(PRESET, cfg["users"], cfg["days"], seed=r + 1)
        log(f"target: {cfg['users']:,} users x {cfg['days']:g} days: {m['wall_s']:.1f} s")
        runs.append(m)
    return {"config": cfg, "runs": runs, "date": time.strftime("%Y-%m-%d")}


def run_memory(cfg: dict, density: dict, reuse: Path | None = None) -> dict:
    if reuse is not None:  # a measurement made earlier by benchmarks/scale.py --json-out
        big = json.loads(reuse.read_text())
        if (big["users"], big["days"]) != (cfg["users"], cfg["days"]):
            raise SystemExit(
                f"error: {reuse} is not a {cfg['users']:,}-user run of {cfg['days']:g} days"
            )
    else:
        big = measure(PRESET, cfg["users"], cfg["days"])
    log(f"memory: {cfg['users']:,} users: peak {big['peak_rss_bytes'] / GIB:.2f} GiB")
    sparse = measure(PRESET, density["users"], density["days"])
    # the same population with twice the follows: the difference is the edges' cost
    import tightrope

    following = tightrope.load_scenario(PRESET).network.mean_following
    dense = measure(
        PRESET,
        density["users"],
        density["days"],
        overrides=[f"network.mean_following={2 * following}"],
    )
    d_edges = dense["edges"] - sparse["edges"]
    per_edge = (dense["peak_rss_bytes"] - sparse["peak_rss_bytes"]) / max(d_edges, 1)
    return {
        "config": cfg,
        "run": big,
        "sparse": sparse,
        "dense": dense,
        "bytes_per_edge": per_edge,
        "date": time.strftime("%Y-%m-%d"),
    }


def run_scaling(users: list[int], days: float, repeats: int) -> dict:
    """Each size `repeats` times; its row is the run of median cost per day (the small
    sizes take a second or less, so one run of them is mostly noise), with every run's
    cost per day kept."""
    rows = []
    for n in users:
        runs = [measure(PRESET, n, days) for _ in range(repeats)]
        runs.sort(key=_per_day)
        m = dict(runs[len(runs) // 2])
        m["per_day_runs"] = [_per_day(r) for r in runs]
        log(f"scaling: {n:,} users x {days:g} days: {m['wall_s']:.1f} s")
        rows.append(m)
    return {"days": days, "repeats": repeats, "rows": rows, "date": time.strftime("%Y-%m-%d")}


def run_floor(cfg: dict, threads: dict) -> dict:
    """The cost of a random read with every thread and with one, and of a day of the target
    scenario on one thread and on every thread: the day after the first (a run of two days
    less a run of one, with the same seed), since the first fills an empty state."""
    from floor import measure_floor

    floor = measure_floor(**cfg)
    floor["one_thread"] = measure_floor(**cfg, threads=1)
    log(f"floor: {floor['ns_per_random_read']:.1f} ns per random read")
    users, days = threads["users"], threads["days"]
    floor["runs"] = {
        f"{name} {d:g}": [measure(PRESET, users, d, threads=k) for _ in range(threads["repeats"])]
        for name, k in (("one", 1), ("all", None))
        for d in (days, 2 * days)
    }
    floor["day_length"] = days
    return floor


def run_contention(cfg: dict, repeats: int) -> dict:
    """benchmarks/contention.py: the same small run idle and beside busy loops, under each
    thread setting, the settings taken in turn; medians of `repeats`."""
    from contention import measure as measure_contention

    return measure_contention(
        cfg["users"],
        cfg["days"],
        tuple(cfg["loads"]),
        repeats,
        settings=tuple(cfg["settings"]),
        fresh=cfg["fresh"],
        loaded_settings=cfg["loaded_settings"],
        tbb_lib=os.environ.get("TIGHTROPE_BENCH_TBB_LIB"),
        quiet_s=cfg["quiet_s"],
        log=log,
    )


def load_peers() -> Any:
    spec = importlib.util.spec_from_file_location("peers", HERE / "peers.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("benchmarks/peers.py is missing")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fmt_bytes(b: float) -> str:
    return f"{b / GIB:.2f} GiB" if b >= GIB else f"{b / (1 << 20):.0f} MiB"


def page(store: Store, quick: bool, command: str) -> str:
    lines = ["# Performance", ""]
    lines += [
        f"Machine: {machine()}.",
        "",
        f"Command: `{command}` (after `bash benchmarks/setup.sh`, which installs the peers "
        "from PyPI). Each figure is the median over the runs listed; every run is a fresh "
        "process with a warm kernel cache (compile time is reported separately).",
        "",
    ]
    tgt = store.get("target")
    lines += ["## Target: 1,000,000 users x 30 days in at most 60 s", ""]
    if tgt:
        walls = [r["wall_s"] for r in tgt["runs"]]
        med = statistics.median(walls)
        c = tgt["config"]
        met = "met" if med <= c["limit_s"] else "NOT met"
        r0 = tgt["runs"][-1]
        phases = ", ".join(
            f"{k} {v:.1f}" for k, v in r0["phase_seconds"].items() if v >= 0.05 * r0["wall_s"]
        )
        lines += [
            f"{c['users']:,} users x {c['days']:g} days ({PRESET}, hourly ticks, "
            f"{r0['edges']:,} follower edges, {r0['views']:,.0f} views): median "
            f"**{med:.1f} s** over {len(walls)} runs ({', '.join(f'{w:.1f}' for w in walls)}); "
            f"set-up {r0['setup_s']:.1f} s, kernel-cache load {r0['warm_s']:.1f} s. "
            f"Target {c['limit_s']:.0f} s: **{met}** (measured {tgt['date']}).",
            "",
            "One-minute load average at the start and end of each run: "
            + "; ".join(
                "{:.2f} to {:.2f}".format(*r["load_average"])
                for r in tgt["runs"]
                if "load_average" in r
            )
            + " (a run uses the 2 cores where its kernels run in parallel: the feed's draws, "
            "the intents, the posting phase's audiences, the minute loop's views and its "
            "reshares' audiences; more than 2 means something else was running too).",
            "",
            f"Seconds by phase (last run): {phases}. That is "
            f"{(r0['wall_s'] - r0['setup_s']) / max(r0['views'], 1) * 1e9:.0f} ns per view, "
            "everything included: every view touches the post's and the viewer's state at "
            "random places in memory.",
            "",
        ]
    else:
        lines += ["Not measured yet.", ""]
    floor = store.get("floor")
    if tgt and floor:
        lines += floor_lines(floor, tgt)
    before = store.get("target-previous")
    if before:
        walls = [r["wall_s"] for r in before["runs"]]
        lines += [
            f"Before {before['changes']}, the same command measured a median of "
            f"{statistics.median(walls):.1f} s ({before['runs'][-1]['views']:,.0f} views) on "
            f"{before['date']}.",
            "",
        ]
    mem = store.get("memory")
    lines += ["## Target: 10,000,000 users x 7 days under 16 GiB", ""]
    if mem:
        r = mem["run"]
        met = "met" if r["peak_rss_bytes"] < mem["config"]["limit_bytes"] else "NOT met"
        sp = mem["sparse"]
        per_edge = mem["bytes_per_edge"]
        per_user = (sp["peak_rss_bytes"] - sp["edges"] * per_edge) / sp["users"]
        lines += [
            f"{r['users']:,} users x {r['days']:g} days ({r['edges']:,} edges): peak resident "
            f"memory **{fmt_bytes(r['peak_rss_bytes'])}** (estimate before the run: "
            f"{fmt_bytes(r['estimate_bytes'])}); wall {r['wall_s']:.0f} s. Target under 16 GiB: "
            f"**{met}** (measured {mem['date']}).",
            "",
            f"Memory per edge: **{per_edge:.1f} bytes** (two {sp['users']:,}-user runs, "
            f"{sp['edges']:,} vs {mem['dense']['edges']:,} edges: "
            f"{fmt_bytes(sp['peak_rss_bytes'])} vs {fmt_bytes(mem['dense']['peak_rss_bytes'])}). "
            f"Memory per user, all the rest included (post ring, calendar, interpreter): "
            f"**{per_user:,.0f} bytes** at {sp['users']:,} users.",
            "",
        ]
    else:
        lines += ["Not measured yet.", ""]
    sc = store.get("scaling")
    lines += ["## Scaling with users and edges", ""]
    if sc:
        rows = list(sc["rows"])
        if mem:
            rows.append(mem["run"])
        rows.sort(key=lambda m: m["users"])
        lines += [
            "| users | edges | days | wall s | s per simulated day | µs per user-day | "
            "ns per edge-day | peak memory | estimate |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for m in rows:
            per_day = _per_day(m)
            lines.append(
                f"| {m['users']:,} | {m['edges']:,} | {m['days']:g} | {m['wall_s']:.1f} | "
                f"{per_day:.2f} | {per_day / m['users'] * 1e6:.2f} | "
                f"{per_day / max(m['edges'], 1) * 1e9:.1f} | {fmt_bytes(m['peak_rss_bytes'])} | "
                f"{fmt_bytes(m['estimate_bytes'])} |"
            )
        lines += [
            "",
            "Wall time includes building the network (set-up); per-day figures exclude it. "
            "Cost per user-day that stays level as users grow means cost grows linearly."
            + (
                f" Each size up to {sc['rows'][-1]['users']:,} is the "
                f"run of median cost per day of {sc['repeats']} (per day: "
                + "; ".join(
                    f"{m['users']:,}: " + ", ".join(f"{x:.2f}" for x in m["per_day_runs"])
                    for m in sc["rows"]
                )
                + " s); the largest is the memory part's single run."
                if sc.get("repeats", 1) > 1
                else ""
            ),
            "",
        ]
        lines += growth_lines(rows, mem)
    else:
        lines += ["Not measured yet.", ""]
    lines += ["## Under load: other processes on the cores", ""]
    busy = store.get("contention")
    if busy:
        from contention import markdown as contention_markdown

        lines += [contention_markdown(busy).strip(), ""]
    else:
        lines += ["Not measured yet.", ""]
    lines += ["## Parallel efficiency: one run on more threads", ""]
    eff = store.get("efficiency")
    if eff:
        from threads import markdown as efficiency_markdown

        lines += [efficiency_markdown(eff).strip(), ""]
    else:
        lines += ["Not measured yet.", ""]
    lines += ["## The minute loop, pass by pass", ""]
    passes = store.get("passes")
    if passes:
        from minute_passes import markdown as passes_markdown

        lines += [passes_markdown(passes).strip(), ""]
    else:
        lines += ["Not measured yet.", ""]
    peers = store.get("peers")
    lines += ["## Against peers", ""]
    if peers:
        lines += [peers["markdown"].strip(), ""]
    else:
        lines += ["Not measured yet.", ""]
    return "\n".join(lines) + "\n"


VIEW_READS = 6
"""Reads at random places of memory that a view needs at least: its post's record, its
viewer's record, the viewer's access bits and grievance (in the view pass), its post's
engagement (the engagement pass), and one where it was scheduled: the feed candidate it
was picked from, or the follower's access bits when a share's audience was drawn."""


def floor_lines(floor: dict, tgt: dict) -> list[str]:
    """The target run's cost per view against the cost of a random read on this machine."""
    ns = floor["ns_per_random_read"]
    c, r0 = tgt["config"], tgt["runs"][-1]
    views = max(r0["views"], 1)
    run_ns = (r0["wall_s"] - r0["setup_s"]) / views * 1e9
    budget_ns = (c["limit_s"] - r0["setup_s"]) / views * 1e9
    need_ns = VIEW_READS * ns
    lo, hi = floor["ns_per_random_read_range"]
    return [
        f"What the memory allows (`benchmarks/floor.py`, measured {floor['date']}): one read "
        f"at a random place of main memory costs **{ns:.1f} ns** of wall time here (median "
        f"of {floor['repeats']}: {lo:.1f} to {hi:.1f}; the machine is shared, and what "
        "its memory gives varies from hour to hour), "
        f"{floor['threads']} threads reading at once from an array of "
        f"{floor['array_mib']:,} MiB with the next reads' addresses fetched "
        f"{floor['best_distance']} reads early (without: {floor['ns_per_read']['0']:.1f} ns); "
        f"streaming reads {floor['stream_bytes_per_s'] / 1e9:.0f} GB/s. A view reads at least "
        f"{VIEW_READS} places chosen at random (its post's record; its viewer's record, access "
        "bits and grievance; its post's engagement; and the feed candidate it was picked from "
        "or the follower's access bits when a share's audience was drawn); if each waits for "
        f"main memory, that is {need_ns:.0f} ns, {need_ns * views / 1e9:.0f} s for this "
        "run's views before anything else (an estimate, not a bound: some of those reads find "
        "the processor's last-level cache, which can hold part of the viewers' state). The "
        "run costs "
        f"{run_ns:.0f} ns per view ({run_ns / ns:.1f} reads' worth, {run_ns / need_ns:.1f}x "
        f"that floor); the target allows {budget_ns:.0f} ns per view after set-up "
        f"({budget_ns / ns:.1f} reads' worth, {budget_ns / need_ns:.1f}x the floor), for every "
        "phase together.",
        "",
        *thread_lines(floor, tgt),
    ]


def thread_lines(floor: dict, tgt: dict) -> list[str]:
    """How the cost of a day and of a random read change from one thread to every thread,
    and what Amdahl's law makes of that for more cores (a projection, not a measurement)."""
    runs, d = floor["runs"], floor["day_length"]

    def seconds(name: str, days: float) -> float:  # median over the repeats, set-up left out
        return statistics.median(_per_day(m) for m in runs[f"{name} {days:g}"]) * days

    every = runs[f"all {2 * d:g}"][0]
    t1 = (seconds("one", 2 * d) - seconds("one", d)) / d
    tn = (seconds("all", 2 * d) - seconds("all", d)) / d
    n = every["threads"]
    reads = floor["one_thread"]["ns_per_random_read"] / floor["ns_per_random_read"]
    text = (
        f"Threads: days {d:g} to {2 * d:g} of {every['users']:,} users (a run of {2 * d:g} "
        f"days less one of {d:g}, set-up left out, medians of {len(runs[f'all {d:g}'])} runs: the "
        "first fills an empty state) take "
        f"{t1:.2f} s per day on 1 thread and {tn:.2f} s on {n} ({t1 / tn:.2f}x); random reads "
        f"go {reads:.2f}x as fast on {n} threads as on 1."
    )
    # Amdahl: t(k) = s + p / k, with s + p = t1 and s + p / n = tn
    p = (t1 - tn) / (1.0 - 1.0 / n) if n > 1 else 0.0
    s = t1 - p
    if 0.0 < p <= t1:
        c, r0 = tgt["config"], tgt["runs"][-1]
        totals = [
            _per_day(r0) * (s + p / k) / (s + p / n) * c["days"] + r0["setup_s"]
            for k in (2 * n, 4 * n)
        ]
        text += (
            f" By Amdahl's law {p / t1:.1%} of the work runs in parallel; with that share the "
            f"target run would take about {totals[0]:.0f} s on {2 * n} cores and "
            f"{totals[1]:.0f} s on {4 * n} (a projection, not a measurement: it holds only "
            "while random reads keep scaling with the threads)."
        )
    else:
        text += " No parallel gain at this size, so no projection to more cores."
    return [text, ""]


LINEAR_EXPONENT = (0.9, 1.1)
"""Cost grows 'about linearly' with users when the least-squares exponent b of
cost per day = a x users^b over the scaling table lies in this range."""


def _per_day(m: dict) -> float:
    """Seconds per simulated day of a measured run, set-up (building the network) left out."""
    return (m["wall_s"] - m["setup_s"]) / m["days"]


def growth_lines(rows: list[dict], mem: dict | None) -> list[str]:
    """How cost per simulated day grows with users (the exponent of each step of the
    table and of a least-squares fit on log-log axes) and with edges (the density pair of
    the memory part: the same users, twice the follows)."""
    if len(rows) < 2:
        return []
    steps, exponents = [], []
    for a, b in itertools.pairwise(rows):
        e = math.log(_per_day(b) / _per_day(a)) / math.log(b["users"] / a["users"])
        steps.append(f"{a['users']:,} to {b['users']:,}: {e:.2f}")
        exponents.append(e)
    first_step, last_step = exponents[0], exponents[-1]
    xs = [math.log(m["users"]) for m in rows]
    ys = [math.log(_per_day(m)) for m in rows]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    lo, hi = LINEAR_EXPONENT
    met = "met" if lo <= slope <= hi else "NOT met"
    why = []
    if first_step < 1.0:
        why.append(
            "a step below 1 at the small end is the minute loop's fixed cost (a few kernel "
            "launches in each of a day's 1,440 minutes), which small populations do not cover"
        )
    if last_step > 1.0:
        why.append(
            "a step above 1 at the large end is memory: the state leaves the processor's "
            "caches, so more of the random reads wait for main memory"
        )
    lines = [
        f"Growth with users: cost per day grows as users^b, b = **{slope:.2f}** by least "
        f"squares over the table's {len(rows)} sizes (each step: {'; '.join(steps)})"
        + (f"; {'; '.join(why)}" if why else "")
        + f". Target 'about linearly' (b from {lo:g} to {hi:g}): **{met}**.",
        "",
    ]
    if mem:
        sp, de = mem["sparse"], mem["dense"]
        ratio = _per_day(de) / _per_day(sp)
        e = math.log(ratio) / math.log(de["edges"] / sp["edges"])
        lines += [
            f"Growth with edges: at {sp['users']:,} users, {de['edges']:,} edges instead of "
            f"{sp['edges']:,} (twice the follows) cost {ratio:.2f}x per day "
            f"({_per_day(de):.2f} s against {_per_day(sp):.2f} s, {de['days']:g} day): "
            f"edges^{e:.2f}"
            + (", below linear: the feed's views do not depend on the edges" if e < 1.0 else "")
            + f" (views grew {de['views'] / max(sp['views'], 1):.2f}x).",
            "",
        ]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: seconds, for CI")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {PARTS}")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, help="page to write (default docs/performance.md)")
    ap.add_argument("--results", type=Path, help="folder of measurements")
    ap.add_argument(
        "--memory-run",
        type=Path,
        help="JSON of the large memory run made earlier with benchmarks/scale.py --json-out "
        "(it takes most of an hour on 2 cores)",
    )
    args = ap.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    bad = [p for p in parts if p not in PARTS]
    if bad:
        print(f"error: unknown part(s) {bad}; choose from {', '.join(PARTS)}", file=sys.stderr)
        return 2
    cfg = QUICK if args.quick else FULL
    out = args.out or (Path(tempfile.gettempdir()) / "performance-quick.md" if args.quick
                       else HERE.parent / "docs" / "performance.md")  # fmt: skip
    folder = args.results or (
        Path(tempfile.mkdtemp(prefix="tightrope-bench-")) if args.quick else HERE / "results"
    )
    store = Store(folder)
    repeats = 1 if args.quick else args.repeats
    if {"scaling", "memory", "target"} & set(parts):
        # compile the kernels into the cache in a process of its own: a measured process
        # that compiled them would count the compiler's memory in its peak
        warm = measure(PRESET, 1000, 1.0)
        log(f"kernel cache warmed: {warm['warm_s']:.1f} s")
    if "scaling" in parts:
        store.put("scaling", run_scaling(cfg["scaling"], cfg["scaling_days"], repeats))
    if "memory" in parts:
        store.put("memory", run_memory(cfg["memory"], cfg["density"], args.memory_run))
    if "peers" in parts:
        peers = load_peers()
        res = peers.run_peers(quick=args.quick)
        store.put("peers", {"results": res, "markdown": peers.markdown(res)})
    if "target" in parts:
        store.put("target", run_target(cfg["target"], repeats))
    if "floor" in parts:
        store.put("floor", run_floor(cfg["floor"], cfg["threads"]))
    if "contention" in parts:
        store.put("contention", run_contention(cfg["contention"], repeats))
    if "passes" in parts:
        from minute_passes import measure as measure_passes

        c = cfg["passes"]
        rows = [measure_passes(PRESET, c["users"], c["days"], 1, k) for k in c["threads"]]
        store.put("passes", {"rows": rows, "date": time.strftime("%Y-%m-%d")})
    if "efficiency" in parts:
        from threads import measure_threads

        c = cfg["efficiency"]
        store.put(
            "efficiency",
            measure_threads(PRESET, c["users"], c["days"], list(c["threads"]), repeats),
        )
    command = "python benchmarks/run.py" + (" --quick" if args.quick else "")
    text = page(store, args.quick, command)
    write_text_atomic(out, text)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
