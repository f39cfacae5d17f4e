"""The simulated world as arrays: people, live posts, the exposure calendar and the queues.

Every record is a NamedTuple of NumPy arrays indexed by id, which the Numba kernels take
as it is. No per-agent Python objects. Ids are never reused: users keep theirs for the
whole run, posts get a running number and live in a ring buffer for as long as they can
still be seen (the exposure horizon), after which their slot is taken by a newer post.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tightrope.core import counters as K
from tightrope.core.graph import Graph
from tightrope.scenario.content import (
    KINDS,
    N_CATEGORIES,
    N_KINDS,
    OFFICIAL_ACCOUNT,
    PAID_COMMENTER,
)
from tightrope.scenario.schema import Scenario

HORIZON_MINUTES = 3 * 1440
"""How long a post can still be seen after it was made (and how far ahead exposures are
scheduled). Views later than this are not simulated."""

VIEWER_PART_SHIFT = 12
VIEWER_PART_USERS = 1 << VIEWER_PART_SHIFT
"""Users per viewer part: the minute loop's views are done by the part of their viewer
(`tightrope.model.diffusion`), and a shard of the exposure calendar owns whole parts."""


MEMORY_SLOTS = 8
"""Posts a person remembers having seen (`People.exposure_memory`, model.exposure_memory):
one 64-byte cache line of int64 entries."""

EXPOSURE_BINS = 3
"""Columns of the counts of views and reshares by exposure (`Tally.exposures`): a viewer's
1st, 2nd, and 3rd or later view of a post."""


def memory_slots(weights: list[float]) -> int:
    """Places in each person's memory of posts seen: MEMORY_SLOTS, or 0 when every weight
    of `behaviour.exposure_weights` is 1 (the rule is off and nothing is remembered)."""
    return MEMORY_SLOTS if any(w != 1.0 for w in weights) else 0


def per_kind(values: Any) -> np.ndarray:
    """A per-kind table of the scenario (`population.activity_multiplier`,
    `population.popularity_boost`) as a float64 array in KINDS' order."""
    return np.array([getattr(values, k) for k in KINDS], dtype=np.float64)


class People(NamedTuple):
    kind: np.ndarray  # int8
    member: np.ndarray  # uint8 bit mask of platforms with an account
    vpn: np.ndarray  # uint8
    activity: np.ndarray  # float32, intents per day
    stance: np.ndarray  # float32 in [-1, 1], toward the government
    grievance: np.ndarray  # float32 in [0, 1]
    grievance_base: np.ndarray  # float32
    fear: np.ndarray  # float32 in [0, 1], perceived risk of speaking
    trust: np.ndarray  # float32 in [0, 1]
    trust_base: np.ndarray  # float32
    voice: np.ndarray  # float32 in [0, 1], wish to speak
    susceptibility: np.ndarray  # float32 in [0, 1], to rumours and resharing
    report_propensity: np.ndarray  # float32 in [0, 1]
    real_name: np.ndarray  # uint8, registered with a real name
    wants_foreign: np.ndarray  # float32 in [0, 1], demand for foreign platforms
    strikes: np.ndarray  # int16
    suspended_until: np.ndarray  # int64, minute
    satisfaction: np.ndarray  # float32 (n, platforms) in [0, 1]
    calls_seen: np.ndarray  # float32, decaying count of calls to collective action seen
    threshold: np.ndarray  # float32, mobilisation threshold
    mobilised: np.ndarray  # uint8
    gain: np.ndarray  # float32 in [0, 1], a bad actor's gain from acting
    peer_threshold: np.ndarray  # float32 in [0, 1], share of followees mobilised to join
    day_harm: np.ndarray  # float32, harm seen today
    day_views: np.ndarray  # float32, views today
    day_removed: np.ndarray  # float32, own posts removed today
    access: np.ndarray  # uint16, this tick: bit p set if platform p is reachable (see exposure)
    region: np.ndarray  # int8, the user's region (docs/model.md 4, 8.10; 0 without regions)
    # counters for the outputs by region and cohort (docs/model.md 11.8, 11.9): set where
    # posts are published and where the state punishes, never read by the model
    punished_at: np.ndarray  # int64, minute of the user's first punishment by the state; -1
    witnessed_at: np.ndarray  # int64, minute of the first punishment of a followee; -1
    removals: np.ndarray  # int32, own posts removed (the run so far)
    referrals: np.ndarray  # int32, own removed posts referred to the state (the run so far)
    posts_made: np.ndarray  # int32, posts made (the run so far; blocked ones too)
    criticism_made: np.ndarray  # int32, of those, posts of category criticism
    requests_made: np.ndarray  # int32, of those, service requests (each joins an answer queue)
    answered: np.ndarray  # int32, the user's requests officials answered (the run so far)
    cohort: np.ndarray  # int8, COHORT_OTHERS, COHORT_FOLLOWERS or COHORT_PUNISHED (as of
    # the end of the last tick)
    cohort_split: np.ndarray  # int64, minute from which posts count "after" the cohort's
    # event (the end of the tick it happened in); -1 none yet
    posts_after: np.ndarray  # int32, posts made from cohort_split on
    criticism_after: np.ndarray  # int32, criticism posts made from cohort_split on
    exposure_memory: np.ndarray  # int64 (n, slots): posts seen lately and how often
    # (model.exposure_memory); no columns when behaviour.exposure_weights are all 1


