"""The scenario: one typed, validated tree that describes a governance regime and a run.

Every setting has a default, a unit and a range; unknown keys are refused. Counts of staff
are given per 100,000 users so that a scenario means the same at any population size.
`docs/model.md` explains what each setting does in the model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from tightrope.scenario.content import ACTIONS, CATEGORIES, KINDS

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Count = Annotated[int, Field(ge=0)]
Action = Literal["allow", "reduce", "review", "hold", "block"]
assert tuple(Action.__args__) == ACTIONS  # type: ignore[attr-defined]


class Strict(BaseModel):
    """Base of every scenario node: unknown keys are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def _per_category(name: str, annotation: Any, default: Any, doc: str) -> type[Strict]:
    fields = dict.fromkeys(CATEGORIES, (annotation, default))
    model = create_model(name, __base__=Strict, __doc__=doc, **fields)  # type: ignore[call-overload]
    return model


CategoryShares = _per_category(
    "CategoryShares", NonNeg, 0.0, "A non-negative number per content category."
)
CategoryProbabilities = _per_category(
    "CategoryProbabilities", Share, 0.0, "A probability in [0, 1] per content category."
)
CategoryActions = _per_category(
    "CategoryActions", Action, "allow", "What the platform does with a flagged post, per category."
)


class Category(Strict):
    """Properties of one content category."""

    share: NonNeg = Field(0.0, description="relative weight among ordinary users' intents")
    virality: Share = Field(0.02, description="chance that a viewer reshares, before fear")
    harm_per_view: NonNeg = Field(0.0, description="harm units per view (order goal)")
    sensitivity: Share = Field(
        0.0, description="political sensitivity: drives fear and vague removal"
    )
    offensiveness: Share = Field(
        0.0, description="chance a viewer is offended enough to report, x propensity"
    )
    grievance_boost: NonNeg = Field(
        0.0, description="how much grievance raises this intent's weight"
    )


def _default_categories() -> dict[str, Category]:
    return {c: Category() for c in CATEGORIES}


class Content(Strict):
    daily_life: Category = Category(share=0.6, virality=0.02)
    commerce: Category = Category(share=0.05, virality=0.01)
    service_request: Category = Category(share=0.03, virality=0.01, grievance_boost=2.0)
    criticism: Category = Category(share=0.06, virality=0.04, sensitivity=0.5, grievance_boost=3.0)
    collective_action: Category = Category(
        share=0.005, virality=0.06, sensitivity=0.9, grievance_boost=6.0
    )
    rumor: Category = Category(share=0.03, virality=0.06, harm_per_view=0.1, sensitivity=0.3)
    illegal_harm: Category = Category(
        share=0.002, virality=0.03, harm_per_view=1.0, sensitivity=0.2, offensiveness=0.05
    )
    official: Category = Category(virality=0.01)
    accredited_news: Category = Category(virality=0.03)
    independent_news: Category = Category(virality=0.04, sensitivity=0.4)
    cheerleading: Category = Category(virality=0.005)
    # written by spammers (population.kinds.spammer); ordinary users' share 0 (docs/model.md 7.10)
    spam: Category = Category(virality=0.005, offensiveness=0.02)


class Baseline(Strict):
    """The evaluation baseline: which categories count as legitimate speech.

    Separate from any regime's rulebook, so a run can report "removed although legitimate"."""

    illegitimate: list[str] = Field(default_factory=lambda: ["illegal_harm", "spam"])


SHARE_TOLERANCE = 1e-6
"""How far from 1 the shares of the kinds of account may add up (rounding in a file)."""

EXPOSURE_WEIGHTS_MAX = 16
"""Most values of `behaviour.exposure_weights` (a viewer's count of views of a post is kept
up to 255; weights beyond the 16th view would not be told apart in practice)."""


