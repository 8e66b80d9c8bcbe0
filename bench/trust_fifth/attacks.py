"""Manipulations of a subreddit, each at three strengths, added to an organic community.

Every attack writes comments and submissions the way the Reddit adapter records them (comments only;
a top-level comment engages the submitter, a reply the parent comment's author) and lets the organic
members react to what it posts the way they react to anything (`Sim.thread`, `Sim.conversation`):
a manipulation on Reddit works by drawing real members in. Strength scales the crew and the volume;
crews grow with the square root of the community's size.

- `comment_followers`: a new member (a two-to-three-year-old account) and karma-farmed accounts (two
  months to a year and a half old) that follow them around the subreddit, commenting agreement under
  each of their posts and replying "this" to their comments in other people's threads, in every
  flair; the followers comment on a few other posts for cover.
- `early_seeding`: a casual member buys a seeding service: accounts post the first top-level
  comments within minutes of each of their new posts (aged accounts, months to years old), which
  lifts the post in "hot" so real members comment more; the member answers the seeds.
- `linked_brigade`: a creator from another subreddit links every post here from their own
  subreddit; each post is answered by a wave from there (a recurring core and drive-by accounts,
  mostly aged, a fifth made that month), who also reply to each other and to the post's critics.
- `repost_ring`: farmed accounts (two to ten months old) repost proven popular showcase and humor
  content and copy its old top comments into each other's reposts; real members comment as on any
  good post. The accounts never answer anyone.
- `controversy_bait`: a casual member turns to rage-bait posts and argumentative comments; real
  members pile on and the member argues back with everyone.
- `answer_bot`: a language-model account (about a year old) answers new questions (Help posts and the
  weekly thread; a third, two thirds or nine in ten of them by strength) within minutes and always
  replies back; askers answer it less often than an expert, and experts correct it.
- `top_comment_hijack`: a shop owner replies with a plug under the top comment of every popular
  post, where everyone sees it; crew accounts reply to the plug ("where can I get one?") and the
  owner answers them; real members reply to it too.
- `astroturf_chains`: a brand account posts product news; shill accounts (months old) stage
  question-and-answer chains in real members' Help threads ("have you tried BrandX?" / "+1, it fixed
  mine" / the brand "glad it helped!") and comment under the brand's posts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.trust_fifth.model import (
    BASE_ID,
    BASE_TOP,
    CASUAL,
    DISCUSSION,
    HELP,
    HUMOR,
    NEWS,
    NOFLAIR,
    SHOWCASE,
    WEEKLY,
    Community,
    Log,
    Sim,
    facts_for,
    log_rows,
)
from bot import trust

MULT = {1: 1, 2: 2, 3: 4}


@dataclass(frozen=True)
class AttackResult:
    """The rows an attack adds, the facts of the accounts it adds, and who it works for."""

    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    manipulators: frozenset[int]
    beneficiary: int


class Plan:
    """An attack being written: its accounts, its log, and the organic community it runs in."""

    def __init__(self, comm: Community, rng: np.random.Generator, window: int) -> None:
        self.comm = comm
        self.rng = rng
        self.sim: Sim = comm.sim
        self.log = Log()
        self.created: dict[int, float] = {}
        self.first = max(comm.start + 7, comm.today - window)
        self.days = np.arange(self.first, comm.today)
        log = comm.log
        self.sub_day = np.asarray(log.sub_day, np.int64)
        self.sub_author = np.asarray(log.sub_author, np.int64)
        self.sub_flair = np.asarray(log.sub_flair, np.int64)
        self.sub_top = np.asarray(log.sub_top, np.int64)
        self.sub_first = np.asarray(log.sub_first, np.int64)

    def accounts(
        self, n: int, age: tuple[float, float], *, p_op: float, p_back: float, reply_appeal: float
    ) -> list[int]:
        """`n` new accounts whose Reddit accounts were made `age` (low, high) days before the attack."""
        self.sim, idx = self.sim.with_accounts(n, p_op=p_op, p_back=p_back, reply_appeal=reply_appeal)
        for i in idx:
            self.created[BASE_ID + i] = float(self.first - self.rng.uniform(*age))
        return idx

    def tune(self, who: int, **traits: float) -> None:
        """Give `who` other conversational traits (`p_op`, `p_back`, `reply_appeal`) in this attack
        only: the simulation's arrays are copied first, so the organic community is untouched."""
        self.sim, _ = self.sim.with_accounts(0, p_op=0.0, p_back=0.0, reply_appeal=0.0)
        for name, value in traits.items():
            getattr(self.sim, name)[who] = value

    def member(self, roles: tuple[int, ...] = (CASUAL,)) -> int:
        """An organic member to turn: there from the start, active lately, no genuine voice."""
        comm = self.comm
        last = comm.last_seen()
        first_post = np.full(len(comm.role), np.iinfo(np.int64).max)
        np.minimum.at(first_post, np.asarray(comm.log.author, np.int64), np.asarray(comm.log.day, np.int64))
        ok = (
            np.isin(comm.role, roles)
            & (first_post <= comm.start + 14)
            & (last >= comm.today - 21)
            & ~np.isin(BASE_ID + np.arange(len(comm.role)), list(comm.genuine))
        )
        choices = np.flatnonzero(ok)
        return int(choices[self.rng.integers(len(choices))])

    def organic_subs(self, day: int, flairs: tuple[int, ...] | None = None) -> np.ndarray:
        """Organic submissions posted on `day` or the day before (indexes into the organic log)."""
        ok = (self.sub_day >= day - 1) & (self.sub_day <= day)
        if flairs is not None:
            ok &= np.isin(self.sub_flair, flairs)
        return np.flatnonzero(ok)

    def comment_on_organic(self, who: int, day: int, flairs: tuple[int, ...] | None = None) -> None:
        """`who` comments top-level on a recent organic post (busier posts more likely)."""
        subs = self.organic_subs(day, flairs)
        subs = subs[self.sub_author[subs] != who]
        if len(subs) == 0:
            return
        w = self.sub_top[subs] + 1.0
        s = int(subs[self.rng.choice(len(subs), p=w / w.sum())])
        self.sim.conversation(
            self.rng,
            self.log,
            who,
            int(self.sub_author[s]),
            day,
            int(self.sub_flair[s]),
            op=int(self.sub_author[s]),
        )

    def post(self, who: int, day: int, flair: int, appeal: float, *, third: float = 1.0) -> list[int]:
        """A submission by `who` and the organic thread it draws; returns the top-level commenters."""
        self.log.submission(who, flair, day)
        mean = BASE_TOP[flair] * appeal * float(np.exp(0.9 * self.rng.standard_normal() - 0.4))
        return self.sim.thread(self.rng, self.log, who, day, flair, int(self.rng.poisson(mean)), third=third)

    def result(self, manipulators: list[int], beneficiary: int) -> AttackResult:
        edges, posts = log_rows(self.log)
        ids = np.array(sorted(self.created), np.int64)
        ids = ids[np.isin(ids, posts.member)]
        facts = facts_for(ids, posts, self.created, frozenset(), self.comm.start)
        return AttackResult(
            edges=edges,
            posts=posts,
            facts=facts,
            manipulators=frozenset(BASE_ID + i for i in manipulators),
            beneficiary=BASE_ID + beneficiary,
        )


