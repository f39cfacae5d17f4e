"""Tightrope: a fast agent-based simulator of social-media governance.

>>> import tightrope
>>> sc = tightrope.load_scenario("eu-dsa", users=2000, days=2, seed=1)
>>> result = tightrope.run(sc)
>>> sorted(result.summary)[:3]
['access_share', 'active_share', 'active_users']
"""

from __future__ import annotations

from .errors import InputError
from .results import Result
from .scenario import Scenario
from .scenario_files import config_sha256, load_scenario, preset_names
from .simulation import PHASES, Simulation, run

__version__ = "0.1.0"

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
