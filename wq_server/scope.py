"""Which township a record belongs to, found through its references.

village → township, village_group → village, operator → village, parcel → village,
measure → parcel, agreement → operator, notice → village, patrol → parcel,
photo → its owner record, conflict → the record in conflict. The answer is kept in srv_scope when
the record is created, so every later read and write checks scope with one lookup.
"""

from __future__ import annotations

import sqlite3
from typing import Any

# kind -> the field whose referenced record carries the township
PARENT_FIELD = {
    "village": "township", "contact": "township", "village_group": "village",
    "operator": "village", "parcel": "village", "measure": "parcel", "agreement": "operator",
    "notice": "village", "patrol": "parcel", "photo": "owner", "conflict": "record",
    "courtyard": "operator", "water_target": "township", "village_target": "village",
}


def township_of_record(conn: sqlite3.Connection, record: str) -> str | None:
    row = conn.execute("SELECT township FROM srv_scope WHERE record=?", (record,)).fetchone()
    return row[0] if row else None


def township_of_state(conn: sqlite3.Connection, kind_name: str, record: str,
                      state: dict[str, Any]) -> str | None:
    """The township a record with these field values belongs to (None: its parent is unknown)."""
    if kind_name == "township":
        return record
    parent = state.get(PARENT_FIELD[kind_name])
    return township_of_record(conn, parent) if parent else None


def remember(conn: sqlite3.Connection, kind_name: str, record: str, township: str) -> None:
    conn.execute("INSERT OR IGNORE INTO srv_scope (record, kind, township) VALUES (?,?,?)",
                 (record, kind_name, township))
