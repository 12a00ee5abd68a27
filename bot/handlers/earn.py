"""/earn: record the points a purchase earns (cashiers and admins).

    /earn -> customer? -> amount? -> preview [Confirm | Cancel] -> recorded
    /earn <card or phone> <amount>  jumps straight to the preview.

Diagram: docs/diagrams/earn.mmd. Rules: core/rules.py quote_earn; storage: Store.earn.
"""

from __future__ import annotations

from decimal import Decimal

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import rules
from core.errors import LoyaltyError, UnknownCustomer
from core.types import Customer

from .. import flows, texts
from ..customers import find_or_explain, notify_customer
from ..format import customer_line, money, points
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_CUSTOMER, ASK_AMOUNT, CONFIRM = "earn.customer", "earn.amount", "earn.confirm"
CUSTOMER_KEY = "earn_customer_id"


@requires("cashier")
async def start_earn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Starts /earn; the one-line form `/earn <card or phone> <amount>` goes to the preview."""
    flows.drop_preview(context)
    args = context.args or []
    assert update.effective_message is not None
    if not args:
        await update.effective_message.reply_text(texts.ASK_CUSTOMER)
        return ASK_CUSTOMER
    if len(args) >= 2:
        # The amount is the last word and the reference everything before it.
        try:
            customer = await services(context).store.find_customer(" ".join(args[:-1]))
        except UnknownCustomer as exc:
            await update.effective_message.reply_text(f"{friendly(exc)}\n{texts.ASK_CUSTOMER}")
            return ASK_CUSTOMER
        except LoyaltyError as exc:
            if _is_amount(args[-1], context):  # "/earn 07700 900123 150": the number is bad
                await update.effective_message.reply_text(f"{friendly(exc)}\n{texts.ASK_CUSTOMER}")
                return ASK_CUSTOMER
            customer = None  # maybe it was all reference ("/earn 07400 123456"): try that
        if customer is not None:
            return await _preview(update, context, customer, args[-1])
    customer = await find_or_explain(update, context, " ".join(args))
    if customer is None:
        return ASK_CUSTOMER
    return await _ask_amount(update, context, customer)


def _is_amount(word: str, context: ContextTypes.DEFAULT_TYPE) -> bool:
    try:
        rules.parse_amount(word, services(context).config.program)
    except LoyaltyError:
        return False
    return True


@requires("cashier")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Looks up the customer and asks for the purchase amount."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        flows.stay(ASK_CUSTOMER)
    flows.stay(await _ask_amount(update, context, customer))


async def _ask_amount(update: Update, context: ContextTypes.DEFAULT_TYPE, c: Customer) -> str:
    assert update.effective_message is not None and context.user_data is not None
    context.user_data[CUSTOMER_KEY] = c["id"]
    currency = services(context).config.program.currency
    await update.effective_message.reply_text(
        f"{customer_line(c)} · {c['tier']} · {points(c['balance'])}\n"
        f"How much did they spend? Send the amount in {currency}, like 25.50 (/cancel to stop)."
    )
    return ASK_AMOUNT


@requires("cashier")
async def got_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Checks the amount and shows the preview with Confirm / Cancel."""
    assert update.effective_message is not None and update.effective_message.text is not None
    assert context.user_data is not None
    customer_id = context.user_data.get(CUSTOMER_KEY)
    if customer_id is None:  # the flow's memory was lost (restart): start over kindly
        await update.effective_message.reply_text("Let's start again: send /earn.")
        flows.stay(ConversationHandler.END)
    customer = await services(context).store.get_customer(customer_id)
    flows.stay(await _preview(update, context, customer, update.effective_message.text))


async def _preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer, amount_text: str
) -> str:
    """'25.50 GBP -> 25 points, Silver x1.5' with Confirm / Cancel; a bad amount asks again."""
    assert update.effective_message is not None and context.user_data is not None
    program = services(context).config.program
    context.user_data[CUSTOMER_KEY] = customer["id"]
    try:
        amount = rules.parse_amount(amount_text, program)
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\nSend the amount again, like 25.50 (/cancel to stop)."
        )
        return ASK_AMOUNT
    quote = rules.quote_earn(customer, amount, program)
    key = flows.new_preview(context, "earn", customer_id=customer["id"], amount=str(amount))
    tier_up = (
        f"\n🎉 This takes them to <b>{quote['tier_after']}</b>!"
        if quote["tier_after"] != quote["tier_before"]
        else ""
    )
    await update.effective_message.reply_text(
        f"{customer_line(customer)}\n"
        f"{money(quote['amount'], quote['currency'])} → <b>{points(quote['points'])}</b>, "
        f"{quote['tier_before']} ×{quote['multiplier']}\n"
        f"Balance {quote['balance_before']:,} → {quote['balance_after']:,}{tier_up}",
        reply_markup=flows.confirm_keyboard("earn", key),
    )
    return CONFIRM


@requires("cashier")
async def confirm_earn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Records the purchase once, however many times Confirm is pressed."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    key, pending = await flows.claim_preview(update, context, "earn")
    svc = services(context)
    try:
        result = await svc.store.earn(
            pending["customer_id"],
            Decimal(pending["amount"]),
            actor_id=update.effective_user.id,
            now=svc.clock(),
            key=key,
        )
    except LoyaltyError as exc:
        await query.answer()
        await context.bot.send_message(update.effective_user.id, friendly(exc))
        flows.stay(ConversationHandler.END)
    await query.answer("Recorded ✔")
    tier_up = (
        f"\n🎉 Tier up: now <b>{result['tier_after']}</b>!"
        if result["tier_after"] != result["tier_before"]
        else ""
    )
    await context.bot.send_message(
        update.effective_user.id,
        f"✅ <b>+{points(result['points'])}</b> for {money(result['amount'], result['currency'])}"
        f"\nNew balance: <b>{points(result['balance_after'])}</b> · {result['tier_after']}"
        f"{tier_up}",
    )
    await notify_customer(
        context,
        result["notify_user_id"],
        f"⭐ You earned <b>{points(result['points'])}</b> for your purchase of "
        f"{money(result['amount'], result['currency'])}. Balance: "
        f"<b>{points(result['balance_after'])}</b> ({result['tier_after']}).{tier_up}",
        actor_id=update.effective_user.id,
    )
    flows.stay(ConversationHandler.END)


@requires("cashier")
async def press_a_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Text while a preview waits: point at the buttons."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Please press ✅ Confirm or ✖ Cancel above (or send /cancel)."
    )
    flows.stay(None)


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("earn", start_earn)],
        states={
            ASK_CUSTOMER: [MessageHandler(text, got_customer)],
            ASK_AMOUNT: [MessageHandler(text, got_amount)],
            CONFIRM: [
                CallbackQueryHandler(confirm_earn, pattern=flows.confirm_pattern("earn")),
                CallbackQueryHandler(flows.cancel_button, pattern=flows.cancel_pattern("earn")),
                MessageHandler(text, press_a_button),
            ],
            **flows.timeout_handlers(),
        },
        fallbacks=flows.flow_fallbacks("earn"),
        allow_reentry=True,
        conversation_timeout=flows.IDLE_TIMEOUT,
        name="earn",
    )
