"""The simulation: building the world from a scenario and stepping it tick by tick.

The step order is the table `PHASES` of (name, phase) pairs; `Simulation.step` runs the
phases in that order and `Simulation.phase_seconds` keeps the time each took, for
profiling. A phase is a method that calls the model's kernels and rules
(`tightrope.model`) on the simulation's arrays.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numba
import numpy as np
import pyarrow as pa

from tightrope.core import counters as K
from tightrope.core.graph import Graph, followee_counts
from tightrope.core.rng import STREAM, make_streams, next_u64, numpy_generator
from tightrope.core.world import (
    BLOCK_EVENTS,
    HORIZON_MINUTES,
    VIEWER_PART_USERS,
    Tally,
    ViewLog,
    World,
    grow_calendar,
    grow_requests,
    grow_review_queues,
    grow_sharded_calendar,
    make_people,
    new_calendar,
    new_posts,
    new_requests,
    new_review_queues,
    new_sharded_calendar,
    new_tally,
    part_owners,
    sized_pool,
)
from tightrope.engine.minutes import new_minute_buffer, run_minutes
from tightrope.errors import InputError
from tightrope.model.author_deletion import schedule_deletions
from tightrope.model.diffusion import view_log_size, viewer_parts
from tightrope.model.events import apply_events, schedule
from tightrope.model.exposure import move_views, refresh_access, schedule_audiences, shard_blocks
from tightrope.model.feed import feed_tick, new_candidates, new_feed_views
from tightrope.model.groups import (
    cohort_counts,
    count_user_posts,
    platform_members,
    region_counts,
    update_cohorts,
)
from tightrope.model.metrics import (
    cascade_sizes,
    category_counts,
    exposure_rates,
    median_minutes,
    population_stats,
    scores,
    spam_removed_share,
    summary,
    violative_view_share,
)
from tightrope.model.mobilisation import after_incident, mobilise
from tightrope.model.network import build_network
from tightrope.model.people import daily_update, identifiable_share
from tightrope.model.platforms import Economy
from tightrope.model.policy import initial_law, make_consts, make_rules
from tightrope.model.posting import initial_intent_room, new_intents, post_tick
from tightrope.model.reactions import (
    adaptive_intensity,
    incident_happens,
    inspection_checks,
    sensitive_moment,
    suspend_platforms,
)
from tightrope.model.regulator import inspect
from tightrope.model.sanctions import Ladder, scrutiny
from tightrope.model.turnover import replace_leavers
from tightrope.results.network_stats import network_stats
from tightrope.results.result import (
    CASCADE_COLUMNS,
    CATEGORY_COLUMNS,
    COHORT_COLUMNS,
    HISTOGRAM_COLUMNS,
    PLATFORM_COLUMNS,
    PLATFORM_DAY_COLUMNS,
    REGION_COLUMNS,
    TIMESERIES_COLUMNS,
    Result,
    column_type,
)
from tightrope.scenario.content import CATEGORIES, CHEERLEADING
from tightrope.scenario.files import config_sha256
from tightrope.scenario.schema import SANCTION_STEPS, Scenario


class Tick(NamedTuple):
    """The tick a phase works on: `[t0, end)` in minutes from the start, its hour of the
    day, its length, and whether it ends a day."""

    t0: int
    end: int
    hour: int
    minutes: int
    new_day: bool

    @classmethod
    def at(cls, t: int, tick_minutes: int) -> Tick:
        t0 = t * tick_minutes
        end = t0 + tick_minutes
        return cls(t0, end, (t0 // 60) % 24, tick_minutes, end % 1440 == 0)


VIEW_LOG_SIZE = 1 << 16
"""Places in the inspectors' sample of a tick's views, shared out among the viewer parts."""
EAGER_NETWORK_STATS_USERS = 1_000_000
"""From this many users the network's statistics are computed at set-up, before the run's
arrays exist: their transient graphs (the reverse and the undirected one, about 12 bytes
an edge) then do not add to the run's peak memory, as they would at the end of the run
(10,000,000 users: 11.2 GiB peak when computed at the end). Below it they wait until asked
for, so that a small run's first tick does not wait for them."""


def post_capacity(posts_per_day: float) -> int:
    """Slots in the post ring: twice the posts of the exposure horizon, a power of two."""
    expected = posts_per_day * HORIZON_MINUTES / 1440.0
    return 1 << int(np.ceil(np.log2(max(expected * 2.0, 4096))))


def calendar_pool(sc: Scenario, n: int, posts_per_day: float, edges: int, shards: int = 1) -> int:
    """Initial pool of each shard's calendar of views, in blocks: about four ticks' views,
    shared out among the shards (the pools grow when needed)."""
    follow = edges / max(n, 1)
    views_per_day = n * sc.population.views_per_day + posts_per_day * follow * 0.3
    return sized_pool(views_per_day * 4 * sc.run.tick_minutes / 1440.0 / shards)


