"""The feed: posts shown to users beyond those they follow, ranked by engagement.

Each tick, every visible post on a public platform younger than a day is a candidate with
score (engagement + 1)^w x exp(-age / 6 h) x reach x (1 - sensitive_penalty x sensitivity),
where w is the platform's engagement weight (0: recency only). Each user looks at feed
slots at their platform's share of `views_per_day` times the hour's weight, and each slot
shows a candidate drawn in proportion to its score (from an alias table, in O(1)), so what
engages spreads further: the feed amplifies. Engagement decays with a 6-hour time constant.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .content import VISIBLE
from .exposure import push
from .rng import (
    alias_fill,
    alias_pick,
    integer,
    poisson,
    poisson_from,
    poisson_table,
    uniform,
)

AGE_LIMIT_MINUTES = 1440
TIME_CONSTANT_MINUTES = 360.0


@njit(cache=True)
def feed_tick(
    t0, hour, posts, people, consts, rules, cal, cand_pid, cand_author, accept, alias, scratch, rs
) -> None:
    """Decay engagement, rank candidates, and schedule this tick's feed views."""
    L = consts.tick_minutes
    decay = math.exp(-L / TIME_CONSTANT_MINUTES)
    n_p = consts.n_platforms
    start = np.zeros(n_p + 1, dtype=np.int64)
    size = posts.pid.size
    pid, state, created, platform = posts.pid, posts.state, posts.created, posts.platform
    private = consts.p_private
    # candidates: visible posts on public platforms younger than the age limit, found in
    # one pass (into `scratch`), then grouped by platform with their scores (in `accept`),
    # from which each platform gets an alias table
    n_cand = 0
    for s in range(size):
        posts.engagement[s] *= decay
        if (
            pid[s] >= 0
            and state[s] == VISIBLE
            and t0 - created[s] < AGE_LIMIT_MINUTES
            and private[platform[s]] == 0
        ):
            scratch[n_cand] = s
            n_cand += 1
            start[platform[s] + 1] += 1
    for p in range(n_p):
        start[p + 1] += start[p]
    fill = start[:-1].copy()
    for j in range(n_cand):
        s = scratch[j]
        p = platform[s]
        age = max(t0 - created[s], 0)
        c = posts.cat[s]
        w = (posts.engagement[s] + 1.0) ** consts.p_eng_weight[p]
        w *= math.exp(-age / TIME_CONSTANT_MINUTES) * posts.reach[s]
        w *= 1.0 - consts.p_sens_penalty[p] * consts.cat_sensitivity[c]
        k = fill[p]
        cand_pid[k] = pid[s]  # what a pick needs, kept with the candidate: the ring is far
        cand_author[k] = posts.author[s]
        accept[k] = w
        fill[p] += 1
    top = np.zeros(n_p)
    for p in range(n_p):
        top[p] = alias_fill(accept, start[p], start[p + 1], accept, alias, scratch)
    rate = consts.views_per_day * consts.diurnal[hour] * L / 1440.0
    if rate <= 0.0:
        return
    usable = np.zeros(n_p, dtype=np.bool_)
    member, suspended, vpn = people.member, people.suspended_until, people.vpn
    live, blocked = rules.live, rules.blocked
    slots, cal_post, cal_viewer, link, meta = cal.slots, cal.post, cal.viewer, cal.link, cal.meta
    # every user who can use a platform with candidates looks at Poisson(rate) slots, each
    # on a platform drawn in proportion to satisfaction + 0.01: the same as a Poisson per
    # platform, with one draw per user from a table made once per tick
    cdf = np.empty(200 if rate < 30.0 else 1)
    used = poisson_table(rate, cdf) if rate < 30.0 else 0
    satisfaction = people.satisfaction
    for i in range(people.kind.size):
        total = 0.0
        for p in range(n_p):
            # can_use(), written out: a call per user and platform costs more than the test
            usable[p] = (
                top[p] > 0.0  # candidates of positive total score (none: 0)
                and (member[i] >> p) & 1 != 0
                and suspended[i] <= t0
                and live[p] != 0
                and (blocked[p] == 0 or vpn[i] != 0)
            )
            if usable[p]:
                total += satisfaction[i, p] + 0.01
        if total <= 0.0:
            continue
        n = poisson_from(cdf, used, rs) if used > 0 else poisson(rs, rate)
        for _ in range(n):
            u = uniform(rs) * total
            p = -1
            for q in range(n_p):
                if usable[q]:
                    p = q
                    u -= satisfaction[i, q] + 0.01
                    if u < 0.0:
                        break
            lo, hi = start[p], start[p + 1]
            k = alias_pick(accept, alias, lo, hi - lo, uniform(rs))
            if cand_author[k] == i:
                continue
            push(slots, cal_post, cal_viewer, link, meta, t0 + integer(rs, L), cand_pid[k], i)