class KindShares(Strict):
    """Shares of accounts by kind: each in [0, 1], adding up to 1. `ordinary` is the rest
    (1 minus the others) when it is written "rest", or left out of a table that gives other
    kinds; `scenario_files` also makes it the rest when a file that extends another, or a
    `--set`, changes other kinds but not it. The validated value is that number."""

    ordinary: Share = 0.95
    influencer: Share = 0.005
    media_accredited: Share = 0.001
    media_independent: Share = 0.001
    commercial: Share = 0.03
    bad_actor: Share = 0.01
    paid_commenter: Share = 0.0
    official: Share = 0.003
    spammer: Share = 0.0

    @model_validator(mode="before")
    @classmethod
    def _ordinary_is_the_rest(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data or data.get("ordinary", "rest") != "rest":
            return data
        others = [data.get(k, f.default) for k, f in cls.model_fields.items() if k != "ordinary"]
        numbers = (isinstance(v, int | float) and not isinstance(v, bool) for v in others)
        if not all(numbers) or not all(0 <= v <= 1 for v in others):
            return {**data, "ordinary": 0.0}  # the others' own problems are reported
        given = float(sum(others))
        if given > 1.0 + SHARE_TOLERANCE:
            raise ValueError(
                f"the kinds other than ordinary add up to {given:.6g}, more than 1, which "
                "leaves nothing for ordinary (the shares are each in [0, 1] and add up to 1)"
            )
        # rounded, so that the rest of shares written in decimals is that decimal
        return {**data, "ordinary": round(max(0.0, 1.0 - given), 12)}

    @model_validator(mode="after")
    def _add_up_to_one(self) -> KindShares:
        total = sum(self.model_dump().values())
        if total <= 0:
            raise ValueError("the shares must not all be zero")
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(
                f"the shares of the kinds of account must add up to 1, not {total:.6g}; "
                'leave out ordinary, or write ordinary = "rest", to make it 1 minus the others'
            )
        return self


assert tuple(KindShares.model_fields) == KINDS


class KindActivity(Strict):
    """How many times more an account of each kind posts than an ordinary posting user
    (official accounts and paid commenters post at their own `posts_per_day` instead)."""

    ordinary: NonNeg = 1.0
    influencer: NonNeg = 10.0
    media_accredited: NonNeg = 20.0
    media_independent: NonNeg = 10.0
    commercial: NonNeg = 5.0
    bad_actor: NonNeg = 5.0
    paid_commenter: NonNeg = 1.0
    official: NonNeg = 1.0
    spammer: NonNeg = 10.0


class KindPopularity(Strict):
    """How many times more likely an account of each kind is to be followed than an
    ordinary one of the same drawn popularity."""

    ordinary: Positive = 1.0
    influencer: Positive = 200.0
    media_accredited: Positive = 100.0
    media_independent: Positive = 50.0
    commercial: Positive = 3.0
    bad_actor: Positive = 1.0
    paid_commenter: Positive = 1.0
    official: Positive = 50.0
    spammer: Positive = 0.2


assert tuple(KindActivity.model_fields) == KINDS == tuple(KindPopularity.model_fields)


class Spreads(Strict):
    """Standard deviations of people's initial traits around their means (normal draws,
    clipped to their ranges): satisfaction with each platform around its appeal, and
    trust, susceptibility, fear, voice and stance around the population's means."""

    satisfaction: NonNeg = 0.15
    trust: NonNeg = 0.15
    susceptibility: NonNeg = 0.15
    fear: NonNeg = 0.05
    voice: NonNeg = 0.2
    stance: NonNeg = 0.4


DEFAULT_DIURNAL = [
    0.55, 0.35, 0.2, 0.15, 0.15, 0.25, 0.5, 0.8, 1.0, 1.05, 1.1, 1.15,
    1.25, 1.15, 1.05, 1.05, 1.1, 1.2, 1.35, 1.5, 1.65, 1.7, 1.45, 1.0,
]  # fmt: skip


class Turnover(Strict):
    """People leaving and newcomers taking their place (docs/model.md 5.11)."""

    leave_per_day: Share = Field(
        0.0, description="daily chance an ordinary user or bad actor leaves (0: no turnover)"
    )
    exit_weight: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        0.0,
        description="the chance is raised by this x (1 - the user's best satisfaction with a "
        "platform they belong to)",
    )


class Population(Strict):
    kinds: KindShares = KindShares()
    posts_per_day_median: NonNeg = Field(0.25, description="median intents/day of a posting user")
    activity_sigma: NonNeg = Field(1.5, description="log-sd of the lognormal activity rate")
    lurker_share: Share = Field(0.5, description="accounts that never post")
    views_per_day: NonNeg = Field(20.0, description="feed slots a user looks at per day")
    stance_mean: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    grievance_mean: Share = 0.2
    fear_mean: Share = 0.1
    trust_mean: Share = 0.5
    susceptibility_mean: Share = 0.3
    report_propensity_mean: Share = 0.05
    voice_mean: Share = Field(0.5, description="mean wish to speak, against fear")
    diurnal: list[NonNeg] = Field(default_factory=lambda: list(DEFAULT_DIURNAL))
    activity_multiplier: KindActivity = KindActivity()
    popularity_boost: KindPopularity = KindPopularity()
    spread: Spreads = Spreads()
    turnover: Turnover = Turnover()
    foreign_demand_users: NonNeg = Field(
        1.3, description="demand for foreign platforms of their users, x a Beta(2, 2) draw"
    )
    foreign_demand_others: NonNeg = Field(
        0.5, description="demand for foreign platforms of everyone else, x a Beta(2, 2) draw"
    )

    # field validators, not model validators: they run even when another field fails,
    # so that every problem is listed at once
    @field_validator("diurnal")
    @classmethod
    def _diurnal_len(cls, diurnal: list[float]) -> list[float]:
        if len(diurnal) != 24:
            raise ValueError(f"must have 24 hourly values, not {len(diurnal)}")
        if sum(diurnal) <= 0:
            raise ValueError("must have at least one positive value")
        return diurnal


