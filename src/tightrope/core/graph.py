"""The follower graph as the model reads it: CSR arrays of followers and private circles
(built by `tightrope.model.network`)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Graph(NamedTuple):
    n: int
    followers_ptr: np.ndarray  # int64 (n + 1,)
    followers_idx: np.ndarray  # int32 (edges,)
    circle_ptr: np.ndarray  # int64 (circles + 1,)
    circle_members: np.ndarray  # int32 (n,)
    circle_of: np.ndarray  # int32 (n,): the circle each user belongs to
