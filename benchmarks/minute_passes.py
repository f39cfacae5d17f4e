"""Where a minute's time goes: the minute loop's passes timed one by one, at each thread count.

    python benchmarks/minute_passes.py --users 1000000 --days 1 --threads 1,2
    python benchmarks/minute_passes.py --users 20000 --days 1 --json-out passes.json

The run is built and its first day stepped as usual (`Simulation.step`, warming the
caches); then each tick of the measured day runs its phases with the minute loop replaced
(`Simulation.step(phases=timed_phases(...))`) by a copy in Python of
`tightrope.engine.minutes.run_minutes` that calls the same compiled
passes, in the same order, and times each. The results are the same to the bit (the passes
and their arguments are the same). Each pass is one call from Python a minute, whose cost
(Numba checks the types of its arguments: 50 to 150 µs) is in its seconds: the same passes
timed on a run of CALLS_USERS users, whose passes have almost nothing to do, are reported
as `calls_s` and taken off in the table. Each thread count runs in a fresh
process (`NUMBA_NUM_THREADS`), so the passes' scaling (seconds at 1 thread / seconds at N)
shows which of them hold the loop back: a pass whose seconds do not fall is serial.
Speed is never asserted: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CALLS_USERS = 2000
"""Users of the run whose passes' seconds are taken as the cost of the calls alone."""

PASSES = (
    "count", "fill", "views", "follow_up", "shares", "engagement", "reviews", "escalations",
    "sweeps", "answers",
)  # fmt: skip
"""The passes of a minute, in order (docs/model.md, the minute loop)."""


