"""The layer rules hold, and the tools that keep them would notice a break.

- `lint-imports` (contracts in pyproject.toml): the core imports no Qt, UI or server; only the
  command-line modules import the CLI; ui opens no database; private modules stay private; no
  import cycles in the core, the UI or the server.
- SQL lives in the store and the core's read modules: ui runs none; neither ui nor wq_server
  hands an SQL condition to the store; wq_server's own SQL touches only its own srv_* tables.
- The command line writes through the named operations, as the window does.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from wq_desktop.schema import KINDS

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("wq_desktop", "ui", "wq_server")

# The server's store (db.py) joins its photo-ownership tables (srv_upload, srv_scope) with the
# photo records in one query; everything else in wq_server reaches records through the store.
SERVER_RECORD_JOINS = {("wq_server/db.py", "photo")}
# The server's store behind its one interface (#19): the PostgreSQL implementation (its tables,
# record writes and reads) and the move from SQLite are where the server's record SQL lives, as
# the laptop's is in wq_desktop/store.py.
SERVER_STORE_MODULES = {"wq_server/pg_store.py", "wq_server/pg_schema.py", "wq_server/migrate.py"}


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True)


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_catch_each_kind_of_break(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    breaks = {
        "wq_desktop/bad_qt.py": "import ui.widgets\n",
        "wq_desktop/bad_cli.py": "from wq_desktop import cli\n",
        "ui/bad_sql.py": "import sqlite3\n",
        "wq_server/bad_private.py": "from wq_desktop.rules import _text\n",
        "wq_desktop/bad_cycle_a.py": "from wq_desktop import bad_cycle_b\n",
        "wq_desktop/bad_cycle_b.py": "from wq_desktop import bad_cycle_a\n",
    }
    for name, text in breaks.items():
        (tmp_path / name).write_text(text)
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    broken = re.findall(r"^(.+) BROKEN(?: \(\d+ ignored imports?\))?$", result.stdout, flags=re.MULTILINE)
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert sorted(broken) == sorted(c["name"] for c in contracts), result.stdout


def test_every_command_line_module_is_protected() -> None:
    """A new cli_*.py must join the contract, or core modules could start importing it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    protected = next(c for c in config["contracts"] if c["type"] == "protected")
    on_disk = sorted(f"wq_desktop.{p.stem}" for p in (ROOT / "wq_desktop").glob("cli*.py"))
    assert sorted(protected["protected_modules"]) == on_disk
    assert sorted(protected["allowed_importers"]) == on_disk


# ------------------------------------------------------------------------------ SQL


def _sql_text(node: ast.expr) -> str | None:
    """The constant text of an SQL argument (f-string holes left out); None for a variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant)) + " "
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _sql_text(node.left), _sql_text(node.right)
        return None if left is None or right is None else left + right
    return None


_TABLE = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?!SET\b)"?(\w+)"?', re.IGNORECASE)


def sql_problems(path: str, source: str) -> list[str]:
    """What breaks the SQL rule in one file of ui/ or wq_server/ (path relative to the repo)."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, where = node.func.attr, f"{path}:{node.lineno}"
        if name in ("find", "find_one", "count") and (
                len(node.args) >= 2 or any(k.arg == "where" for k in node.keywords)):
            problems.append(f"{where}: an SQL condition handed to Store.{name} (use a read function)")
        elif path.startswith("ui/"):
            if name in ("execute", "executemany", "executescript"):
                problems.append(f"{where}: SQL in ui (use a read function in wq_desktop/queries)")
        elif name in ("execute", "executemany") and node.args and path not in SERVER_STORE_MODULES:
            text = _sql_text(node.args[0])
            for table in _TABLE.findall(text or ""):
                if not table.startswith("srv_") and (path, table) not in SERVER_RECORD_JOINS:
                    problems.append(f"{where}: the server's SQL reads the store's table {table}")
    return problems


def test_no_sql_in_ui_and_none_on_record_tables_in_the_server() -> None:
    listed = subprocess.run(["git", "grep", "-l", "execute(\\|\\.find\\|\\.count(", "--", "ui", "wq_server"],
                            cwd=ROOT, capture_output=True, text=True, check=False).stdout.split()
    assert any(p.startswith("wq_server/") for p in listed)  # really searched
    problems = [p for path in listed if path.endswith(".py")
                for p in sql_problems(path, (ROOT / path).read_text())]
    assert problems == []


def test_the_sql_check_catches_each_kind_of_break() -> None:
    assert sql_problems("ui/x.py", 'store.conn.execute("SELECT parcel FROM measure WHERE uuid=?", (u,))')
    assert sql_problems("ui/x.py", 'store.find_one("water_quota", "township=?", (t,))')
    assert sql_problems("ui/x.py", 'store.find("photo", where="owner=?")')
    assert not sql_problems("ui/x.py", 'store.find("township")')
    assert sql_problems("wq_server/x.py", 'db.store.find_one("township", "code=?", (code,))')
    assert sql_problems("wq_server/x.py", 'conn.execute(f"SELECT uuid FROM {t} JOIN operator o")')
    assert not sql_problems("wq_server/x.py", 'conn.execute("SELECT name FROM srv_user WHERE name=?")')
    # The record kinds are the tables the server must leave to the store.
    assert all(sql_problems("wq_server/x.py", f'conn.execute("SELECT 1 FROM {k}")') for k in KINDS)


# Writers the command line must reach only through their named operation (wq_desktop/operations):
# the store's own writes and the core functions an operation wraps.
CLI_BYPASSES = {"create", "update", "delete", "restore", "sync_now", "import_reply", "apply_import",
                "store_pulled", "apply_pulled", "apply_pulled_many"}


def _bypasses(source: str) -> list[str]:
    calls = [n.func for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)]
    names = [f.attr if isinstance(f, ast.Attribute) else f.id for f in calls
             if isinstance(f, ast.Attribute | ast.Name)]
    return [name for name in names if name in CLI_BYPASSES]


def test_the_command_line_writes_only_through_named_operations() -> None:
    found = {path.name: _bypasses(path.read_text(encoding="utf-8"))
             for path in sorted((ROOT / "wq_desktop").glob("cli*.py"))}
    assert {name: calls for name, calls in found.items() if calls} == {}
    assert _bypasses('store.create("township", {})\nreport = sync_now(store, url)') \
        == ["create", "sync_now"]