class Network(Strict):
    """The follower graph: drawn (`source = "synthetic"`) or read from a file.

    The `structured` generator (the default; `tightrope.model.follow_graph`) builds regions
    of heavy-tailed communities, lognormal out-degree, a Zipf-Mandelbrot popularity whose
    head is set by `accounts_over_share`, triadic closure and follow-backs; each setting's
    target and source are in docs/model.md section 4. The `independent` generator is the
    earlier one (follows drawn independently from a capped Pareto popularity table), kept
    for comparison: only `mean_following`, `popularity_alpha`, `max_follower_share` and
    `circle_size` apply to it."""

    source: Literal["synthetic", "edge_list"] = "synthetic"
    generator: Literal["structured", "independent"] = Field(
        "structured", description="how a synthetic graph is drawn"
    )
    edge_list: str = Field(
        "", description="path of a whitespace-separated 'follower followee' file"
    )
    node_attributes: str = Field(
        "",
        description="edge list only: path of a CSV table of node attributes, with a column "
        "'id' and any of 'kind', 'region', 'platforms' (names separated by ';')",
    )
    mean_following: NonNeg = Field(40.0, description="mean accounts a user follows")
    out_degree_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        1.2, description="structured: log-sd of the lognormal number of accounts followed"
    )
    max_following: Annotated[int, Field(ge=1)] = Field(
        5000, description="structured: the most accounts one user follows"
    )
    popularity_exponent: Annotated[float, Field(gt=1.0, le=5.0)] = Field(
        2.2, description="structured: tail exponent of the in-degree density"
    )
    top_share: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.1, description="structured: the audience share that counts as national reach"
    )
    accounts_over_share: Annotated[float, Field(gt=0.0, le=1000.0)] = Field(
        3.0, description="structured: expected accounts followed by more than top_share"
    )
    community_share: Share = Field(
        0.4, description="structured: share of drawn follows inside the user's community"
    )
    region_share: Share = Field(
        0.25, description="structured: share of drawn follows elsewhere in the user's region"
    )
    closure_share: Share = Field(
        0.45, description="structured: share of follows to followees' followees"
    )
    closure_local_tries: Annotated[int, Field(ge=0, le=10)] = Field(
        5, description="structured: of 10 tries for a closure follow, those kept in the community"
    )
    reciprocity: Share = Field(
        0.22,
        description="structured: target share of follows returned (edges whose reverse exists)",
    )
    follow_back_half_degree: Annotated[float, Field(gt=0.0)] = Field(
        200.0, description="structured: followers at which an account returns follows half as often"
    )
    regions: list[Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=lambda: [1.0],
        description="structured: shares of users in each region (normalised), 1 to 64 regions",
    )
    community_min_size: Annotated[int, Field(ge=2)] = Field(
        20, description="structured: smallest community"
    )
    community_max_size: Annotated[int, Field(ge=2)] = Field(
        2000, description="structured: largest community"
    )
    community_max_region_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.02, description="structured: largest community as a share of its region"
    )
    community_size_exponent: Annotated[float, Field(gt=1.0, le=5.0)] = Field(
        2.2, description="structured: Pareto exponent of community sizes"
    )
    popularity_alpha: Annotated[float, Field(gt=1.0, le=5.0)] = Field(
        2.1, description="independent: Pareto tail exponent of in-degree"
    )
    max_follower_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.2, description="independent: largest expected share of users following one account"
    )
    circle_size: Annotated[int, Field(ge=2, le=200)] = Field(8, description="private circle size")

    @model_validator(mode="after")
    def _edge_list_needed(self) -> Network:
        if self.source == "edge_list" and not self.edge_list:
            raise ValueError("source = 'edge_list' needs network.edge_list, a file path")
        if self.node_attributes and self.source != "edge_list":
            raise ValueError(
                "network.node_attributes is for an edge list (source = 'edge_list'); a "
                "synthetic network draws its users' kinds, regions and platforms"
            )
        local = self.community_share + self.region_share
        if local > 1.0 + SHARE_TOLERANCE:
            raise ValueError(
                f"community_share + region_share is {local:.6g}: they are shares of the "
                "same follows and must add up to at most 1"
            )
        if self.community_min_size > self.community_max_size:
            raise ValueError(
                f"community_min_size ({self.community_min_size}) is larger than "
                f"community_max_size ({self.community_max_size})"
            )
        if not 1 <= len(self.regions) <= 64:
            raise ValueError(f"regions: 1 to 64 region shares, got {len(self.regions)}")
        return self


class Filter(Strict):
    detection: CategoryProbabilities = CategoryProbabilities()  # type: ignore[valid-type]
    false_positive: Share = Field(0.0, description="chance a legitimate post is flagged")
    cost_per_1000_posts: NonNeg = 0.05


class Sweep(Strict):
    """A keyword sweep: after a review or the regulator removes a published post of a
    category the platform enforces, the platform searches its recent posts of that category
    (docs/model.md 7.8)."""

    enabled: bool = Field(False, description="the platform sweeps after a removal")
    recall: Share = Field(
        0.5,
        description="chance a sweep finds a matching post, x the filter's flag chance of the "
        "category (detection x effort)",
    )
    delay_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        15, description="minutes from the removal that triggers it to the sweep"
    )
    window_hours: Annotated[float, Field(gt=0.0, le=72.0)] = Field(
        24.0, description="a sweep searches the posts published in the last this many hours"
    )


class Escalation(Strict):
    """Hard cases: a share of a reviewer's removals go to a second tier (a legal team,
    senior reviewers), which takes days, not minutes; meanwhile the post stays as it was
    (docs/model.md 7.11)."""

    share: Share = Field(
        0.0, description="share of a reviewer's removal decisions escalated to a second tier"
    )
    delay_median_hours: Annotated[float, Field(gt=0.0, le=720.0)] = Field(
        48.0, description="median hours from the review to the second tier's removal"
    )
    delay_sigma: Annotated[float, Field(ge=0.0, le=3.0)] = Field(
        1.0, description="spread of the second tier's delay (sigma of its logarithm)"
    )


class Appeals(Strict):
    """Statements of reasons and appeals of removals, the EU Digital Services Act's arts. 17
    and 20 (docs/model.md 7.9)."""

    enabled: bool = Field(False, description="authors may appeal the platform's removals")
    statement_of_reasons: bool = Field(
        False, description="a removed author is told why (DSA art. 17): less grievance"
    )
    reasons_grievance_cut: Share = Field(
        0.3,
        description="share of a wrongful removal's grievance rise a statement of reasons cuts",
    )
    appeal_chance_wrongful: Share = Field(
        0.05, description="chance the author of a wrongly removed (legitimate) post appeals"
    )
    appeal_chance_rightful: Share = Field(
        0.01, description="chance the author of a rightly removed post appeals"
    )
    decision_minutes: Annotated[int, Field(ge=1, le=2880)] = Field(
        1440, description="minutes from the removal to the appeal's decision"
    )
    reversal_accuracy: Share = Field(
        0.8,
        description="chance an appeal of a wrongful removal reverses it (and one of a rightful "
        "removal upholds it)",
    )

    @model_validator(mode="after")
    def _wrongful_appeal_more(self) -> Appeals:
        if self.appeal_chance_rightful > self.appeal_chance_wrongful:
            raise ValueError(
                f"appeal_chance_rightful ({self.appeal_chance_rightful}) must not exceed "
                f"appeal_chance_wrongful ({self.appeal_chance_wrongful})"
            )
        return self


