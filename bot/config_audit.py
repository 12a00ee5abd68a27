"""Which config the bot started with: an audit record at every start (bot/app.py post_init).

The record ("config_load") holds the sha256 of the config file's bytes and its path, or, with
no file, of the built-in defaults' description (core.config.describe, which never shows the
token), so "was the program changed between Monday and Tuesday?" is answered by comparing two
hashes. The bytes themselves are never recorded: the file may hold the bot token.
"""

from __future__ import annotations

import hashlib

from core.config import describe

from .services import Services


async def record_config_load(svc: Services) -> None:
    """Records the running config's hash in the audit trail (no actor: the bot itself)."""
    config = svc.config
    details: dict[str, object]
    try:
        raw = None if config.path is None else config.path.read_bytes()
    except OSError:  # moved or unreadable since it was loaded: say so, hash what is running
        raw = None
    if raw is not None:
        details = {"sha256": hashlib.sha256(raw).hexdigest(), "path": str(config.path)}
    else:
        summary = describe(config).encode()
        source = "built-in defaults" if config.path is None else "file unreadable at start"
        details = {"sha256": hashlib.sha256(summary).hexdigest(), "source": source}
    await svc.store.record_audit("config_load", actor_id=None, now=svc.clock(), details=details)
