"""Database URLs: where a SQLite file is, pinning a relative one, and hiding passwords."""

from __future__ import annotations

import os
import re
from pathlib import Path

# user:password@ in a URL; the password must never reach logs or check-config output.
_URL_PASSWORD = re.compile(r"(?P<head>://[^/@:]*:)[^/@]*(?P<tail>@)")


def _split_sqlite(url: str) -> tuple[str, str, str] | None:
    """(scheme://, database, ?query) for a SQLite URL; None for any other database."""
    scheme, sep, rest = url.partition("://")
    if not sep or not (scheme == "sqlite" or scheme.startswith("sqlite+")):
        return None
    # sqlite:///relative.db -> "/relative.db"; sqlite:////abs.db -> "//abs.db"; sqlite:// -> "".
    database, qmark, query = rest.partition("?")
    return scheme + sep, database.removeprefix("/"), qmark + query


def sqlite_path(url: str) -> Path | None:
    """The database file a SQLite URL points at, or None (in-memory, URI mode, not SQLite)."""
    parts = _split_sqlite(url)
    if parts is None:
        return None
    _, database, query = parts
    if database in ("", ":memory:") or "uri=true" in query.lower():
        return None
    return Path(database)


def absolute_sqlite_url(url: str, base_dir: Path) -> str:
    """Pin a relative SQLite path to base_dir, so the bot finds its data from any working dir."""
    parts = _split_sqlite(url)
    path = sqlite_path(url)
    if parts is None or path is None:
        return url
    path = path.expanduser()
    if path.is_absolute():
        return url
    # normpath, not resolve(): keep symlinked folders as the operator wrote them.
    absolute = Path(os.path.normpath(base_dir.absolute() / path))
    scheme, _, query = parts
    return f"{scheme}/{absolute}{query}"


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    return _URL_PASSWORD.sub(r"\g<head>***\g<tail>", url)
