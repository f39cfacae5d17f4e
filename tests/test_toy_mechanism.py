"""A new mechanism is "one place each" (docs/architecture.md, "Adding a mechanism").

The test copies the package into a temporary folder, adds a toy mechanism there through the
documented steps, each an exact replacement of an anchor line (so the test fails loudly when
an anchor moves), checks that exactly the files the doc names were touched, and runs the
copy in a fresh interpreter: the toy phase is in `PHASES`, is timed, counts nothing at its
default and something when its setting is raised, and leaves every other figure of the
summary as the unmodified package gives it.

The toy stays in Python, reading its setting from `sim.scenario` (the doc allows either
that or compiling it into the constants), so `model/policy.py` is not touched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tightrope

PACKAGE = Path(tightrope.__file__).resolve().parent
ARCHITECTURE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
SCENARIO = {"source": "laissez-faire", "users": 300, "days": 1, "seed": 7}

TOY_RULE = '''"""A toy mechanism, added by tests/test_toy_mechanism.py: events at a steady rate."""

from __future__ import annotations


def toy_events(rate: float, users: int, tick_minutes: int) -> float:
    """The toy events of one tick: `rate` per user per day."""
    return rate * users * tick_minutes / 1440.0
'''

# (file, anchor, replacement): each anchor must occur exactly once in the file
EDITS: list[tuple[str, str, str]] = [
    # 1. the setting: a field of an existing model class
    (
        "scenario/schema.py",
        "class Behaviour(Strict):\n",
        "class Behaviour(Strict):\n"
        '    toy_rate: Share = Field(0.0, description="toy events per user per day")\n',
    ),
    # 3. the count: a name at the end of TICK, and its derived position
    (
        "core/counters.py",
        ")  # fmt: skip\nT = {name: i for i, name in enumerate(TICK)}\n",
        '    "toy",\n)  # fmt: skip\nT = {name: i for i, name in enumerate(TICK)}\n',
    ),
    (
        "core/counters.py",
        'CALLS_TO_ACTION = T["calls_to_action"]\n',
        'CALLS_TO_ACTION = T["calls_to_action"]\nTOY = T["toy"]\n',
    ),
    # 4. the place in the tick: the rule's import, a phase method, a row of PHASES
    (
        "engine/simulation.py",
        "from tightrope.model.regulator import inspect\n",
        "from tightrope.model.regulator import inspect\n"
        "from tightrope.model.toy import toy_events\n",
    ),
    (
        "engine/simulation.py",
        "    def phase_record(self, tick: Tick) -> None:\n",
        "    def phase_toy(self, tick: Tick) -> None:\n"
        '        """The toy mechanism (tightrope.model.toy)."""\n'
        "        sc = self.scenario\n"
        "        toy = toy_events(sc.behaviour.toy_rate, self.n_users, sc.run.tick_minutes)\n"
        "        self.tc[K.TOY] += toy\n"
        "\n"
        "    def phase_record(self, tick: Tick) -> None:\n",
    ),
    # before "record", so that the tick's count reaches the totals that `record` adds up
    (
        "engine/simulation.py",
        '    ("record", Simulation.phase_record),',
        '    ("toy", Simulation.phase_toy),\n    ("record", Simulation.phase_record),',
    ),
]
NEW_FILES = {"model/toy.py": TOY_RULE}  # 2. the rule: a module of its own in model/

SCRIPT = """
import json, sys
import tightrope
from tightrope.core import counters as K

sc_args = json.loads(sys.argv[1])
out = {"file": tightrope.__file__, "phases": [name for name, _ in tightrope.PHASES]}
for rate in ("0", "0.5"):
    sc = tightrope.load_scenario(
        sc_args["source"], [f"behaviour.toy_rate={rate}"],
        users=sc_args["users"], days=sc_args["days"], seed=sc_args["seed"],
    )
    sim = tightrope.Simulation(sc)
    counted = 0.0
    for _ in range(sim.n_ticks):
        sim.step()
        counted += float(sim.tc[K.TOY])
    result = sim.result()
    out[rate] = {
        "rate": sc.behaviour.toy_rate,
        "counted": counted,
        "total": float(sim.totals[K.TOY]),
        "seconds": sim.phase_seconds["toy"],
        "meta_seconds": result.meta["phase_seconds"]["toy"],
        "summary": json.dumps(result.summary, sort_keys=True, default=str),
    }
print("RESULT " + json.dumps(out))
"""


def package_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def documented_paths() -> set[str]:
    """The package paths named in backticks by the doc's "Adding a mechanism" section."""
    text = ARCHITECTURE.read_text("utf-8")
    section = text.split("## Adding a mechanism", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([\w/]+(?:\.py|/))`", section))


def reference_summary() -> str:
    """The unmodified (installed) package's summary for the same scenario and seed."""
    sc = tightrope.load_scenario(
        SCENARIO["source"], users=SCENARIO["users"], days=SCENARIO["days"], seed=SCENARIO["seed"]
    )
    sim = tightrope.Simulation(sc)
    for _ in range(sim.n_ticks):
        sim.step()
    return json.dumps(sim.result().summary, sort_keys=True, default=str)


@pytest.mark.slow
def test_toy_mechanism_is_one_place_each(tmp_path: Path) -> None:
    src = tmp_path / "src"
    copy = src / "tightrope"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = package_files(copy)

    for rel, anchor, replacement in EDITS:
        path = copy / rel
        text = path.read_text("utf-8")
        assert text.count(anchor) == 1, f"anchor moved in {rel}: {anchor!r}"
        path.write_text(text.replace(anchor, replacement), "utf-8")
    for rel, body in NEW_FILES.items():
        assert not (copy / rel).exists(), rel
        (copy / rel).write_text(body, "utf-8")

    # one place each: exactly the files the doc names, and every one of them
    after = package_files(copy)
    touched = {rel for rel in after if before.get(rel) != after[rel]}
    assert set(before) <= set(after)
    expected = {"scenario/schema.py", "core/counters.py", "model/toy.py", "engine/simulation.py"}
    assert touched == expected, touched
    named = documented_paths()
    for rel in touched:
        assert rel in named or rel.rsplit("/", 1)[0] + "/" in named, (rel, named)

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["TIGHTROPE_CACHE_DIR"] = str(tmp_path / "kernels")
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(SCENARIO)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1500,  # a cold compile of every kernel: minutes
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line[len("RESULT ") :])

    assert Path(out["file"]).resolve().is_relative_to(copy.resolve()), out["file"]
    phases = out["phases"]
    assert phases[-2:] == ["toy", "record"], phases
    assert [p for p in phases if p != "toy"] == [name for name, _ in tightrope.PHASES]

    off, on = out["0"], out["0.5"]
    assert off["rate"] == 0.0
    assert on["rate"] == 0.5
    assert off["counted"] == 0.0
    assert off["total"] == 0.0
    assert on["counted"] > 0.0
    assert on["total"] == pytest.approx(on["counted"])
    assert on["total"] == pytest.approx(0.5 * SCENARIO["users"] * SCENARIO["days"])
    for run in (off, on):
        assert run["seconds"] > 0.0
        assert run["meta_seconds"] == run["seconds"]

    # the toy only counts: the rest of the results are the unmodified package's
    assert off["summary"] == reference_summary()
    assert on["summary"] == off["summary"]
