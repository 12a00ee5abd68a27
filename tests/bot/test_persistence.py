"""Conversations survive a restart (issue "Beyond one box"): a flow open when the bot stops,
or is killed, goes on where it was under the next process, and a Confirm pressed after the
restart is recorded exactly once. The state is written after each update, not at shutdown:
the tests read the table before the first bot stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.db.tables import bot_state
from tests.support.harness import CASHIER, BotHarness, make_config

PHONE = "+447400123456"


async def register(bot: BotHarness) -> dict[str, Any]:
    result = await bot.store.register(
        {"name": "Ann Lee", "phone": PHONE, "email": None},
        actor_id=CASHIER,
        now=bot.services.clock(),
    )
    return dict(result["customer"])


async def kept(bot: BotHarness) -> dict[tuple[str, str], bytes]:
    async with bot.services.engine.connect() as conn:
        rows = await conn.execute(select(bot_state.c.kind, bot_state.c.key, bot_state.c.value))
        return {(kind, key): value for kind, key, value in rows}


async def test_a_flow_open_at_a_restart_goes_on_where_it_was(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with BotHarness(config) as first:
        customer = await register(first)
        await first.send(CASHIER, "/earn")
        await first.send(CASHIER, "07400 123456")
        assert "How much did they spend" in first.last_text(CASHIER)
        # Written when the step changed the state, before any shutdown.
        rows = await kept(first)
        assert ("conversation", f"earn:{CASHIER}:{CASHIER}") in rows
        assert ("user", str(CASHIER)) in rows

    async with BotHarness(config, emulator=first.emulator) as restarted:
        await restarted.send(CASHIER, "25.50")
        assert "25.50 GBP → 25 points" in restarted.last_text(CASHIER)
        await restarted.press(CASHIER, "Confirm")
        assert "+25 points for 25.50 GBP" in restarted.last_text(CASHIER)
        assert (await restarted.store.get_customer(customer["id"]))["balance"] == 25
        # The flow is over: no conversation is kept open.
        assert [key for key in await kept(restarted) if key[0] == "conversation"] == []
        assert not restarted.bad_requests()


async def test_a_confirm_pressed_after_a_restart_counts_once(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with BotHarness(config) as first:
        customer = await register(first)
        await first.send(CASHIER, "/earn 07400 123456 40")
        assert "40.00 GBP → 40 points" in first.last_text(CASHIER)

    async with BotHarness(config, emulator=first.emulator) as restarted:
        await restarted.press(CASHIER, "Confirm")
        assert "+40 points for 40.00 GBP" in restarted.last_text(CASHIER)
        await restarted.press(CASHIER, "Confirm")  # a double tap, across the restart
        assert any("Already done" in alert for alert in restarted.alerts())
        assert (await restarted.store.get_customer(customer["id"]))["balance"] == 40
        assert await restarted.store.ledger_sum(customer["id"]) == 40


async def test_a_saved_state_that_no_longer_loads_starts_the_flow_over(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    async with BotHarness(config) as first:
        await register(first)
        await first.send(CASHIER, "/earn")
        await first.send(CASHIER, "07400 123456")
        async with first.services.engine.begin() as conn:  # as if an upgrade renamed a field
            await conn.execute(bot_state.update().values(value=b"not a pickle"))

    async with BotHarness(config, emulator=first.emulator) as restarted:
        await restarted.send(CASHIER, "25.50")
        # Outside any flow now: the usual hint, not a traceback; /earn starts again.
        assert "/earn" in restarted.last_text(CASHIER)
        await restarted.send(CASHIER, "/earn 07400 123456 25.50")
        assert "25.50 GBP → 25 points" in restarted.last_text(CASHIER)


async def test_a_step_telegram_delivers_again_after_a_restart_is_not_replayed(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    async with BotHarness(config) as first:
        await register(first)
        await first.send(CASHIER, "/earn")
        await first.send(CASHIER, "07400 123456")
        update_id = first.last_update_id
        assert "How much did they spend" in first.last_text(CASHIER)

    async with BotHarness(config, emulator=first.emulator) as restarted:
        before = len(restarted.emulator.calls)
        # Telegram hands the new process the same update again (the old one never confirmed it).
        await restarted.send(CASHIER, "07400 123456", update_id=update_id)
        assert len(restarted.emulator.calls) == before  # not read as an amount: skipped
        await restarted.send(CASHIER, "12")
        assert "12.00 GBP → 12 points" in restarted.last_text(CASHIER)
