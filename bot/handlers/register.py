"""/register: sign up a new customer (cashiers and admins).

    /register -> name? -> phone? -> e-mail? [Skip] -> summary [Confirm | Cancel] -> registered

Diagram: docs/diagrams/register.mmd. Validation: core/contact.py; storage: Store.register
(which also credits the program's signup bonus).
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from core import contact
from core.errors import DuplicateCustomer, LoyaltyError

from .. import flows
from ..format import card, esc, points
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_NAME, ASK_PHONE, ASK_EMAIL, CONFIRM = (
    "reg.name",
    "reg.phone",
    "reg.email",
    "reg.confirm",
)
DRAFT_KEY = "reg_draft"  # name and phone typed so far; the summary moves them into the preview
SKIP_EMAIL = "reg:skip_email"
SKIP_WORDS = ("skip", "-")  # typed instead of pressing Skip, for one-handed use at the till

ASK_NAME_TEXT = "New customer. Send their <b>name</b> (/cancel to stop)."
ASK_EMAIL_TEXT = (
    "Send their <b>e-mail</b> address, or press Skip (or send <code>-</code>) "
    "if they'd rather not give one (/cancel to stop)."
)
SKIP_KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("⏭ Skip (no e-mail)", callback_data=SKIP_EMAIL)]]
)


def _ask_phone_text(name: str) -> str:
    return (
        f"Send the <b>phone number</b> of <b>{esc(name)}</b>, as dialled locally or with the "
        "country code, e.g. <code>+44 7400 123456</code> (/cancel to stop)."
    )


@requires("cashier")
async def start_register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Starts /register and asks for the customer's name."""
    assert update.effective_message is not None and context.user_data is not None
    flows.drop_preview(context)
    context.user_data[DRAFT_KEY] = {}
    await update.effective_message.reply_text(ASK_NAME_TEXT)
    return ASK_NAME


@requires("cashier")
async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Checks the name and asks for the phone number."""
    assert update.effective_message is not None and update.effective_message.text is not None
    try:
        name = contact.normalize_name(update.effective_message.text)
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\nSend the name again (/cancel to stop)."
        )
        flows.stay(ASK_NAME)
    draft = _draft(context)
    if draft is None:
        flows.stay(await _start_again(update))
    draft["name"] = name
    await update.effective_message.reply_text(_ask_phone_text(name))
    flows.stay(ASK_PHONE)


@requires("cashier")
async def got_phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Checks the phone number is valid and not on a card yet, then asks for the e-mail."""
    assert update.effective_message is not None and update.effective_message.text is not None
    svc = services(context)
    try:
        phone = contact.normalize_phone(
            update.effective_message.text, svc.config.program.default_region
        )
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            f"{friendly(exc)}\nSend the phone number again (/cancel to stop)."
        )
        flows.stay(ASK_PHONE)
    # Checked here already so the cashier learns it now, not after typing the e-mail;
    # Store.register checks again on Confirm (another till may register the number meanwhile).
    existing = await svc.store.customer_by_phone(phone)
    if existing is not None:
        await update.effective_message.reply_text(
            f"{friendly(DuplicateCustomer(existing['card_number']))}\n"
            "Use that card, or send a different phone number (/cancel to stop)."
        )
        flows.stay(ASK_PHONE)
    draft = _draft(context)
    if draft is None or "name" not in draft:
        flows.stay(await _start_again(update))
    draft["phone"] = phone
    await update.effective_message.reply_text(ASK_EMAIL_TEXT, reply_markup=SKIP_KEYBOARD)
    flows.stay(ASK_EMAIL)


