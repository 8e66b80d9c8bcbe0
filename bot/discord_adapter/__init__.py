"""The Discord side of the core: the `Platform` implementation and what cogs share to render."""
