"""督办 end to end: the office issues one in the browser, it reaches that township's laptop (and no
other) by the ordinary sync, shows in the dashboard's 督办待办 and on the household, the staff
answer it there, it syncs back and the browser shows it answered. The township may answer, never
reword or remove it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from browser import available, chromium, sign_in
from web_seed import OFFICE, PASSWORD, SHOTS, City, city_fixture  # noqa: F401 (the `city` fixture)

from ui.dashboard.dashboard import Dashboard
from ui.views.household import HouseholdView
from wq_desktop import supervision

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's chromium")


def test_a_supervision_goes_to_the_township_is_answered_there_and_shows_answered(
        city: City, qtbot) -> None:
    mine, other = city.towns
    laptop = mine.stores[0]
    village = laptop.find_one("village", "1=1")
    due = (date.today() + timedelta(days=10)).isoformat()
    with chromium(1500, 800) as page:
        sign_in(page, city.url, OFFICE, PASSWORD)
        page.click(f"button[data-toggle='{mine.uuid}']")
        page.click(f"tr[data-village='{village['uuid']}'] a.act")
        assert village["name"] in page.locator("h1").inner_text()
        page.fill("textarea[name=note]", "   ")  # blank: the browser lets it through, the server not
        page.fill("input[name=due_on]", due)
        page.click("form.issue button")
        assert "请填写“督办事项”" in page.locator("p.error").inner_text()  # nothing issued
        page.fill("textarea[name=note]", "该村协议签订进度滞后，请于期限前补签并报备。")
        page.click("form.issue button")
        page.wait_for_url("**/web/supervision?issued=*")
        row = page.locator(f"#supervision tr[data-target='{village['uuid']}']")
        assert row.locator("td").first.inner_text() == "待办理"

        # Through the normal sync to this township's laptop only.
        mine.sync(0)
        other.sync(0)
        assert other.stores[0].count("supervision") == 0
        [item] = supervision.supervision_rows(laptop)
        assert item.note.startswith("该村协议签订进度滞后") and item.issued_by == OFFICE

        # The dashboard's 督办待办 lists it; the staff answer it there.
        dash = Dashboard(laptop, 2025)
        qtbot.addWidget(dash)
        dash.show_supervision()
        assert dash.tabs.tabText(dash.tabs.indexOf(dash.supervision)) == "督办待办（1）"
        panel = dash.supervision
        assert panel.model.rows[0].uuid == item.uuid
        panel.table.selectRow(0)
        panel.reply.setPlainText("已入户补签3份协议，并报镇农业发展服务中心备案。")
        panel.rectified_button.click()
        assert dash.tabs.tabText(dash.tabs.indexOf(dash.supervision)) == "督办待办"
        report = mine.sync(0)
        assert report.rejected == []

        page.reload()
        row = page.locator(f"#supervision tr[data-target='{village['uuid']}']")
        assert row.locator("td").first.inner_text() == "已整改"
        assert "已入户补签3份协议" in row.inner_text() and mine.users[0] in row.inner_text()
        page.screenshot(path=str(SHOTS / "web_supervision.png"), full_page=True)


def test_a_household_shows_its_supervision_and_the_township_cannot_reword_it(city: City, qtbot) -> None:
    from web_seed import issue_supervision

    mine = city.towns[0]
    laptop = mine.stores[0]
    farmer = laptop.find_one("operator", "1=1")
    parcel = laptop.find_one("parcel", "operator=?", (farmer["uuid"],))
    issue_supervision(city.url, "parcel", parcel["uuid"], "地块未落图，请补绘图形。",
                      (date.today() + timedelta(days=5)).isoformat())
    mine.sync(0)
    view = HouseholdView(laptop)
    qtbot.addWidget(view)
    view.show_household(farmer["uuid"], 2025)
    assert not view.supervision_note.isHidden()
    assert "地块未落图" in view.supervision_note.text() and "督办待办" in view.supervision_note.text()
    # Rewording the office's note (or deleting it) is refused by the server; the record keeps its text.
    [item] = [r for r in supervision.supervision_rows(laptop) if r.target == parcel["uuid"]]
    laptop.update("supervision", item.uuid, {"note": "已经改好了"})
    report = mine.sync(0)
    [refused] = report.rejected
    assert "乡镇只能回复督办（回复内容、办理状态），不能修改或删除督办事项和期限。" in refused
    server = city.server.headers(mine.users[0])
    import requests

    held = requests.get(f"{city.url}/records/supervision/{item.uuid}", headers=server, timeout=30).json()
    assert held["note"] == "地块未落图，请补绘图形。"
