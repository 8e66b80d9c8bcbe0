"""Manipulations on top of a gen.Community, each in three strengths (1..3).

Every attack returns an Attack: extra engagement rows and posts (including the organic community's
response to the attackers' posts), facts for new accounts, the manipulators (internal ids) and the
beneficiaries. Account counts scale with sqrt(size / 300).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.trust_independent.model import (
    CASUAL,
    LURKER,
    ONLINE,
    REACTION,
    REGULAR,
    REPLY,
    THREAD_REPLY,
    TODAY,
    PostRows,
    Rows,
    channel_id,
)


@dataclass
class Attack:
    name: str
    strength: int
    rows: Rows = field(default_factory=Rows)
    posts: PostRows = field(default_factory=PostRows)
    facts: dict = field(default_factory=dict)  # new id -> (joined_day, created_day)
    manip: set = field(default_factory=set)
    beneficiaries: set = field(default_factory=set)
    pinned: set = field(default_factory=set)


def _scale(cm, k):
    return max(3, round(k * (cm.n / 300) ** 0.5))


def _new_ids(cm, atk, k):
    base = cm.n + 100_000 + len(atk.facts)
    return np.arange(base, base + k)


def _pick_beneficiary(cm, voices, rng, roles=(CASUAL, REGULAR), exclude=()):
    ok = (
        np.isin(cm.role, roles)
        & (cm.join <= cm.start - 30)
        & (cm.leave > TODAY)
        & (cm.break_end < TODAY - 20)
    )
    ok[list(voices)] = False
    ok[list(exclude)] = False
    pool = np.flatnonzero(ok)
    return int(rng.choice(pool))


def _pick_members(cm, voices, rng, k, roles=(CASUAL, REGULAR), exclude=()):
    ok = np.isin(cm.role, roles) & (cm.join <= cm.start - 10) & (cm.leave > TODAY)
    ok[list(voices)] = False
    ok[list(exclude)] = False
    pool = np.flatnonzero(ok)
    return rng.choice(pool, min(k, len(pool)), replace=False)


def _posts_by_day(cm, atk, m):
    """{day: number of posts of m} from organic and attack posts."""
    out = {}
    for P in (cm.posts, atk.posts):
        mm, _cc, dd = P.arrays()
        sel = mm == m
        for d in dd[sel]:
            out[int(d)] = out.get(int(d), 0) + 1
    return out


def _active(cm, d):
    return cm.active_by_day[d - cm.start]


def _extra_posts(cm, atk, m, days, per_day, channels, appeal=None, block=None):
    rng = cm.rng
    for d in days:
        k = rng.poisson(per_day)
        if k <= 0:
            continue
        for c in rng.choice(channels, k):
            cm.respond(int(d), m, int(c), 1, appeal=appeal, rows=atk.rows, posts=atk.posts, block=block)


def _cover(cm, atk, actor, d, k, channels, kinds_p=0.7, block=None):
    """actor engages k random members active on day d (posters weighted by rate)."""
    rng = cm.rng
    act = _active(cm, d)
    if k <= 0 or len(act) == 0:
        return np.zeros(0, np.int64)
    w = cm.rate[act] + 0.05
    if block is not None:
        w = w * ONLINE[cm.tz[act], block]
    t = rng.choice(act, k, p=w / w.sum())
    kinds = np.where(rng.random(k) < kinds_p, REACTION, REPLY)
    for ti, ki in zip(t, kinds, strict=False):
        atk.rows.add([actor], int(ti), channel_id(int(rng.choice(channels))), d, int(ki))
    return t


def _chs(cm, *names):
    return [cm.ci[n] for n in names if n in cm.ci]


def _topic_chs(cm):
    return [i for i, c in enumerate(cm.ch_names) if c.startswith("topic")]


# ------------------------------------------------------------------------------------------------
def raid(cm, voices, s):
    """Members of a partner server join and, over two weeks, react to and reply to one member's posts,
    with a little chatter elsewhere for cover."""
    rng = cm.rng
    atk = Attack("raid", s)
    k = _scale(cm, [10, 25, 60][s - 1])
    t = _pick_beneficiary(cm, voices, rng)
    atk.beneficiaries = {t}
    r0 = TODAY - 24
    days = np.arange(r0, r0 + 14)
    _extra_posts(cm, atk, t, days, 2.5, _chs(cm, "general", "offtopic", "memes"))
    raiders = _new_ids(cm, atk, k)
    for r in raiders:
        j = int(r0 - rng.integers(0, 5))
        atk.facts[int(r)] = (j, j - int(rng.integers(100, 1500)))
    tp = _posts_by_day(cm, atk, t)
    gen = cm.ci["general"]
    for d in days:
        np_t = tp.get(int(d), 0)
        for r in raiders:
            if rng.random() > 0.55:
                continue
            if np_t:
                atk.rows.add([r], t, channel_id(gen), d, REACTION)
                if np_t > 1:
                    atk.rows.add([r], t, channel_id(gen), d, REACTION)
                if rng.random() < 0.35 * s / 2:
                    atk.rows.add([r], t, channel_id(gen), d, REPLY)
                    atk.posts.add([r], channel_id(gen), d)
            _cover(cm, atk, int(r), int(d), int(rng.integers(0, 3)), _chs(cm, "general", "memes"))
            if rng.random() < 0.2:
                cm.respond(int(d), int(r), gen, 1, appeal=0.5, rows=atk.rows, posts=atk.posts)
    atk.manip = {t} | set(raiders.tolist())
    return atk


def rotating_ring(cm, voices, s):
    """Established members trade engagement with a partner that changes every week."""
    rng = cm.rng
    atk = Attack("rotating ring", s)
    k = _scale(cm, [8, 14, 24][s - 1])
    k += k % 2
    ring = _pick_members(cm, voices, rng, k)
    weeks = 10
    for w in range(weeks):
        perm = rng.permutation(ring)
        d0 = TODAY - 7 * (w + 1) + 1
        for a, b in zip(perm[0::2], perm[1::2], strict=False):
            for d in range(d0, d0 + 7):
                for x, y in ((a, b), (b, a)):
                    if rng.random() < 0.7:
                        c = channel_id(
                            int(rng.choice(_chs(cm, "general", "offtopic", "memes") + _topic_chs(cm)))
                        )
                        atk.rows.add([x], int(y), c, d, REACTION)
                        if rng.random() < 0.5:
                            atk.rows.add([x], int(y), c, d, REPLY)
                            atk.posts.add([x], c, d)
    atk.manip = set(ring.tolist())
    atk.beneficiaries = set(ring.tolist())
    return atk


def giveaway(cm, voices, s):
    """A member runs 'react to enter' / 'reply to enter' giveaways in their own name."""
    rng = cm.rng
    atk = Attack("giveaway", s)
    host = _pick_beneficiary(cm, voices, rng)
    every = [7, 4, 2][s - 1]
    p_react = [0.15, 0.25, 0.30][s - 1]
    p_reply = [0.0, 0.08, 0.15][s - 1]
    gen = cm.ci["general"]
    for d0 in range(cm.start + 10, TODAY + 1, every):
        atk.posts.add([host], channel_id(gen), d0)
        for d in (d0, min(d0 + 1, TODAY)):
            act = _active(cm, d)
            act = act[act != host]
            p = p_react / 2 * np.minimum(1.5, cm.prop[act])
            ent = act[rng.random(len(act)) < p]
            atk.rows.add(ent, host, channel_id(gen), d, REACTION)
            rep = act[(rng.random(len(act)) < p_reply / 2) & (cm.role[act] != LURKER)]
            atk.rows.add(rep, host, channel_id(gen), d, REPLY)
            atk.posts.add(rep, channel_id(gen), d)
        # winner thanks the host a couple of days later
        act = _active(cm, min(d0 + 2, TODAY))
        if len(act):
            win = int(rng.choice(act))
            if win != host:
                atk.rows.add([win], host, channel_id(gen), min(d0 + 2, TODAY), REPLY)
    atk.manip = {host}
    atk.beneficiaries = {host}
    return atk


def mod_abuse(cm, voices, s):
    """A moderator posts announcements with @everyone about themselves, pins their own posts, and
    (strength 3) pins themselves and three alts as trusted in the bot."""
    rng = cm.rng
    atk = Attack("mod abuse", s)
    mods = [m for m in cm.mods if m not in voices and cm.leave[m] > TODAY]
    if not mods:
        mods = list(cm.mods)
    # the least engaged mod
    _a, t, *_ = cm.rows.arrays()
    got = np.bincount(t, minlength=cm.n)
    mod = int(min(mods, key=lambda m: got[m]))
    ann = cm.ci["announcements"]
    per_week = [2, 5, 7][s - 1]
    days = np.arange(TODAY - 60, TODAY + 1)
    # What the bot records of the engagement with an announcement that pinged everyone, or with a
    # post its author pinned: reactions and replies that engage nobody (bot/engagement.py). The
    # posts, and the replies as their authors' posts, are recorded as any.
    nobody = Rows()
    for d in days:
        if rng.random() < per_week / 7:
            cm.respond(int(d), mod, ann, 1, appeal=1.5, rows=nobody, posts=atk.posts)
    if s >= 2:  # pinned posts in topic channels draw extra attention
        for d in days:
            if rng.random() < 0.4:
                c = int(rng.choice(_topic_chs(cm) + _chs(cm, "general")))
                cm.respond(int(d), mod, c, 1, appeal=3.0, rows=nobody, posts=atk.posts)
    atk.manip = {mod}
    atk.beneficiaries = {mod}
    if s == 3:
        alts = _new_ids(cm, atk, 3)
        for x in alts:
            j = int(TODAY - rng.integers(5, 20))
            atk.facts[int(x)] = (j, j)
            for d in range(j, TODAY + 1):
                atk.rows.add([x], mod, channel_id(cm.ci["general"]), d, REPLY)
                atk.rows.add([x], mod, channel_id(ann), d, REACTION)
                _cover(cm, atk, int(x), d, 2, _chs(cm, "general"))
                atk.posts.add([x], channel_id(cm.ci["general"]), d)
        atk.pinned = {mod} | set(alts.tolist())
        atk.manip |= set(alts.tolist())
    return atk


def mimicry(cm, voices, s):
    """Aged accounts copy an ordinary regular's engagement pattern (same days, kinds, channels,
    mostly the same targets), except that the template's favourite is replaced by the target."""
    rng = cm.rng
    atk = Attack("mimicry", s)
    k = _scale(cm, [6, 15, 30][s - 1])
    t = _pick_beneficiary(cm, voices, rng)
    a, tt, c, d, kind = cm.rows.arrays()
    templates = _pick_members(cm, voices, rng, k, roles=(CASUAL, REGULAR), exclude=[t])
    mims = _new_ids(cm, atk, len(templates))
    since = TODAY - 75
    pm, pc, pd = cm.posts.arrays()
    for x, tpl in zip(mims, templates, strict=False):
        j = int(cm.start - rng.integers(60, 400))
        atk.facts[int(x)] = (j, j - int(rng.integers(0, 900)))
        sel = (a == tpl) & (d >= since)
        if not sel.any():
            continue
        tg = tt[sel].copy()
        fav = np.bincount(tg).argmax()
        tg[tg == fav] = t
        tg[tg == x] = t
        keep = rng.random(len(tg)) < 0.8
        atk.rows.add(np.full(keep.sum(), x), tg[keep], c[sel][keep], d[sel][keep], kind[sel][keep])
        # posts: half of the template's, answered like a casual's
        ps = (pm == tpl) & (pd >= since)
        for dd, cc in zip(pd[ps][::2], pc[ps][::2], strict=False):
            ci = int(cc) - 1000
            if cm.ch_names[ci] in ("help", "intros", "announcements"):
                atk.posts.add([x], cc, dd)
                continue
            cm.respond(int(dd), int(x), ci, 1, appeal=0.5, rows=atk.rows, posts=atk.posts)
    atk.manip = {t} | set(mims.tolist())
    atk.beneficiaries = {t}
    return atk


