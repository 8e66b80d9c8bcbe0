"""Rank the third model's communities, organic and attacked, and print the tables."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from bench.trust_independent.attacks import ALL_ATTACKS, ATTACKS, EXTRA_ATTACKS
from bench.trust_independent.model import TODAY, Community, aggregate, aggregate_posts, organic_voices
from bench.trust_metrics import Data, rank_alone
from bot import trust

ID0 = Community.ID0
STRENGTHS = (1, 2, 3)
METHODS = ("Microvoice", "message count", "plain PageRank")
#: Engagement kinds' weights of the plain PageRank (reply, reaction, thread reply, ...).
KIND_WEIGHTS = np.array([1.0, 0.3, 0.5, 1.0, 0.5])


@dataclass(frozen=True)
class Run:
    """One ranked community. `best` maps each method to the best rank any manipulator reached (None:
    not listed); `p10` maps each method to its precision at 10 against the genuine voices."""

    members: int
    seed: int
    days: int
    attack: str  # "organic" for the community before any attack
    strength: int
    voices: int
    listed: int  # the length of Microvoice's whole-community listing
    p10: dict[str, float]
    best: dict[str, int | None]
    same_listing: bool  # Microvoice's listing is the organic one, member for member
    why: tuple[str, ...] = ()  # each manipulator in Microvoice's top 20: what the ranking saw of it


def concat_edges(a: trust.Edges, b: trust.Edges) -> trust.Edges:
    cols = ("actor", "target", "channel", "day", "kind", "n")
    return trust.Edges(*(np.concatenate([getattr(a, k), getattr(b, k)]) for k in cols))


def concat_posts(a: trust.Posts, b: trust.Posts) -> trust.Posts:
    cols = ("member", "channel", "day", "n")
    return trust.Posts(*(np.concatenate([getattr(a, k), getattr(b, k)]) for k in cols))


def facts_for(cm: Community, extra: dict | None = None, pinned: Iterable[int] = ()) -> trust.MemberFacts:
    """extra: {internal_id: (joined_day, created_day)} for attack accounts. Who left by TODAY is
    said (as the Server Members intent tells the bot)."""
    ids = np.arange(cm.n)
    joined = cm.join.astype(float)
    created = cm.created.astype(float)
    left = np.where(cm.leave <= TODAY, cm.leave, np.nan).astype(float)
    if extra:
        e = np.array(sorted(extra))
        ids = np.concatenate([ids, e])
        joined = np.concatenate([joined, [extra[i][0] for i in e]])
        created = np.concatenate([created, [extra[i][1] for i in e]])
        left = np.concatenate([left, np.full(len(e), np.nan)])
    return trust.MemberFacts(
        member_id=ids + ID0,
        joined_day=joined,
        account_created_day=created,
        left_day=left,
        pinned=frozenset(int(p) + ID0 for p in pinned),
    )


def listing_of(
    edges: trust.Edges,
    posts: trust.Posts,
    facts: trust.MemberFacts,
    params: trust.TrustParams | None = None,
) -> list[trust.Ranked]:
    """Microvoice's whole-community listing (default parameters unless `params`)."""
    chosen = params or trust.TrustParams()
    return trust.compute_scope(edges, facts, chosen, today=TODAY, limit=200, posts=posts)


def rank_microvoice(
    edges: trust.Edges,
    posts: trust.Posts,
    facts: trust.MemberFacts,
    params: trust.TrustParams | None = None,
) -> list[int]:
    """Microvoice's whole-community listing (default parameters unless `params`; internal ids)."""
    return [x.member_id - ID0 for x in listing_of(edges, posts, facts, params)]


def why_listed(
    listing: Sequence[trust.Ranked], manip: set[int], beneficiaries: set[int], alone: Data | None = None
) -> tuple[str, ...]:
    """Each manipulator in the top 20 (internal ids in `manip`): its place, whether it is the attack's
    beneficiary or one of its accounts, its distinct engagers, what its posts draw against an average
    post, and the share of what it received that the ranking found coordinated, with the pattern.
    Given the attacked community's rows (`alone`), also its place without the other manipulators
    (`bench.trust_metrics.rank_alone`)."""
    out = []
    for r in listing[:20]:
        m = r.member_id - ID0
        if m in manip:
            w = r.why
            role = "beneficiary" if m in beneficiaries else "account"
            place = ""
            if alone is not None:
                rank = rank_alone(alone, TODAY, r.member_id, {x + ID0 for x in manip})
                place = f", alone #{rank}" if rank is not None else ", alone not listed"
            out.append(
                f"#{r.rank} {role}, {r.distinct_peers} engagers, draw {w['appeal']:.2f},"
                f" coordinated {w['coordinated']:.2f} ({w.get('coordinated_reason') or 'none'}){place}"
            )
    return tuple(out)


def rank_msgcount(posts: trust.Posts) -> list[int]:
    u, inv = np.unique(posts.member, return_inverse=True)
    tot = np.bincount(inv, weights=posts.n)
    return (u[np.argsort(-tot, kind="stable")] - ID0).tolist()[:200]


