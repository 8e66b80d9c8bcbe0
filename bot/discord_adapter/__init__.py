"""The Discord side of bot/: permission checks, components and rendering shared by the cogs."""
