"""Every dashboard, one module each: a flow's dashboard is a module with ``UID`` and ``board()`` listed here."""

from __future__ import annotations

from collections.abc import Callable

from dashboards.boards import alerts_reconciliation, fuel_transfer, vgm
from dashboards.spec import Board

#: Board factories in display order.
BOARDS: tuple[Callable[[], Board], ...] = (fuel_transfer.board, alerts_reconciliation.board, vgm.board)


def all_boards() -> list[Board]:
    """Every board, built."""
    return [make() for make in BOARDS]
