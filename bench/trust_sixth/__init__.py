"""A sixth community model that red-teams the trust ranking: a hobby marketplace Discord server.

`model` builds an organic trading-card and collectibles server as the Discord bot records it
(replies, reactions, forum thread posts and mentions; join and account creation days known; a
price bot) together with its genuine voices; `attacks` adds trading-server manipulations to it;
`runner` ranks every community with Microvoice, message count and PageRank. Run it with
`python -m bench.trust_sixth`.
"""
