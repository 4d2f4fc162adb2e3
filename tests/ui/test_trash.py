"""已删除的农户: a deleted household is listed (ID masked) and 恢复所选 brings it back whole."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from ui.dialogs.deleted_households import DeletedHouseholdsDialog
from ui.operations import run_op
from wq_desktop.operations import households
from wq_desktop.rules.masking import mask_id
from wq_desktop.store import Store


def _village_operators(window) -> set[str]:
    return {row.operator for row in window.village.model.rows}


def _deleted_household(window, qtbot, store: Store) -> tuple[dict, int]:
    row = next(r for r in window.village.model.rows if r.parcels > 0)
    operator = store.get("operator", row.operator)
    parcels = store.count("parcel", "operator=?", (row.operator,))
    run_op(None, store, lambda s: households.delete_household(s, row.operator))  # as the view does
    qtbot.waitUntil(lambda: row.operator not in _village_operators(window))
    return operator, parcels


def _open_from_menu(window) -> DeletedHouseholdsDialog:
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text().startswith("编辑"))
    assert window.action("edit.trash") in edit_menu.actions()
    window.action("edit.trash").trigger()
    dialogs = window.findChildren(DeletedHouseholdsDialog)
    assert len(dialogs) == 1 and dialogs[0].isVisible()
    return dialogs[0]


def test_deleted_household_is_listed_and_restored_with_its_parcels(
        window, qtbot, demo_store: Store, answer_yes: list[str]) -> None:
    operator, parcels = _deleted_household(window, qtbot, demo_store)
    assert demo_store.count("parcel", "operator=?", (operator["uuid"],)) == 0
    dialog = _open_from_menu(window)

    assert dialog.village.currentData() == window.village.village
    texts = {dialog.table.item(r, c).text() for r in range(dialog.table.rowCount()) for c in range(4)}
    assert operator["name"] in texts and mask_id(operator["id_code"]) in texts
    assert operator["id_code"] not in texts  # the full ID number never shows
    assert "测试员" in texts  # who deleted it
    assert not dialog.restore_button.isEnabled()  # nothing selected yet

    dialog.select(operator["uuid"])
    assert dialog.restore_button.isEnabled()
    with qtbot.waitSignal(dialog.restored):
        dialog.restore_button.click()

    assert answer_yes and operator["name"] in answer_yes[0]
    assert demo_store.get("operator", operator["uuid"])["name"] == operator["name"]
    assert demo_store.count("parcel", "operator=?", (operator["uuid"],)) == parcels
    qtbot.waitUntil(lambda: operator["uuid"] in _village_operators(window))
    assert operator["uuid"] not in {row.uuid for row in dialog.rows}


def test_restore_answered_no_changes_nothing(
        window, qtbot, demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    operator, _parcels = _deleted_household(window, qtbot, demo_store)
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    dialog = _open_from_menu(window)
    dialog.select(operator["uuid"])
    dialog.restore_button.click()
    assert demo_store.count("operator", "uuid=?", (operator["uuid"],)) == 0
    assert operator["uuid"] in {row.uuid for row in dialog.rows}


def test_village_without_deleted_households_says_so(window) -> None:
    dialog = _open_from_menu(window)
    assert dialog.table.rowCount() == 0 and not dialog.empty.isHidden()
    assert not dialog.restore_button.isEnabled()
