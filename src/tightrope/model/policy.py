"""The regime in force, as small tables the kernels read: constants and per-tick rules.

`Consts` holds what does not change during a run. `Rules` is recomputed at the start of
each tick from the scenario, the laws in force, the state's enforcement intensity
(campaigns, the adaptive rule) and each platform's compliance effort.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tightrope.scenario.content import ACTION, ACTIONS, CATEGORIES, N_CATEGORIES
from tightrope.scenario.schema import Scenario


class Consts(NamedTuple):
    tick_minutes: int
    n_users: int
    n_platforms: int
    # content categories
    cat_share: np.ndarray
    cat_virality: np.ndarray
    cat_harm: np.ndarray
    cat_sensitivity: np.ndarray
    cat_offense: np.ndarray
    cat_gboost: np.ndarray
    legit: np.ndarray  # uint8, the evaluation baseline
    # platforms
    p_private: np.ndarray  # uint8
    p_foreign: np.ndarray  # uint8
    p_regulated: np.ndarray  # uint8, in the state's jurisdiction
    p_see: np.ndarray
    p_delay: np.ndarray
    p_eng_weight: np.ndarray
    p_sens_penalty: np.ndarray
    p_vis_reduction: np.ndarray
    p_reviewers: np.ndarray  # reviewers at full effort (absolute)
    p_review_rate: np.ndarray  # reviews per reviewer-hour
    p_rev_lo: np.ndarray  # int64, first hour reviewers work
    p_rev_hi: np.ndarray  # int64, hour they stop
    p_accuracy: np.ndarray
    p_reports: np.ndarray  # uint8
    p_strike_limit: np.ndarray  # int64
    p_suspension_minutes: np.ndarray
    p_referral: np.ndarray
    p_appeal: np.ndarray
    # the state
    severity: float
    witness_fear: float
    data_access: float
    crackdown: float
    answers_per_minute: float
    work_lo: int
    work_hi: int
    give_up_minutes: float
    resolution: float
    paid_burst: float
    paid_trigger: float
    # people
    private_displacement: float
    views_per_day: float
    diurnal: np.ndarray  # 24 hourly weights, mean 1
    fear_learning: float
    grievance_decay: float
    trust_decay: float
    leave_threshold: float
    leave_rate: float
    vpn_cost: float
    vpn_adopt_rate: float
    mob_floor: float
    mob_decay: float


class Rules(NamedTuple):
    flag_prob: np.ndarray  # float64 (P, C): chance the filter flags a post
    action: np.ndarray  # int8 (P, C): what a flag leads to
    remove_prob: np.ndarray  # float64 (P, C): chance a reviewer removes a post
    enforced: np.ndarray  # float64 (P, C): severity the platform enforces (0: not enforced)
    state_prohibited: np.ndarray  # float64 (P, C): severity under the state's rulebook
    effort: np.ndarray  # float64 (P,): compliance effort in force
    blocked: np.ndarray  # uint8 (P,)
    live: np.ndarray  # uint8 (P,): not suspended by the state
    intensity: float  # state enforcement intensity (campaigns, adaptive rule), >= 0
    request_boost: float  # multiplier of service requests (disasters)
    now: int  # first minute of the tick


def make_consts(sc: Scenario, n_users: int) -> Consts:
    names = list(sc.platforms)
    plats = [sc.platforms[p] for p in names]
    cats = [getattr(sc.content, c) for c in CATEGORIES]
    scale = n_users / 100_000.0
    juris = sc.state.jurisdiction
    regulated = [(p in juris) if juris is not None else not sc.platforms[p].foreign for p in names]
    diurnal = np.asarray(sc.population.diurnal, dtype=np.float64)
    off = sc.state.officials
    b = sc.behaviour

    def arr(values: list[float], dtype: type = np.float64) -> np.ndarray:
        return np.asarray(values, dtype=dtype)

    return Consts(
        tick_minutes=sc.run.tick_minutes,
        n_users=n_users,
        n_platforms=len(names),
        cat_share=arr([c.share for c in cats]),
        cat_virality=arr([c.virality for c in cats]),
        cat_harm=arr([c.harm_per_view for c in cats]),
        cat_sensitivity=arr([c.sensitivity for c in cats]),
        cat_offense=arr([c.offensiveness for c in cats]),
        cat_gboost=arr([c.grievance_boost for c in cats]),
        legit=arr([c not in sc.baseline.illegitimate for c in CATEGORIES], np.uint8),
        p_private=arr([p.kind == "private" for p in plats], np.uint8),
        p_foreign=arr([p.foreign for p in plats], np.uint8),
        p_regulated=arr(regulated, np.uint8),
        p_see=arr([p.feed.follower_see_chance for p in plats]),
        p_delay=arr([p.feed.see_delay_minutes for p in plats]),
        p_eng_weight=arr([p.feed.engagement_weight for p in plats]),
        p_sens_penalty=arr([p.feed.sensitive_penalty for p in plats]),
        p_vis_reduction=arr([p.moderation.visibility_reduction for p in plats]),
        p_reviewers=arr([p.moderation.reviewers_per_100k_users * scale for p in plats]),
        p_review_rate=arr([p.moderation.reviews_per_reviewer_hour for p in plats]),
        p_rev_lo=arr([p.moderation.reviewer_hours[0] for p in plats], np.int64),
        p_rev_hi=arr([p.moderation.reviewer_hours[1] for p in plats], np.int64),
        p_accuracy=arr([p.moderation.review_accuracy for p in plats]),
        p_reports=arr([p.moderation.reports_enabled for p in plats], np.uint8),
        p_strike_limit=arr([p.moderation.strike_limit for p in plats], np.int64),
        p_suspension_minutes=arr([p.moderation.suspension_days * 1440 for p in plats]),
        p_referral=arr([p.moderation.referral_severity for p in plats]),
        p_appeal=arr([p.appeal for p in plats]),
        severity=sc.state.punishment.severity,
        witness_fear=sc.state.punishment.witness_fear,
        data_access=sc.state.identity.data_access,
        crackdown=sc.state.access.vpn_crackdown,
        answers_per_minute=off.staff_per_100k_users * scale * off.answers_per_staff_hour / 60.0,
        work_lo=off.working_hours[0],
        work_hi=off.working_hours[1],
        give_up_minutes=off.give_up_hours * 60.0,
        resolution=off.resolution_chance,
        paid_burst=sc.state.paid_commenters.burst_multiplier,
        paid_trigger=sc.state.paid_commenters.trigger_share,
        private_displacement=b.private_displacement,
        views_per_day=sc.population.views_per_day,
        diurnal=diurnal * (24.0 / diurnal.sum()),
        fear_learning=b.fear_learning,
        grievance_decay=b.grievance_decay,
        trust_decay=b.trust_decay,
        leave_threshold=b.leave_threshold,
        leave_rate=b.leave_rate_per_day,
        vpn_cost=b.vpn_cost,
        vpn_adopt_rate=b.vpn_adopt_rate_per_day,
        mob_floor=sc.mobilisation.grievance_floor,
        mob_decay=sc.mobilisation.decay_per_day,
    )


class Law(NamedTuple):
    """The state's rulebook in force: severity per category (0: allowed) and precision."""

    prohibited: np.ndarray  # float64 (C,)
    precision: float


