"""The directions the model must reproduce (docs: "What the model must reproduce").

Each test compares runs with the same seeds that differ in one setting only; where noise
could flip a single pair, the figure is averaged over a few seeds.
"""

from __future__ import annotations

import functools
import math
import statistics

import pyarrow.compute as pc
import pytest

import tightrope

USERS = 3000
DAYS = 3
SEEDS = (1, 2, 3)
WEIBO = "platforms.weibo"


@functools.cache
def _run(preset: str, overrides: tuple[str, ...], users: int, days: float, seed: int):
    sc = tightrope.load_scenario(preset, list(overrides), users=users, days=days, seed=seed)
    return tightrope.run(sc)


def run(preset: str, overrides=(), *, users=USERS, days=DAYS, seed=1):
    return _run(preset, tuple(overrides), users, days, seed)


def mean_over_seeds(key, preset, overrides=(), *, users=USERS, days=DAYS, seeds=SEEDS):
    """Mean of a summary figure (or of a function of the Result) over several seeds."""
    values = []
    for seed in seeds:
        res = run(preset, overrides, users=users, days=days, seed=seed)
        values.append(float(key(res) if callable(key) else res.summary[key]))
    return statistics.fmean(values)


# -- no moderation / stronger moderation ----------------------------------------------------


def test_laissez_faire_removes_nothing_and_has_most_harm():
    harm = {}
    for name in tightrope.preset_names():
        res = run(name)
        harm[name] = res.summary["harm_views_per_user"]
    lf = run("laissez-faire").summary
    assert lf["removed_share"] == 0.0
    assert lf["posts"] > 0
    others = {k: v for k, v in harm.items() if k != "laissez-faire"}
    assert harm["laissez-faire"] > max(others.values()), harm


STRONGER_FILTER = (
    f"{WEIBO}.moderation.filter.detection.illegal_harm=1.0",
    f"{WEIBO}.moderation.filter.detection.rumor=1.0",
    f"{WEIBO}.moderation.filter.detection.criticism=0.9",
    f"{WEIBO}.moderation.filter.false_positive=0.3",
    f"{WEIBO}.moderation.reviewers_per_100k_users=10.0",
)
"""A stronger filter: it detects more and, as keyword filters do, flags more lawful posts
(criticism is not prohibited in china-weibo-2013, so its detection alone is not used: the
wrongful removals come from the false positives and the law's vagueness). Without the
higher false-positive rate the wrongful share moved by less than its noise over 3 seeds
once authors' deletions, sweeps and turnover came in (0.0246 against 0.0223); with 0.3 it
rises to 0.0271."""


def test_stronger_moderation_less_harm_more_wrongful_removals():
    base_harm = mean_over_seeds("harm_views_per_user", "china-weibo-2013")
    strong_harm = mean_over_seeds("harm_views_per_user", "china-weibo-2013", STRONGER_FILTER)
    base_wrong = mean_over_seeds("wrongful_removal_share", "china-weibo-2013")
    strong_wrong = mean_over_seeds("wrongful_removal_share", "china-weibo-2013", STRONGER_FILTER)
    print(
        f"harm {base_harm:.4f} -> {strong_harm:.4f}; "
        f"wrongful {base_wrong:.4f} -> {strong_wrong:.4f}"
    )
    assert strong_harm < base_harm
    assert strong_wrong > base_wrong


# -- reviewers --------------------------------------------------------------------------------


def test_more_reviewers_faster_removal():
    # us-self-regulation: illegal harm goes to a review queue and stays visible meanwhile,
    # so the reviewers are the bottleneck of removal.
    few = "platforms.microblog.moderation.reviewers_per_100k_users=0.2"
    many = "platforms.microblog.moderation.reviewers_per_100k_users=20.0"
    slow = mean_over_seeds("median_minutes_to_removal", "us-self-regulation", [few])
    fast = mean_over_seeds("median_minutes_to_removal", "us-self-regulation", [many])
    print(f"median minutes to removal: few {slow:.1f}, many {fast:.1f}")
    assert not math.isnan(slow)
    assert not math.isnan(fast)
    assert fast < slow


