"""Patrols of retired land: the visit, its rectification, its photos."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .. import photos as photo_files
from ..store import Store
from .changes import operation


@operation
def record_patrol(store: Store, uuid: str | None, values: dict[str, Any], *,
                  base_rev: int | None = None, add_photos: Iterable[Path | str] = (),
                  remove_photos: Iterable[str] = ()) -> str:
    """Save a patrol with the photos taken and removed, together; the result is its UUID."""
    if uuid is None:
        uuid = store.create("patrol", values)
    else:
        store.update("patrol", uuid, values, base_rev=base_rev)
    for path in add_photos:
        photo_files.attach_photo(store, "patrol", uuid, path)
    for photo in remove_photos:
        store.delete("photo", photo)
    return uuid


@operation
def delete_patrol(store: Store, uuid: str) -> list[tuple[str, str]]:
    return store.delete("patrol", uuid, cascade=True)
