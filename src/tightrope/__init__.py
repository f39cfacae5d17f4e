"""Tightrope: a fast agent-based simulator of social-media governance.

>>> import tightrope
>>> sc = tightrope.load_scenario("eu-dsa", users=2000, days=2, seed=1)
>>> result = tightrope.run(sc)
>>> sorted(result.summary)[:3]
['access_share', 'active_share', 'active_users']
"""

from __future__ import annotations

from tightrope.core import kernel_cache

kernel_cache.configure()  # before any kernel is defined: a cache per version of their sources

from tightrope.engine.driver import run  # noqa: E402
from tightrope.engine.simulation import PHASES, Simulation  # noqa: E402
from tightrope.errors import InputError  # noqa: E402
from tightrope.results.result import Result  # noqa: E402
from tightrope.scenario.files import config_sha256, load_scenario, preset_names  # noqa: E402
from tightrope.scenario.schema import Scenario  # noqa: E402
from tightrope.version import __version__  # noqa: E402

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