# -- real names and punishment ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "low", "high"),
    [("state.identity.real_name", 0.0, 1.0), ("state.punishment.severity", 0.0, 1.0)],
)
def test_identification_and_punishment_chill_speech_and_deter_bad_actors(setting, low, high):
    lo = [f"{setting}={low}"]
    hi = [f"{setting}={high}"]
    # fear is a slow variable (fear_learning 0.05 a day: a 20-day time constant), so this
    # runs 10 days; over 3 days the rise in fear is lost in noise
    kw = {"days": 10}
    cens_lo = mean_over_seeds("self_censored_share", "china-weibo-2013", lo, **kw)
    cens_hi = mean_over_seeds("self_censored_share", "china-weibo-2013", hi, **kw)
    bad_lo = mean_over_seeds("bad_actors_active", "china-weibo-2013", lo, **kw)
    bad_hi = mean_over_seeds("bad_actors_active", "china-weibo-2013", hi, **kw)
    print(
        f"{setting}: self-censored {cens_lo:.5f} -> {cens_hi:.5f}; bad actors {bad_lo} -> {bad_hi}"
    )
    assert cens_hi > cens_lo
    assert bad_hi < bad_lo


# -- blocking and VPNs ------------------------------------------------------------------------


def test_vpn_use_rises_with_demand_adoption():
    lo = mean_over_seeds("vpn_share", "china-weibo-2013", ["platforms.foreign.adoption=0.1"])
    hi = mean_over_seeds("vpn_share", "china-weibo-2013", ["platforms.foreign.adoption=0.6"])
    print(f"vpn share: adoption 0.1 {lo:.4f}, 0.6 {hi:.4f}")
    assert hi > lo


def test_vpn_use_rises_when_vpns_are_cheaper():
    costly = mean_over_seeds("vpn_share", "china-weibo-2013", ["behaviour.vpn_cost=0.6"])
    cheap = mean_over_seeds("vpn_share", "china-weibo-2013", ["behaviour.vpn_cost=0.05"])
    print(f"vpn share: cost 0.6 {costly:.4f}, cost 0.05 {cheap:.4f}")
    assert cheap > costly


def test_vpn_use_rises_with_appeal_of_blocked_platform():
    kw = {"days": 5}
    lo = mean_over_seeds("vpn_share", "china-weibo-2013", ["platforms.foreign.appeal=0.1"], **kw)
    hi = mean_over_seeds("vpn_share", "china-weibo-2013", ["platforms.foreign.appeal=1.0"], **kw)
    print(f"vpn share: appeal 0.1 {lo:.5f}, appeal 1.0 {hi:.5f}")
    assert hi > lo


def test_vpn_use_falls_with_crackdown():
    assert "foreign" in run("china-weibo-2013").scenario.state.access.blocked
    none = mean_over_seeds("vpn_share", "china-weibo-2013", ["state.access.vpn_crackdown=0.0"])
    hard = mean_over_seeds("vpn_share", "china-weibo-2013", ["state.access.vpn_crackdown=0.9"])
    print(f"vpn share: crackdown 0 {none:.4f}, 0.9 {hard:.4f}")
    assert hard < none


# -- officials --------------------------------------------------------------------------------


def test_faster_official_answers_less_grievance_more_trust_fewer_calls():
    slow = ["state.officials.staff_per_100k_users=0.0"]
    fast = ["state.officials.staff_per_100k_users=200.0"]
    kw = {"days": 5}
    g_slow = mean_over_seeds("mean_grievance", "china-weibo-2013", slow, **kw)
    g_fast = mean_over_seeds("mean_grievance", "china-weibo-2013", fast, **kw)
    t_slow = mean_over_seeds("mean_trust", "china-weibo-2013", slow, **kw)
    t_fast = mean_over_seeds("mean_trust", "china-weibo-2013", fast, **kw)
    c_slow = mean_over_seeds("calls_to_action", "china-weibo-2013", slow, **kw)
    c_fast = mean_over_seeds("calls_to_action", "china-weibo-2013", fast, **kw)
    print(
        f"grievance {g_slow:.4f}->{g_fast:.4f} trust {t_slow:.4f}->{t_fast:.4f} "
        f"calls {c_slow}->{c_fast}"
    )
    assert g_fast < g_slow
    assert t_fast > t_slow
    assert c_fast < c_slow


