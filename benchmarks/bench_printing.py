"""Printing speed as ratios to reportlab platypus laying out the same story.

Product: a village batch of agreements (each with its 附件1: sketch and boundary points), and a
500-row 公示, through render_document (reading the store, the GB/T line setting with 禁则 and the
character grid, glyph check, page numbers, watermark pass). Baseline: the same story built from
the same data, but with reportlab's own Paragraph for every text, laid out by a plain platypus
document on the same page frame with the same fonts. The ratio is what our printing adds over
platypus doing the same layout work.
"""

from __future__ import annotations

import io
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import compare

YEAR = 2025
VILLAGE = "652301105901"


def _person_id(n: int) -> str:
    from wq_desktop.rules import identity

    first17 = f"652399{19500101 + n % 28:08d}{n % 1000:03d}"
    return first17 + identity.id_check_char(first17)


def build_store(path: Path, households: int):  # -> Store
    """One village of `households` households, two retired parcels each, agreements drafted."""
    from wq_desktop import services
    from wq_desktop.store import Store

    store = Store.open(path, "基准测试", create=True)
    with store.transaction():
        t = store.create("township", {"code": "652301105", "name": "六工镇"})
        v = store.create("village", {"township": t, "code": VILLAGE, "name": "基准村"})
        g = store.create("village_group", {"village": v, "name": "一组"})
        for i in range(households):
            op = store.create("operator", {"village": v, "group": g, "name": f"农户{i:04d}", "kind": "农户",
                                           "id_code": _person_id(i), "phone": f"139{i:08d}",
                                           "address": f"{i}号院"})
            for p in range(2):
                parcel = store.create("parcel", {
                    "village": v, "operator": op, "code": f"{i:04d}-{p}", "place_name": "东大渠",
                    "land_attribute": "农民土地承包确权颁证耕地", "east": "渠道",
                    "south": "机耕道", "west": "林带", "north": "邻户耕地", "crop": "棉花",
                    "water_source": "机电井 J01",
                    "geometry": _box(i, p)})
                area = store.get("parcel", parcel)["area_mu"]
                services.set_measure(store, parcel, YEAR, "退减灌溉" if p == 0 else "休耕轮作", area,
                                     400 if p == 0 else 300)
            services.start_agreement(store, op, YEAR, date(YEAR, 7, 1))
        store.create("notice", {"village": v, "year": YEAR, "start_on": date(YEAR, 8, 1),
                                "end_on": date(YEAR, 8, 7)})
    return store


def _box(i: int, p: int):  # -> Polygon: side by side, so every sketch has neighbours
    from shapely.geometry import box

    x = 500000 + (i * 2 + p) * 120.0
    return box(x, 4870000, x + 100, 4870000 + 60 + (i + p) % 37 * 2.5)


@contextmanager
def reportlab_paragraphs() -> Iterator[None]:
    """Build stories with reportlab's Paragraph wherever the printing modules call para()."""
    import importlib
    from xml.sax.saxutils import escape

    from reportlab.platypus import Paragraph

    def plain(text: str, style):  # -> Paragraph
        return Paragraph(escape(text).replace("\n", "<br/>"), style)

    names = ("page", "common", "agreement", "notice", "parcel_attachment", "summary_table",
             "contact_list", "patrol_sheet")
    modules = [importlib.import_module(f"wq_desktop.printing.{n}") for n in names]
    saved = [(m, m.para) for m in modules if hasattr(m, "para")]
    for module, _ in saved:
        module.para = plain
    try:
        yield
    finally:
        for module, original in saved:
            module.para = original


def platypus(story: list, landscape: bool = False) -> bytes:
    """The baseline document: the same 版心 frame, no decorations."""
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    from wq_desktop.printing.page import geometry

    g = geometry(landscape)
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=(g.width, g.height), leftMargin=g.left, rightMargin=g.right,
                          topMargin=g.top, bottomMargin=g.bottom)
    frame = Frame(g.left, g.bottom, g.block_width, g.block_height, leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(frames=[frame])])
    doc.build(story)
    return buf.getvalue()


def main() -> None:
    from wq_desktop.printing.agreement import agreement_households, agreements_story
    from wq_desktop.printing.catalog import render_document
    from wq_desktop.printing.fonts import register_fonts
    from wq_desktop.printing.notice import notice_data, notice_story

    register_fonts()
    with tempfile.TemporaryDirectory() as folder:
        store = build_store(Path(folder) / "bench.sqlite", 200)
        try:
            households = agreement_households(store, YEAR, village=VILLAGE)

            def agreements_baseline() -> bytes:
                with reportlab_paragraphs():
                    story = agreements_story(households, YEAR, store)
                return platypus(story)

            compare("200 份协议书及附件1（一个村批量）",
                    lambda: render_document(store, "agreement", year=YEAR, village=VILLAGE,
                                            out=io.BytesIO()),
                    agreements_baseline, repeat=1)
        finally:
            store.close()
        store = build_store(Path(folder) / "notice.sqlite", 250)  # 2 parcels each: 500 rows
        try:
            data = notice_data(store, YEAR, VILLAGE)

            def notice_baseline() -> bytes:
                with reportlab_paragraphs():
                    story = notice_story(data)
                return platypus(story, landscape=True)

            compare("500 行村级公示",
                    lambda: render_document(store, "notice", year=YEAR, village=VILLAGE, out=io.BytesIO()),
                    notice_baseline, repeat=3)
        finally:
            store.close()


if __name__ == "__main__":
    main()
