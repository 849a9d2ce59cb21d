"""Compare every table of two warehouses, for any flow's crash, duplicate and order tests (running a flow over
Kafka to the end, or SIGKILLing it at random points until drained, is in ``faults_support``).

Flow-specific parts (input, expected sizes) stay in each flow's test file.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.integration.faults_support import ROOT, child_env

#: Columns derived from where a record sat in Kafka (hashes over its position): they differ between runs over
#: other topics, partitions or offsets, whatever the flow computed.
POSITION_DERIVED = ("source_position", "dead_letter_id", "request_id", "hash", "prev_hash", "payload")

_TABLES = r"""
import json, sys
from pathlib import Path
from connectors.warehouse.client import connect, resolve_dsn
c = connect(resolve_dsn("", Path(sys.argv[1])))
db, skip, prefix = sys.argv[2], set(sys.argv[3].split(",")) if sys.argv[3] else set(), sys.argv[4]
ignore = set(sys.argv[5].split(","))
F = {"final": 1}
tables = [r[0] for r in c.query(f"SELECT name FROM system.tables WHERE database = '{db}' "
                                "AND engine LIKE '%MergeTree%' ORDER BY name").result_rows]
out = {}
for t in tables:
    # columns the warehouse fills at insert time (recorded_at ... DEFAULT now64) differ between any two runs
    cols = [r[0] for r in c.query(f"SELECT name FROM system.columns WHERE database = '{db}' AND table = '{t}' "
                                  "AND default_expression NOT ILIKE '%now%' ORDER BY position").result_rows
            if r[0] not in ignore]
    where = " WHERE chain != 'config'" if t == "audit_log" else ""  # the config entry holds its wall-clock time
    # source positions name the run's own topics (tests share a broker): compared without the topic prefix
    norm = [f"replaceRegexpAll(toString(`{x}`), '{prefix}', '')" for x in cols]
    content = "" if t in skip else f", sum(cityHash64(tuple({', '.join(norm)})))"
    out[t] = [str(v) for v in c.query(f"SELECT count(){content} FROM {db}.{t}{where}", settings=F).result_rows[0]]
print(json.dumps(out))
"""


def table_digests(data_dir: Path, skip_content: Iterable[str] = (), database: str = "quaywatch",
                  topic_prefix: str = r"faults_[a-z]+_[0-9a-f]{8}\\.[a-z._]+(/[0-9]+@[0-9]+)?") -> dict[str, Any]:
    """Per table of the embedded warehouse in ``data_dir``: row count and a digest of every row (FINAL), read in a
    child process. Tables in ``skip_content`` are compared by count only; ``topic_prefix`` (a regular expression:
    Kafka source positions ``topic/partition@offset`` of the tests' topics) is removed from every value first, so
    runs over other topics, partitions or offsets compare equal."""
    res = subprocess.run([sys.executable, "-c", _TABLES, str(data_dir), database, ",".join(skip_content),
                          topic_prefix, ",".join(POSITION_DERIVED)],
                         env=child_env({}), cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    import json

    digests: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return digests
