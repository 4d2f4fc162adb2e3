"""导入花名册 through its widgets: choose an .xlsx, match the columns, see every row checked, and
import only the good rows — only after the user confirms; cancelling writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from ui.dialogs.roster_import import OK_TEXT, RESULT_COLUMN, RosterImportDialog
from wq_desktop.rules import identity
from wq_desktop.store import Store


def person_id(seq: str, birth: str = "19800101") -> str:
    first17 = f"652301{birth}{seq}"
    return first17 + identity.id_check_char(first17)


GOOD_1 = person_id("731")
GOOD_2 = person_id("742", "19751203")
BAD = GOOD_1[:-1] + ("0" if GOOD_1[-1] != "0" else "1")  # wrong check character


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "身份证号码", "手机", "家庭住所"])
    ws.append(["测试甲", GOOD_1, "13912345678", "一组12号"])
    ws.append(["测试乙", BAD, "", "二组3号"])
    ws.append(["测试丙", GOOD_2, "", ""])
    path = tmp_path / "花名册.xlsx"
    wb.save(path)
    return path


@pytest.fixture
def village(demo_store: Store) -> dict:
    return demo_store.find("village", "1=1", order_by="code")[0]


def operators(store: Store, village: dict) -> list[str]:
    return sorted(o["name"] for o in store.find("operator", "village=?", (village["uuid"],)))


def answer(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    asked: list[str] = []

    def question(_parent, title, text, *args, **kwargs):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def open_dialog(qtbot, store: Store, village: dict, roster_file: Path) -> RosterImportDialog:
    dialog = RosterImportDialog(store, village["uuid"], None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.import_button.isEnabled()  # nothing to import before a file is chosen
    assert dialog.load_file(roster_file)
    return dialog


def test_mapping_and_preview_show_each_rows_result(qtbot, demo_store: Store, village: dict,
                                                   roster_file: Path) -> None:
    dialog = open_dialog(qtbot, demo_store, village, roster_file)
    # guessed from the header words; 家庭住所 is not a known word and waits for the user
    assert dialog.mapping() == {"name": "姓名", "id_code": "身份证号码", "phone": "手机"}
    dialog.set_mapping("address", "家庭住所")
    assert dialog.mapping()["address"] == "家庭住所"
    rows = dialog.model.rows
    assert [r.result.row for r in rows] == [2, 3, 4]
    assert [r.result.ok for r in rows] == [True, False, True]
    bad = rows[1]
    assert bad.result.error.startswith("第3行：") and "身份证" in bad.result.error
    assert bad.cells["name"] == "测试乙" and bad.cells["address"] == "二组3号"
    assert dialog.model.index(0, RESULT_COLUMN).data() == OK_TEXT
    assert dialog.model.index(1, RESULT_COLUMN).data() == bad.result.error
    assert dialog.model.index(0, 1 + list(dialog.mapping_combos).index("address")).data() == "一组12号"
    assert dialog.model.index(1, 0).data(Qt.ItemDataRole.ToolTipRole) == bad.result.error
    assert dialog.row_errors.text() == bad.result.error  # listed in full under the table
    assert "可导入 2 行，有错误 1 行" in dialog.summary.text()
    assert dialog.import_button.isEnabled()
    # a required field left without a column is refused in Chinese, nothing to import
    dialog.set_mapping("id_code", None)
    assert dialog.error.isVisible() and "身份证号/统一社会信用代码" in dialog.error.text()
    assert not dialog.import_button.isEnabled() and dialog.model.rows == []


def test_cancel_writes_nothing(qtbot, demo_store: Store, village: dict, roster_file: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    before, pending = operators(demo_store, village), demo_store.pending_changes()
    dialog = open_dialog(qtbot, demo_store, village, roster_file)
    asked = answer(monkeypatch, QMessageBox.StandardButton.No)
    dialog.import_button.click()  # 导入, then 否 at the confirmation
    assert asked and "导入 2 户" in asked[0] and "有错误的 1 行不导入" in asked[0]
    assert dialog.isVisible() and dialog.imported == 0
    dialog.buttons.button(dialog.buttons.StandardButton.Cancel).click()
    assert not dialog.isVisible()
    assert operators(demo_store, village) == before
    assert demo_store.pending_changes() == pending


def test_import_writes_only_the_good_rows(qtbot, demo_store: Store, village: dict, roster_file: Path,
                                          monkeypatch: pytest.MonkeyPatch, messages: list[str]) -> None:
    before, pending = operators(demo_store, village), demo_store.pending_changes()
    dialog = open_dialog(qtbot, demo_store, village, roster_file)
    dialog.set_mapping("address", "家庭住所")
    answer(monkeypatch, QMessageBox.StandardButton.Yes)
    dialog.import_button.click()
    assert dialog.imported == 2
    assert dialog.result() == dialog.DialogCode.Accepted
    assert messages and "已导入 2 户" in messages[0] and "未导入有错误的 1 行" in messages[0]
    assert operators(demo_store, village) == sorted([*before, "测试甲", "测试丙"])
    assert demo_store.pending_changes() == pending + 2
    imported = demo_store.find_one("operator", "id_code=?", (GOOD_1,))
    assert imported["address"] == "一组12号" and imported["village"] == village["uuid"]
    assert demo_store.find_one("operator", "name=?", ("测试乙",)) is None


def test_unreadable_file_is_refused_in_chinese(qtbot, demo_store: Store, village: dict,
                                               tmp_path: Path) -> None:
    dialog = RosterImportDialog(demo_store, village["uuid"], None)
    qtbot.addWidget(dialog)
    not_excel = tmp_path / "名单.xlsx"
    not_excel.write_text("这不是Excel文件", encoding="utf-8")
    assert not dialog.load_file(not_excel)
    assert "无法读取“名单.xlsx”" in dialog.error.text()
    assert not re.search(r"[A-Za-z]{4,}", dialog.error.text().replace("Excel", "").replace("WPS", "")
                         .replace("xlsx", "")), "no library text in the message"
    assert not dialog.import_button.isEnabled()
