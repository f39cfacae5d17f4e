"""Authors deleting their own posts.

Some of what is published is taken down by the person who wrote it: 2.4% of tweets
(Almuhimedi et al. 2013), most within hours of posting; on Sina Weibo 16% of posts were gone
within three months, most of them "does not exist" (deleted by the author or the system)
rather than "permission denied" (Bamman, O'Connor & Smith 2012). People delete more of what
they fear: the chance rises with the author's fear for sensitive categories.

When a post is published, its author draws (stream `author_deletion`, in the order the posts
were published) whether they will delete it and after how long (lognormal); the deletion is
an event of the exposure calendar (`exposure.AUTHOR_DELETION`) at that minute, and happens if
the post is still visible then. It counts in the category's `removed_author` and the tick's
`author_deleted`, not in `removed` (the platforms' and the state's removals): it strikes no
one, refers no one and is not wrongful. Deletions later than the exposure horizon change no
view and are not simulated.
"""

from __future__ import annotations

from numba import njit

from tightrope.core import counters as K
from tightrope.core.rng import lognormal_delay, normal, uniform
from tightrope.core.world import HORIZON_MINUTES
from tightrope.model.exposure import AUTHOR_DELETION, push_event
from tightrope.model.moderation import set_state
from tightrope.scenario.content import REMOVED, VISIBLE


@njit(inline="always", cache=True)
def deletion_chance(share: float, fear_weight: float, fear: float, sensitivity: float) -> float:
    """Chance an author deletes a published post:
    `min(1, share x (1 + fear_weight x fear x sensitivity))`, with the category's share and
    sensitivity and the author's fear in [0, 1]."""
    chance = share * (1.0 + fear_weight * fear * sensitivity)
    return chance if chance < 1.0 else 1.0


@njit(inline="always", cache=True)
def deletion_delay(median: float, sigma: float, z: float) -> int:
    """Minutes from publication to the deletion, at least 1: `median x exp(sigma x z)`
    rounded down, for a standard normal z (a lognormal delay)."""
    return int(lognormal_delay(median, sigma, z))


@njit(cache=True)
def schedule_deletions(pending, n, t0, posts, people, consts, cal, rs) -> int:
    """Draw, for the first n posts in `pending` (slots of the posts published this tick, in
    publication order), whether their author deletes them (`deletion_chance`) and when
    (`deletion_delay`), from stream `rs`, and put each deletion into the calendar as an
    AUTHOR_DELETION event at its minute, when that is within the horizon from the tick's
    start t0. A post whose chance is 0 draws nothing. Returns the deletions scheduled."""
    share, sens = consts.ad_share, consts.cat_sensitivity
    weight, median, sigma = consts.ad_fear_weight, consts.ad_delay_median, consts.ad_delay_sigma
    scheduled = 0
    for k in range(n):
        slot = pending[k]
        c = posts.cat[slot]
        chance = deletion_chance(share[c], weight, people.fear[posts.author[slot]], sens[c])
        if chance <= 0.0:
            continue
        if uniform(rs) >= chance:
            continue
        minute = posts.created[slot] + deletion_delay(median, sigma, normal(rs))
        if minute - t0 >= HORIZON_MINUTES:
            continue  # after the post can be seen: nothing changes
        if push_event(cal, minute, posts.pid[slot], AUTHOR_DELETION):
            scheduled += 1
    return scheduled


@njit(cache=True, inline="always")
def author_delete(posts, slot, tc, ct) -> None:
    """The author deletes post `slot` if it is still visible: it is removed, leaves any
    review queue, and counts in `author_deleted` (tick) and `removed_author` (category)."""
    if posts.state[slot] != VISIBLE:
        return
    set_state(posts, slot, REMOVED)
    posts.queued[slot] = 0
    tc[K.AUTHOR_DELETED] += 1.0
    ct[posts.cat[slot], K.ROUTE_AUTHOR] += 1.0
