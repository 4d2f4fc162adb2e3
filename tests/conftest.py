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

from wq_desktop.store import Store  # noqa: E402


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