def _crew(comm: Community, base: float, strength: int) -> int:
    return max(1, round(base * MULT[strength] * (comm.size / 300) ** 0.5))


def comment_followers(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=60)
    (lead,) = plan.accounts(1, (700, 1100), p_op=0.5, p_back=0.5, reply_appeal=1.2)
    followers = plan.accounts(_crew(comm, 3, strength), (60, 500), p_op=0.3, p_back=0.3, reply_appeal=0.8)
    joined = {f: plan.first + int(rng.integers(0, 14)) for f in followers}
    per_comment = min(0.5, (1 + strength) / len(followers))
    flairs = (HELP, SHOWCASE, DISCUSSION, NEWS, HUMOR, NOFLAIR)
    for day in plan.days:
        day = int(day)
        here = [f for f in followers if joined[f] <= day]
        if rng.random() < 0.8:
            # The lead posts in any flair, and the followers comment agreement under it.
            for _ in range(int(rng.poisson(0.3))):
                flair = int(rng.choice(flairs))
                plan.post(lead, day, flair, 1.0)
                for f in here:
                    if rng.random() < 0.7:
                        plan.sim.conversation(rng, plan.log, f, lead, day, flair, op=lead)
            # The lead comments in others' threads; followers reply "this" to each comment.
            for _ in range(int(rng.poisson(4))):
                subs = plan.organic_subs(day)
                if len(subs) == 0:
                    break
                s = int(subs[rng.integers(len(subs))])
                op, flair = int(plan.sub_author[s]), int(plan.sub_flair[s])
                plan.sim.conversation(rng, plan.log, lead, op, day, flair, op=op)
                for f in here:
                    if rng.random() < per_comment:
                        plan.sim.conversation(rng, plan.log, f, lead, day, flair, op=op)
        for f in here:
            if rng.random() < 0.5:
                plan.comment_on_organic(f, day)
    return plan.result([lead, *followers], lead)


