from pathlib import Path

import numpy as np
import pytest

from flows.config import load_config
from operators.strapping import StrappingError, StrappingTable


def _table(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "t.csv"
    f.write_text(body)
    return f


def test_linear_interpolation_between_rows(tmp_path: Path):
    t = StrappingTable.from_csv(_table(tmp_path, "# comment\nlevel_mm,volume_m3\n0,0\n100,10\n200,30\n"))
    # hand interpolation: 150 mm lies halfway between 10 and 30 m3
    assert t.volume_at(150.0) == pytest.approx(20.0)
    assert t.volume_at(25.0) == pytest.approx(2.5)
    assert np.isnan(t.volume_at(250.0))
    assert t.level_at(20.0) == pytest.approx(150.0)
    np.testing.assert_allclose(t.volume_at([0, 100, 200]), [0, 10, 30])


@pytest.mark.parametrize("body, match", [
    ("lvl,vol\n0,0\n1,1\n", "header"),
    ("level_mm,volume_m3\n0,0\n10,5\n5,6\n", "strictly increasing"),
    ("level_mm,volume_m3\n0,0\n10,x\n", "could not convert"),
    ("level_mm,volume_m3\n0,0\n", "at least two rows"),
])
def test_malformed_tables_are_rejected(tmp_path: Path, body: str, match: str):
    with pytest.raises(StrappingError, match=match):
        StrappingTable.from_csv(_table(tmp_path, body))


def test_demo_tables_match_their_cylinder_geometry():
    # T-101 is a vertical cylinder of 22 m diameter: above the conical bottom each metre holds
    # pi * 11^2 ≈ 380.1 m3, within the ±8 mm radius variation of the shell courses (2·8/11000 = 0.15 %).
    cfg = load_config(environ={})
    t = StrappingTable.from_csv(cfg.tank("T-101").strapping_table)
    per_metre = float(t.volume_at(5000.0) - t.volume_at(4000.0))
    assert per_metre == pytest.approx(np.pi * 11.0**2, rel=2e-3)


def test_scalar_lookup_matches_the_vectorised_one(tmp_path: Path):
    t = StrappingTable.from_csv(_table(tmp_path, "level_mm,volume_m3\n0,0\n100,10\n200,30\n"))
    for level in (0.0, 1.0, 99.9, 100.0, 150.0, 200.0):
        assert t.volume_at_level(level) == pytest.approx(float(t.volume_at(level)), abs=1e-12)
    with pytest.raises(StrappingError, match="outside the strapping table"):
        t.volume_at_level(200.5)
