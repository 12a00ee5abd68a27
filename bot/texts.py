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
    "/campaigns – offers running now and next\n"
    "/birthday – your birthday, for a treat in your birthday week, e.g. /birthday 14/03\n"
    "/invite – a link for a friend: points for you both at their first purchase\n"
    "/help – this list"
)
CASHIER_HELP = (
    "<b>At the till</b>\n"
    "/register – new customer, e.g. /register\n"
    "/earn – record a purchase, e.g. <code>/earn 07400 123456 25.50</code>\n"
    "/redeem – spend points on a reward, e.g. <code>/redeem 4821 3379 coffee</code>\n"
    "/status – look up a card, e.g. <code>/status 4821 3379</code>\n"
    "/refund – goods returned: take back their points, e.g. <code>/refund #41</code>\n"
    "/campaigns – offers running now and next\n"
    "/birthday – set a customer's birthday, e.g. <code>/birthday 4821 3379 14/03</code>\n"
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
    "<code>/audit staff 123456789</code>, <code>/audit 7d</code>, <code>/audit csv</code>"
)
HELP: Final[dict[Role, str]] = {
    "customer": CUSTOMER_HELP,
    "cashier": CASHIER_HELP,
    "admin": ADMIN_HELP,
}

SHARE_PHONE = "📱 Share my phone number"

ASK_CUSTOMER: Final = (
    "Whose card? Send their <b>card number</b> or <b>phone number</b> (/cancel to stop)."
)
PRESS_A_BUTTON: Final = "Please press ✅ Confirm or ✖ Cancel above (or send /cancel)."
CANCELLED: Final = "Cancelled. Nothing was recorded."
ALREADY_CLOSED: Final = "That is already closed; nothing to cancel."
ALREADY_DONE: Final = "Already done ✔ — it was recorded once."
NO_LONGER_ACTIVE: Final = "That button is no longer active. Send /help to start again."
