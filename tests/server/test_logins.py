"""Logins against a real server process on loopback: wrong passwords counted per account and per
address until a 429 that says how long to wait (and the wait ends), every attempt in the audit
log, and 200 parallel login attempts answered in bounded memory while /health stays quick."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from serverproc import (
    PASSWORD,
    ROOT,
    HealthWatch,
    ServerDb,
    ServerProcess,
    add_staff,
    add_township,
    is_postgres,
    new_server_db,
)

from wq_desktop.store import Store
from wq_desktop.sync import SyncError, sync_now

CODE = "652301105"


def _server(tmp_path: Path, backend: str, users: tuple[str, ...], **env: str) -> ServerProcess:
    """A server of its own: each test sets the login limits in its environment."""
    db = new_server_db(tmp_path, backend)
    add_township(db, CODE, "六工镇")
    for user in users:
        add_staff(db, user, CODE)
    return ServerProcess(db, **env).start()


def _dump(db: ServerDb) -> str:
    """Everything the server's database holds, as text."""
    if not is_postgres(db):
        conn = sqlite3.connect(db)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    from pg_cluster import _bin

    return subprocess.run([_bin("pg_dump"), str(db)], check=True, capture_output=True,
                          text=True).stdout


def _wait_seconds(detail: str) -> int:
    found = re.search(r"请 (\d+) (秒|分钟)后再试", detail)
    assert found, detail
    return int(found[1]) * (60 if found[2] == "分钟" else 1)


def test_wrong_passwords_lock_the_account_with_the_wait_said_and_the_lock_expires(tmp_path,
                                                                                 backend) -> None:
    server = _server(tmp_path, backend, ("王芳", "李明"), WQ_LOGIN_MAX_FAILURES="3", WQ_LOGIN_WINDOW_S="4")
    try:
        for _ in range(3):
            assert server.login("王芳", "not-the-password").status_code == 401
        locked = server.login("王芳")  # the right password, after three wrong ones
        assert locked.status_code == 429
        detail = locked.json()["detail"]
        assert detail.startswith("该账号密码错误次数过多，已暂停登录，请") and "联系管理员" in detail
        assert 1 <= _wait_seconds(detail) <= 4 and 1 <= int(locked.headers["Retry-After"]) <= 4
        assert server.login("李明").status_code == 200  # another account from the same address

        # What the laptop's user reads.
        with Store.open(tmp_path / "laptop.sqlite", "王芳", create=True) as store:
            with pytest.raises(SyncError, match="密码错误次数过多，已暂停登录"):
                sync_now(store, server.url, "王芳", PASSWORD)

        # The lock ends when the failures leave the window (polled, bounded).
        deadline = time.monotonic() + 60
        while (answer := server.login("王芳")).status_code == 429 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert answer.status_code == 200
        # A success ends the run of failures: the next wrong password is the first again.
        assert server.login("王芳", "not-the-password").status_code == 401
        assert server.login("王芳").status_code == 200
    finally:
        server.stop()

    audit = subprocess.run([sys.executable, "-m", "wq_server", "audit", "--db", str(server.db),
                            "--name", "王芳"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    lines = audit.stdout.splitlines()
    events = [line.split("\t")[1] for line in lines]
    assert events[:3] == ["登录成功", "密码错误", "登录成功"]
    assert events.count("密码错误") == 4 and "登录被暂停" in events
    assert all(line.split("\t")[3] == "127.0.0.1" for line in lines)
    dump = _dump(server.db)
    assert "not-the-password" not in dump and PASSWORD not in dump  # passwords are never logged


def test_failures_from_one_address_lock_every_account_asked_from_it(tmp_path, backend) -> None:
    server = _server(tmp_path, backend, ("王芳",), WQ_LOGIN_MAX_ADDRESS_FAILURES="5")
    try:
        for i in range(5):  # a script trying names
            assert server.login(f"猜测{i}", "password-guess").status_code == 401
        refused = server.login("王芳")
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith("从本机发出的登录密码错误次数过多")
    finally:
        server.stop()


def test_200_parallel_logins_stay_in_bounded_memory_and_health_answers_quickly(tmp_path,
                                                                               backend) -> None:
    # No lock-out here: every attempt reaches Argon2, which is what the gate must bound.
    server = _server(tmp_path, backend, ("王芳",), WQ_LOGIN_MAX_FAILURES="100000",
                     WQ_LOGIN_MAX_ADDRESS_FAILURES="100000", WQ_LOGIN_QUEUE="32")
    try:
        before = server.peak_rss_mib()
        idle = HealthWatch.idle(server.url)
        with HealthWatch(server.url) as health, ThreadPoolExecutor(200) as pool:
            answers = list(pool.map(
                lambda i: server.login("王芳" if i % 2 else f"无此人{i}", f"wrong-password-{i}"),
                range(200)))
        peak = server.peak_rss_mib()
        print(f"idle /health p90 {idle.percentile(0.9):.1f} ms; peak RSS {before:.0f} → {peak:.0f} MiB;"
              f" /health p50 {health.percentile(0.5):.1f} ms,"
              f" p90 {health.percentile(0.9):.1f} ms, max {max(health.latencies_ms):.1f} ms,"
              f" {len(health.latencies_ms)} answers")
        assert peak < 400
        codes = [a.status_code for a in answers]
        # Each attempt is checked (401) or, beyond the gate's queue, refused at once (503).
        assert set(codes) <= {401, 503} and codes.count(401) >= 34, codes
        busy = next(a for a in answers if a.status_code == 503)
        assert busy.json()["detail"] == "服务器正忙于处理大量登录，请稍后再试。"
        assert health.failures == 0 and len(health.latencies_ms) >= 20
        assert health.percentile(0.5) < 100 and health.percentile(0.9) < 100 + idle.percentile(0.9)
        assert server.login("王芳").status_code == 200
    finally:
        server.stop()
