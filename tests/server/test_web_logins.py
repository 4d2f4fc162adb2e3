"""The web view signs in through the API's own login gate: wrong passwords typed in the browser
count toward the same lock-out (and the audit log) as a laptop's, and the lock is said in Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from serverproc import PASSWORD, ServerProcess, admin, new_server_db


def _web_login(url: str, user: str, password: str) -> requests.Response:
    s = requests.Session()
    form = s.get(url + "/web/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
    return s.post(url + "/web/login", data={"csrf": csrf, "user": user, "password": password},
                  timeout=120)


def test_wrong_web_passwords_lock_the_account_for_the_api_too(tmp_path: Path, backend: str) -> None:
    server = ServerProcess(new_server_db(tmp_path, backend), WQ_LOGIN_MAX_FAILURES="2")
    admin(server.db, "adduser", "--name", "市办", "--role", "office")
    server.start()
    try:
        for _ in range(2):
            wrong = _web_login(server.url, "市办", "not-the-password")
            assert wrong.status_code == 401 and "用户名或密码错误。" in wrong.text
        assert server.login("市办").status_code == 429  # the laptop's sign-in is locked as well
        locked = _web_login(server.url, "市办", PASSWORD)
        assert locked.status_code == 429 and "密码错误次数过多，已暂停登录" in locked.text
        assert "wq_session" not in locked.cookies
    finally:
        server.stop()
    audit = admin(server.db, "audit", "--name", "市办")
    assert audit.count("密码错误") == 2 and "登录被暂停" in audit
