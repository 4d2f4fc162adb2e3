"""A change the server refuses never leaves this laptop's figures different from the server's
for good: 放弃本机修改 drops it, and a refused create the server never held goes with it."""

from __future__ import annotations

from pathlib import Path

from inproc import InProcessServer, household, seed_village

from wq_desktop.store import Store
from wq_desktop.sync.apply import discard_rejected
from wq_desktop.sync.status import rejected_changes, sync_status
from wq_server import apply, auth


def test_discarding_a_refused_create_removes_it_here_with_what_hangs_off_it(tmp_path: Path,
                                                                          backend: str) -> None:
    server = InProcessServer(tmp_path / "server.sqlite", backend)
    server.add_staff("东")
    apply.create_township(server.db, "652301106", "西镇")
    auth.add_user(server.db, "西", "correct-horse-9", auth.STAFF, "652301106")
    store = Store.open(tmp_path / "laptop.sqlite", "东", create=True)
    server.sync(store, "东")
    village = seed_village(store, server.township)
    household(store, village)
    report = server.sync(store, "西")  # signed in with another township's account
    assert len(report.rejected) == 2 and sync_status(store).rejected == 2
    village_change = next(c for c in rejected_changes(store) if c.kind == "village")
    discard_rejected(store, village_change.seq)
    assert store.count("village") == 0 and store.count("operator") == 0  # not counted anywhere
    assert [c.kind for c in rejected_changes(store)] == ["operator"]
    discard_rejected(store, rejected_changes(store)[0].seq)
    assert sync_status(store).rejected == 0 and store.pending_changes() == 0
    store.close()