def rank_pagerank(edges: trust.Edges, d: float = 0.85, iters: int = 100) -> list[int]:
    """Plain PageRank over kind-weighted engagement counts (no decay), uniform teleport."""
    ok = edges.actor != edges.target
    a, t, w = edges.actor[ok], edges.target[ok], (KIND_WEIGHTS[edges.kind] * edges.n)[ok]
    ids, inv = np.unique(np.concatenate([a, t]), return_inverse=True)
    n = len(ids)
    ai, ti = inv[: len(a)], inv[len(a) :]
    out = np.bincount(ai, weights=w, minlength=n)
    m = sp.csr_array((w / out[ai], (ti, ai)), shape=(n, n))
    x = np.full(n, 1 / n)
    dangling = out == 0
    for _ in range(iters):
        nx = d * (m @ x) + (d * x[dangling].sum() + 1 - d) / n
        if np.abs(nx - x).sum() < 1e-10:
            x = nx
            break
        x = nx
    return (ids[np.argsort(-x, kind="stable")] - ID0).tolist()[:200]


def p_at_10(listing: Sequence[int], voices: set[int]) -> float:
    k = min(10, len(voices))
    if k == 0:
        return float("nan")
    return sum(1 for m in listing[:k] if m in voices) / k


def best_rank(listing: Sequence[int], manip: set[int]) -> int | None:
    for i, m in enumerate(listing):
        if m in manip:
            return i + 1
    return None


def evaluate(
    members: int,
    seed: int,
    attacks: Sequence[str] = tuple(ATTACKS),
    strengths: Sequence[int] = STRENGTHS,
    params: trust.TrustParams | None = None,
    alone: bool = False,
) -> list[Run]:
    """The organic community of this size and seed, then each attack at each strength added to it,
    ranked by Microvoice with `params` (None: the defaults). Each attack draws from its own stream
    (seed, size, its index in ALL_ATTACKS, strength), so a run's numbers do not depend on which other
    attacks run beside it. `alone`: each listed manipulator's explanation also gives its place
    without the other manipulators."""
    days = 90 + (seed * 37) % 61
    cm = Community(members, days, seed * 1000 + members)
    voices, _, _ = organic_voices(cm)
    e0 = aggregate(cm.rows, ID0)
    p0 = aggregate_posts(cm.posts, ID0)
    organic = rank_microvoice(e0, p0, facts_for(cm), params)

    def ranked(
        name: str,
        s: int,
        listing: list[int],
        e: trust.Edges,
        p: trust.Posts,
        manip: set[int],
        why: tuple[str, ...] = (),
    ) -> Run:
        lists = dict(zip(METHODS, (listing, rank_msgcount(p), rank_pagerank(e)), strict=True))
        return Run(
            members,
            seed,
            days,
            name,
            s,
            len(voices),
            len(listing),
            p10={k: p_at_10(v, voices) for k, v in lists.items()},
            best={k: best_rank(v, manip) for k, v in lists.items()},
            same_listing=listing == organic,
            why=why,
        )

    out = [ranked("organic", 0, organic, e0, p0, set())]
    index = list(ALL_ATTACKS)
    for name in attacks:
        for s in strengths:
            cm.rng = np.random.default_rng([seed, members, index.index(name), s])
            atk = ALL_ATTACKS[name](cm, voices, s)
            e = concat_edges(e0, aggregate(atk.rows, ID0))
            p = concat_posts(p0, aggregate_posts(atk.posts, ID0))
            facts = facts_for(cm, atk.facts, pinned=atk.pinned)
            full = listing_of(e, p, facts, params)
            listing = [x.member_id - ID0 for x in full]
            why = why_listed(full, atk.manip, atk.beneficiaries, Data(e, p, facts) if alone else None)
            out.append(ranked(name, s, listing, e, p, atk.manip, why))
    return out


def _best(xs: Sequence[int | None]) -> str:
    ranks = [x for x in xs if x is not None]
    return str(min(ranks)) if ranks else "-"


def _within(xs: Sequence[int | None], k: int) -> int:
    return sum(1 for x in xs if x is not None and x <= k)


def organic_table(results: Sequence[Run]) -> list[str]:
    """Per size, the organic communities' P@10 (mean, min) for each method and Microvoice's listing."""
    lines = [
        f"  {'members':>7} {'runs':>4} | {'MV P@10':>7} {'min':>5} | {'MC P@10':>7} | {'PR P@10':>7}"
        f" | {'listed':>6} {'voices':>6}"
    ]
    org = [r for r in results if r.attack == "organic"]
    for n in sorted({r.members for r in org}):
        rs = [r for r in org if r.members == n]
        mv = [r.p10[METHODS[0]] for r in rs]
        lines.append(
            f"  {n:>7,} {len(rs):>4} | {np.mean(mv):>7.2f} {min(mv):>5.2f}"
            f" | {np.mean([r.p10[METHODS[1]] for r in rs]):>7.2f}"
            f" | {np.mean([r.p10[METHODS[2]] for r in rs]):>7.2f}"
            f" | {np.mean([r.listed for r in rs]):>6.1f} {np.mean([r.voices for r in rs]):>6.1f}"
        )
    return lines


