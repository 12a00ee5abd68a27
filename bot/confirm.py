"""The one Confirm step that ends every recording flow (/register, /earn, /redeem).

    preview [✅ Confirm | ✖ Cancel] -> written once -> the result, to the cashier and the customer

A flow shows its preview with the buttons `remember` returns, and lists
`handlers(kind, record, describe)` as its CONFIRM state. Only two parts differ between flows:
`record` (which Store operation) and `describe` (what the replies say, a `Told`); everything
else is here.

After the commit, the truth (issue "When Telegram misbehaves"): the replies about the change are
written to the outbox in the change's own transaction (the store calls `tell`), then sent by
bot/delivery.py with retries, and by its worker if Telegram is down for longer. Nothing that
fails after the commit (the popup, the result, the notice) can make the cashier think nothing
was recorded.

Exactly once: a preview gets a fresh idempotency key, kept in the user's `user_data` (a
`Pending` record) and sent in the Confirm button's data. The first Confirm takes the key out of
user_data and records with it; the database refuses a second entry with the same key. A later
press of the same button finds no pending key and is told "already done" (the key is recorded)
or "expired" (it is not: cancelled, replaced, or timed out). Another user pressing a forged copy
of the button has no such key in their user_data, so it can never confirm; and every press is
role-checked first (bot/roles.py).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Generic, Literal, Protocol, TypeVar, cast, get_args

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core.db.ledger import Tell
from core.errors import LoyaltyError
from core.types import (
    Button,
    CorrectionResult,
    EarnResult,
    Outgoing,
    RedeemResult,
    RegisterResult,
    Role,
)

from . import delivery, texts
from .i18n import _, speaking
from .languages import language_for
from .replies import friendly
from .roles import requires
from .services import Services, services

log = logging.getLogger(__name__)

# What a Confirm button can confirm. "reg" rather than "register": the kind is part of button
# data already sitting in cashiers' chats, which must keep its meaning across upgrades.
Kind = Literal["reg", "earn", "redeem", "void", "refund", "adjust"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)
KEY_PATTERN: Final = r"[0-9a-f]{16}"
_BUTTON = re.compile(rf"({'|'.join(KINDS)}):(ok|no):({KEY_PATTERN})")
_PENDING: Final = "pending"  # the user_data key of the open preview
_COMMAND: Final[dict[Kind, str]] = {
    "reg": "register",
    "earn": "earn",
    "redeem": "redeem",
    "void": "void",
    "refund": "refund",
    "adjust": "adjust",
}

P = TypeVar("P")
P_contra = TypeVar("P_contra", contravariant=True)
R = TypeVar("R", EarnResult, RedeemResult, RegisterResult, CorrectionResult)
R_co = TypeVar("R_co", EarnResult, RedeemResult, RegisterResult, CorrectionResult, covariant=True)


@dataclass(frozen=True)
class Pending(Generic[P]):
    """The open preview: what Confirm will record, and the key its buttons carry."""

    kind: Kind
    key: str
    preview: P


@dataclass(frozen=True)
class Press:
    """A Confirm or Cancel button's data, `<kind>:<ok|no>:<key>`, parsed."""

    kind: Kind
    confirm: bool
    key: str

    @property
    def data(self) -> str:
        return f"{self.kind}:{'ok' if self.confirm else 'no'}:{self.key}"


@dataclass(frozen=True)
class Told:
    """What to tell whom about a change: the result message to the cashier, and the one-line
    notice to a linked customer (None: nobody to tell; never the cashier themself)."""

    reply: str
    notify_chat: int | None = None
    notice: str = ""
    reply_buttons: list[list[Button]] | None = None  # under the result, e.g. "↩ Undo"


UNDO_PREFIX: Final = "undo:"  # "↩ Undo" under a result: bot/handlers/void.py answers it


def undo_buttons(entry_id: int, *, undo: bool) -> list[list[Button]] | None:
    """The "↩ Undo" button under an earn's or a redemption's result; None when turned off
    ([corrections] undo_minutes = 0)."""
    return [[{"text": _("↩ Undo"), "data": f"{UNDO_PREFIX}{entry_id}"}]] if undo else None


