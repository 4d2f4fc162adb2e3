"""Seeded random sync with three laptops and a real server process (as PouchDB's random replication
test): random edits of the same fields, deletes, new households, conflicts resolved either way,
edits made while a sync runs, a small push page so records split over pages, random sync order.
Afterwards every laptop equals the server record by record, every conflict is on every laptop, and
every edit is final, kept in a conflict, or was knowingly replaced (by an edit or delete made on a
laptop that already held it)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from serverproc import GOOD_ID, ServerProcess, Township, next_code, server_content

from wq_desktop.errors import WqError
from wq_desktop.rules import identity
from wq_desktop.store import Store
from wq_desktop.sync import conflict_detail, list_conflicts, resolve_conflict
from wq_desktop.sync import protocol as p
from wq_desktop.sync.content import content_rows

FIELDS = ("name", "address", "note", "phone")
STEPS = 45


@dataclass(frozen=True)
class Edit:
    laptop: int
    record: str
    field: str  # "deleted" for a delete
    value: object


PG_WORKERS = 4  # on PostgreSQL: the three laptops' requests meet in different processes


class Week:
    """A busy week of three laptops in one township, driven by one seed."""

    def __init__(self, town: Township, seed: int) -> None:
        self.town, self.rng = town, random.Random(seed)
        self.edits: list[Edit] = []
        self.replaced: set[Edit] = set()  # overwritten on a laptop that held them: knowingly
        self.n = 0
        a = town.stores[0]
        self.village = a.create("village", {"township": town.uuid, "code": town.code + "901",
                                            "name": "随机村"})
        self.households = [self._new_household(a) for _ in range(3)]
        for i in range(3):
            town.sync(i)

    def _new_household(self, store: Store) -> str:
        self.n += 1
        # One person is one household in a township (#14): each gets an ID number of its own.
        first17 = f"{GOOD_ID[:14]}{self.n:03d}"
        return store.create("operator", {"village": self.village, "name": f"户{self.n}", "kind": "农户",
                                         "id_code": first17 + identity.id_check_char(first17)})

    def _value(self, laptop: int, field: str) -> str:
        self.n += 1
        return f"139{laptop}{self.n:07d}" if field == "phone" else f"{'甲乙丙'[laptop]}{self.n}"

    def _held(self, store: Store, record: str, field: str) -> set[object]:
        return {e.changes[field][1] for e in store.history(record) if field in e.changes}

    def edit(self, laptop: int, store: Store) -> None:
        record = self.rng.choice(self.households)
        field = self.rng.choice(FIELDS)
        value = self._value(laptop, field)
        held = self._held(store, record, field)
        try:
            store.update("operator", record, {field: value})
        except WqError:
            return  # deleted on this laptop: the user cannot edit it either
        self._knowingly_replaced(laptop, record, field, held)
        self.edits.append(Edit(laptop, record, field, value))

    def delete(self, laptop: int, store: Store) -> None:
        record = self.rng.choice(self.households)
        held = {f: self._held(store, record, f) for f in FIELDS}
        try:
            store.delete("operator", record)
        except WqError:
            return
        for f in FIELDS:
            self._knowingly_replaced(laptop, record, f, held[f])
        self.edits.append(Edit(laptop, record, "deleted", True))

    def _knowingly_replaced(self, laptop: int, record: str, field: str, held: set[object]) -> None:
        for e in self.edits:
            if e.record == record and e.field == field and e.value in held:
                self.replaced.add(e)

    def sync(self, laptop: int) -> None:
        town, rng = self.town, self.rng
        during = rng.choice([None, "上传修改", "下载更新"])
        done: list[bool] = []

        def edit_during(stage: str, *_: object) -> None:
            if stage == during and not done:  # the user keeps working in the window
                done.append(True)
                with Store.open(town.stores[laptop].path, town.users[laptop]) as window_store:
                    self.edit(laptop, window_store)

        town.sync(laptop, progress_cb=edit_during)

    def resolve(self, laptop: int, store: Store) -> None:
        for c in list_conflicts(store)[:1]:
            choice = self.rng.choice(["mine", "theirs"])
            try:
                fields = conflict_detail(store, c.uuid).fields
                resolve_conflict(store, c.uuid, {f.name: choice for f in fields})
            except WqError:
                pass

    def step(self) -> None:
        laptop = self.rng.randrange(3)
        store = self.town.stores[laptop]
        action = self.rng.choices(["edit", "delete", "new", "sync", "resolve"], [6, 1, 1, 4, 1])[0]
        if action == "new":
            self.households.append(self._new_household(store))
        elif action == "sync":
            self.sync(laptop)
        else:
            getattr(self, action)(laptop, store)

    def settle(self) -> None:
        for _ in range(3):
            for i in range(3):
                self.town.sync(i)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_three_laptops_in_random_order_lose_nothing(server: ServerProcess, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    monkeypatch.setattr(p, "PUSH_PAGE", 3)
    monkeypatch.setattr(p, "PULL_PAGE", 4)
    assert len(server.worker_pids) == server.workers  # each one answered before the laptops sync
    code = next_code()
    town = Township(server, tmp_path, code, f"随{code[-2:]}", laptops=3)
    try:
        week = Week(town, seed)
        for _ in range(STEPS):
            week.step()
        week.settle()
        on_server = server_content(server.db, town.uuid)
        for store in town.stores:
            assert content_rows(store) == on_server  # record by record
            assert store.pending_changes() == 0
            assert store.conn.execute("SELECT count(*) FROM outbox WHERE state='rejected'").fetchone()[0] == 0
        kept: set[tuple[str, str, object]] = set()
        for c in town.stores[0].find("conflict", include_deleted=True):
            for name, sides in c["fields"].items():
                kept |= {(c["record"], name, sides.get("mine")), (c["record"], name, sides.get("theirs"))}
        final = {uuid: dict(row[2]) | {"deleted": row[1]} for uuid, row in on_server.items()}
        lost = [e for e in week.edits
                if final[e.record].get(e.field) != e.value
                and (e.record, e.field, 1 if e.field == "deleted" else e.value) not in kept
                and e not in week.replaced]
        assert lost == [], f"seed {seed}: edits neither final, nor in a conflict, nor knowingly replaced"
        assert len(week.edits) > 15
    finally:
        town.close()
