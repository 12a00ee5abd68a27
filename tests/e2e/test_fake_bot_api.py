"""tests.support.fake_bot_api: a real Application polls it over HTTP as it would poll Telegram."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
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

from tests.support.fake_bot_api import FakeBotApi

TOKEN = "123:ABC"
USER = 42

# What ApplicationBuilder().build() gives; the handlers here only use the default types.
AnyApp = Application[Any, Any, Any, Any, Any, Any]


def refused(reason: str) -> pytest.RaisesExc[BadRequest]:
    """Expects a BadRequest; case-blind because python-telegram-bot re-capitalizes it."""
    return pytest.raises(BadRequest, match=re.compile(re.escape(reason), re.IGNORECASE))


def is_reply_to(chat_id: int) -> Any:
    return lambda call: call.method == "sendMessage" and call.chat_id == chat_id


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as server:
        yield server


def build_app(fake: FakeBotApi) -> AnyApp:
    return ApplicationBuilder().token(TOKEN).base_url(fake.base_url).build()


@pytest.fixture
async def app(fake: FakeBotApi) -> AsyncIterator[AnyApp]:
    application = build_app(fake)
    async with application:
        yield application


@pytest.fixture
async def polling_app(fake: FakeBotApi) -> AsyncIterator[AnyApp]:
    """A bot answering /start, button presses and contacts, polling the fake over HTTP."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Earn", callback_data="earn:5")]])
        await update.effective_message.reply_html("Welcome, <b>friend</b>!", reply_markup=keyboard)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        # A button under a message older than 48 h arrives without its text (inaccessible).
        assert query is not None and isinstance(query.message, Message)
        await query.answer("Saved")
        await query.edit_message_text(f"{query.data} on “{query.message.text}”")

    async def contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.contact is not None
        await message.reply_text(f"Phone {message.contact.phone_number}")

    application = build_app(fake)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed, pattern=r"^earn:"))
    application.add_handler(MessageHandler(filters.CONTACT, contact))
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(timeout=10)
        await application.start()
        yield application
        await application.updater.stop()
        await application.stop()


# --- the library talks HTTP to the fake --------------------------------------------------------


async def test_the_bot_initializes_against_the_fake_server(app: AnyApp, fake: FakeBotApi) -> None:
    assert app.bot.username == "loyalty_test_bot"
    assert fake.calls[0].method == "getMe"


