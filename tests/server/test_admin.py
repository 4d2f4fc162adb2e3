"""The admin's user commands (`python -m wq_server passwd|disable-user|enable-user|list-users`)
against a server answering requests: a disabled user is refused at once, token and login alike; a
reset password replaces the old one; unknown users and bad usage give Chinese errors and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from inproc import PASSWORD, SERVER, InProcessServer
from serverproc import ROOT

from wq_desktop.store import Store
from wq_desktop.sync import AuthError, sync_now
from wq_desktop.sync import protocol as p
from wq_server.__main__ import main

USER = "王芳"
NEW_PASSWORD = "new-horse-battery-7"


@pytest.fixture
def server(tmp_path: Path, backend: str) -> Iterator[InProcessServer]:
    srv = InProcessServer(tmp_path / "server.sqlite", backend)
    srv.add_staff(USER)
    srv.add_staff("李明")
    yield srv
    srv.close()


def admin(server: InProcessServer, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
          *args: str, password: str | None = None) -> tuple[int, str, str]:
    """Run one admin command in-process on the server's database file: (exit code, stdout, stderr)."""
    if password is None:
        monkeypatch.delenv("WQ_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("WQ_PASSWORD", password)
    try:
        code = main([args[0], "--db", str(server.target), *args[1:]])
    except SystemExit as stop:  # argparse's usage errors
        code = int(stop.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def login(server: InProcessServer, password: str = PASSWORD, user: str = USER):
    return server.client.post("/auth/login", json={"user": user, "password": password},
                              headers={p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)})


def pull(server: InProcessServer, token: str):
    return server.client.get("/sync/pull", params={"device": "d1", "after": 0},
                             headers={p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION),
                                      "Authorization": f"Bearer {token}"})


def test_a_disabled_user_is_refused_at_once_and_can_be_enabled_again(server, capsys, monkeypatch,
                                                                     tmp_path) -> None:
    token = login(server).json()["token"]
    assert pull(server, token).status_code == 200

    code, out, _ = admin(server, capsys, monkeypatch, "disable-user", "--name", USER)
    assert code == 0 and out.startswith(f"已停用用户 {USER}：不能再登录，原有 1 个登录会话已立即失效")

    held = pull(server, token)  # the token a laptop still holds
    assert held.status_code == 401 and held.json()["detail"].startswith("登录已过期或无效")
    refused = login(server)
    assert refused.status_code == 401 and "已被管理员停用" in refused.json()["detail"]
    wrong = login(server, "not-the-password")  # no hint about the account without its password
    assert wrong.status_code == 401 and wrong.json()["detail"] == "用户名或密码错误。"
    with Store.open(tmp_path / "laptop.sqlite", USER, create=True) as store:  # what the user sees
        with pytest.raises(AuthError, match="已被管理员停用，不能登录同步。如需恢复请联系管理员"):
            sync_now(store, SERVER, USER, PASSWORD, session=server.session)
        assert store.count("township") == 0
    assert login(server, user="李明").status_code == 200  # the colleague is not affected

    code, out, _ = admin(server, capsys, monkeypatch, "list-users")
    line = next(x for x in out.splitlines() if x.startswith(USER))
    assert "乡镇工作人员" in line and "652301105 六工镇" in line and "已停用" in line

    code, out, _ = admin(server, capsys, monkeypatch, "enable-user", "--name", USER)
    assert code == 0 and "已恢复用户" in out
    assert pull(server, token).status_code == 401  # a revoked token stays revoked
    again = login(server)
    assert again.status_code == 200 and pull(server, again.json()["token"]).status_code == 200


def test_reset_password_replaces_the_old_one(server, capsys, monkeypatch) -> None:
    token = login(server).json()["token"]
    code, _, err = admin(server, capsys, monkeypatch, "passwd", "--name", USER, password="short")
    assert code == 2 and err.strip() == "错误：密码至少10位。"
    assert login(server).status_code == 200 and pull(server, token).status_code == 200  # unchanged

    code, out, _ = admin(server, capsys, monkeypatch, "passwd", "--name", USER, password=NEW_PASSWORD)
    assert code == 0 and out.startswith(f"已重设用户 {USER} 的密码；原有 2 个登录会话已失效")
    assert login(server).status_code == 401  # the old password
    assert pull(server, token).status_code == 401  # and what was logged in with it
    fresh = login(server, NEW_PASSWORD)
    assert fresh.status_code == 200 and pull(server, fresh.json()["token"]).status_code == 200
    assert login(server, user="李明").status_code == 200


def test_unknown_users_and_bad_usage_give_chinese_errors_and_exit_2(server, capsys, monkeypatch,
                                                                    tmp_path) -> None:
    for command in ("passwd", "disable-user", "enable-user"):
        code, out, err = admin(server, capsys, monkeypatch, command, "--name", "无此人",
                               password=NEW_PASSWORD)
        assert (code, out) == (2, "")
        assert err.strip() == "错误：用户“无此人”不存在。可用 list-users 查看全部用户。"
    code, _, err = admin(server, capsys, monkeypatch, "disable-user")  # --name forgotten
    assert code == 2 and err.startswith("错误：") and "--name" in err
    missing = tmp_path / "typo.sqlite"
    code = main(["list-users", "--db", str(missing)])
    assert code == 2 and "服务器数据库不存在" in capsys.readouterr().err
    assert not missing.exists()  # a mistyped path creates no empty database
    assert login(server).status_code == 200  # nothing changed for anyone


def test_commands_from_the_shell_have_chinese_help(server) -> None:
    run = subprocess.run([sys.executable, "-m", "wq_server", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, env={**os.environ})
    assert run.returncode == 0
    for words in ("passwd", "重设用户密码", "disable-user", "停用用户", "enable-user", "list-users"):
        assert words in run.stdout
    run = subprocess.run([sys.executable, "-m", "wq_server", "list-users", "--db", str(server.target)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and [x.split("\t")[0] for x in run.stdout.splitlines()] == ["李明", USER]


@pytest.mark.parametrize(("password", "reason"), [
    ("horse-9", "密码至少10位。"),
    ("13912345678", "密码不能全是数字（生日、电话、身份证号都容易被猜到），请加入字母或符号。"),
    ("zhangwei2024-xyz", "密码不能包含用户名。"),
    ("aaaaaaaaaaab", "密码中不同的字符太少，请换一个不易猜到的密码。"),
])
def test_weak_passwords_are_refused_by_adduser_and_passwd(server, capsys, monkeypatch, password,
                                                          reason) -> None:
    code, out, err = admin(server, capsys, monkeypatch, "adduser", "--name", "ZhangWei", "--role",
                           "office", password=password)
    assert (code, out, err.strip()) == (2, "", f"错误：{reason}")
    code, _, err = admin(server, capsys, monkeypatch, "passwd", "--name", USER,
                         password=password.replace("zhangwei", USER))
    assert code == 2 and err.strip() == f"错误：{reason}"
    assert login(server).status_code == 200  # the old password still works
    code, out, _ = admin(server, capsys, monkeypatch, "list-users")
    assert "ZhangWei" not in out
