"""Errors that mean "the input is wrong" or "the machines failed the run", as opposed to a
fault in Tightrope itself."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: a file, option or value. The command line exits with status 2 on it.

    `problems` lists every problem found, each naming the setting, the bad value and what is
    allowed; `str()` gives them as one message.
    """

    def __init__(self, what: str, problems: list[str] | None = None) -> None:
        self.what = what
        self.problems = list(problems or [])
        super().__init__(self.message())

    def message(self) -> str:
        if not self.problems:
            return self.what
        lines = [f"{self.what}:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class RunLostError(RuntimeError):
    """A run's machine was lost (a Dask worker whose process ended or whose connection
    broke): not bad input, not a fault of Tightrope's. The message names the last checkpoint
    and how to go on; the command line exits with status 1 on it."""
