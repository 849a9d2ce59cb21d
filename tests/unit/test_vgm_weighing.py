"""Method 1 at the weighbridge (Art. 20, 22): pairs, recorded tares, the container alone, rejections."""

from __future__ import annotations

from operators.vgm_weighing import VehicleWeighbridge
from tests.unit.vgm_fixtures import C1, C2, POLICY, at, weighing


def test_in_out_pair_gives_loaded_minus_empty_art22_5a():
    v = VehicleWeighbridge("33 TR 1")
    first = v.on_weighing(weighing("W1", 0, 36_420.0, "33 TR 1", (C1,), "gross"), POLICY)
    assert not first.measurements and [n.state for n in first.notices] == ["awaiting_pair"]
    assert first.rows[0]["accepted"] is True
    second = v.on_weighing(weighing("W2", 40, 15_380.0, "33 TR 1", (), "empty", instrument="WB-2"), POLICY)
    (m,) = second.measurements
    assert m.vgm_kg == 36_420.0 - 15_380.0 == 21_040.0
    assert m.weighing_ids == ("W1", "W2") and m.instrument_id == "WB-1" and m.derivation == "in_out_pair"
    assert m.weighed_at == at(0) and m.completed_at == at(40)
    assert v.pending is None


def test_recorded_tare_with_fuel_allowance_art22_5b():
    v = VehicleWeighbridge("33 TARE 1")
    res = v.on_weighing(weighing("W1", 0, 36_000.0, "33 TARE 1", (C1,), "gross"), POLICY)
    (m,) = res.measurements
    assert m.vgm_kg == 36_000.0 - (14_820.0 + 150.0) == 21_030.0
    assert m.deduction_kg == 14_970.0 and m.derivation == "recorded_tare"


def test_container_alone_reading_is_the_gross_mass():
    res = VehicleWeighbridge("crane").on_weighing(weighing("W1", 0, 24_310.0, "crane", (C1,), "container"), POLICY)
    (m,) = res.measurements
    assert m.vgm_kg == 24_310.0 and m.deduction_kg == 0.0


def test_two_packed_containers_on_one_weighing_give_no_vgm_art22_7():
    v = VehicleWeighbridge("33 TR 2")
    res = v.on_weighing(weighing("W1", 0, 41_500.0, "33 TR 2", (C1, C2), "gross"), POLICY)
    assert not res.measurements and v.pending is None
    (viol,) = res.violations
    assert viol.kind == "multiple_containers" and viol.entity_id == "W1"
    assert sorted(n.container_number for n in res.notices) == sorted([C1, C2])
    assert all(n.state == "rejected" for n in res.notices)
    assert res.rows[0]["accepted"] is False and "Art. 22(7)" in res.rows[0]["reason"]


def test_a_dirty_tank_counts_as_packed_and_an_empty_container_does_not_art9():
    res = VehicleWeighbridge("t").on_weighing(
        weighing("W1", 0, 30_000.0, "t", (C1, C2), "gross", status={C1: "full", C2: "dirty_tank"}), POLICY)
    assert [v.kind for v in res.violations] == ["multiple_containers"]
    res = VehicleWeighbridge("t").on_weighing(
        weighing("W1", 0, 18_000.0, "t", (C1,), "gross", status={C1: "empty"}), POLICY)
    assert not res.violations and not res.measurements
    assert [(n.container_number, n.state) for n in res.notices] == [(C1, "empty")]


def test_weighing_on_an_overdue_instrument_is_rejected_art20():
    # WB-3 was inspected 2024-11-20: usable until 2025-11-20; this weighing is on 2026-03-02
    v = VehicleWeighbridge("33 TR 3")
    res = v.on_weighing(weighing("W1", 0, 36_000.0, "33 TR 3", (C1,), "gross", instrument="WB-3"), POLICY)
    assert not res.measurements and v.pending is None
    (viol,) = res.violations
    assert viol.kind == "instrument_overdue" and viol.entity_id == "WB-3"
    assert res.rows[0]["accepted"] is False and "2024-11-20" in res.rows[0]["reason"]
    assert [n.state for n in res.notices] == ["rejected"]


def test_empty_heavier_than_loaded_and_pair_window_are_rejected():
    v = VehicleWeighbridge("p")
    v.on_weighing(weighing("W1", 0, 30_000.0, "p", (C1,), "gross"), POLICY)
    res = v.on_weighing(weighing("W2", 10, 30_000.0, "p", (), "empty"), POLICY)
    assert not res.measurements and res.rows[0]["accepted"] is False
    v.on_weighing(weighing("W3", 20, 30_000.0, "p", (C1,), "gross"), POLICY)
    late = v.on_weighing(weighing("W4", 20 + 12 * 60 + 1, 15_000.0, "p", (), "empty"), POLICY)
    assert not late.measurements and "12 h" in late.rows[0]["reason"]


def test_a_redelivered_weighing_is_ignored():
    v = VehicleWeighbridge("p")
    w = weighing("W1", 0, 30_000.0, "p", (C1,), "container")
    assert len(v.on_weighing(w, POLICY).measurements) == 1
    again = v.on_weighing(w, POLICY)
    assert not again.measurements and not again.rows


def test_unpaired_empty_weighing_is_recorded():
    res = VehicleWeighbridge("p").on_weighing(weighing("W1", 0, 15_000.0, "p", (), "empty"), POLICY)
    assert res.rows[0]["accepted"] is True and not res.measurements