@requires("cashier")
async def got_email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Checks the e-mail ("skip" or "-" for none) and shows the summary."""
    assert update.effective_message is not None and update.effective_message.text is not None
    text = update.effective_message.text.strip()
    email: str | None = None
    if text.lower() not in SKIP_WORDS:
        try:
            email = contact.normalize_email(text)
        except LoyaltyError as exc:
            await update.effective_message.reply_text(
                f"{friendly(exc)}\nSend the e-mail again, or press Skip (/cancel to stop).",
                reply_markup=SKIP_KEYBOARD,
            )
            flows.stay(ASK_EMAIL)
    flows.stay(await _summary(update, context, email))


@requires("cashier")
async def skip_email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Registers without an e-mail when Skip is pressed: shows the summary."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    flows.stay(await _summary(update, context, None))


async def _summary(update: Update, context: ContextTypes.DEFAULT_TYPE, email: str | None) -> object:
    """Name, phone and e-mail with Confirm / Cancel; nothing is saved before Confirm."""
    assert update.effective_chat is not None and context.user_data is not None
    draft = context.user_data.pop(DRAFT_KEY, None)
    if not draft or "name" not in draft or "phone" not in draft:
        return await _start_again(update)
    key = flows.new_preview(context, "reg", name=draft["name"], phone=draft["phone"], email=email)
    await context.bot.send_message(
        update.effective_chat.id,
        "<b>Register this customer?</b>\n"
        f"Name: <b>{esc(draft['name'])}</b>\n"
        f"Phone: {contact.format_phone(draft['phone'])}\n"
        f"E-mail: {esc(email) if email else 'none'}",
        reply_markup=flows.confirm_keyboard("reg", key),
    )
    return CONFIRM


@requires("cashier")
async def confirm_register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Saves the customer once, however many times Confirm is pressed."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    key, pending = await flows.claim_preview(update, context, "reg")
    svc = services(context)
    try:
        result = await svc.store.register(
            {"name": pending["name"], "phone": pending["phone"], "email": pending["email"]},
            actor_id=update.effective_user.id,
            now=svc.clock(),
            key=key,
        )
    except LoyaltyError as exc:  # DuplicateCustomer: another till registered the number first
        await query.answer()
        await context.bot.send_message(
            update.effective_user.id, f"{friendly(exc)}\nNothing was saved."
        )
        flows.stay(ConversationHandler.END)
    await query.answer("Registered ✔")
    customer = result["customer"]
    bonus = (
        f"\nWelcome bonus: <b>{points(result['signup_bonus'])}</b>"
        if result["signup_bonus"] > 0
        else ""
    )
    await context.bot.send_message(
        update.effective_user.id,
        f"✅ Registered <b>{esc(customer['name'])}</b>\n"
        f"Card number: <b>{card(customer['card_number'])}</b>{bonus}\n"
        "They can see their points by sending /start to this bot and sharing their phone.",
    )
    flows.stay(ConversationHandler.END)


@requires("cashier")
async def press_a_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> object:
    """Text while the summary waits: point at the buttons."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Please press ✅ Confirm or ✖ Cancel above (or send /cancel)."
    )
    flows.stay(None)


def _draft(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
    assert context.user_data is not None
    draft = context.user_data.get(DRAFT_KEY)
    return draft if isinstance(draft, dict) else None


async def _start_again(update: Update) -> object:
    """The flow's memory was lost (a restart): start over kindly."""
    assert update.effective_chat is not None
    await update.get_bot().send_message(
        update.effective_chat.id, "Let's start again: send /register."
    )
    return ConversationHandler.END


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("register", start_register)],
        states={
            ASK_NAME: [MessageHandler(text, got_name)],
            ASK_PHONE: [MessageHandler(text, got_phone)],
            ASK_EMAIL: [
                MessageHandler(text, got_email),
                CallbackQueryHandler(skip_email, pattern=rf"^{SKIP_EMAIL}$"),
            ],
            CONFIRM: [
                CallbackQueryHandler(confirm_register, pattern=flows.confirm_pattern("reg")),
                CallbackQueryHandler(flows.cancel_button, pattern=flows.cancel_pattern("reg")),
                MessageHandler(text, press_a_button),
            ],
            **flows.timeout_handlers(),
        },
        fallbacks=flows.flow_fallbacks("reg"),
        allow_reentry=True,
        conversation_timeout=flows.IDLE_TIMEOUT,
        name="register",
    )
