"""Shared fixtures of the test suite.

`tiny_world` builds a small, fresh `tightrope.Simulation` for the unit tests of the rules
(docs/model.md; architecture.md, "Adding a mechanism", step 5). Plain helpers (a private
random stream, a binomial bound) are in tests/helpers.py.

Rule -> the test that covers it (P: test_rules_posting.py, H: test_rules_people.py,
S: test_rules_state.py, K: test_rules_kernels.py, E: test_events.py, D: test_deletions.py,
A: test_appeals.py, R: test_regions.py, X: test_exposure_memory.py, M: test_spam.py):

posting.platform_weight -> P test_platform_weight_is_satisfaction_plus_floor
posting.choose_platform -> P test_platform_choice_shares_follow_the_weights, ..._floor_...
posting.exposure_to_state -> P test_exposure_to_state
posting.chilling_risk -> P test_chilling_risk
posting.wish_to_speak -> P test_wish_to_speak
posting.self_censors -> P test_no_fear_no_self_censorship,
    test_suppressed_share_matches_risk_over_risk_plus_wish, test_no_wish_always_self_censors;
    in a run: test_no_fear_no_self_censorship_in_a_run, test_fear_brings_...
posting.displace, posting.refuge -> P test_displacement_to_private_then_foreign,
    test_no_displacement_from_a_private_or_foreign_platform..., test_private_displacement_share
posting.deterred -> P test_deterrence_rises_with_punishment,
    test_active_bad_actors_are_those_not_deterred (metrics.population_stats)
posting.choose_category -> S test_category_shares_follow_the_weights,
    test_fixed_categories_of_the_other_kinds
feed.feed_score -> P test_feed_score
people.identifiability, perceived_risk -> H test_identifiability_and_perceived_risk
people.fear_daily, grievance_daily, trust_daily, clip01 -> H
    test_daily_relaxations_close_their_share_of_the_gap
people.move_toward -> S test_move_toward
people.fear_after_shock -> H test_a_fear_shock_moves_its_share_of_the_way_to_one
people.grievance_up/down, trust_up/down -> H test_grievance_and_trust_steps_stay_in_bounds
people.harm_rate, satisfaction_target, satisfaction_daily -> H test_satisfaction_target_and_step
people.leaves_platform -> H test_leaving_is_drawn_only_below_the_threshold_and_at_its_rate
people.joins_another -> H test_joining_another_platform_at_the_join_chance
people.vpn_demand -> H test_vpn_demand_falls_with_fear
people.drops_vpn, adopts_vpn -> H test_vpn_drop_and_adoption_match_their_formulas
people.daily_update -> H test_daily_update_on_a_tiny_world
moderation.punishment_chance, trust_after_punishment, punishment_suspension_minutes -> H
    test_punishment_rules; the chance in the kernel: S
    test_a_referral_punishes_at_identifiability_times_severity
moderation.punish -> H test_a_punished_speakers_followers_fear_rises_by_the_witness_share
regions.regional, refers, local_punishment_chance (and moderation.remove_post's referral and
    punishment by region) -> R test_refers_at_severity_times_sensitivity,
    test_local_punishment_chance_is_capped_at_one,
    test_regional_reads_the_regions_row_and_is_one_without_a_row,
    test_a_referred_author_is_punished_at_the_regions_chance,
    test_a_sensitive_region_refers_what_the_nation_would_not
moderation.priority -> S test_priority_weights
moderation.heap_push, heap_pop -> S test_review_queue_order_is_key_then_arrival_then_post_id
moderation.remove_post -> S test_remove_post_consequences_for_the_author,
    test_strikes_suspend_at_the_limit, test_a_referral_punishes_at_identifiability_times_severity
diffusion.enqueue_review -> S test_enqueue_review_once_with_its_priority
diffusion.reshare_chance -> H test_reshare_chance_formula_and_its_fall_with_fear
diffusion.report_chance -> H test_report_decision_matches_its_formula
exposure.can_use, refresh_access, may_use -> S test_can_use_and_the_access_bits_agree
exposure.region_size -> S test_region_size
exposure.draw_audience, draw_audience_from, audience, audience_from -> S
    test_audience_share_is_see_chance_times_reach
officials.staff_working, gives_up, after_expiry, after_answer, answer_resolves -> H
    test_officials_rules
officials.serve_answers -> S test_serve_answers_capacity_expiry_and_fifo,
    test_unresolved_answers_at_the_resolution_chance
mobilisation.calls_kept, mobilises -> H test_mobilisation_threshold_rule
mobilisation.peers_suffice -> H test_peer_threshold_rule
mobilisation.count_mobilised_followees -> S
    test_count_mobilised_followees_counts_the_flagged_accounts_followed
mobilisation.mobilise -> S test_mobilise_decays_calls_and_applies_both_thresholds
policy.make_rules (flag and removal chances) -> S test_flag_and_removal_chances_follow_...
platforms.effort_grid, choose_effort -> H test_effort_grid, test_compliance_choice
platforms.Economy.tick, running_cost -> S test_revenue_cost_and_profit_of_a_tick,
    test_running_cost_is_a_share_of_revenue_plus_the_fixed_cost
reactions.inspection_checks -> S test_inspection_checks
reactions.suspend_platforms -> S test_platform_suspension_at_the_violation_limit
reactions.incident_happens -> S test_incident_needs_the_critical_mass_and_a_day
reactions.sensitive_moment -> S test_sensitive_moment_is_a_spike_over_the_running_average
reactions.adaptive_intensity -> S test_adaptive_intensity
events.apply_events (scandal, disaster, campaign, block, unblock, law, random events, the
    tick an event starts in) -> E, every test
regulator.inspect -> K test_inspection_finds_removes_and_fines_a_visible_prohibited_post,
    test_inspection_without_views_or_checks_does_nothing,
    test_inspection_checks_are_poisson_with_the_expected_mean,
    test_a_check_picks_a_view_in_proportion_to_each_parts_views
diffusion.view_parts (effects of a view on the viewer, counters, the inspectors' sample) -> K
    test_view_effects_on_the_viewer
diffusion.add_engagement -> K test_add_engagement_per_view_and_reshare_whatever_the_threads
feed.feed_tick, draw_slots (engagement decay, slot counts, picks by score, own posts, age
    limit) -> K test_feed_shows_candidates_in_proportion_to_score_and_decays,
    test_feed_never_shows_a_user_their_own_post, test_feed_leaves_old_posts_out
people._best_platform -> K test_best_platform_is_the_reachable_one_of_highest_appeal
author_deletion.deletion_chance, deletion_delay -> D
    test_deletion_chance_and_delay_follow_their_formulas
author_deletion.schedule_deletions -> D test_deletions_are_scheduled_at_the_share_raised_by_fear,
    test_deletion_delays_are_lognormal_with_the_median
author_deletion.author_delete (and diffusion.count_minute's deletion events) -> D
    test_an_author_deletes_a_visible_post_without_consequences,
    test_the_minute_of_a_deletion_event_deletes_the_post
sweeps.schedule_sweep -> D test_a_sweep_is_scheduled_once_per_delay_with_every_category,
    test_an_inspection_removal_sets_off_a_sweep
sweeps.sweep_finds, sweep_chance -> D test_sweep_finds_the_recent_visible_posts_of_its_categories,
    test_sweep_finds_each_post_at_recall_times_the_flag_chance
moderation.serve_sweeps -> D test_serve_sweeps_removes_what_it_finds_as_the_platform
appeals.reasons_rise, appeal_chance, reversal_chance -> A test_formulas,
    test_a_statement_of_reasons_cuts_the_grievance_rise, test_authors_appeal_at_their_chance
appeals.file_appeal (and moderation.remove_post's appeals) -> A
    test_a_reversal_reinstates_the_post_and_withdraws_its_strike,
    test_an_upheld_appeal_changes_nothing, test_without_appeals_nothing_is_drawn_or_scheduled
appeals.reinstate (and diffusion.count_minute's reversal events) -> A
    test_a_reversal_reinstates_the_post_and_withdraws_its_strike,
    test_a_reversal_without_a_strike_leaves_strikes,
    test_reinstated_wrongful_posts_are_visible_again
exposure_memory.exposure_weight, exposure_bin, remember_view -> X
    test_exposure_weight_is_the_kth_weight_and_the_last_for_later_views,
    test_remember_view_counts_views_most_recent_first_and_forgets_the_oldest,
    test_newcomers_start_with_an_empty_memory; in a run (and
    diffusion.view_parts' use of them): test_the_kth_view_reshares_at_the_kth_weight_in_a_tiny_world
metrics.exposure_rates -> X test_the_outputs_are_reshares_over_views_by_exposure
metrics.scores, summary -> K test_a_part_at_its_reference_scores_one_half,
    test_goal_scores_follow_the_formulas, test_summary_shares_and_histogram_medians
spam.fearless -> M test_fearless_only_spammers; in a run:
    test_spammers_are_never_chilled_and_their_spam_is_never_wrongfully_removed
spam.felt_harm (and diffusion.view_parts's spam views) -> M
    test_felt_harm_adds_the_nuisance_to_spam_only,
    test_a_spam_view_adds_the_nuisance_to_the_viewers_day_but_no_harm
spam.useful_views (metrics.scores' development) -> M test_useful_views_leave_spam_out,
    test_development_counts_only_useful_views
metrics.spam_removed_share -> M
    test_spam_removed_share_counts_blocked_and_removed_spam_not_authors_deletions
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

import tightrope
from helpers import TinyWorld


@pytest.fixture
def tiny_world() -> TinyWorld:
    """A factory of tiny worlds: `tiny_world(preset="eu-dsa", users=200, seed=5,
    overrides=(), days=1)` gives a new `tightrope.Simulation` of the preset `preset` with
    `users` users, `days` days and seed `seed`, after the `--set`-style `overrides`
    (`"dotted.path=value"` strings, values in TOML syntax, as `tightrope.load_scenario`
    takes them).

    Every call builds a new simulation at tick 0 (no step taken), whose arrays
    (`sim.people`, `sim.posts`, `sim.queues`, ...) a test may change freely: nothing is
    shared between calls or tests. Two calls with the same arguments give the same world.
    """

    def make(
        preset: str = "eu-dsa",
        users: int = 200,
        seed: int = 5,
        overrides: Iterable[str] = (),
        days: float = 1,
    ) -> tightrope.Simulation:
        sc = tightrope.load_scenario(preset, list(overrides), users=users, days=days, seed=seed)
        return tightrope.Simulation(sc)

    return make
