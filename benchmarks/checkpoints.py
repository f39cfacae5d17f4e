"""What a checkpoint of a sharded run costs (issue 22; docs/scale.md): seconds to save and to
load, bytes on disk, the shared file's and each shard's file's bytes per user, for one run
checkpointed with several numbers of shards. china-comprehensive-2021, one day run, then
saved and loaded with each shard count in turn (the same state: a checkpoint resumes with
any number of shards). Files are written and read a thread each, up to the run's threads.

    python benchmarks/checkpoints.py [--users N] [--shards 1,2,8] [--repeats 3]
                                     [--folder DIR] [--out FILE.json]

`--folder` should be on the disk a run would checkpoint to (default: a temporary folder).
The page cache makes a load right after a save read from memory; the times are those of a
warm cache, which is what a resumed run on the same machine sees.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numba

from tightrope import load_scenario
from tightrope.engine.checkpoints import load_checkpoint, read_header, save_checkpoint
from tightrope.engine.simulation import Simulation
from tightrope.results.storage import write_text_atomic


def measure(users: int, shard_counts: list[int], repeats: int, folder: Path) -> list[dict]:
    """One row per shard count: median seconds to save and to load (of `repeats`), the
    checkpoint's bytes, and the shared and largest shard file's bytes per user."""
    sc = load_scenario("china-comprehensive-2021", users=users, days=2, seed=3)
    sim = Simulation(sc, shards=1)
    per_day = 1440 // sc.run.tick_minutes
    while sim.t < per_day:
        sim.step()
    rows = []
    for shards in shard_counts:
        sim.reshard(shards)
        ck = folder / f"bench-{shards}.ckpt"
        saves, loads = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            save_checkpoint(sim, ck)
            saves.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            back = load_checkpoint(ck, sc)
            loads.append(time.perf_counter() - t0)
            del back
        files = read_header(ck)["files"]
        shard_bytes = [f["bytes"] for f in files[1:]]
        rows.append(
            {
                "users": users,
                "threads": numba.get_num_threads(),
                "shards": shards,
                "save_s": statistics.median(saves),
                "load_s": statistics.median(loads),
                "bytes": sum(f["bytes"] for f in files),
                "shared_bytes_per_user": files[0]["bytes"] / users,
                "largest_shard_bytes": max(shard_bytes),
                "shard_bytes_per_user": sum(shard_bytes) / users,
            }
        )
        shutil.rmtree(ck)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--shards", default="1,2,8")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--folder", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    counts = [int(x) for x in args.shards.split(",")]
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        rows = measure(args.users, counts, args.repeats, Path(tmp))
    for r in rows:
        print(
            f"{r['users']:>11,} users  {r['shards']:>3} shards  save {r['save_s']:6.2f} s  "
            f"load {r['load_s']:6.2f} s  {r['bytes'] / 1e6:8.1f} MB  shared "
            f"{r['shared_bytes_per_user']:6.1f} B/user  shards {r['shard_bytes_per_user']:6.1f}"
            " B/user"
        )
    if args.out is not None:
        write_text_atomic(args.out, json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
