"""Statements of reasons and appeals of removals (the EU Digital Services Act).

The DSA requires a platform to give the author of removed content a statement of reasons
(art. 17), to let them complain to an internal complaint-handling system for six months, to
decide complaints in a timely way and not solely by automated means, and to reverse a
decision the complaint shows was wrong (art. 20); out-of-court dispute settlement (art. 21)
comes after it. Platforms' reports show few removals appealed and a sizeable share of the
appeals reversed (YouTube 2019: about 1.9% of removals appealed, about 22% of the appeals
reinstated).

For a platform with `moderation.appeals`:
- with `statement_of_reasons`, a wrongful removal raises its author's grievance by
  `wrongful_grievance_rise x (1 - reasons_grievance_cut)` (`reasons_rise`) instead of the
  full rise (`moderation.remove_post`);
- with `enabled`, the author of each removed post appeals with chance
  `appeal_chance_wrongful` if the post is legitimate (the removal was wrongful), else
  `appeal_chance_rightful` (`appeal_chance`), one draw of stream `appeals`; an appeal is
  decided `decision_minutes` after the removal and reverses it with chance
  `reversal_accuracy` if wrongful, `1 - reversal_accuracy` if rightful (`reversal_chance`),
  a second draw of `appeals` made when it is filed (`file_appeal`). Only a reversal is
  scheduled, an APPEAL_REVERSAL(_STRUCK) event of the exposure calendar at the decision
  minute; an upheld appeal changes nothing. At that minute (`reinstate`) the post, if still
  in the ring and removed, becomes visible again (the views still scheduled for it happen),
  and the strike its removal gave is withdrawn (if the author has one left: a suspension
  the strike brought stands).
"""

from __future__ import annotations

from numba import njit

from tightrope.core import counters as K
from tightrope.core.rng import uniform
from tightrope.model.exposure import APPEAL_REVERSAL, APPEAL_REVERSAL_STRUCK, push_event
from tightrope.scenario.content import REMOVED, VISIBLE

# columns of `Consts.p_appeals` (platforms, 7), the settings `moderation.appeals.*` in order
AP_ENABLED = 0  # 1.0: authors may appeal
AP_REASONS = 1  # 1.0: statements of reasons
AP_CUT = 2  # reasons_grievance_cut
AP_WRONGFUL = 3  # appeal_chance_wrongful
AP_RIGHTFUL = 4  # appeal_chance_rightful
AP_DECISION = 5  # decision_minutes
AP_ACCURACY = 6  # reversal_accuracy


@njit(inline="always", cache=True)
def reasons_rise(rise: float, cut: float) -> float:
    """A wrongful removal's grievance rise with a statement of reasons: `rise x (1 - cut)`."""
    return rise * (1.0 - cut)


@njit(inline="always", cache=True)
def appeal_chance(wrongful: bool, chance_wrongful: float, chance_rightful: float) -> float:
    """Chance the author of a removed post appeals: `appeal_chance_wrongful` if the removal
    was wrongful (the post legitimate), else `appeal_chance_rightful`."""
    return chance_wrongful if wrongful else chance_rightful


@njit(inline="always", cache=True)
def reversal_chance(wrongful: bool, accuracy: float) -> float:
    """Chance an appeal reverses the removal: `accuracy` if it was wrongful, else
    `1 - accuracy`."""
    return accuracy if wrongful else 1.0 - accuracy


@njit(cache=True)
def file_appeal(posts, consts, cal, slot, p, wrongful, struck, minute, tc, ct, rs) -> int:
    """The author of post `slot`, just removed on platform p at `minute` (float), may
    appeal (`appeal_chance`, stream `rs`); an appeal counts in `appeals` (tick) and
    `appealed` (category) and draws its decision (`reversal_chance`); a reversal is put into
    the calendar at `floor(minute) + decision_minutes` (APPEAL_REVERSAL_STRUCK if the
    removal gave a strike). Returns 0 (no appeal), 1 (upheld) or 2 (reversal scheduled)."""
    ap = consts.p_appeals
    chance = appeal_chance(wrongful, ap[p, AP_WRONGFUL], ap[p, AP_RIGHTFUL])
    if chance <= 0.0 or uniform(rs) >= chance:
        return 0
    tc[K.APPEALS] += 1.0
    ct[posts.cat[slot], K.CAT_APPEALED] += 1.0
    if uniform(rs) >= reversal_chance(wrongful, ap[p, AP_ACCURACY]):
        return 1
    code = APPEAL_REVERSAL_STRUCK if struck else APPEAL_REVERSAL
    push_event(cal, int(minute) + int(ap[p, AP_DECISION]), posts.pid[slot], code)
    return 2


@njit(cache=True, inline="always")
def reinstate(posts, strikes, slot, struck, tc, ct) -> None:
    """An appeal reverses the removal of post `slot`: if it is still removed it becomes
    visible again (the state counts kept exact, as `moderation.set_state`), counts in
    `reinstated` (tick and category), and if its removal gave a strike (`struck`) the
    author has one strike fewer (none below 0)."""
    if posts.state[slot] != REMOVED:
        return
    posts.counts[1 + REMOVED] -= 1
    posts.counts[1 + VISIBLE] += 1
    posts.state[slot] = VISIBLE
    tc[K.REINSTATED] += 1.0
    ct[posts.cat[slot], K.CAT_REINSTATED] += 1.0
    if struck:
        a = posts.author[slot]
        if strikes[a] > 0:
            strikes[a] -= 1
