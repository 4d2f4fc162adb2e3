"""Start the window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from wq_desktop.store import Store


def run(db: Path | None = None, user: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("退地减水核查")
    text = "尚未打开数据库"
    if db is not None:
        store = Store.open(db, user or "未命名用户")
        text = f"{db}：{store.count('operator')} 户，{store.count('parcel')} 个地块"
    window.setCentralWidget(QLabel(text))
    window.resize(1200, 800)
    window.show()
    return app.exec()
