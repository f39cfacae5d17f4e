"""The peer for `tightrope.peers.reference`: the same rules written idiomatically in Mesa 3.3.1.

A `mesa.Model` holds the users as `mesa.Agent`s (the model's AgentSet), the posts as small
Python objects, and the review queue as a `collections.deque` on the model. A tick is one
`model.step()`, with the phases as staged activation: ``agents.shuffle_do("view")``, then
``agents.shuffle_do("post")``, then the model's review, then every agent moves the posts
delivered to it for the next tick into its inbox. Randomness is Mesa's own, seeded through
``mesa.Model(seed=...)``: ``self.random`` (Python's generator) for the chance draws and
shuffles, ``self.model.rng`` (NumPy's, seeded by Mesa from the same seed) for the Poisson
counts. The rules are those of the `tightrope.peers.reference` docstring, point by point;
the follower graph and posting rates are the same inputs (from
`tightrope.peers.reference.reference_world`).
"""

from __future__ import annotations

from collections import deque
from operator import attrgetter

import mesa
import numpy as np

from tightrope.peers.reference import (
    C_FLAGGED,
    C_LOST,
    C_POSTS,
    C_PROHIBITED,
    C_REMOVED,
    C_RESHARES,
    C_VIEWS,
    C_WAIT,
    N_COUNTERS,
    summarise,
)


class Post:
    """A post: who wrote it, when, whether it is prohibited, who has seen it."""

    __slots__ = ("author", "created", "flagged_at", "pid", "prohibited", "removed", "seen", "views")

    def __init__(self, pid: int, author: User, created: int, prohibited: bool) -> None:
        self.pid = pid
        self.author = author
        self.created = created
        self.prohibited = prohibited
        self.flagged_at: int | None = None
        self.removed = False
        self.seen = {author.unique_id}  # the author counts as having seen it
        self.views = 0


class User(mesa.Agent):
    """A user: posts at a Poisson rate, views what the accounts it follows share, reshares,
    flags prohibited posts."""

    def __init__(self, model: ReferenceModel, rate: float) -> None:
        super().__init__(model)
        self.rate = rate
        self.followers: list[User] = []
        self.inbox: list[Post] = []  # delivered for this tick
        self.incoming: list[Post] = []  # delivered for the next tick

    def share(self, post: Post) -> None:
        for follower in self.followers:
            follower.incoming.append(post)

    def view(self) -> None:
        """Phase 1: handle this tick's deliveries."""
        model = self.model
        for post in self.inbox:
            if post.removed:
                model.views_lost += 1
                continue
            if self.unique_id in post.seen:
                continue
            post.seen.add(self.unique_id)
            post.views += 1
            model.views += 1
            if post.prohibited and post.flagged_at is None and self.random.random() < model.d:
                post.flagged_at = model.tick
                model.flagged_now.append(post)
            if self.random.random() < model.r:
                model.reshares += 1
                self.share(post)
        self.inbox = []

    def post(self) -> None:
        """Phase 2: make this tick's posts."""
        model = self.model
        for _ in range(model.rng.poisson(self.rate)):
            post = model.new_post(self, self.random.random() < model.q)
            self.share(post)

    def next_tick(self) -> None:
        self.inbox, self.incoming = self.incoming, []


class ReferenceModel(mesa.Model):
    """The reference subset (see `tightrope.peers.reference`) as a Mesa model.

    ptr, idx: the follower graph in CSR form; rates: posts per hour per user; q, r, d, c:
    the rule parameters; seed: Mesa's seed."""

    def __init__(self, ptr, idx, rates, q: float, r: float, d: float, c: int, seed: int) -> None:
        super().__init__(seed=seed)
        self.q, self.r, self.d, self.c = q, r, d, c
        self.tick = 0
        self.posts: list[Post] = []
        self.queue: deque[Post] = deque()
        self.flagged_now: list[Post] = []
        self.views = self.reshares = self.views_lost = 0
        self.removed = self.wait_total = 0
        users = [User(self, float(rate)) for rate in rates]
        for u, user in enumerate(users):
            user.followers = [users[v] for v in idx[ptr[u] : ptr[u + 1]].tolist()]

    def new_post(self, author: User, prohibited: bool) -> Post:
        post = Post(len(self.posts), author, self.tick, prohibited)
        self.posts.append(post)
        return post

    def review(self) -> None:
        """Phase 3: this tick's flags join the queue in post-id order; c are reviewed."""
        self.queue.extend(sorted(self.flagged_now, key=attrgetter("pid")))
        self.flagged_now = []
        for _ in range(min(self.c, len(self.queue))):
            post = self.queue.popleft()
            post.removed = True
            self.removed += 1
            self.wait_total += self.tick - post.flagged_at

    def step(self) -> None:
        self.agents.shuffle_do("view")
        self.agents.shuffle_do("post")
        self.review()
        self.agents.do("next_tick")
        self.tick += 1

    def summary(self) -> dict:
        """The summary statistics of `tightrope.peers.reference`, from this model's state."""
        cnt = np.zeros(N_COUNTERS, dtype=np.int64)
        cnt[C_POSTS] = len(self.posts)
        cnt[C_PROHIBITED] = sum(p.prohibited for p in self.posts)
        cnt[C_VIEWS] = self.views
        cnt[C_RESHARES] = self.reshares
        cnt[C_FLAGGED] = sum(p.flagged_at is not None for p in self.posts)
        cnt[C_REMOVED] = self.removed
        cnt[C_LOST] = self.views_lost
        cnt[C_WAIT] = self.wait_total
        sizes = np.array([p.views for p in self.posts], dtype=np.int64)
        return summarise(cnt, len(self.queue), sizes, self.tick, len(self.agents))


def run(ptr, idx, rates, q, r, d, c, ticks: int, seed: int) -> tuple[dict, np.ndarray]:
    """One run of `ticks` ticks; the summary statistics and each post's cascade size."""
    model = ReferenceModel(ptr, idx, rates, q, r, d, c, seed)
    for _ in range(ticks):
        model.step()
    return model.summary(), np.array([p.views for p in model.posts], dtype=np.int64)
