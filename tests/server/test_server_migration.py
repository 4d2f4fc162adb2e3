"""The server's own store moves forward: a database from before uploads had owners keeps every
photo readable by the township whose record referred to it first, and by nobody else. SQLite
only: such databases are SQLite files (a PostgreSQL server starts with owners; migrate moves
owners over, tests/server/test_migrate_to_postgres.py)."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from wq_desktop.store import new_uuid
from wq_desktop.sync import protocol as p
from wq_server import apply, auth, authors, photos
from wq_server.app import create_app
from wq_server.db import SERVER_SCHEMA, ServerDB

PASSWORD = "correct-horse-9"
PROTOCOL = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}  # the header every request carries


def _headers(client: TestClient, user: str) -> dict[str, str]:
    answer = client.post("/auth/login", json={"user": user, "password": PASSWORD},
                         headers=dict(PROTOCOL))
    return {**PROTOCOL, "Authorization": f"Bearer {answer.json()['token']}"}


def test_photos_stored_before_owners_go_to_the_township_that_referred_to_them(tmp_path) -> None:
    path = tmp_path / "server.sqlite"
    db = ServerDB(path)
    east = apply.create_township(db, "652301101", "东镇")
    apply.create_township(db, "652301102", "西镇")
    auth.add_user(db, "东甲", PASSWORD, auth.STAFF, "652301101")
    auth.add_user(db, "西甲", PASSWORD, auth.STAFF, "652301102")
    data = b"\x89PNG old photo bytes"
    sha = hashlib.sha256(data).hexdigest()
    village, notice = new_uuid(), new_uuid()
    changes = [
        {"change_id": new_uuid(), "kind": "village", "record": village, "op": "create",
         "fields": {"township": east, "code": "652301101901", "name": "村"}},
        {"change_id": new_uuid(), "kind": "notice", "record": notice, "op": "create",
         "fields": {"village": village, "year": 2026, "start_on": "2026-03-01", "end_on": "2026-03-08"}},
        {"change_id": new_uuid(), "kind": "photo", "record": new_uuid(), "op": "create",
         "fields": {"owner_kind": "notice", "owner": notice, "sha256": sha, "size": len(data)}},
    ]
    changes = [{**ch, "user": "东甲"} for ch in changes]
    results = apply.push(db, auth.User("东甲", auth.STAFF, east), "d1", changes,
                         [authors.Account(name="东甲", signed_in=True)])
    assert [r["status"] for r in results] == [p.APPLIED] * 3
    blob = photos.blob_path(db, sha)
    blob.parent.mkdir(parents=True)
    blob.write_bytes(data)
    # The database as the previous server version left it.
    with db.store.transaction():
        db.conn.execute("DROP TABLE srv_upload")
        db.conn.execute("DROP TABLE srv_audit")
        db.conn.execute("DELETE FROM meta WHERE key='server_schema'")
    db.close()

    app = create_app(path)  # the new server on the old file
    client = TestClient(app)
    try:
        assert app.state.db.store.meta("server_schema") == str(SERVER_SCHEMA)
        got = client.get(f"/photos/{sha}", headers=_headers(client, "东甲"))
        assert got.status_code == 200 and got.content == data
        assert client.get(f"/photos/{sha}", headers=_headers(client, "西甲")).status_code == 403
    finally:
        client.close()
        app.state.db.close()
