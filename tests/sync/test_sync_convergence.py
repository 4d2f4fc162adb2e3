"""Random edits, deletes and syncs across three replicas always end with every replica and the
server holding the same content (a seeded state machine, as PouchDB's random replication test)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from inproc import InProcessServer, household, seed_village
from pg_cluster import store_content

from wq_desktop.errors import WqError
from wq_desktop.store import Store
from wq_desktop.sync import list_conflicts, resolve_conflict
from wq_desktop.sync.content import content_rows

# One test is all of hypothesis's examples: on PostgreSQL on a loaded machine, past the default 180 s.
pytestmark = pytest.mark.timeout(900)
USERS = ("甲", "乙", "丙")
FIELDS = ("name", "address", "note", "legal_rep")
VALUES = ("一", "二", "三")


class ThreeReplicas(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="wq-sm-"))
        self.server = InProcessServer(self.tmp / "server.sqlite", self.backend)
        self.stores = []
        for user in USERS:
            self.server.add_staff(user)
            store = Store.open(self.tmp / f"{user}.sqlite", user, create=True)
            self.server.sync(store, user)
            self.stores.append(store)
        village = seed_village(self.stores[0], self.server.township)
        self.households = [household(self.stores[0], village, f"户{i}") for i in range(3)]
        for i in (0, 1, 2):
            self.server.sync(self.stores[i], USERS[i])

    @rule(replica=st.integers(0, 2), which=st.integers(0, 2), field=st.sampled_from(FIELDS),
          value=st.sampled_from(VALUES))
    def edit(self, replica: int, which: int, field: str, value: str) -> None:
        try:
            self.stores[replica].update("operator", self.households[which], {field: value})
        except WqError:
            pass  # deleted here: the user cannot edit it either

    @rule(replica=st.integers(0, 2), which=st.integers(0, 2))
    def delete(self, replica: int, which: int) -> None:
        try:
            self.stores[replica].delete("operator", self.households[which])
        except WqError:
            pass

    @rule(replica=st.integers(0, 2))
    def sync(self, replica: int) -> None:
        self.server.sync(self.stores[replica], USERS[replica])

    @rule(replica=st.integers(0, 2), keep_mine=st.booleans())
    def resolve(self, replica: int, keep_mine: bool) -> None:
        store = self.stores[replica]
        for c in list_conflicts(store)[:1]:
            from wq_desktop.sync import conflict_detail

            choice = "mine" if keep_mine else "theirs"
            try:
                fields = conflict_detail(store, c.uuid).fields
                resolve_conflict(store, c.uuid, {f.name: choice for f in fields})
            except WqError:
                pass

    @invariant()
    def nothing_waits_forever(self) -> None:
        for store in self.stores:
            assert store.conn.execute("SELECT count(*) FROM outbox WHERE state='rejected'").fetchone()[0] == 0

    def teardown(self) -> None:
        try:
            for _ in range(2):
                for i in (0, 1, 2):
                    self.server.sync(self.stores[i], USERS[i])
            server = store_content(self.server.db)
            for store in self.stores:
                assert store.pending_changes() == 0
                assert content_rows(store) == server
            conflicts = {tuple(sorted(c.uuid for c in list_conflicts(s))) for s in self.stores}
            assert len(conflicts) == 1
        finally:
            for store in self.stores:
                store.close()
            self.server.close()


ThreeReplicas.TestCase.settings = settings(
    max_examples=15, stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestThreeReplicas = ThreeReplicas.TestCase


class ThreeReplicasOnPostgres(ThreeReplicas):
    """The same three replicas against the server on PostgreSQL."""

    backend = "postgresql"


ThreeReplicasOnPostgres.TestCase.settings = ThreeReplicas.TestCase.settings
TestThreeReplicasOnPostgres = ThreeReplicasOnPostgres.TestCase
