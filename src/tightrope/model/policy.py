"""The regime in force, as small tables the kernels read: constants and per-tick rules.

`Consts` holds what does not change during a run: the scenario compiled once, when the run
starts, by `make_consts` from the declared table `COMPILED` (one row per field: the settings
it reads and how). `Rules` is recomputed at the start of each tick from the scenario, the
laws in force, the state's enforcement intensity (campaigns, the adaptive rule) and each
platform's compliance effort (`make_rules`), so a policy that changes takes effect from the
next tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from tightrope.scenario.content import ACTION, ACTIONS, CATEGORIES, N_CATEGORIES
from tightrope.scenario.schema import Scenario


class Consts(NamedTuple):
    """The compiled scenario the kernels read; each field is one row of `COMPILED`."""

    tick_minutes: int
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
    p_rev_hours: np.ndarray  # int64 (platforms, 2): first hour reviewers work, hour they stop
    p_reports: np.ndarray  # uint8
    p_strike_limit: np.ndarray  # int64
    p_suspension_minutes: np.ndarray
    p_referral: np.ndarray
    p_appeal: np.ndarray
    p_prio_enforced: np.ndarray
    p_prio_reported: np.ndarray
    p_prio_held: np.ndarray
    p_report_delay: np.ndarray  # int64, minutes
    p_idle_carry: np.ndarray
    p_sweep: np.ndarray  # uint8, sweeps after a removal (model.sweeps)
    p_sweep_recall: np.ndarray
    p_sweep_delay: np.ndarray  # int64, minutes
    p_sweep_window: np.ndarray  # minutes
    # (platforms, 3): escalation to a second tier, columns `escalation.ES_*`
    p_escalation: np.ndarray
    # (platforms, 7): statements of reasons and appeals, columns `appeals.AP_*` (one field:
    # a parallel region takes at most 100 fields of a tuple)
    p_appeals: np.ndarray
    # the state
    severity: float
    witness_fear: float
    punished_fear_shock: float
    punished_trust_keep: float
    punished_suspension_days: int
    data_access: float
    crackdown: float
    answers_per_minute: float
    working_hours: np.ndarray  # float64 (2,): officials answer from hour [0] to hour [1]
    give_up_minutes: float
    resolution: float
    paid_burst: float
    expiry_grievance_rise: float
    expiry_trust_fall: float
    resolved_grievance_fall: float
    resolved_trust_rise: float
    unresolved_trust_rise: float
    idle_carry_answers: float
    response_target: float  # minutes; 0: no target (first in, first out)
    staff_shares: np.ndarray  # float64 (queues,): share of the answer staff per queue
    # float64 (regions, 2): each region's multipliers, columns `regions.REGION_*` (one field:
    # a parallel region takes at most 100 fields of a tuple)
    region_rules: np.ndarray
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
    platform_choice_floor: float
    anonymous_risk: float
    grievance_voice: float
    exposure_unregulated: float
    exposure_private: float
    exposure_private_data: float
    satisfaction_step: float
    harm_penalty: float
    removal_penalty: float
    join_chance: float
    vpn_fear_weight: float
    vpn_failure_scale: float
    removal_fear_shock: float
    wrongful_grievance_rise: float
    wrongful_trust_fall: float
    rumor_grievance_rise: float
    criticism_grievance_rise: float
    official_trust_rise: float
    cheerleading_grievance_fall: float
    reshare_base: float
    exposure_weights: np.ndarray  # float64: reshare chance x this at the k-th view of a post
    bad_actor_harm_share: float
    spam_nuisance: float  # dissatisfaction per spam view, in harm units (model.spam)
    call_boost: float
    # authors' own deletions (model.author_deletion)
    ad_share: np.ndarray  # per category
    ad_fear_weight: float
    ad_delay_median: float  # minutes
    ad_delay_sigma: float
    # the feeds' ranking
    age_limit: int
    freshness_minutes: float
    view_engagement: float
    reshare_engagement: float
    # measurement
    wants_foreign_threshold: float


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


# -- the declared route from settings to `Consts` -------------------------------------------


@dataclass(frozen=True)
class Where:
    """What a transform may know besides its settings: the run's size and, for a field
    with one value per platform or per category, whose value it computes."""

    n_users: int
    name: str = ""  # the platform's or the category's name

    @property
    def scale(self) -> float:
        """Staff counts are given per 100,000 users: this many hundred thousands."""
        return self.n_users / 100_000.0


@dataclass(frozen=True)
class Compiled:
    """One field of `Consts`: the settings it is computed from and how.

    `paths` are dotted setting paths from the scenario's root; in a field `over` the
    platforms (or the categories), `*` in a path stands for each platform (each category) in
    turn: `platforms.*.feed.follower_see_chance`. `transform(where, *values)` gets the
    values at `paths`, in order, and gives the field's value (one element of the array for a
    field over the platforms or categories). `dtype`: the element type of a field over the
    platforms or categories. A field of the run is what the transform gives: a Python int or
    float as the settings hold it, or an array (the kernels are compiled for these types, so
    a row must not change them)."""

    field: str
    paths: tuple[str, ...]
    transform: Callable[..., Any]
    over: Literal["run", "platforms", "categories"] = "run"
    dtype: type | None = None


def _same(where: Where, value: Any) -> Any:
    return value


def _setting(field: str, path: str) -> Compiled:
    """A field that is one setting, unchanged."""
    return Compiled(field, (path,), _same)


def _per_platform(
    field: str, path: str, dtype: type = np.float64, transform: Callable[..., Any] = _same
) -> Compiled:
    """A per-platform array of a platform's setting (`path` below `platforms.*.`)."""
    return Compiled(field, (f"platforms.*.{path}",), transform, "platforms", dtype)


