"""Printing speed as ratios to bare reportlab drawing the same text.

Product: a 1,000-agreement village batch and a 500-row 公示, through render_document (reading the
store, laying out tables, glyph check, page numbers). Baseline: canvas.drawString of exactly the
strings those documents draw, in the same font, one line each, new page every 40 lines.
"""

from __future__ import annotations

import io
import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import compare

YEAR = 2025
VILLAGE = "652301105901"


def _person_id(n: int) -> str:
    from wq_desktop import rules

    first17 = f"652399{19500101 + n % 28:08d}{n % 1000:03d}"
    return first17 + rules.id_check_char(first17)


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
                area = 10 + (i + p) % 37 + 0.333
                parcel = store.create("parcel", {
                    "village": v, "operator": op, "code": f"{i:04d}-{p}", "place_name": "东大渠",
                    "land_attribute": "农民土地承包确权颁证耕地", "area_mu": area, "east": "渠道",
                    "south": "机耕道", "west": "林带", "north": "邻户耕地", "crop": "棉花",
                    "water_source": "机电井 J01"})
                services.set_measure(store, parcel, YEAR, "退减灌溉" if p == 0 else "休耕轮作", area,
                                     400 if p == 0 else 300)
            services.start_agreement(store, op, YEAR, date(YEAR, 7, 1))
        store.create("notice", {"village": v, "year": YEAR, "start_on": date(YEAR, 8, 1),
                                "end_on": date(YEAR, 8, 7)})
    return store


def _strings(story: list) -> list[str]:
    from wq_desktop.printing.page import _text_runs

    return [text for text, _ in _text_runs(story) if text.strip()]


def draw_bare(strings: list[str], landscape: bool = False) -> bytes:
    """The baseline: the same strings, same font and size, drawn line by line."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.pagesizes import landscape as turn
    from reportlab.pdfgen.canvas import Canvas

    from wq_desktop.printing.fonts import font_for

    buf = io.BytesIO()
    size = turn(A4) if landscape else A4
    canvas = Canvas(buf, pagesize=size)
    font = font_for("song")
    y = size[1] - 60
    for n, text in enumerate(strings):
        if n and n % 40 == 0:
            canvas.showPage()
            y = size[1] - 60
        canvas.setFont(font, 10.5)
        canvas.drawString(60, y, text)
        y -= 14
    canvas.save()
    return buf.getvalue()


def main() -> None:
    from wq_desktop.printing.agreement import agreement_households, agreements_story
    from wq_desktop.printing.catalog import render_document
    from wq_desktop.printing.fonts import register_fonts
    from wq_desktop.printing.notice import notice_data, notice_story

    register_fonts()
    with tempfile.TemporaryDirectory() as folder:
        store = build_store(Path(folder) / "bench.sqlite", 1000)
        try:
            agreement_text = _strings(agreements_story(agreement_households(store, YEAR, village=VILLAGE),
                                                       YEAR))
            compare("1000 份协议书（一个村批量）",
                    lambda: render_document(store, "agreement", year=YEAR, village=VILLAGE, out=io.BytesIO()),
                    lambda: draw_bare(agreement_text), repeat=1)
        finally:
            store.close()
        store = build_store(Path(folder) / "notice.sqlite", 250)  # 2 parcels each: 500 rows
        try:
            notice_text = _strings(notice_story(notice_data(store, YEAR, VILLAGE)))
            compare("500 行村级公示",
                    lambda: render_document(store, "notice", year=YEAR, village=VILLAGE, out=io.BytesIO()),
                    lambda: draw_bare(notice_text, landscape=True), repeat=3)
        finally:
            store.close()


if __name__ == "__main__":
    main()
