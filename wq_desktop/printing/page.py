"""The GB/T 9704-2012 page for reportlab platypus: A4, 版心 156×225 mm, page numbers, watermark.

Agreements and 公示 are not 公文 strictly, but offices expect the 公文 look, so every printout
uses this page (see shared/domain.md §4). Decorations (page numbers, demo watermark) are drawn
in a second pass by ``_GbtCanvas`` because "第X页 共Y页" needs the total page count.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from wq_desktop.errors import ValidationError
from wq_desktop.printing.fonts import (
    fallback_runs,
    font_for,
    format_missing,
    missing_in_font,
    register_fonts,
)
from wq_desktop.printing.gb_text import GbParagraph

PageNumberStyle = Literal["gbt9704", "of_total", "both"]

CHAR = 16.0  # 1 字 = width of one 3号 (16 pt) character, the standard's horizontal unit
# 22 lines must fill the 225 mm 版心 (637.8 pt): 28.95 pt keeps 22 × leading just inside it.
LINE = 28.95
PAGE_NUMBER_SIZE = 14.0  # 4号
PAGE_NUMBER_GAP = 7 * mm  # dash line below the text block
WATERMARK_TEXT = "演示数据"
DEMO_NOTE = "演示数据，不得作为正式文件使用"


@dataclass(frozen=True)
class PageGeometry:
    """Page size and margins in points."""

    width: float
    height: float
    top: float
    left: float
    bottom: float
    right: float

    @property
    def block_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def block_height(self) -> float:
        return self.height - self.top - self.bottom


def geometry(landscape: bool = False) -> PageGeometry:
    """Portrait: top 37, left (订口) 28, bottom 35, right 26 mm.

    Landscape is the portrait sheet turned so the table head faces the binding edge
    (GB/T 9704 §8): the 28 mm binding margin becomes the top, the 37 mm head margin the
    right, 35 mm the left and 26 mm the bottom; the 版心 stays 225×156 mm.
    """
    w, h = A4
    if landscape:
        return PageGeometry(h, w, top=28 * mm, left=35 * mm, bottom=26 * mm, right=37 * mm)
    return PageGeometry(w, h, top=37 * mm, left=28 * mm, bottom=35 * mm, right=26 * mm)


def text_block_size(landscape: bool = False) -> tuple[float, float]:
    """(width, height) of the 版心 in points: 156×225 mm portrait, 225×156 mm landscape."""
    g = geometry(landscape)
    return g.block_width, g.block_height


def format_cn_date(date: dt.date) -> str:
    """成文日期 style: Arabic digits, no zero padding, e.g. 2026年3月1日."""
    return f"{date.year}年{date.month}月{date.day}日"


def styles() -> dict[str, ParagraphStyle]:
    """Paragraph styles keyed by name; a fresh dict each call so callers may tweak copies.

    title 2号 (22 pt) 黑体 standing in for 小标宋; body 3号 仿宋; table text 五号/小四 宋体.
    All use CJK wrapping (break between any two Chinese characters).
    """
    f = register_fonts()
    common: dict[str, Any] = {"wordWrap": "CJK", "textColor": black}

    def st(name: str, role: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, fontName=f[role], fontSize=size, leading=leading, **common, **kw)

    body_kw: dict[str, Any] = {"alignment": TA_JUSTIFY, "firstLineIndent": 2 * CHAR}
    return {
        "title": st("title", "hei", 22, 34, alignment=TA_CENTER, spaceAfter=LINE),
        "subtitle": st("subtitle", "kai", 16, LINE, alignment=TA_CENTER),
        "body": st("body", "fangsong", 16, LINE, **body_kw),
        "body_noindent": st("body_noindent", "fangsong", 16, LINE, alignment=TA_JUSTIFY),
        # 一、 黑体; （一） 楷体; 1. 仿宋 — all 3号 and indented like body text.
        # A heading never ends a page: it stays with the paragraph it heads.
        "heading1": st("heading1", "hei", 16, LINE, firstLineIndent=2 * CHAR, keepWithNext=1),
        "heading2": st("heading2", "kai", 16, LINE, firstLineIndent=2 * CHAR, keepWithNext=1),
        "heading3": st("heading3", "fangsong", 16, LINE, firstLineIndent=2 * CHAR, keepWithNext=1),
        # 4号 body for table-heavy 公示.
        "body_small": st("body_small", "fangsong", 14, 24, alignment=TA_JUSTIFY, firstLineIndent=28),
        "attachment": st("attachment", "fangsong", 16, LINE, firstLineIndent=2 * CHAR),
        # "附件1" at the top left of an attachment's first page, 3号黑体 (GB/T 9704 §8).
        "attachment_label": st("attachment_label", "hei", 16, LINE),
        "caption": st("caption", "hei", 10.5, 16),
        "issuer": st("issuer", "fangsong", 16, LINE, alignment=TA_RIGHT, rightIndent=4 * CHAR),
        "date": st("date", "fangsong", 16, LINE, alignment=TA_RIGHT, rightIndent=4 * CHAR),
        "table": st("table", "song", 10.5, 14, alignment=TA_LEFT),
        "table_center": st("table_center", "song", 10.5, 14, alignment=TA_CENTER),
        "table_right": st("table_right", "song", 10.5, 14, alignment=TA_RIGHT),
        "table_header": st("table_header", "hei", 10.5, 14, alignment=TA_CENTER),
        "table_large": st("table_large", "song", 12, 16, alignment=TA_LEFT),
        "note": st("note", "song", 10.5, 16, alignment=TA_LEFT),
    }


def para(text: str, style: ParagraphStyle) -> GbParagraph:
    """Plain text set with 禁则, the 28-character grid for 3号 text and blanks that keep their
    width (gb_text); data from the database is never markup, and a rare character the style's
    font lacks (𠮷) is drawn in the fallback font (fonts.fallback_runs)."""
    return GbParagraph(text, style)


def signature_block(issuer: str, date: dt.date | str) -> list[Flowable]:
    """Issuer over date: date right-indented 4 字, issuer centred over the date (GB/T 9704)."""
    st = styles()
    date_text = date if isinstance(date, str) else format_cn_date(date)
    ds = st["date"]
    date_w = stringWidth(date_text, ds.fontName, ds.fontSize)
    issuer_w = stringWidth(issuer, ds.fontName, ds.fontSize)
    centre_from_right = 4 * CHAR + date_w / 2
    issuer_style = ParagraphStyle(
        "issuer_centred",
        parent=st["issuer"],
        rightIndent=max(0.0, centre_from_right - issuer_w / 2),
    )
    return [para(issuer, issuer_style), para(date_text, ds)]


def table_style(*extra: tuple[Any, ...], header_rows: int = 1, size: float = 10.5) -> TableStyle:
    """Grid table style with Chinese fonts on every cell.

    Always use it (or set FONT yourself): reportlab's Table sets each cell's font before
    drawing, even for Paragraph cells, and its default Helvetica is never embedded.
    """
    f = register_fonts()
    cmds: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), f["song"], size, size * 1.3),
        ("GRID", (0, 0), (-1, -1), 0.5, black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header_rows:
        cmds.append(("FONT", (0, 0), (-1, header_rows - 1), f["hei"], size, size * 1.3))
    return TableStyle([*cmds, *extra])


# --- glyph check over a story ---------------------------------------------------------


def _text_runs(flowables: Iterable[Any]) -> Iterator[tuple[str, str]]:
    """(text, reportlab font name) for the text a story will draw; best effort over containers."""
    for f in flowables:
        if isinstance(f, GbParagraph):
            # Drawn run by run: what the style's font lacks is drawn in the fallback font.
            yield from ((run, font) for font, run in fallback_runs(f.text, f.style.fontName))
        elif isinstance(f, Paragraph):
            for frag in getattr(f, "frags", []):
                text = getattr(frag, "text", "")
                if text:
                    yield text, frag.fontName
        elif isinstance(f, Table):
            for r, row in enumerate(f._cellvalues):
                for c, value in enumerate(row):
                    if isinstance(value, str):
                        yield value, f._cellStyles[r][c].fontname
                    elif isinstance(value, Flowable):
                        yield from _text_runs([value])
                    elif isinstance(value, (list, tuple)):
                        yield from _text_runs(value)
        else:
            # KeepTogether, KeepInFrame, ListFlowable… keep their children in one of these.
            for attr in ("_content", "_flowables"):
                children = getattr(f, attr, None)
                if isinstance(children, (list, tuple)):
                    yield from _text_runs(children)


def _excerpt(text: str, ch: str, radius: int = 6) -> str:
    i = text.index(ch)
    start, end = max(0, i - radius), min(len(text), i + radius + 1)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def story_missing_glyphs(story: Iterable[Any]) -> dict[str, list[str]]:
    """Characters in ``story`` that their font cannot draw -> excerpts where they occur."""
    found: dict[str, list[str]] = {}
    for text, font_name in _text_runs(story):
        missing = missing_in_font(text, font_name)
        for ch in dict.fromkeys(c for c in text if c in missing):
            bucket = found.setdefault(ch, [])
            ex = _excerpt(text, ch)
            if ex not in bucket:
                bucket.append(ex)
    return found


# --- page-number groups ----------------------------------------------------------------


class PageGroupStart(Flowable):
    """Zero-size marker: the page it is drawn on starts a new page-number group.

    Put it first on a page (right after a PageBreak) to make "第X页 共Y页" restart, e.g. for
    each agreement of a village printed into one PDF. ``label`` (an agreement number) is printed
    in the top margin of the group's later pages, so loose pages can be sorted back.
    """

    def __init__(self, label: str = "") -> None:
        super().__init__()
        self.label = label
        self.width = self.height = 0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        start = getattr(self.canv, "start_page_group", None)
        if start is not None:
            start(self.label)


# --- the two-pass canvas ----------------------------------------------------------------


@dataclass
class _PageSetup:
    geometry: PageGeometry
    demo: bool
    page_numbers: PageNumberStyle
    page_count: int = 0


class _GbtCanvas(Canvas):
    """NumberedCanvas pattern: keep each finished page, draw numbers/watermark once the total is known."""

    def __init__(self, *args: Any, setup: _PageSetup, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup = setup
        self._page_states: list[dict[str, Any]] = []
        # page index (0-based) -> label of the page-number group starting there
        self._group_starts: dict[int, str] = {0: ""}

    def start_page_group(self, label: str) -> None:
        self._group_starts[len(self._page_states)] = label

    def showPage(self) -> None:  # reportlab API name, hence camelCase
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def _page_numbers(self) -> list[tuple[int, int, str]]:
        """(number in group, pages in group, group label) for every page."""
        count = len(self._page_states)
        starts = sorted(i for i in self._group_starts if i < count) or [0]
        out: list[tuple[int, int, str]] = []
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else count
            label = self._group_starts[start]
            out += [(i - start + 1, end - start, label) for i in range(start, end)]
        return out

    def save(self) -> None:
        numbers = self._page_numbers()
        for state, (number, total, label) in zip(self._page_states, numbers, strict=True):
            self.__dict__.update(state)
            # GB/T 9704: no page number on blank pages (they still count).
            blank = not any(op.strip() for op in self._code)
            self._decorate(number, total, blank, label)
            super().showPage()
        self._setup.page_count = len(self._page_states)
        super().save()

    def _decorate(self, number: int, total: int, blank: bool, label: str = "") -> None:
        s = self._setup
        g = s.geometry
        self.saveState()
        if s.demo:
            self._watermark()
        if label and not blank and number > 1:
            # Just above the text block, right-aligned, clear of the centred demo note; the
            # first page of a group shows the number in its own heading.
            self.setFillColor(black)
            self.setFont(font_for("song"), 10.5)
            self.drawRightString(g.left + g.block_width, g.height - g.top + 8, label)
        if not blank:
            song = font_for("song")
            # The em dash sits ~0.3 em above the baseline; put the dash line itself 7 mm
            # under the text block.
            baseline = g.bottom - PAGE_NUMBER_GAP - 0.3 * PAGE_NUMBER_SIZE
            self.setFillColor(black)
            if s.page_numbers in ("gbt9704", "both"):
                self.setFont(song, PAGE_NUMBER_SIZE)
                text = f"— {number} —"
                if number % 2:  # odd: right, one 字 in from the text block's right edge
                    self.drawRightString(g.left + g.block_width - CHAR, baseline, text)
                else:  # even: left, one 字 in
                    self.drawString(g.left + CHAR, baseline, text)
            if s.page_numbers in ("of_total", "both"):
                size = PAGE_NUMBER_SIZE if s.page_numbers == "of_total" else 10.5
                self.setFont(song, size)
                self.drawCentredString(g.left + g.block_width / 2, baseline, f"第{number}页 共{total}页")
        self.restoreState()

    def _watermark(self) -> None:
        g = self._setup.geometry
        hei = font_for("hei")
        # Drawn over the content (not behind) so an opaque table fill cannot hide it; the
        # transparency keeps the text under it readable. Real text, so pdftotext finds it.
        self.saveState()
        self.setFillColor(Color(0.5, 0.5, 0.5))
        self.setFillAlpha(0.25)
        size = min(g.width, g.height) * 0.2
        self.setFont(hei, size)
        self.translate(g.width / 2, g.height / 2)
        self.rotate(math.degrees(math.atan2(g.height, g.width)))
        self.drawCentredString(0, -size * 0.35, WATERMARK_TEXT)
        self.restoreState()
        # A small horizontal note in the top margin too, readable even where viewers or
        # text extractors drop diagonal text.
        self.saveState()
        self.setFillColor(Color(0.45, 0.45, 0.45))
        self.setFont(hei, 10.5)
        self.drawCentredString(g.left + g.block_width / 2, g.height - g.top / 2, DEMO_NOTE)
        self.restoreState()


def build_pdf(
    path_or_buffer: str | os.PathLike[str] | BinaryIO,
    story: list[Flowable],
    *,
    title: str,
    landscape: bool = False,
    demo: bool = False,
    page_numbers: PageNumberStyle = "gbt9704",
    author: str = "",
    check_glyphs: bool = True,
) -> int:
    """Lay out ``story`` on GB/T 9704 pages and write the PDF; returns the page count.

    Fonts are embedded (reportlab writes TrueType subsets). With ``check_glyphs`` the story is
    checked first and ValidationError is raised, before anything is written, if some character
    would print as an empty box.
    """
    if page_numbers not in ("gbt9704", "of_total", "both"):
        raise ValueError(f"unknown page_numbers style {page_numbers!r}")
    register_fonts()
    if check_glyphs:
        missing = story_missing_glyphs(story)
        if missing:
            raise ValidationError(format_missing(missing))

    g = geometry(landscape)
    setup = _PageSetup(geometry=g, demo=demo, page_numbers=page_numbers)
    target = os.fspath(path_or_buffer) if isinstance(path_or_buffer, os.PathLike) else path_or_buffer
    doc = BaseDocTemplate(
        target,
        pagesize=(g.width, g.height),
        leftMargin=g.left,
        rightMargin=g.right,
        topMargin=g.top,
        bottomMargin=g.bottom,
        title=title,
        author=author,
        creator="wq-desktop",
        lang="zh-CN",
        displayDocTitle=True,
        # Otherwise every page names Helvetica, a font that is never embedded.
        initialFontName=font_for("song"),
        initialFontSize=10.5,
    )
    # No frame padding: the frame *is* the 版心, so 28 字 × 22 行 fit exactly.
    frame = Frame(
        g.left,
        g.bottom,
        g.block_width,
        g.block_height,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    doc.addPageTemplates([PageTemplate(id="gbt9704", frames=[frame])])

    def canvasmaker(*args: Any, **kwargs: Any) -> _GbtCanvas:
        return _GbtCanvas(*args, setup=setup, **kwargs)

    doc.build(story, canvasmaker=canvasmaker)
    return setup.page_count