def initial_law(sc: Scenario) -> Law:
    prohibited = np.array(
        [getattr(sc.state.rulebook.prohibited, c) for c in CATEGORIES], dtype=np.float64
    )
    if sc.state.identity.accredited_news_only:
        i = CATEGORIES.index("independent_news")
        prohibited[i] = max(prohibited[i], 0.5)
    return Law(prohibited, sc.state.rulebook.precision)


def make_rules(
    sc: Scenario,
    consts: Consts,
    law: Law,
    effort: np.ndarray,
    blocked: np.ndarray,
    live: np.ndarray,
    intensity: float,
    request_boost: float,
    now: int,
) -> Rules:
    """The rules in force this tick.

    Enforced severity: the state's rulebook on regulated platforms that enforce it, and the
    platform's own terms everywhere. Filter: enforced categories are flagged with the
    category's detection rate, others with the false-positive rate plus the vagueness
    margin (1 - precision) x sensitivity on regulated platforms; all scaled by effort and
    by 1 + intensity. Reviewers remove enforced posts with their accuracy, others with
    1 - accuracy plus the same vagueness margin.
    """
    names = list(sc.platforms)
    n_p = len(names)
    sens = consts.cat_sensitivity
    boost = 1.0 + intensity
    flag = np.zeros((n_p, N_CATEGORIES))
    action = np.zeros((n_p, N_CATEGORIES), dtype=np.int8)
    remove = np.zeros((n_p, N_CATEGORIES))
    enforced = np.zeros((n_p, N_CATEGORIES))
    state_prohibited = np.zeros((n_p, N_CATEGORIES))
    for j, name in enumerate(names):
        mod = sc.platforms[name].moderation
        regulated = bool(consts.p_regulated[j])
        if regulated:
            state_prohibited[j] = law.prohibited
        terms = np.array([1.0 if c in mod.terms_prohibited else 0.0 for c in CATEGORIES])
        enforced[j] = np.maximum(terms, state_prohibited[j] if mod.enforce_state_rules else 0.0)
        detection = np.array([getattr(mod.filter.detection, c) for c in CATEGORIES])
        vague = (
            (1.0 - law.precision) * sens if (regulated and mod.enforce_state_rules) else 0.0 * sens
        )
        is_enf = enforced[j] > 0
        e = effort[j]
        flag[j] = np.where(
            is_enf, detection * e * boost, (mod.filter.false_positive + vague * boost) * e
        )
        action[j] = [ACTION[getattr(mod.actions, c)] for c in CATEGORIES]
        acc = mod.review_accuracy
        remove[j] = np.where(is_enf, acc, (1.0 - acc) + vague * boost)
    np.clip(flag, 0.0, 1.0, out=flag)
    np.clip(remove, 0.0, 1.0, out=remove)
    return Rules(
        flag_prob=flag,
        action=action,
        remove_prob=remove,
        enforced=enforced,
        state_prohibited=state_prohibited,
        effort=effort.astype(np.float64),
        blocked=blocked.astype(np.uint8),
        live=live.astype(np.uint8),
        intensity=float(intensity),
        request_boost=float(request_boost),
        now=int(now),
    )


assert ACTIONS[0] == "allow"
