"""/redeem: spend a customer's points on a reward (cashiers and admins).

    /redeem -> customer? -> reward buttons -> preview [Confirm | Cancel] -> redeemed, with a code
    /redeem <card or phone>             jumps to the reward buttons
    /redeem <card or phone> <reward id> jumps straight to the preview
    a money-off reward (cashback, core/money_off.py), after it is picked:
        -> the bill? -> discount buttons (largest first) or a typed amount
        -> "Take 5.00 GBP off the bill - 500 points" [Confirm | Cancel] -> the discount to apply
    [🎁 Redeem] under a scanned card or an earn's result -> reward buttons -> ...

Diagram: docs/diagrams/redeem.mmd. Rules: core/rules.py find_reward, reward_options,
quote_redeem; storage: Store.redeem (which re-checks the balance, so a redemption another
cashier confirmed first is never spent twice); the Confirm step: bot/confirm.py.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import money_off, rules
from core.db.ledger import Tell
from core.errors import DiscountNotAllowed, InsufficientPoints, InvalidAmount, UnknownReward
from core.types import Customer, Program, RedeemResult, Reward

from .. import confirm, flows, texts
from ..customers import customer_from_button, find_or_explain
from ..format import card, customer_line, esc, money, number, points
from ..i18n import N_, _, ngettext
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_CUSTOMER, PICK, CONFIRM = "redeem.customer", "redeem.pick", "redeem.confirm"
ASK_BILL, PICK_DISCOUNT = "redeem.bill", "redeem.discount"  # money-off rewards only
CUSTOMER_KEY = "redeem_customer_id"  # user_data: whose points, while a reward is picked
MONEY_KEY = "redeem_money_off"  # user_data: (reward id, bill) while a discount is chosen

# Reward buttons carry the reward id (1-20 of a-z 0-9 _ -, checked by core/config.py), so the
# data is at most 32 bytes, well inside Telegram's 64.
PICK_PREFIX = "redeem:pick:"
PICK_PATTERN = rf"^{PICK_PREFIX}[a-z0-9_-]{{1,20}}$"
# Discount buttons carry the discount in cents: "redeem:off:1150" is 11.50 off.
OFF_PREFIX = "redeem:off:"
OFF_PATTERN = rf"^{OFF_PREFIX}\d{{1,12}}$"


@dataclass(frozen=True)
class RedeemPreview:
    """What Confirm records: this reward, for this customer."""

    customer_id: int
    reward_id: str
    # A money-off reward's bill and the discount taken off it; None for every other reward.
    bill: Decimal | None = None
    discount: Decimal | None = None


@requires("cashier")
async def start_redeem(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Starts /redeem; `/redeem <card or phone> [reward id]` skips the steps it answers."""
    confirm.drop(context)
    assert update.effective_message is not None
    words = list(context.args or [])
    if not words:
        await update.effective_message.reply_text(_(texts.ASK_CUSTOMER))
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
async def redeem_for(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """Starts /redeem for the customer a button names and shows the rewards."""
    confirm.drop(context)
    customer = await customer_from_button(update, context)
    if customer is None:
        return None
    return await _show_rewards(update, context, customer)


@requires("cashier")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Looks up the customer and shows their balance and the rewards as buttons."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        return ASK_CUSTOMER
    return await _show_rewards(update, context, customer)


async def _show_rewards(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer, *, note: str = ""
) -> flows.State:
    """The balance and one button per reward; unaffordable ones say how many points are missing."""
    assert context.user_data is not None and update.effective_chat is not None
    program = services(context).config.program
    options = rules.reward_options(customer["balance"], program)
    header = f"{note}\n\n" if note else ""
    if not options:
        await context.bot.send_message(
            update.effective_chat.id, header + _("There are no rewards to redeem yet.")
        )
        return ConversationHandler.END
    context.user_data[CUSTOMER_KEY] = customer["id"]
    buttons = [
        [
            InlineKeyboardButton(
                f"{o['name']} · {number(o['cost'])}"  # button labels are plain, never parsed
                + (
                    ""
                    if o["affordable"]
                    else " " + _("(missing {points})").format(points=number(o["shortfall"]))
                ),
                callback_data=f"{PICK_PREFIX}{o['id']}",
            )
        ]
        for o in options
    ]
    reset = (
        "\n" + _("Redeeming spends the whole balance.") if program.reset_after_redemption else ""
    )
    balance = _("Balance: <b>{points}</b>").format(points=points(customer["balance"]))
    await context.bot.send_message(
        update.effective_chat.id,
        f"{header}{customer_line(customer)} · {esc(customer['tier'])}\n"
        f"{balance}{reset}\n" + _("Which reward? Tap one below (/cancel to stop)."),
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return PICK


@requires("cashier")
async def pick_reward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """Shows the preview for the tapped reward, or says how many points are missing."""
    query = update.callback_query
    assert query is not None and query.data is not None
    try:
        reward = rules.find_reward(query.data.removeprefix(PICK_PREFIX), _program(context))
    except UnknownReward:  # forged data, or a reward removed from the config since
        await query.answer(
            _("That reward isn't on offer. Pick one from the list."), show_alert=True
        )
        return None
    customer = await _chosen_customer(update, context)
    try:
        state = await _preview(update, context, customer, reward)
    except InsufficientPoints as exc:
        # Plain text: a popup is not HTML, so the reward name is not escaped here.
        await query.answer(
            ngettext(
                "{reward} needs {cost} point: the balance is {balance}, {missing} missing.",
                "{reward} needs {cost} points: the balance is {balance}, {missing} missing.",
                exc.cost,
            ).format(
                reward=reward.name,
                cost=number(exc.cost),
                balance=number(exc.balance),
                missing=number(exc.shortfall),
            ),
            show_alert=True,
        )
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)  # one pick per list: the preview takes over
    return state


@requires("cashier")
async def typed_reward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """A reward id typed instead of tapped ("cake"): the same as tapping its button."""
    assert update.effective_message is not None and update.effective_message.text is not None
    try:
        reward = rules.find_reward(update.effective_message.text, _program(context))
    except UnknownReward as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\n" + _("Tap a reward above, or /cancel.")
        )
        return None
    customer = await _chosen_customer(update, context)
    try:
        return await _preview(update, context, customer, reward)
    except InsufficientPoints as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\n" + _("Tap another reward above, or /cancel.")
        )
        return None


