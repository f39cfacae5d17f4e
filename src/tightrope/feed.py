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
from .exposure import may_use, push
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
    # Only the newest posts can be candidates: a post is published in its tick, so once a
    # post made more than the age limit and a tick ago is met going back from the newest,
    # every older one is past the age limit too. Engagement is read only here, for
    # candidates, so only these posts need decaying.
    newest = posts.counts[5] - 1
    oldest = newest
    while oldest >= 0 and newest - oldest < size:
        if created[oldest & (size - 1)] <= t0 - AGE_LIMIT_MINUTES - L:
            break
        oldest -= 1
    oldest += 1
    # the window's slots, in ascending slot order (the ring may wrap around its end)
    first, last = oldest & (size - 1), newest & (size - 1)
    wrapped = newest >= oldest and first > last
    n_cand = 0
    for part in range(2):
        if newest < oldest:
            break
        if wrapped:
            lo, hi = (0, last + 1) if part == 0 else (first, size)
        elif part == 0:
            lo, hi = first, last + 1
        else:
            break
        for s in range(lo, hi):
            posts.engagement[s] *= decay
            if (
                state[s] == VISIBLE
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
    access, suspended = people.access, people.suspended_until
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
            # candidates of positive total score (none: 0), on a platform the user can use
            usable[p] = top[p] > 0.0 and may_use(access, suspended, i, p, t0)
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