class Moderation(Strict):
    terms_prohibited: list[str] = Field(
        default_factory=list, description="categories the platform's own terms forbid"
    )
    enforce_state_rules: bool = True
    filter: Filter = Filter()
    actions: CategoryActions = CategoryActions()  # type: ignore[valid-type]
    reviewers_per_100k_users: NonNeg = 0.0
    reviews_per_reviewer_hour: NonNeg = 60.0
    reviewer_hours: tuple[int, int] = (0, 24)
    review_accuracy: Share = 0.95
    reports_enabled: bool = True
    strike_limit: Annotated[int, Field(ge=1)] = 3
    suspension_days: NonNeg = 7.0
    referral_severity: Share = Field(1.0, description="refer removed posts at least this severe")
    visibility_reduction: Share = Field(0.8, description="share of reach cut by 'reduce'")
    priority_enforced: NonNeg = Field(
        10.0,
        description="review-queue priority per unit of the category's enforced severity "
        "(enforced items are reviewed first)",
    )
    priority_reported: NonNeg = Field(
        2.0, description="review-queue priority added to a reported post"
    )
    priority_held: NonNeg = Field(
        1.0, description="review-queue priority added to a post held before publication"
    )
    report_delay_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        1, description="minutes from a user's report to the post's arrival in the review queue"
    )
    idle_carry_reviews: NonNeg = Field(
        1.0,
        description="reviews' worth of unused capacity an idle review team carries into the "
        "next minute (an idle team does not bank time)",
    )
    sweep: Sweep = Sweep()
    escalation: Escalation = Escalation()
    appeals: Appeals = Appeals()


class Feed(Strict):
    engagement_weight: NonNeg = Field(1.0, description="0 = chronological, 1 = by engagement")
    sensitive_penalty: Share = Field(0.0, description="ranking cut for sensitive content")
    follower_see_chance: Share = Field(0.25, description="chance a follower sees a post")
    see_delay_minutes: NonNeg = Field(90.0, description="mean delay from post to follower view")


class Economics(Strict):
    ad_revenue_per_1000_views: NonNeg = 1.0
    commerce_revenue_per_post: NonNeg = 0.5
    reviewer_cost_per_hour: NonNeg = 5.0
    fixed_cost_per_day: NonNeg = 0.0
    running_cost_share: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.0,
        description="cost of running the platform (servers, staff, sales: everything but "
        "moderation) as a share of its revenue, so that margins do not depend on the run's "
        "size and no view or user costs more than it earns",
    )
    advertiser_harm_tolerance: NonNeg = Field(
        1.0,
        description="advertisers' brand safety: the harm per view (views weighted by their "
        "category's harm) above which they pay less for ads",
    )
    advertiser_harm_sensitivity: NonNeg = Field(
        0.0,
        description="share of ad revenue lost per unit of harm per view above the tolerance "
        "(0: advertisers do not care)",
    )


class Compliance(Strict):
    mode: Literal["fixed", "adaptive"] = "fixed"
    effort: Share = Field(1.0, description="scales detection and reviewers in [0, 1]")
    adapt_every_days: Annotated[float, Field(gt=0)] = 7.0
    effort_levels: Annotated[int, Field(ge=2, le=1001)] = Field(
        21,
        description="adaptive: the efforts chosen among, evenly spaced from 0 to 1 "
        "(21: 0, 0.05, ..., 1)",
    )
    min_miss_share: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        0.05,
        description="adaptive: the least share of prohibited views the platform assumes its "
        "filter lets through when it infers their share before filtering",
    )
    horizon_days: Annotated[float, Field(gt=0.0, le=36500.0)] = Field(
        365.0,
        description="adaptive: days of revenue at which the platform values a permanent loss "
        "(its licence withdrawn)",
    )


class Platform(Strict):
    kind: Literal["public", "private"] = "public"
    foreign: bool = False
    adoption: Share = Field(0.5, description="share of users who use it at the start")
    appeal: Share = Field(0.5, description="intrinsic attractiveness")
    feed: Feed = Feed()
    moderation: Moderation = Moderation()
    economics: Economics = Economics()
    compliance: Compliance = Compliance()


class Rulebook(Strict):
    prohibited: CategoryProbabilities = CategoryProbabilities()  # type: ignore[valid-type]
    precision: Share = Field(1.0, description="1 = precise wording; vaguer widens removals")


class Inspection(Strict):
    staff_per_100k_users: NonNeg = 0.0
    checks_per_staff_hour: NonNeg = 20.0
    fine_per_violation: NonNeg = 0.0
    fine_growth: NonNeg = Field(0.0, description="fine rise per repeat violation in a window")
    suspend_after_violations: Annotated[int, Field(ge=0)] = 0
    suspension_days: NonNeg = 1.0


SANCTION_STEPS = ("naming", "revenue_fine", "suspension", "licence_withdrawal")
"""The sanctions a law may provide, in `state.sanctions.ladder` (docs/model.md 8.9)."""
SanctionStep = Literal["naming", "revenue_fine", "suspension", "licence_withdrawal"]
assert tuple(SanctionStep.__args__) == SANCTION_STEPS  # type: ignore[attr-defined]


