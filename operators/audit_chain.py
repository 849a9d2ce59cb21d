"""Hash-chained audit log (M4, V8): append-only entries, each linked to the one before it.

An entry records one audited row (a closed meter operation, an officer's density, a transfer document, a
configuration change, a VGM certificate) as canonical JSON. Its hash covers the previous entry's hash,
its place in the chain and the SHA-256 of the payload, so changing, removing or reordering any entry — or
the audited row itself, which :mod:`connectors.warehouse.audit` recomputes from the table — breaks the
chain from that entry on.

The chain also remembers the last payload hash per subject, so a replay that sees the same row again
appends nothing: the log grows only when something really changed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

GENESIS = "0" * 64


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Canonical JSON of an audited row: sorted keys, no spaces, UTC ``...Z`` times, exact float repr.

    Raises:
        ValueError: For a non-finite float (an audited figure must be a number).
        TypeError: For a value JSON cannot represent.
    """
    return json.dumps(_canon(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _canon(v: Any) -> Any:
    if isinstance(v, datetime):
        v = v if v.tzinfo else v.replace(tzinfo=UTC)
        u = v.astimezone(UTC)
        return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Mapping):
        return {str(k): _canon(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_canon(x) for x in v]
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("non-finite number in an audited payload")
        return v
    if v is None or isinstance(v, str | int | bool):
        return v
    raise TypeError(f"cannot audit a {type(v).__name__}")


def sha256_hex(text: str) -> str:
    """SHA-256 of UTF-8 text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, chain: str, seq: int, entry_type: str, subject_table: str, subject_key: str,
              payload_sha256: str) -> str:
    """Hash of one entry, binding it to its predecessor and its place in the chain."""
    parts = (prev_hash, chain, str(seq), entry_type, subject_table, subject_key, payload_sha256)
    return sha256_hex("|".join(parts))


@dataclass
class AuditChain:
    """The head of one chain; the only writer of that chain appends through it.

    Attributes:
        chain: Chain name (one per writer: ``meters``, ``config``, ``vgm`` ...).
        seq: Sequence number of the last entry (0 = empty chain).
        head: Hash of the last entry (:data:`GENESIS` for an empty chain).
        subjects: Last payload hash per ``subject_table/subject_key``.
    """

    chain: str
    seq: int = 0
    head: str = GENESIS
    subjects: dict[str, str] = field(default_factory=dict)

    def append(self, entry_type: str, subject_table: str, subject_key: str, payload: Mapping[str, Any],
               ts: datetime) -> dict[str, Any] | None:
        """Append an entry unless the subject's last entry has the same payload.

        Args:
            entry_type: What happened (``operation_closed``, ``lab_density``, ``config`` ...).
            subject_table: Table holding the audited row (empty for records kept only in the log).
            subject_key: Key of the row in that table.
            payload: The audited row.
            ts: Event time of the entry.

        Returns:
            The ``audit_log`` row, or ``None`` when nothing changed.
        """
        text = canonical_json(payload)
        digest = sha256_hex(text)
        subject = f"{subject_table}/{subject_key}"
        if self.subjects.get(subject) == digest:
            return None
        seq = self.seq + 1
        h = link_hash(self.head, self.chain, seq, entry_type, subject_table, subject_key, digest)
        row = {
            "chain": self.chain, "seq": seq, "ts": ts, "entry_type": entry_type, "subject_table": subject_table,
            "subject_key": subject_key, "payload": text, "payload_sha256": digest, "prev_hash": self.head,
            "hash": h,
        }
        self.seq, self.head = seq, h
        self.subjects[subject] = digest
        return row


@dataclass(frozen=True)
class Break:
    """The first place a chain does not verify."""

    chain: str
    seq: int
    reason: str


def verify_entries(chain: str, entries: list[Mapping[str, Any]]) -> Break | None:
    """Check the links of a chain's entries, in ``seq`` order.

    Args:
        chain: Chain name.
        entries: ``audit_log`` rows of that chain sorted by ``seq``.

    Returns:
        The first broken link, or ``None`` when the chain is intact.
    """
    prev = GENESIS
    for expected_seq, e in enumerate(entries, start=1):
        seq = int(e["seq"])
        if seq != expected_seq:
            return Break(chain, expected_seq, f"entry {expected_seq} is missing (next is {seq})")
        if e["prev_hash"] != prev:
            return Break(chain, seq, "prev_hash does not match the hash of the entry before it")
        if sha256_hex(str(e["payload"])) != e["payload_sha256"]:
            return Break(chain, seq, "payload does not match its recorded SHA-256")
        h = link_hash(prev, chain, seq, str(e["entry_type"]), str(e["subject_table"]), str(e["subject_key"]),
                      str(e["payload_sha256"]))
        if h != e["hash"]:
            return Break(chain, seq, "entry hash does not match its contents")
        prev = h
    return None
