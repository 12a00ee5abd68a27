"""Staff added from the bot, one-time invites, the first-admin claim and small settings.

Staff listed in the config file are merged in by the bot's role check (bot/roles.py); this table
holds the ones admins add from Telegram, so they survive restarts without editing the file.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.types import Role, StaffMember

from .statements import utc
from .tables import invites, settings, staff

INVITE_TTL = dt.timedelta(days=7)


# How old the roles held in memory may get: the delay before a change made by anything but
# this StaffStore (another process, a hand edit of the database) reaches the role checks.
ROLES_MAX_AGE = 30.0  # seconds


class StaffStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # role_of runs on every update a cashier sends (bot/roles.py): two database reads per
        # /earn. The table is a few rows, so it is read whole and kept; every change made here
        # drops it at once, and a read that raced a change is used once but not kept.
        self._roles: dict[int, Role] | None = None
        self._roles_read_at = 0.0
        self._changes = 0

    async def role_of(self, user_id: int) -> Role | None:
        return (await self._all_roles()).get(user_id)

    async def _all_roles(self) -> dict[int, Role]:
        if self._roles is not None and time.monotonic() - self._roles_read_at < ROLES_MAX_AGE:
            return self._roles
        changes, read_at = self._changes, time.monotonic()
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(staff.c.telegram_user_id, staff.c.role))).all()
        roles = {row.telegram_user_id: cast(Role, row.role) for row in rows}
        if changes == self._changes:
            self._roles, self._roles_read_at = roles, read_at
        return roles

    def _changed(self) -> None:
        """Forgets the roles held in memory; called after every write to the staff table."""
        self._changes += 1
        self._roles = None

    async def add(
        self, user_id: int, role: Role, *, by: int | None, now: dt.datetime, name: str | None = None
    ) -> None:
        """Adds or re-roles a staff member."""
        try:
            async with self.engine.begin() as conn:
                await self._add(conn, user_id, role, by=by, now=now, name=name)
        finally:
            self._changed()

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
        try:
            async with self.engine.begin() as conn:
                result = await conn.execute(
                    delete(staff).where(staff.c.telegram_user_id == user_id)
                )
        finally:
            self._changed()
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
        try:
            return await self._use_invite(code, user_id, now=now, name=name)
        finally:
            self._changed()

    async def _use_invite(
        self, code: str, user_id: int, *, now: dt.datetime, name: str | None
    ) -> Role | None:
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

    async def settings_starting(self, prefix: str) -> dict[str, Any]:
        """Every setting whose key starts with `prefix` (e.g. "language:"), by key."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(settings.c.key, settings.c.value).where(
                    settings.c.key.startswith(prefix, autoescape=True)
                )
            )
            return {key: value for key, value in rows}

    async def set_setting(self, key: str, value: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(settings).where(settings.c.key == key))
            await conn.execute(settings.insert().values(key=key, value=value))