class Sanctions(Strict):
    ladder: list[SanctionStep] = Field(
        default_factory=list,
        description="the escalation the law provides, in order; empty: none beyond the fine "
        "per violation",
    )
    review_every_days: Annotated[float, Field(gt=0.0, le=365.0)] = Field(
        7.0, description="days between the state's reviews of each platform's record"
    )
    tolerated_violation_share: Share = Field(
        0.05,
        description="share of the state's checks on a platform that may find a violation "
        "before the platform moves up the ladder",
    )
    evidence_z: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        1.645,
        description="the state acts on evidence: violations must exceed the tolerated share "
        "of checks by this many standard errors (1.645: a one-sided 5% test; 0: any excess)",
    )
    required_effort: Share = Field(
        0.0,
        description="an audit at each review: a platform whose moderation effort is below "
        "this breaches the law (0: no audit)",
    )
    min_checks: Annotated[int, Field(ge=1)] = Field(
        20, description="checks on a platform the state needs before it judges its record"
    )
    clean_reviews_to_step_down: Annotated[int, Field(ge=1)] = Field(
        4, description="reviews within tolerance in a row after which a platform steps down"
    )
    revenue_fine_share: Share = Field(
        0.06, description="a revenue fine: this share of the platform's annual revenue"
    )
    repeat_growth: NonNeg = Field(
        1.0, description="each earlier revenue fine raises the next by this share"
    )
    naming_advertiser_loss: Share = Field(
        0.1, description="share of ad revenue a publicly named platform loses"
    )
    naming_days: Annotated[float, Field(ge=0.0, le=3650.0)] = Field(
        30.0, description="days the loss of a public naming lasts"
    )
    suspension_days: Annotated[float, Field(ge=0.0, le=3650.0)] = Field(
        7.0, description="days a suspended platform is offline"
    )
    scrutiny_per_step: NonNeg = Field(
        0.5,
        description="inspections rise by this share per step of the highest-placed platform",
    )


class Punishment(Strict):
    severity: Share = Field(0.0, description="harshness of punishing identified speakers")
    witness_fear: Share = Field(0.1, description="fear added to followers of a punished user")
    speaker_fear_shock: Share = Field(
        0.5, description="fear shock to a punished speaker (a share of the way to 1)"
    )
    trust_keep: Share = Field(0.8, description="share of a punished speaker's trust that remains")
    suspension_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        7, description="days a punished speaker's account is suspended at severity 1"
    )


class Access(Strict):
    blocked: list[str] = Field(default_factory=list)
    vpn_crackdown: Share = 0.0


class Identity(Strict):
    real_name: Share = Field(0.0, description="share of users registered with their real name")
    data_access: Share = Field(0.0, description="state access to platform data")
    accredited_news_only: bool = False


class Officials(Strict):
    posts_per_day: NonNeg = 0.0
    staff_per_100k_users: NonNeg = 0.0
    answers_per_staff_hour: NonNeg = 4.0
    working_hours: tuple[int, int] = (9, 18)
    resolution_chance: Share = 0.5
    give_up_hours: Annotated[float, Field(gt=0)] = 72.0
    expiry_grievance_rise: Share = Field(
        0.1, description="grievance a requester gains when their request is abandoned"
    )
    expiry_trust_fall: Share = Field(
        0.05, description="trust a requester loses when their request is abandoned"
    )
    resolved_grievance_fall: Share = Field(
        0.2, description="grievance a requester loses when an answer resolves their problem"
    )
    resolved_trust_rise: Share = Field(
        0.1, description="trust a requester gains when an answer resolves their problem"
    )
    unresolved_trust_rise: Share = Field(
        0.02, description="trust a requester gains from an answer that does not resolve it"
    )
    idle_carry_answers: NonNeg = Field(
        1.0,
        description="answers' worth of unused capacity idle staff carry into the next minute "
        "(idle staff do not bank time)",
    )
    response_target_minutes: Annotated[int, Field(ge=0, le=10080)] = Field(
        0,
        description="minutes within which officials aim to answer; with a target, staff "
        "answer the requests that can still meet it (oldest first) before overdue ones; "
        "0: no target, first in first out",
    )
    region_staff_shares: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
        default_factory=list,
        description="shares of the answer staff in each region of network.regions (one "
        "share a region, adding up to 1): each region's staff answer its own users' "
        "requests; empty: one national pool",
    )


class Regions(Strict):
    """Provincial differences in the state's enforcement (docs/model.md 8.10): one
    multiplier per region of network.regions; empty lists mean 1 in every region."""

    enforcement: list[Annotated[float, Field(ge=0.0, le=10.0)]] = Field(
        default_factory=list,
        description="per region of network.regions: multiplier of the chance that a referred "
        "author of the region is punished (the local police's zeal; the chance is capped at "
        "1); empty: 1 everywhere",
    )
    sensitivity: list[Annotated[float, Field(ge=0.0, le=10.0)]] = Field(
        default_factory=list,
        description="per region of network.regions: multiplier of the severity the local "
        "authorities see in a removed prohibited post of the region's users when they decide "
        "whether it is referred to them; empty: 1 everywhere",
    )


class PaidCommenters(Strict):
    posts_per_day: NonNeg = 2.0
    burst_multiplier: NonNeg = Field(10.0, description="rate multiplier in sensitive moments")
    trigger_share: Share = Field(
        0.02,
        description="rise of the sensitive share of posts above its daily average that "
        "starts a burst",
    )


class Adaptive(Strict):
    enabled: bool = False
    mobilisation_threshold: Share = 0.001
    discontent_threshold: Share = 0.5
    step: Share = 0.1
    max_intensity: NonNeg = 1.0


class State(Strict):
    jurisdiction: list[str] | None = Field(
        None, description="platforms the state regulates; default: all domestic ones"
    )
    rulebook: Rulebook = Rulebook()
    inspection: Inspection = Inspection()
    sanctions: Sanctions = Sanctions()
    punishment: Punishment = Punishment()
    access: Access = Access()
    identity: Identity = Identity()
    officials: Officials = Officials()
    regions: Regions = Regions()
    paid_commenters: PaidCommenters = PaidCommenters()
    adaptive: Adaptive = Adaptive()


