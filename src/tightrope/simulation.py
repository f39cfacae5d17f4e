"""The simulation: building the world from a scenario and stepping it tick by tick.

The step order is the list `PHASES`; `Simulation.step` runs them in that order and
`Simulation.phase_seconds` keeps the time each took, for profiling.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyarrow as pa

from . import counters as K
from . import stops
from .content import CATEGORIES
from .diffusion import view_log_size, viewer_parts
from .errors import InputError
from .events import apply_events, schedule
from .exposure import refresh_access, schedule_audiences
from .feed import feed_tick, new_candidates, new_feed_views
from .metrics import population_stats, scores, summary
from .minutes import new_minute_buffer, run_minutes
from .mobilisation import mobilise
from .network import Graph, read_edge_list, synthetic
from .people import daily_update
from .platforms import Economy
from .policy import initial_law, make_consts, make_rules
from .posting import initial_intent_room, new_intents, post_tick
from .regulator import inspect
from .results import HISTOGRAM_COLUMNS, PLATFORM_COLUMNS, TIMESERIES_COLUMNS, Result
from .rng import STREAM, make_streams, next_u64, numpy_generator
from .scenario import Scenario
from .scenario_files import config_sha256
from .world import (
    BLOCK_EVENTS,
    HORIZON_MINUTES,
    draw_kinds,
    grow_calendar,
    grow_requests,
    grow_review_queues,
    make_people,
    new_calendar,
    new_posts,
    new_requests,
    new_review_queues,
    popularity_boost,
    sized_pool,
)

PHASES: tuple[str, ...] = (
    "events",  # scheduled and random shocks start
    "policy",  # the rules in force: laws, campaigns, adaptive rule, platforms' effort
    "feed",  # rank candidates, schedule feed views
    "posting",  # intents, self-censorship, displacement, filter, publication
    "minutes",  # minute by minute: views, reshares, reports, reviews, answers
    "inspection",  # the regulator checks what was seen, fines, removes, refers
    "mobilisation",  # threshold process, offline incidents
    "economics",  # revenue, costs, fines, profit; adaptive compliance
    "daily",  # once a day: fear, grievance, trust, satisfaction, moves, VPNs
    "record",  # the tick's row of the time series
)
"""What happens in a tick, in order."""

VIEW_LOG_SIZE = 1 << 16
"""Places in the inspectors' sample of a tick's views, shared out among the viewer parts."""


def build_graph(sc: Scenario, kinds_rng: np.random.Generator, net_rng: np.random.Generator):
    if sc.network.source == "edge_list":
        g = read_edge_list(sc.network.edge_list, sc.network.circle_size, net_rng)
        return g, draw_kinds(sc, g.n, kinds_rng)
    n = sc.run.users
    kind = draw_kinds(sc, n, kinds_rng)
    g = synthetic(
        n,
        sc.network.mean_following,
        sc.network.popularity_alpha,
        popularity_boost(kind),
        sc.network.max_follower_share,
        sc.network.circle_size,
        net_rng,
    )
    return g, kind


def post_capacity(posts_per_day: float) -> int:
    """Slots in the post ring: twice the posts of the exposure horizon, a power of two."""
    expected = posts_per_day * HORIZON_MINUTES / 1440.0
    return 1 << int(np.ceil(np.log2(max(expected * 2.0, 4096))))


def calendar_pool(sc: Scenario, n: int, posts_per_day: float, edges: int) -> int:
    """Initial calendar pool, in blocks: about four ticks' views (it grows when needed)."""
    follow = edges / max(n, 1)
    views_per_day = n * sc.population.views_per_day + posts_per_day * follow * 0.3
    return sized_pool(views_per_day * 4 * sc.run.tick_minutes / 1440.0)


def one_thread_in_workers() -> None:
    """In a worker process of a pool (experiments, calibration), run the kernels on one
    thread: the pool's processes already use the cores. Results do not depend on the
    number of threads, only the speed does."""
    import multiprocessing

    import numba

    if multiprocessing.parent_process() is not None:
        numba.set_num_threads(1)


