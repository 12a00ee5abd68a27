"""/adjust: add or take away points by hand, saying why (admins only; issue "Mistakes happen").

    /adjust -> customer? -> points? (+50, -20) -> reason? -> preview [Confirm | Cancel] -> done
    /adjust <card or phone> <+N|-N> <reason…>   jumps straight to the preview
    /adjust <card or phone> <+N|-N>             asks only for the reason
    /adjust <card or phone>                     asks for the points, then the reason

The points carry their sign: "50" alone is refused ("send +50 to add or -50 to take away"), so
an adjustment never goes the wrong way because a minus was forgotten. The reason is required; it
is kept with the entry, in the audit trail and in the customer's notice, so phone numbers,
e-mails and tokens are taken out of it before the preview (bot/logs.redact) and the preview
shows exactly what will be recorded.

Points already spent are owed (docs/decisions.md): taking away more than the card holds takes
what is there and records the rest as owed; adding points to a card that owes pays that first.
The preview, the result and the notice say so.

Diagram: docs/diagrams/adjust.mmd. Rules: core/corrections.py quote_adjust; storage:
Store.adjust; the Confirm step: bot/confirm.py (every step and button here re-checks "admin").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, ConversationHandler, MessageHandler, filters

from core import corrections
from core.db.ledger import Tell
from core.errors import InvalidAmount, LoyaltyError, ReasonRequired, UnknownCustomer
from core.types import CorrectionQuote, CorrectionResult, Customer

from .. import confirm, flows, texts
from ..corrections import in_their_language
from ..customers import find_or_explain
from ..format import card, customer_line, esc, number, points, signed
from ..i18n import N_, _, ngettext
from ..logs import redact
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_CUSTOMER, ASK_POINTS, ASK_REASON, CONFIRM = (
    "adjust.customer",
    "adjust.points",
    "adjust.reason",
    "adjust.confirm",
)
CUSTOMER_KEY = "adjust_customer_id"  # user_data: whose card, between the questions
POINTS_KEY = "adjust_points"  # user_data: the signed points, while the reason is asked

# Marked with N_ and translated where sent: `_(ASK_POINTS_TEXT)`.
ASK_POINTS_TEXT = N_(
    "How many points? Send <b>+50</b> to add or <b>-20</b> to take away (/cancel to stop)."
)
POINTS_AGAIN = N_("Send the points again, like +50 or -20 (/cancel to stop).")
ASK_REASON_TEXT = N_(
    "Why? Send the reason in a few words, e.g. <i>goodwill for the late order</i>. "
    "It is kept in the audit trail, and a linked customer sees it (/cancel to stop)."
)
REDACTED_NOTE = N_(
    "(Phone numbers and e-mails are left out of a reason: it is kept in the audit trail.)"
)
ADJUSTED = N_("Adjusted ✔")  # the popup once it is written (confirm.py answers with it)

# "+50", "-20", "−20" (a typographic minus), "+1,000", "+ 50"; digits are capped before int()
# so a pasted wall of digits is "beyond the limit", not a conversion error.
_POINTS = re.compile(r"([+\-−])\s*(\d{1,3}(?:,\d{3})+|\d+)")
_UNSIGNED = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_NUMBER_WORD = re.compile(r"[+\-−]?\d[\d,]*")


@dataclass(frozen=True)
class AdjustPreview:
    """What Confirm records: this many points (signed), on this card, for this reason."""

    customer_id: int
    points: int
    reason: str


def parse_points(text: str) -> int:
    """The signed points an admin typed ("+50" -> 50, "-20" -> -20); InvalidAmount says why not.

    Zero and the size limit are core's to refuse (core.corrections.quote_adjust), in the preview.
    """
    typed = text.strip()
    match = _POINTS.fullmatch(typed)
    if match is not None:
        digits = match[2].replace(",", "")
        if len(digits) > len(str(corrections.MAX_ADJUSTMENT)):
            raise InvalidAmount(
                _("that is beyond the {limit} limit (probably a typo)").format(
                    limit=number(corrections.MAX_ADJUSTMENT)
                )
            )
        return int(digits) if match[1] == "+" else -int(digits)
    shown = typed if len(typed) <= 20 else typed[:20] + "…"
    if _UNSIGNED.fullmatch(typed):
        raise InvalidAmount(
            _(
                "“{typed}” has no sign: send +{typed} to add points or -{typed} to take them away"
            ).format(typed=shown)
        )
    raise InvalidAmount(
        _("“{typed}” is not a number of points: send +50 to add or -20 to take away").format(
            typed=shown
        )
    )


# --- the steps -------------------------------------------------------------------------------


@requires("admin")
async def start_adjust(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Starts /adjust; `/adjust <card or phone> <+N|-N> <reason…>` goes to the preview."""
    confirm.drop(context)
    assert update.effective_message is not None
    words = list(context.args or [])
    if not words:
        await update.effective_message.reply_text(_(texts.ASK_CUSTOMER))
        return ASK_CUSTOMER
    store = services(context).store
    # The points are the first word after the card or phone that looks like a number; which
    # word that is, the reference decides: only a real card or phone finds a customer. Signed
    # words are tried first ("+44 7400 123456 +50 …": the "+44" is never the points).
    refused: list[LoyaltyError] = []
    for cut in _points_candidates(words):
        try:
            customer = await store.find_customer(" ".join(words[:cut]))
        except LoyaltyError as exc:
            refused.append(exc)
            continue
        return await _got_points_text(
            update, context, customer, words[cut], " ".join(words[cut + 1 :])
        )
    try:  # no points at all: "/adjust 4821 3379" asks for them
        customer = await store.find_customer(" ".join(words))
    except LoyaltyError as exc:
        unknown = [e for e in [*refused, exc] if isinstance(e, UnknownCustomer)]
        await update.effective_message.reply_text(
            f"{friendly(unknown[0] if unknown else (refused or [exc])[0])}\n{_(texts.ASK_CUSTOMER)}"
        )
        return ASK_CUSTOMER
    return await _ask_points(update, context, customer)


