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

from numba import njit

from . import counters as K
from .content import (
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
from .exposure import REQUEST_ARRIVAL, REVIEW_ARRIVAL, may_use, push_event, schedule_audience
from .moderation import identifiability
from .rng import integer, poisson, uniform

A_ALLOW, A_REDUCE, A_REVIEW, A_HOLD, A_BLOCK = 0, 1, 2, 3, 4


@njit(cache=True, inline="always")
def choose_category(share, gboost, request_boost, mobilised, g, kind, rs) -> int:
    """An intent's category: fixed by the account's kind, or for ordinary users and
    influencers drawn with weights share x (1 + grievance x boost), calls to action x 20
    when mobilised and service requests x the disaster boost. Takes arrays and scalars:
    Numba pays per array passed, per call."""
    fixed = KIND_CATEGORY_TABLE[kind]
    if fixed >= 0:
        return fixed
    if kind == BAD_ACTOR:
        return ILLEGAL_HARM if uniform(rs) < 0.7 else RUMOR
    total = 0.0
    for c in range(N_CATEGORIES):
        total += _weight(share, gboost, request_boost, mobilised, g, c)
    if total <= 0.0:
        return 0
    u = uniform(rs) * total
    acc = 0.0
    for c in range(N_CATEGORIES):
        acc += _weight(share, gboost, request_boost, mobilised, g, c)
        if u < acc:
            return c
    return N_CATEGORIES - 1


@njit(cache=True, inline="always")
def _weight(share, gboost, request_boost, mobilised, g, c) -> float:
    x = share[c] * (1.0 + g * gboost[c])
    if c == COLLECTIVE_ACTION and mobilised:
        x *= 20.0
    elif c == SERVICE_REQUEST:
        x *= request_boost
    return x


@njit(cache=True, inline="always")
def choose_platform(access, suspended, i, sat_i, private, public_only, now, rs) -> int:
    """A platform user i can use, drawn in proportion to satisfaction + 0.01."""
    total = 0.0
    for p in range(private.size):
        if public_only and private[p] != 0:
            continue
        if may_use(access, suspended, i, p, now):
            total += sat_i[p] + 0.01
    if total <= 0.0:
        return -1
    u = uniform(rs) * total
    acc = 0.0
    last = -1
    for p in range(private.size):
        if public_only and private[p] != 0:
            continue
        if may_use(access, suspended, i, p, now):
            acc += sat_i[p] + 0.01
            last = p
            if u < acc:
                return p
    return last


@njit(cache=True, inline="always")
def exposure_to_state(foreign_p, regulated_p, private_p, data_access) -> float:
    """How visible a post on a platform is to the state, for the speaker's risk."""
    if foreign_p != 0 or regulated_p == 0:
        return 0.2
    if private_p != 0:
        return 0.3 + 0.7 * data_access
    return 1.0


@njit(cache=True, inline="always")
def refuge(access, suspended, i, kinds, now) -> int:
    """The first platform of a kind (`kinds[p] != 0`: private, or foreign) user i can
    move a post to, or -1."""
    for p in range(kinds.size):
        if kinds[p] != 0 and may_use(access, suspended, i, p, now):
            return p
    return -1


@njit(cache=True)
def publish(
    posts, people, consts, rules, graph, cal, q, i, p, c, minute, tc, pc, rs_filter, rs_exposure,
    pending,
) -> None:  # fmt: skip
    """Create the post and pass it through platform p's filter. A post made visible joins
    `pending` (its slot; the count in pending[-1]), whose audiences are drawn after the
    posting phase (`exposure.schedule_audiences`); when the list is full (more posts in a
    tick than the post ring holds, which its sizing rules out), the audience is scheduled
    at once from the `exposure` stream."""
    pid = posts.counts[5]
    posts.counts[5] = pid + 1
    slot = pid & (posts.pid.size - 1)
    posts.pid[slot] = pid
    posts.author[slot] = i
    posts.platform[slot] = p
    posts.cat[slot] = c
    posts.created[slot] = minute
    posts.reach[slot] = 1.0
    posts.queued[slot] = 0
    posts.engagement[slot] = 0.0
    posts.counts[0] += 1
    tc[K.POSTS] += 1.0
    pc[p, K.P_POSTS] += 1.0
    pc[p, K.P_SCANNED] += 1.0
    if consts.legit[c]:
        tc[K.LEGIT_POSTS] += 1.0
    if c == COMMERCE:
        pc[p, K.P_COMMERCE] += 1.0
    if c == CRITICISM or c == COLLECTIVE_ACTION:
        tc[K.SENSITIVE_POSTS] += 1.0
    if c == SERVICE_REQUEST:
        tc[K.REQUESTS] += 1.0
        push_event(cal, minute, i, REQUEST_ARRIVAL)
    action = A_ALLOW
    if uniform(rs_filter) < rules.flag_prob[p, c]:
        pc[p, K.P_FLAGGED] += 1.0
        action = rules.action[p, c]
    if action == A_BLOCK:
        posts.state[slot] = BLOCKED
        posts.counts[1 + BLOCKED] += 1
        tc[K.BLOCKED] += 1.0
        if consts.legit[c]:
            tc[K.WRONGFUL_REMOVED] += 1.0
        return
    if action == A_HOLD:
        posts.state[slot] = PENDING
        posts.counts[1 + PENDING] += 1
        tc[K.HELD] += 1.0
        push_event(cal, minute, pid, REVIEW_ARRIVAL)
        return
    posts.state[slot] = VISIBLE
    posts.counts[1 + VISIBLE] += 1
    if action == A_REDUCE:
        posts.reach[slot] = 1.0 - consts.p_vis_reduction[p]
    elif action == A_REVIEW:
        push_event(cal, minute, pid, REVIEW_ARRIVAL)
    k = pending[pending.size - 1]
    if k < pending.size - 1:
        pending[k] = slot
        pending[pending.size - 1] = k + 1
    else:
        schedule_audience(posts, slot, i, minute, people, consts, graph, cal, rs_exposure)


@njit(cache=True)
def post_tick(
    t0,
    hour,
    burst,
    posts,
    people,
    consts,
    rules,
    graph,
    cal,
    q,
    tc,
    pc,
    rs_intents,
    rs_category,
    rs_chilling,
    rs_filter,
    rs_exposure,
    pending,
) -> None:
    """Every user's intents for the tick starting at minute t0; the slots of the posts
    made visible go into `pending` (see `publish`)."""
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
    for i in range(kinds.size):
        a = activity[i]
        if a <= 0.0 or suspended[i] > t0:
            continue
        kind = kinds[i]
        ident = identifiability(real_name[i], data_access)
        if kind == BAD_ACTOR and ident * consts.severity * boost >= gain[i]:
            continue  # deterred
        lam = a * scale
        if kind == PAID_COMMENTER and burst:
            lam *= consts.paid_burst
        n = poisson(rs_intents, lam)
        public_only = kind != ORDINARY and kind != INFLUENCER and kind != BAD_ACTOR
        for _ in range(n):
            c = choose_category(
                share,
                gboost,
                rules.request_boost,
                mobilised[i] != 0,
                grievance[i],
                kind,
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
            )
            if p < 0:
                continue  # no platform the user can reach
            tc[K.INTENTS] += 1.0
            if c == COLLECTIVE_ACTION:
                tc[K.CALLS_TO_ACTION] += 1.0
            legit = legit_c[c] == 1
            if legit:
                tc[K.LEGIT_INTENTS] += 1.0
            sens = sensitivity[c]
            risk = (
                fear[i]
                * sens
                * exposure_to_state(foreign[p], regulated[p], private[p], data_access)
            )
            risk *= 0.5 + 0.5 * ident
            if risk > 0.0:
                wish = voice[i] + (0.5 * grievance[i] if gboost[c] > 0 else 0.0)
                if uniform(rs_chilling) * (risk + wish) < risk:
                    moved = -1
                    if private[p] == 0 and foreign[p] == 0:
                        if uniform(rs_chilling) < consts.private_displacement:
                            moved = refuge(access, suspended, i, private, t0)
                            if moved >= 0:
                                tc[K.DISPLACED_PRIVATE] += 1.0
                        if moved < 0 and vpn[i] != 0:
                            moved = refuge(access, suspended, i, foreign, t0)
                            if moved >= 0:
                                tc[K.DISPLACED_FOREIGN] += 1.0
                    if moved < 0:
                        tc[K.SELF_CENSORED] += 1.0
                        if legit:
                            tc[K.SUPPRESSED_LEGIT] += 1.0
                        continue
                    p = moved
            minute = t0 + integer(rs_intents, L)
            publish(
                posts,
                people,
                consts,
                rules,
                graph,
                cal,
                q,
                i,
                p,
                c,
                minute,
                tc,
                pc,
                rs_filter,
                rs_exposure,
                pending,
            )
