"""附件1 read back from the PDF: coordinates equal the geometry and the 坐标TXT export, numbered
the same way (multi-part parcels, holes), edges add up, and the sketch is drawn to its scale."""

from __future__ import annotations

import math
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from wq_desktop import services
from wq_desktop.demo import demo_year
from wq_desktop.geo import polygons
from wq_desktop.gis_export import export_parcels
from wq_desktop.model import AgreementStatus
from wq_desktop.printing.catalog import render_document
from wq_desktop.store import Store

YEAR = 2025
HEADER = ["点号", "圈号", "X（北坐标，米）", "Y（东坐标，米）", "边长（米）"]


def coordinate_rows(pdf_path: Path) -> list[list[str]]:
    """The rows of every 界址点坐标表 (tables under HEADER); the demo watermark's strokes that
    cross a cell are dropped from its text."""
    rows: list[list[str]] = []
    with pdfplumber.open(pdf_path) as pdf:
        for page in pdf.pages:
            for table in page.extract_tables():
                if [re.sub(r"\s", "", c or "") for c in table[0]] != HEADER:
                    continue
                rows += [[re.sub(r"[^\dJ.]", "", c or "") for c in row] for row in table[1:]]
    return rows


def txt_blocks(path: Path) -> dict[str, list[list[str]]]:
    """坐标TXT: parcel code -> its rows [J1, 圈号, X, Y]."""
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in path.read_bytes().decode("gbk").splitlines():
        if line.endswith("@"):
            current = blocks.setdefault(line.split(",")[2], [])
        elif re.match(r"J\d+,", line):
            current.append(line.split(","))
    return blocks


def check_edges(rows: list[list[str]]) -> None:
    """Each 边长 is the distance to the next printed point of its ring, to 0.01 m."""
    for here, after in zip(rows, [*rows[1:], None], strict=True):
        if after is None or after[1] != here[1] or not here[4]:
            continue
        dist = math.hypot(float(after[2]) - float(here[2]), float(after[3]) - float(here[3]))
        assert abs(float(here[4]) - dist) <= 0.011, here


def test_demo_agreement_carries_its_attachment_equal_to_the_txt_export(demo_store, tmp_path):
    year = demo_year()
    op = demo_store.conn.execute(
        "SELECT o.uuid, o.id_code, o.village FROM operator o JOIN agreement a ON a.operator=o.uuid"
        " WHERE a.year=? AND a.status<>'终止' AND o.kind='农户' ORDER BY a.number LIMIT 1",
        (year,)).fetchone()
    pdf = tmp_path / "agreement.pdf"
    render_document(demo_store, "agreement", year=year, operator=op[1], out=pdf)
    with pdfplumber.open(pdf) as doc:
        text = "".join(p.extract_text() for p in doc.pages)
    assert "地块示意图及界址点坐标表" in text and "带号：29" in text and "比例尺1:" in text.replace(" ", "")
    village = demo_store.get("village", op[2])["code"]
    txt = export_parcels(demo_store, "txt", tmp_path / "parcels.txt", year=year, village_code=village).path
    blocks = txt_blocks(txt)
    rows = coordinate_rows(pdf)
    codes = [c for (c,) in demo_store.conn.execute(
        "SELECT DISTINCT p.code FROM parcel p JOIN measure m ON m.parcel=p.uuid WHERE p.operator=?"
        " AND m.year=? AND m.kind<>'实际种植' AND m.deleted=0 ORDER BY p.code", (op[0], year))]
    expected = [r for code in codes for r in blocks[code]]
    assert [r[:4] for r in rows] == expected
    check_edges(rows)


def test_multi_part_parcel_with_a_hole_is_numbered_as_the_txt_export(store: Store, tmp_path):
    t = store.create("township", {"code": "652301105", "name": "六工镇"})
    v = store.create("village", {"township": t, "code": "652301105901", "name": "测试村"})
    op = store.create("operator", {"village": v, "name": "张三", "kind": "农户",
                                   "id_code": "11010519491231002X"})
    ring = Polygon(box(500000, 4870000, 500120, 4870090).exterior.coords,
                   [box(500040, 4870030, 500070, 4870060).exterior.coords])
    shape = MultiPolygon([ring, box(500200, 4870000, 500260.5, 4870047.3)])
    parcel = store.create("parcel", {"village": v, "operator": op, "code": "001-1",
                                     "land_attribute": "集体机动地", "geometry": shape,
                                     "east": "东至渠道", "south": "路", "west": "林带", "north": "荒地"})
    area = store.get("parcel", parcel)["area_mu"]
    services.set_measure(store, parcel, YEAR, "退减灌溉", area, 400)
    agreement = services.start_agreement(store, op, YEAR, date(YEAR, 7, 1))
    services.advance_agreement(store, agreement, AgreementStatus.SIGNED, date(YEAR, 7, 2))
    pdf = tmp_path / "attachment.pdf"
    pages = render_document(store, "attachment", year=YEAR, operator="11010519491231002X", out=pdf)
    assert pages >= 1
    rows = coordinate_rows(pdf)
    blocks = txt_blocks(export_parcels(store, "txt", tmp_path / "p.txt", year=YEAR).path)
    assert set(blocks) == {"001-1-1", "001-1-2"}
    assert [r[:4] for r in rows] == blocks["001-1-1"] + blocks["001-1-2"]
    first = blocks["001-1-1"]
    assert [r[1] for r in first] == ["1"] * 5 + ["2"] * 5  # the hole is ring 2, numbered on
    assert first[5][0] == "J5" and first[-1][0] == "J5"
    check_edges(rows)
    # The coordinates are the parcel's own (X northing, Y easting with the zone 29 prefix).
    assert (Decimal(first[0][2]), Decimal(first[0][3])) == (Decimal("4870090.00"), Decimal("29500000.00"))
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        text = page.extract_text()
        flat = re.sub(r"\s", "", text)
        assert "东至渠道" in flat and "东至东至" not in flat and "多部件地块第1部分" in flat
        scale = int(re.search(r"比例尺\s*1:(\d+)", text).group(1))
        # The outline: the largest filled path drawn with the heavy pen, 120 m wide on the ground.
        outline = max((c for c in page.curves + page.rects if c.get("fill")),
                      key=lambda c: c["x1"] - c["x0"])
        assert outline["x1"] - outline["x0"] == pytest.approx(120 / scale * 1000 * 72 / 25.4, rel=0.01)
    assert polygons.area_mu(shape) > 0


def test_attachment_needs_the_years_agreement(demo_store, tmp_path):
    from wq_desktop.errors import ValidationError

    op = demo_store.conn.execute(
        "SELECT o.id_code FROM operator o WHERE o.kind='农户' AND NOT EXISTS (SELECT 1 FROM agreement a"
        " WHERE a.operator=o.uuid AND a.year=? AND a.deleted=0) LIMIT 1", (demo_year(),)).fetchone()[0]
    with pytest.raises(ValidationError, match="尚无协议记录"):
        render_document(demo_store, "attachment", year=demo_year(), operator=op, out=tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
