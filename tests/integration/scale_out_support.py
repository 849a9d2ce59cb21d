"""Running ``quaywatch run`` as one or several Bytewax processes and reading back what each wrote.

chDB allows one embedded path per process, so every process writes to its own path and the rows are read
back by a separate Python process per path (the test process has its own chDB session). With a ClickHouse
server all processes write into the same tables; reading each process's rows and taking their union is
what those shared ReplacingMergeTree tables hold after a ``FINAL`` read.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Columns stamped with the wall clock at insert (``DEFAULT now64(3)``): not part of a result.
WALL_CLOCK_COLUMNS = {"recorded_at"}
#: Columns of the audit chain that depend on the order entries are appended (see test_scale_out).
CHAIN_ORDER_COLUMNS = {"seq", "prev_hash", "entry_hash"}

_CLI = "import sys; from flows.cli import main; sys.exit(main(sys.argv[1:]))"
_DUMP = """
import json, sys
from connectors.warehouse.client import connect
client = connect(sys.argv[1])
db = sys.argv[2]
tables = [r[0] for r in client.query(
    f"SELECT name FROM system.tables WHERE database = '{db}' AND engine LIKE '%MergeTree' "
    "AND name != 'schema_migrations' ORDER BY name").result_rows]
out = {}
for t in tables:
    r = client.query(f"SELECT * FROM {db}.{t}", settings={"final": 1})
    out[t] = [dict(zip(r.column_names, map(str, row), strict=True)) for row in r.result_rows]
json.dump(out, sys.stdout)
"""


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def run_cluster(flow: str, source: str, base: Path, processes: int, extra: list[str] | None = None,
                env: Mapping[str, str] | None = None, timeout: float = 300.0) -> list[str]:
    """Run ``quaywatch run FLOW`` as ``processes`` Bytewax processes (each its own chDB path); their DSNs.

    ``env`` is added to the children's environment (topic overrides); each process's stderr (its summary
    of what it wrote) is left in ``base/log-{processes}-{i}.txt``.
    """
    addresses = ";".join(f"127.0.0.1:{p}" for p in free_ports(processes)) if processes > 1 else ""
    procs, dsns = [], []
    for i in range(processes):
        dsn = f"chdb://{base / f'warehouse-{processes}-{i}'}"
        args = ["run", flow, "--source", source, "--warehouse", dsn, "--data-dir", str(base / f"data-{processes}-{i}"),
                *(extra or [])]
        if processes > 1:
            args += ["--process-id", str(i), "--addresses", addresses]
        procs.append(subprocess.Popen([sys.executable, "-c", _CLI, *args], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}))
        dsns.append(dsn)
    for i, p in enumerate(procs):
        try:
            _out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        assert p.returncode == 0, f"process {i} of {processes} failed:\n{err[-4000:]}"
        (base / f"log-{processes}-{i}.txt").write_text(err)
    return dsns


def dump(dsn: str, database: str = "quaywatch") -> dict[str, list[dict[str, str]]]:
    """Every table's rows (``FINAL``, values as text) of one embedded warehouse, read by a separate process."""
    r = subprocess.run([sys.executable, "-c", _DUMP, dsn, database], capture_output=True, text=True, timeout=120,
                       check=False)
    assert r.returncode == 0, r.stderr[-4000:]
    data: dict[str, list[dict[str, str]]] = json.loads(r.stdout)
    return data


def union(dumps: list[dict[str, list[dict[str, str]]]], drop: set[str]) -> dict[str, Counter[str]]:
    """Per table, the distinct rows of all processes (as the shared tables would hold them), ``drop`` columns out.

    Rows are compared whole and exactly (floats to the bit, as dumped): two processes writing different
    versions of one key would show as two rows.
    """
    out: dict[str, Counter[str]] = {}
    for d in dumps:
        for table, rows in d.items():
            seen = out.setdefault(table, Counter())
            for row in rows:
                key = json.dumps({k: v for k, v in row.items() if k not in drop}, sort_keys=True)
                seen[key] = 1
    return out


def differences(one: dict[str, Counter[str]], many: dict[str, Counter[str]]) -> dict[str, Any]:
    """Tables whose rows differ: rows only in the one-process run and rows only in the multi-process run."""
    diff: dict[str, Any] = {}
    for table in sorted(set(one) | set(many)):
        a, b = set(one.get(table, ())), set(many.get(table, ()))
        if a != b:
            diff[table] = {"only_one_process": sorted(a - b)[:5], "only_several": sorted(b - a)[:5],
                           "counts": (len(a), len(b))}
    return diff
