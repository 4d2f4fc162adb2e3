"""The 同步 menu in the window, against an in-process server: the password dialog, the report, the
status-bar counts, Chinese errors that change nothing, conflicts resolved field by field, refused
changes with the server's reason, and the USB package round trip."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu, QToolBar

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from inproc import PASSWORD, InProcessServer, household, open_sync_window, seed_village

from ui.sync import SyncController
from wq_desktop.settings import Settings
from wq_desktop.store import Store
from wq_desktop.sync import list_conflicts
from wq_desktop.sync.conflicts import THEIRS
from wq_desktop.sync.status import local_time_text
from wq_server import apply as server_apply
from wq_server.package import import_package_bytes

USER = "测试员"
OTHER = "同事"


@pytest.fixture
def laptop(tmp_path: Path, server: InProcessServer) -> Iterator[Store]:
    """A real (non-demo) store that has pulled its township, then got a village and two households."""
    store = Store.open(tmp_path / "laptop.sqlite", USER, create=True)
    server.sync(store, USER)
    village = seed_village(store, server.township)
    household(store, village, "张三")
    household(store, village, "李四")
    yield store
    store.close()


def _sync(qtbot, controller: SyncController, password: str = PASSWORD, user: str | None = None) -> None:
    dialog = controller.start_sync()
    assert dialog is not None and dialog.isVisible()
    if user is not None:
        dialog.user_edit.setText(user)
    dialog.password_edit.setText(password)
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)


def test_menu_button_and_status_bar_are_installed(qtbot, laptop, server, tmp_path) -> None:
    window, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus.index("同步(&S)") == menus.index("帮助(&H)") - 1
    menu = window.findChild(QMenu, "sync_menu")
    assert [a.text() for a in menu.actions() if a.text()] == [
        "立即同步…", "同步冲突…", "被拒绝的变更…", "导出待同步数据到U盘…", "从U盘导入…",
        "导入服务器密钥…"]
    assert controller.sync_action in window.findChild(QToolBar, "main_toolbar").actions()
    assert controller.sync_action.shortcut().toString() == "Ctrl+Shift+S"
    assert controller.last_sync_label.text().startswith("上次同步：")
    assert controller.rejected_button.isHidden() and controller.conflicts_button.isHidden()


def test_sync_with_the_right_password_sends_everything(qtbot, laptop, server, tmp_path, messages) -> None:
    window, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    assert window.pending_label.text() == "待同步变更：3 条"
    assert controller.last_sync_label.text() != "上次同步：从未"  # the fixture's first pull
    _sync(qtbot, controller)
    assert messages == []
    assert laptop.pending_changes() == 0
    assert window.pending_label.text() == "已全部同步"
    report = controller.report_dialog
    assert report is not None and report.isVisible() and report.windowTitle() == "同步完成"
    assert "上传修改 3 条" in report.text() and "待上传修改：0 条" in report.text()
    shown = local_time_text(laptop.meta("sync_last_at"))
    assert f"上次完成同步：{shown}" in report.text()  # local time, not the stored UTC text
    assert controller.last_sync_label.text() == f"上次同步：{shown}"
    assert server.db.conn.execute("SELECT count(*) FROM operator").fetchone()[0] == 2
    assert controller.sync_action.isEnabled()


class CancelOnPush:
    """The user presses 取消 while the changes are being uploaded."""

    def __init__(self, inner, controller: SyncController) -> None:
        self.inner, self.controller = inner, controller

    def request(self, method: str, url: str, **kw):
        answer = self.inner.request(method, url, **kw)
        if url.endswith("/sync/push"):  # from the worker thread: what 取消 does (sets a flag)
            self.controller.worker.cancel()
        return answer


def test_cancel_keeps_what_was_sent_and_says_so(qtbot, laptop, server, tmp_path, messages) -> None:
    window, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    controller.session = CancelOnPush(server.session, controller)
    _sync(qtbot, controller)
    report = controller.report_dialog
    assert report is not None and report.windowTitle() == "同步已取消"
    assert "同步已取消：已完成的部分已保存" in report.text()
    assert laptop.pending_changes() == 0 and window.pending_label.text() == "已全部同步"
    assert controller.sync_action.isEnabled() and messages == []


def test_wrong_password_says_so_in_chinese_and_changes_nothing(qtbot, laptop, server, tmp_path,
                                                               messages) -> None:
    window, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    before = (window.pending_label.text(), controller.last_sync_label.text(), laptop.meta("sync_last_at"))
    first = controller.start_sync()
    first.password_edit.setText("wrong-password")
    first.buttons.accepted.emit()
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    again = controller.login_dialog
    assert again is not first and again.isVisible()  # asked again, the user name kept
    assert again.user_edit.text() == USER and again.password_edit.text() == ""
    assert again.error.isVisibleTo(again) and again.error.text().startswith("用户名或密码错误")
    assert messages == []
    assert laptop.pending_changes() == 3
    assert (window.pending_label.text(), controller.last_sync_label.text(),
            laptop.meta("sync_last_at")) == before
    assert server.db.conn.execute("SELECT count(*) FROM operator").fetchone()[0] == 0
    again.password_edit.setText(PASSWORD)  # and the right password then syncs
    again.buttons.accepted.emit()
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    assert laptop.pending_changes() == 0 and window.pending_label.text() == "已全部同步"


def test_unreachable_server_says_offline(qtbot, laptop, server, tmp_path, messages) -> None:
    _, controller = open_sync_window(qtbot, laptop, server, tmp_path, url="http://127.0.0.1:9")
    controller.session = None  # a real connection attempt to a closed port
    _sync(qtbot, controller)
    assert len(messages) == 1 and "无法连接同步服务器" in messages[0] and "离线工作" in messages[0]
    assert laptop.pending_changes() == 3


def test_no_server_points_to_settings(qtbot, laptop, server, tmp_path, messages) -> None:
    _, controller = open_sync_window(qtbot, laptop, server, tmp_path, url="")
    assert controller.start_sync() is None
    assert len(messages) == 1 and "尚未设置同步服务器地址" in messages[0] and "设置" in messages[0]
    assert controller.worker is None and laptop.pending_changes() == 3


def test_a_vanished_certificate_file_points_to_settings(qtbot, laptop, server, tmp_path,
                                                        messages) -> None:
    window, controller = open_sync_window(qtbot, laptop, server, tmp_path, url="https://wq.example.cn")
    gone = tmp_path / "stick" / "office-ca.pem"  # chosen from a USB stick since pulled out
    window.settings = Settings(user=USER, server_url="https://wq.example.cn", ca_bundle=str(gone))
    assert controller.start_sync() is None and controller.login_dialog is None
    assert len(messages) == 1 and f"服务器证书文件“{gone}”已不存在" in messages[0]
    assert "文件 → 设置" in messages[0] and laptop.pending_changes() == 3


def test_demo_store_cannot_sync(qtbot, window, messages) -> None:
    controller = window.sync_controller
    assert controller.start_sync() is None
    assert len(messages) == 1 and "演示数据库" in messages[0]


def _conflict(server: InProcessServer, laptop: Store, tmp_path: Path) -> tuple[Store, str]:
    """The colleague and this laptop both rename 张三; the colleague's edit reaches the server first."""
    server.sync(laptop, USER)
    other = Store.open(tmp_path / "other.sqlite", OTHER, create=True)
    server.sync(other, OTHER)
    op = laptop.find_one("operator", "name=?", ("张三",))["uuid"]
    other.update("operator", op, {"name": "张三丰"})
    server.sync(other, OTHER)
    laptop.update("operator", op, {"name": "张三民"})
    return other, op