class Record(Protocol[P_contra, R_co]):
    """A flow's write: records `preview` once with `key`, queueing what `tell` says.

    Raises a LoyaltyError when the store refuses (then nothing was written).
    """

    def __call__(
        self,
        context: ContextTypes.DEFAULT_TYPE,
        preview: P_contra,
        /,
        *,
        key: str,
        actor_id: int,
        tell: Tell[R_co],
    ) -> Awaitable[R_co]: ...


def parse(data: str | None) -> Press | None:
    """The Confirm/Cancel button `data` names; None for anything else (or forged)."""
    match = _BUTTON.fullmatch(data or "")
    if match is None:
        return None
    return Press(cast(Kind, match[1]), match[2] == "ok", match[3])


def pattern(kind: Kind | None = None, *, confirm: bool | None = None) -> str:
    """The callback-data pattern of `kind`'s Confirm (True), Cancel (False), or both (None)."""
    kinds = kind or "|".join(KINDS)
    action = {True: "ok", False: "no", None: "ok|no"}[confirm]
    return rf"^({kinds}):({action}):{KEY_PATTERN}$"


def remember(
    context: ContextTypes.DEFAULT_TYPE, kind: Kind, preview: object
) -> InlineKeyboardMarkup:
    """Makes `preview` the open one (an older preview's Confirm expires); returns its buttons."""
    key = secrets.token_hex(8)
    _user_data(context)[_PENDING] = Pending(kind, key, preview)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("✅ Confirm"), callback_data=Press(kind, True, key).data),
                InlineKeyboardButton(_("✖ Cancel"), callback_data=Press(kind, False, key).data),
            ]
        ]
    )


def drop(context: ContextTypes.DEFAULT_TYPE, kind: Kind | None = None) -> None:
    """Makes the open preview's Confirm say it has expired (only if it is `kind`'s, if given).

    The kind matters when /earn arrives during /redeem: the earn flow (in one group) may already
    have shown its new preview before the redeem flow (in a later group) ends, and dropping any
    preview there would expire the one just shown.
    """
    if context.user_data is None:
        return
    pending = context.user_data.get(_PENDING)
    if isinstance(pending, Pending) and (kind is None or pending.kind == kind):
        del context.user_data[_PENDING]


def _open(context: ContextTypes.DEFAULT_TYPE, press: Press) -> Pending[Any] | None:
    pending = _user_data(context).get(_PENDING)
    if isinstance(pending, Pending) and (pending.kind, pending.key) == (press.kind, press.key):
        return pending
    return None


def _user_data(context: ContextTypes.DEFAULT_TYPE) -> dict[Any, Any]:
    assert context.user_data is not None  # every update here comes from a user
    return context.user_data


