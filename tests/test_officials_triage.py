"""Officials' answer queues (docs/model.md 8.7): triage against a response target (requests
still on time first, overdue ones after, oldest first in each class) and regional staff
(each region's staff answer its own users' requests)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tightrope
from helpers import TinyWorld, stream
from tightrope import InputError
from tightrope.core import counters as K
from tightrope.core.world import grow_requests, new_requests
from tightrope.model.diffusion import request_arrival
from tightrope.model.metrics import _share_within
from tightrope.model.officials import serve_answers

USERS = [10, 11, 12, 13]
ARRIVALS = [0, 10, 950, 960]  # at minute 1000: waited 1000, 990, 50, 40


def consts_of(sim, **changes):
    base = {
        "answers_per_minute": 2.0,
        "working_hours": np.array([0, 24], dtype=np.float64),
        "give_up_minutes": 995.0,
        "resolution": 1.0,
        "idle_carry_answers": 1.0,
        "response_target": 0.0,
        "staff_shares": np.array([1.0]),
    }
    base.update(changes)
    return sim.consts._replace(**base)


def hand_made_queue(pp, queues: int = 1, queue=None):
    req = new_requests(16, queue, queues)
    for k, (u, m) in enumerate(zip(USERS, ARRIVALS, strict=True)):
        req.user[0, k], req.arrival[0, k] = u, m
        pp.grievance[u], pp.trust[u] = 0.5, 0.5
    req.ends[0] = [0, 4, 0, 0]
    return req


def answered(pp) -> list[int]:
    """The hand-made queue's users whose request was answered (resolved: grievance 0.3)."""
    return [u for u in USERS if pp.grievance[u] == pytest.approx(0.3)]


def test_with_a_target_on_time_requests_are_answered_before_overdue_ones(
    tiny_world: TinyWorld,
) -> None:
    sim = tiny_world(users=200)
    pp = sim.people
    consts = consts_of(sim, response_target=60.0)
    req = hand_made_queue(pp)
    tc, hist = np.zeros_like(sim.tc), np.zeros_like(sim.hist)
    rs = stream("officials")
    serve_answers(1000, 12, req, pp, consts, tc, hist, rs)
    # the first waited 1000 > 995: given up; credit 2 answers the two still on time
    assert tc[K.EXPIRED_REQUESTS] == 1
    assert tc[K.ANSWERED] == 2
    assert answered(pp) == [12, 13]
    assert hist[K.HIST_ANSWER, 50] == 1  # waited 50 minutes, first of the minute
    assert hist[K.HIST_ANSWER, 40] == 1  # 40 minutes and the second answer (1/2 minute)
    assert list(req.ends[0]) == [1, 4, 0, 4]  # the overdue one waits at the head
    serve_answers(1001, 12, req, pp, consts, tc, hist, rs)  # none on time: the overdue one
    assert answered(pp) == [11, 12, 13]
    assert hist[K.HIST_ANSWER, 991] == 1
    assert req.ends[0, 0] == req.ends[0, 1] == 4  # the holes were skipped
    assert req.ends[0, 2] == 1_000_000  # idle: credit capped at 1


