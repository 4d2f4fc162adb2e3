"""Store what the server sent: acknowledgements of pushed changes and other devices' changes.

Both take the server's state through Store.apply_pulled_many (validation and history as for any
change, no outbox row, the server's revision kept in sync_base), a pulled page in one batch. A
field that still has a local change waiting to be pushed keeps its local value, so a pull never
hides an edit before it reached the server. A change at or below the revision this device already holds is
skipped: a page stored twice (after a crash between storing and saving the cursor) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .. import sqldriver
from ..model import RecordOp, op_between
from ..outbox import NAMES_TEXT, WITH_ENTRY, queued_fields, queued_names
from ..schema import KINDS
from ..store import Pulled, Store
from . import protocol as p
from .errors import SyncError

SYNC_USER = "同步服务"  # the author of local writes sync makes on its own (moving a duplicate's links)


@contextmanager
def _unlinked_is_a_sync_error() -> Iterator[None]:
    """A page that refers to records this device does not hold rolls back whole, as a message."""
    try:
        yield
    except sqldriver.IntegrityError:  # the store's driver (SQLCipher), not the stdlib's
        raise SyncError("服务器发来的修改引用了本机没有的记录，本页未写入。请再同步一次；"
                        "仍出现请联系管理员。") from None


def outbox_page(store: Store, limit: int) -> list[p.Change]:
    """The oldest waiting changes, each with the server revision its edit was made against
    (fixed when the edit was made: see Store._edit_base)."""
    rows = store.conn.execute(
        "SELECT o.change_id, o.kind, o.record, o.op, o.fields, h.changes, o.at, o.user, o.base_rev"
        f" FROM {WITH_ENTRY} WHERE o.state='pending' ORDER BY o.seq LIMIT ?", (limit,)).fetchall()
    return [{"change_id": r[0], "kind": r[1], "record": r[2], "op": r[3],
             "fields": queued_fields(r[1], r[4], r[5]), "at": r[6], "user": r[7], "base_rev": r[8]}
            for r in rows]


def server_rev(store: Store, record: str) -> int:
    row = store.conn.execute("SELECT server_rev FROM sync_base WHERE record=?", (record,)).fetchone()
    return row[0] if row else 0


_SET_SERVER_REV = ("INSERT INTO sync_base (record, kind, server_rev) VALUES (?,?,?)"
                   " ON CONFLICT(record) DO UPDATE SET server_rev=excluded.server_rev")


def set_server_rev(store: Store, kind_name: str, record: str, rev: int) -> None:
    store.conn.execute(_SET_SERVER_REV, (record, kind_name, rev))


def waiting_fields(store: Store, record: str) -> set[str]:
    rows = store.conn.execute(f"SELECT {NAMES_TEXT} FROM {WITH_ENTRY}"
                              " WHERE o.record=? AND o.state='pending'", (record,)).fetchall()
    return {name for (text,) in rows for name in queued_names(text)}


def _refs_here(store: Store, kind_name: str, state: dict[str, Any]) -> bool:
    """Whether every record the state refers to is on this device. When one is not (another
    device's new contact, the held twin of a refused duplicate), the state waits: the pull that
    follows brings the other device's change, and the duplicate's links are moved when its twin
    arrives (retire_duplicates)."""
    for f in KINDS[kind_name].fields:
        target = state.get(f.name)
        if f.ref and target and store.conn.execute(
                f'SELECT 1 FROM "{f.ref}" WHERE uuid=?', (target,)).fetchone() is None:
            return False
    return True


def take_state(store: Store, kind_name: str, record: str, state: dict[str, Any],
               user: str, device: str) -> list[str]:
    """Make the record equal to the server's full state (unless already newer here)."""
    rev = int(state["rev"])
    if rev < server_rev(store, record) or not _refs_here(store, kind_name, state):
        return []
    fields = {k: v for k, v in state.items() if k not in ("rev", "updated_by", "updated_at")}
    old = store.conn.execute(f'SELECT deleted FROM "{kind_name}" WHERE uuid=?', (record,)).fetchone()
    op = op_between(old is not None, bool(old and old[0]), bool(state.get("deleted")))
    warnings = store.apply_pulled(kind_name, record, op, fields, rev=rev,
                                  user=state.get("updated_by") or user, device=device,
                                  at=state.get("updated_at") or store.clock(),
                                  keep=waiting_fields(store, record))
    set_server_rev(store, kind_name, record, rev)
    return warnings


def store_results(store: Store, sent: list[p.Change], results: list[p.Result]
                  ) -> tuple[dict[str, int], list[str]]:
    """Record the server's answers for one pushed page, in one transaction."""
    counts = {p.APPLIED: 0, p.CONFLICT: 0, p.REJECTED: 0, p.FORBIDDEN: 0}
    warnings: list[str] = []
    by_id = {r["change_id"]: r for r in results}
    with _unlinked_is_a_sync_error(), store.transaction():
        for change in sent:
            result = by_id.get(change["change_id"])
            if result is None:
                continue  # not answered: stays waiting and goes again next time
            row = store.conn.execute("SELECT state FROM outbox WHERE change_id=?",
                                     (change["change_id"],)).fetchone()
            if row is None or row[0] != "pending":
                continue  # already stored from an earlier answer (a package and a sync, say)
            status = result["status"]
            counts[status] = counts.get(status, 0) + 1
            if status in (p.APPLIED, p.CONFLICT):
                store.conn.execute("UPDATE outbox SET state='sent', reason=NULL WHERE change_id=?",
                                   (change["change_id"],))
            else:
                store.conn.execute("UPDATE outbox SET state='rejected', reason=? WHERE change_id=?",
                                   (result.get("reason") or "服务器拒绝了该修改。", change["change_id"]))
            if result.get("duplicate_of"):
                store.conn.execute(
                    "INSERT OR IGNORE INTO sync_duplicate (record, kind, target) VALUES (?,?,?)",
                    (change["record"], change["kind"], result["duplicate_of"]))
            elif result.get("state"):
                warnings += take_state(store, change["kind"], change["record"], result["state"],
                                       SYNC_USER, "server")
        retire_duplicates(store)
    return counts, warnings


def retire_duplicates(store: Store) -> None:
    """Records the server refused as duplicates, whose held record has arrived here: their
    dependents now point at the held record and they are tombstoned, so no total counts both.
    Local only (no outbox row): the server already takes the refused UUID as the held one.
    Their differing values wait in a conflict record, for a person to merge or drop."""
    rows = store.conn.execute("SELECT record, kind, target FROM sync_duplicate").fetchall()
    for record, kind_name, target in rows:
        k = KINDS[kind_name]
        held = store.conn.execute(f'SELECT 1 FROM "{k.name}" WHERE uuid=?', (target,)).fetchone()
        if held is None:
            continue  # not pulled yet: the next page or sync brings it
        at = store.clock()
        for dep_kind, f, dep in list(store._dependents(k.name, record)):
            rev = store.conn.execute(f'SELECT rev FROM "{dep_kind}" WHERE uuid=?', (dep,)).fetchone()[0]
            store.apply_pulled(dep_kind, dep, RecordOp.UPDATE, {f.name: target}, rev=rev,
                               user=SYNC_USER, device=store.device, at=at,
                               keep=waiting_fields(store, dep) - {f.name})
        row = store.conn.execute(f'SELECT rev, deleted FROM "{k.name}" WHERE uuid=?',
                                 (record,)).fetchone()
        if row is not None and not row[1]:
            store.apply_pulled(k.name, record, RecordOp.DELETE, {"deleted": 1}, rev=row[0] + 1,
                               user=SYNC_USER, device=store.device, at=at)
        store.conn.execute("DELETE FROM sync_duplicate WHERE record=?", (record,))


def store_pulled(store: Store, changes: list[p.PulledChange], cursor: int | str) -> list[str]:
    """Apply one pulled page and move the cursor, in one transaction (Store.apply_pulled_many)."""
    with _unlinked_is_a_sync_error(), store.transaction():
        records = list(dict.fromkeys(ch["record"] for ch in changes))
        held = _server_revs(store, records)
        waiting = _waiting_records(store, records)
        taken: list[Pulled] = []
        for ch in changes:
            if ch["rev"] <= held.get(ch["record"], 0):
                continue
            held[ch["record"]] = ch["rev"]
            keep = frozenset(waiting_fields(store, ch["record"])) if ch["record"] in waiting else frozenset()
            taken.append(Pulled(ch["kind"], ch["record"], ch["op"], ch["fields"], ch["rev"],
                                ch["user"], ch["device"], ch["at"], keep))
        warnings = store.apply_pulled_many(taken)
        store.conn.executemany(_SET_SERVER_REV, [(ch.record, ch.kind, ch.rev) for ch in taken])
        retire_duplicates(store)
        store.set_meta("sync_cursor", str(cursor))
    return warnings


def _server_revs(store: Store, records: list[str]) -> dict[str, int]:
    """server_rev of many records, read at once."""
    out: dict[str, int] = {}
    for marks, chunk in sqldriver.in_lists(records):
        out.update(store.conn.execute(
            f"SELECT record, server_rev FROM sync_base WHERE record IN ({marks})", chunk))
    return out


def _waiting_records(store: Store, records: list[str]) -> set[str]:
    """Which of these records have local changes still waiting to be pushed: asked by record
    (outbox_record), not by state, as every page of a pull did, reading the whole outbox of a
    laptop that had pushed its import (the sent rows stay)."""
    out: set[str] = set()
    for marks, chunk in sqldriver.in_lists(records):
        out.update(r for (r,) in store.conn.execute(
            f"SELECT record FROM outbox WHERE record IN ({marks}) AND state='pending'", chunk))
    return out


def cursor(store: Store) -> int | str:
    """Where the next pull starts: a number, or for the city office on a PostgreSQL server a
    position per township (text the server gave, sent back as it is)."""
    raw = store.meta("sync_cursor") or "0"
    return int(raw) if raw.isdigit() else raw


def discard_rejected(store: Store, seq: int) -> None:
    """放弃本机修改: drop a change the server refused. An update or delete was already replaced
    here by the server's state when the refusal came; a refused create, which the server never
    held, is tombstoned here (local only), so this laptop's figures equal the server's."""
    with store.transaction():
        row = store.conn.execute("SELECT kind, record, op FROM outbox WHERE seq=? AND state='rejected'",
                                 (seq,)).fetchone()
        if row is None:
            return
        kind_name, record, op = row
        store.conn.execute("UPDATE outbox SET state='discarded' WHERE seq=?", (seq,))
        k = KINDS[kind_name]
        local = store.conn.execute(f'SELECT rev, deleted FROM "{k.name}" WHERE uuid=?',
                                   (record,)).fetchone()
        held = store.conn.execute("SELECT 1 FROM sync_base WHERE record=?", (record,)).fetchone()
        if op == RecordOp.CREATE and local is not None and not local[1] and held is None:
            for dep_kind, _, dep in list(store._dependents(k.name, record)):
                dep_rev = store.conn.execute(f'SELECT rev FROM "{dep_kind}" WHERE uuid=?',
                                             (dep,)).fetchone()[0]
                store.apply_pulled(dep_kind, dep, RecordOp.DELETE, {"deleted": 1}, rev=dep_rev + 1,
                                   user=store.user, device=store.device, at=store.clock())
            store.apply_pulled(k.name, record, RecordOp.DELETE, {"deleted": 1}, rev=local[0] + 1,
                               user=store.user, device=store.device, at=store.clock())
