"""Staff added from the bot, one-time invites, the first-admin claim and small settings.

Staff listed in the config file are merged in by the bot's role check (bot/roles.py); this table
holds the ones admins add from Telegram, so they survive restarts without editing the file.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.types import Role, StaffMember

from .store import utc
from .tables import invites, settings, staff

INVITE_TTL = dt.timedelta(days=7)


class StaffStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def role_of(self, user_id: int) -> Role | None:
        async with self.engine.connect() as conn:
            role = (
                await conn.execute(select(staff.c.role).where(staff.c.telegram_user_id == user_id))
            ).scalar_one_or_none()
        return cast(Role | None, role)

    async def add(
        self, user_id: int, role: Role, *, by: int | None, now: dt.datetime, name: str | None = None
    ) -> None:
        """Adds or re-roles a staff member."""
        async with self.engine.begin() as conn:
            await self._add(conn, user_id, role, by=by, now=now, name=name)

    @staticmethod
    async def _add(
        conn: AsyncConnection,
        user_id: int,
        role: Role,
        *,
        by: int | None,
        now: dt.datetime,
        name: str | None,
    ) -> None:
        existing = (
            await conn.execute(select(staff.c.role).where(staff.c.telegram_user_id == user_id))
        ).first()
        if existing is None:
            await conn.execute(
                staff.insert().values(
                    telegram_user_id=user_id, role=role, name=name, added_by=by, added_at=utc(now)
                )
            )
        else:
            values: dict[str, Any] = {"role": role}
            if name:
                values["name"] = name
            await conn.execute(
                update(staff).where(staff.c.telegram_user_id == user_id).values(**values)
            )

    async def remove(self, user_id: int) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(staff).where(staff.c.telegram_user_id == user_id))
        return bool(result.rowcount)

    async def members(self) -> list[StaffMember]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(select(staff).order_by(staff.c.role, staff.c.added_at))
            ).all()
        return [
            {
                "telegram_user_id": r.telegram_user_id,
                "role": r.role,
                "name": r.name,
                "source": "database",
            }
            for r in rows
        ]

    async def admin_count(self) -> int:
        return sum(1 for m in await self.members() if m["role"] == "admin")

    # --- one-time invite links ---------------------------------------------------------------

    async def create_invite(self, role: Role, *, by: int, now: dt.datetime) -> str:
        """A one-time code for a t.me/<bot>?start=<code> link; valid for INVITE_TTL."""
        code = "inv" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
        async with self.engine.begin() as conn:
            await conn.execute(
                invites.insert().values(code=code, role=role, created_by=by, created_at=utc(now))
            )
        return code

    async def use_invite(
        self, code: str, user_id: int, *, now: dt.datetime, name: str | None
    ) -> Role | None:
        """Consumes the invite (once, atomically) and makes `user_id` staff; None if not valid."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(select(invites).where(invites.c.code == code))).first()
            if row is None:
                return None
            if utc(now) - utc(row.created_at) > INVITE_TTL:
                return None
            claimed = await conn.execute(
                update(invites)
                .where(invites.c.code == code)
                .where(invites.c.used_by.is_(None))
                .values(used_by=user_id, used_at=utc(now))
            )
            if claimed.rowcount != 1:
                return None
            role = cast(Role, row.role)
            await self._add(conn, user_id, role, by=row.created_by, now=now, name=name)
        return role

    # --- settings (small JSON values: digest schedule, etc.) ---------------------------------

    async def get_setting(self, key: str) -> Any:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(select(settings.c.value).where(settings.c.key == key))
            ).scalar_one_or_none()

    async def set_setting(self, key: str, value: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(settings).where(settings.c.key == key))
            await conn.execute(settings.insert().values(key=key, value=value))