COHORT_OTHERS, COHORT_FOLLOWERS, COHORT_PUNISHED = 0, 1, 2
"""A user's cohort (`People.cohort`, docs/model.md 11.9): punished by the state; a follower
of a punished user (who saw the punishment); everyone else."""
COHORTS: tuple[str, ...] = ("punished", "followers", "others")
"""Names of the cohorts, in the order of the rows of `Result.cohorts`."""


class Posts(NamedTuple):
    pid: np.ndarray  # int64, -1 for an empty slot
    author: np.ndarray  # int32
    platform: np.ndarray  # int8
    cat: np.ndarray  # int8
    created: np.ndarray  # int64, minute
    state: np.ndarray  # int8: VISIBLE, PENDING, REMOVED, BLOCKED
    reach: np.ndarray  # float32, 1 or cut by 'reduce'
    queued: np.ndarray  # uint8, waiting in a review queue
    engagement: np.ndarray  # float32, views + reshares, decaying
    reshares: np.ndarray  # int32, reshares of the post so far (its cascade is 1 + these)
    queued_by: np.ndarray  # uint8, what queued it for review: 0 the filter, 1 a report
    counts: np.ndarray  # int64 (6,): created, visible, pending, removed, blocked, next id


BLOCK_EVENTS = 128
"""Events per calendar block. A minute's events sit in a chain of blocks, filled in order."""


class Calendar(NamedTuple):
    """Scheduled events: a calendar queue with one slot per minute over the horizon.

    Each slot holds its events in a chain of blocks of BLOCK_EVENTS, filled in the order the
    events are scheduled, so that scheduling writes and the minute loop reads events in
    runs of consecutive memory (a linked list of single events would visit them at random
    places). Finished blocks go back to a free list.
    """

    slots: np.ndarray  # int32 (HORIZON_MINUTES, 3): first block, last block, events in last
    post: np.ndarray  # int64 (blocks * BLOCK_EVENTS,): post id (or user, for a request)
    viewer: np.ndarray  # int32 (blocks * BLOCK_EVENTS,): viewer, or a negative event code
    link: np.ndarray  # int32 (blocks,): next block of the slot, or of the free list; -1 none
    meta: np.ndarray  # int64 (3,): first free block, blocks in use, events dropped (pool full)


