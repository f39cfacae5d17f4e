"""The state's regulator: inspections of what is visible, fines and platform suspension.

Inspectors check a number of items per hour (staff x checks per staff-hour, raised by the
enforcement intensity). They check what people see: each check draws one of this tick's
views on a regulated platform at random, so content is checked in proportion to its
views. A visible post the rulebook prohibits is a violation: the regulator has it removed,
refers its author, and fines the platform; repeated violations raise the fine, and past a
limit per day the platform is suspended. A platform that sweeps searches for more of what
was removed (`tightrope.model.sweeps`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tightrope.core import counters as K
from tightrope.core.rng import integer, poisson
from tightrope.model.moderation import remove_post
from tightrope.model.sweeps import schedule_sweep
from tightrope.scenario.content import VISIBLE


@njit(cache=True)
def inspect(
    t_end, checks_expected, fine, growth, window, views, world, tally, rs, rs_punish, rs_appeal
):
    """Inspections of the tick that ends at minute t_end.

    `views` (a `tightrope.core.world.ViewLog`) holds, for viewer part k, a uniform sample
    of its views on regulated platforms this tick (see `diffusion.view_parts`).
    `window[p]` counts the platform's violations in the current day (for fine growth and
    suspension); it is reset by the caller at the start of each day. `world` is a
    `tightrope.core.world.World`, `tally` a `Tally`.
    """
    posts, people, consts, rules, graph, cal, q, _req, _view_cal = world
    tc, pc = tally.tick, tally.platform
    view_log, view_meta = views
    seen = np.cumsum(view_meta)
    logged = seen[-1]
    if logged == 0 or checks_expected <= 0.0:
        return
    n = poisson(rs, checks_expected)
    mask = posts.pid.size - 1
    cap = view_log.shape[1]
    for _ in range(n):
        tc[K.REGULATOR_CHECKS] += 1.0
        # a view drawn uniformly: its part in proportion to the part's views, then one
        # of the part's sample
        k = np.searchsorted(seen, integer(rs, logged), side="right")
        pid = view_log[k, integer(rs, min(view_meta[k], cap))]
        slot = pid & mask
        if posts.pid[slot] != pid:
            continue
        p = posts.platform[slot]
        pc[p, K.P_CHECKS] += 1.0
        if posts.state[slot] != VISIBLE:
            continue
        if rules.state_prohibited[p, posts.cat[slot]] <= 0.0:
            continue
        tc[K.REGULATOR_VIOLATIONS] += 1.0
        pc[p, K.P_VIOLATIONS] += 1.0
        amount = fine * (1.0 + growth * window[p])
        window[p] += 1.0
        tc[K.FINES] += amount
        pc[p, K.P_FINES] += amount
        remove_post(
            posts,
            people,
            graph.followers_ptr,
            graph.followers_idx,
            consts,
            rules,
            slot,
            float(t_end),
            K.ROUTE_INSPECTION,
            tally,
            rs_punish,
            cal,
            rs_appeal,
        )
        schedule_sweep(q, consts, rules, p, posts.cat[slot], float(t_end))
