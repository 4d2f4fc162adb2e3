"""One pushed page on either store: a change the database itself refuses after the rules passed
it (a number too large for its column, in a new record and in an update) costs that change
alone; the changes before and after it
in the page are applied, numbered without a gap and chained in the history, and sending the page
again applies nothing twice, nor does a change sent twice in one page. On PostgreSQL the page's
history, feed and receipt rows are held and sent at commit, and the refused change's savepoint
rolls back only its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pg_cluster import new_server_db

from wq_desktop.store import new_uuid
from wq_server import apply, auth, authors
from wq_server.stores import open_server_db

AUTHOR = "录入员"


@pytest.fixture
def db(tmp_path: Path, backend: str) -> Any:
    store = open_server_db(new_server_db(tmp_path, backend), pool_size=2)
    yield store
    store.close()


def _create(kind: str, record: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"change_id": new_uuid(), "kind": kind, "record": record, "op": "create", "base_rev": 0,
            "user": AUTHOR, "fields": fields}


def test_a_change_the_database_refuses_costs_only_that_change(db: Any) -> None:
    town = apply.create_township(db, "652301105", "六工镇")
    staff = auth.User("员", auth.STAFF, town)
    east, west, notice = new_uuid(), new_uuid(), new_uuid()
    too_large = 2 ** 63
    notice_fields = {"village": east, "year": 2025, "start_on": "2025-07-01", "end_on": "2025-07-07"}
    page = [_create("village", east, {"township": town, "code": "652301105901", "name": "东村"}),
            _create("notice", notice, {**notice_fields, "objection_count": 1}),
            _create("notice", new_uuid(), {**notice_fields, "year": 2024, "start_on": "2024-07-01",
                                               "end_on": "2024-07-07", "objection_count": too_large}),
            _create("village", west, {"township": town, "code": "652301105902", "name": "西村"}),
            {**_create("notice", notice, {"objection_count": too_large}), "op": "update", "base_rev": 1}]
    page.append(page[3])  # the same change twice in one page
    accounts = [authors.Account(name=AUTHOR)]

    results = apply.push(db, staff, "laptop", page, accounts)

    assert [(r["status"], r["duplicate"]) for r in results] == [
        ("applied", False), ("applied", False), ("rejected", False), ("applied", False),
        ("rejected", False), ("applied", True)]
    assert "无法处理" in results[2]["reason"] and results[2]["state"] is None
    assert "无法处理" in results[4]["reason"] and results[4]["state"]["objection_count"] == 1
    assert results[3]["state"]["name"] == "西村" and results[3]["rev"] == 1
    feed = apply.pull(db, staff, "another-laptop", 0, 100)["changes"]
    assert [(c["kind"], c["record"], c["seq"]) for c in feed] == [
        ("township", town, 1), ("village", east, 2), ("notice", notice, 3), ("village", west, 4)]
    assert db.verify_history() == []

    again = apply.push(db, staff, "laptop", page, accounts)  # the answer was lost: sent again

    assert [(r["status"], r["duplicate"]) for r in again] == [
        ("applied", True), ("applied", True), ("rejected", True), ("applied", True),
        ("rejected", True), ("applied", True)]
    assert len(apply.pull(db, staff, "another-laptop", 0, 100)["changes"]) == 4
    assert db.verify_history() == []


def test_a_failed_change_keeps_what_the_changes_before_it_held(db: Any) -> None:
    """A change whose first statement reads no server table and a later one does, then fails:
    the rows the change before it held (its history, feed, receipt on a push) stay written."""
    town = apply.create_township(db, "652301105", "六工镇")
    kept, dropped = new_uuid(), new_uuid()
    add_alias = "INSERT INTO srv_alias (record, kind, target) VALUES (?, ?, ?)"
    with db.writing(town) as session:
        with session.one_change():
            session.hold(add_alias, (kept, "village", new_uuid()))
        with pytest.raises(ValueError), session.one_change():
            session.execute("SELECT 1")  # the change's savepoint goes out with this
            session.hold(add_alias, (dropped, "village", new_uuid()))
            session.execute("SELECT count(*) FROM srv_alias")  # sends what is held
            raise ValueError("the change fails")
    with db.reading() as session:
        held = {row[0] for row in session.execute("SELECT record FROM srv_alias").fetchall()}
    assert kept in held and dropped not in held
