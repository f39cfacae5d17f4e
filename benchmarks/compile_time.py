"""How long the kernels take to compile from an empty cache, and which take longest.

The first run after installing (or after a change to a kernel's sources) compiles every
kernel a run calls; this runs a small scenario in a fresh cache folder and lists the
kernels by compile time, their own (exclusive: not counting the kernels they compile on
the way) and in all (inclusive), from Numba's compile events.

    python benchmarks/compile_time.py [--preset NAME] [--top 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="china-weibo-2013")
    ap.add_argument("--top", type=int, default=20, help="kernels to list")
    args = ap.parse_args()
    if "tightrope" in sys.modules:
        raise SystemExit("run as a script: the cache folder is set before tightrope is imported")
    with tempfile.TemporaryDirectory(prefix="tightrope-compile-") as cache:
        os.environ["TIGHTROPE_CACHE_DIR"] = cache
        from numba.core import event

        from tightrope import load_scenario, run

        start = time.perf_counter()
        with event.install_recorder("numba:compile") as recorder:
            run(load_scenario(args.preset, users=300, days=1, seed=1))
        total = time.perf_counter() - start
    own: dict[str, float] = {}
    whole: dict[str, float] = {}
    stack: list[list] = []  # [name, start, time in the kernels it compiled]
    for stamp, ev in recorder.buffer:
        func = getattr(ev.data.get("dispatcher"), "py_func", None)
        name = f"{func.__module__}.{func.__qualname__}" if func else str(ev.data)
        if ev.is_start:
            stack.append([name, stamp, 0.0])
            continue
        name, began, nested = stack.pop()
        took = stamp - began
        whole[name] = whole.get(name, 0.0) + took
        own[name] = own.get(name, 0.0) + took - nested
        if stack:
            stack[-1][2] += took
    print(f"{args.preset}, 300 users x 1 day, empty cache: {total:.1f} s, {len(own)} kernels")
    print("| kernel | own s | in all s |")
    print("|---|---|---|")
    for name, t in sorted(own.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"| `{name}` | {t:.1f} | {whole[name]:.1f} |")


if __name__ == "__main__":
    main()