def test_conflict_is_listed_with_mine_and_theirs_and_choosing_theirs_resolves_it(
        qtbot, laptop, server, tmp_path, messages) -> None:
    other, op = _conflict(server, laptop, tmp_path)
    try:
        window, controller = open_sync_window(qtbot, laptop, server, tmp_path)
        _sync(qtbot, controller)
        assert "待处理冲突共 1 处" in controller.report_dialog.text()
        assert controller.report_dialog.conflicts_button.isVisibleTo(controller.report_dialog)
        assert controller.conflicts_button.isVisible()
        assert controller.conflicts_button.text() == "同步冲突：1 处"
        controller.conflicts_button.click()
        dialog = controller.conflicts_dialog
        assert dialog is not None and dialog.isVisible()
        assert dialog.list.rowCount() == 1
        # The record holds the edit that reached the server first; the list names it as it is now.
        assert [dialog.list.item(0, c).text() for c in (0, 1, 2)] == ["张三丰", "耕地经营者", "姓名/名称"]
        assert f"对方：{OTHER}" in dialog.list.item(0, 3).text()
        assert dialog.fields.rowCount() == 1
        mine, theirs = dialog.fields.cellWidget(0, 1), dialog.fields.cellWidget(0, 2)
        assert (mine.text(), theirs.text()) == ("张三民", "张三丰")
        assert dialog.save() is False and "请为每一项选择" in dialog.error.text()
        assert list_conflicts(laptop)  # nothing resolved by an incomplete choice
        theirs.click()
        assert dialog.choices() == {"name": THEIRS}
        dialog.save_button.click()
        assert list_conflicts(laptop) == []
        assert laptop.get("operator", op)["name"] == "张三丰"
        assert dialog.empty_label.isVisibleTo(dialog) and dialog.list.isHidden()
        qtbot.waitUntil(lambda: controller.conflicts_button.isHidden())
        assert window.pending_label.text().startswith("待同步变更：")  # the resolution syncs
        _sync(qtbot, controller)
        assert laptop.pending_changes() == 0
        server.sync(other, OTHER)
        assert list_conflicts(other) == [] and other.get("operator", op)["name"] == "张三丰"
    finally:
        other.close()


