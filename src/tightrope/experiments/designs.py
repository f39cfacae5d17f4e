"""Experimental designs: which factor values each design point of an experiment gets.

A factor is one scenario setting (a dotted path) that an experiment varies, either over an
explicit list of values or over a numeric range `[low, high]` on a linear or log scale.
A design turns the factors into a fixed, ordered list of points (dicts path -> value):

- grid: every combination of the factors' values (the last factor varies fastest); a range
  contributes `steps` evenly spaced values (geometrically spaced on a log scale);
- lhs: a Latin hypercube of `samples` points (scipy.stats.qmc.LatinHypercube), seeded from
  the experiment's root seed; a range is sampled continuously, a value list by stratified
  index;
- sobol: SALib's Saltelli/Sobol' sample (SALib.sample.sobol.sample) for `samples` = N, a
  power of two: N * (D + 2) points, or N * (2D + 2) with second-order indices;
- morris: SALib's Morris trajectories (SALib.sample.morris.sample): `samples` trajectories
  of D + 1 points each on a `num_levels` grid.

Log-scale ranges are sampled uniformly in log space (SALib's "logunif" distribution for
sobol and morris). Sampled values are clipped to [low, high] (floating-point noise can
step a hair outside), and values of integer settings are rounded to the nearest integer
(halves to even).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

DesignKind = Literal["grid", "lhs", "sobol", "morris"]
DESIGN_KINDS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")

DESIGN_STREAM = 0x44455347
"""spawn_key of the design's random stream, SeedSequence(root_seed, spawn_key=(DESIGN_STREAM,)):
far from the replicate seeds, which are the root's children (spawn keys 0, 1, ...)."""


@dataclass(frozen=True)
class Factor:
    """One setting an experiment varies.

    path: dotted path in the scenario; role: "lever" (a policy choice) or "uncertainty" (a
    fact of the world that is not known well); values: explicit values (numbers, strings
    or booleans), or None for a range; low/high: the numeric range, or None; scale:
    "linear" or "log" (ranges only); steps: evenly spaced values of a range in a grid
    design; integer: the setting is an integer, so sampled values are rounded.
    """

    path: str
    role: Literal["lever", "uncertainty"]
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    scale: Literal["linear", "log"] = "linear"
    steps: int | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """True for a `range = [low, high]` factor, False for a `values = [...]` one."""
        return self.values is None

    @property
    def categorical(self) -> bool:
        """True when the values are text or booleans (stored as strings in results)."""
        return self.values is not None and any(isinstance(v, bool | str) for v in self.values)

    def from_unit(self, u: np.ndarray | float) -> np.ndarray:
        """Map values in [0, 1] onto the range (linear or log), clipped, integers rounded."""
        assert self.low is not None
        assert self.high is not None
        u = np.asarray(u, dtype=float)
        if self.scale == "log":
            lo, hi = math.log(self.low), math.log(self.high)
            x = np.exp(lo + u * (hi - lo))
        else:
            x = self.low + u * (self.high - self.low)
        return self.finish(x)

    def finish(self, x: np.ndarray) -> np.ndarray:
        """Clip sampled range values to [low, high]; round them for integer settings."""
        x = np.clip(np.asarray(x, dtype=float), self.low, self.high)
        return np.rint(x) if self.integer else x

    def levels(self) -> list[Any]:
        """The grid values: the explicit list, or `steps` evenly spaced values of the range."""
        if self.values is not None:
            return list(self.values)
        if self.steps is None:
            raise ValueError(f"{self.path}: a range in a grid design needs steps")
        return [self.plain(v) for v in self.from_unit(np.linspace(0.0, 1.0, self.steps))]

    def plain(self, value: Any) -> Any:
        """A design value as a plain Python value: int for integer settings, else float/str."""
        if isinstance(value, bool | str):
            return value
        if hasattr(value, "item"):
            value = value.item()
        if self.integer:
            return round(value)
        return float(value) if not isinstance(value, int) else value


@dataclass(frozen=True)
class DesignSettings:
    """The `[design]` table: kind, samples (lhs/sobol/morris), calc_second_order (sobol),
    num_levels (morris)."""

    kind: DesignKind
    samples: int | None = None
    calc_second_order: bool = False
    num_levels: int | None = None


@dataclass
class Design:
    """The design points in order (dicts path -> value) and, for sobol and morris, the exact
    SALib problem they were sampled from."""

    points: list[dict[str, Any]]
    salib_problem: dict[str, Any] | None = None


def design_seed(root_seed: int) -> int:
    """The seed of the design's own random stream, derived from the root seed."""
    seq = np.random.SeedSequence(int(root_seed), spawn_key=(DESIGN_STREAM,))
    return int(seq.generate_state(1, dtype=np.uint32)[0])


def count_points(factors: Sequence[Factor], settings: DesignSettings) -> int:
    """How many points the design will have, without building it."""
    d = len(factors)
    n = settings.samples or 0
    if settings.kind == "grid":
        return math.prod(len(f.values) if f.values is not None else (f.steps or 0)
                         for f in factors)  # fmt: skip
    if settings.kind == "lhs":
        return n
    if settings.kind == "sobol":
        return n * (2 * d + 2 if settings.calc_second_order else d + 2)
    return n * (d + 1)


