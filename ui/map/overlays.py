"""Map furniture drawn in screen coordinates: legend, scale bar with 1:n, north arrow, live-area box."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QPainter, QPen, QPolygonF

from wq_desktop.gisfiles import CATEGORIES

from .parcels import COLORS

PANEL = QColor(255, 255, 255, 225)
INK = QColor(40, 40, 40)


def legend_lines(counts: dict[str, tuple[int, float]]) -> list[str]:
    """One line per measure: parcels and 亩 with two decimals, like every printed table."""
    return [f"{c}  {counts.get(c, (0, 0.0))[0]} 块  {counts.get(c, (0, 0.0))[1]:,.2f} 亩" for c in CATEGORIES]


def legend_box(fm: QFontMetrics, counts: dict[str, tuple[int, float]], year: int) -> QRectF:
    """Where draw_legend draws (screen coordinates, top-left corner of the map)."""
    lines = [f"{year} 年度措施", *legend_lines(counts)]
    width = max(fm.horizontalAdvance(t) for t in lines) + 40
    return QRectF(10, 10, width, (fm.height() + 4) * len(lines) + 10)


def draw_legend(p: QPainter, counts: dict[str, tuple[int, float]], year: int) -> None:
    """Top-left: one swatch per measure with parcel count and the measure's 亩 (2 decimals, as printed)."""
    fm = QFontMetrics(p.font())
    lines = legend_lines(counts)
    title = f"{year} 年度措施"
    line_h = fm.height() + 4
    box = legend_box(fm, counts, year)
    p.setPen(QPen(QColor(120, 120, 120)))
    p.setBrush(PANEL)
    p.drawRoundedRect(box, 4, 4)
    p.setPen(INK)
    p.drawText(QPointF(box.left() + 10, box.top() + 5 + fm.ascent()), title)
    for n, (category, text) in enumerate(zip(CATEGORIES, lines, strict=True), 1):
        top = box.top() + 5 + n * line_h
        p.setBrush(COLORS[category])
        p.setPen(QPen(COLORS[category].darker(150)))
        p.drawRect(QRectF(box.left() + 10, top + 2, 16, fm.height() - 4))
        p.setPen(INK)
        p.drawText(QPointF(box.left() + 32, top + fm.ascent()), text)


def nice_length(metres: float) -> float:
    """1, 2 or 5 times a power of ten, not above `metres`."""
    if metres <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(metres))
    for step in (5, 2, 1):
        if step * power <= metres:
            return step * power
    return power


def scale_ratio(scale: float, dpi: float) -> int:
    """n of 1:n: metres on the ground per metre on the screen, to three significant digits."""
    n = dpi / 0.0254 / scale  # screen px per metre ÷ map px per metre
    if n <= 0 or not math.isfinite(n):
        return 0
    digits = max(0, math.floor(math.log10(n)) - 2)
    return int(round(n / 10 ** digits) * 10 ** digits)


def draw_scale_bar(p: QPainter, scale: float, height: int, dpi: float | None = None) -> None:
    """Bottom-left: a round length about 120 px long, and the 1:n scale when the screen's dpi is known."""
    if scale <= 0:
        return
    metres = nice_length(120 / scale)
    px = metres * scale
    label = f"{metres / 1000:g} 千米" if metres >= 1000 else f"{metres:g} 米"
    ratio = f"1:{scale_ratio(scale, dpi):,}" if dpi else ""
    fm = QFontMetrics(p.font())
    x0, y0 = 16.0, height - 20.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(PANEL)
    p.drawRect(QRectF(x0 - 6, y0 - 24, px + 18 + fm.horizontalAdvance(f"{label}  {ratio}"), 32))
    p.setPen(QPen(INK, 2))
    p.drawLine(QPointF(x0, y0), QPointF(x0 + px, y0))
    p.drawLine(QPointF(x0, y0 - 6), QPointF(x0, y0))
    p.drawLine(QPointF(x0 + px, y0 - 6), QPointF(x0 + px, y0))
    p.setPen(INK)
    p.drawText(QPointF(x0 + px + 6, y0 + 2), f"{label}  {ratio}".rstrip())
    p.drawText(QPointF(x0, y0 - 9), "0")


_NORTH_X, _NORTH_TOP = 34.0, 14.0  # the arrow's centre from the right edge, its top


def north_arrow_box(width: int) -> QRectF:
    """Where draw_north_arrow draws: the circle (radius 22 around top + 26) and 北 under it."""
    cx = width - _NORTH_X
    return QRectF(cx - 24, _NORTH_TOP + 2, 48, 66)


def draw_north_arrow(p: QPainter, width: int) -> None:
    """Top-right: grid north is up (Gauss-Kruger; convergence here is under half a degree)."""
    cx, top = width - _NORTH_X, _NORTH_TOP
    p.setPen(QPen(INK, 1))
    p.setBrush(PANEL)
    p.drawEllipse(QPointF(cx, top + 26), 22, 22)
    p.setBrush(QBrush(INK))
    p.drawPolygon(QPolygonF([QPointF(cx, top + 8), QPointF(cx + 8, top + 36), QPointF(cx, top + 30)]))
    p.setBrush(QBrush(QColor(255, 255, 255)))
    p.drawPolygon(QPolygonF([QPointF(cx, top + 8), QPointF(cx - 8, top + 36), QPointF(cx, top + 30)]))
    p.setPen(INK)
    p.drawText(QRectF(cx - 10, top + 48, 20, 18), Qt.AlignmentFlag.AlignCenter, "北")


def draw_message(p: QPainter, text: str, width: int, height: int, error: bool) -> None:
    """A banner at the bottom centre: the last refusal or hint, in words."""
    fm = QFontMetrics(p.font())
    w = min(width - 40, fm.horizontalAdvance(text) + 24)
    box = QRectF((width - w) / 2, height - 58, w, fm.height() + 12)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(190, 40, 40, 235) if error else QColor(40, 40, 40, 210))
    p.drawRoundedRect(box, 4, 4)
    p.setPen(QColor(255, 255, 255))
    shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(w) - 12)
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, shown)


def draw_area_box(p: QPainter, text: str, width: int) -> None:
    """Top-centre: the live area while drawing or editing."""
    fm = QFontMetrics(p.font())
    w = fm.horizontalAdvance(text) + 24
    box = QRectF((width - w) / 2, 10, w, fm.height() + 10)
    p.setPen(QPen(QColor(200, 30, 30)))
    p.setBrush(PANEL)
    p.drawRoundedRect(box, 4, 4)
    p.setPen(INK)
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def draw_demo_mark(p: QPainter, width: int, height: int) -> None:
    """Bottom-right: every view of the demo township says it is demo data."""
    fm = QFontMetrics(p.font())
    text_w = fm.horizontalAdvance("演示数据")
    box = QRectF(width - text_w - 26, height - 34, text_w + 16, fm.height() + 8)
    p.setPen(QPen(QColor(200, 30, 30)))
    p.setBrush(PANEL)
    p.drawRect(box)
    p.drawText(box, Qt.AlignmentFlag.AlignCenter, "演示数据")
