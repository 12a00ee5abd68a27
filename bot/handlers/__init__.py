"""One module per conversation or command group; bot/app.py registers them all.

A handler module imports from bot's shared helpers (bot/flows.py, bot/confirm.py, bot/roles.py,
bot/format.py, ...) and from core, never from bot/app.py or from another handler
(the import contract in pyproject.toml checks this).
"""