async def test_a_message_sent_over_http_is_recorded_with_typed_parameters(
    app: AnyApp, fake: FakeBotApi
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Redeem", callback_data="redeem:1")]])
    sent = await app.bot.send_message(
        USER, "Hi <i>Ann</i>", parse_mode="HTML", reply_markup=keyboard
    )

    assert sent.text == "Hi Ann" and sent.reply_markup == keyboard
    [call] = fake.sent_to(USER)
    # The body was form-encoded; the fake decodes it the way Telegram does.
    assert call.params["chat_id"] == USER
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "redeem:1"


async def test_the_http_fake_refuses_what_telegram_refuses(app: AnyApp, fake: FakeBotApi) -> None:
    too_big = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with refused("message is too long"):
        await app.bot.send_message(USER, "x" * 4097)
    with refused("BUTTON_DATA_INVALID"):
        await app.bot.send_message(USER, "Pick", reply_markup=too_big)
    with refused("can't parse entities"):
        await app.bot.send_message(USER, "<b>unclosed", parse_mode="HTML")
    with refused("can't parse entities"):
        await app.bot.send_message(USER, "a < b", parse_mode="HTML")

    # Telegram's own words, as the HTTP fake recorded them (the BadRequest re-capitalizes them).
    assert [c.error for c in fake.bad_requests] == [
        "Bad Request: message is too long",
        "Bad Request: BUTTON_DATA_INVALID",
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
    ]
    assert fake.sent_to(USER) == []  # the user saw none of them


async def test_uploads_arrive_intact_through_multipart(app: AnyApp, fake: FakeBotApi) -> None:
    picture = bytes(range(256)) * 4
    photo = await app.bot.send_photo(USER, picture, caption="Ваша карта ✓")
    document = await app.bot.send_document(USER, b"a,b\r\n1,2\r\n", filename="report.csv")

    assert photo.caption == "Ваша карта ✓"
    assert document.document is not None and document.document.file_name == "report.csv"
    photo_call, document_call = fake.sent_to(USER)
    assert photo_call.files == {"photo": picture}
    assert document_call.files == {"document": b"a,b\r\n1,2\r\n"}


def test_json_and_query_string_requests_are_understood_too(fake: FakeBotApi) -> None:
    url = f"{fake.base_url}{TOKEN}/sendMessage"
    body = json.dumps({"chat_id": USER, "text": "via json"}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)["result"]["text"] == "via json"
    with urllib.request.urlopen(f"{url}?chat_id={USER}&text=via+get", timeout=5) as response:
        assert json.load(response)["result"]["text"] == "via get"
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{url}?chat_id={USER}&text=", timeout=5)
    with error.value:  # an HTTPError holds the open response; close it like any other
        assert error.value.code == 400
        assert json.load(error.value)["description"] == "Bad Request: message text is empty"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(fake.base_url.removesuffix("/bot") + "/favicon.ico", timeout=5)
    with missing.value:
        assert missing.value.code == 404


# --- updates pushed by the test reach a polling Application -------------------------------------


async def test_a_pushed_command_is_answered_by_the_polling_bot(
    polling_app: AnyApp, fake: FakeBotApi
) -> None:
    fake.push_message(USER, "/start")

    reply = await fake.wait_for_async(is_reply_to(USER), timeout=5)

    assert reply.text == "Welcome, <b>friend</b>!"
    assert fake.bad_requests == []


async def test_long_polling_returns_as_soon_as_an_update_arrives(
    polling_app: AnyApp, fake: FakeBotApi
) -> None:
    await asyncio.sleep(0.3)  # let the bot settle into a 10 s long poll
    started = time.monotonic()
    fake.push_message(USER, "/start")
    await fake.wait_for_async(is_reply_to(USER), timeout=5)
    assert time.monotonic() - started < 1.5


async def test_a_button_press_carries_the_message_the_bot_sent(
    polling_app: AnyApp, fake: FakeBotApi
) -> None:
    fake.push_message(USER, "/start")
    welcome = await fake.wait_for_async(is_reply_to(USER), timeout=5)
    message_id = welcome.result["message_id"]

    mark = len(fake.calls)
    fake.push_callback(USER, "earn:5", message_id)
    edit = await fake.wait_for_async(lambda c: c.method == "editMessageText", after=mark)

    assert edit.params["text"] == "earn:5 on “Welcome, friend!”"
    assert any(c.method == "answerCallbackQuery" for c in fake.calls[mark:])
    assert fake.bad_requests == []


async def test_a_shared_contact_reaches_the_contact_handler(
    polling_app: AnyApp, fake: FakeBotApi
) -> None:
    fake.push_contact(USER, "+447700900123", USER)
    reply = await fake.wait_for_async(is_reply_to(USER), timeout=5)
    assert reply.text == "Phone +447700900123"


def test_a_long_poll_confirms_the_updates_before_its_offset_when_it_starts(
    fake: FakeBotApi,
) -> None:
    # As Telegram: a bot killed while it waits in a long poll is not sent those updates again.
    fake.push_message(USER, "/start")  # update 1
    url = f"{fake.base_url}{TOKEN}/getUpdates"
    with pytest.raises(TimeoutError):  # the poller dies waiting; its poll is never answered
        urllib.request.urlopen(f"{url}?offset=2&timeout=5", timeout=0.3)
    with urllib.request.urlopen(f"{url}?timeout=0", timeout=5) as response:
        assert json.load(response)["result"] == []


# --- the helpers fail loudly and never hang ----------------------------------------------------


async def test_waiting_in_vain_fails_with_the_recent_calls(app: AnyApp, fake: FakeBotApi) -> None:
    await app.bot.send_message(USER, "something else")
    with pytest.raises(AssertionError, match="something else"):
        await fake.wait_for_async(lambda c: c.method == "sendPhoto", timeout=0.2)


async def test_blocking_wait_for_on_the_bots_event_loop_is_refused(fake: FakeBotApi) -> None:
    with pytest.raises(RuntimeError, match="wait_for_async"):
        fake.wait_for(lambda c: True, timeout=0.1)


def test_blocking_wait_for_works_when_the_bot_runs_elsewhere(fake: FakeBotApi) -> None:
    url = f"{fake.base_url}{TOKEN}/sendMessage?chat_id={USER}&text=hi"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert json.load(response)["result"]["text"] == "hi"
    assert fake.wait_for(is_reply_to(USER), timeout=1).text == "hi"


async def test_stopping_the_server_ends_a_pending_long_poll(app: AnyApp, fake: FakeBotApi) -> None:
    poll = asyncio.create_task(app.bot.get_updates(timeout=30))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await asyncio.to_thread(fake.stop)
    assert await asyncio.wait_for(poll, timeout=10) == ()
    assert time.monotonic() - started < 5  # far below the 30 s the poll asked for


async def test_latency_delays_every_method_but_get_updates() -> None:
    latency = 0.5  # generous, so a slow CI machine can't blur the two cases
    with FakeBotApi(latency=latency) as slow:
        async with build_app(slow) as application:
            started = time.monotonic()
            await application.bot.send_message(USER, "slow")
            assert time.monotonic() - started >= latency
            started = time.monotonic()
            await application.bot.get_updates(timeout=0)
            assert time.monotonic() - started < latency
