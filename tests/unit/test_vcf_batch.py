"""``correct_batch`` (vectorised) against ``correct`` (scalar) and the published examples."""

from __future__ import annotations

import numpy as np
import pytest

from operators.vcf import EDITION_API, EDITION_LPG, PRODUCT_GROUPS, VcfError, correct, correct_batch

FIELDS = ("density_15c_kgm3", "ctl", "cpl", "ctpl")
RAW_FIELDS = ("density_15c_raw_kgm3", "ctl_raw", "cpl_raw", "ctpl_raw")

# Per group: α60 (special/biodiesel), density range to draw from (kg/m³), temperature range (°C).
GROUP_SETUP = {
    "crude": (None, (600.0, 1100.0), (-50.0, 150.0)),
    "refined": (None, (620.0, 1100.0), (-50.0, 150.0)),
    "gasoline": (None, (620.0, 780.0), (-50.0, 150.0)),
    "transition": (None, (760.0, 800.0), (-50.0, 150.0)),
    "jet": (None, (780.0, 850.0), (-50.0, 150.0)),
    "fuel_oil": (None, (830.0, 1100.0), (-50.0, 150.0)),
    "lube": (None, (760.0, 1150.0), (-50.0, 150.0)),
    "special": (5.0e-4, (650.0, 1100.0), (-50.0, 150.0)),
    "biodiesel": (4.6e-4, (850.0, 900.0), (-50.0, 150.0)),
    "lpg": (None, (350.0, 650.0), (-46.0, 93.0)),
}


def test_every_group_is_exercised() -> None:
    assert set(GROUP_SETUP) == PRODUCT_GROUPS