def events_pool(sc: Scenario, posts_per_day: float) -> int:
    """Initial pool of the calendar of other events, in blocks: about four ticks' posts
    (each schedules at most a review arrival, a deletion and a reinstatement; it grows when
    needed)."""
    return sized_pool(posts_per_day * 4 * sc.run.tick_minutes / 1440.0)


def default_shards(n_users: int) -> int:
    """The shards of a run here when none is asked for: one per thread Numba runs, as many
    as there are viewer parts at most (results do not depend on the number)."""
    return max(1, min(numba.get_num_threads(), viewer_parts(n_users)))


def check_shards(shards: int, n_users: int) -> int:
    """`shards`, checked: between 1 and the run's viewer parts (a shard owns whole parts
    of VIEWER_PART_USERS users), else InputError naming what is allowed."""
    parts = viewer_parts(n_users)
    if not 1 <= shards <= parts:
        raise InputError(
            f"shards must be between 1 and {parts} for {n_users:,} users (a shard owns whole "
            f"parts of {VIEWER_PART_USERS:,} users); got {shards}"
        )
    return shards


def check_per_region(path: str, values: list[float], region: np.ndarray, noun: str) -> None:
    """A list set per region (`path`, one `noun` a region) must cover every region that has
    users: a node-attribute table may name regions the scenario's network.regions does not
    count. An empty list (not set) passes."""
    top = int(region.max(initial=0))
    if values and top >= len(values):
        raise InputError(
            f"{path}: {len(values)} {noun}s, but the network has users in region {top}; "
            f"give one {noun} per region (0 to {top})"
        )