def sock_network(cm, voices, s):
    """A sockpuppet network grown slowly: one new account every few days, each chatting, engaging
    genuine members (who answer back), the owner and the other socks."""
    rng = cm.rng
    atk = Attack("sock network", s)
    k = _scale(cm, [6, 12, 24][s - 1])
    owner = _pick_beneficiary(cm, voices, rng)
    span = cm.days - 10
    starts = (cm.start + 5 + np.linspace(0, span * 0.85, k)).astype(int)
    socks = _new_ids(cm, atk, k)
    tp = _posts_by_day(cm, atk, owner)
    chans = _chs(cm, "general", "offtopic", "memes") + _topic_chs(cm)
    for x, j in zip(socks, starts, strict=False):
        atk.facts[int(x)] = (int(j), int(j) - int(rng.integers(0, 30)))
        cm.respond(int(j), int(x), cm.ci["intros"], 1, appeal=0.8, rows=atk.rows, posts=atk.posts)
        for d in range(int(j) + 1, TODAY + 1):
            if rng.random() > 0.55:
                continue
            if tp.get(d, 0):
                atk.rows.add([x], owner, channel_id(cm.ci["general"]), d, REACTION)
                if rng.random() < 0.5:
                    atk.rows.add([x], owner, channel_id(cm.ci["general"]), d, REPLY)
                    atk.posts.add([x], channel_id(cm.ci["general"]), d)
            other = socks[(starts <= d) & (socks != x)]
            if len(other) and rng.random() < 0.5:
                atk.rows.add([x], int(rng.choice(other)), channel_id(int(rng.choice(chans))), d, REACTION)
            tg = _cover(cm, atk, int(x), d, int(rng.integers(1, 4)), chans, kinds_p=0.5)
            cm.reply_back(d, [x] * len(tg), tg, cm.ci["general"], 0.25, atk.rows)
            if rng.random() < 0.5:
                cm.respond(d, int(x), int(rng.choice(chans)), 1, appeal=0.8, rows=atk.rows, posts=atk.posts)
                if rng.random() < 0.4:  # owner answers the sock
                    atk.rows.add([owner], int(x), channel_id(cm.ci["general"]), d, REPLY)
    atk.manip = {owner} | set(socks.tolist())
    atk.beneficiaries = {owner}
    return atk


