"""导入花名册: an operator roster from Excel into one village, in three visible steps — choose the
file, match its columns to the fields, check every row — and only then 导入, which writes the rows
without errors in one transaction. Cancelling at any point writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop import excel, pasted_rows
from wq_desktop.errors import WqError
from wq_desktop.excel import ROSTER_FIELDS, Roster, RosterPreview, RosterResult
from wq_desktop.operations import Changes, households
from wq_desktop.store import Store

from ..operations import run_op
from ..widgets import Column, ErrorLabel, RowsModel, make_table

NOT_MAPPED = "（不导入）"
OK_TEXT = "可导入"
ERROR_COLOR = QColor("#b00020")


class PreviewRow:
    """One Excel row as the preview table shows it: what was read, and ok or the error."""

    def __init__(self, result: RosterResult, raw: dict[str, Any], mapping: dict[str, str]) -> None:
        self.result = result
        self.cells: dict[str, str] = {}
        for f in ROSTER_FIELDS:
            # an ok row shows the value as it will be stored (ID upper-cased, phone normalised);
            # the group is stored as a UUID, so it and every field of a failed row show the cell
            if result.ok and f != "group" and f in result.values:
                self.cells[f] = _display(result.values[f])
            else:
                self.cells[f] = _display(raw.get(mapping[f])) if f in mapping else ""


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and value < 1e15:
        return str(int(value))
    return str(value)


PREVIEW_COLUMNS = (
    Column("行号", lambda r: str(r.result.row), sort=lambda r: r.result.row, numeric=True),
    *(Column(label, lambda r, f=f: r.cells[f]) for f, (label, _, _) in ROSTER_FIELDS.items()),
    # last, so the long error text takes the remaining width and the row's data stays in view
    Column("检查结果", lambda r: OK_TEXT if r.result.ok else r.result.error,
           color=lambda r: None if r.result.ok else ERROR_COLOR),
)
RESULT_COLUMN = len(PREVIEW_COLUMNS) - 1
MAX_LISTED_ERRORS = 12


class PreviewModel(RowsModel):
    """The preview rows; a row's whole error text is also its tooltip (the column may elide it)."""

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid():
            row: PreviewRow = self.row_at(index.row())
            return None if row.result.ok else row.result.error
        return super().data(index, role)