def _per_category(field: str, path: str) -> Compiled:
    """A per-category float64 array of a category's setting (`path` below `content.*.`)."""
    return Compiled(field, (f"content.*.{path}",), _same, "categories", np.float64)


def _diurnal(where: Where, weights: list[float]) -> np.ndarray:
    d = np.asarray(weights, dtype=np.float64)
    return d * (24.0 / d.sum())


def _answers_per_minute(where: Where, staff: float, per_hour: float) -> float:
    return staff * where.scale * per_hour / 60.0


def _staff_shares(where: Where, shares: list[float]) -> np.ndarray:
    """One answer queue per region with its share of the staff, or one national queue."""
    return np.asarray(shares if shares else [1.0], dtype=np.float64)


def _region_rules(where: Where, enforcement: list[float], sensitivity: list[float]) -> np.ndarray:
    """Each region's enforcement and sensitivity multipliers (docs/model.md 8.10), one row a
    region; a list left empty is 1 in every region (one row when both are empty)."""
    rows = max(len(enforcement), len(sensitivity), 1)
    out = np.ones((rows, 2), dtype=np.float64)
    if enforcement:
        out[:, 0] = enforcement
    if sensitivity:
        out[:, 1] = sensitivity
    return out


def _regulated(where: Where, jurisdiction: list[str] | None, foreign: bool) -> bool:
    return (where.name in jurisdiction) if jurisdiction is not None else not foreign


