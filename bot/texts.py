"""User-visible texts shared by several handlers, in one place (a translation touches this layer).

Texts used by one conversation only stay beside it, in its handler module, where the step that
sends them reads top to bottom. Everything here is HTML (bot/app.py sets the parse mode).
"""

from __future__ import annotations

from typing import Final

from core.types import Role

from .i18n import N_, _

# Each role's /help, a line per text, so a new command adds one line for translators rather
# than changing a whole block they had translated. Translated when sent (help_for).
CUSTOMER_HELP: Final = (
    N_("<b>Your loyalty card</b>"),
    N_("/start – link this Telegram account to your card (share your phone number)"),
    N_("/status – your balance, tier and rewards"),
    N_("/card – your card as a QR code: show it at the till, the cashier scans it"),
    N_("/history – everything on your card, newest first"),
    N_("/rewards – the rewards, and which you can have now"),
    N_("/campaigns – offers running now and next"),
    N_("/birthday – your birthday, for a treat in your birthday week, e.g. /birthday 14/03"),
    N_("/invite – a link for a friend: points for you both at their first purchase"),
    N_("/notifications – turn messages about your points off or on"),
    N_("/mydata – everything we hold about you, with a file to keep"),
    N_("/forget – erase your personal details"),
    N_("/privacy – what we store and why"),
    N_("/language – the language I write to you in"),
    N_("/help – this list"),
)
CASHIER_HELP: Final = (
    N_("<b>At the till</b>"),
    N_("/register – new customer, e.g. /register"),
    N_("/earn – record a purchase, e.g. <code>/earn 07400 123456 25.50</code>"),
    N_("/redeem – spend points on a reward, e.g. <code>/redeem 4821 3379 coffee</code>"),
    N_("/status – look up a card, e.g. <code>/status 4821 3379</code>"),
    N_("/find – a customer by name or e-mail, e.g. <code>/find Chris</code>"),
    N_("/history – a card's whole history, e.g. <code>/history 4821 3379</code>"),
    N_("/rewards – the rewards, or what one card can have: <code>/rewards 4821 3379</code>"),
    N_(
        "📷 A customer's QR card (on their phone, or printed): scan it with your phone's camera "
        "to open their card"
    ),
    N_("/refund – goods returned: take back their points, e.g. <code>/refund #41</code>"),
    N_("/campaigns – offers running now and next"),
    N_("/birthday – set a customer's birthday, e.g. <code>/birthday 4821 3379 14/03</code>"),
    N_("↩ Undo – under a result, for a few minutes: undo your own mistake"),
    N_("/language – the language I write to you in"),
    N_("/cancel – stop what you're doing"),
    N_("/help – this list"),
)
MANAGING_HELP: Final = (
    N_("<b>Managing</b>"),
    N_("/report – how the program is doing, e.g. <code>/report 7d</code>"),
    N_("/digest – a summary every day or week, e.g. <code>/digest daily</code>"),
    N_("/void – cancel a purchase or redemption, e.g. <code>/void #41</code>"),
    N_(
        "/staff – list staff; <code>/staff add 123456789</code>, "
        "<code>/staff remove 123456789</code>, <code>/staff invite</code>"
    ),
    N_(
        "/adjust – add or take away points by hand, with a reason, e.g. "
        "<code>/adjust 4821 3379 +50 goodwill for the late order</code>"
    ),
    N_(
        "/audit – who did what: <code>/audit</code>, <code>/audit 4821 3379</code>, "
        "<code>/audit staff 123456789</code>, <code>/audit 7d</code>, <code>/audit csv</code>"
    ),
    N_(
        "/tier – pin a customer's tier, with a reason, e.g. "
        "<code>/tier 4821 3379 Gold founding member</code>; <code>auto</code> unpins"
    ),
    N_(
        "/edit – correct a customer's details, e.g. <code>/edit 4821 3379 phone 07400 123457</code>"
    ),
    N_(
        "/forget – erase a customer's personal details when they ask, e.g. "
        "<code>/forget 4821 3379</code>"
    ),
)
HELP: Final[dict[Role, tuple[tuple[str, ...], ...]]] = {
    "customer": (CUSTOMER_HELP,),
    "cashier": (CASHIER_HELP,),
    "admin": (CASHIER_HELP, MANAGING_HELP),
}


def help_for(role: Role) -> str:
    """The /help text of `role`, in the current language."""
    return "\n\n".join("\n".join(_(line) for line in part) for part in HELP[role])


# The texts below are marked with N_ and translated where sent: `_(texts.CANCELLED)`.
# /privacy (bot/handlers/privacy.py); docs/decisions.md "Forgetting a customer" says the same.
PRIVACY: Final = N_(
    "<b>Your data and this loyalty card</b>\n"
    "<b>What we store:</b> your name, phone number and e-mail (if you gave one), given at the "
    "till; your card number, points, tier and every points entry (what you bought for how "
    "much, the rewards you took); the link to this Telegram account once you share your "
    "number; whether you want notifications; and a record of which staff member did what to "
    "your card.\n"
    "<b>Why:</b> to find your card at the till, give and spend your points, and tell you when "
    "they change. Nothing is sold or shared.\n"
    "<b>Who sees it:</b> shop staff (cashiers see a masked phone number; admins can export "
    "contact details) and you.\n"
    "<b>Your choices:</b> /mydata shows all of it and sends it as a file; /notifications off "
    "stops our messages; /forget erases your name, phone, e-mail and this link (your card "
    "keeps its points, without a name)."
)
# The one line shown on linking (bot/handlers/link.py).
LINK_NOTICE: Final = N_(
    "🔒 We keep your name, phone number and points history to run your card: /privacy says "
    "what and why."
)

SHARE_PHONE: Final = N_("📱 Share my phone number")

ASK_CUSTOMER: Final = N_(
    "Whose card? Send their <b>card number</b> or <b>phone number</b> (/cancel to stop)."
)
PRESS_A_BUTTON: Final = N_("Please press ✅ Confirm or ✖ Cancel above (or send /cancel).")
CANCELLED: Final = N_("Cancelled. Nothing was recorded.")
ALREADY_CLOSED: Final = N_("That is already closed; nothing to cancel.")
ALREADY_DONE: Final = N_("Already done ✔ — it was recorded once.")
NO_LONGER_ACTIVE: Final = N_("That button is no longer active. Send /help to start again.")
