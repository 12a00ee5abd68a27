"""/register: sign up a new customer (cashiers and admins).

    /register -> name? -> phone? -> e-mail? [Skip] -> (birthday? [Skip]) -> summary
              [Confirm | Cancel] -> registered
    The birthday is asked only when the shop gives a birthday bonus ([birthday] bonus > 0);
    the customer can give or change it later with /birthday (bot/handlers/birthday.py).

Diagram: docs/diagrams/register.mmd. Validation: core/contact.py; storage: Store.register
(which also credits the program's signup bonus); the Confirm step: bot/confirm.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date
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
from core.birthdays import NO_YEAR, parse_birthday, shown
from core.db.ledger import Tell
from core.errors import DuplicateCustomer, LoyaltyError
from core.types import NewCustomer, RegisterResult

from .. import confirm, flows, i18n
from ..format import card, esc, points
from ..i18n import N_, _
from ..replies import friendly
from ..roles import requires
from ..services import services

ASK_NAME, ASK_PHONE, ASK_EMAIL, ASK_BIRTHDAY, CONFIRM = (
    "reg.name",
    "reg.phone",
    "reg.email",
    "reg.birthday",
    "reg.confirm",
)
DRAFT_KEY = "reg_draft"  # user_data: name and phone typed so far (a Draft)
SKIP_EMAIL = "reg:skip_email"
SKIP_BIRTHDAY = "reg:skip_birthday"
SKIP_WORDS = ("skip", "-")  # typed instead of pressing Skip, for one-handed use at the till

# Marked here, translated where sent (bot/i18n.py).
ASK_NAME_TEXT = N_("New customer. Send their <b>name</b> (/cancel to stop).")
ASK_EMAIL_TEXT = N_(
    "Send their <b>e-mail</b> address, or press Skip (or send <code>-</code>) "
    "if they'd rather not give one (/cancel to stop)."
)
ASK_BIRTHDAY_TEXT = N_(
    "Their <b>birthday</b>, for a birthday treat? Day and month, e.g. <code>14/03</code> "
    "(a year is optional), or press Skip (or send <code>-</code>) (/cancel to stop)."
)


def _skip_keyboard() -> InlineKeyboardMarkup:
    """Skip the e-mail, labelled in the reader's language."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("⏭ Skip (no e-mail)"), callback_data=SKIP_EMAIL)]]
    )


def _skip_birthday_keyboard() -> InlineKeyboardMarkup:
    """Skip the birthday, labelled in the reader's language."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("⏭ Skip (no birthday)"), callback_data=SKIP_BIRTHDAY)]]
    )


def _birthday(day: dt.date) -> str:
    """'14 March' or '14 March 1990', in the reader's language."""
    language = i18n.current()
    if language == i18n.SOURCE:
        return shown(day)
    pattern = "d MMMM" if day.year == NO_YEAR else "d MMMM y"
    return format_date(day, pattern, locale=language)


@dataclass
class Draft:
    """The answers so far; the summary turns them into the preview."""

    name: str = ""
    phone: str = ""
    email: str | None = None


@dataclass(frozen=True)
class RegisterPreview:
    """What Confirm records: this new customer."""

    customer: NewCustomer


def _ask_phone_text(name: str) -> str:
    return _(
        "Send the <b>phone number</b> of <b>{name}</b>, as dialled locally or with the "
        "country code, e.g. <code>+44 7400 123456</code> (/cancel to stop)."
    ).format(name=esc(name))


@requires("cashier")
async def start_register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Starts /register and asks for the customer's name."""
    assert update.effective_message is not None and context.user_data is not None
    confirm.drop(context)
    context.user_data[DRAFT_KEY] = Draft()
    await update.effective_message.reply_text(_(ASK_NAME_TEXT))
    return ASK_NAME


@requires("cashier")
async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Checks the name and asks for the phone number."""
    assert update.effective_message is not None and update.effective_message.text is not None
    try:
        name = contact.normalize_name(update.effective_message.text)
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            _("{reason}\nSend the name again (/cancel to stop).").format(reason=friendly(exc))
        )
        return ASK_NAME
    _draft(context).name = name
    await update.effective_message.reply_text(_ask_phone_text(name))
    return ASK_PHONE


@requires("cashier")
async def got_phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Checks the phone number is valid and not on a card yet, then asks for the e-mail."""
    assert update.effective_message is not None and update.effective_message.text is not None
    svc = services(context)
    try:
        phone = contact.normalize_phone(
            update.effective_message.text, svc.config.program.default_region
        )
    except LoyaltyError as exc:
        await update.effective_message.reply_text(
            _("{reason}\nSend the phone number again (/cancel to stop).").format(
                reason=friendly(exc)
            )
        )
        return ASK_PHONE
    # Checked here already so the cashier learns it now, not after typing the e-mail;
    # Store.register checks again on Confirm (another till may register the number meanwhile).
    existing = await svc.store.customer_by_phone(phone)
    if existing is not None:
        await update.effective_message.reply_text(
            _(
                "{reason}\nUse that card, or send a different phone number (/cancel to stop)."
            ).format(reason=friendly(DuplicateCustomer(existing["card_number"])))
        )
        return ASK_PHONE
    _draft(context).phone = phone
    await update.effective_message.reply_text(_(ASK_EMAIL_TEXT), reply_markup=_skip_keyboard())
    return ASK_EMAIL


