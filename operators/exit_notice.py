"""Export exit notice against its declarations (B.3, second sub-part, items 5–7).

The package count of an exit notice must equal the total of its export/transit declarations (otherwise
its registration is refused); a weight difference is a warning to the agent, and above 10 % (configurable)
of the declared weight the goods may not be loaded. The kg verdict is the one rule of
:func:`operators.declaration_balance.judge_kg` (the gate-out balance uses it too).
"""

from __future__ import annotations

from operators.alerts import Alert
from operators.declaration_balance import BalanceRule, judge_kg
from operators.port_events import PortEvent


def check_exit_notice(ev: PortEvent, block_pct: float = 10.0, flow: str = "containers") -> list[Alert]:
    """The findings of one exit notice.

    Args:
        ev: An ``exit_notice`` event (validated: counts, weights and declarations present).
        block_pct: Weight difference, in % of the declarations' weight, above which loading is blocked.
        flow: Flow name recorded on alerts.

    Returns:
        ``exit_notice_package_mismatch`` (critical), ``exit_notice_weight_blocked`` (critical) or
        ``exit_notice_weight_difference`` (warning) alerts; none when the notice matches.
    """
    decls = ev.get("declarations")
    declared_packages = sum(int(d["package_count"]) for d in decls)
    declared_kg = sum(float(d["gross_kg"]) for d in decls)
    packages, kg = int(ev.get("package_count")), float(ev.get("gross_kg"))
    no = ev.text("exit_notice_no")
    details = {"vessel_call_id": ev.text("vessel_call_id"), "declarations": [d["declaration_no"] for d in decls],
               "declared_packages": declared_packages, "notice_packages": packages,
               "declared_kg": declared_kg, "notice_kg": kg, "event_id": ev.event_id}
    alerts = []
    if packages != declared_packages:
        alerts.append(Alert("exit_notice_package_mismatch", "critical", "exit_notice", no, ev.ts, ev.ts,
                            f"Exit notice {no} declares {packages} packages, its declarations {declared_packages}: "
                            "registration is refused (B.3 5(b)).", details, flow))
    diff_kg = kg - declared_kg
    verdict = judge_kg(declared_kg, kg, BalanceRule(0.0, block_pct))
    if verdict != "ok":
        pct = abs(diff_kg) / declared_kg * 100.0 if declared_kg else float("inf")
        d = {**details, "difference_kg": round(diff_kg, 3),
             "difference_pct": round(pct, 3) if declared_kg else None, "block_pct": block_pct}
        if verdict == "block":
            alerts.append(Alert("exit_notice_weight_blocked", "critical", "exit_notice", no, ev.ts, ev.ts,
                                f"Exit notice {no} weight differs from its declarations by {pct:.1f} % "
                                f"(> {block_pct:g} %): the goods may not be loaded (B.3 7).", d, flow))
        else:
            alerts.append(Alert("exit_notice_weight_difference", "warning", "exit_notice", no, ev.ts, ev.ts,
                                f"Exit notice {no} weight differs from its declarations by {diff_kg:+.1f} kg "
                                f"({pct:.2f} %): warn the agent (B.3 5(c)).", d, flow))
    return alerts
