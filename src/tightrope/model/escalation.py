"""Hard cases: removals a second tier decides days after the review.

A reviewer decides in minutes, but not every case: platforms send what is unclear (legality
under national law, public-interest exceptions, a public figure) to a legal team or senior
reviewers, who take days. This is why removals have a tail: about 93% of YouTube's NetzDG
removals came within 24 hours of the complaint and the rest within the week (H1 2018), and
Weibo deleted nearly 90% of the posts it deleted within a day and the rest over the
following days and weeks (Zhu et al. 2013). A review queue alone gives no such tail: it
removes within minutes while it keeps up and falls days behind on everything when it does
not (docs/validation.md).

For a platform with `moderation.escalation.share` above 0, each removal a reviewer decides
(`moderation.serve_reviews`) is escalated with chance `share` (`escalates`, stream
`escalation`); an escalated removal takes effect after a lognormal delay (median
`delay_median_hours`, spread `delay_sigma`; `escalation_delay`, a second draw of the same
stream) from the review's decision. Meanwhile the post stays as it was (visible, or held
before publication) and stays marked as queued, so it is not reviewed again; the removal
happens at the due minute if the post is still visible or held and still in the ring of
live posts (`moderation.serve_escalations`), by the review's route, with the strikes,
referrals and appeals of any removal. The escalated removals wait in a heap per platform
ordered by due minute (`defer`): rows `n_platforms + p` of the review queues, so they are
not bounded by the exposure calendar's horizon. A removal due after the run ends does not
happen in the run.
"""

from __future__ import annotations

from numba import njit

from tightrope.core.rng import lognormal_delay, normal, uniform

# columns of `Consts.p_escalation` (platforms, 3), from `moderation.escalation.*`
ES_SHARE = 0  # share
ES_MEDIAN = 1  # delay_median_hours, in minutes
ES_SIGMA = 2  # delay_sigma


@njit(inline="always", cache=True)
def escalates(share: float, u: float) -> bool:
    """A reviewer's removal goes to the second tier: `u < share`, for a uniform u."""
    return u < share


@njit(inline="always", cache=True)
def escalation_delay(median: float, sigma: float, z: float) -> float:
    """Minutes from the review's decision to the second tier's removal, at least 1:
    `median x exp(sigma x z)` for a standard normal z (a lognormal delay), at most 10^9."""
    return lognormal_delay(median, sigma, z)


@njit(cache=True)
def draw_escalation(consts, p: int, rs) -> float:
    """Whether platform p's reviewer's removal is escalated and, if so, after how many
    minutes it takes effect (stream `rs`); 0.0 when it is not (no draw when the platform's
    share is 0)."""
    share = consts.p_escalation[p, ES_SHARE]
    if share <= 0.0 or not escalates(share, uniform(rs)):
        return 0.0
    return escalation_delay(
        consts.p_escalation[p, ES_MEDIAN], consts.p_escalation[p, ES_SIGMA], normal(rs)
    )
