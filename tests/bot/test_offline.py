"""bot.offline: a python-telegram-bot Application runs against it as against Telegram.

Each test drives the real library (Bot, Application, handlers) through ``OfflineRequest`` and
checks what Telegram would have answered or refused.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.offline import (
    BOT_USER,
    BotApiEmulator,
    OfflineRequest,
    SentCall,
    decode_params,
    keyboard_rows,
    make_callback_update,
    make_contact_update,
    make_message_update,
    parse_html,
)

TOKEN = "123:ABC"
USER = 42

# What ApplicationBuilder().build() gives; the handlers here only use the default types.
AnyApp = Application[Any, Any, Any, Any, Any, Any]


def build_app(request: OfflineRequest) -> AnyApp:
    updates = OfflineRequest(emulator=request.emulator)
    return ApplicationBuilder().token(TOKEN).request(request).get_updates_request(updates).build()


@pytest.fixture
def request_() -> OfflineRequest:
    return OfflineRequest()


@pytest.fixture
async def app(request_: OfflineRequest) -> AsyncIterator[AnyApp]:
    application = build_app(request_)
    async with application:
        yield application


def refused(reason: str) -> pytest.RaisesExc[BadRequest]:
    """Expects a BadRequest; case-blind because python-telegram-bot re-capitalizes Telegram's
    description ("BUTTON_DATA_INVALID" reaches the bot as "Button_data_invalid")."""
    return pytest.raises(BadRequest, match=re.compile(re.escape(reason), re.IGNORECASE))


def button(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Press", callback_data=data)]])


# --- the bot talks to the fake as to Telegram -------------------------------------------------


async def test_the_bot_initializes_and_learns_who_it_is(
    app: AnyApp, request_: OfflineRequest
) -> None:
    assert app.bot.username == BOT_USER["username"]
    assert app.bot.id == 999000
    assert request_.calls[0].method == "getMe"


async def test_a_sent_message_comes_back_as_telegram_would_return_it(
    app: AnyApp, request_: OfflineRequest
) -> None:
    first = await app.bot.send_message(USER, "Hello <b>Ann</b> &amp; co", parse_mode="HTML")
    second = await app.bot.send_message(USER, "Again")

    assert isinstance(first, Message)
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == USER and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.id == BOT_USER["id"]
    assert first.text == "Hello Ann & co"  # Telegram returns the visible text
    assert request_.calls[-2].visible_text == "Hello Ann & co"


async def test_each_chat_numbers_its_messages_separately(app: AnyApp) -> None:
    await app.bot.send_message(USER, "to 42")
    other = await app.bot.send_message(43, "to 43")
    assert other.message_id == 1


async def test_every_call_is_recorded_and_reported_to_the_listener() -> None:
    heard: list[SentCall] = []
    request = OfflineRequest(on_call=heard.append)
    async with build_app(request) as app:
        await app.bot.send_message(USER, "Hi", reply_markup=button("earn:1"))

    call = request.calls[-1]
    assert heard == request.calls
    assert call.method == "sendMessage"
    assert call.params["chat_id"] == USER  # decoded to int, as Telegram reads it
    assert call.text == call.visible_text == "Hi"
    assert keyboard_rows(call.params) == [[{"text": "Press", "callback_data": "earn:1"}]]


async def test_an_inline_keyboard_is_echoed_in_the_returned_message(app: AnyApp) -> None:
    sent = await app.bot.send_message(USER, "Pick", reply_markup=button("redeem:5"))
    assert sent.reply_markup == button("redeem:5")


async def test_unknown_methods_are_accepted(app: AnyApp, request_: OfflineRequest) -> None:
    result = await app.bot.do_api_request("someFutureMethod", api_kwargs={"x": 1})
    assert result is True
    assert request_.calls[-1].method == "someFutureMethod"


# --- what Telegram refuses, the fake refuses ------------------------------------------------


async def test_the_longest_allowed_text_is_accepted_but_one_more_character_is_not(
    app: AnyApp, request_: OfflineRequest
) -> None:
    accepted = await app.bot.send_message(USER, "x" * 4096)
    with refused("message is too long"):
        await app.bot.send_message(USER, "x" * 4097)
    assert accepted.text == "x" * 4096 and accepted.message_id == 1
    assert [c.error for c in request_.bad_requests] == ["Bad Request: message is too long"]


async def test_html_tags_do_not_count_towards_the_length_limit(
    app: AnyApp, request_: OfflineRequest
) -> None:
    html = "<b>" + "x" * 4096 + "</b>"  # 4103 characters sent, 4096 of them visible
    sent = await app.bot.send_message(USER, html, parse_mode="HTML")

    assert sent.text == "x" * 4096  # Telegram answers with the text the user reads
    call = request_.calls[-1]
    assert call.ok and call.text == html and call.visible_text == "x" * 4096


@pytest.mark.parametrize("text", ["", "   \n "])
async def test_an_empty_text_is_refused(app: AnyApp, text: str) -> None:
    with refused("message text is empty"):
        await app.bot.send_message(USER, text)


@pytest.mark.parametrize("data", ["x" * 65, "€" * 22])  # 65 and 66 bytes of UTF-8
async def test_callback_data_over_64_bytes_is_refused(app: AnyApp, data: str) -> None:
    with refused("BUTTON_DATA_INVALID"):
        await app.bot.send_message(USER, "Pick", reply_markup=button(data))


async def test_callback_data_of_exactly_64_bytes_is_accepted(
    app: AnyApp, request_: OfflineRequest
) -> None:
    data = "€" * 21 + "x"
    assert len(data.encode("utf-8")) == 64  # 21 × 3 bytes + 1

    sent = await app.bot.send_message(USER, "Pick", reply_markup=button(data))

    assert sent.reply_markup == button(data)  # the keyboard comes back, the data intact
    assert keyboard_rows(request_.calls[-1].params) == [[{"text": "Press", "callback_data": data}]]
    assert request_.bad_requests == []


async def test_an_inline_button_that_does_nothing_is_refused(app: AnyApp) -> None:
    with refused("text buttons are unallowed"):
        await app.bot.send_message(
            USER, "Pick", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Idle")]])
        )


@pytest.mark.parametrize(
    "text",
    [
        "<b>unclosed",
        "a < b",
        "5 > 3",
        "Tom & Jerry",
        "line<br>break",
        "</b>",
        "<b><i>crossed</b></i>",
        '<span class="x">hidden</span>',
    ],
)
async def test_html_telegram_cannot_parse_is_refused(app: AnyApp, text: str) -> None:
    with refused("can't parse entities"):
        await app.bot.send_message(USER, text, parse_mode="HTML")


async def test_the_same_characters_are_fine_without_a_parse_mode(
    app: AnyApp, request_: OfflineRequest
) -> None:
    sent = await app.bot.send_message(USER, "a < b & <b>unclosed")

    assert sent.text == "a < b & <b>unclosed"  # shown as typed: no tag is read as a tag
    assert request_.calls[-1].visible_text == "a < b & <b>unclosed"
    assert request_.bad_requests == []


async def test_an_over_long_caption_is_refused(app: AnyApp) -> None:
    with refused("caption is too long"):
        await app.bot.send_photo(USER, b"png", caption="x" * 1025)


async def test_command_names_must_be_lowercase(app: AnyApp) -> None:
    with refused("BOT_COMMAND_INVALID"):
        await app.bot.set_my_commands([("Balance", "Show my points")])


async def test_commands_that_were_set_can_be_read_back(app: AnyApp) -> None:
    await app.bot.set_my_commands([("balance", "Show my points")])
    commands = await app.bot.get_my_commands()
    assert [(c.command, c.description) for c in commands] == [("balance", "Show my points")]


# --- editing, files -----------------------------------------------------------------------


async def test_an_edit_returns_the_edited_message_and_drops_a_keyboard_not_resent(
    app: AnyApp, request_: OfflineRequest
) -> None:
    sent = await app.bot.send_message(USER, "Earn 5 points?", reply_markup=button("earn:5"))
    edited = await app.bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "Done" and edited.reply_markup is None
    stored = request_.emulator.message(USER, sent.message_id)
    assert stored is not None and "reply_markup" not in stored


async def test_an_edit_that_changes_nothing_is_refused(app: AnyApp) -> None:
    sent = await app.bot.send_message(USER, "Balance: 5", reply_markup=button("refresh"))
    with refused("message is not modified"):
        await app.bot.edit_message_reply_markup(
            USER, sent.message_id, reply_markup=button("refresh")
        )


async def test_uploaded_files_are_kept_and_described_in_the_reply(
    app: AnyApp, request_: OfflineRequest
) -> None:
    photo = await app.bot.send_photo(USER, b"\x89PNG fake", caption="Your card")
    document = await app.bot.send_document(USER, b"a,b\n1,2\n", filename="report.csv")

    assert photo.photo and photo.caption == "Your card"
    assert document.document is not None and document.document.file_name == "report.csv"
    photo_call, document_call = request_.calls[-2:]
    assert photo_call.files == {"photo": b"\x89PNG fake"}
    assert document_call.files == {"document": b"a,b\n1,2\n"}


# --- feeding updates to handlers -----------------------------------------------------------


async def test_a_command_update_reaches_its_command_handler(
    app: AnyApp, request_: OfflineRequest
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"args={context.args}")

    app.add_handler(CommandHandler("start", start))
    await app.process_update(
        Update.de_json(make_message_update(1, user_id=USER, text="/start ref_7"), app.bot)
    )

    assert request_.calls[-1].params == {"chat_id": USER, "text": "args=['ref_7']"}


async def test_a_callback_update_carries_its_data_and_can_be_answered(
    app: AnyApp, request_: OfflineRequest
) -> None:
    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        await query.edit_message_text(f"{query.data} under {query.message.message_id}")

    app.add_handler(CallbackQueryHandler(pressed, pattern=r"^earn:"))
    update = make_callback_update(2, user_id=USER, data="earn:5", message_id=7)
    await app.process_update(Update.de_json(update, app.bot))

    answer, edit = request_.calls[-2:]
    assert answer.method == "answerCallbackQuery"
    assert edit.params["text"] == "earn:5 under 7" and edit.ok


async def test_a_contact_update_reaches_a_contact_filter(app: AnyApp) -> None:
    seen: list[tuple[str, int | None]] = []

    async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.contact
        shared = update.effective_message.contact
        seen.append((shared.phone_number, shared.user_id))

    app.add_handler(MessageHandler(filters.CONTACT, contact))
    update = make_contact_update(
        3, user_id=USER, phone_number="+447700900123", contact_user_id=USER
    )
    await app.process_update(Update.de_json(update, app.bot))

    assert seen == [("+447700900123", USER)]


async def test_polling_waits_for_updates_instead_of_spinning(request_: OfflineRequest) -> None:
    app = build_app(request_)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("pong")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    emulator = request_.emulator
    async with app:
        assert app.updater is not None  # build_app gives it one, as run's builder does
        await app.updater.start_polling(timeout=5)
        await app.start()
        await asyncio.sleep(0.2)
        emulator.push_update(
            make_message_update(emulator.next_update_id(), user_id=USER, text="ping")
        )
        async with asyncio.timeout(3):
            reply = await emulator.until(
                lambda: emulator.find_call(lambda c: c.method == "sendMessage")
            )
        await app.updater.stop()
        await app.stop()

    assert reply.text == "pong"
    assert len([c for c in request_.calls if c.method == "getUpdates"]) <= 4


# --- pure helpers ----------------------------------------------------------------------------


def test_parse_html_decodes_escaped_characters() -> None:
    assert parse_html("&lt;b&gt; &amp; &quot;x&quot; &#128512; &#x1F600;") == '<b> & "x" 😀 😀'


def test_parse_html_keeps_the_text_of_nested_and_attributed_tags() -> None:
    html = (
        '<b>bold <i>both</i></b> <a href="https://t.me/x?a=1&amp;b=2">link</a> '
        '<span class="tg-spoiler">secret</span> <B>caps</B> <blockquote expandable>q</blockquote>'
        ' <pre><code class="language-python">x = 1</code></pre>'
    )
    assert parse_html(html) == "bold both link secret caps q x = 1"


def test_parse_html_reports_errors_in_telegrams_words_with_byte_offsets() -> None:
    with pytest.raises(ValueError, match='Unsupported start tag "x" at byte offset 3'):
        parse_html("é <x>")  # "é" is two bytes
    with pytest.raises(ValueError, match='Can\'t find end tag corresponding to start tag "b"'):
        parse_html("<b>open")
    with pytest.raises(ValueError, match='expected "</i>", found "</b>"'):
        parse_html("<b><i>x</b></i>")


def test_keyboard_rows_reads_markup_sent_as_json_text_or_dict() -> None:
    markup = {
        "inline_keyboard": [[{"text": "A", "callback_data": "a"}], [{"text": "B", "url": "u"}]]
    }
    rows = [[{"text": "A", "callback_data": "a"}], [{"text": "B", "url": "u"}]]
    assert keyboard_rows({"reply_markup": markup}) == rows
    assert keyboard_rows(decode_params({"reply_markup": '{"inline_keyboard": [[]]}'})) == [[]]
    assert keyboard_rows({"reply_markup": {"remove_keyboard": True}}) == []
    assert keyboard_rows({}) == []


def test_form_values_are_decoded_but_string_fields_stay_strings() -> None:
    decoded = decode_params(
        {"chat_id": "42", "text": "123", "callback_query_id": "998877", "show_alert": "true"}
    )
    assert decoded == {
        "chat_id": 42,
        "text": "123",
        "callback_query_id": "998877",
        "show_alert": True,
    }


def test_a_command_message_carries_a_bot_command_entity() -> None:
    update = make_message_update(5, user_id=USER, text="/earn 12.50")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 5}]
    assert "entities" not in make_message_update(6, user_id=USER, text="hello")["message"]


def test_emulators_can_be_shared_so_one_log_holds_every_call() -> None:
    shared = BotApiEmulator()
    first, second = OfflineRequest(emulator=shared), OfflineRequest(emulator=shared)
    assert first.calls is second.calls is shared.calls


async def test_editing_the_text_of_a_photo_is_refused(app: AnyApp) -> None:
    photo = await app.bot.send_photo(USER, b"png", caption="Card")
    with refused("there is no text in the message to edit"):
        await app.bot.edit_message_text("New", chat_id=USER, message_id=photo.message_id)
