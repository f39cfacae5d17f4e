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

from numba import njit

from tightrope.core.rng import uniform
from tightrope.model.moderation import identifiability


@njit(cache=True)
def daily_update(now, people, consts, rules, rs_mobility, rs_vpn) -> None:
    n_p = consts.n_platforms
    fl = consts.fear_learning
    boost = 1.0 + rules.intensity
    any_blocked_foreign = False
    for p in range(n_p):
        if rules.blocked[p] != 0 and consts.p_foreign[p] != 0:
            any_blocked_foreign = True
    real_name = people.real_name
    for i in range(people.kind.size):
        risk = min(1.0, identifiability(real_name[i], consts.data_access) * consts.severity * boost)
        people.fear[i] += fl * (risk - people.fear[i])
        people.grievance[i] += consts.grievance_decay * (
            people.grievance_base[i] - people.grievance[i]
        )
        people.trust[i] += consts.trust_decay * (people.trust_base[i] - people.trust[i])
        seen = people.day_views[i]
        harm_rate = people.day_harm[i] / seen if seen > 0.0 else 0.0
        removed = people.day_removed[i]
        for p in range(n_p):
            if (people.member[i] >> p) & 1 == 0:
                continue
            target = consts.p_appeal[p] - 2.0 * harm_rate - 0.2 * removed
            if rules.blocked[p] != 0 and people.vpn[i] == 0:
                target = 0.0
            s = people.satisfaction[i, p] + 0.2 * (target - people.satisfaction[i, p])
            people.satisfaction[i, p] = min(1.0, max(0.0, s))
            if s < consts.leave_threshold and uniform(rs_mobility) < consts.leave_rate:
                people.member[i] &= ~(1 << p)
                best, best_appeal = -1, -1.0
                for q in range(n_p):
                    if q == p or (people.member[i] >> q) & 1 != 0:
                        continue
                    if rules.blocked[q] != 0 and people.vpn[i] == 0:
                        continue
                    if consts.p_appeal[q] > best_appeal:
                        best, best_appeal = q, consts.p_appeal[q]
                if best >= 0 and uniform(rs_mobility) < 0.5:
                    people.member[i] |= 1 << best
                    people.satisfaction[i, best] = consts.p_appeal[best]
        if any_blocked_foreign:
            demand = people.wants_foreign[i] * (1.0 - 0.5 * people.fear[i])
            if people.vpn[i]:
                if uniform(rs_vpn) < 0.3 * consts.crackdown and uniform(rs_vpn) > demand:
                    people.vpn[i] = 0
            elif demand > consts.vpn_cost:
                if uniform(rs_vpn) < consts.vpn_adopt_rate * (1.0 - consts.crackdown):
                    people.vpn[i] = 1
                    for p in range(n_p):
                        if rules.blocked[p] != 0 and consts.p_foreign[p] != 0:
                            people.member[i] |= 1 << p
        people.fear[i] = min(1.0, max(0.0, people.fear[i]))
        people.grievance[i] = min(1.0, max(0.0, people.grievance[i]))
        people.trust[i] = min(1.0, max(0.0, people.trust[i]))
        people.day_views[i] = 0.0
        people.day_harm[i] = 0.0
        people.day_removed[i] = 0.0
