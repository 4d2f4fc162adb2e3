"""安全日志: the store's security events, newest first, and whether the chain is intact."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from wq_desktop import audit
from wq_desktop.store import Store

from ..widgets import ERROR_STYLE, Column, RowsModel, make_table

_DETAIL_LABELS = {"account": "账户", "file": "文件", "when": "时间", "with": "方式", "daily": "每日自动",
                  "previous": "原登录账户", "kind": "类型", "rows": "行数", "changes": "修改",
                  "photos": "照片", "server": "服务器"}


def local_time(at: str | None) -> str:
    """A stored UTC time (2026-12-01T15:04:05Z) as the laptop's local time, for reading."""
    if not at:
        return ""
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return at


def detail_text(entry: audit.AuditEntry) -> str:
    parts = []
    for key, value in entry.detail.items():
        if value is True:
            value = "是"
        elif key == "when":
            value = local_time(str(value))
        parts.append(f"{_DETAIL_LABELS.get(key, key)}：{value}")
    return "；".join(parts)


COLUMNS = (
    Column("序号", lambda e: str(e.seq), sort=lambda e: e.seq, numeric=True),
    Column("时间", lambda e: local_time(e.at), sort=lambda e: e.seq),
    Column("账户", lambda e: e.account),
    Column("事件", lambda e: e.label),
    Column("详情", detail_text),
)


class SecurityLogDialog(QDialog):
    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("安全日志")
        self.resize(820, 520)
        self.store = store
        self.model = RowsModel(COLUMNS, self)
        self.table = make_table(self.model)
        self.table.setObjectName("security_log_table")
        self.state = QLabel()
        self.state.setObjectName("security_log_state")
        self.state.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        entries = audit.entries(self.store.conn)
        self.model.set_rows(entries)
        problems = audit.verify(self.store.conn)
        if problems:
            self.state.setStyleSheet(ERROR_STYLE)
            self.state.setText("安全日志被改动过：" + "；".join(m for _, m in problems[:5]))
        else:
            self.state.setStyleSheet("")
            self.state.setText(f"共 {len(entries)} 条，哈希链完整（未被改写、删除或插入）。")
