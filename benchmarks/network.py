"""Build the follower graph at a given size and print one JSON object: build seconds,
statistics seconds, peak resident memory and the graph's statistics.

    python benchmarks/network.py --users 1000000
    python benchmarks/network.py --users 10000000 --no-stats --threads 2

Run it in a fresh process per size so that the peak memory (`ru_maxrss`) is this build's.
A tiny build first compiles (or loads) the kernels; its time is reported as `warm_s`.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="Numba threads (0: default)")
    ap.add_argument("--no-stats", action="store_true", help="build only")
    args = ap.parse_args(argv)

    import numba

    from tightrope.model.follow_graph import GraphSettings, generate
    from tightrope.results.network_stats import network_stats

    if args.threads:
        numba.set_num_threads(args.threads)
    t = time.perf_counter()
    generate(2_000, args.seed)
    warm = time.perf_counter() - t
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    fg = generate(args.users, args.seed)
    build = time.perf_counter() - t
    rss_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out: dict[str, object] = {
        "users": args.users,
        "seed": args.seed,
        "threads": numba.get_num_threads(),
        "warm_s": round(warm, 3),
        "build_s": round(build, 3),
        "edges_mib": round(fg.graph.followers_idx.nbytes / 2**20, 1),
        "peak_rss_mib_before_build": round(rss_before / 1024, 1),
        "peak_rss_mib_after_build": round(rss_build / 1024, 1),
        "settings": GraphSettings()._asdict(),
    }
    if not args.no_stats:
        t = time.perf_counter()
        out["stats"] = network_stats(fg.graph, fg.region, fg.community)
        out["stats_s"] = round(time.perf_counter() - t, 3)
        out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return out


if __name__ == "__main__":
    main()