class ShardedCalendar(NamedTuple):
    """The scheduled views: one calendar queue (as `Calendar`) per shard of viewers, each in
    a row of the arrays below. Shard s owns the viewer parts k with `owner[k] == s` (whole
    parts, contiguous ranges of them), and its row holds every view scheduled for a viewer
    of its parts, in the order scheduled; so a part's views of a minute come out in the
    same order whatever the number of shards, and shards read and write their rows on
    threads of their own. Events other than views (arrivals in the review and request
    queues, authors' deletions, reinstatements) live in one `Calendar`, read in order."""

    slots: np.ndarray  # int32 (shards, HORIZON_MINUTES, 3): as Calendar.slots, per shard
    post: np.ndarray  # int64 (shards, blocks * BLOCK_EVENTS): post id
    viewer: np.ndarray  # int32 (shards, blocks * BLOCK_EVENTS): viewer
    link: np.ndarray  # int32 (shards, blocks): next block, of the slot or the free list
    meta: np.ndarray  # int64 (shards, 3): first free block, blocks in use, events dropped
    owner: np.ndarray  # int32 (viewer parts,): the shard that owns each part


class ReviewQueues(NamedTuple):
    """A max-heap of posts waiting for human review, per platform (rows 0 .. P - 1), then
    one of escalated removals waiting for the second tier, per platform (rows P .. 2P - 1,
    key: minus the due minute; `tightrope.model.escalation`), and the keyword sweep each
    platform has scheduled (`tightrope.model.sweeps`)."""

    key: np.ndarray  # float64 (platforms, capacity): priority
    post: np.ndarray  # int64 (platforms, capacity)
    arrival: np.ndarray  # int64 (platforms, capacity), minute
    size: np.ndarray  # int64 (platforms,)
    capacity_left: np.ndarray  # float64 (platforms,): reviews that can still start
    sweep_due: np.ndarray  # int64 (platforms,): minute of the next sweep, -1 none
    sweep_cats: np.ndarray  # int64 (platforms,): bit c set: the sweep searches category c


class Requests(NamedTuple):
    """Citizens' requests to official accounts: one ring per answer queue (one national
    queue, or one per region with regional staff), in arrival order, so in age order.

    A request answered ahead of older overdue ones (triage against a response target,
    `tightrope.model.officials`) leaves a hole (user -1) that the head skips."""

    user: np.ndarray  # int32 (queues, capacity); -1: answered out of turn
    arrival: np.ndarray  # int64 (queues, capacity), minute
    ends: np.ndarray  # int64 (queues, 4): head, tail (running counts), capacity left x 1e6,
    # first request not yet overdue (running count; head <= it <= tail)
    queue: np.ndarray  # int8 (users,): the queue that answers each user's requests


class Tally(NamedTuple):
    """What the kernels count (names of the columns: tightrope.core.counters).

    `tick` and `platform` are this tick's (added to the run's totals in the record phase);
    the others are for the run so far. Counting never draws a random number nor changes
    the order of anything: the outputs by category come at no cost to the results."""

    tick: np.ndarray  # float64 (len(K.TICK),): this tick's counters
    platform: np.ndarray  # float64 (platforms, len(K.PLATFORM)): per platform
    minutes: np.ndarray  # int64 (2, N_BINS): minutes to removal and to an answer
    category: np.ndarray  # float64 (N_CATEGORIES, len(K.CATEGORY)): per category
    category_minutes: np.ndarray  # int64 (N_CATEGORIES, N_BINS): minutes to removal
    cascades: np.ndarray  # int64 (N_CATEGORIES, CASCADE_BINS, 2): retired posts by size
    exposures: np.ndarray  # float64 (2, EXPOSURE_BINS): views and reshares at a viewer's
    # 1st, 2nd, 3rd or later view of a post (only with behaviour.exposure_weights)


def new_tally(n_platforms: int) -> Tally:
    """Zeroed counters for a run on `n_platforms` platforms."""
    return Tally(
        tick=np.zeros(len(K.TICK)),
        platform=np.zeros((n_platforms, len(K.PLATFORM))),
        minutes=np.zeros((2, K.N_BINS), dtype=np.int64),
        category=np.zeros((N_CATEGORIES, len(K.CATEGORY))),
        category_minutes=np.zeros((N_CATEGORIES, K.N_BINS), dtype=np.int64),
        cascades=np.zeros((N_CATEGORIES, K.CASCADE_BINS, 2), dtype=np.int64),
        exposures=np.zeros((2, EXPOSURE_BINS)),
    )


