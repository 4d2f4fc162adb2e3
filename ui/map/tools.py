"""Drawing, editing and measuring on the map canvas, and saving what was drawn.

Points snap to neighbouring parcels' vertices within SNAP_PX pixels, else to their edges.
Invalid shapes are refused with polygons.check_polygon's reason, shapes outside the township or over
another village's parcels with location_checks' reason; an overlap is warned with the shared
亩 before saving. Every save is an operation (draw_parcel, edit_outline) run through
ui.operations, so validation and history hold; the canvas redraws from the broadcast, patching
only the parcels a change names. A mixin of MapCanvas."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QMessageBox
from shapely.geometry import Polygon

from wq_desktop import location_checks
from wq_desktop.errors import WqError
from wq_desktop.geo import overlaps, polygons
from wq_desktop.model import SQM_PER_MU
from wq_desktop.operations import parcels as parcels_ops

from ..operations import run_op
from .parcels import ParcelPaths

SNAP_PX = 8.0


class CanvasTools:
    """The draw / edit / measure tools; see MapCanvas for the state they use."""

    parcels: ParcelPaths | None

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
            shape = polygons.check_polygon(shape)
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
        self.when_loaded(lambda: self.select_parcel(uuid))  # (after a layer being read, if one is)
        self.show_message(f"已新建地块 {values.get('code', '')}，面积 {polygons.area_mu(shape):,.2f} 亩。")
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
        self.when_loaded(lambda: self.select_parcel(uuid))
        self.show_message(f"已保存地块 {record['code']}，面积 {polygons.area_mu(shape):,.2f} 亩。")
        self.parcelEdited.emit(uuid)
        return True

    def _checked_shape(self) -> Polygon | None:
        if len(self.vertices) < 3:
            self._refuse("图形无效：边界点少于3个")
            return None
        try:
            return polygons.check_polygon(Polygon(self.vertices))
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
        found = overlaps.overlaps_with(shape, items, exclude=exclude)
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
