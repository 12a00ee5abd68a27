"""/invite: a linked customer's referral link; and the /start that opens one.

    customer:  /invite -> https://t.me/<bot>?start=ref_<code>, to share
    anyone:    /start ref_<code> -> remembered (the first link an account opens wins), then the
               usual welcome: share your phone number to link a card
    later:     linking a card registered after the click, with no purchase yet, attaches the
               referral; at that card's first purchase both get [referral] bonus
               (bot/referrals.py, core/referrals.py)

Staff invites are another deep link (/start inv…, bot/handlers/staff.py); bot/app.py routes
each /start by its payload.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from core import referrals

from ..customers import share_keyboard
from ..format import esc, points
from ..i18n import N_, _
from ..services import services

log = logging.getLogger(__name__)

# Marked with N_ and translated where sent.
OFF = N_("Invitations aren't running just now.")
NOT_LINKED = N_(
    "Your Telegram account isn't linked to a loyalty card yet. Send /start and tap "
    "<b>Share my phone number</b> to link it; then send /invite."
)
WELCOME = N_(
    "Welcome to our loyalty program! 👋\n"
    "Register at the till, then tap <b>Share my phone number</b> below to link your card: "
    "your first purchase then earns you and your friend <b>{bonus}</b> each."
)
_CLICKS = {
    "unknown": N_("That invite link doesn't work (it may have been mistyped)."),
    "own": N_("That's your own invite link: send it to a friend instead. 🙂"),
    "linked": N_(
        "You already have a loyalty card, so this invite can't count; invites are for "
        "new customers. Send /status to see your card."
    ),
}


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Gives a linked customer their referral link."""
    assert update.effective_user is not None and update.effective_message is not None
    svc = services(context)
    bonus = svc.config.program.referral_bonus
    if not bonus:
        await update.effective_message.reply_text(_(OFF))
        return
    own = await svc.store.customer_by_telegram(update.effective_user.id)
    if own is None:
        await update.effective_message.reply_text(_(NOT_LINKED))
        return
    code = await svc.store.referral_code(own["id"])
    link = referrals.link(context.bot.username, code)
    await update.effective_message.reply_text(
        _(
            "Invite a friend with this link:\n{link}\n\n"
            "When they join and make their first purchase, you each get <b>{points}</b>."
        ).format(link=esc(link), points=points(bonus))
    )


async def open_referral(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start ref_<code>: remembers the click and welcomes the newcomer."""
    assert update.effective_user is not None and update.effective_message is not None
    svc = services(context)
    payload = (context.args or [""])[0]
    code = referrals.code_from(payload)
    bonus = svc.config.program.referral_bonus
    outcome = (
        "unknown"
        if code is None or not bonus
        else await svc.store.referral_click(code, update.effective_user.id, svc.clock())
    )
    log.info("referral link opened by user %s: %s", update.effective_user.id, outcome)
    if outcome in _CLICKS:
        await update.effective_message.reply_text(_(_CLICKS[outcome]))
        return
    # "recorded", or "already" (a second link: the first one stands, and says nothing new)
    await update.effective_message.reply_text(
        _(WELCOME).format(bonus=points(bonus)), reply_markup=share_keyboard()
    )