class ViewLog(NamedTuple):
    """A uniform sample of this tick's views on regulated platforms, per viewer part, for
    the regulator's inspections (see `tightrope.model.diffusion.view_parts`)."""

    sample: np.ndarray  # int64 (parts, room): post ids
    seen: np.ndarray  # int64 (parts,): views seen by each part this tick


class World(NamedTuple):
    """The state one tick's kernels read and change, handed to them as one bundle.

    Built afresh for each call (cheap: it holds references), because the rules are
    compiled again each tick and the calendar and the queues are replaced when they grow.
    `consts` and `rules` are `tightrope.model.policy.Consts` and `Rules`.
    """

    posts: Posts
    people: People
    consts: Any
    rules: Any
    graph: Graph
    cal: Calendar
    queues: ReviewQueues
    requests: Requests
    view_cal: ShardedCalendar


def sized_pool(expected_events: float) -> int:
    """Blocks for a calendar expected to hold `expected_events` at once: generous, with room
    for a part-filled block in every minute slot that has events."""
    need = max(int(expected_events * 1.5), 1 << 14)
    return (1 << int(np.ceil(np.log2(need)))) // BLOCK_EVENTS + 1024


def new_calendar(blocks: int) -> Calendar:
    link = np.arange(1, blocks + 1, dtype=np.int32)  # pools stay below 2**31 blocks
    link[-1] = -1
    slots = np.zeros((HORIZON_MINUTES, 3), dtype=np.int32)
    slots[:, :2] = -1
    return Calendar(
        slots=slots,
        post=np.zeros(blocks * BLOCK_EVENTS, dtype=np.int64),
        viewer=np.zeros(blocks * BLOCK_EVENTS, dtype=np.int32),
        link=link,
        meta=np.array([0, 0, 0], dtype=np.int64),
    )


def grow_calendar(cal: Calendar, blocks: int) -> Calendar:
    """A larger pool with the same scheduled events (the new blocks join the free list)."""
    old = cal.link.size
    link = np.empty(blocks, dtype=np.int32)
    link[:old] = cal.link
    link[old:-1] = np.arange(old + 1, blocks, dtype=np.int32)
    link[-1] = cal.meta[0]  # the old free list continues after the new blocks
    meta = cal.meta.copy()
    meta[0] = old
    post = np.zeros(blocks * BLOCK_EVENTS, dtype=np.int64)
    post[: cal.post.size] = cal.post
    viewer = np.zeros(blocks * BLOCK_EVENTS, dtype=np.int32)
    viewer[: cal.viewer.size] = cal.viewer
    return Calendar(cal.slots, post, viewer, link, meta)


