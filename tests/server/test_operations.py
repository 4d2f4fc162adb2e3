"""Running the server: a full disk answers 507 with one sentence and loses nothing (a real server
process on a small tmpfs, in a mount namespace of its own), and the server refuses to listen off
loopback without TLS unless told so explicitly."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from serverproc import PASSWORD, ROOT, ServerProcess, add_staff, add_township, new_server_db

from wq_desktop.photos import attach_photo
from wq_desktop.store import Store
from wq_desktop.sync import SyncError, sync_now
from wq_desktop.sync.content import content_rows

CODE = "652301105"
DISK_FULL = "服务器磁盘已满，请联系管理员；本机修改都已保留。"


def _can_mount_tmpfs(tmp: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", f"mount -t tmpfs -o size=1m none {tmp}"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def _fill(folder: Path) -> Path:
    """Write until the file system is full (bounded by its size); returns the filler file."""
    filler = folder / "filler"
    block = b"\0" * (1 << 20)
    with filler.open("wb") as fh:
        for _ in range(1000):
            try:
                fh.write(block)
                fh.flush()
            except OSError as err:
                assert err.errno == errno.ENOSPC
                break
    for size in (4096, 512, 1):  # the last few blocks
        try:
            with filler.open("ab") as fh:
                while True:
                    fh.write(b"\0" * size)
                    fh.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_answers_507_and_every_change_waits_on_the_laptop(tmp_path) -> None:
    """SQLite: the server's file and photos on a small tmpfs of the server's own mount namespace."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if not _can_mount_tmpfs(mount):
        pytest.skip("no mount namespace here (unshare -rm)")
    seed = tmp_path / "seed.sqlite"
    township = add_township(seed, CODE, "六工镇")
    add_staff(seed, "王芳", CODE)
    db = mount / "server.sqlite"
    wrapper = ("unshare", "-rm", "sh", "-c",
               f'mount -t tmpfs -o size=24m none {mount} && cp {seed} {db} && exec "$@"', "sh")
    server = ServerProcess(db, wrapper=wrapper, WQ_SERVER_MIN_FREE_MB="0").start()
    try:
        inside = Path(f"/proc/{server.proc.pid}/root") / mount.relative_to("/")  # the server's view
        _fill_and_make_room(server, inside, township, tmp_path)
    finally:
        server.stop()


def test_a_full_disk_answers_507_on_postgresql_too(tmp_path) -> None:
    """PostgreSQL: the database in a tablespace and the photo folder on one small tmpfs (mounted
    for the cluster to see: real root only), filled while the server runs."""
    import tempfile

    import pg_cluster
    import psycopg

    from wq_server.pg_store import PgServerDB

    mount = Path(tempfile.mkdtemp(prefix="wqfull"))  # where the cluster's own user can reach it
    mount.chmod(0o755)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0755", "none", str(mount)],
                      capture_output=True, timeout=30).returncode != 0:
        mount.rmdir()
        pytest.skip("cannot mount a tmpfs the database cluster sees (needs real root)")
    name = f"wq_full_{os.getpid()}"
    base = pg_cluster.base_url()
    try:
        (mount / "tablespace").mkdir()
        shutil.chown(mount / "tablespace", "postgres")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE TABLESPACE {name} LOCATION '{mount / 'tablespace'}'")
            conn.execute(f'CREATE DATABASE "{name}" TABLESPACE {name}')
        url = pg_cluster.with_database(base, name)
        PgServerDB(url, pool_size=1, photos=mount / "photos").close()
        township = add_township(url, CODE, "六工镇")
        add_staff(url, "王芳", CODE)
        server = ServerProcess(url, WQ_SERVER_MIN_FREE_MB="0").start()
        try:
            _fill_and_make_room(server, mount, township, tmp_path)
        finally:
            server.stop()
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f"DROP TABLESPACE IF EXISTS {name}")
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=30)
        mount.rmdir()


