"""Replicate seeds: spawned from one root seed, the same at every point of a comparison,
an experiment or a calibration (common random numbers)."""

from __future__ import annotations

import numpy as np


def child_seeds(root_seed: int, replicates: int) -> list[int]:
    """`replicates` integer seeds spawned from `SeedSequence(root_seed)`, one per replicate."""
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    return [int(child.generate_state(1)[0]) for child in children]
