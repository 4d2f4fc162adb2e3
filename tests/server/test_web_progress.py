"""The web view's sign-in and 进度 in a real Chromium against a real server process on loopback:
a wrong password is refused, the figures equal what the township's desktop computes from the
same records, and a township leader sees (pages and API) only their own township."""

from __future__ import annotations

import pytest
import requests
from browser import available, chromium, sign_in
from serverproc import PASSWORD, PROTOCOL
from web_seed import (  # noqa: F401 (the `city` fixture)
    OFFICE,
    SHOTS,
    YEAR,
    City,
    city_fixture,
    web_layer_only,
)

from wq_desktop import plan_calendar, summary
from wq_server.web.progress import MILESTONE_COLUMNS, POSTED, SIGNED

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's chromium")


def _cells(page, selector: str) -> dict[str, tuple[int, int]]:
    cells = page.locator(f"{selector} td")
    return {cells.nth(i).get_attribute("data-key"): (int(cells.nth(i).get_attribute("data-done")),
                                                     int(cells.nth(i).get_attribute("data-total")))
            for i in range(cells.count())}


def test_a_wrong_password_is_refused_and_the_right_one_signs_in(city: City) -> None:
    web_layer_only(city)
    with chromium() as page:
        sign_in(page, city.url, OFFICE, "not-the-password")
        assert "/web/login" in page.url
        assert page.locator("p.error").inner_text() == "用户名或密码错误。"
        assert page.context.cookies() and all(c["name"] != "wq_session" for c in page.context.cookies())
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/web/progress")
        session = next(c for c in page.context.cookies() if c["name"] == "wq_session")
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert page.evaluate("document.cookie").find("wq_session") == -1  # no script reads it
        # 退出 ends the session on the server too: the old cookie no longer opens a page.
        page.click("header form button")
        page.wait_for_url("**/web/login")
        old = requests.get(city.url + "/web/progress", cookies={"wq_session": session["value"]},
                           allow_redirects=False, timeout=30)
        assert old.status_code == 303 and "/web/login" in old.headers["location"]


def test_a_post_without_the_pages_csrf_token_is_refused(city: City) -> None:
    web_layer_only(city)
    with chromium() as page:
        sign_in(page, city.url, OFFICE, PASSWORD)
        cookie = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = requests.post(city.url + "/web/logout", cookies=cookie, data={"csrf": "guess"},
                           allow_redirects=False, timeout=30)
    assert forged.status_code == 403 and "请求来源不明" in forged.text
    assert requests.get(city.url + "/web/progress", cookies=cookie, allow_redirects=False,
                        timeout=30).status_code == 200  # still signed in: nothing was done
    # Signing in from another site's form (no login cookie of ours) is refused as well.
    login = requests.post(city.url + "/web/login", data={"user": OFFICE, "password": PASSWORD,
                                                          "csrf": "x"}, timeout=30)
    assert login.status_code == 403
    form = requests.get(city.url + "/web/login", timeout=30)
    assert "default-src 'self'" in form.headers["Content-Security-Policy"]  # no foreign scripts
    assert form.headers["X-Frame-Options"] == "DENY"


def test_the_progress_table_shows_what_each_townships_desktop_computes(city: City) -> None:
    with chromium(1500, 900) as page:
        sign_in(page, city.url, OFFICE, PASSWORD)
        page.goto(f"{city.url}/web/progress?year={YEAR}")
        page.wait_for_selector("#progress", timeout=120_000)  # "正在统计…" reloads itself until done
        for town in city.towns:
            page.click(f"button[data-toggle='{town.uuid}']")
        page.screenshot(path=str(SHOTS / "web_progress.png"), full_page=True)
        for town in city.towns:
            store = town.stores[0]  # the township's laptop: what its dashboard and summary show
            desk = plan_calendar.progress(store, YEAR)
            root = summary.summarize(store, YEAR)
            township = root.children[0]
            shown = _cells(page, f"tr[data-township='{town.uuid}']")
            for key in MILESTONE_COLUMNS:
                mine = [p for p in desk if p.milestone.key == key]
                assert shown[key] == (sum(p.done for p in mine), sum(p.total for p in mine)), key
            assert shown[SIGNED] == (township.signed, township.households)
            assert shown[POSTED] == (township.villages_publicized, township.villages)
            assert 0 < township.signed < township.households  # the seed has work left to show
            for village in township.children:
                uuid = store.find_one("village", "code=?", (village.code,))["uuid"]
                row = f"tr[data-village='{uuid}']"
                assert page.locator(row).is_visible()
                cells = _cells(page, row)
                for p in (p for p in desk if p.village == uuid):
                    if p.milestone.key in MILESTONE_COLUMNS:
                        assert cells[p.milestone.key] == (p.done, p.total)
                assert cells[SIGNED] == (village.signed, village.households)
        # Every deadline of 2025 has passed: unfinished figures are marked overdue.
        late = page.locator("tr.township td.overdue")
        assert late.count() > 0 and "逾期" in late.first.inner_text()


def test_a_township_leader_sees_only_their_own_township(city: City) -> None:
    mine, other = city.towns
    other_village = other.stores[0].find_one("village", "1=1")
    with chromium() as page:
        sign_in(page, city.url, mine.users[0], PASSWORD)
        page.goto(f"{city.url}/web/progress?year={YEAR}")
        page.wait_for_selector("#progress", timeout=120_000)  # "正在统计…" reloads itself until done
        assert page.locator(f"tr[data-township='{mine.uuid}']").count() == 1
        assert page.locator("tr.township").count() == 1
        assert "榆树沟镇" not in page.content() and other_village["name"] not in page.content()
    # The API holds the same line.
    headers = city.server.headers(mine.users[0])
    refused = requests.get(f"{city.url}/records/village/{other_village['uuid']}", headers=headers,
                           timeout=30)
    assert refused.status_code == 403
    assert requests.get(f"{city.url}/sync/pull?device=x", headers={**PROTOCOL}, timeout=30
                        ).status_code == 401
