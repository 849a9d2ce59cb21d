"""Warehouse (ClickHouse / chDB) connection, schema migrations and the batching sink."""
