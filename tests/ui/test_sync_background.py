"""Sync in the window without losing an edit: a merged household opens with its whole history, a
map outline edit started before a sync refuses to overwrite the newer outline, the background sync
(with the user's consent) shows 同步中 / 已同步 HH:MM / 离线 without any dialog, never runs twice at
once and never stays stuck, even for jobs that end at once."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import shapely
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from inproc import PASSWORD, SERVER, InProcessServer, household, open_sync_window, seed_village

from ui.map import MapCanvas
from wq_desktop.store import Store

USER, OTHER = "测试员", "同事"
ORIGIN = (500_000.0, 4_870_000.0)


@pytest.fixture
def laptops(tmp_path: Path, server: InProcessServer) -> Iterator[tuple[Store, Store, str]]:
    """Two laptops holding the same household (synced both ways)."""
    a = Store.open(tmp_path / "a.sqlite", USER, create=True)
    b = Store.open(tmp_path / "b.sqlite", OTHER, create=True)
    server.sync(a, USER)
    op = household(a, seed_village(a, server.township), "张三")
    server.sync(a, USER)
    server.sync(b, OTHER)
    yield a, b, op
    a.close()
    b.close()


def test_a_merged_household_opens_with_its_history_on_both_laptops(qtbot, tmp_path, server, laptops) -> None:
    a, b, op = laptops
    a.update("operator", op, {"address": "二组"})
    b.update("operator", op, {"phone": "13900001111"})
    server.sync(a, USER)
    assert server.sync(b, OTHER).conflicts == 0  # different fields: merged, answered with the state
    server.sync(a, USER)
    for store in (a, b):
        window, _ = open_sync_window(qtbot, store, server, tmp_path)
        window.show_household(op)
        rows = window.household.history.rows()
        assert {(r.action, r.field, r.new) for r in rows} >= {
            ("修改", "住址", "二组"), ("修改", "联系电话", "139****1111"), ("新建", "姓名/名称", "张三")}
        window.close()


def test_a_map_edit_begun_before_a_sync_does_not_overwrite_the_newer_outline(
        qtbot, tmp_path, server, laptops) -> None:
    a, b, op = laptops
    x0, y0 = ORIGIN
    village = a.get("operator", op)["village"]
    parcel = a.create("parcel", {"village": village, "operator": op, "code": "M1",
                                 "land_attribute": "集体机动地",
                                 "geometry": shapely.box(x0, y0, x0 + 100, y0 + 100)})
    server.sync(a, USER)
    server.sync(b, OTHER)
    canvas = MapCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(800, 600)
    canvas.show()
    qtbot.waitExposed(canvas)
    canvas.set_store(a, 2025)
    canvas.scale, canvas.center = 1.0, ORIGIN
    canvas.start_editing(parcel)
    # Meanwhile the colleague's corrected outline arrives (the sync worker has its own connection).
    newer = shapely.box(x0, y0, x0 + 120, y0 + 100)
    b.update("parcel", parcel, {"geometry": newer})
    server.sync(b, OTHER)
    with Store.open(a.path, USER) as worker_store:
        assert server.sync(worker_store, USER).pulled == 1
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(500, 200))  # corner (100, 100)
    qtbot.mouseMove(canvas, QPoint(550, 200))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(550, 200))
    assert canvas.save_edit() is False
    assert "编辑期间已被修改" in canvas.last_refusal
    assert shapely.equals(shapely.from_wkb(a.conn.execute(
        "SELECT geometry FROM parcel WHERE uuid=?", (parcel,)).fetchone()[0]), newer)
    assert a.pending_changes() == 0  # nothing queued over the colleague's outline


class HeldSession:
    """The in-process session, held at its first request until released: a sync that runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.release = threading.Event()

    def request(self, *args: Any, **kw: Any) -> Any:
        self.started.set()
        assert self.release.wait(60)
        return self.inner.request(*args, **kw)


class DeadLine:
    def request(self, *args: Any, **kw: Any) -> Any:
        raise requests.ConnectionError("unreachable")


def _login_once(qtbot, controller) -> None:
    dialog = controller.start_sync()
    dialog.password_edit.setText(PASSWORD)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    controller.report_dialog.close()


def test_background_sync_with_consent_shows_its_state_and_keeps_edits_made_meanwhile(
        qtbot, tmp_path, server, laptops, messages) -> None:
    a, b, op = laptops
    window, controller = open_sync_window(qtbot, a, server, tmp_path, auto_sync=True)
    qtbot.waitUntil(lambda: controller.state_label.text() == "自动同步：请先“立即同步”登录一次")
    assert controller.auto_timer.isActive()
    _login_once(qtbot, controller)
    assert controller.state_label.text().startswith("已同步 ")
    b.update("operator", op, {"note": "同事补充"})
    server.sync(b, OTHER)
    held = HeldSession(server.session)
    controller.session = held
    worker = controller.sync_in_background()
    assert worker is not None and controller.state_label.text() == "同步中…"
    assert held.started.wait(30)
    # While it runs: no second sync of any kind, and the user keeps working.
    assert controller.sync_in_background() is None and controller.start_sync() is None
    a.update("operator", op, {"address": "三组"})
    held.release.set()
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    assert controller.state_label.text().startswith("已同步 ")
    assert a.get("operator", op)["note"] == "同事补充"
    assert not [w for w in window.findChildren(QDialog) if w.isVisible()]  # never a dialog
    assert messages == []
    controller.session = server.session
    controller.sync_in_background()
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    server.sync(b, OTHER)
    assert b.get("operator", op)["address"] == "三组"  # the edit made during the sync arrived
    controller.session = DeadLine()
    controller.sync_in_background()
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    assert controller.state_label.text() == "离线" and messages == []


def test_jobs_that_end_at_once_never_leave_the_window_syncing(qtbot, tmp_path, server, laptops,
                                                               messages) -> None:
    a, _, _ = laptops
    _, controller = open_sync_window(qtbot, a, server, tmp_path, auto_sync=True)
    controller.credentials = (SERVER, USER, PASSWORD)
    controller.session = DeadLine()
    for _ in range(20):  # each ends before the GUI thread looks: the outcome still arrives
        assert controller.sync_in_background() is not None
        qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
        assert controller.state_label.text() == "离线" and controller.sync_action.isEnabled()
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    for _ in range(5):
        controller.import_usb(bad)
        qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    assert len(messages) == 5 and controller.sync_action.isEnabled()


def test_a_background_sync_broadcasts_what_it_pulled_and_the_page_shows_it(
        qtbot, tmp_path, server, laptops, messages) -> None:
    from ui.operations import change_bus

    a, b, op = laptops
    b.update("operator", op, {"address": "五组"})
    server.sync(b, OTHER)
    window, controller = open_sync_window(qtbot, a, server, tmp_path, auto_sync=True)
    controller.credentials = (SERVER, USER, PASSWORD)
    window.show_household(op)
    heard: list = []
    change_bus(a).changed.connect(heard.append)
    assert controller.sync_in_background() is not None
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    [changes] = heard  # once, for the whole sync
    assert changes.operation == "synchronize" and changes.ids("operator") == {op}
    assert changes.changed_fields("operator") == {"address"}
    assert window.household.form.edits["address"].text() == "五组" and messages == []
