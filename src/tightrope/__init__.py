"""Tightrope: a fast agent-based simulator of social-media governance.

>>> import tightrope
>>> sc = tightrope.load_scenario("eu-dsa", users=2000, days=2, seed=1)
>>> result = tightrope.run(sc)
>>> sorted(result.summary)[:3]
['access_share', 'active_share', 'active_users']
"""

from __future__ import annotations

from tightrope.engine.driver import run
from tightrope.engine.simulation import PHASES, Simulation
from tightrope.errors import InputError
from tightrope.results.result import Result
from tightrope.scenario.files import config_sha256, load_scenario, preset_names
from tightrope.scenario.schema import Scenario
from tightrope.version import __version__

__all__ = [
    "PHASES",
    "InputError",
    "Result",
    "Scenario",
    "Simulation",
    "__version__",
    "config_sha256",
    "load_scenario",
    "preset_names",
    "run",
]
