"""打印中心 driven through its widgets on the demo township: generation in a worker, the paged
preview, saving as PDF, printing through the real QPrinter path (PDF output), cancelling a
village batch, and the refusal of a character no font can print."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QMessageBox

from ui.printing import PrintCenter, open_print_center
from ui.printing.print_center import CANCELLED, FAILED, READY
from ui.workers import ProgressDialog
from wq_desktop.demo import demo_year
from wq_desktop.printing.agreement import agreement_households
from wq_desktop.store import Store

WAIT_MS = 60_000  # two shared cores: generous, the waits end as soon as the state is reached


def pdf_pages(path: Path) -> list[tuple[float, float]]:
    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc.get_page_size(i) for i in range(len(doc))]
    finally:
        doc.close()


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.fixture
def household(demo_store: Store) -> dict:
    """A demo household with a signed agreement and retired land."""
    village = demo_store.find("village", "1=1", order_by="code")[0]
    h = agreement_households(demo_store, demo_year(), village=village["uuid"])[0]
    return demo_store.get("operator", h.uuid)


def open_center(qtbot, store: Store, **context) -> PrintCenter:
    center = PrintCenter(store, demo_year(), village=context.get("village"),
                         operator=context.get("operator"), patrol=context.get("patrol"), parent=None)
    qtbot.addWidget(center)
    center.show()
    return center


def wait_state(qtbot, center: PrintCenter, state: str) -> None:
    qtbot.waitUntil(lambda: center.state == state and center.worker is None, timeout=WAIT_MS)


def test_household_agreement_preview_pages(qtbot, demo_store: Store, household: dict) -> None:
    center = open_center(qtbot, demo_store, operator=household["uuid"])
    assert center.document_key == "agreement"
    assert center.scope == "household"
    wait_state(qtbot, center, READY)
    pages = len(pdf_pages(center.generated.pdf))
    assert pages >= 1
    assert center.preview.pages == pages
    assert center.preview.page_label.text() == f"第 1 页 / 共 {pages} 页"
    assert not center.preview.canvas.pixmap().isNull()
    image = center.preview.image
    assert image is not None and image.height() > image.width()  # A4 portrait on screen
    if pages > 1:
        center.preview.next_button.click()
        assert center.preview.page_label.text() == f"第 2 页 / 共 {pages} 页"
    width = center.preview.image.width()
    center.preview.zoom_in_button.click()
    assert center.preview.image.width() > width
    assert center.print_button.isEnabled() and center.save_button.isEnabled()


def test_default_document_follows_the_context(qtbot, demo_store: Store) -> None:
    village = demo_store.find("village", "1=1", order_by="code")[0]
    center = open_center(qtbot, demo_store, village=village["uuid"])
    assert center.document_key == "notice"
    assert center.scope_combo.currentText() == f"本村：{village['name']}"
    wait_state(qtbot, center, READY)
    assert all(w > h for w, h in pdf_pages(center.generated.pdf))  # the notice is landscape
    patrol = demo_store.find("patrol", "1=1")[0]
    center = open_center(qtbot, demo_store, patrol=patrol["uuid"])
    assert center.document_key == "patrol" and center.scope == "patrol"
    # a patrol's household and village are offered as well
    scopes = [center.scope_combo.itemData(i) for i in range(center.scope_combo.count())]
    assert scopes == ["patrol", "household", "village", "blank"]
    wait_state(qtbot, center, READY)
    # opened from nowhere in particular: only what needs no household or village is offered
    center = open_center(qtbot, demo_store)
    offered = [center.document_combo.itemData(i) for i in range(center.document_combo.count())]
    assert offered == ["contacts", "summary", "patrol", "planting"]
    assert center.document_key == "summary" and center.scope == "township"
    wait_state(qtbot, center, READY)


def test_save_as_pdf_writes_the_previewed_document(qtbot, demo_store: Store, household: dict,
                                                   tmp_path: Path, monkeypatch) -> None:
    center = open_center(qtbot, demo_store, operator=household["uuid"])
    wait_state(qtbot, center, READY)
    target = tmp_path / "协议书.pdf"
    assert center.save_pdf_to(target)
    assert household["name"] in pdf_text(target)
    assert len(pdf_pages(target)) == center.preview.pages
    # an existing file is replaced only on the user's word
    target.write_bytes(b"keep me")
    asked: list[str] = []

    def no(_parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", staticmethod(no))
    assert not center.save_pdf_to(target)
    assert asked and "已存在" in asked[0]
    assert target.read_bytes() == b"keep me"


@pytest.mark.parametrize("doc", ["agreement", "notice"])
def test_printing_through_qprinter(qtbot, demo_store: Store, household: dict, tmp_path: Path,
                                   doc: str) -> None:
    center = open_center(qtbot, demo_store, operator=household["uuid"])
    if doc == "notice":
        center.select("notice", "village")
    wait_state(qtbot, center, READY)
    assert center.document_key == doc
    printer = center.new_printer()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    center.print_to(printer)
    wait_state(qtbot, center, READY)
    assert "已发送到打印机" in center.status.text()
    generated, printed = pdf_pages(center.generated.pdf), pdf_pages(out)
    assert len(printed) == len(generated)
    for (gw, gh), (pw, ph) in zip(generated, printed, strict=True):
        assert (gw > gh) == (pw > ph)  # landscape pages on landscape sheets
        assert abs(min(pw, ph) - 595.3) < 2 and abs(max(pw, ph) - 841.9) < 2  # A4
    # the printed sheet carries the page, not a blank
    doc_ = pdfium.PdfDocument(str(out))
    try:
        pixels = doc_[0].render(scale=0.3, grayscale=True).to_pil()
    finally:
        doc_.close()
    assert pixels.getextrema()[0] < 80


def test_village_batch_shows_progress_and_can_be_cancelled(qtbot, demo_store: Store) -> None:
    village = demo_store.find("village", "1=1", order_by="code")[0]
    center = open_center(qtbot, demo_store, village=village["uuid"])
    wait_state(qtbot, center, READY)
    center.select("agreement", "village")
    assert center.scope_combo.currentText() == f"本村全部协议：{village['name']}"
    worker = center.generate()
    assert worker is not None
    progress = center.findChildren(ProgressDialog)[-1]
    seen: list[str] = []

    def on_progress(percent: int, text: str) -> None:
        seen.append(text)
        if progress.cancel_button.isEnabled():
            progress.cancel_button.click()

    worker.progressed.connect(on_progress)
    wait_state(qtbot, center, CANCELLED)
    assert seen and "正在生成协议书" in seen[0]
    assert center.generated is None
    assert center.preview.pages == 0
    assert "已取消" in center.status.text()
    assert not center.print_button.isEnabled()
    assert not any(d.isVisible() for d in center.findChildren(ProgressDialog))  # progress closed
    # after a cancel the batch can still be generated in full
    center.generate()
    wait_state(qtbot, center, READY)
    households = agreement_households(demo_store, demo_year(), village=village["uuid"])
    text = pdf_text(center.generated.pdf)
    assert all(h.name in text for h in households)


def test_rare_character_is_refused_in_chinese(qtbot, demo_store: Store, household: dict,
                                              messages: list[str]) -> None:
    # 𠮷 (Extension B) prints through the HanaMinB fallback; Extension G is in no bundled font.
    demo_store.update("operator", household["uuid"], {"name": "王\U00030000"})
    center = open_center(qtbot, demo_store, operator=household["uuid"])
    wait_state(qtbot, center, FAILED)
    assert messages and "未打印" in messages[0] and "\U00030000" in messages[0]
    assert center.error.isVisible() and "没有生成文件" in center.error.text()
    assert center.generated is None and center.preview.pages == 0
    assert not center.print_button.isEnabled() and not center.save_button.isEnabled()


def test_open_print_center_is_not_modal(qtbot, demo_store: Store, household: dict) -> None:
    center = open_print_center(None, demo_store, demo_year(), operator=household["uuid"])
    qtbot.addWidget(center)
    assert center.isVisible() and not center.isModal()
    wait_state(qtbot, center, READY)


def test_suggested_file_name_has_no_path_separator(qtbot, demo_store: Store) -> None:
    center = open_center(qtbot, demo_store)
    assert center.document_key == "summary"  # its title is “村/乡镇/市三级汇总表”
    name = center.suggested_name()
    assert name.endswith(f"{demo_year()}年度村、乡镇、市三级汇总表.pdf")
    assert not any(c in name for c in '/\\:*?"<>|')
    wait_state(qtbot, center, READY)


def test_excel_from_the_print_centre_and_the_unmasked_copy_asks_and_is_in_the_history(
        qtbot, demo_store: Store, household: dict, tmp_path: Path, monkeypatch) -> None:
    from openpyxl import load_workbook
    from PySide6.QtWidgets import QFileDialog

    from wq_desktop.queries import change_log

    chosen: list[str] = []

    def save_dialog(_parent, _title, suggested, *args, **kwargs):
        chosen.append(Path(suggested).name)
        return str(tmp_path / Path(suggested).name), ""

    answers: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_dialog))
    monkeypatch.setattr(QMessageBox, "information", staticmethod(lambda *a, **k: None))
    center = open_center(qtbot, demo_store, village=household["village"])
    center.select("contacts", "village")
    wait_state(qtbot, center, READY)
    assert center.xlsx_button.isVisible() and center.full_xlsx_button.isVisible()
    masked = center.export_xlsx(full=False)
    assert masked is not None and "仅限内部使用" not in chosen[-1]
    sheet = load_workbook(masked).active
    assert sheet.title == "包联清单" and "*" in str(sheet.cell(3, 5).value)
    # The unmasked copy: refused when the user says no, nothing written, nothing logged.
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda _p, title, text, *a, **k: answers.append(text) or QMessageBox.StandardButton.No))
    assert center.export_xlsx(full=True) is None
    assert "完整的身份证号" in answers[-1] and len(chosen) == 1
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda *a, **k: QMessageBox.StandardButton.Yes))
    full = center.export_xlsx(full=True)
    assert full is not None and "仅限内部使用，不得公开" in full.name
    book = load_workbook(full).active
    assert book.title == "包联清单（仅限内部使用，不得公开）"
    assert "仅限内部使用，不得公开" in book.cell(1, 1).value
    assert household["id_code"] in [c.value for c in book["E"]]
    rows = change_log.change_rows(demo_store, [("village", household["village"])])
    assert rows[0].action == "导出" and rows[0].user == demo_store.user and full.name in rows[0].new
    from wq_desktop import checks
    assert checks.check_history(demo_store) == []
    # The notice and the patrol records too, masked only.
    center.select("notice", "village")
    wait_state(qtbot, center, READY)
    assert center.xlsx_button.isVisible() and not center.full_xlsx_button.isVisible()
    notice = center.export_xlsx(full=False)
    assert notice is not None and notice.name.endswith("公示表.xlsx")
    center.select("patrol", "village")
    wait_state(qtbot, center, READY)
    assert center.xlsx_button.isVisible() and not center.full_xlsx_button.isVisible()
    patrols = center.export_xlsx(full=False)
    assert patrols is not None and load_workbook(patrols).active.title == "巡查记录"
