"""Ranks organic and attacked creator-collective servers with Microvoice, message count and plain
PageRank (through `bench.trust_metrics.red_team`).

For every (size, seed) the organic server is ranked once; every attack at every strength is added to
it and ranked again. Reported: precision at 10 against the organic genuine voices, and the best rank
any manipulator reached (only the top 200 count). Message count and PageRank leave the
stream-notification bot out, as any ranking would that knows which account is machinery (Discord
marks bots). Every member's facts are what the store would hold: Discord join, account creation and
leave days, first seen at their first message or engagement in the combined records.
"""

from __future__ import annotations

from bench.trust_metrics import Data, Model, Outcome, Run, attack_streams, outcomes, server_data
from bench.trust_seventh.attacks import ATTACKS, AttackResult
from bench.trust_seventh.model import BASE_ID, Community, build_community
from bot import trust


def combine(comm: Community, attack: AttackResult | None) -> Data:
    """The organic rows plus an attack's rows, and every member's facts as the store would hold them."""
    return server_data(comm, attack, frozenset({BASE_ID + comm.bot}))


#: Each attack's own random stream (`bench.trust_metrics.attack_streams`).
attack_rng = attack_streams(ATTACKS, 77)


def evaluate(size: int, seed: int, params: trust.TrustParams | None = None) -> list[Outcome]:
    """The organic server of this size and seed, then every attack at every strength, ranked by
    Microvoice alone (with `params`; `bench.trust_metrics.outcomes`)."""
    return outcomes(MODEL, size, seed, params)


def _describe(comm: Community, base: Run) -> str:
    counts = comm.counts
    return (
        f"history {comm.days} days, {len(comm.facts.member_id)} accounts seen, "
        f"{counts['residents']} residents, "
        f"{len(comm.genuine)} genuine voices ({counts['broad']} broad, {counts['experts']} experts; "
        f"{counts['genuine_mids']} mid creators, {counts['genuine_helpers']} helpers, "
        f"{counts['genuine_mods']} mods, {counts['genuine_stars']} stars), "
        f"{int(comm.posts.n.sum())} messages, "
        f"{int(comm.edges.n.sum())} engagements, Microvoice lists {len(base.orders['microvoice'])}"
    )


MODEL = Model("servers", build_community, combine, ATTACKS, attack_rng, _describe)