def _points_candidates(words: Sequence[str]) -> list[int]:
    """Where the points may start: each number after the first word, signed ones first."""
    numbers = [i for i in range(1, len(words)) if _NUMBER_WORD.fullmatch(words[i])]
    signed_first = [i for i in numbers if words[i][0] in "+-−"]
    return signed_first + [i for i in numbers if i not in signed_first]


@requires("admin")
async def got_customer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Looks up the customer and asks for the points."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await find_or_explain(update, context, update.effective_message.text)
    if customer is None:
        return ASK_CUSTOMER
    return await _ask_points(update, context, customer)


async def _ask_points(update: Update, context: ContextTypes.DEFAULT_TYPE, c: Customer) -> str:
    assert update.effective_message is not None and context.user_data is not None
    context.user_data[CUSTOMER_KEY] = c["id"]
    await update.effective_message.reply_text(f"{_card_line(c)}\n{_(ASK_POINTS_TEXT)}")
    return ASK_POINTS


def _card_line(c: Customer) -> str:
    """'Ann Lee · card 4821 3379 · Bronze · 120 points', and what the card owes, if anything."""
    owed = c.get("points_owed", 0)
    owes = " · " + _("owes {points}").format(points=points(owed)) if owed else ""
    return f"{customer_line(c)} · {esc(c['tier'])} · {points(c['balance'])}{owes}"


