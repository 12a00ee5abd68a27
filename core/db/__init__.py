"""The SQL side of the engine: tables, migrations and the operations that change points.

The ledger table is the source of truth. A customer's balance and lifetime totals are a cache of
it, changed in the same transaction as each appended entry, so balance == sum(ledger.points).
"""