def test_all_mine_button_chooses_every_field(qtbot, laptop, server, tmp_path, messages) -> None:
    other, op = _conflict(server, laptop, tmp_path)
    try:
        _, controller = open_sync_window(qtbot, laptop, server, tmp_path)
        _sync(qtbot, controller)
        dialog = controller.show_conflicts()
        dialog.all_mine.click()
        assert dialog.choices() == {"name": "mine"}
        dialog.all_theirs.click()
        assert dialog.choices() == {"name": THEIRS}
        dialog.all_mine.click()
        assert dialog.save()
        assert laptop.get("operator", op)["name"] == "张三民" and list_conflicts(laptop) == []
    finally:
        other.close()


def test_refused_change_is_listed_with_the_servers_reason(qtbot, laptop, server, tmp_path,
                                                          messages) -> None:
    server.sync(laptop, USER)
    server_apply.create_township(server.db, "652301106", "三工镇")
    server.add_staff("外乡镇", "652301106")
    op = laptop.find_one("operator", "name=?", ("李四",))["uuid"]
    laptop.update("operator", op, {"address": "五组"})
    window, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    _sync(qtbot, controller, user="外乡镇")  # signed in with another township's account
    assert "被拒绝" in controller.report_dialog.text()
    assert controller.report_dialog.rejected_button.isVisibleTo(controller.report_dialog)
    assert controller.rejected_button.isVisible() and controller.rejected_button.text() == "被拒绝：1 条"
    assert laptop.get("operator", op)["address"] == "五组"  # kept here
    controller.rejected_button.click()
    dialog = controller.rejected_dialog
    assert dialog is not None and dialog.isVisible() and dialog.table.rowCount() == 1
    row = [dialog.table.item(0, c).text() for c in range(dialog.table.columnCount())]
    assert row[:4] == ["李四", "耕地经营者", "修改", "住址"] and row[5] == USER
    assert "其他乡镇" in row[-1] and "无权" in row[-1]
    opened = []
    window.open_record = lambda kind, uuid: opened.append((kind, uuid))  # type: ignore[method-assign]
    dialog.open_record.disconnect()
    dialog.open_record.connect(window.open_record)
    dialog.table.selectRow(0)
    dialog._open_selected()
    assert opened == [("operator", op)]


def test_usb_export_and_reply_import(qtbot, laptop, server, tmp_path, messages) -> None:
    window, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    package = tmp_path / "u盘" / "六工镇.zip"
    package.parent.mkdir()
    controller.export_usb(package)
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    assert package.is_file() and len(messages) == 1 and "3 条修改" in messages[0]
    from wq_desktop import sealed
    from wq_server import server_key

    shown = sealed.shown_fingerprint(server_key.public_key(server.db.path))
    assert f"已加密，只有指纹为 {shown} 的服务器能打开" in messages[0]
    assert laptop.pending_changes() == 3  # exporting marks nothing as sent
    reply = tmp_path / "reply.zip"
    reply.write_bytes(import_package_bytes(server.db, package.read_bytes()))
    controller.import_usb(reply)
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    assert len(messages) == 2 and "确认 3 条修改" in messages[1] and "待同步修改：0 条" in messages[1]
    assert laptop.pending_changes() == 0 and window.pending_label.text() == "已全部同步"


def test_a_damaged_package_is_refused_in_chinese(qtbot, laptop, server, tmp_path, messages) -> None:
    _, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    controller.import_usb(bad)
    qtbot.waitUntil(lambda: controller.worker is None, timeout=30000)
    assert len(messages) == 1 and messages[0].startswith("未能完成：该同步包未加密")
    assert laptop.pending_changes() == 3


def test_the_office_key_file_is_imported_and_a_different_key_needs_a_yes(
        qtbot, laptop, server, tmp_path, messages, monkeypatch) -> None:
    from PySide6.QtWidgets import QMessageBox

    from wq_desktop import package_keys, sealed
    from wq_server import server_key

    _, controller = open_sync_window(qtbot, laptop, server, tmp_path)
    genuine = tmp_path / "同步包密钥.json"
    fingerprint = server_key.write_public_file(server.db.path, genuine)
    assert controller.import_server_key(genuine)  # the same key the first sync pinned
    assert fingerprint in messages[-1]
    other_db = tmp_path / "other" / "s.sqlite"
    other_db.parent.mkdir()
    other = tmp_path / "另一台服务器.json"
    server_key.write_public_file(other_db, other)
    asked: list[str] = []

    def answer(reply):
        def question(_parent, title, text, *args, **kwargs):
            asked.append(text)
            return reply
        return staticmethod(question)

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert not controller.import_server_key(other)
    assert "不同" in asked[-1] and fingerprint in asked[-1]
    assert package_keys.server_key(laptop) == server_key.public_key(server.db.path)  # kept
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    assert controller.import_server_key(other)
    assert package_keys.server_key(laptop) == server_key.public_key(other_db)
    assert sealed.shown_fingerprint(server_key.public_key(other_db)) in messages[-1]
