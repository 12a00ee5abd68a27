"""User-visible texts shared by several handlers, in one place (a translation touches this layer).

Texts used by one conversation only stay beside it, in its handler module, where the step that
sends them reads top to bottom. Everything here is HTML (bot/app.py sets the parse mode).
"""

from __future__ import annotations

from typing import Final

from core.types import Role

CUSTOMER_HELP = (
    "<b>Your loyalty card</b>\n"
    "/start – link this Telegram account to your card (share your phone number)\n"
    "/status – your balance, tier and rewards\n"
    "/notifications – turn messages about your points off or on\n"
    "/mydata – everything we hold about you, with a file to keep\n"
    "/forget – erase your personal details\n"
    "/privacy – what we store and why\n"
    "/help – this list"
)
CASHIER_HELP = (
    "<b>At the till</b>\n"
    "/register – new customer, e.g. /register\n"
    "/earn – record a purchase, e.g. <code>/earn 07400 123456 25.50</code>\n"
    "/redeem – spend points on a reward, e.g. <code>/redeem 4821 3379 coffee</code>\n"
    "/status – look up a card, e.g. <code>/status 4821 3379</code>\n"
    "/refund – goods returned: take back their points, e.g. <code>/refund #41</code>\n"
    "↩ Undo – under a result, for a few minutes: undo your own mistake\n"
    "/cancel – stop what you're doing\n"
    "/help – this list"
)
ADMIN_HELP = (
    CASHIER_HELP + "\n\n<b>Managing</b>\n"
    "/report – how the program is doing, e.g. <code>/report 7d</code>\n"
    "/digest – a summary every day or week, e.g. <code>/digest daily</code>\n"
    "/void – cancel a purchase or redemption, e.g. <code>/void #41</code>\n"
    "/staff – list staff; <code>/staff add 123456789</code>, <code>/staff remove 123456789</code>, "
    "<code>/staff invite</code>\n"
    "/adjust – add or take away points by hand, with a reason, e.g. "
    "<code>/adjust 4821 3379 +50 goodwill for the late order</code>\n"
    "/audit – who did what: <code>/audit</code>, <code>/audit 4821 3379</code>, "
    "<code>/audit staff 123456789</code>, <code>/audit 7d</code>, <code>/audit csv</code>\n"
    "/edit – correct a customer's details, e.g. <code>/edit 4821 3379 phone 07400 123457</code>\n"
    "/forget – erase a customer's personal details when they ask, e.g. "
    "<code>/forget 4821 3379</code>"
)
HELP: Final[dict[Role, str]] = {
    "customer": CUSTOMER_HELP,
    "cashier": CASHIER_HELP,
    "admin": ADMIN_HELP,
}

# /privacy (bot/handlers/privacy.py); docs/decisions.md "Forgetting a customer" says the same.
PRIVACY: Final = (
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
LINK_NOTICE: Final = (
    "🔒 We keep your name, phone number and points history to run your card: /privacy says "
    "what and why."
)

SHARE_PHONE = "📱 Share my phone number"

ASK_CUSTOMER: Final = (
    "Whose card? Send their <b>card number</b> or <b>phone number</b> (/cancel to stop)."
)
PRESS_A_BUTTON: Final = "Please press ✅ Confirm or ✖ Cancel above (or send /cancel)."
CANCELLED: Final = "Cancelled. Nothing was recorded."
ALREADY_CLOSED: Final = "That is already closed; nothing to cancel."
ALREADY_DONE: Final = "Already done ✔ — it was recorded once."
NO_LONGER_ACTIVE: Final = "That button is no longer active. Send /help to start again."
