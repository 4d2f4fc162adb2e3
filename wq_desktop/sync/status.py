"""Read-only answers about the state of sync, for the status bar and the sync dialogs:
when the last sync finished, what waits, which changes the server refused and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import NotFoundError
from ..model import record_op_label
from ..outbox import WITH_ENTRY, queued_fields
from ..schema import KINDS
from ..store import Store
from . import protocol as p
from .photo_sync import waiting_upload_count


@dataclass(frozen=True)
class SyncStatus:
    last_sync_at: str | None  # ISO 8601 UTC, as stored
    pending: int  # changes waiting to be pushed, counted up to the `pending_up_to` asked for
    rejected: int
    open_conflicts: int
    waiting_photos: int


@dataclass(frozen=True)
class RejectedChange:
    seq: int
    kind: str
    kind_label: str
    record: str
    title: str
    op_text: str
    field_labels: list[str]
    at: str
    user: str
    reason: str


def sync_status(store: Store, pending_up_to: int | None = None) -> SyncStatus:
    """Everything the status bar says about sync, one look at each table (the outbox's waiting
    count walks its index up to `pending_up_to`: a second at a million waiting changes)."""
    rejected = store.conn.execute("SELECT count(*) FROM outbox WHERE state='rejected'").fetchone()[0]
    return SyncStatus(store.meta("sync_last_at"), store.pending_changes(up_to=pending_up_to), rejected,
                      store.count("conflict", "status=?", (p.OPEN,)), waiting_upload_count(store))


def local_time_text(iso: str | None, never: str = "从未") -> str:
    """A stored UTC time as the user's local 2026-07-28 14:03."""
    if not iso:
        return never
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")


def record_title(store: Store, kind_name: str, record: str) -> str:
    """A name a user recognises: the record's name, code or number, else its household's or parcel's."""
    if kind_name not in KINDS:
        return record[:8]
    try:
        rec = store.get(kind_name, record, include_deleted=True)
    except NotFoundError:
        return record[:8]
    for name in ("name", "code", "number"):
        if rec.get(name):
            return str(rec[name])
    for parent in ("operator", "parcel", "village"):
        if rec.get(parent):
            return f"{record_title(store, parent, rec[parent])}的{KINDS[kind_name].label}"
    return record[:8]


def _field_labels(kind_name: str, fields: str | None, changes: str | None) -> list[str]:
    try:
        names = list(queued_fields(kind_name, fields, changes))
    except (ValueError, TypeError, KeyError, IndexError):
        return []
    k = KINDS.get(kind_name)
    out = []
    for name in names:
        try:
            out.append(k.field(name).label if k else name)
        except KeyError:
            out.append(name)
    return out


def rejected_changes(store: Store) -> list[RejectedChange]:
    """Changes the server refused, oldest first. They stay in this store (nothing is lost)."""
    rows = store.conn.execute(
        "SELECT o.seq, o.kind, o.record, o.op, o.fields, h.changes, o.at, o.user, o.reason"
        f" FROM {WITH_ENTRY} WHERE o.state='rejected' ORDER BY o.seq").fetchall()
    return [RejectedChange(seq, kind_name, KINDS[kind_name].label if kind_name in KINDS else kind_name,
                           record, record_title(store, kind_name, record), record_op_label(op),
                           _field_labels(kind_name, fields, changes), at, user,
                           reason or "服务器拒绝了该修改。")
            for seq, kind_name, record, op, fields, changes, at, user, reason in rows]


def conflict_time(store: Store, conflict_uuid: str) -> str | None:
    """When the later of the two conflicting edits was made (ISO UTC)."""
    rec = store.get("conflict", conflict_uuid, include_deleted=True)
    times = [t for t in (rec.get("mine_at"), rec.get("theirs_at")) if t]
    return max(times) if times else None
