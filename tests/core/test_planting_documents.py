"""The printed and exported 种植面积摸底核查汇总表及用水量测算, read back from the files themselves."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pdfplumber
from openpyxl import load_workbook
from planting_world import YEAR, build

from wq_desktop import targets
from wq_desktop.excel_planting import export_planting
from wq_desktop.printing.catalog import render_document

ROOT = Path(__file__).resolve().parents[2]


def _rows(pdf: Path) -> list[list[str]]:
    """Each printed line as its words, left to right (words on one baseline form a line)."""
    lines: list[list[str]] = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            words = sorted(page.extract_words(), key=lambda w: w["top"])
            groups: list[list[dict]] = []
            for w in words:
                if groups and abs(w["top"] - groups[-1][0]["top"]) < 2.5:
                    groups[-1].append(w)
                else:
                    groups.append([w])
            lines += [[w["text"] for w in sorted(g, key=lambda w: w["x0"])] for g in groups]
    return lines


def _row_starting(rows: list[list[str]], *words: str) -> list[str]:
    for row in rows:
        if row[:len(words)] == list(words):
            return row
    raise AssertionError(f"no printed line starts with {words}: {rows}")


def test_printed_water_use_equals_area_times_quota(store, tmp_path: Path) -> None:
    ids = build(store)
    targets.set_water_target(store, ids["township"], YEAR, 9)
    targets.set_village_target(store, ids["v1"], YEAR, 10, 15, 5.5)
    pdf = tmp_path / "planting.pdf"
    assert render_document(store, "planting", year=YEAR, out=pdf) >= 3
    rows = _rows(pdf)
    # 三级汇总表: 实际种植 (含庭院) and its parts, as printed.
    v1 = _row_starting(rows, "村一")
    assert v1[1:6] == ["135.80", "120.00", "0.00", "15.00", "0.80"]
    township = _row_starting(rows, "六工镇小计")
    assert township[1] == "222.15" and township[6] == "8.25"
    # Every crop line: area × quota ÷ 10000, redone from the paper.
    printed = {}
    for row in rows:
        words = row[1:] if row[0] in ("村一", "村二") else row
        if words and words[0] in ("棉花", "小麦", "蔬菜", "玉米", "番茄") and len(words) >= 5:
            crop, area, _share, quota, water = words[:5]
            expected = (Decimal(area) * Decimal(quota) / 10000).quantize(Decimal("0.01"))
            assert Decimal(water) == expected, row
            printed.setdefault(crop, []).append(water)
    assert printed["棉花"][0] == "4.56" and printed["蔬菜"][0] == "0.02" and printed["番茄"][0] == "3.41"
    # The printed crop rows of 村一 add up to its printed 实际种植 total.
    start = rows.index(_row_starting(rows, "村一", "棉花"))
    end = rows.index(_row_starting(rows, "村一", "合计"))
    areas = [r[2] if r[0] == "村一" else r[1] for r in rows[start:end]]  # 作物, 种植面积 after the name
    assert len(areas) == 4 and sum(map(Decimal, areas)) == Decimal("135.80")
    grape = _row_starting(rows, "葡萄")
    assert grape[1:5] == ["1.00", "1.2%", "—", "—"] and grape[5] == "1.00"  # 未定额, not 0
    # Unit totals beside the target: 村一 5.07, 村二 3.41, 乡 8.48 against 9.00.
    totals = [r for r in rows if "合计" in r and len(r) >= 5]
    assert ["村一", "合计", "135.80", "100.0%", "5.07", "0.00", "5.50", "0.43"] in totals
    assert ["村二", "合计", "86.35", "100.0%", "3.41", "1.00", "—", "—"] in totals
    assert _row_starting(rows, "六工镇小计", "合计")[2:] == ["222.15", "100.0%", "8.48", "1.00", "9.00",
                                                           "0.52"]
    progress = _row_starting(rows, "村一", "10.00")
    assert progress[:9] == ["村一", "10.00", "15.00", "25.00", "23.25", "93.0%", "8.25", "33.0%", "5.50"]
    series = _row_starting(rows, f"{YEAR}年")
    assert series[1:7] == ["222.15", "8.25", "15.00", "8.48", "9.00", "—"]


def test_xlsx_carries_the_same_figures_as_numbers(store, tmp_path: Path) -> None:
    ids = build(store)
    targets.set_water_target(store, ids["township"], YEAR, 9)
    out = export_planting(store, YEAR, tmp_path / "planting.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["种植面积汇总", "作物结构及用水量", "退减目标完成情况", "各年度变化"]
    survey = [[c.value for c in row] for row in wb["种植面积汇总"].iter_rows(min_row=3)]
    assert survey[0][:6] == ["村一", 135.8, 120.0, 0.0, 15.0, 0.8]
    crops = [[c.value for c in row] for row in wb["作物结构及用水量"].iter_rows(min_row=3)]
    cotton = next(r for r in crops if r[:2] == ["村一", "棉花"])
    assert cotton[2] == 120.0 and cotton[4] == 380.0 and cotton[5] == 4.56
    township = next(r for r in crops if r[:2] == ["六工镇小计", "合计"])
    assert township[5] == 8.48 and township[7] == 9.0 and township[8] == 0.52
    assert wb["作物结构及用水量"]["F3"].number_format == "0.00"


def test_cli_prints_and_exports_the_planting_tables(tmp_path: Path) -> None:
    from wq_desktop.store import Store

    db = tmp_path / "w.sqlite"
    with Store.open(db, "测试员", create=True) as s:
        build(s)
    env = {"PATH": "/usr/bin:/bin", "WQ_USER": "测试员", "HOME": "/tmp"}
    pdf, xlsx = tmp_path / "p.pdf", tmp_path / "p.xlsx"
    printed = subprocess.run([sys.executable, "main.py", "print", "planting", "--db", str(db), "--year",
                              str(YEAR), "-o", str(pdf)], cwd=ROOT, capture_output=True, text=True, env=env)
    assert printed.returncode == 0, printed.stderr
    assert "种植面积摸底核查汇总表及用水量测算" in printed.stdout and pdf.exists()
    exported = subprocess.run([sys.executable, "main.py", "export", "xlsx", "planting", "--db", str(db),
                               "--year", str(YEAR), "--village", "652301105902", "-o", str(xlsx)],
                              cwd=ROOT, capture_output=True, text=True, env=env)
    assert exported.returncode == 0, exported.stderr
    rows = [[c.value for c in r] for r in load_workbook(xlsx)["种植面积汇总"].iter_rows(min_row=3)]
    assert rows[0][:2] == ["村二", 86.35] and not any(r[0] == "村一" for r in rows)
