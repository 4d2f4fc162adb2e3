"""Which township a record belongs to, found through its references, derived from the schema.

A kind's scope comes from its reference to the township, else from its required reference to
another record (village → township, operator → village, measure → parcel, …). Two kinds hold a
record of any kind instead of a typed reference: a photo (`owner`) and a sync conflict
(`record`). `scope_field` answers for every kind the schema declares, so a new kind cannot be
added without a scope (tests/server iterate over every kind). The answer is kept in srv_scope
when the record is created (a session's `add_scope`), so every later read and write checks scope
with one lookup (its `scope_of`). `store`: a server store session (db.Session /
pg_session.PgSession).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from wq_desktop.schema import KINDS

# Fields that hold the UUID of a record of any kind (so the schema cannot declare their `ref`).
ANY_KIND_REF = {"photo": "owner", "conflict": "record"}


@cache
def uuid_fields(kind_name: str) -> tuple[tuple[str, str | None], ...]:
    """(field, kind it names; None: any kind) of every field of this kind that holds a record's
    UUID: what a pushed change's references are read ahead and redirected by."""
    return tuple((f.name, f.ref) for f in KINDS[kind_name].fields
                 if f.ref or ANY_KIND_REF.get(kind_name) == f.name)


@cache
def scope_field(kind_name: str) -> str | None:
    """The field whose referenced record carries this kind's township (None for the township)."""
    if kind_name == "township":
        return None
    if kind_name in ANY_KIND_REF:
        return ANY_KIND_REF[kind_name]
    k = KINDS[kind_name]
    refs = [f for f in k.fields if f.ref and f.required]
    for f in refs:
        if f.ref == "township":
            return f.name
    if refs:
        return refs[0].name
    raise LookupError(f"记录类型 {kind_name} 没有指向上级记录的必填引用，服务器无法确定其所属乡镇。")


def township_of_state(store: Any, kind_name: str, record: str,
                      state: dict[str, Any]) -> str | None:
    """The township a record with these field values belongs to (None: its parent is unknown)."""
    name = scope_field(kind_name)
    if name is None:
        return record
    parent = state.get(name)
    return store.scope_of(parent) if isinstance(parent, str) and parent else None
