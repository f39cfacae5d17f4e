"""The minute loop inside a tick: exposures, reviews and answers in time order.

Within each minute, scheduled events happen first (review and request arrivals, authors'
deletions and reinstatements on appeal, then views, reshares and reports: see
`diffusion`), then reviewers work, the second tier's escalated removals due take effect
(`moderation.serve_escalations`), the platforms' sweeps due run (`moderation.serve_sweeps`),
and official staff work. Queue times are therefore measured in minutes whatever the tick
length.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tightrope.core.rng import STREAM, next_u64
from tightrope.model.diffusion import (
    PART_COUNTERS,
    add_engagement,
    count_minute,
    fill_minute,
    follow_up,
    reshares_of,
    view_parts,
)
from tightrope.model.exposure import schedule_shares
from tightrope.model.moderation import serve_escalations, serve_reviews, serve_sweeps
from tightrope.model.officials import serve_answers

S_EXPOSURE = STREAM["exposure"]
S_RESHARE = STREAM["reshare"]
S_REPORT = STREAM["report"]
S_INSPECTION = STREAM["inspection"]
S_REVIEW = STREAM["review"]
S_PUNISHMENT = STREAM["punishment"]
S_OFFICIALS = STREAM["officials"]
S_SWEEP = STREAM["sweep"]
S_APPEALS = STREAM["appeals"]
S_ESCALATION = STREAM["escalation"]


def new_minute_buffer(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A minute's views, grouped by viewer part: post ids, viewers and outcomes."""
    return (
        np.zeros(size, dtype=np.int64),
        np.zeros(size, dtype=np.int32),
        np.zeros(size, dtype=np.uint8),
    )


@njit(cache=True)
def run_minutes(t0, world, tally, views, feed, rs, buf, aud, threads):
    """Minutes t0 .. t0 + L - 1 of the `world` (a `tightrope.core.world.World`), counting
    into `tally` and sampling views for inspection into `views`, with this tick's `feed`
    views, and `threads` threads for the engagement pass (the result does not depend on
    it). `buf` is the minute buffer (post ids, viewers, outcomes), `aud` the audience
    region buffers (the posting phase's, used again for the reshares). Returns both,
    larger ones when a minute needed more room than given."""
    posts, people, consts, rules, graph, cal, q, req, view_cal = world
    tc, pc, hist, ct = tally.tick, tally.platform, tally.minutes, tally.category
    xc = tally.exposures
    view_log, view_meta = views
    buf_post, buf_viewer, outcome = buf
    aud_slot, aud_viewer = aud
    n_parts = view_meta.size
    start = np.zeros(n_parts + 1, dtype=np.int64)
    fill = np.zeros(n_parts, dtype=np.int64)
    counters = np.zeros((n_parts, PART_COUNTERS))
    streams = np.zeros((n_parts, 3, 4), dtype=np.uint64)
    keys = np.empty(3, dtype=np.uint64)
    keys[0] = next_u64(rs[S_RESHARE])
    keys[1] = next_u64(rs[S_REPORT])
    keys[2] = next_u64(rs[S_INSPECTION])
    # the minute's reshares (post slot, sharer, start), whose audiences are drawn in
    # parallel: reshare k of minute j of the tick from a stream derived from `reshare_key`
    # with index j x 2^32 + k
    reshare_key = next_u64(rs[S_EXPOSURE])
    r_slot = np.empty(1024, dtype=np.int64)
    r_sharer = np.empty(1024, dtype=np.int32)
    r_start = np.empty(1024, dtype=np.int64)
    for j in range(consts.tick_minutes):
        m = t0 + j
        hour = (m // 60) % 24
        n = count_minute(
            m, j, cal, view_cal, feed.start, posts, people, consts, rules, q, req, tc, ct, start
        )  # fmt: skip
        if n > buf_post.size:
            size = max(n, 2 * buf_post.size)
            buf_post = np.zeros(size, dtype=np.int64)
            buf_viewer = np.zeros(size, dtype=np.int32)
            outcome = np.zeros(size, dtype=np.uint8)
        fill_minute(m, j, view_cal, feed, start, fill, buf_post, buf_viewer)
        if n > 0:
            view_parts(
                m,
                j,
                start,
                buf_post,
                buf_viewer,
                outcome,
                posts,
                people,
                consts,
                rules,
                counters,
                keys,
                streams,
                view_log,
                view_meta,
            )
            nr = reshares_of(counters, start)
            if nr > r_slot.size:
                r_slot = np.empty(2 * nr, dtype=np.int64)
                r_sharer = np.empty(2 * nr, dtype=np.int32)
                r_start = np.empty(2 * nr, dtype=np.int64)
            follow_up(
                m, start, buf_post, buf_viewer, outcome, counters, posts, consts, cal, tc, pc,
                ct, xc, r_slot, r_sharer, r_start,
            )  # fmt: skip
            aud_slot, aud_viewer = schedule_shares(
                r_slot, r_sharer, r_start, nr, reshare_key, j << 32, posts, people, consts,
                graph, view_cal, aud_slot, aud_viewer,
            )  # fmt: skip
            add_engagement(
                n, buf_post, outcome, posts.engagement, consts.view_engagement,
                consts.reshare_engagement, threads,
            )  # fmt: skip
        serve_reviews(
            m, hour, world, tally, rs[S_REVIEW], rs[S_EXPOSURE], rs[S_PUNISHMENT], rs[S_APPEALS],
            rs[S_ESCALATION],
        )  # fmt: skip
        serve_escalations(m, world, tally, rs[S_PUNISHMENT], rs[S_APPEALS])
        serve_sweeps(m, world, tally, rs[S_SWEEP], rs[S_PUNISHMENT], rs[S_APPEALS])
        serve_answers(m, hour, req, people, consts, tc, hist, rs[S_OFFICIALS])
    return (buf_post, buf_viewer, outcome), (aud_slot, aud_viewer)
