"""Operation detection and totals on hand-built readings.

Every reading is at the conditions of API MPMS 11.1-2004 §11.1.7.2 example A5 (jet fuel, observed density
817.59 kg/m³ at 22.25 °C and 2587.3 kPa), for which the standard publishes ρ15 = 821.094977665680 kg/m³
(821.1 rounded) and CTPL = 0.995731337103 (0.99573 rounded). So every expected quantity below follows from
those two published numbers and the totalizer values, by hand.
"""

import itertools
from datetime import UTC, datetime

import numpy as np
import pytest

from operators.events import RawEvent, ms_from_ts
from operators.meter_events import MeterChunk, Transfer
from operators.meter_operations import MeterParams, MeterTracker

CTPL_A5 = 0.99573
RHO15_A5 = 821.1
T0 = ms_from_ts(datetime(2026, 3, 1, 6, 0, tzinfo=UTC))


def params(**kw):
    base = dict(meter_id="M-01", serial="S1", product="Jet A-1", product_group="jet", round_inputs=False,
                start_flow_m3h=30.0, stop_flow_m3h=10.0, stop_after_s=120.0, progress_every_s=1e9)
    base.update(kw)
    return MeterParams(**base)


def chunk(ts_s, totals, flows, density=817.59, temp=22.25, pressure=2587.3):
    n = len(ts_s)
    raws = [RawEvent("meter.readings", f"r{i}", f"f:{i}") for i in range(n)]
    return MeterChunk("M-01", T0 + np.asarray(ts_s, dtype=np.int64) * 1000, np.asarray(totals, float),
                      np.asarray(flows, float), np.full(n, temp), np.full(n, pressure),
                      np.full(n, density), ["ok"] * n, [r.position for r in raws], raws)


def discharge():
    """Idle, creep at 20 m3/h, 24 readings at 900 m3/h (+2.5 m3 per 10 s), then still."""
    ts, tot, fl = [], [], []
    total = 1000.0
    for k in range(6):
        ts.append(10 * k), tot.append(total), fl.append(0.0)
    total += 0.05
    ts.append(60), tot.append(total), fl.append(20.0)
    for k in range(24):
        total += 2.5
        ts.append(70 + 10 * k), tot.append(total), fl.append(900.0)
    for k in range(20):
        ts.append(310 + 10 * k), tot.append(total), fl.append(0.0)
    return ts, tot, fl, total


@pytest.mark.parametrize("split", [None, 7, 20, 40])
def test_operation_totals_follow_the_published_ctpl(split):
    ts, tot, fl, closing = discharge()
    tr = MeterTracker(params())
    parts = [slice(0, len(ts))] if split is None else [slice(0, split), slice(split, len(ts))]
    ops = []
    for s in parts:  # chunk boundaries must not change any result
        ops += tr.on_chunk(chunk(ts[s], tot[s], fl[s])).operations
    closed = [o for o in ops if o["status"] == "closed"]
    assert len(closed) == 1
    op = closed[0]
    gov = closing - 1000.0
    assert op["opening_index_m3"] == 1000.0 and op["closing_index_m3"] == closing
    assert op["gov_m3"] == pytest.approx(gov, abs=1e-9)
    assert op["gsv_15c_m3"] == pytest.approx(gov * CTPL_A5, rel=1e-12)
    assert op["mass_vacuum_kg"] == pytest.approx(gov * CTPL_A5 * RHO15_A5, rel=1e-12)
    assert op["mass_air_kg"] == pytest.approx(gov * CTPL_A5 * (RHO15_A5 - 1.1), rel=1e-12)
    assert op["density_15c_kgm3"] == pytest.approx(RHO15_A5)
    assert op["avg_temp_c"] == pytest.approx(22.25) and op["avg_pressure_kpa"] == pytest.approx(2587.3)
    assert op["started_at"] == datetime(2026, 3, 1, 6, 1, tzinfo=UTC)  # first movement (the creep reading)
    assert op["ended_at"] == datetime(2026, 3, 1, 6, 5, 10, tzinfo=UTC)  # flow first below the stop threshold
    # flow integration cross-check: trapezoids of the flow rate (ramp 0→20→900→0) by hand
    by_hand = (0 + 20) / 2 * 10 / 3600 + (20 + 900) / 2 * 10 / 3600 + 23 * 900 * 10 / 3600 + 900 / 2 * 10 / 3600
    assert op["flow_integrated_gov_m3"] == pytest.approx(by_hand)
    assert op["cumulative_gsv_15c_m3"] == pytest.approx(op["gsv_15c_m3"])
    assert op["operation_id"] == "M-01-20260301T060100Z"


