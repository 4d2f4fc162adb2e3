"""What one sync did, in the core's own sentences, with the way on to conflicts and refused changes."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from wq_desktop.sync import SyncReport
from wq_desktop.sync.status import local_time_text


class SyncReportDialog(QDialog):
    def __init__(self, report: SyncReport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report = report
        self.setWindowTitle("同步已取消" if report.cancelled else "同步完成")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        self.line_labels: list[QLabel] = []
        for line in report.lines():
            if report.last_sync_at:  # the core writes UTC ISO text; the user reads local time
                line = line.replace(report.last_sync_at, local_time_text(report.last_sync_at))
            label = QLabel(line)
            label.setWordWrap(True)
            if line.startswith("被拒绝") or "冲突" in line:
                label.setStyleSheet("color: #b00020;")
            layout.addWidget(label)
            self.line_labels.append(label)
        if report.backup is not None:
            note = QLabel(f"下载前已备份本机数据：{report.backup.name}")
            note.setStyleSheet("color: #666;")
            layout.addWidget(note)
        self.conflicts_button = QPushButton(f"处理同步冲突（{report.open_conflicts}）")
        self.rejected_button = QPushButton(f"查看被拒绝的变更（{len(report.rejected)}）")
        self.conflicts_button.setVisible(report.open_conflicts > 0)
        self.rejected_button.setVisible(bool(report.rejected))
        close = QPushButton("关闭")
        close.setDefault(True)
        close.clicked.connect(self.accept)
        self.conflicts_button.clicked.connect(self.accept)
        self.rejected_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.conflicts_button)
        buttons.addWidget(self.rejected_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)

    def text(self) -> str:
        return "\n".join(label.text() for label in self.line_labels)
