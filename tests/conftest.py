"""Shared fixtures. Qt tests run on the offscreen platform; every test gets its own store file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))  # pg_cluster

from wq_desktop import crypto  # noqa: E402
from wq_desktop.store import Store  # noqa: E402

# The one explicit test setting of argon2: cheap envelopes for the test run (the product's
# parameters are never lowered; crypto.PRODUCT_KDF is tested as such in test_security.py).
crypto.use_test_kdf()

TEST_PASSWORD = "Ceshi2026pass"


@pytest.fixture
def encrypted_store(tmp_path: Path) -> Store:
    """A new encrypted store signed in as 测试员 (password TEST_PASSWORD)."""
    from wq_desktop import accounts, keyfile

    s, _code = accounts.create_encrypted_store(tmp_path / "secret.sqlite", "测试员", TEST_PASSWORD)
    yield s
    s.close()
    keyfile.forget(s.path)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "test.sqlite", "测试员", create=True)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo store built once per run; tests copy it rather than rebuild it."""
    from wq_desktop.demo import create_demo_store

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    create_demo_store(path).close()
    return path


@pytest.fixture
def demo_store(demo_template: Path, tmp_path: Path) -> Store:
    import shutil
    import sqlite3

    target = tmp_path / "demo.sqlite"
    src = sqlite3.connect(demo_template)
    dst = sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    photos = demo_template.parent / "demo_photos"
    if photos.exists():
        shutil.copytree(photos, tmp_path / "demo_photos")
    s = Store.open(target, "测试员")
    yield s
    s.close()


# ---------------------------------------------------------------- log audit (issue #8)
# The program's log goes to one file for the whole run; when the run ends, the file is searched
# for ID and phone numbers, and the run fails if one got through. The check runs at session end
# so that every test, whatever its folder, has logged before it.
_LOG_DIR_KEY = pytest.StashKey[Path]()


@pytest.fixture(scope="session", autouse=True)
def _session_log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import logging

    from wq_desktop.logs import setup_logging

    folder = tmp_path_factory.getbasetemp() / "wq-logs"
    path = setup_logging(logging.INFO, folder, max_bytes=0)
    request.config.stash[_LOG_DIR_KEY] = folder
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    folder = session.config.stash.get(_LOG_DIR_KEY, None)
    if folder is None or not folder.is_dir():
        return
    import logging

    from wq_desktop.logs import audit_log_files

    for handler in logging.getLogger().handlers:
        handler.flush()
    lines, problems = audit_log_files(folder)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def say(text: str, red: bool = False) -> None:
        if reporter:
            reporter.write_line(text, red=red)
        else:
            print(text)

    if problems:
        say(f"日志审计失败：测试运行的日志中有 {len(problems)} 处身份证号或电话号码（{folder}）：", red=True)
        for line in problems[:20]:
            say(f"  {line}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        say(f"log audit: {lines} log lines of this run checked, no ID or phone numbers")


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def backend(request: pytest.FixtureRequest) -> str:
    """The server's store under test: every server and sync test runs on both."""
    return request.param
