"""The township a new store is for (its villages and groups come with the roster or from sync)."""

from __future__ import annotations

from ..store import Store
from .changes import operation


@operation
def create_township(store: Store, code: str, name: str) -> str:
    return store.create("township", {"code": code, "name": name})
