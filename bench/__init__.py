"""Benchmarks of the bot (see bench/__main__.py). numpy is set up as the bot sets it up, before its
import (`bot.cpu.prefer_fast_sorts`), so the ranking is timed as it runs in the bot."""

from bot import cpu

cpu.prefer_fast_sorts()
