"""The map: parcel canvas, drawing and editing tools, imagery, and the map's dialogs."""

from .canvas import MapCanvas

__all__ = ["MapCanvas"]
