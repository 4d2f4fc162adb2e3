"""The encrypted paths of the command line, as a user runs them (real product argon2 cost)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Zhang2026pass"


def run(*args: str, password: str | None = PASSWORD, data: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(data), "WQ_DATA_DIR": str(data)}
    if password is not None:
        env["WQ_PASSWORD"] = password
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, env=env, stdin=subprocess.DEVNULL)


def test_new_makes_an_encrypted_store_that_only_its_account_opens(tmp_path: Path) -> None:
    db = tmp_path / "wq.sqlite"
    made = run("new", "--db", str(db), "--township", "652301105", "--name", "六工镇", "--user", "张三",
               data=tmp_path)
    assert made.returncode == 0, made.stderr
    code = re.search(r"([0-9A-Z]{4}-){5}[0-9A-Z]{4}", made.stdout)
    assert code and "只显示这一次" in made.stdout
    assert db.read_bytes()[:16] != b"SQLite format 3\x00" and (tmp_path / "wq.sqlite.keys").is_file()
    assert "六工镇".encode() not in db.read_bytes()
    checked = run("check", "--db", str(db), "--user", "张三", data=tmp_path)
    assert checked.returncode == 0 and "0 个错误" in checked.stdout, checked.stderr
    wrong = run("check", "--db", str(db), "--user", "张三", password="Wrong2026pass", data=tmp_path)
    assert wrong.returncode == 2 and "不正确" in wrong.stderr
    no_password = run("check", "--db", str(db), "--user", "张三", password=None, data=tmp_path)
    assert no_password.returncode == 2 and "WQ_PASSWORD" in no_password.stderr
    log = run("security-log", "--db", str(db), "--user", "张三", data=tmp_path)
    assert log.returncode == 0
    assert [line.split()[3] for line in log.stdout.splitlines()[:3]] == ["登录", "登录失败", "登录"]


def test_new_refuses_a_weak_password_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "wq.sqlite"
    made = run("new", "--db", str(db), "--township", "652301105", "--name", "六工镇", "--user", "张三",
               password="12345678", data=tmp_path)
    assert made.returncode == 2 and "密码" in made.stderr
    assert not db.exists() and not (tmp_path / "wq.sqlite.keys").exists()


def test_demo_encrypted_then_backup_and_restore_ask_for_the_account(tmp_path: Path) -> None:
    db = tmp_path / "demo.sqlite"
    made = run("demo", "--db", str(db), "--encrypted", "--user", "张三", data=tmp_path)
    assert made.returncode == 0 and "加密" in made.stdout, made.stderr
    assert not re.search(rb"652399\d{11}[\dX]", db.read_bytes())
    assert run("backup", "--db", str(db), "--user", "张三", data=tmp_path).returncode == 0
    backup = next((tmp_path / "backups").glob("demo_*.sqlite"))
    assert not re.search(rb"652399\d{11}[\dX]", backup.read_bytes())
    refused = run("restore", str(backup), "--db", str(db), "--user", "张三", "--yes",
                  password="Wrong2026pass", data=tmp_path)
    assert refused.returncode == 2 and "不正确" in refused.stderr
    restored = run("restore", str(backup), "--db", str(db), "--user", "张三", "--yes", data=tmp_path)
    assert restored.returncode == 0, restored.stderr
    log = run("security-log", "--db", str(db), "--user", "张三", data=tmp_path)
    assert "从备份恢复" in log.stdout and "备份" in log.stdout


def test_the_product_uses_full_argon2_cost(tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "from wq_desktop import crypto; "
                            "print(crypto.current_kdf() == crypto.PRODUCT_KDF)"],
                           cwd=ROOT, capture_output=True, text=True)
    assert probe.stdout.strip() == "True"
