"""What the sandbox records about REST traffic (every call, for tests to inspect) and the faults tests inject
into it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.discord_server.common import normalise_route

# ------------------------------------------------------------------------------------------------------------
# REST recording
# ------------------------------------------------------------------------------------------------------------


@dataclass
class RecordedCall:
    """One REST request the bot made, as the sandbox saw it.

    ``status`` is 0 while the request is still being handled and the status actually sent afterwards.
    ``response`` holds the JSON body sent back (None for 204s).
    """

    method: str
    path: str
    route: str
    query: dict[str, str]
    json: Any
    files: list[tuple[str, bytes]]
    status: int
    headers: dict[str, str]
    response: Any = None

    def matches(self, method: str, route: str) -> bool:
        """True if this call has ``method`` and ``route`` is its template (any placeholder names) or path."""
        if self.method != method.upper():
            return False
        return route == self.path or normalise_route(route) == normalise_route(self.route)


class RestLog:
    """Every REST call in arrival order (recorded before fault injection decides the reply)."""

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []

    def find(self, method: str, route: str) -> list[RecordedCall]:
        """Calls with this method whose route template (placeholder names ignored) or concrete path match."""
        return [call for call in self.calls if call.matches(method, route)]

    def last(self, method: str, route: str) -> RecordedCall:
        """The most recent matching call; AssertionError listing what *was* called if there is none."""
        found = self.find(method, route)
        if not found:
            seen = "\n".join(f"  {c.method} {c.path}  [{c.route}] -> {c.status}" for c in self.calls)
            raise AssertionError(
                f"no {method.upper()} {route} call recorded; calls so far:\n{seen or '  (none)'}"
            )
        return found[-1]

    def clear(self) -> None:
        self.calls.clear()

    def __len__(self) -> int:
        return len(self.calls)


@dataclass
class Fault:
    """What the next ``times`` calls of ``METHOD route`` get instead of a plain answer.

    ``status`` 0 means the real answer (only delayed). With ``carried_out`` the request is carried out
    first (Discord did the work) and the fault is the answer the client sees; ``delay`` seconds pass
    before the answer is sent (a request in flight, e.g. to kill the client meanwhile).
    """

    method: str
    route: str
    status: int
    retry_after: float
    times: int
    code: int | None
    message: str | None
    scope: str
    delay: float = 0.0
    carried_out: bool = False
