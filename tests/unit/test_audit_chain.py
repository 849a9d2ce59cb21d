"""The hash chain of the audit log: links computed independently with hashlib, canonical JSON, verification.

The link rule under test is the one the warehouse schema documents (migration 0002):
hash = sha256(prev_hash | chain | seq | entry_type | subject_table | subject_key | sha256(payload)).
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest

from operators.audit_chain import GENESIS, AuditChain, canonical_json, canonical_key, verify_entries

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def expected_hash(prev: str, chain: str, seq: int, etype: str, table: str, key: str, payload_text: str) -> str:
    return sha(f"{prev}|{chain}|{seq}|{etype}|{table}|{key}|{sha(payload_text)}")


def three_entries() -> list[dict]:
    c = AuditChain("meters")
    rows = [
        c.append("meter_operation", "meter_operations", "M-01-A", {"gsv_15c_m3": 1250.125, "status": "closed"}, T0),
        c.append("lab_density", "lab_densities", '["TR-1"]', {"density_15c_kgm3": 835.2}, T0 + timedelta(minutes=1)),
        c.append("meter_operation", "meter_operations", "M-02-A", {"gsv_15c_m3": 1249.5, "status": "closed"}, T0),
    ]
    assert all(r is not None for r in rows)
    return [dict(r) for r in rows if r is not None]


def test_entries_link_as_documented():
    c = AuditChain("meters")
    first = c.append("meter_operation", "meter_operations", "M-01-A", {"status": "closed", "gsv_15c_m3": 1250.125}, T0)
    second = c.append("lab_density", "lab_densities", "k2", {"density_15c_kgm3": 835.2}, T0)
    assert first is not None and second is not None
    text1 = '{"gsv_15c_m3":1250.125,"status":"closed"}'
    h1 = expected_hash("0" * 64, "meters", 1, "meter_operation", "meter_operations", "M-01-A", text1)
    assert first == {"chain": "meters", "seq": 1, "ts": T0, "entry_type": "meter_operation",
                     "subject_table": "meter_operations", "subject_key": "M-01-A", "payload": text1,
                     "payload_sha256": sha(text1), "prev_hash": "0" * 64, "hash": h1}
    h2 = expected_hash(h1, "meters", 2, "lab_density", "lab_densities", "k2", '{"density_15c_kgm3":835.2}')
    assert (second["seq"], second["prev_hash"], second["hash"]) == (2, h1, h2)
    assert (c.seq, c.head) == (2, h2)


def test_same_payload_twice_appends_nothing():
    c = AuditChain("meters")
    assert c.append("t", "tab", "k", {"a": 1, "b": "x"}, T0) is not None
    head = c.head
    assert c.append("t", "tab", "k", {"b": "x", "a": 1.0}, T0 + timedelta(hours=1)) is None
    assert (c.seq, c.head) == (1, head)
    # the same payload under another subject is another record
    assert c.append("t", "tab", "k2", {"a": 1, "b": "x"}, T0) is not None


def test_changed_payload_is_a_new_entry_and_replayed_revisions_are_not():
    c = AuditChain("meters")
    rev1, rev2 = {"gsv": 10.0, "revision": 1}, {"gsv": 10.5, "revision": 2}
    assert c.append("t", "tab", "k", rev1, T0) is not None
    e2 = c.append("t", "tab", "k", rev2, T0)
    assert e2 is not None and e2["seq"] == 2
    # a replay sees revision 1 again, then revision 2: both already in the log
    assert c.append("t", "tab", "k", rev1, T0) is None
    assert c.append("t", "tab", "k", rev2, T0) is None
    assert c.seq == 2
    # for a configuration, going back to an earlier state is a change
    back = c.append("config", "", "site", rev1, T0, skip_seen=False)
    assert back is not None and back["seq"] == 3
    assert c.append("config", "", "site", rev1, T0, skip_seen=False) is None


def test_canonical_json_is_stable_across_key_order_offsets_and_number_types():
    istanbul = timezone(timedelta(hours=3))
    a = {"b": [1, 2.5], "a": {"y": datetime(2026, 3, 1, 9, 0, 0, 123999, tzinfo=istanbul), "x": None},
         "c": "Motorin ğ", "d": date(2027, 4, 30)}
    b = {"d": date(2027, 4, 30), "c": "Motorin ğ", "a": {"x": None, "y": datetime(2026, 3, 1, 6, 0, 0, 123000)},
         "b": (np.int64(1), np.float64(2.5))}
    expected = '{"a":{"x":null,"y":"2026-03-01T06:00:00.123Z"},"b":[1,2.5],"c":"Motorin ğ","d":"2027-04-30"}'
    assert canonical_json(a) == expected
    assert canonical_json(b) == expected
    # what ClickHouse returns for a Float64/UInt8 column equals what Python wrote as int/bool
    assert canonical_json({"q": 835, "f": True}) == canonical_json({"q": 835.0, "f": 1}) == '{"f":1,"q":835}'
    assert canonical_json({"x": 0.1 + 0.2}) == '{"x":0.30000000000000004}'
    assert canonical_json({"t": np.datetime64("2026-03-01T06:00:00.5", "ns")}) == '{"t":"2026-03-01T06:00:00.500Z"}'
    assert canonical_key(["TR-1", datetime(2026, 3, 1, 6, tzinfo=UTC), "open"]) == \
        '["TR-1","2026-03-01T06:00:00.000Z","open"]'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_refused_and_leave_the_chain_unchanged(bad):
    with pytest.raises(ValueError, match="non-finite"):
        canonical_json({"x": [1.0, {"y": bad}]})
    c = AuditChain("meters")
    with pytest.raises(ValueError):
        c.append("t", "tab", "k", {"gsv": bad}, T0)
    assert (c.seq, c.head, c.subjects) == (0, GENESIS, {})


def test_unrepresentable_values_and_separator_in_names_are_refused():
    with pytest.raises(TypeError):
        canonical_json({"x": object()})
    with pytest.raises(ValueError, match="contains"):
        AuditChain("meters").append("t", "tab|x", "k", {"a": 1}, T0)


def test_intact_chain_verifies():
    assert verify_entries("meters", three_entries()) is None
    assert verify_entries("meters", []) is None


def test_changed_payload_is_found():
    entries = three_entries()
    entries[1]["payload"] = '{"density_15c_kgm3":845.2}'
    b = verify_entries("meters", entries)
    assert b is not None and (b.seq, b.subject) == (2, 'lab_densities/["TR-1"]')
    assert "SHA-256" in b.reason
    # the payload's hash recomputed too: the entry's own hash no longer matches
    entries[1]["payload_sha256"] = sha(entries[1]["payload"])
    b = verify_entries("meters", entries)
    assert b is not None and b.seq == 2 and "entry hash" in b.reason


def test_removed_entry_is_found():
    entries = three_entries()
    del entries[1]
    b = verify_entries("meters", entries)
    assert b is not None and b.seq == 2 and "missing" in b.reason


def test_reordered_entries_are_found():
    entries = three_entries()
    entries[0], entries[2] = entries[2], entries[0]
    entries[0]["seq"], entries[2]["seq"] = 1, 3
    b = verify_entries("meters", entries)
    assert b is not None and b.seq == 1


def test_forged_hash_is_found_even_when_the_next_entry_follows_it():
    entries = three_entries()
    forged = sha("forged")
    entries[1]["hash"] = forged
    entries[2]["prev_hash"] = forged
    b = verify_entries("meters", entries)
    assert b is not None and b.seq == 2 and "entry hash" in b.reason


def test_entry_of_another_chain_is_found():
    entries = three_entries()
    entries[2]["chain"] = "vgm"
    b = verify_entries("meters", entries)
    assert b is not None and b.seq == 3


def test_a_chain_continued_from_the_log_equals_an_uninterrupted_one():
    whole = AuditChain("meters")
    entries = [whole.append("t", "tab", f"k{i}", {"i": i}, T0) for i in range(3)]
    restored = AuditChain("meters")
    for e in entries:
        assert e is not None
        restored.remember(e["seq"], e["hash"], f"{e['subject_table']}/{e['subject_key']}", e["payload_sha256"])
    assert restored.append("t", "tab", "k1", {"i": 1}, T0) is None  # already audited
    snapshot = copy.deepcopy(restored)
    assert restored.append("t", "tab", "k3", {"i": 3}, T0) == whole.append("t", "tab", "k3", {"i": 3}, T0)
    assert snapshot.seq == 3