class RosterImportDialog(QDialog):
    def __init__(self, store: Store, village_uuid: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.store = store
        self.village_uuid = village_uuid
        self.village_name = store.get("village", village_uuid)["name"]
        self.roster: Roster | None = None
        self.preview: RosterPreview | None = None
        self.imported = 0
        self.setWindowTitle(f"导入花名册 - {self.village_name}")
        self.resize(1100, 700)

        # step 1: the file
        self.file_edit = QLineEdit()
        self.file_edit.setReadOnly(True)
        self.file_edit.setPlaceholderText("请选择 .xlsx 文件（第一张工作表，首个有两列以上标题的行为表头）")
        browse = QPushButton("选择文件…")
        browse.clicked.connect(self.choose_file)
        paste = QPushButton("粘贴表格")
        paste.setObjectName("roster_paste")
        paste.setToolTip("在Excel或WPS中连同表头选中各列复制，再点这里")
        paste.clicked.connect(lambda: self.load_pasted(QGuiApplication.clipboard().text()))
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(browse)
        file_row.addWidget(paste)
        file_box = QGroupBox(f"第一步：选择Excel花名册（导入到：{self.village_name}）")
        file_box.setLayout(file_row)

        # step 2: which column holds which field
        self.mapping_combos: dict[str, QComboBox] = {}
        mapping_form = QFormLayout()
        for f, (label, _, required) in ROSTER_FIELDS.items():
            combo = QComboBox()
            combo.setObjectName(f"map_{f}")
            combo.setEnabled(False)
            combo.currentIndexChanged.connect(lambda _i: self.refresh_preview())
            self.mapping_combos[f] = combo
            mapping_form.addRow(f"{label}{'（必填）' if required else ''}：", combo)
        mapping_box = QGroupBox("第二步：核对各字段对应的Excel列（已按表头自动匹配）")
        mapping_box.setLayout(mapping_form)

        # step 3: every row checked
        self.model = PreviewModel(PREVIEW_COLUMNS, self)
        self.table = make_table(self.model)
        self.table.setObjectName("roster_preview")
        self.summary = QLabel("尚未选择文件。")
        self.summary.setObjectName("roster_summary")
        self.row_errors = ErrorLabel()
        self.row_errors.setObjectName("roster_row_errors")
        self.error = ErrorLabel()
        preview_box = QGroupBox("第三步：检查每一行（有错误的行不会导入，请改好表格后重新导入）")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.summary)
        preview_layout.addWidget(self.table, 1)
        preview_layout.addWidget(self.row_errors)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("导入")
        self.import_button.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("取消")
        self.buttons.accepted.connect(self.import_rows)
        self.buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(file_box)
        left.addWidget(mapping_box)
        left.addStretch(1)
        top.addLayout(left, 0)
        top.addWidget(preview_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    # ------------------------------------------------------------ step 1
    def choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "选择花名册", str(Path.home()),
                                              "Excel 表格 (*.xlsx *.xls *.xlsm *.ods);;所有文件 (*)")
        if name:
            self.load_file(Path(name))

    def load_file(self, path: Path) -> bool:
        """Read the sheet and guess the mapping; a file that cannot be read leaves things as they were."""
        try:
            roster = excel.read_roster(path)
        except WqError as err:
            self.error.show_error(str(err))
            return False
        self.file_edit.setText(str(path))
        return self._take(roster)

    def load_pasted(self, text: str) -> bool:
        """Rows copied from Excel/WPS (header first), checked like a file's rows."""
        try:
            roster = pasted_rows.roster_from_tsv(text)
        except WqError as err:
            self.error.show_error(str(err))
            return False
        self.file_edit.setText(f"从剪贴板粘贴的 {len(roster.rows)} 行")
        return self._take(roster)

    def _take(self, roster: excel.Roster) -> bool:
        self.error.show_error(None)
        self.roster = roster
        guessed = excel.suggest_mapping(roster.columns)
        for f, combo in self.mapping_combos.items():
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(NOT_MAPPED, None)
            for column in roster.columns:
                combo.addItem(column, column)
            combo.setCurrentIndex(max(combo.findData(guessed.get(f)), 0) if f in guessed else 0)
            combo.setEnabled(True)
            combo.blockSignals(False)
        self.refresh_preview()
        return True

    # ------------------------------------------------------------ step 2 and 3
    def mapping(self) -> dict[str, str]:
        return {f: combo.currentData() for f, combo in self.mapping_combos.items() if combo.currentData()}

    def set_mapping(self, field: str, column: str | None) -> None:
        combo = self.mapping_combos[field]
        combo.setCurrentIndex(max(combo.findData(column), 0) if column else 0)

    def refresh_preview(self) -> None:
        """Check every row against the store as it is now (writes nothing)."""
        self.preview = None
        self.import_button.setEnabled(False)
        self.row_errors.show_error(None)
        if self.roster is None:
            return
        mapping = self.mapping()
        try:
            preview = excel.preview_roster(self.store, self.roster.rows, mapping, self.village_uuid)
        except WqError as err:
            self.model.set_rows([])
            self.summary.setText("")
            self.error.show_error(str(err))
            return
        self.error.show_error(None)
        raw = {int(r.get("_row", 0)): r for r in self.roster.rows}
        self.model.set_rows([PreviewRow(r, raw.get(r.row, {}), mapping) for r in preview.results])
        self.preview = preview
        ok, bad = len(preview.ok_rows), len(preview.error_rows)
        self.summary.setText(f"共 {len(preview.results)} 行：可导入 {ok} 行，有错误 {bad} 行"
                             + ("（有错误的行不会导入）" if bad else "。"))
        errors = [r.error for r in preview.error_rows]
        listed = "\n".join(errors[:MAX_LISTED_ERRORS])
        hidden = len(errors) - MAX_LISTED_ERRORS
        more = f"\n……另有 {hidden} 行有错误" if hidden > 0 else ""
        self.row_errors.show_error(listed + more)
        self.import_button.setEnabled(ok > 0)

    # ------------------------------------------------------------ import
    def import_rows(self) -> None:
        preview = self.preview
        if preview is None or not preview.ok_rows:
            return
        ok, bad = len(preview.ok_rows), len(preview.error_rows)
        skipped = f"有错误的 {bad} 行不导入。" if bad else ""
        answer = QMessageBox.question(
            self, "确认导入", f"将向{self.village_name}导入 {ok} 户经营者。{skipped}确定导入吗？",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        def imported(changes: Changes) -> None:
            self.imported = changes.result
            QMessageBox.information(
                self, "导入完成", f"已导入 {self.imported} 户经营者到{self.village_name}。"
                + (f"未导入有错误的 {bad} 行。" if bad else ""))
            self.accept()

        def refused(err: WqError) -> None:
            # data changed since the preview: nothing was written; check again so the user sees why
            QMessageBox.warning(self, "未导入", str(err))
            self.refresh_preview()

        run_op(self, self.store, lambda s: households.import_roster(s, preview), on_done=imported,
               on_error=refused)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter in a mapping combo must not import: importing is a deliberate click on 导入.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return
        super().keyPressEvent(event)
