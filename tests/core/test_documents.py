"""Printed documents, read back from the PDF with poppler: names, masking, totals, pages, fonts."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from wq_desktop import cli, services
from wq_desktop.demo import demo_year
from wq_desktop.errors import ValidationError
from wq_desktop.printing.catalog import DOCUMENTS, render_document
from wq_desktop.printing.notice import notice_data
from wq_desktop.rules import amount_words, identity, quantities
from wq_desktop.summary import summarize

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdfinfo", "pdfimages")),
    reason="poppler-utils not installed")

FULL_ID = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")
MASKED_ID = re.compile(r"\d{6}\*{8}\d{3}[\dX]")
YEAR = 2025


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=120).stdout


def text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-layout"]
    if page:
        args += ["-f", str(page), "-l", str(page)]
    return run(*args, str(pdf), "-")


def plain(pdf: Path) -> str:
    """Text in drawing order with all whitespace removed, so names wrapped in a cell read whole."""
    return re.sub(r"\s", "", run("pdftotext", "-raw", str(pdf), "-"))


def pages(pdf: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(pdf))).group(1))


def assert_fonts_embedded(pdf: Path) -> None:
    lines = run("pdffonts", str(pdf)).splitlines()[2:]
    assert lines, "no fonts listed"
    for line in lines:
        # columns: name type encoding emb sub uni object ID
        assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", line), line


def demo_village(store) -> dict:
    return store.find("village", order_by="code")[0]


def person_id(n: int) -> str:
    first17 = f"652399{19500101 + n % 28:08d}{n % 1000:03d}"
    return first17 + identity.id_check_char(first17)


def build_village(store, households: int, *, name_of=lambda i: f"农户{i:03d}") -> str:
    """A township with one village of `households` households, one retired parcel each (one transaction)."""
    with store.transaction():
        t = store.create("township", {"code": "652301105", "name": "六工镇"})
        v = store.create("village", {"township": t, "code": "652301105901", "name": "测试村"})
        g = store.create("village_group", {"village": v, "name": "一组"})
        for i in range(households):
            op = store.create("operator", {"village": v, "group": g, "name": name_of(i), "kind": "农户",
                                           "id_code": person_id(i), "phone": f"139{i:08d}"})
            parcel = store.create("parcel", {"village": v, "operator": op, "code": f"{i + 1:04d}",
                                             "land_attribute": "农民土地承包确权颁证耕地",
                                             "area_mu": 10 + i % 37 + 0.333, "east": "渠", "west": "路"})
            services.set_measure(store, parcel, YEAR, "退减灌溉", 10 + i % 37 + 0.333, 400)
            services.start_agreement(store, op, YEAR, date(YEAR, 7, 1))
        store.create("notice", {"village": v, "year": YEAR, "start_on": date(YEAR, 8, 1),
                                "end_on": date(YEAR, 8, 7)})
    return "652301105901"


def numbers(line: str) -> list[Decimal]:
    return [Decimal(n) for n in re.findall(r"(?<![\d*-])\d+\.\d{2}(?![\d*])", line)]


def test_catalog_lists_every_document_with_chinese_names():
    assert [d.key for d in DOCUMENTS] == ["agreement", "attachment", "notice", "contacts", "summary",
                                         "patrol", "planting"]
    assert all(re.search(r"[\u4e00-\u9fff]", d.name) for d in DOCUMENTS)


def test_notice_masks_ids_and_totals_add_up(demo_store, tmp_path):
    year, village = demo_year(), demo_village(demo_store)
    pdf = tmp_path / "notice.pdf"
    n = render_document(demo_store, "notice", year=year, village=village["code"], out=pdf)
    assert n == pages(pdf) >= 2
    body = text(pdf)
    data = notice_data(demo_store, year, village["code"])
    assert not FULL_ID.search(body), "a full ID number is printed on the public notice"
    assert len(MASKED_ID.findall(body)) >= len([r for r in data.rows if not r.note])
    flat = plain(pdf)
    for row in data.rows:
        assert row.name in flat
    assert f"公示时间：{data.start_on.year}年{data.start_on.month}月{data.start_on.day}日至" in body
    assert "共7天" in body and f"{village['name']}村民委员会" in body
    # Parse every table row back and add them up.
    rows = [numbers(line) for line in body.splitlines() if MASKED_ID.search(line)
            or re.search(r"^\s*\d+\s+[一二三]组", line)]
    rows = [r for r in rows if len(r) == 5]
    assert len(rows) == len(data.rows)
    total_line = next(line for line in body.splitlines() if "合计" in line)
    totals = numbers(total_line)
    verified, retired, fallow, _rate, money = (list(c) for c in zip(*rows, strict=True))
    assert totals[3] == sum(money), "money total must equal the sum of the printed rows exactly"
    for col, total in ((verified, totals[0]), (retired, totals[1]), (fallow, totals[2])):
        assert sum(col) == total  # figures of record: the total is the sum of the printed rows
    row = summarize(demo_store, year).find(village["code"])
    expected = (Decimal(quantities.format_mu(row.retired_mu)), row.subsidy.quantize(Decimal("0.01")))
    assert (totals[1], totals[3]) == expected
    assert_fonts_embedded(pdf)


def test_every_demo_page_is_watermarked_and_real_store_pages_are_not(demo_store, store, tmp_path):
    pdf = tmp_path / "contacts.pdf"
    count = render_document(demo_store, "contacts", year=demo_year(), out=pdf)
    for page in range(1, count + 1):
        assert "演示数据" in text(pdf, page)
    build_village(store, 3)
    real = tmp_path / "real.pdf"
    render_document(store, "contacts", year=YEAR, out=real)
    assert "演示数据" not in text(real)


def test_contact_list_and_summary_show_no_full_ids_or_phones(demo_store, tmp_path):
    year = demo_year()
    for doc in ("contacts", "summary"):
        pdf = tmp_path / f"{doc}.pdf"
        render_document(demo_store, doc, year=year, out=pdf)
        body = text(pdf)
        assert not FULL_ID.search(body), doc
        assert not re.search(r"(?<![\d*])1[3-9]\d{9}(?![\d*])", body), f"full phone in {doc}"
    assert "****" in text(tmp_path / "contacts.pdf")


def test_contact_list_totals(demo_store, tmp_path):
    pdf = tmp_path / "contacts.pdf"
    village = demo_village(demo_store)
    render_document(demo_store, "contacts", year=demo_year(), village=village["code"], out=pdf)
    body = text(pdf)
    assert "退地减水包联责任落实清单" in body
    total = numbers(next(line for line in body.splitlines() if "合计" in line))
    lines = [line for line in body.splitlines() if "合计" not in line and len(numbers(line)) == 3]
    assert len(lines) == demo_store.count("operator", "village=?", (village["uuid"],))
    # a household whose agreement is 终止 is listed but not counted in the 退减/休耕 totals
    from wq_desktop.printing.contact_list import contact_list_data

    counted = [r.counted for r in contact_list_data(demo_store, demo_year(), village["code"]).rows]
    assert not all(counted) and "不计入退减灌溉、休耕轮作面积合计" in body.replace("\n", "")
    for col in range(3):
        summed = [line for line, c in zip(lines, counted, strict=True) if c or col == 0]
        assert sum(numbers(line)[col] for line in summed) == total[col], col


def test_summary_table_rows_add_up(demo_store, tmp_path):
    pdf = tmp_path / "summary.pdf"
    render_document(demo_store, "summary", year=demo_year(), out=pdf)
    body = text(pdf)
    lines = [line for line in body.splitlines() if len(numbers(line)) >= 7]
    villages = [numbers(line) for line in lines if "合计" not in line and "小计" not in line]
    assert len(villages) == 3
    city = numbers(next(line for line in body.splitlines() if "昌吉市合计" in line))
    for col in range(7):  # verified, 3 attributes, retired subtotal, fallow, money
        assert sum(v[col] for v in villages) == city[col], col
    assert sum(v[6] for v in villages) == city[6]


def test_agreement_village_batch_restarts_page_numbers(demo_store, tmp_path):
    year, village = demo_year(), demo_village(demo_store)
    pdf = tmp_path / "agreements.pdf"
    total_pages = render_document(demo_store, "agreement", year=year, village=village["code"], out=pdf)
    body = text(pdf)
    live = demo_store.conn.execute(
        "SELECT count(*) FROM agreement a JOIN operator o ON o.uuid=a.operator"
        " WHERE a.year=? AND o.village=? AND a.status<>'终止' AND a.deleted=0",
        (year, village["uuid"])).fetchone()[0]
    firsts = re.findall(r"第1页\s*共(\d+)页", body)
    assert len(firsts) == live
    assert sum(int(n) for n in firsts) == total_pages
    assert body.count("协议书") >= live and "一式三份" in body and "按手印" in body
    assert_fonts_embedded(pdf)


def test_single_agreement_has_full_id_words_and_figures(demo_store, tmp_path):
    year = demo_year()
    op = demo_store.conn.execute(
        "SELECT o.id_code, o.name, a.number FROM operator o JOIN agreement a ON a.operator=o.uuid"
        " WHERE a.year=? AND a.status='已签订' AND o.kind='农户' ORDER BY a.number LIMIT 1",
        (year,)).fetchone()
    pdf = tmp_path / "one.pdf"
    render_document(demo_store, "agreement", year=year, operator=op[0], out=pdf)
    body = plain(pdf)
    assert op[0] in body and op[1] in body and op[2] in body
    amount = Decimal(re.search(r"小写：¥([\d.]+)元", body).group(1))
    assert amount_words.amount_in_words(amount) in body
    assert re.search(r"第1页共\d+页", body)


def test_500_household_notice_repeats_header_on_every_page(store, tmp_path):
    code = build_village(store, 500)
    pdf = tmp_path / "big.pdf"
    count = render_document(store, "notice", year=YEAR, village=code, out=pdf)
    assert count == pages(pdf) > 5
    for page in range(1, count + 1):
        page_text = text(pdf, page)
        if re.search(r"\d{6}\*{8}", page_text):  # pages carrying table rows
            assert "身份证号（脱敏）" in page_text and "户主姓名" in page_text, page
    body = text(pdf)
    assert "合计（500户，500块）" in body.replace(" ", "")
    assert "农户499" in body and not FULL_ID.search(body)
    assert_fonts_embedded(pdf)


def test_rare_character_is_reported_and_nothing_written(store, tmp_path, capsys):
    # Extension G is in no bundled font (𠮷 of Extension B prints through HanaMinB): the agreement
    # is refused whole; the village notice prints the rest with 〓 (test_data_entry).
    build_village(store, 2, name_of=lambda i: "\U00030000大明" if i == 1 else "张三")
    pdf = tmp_path / "agreement.pdf"
    with pytest.raises(ValidationError) as err:
        render_document(store, "agreement", year=YEAR, village="652301105901", out=pdf)
    assert "\U00030000" in str(err.value) and "方框" in str(err.value)
    assert not pdf.exists()
    store.close()
    rc = cli.main(["print", "agreement", "--db", str(store.path), "--year", str(YEAR), "--village",
                   "652301105901", "-o", str(pdf)])
    assert rc == 2 and not pdf.exists()
    assert "\U00030000" in capsys.readouterr().err


def test_patrol_sheets_blank_and_filled_with_photo(demo_store, tmp_path):
    year = demo_year()
    patrol_uuid = demo_store.find("photo")[0]["owner"]
    record = demo_store.get("patrol", patrol_uuid)
    filled = tmp_path / "filled.pdf"
    assert render_document(demo_store, "patrol", year=year, patrol=patrol_uuid, out=filled) == 1
    for name in record["patrollers"]:
        assert name in plain(filled)
    assert "■" + record["stage"] in plain(filled)
    assert len(run("pdfimages", "-list", str(filled)).splitlines()) >= 3  # header lines + a photo
    blank = tmp_path / "blank.pdf"
    assert render_document(demo_store, "patrol", year=year, out=blank) == 1
    assert "■" not in text(blank) and "□秋翻" in plain(blank)


def test_filled_patrol_sheet_shows_rectification_notice_date_and_refusal(demo_store, tmp_path):
    patrol_uuid = demo_store.find("photo")[0]["owner"]
    record = demo_store.get("patrol", patrol_uuid)
    visited = date.fromisoformat(record["visited_on"])
    demo_store.update("patrol", patrol_uuid, {
        "result": "违规-灌溉", "rect_requirement": "停止灌溉", "rect_deadline": visited,
        "rect_notified_on": visited, "rect_signature": "拒签"})
    filled = tmp_path / "filled.pdf"
    assert render_document(demo_store, "patrol", year=record["year"], patrol=patrol_uuid, out=filled) == 1
    words = plain(filled)
    assert f"通知日期{visited.year}年{visited.month}月{visited.day}日" in words
    assert "■拒签" in words and "□已签字" in words
    blank = tmp_path / "blank.pdf"
    assert render_document(demo_store, "patrol", year=record["year"], out=blank) == 1
    assert "□已签字□拒签" in plain(blank) and "通知日期" in plain(blank)


def test_cli_print_and_missing_choice(demo_store, tmp_path, capsys):
    db = str(demo_store.path)
    out = tmp_path / "s.pdf"
    assert cli.main(["print", "summary", "--db", db, "--year", str(demo_year()), "-o", str(out)]) == 0
    assert out.exists() and "三级汇总表" in capsys.readouterr().out
    assert cli.main(["print", "notice", "--db", db, "-o", str(tmp_path / "n.pdf")]) == 2
    assert "请指定村" in capsys.readouterr().err
    assert cli.main(["print", "agreement", "--db", db, "--household", "652399000000000000",
                     "-o", str(tmp_path / "a.pdf")]) == 2
    assert "找不到" in capsys.readouterr().err
