"""Excel from the window: the same xlsx tables as `export xlsx`, with a save dialog.

The unmasked 包联清单 asks first (it holds full ID numbers and phones, 仅限内部使用，不得公开) and
the core writes who exported it into the change history.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from wq_desktop.errors import WqError
from wq_desktop.model import INTERNAL_ONLY
from wq_desktop.store import Store
from wq_desktop.xlsx_exports import default_file_name, save_table, xlsx_table

# The print centre's documents that have an xlsx table of the same name.
XLSX_FOR_DOCUMENT = {"contacts": "contacts", "notice": "notice", "summary": "summary",
                     "patrol": "patrols", "planting": "planting"}


def confirm_full_export(parent: QWidget | None, user: str) -> bool:
    answer = QMessageBox.warning(
        parent, f"导出完整版（{INTERNAL_ONLY}）",
        f"完整版含完整的身份证号和联系电话，{INTERNAL_ONLY}。\n"
        f"导出将记入变更历史（导出人：{user}）。确定导出吗？",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def choose_target(parent: QWidget | None, suggested: str) -> Path | None:
    """The save dialog; an existing file is replaced only when the user agrees."""
    name, _ = QFileDialog.getSaveFileName(parent, "导出Excel", str(Path.home() / suggested),
                                          "Excel 文件 (*.xlsx)",
                                          options=QFileDialog.Option.DontConfirmOverwrite)
    if not name:
        return None
    target = Path(name)
    if target.suffix.lower() != ".xlsx":
        target = target.with_name(target.name + ".xlsx")
    if target.exists():
        answer = QMessageBox.question(
            parent, "文件已存在", f"“{target.name}”已存在。要替换它吗？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return None
    return target


def export_xlsx(parent: QWidget | None, store: Store, year: int, key: str, village: str | None,
                *, full: bool = False) -> Path | None:
    """Ask where (and, for the unmasked copy, whether), then write; returns the file written."""
    table = xlsx_table(key)
    if table.needs_village and not village:
        QMessageBox.information(parent, "请先选择村", f"导出{table.name}请先在左侧选择村。")
        return None
    if full and not confirm_full_export(parent, store.user):
        return None
    try:
        suggested = default_file_name(store, key, year, village, full=full)
        target = choose_target(parent, suggested.replace("/", "_"))
        if target is None:
            return None
        written = save_table(store, key, year, target, village, full=full)
    except WqError as err:
        QMessageBox.warning(parent, "未能导出", str(err))
        return None
    QMessageBox.information(parent, "已导出", f"已导出《{table.name}》：{written}")
    return written