def _random_batch(group: str, n: int, seed: int) -> tuple[np.ndarray, ...]:
    _, (r_lo, r_hi), (t_lo, t_hi) = GROUP_SETUP[group]
    rng = np.random.default_rng(seed)
    rho = rng.uniform(r_lo, r_hi, n)
    observed = rng.random(n) < 0.6
    temp = rng.uniform(t_lo, t_hi, n)
    pressure = rng.uniform(-50.0, 10_000.0, n)
    # Sprinkle rows that must be rejected: out-of-range temperature, pressure, density, NaN.
    bad = rng.choice(n, size=n // 10, replace=False)
    kinds = np.arange(bad.size) % 5
    temp[bad[kinds == 0]] = 160.0
    pressure[bad[kinds == 1]] = 20_000.0
    rho[bad[kinds == 2]] = 1500.0
    rho[bad[kinds == 3]] = np.nan
    temp[bad[kinds == 4]] = -60.0
    return rho, observed, temp, pressure


@pytest.mark.parametrize("round_inputs", [True, False])
@pytest.mark.parametrize("group", sorted(GROUP_SETUP))
def test_batch_agrees_with_scalar_row_by_row(group: str, round_inputs: bool) -> None:
    alpha = GROUP_SETUP[group][0]
    rho, observed, temp, pressure = _random_batch(group, 250, seed=sorted(GROUP_SETUP).index(group))
    batch = correct_batch(group, rho, observed, temp, pressure, alpha60_per_f=alpha, round_inputs=round_inputs)
    assert batch.edition == (EDITION_LPG if group == "lpg" else EDITION_API)
    n_ok = 0
    for i in range(rho.size):
        try:
            c = correct(
                group,
                float(rho[i]),
                "observed" if observed[i] else "15c",
                float(temp[i]),
                float(pressure[i]),
                alpha60_per_f=alpha,
                round_inputs=round_inputs,
            )
        except VcfError as exc:
            assert batch.error[i] == str(exc), i
            assert all(np.isnan(getattr(batch, f)[i]) for f in FIELDS + RAW_FIELDS)
            continue
        n_ok += 1
        assert batch.error[i] is None, (i, batch.error[i])
        for f in RAW_FIELDS:
            assert getattr(batch, f)[i] == pytest.approx(getattr(c, f), rel=1e-12), (i, f)
        for f in FIELDS:
            assert getattr(batch, f)[i] == getattr(c, f), (i, f)
    assert n_ok > 0.5 * rho.size  # the batch is mostly good rows, so the comparison means something


# Published §11.1.7.2 examples (research note §5.A, see test_vcf_api_11_1.py) mixed with the
# standard's out-of-range examples 11–17 in one batch per group:
# (ρobs, t °C, P kPa, published ρ15 or None for "must be rejected", published CTPL)
MIXED = {
    "refined": [
        (657.3, 27.35, 1234.0, 667.718347529613, 0.984397092633),  # A1
        (470.17, -50.05, 0.0, None, None),  # example 13
        (865.6, 20.0, 1125.0, 868.425929024799, 0.996745918181),  # A4
        (1209.56, 150.02, 10342.5, None, None),  # example 14
        (817.59, 22.25, 2587.3, 821.094977665680, 0.995731337103),  # A5
        (779.6, 5.47, 1710.0, 769.965411139556, 1.012513015157),  # A6
    ],
    "crude": [
        (470.27, -50.05, 0.0, None, None),  # example 11
        (823.7, 26.8, -5.0, 832.434018321149, 0.989507855128),  # A2
        (1201.85, 150.03, 103.425, None, None),  # example 12
        (722.6, -50.0, 115.0, 664.383677067826, 1.087624553315),  # A3
    ],
    "lube": [
        (1208.52, 15.56, 10342.5, None, None),  # example 15
        (1204.6, -49.97, 3110.0, 1163.078239292499, 1.035699886134),  # A8
        (714.245, 22.42, 0.0, None, None),  # example 16
        (734.3, 150.0, 100.0, 820.979105094945, 0.894419840177),  # A9
        (723.45, 0.42, 0.0, None, None),  # example 17
    ],
}


@pytest.mark.parametrize("group", sorted(MIXED))
def test_error_rows_mixed_into_good_batch(group: str) -> None:
    rows = MIXED[group]
    rho, temp, pressure = (np.array([r[k] for r in rows]) for k in range(3))
    batch = correct_batch(group, rho, np.ones(len(rows), bool), temp, pressure, round_inputs=False)
    for i, (_, _, _, rho15, ctpl) in enumerate(rows):
        if rho15 is None:
            assert batch.error[i] is not None and "outside the allowed range" in batch.error[i]
            assert np.isnan(batch.ctpl[i]) and np.isnan(batch.density_15c_kgm3[i])
        else:
            assert batch.error[i] is None
            assert batch.density_15c_raw_kgm3[i] == pytest.approx(rho15, abs=2e-6)
            assert batch.ctpl_raw[i] == pytest.approx(ctpl, abs=2e-9)


def test_result_shape_and_types() -> None:
    b = correct_batch("crude", [850.0, 860.0, 870.0], [True, False, True], [20.0, 30.0, 40.0], [0.0, 100.0, 200.0])
    for f in FIELDS + RAW_FIELDS:
        arr = getattr(b, f)
        assert isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.shape == (3,)
    assert b.error == [None, None, None]


def test_scalar_columns_broadcast() -> None:
    b = correct_batch("jet", [800.0, 810.0], False, [10.0, 20.0], 300.0)
    assert b.error == [None, None]
    assert b.ctl[0] == correct("jet", 800.0, "15c", 10.0, 300.0).ctl


def test_empty_batch() -> None:
    b = correct_batch("refined", [], [], [], [])
    assert b.ctl.shape == (0,) and b.error == []


@pytest.mark.parametrize(
    ("group", "alpha", "columns", "match"),
    [
        ("diesel", None, ([850.0], [True], [20.0], [0.0]), "unknown product group"),
        ("biodiesel", None, ([850.0], [True], [20.0], [0.0]), "needs alpha60_per_f"),
        ("crude", None, ([850.0, 1.0], [True], [20.0, 1.0, 2.0], [0.0]), "equal length"),
        ("crude", None, ([[850.0]], [True], [20.0], [0.0]), "1-D"),
    ],
)
def test_call_level_problems_raise(
    group: str, alpha: float | None, columns: tuple[list[object], ...], match: str
) -> None:
    with pytest.raises(VcfError, match=match):
        correct_batch(group, *columns, alpha60_per_f=alpha)  # type: ignore[arg-type]


def test_row_problems_never_raise() -> None:
    b = correct_batch(
        "refined",
        [np.nan, 800.0, 800.0, 800.0, 1e12, 800.0],
        True,
        [20.0, np.inf, 20.0, 500.0, 20.0, 20.0],
        [0.0, 0.0, np.nan, 0.0, 0.0, -30.0],
    )
    assert [e is None for e in b.error] == [False, False, False, False, False, True]
    assert "density is not a finite number" in (b.error[0] or "")
    assert "temperature is not a finite number" in (b.error[1] or "")
    assert "gauge pressure is not a finite number" in (b.error[2] or "")
    assert b.cpl[5] == 1.0  # negative gauge pressure counts as 0


def test_non_converging_iteration_is_an_error_in_both_paths() -> None:
    # Project choice (the standard accepts the 15th iterate with a comment): an observed
    # density whose ρ60 would lie far below the crude range makes the §11.1.6.2 iteration
    # wander without converging; both paths must reject it with the same text.
    args = ("crude", 479.7635, "observed", -39.5, 7317.0)
    with pytest.raises(VcfError, match="did not converge") as exc:
        correct(*args, round_inputs=False)
    b = correct_batch("crude", [479.7635, 850.0], True, [-39.5, 20.0], [7317.0, 0.0], round_inputs=False)
    assert b.error == [str(exc.value), None]