def attack_table(results: Sequence[Run]) -> list[str]:
    """Per attack, strength and size over the seeds: the best rank any manipulator reached ('-': never
    listed), runs with one in the top 20 and the top 10, mean P@10, and the listing's change against
    the same community before the attack (mean length change, runs with the listing unchanged)."""
    lines = [
        f"  {'attack':<20} s {'members':>7} {'runs':>4} | {'MV best':>7} {'t20':>3} {'t10':>3} {'P@10':>5}"
        f" {'listed':>6} {'same':>4} | {'MC best':>7} {'t20':>3} {'P@10':>5}"
        f" | {'PR best':>7} {'t20':>3} {'P@10':>5}"
    ]
    org = {(r.members, r.seed): r for r in results if r.attack == "organic"}
    att = [r for r in results if r.attack != "organic"]
    order = list(ALL_ATTACKS)
    for a, s, n in sorted(
        {(r.attack, r.strength, r.members) for r in att}, key=lambda k: (order.index(k[0]), *k[1:])
    ):
        rs = [r for r in att if (r.attack, r.strength, r.members) == (a, s, n)]
        cells = []
        for i, method in enumerate(METHODS):
            best = [r.best[method] for r in rs]
            p10 = np.mean([r.p10[method] for r in rs])
            cell = f"{_best(best):>7} {_within(best, 20):>3}"
            if i == 0:
                listed = np.mean([r.listed - org[(n, r.seed)].listed for r in rs])
                same = sum(r.same_listing for r in rs)
                cell += f" {_within(best, 10):>3} {p10:>5.2f} {listed:>+6.1f} {same:>4}"
            else:
                cell += f" {p10:>5.2f}"
            cells.append(cell)
        lines.append(f"  {a:<20} {s} {n:>7,} {len(rs):>4} | " + " | ".join(cells))
    return lines


def why_table(results: Sequence[Run]) -> list[str]:
    """For every attacked run with a manipulator in Microvoice's top 20, one line per manipulator."""
    order = list(ALL_ATTACKS)
    runs = sorted(
        (r for r in results if r.why), key=lambda r: (order.index(r.attack), r.strength, r.members, r.seed)
    )
    return [
        f"  {r.attack} {r.strength}, {r.members:,}, seed {r.seed}: {line}" for r in runs for line in r.why
    ]


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m bench.trust_independent",
        description="The trust ranking on a third community model, built as a red team of bot/trust.",
    )
    ap.add_argument("--sizes", default="300,1000", help="community sizes, comma-separated")
    ap.add_argument("--seeds", default="1,2", help="random seeds, comma-separated")
    ap.add_argument(
        "--attacks",
        default="all",
        help=f"'all' (every attack but {', '.join(EXTRA_ATTACKS)}) or a comma-separated list of:"
        f" {', '.join(ALL_ATTACKS)}",
    )
    ap.add_argument("--strengths", default="1,2,3", help="attack strengths (1 to 3), comma-separated")
    ap.add_argument("--organic-only", action="store_true", help="rank the organic communities only")
    ap.add_argument(
        "--why",
        action="store_true",
        help="for every attacked run with a manipulator in the top 20, what it saw, and where the"
        " manipulator stands without the other manipulators",
    )
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    seeds = [int(x) for x in args.seeds.split(",")]
    attacks = list(ATTACKS) if args.attacks == "all" else [a.strip() for a in args.attacks.split(",")]
    unknown = [a for a in attacks if a not in ALL_ATTACKS]
    if unknown:
        ap.error(f"unknown attacks: {', '.join(unknown)}")
    if args.organic_only:
        attacks = []
    strengths = [int(x) for x in args.strengths.split(",")]
    started = time.perf_counter()
    results: list[Run] = []
    for n in sizes:
        for seed in seeds:
            results += evaluate(n, seed, attacks, strengths, alone=args.why)
    print(
        f"\nThird community model (bench/trust_independent): sizes {', '.join(map(str, sizes))},"
        f" seeds {', '.join(map(str, seeds))}; MV = Microvoice, MC = message count, PR = plain PageRank"
    )
    print("\n  Organic communities")
    print("\n".join(organic_table(results)))
    if attacks:
        print(
            "\n  Attacks (best: the best rank a manipulator reached, '-' never listed; t20/t10: runs with one"
            " in the top 20/10;\n  listed: mean change of Microvoice's listing length, same: runs whose"
            " listing is the organic one)"
        )
        print("\n".join(attack_table(results)))
        if args.why:
            print("\n  Manipulators in Microvoice's top 20 (attack, strength, members, seed)")
            print("\n".join(why_table(results)))
    print(f"  (took {time.perf_counter() - started:.1f}s)")
