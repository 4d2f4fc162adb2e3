"""The sync outbox as the programs before schema 14 wrote and read it: every row with its own
copy of the changed fields (`fields`, json.dumps text), for tests that write a file at an older
version through today's store."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wq_desktop import json_text
from wq_desktop import store as store_mod
from wq_desktop.store import Store

V13_INSERT = ("INSERT INTO outbox (change_id, kind, record, op, base_rev, rev, fields, at, user)"
              " VALUES (?,?,?,?,?,?,?,?,?)")


def write_outbox_before_schema_14(mp: pytest.MonkeyPatch) -> None:
    """Store writes (and reads back, for the edit base) outbox rows as schema 13 did."""
    mp.setattr(store_mod, "WITH_ENTRY", "outbox o")
    mp.setattr(store_mod, "NAMES_TEXT", "o.fields")
    mp.setattr(Store, "_OUTBOX_INSERT", V13_INSERT)

    def v13_row(self: Store, k: Any, record_uuid: str, op: str, rev: int, changes: dict,
                at: str, entry: int, change_id: str | None = None) -> tuple[Any, ...]:
        base = self._edit_base(record_uuid, op, changes.keys())
        return (change_id or store_mod.new_change_id(), k.name, record_uuid, op, base, rev,
                json_text.plain({n: c[1] for n, c in changes.items()}), at, self.user)
    mp.setattr(Store, "_outbox_row", v13_row)


def v13_page(conn: Any) -> list[dict[str, Any]]:
    """What schema 13's push sent: its sync.apply.outbox_page over the whole outbox."""
    rows = conn.execute("SELECT change_id, kind, record, op, fields, at, user, base_rev FROM outbox"
                        " WHERE state='pending' ORDER BY seq").fetchall()
    return [{"change_id": r[0], "kind": r[1], "record": r[2], "op": r[3], "fields": json.loads(r[4]),
             "at": r[5], "user": r[6], "base_rev": r[7]} for r in rows]
