"""The guide's pictures of a scan and a history page are made from the real bot
(tests/support/guide_pictures.py): this keeps that script working, and checks the scenes show
what the guide says they show."""

from __future__ import annotations

import pytest

from tests.support.chat_picture import render
from tests.support.guide_pictures import history, scan
from tests.support.harness import BotHarness

pytestmark = pytest.mark.asyncio

PNG = b"\x89PNG\r\n\x1a\n"


async def test_the_scan_picture_shows_the_card_its_buttons_and_the_one_tap_result(
    bot: BotHarness,
) -> None:
    chat = await scan(bot)

    texts = [b.text for b in chat.bubbles]
    assert texts[0] == "/start"
    assert "Ann Lee · card" in texts[1] and "Phone: +44 ••• ••3456" in texts[1]
    assert chat.bubbles[1].buttons == [["Earn", "Redeem", "Status"]]
    assert "+12 points for 12.50 GBP" in texts[-1]
    assert ["Same customer again", "Redeem"] in chat.bubbles[-1].buttons
    assert render(chat.bubbles).startswith(PNG)


async def test_the_history_picture_shows_a_page_with_the_refund_marked_and_next(
    bot: BotHarness,
) -> None:
    chat = await history(bot)

    page = chat.bubbles[-1]
    assert "History · Ann Lee" in page.text.splitlines()[0]
    assert "Purchase (54.10 GBP) · +54 · refunded" in page.text
    assert "Reward (Free coffee) · -100" in page.text
    assert page.buttons == [["Next ▶"]]
    assert render(chat.bubbles).startswith(PNG)
