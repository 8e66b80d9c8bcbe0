"""Package names loaded on first use: a package lists where each name lives, and its module loads
only when one of them is first looked up (`lazy_names`), so the bot starts without what it may never
need (numpy for the ranking, the Reddit services without Reddit credentials)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_names(
    package: str, homes: Mapping[str, Sequence[str]], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's module-level `__getattr__` and `__dir__`: `homes` maps a submodule's name to the
    names it defines; `namespace` is the package's `globals()`, where a name is kept once loaded (so
    later lookups do not come back here)."""
    home_of = {name: module for module, names in homes.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted([*namespace, *home_of])

    return __getattr__, __dir__
