"""The map canvas: a village's or the township's parcels coloured by this year's measure.

Browse: drag to pan, wheel to zoom at the cursor, click a parcel to select it (and its household).
Draw (start_drawing): click vertices, double-click closes; Backspace removes the last, Esc cancels.
Edit (start_editing): drag a vertex; double-click an edge to insert one; right-click a vertex to
delete it; Enter saves, Esc cancels. The area in 亩 is shown live.
Measure (start_measuring): click points for a distance and, from three points, an area in 亩.
Ctrl+click adds parcels to the selection (multi-select); the cursor position is reported in the
store CRS and 经纬度 (cursorMoved), and the scale bar reads 1:n.

This module holds the state (store, year, parcels, view, selection) and keeps the parcels in step
with the store; painter.py draws, tools.py draws/edits/measures, interaction.py handles events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QResizeEvent, QTransform
from PySide6.QtWidgets import QWidget
from shapely.geometry import Polygon

from wq_desktop.gisfiles import CATEGORIES, ParcelLayer, merge_layer, parcel_layer
from wq_desktop.operations import Changes
from wq_desktop.store import Store

from ..operations import change_bus
from ..workers import JobContext, Worker, weak_slot
from .interaction import CanvasEvents
from .measure import MeasureTool
from .painter import CanvasPainter, LabelTexts
from .parcels import BUILD_CHUNK, ParcelPaths
from .tools import CanvasTools

MIN_SCALE, MAX_SCALE = 1e-4, 50.0  # px per metre
RELOAD_BATCH = 500  # more changed parcels than this: read the whole layer again, in a worker
# Fields of other kinds the layer shows (户主 and its kind; the village's name and code): a change
# to one of them redraws that household's or village's parcels; any other field, none.
SHOWN_FIELDS = {"operator": {"name", "kind"}, "village": {"name", "code"}}


class MapCanvas(CanvasPainter, CanvasTools, CanvasEvents, QWidget):
    parcelSelected = Signal(str)
    householdSelected = Signal(str)
    parcelEdited = Signal(str)
    message = Signal(str)
    drawingAreaChanged = Signal(float)
    cursorMoved = Signal(float, float)  # world x (easting), y (northing)
    selectionChanged = Signal(list)  # uuids of all selected parcels, after a click on the map
    measured = Signal(str)  # the measure tool's reading
    layerChanged = Signal()  # the shown parcels changed (reloaded, patched, another village)
    layerLoaded = Signal()  # a layer read by load_layer is shown
    layerFailed = Signal(str)  # … could not be read: why
    build_chunk = BUILD_CHUNK  # outlines built per frame or turn of the event loop

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
        self._layer_job: Worker | None = None
        self._loading: tuple[Store, int] | None = None  # what the running job reads
        self._when_loaded: list[Callable[[], None]] = []
        self._reload_timer = QTimer(self, singleShot=True, interval=0)
        self._reload_timer.timeout.connect(self.apply_pending)
        self._path_timer = QTimer(self, singleShot=True, interval=0)
        self._path_timer.timeout.connect(self._build_waiting_paths)
        self.imagery = None
        self._legend: dict[str, tuple[int, float]] | None = None  # see _legend_counts
        self._furniture: dict[str, tuple[object, QImage]] = {}  # see CanvasPainter._draw_cached
        self._labels = LabelTexts()
        self.last_refusal: str | None = None
        # Hooks the window (or a test) may replace: ask for new-parcel fields, confirm a warning.
        self.ask_new_parcel: Callable[[Polygon], dict[str, Any] | None] = self._ask_new_parcel
        self.confirm: Callable[[str], bool] = self._confirm

    # ================================================================== data
    def set_store(self, store: Store | None, year: int, layer: ParcelLayer | None = None) -> None:
        """Show `store`'s parcels for `year` (None clears the map); `layer`: those parcels,
        already read (by a worker), else they are read here."""
        first = store is not None and store is not self.store
        if self._layer_job is not None and store is not self.store:  # reads of another store: dropped
            self._layer_job.cancel()
            self._layer_job, self._loading, self._when_loaded = None, None, []
        self.store, self.year = store, year
        self._cancel_tool()
        self.selected = None
        self.extra_selected = []
        if store is not None and layer is None:
            layer = parcel_layer(store, year)
        shown = self.parcels if not first else None
        self.parcels = ParcelPaths(layer, shown) if layer is not None else None
        if first:
            change_bus(store).changed.connect(self.apply_changes)
        self.show_village(self.village if self._has_village(self.village) else None)

    # ------------------------------------------------------------------ reading in a worker
    @property
    def loading(self) -> bool:
        return self._layer_job is not None

    def load_layer(self, store: Store, year: int) -> Worker:
        """Read `store`'s parcels for `year` in a worker (a second at city size) and show them
        when they arrive; meanwhile the map shows what it had. A newer request supersedes a
        running one; one for the year shown keeps the view and the selection."""
        if self._layer_job is not None:
            self._layer_job.cancel()
        path, user, writes = store.path, store.user, store.write_count
        # The layer shown shares its unchanged columns and outlines with the one read (no second
        # copy of the city during a year change). No row of it is patched while a read runs:
        # changes arriving then start the read again (apply_pending).
        shown = self.parcels.layer if self.parcels is not None and store is self.store else None

        def job(ctx: JobContext) -> ParcelLayer:
            # A newer request cancels this one: the read stops inside its query, not after it.
            with Store.open(path, user) as own, own.stopping_when(lambda: ctx.cancelled):
                layer = parcel_layer(own, year, like=shown)
            ctx.check()
            return layer

        worker = Worker(job, self)
        self._layer_job, self._loading = worker, (store, year)
        read, failed = weak_slot(self._layer_read), weak_slot(self._layer_not_read)
        worker.done.connect(lambda layer, w=worker: read(w, store, year, writes, layer))
        worker.failed.connect(lambda message, w=worker: failed(w, message))
        worker.finished.connect(worker.deleteLater)
        worker.start()
        return worker

    def when_loaded(self, then: Callable[[], None]) -> None:
        """Run `then` once the layer being read is shown (now when none is)."""
        if self._layer_job is None:
            then()
        else:
            self._when_loaded.append(then)

    def _layer_read(self, worker: Worker, store: Store, year: int, writes: int, layer: ParcelLayer) -> None:
        if worker is not self._layer_job:
            return
        self._layer_job = self._loading = None
        if store.closed:
            return  # the window closed while the parcels were read
        if store.write_count != writes:  # written meanwhile: read again, current
            self.load_layer(store, year)
            return
        if store is self.store and year == self.year and self.parcels is not None:
            self._swap_layer(layer)
            self.layerChanged.emit()
        else:
            self.set_store(store, year, layer=layer)
        self.layerLoaded.emit()
        then, self._when_loaded = self._when_loaded, []
        for callback in then:
            callback()

    def _layer_not_read(self, worker: Worker, message: str) -> None:
        if worker is self._layer_job:
            self._layer_job = self._loading = None
            self._when_loaded = []
            self.layerFailed.emit(message)

    def _swap_layer(self, layer: ParcelLayer) -> None:
        """Show `layer` in place of the parcels shown, the view, the selection and a parcel
        being edited kept (by uuid: rows may have moved). The caller says layerChanged, once."""
        assert self.parcels is not None
        old = self.parcels.layer
        selected, extra = self.selected_uuid(), list(self.extra_selected)
        editing = old.uuid[self.editing] if self.editing is not None else None
        self.parcels = ParcelPaths(layer, self.parcels)
        if editing is not None:
            self.editing = self.parcels.row_of(editing)
            if self.editing is None:
                self._cancel_tool()  # the parcel being edited is gone
        self._refocus()
        self.selected = None
        self.select_parcel(selected)
        self.extra_selected = [u for u in extra if self.parcels.row_of(u) is not None]
        self.update()

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
            self._focus = self.parcels.in_village(village_uuid)
        self.fit(self.parcels.extent(self._focus))
        self.layerChanged.emit()

    def select_parcel(self, parcel_uuid: str | None) -> None:
        """Highlight a parcel (no signal is sent back) and bring it into view."""
        self.extra_selected = []
        if self.parcels is None or parcel_uuid is None:
            self.selected = None
            self.update()
            return
        i = self.parcels.row_of(parcel_uuid)
        if i is None:
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
        """Redraw the parcels queued by apply_changes now (else on the next turn of the loop):
        a few patched in, many (or any while a layer is being read) by reading the layer again
        in a worker."""
        pending, self._pending = self._pending, set()
        if self.store is None or self.parcels is None or not pending:
            return
        if self._loading is not None or len(pending) > RELOAD_BATCH:
            store, year = self._loading or (self.store, self.year)
            self.load_layer(store, year)  # a read already running starts again, these changes in it
            return
        self._patch(sorted(pending))
        self.layerChanged.emit()

    def _patch(self, uuids: list[str]) -> None:
        """Replace, add or drop the changed parcels without reading the whole township again."""
        assert self.store is not None and self.parcels is not None
        fresh = parcel_layer(self.store, self.year, parcel_uuids=uuids)
        pp = self.parcels
        rows = [pp.row_of(u) for u in fresh.uuid]
        if len(fresh) < len(uuids) or None in rows:  # added or deleted parcels: rows move
            self._swap_layer(merge_layer(pp.layer, fresh, uuids))
            return
        old = pp.layer
        for j, i in enumerate(rows):
            for name, value in vars(fresh).items():
                column = getattr(old, name)
                if isinstance(column, list | np.ndarray):
                    column[i] = value[j]
            pp.bbox[i] = np.nan_to_num(fresh.bbox[j])
            pp.mapped[i] = not np.isnan(fresh.bbox[j]).any()
            pp.category[i] = CATEGORIES.index(fresh.category[j])
            pp.forget(i)
        self._refocus()
        self.update()

    def _refocus(self) -> None:
        self._legend = None  # called after every reload or patch of the parcels
        if self.parcels is not None and self.village is not None:
            self._focus = self.parcels.in_village(self.village)

    def build_paths_later(self) -> None:
        """The outlines the view needs, built a chunk per turn of the event loop, then redrawn."""
        self._path_timer.start()

    @property
    def paths_waiting(self) -> int:
        """Outlines the current view shows as rectangles until they are built."""
        pp = self.parcels
        return 0 if pp is None else len(pp.without_path(self._view_paths()))

    def _view_paths(self) -> np.ndarray:
        """The parcels the current view draws as outlines, built or not."""
        pp = self.parcels
        if pp is None or not pp.n:
            return np.zeros(0, dtype=np.int64)
        _, _, paths = pp.split_by_size(pp.in_box(*self.view_extent()), self.scale)
        return paths

    def _build_waiting_paths(self) -> None:
        pp = self.parcels
        paths = self._view_paths()  # of the view now: it may have moved since the frame
        if pp is None or not len(pp.without_path(paths)):
            return
        if len(pp.build_some(paths, self.build_chunk)):
            self._path_timer.start()
        else:
            self.update()

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
        uuids = [u for u in uuids if self.parcels.row_of(u) is not None]
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

