"""The secret that signs QR card tokens (core/card_tokens.py): made once per database.

Kept in the `settings` table, so every process on the database (a restart, a second bot during
a hand-over) verifies the tokens the others signed, and a backup restores it with the cards.
Never logged. Whoever can read the database can forge a card code; they can read the cards
themselves anyway.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import settings

CARD_SECRET_KEY = "card_token_secret"


async def card_secret(engine: AsyncEngine) -> bytes:
    """The database's card-signing secret, made on first use.

    Two processes making it at once both try to insert; the primary key keeps the first, and
    both then use what is stored, so no token is ever signed with a secret that was dropped.
    """
    query = select(settings.c.value).where(settings.c.key == CARD_SECRET_KEY)
    async with engine.connect() as conn:
        stored = (await conn.execute(query)).scalar_one_or_none()
    if stored is None:
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    settings.insert().values(key=CARD_SECRET_KEY, value=secrets.token_hex(32))
                )
        except IntegrityError:
            pass  # another process made it first: use theirs
        async with engine.connect() as conn:
            stored = (await conn.execute(query)).scalar_one()
    return bytes.fromhex(str(stored))
