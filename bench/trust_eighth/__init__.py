"""The eighth community model: a mechanical-keyboard enthusiasts' Discord server simulated message by
message (every reply, reaction, thread post and mention names the message it engages), aggregated to
the daily rows the ranking sees, with about ten attacks a real manipulator would run there
(`python -m bench.trust_eighth`)."""