def answer_queues(sc: Scenario, region: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Which answer queue serves each user's requests, and how many queues: one national
    queue, or with `state.officials.region_staff_shares` one per region (the user's)."""
    shares = sc.state.officials.region_staff_shares
    if not shares:
        return np.zeros(n, dtype=np.int8), 1
    check_per_region("state.officials.region_staff_shares", shares, region, "share")
    return region.astype(np.int8), len(shares)


def region_rows(sc: Scenario, region: np.ndarray) -> np.ndarray:
    """Each user's region, checked against `state.regions` (docs/model.md 8.10): with
    multipliers set, every region in the network must have one."""
    for name in ("enforcement", "sensitivity"):
        values = getattr(sc.state.regions, name)
        check_per_region(f"state.regions.{name}", values, region, "multiplier")
    return region


class Simulation:
    """One run of a scenario: all state as arrays, stepped by `step()`."""

    def __init__(self, scenario: Scenario, shards: int | None = None) -> None:
        """Build the run of `scenario`, its calendar of views split into `shards` shards of
        viewers (default: `default_shards`; the results are the same for any number)."""
        self.scenario = sc = scenario
        seed = sc.run.seed
        self.rs = make_streams(seed)
        built = build_network(sc)
        self.graph: Graph = built.graph
        self.region = built.region
        self._community = built.community
        self._network: dict[str, Any] | None = None  # its statistics, computed when asked
        n = self.graph.n
        self.n_users = n
        self.people = make_people(
            sc,
            self.graph,
            numpy_generator(seed, "population"),
            built.kind,
            built.platforms,
            region_rows(sc, built.region),
        )
        del built
        if n >= EAGER_NETWORK_STATS_USERS:
            self._network = network_stats(self.graph, self.region, self._community)
        self.consts = make_consts(sc, n)
        self.names = list(sc.platforms)
        n_p = len(self.names)
        L = sc.run.tick_minutes
        self.n_ticks = round(sc.run.days * 1440 / L)
        self.t = 0
        self.dropped_seen = 0  # calendar events dropped up to the last growth check
        cap = post_capacity(float(self.people.activity.sum()))
        self.posts = new_posts(cap)
        self.cal = new_calendar(events_pool(sc, float(self.people.activity.sum())))
        shards = check_shards(default_shards(n) if shards is None else shards, n)
        self.view_cal = new_sharded_calendar(
            calendar_pool(
                sc, n, float(self.people.activity.sum()), self.graph.followers_idx.size, shards
            ),
            part_owners(viewer_parts(n), shards),
        )
        self.dropped_views_seen = 0  # views dropped up to the last growth check
        self.queues = new_review_queues(2 * n_p, 1 << 12)  # review heaps, then second tiers
        self.requests = new_requests(1 << 12, *answer_queues(sc, self.region, n))
        peak = float(self.people.activity.sum()) * float(self.consts.diurnal.max()) * L / 1440.0
        self.intents = new_intents(n, initial_intent_room(n, peak))
        # posts made visible this tick: room for every post the intents' buffers hold
        self.pending = np.zeros(self.intents.user.size + 1, dtype=np.int64)
        self.audience_views = (np.zeros(1 << 16, dtype=np.int32), np.zeros(1 << 16, dtype=np.int32))
        self.candidates = new_candidates(cap)
        self.scratch = np.zeros(cap, dtype=np.int32)
        per_tick = n * sc.population.views_per_day * sc.run.tick_minutes / 1440.0
        self.feed_views = new_feed_views(int(per_tick * 1.5) + 1024, n, L)
        parts = viewer_parts(n)
        self.view_log = np.zeros((parts, view_log_size(n, VIEW_LOG_SIZE)), dtype=np.int64)
        self.view_meta = np.zeros(parts, dtype=np.int64)
        self.minute_buffer = new_minute_buffer(int(2.0 * per_tick / L) + 1024)
        counts = new_tally(n_p)
        self.hist = counts.minutes
        self.tc = counts.tick
        self.pc = counts.platform
        self.category = counts.category  # per category, the run so far
        self.category_minutes = counts.category_minutes
        self.cascades = counts.cascades  # posts whose slot was taken, by cascade size
        self.exposures = counts.exposures  # views, reshares by the viewer's count (7.5.1)
        self.totals = np.zeros(len(K.TICK))
        self.identifiable = identifiable_share(self.people.real_name, self.consts.data_access)
        self.law = initial_law(sc)
        self.blocked = np.array([p in sc.state.access.blocked for p in self.names], np.uint8)
        self.platform_suspended_until = np.zeros(n_p, dtype=np.int64)
        self.economy = Economy(sc, n)
        self.ladder = Ladder(sc, self.names, self.consts.p_regulated)
        self.events = schedule(sc)
        self.events_rng = numpy_generator(seed, "events")
        self.turnover_rng = numpy_generator(seed, "turnover")
        self.replaced = 0  # users who left and were replaced (section 5.11)
        self.intensity_adaptive = 0.0
        self.window = np.zeros(n_p)
        self.last_incident = -(10**9)
        # accounts each user follows, and room for how many of them are mobilised (10)
        self.followees = followee_counts(self.graph).astype(np.int32)
        self.peers = np.zeros(n, dtype=np.int32)
        self.burst = False
        self.sensitive_average: float | None = None
        self.money_totals = np.zeros(4)
        self.rows: list[list[float]] = []
        self.platform_rows: list[list[Any]] = []
        # per platform, the day so far: posts, views, removed (rows: PLATFORM_DAY_COLUMNS)
        self.day_counts = np.zeros((n_p, 3))
        self.day_ticks = 0
        self.platform_day_rows: list[list[Any]] = []
        self.phase_seconds = dict.fromkeys(PHASE_NAMES, 0.0)
        self.rules = self._rules()
        self.stats, self.active = population_stats(self.people, self.consts, self.rules, 0)

    # -- phases -------------------------------------------------------------------------
    def _rules(self):
        t0 = self.t * self.scenario.run.tick_minutes
        live = self.platform_suspended_until <= t0
        return make_rules(
            self.scenario,
            self.consts,
            self.law,
            self.economy.effort,
            self.blocked,
            live,
            self.events.intensity(t0) + self.intensity_adaptive,
            self.events.request_boost(t0),
            t0,
        )

    @property
    def network(self) -> dict[str, Any]:
        """The follower graph's statistics (`results.network_stats`), computed the first
        time they are asked for (the graph does not change during a run), so that a run's
        first tick does not wait for them (about 0.8 s at 20,000 users); at set-up from
        `EAGER_NETWORK_STATS_USERS` users, where their memory would add to the run's."""
        if self._network is None:
            self._network = network_stats(self.graph, self.region, self._community)
        return self._network

    def _grow_if_needed(self) -> None:
        # grow a pool when events were dropped since the last check (the count is
        # cumulative) or room for four ticks like the last one is short; the views'
        # shards grow together, when the fullest is short of its even share
        tc = self.tc
        cal = self.cal
        free = (cal.link.size - cal.meta[1]) * BLOCK_EVENTS
        events = tc[K.INTENTS] + tc[K.RESHARES] + tc[K.REPORTS] + tc[K.REQUESTS] + tc[K.APPEALS]
        if free < max(events, 1.0) * 4 + 4096 or cal.meta[2] > self.dropped_seen:
            self.cal = grow_calendar(cal, cal.link.size * 2)
        self.dropped_seen = int(cal.meta[2])
        ex = self.view_cal
        blocks = ex.link.shape[1]
        free = (blocks - ex.meta[:, 1].max()) * BLOCK_EVENTS
        per_tick = max(tc[K.VIEWS] + tc[K.VIEWS_LOST], 1.0) * 4 / self.shards + 4096
        dropped = int(ex.meta[:, 2].sum())
        if free < per_tick or dropped > self.dropped_views_seen:
            self.view_cal = grow_sharded_calendar(ex, blocks * 2)
        self.dropped_views_seen = dropped
        q = self.queues
        if (q.size > q.key.shape[1] // 2).any():
            self.queues = grow_review_queues(q, q.key.shape[1] * 2)
        r = self.requests
        if (r.ends[:, 1] - r.ends[:, 0]).max() > r.user.shape[1] // 2:
            self.requests = grow_requests(r, r.user.shape[1] * 2)

    @property
    def dropped_events(self) -> int:
        """Events refused by a full calendar pool so far (views in every shard, and the
        other events): lost to the run, which a run with room would have had."""
        return int(self.cal.meta[2]) + int(self.view_cal.meta[:, 2].sum())

    @property
    def shards(self) -> int:
        """The shards of viewers whose calendars hold the scheduled views."""
        return int(self.view_cal.link.shape[0])

    def reshard(self, shards: int) -> None:
        """Split the calendar of views into `shards` shards instead (a checkpoint resumed
        with another number of shards): every scheduled view moves to its viewer's new
        shard, each part's views in their order, so that the run goes on to the same
        results. InputError for a count the run cannot have (`check_shards`)."""
        shards = check_shards(shards, self.n_users)
        if shards == self.shards:
            return
        old = self.view_cal
        owner = part_owners(viewer_parts(self.n_users), shards)
        need = int(shard_blocks(old, owner, shards).max())
        activity = float(self.people.activity.sum())
        edges = self.graph.followers_idx.size
        blocks = calendar_pool(self.scenario, self.n_users, activity, edges, shards)
        new = new_sharded_calendar(max(blocks, need + 1024), owner)
        move_views(old, new)
        new.meta[0, 2] = old.meta[:, 2].sum()  # the views dropped so far, kept in the count
        self.view_cal = new

    def world(self) -> World:
        """The state the kernels read and change, as one bundle (built when asked: the
        rules, the calendar and the queues are replaced during a run)."""
        return World(
            posts=self.posts,
            people=self.people,
            consts=self.consts,
            rules=self.rules,
            graph=self.graph,
            cal=self.cal,
            queues=self.queues,
            requests=self.requests,
            view_cal=self.view_cal,
        )

    @property
    def tally(self) -> Tally:
        """This tick's counters, per-platform counters, minute histograms and the counts
        by category of the run so far."""
        return Tally(
            self.tc,
            self.pc,
            self.hist,
            self.category,
            self.category_minutes,
            self.cascades,
            self.exposures,
        )

    @property
    def views(self) -> ViewLog:
        """This tick's sample of views for the regulator's inspections."""
        return ViewLog(self.view_log, self.view_meta)

    def step(self, phases: tuple[tuple[str, Phase], ...] | None = None) -> None:
        """Advance one tick: run the phases of `PHASES` in order, timing each (`phases`: a
        table to run instead, the same phases with one replaced by an instrumented copy:
        benchmarks/minute_passes.py)."""
        self.tc[:] = 0.0
        self.pc[:] = 0.0
        self.view_meta[:] = 0
        self._grow_if_needed()
        tick = Tick.at(self.t, self.scenario.run.tick_minutes)
        clock = time.perf_counter
        since = clock()
        for name, phase in PHASES if phases is None else phases:
            phase(self, tick)
            now = clock()
            self.phase_seconds[name] += now - since
            since = now

    # -- the phases, in the order of PHASES ----------------------------------------------
    def phase_events(self, tick: Tick) -> None:
        """Scheduled and random shocks start (tightrope.model.events)."""
        self.law = apply_events(
            self.scenario,
            self.events,
            self.people.grievance,
            self.blocked,
            self.law,
            tick.t0,
            tick.end,
            self.events_rng,
        )

    def phase_policy(self, tick: Tick) -> None:
        """The rules in force: laws, campaigns, the adaptive rule, platforms' effort."""
        self.rules = self._rules()
        refresh_access(self.people, self.rules, tick.t0)

    def phase_feed(self, tick: Tick) -> None:
        """Rank the candidates, schedule the feed views (tightrope.model.feed)."""
        self.feed_views = feed_tick(
            tick.t0,
            tick.hour,
            self.posts,
            self.people,
            self.consts,
            self.candidates,
            self.scratch,
            self.feed_views,
            self.rs[STREAM["feed"]],
        )

    def phase_posting(self, tick: Tick) -> None:
        """Intents, self-censorship, displacement, the filter, publication, and the
        audiences of the new posts (tightrope.model.posting, tightrope.model.exposure)."""
        rs = self.rs
        self.intents, self.pending = post_tick(
            tick.t0, tick.hour, self.burst, self.world(), self.tally, rs, self.pending, self.intents
        )
        out, pe = self.intents, self.people
        count_user_posts(
            out.user,
            out.cat,
            out.count,
            pe.posts_made,
            pe.criticism_made,
            pe.requests_made,
            pe.cohort_split,
            pe.posts_after,
            pe.criticism_after,
        )
        key = np.uint64(next_u64(rs[STREAM["exposure"]]))
        self.audience_views = schedule_audiences(
            self.pending, int(self.pending[-1]), key, self.world(), self.audience_views
        )

    def phase_author_deletion(self, tick: Tick) -> None:
        """Authors decide which of the tick's new posts they will delete, and when
        (tightrope.model.author_deletion); nothing is drawn when no category has a share."""
        if not self.consts.ad_share.any():
            return
        schedule_deletions(
            self.pending,
            int(self.pending[-1]),
            tick.t0,
            self.posts,
            self.people,
            self.consts,
            self.cal,
            self.rs[STREAM["author_deletion"]],
        )

    def phase_minutes(self, tick: Tick) -> None:
        """Minute by minute: views, reshares, reports, reviews, sweeps, authors' deletions,
        answers (tightrope.engine.minutes)."""
        self.minute_buffer, self.audience_views = run_minutes(
            tick.t0,
            self.world(),
            self.tally,
            self.views,
            self.feed_views,
            self.rs,
            self.minute_buffer,
            self.audience_views,
            numba.get_num_threads(),
        )

    def phase_inspection(self, tick: Tick) -> None:
        """The regulator checks what was seen, fines, removes, refers; platforms over the
        law's limit of violations are suspended (tightrope.model.regulator, reactions)."""
        sc = self.scenario
        ins = sc.state.inspection
        checks = inspection_checks(sc, self.n_users, tick.minutes, self.rules.intensity)
        if self.ladder.active:
            checks *= scrutiny(self.ladder.step, self.ladder.per_step)
        inspect(
            tick.end,
            checks,
            ins.fine_per_violation,
            ins.fine_growth,
            self.window,
            self.views,
            self.world(),
            self.tally,
            self.rs[STREAM["inspection"]],
            self.rs[STREAM["punishment"]],
            self.rs[STREAM["appeals"]],
        )
        suspend_platforms(sc, self.window, self.platform_suspended_until, tick.end)

    def phase_mobilisation(self, tick: Tick) -> None:
        """The threshold process and offline incidents; a sensitive moment sends the paid
        commenters in next tick (tightrope.model.mobilisation, reactions)."""
        sc = self.scenario
        mob = sc.mobilisation
        g = self.graph
        self.mobilised = mobilise(
            self.people,
            g.followers_ptr,
            g.followers_idx,
            self.followees,
            self.peers,
            tick.minutes,
            mob.decay_per_day,
            mob.grievance_floor,
        )
        if incident_happens(sc, self.mobilised, self.n_users, tick.t0, self.last_incident):
            self.tc[K.INCIDENTS] += 1.0
            self.last_incident = tick.t0
            after_incident(self.people, mob.incident_relief)
        self.burst, self.sensitive_average = sensitive_moment(
            sc, self.tc[K.SENSITIVE_POSTS], self.tc[K.POSTS], self.sensitive_average, tick.minutes
        )

    def phase_economics(self, tick: Tick) -> None:
        """Revenue, costs, fines, profit; the state's review of each platform's record and
        its sanctions (tightrope.model.sanctions); at the end of a day, adaptive compliance
        (tightrope.model.platforms)."""
        ladder = self.ladder
        named = ladder.named(tick.t0) * ladder.naming_loss if ladder.active else None
        self.money = self.economy.tick(
            tick.t0, tick.minutes, self.pc, self.tc[K.REGULATOR_CHECKS], named
        )
        if ladder.active:
            ladder.observe(self.pc, self.money[0])
            fines = ladder.review(
                tick.end, self.names, self.platform_suspended_until, self.economy.effort
            )
            if fines.any():
                self.money[2] += fines
                self.money[3] -= fines
                self.tc[K.FINES] += fines.sum()
        if tick.new_day:
            self.economy.adapt(
                tick.end,
                self._prohibited_detection(),
                self._full_cost(),
                self._harm_detection(),
                ladder,
            )

    def phase_daily(self, tick: Tick) -> None:
        """Once a day: fear, grievance, trust, satisfaction, moves, VPNs
        (tightrope.model.people); leavers and newcomers (tightrope.model.turnover); the
        adaptive rule (reactions)."""
        if not tick.new_day:
            return
        rs = self.rs
        daily_update(
            tick.end,
            self.people,
            self.consts,
            self.rules,
            rs[STREAM["mobility"]],
            rs[STREAM["vpn"]],
        )
        self.replaced += replace_leavers(self.scenario, self.people, self.turnover_rng)
        self.intensity_adaptive = adaptive_intensity(
            self.scenario, self.intensity_adaptive, self.mobilised, self.stats[1], self.n_users
        )
        self.window[:] = 0.0

    def phase_record(self, tick: Tick) -> None:
        """The tick's row of the time series; the clock moves on."""
        self._record(tick.t0, self.money)
        self.t += 1

    def _prohibited_detection(self) -> np.ndarray:
        out = np.zeros(len(self.names))
        for j, name in enumerate(self.names):
            det = self.scenario.platforms[name].moderation.filter.detection
            prohibited = [
                c for c in CATEGORIES if self.rules.state_prohibited[j, CATEGORIES.index(c)] > 0
            ]
            out[j] = np.mean([getattr(det, c) for c in prohibited]) if prohibited else 0.0
        return out

    def _harm_detection(self) -> np.ndarray:
        """Per platform, the filter's detection at full effort weighted by the categories'
        harm per view (what advertisers mind); 0 where no category does harm."""
        harm = np.array([getattr(self.scenario.content, c).harm_per_view for c in CATEGORIES])
        out = np.zeros(len(self.names))
        if harm.sum() > 0:
            for j, name in enumerate(self.names):
                det = self.scenario.platforms[name].moderation.filter.detection
                out[j] = float(np.dot([getattr(det, c) for c in CATEGORIES], harm) / harm.sum())
        return out

    def _full_cost(self) -> np.ndarray:
        eco = self.economy
        hours = np.array([hi - lo for lo, hi in eco.hours], dtype=np.float64)
        return eco.reviewers * hours * eco.wage * eco.every / 1440.0

    def _money_dict(self) -> dict[str, float]:
        rev, cost, fines, profit = self.money_totals
        return {"revenue": rev, "compliance_cost": cost, "fines": fines, "profit": profit}

    def _totals_dict(self) -> dict[str, float]:
        return dict(zip(K.TICK, self.totals.tolist(), strict=True))

    def _record(self, t0: int, money: np.ndarray) -> None:
        L = self.scenario.run.tick_minutes
        self.totals += self.tc
        self.money_totals += money.sum(axis=1)
        self.stats, self.active = population_stats(self.people, self.consts, self.rules, t0 + L)
        stats = self.stats
        days = (self.t + 1) * L / 1440.0
        has_foreign = bool(self.consts.p_foreign.any())
        sc = scores(
            self.scenario,
            self._totals_dict(),
            self.n_users,
            days,
            stats,
            self._money_dict(),
            has_foreign,
            self.identifiable,
        )
        tc = self.tc
        n = self.n_users
        values = {name: tc[i] for name, i in K.T.items()}
        rev, cost, fines, profit = money.sum(axis=1)
        values.update(
            tick=self.t,
            day=t0 // 1440,
            hour=(t0 // 60) % 24,
            mobilised=self.mobilised,
            vpn_users=stats[3],
            active_users=stats[4],
            bad_actors_active=stats[5],
            mean_fear=stats[0] / n,
            mean_grievance=stats[1] / n,
            mean_trust=stats[2] / n,
            revenue=rev,
            compliance_cost=cost,
            fines=fines,
            profit=profit,
            enforcement_intensity=self.rules.intensity,
            order_score=sc["order_score"],
            development_score=sc["development_score"],
            freedom_score=sc["freedom_score"],
        )
        row = [values[c] for c in TIMESERIES_COLUMNS]
        self.rows.append(row)
        self._count_groups(t0 + L)
        active = self.active
        for j, name in enumerate(self.names):
            self.platform_rows.append(
                [
                    self.t,
                    name,
                    active[j],
                    self.pc[j, K.P_POSTS],
                    self.pc[j, K.P_VIEWS],
                    self.pc[j, K.P_REMOVED],
                    money[0, j],
                    money[1, j],
                    money[2, j],
                    money[3, j],
                    self.economy.effort[j],
                    int(self.queues.size[j]),
                    int(self.platform_suspended_until[j] > t0 + L),
                    int(self.blocked[j]),
                    self.pc[j, K.P_CHECKS],
                    self.pc[j, K.P_VIOLATIONS],
                    int(self.ladder.step[j]),
                    self.pc[j, K.P_SENSITIVE_POSTS],
                    self.pc[j, K.P_SENSITIVE_HELD],
                ]
            )

    def _count_groups(self, end: int) -> None:
        """The tick's part of the outputs by platform and day and by cohort: the day's
        counts per platform (a row per platform at the day's end), and the users' cohorts
        when the state punished someone this tick (docs/model.md 11.7, 11.9)."""
        self.day_counts += self.pc[:, [K.P_POSTS, K.P_VIEWS, K.P_REMOVED]]
        self.day_ticks += 1
        if self.tc[K.PUNISHED] > 0:
            pe = self.people
            update_cohorts(
                pe.punished_at,
                pe.witnessed_at,
                pe.cohort,
                pe.cohort_split,
                pe.posts_after,
                pe.criticism_after,
                end,
            )
        if end % 1440 == 0:
            self.platform_day_rows.extend(self._platform_day((end - 1) // 1440))
            self.day_counts[:] = 0.0
            self.day_ticks = 0

    def _platform_day(self, day: int) -> list[list[Any]]:
        """The rows of `Result.platform_days` for the day so far, as of now."""
        members = platform_members(self.people.member, self.people.vpn, len(self.names))
        return [
            [
                day,
                name,
                self.day_ticks,
                int(self.active[j]),
                int(members[0, j]),
                int(members[1, j]),
                *(int(x) for x in self.day_counts[j]),
                int(self.blocked[j]),
            ]
            for j, name in enumerate(self.names)
        ]

    # -- results -------------------------------------------------------------------------
    def _sensitive_held_share(self) -> float:
        """Held for review / made, of the criticism and collective-action posts on the
        public platforms in the state's jurisdiction, over the run (King, Pan & Roberts
        2014's measure, taken on public sites; NaN when none was made)."""
        regulated = {
            name
            for j, name in enumerate(self.names)
            if self.consts.p_regulated[j] and self.scenario.platforms[name].kind == "public"
        }
        i_posts = PLATFORM_COLUMNS.index("sensitive_posts")
        made = held = 0.0
        for row in self.platform_rows:
            if row[1] in regulated:
                made += row[i_posts]
                held += row[i_posts + 1]
        return held / made if made else math.nan

    def result(self) -> Result:
        sc = self.scenario
        days = self.t * sc.run.tick_minutes / 1440.0
        summ = summary(
            sc,
            self._totals_dict(),
            self.hist,
            self.n_users,
            days,
            self.stats,
            self._money_dict(),
            bool(self.consts.p_foreign.any()),
            self.identifiable,
        )
        summ["replaced_users"] = float(self.replaced)  # turnover (section 5.11)
        summ["sensitive_held_share"] = self._sensitive_held_share()
        posts = self.category[:, K.CAT_POSTS]
        # King, Pan & Roberts 2017's measure: fabricated (paid commenters') posts / posts
        summ["cheerleading_share"] = (
            float(posts[CHEERLEADING] / posts.sum()) if posts.sum() > 0 else math.nan
        )
        summ.update(exposure_rates(self.exposures))  # repeated exposure (7.5.1)
        summ["spam_removed_share"] = spam_removed_share(self.category)  # spam (section 7.10)
        summ["violative_view_share"] = violative_view_share(self.category, self.consts.legit)
        for step in SANCTION_STEPS:  # the state's sanctions of the run (section 8.9)
            summ[f"sanctions_{step}"] = float(sum(row[3] == step for row in self.ladder.log))
        cols = list(zip(*self.rows, strict=True)) if self.rows else [[]] * len(TIMESERIES_COLUMNS)
        ts = pa.table(
            {
                name: pa.array(col, pa.int64() if i < 3 else pa.float64())
                for i, (name, col) in enumerate(zip(TIMESERIES_COLUMNS, cols, strict=True))
            }
        )
        pcols = (
            list(zip(*self.platform_rows, strict=True))
            if self.platform_rows
            else [[]] * len(PLATFORM_COLUMNS)
        )
        ptypes = {
            "tick": pa.int64(),
            "platform": pa.string(),
            "queue_length": pa.int64(),
            "suspended": pa.int64(),
            "blocked": pa.int64(),
            "sanction_step": pa.int64(),
        }
        plat = pa.table(
            {
                name: pa.array(col, ptypes.get(name, pa.float64()))
                for name, col in zip(PLATFORM_COLUMNS, pcols, strict=True)
            }
        )
        edges = K.bin_edges()
        measures = [
            ("minutes_to_removal", self.hist[0]),
            ("minutes_to_answer", self.hist[1]),
            *(
                (f"minutes_to_removal:{c}", self.category_minutes[i])
                for i, c in enumerate(CATEGORIES)
            ),
        ]
        hist_rows = [
            (measure, lo, hi, int(count))
            for measure, row in measures
            for (lo, hi), count in zip(edges, row, strict=True)
            if count
        ]
        hcols = list(zip(*hist_rows, strict=True)) if hist_rows else [[], [], [], []]
        htypes = [pa.string(), pa.float64(), pa.float64(), pa.int64()]
        hist = pa.table(
            {n: pa.array(c, t) for n, c, t in zip(HISTOGRAM_COLUMNS, hcols, htypes, strict=True)}
        )
        meta = {
            "users": self.n_users,
            "edges": int(self.graph.followers_idx.size),
            "ticks": self.t,
            "phase_seconds": dict(self.phase_seconds),
            "calendar_dropped": self.dropped_events,
            "shards": self.shards,
            "post_states": dict(
                zip(
                    ("visible", "pending", "removed", "blocked"),
                    self.posts.counts[1:5].tolist(),
                    strict=True,
                )
            ),
            "posts_created": int(self.posts.counts[0]),
            "events": list(self.events.log),
            "sanctions": [list(row) for row in self.ladder.log],
            "network": self.network,
        }
        return Result(
            sc,
            sc.run.seed,
            config_sha256(sc),
            summ,
            ts,
            plat,
            hist,
            meta,
            categories=self._categories(),
            cascades=self._cascades(),
            platform_days=self._platform_days(),
            regions=self._regions(),
            cohorts=self._cohorts(),
        )

    def _categories(self) -> pa.Table:
        """`Result.categories`: the counts by category of the run so far."""
        counts = category_counts(self.category)
        counts["timed_removals"] = self.category_minutes.sum(axis=1)
        medians = [median_minutes(h) for h in self.category_minutes]
        counts["median_minutes_to_removal"] = [None if np.isnan(m) else m for m in medians]
        counts["category"] = list(CATEGORIES)
        return pa.table({c: pa.array(counts[c], column_type(c)) for c in CATEGORY_COLUMNS})

    def _cascades(self) -> pa.Table:
        """`Result.cascades`: the cascade sizes of every post of the run so far, the posts
        still in the ring included (the ring is read, not changed)."""
        p = self.posts
        sizes = cascade_sizes(self.cascades, p.pid, p.cat, p.reshares)
        c, b = np.nonzero(sizes[:, :, K.CASCADE_POSTS])
        edges = K.cascade_edges()
        columns = {
            "category": [CATEGORIES[i] for i in c],
            "lo_size": [edges[j][0] for j in b],
            "hi_size": [edges[j][1] for j in b],
            "posts": sizes[c, b, K.CASCADE_POSTS],
            "total_size": sizes[c, b, K.CASCADE_SIZES],
        }
        return pa.table({n: pa.array(columns[n], column_type(n)) for n in CASCADE_COLUMNS})

    def _platform_days(self) -> pa.Table:
        """`Result.platform_days`: the rows of the days ended, and of the day under way."""
        rows = list(self.platform_day_rows)
        if self.day_ticks:
            rows += self._platform_day((self.t * self.scenario.run.tick_minutes - 1) // 1440)
        cols = list(zip(*rows, strict=True)) if rows else [[]] * len(PLATFORM_DAY_COLUMNS)
        named = zip(PLATFORM_DAY_COLUMNS, cols, strict=True)
        return pa.table({n: pa.array(c, column_type(n)) for n, c in named})

    def _regions(self) -> pa.Table:
        """`Result.regions`: the users' counters and state added up by region."""
        net = self.scenario.network
        drawn = net.source != "edge_list" and net.generator != "independent"
        n_regions = max(len(net.regions) if drawn else 1, int(self.region.max(initial=0)) + 1)
        cols = region_counts(self.people, self.region, n_regions)
        return pa.table({n: pa.array(cols[n], column_type(n)) for n in REGION_COLUMNS})

    def _cohorts(self) -> pa.Table:
        """`Result.cohorts`: the users' counters added up by cohort, before and after."""
        cols = cohort_counts(self.people, self.t * self.scenario.run.tick_minutes)
        return pa.table({n: pa.array(cols[n], column_type(n)) for n in COHORT_COLUMNS})


Phase = Callable[[Simulation, Tick], None]

PHASES: tuple[tuple[str, Phase], ...] = (
    ("events", Simulation.phase_events),  # scheduled and random shocks start
    ("policy", Simulation.phase_policy),  # laws, campaigns, adaptive rule, platforms' effort
    ("feed", Simulation.phase_feed),  # rank candidates, schedule feed views
    ("posting", Simulation.phase_posting),  # intents, self-censorship, filter, publication
    ("author_deletion", Simulation.phase_author_deletion),  # authors' own deletions, scheduled
    ("minutes", Simulation.phase_minutes),  # views, reshares, reports, reviews, sweeps, answers
    ("inspection", Simulation.phase_inspection),  # the regulator checks, fines, suspends
    ("mobilisation", Simulation.phase_mobilisation),  # threshold process, incidents
    ("economics", Simulation.phase_economics),  # revenue, costs, fines; adaptive compliance
    ("daily", Simulation.phase_daily),  # fear, grievance, trust, moves, VPNs
    ("record", Simulation.phase_record),  # the tick's row of the time series
)
"""What happens in a tick, in order: (name, phase) pairs that `Simulation.step` runs, timing
each under its name (`Simulation.phase_seconds`, `Result.meta["phase_seconds"]`)."""

PHASE_NAMES: tuple[str, ...] = tuple(name for name, _ in PHASES)
"""The names of the phases, in order."""
