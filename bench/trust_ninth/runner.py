"""The ninth model as `bench.trust_metrics` runs it: what the ranking sees of the subreddit (organic,
or with an attack), the attacks' random streams, the one-line description, and `evaluate` for
sweeps."""

from __future__ import annotations

from bench.trust_metrics import Data, Model, Outcome, Run, attack_streams, outcomes, precision_at_10
from bench.trust_ninth.attacks import ATTACKS, AttackResult
from bench.trust_ninth.model import Community, build_community, reddit_data
from bot import trust


def combine(comm: Community, attack: AttackResult | None) -> Data:
    """The subreddit as the ranking sees it: rows summed per key, the facts Reddit gives."""
    if attack is None:
        return Data(comm.edges, comm.posts, comm.facts)
    f = attack.facts
    created = {int(m): float(c) for m, c in zip(f.member_id, f.account_created_day, strict=True)}
    return reddit_data(comm, attack.edges, attack.posts, created)


attack_rng = attack_streams(ATTACKS, 99)


def describe(comm: Community, run: Run) -> str:
    c = comm.counts
    mv = run.orders["microvoice"][:10]
    return (
        f"{c['commenters']} commenters over {c['days']} days, {c['submissions']} submissions, "
        f"{c['comments']} comments, {c['engagements']} engagements, {c['one_comment']} commented once; "
        f"threads median {c['median_thread']:.0f} comments, the largest {c['max_thread']}; "
        f"{c['genuine']} genuine voices {c['genuine_roles']}; "
        f"MV top 10 genuine {precision_at_10(mv, comm.genuine):.1f}"
    )


MODEL = Model("subreddits", build_community, combine, ATTACKS, attack_rng, describe)


def evaluate(size: int, seed: int, params: trust.TrustParams | None = None) -> list[Outcome]:
    """Microvoice on this model's organic subreddit of this size and seed and under every attack at
    every strength (what a parameter sweep measures)."""
    return outcomes(MODEL, size, seed, params)
