"""The eighth model as `bench.trust_metrics` runs it: what the ranking sees of a server (organic, or
with an attack), the attacks' random streams, the one-line description, and `evaluate` for sweeps."""

from __future__ import annotations

from bench.trust_eighth.attacks import ATTACKS, AttackResult
from bench.trust_eighth.model import Community, build_community
from bench.trust_metrics import (
    Data,
    Model,
    Outcome,
    Run,
    attack_streams,
    outcomes,
    precision_at_10,
    server_data,
)
from bot import trust


def combine(comm: Community, attack: AttackResult | None) -> Data:
    """The server as the ranking sees it (rows summed per key, the store's facts), bots marked."""
    return server_data(comm, attack, comm.bots)


attack_rng = attack_streams(ATTACKS, 88)


def describe(comm: Community, run: Run) -> str:
    c = comm.counts
    mv = run.orders["microvoice"][:10]
    return (
        f"{c['members']} members over {c['days']} days, {c['posting_members']} posted, "
        f"{c['messages']} messages, {c['engagements']} engagements "
        f"({c['share_no_engagement']:.0%} of messages drew none, {c['share_1_2']:.0%} one or two, "
        f"{c['posts_10plus']} ten or more, the most {c['max_on_one_post']}), "
        f"{c['mean_online']:.0f} online a day; {c['genuine']} genuine voices {c['genuine_roles']}; "
        f"MV top 10 genuine {precision_at_10(mv, comm.genuine):.1f}"
    )


MODEL = Model("servers", build_community, combine, ATTACKS, attack_rng, describe)


def evaluate(size: int, seed: int, params: trust.TrustParams | None = None) -> list[Outcome]:
    """Microvoice on this model's organic server of this size and seed and under every attack at every
    strength (what a parameter sweep measures)."""
    return outcomes(MODEL, size, seed, params)
