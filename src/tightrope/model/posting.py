"""Intents to post, self-censorship, displacement, the automated filter and publication.

Each user forms intents at a Poisson rate (their activity times the hour's weight). An
intent's category follows from the user's kind and state (grievance tilts ordinary users
toward complaints, criticism and calls to action). The intent is then weighed: when the
perceived risk of saying it outweighs the wish to say it, it is suppressed, and either
displaced (to a private circle, or through a VPN to a foreign platform) or not said at all
(self-censorship). A post that is made passes the platform's filter, which may block it,
hold it for review, queue it for review while visible, cut its reach, or let it through.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from tightrope.core import counters as K
from tightrope.core.rng import STREAM, derive, integer, next_u64, poisson, uniform
from tightrope.core.world import Tally, World
from tightrope.model.exposure import REQUEST_ARRIVAL, REVIEW_ARRIVAL, may_use, push
from tightrope.model.moderation import identifiability
from tightrope.model.spam import fearless
from tightrope.scenario.content import (
    BAD_ACTOR,
    BLOCKED,
    COLLECTIVE_ACTION,
    COMMERCE,
    CRITICISM,
    ILLEGAL_HARM,
    INFLUENCER,
    KIND_CATEGORY_TABLE,
    N_CATEGORIES,
    ORDINARY,
    PAID_COMMENTER,
    PENDING,
    RUMOR,
    SERVICE_REQUEST,
    VISIBLE,
)

A_ALLOW, A_REDUCE, A_REVIEW, A_HOLD, A_BLOCK = 0, 1, 2, 3, 4


@njit(cache=True, inline="always")
def choose_category(
    share, gboost, request_boost, mobilised, g, kind, harm_share, call_boost, rs
) -> int:
    """An intent's category: fixed by the account's kind (a bad actor's is illegal harm
    with chance `harm_share`, `behaviour.bad_actor_harm_share`, else a rumour), or for
    ordinary users and influencers drawn with weights share x (1 + grievance x boost),
    calls to action x `call_boost` (`mobilisation.call_boost`) when mobilised and service
    requests x the disaster boost. Takes arrays and scalars: Numba pays per array passed,
    per call."""
    fixed = KIND_CATEGORY_TABLE[kind]
    if fixed >= 0:
        return fixed
    if kind == BAD_ACTOR:
        return ILLEGAL_HARM if uniform(rs) < harm_share else RUMOR
    total = 0.0
    for c in range(N_CATEGORIES):
        total += _weight(share, gboost, request_boost, mobilised, g, c, call_boost)
    if total <= 0.0:
        return 0
    u = uniform(rs) * total
    acc = 0.0
    last = 0
    for c in range(N_CATEGORIES):
        x = _weight(share, gboost, request_boost, mobilised, g, c, call_boost)
        acc += x
        if u < acc:
            return c
        if x > 0.0:
            last = c
    return last  # u rounded up to the total: the last category of positive weight


@njit(cache=True, inline="always")
def _weight(share, gboost, request_boost, mobilised, g, c, call_boost) -> float:
    x = share[c] * (1.0 + g * gboost[c])
    if c == COLLECTIVE_ACTION and mobilised:
        x *= call_boost
    elif c == SERVICE_REQUEST:
        x *= request_boost
    return x


@njit(cache=True, inline="always")
def platform_weight(satisfaction: float, floor: float) -> float:
    """The weight of a usable platform when a user picks one to post on or to look at a feed
    on (sections 5.5 and 7.6): `satisfaction + floor`. satisfaction is in [0, 1]; the floor
    (`behaviour.platform_choice_floor`, >= 0, 0.01 by default) keeps a platform the user is
    not satisfied with a small chance. A weight, not a probability: the choice divides it by
    the sum over the usable platforms."""
    return satisfaction + floor


@njit(cache=True, inline="always")
def choose_platform(access, suspended, i, sat_i, private, public_only, now, rs, floor) -> int:
    """A platform user i can use, drawn in proportion to `platform_weight(sat, floor)`."""
    total = 0.0
    for p in range(private.size):
        if public_only and private[p] != 0:
            continue
        if may_use(access, suspended, i, p, now):
            total += platform_weight(sat_i[p], floor)
    if total <= 0.0:
        return -1
    u = uniform(rs) * total
    acc = 0.0
    last = -1
    for p in range(private.size):
        if public_only and private[p] != 0:
            continue
        if may_use(access, suspended, i, p, now):
            acc += platform_weight(sat_i[p], floor)
            last = p
            if u < acc:
                return p
    return last


@njit(cache=True, inline="always")
def exposure_to_state(
    foreign_p: int,
    regulated_p: int,
    private_p: int,
    data_access: float,
    unregulated: float,
    private_base: float,
    private_data: float,
) -> float:
    """E_p, how visible a post on platform p is to the state, as the speaker sees it (a
    factor in [0, 1] of the risk, section 5.6): `unregulated` (0.2) on a foreign or
    unregulated platform; `private_base + private_data x data_access` (0.3 + 0.7 d) on a
    regulated private platform; 1 on a regulated public platform (the reference)."""
    if foreign_p != 0 or regulated_p == 0:
        return unregulated
    if private_p != 0:
        return private_base + private_data * data_access
    return 1.0


@njit(cache=True, inline="always")
def deterred(ident: float, severity: float, boost: float, gain: float) -> bool:
    """A bad actor is deterred this tick (forms no intents, section 5.8) when the expected
    punishment outweighs the gain: `ident x severity x boost >= gain`. ident (the chance
    the state can tie the account to a person), severity (`state.punishment.severity`) and
    gain are in [0, 1]; boost is 1 + the state's enforcement intensity (>= 1). Raising
    any of the first three deters more bad actors."""
    return ident * severity * boost >= gain


@njit(cache=True, inline="always")
def chilling_risk(
    fear: float, sensitivity: float, exposure: float, ident: float, anonymous_risk: float
) -> float:
    """The perceived risk of saying an intent (section 5.6), in [0, 1]:
    `fear x sensitivity x E_p x (a + (1 - a) x ident)`, where a
    (`behaviour.anonymous_risk`, 0.5) is the share of the risk a speaker the state cannot
    identify still feels (ident = 1: all of it)."""
    risk = fear * sensitivity * exposure
    risk *= anonymous_risk + (1.0 - anonymous_risk) * ident
    return risk


@njit(cache=True, inline="always")
def wish_to_speak(
    voice: float, grievance: float, grievance_boost: float, grievance_voice: float
) -> float:
    """The wish to say an intent (section 5.6), >= 0: `voice + grievance_voice x grievance`
    for a category that grievance makes more likely (grievance_boost > 0), else `voice`
    (`behaviour.grievance_voice`, 0.5)."""
    return voice + (grievance_voice * grievance if grievance_boost > 0 else 0.0)


@njit(cache=True, inline="always")
def self_censors(u: float, risk: float, wish: float) -> bool:
    """The chilling decision (section 5.6), for a uniform draw u in [0, 1): the intent is
    suppressed when `u x (risk + wish) < risk`, i.e. with probability `risk / (risk + wish)`
    (0 when risk is 0)."""
    return u * (risk + wish) < risk


NOT_MOVED, MOVED_PRIVATE, MOVED_FOREIGN = 0, 1, 2


@njit(cache=True, inline="always")
def displace(
    access, suspended, i, p, private, foreign, has_vpn, private_share, now, rs
) -> tuple[int, int]:
    """Where user i's suppressed intent on platform p goes (section 5.6): (platform, how).
    Only from a domestic public platform: with probability `private_share`
    (`behaviour.private_displacement`, one draw from rs) to the first private platform the
    user can use (MOVED_PRIVATE); failing that, with a VPN, to the first foreign one they
    can use (MOVED_FOREIGN); otherwise (-1, NOT_MOVED): the intent is not said."""
    if private[p] != 0 or foreign[p] != 0:
        return -1, NOT_MOVED
    if uniform(rs) < private_share:
        moved = refuge(access, suspended, i, private, now)
        if moved >= 0:
            return moved, MOVED_PRIVATE
    if has_vpn:
        moved = refuge(access, suspended, i, foreign, now)
        if moved >= 0:
            return moved, MOVED_FOREIGN
    return -1, NOT_MOVED


@njit(cache=True, inline="always")
def refuge(access, suspended, i, kinds, now) -> int:
    """The first platform of a kind (`kinds[p] != 0`: private, or foreign) user i can
    move a post to, or -1."""
    for p in range(kinds.size):
        if kinds[p] != 0 and may_use(access, suspended, i, p, now):
            return p
    return -1


INTENT_BLOCK_USERS = 4096
"""Users per block whose intents are formed in parallel (fixed: the results depend on it)."""

# columns of a block's counters (rows of 32, so that blocks on different threads do not share
# a cache line): the tick's counters, then intents and self-censored intents per category
I_INTENTS, I_CALLS, I_LEGIT, I_PRIVATE, I_FOREIGN, I_SELF_CENSORED, I_SUPPRESSED = range(7)
I_CAT_INTENTS = 7
I_CAT_SELF_CENSORED = I_CAT_INTENTS + N_CATEGORIES
INTENT_COUNTERS = 32
assert I_CAT_SELF_CENSORED + N_CATEGORIES <= INTENT_COUNTERS
_INTENT_COUNTER = (
    K.INTENTS,
    K.CALLS_TO_ACTION,
    K.LEGIT_INTENTS,
    K.DISPLACED_PRIVATE,
    K.DISPLACED_FOREIGN,
    K.SELF_CENSORED,
    K.SUPPRESSED_LEGIT,
)


class Intents(NamedTuple):
    """A tick's posts to publish, by block of users: block b's are entries
    b x room .. b x room + count[b] - 1 (room = user.size // count.size)."""

    user: np.ndarray  # int32
    platform: np.ndarray  # int8
    cat: np.ndarray  # int8
    minute: np.ndarray  # int64
    count: np.ndarray  # int64 (blocks,): posts of each block (more than room: did not fit)
    counters: np.ndarray  # float64 (blocks, INTENT_COUNTERS)


def intent_blocks(n_users: int) -> int:
    """Blocks of users whose intents are formed in parallel."""
    return -(-n_users // INTENT_BLOCK_USERS)


def initial_intent_room(n_users: int, peak_posts: float) -> int:
    """Room per block for a tick of `peak_posts` posts: twice a block's share, and 64."""
    return int(2.0 * peak_posts / intent_blocks(n_users)) + 64


def new_intents(n_users: int, room: int) -> Intents:
    """Buffers for `room` posts per block of users."""
    blocks = intent_blocks(n_users)
    return Intents(
        user=np.zeros(blocks * room, dtype=np.int32),
        platform=np.zeros(blocks * room, dtype=np.int8),
        cat=np.zeros(blocks * room, dtype=np.int8),
        minute=np.zeros(blocks * room, dtype=np.int64),
        count=np.zeros(blocks, dtype=np.int64),
        counters=np.zeros((blocks, INTENT_COUNTERS)),
    )


@njit(cache=True, parallel=True)
def form_intents(t0, hour, burst, people, consts, rules, keys, out) -> None:
    """Every user's intents for the tick starting at minute t0, in parallel over blocks of
    INTENT_BLOCK_USERS users: block b draws from streams derived from keys[0] (`intents`:
    counts, minutes), keys[1] (`category`: category, platform) and keys[2] (`chilling`)
    with index b. The posts to make go into the block's room in `out`, in user order; a
    block that makes more than its room counts them all and writes the first."""
    L = consts.tick_minutes
    scale = consts.diurnal[hour] * L / 1440.0
    boost = 1.0 + rules.intensity
    access, suspended, vpn = people.access, people.suspended_until, people.vpn
    private, foreign, regulated = consts.p_private, consts.p_foreign, consts.p_regulated
    share, gboost, legit_c = consts.cat_share, consts.cat_gboost, consts.legit
    sensitivity, data_access = consts.cat_sensitivity, consts.data_access
    activity, kinds, real_name, gain = people.activity, people.kind, people.real_name, people.gain
    fear, voice, grievance, mobilised = (
        people.fear,
        people.voice,
        people.grievance,
        people.mobilised,
    )
    satisfaction = people.satisfaction
    harm_share, call_boost = consts.bad_actor_harm_share, consts.call_boost
    # every setting the loop reads, named here: a record named in a parallel loop passes
    # all of its arrays to every thread, and compiling that costs minutes
    severity, paid_burst, request_boost = consts.severity, consts.paid_burst, rules.request_boost
    choice_floor, anonymous_risk = consts.platform_choice_floor, consts.anonymous_risk
    exposure_unregulated, exposure_private = consts.exposure_unregulated, consts.exposure_private
    exposure_private_data, grievance_voice = consts.exposure_private_data, consts.grievance_voice
    private_displacement = consts.private_displacement
    out_user, out_platform, out_cat, out_minute = out.user, out.platform, out.cat, out.minute
    count, counters = out.count, out.counters
    blocks = count.size
    room = out_user.size // blocks
    n_users = kinds.size
    for b in prange(blocks):
        rs_intents = np.empty(4, dtype=np.uint64)
        rs_category = np.empty(4, dtype=np.uint64)
        rs_chilling = np.empty(4, dtype=np.uint64)
        derive(keys[0], b, rs_intents)
        derive(keys[1], b, rs_category)
        derive(keys[2], b, rs_chilling)
        row = counters[b]
        row[:] = 0.0
        made = 0
        first = b * room
        for i in range(b * INTENT_BLOCK_USERS, min(n_users, (b + 1) * INTENT_BLOCK_USERS)):
            a = activity[i]
            if a <= 0.0 or suspended[i] > t0:
                continue
            kind = kinds[i]
            ident = identifiability(real_name[i], data_access)
            if kind == BAD_ACTOR and deterred(ident, severity, boost, gain[i]):
                continue
            lam = a * scale
            if kind == PAID_COMMENTER and burst:
                lam *= paid_burst
            n = poisson(rs_intents, lam)
            public_only = kind != ORDINARY and kind != INFLUENCER and kind != BAD_ACTOR
            for _ in range(n):
                c = choose_category(
                    share,
                    gboost,
                    request_boost,
                    mobilised[i] != 0,
                    grievance[i],
                    kind,
                    harm_share,
                    call_boost,
                    rs_category,
                )
                p = choose_platform(
                    access,
                    suspended,
                    i,
                    satisfaction[i],
                    private,
                    public_only,
                    t0,
                    rs_category,
                    choice_floor,
                )
                if p < 0:
                    continue  # no platform the user can reach
                row[I_INTENTS] += 1.0
                row[I_CAT_INTENTS + c] += 1.0
                if c == COLLECTIVE_ACTION:
                    row[I_CALLS] += 1.0
                legit = legit_c[c] == 1
                if legit:
                    row[I_LEGIT] += 1.0
                exposure = exposure_to_state(
                    foreign[p],
                    regulated[p],
                    private[p],
                    data_access,
                    exposure_unregulated,
                    exposure_private,
                    exposure_private_data,
                )
                risk = chilling_risk(fear[i], sensitivity[c], exposure, ident, anonymous_risk)
                wish = wish_to_speak(voice[i], grievance[i], gboost[c], grievance_voice)
                chilled = risk > 0.0 and not fearless(kind)
                if chilled and self_censors(uniform(rs_chilling), risk, wish):
                    moved, how = displace(
                        access,
                        suspended,
                        i,
                        p,
                        private,
                        foreign,
                        vpn[i] != 0,
                        private_displacement,
                        t0,
                        rs_chilling,
                    )
                    if how == MOVED_PRIVATE:
                        row[I_PRIVATE] += 1.0
                    elif how == MOVED_FOREIGN:
                        row[I_FOREIGN] += 1.0
                    else:
                        row[I_SELF_CENSORED] += 1.0
                        row[I_CAT_SELF_CENSORED + c] += 1.0
                        if legit:
                            row[I_SUPPRESSED] += 1.0
                        continue
                    p = moved
                minute = t0 + integer(rs_intents, L)
                if made < room:
                    k = first + made
                    out_user[k] = i
                    out_platform[k] = p
                    out_cat[k] = c
                    out_minute[k] = minute
                made += 1
        count[b] = made


@njit(cache=True, inline="always")
def cascade_bin(size) -> int:
    """The bin of a cascade of `size` >= 1 posts (`counters.cascade_edges`): 0 for 1, else
    the number of bits of size - 1 (2 -> 1, 3-4 -> 2, 5-8 -> 3, ...)."""
    b = 0
    rest = size - 1
    while rest > 0:
        rest >>= 1
        b += 1
    return min(b, K.CASCADE_BINS - 1)


@njit(cache=True, inline="always")
def count_cascade(cascades, c, reshares) -> None:
    """Add a post of category c whose slot is taken (or the run ends) to the cascade
    histogram: its size is 1 + its reshares."""
    size = 1 + np.int64(reshares)
    b = cascade_bin(size)
    cascades[c, b, K.CASCADE_POSTS] += 1
    cascades[c, b, K.CASCADE_SIZES] += size


@njit(cache=True, _nrt=False)
def publish_intents(out, posts, consts, rules, cal, tally, rs_filter, pending) -> None:
    """Publish the posts formed by `form_intents`, block by block, in order within a block,
    and add up the blocks' counters into `tally` (a `Tally`). Each post gets the next id
    and passes its platform's filter (draws from the `filter` stream); the post whose slot
    it takes goes into the cascade histogram. A post made visible joins `pending` (its
    slot; the count in pending[-1]; the caller gives room for every post), whose audiences
    are drawn after the posting phase (`exposure.schedule_audiences`). Arrays are hoisted
    into locals, and the kernel is compiled without reference counting (`_nrt=False`): the
    calendar push inlined per post takes five arrays, and counting references to them costs
    more than the push."""
    tc, pc, ct, cascades = tally.tick, tally.platform, tally.category, tally.cascades
    post_reshares, queued_by = posts.reshares, posts.queued_by
    blocks = out.count.size
    room = out.user.size // blocks
    out_user, out_platform, out_cat, out_minute = out.user, out.platform, out.cat, out.minute
    counts, post_id, author, platform, cat = (
        posts.counts,
        posts.pid,
        posts.author,
        posts.platform,
        posts.cat,
    )
    created, reach, queued, engagement, state = (
        posts.created,
        posts.reach,
        posts.queued,
        posts.engagement,
        posts.state,
    )
    legit, vis_reduction = consts.legit, consts.p_vis_reduction
    flag_prob, action_of = rules.flag_prob, rules.action
    slots, cal_post, cal_viewer, link, meta = cal.slots, cal.post, cal.viewer, cal.link, cal.meta
    mask = post_id.size - 1
    last = pending.size - 1
    for b in range(blocks):
        row = out.counters[b]
        for j in range(len(_INTENT_COUNTER)):
            tc[_INTENT_COUNTER[j]] += row[j]
        for cc in range(N_CATEGORIES):
            ct[cc, K.CAT_INTENTS] += row[I_CAT_INTENTS + cc]
            ct[cc, K.CAT_SELF_CENSORED] += row[I_CAT_SELF_CENSORED + cc]
        first = b * room
        for k in range(first, first + out.count[b]):
            i, p, c, minute = out_user[k], out_platform[k], out_cat[k], out_minute[k]
            pid = counts[5]
            counts[5] = pid + 1
            slot = pid & mask
            if post_id[slot] >= 0:  # the post that leaves the ring: its cascade is complete
                count_cascade(cascades, cat[slot], post_reshares[slot])
            post_reshares[slot] = 0
            queued_by[slot] = 0
            post_id[slot] = pid
            author[slot] = i
            platform[slot] = p
            cat[slot] = c
            created[slot] = minute
            reach[slot] = 1.0
            queued[slot] = 0
            engagement[slot] = 0.0
            counts[0] += 1
            tc[K.POSTS] += 1.0
            ct[c, K.CAT_POSTS] += 1.0
            pc[p, K.P_POSTS] += 1.0
            pc[p, K.P_SCANNED] += 1.0
            if legit[c]:
                tc[K.LEGIT_POSTS] += 1.0
            if c == COMMERCE:
                pc[p, K.P_COMMERCE] += 1.0
            sensitive = c == CRITICISM or c == COLLECTIVE_ACTION
            if sensitive:
                tc[K.SENSITIVE_POSTS] += 1.0
                pc[p, K.P_SENSITIVE_POSTS] += 1.0
            if c == SERVICE_REQUEST:
                tc[K.REQUESTS] += 1.0
                push(slots, cal_post, cal_viewer, link, meta, minute, i, REQUEST_ARRIVAL)
            action = A_ALLOW
            if uniform(rs_filter) < flag_prob[p, c]:
                pc[p, K.P_FLAGGED] += 1.0
                action = action_of[p, c]
            if action == A_BLOCK:
                state[slot] = BLOCKED
                counts[1 + BLOCKED] += 1
                tc[K.BLOCKED] += 1.0
                ct[c, K.CAT_BLOCKED] += 1.0
                if legit[c]:
                    tc[K.WRONGFUL_REMOVED] += 1.0
                    ct[c, K.CAT_WRONGFUL_REMOVED] += 1.0
                continue
            if action == A_HOLD:
                state[slot] = PENDING
                counts[1 + PENDING] += 1
                tc[K.HELD] += 1.0
                ct[c, K.CAT_HELD] += 1.0
                if sensitive:
                    pc[p, K.P_SENSITIVE_HELD] += 1.0
                push(slots, cal_post, cal_viewer, link, meta, minute, pid, REVIEW_ARRIVAL)
                continue
            state[slot] = VISIBLE
            counts[1 + VISIBLE] += 1
            if action == A_REDUCE:
                reach[slot] = 1.0 - vis_reduction[p]
            elif action == A_REVIEW:
                push(slots, cal_post, cal_viewer, link, meta, minute, pid, REVIEW_ARRIVAL)
            n = pending[last]
            pending[n] = slot  # room for every post of the tick: see post_tick
            pending[last] = n + 1


def post_tick(
    t0: int,
    hour: int,
    burst: bool,
    world: World,
    tally: Tally,
    rs: np.ndarray,
    pending: np.ndarray,
    out: Intents,
) -> tuple[Intents, np.ndarray]:
    """The posting phase's intents and publication for the tick starting at minute t0 of
    the `world`, counted into `tally`
    (`form_intents` in parallel, with one key per tick from each of the `intents`,
    `category` and `chilling` streams, then `publish_intents`); the slots of the posts made
    visible go into `pending` (see `publish_intents`). Returns the intents' buffers and
    `pending`, larger ones when a block made more posts than they had room for (the blocks
    are then formed again, from the same streams; `pending` has room for as many posts as
    the intents' buffers)."""
    keys = np.array(
        [next_u64(rs[STREAM["intents"]]), next_u64(rs[STREAM["category"]]),
         next_u64(rs[STREAM["chilling"]])],
        dtype=np.uint64,
    )  # fmt: skip
    people, consts, rules = world.people, world.consts, world.rules
    form_intents(t0, hour, burst, people, consts, rules, keys, out)
    most = int(out.count.max(initial=0))
    room = out.user.size // out.count.size
    if most > room:
        out = new_intents(people.kind.size, most + most // 2)
        form_intents(t0, hour, burst, people, consts, rules, keys, out)
    if pending.size - 1 < out.user.size:  # room for every post the blocks can make
        pending = np.zeros(out.user.size + 1, dtype=np.int64)
    pending[-1] = 0
    publish_intents(
        out, world.posts, consts, rules, world.cal, tally, rs[STREAM["filter"]], pending
    )
    return out, pending
