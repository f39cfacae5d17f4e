"""The shipped presets share one society (issue 20, item 1): population, network, content,
behaviour, mobilisation and the goal scores' references are the same in each, so that a
comparison of presets isolates the regime. The exceptions are named: the state's own
accounts (officials and paid commenters, and the ordinary share that makes up the rest),
China's four regions in china-comprehensive-2021 (where its local authorities differ), and
the calibrated preset, which is a different society until it is refitted."""

from __future__ import annotations

from typing import Any

from tightrope import load_scenario

PRESETS = (
    "laissez-faire",
    "us-self-regulation",
    "eu-dsa",
    "china-weibo-2013",
    "china-comprehensive-2021",
)
SOCIETY = ("population", "network", "content", "behaviour", "mobilisation", "metrics")
REGIME_ACCOUNTS = (
    "population.kinds.official",
    "population.kinds.paid_commenter",
    "population.kinds.ordinary",
)
EXCEPTIONS = {"china-comprehensive-2021": ("network.regions",)}


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: value}


def _society(name: str, skip: tuple[str, ...]) -> dict[str, Any]:
    data = load_scenario(name).model_dump(mode="json")
    flat = _flat({section: data[section] for section in SOCIETY})
    for key in (*REGIME_ACCOUNTS, *skip):
        flat.pop(key)
    return flat


def test_the_presets_share_one_society() -> None:
    for name in PRESETS[1:]:
        skip = EXCEPTIONS.get(name, ())
        reference, other = _society(PRESETS[0], skip), _society(name, skip)
        differ = sorted(
            k for k in reference.keys() | other.keys() if reference.get(k) != other.get(k)
        )
        assert not differ, f"{name} differs from {PRESETS[0]} in its society: {differ}"
