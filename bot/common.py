"""/start, /help, /cancel outside a flow, and the one-line hints that mean no update goes
unanswered: unknown commands, free text outside a flow, and buttons that no longer apply.
"""

from __future__ import annotations

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.ext import ContextTypes

from core.types import Role

from . import flows
from .roles import requires, role_of
from .services import services
from .texts import customer_line, esc

CUSTOMER_HELP = (
    "<b>Your loyalty card</b>\n"
    "/start – link this Telegram account to your card (share your phone number)\n"
    "/status – your balance, tier and rewards\n"
    "/help – this list"
)
CASHIER_HELP = (
    "<b>At the till</b>\n"
    "/register – new customer, e.g. /register\n"
    "/earn – record a purchase, e.g. <code>/earn 07400 123456 25.50</code>\n"
    "/redeem – spend points on a reward, e.g. <code>/redeem 4821 3379 coffee</code>\n"
    "/status – look up a card, e.g. <code>/status 4821 3379</code>\n"
    "/cancel – stop what you're doing\n"
    "/help – this list"
)
ADMIN_HELP = (
    CASHIER_HELP + "\n\n<b>Managing</b>\n"
    "/report – how the program is doing, e.g. <code>/report 7d</code>\n"
    "/digest – a summary every day or week, e.g. <code>/digest daily</code>\n"
    "/staff – list staff; <code>/staff add 123456789</code>, <code>/staff remove 123456789</code>, "
    "<code>/staff invite</code>"
)
HELP: dict[Role, str] = {"customer": CUSTOMER_HELP, "cashier": CASHIER_HELP, "admin": ADMIN_HELP}

SHARE_PHONE = "📱 Share my phone number"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greets: staff get their menu; customers see their card, or are asked to link it."""
    assert update.effective_user is not None and update.effective_message is not None
    flows.drop_preview(context)
    if context.args and len(context.args) == 1 and context.args[0].startswith("inv"):
        from .staff import accept_invite  # here: bot/staff.py imports this module's HELP

        await accept_invite(update, context, context.args[0])
        return
    svc = services(context)
    role = await role_of(svc, update.effective_user.id)
    if role != "customer":
        await update.effective_message.reply_text(
            f"Hello {esc(update.effective_user.first_name)}! You're {role} here.\n\n{HELP[role]}"
        )
        return
    customer = await svc.store.customer_by_telegram(update.effective_user.id)
    if customer is not None:
        await update.effective_message.reply_text(
            f"Welcome back! {customer_line(customer)}\nSend /status to see your points."
        )
        return
    await update.effective_message.reply_text(
        "Welcome to our loyalty program! 👋\n"
        "To see your points here, tap <b>Share my phone number</b> below: I'll find the card "
        "registered with that number. (Not registered yet? Ask at the till.)",
        reply_markup=share_keyboard(),
    )


def share_keyboard() -> ReplyKeyboardMarkup:
    """The one-button keyboard that shares the sender's own phone number (see bot/link.py)."""
    return ReplyKeyboardMarkup(
        [[KeyboardButton(SHARE_PHONE, request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists the commands for the asker's role, one example each."""
    assert update.effective_user is not None and update.effective_message is not None
    role = await role_of(services(context), update.effective_user.id)
    await update.effective_message.reply_text(HELP[role])


async def cancel_outside_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel with nothing open."""
    assert update.effective_message is not None
    flows.drop_preview(context)
    await update.effective_message.reply_text("Nothing to cancel. Send /help to see what I can do.")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command nobody handles: one line, never silence."""
    assert update.effective_message is not None and update.effective_message.text is not None
    command = update.effective_message.text.split()[0][:40]
    await update.effective_message.reply_text(
        f"I don't know {esc(command)}. Send /help to see the commands."
    )


async def free_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text outside any flow: a one-line hint for the sender's role."""
    assert update.effective_user is not None and update.effective_message is not None
    role = await role_of(services(context), update.effective_user.id)
    hint = (
        "Send /earn, /redeem, /register or /status to start (/help for more)."
        if role != "customer"
        else "Send /status to see your points, or /help."
    )
    await update.effective_message.reply_text(hint)


@requires("cashier")
async def stale_confirmation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A Confirm/Cancel button from a flow that has ended: already done, or expired."""
    assert update.callback_query is not None and update.callback_query.data is not None
    kind, action, key = update.callback_query.data.split(":")
    if action == "no":
        await update.callback_query.answer("That is already closed; nothing to cancel.")
        return
    await flows.answer_stale(update, context, kind, key)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button press (old, or forged): say it no longer applies; change nothing."""
    assert update.callback_query is not None
    await update.callback_query.answer(
        "That button is no longer active. Send /help to start again.", show_alert=True
    )