def welcome_farmer(cm, voices, s):
    """A member welcomes every newcomer (and, stronger, reacts to their first posts and replies to
    every question) to collect reply-backs."""
    rng = cm.rng
    atk = Attack("welcome farmer", s)
    f = _pick_beneficiary(cm, voices, rng)
    intros, help_ = cm.ci["intros"], cm.ci["help"]
    pm, pc, pd = cm.posts.arrays()
    newcomers = np.flatnonzero(cm.join >= cm.start)
    for nb in newcomers:
        j = int(cm.join[nb])
        atk.rows.add([f], int(nb), channel_id(intros), j, REPLY)
        atk.posts.add([f], channel_id(intros), j)
        if rng.random() < 0.6:
            atk.rows.add([int(nb)], f, channel_id(intros), j, REPLY if rng.random() < 0.5 else REACTION)
            if cm.role[nb] != LURKER:
                atk.posts.add([int(nb)], channel_id(intros), j)
        if s >= 2:
            sel = (pm == nb) & (pd <= j + 14)
            for dd, cc in list(zip(pd[sel], pc[sel], strict=False))[:5]:
                atk.rows.add([f], int(nb), int(cc), int(dd), REACTION)
                if rng.random() < 0.3:
                    atk.rows.add([int(nb)], f, int(cc), int(dd), REACTION)
    if s == 3:
        sel = pc == channel_id(help_)
        for m, dd in zip(pm[sel], pd[sel], strict=False):
            if m == f or rng.random() > 0.7:
                continue
            atk.rows.add([f], int(m), channel_id(help_), int(dd), THREAD_REPLY)
            atk.posts.add([f], channel_id(help_), int(dd))
            if rng.random() < 0.35:
                atk.rows.add([int(m)], f, channel_id(help_), int(dd), REACTION)
    atk.manip = {f}
    atk.beneficiaries = {f}
    return atk


