"""DBA certificates (Art. 13, 14): numbers, fee, audit chain, reprint."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from operators.audit_chain import canonical_json, sha256_hex, verify_entries
from operators.vgm_certificate import CertificateRegistry, CertificateRequest, certificate_text, control_fee
from tests.unit.vgm_fixtures import C1, C2, POLICY

V1_FIELDS = ("container_number", "max_payload_kg", "vgm_kg", "unit", "weighed_at", "instrument_no", "method",
             "operator_name", "authorization_no", "signer_name")


def request(wid: str, weighed_at: datetime, instrument: str = "WB-1", container: str = C1,
            vgm: float = 20_000.0) -> CertificateRequest:
    return CertificateRequest(container, vgm, 28_250.0, 30_480.0, weighed_at, weighed_at, instrument, "OP-1",
                              "container_alone", (wid,), vgm, 0.0, "Akdeniz")


def test_number_is_instrument_year_sequence_gapless_per_instrument():
    reg = CertificateRegistry()
    t = datetime(2026, 3, 2, 8, tzinfo=UTC)
    nos = [reg.issue(request(f"W{i}", t + timedelta(minutes=i), "WB-1" if i % 3 else "WB-2"), POLICY)[0]
           ["certificate_no"] for i in range(9)]
    wb1 = [n for n in nos if n.startswith("33-0117-")]
    wb2 = [n for n in nos if n.startswith("33-0118-")]
    assert wb1 == [f"33-0117-2026-{k:06d}" for k in range(1, 7)]
    assert wb2 == [f"33-0118-2026-{k:06d}" for k in range(1, 4)]


def test_sequence_restarts_at_the_local_new_year():
    reg = CertificateRegistry()
    last = reg.issue(request("W1", datetime(2026, 12, 31, 20, 59, tzinfo=UTC)), POLICY)
    first = reg.issue(request("W2", datetime(2026, 12, 31, 21, 0, tzinfo=UTC)), POLICY)  # 00:00 in UTC+3
    second = reg.issue(request("W3", datetime(2027, 1, 1, 9, 0, tzinfo=UTC)), POLICY)
    assert last and first and second
    assert last[0]["certificate_no"] == "33-0117-2026-000001"
    assert first[0]["certificate_no"] == "33-0117-2027-000001" and first[0]["weighed_on"] == "2027-01-01"
    assert second[0]["certificate_no"] == "33-0117-2027-000002"


def test_concurrent_weighings_get_distinct_numbers_and_a_process_only_one():
    reg = CertificateRegistry()
    t = datetime(2026, 3, 2, 8, tzinfo=UTC)
    a = reg.issue(request("WA", t, container=C1), POLICY)
    b = reg.issue(request("WB", t, container=C2), POLICY)  # same instrument, same millisecond
    assert a and b and a[0]["certificate_no"] != b[0]["certificate_no"]
    assert reg.issue(request("WA", t, container=C1), POLICY) is None  # redelivered: no second certificate


def test_a_restored_registry_continues_where_it_stopped():
    reg = CertificateRegistry()
    t = datetime(2026, 3, 2, 8, tzinfo=UTC)
    reg.issue(request("W1", t), POLICY)
    restored = copy.deepcopy(reg)  # what a Bytewax snapshot gives back after a restart
    nxt = restored.issue(request("W2", t), POLICY)
    assert nxt and nxt[0]["certificate_no"] == "33-0117-2026-000002" and nxt[1]["seq"] == 2


def test_fee_is_five_percent_of_the_ceiling_price_art13():
    assert control_fee(POLICY) == 1250.0 * 5 / 100 == 62.5
    cert, _audit = CertificateRegistry().issue(request("W1", datetime(2026, 3, 2, tzinfo=UTC)), POLICY) or ({}, {})
    assert cert["fee"] == 62.5 and cert["currency"] == "TRY"


def test_every_v1_field_present_and_the_chain_verifies_and_detects_tampering():
    reg = CertificateRegistry()
    t = datetime(2026, 3, 2, 8, tzinfo=UTC)
    issued = [reg.issue(request(f"W{i}", t + timedelta(minutes=i)), POLICY) for i in range(3)]
    certs = [i[0] for i in issued if i]
    audits = [i[1] for i in issued if i]
    for c in certs:
        for f in V1_FIELDS:
            assert c[f] not in (None, ""), f
        assert c["signer_national_id"] == "10000000146" and c["method"] == 1
    assert verify_entries("vgm", audits) is None
    # each entry's payload is the certificate row, so a changed measured value is detected
    assert all(a["payload"] == canonical_json(c) for a, c in zip(audits, certs, strict=True))
    tampered = dict(certs[1], vgm_kg=19_000.0)
    assert sha256_hex(canonical_json(tampered)) != audits[1]["payload_sha256"]
    audits[1] = dict(audits[1], payload=canonical_json(tampered))
    broken = verify_entries("vgm", audits)
    assert broken is not None and broken.seq == 2


def test_reprint_text_is_bilingual_and_carries_the_figures():
    cert, _a = CertificateRegistry().issue(request("W9", datetime(2026, 3, 2, 8, tzinfo=UTC)), POLICY) or ({}, {})
    text = certificate_text(cert)
    assert "VERIFIED GROSS MASS CERTIFICATE" in text and "DOĞRULANMIŞ" in text
    assert "33-0117-2026-000001" in text and C1 in text and "20,000 kg" in text and "62.50 TRY" in text
    assert "Ayse Demir" in text and "W9" in text
