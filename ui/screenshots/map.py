"""Screenshots of the map tools on the demo township, for docs/screenshots and for looking at them:
`python -m ui.screenshots.map docs/screenshots` (offscreen, no display needed).

map_tools.png       attribute table under the map, three parcels selected with Ctrl+click, the
                    cursor readout and the 1:n scale
map_measure.png     the measure tool over a field: each side's length, the distance and the 亩
map_import_check.png the import preview refusing a zone-prefixed file read as CM 87°E, with the
                    corrected CRS offered
map_check_settings.png the township's checks: boundary, minimum area, sliver width, overlaps
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from .window import demo_window, grab, run


def _send(canvas: QWidget, kind: QMouseEvent.Type, world: tuple[float, float],
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    pos = canvas.to_screen(*world)  # type: ignore[attr-defined]
    button = Qt.MouseButton.NoButton if kind == QMouseEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, QPointF(pos), QPointF(canvas.mapToGlobal(pos.toPoint())), button,
                        button, modifiers)
    QApplication.sendEvent(canvas, event)


def _click(canvas: QWidget, world: tuple[float, float],
           modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    _send(canvas, QMouseEvent.Type.MouseButtonPress, world, modifiers)
    _send(canvas, QMouseEvent.Type.MouseButtonRelease, world, modifiers)


def take_map_screenshots(folder: Path) -> list[Path]:
    import pyogrio
    import shapely

    from ..map.dialogs import CheckSettingsDialog, ImportDialog

    shots: list[Path] = []
    with demo_window((1400, 900)) as (window, store, tmp):
        window.tabs.setCurrentWidget(window.map_tab)
        tab = window.map
        tab.toggle_table()
        QApplication.processEvents()
        canvas = tab.canvas
        layer = canvas.parcels.layer
        shown = canvas.shown_indices()
        mapped = [int(i) for i in shown if layer.wkb[int(i)] is not None]
        # Zoom to a handful of neighbouring fields so outlines and labels show.
        first = mapped[0]
        b = canvas.parcels.bbox[first]
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        near = sorted(mapped, key=lambda i: np.hypot(*(canvas.parcels.bbox[i, :2] - (cx, cy))))[:3]
        canvas.fit((b[0] - 400, b[1] - 250, b[2] + 400, b[3] + 250))
        QApplication.processEvents()
        for n, i in enumerate(near):
            bb = canvas.parcels.bbox[i]
            _click(canvas, ((bb[0] + bb[2]) / 2, (bb[1] + bb[3]) / 2),
                   Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier)
        _send(canvas, QMouseEvent.Type.MouseMove, (cx + 30, cy + 20))
        shots.append(grab(window, folder / "map_tools.png"))

        tab.start_measuring()
        corners = [(b[0], b[1]), (b[2], b[1]), (b[2], b[3])]
        for corner in corners:
            _click(canvas, corner)
        _send(canvas, QMouseEvent.Type.MouseButtonDblClick, (b[0], b[3]))
        shots.append(grab(window, folder / "map_measure.png"))
        tab.cancel()

        # A zone-prefixed file whose .prj says CM 87°E: the preview refuses it and offers EPSG:4517.
        shapes = [shapely.affinity.translate(shapely.box(b[0] + 30, b[3] + 300, b[0] + 130, b[3] + 400),
                                             29_000_000 + 150 * k) for k in range(3)]
        path = tmp / "带号坐标.shp"
        pyogrio.raw.write(path, np.array(shapely.to_wkb(shapes), dtype=object),
                          [np.array([f"Z-{k}" for k in range(3)], dtype=object)], ["DKBM"],
                          driver="ESRI Shapefile", geometry_type="Polygon", crs="EPSG:4538",
                          encoding="GBK")
        dialog = ImportDialog(store, path, canvas.village, window)
        dialog.attribute.setCurrentIndex(1)
        dialog.refresh()
        shots.append(grab(dialog, folder / "map_import_check.png"))
        dialog.reject()
        settings = CheckSettingsDialog(store, window)
        shots.append(grab(settings, folder / "map_check_settings.png"))
        settings.reject()
    return shots


def main(argv: list[str] | None = None) -> int:
    return run(take_map_screenshots, argv)


if __name__ == "__main__":
    sys.exit(main())
