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
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, Final, NoReturn, TypeAlias

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    TypeHandler,
)

from . import confirm, texts

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
    # Issue 14: not flows, but each answers at once, and an admin's /forget asks a question
    # of its own: the flow that was open ends, as with any other command.
    "privacy",
    "notifications",
    "mydata",
    "forget",
    "edit",
)


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
        ],
        allow_reentry=True,
        conversation_timeout=IDLE_TIMEOUT,
        name=name,
    )


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> State:
    """Ends the flow on /cancel; nothing was recorded."""
    confirm.drop(context)
    if update.effective_message is not None:
        await update.effective_message.reply_text(texts.CANCELLED)
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
        await context.bot.send_message(
            update.effective_chat.id,
            "⌛ That was idle for 5 minutes, so I stopped it. Nothing was recorded. "
            "Start again whenever you're ready.",
        )
    return END