async def _chosen_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Customer:
    """The customer this flow is about, read afresh (their balance may have changed)."""
    assert context.user_data is not None
    return await services(context).store.get_customer(context.user_data[CUSTOMER_KEY])


async def _preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer, reward: Reward
) -> str:
    """'Redeem Slice of cake (250 points), balance 300 -> 50' with Confirm / Cancel.

    Raises InsufficientPoints before sending anything, so each caller says it its own way.
    """
    assert context.user_data is not None and update.effective_chat is not None
    program = _program(context)
    if reward.money_off is not None:
        return await _ask_bill(update, context, customer, reward)
    quote = rules.quote_redeem(customer, reward, program)
    context.user_data[CUSTOMER_KEY] = customer["id"]
    buttons = confirm.remember(context, "redeem", RedeemPreview(customer["id"], reward.id))
    spend = (
        _("Spends the whole balance, <b>{points}</b> (the card restarts at 0).")
        if program.reset_after_redemption
        else _("Spends <b>{points}</b>.")
    ).format(points=points(quote["points"]))
    question = _("Redeem <b>{reward}</b> ({cost})?").format(
        reward=esc(quote["reward_name"]), cost=points(quote["cost"])
    )
    await context.bot.send_message(
        update.effective_chat.id,
        f"{customer_line(customer)}\n{question} {spend}\n"
        + _balance(quote["balance_before"], quote["balance_after"]),
        reply_markup=buttons,
    )
    return CONFIRM


# --- money off the bill (cashback): core/money_off.py -------------------------------------------


async def _ask_bill(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer, reward: Reward
) -> str:
    """Asks for the bill a money-off reward comes off (InsufficientPoints first, if short)."""
    assert context.user_data is not None and update.effective_chat is not None
    rule = money_off.rule_of(reward)
    if customer["balance"] < rule.min_points:
        raise InsufficientPoints(balance=customer["balance"], cost=rule.min_points)
    context.user_data[CUSTOMER_KEY] = customer["id"]
    context.user_data[MONEY_KEY] = (reward.id, None)
    currency = _program(context).currency
    await context.bot.send_message(
        update.effective_chat.id,
        f"{customer_line(customer)}\n<b>{esc(reward.name)}</b>: "
        + ngettext(
            "{points} point takes {one} off.",
            "{points} points take {one} off.",
            rule.points_per_unit,
        ).format(points=number(rule.points_per_unit), one=money(Decimal(1), currency))
        + "\n"
        + _("How much is the bill? Send the amount, like 23.40 (/cancel to stop)."),
    )
    return ASK_BILL


