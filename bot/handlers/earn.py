"""/earn: record the points a purchase earns (cashiers and admins).

    /earn -> customer? -> amount? -> preview [Confirm | Cancel] -> recorded
    /earn <card or phone> <amount>  jumps straight to the preview; the amount is the last word
                                    or the last two ("12.50 GBP"), as in the amount step.
    [➕ Earn] under a scanned card, [➕ Same customer again] under a result -> amount? -> ...

Diagram: docs/diagrams/earn.mmd. Rules: core/rules.py quote_earn; storage: Store.earn;
the Confirm step: bot/confirm.py.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, ConversationHandler, MessageHandler, filters

from core import rules
from core.db.ledger import Tell
from core.errors import LoyaltyError, NothingToEarn, UnknownCustomer
from core.types import Customer, EarnQuote, EarnResult

from .. import confirm, flows, referrals, texts
from ..customers import customer_from_button, find_or_explain
from ..format import customer_line, esc, money, number, points
from ..i18n import N_, _
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_CUSTOMER, ASK_AMOUNT, CONFIRM = "earn.customer", "earn.amount", "earn.confirm"
CUSTOMER_KEY = "earn_customer_id"  # user_data: whose purchase, between the two questions


@dataclass(frozen=True)
class EarnPreview:
    """What Confirm records: this purchase, for this customer."""

    customer_id: int
    amount: Decimal


@requires("cashier")
async def start_earn(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Starts /earn; the one-line form `/earn <card or phone> <amount>` goes to the preview."""
    confirm.drop(context)
    args = context.args or []
    assert update.effective_message is not None
    if not args:
        await update.effective_message.reply_text(_(texts.ASK_CUSTOMER))
        return ASK_CUSTOMER
    store = services(context).store
    # The amount is the last word ("25.50") or the last two ("25.50 GBP", "£ 25.50", and
    # "12 50", which is then refused for its space), the customer everything before it. The
    # reference decides: only a real card or phone number finds a customer.
    refused: list[tuple[LoyaltyError, str]] = []  # (why a reference failed, the amount after it)
    for cut in (1, 2)[: len(args) - 1]:
        reference, amount = " ".join(args[:-cut]), " ".join(args[-cut:])
        try:
            customer = await store.find_customer(reference)
        except LoyaltyError as exc:
            refused.append((exc, amount))
            continue
        return await _preview(update, context, customer, amount)
    try:  # maybe it was all reference ("/earn 07400 123456", "/earn 1308 2519")
        customer = await store.find_customer(" ".join(args))
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            f"{friendly(_likeliest(refused, exc, context))}\n{_(texts.ASK_CUSTOMER)}"
        )
        return ASK_CUSTOMER
    return await _ask_amount(update, context, customer)


