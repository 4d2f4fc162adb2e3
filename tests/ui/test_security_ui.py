"""The window on an encrypted store: sign-in before it opens, 锁定 and the idle lock, accounts,
安全日志, encrypting an old plain store, restore with a sign-in, crash reports and native crashes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

import ui.app as app_module
from tests.conftest import TEST_PASSWORD
from ui.app import Application
from ui.dialogs import sign_in as sign_in_module
from ui.dialogs.encrypt_offer import EncryptStoreDialog
from ui.dialogs.sign_in import SignInDialog
from ui.main_window import MainWindow
from wq_desktop import accounts, audit, backup, encrypt_store, keyfile
from wq_desktop.settings import Settings
from wq_desktop.store import Store


@pytest.fixture
def encrypted_demo_file(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "enc" / "demo.sqlite"
    path.parent.mkdir()
    src, dst = sqlite3.connect(demo_template), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    encrypt_store.encrypt(path, "测试员", TEST_PASSWORD).store.close()
    # Closed here, not left to the collector: a store still open would hold the file when a
    # test restores it ("数据库正被其他程序使用"), and the window freezes what the collector walks.
    with accounts.sign_in(path, "测试员", TEST_PASSWORD) as owner:
        accounts.add_account(owner, "李四", "Lisi2026pass")
    keyfile.forget(path)
    return path


@pytest.fixture
def no_recovery_popup(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(sign_in_module, "show_recovery_code",
                        lambda code, name, parent=None: shown.append(code))
    return shown


def _close_all() -> None:
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.isVisible():
            widget._closing_confirmed = True
            widget.close()
            widget.store.close()


def _sign_in_as(qtbot, account: str, *passwords: str):
    """A SignInDialog.exec that types each password in turn and clicks 登录, as a user would."""
    errors: list[str] = []

    def exec_(dialog: SignInDialog) -> int:
        dialog.show()
        dialog.account.setCurrentText(account)
        for password in passwords:
            if dialog.result():
                break
            qtbot.keyClicks(dialog.password, password)
            qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
            errors.append(dialog.error.text() if not dialog.result() else "")
        return dialog.result()

    return exec_, errors


@pytest.fixture
def signed_in_window(qtbot, qapp, encrypted_demo_file: Path, monkeypatch: pytest.MonkeyPatch,
                     messages: list[str]):
    exec_, errors = _sign_in_as(qtbot, "李四", "Wrong2026pass", "Lisi2026pass")
    monkeypatch.setattr(SignInDialog, "exec", exec_)
    ctl = Application(qapp, Settings(user="随便填的名字"))
    assert ctl.open(encrypted_demo_file, "随便填的名字")
    qtbot.waitUntil(lambda: not ctl.backup_workers, timeout=60000)  # its security log entry first
    yield ctl, errors
    ctl.wait_for_backups()
    _close_all()
    keyfile.forget(encrypted_demo_file)


def test_encrypted_store_opens_only_after_sign_in_and_changes_name_the_account(
        qtbot, signed_in_window) -> None:
    ctl, errors = signed_in_window
    window = ctl.window
    assert errors[0].startswith("账户名或密码不正确") and errors[1] == ""
    assert window.store.user == "李四" and window.store.encrypted
    # An edit through the household form is recorded under the signed-in account.
    rows = window.village.visible_rows()
    window.show_household(rows[0].operator)
    form = window.household.form
    form.edits["address"].setText("新地址（登录后修改）")
    form.edits["address"].textEdited.emit("新地址（登录后修改）")
    assert window.save_current() is not False
    entry = window.store.history(rows[0].operator)[-1]
    assert entry.user == "李四" and entry.changes["address"][1] == "新地址（登录后修改）"
    events = [(e.event, e.account) for e in audit.entries(window.store.conn, newest_first=False)]
    assert events[-3:] == [("sign_in_failed", "李四"), ("sign_in", "李四"), ("backup", "李四")]
    daily = backup.list_backups(window.store.path)
    assert daily and backup.is_encrypted(daily[0].path)  # the daily backup is encrypted too


def test_cancelled_sign_in_opens_no_window(qtbot, qapp, encrypted_demo_file: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SignInDialog, "exec", lambda dialog: 0)
    ctl = Application(qapp, Settings(user="测试员"))
    assert not ctl.open(encrypted_demo_file, "测试员")
    assert ctl.window is None


def test_ctrl_l_locks_every_window_and_only_a_password_unlocks(qtbot, signed_in_window) -> None:
    ctl, _ = signed_in_window
    window = ctl.window
    security = window.security_controller
    patrol_dialog = security.show_log()  # an open dialog: covered, not closed
    patrol_dialog.activateWindow()
    qtbot.keyClick(patrol_dialog, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: security.locked)
    dialog = security.lock_dialog
    assert dialog.isVisible() and dialog.isModal()
    covers = window.findChildren(sign_in_module.QLabel, "lock_cover",
                                 Qt.FindChildOption.FindDirectChildrenOnly)
    assert len(covers) == 1 and covers[0].isVisible() and covers[0].geometry() == window.rect()
    assert patrol_dialog.isVisible() and patrol_dialog.findChildren(sign_in_module.QLabel, "lock_cover")
    qtbot.keyClicks(dialog.password, "Wrong2026pass")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert security.locked and "不正确" in dialog.error.text()
    qtbot.keyClicks(dialog.password, "Lisi2026pass")
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not security.locked)
    qtbot.waitUntil(lambda: not window.findChildren(sign_in_module.QLabel, "lock_cover"))
    events = [e.event for e in audit.entries(window.store.conn)][:3]
    assert events == ["unlock", "unlock_failed", "lock"]


def test_idle_time_locks_the_window(qtbot, signed_in_window) -> None:
    ctl, _ = signed_in_window
    security = ctl.window.security_controller
    assert security.idle_timer.isActive()
    assert security.idle_timer.interval() == 15 * 60_000  # the default setting
    security.idle_timer.start(20)  # the same timer, shortened: no waiting a quarter hour
    qtbot.waitUntil(lambda: security.locked, timeout=10000)
    assert not security.idle_timer.isActive()  # a locked window does not count idle time


def test_unlock_by_another_account_makes_it_the_user(qtbot, signed_in_window) -> None:
    ctl, _ = signed_in_window
    security = ctl.window.security_controller
    security.lock()
    dialog = security.lock_dialog
    dialog.account.setCurrentText("测试员")
    qtbot.keyClicks(dialog.password, TEST_PASSWORD)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not security.locked)
    assert ctl.window.store.user == "测试员"
    assert audit.entries(ctl.window.store.conn)[0].detail == {"previous": "李四"}


def test_demo_store_opens_without_sign_in_and_has_no_lock(qtbot, qapp, demo_store: Store,
                                                          messages: list[str]) -> None:
    path = demo_store.path
    demo_store.close()
    ctl = Application(qapp, Settings(user="测试员"))
    assert ctl.open(path, "测试员")  # no question asked, no dialog: the make run path
    security = ctl.window.security_controller
    assert not security.lock_action.isEnabled() and not security.idle_timer.isActive()
    assert security.log_action.isEnabled()
    ctl.wait_for_backups()
    _close_all()


def test_accounts_dialog_adds_and_disables_never_deletes(qtbot, signed_in_window,
                                                         answer_yes: list[str]) -> None:
    ctl, _ = signed_in_window
    dialog = ctl.window.security_controller.show_accounts()
    dialog.fields.account.setText("王五")  # QTest types ASCII only
    qtbot.keyClicks(dialog.fields.password, "wangwu")
    qtbot.keyClicks(dialog.fields.repeat, "wangwu")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "至少" in dialog.error.text() and dialog.model.rowCount() == 2
    dialog.fields.password.setText("Wangwu2026pass")
    dialog.fields.repeat.setText("Wangwu2026pass")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert [a.name for a in dialog.model.rows] == ["测试员", "李四", "王五"]
    dialog.table.selectRow(2)
    qtbot.mouseClick(dialog.disable_button, Qt.MouseButton.LeftButton)
    assert [a.enabled for a in dialog.model.rows] == [True, True, False]
    assert "停用账户" in answer_yes[0]
    log = ctl.window.security_controller.show_log()
    shown = log.table.model()  # in 序号 order, the newest last
    texts = [shown.index(r, 3).data() for r in range(shown.rowCount())]
    assert texts[-2:] == ["新增账户", "停用账户"]
    assert "哈希链完整" in log.state.text()


def test_security_log_view_reports_a_rewritten_entry(qtbot, signed_in_window) -> None:
    ctl, _ = signed_in_window
    conn = ctl.window.store.conn
    conn.execute("DROP TRIGGER security_log_no_update")
    conn.execute("UPDATE security_log SET account='别人' WHERE seq=1")
    log = ctl.window.security_controller.show_log()
    assert "被改动过" in log.state.text() and "第 1 条的内容被改写" in log.state.text()


def test_plain_store_is_offered_encryption_on_open(qtbot, qapp, store: Store, answer_yes,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   no_recovery_popup: list[str], messages) -> None:
    town = store.create("township", {"code": "652301105", "name": "六工镇"})
    path = store.path
    store.close()

    def exec_(dialog: EncryptStoreDialog) -> int:
        dialog.fields.account.setText("张三")
        dialog.fields.password.setText("Zhang2026pass")
        dialog.fields.repeat.setText("Zhang2026pass")
        dialog.encrypt()
        return dialog.result()

    monkeypatch.setattr(EncryptStoreDialog, "exec", exec_)
    ctl = Application(qapp, Settings(user="张三"))
    assert ctl.open(path, "张三")
    assert "未加密" in answer_yes[0] and len(no_recovery_popup) == 1
    assert keyfile.is_encrypted_store(path) and ctl.window.store.user == "张三"
    assert ctl.window.store.get("township", town)["name"] == "六工镇"
    ctl.wait_for_backups()
    _close_all()
    keyfile.forget(path)


def test_restore_in_the_window_asks_for_the_password(qtbot, signed_in_window, answer_yes,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QInputDialog

    ctl, _ = signed_in_window
    made = backup.list_backups(ctl.window.store.path)[0]
    answers = iter([("Wrong2026pass", True), ("Lisi2026pass", True)])
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: next(answers)))
    controller = ctl.window.backup_controller
    assert not controller.restore(made)  # the wrong password: nothing restored
    assert ctl.window.store.conn.execute("SELECT 1").fetchone() == (1,)  # still open
    assert controller.restore(made)
    qtbot.waitUntil(lambda: ctl.window is not None and ctl.window.store.user == "李四")
    assert audit.entries(ctl.window.store.conn)[0].event == "restore"


def test_crash_scrubber_masks_every_sample_form(data_dir: Path) -> None:
    from ui.crash import scrub

    samples = {
        "身份证号": ["65239919850307123X", "652399 19850307 123X", "652399-19850307-123x",
                 "6523 9919 8503 0712 3X", "652399850307123"],
        "手机号": ["13912345678", "139 1234 5678", "139-1234-5678", "1391-234-5678",
                "+86 139 1234 5678", "+86-13912345678", "8613912345678", "(+86)13912345678"],
        "固定电话": ["0994-2345678", "0994 2345678", "(0994)2345678", "（0994）2345678",
                 "(0994) 234 5678", "0994-234-5678", "09942345678", "010-12345678",
                 "0994-2345678-801", "+86 994 2345678"],
    }
    for kind, forms in samples.items():
        for form in forms:
            text = scrub(f"ValueError: 值“{form}”，下一项")
            assert not any(ch.isdigit() for ch in text), (kind, form, text)
            assert "已隐去" in text and text.endswith("，下一项")
    for harmless in ("2026-12-01 22:40:10", "乡镇 652301105 村 652301105901", "line 1234, in <module>",
                     "123.45 亩", "3f2b1c4e-1234-4abc-8def-1234567890ab"):
        assert scrub(harmless) == harmless


def test_native_crash_lands_in_the_crash_folder_masked(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    script = ("import sys, faulthandler; sys.path.insert(0, '.');"
              "from ui.crash import install_native_crash_log;"
              f"install_native_crash_log(__import__('pathlib').Path({str(folder)!r}))\n"
              "def crash_while_handling_13912345678(): faulthandler._sigsegv()\n"
              "crash_while_handling_13912345678()")
    ran = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                         capture_output=True, text=True)
    assert ran.returncode != 0
    dump = (folder / "native-crash.txt").read_text(encoding="utf-8")
    assert "Segmentation fault" in dump or "Fatal Python error" in dump
    from ui.crash import collect_native_crash

    report = collect_native_crash(folder)
    assert report is not None and report.name.startswith("native-crash-")
    text = report.read_text(encoding="utf-8")
    assert "程序异常退出报告" in text and "crash_while_handling" in text and "13912345678" not in text
    assert (folder / "native-crash.txt").read_text(encoding="utf-8") == ""
    assert collect_native_crash(folder) is None  # reported once


def test_run_installs_the_native_crash_log(qtbot, qapp, demo_store: Store, data_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    path = demo_store.path
    demo_store.close()
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    installed: list[Path] = []
    real = app_module.install_native_crash_log
    monkeypatch.setattr(app_module, "install_native_crash_log",
                        lambda: installed.append(real()) or installed[-1])
    try:
        assert app_module.run(path, "测试员") == 0
    finally:
        import faulthandler

        faulthandler.enable(file=sys.__stderr__)
        _close_all()
    assert installed and installed[0] == data_dir / "reports" / "native-crash.txt"
