"""Hash-chained audit log (M4, V8): append-only entries, each linked to the one before it.

An entry records one audited row (a closed meter operation, an officer's density, a transfer document, a
configuration change, a VGM certificate) as canonical JSON. Its hash covers the previous entry's hash,
its place in the chain and the SHA-256 of the payload, so changing, removing or reordering any entry — or
the audited row itself, which :mod:`connectors.warehouse.audit` recomputes from the table — breaks the
chain from that entry on.

The chain also remembers the payload hashes of every subject, so a replay that sees the same rows again
(including the earlier revisions of a row that changed later) appends nothing: the log grows only when
something really changed.

Canonical JSON is chosen so that a row built in Python and the same row read back from ClickHouse give
the same text: times are UTC with millisecond precision (``DateTime64(3)`` truncates), numbers carry no
type (``5``, ``5.0`` and ``True`` for a UInt8 are all ``5``/``1``), tuples are lists, NumPy scalars are
plain numbers.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

GENESIS = "0" * 64
#: Floats with an integral value below this magnitude are written as integers (exact in a double).
_EXACT_INT = 2**53


def canonical_json(payload: Mapping[str, Any]) -> str:
    """Canonical JSON of an audited row: sorted keys, no spaces, UTC ``...Z`` times, exact float repr.

    Raises:
        ValueError: For a non-finite float (an audited figure must be a number).
        TypeError: For a value JSON cannot represent.
    """
    return json.dumps(_canon(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def canonical_key(values: Sequence[Any]) -> str:
    """Canonical JSON array of a composite key's values (same rules as :func:`canonical_json`)."""
    return json.dumps(_canon(list(values)), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _canon(v: Any) -> Any:
    if isinstance(v, np.datetime64):
        v = v.astype("datetime64[ms]").item()
    elif isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, datetime):
        v = v if v.tzinfo else v.replace(tzinfo=UTC)
        u = v.astimezone(UTC)
        return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Mapping):
        return {str(k): _canon(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list | tuple):
        return [_canon(x) for x in v]
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError("non-finite number in an audited payload")
        return int(v) if v.is_integer() and abs(v) < _EXACT_INT else float(v)
    if v is None or isinstance(v, str | int):
        return v
    raise TypeError(f"cannot audit a {type(v).__name__}")


def sha256_hex(text: str) -> str:
    """SHA-256 of UTF-8 text, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, chain: str, seq: int, entry_type: str, subject_table: str, subject_key: str,
              payload_sha256: str) -> str:
    """Hash of one entry, binding it to its predecessor and its place in the chain.

    The parts are joined with ``|``; only ``subject_key`` may contain one (it is the last free-text part
    before the fixed-length payload hash), so the joined text is unambiguous.

    Raises:
        ValueError: When ``chain``, ``entry_type`` or ``subject_table`` contains ``|``.
    """
    for name, value in (("chain", chain), ("entry_type", entry_type), ("subject_table", subject_table)):
        if "|" in value:
            raise ValueError(f"{name} {value!r} contains '|'")
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
        seen: Every payload hash each subject ever had, as ``subject_table/subject_key`` → hashes.
    """

    chain: str
    seq: int = 0
    head: str = GENESIS
    subjects: dict[str, str] = field(default_factory=dict)
    seen: dict[str, set[str]] = field(default_factory=dict)

    def append(self, entry_type: str, subject_table: str, subject_key: str, payload: Mapping[str, Any],
               ts: datetime, *, skip_seen: bool = True) -> dict[str, Any] | None:
        """Append an entry unless the subject already had this payload.

        Args:
            entry_type: What happened (``operation_closed``, ``lab_density``, ``config`` ...).
            subject_table: Table holding the audited row (empty for records kept only in the log).
            subject_key: Key of the row in that table.
            payload: The audited row.
            ts: Event time of the entry.
            skip_seen: ``True`` (rows of a replayable stream): nothing is appended when the subject had
                this payload at any earlier entry, so replaying a row's earlier revisions appends nothing.
                ``False`` (records such as the configuration, where going back to an earlier state is a
                change): nothing is appended only when the subject's last entry has this payload.

        Returns:
            The ``audit_log`` row, or ``None`` when nothing changed.

        Raises:
            ValueError: For a non-finite number in the payload, or ``|`` in the chain, type or table name.
            TypeError: For a payload value JSON cannot represent.
        """
        text = canonical_json(payload)
        digest = sha256_hex(text)
        subject = f"{subject_table}/{subject_key}"
        if self.subjects.get(subject) == digest or (skip_seen and digest in self.seen.get(subject, ())):
            return None
        seq = self.seq + 1
        h = link_hash(self.head, self.chain, seq, entry_type, subject_table, subject_key, digest)
        row = {
            "chain": self.chain, "seq": seq, "ts": ts, "entry_type": entry_type, "subject_table": subject_table,
            "subject_key": subject_key, "payload": text, "payload_sha256": digest, "prev_hash": self.head,
            "hash": h,
        }
        self.remember(seq, h, subject, digest)
        return row

    def remember(self, seq: int, h: str, subject: str, digest: str) -> None:
        """Take an existing entry as the chain's new head (loading a chain from the log, or appending)."""
        self.seq, self.head = seq, h
        self.subjects[subject] = digest
        self.seen.setdefault(subject, set()).add(digest)


@dataclass(frozen=True)
class Break:
    """The first place a chain does not verify.

    Attributes:
        chain: Chain name.
        seq: Sequence number of the entry that does not verify.
        reason: What is wrong.
        subject: ``subject_table/subject_key`` of that entry, when known.
    """

    chain: str
    seq: int
    reason: str
    subject: str = ""


def verify_entries(chain: str, entries: Sequence[Mapping[str, Any]]) -> Break | None:
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
        subject = f"{e['subject_table']}/{e['subject_key']}"
        if e.get("chain", chain) != chain:
            return Break(chain, seq, f"entry of chain {e['chain']!r} among the entries of {chain!r}", subject)
        if seq != expected_seq:
            return Break(chain, expected_seq, f"entry {expected_seq} is missing (next is {seq})")
        if e["prev_hash"] != prev:
            return Break(chain, seq, "prev_hash does not match the hash of the entry before it", subject)
        if sha256_hex(str(e["payload"])) != e["payload_sha256"]:
            return Break(chain, seq, "payload does not match its recorded SHA-256", subject)
        try:
            h = link_hash(prev, chain, seq, str(e["entry_type"]), str(e["subject_table"]), str(e["subject_key"]),
                          str(e["payload_sha256"]))
        except ValueError as exc:
            return Break(chain, seq, f"malformed entry: {exc}", subject)
        if h != e["hash"]:
            return Break(chain, seq, "entry hash does not match its contents", subject)
        prev = h
    return None
