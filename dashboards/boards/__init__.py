"""Every dashboard, one module each: a flow's dashboard is a module with ``UID`` and ``board()`` listed here."""

from __future__ import annotations

from collections.abc import Callable

from dashboards.boards import alerts_reconciliation, camera_health, containers, fuel_transfer, gate_operations, vgm
from dashboards.spec import Board

#: Board factories in display order.
BOARDS: tuple[Callable[[], Board], ...] = (fuel_transfer.board, alerts_reconciliation.board, vgm.board,
                                           gate_operations.board, camera_health.board,
                                           containers.board)


def all_boards() -> list[Board]:
    """Every board, built."""
    return [make() for make in BOARDS]
