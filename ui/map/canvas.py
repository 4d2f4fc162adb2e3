"""The map canvas: a village's or the township's parcels coloured by this year's measure.

Browse: drag to pan, wheel to zoom at the cursor, click a parcel to select it (and its household).
Draw (start_drawing): click vertices, double-click closes; Backspace removes the last, Esc cancels.
Edit (start_editing): drag a vertex; double-click an edge to insert one; right-click a vertex to
delete it; Enter saves, Esc cancels. Points snap to neighbouring parcels' vertices within
SNAP_PX pixels, else to their edges; the area in 亩 is shown live. Invalid shapes are refused with
geo.check_polygon's reason, shapes outside the township or over another village's parcels with
location_checks' reason; an overlap is warned with the shared 亩 before saving. Every save is an
operation (draw_parcel, edit_outline) run through ui.operations, so validation and history hold;
the map redraws from the broadcast, patching only the parcels a change names.
Measure (start_measuring): click points for a distance and, from three points, an area in 亩.
Ctrl+click adds parcels to the selection (multi-select); the cursor position is reported in the
store CRS and 经纬度 (cursorMoved), and the scale bar reads 1:n.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import shapely
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QMessageBox, QWidget
from shapely.geometry import Polygon

from wq_desktop import geo, location_checks
from wq_desktop.errors import WqError
from wq_desktop.gisfiles import CATEGORIES, UNVERIFIED, ParcelLayer, parcel_layer
from wq_desktop.model import SQM_PER_MU, MeasureKind
from wq_desktop.operations import Changes
from wq_desktop.operations import parcels as parcels_ops
from wq_desktop.store import Store

from ..operations import change_bus, run_op
from . import overlays
from .measure import MeasureTool
from .parcels import COLORS, ParcelPaths, rect_of

SNAP_PX = 8.0
HANDLE_PX = 4.0
CLICK_SLOP_PX = 4.0
LABEL_PX = 70.0  # parcels wider than this on screen get their code and household written in
MIN_SCALE, MAX_SCALE = 1e-4, 50.0  # px per metre
RELOAD_BATCH = 500  # more changed parcels than this: reload the whole layer
# Fields of other kinds the layer shows (户主 and its kind; the village's name and code): a change
# to one of them redraws that household's or village's parcels; any other field, none.
SHOWN_FIELDS = {"operator": {"name", "kind"}, "village": {"name", "code"}}
BACKGROUND = QColor(246, 244, 238)


class MapCanvas(QWidget):
    parcelSelected = Signal(str)
    householdSelected = Signal(str)
    parcelEdited = Signal(str)
    message = Signal(str)
    drawingAreaChanged = Signal(float)
    cursorMoved = Signal(float, float)  # world x (easting), y (northing)
    selectionChanged = Signal(list)  # uuids of all selected parcels, after a click on the map
    measured = Signal(str)  # the measure tool's reading
    layerChanged = Signal()  # the shown parcels changed (reloaded, patched, another village)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumSize(320, 240)
        self.store: Store | None = None
        self.year = 0
        self.parcels: ParcelPaths | None = None
        self.village: str | None = None
        self._focus: np.ndarray | None = None  # parcels of the shown village; others are faded
        self.selected: int | None = None
        self.extra_selected: list[str] = []  # multi-select: uuids selected besides `selected`
        self.measure = MeasureTool()
        self.scale = 1.0  # px per metre
        self.center = (0.0, 0.0)  # world
        self.mode = "browse"
        self.vertices: list[tuple[float, float]] = []  # drawing or editing ring (world, open)
        self.cursor_world: tuple[float, float] | None = None
        self.editing: int | None = None
        self._drag_vertex: int | None = None
        self._press: QPointF | None = None
        self._pan_from: tuple[QPointF, tuple[float, float]] | None = None
        self._banner: tuple[str, bool] | None = None
        self._banner_timer = QTimer(self, singleShot=True, interval=8000)
        self._banner_timer.timeout.connect(self._clear_banner)
        self._pending: set[str] = set()
        self._reload_timer = QTimer(self, singleShot=True, interval=0)
        self._reload_timer.timeout.connect(self.apply_pending)
        self.imagery = None
        self._legend: dict[str, tuple[int, float]] | None = None  # see _legend_counts
        self.last_refusal: str | None = None
        # Hooks the window (or a test) may replace: ask for new-parcel fields, confirm a warning.
        self.ask_new_parcel: Callable[[Polygon], dict[str, Any] | None] = self._ask_new_parcel
        self.confirm: Callable[[str], bool] = self._confirm

    # ================================================================== data
    def set_store(self, store: Store | None, year: int, layer: ParcelLayer | None = None) -> None:
        """Show `store`'s parcels for `year` (None clears the map); `layer`: those parcels,
        already read (by a worker), else they are read here."""
        first = store is not None and store is not self.store
        self.store, self.year = store, year
        self._cancel_tool()
        self.selected = None
        self.extra_selected = []
        if store is not None and layer is None:
            layer = parcel_layer(store, year)
        self.parcels = ParcelPaths(layer) if layer is not None else None
        if first:
            change_bus(store).changed.connect(self.apply_changes)
        self.show_village(self.village if self._has_village(self.village) else None)

    def _has_village(self, village: str | None) -> bool:
        return bool(village and self.parcels and village in set(self.parcels.layer.village))

    def show_village(self, village_uuid: str | None) -> None:
        """Fit the map to one village (others stay visible but faded), or to the whole township."""
        self.village = village_uuid
        self._legend = None
        if self.parcels is None:
            self._focus = None
            self.update()
            return
        if village_uuid is None:
            self._focus = None
        else:
            self._focus = np.array([v == village_uuid for v in self.parcels.layer.village], dtype=bool)
        self.fit(self.parcels.extent(self._focus))
        self.layerChanged.emit()

    def select_parcel(self, parcel_uuid: str | None) -> None:
        """Highlight a parcel (no signal is sent back) and bring it into view."""
        self.extra_selected = []
        if self.parcels is None or parcel_uuid is None:
            self.selected = None
            self.update()
            return
        try:
            i = self.parcels.layer.index_of(parcel_uuid)
        except ValueError:
            return
        self.selected = i
        if self.parcels.mapped[i]:
            minx, miny, maxx, maxy = self.view_extent()
            b = self.parcels.bbox[i]
            if b[0] < minx or b[2] > maxx or b[1] < miny or b[3] > maxy:
                self.center = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)
        self.update()

    def set_imagery(self, path: str | None) -> None:
        """Show an offline MBTiles package under the parcels (None removes it)."""
        from .imagery import ImageryLayer

        if self.imagery is not None:
            self.imagery.close()
            self.imagery = None
        if path and self.store is not None:
            self.imagery = ImageryLayer(path, self.store.crs)
        self.update()

    def apply_changes(self, changes: Changes) -> None:
        """Queue for redrawing the parcels a change may show differently (see SHOWN_FIELDS)."""
        if self.store is None or self.parcels is None:
            return
        pending = set(changes.parcels())
        layer = self.parcels.layer
        for kind, column in (("operator", layer.operator), ("village", layer.village)):
            if changes.changed_fields(kind) & SHOWN_FIELDS[kind]:
                owners = changes.ids(kind)
                pending.update(u for u, owner in zip(layer.uuid, column, strict=True) if owner in owners)
        if pending:
            self._pending |= pending
            self._reload_timer.start()

    def apply_pending(self) -> None:
        """Redraw the parcels queued by apply_changes now (else on the next turn of the loop)."""
        pending, self._pending = self._pending, set()
        if self.store is None or self.parcels is None or not pending:
            return
        extra = list(self.extra_selected)
        if len(pending) > RELOAD_BATCH:
            keep = (self.scale, self.center, self.selected_uuid())
            self.parcels = ParcelPaths(parcel_layer(self.store, self.year))
            self._refocus()
            self.scale, self.center = keep[0], keep[1]
            self.select_parcel(keep[2])
        else:
            self._patch(sorted(pending))
        self.extra_selected = [u for u in extra if u in set(self.parcels.layer.uuid)]
        self.layerChanged.emit()

    def _patch(self, uuids: list[str]) -> None:
        """Replace or add the changed parcels without reloading the whole township."""
        assert self.store is not None and self.parcels is not None
        fresh = parcel_layer(self.store, self.year, parcel_uuids=uuids)
        old = self.parcels.layer
        index = {u: i for i, u in enumerate(old.uuid)}
        gone = set(uuids) - set(fresh.uuid)
        selected = self.selected_uuid()
        if gone or any(u not in index for u in fresh.uuid):
            # Added or deleted parcels change the row count: rebuild the columns (still one query).
            self.parcels = ParcelPaths(parcel_layer(self.store, self.year))
        else:
            for j, u in enumerate(fresh.uuid):
                i = index[u]
                for name, value in vars(fresh).items():
                    column = getattr(old, name)
                    if isinstance(column, list):
                        column[i] = value[j]
                    elif isinstance(column, np.ndarray):
                        column[i] = value[j]
                self.parcels.bbox[i] = np.nan_to_num(fresh.bbox[j])
                self.parcels.mapped[i] = not np.isnan(fresh.bbox[j]).any()
                self.parcels.category[i] = CATEGORIES.index(fresh.category[j])
                self.parcels.forget(i)
        self._refocus()
        self.selected = None
        if selected:
            self.select_parcel(selected)
        self.update()

    def _refocus(self) -> None:
        self._legend = None  # called after every reload or patch of the parcels
        if self.parcels is not None and self.village is not None:
            self._focus = np.array([v == self.village for v in self.parcels.layer.village], dtype=bool)

    def selected_uuid(self) -> str | None:
        if self.parcels is None or self.selected is None:
            return None
        return self.parcels.layer.uuid[self.selected]

    def shown_indices(self) -> np.ndarray:
        """Layer indices of the parcels the map is about: its village's, or every one of the township."""
        if self.parcels is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self._focus) if self._focus is not None else np.arange(self.parcels.n)

    def selected_uuids(self) -> list[str]:
        """Every selected parcel, the one clicked last at the end."""
        current = self.selected_uuid()
        return [u for u in self.extra_selected if u != current] + ([current] if current else [])

    def select_parcels(self, uuids: list[str]) -> None:
        """Select several parcels (from the attribute table); the last is the current one. No signal."""
        if self.parcels is None:
            return
        known = set(self.parcels.layer.uuid)
        uuids = [u for u in uuids if u in known]
        self.select_parcel(uuids[-1] if uuids else None)
        self.extra_selected = uuids[:-1]
        self.update()

    # ================================================================== view
    def world_to_screen(self) -> QTransform:
        s, (cx, cy) = self.scale, self.center
        return QTransform(s, 0, 0, -s, self.width() / 2 - cx * s, self.height() / 2 + cy * s)

    def to_screen(self, x: float, y: float) -> QPointF:
        return QPointF((x - self.center[0]) * self.scale + self.width() / 2,
                       self.height() / 2 - (y - self.center[1]) * self.scale)

    def to_world(self, p: QPointF) -> tuple[float, float]:
        return (self.center[0] + (p.x() - self.width() / 2) / self.scale,
                self.center[1] - (p.y() - self.height() / 2) / self.scale)

    def view_extent(self) -> tuple[float, float, float, float]:
        w, h = self.width() / self.scale / 2, self.height() / self.scale / 2
        return self.center[0] - w, self.center[1] - h, self.center[0] + w, self.center[1] + h

    def fit(self, extent: tuple[float, float, float, float] | None) -> None:
        if extent is None:
            self.update()
            return
        minx, miny, maxx, maxy = extent
        self.center = ((minx + maxx) / 2, (miny + maxy) / 2)
        span_x, span_y = max(maxx - minx, 1.0), max(maxy - miny, 1.0)
        self.scale = min(self.width() / span_x, self.height() / span_y) * 0.92
        self.scale = min(max(self.scale, MIN_SCALE), MAX_SCALE)
        self.update()

    def zoom_at(self, screen: QPointF, factor: float) -> None:
        """Zoom keeping the world point under `screen` where it is."""
        before = self.to_world(screen)
        self.scale = min(max(self.scale * factor, MIN_SCALE), MAX_SCALE)
        after = self.to_world(screen)
        self.center = (self.center[0] + before[0] - after[0], self.center[1] + before[1] - after[1])
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        old = event.oldSize()
        super().resizeEvent(event)
        if (old.width() <= 0 or old.height() <= 0) and self.parcels is not None:
            self.fit(self.parcels.extent(self._focus))

    # ================================================================== painting
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
            overlays.draw_legend(p, self._legend_counts(), self.year)
            overlays.draw_scale_bar(p, self.scale, h, self.logicalDpiX())
            overlays.draw_north_arrow(p, w)
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
        faded_all = self._focus is not None
        if len(dots):
            s = self.scale
            to_screen = (s, self.width() / 2 - self.center[0] * s, -s, self.height() / 2 + self.center[1] * s)
            faded = ~self._focus[dots] if faded_all else None
            p.drawImage(QPointF(0, 0), pp.dot_image(dots, self.width(), self.height(), to_screen, faded))
            stats["dots"] = len(dots)
        # Paths and rectangles are in origin-relative world coordinates under one transform.
        shift = QTransform()  # not QTransform().translate(...): that returns a reference to a temporary
        shift.translate(pp.origin[0], pp.origin[1])
        base = shift * self.world_to_screen()
        p.setTransform(base)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, len(paths) < 3000)
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
                    p.setPen(pen)
                    p.setBrush(fill)
                    if draw == "rect":
                        p.drawRects([rect_of(pp.bbox[i], pp.origin) for i in sel])
                    else:
                        for i in sel:
                            p.drawPath(pp.path(int(i)))
        if self.selected is not None and pp.mapped[self.selected] and self.selected != self.editing:
            pen = QPen(QColor(220, 0, 0), 3)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPath(pp.path(self.selected))
        p.resetTransform()
        stats["labels"] = self._paint_labels(p, paths)

    def _paint_labels(self, p: QPainter, idx: np.ndarray) -> int:
        pp = self.parcels
        assert pp is not None
        b = pp.bbox[idx]
        big = idx[(b[:, 2] - b[:, 0]) * self.scale >= LABEL_PX]
        if not len(big) or len(big) > 1500:
            return 0
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        p.setFont(font)
        layer = pp.layer
        drawn = 0
        metrics = QFontMetrics(font)
        for i in big:
            i = int(i)
            centre = self.to_screen((pp.bbox[i, 0] + pp.bbox[i, 2]) / 2, (pp.bbox[i, 1] + pp.bbox[i, 3]) / 2)
            width = (pp.bbox[i, 2] - pp.bbox[i, 0]) * self.scale * 0.9
            name = metrics.elidedText(layer.household[i], Qt.TextElideMode.ElideRight, int(width))
            text = layer.code[i] + (f"\n{name}" if name else "")
            rect = QRectF(centre.x() - width / 2, centre.y() - metrics.height(), width, 2 * metrics.height())
            p.setPen(QColor(255, 255, 255, 200))
            p.drawText(rect.translated(1, 1), Qt.AlignmentFlag.AlignCenter, text)
            p.setPen(QColor(20, 20, 20))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            drawn += 1
        return drawn

    def _legend_counts(self) -> dict[str, tuple[int, float]]:
        """The legend's figures, counted once per change of data or focus, not once per frame
        (at 100,000 parcels counting took longer than drawing a zoomed view)."""
        if self._legend is None:
            self._legend = self._count_legend()
        return self._legend

    def _count_legend(self) -> dict[str, tuple[int, float]]:
        """Per measure: parcels carrying it and the measure's own 亩 (a parcel's retired part is
        not its whole area); 未核实 counts parcels with no measure, at their parcel area."""
        pp = self.parcels
        if pp is None:
            return {}
        layer = pp.layer
        keep = self._focus if self._focus is not None else np.ones(pp.n, dtype=bool)
        unverified = keep & (pp.category == CATEGORIES.index(UNVERIFIED))
        columns = {MeasureKind.RETIRED.value: layer.retired_mu, MeasureKind.FALLOW.value: layer.fallow_mu,
                   MeasureKind.PLANTED.value: layer.planted_mu}
        counts = {}
        for name, column in columns.items():
            measured = keep & (np.nan_to_num(column) > 0)
            counts[name] = (int(measured.sum()), float(np.nan_to_num(column)[measured].sum()))
        counts[UNVERIFIED] = (int(unverified.sum()), float(np.nan_to_num(layer.area_mu)[unverified].sum()))
        return counts

    def _paint_selection_and_measure(self, p: QPainter) -> None:
        """The other selected parcels (multi-select) and the measure line, over the parcels."""
        pp = self.parcels
        if pp is not None and self.extra_selected:
            index = {u: i for i, u in enumerate(pp.layer.uuid)} if len(self.extra_selected) > 8 else None
            shift = QTransform()
            shift.translate(pp.origin[0], pp.origin[1])
            p.setTransform(shift * self.world_to_screen())
            pen = QPen(QColor(220, 0, 0), 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(QColor(220, 0, 0, 40))
            for uuid in self.extra_selected:
                i = index[uuid] if index is not None else pp.layer.index_of(uuid)
                if pp.mapped[i]:
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

    # ================================================================== tools
    def start_drawing(self) -> None:
        """Draw a new parcel: click vertices, double-click to close."""
        self._cancel_tool()
        self.mode = "draw"
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.show_message("绘制地块：依次单击各拐点，双击结束；Backspace 撤销上一点，Esc 取消。")

    def start_measuring(self) -> None:
        """Measure distances and areas by clicks (nothing is saved)."""
        self._cancel_tool()
        self.mode = "measure"
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.measured.emit(self.measure.text())
        self.update()

    def start_editing(self, parcel_uuid: str) -> None:
        """Edit a parcel's outline: drag vertices, double-click an edge to add one, right-click to delete."""
        if self.parcels is None:
            return
        self._cancel_tool()
        i = self.parcels.layer.index_of(parcel_uuid)
        shape = self.parcels.shape(i)
        if shape is None:
            self.show_message("该地块还没有图形，请用“绘制地块”或“界址点”创建。", error=True)
            return
        if shape.geom_type != "Polygon" or len(shape.interiors):
            self.show_message("多部件或带洞的地块不能在地图上修改，请导入修改后的图形。", error=True)
            return
        # The revision the user starts from: a sync that changes the parcel meanwhile makes the
        # save refuse with a message instead of overwriting the newer outline.
        self.edit_base_rev: int | None = self.store.get("parcel", parcel_uuid)["rev"] if self.store else None
        self.mode, self.editing, self.selected = "edit", i, i
        self.vertices = [tuple(c) for c in shapely.get_coordinates(shape.exterior)[:-1].tolist()]
        self.show_message("修改地块：拖动拐点；双击边线加点；右键拐点删除；Enter 保存，Esc 取消。")
        self.update()

    def cancel(self) -> None:
        self._cancel_tool()
        self.update()

    def _cancel_tool(self) -> None:
        self.mode, self.vertices, self.editing, self._drag_vertex = "browse", [], None, None
        self.cursor_world = None
        self.measure.clear()
        self.unsetCursor()

    def drawing_area_mu(self) -> float | None:
        """Area of the ring being drawn or edited (with the cursor point while drawing), in 亩."""
        if self.mode in ("browse", "measure"):
            return None
        ring = list(self.vertices)
        if self.mode == "draw" and self.cursor_world is not None:
            ring.append(self.cursor_world)
        if len(ring) < 3:
            return 0.0
        xs, ys = np.array([r[0] for r in ring]), np.array([r[1] for r in ring])
        return abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1)))) / 2 / SQM_PER_MU

    def snap(self, screen: QPointF) -> tuple[float, float]:
        """World point for a click: a neighbouring vertex within SNAP_PX pixels, else the nearest
        point on a neighbour's edge within SNAP_PX (so a shared boundary is followed exactly), else
        the point itself."""
        x, y = self.to_world(screen)
        if self.parcels is None:
            return x, y
        tol = SNAP_PX / self.scale
        near = self.parcels.in_box(x - tol, y - tol, x + tol, y + tol)
        idx = [int(i) for i in near if int(i) != self.editing]
        candidates = [self.parcels.vertices(i) for i in idx]
        if self.mode == "draw" and self.vertices:
            candidates.append(np.array(self.vertices[:1]))
        vertex = _nearest_vertex(candidates, x, y, tol)
        if vertex is not None:
            return vertex
        edge = _nearest_on_edges([self.parcels.shape(i) for i in idx], x, y, tol)
        return edge if edge is not None else (x, y)

    def _vertex_at(self, screen: QPointF) -> int | None:
        for k, (x, y) in enumerate(self.vertices):
            pt = self.to_screen(x, y)
            if abs(pt.x() - screen.x()) <= SNAP_PX and abs(pt.y() - screen.y()) <= SNAP_PX:
                return k
        return None

    def _edge_at(self, screen: QPointF) -> int | None:
        """Index of the vertex after which a click on an edge inserts a new one."""
        pts = [self.to_screen(x, y) for x, y in self.vertices]
        for k in range(len(pts)):
            a, b = pts[k], pts[(k + 1) % len(pts)]
            dx, dy = b.x() - a.x(), b.y() - a.y()
            length2 = dx * dx + dy * dy
            if length2 == 0:
                continue
            t = max(0.0, min(1.0, ((screen.x() - a.x()) * dx + (screen.y() - a.y()) * dy) / length2))
            if math.hypot(a.x() + t * dx - screen.x(), a.y() + t * dy - screen.y()) <= SNAP_PX:
                return k
        return None

    def finish_drawing(self) -> str | None:
        """Close the drawn ring and save it as a new parcel; returns its uuid, or None if refused."""
        shape = self._checked_shape()
        if shape is None or not self._overlap_ok(shape, exclude=None):
            return None
        values = self.ask_new_parcel(shape)
        if not values:
            return None
        return self.create_parcel(shape, values, overlap_checked=True)

    def create_from_boundary_points(self) -> str | None:
        """Open the 界址点 dialog and save the parcel it describes."""
        from .dialogs import BoundaryPointsDialog

        if self.store is None:
            return None
        dialog = BoundaryPointsDialog(self.store, self.village, self)
        if not dialog.exec() or dialog.shape is None:
            return None
        return self.create_parcel(dialog.shape, dialog.values())

    def create_parcel(self, shape: Polygon, values: dict[str, Any], *, overlap_checked: bool = False
                      ) -> str | None:
        """Save a new parcel (village, code, land attribute in `values`): draw_parcel."""
        if self.store is None:
            return None
        try:
            shape = geo.check_polygon(shape)
        except WqError as err:
            self._refuse(f"图形无效：{err}")
            return None
        if not self._placement_ok(shape, values.get("village"), exclude=None):
            return None
        if not overlap_checked and not self._overlap_ok(shape, exclude=None):
            return None
        changes = run_op(self, self.store, lambda s: parcels_ops.draw_parcel(s, values, shape),
                         on_error=lambda err: self._refuse(f"无法保存：{err}"))
        if changes is None:
            return None
        uuid = changes.result
        self._cancel_tool()
        self.apply_pending()  # the broadcast queued the new parcel: draw it now, to select it
        self.select_parcel(uuid)
        self.show_message(f"已新建地块 {values.get('code', '')}，面积 {geo.area_mu(shape):,.2f} 亩。")
        self.parcelEdited.emit(uuid)
        self.parcelSelected.emit(uuid)
        return uuid

    def save_edit(self) -> bool:
        """Save the edited outline (edit_outline), against the revision editing began at."""
        if self.mode != "edit" or self.editing is None or self.store is None or self.parcels is None:
            return False
        shape = self._checked_shape()
        uuid = self.parcels.layer.uuid[self.editing]
        village = self.parcels.layer.village[self.editing]
        if shape is None or not self._placement_ok(shape, village, exclude=uuid):
            return False
        if not self._overlap_ok(shape, exclude=uuid):
            return False
        base_rev = self.edit_base_rev
        if run_op(self, self.store, lambda s: parcels_ops.edit_outline(s, uuid, shape, base_rev=base_rev),
                  on_error=lambda err: self._refuse(f"无法保存：{err}")) is None:
            return False
        record = self.store.get("parcel", uuid)
        self._cancel_tool()
        self.apply_pending()
        self.select_parcel(uuid)
        self.show_message(f"已保存地块 {record['code']}，面积 {geo.area_mu(shape):,.2f} 亩。")
        self.parcelEdited.emit(uuid)
        return True

    def _checked_shape(self) -> Polygon | None:
        if len(self.vertices) < 3:
            self._refuse("图形无效：边界点少于3个")
            return None
        try:
            return geo.check_polygon(Polygon(self.vertices))
        except WqError as err:
            self._refuse(f"图形无效：{err}")
            return None

    def _placement_ok(self, shape: Polygon, village: str | None, exclude: str | None) -> bool:
        """The import's rules for a drawn shape: inside the township, not over another village's
        land (refused), not a crumb or a sliver (asked)."""
        assert self.store is not None
        review = location_checks.review_shape(self.store, shape)
        refusal = review.refusal or (
            location_checks.foreign_overlaps(self.store, shape, village, exclude) if village else None)
        if refusal:
            self._refuse(f"无法保存：{refusal}")
            return False
        return review.to_confirm is None or self.confirm(f"{review.to_confirm}。确认这是一个地块并保存吗？")

    def _overlap_ok(self, shape: Polygon, exclude: str | None) -> bool:
        pp = self.parcels
        if pp is None:
            return True
        idx = pp.in_box(*shape.bounds)
        items = [(pp.layer.uuid[int(i)], pp.layer.wkb[int(i)]) for i in idx]
        found = geo.overlaps_with(shape, items, exclude=exclude)
        if not found:
            return True
        codes = {pp.layer.uuid[int(i)]: pp.layer.code[int(i)] for i in idx}
        text = "、".join(f"{codes[u]}（{mu:.2f} 亩）" for u, mu in found[:5])
        total = sum(mu for _, mu in found)
        return self.confirm(f"新图形与 {len(found)} 个地块重叠，共 {total:.2f} 亩：{text}。仍要保存吗？")

    def _refuse(self, reason: str) -> None:
        self.last_refusal = reason
        self.show_message(reason, error=True)

    def show_message(self, text: str, error: bool = False) -> None:
        self._banner = (text, error)
        self._banner_timer.start()
        self.message.emit(text)
        self.update()

    def _clear_banner(self) -> None:
        self._banner = None
        self.update()

    def _ask_new_parcel(self, shape: Polygon) -> dict[str, Any] | None:
        from .dialogs import NewParcelDialog

        assert self.store is not None
        dialog = NewParcelDialog(self.store, shape, self.village, self)
        return dialog.values() if dialog.exec() else None

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "请确认", text)
        return answer == QMessageBox.StandardButton.Yes

    # ================================================================== events
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self.mode == "measure":
            self.measure.add(self.snap(pos))
            self._measure_changed()
            return
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self.mode == "browse"):
            self._press = pos
            self._pan_from = (pos, self.center)
            return
        if event.button() == Qt.MouseButton.LeftButton and self.mode == "draw":
            point = self.snap(pos)
            if not self.vertices or self.vertices[-1] != point:  # a double-click presses twice
                self.vertices.append(point)
            self._changed_tool()
        elif event.button() == Qt.MouseButton.LeftButton and self.mode == "edit":
            self._drag_vertex = self._vertex_at(pos)
            if self._drag_vertex is None:
                self._pan_from = (pos, self.center)
        elif event.button() == Qt.MouseButton.RightButton and self.mode == "edit":
            k = self._vertex_at(pos)
            if k is not None:
                if len(self.vertices) <= 3:
                    self._refuse("地块至少要有3个拐点，不能再删除。")
                else:
                    del self.vertices[k]
                    self._changed_tool()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self.cursorMoved.emit(*self.to_world(pos))
        if self.mode == "measure" and self._pan_from is None:
            if self.measure.points and not self.measure.finished:
                self.measure.cursor = self.snap(pos)
                self._measure_changed()
            return
        if self._pan_from is not None:
            start, (cx, cy) = self._pan_from
            self.center = (cx - (pos.x() - start.x()) / self.scale, cy + (pos.y() - start.y()) / self.scale)
            self.update()
            return
        if self.mode == "edit" and self._drag_vertex is not None:
            self.vertices[self._drag_vertex] = self.snap(pos)
            self._changed_tool()
        elif self.mode == "draw":
            self.cursor_world = self.snap(pos)
            self._changed_tool()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        was_click = self._press is not None and (
            abs(pos.x() - self._press.x()) + abs(pos.y() - self._press.y()) <= CLICK_SLOP_PX)
        self._pan_from, self._drag_vertex = None, None
        if self.mode == "browse" and event.button() == Qt.MouseButton.LeftButton and was_click:
            self._click_select(pos, add=bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))
        self._press = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self.mode == "measure" and event.button() == Qt.MouseButton.LeftButton:
            self.measure.add(self.snap(pos))
            self.measure.finish()
            self._measure_changed()
            return
        if self.mode == "draw" and event.button() == Qt.MouseButton.LeftButton:
            # The double-click's first press already added this point; don't count it twice.
            point = self.snap(pos)
            if not self.vertices or self.vertices[-1] != point:
                self.vertices.append(point)
            self.cursor_world = None
            self._changed_tool()
            self.finish_drawing()
        elif self.mode == "edit" and event.button() == Qt.MouseButton.LeftButton:
            k = self._edge_at(pos)
            if k is not None and self._vertex_at(pos) is None:
                self.vertices.insert(k + 1, self.snap(pos))
                self._changed_tool()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_at(event.position(), 1.25 ** steps)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape and self.mode != "browse":
            self.cancel()
            self.show_message("已取消。")
        elif key == Qt.Key.Key_Backspace and self.mode == "draw" and self.vertices:
            self.vertices.pop()
            self._changed_tool()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.mode == "edit":
                self.save_edit()
            elif self.mode == "draw":
                self.finish_drawing()
        else:
            super().keyPressEvent(event)

    def _measure_changed(self) -> None:
        self.measured.emit(self.measure.text())
        self.update()

    def _changed_tool(self) -> None:
        area = self.drawing_area_mu()
        if area is not None:
            self.drawingAreaChanged.emit(area)
        self.update()

    def _click_select(self, pos: QPointF, add: bool = False) -> None:
        """Select the parcel under the click; with Ctrl, add it to (or take it out of) the selection."""
        if self.parcels is None:
            return
        i = self.parcels.hit(*self.to_world(pos))
        layer = self.parcels.layer
        if add:
            chosen = self.selected_uuids()
            if i is not None:
                uuid = layer.uuid[i]
                chosen = [u for u in chosen if u != uuid] if uuid in chosen else [*chosen, uuid]
            self.select_parcels(chosen)
            self.selectionChanged.emit(self.selected_uuids())
            return
        else:
            self.extra_selected = []
            self.selected = i
            self.update()
            self.selectionChanged.emit(self.selected_uuids())
        if i is None:
            return
        self.parcelSelected.emit(layer.uuid[i])
        if layer.operator[i]:
            self.householdSelected.emit(layer.operator[i])

    # ================================================================== output
    def grab_image(self) -> QImage:
        image = QImage(self.size(), QImage.Format.Format_ARGB32_Premultiplied)
        p = QPainter(image)
        try:
            self.render_map(p)
        finally:
            p.end()
        return image


def _nearest_vertex(candidates: list[np.ndarray], x: float, y: float,
                    tol: float) -> tuple[float, float] | None:
    best, best_d = None, tol
    for coords in candidates:
        if not len(coords):
            continue
        d = np.hypot(coords[:, 0] - x, coords[:, 1] - y)
        k = int(np.argmin(d))
        if d[k] < best_d:
            best, best_d = (float(coords[k, 0]), float(coords[k, 1])), float(d[k])
    return best


def _nearest_on_edges(shapes: list, x: float, y: float, tol: float) -> tuple[float, float] | None:
    """The closest point on any of these parcels' boundaries, if within `tol` of (x, y)."""
    point = shapely.Point(x, y)
    best, best_d = None, tol
    for shape in shapes:
        if shape is None:
            continue
        boundary = shape.boundary
        d = boundary.distance(point)
        if d < best_d:
            near = boundary.interpolate(boundary.project(point))
            best, best_d = (float(near.x), float(near.y)), float(d)
    return best
