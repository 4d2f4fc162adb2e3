"""三级汇总表 in the browser and as downloads: every line (village, township 小计, city 合计) shows
the figures, rounded as printed, that the townships' own stores give; the xlsx and PDF carry the
same; a township leader gets only their township's table."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pdfplumber
import pytest
import requests
from browser import available, chromium, sign_in
from web_seed import (  # noqa: F401 (the `city` fixture)
    OFFICE,
    PASSWORD,
    SHOTS,
    YEAR,
    City,
    city_fixture,
    web_session,
)

from wq_desktop import summary
from wq_desktop.printing.summary_table import line_values

pytestmark = pytest.mark.skipif(not available(), reason="needs Debian's chromium")
PG_WORKERS = 4  # the stale-read test: four workers share one replica, each catches up before serving


def _desktop_lines(city: City) -> dict[str, tuple[str, ...]]:
    """Label → printed cells, from each township's laptop, and the city as their sum."""
    lines: dict[str, tuple[str, ...]] = {}
    total = summary.Summary("city", summary.CITY_CODE, summary.CITY_NAME)
    for town in city.towns:
        township = summary.summarize(town.stores[0], YEAR).children[0]
        lines |= {v.name: line_values(v) for v in township.children}
        lines[f"{township.name}小计"] = line_values(township)
        total.add(township)
    lines[f"{summary.CITY_NAME}合计"] = line_values(total)
    return lines


def _shown(page) -> dict[str, tuple[str, ...]]:
    rows = page.locator("#summary tbody tr")
    out = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        out[row.locator("th").inner_text()] = tuple(row.locator("td").all_inner_texts())
    return out


def test_the_summary_shows_and_downloads_the_printed_figures(city: City, tmp_path: Path) -> None:
    expected = _desktop_lines(city)
    with chromium(1600, 900) as page:
        sign_in(page, city.url, OFFICE, PASSWORD)
        page.goto(f"{city.url}/web/summary?year={YEAR}")
        page.screenshot(path=str(SHOTS / "web_summary.png"), full_page=True)
        assert _shown(page) == expected
        assert list(_shown(page))[-1] == "昌吉市合计"
        with page.expect_download() as xlsx:
            page.click("#xlsx")
        with page.expect_download() as pdf:
            page.click("#pdf")
        xlsx_path, pdf_path = tmp_path / "t.xlsx", tmp_path / "t.pdf"
        xlsx.value.save_as(xlsx_path)
        pdf.value.save_as(pdf_path)
        assert xlsx.value.suggested_filename == f"昌吉市{YEAR}年度退地减水三级汇总表.xlsx"
    city_line = expected["昌吉市合计"]
    sheet = openpyxl.load_workbook(xlsx_path).active
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True) if r and r[0]}
    assert str(rows["昌吉市合计"][1]) == city_line[0] and str(rows["昌吉市合计"][2]) == city_line[1]
    assert f"{rows['昌吉市合计'][3]:.2f}" == city_line[2]  # 核实种植面积, 0.01 亩
    with pdfplumber.open(pdf_path) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
    assert f"昌吉市{YEAR}年度退地减水三级汇总表" in text
    total_line = next(line for line in text.splitlines() if line.startswith("昌吉市合计"))
    assert total_line.split()[1:len(city_line) + 1] == list(city_line)


def test_a_township_leader_gets_only_their_townships_table(city: City) -> None:
    mine, other = city.towns
    with chromium() as page:
        sign_in(page, city.url, mine.users[0], PASSWORD)
        page.goto(f"{city.url}/web/summary?year={YEAR}")
        shown = _shown(page)
        assert page.locator("h1").inner_text() == f"三工镇{YEAR}年度退地减水三级汇总表"
        assert "三工镇小计" in shown and "榆树沟镇小计" not in shown
        township = summary.summarize(mine.stores[0], YEAR)
        assert shown["昌吉市合计"] == line_values(township)  # the city line is their township alone
        with page.expect_download() as pdf:
            page.click("#pdf")
        with pdfplumber.open(pdf.value.path()) as doc:
            text = "\n".join(p.extract_text() or "" for p in doc.pages)
        assert "榆树沟镇" not in text and other.stores[0].find_one("village", "1=1")["name"] not in text


def test_a_change_pushed_shows_on_the_next_page_load(city: City) -> None:
    """No stale read: each page is read after the records were brought up to the change feed (on
    PostgreSQL: 4 workers, one replica). Each load is a new connection, taken by whichever worker
    accepts it."""
    town = city.towns[1]
    laptop = town.stores[0]
    village = laptop.find_one("village", "1=1")
    cookies = web_session(city.url, OFFICE)[0].cookies.get_dict()
    try:
        for n in range(4):
            name = f"{village['name']}（复核{n}）"
            laptop.update("village", village["uuid"], {"name": name})
            assert town.sync(0).rejected == []
            for _ in range(4):
                page = requests.get(f"{city.url}/web/summary?year={YEAR}", cookies=cookies,
                                    headers={"Connection": "close"}, timeout=60)
                assert page.status_code == 200 and f"<th>{name}</th>" in page.text
    finally:
        laptop.update("village", village["uuid"], {"name": village["name"]})
        town.sync(0)