@requires("admin")
async def got_points(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Reads the signed points, then asks why."""
    assert update.effective_message is not None and update.effective_message.text is not None
    customer = await _chosen_customer(context)
    return await _got_points_text(update, context, customer, update.effective_message.text, "")


async def _got_points_text(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    customer: Customer,
    points_text: str,
    reason: str,
) -> str:
    """The points step's answer (typed, or from the one-line form with its reason, if any)."""
    assert update.effective_message is not None and context.user_data is not None
    context.user_data[CUSTOMER_KEY] = customer["id"]
    try:
        change = parse_points(points_text)
    except InvalidAmount as exc:
        await update.effective_message.reply_text(f"{friendly(exc)}\n{_(POINTS_AGAIN)}")
        return ASK_POINTS
    context.user_data[POINTS_KEY] = change
    if not reason.strip():
        await update.effective_message.reply_text(_(ASK_REASON_TEXT))
        return ASK_REASON
    return await _preview(update, context, customer, change, reason)


@requires("admin")
async def got_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Shows the preview with Confirm / Cancel."""
    assert update.effective_message is not None and update.effective_message.text is not None
    assert context.user_data is not None
    customer = await _chosen_customer(context)
    change = int(context.user_data[POINTS_KEY])
    return await _preview(update, context, customer, change, update.effective_message.text)


async def _chosen_customer(context: ContextTypes.DEFAULT_TYPE) -> Customer:
    """The customer this flow is about, read afresh (their balance may have changed)."""
    assert context.user_data is not None
    return await services(context).store.get_customer(context.user_data[CUSTOMER_KEY])


async def _preview(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    customer: Customer,
    change: int,
    typed_reason: str,
) -> str:
    """'Ann Lee · card … · Adjust +50 points: goodwill…', the balance before and after, what
    happens to points owed, with Confirm / Cancel. A refused reason or amount asks again."""
    assert update.effective_message is not None
    reason = redact(typed_reason)
    try:
        quote = corrections.quote_adjust(customer, change, reason, services(context).config.program)
    except ReasonRequired as exc:
        await update.effective_message.reply_text(f"{friendly(exc)}\n{_(ASK_REASON_TEXT)}")
        return ASK_REASON
    except InvalidAmount as exc:  # zero, or beyond the limit
        await update.effective_message.reply_text(f"{friendly(exc)}\n{_(POINTS_AGAIN)}")
        return ASK_POINTS
    why = quote["reason"] or ""
    buttons = confirm.remember(context, "adjust", AdjustPreview(customer["id"], change, why))
    lines = [
        f"{customer_line(customer)} · "
        + _("Adjust <b>{change}</b>: {reason}").format(
            change=_signed_points(change), reason=_sentence(esc(why))
        ),
        _("Balance {before} → {after}").format(
            before=number(quote["balance_before"]), after=number(quote["balance_after"])
        ),
        *_owed_preview(quote),
    ]
    if quote["tier_after"] != quote["tier_before"]:
        lines.append(
            _("🎉 This takes them to <b>{tier}</b>!").format(tier=esc(quote["tier_after"]))
        )
    if reason != typed_reason:
        lines.append(_(REDACTED_NOTE))
    await update.effective_message.reply_text("\n".join(lines), reply_markup=buttons)
    return CONFIRM


def _owed_preview(quote: CorrectionQuote) -> list[str]:
    """What the adjustment does to points owed, before Confirm (nothing: no line)."""
    lines = []
    if quote["owed_added"]:
        taken = -quote["points"]
        holds, owed = points(quote["balance_before"]), points(quote["owed_added"])
        lines.append(
            _(
                "⚠️ The card holds {balance}, so only {taken} can come off now: {owed} will be "
                "owed, taken from the next points they get."
            ).format(balance=holds, taken=points(taken), owed=owed)
            if taken
            else _(
                "⚠️ The card holds {balance}, so nothing can come off now: {owed} will be "
                "owed, taken from the next points they get."
            ).format(balance=holds, owed=owed)
        )
    if quote["owed_paid"]:
        owe, paid = points(quote["points_owed_before"]), number(quote["owed_paid"])
        lines.append(
            _("They owe {owed}: {paid} of these pay that, and {rest} reach the card.").format(
                owed=owe, paid=paid, rest=number(quote["points"])
            )
            if quote["points"]
            else _("They owe {owed}: {paid} of these pay that.").format(owed=owe, paid=paid)
        )
    return lines


# --- the Confirm step ------------------------------------------------------------------------


async def record_adjust(
    context: ContextTypes.DEFAULT_TYPE,
    preview: AdjustPreview,
    /,
    *,
    key: str,
    actor_id: int,
    tell: Tell[CorrectionResult],
) -> CorrectionResult:
    """Records the adjustment once: the key makes a second Confirm a replay."""
    svc = services(context)
    return await svc.store.adjust(
        preview.customer_id,
        preview.points,
        preview.reason,
        actor_id=actor_id,
        now=svc.clock(),
        key=key,
        tell=in_their_language(svc, tell, describe_adjust),
    )


def describe_adjust(result: CorrectionResult) -> confirm.Told:
    """'✅ Adjusted card … by +50 points: …' to the admin; '🛠 Your card was adjusted…' to a
    linked customer. Both say what became of points owed."""
    change = _signed_points(result["gross"])
    why = _sentence(esc(result["reason"] or ""))
    tier = esc(result["tier_after"])
    tier_up = (
        "\n" + _("🎉 Tier up: now <b>{tier}</b>!").format(tier=tier)
        if result["tier_after"] != result["tier_before"]
        else ""
    )
    balance = points(result["balance_after"])
    reply = [
        _("✅ Adjusted card {card} by <b>{change}</b>: {reason}").format(
            card=card(result["card_number"]), change=change, reason=why
        ),
        _("New balance: <b>{balance}</b> · {tier} · entry #{entry}").format(
            balance=balance, tier=tier, entry=result["entry_id"]
        ),
    ]
    notice = _(
        "🛠 Your card was adjusted by <b>{change}</b>: {reason} Balance: <b>{balance}</b>."
    ).format(change=change, reason=why, balance=balance)
    owed_after = result["points_owed_after"]
    if result["owed_added"]:
        reply.append(
            _(
                "⚠️ {points} could not come off (the card held only {balance}): it owes {owed}, "
                "taken from the next points they get."
            ).format(
                points=points(result["owed_added"]),
                balance=points(result["balance_before"]),
                owed=points(owed_after),
            )
        )
        notice += " " + _("You owe {owed}, taken from the next points you get.").format(
            owed=points(owed_after)
        )
    if result["owed_paid"]:
        still = " " + (
            _("Still owed: {owed}.").format(owed=points(owed_after))
            if owed_after
            else _("Nothing is owed now.")
        )
        reply.append(
            _("{points} paid what the card owed.").format(points=points(result["owed_paid"]))
            + still
        )
        notice += (
            " "
            + _("{paid} of them paid points you owed.").format(paid=number(result["owed_paid"]))
            + still
        )
    return confirm.Told(
        reply="\n".join(reply) + tier_up,
        notify_chat=result["notify_user_id"],
        notice=notice + tier_up,
    )


def _signed_points(n: int) -> str:
    """'+50 points', '-1 point'."""
    return ngettext("{n} point", "{n} points", abs(n)).format(n=signed(n))


def _sentence(text: str) -> str:
    """The reason as the end of a sentence: a full stop unless it already has an ending."""
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return flows.conversation(
        name="adjust",
        entry=CommandHandler("adjust", start_adjust),
        states={
            ASK_CUSTOMER: [MessageHandler(text, got_customer)],
            ASK_POINTS: [MessageHandler(text, got_points)],
            ASK_REASON: [MessageHandler(text, got_reason)],
            CONFIRM: confirm.handlers(
                "adjust", record_adjust, describe_adjust, popup=ADJUSTED, role="admin"
            ),
        },
        preview_kind="adjust",
    )