def _fill_and_make_room(server: ServerProcess, disk: Path, township: str, tmp_path: Path) -> None:
    """Fill the server's `disk` after a laptop made a village, a notice and its photo: the sync
    stops with one sentence and nothing is lost; once room is made, the next sync carries all."""
    with Store.open(tmp_path / "laptop.sqlite", "王芳", create=True) as store:
        sync_now(store, server.url, "王芳", PASSWORD)
        village = store.create("village", {"township": township, "code": CODE + "901",
                                           "name": "测试村"})
        notice = store.create("notice", {"village": village, "year": 2026,
                                         "start_on": "2026-03-01", "end_on": "2026-03-08"})
        from PIL import Image

        Image.new("RGB", (300, 300), "green").save(tmp_path / "notice.png")
        attach_photo(store, "notice", notice, tmp_path / "notice.png")
        waiting = store.pending_changes()
        headers = server.headers("王芳")  # signed in before the disk fills

        filler = _fill(disk)
        with pytest.raises(SyncError) as raised:
            sync_now(store, server.url, "王芳", PASSWORD)
        assert str(raised.value) == DISK_FULL
        assert store.pending_changes() == waiting  # nothing lost, nothing marked as sent
        push = requests.post(server.url + "/sync/push", headers=headers, timeout=60,
                             json={"device": "d1", "changes": []})
        assert (push.status_code, push.json()["detail"]) == (507, DISK_FULL)
        photo = requests.put(f"{server.url}/photos/{'d' * 64}", headers=headers, timeout=60,
                             params={"offset": 0, "total": 10}, data=b"0123456789")
        assert (photo.status_code, photo.json()["detail"]) == (507, DISK_FULL)
        assert requests.get(server.url + "/health", timeout=30).ok

        filler.unlink()  # the admin makes room; the next sync carries everything
        report = sync_now(store, server.url, "王芳", PASSWORD)
        assert store.pending_changes() == 0 and report.photos_uploaded == 1 and not report.rejected
        # Everything arrived: a second laptop of the township pulls the same records and photo.
        with Store.open(tmp_path / "other.sqlite", "王芳", create=True) as other:
            assert sync_now(other, server.url, "王芳", PASSWORD).photos_downloaded == 1
            assert content_rows(other) == content_rows(store)


def test_space_below_the_reserve_is_refused_before_anything_is_written(tmp_path, backend) -> None:
    db = new_server_db(tmp_path, backend)
    add_township(db, CODE, "六工镇")
    add_staff(db, "王芳", CODE)
    server = ServerProcess(db, WQ_SERVER_MIN_FREE_MB=str(10 ** 9)).start()  # more than any disk
    try:
        headers = server.headers("王芳")
        push = requests.post(server.url + "/sync/push", json={"device": "d1", "changes": []},
                             headers=headers, timeout=60)
        assert (push.status_code, push.json()["detail"]) == (507, DISK_FULL)
        photo = requests.put(f"{server.url}/photos/{'c' * 64}", params={"offset": 0, "total": 10},
                             data=b"0123456789", headers=headers, timeout=60)
        assert (photo.status_code, photo.json()["detail"]) == (507, DISK_FULL)
    finally:
        server.stop()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "wq-server.local"])
def test_plain_http_off_loopback_is_refused(tmp_path, host) -> None:
    db = tmp_path / "server.sqlite"
    run = subprocess.run([sys.executable, "-m", "wq_server", "--db", str(db), "--host", host,
                          "--port", "1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.startswith(f"错误：拒绝在 {host} 上以不加密的 HTTP 运行")
    assert "--ssl-certfile" in run.stderr and "--allow-plain-http" in run.stderr
    assert not db.exists()  # refused before anything was opened
    half = subprocess.run([sys.executable, "-m", "wq_server", "--db", str(db), "--host", host,
                           "--ssl-certfile", "server.pem"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert half.returncode == 2 and "请同时指定 --ssl-certfile 和 --ssl-keyfile" in half.stderr


@pytest.mark.parametrize("where", ["first piece", "last piece"])
def test_a_raw_photo_put_on_a_full_disk_is_507_whichever_write_fails(
        tmp_path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Deterministic, no filling: the disk has room for the piece itself, then SQLite cannot
    write the upload's record, and raises what SQLCipher raises on a full disk (not the stdlib
    sqlite3 class: that mismatch answered a bare 500). SQLite only: that error class is its own."""
    from fastapi.testclient import TestClient

    from wq_desktop import sqldriver
    from wq_desktop.sync import protocol as p
    from wq_server import auth, photos
    from wq_server.app import create_app
    from wq_server.apply import create_township

    app = create_app(tmp_path / "server.sqlite")
    db = app.state.db
    create_township(db, CODE, "六工镇")
    auth.add_user(db, "王芳", PASSWORD, auth.STAFF, CODE)

    def full(*args, **kw):
        raise sqldriver.OperationalError("database or disk is full")

    monkeypatch.setattr(photos, "_begin" if where == "first piece" else "adopt", full)
    client = TestClient(app, raise_server_exceptions=False)
    proto = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}
    token = client.post("/auth/login", json={"user": "王芳", "password": PASSWORD},
                        headers=proto).json()["token"]
    headers = {**proto, "Authorization": f"Bearer {token}"}
    data = b"x" * (p.PHOTO_CHUNK + 10)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    pieces = [(0, data[:p.PHOTO_CHUNK]), (p.PHOTO_CHUNK, data[p.PHOTO_CHUNK:])]
    for offset, piece in pieces:
        answer = client.put(f"/photos/{sha}", params={"offset": offset, "total": len(data)},
                            content=piece, headers=headers)
        if answer.status_code != 200:
            break
    assert (answer.status_code, answer.json()["detail"]) == (507, DISK_FULL)
    assert answer.headers[p.DIGEST_HEADER]  # a proper answer the laptop can read
    client.close()
    db.close()
