"""Versioned SQL migrations: ``migrations/NNNN_name.sql``, applied in order, recorded with a checksum.

The SQL files are the single definition of the warehouse schema; ``infra/`` applies the same files with
``quaywatch migrate``. An applied migration whose file has changed since is refused (schema drift), so a
deployed schema can always be traced to a file in git.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from connectors.warehouse.client import WarehouseError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file text."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def statements(self, database: str) -> list[str]:
        """The file's statements with ``{database}`` substituted, comments removed."""
        text = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        return [s.strip().replace("{database}", database) for s in text.split(";") if s.strip()]


def available() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    folder = resources.files("connectors.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if len(set(versions)) != len(versions):
        raise WarehouseError(f"duplicate migration versions: {versions}")
    return found


def migrate(client: Any, database: str) -> list[Migration]:
    """Create the database and apply every migration not yet applied.

    Args:
        client: A clickhouse-connect client.
        database: Database name.

    Returns:
        The migrations applied by this call.

    Raises:
        WarehouseError: When an applied migration's file changed, or a statement fails.
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
        raise WarehouseError(f"invalid database name {database!r}")
    client.command(f"CREATE DATABASE IF NOT EXISTS {database}")
    client.command(
        f"CREATE TABLE IF NOT EXISTS {database}.schema_migrations "
        "(version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree ORDER BY version"
    )
    rows = client.query(f"SELECT version, checksum FROM {database}.schema_migrations FINAL").result_rows
    applied = {int(v): str(c) for v, c in rows}
    done = []
    for mig in available():
        if mig.version in applied:
            if applied[mig.version] != mig.checksum:
                raise WarehouseError(
                    f"migration {mig.version:04d}_{mig.name} was applied with another checksum: the schema "
                    "file changed after deployment; add a new migration instead of editing an applied one"
                )
            continue
        for stmt in mig.statements(database):
            try:
                client.command(stmt)
            except Exception as exc:
                raise WarehouseError(f"migration {mig.version:04d}_{mig.name} failed: {exc}") from exc
        client.insert(f"{database}.schema_migrations", [(mig.version, mig.name, mig.checksum)],
                      column_names=["version", "name", "checksum"])
        done.append(mig)
    return done
