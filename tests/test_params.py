"""One route for parameters: the declared table that compiles the scenario into `Consts`.

Three checks keep the route honest:

- the table `COMPILED` (tightrope.model.policy) gives every field of `Consts` exactly once,
  in the NamedTuple's order, and reads only settings that exist;
- every field of `Consts` is read somewhere in src/tightrope: as `consts.<field>` (or
  `self.consts.<field>`, `sim.consts.<field>`, a local alias of either). For that scan to be
  sound, a `Consts` is only ever handed to a function under the parameter name `consts`, and
  never taken apart by position, iteration or a computed `getattr` - checked here too;
- every numeric (or on/off) setting of the scenario schema is compiled by the table or read
  by its attribute name in src/tightrope (outside the schema's own validators), except the
  few listed in `NOT_READ_BY_NAME` with the reason.
"""

from __future__ import annotations

import ast
import types
import typing
from pathlib import Path

import numpy as np
import pytest
from pydantic import BaseModel

import tightrope
from tightrope.model.policy import COMPILED, Consts, make_consts, setting
from tightrope.scenario.content import CATEGORIES, KINDS
from tightrope.scenario.schema import Scenario

SRC = Path(tightrope.__file__).parent
SCHEMA = SRC / "scenario" / "schema.py"

NOT_READ_BY_NAME: dict[str, str] = {
    # path: why it counts as used although no attribute of its name is read
}
"""Numeric settings that are neither compiled nor read as `.name`, each with the reason.
Per-category and per-kind tables (fields named after CATEGORIES or KINDS) are read with
`getattr` over that vocabulary: they count as used when the table itself is read."""


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text("utf-8"), str(p))) for p in sorted(SRC.rglob("*.py"))]


MODULES = _modules()


# -- the table ------------------------------------------------------------------------------


def test_table_covers_every_field_exactly_once():
    fields = [row.field for row in COMPILED]
    twice = sorted({f for f in fields if fields.count(f) > 1})
    assert not twice, f"fields compiled more than once: {twice}"
    missing = sorted(set(Consts._fields) - set(fields))
    assert not missing, f"Consts fields with no row in COMPILED: {missing}"
    extra = sorted(set(fields) - set(Consts._fields))
    assert not extra, f"rows of COMPILED for no Consts field: {extra}"
    assert tuple(fields) == Consts._fields, "COMPILED is not in the order of Consts"


def test_table_paths_exist():
    sc = Scenario()
    name = {"platforms": next(iter(sc.platforms)), "categories": CATEGORIES[0], "run": ""}
    for row in COMPILED:
        for path in row.paths:
            if "*" in path:
                assert row.over != "run", f"{row.field}: '*' in {path} of a plain field"
            setting(sc, path, name[row.over])  # raises if the path is not a setting


def test_consts_fit_a_parallel_region():
    """Numba's parallel regions take a tuple of at most 100 fields: a mechanism with many
    settings packs them into one array (docs/architecture.md)."""
    from tightrope.model.policy import Consts

    assert len(Consts._fields) <= 100


@pytest.mark.parametrize("preset", tightrope.preset_names())
def test_compiled_types(preset):
    """Arrays have the declared dtype and one value (or row) per platform or category; plain fields
    are Python ints or floats (the kernels are compiled for these types)."""
    sc = tightrope.load_scenario(preset, users=1000)
    consts = make_consts(sc, 1000)
    size = {"platforms": len(sc.platforms), "categories": len(CATEGORIES)}
    for row in COMPILED:
        value = getattr(consts, row.field)
        if row.over != "run":
            assert isinstance(value, np.ndarray), row.field
            assert value.dtype == row.dtype, row.field
            # one value per platform or category, or one row of values (`p_appeals`)
            assert value.ndim in (1, 2), row.field
            assert value.shape[0] == size[row.over], row.field
        elif isinstance(value, np.ndarray):
            assert value.dtype == np.float64, row.field
        else:
            assert type(value) in (int, float), (row.field, type(value))


