"""Reads for the 包联 list and the contact pickers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..ordering import group_sort_key
from ..rules import phones
from ..store import Store


def contacts_by_role(store: Store, role: str) -> list[tuple[str, str]]:
    """(uuid, "name（post）") of contacts with the role, by name."""
    return [(u, f"{n}（{p}）" if p else n) for u, n, p in store.conn.execute(
        "SELECT uuid, name, post FROM contact WHERE deleted=0 AND role=? ORDER BY name", (role,))]


@dataclass(frozen=True)
class ContactRow:
    uuid: str
    role: str
    name: str
    post: str
    level: str
    phone: str
    households: int


def contact_rows(store: Store) -> list[ContactRow]:
    counts: dict[str, int] = defaultdict(int)
    for leader, staff in store.conn.execute("SELECT leader, staff FROM operator WHERE deleted=0"):
        for c in {leader, staff} - {None}:
            counts[c] += 1
    return [ContactRow(u, role, n, post or "", level or "", phones.format_phone(phone or ""), counts[u])
            for u, role, n, post, level, phone in store.conn.execute(
                "SELECT uuid, role, name, post, level, phone FROM contact WHERE deleted=0"
                " ORDER BY role, name")]


@dataclass(frozen=True)
class AssignRow:
    operator: str
    village: str
    group: str
    name: str
    leader: str
    staff: str


def assignment_rows(store: Store, village_uuid: str | None = None) -> list[AssignRow]:
    sql = ("SELECT o.uuid, v.name, coalesce(g.name, ''), o.name, coalesce(l.name, ''), coalesce(s.name, '')"
           " FROM operator o JOIN village v ON v.uuid=o.village"
           ' LEFT JOIN village_group g ON g.uuid=o."group" LEFT JOIN contact l ON l.uuid=o.leader'
           " LEFT JOIN contact s ON s.uuid=o.staff WHERE o.deleted=0")
    params: tuple[str, ...] = ()
    if village_uuid:
        sql += " AND o.village=?"
        params = (village_uuid,)
    rows = store.conn.execute(sql + " ORDER BY v.code, o.rowid", params).fetchall()
    # Within a village: 一组, 二组 … 十一组 counted (ungrouped first), then in entry order.
    order = {uuid: n for n, (uuid, *_rest) in enumerate(rows)}
    village_order = {name: n for n, (_, name, *_rest) in reversed(list(enumerate(rows)))}
    rows.sort(key=lambda r: (village_order[r[1]], group_sort_key(r[2]) if r[2] else (-1, ""),
                             order[r[0]]))
    return [AssignRow(*r) for r in rows]
