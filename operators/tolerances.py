"""Natural-loss (fire) tolerances for meter vs documents (M9): a table by tariff heading and transport mode.

The Gümrük Yönetmeliği Ek-11 rates known so far (see ``shared/research/vcf-standards.md`` §4) are the
defaults; a site's configuration can replace or extend them. The lookup takes the longest tariff-code
(GTİP) prefix that has a rate for the transport mode, then a rate for the product group and mode, then the
customary 0.5 % trade allowance.

Open question kept visible in the table: Ek-11 has two sea columns, (A) and (B), whose footnotes were not in
the retrieved text; column (A) is the default for ``sea`` and (B) is available as mode ``sea_b``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_PCT = 0.5
MODES = ("sea", "sea_b", "pipeline", "road", "warehouse")


def _norm(code: str) -> str:
    """Tariff code without dots and spaces (``2710.19.43`` → ``27101943``)."""
    return "".join(ch for ch in code if ch.isdigit())


@dataclass(frozen=True)
class ToleranceRule:
    """One rate: a tariff prefix or a product group, a transport mode and the allowed loss in percent."""

    pct: float
    mode: str
    tariff_prefix: str = ""
    product_group: str = ""
    source: str = ""


def _ek11(prefix: str, sea_a: float, sea_b: float, pipeline: float, road: float, warehouse: float,
          note: str) -> list[ToleranceRule]:
    src = f"Ek-11 {note}"
    prefix = _norm(prefix)
    return [ToleranceRule(sea_a, "sea", prefix, source=src + " (sea A)"),
            ToleranceRule(sea_b, "sea_b", prefix, source=src + " (sea B)"),
            ToleranceRule(pipeline, "pipeline", prefix, source=src + " (pipeline)"),
            ToleranceRule(road, "road", prefix, source=src + " (road)"),
            ToleranceRule(warehouse, "warehouse", prefix, source=src + " (warehouse)")]


#: Ek-11 rows as retrieved (RG 15/5/2013-28648), more specific prefixes first where they overlap.
EK11_DEFAULTS: tuple[ToleranceRule, ...] = tuple(
    _ek11("2707.10", 0.5, 0.3, 0.4, 0.4, 0.003, "2707.10")
    + _ek11("2707.20", 0.5, 0.3, 0.4, 0.4, 0.003, "2707.20")
    + _ek11("2709.00", 1.0, 0.5, 0.5, 0.3, 0.0025, "2709.00 crude")
    + _ek11("2710.12.70", 0.5, 0.3, 0.3, 0.2, 0.002, "2710.12.70")
    + _ek11("2710.12", 0.5, 0.3, 0.3, 0.4, 0.003, "2710.12 light oils")
    + _ek11("2710.19.11", 0.5, 0.3, 0.3, 0.4, 0.002, "2710.19.11")
    + _ek11("2710.19.15", 0.5, 0.3, 0.3, 0.4, 0.002, "2710.19.15")
    + _ek11("2710.19.21", 0.5, 0.3, 0.3, 0.2, 0.002, "2710.19.21 kerosene")
    + _ek11("2710.19.25", 0.5, 0.3, 0.3, 0.2, 0.002, "2710.19.25 jet")
    + [r for p in ("2710.19.29", "2710.19.31", "2710.19.35") for r in _ek11(p, 0.5, 0.3, 0.3, 0.3, 0.002, p)]
    + [r for p in ("2710.19.43", "2710.19.46", "2710.19.47", "2710.19.48")
       for r in _ek11(p, 0.5, 0.3, 0.3, 0.2, 0.002, f"{p} gas oil")]
    + [r for p in ("2710.19.51", "2710.19.55", "2710.19.62", "2710.19.64", "2710.19.68")
       for r in _ek11(p, 0.4, 0.2, 0.3, 0.2, 0.001, f"{p} fuel oil")]
    + [r for p in ("2710.19.71", "2710.19.75", "2710.19.81", "2710.19.83", "2710.19.85", "2710.19.87",
                   "2710.19.91", "2710.19.93") for r in _ek11(p, 0.4, 0.2, 0.3, 0.2, 0.001, f"{p} lubes")]
)


@dataclass(frozen=True)
class Tolerance:
    """The rate that applies to a transfer and where it came from."""

    pct: float
    source: str


class ToleranceTable:
    """Natural-loss rates by tariff prefix / product group and transport mode.

    Args:
        rules: The rates (site rules first would not matter: the most specific match wins).
        default_pct: Allowance when nothing matches (customary 0.5 %).
    """

    def __init__(self, rules: Iterable[ToleranceRule] = EK11_DEFAULTS, default_pct: float = DEFAULT_PCT) -> None:
        self.rules = tuple(rules)
        self.default_pct = default_pct

    @classmethod
    def from_config(cls, tolerances: Mapping[str, Any]) -> ToleranceTable:
        """Ek-11 defaults plus the site's ``[[tolerances.natural_loss]]`` rows (which take precedence)."""
        site = [ToleranceRule(float(r["pct"]), str(r.get("mode", "sea")), _norm(str(r.get("tariff_prefix", ""))),
                              str(r.get("product_group", "")), str(r.get("source", "site configuration")))
                for r in tolerances.get("natural_loss", [])]
        return cls(site + list(EK11_DEFAULTS), float(tolerances.get("default_pct", DEFAULT_PCT)))

    def lookup(self, tariff_code: str, product_group: str, mode: str) -> Tolerance:
        """The rate for a transfer: longest tariff prefix, then product group, then the default."""
        code = _norm(tariff_code)
        best: ToleranceRule | None = None
        for r in self.rules:
            if r.mode != mode or not r.tariff_prefix or not code.startswith(r.tariff_prefix):
                continue
            if best is None or len(r.tariff_prefix) > len(best.tariff_prefix):
                best = r
        if best is not None:
            return Tolerance(best.pct, best.source)
        for r in self.rules:
            if r.mode == mode and r.product_group and r.product_group == product_group:
                return Tolerance(r.pct, r.source)
        return Tolerance(self.default_pct, f"customary trade allowance {self.default_pct} %")