class Mobilisation(Strict):
    threshold_mean: NonNeg = Field(3.0, description="calls seen (x grievance) to mobilise")
    threshold_sd: NonNeg = 1.0
    grievance_floor: Share = 0.3
    critical_mass: Share = Field(0.002, description="mobilised share that makes an incident")
    decay_per_day: Share = 0.5
    threshold_floor: NonNeg = Field(0.5, description="lowest mobilisation threshold drawn")
    peer_threshold_mean: Share = Field(
        0.2,
        description="mean share of the accounts a user follows that must be mobilised before "
        "the user joins (Granovetter 1978); 0 with spread 0: calls seen alone decide",
    )
    peer_threshold_sd: NonNeg = Field(
        0.1,
        description="spread of the peer threshold (normal, clipped to [0, 1]; those drawn at 0 "
        "are instigators, who need no one)",
    )
    call_boost: NonNeg = Field(
        20.0,
        description="weight multiplier of calls to collective action in a mobilised user's posts",
    )
    incident_relief: Share = Field(
        0.0,
        description="share of their grievance and of their calls seen that those taking "
        "part in an offline incident give up (they have acted; 0: nothing changes)",
    )


class AuthorDeletion(Strict):
    """Authors deleting their own published posts (docs/model.md 5.10)."""

    share: CategoryProbabilities = Field(  # type: ignore[valid-type]
        default_factory=CategoryProbabilities,
        description="chance an author deletes a published post of the category, before fear",
    )
    fear_weight: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.0,
        description="the chance is raised by this x the author's fear x the category's "
        "sensitivity (people delete what they fear)",
    )
    delay_median_minutes: Annotated[float, Field(gt=0.0, le=4320.0)] = Field(
        60.0, description="median minutes from publication to the deletion (lognormal)"
    )
    delay_sigma: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        2.0, description="spread of the log of the delay (lognormal sigma)"
    )


class Behaviour(Strict):
    fear_learning: Share = Field(0.05, description="daily pull of fear toward perceived risk")
    grievance_decay: Share = 0.05
    trust_decay: Share = 0.02
    leave_threshold: Share = 0.25
    leave_rate_per_day: Share = 0.05
    vpn_cost: Share = Field(0.3, description="hassle of a VPN against wanting the platform")
    vpn_adopt_rate_per_day: Share = 0.05
    private_displacement: Share = Field(
        0.5, description="suppressed intents sent to a private circle"
    )
    platform_choice_floor: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.01,
        description="added to satisfaction in the weight of a platform a user posts on or "
        "looks at a feed on",
    )
    anonymous_risk: Share = Field(
        0.5, description="share of the risk of speaking felt by a speaker the state cannot identify"
    )
    grievance_voice: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.5, description="wish to speak added per unit of grievance, for grievance topics"
    )
    exposure_unregulated: Share = Field(
        0.2, description="visibility to the state of a post on a foreign or unregulated platform"
    )
    exposure_private: Share = Field(
        0.3, description="visibility to the state of a post on a regulated private platform"
    )
    exposure_private_data: Share = Field(
        0.7,
        description="added to exposure_private per unit of the state's data access",
    )
    satisfaction_step: Share = Field(
        0.2, description="share of the gap to its target that satisfaction closes in a day"
    )
    harm_penalty: Annotated[float, Field(ge=0.0, le=100.0)] = Field(
        2.0,
        description="satisfaction target lost per unit of harm per view seen on the platform",
    )
    removal_penalty: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.2, description="satisfaction target lost per own post removed that day"
    )
    join_chance: Share = Field(
        0.5, description="chance a user who leaves a platform joins the most appealing other"
    )
    vpn_fear_weight: Share = Field(
        0.5, description="how much fear lowers the demand for a blocked foreign platform"
    )
    vpn_failure_scale: Share = Field(
        0.3, description="daily chance a VPN fails at full crackdown (x vpn_crackdown)"
    )
    removal_fear_shock: Share = Field(
        0.05, description="fear shock to an author whose post is removed (a share of the way to 1)"
    )
    wrongful_grievance_rise: Share = Field(
        0.05, description="grievance an author gains when a legitimate post of theirs is removed"
    )
    wrongful_trust_fall: Share = Field(
        0.03, description="trust an author loses when a legitimate post of theirs is removed"
    )
    rumor_grievance_rise: Share = Field(
        0.01, description="grievance a viewer of susceptibility 1 gains from a rumour seen"
    )
    criticism_grievance_rise: Share = Field(
        0.005, description="grievance a viewer of susceptibility 1 gains from criticism seen"
    )
    official_trust_rise: Share = Field(
        0.002, description="trust a viewer gains from an official post seen"
    )
    cheerleading_grievance_fall: Share = Field(
        0.002, description="grievance a viewer loses to cheerleading seen (distraction)"
    )
    reshare_base: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.5,
        description="reshare propensity of a viewer of susceptibility 0 (added to susceptibility)",
    )
    bad_actor_harm_share: Share = Field(
        0.7, description="share of a bad actor's posts that are illegal harm (the rest: rumours)"
    )
    exposure_weights: list[Annotated[float, Field(ge=0.0, le=10.0)]] = Field(
        default_factory=lambda: [1.0],
        description="reshare chance multiplied by this at a viewer's 1st, 2nd, 3rd, ... view "
        "of the same post (the last value for every later view; all 1: no memory of views)",
    )
    spam_nuisance: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.5,
        description="dissatisfaction a spam view adds to the viewer's day, in units of harm "
        "per view (the satisfaction target falls by harm_penalty x this x the day's share of "
        "spam views; not harm: the order goal does not count it)",
    )
    author_deletion: AuthorDeletion = AuthorDeletion()

    @field_validator("exposure_weights")
    @classmethod
    def _exposure_weights_len(cls, weights: list[float]) -> list[float]:
        if not 1 <= len(weights) <= EXPOSURE_WEIGHTS_MAX:
            raise ValueError(
                f"must have 1 to {EXPOSURE_WEIGHTS_MAX} values (the weight at the 1st, 2nd, "
                f"... view of a post), not {len(weights)}"
            )
        return weights

    @model_validator(mode="after")
    def _exposure_at_most_one(self) -> Behaviour:
        top = self.exposure_private + self.exposure_private_data
        if top > 1.0 + SHARE_TOLERANCE:
            raise ValueError(
                f"exposure_private + exposure_private_data is {top:.6g}: a post on a private "
                "platform cannot be more visible to the state than one on a public platform (1)"
            )
        return self


