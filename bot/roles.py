"""Who may do what: checked on every update, button presses included.

Button data is chosen by the client and can be forged, so nothing trusts that a button was
shown to the person pressing it: each callback re-checks the presser's role here, and the
conversation state on the server (bot/flows.py), before changing anything.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, ConversationHandler

from core.types import Role

from .i18n import N_, _
from .services import Services, services

log = logging.getLogger(__name__)

_RANK: dict[Role, int] = {"customer": 0, "cashier": 1, "admin": 2}
_REFUSAL = {
    "cashier": N_("Only shop staff can do that. Send /help to see what you can do."),
    "admin": N_("Only an admin (owner or manager) can do that."),
}

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[Any]]
F = TypeVar("F", bound=Callback)


async def role_of(svc: Services, user_id: int) -> Role:
    """admin (config or database), cashier (database or config), or customer."""
    if user_id in svc.config.staff.admins or user_id in svc.extra_admins:
        return "admin"
    stored = await svc.staff.role_of(user_id)
    if stored is not None:
        return stored
    if user_id in svc.config.staff.cashiers or user_id in svc.extra_cashiers:
        return "cashier"
    return "customer"


def at_least(role: Role, needed: Role) -> bool:
    return _RANK[role] >= _RANK[needed]


async def refuse(update: Update, text: str) -> None:
    """Says no in one line, as a popup for a button press or a reply for a message."""
    if update.callback_query is not None:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(text)


def requires(needed: Role) -> Callable[[F], F]:
    """Runs the callback only if the sender's role is at least `needed`; else refuses and ends."""

    def decorate(callback: F) -> F:
        @functools.wraps(callback)
        async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Any:
            user = update.effective_user
            if user is None:
                return ConversationHandler.END
            role = await role_of(services(context), user.id)
            if not at_least(role, needed):
                log.info("refused %s for user %s (role %s)", callback.__name__, user.id, role)
                await refuse(update, _(_REFUSAL[needed]))
                # Stop here: no later handler group may act on a refused update.
                raise ApplicationHandlerStop(ConversationHandler.END)
            return await callback(update, context)

        return checked  # type: ignore[return-value]

    return decorate
