"""Scripted failures: how a Bot API call can go wrong, for tests that need Telegram to misbehave.

A ``Fault`` says what happens to one call instead of the normal answer. ``BotApiEmulator.fail``
queues faults per method (and optionally per chat); the emulator consumes them in order and the
transport (``OfflineRequest`` in memory, the HTTP fake in tests/support) acts them out, so the
bot meets exactly the exception python-telegram-bot raises for the real thing:

=========================  ===============================  =================================
fault                      Telegram's side                  what the bot gets
=========================  ===============================  =================================
``Fault.error(500)``       not done; error JSON answered    ``NetworkError`` (5xx)
``Fault.error(400, ...)``  not done                         ``BadRequest``
``Fault.blocked()``        not done (403)                   ``Forbidden``
``Fault.error(401)``       not done                         ``InvalidToken``
``Fault.conflict()``       not done (409)                   ``Conflict``
``Fault.flood(n)``         not done (429, retry_after=n)    ``RetryAfter``
``Fault.drop_before()``    never reached Telegram           ``NetworkError``
``Fault.drop_after()``     done: the message exists         ``NetworkError``, no answer
``Fault.delay(s)``         done at once, answered after s   the answer, or ``TimedOut`` when
                                                            s exceeds the read timeout
=========================  ===============================  =================================
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

__all__ = ["ConnectionDropped", "Fault", "FaultKind"]

JSONDict = dict[str, Any]

# What Telegram (or the proxy in front of it) says for each status when the test names none.
_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Bad Request: message to edit not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultKind(Enum):
    ERROR = "error"  # an HTTP error status with Telegram's error JSON; nothing was done
    DROP_BEFORE = "drop_before"  # the connection broke before the call reached Telegram
    DROP_AFTER = "drop_after"  # Telegram did it, then the connection broke before the answer
    DELAY = "delay"  # Telegram did it at once; the answer arrives `seconds` later


@dataclass(frozen=True)
class Fault:
    """What happens to one scripted call. Build one with the class methods."""

    kind: FaultKind
    status: int = 200
    description: str = ""
    retry_after: int | None = None
    seconds: float = 0.0

    @classmethod
    def error(cls, status: int, description: str | None = None) -> Fault:
        """Telegram answers ``status`` with its error JSON (500, 502, 400 ...); nothing is done."""
        if not 400 <= status <= 599:
            raise ValueError(f"an error status is 400-599, got {status}")
        text = description or _DESCRIPTIONS.get(status, f"Error {status}")
        return cls(FaultKind.ERROR, status=status, description=text)

    @classmethod
    def blocked(cls) -> Fault:
        """403: the user blocked the bot (or deleted their account)."""
        return cls.error(403)

    @classmethod
    def conflict(cls) -> Fault:
        """409: another process polls getUpdates with the same token."""
        return cls.error(409)

    @classmethod
    def flood(cls, retry_after: int) -> Fault:
        """429 Too Many Requests with ``parameters.retry_after`` (whole seconds, as Telegram)."""
        return cls(
            FaultKind.ERROR,
            status=429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
        )

    @classmethod
    def drop_before(cls) -> Fault:
        """The connection breaks before Telegram gets the call: nothing is done."""
        return cls(FaultKind.DROP_BEFORE, description="connection lost before reaching Telegram")

    @classmethod
    def drop_after(cls) -> Fault:
        """Telegram does the call, then the connection breaks: the bot never hears the answer."""
        return cls(FaultKind.DROP_AFTER)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Telegram does the call at once; its answer takes ``seconds`` to arrive."""
        return cls(FaultKind.DELAY, seconds=seconds)

    @property
    def reaches_telegram(self) -> bool:
        """Whether Telegram acts on the call (the message is sent) despite the fault."""
        return self.kind in (FaultKind.DROP_AFTER, FaultKind.DELAY)

    def body(self) -> JSONDict:
        """Telegram's error JSON for an ``ERROR`` fault."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class ConnectionDropped(Exception):
    """The transport must hang up without an answer (``BotApiEmulator.call`` raises this)."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.kind.value)
        self.fault = fault