def test_readings_are_corrected_and_labelled():
    ts, tot, fl, _ = discharge()
    out = MeterTracker(params()).on_chunk(chunk(ts, tot, fl))
    r = out.readings
    assert r is not None and len(r) == len(ts)
    np.testing.assert_allclose(r.columns["ctpl"], CTPL_A5)
    np.testing.assert_allclose(r.columns["density_15c_kgm3"], RHO15_A5)
    labels = r.columns["operation_id"]
    assert labels[5] == "" and labels[6] == labels[30] == "M-01-20260301T060100Z"


def test_operation_still_flowing_at_end_of_input_stays_open():
    ts, tot, fl, _ = discharge()
    tr = MeterTracker(params())
    ops = tr.on_chunk(chunk(ts[:20], tot[:20], fl[:20])).operations
    assert ops == []
    final = tr.finish().operations
    assert [o["status"] for o in final] == ["open"] and final[0]["ended_at"] is None
    assert final[0]["gov_m3"] == pytest.approx(tot[19] - 1000.0)


def test_progress_records_are_emitted_in_event_time():
    ts, tot, fl, _ = discharge()
    ops = MeterTracker(params(progress_every_s=60)).on_chunk(chunk(ts, tot, fl)).operations
    opens = [o for o in ops if o["status"] == "open"]
    assert len(opens) >= 3
    revs = [o["revision"] for o in ops]
    assert revs == sorted(revs)


