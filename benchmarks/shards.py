"""How much of the follower graph a split into shards keeps inside its shards (issue 22;
docs/scale.md). The structured generator's communities are contiguous id ranges, and
`tightrope.core.shards.shard_bounds` cuts only where one ends; this measures the share of
follows whose two ends land in one shard, against a split that places the same number of
users in each shard at random, and the shards' evenness, at 100,000 and 1,000,000 users
(`--quick`: 20,000). Every preset shares one society, so one preset's network stands for all.

    python benchmarks/shards.py [--quick] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from tightrope import load_scenario
from tightrope.core.shards import follow_locality, shard_bounds, shard_of
from tightrope.model.network import build_network
from tightrope.results.storage import write_text_atomic

SHARDS = (2, 8, 16, 64, 256)


def measure(users: int, regions: int = 1, seed: int = 1) -> list[dict[str, float]]:
    """One row per shard count: follows kept inside shards (community cuts, and a random
    placement of the same sizes), largest shard over the mean, seconds to split. With
    `regions` > 1 the network has that many regions of equal shares (a quarter of base
    follows are drawn inside one's region; the presets have one region)."""
    t0 = time.perf_counter()
    sets = [f"network.regions=[{', '.join(['1.0'] * regions)}]"]
    sc = load_scenario("us-self-regulation", sets, users=users, days=1, seed=seed)
    built = build_network(sc)
    build_s = time.perf_counter() - t0
    g = built.graph
    author = np.repeat(np.arange(g.n, dtype=np.int32), np.diff(g.followers_ptr))
    rng = np.random.default_rng(seed)
    rows = []
    for shards in SHARDS:
        t0 = time.perf_counter()
        bounds = shard_bounds(g.n, shards, built.community)
        split_s = time.perf_counter() - t0
        scattered = rng.permutation(shard_of(bounds, np.arange(g.n)))
        sizes = np.diff(bounds)
        rows.append(
            {
                "users": users,
                "regions": regions,
                "edges": int(g.followers_idx.size),
                "communities": int(built.community.max()) + 1,
                "build_s": build_s,
                "shards": shards,
                "kept": follow_locality(g, bounds),
                "kept_random": float((scattered[author] == scattered[g.followers_idx]).mean()),
                "largest_over_mean": float(sizes.max() / sizes.mean()),
                "split_s": split_s,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20,000 users only (seconds)")
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args()
    sizes = (20_000,) if args.quick else (100_000, 1_000_000)
    rows = [row for users in sizes for regions in (1, 8) for row in measure(users, regions)]
    print(
        "| users | regions | shards | follows kept in shards | random placement | largest / mean |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['users']:,} | {r['regions']} | {r['shards']} | {r['kept']:.3f} "
            f"| {r['kept_random']:.3f} "
            f"| {r['largest_over_mean']:.2f} |"
        )
    if args.out:
        write_text_atomic(args.out, json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