def salib_problem(factors: Sequence[Factor]) -> dict[str, Any]:
    """The SALib problem of range factors: names (paths) and bounds in the factors' order.

    When a factor has a log scale, "dists" gives every factor's distribution ("unif" or
    "logunif", uniform in log space), as SALib's samplers take it.
    """
    problem: dict[str, Any] = {
        "num_vars": len(factors),
        "names": [f.path for f in factors],
        "bounds": [[float(f.low), float(f.high)] for f in factors],  # type: ignore[arg-type]
    }
    if any(f.scale == "log" for f in factors):
        problem["dists"] = ["logunif" if f.scale == "log" else "unif" for f in factors]
    return problem


def grid(factors: Sequence[Factor]) -> list[dict[str, Any]]:
    """Every combination of the factors' levels; the last factor varies fastest."""
    levels = [f.levels() for f in factors]
    return [
        {f.path: f.plain(v) for f, v in zip(factors, combo, strict=True)}
        for combo in itertools.product(*levels)
    ]


def _from_unit_matrix(factors: Sequence[Factor], unit: np.ndarray) -> list[dict[str, Any]]:
    columns: list[list[Any]] = []
    for j, f in enumerate(factors):
        u = unit[:, j]
        if f.values is not None:
            k = len(f.values)
            idx = np.minimum(np.floor(u * k).astype(np.int64), k - 1)
            columns.append([f.values[i] for i in idx])
        else:
            columns.append(list(f.from_unit(u)))
    return [
        {f.path: f.plain(col[i]) for f, col in zip(factors, columns, strict=True)}
        for i in range(unit.shape[0])
    ]


def latin_hypercube(
    factors: Sequence[Factor], samples: int, root_seed: int
) -> list[dict[str, Any]]:
    """`samples` points of a Latin hypercube over the factors, seeded from the root seed."""
    from scipy.stats import qmc

    rng = np.random.default_rng(np.random.SeedSequence(int(root_seed), spawn_key=(DESIGN_STREAM,)))
    unit = qmc.LatinHypercube(d=len(factors), rng=rng).random(samples)
    return _from_unit_matrix(factors, unit)


def _salib_points(factors: Sequence[Factor], matrix: np.ndarray) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cols = [f.finish(matrix[:, j]) for j, f in enumerate(factors)]
    for i in range(matrix.shape[0]):
        out.append({f.path: f.plain(col[i]) for f, col in zip(factors, cols, strict=True)})
    return out


def sobol(
    factors: Sequence[Factor], samples: int, calc_second_order: bool, root_seed: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """SALib's Sobol' sample (Saltelli's scheme, scrambled, seeded from the root seed)."""
    from SALib.sample import sobol as salib_sobol

    problem = salib_problem(factors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        matrix = salib_sobol.sample(
            dict(problem), samples, calc_second_order=calc_second_order,
            seed=design_seed(root_seed),
        )  # fmt: skip
    return _salib_points(factors, np.asarray(matrix, dtype=float)), problem


def morris(
    factors: Sequence[Factor], samples: int, num_levels: int, root_seed: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """SALib's Morris trajectories: `samples` of them, each D + 1 points, seeded."""
    from SALib.sample import morris as salib_morris

    problem = salib_problem(factors)
    matrix = salib_morris.sample(
        dict(problem), samples, num_levels=num_levels, seed=design_seed(root_seed)
    )
    return _salib_points(factors, np.asarray(matrix, dtype=float)), problem


def morris_levels(factor: Factor, num_levels: int) -> list[float]:
    """The values a Morris design gives a range factor (its grid levels), rounded for
    integer settings; used to check that rounding keeps the levels apart."""
    u = np.linspace(0.0, 1.0, num_levels)
    if factor.scale == "log":
        from scipy.stats import loguniform

        x = loguniform.ppf(u, a=factor.low, b=factor.high)
        return [float(v) for v in factor.finish(x)]
    return [float(v) for v in factor.from_unit(u)]


def build_design(factors: Sequence[Factor], settings: DesignSettings, root_seed: int) -> Design:
    """The design's points, in a fixed order, and the SALib problem for sobol and morris."""
    if settings.kind == "grid":
        return Design(grid(factors))
    if settings.kind == "lhs":
        assert settings.samples is not None
        return Design(latin_hypercube(factors, settings.samples, root_seed))
    if settings.kind == "sobol":
        assert settings.samples is not None
        pts, problem = sobol(factors, settings.samples, settings.calc_second_order, root_seed)
        return Design(pts, problem)
    if settings.kind == "morris":
        assert settings.samples is not None
        pts, problem = morris(factors, settings.samples, settings.num_levels or 4, root_seed)
        return Design(pts, problem)
    raise ValueError(f"unknown design kind {settings.kind!r}")