# -- every compiled field is read -----------------------------------------------------------


def _is_consts(node: ast.AST, aliases: set[str]) -> bool:
    """`consts`, `<anything>.consts`, or a local name bound to either."""
    if isinstance(node, ast.Name):
        return node.id == "consts" or node.id in aliases
    return isinstance(node, ast.Attribute) and node.attr == "consts"


def _aliases(tree: ast.AST) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_consts(node.value, set()):
            out |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return out


def _functions(modules: list[tuple[Path, ast.Module]] = MODULES) -> dict[str, list[list[str]]]:
    """Parameter names of every function defined in src, by function name."""
    out: dict[str, list[list[str]]] = {}
    for _, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                a = node.args
                out.setdefault(node.name, []).append([x.arg for x in a.posonlyargs + a.args])
    return out


def _consts_reads(
    modules: list[tuple[Path, ast.Module]] = MODULES,
) -> tuple[set[str], list[str]]:
    """The Consts fields read in `modules`, and the places where a Consts escapes the scan."""
    defs = _functions(modules)
    reads: set[str] = set()
    escapes: list[str] = []
    for path, tree in modules:
        aliases = _aliases(tree)
        where = path.relative_to(SRC) if path.is_relative_to(SRC) else path
        for node in ast.walk(tree):
            at = f"{where}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Attribute) and _is_consts(node.value, aliases):
                reads.add(node.attr)
            elif isinstance(node, ast.Subscript | ast.Starred) and _is_consts(node.value, aliases):
                escapes.append(f"{at}: a Consts taken apart by position")
            elif isinstance(node, ast.For | ast.comprehension) and _is_consts(node.iter, aliases):
                escapes.append(f"{at}: a Consts iterated over")
            elif isinstance(node, ast.Call):
                func = node.func
                callee = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if callee == "getattr" and node.args and _is_consts(node.args[0], aliases):
                    name = node.args[1] if len(node.args) > 1 else None
                    if isinstance(name, ast.Constant) and isinstance(name.value, str):
                        reads.add(name.value)
                    else:
                        escapes.append(f"{at}: getattr on a Consts with a computed name")
                    continue
                for i, arg in enumerate(node.args):
                    if not _is_consts(arg, aliases):
                        continue
                    params = defs.get(callee)
                    if not params:
                        escapes.append(f"{at}: a Consts handed to {callee or '?'}, not in src")
                    elif any(len(p) <= i or p[i] != "consts" for p in params):
                        escapes.append(f"{at}: {callee} takes a Consts under another name")
                for kw in node.keywords:
                    if _is_consts(kw.value, aliases) and kw.arg != "consts":
                        escapes.append(f"{at}: a Consts handed to {callee} as {kw.arg}")
    return reads, escapes


def test_consts_only_travel_as_consts():
    """The read scan below is sound only if a Consts is always called `consts`."""
    _, escapes = _consts_reads()
    assert not escapes, "\n".join(escapes)


def test_every_compiled_field_is_read():
    reads, _ = _consts_reads()
    dead = [f for f in Consts._fields if f not in reads]
    assert not dead, f"Consts fields nothing reads (drop them from Consts and COMPILED): {dead}"


def test_the_scan_catches_a_dead_field():
    """The scan sees reads through each kind of name and misses a field nothing reads; it
    reports a Consts handed on under another name."""
    toy = ast.parse(
        "def kernel(consts, sim):\n"
        "    c = sim.consts\n"
        "    helper(consts)\n"
        "    return consts.a + sim.consts.b + c.d + getattr(consts, 'e')\n"
        "def helper(consts):\n"
        "    return consts.f\n"
        "def other(k):\n"
        "    return k.g\n"
        "def caller(sim):\n"
        "    other(sim.consts)\n"
    )
    reads, escapes = _consts_reads([(Path("toy.py"), toy)])
    assert reads == {"a", "b", "d", "e", "f"}  # not g: read under another name
    assert escapes == ["toy.py:10: other takes a Consts under another name"]
    # the four fields dropped for nothing read them would be caught
    real = _consts_reads()[0]
    assert not real & {"p_accuracy", "paid_trigger", "mob_floor", "mob_decay", "n_users"}


