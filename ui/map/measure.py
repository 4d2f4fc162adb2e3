"""The measure tool: click points on the map to read a distance, and with three or more the area in 亩.

It never writes anything. Points snap like drawing does (vertices and edges of parcels), so a
surveyor can measure a field's side or check an area against the 三调 TBMJ before digitising.
"""

from __future__ import annotations

import itertools
import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from wq_desktop.geo import projection
from wq_desktop.model import SQM_PER_MU

INK = QColor(0, 90, 200)


class MeasureTool:
    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []
        self.cursor: tuple[float, float] | None = None
        self.finished = False

    def add(self, point: tuple[float, float]) -> None:
        if self.finished:  # a new click after a finished measurement starts the next one
            self.clear()
        if not self.points or self.points[-1] != point:  # a double-click presses twice
            self.points.append(point)

    def finish(self) -> None:
        self.cursor = None
        self.finished = len(self.points) >= 2

    def clear(self) -> None:
        self.points, self.cursor, self.finished = [], None, False

    def _path(self) -> list[tuple[float, float]]:
        path = list(self.points)
        if self.cursor is not None and not self.finished:
            path.append(self.cursor)
        return path

    def length_m(self) -> float:
        path = self._path()
        return sum(math.dist(a, b) for a, b in itertools.pairwise(path))

    def area_mu(self) -> float | None:
        path = self._path()
        if len(path) < 3:
            return None
        twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(path, path[1:] + path[:1], strict=True))
        return abs(twice) / 2 / SQM_PER_MU

    def text(self) -> str:
        """'量算：距离 150.00 米；闭合面积 22.50 亩（周长 500.00 米，4 个点）'."""
        if not self.points:
            return "量算：单击各点量距离，三点以上同时显示面积；双击结束，Esc 退出。"
        path = self._path()
        parts = [f"距离 {projection.format_distance(self.length_m())}"]
        area = self.area_mu()
        if area is not None:
            perimeter = self.length_m() + math.dist(path[-1], path[0])
            parts.append(f"闭合面积 {area:,.2f} 亩（周长 {projection.format_distance(perimeter)}）")
        return f"量算：{'；'.join(parts)}（{len(path)} 个点）"

    def paint(self, p: QPainter, to_screen) -> None:
        path = self._path()
        if not path:
            return
        points = [to_screen(x, y) for x, y in path]
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if len(points) >= 3:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(0, 120, 255, 45))
            p.drawPolygon(QPolygonF(points))
        pen = QPen(INK, 2, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if len(points) >= 2:
            p.drawPolyline(QPolygonF(points))
        p.setPen(QPen(INK, 1))
        p.setBrush(QColor(255, 255, 255))
        for pt in points:
            p.drawEllipse(QPointF(pt), 3.5, 3.5)
        # Each segment's length beside it, so a field's sides can be read off.
        p.setPen(INK)
        for (a, b), (wa, wb) in zip(itertools.pairwise(points), itertools.pairwise(path), strict=True):
            mid = QPointF((a.x() + b.x()) / 2, (a.y() + b.y()) / 2)
            p.drawText(QRectF(mid.x() + 4, mid.y() - 18, 120, 16), Qt.AlignmentFlag.AlignLeft,
                       projection.format_distance(math.dist(wa, wb)))
