"""`loyalty-bot cards`: printable QR cards, one file per customer, whose link opens the card
for staff (the payload is the card number, checked by its check digit)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from bot.qr import printed_card
from core.config import DEFAULT_PROGRAM, load_config
from core.db.engine import open_engine
from core.db.migrate import upgrade
from core.db.store import Store
from core.types import NewCustomer
from tests.support.harness import CASHIER

from .test_audit_cli import MARCH


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three customers in the default config's database, in the current folder; their cards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)

    async def build() -> list[str]:
        engine = open_engine(load_config(None, environ={}).database_url)
        await upgrade(engine)
        store = Store(engine, DEFAULT_PROGRAM)
        try:
            cards = []
            for i in range(3):
                new: NewCustomer = {"name": f"Pat {i}", "phone": f"+44740012340{i}", "email": None}
                done = await store.register(new, actor_id=CASHIER, now=MARCH)
                cards.append(done["customer"]["card_number"])
            return cards
        finally:
            store.close()
            await engine.dispose()

    return asyncio.run(build())


def test_all_writes_one_png_per_card_with_the_link_and_the_number(
    shop: list[str], tmp_path: Path
) -> None:
    assert main(["cards", "--all", "--out", "printed", "--bot", "shop_bot"]) == 0
    files = sorted(p.name for p in (tmp_path / "printed").iterdir())
    assert files == sorted(f"card-{number}.png" for number in shop)
    for number in shop:
        link = f"https://t.me/shop_bot?start=c_{number}"
        written = (tmp_path / "printed" / f"card-{number}.png").read_bytes()
        assert written == printed_card(link, number, "png")
        assert written.startswith(b"\x89PNG")


def test_one_customer_as_svg_carries_the_number_under_the_code(
    shop: list[str], tmp_path: Path
) -> None:
    code = ["cards", "--customer", "07400 123401", "--out", "svg", "--format", "svg"]
    assert main([*code, "--bot", "@shop_bot"]) == 0
    (svg,) = (tmp_path / "svg").iterdir()
    number = shop[1]
    assert svg.name == f"card-{number}.svg"
    assert f">{number[:4]} {number[4:]}</text>" in svg.read_text()


def test_a_wrong_customer_or_no_bot_name_is_one_line_and_exit_2(
    shop: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cards", "--customer", "07400 999999", "--out", "x", "--bot", "b"]) == 2
    assert "no customer matches" in capsys.readouterr().err
    assert main(["cards", "--all", "--out", "x"]) == 2
    assert "pass --bot <username>" in capsys.readouterr().err
    assert list((tmp_path / "x").iterdir()) == []  # the wrong customer: nothing written
