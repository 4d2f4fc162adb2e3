"""打印中心: choose a document and its scope, generate the PDF in a worker, page through the
preview, then print it or save it as PDF. The PDF previewed is exactly the PDF printed or saved."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wq_desktop.model import INTERNAL_ONLY
from wq_desktop.printing.catalog import document
from wq_desktop.store import Store
from wq_desktop.xlsx_exports import xlsx_table

from ..widgets import ErrorLabel
from ..workers import JobContext, ProgressDialog, Worker, run_with_progress
from .generate import Generated, PrintRequest, generate
from .preview import PagePreview
from .printer import prepare_printer, print_pdf
from .scopes import Context, documents_for
from .xlsx_export import XLSX_FOR_DOCUMENT, export_xlsx

IDLE, GENERATING, READY, FAILED, CANCELLED, PRINTING = (
    "idle", "generating", "ready", "failed", "cancelled", "printing")


# Characters Windows refuses in a file name (a "/" would also make a folder on Linux).
_UNSAFE_IN_NAME = re.compile(r'[/\\:*?"<>|]')


def safe_file_name(name: str) -> str:
    """“村/乡镇/市三级汇总表” → “村、乡镇、市三级汇总表”: usable as a file name everywhere."""
    return _UNSAFE_IN_NAME.sub("、", name).strip(" .")


class PrintCenter(QDialog):
    def __init__(self, store: Store, year: int, *, village: str | None, operator: str | None,
                 patrol: str | None, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.store = store
        self.year = year
        self.context = Context.resolve(store, village=village, operator=operator, patrol=patrol)
        self.state = IDLE
        self.generated: Generated | None = None
        self.worker: Worker | None = None
        self.printer: QPrinter | None = None
        self.last_message = ""
        self._serial = 0  # each generation writes a new file: the one on screen is never overwritten
        self._folder = tempfile.TemporaryDirectory(prefix="wq-print-")
        self.setWindowTitle(f"打印中心 - {year}年度")
        self.resize(980, 900)

        self.document_combo = QComboBox()
        self.document_combo.setObjectName("document_combo")
        for d in documents_for(self.context):
            self.document_combo.addItem(d.name, d.key)
        self.scope_combo = QComboBox()
        self.scope_combo.setObjectName("scope_combo")
        self.generate_button = QPushButton("生成预览")
        self.status = QLabel()
        self.status.setObjectName("print_status")
        self.error = ErrorLabel()
        self.error.setObjectName("print_error")
        self.preview = PagePreview()
        self.print_button = QPushButton("打印…")
        self.print_button.setObjectName("print_button")
        self.save_button = QPushButton("另存为PDF…")
        self.save_button.setObjectName("save_button")
        # The same table as an xlsx (as `export xlsx` writes it), and the unmasked office copy.
        self.xlsx_button = QPushButton("导出Excel…")
        self.xlsx_button.setObjectName("xlsx_button")
        self.full_xlsx_button = QPushButton(f"导出完整版Excel（{INTERNAL_ONLY}）…")
        self.full_xlsx_button.setObjectName("full_xlsx_button")
        close_button = QPushButton("关闭")

        form = QFormLayout()
        form.addRow("文书：", self.document_combo)
        scope_row = QHBoxLayout()
        scope_row.addWidget(self.scope_combo, 1)
        scope_row.addWidget(self.generate_button)
        form.addRow("范围：", scope_row)
        form.addRow("年度：", QLabel(f"{year}年度"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.xlsx_button)
        buttons.addWidget(self.full_xlsx_button)
        buttons.addWidget(close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.preview, 1)
        layout.addLayout(buttons)

        # Choosing several things in a row (document, then scope) generates once, afterwards.
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self.generate)
        self.document_combo.currentIndexChanged.connect(self._document_changed)
        self.scope_combo.currentIndexChanged.connect(lambda _i: self._choice_changed())
        self.generate_button.clicked.connect(self.generate)
        self.print_button.clicked.connect(self.choose_printer)
        self.save_button.clicked.connect(self.save_as)
        self.xlsx_button.clicked.connect(lambda: self.export_xlsx(full=False))
        self.full_xlsx_button.clicked.connect(lambda: self.export_xlsx(full=True))
        close_button.clicked.connect(self.close)
        self.finished.connect(lambda _r: self._cleanup())

        index = self.document_combo.findData(self.context.default_document())
        self.document_combo.setCurrentIndex(max(index, 0))
        self._fill_scopes()
        self._show_state(IDLE)
        self._pending.start()

    # ------------------------------------------------------------ choices
    @property
    def document_key(self) -> str:
        return str(self.document_combo.currentData())

    @property
    def scope(self) -> str:
        return str(self.scope_combo.currentData())

    def select(self, doc: str, scope: str | None = None) -> None:
        """Choose a document (and scope) as the user would in the combos."""
        self.document_combo.setCurrentIndex(self.document_combo.findData(doc))
        if scope is not None:
            self.scope_combo.setCurrentIndex(self.scope_combo.findData(scope))

    def _document_changed(self) -> None:
        self._fill_scopes()
        self._choice_changed()

    def _fill_scopes(self) -> None:
        self.scope_combo.blockSignals(True)
        self.scope_combo.clear()
        for scope, label in self.context.scopes(self.document_key):
            self.scope_combo.addItem(label, scope)
        self.scope_combo.blockSignals(False)

    def _choice_changed(self) -> None:
        self.generated = None
        self.preview.clear("正在准备预览…")
        self._show_state(IDLE)
        self._pending.start()

    def request(self) -> PrintRequest:
        return PrintRequest(self.document_key, self.scope, self.year,
                            **self.context.arguments(self.scope))

    # ------------------------------------------------------------ generating
    def generate(self) -> Worker | None:
        """Generate the chosen document in a worker; the preview shows it when done."""
        self._pending.stop()
        if self.worker is not None:
            return None  # the modal progress dialog is up; it ends before anything else starts
        request = self.request()
        self._serial += 1
        out = Path(self._folder.name) / f"{self._serial}.pdf"
        path, user = self.store.path, self.store.user
        self.generated = None
        self.preview.clear("正在生成…")
        self._show_state(GENERATING)

        def job(ctx: JobContext) -> Generated:
            return generate(path, user, request, out, ctx)

        title = f"生成《{document(request.doc).name}》"
        self.worker = run_with_progress(self, title, job, self._generated, self._generation_failed,
                                        self._generation_cancelled,
                                        on_finished=self._worker_finished)
        return self.worker

    def _worker_finished(self) -> None:
        self.worker = None
        for dialog in self.findChildren(ProgressDialog):  # one per job; done ones are not reused
            if not dialog.isVisible():
                dialog.deleteLater()

    def _generated(self, result: Generated) -> None:
        self.generated = result
        self.preview.set_pdf(result.pdf)
        self._show_state(READY, f"已生成《{document(result.request.doc).name}》，共{result.pages}页。")

    def _generation_failed(self, message: str) -> None:
        self.preview.clear("未生成预览。")
        self._show_state(FAILED, message)
        QMessageBox.warning(self, "未能生成", message)

    def _generation_cancelled(self) -> None:
        self.preview.clear("已取消，未生成预览。")
        self._show_state(CANCELLED, "已取消生成。")

    def _show_state(self, state: str, message: str = "") -> None:
        self.state = state
        self.last_message = message
        ready = state == READY and self.generated is not None
        self.print_button.setEnabled(ready)
        self.save_button.setEnabled(ready)
        self.generate_button.setEnabled(state not in (GENERATING, PRINTING))
        table = XLSX_FOR_DOCUMENT.get(self.document_key)
        self.xlsx_button.setVisible(table is not None)
        self.full_xlsx_button.setVisible(table is not None and xlsx_table(table).can_be_full)
        self.error.show_error(message if state == FAILED else None)
        self.status.setText("" if state == FAILED else message)

    # ------------------------------------------------------------ printing
    def choose_printer(self) -> None:
        if self.generated is None:
            return
        printer = self.new_printer()
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle("打印")
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_to(printer)

    def new_printer(self) -> QPrinter:
        """A high-resolution printer set to A4, named after the document; QPrintDialog may change it."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        prepare_printer(printer, self.suggested_name().removesuffix(".pdf"))
        return printer

    def print_to(self, printer: QPrinter) -> Worker | None:
        """Send the previewed PDF to `printer` in a worker, with progress and 取消."""
        if self.generated is None or self.worker is not None:
            return None
        self.printer = printer  # kept alive until the job ends
        pdf = self.generated.pdf
        self._show_state(PRINTING, "正在打印…")

        def job(ctx: JobContext) -> int:
            return print_pdf(pdf, printer, ctx)

        self.worker = run_with_progress(self, "打印", job, self._printed, self._print_failed,
                                        self._print_cancelled,
                                        on_finished=self._worker_finished)
        return self.worker

    def _printed(self, pages: int) -> None:
        self._show_state(READY, f"已发送到打印机，共{pages}页。")

    def _print_failed(self, message: str) -> None:
        self._show_state(READY, f"打印未完成：{message}")
        QMessageBox.warning(self, "打印未完成", message)

    def _print_cancelled(self) -> None:
        self._show_state(READY, "已取消打印。")

    # ------------------------------------------------------------ saving
    def suggested_name(self) -> str:
        doc = document(self.document_key).name
        place = {"household": self.context.operator_name, "village": self.context.village_name,
                 "township": self.context.township_name}.get(self.scope, "")
        return safe_file_name(f"{place}{self.year}年度{doc}") + ".pdf"

    def save_as(self) -> None:
        if self.generated is None:
            return
        name, _ = QFileDialog.getSaveFileName(
            self, "另存为PDF", str(Path.home() / self.suggested_name()), "PDF 文件 (*.pdf)",
            options=QFileDialog.Option.DontConfirmOverwrite)
        if name:
            self.save_pdf_to(Path(name))

    def save_pdf_to(self, target: Path) -> bool:
        """Copy the previewed PDF to `target`; an existing file is replaced only if the user agrees."""
        if self.generated is None:
            return False
        if target.suffix.lower() != ".pdf":
            target = target.with_name(target.name + ".pdf")
        if target.exists():
            answer = QMessageBox.question(
                self, "文件已存在", f"“{target.name}”已存在。要替换它吗？",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self._show_state(READY, "未保存：已有同名文件。")
                return False
        try:
            shutil.copyfile(self.generated.pdf, target)
        except OSError as err:
            QMessageBox.warning(self, "未能保存", f"无法保存到“{target}”：{err.strerror or err}")
            return False
        self._show_state(READY, f"已保存：{target}")
        return True

    def export_xlsx(self, *, full: bool) -> Path | None:
        """The chosen document's table as xlsx, for the chosen scope."""
        table = XLSX_FOR_DOCUMENT.get(self.document_key)
        if table is None:
            return None
        village = self.context.arguments(self.scope)["village"]
        written = export_xlsx(self, self.store, self.year, table, village, full=full)
        if written is not None:
            self._show_state(self.state, f"已导出：{written}")
        return written

    # ------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.worker is not None:  # the progress dialog offers 取消; never leave a job running
            event.ignore()
            return
        super().closeEvent(event)
        self._cleanup()

    def _cleanup(self) -> None:
        """Closing drops the generated files (they may hold full ID numbers); the empty folder
        goes with the dialog object. A dialog shown again simply generates again."""
        if self.worker is not None:
            return
        self.preview.clear("尚未生成预览。")
        self.generated = None
        self._show_state(IDLE)
        for pdf in Path(self._folder.name).glob("*.pdf"):
            pdf.unlink(missing_ok=True)


def open_print_center(parent: QWidget | None, store: Store, year: int, *, village: str | None = None,
                      operator: str | None = None, patrol: str | None = None) -> PrintCenter:
    """Open the print center non-modally for the given context (UUIDs) and return it."""
    center = PrintCenter(store, year, village=village, operator=operator, patrol=patrol, parent=parent)
    center.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    center.show()
    return center
