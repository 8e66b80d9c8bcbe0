"""Tools beside the bot, not installed with it: a local Discord-compatible server (`discord_server`), the
community simulator, and the demo. The tests, the benchmarks and `make demo` use them."""
