"""The audit records the bot writes outside the ledger (Store.record_audit), through the real
Application: staff added or removed, invites made and used, the first admin's claim, a contacts
export, and the config loaded at start. How /audit shows them: test_audit.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.config import StaffConfig, describe, load_config
from core.types import AuditRecord
from tests.support.harness import ADMIN, CASHIER, STRANGER, BotHarness, make_config

pytestmark = pytest.mark.asyncio

NEWCOMER = 5005
NOW = dt.datetime(2030, 8, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_config(tmp_path)) as harness:
        harness.services.clock = lambda: NOW
        yield harness


async def records(bot: BotHarness, action: str | None = None) -> list[AuditRecord]:
    """The records, oldest first (the start-up's config_load left out unless asked for)."""
    trail = reversed(await bot.store.audit_log(limit=1000))
    if action is None:
        return [r for r in trail if r["action"] != "config_load"]
    return [r for r in trail if r["action"] == action]


async def test_staff_changes_are_recorded_with_ids_and_roles_only(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff add {NEWCOMER} admin")
    await bot.send(ADMIN, f"/staff add {NEWCOMER} cashier")
    await bot.send(ADMIN, f"/staff remove {NEWCOMER}")
    await bot.send(ADMIN, "/staff invite admin")
    code = re.search(r"start=(\S+)", bot.last_text(ADMIN))
    assert code is not None
    await bot.send(STRANGER, f"/start {code[1]}")

    trail = await records(bot)

    assert [(r["action"], r["actor_id"], r["details"]) for r in trail] == [
        ("staff_add", ADMIN, {"user_id": NEWCOMER, "role": "admin"}),
        ("staff_add", ADMIN, {"user_id": NEWCOMER, "role": "cashier"}),
        ("staff_remove", ADMIN, {"user_id": NEWCOMER, "role": "cashier"}),
        ("staff_invite", ADMIN, {"role": "admin"}),
        ("invite_use", STRANGER, {"role": "admin"}),
    ]
    assert all(r["at"] == NOW and r["customer_id"] is None for r in trail)
    assert code[1] not in str(trail)  # an invite's code is a credential until used
    assert await bot.staff.role_of(STRANGER) == "admin"


async def test_staff_changes_that_are_refused_record_nothing(bot: BotHarness) -> None:
    await bot.send(ADMIN, f"/staff remove {NEWCOMER}")  # not staff
    await bot.send(ADMIN, f"/staff add {CASHIER}")  # already a cashier
    await bot.send(ADMIN, "/staff add 0")  # not an id
    await bot.send(STRANGER, "/start invNOTACODE")  # no such invite
    await bot.send(CASHIER, f"/staff add {NEWCOMER}")  # not an admin

    assert await records(bot) == []


async def test_the_first_admin_claim_is_recorded_without_its_code(tmp_path: Path) -> None:
    config = dataclasses.replace(make_config(tmp_path), staff=StaffConfig())
    async with BotHarness(config) as bot:
        code = bot.announcements[0].rsplit(" ", 1)[-1]
        await bot.send(CASHIER, "/claim wrong")
        await bot.send(STRANGER, f"/claim {code}")

        (record,) = await records(bot)
        trail = await bot.store.audit_log()

    assert (record["action"], record["actor_id"]) == ("staff_add", STRANGER)
    assert record["details"] == {"user_id": STRANGER, "role": "admin", "via": "claim"}
    assert code not in str(trail)


async def test_a_contacts_export_is_recorded_and_other_exports_are_not(bot: BotHarness) -> None:
    for name, phone in (("Ann", "+447400123456"), ("Bob", "+447400654321")):
        await bot.store.register(
            {"name": name, "phone": phone, "email": f"{name.lower()}@example.org"},
            actor_id=CASHIER,
            now=NOW - dt.timedelta(days=1),
        )
    await bot.send(ADMIN, "/report 7d")
    await bot.press(ADMIN, "CSV")
    for export in ("Customers with totals", "Ledger", "Redemption history"):
        await bot.press(ADMIN, export)
    assert await records(bot, "contacts_export") == []

    await bot.press(ADMIN, "Customers + contacts")

    (record,) = await records(bot, "contacts_export")
    assert (record["actor_id"], record["at"]) == (ADMIN, NOW)
    assert record["details"] == {"period": "7d", "rows": 2, "via": "bot"}
    assert "7400" not in str(record) and "@" not in str(record)


async def test_start_up_records_the_hash_of_the_built_in_defaults(bot: BotHarness) -> None:
    (record,) = await records(bot, "config_load")

    assert record["actor_id"] is None
    expected = hashlib.sha256(describe(bot.config).encode()).hexdigest()
    assert record["details"] == {"sha256": expected, "source": "built-in defaults"}


async def test_start_up_records_the_hash_of_the_config_file_it_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[telegram]\ntoken = "123456:SECRET-abcdefghijklmnopqrstuvwxyz"\n'
        '[program]\ncurrency = "EUR"\n',
        encoding="utf-8",
    )
    loaded = load_config(path, environ={})
    config = dataclasses.replace(make_config(tmp_path), program=loaded.program, path=loaded.path)

    async with BotHarness(config) as bot:
        (record,) = await records(bot, "config_load")

    assert record["details"] == {
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "path": str(path),
    }
    assert "SECRET" not in str(record)


async def test_each_start_adds_a_record_and_only_a_changed_file_changes_the_hash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    for bonus in (5, 5, 10):
        path.write_text(f"[program]\nsignup_bonus = {bonus}\n", encoding="utf-8")
        config = dataclasses.replace(make_config(tmp_path), path=path)
        async with BotHarness(config) as bot:
            hashes = [str(r["details"]["sha256"]) for r in await records(bot, "config_load")]

    first, same, changed = hashes
    assert first == same != changed


async def test_a_config_file_gone_since_it_was_read_is_said_and_the_running_one_hashed(
    tmp_path: Path,
) -> None:
    config = dataclasses.replace(make_config(tmp_path), path=tmp_path / "moved.toml")

    async with BotHarness(config) as bot:
        (record,) = await records(bot, "config_load")

    expected = hashlib.sha256(describe(config).encode()).hexdigest()
    assert record["details"] == {"sha256": expected, "source": "file unreadable at start"}
