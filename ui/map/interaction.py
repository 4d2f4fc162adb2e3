"""Mouse and keyboard on the map canvas: pan, zoom at the cursor, click to select (Ctrl adds),
and the keys and clicks of the draw / edit / measure tools. A mixin of MapCanvas."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import (
    QKeyEvent,
    QMouseEvent,
    QWheelEvent,
)

from .parcels import ParcelPaths

CLICK_SLOP_PX = 4.0


class CanvasEvents:
    """Qt event handlers; they change the view or call the tools."""

    parcels: ParcelPaths | None

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