@requires("cashier")
async def got_bill(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """Reads the bill and offers the discounts allowed, largest first."""
    assert update.effective_message is not None and update.effective_message.text is not None
    assert context.user_data is not None
    program = _program(context)
    reward = rules.find_reward(context.user_data[MONEY_KEY][0], program)
    customer = await _chosen_customer(update, context)
    try:
        bill = rules.parse_amount(update.effective_message.text, program)
        least, most = money_off.discount_range(customer["balance"], bill, reward, program)
    except InsufficientPoints as exc:  # spent at another till meanwhile
        await update.effective_message.reply_text(friendly(exc))
        return flows.END
    except (InvalidAmount, DiscountNotAllowed) as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\n" + _("Send the bill again, or /cancel.")
        )
        return None
    context.user_data[MONEY_KEY] = (reward.id, bill)
    step = money_off.rule_of(reward).step
    currency = esc(program.currency)
    buttons = [
        [
            InlineKeyboardButton(
                # a label: plain text, never parsed, so the currency is not escaped
                _("{amount} off").format(amount=f"{decimal(off)} {program.currency}"),
                callback_data=f"{OFF_PREFIX}{int(off * 100)}",
            )
        ]
        for off in money_off.offers(least, most, step)
    ]
    await update.effective_message.reply_text(
        _("Bill {bill} · balance {points}.").format(
            bill=money(bill, program.currency), points=points(customer["balance"])
        )
        + "\n"
        + _(
            "Take how much off? From {least} to {most} {currency}, in steps of {step}: "
            "tap one, or send the amount."
        ).format(least=decimal(least), most=decimal(most), currency=currency, step=decimal(step)),
        reply_markup=InlineKeyboardMarkup(buttons),
    )
    return PICK_DISCOUNT


@requires("cashier")
async def pick_discount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """Previews the tapped discount."""
    query = update.callback_query
    assert query is not None and query.data is not None
    discount = Decimal(int(query.data.removeprefix(OFF_PREFIX))) / 100
    try:
        state = await _money_preview(update, context, discount)
    except (DiscountNotAllowed, InsufficientPoints) as exc:
        await query.answer(html.unescape(friendly(exc)), show_alert=True)  # popups are plain
        return None
    await query.answer()
    await query.edit_message_reply_markup(None)  # one pick per list: the preview takes over
    return state


@requires("cashier")
async def typed_discount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """A discount typed instead of tapped ("6.50"): previewed like a tapped one."""
    assert update.effective_message is not None and update.effective_message.text is not None
    try:
        discount = rules.parse_amount(update.effective_message.text, _program(context))
        return await _money_preview(update, context, discount)
    except (InvalidAmount, DiscountNotAllowed, InsufficientPoints) as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\n" + _("Tap a discount above, send another amount, or /cancel.")
        )
        return None


async def _money_preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, discount: Decimal
) -> str:
    """'Take 5.00 GBP off the bill - 500 points' with Confirm / Cancel (refusals raised)."""
    assert context.user_data is not None and update.effective_chat is not None
    program = _program(context)
    reward_id, bill = context.user_data[MONEY_KEY]
    reward = rules.find_reward(reward_id, program)
    customer = await _chosen_customer(update, context)
    quote = money_off.quote_money_off(customer, reward, bill, discount, program)
    preview = RedeemPreview(customer["id"], reward.id, quote["bill"], quote["discount"])
    buttons = confirm.remember(context, "redeem", preview)
    await context.bot.send_message(
        update.effective_chat.id,
        f"{customer_line(customer)}\n"
        + _("Take <b>{discount}</b> off the bill - {points}?").format(
            discount=money(quote["discount"], program.currency), points=points(quote["points"])
        )
        + "\n"
        + _("Bill {before} → {after}").format(
            before=money(quote["bill"], program.currency),
            after=money(quote["bill"] - quote["discount"], program.currency),
        )
        + " · "
        + _balance(quote["balance_before"], quote["balance_after"]),
        reply_markup=buttons,
    )
    return CONFIRM


