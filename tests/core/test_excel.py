"""Excel out (formatting, values kept as numbers) and the roster import with preview."""

from __future__ import annotations

from decimal import Decimal

from openpyxl import Workbook, load_workbook

from wq_desktop import cli, excel
from wq_desktop.demo import demo_year
from wq_desktop.printing.notice import notice_data
from wq_desktop.rules import identity, masking
from wq_desktop.summary import summarize


def two(value) -> float:
    return float(Decimal(value).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP"))


def test_notice_round_trip_keeps_every_value(demo_store, tmp_path):
    year = demo_year()
    village = demo_store.find("village", order_by="code")[0]["code"]
    path = excel.export_notice(demo_store, year, tmp_path / "notice.xlsx", village)
    data = notice_data(demo_store, year, village)
    ws = load_workbook(path).active
    assert ws["A1"].value == data.title and "A1:L1" in {str(r) for r in ws.merged_cells.ranges}
    assert ws["A2"].font.bold and ws["A2"].fill.fgColor.rgb.endswith("D9E1F2")
    assert ws.freeze_panes == "A3" and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$1:$2"
    for n, r in enumerate(data.rows):
        got = [c.value for c in ws[3 + n]]
        assert got[:6] == [n + 1, r.group, r.name, r.masked_id, r.land_attribute, r.parcel]
        assert got[6:9] == [two(r.verified_mu), two(r.retired_mu), two(r.fallow_mu)]
        assert got[10] == two(r.subsidy) and isinstance(got[10], (int, float))  # a number, not text
        assert ws.cell(3 + n, 7).number_format == "0.00"
    total = [c.value for c in ws[3 + len(data.rows)]]
    assert total[10] == two(data.total("subsidy"))
    assert "共7天" in ws.cell(4 + len(data.rows) + 1, 1).value


def test_contacts_and_summary_exports(demo_store, tmp_path):
    year = demo_year()
    path = excel.export_contacts(demo_store, year, tmp_path / "c.xlsx")
    ws = load_workbook(path).active
    ids = [ws.cell(r, 5).value for r in range(3, ws.max_row) if ws.cell(r, 5).value]
    assert len(ids) == demo_store.count("operator")
    assert all("*" in i or not masking.mask_id(i).count("*") for i in ids)  # persons masked, codes whole
    path = excel.export_summary(demo_store, year, tmp_path / "s.xlsx")
    ws = load_workbook(path).active
    city = summarize(demo_store, year)
    last = [c.value for c in ws[ws.max_row - 2]]
    assert last[0] == "昌吉市合计" and last[1] == city.households
    assert last[9] == two(city.subsidy) and ws.cell(ws.max_row - 2, 12).number_format == "0.0%"


def test_cli_export_xlsx(demo_store, tmp_path, capsys):
    out = tmp_path / "s.xlsx"
    assert cli.main(["export", "xlsx", "summary", "--db", str(demo_store.path), "-o", str(out)]) == 0
    assert out.exists()
    assert cli.main(["export", "xlsx", "--db", str(demo_store.path), "-o", str(out)]) == 2
    assert "请指定表格" in capsys.readouterr().err


def _roster(path, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(["2025年农户花名册"])
    ws.append(["户主姓名", "身份证号", "联系电话", "所属组"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def _good_id(n: int) -> str:
    first17 = f"65239919800101{n:03d}"
    return first17 + identity.id_check_char(first17)


def test_roster_imports_good_rows_only_after_acceptance(demo_store, tmp_path):
    village = demo_store.find("village", order_by="code")[0]
    bad = _good_id(3)[:-1] + ("0" if _good_id(3)[-1] != "0" else "1")
    path = _roster(tmp_path / "r.xlsx", [
        ["新户甲", _good_id(1), "13912345678", "一组"],
        ["新户乙", bad, "", ""],
        ["新户丙", _good_id(2), "", "二组"],
        ["新户丁", 652399198001010000.0, "", ""],  # typed as a number: digits lost
    ])
    roster = excel.read_roster(path)
    assert roster.columns[:2] == ["户主姓名", "身份证号"]
    mapping = excel.suggest_mapping(roster.columns)
    assert mapping == {"name": "户主姓名", "id_code": "身份证号", "phone": "联系电话", "group": "所属组"}
    before = demo_store.count("operator")
    preview = excel.preview_roster(demo_store, roster.rows, mapping, village["code"])
    assert demo_store.count("operator") == before  # preview writes nothing
    assert [r.ok for r in preview.results] == [True, False, True, False]
    assert preview.results[1].error.startswith("第4行：") and "校验码" in preview.results[1].error
    assert "文本" in preview.results[3].error
    assert excel.import_roster(demo_store, preview) == 2
    assert demo_store.count("operator") == before + 2
    created = demo_store.find_one("operator", "id_code=?", (_good_id(1),))
    assert created["village"] == village["uuid"] and created["phone"] == "13912345678"
    assert demo_store.history(created["uuid"])
    # Importing the same file again: every row is now a duplicate.
    again = excel.preview_roster(demo_store, roster.rows, mapping, village["code"])
    assert "已登记" in again.results[0].error


def test_roster_needs_name_and_id_columns(demo_store, tmp_path):
    import pytest

    from wq_desktop.errors import ValidationError

    roster = excel.read_roster(_roster(tmp_path / "r.xlsx", [["甲", _good_id(1), "", ""]]))
    with pytest.raises(ValidationError, match="身份证号"):
        excel.preview_roster(demo_store, roster.rows, {"name": "户主姓名"}, "652301105901")


def test_notice_rate_is_a_number_with_two_decimals(demo_store, tmp_path):
    year = demo_year()
    village = demo_store.find("village", order_by="code")[0]["code"]
    path = excel.export_notice(demo_store, year, tmp_path / "rate.xlsx", village)
    data = notice_data(demo_store, year, village)
    ws = load_workbook(path).active
    single = [(n, r) for n, r in enumerate(data.rows) if r.rate and "/" not in r.rate]
    assert single
    for n, r in single:
        cell = ws.cell(3 + n, 10)
        # a number (openpyxl reads 400.0 back as 400), not the text "400.00"
        assert isinstance(cell.value, (int, float)) and cell.value == float(r.rate)
        assert cell.number_format == "0.00"


def _xls_roster(path, rows):
    """A roster as old WPS/Excel 2003 save it (.xls, BIFF8), with a merged title row."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("花名册")
    sheet.write_merge(0, 0, 0, 3, "测试村花名册")
    for c, title in enumerate(["户主姓名", "身份证号", "联系电话", "所属组"]):
        sheet.write(1, c, title)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.save(str(path))
    return path


def test_roster_from_an_old_xls_file_imports_like_xlsx(demo_store, tmp_path):
    village = demo_store.find("village", order_by="code")[0]
    path = _xls_roster(tmp_path / "花名册.xls", [
        ["旧表甲", _good_id(5), 13912345678, "一组"],  # the phone typed as a number
        ["旧表乙", 652399198001010000.0, "", ""],
    ])
    roster = excel.read_roster(path)
    mapping = excel.suggest_mapping(roster.columns)
    preview = excel.preview_roster(demo_store, roster.rows, mapping, village["code"])
    assert [r.ok for r in preview.results] == [True, False]
    assert preview.results[1].error.startswith("第4行：") and "文本" in preview.results[1].error
    assert excel.import_roster(demo_store, preview) == 1
    created = demo_store.find_one("operator", "id_code=?", (_good_id(5),))
    assert created["phone"] == "13912345678"


def test_unreadable_rosters_are_refused_in_chinese(tmp_path):
    import re

    import pytest

    from wq_desktop.errors import ValidationError

    cases = {"损坏.xls": b"\xd0\xcf\x11\xe0 broken", "名单.xlsx": b"PK\x03\x04 not a zip",
             "名单.csv": b"a,b\n"}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValidationError) as err:
            excel.read_roster(tmp_path / name)
        text = str(err.value)
        assert name in text
        assert not re.search(r"[A-Za-z]{4,}", re.sub(r"Excel|WPS|xlsx", "", text)), text


def test_unmasked_roster_reads_back_into_the_roster_import(demo_store, tmp_path):
    from wq_desktop import checks, xlsx_exports

    village = demo_store.find("village", order_by="code")[0]
    masked = xlsx_exports.save_table(demo_store, "roster", demo_year(), tmp_path / "m.xlsx",
                                     village["code"])
    assert "*" in str(load_workbook(masked).active.cell(3, 4).value)
    full = xlsx_exports.save_table(demo_store, "roster", demo_year(), tmp_path / "f.xlsx",
                                   village["code"], full=True)
    sheet = load_workbook(full).active
    assert sheet.title == "花名册（仅限内部使用，不得公开）"
    roster = excel.read_roster(full)
    mapping = excel.suggest_mapping(roster.columns)
    assert set(mapping) == set(excel.ROSTER_FIELDS)
    preview = excel.preview_roster(demo_store, roster.rows, mapping, village["code"])
    assert preview.results and all("已登记" in r.error for r in preview.results)  # the same people
    assert checks.check_history(demo_store) == []
    logged = [e for e in demo_store.history(village["uuid"]) if e.op == "export"]
    assert len(logged) == 1 and "f.xlsx" in logged[0].changes["_event"][1]
    patrols = xlsx_exports.save_table(demo_store, "patrols", demo_year(), tmp_path / "p", None)
    assert patrols.suffix == ".xlsx" and load_workbook(patrols).active.max_row > 3
