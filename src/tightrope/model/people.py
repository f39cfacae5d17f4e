"""People's daily updates: fear, grievance, trust, satisfaction, platform moves and VPNs.

Once a simulated day (after the day's last tick):
- fear moves toward the perceived risk of speaking, identifiability x punishment severity x
  (1 + enforcement intensity), at the fear-learning rate (shocks from one's own removals and
  punishments, and from punishments of those one follows, are added as they happen);
- grievance and trust relax toward each user's baseline;
- satisfaction with each platform moves toward the platform's appeal, less the harm the user
  saw there and the removals of their own posts;
- a user unhappy with a platform (satisfaction under the leave threshold) leaves it at the
  leave rate, and joins the most appealing platform they can reach and are not on;
- a user who wants a blocked foreign platform and finds it worth the hassle adopts a VPN at
  the adoption rate times (1 - crackdown); a crackdown makes VPNs fail, and a user whose VPN
  fails drops it unless their demand is high. Users are never created or destroyed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tightrope.core.rng import uniform

# ---- the rules: one function per kind of update, pure functions of numbers ------------


@njit(inline="always", cache=True)
def clip01(x: float) -> float:
    """x clipped to [0, 1]."""
    return min(1.0, max(0.0, x))


@njit(inline="always", cache=True)
def move_toward(value: float, target: float, rate: float) -> float:
    """`value + rate x (target - value)`: a step of `rate` (in [0, 1]) of the gap."""
    return value + rate * (target - value)


@njit(inline="always", cache=True)
def identifiability(real_name: int, data_access: float) -> float:
    """Chance the state can tie an account to a person, in [0, 1]: 1 with a real name
    (`real_name != 0`), else the state's data access."""
    return 1.0 if real_name != 0 else data_access


def identifiable_share(real_name: np.ndarray, data_access: float) -> float:
    """The users' mean `identifiability`: the share of users the state can identify, the
    freedom score's identifiability part (docs/model.md 11.1). Registration does not change
    during a run, so this is a constant of the run."""
    n = real_name.size
    if n == 0:
        return 0.0
    registered = int(np.count_nonzero(real_name))
    return (registered + (n - registered) * data_access) / n


@njit(inline="always", cache=True)
def perceived_risk(identifiability: float, severity: float, intensity: float) -> float:
    """Risk of speaking the daily fear moves toward, in [0, 1]:
    `min(1, identifiability x severity x (1 + intensity))`, with identifiability and
    punishment severity in [0, 1] and the state's enforcement intensity >= 0."""
    return min(1.0, identifiability * severity * (1.0 + intensity))


@njit(inline="always", cache=True)
def fear_daily(fear: float, risk: float, fear_learning: float) -> float:
    """Daily fear: `fear + fear_learning x (risk - fear)` (not clipped; see `clip01`)."""
    return move_toward(fear, risk, fear_learning)


@njit(inline="always", cache=True)
def fear_after_shock(fear: float, shock: float) -> float:
    """Fear after a frightening event (own post removed, own punishment, a followee
    punished): `fear + shock x (1 - fear)`, a share `shock` in [0, 1] of the way to 1."""
    return fear + shock * (1.0 - fear)


@njit(inline="always", cache=True)
def grievance_daily(grievance: float, base: float, grievance_decay: float) -> float:
    """Daily grievance relaxes toward the user's baseline:
    `g + grievance_decay x (base - g)` (not clipped)."""
    return move_toward(grievance, base, grievance_decay)


@njit(inline="always", cache=True)
def trust_daily(trust: float, base: float, trust_decay: float) -> float:
    """Daily trust relaxes toward the user's baseline: `t + trust_decay x (base - t)`."""
    return move_toward(trust, base, trust_decay)


@njit(inline="always", cache=True)
def grievance_up(grievance: float, rise: float) -> float:
    """Grievance after an aggravating event: `min(1, g + rise)`, rise >= 0."""
    return min(1.0, grievance + rise)


@njit(inline="always", cache=True)
def grievance_down(grievance: float, fall: float) -> float:
    """Grievance after a soothing event: `max(0, g - fall)`, fall >= 0."""
    return max(0.0, grievance - fall)


@njit(inline="always", cache=True)
def trust_up(trust: float, rise: float) -> float:
    """Trust after a reassuring event: `min(1, trust + rise)`, rise >= 0."""
    return min(1.0, trust + rise)


@njit(inline="always", cache=True)
def trust_down(trust: float, fall: float) -> float:
    """Trust after a disappointing event: `max(0, trust - fall)`, fall >= 0."""
    return max(0.0, trust - fall)


@njit(inline="always", cache=True)
def harm_rate(day_harm: float, day_views: float) -> float:
    """Harm per view seen today: `day_harm / day_views`, 0 with no views."""
    return day_harm / day_views if day_views > 0.0 else 0.0


@njit(inline="always", cache=True)
def satisfaction_target(
    appeal: float,
    harm_rate: float,
    removed: float,
    reachable: bool,
    harm_penalty: float,
    removal_penalty: float,
) -> float:
    """What satisfaction with a platform moves toward today:
    `appeal - harm_penalty x harm_rate - removal_penalty x removed` (removed: own posts
    removed today), or 0 if the platform is not reachable (blocked, and no VPN)."""
    if not reachable:
        return 0.0
    return appeal - harm_penalty * harm_rate - removal_penalty * removed


