"""The minute loop inside a tick: exposures, reviews and answers in time order.

Within each minute, scheduled events happen first (views, reshares, reports, arrivals in
the queues), then reviewers and official staff work. Queue times are therefore measured in
minutes whatever the tick length.
"""

from __future__ import annotations

from numba import njit

from .diffusion import process_minute
from .moderation import serve_reviews
from .officials import serve_answers
from .rng import STREAM

S_EXPOSURE = STREAM["exposure"]
S_RESHARE = STREAM["reshare"]
S_REPORT = STREAM["report"]
S_INSPECTION = STREAM["inspection"]
S_REVIEW = STREAM["review"]
S_PUNISHMENT = STREAM["punishment"]
S_OFFICIALS = STREAM["officials"]


@njit(cache=True)
def run_minutes(
    t0, posts, people, consts, rules, graph, cal, q, req, tc, pc, hist, view_log, view_meta, rs
) -> None:
    for m in range(t0, t0 + consts.tick_minutes):
        hour = (m // 60) % 24
        process_minute(
            m,
            posts,
            people,
            consts,
            rules,
            graph,
            cal,
            q,
            req,
            tc,
            pc,
            view_log,
            view_meta,
            rs[S_EXPOSURE],
            rs[S_RESHARE],
            rs[S_REPORT],
            rs[S_INSPECTION],
        )
        serve_reviews(
            m,
            hour,
            q,
            posts,
            people,
            graph,
            consts,
            rules,
            cal,
            tc,
            pc,
            hist,
            rs[S_REVIEW],
            rs[S_EXPOSURE],
            rs[S_PUNISHMENT],
        )
        serve_answers(m, hour, req, people, consts, tc, hist, rs[S_OFFICIALS])
