"""The Discord side of the core: the `Platform` implementation, permission checks, components and
rendering shared by the cogs."""
