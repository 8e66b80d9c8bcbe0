"""The ninth community model: a home-lab subreddit ("r/homelab"-like) simulated thread by thread
(submissions under six link flairs, comment trees with every comment's parent, a hot ranking, r/all
visitors, weekly megathreads and AutoModerator), turned into the rows the Reddit adapter records,
with eleven attacks a real subreddit sees (`python -m bench.trust_ninth`)."""
