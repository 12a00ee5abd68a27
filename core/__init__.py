"""The loyalty engine: pure rules over plain dicts (rules.py, contact.py, cards.py, lookup.py),
config loading (config.py) and the SQL ledger that is the source of truth (db/).

Nothing here imports telegram: bot/ calls into core/, never the other way round.
"""
