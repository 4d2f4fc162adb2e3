"""Reads for the open-rectification list: patrols that found a problem not yet put right."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..model import PatrolResult
from ..store import Store


@dataclass(frozen=True)
class RectificationRow:
    patrol: str
    operator: str
    operator_name: str
    village: str
    parcel_code: str
    visited_on: str
    result: str
    requirement: str
    deadline: str
    responsible: str
    overdue_days: int  # > 0 when past the deadline

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0


def open_rectifications(store: Store, today: date | None = None) -> list[RectificationRow]:
    """Violations not yet closed, overdue ones first."""
    today = today or date.today()
    rows = []
    for uuid, op, op_name, village, code, visited, result, req, deadline, resp in store.conn.execute(
            "SELECT t.uuid, o.uuid, o.name, v.name, p.code, t.visited_on, t.result, t.rect_requirement,"
            " t.rect_deadline, t.rect_responsible FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
            " JOIN operator o ON o.uuid=p.operator JOIN village v ON v.uuid=p.village"
            " WHERE t.deleted=0 AND t.closed_on IS NULL"
            " AND (t.result<>? OR t.rect_requirement IS NOT NULL OR t.rect_deadline IS NOT NULL)",
            (PatrolResult.COMPLIANT,)):
        overdue = (today - date.fromisoformat(deadline)).days if deadline else 0
        rows.append(RectificationRow(uuid, op, op_name, village, code, visited, result, req or "",
                                     deadline or "", resp or "", max(overdue, 0)))
    rows.sort(key=lambda r: (-r.overdue_days, r.deadline or "9999", r.visited_on))
    return rows