def handlers(
    kind: Kind,
    record: Record[P, R],
    describe: Callable[[R], Told],
    *,
    popup: str,
    refused: str = "",
    role: Role = "cashier",
) -> list[BaseHandler[Any, Any, Any]]:
    """The CONFIRM state of `kind`'s flow: Confirm, Cancel, and text that points at them.

    `popup` answers the Confirm press once the change is written; `refused` follows the
    friendly reason when the store refuses it. Both are marked with `N_` by the caller and
    translated here, when sent, in the presser's language. `role` is checked again on every
    press: someone demoted after the preview can't confirm it.
    """

    async def confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
        """Writes the preview once, however many times Confirm is pressed, and tells the result."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        press = parse(query.data)
        pending = None if press is None else _open(context, press)
        if press is None or pending is None:  # an older preview's button, or a second press
            await answer_stale(update, context)
            return None
        drop(context)  # taken before anything else: a double tap finds nothing to confirm
        await quietly(query.edit_message_reply_markup(None), "take the buttons off")
        cashier = user.id
        svc = services(context)

        def tell(result: R) -> list[Outgoing]:
            told = describe(result)  # in the cashier's language (this update's)
            reply: Outgoing = {"chat_id": cashier, "text": told.reply}
            if told.reply_buttons:
                reply["buttons"] = told.reply_buttons
            messages = [reply]
            if told.notify_chat is not None and told.notify_chat != cashier:
                # The customer reads the notice in their own language, not the cashier's.
                with speaking(language_for(svc, told.notify_chat)):
                    text = describe(result).notice
                notice: Outgoing = {"chat_id": told.notify_chat, "text": text, "notice": True}
                messages.append(notice)
            return messages

        try:
            result = await record(
                context, pending.preview, key=pending.key, actor_id=cashier, tell=tell
            )
        except LoyaltyError as exc:  # e.g. another cashier spent the points since the preview
            await quietly(query.answer(), "answer the button")
            await context.bot.send_message(
                cashier, f"{friendly(exc)}{_(refused) if refused else ''}"
            )
            return ConversationHandler.END
        # Committed. From here on every failure is retried, never reported as "nothing changed".
        queued = result["queued"]
        if result["replayed"]:  # recorded before (a racing copy): finish what it still owes
            queued = await delivery.claim_owed(services(context), pending.key)
        await quietly(query.answer(_(popup)), "answer the button")
        await delivery.send_now(context.application, queued)
        return ConversationHandler.END

    confirmed.__name__ = confirmed.__qualname__ = f"confirm_{kind}"  # for the logs
    text = filters.TEXT & ~filters.COMMAND
    return [
        CallbackQueryHandler(requires(role)(confirmed), pattern=pattern(kind, confirm=True)),
        CallbackQueryHandler(requires(role)(cancel_button), pattern=pattern(kind, confirm=False)),
        MessageHandler(text, requires(role)(press_a_button)),
    ]


async def quietly(call: Awaitable[object], what: str) -> None:
    """A Bot API call whose failure changes nothing for anyone (a popup, taking buttons off)."""
    try:
        await call
    except TelegramError as exc:
        log.info("could not %s: %s", what, exc)


@requires("cashier")
async def cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Ends the flow when its Cancel button is pressed; an older preview's Cancel ends nothing."""
    query = update.callback_query
    assert query is not None
    press = parse(query.data)
    if press is None or _open(context, press) is None:
        # Cancel under an earlier preview (or forged data): the open preview is another one.
        await query.answer(_(texts.ALREADY_CLOSED))
        return None
    drop(context)
    await query.answer(_("Cancelled"))
    await query.edit_message_reply_markup(None)
    if query.message is not None:
        await context.bot.send_message(query.message.chat.id, _(texts.CANCELLED))
    return ConversationHandler.END


@requires("cashier")
async def press_a_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Text while a preview waits: point at the buttons."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(_(texts.PRESS_A_BUTTON))
    return None


@requires("cashier")
async def stale_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A Confirm/Cancel button from a flow that has ended: already done, or expired."""
    await answer_stale(update, context)


async def answer_stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Says whether an old Confirm was already done or has expired; changes nothing."""
    query = update.callback_query
    assert query is not None
    press = parse(query.data)
    if press is None or not press.confirm:
        await query.answer(_(texts.ALREADY_CLOSED))
    elif await _is_recorded(services(context), press):
        await query.answer(_(texts.ALREADY_DONE), show_alert=True)
        # Done before, perhaps just before a crash: send whatever it still owes (the result).
        owed = await delivery.claim_owed(services(context), press.key)
        await delivery.send_now(context.application, owed)
    else:
        await query.answer(
            _("This confirmation has expired. Start again with {command}.").format(
                command=f"/{_COMMAND[press.kind]}"
            ),
            show_alert=True,
        )


async def _is_recorded(svc: Services, press: Press) -> bool:
    """Whether the confirmation with this key was written: a registration creates a customer,
    the others a ledger entry."""
    if press.kind == "reg":
        return await svc.store.is_registered(press.key)
    return await svc.store.entry_by_key(press.key) is not None