def night_shift(cm, voices, s):
    """A coordinated group of aged accounts, active only in the lowest-traffic hours, engages one
    member's night posts and whoever else posts then."""
    rng = cm.rng
    atk = Attack("night shift", s)
    k = _scale(cm, [6, 15, 30][s - 1])
    t = _pick_beneficiary(cm, voices, rng)
    b = int(np.argmin(ONLINE.sum(0) + ONLINE[cm.tz[t]] * 0))  # quietest UTC block
    grp = _new_ids(cm, atk, k)
    for x in grp:
        j = int(cm.start - rng.integers(30, 400))
        atk.facts[int(x)] = (j, j - int(rng.integers(0, 900)))
    chans = _chs(cm, "general", "offtopic", "memes") + _topic_chs(cm)
    days = np.arange(TODAY - 55, TODAY + 1)
    for d in days:
        # the target posts at night
        nposts = rng.poisson(2)
        for _ in range(nposts):
            cm.respond(int(d), t, cm.ci["general"], 1, rows=atk.rows, posts=atk.posts, block=b)
        for x in grp:
            if rng.random() > 0.6:
                continue
            if nposts:
                atk.rows.add([x], t, channel_id(cm.ci["general"]), d, REACTION)
                if rng.random() < 0.4:
                    atk.rows.add([x], t, channel_id(cm.ci["general"]), d, REPLY)
                    atk.posts.add([x], channel_id(cm.ci["general"]), d)
            _cover(cm, atk, int(x), int(d), int(rng.integers(1, 4)), chans, block=b)
            if rng.random() < 0.3:
                cm.respond(
                    int(d),
                    int(x),
                    int(rng.choice(chans)),
                    1,
                    appeal=0.5,
                    rows=atk.rows,
                    posts=atk.posts,
                    block=b,
                )
                # the group reacts to each other's posts
                y = int(rng.choice(grp))
                if y != x:
                    atk.rows.add([y], int(x), channel_id(cm.ci["general"]), d, REACTION)
    atk.manip = {t} | set(grp.tolist())
    atk.beneficiaries = {t}
    return atk


