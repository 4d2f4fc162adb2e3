"""The patrol dialog's rectification notice: its date and whether the operator signed or refused
(domain.md §3 整改通知, 当事人签字/拒签) are saved, shown again on reopening, and checked."""

from __future__ import annotations

from datetime import date, timedelta

from wq_desktop.store import Store


def _household_with_parcel(demo_store: Store) -> str:
    row = demo_store.conn.execute(
        "SELECT p.operator FROM parcel p WHERE p.deleted=0 AND p.operator IS NOT NULL ORDER BY p.code"
    ).fetchone()
    return row[0]


def test_notice_date_and_refusal_are_saved_and_reloaded(window, demo_store: Store) -> None:
    window.show_household(_household_with_parcel(demo_store))
    dialog = window.household.open_patrol(None)
    assert [dialog.rect_signature.itemText(i) for i in range(dialog.rect_signature.count())] == \
        ["", "已签字", "拒签"]
    today = date.today()
    dialog.patrollers.setText("张三、李四")
    dialog.verdict.setCurrentText("违规-灌溉")
    dialog.rect_requirement.setText("停止灌溉，恢复休耕")
    dialog.rect_deadline.set_value(today)
    dialog.rect_notified_on.set_value(today)
    dialog.rect_signature.setCurrentText("拒签")
    dialog.save()
    saved = demo_store.get("patrol", dialog.patrol)
    assert saved["rect_notified_on"] == today.isoformat() and saved["rect_signature"] == "拒签"

    again = window.household.open_patrol(dialog.patrol)
    assert again.rect_box.isChecked()
    assert again.rect_notified_on.value() == today
    assert again.rect_signature.currentText() == "拒签"
    # Clearing the choice stores nothing, not an empty string.
    again.rect_signature.setCurrentText("")
    again.rect_notified_on.set_value(None)
    again.save()
    cleared = demo_store.get("patrol", dialog.patrol)
    assert cleared["rect_notified_on"] is None and cleared["rect_signature"] is None
    again.reject()


def test_notice_before_the_visit_or_signature_without_notice_is_refused(window, demo_store: Store) -> None:
    window.show_household(_household_with_parcel(demo_store))
    dialog = window.household.open_patrol(None)
    before = demo_store.count("patrol")
    today = date.today()
    dialog.patrollers.setText("张三、李四")
    dialog.verdict.setCurrentText("违规-灌溉")
    dialog.visited_on.set_value(today)
    dialog.rect_deadline.set_value(today)
    dialog.rect_notified_on.set_value(today - timedelta(days=1))
    dialog.save()
    assert "不能早于巡查日期" in dialog.errors["rect_notified_on"].text()
    assert demo_store.count("patrol") == before
    dialog.rect_notified_on.set_value(None)
    dialog.rect_signature.setCurrentText("已签字")
    dialog.save()
    assert "请填写整改通知日期" in dialog.errors["rect_notified_on"].text()
    assert demo_store.count("patrol") == before
    dialog.rect_notified_on.set_value(today)
    dialog.save()
    assert demo_store.count("patrol") == before + 1
    assert demo_store.get("patrol", dialog.patrol)["rect_signature"] == "已签字"