class Event(Strict):
    kind: Literal["scandal", "disaster", "block", "unblock", "campaign", "law"]
    day: NonNeg
    duration_days: NonNeg = 1.0
    magnitude: NonNeg = 0.3
    share: Share = 0.2
    platform: str = ""
    prohibit: list[str] = Field(default_factory=list)
    precision: Share | None = None

    @model_validator(mode="after")
    def _platform_needed(self) -> Event:
        if self.kind in ("block", "unblock") and not self.platform:
            raise ValueError(f"a '{self.kind}' event needs 'platform'")
        return self


class RandomEvents(Strict):
    scandals_per_30_days: NonNeg = 0.0
    disasters_per_30_days: NonNeg = 0.0
    magnitude: NonNeg = 0.3
    share: Share = 0.2
    duration_days: NonNeg = Field(3.0, description="how long a random scandal or disaster lasts")


class Ranking(Strict):
    """How the public feeds' candidates are chosen and scored (shared by all platforms)."""

    age_limit_minutes: Annotated[int, Field(ge=60, le=2880)] = Field(
        1440, description="posts older than this are no longer feed candidates"
    )
    freshness_minutes: Annotated[float, Field(gt=0.0, le=10080.0)] = Field(
        360.0, description="time constant of a post's freshness, exp(-age / this)"
    )
    view_engagement: NonNeg = Field(1.0, description="engagement a post gains per view")
    reshare_engagement: NonNeg = Field(2.0, description="engagement a post gains per reshare")


class FreedomWeights(Strict):
    """Weights of the freedom score's parts (docs/model.md 11.1): the points of the Freedom
    on the Net indicators (Freedom House 2023 methodology) that each part stands for, so
    that a part counts as much in the score as what it measures counts in the index."""

    access: NonNeg = Field(
        12.0, description="reach of blocked platforms (FOTN B1 blocking 6 + A3 connectivity 6)"
    )
    wrongful_removal: NonNeg = Field(
        8.0, description="legitimate posts removed (FOTN B2 removal 4 + B3 arbitrariness 4)"
    )
    self_censorship: NonNeg = Field(4.0, description="intents suppressed (FOTN B4 4)")
    criticism_reach: NonNeg = Field(
        10.0, description="criticism seen (FOTN B7 diversity 4 + B8 mobilisation 6)"
    )
    punishment: NonNeg = Field(
        15.0,
        description="users punished for legitimate posts (FOTN C2 penalties 4 + C3 "
        "imprisonment 6 + C7 intimidation 5)",
    )
    identifiability: NonNeg = Field(
        10.0, description="users the state can identify (FOTN C4 anonymity 4 + C5 surveillance 6)"
    )
    requests_answered: NonNeg = Field(
        4.0,
        description="citizens' requests answered (not in FOTN; the brief's convenience of "
        "interaction, weighed as one FOTN indicator)",
    )

    @model_validator(mode="after")
    def _some_weight(self) -> FreedomWeights:
        if not any(getattr(self, name) > 0 for name in type(self).model_fields):
            raise ValueError("at least one freedom weight must be above 0")
        return self


class Metrics(Strict):
    """Reference points of the goal scores (docs/model.md 11.1). A part mapped by `sat` scores
    0.5 at its reference; the reach of criticism is a share of a free society's. The rates
    are per 30 days, so that a score means the same over any length of run."""

    harm_views_per_user_30_days_ref: Annotated[float, Field(gt=0)] = 1.0
    rumor_views_per_user_30_days_ref: Annotated[float, Field(gt=0)] = 5.0
    incidents_per_30_days_ref: Annotated[float, Field(gt=0)] = 1.0
    views_per_user_day_ref: Annotated[float, Field(gt=0)] = 10.0
    criticism_views_per_user_30_days_free: Annotated[float, Field(gt=0)] = Field(
        100.0,
        description="criticism seen per user per 30 days with no moderation (laissez-faire, "
        "the shipped society); the reach part is the run's rate over this, at most 1",
    )
    self_censored_share_ref: Annotated[float, Field(gt=0, le=1)] = Field(
        0.01, description="share of intents suppressed at which the self-censorship part is 0.5"
    )
    wrongful_removal_share_ref: Annotated[float, Field(gt=0, le=1)] = Field(
        0.01,
        description="share of legitimate posts removed at which the wrongful-removal part is 0.5",
    )
    punished_per_1000_users_30_days_ref: Annotated[float, Field(gt=0)] = Field(
        1.0,
        description="users punished for legitimate posts per 1,000 users per 30 days at which "
        "the punishment part is 0.5",
    )
    freedom_weights: FreedomWeights = FreedomWeights()
    wants_foreign_threshold: Share = Field(
        0.5,
        description="demand for foreign platforms at which a user counts as wanting them "
        "(the 'wants_foreign' share)",
    )


