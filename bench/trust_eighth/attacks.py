"""Attacks on the keyboard server, message by message: what real manipulators there run, each at
strengths 1 (mild), 2 and 3 (strong), sizes scaling with the community. Each adds messages and
engagement (post-level, every engagement naming its message) on top of the organic server; real
members respond to attack posts as they would to any post (by who is online, how much they read the
channel, the post's appeal), or enter giveaways as real members do.

* giveaway_react: a member runs giveaways in their own name in #general, "react to enter"; real
  members online over the next days react to enter; the host names the winner.
* giveaway_reply_tag: "reply with your dream board and tag a friend to enter"; entrants reply and
  mention a friend, some tagged friends enter too; the host reacts to entries.
* giveaway_thread: a forum thread "comment to enter, and like my latest build"; entrants post in the
  thread and react to the host's build.
* vendor_alts: a new vendor's rep with fresh alt accounts that react to and reply to every group-buy
  post ("in!"), ask questions the rep answers, and spread some engagement on popular posts for cover.
* aged_accounts: a member buys aged accounts that joined long ago and sat silent, which wake up in
  the last ten weeks to chat, react to and reply to the member's posts and (for cover) others'.
* reaction_ring: builders who agree to react to and compliment each other's builds and chat within
  hours, post more builds, and post in each other's build logs.
* poll_clout: a member posts "react to vote" polls in #general every few days; real members vote.
* raid: a streamer joins and brings their audience from another server for a few days: new and old
  accounts react, hype and mention the streamer; moderators warn some; most raiders leave after.
* rep_farming: a trader in #buy-sell-trade with aged, idle alts doing fake trades: "+rep @trader"
  vouches, replies to listings, the trader vouching back; a few real trades beside them.
* sock_help: a member's alts ask questions in #help that the member answers, then thank them (reply
  and reaction), copying the pattern of a trusted helper; real experts sometimes answer too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.trust_eighth import model as m
from bench.trust_eighth.model import (
    BST,
    CHANNEL_IDS,
    DYN,
    GB,
    GEN,
    HELP,
    LOGS,
    MEME,
    MENTION,
    REACTION,
    REF_ONLINE,
    REPLY,
    SHOW,
    THREAD,
    ZONE_AFFINITY,
    Community,
    Log,
    Messages,
    PostRows,
)
from bot import trust


@dataclass
class AttackResult:
    edges: trust.Edges
    posts: trust.Posts
    facts: trust.MemberFacts
    manipulators: frozenset[int]
    beneficiary: int
    post_rows: PostRows
    messages: Messages


class Attack:
    """What an attack builds: its log (ids apart from every other attack's), the accounts it adds and
    helpers for the organic members' responses."""

    def __init__(self, comm: Community, index: int, rng: np.random.Generator) -> None:
        self.comm, self.rng, self.index = comm, rng, index
        self.log = Log(m.ATTACK_POST_BASE + index * m.ATTACK_STRIDE, known=comm.post_authors)
        self.new_ids: list[int] = []
        self.new_facts: list[tuple[float, float, float]] = []
        self.scale = comm.size / 400
        p = comm.people
        self.left = np.where(np.isnan(p.left), np.inf, p.left)

    # ---------------------------------------------------------------- accounts

    def accounts(self, joined: np.ndarray, created: np.ndarray, left: np.ndarray | None = None) -> np.ndarray:
        k = len(joined)
        base = m.ATTACK_MEMBER_BASE + self.index * m.ATTACK_STRIDE + len(self.new_ids)
        ids = base + np.arange(k, dtype=np.int64)
        lf = np.full(k, np.nan) if left is None else left
        self.new_ids += ids.tolist()
        self.new_facts += list(zip(joined.tolist(), created.tolist(), lf.tolist(), strict=True))
        return ids

    def beneficiary(self, roles: tuple[int, ...] = (m.REGULAR, m.CASUAL), channel: int | None = None) -> int:
        """An organic member of middling standing: posted a fair amount, present today, no genuine
        voice (index into People)."""
        c, p = self.comm, self.comm.people
        msgs = c.post_authors
        sel = np.ones(len(msgs), bool) if channel is None else msgs.channel == CHANNEL_IDS[channel]
        ids, n = np.unique(msgs.author[sel], return_counts=True)
        count = np.zeros(len(p.ids))
        inside = (ids >= m.MEMBER_BASE) & (ids < m.MEMBER_BASE + len(p.ids))
        count[ids[inside] - m.MEMBER_BASE] = n[inside]
        genuine = np.isin(p.ids, np.array(sorted(c.genuine), np.int64))
        ok = np.isin(p.role, roles) & np.isnan(p.left) & ~genuine & (count >= 10)
        cand = np.flatnonzero(ok)
        if not len(cand):
            cand = np.flatnonzero(np.isnan(p.left) & ~genuine & (count > 0))
        return int(self.rng.choice(cand))

    def days(self, first: int, last: int) -> np.ndarray:
        return np.arange(max(first, self.comm.start), min(last, self.comm.today) + 1)

    # ---------------------------------------------------------------- organic responses

    def online(self, day: int) -> np.ndarray:
        return self.comm.online_on(day)

    def organic_response(
        self,
        posts: np.ndarray,
        days: np.ndarray,
        channel: int,
        appeal: np.ndarray,
        author_zone: np.ndarray,
        author_idx: np.ndarray,
        replies: bool = True,
    ) -> None:
        """Real members online on each post's day react to it and reply to it as to any post of the
        channel with this appeal (the author's index -1 for accounts the attack adds)."""
        p, rng, dyn = self.comm.people, self.rng, DYN[channel]
        for day in np.unique(days):
            sel = days == day
            on = self.online(int(day))
            if len(on) < 2:
                continue
            aud = len(on) / REF_ONLINE
            topic = rng.integers(0, m.TOPICS, int(sel.sum()))
            w = p.reads[on][:, np.full(len(topic), channel)].T * (0.3 + 3.0 * p.interest[on][:, topic].T)
            w *= ZONE_AFFINITY[author_zone[sel]][:, p.zone[on]]
            w[author_idx[sel][:, None] == on[None, :]] = 0.0
            draw = np.exp(rng.normal(-0.5 * dyn.sigma**2, dyn.sigma, len(topic)))
            lam = dyn.react * appeal[sel] * draw * aud**dyn.audience
            ri, ci = m.pick(rng, w * p.react_prop[on][None, :], np.minimum(rng.poisson(lam), len(on) - 1))
            actor = on[ci]
            d = m.lag_days(rng, np.full(len(ri), day), actor, self.left, self.comm.today, 0.2)
            self.log.engage(posts[sel][ri], p.ids[actor], d, REACTION, 1)
            if replies and dyn.reply > 0:
                k = rng.poisson(dyn.reply * (appeal[sel] * draw) ** dyn.reply_exp * aud**0.25)
                ri, ci = m.pick(rng, w * p.reply_prop[on][None, :], k)
                self.log.post(p.ids[on[ci]], CHANNEL_IDS[channel], day, posts[sel][ri], posts[sel][ri])
                self.log.engage(posts[sel][ri], p.ids[on[ci]], day, REPLY)

    def entrants(
        self, day0: int, window: int, share: float, exclude: set[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Real members who enter a giveaway open from `day0` for `window` days: each member online
        in the window enters with probability `share` (more if they react a lot), on the first day
        they are online. Returns (member indexes, days)."""
        p, rng = self.comm.people, self.rng
        first: dict[int, int] = {}
        for day in self.days(day0, day0 + window - 1):
            for i in self.online(int(day)).tolist():
                first.setdefault(i, int(day))
        cand = np.array([i for i in first if int(p.ids[i]) not in exclude], np.int64)
        if not len(cand):
            return cand, cand
        prob = np.clip(share * (0.5 + 0.5 * np.minimum(p.react_prop[cand], 2.0)), 0.0, 0.95)
        who = cand[rng.random(len(cand)) < prob]
        return who, np.array([first[i] for i in who.tolist()], np.int64)

    def friend_of(self, i: int, day: int) -> int:
        """A friend (same group, present) of member index `i`, or any present member."""
        p, rng = self.comm.people, self.rng
        pres = self.comm.present(day)
        pres = pres[pres != i]
        g = p.group[i]
        friends = pres[p.group[pres] == g] if g >= 0 else pres[:0]
        pool = friends if len(friends) else pres
        return int(rng.choice(pool))

    def popular_posts(self, day: int, k: int) -> np.ndarray:
        """Organic posts of `day` that drew engagement, drawn by how much (cover for fake accounts)."""
        rows = self.comm.post_rows
        sel = (rows.post_day == day) & (rows.kind == REACTION) & (rows.author < m.BOT_BASE)
        posts, n = np.unique(rows.post[sel], return_counts=True)
        if not len(posts) or k <= 0:
            return posts[:0]
        return self.rng.choice(posts, min(k, len(posts)), replace=False, p=n / n.sum())

    def member_posts(
        self, member: int, first: int, last: int, channels: tuple[int, ...] | None = None
    ) -> tuple:
        msgs = self.comm.post_authors
        sel = (msgs.author == member) & (msgs.day >= first) & (msgs.day <= last)
        if channels is not None:
            sel &= np.isin(msgs.channel, CHANNEL_IDS[list(channels)])
        return msgs.id[sel], msgs.day[sel]

    def finish(self, manipulators: set[int], beneficiary: int) -> AttackResult:
        rows, msgs = self.log.finish()
        ids = np.array(self.new_ids, np.int64)
        f = np.array(self.new_facts, np.float64).reshape(-1, 3)
        facts = trust.MemberFacts(
            member_id=ids, joined_day=f[:, 0], account_created_day=f[:, 1], left_day=f[:, 2]
        )
        return AttackResult(
            edges=rows.edges(),
            posts=msgs.posts(),
            facts=facts,
            manipulators=frozenset(int(x) for x in manipulators),
            beneficiary=int(beneficiary),
            post_rows=rows,
            messages=msgs,
        )


def _pick(levels: tuple, strength: int) -> float:
    return levels[strength - 1]


# ------------------------------------------------------------------------------------------- giveaways


def giveaway_react(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 0, rng)
    p, host = comm.people, at.beneficiary()
    hid = int(p.ids[host])
    n_give = int(_pick((1, 2, 4), strength))
    share = _pick((0.3, 0.45, 0.6), strength)
    for t in np.sort(rng.choice(at.days(comm.today - 50, comm.today - 4), n_give, replace=False)):
        t = int(t)
        gid = at.log.post(hid, CHANNEL_IDS[GEN], t)
        at.log.post(hid, CHANNEL_IDS[GEN], min(t + 2, comm.today))  # "ends tomorrow, react to enter!"
        who, day = at.entrants(t, 4, share, {hid})
        at.log.engage(np.repeat(gid, len(who)), p.ids[who], day, REACTION)
        chat = rng.random(len(who)) < 0.08  # "gl all", "ty for hosting"
        if chat.any():
            at.log.post(p.ids[who[chat]], CHANNEL_IDS[GEN], day[chat], gid, gid)
            at.log.engage(np.repeat(gid, int(chat.sum())), p.ids[who[chat]], day[chat], REPLY)
        if len(who):
            end = min(t + 4, comm.today)
            win = at.log.post(hid, CHANNEL_IDS[GEN], end)
            at.log.engage(win, hid, end, MENTION, 1, target=p.ids[int(rng.choice(who))])
    return at.finish({hid}, hid)


def giveaway_reply_tag(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 1, rng)
    p, host = comm.people, at.beneficiary()
    hid = int(p.ids[host])
    n_give = int(_pick((1, 2, 3), strength))
    share = _pick((0.15, 0.25, 0.35), strength)
    for t in np.sort(rng.choice(at.days(comm.today - 50, comm.today - 5), n_give, replace=False)):
        t = int(t)
        gid = at.log.post(hid, CHANNEL_IDS[GEN], t)
        who, day = at.entrants(t, 5, share, {hid})
        entered = set(who.tolist())
        # Tagged friends who are online in the window enter too (once).
        tags = []
        for i, d in zip(who.tolist(), day.tolist(), strict=True):
            if rng.random() < 0.7:
                f = at.friend_of(i, d)
                tags.append((i, d, f))
                if f not in entered and rng.random() < 0.4:
                    later = [x for x in at.days(d, t + 4) if comm.online[f, x - comm.start]]
                    if later:
                        entered.add(f)
                        tag = at.friend_of(f, int(later[0])) if rng.random() < 0.5 else -1
                        tags.append((f, int(later[0]), tag))
            else:
                tags.append((i, d, -1))
        ent = np.array([x[0] for x in tags], np.int64)
        ent_day = np.array([x[1] for x in tags], np.int64)
        tagged = np.array([x[2] for x in tags], np.int64)
        if not len(ent):
            continue
        rid = at.log.post(p.ids[ent], CHANNEL_IDS[GEN], ent_day, gid, gid)
        at.log.engage(np.repeat(gid, len(ent)), p.ids[ent], ent_day, REPLY)
        has = tagged >= 0
        at.log.engage(rid[has], p.ids[ent[has]], ent_day[has], MENTION, 1, target=p.ids[tagged[has]])
        ack = rng.random(len(rid)) < 0.4  # the host reacts to entries
        at.log.engage(rid[ack], hid, ent_day[ack], REACTION)
        end = min(t + 5, comm.today)
        win = at.log.post(hid, CHANNEL_IDS[GEN], end)
        at.log.engage(win, hid, end, MENTION, 1, target=p.ids[int(rng.choice(ent))])
    return at.finish({hid}, hid)


def giveaway_thread(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 2, rng)
    p, host = comm.people, at.beneficiary()
    hid = int(p.ids[host])
    n_give = int(_pick((1, 2, 3), strength))
    share = _pick((0.12, 0.2, 0.3), strength)
    for t in np.sort(rng.choice(at.days(comm.today - 50, comm.today - 8), n_give, replace=False)):
        t = int(t)
        # The host's latest build to like: an organic showcase post, or a fresh one.
        build, _ = at.member_posts(hid, t - 30, t, (SHOW,))
        build_id = build[-1] if len(build) else at.log.post(hid, CHANNEL_IDS[SHOW], t)[0]
        gid = at.log.post(hid, CHANNEL_IDS[LOGS], t)
        who, day = at.entrants(t, 7, share, {hid})
        if not len(who):
            continue
        at.log.post(p.ids[who], CHANNEL_IDS[LOGS], day, -1, gid)
        at.log.engage(np.repeat(gid, len(who)), p.ids[who], day, THREAD)
        liked = rng.random(len(who)) < 0.85
        at.log.engage(np.repeat(build_id, int(liked.sum())), p.ids[who[liked]], day[liked], REACTION)
        end = min(t + 7, comm.today)
        win = at.log.post(hid, CHANNEL_IDS[LOGS], end, -1, gid)
        at.log.engage(win, hid, end, MENTION, 1, target=p.ids[int(rng.choice(who))])
    return at.finish({hid}, hid)


# ------------------------------------------------------------------------------------ fake accounts


def vendor_alts(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 3, rng)
    today = comm.today
    j0 = max(comm.start + 5, today - int(rng.integers(35, 60)))
    (vid,) = at.accounts(np.array([j0], float), np.array([j0 - rng.integers(700, 1800)], float))
    k = max(2, round(_pick((4, 8, 16), strength) * math.sqrt(at.scale)))
    joined = j0 + rng.integers(0, 10, k)
    alts = at.accounts(joined.astype(float), (joined - rng.integers(1, 60, k)).astype(float))
    zone = np.array([int(rng.integers(0, 3))])
    for day in at.days(j0, today):
        day = int(day)
        posts = []
        if rng.random() < 0.4:
            posts.append((GB, at.log.post(vid, CHANNEL_IDS[GB], day)[0]))
        if rng.random() < 0.12:
            posts.append((SHOW, at.log.post(vid, CHANNEL_IDS[SHOW], day)[0]))
        if rng.random() < 0.3:
            at.log.post(vid, CHANNEL_IDS[GEN], day)
        for ch, pid in posts:
            at.organic_response(np.array([pid]), np.array([day]), ch, np.array([1.2]), zone, np.array([-1]))
        on = alts[(joined <= day) & (rng.random(k) < 0.5)]
        for pid in [x for _, x in posts]:
            at.log.engage(np.full(len(on), pid), on, day, REACTION, rng.integers(1, 3, len(on)))
            rep = on[rng.random(len(on)) < 0.5]
            rid = at.log.post(rep, CHANNEL_IDS[GB], day, pid, pid)  # "in!", "when does it ship?"
            at.log.engage(np.full(len(rep), pid), rep, day, REPLY)
            back = rng.random(len(rid)) < 0.5
            at.log.post(np.full(int(back.sum()), vid), CHANNEL_IDS[GB], day, rid[back], pid)
            at.log.engage(rid[back], vid, day, REPLY)
        for a in on:  # cover: reactions on the day's popular posts, a reply now and then
            cover = at.popular_posts(day, int(rng.integers(1, 4)))
            at.log.engage(cover, a, day, REACTION)
            if len(cover) and rng.random() < 0.15:
                at.log.post(a, CHANNEL_IDS[GEN], day, cover[0], cover[0])
                at.log.engage(cover[:1], a, day, REPLY)
    return at.finish({vid, *alts.tolist()}, vid)


def aged_accounts(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 4, rng)
    p, today = comm.people, comm.today
    b = at.beneficiary()
    bid = int(p.ids[b])
    k = max(2, round(_pick((5, 10, 20), strength) * math.sqrt(at.scale)))
    joined = (comm.start - rng.integers(30, 300, k)).astype(float)
    accs = at.accounts(joined, joined - rng.integers(700, 2200, k))
    wake = today - 70
    b_posts, b_days = at.member_posts(bid, wake, today)
    for day in at.days(wake, today):
        day = int(day)
        on = accs[rng.random(k) < 0.35]
        if not len(on):
            continue
        chat = on[rng.random(len(on)) < 0.6]
        at.log.post(chat, CHANNEL_IDS[GEN], day)
        mine = b_posts[(b_days == day) | (b_days == day - 1)]
        for a in on:
            sel = mine[rng.random(len(mine)) < 0.8]
            at.log.engage(sel, a, day, REACTION)
            rep = sel[rng.random(len(sel)) < 0.35]
            at.log.post(np.full(len(rep), a), CHANNEL_IDS[GEN], day, rep, rep)
            at.log.engage(rep, a, day, REPLY)
            cover = at.popular_posts(day, int(rng.integers(0, 3)))
            at.log.engage(cover, a, day, REACTION)
            if len(cover) and rng.random() < 0.2:
                at.log.post(a, CHANNEL_IDS[GEN], day, cover[0], cover[0])
                at.log.engage(cover[:1], a, day, REPLY)
    return at.finish({bid, *accs.tolist()}, bid)


def reaction_ring(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 5, rng)
    p, today = comm.people, comm.today
    r = max(3, round(_pick((5, 8, 12), strength) * at.scale**0.3))
    ring: list[int] = []
    while len(ring) < r:
        c = at.beneficiary((m.REGULAR, m.CASUAL, m.EXPERT))
        if c not in ring:
            ring.append(c)
    ids = p.ids[ring]
    first = today - 75
    # More builds, and a build log each.
    for i, mid in zip(ring, ids.tolist(), strict=True):
        days = at.days(first, today)
        on = days[comm.online[i, days - comm.start]]
        builds = on[rng.random(len(on)) < 0.2]
        bids = at.log.post(np.full(len(builds), mid), CHANNEL_IDS[SHOW], builds)
        at.organic_response(
            bids,
            builds,
            SHOW,
            np.full(len(bids), p.quality[i, SHOW]),
            np.full(len(bids), p.zone[i]),
            np.full(len(bids), i),
        )
        if len(on):
            d0 = int(rng.choice(on))
            tid = at.log.post(mid, CHANNEL_IDS[LOGS], d0)[0]
            for other in ids.tolist():
                if other == mid:
                    continue
                td = d0 + np.unique(rng.integers(0, 20, int(rng.integers(1, 4))))
                td = td[td <= today]
                at.log.post(np.full(len(td), other), CHANNEL_IDS[LOGS], td, -1, tid)
                at.log.engage(np.full(len(td), tid), other, td, THREAD)
    # Everything a ring member posts in the window gets the ring's reactions within hours.
    rows_msgs = Messages.concat([comm.post_authors, at.log.messages()])
    sel = np.isin(rows_msgs.author, ids) & (rows_msgs.day >= first) & (rows_msgs.root == rows_msgs.id)
    sel &= np.isin(rows_msgs.channel, CHANNEL_IDS[[GEN, SHOW, MEME, LOGS, HELP]])
    posts, authors, days, chans = (
        rows_msgs.id[sel],
        rows_msgs.author[sel],
        rows_msgs.day[sel],
        rows_msgs.channel[sel],
    )
    for mid in ids.tolist():
        mine = authors != mid
        go = mine & (rng.random(len(posts)) < 0.9)
        d = np.minimum(days[go] + (rng.random(int(go.sum())) < 0.2), today)
        at.log.engage(posts[go], mid, d, REACTION, rng.integers(1, 3, int(go.sum())))
        show = np.isin(chans, CHANNEL_IDS[[SHOW, LOGS]])
        rep = mine & (rng.random(len(posts)) < np.where(show, 0.5, 0.15))
        at.log.post(np.full(int(rep.sum()), mid), chans[rep], days[rep], posts[rep], posts[rep])
        at.log.engage(posts[rep], mid, days[rep], REPLY)
    return at.finish(set(ids.tolist()), int(ids[0]))


def poll_clout(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 6, rng)
    p = comm.people
    host = at.beneficiary()
    hid = int(p.ids[host])
    n_polls = int(_pick((6, 12, 24), strength))
    share = _pick((0.12, 0.18, 0.25), strength)
    pool = at.days(comm.today - 60, comm.today - 1)
    for t in np.sort(rng.choice(pool, min(n_polls, len(pool)), replace=False)):
        t = int(t)
        pid = at.log.post(hid, CHANNEL_IDS[GEN], t)
        who, day = at.entrants(t, 2, share, {hid})
        at.log.engage(np.repeat(pid, len(who)), p.ids[who], day, REACTION)
        talk = rng.random(len(who)) < 0.06
        rid = at.log.post(p.ids[who[talk]], CHANNEL_IDS[GEN], day[talk], pid, pid)
        at.log.engage(np.repeat(pid, int(talk.sum())), p.ids[who[talk]], day[talk], REPLY)
        back = rng.random(len(rid)) < 0.5
        at.log.post(np.full(int(back.sum()), hid), CHANNEL_IDS[GEN], day[talk][back], rid[back], pid)
        at.log.engage(rid[back], hid, day[talk][back], REPLY)
    return at.finish({hid}, hid)


def raid(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 7, rng)
    p, today = comm.people, comm.today
    t0 = today - int(rng.integers(8, 30))
    (sid,) = at.accounts(np.array([t0 - 3], float), np.array([t0 - rng.integers(500, 2000)], float))
    k = max(5, round(_pick((20, 60, 150), strength) * math.sqrt(at.scale)))
    joined = t0 + (rng.random(k) < 0.3)
    created = np.where(
        rng.random(k) < 0.4, joined - rng.integers(0, 30, k), joined - rng.integers(365, 2200, k)
    )
    leaving = rng.random(k) < 0.7
    left = np.where(leaving, np.minimum(joined + rng.integers(1, 6, k), today + 1), np.nan)
    left = np.where(left > today, np.nan, left)
    raiders = at.accounts(joined.astype(float), created.astype(float), left.astype(float))
    left_inf = np.where(np.isnan(left), np.inf, left)
    mods = np.flatnonzero(p.role == m.MOD)
    zone = np.array([0])
    for day in at.days(t0 - 3, today):
        day = int(day)
        raid_day = t0 <= day <= t0 + 2
        here = (joined <= day) & (day < left_inf)
        on = raiders[here & (rng.random(k) < (0.9 if raid_day else 0.1))]
        posts = []
        if raid_day or rng.random() < 0.35:
            posts.append(
                (
                    SHOW if day == t0 else GEN,
                    at.log.post(sid, CHANNEL_IDS[SHOW if day == t0 else GEN], day)[0],
                )
            )
        for ch, pid in posts:
            at.organic_response(np.array([pid]), np.array([day]), ch, np.array([1.0]), zone, np.array([-1]))
            at.log.engage(np.full(len(on), pid), on, day, REACTION, rng.integers(1, 4, len(on)))
            hype = on[rng.random(len(on)) < 0.5]
            at.log.post(hype, CHANNEL_IDS[ch], day, pid, pid)
            at.log.engage(np.full(len(hype), pid), hype, day, REPLY)
        if raid_day and len(on):
            spam = on[rng.random(len(on)) < 0.4]  # memes and "@streamer best" in #general
            mid = at.log.post(spam, CHANNEL_IDS[MEME], day)
            at.log.engage(mid, spam, day, MENTION, 1, target=sid)
            mods_on = mods[comm.online[mods, day - comm.start]] if comm.start <= day else mods[:0]
            if len(mods_on) and len(spam):
                warned = spam[rng.random(len(spam)) < 0.2]
                w_by = p.ids[rng.choice(mods_on, len(warned))]
                wm = mid[np.isin(spam, warned)]
                at.log.post(w_by, CHANNEL_IDS[MEME], day, wm, wm)
                at.log.engage(wm, w_by, day, REPLY)
    return at.finish({sid, *raiders.tolist()}, sid)


def rep_farming(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 8, rng)
    p, today = comm.people, comm.today
    t = at.beneficiary()
    tid = int(p.ids[t])
    k = max(2, round(_pick((3, 6, 10), strength) * math.sqrt(at.scale)))
    joined = (comm.start - rng.integers(10, 100, k)).astype(float)
    alts = at.accounts(joined, joined - rng.integers(400, 2000, k))
    first = today - 80
    days = at.days(first, today)
    listings = days[rng.random(len(days)) < 0.35]
    lids = at.log.post(np.full(len(listings), tid), CHANNEL_IDS[BST], listings)
    at.organic_response(
        lids,
        listings,
        BST,
        np.full(len(lids), p.quality[t, BST]),
        np.full(len(lids), p.zone[t]),
        np.full(len(lids), t),
    )
    for lid, d in zip(lids.tolist(), listings.tolist(), strict=True):
        buyers = alts[rng.random(k) < 0.3]
        for a in buyers.tolist():
            rid = at.log.post(a, CHANNEL_IDS[BST], d, lid, lid)  # "PM'd"
            at.log.engage(lid, a, d, REPLY)
            back = at.log.post(tid, CHANNEL_IDS[BST], d, rid, lid)
            at.log.engage(rid, tid, d, REPLY)
            dv = min(d + int(rng.integers(2, 8)), today)  # "+rep @trader smooth deal"
            vid = at.log.post(a, CHANNEL_IDS[BST], dv)
            at.log.engage(vid, a, dv, MENTION, 1, target=tid)
            at.log.engage(back, a, dv, REACTION)
            if rng.random() < 0.7:  # "+rep @alt"
                vb = at.log.post(tid, CHANNEL_IDS[BST], dv, vid, vid)
                at.log.engage(vid, tid, dv, REPLY)
                at.log.engage(vb, tid, dv, MENTION, 1, target=a)
    # A few real trades: a real buyer vouches.
    for _ in range(int(rng.integers(1, 4))):
        d = int(rng.choice(days))
        on = at.online(d)
        on = on[on != t]
        if len(on):
            buyer = int(p.ids[int(rng.choice(on))])
            vid = at.log.post(buyer, CHANNEL_IDS[BST], d)
            at.log.engage(vid, buyer, d, MENTION, 1, target=tid)
    return at.finish({tid, *alts.tolist()}, tid)


def sock_help(comm: Community, strength: int, rng: np.random.Generator) -> AttackResult:
    at = Attack(comm, 9, rng)
    p, today = comm.people, comm.today
    main = at.beneficiary()
    mid = int(p.ids[main])
    k = max(2, round(_pick((2, 4, 6), strength) * at.scale**0.25))
    joined = (comm.start + rng.integers(0, comm.days - 60, k)).astype(float)
    alts = at.accounts(joined, joined - rng.integers(30, 1500, k))
    n_q = max(4, round(_pick((10, 20, 40), strength) * math.sqrt(at.scale)))
    first = today - 90
    days = at.days(first, today)
    on_main = days[comm.online[main, days - comm.start]]
    if not len(on_main):
        on_main = days
    experts_w = p.help_skill**2
    for d in np.sort(rng.choice(on_main, n_q)).tolist():
        a = int(rng.choice(alts))
        q = at.log.post(a, CHANNEL_IDS[HELP], d)[0]
        ans = at.log.post(mid, CHANNEL_IDS[HELP], d, q, q)[0]
        at.log.engage(q, mid, d, REPLY)
        thanks = at.log.post(a, CHANNEL_IDS[HELP], d, ans, q)[0]
        at.log.engage(ans, a, d, REPLY)
        at.log.engage(ans, a, d, REACTION)
        if rng.random() < 0.4:  # a follow-up exchange
            f2 = at.log.post(mid, CHANNEL_IDS[HELP], d, thanks, q)[0]
            at.log.engage(thanks, mid, d, REPLY)
            at.log.post(a, CHANNEL_IDS[HELP], d, f2, q)
            at.log.engage(f2, a, d, REPLY)
        on = at.online(d)
        if len(on) and rng.random() < 0.3:  # a real expert answers too
            w = experts_w[on] / experts_w[on].sum()
            e = int(p.ids[int(rng.choice(on, p=w))])
            if e != mid:
                at.log.post(e, CHANNEL_IDS[HELP], d, q, q)
                at.log.engage(q, e, d, REPLY)
    for a in alts.tolist():  # light activity elsewhere
        for d in rng.choice(days, 8).tolist():
            at.log.engage(at.popular_posts(int(d), 2), a, int(d), REACTION)
    return at.finish({mid, *alts.tolist()}, mid)


ATTACKS: dict[str, Callable[[Community, int, np.random.Generator], AttackResult]] = {
    "giveaway_react": giveaway_react,
    "giveaway_reply_tag": giveaway_reply_tag,
    "giveaway_thread": giveaway_thread,
    "vendor_alts": vendor_alts,
    "aged_accounts": aged_accounts,
    "reaction_ring": reaction_ring,
    "poll_clout": poll_clout,
    "raid": raid,
    "rep_farming": rep_farming,
    "sock_help": sock_help,
}
