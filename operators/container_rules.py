"""In-port rules of circular 2017/3 beyond holds and exits: forms, withdrawn exports, empties, stuffing.

Each rule is a check made when an event of the container is folded into its state (see
:mod:`operators.container_state`), on the state as it stood at the event's time, so a late event placed
earlier in event time changes the verdict (and the alert ledger resolves what no longer holds):

* **A.6.5** — "during the approval [of the container tracking form] it is checked automatically through the
  Container and Port Tracking System whether the container is in the port area": a ``tracking_form_approved``
  for a container that is not in the port (never arrived, or already left) is reported
  (``tracking_form_not_in_port``).
* **B.3.18** — "if the export of goods brought into the port area for export is abandoned, the approval for
  their exit is required when they leave the port area": a container whose visit began with an export
  ``gate_in`` may leave by the gate only after ``export_withdrawal_approved`` (refused in
  :func:`~operators.container_state.may_exit`, reported as ``abandoned_export_exit`` when it leaves anyway).
* **A.4.14** — an empty container that entered temporary storage empty and leaves empty without any
  declaration: (a) the container agent's list of empties is sent to BİLGE (``empty_list_registered``),
  (b) the list is the temporary-storage exit record, (c) the officer approves the exits
  (``empty_list_approved``), (d) at the approval the system checks that the empty container was not made the
  subject of any declaration. An approved list counts as the storage exit record; a listed container that
  entered full, is not empty now (stuffed in the port), carries a customs declaration or is not in the port
  is reported (``empty_list_check_failed``). Closing the summary declaration's B/L lines (e) is BİLGE's side.
* **Stuffing and stripping inside the port** — A.3.7 only asks the port operator to report them; what makes
  them checkable is elsewhere in the circular: stripping inside the port is a form of customs examination
  set by the officer ("İç Boşaltma", A.4.3), goods under an inspection hold stay as they are until the hold
  is lifted (A.2.19, A.2.21), breaking a seal and the new seal must be recorded (A.2.18, A.2.22, A.4.4).
  Hence: stuffing/stripping under an open hold (``stuffing_with_open_hold``), with neither a declaration
  nor a supervising officer (``stuffing_without_reference``), stripping a container whose seal is intact on
  record, i.e. no seal break recorded (``stripping_seal_not_recorded``), and a container stuffed in the port
  not sealed within ``stuffing_seal_max_h`` or before it leaves (``stuffed_not_sealed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from operators.events import iso_ms
from operators.port_events import PortEvent

if TYPE_CHECKING:
    from operators.alerts import Severity
    from operators.container_state import ContainerParams, ContainerState

#: Alert kinds raised by these rules.
RULE_KINDS = frozenset({"tracking_form_not_in_port", "abandoned_export_exit", "empty_list_check_failed",
                        "stuffing_with_open_hold", "stuffing_without_reference", "stripping_seal_not_recorded",
                        "stuffed_not_sealed"})
IN_PORT = frozenset({"discharged", "in_storage", "storage_exited", "gate_in"})


def empty_list_problems(s: ContainerState) -> list[str]:
    """Why a container may not leave on a list of empties (A.4.14 d); empty when it may.

    Args:
        s: The container's state when the list is approved.

    Returns:
        One phrase per problem.
    """
    problems = []
    if s.status not in IN_PORT:
        problems.append(f"not in the port (status {s.status})")
    if s.entry_load_status and s.entry_load_status != "empty":
        problems.append(f"entered {s.entry_load_status}, not empty")
    if s.load_status and s.load_status != "empty":
        problems.append(f"{s.load_status} now" + (" (stuffed in the port)" if s.stuffed_at is not None else ""))
    if s.declaration_no or s.declaration_completed:
        problems.append(f"subject of declaration {s.declaration_no or '?'}")
    return problems


class RuleHandlers:
    """Event handlers of these rules, mixed into the container fold (``_on_<kind>`` and hooks).

    The fold provides ``s`` (the state), ``p`` (the thresholds) and :meth:`alert`.
    """

    s: ContainerState
    p: ContainerParams

    def alert(self, kind: str, severity: Severity, start: datetime, end: datetime, message: str,
              details: Mapping[str, Any], discriminator: str = "") -> None:
        """Record a finding (implemented by the fold)."""
        raise NotImplementedError

    # A.6.5 -----------------------------------------------------------------------------------------------
    def check_form_in_port(self, ev: PortEvent) -> None:
        """A.6.5: the tracking form's approval finds the container in the port (called before the state moves)."""
        s = self.s
        if s.status not in IN_PORT:
            self.alert("tracking_form_not_in_port", "warning", ev.ts, ev.ts,
                       f"Container tracking form {ev.text('form_no')} approved while the container is not in the "
                       f"port (status {s.status}): the approval checks that it is (A.6.5).",
                       {"form_no": ev.text("form_no"), "status": s.status, "event_id": ev.event_id},
                       discriminator=ev.event_id)

    # B.3.18 ----------------------------------------------------------------------------------------------
    def _on_export_withdrawal_approved(self, ev: PortEvent) -> None:
        self.s.export_withdrawal_approved = True

    # A.4.14 ----------------------------------------------------------------------------------------------
    def _on_empty_list_registered(self, ev: PortEvent) -> None:
        s = self.s
        s.empty_list_no = ev.text("list_no")
        if s.empty_list_status != "approved":
            s.empty_list_status = "registered"

    def _on_empty_list_approved(self, ev: PortEvent) -> None:
        s = self.s
        problems = empty_list_problems(s)
        if problems:
            self.alert("empty_list_check_failed", "critical", ev.ts, ev.ts,
                       f"Container approved to leave on list of empties {ev.text('list_no')} but "
                       f"{'; '.join(problems)}: only a container that entered empty and is the subject of no "
                       "declaration may leave on the list (A.4.14).",
                       {"list_no": ev.text("list_no"), "problems": problems, "status": s.status,
                        "entry_load_status": s.entry_load_status, "load_status": s.load_status,
                        "declaration_no": s.declaration_no, "event_id": ev.event_id},
                       discriminator=ev.event_id)
        s.empty_list_no, s.empty_list_status = ev.text("list_no"), "approved"
        if s.status in ("discharged", "in_storage"):  # the approved list is the storage exit record (A.4.14 b)
            s.status, s.storage_exited_at = "storage_exited", ev.ts

    # stuffing and stripping (A.3.7, A.4.3, A.2.19-22, A.4.4) -----------------------------------------------
    def _stuffing_checks(self, ev: PortEvent) -> None:
        s = self.s
        what = "stuffed" if ev.event == "stuffed" else "stripped"
        if s.holds:
            self.alert("stuffing_with_open_hold", "critical", ev.ts, ev.ts,
                       f"Container {what} in the port while an inspection hold is open ({', '.join(sorted(s.holds))}):"
                       " the goods stay as they are until customs lifts the hold (A.2.19, A.2.21).",
                       {"event": ev.event, "holds": sorted(s.holds), "event_id": ev.event_id},
                       discriminator=ev.event_id)
        if not ev.text("declaration_no").strip() and not ev.text("officer_id").strip():
            self.alert("stuffing_without_reference", "warning", ev.ts, ev.ts,
                       f"Container {what} in the port with neither a customs declaration nor a supervising officer "
                       "recorded: record under which declaration or examination it was done (A.3.7, A.4.3).",
                       {"event": ev.event, "event_id": ev.event_id}, discriminator=ev.event_id)

    def _on_stuffed(self, ev: PortEvent) -> None:
        s = self.s
        self._stuffing_checks(ev)
        s.load_status, s.stuffed_at, s.stuffing_event_id = "full", ev.ts, ev.event_id
        s.declaration_no = ev.text("declaration_no") or s.declaration_no
        s.stuffing_sealed = bool(ev.text("seal_no").strip())
        if s.stuffing_sealed:
            s.seal_no = ev.text("seal_no")

    def _on_stripped(self, ev: PortEvent) -> None:
        s = self.s
        self._stuffing_checks(ev)
        if s.seal_no:
            self.alert("stripping_seal_not_recorded", "warning", ev.ts, ev.ts,
                       f"Container stripped in the port while its seal {s.seal_no} is intact on record: record the "
                       "broken seal and the operation (A.2.22, A.4.4).",
                       {"seal_no": s.seal_no, "event_id": ev.event_id}, discriminator=ev.event_id)
        s.load_status, s.seal_no = "empty", ""
        s.declaration_no = ev.text("declaration_no") or s.declaration_no

    def _on_sealed(self, ev: PortEvent) -> None:
        self.s.seal_no = ev.text("seal_no")
        self.sealed_after_stuffing()

    def sealed_after_stuffing(self) -> None:
        """A new seal was put on the container (``sealed``, ``seal_replaced``): it closes a pending stuffing."""
        if self.s.stuffed_at is not None:
            self.s.stuffing_sealed = True

    def check_stuffed_sealed(self, ev: PortEvent) -> None:
        """A container stuffed in the port is sealed within the limit, and before it leaves (called per event)."""
        s = self.s
        if s.stuffed_at is None or s.stuffing_sealed or s.stuffing_reported:
            return
        deadline = s.stuffed_at + timedelta(hours=self.p.stuffing_seal_max_h)
        if ev.ts <= deadline and ev.event not in ("gate_out", "loaded"):
            return
        s.stuffing_reported = True
        self.alert("stuffed_not_sealed", "warning", s.stuffed_at, deadline,
                   f"Container stuffed in the port at {iso_ms(s.stuffed_at)} has no seal recorded within "
                   f"{self.p.stuffing_seal_max_h:g} h or before it left: record the new seal (A.2.18, A.4.4).",
                   {"stuffed_at": iso_ms(s.stuffed_at), "limit_h": self.p.stuffing_seal_max_h,
                    "stuffing_event_id": s.stuffing_event_id},
                   discriminator=s.stuffing_event_id)
