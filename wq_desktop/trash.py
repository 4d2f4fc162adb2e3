"""Read-only view of deleted (tombstoned) households, for the 已删除的农户 window.

Restoring is `services.restore_household`; this module only lists what could be restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .rules.masking import mask_id
from .store import Store


@dataclass(frozen=True)
class DeletedHousehold:
    uuid: str
    village: str  # village uuid
    name: str
    masked_id: str  # never the full ID number: the list is shown on screen in an office
    deleted_at: str  # local time "2026-11-29 18:50", or "" when history does not say
    deleted_by: str


def _local_time(at: str) -> str:
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return at


def deleted_households(store: Store, village_uuid: str | None = None) -> list[DeletedHousehold]:
    """Tombstoned operators (of one village if given), most recently deleted first."""
    where, params = ("deleted = 1 AND village = ?", (village_uuid,)) if village_uuid else ("deleted = 1", ())
    found: list[tuple[int, DeletedHousehold]] = []
    for op in store.find("operator", where, params, include_deleted=True):
        entries = store.history(op["uuid"])
        last = entries[-1] if entries else None
        # The tombstone's own entry says who deleted it and when; a record deleted before it ever
        # had history (an imported tombstone) still shows, without a time.
        if last is not None and last.op == "delete":
            at, by, seq = _local_time(last.at), last.user, last.seq
        else:
            at, by, seq = "", "", -1
        found.append((seq, DeletedHousehold(op["uuid"], op["village"], op["name"],
                                            mask_id(op["id_code"]), at, by)))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [household for _seq, household in found]