# -- every numeric setting is compiled or read ----------------------------------------------


def _unwrap(annotation: typing.Any) -> typing.Any:
    """The type under Annotated and Optional (X | None)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _is_number(t: typing.Any) -> bool:
    t = _unwrap(t)
    if t in (int, float, bool):
        return True
    origin = typing.get_origin(t)
    if origin in (tuple, list):
        args = [a for a in typing.get_args(t) if a is not Ellipsis]
        return bool(args) and all(_is_number(a) for a in args)
    return False


def _settings(model: type[BaseModel], prefix: str = "") -> list[tuple[str, type[BaseModel]]]:
    """(path, owning model) of every numeric or on/off setting below `model`."""
    out: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        t = _unwrap(info.annotation)
        origin = typing.get_origin(t)
        if origin in (dict, list) and isinstance(_unwrap(typing.get_args(t)[-1]), type):
            inner = _unwrap(typing.get_args(t)[-1])
            if issubclass(inner, BaseModel):
                out += _settings(inner, f"{path}.*.")
                continue
        if isinstance(t, type) and issubclass(t, BaseModel):
            out += _settings(t, f"{path}.")
        elif _is_number(t):
            out.append((path, model))
    return out


def _matches(path: str, pattern: str) -> bool:
    a, b = path.split("."), pattern.split(".")
    return len(a) == len(b) and all(x == y or "*" in (x, y) for x, y in zip(a, b, strict=True))


def _names_read() -> set[str]:
    """Attribute names read anywhere in src but the schema (its validators read its own
    fields), and names given to getattr as a literal."""
    out: set[str] = set()
    for path, tree in MODULES:
        if path == SCHEMA:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                out.add(node.attr)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "getattr"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
            ):
                out.add(str(node.args[1].value))
    return out


def _unused_settings() -> list[str]:
    compiled = [p for row in COMPILED for p in row.paths]
    read = _names_read()
    vocabularies = (tuple(CATEGORIES), tuple(KINDS))
    unused = []
    for path, owner in _settings(Scenario):
        if path in NOT_READ_BY_NAME or any(_matches(path, p) for p in compiled):
            continue
        parts = path.split(".")
        if tuple(owner.model_fields) in vocabularies:
            # a per-category or per-kind table, read by getattr over the vocabulary
            if len(parts) > 1 and parts[-2] in read:
                continue
        elif parts[-1] in read:
            continue
        unused.append(path)
    return unused


def test_settings_walk_finds_the_settings():
    paths = [p for p, _ in _settings(Scenario)]
    for want in (
        "run.tick_minutes",
        "population.diurnal",
        "population.kinds.ordinary",
        "content.daily_life.share",
        "platforms.*.moderation.reviewer_hours",
        "platforms.*.moderation.filter.detection.rumor",
        "state.officials.give_up_hours",
        "events.*.day",
        "events.*.precision",
    ):
        assert want in paths, want


def test_every_numeric_setting_is_compiled_or_read():
    unused = _unused_settings()
    assert not unused, (
        f"settings nothing compiles (tightrope.model.policy.COMPILED) nor reads: {unused}; "
        "use them, remove them, or list them in NOT_READ_BY_NAME with the reason"
    )


def test_exceptions_are_settings():
    paths = [p for p, _ in _settings(Scenario)]
    for path, why in NOT_READ_BY_NAME.items():
        assert path in paths, path
        assert why, path


# -- the settings that were literals in the kernels and in the world's set-up ---------------

FORMER_LITERALS: dict[str, tuple[object, str | None, object, object]] = {
    # path: (default = the former literal, the Consts field it compiles to, another valid
    # value, a value out of range)
    "platforms.weibo.moderation.priority_enforced": (10.0, "p_prio_enforced", 3.0, -1.0),
    "platforms.weibo.moderation.priority_reported": (2.0, "p_prio_reported", 5.0, -0.5),
    "platforms.weibo.moderation.priority_held": (1.0, "p_prio_held", 0.0, -2.0),
    "platforms.weibo.moderation.report_delay_minutes": (1, "p_report_delay", 30, 0),
    "platforms.weibo.moderation.idle_carry_reviews": (1.0, "p_idle_carry", 4.0, -1.0),
    "state.officials.idle_carry_answers": (1.0, "idle_carry_answers", 0.0, -0.1),
    "behaviour.bad_actor_harm_share": (0.7, "bad_actor_harm_share", 0.2, 1.5),
    "mobilisation.call_boost": (20.0, "call_boost", 5.0, -1.0),
    "mobilisation.threshold_floor": (0.5, None, 1.0, -0.5),
    "ranking.age_limit_minutes": (1440, "age_limit", 720, 10),
    "ranking.freshness_minutes": (360.0, "freshness_minutes", 60.0, 0.0),
    "ranking.view_engagement": (1.0, "view_engagement", 0.5, -1.0),
    "ranking.reshare_engagement": (2.0, "reshare_engagement", 4.0, -1.0),
    "metrics.wants_foreign_threshold": (0.5, "wants_foreign_threshold", 0.8, 2.0),
    "random_events.duration_days": (3.0, None, 1.0, -1.0),
    "population.activity_multiplier.media_accredited": (20.0, None, 2.0, -1.0),
    "population.popularity_boost.influencer": (200.0, None, 20.0, 0.0),
    "population.spread.stance": (0.4, None, 0.1, -0.1),
    "population.foreign_demand_users": (1.3, None, 1.0, -1.0),
}


def _value(sc: Scenario, path: str) -> object:
    node: object = sc
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


@pytest.mark.parametrize("path", sorted(FORMER_LITERALS))
def test_former_literals_are_settings_with_their_old_value(path: str) -> None:
    default, field, other, bad = FORMER_LITERALS[path]
    sc = tightrope.load_scenario("china-weibo-2013", users=100, days=1)
    assert _value(sc, path) == default
    changed = tightrope.load_scenario("china-weibo-2013", [f"{path}={other}"], users=100)
    assert _value(changed, path) == other
    if field is not None:  # the kernels read what the setting says
        before = np.atleast_1d(getattr(make_consts(sc, 100), field))
        after = np.atleast_1d(getattr(make_consts(changed, 100), field))
        assert before[0] == default
        assert after[0] == other
    with pytest.raises(tightrope.InputError, match=path.split(".")[-1]):
        tightrope.load_scenario("china-weibo-2013", [f"{path}={bad}"], users=100)


def test_per_kind_tables_reach_the_people() -> None:
    """`population.activity_multiplier` scales a kind's activity; `popularity_boost` its
    chance to be followed; the spreads shape the initial draws."""
    from tightrope.core.world import popularity_boost

    base = tightrope.load_scenario("eu-dsa", users=2000, seed=4)
    sim = tightrope.Simulation(base)
    more = tightrope.load_scenario(
        "eu-dsa",
        ["population.activity_multiplier.influencer=40", "population.spread.stance=0"],
        users=2000,
        seed=4,
    )
    sim2 = tightrope.Simulation(more)
    inf = sim.people.kind == KINDS.index("influencer")
    assert inf.any()
    np.testing.assert_allclose(sim2.people.activity[inf], 4.0 * sim.people.activity[inf], rtol=1e-6)
    assert np.all(sim2.people.stance == np.float32(base.population.stance_mean))
    kinds = np.arange(len(KINDS))
    assert popularity_boost(base, kinds)[KINDS.index("influencer")] == 200.0
