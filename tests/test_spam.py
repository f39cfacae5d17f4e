"""Spam and spammers (docs/model.md 7.10): the rules against their formulas, a spam view on
a tiny world, the outputs, direction tests, the settings' validation, and runs without spam
unchanged."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import TinyWorld, stream
from tightrope import InputError, load_scenario, run
from tightrope.core import counters as K
from tightrope.model.diffusion import C_HARM, C_VIEWS, PART_COUNTERS, view_parts
from tightrope.model.exposure import may_use, refresh_access
from tightrope.model.metrics import scores, spam_removed_share
from tightrope.model.posting import choose_category
from tightrope.model.spam import fearless, felt_harm, useful_views
from tightrope.scenario.content import (
    CAT,
    CATEGORIES,
    KIND,
    KIND_CATEGORY_TABLE,
    KINDS,
    N_KINDS,
    SPAM,
    SPAMMER,
    VISIBLE,
)
from tightrope.scenario.schema import Scenario

# --- the vocabulary ---------------------------------------------------------------------------


def test_spam_and_spammers_are_appended_so_the_other_codes_stay():
    assert CATEGORIES[:11] == (
        "daily_life", "commerce", "service_request", "criticism", "collective_action",
        "rumor", "illegal_harm", "official", "accredited_news", "independent_news",
        "cheerleading",
    )  # fmt: skip
    assert (CATEGORIES[-1], SPAM) == ("spam", 11)
    assert KINDS[:8] == (
        "ordinary", "influencer", "media_accredited", "media_independent", "commercial",
        "bad_actor", "paid_commenter", "official",
    )  # fmt: skip
    assert (KINDS[-1], SPAMMER) == ("spammer", 8)
    assert KIND_CATEGORY_TABLE.size == N_KINDS
    assert KIND_CATEGORY_TABLE[SPAMMER] == SPAM


def test_a_spammer_writes_spam_and_nobody_else_does_by_default():
    share = np.array([getattr(Scenario().content, c).share for c in CATEGORIES])
    gboost = np.zeros(len(CATEGORIES))
    rs = stream("category")
    assert choose_category(share, gboost, 1.0, False, 0.5, SPAMMER, 0.7, 20.0, rs) == SPAM
    picks = {
        choose_category(share, gboost, 1.0, False, 0.5, KIND["ordinary"], 0.7, 20.0, rs)
        for _ in range(5000)
    }
    assert SPAM not in picks  # ordinary users' spam share is 0 by default


# --- the rules ----------------------------------------------------------------------------------


def test_fearless_only_spammers():
    assert fearless(SPAMMER)
    assert not any(fearless(KIND[k]) for k in KINDS if k != "spammer")


def test_felt_harm_adds_the_nuisance_to_spam_only():
    assert felt_harm(0.0, SPAM, 0.5) == 0.5
    assert felt_harm(0.25, SPAM, 0.5) == 0.75
    assert felt_harm(1.0, CAT["illegal_harm"], 0.5) == 1.0
    assert felt_harm(0.0, CAT["daily_life"], 3.0) == 0.0


def test_useful_views_leave_spam_out():
    assert useful_views(100.0, 0.0) == 100.0
    assert useful_views(100.0, 30.0) == 70.0


def test_development_counts_only_useful_views():
    sc = Scenario()
    totals = dict.fromkeys(K.TICK, 0.0)
    totals["views"] = 20.0 * 10 * 2  # 20 views per user-day: 10 users, 2 days
    money = {"revenue": 0.0, "compliance_cost": 0.0, "fines": 0.0, "profit": 0.0}
    stats = np.zeros(8)
    clean = scores(sc, totals, 10, 2.0, stats, money, False, 0.0)
    totals["spam_views"] = 10.0 * 10 * 2  # half of them spam
    spammed = scores(sc, totals, 10, 2.0, stats, money, False, 0.0)
    ref = sc.metrics.views_per_user_day_ref  # 10
    # development = mean(active share 0, sat(views per user-day), margin part 0.5)
    assert clean["development_score"] == pytest.approx((0 + 20 / (20 + ref) + 0.5) / 3)
    assert spammed["development_score"] == pytest.approx((0 + 10 / (10 + ref) + 0.5) / 3)
    assert spammed["views_per_user_day"] == clean["views_per_user_day"] == 20.0


def test_spam_removed_share_counts_blocked_and_removed_spam_not_authors_deletions():
    category = np.zeros((len(CATEGORIES), len(K.CATEGORY)))
    assert math.isnan(spam_removed_share(category))
    category[SPAM, K.C["posts"]] = 100
    category[SPAM, K.C["blocked"]] = 60
    category[SPAM, K.C["removed_report"]] = 5
    category[SPAM, K.C["removed_filter"]] = 3
    category[SPAM, K.C["removed_author"]] = 7
    category[CAT["rumor"], K.C["removed_report"]] = 50
    assert spam_removed_share(category) == pytest.approx(0.68)


def _put(posts, pid: int, cat: str) -> None:
    slot = pid & (posts.pid.size - 1)
    posts.pid[slot], posts.cat[slot], posts.platform[slot] = pid, CAT[cat], 0
    posts.author[slot], posts.created[slot], posts.state[slot] = 0, 0, VISIBLE
    posts.reach[slot] = 1.0
    posts.engagement[slot] = 0.0


def test_a_spam_view_adds_the_nuisance_to_the_viewers_day_but_no_harm(tiny_world: TinyWorld):
    sim = tiny_world(users=200, overrides=["behaviour.spam_nuisance=0.75"])
    pp = sim.people
    refresh_access(pp, sim.rules, 0)
    users = [i for i in range(200) if may_use(pp.access, pp.suspended_until, i, 0, 10)][:3]
    _put(sim.posts, 0, "spam")
    _put(sim.posts, 1, "daily_life")
    for u in users:
        pp.day_harm[u], pp.day_views[u] = 0.0, 0.0
    pids, viewers = [0, 0, 1], [users[0], users[1], users[1]]
    n = len(pids)
    counters = np.zeros((1, PART_COUNTERS))
    outcome = np.zeros(n, dtype=np.uint8)
    view_parts(
        10, 10, np.array([0, n], dtype=np.int64), np.array(pids, dtype=np.int64),
        np.array(viewers, dtype=np.int32), outcome, sim.posts, pp, sim.consts, sim.rules,
        counters, np.array([11, 12, 13], dtype=np.uint64), np.zeros((1, 3, 4), dtype=np.uint64),
        sim.view_log, sim.view_meta,
    )  # fmt: skip
    assert pp.day_harm[users[0]] == pytest.approx(0.75)
    assert pp.day_harm[users[1]] == pytest.approx(0.75)  # the daily-life view adds nothing
    assert pp.day_views[users[1]] == 2.0
    assert counters[0, C_VIEWS] == 3
    assert counters[0, C_HARM] == 0.0  # not harm to the order goal


# --- in a run -----------------------------------------------------------------------------------

SPAMMY = ["population.kinds.spammer=0.05"]


def test_spammers_are_never_chilled_and_their_spam_is_never_wrongfully_removed():
    sets = [
        *SPAMMY,
        "content.spam.sensitivity=1.0",
        "population.fear_mean=0.9",
        "population.spread.fear=0.0",
    ]
    res = run(load_scenario("eu-dsa", sets, users=600, days=1, seed=2))
    cats = res.categories.to_pydict()
    i = cats["category"].index("spam")
    assert cats["intents"][i] > 0
    assert cats["self_censored"][i] == 0
    assert cats["blocked"][i] > 0  # the microblog's filter blocks most of it
    assert cats["wrongful_removed"][i] == 0  # spam is not legitimate speech
    removed = cats["blocked"][i] + cats["removed"][i] - cats["removed_author"][i]
    assert res.summary["spam_removed_share"] == pytest.approx(removed / cats["posts"][i])
    spam_views = cats["views"][i]
    assert res.summary["spam_view_share"] == pytest.approx(spam_views / res.summary["views"])
    assert 0 < res.summary["spam_view_share"] < 1


def test_direction_more_spam_filtering_less_spam_seen():
    def seen(detection: float) -> float:
        sets = [
            *SPAMMY,
            f"platforms.microblog.moderation.filter.detection.spam={detection}",
            f"platforms.foreign.moderation.filter.detection.spam={detection}",
        ]
        return run(load_scenario("eu-dsa", sets, users=800, days=2, seed=4)).summary[
            "spam_view_share"
        ]

    low, high = seen(0.95), seen(0.2)
    assert 0 <= low < high


def test_direction_spam_lowers_development():
    def development(share: float) -> float:
        sets = [f"population.kinds.spammer={share}"]
        return run(load_scenario("laissez-faire", sets, users=800, days=2, seed=4)).summary[
            "development_score"
        ]

    assert development(0.1) < development(0.0)


def test_without_spam_the_spam_settings_change_nothing():
    """No spammers and an ordinary spam share of 0 (the defaults): every other spam setting
    can take any value and the run is the same to the bit."""
    base = run(load_scenario("eu-dsa", ["population.kinds.spammer=0"], users=400, days=1, seed=3))
    sets = [
        "population.kinds.spammer=0",
        "behaviour.spam_nuisance=9",
        "population.activity_multiplier.spammer=50",
        "population.popularity_boost.spammer=5",
        "content.spam.offensiveness=1",
        "content.spam.sensitivity=1",
        "content.spam.virality=1",
        "platforms.microblog.moderation.filter.detection.spam=0",
        "platforms.microblog.moderation.actions.spam='hold'",
        "baseline.illegitimate=['illegal_harm']",
    ]
    other = run(load_scenario("eu-dsa", sets, users=400, days=1, seed=3))
    assert base.summary.keys() == other.summary.keys()
    for key, value in base.summary.items():
        got = other.summary[key]
        assert got == value or (isinstance(value, float) and math.isnan(value) and math.isnan(got))
    assert base.timeseries.equals(other.timeseries)
    assert base.categories.equals(other.categories)
    assert math.isnan(base.summary["spam_removed_share"])
    assert base.summary["spam_view_share"] == 0.0


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "line"),
    [
        (
            "behaviour.spam_nuisance=11",
            "behaviour.spam_nuisance: Input should be less than or equal to 10 (got 11)",
        ),
        (
            "behaviour.spam_nuisance=-1",
            "behaviour.spam_nuisance: Input should be greater than or equal to 0 (got -1)",
        ),
        (
            "population.kinds.spammer=1.5",
            "population.kinds.spammer: Input should be less than or equal to 1 (got 1.5)",
        ),
        (
            "population.activity_multiplier.spammer=-2",
            "population.activity_multiplier.spammer: Input should be greater than or equal "
            "to 0 (got -2)",
        ),
        (
            "population.popularity_boost.spammer=0",
            "population.popularity_boost.spammer: Input should be greater than 0 (got 0)",
        ),
    ],
)
def test_bad_spam_settings_are_refused_with_exact_messages(override, line):
    with pytest.raises(InputError) as info:
        load_scenario("eu-dsa", [override])
    assert info.value.problems == [line]


def test_spammers_take_their_share_from_ordinary_users():
    sc = load_scenario("eu-dsa", ["population.kinds.spammer=0.02"])
    base = load_scenario("eu-dsa")
    assert sc.population.kinds.spammer == 0.02
    assert sc.population.kinds.ordinary == pytest.approx(
        base.population.kinds.ordinary + base.population.kinds.spammer - 0.02
    )


def test_defaults_keep_spam_off_and_presets_prohibit_it():
    sc = Scenario()
    assert (sc.population.kinds.spammer, sc.content.spam.share) == (0.0, 0.0)
    assert "spam" in sc.baseline.illegitimate
    for name in ("eu-dsa", "us-self-regulation", "china-weibo-2013", "china-comprehensive-2021",
                 "laissez-faire"):  # fmt: skip
        preset = load_scenario(name)
        assert preset.population.kinds.spammer > 0, name
        assert "spam" in preset.baseline.illegitimate, name
        for plat in preset.platforms.values():
            assert "spam" in plat.moderation.terms_prohibited, name
    assert load_scenario("china-weibo-2012-calibrated").population.kinds.spammer == 0.0