COMPILED: tuple[Compiled, ...] = (
    _setting("tick_minutes", "run.tick_minutes"),
    Compiled("n_platforms", ("platforms",), lambda w, platforms: len(platforms)),
    # content categories, in CATEGORIES' order
    _per_category("cat_share", "share"),
    _per_category("cat_virality", "virality"),
    _per_category("cat_harm", "harm_per_view"),
    _per_category("cat_sensitivity", "sensitivity"),
    _per_category("cat_offense", "offensiveness"),
    _per_category("cat_gboost", "grievance_boost"),
    Compiled(
        "legit",
        ("baseline.illegitimate",),
        lambda w, illegitimate: w.name not in illegitimate,
        "categories",
        np.uint8,
    ),
    # platforms, in the scenario's order
    _per_platform("p_private", "kind", np.uint8, lambda w, kind: kind == "private"),
    _per_platform("p_foreign", "foreign", np.uint8),
    Compiled(
        "p_regulated",
        ("state.jurisdiction", "platforms.*.foreign"),
        _regulated,
        "platforms",
        np.uint8,
    ),
    _per_platform("p_see", "feed.follower_see_chance"),
    _per_platform("p_delay", "feed.see_delay_minutes"),
    _per_platform("p_eng_weight", "feed.engagement_weight"),
    _per_platform("p_sens_penalty", "feed.sensitive_penalty"),
    _per_platform("p_vis_reduction", "moderation.visibility_reduction"),
    _per_platform(
        "p_reviewers", "moderation.reviewers_per_100k_users", transform=lambda w, r: r * w.scale
    ),
    _per_platform("p_review_rate", "moderation.reviews_per_reviewer_hour"),
    _per_platform("p_rev_hours", "moderation.reviewer_hours", np.int64, lambda w, h: list(h)),
    _per_platform("p_reports", "moderation.reports_enabled", np.uint8),
    _per_platform("p_strike_limit", "moderation.strike_limit", np.int64),
    _per_platform(
        "p_suspension_minutes", "moderation.suspension_days", transform=lambda w, d: d * 1440
    ),
    _per_platform("p_referral", "moderation.referral_severity"),
    _per_platform("p_appeal", "appeal"),
    _per_platform("p_prio_enforced", "moderation.priority_enforced"),
    _per_platform("p_prio_reported", "moderation.priority_reported"),
    _per_platform("p_prio_held", "moderation.priority_held"),
    _per_platform("p_report_delay", "moderation.report_delay_minutes", np.int64),
    _per_platform("p_idle_carry", "moderation.idle_carry_reviews"),
    _per_platform("p_sweep", "moderation.sweep.enabled", np.uint8),
    _per_platform("p_sweep_recall", "moderation.sweep.recall"),
    _per_platform("p_sweep_delay", "moderation.sweep.delay_minutes", np.int64),
    _per_platform(
        "p_sweep_window", "moderation.sweep.window_hours", transform=lambda w, h: h * 60.0
    ),
    Compiled(
        "p_escalation",
        tuple(
            f"platforms.*.moderation.escalation.{name}"
            for name in ("share", "delay_median_hours", "delay_sigma")
        ),
        lambda w, share, hours, sigma: [float(share), float(hours) * 60.0, float(sigma)],
        "platforms",
        np.float64,
    ),
    Compiled(
        "p_appeals",
        tuple(
            f"platforms.*.moderation.appeals.{name}"
            for name in (
                "enabled",
                "statement_of_reasons",
                "reasons_grievance_cut",
                "appeal_chance_wrongful",
                "appeal_chance_rightful",
                "decision_minutes",
                "reversal_accuracy",
            )
        ),
        lambda w, *values: [float(v) for v in values],
        "platforms",
        np.float64,
    ),
    # the state
    _setting("severity", "state.punishment.severity"),
    _setting("witness_fear", "state.punishment.witness_fear"),
    _setting("punished_fear_shock", "state.punishment.speaker_fear_shock"),
    _setting("punished_trust_keep", "state.punishment.trust_keep"),
    _setting("punished_suspension_days", "state.punishment.suspension_days"),
    _setting("data_access", "state.identity.data_access"),
    _setting("crackdown", "state.access.vpn_crackdown"),
    Compiled(
        "answers_per_minute",
        ("state.officials.staff_per_100k_users", "state.officials.answers_per_staff_hour"),
        _answers_per_minute,
    ),
    Compiled(
        "working_hours",
        ("state.officials.working_hours",),
        lambda w, h: np.array([h[0], h[1]], dtype=np.float64),
    ),
    Compiled("give_up_minutes", ("state.officials.give_up_hours",), lambda w, h: h * 60.0),
    _setting("resolution", "state.officials.resolution_chance"),
    _setting("paid_burst", "state.paid_commenters.burst_multiplier"),
    _setting("expiry_grievance_rise", "state.officials.expiry_grievance_rise"),
    _setting("expiry_trust_fall", "state.officials.expiry_trust_fall"),
    _setting("resolved_grievance_fall", "state.officials.resolved_grievance_fall"),
    _setting("resolved_trust_rise", "state.officials.resolved_trust_rise"),
    _setting("unresolved_trust_rise", "state.officials.unresolved_trust_rise"),
    _setting("idle_carry_answers", "state.officials.idle_carry_answers"),
    Compiled(
        "response_target", ("state.officials.response_target_minutes",), lambda w, t: float(t)
    ),
    Compiled("staff_shares", ("state.officials.region_staff_shares",), _staff_shares),
    Compiled(
        "region_rules", ("state.regions.enforcement", "state.regions.sensitivity"), _region_rules
    ),
    # people
    _setting("private_displacement", "behaviour.private_displacement"),
    _setting("views_per_day", "population.views_per_day"),
    Compiled("diurnal", ("population.diurnal",), _diurnal),
    _setting("fear_learning", "behaviour.fear_learning"),
    _setting("grievance_decay", "behaviour.grievance_decay"),
    _setting("trust_decay", "behaviour.trust_decay"),
    _setting("leave_threshold", "behaviour.leave_threshold"),
    _setting("leave_rate", "behaviour.leave_rate_per_day"),
    _setting("vpn_cost", "behaviour.vpn_cost"),
    _setting("vpn_adopt_rate", "behaviour.vpn_adopt_rate_per_day"),
    _setting("platform_choice_floor", "behaviour.platform_choice_floor"),
    _setting("anonymous_risk", "behaviour.anonymous_risk"),
    _setting("grievance_voice", "behaviour.grievance_voice"),
    _setting("exposure_unregulated", "behaviour.exposure_unregulated"),
    _setting("exposure_private", "behaviour.exposure_private"),
    _setting("exposure_private_data", "behaviour.exposure_private_data"),
    _setting("satisfaction_step", "behaviour.satisfaction_step"),
    _setting("harm_penalty", "behaviour.harm_penalty"),
    _setting("removal_penalty", "behaviour.removal_penalty"),
    _setting("join_chance", "behaviour.join_chance"),
    _setting("vpn_fear_weight", "behaviour.vpn_fear_weight"),
    _setting("vpn_failure_scale", "behaviour.vpn_failure_scale"),
    _setting("removal_fear_shock", "behaviour.removal_fear_shock"),
    _setting("wrongful_grievance_rise", "behaviour.wrongful_grievance_rise"),
    _setting("wrongful_trust_fall", "behaviour.wrongful_trust_fall"),
    _setting("rumor_grievance_rise", "behaviour.rumor_grievance_rise"),
    _setting("criticism_grievance_rise", "behaviour.criticism_grievance_rise"),
    _setting("official_trust_rise", "behaviour.official_trust_rise"),
    _setting("cheerleading_grievance_fall", "behaviour.cheerleading_grievance_fall"),
    _setting("reshare_base", "behaviour.reshare_base"),
    Compiled(
        "exposure_weights",
        ("behaviour.exposure_weights",),
        lambda w, x: np.asarray(x, dtype=np.float64),
    ),
    _setting("bad_actor_harm_share", "behaviour.bad_actor_harm_share"),
    _setting("spam_nuisance", "behaviour.spam_nuisance"),
    _setting("call_boost", "mobilisation.call_boost"),
    # authors' own deletions
    Compiled("ad_share", ("behaviour.author_deletion.share.*",), _same, "categories", np.float64),
    _setting("ad_fear_weight", "behaviour.author_deletion.fear_weight"),
    _setting("ad_delay_median", "behaviour.author_deletion.delay_median_minutes"),
    _setting("ad_delay_sigma", "behaviour.author_deletion.delay_sigma"),
    # the feeds' ranking
    _setting("age_limit", "ranking.age_limit_minutes"),
    _setting("freshness_minutes", "ranking.freshness_minutes"),
    _setting("view_engagement", "ranking.view_engagement"),
    _setting("reshare_engagement", "ranking.reshare_engagement"),
    # measurement
    _setting("wants_foreign_threshold", "metrics.wants_foreign_threshold"),
)
"""The route from the scenario's settings to `Consts`: one row per field, in its order.

Settings that no kernel reads stay out of it; they are read where their rule is computed
in Python (for example `make_rules`, `reactions`, `platforms`). tests/test_params.py checks
that the table covers every field exactly once, that every field is read somewhere, and
that every numeric setting is compiled here or read."""


def setting(sc: Scenario, path: str, name: str = "") -> Any:
    """The value at a dotted setting path; `*` is the platform or category `name`."""
    node: Any = sc
    for part in path.split("."):
        key = name if part == "*" else part
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    return node


def _compile(row: Compiled, sc: Scenario, n_users: int) -> Any:
    if row.over == "run":
        return row.transform(Where(n_users), *(setting(sc, p) for p in row.paths))
    names = list(sc.platforms) if row.over == "platforms" else list(CATEGORIES)
    values = [
        row.transform(Where(n_users, name), *(setting(sc, p, name) for p in row.paths))
        for name in names
    ]
    return np.asarray(values, dtype=row.dtype)


def make_consts(sc: Scenario, n_users: int) -> Consts:
    """The scenario compiled for a run of `n_users` users, row by row of `COMPILED`."""
    return Consts(**{row.field: _compile(row, sc, n_users) for row in COMPILED})


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