def alt_owner(cm, voices, s):
    """Named family, own way: fresh alts that join one by one over two months, introduce themselves,
    chat a bit, engage others a little and their owner a lot; the owner answers them."""
    rng = cm.rng
    atk = Attack("alt owner", s)
    k = _scale(cm, [5, 12, 25][s - 1])
    owner = _pick_beneficiary(cm, voices, rng)
    alts = _new_ids(cm, atk, k)
    tp = _posts_by_day(cm, atk, owner)
    chans = _chs(cm, "general", "offtopic", "memes")
    for x in alts:
        j = int(TODAY - rng.integers(10, 60))
        atk.facts[int(x)] = (j, j - int(rng.integers(0, 5)))
        cm.respond(j, int(x), cm.ci["intros"], 1, appeal=0.8, rows=atk.rows, posts=atk.posts)
        atk.rows.add([owner], int(x), channel_id(cm.ci["intros"]), j, REPLY)
        for d in range(j, TODAY + 1):
            if rng.random() > 0.6:
                continue
            n_t = tp.get(d, 0)
            if n_t:
                atk.rows.add(np.full(min(n_t, 3), x), owner, channel_id(cm.ci["general"]), d, REACTION)
                atk.rows.add([x], owner, channel_id(cm.ci["general"]), d, REPLY)
                atk.posts.add([x], channel_id(cm.ci["general"]), d)
            _cover(cm, atk, int(x), d, 1, chans)
            if rng.random() < 0.3:
                atk.rows.add([owner], int(x), channel_id(cm.ci["general"]), d, REPLY)
    atk.manip = {owner} | set(alts.tolist())
    atk.beneficiaries = {owner}
    return atk


def pod(cm, voices, s):
    """Named family, own way: established members who react to (and often reply to) every post of
    every other member of the pod for the last ten weeks."""
    rng = cm.rng
    atk = Attack("pod", s)
    k = _scale(cm, [6, 12, 20][s - 1])
    members = _pick_members(cm, voices, rng, k)
    pm, pc, pd = cm.posts.arrays()
    sel = np.isin(pm, members) & (pd >= TODAY - 70)
    for m, c, d in zip(pm[sel], pc[sel], pd[sel], strict=False):
        others = members[members != m]
        atk.rows.add(others, int(m), int(c), int(d), REACTION)
        rep = others[rng.random(len(others)) < 0.3]
        atk.rows.add(rep, int(m), int(c), int(d), REPLY)
        atk.posts.add(rep, int(c), int(d))
    atk.manip = set(members.tolist())
    atk.beneficiaries = set(members.tolist())
    return atk


def dormant_trickle(cm, voices, s):
    """Named family, own way: bought aged accounts, silent until now, wake up one at a time over six
    weeks; each then engages the target's posts and three or four random members a day."""
    rng = cm.rng
    atk = Attack("dormant trickle", s)
    k = _scale(cm, [8, 20, 45][s - 1])
    t = _pick_beneficiary(cm, voices, rng)
    accs = _new_ids(cm, atk, k)
    wake = TODAY - 42 + rng.permutation(np.linspace(0, 38, k).astype(int))
    tp = _posts_by_day(cm, atk, t)
    chans = _chs(cm, "general", "offtopic", "memes") + _topic_chs(cm)
    for x, w in zip(accs, wake, strict=False):
        j = int(cm.start - rng.integers(100, 600))
        atk.facts[int(x)] = (j, j - int(rng.integers(0, 900)))
        for d in range(int(w), TODAY + 1):
            if rng.random() > 0.5:
                continue
            if tp.get(d, 0):
                atk.rows.add([x], t, channel_id(cm.ci["general"]), d, REACTION)
                if rng.random() < 0.3:
                    atk.rows.add([x], t, channel_id(cm.ci["general"]), d, REPLY)
            _cover(cm, atk, int(x), d, int(rng.integers(2, 5)), chans)
    atk.manip = {t} | set(accs.tolist())
    atk.beneficiaries = {t}
    return atk


