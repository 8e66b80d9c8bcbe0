"""A third community model, built as a red team of bot/trust apart from the simulator and the second
model (bench/trust_crosscheck.py): roles from lurkers to experts, heavy-tailed activity, three time
zones, newcomers arriving with a greeting, churn, friend circles and channel cultures (`model`), and
manipulations on top of it, each at three strengths (`attacks`). `python -m bench.trust_independent`
ranks them with Microvoice, message count and plain PageRank (`runner`); see docs/trust.md."""
