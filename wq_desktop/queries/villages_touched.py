"""Which villages a change touched: the village page redraws only when its own village is among
them (an edit in another village leaves its table alone)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..sqldriver import in_lists
from ..store import Store

# How a record of each kind the village page shows reaches its village (tombstones included:
# a deleted household still leaves the table of its village).
_VILLAGE_OF = {
    "village": "SELECT uuid FROM village WHERE uuid IN ({})",
    "village_group": "SELECT village FROM village_group WHERE uuid IN ({})",
    "operator": "SELECT village FROM operator WHERE uuid IN ({})",
    "parcel": "SELECT village FROM parcel WHERE uuid IN ({})",
    "notice": "SELECT village FROM notice WHERE uuid IN ({})",
    "measure": "SELECT p.village FROM measure m JOIN parcel p ON p.uuid=m.parcel WHERE m.uuid IN ({})",
    "agreement": "SELECT o.village FROM agreement a JOIN operator o ON o.uuid=a.operator"
                 " WHERE a.uuid IN ({})",
    "courtyard": "SELECT o.village FROM courtyard c JOIN operator o ON o.uuid=c.operator"
                 " WHERE c.uuid IN ({})",
}
VILLAGE_KINDS = tuple(_VILLAGE_OF)
# A household or parcel moved to another village also leaves the old one, which the written
# record no longer names.
MOVING_KINDS = ("operator", "parcel")


def villages_written(store: Store, records: Mapping[str, Iterable[str]]) -> set[str]:
    """The UUIDs of the villages whose page shows one of `records` (kind → record UUIDs)."""
    villages: set[str] = set()
    for kind, sql in _VILLAGE_OF.items():
        ids = list(records.get(kind, ()))
        for marks, part in in_lists(ids):
            villages.update(v for (v,) in store.conn.execute(sql.format(marks), part) if v)
    return villages
