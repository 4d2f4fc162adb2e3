"""数据检查 of the whole city in the browser: grouped by township, and an overlap across a
township border (each laptop sees only its own parcels, so none of them can find it) is found
and named with both townships; a township leader sees their own township's findings only."""

from __future__ import annotations

import pytest
from browser import available, chromium, sign_in
from shapely.geometry import box
from web_seed import OFFICE, PASSWORD, SHOTS, YEAR, City, city_fixture  # noqa: F401 (the `city` fixture)

from wq_desktop import checks

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's chromium")


def _done(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#checks-summary", timeout=120_000)  # the page reloads until done


def test_the_city_check_finds_an_overlap_across_a_township_border(city: City) -> None:
    mine, other = city.towns
    theirs = other.stores[0]
    village = theirs.find_one("village", "1=1")
    target = mine.stores[0].find_one("parcel", "geometry IS NOT NULL")
    shape = mine.stores[0].get("parcel", target["uuid"])["geometry"]
    theirs.create("parcel", {"village": village["uuid"], "code": "越界1", "land_attribute": "集体机动地",
                             "geometry": box(*shape.buffer(-10).bounds)})
    assert other.sync(0).rejected == []
    for store in (mine.stores[0], theirs):  # neither laptop can see it
        assert not [f for f in checks.check_overlaps(store, YEAR) if "越界1" in f.message]
    with chromium(1400, 900) as page:
        sign_in(page, city.url, OFFICE, PASSWORD)
        _done(page, f"{city.url}/web/checks?year={YEAR}")
        across = page.locator("#across li")
        assert across.count() == 1
        text = across.first.inner_text()
        assert "越界1" in text and target["code"] in text and "跨乡镇：" in text
        assert "三工镇" in text and "榆树沟镇" in text
        names = page.locator("details.township-findings summary b").all_inner_texts()
        assert names == ["三工镇", "榆树沟镇"]
        page.locator("details.township-findings").first.evaluate("d => d.open = true")
        page.screenshot(path=str(SHOTS / "web_checks.png"), full_page=True)
    with chromium() as page:
        sign_in(page, city.url, mine.users[0], PASSWORD)
        _done(page, f"{city.url}/web/checks?year={YEAR}")
        assert page.locator("details.township-findings summary b").all_inner_texts() == ["三工镇"]
        assert page.locator("#across li").count() == 1  # it touches their township
