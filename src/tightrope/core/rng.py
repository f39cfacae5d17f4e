"""Named random streams derived from one root seed.

Each kind of random decision (posting, exposure, reshares, reviews, ...) has its own stream,
a xoshiro256** generator whose 256-bit state is a row of one uint64 array. The rows are
seeded from `numpy.random.SeedSequence(root_seed, spawn_key=(i,))`, with i the stream's
fixed position in `STREAMS`, so two regimes run with the same seed draw the same numbers
for the same decisions (common random numbers) and differ only where their policies act.
Kernels take the row of their stream and advance it in place, so the whole generator state
is an array that a checkpoint can save.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

STREAMS: tuple[str, ...] = (
    "network",
    "population",
    "intents",
    "category",
    "chilling",
    "filter",
    "exposure",
    "reshare",
    "report",
    "feed",
    "review",
    "inspection",
    "punishment",
    "officials",
    "mobilisation",
    "mobility",
    "vpn",
    "events",
    "compliance",
    "author_deletion",
    "sweep",
    "turnover",
    "appeals",
    "escalation",
)
"""Every random stream, by name. Append only: positions are part of the seeding."""

STREAM = {name: i for i, name in enumerate(STREAMS)}


def make_streams(root_seed: int) -> np.ndarray:
    """The state of every stream: uint64 array of shape (len(STREAMS), 4)."""
    states = np.empty((len(STREAMS), 4), dtype=np.uint64)
    for i in range(len(STREAMS)):
        ss = np.random.SeedSequence(int(root_seed), spawn_key=(i,))
        row = ss.generate_state(4, dtype=np.uint64)
        if not row.any():  # the all-zero state is the one xoshiro cannot leave
            row[0] = 1
        states[i] = row
    return states


def numpy_generator(root_seed: int, name: str, part: int = 1) -> np.random.Generator:
    """A NumPy Generator on a named stream, for set-up work outside the kernels.

    `part` (>= 1) gives independent generators within one stream, one per set-up step."""
    ss = np.random.SeedSequence(int(root_seed), spawn_key=(STREAM[name], part))
    return np.random.Generator(np.random.PCG64(ss))


@njit(inline="always")
def _rotl(x: np.uint64, k: int) -> np.uint64:
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True, inline="always")
def next_u64(s: np.ndarray) -> np.uint64:
    """Advance the xoshiro256** state `s` (4 uint64) and return 64 random bits."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return result


