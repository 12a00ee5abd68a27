"""What every handler needs, created once in post_init and closed in post_shutdown.

Handlers reach it with `services(context)`; tests and the console build the same Application
and can swap the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import Application, CallbackContext

from core.config import Config
from core.db.staff import StaffStore
from core.db.store import Store


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Services:
    config: Config
    engine: AsyncEngine
    store: Store
    staff: StaffStore
    clock: Callable[[], dt.datetime] = utc_now
    # The console's pretend admin and cashier are staff even with an empty [staff] section:
    # it is a local tool for whoever sits at the machine.
    extra_admins: frozenset[int] = frozenset()
    extra_cashiers: frozenset[int] = frozenset()
    # The one-time /claim code printed at start-up when no admin exists yet (None otherwise).
    claim_code: str | None = None
    notes: dict[str, object] = field(default_factory=dict)


SERVICES_KEY = "services"


def services(context: CallbackContext) -> Services:  # type: ignore[type-arg]
    """The Services of the running Application."""
    return context.application.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]


def services_of(application: Application) -> Services:  # type: ignore[type-arg]
    return application.bot_data[SERVICES_KEY]  # type: ignore[no-any-return]
