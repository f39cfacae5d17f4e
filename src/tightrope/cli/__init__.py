"""The `tightrope` command: a thin layer over the library.

`main` is the group of `app` (which also holds the commands on single runs and
comparisons, and the helpers every command uses); the commands of experiments, their
analysis and calibration live in modules of their own and are added here, by name.
"""

from tightrope.cli.analyze import analyze
from tightrope.cli.app import main
from tightrope.cli.assumptions import assumptions
from tightrope.cli.calibrate import calibrate
from tightrope.cli.experiment import experiment
from tightrope.cli.explore import explore
from tightrope.cli.facts import facts

for _command in (experiment, analyze, calibrate, facts, assumptions, explore):
    main.add_command(_command)

__all__ = ["main"]