@njit(cache=True, inline="always")
def uniform(s: np.ndarray) -> float:
    """A float in [0, 1) with 53 random bits."""
    return float(next_u64(s) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


_ZIG_R = 7.697117470131487  # the ziggurat's base layer's right edge, r (256 layers)


def _exponential_tables(layers: int = 256, bits: int = 53):
    """Marsaglia and Tsang's ziggurat for the standard exponential (J. Stat. Softw. 5(8),
    2000), 256 layers: for layer i, k[i] (a draw of `bits` bits below it lies wholly under
    the density), w[i] (scales the draw to x) and f[i] = exp(-x_i)."""
    scale = float(2**bits)
    x = _ZIG_R
    v = 3.949659822581572e-3  # the area of each layer
    k = np.zeros(layers, dtype=np.uint64)
    w = np.zeros(layers)
    f = np.zeros(layers)
    q = v / math.exp(-x)
    k[0] = np.uint64((x / q) * scale)
    w[0] = q / scale
    w[layers - 1] = x / scale
    f[0] = 1.0
    f[layers - 1] = math.exp(-x)
    previous = x
    for i in range(layers - 2, 0, -1):
        x = -math.log(v / x + math.exp(-x))
        k[i + 1] = np.uint64((x / previous) * scale)
        previous = x
        f[i] = math.exp(-x)
        w[i] = x / scale
    return k, w, f


_ZIG_K, _ZIG_W, _ZIG_F = _exponential_tables()


@njit(cache=True, inline="always")
def standard_exponential(s: np.ndarray) -> float:
    """An exponential draw of mean 1 (ziggurat, `_exponential_tables`): one 64-bit draw,
    its low 8 bits for the layer and its high 53 for the point, accepted at once 98.9% of
    the time; no logarithm except in the rare wedges and tail."""
    while True:
        b = next_u64(s)
        i = int(b & np.uint64(0xFF))
        r = b >> np.uint64(11)
        x = float(r) * _ZIG_W[i]
        if r < _ZIG_K[i]:
            return x
        if i == 0:  # the tail beyond r: memoryless
            return _ZIG_R - math.log(1.0 - uniform(s))
        if _ZIG_F[i] + uniform(s) * (_ZIG_F[i - 1] - _ZIG_F[i]) < math.exp(-x):
            return x


@njit(cache=True, inline="always")
def exponential(s: np.ndarray, mean: float) -> float:
    """An exponential draw with the given mean."""
    return mean * standard_exponential(s)


@njit(cache=True, inline="always")
def normal(s: np.ndarray) -> float:
    """A standard normal draw (Box-Muller, one of the pair)."""
    u1 = 1.0 - uniform(s)
    u2 = uniform(s)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit(cache=True, inline="always")
def lognormal_delay(median: float, sigma: float, z: float) -> float:
    """A lognormal delay in minutes from a standard normal z: `median x exp(sigma x z)`,
    at least 1 and at most 10^9 (authors' deletions, a second tier's removals)."""
    d = median * math.exp(sigma * z)
    if d > 1e9:
        return 1e9
    return d if d > 1.0 else 1.0


@njit(cache=True, inline="always")
def poisson(s: np.ndarray, lam: float) -> int:
    """A Poisson draw: inversion for small means, a rounded normal above 30."""
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        u = uniform(s)
        # exp(-lam) >= 1 - lam, so below that (less a few ulps of rounding) the draw is 0
        # without computing the exponential: most draws, as most means are small
        if u < (1.0 - lam) - 1e-15:
            return 0
        p = math.exp(-lam)
        cdf = p
        k = 0
        while u > cdf and k < 200:
            k += 1
            p *= lam / k
            cdf += p
        return k
    k = math.floor(lam + math.sqrt(lam) * normal(s) + 0.5)
    return k if k > 0 else 0


@njit(cache=True, inline="always")
def geometric_skip(s: np.ndarray, inv_log_q: float) -> int:
    """Failures before the next success of a Bernoulli(p) sequence, given
    inv_log_q = 1 / log1p(-p) (0 when p >= 1), which a loop drawing many skips with one p
    computes once: floor(E / -log(1 - p)) with E a standard exponential."""
    return math.floor(-standard_exponential(s) * inv_log_q)


@njit(cache=True, inline="always")
def integer(s: np.ndarray, n: int) -> int:
    """A uniform integer in [0, n)."""
    return int(uniform(s) * n)


@njit(cache=True)
def alias_fill(weight, lo: int, hi: int, accept, alias, stack) -> float:
    """Walker's alias table (Vose's construction) for drawing index i in [lo, hi) with
    probability proportional to weight[i] in O(1) (see `alias_pick`). Writes accept[lo:hi]
    and alias[lo:hi] (absolute indices); `stack` is scratch of at least hi - lo entries
    (small columns from its start, large ones from its end). `accept` may be `weight`.
    Returns the total weight; with a total of 0 nothing is written."""
    n = hi - lo
    total = 0.0
    for i in range(lo, hi):
        total += weight[i]
    if total <= 0.0:
        return total
    ns = 0
    nl = 0
    for i in range(lo, hi):
        x = weight[i] * n / total
        accept[i] = x
        alias[i] = i
        if x < 1.0:
            stack[ns] = i
            ns += 1
        else:
            nl += 1
            stack[n - nl] = i
    while ns > 0 and nl > 0:
        ns -= 1
        s = stack[ns]
        g = stack[n - nl]
        alias[s] = g
        accept[g] = (accept[g] + accept[s]) - 1.0
        if accept[g] < 1.0:
            nl -= 1
            stack[ns] = g
            ns += 1
    for k in range(ns):  # what is left is a full column, up to rounding
        accept[stack[k]] = 1.0
    for k in range(nl):
        accept[stack[n - 1 - k]] = 1.0
    return total


@njit(cache=True, inline="always")
def alias_column(lo: int, n: int, u: float) -> int:
    """The column of an alias table over [lo, lo + n) that uniform u picks (`alias_pick`):
    where a pick will read, known before it is made."""
    return lo + min(int(u * n), n - 1)


@njit(cache=True, inline="always")
def alias_pick(accept, alias, lo: int, n: int, u: float) -> int:
    """An index in [lo, lo + n) from an alias table, with one uniform u: its integer part
    picks the column (`alias_column`), its remaining bits the acceptance test."""
    c = alias_column(lo, n, u)
    return c if u * n - (c - lo) < accept[c] else alias[c]


@njit(cache=True)
def poisson_table(lam: float, cdf: np.ndarray) -> int:
    """Fill cdf[0..k] with the Poisson(lam) distribution function (lam < 30), up to where
    it reaches 1 or the table ends; return k + 1, the entries used (for `poisson_from`)."""
    p = math.exp(-lam)
    acc = p
    cdf[0] = acc
    k = 0
    while acc < 1.0 and k + 1 < cdf.size:
        k += 1
        p *= lam / k
        acc += p
        cdf[k] = acc
    cdf[k] = 1.0
    return k + 1


@njit(cache=True, inline="always")
def poisson_from(cdf: np.ndarray, used: int, s: np.ndarray) -> int:
    """A Poisson draw from a table made by `poisson_table` (inversion, one uniform)."""
    u = uniform(s)
    k = 0
    while k + 1 < used and u > cdf[k]:
        k += 1
    return k


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _mix(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijection of 64-bit words that scatters every input bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def derive(key: np.uint64, index: int, out: np.ndarray) -> None:
    """Seed the xoshiro state `out` (4 uint64) for part `index` of a piece of work whose
    parts run in parallel: SplitMix64 from a seed mixing `key` (drawn once from the work's
    named stream) with the part's number. The parts are fixed by the work, not by the
    threads, so the draws are the same whatever the thread count."""
    x = _mix(key ^ _mix(np.uint64(index) + _GOLDEN))
    for j in range(4):
        x = x + _GOLDEN
        out[j] = _mix(x)
    if out[0] == 0 and out[1] == 0 and out[2] == 0 and out[3] == 0:
        out[0] = np.uint64(1)
