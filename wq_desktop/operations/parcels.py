"""Parcels: their fields from the form, outlines drawn and edited on the map, files imported."""

from __future__ import annotations

from typing import Any

from shapely.geometry import Polygon

from ..store import Store
from .changes import Changes, operation, recorded, save_record


@operation
def save_parcel(store: Store, uuid: str | None, values: dict[str, Any], *,
                base_rev: int | None = None) -> str:
    """Create a parcel (uuid None; village and operator in `values`) or change its fields."""
    return save_record(store, "parcel", uuid, values, base_rev=base_rev)


@operation
def draw_parcel(store: Store, values: dict[str, Any], outline: Polygon) -> str:
    """A new parcel drawn on the map (or typed as 界址点)."""
    return store.create("parcel", {**values, "geometry": outline})


@operation
def edit_outline(store: Store, uuid: str, outline: Polygon, *, base_rev: int | None) -> None:
    """The outline changed on the map, against the revision editing began at."""
    store.update("parcel", uuid, {"geometry": outline}, base_rev=base_rev)


@operation
def delete_parcel(store: Store, uuid: str) -> list[tuple[str, str]]:
    """Tombstone a parcel with its measures, patrols and their photos."""
    return store.delete("parcel", uuid, cascade=True)


def import_parcels(store: Store, preview: Any) -> Changes:
    """Parcels from a previewed GIS file (gis_import.ImportPreview), in the import's own batch
    transaction; the result is the new parcels' UUIDs."""
    from ..gis_import import apply_import

    with recorded(store, "import_parcels", atomic=False) as done:
        done.result = apply_import(store, preview)
    assert done.changes is not None
    return done.changes
