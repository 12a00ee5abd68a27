"""/start, /help, /cancel outside a flow, and the one-line hints that mean no update goes
unanswered: unknown commands, free text outside a flow, and buttons that no longer apply.
"""

from __future__ import annotations

from typing import Final

from telegram import Update
from telegram.ext import ContextTypes

from core.types import Role

from .. import confirm, texts
from ..customers import share_keyboard
from ..format import customer_line, esc
from ..i18n import N_, _
from ..roles import role_of
from ..services import services
from ..texts import help_for

# A whole sentence per staff role, so a translation can word each its own way.
GREETINGS: Final[dict[Role, str]] = {
    "cashier": N_("Hello {name}! You're cashier here."),
    "admin": N_("Hello {name}! You're admin here."),
}


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greets: staff get their menu; customers see their card, or are asked to link it."""
    assert update.effective_user is not None and update.effective_message is not None
    confirm.drop(context)
    svc = services(context)
    role = await role_of(svc, update.effective_user.id)
    if role != "customer":
        name = esc(update.effective_user.first_name)
        await update.effective_message.reply_text(
            _(GREETINGS[role]).format(name=name) + f"\n\n{help_for(role)}"
        )
        return
    customer = await svc.store.customer_by_telegram(update.effective_user.id)
    if customer is not None:
        await update.effective_message.reply_text(
            _("Welcome back! {customer}\nSend /status to see your points.").format(
                customer=customer_line(customer)
            )
        )
        return
    await update.effective_message.reply_text(
        _(
            "Welcome to our loyalty program! 👋\n"
            "To see your points here, tap <b>Share my phone number</b> below: I'll find the card "
            "registered with that number. (Not registered yet? Ask at the till.)"
        ),
        reply_markup=share_keyboard(),
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Lists the commands for the asker's role, one example each."""
    assert update.effective_user is not None and update.effective_message is not None
    role = await role_of(services(context), update.effective_user.id)
    await update.effective_message.reply_text(help_for(role))


async def cancel_outside_flow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel with nothing open."""
    assert update.effective_message is not None
    confirm.drop(context)
    await update.effective_message.reply_text(
        _("Nothing to cancel. Send /help to see what I can do.")
    )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command nobody handles: one line, never silence."""
    assert update.effective_message is not None and update.effective_message.text is not None
    command = update.effective_message.text.split()[0][:40]
    await update.effective_message.reply_text(
        _("I don't know {command}. Send /help to see the commands.").format(command=esc(command))
    )


async def free_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text outside any flow: a one-line hint for the sender's role."""
    assert update.effective_user is not None and update.effective_message is not None
    role = await role_of(services(context), update.effective_user.id)
    hint = (
        _("Send /earn, /redeem, /register or /status to start (/help for more).")
        if role != "customer"
        else _("Send /status to see your points, or /help.")
    )
    await update.effective_message.reply_text(hint)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button press (old, or forged): say it no longer applies; change nothing."""
    assert update.callback_query is not None
    await update.callback_query.answer(_(texts.NO_LONGER_ACTIVE), show_alert=True)
