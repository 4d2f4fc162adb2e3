"""Offline imagery (MBTiles) under the parcels: each Web-Mercator tile is placed on the projected
map by its four corners, which is exact enough at tile size (a few hundred metres)."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter, QPolygonF, QTransform

from wq_desktop import mbtiles

TILE_CACHE = 300


class ImageryLayer:
    def __init__(self, path: str, crs: str) -> None:
        self.package = mbtiles.MBTiles(path)
        self.crs = crs
        self._images: OrderedDict[tuple[int, int, int], QImage | None] = OrderedDict()

    def close(self) -> None:
        self.package.close()

    def _image(self, z: int, x: int, y: int) -> QImage | None:
        key = (z, x, y)
        if key in self._images:
            self._images.move_to_end(key)
            return self._images[key]
        data = self.package.tile(z, x, y)
        image = QImage.fromData(data) if data else None
        if image is not None and image.isNull():
            image = None
        self._images[key] = image
        if len(self._images) > TILE_CACHE:
            self._images.popitem(last=False)
        return image

    def paint(self, p: QPainter, world_to_screen: QTransform, extent: tuple[float, float, float, float],
              metres_per_pixel: float) -> int:
        """Draw the tiles covering `extent` (project CRS); returns how many were drawn."""
        west, south, east, north = mbtiles.extent_to_lonlat(self.crs, *extent)
        z = self.package.zoom_for(metres_per_pixel, (south + north) / 2)
        drawn = 0
        size = float(mbtiles.TILE_SIZE)
        source = QPolygonF([QPointF(0, 0), QPointF(size, 0), QPointF(size, size), QPointF(0, size)])
        for x, y in mbtiles.tiles_covering(west, south, east, north, z):
            image = self._image(z, x, y)
            if image is None:
                continue
            corners = [world_to_screen.map(QPointF(cx, cy))
                       for cx, cy in mbtiles.tile_corners(z, x, y, self.crs)]
            target = QPolygonF(corners)
            tr = QTransform()
            if not QTransform.quadToQuad(source, target, tr):
                continue
            p.save()
            p.setTransform(tr)
            p.drawImage(QPointF(0, 0), image.scaled(256, 256) if image.width() != 256 else image)
            p.restore()
            drawn += 1
        return drawn
