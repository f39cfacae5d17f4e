"""How much memory a run needs, estimated before it starts, and a refusal if it will not fit.

The estimate adds up the arrays a run allocates, using the same sizing rules as the
simulation: per-user state (measured on a small probe population of the same scenario), the
follower graph (edges x 4 bytes, plus the peak while it is built: the followee draws and the
rows made from them, 8 bytes per drawn edge, and 8 bytes per user), the post ring (bytes per
slot x `post_capacity`), the feed's candidate arrays (28 bytes per candidate: they are as
long as the ring, but allocated as zeros, so only the places that candidates fill take
memory, and candidates are posts younger than a day: twice a day's and a tick's posts are
allowed for, at most the ring), the exposure calendars (12 bytes per event plus 4 per
block: a pool per shard of viewers, as many as `default_shards` makes here, and one for
the other events; the pools are sized not to grow in a steady run, and half again is
allowed for a grow), a peak
tick's feed views (28 bytes each, as drawn and sorted by minute, twice over: the buffers
double when they grow), the minute loop's buffer (13 bytes per view of a peak minute, taken
as twice the peak tick's feed views per minute, twice over), the posting phase's audience
regions (8 bytes per view of a peak tick, expected from activity x followees x see chance,
with half again for the regions' room, twice over), the inspectors' samples (8 bytes per
place) and the interpreter with its compiled kernels (a fixed allowance).
`docs/performance.md` compares it with the peak resident memory measured at 100,000 to
10,000,000 users.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from tightrope.core.world import BLOCK_EVENTS
from tightrope.errors import InputError
from tightrope.scenario.schema import Scenario

GIB = 1 << 30
BASELINE_BYTES = 260 * (1 << 20)  # Python, NumPy, Numba and the loaded kernels (measured)
PROBE_USERS = 2000
POST_SLOT_BYTES = 37  # pid 8, created 8, author 4, reach 4, engagement 4, reshares 4, 5 x 1
CANDIDATE_BYTES = 28  # pid int64, author, alias, scratch int32, accept float64 per post slot
FEED_VIEW_BYTES = 28  # feed views: minute int32, post id int64, viewer int32, sorted: 12
AUDIENCE_VIEW_BYTES = 8  # audience regions: calendar slot int32, viewer int32
INTENT_BYTES = 22  # a post to publish: user 4, platform 1, category 1, minute 8; pending 8
MINUTE_VIEW_BYTES = 13  # minute buffer: post id int64, viewer int32, outcome uint8
EVENT_BYTES = 12  # calendar: post id int64, viewer int32 (and an int32 link per block)
POOL_PEAK_FACTOR = 1.5  # the pool is sized not to grow in a steady run; margin for a grow


@dataclass
class MemoryEstimate:
    """Bytes a run needs at its peak, by part."""

    users: int
    edges: int
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """The peak: while the graph is built, or while the run goes, whichever is larger."""
        p = self.parts
        setup = p["interpreter"] + p["people"] + p["graph"] + p["graph build"]
        running = sum(v for k, v in p.items() if k != "graph build")
        return float(max(setup, running))

    def describe(self) -> str:
        parts = ", ".join(f"{k} {v / GIB:.1f}" for k, v in self.parts.items() if v >= 0.05 * GIB)
        return f"{self.total / GIB:.1f} GiB ({parts})"


def _edge_list_size(path: str) -> tuple[int, int]:
    """Users (the largest id + 1, as `network.read_edge_list` counts them) and edges of an
    edge-list file, read in pieces of 16 MiB so that the count needs little memory; (0, 0)
    for a file that cannot be read as one (the run itself then says what is wrong)."""
    from tightrope.scenario.edge_lists import edge_pairs

    users = edges = 0
    rest = b""
    try:
        with Path(path).open("rb") as fh:
            while True:
                chunk = fh.read(1 << 24)
                text = rest + chunk
                cut = text.rfind(b"\n") + 1 if chunk else len(text)
                rest = text[cut:]
                data = edge_pairs(text[:cut].decode("utf-8"))
                if data.size:
                    users = max(users, int(data.max()) + 1)
                    edges += data.shape[0]
                if not chunk:
                    break
    except (OSError, ValueError):
        return 0, 0
    return users, edges


def estimate(scenario: Scenario) -> MemoryEstimate:
    """The memory a run of `scenario` needs at its peak (see the module's docstring)."""
    import numpy as np

    from tightrope.engine.simulation import (
        VIEW_LOG_SIZE,
        Simulation,
        calendar_pool,
        default_shards,
        events_pool,
        post_capacity,
    )
    from tightrope.model.diffusion import view_log_size, viewer_parts
    from tightrope.model.posting import initial_intent_room, intent_blocks

    sc = scenario
    if sc.network.source == "edge_list":
        n, edges = _edge_list_size(sc.network.edge_list)
        n = max(n, 1)
        drawn = edges
    else:
        n = sc.run.users
        drawn = int(n * sc.network.mean_following)
        edges = drawn
    probe_users = min(n, PROBE_USERS)
    probe_sc = sc.model_copy(update={"run": sc.run.model_copy(update={"users": probe_users})})
    if sc.network.source == "edge_list":
        probe_sc = probe_sc.model_copy(
            update={"network": sc.network.model_copy(update={"source": "synthetic"})}
        )
    probe = Simulation(probe_sc)
    per_user = sum(a.nbytes for a in probe.people if isinstance(a, np.ndarray)) / probe_users
    activity = float(probe.people.activity.mean()) * n
    cap = post_capacity(activity)
    shards = default_shards(n)
    pool = shards * calendar_pool(sc, n, activity, edges, shards) + events_pool(sc, activity)
    peak_hour = float(probe.consts.diurnal.max())
    peak_feed_views = n * sc.population.views_per_day * peak_hour * sc.run.tick_minutes / 1440.0
    see = max((pl.feed.follower_see_chance for pl in sc.platforms.values()), default=0.0)
    peak_posts = activity * peak_hour * sc.run.tick_minutes / 1440.0
    peak_audience = peak_posts * (edges / n) * see
    # the feed's candidates: posts younger than its age limit, ranked at a tick's start
    candidate_posts = activity * (sc.ranking.age_limit_minutes + sc.run.tick_minutes) / 1440.0
    parts = {
        "interpreter": float(BASELINE_BYTES),
        # with the followee counts and the room for mobilised followees (docs/model.md 10)
        "people": per_user * n + n * 8.0,
        "graph": edges * 4.0 + n * 8.0 + n * 12.0,
        # the set-up's transient peak: the structured generator holds the edges about three
        # times over (draws, follow-backs, the merged rows) and the network statistics as
        # much again (the reverse graph and the undirected one), one after the other
        "graph build": drawn * 12.0 + n * 60.0,
        "posts": float(cap * POST_SLOT_BYTES),
        "candidates": min(cap, 2.0 * candidate_posts) * CANDIDATE_BYTES,
        "calendar": pool * (BLOCK_EVENTS * EVENT_BYTES + 4) * POOL_PEAK_FACTOR,
        # a peak tick's feed views, as drawn and sorted by minute, with room to grow: the
        # buffers at least double when a tick needs more
        "feed": 2.0 * peak_feed_views * FEED_VIEW_BYTES,
        # a peak tick's audience regions (room for the expected views and six standard
        # deviations; the buffers at least double when a tick needs more)
        "audiences": 2.0 * 1.5 * peak_audience * AUDIENCE_VIEW_BYTES,
        # a peak tick's posts to publish, by block of users, and the list of those made
        # visible (as long), grown to 1.5 x the fullest block when one needs more room
        "intents": 1.5 * intent_blocks(n) * initial_intent_room(n, peak_posts) * INTENT_BYTES,
        "minutes": 2.0 * 2.0 * peak_feed_views / sc.run.tick_minutes * MINUTE_VIEW_BYTES
        + viewer_parts(n) * view_log_size(n, VIEW_LOG_SIZE) * 8.0,
    }
    return MemoryEstimate(users=n, edges=edges, parts=parts)


def available_bytes() -> float:
    """Memory this process may still use: MemAvailable, capped by a cgroup limit if any."""
    avail = math.inf
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = float(line.split()[1]) * 1024
    except OSError:
        pass
    if not math.isfinite(avail):
        try:
            avail = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            return math.inf
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            used = float(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and float(limit) < 1 << 60:
            avail = min(avail, float(limit) - used)
    return avail


def check_fits(scenario: Scenario, available: float | None = None) -> MemoryEstimate:
    """The estimate for `scenario`; InputError if it needs more than is available."""
    est = estimate(scenario)
    free = available_bytes() if available is None else available
    if est.total > free:
        per_user = (est.total - est.parts["interpreter"]) / max(est.users, 1)
        fit = int(max(free - est.parts["interpreter"], 0) / per_user) if per_user > 0 else 0
        lower = (
            f"use a smaller edge list (about {fit:,} users fit)"
            if scenario.network.source == "edge_list"
            else f"lower run.users (about {fit:,} users fit) or network.mean_following"
        )
        raise InputError(
            f"this run needs about {est.describe()} of memory but {free / GIB:.1f} GiB is "
            f"available: {lower}, or free memory; --no-memory-check starts it anyway"
        )
    return est
