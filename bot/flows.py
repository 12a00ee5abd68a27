"""What every conversation shares: its states, steps that return them, /cancel and idle timeout.

How conversations fit together (see docs/decisions.md, "Conversations"):
- Each ConversationHandler sits in its own handler group (bot/app.py). Entry commands return
  their first state normally, so every other conversation also sees the command and ends itself
  (`fallbacks`): starting /redeem in the middle of /earn ends /earn, and its preview expires.
- Every other step of a flow returns its next state, as in python-telegram-bot's
  conversationbot example, and `conversation` wraps it in `step`, which also stops the update
  there: a message that a flow consumed never also reaches the "free text outside a flow" hint in
  the last group.
- The preview -> Confirm step that ends register, earn and redeem is bot/confirm.py.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Final, Literal, NoReturn, TypeAlias

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    TypeHandler,
)

from core.types import Button

from . import confirm, texts
from .i18n import _, speaking
from .languages import language_for
from .services import services

# A conversation state: a step's name such as "earn.amount", or END (-1) when the flow is over.
State: TypeAlias = str | int
END: Final = ConversationHandler.END
Step: TypeAlias = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, State | None]]
Handler: TypeAlias = BaseHandler[Update, Any, Any]

IDLE_TIMEOUT: Final = 300  # seconds: a flow left alone this long ends, and says so

# Commands that start a flow; sending one ends whatever flow was open (see module docstring).
# /help is not one of them: asking for help mid-flow should not lose the cashier's place.
FLOW_COMMANDS: Final = (
    "start",
    "register",
    "earn",
    "redeem",
    "status",
    "report",
    "staff",
    "cancel",
    "claim",
    "digest",
    "void",
    "refund",
    "adjust",
    "audit",
    "card",
    "find",
    "history",
    "rewards",
    # Issue 14: not flows, but each answers at once, and an admin's /forget asks a question
    # of its own: the flow that was open ends, as with any other command.
    "privacy",
    "notifications",
    "mydata",
    "forget",
    "edit",
)

# Buttons that act for a customer already chosen, `go:<action>:<customer id>`: under the card a
# scanned QR code opens, under /find's matches and under an earn's result ("Same customer
# again"). "earn" and "redeem" start that flow at its next question (bot/handlers/earn.py,
# redeem.py); "status" shows the card (bot/handlers/card.py). Like a flow's command, a press
# ends whatever other flow was open. The id is chosen by the client, so every press is
# role-checked (staff only) and the customer read afresh.
GoAction: TypeAlias = Literal["earn", "redeem", "status"]
GO_PATTERN: Final = r"^go:(earn|redeem|status):(\d{1,12})$"
_GO = re.compile(GO_PATTERN)


def go_data(action: GoAction, customer_id: int) -> str:
    return f"go:{action}:{customer_id}"


def go_pattern(action: GoAction) -> str:
    return rf"^go:{action}:\d{{1,12}}$"


def go_target(data: str | None) -> int | None:
    """The customer id a `go:` button names; None for anything else."""
    match = _GO.fullmatch(data or "")
    return None if match is None else int(match[2])


class GoButton(CallbackQueryHandler):  # type: ignore[type-arg]
    """Handles the `go:` buttons of `action` (every action if None).

    Not a plain CallbackQueryHandler with a pattern: python-telegram-bot lets a press with
    empty data through whatever the pattern says (22.x, `check_update`), which would start
    /earn and /redeem and end open flows on a forged empty button.
    """

    def __init__(
        self, callback: Callable[..., Coroutine[Any, Any, Any]], action: GoAction | None = None
    ) -> None:
        super().__init__(callback, pattern=GO_PATTERN if action is None else go_pattern(action))

    def check_update(self, update: object) -> bool | object | None:
        if not (isinstance(update, Update) and update.callback_query is not None):
            return None
        if not update.callback_query.data:
            return False
        return super().check_update(update)


def again_buttons(customer_id: int) -> list[list[Button]]:
    """Under an earn's result: the next purchase or a reward for the same customer, one tap."""
    return [
        [
            {"text": _("➕ Same customer again"), "data": go_data("earn", customer_id)},
            {"text": _("🎁 Redeem"), "data": go_data("redeem", customer_id)},
        ]
    ]


def step(
    callback: Step,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, NoReturn]]:
    """A step inside an open flow: goes to the state it returns (None: stays), and the update
    stops there, so no later handler group answers it too."""

    @functools.wraps(callback)
    async def stopping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> NoReturn:
        raise ApplicationHandlerStop(await callback(update, context))

    return stopping


def conversation(
    *,
    name: str,
    entry: Handler | Sequence[Handler],
    states: Mapping[State, Sequence[Handler]],
    preview_kind: confirm.Kind | None = None,
) -> ConversationHandler[Any]:
    """A flow the way every flow here works: entered by one command, each state's callbacks
    wrapped as steps, ended by /cancel, by another flow's command, or after IDLE_TIMEOUT.

    `preview_kind` names the kind of preview the flow may leave open (bot/confirm.py), so that
    ending the flow expires that preview and no other.
    """
    for handlers in states.values():
        for handler in handlers:
            handler.callback = step(handler.callback)
    return ConversationHandler(
        entry_points=list(entry) if isinstance(entry, Sequence) else [entry],
        states={
            **{state: list(handlers) for state, handlers in states.items()},
            ConversationHandler.TIMEOUT: [TypeHandler(Update, idle_timeout)],
        },
        fallbacks=[
            CommandHandler("cancel", step(cancel)),
            CommandHandler(
                [c for c in FLOW_COMMANDS if c != "cancel"], _ending_on_other_command(preview_kind)
            ),
            # A `go:` button starts (or shows) something else: end this flow as a command would.
            GoButton(_ending_on_other_command(preview_kind)),
        ],
        allow_reentry=True,
        conversation_timeout=IDLE_TIMEOUT,
        name=name,
        # Its state is kept in the database (bot/persistence.py): a restart or a takeover in
        # the middle of a flow continues it.
        persistent=True,
    )


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Ends the flow on /cancel; nothing was recorded."""
    confirm.drop(context)
    if update.effective_message is not None:
        await update.effective_message.reply_text(_(texts.CANCELLED))
    return END


def _ending_on_other_command(
    kind: confirm.Kind | None,
) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, State]]:
    async def other_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
        """Ends this flow (expiring its own preview); the new command's own handler runs."""
        if kind is not None:
            confirm.drop(context, kind)
        return END

    return other_command


async def idle_timeout(update: object, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Ends a flow left idle for IDLE_TIMEOUT seconds, and says so."""
    confirm.drop(context)
    if isinstance(update, Update) and update.effective_chat is not None:
        # A job, not an update: its task did not run set_language, so say it in the language
        # of the person whose flow it was.
        user = update.effective_user
        language = (
            language_for(services(context), user.id, user.language_code)
            if user is not None
            else services(context).config.shop.language
        )
        with speaking(language):
            text = _(
                "⌛ That was idle for 5 minutes, so I stopped it. Nothing was recorded. "
                "Start again whenever you're ready."
            )
        await context.bot.send_message(update.effective_chat.id, text)
    return END