@requires("cashier")
async def earn_for(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State | None:
    """Starts /earn for the customer a button names and asks for the amount."""
    confirm.drop(context)
    customer = await customer_from_button(update, context)
    if customer is None:
        return None
    return await _ask_amount(update, context, customer)


def _likeliest(
    refused: list[tuple[LoyaltyError, str]], whole: LoyaltyError, context: ContextTypes.DEFAULT_TYPE
) -> LoyaltyError:
    """Which failure to explain when no reading of `/earn …` finds a customer.

    A well-formed number nobody has ("I can't find…") says the most; then a reference followed
    by a good amount ("/earn 07700 900123 150" is about the number, not the 150); else the line
    as one reference.
    """
    tried = [exc for exc, _ in refused] + [whole]
    unknown = [exc for exc in tried if isinstance(exc, UnknownCustomer)]
    if unknown:
        return unknown[0]
    return next((exc for exc, amount in refused if _is_amount(amount, context)), whole)


def _is_amount(text: str, context: ContextTypes.DEFAULT_TYPE) -> bool:
    try:
        rules.parse_amount(text, services(context).config.program)
    except LoyaltyError:
        return False
    return True


@requires("cashier")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Looks up the customer and asks for the purchase amount."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        return ASK_CUSTOMER
    return await _ask_amount(update, context, customer)


async def _ask_amount(update: Update, context: ContextTypes.DEFAULT_TYPE, c: Customer) -> str:
    assert update.effective_message is not None and context.user_data is not None
    context.user_data[CUSTOMER_KEY] = c["id"]
    currency = services(context).config.program.currency
    ask = _(
        "How much did they spend? Send the amount in {currency}, like 25.50 (/cancel to stop)."
    ).format(currency=esc(currency))
    await update.effective_message.reply_text(
        f"{customer_line(c)} · {esc(c['tier'])} · {points(c['balance'])}\n{ask}"
    )
    return ASK_AMOUNT


@requires("cashier")
async def got_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Checks the amount and shows the preview with Confirm / Cancel."""
    assert update.effective_message is not None and update.effective_message.text is not None
    assert context.user_data is not None
    customer = await services(context).store.get_customer(context.user_data[CUSTOMER_KEY])
    return await _preview(update, context, customer, update.effective_message.text)


async def _preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, customer: Customer, amount_text: str
) -> flows.State:
    """'25.50 GBP -> 25 points, Silver x1.5' with Confirm / Cancel; a bad amount asks again."""
    assert update.effective_message is not None and context.user_data is not None
    program = services(context).config.program
    context.user_data[CUSTOMER_KEY] = customer["id"]
    try:
        amount = rules.parse_amount(amount_text, program)
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\n" + _("Send the amount again, like 25.50 (/cancel to stop).")
        )
        return ASK_AMOUNT
    svc = services(context)
    # The tier policy may count a window of dated points (core/tiers.py): the preview reads them
    # as the Store's earn will, so the cashier confirms the points that will be recorded.
    standing = await svc.store.standing(customer, svc.clock())
    purchases = await svc.store.purchases(customer["id"])
    try:
        quote = rules.quote_earn(
            customer, amount, program, standing, at=svc.clock(), purchases=purchases
        )
    except NothingToEarn as exc:
        # Refused before Confirm: a purchase that earns nothing is not recorded as a visit.
        await update.effective_message.reply_text(friendly(exc))
        return flows.END
    buttons = confirm.remember(context, "earn", EarnPreview(customer["id"], amount))
    tier_up = (
        "\n" + _("🎉 This takes them to <b>{tier}</b>!").format(tier=esc(quote["tier_after"]))
        if quote["tier_after"] != quote["tier_before"]
        else ""
    )
    balance = _("Balance {before} → {after}").format(
        before=number(quote["balance_before"]), after=number(quote["balance_after"])
    )
    await update.effective_message.reply_text(
        f"{customer_line(customer)}\n"
        f"{money(quote['amount'], quote['currency'])} → <b>{points(quote['points'])}</b>, "
        f"{esc(quote['tier_before'])} ×{quote['multiplier']}{_campaigns(quote)}\n"
        f"{balance}{tier_up}",
        reply_markup=buttons,
    )
    return CONFIRM


def _campaigns(quote: EarnQuote) -> str:
    """', Double Tuesday ×2, Big basket +25': what each campaign added (core/campaigns.py)."""
    parts = [
        f"{esc(c['name'])} ×{c['multiplier']}"
        if "multiplier" in c
        else f"{esc(c['name'])} +{number(c['points'])}"
        for c in quote.get("campaigns", [])
    ]
    return "".join(f", {part}" for part in parts)


async def record_earn(
    context: ContextTypes.DEFAULT_TYPE,
    preview: EarnPreview,
    /,
    *,
    key: str,
    actor_id: int,
    tell: Tell[EarnResult],
) -> EarnResult:
    """Records the purchase once: the key makes a second Confirm a replay."""
    svc = services(context)
    result = await svc.store.earn(
        preview.customer_id, preview.amount, actor_id=actor_id, now=svc.clock(), key=key, tell=tell
    )
    if not result["replayed"]:
        await referrals.after_purchase(svc, preview.customer_id)  # a friend's invite, if any
    return result


def describe_earn(result: EarnResult, *, undo: bool = True) -> confirm.Told:
    """'✅ +25 points for 25.50 GBP' to the cashier; '⭐ You earned…' to a linked customer."""
    tier = esc(result["tier_after"])
    moved = result["tier_after"] != result["tier_before"]
    tier_up = "\n" + _("🎉 Tier up: now <b>{tier}</b>!").format(tier=tier) if moved else ""
    spent = money(result["amount"], result["currency"])
    campaigns = _campaigns(result).removeprefix(", ")
    if campaigns:
        spent += f" ({campaigns})"
    earned, balance = points(result["points"]), points(result["balance_after"])
    reply = "\n".join(
        (
            _("✅ <b>+{points}</b> for {spent}").format(points=earned, spent=spent),
            _("New balance: <b>{balance}</b> · {tier}").format(balance=balance, tier=tier)
            + tier_up,
            _("Ref #{ref}").format(ref=result["entry_id"]),
        )
    )
    notice = _(
        "⭐ You earned <b>{points}</b> for your purchase of {spent}. "
        "Balance: <b>{balance}</b> ({tier})."
    ).format(points=earned, spent=spent, balance=balance, tier=tier)
    return confirm.Told(
        reply=reply,
        reply_buttons=(confirm.undo_buttons(result["entry_id"], undo=undo) or [])
        + flows.again_buttons(result["customer_id"]),
        notify_chat=result["notify_user_id"],
        notice=notice + tier_up,
    )


def conversation(*, undo: bool) -> ConversationHandler:  # type: ignore[type-arg]
    """The /earn flow; `undo` puts "↩ Undo" under each result ([corrections] undo_minutes)."""
    text = filters.TEXT & ~filters.COMMAND
    return flows.conversation(
        name="earn",
        entry=[
            CommandHandler("earn", start_earn),
            flows.GoButton(earn_for, "earn"),
        ],
        states={
            ASK_CUSTOMER: [MessageHandler(text, got_customer)],
            ASK_AMOUNT: [MessageHandler(text, got_amount)],
            CONFIRM: confirm.handlers(
                "earn",
                record_earn,
                functools.partial(describe_earn, undo=undo),
                popup=N_("Recorded ✔"),
            ),
        },
        preview_kind="earn",
    )
