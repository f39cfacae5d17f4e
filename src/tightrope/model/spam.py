"""Spam: what spammers send, what it costs those who see it (docs/model.md 7.10).

Spam is the category `spam`, written by the accounts of kind `spammer` (as commercial
accounts write commerce, `content.KIND_CATEGORY`). No state's law prohibits it here; the
platforms' own terms do (`moderation.terms_prohibited`), and their filter and reviewers
catch it as they catch any category they enforce, with its `filter.detection` and
`actions`. The rules of this module are the ones that differ from other categories:

- a spammer fears nothing: spam is never chilled (`fearless`), and spammers are not
  deterred as bad actors are (section 5.8), so only the platforms' removals, strikes and
  suspensions stop them;
- a spam view costs its viewer: it adds `behaviour.spam_nuisance` to the harm the viewer
  feels that day (`felt_harm`), which lowers their satisfaction with the platforms as harm
  does (section 5.7), though it is not harm for the order goal;
- a spam view is no use to anyone: the development goal counts the views that are not spam
  (`useful_views`).

With no spammers and an ordinary users' spam share of 0 (the defaults), there are no spam
posts and nothing of this acts: runs are unchanged.
"""

from __future__ import annotations

from numba import njit

from tightrope.scenario.content import SPAM, SPAMMER


@njit(inline="always", cache=True)
def fearless(kind: int) -> bool:
    """Whether an intent of an account of this kind is never chilled: a spammer's. Spam is
    not the state's business (no law prohibits it), so the fear of speaking (section 5.6)
    does not enter what a spammer sends, whatever the category's sensitivity."""
    return kind == SPAMMER


@njit(inline="always", cache=True)
def felt_harm(harm: float, category: int, nuisance: float) -> float:
    """What a view of a post of `category` adds to the harm its viewer feels that day
    (`People.day_harm`, read by `people.satisfaction_target`): the category's harm per
    view (`harm`), plus `nuisance` (`behaviour.spam_nuisance`, >= 0) for spam."""
    return harm + nuisance if category == SPAM else harm


def useful_views(views: float, spam_views: float) -> float:
    """The views that count for the development goal: all counted views but spam's
    (`views - spam_views`, both run totals so far, spam_views <= views)."""
    return views - spam_views