def reply_farmer(cm, voices, s):
    """Named family, own way: a member replies to a large share of the day's posts with short
    replies and harvests replies back."""
    rng = cm.rng
    atk = Attack("reply farmer", s)
    f = _pick_beneficiary(cm, voices, rng)
    per_day = _scale(cm, [10, 25, 60][s - 1])
    chans = _chs(cm, "general", "offtopic", "memes") + _topic_chs(cm)
    for d in range(TODAY - 60, TODAY + 1):
        act = _active(cm, d)
        act = act[(act != f) & (cm.role[act] != LURKER)]
        if len(act) == 0:
            continue
        w = cm.rate[act] + 0.05
        tg = rng.choice(act, min(per_day, len(act)), replace=False, p=w / w.sum())
        c = channel_id(int(rng.choice(chans)))
        atk.rows.add(np.full(len(tg), f), tg, c, d, REPLY)
        atk.posts.add(np.full(len(tg), f), c, d)
        cm.reply_back(d, [f] * len(tg), tg, cm.ci["general"], 0.35, atk.rows)
    atk.manip = {f}
    atk.beneficiaries = {f}
    return atk


def _one_post_flood(cm, s, aged):
    """Accounts that each post one message in general and do nothing else, a tenth, a quarter or half
    as many as the community's posters; new (joined 25 days ago) or long-joined."""
    atk = Attack("aged one-post flood" if aged else "one-post flood", s)
    # drawn from the run's seed, not the attack's stream, as these runs first were
    rng = np.random.default_rng((cm.seed - cm.n) // 1000)
    posters = len(np.unique(cm.posts.arrays()[0]))
    k = int([0.1, 0.25, 0.5][s - 1] * posters)
    ids = np.arange(cm.n + 200_000, cm.n + 200_000 + k)
    days = TODAY - rng.integers(0, 20, k)
    j = (cm.start - 400) if aged else TODAY - 25
    for x, d in zip(ids, days, strict=True):
        atk.posts.add([x], channel_id(1), d)
        atk.facts[int(x)] = (j, j - 10)
    atk.manip = set(ids.tolist())
    return atk


def one_post_flood(cm, voices, s):
    return _one_post_flood(cm, s, aged=False)


def aged_one_post_flood(cm, voices, s):
    return _one_post_flood(cm, s, aged=True)


def thread_farmer(cm, voices, s):
    """A member opens a 'daily chat' thread in general every three, two or one days, in which a
    share of the day's active members (not lurkers) each post twice: a message in a thread engages
    its opener. Not among the default attacks (`EXTRA_ATTACKS`): a known limit of the ranking
    (docs/trust.md, "Busy threads credit their opener")."""
    rng = cm.rng
    atk = Attack("thread farmer", s)
    host = _pick_beneficiary(cm, voices, rng)
    every = [3, 2, 1][s - 1]
    p_in = [0.06, 0.10, 0.15][s - 1]
    gen = cm.ci["general"]
    for d in range(cm.start + 10, TODAY + 1, every):
        atk.posts.add([host], channel_id(gen), d)
        act = _active(cm, d)
        act = act[(act != host) & (cm.role[act] != LURKER)]
        chat = act[rng.random(len(act)) < p_in * np.minimum(1.5, cm.prop[act])]
        for _ in range(2):
            atk.rows.add(chat, host, channel_id(gen), d, THREAD_REPLY)
        atk.posts.add(chat, channel_id(gen), d)
    atk.manip = {host}
    atk.beneficiaries = {host}
    return atk


#: Order matters: an attack's random stream is drawn from its index here.
ATTACKS = {
    "raid": raid,
    "rotating ring": rotating_ring,
    "giveaway": giveaway,
    "mod abuse": mod_abuse,
    "mimicry": mimicry,
    "sock network": sock_network,
    "welcome farmer": welcome_farmer,
    "night shift": night_shift,
    "alt owner": alt_owner,
    "pod": pod,
    "dormant trickle": dormant_trickle,
    "reply farmer": reply_farmer,
    "one-post flood": one_post_flood,
    "aged one-post flood": aged_one_post_flood,
}
#: Attacks run only when named (`--attacks`): the ranking's known limits, kept out of the default
#: runs and their totals. Drawn after `ATTACKS` (their indexes follow its).
EXTRA_ATTACKS = {
    "thread farmer": thread_farmer,
}
ALL_ATTACKS = {**ATTACKS, **EXTRA_ATTACKS}
