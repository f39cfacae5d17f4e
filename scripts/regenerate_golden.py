"""Regenerate tests/golden/summary.json: the summary and the network statistics of a small
seeded golden run.

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


def _plain(value: Any) -> Any:
    """JSON-ready: NaN as None, numbers as floats, nested mappings and lists kept."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | bool):
        return value
    f = float(value)
    return None if math.isnan(f) else f


def document() -> dict[str, Any]:
    """The golden run's settings, its summary and its network's statistics."""
    sc = tightrope.load_scenario(PRESET, users=USERS, days=DAYS, seed=SEED)
    result = tightrope.run(sc)
    return {
        "run": {"preset": PRESET, "users": USERS, "days": DAYS, "seed": SEED},
        "summary": _plain(result.summary),
        "network": _plain(result.meta["network"]),
    }


def main() -> None:
    text = json.dumps(document(), indent=2, sort_keys=True, allow_nan=False) + "\n"
    write_text_atomic(GOLDEN, text)
    print(f"wrote {GOLDEN}")


if __name__ == "__main__":
    main()