def _days(days: float) -> str:
    return "1 day" if days == 1 else f"{days:.4g} days"


MAX_DAYS = 3650.0
"""The longest run, in days (ten years). The model has no births, deaths or newcomers, and a
regime's settings (staff, rules, prices) stay as written except for events, so a longer run
describes nothing the settings mean; it would also take hours to days of computing."""


class Run(Strict):
    """The size, length, tick and seed of a run. With an edge-list network, `users` is the
    network's (set by `load_scenario`)."""

    users: Annotated[int, Field(ge=1)] = 10_000
    days: Annotated[float, Field(gt=0)] = 30.0
    tick_minutes: Annotated[int, Field(ge=1, le=1440)] = 60
    seed: Count = 0

    @field_validator("days")
    @classmethod
    def _days_at_most(cls, days: float) -> float:
        if days > MAX_DAYS:
            raise ValueError(
                f"at most {MAX_DAYS:g} days (ten years): the population has no births, deaths "
                "or newcomers and the regime's settings stay as written, so a longer run has "
                "no meaning"
            )
        return days

    @field_validator("tick_minutes")
    @classmethod
    def _tick_divides_day(cls, tick_minutes: int) -> int:
        if 1440 % tick_minutes:
            raise ValueError("must divide a day of 1440 minutes (for example 15, 30, 60 or 1440)")
        return tick_minutes

    @model_validator(mode="after")
    def _at_least_one_tick(self) -> Run:
        # "days: ..." is reported at run.days (scenario_files.format_errors)
        if self.days * 1440 < self.tick_minutes * (1 - 1e-9):
            raise ValueError(
                f"days: {_days(self.days)} is shorter than one tick of {self.tick_minutes} "
                f"minutes (run.tick_minutes); a run needs at least one tick: "
                f"{_days(self.tick_minutes / 1440)} or more"
            )
        return self

    def ticks(self) -> int:
        """Ticks the run lasts (as the simulation counts them)."""
        return round(self.days * 1440 / self.tick_minutes)


class Scenario(Strict):
    """A whole governance regime and the run it is simulated in."""

    name: str = "custom"
    description: str = ""
    run: Run = Run()
    population: Population = Population()
    network: Network = Network()
    content: Content = Content()
    baseline: Baseline = Baseline()
    platforms: dict[str, Platform] = Field(
        default_factory=lambda: {"microblog": Platform(adoption=0.8)}
    )
    state: State = State()
    mobilisation: Mobilisation = Mobilisation()
    behaviour: Behaviour = Behaviour()
    events: list[Event] = Field(default_factory=list)
    random_events: RandomEvents = RandomEvents()
    ranking: Ranking = Ranking()
    metrics: Metrics = Metrics()

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        problems = list(self.reference_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def reference_problems(self) -> list[str]:
        """Names that point at platforms or categories that are not defined."""
        out: list[str] = []
        names = list(self.platforms)
        if not names:
            out.append("platforms: at least one platform must be defined")
        if len(names) > 8:
            out.append(f"platforms: at most 8 platforms, got {len(names)}")

        def platform_ref(path: str, value: str) -> None:
            if value not in self.platforms:
                out.append(
                    f"{path}: platform '{value}' is not defined (defined: {', '.join(names)})"
                )

        def category_ref(path: str, value: str) -> None:
            if value not in CATEGORIES:
                out.append(
                    f"{path}: '{value}' is not a category (allowed: {', '.join(CATEGORIES)})"
                )

        for i, p in enumerate(self.state.access.blocked):
            platform_ref(f"state.access.blocked[{i}]", p)
        for i, p in enumerate(self.state.jurisdiction or []):
            platform_ref(f"state.jurisdiction[{i}]", p)
        for i, c in enumerate(self.baseline.illegitimate):
            category_ref(f"baseline.illegitimate[{i}]", c)
        for name, plat in self.platforms.items():
            for i, c in enumerate(plat.moderation.terms_prohibited):
                category_ref(f"platforms.{name}.moderation.terms_prohibited[{i}]", c)
            lo, hi = plat.moderation.reviewer_hours
            if not 0 <= lo < hi <= 24:
                out.append(
                    f"platforms.{name}.moderation.reviewer_hours: need 0 <= start < end <= 24, "
                    f"got [{lo}, {hi}]"
                )
        shares = self.state.officials.region_staff_shares
        if shares:
            regions = len(self.network.regions)
            if len(shares) != regions:
                out.append(
                    f"state.officials.region_staff_shares: one share per region of "
                    f"network.regions ({regions}), got {len(shares)} (or none at all "
                    "for one national pool of staff)"
                )
            elif abs(sum(shares) - 1.0) > SHARE_TOLERANCE:
                out.append(
                    f"state.officials.region_staff_shares: the shares must add up to 1, "
                    f"not {sum(shares):.6g}"
                )
        for name in ("enforcement", "sensitivity"):
            values = getattr(self.state.regions, name)
            if values and len(values) != len(self.network.regions):
                out.append(
                    f"state.regions.{name}: one multiplier per region of network.regions "
                    f"({len(self.network.regions)}), got {len(values)} (or none at all for 1 "
                    "in every region)"
                )
        lo, hi = self.state.officials.working_hours
        if not 0 <= lo < hi <= 24:
            out.append(
                f"state.officials.working_hours: need 0 <= start < end <= 24, got [{lo}, {hi}]"
            )
        for i, ev in enumerate(self.events):
            if ev.platform:
                platform_ref(f"events[{i}].platform", ev.platform)
            for j, c in enumerate(ev.prohibit):
                category_ref(f"events[{i}].prohibit[{j}]", c)
        return out

    def platform_names(self) -> list[str]:
        return list(self.platforms)