def timed_minutes(sim: Any, t0: int, seconds: dict[str, float]) -> None:
    """Minutes t0 .. t0 + L - 1 of `sim`, as `run_minutes`, each pass timed into `seconds`."""
    import numba
    import numpy as np

    from tightrope.core.rng import next_u64
    from tightrope.engine import minutes as M
    from tightrope.model.diffusion import (
        PART_COUNTERS,
        add_engagement,
        count_minute,
        fill_minute,
        follow_up,
        reshares_of,
        view_parts,
    )
    from tightrope.model.exposure import schedule_shares
    from tightrope.model.moderation import serve_escalations, serve_reviews, serve_sweeps
    from tightrope.model.officials import serve_answers

    world, tally, rs, feed = sim.world(), sim.tally, sim.rs, sim.feed_views
    posts, people, consts, rules, graph, cal, q, req, view_cal = world
    tc, pc, hist, ct, xc = (
        tally.tick,
        tally.platform,
        tally.minutes,
        tally.category,
        tally.exposures,
    )
    view_log, view_meta = sim.views
    buf_post, buf_viewer, outcome = sim.minute_buffer
    aud_slot, aud_viewer = sim.audience_views
    threads = numba.get_num_threads()
    n_parts = view_meta.size
    start = np.zeros(n_parts + 1, dtype=np.int64)
    fill = np.zeros(n_parts, dtype=np.int64)
    counters = np.zeros((n_parts, PART_COUNTERS))
    streams = np.zeros((n_parts, 3, 4), dtype=np.uint64)
    keys = np.empty(3, dtype=np.uint64)
    keys[0] = next_u64(rs[M.S_RESHARE])
    keys[1] = next_u64(rs[M.S_REPORT])
    keys[2] = next_u64(rs[M.S_INSPECTION])
    reshare_key = np.uint64(next_u64(rs[M.S_EXPOSURE]))
    r_slot = np.empty(1024, dtype=np.int64)
    r_sharer = np.empty(1024, dtype=np.int32)
    r_start = np.empty(1024, dtype=np.int64)
    clock = time.perf_counter
    for j in range(consts.tick_minutes):
        m = t0 + j
        hour = (m // 60) % 24
        a = clock()
        n = count_minute(
            m, j, cal, view_cal, feed.start, posts, people, consts, rules, q, req, tc, ct, start
        )  # fmt: skip
        if n > buf_post.size:
            size = max(n, 2 * buf_post.size)
            buf_post = np.zeros(size, dtype=np.int64)
            buf_viewer = np.zeros(size, dtype=np.int32)
            outcome = np.zeros(size, dtype=np.uint8)
        b = clock()
        fill_minute(m, j, view_cal, feed, start, fill, buf_post, buf_viewer)
        c = clock()
        seconds["count"] += b - a
        seconds["fill"] += c - b
        if n > 0:
            view_parts(
                m, j, start, buf_post, buf_viewer, outcome, posts, people, consts, rules,
                counters, keys, streams, view_log, view_meta,
            )  # fmt: skip
            d = clock()
            nr = reshares_of(counters, start)
            if nr > r_slot.size:
                r_slot = np.empty(2 * nr, dtype=np.int64)
                r_sharer = np.empty(2 * nr, dtype=np.int32)
                r_start = np.empty(2 * nr, dtype=np.int64)
            follow_up(
                m, start, buf_post, buf_viewer, outcome, counters, posts, consts, cal, tc, pc,
                ct, xc, r_slot, r_sharer, r_start,
            )  # fmt: skip
            e = clock()
            aud_slot, aud_viewer = schedule_shares(
                r_slot, r_sharer, r_start, nr, reshare_key, j << 32, posts, people, consts,
                graph, view_cal, aud_slot, aud_viewer,
            )  # fmt: skip
            f = clock()
            add_engagement(
                n, buf_post, outcome, posts.engagement, consts.view_engagement,
                consts.reshare_engagement, threads,
            )  # fmt: skip
            g = clock()
            seconds["views"] += d - c
            seconds["follow_up"] += e - d
            seconds["shares"] += f - e
            seconds["engagement"] += g - f
        h = clock()
        serve_reviews(
            m, hour, world, tally, rs[M.S_REVIEW], rs[M.S_EXPOSURE], rs[M.S_PUNISHMENT],
            rs[M.S_APPEALS], rs[M.S_ESCALATION],
        )  # fmt: skip
        i = clock()
        serve_escalations(m, world, tally, rs[M.S_PUNISHMENT], rs[M.S_APPEALS])
        k = clock()
        serve_sweeps(m, world, tally, rs[M.S_SWEEP], rs[M.S_PUNISHMENT], rs[M.S_APPEALS])
        o = clock()
        serve_answers(m, hour, req, people, consts, tc, hist, rs[M.S_OFFICIALS])
        seconds["reviews"] += i - h
        seconds["escalations"] += k - i
        seconds["sweeps"] += o - k
        seconds["answers"] += clock() - o
    sim.minute_buffer = (buf_post, buf_viewer, outcome)
    sim.audience_views = (aud_slot, aud_viewer)


def measure_here(preset: str, users: int, days: float, seed: int) -> dict[str, Any]:
    """The passes' seconds over `days` days after the first, at `users` users and, as the
    cost of the calls, at CALLS_USERS."""
    import numba

    time_passes(preset, CALLS_USERS, 0.05, seed)  # loads the passes from the kernel cache
    calls = time_passes(preset, CALLS_USERS, days, seed)
    measured = time_passes(preset, users, days, seed)
    return {
        "preset": preset,
        "users": users,
        "days": days,
        "seed": seed,
        "threads": numba.get_num_threads(),
        **measured,
        "calls_s": calls["passes_s"],
    }


def timed_phases(seconds: dict[str, float]) -> tuple[tuple[str, Any], ...]:
    """The step table with the minute loop replaced by `timed_minutes` (timing into
    `seconds`), for `Simulation.step(phases=...)`."""
    from tightrope.engine.simulation import PHASES

    def minutes(sim: Any, tick: Any) -> None:
        timed_minutes(sim, tick.t0, seconds)

    return tuple((name, minutes if name == "minutes" else phase) for name, phase in PHASES)


def time_passes(preset: str, users: int, days: float, seed: int) -> dict[str, Any]:
    """Build, step the first day, then time the passes over the next `days` days."""
    import tightrope
    from tightrope.engine.simulation import Simulation

    sc = tightrope.load_scenario(preset, users=users, days=1.0 + days, seed=seed)
    sim = Simulation(sc)
    per_day = round(1440 / sc.run.tick_minutes)
    for _ in range(per_day):
        sim.step()
    seconds = dict.fromkeys(PASSES, 0.0)
    phases = timed_phases(seconds)
    before = dict(sim.phase_seconds)
    start = time.perf_counter()
    while sim.t < sim.n_ticks:
        sim.step(phases)
    wall = time.perf_counter() - start
    other = sum(v - before[k] for k, v in sim.phase_seconds.items() if k != "minutes")
    minutes = sum(seconds[p] for p in PASSES)
    return {"wall_s": wall, "other_phases_s": other, "minutes_s": minutes, "passes_s": seconds}


def net(row: dict[str, Any], p: str) -> float:
    """A pass's seconds less the cost of its calls (not below 0)."""
    return max(row["passes_s"][p] - row["calls_s"][p], 0.0)


def measure(preset: str, users: int, days: float, seed: int, threads: int) -> dict[str, Any]:
    """One measurement in a fresh process with `threads` threads."""
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), TIGHTROPE_THREADS="fixed")
    cmd = [sys.executable, __file__, "--here", "--preset", preset, "--users", str(users)]
    cmd += ["--days", str(days), "--seed", str(seed)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table: seconds of each pass at each thread count less the calls' cost,
    and 1-thread / N."""
    base = {p: net(rows[0], p) for p in PASSES}
    head = "| threads | " + " | ".join(PASSES) + " | minutes (calls) | other phases |"
    lines = [head, "|" + "---|" * (len(PASSES) + 3)]
    for r in rows:
        cells = []
        for p in PASSES:
            s = net(r, p)
            ratio = base[p] / s if s > 0 else 0.0
            cells.append(f"{s:.2f} ({ratio:.2f}x)")
        lines.append(
            f"| {r['threads']} | " + " | ".join(cells) + f" | {r['minutes_s']:.2f} "
            f"({sum(r['calls_s'].values()):.2f}) | "
            f"{r['other_phases_s']:.2f} |"
        )
    return "\n".join(lines)


def markdown(measured: dict[str, Any]) -> str:
    """The page's section: the table, and what it says about the serial passes."""
    rows = measured["rows"]
    r0, last = rows[0], rows[-1]
    serial = [p for p in PASSES if net(last, p) > 0.8 * net(r0, p)]
    work = sum(net(last, p) for p in PASSES)
    share = sum(net(last, p) for p in serial) / max(work, 1e-9)
    return "\n".join(
        [
            f"{r0['preset']}, {r0['users']:,} users, the {r0['days']:g} day(s) after the first "
            f"(seed {r0['seed']}), seconds of each pass of the minute loop and, in brackets, "
            "its speed-up over one thread, less the cost of the passes' calls from Python "
            f"(the same passes at {CALLS_USERS:,} users; their sum in brackets after the "
            "minute loop's seconds, which include it); 'other phases' are the tick's other "
            f"phases together. Measured {measured['date']} with "
            "`python benchmarks/minute_passes.py` (the `passes` part of benchmarks/run.py), "
            "each thread count in a fresh process.",
            "",
            table(rows),
            "",
            f"On {last['threads']} threads the passes that gained less than 1.25x ("
            + (", ".join(serial) if serial else "none")
            + f") take {share:.0%} of the minute loop's work: the serial part that holds a run "
            "back on many cores (by Amdahl's law).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="china-comprehensive-2021")
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--here", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.here:
        print(json.dumps(measure_here(a.preset, a.users, a.days, a.seed)))
        return 0
    rows = [measure(a.preset, a.users, a.days, a.seed, int(t)) for t in a.threads.split(",")]
    print(table(rows))
    if a.json_out:
        from tightrope.results.storage import write_text_atomic

        write_text_atomic(a.json_out, json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