def part_owners(parts: int, shards: int) -> np.ndarray:
    """The shard of each of `parts` viewer parts: `shards` contiguous ranges of parts, as
    even as whole parts allow. ValueError unless 1 <= shards <= max(parts, 1)."""
    if not 1 <= shards <= max(parts, 1):
        raise ValueError(
            f"shards must be between 1 and the number of viewer parts ({parts}); got {shards}"
        )
    return (np.arange(parts, dtype=np.int64) * shards // max(parts, 1)).astype(np.int32)


def new_sharded_calendar(blocks: int, owner: np.ndarray) -> ShardedCalendar:
    """Empty calendars of `blocks` blocks each, one per shard of `owner` (`part_owners`)."""
    shards = int(owner.max()) + 1 if owner.size else 1
    one = new_calendar(blocks)
    return ShardedCalendar(
        slots=np.repeat(one.slots[None], shards, axis=0),
        post=np.zeros((shards, blocks * BLOCK_EVENTS), dtype=np.int64),
        viewer=np.zeros((shards, blocks * BLOCK_EVENTS), dtype=np.int32),
        link=np.repeat(one.link[None], shards, axis=0),
        meta=np.zeros((shards, 3), dtype=np.int64),
        owner=owner.astype(np.int32),
    )


def shard_calendar(cal: ShardedCalendar, s: int) -> Calendar:
    """Shard s's calendar, as a `Calendar` of views into `cal`'s row s."""
    return Calendar(cal.slots[s], cal.post[s], cal.viewer[s], cal.link[s], cal.meta[s])


def grow_sharded_calendar(cal: ShardedCalendar, blocks: int) -> ShardedCalendar:
    """Larger pools of `blocks` blocks for every shard, with the same scheduled events."""
    rows = [grow_calendar(shard_calendar(cal, s), blocks) for s in range(cal.link.shape[0])]
    return ShardedCalendar(
        slots=cal.slots,
        post=np.stack([r.post for r in rows]),
        viewer=np.stack([r.viewer for r in rows]),
        link=np.stack([r.link for r in rows]),
        meta=np.stack([r.meta for r in rows]),
        owner=cal.owner,
    )


POST_HOT = np.dtype(
    {
        "names": ["pid", "reach", "state", "platform", "cat", "queued"],
        "formats": ["i8", "f4", "i1", "i1", "i1", "u1"],
        "offsets": [0, 8, 12, 13, 14, 15],
        "itemsize": 16,
    }
)
"""What a view reads of its post, side by side: pid, reach, state, platform, category and
queue mark share 16 bytes, one cache line instead of five for a post far away in the ring."""

VIEWER = np.dtype(
    {
        "names": ["susceptibility", "day_views", "day_harm", "fear"],
        "formats": ["f4", "f4", "f4", "f4"],
        "offsets": [0, 4, 8, 12],
        "itemsize": 16,
    }
)
"""What every view reads of its viewer: susceptibility, views and harm seen today, and fear
(which sets the chance to reshare) share 16 bytes. The other fields that a pass over every
user reads each tick (access, grievance, trust, ...) stay apart: in a record such a pass
would read the whole record; fear, read by one such pass, is worth it."""


def packed(record, dtype: np.dtype):
    """`record` (a NamedTuple of arrays) with the fields named in `dtype` moved into one
    array of that dtype: those fields become strided views into it, so that the fields of
    one element share a cache line. Also used after loading a checkpoint, which stores
    each field as its own array."""
    table = np.zeros(getattr(record, dtype.names[0]).shape[0], dtype=dtype)
    for name in dtype.names:
        table[name] = getattr(record, name)
    return record._replace(**{name: table[name] for name in dtype.names})


def new_posts(capacity: int) -> Posts:
    hot = np.zeros(capacity, dtype=POST_HOT)  # built as a record: no copy of a ring's worth
    hot["pid"] = -1
    hot["reach"] = 1.0
    return Posts(
        pid=hot["pid"],
        author=np.zeros(capacity, dtype=np.int32),
        platform=hot["platform"],
        cat=hot["cat"],
        created=np.zeros(capacity, dtype=np.int64),
        state=hot["state"],
        reach=hot["reach"],
        queued=hot["queued"],
        engagement=np.zeros(capacity, dtype=np.float32),
        reshares=np.zeros(capacity, dtype=np.int32),
        queued_by=np.zeros(capacity, dtype=np.uint8),
        counts=np.zeros(6, dtype=np.int64),
    )


def new_review_queues(rows: int, capacity: int) -> ReviewQueues:
    """Empty heaps: `rows` (twice the platforms in a run: review queues, then second
    tiers), each with room for `capacity` posts."""
    return ReviewQueues(
        key=np.zeros((rows, capacity), dtype=np.float64),
        post=np.zeros((rows, capacity), dtype=np.int64),
        arrival=np.zeros((rows, capacity), dtype=np.int64),
        size=np.zeros(rows, dtype=np.int64),
        capacity_left=np.zeros(rows, dtype=np.float64),
        sweep_due=np.full(rows, -1, dtype=np.int64),
        sweep_cats=np.zeros(rows, dtype=np.int64),
    )


def grow_review_queues(q: ReviewQueues, capacity: int) -> ReviewQueues:
    p, old = q.key.shape
    out = new_review_queues(p, capacity)
    out.key[:, :old] = q.key
    out.post[:, :old] = q.post
    out.arrival[:, :old] = q.arrival
    out.size[:] = q.size
    out.capacity_left[:] = q.capacity_left
    out.sweep_due[:] = q.sweep_due
    out.sweep_cats[:] = q.sweep_cats
    return out


def new_requests(capacity: int, queue: np.ndarray | None = None, queues: int = 1) -> Requests:
    """Empty rings of `capacity` for `queues` queues; `queue[u]` is user u's queue (none
    given: no users yet, as in a hand-made test queue)."""
    return Requests(
        user=np.zeros((queues, capacity), dtype=np.int32),
        arrival=np.zeros((queues, capacity), dtype=np.int64),
        ends=np.zeros((queues, 4), dtype=np.int64),
        queue=np.zeros(0, dtype=np.int8) if queue is None else queue.astype(np.int8),
    )


def grow_requests(r: Requests, capacity: int) -> Requests:
    """Larger rings with the waiting requests moved to their start, in order."""
    queues, old = r.user.shape
    out = new_requests(capacity, r.queue, queues)
    for q in range(queues):
        head, tail, credit, ontime = (int(x) for x in r.ends[q])
        order = np.arange(head, tail) % old
        out.user[q, : order.size] = r.user[q, order]
        out.arrival[q, : order.size] = r.arrival[q, order]
        out.ends[q] = [0, order.size, credit, max(ontime - head, 0)]
    return out


def _beta_with_mean(rng: np.random.Generator, mean: float, n: int) -> np.ndarray:
    """Beta(2, b) draws with the given mean (a point mass at 0 or 1 at the ends)."""
    if mean <= 0.0 or mean >= 1.0:
        return np.full(n, mean, dtype=np.float32)
    return rng.beta(2.0, 2.0 * (1.0 - mean) / mean, n).astype(np.float32)


def _clip01(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def make_people(
    sc: Scenario,
    graph: Graph,
    rng: np.random.Generator,
    kind: np.ndarray,
    platforms: tuple[np.ndarray, np.ndarray] | None = None,
    region: np.ndarray | None = None,
) -> People:
    """Draw every user's traits and initial state from the scenario's population settings.
    `platforms` (ids, platform bits), from a node-attribute table, sets those users'
    platforms instead of the adoption draws (which are still made, so that the other
    draws stay the same). `region` is each user's region in the network (none: region 0);
    it draws nothing."""
    people = draw_people(sc, graph.n, rng, kind, platforms)
    if region is not None:
        people.region[:] = region
    return packed(people, VIEWER)


def draw_people(
    sc: Scenario,
    n: int,
    rng: np.random.Generator,
    kind: np.ndarray,
    platforms: tuple[np.ndarray, np.ndarray] | None = None,
) -> People:
    """`n` users' traits and initial state drawn from the scenario's population settings
    (`make_people` for the whole population; newcomers who take a leaver's place,
    `tightrope.model.turnover`), as plain arrays in the order of `kind`."""
    pop = sc.population
    names = list(sc.platforms)
    n_p = len(names)
    state = sc.state

    activity = rng.lognormal(np.log(max(pop.posts_per_day_median, 1e-12)), pop.activity_sigma, n)
    activity *= per_kind(pop.activity_multiplier)[kind]
    lurk = (rng.random(n) < pop.lurker_share) & (kind == 0)
    activity[lurk] = 0.0
    if pop.posts_per_day_median == 0:
        activity[:] = 0.0
    activity[kind == OFFICIAL_ACCOUNT] = state.officials.posts_per_day
    activity[kind == PAID_COMMENTER] = state.paid_commenters.posts_per_day

    member = np.zeros(n, dtype=np.uint8)
    appeal = np.array([sc.platforms[p].appeal for p in names])
    for j, name in enumerate(names):
        joined = rng.random(n) < sc.platforms[name].adoption
        member |= (joined.astype(np.uint8) << np.uint8(j)).astype(np.uint8)
    if platforms is not None:
        member[platforms[0]] = platforms[1]
    spread = pop.spread
    satisfaction = _clip01(appeal[None, :] + rng.normal(0.0, spread.satisfaction, (n, n_p)))

    foreign_bits = sum(1 << j for j, p in enumerate(names) if sc.platforms[p].foreign)
    on_foreign = (member & foreign_bits) != 0
    # demand for foreign platforms: higher for their users, and with their appeal
    foreign_appeal = max(
        (sc.platforms[p].appeal for p in names if sc.platforms[p].foreign), default=0.0
    )
    demand = np.where(on_foreign, pop.foreign_demand_users, pop.foreign_demand_others)
    wants = _clip01(rng.beta(2.0, 2.0, n) * demand * (0.5 + foreign_appeal))
    blocked_bits = sum(1 << names.index(p) for p in state.access.blocked)
    crack = state.access.vpn_crackdown
    has_blocked = (member & blocked_bits) != 0
    vpn = has_blocked & (rng.random(n) < wants * (1.0 - crack))

    grievance_base = _beta_with_mean(rng, pop.grievance_mean, n)
    trust_base = _clip01(rng.normal(pop.trust_mean, spread.trust, n))
    real_name = rng.random(n) < state.identity.real_name
    threshold = np.maximum(
        rng.normal(sc.mobilisation.threshold_mean, sc.mobilisation.threshold_sd, n),
        sc.mobilisation.threshold_floor,
    ).astype(np.float32)
    people = People(
        kind=kind.astype(np.int8),
        member=member,
        vpn=vpn.astype(np.uint8),
        activity=activity.astype(np.float32),
        stance=np.clip(rng.normal(pop.stance_mean, spread.stance, n), -1, 1).astype(np.float32),
        grievance=grievance_base.copy(),
        grievance_base=grievance_base,
        fear=_clip01(rng.normal(pop.fear_mean, spread.fear, n)),
        trust=trust_base.copy(),
        trust_base=trust_base,
        voice=_clip01(rng.normal(pop.voice_mean, spread.voice, n)),
        susceptibility=_clip01(rng.normal(pop.susceptibility_mean, spread.susceptibility, n)),
        report_propensity=_clip01(rng.exponential(pop.report_propensity_mean, n)),
        real_name=real_name.astype(np.uint8),
        wants_foreign=wants,
        strikes=np.zeros(n, dtype=np.int16),
        suspended_until=np.zeros(n, dtype=np.int64),
        satisfaction=satisfaction,
        calls_seen=np.zeros(n, dtype=np.float32),
        threshold=threshold,
        mobilised=np.zeros(n, dtype=np.uint8),
        gain=rng.random(n).astype(np.float32),
        peer_threshold=_clip01(  # drawn last: the draws before it are as they were
            rng.normal(sc.mobilisation.peer_threshold_mean, sc.mobilisation.peer_threshold_sd, n)
        ),
        day_harm=np.zeros(n, dtype=np.float32),
        day_views=np.zeros(n, dtype=np.float32),
        day_removed=np.zeros(n, dtype=np.float32),
        access=np.zeros(n, dtype=np.uint16),
        region=np.zeros(n, dtype=np.int8),
        punished_at=np.full(n, -1, dtype=np.int64),
        witnessed_at=np.full(n, -1, dtype=np.int64),
        removals=np.zeros(n, dtype=np.int32),
        referrals=np.zeros(n, dtype=np.int32),
        posts_made=np.zeros(n, dtype=np.int32),
        criticism_made=np.zeros(n, dtype=np.int32),
        requests_made=np.zeros(n, dtype=np.int32),
        answered=np.zeros(n, dtype=np.int32),
        cohort=np.zeros(n, dtype=np.int8),
        cohort_split=np.full(n, -1, dtype=np.int64),
        posts_after=np.zeros(n, dtype=np.int32),
        criticism_after=np.zeros(n, dtype=np.int32),
        exposure_memory=np.zeros((n, memory_slots(sc.behaviour.exposure_weights)), dtype=np.int64),
    )
    return people


def draw_kinds(sc: Scenario, n: int, rng: np.random.Generator) -> np.ndarray:
    """Each user's kind, drawn from the scenario's shares (normalised)."""
    shares = np.array([getattr(sc.population.kinds, k) for k in KINDS], dtype=np.float64)
    return rng.choice(N_KINDS, size=n, p=shares / shares.sum()).astype(np.int8)


def popularity_boost(sc: Scenario, kind: np.ndarray) -> np.ndarray:
    """Each user's popularity boost (`population.popularity_boost` of their kind)."""
    return per_kind(sc.population.popularity_boost)[kind]
