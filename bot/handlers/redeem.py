"""/redeem: spend a customer's points on a reward (cashiers and admins).

    /redeem -> customer? -> reward buttons -> preview [Confirm | Cancel] -> redeemed, with a code
    /redeem <card or phone>             jumps to the reward buttons
    /redeem <card or phone> <reward id> jumps straight to the preview

Diagram: docs/diagrams/redeem.mmd. Rules: core/rules.py find_reward, reward_options,
quote_redeem; storage: Store.redeem (which re-checks the balance, so a redemption another
cashier confirmed first is never spent twice).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import rules
from core.errors import InsufficientPoints, LoyaltyError, UnknownReward
from core.types import Customer, Program, Reward

from .. import flows, texts
from ..customers import find_or_explain, notify_customer
from ..format import card, customer_line, esc, points
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_CUSTOMER, PICK, CONFIRM = "redeem.customer", "redeem.pick", "redeem.confirm"
CUSTOMER_KEY = "redeem_customer_id"

# Reward buttons carry the reward id (1-20 of a-z 0-9 _ -, checked by core/config.py), so the
# data is at most 32 bytes, well inside Telegram's 64.
PICK_PREFIX = "redeem:pick:"
PICK_PATTERN = rf"^{PICK_PREFIX}[a-z0-9_-]{{1,20}}$"
RESTART_TEXT = "Let's start again: send /redeem."


@requires("cashier")
async def start_redeem(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Starts /redeem; `/redeem <card or phone> [reward id]` skips the steps it answers."""
    flows.drop_preview(context)
    assert update.effective_message is not None
    words = list(context.args or [])
    if not words:
        await update.effective_message.reply_text(texts.ASK_CUSTOMER)
        return ASK_CUSTOMER
    program = services(context).config.program
    reward: Reward | None = None
    unknown: UnknownReward | None = None
    if len(words) >= 2:
        try:
            reward = rules.find_reward(words[-1], program)
            words = words[:-1]
        except UnknownReward as exc:
            # Letters never appear in a card or phone number, so a last word with letters was
            # meant as a reward id ("/redeem 4821 3376 cofee"): list the ids after the lookup.
            if any(ch.isalpha() for ch in words[-1]):
                unknown = exc
                words = words[:-1]
    customer = await find_or_explain(update, context, " ".join(words))
    if customer is None:
        return ASK_CUSTOMER
    if unknown is not None:
        return await _show_rewards(update, context, customer, note=friendly(unknown))
    if reward is None:
        return await _show_rewards(update, context, customer)
    try:
        return await _preview(update, context, customer, reward)
    except InsufficientPoints as exc:
        return await _show_rewards(update, context, customer, note=friendly(exc))


@requires("cashier")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Looks up the customer and shows their balance and the rewards as buttons."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        flows.stay(ASK_CUSTOMER)
    flows.stay(await _show_rewards(update, context, customer))