# -- vague laws -------------------------------------------------------------------------------


def test_vague_laws_remove_more_legitimate_posts():
    precise = mean_over_seeds(
        "wrongful_removal_share", "china-weibo-2013", ["state.rulebook.precision=1.0"]
    )
    vague = mean_over_seeds(
        "wrongful_removal_share", "china-weibo-2013", ["state.rulebook.precision=0.0"]
    )
    print(f"wrongful removal share: precise {precise:.4f}, vague {vague:.4f}")
    assert vague > precise


# -- fines ------------------------------------------------------------------------------------

ADAPTIVE = (
    f"{WEIBO}.compliance.mode='adaptive'",
    "platforms.wechat.compliance.mode='adaptive'",
    f"{WEIBO}.compliance.effort=0.2",
    "platforms.wechat.compliance.effort=0.2",
    f"{WEIBO}.compliance.adapt_every_days=1.0",
    "platforms.wechat.compliance.adapt_every_days=1.0",
    "state.inspection.staff_per_100k_users=20.0",
)


def _mean_effort(res) -> float:
    return pc.mean(res.platforms["effort"]).as_py()


def test_rising_fines_more_compliance_effort_less_profit():
    kw = {"days": 4}
    no_fine = [*ADAPTIVE, "state.inspection.fine_per_violation=0.0"]
    big_fine = [*ADAPTIVE, "state.inspection.fine_per_violation=500.0"]
    e0 = mean_over_seeds(_mean_effort, "china-weibo-2013", no_fine, **kw)
    e1 = mean_over_seeds(_mean_effort, "china-weibo-2013", big_fine, **kw)
    p0 = mean_over_seeds("profit", "china-weibo-2013", no_fine, **kw)
    p1 = mean_over_seeds("profit", "china-weibo-2013", big_fine, **kw)
    print(f"mean effort {e0:.3f} -> {e1:.3f}; profit {p0:.1f} -> {p1:.1f}")
    assert e1 > e0
    assert p1 < p0


# -- step order -------------------------------------------------------------------------------


def test_step_order_is_documented_and_timed():
    expected = (
        "events",
        "policy",
        "feed",
        "posting",
        "author_deletion",
        "minutes",
        "inspection",
        "mobilisation",
        "economics",
        "daily",
        "record",
    )
    names = tuple(name for name, _ in tightrope.PHASES)
    print("PHASES:", " -> ".join(names))
    assert expected == names
    sim = tightrope.Simulation(tightrope.load_scenario("eu-dsa", users=1000, days=1, seed=3))
    for _ in range(sim.n_ticks):
        sim.step()
    assert tuple(sim.phase_seconds) == expected
    assert all(v > 0.0 for v in sim.phase_seconds.values()), sim.phase_seconds
    assert sim.result().meta["phase_seconds"] == sim.phase_seconds


def test_step_runs_the_phase_table_in_its_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """`step` runs exactly the phases of PHASES, each once a tick, in the table's order:
    the table is the step order, not a list of labels beside it."""
    from tightrope.engine import simulation

    calls: list[str] = []

    def recorded(name: str, phase: simulation.Phase) -> simulation.Phase:
        def run(sim: simulation.Simulation, tick: simulation.Tick) -> None:
            calls.append(name)
            phase(sim, tick)

        return run

    table = tuple((n, recorded(n, f)) for n, f in simulation.PHASES)
    monkeypatch.setattr(simulation, "PHASES", table)
    sim = tightrope.Simulation(tightrope.load_scenario("eu-dsa", users=500, days=1, seed=3))
    sim.step()
    sim.step()
    names = [n for n, _ in table]
    assert calls == names * 2
    swapped = (table[1], table[0], *table[2:])  # the same phases, two of them swapped
    monkeypatch.setattr(simulation, "PHASES", swapped)
    calls.clear()
    sim.step()
    assert calls == [names[1], names[0], *names[2:]]