def early_seeding(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=42)
    poster = plan.member()
    plan.tune(poster, p_op=0.6)
    seeds = plan.accounts(_crew(comm, 4, strength), (200, 2000), p_op=0.3, p_back=0.3, reply_appeal=0.7)
    per_post = min(len(seeds), 3 + 2 * strength)
    for day in plan.days:
        day = int(day)
        for _ in range(int(rng.poisson(0.5))):
            flair = SHOWCASE if rng.random() < 0.6 else DISCUSSION
            plan.log.submission(poster, flair, day)
            chosen = rng.choice(seeds, per_post, replace=False)
            for s in chosen:
                plan.sim.conversation(rng, plan.log, int(s), poster, day, flair, op=poster)
            # The early comments lift the post in "hot": real members comment more.
            lift = 1 + 0.4 * per_post
            mean = BASE_TOP[flair] * lift * float(np.exp(0.6 * rng.standard_normal() - 0.2))
            plan.sim.thread(rng, plan.log, poster, day, flair, int(rng.poisson(mean)))
        for s in seeds:
            if rng.random() < 0.33:
                plan.comment_on_organic(s, day)
    return plan.result([poster, *seeds], poster)


def linked_brigade(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=56)
    (creator,) = plan.accounts(1, (800, 1400), p_op=0.4, p_back=0.4, reply_appeal=1.0)
    wave = max(4, round({1: 8, 2: 20, 3: 45}[strength] * (comm.size / 300) ** 0.25))
    core = plan.accounts(max(2, wave // 3), (200, 3000), p_op=0.2, p_back=0.3, reply_appeal=0.7)
    everyone = [creator, *core]
    for day in plan.days:
        day = int(day)
        if rng.random() >= 2 / 7:
            continue
        flair = SHOWCASE if rng.random() < 0.7 else NEWS
        thread = [creator, *plan.post(creator, day, flair, 1.0)]
        drive_by = plan.accounts(wave - len(core), (30, 3000), p_op=0.1, p_back=0.15, reply_appeal=0.5)
        for b in drive_by:
            if rng.random() < 0.2:
                plan.created[BASE_ID + b] = float(day - rng.uniform(0, 30))  # fresh accounts
        everyone += drive_by
        brigaders = [c for c in core if rng.random() < 0.7] + drive_by
        for b in rng.permutation(brigaders):
            b = int(b)
            d = plan.sim.clip_day(day + int(rng.random() < 0.3))
            parent = creator if rng.random() < 0.85 else thread[int(rng.integers(len(thread)))]
            plan.sim.conversation(rng, plan.log, b, parent, d, flair, op=creator, third=0.5)
            thread.append(b)
    return plan.result(everyone, creator)


def repost_ring(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=49)
    n = max(2, round({1: 2, 2: 4, 3: 8}[strength] * (comm.size / 300) ** 0.25))
    ring = plan.accounts(n, (60, 300), p_op=0.02, p_back=0.02, reply_appeal=1.5)
    lead = ring[0]
    for day in plan.days:
        day = int(day)
        for acc in ring:
            rate = 1.0 if acc == lead else 0.5
            for _ in range(int(rng.poisson(rate))):
                flair = SHOWCASE if rng.random() < 0.6 else HUMOR
                plan.post(acc, day, flair, 2.0)
                for other in ring:
                    if other != acc and rng.random() < 0.3:
                        # A copied old top comment: it draws replies like a good comment does.
                        plan.sim.conversation(rng, plan.log, other, acc, day, flair, op=acc)
    return plan.result(ring, lead)


def controversy_bait(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=42)
    baiter = plan.member()
    plan.tune(baiter, p_op=0.85, p_back=0.85, reply_appeal=2.0)
    rate = {1: 0.25, 2: 0.5, 3: 1.0}[strength]
    for day in plan.days:
        day = int(day)
        for _ in range(int(rng.poisson(rate))):
            flair = DISCUSSION if rng.random() < 0.7 else NOFLAIR
            plan.log.submission(baiter, flair, day)
            mean = BASE_TOP[DISCUSSION] * 2.5 * float(np.exp(0.7 * rng.standard_normal() - 0.25))
            top = plan.sim.sample(rng, day, flair, int(rng.poisson(mean)), exclude=baiter)
            for c in top:
                plan.sim.conversation(rng, plan.log, c, baiter, day, flair, op=baiter, third=1.8, back=1.5)
        for _ in range(int(rng.poisson(2 * rate))):
            subs = plan.organic_subs(day, (DISCUSSION, NEWS, NOFLAIR))
            if len(subs) == 0:
                break
            s = int(subs[rng.integers(len(subs))])
            op, flair = int(plan.sub_author[s]), int(plan.sub_flair[s])
            plan.sim.conversation(rng, plan.log, baiter, op, day, flair, op=op, third=1.5, back=1.5)
    return plan.result([baiter], baiter)


def answer_bot(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=49)
    (bot,) = plan.accounts(1, (300, 700), p_op=0.9, p_back=0.9, reply_appeal=1.0)
    share = {1: 0.3, 2: 0.6, 3: 0.9}[strength]
    log = comm.log
    questions = [
        (int(a), int(d), HELP)
        for a, d, f in zip(plan.sub_author, plan.sub_day, plan.sub_flair, strict=True)
        if f == HELP and d >= plan.first
    ]
    questions += [
        (a, d, WEEKLY)
        for a, t, f, d in zip(log.author, log.target, log.flair, log.day, strict=True)
        if f == WEEKLY and t < 0 and d >= plan.first
    ]
    questions.sort()
    for asker, day, flair in questions:
        if rng.random() < share:
            # Askers answer a bot less often than a person who helped them (back < 1).
            plan.sim.conversation(rng, plan.log, bot, asker, day, flair, op=asker, back=0.7)
    return plan.result([bot], bot)


def top_comment_hijack(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=49)
    (owner,) = plan.accounts(1, (1200, 1800), p_op=0.7, p_back=0.7, reply_appeal=1.0)
    crew = plan.accounts(_crew(comm, 3, strength), (365, 1800), p_op=0.3, p_back=0.3, reply_appeal=0.6)
    share = {1: 0.3, 2: 0.5, 3: 0.8}[strength]
    window = plan.sub_day >= plan.first
    popular = window & (plan.sub_first >= 0) & (plan.sub_top >= np.percentile(plan.sub_top[window], 80))
    per_hijack = min(len(crew), 1 + strength)
    for s in np.flatnonzero(popular):
        if rng.random() >= share:
            continue
        day, flair = int(plan.sub_day[s]), int(plan.sub_flair[s])
        op, top = int(plan.sub_author[s]), int(plan.sub_first[s])
        # The plug sits under the top comment, where everyone sees it: it draws replies.
        plan.sim.conversation(rng, plan.log, owner, top, day, flair, op=op, third=2.0)
        for c in rng.choice(crew, per_hijack, replace=False):
            plan.sim.conversation(rng, plan.log, int(c), owner, day, flair, op=op)
    for day in plan.days:
        for c in crew:
            if rng.random() < 0.33:
                plan.comment_on_organic(c, int(day))
    return plan.result([owner, *crew], owner)


def astroturf_chains(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    plan = Plan(comm, rng, window=56)
    (brand,) = plan.accounts(1, (365, 730), p_op=0.7, p_back=0.7, reply_appeal=0.8)
    shills = plan.accounts(_crew(comm, 3, strength), (90, 400), p_op=0.3, p_back=0.3, reply_appeal=0.6)
    chains_per_day = {1: 2, 2: 4, 3: 8}[strength] * (comm.size / 300) ** 0.5 / 7
    for day in plan.days:
        day = int(day)
        if rng.random() < 1 / 7:
            flair = NEWS if rng.random() < 0.5 else SHOWCASE
            plan.post(brand, day, flair, 0.8)
            for s in shills:
                if rng.random() < 0.5:
                    plan.sim.conversation(rng, plan.log, s, brand, day, flair, op=brand)
        for _ in range(int(rng.poisson(chains_per_day))):
            subs = plan.organic_subs(day, (HELP,))
            if len(subs) == 0:
                break
            q = int(subs[rng.integers(len(subs))])
            asker = int(plan.sub_author[q])
            a, b = (int(x) for x in rng.choice(shills, 2, replace=len(shills) < 2))
            # "Have you tried BrandX?" / "+1, it fixed mine" / "Glad it helped! DM us" / "thanks!"
            plan.sim.conversation(rng, plan.log, a, asker, day, HELP, op=asker, back=0.6)
            if b != a:
                plan.log.comment(b, a, HELP, day)
            plan.log.comment(brand, b, HELP, day)
            plan.log.comment(a, brand, HELP, day)
            if rng.random() < 0.5:
                plan.log.comment(b, brand, HELP, day)
    return plan.result([brand, *shills], brand)


ATTACKS: dict[str, Callable[[Community, int, np.random.Generator], AttackResult]] = {
    "comment_followers": comment_followers,
    "early_seeding": early_seeding,
    "linked_brigade": linked_brigade,
    "repost_ring": repost_ring,
    "controversy_bait": controversy_bait,
    "answer_bot": answer_bot,
    "top_comment_hijack": top_comment_hijack,
    "astroturf_chains": astroturf_chains,
}
