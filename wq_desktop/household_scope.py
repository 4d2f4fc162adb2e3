"""What belongs to a household: the one definition behind deleting and restoring a household,
the count shown before a delete, and the household's change history.

A household is an operator (耕地经营者) with the records that hang off it: its parcels with
their measures and patrols, the patrols' photos, its agreements and its courtyard planting.
Every other kind of record is shared by many households, and NOT_OF_A_HOUSEHOLD says why, so a
new kind has to be placed on one side or the other (tests/core/test_household_scope.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from .sqldriver import in_lists
from .store import Store

OPERATOR = "operator"


@dataclass(frozen=True)
class Link:
    """How records of a kind hang off a household: `field` names a record of kind `parent`."""

    field: str
    parent: str
    owner_kind: str | None = None  # photo.owner may be a patrol or a notice: only this kind counts
    order_by: str = "rowid"


# Each kind that belongs to a household, parents before children: the order a restore needs,
# since a record's references must be live again before it is.
BELONGS: dict[str, Link] = {
    "agreement": Link("operator", OPERATOR),
    "courtyard": Link("operator", OPERATOR),
    "parcel": Link("operator", OPERATOR, order_by="code"),
    "measure": Link("parcel", "parcel"),
    "patrol": Link("parcel", "parcel"),
    "photo": Link("owner", "patrol", owner_kind="patrol"),
}

NOT_OF_A_HOUSEHOLD: dict[str, str] = {
    "township": "乡镇 holds every household of the township",
    "village": "村 holds many households",
    "village_group": "组 holds many households",
    "contact": "包联人员 serve many households",
    "notice": "村公示 is posted for a whole village (its photos with it)",
    "water_quota": "亩均需水量 is set for the township",
    "water_target": "用水总量控制目标 is set for the township",
    "village_target": "村退减目标 is set for a village",
    "supervision": "督办 is the city office's instruction to a township (its target may be a household); "
                   "the township cannot remove it by deleting the household",
    "conflict": "a sync conflict concerns one record of any kind and is settled on its own",
}

def household_records(store: Store, operator_uuid: str, *, include_deleted: bool = False
                      ) -> dict[str, list[str]]:
    """UUIDs by kind of the household's records, the operator first. Live records only unless
    `include_deleted` (then what was deleted with or before it too, for history and restore).
    Children come grouped by their parent in the parent's order."""
    found: dict[str, list[str]] = {OPERATOR: [operator_uuid]}
    for kind_name, link in BELONGS.items():
        parents = found.get(link.parent, [])
        position = {uuid: n for n, uuid in enumerate(parents)}
        rows: list[tuple[str, str]] = []
        for marks, chunk in in_lists(parents):
            sql = f'SELECT uuid, "{link.field}" FROM "{kind_name}" WHERE "{link.field}" IN ({marks})'
            params: list[str] = chunk
            if link.owner_kind:
                sql += " AND owner_kind=?"
                params.append(link.owner_kind)
            if not include_deleted:
                sql += " AND deleted=0"
            rows += store.conn.execute(f"{sql} ORDER BY {link.order_by}", params).fetchall()
        rows.sort(key=lambda row: position[row[1]])  # stable: keeps order_by within a parent
        found[kind_name] = [uuid for uuid, _parent in rows]
    return found


def household_record_list(store: Store, operator_uuid: str, *, include_deleted: bool = False
                          ) -> list[tuple[str, str]]:
    """The same records as (kind, uuid) pairs, the operator first, parents before children."""
    return [(kind_name, uuid)
            for kind_name, uuids in household_records(store, operator_uuid,
                                                      include_deleted=include_deleted).items()
            for uuid in uuids]
