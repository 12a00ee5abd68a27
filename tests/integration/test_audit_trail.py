"""core/reports/audit.py on a real SQLite file: every kind of record as a line people read and
as a CSV row, with card numbers and staff names looked up, and nothing personal in either."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.cards import format_card
from core.db.staff import StaffStore
from core.db.store import Store
from core.reports.audit import CSV_COLUMNS, AuditFilter, audit_csv, read_trail, text_lines

from .books import CASHIER, new_customer

MANAGER = 7002
LONDON = ZoneInfo("Europe/London")


async def test_every_record_reads_as_one_line_with_what_matters(
    store: Store, now: dt.datetime
) -> None:
    staff = StaffStore(store.engine)
    await staff.add(MANAGER, "admin", by=None, now=now, name="Mo <the manager>")
    ann = (await store.register(new_customer(), actor_id=CASHIER, now=now))["customer"]
    card = format_card(ann["card_number"])
    earned = await store.earn(ann["id"], Decimal("150.00"), actor_id=CASHIER, now=now)
    redeemed = await store.redeem(ann["id"], "coffee", actor_id=CASHIER, now=now)
    refund = await store.refund(
        earned["entry_id"], Decimal("120.00"), actor_id=MANAGER, now=now, key=None
    )
    void = await store.void(
        redeemed["entry_id"], actor_id=MANAGER, now=now, key=None, reason="wrong reward"
    )
    taken = await store.adjust(ann["id"], -200, "double scan", actor_id=MANAGER, now=now, key=None)
    paid = await store.adjust(ann["id"], +30, "birthday", actor_id=MANAGER, now=now, key=None)
    later = await store.earn(ann["id"], Decimal("10.00"), actor_id=CASHIER, now=now)
    for action, details in (
        ("staff_add", {"user_id": CASHIER, "role": "cashier"}),
        ("staff_remove", {"user_id": MANAGER, "role": "admin"}),
        ("staff_invite", {"role": "admin"}),
        ("invite_use", {"role": "admin"}),
        ("contacts_export", {"period": "all", "via": "cli", "os_user": "shop"}),
        ("config_load", {"sha256": "ab" * 32, "path": "/etc/loyalty/config.toml"}),
        ("from_the_future", {"b": 2, "a": "x"}),
    ):
        await store.record_audit(action, actor_id=MANAGER, now=now, details=details)  # type: ignore[arg-type]

    lines, more = await read_trail(store, AuditFilter("all"), limit=100, tz=LONDON)

    assert not more
    manager = "Mo <the manager> (7002)"
    stamp = "2026-03-14 10:30"  # London is on GMT in March
    assert text_lines(reversed(lines), html=False) == [
        f"{stamp} · {CASHIER} · Registered · card {card}",
        f"{stamp} · {CASHIER} · Purchase · card {card} · #{earned['entry_id']} · +150 points for "
        "150.00 GBP",
        f"{stamp} · {CASHIER} · Reward · card {card} · #{redeemed['entry_id']} · -100 points for "
        "Free coffee",
        f"{stamp} · {manager} · Refund · card {card} · #{refund['entry_id']} · reverses "
        f"#{earned['entry_id']}, 120.00 GBP back, -120 points (-50 points on the card, 70 "
        "points owed)",
        f"{stamp} · {manager} · Void · card {card} · #{void['entry_id']} · reverses "
        f"#{redeemed['entry_id']}, +100 points (70 of them paid points owed), reason: wrong reward",
        f"{stamp} · {manager} · Adjustment · card {card} · #{taken['entry_id']} · -200 points "
        "(-30 points on the card, 170 points owed): double scan",
        f"{stamp} · {manager} · Adjustment · card {card} · #{paid['entry_id']} · +30 points "
        "(30 of them paid points owed): birthday",
        f"{stamp} · {CASHIER} · Purchase · card {card} · #{later['entry_id']} · +10 points for "
        "10.00 GBP, 10 of them paid points owed",
        f"{stamp} · {manager} · Staff added · {CASHIER} as cashier",
        f"{stamp} · {manager} · Staff removed · {manager}, was admin",
        f"{stamp} · {manager} · Invite made · a one-time link for a new admin",
        f"{stamp} · {manager} · Invite used · joined as admin",
        f"{stamp} · {manager} · Contacts exported · period all, on the server by shop",
        f"{stamp} · {manager} · Config loaded · sha256 {'ab' * 32}, /etc/loyalty/config.toml",
        f"{stamp} · {manager} · from_the_future · a x, b 2",
    ]
    html = text_lines(lines, html=True)
    assert "Mo &lt;the manager&gt; (7002) · <b>Config loaded</b>" in html[1]

    rows = list(csv.DictReader(io.StringIO(audit_csv(lines).decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["action"] for r in rows][:3] == ["from_the_future", "config_load", "contacts_export"]
    assert rows[-1] == {
        "record": str(lines[-1].record_id),
        "time": "2026-03-14 10:30:00",
        "actor_id": str(CASHIER),
        "actor": str(CASHIER),
        "action": "register",
        "card": card,
        "entry": "",
        "details": "",
    }
    content = audit_csv(lines).decode("utf-8-sig")
    assert (
        ann["phone"] is not None
        and ann["phone"] not in content
        and "7400" not in content
        and "@" not in content
    )


async def test_filters_and_the_limit_say_when_there_were_more(
    store: Store, now: dt.datetime
) -> None:
    ann = (await store.register(new_customer(), actor_id=CASHIER, now=now))["customer"]
    bob = (
        await store.register(
            new_customer(name="Bob", phone="+447400654321"), actor_id=MANAGER, now=now
        )
    )["customer"]
    for hours in range(1, 4):
        later = now + dt.timedelta(hours=hours)
        await store.earn(ann["id"], Decimal(10), actor_id=CASHIER, now=later)

    by_ann, more = await read_trail(
        store, AuditFilter("Ann", customer_id=ann["id"]), limit=2, tz=LONDON
    )
    assert more and [line.action for line in by_ann] == ["earn", "earn"]
    assert by_ann[0].at == (now + dt.timedelta(hours=3)).astimezone(LONDON)
    by_manager, more = await read_trail(
        store, AuditFilter("Mo", actor_id=MANAGER), limit=10, tz=LONDON
    )
    assert not more and [(line.action, line.card) for line in by_manager] == [
        ("register", format_card(bob["card_number"]))
    ]
    window = AuditFilter(
        "2 hours",
        since=now + dt.timedelta(hours=1),
        until=now + dt.timedelta(hours=3),
    )
    in_window, _ = await read_trail(store, window, limit=10, tz=LONDON)
    assert [line.at.hour for line in in_window] == [12, 11]
    assert AuditFilter("x").narrowed is False and window.narrowed is True
