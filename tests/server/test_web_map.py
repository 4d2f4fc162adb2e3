"""一张图 in a real Chromium: the parcels draw in their measure's colours (counted in the
screenshot's pixels), the filters take colours away, a click shows the parcel's details with the
ID number and phone masked, and a township leader's map holds only their own parcels."""

from __future__ import annotations

import io

import pytest
import requests
from browser import available, chromium, sign_in
from PIL import Image
from web_seed import OFFICE, PASSWORD, SHOTS, YEAR, City, city_fixture  # noqa: F401 (the `city` fixture)

from wq_desktop.rules.masking import mask_id

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's chromium")
COLOURS = {"退减灌溉": (0xe8, 0x76, 0x22), "休耕轮作": (0x34, 0x84, 0xd6), "实际种植": (0x54, 0xa8, 0x4c),
           "未核实": (0x96, 0x96, 0x96)}


def _pixels(png: bytes) -> dict[str, int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    counts = dict.fromkeys(COLOURS, 0)
    for (r, g, b), n in ((c, n) for n, c in image.getcolors(1 << 24)):
        for name, (cr, cg, cb) in COLOURS.items():
            if abs(r - cr) + abs(g - cg) + abs(b - cb) < 12:
                counts[name] += n
    return counts


def _settled(page) -> None:
    page.wait_for_selector("canvas#map[data-settled='1']", timeout=60_000)


def test_the_map_draws_every_measure_in_its_colour_and_filters(city: City) -> None:
    with chromium(1400, 900) as page:
        sign_in(page, city.url, OFFICE, PASSWORD)
        page.goto(f"{city.url}/web/map?year={YEAR}")
        _settled(page)
        page.screenshot(path=str(SHOTS / "web_map.png"))
        drawn = _pixels(page.locator("canvas#map").screenshot())
        assert all(drawn[name] > 20 for name in COLOURS), drawn
        page.uncheck("input.f-measure[value='2']")  # 实际种植 off
        _settled(page)
        filtered = _pixels(page.locator("canvas#map").screenshot())
        assert filtered["实际种植"] == 0 and filtered["退减灌溉"] > 20
        page.select_option("#f-township", label="榆树沟镇")
        _settled(page)
        assert _pixels(page.locator("canvas#map").screenshot())["退减灌溉"] < drawn["退减灌溉"]


def test_a_click_shows_the_parcel_with_personal_data_masked(city: City) -> None:
    town = city.towns[0]
    store = town.stores[0]
    parcel = next(p for p in store.find("parcel", "geometry IS NOT NULL AND operator IS NOT NULL"))
    farmer = store.get("operator", parcel["operator"])
    shape = store.get("parcel", parcel["uuid"])["geometry"]
    x, y = shape.representative_point().coords[0]
    with chromium() as page:
        sign_in(page, city.url, OFFICE, PASSWORD)
        page.goto(f"{city.url}/web/map?year={YEAR}")
        _settled(page)
        info = page.evaluate(f"fetch('/web/map/at?year={YEAR}&x={x}&y={y}').then(r => r.json())")
        assert info["parcel"] == parcel["uuid"]
        rows = dict(info["rows"])
        assert rows["地块编号"] == parcel["code"] and rows["经营者"] == farmer["name"]
        assert rows["证件号"] == mask_id(farmer["id_code"]) and farmer["id_code"] not in str(info)
        # Through the page: zoom onto the parcel and click it.
        page.evaluate(f"(() => {{ const m = window.wqMap; m.view.cx = {x}; m.view.cy = {y};"
                      " m.view.mpp = 1; m.panBy(0, 0); })()")
        _settled(page)
        box = page.locator("canvas#map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector("#details:not([hidden])")
        assert parcel["code"] in page.locator("#details-table").inner_text()
        assert page.locator("#details-actions a").first.inner_text() == "督办该地块"
        page.screenshot(path=str(SHOTS / "web_map_details.png"))


def test_a_township_leaders_map_holds_only_their_township(city: City) -> None:
    mine, other = city.towns
    theirs = other.stores[0].find_one("parcel", "geometry IS NOT NULL")
    x, y = other.stores[0].get("parcel", theirs["uuid"])["geometry"].representative_point().coords[0]
    with chromium() as page:
        sign_in(page, city.url, mine.users[0], PASSWORD)
        page.goto(f"{city.url}/web/map?year={YEAR}")
        _settled(page)
        meta = page.evaluate(f"fetch('/web/map/meta?year={YEAR}').then(r => r.json())")
        assert meta["townships"] == ["三工镇"] and meta["office"] is False
        info = page.evaluate(f"fetch('/web/map/at?year={YEAR}&x={x}&y={y}').then(r => r.json())")
        assert info["parcel"] is None  # the other township's parcel is not on this map
    assert requests.get(f"{city.url}/web/map/meta", timeout=30, allow_redirects=False).status_code == 303