@requires("cashier")
async def got_email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Checks the e-mail ("skip" or "-" for none) and shows the summary."""
    assert update.effective_message is not None and update.effective_message.text is not None
    text = update.effective_message.text.strip()
    email: str | None = None
    if text.lower() not in SKIP_WORDS:
        try:
            email = contact.normalize_email(text)
        except LoyaltyError as exc:
            await update.effective_message.reply_text(
                _("{reason}\nSend the e-mail again, or press Skip (/cancel to stop).").format(
                    reason=friendly(exc)
                ),
                reply_markup=_skip_keyboard(),
            )
            return ASK_EMAIL
    return await _after_email(update, context, email)


@requires("cashier")
async def skip_email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Registers without an e-mail when Skip is pressed: shows the summary."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _after_email(update, context, None)


async def _after_email(
    update: Update, context: ContextTypes.DEFAULT_TYPE, email: str | None
) -> flows.State:
    """Asks for the birthday when the shop gives a birthday bonus, else shows the summary."""
    assert update.effective_chat is not None
    if not services(context).config.birthday.bonus:
        return await _summary(update, context, email)
    _draft(context).email = email
    await context.bot.send_message(
        update.effective_chat.id, _(ASK_BIRTHDAY_TEXT), reply_markup=_skip_birthday_keyboard()
    )
    return ASK_BIRTHDAY


@requires("cashier")
async def got_birthday(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Checks the birthday ("skip" or "-" for none) and shows the summary."""
    assert update.effective_message is not None and update.effective_message.text is not None
    text = update.effective_message.text.strip()
    birthday: dt.date | None = None
    if text.lower() not in SKIP_WORDS:
        svc = services(context)
        today = svc.clock().astimezone(svc.config.reports.tzinfo).date()
        try:
            birthday = parse_birthday(text, today)
        except LoyaltyError as exc:
            await update.effective_message.reply_text(
                _("{reason}\nSend the birthday again, or press Skip (/cancel to stop).").format(
                    reason=friendly(exc)
                ),
                reply_markup=_skip_birthday_keyboard(),
            )
            return ASK_BIRTHDAY
    return await _summary(update, context, _draft(context).email, birthday, asked=True)


@requires("cashier")
async def skip_birthday(update: Update, context: ContextTypes.DEFAULT_TYPE) -> flows.State:
    """Registers without a birthday when Skip is pressed: shows the summary."""
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_reply_markup(None)
    return await _summary(update, context, _draft(context).email, None, asked=True)


async def _summary(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    email: str | None,
    birthday: dt.date | None = None,
    *,
    asked: bool = False,
) -> flows.State:
    """Name, phone and e-mail (and birthday, if asked) with Confirm / Cancel; nothing is saved
    before Confirm."""
    assert update.effective_chat is not None and context.user_data is not None
    draft = _draft(context)
    del context.user_data[DRAFT_KEY]
    new: NewCustomer = {"name": draft.name, "phone": draft.phone, "email": email}
    if birthday is not None:
        new["birthday"] = birthday
    buttons = confirm.remember(context, "reg", RegisterPreview(new))
    lines = [
        _("<b>Register this customer?</b>"),
        _("Name: <b>{name}</b>").format(name=esc(draft.name)),
        _("Phone: {phone}").format(phone=contact.format_phone(draft.phone)),
        _("E-mail: {email}").format(email=esc(email) if email else _("none")),
    ]
    if asked:
        lines.append(
            _("Birthday: {birthday}").format(
                birthday=_birthday(birthday) if birthday else _("none")
            )
        )
    await context.bot.send_message(update.effective_chat.id, "\n".join(lines), reply_markup=buttons)
    return CONFIRM


async def record_register(
    context: ContextTypes.DEFAULT_TYPE,
    preview: RegisterPreview,
    /,
    *,
    key: str,
    actor_id: int,
    tell: Tell[RegisterResult],
) -> RegisterResult:
    """Saves the customer once: the key makes a second Confirm a replay.

    A DuplicateCustomer here means another till registered the number since the phone step.
    """
    svc = services(context)
    return await svc.store.register(
        preview.customer, actor_id=actor_id, now=svc.clock(), key=key, tell=tell
    )


def describe_register(result: RegisterResult) -> confirm.Told:
    """The new card number, and the welcome bonus if there is one."""
    customer = result["customer"]
    lines = [
        _("✅ Registered <b>{name}</b>").format(name=esc(customer["name"])),
        _("Card number: <b>{card}</b>").format(card=card(customer["card_number"])),
    ]
    if result["signup_bonus"] > 0:
        lines.append(
            _("Welcome bonus: <b>{points}</b>").format(points=points(result["signup_bonus"]))
        )
    lines.append(
        _("They can see their points by sending /start to this bot and sharing their phone.")
    )
    return confirm.Told(reply="\n".join(lines))


def _draft(context: ContextTypes.DEFAULT_TYPE) -> Draft:
    assert context.user_data is not None
    draft = context.user_data[DRAFT_KEY]
    assert isinstance(draft, Draft)
    return draft


def conversation() -> ConversationHandler:  # type: ignore[type-arg]
    text = filters.TEXT & ~filters.COMMAND
    return flows.conversation(
        name="register",
        entry=CommandHandler("register", start_register),
        states={
            ASK_NAME: [MessageHandler(text, got_name)],
            ASK_PHONE: [MessageHandler(text, got_phone)],
            ASK_EMAIL: [
                MessageHandler(text, got_email),
                CallbackQueryHandler(skip_email, pattern=rf"^{SKIP_EMAIL}$"),
            ],
            ASK_BIRTHDAY: [
                MessageHandler(text, got_birthday),
                CallbackQueryHandler(skip_birthday, pattern=rf"^{SKIP_BIRTHDAY}$"),
            ],
            CONFIRM: confirm.handlers(
                "reg",
                record_register,
                describe_register,
                popup=N_("Registered ✔"),
                refused=N_("\nNothing was saved."),
            ),
        },
        preview_kind="reg",
    )