@njit(inline="always", cache=True)
def satisfaction_daily(satisfaction: float, target: float, step: float) -> float:
    """Daily satisfaction: `s + step x (target - s)`, not clipped (the leave decision
    reads it before it is clipped to [0, 1] and stored)."""
    return move_toward(satisfaction, target, step)


@njit(inline="always", cache=True)
def leaves_platform(satisfaction: float, leave_threshold: float, leave_rate: float, rs) -> bool:
    """A user leaves a platform today iff `satisfaction < leave_threshold` and a uniform
    draw from rs (made only then) is below `leave_rate` (a daily chance in [0, 1])."""
    return satisfaction < leave_threshold and uniform(rs) < leave_rate


@njit(inline="always", cache=True)
def joins_another(join_chance: float, rs) -> bool:
    """A user who left a platform joins another (the most appealing one they can reach and
    are not on) w.p. `join_chance` in [0, 1] (one draw from rs)."""
    return uniform(rs) < join_chance


@njit(inline="always", cache=True)
def vpn_demand(wants_foreign: float, fear: float, fear_weight: float) -> float:
    """Demand for blocked foreign platforms, in [0, 1]:
    `wants_foreign x (1 - fear_weight x fear)`."""
    return wants_foreign * (1.0 - fear_weight * fear)


@njit(inline="always", cache=True)
def drops_vpn(demand: float, crackdown: float, failure_scale: float, rs) -> bool:
    """A VPN user drops it iff their VPN fails, `U1 < failure_scale x crackdown`, and then
    their demand is low, `U2 > demand` (U2 drawn only if it failed)."""
    return uniform(rs) < failure_scale * crackdown and uniform(rs) > demand


@njit(inline="always", cache=True)
def adopts_vpn(demand: float, vpn_cost: float, adopt_rate: float, crackdown: float, rs) -> bool:
    """A non-user adopts a VPN iff `demand > vpn_cost` and then (one draw, made only then)
    w.p. `adopt_rate x (1 - crackdown)`, adopt_rate a daily chance."""
    return demand > vpn_cost and uniform(rs) < adopt_rate * (1.0 - crackdown)


# ---- the daily kernel: the rules above, over every user -------------------------------


@njit(inline="always", cache=True)
def _best_platform(member: int, left: int, blocked, vpn: int, appeal) -> int:
    """The platform of highest appeal (first on ties) the user is not on, other than the
    one just left, and can reach (blocked ones need a VPN); -1 if none."""
    best, best_appeal = -1, -1.0
    for q in range(appeal.size):
        if q == left or (member >> q) & 1 != 0:
            continue
        if blocked[q] != 0 and vpn == 0:
            continue
        if appeal[q] > best_appeal:
            best, best_appeal = q, appeal[q]
    return best


@njit(cache=True)
def daily_update(now, people, consts, rules, rs_mobility, rs_vpn) -> None:
    n_p = consts.n_platforms
    any_blocked_foreign = False
    for p in range(n_p):
        if rules.blocked[p] != 0 and consts.p_foreign[p] != 0:
            any_blocked_foreign = True
    real_name = people.real_name
    for i in range(people.kind.size):
        ident = identifiability(real_name[i], consts.data_access)
        risk = perceived_risk(ident, consts.severity, rules.intensity)
        people.fear[i] = fear_daily(people.fear[i], risk, consts.fear_learning)
        people.grievance[i] = grievance_daily(
            people.grievance[i], people.grievance_base[i], consts.grievance_decay
        )
        people.trust[i] = trust_daily(people.trust[i], people.trust_base[i], consts.trust_decay)
        hr = harm_rate(people.day_harm[i], people.day_views[i])
        removed = people.day_removed[i]
        for p in range(n_p):
            if (people.member[i] >> p) & 1 == 0:
                continue
            reachable = rules.blocked[p] == 0 or people.vpn[i] != 0
            target = satisfaction_target(
                consts.p_appeal[p],
                hr,
                removed,
                reachable,
                consts.harm_penalty,
                consts.removal_penalty,
            )
            s = satisfaction_daily(people.satisfaction[i, p], target, consts.satisfaction_step)
            people.satisfaction[i, p] = clip01(s)
            if leaves_platform(s, consts.leave_threshold, consts.leave_rate, rs_mobility):
                people.member[i] &= ~(1 << p)
                best = _best_platform(
                    people.member[i], p, rules.blocked, people.vpn[i], consts.p_appeal
                )
                if best >= 0 and joins_another(consts.join_chance, rs_mobility):
                    people.member[i] |= 1 << best
                    people.satisfaction[i, best] = consts.p_appeal[best]
        if any_blocked_foreign:
            demand = vpn_demand(people.wants_foreign[i], people.fear[i], consts.vpn_fear_weight)
            if people.vpn[i]:
                if drops_vpn(demand, consts.crackdown, consts.vpn_failure_scale, rs_vpn):
                    people.vpn[i] = 0
            elif adopts_vpn(
                demand, consts.vpn_cost, consts.vpn_adopt_rate, consts.crackdown, rs_vpn
            ):
                people.vpn[i] = 1
                for p in range(n_p):
                    if rules.blocked[p] != 0 and consts.p_foreign[p] != 0:
                        people.member[i] |= 1 << p
        people.fear[i] = clip01(people.fear[i])
        people.grievance[i] = clip01(people.grievance[i])
        people.trust[i] = clip01(people.trust[i])
        people.day_views[i] = 0.0
        people.day_harm[i] = 0.0
        people.day_removed[i] = 0.0
