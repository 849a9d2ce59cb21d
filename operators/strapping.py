"""Tank strapping (calibration) tables: gauge level ↔ total observed volume.

A strapping table lists, for increasing innage levels in millimetres, the tank's total observed volume in
cubic metres at the table's reference conditions. Between rows the volume is linearly interpolated, as
tank calibration tables are used in practice (API MPMS 2.2A, OIML R 71).
"""

from __future__ import annotations

import csv
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray


class StrappingError(ValueError):
    """A strapping table is malformed or a level is outside it."""


@dataclass(frozen=True)
class StrappingTable:
    """A level → volume table, strictly increasing in both columns.

    Attributes:
        level_mm: Innage levels, strictly increasing.
        volume_m3: Total observed volume at each level, strictly increasing.
    """

    level_mm: NDArray[np.float64]
    volume_m3: NDArray[np.float64]
    _levels: list[float] = field(init=False, repr=False, compare=False)
    _volumes: list[float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lv, vol = self.level_mm, self.volume_m3
        if lv.ndim != 1 or lv.shape != vol.shape or lv.size < 2:
            raise StrappingError("a strapping table needs two equal columns of at least two rows")
        if not (np.all(np.diff(lv) > 0) and np.all(np.diff(vol) > 0)):
            raise StrappingError("strapping table levels and volumes must be strictly increasing")
        object.__setattr__(self, "_levels", lv.tolist())
        object.__setattr__(self, "_volumes", vol.tolist())

    def volume_at_level(self, level_mm: float) -> float:
        """Volume at one level (the per-reading path; same interpolation as :meth:`volume_at`).

        Raises:
            StrappingError: When the level lies outside the calibrated range.
        """
        lv, vol = self._levels, self._volumes
        if not lv[0] <= level_mm <= lv[-1]:
            raise StrappingError(f"level {level_mm} mm outside the strapping table ({lv[0]}..{lv[-1]} mm)")
        i = min(bisect_right(lv, level_mm), len(lv) - 1)
        x0, x1, y0, y1 = lv[i - 1], lv[i], vol[i - 1], vol[i]
        return y0 + (y1 - y0) * (level_mm - x0) / (x1 - x0)

    @classmethod
    def from_csv(cls, path: Path) -> StrappingTable:
        """Read a ``level_mm,volume_m3`` CSV (header row required; ``#`` lines are comments).

        Args:
            path: The CSV file.

        Returns:
            The table.

        Raises:
            StrappingError: When the file cannot be read or is malformed.
        """
        try:
            with path.open(encoding="utf-8", newline="") as fh:
                rows = [r for r in csv.reader(fh) if r and not r[0].lstrip().startswith("#")]
        except OSError as exc:
            raise StrappingError(f"cannot read strapping table {path}: {exc}") from exc
        if not rows or [c.strip() for c in rows[0][:2]] != ["level_mm", "volume_m3"]:
            raise StrappingError(f"{path}: header must be 'level_mm,volume_m3'")
        try:
            data = np.array([[float(r[0]), float(r[1])] for r in rows[1:]], dtype=np.float64)
        except (ValueError, IndexError) as exc:
            raise StrappingError(f"{path}: {exc}") from exc
        return cls(level_mm=data[:, 0].copy(), volume_m3=data[:, 1].copy())

    @property
    def max_level_mm(self) -> float:
        """Highest calibrated level."""
        return float(self.level_mm[-1])

    def volume_at(self, level_mm: ArrayLike) -> NDArray[np.float64]:
        """Total observed volume at the given levels, linearly interpolated.

        Args:
            level_mm: One level or an array of levels.

        Returns:
            Volumes in m³; NaN where a level lies outside the calibrated range.
        """
        lv = np.asarray(level_mm, dtype=np.float64)
        out = np.interp(lv, self.level_mm, self.volume_m3)
        return np.where((lv < self.level_mm[0]) | (lv > self.level_mm[-1]), np.nan, out)

    def level_at(self, volume_m3: ArrayLike) -> NDArray[np.float64]:
        """Inverse lookup: the level at which the tank holds the given volume.

        Args:
            volume_m3: One volume or an array of volumes.

        Returns:
            Levels in mm; NaN outside the table.
        """
        vol = np.asarray(volume_m3, dtype=np.float64)
        out = np.interp(vol, self.volume_m3, self.level_mm)
        return np.where((vol < self.volume_m3[0]) | (vol > self.volume_m3[-1]), np.nan, out)
