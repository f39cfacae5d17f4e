"""Repeated exposure: how often a viewer has seen a post changes their chance to reshare it
(docs/model.md 7.5.1).

Bao, Shen, Chen & Cheng (2013) followed every forwarding on Sina Weibo: a second exposure to
the same message raises the chance of forwarding it, further exposures do not raise it
more (it peaks at two). Each person keeps a small memory of the posts they have seen
lately (`world.MEMORY_SLOTS` = 8 per person, most recently seen first; the least recently seen is
forgotten when a new post comes in) with the number of times they have seen each; the
k-th view of a post multiplies the chance to reshare it by `behaviour.exposure_weights`
[k - 1] (the last weight for every later view).

With every weight 1 nobody keeps a memory (`People.exposure_memory` has no columns) and
the views are processed as without this rule, to the bit. A memory entry is one int64:
`(post id + 1) << 8 | views`, 0 for an empty place, so a person's memory is one cache line.
"""

from __future__ import annotations

from numba import njit

from tightrope.core.world import EXPOSURE_BINS

MAX_COUNT = 255
"""Views of a post counted in a memory entry (its low 8 bits); later views count as 255."""


@njit(inline="always", cache=True)
def exposure_weight(weights, k: int) -> float:
    """What the reshare chance is multiplied by at a viewer's k-th view (k >= 1) of a post:
    `weights[min(k, len(weights)) - 1]`."""
    n = weights.size
    return weights[(k if k < n else n) - 1]


@njit(inline="always", cache=True)
def remember_view(memory, v: int, pid: int) -> int:
    """Viewer v sees post pid: its count in v's memory goes up by one (a post not in the
    memory comes in with count 1, taking the place of the least recently seen), and the
    entry moves to the front (most recently seen first). Returns the count: 1 at the
    first view (or the first since it was forgotten), 2 at the second, ..."""
    row = memory[v]
    key = pid + 1
    last = row.size - 1
    i = last
    k = 1
    for j in range(row.size):
        e = row[j]
        if (e >> 8) == key:
            i = j
            c = (e & MAX_COUNT) + 1
            k = c if c < MAX_COUNT else MAX_COUNT
            break
    for j in range(i, 0, -1):
        row[j] = row[j - 1]
    row[0] = (key << 8) | k
    return k


@njit(inline="always", cache=True)
def exposure_bin(k: int) -> int:
    """The column of `Tally.exposures` of a k-th view: 0, 1, or 2 for the 3rd and later."""
    return (k if k < EXPOSURE_BINS else EXPOSURE_BINS) - 1
