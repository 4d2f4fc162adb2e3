"""Settings: user name, township, default year, data folder, server address, server certificate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import settings as settings_mod
from wq_desktop.errors import ValidationError
from wq_desktop.settings import AUTO_SYNC_MINUTES, Settings

from ..widgets import ErrorLabel, save_cancel_buttons

LATEST = "（数据中最近的年度）"


class SettingsDialog(QDialog):
    """Saves to the settings file only when every field is valid; a refused field keeps its text."""

    def __init__(self, current: Settings, townships: list[str], settings_file: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("设置")
        self.setMinimumWidth(520)
        self.current = current
        self.settings_file = settings_file
        self.result_settings: Settings | None = None
        self.user = QLineEdit(current.user)
        self.user.setObjectName("settings_user")
        self.user.setPlaceholderText("记入变更历史的姓名")
        self.township = QComboBox()
        self.township.setEditable(True)
        self.township.addItems(townships)
        self.township.setCurrentText(current.township or (townships[0] if townships else ""))
        self.year = QSpinBox()
        self.year.setObjectName("settings_year")
        self.year.setRange(1999, 2100)  # 1999 = "not set": shown as the special text
        self.year.setSpecialValueText(LATEST)
        self.year.setValue(current.default_year or 1999)
        self.folder = QLineEdit(current.data_folder or str(current.data_path))
        browse = QPushButton("浏览…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.server = QLineEdit(current.server_url)
        self.server.setObjectName("settings_server")
        self.server.setPlaceholderText("如 https://wq.example.cn（离线使用可不填）")
        self.ca_bundle = QLineEdit(current.ca_bundle)
        self.ca_bundle.setObjectName("settings_ca_bundle")
        self.ca_bundle.setPlaceholderText("内网自签名 HTTPS 时选择管理员提供的证书文件；否则留空")
        self.ca_bundle.setToolTip("服务器使用内网自签名证书时，选择管理员提供的 CA 证书文件（PEM 格式，"
                                  "常见扩展名 .pem / .crt）。留空则使用系统信任的证书。")
        ca_browse = QPushButton("选择…")
        ca_browse.setObjectName("settings_ca_browse")
        ca_browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(ca_browse)
        self.auto_sync = QCheckBox(f"联网时在后台自动同步（启动后及每 {AUTO_SYNC_MINUTES} 分钟一次）")
        self.auto_sync.setObjectName("settings_auto_sync")
        self.auto_sync.setChecked(current.auto_sync)
        self.auto_sync.setToolTip("同意后，程序在能连上服务器时自动上传和下载修改，不弹出窗口，"
                                  "不影响录入。密码只保存在本次运行的内存中：每次启动后请先“立即同步”一次。")
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setObjectName("settings_lock_minutes")
        self.lock_minutes.setRange(*settings_mod.LOCK_MINUTES_RANGE)
        self.lock_minutes.setSuffix(" 分钟")
        self.lock_minutes.setValue(current.lock_minutes)
        self.lock_minutes.setToolTip("加密的数据库：无操作这么久后窗口自动锁定，需重新输入密码")
        self.errors = {n: ErrorLabel() for n in ("user", "township", "default_year", "data_folder",
                                                 "server_url", "ca_bundle", "lock_minutes")}
        form = QFormLayout()
        for label, name, widget in (("用户名＊", "user", self.user), ("乡镇", "township", self.township),
                                    ("默认年度", "default_year", self.year),
                                    ("数据文件夹", "data_folder", folder_row),
                                    ("服务器地址", "server_url", self.server),
                                    ("服务器证书", "ca_bundle", ca_row),
                                    ("自动锁定", "lock_minutes", self.lock_minutes)):
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            if isinstance(widget, QHBoxLayout):
                column.addLayout(widget)
            else:
                column.addWidget(widget)
            column.addWidget(self.errors[name])
            form.addRow(label, box)
        form.addRow("自动同步", self.auto_sync)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(save_cancel_buttons(self))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "选择数据文件夹", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _browse_ca(self) -> None:
        start = self.ca_bundle.text() or str(Path.home())
        name, _ = QFileDialog.getOpenFileName(self, "选择服务器证书文件", start,
                                              "证书文件 (*.pem *.crt *.cer);;所有文件 (*)")
        if name:
            self.ca_bundle.setText(name)

    def values(self) -> Settings:
        year = self.year.value()
        return replace(self.current, user=self.user.text(), township=self.township.currentText(),
                       default_year=None if year == 1999 else year, data_folder=self.folder.text(),
                       server_url=self.server.text(), ca_bundle=self.ca_bundle.text(),
                       auto_sync=self.auto_sync.isChecked(),
                       lock_minutes=self.lock_minutes.value())

    def save(self) -> None:
        for error in self.errors.values():
            error.show_error(None)
        try:
            self.result_settings = settings_mod.save(self.values(), self.settings_file)
        except ValidationError as err:
            self.errors.get(err.field or "user", self.errors["user"]).show_error(err.message)
            return
        except OSError as err:
            self.errors["data_folder"].show_error(f"设置文件无法保存：{err}")
            return
        self.accept()
