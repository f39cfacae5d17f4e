"""Regenerate tests/golden/summary.json, the summary of a small seeded golden run.

Run on purpose, after a change that is meant to alter results:

    python scripts/regenerate_golden.py

The file is written atomically (a temporary file in the same folder, then os.replace).
NaN is stored as null.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import tightrope
from tightrope.results.storage import write_text_atomic

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "summary.json"
PRESET = "china-weibo-2013"
USERS = 3000
DAYS = 2
SEED = 7


def golden_summary() -> dict[str, Any]:
    """The golden run's summary as JSON-ready values (NaN as None)."""
    sc = tightrope.load_scenario(PRESET, users=USERS, days=DAYS, seed=SEED)
    out: dict[str, Any] = {}
    for key, value in sorted(tightrope.run(sc).summary.items()):
        if isinstance(value, str):
            out[key] = value
        else:
            f = float(value)
            out[key] = None if math.isnan(f) else f
    return out


def document() -> dict[str, Any]:
    return {
        "run": {"preset": PRESET, "users": USERS, "days": DAYS, "seed": SEED},
        "summary": golden_summary(),
    }


def main() -> None:
    text = json.dumps(document(), indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_text_atomic(GOLDEN, text)
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
