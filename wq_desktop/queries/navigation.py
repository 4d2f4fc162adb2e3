"""Reads for the navigation tree and the year box: townships, villages, 组, known years, and
where in the window a record is shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..ordering import group_sort_key
from ..schema import KINDS
from ..store import Record, Store


@dataclass(frozen=True)
class GroupNode:
    uuid: str
    name: str
    households: int


@dataclass(frozen=True)
class VillageNode:
    uuid: str
    name: str
    code: str
    households: int
    groups: list[GroupNode]
    ungrouped: int  # households without a 组


@dataclass(frozen=True)
class TownshipNode:
    uuid: str
    name: str
    code: str
    households: int
    villages: list[VillageNode]


def navigation_tree(store: Store) -> list[TownshipNode]:
    """乡镇 → 村 → 组, each with its number of live households."""
    conn = store.conn
    by_group = dict(conn.execute(
        'SELECT "group", count(*) FROM operator WHERE deleted=0 AND "group" IS NOT NULL GROUP BY "group"'))
    by_village = dict(conn.execute(
        "SELECT village, count(*) FROM operator WHERE deleted=0 GROUP BY village"))
    groups: dict[str, list[GroupNode]] = defaultdict(list)
    for uuid, village, name in conn.execute(
            "SELECT uuid, village, name FROM village_group WHERE deleted=0 ORDER BY name"):
        groups[village].append(GroupNode(uuid, name, by_group.get(uuid, 0)))
    for village_groups in groups.values():
        village_groups.sort(key=lambda g: group_sort_key(g.name))
    villages: dict[str, list[VillageNode]] = defaultdict(list)
    for uuid, township, name, code in conn.execute(
            "SELECT uuid, township, name, code FROM village WHERE deleted=0 ORDER BY code"):
        total = by_village.get(uuid, 0)
        grouped = sum(g.households for g in groups[uuid])
        villages[township].append(VillageNode(uuid, name, code, total, groups[uuid], total - grouped))
    return [TownshipNode(uuid, name, code, sum(v.households for v in villages[uuid]), villages[uuid])
            for uuid, name, code in conn.execute(
                "SELECT uuid, name, code FROM township WHERE deleted=0 ORDER BY code")]


def known_years(store: Store) -> list[int]:
    """Every year that has measures, agreements, notices or patrols, newest first."""
    years: set[int] = set()
    for table in ("measure", "agreement", "notice", "patrol"):
        years.update(y for (y,) in store.conn.execute(
            f"SELECT DISTINCT year FROM {table} WHERE deleted=0") if y)
    return sorted(years, reverse=True)


def latest_year(store: Store) -> int | None:
    years = known_years(store)
    return years[0] if years else None


def village_groups(store: Store, village_uuid: str) -> list[tuple[str, str]]:
    """(uuid, name) of a village's 组 in counting order."""
    rows = store.conn.execute("SELECT uuid, name FROM village_group WHERE village=? AND deleted=0",
                              (village_uuid,)).fetchall()
    return sorted(rows, key=lambda r: group_sort_key(r[1]))


def villages(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT uuid, name FROM village WHERE deleted=0 ORDER BY code").fetchall()


def townships(store: Store) -> list[tuple[str, str]]:
    return store.conn.execute("SELECT uuid, name FROM township WHERE deleted=0 ORDER BY code").fetchall()


def township_by_code(store: Store, code: str) -> Record | None:
    """The live township with this 12-digit code (None when there is none)."""
    return store.find_one("township", "code=?", (code,))


def own_township(store: Store) -> Record | None:
    """The township a laptop's store is kept for (its one live township), None before setup."""
    rows = store.find("township")
    return rows[0] if rows else None


def households_in_village(store: Store, village_uuid: str) -> list[tuple[str, str, str | None]]:
    """(uuid, name, 组 name) of a village's live households, by name then 组: for pickers."""
    return store.conn.execute(
        "SELECT o.uuid, o.name, g.name FROM operator o LEFT JOIN village_group g ON g.uuid=o.\"group\""
        " WHERE o.deleted=0 AND o.village=? ORDER BY o.name, g.name", (village_uuid,)).fetchall()


def parcel_of(store: Store, kind_name: str, uuid: str) -> str | None:
    """The parcel a parcel or measure record belongs to (None for other kinds or unknown ones)."""
    if kind_name == "parcel":
        return uuid
    if kind_name != "measure":
        return None
    row = store.conn.execute("SELECT parcel FROM measure WHERE uuid=?", (uuid,)).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class RecordPlace:
    """Where in the window a record is shown: its household, else its village."""

    operator: str | None
    village: str | None
    patrol: str | None = None


def place_of(store: Store, kind_name: str, uuid: str) -> RecordPlace:
    """The household (or village) view that shows a record, for opening a check's finding."""
    q = store.conn.execute
    if kind_name == "operator":
        row = q("SELECT uuid, village FROM operator WHERE uuid=?", (uuid,)).fetchone()
    elif kind_name == "parcel":
        row = q("SELECT operator, village FROM parcel WHERE uuid=?", (uuid,)).fetchone()
    elif kind_name == "measure":
        row = q("SELECT p.operator, p.village FROM measure m JOIN parcel p ON p.uuid=m.parcel"
                " WHERE m.uuid=?", (uuid,)).fetchone()
    elif kind_name == "agreement":
        row = q("SELECT o.uuid, o.village FROM agreement a JOIN operator o ON o.uuid=a.operator"
                " WHERE a.uuid=?", (uuid,)).fetchone()
    elif kind_name == "patrol":
        row = q("SELECT p.operator, p.village FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
                " WHERE t.uuid=?", (uuid,)).fetchone()
        return RecordPlace(row[0], row[1], uuid) if row else RecordPlace(None, None)
    elif kind_name == "courtyard":
        row = q("SELECT o.uuid, o.village FROM courtyard c JOIN operator o ON o.uuid=c.operator"
                " WHERE c.uuid=?", (uuid,)).fetchone()
    elif kind_name in ("notice", "village_group", "village_target"):
        row = q(f'SELECT NULL, village FROM "{kind_name}" WHERE uuid=?', (uuid,)).fetchone()
    elif kind_name == "village":
        row = (None, uuid)
    else:
        row = None
    return RecordPlace(row[0], row[1]) if row else RecordPlace(None, None)


def township_of_place(store: Store, kind_name: str, uuid: str) -> str | None:
    """The township (UUID) a record belongs to, for grouping a city's findings by township."""
    place = place_of(store, kind_name, uuid)
    if place.village:
        row = store.conn.execute("SELECT township FROM village WHERE uuid=?", (place.village,)).fetchone()
        return row[0] if row else None
    if kind_name == "township":
        return uuid
    if "township" in KINDS[kind_name].field_names:
        row = store.conn.execute(f'SELECT township FROM "{kind_name}" WHERE uuid=?', (uuid,)).fetchone()
        return row[0] if row else None
    return None
