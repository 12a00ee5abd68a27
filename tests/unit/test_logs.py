"""The log filter: no token, phone number, e-mail or database values in any log line."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import pytest

from bot.logs import RedactingFilter, configure, redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRETS = {
    "token": TOKEN,
    "E.164 phone": "+447400123456",
    "spaced international phone": "+44 7400 123456",
    "national phone": "07400 123456",
    "national phone, no spaces": "07400123456",
    "bracketed phone": "+1 (555) 123-4567",
    "e-mail": "ann.lee+shop@example.co.uk",
}


@pytest.mark.parametrize("secret", SECRETS.values(), ids=SECRETS.keys())
def test_each_kind_of_secret_is_redacted(secret: str) -> None:
    assert secret not in redact(f"failed for '{secret}', retrying")


def test_a_bot_api_url_loses_its_token() -> None:
    line = f'HTTP Request: POST https://api.telegram.org/bot{TOKEN}/getUpdates "HTTP/1.1 200 OK"'
    assert redact(line) == (
        'HTTP Request: POST https://api.telegram.org/bot<token>/getUpdates "HTTP/1.1 200 OK"'
    )


def test_database_error_values_are_hidden_but_the_statement_is_kept() -> None:
    error = (
        "(sqlite3.IntegrityError) database or disk is full\n"
        "[SQL: INSERT INTO customers (card_number, name) VALUES (?, ?)]\n"
        "[parameters: ('48213379', 'Ann Lee')]\n"
        "(Background on this error at: https://sqlalche.me/e/21/gkpj)"
    )
    assert redact(error) == error.replace("('48213379', 'Ann Lee')", "<hidden>")


@pytest.mark.parametrize(
    "harmless",
    [
        "refused earn for user 3003 (role customer)",
        "telegram user 1234567890 linked to customer 42",
        "card 48213379 earned 25 points for 25.50 GBP",
        "digest at 07:30 Europe/London, next run 2026-03-14 07:30:00",
        "update 7000000001 took 0.125 s",
    ],
)
def test_ids_cards_amounts_and_times_stay_readable(harmless: str) -> None:
    assert redact(harmless) == harmless


def record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("bot", logging.ERROR, __file__, 1, msg, args, exc_info)


def raised(message: str) -> BaseException:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def test_the_filter_redacts_the_message_its_arguments_and_the_traceback() -> None:
    line = record(
        "notification to %s failed: %s",
        "+447400123456",
        "ann@example.com",
        exc=raised(f"POST bot{TOKEN}/sendMessage for 07400 123456"),
    )

    assert RedactingFilter().filter(line) is True  # redacts; never drops a record
    text = logging.Formatter().format(line)

    assert text.startswith("notification to <phone> failed: <email>\nTraceback")
    assert "RuntimeError: POST bot<token>/sendMessage for <phone>" in text
    for secret in (TOKEN, "+447400123456", "ann@example.com", "07400 123456"):
        assert secret not in text


def test_a_traceback_another_handler_already_formatted_is_redacted_too() -> None:
    line = record("boom", exc=raised("for +447400123456"))
    logging.Formatter().format(line)  # an earlier handler cached the raw traceback text

    RedactingFilter().filter(line)

    assert "+447400123456" not in logging.Formatter().format(line)


def test_filtering_twice_changes_nothing_more() -> None:
    line = record("call %s about %s", "+447400123456", "100% off")
    RedactingFilter().filter(line)
    once = line.getMessage()
    RedactingFilter().filter(line)
    assert line.getMessage() == once == "call <phone> about 100% off"


@contextlib.contextmanager
def configured() -> Iterator[None]:
    """configure() for the duration, then the root logger as pytest had it in this test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "apscheduler")}
    configure()
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)


def test_configured_logging_prints_only_redacted_lines(capsys: pytest.CaptureFixture[str]) -> None:
    log = logging.getLogger("bot.errors")
    with configured():
        assert all(
            any(isinstance(f, RedactingFilter) for f in handler.filters)
            for handler in logging.getLogger().handlers
        )
        try:
            raise RuntimeError(f"failed for ann@example.com via bot{TOKEN}")
        except RuntimeError:
            log.exception("unhandled exception for %s", "+447400123456")
        logging.getLogger("httpx").info("HTTP Request: POST bot%s/getMe", TOKEN)

    err = capsys.readouterr().err
    assert "ERROR bot.errors: unhandled exception for <phone>" in err
    assert "RuntimeError: failed for <email> via bot<token>" in err
    assert TOKEN not in err and "getMe" not in err  # httpx below WARNING is not printed at all