def test_creep_below_start_threshold_is_recorded_once_not_lost():
    # a slow trickle: the totalizer ticks 0.001 m³ every third reading, then stays still for 150 s
    ts = list(range(0, 300, 10)) + [300 + 10 * k for k in range(16)]
    tot = [10.0 + 0.001 * (k // 3) for k in range(30)] + [10.009] * 16
    fl = [0.5] * 30 + [0.0] * 16
    ops = MeterTracker(params()).on_chunk(chunk(ts, tot, fl)).operations
    assert [o["status"] for o in ops] == ["creep"]
    assert ops[0]["gov_m3"] == pytest.approx(0.009)
    # last tick at 270 s: the first still reading after it (280 s) marks the end, as for operations
    assert ops[0]["ended_at"] == datetime(2026, 3, 1, 6, 4, 40, tzinfo=UTC)


def test_out_of_order_reading_is_dead_lettered():
    tr = MeterTracker(params())
    tr.on_chunk(chunk([0, 10], [1.0, 1.0], [0, 0]))
    out = tr.on_chunk(chunk([5, 20], [1.0, 1.0], [0, 0]))
    assert len(out.dead_letters) == 1 and "late reading" in out.dead_letters[0].reason
    assert [a.kind for a in out.alerts] == ["late_data"]
    assert out.readings is not None and len(out.readings) == 1


def test_totalizer_reset_uses_flow_integration_and_is_flagged():
    ts = [0, 10, 20, 30, 40] + [50 + 10 * k for k in range(15)]
    tot = [500.0, 502.5, 505.0, 2.5, 5.0] + [5.0] * 15
    fl = [900.0] * 5 + [0.0] * 15
    tr = MeterTracker(params())
    out = tr.on_chunk(chunk(ts, tot, fl))
    closed = [o for o in out.operations if o["status"] == "closed"]
    assert len(closed) == 1 and "totalizer_reset" in closed[0]["flags"]
    # 2.5 + 2.5 from the totalizer, the reset interval from flow (900 m3/h for 10 s), 2.5 after the reset,
    # then the ramp down to zero (trapezoid 450 m3/h for 10 s)
    assert closed[0]["gov_m3"] == pytest.approx(2.5 + 2.5 + 2.5 + 2.5)


def test_transfer_documents_attach_to_the_operation():
    t = Transfer("TR-1", "open", datetime(2026, 3, 1, 5, tzinfo=UTC), "discharge", ("M-01",), ("T-101",),
                 {"transfer_id": "TR-1", "ship_name": "MT Test", "bl_no": "BL-9", "bl_quantity_kg_air": 1.0e6,
                  "product_group": "jet"})
    ts, tot, fl, _ = discharge()
    tr = MeterTracker(params(product_group="crude"))
    tr.on_transfer(t)
    op = next(o for o in tr.on_chunk(chunk(ts, tot, fl)).operations if o["status"] == "closed")
    assert (op["transfer_id"], op["ship_name"], op["bl_no"], op["direction"]) == ("TR-1", "MT Test", "BL-9",
                                                                                  "discharge")
    assert op["product_group"] == "jet" and op["bl_quantity_kg_air"] == 1.0e6


def test_a_correction_setup_error_keeps_the_readings_and_flags_the_operation():
    # biodiesel needs a thermal expansion coefficient (special application): none is configured here
    ts, tot, fl, _ = discharge()
    tr = MeterTracker(params(product_group="biodiesel"))
    out = tr.on_chunk(chunk(ts, tot, fl))
    assert out.readings is not None and len(out.readings) == len(ts)
    assert np.isnan(out.readings.columns["ctpl"]).all()
    op = next(o for o in out.operations if o["status"] == "closed")
    assert "uncorrected_volume" in op["flags"] and any(f.startswith("correction: biodiesel") for f in op["flags"])
    assert op["gov_m3"] == pytest.approx(tot[-1] - 1000.0) and op["gsv_15c_m3"] == 0.0


def test_totals_are_bit_identical_however_the_readings_are_chunked():
    """A Kafka run batches readings as they arrive, a replay in fixed chunks: the totals must be the same bits.

    Irregular increments (not multiples of a power of two) make pairwise or chunk-difference sums round
    differently from one-by-one addition; the tracker must add readings one after another.
    """
    rng = np.random.default_rng(7)
    n = 400
    ts = list(range(0, 10 * n, 10))
    fl = [0.0] * 5 + list(rng.uniform(300.0, 900.0, n - 25)) + [0.0] * 20
    steps = [0.0] * 5 + list(rng.uniform(0.1, 3.0, n - 25) * np.pi) + [0.0] * 20
    tot = list(1000.0 + np.cumsum(steps))
    density = rng.uniform(815.0, 820.0, n)  # varying density: every reading has its own CTPL

    def run(bounds):
        tr = MeterTracker(params())
        ops = []
        for a, b in itertools.pairwise(bounds):
            c = chunk(ts[a:b], tot[a:b], fl[a:b])
            c.density_kgm3[:] = density[a:b]
            ops += tr.on_chunk(c).operations
        return [o for o in ops if o["status"] == "closed"]

    whole = run([0, n])
    cuts = sorted(set(rng.integers(1, n, 37).tolist()))
    assert len(whole) == 1
    for bounds in ([0, *cuts, n], [0, *range(1, n), n]):
        pieces = run(bounds)
        assert len(pieces) == 1
        for key in ("gov_m3", "gsv_15c_m3", "mass_vacuum_kg", "mass_air_kg", "flow_integrated_gov_m3",
                    "cumulative_gsv_15c_m3"):
            assert pieces[0][key] == whole[0][key], key  # exact, not approx


def _everything(bounds, ts, tot, fl, density, temp, status, ticks):
    """Run a tracker over the readings cut at ``bounds`` (site-time ticks between chunks when ``ticks``)."""
    from operators.alerts import alert_record
    from operators.meter_events import Tick
    from operators.meter_health import HealthParams

    health = HealthParams("M-01", "S1", gap_s=30.0, stuck_s=300.0, qmax_m3h=1000.0, jump_factor=1.5,
                          min_flow_m3h=30.0, calibration_expires=datetime(2026, 3, 1).date(), calibration_warn_days=30)
    tr = MeterTracker(params(health=health, progress_every_s=600.0, default_density_15c_kgm3=820.0))
    ops, alerts, readings = [], [], []
    for a, b in itertools.pairwise(bounds):
        c = chunk(ts[a:b], tot[a:b], fl[a:b])
        c.density_kgm3[:], c.temp_c[:] = density[a:b], temp[a:b]
        c.status[:], c.positions[:] = status[a:b], [f"f:{i}" for i in range(a, b)]
        outs = [tr.on_chunk(c)]
        if ticks and b < len(ts):  # the site's time moved on (other meters) to just before this one's next reading
            outs.append(tr.on_item(Tick(T0 + ts[b] * 1000 - 1)))
        for o in outs:
            ops += o.operations
            alerts += [alert_record(x) for x in o.alerts]
            if o.readings is not None:
                cols = o.readings.columns
                readings += [repr({k: v[j] for k, v in cols.items()}) for j in range(len(cols["ts"]))]
    fin = tr.finish()
    ops += fin.operations
    alerts += [alert_record(x) for x in fin.alerts]
    latest = {}  # the alerts table under FINAL: the latest revision of each alert
    for r in alerts:
        if r["alert_id"] not in latest or r["revision"] >= latest[r["alert_id"]]["revision"]:
            latest[r["alert_id"]] = r
    return [repr(o) for o in ops], latest, readings


@pytest.mark.parametrize("ticks", [False, True])
def test_records_alerts_and_readings_do_not_depend_on_the_chunks(ticks):
    """Everything the tracker writes, not only the totals, is the same however a run batched the readings.

    A campaign across midnight (calibration expiring that day) with a creep before each operation, a stop and
    restart, a flow jump, a totalizer step, a fault, a stuck temperature, two silences and missing densities
    (the site default substituted): one chunk, random cuts, and one reading per chunk. Before, a chunk spanning
    an operation boundary gave the new operation's flags, density sources and substituted bins to the old one,
    the readings of a creep got the operation id only when they shared a chunk with its start, and the
    calibration alert took the time of the chunk's last reading.
    """
    rng = np.random.default_rng(3)
    n = 900
    ts = [10 * i + 61_200 + (200 if i > 300 else 0) + (500 if i > 600 else 0) for i in range(n)]
    fl = [0.0] * 5 + list(rng.uniform(300.0, 900.0, n - 25)) + [0.0] * 20
    steps = [0.0] * 5 + list(rng.uniform(0.1, 3.0, n - 25) * np.pi) + [0.0] * 20
    fl[400:440], steps[400:440] = [0.0] * 40, [0.0] * 40  # stop...
    fl[440:450], steps[440:450] = [20.0] * 10, [0.05] * 10  # ...and a creep before the restart
    fl[5:9], steps[5:9] = [20.0] * 4, [0.05] * 4  # a creep before the first operation
    fl[500:520] = [5000.0] * 20  # impossible flow
    steps[700] = 500.0  # totalizer step
    tot = list(1000.0 + np.cumsum(steps))
    density = rng.uniform(815.0, 820.0, n)
    density[100:160] = np.nan
    density[438:470] = np.nan  # across the restart
    temp = rng.uniform(10.0, 30.0, n)
    temp[650:700] = 17.0
    status = ["ok"] * n
    status[550:555] = ["fault"] * 5
    whole = _everything([0, n], ts, tot, fl, density, temp, status, ticks)
    assert len(whole[0]) > 10 and len(whole[1]) > 5 and len(whole[2]) == n
    for cuts in (sorted(set(rng.integers(1, n, k).tolist())) for k in (5, 40, 200)):
        assert _everything([0, *cuts, n], ts, tot, fl, density, temp, status, ticks) == whole, cuts
    assert _everything(list(range(n + 1)), ts, tot, fl, density, temp, status, ticks) == whole
