"""A fourth community model that red-teams the trust ranking.

`model` builds an organic niche Discord server (roles, channel cultures, weekly rhythm, arrivals
and departures, friendships, conversations) together with its genuine voices; `attacks` adds
manipulations to it; `runner` ranks every community with Microvoice, message count and PageRank.
Run it with `python -m bench.trust_fourth`.
"""