async def _show_rewards(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer, *, note: str = ""
) -> object:
    """The balance and one button per reward; unaffordable ones say how many points are missing."""
    assert context.user_data is not None and update.effective_chat is not None
    program = services(context).config.program
    options = rules.reward_options(customer["balance"], program)
    header = f"{note}\n\n" if note else ""
    if not options:
        await context.bot.send_message(
            update.effective_chat.id, f"{header}There are no rewards to redeem yet."
        )
        return ConversationHandler.END
    context.user_data[CUSTOMER_KEY] = customer["id"]
    buttons = [
        [
            InlineKeyboardButton(
                f"{o['name']} · {o['cost']:,}"
                + ("" if o["affordable"] else f" (missing {o['shortfall']:,})"),
                callback_data=f"{PICK_PREFIX}{o['id']}",
            )
        ]
        for o in options
    ]
    reset = "\nRedeeming spends the whole balance." if program.reset_after_redemption else ""
    await context.bot.send_message(
        update.effective_chat.id,
        f"{header}{customer_line(customer)} · {customer['tier']}\n"
        f"Balance: <b>{points(customer['balance'])}</b>{reset}\n"
        "Which reward? Tap one below (/cancel to stop).",
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return PICK


@requires("cashier")
async def pick_reward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Shows the preview for the tapped reward, or says how many points are missing."""
    query = update.callback_query
    assert query is not None and query.data is not None
    try:
        reward = rules.find_reward(query.data.removeprefix(PICK_PREFIX), _program(context))
    except UnknownReward:  # forged data, or a reward removed from the config since
        await query.answer("That reward isn't on offer. Pick one from the list.", show_alert=True)
        flows.stay(None)
    customer = await _chosen_customer(update, context)
    try:
        state = await _preview(update, context, customer, reward)
    except InsufficientPoints as exc:
        # Plain text: a popup is not HTML, so the reward name is not escaped here.
        await query.answer(
            f"{reward.name} needs {exc.cost:,} points: the balance is {exc.balance:,}, "
            f"{exc.shortfall:,} missing.",
            show_alert=True,
        )
        flows.stay(None)
    await query.answer()
    await query.edit_message_reply_markup(None)  # one pick per list: the preview takes over
    flows.stay(state)


@requires("cashier")
async def typed_reward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """A reward id typed instead of tapped ("cake"): the same as tapping its button."""
    assert update.effective_message is not None and update.effective_message.text is not None
    try:
        reward = rules.find_reward(update.effective_message.text, _program(context))
    except UnknownReward as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\nTap a reward above, or /cancel."
        )
        flows.stay(None)
    customer = await _chosen_customer(update, context)
    try:
        flows.stay(await _preview(update, context, customer, reward))
    except InsufficientPoints as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\nTap another reward above, or /cancel."
        )
        flows.stay(None)


async def _chosen_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Customer:
    """The customer this flow is about, read afresh (their balance may have changed)."""
    assert context.user_data is not None and update.effective_chat is not None
    customer_id = context.user_data.get(CUSTOMER_KEY)
    if customer_id is None:  # the flow's memory was lost (restart): start over kindly
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, RESTART_TEXT)
        flows.stay(ConversationHandler.END)
    return await services(context).store.get_customer(customer_id)


async def _preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer, reward: Reward
) -> str:
    """'Redeem Slice of cake (250 points), balance 300 -> 50' with Confirm / Cancel.

    Raises InsufficientPoints before sending anything, so each caller says it its own way.
    """
    assert context.user_data is not None and update.effective_chat is not None
    program = _program(context)
    quote = rules.quote_redeem(customer, reward, program)
    context.user_data[CUSTOMER_KEY] = customer["id"]
    key = flows.new_preview(context, "redeem", customer_id=customer["id"], reward_id=reward.id)
    spend = (
        f"Spends the whole balance, <b>{points(quote['points'])}</b> (the card restarts at 0)."
        if program.reset_after_redemption
        else f"Spends <b>{points(quote['points'])}</b>."
    )
    await context.bot.send_message(
        update.effective_chat.id,
        f"{customer_line(customer)}\n"
        f"Redeem <b>{esc(quote['reward_name'])}</b> ({points(quote['cost'])})? {spend}\n"
        f"Balance {quote['balance_before']:,} → {quote['balance_after']:,}",
        reply_markup=flows.confirm_keyboard("redeem", key),
    )
    return CONFIRM


@requires("cashier")
async def confirm_redeem(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Deducts the points once, however many times Confirm is pressed, and gives the code."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    key, pending = await flows.claim_preview(update, context, "redeem")
    svc = services(context)
    try:
        result = await svc.store.redeem(
            pending["customer_id"],
            pending["reward_id"],
            actor_id=update.effective_user.id,
            now=svc.clock(),
            key=key,
        )
    except LoyaltyError as exc:  # e.g. another cashier spent the points since the preview
        await query.answer()
        await context.bot.send_message(update.effective_user.id, friendly(exc))
        flows.stay(ConversationHandler.END)
    await query.answer("Redeemed ✔")
    reward, code = esc(result["reward_name"]), esc(result["code"])
    reset = " (reset to 0 after a redemption)" if svc.config.program.reset_after_redemption else ""
    await context.bot.send_message(
        update.effective_user.id,
        f"🎁 Redeemed <b>{reward}</b> · card {card(result['card_number'])}\n"
        f"Points spent: <b>{points(result['points'])}</b>\n"
        f"New balance: <b>{points(result['balance_after'])}</b>{reset}\n"
        f"Code: <code>{code}</code>",
    )
    await notify_customer(
        context,
        result["notify_user_id"],
        f"🎁 You redeemed <b>{reward}</b> for {points(result['points'])}. Balance: "
        f"<b>{points(result['balance_after'])}</b>. Your code: <code>{code}</code>",
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


def _program(context: ContextTypes.DEFAULT_TYPE) -> Program:
    return services(context).config.program


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("redeem", start_redeem)],
        states={
            ASK_CUSTOMER: [MessageHandler(text, got_customer)],
            PICK: [
                CallbackQueryHandler(pick_reward, pattern=PICK_PATTERN),
                MessageHandler(text, typed_reward),
            ],
            CONFIRM: [
                CallbackQueryHandler(confirm_redeem, pattern=flows.confirm_pattern("redeem")),
                CallbackQueryHandler(flows.cancel_button, pattern=flows.cancel_pattern("redeem")),
                MessageHandler(text, press_a_button),
            ],
            **flows.timeout_handlers(),
        },
        fallbacks=flows.flow_fallbacks("redeem"),
        allow_reentry=True,
        conversation_timeout=flows.IDLE_TIMEOUT,
        name="redeem",
    )