def test_oldest_first_within_each_class(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp = sim.people
    consts = consts_of(sim, response_target=60.0, answers_per_minute=1.0, give_up_minutes=1e9)
    req = hand_made_queue(pp)
    tc, hist = np.zeros_like(sim.tc), np.zeros_like(sim.hist)
    rs = stream("officials")
    order = []
    for m in range(1000, 1004):
        serve_answers(m, 12, req, pp, consts, tc, hist, rs)
        order += [u for u in answered(pp) if u not in order]
    # on time: 950 before 960; then overdue: 0 before 10
    assert order == [12, 13, 10, 11]


def test_without_a_target_the_queue_is_first_in_first_out(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp = sim.people
    consts = consts_of(sim, give_up_minutes=1e9)
    req = hand_made_queue(pp)
    tc, hist = np.zeros_like(sim.tc), np.zeros_like(sim.hist)
    serve_answers(1000, 12, req, pp, consts, tc, hist, stream("officials"))
    assert answered(pp) == [10, 11]
    assert list(req.ends[0]) == [2, 4, 0, 0]


def test_a_request_waits_in_its_regions_queue(tiny_world: TinyWorld) -> None:
    tiny_world(users=200)
    queue = (np.arange(200) % 2).astype(np.int8)
    req = new_requests(16, queue, 2)
    request_arrival(req, 10, 5)
    request_arrival(req, 11, 6)
    request_arrival(req, 13, 7)
    assert list(req.ends[:, 1]) == [1, 2]
    assert req.user[0, 0] == 10
    assert list(req.user[1, :2]) == [11, 13]
    assert list(req.arrival[1, :2]) == [6, 7]
    grown = grow_requests(req, 32)
    assert grown.user.shape == (2, 32)
    assert list(grown.user[1, :2]) == [11, 13]
    assert list(grown.ends[:, 1]) == [1, 2]


def test_each_regions_staff_answer_their_region_only(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    pp = sim.people
    # region 0 has all the staff, region 1 none: its request is never answered
    consts = consts_of(sim, give_up_minutes=1e9, staff_shares=np.array([1.0, 0.0]))
    req = new_requests(16, np.zeros(200, dtype=np.int8), 2)
    for q, u in ((0, 20), (1, 21)):
        req.user[q, 0], req.arrival[q, 0] = u, 0
        req.ends[q] = [0, 1, 0, 0]
        pp.grievance[u] = 0.5
    tc, hist = np.zeros_like(sim.tc), np.zeros_like(sim.hist)
    rs = stream("officials")
    for m in range(100, 160):
        serve_answers(m, 12, req, pp, consts, tc, hist, rs)
    assert tc[K.ANSWERED] == 1
    assert pp.grievance[20] == pytest.approx(0.3)
    assert pp.grievance[21] == pytest.approx(0.5)
    assert list(req.ends[1]) == [0, 1, 0, 0]
    # half the staff each: both answered, each at half the rate
    consts = consts_of(sim, answers_per_minute=1.0, staff_shares=np.array([0.5, 0.5]))
    req.ends[0] = [0, 1, 0, 0]
    serve_answers(200, 12, req, pp, consts, tc, hist, rs)
    assert tc[K.ANSWERED] == 1  # credit 0.5 each: no answer yet
    serve_answers(201, 12, req, pp, consts, tc, hist, rs)
    assert tc[K.ANSWERED] == 3


def run_queue(sim, target: float) -> tuple[float, float, float]:
    rng = np.random.default_rng(3)
    minutes = 3 * 1440
    arrivals = rng.poisson(1.2 * 9 / 24, minutes)  # 1.2 a working minute, spread over the day
    n = int(arrivals.sum())
    pp = sim.people
    consts = consts_of(
        sim, answers_per_minute=1.0, working_hours=np.array([9, 18], dtype=np.float64),
        give_up_minutes=72 * 60.0, response_target=target,
    )  # fmt: skip
    req = new_requests(1 << 14, np.zeros(pp.kind.size, dtype=np.int8), 1)
    tc, hist = np.zeros_like(sim.tc), np.zeros_like(sim.hist)
    rs = stream("officials")
    u = 0
    for m in range(minutes):
        for _ in range(arrivals[m]):
            request_arrival(req, u % pp.kind.size, m)
            u += 1
        serve_answers(m, (m // 60) % 24, req, pp, consts, tc, hist, rs)
    return _share_within(hist[K.HIST_ANSWER], 60), tc[K.ANSWERED] / n, tc[K.EXPIRED_REQUESTS]


def test_direction_a_target_raises_the_share_answered_within_it(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    fifo_within, fifo_answered, _ = run_queue(sim, 0.0)
    triage_within, triage_answered, _ = run_queue(sim, 60.0)
    assert triage_within > fifo_within + 0.2
    # the same staff: about as many answers either way
    assert triage_answered == pytest.approx(fifo_answered, abs=0.05)


# --- settings --------------------------------------------------------------------------------


def test_defaults_keep_one_national_queue_without_a_target(tiny_world: TinyWorld) -> None:
    sim = tiny_world(users=200)
    assert sim.consts.response_target == 0.0
    assert list(sim.consts.staff_shares) == [1.0]
    assert sim.requests.user.shape[0] == 1
    assert not sim.requests.queue.any()


def test_regional_staff_follow_the_users_regions(tiny_world: TinyWorld) -> None:
    sim = tiny_world(
        users=300,
        overrides=(
            "network.regions=[0.5, 0.3, 0.2]",
            "state.officials.region_staff_shares=[0.6, 0.4, 0.0]",
            "state.officials.response_target_minutes=60",
        ),
    )
    assert sim.requests.user.shape[0] == 3
    assert (sim.requests.queue == sim.region).all()
    assert list(sim.consts.staff_shares) == [0.6, 0.4, 0.0]
    assert sim.consts.response_target == 60.0


def problems(overrides) -> list[str]:
    with pytest.raises(InputError) as info:
        tightrope.load_scenario("eu-dsa", list(overrides))
    return info.value.problems


def test_staff_shares_need_one_share_per_region() -> None:
    assert problems(["state.officials.region_staff_shares=[0.5, 0.5]"]) == [
        "state.officials.region_staff_shares: one share per region of network.regions (1), "
        "got 2 (or none at all for one national pool of staff)"
    ]


def test_staff_shares_add_up_to_one() -> None:
    assert problems(
        ["network.regions=[0.5, 0.5]", "state.officials.region_staff_shares=[0.5, 0.4]"]
    ) == ["state.officials.region_staff_shares: the shares must add up to 1, not 0.9"]


def test_response_target_is_minutes_up_to_a_week() -> None:
    assert problems(["state.officials.response_target_minutes=-1"]) == [
        "state.officials.response_target_minutes: "
        "Input should be greater than or equal to 0 (got -1)"
    ]


def test_answered_within_target_share_is_nan_without_a_target() -> None:
    from tightrope.model.metrics import summary

    totals = dict.fromkeys(K.TICK, 0.0)
    hist = np.zeros((2, K.N_BINS), dtype=np.int64)
    hist[K.HIST_ANSWER, [10, 59, 60, 1500]] = 1
    money = {"revenue": 0.0, "compliance_cost": 0.0, "fines": 0.0, "profit": 0.0}
    args = (totals, hist, 1, 1.0, np.zeros(8), money, False, 0.0)
    none = tightrope.load_scenario("eu-dsa")
    assert math.isnan(summary(none, *args)["answered_within_target_share"])
    sc = tightrope.load_scenario("eu-dsa", ["state.officials.response_target_minutes=60"])
    assert summary(sc, *args)["answered_within_target_share"] == 0.5
    hist[:] = 0
    assert math.isnan(summary(sc, *args)["answered_within_target_share"])


def test_regional_triage_queues_resume_bit_identical(tmp_path) -> None:
    """The rings, their holes, pointers and credits and the users' queues are in the
    checkpoint: a run stopped after a day and resumed ends as the whole run."""
    from tightrope.engine import checkpoints
    from tightrope.engine.driver import run
    from tightrope.engine.simulation import Simulation

    sc = tightrope.load_scenario(
        "china-weibo-2013",
        [
            "network.regions=[0.5, 0.3, 0.2]",
            "state.officials.region_staff_shares=[0.5, 0.5, 0.0]",
            "state.officials.response_target_minutes=60",
        ],
        users=1000,
        days=2,
        seed=3,
    )
    whole = run(sc)
    sim = Simulation(sc)
    for _ in range(24):
        sim.step()
    assert sim.requests.user.shape[0] == 3
    ck = tmp_path / "run.ckpt"
    checkpoints.save_checkpoint(sim, ck)
    resumed = run(sc, checkpoint=ck, resume=True)
    assert repr(resumed.summary) == repr(whole.summary)
    assert resumed.timeseries.equals(whole.timeseries)
    assert resumed.histograms.equals(whole.histograms)
    assert whole.summary["answered_within_target_share"] >= 0.0
