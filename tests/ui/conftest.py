"""Fixtures for the window tests: an isolated data folder, a Chinese font, a window on the demo store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication, QMessageBox

from wq_desktop.settings import Settings
from wq_desktop.store import Store


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings, reports and demo files go to a per-test folder, never the real user's."""
    folder = tmp_path / "data"
    monkeypatch.setenv("WQ_DATA_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def gui_thread_gc(qapp: QApplication):
    """As in the app: Qt objects are only ever garbage-collected in the GUI thread."""
    import gc

    from ui.gc_guard import collect_in_gui_thread

    collect_in_gui_thread()
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def chinese_font(qapp: QApplication) -> None:
    from ui.fonts import apply_chinese_font

    apply_chinese_font(qapp)


@pytest.fixture
def answer_yes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Confirmation questions are answered 是; the list records what was asked."""
    asked: list[str] = []

    def question(_parent, title, text, *args, **kwargs):
        asked.append(f"{title}：{text}")
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Information / warning / critical boxes are recorded instead of blocking the test."""
    shown: list[str] = []

    def record(_parent, title, text, *args, **kwargs):
        shown.append(f"{title}：{text}")
        return QMessageBox.StandardButton.Ok

    for name in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(record))
    return shown


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.json"


@pytest.fixture
def window(qtbot, demo_store: Store, settings_file: Path):
    from ui.main_window import MainWindow

    w = MainWindow(demo_store, Settings(user="测试员"), settings_file)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: not w.village.loading)  # the first village's rows come from a worker
    return w


def make_field_photo(path: Path, taken: str = "2026:10:12 15:04:05",
                     lat: tuple[float, float, float] = (44.0, 1.0, 30.0),
                     lon: tuple[float, float, float] = (87.0, 18.0, 0.0)) -> Path:
    """A small JPEG with EXIF DateTimeOriginal and GPS, like a phone writes."""
    image = Image.new("RGB", (96, 72), (120, 140, 90))
    exif = Image.Exif()
    exif[0x8769] = {0x9003: taken}
    exif[0x8825] = {1: "N", 2: lat, 3: "E", 4: lon}
    image.save(path, "JPEG", exif=exif)
    return path


@pytest.fixture
def field_photo(tmp_path: Path):
    """Factory: field_photo("name.jpg") makes a JPEG with EXIF time and GPS in tmp_path."""
    return lambda name="field.jpg", **kw: make_field_photo(tmp_path / name, **kw)


SYNC_STAFF = ("测试员", "同事")  # the users of the sync tests' in-process server


@pytest.fixture
def server(tmp_path: Path):
    """An in-process sync server (tests/sync/inproc.py) with the two staff accounts."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
    from inproc import InProcessServer

    srv = InProcessServer(tmp_path / "server.sqlite")
    for user in SYNC_STAFF:
        srv.add_staff(user)
    yield srv
    srv.client.close()
    srv.db.close()
