"""Content categories and user kinds: the fixed vocabulary the mechanisms refer to.

A post is a category and a few numbers, never text. The categories' properties (share,
virality, harm, sensitivity, ...) are scenario settings; their names and meaning are fixed
here because mechanisms act on particular ones (service requests go to the government's
answer queue, calls for collective action feed mobilisation, and so on).
"""

from __future__ import annotations

import numpy as np

CATEGORIES: tuple[str, ...] = (
    "daily_life",
    "commerce",
    "service_request",
    "criticism",
    "collective_action",
    "rumor",
    "illegal_harm",
    "official",
    "accredited_news",
    "independent_news",
    "cheerleading",
    "spam",
)
"""Post categories, in the order of their integer codes (new ones are appended, so that the
codes of the others never change)."""

CAT = {name: i for i, name in enumerate(CATEGORIES)}
N_CATEGORIES = len(CATEGORIES)

DAILY_LIFE = CAT["daily_life"]
COMMERCE = CAT["commerce"]
SERVICE_REQUEST = CAT["service_request"]
CRITICISM = CAT["criticism"]
COLLECTIVE_ACTION = CAT["collective_action"]
RUMOR = CAT["rumor"]
ILLEGAL_HARM = CAT["illegal_harm"]
OFFICIAL = CAT["official"]
ACCREDITED_NEWS = CAT["accredited_news"]
INDEPENDENT_NEWS = CAT["independent_news"]
CHEERLEADING = CAT["cheerleading"]
SPAM = CAT["spam"]

KINDS: tuple[str, ...] = (
    "ordinary",
    "influencer",
    "media_accredited",
    "media_independent",
    "commercial",
    "bad_actor",
    "paid_commenter",
    "official",
    "spammer",
)
"""User kinds, in the order of their integer codes (new ones are appended)."""

KIND = {name: i for i, name in enumerate(KINDS)}
N_KINDS = len(KINDS)

ORDINARY = KIND["ordinary"]
INFLUENCER = KIND["influencer"]
MEDIA_ACCREDITED = KIND["media_accredited"]
MEDIA_INDEPENDENT = KIND["media_independent"]
COMMERCIAL = KIND["commercial"]
BAD_ACTOR = KIND["bad_actor"]
PAID_COMMENTER = KIND["paid_commenter"]
OFFICIAL_ACCOUNT = KIND["official"]
SPAMMER = KIND["spammer"]

# What each kind of account writes when it is not an ordinary voice. Ordinary users and
# influencers draw from the scenario's category shares, tilted by grievance.
KIND_CATEGORY: dict[int, int] = {
    MEDIA_ACCREDITED: ACCREDITED_NEWS,
    MEDIA_INDEPENDENT: INDEPENDENT_NEWS,
    COMMERCIAL: COMMERCE,
    PAID_COMMENTER: CHEERLEADING,
    OFFICIAL_ACCOUNT: OFFICIAL,
    SPAMMER: SPAM,
}

KIND_CATEGORY_TABLE = np.full(N_KINDS, -1, dtype=np.int64)
for _kind, _cat in KIND_CATEGORY.items():
    KIND_CATEGORY_TABLE[_kind] = _cat

ACTIONS: tuple[str, ...] = ("allow", "reduce", "review", "hold", "block")
"""What a platform does with a post its filter flags, in the order of their codes.

allow: nothing; reduce: visible with reach cut; review: visible while queued for review;
hold: invisible until a reviewer approves it; block: never published."""
ACTION = {name: i for i, name in enumerate(ACTIONS)}

# Post states (exactly one at any time).
VISIBLE, PENDING, REMOVED, BLOCKED = 0, 1, 2, 3
POST_STATES: tuple[str, ...] = ("visible", "pending", "removed", "blocked")
