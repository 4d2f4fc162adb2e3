"""The 同步 menu, toolbar button and status-bar counts of the main window.

Sync and USB packages run off the GUI thread (ui.workers): each job opens its own Store on the
window's file and runs a sync operation there (wq_desktop.operations.sync), which says what it
stored. When the job ends, that description (what was stored before a failure or 取消 too) is
broadcast on the window's ChangeBus, as a local edit's is: the views redraw what the server brought.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QPushButton

from wq_desktop.errors import WqError
from wq_desktop.operations import Changes
from wq_desktop.operations import sync as sync_ops
from wq_desktop.queries import navigation
from wq_desktop.settings import AUTO_SYNC_MINUTES
from wq_desktop.store import Store
from wq_desktop.sync.errors import AuthError, OfflineError
from wq_desktop.sync.status import local_time_text, sync_status

from ..actions import ActionDef, declare
from ..operations import change_bus
from ..workers import JobContext, Worker, run_with_progress, start_worker

if TYPE_CHECKING:
    # The dialogs, the sync client and the package code (cryptography) are imported when used,
    # not on the way to the window's first paint.
    from wq_desktop.sync.client import SyncReport
    from wq_desktop.sync.package import PackageSummary

    from ..main_window import MainWindow
    from .conflicts_dialog import ConflictsDialog
    from .login_dialog import LoginDialog
    from .rejected_dialog import RejectedDialog
    from .report_dialog import SyncReportDialog

NO_SERVER = ("尚未设置同步服务器地址。请在菜单“文件 → 设置…”中填写服务器地址"
             "（如 https://wq.example.cn:8765），保存后再同步。")
DEMO = "当前打开的是演示数据库，不能与服务器同步或导出同步包。请新建或打开正式数据库。"
NO_CA_FILE = ("设置中的服务器证书文件“{path}”已不存在（是否在已拔出的U盘上？）。请在菜单"
              "“文件 → 设置…”中重新选择管理员提供的证书文件，或清空该项后再同步。")
# Share of the progress bar for each stage the core reports, in the order it runs them.
STAGES = {"上传修改": (5, 40), "下载更新": (40, 70), "上传照片": (70, 85), "下载照片": (85, 100)}
LINK_STYLE = "QPushButton { border: none; padding: 0 6px; color: %s; text-decoration: underline; }"


@dataclass(frozen=True)
class WrongPassword:
    user: str
    message: str


@dataclass(frozen=True)
class Offline:
    message: str


# The status bar counts waiting changes up to this many (each save recounts them).
PENDING_SHOWN = 10_000
# What the status bar says about sync (SyncController.state).
NOT_SYNCED, SYNCING, SYNCED, OFFLINE, NEEDS_LOGIN, FAILED = (
    "not_synced", "syncing", "synced", "offline", "needs_login", "failed")


def _percent(stage: str, done: int, total: int | None) -> int:
    low, high = STAGES.get(stage, (0, 100))
    if not total:
        return low
    return low + (high - low) * min(done, total) // total


class SyncController(QObject):
    """Owns the sync actions of one window. `session` goes to sync_now (tests pass an in-process
    session); HTTPS trusts the CA file of the settings (服务器证书) when one is set, else the
    system's certificates."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session: Any = None
        self.worker: Worker | None = None
        self.login_dialog: LoginDialog | None = None
        self.report_dialog: SyncReportDialog | None = None
        self.conflicts_dialog: ConflictsDialog | None = None
        self.rejected_dialog: RejectedDialog | None = None
        self.last_message = ""  # the last error or result shown, for the status bar and tests
        self._partial: SyncReport | None = None
        # What the running job stored, filled in its thread when it ends (see _after_change).
        self._stored: list[Changes] = []

        self.rejected_button = QPushButton()
        self.rejected_button.setObjectName("rejected_button")
        self.rejected_button.setStyleSheet(LINK_STYLE % "#b00020")
        self.rejected_button.clicked.connect(self.show_rejected)
        self.conflicts_button = QPushButton()
        self.conflicts_button.setObjectName("conflicts_button")
        self.conflicts_button.setStyleSheet(LINK_STYLE % "#b35900")
        self.conflicts_button.clicked.connect(self.show_conflicts)
        self.photos_label = QLabel()
        self.photos_label.setObjectName("waiting_photos_label")
        self.last_sync_label = QLabel()
        self.last_sync_label.setObjectName("last_sync_label")
        # 同步中 / 已同步 HH:MM / 离线: what the background (or last) sync is doing.
        self.state_label = QLabel()
        self.state_label.setObjectName("sync_state_label")
        self.state = NOT_SYNCED
        self.last_synced: datetime | None = None
        self.credentials: tuple[str, str, str] | None = None  # (server, user, password), in memory
        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(AUTO_SYNC_MINUTES * 60 * 1000)
        self.auto_timer.timeout.connect(self.sync_in_background)

    @property
    def sync_action(self) -> QAction:
        return self.window.action("sync.now")

    def install_status(self) -> None:
        """The status-bar counts and the background sync (the menu comes from ui/actions.py)."""
        status = self.window.statusBar()
        for w in (self.rejected_button, self.conflicts_button, self.photos_label, self.state_label,
                  self.last_sync_label):
            status.addPermanentWidget(w)
        self.refresh_status()
        self.apply_settings()

    # ------------------------------------------------------------ status bar
    def refresh_status(self) -> None:
        """The window's sync counts, after each change: each table looked at once."""
        s = sync_status(self.window.store, pending_up_to=PENDING_SHOWN + 1)
        if s.pending > PENDING_SHOWN:
            self.window.pending_label.setText(f"待同步变更：{PENDING_SHOWN:,} 条以上")
        else:
            self.window.pending_label.setText(f"待同步变更：{s.pending} 条" if s.pending else "已全部同步")
        self.rejected_button.setText(f"被拒绝：{s.rejected} 条")
        self.rejected_button.setToolTip("服务器拒绝的本机修改，点击查看原因")
        self.rejected_button.setVisible(s.rejected > 0)
        self.conflicts_button.setText(f"同步冲突：{s.open_conflicts} 处")
        self.conflicts_button.setToolTip("两台设备改了同一项内容，点击逐项选择保留哪一方")
        self.conflicts_button.setVisible(s.open_conflicts > 0)
        self.photos_label.setText(f"待上传照片：{s.waiting_photos} 张")
        self.photos_label.setVisible(s.waiting_photos > 0)
        self.last_sync_label.setText(f"上次同步：{local_time_text(s.last_sync_at)}")
        for dialog in (self.conflicts_dialog, self.rejected_dialog):
            if dialog is not None and dialog.isVisible():
                dialog.refresh()

    def _after_change(self) -> None:
        """A job ended: broadcast what it stored (the window then redraws its counts, this
        status bar included); nothing stored, only the status is redrawn."""
        stored, self._stored = self._stored, []
        changes = stored[0] if stored else None
        for more in stored[1:]:
            changes = changes.merged(more)
        if changes is not None and not changes.empty:
            change_bus(self.window.store).publish(changes)
        else:
            self.refresh_status()

    def _inform(self, title: str, message: str) -> None:
        self.last_message = message
        QMessageBox.information(self.window, title, message)

    def _warn(self, title: str, message: str) -> None:
        self.last_message = message
        QMessageBox.warning(self.window, title, message)

    def _can_sync(self) -> bool:
        if self.worker is not None:
            self.window.statusBar().showMessage("同步正在进行中，请稍候。", 4000)
            return False
        if self.window.store.is_demo:
            self._inform("不能同步", DEMO)
            return False
        return True

    # ------------------------------------------------------------ sync
    def start_sync(self) -> LoginDialog | None:
        """Ask for the password (non-blocking dialog); the sync starts when the user confirms."""
        if not self._can_sync():
            return None
        server = self.window.settings.server_url.strip()
        if not server:
            self._inform("未设置服务器", NO_SERVER)
            return None
        ca_bundle = self.window.settings.ca_bundle
        if ca_bundle and not Path(ca_bundle).is_file():  # e.g. it was on a USB stick
            self._warn("找不到服务器证书", NO_CA_FILE.format(path=ca_bundle))
            return None
        return self._ask_password(server, self.window.settings.user or self.window.store.user)

    def _ask_password(self, server: str, user: str, error: str | None = None) -> LoginDialog:
        from .login_dialog import LoginDialog

        dialog = LoginDialog(server, user, self.window)
        dialog.error.show_error(error)
        dialog.accepted.connect(lambda: self.run_sync(server, dialog.user, dialog.password))
        dialog.finished.connect(dialog.deleteLater)
        self.login_dialog = dialog
        dialog.open()
        return dialog

    def _sync_job(self, server: str, user: str, password: str) -> Any:
        path, store_user = self.window.store.path, self.window.store.user
        session, verify = self.session, self.window.settings.verify
        self._partial = None
        stored = self._stored = []

        def job(ctx: JobContext) -> SyncReport | WrongPassword | Offline:
            ctx.progress(2, "正在连接服务器…")

            def progress(stage: str, done: int, total: int | None) -> None:
                if not ctx.cancelled:  # after 取消 the core stops at the next safe point itself
                    ctx.progress(_percent(stage, done, total),
                                 f"{stage}：{done}" + (f" / {total}" if total else ""))

            with Store.open(path, store_user) as store:
                try:
                    report = sync_ops.synchronize(store, server, user, password, progress,
                                                  lambda: ctx.cancelled, verify=verify,
                                                  session=session, partial=stored).result
                except AuthError as err:  # asked again, with the server's words, not a dead end
                    return WrongPassword(user, str(err))
                except OfflineError as err:
                    return Offline(str(err))
            self._partial = report  # read by _sync_cancelled: a cancelled run still reports
            return report

        return job

    def run_sync(self, server: str, user: str, password: str) -> Worker:
        """A sync the user asked for: progress dialog, then the report."""
        self._begin(SYNCING)

        def done(result: SyncReport | WrongPassword | Offline) -> None:
            self._sync_done(result, (server, user, password))

        self.worker = run_with_progress(self.window, "正在同步", self._sync_job(server, user, password),
                                        done, self._sync_failed, self._sync_cancelled,
                                        on_finished=self._worker_finished)
        return self.worker

    def _begin(self, state: str) -> None:
        self.sync_action.setEnabled(False)
        self._set_state(state)

    def _worker_finished(self) -> None:
        self.worker = None
        self.sync_action.setEnabled(True)
        if self.state == SYNCING:  # an outcome always sets the state; this is the last guard
            self._set_state(self._idle_state())

    def _sync_done(self, result: SyncReport | WrongPassword | Offline,
                   credentials: tuple[str, str, str]) -> None:
        self._after_change()
        if isinstance(result, WrongPassword):
            self.credentials = None
            self._set_state(self._idle_state())
            self.last_message = result.message
            self._ask_password(self.window.settings.server_url.strip(), result.user, result.message)
            return
        if isinstance(result, Offline):
            self._set_state(OFFLINE)
            self._warn("同步未完成", result.message)
            return
        self.credentials = credentials  # this session only, for the background sync
        self._synced(result)
        self.show_report(result)

    def _sync_failed(self, message: str) -> None:
        self._after_change()  # what finished before the failure is kept and counts
        self._set_state(self._idle_state())
        self._warn("同步未完成", message)

    # ------------------------------------------------------------ background sync
    def apply_settings(self) -> None:
        """Start or stop the background sync as the settings say (call after 设置 is saved)."""
        if self.window.settings.auto_sync and self.window.settings.server_url.strip() \
                and not self.window.store.is_demo:
            if not self.auto_timer.isActive():
                self.auto_timer.start()
                QTimer.singleShot(0, self.sync_in_background)  # right after start, too
        else:
            self.auto_timer.stop()
        self._set_state(self.state)

    def sync_in_background(self) -> Worker | None:
        """One sync without any dialog, if the user consented, a password was given in this
        session, and no other sync or package job runs. Work goes on meanwhile: an edit made
        during it is queued with its own base revision and is safe."""
        settings = self.window.settings
        server = settings.server_url.strip()
        if (not settings.auto_sync or not server or self.worker is not None
                or self.window.store.is_demo):
            return None
        if self.credentials is None or self.credentials[0] != server:
            self._set_state(NEEDS_LOGIN)
            return None
        if settings.ca_bundle and not Path(settings.ca_bundle).is_file():
            self._set_state(OFFLINE)
            return None
        credentials = self.credentials
        self._begin(SYNCING)

        def done(result: SyncReport | WrongPassword | Offline) -> None:
            self._after_change()
            if isinstance(result, WrongPassword):
                self.credentials = None
                self._set_state(NEEDS_LOGIN)
            elif isinstance(result, Offline):
                self._set_state(OFFLINE)
            else:
                self._synced(result)

        def failed(message: str) -> None:
            self._after_change()
            self.last_message = message
            self._set_state(FAILED, message)

        def cancelled() -> None:
            self._after_change()
            self._set_state(self._idle_state())

        self.worker = start_worker(self.window, self._sync_job(*credentials), done, failed,
                                   cancelled, on_finished=self._worker_finished)
        return self.worker

    def _synced(self, report: SyncReport) -> None:
        self.last_synced = datetime.now()
        self._set_state(SYNCED if not report.cancelled else self._idle_state())

    def _idle_state(self) -> str:
        return SYNCED if self.last_synced is not None else NOT_SYNCED

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        text = {SYNCING: "同步中…", OFFLINE: "离线", NEEDS_LOGIN: "自动同步：请先“立即同步”登录一次",
                FAILED: "同步未完成", NOT_SYNCED: "",
                SYNCED: f"已同步 {self.last_synced:%H:%M}" if self.last_synced else ""}[state]
        if self.window.settings.auto_sync and state == NOT_SYNCED:
            text = "自动同步已开启"
        self.state_label.setText(text)
        auto = f"联网时每 {AUTO_SYNC_MINUTES} 分钟在后台自动同步" if self.window.settings.auto_sync else ""
        self.state_label.setToolTip(detail or auto)
        self.state_label.setVisible(bool(text))

    def _sync_cancelled(self) -> None:
        self._after_change()
        self._set_state(self._idle_state())
        if self._partial is not None:
            self._partial.cancelled = True
            self.show_report(self._partial)
        else:
            self.last_message = "同步已取消：已完成的部分已保存，下次同步从中断处继续。"
            self.window.statusBar().showMessage(self.last_message, 8000)

    def show_report(self, report: SyncReport) -> SyncReportDialog:
        from .report_dialog import SyncReportDialog

        dialog = SyncReportDialog(report, self.window)
        dialog.conflicts_button.clicked.connect(self.show_conflicts)
        dialog.rejected_button.clicked.connect(self.show_rejected)
        dialog.finished.connect(dialog.deleteLater)
        self.report_dialog = dialog
        self.last_message = dialog.text()
        self.window.statusBar().showMessage(report.lines()[0], 8000)
        dialog.open()
        return dialog

    # ------------------------------------------------------------ conflicts and refused changes
    def show_conflicts(self) -> ConflictsDialog:
        if self.conflicts_dialog is None:
            from .conflicts_dialog import ConflictsDialog

            self.conflicts_dialog = ConflictsDialog(self.window.store, self.window)
            self.conflicts_dialog.open_record.connect(self.window.open_record)
        else:
            self.conflicts_dialog.refresh()
        self.conflicts_dialog.show()
        self.conflicts_dialog.raise_()
        return self.conflicts_dialog

    def show_rejected(self) -> RejectedDialog:
        if self.rejected_dialog is None:
            from .rejected_dialog import RejectedDialog

            self.rejected_dialog = RejectedDialog(self.window.store, self.window)
            self.rejected_dialog.open_record.connect(self.window.open_record)
        else:
            self.rejected_dialog.refresh()
        self.rejected_dialog.show()
        self.rejected_dialog.raise_()
        return self.rejected_dialog

    # ------------------------------------------------------------ USB packages
    def _default_package_name(self) -> str:
        names = [name for _, name in navigation.townships(self.window.store)]
        stem = names[0] if names else self.window.store.path.stem
        return f"{stem}-{date.today():%m%d}.zip"

    def export_usb(self, out: Path | None = None) -> Worker | None:
        """Write the waiting changes and photos to a package file (asks where unless given)."""
        if not self._can_sync():
            return None
        if out is None:
            start = str(self.window.settings.data_path / self._default_package_name())
            name, _ = QFileDialog.getSaveFileName(self.window, "导出待同步数据到U盘", start,
                                                  "同步包 (*.zip)")
            if not name:
                return None
            out = Path(name) if name.lower().endswith(".zip") else Path(name + ".zip")
        path, store_user = self.window.store.path, self.window.store.user
        user = self.window.settings.user or store_user

        from wq_desktop import package_keys, sealed
        from wq_desktop.sync.package import export_package

        def job(ctx: JobContext) -> PackageSummary:
            ctx.progress(10, "正在导出同步包…")
            with Store.open(path, store_user) as store:
                return export_package(store, out, user)

        def done(s: PackageSummary) -> None:
            key = package_keys.server_key(self.window.store)
            sealed_to = (f"（已加密，只有指纹为 {sealed.shown_fingerprint(key)} 的服务器能打开）"
                         if key else "")
            self._inform("已导出同步包", f"已导出同步包 {out}{sealed_to}：{s.changes} 条修改，"
                         f"{s.photos} 张照片。\n这些修改仍显示为待同步：请在办公室导入服务器，"
                         "并把服务器生成的回传包用“从U盘导入…”导入本机后，才标记为已同步。")

        return self._run_package_job("正在导出同步包", job, done)

    def import_usb(self, package: Path | None = None) -> Worker | None:
        """Store the server's reply package: answers to exported changes and others' changes."""
        if not self._can_sync():
            return None
        if package is None:
            name, _ = QFileDialog.getOpenFileName(self.window, "从U盘导入服务器回传包",
                                                  str(self.window.settings.data_path), "同步包 (*.zip)")
            if not name:
                return None
            package = Path(name)
        path, store_user = self.window.store.path, self.window.store.user
        stored = self._stored = []

        def job(ctx: JobContext) -> tuple[PackageSummary, int]:
            ctx.progress(10, "正在导入回传包…")
            with Store.open(path, store_user) as store:
                changes = sync_ops.import_usb_reply(store, package)
                stored.append(changes)
                return changes.result, store.pending_changes()

        def done(result: tuple[PackageSummary, int]) -> None:
            s, waiting = result
            self._after_change()
            self._inform("已导入回传包",
                         f"已导入回传包：确认 {s.changes} 条修改（冲突 {s.conflicts}，被拒绝 {s.rejected}），"
                         f"收到 {s.pulled} 条其他设备的修改；待同步修改：{waiting} 条。")

        return self._run_package_job("正在导入回传包", job, done)

    def import_server_key(self, path: Path | None = None) -> bool:
        """Pin the server key from the city office's file; a key other than the pinned one is
        taken only after the user confirms, with both fingerprints shown."""
        if self.window.store.is_demo:
            self._warn("不能导入", DEMO)
            return False
        if path is None:
            name, _ = QFileDialog.getOpenFileName(self.window, "导入服务器同步包密钥",
                                                  str(self.window.settings.data_path),
                                                  "密钥文件 (*.json);;所有文件 (*)")
            if not name:
                return False
            path = Path(name)
        from wq_desktop import package_keys, sealed

        store = self.window.store
        try:
            try:
                key = package_keys.import_key_file(store, path)
            except package_keys.ServerKeyChanged as changed:
                answer = QMessageBox.question(
                    self.window, "服务器密钥不同",
                    f"{changed}\n\n已与市办公室核对过新指纹、确认要换用该密钥吗？",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No)
                if answer != QMessageBox.StandardButton.Yes:
                    self.last_message = str(changed)
                    return False
                key = package_keys.import_key_file(store, path, replace=True)
        except WqError as err:
            self._warn("未能导入", str(err))
            return False
        self._inform("已导入服务器密钥", f"已记住服务器同步包密钥（指纹 {sealed.shown_fingerprint(key)}）。"
                     "今后导出的U盘同步包只有该服务器能打开。")
        return True

    def _run_package_job(self, title: str, job: Any, done: Any) -> Worker:
        def failed(message: str) -> None:
            self._after_change()
            self._warn("未能完成", message)

        self.sync_action.setEnabled(False)
        self.worker = run_with_progress(self.window, title, job, done, failed,
                                        on_finished=self._worker_finished)
        return self.worker


def _sync(method: str) -> Any:
    return lambda w: getattr(w.sync_controller, method)


declare(
    ActionDef("sync.now", "立即同步…", "同步", _sync("start_sync"), "Ctrl+Shift+S", order=10,
              toolbar=160, tooltip="与服务器同步：上传本机修改和照片，下载其他设备的修改"),
    ActionDef("sync.conflicts", "同步冲突…", "同步", _sync("show_conflicts"), order=20),
    ActionDef("sync.rejected", "被拒绝的变更…", "同步", _sync("show_rejected"), order=30),
    ActionDef("sync.usb_export", "导出待同步数据到U盘…", "同步", _sync("export_usb"), group=1, order=10),
    ActionDef("sync.usb_import", "从U盘导入…", "同步", _sync("import_usb"), group=1, order=20),
    ActionDef("sync.server_key", "导入服务器密钥…", "同步", _sync("import_server_key"), group=1,
              order=30, tooltip="导入市办公室提供的服务器同步包密钥文件：U盘同步包用它加密"),
)
