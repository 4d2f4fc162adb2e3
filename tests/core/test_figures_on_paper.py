"""The arithmetic an auditor redoes with a calculator, read back from the PDFs and the xlsx.

Every notice row, every agreement clause and every summary line: printed area × printed rate =
printed amount to the 分; every 合计/小计 = the sum of the printed rows; one village's figures are
the same in the notice PDF, the summary PDF and both xlsx.
"""

from __future__ import annotations

import re
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pdfplumber
import pytest
from openpyxl import load_workbook
from paper_village import BIG_HOUSEHOLDS, BIG_VILLAGE, GROUPS, MANY_PARCELS, YEAR, PaperVillage

from wq_desktop import excel
from wq_desktop.ordering import group_sort_key
from wq_desktop.printing.catalog import render_document
from wq_desktop.rules import amount_words
from wq_desktop.store import Store

CENT = Decimal("0.01")
FIGURE = re.compile(r"^-?\d+\.\d{2}$")


def product(area: Decimal, rate: Decimal) -> Decimal:
    return (area * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def figure(cell: str | None) -> Decimal:
    text = (cell or "").replace("\n", "")
    assert FIGURE.match(text), f"not a printed figure: {cell!r}"
    return Decimal(text)


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("paper") / "paper.sqlite"
    with Store.open(path, "测试员", create=True) as store:
        PaperVillage(store)
    return path


@pytest.fixture
def store(paper: Path, tmp_path: Path) -> Store:
    copy = tmp_path / "paper.sqlite"
    shutil.copy(paper, copy)
    s = Store.open(copy, "测试员")
    yield s
    s.close()


def table_rows(pdf_path: Path) -> list[list[str | None]]:
    """Every row of every table on every page, as pdfplumber reads them from the drawn grid."""
    with pdfplumber.open(pdf_path) as pdf:
        return [row for page in pdf.pages for table in page.extract_tables() for row in table]


MM = 72 / 25.4


def text_block(page: pdfplumber.page.Page) -> pdfplumber.page.Page:
    """The page's 版心 only (156 × 225 mm), leaving out page numbers and margin labels."""
    if page.width > page.height:  # landscape: the portrait sheet turned
        left, top, width, height = 35, 28, 225, 156
    else:
        left, top, width, height = 28, 37, 156, 225
    # 2 mm of slack: pdfminer misplaces glyphs after a font-subset switch under character
    # spacing by a few tenths of a mm (poppler places them exactly; test_layout checks that).
    return page.within_bbox(((left - 2) * MM, (top - 2) * MM, (left + width + 2) * MM,
                             (top + height + 2) * MM))


def page_text(pdf_path: Path) -> str:
    """The body text of every page, read in order with all whitespace removed."""
    with pdfplumber.open(pdf_path) as pdf:
        return re.sub(r"\s", "", "".join(text_block(page).extract_text() or "" for page in pdf.pages))


def notice_rows(store: Store, tmp_path: Path) -> tuple[list[list[str | None]], list[str | None]]:
    pdf = tmp_path / "notice.pdf"
    render_document(store, "notice", year=YEAR, village=BIG_VILLAGE, out=pdf)
    rows = table_rows(pdf)
    data = [r for r in rows if (r[0] or "").isdigit()]
    totals = [r for r in rows if (r[0] or "").startswith("合计")]
    assert len(totals) == 1
    return data, totals[0]


def test_every_notice_row_multiplies_out_and_the_total_is_their_sum(store, tmp_path):
    data, total = notice_rows(store, tmp_path)
    assert [int(r[0]) for r in data] == list(range(1, len(data) + 1))
    assert len({r[3] for r in data}) == BIG_HOUSEHOLDS  # one masked ID per household
    for row in data:
        verified, retired, fallow, amount = (figure(row[c]) for c in (6, 7, 8, 10))
        rates = [Decimal(t) for t in row[9].replace("\n", "").split("/")]
        areas = [a for a in (retired, fallow) if a > 0]
        assert len(rates) == len(areas), row
        assert sum(product(a, r) for a, r in zip(areas, rates, strict=True)) == amount, row
        assert retired + fallow <= verified, row
    for col in (6, 7, 8, 10):
        assert sum(figure(r[col]) for r in data) == figure(total[col]), col
    assert total[0] == f"合计（{BIG_HOUSEHOLDS}户，{len(data)}块）"
    # 一组, 二组 … 十一组 in counting order, not by character code.
    printed = [r[1] for r in data]
    assert printed == sorted(printed, key=group_sort_key) and set(printed) == set(GROUPS)


def test_agreement_of_40_parcels_multiplies_out_clause_by_clause(store, tmp_path):
    pdf = tmp_path / "agreement.pdf"
    render_document(store, "agreement", year=YEAR, operator=store.find_one(
        "operator", "name='农户000'")["id_code"], out=pdf)
    text = page_text(pdf)
    clause = re.search(r"补助按面积计算：(.*?)。补助金额合计人民币（大写）(.*?)（小写：¥([\d.]+)元）", text)
    assert clause, "subsidy clause not found"
    lines = clause.group(1).split("；")
    total = Decimal(clause.group(3))
    amounts = []
    for line in lines:
        m = re.fullmatch(r"(退减灌溉|休耕轮作)(\d+\.\d{2})亩×(\d+\.\d{2})元/亩=(\d+\.\d{2})元", line)
        assert m, line
        area, rate, amount = (Decimal(g) for g in m.groups()[1:])
        assert product(area, rate) == amount, line
        amounts.append(amount)
    assert sum(amounts) == total and clause.group(2) == amount_words.amount_in_words(total)
    # At 350.50 元/亩 each parcel's amount rounds its half 分, so the sum of the parcels does not
    # multiply out as one line: those parcels are listed one by one.
    assert sum("×350.50元/亩" in line for line in lines) > 1
    assert sum("×400.00元/亩" in line for line in lines) == 1
    # The parcel table: 40 rows and a 合计 row of their exact sums.
    rows = [r for r in table_rows(pdf) if len(r) == 9]
    data = [r for r in rows if (r[0] or "").isdigit()]
    total_row = next(r for r in rows if r[0] == "合计")
    assert len(data) == MANY_PARCELS and total_row[4] == f"{MANY_PARCELS}块"
    for col in (5, 6, 7):
        assert sum(figure(r[col]) for r in data) == figure(total_row[col]), col
    retired, fallow = figure(total_row[6]), figure(total_row[7])
    assert f"面积合计{retired + fallow}亩，其中退减灌溉{retired}亩、休耕轮作{fallow}亩" in text
    # Clause areas add up to the table's.
    clause_area = sum(Decimal(re.search(r"(\d+\.\d{2})亩", line).group(1)) for line in lines)
    assert clause_area == retired + fallow
    assert "东至东至" not in text and "东至渠道" in text


def summary_table(store: Store, tmp_path: Path) -> list[list[str | None]]:
    pdf = tmp_path / "summary.pdf"
    render_document(store, "summary", year=YEAR, out=pdf)
    return [r for r in table_rows(pdf) if r[0] and r[1] and r[1].isdigit()]


AREA_COLS = (3, 4, 5, 6, 7, 8, 9)  # verified, 3 attributes, 小计, fallow, money
COUNT_COLS = (1, 2, 10)  # households, parcels, signed


def test_summary_subtotals_and_total_are_sums_of_printed_lines(store, tmp_path):
    lines = summary_table(store, tmp_path)
    assert [r[0] for r in lines] == ["西村", "大西渠镇小计", "测试村", "小村", "六工镇小计", "昌吉市合计"]
    by_label = {r[0]: r for r in lines}
    for village in ("西村", "测试村", "小村"):
        row = by_label[village]
        assert sum(figure(row[c]) for c in (4, 5, 6)) == figure(row[7]), village  # 小计 of attributes
    for label, parts in (("大西渠镇小计", ["西村"]), ("六工镇小计", ["测试村", "小村"]),
                         ("昌吉市合计", ["大西渠镇小计", "六工镇小计"])):
        for c in AREA_COLS:
            assert sum(figure(by_label[p][c]) for p in parts) == figure(by_label[label][c]), (label, c)
        for c in COUNT_COLS:
            assert sum(int(by_label[p][c]) for p in parts) == int(by_label[label][c]), (label, c)


def xlsx_rows(path: Path) -> list[tuple]:
    return list(load_workbook(path).active.iter_rows(min_row=3, values_only=True))


def test_same_village_figures_in_notice_summary_and_both_xlsx(store, tmp_path):
    _, notice_total = notice_rows(store, tmp_path)
    notice_pdf = tuple(figure(notice_total[c]) for c in (6, 7, 8, 10))
    summary_line = next(r for r in summary_table(store, tmp_path) if r[0] == "测试村")
    summary_pdf = tuple(figure(summary_line[c]) for c in (3, 7, 8, 9))

    notice_xlsx = xlsx_rows(excel.export_notice(store, YEAR, tmp_path / "notice.xlsx", BIG_VILLAGE))
    data = [r for r in notice_xlsx if isinstance(r[0], int)]
    total = next(r for r in notice_xlsx if str(r[1] or "").startswith("合计"))
    for c in (6, 7, 8, 10):
        # What Excel's SUM of the column gives, to the 分, is the printed 合计.
        column = [Decimal(repr(r[c])) for r in data]
        assert all(v == v.quantize(CENT) for v in column), c
        assert sum(column) == Decimal(repr(total[c])), c
    notice_x = tuple(Decimal(repr(total[c])).quantize(CENT) for c in (6, 7, 8, 10))

    summary_xlsx = xlsx_rows(excel.export_summary(store, YEAR, tmp_path / "summary.xlsx"))
    line = next(r for r in summary_xlsx if r[0] == "测试村")
    summary_x = tuple(Decimal(repr(line[c])).quantize(CENT) for c in (3, 7, 8, 9))
    assert notice_pdf == summary_pdf == notice_x == summary_x


def test_groups_in_counting_order_in_the_contacts_list_and_the_assignment_table(store, tmp_path):
    from wq_desktop.printing.contact_list import contact_list_data
    from wq_desktop.queries import contacts

    village = store.find_one("village", "code=?", (BIG_VILLAGE,))
    groups = [r.group for r in contacts.assignment_rows(store, village["uuid"])]
    assert groups == sorted(groups, key=group_sort_key) and groups[-1] == "十一组"
    names = [r.name for r in contact_list_data(store, YEAR, BIG_VILLAGE).rows]
    by_name = {r.name: r.group for r in contacts.assignment_rows(store, village["uuid"])}
    printed = [by_name[n] for n in names]
    assert printed == sorted(printed, key=group_sort_key)
