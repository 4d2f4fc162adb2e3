"""Painting the map canvas: parcels at their level of detail, labels, the tool being drawn,
the selection, and the furniture (legend, scale bar, north arrow, banner).

A mixin of MapCanvas: it reads the canvas's state (parcels, view, mode) and never changes it,
except the caches (legend, furniture, the parcels' outlines); outlines a frame could not build in
time it asks the canvas to build after it (`build_paths_later`)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QImage,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
    QStaticText,
    QTransform,
)

from wq_desktop.gisfiles import CATEGORIES

from . import overlays
from .legend import count_legend
from .parcels import COLORS, ParcelPaths, rects_of

HANDLE_PX = 4.0
LABEL_PX = 70.0  # parcels wider than this on screen get their code and household written in
BACKGROUND = QColor(246, 244, 238)


class CanvasPainter:
    """paintEvent and what it draws; see MapCanvas for the state it reads."""

    parcels: ParcelPaths | None
    _legend: dict[str, tuple[int, float]] | None
    _furniture: dict[str, tuple[object, QImage]]  # see _draw_cached
    _labels: LabelTexts
    build_chunk: int
    build_paths_later: Callable[[], None]  # MapCanvas's

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            self.render_map(p)
        finally:
            p.end()

    def render_map(self, p: QPainter, furniture: bool = True) -> dict[str, int]:
        """Draw everything on `p` (widget-sized). Returns what was drawn at which level of detail."""
        w, h = self.width(), self.height()
        p.fillRect(QRectF(0, 0, w, h), BACKGROUND)
        stats = {"dots": 0, "rects": 0, "paths": 0, "labels": 0}
        if self.imagery is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            self.imagery.paint(p, self.world_to_screen(), self.view_extent(), 1 / self.scale)
        if self.parcels is not None and self.parcels.n:
            self._paint_parcels(p, stats)
        self._paint_tool(p)
        self._paint_selection_and_measure(p)
        if furniture:
            p.resetTransform()
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self._paint_legend(p)
            overlays.draw_scale_bar(p, self.scale, h, self.logicalDpiX())
            self._paint_north_arrow(p)
            area = self.drawing_area_mu()
            if area is not None:
                verb = "正在绘制" if self.mode == "draw" else "正在修改"
                overlays.draw_area_box(p, f"{verb}：{area:,.2f} 亩（{len(self.vertices)} 个点）", w)
            if self.store is not None and self.store.is_demo:
                overlays.draw_demo_mark(p, w, h)
            if self._banner:
                overlays.draw_message(p, self._banner[0], w, h, self._banner[1])
        return stats

    def _paint_parcels(self, p: QPainter, stats: dict[str, int]) -> None:
        pp = self.parcels
        assert pp is not None
        idx = pp.in_box(*self.view_extent())
        if self.editing is not None:
            idx = idx[idx != self.editing]
        dots, rects, paths = pp.split_by_size(idx, self.scale)
        later = pp.build_some(paths, self.build_chunk)
        if len(later):  # the rest as rectangles now, outlines soon (canvas)
            paths = paths[~np.isin(paths, later)]
            rects = np.concatenate([rects, later])
            self.build_paths_later()
        faded_all = self._focus is not None
        if len(dots):
            s = self.scale
            to_screen = (s, self.width() / 2 - self.center[0] * s, -s, self.height() / 2 + self.center[1] * s)
            faded = ~self._focus[dots] if faded_all else None
            pp.draw_dots(p, dots, self.width(), self.height(), to_screen, faded)
            stats["dots"] = len(dots)
        # Paths and rectangles are in origin-relative world coordinates under one transform.
        shift = QTransform()  # not QTransform().translate(...): that returns a reference to a temporary
        shift.translate(pp.origin[0], pp.origin[1])
        base = shift * self.world_to_screen()
        p.setTransform(base)
        # Each drawing group: (what to draw, fill, outline) per category, faded or not.
        groups: list[tuple[list[QRectF] | list[QPainterPath], QColor, QPen]] = []
        for group, draw in ((rects, "rect"), (paths, "path")):
            if not len(group):
                continue
            stats[draw + "s"] = len(group)
            cats = pp.category[group]
            for c, name in enumerate(CATEGORIES):
                for faded in ((False, True) if faded_all else (False,)):
                    sel = group[cats == c]
                    if faded_all:
                        sel = sel[self._focus[sel] != faded]
                    if not len(sel):
                        continue
                    fill = QColor(COLORS[name])
                    fill.setAlpha(70 if faded else 170)
                    pen = QPen(COLORS[name].darker(160) if not faded else QColor(160, 160, 160), 0)
                    pen.setCosmetic(True)
                    shapes = rects_of(pp.bbox[sel], pp.origin) if draw == "rect" else pp.paths_of(sel)
                    groups.append((shapes, fill, pen))
        # Fills without antialiasing, then every outline antialiased over them: the 1-px outline
        # covers the fill's stepped edge, so the picture is the same to the eye, and antialiased
        # fills were three quarters of a village frame's drawing (950 outlines: 23 → 5 ms).
        antialiased = len(paths) < 3000
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(Qt.PenStyle.NoPen)
        for shapes, fill, _pen in groups:
            p.setBrush(fill)
            _draw(p, shapes)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, antialiased)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for shapes, _fill, pen in groups:
            p.setPen(pen)
            _draw(p, shapes)
        if self.selected is not None and pp.mapped[self.selected] and self.selected != self.editing:
            pen = QPen(QColor(220, 0, 0), 3)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(pp.path(self.selected))
        p.resetTransform()
        stats["labels"] = self._paint_labels(p, paths)

    def _paint_labels(self, p: QPainter, idx: np.ndarray) -> int:
        """Code and household (elided to the parcel's width) on parcels at least LABEL_PX wide,
        white-shadowed; each text laid out once (QStaticText) and kept: drawText lays out its
        text at every call, twice per label, a third of a village frame."""
        pp = self.parcels
        assert pp is not None
        b = pp.bbox[idx]
        s = self.scale
        wide = (b[:, 2] - b[:, 0]) * s >= LABEL_PX
        big, b = idx[wide], b[wide]
        if not len(big) or len(big) > 1500:
            return 0
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        texts = self._labels.texts(font)
        line = texts.line_height
        xs = ((b[:, 0] + b[:, 2]) / 2 - self.center[0]) * s + self.width() / 2
        ys = self.height() / 2 - ((b[:, 1] + b[:, 3]) / 2 - self.center[1]) * s
        widths = (b[:, 2] - b[:, 0]) * s * 0.9
        layer = pp.layer
        placed: list[tuple[QPointF, QStaticText]] = []
        for i, x, y, width in zip(big.tolist(), xs.tolist(), ys.tolist(), widths.tolist(), strict=True):
            code, name = texts.text(layer.code[i]), texts.fitted(layer.household[i], width)
            top = y - line if name is not None else y - line / 2
            placed.append((QPointF(x - code.size().width() / 2, top), code))
            if name is not None:
                placed.append((QPointF(x - name.size().width() / 2, top + line), name))
        p.setPen(QColor(255, 255, 255, 200))
        for at, text in placed:
            p.drawStaticText(at + _SHADOW, text)
        p.setPen(QColor(20, 20, 20))
        for at, text in placed:
            p.drawStaticText(at, text)
        return len(big)

    def _legend_counts(self) -> dict[str, tuple[int, float]]:
        """The legend's figures, counted once per change of data or focus, not once per frame
        (at 100,000 parcels counting took longer than drawing a zoomed view)."""
        if self._legend is None:
            self._legend = self._count_legend()
        return self._legend

    def _count_legend(self) -> dict[str, tuple[int, float]]:
        return count_legend(self.parcels, self._focus)

    def _draw_cached(self, p: QPainter, name: str, key: object, box: QRectF,
                     draw: Callable[[QPainter], None]) -> None:
        """Furniture that rarely changes (legend, north arrow) drawn into an image once per
        change of `key`, `box`, font or pixel ratio, then copied: antialiased rounded panels
        and text cost more than a zoomed view's parcels."""
        ratio = p.device().devicePixelRatioF() if p.device() is not None else 1.0
        font = p.font()
        full_key = (key, box.getRect(), font.key(), ratio)
        cached = self._furniture.get(name)
        if cached is None or cached[0] != full_key:
            image = QImage(math.ceil(box.width() * ratio), math.ceil(box.height() * ratio),
                           QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(ratio)
            image.fill(0)
            painter = QPainter(image)
            try:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                painter.setFont(font)
                painter.translate(-box.left(), -box.top())
                draw(painter)
            finally:
                painter.end()
            cached = self._furniture[name] = (full_key, image)
        p.drawImage(box.topLeft(), cached[1])

    def _paint_legend(self, p: QPainter) -> None:
        counts = self._legend_counts()
        box = overlays.legend_box(QFontMetrics(p.font()), counts, self.year).adjusted(-1, -1, 2, 2)
        self._draw_cached(p, "legend", (tuple(sorted(counts.items())), self.year), box,
                          lambda painter: overlays.draw_legend(painter, counts, self.year))

    def _paint_north_arrow(self, p: QPainter) -> None:
        w = self.width()
        self._draw_cached(p, "north", None, overlays.north_arrow_box(w),
                          lambda painter: overlays.draw_north_arrow(painter, w))

    def _paint_selection_and_measure(self, p: QPainter) -> None:
        """The other selected parcels (multi-select) and the measure line, over the parcels."""
        pp = self.parcels
        if pp is not None and self.extra_selected:
            shift = QTransform()
            shift.translate(pp.origin[0], pp.origin[1])
            p.setTransform(shift * self.world_to_screen())
            pen = QPen(QColor(220, 0, 0), 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(QColor(220, 0, 0, 40))
            for uuid in self.extra_selected:
                i = pp.row_of(uuid)
                if i is not None and pp.mapped[i]:
                    p.drawPath(pp.path(i))
            p.resetTransform()
        if self.mode == "measure":
            p.resetTransform()
            self.measure.paint(p, self.to_screen)

    def _paint_tool(self, p: QPainter) -> None:
        if self.mode in ("browse", "measure") or (not self.vertices and self.cursor_world is None):
            return
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        ring = list(self.vertices)
        if self.mode == "draw" and self.cursor_world is not None:
            ring.append(self.cursor_world)
        points = [self.to_screen(x, y) for x, y in ring]
        if len(points) >= 3:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(255, 230, 0, 90))
            p.drawPolygon(QPolygonF(points))
        pen = QPen(QColor(200, 0, 0), 2)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if len(points) >= 2:
            if self.mode == "edit":
                p.drawPolygon(QPolygonF(points))
            else:
                p.drawPolyline(QPolygonF(points))
        p.setBrush(QBrush(QColor(255, 255, 255)))
        for pt in points[: len(self.vertices)]:
            p.drawRect(QRectF(pt.x() - HANDLE_PX, pt.y() - HANDLE_PX, 2 * HANDLE_PX, 2 * HANDLE_PX))


    def grab_image(self) -> QImage:
        image = QImage(self.size(), QImage.Format.Format_ARGB32_Premultiplied)
        p = QPainter(image)
        try:
            self.render_map(p)
        finally:
            p.end()
        return image



def _draw(p: QPainter, shapes: list[QRectF] | list[QPainterPath]) -> None:
    if shapes and isinstance(shapes[0], QRectF):
        p.drawRects(shapes)
    else:
        draw_path = p.drawPath
        for path in shapes:
            draw_path(path)


_SHADOW = QPointF(1, 1)
LABEL_CACHE = 20_000  # laid-out label texts kept (a frame draws at most 1,500 labels, two texts each)


class LabelTexts:
    """Label texts laid out once in one font (QStaticText), and each name's full width, so a
    name that fits is not elided again every frame."""

    def __init__(self) -> None:
        self._font_key = ""
        self._static: dict[str, QStaticText] = {}
        self._widths: dict[str, float] = {}
        self._font = QFont()
        self._metrics = QFontMetricsF(self._font)
        self.line_height = self._metrics.height()

    def texts(self, font: QFont) -> LabelTexts:
        """Self, for `font` (what was laid out in another font is dropped)."""
        if font.key() != self._font_key:
            self._font_key, self._font = font.key(), QFont(font)
            self._metrics = QFontMetricsF(font)
            self.line_height = self._metrics.height()
            self._static.clear()
            self._widths.clear()
        return self

    def text(self, text: str) -> QStaticText:
        found = self._static.get(text)
        if found is None:
            if len(self._static) >= LABEL_CACHE:
                self._static.clear()
            found = self._static[text] = QStaticText(text)
            found.setTextFormat(Qt.TextFormat.PlainText)
            found.prepare(QTransform(), self._font)
        return found

    def fitted(self, name: str, width: float) -> QStaticText | None:
        """`name` elided to `width` px, None when nothing of it is left."""
        full = self._widths.get(name)
        if full is None:
            if len(self._widths) >= LABEL_CACHE:
                self._widths.clear()
            full = self._widths[name] = self._metrics.horizontalAdvance(name)
        shown = name if full <= width else self._metrics.elidedText(name, Qt.TextElideMode.ElideRight, width)
        return self.text(shown) if shown else None
