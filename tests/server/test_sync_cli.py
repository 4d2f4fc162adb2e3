"""The sync commands as a user types them, against a real server process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from serverproc import (
    PASSWORD,
    ROOT,
    ServerDb,
    ServerProcess,
    add_staff,
    add_township,
    admin,
    new_server_db,
    open_db,
)

from wq_server import server_key


def _main(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "WQ_PASSWORD": password})


def _key_file(db: ServerDb) -> Path:
    """The server's private package key (beside the SQLite file, in PostgreSQL's photo folder)."""
    store = open_db(db)
    try:
        return server_key.key_path(store.key_base)
    finally:
        store.close()


def test_sync_and_usb_package_commands(tmp_path: Path, backend: str) -> None:
    db = new_server_db(tmp_path, backend)
    add_township(db, "652301105", "六工镇")
    add_staff(db, "王芳", "652301105")
    server = ServerProcess(db).start()
    laptop = tmp_path / "laptop.sqlite"
    try:
        out = _main("sync", "--db", str(laptop), "--server", server.url, "--user", "王芳")
        assert out.returncode == 0, out.stderr
        assert "下载更新 1 条" in out.stdout and "待上传修改：0 条" in out.stdout

        wrong = _main("sync", "--db", str(laptop), "--server", server.url, "--user", "王芳",
                      password="nope-nope")
        assert wrong.returncode == 2 and "用户名或密码错误" in wrong.stderr

        offline = _main("sync", "--db", str(laptop), "--server", "http://127.0.0.1:9", "--user", "王芳")
        assert offline.returncode == 2 and "无法连接" in offline.stderr and "离线" in offline.stderr
    finally:
        server.stop()

    # No network at the township: a village goes to the office on a stick.
    from wq_desktop.store import Store

    with Store.open(laptop, "王芳") as store:
        township = store.find_one("township", "code=?", ("652301105",))["uuid"]
        store.create("village", {"township": township, "code": "652301105901", "name": "东村"})
    package = tmp_path / "stick.zip"
    out = _main("sync-export", "--db", str(laptop), "--user", "王芳", "--out", str(package))
    assert out.returncode == 0 and "1 条修改" in out.stdout
    reply = tmp_path / "stick.reply.zip"
    out = admin(db, "import-package", str(package), "--reply", str(reply))
    assert "接受 1" in out
    out = _main("sync-import", "--db", str(laptop), "--user", "王芳", "--package", str(reply))
    assert out.returncode == 0 and "待上传修改：0 条" in out.stdout, out.stderr
    status = _main("sync-status", "--db", str(laptop), "--user", "王芳")
    assert "待上传修改：0 条" in status.stdout


def test_a_laptop_that_never_went_online_gets_the_key_from_the_office_file(tmp_path: Path,
                                                                         backend: str) -> None:
    import json

    from wq_desktop.store import Store

    db = new_server_db(tmp_path, backend)
    township = add_township(db, "652301105", "六工镇")
    add_staff(db, "王芳", "652301105")
    key_file = tmp_path / "同步包密钥.json"
    out = admin(db, "package-key", "--out", str(key_file), "--name", "昌吉市服务器")
    fingerprint = json.loads(key_file.read_text(encoding="utf-8"))["fingerprint"]
    assert fingerprint in out and "私钥文件" in out
    assert _key_file(db).stat().st_mode & 0o777 == 0o600
    laptop = tmp_path / "laptop.sqlite"
    with Store.open(laptop, "王芳", create=True) as store, store.transaction():
        store.apply_pulled("township", township, "create", {"code": "652301105", "name": "六工镇"},
                           rev=1, user="同步服务", device="server", at="2026-01-01T00:00:00Z")
        store.create("village", {"township": township, "code": "652301105901", "name": "东村"})
    package = tmp_path / "stick.zip"
    refused = _main("sync-export", "--db", str(laptop), "--user", "王芳", "--out", str(package))
    assert refused.returncode == 2 and "还不知道服务器的同步包密钥" in refused.stderr
    out = _main("sync-key", "--db", str(laptop), "--user", "王芳", "--file", str(key_file))
    assert out.returncode == 0 and fingerprint in out.stdout, out.stderr
    out = _main("sync-export", "--db", str(laptop), "--user", "王芳", "--out", str(package))
    assert out.returncode == 0, out.stderr
    reply = tmp_path / "stick.reply.zip"
    assert "接受 1" in admin(db, "import-package", str(package), "--reply", str(reply))
    out = _main("sync-import", "--db", str(laptop), "--user", "王芳", "--package", str(reply))
    assert out.returncode == 0 and "待上传修改：0 条" in out.stdout, out.stderr


def test_the_server_prints_its_package_key_fingerprint_at_start(tmp_path: Path, backend: str) -> None:
    import json

    from serverproc import free_port

    db = new_server_db(tmp_path, backend)
    add_township(db, "652301105", "六工镇")
    proc = subprocess.Popen([sys.executable, "-m", "wq_server", "--db", str(db), "--port",
                             str(free_port())], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:  # waits for the lines (on PostgreSQL the web view's replica is brought up first)
        lines = [proc.stdout.readline() for _ in range(2 if backend == "sqlite" else 3)]
    finally:
        proc.kill()
        proc.wait(30)
        proc.stdout.close()
    started, key_line = lines[-2:]
    assert started.startswith("同步服务已启动")
    key_file = tmp_path / "k.json"
    admin(db, "package-key", "--out", str(key_file))
    fingerprint = json.loads(key_file.read_text(encoding="utf-8"))["fingerprint"]
    assert key_line.strip() == f"同步包密钥指纹：{fingerprint}（各乡镇核对用）"
