"""The command line as a user meets it: exit codes, one-line errors, demo then check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "WQ_USER": "测试员", "HOME": "/tmp"})


def test_demo_then_check_exits_zero_and_refuses_to_overwrite(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite"
    made = run("demo", "--db", str(db))
    assert made.returncode == 0, made.stderr
    assert "户" in made.stdout
    checked = run("check", "--db", str(db))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 个错误" in checked.stdout
    again = run("demo", "--db", str(db))
    assert again.returncode == 2 and "已存在" in again.stderr


def test_check_exits_one_on_an_error(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "d.sqlite"
    assert run("demo", "--db", str(db)).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE operator SET name='篡改' WHERE rowid=1")
    conn.commit()
    conn.close()
    checked = run("check", "--db", str(db))
    assert checked.returncode == 1
    assert "不一致" in checked.stdout


def test_missing_file_and_wrong_arguments_give_one_line_and_exit_two(tmp_path: Path) -> None:
    missing = run("check", "--db", str(tmp_path / "none.sqlite"))
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "不存在" in missing.stderr
    wrong = run("check")
    assert wrong.returncode == 2 and wrong.stderr.strip().count("\n") == 0
    assert "缺少必需的参数" in wrong.stderr
    unknown = run("frobnicate")
    assert unknown.returncode == 2 and unknown.stderr.strip().count("\n") == 0


def test_every_command_has_help() -> None:
    top = run("--help")
    assert top.returncode == 0 and "demo" in top.stdout and "check" in top.stdout
    for name in ("demo", "check"):
        result = run(name, "--help")
        assert result.returncode == 0 and "--db" in result.stdout


def test_help_is_in_chinese_for_every_command() -> None:
    from wq_desktop.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and isinstance(a.choices, dict))
    english = ("usage:", "positional arguments", "options:", "optional arguments",
               "show this help message and exit")
    texts = {"python main.py": parser.format_help()}
    texts.update({name: sub.format_help() for name, sub in subparsers.choices.items()})
    assert len(texts) > 5
    for name, text in texts.items():
        assert text.startswith("用法："), name
        assert "显示本帮助并退出" in text, name
        assert not any(word in text for word in english), (name, text)
    top = run("--help")  # what the user types, through main.py
    assert top.returncode == 0 and top.stdout.startswith("用法：python main.py")
    assert "选项" in top.stdout and "show this help" not in top.stdout


def test_every_command_is_there_after_one_command_module_was_imported_alone() -> None:
    """A caller that imported one feature's commands first (cli_gis) still gets all the others."""
    code = ("import sys; import wq_desktop.cli_gis; from wq_desktop import cli; "
            "sys.exit(cli.main(['export', '--help']))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "导出表格" in done.stdout