async def record_redeem(
    context: ContextTypes.DEFAULT_TYPE,
    preview: RedeemPreview,
    /,
    *,
    key: str,
    actor_id: int,
    tell: Tell[RedeemResult],
) -> RedeemResult:
    """Deducts the points once: the key makes a second Confirm a replay."""
    svc = services(context)
    if preview.bill is not None and preview.discount is not None:
        return await svc.store.redeem_money_off(
            preview.customer_id,
            preview.reward_id,
            preview.bill,
            preview.discount,
            actor_id=actor_id,
            now=svc.clock(),
            key=key,
            tell=tell,
        )
    return await svc.store.redeem(
        preview.customer_id,
        preview.reward_id,
        actor_id=actor_id,
        now=svc.clock(),
        key=key,
        tell=tell,
    )


def describe_redeem(result: RedeemResult, *, reset: bool, undo: bool = True) -> confirm.Told:
    """The code for the cashier to hand over; the same to a linked customer. For money off,
    the discount the cashier takes off the bill, first."""
    reward, code = esc(result["reward_name"]), esc(result["code"])
    spent, balance = points(result["points"]), points(result["balance_after"])
    number_ = card(result["card_number"])
    code_line = _("Code: <code>{code}</code> · Ref #{ref}").format(
        code=code, ref=result["entry_id"]
    )
    if "discount" in result:
        off = money(result["discount"], result.get("currency", ""))
        reply = "\n".join(
            (
                _("💷 Take <b>{discount}</b> off the bill · card {card}").format(
                    discount=off, card=number_
                ),
                _("{reward}: <b>{points}</b> spent").format(reward=reward, points=spent),
                _("New balance: <b>{balance}</b>").format(balance=balance),
                code_line,
            )
        )
        return confirm.Told(
            reply=reply,
            reply_buttons=confirm.undo_buttons(result["entry_id"], undo=undo),
            notify_chat=result["notify_user_id"],
            notice=_(
                "💷 <b>{discount}</b> off your bill for {points}. Balance: <b>{balance}</b>."
            ).format(discount=off, points=spent, balance=balance),
        )
    restarts = " " + _("(reset to 0 after a redemption)") if reset else ""
    reply = "\n".join(
        (
            _("🎁 Redeemed <b>{reward}</b> · card {card}").format(reward=reward, card=number_),
            _("Points spent: <b>{points}</b>").format(points=spent),
            _("New balance: <b>{balance}</b>").format(balance=balance) + restarts,
            code_line,
        )
    )
    return confirm.Told(
        reply=reply,
        reply_buttons=confirm.undo_buttons(result["entry_id"], undo=undo),
        notify_chat=result["notify_user_id"],
        notice=_(
            "🎁 You redeemed <b>{reward}</b> for {points}. Balance: <b>{balance}</b>. "
            "Your code: <code>{code}</code>"
        ).format(reward=reward, points=spent, balance=balance, code=code),
    )


def _balance(before: int, after: int) -> str:
    """'Balance 300 → 50' in a preview."""
    return _("Balance {before} → {after}").format(before=number(before), after=number(after))


def decimal(amount: Decimal) -> str:
    """'11.50', '1,150.00': an amount of money without its currency, the reader's way."""
    return money(amount, "").rstrip()


def _program(context: ContextTypes.DEFAULT_TYPE) -> Program:
    return services(context).config.program


def conversation(program: Program, *, undo: bool) -> ConversationHandler:  # type: ignore[type-arg]
    """The /redeem flow; `undo` puts "↩ Undo" under each result ([corrections] undo_minutes)."""
    text = filters.TEXT & ~filters.COMMAND
    return flows.conversation(
        name="redeem",
        entry=[
            CommandHandler("redeem", start_redeem),
            flows.GoButton(redeem_for, "redeem"),
        ],
        states={
            ASK_CUSTOMER: [MessageHandler(text, got_customer)],
            PICK: [
                CallbackQueryHandler(pick_reward, pattern=PICK_PATTERN),
                MessageHandler(text, typed_reward),
            ],
            ASK_BILL: [MessageHandler(text, got_bill)],
            PICK_DISCOUNT: [
                CallbackQueryHandler(pick_discount, pattern=OFF_PATTERN),
                MessageHandler(text, typed_discount),
            ],
            CONFIRM: confirm.handlers(
                "redeem",
                record_redeem,
                functools.partial(describe_redeem, reset=program.reset_after_redemption, undo=undo),
                popup=N_("Redeemed ✔"),
            ),
        },
        preview_kind="redeem",
    )