class Simulation:
    """One run of a scenario: all state as arrays, stepped by `step()`."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = sc = scenario
        seed = sc.run.seed
        self.rs = make_streams(seed)
        self.graph: Graph
        self.graph, kind = build_graph(
            sc, numpy_generator(seed, "population", part=2), numpy_generator(seed, "network")
        )
        n = self.graph.n
        self.n_users = n
        self.people = make_people(sc, self.graph, numpy_generator(seed, "population"), kind)
        self.consts = make_consts(sc, n)
        self.names = list(sc.platforms)
        n_p = len(self.names)
        L = sc.run.tick_minutes
        self.n_ticks = round(sc.run.days * 1440 / L)
        self.t = 0
        self.dropped_seen = 0  # calendar events dropped up to the last growth check
        cap = post_capacity(float(self.people.activity.sum()))
        self.posts = new_posts(cap)
        self.cal = new_calendar(
            calendar_pool(sc, n, float(self.people.activity.sum()), self.graph.followers_idx.size)
        )
        self.queues = new_review_queues(n_p, 1 << 12)
        self.requests = new_requests(1 << 12)
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
        self.hist = np.zeros((2, K.N_BINS), dtype=np.int64)
        self.tc = np.zeros(len(K.TICK))
        self.pc = np.zeros((n_p, len(K.PLATFORM)))
        self.totals = np.zeros(len(K.TICK))
        self.law = initial_law(sc)
        self.blocked = np.array([p in sc.state.access.blocked for p in self.names], np.uint8)
        self.platform_suspended_until = np.zeros(n_p, dtype=np.int64)
        self.economy = Economy(sc, n)
        self.events = schedule(sc)
        self.events_rng = numpy_generator(seed, "events")
        self.intensity_adaptive = 0.0
        self.window = np.zeros(n_p)
        self.last_incident = -(10**9)
        self.burst = False
        self.sensitive_average: float | None = None
        self.money_totals = np.zeros(4)
        self.rows: list[list[float]] = []
        self.platform_rows: list[list[Any]] = []
        self.phase_seconds = dict.fromkeys(PHASES, 0.0)
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

    def _grow_if_needed(self) -> None:
        cal = self.cal
        free = (cal.link.size - cal.meta[1]) * BLOCK_EVENTS
        per_tick = max(self.tc[K.VIEWS] + self.tc[K.VIEWS_LOST], 1.0) * 4 + 4096
        # grow when events were dropped since the last check (the count is cumulative)
        if free < per_tick or cal.meta[2] > self.dropped_seen:
            self.cal = grow_calendar(cal, cal.link.size * 2)
        self.dropped_seen = int(cal.meta[2])
        q = self.queues
        if (q.size > q.key.shape[1] // 2).any():
            self.queues = grow_review_queues(q, q.key.shape[1] * 2)
        r = self.requests
        if (r.ends[1] - r.ends[0]) > r.user.size // 2:
            self.requests = grow_requests(r, r.user.size * 2)

    def step(self) -> None:
        """Advance one tick, phase by phase (see PHASES)."""
        sc = self.scenario
        L = sc.run.tick_minutes
        t0 = self.t * L
        hour = (t0 // 60) % 24
        clock = time.perf_counter
        rs = self.rs
        self.tc[:] = 0.0
        self.pc[:] = 0.0
        self.view_meta[:] = 0
        self._grow_if_needed()

        s = clock()
        apply_events(self, t0, t0 + L, self.events_rng)
        s = self._lap("events", s)

        self.rules = rules = self._rules()
        refresh_access(self.people, rules, t0)
        s = self._lap("policy", s)

        self.feed_views = feed_tick(
            t0,
            hour,
            self.posts,
            self.people,
            self.consts,
            self.candidates,
            self.scratch,
            self.feed_views,
            rs[STREAM["feed"]],
        )
        s = self._lap("feed", s)

        self.intents, self.pending = post_tick(
            t0,
            hour,
            self.burst,
            self.posts,
            self.people,
            self.consts,
            rules,
            self.cal,
            self.tc,
            self.pc,
            rs,
            self.pending,
            self.intents,
        )
        key = np.uint64(next_u64(rs[STREAM["exposure"]]))
        self.audience_views = schedule_audiences(
            self.pending,
            int(self.pending[-1]),
            key,
            self.posts,
            self.people,
            self.consts,
            self.graph,
            self.cal,
            self.audience_views,
        )
        s = self._lap("posting", s)

        self.minute_buffer, self.audience_views = run_minutes(
            t0,
            self.posts,
            self.people,
            self.consts,
            rules,
            self.graph,
            self.cal,
            self.queues,
            self.requests,
            self.tc,
            self.pc,
            self.hist,
            self.view_log,
            self.view_meta,
            self.feed_views,
            rs,
            *self.minute_buffer,
            *self.audience_views,
            numba.get_num_threads(),
        )
        s = self._lap("minutes", s)

        ins = sc.state.inspection
        checks = ins.staff_per_100k_users * self.n_users / 1e5 * ins.checks_per_staff_hour
        checks *= (L / 60.0) * (1.0 + rules.intensity)
        inspect(
            t0 + L,
            checks,
            ins.fine_per_violation,
            ins.fine_growth,
            self.window,
            self.view_log,
            self.view_meta,
            self.posts,
            self.people,
            self.graph,
            self.consts,
            rules,
            self.tc,
            self.pc,
            self.hist,
            rs[STREAM["inspection"]],
            rs[STREAM["punishment"]],
        )
        if ins.suspend_after_violations > 0:
            over = self.window >= ins.suspend_after_violations
            self.platform_suspended_until[over] = t0 + L + int(ins.suspension_days * 1440)
            self.window[over] = 0.0
        s = self._lap("inspection", s)

        mobilised = mobilise(
            self.people, L, sc.mobilisation.decay_per_day, sc.mobilisation.grievance_floor
        )
        if mobilised >= sc.mobilisation.critical_mass * self.n_users and mobilised > 0:
            if t0 - self.last_incident >= 1440:
                self.tc[K.INCIDENTS] += 1.0
                self.last_incident = t0
        self.mobilised = mobilised
        # a "sensitive moment": the share of posts that are criticism or calls to action
        # rises above its running average (a day's time constant) by the trigger share;
        # paid commenters flood the next tick
        share = self.tc[K.SENSITIVE_POSTS] / max(self.tc[K.POSTS], 1.0)
        if self.sensitive_average is None:
            self.sensitive_average = share
        self.burst = bool(share - self.sensitive_average >= sc.state.paid_commenters.trigger_share)
        self.sensitive_average += min(1.0, L / 1440.0) * (share - self.sensitive_average)
        s = self._lap("mobilisation", s)

        money = self.economy.tick(t0, L, self.pc, self.tc[K.REGULATOR_CHECKS])
        self.money = money
        end = t0 + L
        new_day = end % 1440 == 0
        if new_day:
            self.economy.adapt(end, self._prohibited_detection(), self._full_cost())
        s = self._lap("economics", s)

        if new_day:
            daily_update(
                end, self.people, self.consts, rules, rs[STREAM["mobility"]], rs[STREAM["vpn"]]
            )
            self._adaptive_rule()
            self.window[:] = 0.0
        s = self._lap("daily", s)

        self._record(t0, money)
        self.t += 1
        self._lap("record", s)

    def _lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.phase_seconds[phase] += now - since
        return now

    def _prohibited_detection(self) -> np.ndarray:
        out = np.zeros(len(self.names))
        for j, name in enumerate(self.names):
            det = self.scenario.platforms[name].moderation.filter.detection
            prohibited = [
                c for c in CATEGORIES if self.rules.state_prohibited[j, CATEGORIES.index(c)] > 0
            ]
            out[j] = np.mean([getattr(det, c) for c in prohibited]) if prohibited else 0.0
        return out

    def _full_cost(self) -> np.ndarray:
        eco = self.economy
        hours = np.array([hi - lo for lo, hi in eco.hours], dtype=np.float64)
        return eco.reviewers * hours * eco.wage * eco.every / 1440.0

    def _adaptive_rule(self) -> None:
        ad = self.scenario.state.adaptive
        if not ad.enabled:
            return
        if self.mobilised / self.n_users > ad.mobilisation_threshold:
            self.intensity_adaptive = min(ad.max_intensity, self.intensity_adaptive + ad.step)
        elif self.stats[1] / self.n_users > ad.discontent_threshold:
            self.intensity_adaptive = max(0.0, self.intensity_adaptive - ad.step)

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
                ]
            )

    # -- results -------------------------------------------------------------------------
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
        )
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
        }
        plat = pa.table(
            {
                name: pa.array(col, ptypes.get(name, pa.float64()))
                for name, col in zip(PLATFORM_COLUMNS, pcols, strict=True)
            }
        )
        edges = K.bin_edges()
        hist_rows = [
            (measure, lo, hi, int(count))
            for measure, row in (
                ("minutes_to_removal", self.hist[0]),
                ("minutes_to_answer", self.hist[1]),
            )
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
            "calendar_dropped": int(self.cal.meta[2]),
            "post_states": dict(
                zip(
                    ("visible", "pending", "removed", "blocked"),
                    self.posts.counts[1:5].tolist(),
                    strict=True,
                )
            ),
            "posts_created": int(self.posts.counts[0]),
            "events": list(self.events.log),
        }
        return Result(sc, sc.run.seed, config_sha256(sc), summ, ts, plat, hist, meta)


def run(
    scenario: Scenario,
    *,
    progress: Callable[[int, int], None] | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every_days: float | None = None,
    resume: bool = False,
) -> Result:
    """Run a validated scenario to the end and return its Result.

    The run's size, length and seed are the scenario's `run.users`, `run.days` and
    `run.seed` (use `load_scenario(..., users=, days=, seed=)` to set them).
    `progress(done_ticks, total_ticks)` is called every few ticks if given.

    With `checkpoint` and `checkpoint_every_days`, the whole state is written to that file
    every so many simulated days (see `tightrope.checkpoints`). With `resume=True` the run
    starts from the checkpoint file instead of tick 0 (InputError if it was written for
    another config or version); the result is bit-identical to an uninterrupted run.
    """
    from .checkpoints import load_checkpoint, save_checkpoint
    from .threads import Pacer, pace

    if (resume or checkpoint_every_days is not None) and checkpoint is None:
        raise InputError("a checkpoint file is needed to resume or to write checkpoints")
    every_ticks = 0
    if checkpoint_every_days is not None:
        if not checkpoint_every_days > 0:
            raise InputError(
                f"the checkpoint interval must be more than 0 days, got {checkpoint_every_days}"
            )
        every_ticks = max(1, round(checkpoint_every_days * 1440 / scenario.run.tick_minutes))
    progress = pace(progress)  # threads: no more than the free cores (tightrope.threads)
    if resume:
        assert checkpoint is not None
        sim = load_checkpoint(checkpoint, scenario)
    else:
        sim = Simulation(scenario)
    every = max(1, sim.n_ticks // 100)
    with contextlib.ExitStack() as done:
        if isinstance(progress, Pacer):  # a stop or an error gives the threads back too
            done.callback(progress.restore)
        done.enter_context(stops.deferred())  # a signal stops the run between ticks only
        while sim.t < sim.n_ticks:
            sim.step()
            if progress is not None and (sim.t % every == 0 or sim.t == sim.n_ticks):
                progress(sim.t, sim.n_ticks)
            if every_ticks and sim.t % every_ticks == 0 and sim.t < sim.n_ticks:
                assert checkpoint is not None
                save_checkpoint(sim, checkpoint)
            if stops.requested() is not None and sim.t < sim.n_ticks:
                _stop_at_tick(sim, checkpoint)
    return sim.result()


def _stop_at_tick(sim: Simulation, checkpoint: str | Path | None) -> None:
    """Raise stops.Stopped between ticks, after writing the checkpoint if the run has one."""
    from .checkpoints import save_checkpoint

    per_day = 1440 / sim.scenario.run.tick_minutes
    stop = stops.Stopped(stops.requested() or 2)
    where = f"at tick {sim.t:,} of {sim.n_ticks:,} (day {sim.t / per_day:.4g})"
    if checkpoint is not None:
        save_checkpoint(sim, checkpoint)
        stop.kept.append(f"{where}, the run's state is kept in the checkpoint {checkpoint}")
        stop.resume = "run the same command with --resume to go on from there"
    else:
        stop.kept.append(f"{where}, nothing of the run is kept")
        stop.resume = "give --out or --checkpoint FILE next time to keep a checkpoint when stopped"
    raise stop
